"""The scikit-learn estimator contract shared by skqrnn's Keras classifiers.

:class:`KerasClassifierBase` holds parameters and tags, input validation,
network assembly, the one training loop (``fit`` and ``partial_fit`` are
fronts to :meth:`~KerasClassifierBase._fit`), prediction and scoring; a
concrete classifier declares its hyperparameters and builds its network in
one hook, :meth:`KerasClassifierBase._build_body`. The pieces it uses live
in modules of their own:

- ``_params``: the ``_parameter_constraints`` tables and their check;
- ``_targets``: what ``y`` may be and how it is encoded for the network;
- ``_data``: every training input as one batch source (arrays, streams,
  shard paths), with read-ahead;
- ``_callbacks``: validation GAP, strict early stopping, checkpoints;
- ``_seeding``: seeding a fit; ``_persistence``: ``save`` / ``load_model``.
"""

import copy
import math
import numbers
import os
import warnings

import keras
import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_array
from sklearn.utils.validation import _num_samples, check_is_fitted, validate_data

from . import _persistence
from ._callbacks import AdaptiveLearningRate, Checkpoint, StrictEarlyStopping, ValidationGAP, \
    parse_interval
from ._data import ArrayBatches, Batches, StreamBatches, _Source, _unpack, is_shard_paths, \
    is_stream, predict_array
from ._distribution import batch_shards, distribution_scope
from ._params import Bool, Check, Int, Options, Real, check_params
from ._persistence import load_model
from ._seeding import int_seed, seeded
from ._targets import MULTILABEL, combine_weights, decode_predictions, encode_targets, \
    target_type_of
from .layers import Dequantize

__all__ = ["KerasClassifierBase", "load_model", "BN_MOMENTUM"]

#: Probabilities are clipped to ``[_EPS, 1 - _EPS]``: 1e-7 is the smallest
#: margin that survives float32 rounding next to 1.0 (1 - 1e-7 != 1 in float32),
#: so ``predict_proba`` is strictly inside (0, 1) as scikit-learn's multi-label
#: checks demand.
_EPS = 1e-7

#: Batch-normalization momentum of skqrnn's networks (PyTorch's 0.1 in
#: Keras's convention): the moving statistics used at prediction time settle
#: within tens of steps; Keras's default 0.99 needs hundreds, more than a
#: small training set gives, and predictions made with unsettled statistics
#: are poor.
BN_MOMENTUM = 0.9

#: ``batch_size="auto"``: the largest power of two at most ``n_samples /
#: AUTO_BATCH_DIVISOR``, between ``AUTO_BATCH_MIN`` and ``AUTO_BATCH_MAX``: at
#: least 16 steps an epoch on small data (1,500 sequences: 64, which learned
#: the order of events where 256 did not), 256 from 4,096 samples on, where
#: the video-level defaults were tuned (benchmarks/README.md).
AUTO_BATCH_MIN, AUTO_BATCH_MAX, AUTO_BATCH_DIVISOR = 32, 256, 16

#: ``early_stopping="auto"`` turns early stopping on from this many training
#: samples (scikit-learn's HistGradientBoosting uses the same threshold).
AUTO_EARLY_STOPPING_MIN_SAMPLES = 10_000

#: Fraction held out by ``early_stopping="auto"`` when ``validation_split`` is 0.
AUTO_VALIDATION_FRACTION = 0.1

#: ``learning_rate="auto"``: the Adam step size of a fit that runs its epochs
#: out, and of one that stops early (and so may take more, smaller steps).
AUTO_LEARNING_RATE, AUTO_LEARNING_RATE_EARLY_STOPPING = 2e-3, 5e-4

#: ``lr_schedule="adaptive"``: the step size is divided by LR_FACTOR (as
#: scikit-learn's MLP does) each time the monitored quantity fails to improve
#: for an epoch, by at least LR_MIN_DELTA for GAP (losses: any improvement),
#: down to LR_MIN_FRACTION of where it started (three reductions). On 30k
#: real videos it took DenseNet's early-stopped fit from GAP@20 0.697 to 0.70
#: (benchmarks/README.md, "Learning curves").
LR_FACTOR, LR_MIN_DELTA, LR_MIN_FRACTION = 0.2, 1e-4, 0.2 ** 3

#: Batches a stream is decoded ahead of training (see ``skqrnn._data``).
READ_AHEAD = 4


def auto_batch_size(n_samples):
    """``batch_size="auto"`` for ``n_samples`` training samples."""
    target = max(1, n_samples) // AUTO_BATCH_DIVISOR
    size = 1 << max(0, int(target).bit_length() - 1)
    return int(min(AUTO_BATCH_MAX, max(AUTO_BATCH_MIN, size)))


def _is_optimizer(value):
    return (isinstance(value, (str, keras.optimizers.Optimizer))
            or (isinstance(value, type) and issubclass(value, keras.optimizers.Optimizer)))


def _is_callback_list(value):
    return (isinstance(value, (list, tuple))
            and all(isinstance(cb, keras.callbacks.Callback) for cb in value))


def _is_interval(value):
    try:
        parse_interval(value)
    except (ValueError, TypeError):
        return False
    return isinstance(value, str) or (isinstance(value, numbers.Integral)
                                      and not isinstance(value, bool) and value >= 1)


class KerasClassifierBase(ClassifierMixin, BaseEstimator):
    """Base class of skqrnn's Keras classifiers (scikit-learn estimators).

    It implements everything the concrete classifiers share: parameter
    handling, input and target validation, one Keras training loop for
    arrays, streams and shard paths (validation GAP, early stopping,
    checkpoints, callbacks), ``predict_proba``/``predict``/``score``,
    pickling and ``save``/``load``. Targets can be

    - a 2-D multi-label 0/1 indicator matrix (array, list of equal-length
      lists, or ``scipy.sparse``): one sigmoid output per label, binary
      cross-entropy (a list of label lists such as ``[[3, 4], [0]]`` is
      refused: convert it with ``sklearn.preprocessing.MultiLabelBinarizer``);
    - 1-D labels of any type: two classes give one sigmoid output, more give
      a softmax; ``predict`` returns the original labels.

    Parameters
    ----------
    epochs : int, default=10
        Passes over the training data per ``fit`` (``partial_fit`` makes
        one).
    batch_size : int or "auto", default=256
        Samples per gradient step (and the largest batch of
        ``predict_proba``). ``"auto"``: the largest power of two at most
        ``n_samples / 16``, between 32 and 256 (256 from 4,096 training
        samples on), so that small data still gets enough gradient steps per
        epoch; the size used is ``batch_size_`` after ``fit``.
    learning_rate : float or "auto", default=1e-3
        Step size of the optimizer when ``optimizer`` is a name or a class.
        ``"auto"``: 2e-3 when the fit runs all its epochs, 5e-4 when it
        stops early (see ``early_stopping``); the value used is
        ``learning_rate_`` after ``fit``.
    lr_schedule : {"constant", "adaptive", "auto"}, default="auto"
        ``"adaptive"``: divide the step size by 5 each time ``monitor``
        fails to improve for an epoch (by 1e-4 for GAP), at most three
        times (scikit-learn's MLP ``learning_rate="adaptive"``, per epoch).
        ``"auto"``: adaptive when the fit stops early and the optimizer is
        not an instance, constant otherwise.
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
    early_stopping : bool or "auto", default=False
        Stop when ``monitor`` has not improved for ``patience`` epochs; needs
        validation data unless ``monitor="loss"``. ``"auto"``: on when the
        training data has at least 10,000 samples (or a stream is given
        ``validation_data``), holding out ``validation_split`` of the
        samples, or 10% when it is 0; off below.
    patience : int, default=5
        Epochs without improvement before early stopping.
    monitor : str, default="auto"
        Quantity watched by early stopping: ``"val_loss"``, ``"loss"``,
        ``"val_gap"`` (GAP@20 on the validation data, computed at the end of
        each epoch; it is also logged in ``history_`` for every multi-label
        fit with validation data), or a quantity one of ``callbacks`` logs.
        ``"auto"``: ``"val_gap"`` for multi-label targets (what YouTube-8M
        is judged on), ``"val_loss"`` for 1-D targets, ``"loss"`` without
        validation data. Quantities containing "loss" are minimized, others
        maximized.
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
    checkpoint : str, os.PathLike or None, default=None
        Save the estimator to this ``.keras`` file (a directory: a file
        ``checkpoint.keras`` in it) during ``fit``, every ``checkpoint_every``
        and when the fit ends, atomically (an interrupted write leaves the
        previous checkpoint). It loads with :func:`load_model` (a finished
        fit's checkpoint is the fitted estimator: with early stopping, its
        best epoch), and ``fit(..., resume=True)`` continues from it.
    checkpoint_every : int or str, default=1
        Checkpoint interval: an int counts epochs; a duration such as
        ``"15min"``, ``"30s"`` or ``"2h"`` is wall-clock time, checked at
        the end of each epoch.
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
    soft_targets : bool, default=False
        When True, a 2-D ``y`` may hold target probabilities in [0, 1]
        (e.g. a teacher's ``predict_proba``, see
        :class:`skqrnn.DistilledClassifier`), and the binary
        cross-entropy is taken against them; ``classes_`` is
        ``arange(n_labels)`` and the output layer starts at the mean soft
        target of each label. Validation GAP is measured against
        ``validation_data``'s labels when they are 0/1, and against soft
        targets rounded at 0.5 otherwise. False (an explicit opt-in, so a
        float indicator matrix with a stray 0.3 is never misread): such a
        ``y`` is refused with an error naming this parameter.

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
    batch_size_ : int
        The batch size the last fit used (``batch_size``, or what
        ``"auto"`` chose).
    learning_rate_ : float
        The learning rate the network was built with (``learning_rate``,
        or what ``"auto"`` chose).

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
       wraps everything in a ``keras.Model`` and compiles it;
    3. declares what its own hyperparameters accept in a class attribute
       ``_parameter_constraints`` (see :mod:`skqrnn._params`; merged with
       the tables of its bases and checked once at the start of every fit).
       Checks that relate several parameters go in ``_check_params(self)``
       (call ``super()._check_params()``).

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

    - ``get_dataset(self, X, y, ...) -> skqrnn._data.Batches``: how any
      training input becomes the batches the one training loop reads.

    Fitted attributes a subclass adds must end with ``_`` and hold JSON-able
    values or NumPy arrays so that :meth:`save` can store them (private
    fitted state is listed in ``_saved_private_attributes``; ``load``
    refuses any other name a file sets).

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

    #: Marks the classes ``load_model`` may restore by name.
    _skqrnn_estimator = True

    #: Private fitted state that ``save`` stores and ``load`` may set.
    _saved_private_attributes = ("_target_type", "_y_sparse", "_y_dtype", "_input_dtype",
                                 "_network_params", "_checkpoint_state")

    _parameter_constraints = {
        "epochs": Int(1),
        "batch_size": [Int(1), Options("auto")],
        "learning_rate": [Real(0.0, None, low_inclusive=False), Options("auto")],
        "lr_schedule": Options("constant", "adaptive", "auto"),
        "optimizer": Check(_is_optimizer, "a Keras optimizer name, class or instance"),
        "validation_split": Real(0.0, 1.0, high_inclusive=False),
        "early_stopping": [Bool(), Options("auto")],
        "patience": Int(0),
        "monitor": Check(lambda v: isinstance(v, str), "a string such as 'val_loss'"),
        "restore_best_weights": Bool(),
        "callbacks": [None, Check(_is_callback_list,
                                  "a list of keras.callbacks.Callback instances")],
        "class_weight": [None, Options("balanced"),
                         Check(lambda v: isinstance(v, dict), "a dict")],
        "threshold": Real(0.0, 1.0),
        "top_k": [None, Int(1)],
        "verbose": Int(0),
        "checkpoint": [None, Check(lambda v: isinstance(v, (str, os.PathLike)),
                                   "a path")],
        "checkpoint_every": Check(_is_interval, "an integer >= 1 (epochs) or a duration "
                                                "such as '30s', '15min' or '2h'"),
        "warm_start": Bool(),
        "soft_targets": Bool(),
    }

    def __init__(
        self,
        *,
        epochs=10,
        batch_size=256,
        learning_rate=1e-3,
        lr_schedule="auto",
        optimizer="adam",
        validation_split=0.0,
        early_stopping=False,
        patience=5,
        monitor="auto",
        restore_best_weights=True,
        callbacks=None,
        class_weight=None,
        threshold=0.5,
        top_k=None,
        verbose=0,
        random_state=None,
        checkpoint=None,
        checkpoint_every=1,
        warm_start=False,
        distribution=None,
        soft_targets=False,
    ):
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
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
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.warm_start = warm_start
        self.distribution = distribution
        self.soft_targets = soft_targets

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
        """Check every parameter against the merged ``_parameter_constraints``
        tables; subclasses extend it for checks that relate parameters."""
        check_params(self)
        if isinstance(self.optimizer, str):
            try:
                keras.optimizers.get(self.optimizer)
            except ValueError:
                raise ValueError(f"optimizer={self.optimizer!r} is not a Keras optimizer name "
                                 "(e.g. 'adam', 'sgd').") from None

    def _seed(self):
        """An int seed derived from random_state, or None."""
        return int_seed(self.random_state)

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
            return opt(learning_rate=self._learning_rate())
        if isinstance(opt, str):
            try:
                cls = type(keras.optimizers.get(opt))
            except ValueError:
                raise ValueError(
                    f"optimizer={opt!r} is not a Keras optimizer name (e.g. 'adam', 'sgd')."
                ) from None
            return cls(learning_rate=self._learning_rate())
        raise ValueError(
            "optimizer must be a Keras optimizer name, class or instance; got "
            f"{opt!r}."
        )

    def _learning_rate(self):
        """``learning_rate``, with "auto" resolved by the fit (``learning_rate_``)."""
        if isinstance(self.learning_rate, str):
            return float(getattr(self, "learning_rate_", AUTO_LEARNING_RATE))
        return float(self.learning_rate)

    def _build_keras_model(self, X):
        inputs, x = self._make_input_layer(X)
        features = self._build_body(x)
        multiclass = self._target_type != MULTILABEL and self.n_outputs_ > 1
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
    def fit(self, X, y=None, sample_weight=None, *, validation_data=None, resume=False):
        """Train the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), shard paths, or a stream
            Features (3-D ``(n_samples, n_steps, n_features)`` for sequence
            models). float data are used as float32; uint8 data are read as
            quantized YouTube-8M features and dequantized inside the
            network. Out-of-core: TFRecord shard paths (a glob pattern, a
            directory or a list of files), or a stream of ``(X, y)`` batches
            read once per epoch (``skqrnn.io.iter_yt8m(paths)``, a
            ``keras.utils.PyDataset``, or a function returning a new
            iterable of batches), with ``y=None``; see ``skqrnn._data``.
        y : array-like or sparse matrix
            ``(n_samples, n_labels)`` 0/1 indicator matrix (multi-label), or
            ``(n_samples,)`` class labels of any type. None when ``X`` is a
            stream or shard paths.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss.
        validation_data : tuple (X_val, y_val), shard paths or a stream, default=None
            Data to compute validation metrics on after each epoch (and to
            stop early on); replaces ``validation_split``.
        resume : bool, default=False
            Continue from ``checkpoint`` when that file exists: its network,
            optimizer state and epoch count are loaded and training goes on
            up to ``epochs`` epochs in all, with early stopping and the
            step-size schedule where they were (best score, epochs without
            improvement, the best epoch's weights), so the result is the
            uninterrupted fit's; a fit early stopping had ended is not
            trained further. Its parameters must equal this
            estimator's, except ``epochs``, ``verbose``, ``callbacks`` and
            the checkpoint settings (a ``ValueError`` names the others).
            Without a checkpoint file the fit starts from scratch.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, validation_data, incremental=False,
                         resume=resume)

    def partial_fit(self, X, y=None, classes=None, sample_weight=None):
        """Train for one epoch on the given data, continuing from the current state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), shard paths, or a stream
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
        return self._fit(X, y, sample_weight, None, incremental=True, classes=classes)

    def _fit(self, X, y, sample_weight, validation_data, *, incremental, classes=None,
             resume=False):
        """The one training loop: every input becomes a :class:`skqrnn._data.Batches`."""
        self._check_params()
        resumed = self._resume_from_checkpoint() if resume and not incremental else False
        reset = not (resumed or hasattr(self, "model_") and (incremental or self.warm_start))
        if not reset:
            self._check_network_unchanged()
        else:  # drop the old network before anything else is learned
            for attr in ("model_", "history_", "n_iter_"):
                self.__dict__.pop(attr, None)
        # What early stopping and the step-size schedule had reached (None
        # unless resumed), so that they go on as the uninterrupted fit would.
        carried = (self.__dict__.pop("_checkpoint_state", None),
                   self.__dict__.pop("_checkpoint_best_weights", None))
        seed = self._seed()
        start = 0 if reset else self.n_iter_
        epochs = 1 if incremental else self.epochs - start if resumed else self.epochs
        if resumed and (carried[0] or {}).get("stopped"):
            epochs = 0  # early stopping had ended that fit
        with seeded(seed):
            train, val, stop_early = self._get_datasets(
                X, y, sample_weight, validation_data, reset=reset, classes=classes,
                incremental=incremental, seed=seed, epoch=start)
            try:
                if reset:
                    self.learning_rate_ = (self._auto_learning_rate(stop_early)
                                           if isinstance(self.learning_rate, str)
                                           else float(self.learning_rate))
                callbacks = self._make_callbacks(val, stop_early and not incremental,
                                                 start + epochs, carried)
                with distribution_scope(self, batch_size=self.batch_size_):
                    model = self._new_network(train) if reset else self.model_
                    self._training_model = model
                    history = model.fit(
                        train, validation_data=val, shuffle=False, initial_epoch=start,
                        epochs=start + max(epochs, 0), callbacks=callbacks,
                        verbose=self.verbose,
                    ) if epochs > 0 else None
            finally:
                self.__dict__.pop("_training_model", None)
                train.close()
                if val is not None:
                    val.close()
        return self._keep_fit_result(model, history, start, reset)

    def get_dataset(self, X, y=None, sample_weight=None, *, reset=False, classes=None,
                    shuffle=True, seed=None, epoch=0, what="X", partial=False):
        """Any training input as a :class:`skqrnn._data.Batches` (skorch's ``get_dataset``).

        Arrays are validated and encoded whole; a stream or shard paths are
        validated batch by batch as they are read (the first batch now, so
        that ``reset`` can learn the features and targets from it). A
        ``Batches`` is returned as is.
        """
        if isinstance(X, Batches):
            return X
        if is_shard_paths(X):
            X = self._shard_stream(X, shuffle=shuffle, seed=seed)
        if is_stream(X):
            return self._stream_dataset(X, y, sample_weight, reset=reset, classes=classes,
                                        what=what, partial=partial)
        X = self._validate_X(X, reset=reset)
        Y, codes = encode_targets(self, y, reset=reset, classes=classes)
        n = _num_samples(X)
        if Y.shape[0] != n:
            raise ValueError(f"X has {n} samples but y has {Y.shape[0]}; they must match.")
        weights = combine_weights(self, sample_weight, X, codes)
        batch_size = self._next_batch_size(n, reset, what)
        return ArrayBatches(X, Y, weights, batch_size, shuffle=shuffle, seed=seed, epoch=epoch)

    def _next_batch_size(self, n_samples, reset, what):
        """The batch size of this fit; training data of a new fit sets ``batch_size_``."""
        if what != "X":
            return self.batch_size_
        if reset or not isinstance(self.batch_size, str) or not hasattr(self, "batch_size_"):
            self.batch_size_ = self._batch_size_for(n_samples)
        return self.batch_size_

    def _batch_size_for(self, n_samples):
        if isinstance(self.batch_size, str):  # "auto"
            return auto_batch_size(n_samples)
        return int(self.batch_size)

    def _shard_stream(self, paths, *, shuffle, seed):
        """Shard paths as an ``iter_yt8m`` stream at this model's level."""
        from .io import iter_yt8m

        level = "frame" if getattr(self, "_fit_ndim", None) == 3 or (
            self._accepted_ndims() == (3,)) else "video"
        size = self.batch_size if isinstance(self.batch_size, numbers.Integral) \
            else AUTO_BATCH_MAX
        return iter_yt8m(paths, level=level, batch_size=int(size), sparse_labels=True,
                         shuffle=shuffle, random_state=seed)

    def _stream_dataset(self, X, y, sample_weight, *, reset, classes, what, partial):
        name = type(self).__name__
        if y is not None:
            raise ValueError(
                f"{name}: {what} is a stream of (X, y) batches, so y must be None (the "
                f"targets come in the batches); got y of type {type(y).__name__}."
            )
        if sample_weight is not None:
            raise ValueError(
                f"{name}: {what} is a stream, so sample weights come in the batches as "
                "(X, y, sample_weight) triples; sample_weight must be None."
            )
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' needs the class frequencies of all the data, which "
                "a stream does not give before it is read; pass a dict of class weights."
            )
        source = _Source(X, what)
        first = source.first()
        if reset and classes is None and what == "X" and partial:
            yb = _unpack(first, 0, what)[1]
            if yb is None or target_type_of(self, yb) != MULTILABEL:
                raise ValueError(
                    "classes must be passed at the first call to partial_fit for 1-D targets "
                    "(all labels, since one batch may miss some)."
                )
        self._convert_batch(first, 0, what, reset=reset, classes=classes)
        source.count()
        self._next_batch_size(_num_samples(_unpack(first, 0, what)[0]) * source.length,
                              reset, what)
        with distribution_scope(self, batch_size=self.batch_size_) as dist:
            shards = batch_shards(dist)
        return StreamBatches(
            source, lambda batch, i: self._convert_batch(batch, i, what),
            shards=shards, read_ahead=READ_AHEAD,
        )

    def _convert_batch(self, batch, index, what, *, reset=False, classes=None):
        """Validate and encode one streamed batch as ``fit`` does arrays: ``(X, Y, w)``."""
        Xb, yb, wb = _unpack(batch, index, what)
        try:
            Xb = self._validate_X(Xb, reset=reset)
            Yb, codes = encode_targets(self, yb, reset=reset, classes=classes)
            if Yb.shape[0] != Xb.shape[0]:
                raise ValueError(f"X has {Xb.shape[0]} samples but y has {Yb.shape[0]}.")
            w = combine_weights(self, wb, Xb, codes)
        except ValueError as exc:
            raise ValueError(f"{what} batch {index}: {exc}") from exc
        if sp.issparse(Yb):
            Yb = Yb.toarray()
        return Xb, Yb, w

    def _get_datasets(self, X, y, sample_weight, validation_data, *, reset, classes,
                      incremental, seed, epoch):
        """The training and validation batch sources of one fit."""
        name = type(self).__name__
        if incremental and reset and classes is None and not is_stream(X) \
                and not is_shard_paths(X) and not isinstance(X, Batches):
            y_type = target_type_of(self, y) if y is not None else None
            if y_type != MULTILABEL:
                raise ValueError(
                    "classes must be passed at the first call to partial_fit for 1-D "
                    "targets (all labels, since one batch may miss some)."
                )
        streamed = is_stream(X) or is_shard_paths(X)
        val_streamed = is_stream(validation_data) or is_shard_paths(validation_data)
        if val_streamed and not streamed:
            raise ValueError(
                f"{name}: validation_data is a stream, so X must be a stream too (e.g. "
                "skqrnn.io.iter_yt8m(...)); or load the validation data as (X_val, y_val) "
                "arrays."
            )
        split = self._holdout_fraction(X, streamed, validation_data, incremental)
        if streamed and split and validation_data is None:
            raise ValueError(
                f"validation_split={self.validation_split} cannot hold out the last samples "
                "of a stream; pass validation_data (a stream of other shards, or (X_val, "
                "y_val))."
            )
        train = self.get_dataset(X, y, sample_weight, reset=reset, classes=classes,
                                 shuffle=True, seed=seed, epoch=epoch, partial=incremental)
        val = None
        if validation_data is not None:
            if val_streamed:
                val = self.get_dataset(validation_data, shuffle=False, what="validation_data")
            else:
                if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
                    raise ValueError("validation_data must be a tuple (X_val, y_val).")
                Xv, yv = validation_data
                val = self.get_dataset(Xv, yv, shuffle=False, what="validation_data")
                if val.n == 0:
                    raise ValueError("validation_data holds no samples.")
        elif split and isinstance(train, ArrayBatches):
            n = train.n
            n_val = int(math.ceil(split * n))
            if n_val >= n:
                raise ValueError(f"validation_split={split} leaves no training samples out "
                                 f"of {n}.")
            cut = n - n_val
            w = train.weights
            val = ArrayBatches(train.X[cut:], train.Y[cut:], None, self.batch_size_,
                               shuffle=False, seed=None)
            train = ArrayBatches(train.X[:cut], train.Y[:cut], None if w is None else w[:cut],
                                 self.batch_size_, shuffle=True, seed=seed, epoch=epoch)
        if isinstance(train, ArrayBatches):  # checks that batches split over the devices
            with distribution_scope(self, train.X, None if not isinstance(val, ArrayBatches)
                                    else (val.X,), batch_size=self.batch_size_):
                pass
        return train, val, self._early_stopping_active(train, val, streamed)

    def _holdout_fraction(self, X, streamed, validation_data, incremental):
        """The fraction of the training arrays held out for validation (0: none)."""
        if validation_data is not None or incremental:
            return 0.0
        if self.validation_split:
            return float(self.validation_split)
        if self.early_stopping == "auto" and not streamed:
            try:
                n = _num_samples(X)
            except TypeError:
                return 0.0
            if n >= AUTO_EARLY_STOPPING_MIN_SAMPLES:
                return AUTO_VALIDATION_FRACTION
        return 0.0

    def _auto_learning_rate(self, stop_early):
        """``learning_rate="auto"`` for this fit (after the data are read)."""
        return AUTO_LEARNING_RATE_EARLY_STOPPING if stop_early else AUTO_LEARNING_RATE

    def _lr_schedule(self, stop_early):
        """``lr_schedule`` with "auto" resolved: adaptive when the fit stops early."""
        if self.lr_schedule != "auto":
            return self.lr_schedule
        # An optimizer instance is the user's: its step size (or schedule) is kept.
        own = not isinstance(self.optimizer, keras.optimizers.Optimizer)
        return "adaptive" if stop_early and own else "constant"

    def _monitor(self, val):
        """``monitor``, with "auto" resolved: GAP@20 for multi-label targets with
        validation data (what YouTube-8M is judged on), else the validation
        loss, or the training loss without validation data."""
        if self.monitor != "auto":
            return self.monitor
        if val is None:
            return "loss"
        return "val_gap" if self._target_type == MULTILABEL else "val_loss"

    def _early_stopping_active(self, train, val, streamed):
        if self.early_stopping != "auto":
            return bool(self.early_stopping)
        if val is None:
            return False
        # A stream's size is unknown before it is read: validation data given
        # with it is taken as the wish to stop early.
        if streamed or not isinstance(val, ArrayBatches):
            return True
        return train.n + val.n >= AUTO_EARLY_STOPPING_MIN_SAMPLES

    def _new_network(self, train):
        """A new compiled network whose output layer starts at the training prior."""
        model = self._build_keras_model(train.prior_input())
        Y, weights = train.prior()
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
        logs = {} if history is None else {
            k: [float(v) for v in vals] for k, vals in history.history.items()}
        if reset:
            self.history_ = logs
        else:
            for k, vals in logs.items():
                self.history_.setdefault(k, []).extend(vals)
        self.model_ = model
        self.n_iter_ = start + len(logs.get("loss", []))
        return self

    # ------------------------------------------------------------ checkpoints
    def _checkpoint_path(self):
        path = os.fspath(self.checkpoint)
        if os.path.isdir(path) or path.endswith(os.sep):
            return os.path.join(path, "checkpoint.keras")
        if not path.endswith(".keras"):
            raise ValueError(f"checkpoint must be a directory or a file name ending in "
                             f".keras; got {path!r}.")
        return path

    #: Parameters that may differ between a checkpoint and the fit resuming it.
    _RESUMABLE_CHANGES = ("epochs", "verbose", "callbacks", "checkpoint", "checkpoint_every",
                          "distribution")

    def _resume_from_checkpoint(self):
        """Load the checkpoint's state into this estimator (False: no checkpoint)."""
        if self.checkpoint is None:
            raise ValueError("fit(resume=True) continues from the checkpoint parameter's "
                             "file; set checkpoint=PATH.")
        path = self._checkpoint_path()
        if not os.path.exists(path):
            return False
        saved = type(self).load(path)
        mine, theirs = self.get_params(deep=False), saved.get_params(deep=False)
        differ = [k for k in mine if k not in self._RESUMABLE_CHANGES
                  and k in theirs and _persistable(mine[k])
                  and not _same_value(mine[k], theirs[k])]
        if differ:
            detail = ", ".join(f"{k}={mine[k]!r} (checkpoint: {theirs[k]!r})" for k in differ)
            raise ValueError(
                f"cannot resume from {path}: it was trained with other parameters: {detail}. "
                "Use the checkpoint's parameters, or start a new fit (resume=False, another "
                "checkpoint path)."
            )
        if saved.n_iter_ > self.epochs:
            raise ValueError(f"cannot resume from {path}: it has trained {saved.n_iter_} "
                             f"epochs, more than epochs={self.epochs}.")
        for name, value in vars(saved).items():
            if name not in mine:
                setattr(self, name, value)
        self._checkpoint_best_weights = _persistence.read_best_weights(path)
        return True

    def _save_checkpoint(self, model, epochs_done, logs, start, reset, state, best_weights):
        snapshot = copy.copy(self)
        snapshot.__dict__ = dict(self.__dict__)
        snapshot.__dict__.pop("_training_model", None)
        history = {} if reset else {k: list(v) for k, v in self.history_.items()}
        for entry in logs:
            for k, v in entry.items():
                history.setdefault(k, []).append(float(v))
        snapshot.history_ = history
        snapshot.model_ = model
        snapshot.n_iter_ = epochs_done
        snapshot._checkpoint_state = state
        with warnings.catch_warnings():
            # Callbacks and other non-JSON parameters are not needed to resume
            # (fit(resume=True) takes them from the estimator, not the file).
            warnings.filterwarnings("ignore", message="save\\(\\): parameters",
                                    category=UserWarning)
            _persistence.save_estimator(snapshot, self._checkpoint_path(), best_weights)

    def _make_callbacks(self, val, stop_early, last_epoch, carried=(None, None)):
        """The callbacks of one fit; ``carried`` is a checkpoint's ``(state,
        best_weights)`` for early stopping and the schedule to go on from."""
        carried_state, best_weights = carried
        carried_state = carried_state or {}
        resumable = {}
        callbacks = []
        if val is not None and (self._target_type == MULTILABEL or self.monitor == "val_gap"):
            callbacks.append(ValidationGAP(val, self.batch_size_))
        # The user's callbacks run before early stopping, so a quantity one of
        # them adds to the epoch's logs can be monitored.
        for cb in self.callbacks or ():
            try:
                callbacks.append(copy.deepcopy(cb))
            except Exception:  # e.g. a callback holding a lock or a file handle
                callbacks.append(cb)
        monitor = self._monitor(val)
        if self._lr_schedule(stop_early) == "adaptive":
            # An optimizer instance brings its own step size (read at train begin).
            start_lr = (None if isinstance(self.optimizer, keras.optimizers.Optimizer)
                        else self.learning_rate_)
            resumable["lr_schedule"] = AdaptiveLearningRate(
                monitor=monitor, mode="min" if "loss" in monitor else "max",
                factor=LR_FACTOR, patience=1, min_delta=0.0 if "loss" in monitor else LR_MIN_DELTA,
                start_lr=start_lr, min_fraction=LR_MIN_FRACTION,
            )
            if "lr_schedule" in carried_state:
                resumable["lr_schedule"].resume(carried_state["lr_schedule"])
            callbacks.append(resumable["lr_schedule"])
        if stop_early:
            if monitor.startswith("val_") and val is None:
                raise ValueError(
                    f"early_stopping with monitor={monitor!r} needs validation data: set "
                    "validation_split > 0, pass validation_data to fit, or use monitor='loss'."
                )
            resumable["early_stopping"] = StrictEarlyStopping(
                monitor=monitor, patience=self.patience,
                mode="min" if "loss" in monitor else "max",
                restore_best_weights=self.restore_best_weights,
            )
            if "early_stopping" in carried_state:
                resumable["early_stopping"].resume(carried_state["early_stopping"], best_weights)
            callbacks.append(resumable["early_stopping"])
        if self.checkpoint is not None:
            reset = not hasattr(self, "history_")
            start = getattr(self, "n_iter_", 0)
            callbacks.append(Checkpoint(
                lambda done, logs, state, best: self._save_checkpoint(
                    self._training_model, done, logs, start, reset, state, best),
                self.checkpoint_every, last_epoch, resumable))
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
        with distribution_scope(self) as dist:
            proba = predict_array(self.model_, X, self._predict_batch_size(),
                                  multiple=batch_shards(dist))
        if self._target_type == MULTILABEL:
            return np.clip(proba, _EPS, 1 - _EPS, out=proba)
        if self.n_outputs_ == 1:
            p = np.clip(proba[:, 0], _EPS, 1 - _EPS)
            return np.column_stack([1 - p, p]).astype(np.float32)
        proba = np.clip(proba, _EPS, 1.0)
        return (proba / proba.sum(axis=1, keepdims=True)).astype(np.float32)

    def _predict_batch_size(self):
        if isinstance(self.batch_size, str):  # "auto"
            return getattr(self, "batch_size_", AUTO_BATCH_MAX)
        return int(self.batch_size)

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
        return decode_predictions(self, self.predict_proba(X))

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
        if self._target_type != MULTILABEL:
            return super().score(X, y, sample_weight=sample_weight)
        if sample_weight is not None:
            raise ValueError("GAP@20, the multi-label score, does not take sample_weight.")
        from .metrics import global_average_precision

        return global_average_precision(y, self.predict_proba(X), k=20)

    # ------------------------------------------------------------ persistence
    def save(self, path):
        """Save the fitted estimator as a Keras ``.keras`` archive, atomically.

        The archive is an ordinary Keras model file (``keras.saving.load_model``
        reads the network) with the estimator's class, parameters and fitted
        attributes added as JSON; :meth:`load` or :func:`load_model` restore
        the estimator. The file is written beside ``path`` under a temporary
        name, flushed to disk and then moved over ``path``: a failure (disk
        full, Ctrl-C) leaves an existing file as it was. Parameters that are
        not JSON data (callbacks, optimizer instances, RandomState objects)
        are not stored: they get their default values at load time, with a
        warning here.

        Parameters
        ----------
        path : str or os.PathLike
            File name ending in ``.keras``.

        Examples
        --------
        >>> import numpy as np, tempfile, os
        >>> from skqrnn import DenseNetClassifier
        >>> rng = np.random.RandomState(0)
        >>> X, y = rng.randn(40, 6), rng.randint(0, 2, size=(40, 3))
        >>> clf = DenseNetClassifier(stem_units=8, growth_rate=4, block_layers=(1,),
        ...                          epochs=1, random_state=0).fit(X, y)
        >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
        >>> clf.save(path)
        >>> loaded = DenseNetClassifier.load(path)
        >>> bool(np.array_equal(loaded.predict_proba(X), clf.predict_proba(X)))
        True
        """
        check_is_fitted(self)
        _persistence.save_estimator(self, path)

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
        meta = _persistence.read_metadata(path)
        if meta["class"] == f"{cls.__module__}.{cls.__qualname__}":
            return _persistence.load_estimator(cls, meta, path)
        stored = _persistence.skqrnn_class(meta, path)
        if not issubclass(stored, cls):
            raise ValueError(
                f"{path} holds a {stored.__name__}, not a {cls.__name__}; load it with "
                f"{stored.__name__}.load() or skqrnn.base.load_model()."
            )
        return _persistence.load_estimator(stored, meta, path)


# ------------------------------------------------------------------ helpers
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
    # Assigned to the variable itself: set_weights round-trips the kernel
    # through numpy, which raised NumPy 2's __array__ copy-keyword warning.
    head.bias.assign(bias.astype(np.float32))


def _same_value(a, b):
    """Parameter equality that numpy values and arbitrary objects survive."""
    if a is b:
        return True
    try:
        return bool(np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object)))
    except Exception:  # objects whose == does not give a truth value
        return False


def _persistable(value):
    """Whether ``save`` stores this parameter value (else it loads as the default)."""
    try:
        _persistence._to_json(value)
    except TypeError:
        return False
    return True


def _ndims_text(ndims):
    shapes = {2: "2 dimensions (n_samples, n_features)",
              3: "3 dimensions (n_samples, n_steps, n_features)"}
    return " or ".join(shapes.get(d, f"{d} dimensions") for d in ndims)
