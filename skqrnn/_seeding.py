"""Seeding a fit: Python, NumPy and Keras, restored afterwards.

``random_state`` seeds weight initialization, dropout and shuffling, so
the same seed gives the same predictions on the same backend and machine;
the global Python and NumPy random states are put back after ``fit`` so
that a seeded estimator does not change the random numbers of the code
around it.
"""

import contextlib
import numbers
import random

import keras
import numpy as np

from ._distribution import private_keras_seeds

__all__ = ["seeded", "int_seed", "epoch_seed"]


def int_seed(random_state):
    """An int seed derived from ``random_state`` (None stays None)."""
    if random_state is None:
        return None
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    raise ValueError(f"random_state must be None, an int or a RandomState; got "
                     f"{random_state!r}.")


def epoch_seed(seed, epoch):
    """The shuffling seed of one epoch: a function of the fit's seed and the
    epoch number alone, so a fit resumed at epoch ``e`` shuffles as the
    uninterrupted fit did."""
    if seed is None:
        return None
    return np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(epoch)]).generate_state(1)[0]


@contextlib.contextmanager
def seeded(seed):
    """Seed Python, NumPy and Keras; restore the Python and NumPy states afterwards."""
    if seed is None:
        yield
        return
    py_state, np_state = random.getstate(), np.random.get_state()
    keras.utils.set_random_seed(seed)
    try:
        # Keras's default seeds come from Python's global random, which other
        # threads (a Dask worker's event loop) may consume meanwhile.
        with private_keras_seeds(seed):
            yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
