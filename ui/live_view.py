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

STATIC = Path(__file__).resolve().parents[1] / "static"
_lock = threading.Lock()

# The component's own code is a loader: the modules are files, so a rerun sends only the data.
JS = """
export default async function (component) {
  const base = new URL("app/static/live_view/index.js", document.baseURI).href;
  const view = await import(base);
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


PRELOAD_JS = """
export default function () {
  // Start fetching and compiling plotly.js while the rest of the page renders.
  import(new URL("app/static/live_view/plotly_loader.js", document.baseURI).href)
    .then((m) => m.loadPlotly()).catch(() => {});
}
"""


@st.cache_resource(show_spinner=False)
def _preloader():
    ensure_plotly_js()
    return st.components.v2.component("optimizer_race_preload", js=PRELOAD_JS,
                                      isolate_styles=False)


def preload_plotly() -> None:
    """Mount first on the page: plotly.js loads in parallel with the sidebar's first render."""
    _preloader()(key="plotly_preload")


def live_view(model: dict, *, key: str = "live_view", height: int = 520, on_change=None):
    """Mount the live view; returns the component's result (.click, .view, .step,
    .need_surface)."""
    mount = _component()
    callback = on_change or (lambda: None)
    return mount(key=key, data={**model, "height": height}, default={"view": model["view"],
                                                                        "step": model["step"]},
                 on_click_change=callback, on_view_change=callback, on_step_change=callback,
                 on_need_surface_change=callback)
