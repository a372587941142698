"""The live view as a Streamlit components-v2 element (its JS: static/live_view/*.js).

Mounted with a stable key, it keeps one Plotly graph across reruns and owns the timeline; the
server sends the view model (optiviz.live) and hears back a map click, the view and the step.
plotly.min.js is served by Streamlit's static file serving (.streamlit/config.toml), copied from
the installed plotly wheel into static/ on first use (never committed, never inlined).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path

import streamlit as st

from ui import state

STATIC = Path(__file__).resolve().parents[1] / "static"
_lock = threading.Lock()

# The component's own code is a loader: the modules are files, so a rerun sends only the data.
# Its first call starts plotly.js and the modules loading at once, in parallel (plotly_loader.js
# reuses the promise), unless the page's preload (preload_page) has started them already.
PRELOAD = """
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
  for (const m of ["index.js", "figures.js", "overlay.js", "why.js", "data.js",
                   "plotly_loader.js"]) {
    const link = document.createElement("link");
    link.rel = "modulepreload";
    link.href = url("live_view/" + m);
    document.head.appendChild(link);
  }
}
"""

JS = PRELOAD + """
export default async function (component) {
  preload();
  const view = await import(new URL("app/static/live_view/index.js", document.baseURI).href);
  return view.default(component);
}
"""

CSS = (STATIC / "live_view" / "live_view.css").read_text(encoding="utf-8")


# The page's first element: a hidden script that starts plotly.js (4.8 MB, compiled off the main
# thread while it streams in) and the view's modules as soon as the page's first message
# arrives. The component itself mounts only after Streamlit has rendered and loaded the code of
# every widget on the page, about 0.6 s later on a 2-core machine.
PRELOAD_HTML = ('<span id="optiviz-preload" hidden></span><script>' + PRELOAD
                + 'preload();</script>')


def preload_page() -> None:
    """Start plotly.js and the live view's modules loading (the first call of app.py's page;
    app.py's CSS hides the element, and a rerun with the same body changes nothing)."""
    ensure_plotly_js()
    st.html(PRELOAD_HTML, unsafe_allow_javascript=True)


# V8's explicit compile hint (Chromium >= 136; other engines read a comment): compile every
# function of the file on a background thread while it streams in, instead of on the main
# thread when plotly.js first calls it. Measured on this 2-core machine: page open ~80 ms
# sooner (benchmarks/bench_browser.py); the bytes after it are the wheel's, unchanged.
COMPILE_HINT = b"//# allFunctionsCalledOnLoad\n"


def ensure_plotly_js() -> None:
    """static/plotly.min.js: the installed plotly wheel's file behind the compile hint, written
    on first use and again when plotly is upgraded (the page loads it as a file)."""
    import plotly

    source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    target = STATIC / "plotly.min.js"
    wanted = source.stat().st_size + len(COMPILE_HINT)
    if _is_current(target, wanted):
        return
    with _lock:
        if not _is_current(target, wanted):
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(COMPILE_HINT + source.read_bytes())
            tmp.replace(target)


def _is_current(target: Path, size: int) -> bool:
    try:
        with target.open("rb") as f:
            return target.stat().st_size == size and f.read(len(COMPILE_HINT)) == COMPILE_HINT
    except OSError:
        return False


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


# Chart first: after the live view's new data, the script waits this long before it sends the
# rest of the page. The browser's Streamlit renders each element it is sent (one React render
# per element, unchanged or not), and the live view's code is called only after the renders
# queued before it: sent straight after it, the ~25 controls (drawn again, mostly unchanged)
# held the new picture back by ~100 ms on a 2-core machine. With the pause the picture comes
# first; the controls follow, as late as before. benchmarks/bench_browser.py measures both
# (OPTIVIZ_CHART_FIRST_PAUSE=0 turns it off).
CHART_FIRST_PAUSE = float(os.environ.get("OPTIVIZ_CHART_FIRST_PAUSE", "0.05"))


def _fingerprint(data: dict) -> str:
    """What the browser is sent, hashed (a fraction of a millisecond): changed or not. The
    surface counts by its key: its image goes once, and the run after drops it unchanged."""
    surface = data.get("surface")
    if isinstance(surface, dict):
        data = {**data, "surface": {k: v for k, v in surface.items() if k not in ("image", "mesh")}}
    text = json.dumps(data, separators=(",", ":"), sort_keys=True, default=repr)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def live_view(model: dict, *, key: str = "live_view", height: int = 520, on_change=None,
              chart_first: bool = False):
    """Mount the live view; returns the component's result (.click, .view, .step, .why, .map,
    .hyper: a settings-map cell clicked, .need_surface, .lesson: n/p, .drawn: the page's first
    picture is up, or plotly.js failed to load). With `chart_first`, a run that sends the view
    new data waits CHART_FIRST_PAUSE before going on (see there); the wait, 0 or the pause, is
    st.session_state["chart_first_pause"]."""
    mount = _component()
    callback = on_change or (lambda: None)
    data = {**model, "height": height}
    sent, last = _fingerprint(data), st.session_state.get(f"{key}.sent")
    st.session_state[f"{key}.sent"] = sent
    result = mount(key=key, data=data,
                 default={"view": model["view"], "step": model["step"],
                          "why": model.get("why_run"), "map": model.get("map_kind")},
                 on_click_change=callback, on_view_change=callback, on_step_change=callback,
                 on_need_surface_change=callback, on_why_change=lambda: _on_why(key),
                 on_map_change=lambda: _on_map(key), on_hyper_change=callback,
                 on_lesson_change=lambda: _on_lesson(key), on_drawn_change=callback)
    wait = CHART_FIRST_PAUSE if chart_first and last is not None and sent != last else 0.0
    if wait > 0:
        time.sleep(wait)
    st.session_state["chart_first_pause"] = wait
    return result
