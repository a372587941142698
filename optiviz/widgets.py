"""Slider vocabularies for the sidebar: which values a control offers for each parameter.

Plain data and small functions (no Streamlit), so the app stays widgets-and-layout only and the
choices are testable. Log-scale quantities get log-spaced options; a value that came from a
share link or a preset is always added to the options, so loading a scene never rounds it.
"""

from __future__ import annotations

import math

from . import i18n


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


# ---- one description per control, whatever the parameter (surface, optimizer, schedule) ------

from dataclasses import dataclass, field   # noqa: E402 - the section below builds on the above


@dataclass(frozen=True)
class Control:
    """How one parameter is shown: kind is "slider" (low, high, step), "int" (an integer slider),
    "options" (a select slider over `options`), "number" (a typed number in [low, high]),
    "toggle", "choice" (a select box over `options`) or "optional" (a toggle, then options).

    Every builder below guarantees the current value is one the control can show, so loading a
    scene never rounds, cuts or refuses a value the scene accepted."""

    kind: str
    label: str
    value: object
    low: float | None = None
    high: float | None = None
    step: float | None = None
    options: tuple = field(default_factory=tuple)
    help: str = ""
    log: bool = False


def _log_grid(low: float, high: float, per_decade: int = 6) -> list[float]:
    a, b = math.log10(low), math.log10(high)
    n = max(1, int(round((b - a) * per_decade)))
    return [float(f"{10 ** (a + i * (b - a) / n):.3g}") for i in range(n + 1)]


def hyper_label(optimizer: str, name: str, lang: str = "en") -> str:
    """The label a hyperparameter's slider shows (e.g. "β₁", "weight decay λ"), in `lang`; "lr"
    is the learning rate's."""
    from optim_core import OPTIMIZERS

    if name == "lr":
        return i18n.t("sidebar.lr", lang)
    spec = OPTIMIZERS.get(optimizer)
    param = next((p for p in spec.hyper if p.name == name), None) if spec else None
    english = (param.label or name) if param else name
    return _words((f"hyper.{optimizer}.{name}", f"hyper.{name}"), english, "", lang)[0]


def _words(keys: tuple[str, ...], label: str, help_: str, lang: str) -> tuple[str, str]:
    """A parameter's label and help in `lang`: the first catalog key of `keys` that exists
    (each a prefix of ".label" / ".help"), else the parameter's own English."""
    if i18n.normalize(lang) == "en":
        return label, help_
    for part, english in (("label", label), ("help", help_)):
        for key in keys:
            if i18n.has(f"{key}.{part}"):
                if part == "label":
                    label = i18n.t(f"{key}.{part}", lang)
                else:
                    help_ = i18n.t(f"{key}.{part}", lang)
                break
    return label, help_


def surface_control(param, value, lang: str = "en", surface: str | None = None,
                    name: str | None = None) -> Control:
    """A surface parameter (landscapes.Param): log options, or a slider over its whole range.
    lang, surface, name: its label and help in that language (catalog "surfparam.<surface>.<name>")."""
    value = float(value)
    label, help_ = _words((f"surfparam.{surface}.{name}",), param.label, param.help, lang)
    if param.log:
        return Control("options", label, value, options=tuple(
            with_value(_log_grid(param.min, param.max), value)), help=help_, log=True)
    return Control("slider", label, value, float(param.min), float(param.max),
                   (param.max - param.min) / 200, help=help_)


def hyper_control(param, value, lang: str = "en", optimizer: str | None = None) -> Control:
    """An optimizer hyperparameter (optim_core HyperParam) with its HYPER_CONTROLS vocabulary;
    its label and help in `lang` (catalog "hyper.<optimizer>.<name>", then "hyper.<name>")."""
    spec = HYPER_CONTROLS.get(param.name, ("options", [param.default]))
    label, help_ = _words((f"hyper.{optimizer}.{param.name}", f"hyper.{param.name}"),
                          param.label or param.name, param.help, lang)
    if spec[0] == "toggle":
        return Control("toggle", label, bool(value), help=help_)
    value = float(value)
    if spec[0] == "slider":
        return Control("slider", label, value, min(spec[1], value), max(spec[2], value), spec[3],
                       help=help_)
    return Control("options", label, value, options=tuple(with_value(list(spec[1]), value)),
                   help=help_)


def schedule_control(param, value, steps: int, lang: str = "en",
                     schedule: str | None = None) -> Control:
    """A schedule parameter (optim_core ScheduleParam) for a run of `steps` steps. Integer
    lengths get a slider sized to the run, widened (up to what the core accepts) for a value
    beyond it. lang, schedule: its label and help in that language ("schedparam.<schedule>.*")."""
    label, help_ = _words((f"schedparam.{schedule}.{param.name}",), param.label or param.name,
                          param.help, lang)
    if param.kind == "int":
        lo = int(param.low)
        fit = int(min(param.high, max(steps, 1) * (2 if param.name == "T_max" else 1)))
        value = int(min(max(int(value), lo), param.high))
        return Control("int", label, value, lo, max(fit, value, lo + 1), 1, help=help_)
    if param.kind == "choice":
        return Control("choice", label, value, options=tuple(param.choices), help=help_)
    if param.kind == "bool":
        return Control("toggle", label, bool(value), help=help_)
    if param.kind == "optional_real":
        if value is not None:
            value = float(value)
        return Control("optional", label, value, options=tuple(
            with_value(LR_OPTIONS, value) if value is not None else LR_OPTIONS), help=help_)
    value = float(value)
    high = param.high if param.high is not None else max(10.0, value)
    return Control("number", label, value, min(float(param.low or 0.0), value), float(high),
                   0.01 if high <= 1 else None, help=help_)
