"""The scene: one JSON-serializable description of everything on screen, and its computation.

A scene travels everywhere (cache key, share link, export file, preset, command line):

    {"version": 1,
     "surface": {"name": "rosenbrock", "a": 1.0, "b": 100.0},
               # or a typed surface: {"name": "custom", "formula": "sin(x)*cos(y)",
               #                      "xmin": -3.0, "xmax": 3.0, "ymin": -3.0, "ymax": 3.0}
     "start": [-1.5, 2.0], "steps": 500, "noise": 0.0, "seed": 0,
     "shared_lr": null,                  # a number: every optimizer uses it (fair comparison)
     "schedule": null,                   # applies to every optimizer without its own
     "tolerance": 1e-3,                  # "reached the minimum" = loss within this of its value
     "optimizers": [{"optimizer": "adam", "lr": 0.05, "hyperparameters": {"beta1": 0.9},
                     "schedule": null}, ...]}

normalize_scene() validates (ValueError naming the field) and fills defaults; compute_scene()
runs every optimizer together (optim_core.run_many) and returns plain data for the figures.
"""

from __future__ import annotations

import copy
import json
import math
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass

import numpy as np

import landscapes
import optim_core
from landscapes.formula import CUSTOM, WINDOW_PARAMS
from optim_core import OPTIMIZERS, SCHEDULE_PARAMS

VERSION = 1
MAX_SCENE_STEPS = 5000
MAX_OPTIMIZERS = 10
MAX_NOISE = 100.0
MAX_SCENE_BYTES = 64 * 1024
MAX_DIGITS = 18                 # integers longer than this are refused before any arithmetic
MAX_DEPTH = 8                   # a scene nests 4 deep (scene > optimizers > entry > schedule)


@dataclass(frozen=True)
class Range:
    """What a scene accepts for one scalar field. The app's widgets read the same table, so every
    value a scene (link, preset, upload, click) can hold is one its widget can show."""

    low: float
    high: float
    integer: bool = False
    label: str = ""

    def allowed(self) -> str:
        kind = "an integer" if self.integer else "a number"
        return f"{kind} in [{self.low:g}, {self.high:g}]"


# field -> Range: the one table of the scene's scalar ranges (normalize_scene and the widgets).
RANGES = {
    "steps": Range(1, MAX_SCENE_STEPS, integer=True, label="Steps"),
    "noise": Range(0.0, MAX_NOISE, label="gradient noise σ"),
    "seed": Range(0, optim_core.runner.MAX_SEED, integer=True, label="random seed"),
    "tolerance": Range(1e-12, 1e6, label="“reached” tolerance"),
    "shared_lr": Range(1e-8, 1e3, label="shared lr"),
    # the plot window of a typed surface (surface "custom"), as landscapes.formula checks it
    **{f"surface.{key}": Range(p.min, p.max, label=p.label) for key, p in WINDOW_PARAMS.items()},
}

# Learning rates that make each optimizer visibly move on the demo surfaces in a few hundred
# steps (torch's defaults are tuned for networks: Adam's 1e-3 barely leaves the start here).
DEMO_LR = {"sgd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "adagrad": 0.5, "rmsprop": 5e-3,
           "adadelta": 1.0, "adam": 0.05, "adamw": 0.05, "adamax": 0.1, "nadam": 0.05,
           "amsgrad": 0.05, "radam": 0.01, "lion": 0.01}

# One colour per optimizer, whatever its position in the race, the preset or the link, so "watch
# the red one" keeps meaning Adam. High-contrast colours that read on a projector and against the
# surface's muted colour map; the four of the default scene are the most distinct.
COLORS = {"sgd": "#1f77b4", "momentum": "#2ca02c", "nesterov": "#17becf", "adagrad": "#8c564b",
          "rmsprop": "#ff7f0e", "adadelta": "#bcbd22", "adam": "#e6194b", "adamw": "#e377c2",
          "adamax": "#9467bd", "nadam": "#f032e6", "amsgrad": "#800000", "radam": "#4363d8",
          "lion": "#111111"}
PALETTE = tuple(COLORS.values())


def _mix(color: str, toward: str, amount: float) -> str:
    a = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(toward[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * amount):02x}" for x, y in zip(a, b))


# A second, third... run of the same optimizer: its parent's hue, clearly lighter or darker.
_SHADES = (("#000000", 0.45), ("#ffffff", 0.5), ("#000000", 0.7), ("#ffffff", 0.75))


def run_color(optimizer: str, twin: int = 0) -> str:
    """The colour of the `twin`-th run (0: the first) of `optimizer` in a scene."""
    base = COLORS.get(optimizer, "#555555")
    if twin <= 0:
        return base
    toward, amount = _SHADES[(twin - 1) % len(_SHADES)]
    return _mix(base, toward, amount)


def colors(scene: dict) -> list[str]:
    """Each optimizer entry's colour, in order: the optimizer's own, shaded for repeats."""
    seen: dict[str, int] = {}
    out = []
    for entry in scene["optimizers"]:
        twin = seen.get(entry["optimizer"], 0)
        seen[entry["optimizer"]] = twin + 1
        out.append(run_color(entry["optimizer"], twin))
    return out

DEFAULT_SCENE = {
    "version": VERSION,
    "surface": {"name": "rosenbrock", "a": 1.0, "b": 100.0},
    "start": [-1.5, 2.0],
    "steps": 500,
    "noise": 0.0,
    "seed": 0,
    "shared_lr": None,
    "schedule": None,
    "tolerance": 1e-3,
    "optimizers": [
        {"optimizer": "sgd", "lr": 1e-3, "hyperparameters": {}, "schedule": None},
        {"optimizer": "momentum", "lr": 1e-3, "hyperparameters": {}, "schedule": None},
        {"optimizer": "rmsprop", "lr": 5e-3, "hyperparameters": {}, "schedule": None},
        {"optimizer": "adam", "lr": 0.05, "hyperparameters": {}, "schedule": None},
    ],
}
SCENE_KEYS = tuple(DEFAULT_SCENE)
ENTRY_KEYS = ("optimizer", "lr", "hyperparameters", "schedule")


def default_scene() -> dict:
    return copy.deepcopy(DEFAULT_SCENE)


def show(value, limit: int = 60) -> str:
    """A value as an error message quotes it: repr, cut short; never raises (huge ints)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** MAX_DIGITS:
        return f"an integer of {len(str(abs(value)))} digits"
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_numbers(raw, where: str = "scene") -> None:
    """Refuse, naming the field, what no scene can hold before any arithmetic sees it: integers of
    more than MAX_DIGITS digits (float() would overflow), NaN and infinities, nesting deeper than
    a scene. Types and ranges are checked field by field afterwards."""
    stack = [(raw, where, 1)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"{path} is nested deeper than any scene")
        if isinstance(value, bool) or value is None or isinstance(value, str):
            continue
        if isinstance(value, int):
            if abs(value) >= 10 ** MAX_DIGITS:
                raise ValueError(f"{path} must be a number of at most {MAX_DIGITS} digits, got "
                                 f"{show(value)}")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"{path} must be a finite number, got {show(value)}")
        elif isinstance(value, dict):
            stack.extend((v, f"{path}.{show(k, 30) if not isinstance(k, str) else k[:30]}",
                          depth + 1) for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value))


def _number(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            abs(value) >= 10 ** MAX_DIGITS or not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must be a number in [{low:g}, {high:g}], got {show(value)}")
    return float(value)


def _integer(name, value, low, high):
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {show(value)}")
    return value


def _field(name, value):
    """One scalar field checked against RANGES."""
    r = RANGES[name]
    return (_integer if r.integer else _number)(name, value, r.low, r.high)


def _entry(i, entry) -> dict:
    where = f"optimizers[{i}]"
    if isinstance(entry, str):
        entry = {"optimizer": entry}
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be an object, got {entry!r:.60}")
    unknown = sorted(set(entry) - set(ENTRY_KEYS) - {"label"})
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r}; valid keys: {', '.join(ENTRY_KEYS)}")
    name = entry.get("optimizer")
    if name not in OPTIMIZERS:
        raise ValueError(f"{where}: unknown optimizer {name!r:.40}; valid optimizers are: "
                         f"{', '.join(OPTIMIZERS)}")
    hyper = entry.get("hyperparameters") or {}
    if not isinstance(hyper, dict):
        raise ValueError(f"{where}: hyperparameters must be an object, got {hyper!r:.60}")
    for key, value in hyper.items():
        # One value per optimizer in a scene (the core's per-trajectory arrays are for sweeps).
        if not isinstance(value, (bool, int, float)):
            raise ValueError(f"{where}: hyperparameter {key!r:.40} must be a number or true/false, "
                             f"got {value!r:.60}")
    lr = entry.get("lr", DEMO_LR[name])
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise ValueError(f"{where}: lr must be a number, got {lr!r:.60}")
    return {"optimizer": name, "lr": lr, "hyperparameters": dict(hyper),
            "schedule": entry.get("schedule")}


def default_entry(optimizer: str) -> dict:
    """A new optimizer entry: its demo learning rate and torch's default hyperparameters."""
    return _entry(0, {"optimizer": optimizer})


def _surface(spec):
    """The scene's surface; a typed one's refusal names its field (surface.formula, or the
    window) and keeps the column of the offending character (FormulaError.column)."""
    custom = (isinstance(spec, dict) and spec.get("name") == CUSTOM) or spec == CUSTOM
    try:
        return landscapes.from_spec(spec)
    except landscapes.FormulaError as err:
        raise landscapes.FormulaError(f"surface.formula: {err}", err.column) from None
    except ValueError as err:
        if custom:
            raise ValueError(f"surface: {err}") from None
        raise


def normalize_scene(scene) -> dict:
    """Validate a scene (a dict or its JSON text) and return it with every default filled in.

    Raises ValueError whose message names the field, the value and what is allowed.
    """
    if isinstance(scene, (str, bytes)):
        if len(scene) > MAX_SCENE_BYTES:
            raise ValueError(f"scene is {len(scene)} bytes; at most {MAX_SCENE_BYTES} allowed")
        try:
            scene = json.loads(scene)
        except (ValueError, RecursionError) as err:
            raise ValueError(f"scene is not valid JSON: {str(err)[:80]}") from None
    if not isinstance(scene, dict):
        raise ValueError(f"a scene must be a JSON object, got {type(scene).__name__}")
    check_numbers(scene)
    unknown = sorted(set(scene) - set(SCENE_KEYS))
    if unknown:
        raise ValueError(f"unknown scene key {unknown[0]!r:.40}; valid keys: {', '.join(SCENE_KEYS)}")
    if scene.get("version", VERSION) != VERSION:
        raise ValueError(f"version must be {VERSION}, got {scene.get('version')!r:.20}")
    base = DEFAULT_SCENE
    surface = _surface(scene.get("surface", base["surface"]))
    (x0, x1), (y0, y1) = surface.bounds
    start = scene.get("start", list(surface.start))
    if not isinstance(start, (list, tuple)) or len(start) != 2:
        raise ValueError(f"start must be [x, y], got {start!r:.60}")
    start = [_number("start x", start[0], x0, x1), _number("start y", start[1], y0, y1)]
    steps = _field("steps", scene.get("steps", base["steps"]))
    noise = _field("noise", scene.get("noise", 0.0))
    seed = _field("seed", scene.get("seed", 0))
    tolerance = _field("tolerance", scene.get("tolerance", base["tolerance"]))
    shared_lr = scene.get("shared_lr")
    if shared_lr is not None:
        shared_lr = _field("shared_lr", shared_lr)
    entries = scene.get("optimizers", base["optimizers"])
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_OPTIMIZERS:
        raise ValueError(f"optimizers must be a list of 1 to {MAX_OPTIMIZERS} entries, "
                         f"got {entries!r:.60}")
    params = dict(surface.params)
    if surface.name == CUSTOM:      # a typed surface's own start is the scene's start: said once
        params.pop("start_x", None)
        params.pop("start_y", None)
    normalized = {
        "version": VERSION, "surface": {"name": surface.name, **params},
        "start": start, "steps": steps, "noise": noise, "seed": seed, "shared_lr": shared_lr,
        "schedule": scene.get("schedule"), "tolerance": tolerance,
        "optimizers": [_entry(i, e) for i, e in enumerate(entries)],
    }
    optim_core.normalize_schedule(normalized["schedule"], steps)   # raises naming the schedule
    # Every optimizer's own values go through the core's checks (no step is run).
    for i, run in enumerate(scene_runs(normalized)):
        try:
            optim_core.check_runs(surface, [{**run, "schedule": None}], 1)
            optim_core.normalize_schedule(run["schedule"], steps)
        except ValueError as err:
            raise ValueError(f"optimizers[{i}] ({run['optimizer']}): {err}") from None
    # One canonical spelling per scene: equal scenes compare (and cache, and link) equal.
    normalized["schedule"] = _canonical_schedule(normalized["schedule"], steps, inherit=False)
    for entry in normalized["optimizers"]:
        entry["lr"] = float(entry["lr"])
        defaults = OPTIMIZERS[entry["optimizer"]].defaults()
        entry["hyperparameters"] = {k: (v if isinstance(v, bool) else float(v))
                                    for k, v in sorted(entry["hyperparameters"].items())
                                    if v != defaults[k]}
        entry["schedule"] = _canonical_schedule(entry["schedule"], steps, inherit=True)
    return normalized


def _canonical_schedule(spec, steps, *, inherit):
    """None stays None (for an optimizer: use the scene's schedule). A constant scene schedule is
    None; an optimizer's explicit constant is {"name": "constant"}. Others become a dict keeping
    only the parameters that differ from their defaults (so lengths follow the run's steps)."""
    if spec is None:
        return None
    full = optim_core.normalize_schedule(spec, steps)
    if full["name"] == "constant":
        return {"name": "constant"} if inherit else None
    given = {"name": spec} if isinstance(spec, str) else spec
    out = {"name": full["name"]}
    for p in SCHEDULE_PARAMS[full["name"]]:
        if p.name in given and full[p.name] != p.default_for(steps):
            out[p.name] = full[p.name]
    return out


def scene_runs(scene: dict) -> list[dict]:
    """The optim_core.run_many entries of a normalized scene, one per optimizer, in order."""
    runs = []
    for entry in scene["optimizers"]:
        schedule = entry["schedule"] if entry.get("schedule") is not None else scene["schedule"]
        lr = scene["shared_lr"] if scene.get("shared_lr") is not None else entry["lr"]
        runs.append({"optimizer": entry["optimizer"], "x0": list(scene["start"]), "lr": lr,
                     "schedule": schedule, "noise": scene["noise"], "seed": scene["seed"],
                     "hyperparameters": dict(entry["hyperparameters"])})
    return runs


def labels(scene: dict) -> list[str]:
    """Display names: the optimizer's title, plus what differs when it appears more than once."""
    runs = scene_runs(scene)
    out = []
    for i, run in enumerate(runs):
        spec = OPTIMIZERS[run["optimizer"]]
        twins = [r for r in runs if r["optimizer"] == run["optimizer"]]
        if len(twins) == 1:
            out.append(spec.title)
            continue
        differs = []
        if len({r["lr"] for r in twins}) > 1:
            differs.append(f"lr={_short(run['lr'])}")
        full = [{**spec.defaults(), **r["hyperparameters"]} for r in twins]
        mine = {**spec.defaults(), **run["hyperparameters"]}
        for key in mine:
            if len({json.dumps(f.get(key)) for f in full}) > 1:
                differs.append(f"{key}={_short(mine[key])}")
        if len({json.dumps(r["schedule"], sort_keys=True) for r in twins}) > 1:
            differs.append(f"schedule={_schedule_name(run['schedule'])}")
        if not differs:
            differs.append(f"#{sum(r['optimizer'] == run['optimizer'] for r in runs[:i]) + 1}")
        out.append(f"{spec.title} ({', '.join(differs)})")
    # Twins that differ from the others but not from each other: numbered in order.
    counts, seen = Counter(out), Counter()
    for j, label in enumerate(out):
        if counts[label] > 1:
            seen[label] += 1
            out[j] = f"{label[:-1]}, #{seen[label]})" if label.endswith(")") else f"{label} #{seen[label]}"
    return out


def _schedule_name(schedule) -> str:
    if schedule is None:
        return "constant"
    return schedule if isinstance(schedule, str) else str(schedule.get("name"))


def _short(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def comparison_caption(scene: dict, lang: str = "en") -> str:
    """What was compared, in words, for the figure's caption (lang "en" or "ko")."""
    from .i18n import t

    if scene.get("shared_lr") is not None:
        lr = t("caption.shared_lr", lang, lr=_short(scene["shared_lr"]))
    else:
        lr = t("caption.own_lr", lang)
    sched = _schedule_name(scene.get("schedule"))
    sched = t(f"schedule.name.{sched}", lang) if lang != "en" else sched
    noise = (t("caption.noise", lang, noise=_short(scene["noise"]), seed=scene["seed"])
             if scene["noise"] else "")
    return t("caption.compared", lang, lr=lr, schedule=sched, noise=noise, steps=scene["steps"])


@dataclass(frozen=True, eq=False)
class RunResult:
    label: str
    color: str
    optimizer: str
    trajectory: optim_core.Trajectory


@dataclass(frozen=True, eq=False)
class SceneResult:
    """Everything the figures need; plain data (picklable, so Streamlit can cache it)."""

    scene: dict
    runs: tuple
    summary: tuple          # one dict per run, see summarize()

    @property
    def surface(self):
        # Built once per result (a Landscape computes its minima' values when made).
        cached = self.__dict__.get("_surface")
        if cached is None:
            cached = landscapes.from_spec(self.scene["surface"])
            object.__setattr__(self, "_surface", cached)
        return cached

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_surface"}

    def __setstate__(self, state):
        self.__dict__.update(state)


class RunCache:
    """A bounded, thread-safe map from one run's description to its Trajectory (LRU).

    The app keeps one per server: when a slider moves, only the optimizer it belongs to is run
    again; everything the change does not touch comes from here.
    """

    def __init__(self, max_entries: int = 256):
        self.max_entries = max_entries
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(surface_spec: dict, run: dict, steps: int) -> str:
        return json.dumps([surface_spec, run, steps], sort_keys=True)

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def compute_scene(scene: dict, cache: RunCache | None = None, *,
                  record_state: bool = False) -> SceneResult:
    """Run every optimizer of a normalized scene. Runs found in `cache` are reused; the others
    advance together (optim_core.run_many: one gradient evaluation per step for all of them).
    record_state: also keep each run's gradients, updates and state (optiviz.why reads them)."""
    runs = scene_runs(scene)
    if record_state:            # part of the cache key: a recorded run is a different entry
        runs = [{**run, "record_state": True} for run in runs]
    keys = [RunCache.key(scene["surface"], run, scene["steps"]) for run in runs]
    trajectories = [cache.get(k) if cache is not None else None for k in keys]
    missing = [i for i, t in enumerate(trajectories) if t is None]
    if missing:
        surface = landscapes.from_spec(scene["surface"])
        fresh = optim_core.run_many(surface, [runs[i] for i in missing], scene["steps"])
        for i, traj in zip(missing, fresh):
            trajectories[i] = traj
            if cache is not None:
                cache.put(keys[i], traj)
    names, hues = labels(scene), colors(scene)
    results = tuple(RunResult(names[i], hues[i], run["optimizer"], traj)
                    for i, (run, traj) in enumerate(zip(runs, trajectories)))
    result = SceneResult(scene=scene, runs=results, summary=())
    return SceneResult(scene=scene, runs=results, summary=tuple(summarize(result)))


def summarize(result: SceneResult, step: int | None = None) -> list[dict]:
    """Per run, at `step` (None: the end): loss, position, nearest minimum and distance, the first
    step within tolerance of that minimum's value while nearest to it, divergence. The one
    summary: the app's table and the JSON export both read it."""
    surface = result.surface
    tol = result.scene["tolerance"]
    rows = []
    for run in result.runs:
        traj = run.trajectory
        diverged = int(traj.diverged_at[0])
        end = traj.steps if step is None else max(0, min(int(step), traj.steps))
        last = end if diverged < 0 or end < diverged else diverged - 1
        final_xy = traj.xy[last, 0]
        final_loss = float(traj.loss[last, 0])
        index, distance = surface.nearest_minimum(final_xy[None, :])
        index, distance = int(index[0]), float(distance[0])
        reached = None
        if index >= 0:
            # Within tolerance of that minimum's value while in its neighbourhood (nearest to it),
            # so passing another minimum of similar height does not count.
            target = surface.minima_values[index]
            near, _ = surface.nearest_minimum(traj.xy[:last + 1, 0])
            hits = np.flatnonzero((np.abs(traj.loss[:last + 1, 0] - target) <= tol)
                                  & (near == index))
            reached = int(hits[0]) if hits.size else None
        rows.append({
            "label": run.label,
            "step": last,
            "final_loss": final_loss,
            "final_x": float(final_xy[0]), "final_y": float(final_xy[1]),
            "nearest_minimum": None if index < 0 else tuple(surface.minima[index]),
            "minimum_index": index,
            "distance": None if index < 0 else float(distance),
            "reached_step": reached,
            "diverged_at": None if diverged < 0 or end < diverged else diverged,
        })
    return rows


def scene_to_json(scene: dict) -> str:
    return json.dumps(scene, sort_keys=True, separators=(",", ":"))


def _flatten(value, path: str, out: dict) -> dict:
    if isinstance(value, dict):
        for k in sorted(value):
            _flatten(value[k], f"{path}.{k}" if path else str(k), out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _flatten(v, f"{path}[{i}]", out)
    else:
        out[path] = value
    return out


def differences(before: dict, after: dict) -> list[str]:
    """What changed between two normalized scenes, one line per field ("seed: 5 → 0"), so a
    scene that could not be shown exactly as loaded says what it became."""
    a, b = _flatten(before, "", {}), _flatten(after, "", {})
    out = []
    for key in sorted(set(a) | set(b), key=lambda k: (k.split(".")[0], k)):
        if key in a and key in b and json.dumps(a[key]) == json.dumps(b[key]):
            continue
        was = show(a[key], 30) if key in a else "not set"
        now = show(b[key], 30) if key in b else "not set"
        out.append(f"{key}: {was} → {now}")
    return out
