"""skqrnn.ensemble: AveragingClassifier, DistilledClassifier, and soft targets."""

import pickle

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

import skqrnn  # noqa: F401  (chooses the Keras backend before anything imports keras)
from skqrnn import AveragingClassifier, DenseNetClassifier, DistilledClassifier
from skqrnn.baselines import LogisticClassifier, MLPBaselineClassifier
from skqrnn.ensemble import fit_gap_weights, proba_matrix, temper
from skqrnn.metrics import gap_scorer, global_average_precision

pytestmark = pytest.mark.usefixtures("jax_compilation_cache")


def tiny_densenet(**kw):
    params = dict(stem_units=8, growth_rate=4, block_layers=(1,), input_batchnorm=False,
                  dropout=0.0, epochs=3, batch_size=64, learning_rate=0.02, random_state=0)
    params.update(kw)
    return DenseNetClassifier(**params)


def linear_multilabel(n, seed=0, d=8, n_labels=5, noise=0.5):
    rng = np.random.RandomState(seed)
    W = np.random.RandomState(123).randn(d, n_labels)
    X = rng.randn(n, d).astype(np.float32)
    Y = (X @ W + noise * rng.randn(n, n_labels) > 0.5).astype(np.int64)
    return X, Y


def ovr_lr():
    return OneVsRestClassifier(LogisticRegression())


def mixed_ensemble(**kw):
    return AveragingClassifier([
        ("densenet", tiny_densenet()),
        ("knn", KNeighborsClassifier(10)),
        ("forest", RandomForestClassifier(10, max_depth=4, random_state=0)),
        ("lr", ovr_lr()),
    ], **kw)


@pytest.fixture(scope="module")
def data():
    X, Y = linear_multilabel(300)
    return X[:200], Y[:200], X[200:], Y[200:]


@pytest.fixture(scope="module")
def fitted_mixed(data):
    X, Y, _, _ = data
    # refit=False: one fit of each member (the refit path: test_refit_false_...).
    return mixed_ensemble(weights="gap", refit=False, random_state=0).fit(X, Y)


# ---------------------------------------------------------- sklearn's checks
# scikit-learn members only: the checks fit about a hundred times, and a
# network member would compile a new JAX program at each fit (the skqrnn
# networks pass these checks on their own, tests/test_estimator_checks.py).
# Both members take sample_weight, multi-label and 1-D targets.
CHECKED = [
    AveragingClassifier([("tree", DecisionTreeClassifier(max_depth=6, random_state=0)),
                         ("extra", ExtraTreesClassifier(5, bootstrap=False, random_state=0))]),
    AveragingClassifier([("tree", DecisionTreeClassifier(max_depth=6, random_state=0)),
                         ("extra", ExtraTreesClassifier(5, bootstrap=False, random_state=0))],
                        weights="gap", random_state=0),
]


def _expected_failures(est):
    if est.weights != "gap":
        return {}
    why = ("weights='gap' holds out a random fraction of the samples to fit the weights; "
           "repeating a sample changes which samples are held out, so weighting is not "
           "the same as repeating.")
    return {"check_sample_weight_equivalence_on_dense_data": why,
            "check_sample_weight_equivalence_on_sparse_data": why}


@parametrize_with_checks(CHECKED, expected_failed_checks=_expected_failures)
def test_sklearn_checks(estimator, check):
    check(estimator)


# ------------------------------------------------------------ parameters
def test_nested_params_clone_set_params():
    ens = mixed_ensemble(weights=[1, 1, 1, 2])
    params = ens.get_params()
    assert params["densenet__growth_rate"] == 4
    assert params["knn__n_neighbors"] == 10
    assert params["lr__estimator__C"] == 1.0
    assert "estimators" in params and "weights" in params
    ens.set_params(densenet__growth_rate=16, knn="drop", lr__estimator__C=0.5)
    assert ens.named_estimators.densenet.growth_rate == 16
    assert ens.named_estimators.knn == "drop"
    twin = clone(ens)
    assert twin.named_estimators.densenet is not ens.named_estimators.densenet
    assert twin.get_params()["densenet__growth_rate"] == 16
    assert twin.get_params()["lr__estimator__C"] == 0.5

    dist = DistilledClassifier(mixed_ensemble(), LogisticClassifier(epochs=2))
    deep = dist.get_params()
    assert deep["teacher__densenet__growth_rate"] == 4
    assert deep["student__epochs"] == 2
    dist.set_params(teacher__densenet__growth_rate=8, student__epochs=5, alpha=0.3)
    assert clone(dist).get_params()["teacher__densenet__growth_rate"] == 8
    assert clone(dist).student.epochs == 5


@pytest.mark.parametrize("bad, match", [
    (dict(estimators=[("a", ovr_lr()), ("a", ovr_lr())]), "not unique"),
    (dict(estimators=[("a__b", ovr_lr())]), "must not contain __"),
    (dict(estimators=[("weights", ovr_lr())]), "conflict"),
    (dict(estimators=[("a", StandardScaler())]), "predict_proba"),
    (dict(estimators=[("a", "drop")]), "at least one"),
    (dict(estimators=[("a", ovr_lr())], weights=[1, 2]), "one per estimator"),
    (dict(estimators=[("a", ovr_lr())], weights=[-1]), "weights must be"),
    (dict(estimators=[("a", ovr_lr())], validation_fraction=1.0), "validation_fraction"),
    (dict(estimators=[("a", KNeighborsClassifier())]), "sample_weight"),
])
def test_averaging_refuses_bad_parameters(bad, match):
    X, Y = linear_multilabel(40)
    sample_weight = np.ones(40) if match == "sample_weight" else None
    with pytest.raises(ValueError, match=match):
        AveragingClassifier(**bad).fit(X, Y, sample_weight=sample_weight)


# ------------------------------------------------------------ averaging
def test_sklearn_list_probabilities_are_label_columns():
    X, Y = linear_multilabel(120)
    Y[:, 2] = 0  # a label without positives: the forest gives it one column, class 0
    forest = RandomForestClassifier(10, random_state=0).fit(X, Y)
    raw = forest.predict_proba(X)
    assert isinstance(raw, list) and raw[2].shape == (120, 1)
    P = proba_matrix(forest, X, multilabel=True)
    assert P.shape == Y.shape
    np.testing.assert_array_equal(P[:, 2], 0.0)
    np.testing.assert_allclose(P[:, 0], raw[0][:, 1])
    ens = AveragingClassifier([("forest", forest), ("lr", ovr_lr())]).fit(X, Y)
    proba = ens.predict_proba(X)
    assert proba.shape == Y.shape and proba.min() > 0 and proba.max() < 1


def test_mixed_members_gap_weights_and_predict(fitted_mixed, data):
    _, _, Xt, Yt = data
    ens = fitted_mixed
    assert ens.weights_.shape == (4,)
    assert np.all(ens.weights_ >= 0) and np.isclose(ens.weights_.sum(), 1.0)
    scores = ens.validation_scores_
    assert set(scores) == {"densenet", "knn", "forest", "lr", "ensemble"}
    assert scores["ensemble"] >= max(v for k, v in scores.items() if k != "ensemble")
    proba = ens.predict_proba(Xt)
    expected = sum(w * proba_matrix(e, Xt, multilabel=True)
                   for w, e in zip(ens.weights_, ens.estimators_))
    np.testing.assert_allclose(proba, np.clip(expected, 1e-7, 1 - 1e-7))
    assert ens.score(Xt, Yt) == pytest.approx(global_average_precision(Yt, proba))
    assert ens.n_features_in_ == Xt.shape[1]
    labels = ens.set_params(threshold=0.0, top_k=2).predict(Xt)
    assert labels.dtype == Yt.dtype and np.all(labels.sum(axis=1) == 2)


def test_gap_weights_beat_every_member_on_complementary_members():
    # Each label depends on two features; one member sees the first of each
    # pair, the other the second: either alone ranks poorly, their mean well.
    rng = np.random.RandomState(0)
    n, L = 900, 4
    X = rng.randn(n, 2 * L + 2).astype(np.float32)
    Y = (X[:, :L] + X[:, L:2 * L] + 0.3 * rng.randn(n, L) > 0.8).astype(int)

    def half(cols):
        return make_pipeline(ColumnTransformer([("cols", "passthrough", cols)]), ovr_lr())

    members = [("first", half(list(range(L)))), ("second", half(list(range(L, 2 * L)))),
               ("noise", half([2 * L, 2 * L + 1]))]
    ens = AveragingClassifier(members, weights="gap", random_state=0).fit(X[:600], Y[:600])
    assert np.isclose(ens.weights_.sum(), 1.0) and np.all(ens.weights_ >= 0)
    assert ens.weights_[2] < min(ens.weights_[:2])  # the uninformative member counts least
    test = {name: global_average_precision(Y[600:], proba_matrix(e, X[600:], multilabel=True))
            for name, e in ens.named_estimators_.items()}
    assert ens.score(X[600:], Y[600:]) > max(test.values()) + 0.02


def test_fit_gap_weights_is_at_least_the_best_member():
    rng = np.random.RandomState(1)
    Y = (rng.rand(150, 6) < 0.3).astype(int)
    probas = [np.clip(Y + s * rng.randn(*Y.shape), 0, 1) for s in (0.4, 0.8, 2.0)]
    weights, best = fit_gap_weights(probas, Y)
    assert np.isclose(weights.sum(), 1.0) and np.all(weights >= 0)
    assert best >= max(global_average_precision(Y, p) for p in probas)
    assert best == pytest.approx(global_average_precision(Y, sum(w * p for w, p in
                                                                 zip(weights, probas))))


def test_refit_false_keeps_members_of_the_split():
    X, Y = linear_multilabel(150)
    kept = AveragingClassifier([("lr", ovr_lr()), ("knn", KNeighborsClassifier(5))],
                               weights="gap", refit=False, random_state=0).fit(X, Y)
    refit = clone(kept).set_params(refit=True).fit(X, Y)
    np.testing.assert_array_equal(kept.weights_, refit.weights_)
    assert kept.estimators_[1].n_samples_fit_ == 150 - 30
    assert refit.estimators_[1].n_samples_fit_ == 150


def test_one_d_targets_and_sparse_y():
    X, Y = linear_multilabel(160)
    labels = np.array(["cat", "dog", "eel"])[Y[:, 0] + Y[:, 1]]
    ens = AveragingClassifier([("lr", LogisticRegression()), ("knn", KNeighborsClassifier(7))],
                              weights="gap", random_state=0).fit(X, labels)
    assert list(ens.classes_) == ["cat", "dog", "eel"]
    proba = ens.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(ens.predict(X)) <= set(ens.classes_) and ens.score(X, labels) > 0.6

    Ys = sp.csr_matrix(Y)
    ens = AveragingClassifier([("lr", ovr_lr()), ("knn", KNeighborsClassifier(7))]).fit(X, Ys)
    pred = ens.predict(X)
    assert sp.issparse(pred) and pred.shape == Y.shape


def test_parallel_member_fits_match_sequential():
    X, Y = linear_multilabel(120)
    members = [("lr", ovr_lr()), ("forest", RandomForestClassifier(5, random_state=0))]
    one = AveragingClassifier(members).fit(X, Y)
    # Threads: loky's worker processes would add ~15 s of start-up (members
    # pickle, as test_pickle_round_trip shows).
    with joblib.parallel_config(backend="threading"):
        two = AveragingClassifier(members, n_jobs=2).fit(X, Y)
    np.testing.assert_allclose(one.predict_proba(X), two.predict_proba(X))


def test_grid_search_over_a_member_parameter(data):
    X, Y, _, _ = data
    ens = AveragingClassifier([("densenet", tiny_densenet(epochs=2)), ("lr", ovr_lr())])
    search = GridSearchCV(ens, {"densenet__growth_rate": [4, 8]}, scoring=gap_scorer, cv=2)
    search.fit(X, Y)
    assert search.best_params_["densenet__growth_rate"] in (4, 8)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_.named_estimators_.densenet.growth_rate \
        == search.best_params_["densenet__growth_rate"]


# --------------------------------------------------------- persistence
@pytest.mark.parametrize("name", ["saved_dir", "saved.zip"])
def test_save_load_round_trip(fitted_mixed, data, tmp_path, name):
    _, _, Xt, _ = data
    path = tmp_path / name
    fitted_mixed.save(path)
    fitted_mixed.save(path)  # replacing an earlier save
    loaded = AveragingClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(Xt), fitted_mixed.predict_proba(Xt))
    np.testing.assert_array_equal(loaded.weights_, fitted_mixed.weights_)
    assert loaded.validation_scores_ == fitted_mixed.validation_scores_
    assert loaded.get_params()["densenet__growth_rate"] == 4
    assert isinstance(loaded.named_estimators_.densenet, DenseNetClassifier)
    with pytest.raises(ValueError, match="holds a AveragingClassifier"):
        DistilledClassifier.load(path)
    # skqrnn.load_model reads what any save() wrote, networks and ensembles alike.
    again = skqrnn.load_model(path)
    assert type(again) is AveragingClassifier
    np.testing.assert_array_equal(again.predict_proba(Xt), fitted_mixed.predict_proba(Xt))
    member = tmp_path / "member.keras"
    fitted_mixed.named_estimators_.densenet.save(member)
    assert isinstance(skqrnn.load_model(member), DenseNetClassifier)


def test_load_refuses_a_zip_bomb_before_unpacking(tmp_path):
    import zipfile

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("skqrnn_ensemble.json", "{}")
        archive.writestr("member.joblib", b"\0" * (20 << 20))  # 20 MiB in ~20 kB
    with pytest.raises(ValueError, match="would unpack to more than .* tampered"):
        skqrnn.load_model(bomb)


def test_pickle_round_trip(fitted_mixed, data):
    _, _, Xt, _ = data
    again = pickle.loads(pickle.dumps(fitted_mixed))
    np.testing.assert_array_equal(again.predict_proba(Xt), fitted_mixed.predict_proba(Xt))


def test_save_refuses_a_foreign_directory(fitted_mixed, tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not written by"):
        fitted_mixed.save(tmp_path / "other")
    with pytest.raises(ValueError, match="not written by"):
        AveragingClassifier.load(tmp_path / "other")


# --------------------------------------------------------- soft targets
def test_soft_targets_refused_without_the_opt_in():
    X, Y = linear_multilabel(60)
    soft = Y * 0.7 + 0.1
    soft[0, 0] = 0.3
    with pytest.raises(ValueError, match="soft_targets=True"):
        LogisticClassifier(epochs=1).fit(X, soft)
    with pytest.raises(ValueError, match="soft_targets=True"):
        LogisticClassifier(epochs=1).fit(X, sp.csr_matrix(soft))
    with pytest.raises(ValueError, match="soft_targets"):
        LogisticClassifier(epochs=1, soft_targets="yes").fit(X, Y)
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        LogisticClassifier(epochs=1, soft_targets=True).fit(X, soft * 2)
    with pytest.raises(ValueError, match="2-D"):
        LogisticClassifier(epochs=1, soft_targets=True).fit(X, soft[:, 0])


def test_soft_targets_accepted_with_the_opt_in():
    X, Y = linear_multilabel(200)
    soft = np.clip(Y * 0.8 + 0.1 + 0.05 * np.random.RandomState(0).rand(*Y.shape), 0, 1)
    clf = LogisticClassifier(epochs=3, learning_rate=0.05, soft_targets=True,
                             random_state=0).fit(X, soft, validation_data=(X, Y))
    np.testing.assert_array_equal(clf.classes_, np.arange(Y.shape[1]))
    assert clf.predict_proba(X).shape == Y.shape
    assert len(clf.history_["val_gap"]) == 3  # measured against the hard labels
    # The output layer starts at each label's mean soft target (smoothed as
    # for hard labels: half a sample).
    start = LogisticClassifier(epochs=1, learning_rate=1e-12, soft_targets=True,
                               random_state=0).fit(X, soft)
    prior = (soft.sum(axis=0) + 0.5) / (len(soft) + 1)
    np.testing.assert_allclose(np.asarray(start.model_.get_layer("logits").bias),
                               np.log(prior / (1 - prior)), rtol=1e-4)
    # A validation split of soft targets is scored against their rounding.
    split = LogisticClassifier(epochs=2, soft_targets=True, validation_split=0.25,
                               random_state=0).fit(X, soft)
    assert np.all(np.isfinite(split.history_["val_gap"]))
    # Hard 0/1 targets under the opt-in train as usual.
    hard = LogisticClassifier(epochs=1, soft_targets=True, random_state=0).fit(X, Y)
    assert hard.predict(X).shape == Y.shape


# ---------------------------------------------------------- distillation
def noisy_linear(seed=0, n=300, n_test=1000, d=10, n_labels=6, flip=0.25):
    rng = np.random.RandomState(seed)
    W = rng.randn(d, n_labels)
    X = rng.randn(n + n_test, d).astype(np.float32)
    Y = (X @ W > 0).astype(int)
    noisy = np.where(rng.rand(n, n_labels) < flip, 1 - Y[:n], Y[:n])
    return X[:n], noisy, X[n:], Y[n:]


def test_distilled_student_beats_the_student_on_hard_labels():
    # Labels flipped at random: a wide network trained long on them memorizes
    # the noise; trained on a linear teacher's out-of-fold probabilities it
    # learns the teacher's (correct) decision boundaries.
    X, Y, Xt, Yt = noisy_linear()
    student = MLPBaselineClassifier(hidden_units=128, dropout=0.0, epochs=40,
                                    learning_rate=1e-2, batch_size=64, random_state=0)
    hard = clone(student).fit(X, Y)
    dist = DistilledClassifier(ovr_lr(), student, alpha=0.5, random_state=0).fit(X, Y)
    gap_hard = global_average_precision(Yt, hard.predict_proba(Xt))
    gap_dist = dist.score(Xt, Yt)
    gap_teacher = global_average_precision(Yt, dist.teacher_.predict_proba(Xt))
    assert gap_dist > gap_hard + 0.03, (gap_dist, gap_hard)
    assert gap_dist > gap_teacher - 0.15
    assert dist.student_.soft_targets and not student.soft_targets  # a clone was trained
    np.testing.assert_array_equal(dist.classes_, np.arange(Y.shape[1]))
    assert dist.predict(Xt).shape == Yt.shape and dist.n_features_in_ == X.shape[1]


def test_temper():
    p = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(temper(p, 1.0), p)
    soft = temper(p, 2.0)
    assert soft[0] > 0.1 and soft[1] == pytest.approx(0.5) and soft[2] < 0.9
    np.testing.assert_allclose(temper(p, 2.0)[0], 1 / (1 + np.exp(-np.log(1 / 9) / 2)))


def test_distilled_in_pipeline_grid_search_and_save(data, tmp_path):
    X, Y, Xt, _ = data
    teacher = AveragingClassifier([("lr", ovr_lr()), ("knn", KNeighborsClassifier(10))])
    pipe = Pipeline([("scale", StandardScaler()),
                     ("model", DistilledClassifier(teacher, LogisticClassifier(
                         epochs=3, learning_rate=0.05, random_state=0), cv=None))])
    search = GridSearchCV(pipe, {"model__alpha": [0.0, 1.0],
                                 "model__teacher__knn__n_neighbors": [5]},
                          scoring=gap_scorer, cv=2).fit(X, Y)
    best = search.best_estimator_.named_steps["model"]
    assert best.alpha in (0.0, 1.0)
    best.save(tmp_path / "distilled.zip")
    loaded = DistilledClassifier.load(tmp_path / "distilled.zip")
    Xs = search.best_estimator_.named_steps["scale"].transform(Xt)
    np.testing.assert_array_equal(loaded.predict_proba(Xs), best.predict_proba(Xs))
    assert isinstance(loaded.teacher_, AveragingClassifier)  # a nested ensemble, saved whole
    np.testing.assert_array_equal(loaded.teacher_.predict_proba(Xs),
                                  best.teacher_.predict_proba(Xs))
    assert loaded.get_params()["teacher__knn__n_neighbors"] == 5
    again = pickle.loads(pickle.dumps(best))
    np.testing.assert_array_equal(again.predict_proba(Xs), best.predict_proba(Xs))


def test_distilled_refuses_what_it_cannot_do():
    X, Y = linear_multilabel(60)
    with pytest.raises(ValueError, match="student must be an skqrnn"):
        DistilledClassifier(ovr_lr(), KNeighborsClassifier()).fit(X, Y)
    with pytest.raises(ValueError, match="multi-label"):
        DistilledClassifier(LogisticRegression(), LogisticClassifier()).fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="alpha"):
        DistilledClassifier(ovr_lr(), LogisticClassifier(), alpha=1.5).fit(X, Y)
    with pytest.raises(ValueError, match="temperature"):
        DistilledClassifier(ovr_lr(), LogisticClassifier(), temperature=0).fit(X, Y)
