"""Slider vocabularies for the sidebar: which values a control offers for each parameter.

Plain data and small functions (no Streamlit), so the app stays widgets-and-layout only and the
choices are testable. Log-scale quantities get log-spaced options; a value that came from a
share link or a preset is always added to the options, so loading a scene never rounds it.
"""

from __future__ import annotations

import math


def log_options(low: float, high: float, per_decade: int = 12) -> list[float]:
    """Log-spaced, 3-significant-digit values from low to high inclusive."""
    start, stop = math.log10(low), math.log10(high)
    n = int(round((stop - start) * per_decade))
    return sorted({float(f"{10 ** (start + i / per_decade):.3g}") for i in range(n + 1)})


LR_OPTIONS = log_options(1e-5, 10.0)
EPS_OPTIONS = log_options(1e-12, 1.0, per_decade=2)
DECAY_OPTIONS = [0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9995, 0.9999]
WEIGHT_DECAY_OPTIONS = [0.0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0]
MOMENTUM_DECAY_OPTIONS = [0.0, 1e-3, 2e-3, 4e-3, 1e-2, 0.02, 0.05, 0.1, 1.0]
LR_DECAY_OPTIONS = [0.0, 1e-4, 1e-3, 1e-2, 0.1, 1.0]
ACCUMULATOR_OPTIONS = [0.0, 0.01, 0.1, 1.0, 10.0]
NOISE_OPTIONS = [0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]

# hyperparameter name -> ("slider", low, high, step) or ("options", list) or ("toggle",)
HYPER_CONTROLS = {
    "momentum": ("slider", 0.0, 0.99, 0.01),
    "beta1": ("slider", 0.0, 0.99, 0.01),
    "dampening": ("slider", 0.0, 1.0, 0.05),
    "beta2": ("options", DECAY_OPTIONS),
    "rho": ("options", DECAY_OPTIONS),
    "eps": ("options", EPS_OPTIONS),
    "weight_decay": ("options", WEIGHT_DECAY_OPTIONS),
    "momentum_decay": ("options", MOMENTUM_DECAY_OPTIONS),
    "lr_decay": ("options", LR_DECAY_OPTIONS),
    "initial_accumulator_value": ("options", ACCUMULATOR_OPTIONS),
    "centered": ("toggle",),
}


def with_value(options: list[float], value: float) -> list[float]:
    """The options with `value` included (sorted), so a loaded scene keeps its exact value."""
    return options if value in options else sorted([*options, value])


def nearest(options: list[float], value: float) -> float:
    return min(options, key=lambda o: abs(math.log10(o) - math.log10(value)) if o > 0 and value > 0
               else abs(o - value))


def fmt(value) -> str:
    """A number as a slider label shows it: short, scientific when tiny or huge."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if value == 0:
        return "0"
    if abs(value) < 1e-3 or abs(value) >= 1e4:
        return f"{value:.0e}" if float(f"{value:.0e}") == value else f"{value:.2e}"
    return f"{value:.4g}"
