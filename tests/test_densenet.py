"""DenseNetClassifier: architecture, learning, model selection, real YouTube-8M data."""

import skqrnn  # noqa: F401  (first: it picks the Keras backend before Keras loads)

import doctest
from pathlib import Path

import keras
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skqrnn.base
import skqrnn.densenet
from skqrnn import DenseNetClassifier
from skqrnn.base import KerasClassifierBase, load_model
from skqrnn.metrics import get_scorer, global_average_precision, hit_at_k


pytestmark = pytest.mark.usefixtures("jax_compilation_cache")

SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "yt8m-2018-video-sample"

# Every fit below trains on 64-sample batches (n is a multiple of 64), so the
# networks of one architecture are compiled once (see jax_compilation_cache).
SMALL = dict(stem_units=32, growth_rate=8, block_layers=(2, 3), dropout=0.0, epochs=30,
             batch_size=64, learning_rate=0.03, random_state=0)


def make_multilabel(n=256, n_labels=4, seed=0):
    """Label j is sign(x_j * x_{j+4}) (an XOR): not linearly separable."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 2 * n_labels).astype(np.float32)
    Y = np.stack([X[:, j] * X[:, j + n_labels] > 0 for j in range(n_labels)], axis=1)
    return X, Y.astype(int)


def build(est, n_features, n_outputs):
    """The network ``fit`` would build, without training it."""
    est.n_outputs_, est._target_type = n_outputs, "multilabel-indicator"
    return est._build_keras_model(np.zeros((1, n_features), np.float32))


@pytest.fixture(scope="module")
def data():
    return make_multilabel()


@pytest.fixture(scope="module")
def fitted(data):
    return DenseNetClassifier(**SMALL).fit(*data)


def _width(model, layer_name):
    return model.get_layer(layer_name).input.shape[-1]


def test_dense_connectivity_and_transition_widths(fitted):
    m = fitted.model_
    # Block 1 on the 32-unit stem: layer n reads 32 + 8 (n - 1) units.
    assert _width(m, "block1_layer1_dense") == 32
    assert _width(m, "block1_layer2_dense") == 40
    assert m.get_layer("block1_layer2_dense").units == 8
    # Transition: floor(0.5 * (32 + 2 * 8)) = 24 units, then block 2 grows from 24.
    assert m.get_layer("transition1_dense").units == 24
    assert [_width(m, f"block2_layer{i}_dense") for i in (1, 2, 3)] == [24, 32, 40]
    # The output layer reads the last block's full width, 24 + 3 * 8.
    assert _width(m, "logits") == 48
    assert m.get_layer("probabilities").get_config()["activation"] == "sigmoid"
    names = [layer.name for layer in m.layers]
    assert "input_bn" in names and "final_dropout" in names
    assert not any("bottleneck" in n for n in names)


def test_parameter_count_matches_the_architecture(fitted):
    def dense(n_in, n_out):
        return n_in * n_out + n_out

    bn = 4  # gamma, beta, moving mean, moving variance per unit
    expected = 8 * bn + dense(8, 32)
    width = 32
    for b, n_layers in enumerate((2, 3)):
        for _ in range(n_layers):
            expected += width * bn + dense(width, 8)
            width += 8
        if b == 0:
            expected += width * bn + dense(width, width // 2)
            width //= 2
    expected += 2 * width * bn + dense(width, 4)  # final BN -> ReLU -> BN, then the output
    assert fitted.model_.count_params() == expected


def test_bottleneck_and_compression():
    m = build(DenseNetClassifier(stem_units=16, growth_rate=4, block_layers=(2, 2),
                                 bottleneck=True, compression=0.25), 8, 4)
    assert m.get_layer("block1_layer2_bottleneck").units == 16  # 4 k
    assert _width(m, "block1_layer2_dense") == 16
    assert m.get_layer("transition1_dense").units == 6  # floor(0.25 * 24)


def test_default_model_size_on_youtube8m_shapes():
    model = build(DenseNetClassifier(), 1152, 3862)
    # The lightest configuration measured to beat the 2048-unit MLP baseline
    # (10.3M parameters): a single model of 47 MB of float32 weights, under
    # three times Google's 4.45M-parameter logistic model.
    assert model.count_params() == 11_844_118
    assert model.get_layer("logits").input.shape[-1] == 2304
    assert model.count_params() < 3 * 4.45e6


def test_learns_a_nonlinear_multilabel_problem(data, fitted):
    X, Y = data
    X_test, Y_test = make_multilabel(seed=1)
    assert fitted.score(X, Y) > 0.95
    assert fitted.score(X_test, Y_test) > 0.8


@pytest.mark.parametrize("params, match", [
    ({"block_layers": ()}, "block_layers must be a non-empty sequence"),
    ({"block_layers": (2, 0)}, "block_layers"),
    ({"block_layers": 4}, "block_layers"),
    ({"growth_rate": 0}, "growth_rate must be an integer >= 1"),
    ({"stem_units": 8.0}, "stem_units must be an integer"),
    ({"compression": 0.0}, "compression must be a real number in \\(0.0, 1.0\\]"),
    ({"dropout": 1.0}, "dropout must be a real number in \\[0.0, 1.0\\)"),
])
def test_bad_hyperparameters(data, params, match):
    with pytest.raises(ValueError, match=match):
        DenseNetClassifier(**{**SMALL, **params}).fit(*data)


def test_pipeline_in_grid_search_with_yt8m_scorers(data):
    X, Y = data
    X = X * 50 + 7  # badly scaled features: the scaler's job
    pipe = make_pipeline(StandardScaler(), DenseNetClassifier(**{**SMALL, "epochs": 10}))
    search = GridSearchCV(
        pipe, {"densenetclassifier__learning_rate": [0.01, 0.03]}, cv=KFold(2),
        scoring={"gap": get_scorer("gap"), "hit@1": get_scorer("hit@1")}, refit="gap",
    ).fit(X, Y)
    scores = search.cv_results_["mean_test_gap"]
    assert np.all((scores > 0.5) & (scores <= 1))
    assert np.all(search.cv_results_["mean_test_hit@1"] > 0.5)
    assert search.best_estimator_.predict_proba(X).shape == Y.shape
    assert search.score(X, Y) == pytest.approx(
        global_average_precision(Y, search.predict_proba(X), k=20))


def test_scorers_with_exactly_two_labels(data):
    X, Y = data
    Y2 = Y[:, :2]
    est = DenseNetClassifier(**{**SMALL, "epochs": 5}).fit(X, Y2)
    proba = est.predict_proba(X)
    assert get_scorer("gap")(est, X, Y2) == pytest.approx(
        global_average_precision(Y2, proba, k=20))
    assert get_scorer("hit@1")(est, X, Y2) == pytest.approx(hit_at_k(Y2, proba, k=1))
    assert est.score(X, Y2) == pytest.approx(global_average_precision(Y2, proba, k=20))


def test_save_load_round_trip_via_load_model(fitted, data, tmp_path):
    X, _ = data
    path = tmp_path / "densenet.keras"
    fitted.save(path)
    for loaded in (load_model(path), DenseNetClassifier.load(path),
                   KerasClassifierBase.load(path)):
        assert type(loaded) is DenseNetClassifier
        assert loaded.get_params() == fitted.get_params()  # block_layers stays a tuple
        np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))


@pytest.mark.slow
def test_grid_search_with_two_loky_workers(data):
    X, Y = data
    search = GridSearchCV(
        DenseNetClassifier(**{**SMALL, "epochs": 5}), {"dropout": [0.0, 0.2]}, cv=KFold(2),
        scoring=get_scorer("gap"), n_jobs=2,
    ).fit(X, Y)
    assert np.all(search.cv_results_["mean_test_score"] > 0.4)
    assert search.best_estimator_.predict(X).shape == Y.shape


def test_docstring_examples():
    for module in (skqrnn.densenet, skqrnn.base):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0, module.__name__


@pytest.mark.slow
def test_real_youtube8m_sample_beats_label_prior():
    if not SAMPLE.is_dir():
        pytest.skip(f"the shared YouTube-8M sample is not at {SAMPLE}")
    from skqrnn.io import load_yt8m

    shards = sorted(SAMPLE.glob("validate*.tfrecord"))
    train, test = load_yt8m(shards[:8]), load_yt8m(shards[16:18])
    est = DenseNetClassifier(stem_units=256, growth_rate=64, block_layers=(2,), epochs=10,
                             random_state=0).fit(train.X, train.y)
    gap = est.score(test.X, test.y)
    prior = np.asarray(train.y.mean(axis=0)).ravel()
    prior_gap = global_average_precision(test.y, np.tile(prior, (test.X.shape[0], 1)), k=20)
    # Measured: 0.507 against 0.036 for the prior (2,400 training videos).
    assert gap > prior_gap + 0.35, (gap, prior_gap)
    assert isinstance(est.model_, keras.Model) and est.n_outputs_ == 3862
