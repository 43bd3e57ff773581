"""
Frame-level QRNN: labels that depend on the order of events
===========================================================

Video-level features are a mean over frames: they cannot say whether event
A came before event B. This example writes synthetic *frame-level*
YouTube-8M shards with :func:`skqrnn.datasets.make_yt8m`, in which some labels
are exactly that ("A before B" and "B before A" are two different classes with
the same mean frame), reads them back as quantized ``uint8`` frames with
:func:`skqrnn.io.load_yt8m`, and compares

* a :class:`~skqrnn.QRNNClassifier` on 20 frames sampled in time order by
  :class:`~skqrnn.preprocessing.FrameSampler`, with
* a :class:`~skqrnn.DenseNetClassifier` on the mean over each video's real
  frames,

scored by GAP@20 (:func:`skqrnn.metrics.global_average_precision`) and by how
often each model tells the two orders apart.
"""

import os
import shutil
import tempfile

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skqrnn import DenseNetClassifier, QRNNClassifier
from skqrnn.datasets import make_yt8m, order_accuracy, temporal_class_pairs
from skqrnn.io import dequantize, load_yt8m
from skqrnn.metrics import global_average_precision
from skqrnn.preprocessing import FrameSampler, infer_lengths

# SKQRNN_EXAMPLE_FAST=1 (set by the test suite) uses fewer videos and epochs.
FAST = os.environ.get("SKQRNN_EXAMPLE_FAST") == "1"

# %%
# Synthetic frame-level shards
# ----------------------------
# 100 classes; the last ``2 * N_PAIRS`` are *order classes*, in pairs
# ``(c, c + 1)``: class ``c`` when event A happens before event B in the
# video, class ``c + 1`` when B happens before A (half of the videos have
# one). The shards are real TFRecords of ``tf.train.SequenceExample``
# (TensorFlow reads them too).
N_CLASSES, N_PAIRS, MAX_FRAMES = 100, 2, 60
directory = tempfile.mkdtemp()
paths = make_yt8m(800 if FAST else 1600, n_classes=N_CLASSES, level="frame",
                  n_frames=(30, MAX_FRAMES), n_temporal_pairs=N_PAIRS, temporal_rate=0.5,
                  n_shards=4, directory=directory, random_state=0)
# uint8 frames, 4x less memory than float32: the networks dequantize them in
# their first layer. Shorter videos are padded with frames of 127 bytes.
train = load_yt8m(paths[:3], level="frame", n_classes=N_CLASSES, max_frames=MAX_FRAMES,
                  dequantize=False)
test = load_yt8m(paths[3:], level="frame", n_classes=N_CLASSES, max_frames=MAX_FRAMES,
                 dequantize=False)
print(f"train X {train.X.shape} {train.X.dtype}, test X {test.X.shape}; "
      f"frames per video {train.n_frames.min()}-{train.n_frames.max()}")
pairs = temporal_class_pairs(N_CLASSES, N_PAIRS)  # (N_PAIRS, 2): the order classes
order_classes = pairs.ravel()
has_order = np.asarray(test.y[:, order_classes].sum(axis=1)).ravel() > 0
print(f"{has_order.mean():.0%} of the test videos have an order label")


# %%
# Two models
# ----------
# The QRNN reads 20 frames per video, drawn from its real frames and kept in
# time order. Its ``readout="last"`` is the state at the last frame, which
# has seen the events in order (the bidirectional layer adds the backward
# state at the first frame); a mean of the states over time learns the
# order labels much more slowly.
#
# The mean over frames must skip the padding frames: ``infer_lengths`` finds
# each video's real length from the trailing padding.
def mean_over_real_frames(X):
    lengths = infer_lengths(X)
    real = (np.arange(X.shape[1])[None, :] < lengths[:, None]).astype(np.float32)
    sums = np.einsum("ntf,nt->nf", dequantize(X), real)
    return sums / np.maximum(lengths, 1)[:, None]


common = dict(epochs=8 if FAST else 15, batch_size=32, learning_rate=3e-3, random_state=0)
if FAST:
    qrnn_params = dict(units=64)
    densenet_params = dict(stem_units=128, growth_rate=32, block_layers=(2,))
else:
    qrnn_params = dict(units=128, bidirectional=True)
    densenet_params = {}
qrnn = make_pipeline(FrameSampler(n_frames=20, random_state=0),
                     QRNNClassifier(readout="last", **qrnn_params, **common))
densenet = make_pipeline(FunctionTransformer(mean_over_real_frames),
                         DenseNetClassifier(**densenet_params, **common))
models = {"QRNN on 20 sampled frames": qrnn, "DenseNet on the mean frame": densenet}
for name, model in models.items():
    model.fit(train.X, train.y)

# %%
# Scores
# ------
# GAP@20 over all classes, and the *order accuracy*: for each test video with
# an order label ``c``, does the model score ``c`` above its partner (the
# same two events in the other order)? Both orders have the same mean frame,
# so the DenseNet can only guess (about 50%).
for name, model in models.items():
    proba = model.predict_proba(test.X)
    gap = global_average_precision(test.y, proba)
    order_acc = order_accuracy(test.y, proba, pairs)
    print(f"{name:<27} GAP@20 {gap:.3f}  order accuracy {order_acc:.0%} "
          f"({has_order.sum()} videos)")

shutil.rmtree(directory)
