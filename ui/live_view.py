"""The live view as a Streamlit components-v2 element (its JS: static/live_view/*.js).

Mounted with a stable key, it keeps one Plotly graph across reruns and owns the timeline; the
server sends the view model (optiviz.live) and hears back a map click, the view and the step.
plotly.min.js is served by Streamlit's static file serving (.streamlit/config.toml), copied from
the installed plotly wheel into static/ on first use (never committed, never inlined).
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import streamlit as st

from ui import state

STATIC = Path(__file__).resolve().parents[1] / "static"
_lock = threading.Lock()

# The component's own code is a loader: the modules are files, so a rerun sends only the data.
# Its first call starts plotly.js and the modules loading at once, in parallel (plotly_loader.js
# reuses the promise).
JS = """
function preload() {
  if (window.Plotly || window.__optivizPlotly) return;
  const url = (path) => new URL("app/static/" + path, document.baseURI).href;
  window.__optivizPlotly = new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = url("plotly.min.js");
    script.onload = () => resolve(window.Plotly);
    script.onerror = () => { window.__optivizPlotly = null; reject(new Error("plotly.min.js did not load")); };
    document.head.appendChild(script);
  });
  window.__optivizPlotly.catch(() => {});
  for (const m of ["figures.js", "overlay.js", "why.js", "data.js", "plotly_loader.js"]) {
    const link = document.createElement("link");
    link.rel = "modulepreload";
    link.href = url("live_view/" + m);
    document.head.appendChild(link);
  }
}

export default async function (component) {
  preload();
  const view = await import(new URL("app/static/live_view/index.js", document.baseURI).href);
  return view.default(component);
}
"""

CSS = (STATIC / "live_view" / "live_view.css").read_text(encoding="utf-8")


def ensure_plotly_js() -> None:
    """static/plotly.min.js, copied from the plotly package once (the page loads it as a file)."""
    target = STATIC / "plotly.min.js"
    if target.is_file():
        return
    import plotly

    source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    with _lock:
        if not target.is_file():
            tmp = target.with_suffix(".tmp")
            shutil.copyfile(source, tmp)
            tmp.replace(target)


@st.cache_resource(show_spinner=False)
def _component():
    ensure_plotly_js()
    return st.components.v2.component("optimizer_race_live_view", js=JS, css=CSS,
                                      isolate_styles=False)


def _on_why(key: str):
    """The "why it moves" panel opened, closed or turned to another run: before the script
    runs (a callback), so this rerun already sends that run's record."""
    value = (st.session_state.get(key) or {}).get("why")
    st.session_state["why"] = value if isinstance(value, int) and value >= 0 else None


def _on_map(key: str):
    """The Maps view asked for a map (or, leaving it, for none): computed in this rerun."""
    value = (st.session_state.get(key) or {}).get("map")
    st.session_state["map"] = value if value in ("basin", "hyper", "spread") else None


def _on_lesson(key: str):
    """n/p pressed in the live view: the next or previous lesson of the list, loaded before
    the script runs (a callback), so this rerun already draws it."""
    value = (st.session_state.get(key) or {}).get("lesson")
    if type(value) is int:                      # noqa: E721 - 1 or -1, never True
        state.step_lesson(value)


def live_view(model: dict, *, key: str = "live_view", height: int = 520, on_change=None):
    """Mount the live view; returns the component's result (.click, .view, .step, .why, .map,
    .hyper: a settings-map cell clicked, .need_surface, .lesson: n/p)."""
    mount = _component()
    callback = on_change or (lambda: None)
    return mount(key=key, data={**model, "height": height},
                 default={"view": model["view"], "step": model["step"],
                          "why": model.get("why_run"), "map": model.get("map_kind")},
                 on_click_change=callback, on_view_change=callback, on_step_change=callback,
                 on_need_surface_change=callback, on_why_change=lambda: _on_why(key),
                 on_map_change=lambda: _on_map(key), on_hyper_change=callback,
                 on_lesson_change=lambda: _on_lesson(key))
