# cython: language_level=3, boundscheck=False, wraparound=False
# distutils: language = c++
"""Compiled top-k of score rows for :mod:`skqrnn.metrics`.

A thin wrapper around ``_top_k_kernel.h``, which says how it works. Built
when ``pip install`` finds a C++ compiler; without it the metrics use
their numpy path, which gives the same results.
"""

ctypedef fused real:
    float
    double


cdef extern from "_top_k_kernel.h" nogil:
    Py_ssize_t skqrnn_top_k_rows[T, I](const T *block, Py_ssize_t r, Py_ssize_t c,
                                       Py_ssize_t k, Py_ssize_t w, I *idx, T *top,
                                       unsigned char *redo)


def top_k_rows(const real[:, ::1] block, Py_ssize_t k, Py_ssize_t w,
               Py_ssize_t[:, ::1] idx, real[:, ::1] top, unsigned char[::1] redo):
    """Each row's k best cells into ``idx``/``top`` (rows flagged in ``redo`` excepted).

    ``block`` is C-ordered float32 or float64 with ``k < n_columns`` and
    ``n_columns // w >= k + 1``; ``idx``, ``top`` (same dtype) and ``redo``
    have ``block``'s rows. Returns -1, or the flat index of the first NaN or
    infinite cell in row order. Releases the GIL.
    """
    cdef Py_ssize_t r = block.shape[0], c = block.shape[1], out
    if not (2 <= w and 1 <= k < c and c // w >= k + 1):
        raise ValueError(f"top_k_rows needs 2 <= w, 1 <= k < c, c // w > k; got k={k}, w={w}, c={c}")
    if idx.shape[0] != r or top.shape[0] != r or redo.shape[0] != r \
            or idx.shape[1] != k or top.shape[1] != k:
        raise ValueError("idx and top must be (n_rows, k), redo (n_rows,)")
    if r == 0:
        return -1
    with nogil:
        out = skqrnn_top_k_rows(&block[0, 0], r, c, k, w, &idx[0, 0], &top[0, 0], &redo[0])
    if out == -2:
        raise MemoryError("top_k_rows: no memory for the per-row scratch buffers")
    return out
