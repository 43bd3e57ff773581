"""
Training on shards that are not loaded in memory
================================================

The full YouTube-8M training set is hundreds of gigabytes. skqrnn estimators
train on a *stream* of ``(X, y)`` batches instead of arrays:
:func:`skqrnn.io.iter_yt8m` reads TFRecord shards batch by batch, shuffling
the shard order, interleaving shards and passing the records through a
shuffle buffer (as ``tf.data`` does), so memory stays bounded whatever the
number of shards. This example uses the six real YouTube-8M video-level
shards shipped with skqrnn (:func:`skqrnn.datasets.sample_paths`): four for
training, one for validation, one for the final test, which is scored batch by
batch by the streaming evaluator :class:`skqrnn.metrics.YT8MEvaluator`.
"""

import os

from skqrnn import DenseNetClassifier
from skqrnn.datasets import sample_paths
from skqrnn.io import iter_yt8m, load_yt8m
from skqrnn.metrics import YT8MEvaluator, global_average_precision

# SKQRNN_EXAMPLE_FAST=1 (set by the test suite) trains a smaller DenseNet for fewer epochs.
FAST = os.environ.get("SKQRNN_EXAMPLE_FAST") == "1"
EPOCHS = 2 if FAST else 20
SMALL = dict(stem_units=128, growth_rate=32, block_layers=(2,)) if FAST else {}

shards = sample_paths()
train_shards, val_shards, test_shards = shards[:4], shards[4:5], shards[5:]

# %%
# ``fit`` on a stream
# -------------------
# ``iter_yt8m(..., epochs=1)`` is re-iterable: ``fit`` reads it once per
# epoch, and each pass reshuffles the shards and records (with the seed
# ``random_state``, so the run is reproducible). Keras needs the number of
# batches per epoch, which the stream knows (``len``) without reading it.
# ``validation_data`` streams the validation shard after every epoch, for
# ``val_loss`` and ``val_gap`` (GAP@20).
train_stream = iter_yt8m(train_shards, batch_size=128, shuffle=True, shuffle_buffer=512,
                         random_state=0)
val_stream = iter_yt8m(val_shards, batch_size=256, shuffle=False)
print(f"{len(train_stream)} training batches of up to 128 videos per epoch")

model = DenseNetClassifier(epochs=EPOCHS, random_state=0, **SMALL)
model.fit(train_stream, validation_data=val_stream)
for epoch, (loss, val_loss, val_gap) in enumerate(zip(
        model.history_["loss"], model.history_["val_loss"], model.history_["val_gap"]), 1):
    print(f"epoch {epoch:2d}  loss {loss:.4f}  val_loss {val_loss:.4f}  val GAP@20 {val_gap:.3f}")

# %%
# ``partial_fit``: your own training loop
# ---------------------------------------
# ``partial_fit`` trains one epoch per call, continuing from the current
# weights: here it goes on training the fitted model over the whole stream,
# evaluating on the validation shard after each epoch with the streaming
# evaluator (for example to stop on a rule of your own). It also takes one
# array chunk at a time: ``for X, y in iter_yt8m(...): model.partial_fit(X, y)``.
for epoch in range(EPOCHS + 1, EPOCHS + (2 if FAST else 4)):
    model.partial_fit(train_stream)
    evaluator = YT8MEvaluator(top_k=20)
    for X, y in val_stream:
        evaluator.update(y, model.predict_proba(X))
    print(f"epoch {epoch:2d} (partial_fit)  val GAP@20 {evaluator.result()['gap']:.3f}")

# %%
# Streaming evaluation
# --------------------
# :class:`~skqrnn.metrics.YT8MEvaluator` keeps only each video's top 20
# predictions, so the test set never needs to be in memory either. Its
# result equals the metric functions applied to all the predictions at once,
# as the check on the (small) test shard shows.
evaluator = YT8MEvaluator(top_k=20)
for X, y in iter_yt8m(test_shards, batch_size=100, shuffle=False):
    evaluator.update(y, model.predict_proba(X))
result = evaluator.result()
print("test: " + "  ".join(f"{k} {v:.3f}" for k, v in result.items() if k != "n_videos")
      + f"  ({result['n_videos']} videos)")

test = load_yt8m(test_shards)
in_memory = global_average_precision(test.y, model.predict_proba(test.X))
print(f"same GAP@20 from the whole test shard in memory: {in_memory:.3f}")
