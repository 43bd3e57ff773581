"""Reference models that skqrnn's classifiers are measured against.

:class:`LogisticClassifier` is Google's starter ``LogisticModel`` (one dense
sigmoid layer on video-level features); :class:`MLPBaselineClassifier` is the
plain one-hidden-layer network that the product's quality bar names
(BN -> Dense(2048, ReLU) -> BN -> Dropout(0.5) -> sigmoid). Both are full
scikit-learn estimators on :class:`~skqrnn.base.KerasClassifierBase`, so the
benchmarks, the demo and users compare like with like: same training loop,
same metrics, same persistence.
"""

import keras

from ._params import Int, Real
from .base import BN_MOMENTUM, KerasClassifierBase

__all__ = ["LogisticClassifier", "MLPBaselineClassifier"]


class LogisticClassifier(KerasClassifierBase):
    """One dense sigmoid layer on the features (Google's starter ``LogisticModel``).

    Takes all the parameters of :class:`~skqrnn.base.KerasClassifierBase`
    (``epochs``, ``batch_size``, ``learning_rate``, ... — see there), with
    ``l2`` added.

    Parameters
    ----------
    l2 : float, default=1e-8
        L2 penalty on the layer's weights, added to the loss (the starter
        code's ``l2_penalty``; skqrnn's loss is averaged over labels where
        the starter code sums it, so the same value regularizes more here).
    epochs : int, default=20
        Passes over the training data per ``fit``.
    learning_rate : float, default=1e-3
        Adam step size.
    **kwargs
        The shared training parameters of ``KerasClassifierBase``.

    Examples
    --------
    >>> import numpy as np
    >>> from skqrnn.baselines import LogisticClassifier
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.randn(60, 5), rng.randint(0, 2, size=(60, 3))
    >>> LogisticClassifier(epochs=2, random_state=0).fit(X, y).predict_proba(X).shape
    (60, 3)
    """

    def __init__(self, *, l2=1e-8, epochs=20, learning_rate=1e-3, lr_schedule="auto",
                 batch_size=256, optimizer="adam", validation_split=0.0, early_stopping=False,
                 patience=5, monitor="auto", restore_best_weights=True, callbacks=None,
                 class_weight=None, threshold=0.5, top_k=None, verbose=0, random_state=None,
                 checkpoint=None, checkpoint_every=1, warm_start=False, distribution=None,
                 soft_targets=False):
        super().__init__(
            epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
            lr_schedule=lr_schedule,
            optimizer=optimizer, validation_split=validation_split,
            early_stopping=early_stopping, patience=patience, monitor=monitor,
            restore_best_weights=restore_best_weights, callbacks=callbacks,
            class_weight=class_weight, threshold=threshold, top_k=top_k, verbose=verbose,
            random_state=random_state, checkpoint=checkpoint,
            checkpoint_every=checkpoint_every, warm_start=warm_start, distribution=distribution,
            soft_targets=soft_targets,
        )
        self.l2 = l2

    _parameter_constraints = {"l2": Real(0.0, None)}

    def _build_body(self, x):
        # The base's output layer is the logistic regression itself.
        return x

    def _head_regularizer(self):
        return keras.regularizers.L2(float(self.l2)) if self.l2 else None


class MLPBaselineClassifier(KerasClassifierBase):
    """BN -> Dense(hidden, ReLU) -> BN -> Dropout -> sigmoid.

    The one-hidden-layer network of skqrnn's quality bar: on ~40k real
    YouTube-8M training videos it reaches GAP@20 of about 0.69, against about
    0.54 for :class:`LogisticClassifier`.

    Parameters
    ----------
    hidden_units : int, default=2048
        Width of the hidden layer.
    dropout : float, default=0.5
        Dropout rate before the output layer.
    epochs : int, default=24
        Passes over the training data per ``fit``.
    learning_rate : float, default=2e-3
        Adam step size. 24 epochs at 2e-3 is the best schedule found on
        validation shards of the real YouTube-8M sample (0.603-0.605
        GAP@20, 1e-3 for 30 epochs reached 0.602), so the baseline skqrnn's
        models are compared with is a well-trained one.
    **kwargs
        The shared training parameters of ``KerasClassifierBase``.

    Examples
    --------
    >>> import numpy as np
    >>> from skqrnn.baselines import MLPBaselineClassifier
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.randn(60, 5), rng.randint(0, 2, size=(60, 3))
    >>> clf = MLPBaselineClassifier(hidden_units=16, epochs=2, random_state=0).fit(X, y)
    >>> clf.predict(X).shape
    (60, 3)
    """

    def __init__(self, *, hidden_units=2048, dropout=0.5, epochs=24, learning_rate=2e-3,
                 lr_schedule="auto", batch_size=256, optimizer="adam", validation_split=0.0,
                 early_stopping=False, patience=5, monitor="auto",
                 restore_best_weights=True, callbacks=None, class_weight=None, threshold=0.5,
                 top_k=None, verbose=0, random_state=None, checkpoint=None,
                 checkpoint_every=1, warm_start=False,
                 distribution=None, soft_targets=False):
        super().__init__(
            epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
            lr_schedule=lr_schedule,
            optimizer=optimizer, validation_split=validation_split,
            early_stopping=early_stopping, patience=patience, monitor=monitor,
            restore_best_weights=restore_best_weights, callbacks=callbacks,
            class_weight=class_weight, threshold=threshold, top_k=top_k, verbose=verbose,
            random_state=random_state, checkpoint=checkpoint,
            checkpoint_every=checkpoint_every, warm_start=warm_start, distribution=distribution,
            soft_targets=soft_targets,
        )
        self.hidden_units = hidden_units
        self.dropout = dropout

    _parameter_constraints = {
        "hidden_units": Int(1),
        "dropout": Real(0.0, 1.0, high_inclusive=False),
    }

    def _build_body(self, x):
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name="input_bn")(x)
        x = keras.layers.Dense(int(self.hidden_units), activation="relu", name="hidden")(x)
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name="hidden_bn")(x)
        return keras.layers.Dropout(float(self.dropout), name="dropout")(x)
