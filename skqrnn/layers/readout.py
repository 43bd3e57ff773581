"""Padding masks and masked summaries of a sequence over time ("readouts").

A sequence classifier turns a ``(batch, time, channels)`` sequence into one
``(batch, channels)`` vector before its output layer. These layers do it
while ignoring padded frames:

* :class:`FrameMask` computes the boolean mask of the real frames from the
  *raw* input, before any dequantization (so the padding value is judged in
  the units the data were padded in);
* :class:`TemporalReadout` takes the last real frame, the mean or the max
  over the real frames;
* :class:`AttentionPooling` takes a learned, softmax-weighted mean over the
  real frames.

All take the mask as the ``mask`` call argument (explicitly, or the Keras
mask attached to their input). A sequence whose frames are all masked
gives a zero vector, never NaN, so padding rows in a batch stay harmless.
"""

import keras
from keras import ops

__all__ = ["FrameMask", "TemporalReadout", "AttentionPooling"]


@keras.saving.register_keras_serializable(package="skqrnn")
class FrameMask(keras.layers.Layer):
    """Boolean mask of the real (non-padding) frames of padded sequences.

    A frame is padding when *all* its features are equal to one of
    ``pad_values``; the output is True for real frames. Unlike
    ``keras.layers.Masking`` it returns the mask as a tensor (to pass as
    ``mask=`` to later layers) and accepts integer input, so the mask of
    quantized ``uint8`` frames can be computed before they are dequantized.

    Parameters
    ----------
    pad_values : sequence of float, default=(0.0,)
        Values that mark a padding frame.

    Examples
    --------
    >>> import numpy as np
    >>> from skqrnn.layers.readout import FrameMask
    >>> x = np.array([[[1, 2], [0, 0], [0, 3]]], dtype="float32")
    >>> np.asarray(FrameMask()(x))
    array([[ True, False,  True]])
    """

    def __init__(self, pad_values=(0.0,), **kwargs):
        super().__init__(**kwargs)
        self.pad_values = tuple(float(v) for v in pad_values)
        if not self.pad_values:
            raise ValueError("FrameMask needs at least one padding value.")

    def call(self, inputs):
        padding = None
        for value in self.pad_values:
            if "int" in keras.backend.standardize_dtype(inputs.dtype):
                if value != int(value):
                    continue  # an integer frame can never equal a fractional value
                value = int(value)
            frame_is_value = ops.all(ops.equal(inputs, value), axis=-1)
            padding = frame_is_value if padding is None else ops.logical_or(
                padding, frame_is_value)
        if padding is None:  # only fractional values for integer data
            return ops.ones(ops.shape(inputs)[:-1], dtype="bool")
        return ops.logical_not(padding)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(inputs.shape[:-1], dtype="bool")

    def get_config(self):
        config = super().get_config()
        config.update(pad_values=list(self.pad_values))
        return config


def _float_mask(mask, x):
    """``mask`` as a (batch, time, 1) float tensor of x's dtype (ones if None)."""
    if mask is None:
        return ops.ones(ops.shape(x)[:2] + (1,), dtype=x.dtype)
    return ops.expand_dims(ops.cast(mask, x.dtype), -1)


@keras.saving.register_keras_serializable(package="skqrnn")
class TemporalReadout(keras.layers.Layer):
    """Summarize a sequence over time, ignoring masked frames.

    Parameters
    ----------
    mode : {"last", "first", "mean", "max"}, default="mean"
        ``"last"``: the last real frame (the final state of a causal
        recurrent layer); ``"first"``: the first real frame (the final state
        of a recurrent layer run backwards, as in the second half of a
        ``keras.layers.Bidirectional`` sequence); ``"mean"``: the mean over
        the real frames; ``"max"``: the channel-wise maximum over the real
        frames.

    Notes
    -----
    Input ``(batch, time, channels)`` and an optional boolean mask
    ``(batch, time)``; output ``(batch, channels)``. Rows without any real
    frame give zeros. ``"last"`` takes the last True step of the mask, so
    it also works when padding is not only at the end (``"first"`` likewise
    takes the first True step).

    Examples
    --------
    >>> import numpy as np
    >>> from skqrnn.layers.readout import TemporalReadout
    >>> x = np.arange(6, dtype="float32").reshape(1, 3, 2)
    >>> mask = np.array([[True, True, False]])
    >>> np.asarray(TemporalReadout("last")(x, mask=mask))
    array([[2., 3.]], dtype=float32)
    >>> np.asarray(TemporalReadout("mean")(x, mask=mask))
    array([[1., 2.]], dtype=float32)
    """

    MODES = ("last", "first", "mean", "max")

    def __init__(self, mode="mean", **kwargs):
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}; got {mode!r}.")
        self.mode = mode
        self.supports_masking = True

    def call(self, inputs, mask=None):
        x = inputs
        if self.mode in ("last", "first"):
            if mask is None:
                return x[:, -1] if self.mode == "last" else x[:, 0]
            m = ops.cast(mask, "int32")
            steps = ops.shape(x)[1]
            # Index of the last (first) real frame: position of the first 1
            # in the reversed (plain) mask. One-hot selection keeps it a
            # plain reduction; rows without a real frame select nothing.
            if self.mode == "last":
                index = steps - 1 - ops.argmax(ops.flip(m, axis=1), axis=1)
            else:
                index = ops.argmax(m, axis=1)
            pick = ops.one_hot(index, steps, dtype=x.dtype) * ops.cast(m, x.dtype)
            return ops.sum(x * ops.expand_dims(pick, -1), axis=1)
        w = _float_mask(mask, x)
        if self.mode == "mean":
            count = ops.maximum(ops.sum(w, axis=1), 1.0)
            return ops.sum(x * w, axis=1) / count
        # max: masked frames cannot win; rows without frames give 0.
        very_negative = ops.cast(-3.0e38 if x.dtype == "float32" else -6.0e4, x.dtype)
        best = ops.max(ops.where(w > 0, x, very_negative), axis=1)
        return ops.where(ops.sum(w, axis=1) > 0, best, ops.zeros_like(best))

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(mode=self.mode)
        return config


@keras.saving.register_keras_serializable(package="skqrnn")
class AttentionPooling(keras.layers.Layer):
    """Attention-weighted mean over time: ``sum_t softmax_t(s_t) * x_t``.

    The score of frame ``t`` is ``s_t = v . tanh(W x_t + b)`` (additive
    attention) with ``units`` hidden units, or the linear ``s_t = v . x_t``
    when ``units`` is None. Masked frames get zero weight.

    Parameters
    ----------
    units : int or None, default=None
        Hidden units of the scoring network; None scores linearly.

    Examples
    --------
    >>> import numpy as np
    >>> from skqrnn.layers.readout import AttentionPooling
    >>> x = np.ones((2, 5, 4), dtype="float32")
    >>> AttentionPooling(units=8)(x).shape
    (2, 4)
    """

    def __init__(self, units=None, **kwargs):
        super().__init__(**kwargs)
        if units is not None and (isinstance(units, bool) or int(units) != units or units < 1):
            raise ValueError(f"units must be a positive integer or None; got {units!r}.")
        self.units = None if units is None else int(units)
        self.supports_masking = True

    def build(self, input_shape):
        channels = input_shape[-1]
        if self.units is None:
            self.kernel = None
            score_in = channels
        else:
            self.kernel = self.add_weight(
                name="kernel", shape=(channels, self.units), initializer="glorot_uniform")
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
            score_in = self.units
        # A zero score vector starts as the plain mean over the real frames.
        self.score = self.add_weight(name="score", shape=(score_in, 1), initializer="zeros")

    def call(self, inputs, mask=None):
        x = inputs
        h = x if self.kernel is None else ops.tanh(ops.matmul(x, self.kernel) + self.bias)
        scores = ops.cast(ops.matmul(h, self.score), "float32")  # (batch, time, 1)
        w = _float_mask(mask, scores)
        scores = ops.where(w > 0, scores, -1e9)
        scores = scores - ops.max(scores, axis=1, keepdims=True)
        e = ops.exp(scores) * w
        weights = e / ops.maximum(ops.sum(e, axis=1, keepdims=True), 1e-30)
        return ops.sum(x * ops.cast(weights, x.dtype), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units)
        return config
