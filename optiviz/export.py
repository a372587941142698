"""Everything on screen, as files: one entry point for the app's download buttons and the CLI.

    >>> from optiviz import export, scene
    >>> result = scene.compute_scene(scene.normalize_scene(scene.default_scene()))
    >>> data, mime, filename = export.export(result, "png", view="race", scale=2)

Formats (``FORMATS``): png and svg (the view, through kaleido and a system Chromium), gif and
mp4 (the race, animated; see ``animation``), html (the view, interactive, plotly.js inlined, works
offline), csv and json (the trajectories), config (the scene as JSON; ``load_scene_file`` reads
it back). Only png and svg need a browser: without one they raise ``BrowserMissing``, whose
message says in one line how to get one; gif and mp4 then draw their background with PIL.

Long renders report ``progress(fraction, message)`` (fraction in [0, 1]).
Nothing here imports Streamlit.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass

import numpy as np

from . import i18n, renderer
from . import scene as _scene
from . import scene_record
from .renderer import (BROWSER_HINT, MAX_STATIC_PIXELS, BrowserMissing, ExportError,  # noqa: F401 - re-exported
                       _figure_dict, _float_option, _int_option, _one_line, _still,
                       browser_path, start_renderer, static_image, stop_renderer, warm_up)

__all__ = ["FORMATS", "VIEWS", "Format", "BrowserMissing", "ExportError", "export",
           "view_figure", "static_image", "interactive_html", "trajectories_csv",
           "read_trajectories_csv", "trajectories_json", "scene_json", "load_scene_file",
           "browser_path", "start_renderer", "stop_renderer", "warm_up", "filename_for", "BROWSER_HINT",
           "MAX_UPLOAD_BYTES"]


@dataclass(frozen=True)
class Format:
    key: str
    extension: str
    mime: str
    label: str
    needs_browser: bool = False
    animated: bool = False
    binary: bool = True


FORMATS = {f.key: f for f in (
    Format("png", "png", "image/png", "PNG image", needs_browser=True),
    Format("svg", "svg", "image/svg+xml", "SVG image", needs_browser=True, binary=False),
    Format("gif", "gif", "image/gif", "animated GIF", animated=True),
    Format("mp4", "mp4", "video/mp4", "MP4 video", animated=True),
    Format("html", "html", "text/html", "interactive HTML", binary=False),
    Format("csv", "csv", "text/csv", "trajectories (CSV)", binary=False),
    Format("json", "json", "application/json", "trajectories (JSON)", binary=False),
    Format("config", "json", "application/json", "scene config (JSON)", binary=False),
)}

# view key -> figure function; the app's labels are accepted too (see _view_key)
VIEWS = ("race", "panels", "3d", "curves")
_VIEW_ALIASES = {"race": "race", "overlay": "race", "panels": "panels", "side by side": "panels",
                 "side-by-side": "panels", "3d": "3d", "surface": "3d", "curves": "curves"}
# default picture size (CSS px) per view; height None: the figure's own
VIEW_SIZE = {"race": (1100, 660), "panels": (1100, None), "3d": (1000, 700),
             "curves": (1100, 440)}

MAX_UPLOAD_BYTES = _scene.MAX_SCENE_BYTES
# --------------------------------------------------------------------------------------------
# Options


def _view_key(view) -> str:
    key = _VIEW_ALIASES.get(str(view).strip().lower()) if isinstance(view, str) else None
    if key is None:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}, got {view!r:.40}")
    return key


# --------------------------------------------------------------------------------------------
# Figures


def view_figure(result, view: str = "race", *, step=None, frames: int = 0, width=None,
                height=None, caption=True, lang: str = "en"):
    """The app's figure of a view ("race", "panels", "3d", "curves"; the app's labels "Race",
    "Side by side", "3D", "Curves" too) at `step`, with `frames` animation frames, its words in
    `lang`. result: a scene.SceneResult or its scene_record.SceneRecord."""
    from . import figures

    key = _view_key(view)
    fn = {"race": figures.race_figure, "panels": figures.panels_figure,
          "3d": figures.surface3d_figure, "curves": figures.curves_figure}[key]
    return fn(scene_record.of(result), step=step, frames=frames, width=width, height=height,
              caption=caption, lang=lang)


# --------------------------------------------------------------------------------------------
# HTML


def interactive_html(fig, *, title: str | None = None) -> str:
    """A self-contained HTML page of `fig`: plotly.js inlined (works offline, no CDN), the
    animation controls kept, responsive width."""
    import plotly.io as pio

    d = _figure_dict(fig)
    if "frames" in d and not d["frames"]:
        d.pop("frames")
    html = pio.to_html(d, include_plotlyjs=True, full_html=True, include_mathjax=False,
                       validate=False, auto_play=False,
                       config={"displaylogo": False, "responsive": True,
                               "toImageButtonOptions": {"scale": 2}})
    if title:
        safe = (title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
        html = html.replace("<head>", f"<head><title>{safe}</title>", 1)
    return html


# --------------------------------------------------------------------------------------------
# Trajectories: CSV and JSON

CSV_COLUMNS = ("label", "optimizer", "step", "x", "y", "loss", "lr", "diverged")


def _num(v: float) -> str:
    """repr of a float: shortest text that reads back to the same float; NaN -> ''."""
    v = float(v)
    if math.isnan(v):
        return ""
    return repr(v)


def trajectories_csv(result) -> str:
    """One row per optimizer and step: label, optimizer, step, x, y, loss, lr, diverged.

    lr is the learning rate of the update that produced the row (empty at step 0, as in the
    app's lr panel); diverged is 1 from the run's divergence step on (its x, y, loss and lr are
    empty there: NaN), else 0. Numbers are written exactly (read_trajectories_csv gives the
    same arrays back)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for run in scene_record.of(result).runs:
        xy, loss, lr, d = run.xy, run.loss, run.lr, run.diverged_at
        for k in range(xy.shape[0]):
            writer.writerow((run.label, run.optimizer, k, _num(xy[k, 0]), _num(xy[k, 1]),
                             _num(loss[k]), "" if k == 0 else _num(lr[k - 1]),
                             1 if d is not None and d <= k else 0))
    return out.getvalue()


def read_trajectories_csv(text: str) -> dict:
    """trajectories_csv's text -> {label: {"optimizer", "step", "x", "y", "loss", "lr",
    "diverged"}} with numpy arrays (lr has one entry fewer: the updates 1..N; empty -> NaN).
    Raises ValueError naming the line on a malformed file."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != CSV_COLUMNS:
        raise ValueError(f"not an optiviz trajectories CSV: the header must be "
                         f"{','.join(CSV_COLUMNS)}")
    rows: dict[str, dict] = {}

    def number(cell, line, name):
        if cell == "":
            return math.nan
        try:
            return float(cell)
        except ValueError:
            raise ValueError(f"line {line}: {name} is not a number: {cell!r:.30}") from None

    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(CSV_COLUMNS):
            raise ValueError(f"line {line}: expected {len(CSV_COLUMNS)} columns, got {len(row)}")
        label, optimizer, step, x, y, loss, lr, diverged = row
        run = rows.setdefault(label, {"optimizer": optimizer, "step": [], "x": [], "y": [],
                                      "loss": [], "lr": [], "diverged": []})
        try:
            step_i = int(step)
            div = int(diverged)
        except ValueError:
            raise ValueError(f"line {line}: step and diverged must be integers") from None
        if step_i != len(run["step"]):
            raise ValueError(f"line {line}: expected step {len(run['step'])} of {label!r:.40}, "
                             f"got {step_i}")
        run["step"].append(step_i)
        run["x"].append(number(x, line, "x"))
        run["y"].append(number(y, line, "y"))
        run["loss"].append(number(loss, line, "loss"))
        if step_i > 0:
            run["lr"].append(number(lr, line, "lr"))
        run["diverged"].append(div)
    out = {}
    for label, run in rows.items():
        out[label] = {"optimizer": run["optimizer"],
                      "step": np.asarray(run["step"], dtype=np.int64),
                      "x": np.asarray(run["x"], dtype=np.float64),
                      "y": np.asarray(run["y"], dtype=np.float64),
                      "loss": np.asarray(run["loss"], dtype=np.float64),
                      "lr": np.asarray(run["lr"], dtype=np.float64),
                      "diverged": np.asarray(run["diverged"], dtype=np.int64)}
    return out


def _json_list(a) -> list:
    return [None if not math.isfinite(v) else v for v in np.asarray(a, dtype=np.float64).tolist()]


def trajectories_json(result) -> str:
    """The scene and every run's arrays as JSON (NaN -> null): {"format":
    "optiviz-trajectories", "version": 1, "scene": {...}, "runs": [{"label", "optimizer",
    "color", "diverged_at" (int or null), "x", "y", "loss" (steps+1 each), "lr" (steps: the
    update k+1 used lr[k])}], "summary": [...]}."""
    runs = [{"label": run.label, "optimizer": run.optimizer, "color": run.color,
             "diverged_at": run.diverged_at,
             "x": _json_list(run.xy[:, 0]), "y": _json_list(run.xy[:, 1]),
             "loss": _json_list(run.loss), "lr": _json_list(run.lr)}
            for run in scene_record.of(result).runs]

    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if isinstance(v, np.generic):
            return clean(v.item())
        return v

    doc = {"format": "optiviz-trajectories", "version": 1, "scene": result.scene,
           "runs": runs, "summary": clean(list(result.summary))}
    return json.dumps(doc, allow_nan=False, separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# The scene's config


def scene_json(scene: dict) -> str:
    """The scene as a readable JSON file (normalized first; load_scene_file reads it back to the
    same scene)."""
    return json.dumps(_scene.normalize_scene(scene), indent=2, allow_nan=False) + "\n"


def load_scene_file(data) -> dict:
    """An uploaded scene file (bytes or str) -> the normalized scene. Refuses, with a ValueError
    whose one-line message says why, anything over MAX_UPLOAD_BYTES (checked before reading it),
    text that is not UTF-8 or not JSON, and every invalid scene (unknown names, wrong types,
    numbers out of range). Reading never changes anything else."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    elif hasattr(data, "read"):                          # a file object (st.file_uploader's)
        data = data.read(MAX_UPLOAD_BYTES + 1)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"a scene file must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(f"the file is too large for a scene config ({_size(len(data))}; at most "
                         f"{_size(MAX_UPLOAD_BYTES)})")
    if not data.strip():
        raise ValueError("the file is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8 text (a scene config is JSON)") from None
    try:
        raw = json.loads(text)
    except RecursionError:
        raise ValueError("the file is not a scene config: JSON nested too deeply") from None
    except ValueError as err:
        raise ValueError(_one_line(f"the file is not valid JSON: {err}", 160)) from None
    try:
        return _scene.normalize_scene(raw)
    except RecursionError:
        raise ValueError("the file is not a scene config: nested too deeply") from None
    except (ValueError, TypeError) as err:
        raise ValueError(_one_line(f"invalid scene: {err}", 300)) from None


def _size(n: int) -> str:
    for unit, size in (("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


# --------------------------------------------------------------------------------------------
# One entry point


def filename_for(result, fmt: str, view: str = "race") -> str:
    f = FORMATS[fmt]
    surface = re.sub(r"[^a-z0-9]+", "-", str(result.scene["surface"]["name"]).lower()).strip("-")
    if fmt in ("gif", "mp4"):
        what = "race"
    elif fmt in ("png", "svg", "html"):
        what = _view_key(view)
    elif fmt == "config":
        what = "scene"
    else:
        what = "trajectories"
    return f"optiviz-{surface or 'scene'}-{what}.{f.extension}"


def export(result, fmt: str, *, view: str = "race", step=None, scale=None, frames: int = 100,
           fps: float = 20, hold: float = 1.0, width=None, height=None, caption=True,
           progress=None, lang: str = "en") -> tuple[bytes, str, str]:
    """Produce one download: returns (data, mime type, suggested file name).

    result: scene.compute_scene(...). fmt: a key of FORMATS. view (png, svg, html): "race",
    "panels", "3d", "curves" (or the app's labels). step: the step shown (None: the last).
    scale: pixel density, default 2 for png and 1 for gif/mp4. frames, fps, hold (gif, mp4):
    at most `frames` frames at `fps` a second, the last held `hold` s. width, height: CSS px
    (default: the view's usual size). progress(fraction, message): called during long renders.
    lang: "en" or "ko", the language of the words in pictures, animations and the HTML page
    (the data files are the same in both).

    Raises ValueError for bad options, BrowserMissing (png/svg without a browser) and
    ExportError when a render fails.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r:.20}")
    f = FORMATS[fmt]
    report = progress or (lambda fraction, message: None)
    lang = i18n.normalize(lang)
    record = scene_record.of(result)                    # read by every view below
    total = record.steps
    if step is not None:
        step = _int_option("step", step, 0, total)
    if width is not None:
        width = _int_option("width", width, 200, 8000)
    if height is not None:
        height = _int_option("height", height, 150, 8000)
    view_key = _view_key(view)
    name = filename_for(result, fmt, view_key)

    if fmt in ("png", "svg"):
        scale = 2.0 if scale is None else _float_option("scale", scale, 0.25, 8)
        if not renderer.running() and browser_path() is None:
            raise BrowserMissing()
        dw, dh = VIEW_SIZE[view_key]
        fig = view_figure(record, view_key, step=step, frames=0, width=width or dw,
                          height=height or dh, caption=caption, lang=lang)
        d = _figure_dict(fig)
        if step is not None and step < total and view_key in ("race", "panels"):
            _add_step_label(d, step, total, lang)
        report(0.05, f"rendering the {fmt.upper()}")
        data = static_image(d, fmt, scale=scale, width=width or dw,
                            height=height or d["layout"].get("height") or dh)
        report(1.0, "done")
        return data, f.mime, name
    if fmt in ("gif", "mp4"):
        from . import animation

        scale = 1.0 if scale is None else _float_option("scale", scale, 0.25, 4)
        frames = _int_option("frames", frames, 2, animation.MAX_FRAMES)
        fps = _float_option("fps", fps, 1, animation.MAX_FPS)
        hold = _float_option("hold", hold, 0, 10)
        kwargs = dict(frames=frames, fps=fps, hold=hold, width=width, height=height,
                      scale=scale, caption=caption, progress=report, lang=lang)
        data = animation.gif_bytes(record, **kwargs) if fmt == "gif" else \
            animation.mp4_bytes(record, **kwargs)
        return data, f.mime, name
    if fmt == "html":          # the app's live view, offline: timeline, views, readout
        from .live_html import live_html

        live_view = {"race": "race", "panels": "side", "3d": "3d", "curves": "curves"}[view_key]
        at = None if step is None else _int_option("step", step, 0, total)
        page = live_html(record, view=live_view, step=None if at == total else at,
                         height=_int_option("height", height or 560, 200, 4000), lang=lang)
        return page.encode("utf-8"), f.mime, name
    if fmt == "csv":
        return trajectories_csv(result).encode("utf-8"), f.mime, name
    if fmt == "json":
        return trajectories_json(result).encode("utf-8"), f.mime, name
    return scene_json(result.scene).encode("utf-8"), f.mime, name


def _add_step_label(d: dict, step: int, total: int, lang: str = "en") -> None:
    """A "step k / N" label at the top right of a still picture shown before the last step
    (where the animation's counter is)."""
    layout = d["layout"]
    top = int((layout.get("margin") or {}).get("t", 100))
    annotations = list(layout.get("annotations") or [])
    text = i18n.t("fig.step_of", lang, step=step, total=total)
    annotations.append(dict(text=f"<b>{text}</b>", xref="paper", yref="paper",
                            x=1.0, y=1.0, xanchor="right", yanchor="top", yshift=top - 10,
                            showarrow=False, font=dict(size=20, color="#1f2933")))
    layout["annotations"] = annotations
