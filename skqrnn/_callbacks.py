"""The Keras callbacks ``fit`` adds: validation GAP, strict early stopping, checkpoints.

They know the estimator only through what they are given (a batch source,
a function that saves); nothing here imports the estimators.
"""

import time

import keras

from ._data import predict_array
from ._targets import one_hot
from .metrics import YT8MEvaluator

__all__ = ["ValidationGAP", "StrictEarlyStopping", "Checkpoint", "parse_interval"]


class ValidationGAP(keras.callbacks.Callback):
    """Log ``val_gap``, GAP@20 on the validation data, at the end of each epoch.

    ``batches`` is a :class:`skqrnn._data.Batches`; its ``iter_eval()``
    pass is scored with :class:`skqrnn.metrics.YT8MEvaluator`, which needs
    ``O(n_videos * 20)`` memory whatever the size of the validation set.
    """

    def __init__(self, batches, batch_size):
        super().__init__()
        self.batches, self.batch_size = batches, batch_size

    def on_epoch_end(self, epoch, logs=None):
        evaluator = YT8MEvaluator(top_k=20)
        for X, Y in self.batches.iter_eval():
            evaluator.update(*one_hot(Y, predict_array(self.model, X, self.batch_size)))
        if logs is not None:
            logs["val_gap"] = float(evaluator.result()["gap"])


class StrictEarlyStopping(keras.callbacks.EarlyStopping):
    """Keras's early stopping, but a monitored quantity the fit does not log
    is an error: Keras only warns, and the fit then never stops early."""

    def get_monitor_value(self, logs):
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(
                f"early_stopping monitors {self.monitor!r}, which this fit does not log; it "
                f"logs {sorted(logs)} (monitor: 'val_loss', 'loss', 'val_gap', or a quantity "
                "one of your callbacks adds to the logs)."
            )
        return super().get_monitor_value(logs)


class AdaptiveLearningRate(keras.callbacks.ReduceLROnPlateau):
    """Keras's ReduceLROnPlateau with its floor set relative to the starting
    step size (``min_fraction * start_lr``; ``start_lr=None``: the
    optimizer's step size when training begins), so one setting serves any
    ``learning_rate``."""

    def __init__(self, *, start_lr=None, min_fraction, **kwargs):
        super().__init__(**kwargs)
        self.start_lr = start_lr
        self.min_fraction = min_fraction

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        start = self.start_lr
        if start is None:
            start = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self.min_lr = self.min_fraction * float(start)


def parse_interval(every):
    """``checkpoint_every`` as ``("epochs", n)`` or ``("seconds", s)``.

    An int counts epochs; a string ``"30s"``, ``"15min"`` or ``"2h"`` is
    wall-clock time.
    """
    if isinstance(every, str):
        text = every.strip().lower()
        for unit, factor in (("min", 60), ("s", 1), ("h", 3600)):
            if text.endswith(unit):
                try:
                    value = float(text[:-len(unit)])
                except ValueError:
                    break
                if value > 0:
                    return "seconds", value * factor
                break
        raise ValueError(f"checkpoint_every must be an integer >= 1 (epochs) or a duration "
                         f"such as '30s', '15min' or '2h'; got {every!r}.")
    return "epochs", int(every)


class Checkpoint(keras.callbacks.Callback):
    """Save the estimator at the end of an epoch, every ``every`` epochs or seconds.

    ``save(epochs_done, logs)`` writes the checkpoint (atomically); ``logs``
    lists this fit's per-epoch logs so far. The epoch a fit stops at (its
    last, or an early stop) is always saved.
    """

    def __init__(self, save, every, last_epoch):
        super().__init__()
        self.save = save
        self.kind, self.every = parse_interval(every)
        self.last_epoch = last_epoch
        self.logs = []
        self._last = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        self.logs.append(dict(logs or {}))
        due = (len(self.logs) % self.every == 0 if self.kind == "epochs"
               else time.monotonic() - self._last >= self.every)
        if due or epoch + 1 >= self.last_epoch or getattr(self.model, "stop_training", False):
            self.save(epoch + 1, self.logs)
            self._last = time.monotonic()
