"""Benchmark: QRNN / dcQRNN training defaults on small order-dependent sequence tasks (issue 13).

The task (a user's report): Gaussian-noise sequences of ``T`` frames of ``F``
features, with two fixed random event vectors ``A`` and ``B`` added at two
random, distinct frames; the label is 1 when ``A`` comes first. Both orders
have the same frames up to their order, so a model that cannot see order is
at chance (0.5). Each frame is ``N(0, 1)`` noise per feature; ``A`` and ``B``
are random directions of norm ``snr`` (the events' size in units of the
noise's per-feature standard deviation: at ``snr`` 8 an event stands 8 noise
standard deviations out along its own direction, at 4 only 4, so among 300
noise frames it is harder to spot). The same ``A`` and ``B`` serve the
training and test sets of a cell.

Anchors, in the same process: Keras ``LSTM(64)`` and ``GRU(64)`` -> sigmoid,
Adam 2e-3, batch 64 (the user's network), and each trained for the same
number of epochs as the QRNNs (30 by default). Rows:

``QRNN defaults`` / ``dcQRNN defaults``
    ``QRNNClassifier(epochs=30)``, ``DCQRNNClassifier(epochs=30)``: every
    other parameter at the current default (automatic batch, 64 at 1,500).
Other candidates are added with ``--config`` and named in ``--models``
if that is given too (e.g. ``--config 'QRNN two layers:QRNN:n_layers=2'``).

Accuracy on a held-out test set of the same size as the training set (the
standard error of one accuracy near 0.95 on 1,500 test sequences is 0.6
points), fit wall-clock seconds. Every finished fit is appended as one JSON
line to ``--jsonl`` (default ``/tmp/seq/results.jsonl``).

Run: ``python benchmarks/bench_order_tasks.py --quick`` (T = 20, F = 128:
LSTM(64), QRNN and dcQRNN defaults, one seed: ~4 min on the loaded
2-core CPU), ``python benchmarks/bench_order_tasks.py`` (every row on the
grid below, 2 seeds: several hours on 2 cores), ``--cells``, ``--models``, ``--seeds``, ``--config
'NAME:QRNN:batch_size=64,learning_rate=5e-3'`` for extra candidates,
``--digits`` for scikit-learn's digits read row by row (the check that the
defaults do not lose on real sequences).

Measured 2026-12-06 (2-core VM, JAX, load average 2-10), accuracy with
the current defaults, seeds 0 / 1 where two are given; the full table,
the candidates tried (forget bias 2 and 3 everywhere, one and two QRNN
layers, the readouts among them), the history of the defaults and what is
not measured are in ``benchmarks/README.md`` ("Order tasks")::

    cell             LSTM(64)       GRU(64)        QRNN           dcQRNN
    T20-F128-snr8    0.986 / 0.989  0.999          0.996          0.996
    T50-F128-snr8    0.924          0.993          0.993          0.975
    T100-F16-snr8    0.979 / 0.988  0.999          0.997          0.999
    T300-F16-snr8    0.938          0.995          (0.997)        0.999
    T100-F128-snr8   0.723          -              0.993          0.937
    T20-F128-snr4    0.695 / 0.715  0.702 / 0.729  0.823          0.753 / 0.745
    T50-F16-snr4     0.815 / 0.796  0.844          0.910          0.886 / 0.906
    T100-F16-snr4    0.662 / 0.623  0.692          0.863          0.812 / 0.819
    T20-F1152-snr8   0.664 / 0.659  0.763          0.871          0.759 / 0.755
    T20-F1152-snr4   0.470          -              0.628          0.548

(both QRNNs: ``learning_rate="auto"`` is 5e-3 on small frame-level data
and ``readout="auto"`` reads the last and the mean state; the QRNN's
``forget_bias="auto"`` is 2 at 20 frames, 2.94 at 50, 3 from 53, and its
``n_layers="auto"`` stacks two layers, whose states the readout reads side
by side; in brackets: two layers read from the last layer only, the
readout of both not run there. The dcQRNN's column is its
``readout="auto"``, the default since 2026-12-06 20:40 UTC; with
``readout="last"`` it scored 0.1-11.3 points lower in every cell.) At
3,000 sequences (``--n-train 3000``) T50-F16-snr4: LSTM 0.905 / 0.887,
QRNN 0.924 / 0.934, dcQRNN 0.912; T100-F16-snr4: LSTM 0.769, QRNN 0.889,
dcQRNN 0.850; T20-F128-snr4: LSTM 0.748, QRNN 0.875, dcQRNN 0.808.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

# skqrnn picks the JAX backend when none is configured; import it before keras.
import skqrnn  # noqa: F401

#: name -> (T, F, snr). The full grid is T in {20, 100, 300} x F in {16, 128,
#: 1152} x noise; these are the cells a 2-core CPU can afford (T x F small).
CELLS = {
    "T20-F16-snr8": (20, 16, 8.0),
    "T20-F16-snr4": (20, 16, 4.0),
    "T20-F128-snr8": (20, 128, 8.0),
    "T20-F128-snr4": (20, 128, 4.0),
    "T50-F128-snr8": (50, 128, 8.0),
    "T50-F16-snr4": (50, 16, 4.0),
    "T100-F16-snr8": (100, 16, 8.0),
    "T100-F16-snr4": (100, 16, 4.0),
    "T100-F128-snr8": (100, 128, 8.0),
    "T300-F16-snr8": (300, 16, 8.0),
    "T300-F16-snr4": (300, 16, 4.0),
    "T20-F1152-snr8": (20, 1152, 8.0),
    "T20-F1152-snr4": (20, 1152, 4.0),
}

EPOCHS = 30


def make_order_task(n, T, F, snr, *, seed=0, event_seed=None):
    """``n`` sequences ``(n, T, F)`` float32 and labels: 1 when event A precedes event B.

    Noise ``N(0, 1)`` per feature and frame; ``A`` and ``B`` are fixed random
    directions of norm ``snr`` (drawn from ``event_seed``, default ``seed``),
    each added at one frame, at two distinct uniformly drawn frames.
    """
    ev = np.random.default_rng(seed if event_seed is None else event_seed)
    events = ev.standard_normal((2, F))
    events *= snr / np.linalg.norm(events, axis=1, keepdims=True)
    rng = np.random.default_rng(seed + 1000)
    X = rng.standard_normal((n, T, F), dtype=np.float32)
    p = rng.integers(0, T, n)
    q = (p + rng.integers(1, T, n)) % T  # != p, uniform over the other frames
    idx = np.arange(n)
    X[idx, p] += events[0].astype(np.float32)
    X[idx, q] += events[1].astype(np.float32)
    return X, (p < q).astype(np.int64)


def batch_rule(n_samples, low=32, high=256):
    """Candidate ``batch_size="auto"``: the largest power of 2 <= n / 16, clipped to [low, high].

    At least 16 gradient steps an epoch below 4,096 samples (1,500 -> 64, 24
    steps; 3,000 -> 128; 898 -> 32), and the fixed 256 from 4,096 samples on
    (4,731 real videos keep the batch the video-level defaults were tuned with).
    """
    b = 2 ** int(np.floor(np.log2(max(n_samples / 16, 1))))
    return int(min(high, max(low, b)))


# ------------------------------------------------------------------ models
def _keras_rnn(kind, units, T, F, seed, lr=2e-3):
    import keras

    keras.utils.set_random_seed(seed)
    layer = {"LSTM": keras.layers.LSTM, "GRU": keras.layers.GRU}[kind]
    model = keras.Sequential([keras.Input((T, F)), layer(units),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


class _KerasAnchor:
    """The user's network: RNN(units) -> sigmoid, Adam, fixed batch."""

    def __init__(self, kind, units=64, batch_size=64, learning_rate=2e-3, epochs=EPOCHS,
                 random_state=0):
        self.kind, self.units, self.batch_size = kind, units, batch_size
        self.learning_rate, self.epochs, self.random_state = learning_rate, epochs, random_state

    def fit(self, X, y):
        self.model_ = _keras_rnn(self.kind, self.units, X.shape[1], X.shape[2],
                                 self.random_state, self.learning_rate)
        self.model_.fit(X, y.astype("float32"), batch_size=self.batch_size,
                        epochs=self.epochs, verbose=0, shuffle=True)
        return self

    def score(self, X, y):
        p = self.model_.predict(X, batch_size=512, verbose=0)[:, 0]
        return float(np.mean((p > 0.5) == y))


def _anchor(kind, units=64, **kw):
    return lambda seed, epochs: _KerasAnchor(kind, units, epochs=epochs, random_state=seed, **kw)


def _sk(cls_name, **params):
    def make(seed, epochs):
        from skqrnn import DCQRNNClassifier, QRNNClassifier

        cls = {"QRNN": QRNNClassifier, "dcQRNN": DCQRNNClassifier}[cls_name]
        kw = dict(params)
        if kw.get("batch_size") == "rule":
            kw.pop("batch_size")
            kw["batch_size"] = None  # filled in at fit time from n
        return _SkWrapper(cls, dict(kw, epochs=epochs, random_state=seed))

    make.params = params
    return make


class _SkWrapper:
    def __init__(self, cls, params):
        self.cls, self.params = cls, params

    def fit(self, X, y):
        p = dict(self.params)
        if p.get("batch_size", 0) is None:
            p["batch_size"] = batch_rule(len(X))
        est = self.cls(**p)
        est.fit(X, y)
        self.used_params = dict(p, batch_size=est.batch_size_,
                                learning_rate=est.learning_rate_)
        self.est_, self.model_ = est, est.model_
        return self

    def score(self, X, y):
        return float(self.est_.score(X, y))


# The rows measured before a candidate became a default (automatic batch,
# forget bias, learning rate) are in benchmarks/README.md; candidates are
# given with --config.
MODELS = {
    "LSTM(64)": _anchor("LSTM"),
    "GRU(64)": _anchor("GRU"),
    "QRNN defaults": _sk("QRNN"),
    "dcQRNN defaults": _sk("dcQRNN"),
}
QUICK_MODELS = ["LSTM(64)", "QRNN defaults", "dcQRNN defaults"]


def _parse_config(text):
    """'NAME:QRNN:k=v,k=v' -> (NAME, factory)."""
    name, cls_name, rest = text.split(":", 2)
    params = {}
    for item in filter(None, rest.split(",")):
        k, v = item.split("=", 1)
        try:
            v = json.loads(v)
        except json.JSONDecodeError:
            pass
        if isinstance(v, list):
            v = tuple(v)
        params[k] = v
    if cls_name in ("LSTM", "GRU"):
        return name, _anchor(cls_name, **params)
    return name, _sk(cls_name, **params)


# ------------------------------------------------------------------ running
def _load():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def run_cell(cell, models, seeds, n_train, epochs, jsonl, tag="", first_seed=0):
    T, F, snr = CELLS[cell]
    X, y = make_order_task(2 * n_train, T, F, snr, seed=sum(map(ord, cell)))
    X_tr, y_tr, X_te, y_te = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    rows = []
    for name, make in models.items():
        for seed in range(first_seed, first_seed + seeds):
            est = make(seed, epochs)
            t0 = time.perf_counter()
            try:
                est.fit(X_tr, y_tr)
            except Exception as exc:  # a concurrent edit of skqrnn, or a bad config
                print(f"  {cell} {name} seed {seed}: FAILED {exc!r}", file=sys.stderr, flush=True)
                continue
            fit_s = time.perf_counter() - t0
            acc = est.score(X_te, y_te)
            rec = {"cell": cell, "T": T, "F": F, "snr": snr, "n_train": n_train,
                   "n_test": len(X_te), "epochs": epochs, "model": name, "seed": seed,
                   "acc": round(acc, 4), "fit_s": round(fit_s, 1),
                   "params": int(est.model_.count_params()),
                   "config": {k: v for k, v in getattr(est, "used_params", {}).items()
                              if k not in ("epochs", "random_state")},
                   "load": round(_load(), 1), "time": time.strftime("%Y-%m-%d %H:%M:%S"),
                   "tag": tag}
            rows.append(rec)
            print(f"  {cell} {name} seed {seed}: acc {acc:.4f} fit {fit_s:.0f} s "
                  f"params {rec['params']:,} load {rec['load']}", file=sys.stderr, flush=True)
            if jsonl:
                os.makedirs(os.path.dirname(jsonl) or ".", exist_ok=True)
                with open(jsonl, "a") as f:
                    f.write(json.dumps(rec) + "\n")
    return rows


def print_table(rows, title):
    cells = list(dict.fromkeys(r["cell"] for r in rows))
    models = list(dict.fromkeys(r["model"] for r in rows))
    head = ["model"] + cells + ["mean fit s"]
    lines = []
    for m in models:
        line, fits = [m], []
        for c in cells:
            accs = [r["acc"] for r in rows if r["model"] == m and r["cell"] == c]
            fits += [r["fit_s"] for r in rows if r["model"] == m and r["cell"] == c]
            if not accs:
                line.append("-")
            elif len(accs) == 1:
                line.append(f"{accs[0]:.3f}")
            else:
                line.append(f"{np.mean(accs):.3f} ±{np.std(accs, ddof=1):.3f}")
        line.append(f"{np.mean(fits):.0f}" if fits else "-")
        lines.append(line)
    widths = [max(len(h), *(len(l[i]) for l in lines)) for i, h in enumerate(head)]
    rule = "  ".join("=" * w for w in widths)
    print(f"\n{title}\n\n{rule}\n" + "  ".join(h.ljust(w) for h, w in zip(head, widths))
          + f"\n{rule}")
    for l in lines:
        print("  ".join(v.ljust(w) for v, w in zip(l, widths)))
    print(rule, flush=True)


def run_digits(models, seeds, jsonl):
    """scikit-learn's digits, each 8x8 image read as 8 rows of 8 pixels (first half trains)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32).reshape(-1, 8, 8)
    half = len(X) // 2
    rows = []
    for name, make in models.items():
        if name.startswith(("LSTM", "GRU")):
            continue  # binary anchors
        for seed in range(seeds):
            est = make(seed, 40)
            t0 = time.perf_counter()
            est.fit(X[:half], y[:half])
            fit_s = time.perf_counter() - t0
            acc = est.score(X[half:], y[half:])
            rec = {"cell": "digits 8x8", "model": name, "seed": seed, "acc": round(acc, 4),
                   "fit_s": round(fit_s, 1), "params": int(est.model_.count_params()),
                   "config": {k: v for k, v in est.used_params.items()
                              if k not in ("epochs", "random_state")},
                   "epochs": 40, "load": round(_load(), 1),
                   "time": time.strftime("%Y-%m-%d %H:%M:%S")}
            rows.append(rec)
            print(f"  digits {name} seed {seed}: acc {acc:.4f} fit {fit_s:.0f} s",
                  file=sys.stderr, flush=True)
            if jsonl:
                with open(jsonl, "a") as f:
                    f.write(json.dumps(rec) + "\n")
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="one small cell, one seed")
    ap.add_argument("--cells", nargs="*", default=None, choices=list(CELLS),
                    help="grid cells T-F-snr (none given: only --digits)")
    ap.add_argument("--models", nargs="*", default=None, help="rows to run (names as listed)")
    ap.add_argument("--config", action="append", default=[],
                    help="extra row 'NAME:QRNN|dcQRNN|LSTM|GRU:k=v,k=v'")
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="seeds run are first-seed .. first-seed + seeds - 1")
    ap.add_argument("--n-train", type=int, default=1500)
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--digits", action="store_true", help="also scikit-learn's digits")
    ap.add_argument("--jsonl", default="/tmp/seq/results.jsonl")
    ap.add_argument("--tag", default="")
    args = ap.parse_args(argv)

    models = dict(MODELS)
    for text in args.config:
        name, make = _parse_config(text)
        models[name] = make
    if args.models is not None:
        models = {k: v for k, v in models.items() if k in args.models}
    elif args.config:
        models = {k: v for k, v in models.items()
                  if k in (_parse_config(t)[0] for t in args.config)}
    if args.quick and args.models is None and not args.config:
        models = {k: v for k, v in models.items() if k in QUICK_MODELS}
    cells = args.cells if args.cells is not None else (["T20-F128-snr8"] if args.quick else
                           ["T20-F16-snr8", "T20-F128-snr8", "T100-F16-snr8",
                            "T100-F128-snr8", "T300-F16-snr8"])
    seeds = args.seeds or (1 if args.quick else 2)
    rows = []
    for cell in cells:
        rows += run_cell(cell, models, seeds, args.n_train, args.epochs, args.jsonl, args.tag,
                         args.first_seed)
    if rows:
        print_table(rows, f"Two-event order task: accuracy on {args.n_train} test sequences "
                          f"({args.n_train} train, {args.epochs} epochs, {seeds} seed(s); "
                          "columns T-F-snr)")
    if args.digits:
        d = run_digits(models, seeds, args.jsonl)
        if d:
            print_table(d, "scikit-learn digits, 8 rows of 8 pixels, train 898 / test 899, "
                           "40 epochs")


if __name__ == "__main__":
    main()
