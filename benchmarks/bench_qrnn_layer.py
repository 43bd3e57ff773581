"""QRNN vs keras.layers.LSTM vs keras.layers.GRU: training and inference speed.

One run builds, for each T in (20, 100, 300), the same network around each
recurrent layer (YouTube-8M frame features: input (T, 1152) -> recurrent
layer of 512 units -> Dense(3862, sigmoid), Adam, binary cross-entropy) and
times ``train_on_batch`` (one optimizer step) and ``predict_on_batch`` on the
same random batch, on the default Keras backend. Measurements are
interleaved (each round times every model once) so that load from other
processes hits all models alike; the best round is reported, as samples/s.

Run: ``python benchmarks/bench_qrnn_layer.py [--batch 32 --units 512 --repeats 5]``;
``--scans auto sequential`` adds QRNNs with a given recurrence algorithm,
``--host-inputs`` passes numpy batches (so each step also copies the batch to
the device), ``--conv`` also times the candidate implementations of the
causal convolution. By default the batch is put on the device once.

Measured (samples/s, JAX 0.10.2 backend, Keras 3.15, batch 32, 2-core CPU
shared with other jobs at load average 8-14, 2026-11-26; numpy batches)::

       T mode       QRNN (window=1)  QRNN (window=2)   LSTM    GRU
      20 train                125.1             55.6   25.8   50.6
      20 inference            229.2            134.3   60.1  133.5
     100 train                 35.5             20.2   10.1   16.7
     100 inference             63.3             33.0   17.1   47.9
     300 train                  9.6              6.0    2.6    5.0
     300 inference             16.6             10.5    5.9    9.9

    QRNN / LSTM, training at T = 300: window=1 3.69x, window=2 2.31x.
    Repeats at T = 300 (train): window=1 3.17x, window=2 1.96x (a second
    run); window=2 1.41x in a first run under heavier load (avg 14).

Quiet machine (load average 0, same day 06:47 UTC), ``--lengths 300
--repeats 4``::

       T mode       QRNN (window=1)  QRNN (window=2)   LSTM    GRU
     300 train                 43.0             25.4   13.7   22.8
     300 inference             99.0             57.1   28.8   65.6

    QRNN / LSTM, training at T = 300: window=1 3.15x, window=2 1.86x.

NVIDIA H100 80GB HBM3 (JAX 0.11.2 with CUDA 13, Keras 3.15.1, 2026-11-26,
``benchmarks/gpu_check.sh``; Keras's LSTM runs cuDNN's kernel through
``jax.experimental.rnn``, its GRU a ``lax.scan``; the QRNN's ``scan="auto"``
is the associative scan there), batch on the device, best of 10::

       T mode       QRNN (window=1)  QRNN (window=2)    LSTM     GRU
      20 train              18980.7          20532.6  10460.3 13807.4
      20 inference          37350.9          44312.9  21564.0 28423.7
     100 train              20929.4          19682.9   5931.6  6519.4
     100 inference          38099.4          35640.3   9932.7 13400.3
     300 train              16458.9          14188.5   2481.2  2636.9
     300 inference          41467.2          35071.3   6058.3  8697.5

    QRNN / LSTM, training at T = 300: window=1 6.63x, window=2 5.72x
    (T = 100: 3.53x / 3.32x; T = 20: 1.81x / 1.96x).

Batch 256, T = 300 (``--scans auto sequential``), same machine::

    mode       QRNN w=1  QRNN w=2  w=1 sequential  w=2 sequential    LSTM     GRU
    train       41042.7   27862.9         22093.9         19579.9  12534.3 11278.6
    inference  109225.7   72024.4         35526.4         35803.3  30675.3 41503.8

    QRNN / LSTM, training: window=1 3.27x, window=2 2.22x (1.76x / 1.56x
    with the sequential scan).

So on the GPU the 4x-over-LSTM target at T = 300 is met at batch 32 with
both windows (5.7-6.6x) and missed at batch 256 (2.2-3.3x): there the H100
is busy with matmuls (window=2 does the LSTM's multiply-adds, 1.6 TFLOP per
training step) and cuDNN's LSTM fills it as well. The paper's "up to 16x"
was measured against cuDNN at small batches and long sequences. With
``--host-inputs`` (numpy batches) the first GPU run measured only 2.1x at
batch 32 and 1.0-1.1x at batch 256, the same for every model: copying the
batch (354 MB at batch 256) dominates, so a GPU user should feed data that
is already on the device or prefetched.

The tables above were measured when every window computed its convolution
as one stacked matmul. With 1152 input features and 512 units the window-2
QRNN then did as many multiply-adds as the LSTM (2*1152*3 vs 4*(1152+512)
per unit and frame): its CPU advantage came only from one large matmul over
all frames instead of T small ones, and the 2x target at T = 300 was met with
window=1 (3.2-3.7x) and missed by about 7% with window=2 (1.86x on the quiet
machine). Since then window 2 uses Winograd's minimal filtering F(2, 2)
over time (``skqrnn.layers.qrnn._winograd_causal_conv2``): three matmuls per
two frames instead of four. Same machine, load average 1-2, 2026-11-26
09:28-09:32 UTC, two runs (``--lengths 300``, best of 4 and 5)::

       T mode       QRNN (window=1)  QRNN (window=2)   LSTM    GRU
     300 train                 40.7             28.9   11.4   23.9
     300 inference             86.8             57.8   23.0   56.6
     300 train                 45.0             29.2   12.0   24.4
     300 inference            109.5             70.9   25.0   59.5

    QRNN / LSTM, training at T = 300: window=1 3.58x / 3.75x,
    window=2 2.55x / 2.43x (2.13x even against the LSTM's best figure of
    the day, 13.7). The recurrence itself is under 10 % of a QRNN training
    step (benchmarks/bench_scan.py). The GPU figures above predate F(2, 2).

Then, on JAX's CPU backend only, the gates are computed with ``ops.conv``
(a width-1 convolution for each Winograd product; one convolution for the
other windows), which XLA's CPU backend ran 10-20 % faster than the same
matmuls (``--conv`` below). 11:05-11:08 UTC, load ~1.5, best of 5::

       T mode       QRNN (window=1)  QRNN (window=2)   LSTM    GRU
     300 train                 54.2             37.2   13.9   25.2
     300 inference            107.5             72.0   22.9   54.6

    QRNN / LSTM, training at T = 300: window=1 3.90x, window=2 2.68x
    (a run minutes earlier, with the conv only in the Winograd products:
    2.89x at LSTM 11.3).

window=2 stays the classifiers' default (the layer's too) because it is
the more accurate one wherever order within a few frames matters (same
day, quiet machine): scikit-learn digits as 8 rows, three seeds, accuracy
QRNN 0.899 (window 2) vs 0.841 (window 1), dcQRNN 0.920 vs 0.889; synthetic
frame-level data (bench_sequence_models.py's frame part, one seed) QRNN
GAP@20 0.765 vs 0.748 at the same order accuracy (0.93), dcQRNN 0.575 vs
0.527 (order accuracy 0.83 vs 0.85). On video-level
vectors (``timesteps=1``) the window is capped at 1 anyway. A user who
needs the speed more sets ``window=1``.

Causal convolution (``--conv``), forward+backward ms, B=32, T=300,
1152 -> 1536, best of 4 interleaved rounds (load average 1-2)::

    window  winograd F(2,2)  stacked matmul  per-tap matmuls  ops.conv
    1                     -             977              951       776
    2                  1416            1875             1881      1593
    3                     -            2428             2590      2121

F(2, 2) takes 0.75x the stacked matmul's time, as its multiply-add count
predicts. An earlier run at B=16 under heavy load found the other three
within noise of each other (window 2: 4012 / 4123 / 4068 ms); here
``ops.conv`` was 15-20 % faster than the stacked matmul at windows 1 and
3, which compute the same multiply-adds. Re-measured after the layer
switched to ``ops.conv`` on JAX's CPU backend (F(2, 2) with convolution
products), best of 5, 11:08 UTC::

    window  winograd F(2,2)  stacked matmul  per-tap matmuls  ops.conv
    1                     -             969              899       767
    2                  1197            1719             1743      1513
    3                     -            2197             2376      1966

so the layer's window-2 convolution now takes 0.70x the stacked matmul's
time, and windows 1 and 3 (``ops.conv``) 0.79x and 0.89x.
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
from skqrnn.layers.qrnn import _winograd_causal_conv2, _winograd_causal_conv3  # noqa: E402
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
    """tasks: {name: fn}. Warm each up, then time `repeats` rounds; best per task."""
    for fn in tasks.values():
        wait(fn())
    best = {name: np.inf for name in tasks}
    for _ in range(repeats):
        for name, fn in tasks.items():
            start = time.perf_counter()
            wait(fn())
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
    gradient); the recurrence alone (forward and backward); and the
    multiply-adds per frame of a training step (forward + weight gradients,
    + the recurrent state's gradient for the LSTM) with their ratio, the
    QRNN/LSTM ratio the two would reach at equal matmul efficiency.
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
    for units in args.units:
        qrnn, lstm = make_model("QRNN (window=2)", length, units), make_model("LSTM", length, units)
        kernel = jnp.asarray(rng.normal(size=(2, FEATURES, 2 * units)) * 0.01, jnp.float32)
        gate_grad = jax.jit(jax.grad(
            lambda k, x: jnp.sum(_winograd_causal_conv3(x, k) ** 2)))
        a = jnp.asarray(rng.uniform(0.5, 1, (args.batch, length, units)), jnp.float32)
        b = jnp.asarray(rng.normal(size=(args.batch, length, units)), jnp.float32)
        scan_grad = jax.jit(jax.grad(
            lambda a, b: jnp.sum(linear_recurrence(a, b, method="auto") * b), argnums=(0, 1)))
        tasks = {"qrnn": lambda: qrnn.train_on_batch(x, y),
                 "conv": lambda: gate_grad(kernel, x),
                 "scan": lambda: scan_grad(a, b),
                 "lstm": lambda: lstm.train_on_batch(x, y)}
        t = {k: 1000 * v for k, v in interleaved(tasks, args.repeats).items()}
        # Window 2 with F(3, 2): 4/3 products of (in x 2u) per frame, twice
        # (forward, weight gradient); LSTM: (in + u) x 4u twice, u x 4u once.
        q_macs = 2 * 4 / 3 * FEATURES * 2 * units
        l_macs = 2 * (FEATURES + units) * 4 * units + units * 4 * units
        print(f"{units:5d} {t['qrnn']:10.0f} {t['conv']:10.0f} {t['scan']:11.0f} "
              f"{t['qrnn'] - t['conv'] - t['scan']:7.0f} {t['lstm']:10.0f} "
              f"{t['lstm'] / t['qrnn']:9.2f}x {q_macs / 1e6:9.2f}M {l_macs / 1e6:9.2f}M "
              f"{l_macs / q_macs:9.2f}x", flush=True)


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
