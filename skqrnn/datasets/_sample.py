"""The real YouTube-8M shards shipped with skqrnn (CC BY 4.0, see data/ATTRIBUTION.md)."""

from pathlib import Path

__all__ = ["sample_paths", "load_yt8m_sample"]

_DATA = Path(__file__).resolve().parent / "data"


def sample_paths():
    """Paths of the shipped real YouTube-8M video-level shards.

    Returns
    -------
    list of str
        Six 2018 *validate* shards, ``validate0000.tfrecord`` …
        ``validate0005.tfrecord`` (1,787 videos). YouTube-8M is © Google,
        CC BY 4.0; the attribution is in ``skqrnn/datasets/data/ATTRIBUTION.md``.
    """
    paths = sorted(str(p) for p in _DATA.glob("validate*.tfrecord"))
    if not paths:  # pragma: no cover - a broken installation
        raise FileNotFoundError(
            f"{_DATA}: the YouTube-8M sample shards are missing from this skqrnn installation"
        )
    return paths


def load_yt8m_sample(*, return_X_y=False, sparse_labels=True, n_jobs=None):
    """Load the real YouTube-8M sample shipped with skqrnn (video level).

    1,787 videos of the YouTube-8M 2018 *validate* partition: X is float32
    (1787, 1152) (``mean_rgb`` then ``mean_audio``), y a (1787, 3862) int8
    label indicator. A demo set: too small to reproduce full-data scores.
    YouTube-8M is © Google, licensed CC BY 4.0
    (research.google.com/youtube8m; attribution in
    ``skqrnn/datasets/data/ATTRIBUTION.md``).

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of the full result.
    sparse_labels : bool, default=True
        CSR labels; False gives a dense int8 array.
    n_jobs : int, optional
        Shards read in parallel.

    Returns
    -------
    data : skqrnn.io.YT8MData
        What :func:`skqrnn.io.load_yt8m` returns (``X``, ``y``, ``ids``, ...).
    (X, y) : tuple
        With ``return_X_y=True``.

    Examples
    --------
    >>> from skqrnn.datasets import load_yt8m_sample
    >>> X, y = load_yt8m_sample(return_X_y=True)
    >>> X.shape, y.shape
    ((1787, 1152), (1787, 3862))
    """
    from ..io import load_yt8m

    return load_yt8m(
        sample_paths(),
        level="video",
        return_X_y=return_X_y,
        sparse_labels=sparse_labels,
        n_jobs=n_jobs,
    )
