"""Data-parallel training of skqrnn estimators with Keras's distribution API.

The estimators' ``distribution`` parameter names how one network is trained
across several devices; this module turns it into a
``keras.distribution.Distribution`` and makes that distribution the current
one for the duration of a ``fit`` (or a prediction) only, restoring whatever
distribution was current before. Everything else -- replicating the
variables, sharding each batch along its first axis, reducing the gradients --
is Keras's own work (``keras.distribution.DataParallel``, JAX backend).

Values of ``distribution``
--------------------------
``None`` (default)
    Nothing is changed: the network runs under the distribution that is
    current when ``fit`` is called (none, unless the caller set one with
    ``keras.distribution.set_distribution`` or ``with dist.scope():``).
``"data_parallel"``
    ``keras.distribution.DataParallel()`` over every device of the default
    kind (``keras.distribution.list_devices()``: the GPUs or TPUs when there
    are any, else the CPU devices). A string is the form to use in grid
    searches and pickled estimators: it is resolved on the machine that
    fits.
a ``keras.distribution.Distribution``
    Used as is (e.g. ``DataParallel(devices=["gpu:0", "gpu:1"])`` or a
    ``ModelParallel``). Such an object holds device handles, which do not
    pickle: prefer the string for estimators sent to other processes.

Batches are split evenly over the devices of the batch axis, so
``batch_size`` must be a multiple of their number; in-memory ``fit`` also
needs the last, partial batch of the training and validation data to be a
multiple (``n_samples % batch_size``), which is checked before training.
Streamed batches that are not a multiple are cut to the largest one (see
``skqrnn._data``). Predictions pad the last batch to a multiple of the
devices (see ``skqrnn._data.predict_array``), so they take any number of
samples.

Multi-process and multi-host training (JAX)
-------------------------------------------
Start one Python process per host (or per GPU) and, before anything touches
a JAX device, call ::

    keras.distribution.initialize(
        job_addresses="10.0.0.1:1234",   # the coordinator (process 0)
        num_processes=2, process_id=0)   # 1 in the other process

or set ``KERAS_DISTRIBUTION_JOB_ADDRESSES``, ``KERAS_DISTRIBUTION_NUM_PROCESSES``
and ``KERAS_DISTRIBUTION_PROCESS_ID`` and call
``keras.distribution.initialize()``. ``list_devices()`` then lists the
devices of all processes and ``"data_parallel"`` spans them. Each process
runs the same script with the same estimator parameters and feeds its own
share of the data (e.g. ``paths[jax.process_index()::jax.process_count()]``):
``batch_size`` is then the per-process batch, which must be a multiple of the
process's local devices, and every process must run the same number of steps
per epoch (equal shares; ``drop_remainder=True`` for streams).

TensorFlow backend
------------------
Keras's distribution API is implemented for JAX only (the TensorFlow one is
a prototype), so ``"data_parallel"`` raises on other backends. With
TensorFlow, leave ``distribution=None`` and call ``fit`` and ``predict``
inside ``tf.distribute.MirroredStrategy().scope()``, which Keras 3 honours
when the model is built and trained in that scope.
"""

import contextlib
import random
import threading

import keras
from sklearn.utils.validation import _num_samples

__all__ = ["DISTRIBUTIONS", "resolve_distribution", "distribution_scope", "batch_shards",
           "private_keras_seeds"]

#: The names ``distribution`` accepts.
DISTRIBUTIONS = ("data_parallel",)


def resolve_distribution(spec):
    """The ``keras.distribution.Distribution`` named by ``spec`` (None for None).

    Raises a ``ValueError`` naming the accepted values for anything else, and
    for ``"data_parallel"`` on a backend without Keras's distribution API.
    """
    if spec is None:
        return None
    if _is_distribution(spec):
        return spec
    if isinstance(spec, str) and spec in DISTRIBUTIONS:
        backend = keras.backend.backend()
        if backend != "jax":
            raise ValueError(
                f"distribution={spec!r} uses Keras's distribution API, which runs on the JAX "
                f"backend only; this process uses {backend!r}. With TensorFlow, leave "
                "distribution=None and call fit/predict inside "
                "tf.distribute.MirroredStrategy().scope()."
            )
        # Resolved at each fit, on the machine that fits: devices differ
        # between the process that built the estimator and a worker.
        return keras.distribution.DataParallel(devices=keras.distribution.list_devices())
    raise ValueError(
        f"distribution must be None, one of {list(DISTRIBUTIONS)} or a "
        f"keras.distribution.Distribution; got {spec!r}."
    )


def _is_distribution(obj):
    # keras.distribution exports DataParallel and ModelParallel but not
    # their base class, so a user's own Distribution subclass is recognized
    # by what Keras uses of it.
    if isinstance(obj, (keras.distribution.DataParallel, keras.distribution.ModelParallel)):
        return True
    return all(hasattr(obj, a) for a in ("device_mesh", "batch_dim_name", "get_data_layout",
                                         "get_variable_layout", "scope"))


def batch_shards(dist):
    """How many parts each batch fed to this process is split into (1 without)."""
    if dist is None:
        return 1
    mesh = dist.device_mesh
    name = dist.batch_dim_name
    axes = list(mesh.axis_names)
    size = mesh.shape[axes.index(name)] if name in axes else 1
    # In a multi-process run each process feeds its own share of the global
    # batch, split over its local devices only.
    return max(1, size // max(1, getattr(dist, "num_processes", 1)))


@contextlib.contextmanager
def distribution_scope(estimator, X=None, validation=None, *, batch_size=None):
    """Make the estimator's distribution current inside the ``with`` block.

    Parameters
    ----------
    estimator : KerasClassifierBase
        Its ``distribution`` (None when the class has no such parameter) and
        ``batch_size`` are read.
    X : array-like, optional
        In-memory training samples; their count is checked so that every
        batch (the last, partial one included) splits evenly over the
        devices.
    validation : tuple (X_val, y_val), optional
        In-memory validation data, checked the same way.
    batch_size : int, optional
        The batch size of the fit (default: the estimator's ``batch_size``).

    Yields
    ------
    dist : keras.distribution.Distribution or None
        The distribution in force inside the block (the one already current
        when the estimator names none).
    """
    spec = getattr(estimator, "distribution", None)
    dist = resolve_distribution(spec)
    active = dist if dist is not None else keras.distribution.distribution()
    shards = batch_shards(active)
    if shards > 1:
        _check_divisible(estimator.batch_size if batch_size is None else batch_size, shards,
                         X, validation)
    if dist is None:
        yield active
        return
    previous = keras.distribution.distribution()
    keras.distribution.set_distribution(dist)
    try:
        yield dist
    except Exception as exc:
        # JAX's IndivisibleError (a ValueError) from a batch we could not
        # check beforehand, e.g. one fed by a user's PyDataset.
        if "evenly divide" in str(exc):
            raise ValueError(
                f"distribution={spec!r} splits every batch over {shards} devices, but a "
                f"batch did not divide evenly ({exc})."
            ) from exc
        raise
    finally:
        keras.distribution.set_distribution(previous)


def _check_divisible(batch_size, shards, X, validation):
    if batch_size % shards:
        raise ValueError(
            f"batch_size={batch_size} must be a multiple of {shards}, the number of devices "
            f"each batch is split over by the distribution; use e.g. batch_size="
            f"{max(shards, batch_size - batch_size % shards)}."
        )
    for what, data in (("training samples", X),
                       ("validation samples", None if validation is None else validation[0])):
        if data is None:
            continue
        n = _num_samples(data)
        last = n % batch_size
        if last % shards:
            fix = n - last % shards
            raise ValueError(
                f"{n} {what} in batches of {batch_size} leave a last batch of {last}, which "
                f"does not split evenly over {shards} devices; use {fix} samples (or a "
                f"batch_size dividing {n} into multiples of {shards})."
            )


# --------------------------------------------------------------------------
# Seeding that other threads cannot disturb
# --------------------------------------------------------------------------
# Keras draws the seed of every initializer and SeedGenerator created without
# one from Python's global `random` (keras.src.random.seed_generator.
# make_default_seed), which keras.utils.set_random_seed seeds. Any other
# thread of the process consuming `random` between the seeding and the end of
# model building changes the initial weights. A Dask worker's event loop does
# so about every second (heartbeat jitter), so the same random_state gave
# different networks in different tasks. While private_keras_seeds(seed) is
# active, Keras's default seeds in *this thread* come from a private
# random.Random(seed), which gives the same stream as random.seed(seed) did.
_seed_local = threading.local()


class _ThreadLocalRandom:
    """Stands in for the ``random`` module inside Keras's seed_generator."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        rng = getattr(_seed_local, "rng", None)
        if rng is not None and hasattr(rng, name):
            return getattr(rng, name)
        return getattr(self._module, name)


def _install_thread_local_random():
    try:
        from keras.src.random import seed_generator
    except ImportError:  # another Keras layout: keep Keras's own behaviour
        return False
    current = getattr(seed_generator, "python_random", None)
    if isinstance(current, _ThreadLocalRandom):
        return True
    if current is not random:
        return False
    seed_generator.python_random = _ThreadLocalRandom(random)
    return True


@contextlib.contextmanager
def private_keras_seeds(seed):
    """Draw Keras's default seeds in this thread from ``random.Random(seed)``.

    Used by the estimators' seeding (``skqrnn.base._seeded``) so that a given
    ``random_state`` builds the same network whatever other threads do with
    Python's global ``random`` (as in Dask workers). Outside the block, and in
    other threads, Keras behaves as without it.
    """
    if seed is None or not _install_thread_local_random():
        yield
        return
    previous = getattr(_seed_local, "rng", None)
    _seed_local.rng = random.Random(seed)
    try:
        yield
    finally:
        _seed_local.rng = previous
