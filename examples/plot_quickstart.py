"""
Quickstart: DenseNet on real YouTube-8M video-level features
============================================================

Load the real YouTube-8M shards shipped with skqrnn, fit a
:class:`~skqrnn.DenseNetClassifier`, and score it with Google's GAP@20 next to
the logistic model of Google's starter code.
"""

import os

from skqrnn import DenseNetClassifier
from skqrnn.baselines import LogisticClassifier
from skqrnn.datasets import sample_paths
from skqrnn.io import load_yt8m
from skqrnn.metrics import global_average_precision, hit_at_k

# SKQRNN_EXAMPLE_FAST=1 (set by the test suite) trains a smaller DenseNet for fewer epochs.
FAST = os.environ.get("SKQRNN_EXAMPLE_FAST") == "1"
EPOCHS = 3 if FAST else 10
SMALL = dict(stem_units=128, growth_rate=32, block_layers=(2,)) if FAST else {}

shards = sample_paths()
train = load_yt8m(shards[:-1])  # X: (n, 1152) float32, y: sparse (n, 3862) indicator
test = load_yt8m(shards[-1:])
print(f"train {train.X.shape}, test {test.X.shape}, labels per video "
      f"{train.y.sum(axis=1).mean():.1f}")

# %%
# Fit and score. ``score`` is GAP@20 for multi-label targets.
densenet = DenseNetClassifier(epochs=EPOCHS, random_state=0, **SMALL).fit(train.X, train.y)
logistic = LogisticClassifier(epochs=EPOCHS, random_state=0).fit(train.X, train.y)
for name, model in [("DenseNet", densenet), ("logistic", logistic)]:
    proba = model.predict_proba(test.X)
    print(f"{name:<9} GAP@20 {global_average_precision(test.y, proba):.3f}  "
          f"Hit@1 {hit_at_k(test.y, proba):.3f}  parameters {model.model_.count_params():,}")

# %%
# ``predict`` gives the indicator matrix of labels above ``threshold``
# (``top_k`` keeps at most that many per video). Few of 3862 labels reach the
# default 0.5 after a short training, so this lowers the threshold. The
# matrix is sparse (CSR) because the training ``y`` was.
labels = densenet.set_params(threshold=0.1, top_k=3).predict(test.X[:2])
print("predicted labels of the first two test videos:",
      [row.indices.tolist() for row in labels])
print("their true labels:", [row.indices.tolist() for row in test.y[:2]])
