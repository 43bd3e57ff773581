"""Write predictions in the YouTube-8M 2018 Kaggle submission format.

A CSV with header ``VideoId,LabelConfidencePairs`` and one line per video:
the id, a comma, then the ``top_k`` most confident classes as
space-separated ``label score`` pairs in descending score, scores printed
with ``%g`` (Google's starter ``inference.py``). JSON lines
(``{"id": ..., "labels": [...], "scores": [...]}``) are offered for tools
that prefer them. Imports numpy only (and the compiled top-k kernel
where it was built, see ``skqrnn._selection``).
"""

import json

import numpy as np

from ._selection import top_k_columns

__all__ = ["top_k_predictions", "write_submission"]


def top_k_predictions(y_score, k=20):
    """Indices and scores of each row's ``k`` highest scores, best first.

    Ties are broken by the lower class index, so the output is deterministic.

    Parameters
    ----------
    y_score : array-like of shape (n_videos, n_classes)
    k : int, default=20
        Clipped to ``n_classes``.

    Returns
    -------
    labels : ndarray of shape (n_videos, k), int
    scores : ndarray of shape (n_videos, k), same dtype as ``y_score``

    Examples
    --------
    >>> top_k_predictions([[0.1, 0.7, 0.2]], k=2)
    (array([[1, 2]]), array([[0.7, 0.2]]))
    """
    y_score = np.asarray(y_score)
    if y_score.ndim != 2:
        raise ValueError(f"y_score must be 2-D (n_videos, n_classes); got shape {y_score.shape}.")
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"k must be an integer >= 1; got {k!r}.")
    k = min(int(k), y_score.shape[1])
    part = top_k_columns(y_score, k)
    # float64 keys: negating unsigned or boolean scores would wrap around.
    part_keys = np.take_along_axis(y_score, part, axis=1).astype(np.float64)
    # lexsort: last key is primary -> descending score, then ascending label.
    order = np.lexsort((part, -part_keys), axis=1)
    labels = np.take_along_axis(part, order, axis=1)
    return labels, np.take_along_axis(y_score, labels, axis=1)


def write_submission(file, ids, y_score, *, top_k=20, format="csv", header=True):
    """Write one line per video with its ``top_k`` labels and confidences.

    Parameters
    ----------
    file : file object opened for text writing
        Where the lines go (the caller owns opening, atomic replacement and
        closing, so batches of a stream can be appended).
    ids : sequence of str, length n_videos
    y_score : array-like of shape (n_videos, n_classes)
    top_k : int, default=20
        Pairs per video (20 in the 2018 challenge).
    format : {"csv", "jsonl"}, default="csv"
    header : bool, default=True
        Write the CSV header line (set False for every batch but the first).

    Examples
    --------
    >>> import io
    >>> f = io.StringIO()
    >>> write_submission(f, ["ab12"], [[0.1, 0.9, 0.25]], top_k=2)
    >>> print(f.getvalue(), end="")
    VideoId,LabelConfidencePairs
    ab12,1 0.9 2 0.25
    """
    if format not in ("csv", "jsonl"):
        raise ValueError(f"format must be 'csv' or 'jsonl'; got {format!r}.")
    labels, scores = top_k_predictions(y_score, top_k)
    ids = [str(i) for i in ids]
    if len(ids) != labels.shape[0]:
        raise ValueError(f"{len(ids)} ids for {labels.shape[0]} rows of scores.")
    if format == "csv":
        if header:
            file.write("VideoId,LabelConfidencePairs\n")
        for vid, lab, sc in zip(ids, labels, scores):
            pairs = " ".join(f"{int(a)} {float(b):g}" for a, b in zip(lab, sc))
            file.write(f"{vid},{pairs}\n")
    else:
        for vid, lab, sc in zip(ids, labels, scores):
            file.write(json.dumps({"id": vid, "labels": lab.tolist(),
                                   "scores": [float(f"{float(b):g}") for b in sc]}) + "\n")
