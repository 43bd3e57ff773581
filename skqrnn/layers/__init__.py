"""Keras 3 layers used by skqrnn's networks (backend-agnostic, scikit-learn-free)."""

from .dequantize import Dequantize

__all__ = ["Dequantize"]
