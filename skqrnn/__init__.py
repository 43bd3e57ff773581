"""skqrnn: light-weight deep video classifiers as scikit-learn estimators.

Importing :mod:`skqrnn` does not import Keras: :mod:`skqrnn.metrics`,
:mod:`skqrnn.io` and :mod:`skqrnn.datasets` stay Keras-free, and the
classifiers are imported on first use.
"""

from ._backend import configure_default_backend

configure_default_backend()

__version__ = "0.1.0.dev0"

# Public name -> defining submodule, imported lazily (PEP 562) so that
# ``import skqrnn.metrics`` does not pay for Keras.
_LAZY = {
    "KerasClassifierBase": "skqrnn.base",
    "DenseNetClassifier": "skqrnn.densenet",
    "QRNNClassifier": "skqrnn.qrnn",
    "DCQRNNClassifier": "skqrnn.qrnn",
    "AveragingClassifier": "skqrnn.ensemble",
    "DistilledClassifier": "skqrnn.ensemble",
    "load_model": "skqrnn._loading",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'skqrnn' has no attribute {name!r}")


def __dir__():
    return __all__
