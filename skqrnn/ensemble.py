"""Ensembles and distillation: one light model with an ensemble's quality.

:class:`AveragingClassifier` averages the ``predict_proba`` of several
multi-label classifiers -- skqrnn's networks, scikit-learn's estimators, or
both -- with given weights, or with weights fitted on held-out data to
maximize GAP@20. :class:`DistilledClassifier` trains one light skqrnn
network (the *student*) on the soft predictions of any classifier (the
*teacher*, e.g. an ensemble), so that one small model keeps most of the
ensemble's quality at a fraction of its prediction cost.

Both are ordinary scikit-learn estimators: ``clone``, nested parameters
(``densenet__growth_rate``, ``teacher__...``, ``student__...``),
``GridSearchCV``, ``Pipeline``, pickling; ``save(path)`` writes a directory
(or a ``.zip`` file) holding each member's file and a JSON description, and
``ClassName.load(path)`` restores it.

This module imports no Keras; skqrnn members import it when they are used.
"""

import json
import os
import secrets
import shutil
import tempfile
import warnings
import zipfile

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import KFold, ShuffleSplit
from sklearn.utils import Bunch, _safe_indexing, get_tags
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _num_samples, check_is_fitted, column_or_1d, \
    has_fit_parameter

from . import _persistence
from ._files import atomic_path
from ._params import Bool, Check, Int, Options, Real, check_params
from ._targets import MULTILABEL, decode_predictions
from .metrics import global_average_precision

__all__ = ["AveragingClassifier", "DistilledClassifier", "fit_gap_weights", "proba_matrix",
           "temper"]

#: Probabilities of a multi-label ensemble are clipped to [_EPS, 1 - _EPS], as
#: skqrnn's networks clip theirs (scikit-learn's members may give exact 0 and 1).
_EPS = 1e-7

#: Name of the JSON description in a saved ensemble or distilled model.
MANIFEST_NAME = "skqrnn_ensemble.json"
MANIFEST_FORMAT = 1

#: ``weights="gap"``: the grid of each coordinate step on the simplex, and the
#: most sweeps over the members (the search stops at the first sweep that
#: does not improve the held-out GAP).
_GRID = np.linspace(0.0, 1.0, 11)
_MAX_SWEEPS = 10


# ---------------------------------------------------------------- helpers
def _is_skqrnn(est):
    return bool(getattr(type(est), "_skqrnn_estimator", False))


def _is_composite(est):
    return bool(getattr(type(est), "_skqrnn_composite", False))


def _is_weights(value):
    if isinstance(value, str):
        return False
    try:
        w = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return False
    return w.ndim == 1 and w.size > 0 and bool(np.all(np.isfinite(w))) and bool(
        np.all(w >= 0)) and w.sum() > 0


def _is_n_jobs(value):
    return value is None or (isinstance(value, (int, np.integer))
                             and not isinstance(value, bool) and value != 0)


def _is_cv(value):
    return value is None or hasattr(value, "split") or (
        isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 2)


def _read_targets(est, y):
    """``(y, multilabel)``: a multi-label indicator matrix as given (dense or
    CSR), or 1-D labels as a 1-D array."""
    name = type(est).__name__
    if y is None:
        raise ValueError(f"{name} requires y to be passed, but the target y is None.")
    if not sp.issparse(y):
        y = np.asarray(y)
    check_classification_targets(y)  # "Unknown label type" for continuous or object y
    target_type = type_of_target(y, input_name="y")
    if target_type == MULTILABEL:
        return (sp.csr_matrix(y) if sp.issparse(y) else y), True
    if target_type in ("binary", "multiclass"):
        return column_or_1d(y, warn=True), False
    raise ValueError(
        f"{name} supports a multi-label 0/1 indicator matrix or 1-D class labels; got a "
        f"target of type {target_type!r}."
    )


def _member_y(est, y):
    """scikit-learn members get a dense indicator matrix (most refuse sparse y)."""
    if sp.issparse(y) and not (_is_skqrnn(est) or _is_composite(est)):
        return y.toarray()
    return y


def _positive_column(proba, classes):
    """The probability of label 1 from one output's ``(n, k)`` class probabilities."""
    proba = np.asarray(proba, dtype=np.float64)
    if classes is None:
        return proba[:, -1]
    classes = np.asarray(classes)
    where = np.flatnonzero(classes == 1)
    if where.size == 0:  # the label was never positive in the member's training data
        return np.zeros(proba.shape[0])
    return proba[:, where[0]]


def proba_matrix(est, X, *, multilabel, classes=None):
    """``est.predict_proba(X)`` as one ``(n_samples, n_columns)`` float64 matrix.

    scikit-learn's multi-output classifiers (``KNeighborsClassifier``,
    ``RandomForestClassifier``, ``MultiOutputClassifier``, ...) return a list
    of ``(n_samples, n_classes)`` arrays, one per label: the probability of
    class 1 of each is taken. 1-D targets: the columns follow ``classes``
    (a member that never saw a class gives it probability 0).
    """
    proba = est.predict_proba(X)
    if isinstance(proba, list):
        member_classes = getattr(est, "classes_", None)
        if not isinstance(member_classes, list) or len(member_classes) != len(proba):
            member_classes = [None] * len(proba)
        return np.column_stack([_positive_column(p, c) for p, c in zip(proba, member_classes)])
    proba = proba.toarray() if sp.issparse(proba) else np.asarray(proba)
    proba = proba.astype(np.float64, copy=False)
    if multilabel or classes is None:
        return proba
    member_classes = np.asarray(est.classes_)
    out = np.zeros((proba.shape[0], len(classes)))
    out[:, np.searchsorted(classes, member_classes)] = proba
    return out


def _fit_member(est, X, y, sample_weight):
    if sample_weight is None:
        return est.fit(X, y)
    return est.fit(X, y, sample_weight=sample_weight)


def fit_gap_weights(probas, y_true, *, k=20):
    """Weights on the simplex that maximize GAP@``k`` of the weighted mean of ``probas``.

    A coordinate search: it starts from the best of the uniform mean and
    each member alone, then, member by member, tries giving that member each
    weight of a grid from 0 to 1 (the others keep their proportions) and
    keeps any improvement; sweeps repeat until one improves nothing. Since
    every member alone is a candidate, the result's GAP on these data is at
    least the best member's.

    Returns
    -------
    weights : ndarray of shape (n_members,)
        Non-negative, summing to one.
    gap : float
        GAP@``k`` of the weighted mean.
    """
    m = len(probas)

    def score(w):
        mix = sum(wi * p for wi, p in zip(w, probas) if wi > 0)
        return global_average_precision(y_true, mix, k=k)

    candidates = [np.full(m, 1.0 / m)] + [np.eye(m)[i] for i in range(m)]
    scores = [score(w) for w in candidates]
    best_i = int(np.argmax(scores))  # the first maximum: uniform wins ties
    weights, best = candidates[best_i], scores[best_i]
    if m == 1:
        return weights, best
    for _ in range(_MAX_SWEEPS):
        improved = False
        for i in range(m):
            for t in _GRID:
                if abs(t - weights[i]) < 1e-9:
                    continue
                rest = 1.0 - weights[i]
                if rest > 1e-12:
                    new = weights * ((1.0 - t) / rest)
                else:
                    new = np.full(m, (1.0 - t) / (m - 1))
                new[i] = t
                s = score(new)
                if s > best + 1e-12:
                    weights, best, improved = new, s, True
        if not improved:
            break
    weights = np.clip(weights, 0.0, None)
    return weights / weights.sum(), best


# ------------------------------------------------------------ persistence
def _json_params(est, skip):
    params, dropped = {}, []
    for name, value in est.get_params(deep=False).items():
        if name in skip:
            continue
        try:
            params[name] = _persistence._to_json(value)
        except TypeError:
            dropped.append(name)
    if dropped:
        warnings.warn(
            f"save(): parameters {dropped} are not JSON data and are not stored; they take "
            "their default values when the estimator is loaded.", UserWarning, stacklevel=4,
        )
    return params


def _json_fitted(est, skip):
    fitted = {}
    for name, value in vars(est).items():
        if name in skip or name in est.get_params(deep=False):
            continue
        try:
            fitted[name] = _persistence._to_json(value)
        except TypeError:
            raise TypeError(f"save(): fitted attribute {name} ({type(value).__name__}) "
                            "cannot be stored as JSON; use pickle or joblib.") from None
    return fitted


def _save_member(est, directory, stem):
    """Write one fitted member under ``directory``; its entry in the manifest."""
    if _is_skqrnn(est):
        name = f"{stem}.keras"
        est.save(os.path.join(directory, name))
        return {"kind": "skqrnn", "file": name}
    if _is_composite(est):
        os.mkdir(os.path.join(directory, stem))
        est._save_to_directory(os.path.join(directory, stem))
        return {"kind": "skqrnn-composite", "file": stem}
    name = f"{stem}.joblib"
    joblib.dump(est, os.path.join(directory, name))
    return {"kind": "joblib", "file": name}


def _load_member(entry, directory, path):
    if not isinstance(entry, dict) or entry.get("kind") not in (
            "skqrnn", "skqrnn-composite", "joblib") or not isinstance(entry.get("file"), str):
        raise ValueError(f"{path}: bad member entry {str(entry)[:80]!r} in {MANIFEST_NAME}.")
    name = entry["file"]
    if os.path.basename(name) != name or name in (".", ".."):
        raise ValueError(f"{path}: member file {name!r} is not a plain file name.")
    full = os.path.join(directory, name)
    if entry["kind"] == "skqrnn":
        from .base import load_model

        return load_model(full)
    if entry["kind"] == "skqrnn-composite":
        return _load_directory(full, None, path)
    return joblib.load(full)


def _write_manifest(directory, manifest):
    with open(os.path.join(directory, MANIFEST_NAME), "w", encoding="utf-8") as f:
        json.dump(manifest, f)


def _composite_classes():
    return {f"{__name__}.{cls.__qualname__}": cls
            for cls in (AveragingClassifier, DistilledClassifier)}


def _load_directory(directory, cls, path):
    manifest_path = os.path.join(directory, MANIFEST_NAME)
    if not os.path.isfile(manifest_path):
        raise ValueError(f"{path} was not written by an skqrnn ensemble's save() (no "
                         f"{MANIFEST_NAME} in it).")
    try:
        with open(manifest_path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(f"{path}: {MANIFEST_NAME} is not valid JSON ({exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{path}: unknown skqrnn ensemble format.")
    stored = _composite_classes().get(manifest.get("class"))
    if stored is None:
        raise ValueError(f"{path} names {manifest.get('class')!r}, which is not an skqrnn "
                         "ensemble class.")
    if cls is not None and not issubclass(stored, cls):
        raise ValueError(f"{path} holds a {stored.__name__}, not a {cls.__name__}; load it "
                         f"with {stored.__name__}.load().")
    for key in ("params", "fitted", "members"):
        if not isinstance(manifest.get(key), dict if key != "members" else list):
            raise ValueError(f"{path}: {MANIFEST_NAME} has no valid {key!r} entry.")
    return stored._from_manifest(manifest, directory, path)


def is_composite_file(path):
    """Whether ``path`` is a directory or zip file an ensemble's ``save()`` wrote."""
    path = os.fspath(path)
    if os.path.isdir(path):
        return os.path.isfile(os.path.join(path, MANIFEST_NAME))
    try:
        with zipfile.ZipFile(path) as archive:
            return MANIFEST_NAME in archive.namelist()
    except (OSError, zipfile.BadZipFile, EOFError):
        return False


def load_composite(path, cls=None):
    """The ensemble (of class ``cls``, or any) saved at ``path``; see ``_SavableMixin.load``."""
    path = os.fspath(path)
    if os.path.isdir(path):
        return _load_directory(path, cls, path)
    with open(path, "rb") as f:
        if not zipfile.is_zipfile(f):
            raise ValueError(f"{path} is neither a directory nor a zip file written by an "
                             "skqrnn ensemble's save().")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with zipfile.ZipFile(path) as archive:
                # Members are read up to their declared sizes: bounding the sum
                # refuses a zip bomb before anything is written.
                limit = _persistence.unpack_limit(os.path.getsize(path))
                if sum(info.file_size for info in archive.infolist()) > limit:
                    raise ValueError(f"{path} would unpack to more than {limit} bytes, more "
                                     "than an ensemble's save() writes; the file was tampered "
                                     "with.")
                archive.extractall(tmp)  # names are sanitized (no .., no absolute paths)
        except (zipfile.BadZipFile, EOFError) as exc:
            raise ValueError(f"{path} is a damaged zip file ({exc}).") from None
        return _load_directory(tmp, cls, path)


class _SavableMixin:
    """``save``/``load`` of a composite estimator: a directory or a ``.zip``."""

    _skqrnn_composite = True

    def save(self, path):
        """Save the fitted estimator: a directory, or a zip file if ``path`` ends in ``.zip``.

        It holds ``skqrnn_ensemble.json`` (the class, the parameters and the
        fitted attributes as JSON, and one entry per member) and one file per
        member: skqrnn networks as their own ``.keras`` archives (see
        :meth:`skqrnn.base.KerasClassifierBase.save`), nested ensembles as
        sub-directories, any other estimator as a ``joblib`` pickle. The
        write is atomic: a new directory or zip file replaces an existing
        one (written by an earlier ``save``) only once it is complete.

        Parameters
        ----------
        path : str or os.PathLike
            A directory name, or a file name ending in ``.zip``.
        """
        check_is_fitted(self)
        path = os.fspath(path)
        if path.endswith(".zip"):
            with tempfile.TemporaryDirectory() as tmp:
                self._save_to_directory(tmp)
                with atomic_path(path) as out, zipfile.ZipFile(
                        out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                    for root, _, files in os.walk(tmp):
                        for name in sorted(files):
                            full = os.path.join(root, name)
                            archive.write(full, os.path.relpath(full, tmp))
            return
        path = os.path.abspath(path.rstrip(os.sep) or os.sep)
        if os.path.exists(path) and not (
                os.path.isdir(path) and (not os.listdir(path) or os.path.isfile(
                    os.path.join(path, MANIFEST_NAME)))):
            raise FileExistsError(f"cannot save to {path}: it exists and was not written by "
                                  "an skqrnn ensemble's save().")
        tmp = os.path.join(os.path.dirname(path), f".skqrnn-{secrets.token_hex(6)}")
        os.mkdir(tmp)
        try:
            self._save_to_directory(tmp)
            if os.path.exists(path):
                old = tmp + ".old"
                os.replace(path, old)
                os.replace(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, path):
        """Load an estimator written by :meth:`save`.

        Members stored as ``joblib`` pickles (scikit-learn estimators) are
        unpickled, which can run arbitrary code: load only files you trust.
        skqrnn networks are read from their ``.keras`` archives.

        Parameters
        ----------
        path : str or os.PathLike
            The directory or ``.zip`` file written by ``save``.

        Returns
        -------
        estimator : instance of ``cls``
            The fitted estimator.
        """
        return load_composite(path, cls)

    def _manifest(self, members, skip_params):
        return {"format": MANIFEST_FORMAT,
                "class": f"{type(self).__module__}.{type(self).__qualname__}",
                "params": _json_params(self, skip_params),
                "fitted": _json_fitted(self, self._unsaved_attributes),
                "members": members}

    @classmethod
    def _restore(cls, manifest, path, params):
        valid = cls._get_param_names()
        try:
            params.update({k: _persistence._from_json(v) for k, v in manifest["params"].items()
                           if k in valid and k not in params})
            fitted = {}
            for name, value in manifest["fitted"].items():
                _persistence._check_fitted_name(cls, name, path)
                fitted[name] = _persistence._from_json(value)
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise ValueError(f"{path}: bad skqrnn ensemble data ({exc}).") from None
        est = cls(**params)
        for name, value in fitted.items():
            setattr(est, name, value)
        return est


def _sklearn_tags_from(tags, members):
    tags.classifier_tags.multi_label = True
    tags.target_tags.multi_output = True
    member_tags = [get_tags(m) for m in members]
    if member_tags:
        tags.input_tags.sparse = all(t.input_tags.sparse for t in member_tags)
        tags.input_tags.allow_nan = all(t.input_tags.allow_nan for t in member_tags)
        tags.input_tags.two_d_array = all(t.input_tags.two_d_array for t in member_tags)
        tags.input_tags.three_d_array = all(t.input_tags.three_d_array for t in member_tags)
        tags.input_tags.string = all(t.input_tags.string for t in member_tags)
    return tags


# --------------------------------------------------------------- averaging
class AveragingClassifier(_SavableMixin, ClassifierMixin, _BaseComposition):
    """Weighted mean of the ``predict_proba`` of several multi-label classifiers.

    Members may be any mix of skqrnn's classifiers and scikit-learn
    classifiers (or pipelines) that fit the same targets: a multi-label 0/1
    indicator matrix, or 1-D class labels. A scikit-learn member whose
    ``predict_proba`` is a list of ``(n_samples, 2)`` arrays, one per label
    (``KNeighborsClassifier``, ``RandomForestClassifier``,
    ``MultiOutputClassifier``), contributes the probability of class 1 of
    each; ``OneVsRestClassifier``'s ``(n_samples, n_labels)`` matrix is used
    as it is.

    Parameters
    ----------
    estimators : list of (str, estimator) tuples
        The members, by name (a name is the prefix of its parameters:
        ``densenet__growth_rate``). A member set to ``"drop"`` is left out.
        Each is cloned and fitted at ``fit``; the fitted members are in
        ``estimators_``.
    weights : array-like of shape (n_estimators,), "gap" or None, default=None
        None: the plain mean. An array: non-negative weights (normalized to
        sum to one; the weight of a dropped member is ignored). ``"gap"``:
        weights on the simplex fitted to maximize GAP@20 on a held-out
        ``validation_fraction`` of the training data (a coordinate search,
        see :func:`fit_gap_weights`), from members fitted on the rest.
    validation_fraction : float, default=0.2
        ``weights="gap"``: the fraction of the training samples held out
        (a random split seeded by ``random_state``) to fit the weights on.
    refit : bool, default=True
        ``weights="gap"``: after the weights are fitted, fit the members
        again on all the training data (the weights were chosen for members
        trained on less data, a small mismatch that more training data
        outweighs; the cost is a second fit of every member). False keeps
        the members fitted without the held-out part, whose GAP then is
        ``validation_scores_["ensemble"]``.
    threshold : float, default=0.5
        Multi-label ``predict``: labels whose mean probability is greater.
    top_k : int or None, default=None
        Multi-label ``predict``: at most this many labels per sample.
    n_jobs : int or None, default=None
        Members fitted in parallel by joblib (None: one at a time; -1: all
        cores). skqrnn networks each use the cores Keras gives them, so
        parallel fits of networks help only on a machine with cores to
        spare.
    random_state : int, RandomState instance or None, default=None
        Seeds the held-out split of ``weights="gap"``. The members keep
        their own ``random_state``.
    verbose : int, default=0
        joblib's verbosity for the member fits.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted members (without dropped ones).
    named_estimators_ : Bunch
        The fitted members by name.
    weights_ : ndarray of shape (n_fitted_members,)
        The weights used, summing to one.
    validation_scores_ : dict
        ``weights="gap"`` only: held-out GAP@20 of each member (by name) and
        of the weighted ``"ensemble"``, for the members fitted without the
        held-out samples.
    classes_ : ndarray
        ``np.arange(n_labels)`` for multi-label targets, else the class labels.
    n_features_in_ : int
        Features per sample, as the first member saw them.

    See Also
    --------
    DistilledClassifier : one light network trained on an ensemble's predictions.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skqrnn.ensemble import AveragingClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 5)
    >>> Y = (X[:, :3] + 0.5 * rng.randn(200, 3) > 0).astype(int)
    >>> ens = AveragingClassifier([("knn", KNeighborsClassifier(10)),
    ...                            ("lr", OneVsRestClassifier(LogisticRegression()))],
    ...                           weights="gap", random_state=0).fit(X, Y)
    >>> ens.predict_proba(X).shape, round(float(ens.weights_.sum()), 6)
    ((200, 3), 1.0)
    """

    _parameter_constraints = {
        "weights": [None, Options("gap"), Check(_is_weights, "non-negative numbers, one "
                                                              "per estimator, not all 0")],
        "validation_fraction": Real(0.0, 1.0, low_inclusive=False, high_inclusive=False),
        "refit": Bool(),
        "threshold": Real(0.0, 1.0),
        "top_k": [None, Int(1)],
        "n_jobs": Check(_is_n_jobs, "None or a non-zero integer"),
        "verbose": Int(0),
    }

    _saved_private_attributes = ("_target_type", "_y_sparse", "_y_dtype")
    _unsaved_attributes = ("estimators_", "named_estimators_")

    def __init__(self, estimators, *, weights=None, validation_fraction=0.2, refit=True,
                 threshold=0.5, top_k=None, n_jobs=None, random_state=None, verbose=0):
        self.estimators = estimators
        self.weights = weights
        self.validation_fraction = validation_fraction
        self.refit = refit
        self.threshold = threshold
        self.top_k = top_k
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------ parameters
    def get_params(self, deep=True):
        """Parameters of the ensemble, and with ``deep`` its members' as ``name__param``."""
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set parameters, including members' (``name__param``) or whole members (``name``)."""
        self._set_params("estimators", **params)
        return self

    @property
    def named_estimators(self):
        """The (unfitted) members by name."""
        return Bunch(**dict(self.estimators))

    def _members(self):
        """Validated ``[(name, estimator)]``, without dropped ones."""
        if not isinstance(self.estimators, (list, tuple)) or not self.estimators or not all(
                isinstance(item, (list, tuple)) and len(item) == 2 for item in self.estimators):
            raise ValueError("estimators must be a non-empty list of (name, estimator) tuples; "
                             f"got {self.estimators!r}.")
        names = [name for name, _ in self.estimators]
        if not all(isinstance(n, str) for n in names):
            raise ValueError(f"estimator names must be strings; got {names!r}.")
        self._validate_names(names)
        for name, est in self.estimators:
            if isinstance(est, str) and est == "drop":
                continue
            if not hasattr(est, "fit") or not hasattr(est, "predict_proba"):
                raise ValueError(f"estimator {name!r} ({type(est).__name__}) must have fit "
                                 "and predict_proba.")
        members = [(n, e) for n, e in self.estimators if not (isinstance(e, str) and e == "drop")]
        if not members:
            raise ValueError("All estimators are 'drop'; at least one is needed.")
        return members

    def _given_weights(self, members):
        if self.weights is None or isinstance(self.weights, str):
            return np.full(len(members), 1.0 / len(members))
        w = np.asarray(self.weights, dtype=float)
        if w.shape != (len(self.estimators),):
            raise ValueError(f"weights has {w.size} values for {len(self.estimators)} "
                             "estimators; give one per estimator.")
        kept = np.array([w[i] for i, (_, e) in enumerate(self.estimators)
                         if not (isinstance(e, str) and e == "drop")])
        if kept.sum() <= 0:
            raise ValueError("The weights of the estimators that are not dropped sum to 0.")
        return kept / kept.sum()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            members = [e for _, e in self._members()]
        except (ValueError, TypeError):
            members = []
        return _sklearn_tags_from(tags, members)

    # --------------------------------------------------------------- fitting
    def fit(self, X, y, sample_weight=None):
        """Fit the members (and, with ``weights="gap"``, the weights).

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Features, as each member takes them (3-D frame sequences when
            every member is a sequence model).
        y : array-like or sparse matrix
            ``(n_samples, n_labels)`` 0/1 indicator matrix, or
            ``(n_samples,)`` class labels. Members that are not skqrnn
            networks get a sparse ``y`` as a dense array.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every member's ``fit`` (each must accept it).

        Returns
        -------
        self : object
        """
        check_params(self)
        members = self._members()
        if sample_weight is not None:
            for name, est in members:
                if not has_fit_parameter(est, "sample_weight"):
                    raise ValueError(f"estimator {name!r} ({type(est).__name__}) does not "
                                     "take sample_weight in fit; fit without sample_weight "
                                     "or drop it.")
        y, multilabel = _read_targets(self, y)
        n = _num_samples(X)
        if _num_samples(y) != n:
            raise ValueError(f"X has {n} samples but y has {_num_samples(y)}; they must match.")
        self._target_type = MULTILABEL if multilabel else "single-label"
        self._y_sparse = sp.issparse(y)
        self._y_dtype = y.dtype
        self.classes_ = np.arange(y.shape[1]) if multilabel else np.unique(y)
        for attr in ("validation_scores_",):
            self.__dict__.pop(attr, None)
        if self.weights == "gap":
            fitted, self.weights_, self.validation_scores_ = self._fit_weights(
                members, X, y, sample_weight, multilabel)
            if self.refit:
                fitted = self._fit_members(members, X, y, sample_weight)
        else:
            self.weights_ = self._given_weights(members)
            fitted = self._fit_members(members, X, y, sample_weight)
        self.estimators_ = fitted
        self.named_estimators_ = Bunch(**{name: est for (name, _), est in zip(members, fitted)})
        return self

    def _fit_members(self, members, X, y, sample_weight):
        return joblib.Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
            joblib.delayed(_fit_member)(clone(est), X, _member_y(est, y), sample_weight)
            for _, est in members)

    def _fit_weights(self, members, X, y, sample_weight, multilabel):
        n = _num_samples(X)
        n_val = int(np.ceil(self.validation_fraction * n))
        if n_val < 1 or n - n_val < 2:
            raise ValueError(f"weights='gap' holds out validation_fraction="
                             f"{self.validation_fraction} of {n} samples, which leaves too few "
                             "to fit on or to score; use more data or weights=None.")
        if sp.issparse(X):
            X = X.tocsr()  # rows of any sparse format
        elif not (hasattr(X, "iloc") or hasattr(X, "__getitem__")):
            X = np.asarray(X)
        train, val = next(ShuffleSplit(n_splits=1, test_size=n_val,
                                       random_state=self.random_state).split(np.zeros(n)))
        Xt, yt = _safe_indexing(X, train), _safe_indexing(y, train)
        wt = None if sample_weight is None else _safe_indexing(np.asarray(sample_weight), train)
        fitted = self._fit_members(members, Xt, yt, wt)
        Xv, yv = _safe_indexing(X, val), _safe_indexing(y, val)
        probas = [self._member_proba(est, Xv) for est in fitted]
        y_true = yv if multilabel else _one_hot_labels(yv, self.classes_)
        weights, best = fit_gap_weights(probas, y_true)
        scores = {name: float(global_average_precision(y_true, p))
                  for (name, _), p in zip(members, probas)}
        scores["ensemble"] = float(best)
        return fitted, weights, scores

    # ------------------------------------------------------------ prediction
    def _member_proba(self, est, X):
        multilabel = self._target_type == MULTILABEL
        proba = proba_matrix(est, X, multilabel=multilabel,
                             classes=None if multilabel else self.classes_)
        if proba.shape[1] != len(self.classes_):
            raise ValueError(f"{type(est).__name__}.predict_proba gives {proba.shape[1]} "
                             f"columns, but the targets have {len(self.classes_)}.")
        return proba

    def predict_proba(self, X):
        """Weighted mean of the members' probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float64
            Multi-label: each label's probability, strictly inside (0, 1).
            1-D targets: class probabilities in ``classes_`` order.
        """
        check_is_fitted(self)
        proba = None
        for w, est in zip(self.weights_, self.estimators_):
            if w == 0:
                continue
            p = w * self._member_proba(est, X)
            proba = p if proba is None else proba + p
        if self._target_type == MULTILABEL:
            return np.clip(proba, _EPS, 1 - _EPS, out=proba)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Labels above ``threshold`` (at most ``top_k``), or the most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        y : ndarray or sparse matrix
            Shaped and typed like the training ``y`` (CSR if it was sparse).
        """
        return decode_predictions(self, self.predict_proba(X))

    def score(self, X, y, sample_weight=None):
        """GAP@20 for multi-label targets, accuracy for 1-D targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.
        y : array-like or sparse matrix
            True targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Accuracy weights (1-D targets only).

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        if self._target_type != MULTILABEL:
            return super().score(X, y, sample_weight=sample_weight)
        if sample_weight is not None:
            raise ValueError("GAP@20, the multi-label score, does not take sample_weight.")
        return global_average_precision(y, self.predict_proba(X), k=20)

    @property
    def n_features_in_(self):
        """Features per sample, as the first member saw them."""
        try:
            check_is_fitted(self)
        except NotFittedError as exc:
            raise AttributeError(f"{type(self).__name__} is not fitted: it has no "
                                 "n_features_in_.") from exc
        return self.estimators_[0].n_features_in_

    # ----------------------------------------------------------- persistence
    def _save_to_directory(self, directory):
        members = []
        for i, ((name, _), est) in enumerate(zip(self._members(), self.estimators_)):
            entry = _save_member(est, directory, f"member-{i}")
            entry["name"] = name
            members.append(entry)
        _write_manifest(directory, self._manifest(members, {"estimators"}))

    @classmethod
    def _from_manifest(cls, manifest, directory, path):
        fitted, estimators = [], []
        for entry in manifest["members"]:
            est = _load_member(entry, directory, path)
            name = entry.get("name")
            if not isinstance(name, str):
                raise ValueError(f"{path}: a member has no valid name.")
            fitted.append(est)
            estimators.append((name, clone(est)))
        ens = cls._restore(manifest, path, {"estimators": estimators})
        ens._members()  # the names are valid
        if len(getattr(ens, "weights_", ())) != len(fitted):
            raise ValueError(f"{path}: {len(fitted)} members but "
                             f"{len(getattr(ens, 'weights_', ()))} weights.")
        ens.estimators_ = fitted
        ens.named_estimators_ = Bunch(**{n: e for (n, _), e in zip(estimators, fitted)})
        return ens


def _one_hot_labels(y, classes):
    codes = np.searchsorted(classes, y)
    return np.eye(len(classes), dtype=np.int8)[codes]


# ------------------------------------------------------------ distillation
def temper(proba, temperature):
    """``sigmoid(logit(p) / T)``: probabilities softened (T > 1) or sharpened (T < 1)."""
    p = np.clip(np.asarray(proba, dtype=np.float64), _EPS, 1 - _EPS)
    if temperature == 1:
        return p
    logits = (np.log(p) - np.log1p(-p)) / temperature
    return 1.0 / (1.0 + np.exp(-logits))


class DistilledClassifier(_SavableMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A light skqrnn network (the student) trained on a teacher's predictions.

    ``fit`` fits the teacher (any multi-label classifier, e.g. an
    :class:`AveragingClassifier` of several networks), computes its
    probabilities on the training data, and trains the student on

        ``alpha * y + (1 - alpha) * sigmoid(logit(p_teacher) / temperature)``

    with ``soft_targets=True`` (binary cross-entropy against the mixture).
    Predictions are the student's alone: one small network at prediction
    time, with much of the teacher's quality.

    The teacher's probabilities are **out-of-fold** by default (``cv=3``:
    each training sample is scored by a teacher fitted without it). A
    teacher scored on its own training data has partly memorized it: its
    probabilities there are close to the hard labels (confident, and
    confidently right even where it would be wrong on new videos), so they
    carry little of what the teacher knows beyond the labels; out-of-fold
    probabilities are what the teacher really predicts for unseen videos.
    The price is ``cv`` more teacher fits; ``cv=None`` uses the in-sample
    probabilities of the one teacher fit.

    Multi-label targets only (a 0/1 indicator matrix, dense or sparse).

    Parameters
    ----------
    teacher : estimator
        A classifier with ``predict_proba``, fitted (cloned) at ``fit``.
    student : skqrnn classifier
        The network to train (a :class:`~skqrnn.base.KerasClassifierBase`
        subclass: it needs ``soft_targets``); cloned at ``fit``. Its
        ``threshold`` and ``top_k`` decide :meth:`predict`.
    alpha : float in [0, 1], default=0.5
        Weight of the hard labels in the student's targets; 1 trains the
        student on the labels alone, 0 on the teacher alone. With
        ``alpha >= 0.5`` the targets rounded at 0.5 are the hard labels,
        so the student's validation GAP on a ``validation_split`` of them
        is measured against the true labels.
    temperature : float > 0, default=1.0
        Softens (above 1) or sharpens (below 1) the teacher's probabilities
        before they are mixed: ``sigmoid(logit(p) / temperature)``.
    cv : int, cross-validation splitter or None, default=3
        Folds of the out-of-fold teacher probabilities (a ``KFold`` shuffled
        with ``random_state`` for an int); None: in-sample probabilities.
    n_jobs : int or None, default=None
        Teacher fits of the folds in parallel (joblib).
    random_state : int, RandomState instance or None, default=None
        Seeds the fold split. Teacher and student keep their own seeds.

    Attributes
    ----------
    teacher_ : estimator
        The teacher fitted on all the training data.
    student_ : skqrnn classifier
        The trained student; it makes every prediction.
    classes_ : ndarray of shape (n_labels,)
        ``np.arange(n_labels)``.
    n_features_in_ : int
        Features per sample.

    See Also
    --------
    AveragingClassifier : an ensemble to use as the teacher.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from skqrnn.baselines import LogisticClassifier
    >>> from skqrnn.ensemble import DistilledClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(120, 5).astype(np.float32)
    >>> Y = (X[:, :3] > 0).astype(int)
    >>> clf = DistilledClassifier(KNeighborsClassifier(10),
    ...                           LogisticClassifier(epochs=2, random_state=0),
    ...                           random_state=0).fit(X, Y)
    >>> clf.predict_proba(X).shape
    (120, 3)
    """

    _parameter_constraints = {
        "alpha": Real(0.0, 1.0),
        "temperature": Real(0.0, None, low_inclusive=False),
        "cv": Check(_is_cv, "None, an integer >= 2 or a cross-validation splitter"),
        "n_jobs": Check(_is_n_jobs, "None or a non-zero integer"),
    }

    _saved_private_attributes = ()
    _unsaved_attributes = ("teacher_", "student_")

    def __init__(self, teacher, student, *, alpha=0.5, temperature=1.0, cv=3, n_jobs=None,
                 random_state=None):
        self.teacher = teacher
        self.student = student
        self.alpha = alpha
        self.temperature = temperature
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        return _sklearn_tags_from(tags, [self.student] if hasattr(self.student, "fit") else [])

    def fit(self, X, y, sample_weight=None, *, validation_data=None):
        """Fit the teacher, then train the student on the mixed targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features (as both teacher and student take them).
        y : array-like or sparse matrix of shape (n_samples, n_labels)
            0/1 indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the student's loss (the teacher is fitted without).
        validation_data : tuple (X_val, y_val), default=None
            Passed to the student's ``fit``: its validation GAP (and early
            stopping) is measured against these hard labels.

        Returns
        -------
        self : object
        """
        check_params(self)
        if "soft_targets" not in self.student.get_params(deep=False):
            raise ValueError(
                f"student must be an skqrnn classifier (it is trained on soft targets with "
                f"soft_targets=True); got {type(self.student).__name__}."
            )
        y, multilabel = _read_targets(self, y)
        if not multilabel:
            raise ValueError(f"{type(self).__name__} distils multi-label targets (a 0/1 "
                             "indicator matrix); got 1-D labels.")
        n = _num_samples(X)
        if y.shape[0] != n:
            raise ValueError(f"X has {n} samples but y has {y.shape[0]}; they must match.")
        hard = (y.toarray() if sp.issparse(y) else y).astype(np.float32)
        self.teacher_, proba = self._teacher_proba(X, y)
        if proba.shape != hard.shape:
            raise ValueError(f"the teacher's predict_proba has shape {proba.shape}, the "
                             f"targets {hard.shape}.")
        soft = temper(proba, self.temperature).astype(np.float32)
        targets = self.alpha * hard + (1.0 - self.alpha) * soft
        np.clip(targets, 0.0, 1.0, out=targets)
        student = clone(self.student).set_params(soft_targets=True)
        kwargs = {} if validation_data is None else {"validation_data": validation_data}
        self.student_ = student.fit(X, targets, sample_weight=sample_weight, **kwargs)
        self.classes_ = np.arange(hard.shape[1])
        return self

    def _teacher_proba(self, X, y):
        """The fitted teacher and its (out-of-fold) probabilities on ``X``."""
        y_member = _member_y(self.teacher, y)
        if self.cv is None:
            teacher = clone(self.teacher).fit(X, y_member)
            return teacher, proba_matrix(teacher, X, multilabel=True)
        splitter = self.cv if hasattr(self.cv, "split") else KFold(
            int(self.cv), shuffle=True, random_state=self.random_state)
        folds = list(splitter.split(np.zeros(_num_samples(X))))
        fits = joblib.Parallel(n_jobs=self.n_jobs)(
            joblib.delayed(_fit_member)(clone(self.teacher), _safe_indexing(X, train),
                                        _safe_indexing(y_member, train), None)
            for train, _ in folds)
        proba = np.full(y.shape, np.nan)
        for teacher, (_, test) in zip(fits, folds):
            proba[test] = proba_matrix(teacher, _safe_indexing(X, test), multilabel=True)
        if np.isnan(proba).any():
            raise ValueError("cv must score every training sample once (a partition, such "
                             "as KFold); some samples were in no test fold.")
        return clone(self.teacher).fit(X, y_member), proba

    def predict_proba(self, X):
        """The student's label probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels)
        """
        check_is_fitted(self)
        return self.student_.predict_proba(X)

    def predict(self, X):
        """The student's predicted labels (its ``threshold`` and ``top_k``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        y : ndarray of shape (n_samples, n_labels)
        """
        check_is_fitted(self)
        return self.student_.predict(X)

    def score(self, X, y, sample_weight=None):
        """GAP@20 of the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.
        y : array-like or sparse matrix of shape (n_samples, n_labels)
            True 0/1 labels.
        sample_weight : None
            Not supported by GAP@20.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        if sample_weight is not None:
            raise ValueError("GAP@20, the multi-label score, does not take sample_weight.")
        return global_average_precision(y, self.predict_proba(X), k=20)

    @property
    def n_features_in_(self):
        """Features per sample."""
        try:
            check_is_fitted(self)
        except NotFittedError as exc:
            raise AttributeError(f"{type(self).__name__} is not fitted: it has no "
                                 "n_features_in_.") from exc
        return self.student_.n_features_in_

    def _save_to_directory(self, directory):
        members = []
        for name, est in (("teacher", self.teacher_), ("student", self.student_)):
            entry = _save_member(est, directory, name)
            entry["name"] = name
            members.append(entry)
        _write_manifest(directory, self._manifest(members, {"teacher", "student"}))

    @classmethod
    def _from_manifest(cls, manifest, directory, path):
        loaded = {}
        for entry in manifest["members"]:
            name = entry.get("name") if isinstance(entry, dict) else None
            if name not in ("teacher", "student") or name in loaded:
                raise ValueError(f"{path}: bad member entry {str(entry)[:80]!r}.")
            loaded[name] = _load_member(entry, directory, path)
        if set(loaded) != {"teacher", "student"}:
            raise ValueError(f"{path}: a distilled model needs a teacher and a student.")
        est = cls._restore(manifest, path, {"teacher": clone(loaded["teacher"]),
                                            "student": clone(loaded["student"])})
        est.teacher_, est.student_ = loaded["teacher"], loaded["student"]
        return est
