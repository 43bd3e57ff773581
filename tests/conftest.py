"""Fixtures shared by the estimator test modules, and the suite's file order."""

import pytest

# The longest test files first. With ``--dist loadfile`` (setup.cfg) each file
# runs on one worker and files are handed out in order: by default xdist's
# count of tests per file, which put test_scale.py (15 tests, ~170 s),
# test_cli.py (8, ~280 s), test_examples.py and test_dask.py last, where one
# of them ran alone for minutes while the other worker idled (15 min 2 s for
# the suite on the 2-core VM, 2026-11-26). setup.cfg's
# ``--no-loadscope-reorder`` keeps this collection order instead. Rough
# seconds per file from that run's durations; files not listed follow in
# their usual order.
_LONGEST_FILES_FIRST = (
    "test_estimator_checks.py",  # ~350
    "test_cli.py",  # ~280 (the demo alone 167)
    "test_qrnn_classifiers.py",  # ~200
    "test_scale.py",  # ~170
    "test_densenet.py",  # ~140
    "test_examples.py",  # ~130
    "test_dask.py",  # ~110
    "test_base.py",  # ~100
)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(_LONGEST_FILES_FIRST)}
    # A stable sort on the file alone keeps each file's tests together and in order.
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


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


@pytest.fixture(params=["compiled", "numpy"])
def top_k_path(request, monkeypatch):
    """Run a test with the compiled top-k kernel (skqrnn._top_k) and with
    numpy alone, in the metrics and in submissions / ``predict``."""
    import skqrnn._selection

    if request.param == "numpy":
        monkeypatch.setattr(skqrnn._selection, "_compiled_top_k", None)
    elif skqrnn._selection._compiled_top_k is None:
        pytest.skip("skqrnn._top_k was not built (test_compiled_top_k_is_built says why)")
    return request.param
