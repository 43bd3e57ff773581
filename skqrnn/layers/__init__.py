"""Keras 3 layers used by skqrnn's networks (backend-agnostic, scikit-learn-free)."""

from .dequantize import Dequantize
from .qrnn import QRNN
from .recurrence import linear_recurrence

__all__ = ["Dequantize", "QRNN", "linear_recurrence"]
