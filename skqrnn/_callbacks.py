"""The Keras callbacks ``fit`` adds: validation GAP, strict early stopping, checkpoints.

They know the estimator only through what they are given (a batch source,
a function that saves); nothing here imports the estimators.
"""

import numbers
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


class _Resumable:
    """A callback whose counters decide later epochs, so a checkpoint keeps them.

    ``state()`` is JSON data; ``resume(state)`` before a fit makes its
    ``on_train_begin`` continue from that state instead of starting afresh,
    so a fit resumed from a checkpoint stops (or lowers its step size) at
    the epoch the uninterrupted fit would have.
    """

    STATE = ()

    def state(self):
        return {name: _plain(getattr(self, name)) for name in self.STATE}

    def resume(self, state):
        self._resume_state = dict(state)

    def _apply_resume_state(self):
        state = self.__dict__.pop("_resume_state", None)
        for name in self.STATE:
            if state is not None and name in state:
                setattr(self, name, state[name])


def _plain(value):
    """A counter or monitored value as JSON data (numpy and JAX scalars too)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    return float(value)


class StrictEarlyStopping(_Resumable, keras.callbacks.EarlyStopping):
    """Keras's early stopping, but a monitored quantity the fit does not log
    is an error: Keras only warns, and the fit then never stops early.

    Resumable: its best value, epochs without improvement and best epoch go
    in checkpoints (the best epoch's weights too, given to ``resume``).
    """

    STATE = ("best", "wait", "best_epoch")

    def resume(self, state, best_weights=None):
        """Go on from ``state``; ``best_weights`` None: the best epoch's
        weights are the network's at the start (a checkpoint stores them
        only when they are not)."""
        super().resume(state)
        self._resume_weights = best_weights

    def on_train_begin(self, logs=None):
        resuming = "_resume_state" in self.__dict__
        super().on_train_begin(logs)
        self._apply_resume_state()
        weights = self.__dict__.pop("_resume_weights", None)
        if resuming and self.restore_best_weights and self.best is not None:
            self.best_weights = self.model.get_weights() if weights is None else weights

    def get_monitor_value(self, logs):
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(
                f"early_stopping monitors {self.monitor!r}, which this fit does not log; it "
                f"logs {sorted(logs)} (monitor: 'val_loss', 'loss', 'val_gap', or a quantity "
                "one of your callbacks adds to the logs)."
            )
        return super().get_monitor_value(logs)


class AdaptiveLearningRate(_Resumable, keras.callbacks.ReduceLROnPlateau):
    """Keras's ReduceLROnPlateau with its floor set relative to the starting
    step size (``min_fraction * start_lr``; ``start_lr=None``: the
    optimizer's step size when training begins), so one setting serves any
    ``learning_rate``. Resumable (the step size itself is the optimizer's,
    saved with the network)."""

    STATE = ("best", "wait", "cooldown_counter", "min_lr")

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
        self._apply_resume_state()


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

    ``save(epochs_done, logs, state, best_weights)`` writes the checkpoint
    (atomically); ``logs`` lists this fit's per-epoch logs so far, ``state``
    maps each name in ``resumable`` to that callback's ``state()`` (plus
    ``"stopped"``: whether early stopping ended the fit), and
    ``best_weights`` are early stopping's best-epoch weights when they are
    not the network's current ones (else None). When the fit ends (its last
    epoch, or an early stop) the checkpoint is written once more after the
    other callbacks' ``on_train_end``, so it holds what the fit returns:
    the best epoch's weights if early stopping restored them.
    """

    def __init__(self, save, every, last_epoch, resumable=None):
        super().__init__()
        self.save = save
        self.kind, self.every = parse_interval(every)
        self.last_epoch = last_epoch
        self.resumable = dict(resumable or {})
        self.logs = []
        self._last = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        self.logs.append(dict(logs or {}))
        self._epochs_done = epoch + 1
        due = (len(self.logs) % self.every == 0 if self.kind == "epochs"
               else time.monotonic() - self._last >= self.every)
        final = epoch + 1 >= self.last_epoch or getattr(self.model, "stop_training", False)
        if due and not final:
            self._save(epoch + 1, final=False)

    def on_train_end(self, logs=None):
        if self.logs:
            self._save(self._epochs_done, final=True)

    def _save(self, epochs_done, *, final):
        state = {name: cb.state() for name, cb in self.resumable.items()}
        stopping = self.resumable.get("early_stopping")
        state["stopped"] = bool(final and stopping is not None and stopping.stopped_epoch > 0)
        best = None
        if (not final and stopping is not None and stopping.best_weights is not None
                and stopping.best_epoch + 1 != epochs_done):
            best = stopping.best_weights
        self.save(epochs_done, self.logs, state, best)
        self._last = time.monotonic()
