"""One widget builder for every kind of parameter (see optiviz.widgets.Control)."""

from __future__ import annotations

import streamlit as st

from optiviz.widgets import LR_OPTIONS, Control, fmt, with_value


def draw(container, control: Control, key: str):
    """Draw `control` under session-state `key` (set to the control's value first, so a loaded
    scene shows exactly) and return what the widget holds."""
    ss = st.session_state
    kind = control.kind
    if kind == "optional":                  # a toggle, then a value
        on = container.toggle(f"set {control.label}", value=control.value is not None,
                              key=f"{key}.on", help=control.help)
        if not on:
            ss[key] = None
            return None
        value = control.value if control.value is not None else 0.1
        chosen = container.select_slider(control.label, with_value(LR_OPTIONS, value),
                                         value=value, format_func=fmt)
        ss[key] = chosen
        return chosen
    ss[key] = control.value
    if kind == "toggle":
        return container.toggle(control.label, key=key, help=control.help)
    if kind == "choice":
        return container.selectbox(control.label, list(control.options), key=key,
                                   help=control.help)
    if kind == "options":
        return container.select_slider(control.label, list(control.options), key=key,
                                       format_func=fmt, help=control.help)
    if kind == "int":
        return container.slider(control.label, int(control.low), int(control.high), key=key,
                                help=control.help)
    if kind == "slider":
        return container.slider(control.label, control.low, control.high, key=key,
                                step=control.step, help=control.help)
    if kind == "number":
        return container.number_input(control.label, min_value=control.low,
                                      max_value=control.high, key=key, step=control.step,
                                      format="%g", help=control.help)
    raise ValueError(f"unknown control kind {kind!r}")
