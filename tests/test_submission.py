import io

import numpy as np
import pytest

import skqrnn._selection as S
from skqrnn.submission import top_k_predictions, write_submission


def _reference(y, k):
    """Per row: the k best by descending score, ties by the lower class."""
    keys = np.asarray(y).astype(np.float64)
    c = keys.shape[1]
    labels = np.array([np.lexsort((np.arange(c), -row))[:k] for row in keys])
    return labels, np.take_along_axis(np.asarray(y), labels, axis=1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint8, bool])
@pytest.mark.parametrize("k", [1, 5, 20, 400])
def test_top_k_predictions_best_first_ties_to_the_lower_class(top_k_path, dtype, k):
    rng = np.random.default_rng(k)
    y = rng.random((120, 400))
    y[::3] = np.round(y[::3], 2)  # many ties, at and around the k-th score
    y[7, :30] = 2.0  # 30 classes tied for first place
    if dtype in (np.int16, np.uint8):
        y = y * 200
    elif dtype is bool:
        y = y > 0.9
    y = y.astype(dtype)
    labels, scores = top_k_predictions(y, k)
    want_labels, want_scores = _reference(y, k)
    np.testing.assert_array_equal(labels, want_labels)
    np.testing.assert_array_equal(scores, want_scores)
    assert scores.dtype == y.dtype


def test_non_finite_scores_give_the_same_answer_on_both_paths(monkeypatch):
    rng = np.random.default_rng(0)
    y = rng.random((50, 300))
    y[3, 10] = np.inf
    y[4, 11] = -np.inf
    y[5, 12] = np.nan
    got = top_k_predictions(y, 20)
    monkeypatch.setattr(S, "_compiled_top_k", None)
    want = top_k_predictions(y, 20)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert got[0][3, 0] == 10 and 11 not in got[0][4]


def test_write_submission_lines(top_k_path):
    y = np.array([[0.1, 0.9, 0.25, 0.9], [0.5, 0.0, 0.0, 0.7]], dtype=np.float32)
    f = io.StringIO()
    write_submission(f, ["a", "b"], y, top_k=3)
    assert f.getvalue().splitlines() == ["VideoId,LabelConfidencePairs",
                                         "a,1 0.9 3 0.9 2 0.25", "b,3 0.7 0 0.5 1 0"]


def test_predict_top_k_keeps_the_lower_classes_among_ties(top_k_path):
    # Multi-label predict with top_k goes through the same selection.
    from types import SimpleNamespace

    from skqrnn._targets import MULTILABEL, decode_predictions

    rng = np.random.default_rng(3)
    proba = np.round(rng.random((60, 200)), 1).astype(np.float32)  # ties everywhere
    est = SimpleNamespace(_target_type=MULTILABEL, threshold=0.0, top_k=5, _y_sparse=False,
                          _y_dtype=np.int64)
    got = decode_predictions(est, proba)
    want = np.zeros_like(got)
    np.put_along_axis(want, _reference(proba, 5)[0], 1, axis=1)
    np.testing.assert_array_equal(got, want)
    est.threshold = 0.5  # at most top_k, above the threshold
    np.testing.assert_array_equal(decode_predictions(est, proba), want & (proba > 0.5))
