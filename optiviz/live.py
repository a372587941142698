"""The live view's model: one plain record per scene, built once in Python and drawn by the
browser (ui/live_view). Positions, losses and rates travel as base64 float32 arrays (NaN marks
what is gone after a divergence), the surface image only when the surface changes.

    model = view_model(result)            # a dict, JSON-serializable
    decode(model["runs"][0]["x"])         # the numbers back, as float32

Words: view_model(..., lang="ko") puts the live view's own labels in model["text"] (the
catalogs' "live.*" strings, looked up by static/live_view/*.js with textContent) and the
surface's title and the loss axis in that language; why_text and map_view.localized do the same
for the "why it moves" record and the maps.
"""

from __future__ import annotations

import base64
import hashlib
import json

import numpy as np

from . import i18n
from . import scene as _scene
from . import scene_record as _record
from . import surface_image as _surface_image
from . import why as _why

GRID_3D = 60                 # points per side of the 3-D surface mesh
IMAGE_RESOLUTION = 300       # the map's surface image, longer side in pixels


def encode(values) -> str:
    """float32 little-endian, base64: 5.3 characters a number (JSON text of 5 digits: ~9)."""
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode("ascii")


def decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4")


def _key(value) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True).encode()).hexdigest()[:12]


def surface_key(scene: dict) -> str:
    return _key(scene["surface"])


def _surface(record, include_image: bool, lang: str = "en") -> dict:
    from .figures import surface_words

    surface = record.surface
    (x0, x1), (y0, y1) = record.bounds
    out = {"key": surface_key(record.scene), "title": surface_words(surface, lang)[0],
           "bounds": [[x0, x1], [y0, y1]],
           "minima": [[float(x), float(y)] for x, y in record.minima],
           "global": [bool(v) for v in record.is_global]}
    if include_image:
        out["image"] = record.image(IMAGE_RESOLUTION)["source"]
        out["mesh"] = _mesh(surface)
    return out


def _height(surface):
    """z for the 3-D view: log10(f − f_min + ε) on log-scaled surfaces (ε the 3rd percentile of
    the gap, so a narrow valley is a trough, not a slot), clipped at the 98th percentile."""
    scale = _surface_image.scale(surface)
    (x0, x1), (y0, y1) = surface.bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, 201), np.linspace(y0, y1, 201))
    f = surface.f(np.stack([gx, gy], axis=-1))
    finite = f[np.isfinite(f)]
    eps = None
    if scale.log:
        eps = max(float(np.percentile(np.maximum(finite - scale.f_min, 0.0), 3.0)), scale.eps)

        def zmap(v):
            with np.errstate(all="ignore"):
                return np.log10(np.maximum(np.asarray(v, dtype=np.float64) - scale.f_min, 0.0) + eps)
        title = f"log₁₀(f − f_min + ε), ε = {eps:.2g}"
    else:
        def zmap(v):
            return np.asarray(v, dtype=np.float64)
        title = "f"
    h = zmap(finite)
    lo, hi = float(np.min(h)), float(np.percentile(h, 98.0))
    height = {"log": scale.log, "f_min": scale.f_min, "eps": eps}
    return zmap, lo, hi if hi > lo else lo + 1.0, title, height


def _mesh(surface) -> dict:
    zmap, lo, hi, title, _ = _height(surface)
    (x0, x1), (y0, y1) = surface.bounds
    xs, ys = np.linspace(x0, x1, GRID_3D), np.linspace(y0, y1, GRID_3D)
    gx, gy = np.meshgrid(xs, ys)
    f = surface.f(np.stack([gx, gy], axis=-1))
    z = np.clip(np.where(np.isfinite(f), zmap(f), hi), lo, hi)
    color = _surface_image.scale(surface).color(f)
    return {"n": GRID_3D, "z": encode(z.ravel()), "color": encode(color.ravel()),
            "zrange": [lo, hi], "ztitle": title, "colorscale": _surface_image.colorscale()}


def _zpath(surface) -> dict:
    """How the browser lifts a path onto the 3-D surface: z = log10(max(loss − f_min, 0) + eps)
    (or the loss itself), clipped to zrange, plus a small lift."""
    _, lo, hi, _, height = _height(surface)
    return {**height, "zrange": [lo, hi], "lift": 0.03 * (hi - lo)}


def texts(lang: str = "en") -> dict[str, str]:
    """The live view's own words in `lang`, keyed as static/live_view/*.js looks them up."""
    return i18n.section("live.", lang)


def view_model(result, *, include_surface: bool = True, autoplay: bool = False,
               step: int | None = None, view: str = "race", lang: str = "en") -> dict:
    """The record the live view draws: the scene's runs, the surface (its image and 3-D mesh
    only when include_surface: the browser keeps surfaces by key), and where to start.
    result: a scene.SceneResult or its scene_record.SceneRecord (the record is what is sent).
    lang: "en" or "ko", the language of its words ("lang", "text")."""
    from .figures import _loss_title

    lang = i18n.normalize(lang)
    record = _record.of(result)
    surface = record.surface
    steps = int(record.scene["steps"])
    loss_axis = record.loss_axis
    out_runs = [{"label": r.label, "color": r.color, "optimizer": r.optimizer,
                 "x": encode(r.xy[:, 0]), "y": encode(r.xy[:, 1]), "loss": encode(r.loss),
                 "lr": encode(r.lr), "diverged_at": r.diverged_at,
                 "reached": r.reached,                    # first step within tolerance, or None
                 "reached_local": r.reached_local,        # ... of a minimum not the global one
                 "reached_value": r.reached_value}        # its value: within tolerance still?
                for r in record.runs]
    return {
        "key": _key(record.scene), "steps": steps, "start": list(record.scene["start"]),
        "surface": _surface(record, include_surface, lang),
        "runs": out_runs,
        "loss_axis": {"log": loss_axis.log, "range": loss_axis.range,
                      "title": _loss_title(loss_axis, lang),
                      "shift": loss_axis.shift, "tiny": loss_axis.tiny},
        "zpath": _zpath(surface),
        "tolerance": record.scene["tolerance"],
        "autoplay": bool(autoplay), "step": None if step is None else int(step),
        "view": view, "lang": lang, "text": texts(lang),
    }


def why_model(result, index: int) -> dict:
    """What the live view's "why it moves" panel and map overlays draw for run `index` of a
    scene computed with record_state=True: its why record (optiviz.why), arrays as base64
    float32. One run at a time: all of a scene's records can pass the 300 KB budget."""
    run = result.runs[index]
    record = _why.why_record(run.trajectory, 0)
    return {"run": int(index), "label": run.label, "color": run.color,
            **_why.pack(record, encode)}


def why_text(why: dict, lang: str = "en") -> dict:
    """A why_model record with its words in `lang`: the overlays' labels and the words inside
    the rule's lines (the numbers and symbols stay). A new top level; nothing shared is changed."""
    if i18n.normalize(lang) == "en":
        return why
    overlays = {role: {**entry, "label": i18n.known(entry.get("label"), lang, "why.label.")}
                for role, entry in why["overlays"].items()}
    rule = [[i18n.phrases(seg, lang, "why.phrase.") if isinstance(seg, str) else seg
             for seg in line] for line in why["rule"]]
    return {**why, "overlays": overlays, "rule": rule}


def model_bytes(model: dict) -> int:
    """What the model costs on the wire, as JSON text."""
    return len(json.dumps(model, separators=(",", ":")))


def summary_at(result, step: int) -> list[dict]:
    """The summary table's rows at `step` (the timeline's stop), from the one summary."""
    return _scene.summarize(result, step)
