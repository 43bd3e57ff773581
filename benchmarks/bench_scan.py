"""Sequential vs parallel (associative) scan for the QRNN recurrence.

Times ``skqrnn.layers.linear_recurrence`` (h_t = a_t h_{t-1} + b_t) forward
and forward+backward on the current Keras backend, at batch 64, 256 units
and T = 20, 100, 300, for every algorithm ``scan="auto"`` can choose from
(plus the sequential scan's ``unroll`` on JAX/TensorFlow), and checks each
against a float64 loop. Compiled with ``jax.jit`` / ``tf.function``; eager on
torch, as Keras runs it there.

Run: ``python benchmarks/bench_scan.py [--batch 64 --units 256 --repeats 7]``
(on JAX it also times ``chunked_recurrence``, a blocked scan not used by
the layer)
(``KERAS_BACKEND=tensorflow`` / ``torch`` for the other backends).

Measured (milliseconds, best of 7 interleaved rounds; fwd = forward,
f+b = forward + gradient w.r.t. a and b; B=64, 256 units; a 2-core CPU
shared with other jobs (load average 10-13), so differences under ~30 % are
noise; Keras 3.15, 2026-11-26)::

    JAX 0.10.2 (jax.jit)          T=20 fwd   f+b   T=100 fwd   f+b   T=300 fwd   f+b
    sequential (unroll=1)              1.0   2.6         7.5  21.1       108.0  214.4
    sequential (unroll=4)              1.6   8.8         9.9  40.9        85.7  246.3
    sequential (unroll=16)             1.8   5.8        24.3 450.2       225.7  435.5
    associative (lax)                  0.9   9.9        51.9 345.8        87.4  339.2

    TensorFlow 2.21 (tf.function)
    sequential (unroll=1)              3.0   6.9        14.0  48.4        61.9  288.2
    sequential (unroll=4)              2.5   7.3        13.6  47.9        56.0  236.4
    sequential (unroll=16)             2.6   6.3        12.8  46.5        34.5  229.2
    associative (doubling)             4.7  47.7        39.3 571.7       132.9 3625.2

    torch 2.13 CPU (eager)
    sequential (loop over unbind)      1.7  31.8        23.9 159.0        46.7  235.6
    associative (doubling)           150.6 335.6       415.9 1492.2     1415.0 5732.1

An earlier JAX probe at the same shape (spec): associative 304 ms vs
sequential 94 ms forward at T = 300.

NVIDIA H100 80GB HBM3 (JAX 0.11.2 with CUDA 13, Keras 3.15.1, 2026-11-26,
``benchmarks/gpu_check.sh``), best of 20, same shapes::

    JAX on the H100               T=20 fwd   f+b   T=100 fwd   f+b   T=300 fwd   f+b
    sequential (unroll=1)              0.3   0.5         2.0   2.7         5.6   7.6
    sequential (unroll=4)              0.2   0.2         0.7   0.7         1.7   1.8
    sequential (unroll=16)             0.1   0.1         0.3   0.4         0.6   0.7
    associative (lax)                  0.1   0.1         0.2   0.3         0.2   0.4

A first GPU run that waited for results by copying them to the host timed
the copy instead (18-35 ms for every method at T = 300); the script now
waits on the device (``benchmarks/_device.py``).

Chunked closed form (``chunked_recurrence`` here: running products and
in-chunk recurrences for all chunks at once, then a scan over the chunks'
end states) and unrolling, measured for issue 17 at the QRNN benchmark's
shape, B=32, T=300, forward + backward ms, best of 7 (JAX 0.10.2, load
average 7-8, 2026-12-06)::

    units  sequential  unroll=2  unroll=4  chunked C=10  chunked C=20  associative
      128        13.4      13.0      14.2          20.8          28.3         38.2
      256        72.1      82.1     110.1         121.9         139.4        159.2

so the plain sequential scan stays: every alternative makes more passes
over (batch, time, units) arrays than the scan saves in loop steps. In a
whole QRNN training step the recurrence is 4-13 % of the time at 128-1024
units (``bench_qrnn_layer.py --profile``); the gate convolution is the rest.

Conclusions used by ``scan="auto"`` (``skqrnn.layers.recurrence``): on CPU
the sequential scan wins training (forward + backward) on every backend at
every length, by 1.6x (JAX, T = 300) to 24x (torch); the parallel scan's O(T
log T) work (doubling) or its many strided slices (lax) cost more than the T
dependent steps save on 2 cores. ``unroll`` > 1 does not help JAX (worse at
T >= 100); on TensorFlow unroll=16 looked faster forward at T = 300 (34.5 vs
61.9 ms) but training gained only ~20 %, near the noise, so the default
stays 1 everywhere. On torch the loop over ``ops.unstack`` is linear in T
(``ops.scan``'s per-step indexing made training quadratic, see the spec). On
a GPU the associative scan is chosen: on the H100 it trains 19x faster than
the sequential scan at T = 300 (0.4 vs 7.6 ms), and still beats the best
unrolled sequential scan (0.7 ms); in the whole model (bench_qrnn_layer.py)
it made training 1.4-1.9x faster at batch 256, T = 300.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import skqrnn  # noqa: E402,F401  (chooses the default Keras backend)
import keras  # noqa: E402
from keras import ops  # noqa: E402

from skqrnn.layers import recurrence  # noqa: E402
from _device import device_name, wait  # noqa: E402  (benchmarks/_device.py)

BACKEND = keras.backend.backend()


def _to_numpy(x):
    if BACKEND == "torch":
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _compile(fn):
    if BACKEND == "jax":
        import jax

        return jax.jit(fn)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, reduce_retracing=True)
    return fn


def _value_and_grad(fn):
    """Return g(a, b) -> (sum(fn(a, b) * b), d/da, d/db), compiled."""
    if BACKEND == "jax":
        import jax
        import jax.numpy as jnp

        return jax.jit(jax.value_and_grad(lambda a, b: jnp.sum(fn(a, b) * b), argnums=(0, 1)))
    if BACKEND == "tensorflow":
        import tensorflow as tf

        @tf.function
        def g(a, b):
            with tf.GradientTape() as tape:
                tape.watch([a, b])
                loss = tf.reduce_sum(fn(a, b) * b)
            return loss, tape.gradient(loss, [a, b])

        return g
    if BACKEND == "torch":
        import torch

        def g(a, b):
            a = a.detach().requires_grad_(True)
            b = b.detach().requires_grad_(True)
            loss = torch.sum(fn(a, b) * b)
            return loss, torch.autograd.grad(loss, [a, b])

        return g
    raise SystemExit(f"no gradient for backend {BACKEND}")


def interleaved(tasks, repeats):
    """tasks: {key: (fn, args)}. Warm up each, then time `repeats` rounds, each
    running every task once (so that load from other processes hits all alike);
    return the best time per task in milliseconds."""
    for fn, fargs in tasks.values():
        wait(fn(*fargs))  # compile / warm up
    best = {key: np.inf for key in tasks}
    for _ in range(repeats):
        for key, (fn, fargs) in tasks.items():
            start = time.perf_counter()
            wait(fn(*fargs))
            best[key] = min(best[key], 1000 * (time.perf_counter() - start))
    return best


def chunked_recurrence(a, b, chunk):
    """Blocked scan, a candidate ``scan="auto"`` does not use (measured slower on CPU).

    Within chunks of ``chunk`` frames, all chunks at once: the running
    product A_j of the forget gates and the in-chunk recurrence H_j from a
    zero state (``chunk`` unrolled elementwise steps; products, never
    divisions, so nothing underflows into a 0/0); then the chunks' start
    states s_k = A_last s_(k-1) + H_last (a scan over T / chunk steps), and
    h = A_j s + H_j. Frames are padded to a multiple of ``chunk`` with
    (a, b) = (1, 0), which leave the state alone.
    """
    batch, length, units = a.shape
    pad = -length % chunk
    if pad:
        a = ops.pad(a, ((0, 0), (0, pad), (0, 0)), constant_values=1.0)
        b = ops.pad(b, ((0, 0), (0, pad), (0, 0)))
    n = (length + pad) // chunk
    a4 = ops.reshape(a, (batch, n, chunk, units))
    b4 = ops.reshape(b, (batch, n, chunk, units))
    prod, h = a4[:, :, 0], b4[:, :, 0]
    prods, hs = [prod], [h]
    for j in range(1, chunk):
        prod = prod * a4[:, :, j]
        h = a4[:, :, j] * h + b4[:, :, j]
        prods.append(prod)
        hs.append(h)
    prods, hs = ops.stack(prods, axis=2), ops.stack(hs, axis=2)
    # Start state of chunk k = end state of chunk k - 1.
    ends = recurrence.linear_recurrence(prods[:, :, -1], hs[:, :, -1], method="sequential")
    starts = ops.pad(ends[:, :-1], ((0, 0), (1, 0), (0, 0)))
    h = prods * starts[:, :, None] + hs
    return ops.reshape(h, (batch, n * chunk, units))[:, :length]


def candidates():
    out = []
    if BACKEND in ("jax", "tensorflow"):
        for unroll in (1, 4, 16):
            out.append((f"sequential (unroll={unroll})", "sequential", unroll))
    else:
        out.append(("sequential (Python loop)", "sequential", None))
    out.append(("associative", "associative", None))
    if BACKEND == "jax":
        for chunk in (10, 20):
            out.append((f"chunked (C={chunk}, not used)", "chunked", chunk))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--lengths", type=int, nargs="+", default=[20, 100, 300])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    print(f"backend={BACKEND} device={device_name()} batch={args.batch} units={args.units} "
          f"auto -> {recurrence.resolve_scan_method('auto')}")
    header = f"{'method':38s}" + "".join(f"{'T=%d fwd' % t:>12s}{'f+b':>9s}" for t in args.lengths)
    print(header + "   (ms)")
    rows = {name: [] for name, _, _ in candidates()}
    for length in args.lengths:
        a_np = rng.uniform(0.5, 1.0, (args.batch, length, args.units)).astype("float32")
        b_np = rng.normal(size=(args.batch, length, args.units)).astype("float32")
        expected = np.zeros_like(a_np, dtype=np.float64)
        h = np.zeros((args.batch, args.units))
        for t in range(length):
            h = a_np[:, t] * h + b_np[:, t]
            expected[:, t] = h
        a, b = ops.convert_to_tensor(a_np), ops.convert_to_tensor(b_np)
        tasks = {}
        for name, method, unroll in candidates():
            def fn(a, b, method=method, unroll=unroll):
                if method == "chunked":
                    return chunked_recurrence(a, b, unroll)
                return recurrence.linear_recurrence(a, b, method=method, unroll=unroll)

            fwd = _compile(fn)
            err = np.max(np.abs(_to_numpy(fwd(a, b)) - expected))
            assert err < 1e-3, (name, length, err)
            tasks[name, "fwd"] = (fwd, (a, b))
            tasks[name, "f+b"] = (_value_and_grad(fn), (a, b))
        best = interleaved(tasks, args.repeats)
        for name in rows:
            rows[name].append((best[name, "fwd"], best[name, "f+b"]))
    for name, cells in rows.items():
        print(f"{name:38s}" + "".join(f"{f:12.1f}{g:9.1f}" for f, g in cells))


if __name__ == "__main__":
    main()
