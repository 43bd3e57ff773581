// Each row's k largest cells in one read of the row from memory.
//
// The same prefilter as skqrnn.metrics._top_k's numpy path, fused per row so
// that the row is read from memory once and the later steps find it in the
// L1 cache (the numpy path makes five passes over each chunk):
//
// 1. the columns are dealt into ng = c / w strided groups (group g: columns
//    g, g + ng, ..., g + (w - 1) ng); their maxima and, in the same loop, a
//    finiteness test: v - v is 0 for a finite v and NaN for NaN or +-inf;
// 2. T, the (k+1)-th largest group maximum: every cell outside the k groups
//    whose maxima exceed T is <= T, while those k maxima exceed it, so the
//    row's top k are the k largest of its cells above T. T is selected among
//    the group maxima >= L, the least of the maxima of k + 1 disjoint pools
//    of groups (each pool holds a value >= L, so T >= L): a few dozen values
//    instead of ng, which matters because selection is branchy;
// 3. the cells above T (in those k groups and the columns left over after
//    the groups), usually k or a few more, and their k-th largest value.
//
// Rows where this is not exact are flagged for the caller's exact path: a
// tie at the k-th largest score (the tie rule needs the labels) or fewer
// than k cells above T (group maxima tied at T).
//
// No -ffast-math: the finiteness test relies on IEEE NaN arithmetic.
#ifndef SKQRNN_TOP_K_KERNEL_H
#define SKQRNN_TOP_K_KERNEL_H

#if defined(__FAST_MATH__) || defined(__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__
#error "skqrnn's top-k kernel needs IEEE NaN semantics: build without -ffast-math"
#endif

#include <stddef.h>
#include <stdlib.h>

#include <algorithm>

// block: r x c, C order; k < c; w >= 2 with c / w >= k + 1.
// Writes each row's k best (column, score) pairs, in no order, to idx and
// top (r x k), and redo[row] = 1 for rows left to the exact path (their
// idx and top rows are not written). Returns -1, the flat index of the
// first NaN or +-inf cell in row order (rows before it are written), or -2
// when scratch memory cannot be allocated.
// T: float or double; I: the caller's index type (Py_ssize_t).
template <typename T, typename I>
static ptrdiff_t skqrnn_top_k_rows(const T *block, ptrdiff_t r, ptrdiff_t c, ptrdiff_t k,
                                   ptrdiff_t w, I *idx, T *top, unsigned char *redo) {
    const ptrdiff_t ng = c / w, body = ng * w;
    // Cells above T: at most k groups of w and the left-over columns.
    const ptrdiff_t cap = k * w + (c - body);
    T *buf = (T *)malloc((3 * ng + 2 * cap) * sizeof(T) + cap * sizeof(ptrdiff_t));
    if (buf == NULL) return -2;
    T *__restrict gmax = buf;
    T *__restrict nan_sum = buf + ng;
    T *__restrict scratch = buf + 2 * ng;
    T *__restrict cand = scratch + ng;
    T *__restrict work = cand + cap;
    ptrdiff_t *__restrict cand_col = (ptrdiff_t *)(work + cap);

    for (ptrdiff_t row = 0; row < r; ++row) {
        const T *__restrict x = block + row * c;
        redo[row] = 0;

        // 1. Group maxima and finiteness; both loops vectorize.
        for (ptrdiff_t g = 0; g < ng; ++g) {
            gmax[g] = x[g];
            nan_sum[g] = x[g] - x[g];
        }
        for (ptrdiff_t i = 1; i < w; ++i) {
            const T *__restrict slice = x + i * ng;
            for (ptrdiff_t g = 0; g < ng; ++g) {
                const T v = slice[g], m = gmax[g];
                gmax[g] = v > m ? v : m;
                nan_sum[g] += v - v;
            }
        }
        T bad = 0;
        for (ptrdiff_t j = body; j < c; ++j) bad += x[j] - x[j];
        for (ptrdiff_t g = 0; g < ng; ++g) bad += nan_sum[g];
        if (bad != 0) {  // NaN: some cell is NaN or +-inf
            for (ptrdiff_t j = 0; j < c; ++j) {
                if (!(x[j] - x[j] == 0)) {
                    free(buf);
                    return row * c + j;
                }
            }
        }

        // 2. T among the group maxima >= L (branch-free compaction).
        const ptrdiff_t n_pools = k + 1, per_pool = ng / n_pools;
        T *__restrict pool = work;
        for (ptrdiff_t j = 0; j < n_pools; ++j) pool[j] = gmax[j];
        for (ptrdiff_t i = 1; i < per_pool; ++i) {
            const T *__restrict q = gmax + i * n_pools;
            for (ptrdiff_t j = 0; j < n_pools; ++j) {
                const T v = q[j];
                pool[j] = v > pool[j] ? v : pool[j];
            }
        }
        T low = pool[0];
        for (ptrdiff_t j = 1; j < n_pools; ++j) low = pool[j] < low ? pool[j] : low;
        ptrdiff_t n_high = 0;
        for (ptrdiff_t g = 0; g < ng; ++g) {
            scratch[n_high] = gmax[g];
            n_high += gmax[g] >= low;
        }
        const ptrdiff_t at = n_high - k - 1;  // >= 0: n_high >= k + 1
        std::nth_element(scratch, scratch + at, scratch + n_high);
        const T t = scratch[at];

        // 3. The cells above T, then their k-th largest value.
        ptrdiff_t m = 0;
        for (ptrdiff_t g = 0; g < ng; ++g) {
            if (gmax[g] > t) {
                for (ptrdiff_t i = 0; i < w; ++i) {
                    const T v = x[i * ng + g];
                    cand[m] = v;
                    cand_col[m] = i * ng + g;
                    m += v > t;
                }
            }
        }
        for (ptrdiff_t j = body; j < c; ++j) {
            cand[m] = x[j];
            cand_col[m] = j;
            m += x[j] > t;
        }
        if (m < k) {
            redo[row] = 1;
            continue;
        }
        T kth;
        if (m > k) {
            std::copy(cand, cand + m, work);
            std::nth_element(work, work + (m - k), work + m);
            kth = work[m - k];
        } else {
            kth = *std::min_element(cand, cand + m);
        }
        // Cells below kth are not kept; those at or above it are exactly k
        // unless kth is tied (candidates hold every cell above T < kth).
        ptrdiff_t kept = 0;
        I *out_col = idx + row * k;
        T *out_val = top + row * k;
        for (ptrdiff_t j = 0; j < m; ++j) {
            if (cand[j] >= kth) {
                if (kept < k) {
                    out_col[kept] = (I)cand_col[j];
                    out_val[kept] = cand[j];
                }
                ++kept;
            }
        }
        redo[row] = kept > k;
    }
    free(buf);
    return -1;
}

#endif  // SKQRNN_TOP_K_KERNEL_H
