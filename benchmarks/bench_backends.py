"""Which Keras backend should skqrnn install by default? Install size, import time, training speed.

Each backend lives in its own virtual environment (they cannot share one: Keras picks its
backend once per process). Make them once, then run this script from any Python::

    for b in jax tensorflow torch; do python -m venv /tmp/bk/$b; done
    /tmp/bk/jax/bin/pip install keras jax scikit-learn scipy
    /tmp/bk/tensorflow/bin/pip install keras tensorflow-cpu scikit-learn scipy
    /tmp/bk/torch/bin/pip install keras torch==2.13.0 scikit-learn scipy
    python -m venv /tmp/bk/none && /tmp/bk/none/bin/pip install keras scikit-learn scipy
    for b in jax tensorflow torch; do /tmp/bk/$b/bin/pip install --no-deps -e .; done
    python benchmarks/bench_backends.py --venv jax=/tmp/bk/jax \\
        --venv tensorflow=/tmp/bk/tensorflow --venv torch=/tmp/bk/torch --baseline /tmp/bk/none

For every backend it reports the venv size above a baseline venv without any backend, the
median wall time of ``import keras`` in a fresh process, and, in a fresh process per model,
the fit time (3 epochs, compile included) and training throughput after the first epoch of
DenseNetClassifier on video-level vectors (1152 features, 3862 labels) and of QRNNClassifier
and DCQRNNClassifier on frame-level sequences (T=60, 1152 features, 3862 labels), with the
classifiers' default hyperparameters.

Measured on the 2-core CPU development machine, Keras 3.15.1, 2026-11-26 (see the README
section "Choosing a backend" and benchmarks/README.md for the table):
    Measured 2026-11-26 04:08-04:28 UTC, load average 4.9-6.8 on the 2 cores (other jobs
    running: absolute times are inflated, the three backends ran one after the other
    under similar load). Sizes: installed venv (keras + scikit-learn + scipy + the
    backend); "+backend" is above the same venv without a backend (338 MB).

    backend      venv MB  +backend MB  import s                  DenseNet                      QRNN                    DCQRNN
                                                     fit s / train smp/s       fit s / train smp/s       fit s / train smp/s
    jax              714          376      9.39        45.1 /         503        93.6 /          23        76.3 /          26
    tensorflow      1672         1334     20.92        45.3 /         440       102.5 /          15       101.4 /          17
    torch           1155          817     18.93        88.6 /         140        81.8 /          20        61.9 /          28

    Reading: JAX installs smallest (376 MB over the baseline, against 817 MB for torch
    2.13 CPU and 1334 MB for tensorflow-cpu), imports fastest (about half the time of
    the others; 3 s on an idle machine), and trains the default DenseNet fastest (torch
    3.6x slower). The sequence models are within the noise of this loaded machine on
    all three (torch's eager loop over 60 frames is competitive here). Earlier, with
    the machine less loaded: ``pip install`` took 44 s (jax), 75 s (tensorflow),
    92 s (torch). JAX is the default; the other two are extras.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def _dir_mb(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            fp = os.path.join(root, name)
            if not os.path.islink(fp):
                total += os.path.getsize(fp)
    return total / 2**20


def _python(venv):
    return os.path.join(venv, "bin", "python")


def _env(backend):
    env = dict(os.environ, KERAS_BACKEND=backend)
    return env


def import_time(venv, backend, repeats=3):
    code = "import time; t=time.perf_counter(); import keras; print(time.perf_counter()-t)"
    times = []
    for _ in range(repeats):
        out = subprocess.run([_python(venv), "-c", code], env=_env(backend),
                             capture_output=True, text=True, check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def run_worker(venv, backend, model):
    out = subprocess.run([_python(venv), os.path.abspath(__file__), "--worker", model],
                         env=_env(backend), capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def worker(model):
    """Runs inside one backend's venv: fit one classifier and report timings as JSON."""
    import numpy as np

    import keras
    import skqrnn

    rng = np.random.default_rng(0)
    n_labels, n_features = 3862, 1152
    if model == "DenseNetClassifier":
        n = 4096
        X = rng.normal(size=(n, n_features)).astype("float32")
    else:
        n = 512
        X = rng.normal(size=(n, 60, n_features)).astype("float32")
    y = np.zeros((n, n_labels), dtype="int8")
    y[np.arange(n)[:, None], rng.integers(0, 50, size=(n, 3))] = 1

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    times = []
    est = getattr(skqrnn, model)(epochs=3, random_state=0, callbacks=[EpochTimer()])
    t0 = time.perf_counter()
    est.fit(X, y)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    est.predict_proba(X)
    predict_s = time.perf_counter() - t0
    steady = statistics.median(times[1:])
    print(json.dumps({"fit_s": fit_s, "train_samples_per_s": n / steady,
                      "predict_samples_per_s": n / predict_s,
                      "backend": keras.backend.backend()}))


MODELS = ("DenseNetClassifier", "QRNNClassifier", "DCQRNNClassifier")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--venv", action="append", default=[], metavar="BACKEND=PATH")
    parser.add_argument("--baseline", help="venv with keras but no backend (for sizes)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    base_mb = _dir_mb(args.baseline) if args.baseline else 0.0
    rows = []
    for spec in args.venv:
        backend, venv = spec.split("=", 1)
        row = {"backend": backend, "venv_mb": _dir_mb(venv),
               "backend_mb": _dir_mb(venv) - base_mb,
               "import_keras_s": import_time(venv, backend)}
        for model in MODELS:
            row[model] = run_worker(venv, backend, model)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)

    print(f"{'backend':<11} {'venv MB':>8} {'+backend MB':>12} {'import s':>9}  "
          + "  ".join(f"{m.replace('Classifier', ''):>24}" for m in MODELS))
    print(" " * 44 + "  ".join(f"{'fit s / train smp/s':>24}" for _ in MODELS))
    for row in rows:
        cells = []
        for m in MODELS:
            r = row[m]
            cells.append(f"{'error':>24}" if "error" in r
                         else f"{r['fit_s']:>10.1f} / {r['train_samples_per_s']:>11.0f}")
        print(f"{row['backend']:<11} {row['venv_mb']:>8.0f} {row['backend_mb']:>12.0f} "
              f"{row['import_keras_s']:>9.2f}  " + "  ".join(cells))


if __name__ == "__main__":
    main()
