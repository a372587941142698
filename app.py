"""Optimizer race: watch gradient-based optimizers move on 2D loss surfaces.

    streamlit run app.py

Widgets and layout only. The scene (optiviz.scene) is the single source of truth: widgets are
initialised from it, every rerun builds it back from the widgets, and the URL, the caches and the
exports all carry it. Computation and figures live in optiviz/, tested without Streamlit.
"""

from __future__ import annotations

import html
import json
import os
import time

import streamlit as st

_RUN_STARTED = time.perf_counter()

from optiviz import explain, export, live, map_view, messages, presets, url_state
from optiviz import scene as scenes
from optiviz.figures import surface_words
from ui import lang as ui_lang
from ui import text as ui_text
from ui.controls import lazy_panel
from ui.export_panel import export_panel
from ui.live_view import live_view, preload_page
from ui.sidebar import scene_from_state, sidebar
from ui.state import keep_values, load_map_cell, load_scene, on_upload

if "page_title_lang" not in st.session_state:      # the browser keeps it for the session
    st.set_page_config(page_title="Optimizer race", page_icon="🏁", layout="wide",
                       initial_sidebar_state="auto")  # "auto": closed on a phone, open on a laptop

FIGURE_HEIGHT = 470       # the live view's plot; with its bars it fits a 1280x720 projector
EXPORT_VIEWS = {"race": "race", "side": "panels", "3d": "3d", "curves": "curves"}
# Streamlit's default top padding would push the race below the fold on a 720-pixel projector.
# The header (its only use here: the button that opens a closed sidebar) shows only while the
# sidebar is closed, as on a phone; there the page's side padding goes to the chart.
COMPACT_CSS = """<style>
[data-testid="stMainBlockContainer"], .block-container {padding-top: 0.8rem; padding-bottom: 1rem;}
header[data-testid="stHeader"] {display: none;}
.stApp:has(section[data-testid="stSidebar"][data-collapsed="true"]) header[data-testid="stHeader"] {display: block;}
.stApp:has(section[data-testid="stSidebar"][data-collapsed="true"]) [data-testid="stMainBlockContainer"] {padding-top: 3.9rem;}
[data-testid="stSidebarHeader"] {height: 2rem; min-height: 2rem;}
[data-testid="stElementContainer"]:has(#optiviz-preload) {display: none;}
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"], .block-container {padding-left: 0.25rem; padding-right: 0.25rem;}
}
</style>"""
# The presenter's page (?present=1): the picture and its timeline only, as wide as the window.
PRESENT_CSS = """<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], header[data-testid="stHeader"] {display: none !important;}
[data-testid="stMainBlockContainer"], .block-container {max-width: 100%; padding: 0.5rem 1.2rem 0.5rem;}
[data-testid="stAlert"] p, [data-testid="stCaptionContainer"] {font-size: clamp(1.25rem, 2.4vh, 1.75rem);}
@media (max-width: 640px) {[data-testid="stMainBlockContainer"] {padding: 0.25rem;}}
</style>"""
st.html(COMPACT_CSS)
preload_page()          # plotly.js starts loading with the page's first message


# ---- cached computation (keyed on JSON text; bounded) --------------------------------------

@st.cache_resource(show_spinner=False)
def run_cache() -> scenes.RunCache:
    """Trajectories by run, shared by all sessions: a slider re-runs only its own optimizer."""
    return scenes.RunCache(max_entries=256)


@st.cache_resource(max_entries=32, show_spinner=False)
def compute(scene_json: str):
    """Shared, never mutated: cached as the object (no pickling on every rerun)."""
    return scenes.compute_scene(json.loads(scene_json), cache=run_cache())


@st.cache_resource(max_entries=64, show_spinner=False)
def model_for(scene_json: str, include_surface: bool, lang: str = "en") -> dict:
    """The live view's record of a scene, shared by every session showing it (callers copy the
    top level before changing a key; nothing nested is ever changed); its words in `lang`."""
    return live.view_model(compute(scene_json), include_surface=include_surface, lang=lang)


@st.cache_resource(max_entries=32, show_spinner=False)
def why_for(scene_json: str, index: int) -> dict:
    """The "why it moves" record of one run: the scene run again with record_state=True (its
    own cache entries; positions are bit-identical), only while the panel is open."""
    recorded = scenes.compute_scene(json.loads(scene_json), cache=run_cache(), record_state=True)
    return live.why_model(recorded, index)


@st.cache_resource(max_entries=16, show_spinner=False)
def map_for(scene_json: str, kind: str) -> dict:
    """A map of the scene (optiviz.map_view): hundreds to thousands of runs, once per process."""
    return map_view.map_model(compute(scene_json), kind)


# ---- first run: the URL, else the default scene ------------------------------------------

if "opt_uids" not in st.session_state:
    ss = st.session_state
    url_scene, url_warnings = url_state.params_to_scene(dict(st.query_params))
    lesson_only = set(st.query_params) <= set(url_state.VIEW_KEYS)
    if lesson_only and st.query_params.get("lesson") in presets.preset_keys():
        # A lesson's short link (?lesson=key, as a teacher hands it out): its own scene.
        url_scene = presets.get_preset(st.query_params["lesson"]).scene
    load_scene(url_scene)
    on_screen, view_warnings = url_state.params_to_view(dict(st.query_params), url_scene["steps"],
                                                        presets.preset_keys(),
                                                        len(url_scene["optimizers"]))
    ss["url_warnings"] = url_warnings + view_warnings
    ss["view"], ss["step"], ss["lesson"] = on_screen["view"], on_screen["step"], on_screen["lesson"]
    ss["why"] = on_screen["why"]
    ss["present"], ss["lessons"] = on_screen["present"], on_screen["lessons"]
    ui_lang.init(on_screen["lang"])         # the link's language, else the browser's
    if lesson_only and ss["lesson"] is None and ss["lessons"]:
        # A lesson list without a lesson (?lessons=a,b,c): the class starts on its first.
        ss["lesson"] = ss["lessons"][0]
        load_scene(presets.get_preset(ss["lesson"]).scene)
    if lesson_only and ss["lesson"] and "why" not in st.query_params:
        ss["why"] = presets.get_preset(ss["lesson"]).why
    ss["autoplay"] = on_screen["step"] is None        # a first visit sees the race run once


keep_values()
lang, t = ui_lang.current(), ui_lang.t      # the page's language (the sidebar's switch)
if st.session_state.get("page_title_lang") != lang:     # sent again only when it changes
    st.set_page_config(page_title=t("app.title"))
    st.session_state["page_title_lang"] = lang
if st.session_state.get("present"):
    st.html(PRESENT_CSS)
if "pending_start" in st.session_state:
    st.session_state["start_x"], st.session_state["start_y"] = st.session_state.pop("pending_start")
    st.session_state.pop("lesson", None)


# ---- main area ----------------------------------------------------------------------------

# The scene is read from the controls' state first and the live view sent before the sidebar's
# widgets: the chart's data is the first thing the browser gets (every widget costs a render).
raw_scene = scene_from_state()
# What the page tells a user about their own input is built in English (a link's warnings, the
# core's errors): shown in the page's language (optiviz.messages), the user's text kept as data.
once = [messages.localize(note, lang) for note in st.session_state.pop("url_warnings", []) or []]
notes = []
try:
    scene = scenes.normalize_scene(raw_scene)
    st.session_state["scene_json"] = scenes.scene_to_json(scene)
except ValueError as err:
    notes.append(t("app.not_allowed", error=messages.localize(str(err), lang)))
    scene = json.loads(st.session_state["scene_json"])
scene_json = scenes.scene_to_json(scene)
loaded = st.session_state.pop("loaded_scene", None)
if loaded is not None:          # a link, preset or file the controls could not show as written
    once += [t("app.changed", line=messages.localize(line, lang))
             for line in scenes.differences(loaded, scene)]
# Said once, they stay until the user's first action: a page's first run draws no controls and
# the run that draws them follows on its own, so they are said again there.
if not st.session_state.get("controls_ready"):
    st.session_state["notes_again"] = once
else:
    once = st.session_state.pop("notes_again", []) + once
notes = once + notes

# One box for everything the page had to change or ignore; user text shown literally.
if notes:
    ui_text.warning(t("app.not_loaded_one") if len(notes) == 1 else
                    t("app.not_loaded_many", n=len(notes)), notes, lang=lang)
if st.session_state.get("upload_error"):
    ui_text.error(t("app.file_refused"),
                  [messages.localize(st.session_state["upload_error"], lang)], lang=lang)

result = compute(scene_json)
surface = result.surface
ss = st.session_state
if ss.get("step") is not None and ss["step"] > scene["steps"]:
    ss["step"] = None

# Keep the URL in step with what is on screen: copying it reproduces the scene, the view, the
# step and the lesson exactly.
lesson = ss.get("lesson")
wanted = {**url_state.scene_to_params(scene),
          **url_state.view_to_params(ss.get("view"), ss.get("step"), scene["steps"], lesson,
                                     ss.get("why"), ss.get("present", False),
                                     ss.get("lessons") or (), lang)}
if {k: st.query_params.get(k) for k in wanted} != wanted or set(st.query_params) - set(wanted):
    st.query_params.from_dict(wanted)

if lesson:
    preset = presets.get_preset(lesson)
    # One short box (the lesson itself goes under the chart) keeps the race above the fold.
    title, _, watch = preset.text(lang)
    st.info(f"**{title}. {t('app.watch')}** {watch}")

# The live view: the surface image goes once per surface; a new token replays the race.
send_surface = ss.get("sent_surface") != live.surface_key(scene)
model = dict(model_for(scene_json, send_surface, lang))
if ss.pop("autoplay", False):
    ss["autoplay_token"] = ss.get("autoplay_token", 0) + 1
model.update(view=ss.get("view") or "race", step=ss.get("step"),
             autoplay=ss.get("autoplay_token", 0),
             opens_at=presets.get_preset(lesson).opens_at if lesson else None)
if ss.get("why") is not None and not 0 <= ss["why"] < len(result.runs):
    ss["why"] = None                             # that run is gone
model["why_run"] = ss.get("why")
if ss.get("why") is not None:                    # the panel is open: that run's state
    model["why"] = live.why_text(why_for(scene_json, ss["why"]), lang)
model["map_kind"] = ss.get("map")
model["present"] = bool(ss.get("present"))
listed = [k for k in ss.get("lessons") or () if k in presets.preset_keys()]
model["lessons"] = {"keys": listed, "titles": [presets.get_preset(k).text(lang)[0] for k in listed],
                    "at": listed.index(lesson) if lesson in listed else None}
if ss.get("map") in map_view.KINDS:              # the Maps view is showing one
    with st.spinner(t("app.computing_map")):
        model["map"] = map_view.localized(map_for(scene_json, ss["map"]), lang)
# The controls, drawn after the live view; they show the scene it was built from. A page's
# first run sends none: their widgets' code and render would delay its first picture by a third
# of a second. Every later run draws them, and the live view's "drawn" trigger asks for one as
# soon as the picture is up (a user's action before it does as well). With new data for the
# view, the run lets the browser draw it before it sends them (ui.live_view.CHART_FIRST_PAUSE).
controls = bool(ss.get("controls_ready"))   # and what is under the picture: the same
view_state = live_view(model, key="live_view", height=FIGURE_HEIGHT - 60 if lesson else FIGURE_HEIGHT,
                       chart_first=controls)
ss["sent_surface"] = live.surface_key(scene)
if view_state.need_surface:                  # the browser lost it: send it again
    ss["sent_surface"] = None
    st.rerun()
if view_state.click and isinstance(view_state.click, dict):
    x, y = view_state.click.get("x"), view_state.click.get("y")
    if isinstance(x, (int, float)) and isinstance(y, (int, float)):
        (x0, x1), (y0, y1) = surface.bounds
        ss["pending_start"] = (round(min(max(float(x), x0), x1), 3),
                               round(min(max(float(y), y0), y1), 3))
        st.rerun()
if view_state.hyper and isinstance(view_state.hyper, dict):     # a settings-map cell clicked
    if load_map_cell(result, view_state.hyper):
        ss["map"] = None
        ss["view"] = "race"
        st.rerun()
if controls:
    drawn_scene = sidebar()
else:                           # the sidebar's first element only: the page keeps its width
    ui_lang.switch(st.sidebar)
    drawn_scene = raw_scene
ss["controls_ready"] = True
ss["read_equals_drawn"] = drawn_scene == raw_scene        # checked by tests/test_app.py
if not ss["read_equals_drawn"] and not ss.pop("redrawn", False):
    ss["redrawn"] = True                         # never expected: show what the widgets hold
    st.rerun()

VIEWS = (*EXPORT_VIEWS, "maps")
changed_view = view_state.view in VIEWS and view_state.view != ss.get("view")
step_now = view_state.step if isinstance(view_state.step, int) else None
if changed_view or step_now != ss.get("step"):
    ss["view"] = view_state.view if view_state.view in VIEWS else ss.get("view", "race")
    ss["step"] = step_now if step_now is None or 0 <= step_now <= scene["steps"] else None
    st.query_params.from_dict({**url_state.scene_to_params(scene), **url_state.view_to_params(
        ss["view"], ss["step"], scene["steps"], lesson, ss.get("why"), ss.get("present", False),
        ss.get("lessons") or (), lang)})

surface_title, surface_description = surface_words(surface, lang)
about = (presets.get_preset(lesson).text(lang)[1] if lesson  # a typed surface's title is user text
         else f"{ui_text.literal(surface_title)}: {surface_description}")
if controls:                    # what is under the picture comes with the controls
    st.caption(f"{about} {scenes.comparison_caption(scene, lang)}")    # our own text and numbers
# The live view's readout is the summary at the playhead (the JSON export has it in full).
presenting = bool(ss.get("present"))      # the presenter's page: no controls but the timeline
extras = controls and not presenting
if extras:
    export_panel(result, EXPORT_VIEWS.get(ss.get("view") or "race", "race"), ss.get("step"))

# Drawn on demand: KaTeX and the rules would otherwise cost every page open and every change.
if extras and st.toggle(t("app.show_rules"), key="show_rules"):
    for run, entry in zip(result.runs, scene["optimizers"]):
        lr = scene["shared_lr"] if scene["shared_lr"] is not None else entry["lr"]
        st.markdown(f"**<span style='color:{html.escape(run.color)}'>■</span> "
                    f"{ui_text.literal(html.escape(run.label), 120)}**", unsafe_allow_html=True)
        st.latex(explain.rule_latex(entry["optimizer"], entry["hyperparameters"], lr, lang))
        st.caption(explain.describe(entry["optimizer"], surface.name, lang))
    st.markdown(f"**{t('app.surface_heading')}** {surface_description}")
    st.latex(surface.formula)

share, share_open = (None, False) if not extras else lazy_panel(st, t("app.share"),
                                                               "share.panel")
if share_open:
    share.caption(t("app.share_caption"))
    share.download_button(t("app.download_scene"), export.scene_json(scene), "scene.json",
                          "application/json", on_click="ignore")
    share.file_uploader(t("app.load_scene"), type=["json"], key="scene_upload", on_change=on_upload,
                     max_upload_size=1)

# The script's own rerun time, the chart-first pause apart; read by the tests and the benchmark
# (not shown to users).
st.session_state["rerun_seconds"] = (time.perf_counter() - _RUN_STARTED
                                     - st.session_state.get("chart_first_pause", 0.0))
if os.environ.get("OPTIVIZ_TIMING"):            # benchmarks/bench_browser.py reads this line
    print(f"optiviz rerun {st.session_state['rerun_seconds'] * 1000:.1f} ms "
          f"pause {st.session_state.get('chart_first_pause', 0.0) * 1000:.0f} ms", flush=True)

