"""Ensembles and distillation on real YouTube-8M video-level data (issue 16).

What it measures, on the same data for every row (``random_state=0``):

- each member alone, with its defaults: :class:`skqrnn.DenseNetClassifier`,
  :class:`skqrnn.QRNNClassifier`, :class:`skqrnn.DCQRNNClassifier` (fitted
  inside the ensemble on all the training videos, so each row is that
  model trained on its own);
- their :class:`skqrnn.AveragingClassifier` with ``weights="gap"`` (weights
  fitted on a held-out 20% of the training videos, members then refitted on
  all of them), with its weights;
- a DenseNet student of the single DenseNet's size (the defaults again)
  distilled from the ensemble (:class:`skqrnn.DistilledClassifier`,
  ``alpha=0.5``, temperature 1), from the fitted ensemble's in-sample
  probabilities (``cv=None``, the ensemble frozen); with ``--oof`` also from
  out-of-fold probabilities (``cv=3``: three more ensemble fits). The same
  network trained on the labels alone is the DenseNet member's row.

Each row: GAP@20, Hit@1 and PERR on the test videos, parameters, MB of
float32 weights, fit time (of the ensemble as a whole; members are fitted
inside it) and prediction time per 1,000 videos. The question: how much of
the ensemble's gain over its best member does the distilled student keep,
at the single model's size and speed.

Data: full run, the 20 sample shards and the first 84 shards of the tuning
set (``../shared/data/yt8m-2018-video-tuning``) train (29,925 videos), the
last 16 tuning shards test (4,625 videos; the split of
``bench_learning_curve.py``). ``--quick``: the sample shipped with skqrnn
(:func:`skqrnn.datasets.sample_paths`; 5 shards train, 1 tests), 2 epochs,
small networks -- it checks that the script works, not the models.

Run: ``python benchmarks/bench_ensemble.py --quick`` (under a minute on
the 2-core CPU), ``python benchmarks/bench_ensemble.py [--oof] [--jsonl FILE]``
(82 minutes on the 2-core CPU beside other benchmarks, load 5-9). Figures:
``benchmarks/README.md``, "Ensembles and distillation".

Measured 2026-12-06 (2-core VM, loaded), GAP@20 on the 4,625 test videos::

    densenet 0.7011   qrnn 0.6929   dcqrnn 0.7012   ensemble 0.7145 (+1.33)
    DenseNet student distilled in-sample 0.7033: 16% of the ensemble's gain;
    out-of-fold (--oof) 0.6956, below the DenseNet alone
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

from skqrnn import (AveragingClassifier, DCQRNNClassifier, DenseNetClassifier,
                    DistilledClassifier, QRNNClassifier)
from skqrnn.datasets import sample_paths
from skqrnn.ensemble import proba_matrix
from skqrnn.io import load_yt8m
from skqrnn.metrics import global_average_precision, hit_at_k, precision_at_equal_recall_rate

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


def _quick(quick, **small):
    """Small networks and 2 epochs for ``--quick``; the defaults otherwise."""
    return {**small, "epochs": 2} if quick else {}


def members(quick):
    return [
        ("densenet", DenseNetClassifier(**_quick(quick, stem_units=256, growth_rate=64),
                                        random_state=0)),
        ("qrnn", QRNNClassifier(**_quick(quick, units=64), random_state=0)),
        ("dcqrnn", DCQRNNClassifier(**_quick(quick, growth_rate=32), random_state=0)),
    ]


def student(quick):
    """The single DenseNet's configuration (the member's own)."""
    return clone(members(quick)[0][1])


def n_params(est):
    if hasattr(est, "student_"):
        est = est.student_
    if hasattr(est, "model_"):
        return int(est.model_.count_params())
    if hasattr(est, "estimators_"):
        return sum(n_params(m) for m in est.estimators_)
    return 0


def row(name, est, fit_s, X_test, Y_test):
    proba_matrix(est, X_test, multilabel=True)  # the first call also compiles
    start = time.perf_counter()
    proba = proba_matrix(est, X_test, multilabel=True)
    predict_s = time.perf_counter() - start
    params = n_params(est)
    return {"model": name, "GAP@20": float(global_average_precision(Y_test, proba)),
            "Hit@1": float(hit_at_k(Y_test, proba, k=1)),
            "PERR": float(precision_at_equal_recall_rate(Y_test, proba)),
            "params": params, "MB": params * 4 / 1e6, "fit_s": fit_s,
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
    header = (f"{'model':<32} {'GAP@20':>7} {'Hit@1':>6} {'PERR':>6} {'params':>11} {'MB':>5} "
              f"{'fit s':>6} {'predict s/1k':>12}")
    print(header)
    print("-" * len(header))
    for r in rows:
        fit = "-" if np.isnan(r["fit_s"]) else f"{r['fit_s']:.0f}"
        print(f"{r['model']:<32} {r['GAP@20']:>7.4f} {r['Hit@1']:>6.4f} {r['PERR']:>6.4f} "
              f"{r['params']:>11,} {r['MB']:>5.0f} {fit:>6} {r['predict_s_per_1k']:>12.3f}")
    best = max(r["GAP@20"] for r in rows[:len(ensemble.named_estimators_)])
    gain = rows[len(ensemble.named_estimators_)]["GAP@20"] - best
    if gain <= 0:
        print(f"the ensemble did not beat its best member ({gain * 100:+.2f} GAP points)")
    for r in rows[len(ensemble.named_estimators_) + 1:] if gain > 0 else ():
        kept = (r["GAP@20"] - best) / gain if gain > 0 else float("nan")
        print(f"{r['model']}: keeps {kept:.0%} of the ensemble's gain over its best member "
              f"({gain * 100:+.2f} GAP points)")
    return rows


if __name__ == "__main__":
    main()
