"""Fixtures shared by the estimator test modules."""

import pytest


@pytest.fixture(scope="module")
def jax_compilation_cache(tmp_path_factory):
    """Compile each network architecture and input shape once per test module.

    Every fit builds a new Keras model, which JAX compiles again; with its
    persistent compilation cache a network of the same architecture and input
    shape is compiled once (scikit-learn's checks fit about a hundred times).
    The previous JAX settings are restored afterwards. Modules opt in with
    ``pytestmark = pytest.mark.usefixtures("jax_compilation_cache")``.
    """
    import keras

    if keras.backend.backend() != "jax":
        yield
        return
    import jax
    from jax.experimental.compilation_cache import compilation_cache as cc

    names = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs",
             "jax_persistent_cache_min_entry_size_bytes")
    old = {name: getattr(jax.config, name) for name in names}
    cc.reset_cache()
    jax.config.update("jax_compilation_cache_dir", str(tmp_path_factory.mktemp("jax_cache")))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    yield
    cc.reset_cache()
    for name, value in old.items():
        jax.config.update(name, value)
