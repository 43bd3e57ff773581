"""``skqrnn.load_model``: load whatever an skqrnn ``save()`` wrote.

A network's ``.keras`` archive (:func:`skqrnn.base.load_model`) or an
ensemble's directory or ``.zip`` (:meth:`skqrnn.AveragingClassifier.load`);
this module only tells them apart, so that neither loader needs the other.
"""

import os

from . import _persistence
from .ensemble import is_composite_file, load_composite

__all__ = ["load_model"]


def load_model(path):
    """Load any skqrnn estimator written by ``save()``: a network or an ensemble.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.keras`` file written by a network's ``save``, or the directory
        or ``.zip`` file written by an :class:`~skqrnn.AveragingClassifier`'s
        or :class:`~skqrnn.DistilledClassifier`'s ``save``.

    Returns
    -------
    estimator : estimator
        The fitted estimator, of the class that saved it.

    Raises
    ------
    FileNotFoundError, PermissionError
        The path does not exist or cannot be read.
    ValueError
        The path was not written by ``save()``, is damaged, or its estimator
        data was tampered with.

    Notes
    -----
    An ensemble's members stored as ``joblib`` pickles (scikit-learn
    estimators) are unpickled, which can run arbitrary code: load only
    files you trust. skqrnn networks are read without unpickling.
    """
    if os.path.isdir(path) or is_composite_file(path):
        return load_composite(path)
    return _persistence.load_model(path)
