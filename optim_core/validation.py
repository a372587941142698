"""Checks that turn bad input into a ValueError naming the parameter, its value and what is allowed.

Every value enters the core through one of these functions, so a slider set to nonsense or a
hostile share link gets a clear message instead of a NumPy traceback deep inside the loop.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_name(kind: str, name, valid) -> str:
    """A registry key: a string among `valid`."""
    if not isinstance(name, str) or name not in valid:
        raise ValueError(f"unknown {kind} {_show(name)}; valid {kind}s are: {', '.join(valid)}")
    return name


def check_real(name: str, value, low=None, high=None, *, low_open=False, high_open=False,
               owner: str = ""):
    """A finite real scalar, or a 1-D array of them, within [low, high] (ends optionally open).

    Returns a Python float for scalars and a float64 array for arrays.
    """
    where = f" for {owner}" if owner else ""
    lo_br, hi_br = ("(" if low_open else "["), (")" if high_open else "]")
    allowed = f"{lo_br}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi_br}"
    if isinstance(value, bool) or not (isinstance(value, Real) or isinstance(value, np.ndarray)
                                       or isinstance(value, (list, tuple))):
        raise ValueError(f"{name}{where} must be a finite number in {allowed}, got {_show(value)}")
    if isinstance(value, Real):
        arr = None
        try:
            v = float(value)
        except OverflowError:           # an integer beyond any float (e.g. 400 digits in JSON)
            raise ValueError(f"{name}{where} must be a finite number in {allowed}, got an "
                             f"integer of {len(str(abs(int(value))))} digits") from None
        vals = np.array([v])
    else:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{name}{where} must be numbers in {allowed}, got {_show(value)}") from None
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"{name}{where} must be a number or a 1-D array of numbers, "
                             f"got shape {arr.shape}")
        vals = arr
    bad = ~np.isfinite(vals)
    if low is not None:
        bad |= (vals <= low) if low_open else (vals < low)
    if high is not None:
        bad |= (vals >= high) if high_open else (vals > high)
    if bad.any():
        first = vals[np.argmax(bad)]
        raise ValueError(f"{name}{where} must be finite and in {allowed}, got {_show(float(first))}")
    return v if arr is None else arr


def check_int(name: str, value, low: int, high: int, *, owner: str = "") -> int:
    """An integer in [low, high]; floats that are whole numbers are accepted (JSON has no ints)."""
    where = f" for {owner}" if owner else ""
    ok = isinstance(value, Integral) and not isinstance(value, bool)
    if not ok and isinstance(value, float) and math.isfinite(value) and value == int(value):
        value, ok = int(value), True
    if not ok or not low <= value <= high:
        raise ValueError(f"{name}{where} must be an integer in [{low}, {high}], got {_show(value)}")
    return int(value)


def check_bool(name: str, value, *, owner: str = "") -> bool:
    where = f" for {owner}" if owner else ""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}{where} must be true or false, got {_show(value)}")
    return bool(value)


def check_choice(name: str, value, choices, *, owner: str = "") -> str:
    where = f" for {owner}" if owner else ""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}{where} must be one of {', '.join(map(repr, choices))}, "
                         f"got {_show(value)}")
    return value
