"""The parameter documentation the concrete classifiers share.

DenseNetClassifier, QRNNClassifier and DCQRNNClassifier take the same
training parameters (those of :class:`skqrnn.base.KerasClassifierBase`,
with their own defaults); their docstrings insert one text, with the
defaults read from each signature, so the entries cannot drift apart or
from the code.
"""

import inspect

__all__ = ["fill_doc"]

#: The shared "Parameters" entries (from ``epochs`` on) and "Attributes".
TRAINING_PARAMS_DOC = """
    epochs : int, default={epochs}
        Passes over the training data per ``fit``; with early stopping, the
        most it may make.
    batch_size : int or "auto", default="{batch_size}"
        Samples per gradient step (and the largest prediction batch).
        ``"auto"``: the largest power of two at most ``n_samples / 16``,
        between 32 and 256 (256 from 4,096 samples on), so that small data
        gets enough gradient steps per epoch.
    learning_rate : float or "auto", default="{learning_rate}"
        Adam step size. ``"auto"``: 2e-3 when the fit runs all its epochs,
        5e-4 when it stops early (more, smaller steps; on 30k real videos
        GAP@20 0.697 against 0.683 at 2e-3).{frame_learning_rate}
    lr_schedule : {{"constant", "adaptive", "auto"}}, default="auto"
        ``"adaptive"``: divide the step size by 5 each time ``monitor``
        fails to improve for an epoch (by 1e-4 for GAP), at most three
        times (scikit-learn's MLP ``learning_rate="adaptive"``, per epoch).
        ``"auto"``: adaptive when the fit stops early and the optimizer is
        not an instance, constant otherwise.
    optimizer : str, optimizer class or instance, default="adam"
        See :class:`~skqrnn.base.KerasClassifierBase`.
    validation_split : float, default=0.0
        Fraction of the samples (the last ones) held out for validation.
    early_stopping : bool or "auto", default="auto"
        Stop when ``monitor`` stops improving for ``patience`` epochs and
        keep the best epoch. ``"auto"``: on from 10,000 training samples
        (holding out ``validation_split``, or 10%), or when a stream is
        given ``validation_data``; off below, where a 10% hold-out costs
        more than early stopping saves.
    patience : int, default=3
        Epochs without improvement before stopping.
    monitor : str, default="auto"
        ``"val_gap"`` (GAP@20 on validation), ``"val_loss"``, ``"loss"``;
        ``"auto"``: ``"val_gap"`` for multi-label targets, ``"val_loss"``
        otherwise.
    restore_best_weights : bool, default=True
        With early stopping, keep the best epoch's weights.
    callbacks : list of keras.callbacks.Callback, default=None
        Extra Keras callbacks (deep-copied at each fit).
    class_weight : dict, "balanced" or None, default=None
        Class weights for 1-D targets.
    threshold : float, default=0.5
        Multi-label ``predict`` threshold on the probabilities.
    top_k : int or None, default=None
        Multi-label ``predict``: at most ``top_k`` labels per sample.
    verbose : int, default=0
        0 silent, 1 progress bar, 2 one line per epoch.
    random_state : int, RandomState instance or None, default=None
        Seed for initialization, dropout and shuffling.
    checkpoint : str, os.PathLike or None, default=None
        Save the estimator to this ``.keras`` file (or ``checkpoint.keras``
        in this directory) during ``fit``, atomically; ``fit(...,
        resume=True)`` continues from it (see
        :class:`~skqrnn.base.KerasClassifierBase`).
    checkpoint_every : int or str, default=1
        Checkpoint interval: epochs (an int) or wall-clock time (``"30s"``,
        ``"15min"``, ``"2h"``).
    warm_start : bool, default=False
        Continue training the fitted network on the next ``fit`` (its
        network parameters must be unchanged).
    distribution : None, "data_parallel" or keras.distribution.Distribution, default=None
        Train and predict across several devices (see
        :class:`~skqrnn.base.KerasClassifierBase`).
    soft_targets : bool, default=False
        Accept a 2-D ``y`` of target probabilities in [0, 1] (e.g. a
        teacher's ``predict_proba``) and train against them (see
        :class:`~skqrnn.base.KerasClassifierBase`).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (``arange(n_labels)`` for multi-label targets).
    n_outputs_ : int
        Width of the output layer.
    n_features_in_ : int
        {n_features_in}
    feature_names_in_ : ndarray of str
        Column names of a DataFrame ``X``, when fitted on one.
    model_ : keras.Model
        The trained network (outputs probabilities).
    history_ : dict of list
        Per-epoch logs (``loss``, ``val_loss``, ``val_gap``; ``learning_rate``
        with the adaptive schedule).
    n_iter_ : int
        Number of epochs trained.
"""


def signature_defaults(cls):
    """``{parameter: default}`` of ``cls.__init__``."""
    return {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()
            if p.default is not inspect.Parameter.empty}


def fill_doc(cls, *, n_features_in, frame_learning_rate="", **fields):
    """Fill ``cls.__doc__``'s ``{placeholders}``.

    ``{shared}`` becomes :data:`TRAINING_PARAMS_DOC`; every other
    placeholder named after a parameter becomes that parameter's default in
    the signature; ``fields`` fill the rest. ``n_features_in`` describes the
    ``n_features_in_`` attribute; ``frame_learning_rate`` is appended to the
    ``learning_rate`` entry.
    """
    defaults = signature_defaults(cls)
    shared = TRAINING_PARAMS_DOC.format(
        epochs=defaults["epochs"], batch_size=defaults["batch_size"],
        learning_rate=defaults["learning_rate"], frame_learning_rate=frame_learning_rate,
        n_features_in=n_features_in,
    )
    cls.__doc__ = cls.__doc__.format(shared=shared.strip("\n") + "\n", **defaults, **fields)
