"""The scikit-learn machinery shared by skqrnn's Keras classifiers.

:class:`KerasClassifierBase` holds the estimator contract (parameter
handling, input and target validation, the training loop, prediction,
persistence); a concrete classifier declares its hyperparameters and builds
its network in one hook, :meth:`KerasClassifierBase._build_body`.
:func:`load_model` restores any estimator written by
:meth:`KerasClassifierBase.save`.
"""

import contextlib
import copy
import importlib
import json
import math
import numbers
import random
import warnings
import zipfile

import keras
import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_array, compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    assert_all_finite,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._distribution import distribution_scope, private_keras_seeds
from ._streaming import fit_stream, is_stream
from .layers import Dequantize

__all__ = ["KerasClassifierBase", "load_model"]

#: Probabilities are clipped to ``[_EPS, 1 - _EPS]``: 1e-7 is the smallest
#: margin that survives float32 rounding next to 1.0 (1 - 1e-7 != 1 in float32),
#: so ``predict_proba`` is strictly inside (0, 1) as scikit-learn's multi-label
#: checks demand.
_EPS = 1e-7

#: A sparse multi-label target is densified whole when its float32 dense form
#: fits in this many bytes, and one batch at a time otherwise.
_DENSE_TARGET_MAX_BYTES = 256 * 2**20

#: Name of the estimator description stored inside a ``.keras`` archive.
_METADATA_NAME = "skqrnn_estimator.json"
_METADATA_FORMAT = 1

_MULTILABEL = "multilabel-indicator"


#: Batch-normalization momentum of skqrnn's networks (PyTorch's 0.1 in
#: Keras's convention): the moving statistics used at prediction time settle
#: within tens of steps; Keras's default 0.99 needs hundreds, more than a
#: small training set gives (1,500 videos are 6 steps per epoch), and
#: predictions made with unsettled statistics are poor.
BN_MOMENTUM = 0.9


class KerasClassifierBase(ClassifierMixin, BaseEstimator):
    """Base class of skqrnn's Keras classifiers (scikit-learn estimators).

    It implements everything the concrete classifiers share: parameter
    handling, input and target validation, a Keras training loop with
    validation, early stopping and callbacks, ``predict_proba``/``predict``/
    ``score``, pickling and ``save``/``load``. Targets can be

    - a multi-label indicator matrix (dense array, list of lists or
      ``scipy.sparse``): one sigmoid output per label, binary cross-entropy;
    - 1-D labels of any type: two classes give one sigmoid output, more give
      a softmax; ``predict`` returns the original labels.

    Parameters
    ----------
    epochs : int, default=10
        Passes over the training data per ``fit`` (``partial_fit`` makes
        one).
    batch_size : int, default=256
        Samples per gradient step; also the batch size of ``predict_proba``.
    learning_rate : float, default=1e-3
        Step size of the optimizer when ``optimizer`` is a name or a class.
    optimizer : str, keras.optimizers.Optimizer class or instance, default="adam"
        A Keras optimizer name (``"adam"``, ``"adamw"``, ``"sgd"``,
        ``"rmsprop"``, ...) or class, built with ``learning_rate``; or an
        instance, copied from its config at each fit (its own learning rate
        and settings are used, ``learning_rate`` is ignored).
    validation_split : float, default=0.0
        Fraction of the training samples held out to compute validation
        metrics each epoch. As in Keras, these are the *last* samples of
        ``X`` (no copy of ``X`` is made): shuffle ordered data first. Ignored
        when ``validation_data`` is passed to ``fit``.
    early_stopping : bool, default=False
        Stop when ``monitor`` has not improved for ``patience`` epochs; needs
        validation data unless ``monitor="loss"``.
    patience : int, default=5
        Epochs without improvement before early stopping.
    monitor : str, default="val_loss"
        Quantity watched by early stopping: ``"val_loss"``, ``"loss"``, or
        ``"val_gap"`` (GAP@20 on the validation data, computed at the end of
        each epoch; it is also logged in ``history_`` for every multi-label
        fit with validation data). Quantities containing "loss" are
        minimized, others maximized.
    restore_best_weights : bool, default=True
        With early stopping, keep the weights of the best epoch.
    callbacks : list of keras.callbacks.Callback, default=None
        Extra Keras callbacks. They are deep-copied at each fit so that the
        parameter itself never changes (scikit-learn's contract); an object
        that cannot be copied is used as is.
    class_weight : dict, "balanced" or None, default=None
        For 1-D targets: weights per class label, multiplied into
        ``sample_weight``. Not defined for multi-label targets (use
        ``sample_weight``).
    threshold : float, default=0.5
        Multi-label ``predict``: a label is predicted when its probability is
        greater than ``threshold``. Not used for 1-D targets (``predict``
        takes the most probable class).
    top_k : int or None, default=None
        Multi-label ``predict``: keep at most the ``top_k`` most probable
        labels of each sample (those above ``threshold``); with
        ``threshold=0`` every sample gets exactly ``top_k`` labels.
    verbose : int, default=0
        0 silent, 1 a Keras progress bar, 2 one line per epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialization, dropout and shuffling, so the same seed
        gives the same predictions on the same backend and machine. The
        global Python and NumPy random states are restored after ``fit``.
    warm_start : bool, default=False
        When True, ``fit`` on a fitted estimator trains the existing network
        for ``epochs`` more epochs instead of building a new one. The
        subclass's own (network) parameters must not have changed since it
        was built: a ``ValueError`` says which did (training parameters such
        as ``epochs`` may change).
    distribution : None, "data_parallel" or keras.distribution.Distribution, default=None
        Train (and predict) one network across several devices with Keras's
        distribution API: ``"data_parallel"`` is
        ``keras.distribution.DataParallel`` over all devices (JAX backend),
        resolved at each fit; a ``Distribution`` object is used as is; None
        keeps the distribution current at fit time. It is made current for
        the duration of ``fit``/``predict_proba`` only. ``batch_size`` must
        be a multiple of the number of devices. See ``skqrnn._distribution``
        for multi-process set-up and the TensorFlow path.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels; for multi-label targets ``np.arange(n_labels)``.
    n_outputs_ : int
        Width of the network's output layer.
    n_features_in_ : int
        Features per sample (the last axis of ``X``).
    feature_names_in_ : ndarray of str
        Column names of a DataFrame ``X`` (2-D input only).
    model_ : keras.Model
        The trained network; it outputs probabilities.
    history_ : dict of list
        Per-epoch training logs (``loss``, ``val_loss``, ``val_gap``, ...),
        accumulated over warm-started fits and ``partial_fit`` calls.
    n_iter_ : int
        Epochs trained in total (the length of ``history_["loss"]``).

    Notes
    -----
    **Subclassing contract.** A concrete classifier

    1. defines ``__init__`` listing its own hyperparameters *and* the shared
       parameters above as explicit keyword arguments, storing each verbatim
       (it may call ``super().__init__(epochs=epochs, ...)`` for the shared
       ones and choose its own defaults);
    2. implements ``_build_body(self, x) -> keras tensor``: ``x`` is the
       float input tensor (after dequantization for uint8 data); it returns
       the features the output layer reads. The base appends
       ``Dense(n_outputs_)`` and a sigmoid or softmax computed in float32,
       wraps everything in a ``keras.Model`` and compiles it. Hyperparameter
       checks go in ``_check_params(self)`` (call ``super()._check_params()``),
       which runs at the start of every fit.

    Optional hooks and class attributes:

    - ``_input_ndim`` (class attribute, default 2): the dimensionality ``X``
      must have, e.g. 3 for frame sequences ``(n_samples, n_steps,
      n_features)``, or a tuple of accepted values. Other inputs raise a
      ``ValueError``; the estimator tags follow it.
    - ``_validate_X(self, X, *, reset) -> ndarray``: checks and converts
      ``X`` (float32, or uint8 kept as is); ``reset=True`` at the start of a
      new fit records ``n_features_in_``, otherwise ``X`` is checked
      against it.
    - ``_make_input_layer(self, X) -> (inputs, x)``: the ``keras.Input`` and
      the float tensor given to ``_build_body``. uint8 ``X`` becomes a uint8
      input followed by :class:`skqrnn.layers.Dequantize`, so quantized
      YouTube-8M features stay uint8 in host memory; axes between the first
      and the last are left of unknown size (sequences of any length).
    - ``_make_optimizer(self) -> keras.optimizers.Optimizer``.
    - ``_build_keras_model(self, X) -> keras.Model`` (compiled): the whole
      assembly, for networks that do not fit the body + head pattern. A new
      network's output ``Dense`` layer named ``"logits"`` starts with its
      bias at the training prior (log-odds of each label's frequency, or log
      class frequencies), so that thousands of rare labels do not cost the
      first epochs.

    Fitted attributes a subclass adds must end with ``_`` and hold JSON-able
    values or NumPy arrays so that :meth:`save` can store them.

    **Backend state.** Fitting does not call ``keras.backend.clear_session()``,
    which would also reset a user's global dtype policy or distribution;
    each fit builds a new model and drops the previous one, and memory stays
    flat over repeated fits (see the tests). With JAX, every new network is
    compiled at its first training and prediction step; repeated small fits
    (grid searches) gain from JAX's persistent compilation cache
    (``jax.config.update("jax_compilation_cache_dir", path)``).
    """

    #: Dimensionality ``X`` must have (an int, or a tuple of accepted ones).
    _input_ndim = 2

    def __init__(
        self,
        *,
        epochs=10,
        batch_size=256,
        learning_rate=1e-3,
        optimizer="adam",
        validation_split=0.0,
        early_stopping=False,
        patience=5,
        monitor="val_loss",
        restore_best_weights=True,
        callbacks=None,
        class_weight=None,
        threshold=0.5,
        top_k=None,
        verbose=0,
        random_state=None,
        warm_start=False,
        distribution=None,
    ):
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.patience = patience
        self.monitor = monitor
        self.restore_best_weights = restore_best_weights
        self.callbacks = callbacks
        self.class_weight = class_weight
        self.threshold = threshold
        self.top_k = top_k
        self.verbose = verbose
        self.random_state = random_state
        self.warm_start = warm_start
        self.distribution = distribution

    # ------------------------------------------------------------------ tags
    @classmethod
    def _accepted_ndims(cls):
        ndim = cls._input_ndim
        return (ndim,) if isinstance(ndim, numbers.Integral) else tuple(ndim)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        ndims = self._accepted_ndims()
        tags.classifier_tags.multi_label = True
        # Multi-label indicator targets are multi-output binary targets.
        tags.target_tags.multi_output = True
        tags.input_tags.two_d_array = 2 in ndims
        tags.input_tags.three_d_array = 3 in ndims
        return tags

    # ------------------------------------------------------------ parameters
    def _check_params(self):
        """Check the shared parameters; subclasses extend it for their own."""
        _check_int(self, "epochs", 1)
        _check_int(self, "batch_size", 1)
        _check_int(self, "patience", 0)
        _check_int(self, "verbose", 0)
        _check_real(self, "learning_rate", 0.0, None, low_inclusive=False)
        _check_real(self, "validation_split", 0.0, 1.0, high_inclusive=False)
        _check_real(self, "threshold", 0.0, 1.0)
        if self.top_k is not None:
            _check_int(self, "top_k", 1)
        if not isinstance(self.monitor, str):
            raise ValueError(f"monitor must be a string such as 'val_loss'; got {self.monitor!r}.")
        if not (self.class_weight is None or self.class_weight == "balanced"
                or isinstance(self.class_weight, dict)):
            raise ValueError(
                f"class_weight must be None, 'balanced' or a dict; got {self.class_weight!r}."
            )
        if self.callbacks is not None and not (
            isinstance(self.callbacks, (list, tuple))
            and all(isinstance(cb, keras.callbacks.Callback) for cb in self.callbacks)
        ):
            raise ValueError("callbacks must be a list of keras.callbacks.Callback instances.")

    def _seed(self):
        """An int seed derived from random_state, or None."""
        rs = self.random_state
        if rs is None:
            return None
        if isinstance(rs, numbers.Integral):
            return int(rs)
        if isinstance(rs, np.random.RandomState):
            return int(rs.randint(np.iinfo(np.int32).max))
        raise ValueError(f"random_state must be None, an int or a RandomState; got {rs!r}.")

    # ------------------------------------------------------------ validation
    def _validate_X(self, X, *, reset):
        """Check ``X`` and convert it to float32 (uint8 stays uint8)."""
        ndims = self._accepted_ndims()
        name = type(self).__name__
        ndim = getattr(X, "ndim", None)
        if ndim is None and not sp.issparse(X):
            try:
                ndim = np.asarray(X).ndim
            except (ValueError, TypeError):  # ragged lists: check_array says more below
                pass
        if ndim is not None and ndim >= 2 and ndim not in ndims:
            raise ValueError(
                f"{name} expects X with {_ndims_text(ndims)}; got a {ndim}-D array of "
                f"shape {np.asarray(X).shape}."
            )
        dtype = ["float32", "uint8"]
        if max(ndims) <= 2:
            X = validate_data(self, X, reset=reset, dtype=dtype, order="C")
        else:
            X = check_array(X, dtype=dtype, allow_nd=True, order="C", input_name="X",
                            estimator=self)
            if X.ndim not in ndims:
                raise ValueError(
                    f"{name} expects X with {_ndims_text(ndims)}; got a {X.ndim}-D array "
                    f"of shape {X.shape}."
                )
            if reset:
                self.n_features_in_ = X.shape[-1]
                if hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
            elif X.shape[-1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[-1]} features, but {name} is expecting "
                    f"{self.n_features_in_} features as input."
                )
        if reset:
            self._input_dtype = X.dtype.name
        elif X.dtype.name != self._input_dtype:
            raise ValueError(
                f"{name} was fitted on {self._input_dtype} X but got {X.dtype.name} X. "
                "uint8 X is read as quantized features (dequantized inside the network), "
                "so predict on the same kind of features the model was trained on."
            )
        return X

    def _validate_y(self, y, *, reset, classes=None):
        """Encode targets for Keras; on reset, learn ``classes_``.

        Returns ``(Y, codes)``: ``Y`` the network's target (float32 matrix,
        CSR matrix, float32 column or int32 codes) and ``codes`` the class
        index of each sample (None for multi-label targets).
        """
        name = type(self).__name__
        if y is None:
            raise ValueError(f"{name} requires y to be passed, but the target y is None.")
        if sp.issparse(y):
            y = sp.csr_matrix(y)
        else:
            y = np.asarray(y) if not isinstance(y, np.ndarray) else y
            if y.ndim == 2 and y.shape[1] == 0:
                raise ValueError(
                    f"y has 0 columns (shape {y.shape}); a multi-label target needs one "
                    "column per label."
                )
            if y.dtype.kind in "fc":
                assert_all_finite(y, input_name="y")
        if sp.issparse(y) and y.shape[1] == 0:
            raise ValueError(
                f"y has 0 columns (shape {y.shape}); a multi-label target needs one "
                "column per label."
            )
        check_classification_targets(y)
        target_type = type_of_target(y, input_name="y")
        if target_type not in (_MULTILABEL, "binary", "multiclass"):
            raise ValueError(
                f"{name} supports a multi-label 0/1 indicator matrix or 1-D class labels; "
                f"got a target of type {target_type!r}."
            )
        if reset:
            self._target_type = _MULTILABEL if target_type == _MULTILABEL else "single-label"
        if (target_type == _MULTILABEL) != (self._target_type == _MULTILABEL):
            raise ValueError(
                f"{name} was fitted on {'multi-label' if self._target_type == _MULTILABEL else '1-D'}"
                f" targets and cannot continue training on a {target_type} target."
            )

        if target_type == _MULTILABEL:
            _check_indicator(y)
            n_labels = y.shape[1]
            if reset:
                if classes is not None and not np.array_equal(
                    np.asarray(classes), np.arange(n_labels)
                ):
                    raise ValueError(
                        f"For a multi-label y with {n_labels} columns, classes must be "
                        f"np.arange({n_labels}) or None."
                    )
                self.classes_ = np.arange(n_labels)
                self.n_outputs_ = n_labels
                self._y_sparse = sp.issparse(y)
                self._y_dtype = y.dtype
            elif n_labels != self.n_outputs_:
                raise ValueError(
                    f"y has {n_labels} label columns but {name} was fitted with "
                    f"{self.n_outputs_}."
                )
            if sp.issparse(y):
                if y.shape[0] * n_labels * 4 <= _DENSE_TARGET_MAX_BYTES:
                    return y.toarray().astype(np.float32), None
                return y.astype(np.float32), None
            return y.astype(np.float32), None

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
            self.classes_ = labels
            self.n_outputs_ = 1 if labels.size == 2 else labels.size
        else:
            if classes is not None and not np.array_equal(
                np.unique(np.asarray(classes)), self.classes_
            ):
                raise ValueError(
                    f"classes={classes!r} differs from the classes of the first fit, "
                    f"{self.classes_!r}."
                )
            _check_known_labels(y, self.classes_, "the classes of the first fit")
        codes = np.searchsorted(self.classes_, y).astype(np.int32)
        if self.n_outputs_ == 1:
            return codes.astype(np.float32)[:, None], codes
        return codes, codes

    def _sample_weight(self, sample_weight, X, codes):
        """Combine ``sample_weight`` and ``class_weight`` into one vector (or None)."""
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float32, ensure_non_negative=True
            )
        if self.class_weight is None:
            return sample_weight
        if codes is None:
            raise ValueError(
                "class_weight is not supported for multi-label targets; pass sample_weight "
                "to fit instead."
            )
        if isinstance(self.class_weight, dict):
            per_class = np.ones(len(self.classes_))
            for label, weight in self.class_weight.items():
                where = np.flatnonzero(self.classes_ == label)
                if where.size == 0:
                    raise ValueError(
                        f"class_weight names label {label!r}, which is not one of the "
                        f"classes {self.classes_!r}."
                    )
                per_class[where[0]] = weight
            weights = per_class[codes]
        else:
            weights = compute_sample_weight("balanced", codes)
        weights = weights.astype(np.float32)
        return weights if sample_weight is None else weights * sample_weight

    # ---------------------------------------------------------------- network
    def _make_input_layer(self, X):
        """The model's ``keras.Input`` and the float tensor fed to the body."""
        shape = (None,) * (X.ndim - 2) + (X.shape[-1],)
        if X.dtype == np.uint8:
            inputs = keras.Input(shape=shape, dtype="uint8", name="features")
            return inputs, Dequantize(name="dequantize")(inputs)
        inputs = keras.Input(shape=shape, dtype="float32", name="features")
        return inputs, inputs

    def _build_body(self, x):
        """Build the network between the input and the output layer.

        Parameters
        ----------
        x : keras tensor
            Float input features, shape ``(batch, ..., n_features_in_)``.

        Returns
        -------
        features : keras tensor
            What the output ``Dense`` layer reads.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement _build_body(x).")

    def _head_regularizer(self):
        """Weight regularizer of the output layer (None: not regularized)."""
        return None

    def _make_optimizer(self):
        opt = self.optimizer
        if isinstance(opt, keras.optimizers.Optimizer):
            return opt.__class__.from_config(opt.get_config())
        if isinstance(opt, type) and issubclass(opt, keras.optimizers.Optimizer):
            return opt(learning_rate=float(self.learning_rate))
        if isinstance(opt, str):
            try:
                cls = type(keras.optimizers.get(opt))
            except ValueError:
                raise ValueError(
                    f"optimizer={opt!r} is not a Keras optimizer name (e.g. 'adam', 'sgd')."
                ) from None
            return cls(learning_rate=float(self.learning_rate))
        raise ValueError(
            "optimizer must be a Keras optimizer name, class or instance; got "
            f"{opt!r}."
        )

    def _build_keras_model(self, X):
        inputs, x = self._make_input_layer(X)
        features = self._build_body(x)
        multiclass = self._target_type != _MULTILABEL and self.n_outputs_ > 1
        # The head is float32 even under a mixed-precision policy: saturated
        # float16 sigmoids would make the loss and the clipping meaningless.
        logits = keras.layers.Dense(self.n_outputs_, dtype="float32", name="logits",
                                    kernel_regularizer=self._head_regularizer())(features)
        outputs = keras.layers.Activation(
            "softmax" if multiclass else "sigmoid", dtype="float32", name="probabilities"
        )(logits)
        model = keras.Model(inputs, outputs, name=type(self).__name__)
        model.compile(
            optimizer=self._make_optimizer(),
            loss="sparse_categorical_crossentropy" if multiclass else "binary_crossentropy",
        )
        return model

    # --------------------------------------------------------------- training
    def fit(self, X, y=None, sample_weight=None, *, validation_data=None):
        """Train the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or a stream of batches
            Features (3-D ``(n_samples, n_steps, n_features)`` for sequence
            models). float data are used as float32; uint8 data are read as
            quantized YouTube-8M features and dequantized inside the
            network. Out-of-core: a stream of ``(X, y)`` batches read once
            per epoch (``skqrnn.io.iter_yt8m(paths)``, a
            ``keras.utils.PyDataset``, or a function returning a new
            iterable of batches), with ``y=None``; see ``skqrnn._streaming``.
        y : array-like or sparse matrix
            ``(n_samples, n_labels)`` 0/1 indicator matrix (multi-label), or
            ``(n_samples,)`` class labels of any type. None when ``X`` is a
            stream.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss.
        validation_data : tuple (X_val, y_val) or a stream, default=None
            Data to compute validation metrics on after each epoch (and to
            stop early on); replaces ``validation_split``. A stream of
            batches (other shards) when ``X`` is one.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        warm = self.warm_start and hasattr(self, "model_")
        if is_stream(X) or is_stream(validation_data):
            return fit_stream(self, X, y, sample_weight=sample_weight,
                              validation_data=validation_data, reset=not warm,
                              epochs=self.epochs)
        return self._fit(X, y, sample_weight=sample_weight, validation_data=validation_data,
                         reset=not warm, epochs=self.epochs)

    def partial_fit(self, X, y=None, classes=None, sample_weight=None):
        """Train for one epoch on the given data, continuing from the current state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or a stream of batches
            Features; a stream (as for :meth:`fit`) is read once.
        y : array-like or sparse matrix
            Targets, as for :meth:`fit` (None when ``X`` is a stream).
        classes : array-like of shape (n_classes,), default=None
            All class labels of 1-D targets; required at the first call,
            since a batch may not contain every class. Not needed for
            multi-label targets (the indicator width fixes the labels).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss.

        Returns
        -------
        self : object
            The estimator.
        """
        first = not hasattr(self, "model_")
        if is_stream(X):
            return fit_stream(self, X, y, sample_weight=sample_weight, reset=first, epochs=1,
                              classes=classes, partial=True)
        if first and classes is None:
            y_type = type_of_target(y, input_name="y") if y is not None else None
            if y_type != _MULTILABEL:
                raise ValueError(
                    "classes must be passed at the first call to partial_fit for 1-D "
                    "targets (all labels, since one batch may miss some)."
                )
        return self._fit(X, y, sample_weight=sample_weight, validation_data=None,
                         reset=first, epochs=1, classes=classes, partial=True)

    def _fit(self, X, y, *, sample_weight, validation_data, reset, epochs, classes=None,
             partial=False):
        self._check_params()
        if not reset:
            self._check_network_unchanged()
        if reset:  # drop the old network before anything else is learned
            for attr in ("model_", "history_", "n_iter_"):
                self.__dict__.pop(attr, None)
        X = self._validate_X(X, reset=reset)
        Y, codes = self._validate_y(y, reset=reset, classes=classes)
        n = _num_samples(X)
        if Y.shape[0] != n:
            raise ValueError(f"X has {n} samples but y has {Y.shape[0]}; they must match.")
        weights = self._sample_weight(sample_weight, X, codes)

        val = None
        if validation_data is not None:
            if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
                raise ValueError("validation_data must be a tuple (X_val, y_val).")
            X_val = self._validate_X(validation_data[0], reset=False)
            Y_val, _ = self._validate_y(validation_data[1], reset=False)
            if Y_val.shape[0] != _num_samples(X_val):
                raise ValueError(
                    f"validation_data: X_val has {_num_samples(X_val)} samples but y_val "
                    f"has {Y_val.shape[0]}."
                )
            val = (X_val, Y_val)
        elif self.validation_split and not partial:
            n_val = int(math.ceil(self.validation_split * n))
            if n_val >= n:
                raise ValueError(
                    f"validation_split={self.validation_split} leaves no training samples "
                    f"out of {n}."
                )
            cut = n - n_val
            val = (X[cut:], Y[cut:])
            X, Y = X[:cut], Y[:cut]
            weights = None if weights is None else weights[:cut]

        callbacks = self._make_callbacks(val, partial)
        seed = self._seed()
        with _seeded(seed), distribution_scope(self, X, val):
            model = self._new_network(X, Y, weights) if reset else self.model_
            start = 0 if reset else self.n_iter_
            history = model.fit(
                **_fit_inputs(X, Y, weights, self.batch_size, shuffle=True, seed=seed),
                validation_data=_validation_inputs(val, self.batch_size),
                initial_epoch=start,
                epochs=start + epochs,
                callbacks=callbacks,
                verbose=self.verbose,
            )
        return self._keep_fit_result(model, history, start, reset)

    def _new_network(self, X, Y, weights=None):
        """A new compiled network whose output layer starts at the training prior."""
        model = self._build_keras_model(X)
        _init_output_bias(model, Y, self.n_outputs_, weights)
        self._network_params = self._network_param_values()
        return model

    def _network_param_values(self):
        """The subclass's own parameters: the ones its network is built from."""
        shared = set(KerasClassifierBase._get_param_names())
        return {name: value for name, value in self.get_params(deep=False).items()
                if name not in shared}

    def _check_network_unchanged(self):
        """Continuing training (warm_start, partial_fit) keeps the fitted network,
        so a network parameter changed since it was built would be silently
        ignored: refuse it."""
        built = getattr(self, "_network_params", None)
        if built is None:  # fitted by an older version, or loaded without it
            return
        now = self._network_param_values()
        changed = [name for name in built if not _same_value(built[name], now.get(name))]
        if changed:
            detail = ", ".join(f"{n}={now.get(n)!r} (the network has {built[n]!r})"
                               for n in changed)
            raise ValueError(
                f"{type(self).__name__} continues training its fitted network "
                f"(warm_start=True or partial_fit), which was built with other parameters: "
                f"{detail}. Set warm_start=False (or fit a clone) to build a new network."
            )

    def _keep_fit_result(self, model, history, start, reset):
        """Store the trained network, its per-epoch logs and the epoch count."""
        logs = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        if reset:
            self.history_ = logs
        else:
            for k, vals in logs.items():
                self.history_.setdefault(k, []).extend(vals)
        self.model_ = model
        self.n_iter_ = start + len(logs.get("loss", []))
        return self

    def _make_callbacks(self, val, partial):
        callbacks = []
        if val is not None and (self._target_type == _MULTILABEL or self.monitor == "val_gap"):
            callbacks.append(_ValidationGAP(val[0], val[1], self.batch_size))
        # The user's callbacks run before early stopping, so a quantity one of
        # them adds to the epoch's logs can be monitored.
        for cb in self.callbacks or ():
            try:
                callbacks.append(copy.deepcopy(cb))
            except Exception:  # e.g. a callback holding a lock or a file handle
                callbacks.append(cb)
        if self.early_stopping and not partial:
            if self.monitor.startswith("val_") and val is None:
                raise ValueError(
                    f"early_stopping with monitor={self.monitor!r} needs validation data: set "
                    "validation_split > 0, pass validation_data to fit, or use monitor='loss'."
                )
            callbacks.append(_EarlyStopping(
                monitor=self.monitor, patience=self.patience,
                mode="min" if "loss" in self.monitor else "max",
                restore_best_weights=self.restore_best_weights,
            ))
        return callbacks

    # ------------------------------------------------------------- prediction
    def predict_proba(self, X):
        """Probability of each class (or label), strictly inside (0, 1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features, as for :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float32
            Multi-label: the probability of each label (independent sigmoids).
            1-D targets: class probabilities in ``classes_`` order, summing to
            one per row (two columns also for a binary problem).
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        with distribution_scope(self):
            proba = _predict(self.model_, X, self.batch_size)
        if self._target_type == _MULTILABEL:
            return np.clip(proba, _EPS, 1 - _EPS, out=proba)
        if self.n_outputs_ == 1:
            p = np.clip(proba[:, 0], _EPS, 1 - _EPS)
            return np.column_stack([1 - p, p]).astype(np.float32)
        proba = np.clip(proba, _EPS, 1.0)
        return (proba / proba.sum(axis=1, keepdims=True)).astype(np.float32)

    def predict(self, X):
        """Predict labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features, as for :meth:`fit`.

        Returns
        -------
        y : ndarray or sparse matrix
            Multi-label: the ``(n_samples, n_labels)`` indicator matrix of
            labels whose probability is greater than ``threshold`` (at most
            ``top_k`` per sample), with the dtype of the training target, and
            CSR when the training target was sparse. 1-D targets: the most
            probable class label of each sample.
        """
        proba = self.predict_proba(X)
        if self._target_type != _MULTILABEL:
            return self.classes_[np.argmax(proba, axis=1)]
        chosen = proba > self.threshold
        if self.top_k is not None and self.top_k < proba.shape[1]:
            top = np.argpartition(-proba, self.top_k - 1, axis=1)[:, : self.top_k]
            keep = np.zeros_like(chosen)
            np.put_along_axis(keep, top, True, axis=1)
            chosen &= keep
        if self._y_sparse:
            return sp.csr_matrix(chosen, dtype=self._y_dtype)
        return chosen.astype(self._y_dtype)

    def score(self, X, y, sample_weight=None):
        """GAP@20 for multi-label targets, accuracy for 1-D targets.

        Multi-label estimators are scored as YouTube-8M is, with
        :func:`skqrnn.metrics.global_average_precision` at ``k=20`` on
        ``predict_proba`` (higher is better, at most 1); it takes no sample
        weights. 1-D targets use mean accuracy, as every scikit-learn
        classifier does.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.
        y : array-like or sparse matrix
            True targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the accuracy (1-D targets only).

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        if self._target_type != _MULTILABEL:
            return super().score(X, y, sample_weight=sample_weight)
        if sample_weight is not None:
            raise ValueError("GAP@20, the multi-label score, does not take sample_weight.")
        from .metrics import global_average_precision

        return global_average_precision(y, self.predict_proba(X), k=20)

    # ------------------------------------------------------------ persistence
    def save(self, path):
        """Save the fitted estimator as a Keras ``.keras`` archive.

        The archive is an ordinary Keras model file (``keras.saving.load_model``
        reads the network) with the estimator's class, parameters and fitted
        attributes added as JSON; :meth:`load` or :func:`load_model` restore
        the estimator. Parameters that are not JSON data (callbacks,
        optimizer instances, RandomState objects) are not stored: they get
        their default values at load time, with a warning here.

        Parameters
        ----------
        path : str or os.PathLike
            File name ending in ``.keras``.
        """
        check_is_fitted(self)
        path = str(path)
        if not path.endswith(".keras"):
            raise ValueError(f"save() writes a Keras archive: the file name must end in "
                             f".keras; got {path!r}.")
        params, dropped = {}, []
        for name, value in self.get_params(deep=False).items():
            try:
                params[name] = _to_json(value)
            except TypeError:
                dropped.append(name)
        if dropped:
            warnings.warn(
                f"save(): parameters {dropped} are not JSON data and are not stored; they "
                "take their default values when the estimator is loaded.",
                UserWarning, stacklevel=2,
            )
        fitted = {}
        # Everything in __dict__ that is not a parameter is fitted state.
        for name, value in vars(self).items():
            if name in params or name in dropped or name == "model_":
                continue
            try:
                fitted[name] = _to_json(value)
            except TypeError:
                raise TypeError(
                    f"save(): fitted attribute {name} ({type(value).__name__}) cannot be "
                    "stored as JSON; use pickle or joblib for this estimator."
                ) from None
        cls = type(self)
        meta = {
            "format": _METADATA_FORMAT,
            "class": _class_path(cls),
            "params": params,
            "fitted": fitted,
            "skqrnn_version": _skqrnn_version(),
            "keras_version": keras.__version__,
        }
        self.model_.save(path)
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr(_METADATA_NAME, json.dumps(meta))

    @classmethod
    def load(cls, path):
        """Load an estimator written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike
            A ``.keras`` file written by ``save``.

        Returns
        -------
        estimator : instance of ``cls``
            The fitted estimator. A file holding another kind of estimator
            raises a ``ValueError`` naming the kind it holds.
        """
        meta = _read_metadata(path)
        if meta["class"] == _class_path(cls):
            return _restore(cls, meta, path)
        stored = _skqrnn_class(meta, path)
        if not issubclass(stored, cls):
            raise ValueError(
                f"{path} holds a {stored.__name__}, not a {cls.__name__}; load it with "
                f"{stored.__name__}.load() or skqrnn.base.load_model()."
            )
        return _restore(stored, meta, path)


def load_model(path):
    """Load any skqrnn estimator written by :meth:`KerasClassifierBase.save`.

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
    meta = _read_metadata(path)
    return _restore(_skqrnn_class(meta, path), meta, path)


# ------------------------------------------------------------------ helpers
def _read_metadata(path):
    path = str(path)
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a Keras .keras archive written by an skqrnn "
                         "estimator's save().")
    with zipfile.ZipFile(path) as archive:
        if _METADATA_NAME not in archive.namelist():
            raise ValueError(
                f"{path} is a Keras model file without skqrnn estimator data (it was not "
                "written by an skqrnn estimator's save()); read it with "
                "keras.saving.load_model instead."
            )
        meta = json.loads(archive.read(_METADATA_NAME))
    if meta.get("format") != _METADATA_FORMAT:
        raise ValueError(f"{path}: unknown skqrnn estimator format {meta.get('format')!r}.")
    return meta


def _class_path(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _skqrnn_class(meta, path):
    """The estimator class a file names; only skqrnn's own are imported by name."""
    module, _, qualname = meta["class"].rpartition(".")
    if not (module == "skqrnn" or module.startswith("skqrnn.")):
        raise ValueError(
            f"{path} holds a {meta['class']}: only skqrnn's own classes are loaded by name; "
            f"load it with {qualname}.load()."
        )
    cls = getattr(importlib.import_module(module), qualname, None)
    if not (isinstance(cls, type) and issubclass(cls, KerasClassifierBase)):
        raise ValueError(f"{path} names {meta['class']}, which is not an skqrnn estimator.")
    return cls


def _restore(cls, meta, path):
    # Importing the estimator's module registered its custom layers.
    valid = cls().get_params(deep=False)
    params = {k: _from_json(v) for k, v in meta["params"].items() if k in valid}
    estimator = cls(**params)
    for name, value in meta["fitted"].items():
        setattr(estimator, name, _from_json(value))
    estimator.model_ = keras.saving.load_model(str(path))
    return estimator


def _skqrnn_version():
    from . import __version__

    return __version__


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


def _from_json(value):
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(_from_json(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: _from_json(v) for k, v in value["__dict__"].items()}
    if "__dtype__" in value:
        return np.dtype(value["__dtype__"])
    if "__ndarray__" in value:
        items = [_from_json(v) for v in value["__ndarray__"]]
        arr = np.empty(len(items), dtype=value["dtype"])
        arr[:] = items
        return arr.reshape(value["shape"])
    raise ValueError(f"unknown stored value {value!r}")


def _check_int(est, name, low):
    value = getattr(est, name)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")


def _check_real(est, name, low, high, *, low_inclusive=True, high_inclusive=True):
    value = getattr(est, name)
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if ok and low is not None:
        ok = value >= low if low_inclusive else value > low
    if ok and high is not None:
        ok = value <= high if high_inclusive else value < high
    if not ok:
        lo = "" if low is None else ("[" if low_inclusive else "(") + f"{low}, "
        hi = "inf)" if high is None else f"{high}" + ("]" if high_inclusive else ")")
        raise ValueError(f"{name} must be a real number in {lo or '('}{hi}; got {value!r}.")


def _check_indicator(y):
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
        f"column {col}. Map it to 0/1 first (for -1/1 labels: (y > 0).astype(int))."
    )


def _same_value(a, b):
    """Parameter equality that numpy values and arbitrary objects survive."""
    if a is b:
        return True
    try:
        return bool(np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object)))
    except Exception:  # objects whose == does not give a truth value
        return False


def _check_known_labels(y, classes, what):
    unknown = np.setdiff1d(np.unique(y), classes)
    if unknown.size:
        raise ValueError(f"y contains labels not in {what}: {unknown[:10].tolist()}.")


def _ndims_text(ndims):
    shapes = {2: "2 dimensions (n_samples, n_features)",
              3: "3 dimensions (n_samples, n_steps, n_features)"}
    return " or ".join(shapes.get(d, f"{d} dimensions") for d in ndims)


@contextlib.contextmanager
def _seeded(seed):
    """Seed Python, NumPy and Keras; restore the Python and NumPy states afterwards."""
    if seed is None:
        yield
        return
    py_state, np_state = random.getstate(), np.random.get_state()
    keras.utils.set_random_seed(seed)
    try:
        # Keras's default seeds come from Python's global random, which other
        # threads (a Dask worker's event loop) may consume meanwhile.
        with private_keras_seeds(seed):
            yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


class _DensifyingBatches(keras.utils.PyDataset):
    """Batches ``(X, dense Y[, w])`` of a sparse target, densified one batch at a time."""

    def __init__(self, X, Y, weights, batch_size, *, shuffle, seed):
        super().__init__()
        self.X, self.Y, self.weights = X, Y, weights
        self.batch_size = batch_size
        self.shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self._order = np.arange(X.shape[0])
        self.on_epoch_end()

    def __len__(self):
        return math.ceil(self.X.shape[0] / self.batch_size)

    def __getitem__(self, i):
        # Sorted indices read the CSR rows and the array in memory order.
        idx = np.sort(self._order[i * self.batch_size:(i + 1) * self.batch_size])
        batch = (self.X[idx], self.Y[idx].toarray())
        return batch if self.weights is None else batch + (self.weights[idx],)

    def on_epoch_end(self):
        if self.shuffle:
            self._rng.shuffle(self._order)


def _fit_inputs(X, Y, weights, batch_size, *, shuffle, seed):
    if sp.issparse(Y):
        return {"x": _DensifyingBatches(X, Y, weights, batch_size, shuffle=shuffle, seed=seed)}
    return {"x": X, "y": Y, "sample_weight": weights, "batch_size": batch_size,
            "shuffle": shuffle}


def _validation_inputs(val, batch_size):
    if val is None:
        return None
    X, Y = val
    if sp.issparse(Y):
        return _DensifyingBatches(X, Y, None, batch_size, shuffle=False, seed=None)
    return (X, Y)


def _init_output_bias(model, Y, n_outputs, weights=None):
    """Start the output layer at the training prior (when it is named "logits").

    Sigmoid outputs start at the log-odds of each label's (smoothed)
    frequency, softmax outputs at the log class frequencies, both counted
    with the training weights (sample and class weights) when there are any,
    so that the start is the prior of the loss being minimized. With
    thousands of rare labels the network otherwise spends its first epochs
    only learning that every label is unlikely.
    """
    try:
        head = model.get_layer("logits")
    except ValueError:
        return
    if not getattr(head, "use_bias", False):
        return
    w = np.ones(Y.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    # Smoothing of half a (mean-weight) sample keeps unseen labels finite.
    n, unit = w.sum(), max(w.mean(), 1e-12)
    if Y.ndim == 1:  # multiclass codes
        counts = np.bincount(Y, weights=w, minlength=n_outputs)
        bias = np.log((counts + unit) / (n + unit * n_outputs))
    else:
        positives = np.asarray(Y.T @ w, dtype=np.float64).ravel()  # dense or sparse Y
        prior = (positives + 0.5 * unit) / (n + unit)
        bias = np.log(prior) - np.log1p(-prior)
    kernel, _ = head.get_weights()
    head.set_weights([kernel, bias.astype(np.float32)])


def _predict(model, X, batch_size):
    """``model`` outputs for ``X`` as float32, in batches of one fixed shape.

    The last batch is zero-padded to ``batch_size`` so that a network is
    compiled for one input shape only, whatever the number of samples.
    """
    n = X.shape[0]
    out = np.empty((n, model.output_shape[-1]), dtype=np.float32)
    for start in range(0, n, batch_size):
        batch = X[start:start + batch_size]
        m = batch.shape[0]
        if m < batch_size:
            pad = np.zeros((batch_size - m,) + batch.shape[1:], dtype=batch.dtype)
            batch = np.concatenate([batch, pad])
        out[start:start + m] = np.asarray(model.predict_on_batch(batch))[:m]
    return out


class _EarlyStopping(keras.callbacks.EarlyStopping):
    """Keras's early stopping, but a monitored quantity the fit does not log
    is an error: Keras only warns, and the fit then never stops early."""

    def get_monitor_value(self, logs):
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(
                f"early_stopping monitors {self.monitor!r}, which this fit does not log; it "
                f"logs {sorted(logs)} (monitor: 'val_loss', 'loss', 'val_gap', or a quantity "
                "one of your callbacks adds to the logs)."
            )
        return super().get_monitor_value(logs)


class _ValidationGAP(keras.callbacks.Callback):
    """Log ``val_gap``, GAP@20 on the validation data, at the end of each epoch."""

    def __init__(self, X, Y, batch_size):
        super().__init__()
        self.X, self.Y, self.batch_size = X, Y, batch_size

    def on_epoch_end(self, epoch, logs=None):
        from .metrics import global_average_precision

        proba = _predict(self.model, self.X, self.batch_size)
        Y = self.Y
        if Y.ndim == 1 or Y.shape[1] == 1:  # 1-D targets: one-hot in classes_ order
            codes = Y.ravel().astype(np.intp)
            width = proba.shape[1] if proba.shape[1] > 1 else 2
            if proba.shape[1] == 1:
                proba = np.column_stack([1 - proba[:, 0], proba[:, 0]])
            Y = np.eye(width, dtype=np.int8)[codes]
        if logs is not None:
            logs["val_gap"] = float(global_average_precision(Y, proba, k=20))
