"""
Save, load and write a Kaggle submission
========================================

A fitted estimator saves to one ``.keras`` file (an ordinary Keras model file
with the estimator's parameters inside); :func:`skqrnn.base.load_model` gives
the estimator back, and :func:`skqrnn.submission.write_submission` writes the
2018 challenge's ``VideoId,LabelConfidencePairs`` CSV. The command line does
the same with ``skqrnn train``, ``skqrnn predict``.
"""

import os
import pickle
import tempfile

import numpy as np

from skqrnn import DenseNetClassifier
from skqrnn.base import load_model
from skqrnn.datasets import sample_paths
from skqrnn.io import load_yt8m
from skqrnn.submission import write_submission

# SKQRNN_EXAMPLE_FAST=1 (set by the test suite) trains a smaller DenseNet for one epoch.
FAST = os.environ.get("SKQRNN_EXAMPLE_FAST") == "1"
SMALL = dict(stem_units=128, growth_rate=32, block_layers=(2,)) if FAST else {}

shards = sample_paths()
train, test = load_yt8m(shards[:-1]), load_yt8m(shards[-1:])
model = DenseNetClassifier(epochs=1 if FAST else 5, random_state=0, **SMALL)
model.fit(train.X, train.y)

directory = tempfile.mkdtemp()
path = os.path.join(directory, "densenet.keras")
model.save(path)
restored = load_model(path)
assert np.array_equal(restored.predict_proba(test.X), model.predict_proba(test.X))
# Pickle (and joblib) work too, e.g. for sending a model to a cluster.
assert np.array_equal(pickle.loads(pickle.dumps(model)).predict_proba(test.X),
                      model.predict_proba(test.X))

submission = os.path.join(directory, "submission.csv")
with open(submission, "w", newline="") as f:
    write_submission(f, test.ids, restored.predict_proba(test.X), top_k=20)
with open(submission) as f:
    print("".join(f.readlines()[:3])[:300])
print(f"model: {os.path.getsize(path) / 2**20:.1f} MB at {path}")
