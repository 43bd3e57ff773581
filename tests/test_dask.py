"""Hyperparameter search on a real Dask cluster (worker processes on loopback).

``GridSearchCV`` inside ``joblib.parallel_backend("dask")`` sends each
(candidate, fold) fit to a worker process with cloudpickle. The workers are
started without ``KERAS_BACKEND`` in their environment, as on a cluster
whose workers were launched by hand: unpickling an skqrnn estimator imports
``skqrnn`` before Keras, which picks JAX. Needs the ``skqrnn[dask]`` extra.
"""

import contextlib
import logging
import os

import numpy as np
import pytest

distributed = pytest.importorskip("distributed", reason="needs the skqrnn[dask] extra")

import joblib  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402

from skqrnn import DenseNetClassifier  # noqa: E402
from skqrnn.metrics import gap_scorer  # noqa: E402

pytestmark = pytest.mark.slow

PARAMS = dict(stem_units=8, growth_rate=4, block_layers=(1,), dropout=0.0, epochs=3,
              batch_size=32, random_state=0)
GRID = {"learning_rate": [3e-3, 3e-2], "stem_units": [8, 16]}


@contextlib.contextmanager
def _without_env(name):
    saved = os.environ.pop(name, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[name] = saved


@pytest.fixture(scope="module")
def client():
    # Workers inherit the environment at start-up: drop KERAS_BACKEND (set by
    # `import skqrnn` in this process) so that they must choose it themselves.
    with _without_env("KERAS_BACKEND"):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, silence_logs=logging.ERROR,
        )
    try:
        with distributed.Client(cluster) as c:
            yield c
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(128, 20).astype(np.float32)
    Y = (X[:, :4] + 0.5 * rng.randn(128, 4) > 0.3).astype(np.int8)
    return X, Y


def _search():
    return GridSearchCV(DenseNetClassifier(**PARAMS), GRID, scoring=gap_scorer,
                        cv=KFold(2), refit=False)


def test_grid_search_on_dask_workers_matches_local_search(client, data):
    X, Y = data
    with joblib.parallel_backend("dask"):
        on_dask = _search().fit(X, Y)
    local = _search().fit(X, Y)  # joblib's default backend, one process, in order
    scores = on_dask.cv_results_["mean_test_score"]
    assert scores.shape == (4,) and np.all(scores > 0.3)
    # The same candidate gives the same score in whichever worker and after
    # whichever other fits it ran: no Keras state carries over between tasks.
    np.testing.assert_allclose(scores, local.cv_results_["mean_test_score"], atol=1e-5)
    # Both workers ran tasks and chose JAX by themselves.
    backends = client.run(lambda: __import__("keras").backend.backend())
    assert len(backends) == 2 and set(backends.values()) == {"jax"}
    assert set(client.run(lambda: os.environ.get("KERAS_BACKEND")).values()) == {"jax"}


def _fit_on_worker(estimator, X, y):
    return estimator.fit(X, y)


def test_fitted_estimators_with_custom_layers_travel_both_ways(client, data):
    """A network with skqrnn's Dequantize layer is fitted on a worker and used here."""
    X, Y = data
    Xq = np.clip(np.round(X * 40 + 128), 0, 255).astype(np.uint8)
    future = client.submit(_fit_on_worker, DenseNetClassifier(**PARAMS), Xq, Y, pure=False)
    fitted = future.result()
    assert fitted.model_.get_layer("dequantize").__class__.__module__.startswith("skqrnn")
    here = fitted.predict_proba(Xq)
    there = client.submit(lambda est, X: est.predict_proba(X), fitted, Xq).result()
    np.testing.assert_allclose(here, there, atol=1e-6)
    refit_here = DenseNetClassifier(**PARAMS).fit(Xq, Y).predict_proba(Xq)
    np.testing.assert_allclose(here, refit_here, atol=1e-5)
