import doctest
import sys
import tracemalloc
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.metrics import average_precision_score, check_scoring, make_scorer
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neural_network import MLPClassifier

import skqrnn._selection as selection
import skqrnn.metrics as M
from skqrnn.metrics import (
    YT8MEvaluator,
    gap_scorer,
    get_scorer,
    global_average_precision,
    hit_at_k,
    hit_at_one_scorer,
    map_scorer,
    mean_average_precision,
    perr_scorer,
    precision_at_equal_recall_rate,
)

# The per-video reference (a transcription of Google's eval_util.py) lives
# with the benchmark that times it; one copy serves both.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import _reference_metrics as ref  # noqa: E402


def _data(n, c, *, p=0.15, seed=0, empty_rows=True, offset=-0.3):
    """Random 0/1 labels and tie-free scores (a permutation of distinct values)."""
    rng = np.random.default_rng(seed)
    y = (rng.random((n, c)) < p).astype(np.int64)
    if empty_rows and n > 2:
        y[rng.choice(n, size=max(1, n // 5), replace=False)] = 0
    s = (rng.permutation(n * c).reshape(n, c) / (n * c) + offset).astype(np.float64)
    return y, s


SHAPES = [(1, 1), (1, 4), (6, 1), (9, 2), (15, 5), (40, 30), (25, 120), (200, 7)]
KS = [1, 3, 20, 500]


def _reference_all(y, s, k):
    return {
        "gap": ref.gap(s, y, k),
        "map": ref.mean_ap(s, y, k),
        "hit1": ref.hit_at_one(s, y),
        "hitk": ref.hit_at_k(s, y, k),
        "perr": ref.perr(s, y),
    }


def _ours_all(y, s, k):
    return {
        "gap": global_average_precision(y, s, k=k),
        "map": mean_average_precision(y, s, k=k),
        "hit1": hit_at_k(y, s),
        "hitk": hit_at_k(y, s, k=k),
        "perr": precision_at_equal_recall_rate(y, s),
    }


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("k", KS)
def test_matches_per_video_reference_dense(shape, k):
    for seed in range(3):
        y, s = _data(*shape, seed=seed)
        expected = _reference_all(y, s, k)
        got = _ours_all(y, s, k)
        for name in expected:
            assert got[name] == pytest.approx(expected[name], rel=1e-12, abs=1e-15), name


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "lil", "csr_array"])
@pytest.mark.parametrize("shape", [(9, 2), (40, 30), (25, 120)])
def test_matches_reference_with_sparse_y_true(fmt, shape):
    y, s = _data(*shape, seed=3)
    ys = sp.csr_array(y) if fmt == "csr_array" else sp.csr_matrix(y).asformat(fmt)
    for k in (1, 5, 20):
        expected = _reference_all(y, s, k)
        got = _ours_all(ys, s, k)
        for name in expected:
            assert got[name] == pytest.approx(expected[name], rel=1e-12, abs=1e-15), name


def test_sparse_non_canonical_y_true_is_read_right_and_left_unchanged():
    y, s = _data(30, 12, seed=4)
    # Per row: the positive columns in reverse order (unsorted indices) plus
    # an explicit zero entry -- still the same labels.
    indices, data, indptr = [], [], [0]
    for row in y:
        cols = np.flatnonzero(row)[::-1]
        zero_col = np.flatnonzero(row == 0)[:1]
        indices += [*cols, *zero_col]
        data += [1.0] * cols.size + [0.0] * zero_col.size
        indptr.append(len(indices))
    csr = sp.csr_matrix((np.array(data), np.array(indices), np.array(indptr)), shape=y.shape)
    assert not csr.has_sorted_indices
    coo = csr.tocoo()
    before = (csr.indices.copy(), csr.data.copy())
    assert global_average_precision(csr, s) == pytest.approx(ref.gap(s, y, 20), rel=1e-12)
    assert global_average_precision(coo, s) == pytest.approx(ref.gap(s, y, 20), rel=1e-12)
    np.testing.assert_array_equal(csr.indices, before[0])
    np.testing.assert_array_equal(csr.data, before[1])


def test_float32_and_bool_inputs_and_class_order_invariance():
    y, s = _data(50, 40, seed=5, offset=0.0)
    s32 = s.astype(np.float32)
    assert len(np.unique(s32)) == s32.size  # still tie-free
    assert global_average_precision(y.astype(bool), s32) == pytest.approx(
        ref.gap(s32, y, 20), rel=1e-12)
    perm = np.random.default_rng(0).permutation(40)
    assert mean_average_precision(y[:, perm], s[:, perm]) == pytest.approx(
        mean_average_precision(y, s), rel=1e-12)


def test_no_positive_at_all_gives_zero():
    _, s = _data(10, 6, seed=6)
    y = np.zeros((10, 6), dtype=int)
    assert global_average_precision(y, s) == 0.0
    assert mean_average_precision(y, s) == 0.0
    assert hit_at_k(y, s) == 0.0
    assert precision_at_equal_recall_rate(y, s) == 0.0
    assert global_average_precision(sp.csr_matrix(y), s) == 0.0


def test_known_values():
    y = np.array([[1, 0, 0], [0, 1, 1]])
    s = np.array([[0.9, 0.5, 0.1], [0.8, 0.7, 0.2]])
    # Pooled top-2: 0.9(+) 0.8(-) 0.7(+) 0.5(-); 3 positives, one never ranked.
    assert global_average_precision(y, s, k=2) == pytest.approx((1 / 1 + 2 / 3) / 3)
    assert global_average_precision(y, s, k=3) == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)
    # PERR counts only positive scores.
    assert precision_at_equal_recall_rate(y, s - 0.75) == pytest.approx((1 + 0) / 2)


def test_ties_are_pessimistic_and_deterministic():
    y = np.array([[1, 0], [0, 1]])
    s = np.full((2, 2), 0.5)
    # Each video's top 1 is a tied negative; in the pooled list negatives first.
    assert hit_at_k(y, s) == 0.0
    assert global_average_precision(y, s, k=1) == 0.0
    assert global_average_precision(y, s, k=2) == pytest.approx((1 / 3 + 2 / 4) / 2)
    assert precision_at_equal_recall_rate(y, s) == 0.0
    # Boundary tie within a larger row, dense and sparse, any column order.
    rng = np.random.default_rng(0)
    y = (rng.random((30, 25)) < 0.3).astype(int)
    s = np.round(rng.random((30, 25)), 1)  # heavy ties
    base = {name: f(y, s) for name, f in [("gap", global_average_precision),
                                           ("map", mean_average_precision),
                                           ("hit", hit_at_k),
                                           ("perr", precision_at_equal_recall_rate)]}
    for _ in range(3):
        perm = rng.permutation(25)
        for yy in (y[:, perm], sp.csr_matrix(y[:, perm])):
            # Which of several tied same-label classes a video keeps changes
            # MAP only (column order decides), never GAP, Hit or PERR.
            assert global_average_precision(yy, s[:, perm]) == pytest.approx(base["gap"])
            assert hit_at_k(yy, s[:, perm]) == pytest.approx(base["hit"])
            assert precision_at_equal_recall_rate(yy, s[:, perm]) == pytest.approx(base["perr"])
        rows = rng.permutation(30)
        for yy in (y[rows], sp.csr_matrix(y[rows])):
            assert global_average_precision(yy, s[rows]) == pytest.approx(base["gap"])
            assert mean_average_precision(yy, s[rows]) == pytest.approx(base["map"])
            assert hit_at_k(yy, s[rows]) == pytest.approx(base["hit"])
            assert precision_at_equal_recall_rate(yy, s[rows]) == pytest.approx(base["perr"])
    # Pessimistic: never above the value any tie order could give, e.g. the
    # optimistic order (positives first), got by nudging positives up.
    assert base["gap"] <= global_average_precision(y, s + 1e-6 * y)
    assert base["gap"] >= global_average_precision(y, s - 1e-6 * y) - 1e-12


def test_chunked_scan_equals_single_chunk(monkeypatch):
    y, s = _data(97, 13, seed=7)
    full = _ours_all(y, s, 5)
    monkeypatch.setattr(M, "_CHUNK_CELLS", 13 * 4)  # 4 rows per chunk
    assert _ours_all(y, s, 5) == pytest.approx(full, rel=1e-12)
    assert _ours_all(sp.csr_matrix(y), s, 5) == pytest.approx(full, rel=1e-12)


def test_threaded_chunks_equal_one_thread_and_report_first_bad_cell(monkeypatch, top_k_path):
    y, s = _data(97, 13, seed=3)
    monkeypatch.setattr(M, "_CHUNK_CELLS", 13 * 4)
    monkeypatch.setattr(M, "_n_threads", lambda n_chunks: 1)
    one = _ours_all(sp.csr_matrix(y), s, 5)
    monkeypatch.setattr(M, "_n_threads", lambda n_chunks: min(3, n_chunks))
    assert _ours_all(sp.csr_matrix(y), s, 5) == pytest.approx(one, rel=1e-12)
    assert _ours_all(y, s, 5) == pytest.approx(one, rel=1e-12)
    # Two bad chunks: the error names the first bad cell in row order, as a
    # sequential pass would, whichever thread finishes first.
    bad = s.copy()
    bad[90, 1] = np.nan
    bad[41, 7] = np.inf
    for _ in range(3):
        with pytest.raises(ValueError, match=r"y_score\[41, 7\]"):
            global_average_precision(y, bad)


@pytest.mark.parametrize("dtype", [bool, np.int8, np.uint8, np.int64, np.float32])
def test_dense_y_true_of_any_dtype_gives_the_same_metrics(dtype):
    y, s = _data(40, 9, seed=5)
    expected = _ours_all(y.astype(bool), s, 5)
    assert _ours_all(y.astype(dtype), s, 5) == pytest.approx(expected, rel=1e-12)
    if dtype is not bool:
        bad = y.astype(dtype)
        bad[6, 4] = 2
        with pytest.raises(ValueError, match=r"binary 0/1.*y_true\[6, 4\]"):
            global_average_precision(bad, s)
    if np.issubdtype(dtype, np.signedinteger) or dtype is np.float32:
        bad = y.astype(dtype)
        bad[3, 2] = -1  # seen as unsigned this is the largest value, still rejected
        with pytest.raises(ValueError, match=r"binary 0/1.*y_true\[3, 2\]"):
            mean_average_precision(bad, s)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("col", [0, 150, 297, 299])  # 296-299: left over from the groups
def test_non_finite_scores_are_found_anywhere_on_the_grouped_path(value, col):
    # 300 classes, k=5: the group-maximum prefilter (groups of 8 columns,
    # 4 columns left over), whose finiteness test reads group maxima and
    # the block minimum instead of every cell.
    y, s = _data(60, 300, seed=11)
    bad = s.copy()
    bad[37, col] = value
    for f in (partial(global_average_precision, k=5), partial(hit_at_k, k=5),
              partial(mean_average_precision, k=5)):
        with pytest.raises(ValueError, match=rf"finite.*y_score\[37, {col}\]"):
            f(sp.csr_matrix(y), bad)
    # A finite score as large as float32 allows is fine.
    ok = s.astype(np.float32)
    ok[37, col] = np.finfo(np.float32).max if value != -np.inf else np.finfo(np.float32).min
    assert 0.0 <= global_average_precision(y, ok, k=5) <= 1.0


@pytest.mark.parametrize("k", [0, -1, 1.5, "3", True, None])
def test_bad_k(k):
    y, s = _data(4, 3)
    for f in (global_average_precision, mean_average_precision, hit_at_k):
        with pytest.raises(ValueError, match="k must be a positive integer"):
            f(y, s, k=k)


def test_bad_inputs_raise_clear_errors():
    y, s = _data(4, 3)
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 2\)"):
        global_average_precision(y, s[:, :2])
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(5, 3\)"):
        global_average_precision(sp.csr_matrix(y), np.vstack([s, s[:1]]))
    bad = y.copy()
    bad[2, 1] = 2
    with pytest.raises(ValueError, match=r"binary 0/1.*y_true\[2, 1\]"):
        global_average_precision(bad, s)
    with pytest.raises(ValueError, match="binary 0/1"):
        global_average_precision(sp.csr_matrix(bad), s)
    with pytest.raises(ValueError, match="binary 0/1"):
        hit_at_k(np.where(y == 1, 0.5, 0.0), s)
    for value in (np.nan, np.inf, -np.inf):
        bad_s = s.copy()
        bad_s[3, 2] = value
        with pytest.raises(ValueError, match=r"finite.*y_score\[3, 2\]"):
            precision_at_equal_recall_rate(y, bad_s)
    with pytest.raises(ValueError, match=r"2-D of shape \(n_videos, n_classes\).*\(4,\)"):
        global_average_precision(y[:, 0], s[:, 0])
    with pytest.raises(ValueError, match=r"2-D of shape \(n_videos, n_classes\)"):
        global_average_precision(y, s[None])
    # What sklearn's own make_scorer hands over for a 2-label classifier.
    with pytest.raises(ValueError, match=r"\(4,\).*\(4, 2\).*make_scorer"):
        global_average_precision(y[:, :2], s[:, 1])
    with pytest.raises(ValueError, match="at least one video"):
        global_average_precision(np.zeros((0, 3)), np.zeros((0, 3)))
    with pytest.raises(ValueError, match="dense"):
        global_average_precision(y, sp.csr_matrix(s))
    with pytest.raises(ValueError, match="real-valued"):
        global_average_precision(y, s.astype(str))


# ---------------------------------------------------------------- streaming


def test_evaluator_uneven_batches_equal_one_batch():
    y, s = _data(157, 31, seed=8)
    expected = {
        "gap": global_average_precision(y, s, k=7),
        "hit_at_one": hit_at_k(y, s, k=1),
        "perr": precision_at_equal_recall_rate(y, s),
        "map": mean_average_precision(y, s, k=7),
        "n_videos": 157,
    }
    assert expected["gap"] == pytest.approx(ref.gap(s, y, 7), rel=1e-12)
    ev = YT8MEvaluator(top_k=7)
    bounds = [0, 1, 2, 40, 41, 100, 157]
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        yb = sp.csr_matrix(y[a:b]) if i % 2 else y[a:b]  # mixed dense / sparse
        ev.update(yb, s[a:b])
    assert ev.result() == pytest.approx(expected, rel=1e-12)
    ev.reset()
    ev.update(y, s)
    assert ev.result() == pytest.approx(expected, rel=1e-12)
    # Memory: only the top-k triples per video are kept.
    assert sum(a.size for a in ev._scores) == 157 * 7


def test_evaluator_errors_leave_state_unchanged():
    y, s = _data(20, 6, seed=9)
    ev = YT8MEvaluator(n_classes=6, top_k=3)
    with pytest.raises(ValueError, match="no videos"):
        ev.result()
    ev.update(y[:10], s[:10])
    before = ev.result()
    with pytest.raises(ValueError, match="n_classes=6"):
        ev.update(y[:, :5], s[:, :5])
    bad = s[10:].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        ev.update(y[10:], bad)
    assert ev.result() == before
    with pytest.raises(ValueError, match="top_k"):
        YT8MEvaluator(top_k=0)
    ev2 = YT8MEvaluator()  # n_classes from the first batch
    ev2.update(y, s)
    with pytest.raises(ValueError, match="n_classes=6"):
        ev2.update(y[:, :4], s[:, :4])
    ev2.reset()
    ev2.update(y[:, :4], s[:, :4])  # reset forgets the inferred width
    assert ev2.result()["n_videos"] == 20


def test_sparse_y_true_memory_stays_small():
    # A scaled-down 100,000 x 3862 case: the extra memory of the metric is a
    # small fraction of the score matrix, and y_true is never densified.
    n, c = 6000, 3862
    rng = np.random.default_rng(10)
    s = rng.random((n, c), dtype=np.float32)
    rows = np.repeat(np.arange(n), 3)
    cols = rng.integers(0, c, size=3 * n)
    y = sp.csr_matrix((np.ones(3 * n), (rows, cols)), shape=(n, c))
    y.data[:] = 1
    tracemalloc.start()
    try:
        gap = global_average_precision(y, s)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 0.0 < gap < 1.0
    assert peak < 0.5 * s.nbytes, (peak, s.nbytes)


# ---------------------------------------------------------------- scorers


def _mlp():
    return MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0)


@pytest.fixture
def no_convergence_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.mark.parametrize("n_labels", [2, 5])
@pytest.mark.usefixtures("no_convergence_warnings")
def test_scorers_equal_metrics_on_predict_proba(n_labels):
    X, y = make_multilabel_classification(n_samples=120, n_features=8, n_classes=n_labels,
                                          random_state=0)
    est = _mlp().fit(X, y)
    proba = est.predict_proba(X)
    assert proba.shape == (120, n_labels)
    if n_labels == 2:
        # The case scikit-learn's own make_scorer gets wrong: one column only.
        assert list(est.classes_) == [0, 1]
        plain = make_scorer(global_average_precision, response_method="predict_proba")
        with pytest.raises(ValueError, match="make_scorer"):
            plain(est, X, y)
    for scorer, f in [(gap_scorer, global_average_precision), (map_scorer, mean_average_precision),
                      (hit_at_one_scorer, hit_at_k),
                      (perr_scorer, precision_at_equal_recall_rate)]:
        assert scorer(est, X, y) == pytest.approx(f(y, proba), rel=1e-12)
    assert gap_scorer(est, X, sp.csr_matrix(y)) == pytest.approx(
        global_average_precision(y, proba), rel=1e-12)


@pytest.mark.parametrize("n_labels", [2, 5])
@pytest.mark.usefixtures("no_convergence_warnings")
def test_grid_search_single_and_multi_metric(n_labels):
    X, y = make_multilabel_classification(n_samples=90, n_features=6, n_classes=n_labels,
                                          random_state=1)
    grid = {"alpha": [1e-4, 1.0]}
    gs = GridSearchCV(_mlp(), grid, scoring=gap_scorer, cv=3).fit(X, y)
    assert np.all((gs.cv_results_["mean_test_score"] > 0)
                  & (gs.cv_results_["mean_test_score"] <= 1))
    gs2 = GridSearchCV(_mlp(), grid, cv=3, refit="gap",
                       scoring={"gap": gap_scorer, "hit@1": hit_at_one_scorer,
                                "perr": get_scorer("perr")}).fit(X, y)
    np.testing.assert_allclose(gs2.cv_results_["mean_test_gap"],
                               gs.cv_results_["mean_test_score"], rtol=1e-12)
    assert gs2.best_index_ == int(np.argmax(gs2.cv_results_["mean_test_gap"]))
    assert gs2.score(X, y) == pytest.approx(
        global_average_precision(y, gs2.best_estimator_.predict_proba(X)), rel=1e-12)


class _CountingMLP(MLPClassifier):
    calls = 0

    def predict_proba(self, X):
        type(self).calls += 1
        return super().predict_proba(X)


@pytest.mark.usefixtures("no_convergence_warnings")
def test_multi_metric_predicts_once_for_two_labels():
    X, y = make_multilabel_classification(n_samples=60, n_features=5, n_classes=2,
                                          random_state=2)
    est = _CountingMLP(hidden_layer_sizes=(4,), max_iter=50, random_state=0).fit(X, y)
    multi = check_scoring(est, scoring={"gap": gap_scorer, "hit@1": hit_at_one_scorer,
                                        "map": map_scorer})
    _CountingMLP.calls = 0
    scores = multi(est, X, y)
    assert _CountingMLP.calls == 1
    proba = est.predict_proba(X)
    assert scores["map"] == pytest.approx(mean_average_precision(y, proba), rel=1e-12)


@pytest.mark.usefixtures("no_convergence_warnings")
def test_scorer_binary_and_multiclass_1d_y():
    X, y = make_classification(n_samples=150, n_features=6, random_state=0)
    est = _mlp().fit(X, y)
    proba = est.predict_proba(X)
    # A binary target is a two-class one: one-hot columns in classes_ order.
    # (With the positive column alone, Hit@1 and PERR were the share of
    # positives whatever the model.)
    onehot = np.column_stack([y == 0, y == 1]).astype(int)
    assert gap_scorer(est, X, y) == pytest.approx(global_average_precision(onehot, proba),
                                                  rel=1e-12)
    assert hit_at_one_scorer(est, X, y) == pytest.approx(est.score(X, y))
    assert perr_scorer(est, X, y) == pytest.approx(est.score(X, y))
    assert map_scorer(est, X, y) == pytest.approx(np.mean(
        [average_precision_score(y == c, proba[:, c]) for c in (0, 1)]), rel=1e-12)
    labels = np.where(y == 1, "yes", "no")
    est_str = _mlp().fit(X, labels)
    assert hit_at_one_scorer(est_str, X, labels) == pytest.approx(est_str.score(X, labels))
    assert gap_scorer(est_str, X, labels) == pytest.approx(
        global_average_precision(onehot, est_str.predict_proba(X)), rel=1e-12)
    Xm, ym = make_classification(n_samples=150, n_features=8, n_informative=5, n_classes=4,
                                 random_state=0)
    estm = _mlp().fit(Xm, ym)
    onehot = (ym[:, None] == estm.classes_[None, :]).astype(int)
    assert gap_scorer(estm, Xm, ym) == pytest.approx(
        global_average_precision(onehot, estm.predict_proba(Xm)), rel=1e-12)
    assert hit_at_one_scorer(estm, Xm, ym) == pytest.approx(estm.score(Xm, ym))
    assert np.all(cross_val_score(_mlp(), Xm, ym, cv=3, scoring=get_scorer("gap")) > 0.3)


def test_get_scorer_names():
    assert get_scorer("gap") is gap_scorer
    assert get_scorer("GAP@20")._kwargs == {"k": 20}
    assert get_scorer("hit@1") is hit_at_one_scorer
    assert get_scorer("hit_at_one") is hit_at_one_scorer
    assert get_scorer("perr") is perr_scorer
    assert get_scorer("map") is map_scorer
    assert get_scorer("map@5")._kwargs == {"k": 5}
    assert get_scorer("hit@3")._score_func is hit_at_k
    assert "accuracy_score" in repr(get_scorer("accuracy"))
    with pytest.raises(ValueError):
        get_scorer("no_such_metric")
    with pytest.raises(ValueError, match="positive integer"):
        get_scorer("gap@0")


def test_docstring_examples_run():
    failures, tried = doctest.testmod(M, optionflags=doctest.ELLIPSIS)
    assert tried >= 8 and failures == 0


@pytest.mark.parametrize("k", [1, 3, 10])
def test_group_prefilter_equals_full_partition_with_and_without_ties(monkeypatch, k,
                                                                     top_k_path):
    rng = np.random.default_rng(11)
    y = (rng.random((300, 400)) < 0.02).astype(int)
    tie_free = rng.permutation(300 * 400).reshape(300, 400) / 1e5
    saturated = np.minimum(rng.random((300, 400)) * 1.5, 1.0)  # many exact 1.0
    coarse = np.round(rng.random((300, 400)), 2)  # many ties everywhere
    cases = [tie_free, saturated, coarse, np.asfortranarray(coarse),
             # integer scores: the padding of the prefilter is the dtype's minimum
             (coarse * 100).astype(np.int16), (coarse * 100).astype(np.uint8),
             tie_free.astype(np.float32)]

    def run():
        out = []
        for s in cases:
            for yy in (y, sp.csr_matrix(y)):
                ev = YT8MEvaluator(top_k=k)
                ev.update(yy, s)
                out.append(ev.result())
        return out

    fast = run()
    monkeypatch.setattr(M, "_top_k",
                        lambda block, kk, labels, lab, start, scratch=None:
                        M._exact_with_scores(block, kk, labels, lab, start))
    exact = run()
    assert fast == exact
    assert fast[0]["gap"] == pytest.approx(ref.gap(tie_free, y, k), rel=1e-12)
    assert fast[0]["map"] == pytest.approx(ref.mean_ap(tie_free, y, k), rel=1e-12)


@pytest.mark.parametrize("n_labels", [2, 5])
def test_scorer_with_list_of_arrays_predict_proba(n_labels):
    # KNeighborsClassifier returns one (n, 2) array per label.
    from sklearn.neighbors import KNeighborsClassifier

    X, y = make_multilabel_classification(n_samples=80, n_features=5, n_classes=n_labels,
                                          random_state=3)
    est = KNeighborsClassifier(n_neighbors=5).fit(X, y)
    proba = np.column_stack([p[:, 1] for p in est.predict_proba(X)])
    assert gap_scorer(est, X, y) == pytest.approx(global_average_precision(y, proba), rel=1e-12)
    assert perr_scorer(est, X, y) == pytest.approx(
        precision_at_equal_recall_rate(y, proba), rel=1e-12)


def test_compiled_top_k_is_built():
    # pip builds skqrnn._top_k wherever it finds a C++ compiler (setup.py);
    # where one is found here, the compiled path must be what users run.
    import shutil
    import sysconfig

    cxx = (sysconfig.get_config_var("CXX") or "c++").split()[0]
    if shutil.which(cxx) is None:
        pytest.skip(f"no C++ compiler ({cxx}): the numpy path serves")
    assert selection._compiled_top_k is not None, (
        "skqrnn._top_k is missing although a C++ compiler is installed; "
        "reinstall (pip install -e .) and read the build log")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_top_k_equals_numpy_path_and_names_the_first_bad_cell(dtype, monkeypatch):
    if selection._compiled_top_k is None:
        pytest.skip("skqrnn._top_k was not built")
    rng = np.random.default_rng(5)
    # 1000 columns, k = 20: 142 groups of 7 and 6 left-over columns; scores
    # of both signs and scales, rows with ties at and above the k-th score.
    s = (rng.standard_normal((300, 1000)) * 10).astype(dtype)
    s[::7] = np.round(s[::7])
    s[5, :50] = s[5].max() + 1  # 50 cells tied for first place
    s[6, -6:] = s[6].max() + 1  # the best cells in the left-over columns
    y = (rng.random(s.shape) < 0.01).astype(int)
    y[5, :50:3] = 1
    res = {}
    for path in ("compiled", "numpy"):
        if path == "numpy":
            monkeypatch.setattr(selection, "_compiled_top_k", None)
        res[path] = [_ours_all(yy, s, kk) for yy in (y, sp.csr_matrix(y)) for kk in (1, 20, 40)]
        labels = M._Labels(y)
        idx, top = M._top_k(s, 20, labels, labels.dense_chunk(0, len(y)), 0)
        res[path].append(np.sort(idx, axis=1).tolist())
        assert np.array_equal(top, np.take_along_axis(s, idx, axis=1))
    assert res["compiled"] == res["numpy"]
    monkeypatch.undo()
    # A read-only array (np.load(..., mmap_mode="r")) is read in place.
    frozen = s.copy()
    frozen.flags.writeable = False
    assert _ours_all(y, frozen, 20) == _ours_all(y, s, 20)
    # The first non-finite cell in row order is named, wherever it lies.
    for cells in ([(0, 0)], [(299, 999)], [(17, 995), (40, 3)], [(3, 500), (3, 2)]):
        for value in (np.nan, np.inf, -np.inf):
            bad = s.copy()
            for cell in cells:
                bad[cell] = value
            r, c = min(cells)
            with pytest.raises(ValueError, match=rf"y_score\[{r}, {c}\] is (nan|inf|-inf)"):
                global_average_precision(y, bad)
