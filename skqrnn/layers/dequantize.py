"""Dequantize YouTube-8M uint8 features inside the network."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="skqrnn")
class Dequantize(keras.layers.Layer):
    """Map quantized bytes back to floats as Google's starter code does.

    ``x = q * (max - min) / 255 + (max - min) / 512 + min``, which for the
    YouTube-8M defaults (max=2, min=-2) is ``q * 4/255 - 1.9921875``.
    Keeping frame-level data as uint8 until it is inside the network uses
    4x less host memory than float32.

    Parameters
    ----------
    max_quantized_value, min_quantized_value : float
        The range the features were quantized from.

    Examples
    --------
    >>> import keras
    >>> import numpy as np
    >>> from skqrnn.layers import Dequantize
    >>> quantized = keras.ops.convert_to_tensor(np.array([[0, 255]], dtype="uint8"))
    >>> np.asarray(Dequantize()(quantized)).round(4)
    array([[-1.9922,  2.0078]], dtype=float32)
    """

    def __init__(self, max_quantized_value=2.0, min_quantized_value=-2.0, **kwargs):
        super().__init__(**kwargs)
        self.max_quantized_value = float(max_quantized_value)
        self.min_quantized_value = float(min_quantized_value)
        # The input is integer data: no masking and no float autocasting of it.
        self._convert_input_args = False

    def call(self, inputs):
        span = self.max_quantized_value - self.min_quantized_value
        x = ops.cast(inputs, self.compute_dtype)
        return x * (span / 255.0) + (span / 512.0 + self.min_quantized_value)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            max_quantized_value=self.max_quantized_value,
            min_quantized_value=self.min_quantized_value,
        )
        return config
