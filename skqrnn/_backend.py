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


def user_backend():
    """The backend the user chose (environment or keras.json), or None."""
    return os.environ.get("KERAS_BACKEND") or _keras_config_backend()


def configure_default_backend():
    """Set ``KERAS_BACKEND`` to the default when nothing else decides it.

    Does nothing when the user set ``KERAS_BACKEND`` or a ``keras.json``
    backend, when Keras is already imported (too late to change), or when the
    default backend is not installed (Keras then uses its own default).
    """
    if user_backend() is not None or "keras" in sys.modules:
        return
    if importlib.util.find_spec(DEFAULT_BACKEND) is None:
        return
    os.environ["KERAS_BACKEND"] = DEFAULT_BACKEND
