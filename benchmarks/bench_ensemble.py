"""Ensembles and distillation on real YouTube-8M video-level data (issue 16).

**The full run is pending**: it needs the 2-core CPU for several hours (it
was busy with other benchmarks when this script was written). Its figures go
here.

What it measures, on the same data for every row (``random_state=0``):

- each member alone: DenseNet (defaults), the 2048-unit MLP of the quality
  bar, Google's logistic model, and a cosine k-NN (scikit-learn);
- the :class:`skqrnn.AveragingClassifier` of the four with ``weights="gap"``
  (weights fitted on a held-out 20% of the training videos, members refitted
  on all of them), with its weights;
- a light student (a 512-unit MLP) trained on the labels alone, and the same
  student distilled from the ensemble (:class:`skqrnn.DistilledClassifier`,
  ``alpha=0.5``): from the fitted ensemble's in-sample probabilities
  (``cv=None``, the fitted ensemble frozen), and with ``--oof`` also from
  out-of-fold probabilities (``cv=3``: three more ensemble fits);

each with GAP@20 on the test videos, parameters, fit time (of the ensemble
as a whole; members are fitted inside it) and prediction time per 1,000
videos. The question: how much of the ensemble's gain over
its best member does the distilled student keep, at what size and speed.

Data: full run, the pool of the 20 sample shards and the first 84 shards of
the tuning set (``../shared/data/yt8m-2018-video-tuning``) trains, the last
16 tuning shards test (the split of ``bench_learning_curve.py``).
``--quick``: the sample shipped with skqrnn
(:func:`skqrnn.datasets.sample_paths`; 5 shards train, 1 tests), 2 epochs,
small networks -- it checks that the script works, not the models.

Run: ``python benchmarks/bench_ensemble.py --quick`` (under a minute on
the 2-core CPU), ``python benchmarks/bench_ensemble.py [--oof] [--jsonl FILE]``.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

import skqrnn  # noqa: F401  (picks the Keras backend before Keras is imported)
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.neighbors import KNeighborsClassifier

from skqrnn import AveragingClassifier, DenseNetClassifier, DistilledClassifier
from skqrnn.baselines import LogisticClassifier, MLPBaselineClassifier
from skqrnn.datasets import sample_paths
from skqrnn.ensemble import proba_matrix
from skqrnn.io import load_yt8m
from skqrnn.metrics import global_average_precision

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SAMPLE = SHARED / "yt8m-2018-video-sample"
TUNING = SHARED / "yt8m-2018-video-tuning"
N_TEST_SHARDS = 16


def load_data(quick, sample=SAMPLE, tuning=TUNING):
    """``(X_train, Y_train, X_test, Y_test)``, Y as CSR."""
    if quick:
        shards = sample_paths()
        train, test = load_yt8m(shards[:-1]), load_yt8m(shards[-1:])
    else:
        sample_shards = sorted(Path(sample).glob("validate*.tfrecord"))
        tuning_shards = sorted(Path(tuning).glob("validate*.tfrecord"))
        if len(sample_shards) != 20 or len(tuning_shards) != 100:
            sys.exit(f"expected 20 sample shards in {sample} and 100 tuning shards in "
                     f"{tuning}; found {len(sample_shards)} and {len(tuning_shards)}")
        train = load_yt8m(sample_shards + tuning_shards[:-N_TEST_SHARDS])
        test = load_yt8m(tuning_shards[-N_TEST_SHARDS:])
    return (np.ascontiguousarray(train.X, dtype=np.float32), sp.csr_matrix(train.y),
            np.ascontiguousarray(test.X, dtype=np.float32), sp.csr_matrix(test.y))


def members(quick):
    epochs = 2 if quick else None
    small = dict(stem_units=256, growth_rate=64) if quick else {}

    def e(params):
        return params if epochs is None else {**params, "epochs": epochs}

    return [
        ("densenet", DenseNetClassifier(**e(small), random_state=0)),
        ("mlp", MLPBaselineClassifier(**e({"epochs": 15, "hidden_units": 256 if quick
                                           else 2048}), random_state=0)),
        ("logistic", LogisticClassifier(**e({}), random_state=0)),
        ("knn", KNeighborsClassifier(n_neighbors=10, metric="cosine")),
    ]


def student(quick):
    return MLPBaselineClassifier(hidden_units=128 if quick else 512,
                                 epochs=2 if quick else 15, random_state=0)


def n_params(est):
    if hasattr(est, "student_"):
        est = est.student_
    if hasattr(est, "model_"):
        return int(est.model_.count_params())
    if hasattr(est, "estimators_"):
        return sum(n_params(m) for m in est.estimators_)
    return 0  # k-NN: its training set


def row(name, est, fit_s, X_test, Y_test):
    start = time.perf_counter()
    proba = proba_matrix(est, X_test, multilabel=True)
    predict_s = time.perf_counter() - start
    return {"model": name, "GAP@20": float(global_average_precision(Y_test, proba)),
            "params": n_params(est), "fit_s": fit_s,
            "predict_s_per_1k": predict_s / X_test.shape[0] * 1000,
            "load": os.getloadavg()[0]}


def timed_fit(est, X, Y):
    start = time.perf_counter()
    est.fit(X, Y)
    return est, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="the shipped sample, 2 epochs, small networks")
    parser.add_argument("--oof", action="store_true",
                        help="also distil from out-of-fold ensemble probabilities (cv=3)")
    parser.add_argument("--jsonl", type=Path, default=None,
                        help="append one JSON line per row to this file")
    args = parser.parse_args(argv)
    X, Y, X_test, Y_test = load_data(args.quick)
    print(f"train {X.shape[0]} videos, test {X_test.shape[0]} videos, {Y.shape[1]} labels, "
          f"load average {os.getloadavg()[0]:.1f}\n", flush=True)
    rows = []

    def report(r):
        rows.append(r)
        fit = "" if np.isnan(r["fit_s"]) else f", fit {r['fit_s']:.0f} s"
        print(f"  {r['model']}: GAP@20 {r['GAP@20']:.4f}{fit}", flush=True)
        if args.jsonl:
            with open(args.jsonl, "a") as f:
                f.write(json.dumps(r) + "\n")

    ensemble = AveragingClassifier(members(args.quick), weights="gap", refit=not args.quick,
                                   random_state=0)
    ensemble, fit_s = timed_fit(ensemble, X, Y)
    for name, member in ensemble.named_estimators_.items():
        report(row(name, member, float("nan"), X_test, Y_test))
    r = row("ensemble (gap weights)", ensemble, fit_s, X_test, Y_test)
    r["weights"] = dict(zip(ensemble.named_estimators_, ensemble.weights_.round(3).tolist()))
    r["validation_scores"] = ensemble.validation_scores_
    report(r)
    print("  weights:", r["weights"])

    alone, fit_s = timed_fit(student(args.quick), X, Y)
    report(row("student on labels", alone, fit_s, X_test, Y_test))
    distilled = DistilledClassifier(FrozenEstimator(ensemble), student(args.quick),
                                    alpha=0.5, cv=None)
    distilled, fit_s = timed_fit(distilled, X, Y)
    report(row("student distilled (in-sample)", distilled, fit_s, X_test, Y_test))
    if args.oof:
        teacher = clone(ensemble).set_params(refit=False)
        oof = DistilledClassifier(teacher, student(args.quick), alpha=0.5, cv=3,
                                  random_state=0)
        oof, fit_s = timed_fit(oof, X, Y)
        report(row("student distilled (out-of-fold)", oof, fit_s, X_test, Y_test))

    print()
    header = f"{'model':<32} {'GAP@20':>7} {'params':>12} {'fit s':>7} {'predict s/1k':>13}"
    print(header)
    print("-" * len(header))
    for r in rows:
        fit = "-" if np.isnan(r["fit_s"]) else f"{r['fit_s']:.0f}"
        print(f"{r['model']:<32} {r['GAP@20']:>7.4f} {r['params']:>12,} {fit:>7} "
              f"{r['predict_s_per_1k']:>13.3f}")
    return rows


if __name__ == "__main__":
    main()
