"""QRNNClassifier and DCQRNNClassifier: sequence input, masking, persistence, bad input.

The scikit-learn contract itself (clone, GridSearchCV, scorers, 1-D targets,
...) is exercised by tests/test_estimator_checks.py and the base class's
tests; here is what the sequence models add on top of it. The readout
layers have their own fast tests in tests/test_layers_readout.py.
"""

import os
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits

from skqrnn import DCQRNNClassifier, QRNNClassifier  # (sets the Keras backend first)
import keras  # noqa: E402
from skqrnn.base import load_model
from skqrnn.io import UINT8_PAD_VALUE
from skqrnn.layers import QRNN

# Tiny widths and one epoch: every fit compiles a network, which is most of
# the cost; the fixtures are shared by the tests that only read a model.
TINY = {
    QRNNClassifier: dict(units=8, epochs=1, batch_size=32, random_state=0),
    DCQRNNClassifier: dict(growth_rate=4, block_layers=(1, 1), compression=0.5, epochs=1,
                           batch_size=32, random_state=0),
}
CLASSES = list(TINY)
# The fixtures use a non-default readout each, so that with the other tests
# every readout runs inside a fitted model.
# (Batch normalization is costly to compile: the QRNN fixture goes without.)
FIXTURE_PARAMS = {
    QRNNClassifier: dict(n_layers=2, readout="max", zoneout=0.2, input_batchnorm=False),
    DCQRNNClassifier: dict(readout="attention"),
}


def _frames(n=48, steps=10, features=6, seed=0, dtype="float32"):
    """Padded 3-D X (first half of the videos: 7 real frames), 3-label y."""
    rng = np.random.RandomState(seed)
    if dtype == "uint8":
        X = rng.randint(0, 256, size=(n, steps, features)).astype(np.uint8)
        X[: n // 2, 7:] = UINT8_PAD_VALUE
        y = (X[:, 0, :3] > 127).astype(int)
    else:
        X = rng.randn(n, steps, features).astype(np.float32)
        X[: n // 2, 7:] = 0.0
        y = (X[:, 0, :3] > 0).astype(int)
    return X, y


def _fit_fixture(cls):
    X, y = _frames()
    return cls(**TINY[cls], **FIXTURE_PARAMS[cls]).fit(X, y), X, y


@pytest.fixture(scope="module")
def fitted_qrnn():
    return _fit_fixture(QRNNClassifier)


@pytest.fixture(scope="module")
def fitted_dcqrnn():
    return _fit_fixture(DCQRNNClassifier)


@pytest.fixture(params=["fitted_qrnn", "fitted_dcqrnn"])
def fitted(request):
    """A fitted tiny model of each class on padded float frames, with its data."""
    return request.getfixturevalue(request.param)


def test_predict_proba_shape_and_range(fitted):
    clf, X, y = fitted
    proba = clf.predict_proba(X)
    assert proba.shape == y.shape and proba.dtype == np.float32
    assert np.all((proba > 0) & (proba < 1))
    assert clf.predict(X).shape == y.shape
    assert clf.n_features_in_ == X.shape[2]


def test_padding_is_ignored_end_to_end(fitted):
    """Padded, trimmed and pre-padded versions of a video give the same probabilities."""
    clf, X, _ = fitted
    padded = clf.predict_proba(X[:24])
    trimmed = clf.predict_proba(X[:24, :7])
    pre_padded = clf.predict_proba(np.concatenate([np.zeros_like(X[:24, :3]), X[:24, :7]],
                                                  axis=1))
    np.testing.assert_allclose(padded, trimmed, atol=1e-6)
    np.testing.assert_allclose(pre_padded, trimmed, atol=1e-6)
    # ... while a real frame in place of the padding does change them.
    changed = X[:24].copy()
    changed[:, 7] = 1.0
    assert np.abs(clf.predict_proba(changed) - trimmed).max() > 1e-4


def test_uint8_frames_mask_their_padding_byte():
    X, y = _frames(dtype="uint8")
    clf = QRNNClassifier(**TINY[QRNNClassifier], input_batchnorm=False).fit(X, y)
    assert clf.model_.get_layer("dequantize") is not None
    trimmed = clf.predict_proba(X[:24, :7])
    np.testing.assert_allclose(clf.predict_proba(X[:24]), trimmed, atol=1e-6)
    # The float padding value is not padding for bytes: frames of zero
    # bytes are real (dequantized -1.99) frames.
    zeros = X[:24].copy()
    zeros[:, 7:] = 0
    assert np.abs(clf.predict_proba(zeros) - trimmed).max() > 1e-4
    with pytest.raises(ValueError, match="fitted on uint8 X but got float32"):
        clf.predict(X.astype(np.float32))
    all_padding = X[:3].copy()
    all_padding[1] = UINT8_PAD_VALUE
    with pytest.raises(ValueError, match=r"all features equal to 127 for uint8 X.*rows \[1\]"):
        clf.predict(all_padding)


def test_bidirectional_last_readout_uses_both_final_states():
    X, y = _frames(n=32)
    clf = QRNNClassifier(units=6, bidirectional=True, readout="last", epochs=1,
                         input_batchnorm=False, random_state=0).fit(X, y)
    trimmed = clf.predict_proba(X[:16, :7])
    np.testing.assert_allclose(clf.predict_proba(X[:16]), trimmed, atol=1e-6)
    assert clf.model_.get_layer("logits").kernel.shape[0] == 12  # 2 directions x 6 units
    # The backward direction reads the first frame last: changing it matters.
    changed = X[:16, :7].copy()
    changed[:, 0] += 1.0
    assert np.abs(clf.predict_proba(changed) - trimmed).max() > 1e-5


def test_stacked_bidirectional_layers_keep_each_direction_in_its_half():
    # With several bidirectional layers the readout reads every layer; the
    # forward halves must stay together (read at the last real frame) and
    # the backward halves together (read at the first).
    X, y = _frames(n=32)
    clf = QRNNClassifier(units=3, n_layers=2, bidirectional=True, epochs=1,
                         input_batchnorm=False, random_state=0).fit(X, y)
    m = clf.model_
    probe = keras.Model(m.inputs, [m.get_layer("qrnn1_bidirectional").output,
                                   m.get_layer("qrnn2_bidirectional").output,
                                   m.get_layer("readout_last").input[0],
                                   m.get_layer("readout_first").input[0]])
    h1, h2, forward, backward = (np.asarray(a) for a in probe.predict(X[:4], verbose=0))
    np.testing.assert_allclose(forward, np.concatenate([h1[..., :3], h2[..., :3]], -1))
    np.testing.assert_allclose(backward, np.concatenate([h1[..., 3:], h2[..., 3:]], -1))
    trimmed = clf.predict_proba(X[:16, :7])
    np.testing.assert_allclose(clf.predict_proba(X[:16]), trimmed, atol=1e-6)


def test_last_plus_mean_readout_reads_both_and_ignores_padding(tmp_path):
    X, y = _frames(n=32)
    clf = QRNNClassifier(units=6, readout="last+mean", epochs=1, input_batchnorm=False,
                         random_state=0).fit(X, y)
    assert clf.model_.get_layer("logits").kernel.shape[0] == 12  # last (6) + mean (6)
    trimmed = clf.predict_proba(X[:16, :7])
    np.testing.assert_allclose(clf.predict_proba(X[:16]), trimmed, atol=1e-6)
    names = {layer.name for layer in clf.model_.layers}
    assert {"readout_last", "readout_mean", "readout_last_mean"} <= names
    path = tmp_path / "m.keras"
    clf.save(path)
    np.testing.assert_allclose(type(clf).load(path).predict_proba(X), clf.predict_proba(X),
                               atol=1e-6)


def test_bidirectional_last_plus_mean_reads_both_final_states():
    # The backward direction's final state sits at the first real frame of
    # the Bidirectional sequence: "last+mean" must read it there (at the last
    # frame the backward direction has seen that frame only).
    X, y = _frames(n=32)
    clf = QRNNClassifier(units=6, readout="last+mean", bidirectional=True, epochs=1,
                         input_batchnorm=False, random_state=0).fit(X, y)
    assert clf.model_.get_layer("logits").kernel.shape[0] == 24  # 2 x (last 6 + mean 6)
    final = keras.Model(clf.model_.input, clf.model_.get_layer("readout_last_both").output)
    trimmed = np.asarray(final(X[:16, :7]))
    np.testing.assert_allclose(np.asarray(final(X[:16])), trimmed, atol=1e-6)
    changed = X[:16, :7].copy()
    changed[:, 0] += 1.0  # the first frame: the backward direction's last step
    backward = np.abs(np.asarray(final(changed)) - trimmed)[:, 6:]
    assert backward.min() > 0  # every unit of every video sees it
    # Its forward half is what a forward-only "last" readout sees.
    np.testing.assert_allclose(
        trimmed[:, :6],
        np.asarray(keras.Model(clf.model_.input,
                               clf.model_.get_layer("readout_last").output)(X[:16, :7])),
        atol=1e-6)


def _qrnn_kernels(model):
    return [layer.kernel for layer in model.layers if isinstance(layer, QRNN)]


@pytest.mark.parametrize("cls, timesteps, steps, step_features", [
    (QRNNClassifier, 6, 5, 4),    # 20 features in chunks of ceil(20/6) = 4: 5 steps
    (DCQRNNClassifier, 3, 3, 7),  # chunks of 7, the last one zero-filled
], ids=["QRNNClassifier", "DCQRNNClassifier"])
def test_video_level_vectors_become_timesteps_chunks(cls, timesteps, steps, step_features):
    rng = np.random.RandomState(0)
    X = rng.randn(40, 20).astype(np.float32)
    y = (X[:, :3] > 0).astype(int)
    readout = "last" if cls is DCQRNNClassifier else "mean"
    clf = cls(timesteps=timesteps, window=4, **{**TINY[cls], "readout": readout}).fit(X, y)
    assert clf.model_.get_layer("as_sequence").output.shape[1:] == (steps, step_features)
    assert clf.predict_proba(X).shape == y.shape
    # The causal window is capped at the number of steps of a fixed-length
    # sequence: a wider one would only see the zero padding.
    assert {k.shape[0] for k in _qrnn_kernels(clf.model_)} == {min(4, steps)}
    with pytest.raises(ValueError, match="fitted on video-level 2-D X"):
        clf.predict(X.reshape(40, 4, 5))
    # Vectors are not masked: an all-zero row is a valid sample.
    assert np.isfinite(clf.predict_proba(np.zeros((2, 20), np.float32))).all()


def test_same_seed_same_model(fitted_qrnn):
    # With dropout and zoneout: every random draw follows random_state.
    clf, X, y = fitted_qrnn
    again = clone(clf).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_pickle_and_save_load_round_trip(fitted, tmp_path):
    clf, X, _ = fitted
    expected = clf.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), expected)
    path = os.fspath(tmp_path / "model.keras")
    clf.save(path)
    loaded = load_model(path)
    assert type(loaded) is type(clf)
    assert loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    # The loaded estimator keeps checking its input like the original.
    with pytest.raises(ValueError, match="fitted on frame-level 3-D X"):
        loaded.predict(X[:, 0])


def test_bad_input_messages(fitted):
    clf, X, _ = fitted
    name = type(clf).__name__
    with pytest.raises(ValueError, match=rf"X has 301 frames per video but {name} supports "
                                         r"sequences of at most max_frames=300"):
        clf.predict(np.ones((2, 301, X.shape[2]), np.float32))
    with pytest.raises(ValueError, match=rf"X has 7 features, but {name} is expecting 6"):
        clf.predict(np.ones((2, 5, 7), np.float32))
    all_padding = X[:4].copy()
    all_padding[[1, 3]] = 0.0
    with pytest.raises(ValueError, match=r"2 video\(s\) of X have no frames.*rows \[1, 3\]"):
        clf.predict(all_padding)
    with pytest.raises(ValueError, match="0 frames"):
        clf.predict(np.ones((2, 0, X.shape[2]), np.float32))
    with pytest.raises(ValueError, match="fitted on frame-level 3-D X"):
        clf.predict(X[:, 0])
    with pytest.raises(ValueError, match="4-D"):
        clf.predict(X[..., None])


def test_input_is_checked_before_training():
    X, y = _frames(n=16)
    with pytest.raises(ValueError, match="X has 10 frames per video but QRNNClassifier "
                                         "supports sequences of at most max_frames=8"):
        QRNNClassifier(units=4, max_frames=8).fit(X, y)
    with pytest.raises(ValueError, match="into 20 steps, more than max_frames=8"):
        QRNNClassifier(units=4, timesteps=20, max_frames=8).fit(X[:, :, 0].repeat(2, 1), y)
    X[0] = 0.0
    with pytest.raises(ValueError, match=r"1 video\(s\) of X have no frames"):
        QRNNClassifier(units=4).fit(X, y)


def test_readout_batchnorm_auto_for_vectors_only():
    # "auto" normalizes the readout of video-level vectors (where it helped on
    # the real sample) and not of frame sequences (where it hurt); True /
    # False force it either way.
    X, y = _frames(n=16)
    vectors = X[:, 0]
    tiny = dict(units=4, epochs=1, input_batchnorm=False, random_state=0)

    def has_bn(clf):
        return "readout_bn" in {layer.name for layer in clf.model_.layers}

    assert has_bn(QRNNClassifier(**tiny).fit(vectors, y))
    assert not has_bn(QRNNClassifier(**tiny).fit(X, y))
    assert has_bn(QRNNClassifier(readout_batchnorm=True, **tiny).fit(X, y))
    assert not has_bn(QRNNClassifier(readout_batchnorm=False, **tiny).fit(vectors, y))


def test_forget_bias_auto_follows_the_sequence_length():
    # Shorter memory for short sequences, longer for long sequences, an open
    # gate where a sample is one step (video vectors); the mean real length
    # counts, not the padding. get_params keeps "auto", forget_bias_ has the
    # value the layers were built with.
    from skqrnn.qrnn import ONE_STEP_FORGET_BIAS, auto_forget_bias

    assert auto_forget_bias(1) == ONE_STEP_FORGET_BIAS == -2.0
    assert auto_forget_bias(2) == auto_forget_bias(20) == 2.0
    assert auto_forget_bias(50) == pytest.approx(np.log(19))
    assert auto_forget_bias(100) == auto_forget_bias(300) == 3.0
    rng = np.random.RandomState(0)
    y = np.arange(16) % 2
    tiny = dict(units=4, epochs=1, random_state=0)

    def built_bias(clf):
        return clf.model_.get_layer("qrnn1").forget_bias

    short = QRNNClassifier(**tiny).fit(rng.randn(16, 20, 3).astype("float32"), y)
    assert short.get_params()["forget_bias"] == "auto"
    assert short.forget_bias_ == built_bias(short) == 2.0
    X = rng.randn(16, 120, 3).astype("float32")
    long_ = QRNNClassifier(**tiny).fit(X, y)
    assert long_.forget_bias_ == built_bias(long_) == 3.0
    X[:, 20:] = 0.0  # the same sequences padded to 120 frames are 20 frames long
    assert QRNNClassifier(**tiny).fit(X, y).forget_bias_ == 2.0
    vectors = X[:, 0]
    one_step = QRNNClassifier(**tiny).fit(vectors, y)
    assert one_step.forget_bias_ == built_bias(one_step) == -2.0
    # Three steps per vector: a (short) sequence again.
    assert QRNNClassifier(timesteps=3, **tiny).fit(vectors, y).forget_bias_ == 2.0
    assert QRNNClassifier(forget_bias=1.5, **tiny).fit(X, y).forget_bias_ == 1.5
    dc = DCQRNNClassifier(growth_rate=4, epochs=1, random_state=0).fit(X, y)
    assert dc.forget_bias_ == 3.0  # the dcQRNN's default is a number


def test_dropout_auto_is_higher_on_one_step_video_vectors_than_on_sequences():
    # get_params keeps "auto"; dropout_ is the rate every Dropout layer of
    # the network was built with; a number is used as given.
    rng = np.random.RandomState(0)
    y = np.arange(16) % 2
    frames = rng.randn(16, 20, 3).astype("float32")
    tiny = dict(units=4, epochs=1, random_state=0)

    def rates(clf):
        return {layer.rate for layer in clf.model_.layers
                if isinstance(layer, keras.layers.Dropout)}

    on_frames = QRNNClassifier(**tiny).fit(frames, y)
    assert on_frames.get_params()["dropout"] == "auto"
    assert on_frames.n_layers_ == 2  # the dropout between the layers is set too
    assert on_frames.dropout_ == QRNNClassifier.FRAME_DROPOUT == 0.5
    assert rates(on_frames) == {0.5}
    on_vectors = QRNNClassifier(**tiny).fit(frames[:, 0], y)
    assert on_vectors.dropout_ == QRNNClassifier.VECTOR_DROPOUT == 0.75
    assert rates(on_vectors) == {0.75}
    chunks = QRNNClassifier(timesteps=3, **tiny).fit(frames[:, 0], y)  # 3 steps: a sequence
    assert chunks.dropout_ == 0.5 and rates(chunks) == {0.5}
    given = QRNNClassifier(dropout=0.2, **tiny).fit(frames[:, 0], y)
    assert given.dropout_ == 0.2 and rates(given) == {0.2}
    with pytest.raises(ValueError, match="dropout"):
        QRNNClassifier(dropout="high", **tiny).fit(frames[:, 0], y)


def test_length_scan_runs_once_and_only_for_a_length_rule(monkeypatch):
    # The mean-length scan reads up to 4,096 sequences (about a second on
    # full-size frames): once per fit for the QRNN's two "auto" rules, not
    # at all when no parameter follows the length (the dcQRNN's defaults).
    import skqrnn.qrnn as qrnn_module

    calls = []
    scan = qrnn_module._typical_length
    monkeypatch.setattr(qrnn_module, "_typical_length",
                        lambda *a: calls.append(1) or scan(*a))
    X, y = _frames(n=16)
    QRNNClassifier(units=4, epochs=1, random_state=0).fit(X, y)
    assert len(calls) == 1
    DCQRNNClassifier(growth_rate=4, epochs=1, random_state=0).fit(X, y)
    QRNNClassifier(units=4, n_layers=1, forget_bias=2.0, epochs=1, random_state=0).fit(X, y)
    assert len(calls) == 1


@pytest.mark.parametrize("cls, width", [(QRNNClassifier, "units"),
                                        (DCQRNNClassifier, "growth_rate")])
def test_readout_auto_reads_last_and_mean_of_frames_last_of_vectors(cls, width):
    X, y = _frames(n=16)
    tiny = {width: 4, "epochs": 1, "random_state": 0}

    def readouts(clf):
        return sorted(layer.name for layer in clf.model_.layers
                      if layer.name.startswith("readout_") and layer.name != "readout_dropout"
                      and layer.name != "readout_bn")

    frames = cls(**tiny).fit(X, y)
    assert frames.get_params()["readout"] == "auto"
    assert readouts(frames) == ["readout_last", "readout_last_mean", "readout_mean"]
    assert readouts(cls(**tiny).fit(X[:, 0], y)) == ["readout_last"]
    assert readouts(cls(readout="last", **tiny).fit(X, y)) == ["readout_last"]
    if cls is QRNNClassifier:
        # bidirectional + "auto" on frames: both directions' final states and the mean
        bi = cls(bidirectional=True, **tiny).fit(X, y)
        assert "readout_first" in readouts(bi) and "readout_mean" in readouts(bi)


def test_n_layers_auto_stacks_two_layers_on_frames_one_on_vectors_and_short_sequences():
    # Two layers on sequences of 16 real frames or more on average; one on
    # video vectors and on short sequences (padding does not count).
    rng = np.random.RandomState(0)
    X = rng.randn(16, 20, 3).astype("float32")
    y = np.arange(16) % 2
    tiny = dict(units=4, epochs=1, random_state=0)

    def qrnn_layers(clf):
        return sorted(layer.name for layer in clf.model_.layers
                      if layer.name.startswith("qrnn") and not layer.name.endswith("_dropout"))

    frames = QRNNClassifier(**tiny).fit(X, y)
    assert frames.get_params()["n_layers"] == "auto"
    assert frames.n_layers_ == 2 and qrnn_layers(frames) == ["qrnn1", "qrnn2"]
    # the readout reads both layers' output sequences side by side
    both = frames.model_.get_layer("all_layers")
    assert [t.name for t in both.input] == [frames.model_.get_layer("qrnn1").output.name,
                                            frames.model_.get_layer("qrnn2").output.name]
    assert QRNNClassifier(**tiny).fit(X[:, 0], y).n_layers_ == 1
    short = X.copy()
    short[:, 8:] = 0.0
    assert QRNNClassifier(**tiny).fit(short, y).n_layers_ == 1
    one = QRNNClassifier(n_layers=1, **tiny).fit(X, y)
    assert one.n_layers_ == 1 and qrnn_layers(one) == ["qrnn1"]
    assert qrnn_layers(QRNNClassifier(n_layers=3, **tiny).fit(X[:, 0], y)) == [
        "qrnn1", "qrnn2", "qrnn3"]


@pytest.mark.parametrize("cls, params, match", [
    (QRNNClassifier, dict(units=0), "units must be an integer >= 1"),
    (QRNNClassifier, dict(n_layers=0), "n_layers"),
    (QRNNClassifier, dict(n_layers="two"), "n_layers"),
    (QRNNClassifier, dict(readout="sum"), "readout must be one of"),
    (QRNNClassifier, dict(pooling="lstm"), "pooling must be one of"),
    (QRNNClassifier, dict(scan="fast"), "scan must be one of"),
    (QRNNClassifier, dict(zoneout=1.0), "zoneout"),
    (QRNNClassifier, dict(timesteps=0), "timesteps"),
    (QRNNClassifier, dict(max_frames=0), "max_frames"),
    (QRNNClassifier, dict(bidirectional="yes"), "bidirectional must be True or False"),
    (QRNNClassifier, dict(input_batchnorm=None), "input_batchnorm must be True or False"),
    (QRNNClassifier, dict(readout_batchnorm="yes"),
     'readout_batchnorm must be True, False or "auto"'),
    (DCQRNNClassifier, dict(block_layers=()), "block_layers must be a non-empty sequence"),
    (DCQRNNClassifier, dict(block_layers=(2, 0)), "block_layers"),
    (DCQRNNClassifier, dict(growth_rate=1.5), "growth_rate"),
    (DCQRNNClassifier, dict(compression=0.0), "compression"),
    (DCQRNNClassifier, dict(window=0), "window"),
    (DCQRNNClassifier, dict(dropout=1.0), "dropout"),
])
def test_bad_parameters(cls, params, match):
    X, y = _frames(n=8)
    with pytest.raises(ValueError, match=match):
        cls(**params).fit(X, y)


def test_order_of_events_is_learned():
    """The label is whether event A comes before event B: the mean over the
    frames is the same either way, a causal recurrence tells them apart."""
    rng = np.random.RandomState(0)
    n, steps = 256, 12
    X = 0.3 * rng.randn(n, steps, 4).astype(np.float32)
    first = rng.randint(0, steps // 2, n)
    second = rng.randint(steps // 2, steps, n)
    a_first = rng.rand(n) < 0.5
    rows = np.arange(n)
    X[rows, np.where(a_first, first, second), 0] += 2.0   # event A
    X[rows, np.where(a_first, second, first), 1] += 2.0   # event B
    y = a_first.astype(int)
    clf = QRNNClassifier(units=16, readout="last", dropout=0.0, epochs=60, batch_size=64,
                         learning_rate=1e-2, random_state=0).fit(X[:192], y[:192])
    assert clf.score(X[192:], y[192:]) >= 0.9


def test_digits_as_sequences_of_rows():
    """scikit-learn's digits, each 8x8 image read as 8 steps of 8 pixels.

    Split as in scikit-learn's "Recognizing hand-written digits" example
    (first half train, second half test), where SVC(gamma=0.001) gets 0.97;
    benchmarks/bench_sequence_models.py reports the full comparison.
    """
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    half = len(X) // 2
    clf = QRNNClassifier(units=64, timesteps=8, bidirectional=True, readout="last",
                         dropout=0.1, epochs=40, batch_size=64, learning_rate=3e-3,
                         random_state=0)
    clf.fit(X[:half], y[:half])
    assert clf.model_.get_layer("as_sequence").output.shape[1:] == (8, 8)
    assert clf.score(X[half:], y[half:]) >= 0.9


def _two_events(n, steps, rng, noise=1.0):
    """Noise frames with event A and event B added at two random frames; y: A first."""
    X = noise * rng.randn(n, steps, 8).astype(np.float32)
    pairs = np.array([np.sort(rng.choice(steps, 2, replace=False)) for _ in range(n)])
    a_first = rng.rand(n) < 0.5
    rows = np.arange(n)
    X[rows, np.where(a_first, pairs[:, 0], pairs[:, 1]), 0] += 3.0
    X[rows, np.where(a_first, pairs[:, 1], pairs[:, 0]), 1] += 3.0
    return X, a_first.astype(int)


def test_forget_bias_keeps_an_early_event_over_long_noise():
    """Which of two events came first, 40 noisy frames: with the forget gates
    starting open (forget_bias=3) a one-layer QRNN learns it from 600
    sequences, with them half shut (0) it does not (two layers learn it
    either way); the bias is what the layer was built with and is in its
    config."""
    rng = np.random.RandomState(0)
    X, y = _two_events(800, 40, rng, noise=0.5)
    scores = {}
    for forget_bias in (3.0, 0.0):
        clf = QRNNClassifier(units=64, n_layers=1, dropout=0.0, epochs=20, batch_size=32,
                             random_state=0, forget_bias=forget_bias).fit(X[:600], y[:600])
        scores[forget_bias] = clf.score(X[600:], y[600:])
        layer = clf.model_.get_layer("qrnn1")
        assert layer.forget_bias == forget_bias == layer.get_config()["forget_bias"]
    assert QRNNClassifier().forget_bias == "auto" and DCQRNNClassifier().forget_bias == 3.0
    assert scores[3.0] >= 0.85 and scores[3.0] > scores[0.0] + 0.1, scores
    with pytest.raises(ValueError, match="forget_bias must be"):
        QRNNClassifier(forget_bias=float("nan")).fit(X[:8], y[:8])
    with pytest.raises(ValueError, match="forget_bias must be"):
        QRNNClassifier(forget_bias="open").fit(X[:8], y[:8])


@pytest.mark.parametrize("cls", [QRNNClassifier, DCQRNNClassifier])
def test_auto_learning_rate_is_larger_on_small_frame_data_only(cls):
    # 5e-3 on frame sequences with an automatic batch under 256 (it learned
    # the order of events where 2e-3 did not); video vectors, an explicit
    # batch size or early stopping keep the shared rule.
    params = {k: v for k, v in TINY[cls].items() if k != "batch_size"}
    X, y = _frames(n=64)
    frames = cls(**params).fit(X, y)
    assert frames.get_params()["learning_rate"] == "auto"
    assert frames.batch_size_ == 32
    assert frames.learning_rate_ == cls.FRAME_SMALL_DATA_LEARNING_RATE == 5e-3
    vectors = cls(**params).fit(X.reshape(len(X), -1), y)
    assert vectors.learning_rate_ == 2e-3
    fixed = cls(**params, batch_size=32).fit(X, y)
    assert fixed.learning_rate_ == 2e-3
    stopping = cls(**params, early_stopping=True, validation_split=0.25).fit(X, y)
    assert stopping.learning_rate_ == 5e-4
