"""Benchmark: vectorized YouTube-8M metrics vs the per-video reference loop.

Data: ``n_videos x 3862`` float32 scores (negatives uniform in [0, 0.5),
positives in [0.3, 1), so the GAP is neither 0 nor 1) and y_true with 3 random positives per video, as a sparse
CSR matrix and as a dense int8 matrix. The baseline is the plain per-video
transcription of Google's eval_util.py in ``benchmarks/_reference_metrics.py``
(the oracle of tests/test_metrics.py). By default the loop runs on all the
videos (about 12 s for GAP, 28 s for all four on 100,000): timing it on a
subset and extrapolating linearly (``--ref-videos``) under-estimates it by
~30%, since its pooled Python sort is O(N log N). The vectorized result is
checked against the loop's on the videos the loop ran on. The vectorized
calls are timed best of ``--repeat`` (3), as ``timeit`` does: a process's
first call also pays for the allocator mapping fresh pages.

Peak memory is measured with tracemalloc (numpy reports its buffers to it)
around one more vectorized call, inputs excluded, and shown relative to the
float32 score matrix.

Run: ``python benchmarks/bench_metrics.py`` (about 2 min; ``--quick`` for a
20,000-video run).

Measured 2026-11-26 on the 2-core AMD EPYC VM (24 GiB, numpy 2.4.6, load
average ~1), 100,000 x 3862 (score matrix 1545 MB), four runs of the
current code between 12:35 and 12:47 UTC (the machine's speed drifts: the
loop's time varied by 20% between runs, the vectorized times as much; each
speed-up is loop / vectorized *within* one run):

========================  ===========  =========  ===========  ==============
what                      vector s     loop s     speed-up     peak / scores
========================  ===========  =========  ===========  ==============
GAP@20, sparse y_true     0.52 - 0.68  11.2-13.5  18x - 26x    0.02 (32 MB)
GAP@20, dense y_true      0.55 - 0.72  11.2-13.5  17x - 24x    0.02 (29 MB)
all four, sparse y_true   1.00 - 1.48  23.5-28.4  19x - 26x    0.16 (240 MB)
all four, dense y_true    1.25 - 1.36  23.5-28.4  19x - 23x    0.16 (240 MB)
========================  ===========  =========  ===========  ==============

GAP@20 sparse by run: 18x, 24x, 21x, 26x (the first run followed a
training job and its vectorized times were the slowest); the code before
this session's changes (efea95a) measured 14x - 17x the same way. Timed
against each other in one process (5 interleaved runs, best of each), the
current code takes 5.0 - 5.4 us per row with 2 threads where efea95a took
6.3 - 7.2 (20-25% less), one thread 10.4 vs 13.0.

Max |vectorized - loop|: 2e-8 (float32 scores tie in this data; the tie
rules differ).

How the top-k step spends its ~8.7 us per 3862-class row (one thread,
543-row chunks, 20,000 rows): strided group max 2.0 (the read of the score
matrix from memory), finiteness 1.0 (the block minimum plus the group
maxima: NaN propagates through both, +inf reaches a group maximum, -inf the
minimum; it was a cell-by-cell ``isfinite``, 2.2), in-place partition of
the 275 group maxima 0.8, the comparison with the (k+1)-th group maximum
into a reused per-thread mask 1.95 (with a fresh mask each chunk it took
4-5: page faults), ``flatnonzero`` 1.2, padding the ~21 cells per row
found into a small matrix, its argpartition and the tie check 1.4. The
previous design gathered the 280 cells of the 20 kept strided groups
(touching nearly every cache line of the row again) and partitioned them:
6.8 us (kept groups, candidate indices, gather, partition, selection) for
what now takes 4.6. The scores come back with the indices
(before, a second gather from the block). GAP then sorts the pooled
(n_videos x 20) scores in float32 when the input is float32 (half the
bytes of float64).

Tried without gain: narrower or wider groups (w = 7-14), 64-270-row chunks
(cache-resident, but more per-call overhead), a BLAS matrix-vector product
as the finiteness check (OpenBLAS serializes callers from several threads),
jax.lax.top_k (1.7 s), the group maximum into a preallocated output (1.99
vs 1.74 us per row), contiguous instead of strided groups (their maxima cost
7-15 us per row in numpy). The comparison with a per-row threshold costs
1.8x a comparison with one scalar (numpy's broadcast loop is not the
contiguous-scalar SIMD loop); a shared scalar threshold would flood rows
whose scores are all high. The >= 20x target is met for GAP in three of
four runs (18-26x) and for all four metrics in every run (19-26x); the
memory target (<= 2x the score matrix) is met by far (0.02-0.16x).

"all four" = one YT8MEvaluator.update() + result() (GAP@20, Hit@1, PERR,
MAP) vs the reference's calculate_gap + MAP + hit_at_one + PERR.

Measured again 2026-12-06 on an idle 2-core Intel Xeon VM with AVX-512
(load 0.6-1.8), three runs 19:43-19:56 UTC::

    what                      vector s     loop s      speed-up
    GAP@20, sparse y_true     0.42 - 0.44  6.2 - 6.7   15x - 16x
    GAP@20, dense y_true      0.44 - 0.49  6.2 - 6.7   13x - 15x
    all four, sparse y_true   0.67 - 0.77  13.2 - 14.2  19x - 20x
    all four, dense y_true    0.75 - 0.85  13.2 - 14.2  17x - 18x

The loop runs twice as fast as in November and the vectorized code only a
little faster, so GAP@20 is 15-16x here (target 20x: not met). Its top-k
step takes 6.7 us per row on one thread (543-row chunks): strided group
max 2.31, block minimum 0.94, partition of the group maxima 0.60,
comparison 1.13, flatnonzero 0.90 (about 14 ns per cell found plus
0.12 ns per cell scanned), row bookkeeping 0.11, padding 0.28,
argpartition 0.13, selection and tie check 0.30; the whole GAP takes
7.5 us per row on one thread, 4.3 on two. Tried here without enough gain:
chunks of 128 K - 8 M cells (2 M stays the fastest: 1.15 s at 128 K,
0.42-0.44 s at 2 M, 0.46 s at 8 M); the passes in sub-blocks of 32-128
rows so that they stay in the L2 cache (12 % less time on one thread,
none on two: the two threads share the memory bandwidth); the group maxima
over the scores read as uint32, which for non-negative scores also catches
NaN and infinities and spares the minimum pass (the candidate search 10 %
faster on two threads, about 17x for GAP at best, not added for that); a
flatnonzero over 64-bit words first (slower); a numba 0.68 kernel, one
pass per row with a running k-th best, parallel over rows (0.49 s for the
top-k alone on two threads, slower than all of GAP here).

The compiled top-k (``skqrnn/_top_k_kernel.h``, built by ``pip install``
where a C++ compiler is found; same prefilter, fused per row so that each
row is read from memory once and the later steps run in the L1 cache), same
machine, two runs 22:10-22:14 UTC, the numpy path timed in the same process::

    what                        vector s     loop s     speed-up
    GAP@20, sparse y_true       0.24         7.0 - 7.5  29x - 32x
    GAP@20, dense y_true        0.30 - 0.31  7.0 - 7.5  23x - 25x
    all four, sparse y_true     0.54 - 0.55  15.0-15.5  28x
    all four, dense y_true      0.65 - 0.68  15.0-15.5  23x
    GAP@20, sparse, numpy path  0.40         7.0        17x

The same kernel serves ``skqrnn.submission.top_k_predictions`` (the top 20
per video that ``skqrnn predict`` writes): 1.0 s for 100,000 x 3862 float32
scores where ``np.argpartition`` over every row took 29.5 s (23:29 UTC).

Its top-k step on two threads, 100,000 rows: 0.19 s (numpy path 0.42 s), of
which the group maxima and finiteness test (one read of the row) 0.11 s.
Its first version selected T among all 275 group maxima with
``std::nth_element``: 2.3 us per row of branch mispredictions, more than
the read of the row; selecting among the maxima at or above the pools'
lower bound (a few dozen) cut the step from 0.30 to 0.19 s. Peak memory is
unchanged (the kernel's scratch is a few KB per call).
"""

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _reference_metrics as ref  # noqa: E402

import skqrnn._selection as S  # noqa: E402
from skqrnn.metrics import YT8MEvaluator, global_average_precision  # noqa: E402
from skqrnn.submission import top_k_predictions  # noqa: E402


def make_data(n, c, seed=0):
    rng = np.random.default_rng(seed)
    # Negatives in [0, 0.5), positives in [0.3, 1): a GAP well inside (0, 1).
    scores = rng.random((n, c), dtype=np.float32)
    scores *= 0.5
    rows = np.repeat(np.arange(n), 3)
    # 3 distinct random classes per video: 3 of 64 class buckets, then a
    # random class inside each bucket.
    cols = np.argpartition(rng.random((n, 64)), 3, axis=1)[:, :3] * (c // 64)
    cols = (cols + rng.integers(0, c // 64, size=cols.shape)).ravel()
    y = sp.csr_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n, c))
    y.sum_duplicates()
    scores[rows, cols] = 0.3 + 1.4 * scores[rows, cols]
    return y, scores


def measure(f, repeat):
    """(value, best wall time of ``repeat`` runs, tracemalloc peak of one more).

    Best-of-n as ``timeit`` does: the first call of a process also pays for
    the allocator mapping fresh pages, which is not the metric's cost.
    """
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    value = f()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return value, min(times), peak


def all_four_vectorized(y, s):
    ev = YT8MEvaluator(top_k=20)
    ev.update(y, s)
    return ev.result()


def all_four_reference(y, s):
    return {"gap": ref.gap(s, y, 20), "hit_at_one": ref.hit_at_one(s, y),
            "perr": ref.perr(s, y), "map": ref.mean_ap(s, y, 20)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-videos", type=int, default=100_000)
    p.add_argument("--n-classes", type=int, default=3862)
    p.add_argument("--ref-videos", type=int, default=None,
                   help="time the loop on this many videos and extrapolate "
                        "linearly (default: all of them, no extrapolation)")
    p.add_argument("--repeat", type=int, default=3,
                   help="vectorized runs per row of the table (best one counts)")
    p.add_argument("--quick", action="store_true", help="20,000 videos instead of 100,000")
    a = p.parse_args(argv)
    if a.quick:
        a.n_videos = 20_000
    n, c = a.n_videos, a.n_classes
    m = min(a.ref_videos or n, n)
    scale = n / m

    y_sparse, s = make_data(n, c)
    y_dense = y_sparse.toarray()
    mb = s.nbytes / 1e6
    print(f"{n} videos x {c} classes; score matrix {mb:.0f} MB float32; "
          f"{y_sparse.nnz / n:.2f} positives per video")

    # Baseline on all videos (or a subset, extrapolated linearly).
    y_sub, s_sub = y_dense[:m], s[:m]
    t0 = time.perf_counter()
    ref_gap = ref.gap(s_sub, y_sub, 20)
    t_ref_gap = (time.perf_counter() - t0) * scale
    t0 = time.perf_counter()
    ref_all = all_four_reference(y_sub, s_sub)
    t_ref_all = (time.perf_counter() - t0) * scale
    ours_sub = all_four_vectorized(y_sparse[:m], s_sub)
    worst = max(abs(ours_sub[k] - ref_all[k]) for k in ref_all)
    assert abs(ours_sub["gap"] - ref_gap) < 1e-5
    extrapolated = f", extrapolated x{scale:g}" if m < n else ""
    print(f"reference loop timed on {m} videos{extrapolated}; "
          f"max |vectorized - reference| there: {worst:.1e}")

    rows = []
    for label, y in (("sparse", y_sparse), ("dense", y_dense)):
        _, t, peak = measure(lambda: global_average_precision(y, s, k=20), a.repeat)
        rows.append((f"GAP@20, {label} y_true", t, t_ref_gap, peak))
    for label, y in (("sparse", y_sparse), ("dense", y_dense)):
        res, t, peak = measure(lambda: all_four_vectorized(y, s), a.repeat)
        rows.append((f"all four, {label} y_true", t, t_ref_all, peak))
    # The numpy path, which serves where skqrnn._top_k was not built.
    compiled, S._compiled_top_k = S._compiled_top_k, None
    try:
        _, t, peak = measure(lambda: global_average_precision(y_sparse, s, k=20), a.repeat)
        rows.append(("GAP@20, sparse, numpy path", t, t_ref_gap, peak))
    finally:
        S._compiled_top_k = compiled
    if compiled is None:
        print("skqrnn._top_k is not built: every row ran the numpy path")

    # A submission's top 20 per video (skqrnn predict): the compiled kernel
    # against numpy alone (np.argpartition over each row), one thread each.
    t_sub = {}
    for label, kernel in (("compiled", S._compiled_top_k), ("numpy", None)):
        saved, S._compiled_top_k = S._compiled_top_k, kernel
        try:
            start = time.perf_counter()
            top_k_predictions(s, 20)
            t_sub[label] = time.perf_counter() - start
        finally:
            S._compiled_top_k = saved
    print(f"top_k_predictions(scores, 20): {t_sub['compiled']:.2f} s, numpy alone "
          f"{t_sub['numpy']:.1f} s ({t_sub['numpy'] / t_sub['compiled']:.0f}x)")
    print(f"{'what':<28}{'vector s':>8}{'loop s':>18}{'speed-up':>10}"
          f"{'peak / scores':>22}")
    for what, t, t_ref, peak in rows:
        print(f"{what:<28}{t:>8.2f}{t_ref:>18.1f}{t_ref / t:>9.0f}x"
              f"{peak / s.nbytes:>12.2f} ({peak / 1e6:.0f} MB)")
    print("metrics (all four):", {k: round(v, 4) for k, v in res.items()})


if __name__ == "__main__":
    main()
