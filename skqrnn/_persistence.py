"""Saving and loading estimators as Keras ``.keras`` archives.

A saved estimator is an ordinary Keras model file (``keras.saving.load_model``
reads the network) with one more member, ``skqrnn_estimator.json``: the
estimator's class, its parameters and its fitted attributes as JSON.

Writing is atomic (:func:`skqrnn._files.atomic_path`): an existing file is
replaced only by a complete new one. Reading trusts nothing in the archive:
only classes of the ``skqrnn`` package are imported by name, only
parameters the class takes and fitted attributes it defines are set, stored
arrays may hold only numbers, booleans and short strings, and what is
allocated is bounded by the size of the archive.
"""

import importlib
import io
import json
import numbers
import os
import warnings
import zipfile

import keras
import numpy as np

from ._files import atomic_path

__all__ = ["save_estimator", "load_estimator", "load_model", "read_best_weights"]

#: Name of the estimator description stored inside a ``.keras`` archive.
METADATA_NAME = "skqrnn_estimator.json"

#: A checkpoint's early-stopping best-epoch weights (when they are not the
#: network's current ones): ``w0``, ``w1``, ... in ``model.get_weights()`` order.
BEST_WEIGHTS_NAME = "skqrnn_best_weights.npz"
METADATA_FORMAT = 1

#: Longest string item (in bytes or characters) a stored array may hold.
_MAX_ITEMSIZE = 1024

#: The metadata may decompress to at most this many times the archive's size
#: (plus one MiB): JSON compresses about 10x, a zip bomb thousands of times.
_MAX_EXPANSION = 64


def _class_path(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def save_estimator(est, path, best_weights=None):
    """Write ``est`` (fitted) to ``path``; see ``KerasClassifierBase.save``.

    ``best_weights`` (a checkpoint's: a list of arrays) are stored too.
    """
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ValueError(f"save() writes a Keras archive: the file name must end in .keras; "
                         f"got {path!r}.")
    params, dropped = {}, []
    for name, value in est.get_params(deep=False).items():
        try:
            params[name] = _to_json(value)
        except TypeError:
            dropped.append(name)
    if dropped:
        warnings.warn(
            f"save(): parameters {dropped} are not JSON data and are not stored; they take "
            "their default values when the estimator is loaded.", UserWarning, stacklevel=3,
        )
    fitted = {}
    # Everything in __dict__ that is not a parameter (of the class or of a
    # base whose parameters the class does not list) is fitted state.
    skip = set(params) | set(dropped) | {"model_"}
    for klass in type(est).__mro__:
        if hasattr(klass, "_get_param_names") and "__init__" in vars(klass):
            skip.update(klass._get_param_names())
    for name, value in vars(est).items():
        if name in skip:
            continue
        try:
            fitted[name] = _to_json(value)
        except TypeError:
            raise TypeError(
                f"save(): fitted attribute {name} ({type(value).__name__}) cannot be stored "
                "as JSON; use pickle or joblib for this estimator."
            ) from None
    from . import __version__

    meta = {"format": METADATA_FORMAT, "class": _class_path(type(est)), "params": params,
            "fitted": fitted, "skqrnn_version": __version__,
            "keras_version": keras.__version__,
            "seed_states": [np.asarray(v).tolist() for v in _seed_states(est.model_)]}
    # Keras writes the archive itself, so it gets a name that does not exist
    # yet (some versions refuse to replace a file); the old file at ``path``
    # is replaced only once the new one is complete and on disk.
    with atomic_path(path, ".keras", create=False) as tmp, warnings.catch_warnings():
        # Keras's saving converts JAX arrays with np.array(x, copy=False),
        # which NumPy 2 answers with a DeprecationWarning at every save.
        warnings.filterwarnings("ignore", message="__array__ implementation doesn't accept",
                                category=DeprecationWarning)
        est.model_.save(tmp)
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(METADATA_NAME, json.dumps(meta))
            if best_weights is not None:
                with archive.open(BEST_WEIGHTS_NAME, "w", force_zip64=True) as member:
                    np.savez(member, **{f"w{i}": np.asarray(w)
                                        for i, w in enumerate(best_weights)})


def unpack_limit(archive_size):
    """The most bytes an archive of ``archive_size`` bytes may unpack to
    (``_MAX_EXPANSION`` times, plus 1 MiB); more means a zip bomb."""
    return _MAX_EXPANSION * archive_size + 2**20


def _read_member(path, name, what):
    """The bytes of archive member ``name`` of ``path`` (None if it has none).

    A member that would unpack to more than ``_MAX_EXPANSION`` times the
    archive (plus 1 MiB) is refused after reading at most that much
    (``what`` names it in the error).
    """
    # Opening first lets a missing or unreadable file say so in the OS's
    # words (FileNotFoundError, PermissionError, IsADirectoryError).
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if not zipfile.is_zipfile(f):
            raise ValueError(f"{path} is not a Keras .keras archive written by an skqrnn "
                             "estimator's save().")
        limit = unpack_limit(size)
        try:
            with zipfile.ZipFile(f) as archive:
                if name not in archive.namelist():
                    return None
                with archive.open(name) as member:
                    raw = member.read(limit + 1)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
            raise ValueError(f"{path} is a damaged .keras archive ({exc}).") from None
    if len(raw) > limit:
        raise ValueError(f"{path}: {what} is larger than the archive can hold honestly (over "
                         f"{limit} bytes); the file was tampered with.")
    return raw


def read_metadata(path):
    """The estimator description stored in ``path`` (checked, not yet trusted)."""
    path = os.fspath(path)
    raw = _read_member(path, METADATA_NAME, "the skqrnn estimator data")
    if raw is None:
        raise ValueError(
            f"{path} is a Keras model file without skqrnn estimator data (it was not written "
            "by an skqrnn estimator's save()); read it with keras.saving.load_model instead."
        )
    try:
        meta = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # "[[[[..." nests deep
        raise ValueError(f"{path}: the skqrnn estimator data is not valid JSON ({exc}).") from None
    if not isinstance(meta, dict) or meta.get("format") != METADATA_FORMAT:
        fmt = meta.get("format") if isinstance(meta, dict) else None
        raise ValueError(f"{path}: unknown skqrnn estimator format {fmt!r}.")
    for key in ("class", "params", "fitted"):
        expected = str if key == "class" else dict
        if not isinstance(meta.get(key), expected):
            raise ValueError(f"{path}: the skqrnn estimator data has no valid {key!r} entry.")
    return meta


def read_best_weights(path):
    """A checkpoint's stored best-epoch weights (list of arrays), or None.

    Bounded as the metadata is, and numbers only.
    """
    path = os.fspath(path)
    raw = _read_member(path, BEST_WEIGHTS_NAME, "the stored best weights")
    if raw is None:
        return None
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as stored:
            weights = [stored[f"w{i}"] for i in range(len(stored.files))]
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: the stored best weights cannot be read ({exc}); the file "
                         "is damaged.") from None
    if any(w.dtype.kind not in "biuf" for w in weights):
        raise ValueError(f"{path}: the stored best weights are not numeric; the file was "
                         "tampered with.")
    return weights


def skqrnn_class(meta, path):
    """The estimator class a file names; only skqrnn's own are imported by name."""
    module, _, qualname = meta["class"].rpartition(".")
    if not (module == "skqrnn" or module.startswith("skqrnn.")):
        raise ValueError(f"{path} holds a {meta['class']}: only skqrnn's own classes are "
                         f"loaded by name; load it with {qualname}.load().")
    try:
        cls = getattr(importlib.import_module(module), qualname, None)
    except ImportError:
        cls = None
    if not (isinstance(cls, type) and getattr(cls, "_skqrnn_estimator", False)):
        raise ValueError(f"{path} names {meta['class']}, which is not an skqrnn estimator.")
    return cls


def _fitted_names(cls):
    """Private fitted attributes the class declares (merged over its bases)."""
    names = set()
    for klass in cls.__mro__:
        names.update(vars(klass).get("_saved_private_attributes", ()))
    return names


def _check_fitted_name(cls, name, path):
    """A stored fitted attribute must be one the class can have: a public name
    ending in ``_`` that is not a method or property of the class, or one of
    its declared private attributes. Anything else would let a file replace
    ``predict_proba`` or a parameter."""
    ok = isinstance(name, str) and name.isidentifier() and (
        name in _fitted_names(cls)
        or (name.endswith("_") and not name.startswith("_") and not hasattr(cls, name))
    )
    if not ok:
        raise ValueError(f"{path}: the skqrnn estimator data sets {name!r}, which is not a "
                         f"fitted attribute of {cls.__name__}; the file was tampered with.")


def load_estimator(cls, meta, path):
    """Build a fitted ``cls`` from checked metadata and the archive's network."""
    valid = cls().get_params(deep=False)
    try:
        params = {k: _from_json(v) for k, v in meta["params"].items() if k in valid}
        fitted = {}
        for name, value in meta["fitted"].items():
            _check_fitted_name(cls, name, path)
            fitted[name] = _from_json(value)
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:
        raise ValueError(f"{path}: bad skqrnn estimator data ({exc}).") from None
    estimator = cls(**params)
    for name, value in fitted.items():
        setattr(estimator, name, value)
    # Importing the estimator's module registered its custom layers.
    try:
        estimator.model_ = keras.saving.load_model(os.fspath(path))
    except (OSError, MemoryError):
        raise
    except Exception as exc:  # a damaged archive fails anywhere inside Keras
        raise ValueError(f"{path}: the network in this archive cannot be read "
                         f"({type(exc).__name__}: {exc}); the file is damaged.") from None
    _restore_seed_states(estimator.model_, meta.get("seed_states"), path)
    return estimator


def _seed_states(model):
    """The states of the network's random generators (dropout masks, zoneout).

    Keras saves weights and the optimizer's state but not these, so a fit
    continued from a saved estimator (a checkpoint) would draw other dropout
    masks than the uninterrupted fit; they are stored with the estimator.
    """
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


def _restore_seed_states(model, states, path):
    variables = _seed_states(model)
    if not isinstance(states, list) or len(states) != len(variables):
        return  # written by an older version, or not ours: fresh generators
    for variable, state in zip(variables, states):
        try:
            value = np.asarray(state, dtype=variable.dtype)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"{path}: bad skqrnn estimator data (a random generator state: "
                             f"{exc}); the file was tampered with.") from None
        if value.shape == tuple(variable.shape):
            variable.assign(value)


def load_model(path):
    """Load any skqrnn estimator written by ``save()``.

    Only classes defined in the ``skqrnn`` package are imported by name; load
    an estimator of your own subclass with ``YourClass.load(path)``.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.keras`` file written by ``save``.

    Returns
    -------
    estimator : KerasClassifierBase
        The fitted estimator, of the class that saved it.

    Raises
    ------
    FileNotFoundError, PermissionError
        The file does not exist or cannot be read.
    ValueError
        The file is not an archive written by ``save()``, is damaged, or its
        estimator data was tampered with.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skqrnn import DenseNetClassifier
    >>> from skqrnn.base import load_model
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.randn(40, 6), rng.randint(0, 2, size=(40, 3))
    >>> clf = DenseNetClassifier(stem_units=8, growth_rate=4, block_layers=(1,),
    ...                          epochs=1, random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
    >>> clf.save(path)
    >>> bool(np.array_equal(load_model(path).predict_proba(X), clf.predict_proba(X)))
    True
    """
    meta = read_metadata(path)
    return load_estimator(skqrnn_class(meta, path), meta, path)


def _to_json(value):
    """JSON-able form of a parameter or fitted attribute (TypeError if none)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, np.dtype):
        return {"__dtype__": value.str if value.kind != "O" else "object"}
    if isinstance(value, type) and issubclass(value, np.generic):
        return {"__dtype__": np.dtype(value).str}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufUSO":
            raise TypeError(value.dtype)
        items = [_to_json(v) for v in value.ravel().tolist()]
        return {"__ndarray__": items, "dtype": value.dtype.str if value.dtype.kind != "O"
                else "object", "shape": list(value.shape)}
    if isinstance(value, tuple):
        return {"__tuple__": [_to_json(v) for v in value]}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _to_json(v) for k, v in value.items()}}
    raise TypeError(type(value).__name__)


def _stored_dtype(text):
    """A dtype named in a file: numbers, bools, short strings or object only."""
    if text == "object":
        return np.dtype(object)
    if not isinstance(text, str):
        raise ValueError(f"unknown stored dtype {text!r}")
    dtype = np.dtype(text)
    if dtype.kind not in "biufUS" or dtype.fields is not None or dtype.shape != ():
        raise ValueError(f"stored dtype {text!r} is not a plain numeric, bool or string dtype")
    if dtype.kind in "US" and dtype.itemsize > _MAX_ITEMSIZE * 4:
        raise ValueError(f"stored dtype {text!r} is longer than {_MAX_ITEMSIZE} characters")
    return dtype


def _from_json(value):
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(_from_json(v) for v in value["__tuple__"])
    if "__dict__" in value:
        if not isinstance(value["__dict__"], dict):
            raise ValueError(f"stored dict {str(value['__dict__'])[:80]!r} is not a mapping")
        return {k: _from_json(v) for k, v in value["__dict__"].items()}
    if "__dtype__" in value:
        return _stored_dtype(value["__dtype__"])
    if "__ndarray__" in value:
        items = [_from_json(v) for v in value["__ndarray__"]]
        dtype = _stored_dtype(value.get("dtype"))
        shape = value.get("shape")
        # The array holds exactly the stored items, so its size is bounded
        # by the file's; a shape claiming more is refused.
        if (not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape)
                or int(np.prod(shape, dtype=np.int64)) != len(items)):
            raise ValueError(f"stored array shape {shape!r} does not match its "
                             f"{len(items)} items")
        arr = np.empty(len(items), dtype=dtype)
        arr[:] = items
        return arr.reshape(shape)
    raise ValueError(f"unknown stored value {str(value)[:80]!r}")
