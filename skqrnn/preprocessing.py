"""Frame sampling for padded frame-level YouTube-8M arrays.

This module does not import Keras.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .io import UINT8_PAD_VALUE

__all__ = ["FrameSampler", "infer_lengths", "padding_value"]

_STRATEGIES = ("random", "uniform")


def _as_frames(X, what="X"):
    """X as a numeric 3-D ndarray, dtype untouched (uint8 stays uint8)."""
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise ValueError(f"{what} must be a dense 3-D array, got a sparse matrix.")
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(
            f"{what} must be 3-D of shape (n_videos, max_frames, n_features), got shape "
            f"{X.shape}. Frame-level data is padded per video to max_frames; for "
            "video-level (2-D) features no frame sampling is needed."
        )
    if not (X.dtype == bool or np.issubdtype(X.dtype, np.number)) or np.iscomplexobj(X):
        raise ValueError(f"{what} must hold real numbers, got dtype {X.dtype}.")
    return X


def padding_value(dtype):
    """The value that fills padding frames of an array of this dtype.

    ``UINT8_PAD_VALUE`` (127) for uint8 (quantized) data, as
    :func:`skqrnn.io.load_yt8m` pads it, and 0 otherwise.
    """
    return UINT8_PAD_VALUE if np.dtype(dtype) == np.uint8 else 0


def infer_lengths(X):
    """Number of real frames of each padded video.

    A video's length is the index of its last frame that is not padding,
    plus one; the trailing padding frames are dropped (a padding-like frame
    *between* real frames is kept). 0 for a video made only of padding.

    Padding is what :func:`skqrnn.io.load_yt8m` writes: frames whose every
    feature is 0.0 for float data and :data:`skqrnn.io.UINT8_PAD_VALUE`
    (127, the byte that dequantizes closest to 0.0) for ``uint8`` data.
    This is safe for YouTube-8M features: dequantized floats are
    ``q * 4/255 - 1.9921875``, never exactly 0.0 for any byte ``q``, and a
    real quantized frame whose 1152 bytes are all 127 does not occur.

    Parameters
    ----------
    X : array-like of shape (n_videos, max_frames, n_features)
        Padded frame-level features.

    Returns
    -------
    lengths : ndarray of shape (n_videos,), dtype int64

    Examples
    --------
    >>> import numpy as np
    >>> from skqrnn.preprocessing import infer_lengths
    >>> X = np.full((2, 4, 3), 127, dtype=np.uint8)  # uint8 padding byte
    >>> X[0, :3] = 7
    >>> infer_lengths(X)
    array([3, 0])
    """
    X = _as_frames(X)
    n, max_frames = X.shape[:2]
    if max_frames == 0 or X.shape[2] == 0:
        return np.zeros(n, dtype=np.int64)
    real = (X != padding_value(X.dtype)).any(axis=2)  # (n_videos, max_frames): frame is not padding
    last_from_end = np.argmax(real[:, ::-1], axis=1)
    return np.where(real.any(axis=1), max_frames - last_from_end, 0).astype(np.int64)


class FrameSampler(TransformerMixin, BaseEstimator):
    """Sample a fixed number of frames from each padded video.

    Turns ``(n_videos, max_frames, n_features)`` padded frame-level data
    into ``(n_videos, n_frames, n_features)``, taking frames only from each
    video's real (non-padding) frames and keeping them in time order, as
    the input of frame-level models. The dtype is preserved (``uint8``
    quantized features stay ``uint8``).

    Parameters
    ----------
    n_frames : int, default=20
        Frames per video in the output.
    strategy : {"random", "uniform"}, default="random"
        ``"random"``: ``n_frames`` indices drawn uniformly *with
        replacement* from the video's ``L`` real frames,
        ``floor(u * L)`` with ``u ~ U[0, 1)``, then sorted into time order
        (as Google's starter code ``SampleRandomFrames``).
        ``"uniform"``: evenly spaced, the middle frame of each of
        ``n_frames`` equal segments, ``floor((i + 0.5) * L / n_frames)``.
        Videos shorter than ``n_frames`` therefore repeat frames (with
        ``"uniform"`` each frame about ``n_frames / L`` times).
    random_state : int, RandomState instance or None, default=None
        Seeds the ``"random"`` strategy. With an int every ``transform``
        call draws the same frames; with None each call draws anew.

    Attributes
    ----------
    n_features_in_ : int
        Features per frame seen in ``fit``.
    max_frames_in_ : int
        Padded length seen in ``fit`` (``transform`` accepts any).

    Notes
    -----
    Video lengths are taken from ``transform(X, lengths=...)`` when given,
    otherwise inferred by :func:`infer_lengths` (trailing padding frames:
    0.0, or :data:`skqrnn.io.UINT8_PAD_VALUE` for uint8). A video with no
    real frame (length 0) gives an output made of padding, i.e. it stays
    padding.

    Examples
    --------
    >>> import numpy as np
    >>> from skqrnn.preprocessing import FrameSampler
    >>> X = np.full((2, 6, 1), 127, dtype=np.uint8)   # 127: uint8 padding
    >>> X[0, :, 0] = [1, 2, 3, 4, 5, 6]
    >>> X[1, :3, 0] = [7, 8, 9]          # 3 real frames, 3 padding frames
    >>> FrameSampler(n_frames=3, strategy="uniform").fit_transform(X)[..., 0]
    array([[2, 4, 6],
           [7, 8, 9]], dtype=uint8)
    >>> out = FrameSampler(n_frames=4, random_state=0).fit_transform(X)
    >>> out.shape, out.dtype, bool(np.isin(out[1], [7, 8, 9]).all())
    ((2, 4, 1), dtype('uint8'), True)
    """

    def __init__(self, n_frames=20, strategy="random", random_state=None):
        self.n_frames = n_frames
        self.strategy = strategy
        self.random_state = random_state

    def _check_params(self):
        n = self.n_frames
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"n_frames must be a positive integer, got {n!r}.")
        if self.strategy not in _STRATEGIES:
            raise ValueError(
                f"strategy must be one of {_STRATEGIES}, got {self.strategy!r}."
            )

    def fit(self, X, y=None):
        """Check the parameters and record the input's shape.

        Parameters
        ----------
        X : array-like of shape (n_videos, max_frames, n_features)
            Padded frame-level features.
        y : None
            Ignored.

        Returns
        -------
        self : FrameSampler
        """
        self._check_params()
        X = _as_frames(X)
        self.n_features_in_ = X.shape[2]
        self.max_frames_in_ = X.shape[1]
        return self

    def fit_transform(self, X, y=None, lengths=None):
        """Fit, then sample frames of X; see :meth:`transform`."""
        return self.fit(X, y).transform(X, lengths=lengths)

    def transform(self, X, lengths=None):
        """Sample ``n_frames`` real frames of each video, in time order.

        Parameters
        ----------
        X : array-like of shape (n_videos, max_frames, n_features)
            Padded frame-level features; ``n_features`` as in ``fit``.
        lengths : array-like of int, shape (n_videos,), default=None
            Real frames per video (``0 <= lengths <= max_frames``); inferred
            from trailing padding frames when None (see :func:`infer_lengths`).

        Returns
        -------
        X_sampled : ndarray of shape (n_videos, n_frames, n_features)
            Same dtype as X.
        """
        check_is_fitted(self, "n_features_in_")
        self._check_params()
        X = _as_frames(X)
        n, max_frames, n_features = X.shape
        if n_features != self.n_features_in_:
            raise ValueError(
                f"X has {n_features} features per frame (shape {X.shape}), but "
                f"FrameSampler was fitted with {self.n_features_in_}."
            )
        lengths = infer_lengths(X) if lengths is None else self._check_lengths(
            lengths, n, max_frames)
        idx = self._frame_indices(lengths)
        out = X[np.arange(n)[:, None], idx]
        empty = lengths == 0
        if empty.any():
            out[empty] = padding_value(X.dtype)
        return out

    @staticmethod
    def _check_lengths(lengths, n, max_frames):
        lengths = np.asarray(lengths)
        if lengths.shape != (n,):
            raise ValueError(
                f"lengths must have shape ({n},), one per video, got shape {lengths.shape}."
            )
        if lengths.dtype == bool or not (
            np.issubdtype(lengths.dtype, np.integer)
            or (np.issubdtype(lengths.dtype, np.floating)
                and np.all(np.isfinite(lengths)) and np.all(lengths == np.round(lengths)))
        ):
            raise ValueError(f"lengths must be integers, got {lengths!r}.")
        lengths = lengths.astype(np.int64)
        bad = (lengths < 0) | (lengths > max_frames)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"lengths must be between 0 and max_frames={max_frames}; "
                f"lengths[{i}] is {lengths[i]}."
            )
        return lengths

    def _frame_indices(self, lengths):
        n = lengths.size
        size = lengths[:, None].astype(np.float64)
        if self.strategy == "random":
            rng = check_random_state(self.random_state)
            u = rng.random_sample((n, self.n_frames))
            idx = np.sort(np.floor(u * size).astype(np.int64), axis=1)
        else:
            centers = (np.arange(self.n_frames) + 0.5) / self.n_frames
            idx = np.floor(centers[None, :] * size).astype(np.int64)
        # floor(u * L) < L; the clip only guards float rounding and L == 0.
        return np.clip(idx, 0, np.maximum(lengths[:, None] - 1, 0))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = False
        tags.input_tags.allow_nan = True
        return tags
