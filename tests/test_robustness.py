"""Robustness of the estimators against bad inputs, bad files and failing disks (issue 14).

Each test pins one fix: an atomic ``save``, ``predict_proba`` batches bounded
by the data, label lists refused with scikit-learn's rule, ``load_model``
errors in the OS's words for missing files, tampered or damaged archives
refused without allocating what they claim, no NumPy ``__array__``
deprecation warnings, and a warning for a target without positives. The
command-line cases of the issue are in test_cli.py.

Only public API is used (``skqrnn.DenseNetClassifier``, ``load_model``,
``keras.Model``), so every test also runs against the code before the fixes
(``PYTHONPATH=<old checkout>``), where each one fails.
"""

import skqrnn  # noqa: F401  (first: it picks the Keras backend before Keras loads)

import json
import os
import tracemalloc
import warnings
import zipfile

import keras
import numpy as np
import pytest

from skqrnn import DenseNetClassifier, QRNNClassifier
from skqrnn.base import load_model

pytestmark = pytest.mark.usefixtures("jax_compilation_cache")

METADATA = "skqrnn_estimator.json"
DISK_FULL = (28, "No space left on device")


def tiny(**params):
    return DenseNetClassifier(**{**dict(stem_units=8, growth_rate=4, block_layers=(1,),
                                        epochs=1, random_state=0), **params})


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 6).astype(np.float32)
    y = rng.randint(0, 2, size=(40, 3))
    y[:, 0] = 1  # every label column has positives
    return X, y


@pytest.fixture(scope="module")
def fitted(data):
    return tiny().fit(*data)


@pytest.fixture
def saved(fitted, tmp_path):
    path = tmp_path / "model.keras"
    fitted.save(path)
    return path


def _rewrite_metadata(path, edit, *, raw=None):
    """Rewrite the archive at ``path`` with its estimator JSON passed through ``edit``
    (or replaced by the bytes ``raw``: an iterable of chunks, streamed into the zip)."""
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    tmp = str(path) + ".new"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info, content in members:
            if info.filename != METADATA:
                archive.writestr(info, content)
                continue
            if raw is None:
                archive.writestr(METADATA, json.dumps(edit(json.loads(content))))
            else:
                with archive.open(METADATA, "w") as member:
                    for chunk in raw(content):
                        member.write(chunk)
    os.replace(tmp, path)


def _no_network_load(monkeypatch):
    """Make reading the network an error: a refused file must stop before it."""
    def fail(*args, **kwargs):
        raise AssertionError("the network was loaded from a refused file")
    monkeypatch.setattr(keras.saving, "load_model", fail)


# ------------------------------------------------------------------ 1. atomic save
def _failing_keras_save(path, *args, **kwargs):
    with open(path, "wb") as f:
        f.write(b"PK\x03\x04 half a model")
    raise OSError(*DISK_FULL)


_real_writestr = zipfile.ZipFile.writestr


def _failing_writestr(self, name, data, *args, **kwargs):
    # Keras writes its own members (the weights use writestr too); the disk
    # fills up only when the estimator metadata is added to the archive.
    if getattr(name, "filename", name) != METADATA:
        return _real_writestr(self, name, data, *args, **kwargs)
    self.fp.write(b"half of the estimator metadata")
    raise OSError(*DISK_FULL)


def _interrupted_keras_save(path, *args, **kwargs):
    with open(path, "wb") as f:
        f.write(b"PK\x03\x04 half a model")
    raise KeyboardInterrupt


@pytest.mark.parametrize("where", ["keras_save", "metadata", "ctrl_c"])
def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(where, fitted, saved, data,
                                                              monkeypatch):
    before = saved.read_bytes()
    expected = fitted.predict_proba(data[0])
    if where == "metadata":
        monkeypatch.setattr(zipfile.ZipFile, "writestr", _failing_writestr)
    else:
        fail = _failing_keras_save if where == "keras_save" else _interrupted_keras_save
        monkeypatch.setattr(keras.Model, "save", lambda self, path, *a, **k: fail(path))
    with pytest.raises(KeyboardInterrupt if where == "ctrl_c" else OSError,
                       match=None if where == "ctrl_c" else "No space left") as info:
        fitted.save(saved)
    monkeypatch.undo()
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == [saved.name]  # no .skqrnn-* temporary left
    np.testing.assert_array_equal(load_model(saved).predict_proba(data[0]), expected)
    if where != "ctrl_c":  # the error names the file asked for, not a temporary
        assert info.value.errno == DISK_FULL[0] and info.value.filename == str(saved)


def test_save_into_a_missing_directory_names_the_target_not_a_temporary(fitted, tmp_path):
    target = tmp_path / "no_such_dir" / "model.keras"
    with pytest.raises(FileNotFoundError) as info:
        fitted.save(target)
    assert info.value.filename == str(target)
    assert ".skqrnn-" not in str(info.value)
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------- 2. bounded predict batches
def _spy_batches(monkeypatch, model):
    rows = []
    real = type(model).predict_on_batch

    def spy(self, x, *args, **kwargs):
        rows.append(np.shape(x)[0])
        return real(self, x, *args, **kwargs)

    monkeypatch.setattr(type(model), "predict_on_batch", spy)
    return rows


@pytest.mark.parametrize("batch_size", [10**6, 10**9])
def test_predict_batches_are_bounded_by_the_data(batch_size, data, monkeypatch):
    # (Before the fix, 10**9 padded X to 10**9 rows: 24 GB. Check the old code
    # with -k 1000000 only.)
    X, y = data
    clf = tiny().fit(X, y)
    expected = clf.predict_proba(X)
    rows = _spy_batches(monkeypatch, clf.model_)
    clf.set_params(batch_size=batch_size)
    proba = clf.predict_proba(X)
    assert rows and max(rows) <= 64 and sum(rows) >= len(X)
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)


def test_frame_level_predict_pads_to_a_power_of_two_not_batch_size(monkeypatch):
    rng = np.random.RandomState(0)
    X = rng.randn(8, 5, 4).astype(np.float32)
    y = np.array([[1, 0], [0, 1]] * 4)
    clf = QRNNClassifier(units=4, epochs=1, batch_size=8, max_frames=5, random_state=0)
    clf.fit(X, y)
    few = X[:3]
    expected = clf.predict_proba(few)
    rows = _spy_batches(monkeypatch, clf.model_)
    clf.set_params(batch_size=256)
    proba = clf.predict_proba(few)
    assert rows and max(rows) <= 4
    np.testing.assert_allclose(proba, expected, rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------ 5. label lists
def test_ragged_label_lists_are_refused_with_a_pointer_to_multilabelbinarizer(data):
    with pytest.raises(ValueError, match="MultiLabelBinarizer"):
        tiny().fit(data[0], [[3, 4], [0]] * 20)


def test_a_list_of_equal_length_01_lists_is_an_indicator_matrix(data):
    X, y = data
    clf = tiny().fit(X, y.tolist())
    np.testing.assert_array_equal(clf.classes_, np.arange(3))
    assert clf.n_outputs_ == 3
    assert clf.predict(X).shape == (40, 3)
    np.testing.assert_array_equal(clf.predict_proba(X), tiny().fit(X, y).predict_proba(X))


@pytest.mark.parametrize("labels", [[[3, 4], [4, 3]], [[3, 4], [0, 5]], [[0, 2], [2, 0]]])
def test_equal_length_label_id_lists_get_the_indicator_error(labels, data):
    with pytest.raises(ValueError, match="0/1") as info:
        tiny().fit(data[0], labels * 20)
    assert "MultiLabelBinarizer" in str(info.value)


# ------------------------------------------------------------- 7. missing model files
def test_load_model_of_a_missing_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such file"):
        load_model(tmp_path / "nothing.keras")


def test_load_model_of_a_directory_says_so(tmp_path):
    folder = tmp_path / "model.keras"
    folder.mkdir()
    with pytest.raises(OSError) as info:  # IsADirectoryError on POSIX
        load_model(folder)
    assert "not a Keras" not in str(info.value)


# ---------------------------------------------------------------- 8. tampered files
@pytest.mark.parametrize("name", ["predict_proba", "epochs", "__class__", "fit"])
def test_tampered_fitted_names_are_refused(name, saved, monkeypatch):
    _rewrite_metadata(saved, lambda meta: {**meta, "fitted": {**meta["fitted"], name: 1}})
    _no_network_load(monkeypatch)
    with pytest.raises(ValueError, match="tampered") as info:
        load_model(saved)
    assert str(saved) in str(info.value)


def _load_under_tracemalloc(path):
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return info.value, peak


@pytest.mark.parametrize("stored", [
    {"__ndarray__": ["ab"], "dtype": "|S2000000000", "shape": [1]},
    {"__ndarray__": ["ab"], "dtype": "<U100000000", "shape": [1]},
    {"__ndarray__": [0], "dtype": "<i8", "shape": [10**9]},
    {"__ndarray__": [0], "dtype": "<i8", "shape": [-1]},
    {"__ndarray__": [0], "dtype": "|O", "shape": [1]},
    {"__ndarray__": [0], "dtype": "<V8", "shape": [1]},
], ids=["S2e9", "U1e8", "shape1e9", "shape-1", "dtype-O", "void"])
def test_tampered_arrays_are_refused_without_allocating(stored, saved, monkeypatch):
    _rewrite_metadata(saved, lambda meta: {**meta,
                                           "fitted": {**meta["fitted"], "classes_": stored}})
    _no_network_load(monkeypatch)
    error, peak = _load_under_tracemalloc(saved)
    assert str(saved) in str(error)
    assert peak < 50 * 2**20


@pytest.mark.parametrize("stored", [{"__dict__": [1]}, {"__dict__": 5}, {"__tuple__": 5},
                                    {"__ndarray__": [10**30], "dtype": "<i8", "shape": [1]},
                                    {"__dtype__": "<M8"}, {"__unknown__": 1}])
def test_tampered_values_raise_a_value_error_naming_the_file(stored, saved, monkeypatch):
    _rewrite_metadata(saved, lambda meta: {**meta,
                                           "fitted": {**meta["fitted"], "classes_": stored}})
    _no_network_load(monkeypatch)
    with pytest.raises(ValueError) as info:
        load_model(saved)
    assert str(saved) in str(info.value)


@pytest.mark.parametrize("state", ["x", {"a": 1}, None, [1e30, 1e30], [-1, 2**70]])
def test_tampered_generator_states_raise_a_value_error(state, saved):
    def edit(meta):  # the dropout generators' states, saved for exact resuming
        assert meta["seed_states"]
        return {**meta, "seed_states": [state] * len(meta["seed_states"])}

    _rewrite_metadata(saved, edit)
    with pytest.raises(ValueError) as info:
        load_model(saved)
    assert str(saved) in str(info.value)


@pytest.mark.parametrize("where", ["fitted", "params"])
def test_deeply_nested_metadata_raises_a_value_error(where, saved, monkeypatch):
    depth = 100_000  # json and the decoder would hit the recursion limit

    def nested(content):
        meta = json.loads(content)
        key = "classes_" if where == "fitted" else "epochs"
        meta[where][key] = "NESTED"
        yield json.dumps(meta).replace('"NESTED"', "[" * depth + "]" * depth).encode()

    _rewrite_metadata(saved, None, raw=nested)
    _no_network_load(monkeypatch)
    with pytest.raises(ValueError) as info:
        load_model(saved)
    assert str(saved) in str(info.value)


def test_a_metadata_zip_bomb_is_refused_without_reading_it(saved, monkeypatch):
    def bomb(content):  # 200 MB of JSON whitespace, then the real metadata
        for _ in range(200):
            yield b" " * 2**20
        yield content

    _rewrite_metadata(saved, None, raw=bomb)
    assert os.path.getsize(saved) < 2 * 2**20
    _no_network_load(monkeypatch)
    error, peak = _load_under_tracemalloc(saved)
    assert str(saved) in str(error)
    assert peak < 50 * 2**20


# ---------------------------------------------------------------- damaged archives
def test_a_flipped_byte_makes_load_model_raise_a_value_error_naming_the_file(saved):
    raw = bytearray(saved.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    saved.write_bytes(bytes(raw))
    with pytest.raises(ValueError) as info:
        load_model(saved)
    assert str(saved) in str(info.value)


def test_a_truncated_archive_makes_load_model_raise_a_value_error(saved):
    saved.write_bytes(saved.read_bytes()[: os.path.getsize(saved) // 2])
    with pytest.raises(ValueError) as info:
        load_model(saved)
    assert str(saved) in str(info.value)


# ------------------------------------------------- 11. no __array__ DeprecationWarning
class _OldStyleArray:
    def __array__(self, dtype=None):
        return np.zeros(2)


def test_fit_predict_save_raise_no_array_copy_deprecation_warning(data, tmp_path):
    X, y = data
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        warnings.simplefilter("error", DeprecationWarning)
        # The filter sees NumPy's warning (setup.cfg ignores jax/keras ones under pytest).
        with pytest.raises(DeprecationWarning, match="__array__ implementation"):
            np.array(_OldStyleArray(), copy=False)
        clf = tiny().fit(X, y)
        clf.predict_proba(X)
        clf.predict(X)
        clf.save(tmp_path / "m.keras")
        load_model(tmp_path / "m.keras").predict(X)
    assert not [w for w in seen if "__array__" in str(w.message)]


# -------------------------------------------------------- 12. a target without positives
def test_a_multilabel_target_without_positives_warns(data):
    with pytest.warns(UserWarning, match="no positive label"):
        tiny().fit(data[0], np.zeros((40, 3), dtype=int))
