"""YouTube-8M evaluation metrics: GAP@k, Hit@k, PERR and MAP.

Vectorized re-implementations of Google's ``eval_util.py`` and
``average_precision_calculator.py`` (YouTube-8M starter code), as plain
functions, a streaming :class:`YT8MEvaluator` and scikit-learn scorers.

Inputs
------
``y_true`` is a 0/1 indicator matrix of shape ``(n_videos, n_classes)``,
dense or any :mod:`scipy.sparse` format (a sparse ``y_true`` is never
densified); ``y_score`` is a dense real matrix of the same shape.

How it is computed
------------------
Rows are processed in chunks of about two million cells, on up to four
threads (numpy and the compiled kernel release the GIL). Each video's
top-k classes are found by a group-maximum prefilter (the cells above the
(k+1)-th largest group maximum, usually k or a few more) and a partition of
those few cells (a full ``np.argpartition`` only for rows with ties): for
float32 and float64 scores by a small compiled kernel that reads each row
once (``skqrnn/_top_k_kernel.h``, built by ``pip install`` where a C++
compiler is found), otherwise by numpy calls with the same results;
the labels of those k cells are gathered (for sparse ``y_true`` from the
canonical CSR structure, one chunk at a time, never densifying the matrix),
and only the ``n_videos * k`` (score, label, class) triples are kept; GAP
then needs two value sorts, MAP one sort. Peak extra memory is
``O(n_videos * k)`` plus one chunk, whatever ``n_classes`` is.

Ties
----
Google's code breaks score ties by a seeded shuffle; these functions use a
deterministic, *pessimistic* rule instead: among equal scores, negatives
rank before positives -- when choosing a video's top k, in the pooled GAP
list and in each class's MAP list. Ties therefore never raise a score (a
constant predictor gets the lowest value consistent with its ranking).
Results do not depend on the order of the videos, and GAP, Hit@k and PERR
not on the order of the classes either; when a video must choose between
classes tied at its k-th score *with the same label*, the lower column
index is kept, which can matter for MAP only. On inputs without ties the
results equal the reference to float rounding.

This module does not import Keras.
"""

import numbers
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import get_scorer as _sk_get_scorer
# _Scorer is private, but subclassing it is what keeps make_scorer semantics
# (multi-metric dicts, refit="name", metadata routing); see _YT8MScorer.
from sklearn.metrics._scorer import _Scorer
from sklearn.utils.multiclass import type_of_target

from ._selection import compiled_top_k, group_width

__all__ = [
    "global_average_precision",
    "hit_at_k",
    "precision_at_equal_recall_rate",
    "mean_average_precision",
    "YT8MEvaluator",
    "make_yt8m_scorer",
    "gap_scorer",
    "hit_at_one_scorer",
    "perr_scorer",
    "map_scorer",
    "get_scorer",
]

# About this many score cells per chunk (8 MiB of float32): the fastest of
# 0.5-4 M cells with two threads in benchmarks/bench_metrics.py (smaller
# chunks pay numpy's per-call overhead more often); argpartition's int64
# index array (rows with ties only) is 16 MiB, whatever the matrix's size.
_CHUNK_CELLS = 1 << 21
# Threads that process chunks in parallel (never more than the CPUs).
_MAX_THREADS = 4



# ----------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------


def _check_k(k, name="k"):
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral):
        raise ValueError(f"{name} must be a positive integer, got {k!r}.")
    if k < 1:
        raise ValueError(f"{name} must be a positive integer (>= 1), got {k}.")
    return int(k)


class _Labels:
    """Read-only access to a dense or sparse 0/1 ``y_true`` by rows.

    For sparse input the canonical CSR structure (sorted, de-duplicated
    indices, explicit zeros dropped) is summarised by one sorted int64 key
    per positive, ``row * n_classes + column``, so the label of any
    (row, column) cell is one ``np.searchsorted`` away.
    """

    def __init__(self, y_true):
        if sp.issparse(y_true):
            if y_true.ndim != 2:
                raise ValueError(
                    "y_true must be 2-D of shape (n_videos, n_classes), "
                    f"got a sparse array of shape {y_true.shape}."
                )
            csr = y_true.tocsr()
            if not csr.has_canonical_format:
                # tocsr() may return the caller's matrix itself: never sort
                # or sum the user's data in place.
                csr = csr.copy()
                csr.sum_duplicates()
            data = csr.data
            if data.size and not np.all((data == 0) | (data == 1)):
                bad = data[~((data == 0) | (data == 1))][0]
                raise ValueError(
                    "y_true must be a binary 0/1 indicator matrix; the sparse "
                    f"y_true holds the value {bad!r}."
                )
            nonzero = data != 0
            rows = np.repeat(np.arange(csr.shape[0], dtype=np.int64), np.diff(csr.indptr))
            self.keys = rows[nonzero] * csr.shape[1] + csr.indices[nonzero]
            self.row_counts = np.bincount(rows[nonzero], minlength=csr.shape[0])
            self.class_counts = np.bincount(
                csr.indices[nonzero], minlength=csr.shape[1]
            ).astype(np.int64)
            self.dense = None
            self.shape = csr.shape
        else:
            y = np.asarray(y_true)
            if y.ndim != 2:
                raise ValueError(
                    "y_true must be 2-D of shape (n_videos, n_classes), got "
                    f"shape {y.shape}. For a single label column use "
                    "y.reshape(-1, 1)."
                )
            if y.dtype == object or not (
                y.dtype == bool or np.issubdtype(y.dtype, np.number)
            ):
                raise ValueError(
                    f"y_true must be a numeric 0/1 indicator matrix, got dtype {y.dtype}."
                )
            self.dense = y
            self.shape = y.shape
            self.keys = None
            # Row / class counts and the 0/1 check are done chunk by chunk in
            # _scan so that a big dense y_true is read only once.
            self.row_counts = None
            self.class_counts = None

    def dense_chunk(self, start, stop):
        """Rows ``start:stop`` of a dense y_true as bool, after the 0/1 check."""
        block = self.dense[start:stop]
        if block.dtype == bool:
            return block
        if block.dtype.kind in "iu":
            # Seen as unsigned, 0 and 1 are the values <= 1: one reduction,
            # no mask (the mask is built only to name a bad cell).
            unsigned = block.view(f"u{block.dtype.itemsize}")
            ok = unsigned.size == 0 or unsigned.max() <= 1
        else:
            ok = ((block == 0) | (block == 1)).all()
        if not ok:
            r, c = np.argwhere((block != 0) & (block != 1))[0]
            raise ValueError(
                "y_true must be a binary 0/1 indicator matrix; "
                f"y_true[{start + r}, {c}] is {block[r, c]!r}."
            )
        if block.dtype.itemsize == 1 and block.dtype.kind in "iu":
            return block.view(bool)  # bytes that are all 0 or 1 are valid bools
        return block == 1

    def chunk_lookup(self, start, stop, idx, scratch):
        """Labels (bool) of cells ``(start + i, idx[i, j])`` of a sparse y_true.

        The chunk's positives are scattered into a reused flat bool buffer
        of one chunk's size (``scratch.labels``, ``scratch`` a
        ``threading.local``), read back at ``idx`` and cleared again: O(1)
        per lookup, and memory bounded by the chunk, never the whole matrix.
        """
        c = self.shape[1]
        lo, hi = np.searchsorted(self.keys, [start * c, stop * c])
        local = self.keys[lo:hi] - start * c
        size = (stop - start) * c
        buf = getattr(scratch, "labels", None)
        if buf is None or buf.size < size:
            buf = scratch.labels = np.zeros(size, dtype=bool)
        buf[local] = True
        flat = idx + (np.arange(stop - start) * c)[:, None]
        out = buf[flat]
        buf[local] = False
        return out

    def lookup(self, rows, cols):
        """Labels (bool) of sparse cells; ``rows`` broadcasts against ``cols``."""
        query = np.asarray(rows, dtype=np.int64) * self.shape[1] + cols
        if self.keys.size == 0:
            return np.zeros(query.shape, dtype=bool)
        pos = np.searchsorted(self.keys, query)
        np.minimum(pos, self.keys.size - 1, out=pos)
        return self.keys[pos] == query


def _check_inputs(y_true, y_score):
    labels = _Labels(y_true)
    if sp.issparse(y_score):
        raise ValueError(
            "y_score must be a dense array of shape (n_videos, n_classes); "
            "got a sparse matrix."
        )
    score = np.asarray(y_score)
    if score.dtype == object or not (
        score.dtype == bool or np.issubdtype(score.dtype, np.number)
    ) or np.iscomplexobj(score):
        raise ValueError(f"y_score must be a real-valued array, got dtype {score.dtype}.")
    if score.ndim == 1 and len(labels.shape) == 2 and labels.shape[1] == 2:
        raise ValueError(
            f"y_score has shape {score.shape} but y_true has shape "
            f"{labels.shape}; expected y_score of shape {labels.shape}. "
            "scikit-learn's make_scorer passes a single predict_proba column "
            "when the estimator's classes_ has exactly two values (a "
            "multi-label classifier with 2 labels): use the scorers of "
            "skqrnn.metrics (gap_scorer, ...) which handle this case."
        )
    if score.ndim != 2:
        raise ValueError(
            "y_score must be 2-D of shape (n_videos, n_classes), got shape "
            f"{score.shape}. For a single label column use y.reshape(-1, 1)."
        )
    if score.shape != tuple(labels.shape):
        raise ValueError(
            f"y_true and y_score must have the same shape; got y_true of shape "
            f"{tuple(labels.shape)} and y_score of shape {score.shape}."
        )
    if score.shape[0] == 0 or score.shape[1] == 0:
        raise ValueError(
            f"need at least one video and one class; got inputs of shape {score.shape}."
        )
    if score.dtype == bool:
        score = score.astype(np.float32)
    return labels, score


# ----------------------------------------------------------------------------
# Core: per-video top-k selection, chunked
# ----------------------------------------------------------------------------


class _ScanResult:
    """What one pass over (y_true, y_score) leaves behind: O(n_videos * k)."""

    __slots__ = ("scores", "labels", "classes", "class_counts", "n_hits", "perr_sum",
                 "n_videos")


def _n_threads(n_chunks):
    """Worker threads for ``n_chunks`` chunks: one per CPU, at most 4.

    The chunk work is numpy calls on arrays of thousands of rows, which
    release the GIL, so threads scale on a memory-bound pass without copying
    the score matrix to other processes.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(_MAX_THREADS, cpus, n_chunks))


def _check_finite(block, start, group_max=None, body=0):
    """Raise if ``block`` (rows ``start:`` of y_score) holds NaN or +-inf.

    With ``group_max`` (the maxima of the groups covering columns
    ``:body``, see :func:`_top_k`) two reductions decide instead of
    a cell-by-cell test, which writes a mask as large as the block: NaN
    propagates through both maximum and minimum, +inf reaches a group
    maximum (or sits in a column left over from the groups), -inf the
    minimum. The cell-by-cell test then only runs to name a bad cell.
    """
    if group_max is None:
        ok = np.isfinite(block).all()
    else:
        ok = (np.isfinite(group_max).all() and np.isfinite(block.min())
              and np.isfinite(block[:, body:]).all())
    if not ok:
        _raise_not_finite(block, start, *np.argwhere(~np.isfinite(block))[0])


def _raise_not_finite(block, start, r, col):
    raise ValueError(
        f"y_score must be finite; y_score[{start + r}, {col}] is {block[r, col]}."
    )


def _scan(labels, score, *, keep=0, hit_k=0, perr=False):
    """Pass over the rows in chunks, keeping each video's top ``keep`` cells.

    Returns the kept (score, label, class) triples as ``(n_videos, keep)``
    arrays (in no particular order within a row unless ``hit_k`` or
    ``perr``), the per-class positive counts, the number of videos with a
    positive among their top ``hit_k`` and, if ``perr``, the sum over videos
    of the precision at equal recall. Chunks run on a few threads; the first
    bad chunk in row order raises, as a sequential pass would.
    """
    n, c = score.shape
    keep = min(keep, c)
    hit_k = min(hit_k, c)
    out = _ScanResult()
    out.n_videos = n
    # float32 scores stay float32 (exact, and the pooled sorts move half
    # the bytes); anything else is kept as float64.
    out.scores = np.empty((n, keep), dtype=np.float32 if score.dtype == np.float32
                          else np.float64)
    out.labels = np.empty((n, keep), dtype=bool)
    # int16 class ids make MAP's stable sort by class a radix sort.
    out.classes = np.empty((n, keep), dtype=np.int16 if c <= 2**15 else np.int64)

    def chunk(start):
        """Top cells of rows start:start+step into ``out``; returns the
        chunk's (hits, perr sum, class counts or None)."""
        stop = min(n, start + step)
        block = score[start:stop]
        counts = None
        if labels.dense is not None:
            lab_block = labels.dense_chunk(start, stop)
            # Sums of the 0/1 bytes in int32 (a chunk has < 2**31 cells):
            # row-wise vector adds, half the traffic of int64 accumulators.
            as_bytes = lab_block.view(np.uint8)
            # Positives per video: only PERR needs them.
            n_pos = np.add.reduce(as_bytes, axis=1, dtype=np.int32) if perr else None
            counts = np.add.reduce(as_bytes, axis=0, dtype=np.int32).astype(np.int64)
        else:
            lab_block = None
            n_pos = labels.row_counts[start:stop]
        need = max(keep, hit_k)
        if perr and n_pos.size:
            need = max(need, int(n_pos.max()))
        need = min(need, c)
        if need == 0:
            _check_finite(block, start)
            return 0, 0.0, counts
        # Also checks that the block is finite (cheaper along the way).
        idx, top_scores = _top_k(block, need, labels, lab_block, start, scratch)
        if lab_block is not None:
            top_labels = np.take_along_axis(lab_block, idx, axis=1)
        else:
            top_labels = labels.chunk_lookup(start, stop, idx, scratch)
        # Order matters only for a prefix shorter than what was selected.
        if perr or (hit_k and hit_k < need) or keep < need:
            idx, top_scores, top_labels = _sort_rows(idx, top_scores, top_labels)
        if keep:
            out.scores[start:stop] = top_scores[:, :keep]
            out.labels[start:stop] = top_labels[:, :keep]
            out.classes[start:stop] = idx[:, :keep]
        hits = int(top_labels[:, :hit_k].any(axis=1).sum()) if hit_k else 0
        perr_sum = 0.0
        if perr:
            # Precision among the top n_pos classes, counting only scores > 0.
            within = np.arange(need)[None, :] < n_pos[:, None]
            good = (top_labels & within & (top_scores > 0)).sum(axis=1)
            has = n_pos > 0
            perr_sum = float(np.sum(good[has] / n_pos[has]))
        return hits, perr_sum, counts

    step = max(1, _CHUNK_CELLS // c)
    starts = range(0, n, step)
    # Per-thread buffers reused from chunk to chunk (a fresh chunk-sized
    # array each time costs page faults), freed with this call.
    scratch = threading.local()
    threads = _n_threads(len(starts))
    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(chunk, starts))
    else:
        parts = [chunk(start) for start in starts]
    out.n_hits = sum(p[0] for p in parts)
    out.perr_sum = sum(p[1] for p in parts)
    if labels.class_counts is not None:
        out.class_counts = labels.class_counts
    else:
        out.class_counts = np.zeros(c, dtype=np.int64)
        for p in parts:
            if p[2] is not None:
                out.class_counts += p[2]
    return out


def _sort_rows(idx, top_scores, top_labels):
    """Order each row best first; among equal scores negatives first, then
    lower columns (so the kept prefix does not depend on selection order)."""
    order = np.argsort(top_scores, axis=1)[:, ::-1]
    sc = np.take_along_axis(top_scores, order, axis=1)
    # Rows with adjacent equal scores need the tie rule: redo them exactly.
    tied = np.flatnonzero((sc[:, 1:] == sc[:, :-1]).any(axis=1))
    if tied.size:
        order[tied] = np.lexsort((idx[tied], top_labels[tied],
                                  -top_scores[tied].astype(np.float64)), axis=1)
    return (np.take_along_axis(idx, order, axis=1),
            np.take_along_axis(top_scores, order, axis=1),
            np.take_along_axis(top_labels, order, axis=1))


def _top_k(block, k, labels, lab_block, start, scratch=None):
    """Column indices and scores of each row's k best cells (unordered).

    Fast path (no ``argpartition`` over whole rows): the columns are dealt
    into ``n_groups`` strided groups of ``w ~ sqrt(n_classes / k)`` columns;
    ``T``, the (k+1)-th largest group maximum, bounds every cell outside the
    k groups whose maxima exceed it, while those k maxima exceed it. So a
    row's top k are the k largest of its cells above ``T`` -- usually k or
    a few more (one comparison pass and ``np.flatnonzero`` find them), which
    are padded into a small matrix and partitioned. Rows where that is not
    exact (fewer than k cells above ``T`` when group maxima tie, or a tie at
    the k-th score) go through :func:`_top_k_exact`. ``scratch`` (a
    ``threading.local``) holds the thread's mask buffer between chunks.
    Float32 and float64 blocks go to the compiled kernel when it is built
    (:func:`_top_k_compiled`: the same steps, one read of each row).
    """
    r, c = block.shape
    if k >= c:
        _check_finite(block, start)
        return np.broadcast_to(np.arange(c), block.shape).copy(), np.array(block)
    w = group_width(c, k)
    if w < 2 or c // w < k + 1 or r * c >= 2**31:
        _check_finite(block, start)
        return _exact_with_scores(block, k, labels, lab_block, start)
    block = np.ascontiguousarray(block)
    found = compiled_top_k(block, k)
    if found is not None:
        return _top_k_compiled(block, k, found, labels, lab_block, start)
    n_groups = c // w
    body = w * n_groups
    group_max = block[:, :body].reshape(r, w, n_groups).max(axis=1)
    _check_finite(block, start, group_max, body)
    # In place: np.partition moves values only, several times faster than
    # argpartition, and the maxima are not needed afterwards.
    group_max.partition(n_groups - k - 1, axis=1)
    t_next = group_max[:, n_groups - k - 1]
    mask = getattr(scratch, "mask", None)
    if mask is None or mask.size < r * c:
        mask = np.empty(r * c, dtype=bool)
        if scratch is not None:
            scratch.mask = mask
    above = mask[: r * c]
    np.greater(block, t_next[:, None], out=above.reshape(r, c))
    flat = np.flatnonzero(above)  # row-major: each row's cells in a run
    row_of = flat // c
    counts = np.bincount(row_of, minlength=r)
    cols = flat - row_of * c
    if (counts == k).all():
        return cols.reshape(r, k), block.ravel()[flat].reshape(r, k)
    # Pad each row's cells above T to the widest row; the padding ranks
    # below every real cell (which are > T), and rows with fewer than k
    # real cells are redone exactly.
    width = int(counts.max())
    if width < k:  # every row's group maxima tie
        return _exact_with_scores(block, k, labels, lab_block, start)
    pad = -np.inf if block.dtype.kind == "f" else np.iinfo(block.dtype).min
    dest = np.arange(flat.size) + np.repeat(np.arange(r) * width - (np.cumsum(counts) - counts),
                                            counts)
    vals = np.full(r * width, pad, dtype=block.dtype)
    vals[dest] = block.ravel()[flat]
    padded_cols = np.zeros(r * width, dtype=np.intp)
    padded_cols[dest] = cols
    vals = vals.reshape(r, width)
    part = np.argpartition(vals, width - k, axis=1)[:, width - k:]
    # The scores come from the small matrix: gathering them from the block
    # again would cost a cache miss per cell.
    top = np.take_along_axis(vals, part, axis=1)
    idx = np.take_along_axis(padded_cols.reshape(r, width), part, axis=1)
    # argpartition leaves the k-th largest first in the slice: a row is
    # exact iff no other cell reaches it.
    kth = top[:, :1]
    redo = np.flatnonzero((counts < k) | (np.count_nonzero(vals >= kth, axis=1) > k))
    if redo.size:
        sub_lab = lab_block[redo] if lab_block is not None else None
        idx[redo], top[redo] = _exact_with_scores(block[redo], k, labels, sub_lab, start,
                                                  rows=redo)
    return idx, top


def _top_k_compiled(block, k, found, labels, lab_block, start):
    """:func:`_top_k` from the compiled kernel's answer ``found``
    (:func:`skqrnn._selection.compiled_top_k`).

    Same prefilter, same results: the kernel reads each row once and does
    the later steps in the L1 cache. It leaves to :func:`_top_k_exact` the
    rows the numpy path would send there (ties at the k-th score, group
    maxima tied at ``T``), and stops at the first NaN or infinite cell.
    """
    idx, top, redo, bad = found
    if bad >= 0:
        _raise_not_finite(block, start, *divmod(bad, block.shape[1]))
    rows = np.flatnonzero(redo)
    if rows.size:
        sub_lab = lab_block[rows] if lab_block is not None else None
        idx[rows], top[rows] = _exact_with_scores(block[rows], k, labels, sub_lab, start,
                                                  rows=rows)
    return idx, top


def _exact_with_scores(block, k, labels, lab_block, start, rows=None):
    """:func:`_top_k_exact`'s indices and the scores there."""
    idx = _top_k_exact(block, k, labels, lab_block, start, rows)
    return idx, np.take_along_axis(block, idx, axis=1)


def _top_k_exact(block, k, labels, lab_block, start, rows=None):
    """Top-k column indices by a full ``argpartition``, with the tie rule.

    ``np.argpartition`` picks an arbitrary subset of the cells tied at the
    k-th score; rows where that matters are redone to prefer negatives (and
    among same-label cells, lower columns). ``rows`` are the chunk-relative
    row numbers of ``block`` (default: all of them in order).
    """
    c = block.shape[1]
    if rows is None:
        rows = np.arange(block.shape[0])
    idx = np.argpartition(block, c - k, axis=1)[:, c - k:]
    kth = np.take_along_axis(block, idx[:, :1], axis=1)
    # argpartition leaves the k-th largest score first in the slice, so a
    # row is tied at the boundary iff more than k cells reach it.
    tied_rows = np.flatnonzero(np.count_nonzero(block >= kth, axis=1) > k)
    for r in tied_rows:
        row = block[r]
        t = kth[r, 0]
        above = np.flatnonzero(row > t)
        at = np.flatnonzero(row == t)
        if lab_block is not None:
            at_lab = lab_block[r, at]
        else:
            at_lab = labels.lookup(start + rows[r], at)
        at = at[np.argsort(at_lab, kind="stable")]
        idx[r] = np.concatenate([above, at[: k - above.size]])
    return idx


def _ranked_terms(scores, labels, segments=None):
    """Precision at each positive of score-ranked lists, ties pessimistic.

    ``scores`` must be sorted descending within each segment (``segments``
    ascending; None = one list), ties in any order. A positive's rank is
    computed as if, among equal scores of its segment, all negatives came
    first. Returns ``(hits / rank, segment)`` for every positive.
    """
    n = scores.size
    lab = labels.astype(np.int64)
    if segments is None:
        seg_new = np.zeros(n, dtype=bool)
    else:
        seg_new = np.empty(n, dtype=bool)
        seg_new[0] = True
        np.not_equal(segments[1:], segments[:-1], out=seg_new[1:])
    group_new = seg_new.copy()
    group_new[0] = True
    group_new[1:] |= scores[1:] != scores[:-1]
    pos_at = np.flatnonzero(lab)
    if pos_at.size == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    cum = np.cumsum(lab)  # positives up to and including each cell
    arange = np.arange(n)
    # Start of each cell's tie group and of its segment.
    group_start = np.maximum.accumulate(np.where(group_new, arange, 0))
    seg_start = np.maximum.accumulate(np.where(seg_new | (arange == 0), arange, 0))
    before_group = cum[group_start] - lab[group_start]  # positives before group
    group_id = np.cumsum(group_new) - 1
    group_starts = np.flatnonzero(group_new)
    group_size = np.diff(np.append(group_starts, n))
    group_neg = group_size - np.add.reduceat(lab, group_starts)
    g = group_id[pos_at]
    j = cum[pos_at] - before_group[pos_at]  # 1-based rank among the group's positives
    seg0 = seg_start[pos_at]
    hits = cum[pos_at] - (cum[seg0] - lab[seg0])
    rank = group_start[pos_at] - seg0 + group_neg[g] + j
    segs = segments[pos_at] if segments is not None else np.zeros(pos_at.size, dtype=np.int64)
    return hits / rank, segs


def _gap_from(scores, labels, class_counts):
    """GAP of the pooled top-k triples (non-interpolated AP, as ap_at_n).

    With the positives' scores sorted descending, the i-th positive has
    rank ``i + #(negatives scoring >= it)`` under the pessimistic tie rule,
    so two value sorts (no argsort) and a binary search give the sum.
    """
    n_pos = int(class_counts.sum())
    scores = scores.ravel()
    labels = labels.ravel()
    if n_pos == 0 or scores.size == 0:
        return 0.0
    pos = np.sort(scores[labels])  # ascending: the i-th from the top is pos[-i]
    neg = np.sort(scores[~labels])
    i = np.arange(pos.size, 0, -1)
    # Ascending keys let searchsorted narrow each search from the last one.
    neg_at_or_above = neg.size - np.searchsorted(neg, pos, side="left")
    return float(np.sum(i / (i + neg_at_or_above)) / n_pos)


def _map_from(scores, labels, classes, class_counts):
    """MAP over the classes with positives, from the pooled top-k triples."""
    present = np.flatnonzero(class_counts > 0)
    scores = scores.ravel()
    if present.size == 0:
        return 0.0
    if scores.size == 0:
        return 0.0
    # By score descending, then a stable (radix for int16) sort by class.
    order = np.argsort(scores)[::-1]
    order = order[np.argsort(classes.ravel()[order], kind="stable")]
    cls = classes.ravel()[order]
    terms, segs = _ranked_terms(scores[order], labels.ravel()[order], cls)
    per_class = np.bincount(segs, weights=terms, minlength=class_counts.size)
    return float(np.mean(per_class[present] / class_counts[present]))


# ----------------------------------------------------------------------------
# Public metric functions
# ----------------------------------------------------------------------------


def global_average_precision(y_true, y_score, *, k=20):
    r"""Global average precision at k (GAP@k), the YouTube-8M metric.

    Each video keeps its ``k`` highest-scoring classes; the
    ``N = n_videos * min(k, n_classes)`` resulting (score, label) pairs are
    pooled and sorted by descending score, and

    .. math::

        \mathrm{GAP} = \frac{1}{P} \sum_{i=1}^{N} p(i)\,\mathrm{rel}(i),
        \qquad p(i) = \frac{1}{i}\sum_{j \le i} \mathrm{rel}(j),

    where ``rel(i)`` is 1 if the i-th pooled prediction is a true label and
    ``P`` is the total number of positive labels in ``y_true`` -- including
    those outside every video's top k, so missed labels lower GAP.

    Parameters
    ----------
    y_true : {array-like, sparse matrix} of shape (n_videos, n_classes)
        0/1 label indicator matrix. Sparse input (any scipy.sparse format)
        is never densified.
    y_score : array-like of shape (n_videos, n_classes)
        Confidence scores; finite, any real scale.
    k : int, default=20
        Predictions kept per video; values above ``n_classes`` mean all.

    Returns
    -------
    gap : float
        In ``[0, 1]``. 0.0 when ``y_true`` has no positive label at all (as
        the reference returns).

    Raises
    ------
    ValueError
        If the shapes differ or are not 2-D, ``y_true`` is not 0/1,
        ``y_score`` holds NaN or infinity, or ``k`` is not a positive integer.

    Notes
    -----
    Ties are ranked pessimistically (negatives first); see the module
    docstring. Matches Google's ``eval_util.calculate_gap`` on inputs
    without ties.

    Examples
    --------
    >>> import numpy as np
    >>> from skqrnn.metrics import global_average_precision
    >>> y_true = np.array([[1, 0, 0], [0, 1, 1]])
    >>> y_score = np.array([[0.9, 0.5, 0.1], [0.8, 0.7, 0.2]])
    >>> round(global_average_precision(y_true, y_score, k=2), 4)
    0.5556
    """
    k = _check_k(k)
    labels, score = _check_inputs(y_true, y_score)
    res = _scan(labels, score, keep=k)
    return _gap_from(res.scores, res.labels, res.class_counts)


def hit_at_k(y_true, y_score, *, k=1):
    r"""Hit@k: fraction of videos with a true label among their top k classes.

    .. math::

        \mathrm{Hit@}k = \frac{1}{n}\sum_{v=1}^{n}
        \mathbb{1}\left[\mathrm{top}_k(v) \cap \mathrm{labels}(v) \neq \emptyset\right]

    Videos without labels count as misses and stay in the denominator.
    ``k=1`` is the reference's ``calculate_hit_at_one``.

    Parameters
    ----------
    y_true : {array-like, sparse matrix} of shape (n_videos, n_classes)
        0/1 label indicator matrix.
    y_score : array-like of shape (n_videos, n_classes)
        Confidence scores.
    k : int, default=1
        Number of top classes looked at per video (capped at ``n_classes``).

    Returns
    -------
    hit : float
        In ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from skqrnn.metrics import hit_at_k
    >>> y_true = np.array([[1, 0, 0], [0, 0, 1]])
    >>> y_score = np.array([[0.9, 0.5, 0.1], [0.8, 0.7, 0.2]])
    >>> float(hit_at_k(y_true, y_score))
    0.5
    >>> float(hit_at_k(y_true, y_score, k=3))
    1.0
    """
    k = _check_k(k)
    labels, score = _check_inputs(y_true, y_score)
    res = _scan(labels, score, hit_k=k)
    return res.n_hits / res.n_videos


def precision_at_equal_recall_rate(y_true, y_score):
    r"""Precision at equal recall rate (PERR), averaged over videos.

    For a video with :math:`n_v > 0` true labels, the precision among its
    :math:`n_v` best-scored classes, where a class only counts if its score
    is strictly positive:

    .. math::

        \mathrm{PERR} = \frac{1}{n}\sum_{v:\,n_v>0} \frac{1}{n_v}
        \left|\{c \in \mathrm{top}_{n_v}(v) : y_{vc} = 1,\ s_{vc} > 0\}\right|

    Videos with no labels contribute 0 and stay in the denominator.

    Parameters
    ----------
    y_true : {array-like, sparse matrix} of shape (n_videos, n_classes)
        0/1 label indicator matrix.
    y_score : array-like of shape (n_videos, n_classes)
        Confidence scores.

    Returns
    -------
    perr : float
        In ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from skqrnn.metrics import precision_at_equal_recall_rate
    >>> y_true = np.array([[1, 1, 0], [0, 0, 1]])
    >>> y_score = np.array([[0.9, 0.1, 0.5], [0.8, 0.7, 0.2]])
    >>> float(precision_at_equal_recall_rate(y_true, y_score))
    0.25
    """
    labels, score = _check_inputs(y_true, y_score)
    res = _scan(labels, score, perr=True)
    return res.perr_sum / res.n_videos


def mean_average_precision(y_true, y_score, *, k=20):
    r"""Mean over classes of the average precision of the top-k predictions.

    Each video keeps its top ``k`` classes; for every class ``c`` the
    (score, label) pairs of the videos that kept it are ranked by descending
    score, and

    .. math::

        \mathrm{AP}_c = \frac{1}{P_c}\sum_{i} p_c(i)\,\mathrm{rel}_c(i),
        \qquad \mathrm{MAP} = \frac{1}{|C^+|}\sum_{c \in C^+} \mathrm{AP}_c,

    where :math:`P_c` is the number of videos labelled ``c`` (including those
    that did not keep ``c`` in their top k) and :math:`C^+` the classes with
    :math:`P_c > 0`; classes without positives are left out, as the
    reference's ``MeanAveragePrecisionCalculator(filter_empty_classes=True)``
    does.

    Parameters
    ----------
    y_true : {array-like, sparse matrix} of shape (n_videos, n_classes)
        0/1 label indicator matrix.
    y_score : array-like of shape (n_videos, n_classes)
        Confidence scores.
    k : int, default=20
        Predictions kept per video (capped at ``n_classes``).

    Returns
    -------
    map : float
        In ``[0, 1]``; 0.0 when no class has a positive label.

    Examples
    --------
    >>> import numpy as np
    >>> from skqrnn.metrics import mean_average_precision
    >>> y_true = np.array([[1, 0], [0, 1], [1, 0]])
    >>> y_score = np.array([[0.9, 0.2], [0.6, 0.3], [0.4, 0.8]])
    >>> round(mean_average_precision(y_true, y_score, k=1), 4)
    0.25
    """
    k = _check_k(k)
    labels, score = _check_inputs(y_true, y_score)
    res = _scan(labels, score, keep=k)
    return _map_from(res.scores, res.labels, res.classes, res.class_counts)


# ----------------------------------------------------------------------------
# Streaming evaluation
# ----------------------------------------------------------------------------


class YT8MEvaluator:
    """Accumulate GAP@k, Hit@1, PERR and MAP over batches of videos.

    The streaming counterpart of Google's ``EvaluationMetrics``. Only each
    video's top-``top_k`` (score, label, class) triples, the per-class
    positive counts and two running sums are kept, so memory grows as
    ``O(n_videos * top_k)``, not ``O(n_videos * n_classes)``. ``result()``
    equals (to float rounding) the metric functions on all batches stacked,
    however the videos were split into batches.

    Parameters
    ----------
    n_classes : int, default=None
        Number of classes; taken from the first batch when None. Every batch
        must have this many columns.
    top_k : int, default=20
        Predictions kept per video for GAP and MAP.

    Attributes
    ----------
    n_videos : int
        Videos accumulated since construction or the last ``reset()``.

    Examples
    --------
    >>> import numpy as np
    >>> from skqrnn.metrics import YT8MEvaluator
    >>> y_true = np.array([[1, 0, 0], [0, 1, 1]])
    >>> y_score = np.array([[0.9, 0.5, 0.1], [0.8, 0.7, 0.2]])
    >>> ev = YT8MEvaluator(top_k=2)
    >>> ev.update(y_true[:1], y_score[:1])
    >>> ev.update(y_true[1:], y_score[1:])
    >>> {k: round(v, 4) for k, v in ev.result().items()}
    {'gap': 0.5556, 'hit_at_one': 0.5, 'perr': 0.75, 'map': 0.6667, 'n_videos': 2}
    """

    def __init__(self, n_classes=None, *, top_k=20):
        if n_classes is not None:
            n_classes = _check_k(n_classes, "n_classes")
        self.n_classes = n_classes
        self.top_k = _check_k(top_k, "top_k")
        self.reset()

    def reset(self):
        """Forget every accumulated batch (``n_classes`` given at init is kept)."""
        self._n_classes = self.n_classes
        self._scores = []
        self._labels = []
        self._classes = []
        self._class_counts = None
        self._n_hits = 0
        self._perr_sum = 0.0
        self.n_videos = 0

    def update(self, y_true_batch, y_score_batch):
        """Add a batch of videos.

        Parameters
        ----------
        y_true_batch : {array-like, sparse matrix} of shape (batch, n_classes)
            0/1 labels of the batch.
        y_score_batch : array-like of shape (batch, n_classes)
            Scores of the batch.

        Raises
        ------
        ValueError
            On bad input (as the metric functions) or a number of classes
            different from the earlier batches'; the state is then unchanged.
        """
        labels, score = _check_inputs(y_true_batch, y_score_batch)
        if self._n_classes is not None and score.shape[1] != self._n_classes:
            raise ValueError(
                f"batch has {score.shape[1]} classes (shape {score.shape}) but the "
                f"evaluator expects n_classes={self._n_classes}."
            )
        res = _scan(labels, score, keep=self.top_k, hit_k=1, perr=True)
        # All validation passed: only now touch the state.
        self._n_classes = score.shape[1]
        self._scores.append(res.scores)
        self._labels.append(res.labels)
        self._classes.append(res.classes)
        if self._class_counts is None:
            self._class_counts = res.class_counts.copy()
        else:
            self._class_counts += res.class_counts
        self._n_hits += res.n_hits
        self._perr_sum += res.perr_sum
        self.n_videos += res.n_videos

    def result(self):
        """Metrics over every video seen so far.

        Returns
        -------
        metrics : dict
            ``{"gap": float, "hit_at_one": float, "perr": float,
            "map": float, "n_videos": int}``.

        Raises
        ------
        ValueError
            If no video was added (the reference raises too).
        """
        if self.n_videos == 0:
            raise ValueError("no videos: call update() with at least one batch first.")
        scores = np.concatenate(self._scores)
        labels = np.concatenate(self._labels)
        classes = np.concatenate(self._classes)
        return {
            "gap": _gap_from(scores, labels, self._class_counts),
            "hit_at_one": self._n_hits / self.n_videos,
            "perr": self._perr_sum / self.n_videos,
            "map": _map_from(scores, labels, classes, self._class_counts),
            "n_videos": self.n_videos,
        }


# ----------------------------------------------------------------------------
# scikit-learn scorers
# ----------------------------------------------------------------------------

# Key under which the raw predict_proba is cached in a multi-metric call; a
# tuple cannot collide with scikit-learn's own (string) cache keys.
_RAW_PROBA_KEY = ("skqrnn.metrics", "raw predict_proba")


def _raw_predict_proba(method_caller, estimator, X):
    # _MultimetricScorer passes partial(_cached_call, cache); share its cache
    # (when there is one) so that several of our scorers predict once.
    cache = None
    if (isinstance(method_caller, partial) and method_caller.args
            and isinstance(method_caller.args[0], dict)):
        cache = method_caller.args[0]
    if cache is not None and _RAW_PROBA_KEY in cache:
        return cache[_RAW_PROBA_KEY]
    proba = estimator.predict_proba(X)
    if cache is not None:
        cache[_RAW_PROBA_KEY] = proba
    return proba


def _positive_columns(estimator, proba):
    """(n, L) scores from a list of per-label (n, n_classes_j) probabilities."""
    classes = getattr(estimator, "classes_", None)
    cols = []
    for j, p in enumerate(proba):
        p = np.asarray(p)
        cj = np.asarray(classes[j]) if classes is not None else np.arange(p.shape[1])
        where = np.flatnonzero(cj == 1)
        cols.append(p[:, where[0]] if where.size else np.zeros(p.shape[0]))
    return np.column_stack(cols)


class _YT8MScorer(_Scorer):
    """A ``make_scorer(..., response_method="predict_proba")`` scorer for y of any form.

    scikit-learn slices one column of ``predict_proba`` when
    ``type_of_target(estimator.classes_)`` is "binary" -- which is also the
    case of a multi-label classifier with exactly two labels (classes_ =
    [0, 1]) -- and the second label's scores would be lost. This scorer asks
    the estimator for the full ``predict_proba`` in that case and brings
    ``y`` and the scores to the ``(n_videos, n_classes)`` form:

    - 2-D (or sparse) y: used as is, with all predict_proba columns;
    - 1-D y, binary or multiclass: one-hot columns in ``classes_`` order (a
      binary target is a two-class target: with the positive class's
      column alone, Hit@1 and PERR would not depend on the model).
    """

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        self._warn_overlap(
            message=(
                "There is an overlap between set kwargs of this scorer instance and"
                " passed metadata. Please pass them either as kwargs to `make_scorer`"
                " or metadata, but not both."
            ),
            kwargs=kwargs,
        )
        y_2d, score = self._aligned(method_caller, estimator, X, y_true)
        return self._sign * self._score_func(y_2d, score, **{**self._kwargs, **kwargs})

    @staticmethod
    def _aligned(method_caller, estimator, X, y_true):
        classes = getattr(estimator, "classes_", None)
        if not sp.issparse(y_true):
            y_true = np.asarray(y_true)
        multi_column = y_true.ndim == 2 and y_true.shape[1] > 1
        binary_classes = False
        if classes is not None:
            try:
                binary_classes = type_of_target(classes) == "binary"
            except ValueError:
                binary_classes = False
        if binary_classes:
            # Both columns: a multi-label classifier with two labels, or a
            # binary one, scored like any two-class classifier (with the
            # positive column alone, the top-1 class would always be it).
            proba = _raw_predict_proba(method_caller, estimator, X)
        else:
            proba = method_caller(estimator, "predict_proba", X, pos_label=None)
        if isinstance(proba, list):
            proba = _positive_columns(estimator, proba)
        proba = np.asarray(proba)
        if not multi_column:
            y = y_true.toarray() if sp.issparse(y_true) else y_true
            y = y.ravel() if y.ndim == 2 else y
            if proba.ndim == 2 and proba.shape[1] == 1:
                proba = proba[:, 0]
            if proba.ndim == 1:
                # Binary: scikit-learn already picked the column of the
                # positive class, classes_[-1].
                pos = classes[-1] if classes is not None else 1
                return (y == pos).astype(np.int8)[:, None], proba[:, None]
            if classes is None:
                classes = np.arange(proba.shape[1])
            classes = np.asarray(classes)
            if proba.ndim == 2 and proba.shape[1] == classes.size:
                return (y[:, None] == classes[None, :]).astype(np.int8), proba
        return y_true, proba


def make_yt8m_scorer(score_func, *, greater_is_better=True, **kwargs):
    """Make a scorer from one of this module's metrics (or a compatible one).

    Like ``sklearn.metrics.make_scorer(score_func,
    response_method="predict_proba", **kwargs)`` -- the result works in
    ``cross_validate`` and ``GridSearchCV`` (multi-metric dicts,
    ``refit="name"``) -- but it always gives ``score_func`` the full
    ``(n_videos, n_classes)`` score matrix, also for a multi-label
    classifier with exactly two labels, where scikit-learn's own scorers
    would pass one column only. 1-D y (binary or multiclass) becomes
    one-hot columns in ``classes_`` order.

    Parameters
    ----------
    score_func : callable
        ``score_func(y_true, y_score, **kwargs)`` with 2-D inputs.
    greater_is_better : bool, default=True
        Whether a higher ``score_func`` is better.
    **kwargs
        Passed to ``score_func``, e.g. ``k=10``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``.

    Examples
    --------
    >>> from skqrnn.metrics import make_yt8m_scorer, global_average_precision
    >>> make_yt8m_scorer(global_average_precision, k=10)
    make_scorer(global_average_precision, response_method='predict_proba', k=10)
    """
    return _YT8MScorer(score_func, 1 if greater_is_better else -1, kwargs,
                       response_method="predict_proba")


gap_scorer = make_yt8m_scorer(global_average_precision, k=20)
hit_at_one_scorer = make_yt8m_scorer(hit_at_k, k=1)
perr_scorer = make_yt8m_scorer(precision_at_equal_recall_rate)
map_scorer = make_yt8m_scorer(mean_average_precision, k=20)

_SCORERS = {
    "gap": gap_scorer,
    "hit@1": hit_at_one_scorer,
    "hit_at_one": hit_at_one_scorer,
    "perr": perr_scorer,
    "map": map_scorer,
}
_AT_K = {"gap": global_average_precision, "hit": hit_at_k, "map": mean_average_precision}


def get_scorer(scoring):
    """Get a scorer by name; YouTube-8M names first, then scikit-learn's.

    Parameters
    ----------
    scoring : str or callable
        ``"gap"`` (GAP@20), ``"hit@1"`` / ``"hit_at_one"``, ``"perr"``,
        ``"map"`` (MAP with top 20), or ``"gap@K"``, ``"hit@K"``,
        ``"map@K"`` for another K; any other name or a callable is passed
        to :func:`sklearn.metrics.get_scorer`.

    Returns
    -------
    scorer : callable

    Examples
    --------
    >>> from skqrnn.metrics import get_scorer, gap_scorer
    >>> get_scorer("gap") is gap_scorer
    True
    >>> get_scorer("hit@5")
    make_scorer(hit_at_k, response_method='predict_proba', k=5)
    >>> get_scorer("accuracy")
    make_scorer(accuracy_score, response_method='predict')
    """
    if isinstance(scoring, str):
        name = scoring.strip().lower()
        if name in _SCORERS:
            return _SCORERS[name]
        m = re.fullmatch(r"(gap|hit|map)@(\d+)", name)
        if m:
            return make_yt8m_scorer(_AT_K[m.group(1)], k=_check_k(int(m.group(2))))
    return _sk_get_scorer(scoring)
