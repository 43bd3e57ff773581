"""Out-of-core training: ``fit`` and ``partial_fit`` on streams of batches.

:meth:`KerasClassifierBase.fit` hands ``X`` to :func:`fit_stream` when
:func:`is_stream` says it is a stream of ``(X, y)`` batches rather than an
array. The estimator then never holds more than the batch being converted
(and whatever the stream itself buffers, e.g. the shuffle buffer of
:func:`skqrnn.io.iter_yt8m`), so the data may be far larger than memory.

Accepted streams (``X``, with ``y=None``; also ``validation_data``)
-----------------------------------------------------------------
- a re-iterable of batches: each ``iter(X)`` starts a new pass over the
  data, e.g. ``skqrnn.io.iter_yt8m(paths, epochs=1)`` (which reshuffles the
  shards and records at each pass) or any object whose ``__iter__`` returns
  a new iterator;
- a function with no arguments that returns a new iterable of batches at
  each call (``lambda: iter_yt8m(paths, random_state=seed)``, or
  ``lambda: batches`` for a list of batches);
- a ``keras.utils.PyDataset`` (batches read by index, ``0 .. len - 1``; its
  ``workers`` are used as threads, its ``on_epoch_end`` is called after each
  epoch).

A batch is ``(X, y)`` or ``(X, y, sample_weight)`` (a third element that is
a dict, such as ``iter_yt8m(return_meta=True)``'s metadata, is ignored);
``X`` and ``y`` are what ``fit`` takes in memory: float or uint8 ``X`` (uint8
stays uint8 up to the network's :class:`~skqrnn.layers.Dequantize` layer),
``y`` a dense or sparse 0/1 indicator matrix (sparse batches are densified
one at a time) or 1-D labels. Lists are always read as array-like ``X``, and
one-shot iterators (generators) are refused because ``fit`` reads the data
once per epoch: wrap them in a function that makes a new one.

What is learned from the first batch
------------------------------------
``n_features_in_``, the input dtype, and the targets: for multi-label
batches ``classes_ = arange(n_labels)`` from the width of ``y``; for 1-D
labels the classes present in the first batch (``fit``) or the ``classes``
given to the first ``partial_fit``. Every later batch is checked against
them, and a bad batch raises a ``ValueError`` naming its index.

Epochs and their length
-----------------------
``epochs`` passes are made over the stream; each must yield the same number
of batches. Keras needs that number before the first epoch (for its
progress bar, callbacks and the end of each epoch): it is ``len(X)`` when
the stream has a length (``iter_yt8m``'s batches and every ``PyDataset``
do); otherwise one extra pass counts the batches before training, which
costs one more read of the data. An epoch that yields fewer or more batches
than the first raises a ``ValueError`` (use ``drop_remainder=True`` or fixed
shards). ``iter_yt8m(..., epochs=k)`` with ``k != 1`` is refused: the
estimator's own ``epochs`` sets the number of passes.

Shuffling is the stream's: batches are used in the order it yields them
(``fit`` on arrays shuffles the samples itself). ``validation_split`` does not
apply to streams (their end is unknown until they are read); pass
``validation_data`` -- a stream of other shards, or ``(X_val, y_val)``.
A streamed validation set is read twice per epoch: once by Keras for
``val_loss`` and once for ``val_gap`` (GAP@20, accumulated with
:class:`skqrnn.metrics.YT8MEvaluator` in ``O(n_videos * 20)`` memory).

Equivalence with in-memory training
-----------------------------------
With the same ``random_state``, the same batches in the same order give the
same initial weights, dropout masks and optimizer steps as ``fit`` on the
stacked arrays; the predictions then agree to float32 rounding (about 1e-5:
the reductions inside a step run in another order). In-memory ``fit``
shuffles with its own generator, so with several batches per epoch the two
follow different but equally good trajectories; their GAP agrees within the
run-to-run spread of SGD (see ``tests/test_scale.py`` for the tolerances).

Under a ``distribution`` over ``d`` devices every batch must split evenly;
a streamed batch of ``n`` samples with ``n % d != 0`` is cut to its first
``n - n % d`` samples (at most ``d - 1`` samples of the last batch of each
epoch when ``batch_size`` is a multiple of ``d``), with a warning.
"""

import warnings

import keras
import numpy as np
import scipy.sparse as sp

from ._distribution import batch_shards, distribution_scope

__all__ = ["is_stream", "fit_stream"]

_END = object()


def is_stream(obj):
    """True for the batch streams ``fit`` accepts in place of an array ``X``.

    Arrays, array-likes (lists, tuples, DataFrames, anything with
    ``__array__`` or ``shape``), sparse matrices and None are not streams;
    a ``keras.utils.PyDataset``, a function, and any other iterable or
    iterator are.
    """
    if obj is None or isinstance(obj, (np.ndarray, list, tuple, dict, str, bytes)):
        return False
    if sp.issparse(obj):
        return False
    if isinstance(obj, keras.utils.PyDataset):
        return True
    if any(hasattr(obj, a) for a in ("__array__", "__array_interface__", "__dataframe__",
                                       "shape", "dtype")):
        return False
    return callable(obj) or hasattr(obj, "__iter__") or hasattr(obj, "__next__")


class _Source:
    """One of the accepted stream types, read pass after pass.

    ``get(i)`` returns batch ``i`` of the current pass; batch 0 starts a new
    pass. Sequential streams must be read in order (Keras does, with
    ``shuffle=False`` and no worker threads); a ``PyDataset`` is read by
    index, so its worker threads may read ahead. Batch 0 may be asked for
    again before batch 1 (Keras peeks at it to build the optimizer): it is
    kept until the pass moves on, so the peek costs no extra pass.
    """

    def __init__(self, data, what):
        self.data = data
        self.what = what
        self.indexed = isinstance(data, keras.utils.PyDataset)
        self.length = None
        self._it = None  # iterator of the current pass, None between passes
        self._pos = 0  # batches of the current pass served so far
        self._batch0 = _END  # batch 0 of the current pass, while at position 1
        self._first = _END  # PyDataset: batch 0, read before training
        from .io import YT8MBatches

        if self.indexed:
            n = data.num_batches
            if n is None:
                raise ValueError(
                    f"{what} is an infinite keras.utils.PyDataset (num_batches is None); fit "
                    "needs epochs of known length: give it a __len__."
                )
            self.length = int(n)
        elif callable(data):
            pass
        else:
            if isinstance(data, YT8MBatches) and data.epochs != 1:
                raise ValueError(
                    f"{what} was made by iter_yt8m(..., epochs={data.epochs!r}); pass "
                    "epochs=1: the estimator's epochs parameter sets the number of passes."
                )
            # An iterator (it has __next__) is exhausted after one pass;
            # calling iter() here to find out would start a pass.
            if not hasattr(data, "__iter__") or hasattr(data, "__next__"):
                raise ValueError(
                    f"{what} is a one-shot iterator ({type(data).__name__}), but training reads "
                    "the data once per epoch. Pass a re-iterable (e.g. skqrnn.io.iter_yt8m(...)), "
                    "a keras.utils.PyDataset, or a function returning a new iterator."
                )
            if hasattr(data, "__len__"):
                self.length = int(len(data))
        if self.length is not None and self.length < 1:
            raise ValueError(f"{what} yields no batches (its length is {self.length}).")

    def _new_iter(self):
        if self.indexed:
            return (self.data[i] for i in range(self.length))
        src = self.data() if callable(self.data) else self.data
        if src is None or not hasattr(src, "__iter__"):
            raise ValueError(
                f"{self.what}: the function passed as a stream returned "
                f"{type(src).__name__}, not an iterable of batches."
            )
        return iter(src)

    def first(self):
        """Batch 0, read once and kept for the first pass."""
        if self.indexed:
            if self._first is _END:
                self._first = self.data[0]
            return self._first
        if self._it is None or self._pos != 1:
            self._start_pass()
            if self._batch0 is _END:
                raise ValueError(f"{self.what} yields no batches.")
        return self._batch0

    def _start_pass(self):
        self._it = self._new_iter()
        self._batch0 = next(self._it, _END)
        self._pos = 1

    def count(self):
        """Batches per pass: the stream's length, or one counting pass."""
        if self.length is None:
            self.length = sum(1 for _ in self._new_iter())
            if self.length < 1:
                raise ValueError(f"{self.what} yields no batches.")
        return self.length

    def get(self, i):
        if self.indexed:
            if i == 0 and self._first is not _END:
                batch, self._first = self._first, _END
                return batch
            return self.data[i]
        if i == 0:
            if self._it is None or self._pos != 1:
                self._start_pass()
                if self._batch0 is _END:
                    self._it = None
                    raise ValueError(f"{self.what} yielded no batches in this pass.")
            batch = self._batch0
            if self.length == 1:
                self._check_end_of_pass()
            return batch
        if self._it is None or i != self._pos:
            raise RuntimeError(f"{self.what}: batch {i} requested out of order.")
        self._batch0 = _END
        batch = next(self._it, _END)
        if batch is _END:
            self._it = None
            raise ValueError(
                f"{self.what} ended after {i} batches in this pass, but the first pass had "
                f"{self.length}: every pass must yield the same number of batches (e.g. "
                "iter_yt8m(..., drop_remainder=True) or shards whose records are all valid)."
            )
        self._pos += 1
        self._check_end_of_pass()
        return batch

    def _check_end_of_pass(self):
        if self._pos < self.length:
            return
        extra = next(self._it, _END)
        self._it, self._batch0 = None, _END
        if extra is not _END:
            raise ValueError(
                f"{self.what} yields more than {self.length} batches in a pass (its length, "
                "or the count of the first pass): every pass must yield the same number."
            )

    def iterate(self):
        """A whole new pass, independent of ``get`` (for the validation GAP)."""
        return self._new_iter()


def _unpack(batch, index, what):
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple) or len(batch) not in (2, 3):
        raise ValueError(
            f"{what} batch {index} is a {type(batch).__name__}; a stream must yield (X, y) or "
            "(X, y, sample_weight) tuples."
        )
    if len(batch) == 2 or isinstance(batch[2], dict):  # iter_yt8m's return_meta dict
        return batch[0], batch[1], None
    return batch


def _convert(est, batch, index, what, *, reset=False, classes=None):
    """Validate and encode one batch as ``fit`` does its arrays: ``(X, Y, w)``."""
    Xb, yb, wb = _unpack(batch, index, what)
    try:
        Xb = est._validate_X(Xb, reset=reset)
        Yb, codes = est._validate_y(yb, reset=reset, classes=classes)
        if Yb.shape[0] != Xb.shape[0]:
            raise ValueError(f"X has {Xb.shape[0]} samples but y has {Yb.shape[0]}.")
        w = est._sample_weight(wb, Xb, codes)
    except ValueError as exc:
        raise ValueError(f"{what} batch {index}: {exc}") from exc
    if sp.issparse(Yb):
        Yb = Yb.toarray()
    return Xb, Yb, w


class _StreamDataset(keras.utils.PyDataset):
    """The Keras view of a stream: converted batches, ``len`` batches per epoch."""

    def __init__(self, est, source, what, shards):
        indexed = source.indexed
        super().__init__(
            workers=source.data.workers if indexed else 1,
            use_multiprocessing=False,
            max_queue_size=source.data.max_queue_size if indexed else 10,
        )
        self._est, self._source, self._what, self._shards = est, source, what, shards
        self._warned = False

    def __len__(self):
        return self._source.length

    def __getitem__(self, i):
        X, Y, w = _convert(self._est, self._source.get(i), i, self._what)
        n = X.shape[0]
        if self._shards > 1 and n % self._shards:
            keep = n - n % self._shards
            if keep == 0:
                raise ValueError(
                    f"{self._what} batch {i} has {n} samples, fewer than the {self._shards} "
                    "devices the distribution splits it over."
                )
            if not self._warned:
                self._warned = True
                warnings.warn(
                    f"{self._what}: batches of {n} samples are cut to {keep} to split evenly "
                    f"over {self._shards} devices.", UserWarning, stacklevel=2,
                )
            X, Y = X[:keep], Y[:keep]
            w = None if w is None else w[:keep]
        return (X, Y) if w is None else (X, Y, w)

    def on_epoch_begin(self):
        if self._source.indexed:
            self._source.data.on_epoch_begin()

    def on_epoch_end(self):
        if self._source.indexed:
            self._source.data.on_epoch_end()


def _gap_callback_class():
    from .base import _predict, _ValidationGAP

    class _StreamValidationGAP(_ValidationGAP):
        """``val_gap``: GAP@20 over a streamed validation set, one batch at a time."""

        def __init__(self, est, source, batch_size):
            super().__init__(None, None, batch_size)
            self.est, self.source = est, source

        def on_epoch_end(self, epoch, logs=None):
            from .metrics import YT8MEvaluator

            evaluator = YT8MEvaluator(top_k=20)
            for i, batch in enumerate(self.source.iterate()):
                X, Y, _ = _convert(self.est, batch, i, self.source.what)
                proba = _predict(self.model, X, self.batch_size)
                evaluator.update(*_one_hot(Y, proba))
            if logs is not None:
                logs["val_gap"] = float(evaluator.result()["gap"])

    return _StreamValidationGAP


def _one_hot(Y, proba):
    """GAP inputs for encoded targets (as the in-memory ``val_gap`` forms them)."""
    if Y.ndim == 2 and Y.shape[1] > 1:
        return Y, proba
    codes = Y.ravel().astype(np.intp)
    if proba.shape[1] == 1:
        proba = np.column_stack([1 - proba[:, 0], proba[:, 0]])
    return np.eye(proba.shape[1], dtype=np.int8)[codes], proba


def fit_stream(est, X, y=None, *, sample_weight=None, validation_data=None, reset, epochs,
               classes=None, partial=False):
    """Train ``est`` on a stream of batches; the streaming half of ``_fit``.

    Parameters are those of ``KerasClassifierBase._fit``; ``X`` is a stream
    (see the module docstring) and ``y`` and ``sample_weight`` must be None
    (they come in the batches).
    """
    from .base import _MULTILABEL, _ValidationGAP, _seeded

    name = type(est).__name__
    if not is_stream(X):
        raise ValueError(
            f"{name}: validation_data is a stream, so X must be a stream too (e.g. "
            "skqrnn.io.iter_yt8m(...)); or load the validation data as (X_val, y_val) arrays."
        )
    if y is not None:
        raise ValueError(
            f"{name}: X is a stream of (X, y) batches, so y must be None (the targets come "
            f"in the batches); got y of type {type(y).__name__}."
        )
    if sample_weight is not None:
        raise ValueError(
            f"{name}: X is a stream, so sample weights come in the batches as "
            "(X, y, sample_weight) triples; sample_weight must be None."
        )
    est._check_params()
    if not reset:
        est._check_network_unchanged()
    if est.class_weight == "balanced":
        raise ValueError(
            "class_weight='balanced' needs the class frequencies of all the data, which a "
            "stream does not give before it is read; pass a dict of class weights."
        )
    if est.validation_split and validation_data is None and not partial:
        raise ValueError(
            f"validation_split={est.validation_split} cannot hold out the last samples of a "
            "stream; pass validation_data (a stream of other shards, or (X_val, y_val))."
        )
    # Everything that reads the stream runs seeded, as in-memory fit's
    # shuffling does: a stream drawing from NumPy's global generator then
    # yields the same batches at each fit with the same random_state.
    with _seeded(est._seed()):
        source = _Source(X, "X")
        first = source.first()
        if partial and reset and classes is None:
            from sklearn.utils.multiclass import type_of_target

            yb = _unpack(first, 0, "X")[1]
            if yb is None or type_of_target(yb, input_name="y") != _MULTILABEL:
                raise ValueError(
                    "classes must be passed at the first call to partial_fit for 1-D targets "
                    "(all labels, since one batch may miss some)."
                )
        if reset:  # drop the old network before anything else is learned
            for attr in ("model_", "history_", "n_iter_"):
                est.__dict__.pop(attr, None)
        X0, Y0, _ = _convert(est, first, 0, "X", reset=reset, classes=classes)
        source.count()

        val_source = val_arrays = None
        if validation_data is not None:
            if is_stream(validation_data):
                val_source = _Source(validation_data, "validation_data")
                _convert(est, val_source.first(), 0, "validation_data")
                val_source.count()
            else:
                if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
                    raise ValueError(
                        "validation_data must be a stream of batches or a tuple (X_val, y_val)."
                    )
                Xv, Yv, _ = _convert(est, tuple(validation_data), 0, "validation_data")
                val_arrays = (Xv, Yv)

        callbacks = est._make_callbacks(val_arrays if val_source is None else (None, None),
                                        partial)
        if val_source is not None:
            gap_cls = _gap_callback_class()
            callbacks = [gap_cls(est, val_source, est.batch_size) if type(cb) is _ValidationGAP
                         else cb for cb in callbacks]
        with distribution_scope(est, validation=val_arrays) as dist:
            shards = batch_shards(dist)
            if reset:
                # In-memory fit starts the output layer at the label prior of
                # all samples; a stream's is unknown before it is read, so the
                # first batch estimates it.
                model = est._new_network(X0, Y0)
            else:
                model = est.model_
            start = 0 if reset else est.n_iter_
            train = _StreamDataset(est, source, "X", shards)
            if val_source is not None:
                val = _StreamDataset(est, val_source, "validation_data", shards)
            else:
                val = val_arrays
            history = model.fit(
                train,
                validation_data=val,
                shuffle=False,
                initial_epoch=start,
                epochs=start + epochs,
                callbacks=callbacks,
                verbose=est.verbose,
            )
    return est._keep_fit_result(model, history, start, reset)
