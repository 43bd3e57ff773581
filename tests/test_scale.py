"""Out-of-core training (streams of shards) and data-parallel training.

Streams: ``fit``/``partial_fit`` on :func:`skqrnn.io.iter_yt8m` shards and the
other accepted stream types, equivalence with in-memory ``fit``, quantized
(uint8) data kept quantized, and the errors of bad streams.
Distribution: ``distribution="data_parallel"`` on 2 virtual CPU devices in a
subprocess (``XLA_FLAGS`` must be set before JAX starts) against one device.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import skqrnn  # noqa: F401  (picks the Keras backend before Keras is imported)
import keras  # noqa: E402
from skqrnn import DenseNetClassifier
from skqrnn._data import is_stream
from skqrnn.datasets import make_yt8m
from skqrnn.io import dequantize, iter_yt8m, load_yt8m, quantize, write_yt8m
from skqrnn.metrics import global_average_precision

ROOT = Path(__file__).resolve().parents[1]
N_CLASSES = 12
TINY = dict(stem_units=16, growth_rate=8, block_layers=(1,), dropout=0.2, batch_size=64,
            learning_rate=3e-3, random_state=0)


def _latent_videos(rng, W, n):
    """Video-level records whose 12 labels are thresholds of 12 latent factors.

    A low-rank signal is learnable from a few hundred videos, so fits with
    different seeds or batch orders land close together (make_yt8m's
    realistic data needs far more videos for that).
    """
    Z = rng.standard_normal((n, W.shape[0]), dtype=np.float32)
    X = Z @ W + np.float32(0.3) * rng.standard_normal((n, W.shape[1]), dtype=np.float32)
    return X, (Z > 0.6).astype(np.int8)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Four training shards of 240 videos and one validation shard of 256, real TFRecords."""
    d = tmp_path_factory.mktemp("yt8m")
    rng = np.random.default_rng(0)
    W = rng.standard_normal((N_CLASSES, 1152), dtype=np.float32) / np.sqrt(N_CLASSES)
    train = []
    for i in range(4):
        train.append(str(d / f"train{i:04d}.tfrecord"))
        write_yt8m(train[-1], *_latent_videos(rng, W, 240))
    val = [str(d / "val0000.tfrecord")]
    write_yt8m(val[0], *_latent_videos(rng, W, 256))
    X, y = load_yt8m(train, n_classes=N_CLASSES, sparse_labels=False, return_X_y=True)
    Xv, yv = load_yt8m(val, n_classes=N_CLASSES, sparse_labels=False, return_X_y=True)
    return {"train": train, "val": val, "X": X, "y": y, "Xv": Xv, "yv": yv}


def _stream(paths, **kw):
    return iter_yt8m(paths, n_classes=N_CLASSES, **{"batch_size": 64, **kw})


class ListBatches:
    """A re-iterable of fixed batches without ``__len__`` (counted before training)."""

    def __init__(self, batches):
        self.batches = batches
        self.passes = 0

    def __iter__(self):
        self.passes += 1
        return iter(self.batches)


def _batches(X, y, size):
    return [(X[i:i + size], y[i:i + size]) for i in range(0, len(X), size)]


# --------------------------------------------------------------------- streams
def test_is_stream(shards):
    X = np.zeros((4, 3))
    assert not is_stream(X)
    assert not is_stream(X.tolist())
    assert not is_stream(sp.csr_matrix(X))
    assert not is_stream(None)
    assert not is_stream((X, X))  # a validation_data tuple
    assert is_stream(_stream(shards["train"]))
    assert is_stream(lambda: [])
    assert is_stream(ListBatches([]))
    assert is_stream(x for x in [])  # a generator: a stream, refused later as one-shot


def test_fit_on_shards_with_validation_shards(shards):
    """Several epochs over shuffled shards, validation from another shard."""
    clf = DenseNetClassifier(epochs=3, **TINY)
    stream = _stream(shards["train"])
    clf.fit(stream, validation_data=_stream(shards["val"], shuffle=False))
    assert clf.n_features_in_ == 1152
    np.testing.assert_array_equal(clf.classes_, np.arange(N_CLASSES))
    assert clf.n_iter_ == 3
    # Validation data turn early stopping on ("auto"), which brings the
    # adaptive schedule and its per-epoch learning_rate.
    assert set(clf.history_) == {"loss", "val_loss", "val_gap", "learning_rate"}
    assert all(len(v) == 3 for v in clf.history_.values())
    # One optimizer step per batch: 960 records in batches of 64 -> 15 per epoch.
    assert int(clf.model_.optimizer.iterations.numpy()) == 3 * len(stream) == 45
    # val_gap is the GAP@20 of the final network on the validation shard.
    proba = clf.predict_proba(shards["Xv"])
    assert clf.history_["val_gap"][-1] == pytest.approx(
        global_average_precision(shards["yv"], proba, k=20), abs=1e-6)
    assert clf.history_["val_gap"][-1] > 0.7
    assert clf.predict(shards["Xv"]).shape == (256, N_CLASSES)


def test_same_batches_same_order_same_network_whatever_the_stream_type(shards):
    """Shards read in order and the same batches from memory: one network, bit for bit."""
    X, y = shards["X"], shards["y"]
    batches = _batches(X, y, TINY["batch_size"])
    # iter_yt8m(shuffle=False) reads the shards in load_yt8m's order.
    on_shards = DenseNetClassifier(epochs=1, **TINY).fit(_stream(shards["train"], shuffle=False))
    on_lists = DenseNetClassifier(epochs=1, **TINY).fit(lambda: batches)
    np.testing.assert_array_equal(on_lists.predict_proba(X), on_shards.predict_proba(X))
    assert on_shards.history_["loss"] == on_lists.history_["loss"]


def test_stream_equals_in_memory_fit_full_batch(shards):
    """Same steps, same seed, one batch per epoch: the in-memory and streamed fits agree.

    With one batch per epoch the order of the samples inside it (in-memory
    fit shuffles them, the stream reverses them) changes only the order of
    the float32 sums, so the networks agree to rounding (dropout is off: its
    masks follow the row order).
    """
    X, y = shards["X"][:256], shards["y"][:256]
    params = dict(TINY, dropout=0.0, batch_size=256, epochs=4)
    memory = DenseNetClassifier(**params).fit(X, y)
    stream = DenseNetClassifier(**params).fit(lambda: [(X[::-1], y[::-1])])
    assert int(stream.model_.optimizer.iterations.numpy()) == 4
    assert stream.history_["loss"] == pytest.approx(memory.history_["loss"], abs=1e-5)
    np.testing.assert_allclose(stream.predict_proba(X), memory.predict_proba(X), atol=1e-5)


def test_shuffled_shards_match_in_memory_gap(shards):
    """iter_yt8m's shuffling vs in-memory fit's: same steps and seed, GAP within 0.03.

    Both runs see the same 960 videos and take the same 60 optimizer steps
    from the same initial weights, but in different orders (and the stream
    sets the output layer's initial bias from its first batch's labels, fit
    from all labels), so their networks differ by SGD noise: 0.03 GAP@20 is
    about 1.5 times the spread between in-memory fits with different seeds
    on this data (0.798 and 0.817 for seeds 0 and 1).
    """
    X, y, Xv, yv = shards["X"], shards["y"], shards["Xv"], shards["yv"]
    params = dict(TINY, epochs=4)
    memory = DenseNetClassifier(**params).fit(X, y)
    stream = DenseNetClassifier(**params).fit(_stream(shards["train"], random_state=3))
    assert int(stream.model_.optimizer.iterations.numpy()) == int(
        memory.model_.optimizer.iterations.numpy()) == 60
    gap_memory, gap_stream = memory.score(Xv, yv), stream.score(Xv, yv)
    assert gap_memory > 0.75
    assert abs(gap_stream - gap_memory) < 0.03, (gap_stream, gap_memory)


def test_quantized_batches_stay_uint8_and_match_float(shards):
    """uint8 batches reach the network as uint8 and train as their float values do."""
    X, y = shards["X"][:256], shards["y"][:256]
    q = quantize(np.clip(X, -2, 2))
    params = dict(TINY, dropout=0.0, epochs=1)
    on_q = DenseNetClassifier(**params).fit(lambda: _batches(q, y, 64))
    on_f = DenseNetClassifier(**params).fit(lambda: _batches(dequantize(q), y, 64))
    assert on_q.model_.inputs[0].dtype == "uint8"
    assert on_f.model_.inputs[0].dtype == "float32"
    np.testing.assert_allclose(on_q.predict_proba(q), on_f.predict_proba(dequantize(q)),
                               atol=1e-4)


class MeanFrames(DenseNetClassifier):
    """A minimal frame-level classifier (3-D input) for the frame-level stream test."""

    _input_ndim = 3

    def _build_body(self, x):
        return keras.layers.Dense(16, activation="relu")(keras.layers.GlobalAveragePooling1D()(x))


def test_frame_level_uint8_shards(tmp_path):
    paths = make_yt8m(48, n_classes=6, level="frame", n_frames=8, n_shards=2,
                      directory=tmp_path, random_state=0)
    stream = iter_yt8m(paths, level="frame", n_classes=6, max_frames=8, dequantize=False,
                       batch_size=16)
    Xb, _ = next(iter(stream))
    assert Xb.dtype == np.uint8 and Xb.shape == (16, 8, 1152)
    clf = MeanFrames(epochs=2, batch_size=16, random_state=0).fit(stream)
    assert clf.model_.inputs[0].dtype == "uint8"
    assert clf.n_features_in_ == 1152 and clf.n_iter_ == 2
    Xq = load_yt8m(paths, level="frame", n_classes=6, max_frames=8, dequantize=False).X
    assert clf.predict_proba(Xq).shape == (48, 6)


def test_partial_fit_on_chunks_and_on_a_stream(shards):
    """partial_fit: chunk by chunk from iter_yt8m, or one pass over a whole stream."""
    clf = DenseNetClassifier(**TINY)
    for Xb, yb in _stream(shards["train"][:2], batch_size=160):
        clf.partial_fit(Xb, yb)
    assert clf.n_iter_ == 3 and clf.n_features_in_ == 1152
    steps = int(clf.model_.optimizer.iterations.numpy())
    assert steps == 3 * 3  # three 160-video chunks of 3 batches (64, 64, 32)
    clf.partial_fit(_stream(shards["train"][:2]))  # one more pass: 480 videos, 8 batches
    assert int(clf.model_.optimizer.iterations.numpy()) == steps + 8
    assert clf.n_iter_ == 4


def test_other_stream_types(shards):
    """PyDataset (sparse y, weights), re-iterables without len, sparse-label shards."""
    X, y = shards["X"], shards["y"]

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epochs_ended = 0

        def __len__(self):
            return 4

        def __getitem__(self, i):
            s = slice(60 * i, 60 * (i + 1))
            return X[s], sp.csr_matrix(y[s]), np.ones(60, np.float32)

        def on_epoch_end(self):
            self.epochs_ended += 1

    ds = Batches()
    clf = DenseNetClassifier(epochs=2, **dict(TINY, batch_size=60)).fit(ds)
    assert int(clf.model_.optimizer.iterations.numpy()) == 8
    assert ds.epochs_ended >= 2
    assert clf.predict(X[:5]).shape == (5, N_CLASSES)

    listed = ListBatches(_batches(X[:256], y[:256], 64))
    clf = DenseNetClassifier(epochs=2, **TINY).fit(listed)
    assert listed.passes == 3  # one counting pass, then one per epoch
    assert int(clf.model_.optimizer.iterations.numpy()) == 8

    sparse = _stream(shards["train"][:1], sparse_labels=True)
    assert sp.issparse(next(iter(sparse))[1])
    clf = DenseNetClassifier(epochs=1, **TINY).fit(sparse)
    assert int(clf.model_.optimizer.iterations.numpy()) == 4


def test_one_dim_labels_from_a_stream(shards):
    X = shards["X"][:256]
    labels = np.where(X[:, 0] > 0, "pos", "neg")
    batches = _batches(X, labels, 64)
    clf = DenseNetClassifier(epochs=2, **TINY).fit(lambda: batches)
    np.testing.assert_array_equal(clf.classes_, ["neg", "pos"])
    assert set(clf.predict(X[:20])) <= {"neg", "pos"}
    with pytest.raises(ValueError, match="classes must be passed"):
        DenseNetClassifier(**TINY).partial_fit(lambda: batches)
    with pytest.raises(ValueError, match="labels not in the classes"):
        clf.partial_fit(lambda: [(X[:8], np.array(["maybe"] * 8))])


def test_bad_streams_raise_clear_errors(shards):
    X, y = shards["X"][:128], shards["y"][:128]
    clf = DenseNetClassifier(epochs=2, **dict(TINY, batch_size=32))
    with pytest.raises(ValueError, match="one-shot iterator"):
        clf.fit(b for b in _batches(X, y, 32))
    with pytest.raises(ValueError, match="y must be None"):
        clf.fit(_stream(shards["train"]), y)
    with pytest.raises(ValueError, match="epochs=1"):
        clf.fit(_stream(shards["train"], epochs=2))
    with pytest.raises(ValueError, match="validation_split"):
        DenseNetClassifier(validation_split=0.2, **TINY).fit(_stream(shards["train"]))
    with pytest.raises(ValueError, match="X must be a stream too"):
        clf.fit(X, y, validation_data=_stream(shards["val"]))
    with pytest.raises(ValueError, match="balanced"):
        DenseNetClassifier(class_weight="balanced", **TINY).fit(_stream(shards["train"]))
    with pytest.raises(ValueError, match=r"batch 0 is a ndarray"):
        clf.fit(lambda: [X[:10]])
    with pytest.raises(ValueError, match="yields no batches"):
        clf.fit(lambda: [])
    bad = _batches(X, y, 32)
    bad[2] = (X[64:96, :100], y[64:96])
    with pytest.raises(ValueError, match="X batch 2: X has 100 features"):
        clf.fit(lambda: bad)
    passes = iter([_batches(X, y, 32), _batches(X, y, 32)])  # then 3 batches, not 4
    with pytest.raises(ValueError, match="same number of batches"):
        clf.fit(lambda: next(passes, _batches(X, y, 32)[:-1]))


def test_early_stopping_on_streamed_val_gap(shards):
    clf = DenseNetClassifier(epochs=30, early_stopping=True, monitor="val_gap", patience=1,
                             **dict(TINY, learning_rate=3e-2))
    clf.fit(_stream(shards["train"][:1]), validation_data=_stream(shards["val"], shuffle=False))
    assert clf.n_iter_ < 30
    assert len(clf.history_["val_gap"]) == clf.n_iter_


def test_random_state_holds_while_other_threads_use_random(shards):
    """Another thread drawing from Python's random (as a Dask worker's event loop
    does) during fit does not change the network a random_state builds."""
    import random
    import threading

    X, y = shards["X"][:128], shards["y"][:128]
    params = dict(TINY, epochs=1)
    quiet = DenseNetClassifier(**params).fit(X, y).predict_proba(X)
    stop = threading.Event()

    def draw():
        while not stop.is_set():
            random.random()

    noisy_thread = threading.Thread(target=draw)
    noisy_thread.start()
    try:
        noisy = DenseNetClassifier(**params).fit(X, y).predict_proba(X)
    finally:
        stop.set()
        noisy_thread.join()
    np.testing.assert_array_equal(noisy, quiet)


# ----------------------------------------------------------------- distribution
def test_distribution_param_errors_and_scope(shards):
    from skqrnn._distribution import distribution_scope

    X, y = shards["X"][:64], shards["y"][:64]
    clf = DenseNetClassifier(epochs=1, **TINY)
    clf.distribution = "model_parallel"
    with pytest.raises(ValueError, match="distribution must be None"):
        clf.fit(X, y)
    # One device here: data_parallel is a valid, trivial mesh; the previous
    # global distribution is restored after fit and predict.
    clf.distribution = "data_parallel"
    before = keras.distribution.distribution()
    clf.fit(X, y)
    clf.predict_proba(X)
    assert keras.distribution.distribution() is before
    with distribution_scope(clf) as dist:
        assert isinstance(dist, keras.distribution.DataParallel)
        assert keras.distribution.distribution() is dist
    assert keras.distribution.distribution() is before


DATA_PARALLEL_SCRIPT = textwrap.dedent("""
    import json, os, sys, warnings
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    os.environ.pop("KERAS_BACKEND", None)
    import numpy as np
    import skqrnn
    import jax, keras
    from skqrnn import DenseNetClassifier
    from skqrnn.io import iter_yt8m, load_yt8m

    train = json.loads(sys.argv[1])
    X, y = load_yt8m(train, n_classes=12, sparse_labels=False, return_X_y=True)
    params = dict(stem_units=16, growth_rate=8, block_layers=(1,), dropout=0.2, epochs=3,
                  batch_size=32, learning_rate=3e-3, random_state=0)
    out = {"backend": keras.backend.backend(), "devices": jax.device_count()}

    def fit(dist, data, *args):
        clf = DenseNetClassifier(**params)
        clf.distribution = dist  # set_params once the estimator lists it
        clf.fit(data, *args)
        return clf

    one = fit(None, X, y)
    two = fit("data_parallel", X, y)
    kernel = two.model_.get_layer("logits").kernel.value
    out["weight_devices"] = len(kernel.sharding.device_set)
    out["distribution_after_fit"] = repr(keras.distribution.distribution())
    out["max_diff"] = float(np.abs(one.predict_proba(X) - two.predict_proba(X)).max())
    out["gap"] = [one.score(X, y), two.score(X, y)]

    stream = lambda: iter_yt8m(train, n_classes=12, batch_size=32, shuffle=False)
    s1 = fit(None, stream())
    s2 = fit("data_parallel", stream())
    out["stream_max_diff"] = float(np.abs(s1.predict_proba(X) - s2.predict_proba(X)).max())

    errors = {}
    for name, kw, data in [("batch", dict(batch_size=33), (X[:66], y[:66])),
                           ("last_batch", {}, (X[:101], y[:101]))]:
        clf = DenseNetClassifier(**{**params, **kw})
        clf.distribution = "data_parallel"
        try:
            clf.fit(*data)
        except ValueError as exc:
            errors[name] = str(exc)
    out["errors"] = errors
    print("RESULT" + json.dumps(out))
""")


@pytest.mark.slow
def test_data_parallel_on_two_virtual_devices_matches_one_device(shards):
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "KERAS_BACKEND")}
    proc = subprocess.run(
        [sys.executable, "-c", DATA_PARALLEL_SCRIPT, json.dumps(shards["train"])],
        capture_output=True, text=True, timeout=300, env=env, cwd=ROOT,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT"):])
    assert out["backend"] == "jax" and out["devices"] == 2
    assert out["weight_devices"] == 2  # the variables really live on both devices
    assert out["distribution_after_fit"] == "None"  # restored after fit and predict
    # Same batches, seed and steps; each step's reductions are split over two
    # devices, so the networks agree to float32 rounding, not bit for bit.
    assert out["max_diff"] < 1e-3, out
    assert out["gap"][1] == pytest.approx(out["gap"][0], abs=2e-3)
    assert out["stream_max_diff"] < 1e-3, out
    assert "batch_size=33 must be a multiple of 2" in out["errors"]["batch"]
    assert "last batch of 5" in out["errors"]["last_batch"]
