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

import landscapes
from optim_core import OPTIMIZERS, SCHEDULE_PARAMS, SCHEDULES
from optiviz import explain, export, figures, presets, url_state
from optiviz import scene as scenes
from optiviz.widgets import (HYPER_CONTROLS, LR_OPTIONS, NOISE_OPTIONS, fmt, nearest, with_value)
from ui import text as ui_text

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
SCHEDULE_CHOICES = ["constant", *[s for s in SCHEDULES if s != "constant"]]


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


# ---- scene <-> widget state ----------------------------------------------------------------

def _clear_scene_keys():
    for key in list(st.session_state):
        if key.startswith(("opt.", "surface", "schedule", "start_", "shared_lr", "fair")):
            del st.session_state[key]


def load_scene(scene: dict):
    """Put a (normalized) scene into the widgets' state. Call before the widgets are drawn."""
    _clear_scene_keys()
    ss = st.session_state
    ss["surface"] = scene["surface"]["name"]
    for name, value in scene["surface"].items():
        if name != "name":
            ss[f"surface.{name}"] = float(value)
    ss["start_x"], ss["start_y"] = map(float, scene["start"])
    ss["steps"] = int(scene["steps"])
    ss["noise"] = float(scene["noise"])
    ss["seed"] = int(scene["seed"])
    ss["tolerance"] = float(scene["tolerance"])
    ss["fair"] = scene["shared_lr"] is not None
    ss["shared_lr"] = float(scene["shared_lr"] if scene["shared_lr"] is not None else 0.01)
    _load_schedule("schedule", scene["schedule"])
    uids = []
    for i, entry in enumerate(scene["optimizers"]):
        uid = ss.get("next_uid", 0) + i
        uids.append(uid)
        _load_entry(uid, entry)
    ss["next_uid"] = ss.get("next_uid", 0) + len(uids)
    ss["opt_uids"] = uids
    ss["scene_json"] = scenes.scene_to_json(scene)
    ss["loaded_scene"] = scene          # compared with what the widgets show, once drawn


def _load_schedule(prefix: str, spec):
    ss = st.session_state
    if spec is None:
        ss[prefix] = "constant" if prefix == "schedule" else "inherit"
        return
    spec = {"name": spec} if isinstance(spec, str) else dict(spec)
    ss[prefix] = spec["name"]
    for name, value in spec.items():
        if name != "name":
            ss[f"{prefix}.{name}"] = value


def _load_entry(uid: int, entry: dict):
    ss = st.session_state
    ss[f"opt.{uid}.name"] = entry["optimizer"]
    ss[f"opt.{uid}.lr"] = float(entry["lr"])
    spec = OPTIMIZERS[entry["optimizer"]]
    for p in spec.hyper:
        ss[f"opt.{uid}.{p.name}"] = entry["hyperparameters"].get(p.name, p.default)
    _load_schedule(f"opt.{uid}.schedule", entry.get("schedule"))


def apply_preset(key: str):
    preset = presets.get_preset(key)
    load_scene(scenes.normalize_scene(preset.scene))
    st.session_state["lesson"] = key


def on_map_click():
    """A click on the map asks for the start to move to the clicked grid point. The chart lives
    in a fragment, so the move is applied by a full rerun before the sidebar is drawn."""
    state = st.session_state.get("race_chart")
    points = (state or {}).get("selection", {}).get("points", []) if state else []
    if points:
        x, y = points[0].get("x"), points[0].get("y")
        if isinstance(x, (int, float)) and isinstance(y, (int, float)):
            st.session_state["pending_start"] = (float(x), float(y))


def add_optimizer(name: str):
    ss = st.session_state
    uid = ss.get("next_uid", 0)
    ss["next_uid"] = uid + 1
    _load_entry(uid, scenes.default_entry(name))
    ss["opt_uids"] = [*ss["opt_uids"], uid]


def duplicate_optimizer(uid: int):
    ss = st.session_state
    new = ss.get("next_uid", 0)
    ss["next_uid"] = new + 1
    # Copy the values, not the buttons' or the panel's own state (Streamlit owns those).
    for key in [k for k in ss if k.startswith(f"opt.{uid}.")
                and not k.endswith((".dup", ".rm", ".panel"))]:
        ss[f"opt.{new}." + key.split(".", 2)[2]] = ss[key]
    ss[f"opt.{new}.lr"] = nearest(LR_OPTIONS, ss[f"opt.{uid}.lr"] / 3)   # a visibly different twin
    uids = list(ss["opt_uids"])
    uids.insert(uids.index(uid) + 1, new)
    ss["opt_uids"] = uids


def remove_optimizer(uid: int):
    ss = st.session_state
    if len(ss["opt_uids"]) > 1:
        ss["opt_uids"] = [u for u in ss["opt_uids"] if u != uid]


def on_multiselect():
    """The multi-select lists which optimizers are in the race: add or drop whole entries."""
    ss = st.session_state
    chosen = ss["optimizer_set"]
    present = {ss[f"opt.{u}.name"] for u in ss["opt_uids"]}
    ss["opt_uids"] = [u for u in ss["opt_uids"] if ss[f"opt.{u}.name"] in chosen]
    for name in chosen:
        if name not in present:
            add_optimizer(name)
    if not ss["opt_uids"]:
        add_optimizer("adam")


def on_upload():
    upload = st.session_state.get("scene_upload")
    if upload is None:
        return
    try:
        scene = export.load_scene_file(upload)
    except ValueError as err:
        st.session_state["upload_error"] = str(err)
        return
    except Exception as err:           # noqa: BLE001 - a file can never take the page down
        st.session_state["upload_error"] = f"the file could not be read ({type(err).__name__})"
        return
    st.session_state.pop("upload_error", None)
    load_scene(scene)


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


# ---- sidebar: the controls ----------------------------------------------------------------

def _schedule_controls(prefix: str, steps: int, container, inherit: bool = False):
    """A schedule picker and its parameters; returns the schedule spec (None for constant)."""
    ss = st.session_state
    choices = (["inherit"] if inherit else []) + SCHEDULE_CHOICES
    name = container.selectbox("Learning-rate schedule" if not inherit else "Schedule",
                               choices, key=prefix,
                               format_func=lambda s: "same as all" if s == "inherit" else s)
    if name == "inherit":
        return "inherit"
    if name == "constant":
        return None
    spec = {"name": name}
    for p in SCHEDULE_PARAMS[name]:
        key = f"{prefix}.{p.name}"
        default = p.default_for(steps)
        if p.kind == "int":
            # The slider spans what suits this run; a loaded value beyond it widens it (up to
            # what the core accepts) instead of being cut.
            lo = int(p.low)
            fit = int(min(p.high, max(steps, 1) * (2 if p.name == "T_max" else 1)))
            ss.setdefault(key, int(min(max(default, lo), fit)))
            value = int(min(max(int(ss[key]), lo), p.high))
            ss[key] = value
            spec[p.name] = container.slider(p.label or p.name, lo, max(fit, value, lo + 1),
                                            key=key, help=p.help)
        elif p.kind == "choice":
            ss.setdefault(key, default)
            spec[p.name] = container.selectbox(p.label or p.name, p.choices, key=key, help=p.help)
        elif p.kind == "bool":
            ss.setdefault(key, default)
            spec[p.name] = container.toggle(p.label or p.name, key=key, help=p.help)
        elif p.kind == "optional_real":
            use = container.toggle(f"set {p.label or p.name}", value=ss.get(key) is not None,
                                   key=f"{key}.on", help=p.help)
            if use:
                value = ss.get(key)
                value = float(value) if isinstance(value, (int, float)) and \
                    not isinstance(value, bool) else 0.1
                spec[p.name] = container.select_slider(p.label or p.name,
                                                       with_value(LR_OPTIONS, value), value=value,
                                                       format_func=fmt)
                ss[key] = spec[p.name]
            else:
                ss[key] = None
        else:
            value = float(ss.get(key, default))
            hi = p.high if p.high is not None else max(10.0, value)
            step = 0.01 if hi <= 1 else None
            ss[key] = value
            spec[p.name] = container.number_input(p.label or p.name,
                                                  min_value=min(float(p.low or 0.0), value),
                                                  max_value=float(hi), key=key, step=step,
                                                  format="%g", help=p.help)
    return spec


def sidebar() -> dict:
    ss = st.session_state
    sb = st.sidebar
    sb.markdown("### Optimizer race")

    # Presets: one click, one lesson.
    with sb.expander("Presets: one idea each", expanded=ss.get("lesson") is None):
        for preset in presets.PRESETS:
            st.button(preset.title, key=f"preset.{preset.key}", on_click=apply_preset,
                      args=(preset.key,), width="stretch", help=preset.lesson)

    # Surface.
    surface_name = sb.selectbox("Surface", landscapes.names(), key="surface",
                                format_func=lambda n: landscapes.get(n).title)
    surface_params = {}
    for name, p in landscapes.parameters(surface_name).items():
        key = f"surface.{name}"
        ss.setdefault(key, float(p.default))
        if p.log:
            options = with_value([float(f"{v:.3g}") for v in _log_grid(p.min, p.max)], ss[key])
            surface_params[name] = sb.select_slider(p.label, options, key=key, format_func=fmt,
                                                    help=p.help)
        else:
            surface_params[name] = sb.slider(p.label, float(p.min), float(p.max), key=key,
                                             step=(p.max - p.min) / 200, help=p.help)
    surface = landscapes.get(surface_name, **surface_params)
    (x0, x1), (y0, y1) = surface.bounds

    # Start point (a click on the map sets it too).
    for key, (lo, hi), default in (("start_x", (x0, x1), surface.start[0]),
                                   ("start_y", (y0, y1), surface.start[1])):
        value = ss.get(key, default)
        ss[key] = float(min(max(value, lo), hi))
    c1, c2 = sb.columns(2)
    start = [c1.number_input("start x", float(x0), float(x1), key="start_x", step=0.1, format="%.3f"),
             c2.number_input("start y", float(y0), float(y1), key="start_y", step=0.1, format="%.3f")]
    sb.caption("Click the map to move the start.")

    # Optimizers.
    names_present = [ss[f"opt.{u}.name"] for u in ss["opt_uids"]]
    ss["optimizer_set"] = list(dict.fromkeys(names_present))
    sb.multiselect("Optimizers", list(OPTIMIZERS), key="optimizer_set", on_change=on_multiselect,
                   format_func=lambda n: OPTIMIZERS[n].title)
    fair = sb.toggle("Fair comparison: one learning rate for all", key="fair",
                     help="Off: each optimizer uses its own learning rate (its panel's slider).")
    shared_lr = None
    if fair:
        shared_lr = sb.select_slider("shared lr", with_value(LR_OPTIONS, ss["shared_lr"]),
                                     key="shared_lr", format_func=fmt)
    steps_range = scenes.RANGES["steps"]
    if 10 <= ss["steps"] <= 2000 and ss["steps"] % 10 == 0:      # the usual values: a slider
        steps = sb.slider("Steps", 10, 2000, key="steps", step=10)
    else:                                                         # any other the scene allows
        steps = sb.number_input("Steps", int(steps_range.low), int(steps_range.high), key="steps")
    schedule = _schedule_controls("schedule", steps, sb)
    entries = []
    for uid in ss["opt_uids"]:
        entries.append(_optimizer_panel(uid, steps, fair))

    with sb.expander("Noise, seed and tolerance"):
        ss["noise"] = float(ss["noise"])
        noise = st.select_slider("gradient noise σ (SGD)",
                                 with_value(NOISE_OPTIONS, min(ss["noise"], scenes.MAX_NOISE)),
                                 key="noise", format_func=fmt,
                                 help="Gaussian noise added to every gradient: GD becomes SGD.")
        seed_range, tol_range = scenes.RANGES["seed"], scenes.RANGES["tolerance"]
        seed = st.number_input("random seed", int(seed_range.low), int(seed_range.high), key="seed")
        tolerance = st.number_input("“reached” tolerance", tol_range.low, tol_range.high,
                                    key="tolerance",
                                    format="%g", help="A run has reached a minimum once its loss is "
                                    "within this of the minimum's value (summary table).")

    return {"version": scenes.VERSION, "surface": {"name": surface_name, **surface_params},
            "start": start, "steps": int(steps), "noise": float(noise), "seed": int(seed),
            "shared_lr": shared_lr, "schedule": schedule, "tolerance": float(tolerance),
            "optimizers": entries}


def _log_grid(low, high, per_decade=6):
    import math
    a, b = math.log10(low), math.log10(high)
    n = int(round((b - a) * per_decade))
    return [10 ** (a + i * (b - a) / n) for i in range(n + 1)]


def _optimizer_panel(uid: int, steps: int, fair: bool) -> dict:
    ss = st.session_state
    name = ss[f"opt.{uid}.name"]
    spec = OPTIMIZERS[name]
    lr_key = f"opt.{uid}.lr"
    hp_values = {p.name: ss.get(f"opt.{uid}.{p.name}", p.default) for p in spec.hyper}
    title = f"{spec.title} · lr {fmt(ss[lr_key])}" + "".join(
        f" · {p.label.split(' ')[-1] if p.label else p.name} {fmt(hp_values[p.name])}"
        for p in spec.hyper if hp_values[p.name] != p.default)
    # A stable key keeps the panel open while its own sliders change its title.
    with st.sidebar.expander(title, expanded=False, key=f"opt.{uid}.panel"):
        st.select_slider("learning rate", with_value(LR_OPTIONS, ss[lr_key]), key=lr_key,
                         format_func=fmt, disabled=fair,
                         help="Shared lr is on: the sidebar's shared value is used." if fair else None)
        hyper = {}
        for p in spec.hyper:
            key = f"opt.{uid}.{p.name}"
            ss.setdefault(key, p.default)
            control = HYPER_CONTROLS.get(p.name, ("options", [p.default]))
            label = p.label or p.name
            if control[0] == "toggle":
                hyper[p.name] = st.toggle(label, key=key, help=p.help)
            elif control[0] == "slider":
                ss[key] = float(ss[key])
                hyper[p.name] = st.slider(label, control[1], max(control[2], ss[key]), key=key,
                                          step=control[3], help=p.help)
            else:
                ss[key] = float(ss[key])
                hyper[p.name] = st.select_slider(label, with_value(control[1], ss[key]), key=key,
                                                 format_func=fmt, help=p.help)
        sched = _schedule_controls(f"opt.{uid}.schedule", steps, st, inherit=True)
        c1, c2 = st.columns(2)
        c1.button("Duplicate", key=f"opt.{uid}.dup", on_click=duplicate_optimizer, args=(uid,),
                  help="Add a copy (e.g. the same method at another learning rate).")
        c2.button("Remove", key=f"opt.{uid}.rm", on_click=remove_optimizer, args=(uid,),
                  disabled=len(ss["opt_uids"]) <= 1)
    return {"optimizer": name, "lr": float(ss[lr_key]), "hyperparameters": hyper,
            "schedule": None if sched == "inherit" else (sched or "constant")}


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
    export_panel(view, step)


def export_panel(view: str, step: int):
    """Files made on the server: the view as PNG/SVG/HTML, the race as GIF/MP4, the data."""
    ss = st.session_state
    with st.expander("Export: picture, animation, data"):
        fmt = st.segmented_control("Format", list(export.FORMATS), key="export.format",
                                   default="png", format_func=lambda k: export.FORMATS[k].label)
        fmt = fmt or "png"
        spec = export.FORMATS[fmt]
        options = {}
        if fmt == "png":
            options["scale"] = st.select_slider("resolution", [1, 2, 3, 4], value=2,
                                                format_func=lambda s: f"{s}× ({1100 * s} px wide)",
                                                key="export.scale")
        if spec.animated:
            c1, c2 = st.columns(2)
            options["frames"] = c1.slider("frames", 10, 300, 100, step=10, key="export.frames")
            options["fps"] = c2.slider("frames per second", 5, 50, 20, key="export.fps")
            c1.caption(f"about {options['frames'] / options['fps']:.1f} s long, legend and step "
                       "counter included")
        what = f"the {view} view at step {step}" if fmt in ("png", "svg", "html") else \
            "the whole race" if spec.animated else "every run, every step" \
            if fmt in ("csv", "json") else "the scene, to load back later"
        if spec.needs_browser and ss.get("export.file"):
            export.warm_up()          # a renderer is kept running once pictures are being made
        if st.button(f"Create {spec.label}: {what}", key="export.create"):
            bar = st.progress(0.0, text="starting")
            try:
                data, mime, name = export.export(
                    result, fmt, view=view, step=step, progress=lambda f, m: bar.progress(
                        min(max(float(f), 0.0), 1.0), text=m), **options)
            except export.BrowserMissing as err:
                bar.empty()
                ui_text.warning(str(err))
            except (export.ExportError, ValueError) as err:
                bar.empty()
                ui_text.error("Export failed:", [str(err)])
            else:
                bar.empty()
                ss["export.file"] = (data, mime, name)
        if ss.get("export.file"):
            data, mime, name = ss["export.file"]
            st.download_button(f"Download {name} ({len(data) / 1024:,.0f} KB)", data, name, mime,
                               key="export.download", type="primary", on_click="ignore")


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
