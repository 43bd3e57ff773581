"""Target encoding: what ``fit`` accepts as ``y`` and what the network is trained on.

scikit-learn's rule, which skqrnn follows:

- a 2-D ``y`` (array, list of equal-length lists, ``scipy.sparse`` matrix) is
  a multi-label **0/1 indicator matrix**, one column per label: one sigmoid
  output per label, binary cross-entropy;
- a 1-D ``y`` holds class labels of any type: two classes give one sigmoid
  output, more give a softmax; ``predict`` returns the original labels;
- a sequence of label sequences (``[[3, 4], [0]]``) is refused with a
  pointer to :class:`sklearn.preprocessing.MultiLabelBinarizer`, which
  turns it into an indicator matrix;
- with the estimator's ``soft_targets=True`` (an explicit opt-in, so that a
  float indicator matrix with a stray 0.3 is never misread), a 2-D ``y``
  may hold target probabilities in [0, 1] (e.g. a teacher's
  ``predict_proba``): the binary cross-entropy is taken against them, and
  ``classes_`` is ``arange(n_labels)``. Without the opt-in such a matrix is
  refused with an error that names ``soft_targets``.

The learned encoding is kept on the estimator (``classes_``, ``n_outputs_``
and private ``_target_type``, ``_y_sparse``, ``_y_dtype``) so that it is
saved with it. This module imports no Keras.
"""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.utils import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, assert_all_finite, column_or_1d

from ._selection import top_k_columns

__all__ = ["MULTILABEL", "encode_targets", "combine_weights", "decode_predictions",
           "check_indicator", "target_type_of"]

MULTILABEL = "multilabel-indicator"

#: A sparse multi-label target is densified whole when its float32 dense form
#: fits in this many bytes, and one batch at a time otherwise.
DENSE_TARGET_MAX_BYTES = 256 * 2**20


def _refuse_label_lists(y):
    """A list whose items are sequences of unequal length is a label-list target."""
    if not isinstance(y, (list, tuple)) or not y:
        return
    lengths = {len(item) for item in y if isinstance(item, (list, tuple, np.ndarray))}
    if len(lengths) > 1 or (lengths and len(lengths) == 1 and any(
            not isinstance(item, (list, tuple, np.ndarray)) for item in y)):
        raise ValueError(
            "y is a sequence of label sequences (e.g. [[3, 4], [0]]); skqrnn, like "
            "scikit-learn, takes a multi-label target as a 0/1 indicator matrix with one "
            "column per label. Convert it with sklearn.preprocessing.MultiLabelBinarizer "
            "(MultiLabelBinarizer(classes=range(n_labels)).fit_transform(y)), or pass "
            "sparse labels from skqrnn.io.load_yt8m."
        )


def encode_targets(est, y, *, reset, classes=None):
    """Encode ``y`` for the network; on ``reset``, learn the encoding on ``est``.

    Returns ``(Y, codes)``: ``Y`` the network's target (float32 matrix, CSR
    matrix, float32 column or int32 codes) and ``codes`` the class index of
    each sample (None for multi-label targets).
    """
    name = type(est).__name__
    if y is None:
        raise ValueError(f"{name} requires y to be passed, but the target y is None.")
    if sp.issparse(y):
        y = sp.csr_matrix(y)
        if y.shape[1] == 0:
            raise ValueError(f"y has 0 columns (shape {y.shape}); a multi-label target needs "
                             "one column per label.")
    else:
        _refuse_label_lists(y)
        y = np.asarray(y) if not isinstance(y, np.ndarray) else y
        if y.ndim == 2 and y.shape[1] == 0:
            raise ValueError(f"y has 0 columns (shape {y.shape}); a multi-label target needs "
                             "one column per label.")
        if y.dtype.kind in "fc":
            assert_all_finite(y, input_name="y")
    if getattr(est, "soft_targets", False):
        return _encode_soft(est, y, reset=reset, classes=classes), None
    _refuse_unrequested_soft(est, y)
    check_classification_targets(y)
    target_type = type_of_target(y, input_name="y")
    if target_type == "multiclass-multioutput":
        # A 2-D y of more than two values: most often rows of label ids
        # ([[3, 4], [0, 5]]), which the indicator error explains.
        values = np.unique(y.data if sp.issparse(y) else y)
        raise ValueError(
            "A multi-label y must be a 0/1 indicator matrix with one column per label (1: "
            f"the sample has the label); this 2-D y holds {values[:5].tolist()}"
            f"{' ...' if values.size > 5 else ''}. For lists of label ids use "
            "sklearn.preprocessing.MultiLabelBinarizer "
            "(MultiLabelBinarizer(classes=range(n_labels)).fit_transform(y)). skqrnn does "
            "not fit 'multiclass-multioutput' targets (one multiclass label per column)."
        )
    if target_type not in (MULTILABEL, "binary", "multiclass"):
        raise ValueError(
            f"{name} supports a multi-label 0/1 indicator matrix or 1-D class labels; got a "
            f"target of type {target_type!r}."
        )
    if reset:
        est._target_type = MULTILABEL if target_type == MULTILABEL else "single-label"
    if (target_type == MULTILABEL) != (est._target_type == MULTILABEL):
        fitted = "multi-label" if est._target_type == MULTILABEL else "1-D"
        raise ValueError(f"{name} was fitted on {fitted} targets and cannot continue training "
                         f"on a {target_type} target.")
    if target_type == MULTILABEL:
        return _encode_indicator(est, y, reset=reset, classes=classes), None
    return _encode_labels(est, y, reset=reset, classes=classes)


def target_type_of(est, y):
    """``type_of_target(y)``, with a soft-target matrix read as multi-label when
    the estimator opted in (``soft_targets=True``)."""
    target_type = type_of_target(y, input_name="y")
    if getattr(est, "soft_targets", False) and target_type == "continuous-multioutput":
        return MULTILABEL
    return target_type


def _refuse_unrequested_soft(est, y):
    """A 2-D float y with values strictly between 0 and 1 looks like target
    probabilities: say how to train on them instead of "Unknown label type"."""
    if getattr(y, "ndim", 0) != 2 or y.dtype.kind != "f":
        return
    values = y.data if sp.issparse(y) else y
    if values.size == 0 or values.min() < 0 or values.max() > 1:
        return
    fractional = (values != 0) & (values != 1)
    if not fractional.any():
        return
    if sp.issparse(y):
        first = np.flatnonzero(fractional)[0]
        row = int(np.searchsorted(y.indptr, first, side="right") - 1)
        col, value = int(y.indices[first]), values[first].item()
    else:
        row, col = (int(i) for i in np.argwhere(fractional)[0])
        value = values[row, col].item()
    raise ValueError(
        f"y holds values between 0 and 1 (e.g. {value!r} at row {row}, column {col}): "
        "target probabilities, not a 0/1 indicator matrix. To train on soft targets (a "
        f"teacher's predict_proba), set soft_targets=True on the {type(est).__name__}; "
        "otherwise map y to 0/1 first (e.g. (y >= 0.5).astype(int))."
    )


def _encode_soft(est, y, *, reset, classes):
    """``soft_targets=True``: a 2-D matrix of target probabilities in [0, 1]."""
    name = type(est).__name__
    if getattr(y, "ndim", 0) != 2:
        raise ValueError(
            f"{name} has soft_targets=True, which takes y as a 2-D (n_samples, n_labels) "
            f"matrix of target probabilities in [0, 1]; got y of shape {np.shape(y)}. Set "
            "soft_targets=False for 1-D class labels."
        )
    values = y.data if sp.issparse(y) else y
    if values.dtype.kind not in "biuf":
        raise ValueError(f"{name}: soft targets must be numbers in [0, 1]; got y of dtype "
                         f"{values.dtype}.")
    if values.size and (values.min() < 0 or values.max() > 1):
        bad = values[(values < 0) | (values > 1)]
        raise ValueError(f"{name}: soft targets must be probabilities in [0, 1]; y holds "
                         f"{np.unique(bad)[:5].tolist()}.")
    if not reset and est._target_type != MULTILABEL:
        raise ValueError(f"{name} was fitted on 1-D targets and cannot continue training "
                         "on a matrix of soft targets.")
    if reset:
        est._target_type = MULTILABEL
    return _encode_indicator(est, y, reset=reset, classes=classes, soft=True)


def _encode_indicator(est, y, *, reset, classes, soft=False):
    if not soft:
        check_indicator(y)
    n_labels = y.shape[1]
    if reset:
        if classes is not None and not np.array_equal(np.asarray(classes), np.arange(n_labels)):
            raise ValueError(f"For a multi-label y with {n_labels} columns, classes must be "
                             f"np.arange({n_labels}) or None.")
        est.classes_ = np.arange(n_labels)
        est.n_outputs_ = n_labels
        est._y_sparse = sp.issparse(y)
        est._y_dtype = y.dtype
        if (y.nnz if sp.issparse(y) else np.count_nonzero(y)) == 0:
            warnings.warn(
                f"y holds no positive label at all ({y.shape[0]} samples x {n_labels} "
                "labels): the network learns to predict nothing. Check the targets.",
                UserWarning, stacklevel=4,
            )
    elif n_labels != est.n_outputs_:
        raise ValueError(f"y has {n_labels} label columns but {type(est).__name__} was "
                         f"fitted with {est.n_outputs_}.")
    if sp.issparse(y) and y.shape[0] * n_labels * 4 > DENSE_TARGET_MAX_BYTES:
        return y.astype(np.float32)
    return (y.toarray() if sp.issparse(y) else y).astype(np.float32)


def _encode_labels(est, y, *, reset, classes):
    name = type(est).__name__
    y = column_or_1d(y, warn=True)
    if reset:
        labels = np.unique(y) if classes is None else np.unique(np.asarray(classes))
        if classes is not None:
            _check_known_labels(y, labels, "classes")
        if labels.size < 2:
            raise ValueError(
                f"{name} needs samples of at least 2 classes in the data, but the data "
                f"contains only one class: {labels[0]!r}."
            )
        est.classes_ = labels
        est.n_outputs_ = 1 if labels.size == 2 else labels.size
    else:
        if classes is not None and not np.array_equal(np.unique(np.asarray(classes)),
                                                      est.classes_):
            raise ValueError(f"classes={classes!r} differs from the classes of the first fit, "
                             f"{est.classes_!r}.")
        _check_known_labels(y, est.classes_, "the classes of the first fit")
    codes = np.searchsorted(est.classes_, y).astype(np.int32)
    if est.n_outputs_ == 1:
        return codes.astype(np.float32)[:, None], codes
    return codes, codes


def combine_weights(est, sample_weight, X, codes):
    """``sample_weight`` times the ``class_weight`` of each sample (or None)."""
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float32,
                                             ensure_non_negative=True)
    if est.class_weight is None:
        return sample_weight
    if codes is None:
        raise ValueError("class_weight is not supported for multi-label targets; pass "
                         "sample_weight to fit instead.")
    if isinstance(est.class_weight, dict):
        per_class = np.ones(len(est.classes_))
        for label, weight in est.class_weight.items():
            where = np.flatnonzero(est.classes_ == label)
            if where.size == 0:
                raise ValueError(f"class_weight names label {label!r}, which is not one of "
                                 f"the classes {est.classes_!r}.")
            per_class[where[0]] = weight
        weights = per_class[codes]
    else:
        weights = compute_sample_weight("balanced", codes)
    weights = weights.astype(np.float32)
    return weights if sample_weight is None else weights * sample_weight


def decode_predictions(est, proba):
    """``predict``'s answer from ``predict_proba``'s."""
    if est._target_type != MULTILABEL:
        return est.classes_[np.argmax(proba, axis=1)]
    chosen = proba > est.threshold
    if est.top_k is not None and est.top_k < proba.shape[1]:
        # Of probabilities tied at the top_k-th, the lower classes.
        top = top_k_columns(proba, est.top_k)
        keep = np.zeros_like(chosen)
        np.put_along_axis(keep, top, True, axis=1)
        chosen &= keep
    if est._y_sparse:
        return sp.csr_matrix(chosen, dtype=est._y_dtype)
    return chosen.astype(est._y_dtype)


def one_hot(Y, proba):
    """GAP inputs for encoded targets: 1-D targets become one-hot in ``classes_`` order.

    Soft targets (``soft_targets=True`` and a validation split of them) are
    scored against their rounding, ``Y >= 0.5``: for distillation targets
    ``alpha * hard + (1 - alpha) * teacher`` with ``alpha >= 0.5`` that is
    exactly the hard labels. Hard validation labels are scored as they are.
    """
    if Y.dtype.kind == "f" and np.any((Y != 0) & (Y != 1)):
        Y = (Y >= 0.5).astype(np.float32)
    if Y.ndim == 2 and Y.shape[1] > 1:
        return Y, proba
    codes = Y.ravel().astype(np.intp)
    if proba.shape[1] == 1:
        proba = np.column_stack([1 - proba[:, 0], proba[:, 0]])
    return np.eye(proba.shape[1], dtype=np.int8)[codes], proba


def check_indicator(y):
    """Raise unless the multi-label target (ndarray or CSR) holds only 0 and 1.

    scikit-learn's ``type_of_target`` calls any two-valued matrix (-1/1,
    0/2) a multi-label indicator; trained on one, the binary cross-entropy
    turns NaN and the network predicts nothing, without an error.
    """
    values = y.data if sp.issparse(y) else y
    # type_of_target has already refused non-integral values, so two
    # reductions settle the common case without a temporary as large as y.
    if values.size == 0 or (values.min() >= 0 and values.max() <= 1):
        return
    bad = (values != 0) & (values != 1)
    if sp.issparse(y):
        first = np.flatnonzero(bad)[0]
        row = int(np.searchsorted(y.indptr, first, side="right") - 1)
        col, value = int(y.indices[first]), values[first].item()
    else:
        row, col = (int(i) for i in np.argwhere(bad)[0])
        value = values[row, col].item()
    raise ValueError(
        "A multi-label y must be a 0/1 indicator matrix (1: the sample has the label); y "
        f"holds {np.unique(values[bad])[:5].tolist()}, e.g. {value!r} at row {row}, "
        f"column {col}. Map it to 0/1 first (for -1/1 labels: (y > 0).astype(int)); for "
        "lists of label ids use sklearn.preprocessing.MultiLabelBinarizer."
    )


def _check_known_labels(y, classes, what):
    unknown = np.setdiff1d(np.unique(y), classes)
    if unknown.size:
        raise ValueError(f"y contains labels not in {what}: {unknown[:10].tolist()}.")
