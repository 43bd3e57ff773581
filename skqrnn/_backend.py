"""Choose skqrnn's default Keras backend before Keras is imported.

Keras reads its backend once, at import time, from ``KERAS_BACKEND`` or from
``$KERAS_HOME/keras.json`` (``~/.keras/keras.json`` by default); with neither it
picks TensorFlow, which skqrnn does not install. So ``import skqrnn`` (which
never imports Keras itself) sets ``KERAS_BACKEND`` to :data:`DEFAULT_BACKEND`
only when the user has expressed no choice of their own.
"""

import importlib.util
import json
import os
import sys

#: The backend skqrnn installs and uses when the user chose none
#: (see ``benchmarks/bench_backends.py`` for the measurements behind it).
DEFAULT_BACKEND = "jax"

# Keras backend name -> the module that must be importable for it.
_BACKEND_MODULES = {"jax": "jax", "tensorflow": "tensorflow", "torch": "torch",
                    "numpy": "numpy", "openvino": "openvino"}


def _keras_config_backend():
    """Return the backend named in the user's keras.json, or None."""
    home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    path = os.path.join(home, "keras.json")
    try:
        with open(path) as f:
            return json.load(f).get("backend")
    except (OSError, ValueError, AttributeError):
        return None


def _installed(backend):
    return importlib.util.find_spec(_BACKEND_MODULES.get(backend, backend)) is not None


def configure_default_backend():
    """Set ``KERAS_BACKEND`` to the default when nothing else decides it.

    ``KERAS_BACKEND`` always wins, and so does a ``keras.json`` backend that
    is installed. A ``keras.json`` naming a backend that is not installed is
    overridden: Keras writes ``"backend": "tensorflow"`` into a new keras.json
    on its first import whatever backend it runs, so that entry is usually no
    choice of the user's, and following it could only fail. Nothing changes
    once Keras is imported (too late) or when the default is not installed.
    """
    if os.environ.get("KERAS_BACKEND") or "keras" in sys.modules:
        return
    configured = _keras_config_backend()
    if configured is not None and _installed(configured):
        return
    if not _installed(DEFAULT_BACKEND):
        return
    os.environ["KERAS_BACKEND"] = DEFAULT_BACKEND
