"""scikit-learn's own estimator checks on skqrnn's classifiers."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skqrnn import DCQRNNClassifier, DenseNetClassifier, QRNNClassifier


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
