"""Learning curve on real YouTube-8M video-level data: DenseNet, QRNN, dcQRNN vs the baselines.

Data: real YouTube-8M (2018) video-level shards, ``mean_rgb`` +
``mean_audio`` (1152 features), 3862 labels: the 20-shard sample
(``../shared/data/yt8m-2018-video-sample/``, 5,889 videos) and the 100-shard
tuning set (``../shared/data/yt8m-2018-video-tuning/``, 28,661 videos).
Validation fold, fixed: the last 16 tuning shards (``validate0104`` ..
``validate0119``, 4,625 videos). Training pool: the other 104 shards (29,925
videos), permuted with seed 0; a training set of ``n`` videos is the first
``n`` of the permutation, so 5k is inside 15k is inside 30k. Every figure is
GAP@20 on the validation fold. Rows:

- logistic: :class:`skqrnn.baselines.LogisticClassifier` (defaults);
- MLP 2048: :class:`skqrnn.baselines.MLPBaselineClassifier` with
  ``epochs=15``, the quality bar of issue 13 (BN, Dense 2048 ReLU, BN,
  dropout 0.5, output bias at the prior's logit, Adam 2e-3; its own default
  is 24 epochs);
- DenseNet, QRNN, dcQRNN: the estimators' defaults, on the video vectors.

Measured 2026-12-06 (2-core VM, JAX, two to four fits at a time), GAP@20,
seeds 0 and 1 (the table with parameters, MB, epochs and fit times, and
the candidates tried, is in ``benchmarks/README.md``, "Learning curves")::

    model              5,000            15,000           29,925
    logistic           0.5614, 0.5620   0.6346, 0.6350   0.6658, 0.6666
    MLP 2048 (bar)     0.6079, 0.6061   0.6493, 0.6461   0.6719, 0.6691
    DenseNet           0.6080, 0.6082   0.6651, 0.6645   0.7018, 0.7004
    QRNN               0.6126, 0.6111   0.6691, 0.6662   0.7041, 0.7029
    dcQRNN             0.6095, 0.6103   0.6641, 0.6682   0.7026, 0.7034

(The QRNN's row is from 2026-12-07, with its one-step rules for video
vectors, forget-gate bias -2 and dropout 0.75; before them 0.5984, 0.5963 /
0.6566, 0.6556 / 0.6941, 0.6942.)

The figures came from a driver that fits the same estimators on the same
split and also scores the fold after every epoch; this script's ``--quick``
run was checked, not its full run.

Run: ``python benchmarks/bench_learning_curve.py`` (all models, 5k / 15k /
30k training videos, seeds 0 and 1: 30 fits, about 2 h on the idle 2-core
CPU); ``--sizes 5000 --models "MLP 2048" DenseNet --seeds 1`` for a part;
``--quick`` (1,000 training videos, 500 validation videos, 2 epochs, one
seed) checks that the script works, not the models. ``--jsonl FILE``
appends one JSON line per fit.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import skqrnn  # noqa: F401  (picks the Keras backend before Keras is imported)
from skqrnn import DCQRNNClassifier, DenseNetClassifier, QRNNClassifier
from skqrnn.baselines import LogisticClassifier, MLPBaselineClassifier
from skqrnn.io import load_yt8m
from skqrnn.metrics import global_average_precision

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SAMPLE = SHARED / "yt8m-2018-video-sample"
TUNING = SHARED / "yt8m-2018-video-tuning"

#: Validation fold: the last 16 shards of the tuning set (4,625 videos).
N_VALIDATION_SHARDS = 16
#: Training sizes (videos); the largest is the whole pool (29,925).
SIZES = (5000, 15000, None)

#: name -> (estimator class, parameters). The MLP is the quality bar of
#: issue 13 as it defines it: MLPBaselineClassifier with 15 epochs (its
#: own default is 24, tuned on 4.7k videos).
MODELS = {
    "logistic": (LogisticClassifier, {}),
    "MLP 2048": (MLPBaselineClassifier, {"epochs": 15}),
    "DenseNet": (DenseNetClassifier, {}),
    "QRNN": (QRNNClassifier, {}),
    "dcQRNN": (DCQRNNClassifier, {}),
}

def load_split(sample=SAMPLE, tuning=TUNING, cache=None):
    """The fixed validation fold and the shuffled training pool.

    Validation: the last 16 tuning shards. Pool: the 20 sample shards and the
    first 84 tuning shards, permuted with seed 0, so the first ``n`` videos
    are a random subset and the subsets are nested (5k in 15k in 30k).
    Estimators hold out the *last* samples with ``validation_split``: with
    this order that is a random part of the subset.
    """
    if cache is not None and (Path(cache) / "X_pool.npy").exists():
        import scipy.sparse as sp
        c = Path(cache)
        return (np.load(c / "X_pool.npy"), sp.load_npz(c / "Y_pool.npz"),
                np.load(c / "X_val.npy"), sp.load_npz(c / "Y_val.npz"))
    sample_shards = sorted(Path(sample).glob("validate*.tfrecord"))
    tuning_shards = sorted(Path(tuning).glob("validate*.tfrecord"))
    if len(sample_shards) != 20 or len(tuning_shards) != 100:
        sys.exit(f"expected 20 sample shards in {sample} and 100 tuning shards in {tuning}; "
                 f"found {len(sample_shards)} and {len(tuning_shards)}")
    val = load_yt8m(tuning_shards[-N_VALIDATION_SHARDS:])
    pool = load_yt8m(sample_shards + tuning_shards[:-N_VALIDATION_SHARDS])
    import scipy.sparse as sp
    perm = np.random.RandomState(0).permutation(pool.X.shape[0])
    X_pool = np.ascontiguousarray(pool.X[perm], dtype=np.float32)
    Y_pool = sp.csr_matrix(pool.y)[perm]
    X_val, Y_val = np.ascontiguousarray(val.X, dtype=np.float32), sp.csr_matrix(val.y)
    if cache is not None:
        c = Path(cache)
        c.mkdir(parents=True, exist_ok=True)
        np.save(c / "X_pool.npy", X_pool)
        sp.save_npz(c / "Y_pool.npz", Y_pool)
        np.save(c / "X_val.npy", X_val)
        sp.save_npz(c / "Y_val.npz", Y_val)
    return X_pool, Y_pool, X_val, Y_val


def _size_mb(estimator):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        estimator.save(path)
        return os.path.getsize(path) / 1e6


def make(name, n_train, seed, quick=False):
    cls, params = MODELS[name]
    params = dict(params)
    if quick:
        params["epochs"] = 2
    return cls(**params, random_state=seed)


def fit_and_score(name, n_train, seed, X, Y, X_val, Y_val, quick=False):
    est = make(name, n_train, seed, quick)
    start = time.perf_counter()
    est.fit(X, Y)
    fit_s = time.perf_counter() - start
    gap = global_average_precision(Y_val, est.predict_proba(X_val), k=20)
    return {"model": name, "n_train": int(X.shape[0]), "seed": seed, "GAP@20": float(gap),
            "epochs": int(est.n_iter_), "params": int(est.model_.count_params()),
            "size_mb": _size_mb(est), "fit_s": fit_s}


def print_table(rows):
    header = (f"{'model':<18} {'train':>6} {'GAP@20':>17} {'params':>11} {'MB':>6} "
              f"{'epochs':>7} {'fit s':>6}")
    print(header)
    print("-" * len(header))
    groups = {}
    for r in rows:
        groups.setdefault((r["model"], r["n_train"]), []).append(r)
    for (model, n), runs in groups.items():
        gaps = [r["GAP@20"] for r in runs]
        gap = f"{np.mean(gaps):.4f}" + (f" +- {np.std(gaps):.4f}" if len(gaps) > 1 else " " * 9)
        epochs = "/".join(str(r["epochs"]) for r in runs)
        print(f"{model:<18} {n:>6} {gap:>17} {runs[0]['params']:>11,} "
              f"{runs[0]['size_mb']:>6.1f} {epochs:>7} {np.mean([r['fit_s'] for r in runs]):>6.0f}",
              flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=SAMPLE,
                        help="folder of the 20-shard YouTube-8M video-level sample")
    parser.add_argument("--tuning", type=Path, default=TUNING,
                        help="folder of the 100-shard YouTube-8M video-level tuning set")
    parser.add_argument("--cache", type=Path, default=None,
                        help="folder to keep the loaded arrays in as .npy (never commit them)")
    parser.add_argument("--sizes", type=int, nargs="*", default=None,
                        help="training-set sizes in videos (default 5000 15000 and the whole "
                             "pool, 29,925)")
    parser.add_argument("--seeds", type=int, default=2, help="seeds 0..N-1 per model and size")
    parser.add_argument("--models", nargs="*", default=None,
                        help=f"only these rows (default: all of {list(MODELS)})")
    parser.add_argument("--jsonl", type=Path, default=None,
                        help="append one JSON line per fit to this file")
    parser.add_argument("--quick", action="store_true",
                        help="1,000 training and 500 validation videos, 2 epochs, one seed")
    args = parser.parse_args(argv)
    unknown = set(args.models or ()) - set(MODELS)
    if unknown:
        parser.error(f"unknown models {sorted(unknown)}; choose from {list(MODELS)}")

    X_pool, Y_pool, X_val, Y_val = load_split(args.sample, args.tuning, args.cache)
    sizes = args.sizes or [s or X_pool.shape[0] for s in SIZES]
    seeds = 1 if args.quick else args.seeds
    if args.quick:
        sizes, X_val, Y_val = [1000], X_val[:500], Y_val[:500]
    Y_val = Y_val.toarray().astype(np.int8)
    print(f"pool {X_pool.shape[0]} videos, validation fold {X_val.shape[0]} videos "
          f"(last {N_VALIDATION_SHARDS} tuning shards), sizes {sizes}, seeds 0..{seeds - 1}, "
          f"load average {os.getloadavg()[0]:.1f}\n", flush=True)
    rows = []
    for n in sizes:
        if n > X_pool.shape[0]:
            parser.error(f"size {n} is larger than the pool ({X_pool.shape[0]} videos)")
        for name in args.models or MODELS:
            for seed in range(seeds):
                row = fit_and_score(name, n, seed, X_pool[:n], Y_pool[:n], X_val, Y_val,
                                    args.quick)
                row["load"] = os.getloadavg()[0]
                rows.append(row)
                print(f"  {name} n={n} seed {seed}: GAP@20 {row['GAP@20']:.4f}, "
                      f"{row['epochs']} epochs, {row['fit_s']:.0f} s", flush=True)
                if args.jsonl:
                    with open(args.jsonl, "a") as f:
                        f.write(json.dumps(row) + "\n")
    print()
    print_table(rows)
    return rows


if __name__ == "__main__":
    main()
