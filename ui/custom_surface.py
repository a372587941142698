"""The typed surface's controls (surface "custom"): f(x, y) as text, its plot window, and the
formula shown back in LaTeX with its exact gradient, or one error pointing at the column.

The text is never rendered as Markdown, HTML or LaTeX: what is shown in LaTeX is SymPy's
rendering of the vetted tree (landscapes.formula), and every message goes through ui.text.
Like the rest of the sidebar, custom_surface() runs twice per rerun: against ui.controls.READER
(which draws nothing and returns the session-state values) to read the scene first, then into
the sidebar; both runs return the same parameters.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import streamlit as st

import landscapes
from landscapes.formula import ALLOWED, CUSTOM, FUNCTIONS, MAX_LENGTH, NAMES, WINDOW_PARAMS
from optiviz import i18n, messages
from optiviz import scene as scenes
from ui import lang as ui_lang
from ui import text as ui_text
from ui.controls import READER

DEFAULT_FORMULA = "sin(x)*cos(y) + 0.1*(x^2 + y^2)"
FORMULA_KEY = "surface.formula"
TITLE = "Custom: type your own f(x, y)"
HELP = (f"A formula in x and y, e.g. {DEFAULT_FORMULA}. Powers: ^ or **. It is checked, never "
        f"run as code; {ALLOWED}. Press Enter to apply.")
# What SymPy's LaTeX of a vetted formula is made of; anything else is not shown as LaTeX.
_LATEX_CHARS = re.compile(r"[A-Za-z0-9 \\{}()\[\]^_.,;:!|+\-=*/'&]*\Z")


class CustomControls(NamedTuple):
    params: dict        # the scene's surface parameters: the formula and the window
    bounds: tuple       # where the start point may be: the window (sorted if typed backwards)
    start: tuple        # the surface's own start (the start inputs' default)


def surface_label(name: str, lang: str = "en") -> str:
    """The Surface selectbox's text for a surface name (the typed one included), in `lang`."""
    if lang == "en":
        return TITLE if name == CUSTOM else landscapes.get(name).title
    return i18n.t("custom.title" if name == CUSTOM else f"surface.{name}.title", lang)


def _help() -> str:
    if ui_lang.current() == "en":
        return HELP
    allowed = ui_lang.t("custom.allowed", names=", ".join(NAMES), functions=", ".join(FUNCTIONS))
    return ui_lang.t("custom.help", formula=DEFAULT_FORMULA, allowed=allowed)


def surface_choices() -> list[str]:
    return [*landscapes.names(), CUSTOM]


def custom_surface(sb) -> CustomControls:
    """Draw the typed surface's inputs into the sidebar container `sb` (nothing with READER) and
    return its parameters, the start's bounds and default. A refused formula or window is shown
    as one error here; the scene it makes is refused by normalize_scene, so the page keeps the
    last valid scene."""
    ss = st.session_state
    if FORMULA_KEY not in ss:
        ss[FORMULA_KEY] = DEFAULT_FORMULA
    for key, p in WINDOW_PARAMS.items():
        if f"surface.{key}" not in ss:
            ss[f"surface.{key}"] = float(p.default)
    drawn = sb is not READER
    text = sb.text_input("f(x, y) =", key=FORMULA_KEY, max_chars=MAX_LENGTH,
                         placeholder=ui_lang.t("custom.placeholder", formula=DEFAULT_FORMULA),
                         help=_help())
    window = {}
    for pair in (("xmin", "xmax"), ("ymin", "ymax")):
        row = sb.container(horizontal=True) if drawn else READER
        for key in pair:
            r = scenes.RANGES[f"surface.{key}"]
            label = r.label if ui_lang.current() == "en" else ui_lang.t(f"surfparam.custom.{key}.label")
            window[key] = row.number_input(label, float(r.low), float(r.high),
                                           key=f"surface.{key}", step=0.5, format="%g")
    params = {"formula": text, **{k: float(v) for k, v in window.items()}}
    try:
        surface, error = landscapes.get(CUSTOM, **params), None
    except ValueError as err:          # FormulaError included: shown, never raised here
        surface, error = None, err
    if surface is not None:
        bounds, start = surface.bounds, surface.start
    else:
        bounds = _fallback_bounds(params)
        start = tuple((lo + hi) / 2.0 for lo, hi in bounds)
    if drawn:
        if error is not None:
            _show_error(sb, text, error)
        else:
            _show_formula(sb, surface)
    return CustomControls(params, bounds, start)


def _fallback_bounds(params: dict) -> tuple:
    """The window as typed, sorted and never empty: the start inputs need some range while the
    window itself is refused."""
    out = []
    for lo, hi in ((params["xmin"], params["xmax"]), (params["ymin"], params["ymax"])):
        lo, hi = min(lo, hi), max(lo, hi)
        out.append((lo, hi if hi > lo else lo + 1.0))
    return tuple(out)


def pointer(text: str, column: int | None, around: int = 30) -> str | None:
    """The formula with a ▸ before the character at `column` (1-based), cut to `around`
    characters on either side; None when the column is not a character of the text."""
    if not isinstance(text, str) or not isinstance(column, int) or not 1 <= column <= len(text):
        return None
    i = column - 1
    lo, hi = max(0, i - around), min(len(text), i + around + 1)
    return (("…" if lo else "") + text[lo:i] + "▸" + text[i:hi] + ("…" if hi < len(text) else ""))


def _show_error(sb, text: str, error: Exception) -> None:
    items = [messages.localize(str(error), ui_lang.current())]      # the core's English, shown
    marked = pointer(text, getattr(error, "column", None))
    if marked is not None:
        items.append(ui_lang.t("custom.here", marked=marked))
    sb.error(ui_text.notice_body(ui_lang.t("custom.not_used"), items, lang=ui_lang.current()))


def safe_latex(latex) -> str | None:
    """SymPy's LaTeX of a vetted formula, or None if it holds anything else (never shown)."""
    if isinstance(latex, str) and latex and len(latex) <= 20_000 and _LATEX_CHARS.match(latex):
        return latex
    return None


_GRADIENT_HEAD, _GRADIENT_SEP, _GRADIENT_TAIL = r"\nabla f(x, y) = \left(", r",\; ", r"\right)"


def latex_lines(surface) -> list[str]:
    """The lines shown: f, then ∂f/∂x and ∂f/∂y one per line (a narrow sidebar reads them better
    than the gradient's tuple, which is shown whole when it cannot be split exactly)."""
    lines = [safe_latex(surface.formula)]
    grad = safe_latex(surface.gradient_formula)
    inner = grad[len(_GRADIENT_HEAD):-len(_GRADIENT_TAIL)] if grad else ""
    if grad and grad.startswith(_GRADIENT_HEAD) and grad.endswith(_GRADIENT_TAIL) \
            and inner.count(_GRADIENT_SEP) == 1:
        gx, gy = inner.split(_GRADIENT_SEP)
        lines += [r"\tfrac{\partial f}{\partial x} = " + gx, r"\tfrac{\partial f}{\partial y} = " + gy]
    else:
        lines.append(grad)
    return [line for line in lines if line]


def _show_formula(sb, surface) -> None:
    lines = latex_lines(surface)
    if lines:       # one element for all lines, left-aligned: every element costs a render
        sb.latex(r"\begin{aligned}" + r" \\ ".join("&" + line for line in lines)
                 + r"\end{aligned}")
    if surface.warnings:
        lang = ui_lang.current()
        sb.caption(ui_text.literal("⚠️ " + " ".join(messages.localize(w, lang)
                                                    for w in surface.warnings)))
