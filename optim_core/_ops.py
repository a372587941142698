"""Small helpers shared by the update rules: torch's rounding, and NumPy call overhead.

At N = 1 a ufunc call costs about a microsecond, and half as much again when one operand is a
Python float (NumPy converts it on every call). The rules therefore keep constants as 0-d arrays
(`const`) and pass per-step scalars through a reusable 0-d array (`Slot`); the arithmetic is
identical, only the call is cheaper. Per-trajectory values are (1, N) arrays and pass through.
"""

from __future__ import annotations

import numpy as np

multiply, add, subtract, divide = np.multiply, np.add, np.subtract, np.divide
sqrt, maximum, absolute = np.sqrt, np.maximum, np.absolute


def const(value):
    """A hyperparameter as a ufunc operand: a 0-d array for a scalar, the (1, N) array as is."""
    return value if isinstance(value, np.ndarray) else np.array(float(value))


class Slot:
    """A reusable 0-d array for per-step scalars (learning rate, bias corrections)."""

    __slots__ = ("cell",)

    def __init__(self):
        self.cell = np.zeros(())

    def __call__(self, value):
        if type(value) is float:
            self.cell[()] = value
            return self.cell
        return value


def lerp_fn(weight):
    """Return lerp_(m, g, tmp): m <- lerp(m, g, weight) in place, torch's formula.

    torch's lerp uses m + w(g - m) for |w| < 0.5 and g - (g - m)(1 - w) otherwise; the two
    differ in the last bit, so the branch is chosen per trajectory as torch would.
    """
    if np.ndim(weight) == 0:
        w = float(weight)
        if abs(w) < 0.5:
            wc = const(w)

            def lerp_(m, g, tmp):
                subtract(g, m, tmp)
                multiply(tmp, wc, tmp)
                add(m, tmp, m)
        else:
            one_minus = const(1.0 - w)

            def lerp_(m, g, tmp):
                subtract(g, m, tmp)
                multiply(tmp, one_minus, tmp)
                subtract(g, tmp, m)
        return lerp_

    w = np.asarray(weight, dtype=np.float64)
    low = np.abs(w) < 0.5
    one_minus = 1.0 - w

    def lerp_(m, g, tmp):
        subtract(g, m, tmp)
        high_branch = g - tmp * one_minus
        multiply(tmp, w, tmp)
        add(tmp, m, tmp)
        np.copyto(m, np.where(low, tmp, high_branch))
    return lerp_


KEEP_TERMS = "_keep_terms"   # hp key: names whose terms stay in even where all zero (see skips)


def is_zero(value) -> bool:
    """True when a hyperparameter is zero for every trajectory (so its term can be skipped)."""
    return not np.any(value)


def skips(hp, name) -> bool:
    """True when the rule may leave out the term of hyperparameter `name`: zero for every
    trajectory and not named in hp[KEEP_TERMS]. A chunk or a compacted part of a batch names
    the terms the whole batch keeps, so it takes the same branches and rounds the same way
    (RMSprop with and without its momentum term divides in a different order)."""
    return name not in hp.get(KEEP_TERMS, ()) and is_zero(hp.get(name, 0.0))


def add_l2(theta, g, wd, tmp):
    """torch's coupled weight decay: g <- g + wd * theta."""
    multiply(theta, wd, tmp)
    add(g, tmp, g)
