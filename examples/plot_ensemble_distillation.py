"""
Ensembles and distillation: one light model with an ensemble's quality
======================================================================

Average several classifiers -- skqrnn networks and a scikit-learn
estimator -- with :class:`~skqrnn.AveragingClassifier`, its weights fitted
to maximize GAP@20 on held-out videos; then train one small network on the
ensemble's predictions with :class:`~skqrnn.DistilledClassifier`, and
compare it with the same network trained on the labels alone.
"""

import os
import time

from sklearn.frozen import FrozenEstimator
from sklearn.neighbors import KNeighborsClassifier

from skqrnn import AveragingClassifier, DenseNetClassifier, DistilledClassifier
from skqrnn.baselines import MLPBaselineClassifier
from skqrnn.datasets import sample_paths
from skqrnn.ensemble import proba_matrix
from skqrnn.io import load_yt8m
from skqrnn.metrics import global_average_precision

# SKQRNN_EXAMPLE_FAST=1 (set by the test suite) trains smaller networks for fewer epochs.
FAST = os.environ.get("SKQRNN_EXAMPLE_FAST") == "1"
EPOCHS = 3 if FAST else 12

shards = sample_paths()
train = load_yt8m(shards[:-1])  # X: (n, 1152) float32, y: sparse (n, 3862) indicator
test = load_yt8m(shards[-1:])
print(f"train {train.X.shape}, test {test.X.shape}")

# %%
# An ensemble of two networks and a nearest-neighbour model
# ---------------------------------------------------------
# ``weights="gap"`` holds out 20% of the training videos, fits every member on
# the rest, and searches the weights (non-negative, summing to one) that
# maximize GAP@20 of the weighted mean on the held-out videos.
# ``refit=False`` keeps the members fitted on the 80% (``refit=True``, the
# default, fits them again on all the videos: twice the training time).
members = [
    ("densenet", DenseNetClassifier(stem_units=256 if FAST else 1024, growth_rate=64,
                                    epochs=EPOCHS, batch_size="auto", random_state=0)),
    ("mlp", MLPBaselineClassifier(hidden_units=256 if FAST else 1024, epochs=EPOCHS,
                                  batch_size="auto", random_state=0)),
    ("knn", KNeighborsClassifier(n_neighbors=10, metric="cosine")),
]
start = time.perf_counter()
ensemble = AveragingClassifier(members, weights="gap", refit=False, random_state=0)
ensemble.fit(train.X, train.y)
print(f"ensemble fitted in {time.perf_counter() - start:.0f} s; weights "
      + ", ".join(f"{name} {w:.2f}" for name, w in zip(ensemble.named_estimators_,
                                                       ensemble.weights_)))
print("held-out GAP@20 used to fit the weights: "
      + ", ".join(f"{k} {v:.3f}" for k, v in ensemble.validation_scores_.items()))

# %%
# GAP@20 of each member and of the ensemble on the test shard.
# :func:`~skqrnn.ensemble.proba_matrix` turns the list of per-label arrays
# that scikit-learn's multi-label ``KNeighborsClassifier`` returns into one
# ``(n_videos, n_labels)`` matrix, as the ensemble does.
for name, member in ensemble.named_estimators_.items():
    proba = proba_matrix(member, test.X, multilabel=True)
    print(f"{name:<9} {global_average_precision(test.y, proba):.3f}")
print(f"ensemble  {ensemble.score(test.X, test.y):.3f}")

# %%
# Distillation into one small network
# -----------------------------------
# The student is a small MLP. Trained on the labels alone, it is the
# baseline; distilled, it is trained on ``alpha * labels + (1 - alpha) *
# teacher probabilities`` (``soft_targets=True`` is set on it for you).
#
# The ensemble is already fitted, so it is passed frozen
# (:class:`sklearn.frozen.FrozenEstimator`) with ``cv=None``: its in-sample
# probabilities on the training videos are used. Given an unfitted teacher,
# ``DistilledClassifier`` uses out-of-fold probabilities by default
# (``cv=3``), which carry more of what the teacher predicts on unseen videos,
# for three more fits of the teacher. (In-sample, each video is one of its
# own 10 nearest neighbours: the k-NN member is a little optimistic there.)
student = MLPBaselineClassifier(hidden_units=128 if FAST else 512, epochs=EPOCHS,
                                batch_size="auto", random_state=0)
alone = student.fit(train.X, train.y)
distilled = DistilledClassifier(FrozenEstimator(ensemble), student, alpha=0.5,
                                temperature=1.0, cv=None).fit(train.X, train.y)

for name, model in [("student on labels", alone), ("distilled student", distilled),
                    ("teacher ensemble", ensemble)]:
    start = time.perf_counter()
    proba = model.predict_proba(test.X)
    elapsed = time.perf_counter() - start
    print(f"{name:<18} GAP@20 {global_average_precision(test.y, proba):.3f}  "
          f"predicts the test shard in {elapsed:.2f} s")
print(f"student parameters: {distilled.student_.model_.count_params():,}")

# %%
# Both estimators save to a directory (or a ``.zip``): each skqrnn network as
# its ``.keras`` file, scikit-learn members with joblib, and a JSON
# description. ``AveragingClassifier.load`` / ``DistilledClassifier.load``
# restore them.
ensemble.save("ensemble.zip")
again = AveragingClassifier.load("ensemble.zip")
print("reloaded ensemble GAP@20:", round(again.score(test.X, test.y), 3))
