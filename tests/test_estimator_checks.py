"""scikit-learn's own estimator checks on skqrnn's classifiers."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skqrnn import DCQRNNClassifier, DenseNetClassifier, QRNNClassifier
from skqrnn.base import load_model
from skqrnn.baselines import LogisticClassifier, MLPBaselineClassifier


pytestmark = pytest.mark.usefixtures("jax_compilation_cache")


# Small and fast: the checks fit about a hundred times on tiny data sets, and
# each fit of a new network costs a JAX trace (and a compile per new input
# shape). One dense layer keeps the graph small; a batch larger than every
# check data set makes an epoch one full-batch step, so each data set
# compiles one training step.
FAST_DENSENET = DenseNetClassifier(
    stem_units=16, growth_rate=16, block_layers=(1,), input_batchnorm=False, dropout=0.0,
    epochs=40, batch_size=512, learning_rate=0.03, random_state=0,
)

# The checks give 2-D X only, so they run the sequence models' video-level
# path (one step per vector, the default timesteps): the same estimator code,
# with the recurrence over a one-step sequence.
FAST_QRNN = QRNNClassifier(
    units=16, input_batchnorm=False, dropout=0.0, epochs=40, batch_size=512,
    learning_rate=0.03, random_state=0,
)
FAST_DCQRNN = DCQRNNClassifier(
    growth_rate=8, block_layers=(1,), input_batchnorm=False, dropout=0.0, epochs=40,
    batch_size=512, learning_rate=0.03, random_state=0,
)

EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data": (
        "sample_weight scales each sample's loss, but batch normalization computes its "
        "batch statistics from the samples as they are, so weighting a sample by 2 is not "
        "the same network as repeating it (scikit-learn lists MLPClassifier's stochastic "
        "solvers as failing this check too)."
    ),
}


@parametrize_with_checks([FAST_DENSENET, FAST_QRNN, FAST_DCQRNN],
                         expected_failed_checks=lambda est: EXPECTED_FAILED)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# Grids built with numpy (``np.arange(64, 257, 64)``, ``np.linspace``) hand
# the estimator numpy scalars, not Python numbers: every numeric
# hyperparameter must take them, and the network built from them must still
# save (its config is JSON).
NUMPY_TYPED = [
    (DenseNetClassifier, dict(stem_units=np.int64(8), growth_rate=np.int32(4),
                              block_layers=(np.int64(1), np.int64(1)), bottleneck=True,
                              compression=np.float32(0.5), dropout=np.float32(0.25))),
    (QRNNClassifier, dict(units=np.int64(8), n_layers=np.int64(2), window=np.int64(2),
                          timesteps=np.int64(2), max_frames=np.int64(10),
                          zoneout=np.float32(0.1), dropout=np.float32(0.25))),
    (DCQRNNClassifier, dict(growth_rate=np.int64(4), block_layers=(np.int64(1), np.int64(1)),
                            window=np.int64(2), timesteps=np.int64(2),
                            compression=np.float32(0.5), zoneout=np.float32(0.1),
                            dropout=np.float32(0.25))),
    (MLPBaselineClassifier, dict(hidden_units=np.int64(8), dropout=np.float32(0.25))),
    (LogisticClassifier, dict(l2=np.float32(1e-4))),
]
NUMPY_SHARED = dict(epochs=np.int64(2), batch_size=np.int64(16),
                    learning_rate=np.float32(0.01), patience=np.int64(1),
                    threshold=np.float32(0.5), top_k=np.int64(2), random_state=np.int64(0))


@pytest.mark.parametrize("cls, params", NUMPY_TYPED, ids=lambda v: getattr(v, "__name__", ""))
def test_numpy_scalar_hyperparameters(cls, params, tmp_path):
    rng = np.random.RandomState(0)
    X = rng.randn(40, 6).astype(np.float32)
    Y = (X[:, :3] > 0).astype(int)
    est = cls(**params, **NUMPY_SHARED).fit(X, Y)
    assert est.predict(X).shape == Y.shape
    est.save(tmp_path / "model.keras")
    np.testing.assert_allclose(load_model(tmp_path / "model.keras").predict_proba(X),
                               est.predict_proba(X), rtol=1e-6)
