import doctest
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skqrnn.preprocessing as P
from skqrnn.preprocessing import FrameSampler, infer_lengths


def _padded(n=12, max_frames=30, n_features=5, dtype=np.uint8, seed=0, with_empty=True):
    """Videos whose frame t holds the value t + 1 in every feature, then padding."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, max_frames + 1, size=n)
    lengths[0] = max_frames
    lengths[1] = 1
    if with_empty:
        lengths[2] = 0
    X = np.full((n, max_frames, n_features), P.padding_value(dtype), dtype=dtype)
    for i, L in enumerate(lengths):
        X[i, :L] = (np.arange(L) + 1)[:, None]
    return X, lengths


def test_infer_lengths_ignores_trailing_padding_only():
    X, lengths = _padded()
    np.testing.assert_array_equal(infer_lengths(X), lengths)
    # A padding-like frame between real frames is a real frame.
    X[0, 5] = P.padding_value(X.dtype)
    np.testing.assert_array_equal(infer_lengths(X), lengths)
    # Dequantized float data: real values are never exactly 0.0.
    q = np.arange(256, dtype=np.float32)
    assert np.all(q * 4 / 255 - 1.9921875 != 0)
    Xf = np.where(np.arange(X.shape[1])[None, :, None] < lengths[:, None, None],
                  X.astype(np.float32) * 4 / 255 - 1.9921875, 0).astype(np.float32)
    np.testing.assert_array_equal(infer_lengths(Xf), lengths)


@pytest.mark.parametrize("strategy", ["random", "uniform"])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64, np.int16])
def test_samples_only_real_frames_in_time_order(strategy, dtype):
    X, lengths = _padded(dtype=dtype)
    for n_frames in (1, 7, 30, 64):
        out = FrameSampler(n_frames=n_frames, strategy=strategy, random_state=0).fit_transform(X)
        assert out.shape == (X.shape[0], n_frames, X.shape[2])
        assert out.dtype == X.dtype
        frame = out[..., 0].astype(np.int64) - 1  # frame index sampled (-1: zeros)
        np.testing.assert_array_equal(out, out[..., :1].repeat(X.shape[2], axis=2))
        for i, L in enumerate(lengths):
            if L == 0:
                assert np.all(out[i] == P.padding_value(dtype))  # empty video stays padding
            else:
                assert frame[i].min() >= 0 and frame[i].max() < L  # never padding
                assert np.all(np.diff(frame[i]) >= 0)  # time order


def test_explicit_lengths_are_respected():
    X, lengths = _padded(with_empty=False)
    short = np.maximum(lengths // 2, 1)
    for strategy in ("random", "uniform"):
        out = FrameSampler(n_frames=15, strategy=strategy, random_state=1).fit(X).transform(
            X, lengths=short)
        assert np.all(out[..., 0] <= short[:, None])  # values are frame index + 1
    out = FrameSampler(n_frames=4).fit(X).transform(X, lengths=np.zeros(len(X), int))
    assert np.all(out == P.padding_value(X.dtype))
    # lengths may be integral floats (e.g. read from a float column).
    out_f = FrameSampler(n_frames=5, strategy="uniform").fit(X).transform(
        X, lengths=short.astype(float))
    out_i = FrameSampler(n_frames=5, strategy="uniform").fit(X).transform(X, lengths=short)
    np.testing.assert_array_equal(out_f, out_i)


def test_uniform_is_evenly_spaced_and_random_is_with_replacement():
    X = np.zeros((2, 100, 1), dtype=np.int32)
    X[:, :, 0] = np.arange(1, 101)
    out = FrameSampler(n_frames=4, strategy="uniform").fit_transform(X, lengths=[100, 8])
    np.testing.assert_array_equal(out[..., 0] - 1, [[12, 37, 62, 87], [1, 3, 5, 7]])
    out = FrameSampler(n_frames=3, strategy="uniform").fit_transform(X, lengths=[100, 1])
    np.testing.assert_array_equal(out[1, :, 0], [1, 1, 1])  # a 1-frame video repeats
    # With replacement: drawing 10 of 10 frames repeats some, in time order.
    out = FrameSampler(n_frames=10, random_state=0).fit_transform(X, lengths=[10, 10])
    assert any(len(np.unique(row)) < 10 for row in out[..., 0])
    # All real frames get drawn eventually (uniform over the real frames).
    out = FrameSampler(n_frames=2000, random_state=0).fit_transform(X, lengths=[10, 3])
    assert set(np.unique(out[0])) == set(range(1, 11))
    assert set(np.unique(out[1])) == {1, 2, 3}
    counts = np.bincount(out[0, :, 0], minlength=11)[1:]
    assert counts.min() > 150 and counts.max() < 250


def test_random_state_reproducibility():
    X, _ = _padded(n=20, max_frames=50)
    a = FrameSampler(n_frames=8, random_state=42).fit_transform(X)
    b = FrameSampler(n_frames=8, random_state=42).fit_transform(X)
    np.testing.assert_array_equal(a, b)
    fs = FrameSampler(n_frames=8, random_state=42).fit(X)
    np.testing.assert_array_equal(fs.transform(X), fs.transform(X))  # int seed: same each call
    c = FrameSampler(n_frames=8, random_state=7).fit_transform(X)
    assert not np.array_equal(a, c)
    fresh = FrameSampler(n_frames=8).fit(X)  # None: new draws each call
    assert not np.array_equal(fresh.transform(X), fresh.transform(X))
    rs = np.random.RandomState(0)
    fs = FrameSampler(n_frames=8, random_state=rs).fit(X)
    assert not np.array_equal(fs.transform(X), fs.transform(X))  # instance advances


def test_in_pipeline_and_grid_search():
    rng = np.random.default_rng(0)
    X = rng.integers(1, 256, size=(60, 12, 4)).astype(np.uint8)
    X[:, :, 0] = X[:, :1, 0]  # feature 0 is constant over a video's frames
    X[::3, 6:] = 0  # padded videos
    y = (X[:, 0, 0] > 128).astype(int)  # decided by feature 0
    pipe = make_pipeline(
        FrameSampler(n_frames=3, strategy="uniform"),
        FunctionTransformer(lambda Z: Z.reshape(len(Z), -1).astype(np.float32) / 255),
        LogisticRegression(max_iter=500),
    )
    pipe.fit(X, y)
    assert pipe.predict(X).shape == (60,)
    assert pipe.score(X, y) > 0.8
    gs = GridSearchCV(pipe, {"framesampler__n_frames": [2, 4]}, cv=3).fit(X, y)
    assert gs.best_params_["framesampler__n_frames"] in (2, 4)


def test_clone_get_set_params_pickle():
    fs = FrameSampler(n_frames=5, strategy="uniform", random_state=3)
    assert fs.get_params() == {"n_frames": 5, "strategy": "uniform", "random_state": 3}
    c = clone(fs)
    assert c is not fs and c.get_params() == fs.get_params()
    assert not hasattr(c, "n_features_in_")
    assert fs.set_params(n_frames=9) is fs and fs.n_frames == 9
    assert "n_frames=9" in repr(fs)
    X, _ = _padded()
    fs.fit(X)
    fs2 = pickle.loads(pickle.dumps(fs))
    np.testing.assert_array_equal(fs.transform(X), fs2.transform(X))
    assert fs.n_features_in_ == 5 and fs.max_frames_in_ == 30
    tags = fs.__sklearn_tags__()
    assert tags.input_tags.three_d_array and not tags.input_tags.two_d_array


def test_bad_input_raises_value_error():
    X, _ = _padded()
    with pytest.raises(ValueError, match=r"3-D of shape \(n_videos, max_frames, n_features\)"):
        FrameSampler().fit(X[:, :, 0])
    with pytest.raises(ValueError, match="3-D"):
        FrameSampler().fit(X).transform(X[0])
    for n in (0, -2, 2.5, True, "3"):
        with pytest.raises(ValueError, match="n_frames must be a positive integer"):
            FrameSampler(n_frames=n).fit(X)
    with pytest.raises(ValueError, match="strategy must be one of"):
        FrameSampler(strategy="middle").fit(X)
    fs = FrameSampler().fit(X)
    with pytest.raises(ValueError, match=r"lengths must have shape \(12,\)"):
        fs.transform(X, lengths=[3, 4])
    with pytest.raises(ValueError, match="between 0 and max_frames=30"):
        fs.transform(X, lengths=np.full(12, 31))
    with pytest.raises(ValueError, match="between 0 and max_frames"):
        fs.transform(X, lengths=np.full(12, -1))
    with pytest.raises(ValueError, match="integers"):
        fs.transform(X, lengths=np.full(12, 2.5))
    with pytest.raises(ValueError, match="5 features per frame.*fitted with 4"):
        FrameSampler().fit(X[:, :, :4]).transform(X)
    with pytest.raises(ValueError, match="real numbers"):
        FrameSampler().fit(X.astype(str))
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        FrameSampler().transform(X)


def test_docstring_examples_run():
    failures, tried = doctest.testmod(P)
    assert tried >= 5 and failures == 0
