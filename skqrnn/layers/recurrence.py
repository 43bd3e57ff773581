"""The first-order linear recurrence ``h_t = a_t * h_{t-1} + b_t`` on every backend.

This is the only sequential part of a QRNN ("fo-pooling"): everything else is
a convolution. Two algorithms compute it with :mod:`keras.ops`:

* ``"sequential"``: one step per frame, O(T) work, T dependent steps.
  ``keras.ops.scan`` (``jax.lax.scan`` / ``tf.scan``) on JAX and TensorFlow.
  On torch ``ops.scan`` indexes ``xs[i]`` per step, whose backward pass
  allocates a full-size zero tensor per step (training time quadratic in T),
  so torch gets a Python loop over ``ops.unstack`` (one ``unbind`` whose
  backward stacks once).
* ``"associative"``: a parallel prefix scan with the associative operator
  ``(a1, b1) . (a2, b2) = (a1 * a2, a2 * b1 + b2)``, log2(T) dependent steps.
  JAX uses ``jax.lax.associative_scan`` (work-efficient); the other backends
  use a Hillis-Steele doubling scan written with ``ops.pad``/slicing, which
  keeps static shapes on TensorFlow (its ``ops.associative_scan`` returns a
  tensor of unknown rank inside ``tf.function``) and allocates on the input's
  device and dtype on torch (its ``ops.associative_scan`` allocates
  ``torch.zeros`` on the default device in float32).

The closed form ``h = P * cumsum(b / P)`` with ``P = cumprod(a)`` is not used:
``P`` underflows to 0 within a few hundred frames of forget gates < 1.

``method="auto"`` picks by device from the measurements in
``benchmarks/bench_scan.py``: sequential on CPU (every backend: 1.6x to 24x
faster to train at T = 300), associative on GPU/TPU (19x faster than the
sequential scan on an H100 with JAX at T = 300). The recurrence always runs
in float32: under mixed precision a float16 scan loses ~1e-3 and a bfloat16
scan ~1e-2.
"""

import functools

import keras
from keras import ops

SCAN_METHODS = ("auto", "sequential", "associative")

# Unroll factor of ``ops.scan`` on JAX/TensorFlow; see benchmarks/bench_scan.py.
DEFAULT_UNROLL = 1
# Steps per chunk of the last-state scan on JAX (_jax_last_state).
LAST_STATE_CHUNK = 4


def _on_gpu():
    """Whether the current backend places new tensors on a GPU/TPU."""
    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            return jax.default_backend() != "cpu"
        if backend == "tensorflow":
            import tensorflow as tf

            return bool(tf.config.list_logical_devices("GPU"))
        if backend == "torch":
            from keras.src.backend.torch.core import get_device

            return get_device() != "cpu"
    except Exception:  # pragma: no cover - a broken accelerator runtime
        return False
    return False


def resolve_scan_method(method="auto"):
    """Return ``"sequential"`` or ``"associative"`` for this backend and device.

    Parameters
    ----------
    method : {"auto", "sequential", "associative"}
        ``"auto"`` chooses by measurement (``benchmarks/bench_scan.py``):
        sequential on CPUs, for every backend and length measured (T = 20 to
        300); associative on accelerators, where the T dependent steps of
        the sequential scan each launch kernels that leave the device idle.

    Returns
    -------
    str
    """
    if method not in SCAN_METHODS:
        raise ValueError(
            f"scan must be one of {SCAN_METHODS}; got scan={method!r}."
        )
    if method != "auto":
        return method
    return "associative" if _on_gpu() else "sequential"


def _combine(left, right):
    a1, b1 = left
    a2, b2 = right
    return a1 * a2, a2 * b1 + b2


def _step(h, ab):
    # Module-level so that JAX reuses its trace and compilation between
    # eager calls (a closure would be retraced and recompiled every call).
    a_t, b_t = ab
    h = a_t * h + b_t
    return h, h


@functools.cache
def _jax_last_state(unroll, size):
    """``h_T`` of time-major ``(a, b, h0)`` on JAX, its gradient written out.

    Autodiff of a scan over the steps stacks two cotangents per step (of
    ``a_t`` and ``b_t``) and a zero cotangent for every unused state. Here
    the steps go by chunks of ``size`` (:data:`LAST_STATE_CHUNK`): each chunk's
    composite ``h -> A h + B`` (element-wise products over all chunks at
    once), a scan over the chunks that keeps each chunk's first state, and
    in the gradient a reverse scan over the chunks; the states and
    cotangents inside the chunks, ``da = dh * h_{t-1}`` and ``db = dh``
    are element-wise work over all chunks again. A QRNN(128) training step
    took 2-9 % less time than with autodiff of the scan at T = 20-300
    (benchmarks/README.md). Reverse mode only (``jax.custom_vjp``), which
    is what training uses.
    """
    import jax
    import jax.numpy as jnp

    def chunks(a, b):
        # (T, ...) -> (n, size, ...), the last chunk completed by identity
        # steps (a = 1, b = 0), which leave the state as it is.
        pad = -a.shape[0] % size
        if pad:
            a = jnp.concatenate([a, jnp.ones((pad,) + a.shape[1:], a.dtype)])
            b = jnp.concatenate([b, jnp.zeros((pad,) + b.shape[1:], b.dtype)])
        return (a.reshape((-1, size) + a.shape[1:]), b.reshape((-1, size) + b.shape[1:]))

    def composite(a, b):
        big_a, big_b = a[:, 0], b[:, 0]
        for i in range(1, size):
            big_a = a[:, i] * big_a
            big_b = a[:, i] * big_b + b[:, i]
        return big_a, big_b

    def step(h, ab):
        return ab[0] * h + ab[1], h  # and the chunk's first state

    @jax.custom_vjp
    def last_state(a, b, h0):  # inference: no state kept
        big_a, big_b = composite(*chunks(a, b))
        return jax.lax.scan(lambda h, ab: (ab[0] * h + ab[1], None), h0, (big_a, big_b),
                            unroll=unroll)[0]

    def forward(a, b, h0):
        big_a, big_b = composite(*chunks(a, b))
        h, first = jax.lax.scan(step, h0, (big_a, big_b), unroll=unroll)
        return h, (a, b, big_a, first)

    def backward(residuals, g):
        a, b, big_a, first = residuals
        steps = a.shape[0]
        a, b = chunks(a, b)
        length = a.shape[0] * size
        # Cotangent of each chunk's last state, from dL/dh_T = g backwards
        # (dL/dh_{t-1} = a_t dL/dh_t); the final carry is dL/dh_0.
        dh0, d_last = jax.lax.scan(lambda c, big_a_j: (big_a_j * c, c), g, big_a,
                                   reverse=True, unroll=unroll)
        h_before = [first]  # h_{t-1} of each step of a chunk
        for i in range(1, size):
            h_before.append(a[:, i - 1] * h_before[-1] + b[:, i - 1])
        dh = [d_last]  # dL/dh_t of each step, last first
        for i in range(size - 1, 0, -1):
            dh.append(a[:, i] * dh[-1])
        h_before = jnp.stack(h_before, axis=1).reshape((length,) + g.shape)
        dh = jnp.stack(dh[::-1], axis=1).reshape((length,) + g.shape)
        # The identity steps completing the last chunk are dropped.
        return (dh * h_before)[:steps], dh[:steps], dh0

    last_state.defvjp(forward, backward)
    return last_state


def _sequential(a, b, h0, unroll, return_sequences=True):
    if not return_sequences and keras.backend.backend() == "jax":
        last_state = _jax_last_state(unroll, LAST_STATE_CHUNK)
        return last_state(ops.transpose(a, (1, 0, 2)), ops.transpose(b, (1, 0, 2)), h0)
    if keras.backend.backend() == "torch":
        h = h0
        outputs = []
        for a_t, b_t in zip(ops.unstack(a, axis=1), ops.unstack(b, axis=1)):
            h = a_t * h + b_t
            outputs.append(h)
        return ops.stack(outputs, axis=1)

    # Scan over the leading axis: time-major.
    a_tm = ops.transpose(a, (1, 0, 2))
    b_tm = ops.transpose(b, (1, 0, 2))
    _, h = ops.scan(_step, h0, (a_tm, b_tm), unroll=unroll)
    return ops.transpose(h, (1, 0, 2))


def _doubling(a, b, length):
    # Hillis-Steele: after the step with offset d, position t holds the
    # composition of positions max(0, t-2d+1)..t. Identity element: (1, 0).
    d = 1
    while d < length:
        b_prev = ops.pad(b[:, : length - d], ((0, 0), (d, 0), (0, 0)))
        b = a * b_prev + b
        if 2 * d < length:  # the last step's `a` is never read
            a_prev = ops.pad(
                a[:, : length - d], ((0, 0), (d, 0), (0, 0)), constant_values=1.0
            )
            a = a * a_prev
        d *= 2
    return b


def _associative(a, b, h0, length):
    # Fold the initial state into the first step: h_1 = a_1 h_0 + b_1.
    b = ops.concatenate([a[:, :1] * h0[:, None, :] + b[:, :1], b[:, 1:]], axis=1)
    if keras.backend.backend() == "jax":
        return ops.associative_scan(_combine, (a, b), axis=1)[1]
    return _doubling(a, b, length)


def linear_recurrence(a, b, initial_state=None, method="auto", unroll=None,
                      return_sequences=True):
    """Compute ``h_t = a_t * h_{t-1} + b_t`` over axis 1, in float32.

    Parameters
    ----------
    a, b : tensors of shape (batch, time, units)
        Multiplicative and additive terms.
    initial_state : tensor of shape (batch, units), optional
        ``h_0``; zeros when omitted.
    method : {"auto", "sequential", "associative"}
        The algorithm; see :func:`resolve_scan_method`.
    unroll : int, optional
        Steps per iteration of the sequential scan on JAX/TensorFlow
        (default :data:`DEFAULT_UNROLL`).
    return_sequences : bool, default=True
        False returns ``h_T`` alone, of shape (batch, units); the
        sequential scan on JAX then trains faster (by chunks of
        :data:`LAST_STATE_CHUNK` steps).

    Returns
    -------
    h : float32 tensor of shape (batch, time, units)
        ``h_1 .. h_T``, or ``h_T`` without ``return_sequences``.

    Examples
    --------
    >>> import numpy as np
    >>> from skqrnn.layers.recurrence import linear_recurrence
    >>> a = np.full((1, 3, 1), 0.5, "float32"); b = np.ones((1, 3, 1), "float32")
    >>> np.asarray(linear_recurrence(a, b)).ravel().tolist()
    [1.0, 1.5, 1.75]
    """
    a = ops.cast(a, "float32")
    b = ops.cast(b, "float32")
    if len(a.shape) != 3 or len(b.shape) != 3:
        raise ValueError(
            "linear_recurrence expects a and b of shape (batch, time, units); "
            f"got a.shape={tuple(a.shape)}, b.shape={tuple(b.shape)}."
        )
    length = a.shape[1]
    if initial_state is None:
        initial_state = ops.zeros_like(b[:, 0])
    h0 = ops.cast(initial_state, "float32")
    method = resolve_scan_method(method)
    if length == 0:
        return b if return_sequences else h0
    if method == "associative" and (
        length is not None or keras.backend.backend() == "jax"
    ):
        h = _associative(a, b, h0, length)
    else:
        # A dynamic length (TensorFlow graph with an unknown time dimension)
        # has no static doubling schedule: use the sequential scan.
        h = _sequential(a, b, h0, DEFAULT_UNROLL if unroll is None else unroll,
                        return_sequences)
    if return_sequences or len(h.shape) == 2:
        return h
    return h[:, -1]
