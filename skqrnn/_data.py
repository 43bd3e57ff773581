"""Batch sources: every training input becomes one ``keras.utils.PyDataset``.

``fit`` and ``partial_fit`` hand whatever they are given to
:meth:`KerasClassifierBase.get_dataset`, which returns a :class:`Batches`:
:class:`ArrayBatches` for arrays in memory (dense, uint8 or sparse targets;
shuffled per epoch), :class:`StreamBatches` for a stream of ``(X, y)``
batches read from disk. The one training loop reads only ``Batches``; it
never knows where the data came from.

Accepted streams (``X``, with ``y=None``; also ``validation_data``)
-----------------------------------------------------------------
- a re-iterable of batches: each ``iter(X)`` starts a new pass over the
  data, e.g. ``skqrnn.io.iter_yt8m(paths, epochs=1)`` (which reshuffles the
  shards and records at each pass) or any object whose ``__iter__`` returns
  a new iterator;
- shard paths: a glob pattern, a directory or a list of TFRecord files is
  read with ``skqrnn.io.iter_yt8m`` (the ``level`` is the estimator's:
  video level for 2-D networks, frame level for sequence models fitted on
  frames; wrap it yourself for other options);
- a function with no arguments that returns a new iterable of batches at
  each call (``lambda: iter_yt8m(paths, random_state=seed)``);
- a ``keras.utils.PyDataset`` (batches read by index, ``0 .. len - 1``; its
  ``on_epoch_end`` is called after each epoch).

A batch is ``(X, y)`` or ``(X, y, sample_weight)`` (a third element that is
a dict, such as ``iter_yt8m(return_meta=True)``'s metadata, is ignored);
``X`` and ``y`` are what ``fit`` takes in memory. One-shot iterators
(generators) are refused because ``fit`` reads the data once per epoch:
wrap them in a function that makes a new one.

What is learned from the first batch
------------------------------------
``n_features_in_``, the input dtype and the targets (multi-label:
``classes_ = arange(n_labels)``; 1-D labels: the classes of the first batch
or the ``classes`` given to the first ``partial_fit``), and the label prior
the output layer starts from. Every later batch is checked against them,
and a bad batch raises a ``ValueError`` naming its index.

Epochs and their length
-----------------------
Every pass must yield the same number of batches; Keras needs it before the
first epoch: ``len(X)`` when the stream has one (``iter_yt8m``'s batches and
every ``PyDataset`` do), otherwise one counting pass.

Read-ahead
----------
A stream is read and converted (parsing, validation, densifying sparse
targets) by one background thread, ``read_ahead`` batches ahead of training
(default 4), so decoding overlaps the training step. The thread is bounded
by its queue, stops at the end of each pass, and is stopped and joined when
``fit`` ends for any reason (an exception, Ctrl-C). Errors it meets are
raised in the training thread, naming the batch.

Equivalence with in-memory training
-----------------------------------
With the same ``random_state``, the same batches in the same order give the
same initial weights, dropout masks and optimizer steps as ``fit`` on the
stacked arrays. In-memory ``fit`` shuffles its samples with a generator
seeded by ``(random_state, epoch)``, so a fit resumed from a checkpoint
shuffles as the uninterrupted one did; a stream is used in the order it
yields its batches.

Under a ``distribution`` over ``d`` devices every batch must split evenly;
a streamed batch of ``n`` samples with ``n % d != 0`` is cut to its first
``n - n % d`` samples, with a warning.
"""

import math
import os
import queue
import threading
import warnings

import keras
import numpy as np
import scipy.sparse as sp

from ._seeding import epoch_seed

__all__ = ["is_stream", "is_shard_paths", "Batches", "ArrayBatches", "StreamBatches",
           "predict_array"]

_END = object()


def is_shard_paths(obj):
    """A path, glob pattern, directory, or list of those naming TFRecord shards."""
    if isinstance(obj, (str, os.PathLike)):
        return True
    return (isinstance(obj, (list, tuple)) and len(obj) > 0
            and all(isinstance(p, (str, os.PathLike)) for p in obj))


class Batches(keras.utils.PyDataset):
    """What the training loop reads: ``(X, Y)`` or ``(X, Y, w)`` batches, ``len`` per epoch.

    Subclasses give the batches and three more things the loop needs:
    ``prior()`` -- targets and weights to start the output layer at the
    label prior; ``iter_eval()`` -- one pass of ``(X, Y)`` in order, for the
    validation GAP; ``close()`` -- release threads or files.
    """

    def __init__(self):
        super().__init__(workers=1, use_multiprocessing=False, max_queue_size=10)
        self.epoch = 0
        self._served = 0  # batches of the current pass handed out so far

    def on_epoch_end(self):
        # Keras reads batch 0 to build the network, then resets its iterator
        # (which calls this) before the first epoch: that is not an epoch, and
        # the pass it began is the first epoch's.
        if self._served <= 1 and len(self) > 1:
            return
        self._served = 0
        self.epoch += 1
        self._new_epoch()

    def _new_epoch(self):
        """Start the next epoch's pass (reshuffle, reset read-ahead)."""

    def close(self):
        """Stop background work; the source may be iterated again afterwards."""


class ArrayBatches(Batches):
    """Batches of in-memory arrays; sparse targets are densified one batch at a time.

    With ``shuffle`` the samples are permuted at each epoch with a generator
    seeded by ``(seed, epoch)``; indices within a batch are sorted so that
    the CSR rows and the array are read in memory order.
    """

    def __init__(self, X, Y, weights, batch_size, *, shuffle, seed, epoch=0):
        super().__init__()
        self.X, self.Y, self.weights = X, Y, weights
        self.batch_size = int(batch_size)
        self.shuffle, self.seed = shuffle, seed
        self.n = X.shape[0]
        self.epoch = epoch
        self._order = None
        self._set_order()

    def _set_order(self):
        if self.shuffle:
            self._order = np.random.default_rng(epoch_seed(self.seed, self.epoch)
                                                if self.seed is not None
                                                else None).permutation(self.n)
        else:
            self._order = None

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def __getitem__(self, i):
        self._served = max(self._served, i + 1)
        lo, hi = i * self.batch_size, min((i + 1) * self.batch_size, self.n)
        if self._order is None:
            idx = slice(lo, hi)
        else:
            idx = np.sort(self._order[lo:hi])
        Y = self.Y[idx]
        batch = (self.X[idx], Y.toarray() if sp.issparse(Y) else Y)
        return batch if self.weights is None else batch + (self.weights[idx],)

    def _new_epoch(self):
        self._set_order()

    def prior(self):
        return self.Y, self.weights

    def prior_input(self):
        return self.X

    def iter_eval(self):
        for start in range(0, self.n, self.batch_size):
            Y = self.Y[start:start + self.batch_size]
            yield self.X[start:start + self.batch_size], (Y.toarray() if sp.issparse(Y) else Y)


class StreamBatches(Batches):
    """Converted batches of a stream, read ahead by a background thread.

    Parameters
    ----------
    source : _Source
        The stream, read pass after pass.
    convert : callable
        ``convert(batch, index) -> (X, Y, w)``: validation and encoding, as
        ``fit`` does for arrays (it raises ``ValueError`` naming the batch).
    shards : int
        Devices each batch is split over (batches are cut to a multiple).
    read_ahead : int
        Batches decoded ahead of training; 0 reads in the training thread.
    """

    def __init__(self, source, convert, *, shards=1, read_ahead=4):
        super().__init__()
        self.source, self.convert = source, convert
        self.shards, self.read_ahead = shards, read_ahead
        self._warned = False
        self._thread = None
        self._queue = None
        self._stop = None
        self._next = 0  # next index the training loop may ask for
        self._batch0 = _END  # batch 0 of this pass, kept until batch 1 is asked for
        self._first = None  # batch 0 converted, for prior() and prior_input()

    def __len__(self):
        return self.source.length

    def _read(self, i):
        X, Y, w = self.convert(self.source.get(i), i)
        n = X.shape[0]
        if self.shards > 1 and n % self.shards:
            keep = n - n % self.shards
            if keep == 0:
                raise ValueError(f"{self.source.what} batch {i} has {n} samples, fewer than "
                                 f"the {self.shards} devices the distribution splits it over.")
            if not self._warned:
                self._warned = True
                warnings.warn(f"{self.source.what}: batches of {n} samples are cut to {keep} "
                              f"to split evenly over {self.shards} devices.", UserWarning,
                              stacklevel=2)
            X, Y = X[:keep], Y[:keep]
            w = None if w is None else w[:keep]
        return (X, Y) if w is None else (X, Y, w)

    # ---------------------------------------------------------- read-ahead
    def _start_pass(self):
        self.close()
        self._next = 0
        self._batch0 = _END
        if self.read_ahead <= 0:
            return
        self._queue = queue.Queue(maxsize=self.read_ahead)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, args=(self._queue, self._stop),
                                        name="skqrnn-read-ahead", daemon=True)
        self._thread.start()

    def _produce(self, q, stop):
        for i in range(len(self)):
            if stop.is_set():
                return
            try:
                item = (True, self._read(i))
            except BaseException as exc:  # handed to the training thread
                item = (False, exc)
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if not item[0]:
                return

    def _take(self, i):
        if self._thread is None:
            return self._read(i)
        ok, value = self._queue.get()
        if not ok:
            self.close()
            raise value
        return value

    def __getitem__(self, i):
        if i == 0:
            if self._next == 1 and self._batch0 is not _END:
                return self._batch0  # Keras peeks at batch 0, then asks again
            self._start_pass()
        elif i != self._next:
            raise RuntimeError(f"{self.source.what}: batch {i} requested out of order "
                               f"(expected {self._next}).")
        batch = self._take(i)
        self._batch0 = batch if i == 0 else _END
        self._next = i + 1
        self._served = max(self._served, self._next)
        if self._next == len(self):
            self.close()
        return batch

    def close(self):
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = self._queue = self._stop = None

    def on_epoch_begin(self):
        if self.source.indexed:
            self.source.data.on_epoch_begin()

    def _new_epoch(self):
        self._next, self._batch0 = 0, _END  # the next epoch is a new pass
        if self.source.indexed:
            self.source.data.on_epoch_end()

    def _converted_first(self):
        """Batch 0, converted once (the network's input spec and label prior)."""
        if self._first is None:
            self._first = self.convert(self.source.first(), 0)
        return self._first

    def prior(self):
        _, Y, w = self._converted_first()
        return Y, w

    def prior_input(self):
        return self._converted_first()[0]

    def iter_eval(self):
        for i, batch in enumerate(self.source.iterate()):
            X, Y, _ = self.convert(batch, i)
            yield X, Y


def predict_array(model, X, batch_size, multiple=1):
    """``model``'s outputs for ``X`` as float32, in bounded batches.

    Batches hold at most ``min(batch_size, n_samples)`` samples (rounded up
    to ``multiple``, the devices a distribution splits a batch over); the
    last, partial batch is zero-padded to the next power of two, so memory
    follows the data rather than ``batch_size``, and a network is compiled
    for at most ``log2(batch_size) + 1`` input shapes.
    """
    n = X.shape[0]
    out = np.empty((n, model.output_shape[-1]), dtype=np.float32)

    def rounded(m):
        return -(-m // multiple) * multiple

    size = rounded(max(1, min(int(batch_size), n)))
    for start in range(0, n, size):
        batch = X[start:start + size]
        m = batch.shape[0]
        padded = size if m == size else min(size, rounded(1 << (m - 1).bit_length()))
        if padded > m:
            pad = np.zeros((padded - m,) + batch.shape[1:], dtype=batch.dtype)
            batch = np.concatenate([batch, pad])
        out[start:start + m] = np.asarray(model.predict_on_batch(batch))[:m]
    return out


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


