"""Scaling of training with the data, and grid search on Dask vs joblib.

Usage::

    python benchmarks/bench_scale.py            # full run (~10 minutes on 2 loaded cores)
    python benchmarks/bench_scale.py --quick    # small shards, smaller grid (checks the script)
    python benchmarks/bench_scale.py --no-grid  # part 1 only (or --no-scale: part 2 only)

Part 1 -- time and memory against the amount of data. ``make_yt8m`` writes
16 synthetic video-level shards in the real YouTube-8M format (1,500 videos
each, 3862 classes, ~7 MB per shard, as the real video-level shards), once,
into a temporary directory; the 1- and 4-shard rows use the first shards.
For each size, in a FRESH child process (so that its peak resident memory,
``VmHWM`` from ``/proc/self/status``, belongs to that configuration alone):

- ``stream``: ``DenseNetClassifier.fit(iter_yt8m(shards, batch_size=256))``,
  the out-of-core path (batches read, shuffled and converted one at a time);
- ``memory``: the baseline, ``load_yt8m(shards)`` (sparse labels) then
  ``fit(X, y)`` on the arrays.

Network: ``DenseNetClassifier(stem_units=256, growth_rate=64,
block_layers=(2,), dropout=0.3, batch_size=256, epochs=3,
random_state=0)`` -- 1.5 M weights, most of them in the 3862-way output
layer. Epoch times come from a Keras callback (``on_epoch_begin`` ->
``on_epoch_end``); epoch 1 includes XLA compilation, so the "steady" column
is the mean of epochs 2..3 and ``s/1k videos`` divides it by the data size.
"RSS base" is the resident memory after importing skqrnn/Keras/JAX (before
any data); "peak RSS" is the process high-water mark over load + fit.

Part 2 -- the same ``GridSearchCV`` (``DenseNetClassifier(stem_units=128,
growth_rate=32, block_layers=(1,), epochs=3, batch_size=256)``, grid
``learning_rate x dropout`` = 4 candidates, ``cv=KFold(2)``,
``scoring=gap_scorer``, ``refit=False``) on the in-memory data of 4 shards
(6,000 videos), timed (a) with joblib's default backend and ``n_jobs=1``,
(b) ``n_jobs=2`` (loky worker processes), (c) inside
``joblib.parallel_backend("dask")`` with a ``LocalCluster(n_workers=2,
threads_per_worker=1, processes=True)`` client (the cluster's start-up is
timed separately). The cross-validated scores and ``best_params_`` must agree.

Measured figures
----------------
Filled in below from the full run (machine: 2-core CPU VM, 24 GiB, no GPU,
JAX backend, Keras 3.15, 2026-11-26; the machine is shared, so the load
average, printed with each row, is part of every figure).

RESULTS_PLACEHOLDER
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

NET = dict(stem_units=256, growth_rate=64, block_layers=(2,), dropout=0.3, batch_size=256,
           random_state=0)
GRID_NET = dict(stem_units=128, growth_rate=32, block_layers=(1,), dropout=0.3, epochs=3,
                batch_size=256, random_state=0)
GRID = {"learning_rate": [1e-3, 3e-3], "dropout": [0.2, 0.5]}


def _status_kib(field):
    """A memory field of /proc/self/status (``VmRSS``, ``VmHWM``) in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _load():
    return os.getloadavg()[0]


# ------------------------------------------------------------------ child side
_EPOCHS = []  # (start, end) per epoch; module-level because fit deep-copies callbacks


def _child(spec):
    """One configuration in this (fresh) process; prints one JSON line."""
    rss0 = _status_kib("VmRSS")
    import keras

    import skqrnn  # noqa: F401  (chooses the backend)
    from skqrnn import DenseNetClassifier
    from skqrnn.io import iter_yt8m, load_yt8m

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            _EPOCHS.append([time.perf_counter(), None])

        def on_epoch_end(self, epoch, logs=None):
            _EPOCHS[-1][1] = time.perf_counter()

    import jax  # noqa: F401  (imported by keras already; counted in the base RSS)

    rss_base = _status_kib("VmRSS")
    paths, mode, epochs = spec["paths"], spec["mode"], spec["epochs"]
    clf = DenseNetClassifier(epochs=epochs, callbacks=[EpochTimer()], **NET)
    load_s = 0.0
    t0 = time.perf_counter()
    if mode == "stream":
        clf.fit(iter_yt8m(paths, batch_size=NET["batch_size"], random_state=0))
        n = None
    else:
        data = load_yt8m(paths)
        load_s = time.perf_counter() - t0
        n = data.X.shape[0]
        clf.fit(data.X, data.y)
    total = time.perf_counter() - t0
    epoch_s = [e - s for s, e in _EPOCHS]
    print("RESULT " + json.dumps({
        "epoch_s": epoch_s, "total_s": total, "load_s": load_s, "n": n,
        "rss_start_kib": rss0, "rss_base_kib": rss_base, "hwm_kib": _status_kib("VmHWM"),
        "loss": clf.history_["loss"][-1], "n_iter": clf.n_iter_,
    }), flush=True)


def _run_child(paths, mode, epochs):
    spec = json.dumps({"paths": paths, "mode": mode, "epochs": epochs})
    load = _load()
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", spec],
                          capture_output=True, text=True, cwd=ROOT)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            res = json.loads(line[len("RESULT "):])
            res["load_before"] = load
            res["load_after"] = _load()
            return res
    raise RuntimeError(f"child {mode} {len(paths)} shards failed (rc {proc.returncode}):\n"
                       f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


# ------------------------------------------------------------------ part 1
def part_scale(paths, per_shard, sizes, epochs):
    print(f"\n# Part 1: training time and peak memory vs data ({per_shard} video-level "
          f"records/shard, 3862 classes, {epochs} epochs, each row a fresh process)")
    print(f"# DenseNetClassifier({', '.join(f'{k}={v!r}' for k, v in NET.items())})")
    head = (f"{'mode':6s} {'shards':>6s} {'videos':>7s} {'epoch1 s':>9s} {'steady s':>9s} "
            f"{'s/1k vid':>9s} {'load s':>7s} {'RSS base':>9s} {'peak RSS':>9s} "
            f"{'peak-base':>9s} {'loadavg':>8s}")
    print(head)
    rows = []
    for mode in ("stream", "memory"):
        for k in sizes:
            r = _run_child(paths[:k], mode, epochs)
            n = k * per_shard
            ep = r["epoch_s"]
            steady = sum(ep[1:]) / max(1, len(ep) - 1) if len(ep) > 1 else ep[0]
            base_mb, hwm_mb = r["rss_base_kib"] / 1024, r["hwm_kib"] / 1024
            print(f"{mode:6s} {k:6d} {n:7d} {ep[0]:9.2f} {steady:9.2f} "
                  f"{1000 * steady / n:9.3f} {r['load_s']:7.2f} {base_mb:7.0f}MB "
                  f"{hwm_mb:7.0f}MB {hwm_mb - base_mb:7.0f}MB "
                  f"{r['load_before']:4.1f}/{r['load_after']:.1f}", flush=True)
            rows.append((mode, k, n, steady, hwm_mb))
    return rows


# ------------------------------------------------------------------ part 2
def _search(n_jobs=None):
    from sklearn.model_selection import GridSearchCV, KFold

    from skqrnn import DenseNetClassifier
    from skqrnn.metrics import gap_scorer

    return GridSearchCV(DenseNetClassifier(**GRID_NET), GRID, scoring=gap_scorer,
                        cv=KFold(2), refit=False, n_jobs=n_jobs)


def part_grid(paths, quick):
    import logging

    import joblib
    import numpy as np
    from dask.distributed import Client, LocalCluster

    from skqrnn.io import load_yt8m

    data = load_yt8m(paths)
    X, y = data.X, data.y
    print(f"\n# Part 2: GridSearchCV, {len(GRID['learning_rate']) * len(GRID['dropout'])} "
          f"candidates x KFold(2) = 8 fits, refit=False, on {X.shape[0]} videos "
          f"({len(paths)} shards, in memory), scoring=gap_scorer")
    print(f"# DenseNetClassifier({', '.join(f'{k}={v!r}' for k, v in GRID_NET.items())}), "
          f"grid {GRID}")
    print(f"{'backend':44s} {'wall s':>8s} {'vs n_jobs=1':>11s} {'loadavg':>9s}  best_params_")
    results = {}

    def report(name, fn):
        load = _load()
        t = time.perf_counter()
        search = fn()
        wall = time.perf_counter() - t
        results[name] = (wall, search)
        base = results[next(iter(results))][0]
        print(f"{name:44s} {wall:8.1f} {base / wall:10.2f}x {load:4.1f}/{_load():.1f}  "
              f"{search.best_params_}", flush=True)

    report("joblib default backend, n_jobs=1", lambda: _search().fit(X, y))
    report("joblib loky, n_jobs=2", lambda: _search(n_jobs=2).fit(X, y))
    t = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    startup = time.perf_counter() - t
    try:
        def on_dask():
            with joblib.parallel_backend("dask"):
                return _search().fit(X, y)

        report("dask LocalCluster(2 workers x 1 thread)", on_dask)
        # A second search on the warm workers (Keras/JAX already imported there).
        report("dask, same cluster again (warm workers)", on_dask)
    finally:
        client.close()
        cluster.close()
    print(f"# LocalCluster + Client start-up: {startup:.1f} s (not in the rows above)")
    ref = results["joblib default backend, n_jobs=1"][1]
    for name, (_, s) in results.items():
        diff = np.abs(s.cv_results_["mean_test_score"] - ref.cv_results_["mean_test_score"]).max()
        same = s.best_params_ == ref.best_params_
        print(f"# {name}: best_params_ {'agree' if same else 'DIFFER'}, "
              f"max |mean_test_score - n_jobs=1's| = {diff:.2e}")
    print("# mean_test_score (n_jobs=1): " + ", ".join(
        f"{p} {v:.4f}" for p, v in zip(ref.cv_results_["params"],
                                       ref.cv_results_["mean_test_score"])))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small shards, 2 epochs")
    ap.add_argument("--no-scale", action="store_true", help="skip part 1")
    ap.add_argument("--no-grid", action="store_true", help="skip part 2")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(json.loads(args.child))
        return
    per_shard = 150 if args.quick else 1500
    epochs = 2 if args.quick else 3
    import platform

    print(f"# bench_scale: python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"loadavg {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M')}")
    import skqrnn  # noqa: F401
    from skqrnn.datasets import make_yt8m

    with tempfile.TemporaryDirectory(prefix="bench_scale_") as d:
        t = time.perf_counter()
        paths = make_yt8m(16 * per_shard, n_classes=3862, level="video", n_shards=16,
                          directory=d, random_state=0)
        mb = sum(os.path.getsize(p) for p in paths) / 2**20
        print(f"# wrote 16 shards x {per_shard} videos ({mb:.0f} MB) in "
              f"{time.perf_counter() - t:.1f} s")
        if not args.no_scale:
            part_scale(paths, per_shard, (1, 4, 16), epochs)
        if not args.no_grid:
            part_grid(paths[:4], args.quick)


if __name__ == "__main__":
    main()
