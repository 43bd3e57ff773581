"""QRNN vs keras.layers.LSTM: training speed per width, T = 20 and 300.

For each T (20, 300) and width (128, 256, 512, 1024 units) one run builds
the same network around each recurrent layer (YouTube-8M frame features:
input (T, 1152) -> recurrent layer -> Dense(3862, sigmoid), Adam, binary
cross-entropy) and times ``train_on_batch`` (one optimizer step) on the
same random batch of 32, on the default Keras backend. QRNN and LSTM are
timed interleaved (each round times every model once) so that load from
other processes hits both alike; the best round is reported, as samples/s,
and the QRNN/LSTM ratio per width.

Run: ``python benchmarks/bench_qrnn_layer.py [--units 128 256 512 1024
--lengths 20 300 --repeats 5 --short-repeats 20]``; ``--windows 1 2``,
``--scans auto sequential associative``, ``--gru`` and ``--inference`` add
models and modes, ``--host-inputs`` passes numpy batches (so each step also
copies the batch to the device), ``--profile`` times the pieces of a QRNN
step instead (gate convolution, recurrence, rest, next to the LSTM's step,
with the multiply-adds of each; the convolution's eight products alone;
then F(3, 2)'s input transforms alone next to a copy of the input, for the
memory bandwidth they reach),
``--conv`` also times the candidate implementations of the causal
convolution. By default the batch is put on the device once.

Latest, 2026-12-07 00:46-00:59 UTC, idle AVX-512 Xeon (2 cores), same
code: T = 300 3.15x / 3.90x / 4.25x / 6.67x at 128 / 256 / 512 / 1024
units, T = 20 2.29x / 2.68x / 2.29x / 3.55x; 128 units at T = 300 in seven
measurements 2.93-3.17x, median 3.07x. ``--profile`` at 128 units: step
90 ms, of which the convolution's eight products alone 62.8 ms (241
GFLOPS; the QRNN/LSTM ratio would be 4.42x if the step were those
products), the last-state recurrence 4 ms; LSTM step 277 ms
(benchmarks/README.md has the rewrites tried against the rest).

Every earlier run (per width and day, the loaded machine, the profiles,
the rewrites tried, the H100, the ``--conv`` candidates, why window 2 is
the default) is in benchmarks/README.md, "QRNN layer vs LSTM on the CPU".
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

from skqrnn.layers import QRNN  # noqa: E402
from skqrnn.layers.qrnn import (  # noqa: E402
    _winograd3_inputs, _winograd_causal_conv2, _winograd_causal_conv3)
from skqrnn.layers.recurrence import resolve_scan_method  # noqa: E402
from _device import device_name, wait  # noqa: E402  (benchmarks/_device.py)

BACKEND = keras.backend.backend()
FEATURES, CLASSES = 1152, 3862


def make_model(kind, length, units):
    if kind.startswith("QRNN"):
        # "QRNN (window=2)" or "QRNN (window=2, associative)"
        settings = kind[kind.index("(") + 1:-1].split(", ")
        scan = settings[1] if len(settings) > 1 else "auto"
        layer = QRNN(units, window=int(settings[0].split("=")[1]), scan=scan)
    elif kind == "LSTM":
        layer = keras.layers.LSTM(units)
    else:
        layer = keras.layers.GRU(units)
    model = keras.Sequential([keras.Input((length, FEATURES)), layer,
                              keras.layers.Dense(CLASSES, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
    return model


def interleaved(tasks, repeats):
    """tasks: {name: fn}. Warm each up, then time `repeats` rounds; best per task.

    The order rotates from round to round, so that no task always follows
    the same one (two identical QRNNs timed in a fixed order differed by
    up to 1.4 %).
    """
    names = list(tasks)
    for fn in tasks.values():
        wait(fn())
    best = {name: np.inf for name in tasks}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            wait(tasks[name]())
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def bench_layers(args):
    qrnns = [f"QRNN (window={w})" if scan == "auto" else f"QRNN (window={w}, {scan})"
             for scan in args.scans for w in args.windows]
    kinds = qrnns + ["LSTM"] + (["GRU"] if args.gru else [])
    modes = ("train", "inference") if args.inference else ("train",)
    rng = np.random.default_rng(0)
    print(f"backend={BACKEND} device={device_name()} (QRNN scan auto -> "
          f"{resolve_scan_method('auto')}) batch={args.batch} features={FEATURES} "
          f"-> Dense({CLASSES}, sigmoid), Adam; samples/s, best of {args.repeats} "
          f"interleaved rounds ({args.short_repeats} at T < 100)")
    width = max(17, max(len(k) for k in kinds) + 2)
    print(f"{'units':>5s} {'T':>4s} {'mode':9s}" + "".join(f"{k:>{width}s}" for k in kinds)
          + "   QRNN/LSTM")
    ratios = {}
    for length in args.lengths:
        x = rng.normal(size=(args.batch, length, FEATURES)).astype("float32")
        y = (rng.random((args.batch, CLASSES)) < 0.01).astype("float32")
        if args.host_inputs:
            x, y = x.copy(), y.copy()  # numpy: every step copies the batch to the device
        else:  # on the device once, so that only the models are timed
            x, y = ops.convert_to_tensor(x), ops.convert_to_tensor(y)
        repeats = args.short_repeats if length < 100 else args.repeats
        for units in args.units:
            models = {k: make_model(k, length, units) for k in kinds}
            for mode in modes:
                if mode == "train":
                    tasks = {k: (lambda m=m: m.train_on_batch(x, y)) for k, m in models.items()}
                else:
                    tasks = {k: (lambda m=m: m.predict_on_batch(x)) for k, m in models.items()}
                best = interleaved(tasks, repeats)
                rate = {k: args.batch / best[k] for k in kinds}
                ratio = [rate[k] / rate["LSTM"] for k in qrnns]
                ratios[units, length, mode] = ratio
                print(f"{units:5d} {length:4d} {mode:9s}"
                      + "".join(f"{rate[k]:{width}.1f}" for k in kinds)
                      + "   " + ", ".join(f"{r:.2f}x" for r in ratio), flush=True)
            del models
    print(f"\nQRNN/LSTM training ({', '.join(qrnns)}):")
    print(f"{'units':>5s}" + "".join(f"{'T=%d' % t:>10s}" for t in args.lengths))
    for units in args.units:
        print(f"{units:5d}" + "".join(
            f"{', '.join(f'{r:.2f}x' for r in ratios[units, t, 'train']):>10s}"
            for t in args.lengths))


def bench_profile(args):
    """Where a window-2 QRNN training step's time goes, next to the LSTM's (JAX).

    Per width, at the longest T, interleaved: the whole training step of
    each model; the gate convolution alone (z and f over all frames, as the
    layer computes it without return_sequences: forward and weight
    gradient); the recurrence alone (forward and backward, the last state
    only, as the layer computes it without return_sequences); and the
    multiply-adds per frame of a training step (forward + weight gradients,
    + the recurrent state's gradient for the LSTM) with their ratio, the
    QRNN/LSTM ratio the two would reach at equal matmul efficiency; then the
    convolution's eight products alone (F(3, 2)'s four forward products and
    their four weight gradients, on ready operands of the same shapes) with
    the rate they reach, and the QRNN/LSTM ratio if everything else in the
    QRNN's step took no time. Then the part of the convolution that is not
    arithmetic: F(3, 2)'s input
    transforms alone (four element-wise passes, each reading two strided
    slices of the input and writing one matrix), with the memory bandwidth
    they reach next to that of a plain copy of the input (``2 * x``).
    """
    if BACKEND != "jax":
        print("--profile is implemented for the JAX backend only")
        return
    import jax
    import jax.numpy as jnp

    from skqrnn.layers.recurrence import linear_recurrence

    length = max(args.lengths)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(args.batch, length, FEATURES)), jnp.float32)
    y = jnp.asarray(rng.random((args.batch, CLASSES)) < 0.01, jnp.float32)
    print(f"\nprofile, T={length}, ms per training step (best of {args.repeats} "
          "interleaved rounds); MACs per frame of a training step")
    print(f"{'units':>5s} {'QRNN step':>10s} {'gate conv':>10s} {'recurrence':>11s} "
          f"{'rest':>7s} {'LSTM step':>10s} {'QRNN/LSTM':>10s} {'QRNN MACs':>10s} "
          f"{'LSTM MACs':>10s} {'MAC ratio':>10s}")
    transform_times, product_times = [], []
    for units in args.units:
        qrnn, lstm = make_model("QRNN (window=2)", length, units), make_model("LSTM", length, units)
        kernel = jnp.asarray(rng.normal(size=(2, FEATURES, 2 * units)) * 0.01, jnp.float32)
        gate_grad = jax.jit(jax.grad(
            lambda k, x: jnp.sum(_winograd_causal_conv3(x, k) ** 2)))
        a = jnp.asarray(rng.uniform(0.5, 1, (args.batch, length, units)), jnp.float32)
        b = jnp.asarray(rng.normal(size=(args.batch, length, units)), jnp.float32)
        scan_grad = jax.jit(jax.grad(
            lambda a, b: jnp.sum(linear_recurrence(a, b, method="auto", return_sequences=False)
                                 * b[:, -1]), argnums=(0, 1)))
        transforms = jax.jit(_winograd3_inputs)
        copy = jax.jit(lambda x: 2 * x)
        # The eight products as the layer's gradient computes them: m = a @ w
        # and the weight gradient a.T @ dm, a: (batch * T / 3, in).
        rows = args.batch * -(-length // 3)
        operands = [jnp.asarray(rng.normal(size=shape), jnp.float32) for shape in
                    [(rows, FEATURES)] * 4 + [(FEATURES, 2 * units)] + [(rows, 2 * units)] * 4]
        products = jax.jit(lambda *o: ([o[i] @ o[4] for i in range(4)]
                                       + [o[i].T @ o[5 + i] for i in range(4)]))
        tasks = {"qrnn": lambda: qrnn.train_on_batch(x, y),
                 "conv": lambda: gate_grad(kernel, x),
                 "products": lambda: products(*operands),
                 "scan": lambda: scan_grad(a, b),
                 "lstm": lambda: lstm.train_on_batch(x, y),
                 "transforms": lambda: transforms(x),
                 "copy": lambda: copy(x)}
        t = {k: 1000 * v for k, v in interleaved(tasks, args.repeats).items()}
        transform_times.append((units, t["transforms"], t["copy"]))
        # Window 2 with F(3, 2): 4/3 products of (in x 2u) per frame, twice
        # (forward, weight gradient); LSTM: (in + u) x 4u twice, u x 4u once.
        q_macs = 2 * 4 / 3 * FEATURES * 2 * units
        l_macs = 2 * (FEATURES + units) * 4 * units + units * 4 * units
        flops = 2 * 8 * rows * FEATURES * 2 * units
        print(f"{units:5d} {t['qrnn']:10.0f} {t['conv']:10.0f} {t['scan']:11.0f} "
              f"{t['qrnn'] - t['conv'] - t['scan']:7.0f} {t['lstm']:10.0f} "
              f"{t['lstm'] / t['qrnn']:9.2f}x {q_macs / 1e6:9.2f}M {l_macs / 1e6:9.2f}M "
              f"{l_macs / q_macs:9.2f}x", flush=True)
        product_times.append((units, t["products"], flops, t["lstm"]))
    print("\nthe gate convolution's 8 products alone (4 forward, 4 weight gradients), ms "
          "(GFLOPS); QRNN/LSTM if the QRNN step were these products only")
    for units, t_products, flops, t_lstm in product_times:
        print(f"{units:5d}  products {t_products:6.1f} ({flops / t_products / 1e6:4.0f})"
              f"   bound {t_lstm / t_products:5.2f}x")
    # Bytes moved: the input transforms read 8 slices of a third of the
    # input and write 4 (a copy reads and writes the input once).
    size = 4 * args.batch * length * FEATURES
    print(f"\nF(3, 2) input transforms, forward, ms (GB/s moved); a copy of the input "
          f"({size / 2**20:.0f} MiB) for the memory bandwidth")
    for units, t_transforms, t_copy in transform_times:
        print(f"{units:5d}  transforms {t_transforms:6.1f} ({4 * size / t_transforms / 1e6:4.1f})"
              f"   copy {t_copy:6.1f} ({2 * size / t_copy / 1e6:4.1f})")


def bench_conv(args):
    """Forward+backward time of the causal convolution's implementations (JAX)."""
    if BACKEND != "jax":
        print("--conv is implemented for the JAX backend only")
        return
    import jax
    import jax.numpy as jnp

    length, n_out = max(args.lengths), 3 * max(args.units)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(args.batch, length, FEATURES)), jnp.float32)
    print(f"\ncausal convolution, T={length}, {FEATURES} -> {n_out}, forward+backward ms "
          f"(best of {args.repeats} interleaved rounds)")
    for k in (1, 2, 3):
        w = jnp.asarray(rng.normal(size=(k, FEATURES, n_out)) * 0.01, jnp.float32)

        def stacked(x, w, k=k):  # what QRNN does for window != 2: one (k*in, out) matmul
            xp = ops.pad(x, ((0, 0), (k - 1, 0), (0, 0)))
            taps = [xp[:, i:i - (k - 1)] for i in range(k - 1)] + [xp[:, k - 1:]]
            return ops.matmul(ops.concatenate(taps, axis=-1), ops.reshape(w, (-1, n_out)))

        def per_tap(x, w, k=k):  # k matmuls on shifted inputs
            xp = ops.pad(x, ((0, 0), (k - 1, 0), (0, 0)))
            y = ops.matmul(xp[:, k - 1:], w[k - 1])
            for i in range(k - 1):
                y = y + ops.matmul(xp[:, i:i - (k - 1)], w[i])
            return y

        def conv1d(x, w, k=k):  # ops.conv, i.e. Conv1D(padding="causal")
            return ops.conv(ops.pad(x, ((0, 0), (k - 1, 0), (0, 0))), w, padding="valid")

        candidates = [("stacked matmul", stacked), ("per-tap matmuls", per_tap),
                      ("ops.conv", conv1d)]
        if k == 2:  # what QRNN does for window 2 (F(3, 2); F(2, 2) at 2 or 4 frames)
            candidates[:0] = [("winograd F(3,2)", _winograd_causal_conv3),
                              ("winograd F(2,2)", _winograd_causal_conv2)]
        tasks = {}
        for name, fn in candidates:
            g = jax.jit(jax.grad(lambda x, w, fn=fn: jnp.sum(fn(x, w) ** 2), argnums=(0, 1)))
            tasks[name] = lambda g=g: g(x, w)
        best = interleaved(tasks, args.repeats)
        print(f"  window={k}: " + "  ".join(f"{n} {1000 * t:.0f}" for n, t in best.items()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--units", type=int, nargs="+", default=[128, 256, 512, 1024])
    parser.add_argument("--windows", type=int, nargs="+", default=[2])
    parser.add_argument("--lengths", type=int, nargs="+", default=[20, 300])
    parser.add_argument("--scans", nargs="+", default=["auto"],
                        choices=["auto", "sequential", "associative"],
                        help="QRNN recurrence algorithms to time (auto: chosen by device)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--short-repeats", type=int, default=20,
                        help="rounds at T < 100, where a step takes milliseconds")
    parser.add_argument("--gru", action="store_true", help="also time keras.layers.GRU")
    parser.add_argument("--inference", action="store_true",
                        help="also time predict_on_batch")
    parser.add_argument("--host-inputs", action="store_true",
                        help="pass numpy batches (timing the host-to-device copy too)")
    parser.add_argument("--conv", action="store_true", help="also time conv implementations")
    parser.add_argument("--profile", action="store_true",
                        help="only time the pieces of a QRNN training step (JAX)")
    args = parser.parse_args(argv)
    if args.profile:
        bench_profile(args)
        return
    bench_layers(args)
    if args.conv:
        bench_conv(args)


if __name__ == "__main__":
    main()
