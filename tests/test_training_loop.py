"""The one training loop: checkpoints and resume, read-ahead, and the module layout."""

import skqrnn  # noqa: F401  (first: it picks the Keras backend before Keras loads)

import ast
import os
import threading
from pathlib import Path

import keras
import numpy as np
import pytest

from skqrnn import DenseNetClassifier
from skqrnn.base import load_model
from skqrnn._data import StreamBatches
from skqrnn.io import iter_yt8m, write_yt8m

pytestmark = pytest.mark.usefixtures("jax_compilation_cache")

TINY = dict(stem_units=16, growth_rate=8, block_layers=(1,), dropout=0.3, batch_size=32,
            learning_rate=3e-3, random_state=0)


def _data(n=160, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 12).astype(np.float32)
    Y = (X[:, :5] + 0.5 * rng.randn(n, 5) > 0.3).astype(np.int8)
    return X, Y


class _Interrupt(keras.callbacks.Callback):
    """Stands for a crash or Ctrl-C at the start of epoch ``at`` (0-based)."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            raise KeyboardInterrupt


def test_interrupted_and_resumed_fit_equals_the_uninterrupted_one(tmp_path):
    X, Y = _data()
    Xv, Yv = _data(64, seed=1)
    full = DenseNetClassifier(epochs=5, **TINY).fit(X, Y, validation_data=(Xv, Yv))

    ckpt = tmp_path / "run.keras"
    first = DenseNetClassifier(epochs=5, checkpoint=str(ckpt), callbacks=[_Interrupt(3)],
                               **TINY)
    with pytest.raises(KeyboardInterrupt):
        first.fit(X, Y, validation_data=(Xv, Yv))
    saved = load_model(ckpt)  # a checkpoint is an ordinary saved estimator
    assert isinstance(saved, DenseNetClassifier) and saved.n_iter_ == 3
    assert len(saved.history_["val_gap"]) == 3

    resumed = DenseNetClassifier(epochs=5, checkpoint=str(ckpt), **TINY)
    resumed.fit(X, Y, validation_data=(Xv, Yv), resume=True)
    assert resumed.n_iter_ == 5 and len(resumed.history_["loss"]) == 5
    np.testing.assert_allclose(resumed.history_["loss"], full.history_["loss"], rtol=1e-4)
    np.testing.assert_allclose(resumed.predict_proba(Xv), full.predict_proba(Xv), atol=1e-5)
    assert load_model(ckpt).n_iter_ == 5  # the last epoch is checkpointed too


def test_resumed_early_stopped_fit_stops_and_keeps_the_best_epoch_as_the_uninterrupted_one(
        tmp_path):
    """Early stopping's counters, its best epoch's weights and the adaptive
    schedule's counters travel in the checkpoint: a fit interrupted after a
    step-size cut, or after an epoch worse than the best, resumes to the same
    stopping epoch and the same (best-epoch) network. A finished fit's
    checkpoint is the fitted estimator, and resuming it trains nothing."""
    X, Y = _data()
    Xv, Yv = _data(64, seed=1)
    kw = dict(early_stopping=True, patience=3, epochs=30, lr_schedule="adaptive",
              **{**TINY, "learning_rate": 3e-2})
    full = DenseNetClassifier(**kw).fit(X, Y, validation_data=(Xv, Yv))
    gap, rates = full.history_["val_gap"], full.history_["learning_rate"]
    best = int(np.argmax(gap))
    # The data give a fit that cuts the step size and stops after worse epochs.
    assert full.n_iter_ < 30 and best < full.n_iter_ - 1 and rates[-1] < rates[0]
    cut = next(i for i, r in enumerate(rates) if r < rates[0])
    for at in sorted({best + 2, cut + 1}):  # epochs done when interrupted
        ckpt = tmp_path / f"at{at}.keras"
        with pytest.raises(KeyboardInterrupt):
            DenseNetClassifier(checkpoint=str(ckpt), callbacks=[_Interrupt(at)], **kw).fit(
                X, Y, validation_data=(Xv, Yv))
        assert load_model(ckpt).n_iter_ == at
        resumed = DenseNetClassifier(checkpoint=str(ckpt), **kw).fit(
            X, Y, validation_data=(Xv, Yv), resume=True)
        assert resumed.n_iter_ == full.n_iter_, at
        np.testing.assert_allclose(resumed.history_["val_gap"], gap, rtol=1e-5)
        np.testing.assert_allclose(resumed.history_["learning_rate"], rates, rtol=1e-6)
        np.testing.assert_allclose(resumed.predict_proba(Xv), full.predict_proba(Xv),
                                   atol=1e-5)
        # Finished: the checkpoint holds the best epoch, and nothing is retrained.
        np.testing.assert_array_equal(load_model(ckpt).predict_proba(Xv),
                                      resumed.predict_proba(Xv))
        again = DenseNetClassifier(checkpoint=str(ckpt), **kw).fit(
            X, Y, validation_data=(Xv, Yv), resume=True)
        assert again.n_iter_ == full.n_iter_
        np.testing.assert_array_equal(again.predict_proba(Xv), resumed.predict_proba(Xv))


def test_checkpoint_with_damaged_best_weights_is_refused_by_name(tmp_path):
    import zipfile

    from skqrnn._persistence import BEST_WEIGHTS_NAME

    X, Y = _data()
    Xv, Yv = _data(64, seed=1)
    kw = dict(early_stopping=True, patience=5, epochs=30, **{**TINY, "learning_rate": 3e-2})
    full = DenseNetClassifier(**kw).fit(X, Y, validation_data=(Xv, Yv))
    at = int(np.argmax(full.history_["val_gap"])) + 2
    ckpt = tmp_path / "c.keras"
    with pytest.raises(KeyboardInterrupt):
        DenseNetClassifier(checkpoint=str(ckpt), callbacks=[_Interrupt(at)], **kw).fit(
            X, Y, validation_data=(Xv, Yv))
    damaged = tmp_path / "damaged.keras"
    with zipfile.ZipFile(ckpt) as src, zipfile.ZipFile(damaged, "w") as dst:
        assert BEST_WEIGHTS_NAME in src.namelist()
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, b"not an npz" if info.filename == BEST_WEIGHTS_NAME else data)
    with pytest.raises(ValueError, match=r"damaged\.keras: the stored best weights"):
        DenseNetClassifier(checkpoint=str(damaged), **kw).fit(
            X, Y, validation_data=(Xv, Yv), resume=True)


def test_resume_refuses_other_parameters_and_starts_fresh_without_a_file(tmp_path):
    X, Y = _data()
    ckpt = tmp_path / "run.keras"
    DenseNetClassifier(epochs=2, checkpoint=str(ckpt), **TINY).fit(X, Y)
    other = DenseNetClassifier(epochs=4, checkpoint=str(ckpt), **{**TINY, "dropout": 0.1})
    with pytest.raises(ValueError, match=r"dropout=0.1 \(checkpoint: 0.3\)"):
        other.fit(X, Y, resume=True)
    # More epochs is what resuming is for.
    more = DenseNetClassifier(epochs=4, checkpoint=str(ckpt), **TINY).fit(X, Y, resume=True)
    assert more.n_iter_ == 4
    fresh = DenseNetClassifier(epochs=1, checkpoint=str(tmp_path / "d"), **TINY)
    os.mkdir(tmp_path / "d")
    fresh.fit(X, Y, resume=True)  # no checkpoint yet: from scratch, then one is written
    assert (tmp_path / "d" / "checkpoint.keras").exists() and fresh.n_iter_ == 1
    with pytest.raises(ValueError, match="set checkpoint=PATH"):
        DenseNetClassifier(**TINY).fit(X, Y, resume=True)


def test_checkpoint_every_and_bad_values(tmp_path):
    X, Y = _data()
    ckpt = tmp_path / "c.keras"
    saves = []

    class Spy(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            saves.append(load_model(ckpt).n_iter_ if ckpt.exists() else 0)

    DenseNetClassifier(epochs=5, checkpoint=str(ckpt), checkpoint_every=2, callbacks=[Spy()],
                       **TINY).fit(X, Y)
    # The spy runs before the checkpoint of its epoch: it sees the one before.
    assert saves == [0, 0, 2, 2, 4] and load_model(ckpt).n_iter_ == 5
    for bad in (0, "soon", "-5min", 1.5):
        with pytest.raises(ValueError, match="checkpoint_every must be"):
            DenseNetClassifier(checkpoint=str(ckpt), checkpoint_every=bad, **TINY).fit(X, Y)
    with pytest.raises(ValueError, match="ending in .keras"):
        DenseNetClassifier(checkpoint=str(tmp_path / "c.h5"), **TINY).fit(X, Y)


def test_stream_read_ahead_overlaps_and_stops_cleanly(tmp_path):
    """Batches are decoded by one background thread, ahead of training; an error
    in it is raised in the training thread with the batch named, and no
    thread is left running after fit, whatever happened."""
    rng = np.random.RandomState(0)
    paths = []
    for i in range(3):
        paths.append(str(tmp_path / f"train{i:04d}.tfrecord"))
        X = rng.randn(64, 1152).astype(np.float32)
        write_yt8m(paths[-1], X, (X[:, :6] > 0.5).astype(np.int8))
    threads = []
    original = StreamBatches._start_pass

    def spy(self):
        original(self)
        threads.append(self._thread)

    stream = iter_yt8m(paths, batch_size=32, n_classes=6, sparse_labels=True, random_state=0)
    est = DenseNetClassifier(epochs=2, **TINY)
    StreamBatches._start_pass = spy
    try:
        est.fit(stream)
    finally:
        StreamBatches._start_pass = original
    assert threads and all(t is not None for t in threads)
    assert not any(t.is_alive() for t in threads)
    assert not [t for t in threading.enumerate() if t.name == "skqrnn-read-ahead"]
    # A damaged shard in the middle: named, and the reader thread is stopped.
    data = Path(paths[1]).read_bytes()
    Path(paths[1]).write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="train0001"):
        DenseNetClassifier(epochs=1, **TINY).fit(
            iter_yt8m(paths, batch_size=32, n_classes=6, sparse_labels=True, shuffle=False))
    assert not [t for t in threading.enumerate() if t.name == "skqrnn-read-ahead"]


def _imports(path, package_dir):
    """Modules of skqrnn that ``path`` imports, at any depth (function-local too)."""
    tree = ast.parse(path.read_text())
    module = ".".join(path.relative_to(package_dir.parent).with_suffix("").parts)
    if module.endswith(".__init__"):
        module = module[: -len(".__init__")]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target] + [f"{target}.{a.name}" for a in node.names]
            found.update(n for n in names if n.startswith("skqrnn"))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("skqrnn"))
    return module, found


def test_no_module_imports_one_that_imports_it_back():
    package_dir = Path(skqrnn.__file__).parent
    graph = {}
    for path in package_dir.rglob("*.py"):
        module, targets = _imports(path, package_dir)
        graph[module] = targets
    modules = set(graph)
    graph = {m: {t for t in ts if t in modules and t != m} for m, ts in graph.items()}
    # A package's __init__ re-exporting its submodules is not a cycle of code.
    cycles = []

    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    for m in modules:
        for t in graph[m]:
            if m in reach(t) and not (m.startswith(t + ".") or t.startswith(m + ".")):
                cycles.append((m, t))
    assert cycles == []


def test_adaptive_learning_rate_divides_by_five_on_a_plateau_and_auto_follows_early_stopping():
    # Labels with no relation to X: the validation loss stops improving at
    # once, so the adaptive schedule must cut the step size epoch after epoch
    # (by 5 each time, never below 1/125 of the start).
    rng = np.random.RandomState(0)
    X = rng.randn(400, 12).astype(np.float32)
    Y = (rng.rand(400, 5) < 0.3).astype(np.int8)
    params = dict(TINY, learning_rate=0.05, epochs=8, early_stopping=True, patience=8,
                  validation_split=0.25, monitor="val_loss")
    clf = DenseNetClassifier(lr_schedule="adaptive", **params).fit(X, Y)
    lrs = np.array(clf.history_["learning_rate"])
    ratios = lrs / 0.05
    allowed = np.array([1, 0.2, 0.04, 0.008])
    assert np.isclose(ratios[:, None], allowed[None, :], rtol=1e-5).any(axis=1).all(), ratios
    assert np.all(np.diff(lrs) <= 0) and lrs[-1] < 0.05 * 0.2 * (1 + 1e-5)
    assert float(clf.model_.optimizer.learning_rate) == pytest.approx(lrs[-1], rel=1e-5)

    # "auto" is the adaptive schedule when the fit stops early, constant when not.
    auto = DenseNetClassifier(**params).fit(X, Y)
    np.testing.assert_allclose(auto.history_["learning_rate"], lrs, rtol=1e-6)
    constant = DenseNetClassifier(**dict(params, early_stopping=False)).fit(X, Y)
    assert "learning_rate" not in constant.history_
    assert float(constant.model_.optimizer.learning_rate) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="lr_schedule"):
        DenseNetClassifier(lr_schedule="cosine").fit(X, Y)
