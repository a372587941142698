"""Small in-place helpers shared by the update rules, written to round exactly as torch does."""

from __future__ import annotations

import numpy as np


def lerp_fn(weight):
    """Return lerp_(m, g, tmp): m <- lerp(m, g, weight) in place, torch's formula.

    torch's lerp uses m + w(g - m) for |w| < 0.5 and g - (g - m)(1 - w) otherwise; the two
    differ in the last bit, so the branch is chosen per trajectory as torch would.
    """
    if np.ndim(weight) == 0:
        w = float(weight)
        if abs(w) < 0.5:
            def lerp_(m, g, tmp):
                np.subtract(g, m, out=tmp)
                tmp *= w
                m += tmp
        else:
            one_minus = 1.0 - w

            def lerp_(m, g, tmp):
                np.subtract(g, m, out=tmp)
                tmp *= one_minus
                np.subtract(g, tmp, out=m)
        return lerp_

    w = np.asarray(weight, dtype=np.float64)
    low = np.abs(w) < 0.5
    one_minus = 1.0 - w

    def lerp_(m, g, tmp):
        np.subtract(g, m, out=tmp)
        high_branch = g - tmp * one_minus
        tmp *= w
        tmp += m
        np.copyto(m, np.where(low, tmp, high_branch))
    return lerp_


def is_zero(value) -> bool:
    """True when a hyperparameter is zero for every trajectory (so its term can be skipped)."""
    return not np.any(value)
