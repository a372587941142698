"""The live view's maps: what the browser draws for "Maps" (optiviz.maps computes, this colours).

    model = map_model(result, "basin")      # one image per run, the legend, the axes
    model = map_model(result, "hyper")      # lr x a second setting, per run, one colour scale
    model = map_model(result, "spread")     # K noisy runs per run: quantile bands

Python decides every colour: cells go to the browser as small PNG images (data URLs) placed on
the map's axes, with the numbers the browser needs to turn a click into a cell. The same images
serve the static exports (optiviz.map_figures may draw them too).
"""

from __future__ import annotations

import base64
import colorsys
import io
import math

import numpy as np

from optim_core import OPTIMIZERS

from . import map_figures as _figs
from . import maps as _maps
from . import scene as _scene
from .widgets import hyper_label

KINDS = ("basin", "hyper", "spread")
BASIN_GRID = 96              # cells per side in the app (the CLI goes to 1024)
HYPER_GRID = 48
ENSEMBLE_RUNS = 100


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))


# The colours of optiviz.map_figures (the exported maps), so the app and its exports agree.
DIVERGED_RGB = _rgb(_figs.DIVERGED_COLOR)              # light grey
NOT_CONVERGED_RGB = _rgb(_figs.NOT_CONVERGED_COLOR)    # charcoal: ended away from every minimum


# The second setting of each optimizer's hyperparameter map (the first is always lr).
SECOND = {"sgd": "weight_decay", "momentum": "momentum", "nesterov": "momentum",
          "adagrad": "lr_decay", "rmsprop": "rho", "adadelta": "rho", "adam": "beta1",
          "adamw": "beta1", "amsgrad": "beta1", "adamax": "beta1", "nadam": "beta1",
          "radam": "beta1", "lion": "beta1"}


def minimum_rgb(index: int, lightness: float = _figs.LEGEND_LIGHT) -> tuple[int, int, int]:
    """The colour of the basin of the index-th listed minimum (map_figures.minimum_color)."""
    return _rgb(_figs.minimum_color(int(index), float(lightness)))


def png_url(rgb: np.ndarray) -> str:
    """(rows, cols, 3) uint8 with row 0 at the TOP -> a PNG data URL."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB").save(buf, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def basin_rgb(bmap: _maps.BasinMap) -> np.ndarray:
    """Cells coloured by the minimum their run ends at, darker the sooner it got within the
    tolerance (lightest: never that close); charcoal: ended elsewhere; light grey: diverged (the
    exported maps' colours, map_figures). Row 0 is the top (largest y), as an image."""
    ny, nx = bmap.shape
    out = np.empty((ny, nx, 3), dtype=np.uint8)
    out[...] = NOT_CONVERGED_RGB
    out[bmap.minimum == _maps.DIVERGED] = DIVERGED_RGB
    t = np.where(bmap.steps_to_tolerance >= 0, bmap.steps_to_tolerance / max(bmap.steps, 1), 1.0)
    light = np.round(_figs.LIGHT_FAST + (_figs.LIGHT_SLOW - _figs.LIGHT_FAST) * t, 2)
    for index in np.unique(bmap.minimum[bmap.minimum >= 0]):
        cells = bmap.minimum == index
        for level in np.unique(light[cells]):
            out[cells & (light == level)] = minimum_rgb(int(index), float(level))
    return out[::-1]


def _rgb_scale(t: np.ndarray) -> np.ndarray:
    """t in [0, 1] -> a perceptual dark-blue -> teal -> yellow ramp (low loss dark)."""
    stops = np.array([[13, 8, 135], [84, 2, 163], [139, 10, 165], [185, 50, 137],
                      [219, 92, 104], [244, 136, 73], [254, 188, 43], [240, 249, 33]], float)
    t = np.clip(np.nan_to_num(t, nan=0.0), 0.0, 1.0) * (len(stops) - 1)
    lo = np.floor(t).astype(int).clip(0, len(stops) - 2)
    w = (t - lo)[..., None]
    return (stops[lo] * (1 - w) + stops[lo + 1] * w).round().astype(np.uint8)


def loss_scale(hmaps, f_min: float) -> tuple[float, float]:
    """One log10(loss − f_min) range for every optimizer's map, so colours compare fairly."""
    vals = np.concatenate([np.ravel(h.final_loss) for h in hmaps]) - f_min
    vals = vals[np.isfinite(vals)]
    if not vals.size:
        return -12.0, 1.0
    logs = np.log10(np.maximum(vals, 1e-300))
    lo, hi = float(np.percentile(logs, 1)), float(np.percentile(logs, 99))
    lo = max(lo, -16.0)
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def hyper_rgb(hmap: _maps.HyperMap, f_min: float, scale: tuple[float, float]) -> np.ndarray:
    lo, hi = scale
    with np.errstate(all="ignore"):
        logs = np.log10(np.maximum(hmap.final_loss - f_min, 1e-300))
    out = _rgb_scale((logs - lo) / (hi - lo))
    out[hmap.diverged | ~np.isfinite(hmap.final_loss)] = DIVERGED_RGB
    return out[::-1]


def _runs(result):
    """(label, colour, scene-style entry with noise and seed) for each run of the scene."""
    entries = [{k: v for k, v in e.items() if k != "x0"} for e in _scene.scene_runs(result.scene)]
    return [(run.label, run.color, entry) for run, entry in zip(result.runs, entries)]


def _axis(values, scale):
    values = np.asarray(values, dtype=float)
    if scale == "log":
        edges = np.log10(values)
    else:
        edges = values
    step = (edges[-1] - edges[0]) / max(len(edges) - 1, 1) if len(edges) > 1 else 1.0
    return {"values": [float(v) for v in values], "scale": scale,
            "range": [float(edges[0] - step / 2), float(edges[-1] + step / 2)]}


def basin_model(result, n: int = BASIN_GRID) -> dict:
    scene, surface = result.scene, result.surface
    (x0, x1), (y0, y1) = surface.bounds
    runs, used = [], set()
    for label, color, entry in _runs(result):
        bmap = _maps.basin_map(surface, entry, n, scene["steps"], tolerance=scene["tolerance"])
        counts = {int(i): int(c) for i, c in zip(*np.unique(bmap.minimum, return_counts=True))}
        used.update(i for i in counts if i >= 0)
        runs.append({"label": label, "color": color, "image": png_url(basin_rgb(bmap)),
                     "counts": {str(k): v for k, v in counts.items()}})
    minima = [[float(x), float(y)] for x, y in surface.minima]
    legend = [{"color": "rgb(%d,%d,%d)" % minimum_rgb(i), "label": f"ends at ({_num(m[0])}, {_num(m[1])})",
               "at": [_num(m[0]), _num(m[1])]}
              for i, m in enumerate(minima) if i in used][:10]
    legend += [{"color": "rgb(%d,%d,%d)" % NOT_CONVERGED_RGB, "label": "ends elsewhere",
                "what": "ends_elsewhere"},
               {"color": "rgb(%d,%d,%d)" % DIVERGED_RGB, "label": "diverged", "what": "diverged"}]
    return {"kind": "basin", "n": int(n), "steps": int(scene["steps"]),
            "x": {"range": [x0, x1], "scale": "linear"}, "y": {"range": [y0, y1], "scale": "linear"},
            "runs": runs, "legend": legend,
            "note": (f"Each cell: a run of {scene['steps']} steps from there. Hue: the minimum it "
                     f"ends at; darker: within the tolerance sooner; charcoal: ends elsewhere; "
                     f"light grey: diverged. Click a cell to race from it.")}


def hyper_model(result, n: int = HYPER_GRID) -> dict:
    scene, surface = result.scene, result.surface
    hmaps, meta = [], []
    for i, (label, color, entry) in enumerate(_runs(result)):
        name = entry["optimizer"]
        second, xs, ys = hyper_axes(entry, n)
        hmap = _maps.hyper_map(surface, entry, "lr", xs, second, ys, tuple(scene["start"]),
                               scene["steps"], tolerance=scene["tolerance"])
        hmaps.append(hmap)
        meta.append((i, label, color, name, second))
    scale = loss_scale(hmaps, surface.f_min)
    runs = []
    for hmap, (i, label, color, name, second) in zip(hmaps, meta):
        best = hmap.best_cell()
        runs.append({"run": i, "label": label, "color": color, "image": png_url(hyper_rgb(hmap, surface.f_min, scale)),
                     "x": {**_axis(hmap.values_x, hmap.scale_x), "param": "lr",
                           "label": hyper_label(name, "lr")},
                     "y": {**_axis(hmap.values_y, hmap.scale_y), "param": second,
                           "label": hyper_label(name, second)},
                     "optimizer": name,
                     "best": None if best is None else [int(best[1]), int(best[0])],
                     "now": [float(scene_lr(result, i)), float(_current(result, i, second))],
                     "diverged": int(np.count_nonzero(hmap.diverged))})
    return {"kind": "hyper", "n": int(n), "steps": int(scene["steps"]), "runs": runs,
            "scale": {"lo": scale[0], "hi": scale[1], "title": "log₁₀(final loss − f_min)"},
            "note": ("Each cell: a race from the start with that lr and setting. Colour: final loss "
                     "(one scale for all; light grey: diverged); ★ the best cell, ○ the race's own "
                     "settings. Click a cell to race with those settings.")}


def hyper_axes(entry: dict, n: int = HYPER_GRID):
    """(second setting, lr values, its values) of a run's settings map: lr from 1/100 of the
    run's own to 30 times it, the second setting over its usual range."""
    name = entry["optimizer"]
    second = SECOND[name]
    xs = _maps.axis_values(name, "lr", n, low=entry["lr"] / 100, high=min(entry["lr"] * 30, 10.0))
    ys = _maps.axis_values(name, second, n) if second != "lr_decay" else np.linspace(0.0, 0.1, n)
    return second, xs, ys


def cell_values(result, run: int, ix: int, iy: int, n: int = HYPER_GRID) -> dict | None:
    """The settings of one cell of run `run`'s settings map: {"lr": .., second: ..}."""
    runs = _runs(result)
    if not (0 <= run < len(runs) and 0 <= ix < n and 0 <= iy < n):
        return None
    second, xs, ys = hyper_axes(runs[run][2], n)
    return {"lr": float(xs[ix]), second: float(ys[iy])}


def scene_lr(result, i: int) -> float:
    return _scene.scene_runs(result.scene)[i]["lr"]


def _current(result, i: int, param: str) -> float:
    entry = _scene.scene_runs(result.scene)[i]
    spec = OPTIMIZERS[entry["optimizer"]]
    return float(entry["hyperparameters"].get(param, spec.param(param).default))


def spread_model(result, k: int = ENSEMBLE_RUNS) -> dict:
    from .live import encode

    scene, surface = result.scene, result.surface
    noise = float(scene["noise"])
    runs = []
    if noise > 0:
        for label, color, entry in _runs(result):
            ens = _maps.noise_ensemble(surface, entry, k, noise, scene["seed"], scene["steps"],
                                       tuple(scene["start"]))
            runs.append({"label": label, "color": color, "k": int(k),
                         "xy": [encode(ens.xy[q].ravel()) for q in range(len(ens.quantiles))],
                         "loss": [encode(ens.loss[q]) for q in range(len(ens.quantiles))],
                         "alive": encode(ens.alive)})
    return {"kind": "spread", "steps": int(scene["steps"]), "noise": noise, "runs": runs,
            "quantiles": list(_maps.QUANTILES),
            "note": (f"{k} runs of each optimizer with gradient noise σ = {noise:g}, each with "
                     "its own noise draws (run 0 is the race's own): the median path, and bands "
                     "holding the middle 50 % and 80 % of the runs at each step."
                     if noise > 0 else "No noise in this scene: every run would be the same. "
                     "Raise the gradient noise σ (sidebar: Noise, seed and tolerance).")}


def map_model(result, kind: str) -> dict:
    if kind == "basin":
        return basin_model(result)
    if kind == "hyper":
        return hyper_model(result)
    if kind == "spread":
        return spread_model(result)
    raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r:.40}")


def localized(model: dict, lang: str = "en") -> dict:
    """A map model with its words (legend, colour scale, note) in `lang` ("en" or "ko"): a new
    top level; the model itself (shared by the app's cache) is never changed."""
    from .i18n import normalize, t

    lang = normalize(lang)
    if lang == "en" or not isinstance(model, dict):
        return model
    out = dict(model)
    kind = model.get("kind")
    if kind == "basin":
        out["legend"] = [{**item, "label": t("map.ends_at", lang, x=item["at"][0], y=item["at"][1])
                          if "at" in item else t(f"map.{item.get('what')}", lang)}
                         for item in model["legend"]]
        out["note"] = t("map.basin_note", lang, steps=model["steps"])
    elif kind == "hyper":
        out["runs"] = [{**run, **{axis: {**run[axis], "label": hyper_label(run["optimizer"],
                                                                             run[axis]["param"], lang)}
                                  for axis in ("x", "y")}} for run in model["runs"]]
        out["scale"] = {**model["scale"], "title": t("map.hyper_scale", lang)}
        out["note"] = t("map.hyper_note", lang)
    elif kind == "spread":
        k = model["runs"][0]["k"] if model.get("runs") else ENSEMBLE_RUNS
        out["note"] = (t("map.spread_note", lang, k=k, noise=f"{model['noise']:g}")
                       if model.get("noise", 0) > 0 else t("map.no_noise", lang))
    return out


def _num(v: float) -> str:
    return f"{v:.3g}" if math.isfinite(v) else "–"
