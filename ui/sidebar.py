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
from ui import lang as ui_lang
from ui import state
from ui.controls import READER, draw, lazy_panel
from ui.custom_surface import CUSTOM, custom_surface, surface_choices, surface_label

SCHEDULE_CHOICES = ["constant", *[s for s in SCHEDULES if s != "constant"]]


def schedule_controls(prefix: str, steps: int, container, inherit: bool = False):
    """A schedule picker and its parameters; returns the schedule spec (None for constant,
    "inherit" for an optimizer that follows the scene's)."""
    ss = st.session_state
    choices = (["inherit"] if inherit else []) + SCHEDULE_CHOICES
    _, t = ui_lang.bound()
    name = container.selectbox(t("sidebar.schedule") if not inherit else t("sidebar.schedule_own"),
                               choices, key=prefix,
                               format_func=lambda s: t("schedule.inherit") if s == "inherit"
                               else t(f"schedule.name.{s}"))
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
        spec[p.name] = draw(container, schedule_control(p, value, steps, ui_lang.current(), name),
                            key)
    return spec


def optimizer_panel(sb, uid: int, steps: int, fair: bool) -> dict:
    ss = st.session_state
    name = ss[f"opt.{uid}.name"]
    spec = OPTIMIZERS[name]
    lr_key = f"opt.{uid}.lr"
    hp_values = {p.name: ss.get(f"opt.{uid}.{p.name}", p.default) for p in spec.hyper}
    # A closed panel's title shows its values; an open one's is its name alone: the browser
    # remounts an expander whose title changed, and the slider a keyboard user is moving would
    # lose its focus at every step. A closed panel sends no widgets (its values live on in the
    # state, ui.state.keep_values): each widget drawn costs every rerun in the browser.
    title = spec.title
    if not st.session_state.get(f"open.opt.{uid}.panel"):
        title += f" · lr {fmt(ss[lr_key])}" + "".join(
            f" · {p.label.split(' ')[-1] if p.label else p.name} {fmt(hp_values[p.name])}"
            for p in spec.hyper if hp_values[p.name] != p.default)
    panel, is_open = lazy_panel(sb, title, f"opt.{uid}.panel")
    if not is_open:
        panel = READER
    with panel:
        lang, t = ui_lang.bound()
        panel.select_slider(t("sidebar.lr"), with_value(LR_OPTIONS, ss[lr_key]), key=lr_key,
                         format_func=fmt, disabled=fair,
                         help=t("sidebar.lr_shared_help") if fair else None)
        hyper = {p.name: draw(panel, hyper_control(p, hp_values[p.name], lang, name),
                              f"opt.{uid}.{p.name}")
                 for p in spec.hyper}
        sched = schedule_controls(f"opt.{uid}.schedule", steps, panel, inherit=True)
        row = panel.container(horizontal=True) if panel is not READER else READER
        row.button(t("sidebar.duplicate"), key=f"opt.{uid}.dup", on_click=state.duplicate_optimizer,
                  args=(uid,), help=t("sidebar.duplicate_help"))
        row.button(t("sidebar.remove"), key=f"opt.{uid}.rm", on_click=state.remove_optimizer, args=(uid,),
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
    lang, t = ui_lang.bound()
    if sb is not READER:                 # the language first: one compact switch
        ui_lang.switch(sb)

    # Presets: one click, one lesson. One radio element, not a button each: every element
    # costs the browser a render on every rerun. The panel starts open on a page without a
    # lesson and closed on a lesson's link; after that it stays as the user leaves it (a
    # teacher picking lesson after lesson keeps it open).
    if "open.presets.panel" not in ss:
        ss["open.presets.panel"] = ss.get("lesson") is None
    box, presets_open = lazy_panel(sb, t("sidebar.presets"), "presets.panel")
    if box is not READER and presets_open:
        ss["preset_pick"] = ss.get("lesson")
        box.radio(t("sidebar.lessons"), presets.preset_keys(), index=None, key="preset_pick",
                  on_change=state.on_preset_pick,
                  format_func=lambda k: presets.get_preset(k).text(lang)[0],
                  label_visibility="collapsed")
        if ss.get("lesson"):             # where a command-line user looks for a preset's key
            box.caption(t("sidebar.lesson_key", lesson=ss["lesson"]))
        # The teacher's lesson list: the link carries it (lessons=...), n / p walk it.
        ss["lessons"] = [k for k in ss.get("lessons") or () if k in presets.preset_keys()]
        box.multiselect(t("sidebar.lesson_list"), presets.preset_keys(), key="lessons",
                        format_func=lambda k: f"{presets.get_preset(k).text(lang)[0]} ({k})",
                        placeholder=t("sidebar.lesson_list_placeholder"),
                        help=t("sidebar.lesson_list_help", keys=", ".join(presets.preset_keys())))

    # Surface.
    surface_name = sb.selectbox(t("sidebar.surface"), surface_choices(), key="surface",
                                format_func=lambda name: surface_label(name, lang),
                                on_change=state.on_surface_change)
    sb.toggle(t("sidebar.keep"), key=state.KEEP_ON_SURFACE_CHANGE, help=t("sidebar.keep_help"))
    surface_params = {}
    if surface_name == CUSTOM:          # a typed formula and its window (ui.custom_surface)
        surface_params, bounds, surface_start = custom_surface(sb)
    else:
        for name, p in landscapes.parameters(surface_name).items():
            key = f"surface.{name}"
            surface_params[name] = draw(sb, surface_control(p, ss.get(key, p.default), lang,
                                                            surface_name, name), key)
        surface = landscapes.get(surface_name, **surface_params)
        bounds, surface_start = surface.bounds, surface.start
    (x0, x1), (y0, y1) = bounds

    # Start point (a click on the map sets it too).
    for key, (lo, hi), default in (("start_x", (x0, x1), surface_start[0]),
                                   ("start_y", (y0, y1), surface_start[1])):
        value = ss.get(key, default)
        ss[key] = float(min(max(value, lo), hi))
    row = sb.container(horizontal=True) if sb is not READER else READER
    where = t("sidebar.start_help")
    start = [row.number_input(t("sidebar.start_x"), float(x0), float(x1), key="start_x", step=0.1,
                              format="%.3f", help=where),
             row.number_input(t("sidebar.start_y"), float(y0), float(y1), key="start_y", step=0.1,
                              format="%.3f", help=where)]

    # Optimizers.
    names_present = [ss[f"opt.{u}.name"] for u in ss["opt_uids"]]
    ss["optimizer_set"] = list(dict.fromkeys(names_present))
    sb.multiselect(t("sidebar.optimizers"), list(OPTIMIZERS), key="optimizer_set",
                   on_change=state.on_multiselect, format_func=lambda n: OPTIMIZERS[n].title)
    fair = sb.toggle(t("sidebar.fair"), key="fair", help=t("sidebar.fair_help"))
    shared_lr = None
    if fair:
        shared_lr = sb.select_slider(t("sidebar.shared_lr"), with_value(LR_OPTIONS, ss["shared_lr"]),
                                     key="shared_lr", format_func=fmt)
    steps_range = scenes.RANGES["steps"]
    if 10 <= ss["steps"] <= 2000 and ss["steps"] % 10 == 0:      # the usual values: a slider
        steps = sb.slider(t("sidebar.steps"), 10, 2000, key="steps", step=10)
    else:                                                         # any other the scene allows
        steps = sb.number_input(t("sidebar.steps"), int(steps_range.low), int(steps_range.high),
                                key="steps")
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
    _, t = ui_lang.bound()
    panel, is_open = lazy_panel(sb, t("sidebar.extras"), "extras.panel")
    if not is_open:
        panel = READER
    seed_range, tol_range = scenes.RANGES["seed"], scenes.RANGES["tolerance"]
    with panel:
        ss["noise"] = float(ss["noise"])
        noise = panel.select_slider(t("sidebar.noise"),
                                 with_value(NOISE_OPTIONS, min(ss["noise"], scenes.MAX_NOISE)),
                                 key="noise", format_func=fmt,
                                 help=t("sidebar.noise_help"))
        seed = panel.number_input(t("sidebar.seed"), int(seed_range.low), int(seed_range.high),
                                  key="seed")
        tolerance = panel.number_input(t("sidebar.tolerance"), tol_range.low, tol_range.high,
                                    key="tolerance", format="%g", help=t("sidebar.tolerance_help"))
    return float(noise), int(seed), float(tolerance)
