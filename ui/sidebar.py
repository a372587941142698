"""The sidebar: every control of the scene, drawn from the widget state (ui.state) and read
back as a raw scene dict (normalized by the caller)."""

from __future__ import annotations

import streamlit as st

import landscapes
from optim_core import OPTIMIZERS, SCHEDULE_PARAMS, SCHEDULES
from optiviz import presets
from optiviz import scene as scenes
from optiviz.widgets import (LR_OPTIONS, NOISE_OPTIONS, fmt, hyper_control, schedule_control,
                             surface_control, with_value)
from ui import state
from ui.controls import READER, draw, lazy_panel
from ui.custom_surface import CUSTOM, custom_surface, surface_choices, surface_label

SCHEDULE_CHOICES = ["constant", *[s for s in SCHEDULES if s != "constant"]]


def schedule_controls(prefix: str, steps: int, container, inherit: bool = False):
    """A schedule picker and its parameters; returns the schedule spec (None for constant,
    "inherit" for an optimizer that follows the scene's)."""
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
        value = ss.get(key, p.default_for(steps))
        if p.kind == "int" and key not in ss:      # a new schedule: its default, fitted to the run
            value = min(value, max(steps, 1) * (2 if p.name == "T_max" else 1))
        spec[p.name] = draw(container, schedule_control(p, value, steps), key)
    return spec


def optimizer_panel(sb, uid: int, steps: int, fair: bool) -> dict:
    ss = st.session_state
    name = ss[f"opt.{uid}.name"]
    spec = OPTIMIZERS[name]
    lr_key = f"opt.{uid}.lr"
    hp_values = {p.name: ss.get(f"opt.{uid}.{p.name}", p.default) for p in spec.hyper}
    title = f"{spec.title} · lr {fmt(ss[lr_key])}" + "".join(
        f" · {p.label.split(' ')[-1] if p.label else p.name} {fmt(hp_values[p.name])}"
        for p in spec.hyper if hp_values[p.name] != p.default)
    # A stable key keeps the panel open while its own sliders change its title. A closed panel
    # sends no widgets (its values live on in the state, ui.state.keep_values): each widget
    # drawn costs every rerun in the browser.
    panel, is_open = lazy_panel(sb, title, f"opt.{uid}.panel")
    if not is_open:
        panel = READER
    with panel:
        panel.select_slider("learning rate", with_value(LR_OPTIONS, ss[lr_key]), key=lr_key,
                         format_func=fmt, disabled=fair,
                         help="Shared lr is on: the sidebar's shared value is used." if fair else None)
        hyper = {p.name: draw(panel, hyper_control(p, hp_values[p.name]), f"opt.{uid}.{p.name}")
                 for p in spec.hyper}
        sched = schedule_controls(f"opt.{uid}.schedule", steps, panel, inherit=True)
        row = panel.container(horizontal=True) if panel is not READER else READER
        row.button("Duplicate", key=f"opt.{uid}.dup", on_click=state.duplicate_optimizer,
                  args=(uid,), help="Add a copy (e.g. the same method at another learning rate).")
        row.button("Remove", key=f"opt.{uid}.rm", on_click=state.remove_optimizer, args=(uid,),
                  disabled=len(ss["opt_uids"]) <= 1)
    return _entry(name, ss[lr_key], hyper, sched)


def _entry(name, lr, hyper, sched) -> dict:
    return {"optimizer": name, "lr": float(lr), "hyperparameters": hyper,
            "schedule": None if sched == "inherit" else (sched or "constant")}


def scene_from_state() -> dict:
    """The raw scene the controls hold, read without drawing them (the same code as sidebar())."""
    return sidebar(READER)


def sidebar(sb=None) -> dict:
    """Draw the controls (into st.sidebar, or nowhere with READER); return the raw scene they
    describe."""
    ss = st.session_state
    sb = st.sidebar if sb is None else sb

    # Presets: one click, one lesson. One radio element, not a button each: every element
    # costs the browser a render on every rerun.
    box = sb.expander("Presets: one idea each", expanded=ss.get("lesson") is None)
    if box is not READER:
        ss["preset_pick"] = ss.get("lesson")
        box.radio("Lessons", presets.preset_keys(), index=None, key="preset_pick",
                  on_change=state.on_preset_pick, format_func=lambda k: presets.get_preset(k).title,
                  label_visibility="collapsed")

    # Surface.
    surface_name = sb.selectbox("Surface", surface_choices(), key="surface",
                                format_func=surface_label)
    surface_params = {}
    if surface_name == CUSTOM:          # a typed formula and its window (ui.custom_surface)
        surface_params, bounds, surface_start = custom_surface(sb)
    else:
        for name, p in landscapes.parameters(surface_name).items():
            key = f"surface.{name}"
            surface_params[name] = draw(sb, surface_control(p, ss.get(key, p.default)), key)
        surface = landscapes.get(surface_name, **surface_params)
        bounds, surface_start = surface.bounds, surface.start
    (x0, x1), (y0, y1) = bounds

    # Start point (a click on the map sets it too).
    for key, (lo, hi), default in (("start_x", (x0, x1), surface_start[0]),
                                   ("start_y", (y0, y1), surface_start[1])):
        value = ss.get(key, default)
        ss[key] = float(min(max(value, lo), hi))
    row = sb.container(horizontal=True) if sb is not READER else READER
    where = "Or click the map to move the start."
    start = [row.number_input("start x", float(x0), float(x1), key="start_x", step=0.1, format="%.3f",
                             help=where),
             row.number_input("start y", float(y0), float(y1), key="start_y", step=0.1, format="%.3f",
                             help=where)]

    # Optimizers.
    names_present = [ss[f"opt.{u}.name"] for u in ss["opt_uids"]]
    ss["optimizer_set"] = list(dict.fromkeys(names_present))
    sb.multiselect("Optimizers", list(OPTIMIZERS), key="optimizer_set",
                   on_change=state.on_multiselect, format_func=lambda n: OPTIMIZERS[n].title)
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
    schedule = schedule_controls("schedule", steps, sb)
    entries = [optimizer_panel(sb, uid, steps, fair) for uid in ss["opt_uids"]]

    noise, seed, tolerance = _extras(sb)

    return {"version": scenes.VERSION, "surface": {"name": surface_name, **surface_params},
            "start": start, "steps": int(steps), "noise": float(noise), "seed": int(seed),
            "shared_lr": shared_lr, "schedule": schedule, "tolerance": float(tolerance),
            "optimizers": entries}


def _extras(sb) -> tuple[float, int, float]:
    """Noise, seed and tolerance: drawn only while their panel is open."""
    ss = st.session_state
    panel, is_open = lazy_panel(sb, "Noise, seed and tolerance", "extras.panel")
    if not is_open:
        panel = READER
    seed_range, tol_range = scenes.RANGES["seed"], scenes.RANGES["tolerance"]
    with panel:
        ss["noise"] = float(ss["noise"])
        noise = panel.select_slider("gradient noise σ (SGD)",
                                 with_value(NOISE_OPTIONS, min(ss["noise"], scenes.MAX_NOISE)),
                                 key="noise", format_func=fmt,
                                 help="Gaussian noise added to every gradient: GD becomes SGD.")
        seed = panel.number_input("random seed", int(seed_range.low), int(seed_range.high), key="seed")
        tolerance = panel.number_input("“reached” tolerance", tol_range.low, tol_range.high,
                                    key="tolerance", format="%g",
                                    help="A run has reached a minimum once its loss is "
                                    "within this of the minimum's value (summary table).")
    return float(noise), int(seed), float(tolerance)
