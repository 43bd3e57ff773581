"""Declarative hyperparameter checks: the ``_parameter_constraints`` tables.

Each estimator class declares, next to its ``__init__``, a table mapping a
parameter name to what it accepts, in the spirit of scikit-learn's
``_parameter_constraints``::

    _parameter_constraints = {
        "epochs": Int(1),
        "top_k": [None, Int(1)],
        "pooling": Options("f", "fo", "ifo"),
    }

:func:`check_params` merges the tables of the class and its bases (a
subclass entry replaces its base's) and checks every parameter once, at the
start of ``fit``. A list accepts a value that any of its entries accepts;
``None`` in a list accepts ``None``. The error names the parameter, what it
accepts and the value given. Checks that relate several parameters stay in
the estimator's ``_check_params``.

This module imports neither Keras nor the estimators.
"""

import numbers

import numpy as np

__all__ = ["Int", "Real", "Options", "Bool", "IntSequence", "Check", "check_params",
           "merged_constraints"]


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


class Int:
    """An integer (not a bool) ``>= low``."""

    def __init__(self, low):
        self.low = low

    def accepts(self, value):
        return _is_int(value) and value >= self.low

    def __str__(self):
        return f"an integer >= {self.low}"


class Real:
    """A finite real number (not a bool) in an interval; None means unbounded."""

    def __init__(self, low, high, *, low_inclusive=True, high_inclusive=True):
        self.low, self.high = low, high
        self.low_inclusive, self.high_inclusive = low_inclusive, high_inclusive

    def accepts(self, value):
        if not (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
                and np.isfinite(value)):
            return False
        if self.low is not None and not (value >= self.low if self.low_inclusive
                                         else value > self.low):
            return False
        return self.high is None or (value <= self.high if self.high_inclusive
                                     else value < self.high)

    def __str__(self):
        lo = "(" if self.low is None else ("[" if self.low_inclusive else "(") + f"{self.low}, "
        hi = "inf)" if self.high is None else f"{self.high}" + ("]" if self.high_inclusive
                                                               else ")")
        return f"a real number in {lo}{hi}"


class Options:
    """One of a fixed set of strings."""

    def __init__(self, *values):
        self.values = values

    def accepts(self, value):
        return isinstance(value, str) and value in self.values

    def __str__(self):
        return f"one of {self.values}"


class Bool:
    """``True`` or ``False`` (Python or NumPy bools)."""

    def accepts(self, value):
        return isinstance(value, (bool, np.bool_))

    def __str__(self):
        return "True or False"


class IntSequence:
    """A non-empty sequence of integers ``>= 1`` (e.g. layers per block)."""

    def __init__(self, meaning, example):
        self.meaning, self.example = meaning, example

    def accepts(self, value):
        return (not isinstance(value, (str, bytes)) and hasattr(value, "__len__")
                and len(value) > 0 and all(_is_int(n) and n >= 1 for n in value))

    def __str__(self):
        return f"a non-empty sequence of positive integers ({self.meaning}), e.g. {self.example}"


class Check:
    """Any other rule: a predicate and the words for what it accepts."""

    def __init__(self, predicate, description):
        self.predicate, self.description = predicate, description

    def accepts(self, value):
        return bool(self.predicate(value))

    def __str__(self):
        return self.description


def merged_constraints(cls):
    """The constraint table of ``cls``: its bases' entries, then its own."""
    table = {}
    for klass in reversed(cls.__mro__):
        table.update(vars(klass).get("_parameter_constraints", {}))
    return table


def check_params(estimator):
    """Raise a ``ValueError`` naming the first parameter its table refuses."""
    for name, rule in merged_constraints(type(estimator)).items():
        value = getattr(estimator, name)
        rules = rule if isinstance(rule, list) else [rule]
        if any(value is None if r is None else r.accepts(value) for r in rules):
            continue
        described = [str(r) for r in rules if r is not None]
        text = " or ".join(described) + (" or None" if None in rules else "")
        raise ValueError(f"{name} must be {text}; got {value!r}.")
