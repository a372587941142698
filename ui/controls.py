"""One widget builder for every kind of parameter (see optiviz.widgets.Control)."""

from __future__ import annotations

import streamlit as st

from optiviz.widgets import LR_OPTIONS, Control, fmt, with_value
from ui import lang as ui_lang


class StateReader:
    """A stand-in for a Streamlit container that draws nothing: each widget call returns what
    that widget would return (its session-state value). The sidebar's code run against it reads
    the scene without sending a widget: for a closed panel, and before the sidebar is drawn, so
    the live view can be the first thing the page sends."""

    def _value(self, key=None, value=None, **_):
        return st.session_state.get(key, value) if key is not None else value

    def selectbox(self, label, options, index=0, key=None, **kw):
        options = list(options)
        default = options[index] if options and index is not None else None
        return self._value(key, default)

    def slider(self, label, min_value=None, max_value=None, value=None, key=None, **kw):
        return self._value(key, value if value is not None else min_value)

    def number_input(self, label, min_value=None, max_value=None, value=None, key=None, **kw):
        return self._value(key, value if value is not None else min_value)

    def text_input(self, label, value="", key=None, **kw):
        return self._value(key, value)

    def select_slider(self, label, options=(), value=None, key=None, **kw):
        return self._value(key, value if value is not None else list(options)[0])

    def toggle(self, label, value=False, key=None, **kw):
        return self._value(key, value)

    def multiselect(self, label, options, default=None, key=None, **kw):
        return self._value(key, default or [])

    def button(self, *args, **kw):
        return False

    def columns(self, spec, **kw):
        return [self] * (spec if isinstance(spec, int) else len(spec))

    def expander(self, *args, **kw):
        return self

    def markdown(self, *args, **kw):
        return None

    caption = latex = error = warning = markdown

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


READER = StateReader()


def draw(container, control: Control, key: str):
    """Draw `control` under session-state `key` (set to the control's value first, so a loaded
    scene shows exactly) and return what the widget holds."""
    ss = st.session_state
    kind = control.kind
    if container is READER:
        ss[key] = control.value
        return control.value
    if kind == "optional":                  # a toggle, then a value
        on = container.toggle(ui_lang.t("controls.set", label=control.label),
                              value=control.value is not None,
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


def _remember_open(key: str):
    st.session_state["open." + key] = bool(st.session_state.get(key))


def lazy_panel(container, title: str, key: str):
    """An expander whose contents are sent only while it is open; returns (expander, open).

    Streamlit's stateful expander takes its label into its identity, so a title that shows the
    panel's values would close it on every change; we remember the open state ourselves
    (session key "open.<key>") and hand it back as the expander's starting state."""
    is_open = bool(st.session_state.get("open." + key, False))
    if container is READER:
        return READER, is_open
    panel = container.expander(title, expanded=is_open, key=key, on_change=_remember_open,
                               args=(key,))
    return panel, bool(panel.open)
