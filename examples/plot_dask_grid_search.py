"""
Grid search on a Dask cluster
=============================

:class:`~sklearn.model_selection.GridSearchCV` runs its fits through joblib;
inside ``joblib.parallel_backend("dask")`` each (candidate, fold) fit is sent
to a worker of a `Dask <https://distributed.dask.org>`_ cluster. skqrnn
estimators pickle with their Keras networks, so the fits run in the worker
processes and the refitted best model comes back to this one. Here the
"cluster" is a :class:`~distributed.LocalCluster` of two worker processes on
this machine; connect the :class:`~distributed.Client` to a scheduler's
address instead to use a real cluster.

Needs Dask's distributed scheduler: ``pip install skqrnn[dask]``.
"""

import logging
import os

import joblib
from dask.distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV, KFold

from skqrnn import DenseNetClassifier
from skqrnn.datasets import sample_paths
from skqrnn.io import load_yt8m
from skqrnn.metrics import gap_scorer, global_average_precision

# SKQRNN_EXAMPLE_FAST=1 (set by the test suite) searches a smaller grid of smaller networks.
FAST = os.environ.get("SKQRNN_EXAMPLE_FAST") == "1"

# %%
# The search
# ----------
# Video-level features of the real YouTube-8M sample shipped with skqrnn:
# five shards to search on, the sixth to test the best model.
shards = sample_paths()
train, test = load_yt8m(shards[:-1]), load_yt8m(shards[-1:])
X, y = train.X, train.y
if FAST:
    X, y = X[:512], y[:512]
    estimator = DenseNetClassifier(stem_units=64, growth_rate=16, block_layers=(1,),
                                   epochs=2, random_state=0)
    grid = {"dropout": [0.3, 0.5]}
else:
    estimator = DenseNetClassifier(epochs=10, random_state=0)
    grid = {"growth_rate": [32, 64], "dropout": [0.3, 0.5]}
search = GridSearchCV(estimator, grid, scoring=gap_scorer,
                      cv=KFold(2, shuffle=True, random_state=0))

# %%
# On the cluster
# --------------
# ``LocalCluster`` starts worker *processes*, which import this script's
# module again: the cluster is created under ``if __name__ == "__main__":``
# so that they do not start clusters of their own.
if __name__ == "__main__":
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    with cluster, Client(cluster) as client:
        print(f"Dask cluster with {len(client.scheduler_info()['workers'])} workers")
        with joblib.parallel_backend("dask"):
            search.fit(X, y)

    for params, gap in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
        print(f"  {params}  cross-validated GAP@20 {gap:.3f}")
    print("best parameters:", search.best_params_)
    test_gap = global_average_precision(test.y, search.predict_proba(test.X))
    print(f"best model, refitted on all {len(X)} videos: test GAP@20 {test_gap:.3f}")
