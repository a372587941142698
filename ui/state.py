"""Scene <-> widget state: a normalized scene goes into st.session_state before the widgets are
drawn; the sidebar builds the scene back from them on every rerun (ui.sidebar)."""

from __future__ import annotations

import streamlit as st

from optim_core import OPTIMIZERS
from optiviz import export, presets, surface_defaults
from optiviz import scene as scenes
from optiviz.widgets import LR_OPTIONS, nearest

SCENE_KEY_PREFIXES = ("opt.", "surface", "schedule", "start_", "shared_lr", "fair")


SCENE_KEYS = ("steps", "noise", "seed", "tolerance")
NOT_VALUES = (".dup", ".rm", ".panel", ".on")     # buttons and panels: Streamlit owns them


def keep_values():
    """Claim every scene value as the page's own, so a widget that is not drawn this run (its
    panel closed) does not take its value with it (Streamlit drops the state of widgets that
    are not drawn; re-assigning it at the top of the run is the documented way to keep it)."""
    ss = st.session_state
    for key in list(ss):
        if (key.startswith(SCENE_KEY_PREFIXES) or key in SCENE_KEYS) and not key.endswith(NOT_VALUES):
            ss[key] = ss[key]


def _clear_scene_keys():
    for key in list(st.session_state):
        if key.startswith(SCENE_KEY_PREFIXES):
            del st.session_state[key]


def load_scene(scene: dict):
    """Put a (normalized) scene into the widgets' state. Call before the widgets are drawn."""
    _clear_scene_keys()
    ss = st.session_state
    ss["surface"] = scene["surface"]["name"]
    for name, value in scene["surface"].items():
        if name != "name":      # a typed surface's formula is text, every other value a number
            ss[f"surface.{name}"] = value if isinstance(value, str) else float(value)
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
    st.session_state["step"] = None            # the last lesson's step is not this one's
    st.session_state["why"] = preset.why       # a lesson about a run's state opens on it
    st.session_state["autoplay"] = True        # a lesson starts with its race playing


KEEP_ON_SURFACE_CHANGE = "keep_on_surface_change"     # the sidebar's "keep my start and rates"


def on_surface_change():
    """The user picked another surface in the Surface box: the start moves to that surface's
    demo start and each optimizer gets the rate chosen for it there (optiviz.surface_defaults;
    a second or third run of one optimizer keeps its 1/3, 1/9, ... of it, as Duplicate made
    it; a shared rate becomes the smallest of them), unless the user asked to keep them. Links,
    presets and scene files load their own start and rates (load_scene) and never come here."""
    ss = st.session_state
    ss.pop("lesson", None)                     # the lesson was about the other surface
    if ss.get(KEEP_ON_SURFACE_CHANGE):
        return
    name = ss.get("surface")
    start = surface_defaults.start_for(name)
    if start is not None:
        ss["start_x"], ss["start_y"] = start
    chosen, seen = [], {}
    for uid in ss.get("opt_uids", []):
        optimizer = ss.get(f"opt.{uid}.name")
        lr = surface_defaults.lr_for(name, optimizer)
        if lr is None:
            continue
        twin = seen[optimizer] = seen.get(optimizer, -1) + 1
        ss[f"opt.{uid}.lr"] = nearest(LR_OPTIONS, lr / 3 ** twin) if twin else lr
        chosen.append(lr)
    if chosen and ss.get("fair"):
        ss["shared_lr"] = min(chosen)


def step_lesson(direction: int):
    """n or p in the live view: the next (+1) or previous (-1) preset of the lesson list (the
    link's lessons=...), from the lesson on screen (none: n opens the first). Stops at the ends."""
    ss = st.session_state
    listed = [k for k in ss.get("lessons") or () if k in presets.preset_keys()]
    if not listed or type(direction) is not int or direction not in (1, -1):   # noqa: E721
        return
    at = listed.index(ss["lesson"]) if ss.get("lesson") in listed else None
    target = (0 if direction > 0 else None) if at is None else at + direction
    if target is not None and 0 <= target < len(listed):
        apply_preset(listed[target])


def on_preset_pick():
    """A preset was picked: load its lesson."""
    key = st.session_state.get("preset_pick")
    if key in presets.preset_keys():
        apply_preset(key)


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
    # A visibly different twin: a third of the parent's lr, or a third again while a run of the
    # same optimizer has that lr already (Duplicate pressed twice makes two different runs).
    name, lr = ss[f"opt.{uid}.name"], ss[f"opt.{uid}.lr"]
    taken = {ss[f"opt.{u}.lr"] for u in ss["opt_uids"] if ss[f"opt.{u}.name"] == name}
    for _ in range(8):
        lr = nearest(LR_OPTIONS, lr / 3)
        if lr not in taken:
            break
    ss[f"opt.{new}.lr"] = lr
    uids = list(ss["opt_uids"])
    at = uids.index(uid) + 1                    # after the parent and its earlier twins
    while at < len(uids) and ss[f"opt.{uids[at]}.name"] == name:
        at += 1
    uids.insert(at, new)
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


def load_map_cell(result, cell: dict) -> bool:
    """A settings-map cell clicked: that run's optimizer takes the cell's lr and setting (as
    its own sliders would). cell: {"run", "ix", "iy"} from the browser: checked, never trusted.
    Returns whether anything was loaded."""
    from optiviz import map_view

    ss = st.session_state
    try:
        run, ix, iy = (int(cell.get(k)) for k in ("run", "ix", "iy"))
    except (TypeError, ValueError):
        return False
    uids = ss.get("opt_uids", [])
    if not 0 <= run < len(uids) or not (0 <= ix < map_view.HYPER_GRID and 0 <= iy < map_view.HYPER_GRID):
        return False
    values = map_view.cell_values(result, run, ix, iy)
    if values is None:
        return False
    uid = uids[run]
    for param, value in values.items():
        ss[f"opt.{uid}.{param}"] = value
    ss["fair"] = False                  # the cell's lr is this run's own
    ss.pop("lesson", None)
    return True
