"""Optimizer race: watch gradient-based optimizers move on 2D loss surfaces.

    streamlit run app.py

Widgets and layout only. The scene (optiviz.scene) is the single source of truth: widgets are
initialised from it, every rerun builds it back from the widgets, and the URL, the caches and the
exports all carry it. Computation and figures live in optiviz/, tested without Streamlit.
"""

from __future__ import annotations

import html
import json
import time

import streamlit as st

_RUN_STARTED = time.perf_counter()

from optiviz import explain, export, figures, presets, url_state
from optiviz import scene as scenes
from ui import text as ui_text
from ui.export_panel import export_panel
from ui.sidebar import sidebar
from ui.state import load_scene, on_upload

st.set_page_config(page_title="Optimizer race", page_icon="🏁", layout="wide",
                   initial_sidebar_state="expanded")

VIEWS = ["Race", "Side by side", "3D", "Curves"]
FIGURE_HEIGHT = 560
FRAMES = 60                # animation frames sent to the browser (its redraw cost grows with them)
LAYOUT_WIDTH = 880         # the main column's width on a 1280-pixel screen with the sidebar open
# Streamlit's default top padding would push the race below the fold on a 720-pixel projector.
COMPACT_CSS = """<style>
[data-testid="stMainBlockContainer"], .block-container {padding-top: 0.8rem; padding-bottom: 1rem;}
header[data-testid="stHeader"] {display: none;}
[data-testid="stSidebarHeader"] {height: 2rem; min-height: 2rem;}
</style>"""
st.html(COMPACT_CSS)


# ---- cached computation (keyed on JSON text; bounded) --------------------------------------

@st.cache_resource(show_spinner=False)
def run_cache() -> scenes.RunCache:
    """Trajectories by run, shared by all sessions: a slider re-runs only its own optimizer."""
    return scenes.RunCache(max_entries=256)


@st.cache_data(max_entries=32, show_spinner=False)
def compute(scene_json: str):
    return scenes.compute_scene(json.loads(scene_json), cache=run_cache())


@st.cache_resource(max_entries=48, show_spinner=False)
def build_figure(view: str, scene_json: str, step: int, height: int = 560):
    """Figures are cached as objects (pickling one with its frames costs more than building it);
    nothing mutates them after this."""
    result = compute(scene_json)
    # Sized to fit a 1280x720 projector under the controls; the caption is shown by the app.
    if view == "Race":
        # The page's own step slider scrubs; the figure's would double it and cost a third of
        # plotly.js's drawing time on every change.
        return figures.race_figure(result, step=step, frames=FRAMES, height=height,
                                   caption=None, title=False, layout_width=LAYOUT_WIDTH,
                                   slider=False, click_grid=20, spec=True)
    build = {"Side by side": figures.panels_figure, "3D": figures.surface3d_figure,
             "Curves": figures.curves_figure}[view]
    if view == "Side by side":
        return build(result, step=step, frames=FRAMES, height=height, caption=None, spec=True)
    return build(result, step=step, height=height, caption=None, spec=True)


# ---- the map click -------------------------------------------------------------------------

def on_map_click():
    """A click on the map asks for the start to move to the clicked grid point. The chart lives
    in a fragment, so the move is applied by a full rerun before the sidebar is drawn."""
    state = st.session_state.get("race_chart")
    points = (state or {}).get("selection", {}).get("points", []) if state else []
    if points:
        x, y = points[0].get("x"), points[0].get("y")
        if isinstance(x, (int, float)) and isinstance(y, (int, float)):
            st.session_state["pending_start"] = (float(x), float(y))


# ---- first run: the URL, else the default scene ------------------------------------------

if "opt_uids" not in st.session_state:
    url_scene, url_warnings = url_state.params_to_scene(dict(st.query_params))
    load_scene(url_scene)
    st.session_state["url_warnings"] = url_warnings
    if not st.query_params:
        st.session_state["lesson"] = None


if "pending_start" in st.session_state:
    st.session_state["start_x"], st.session_state["start_y"] = st.session_state.pop("pending_start")
    st.session_state.pop("lesson", None)


# ---- main area ----------------------------------------------------------------------------

raw_scene = sidebar()
notes = list(st.session_state.pop("url_warnings", []) or [])
try:
    scene = scenes.normalize_scene(raw_scene)
    st.session_state["scene_json"] = scenes.scene_to_json(scene)
except ValueError as err:
    notes.append(f"That setting is not allowed, showing the last valid scene instead: {err}")
    scene = json.loads(st.session_state["scene_json"])
scene_json = scenes.scene_to_json(scene)
loaded = st.session_state.pop("loaded_scene", None)
if loaded is not None:          # a link, preset or file the controls could not show as written
    notes += [f"changed {line}" for line in scenes.differences(loaded, scene)]

# One box for everything the page had to change or ignore; user text shown literally.
if notes:
    ui_text.warning(f"The scene was not loaded exactly as given ({len(notes)} "
                    f"{'change' if len(notes) == 1 else 'changes'}):", notes)
if st.session_state.get("upload_error"):
    ui_text.error("Scene file refused, nothing changed:", [st.session_state["upload_error"]])

# Keep the URL in step with the scene: copying it reproduces the scene exactly.
wanted = url_state.scene_to_params(scene)
if {k: st.query_params.get(k) for k in wanted} != wanted or set(st.query_params) - set(wanted):
    st.query_params.from_dict(wanted)

result = compute(scene_json)
surface = result.surface

lesson = st.session_state.get("lesson")
if lesson:
    preset = presets.get_preset(lesson)
    # One short box (the lesson itself goes under the chart) keeps the race above the fold.
    st.info(f"**{preset.title}. Watch:** {preset.watch}")


@st.fragment
def timeline_and_views():
    """The step slider scrubs every view and the table together, without recomputing runs."""
    steps = scene["steps"]
    left, right = st.columns([2, 3], vertical_alignment="center")
    view = left.segmented_control("View", VIEWS, key="view", default="Race",
                                  label_visibility="collapsed") or "Race"
    step = right.slider("Step: drag to scrub every view (▶ in the chart plays the race)", 0,
                        steps, value=steps, key=f"timeline.{steps}")
    # With a lesson box above, a shorter chart keeps the controls on a 720-pixel screen.
    fig = build_figure(view, scene_json, step, FIGURE_HEIGHT - 70 if lesson else FIGURE_HEIGHT)
    if view == "Race":
        st.plotly_chart(fig, key="race_chart", on_select=on_map_click, selection_mode="points",
                        config={"displaylogo": False, "doubleClick": False})
        if "pending_start" in st.session_state:
            st.rerun(scope="app")
    else:
        st.plotly_chart(fig, key=f"chart.{view}", config={"displaylogo": False})
    about = presets.get_preset(lesson).lesson if lesson else f"{surface.title}: {surface.description}"
    st.caption(f"{about} {scenes.comparison_caption(scene)}")        # our own text and numbers
    st.dataframe(figures.summary_rows(result, step=step), hide_index=True, width="stretch")
    export_panel(result, view, step)


timeline_and_views()

with st.expander("How each optimizer moves: update rules with the current values", expanded=False):
    for run, entry in zip(result.runs, scene["optimizers"]):
        lr = scene["shared_lr"] if scene["shared_lr"] is not None else entry["lr"]
        st.markdown(f"**<span style='color:{html.escape(run.color)}'>■</span> "
                    f"{ui_text.literal(html.escape(run.label), 120)}**", unsafe_allow_html=True)
        st.latex(explain.rule_latex(entry["optimizer"], entry["hyperparameters"], lr))
        st.caption(explain.describe(entry["optimizer"], surface.name))
    st.markdown(f"**Surface.** {surface.description}")
    st.latex(surface.formula)

with st.expander("Share and save the scene"):
    st.caption("The page's URL holds the whole scene: copy it to share exactly this race.")
    st.download_button("Download scene (JSON)", export.scene_json(scene), "scene.json",
                       "application/json", on_click="ignore")
    st.file_uploader("Load a scene file", type=["json"], key="scene_upload", on_change=on_upload,
                     max_upload_size=1)

# The script's own rerun time, read by the tests and the benchmark (not shown to users).
st.session_state["rerun_seconds"] = time.perf_counter() - _RUN_STARTED
