"""Figures: pure functions from a computed scene (``scene.SceneResult``) to plotly figures.

    >>> from optiviz import scene, figures
    >>> result = scene.compute_scene(scene.normalize_scene(scene.default_scene()))
    >>> fig = figures.race_figure(result, step=120)      # map + loss + lr, animated

Every figure function takes the same keywords in the same order: ``step`` (the step shown
initially, default the last), ``frames`` (the most animation frames, 0 for none), ``template``,
``width``, ``height``, then ``caption`` (True: ``scene.comparison_caption``; a string; or None).

The surface is a PNG in ``layout.images``, never a contour/heatmap trace: plotly.js drops those
when an animation starts, an image stays. Its level lines are drawn into the PNG (numpy), so they
survive animation too. Animation frames carry only what moves (heads on the map, cursor and dots
on the curves), never whole paths, so the JSON stays small (see ``race_figure``).

Trace names other code relies on (optiviz.animation redraws the race from them): per run
"<label>" (its path up to `step`; the loss and lr curves carry the same name), "<label> halo",
"<label> ahead" (dotted, after `step`), "<label> now" (the head), "<label> diverged" (the X);
then "click grid" (invisible, for st.plotly_chart(on_select=...)), "global minimum",
"local minimum", "start", "loss cursor", "lr cursor".

Figures are assembled from plain dicts without plotly.py's validation (see ``_figure``; the
tests re-validate every kind). Nothing here imports Streamlit or changes plotly's defaults.
"""

from __future__ import annotations

import base64
import functools
import io
import math

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from _plotly_utils.utils import convert_to_base64
from PIL import Image

from . import scene as _scene

__all__ = ["surface_image", "race_figure", "panels_figure", "surface3d_figure", "curves_figure",
           "summary_rows", "frame_steps", "SURFACE_COLORS", "INK"]

# The surface's colour map, low to high: deep slate valleys up to warm paper-white heights. It is
# muted (low saturation) on purpose: the saturated run colours of scene.PALETTE, each drawn with a
# white halo, stand out on every part of it, and the dark valleys read from the back of a room.
SURFACE_COLORS = ("#14213d", "#243c66", "#36628a", "#5e8f9a", "#98b9ad", "#d3ddc6", "#f6f3e7",
                  "#fffdf8")
LEVELS = 15                 # level lines drawn into the image, equally spaced in colour
LEVEL_ALPHA = 0.33          # their strength
EQUALIZE = 0.5              # 0: colour linear in (log) value; 1: histogram-equalized
INK = "#1f2933"             # text and marker outlines
HALO = "rgba(255,255,255,0.85)"
CLICK_GRID = 24             # click-grid points per side
FONT_SIZE = 14
SPEEDS = (0.5, 1.0, 2.0, 4.0)
PLAY_SECONDS = 8.0          # duration of a full play at 1x (clamped to 40-250 ms per frame)
CONTROLS_PX = 372           # width of the Play / Pause / speed buttons, left of the slider
_MAX_TRAIL_POINTS = 40      # a trail is subsampled to at most this many points per frame


# --------------------------------------------------------------------------------------------
# The surface: display scale, colour map, image


def _hex_rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return tuple(int(color[i:i + 2], 16) for i in (0, 2, 4))


def _colormap(t: np.ndarray) -> np.ndarray:
    """t in [0, 1] (any shape) -> float RGB 0-255, shape (..., 3)."""
    stops = np.array([_hex_rgb(c) for c in SURFACE_COLORS], dtype=np.float64)
    pos = np.linspace(0.0, 1.0, len(stops))
    return np.stack([np.interp(t, pos, stops[:, k]) for k in range(3)], axis=-1)


def _colorscale() -> list:
    """The surface colour map as a plotly colorscale (for go.Surface)."""
    pos = np.linspace(0.0, 1.0, len(SURFACE_COLORS))
    return [[float(p), c] for p, c in zip(pos, SURFACE_COLORS)]


def _surface_key(surface) -> tuple:
    return (surface.name, tuple(sorted(surface.params.items())))


class _Scale:
    """How a surface's values become display values (log10 of the gap to f_min + eps when the
    surface asks for a log scale, else f itself) and colours t in [0, 1] (display value,
    clipped to the 0.2..99.5 percentiles of a grid over the bounds, half linear and half
    histogram-equalized so that both the valleys and the heights get colour contrast)."""

    def __init__(self, surface):
        (x0, x1), (y0, y1) = surface.bounds
        gx, gy = np.meshgrid(np.linspace(x0, x1, 201), np.linspace(y0, y1, 201))
        f = surface.f(np.stack([gx, gy], axis=-1)).ravel()
        f = f[np.isfinite(f)]
        self.log = bool(surface.log_scale)
        self.f_min = float(surface.f_min)
        if self.log:
            gap = np.maximum(f - self.f_min, 0.0)
            positive = gap[gap > 0]
            floor = float(np.percentile(positive, 0.2)) if positive.size else 1.0
            self.eps = max(floor, 1e-12 * max(1.0, abs(self.f_min)))
        else:
            self.eps = 0.0
        d = self.value(f)
        self.lo = float(np.min(d))
        self.hi = float(np.percentile(d, 99.5))
        if not self.hi > self.lo:
            self.hi = self.lo + 1.0
        u = np.clip((d - self.lo) / (self.hi - self.lo), 0.0, 1.0)
        knots = np.percentile(u, np.linspace(0.0, 100.0, 65))
        self.knots = knots + np.arange(knots.size) * 1e-9      # strictly increasing for interp

    def value(self, f) -> np.ndarray:
        f = np.asarray(f, dtype=np.float64)
        if self.log:
            with np.errstate(all="ignore"):
                return np.log10(np.maximum(f - self.f_min, 0.0) + self.eps)
        return f

    def color(self, f) -> np.ndarray:
        u = np.clip((self.value(f) - self.lo) / (self.hi - self.lo), 0.0, 1.0)
        u = np.where(np.isfinite(u), u, 1.0)
        ranked = np.interp(u, self.knots, np.linspace(0.0, 1.0, self.knots.size))
        return (1.0 - EQUALIZE) * u + EQUALIZE * ranked


@functools.lru_cache(maxsize=64)
def _scale_cached(key) -> _Scale:
    import landscapes

    name, params = key
    return _Scale(landscapes.get(name, **dict(params)))


def _scale(surface) -> _Scale:
    try:
        return _scale_cached(_surface_key(surface))
    except (ValueError, TypeError):             # a Landscape built some other way
        return _Scale(surface)


def _pixel_grid(surface, resolution: int):
    """Pixel centres (top row first) over the bounds, the longer side having `resolution`."""
    (x0, x1), (y0, y1) = surface.bounds
    w, h = x1 - x0, y1 - y0
    nx = max(8, int(round(resolution * min(1.0, w / h))))
    ny = max(8, int(round(resolution * min(1.0, h / w))))
    xs = x0 + (np.arange(nx) + 0.5) * w / nx
    ys = y1 - (np.arange(ny) + 0.5) * h / ny
    return np.meshgrid(xs, ys)


def _level_lines(t: np.ndarray) -> np.ndarray:
    """Anti-aliased level lines of t (2-D) at LEVELS equal colour steps -> strength in [0, 1]."""
    s = t * LEVELS
    gy, gx = np.gradient(s)
    slope = np.hypot(gx, gy) + 1e-9
    dist = np.abs(s - np.round(s)) / slope                  # distance in pixels to a level
    inside = (np.round(s) > 0) & (np.round(s) < LEVELS)
    return np.clip(1.0 - dist, 0.0, 1.0) * inside


def _encode_png(rgb: np.ndarray) -> str:
    image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


@functools.lru_cache(maxsize=32)
def _image_source(key, resolution: int) -> str:
    import landscapes

    name, params = key
    return _render_image(landscapes.get(name, **dict(params)), resolution)


def _render_image(surface, resolution: int) -> str:
    gx, gy = _pixel_grid(surface, resolution)
    t = _scale(surface).color(surface.f(np.stack([gx, gy], axis=-1)))
    rgb = _colormap(t)
    lines = _level_lines(t)[..., None] * LEVEL_ALPHA
    luminance = (rgb @ np.array([0.299, 0.587, 0.114]))[..., None] / 255.0
    ink = np.where(luminance < 0.55, 255.0, 20.0)           # light lines on dark, dark on light
    rgb = rgb * (1.0 - lines) + ink * lines
    return _encode_png(np.clip(np.round(rgb), 0, 255))


def surface_image(surface, resolution: int = 300, *, xref: str = "x", yref: str = "y") -> dict:
    """The surface as a ``layout.images`` entry: a PNG data URI stretched over the bounds, below
    the traces. Colours: SURFACE_COLORS (dark = low) on a log scale of f - f_min + eps when
    ``surface.log_scale``; LEVELS level lines drawn in. Cached per surface and resolution."""
    resolution = int(resolution)
    if not 8 <= resolution <= 2000:
        raise ValueError(f"resolution must be an integer in [8, 2000], got {resolution}")
    try:
        source = _image_source(_surface_key(surface), resolution)
    except (ValueError, TypeError):
        source = _render_image(surface, resolution)
    (x0, x1), (y0, y1) = surface.bounds
    return dict(source=source, xref=xref, yref=yref, x=x0, y=y1, sizex=x1 - x0, sizey=y1 - y0,
                xanchor="left", yanchor="top", sizing="stretch", layer="below", opacity=1.0)


# --------------------------------------------------------------------------------------------
# Runs: positions, losses and divergence as plain arrays


class _Run:
    def __init__(self, run):
        traj = run.trajectory
        self.label = run.label
        self.color = run.color
        self.xy = np.asarray(traj.xy[:, 0, :], dtype=np.float64)
        self.loss = np.asarray(traj.loss[:, 0], dtype=np.float64)
        self.lr = np.asarray(traj.lr[:, 0], dtype=np.float64)
        self.steps = int(traj.lr.shape[0])
        d = int(traj.diverged_at[0])
        self.diverged = d if d >= 0 else None
        self.last = self.steps if d < 0 else max(d - 1, 0)   # last finite row
        self.name = self.label if d < 0 else f"{self.label} – diverged at step {d}"

    def at(self, k: int) -> int:
        """The row shown at step k: k, or the last finite row once diverged."""
        return min(int(k), self.last)

    def gone(self, k: int) -> bool:
        """True from the step it diverged at: its head and dots are hidden, an X marks the end."""
        return self.diverged is not None and k >= self.diverged

    def pos(self, k: int) -> list[float]:
        x, y = self.xy[self.at(k)]
        return [float(x), float(y)]

    def head(self, k: int) -> list:
        """[x, y] of the head at step k, [None, None] once diverged."""
        return [None, None] if self.gone(k) else self.pos(k)


def _runs(result) -> list[_Run]:
    return [_Run(r) for r in result.runs]


def _total_steps(result) -> int:
    return int(result.runs[0].trajectory.steps) if result.runs else int(result.scene["steps"])


def _check_step(step, total: int) -> int:
    if step is None:
        return total
    if isinstance(step, (bool, np.bool_)) or not isinstance(step, (int, np.integer)):
        raise ValueError(f"step must be an integer in [0, {total}] or None, got {step!r:.40}")
    return int(min(max(int(step), 0), total))


def frame_steps(total: int, frames: int, step: int | None = None) -> list[int]:
    """The steps that get an animation frame: at most `frames` of them, evenly spread over
    0..total, always including 0, the last step, and `step` when given. [] when frames < 2."""
    frames = int(frames or 0)
    if frames < 2 or total < 1:
        return []
    count = min(frames, total + 1)
    chosen = sorted(set(np.round(np.linspace(0, total, count)).astype(int).tolist()))
    if step is not None and step not in chosen:
        # Replace the nearest inner frame by `step` (the ends stay).
        inner = [s for s in chosen if 0 < s < total]
        if inner:
            chosen.remove(min(inner, key=lambda s: abs(s - step)))
        chosen = sorted(set(chosen + [int(step)]))
        while len(chosen) > frames:
            inner = [s for s in chosen if 0 < s < total and s != step]
            chosen.remove(inner[0])
    return chosen


class FigureSpec(go.Figure):
    """A finished figure held as the plain dict plotly.js reads (arrays as base64 `bdata`).

    Even unvalidated, plotly.py's object tree for an animation (hundreds of frame traces) costs
    more to build and to turn back into a dict than the figure itself; the app, which only
    serializes figures, takes them in this form (st.plotly_chart and plotly.io.to_json call
    to_dict()). tests/test_figures.py checks it serializes exactly as the go.Figure does.
    """

    def __init__(self, data: list, layout: dict, frames: list):
        super().__init__()
        spec = {"data": data, "layout": layout}
        if frames:
            spec["frames"] = frames
        convert_to_base64(spec)
        self._spec = spec

    def to_dict(self) -> dict:
        return self._spec

    def to_plotly_json(self) -> dict:
        return self._spec


def _figure(data: list, layout: dict, frames: list, spec: bool = False) -> go.Figure:
    """go.Figure from plain dicts. Validation by plotly.py costs ~0.5 ms per trace, and an
    animation has hundreds of frame traces, so it is skipped (plotly's own templates do the
    same); tests/test_figures.py re-validates every figure kind through go.Figure(fig.to_dict()).
    spec=True returns a FigureSpec instead (the app's fast path)."""
    if spec:
        return FigureSpec(data, layout, frames)
    try:
        return go.Figure(data=data, layout=layout, frames=frames or None, _validate=False)
    except TypeError:                   # a plotly without the private switch: validate
        return go.Figure(data=data, layout=layout, frames=frames or None)


def _f32(a) -> np.ndarray:
    """Coordinates to send as float32 bdata (half of float64's bytes, ample for the eye)."""
    return np.asarray(a, dtype=np.float32)


# --------------------------------------------------------------------------------------------
# Shared pieces: layout, caption, animation controls, curves


def _template(template) -> dict:
    """A template name (plotly.io.templates key, "a+b" allowed), Template or dict -> plain dict
    (the figure is built unvalidated, so names are resolved here; plotly.js knows no names)."""
    if template is None:
        template = pio.templates.default
    if isinstance(template, str):
        template = pio.templates[template]
    return template.to_plotly_json() if hasattr(template, "to_plotly_json") else dict(template)


def _base_layout(template, width, height, default_height) -> dict:
    layout = dict(template=_template(template), height=height or default_height,
                  font=dict(size=FONT_SIZE, color=INK), hovermode="closest",
                  hoverlabel=dict(font=dict(size=13)), paper_bgcolor="white", plot_bgcolor="white")
    if width:
        layout["width"] = width
    return layout


def _caption_text(result, caption) -> str | None:
    if caption is True:
        return _scene.comparison_caption(result.scene)
    if isinstance(caption, str) and caption.strip():
        return caption
    return None


def _caption_annotation(text: str, margin_bottom: int) -> dict:
    return dict(text=text, xref="paper", yref="paper", x=0.0, y=0.0, xanchor="left",
                yanchor="bottom", yshift=-(margin_bottom - 6), showarrow=False, align="left",
                font=dict(size=13, color="#52606d"))


def _title(result, surface, n: int) -> dict:
    steps = result.scene["steps"]
    runs = "1 optimizer" if n == 1 else f"{n} optimizers"
    return dict(text=f"<b>{surface.title}</b>: {runs}, {steps} steps", x=0.01, xanchor="left",
                y=0.985, yanchor="top", font=dict(size=20),
                subtitle=dict(text=surface.description, font=dict(size=13, color="#52606d")))


def _frame_duration(n_frames: int, speed: float) -> int:
    base = min(max(1000.0 * PLAY_SECONDS / max(n_frames, 1), 40.0), 250.0)
    return int(round(base / speed))


def _play_args(duration: int, redraw: bool) -> list:
    return [None, dict(frame=dict(duration=duration, redraw=redraw), fromcurrent=True,
                       transition=dict(duration=0), mode="immediate")]


def _controls(steps: list[int], active: int, redraw: bool, plot_px: float) -> dict:
    """One row under the plot: Play, Pause and speed buttons (each plays at that speed; the one
    last clicked stays highlighted), then a slider over the frames. plot_px: the expected width
    of the plot area, to start the slider just right of the buttons."""
    pause = [[None], dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0),
                          mode="immediate")]
    buttons = [dict(label="▶ Play", method="animate",
                    args=_play_args(_frame_duration(len(steps), 1.0), redraw)),
               dict(label="❚❚ Pause", method="animate", args=pause)]
    buttons += [dict(label=f"{s:g}×", method="animate",
                     args=_play_args(_frame_duration(len(steps), s), redraw)) for s in SPEEDS]
    menu = dict(type="buttons", direction="left", showactive=True, active=-1, x=0.0,
                xanchor="left", y=0.0, yanchor="top", pad=dict(t=46, r=2), bgcolor="#f3f4f6",
                bordercolor="#9aa5b1", font=dict(size=13), buttons=buttons)
    slider_x = round(min(max(CONTROLS_PX / max(plot_px, 1.0), 0.25), 0.6), 4)
    slider = dict(
        active=active, x=slider_x, len=1.0 - slider_x, y=0.0, yanchor="top", xanchor="left",
        pad=dict(t=34, b=0), ticklen=3, minorticklen=0, font=dict(size=1, color="rgba(0,0,0,0)"),
        currentvalue=dict(prefix="step ", font=dict(size=15, color=INK), xanchor="left",
                          offset=6),
        transition=dict(duration=0),
        steps=[dict(label=str(s), method="animate",
                    args=[[str(s)], dict(mode="immediate", frame=dict(duration=0, redraw=redraw),
                                         transition=dict(duration=0))]) for s in steps])
    return dict(updatemenus=[menu], sliders=[slider])


def _active(steps: list[int], step: int) -> int:
    """Index of the frame at or just before `step`."""
    return max(0, int(np.searchsorted(np.asarray(steps), step, side="right")) - 1)


class _LossAxis:
    """How losses are plotted: log y of the loss, of loss - f_min + tiny when the minimum is
    negative, or linear y for surfaces without minima (their loss is unbounded below)."""

    def __init__(self, surface, runs: list[_Run]):
        self.f_min = float(surface.f_min)
        self.log = bool(surface.minima)
        self.shift = 0.0
        self.tiny = 0.0
        if not self.log:
            self.title = "loss"
        elif self.f_min < 0:
            self.shift = self.f_min
            self.tiny = float(f"{1e-10 * max(1.0, abs(self.f_min)):.0e}")
            self.title = f"loss − f_min + {self.tiny:g}"
        else:
            self.title = "loss"
        finite = [self.y(r.loss[: r.last + 1]) for r in runs]
        values = np.concatenate(finite) if finite else np.array([1.0])
        values = values[np.isfinite(values)]
        start = np.max(np.abs(values[:1])) if values.size else 1.0
        if self.log:
            values = values[values > 0]
            if not values.size:
                values = np.array([1e-3, 1.0])
            lo, hi = math.log10(values.min()), math.log10(values.max())
            hi = min(hi, math.log10(max(start, 1e-300)) + 4.0) if start > 0 else hi
            lo = max(lo, hi - 12.0)     # below 12 decades under the top it has simply arrived
            if hi - lo < 1.0:
                lo, hi = lo - 0.5, hi + 0.5
            pad = 0.04 * (hi - lo)
            self.range = [lo - pad, hi + pad]
            self.span = [10 ** self.range[0], 10 ** self.range[1]]
        else:
            lo, hi = float(values.min()) if values.size else 0.0, float(values.max()) if values.size else 1.0
            if hi - lo <= 0:
                lo, hi = lo - 1.0, hi + 1.0
            pad = 0.05 * (hi - lo)
            self.range = [lo - pad, hi + pad]
            self.span = list(self.range)

    def y(self, loss) -> np.ndarray:
        loss = np.asarray(loss, dtype=np.float64)
        if self.shift:
            return np.maximum(loss - self.shift, 0.0) + self.tiny
        return loss

    def point(self, run: _Run, k: int) -> float | None:
        if run.gone(k):
            return None
        v = float(self.y(run.loss[run.at(k)]))
        if not math.isfinite(v) or (self.log and v <= 0):
            return None
        return min(max(v, self.span[0]), self.span[1])


class _LrAxis:
    def __init__(self, runs: list[_Run]):
        values = np.concatenate([r.lr[: r.last] for r in runs] or [np.array([1.0])])
        values = values[np.isfinite(values) & (values > 0)]
        if not values.size:
            values = np.array([1.0])
        lo, hi = math.log10(values.min()), math.log10(values.max())
        if hi - lo < 1.0:
            mid = (hi + lo) / 2
            lo, hi = mid - 0.5, mid + 0.5
        pad = 0.08 * (hi - lo)
        self.range = [lo - pad, hi + pad]
        self.span = [10 ** self.range[0], 10 ** self.range[1]]

    def point(self, run: _Run, k: int) -> float | None:
        """The lr used by the update that produced row k (step k >= 1), or at step 1 for k = 0."""
        if run.gone(k):
            return None
        i = min(max(k, 1), run.last if run.diverged is not None else run.steps) - 1
        if i < 0 or i >= run.lr.size:
            return None
        v = float(run.lr[i])
        return v if math.isfinite(v) and v > 0 else None


def _curve_traces(runs, loss_axis, lr_axis, axes, show_legend: bool) -> list[dict]:
    """Loss and lr vs step, one line per run. axes: ((xa, ya) for loss, (xa, ya) for lr)."""
    (lx, ly), (rx, ry) = axes
    traces = []
    for r in runs:
        steps = np.arange(r.last + 1)
        traces.append(dict(
            type="scatter", mode="lines", x=steps.astype(np.int32), y=loss_axis.y(r.loss[: r.last + 1]),
            xaxis=lx, yaxis=ly, name=r.name, legendgroup=r.label, showlegend=show_legend,
            line=dict(color=r.color, width=2.5),
            hovertemplate=f"<b>{r.label}</b><br>step %{{x}}<br>{loss_axis.title} "
                          "= %{y:.4g}<extra></extra>"))
    for r in runs:
        n = r.last if r.diverged is not None else r.steps
        traces.append(dict(
            type="scatter", mode="lines", x=np.arange(1, n + 1, dtype=np.int32), y=r.lr[:n],
            xaxis=rx, yaxis=ry, name=r.name, legendgroup=r.label, showlegend=False,
            line=dict(color=r.color, width=2.5, shape="hv"),
            hovertemplate=f"<b>{r.label}</b><br>step %{{x}}<br>lr = %{{y:.4g}}<extra></extra>"))
    return traces


def _cursor_xy(runs, k: int, axis) -> tuple[list, list]:
    """A vertical line at step k spanning the axis, then one isolated dot per run (None where a
    run has no value: diverged), separated by gaps so no line joins the dots."""
    xs, ys = [k, k], list(axis.span)
    for r in runs:
        xs += [None, k]
        ys += [None, axis.point(r, k)]
    return xs, ys


def _cursor_trace(runs, k, axis, which, xa, ya) -> dict:
    """The step cursor of one curves panel and the runs' dots on it (one trace: one entry per
    frame, whatever the number of runs)."""
    xs, ys = _cursor_xy(runs, k, axis)
    sizes = [0, 0] + [v for _ in runs for v in (0, 11)]
    colors = [INK, INK] + [v for r in runs for v in (INK, r.color)]
    return dict(type="scatter", mode="lines+markers", x=xs, y=ys, xaxis=xa, yaxis=ya,
                showlegend=False, hoverinfo="skip", name=f"{which} cursor", connectgaps=False,
                line=dict(color="rgba(31,41,51,0.55)", width=1.5, dash="dot"),
                marker=dict(size=sizes, color=colors, line=dict(color="white", width=1.5)),
                unselected=dict(marker=dict(opacity=1)))


def _log_ticks(axis: dict, lo: float, hi: float) -> dict:
    """One labelled tick per decade (plotly labels 2 and 5 too on short ranges: clutter)."""
    if hi - lo >= 1.0:
        axis.update(dtick=max(1, math.ceil((hi - lo) / 7.0)))
    return axis


def _curve_axes(layout, loss_axis, lr_axis, names, domains, total, x_title_on_both=False):
    """Axis settings of the loss and lr panels. names: ((xaxis, yaxis) loss, (xaxis, yaxis) lr)
    as layout keys; domains: ((xdom, ydom), (xdom, ydom))."""
    (lxk, lyk), (rxk, ryk) = names
    (lxd, lyd), (rxd, ryd) = domains
    common = dict(showline=True, linecolor="#9aa5b1", mirror=True, ticks="outside",
                  tickfont=dict(size=12), gridcolor="#e4e7eb", zeroline=False)
    total = max(total, 1)
    xr = [-0.01 * total, 1.025 * total]
    lxa, lya = lxk.replace("axis", ""), lyk.replace("axis", "")
    rxa, rya = rxk.replace("axis", ""), ryk.replace("axis", "")
    step_title = dict(text="step", font=dict(size=13), standoff=6)
    layout[lxk] = dict(common, domain=lxd, anchor=lya, range=xr, autorange=False)
    if x_title_on_both:
        layout[lxk]["title"] = step_title
    else:
        layout[lxk]["matches"] = rxa
    layout[lyk] = dict(common, domain=lyd, anchor=lxa, type="log" if loss_axis.log else "linear",
                       range=loss_axis.range, autorange=False, exponentformat="power",
                       title=dict(text=loss_axis.title, font=dict(size=13)))
    if loss_axis.log:
        _log_ticks(layout[lyk], *loss_axis.range)
    layout[rxk] = dict(common, domain=rxd, anchor=rya, range=xr, autorange=False, title=step_title)
    layout[ryk] = _log_ticks(dict(common, domain=ryd, anchor=rxa, type="log", range=lr_axis.range,
                                  autorange=False, exponentformat="power",
                                  title=dict(text="learning rate", font=dict(size=13))),
                             *lr_axis.range)
    return layout


# --------------------------------------------------------------------------------------------
# The map: image, click grid, minima, start, paths, heads


def _map_axes(surface, xdom, ydom, xa="x", ya="y", equal=True, title=True) -> tuple[dict, dict]:
    (x0, x1), (y0, y1) = surface.bounds
    common = dict(showgrid=False, zeroline=False, showline=True, linecolor="#52606d",
                  mirror=True, ticks="outside", tickfont=dict(size=12))
    xaxis = dict(common, domain=xdom, range=[x0, x1], autorange=False, anchor=ya)
    yaxis = dict(common, domain=ydom, range=[y0, y1], autorange=False, anchor=xa)
    if title:
        xaxis["title"] = dict(text="x", font=dict(size=13), standoff=2)
        yaxis["title"] = dict(text="y", font=dict(size=13), standoff=2)
    ratio = (y1 - y0) / (x1 - x0)
    if equal and 0.5 <= ratio <= 2.0:       # equal aspect only where it leaves a usable map
        yaxis.update(scaleanchor=xa, scaleratio=1, constrain="domain")
        xaxis.update(constrain="domain")
    return xaxis, yaxis


def _step_text(k: int, total: int) -> str:
    return f"<b>step {k}</b> / {total}"


def _step_counter(surface, k: int, total: int) -> dict:
    """"step k / N" in the map's top-right corner, a text trace the frames update."""
    (x0, x1), (y0, y1) = surface.bounds
    return dict(type="scatter", mode="text", name="step counter", x=[x1 - 0.02 * (x1 - x0)],
                y=[y1 - 0.02 * (y1 - y0)], text=[_step_text(k, total)], textposition="bottom left",
                # A white glow keeps it readable over the darkest valleys of the image.
                textfont=dict(size=15, color=INK, shadow="0 0 3px white, 0 0 3px white, 0 0 2px white"),
                showlegend=False, hoverinfo="skip",
                cliponaxis=False)


def _click_grid(surface, xa="x", ya="y", n=None) -> dict:
    """A 24 x 24 grid of invisible points over the bounds: clicking the map selects one of them
    (plotly.js gives no point for a click on an image), so st.plotly_chart(on_select=...) sees x, y."""
    (x0, x1), (y0, y1) = surface.bounds
    n = n or CLICK_GRID
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    f = surface.f(np.stack([gx, gy], axis=-1)).ravel()
    return dict(type="scatter", mode="markers", name="click grid", x=_f32(gx.ravel()),
                y=_f32(gy.ravel()), customdata=_f32(f), xaxis=xa, yaxis=ya, showlegend=False,
                marker=dict(size=16, opacity=0.0, color="white"),
                selected=dict(marker=dict(opacity=0.0)), unselected=dict(marker=dict(opacity=0.0)),
                hovertemplate="(%{x:.2f}, %{y:.2f})<br>f = %{customdata:.4g}<extra></extra>")


def _landmarks(surface, start, xa="x", ya="y", legend=True, size=1.0) -> list[dict]:
    """Minima (global first, as a star) and the start point."""
    traces = []
    minima = np.asarray(surface.minima, dtype=np.float64).reshape(-1, 2)
    values = np.asarray(surface.minima_values, dtype=np.float64)
    if len(minima):
        glob = np.isclose(values, values.min(), rtol=0, atol=1e-9 * max(1.0, abs(values.min())))
        local = ~glob
        many = int(local.sum()) > 12            # an egg crate: small dots, not a wall of diamonds
        if local.any():
            traces.append(dict(
                type="scatter", mode="markers", name="local minimum", x=minima[local, 0],
                y=minima[local, 1], customdata=values[local], xaxis=xa, yaxis=ya,
                showlegend=legend, legendrank=1002,
                marker=dict(symbol="diamond", size=(6 if many else 11) * size, color="white",
                            line=dict(color=INK, width=1 if many else 1.5)),
                unselected=dict(marker=dict(opacity=1)),
                hovertemplate="local minimum<br>(%{x:.3f}, %{y:.3f})<br>f = %{customdata:.4g}"
                              "<extra></extra>"))
        traces.append(dict(
            type="scatter", mode="markers", name="global minimum", x=minima[glob, 0],
            y=minima[glob, 1], customdata=values[glob], xaxis=xa, yaxis=ya, showlegend=legend,
            legendrank=1001,
            marker=dict(symbol="star", size=22 * size, color="#ffd23f",
                        line=dict(color=INK, width=1.5)),
            unselected=dict(marker=dict(opacity=1)),
            hovertemplate="global minimum<br>(%{x:.3f}, %{y:.3f})<br>f = %{customdata:.4g}"
                          "<extra></extra>"))
    traces.append(dict(
        type="scatter", mode="markers", name="start", x=[float(start[0])], y=[float(start[1])],
        xaxis=xa, yaxis=ya, showlegend=legend, legendrank=1003,
        marker=dict(symbol="square", size=13 * size, color="white", line=dict(color=INK, width=2.5)),
        unselected=dict(marker=dict(opacity=1)),
        hovertemplate="start (%{x:.3f}, %{y:.3f})<extra></extra>"))
    return traces


def _path_traces(r: _Run, k: int, xa="x", ya="y", legend=True, width=3.5) -> list[list[dict]]:
    """A run's path as [halo], [rest], [done]: the part up to step k is a bold line over a white
    halo, the part after it faint and dotted. Callers draw every halo first, then every rest,
    then every done line, so no run's halo covers another run's line."""
    shown = r.at(k)
    done = r.xy[: shown + 1]
    rest = r.xy[shown: r.last + 1]
    halo = [dict(type="scatter", mode="lines", x=_f32(done[:, 0]), y=_f32(done[:, 1]), xaxis=xa,
                 yaxis=ya, showlegend=False, legendgroup=r.label, hoverinfo="skip",
                 name=f"{r.label} halo", line=dict(color=HALO, width=width + 3.5))]
    line = [dict(type="scatter", mode="lines", x=_f32(done[:, 0]), y=_f32(done[:, 1]), xaxis=xa,
                 yaxis=ya, name=r.name, legendgroup=r.label, showlegend=legend,
                 line=dict(color=r.color, width=width),
                 hovertemplate=f"<b>{r.label}</b><br>step %{{pointNumber}}<br>"
                               "(%{x:.3f}, %{y:.3f})<extra></extra>")]
    ahead = []
    if len(rest) > 1:
        ahead.append(dict(
            type="scatter", mode="lines", x=_f32(rest[:, 0]), y=_f32(rest[:, 1]), xaxis=xa,
            yaxis=ya, showlegend=False, legendgroup=r.label, hoverinfo="skip",
            name=f"{r.label} ahead", opacity=0.6, line=dict(color=r.color, width=2, dash="dot")))
    return [halo, ahead, line]


def _layered(parts: list[list[list[dict]]]) -> list[dict]:
    """[[halo, ahead, line] per run] -> all halos, then all aheads, then all lines."""
    return [t for layer in zip(*parts) for group in layer for t in group]


def _clip_segment(a, b, bounds) -> tuple[float, float] | None:
    """Liang-Barsky: the parameter interval [t0, t1] of segment a->b inside the window."""
    (x0, x1), (y0, y1) = bounds
    d = (b[0] - a[0], b[1] - a[1])
    t0, t1 = 0.0, 1.0
    for p, q in ((-d[0], a[0] - x0), (d[0], x1 - a[0]), (-d[1], a[1] - y0), (d[1], y1 - a[1])):
        if p == 0:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None
    return t0, t1


def _exit_point(r: _Run, bounds) -> tuple[int, float, float] | None:
    """Where a run's drawn path last leaves the window: (step, x, y) on the border, or None
    when its last finite point is inside the window (or the path never enters it)."""
    (x0, x1), (y0, y1) = bounds
    xy = r.xy[: r.last + 1]
    ex, ey = xy[-1]
    if x0 <= ex <= x1 and y0 <= ey <= y1:
        return None
    for j in range(len(xy) - 2, -1, -1):
        seg = _clip_segment(xy[j], xy[j + 1], bounds)
        if seg is not None:
            t = seg[1]
            return (j + 1, float(xy[j, 0] + t * (xy[j + 1, 0] - xy[j, 0])),
                    float(xy[j, 1] + t * (xy[j + 1, 1] - xy[j, 1])))
    return None


def _cross_traces(r: _Run, bounds, xa="x", ya="y", size=1.0) -> list[dict]:
    """[] or one trace "<label> diverged": an X at a diverged run's last finite point, or, when
    that point lies outside the window, where its drawn path last crossed the window's border
    (so the end is always visible; the hover text gives the last finite point)."""
    if r.diverged is None:
        return []
    lx, ly = r.pos(r.last)
    exit_ = _exit_point(r, bounds)
    x, y = (exit_[1], exit_[2]) if exit_ else (lx, ly)
    where = (f"left the view at step {exit_[0]}<br>last finite point ({lx:.3g}, {ly:.3g})"
             if exit_ else f"last finite point ({lx:.3g}, {ly:.3g})")
    return [dict(type="scatter", mode="markers", x=[x], y=[y], xaxis=xa, yaxis=ya,
                 name=f"{r.label} diverged", legendgroup=r.label, showlegend=False,
                 cliponaxis=False,
                 marker=dict(symbol="x", size=20 * size, color=r.color,
                             line=dict(color="white", width=2)),
                 unselected=dict(marker=dict(opacity=1)),
                 hovertemplate=f"<b>{r.label}</b><br>diverged at step {r.diverged}<br>{where}"
                               "<extra></extra>")]


def _head_trace(r: _Run, k: int, xa="x", ya="y", size=1.0) -> dict:
    x, y = r.head(k)
    return dict(type="scatter", mode="markers", x=[x], y=[y], xaxis=xa, yaxis=ya,
                name=f"{r.label} now", legendgroup=r.label, showlegend=False,
                marker=dict(size=16 * size, color=r.color, line=dict(color="white", width=2.5)),
                unselected=dict(marker=dict(opacity=1)),
                hovertemplate=f"<b>{r.label}</b><br>(%{{x:.3f}}, %{{y:.3f}})<extra></extra>")


def _trail_xy(r: _Run, k: int, trail: int) -> tuple[list, list]:
    end = r.at(k)
    begin = max(0, end - trail)
    idx = np.unique(np.round(np.linspace(begin, end, min(end - begin + 1, _MAX_TRAIL_POINTS))))
    pts = r.xy[idx.astype(int)]
    return ([round(float(v), 6) for v in pts[:, 0]], [round(float(v), 6) for v in pts[:, 1]])


def _trail_trace(r: _Run, k: int, trail: int) -> dict:
    xs, ys = _trail_xy(r, k, trail)
    return dict(type="scatter", mode="lines", x=xs, y=ys, name=f"{r.label} trail",
                legendgroup=r.label, showlegend=False, hoverinfo="skip", opacity=0.45,
                line=dict(color=r.color, width=10))


# --------------------------------------------------------------------------------------------
# The figures


def _legend_layout(names: list[str], width_px: float) -> tuple[int, int]:
    """(rows, entry text width in px) of a horizontal legend whose entries share one width (so
    wrapped rows line up in columns): about 6.8 px a character at FONT_SIZE, plus ~46 px of
    symbol and padding per entry."""
    text = int(12 + 6.8 * max((len(n) for n in names), default=8))
    per_row = max(1, int(width_px // (text + 46)))
    return math.ceil(len(names) / per_row), text


def race_figure(result, *, step=None, frames=120, trail=None, template="plotly_white", width=None,
                height=None, caption=True, title=True, layout_width=None, slider=True,
                click_grid=None, spec=False) -> go.Figure:
    """The main view: all paths on the surface, loss and lr panels on the right, animated.

    Static traces: the click grid, each run's path (bold up to `step`, dotted after), minima,
    start, and an X where a run diverged (its legend name says "diverged at step k"). Animated
    (the only traces in the frames): each run's head, the step cursors and dots of the loss and
    lr panels, and with `trail` (int, steps) a comet trail of the last `trail` steps.
    At most `frames` frames, the last step always among them; `frames=0` gives a still figure.
    layout_width: the pixel width the figure will most likely get when `width` is None (it
    autosizes): the panels, legend and controls are proportioned for it.
    slider=False leaves out the in-figure step slider (about a third of plotly.js's drawing
    time) and shows the animated "step k" as text on the map instead; the app has its own step
    slider. click_grid: points per side of the click grid (default CLICK_GRID).
    """
    surface = result.surface
    runs = _runs(result)
    total = _total_steps(result)
    k = _check_step(step, total)
    trail = int(trail) if trail else 0
    fsteps = frame_steps(total, frames, k)
    loss_axis, lr_axis = _LossAxis(surface, runs), _LrAxis(runs)
    caption_text = _caption_text(result, caption)

    # Size the map so that, at the expected size, it is about as wide as it is tall (in data
    # units) and the loss/lr panels take the rest of the width.
    w_px, h_px = (width or layout_width or 1100), (height or 660)
    names = [r.name for r in runs] + ["global minimum", "start"]
    if len(surface.minima) > 1:
        names.append("local minimum")
    legend_rows, entry_px = _legend_layout(names, w_px - 90)
    margin_t = (90 if title else 14) + 22 * legend_rows
    margin_b = (100 if fsteps else 50) + (22 if caption_text else 0)
    plot_w, plot_h = w_px - 60 - 24, max(h_px - margin_t - margin_b, 150)
    (x0, x1), (y0, y1) = surface.bounds
    map_frac = min(max(plot_h * (x1 - x0) / (y1 - y0) / plot_w, 0.42), 0.64)
    # The gap holds the curves' tick labels and axis title (about 90 px).
    gap = min(max(90.0 / plot_w, 0.08), 0.16)
    map_x, curves_x = [0.0, round(map_frac, 4)], [round(map_frac + gap, 4), 1.0]

    data = [_click_grid(surface, n=click_grid or CLICK_GRID)]
    data += _layered([_path_traces(r, k) for r in runs])
    data += _landmarks(surface, result.scene["start"])
    data += [t for r in runs for t in _cross_traces(r, surface.bounds)]
    data += _curve_traces(runs, loss_axis, lr_axis, (("x2", "y2"), ("x3", "y3")), False)
    moving_from = len(data)
    if trail:
        data += [_trail_trace(r, k, trail) for r in runs]
    data += [_head_trace(r, k) for r in runs]
    data.append(_cursor_trace(runs, k, loss_axis, "loss", "x2", "y2"))
    data.append(_cursor_trace(runs, k, lr_axis, "lr", "x3", "y3"))
    counter = bool(fsteps) and not slider
    if counter:
        data.append(_step_counter(surface, k, total))
    moving = list(range(moving_from, len(data)))

    layout = _base_layout(template, width, height, 660)
    layout.update(
        title=_title(result, surface, len(runs)) if title else None,
        margin=dict(l=60, r=24, t=margin_t, b=margin_b, pad=0),
        legend=dict(orientation="h", x=0.0, xanchor="left", y=1.0, yanchor="bottom",
                    font=dict(size=FONT_SIZE), bgcolor="rgba(255,255,255,0)",
                    entrywidth=entry_px, entrywidthmode="pixels",
                    traceorder="normal", itemclick="toggle", itemdoubleclick="toggleothers"),
        images=[surface_image(surface, 400)],
        uirevision=_scene.scene_to_json(result.scene["surface"]),
    )
    layout["xaxis"], layout["yaxis"] = _map_axes(surface, map_x, [0.0, 1.0])
    _curve_axes(layout, loss_axis, lr_axis, (("xaxis2", "yaxis2"), ("xaxis3", "yaxis3")),
                ((curves_x, [0.56, 1.0]), (curves_x, [0.0, 0.44])), total)
    layout["annotations"] = [_caption_annotation(caption_text, margin_b)] if caption_text else []

    frame_list = []
    if fsteps:
        for s in fsteps:
            fd = []
            if trail:
                for r in runs:
                    xs, ys = _trail_xy(r, s, trail)
                    fd.append(dict(type="scatter", x=xs, y=ys))
            fd += [dict(type="scatter", x=[p[0]], y=[p[1]]) for p in (r.head(s) for r in runs)]
            for axis in (loss_axis, lr_axis):
                xs, ys = _cursor_xy(runs, s, axis)
                fd.append(dict(type="scatter", x=xs, y=ys))
            if counter:
                fd.append(dict(type="scatter", text=[_step_text(s, total)]))
            frame_list.append(dict(name=str(s), data=fd, traces=moving))
        controls = _controls(fsteps, _active(fsteps, k), False, plot_w)
        if not slider:
            controls.pop("sliders")
        layout.update(controls)
    return _figure(data, layout, frame_list, spec)


def _domain(a: float, b: float) -> list[float]:
    return [min(max(round(a, 6), 0.0), 1.0), min(max(round(b, 6), 0.0), 1.0)]


def _grid_shape(n: int) -> tuple[int, int]:
    """Rows and columns: one row up to 4 panels, then two rows (5-6: 2 x 3, ..., 9-10: 2 x 5)."""
    return (1, n) if n <= 4 else (2, math.ceil(n / 2))


def panels_figure(result, *, step=None, frames=120, template="plotly_white", width=None,
                  height=None, caption=True, spec=False) -> go.Figure:
    """One small map per optimizer (up to 10, one row up to 4, else two rows), each titled with
    its run label and final loss or "diverged at step k", all on the same surface image and
    animated in sync by the same frames (the heads only)."""
    surface = result.surface
    runs = _runs(result)
    total = _total_steps(result)
    k = _check_step(step, total)
    fsteps = frame_steps(total, frames, k)
    rows, cols = _grid_shape(len(runs))
    caption_text = _caption_text(result, caption)
    margin_t = 96 + 44                                      # title, subtitle, panel titles
    margin_b = (96 if fsteps else 36) + (22 if caption_text else 0)
    (x0, x1), (y0, y1) = surface.bounds
    gap_x = 0.03
    w = (1.0 - gap_x * (cols - 1)) / cols
    panel_px = ((width or 1100) - 60) * w                   # a panel's width at the expected size
    panel_h = min(panel_px * (y1 - y0) / (x1 - x0), 340.0)
    gap_px = 78.0                                           # tick labels + the next panel's title
    plot_px = rows * panel_h + (rows - 1) * gap_px
    default_height = int(round(margin_t + margin_b + plot_px + 24))
    if height:
        plot_px = max(height - margin_t - margin_b, 100.0)
    gap_y = min(gap_px / plot_px, 0.3) if rows > 1 else 0.0
    h = (1.0 - gap_y * (rows - 1)) / rows
    resolution = max(120, min(300, int(round(panel_px))))
    layout = _base_layout(template, width, height, default_height)
    data, images, annotations, heads, parts = [], [], [], [], []
    for i, r in enumerate(runs):
        row, col = divmod(i, cols)
        xa, ya = ("x", "y") if i == 0 else (f"x{i + 1}", f"y{i + 1}")
        xdom = _domain(col * (w + gap_x), col * (w + gap_x) + w)
        ydom = _domain(1.0 - row * (h + gap_y) - h, 1.0 - row * (h + gap_y))
        xaxis, yaxis = _map_axes(surface, xdom, ydom, xa, ya, title=False)
        layout["xaxis" if i == 0 else f"xaxis{i + 1}"] = xaxis
        layout["yaxis" if i == 0 else f"yaxis{i + 1}"] = yaxis
        images.append(surface_image(surface, resolution, xref=xa, yref=ya))
        # No click grid here: only the race view moves the start (and the panels would carry
        # one grid per optimizer for the browser to draw).
        data += _layered([_path_traces(r, k, xa, ya, legend=False, width=3.0)])
        data += _landmarks(surface, result.scene["start"], xa, ya, legend=False, size=0.8)
        data += _cross_traces(r, surface.bounds, xa, ya, size=0.85)
        heads.append(_head_trace(r, k, xa, ya, size=0.9))
        final = float(r.loss[r.last])
        status = (f"diverged at step {r.diverged}" if r.diverged is not None
                  else f"final loss {final:.3g}")
        annotations.append(dict(
            text=f"<b><span style='color:{r.color}'>●</span> {r.label}</b><br>"
                 f"<span style='font-size:12px;color:#52606d'>{status}</span>",
            xref="paper", yref="paper", x=(xdom[0] + xdom[1]) / 2, y=ydom[1], xanchor="center",
            yanchor="bottom", yshift=4, showarrow=False, font=dict(size=15)))
    moving = list(range(len(data), len(data) + len(heads)))
    data += heads
    if caption_text:
        annotations.append(_caption_annotation(caption_text, margin_b))
    title = _title(result, surface, len(runs))
    layout.update(title=title, margin=dict(l=40, r=20, t=margin_t, b=margin_b), showlegend=False,
                  images=images, annotations=annotations,
                  uirevision=_scene.scene_to_json(result.scene["surface"]))
    frame_list = []
    if fsteps:
        for s in fsteps:
            frame_list.append(dict(name=str(s), traces=moving, data=[
                dict(type="scatter", x=[p[0]], y=[p[1]]) for p in (r.head(s) for r in runs)]))
        layout.update(_controls(fsteps, _active(fsteps, k), False, (width or 1100) - 60))
    return _figure(data, layout, frame_list, spec)


def surface3d_figure(result, *, step=None, frames=0, template="plotly_white", width=None,
                     height=None, caption=True, resolution=120, spec=False) -> go.Figure:
    """The surface in 3-D (z = log10(f - f_min + eps) where the surface is log-scaled, clipped
    at the 99.5th percentile) with every path lifted just above it and its head at `step`.
    With frames > 0 the heads animate (3-D animation redraws, so it is slower; default off)."""
    surface = result.surface
    runs = _runs(result)
    total = _total_steps(result)
    k = _check_step(step, total)
    fsteps = frame_steps(total, frames, k)
    scale = _scale(surface)
    (x0, x1), (y0, y1) = surface.bounds
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    gx, gy = np.meshgrid(xs, ys)
    f = surface.f(np.stack([gx, gy], axis=-1))
    # Heights: a gentler log than the colours' (eps = the 3rd percentile of f - f_min, so a
    # narrow valley becomes a trough whose floor the paths are seen in, not a deep slot),
    # clipped at the 98th percentile so a few extreme corners do not flatten everything else.
    finite = f[np.isfinite(f)]
    if scale.log:
        gap = np.maximum(finite - scale.f_min, 0.0)
        eps3 = max(float(np.percentile(gap, 3.0)), scale.eps)

        def zmap(v):
            with np.errstate(all="ignore"):
                return np.log10(np.maximum(np.asarray(v, dtype=np.float64) - scale.f_min, 0.0) + eps3)
    else:
        def zmap(v):
            return np.asarray(v, dtype=np.float64)
    h_all = zmap(finite)
    z_lo, z_hi = float(np.min(h_all)), float(np.percentile(h_all, 98.0))
    if not z_hi > z_lo:
        z_hi = z_lo + 1.0
    z = np.clip(np.where(np.isfinite(f), zmap(f), z_hi), z_lo, z_hi)
    lift = 0.03 * (z_hi - z_lo)
    z_title = f"log₁₀(f − f_min + {eps3:.2g})" if scale.log else "f"
    dx, dy = (x1 - x0) / (resolution - 1), (y1 - y0) / (resolution - 1)

    def zof(x, y, loss, layer=0):
        """Height of a path point: its value, but never below the drawn mesh (whose flat
        triangles cut across a narrow valley above its true floor), plus a small lift."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        i = np.clip(np.floor((x - x0) / dx), 0, resolution - 2)
        j = np.clip(np.floor((y - y0) / dy), 0, resolution - 2)
        i = np.where(np.isfinite(i), i, 0).astype(int)
        j = np.where(np.isfinite(j), j, 0).astype(int)
        mesh = np.maximum.reduce([z[j, i], z[j, i + 1], z[j + 1, i], z[j + 1, i + 1]])
        own = np.clip(zmap(loss), z_lo, z_hi)
        return np.maximum(own, mesh) + lift * (1.0 + 0.25 * layer)

    data = [dict(type="surface", x=_f32(xs), y=_f32(ys), z=_f32(z), surfacecolor=_f32(scale.color(f)),
                 cmin=-0.3, cmax=1.0, colorscale=_colorscale(), showscale=False, opacity=1.0,
                 name=surface.title, hoverinfo="skip",
                 lighting=dict(ambient=0.75, diffuse=0.5, specular=0.05, roughness=0.9),
                 contours=dict(z=dict(show=True, color="rgba(255,255,255,0.35)", width=1,
                                      start=z_lo, end=z_hi, size=(z_hi - z_lo) / LEVELS)))]
    for n, r in enumerate(runs):
        shown = r.at(k)
        pts = r.xy[: shown + 1]
        inside = ((pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1))
        px = np.where(inside, pts[:, 0], np.nan)
        py = np.where(inside, pts[:, 1], np.nan)
        pz = np.where(inside, zof(pts[:, 0], pts[:, 1], r.loss[: shown + 1], n), np.nan)
        data.append(dict(type="scatter3d", mode="lines", x=_f32(px), y=_f32(py), z=_f32(pz),
                         name=r.name, legendgroup=r.label, line=dict(color=r.color, width=9),
                         hovertemplate=f"<b>{r.label}</b><br>(%{{x:.3f}}, %{{y:.3f}})"
                                       "<extra></extra>"))
    for m, v in zip(surface.minima[:1], surface.minima_values[:1]):
        data.append(dict(type="scatter3d", mode="markers", x=[m[0]], y=[m[1]],
                         z=[float(zof(m[0], m[1], v))],
                         name="global minimum", marker=dict(symbol="diamond", size=7,
                                                            color="#ffd23f",
                                                            line=dict(color=INK, width=2))))
    sx, sy = (float(v) for v in result.scene["start"])
    data.append(dict(type="scatter3d", mode="markers", x=[sx], y=[sy],
                     z=[float(zof(sx, sy, surface.f(np.array([sx, sy]))))], name="start",
                     marker=dict(symbol="square", size=6, color="white",
                                 line=dict(color=INK, width=2))))
    heads_from = len(data)

    def head(n, s):
        r = runs[n]
        if r.gone(s):
            return [None], [None], [None]
        x, y = r.pos(s)
        return [x], [y], [float(zof(x, y, r.loss[r.at(s)], n + 1))]

    for n, r in enumerate(runs):
        hx, hy, hz = head(n, k)
        data.append(dict(type="scatter3d", mode="markers", x=hx, y=hy, z=hz, name=f"{r.label} now",
                         legendgroup=r.label, showlegend=False,
                         marker=dict(size=9, color=r.color, line=dict(color="white", width=2))))
    moving = list(range(heads_from, len(data)))
    caption_text = _caption_text(result, caption)
    margin_b = (108 if fsteps else 30) + (24 if caption_text else 0)
    layout = _base_layout(template, width, height, 640)
    axis = dict(showbackground=False, gridcolor="#cbd2d9", tickfont=dict(size=11))
    layout.update(
        title=_title(result, surface, len(runs)), margin=dict(l=0, r=0, t=100, b=margin_b),
        legend=dict(orientation="h", x=0.0, y=1.0, yanchor="bottom", font=dict(size=FONT_SIZE)),
        scene=dict(xaxis=dict(axis, title=dict(text="x"), range=[x0, x1]),
                   yaxis=dict(axis, title=dict(text="y"), range=[y0, y1]),
                   zaxis=dict(axis, title=dict(text=z_title)),
                   aspectmode="manual",
                   aspectratio=dict(x=1.0, y=(y1 - y0) / (x1 - x0), z=0.45),
                   camera=dict(eye=dict(x=-0.35, y=-1.1, z=1.2))),
        uirevision=_scene.scene_to_json(result.scene["surface"]),
        annotations=[_caption_annotation(caption_text, margin_b)] if caption_text else [])
    frame_list = []
    if fsteps:
        for s in fsteps:
            fd = []
            for n in range(len(runs)):
                hx, hy, hz = head(n, s)
                fd.append(dict(type="scatter3d", x=hx, y=hy, z=hz))
            frame_list.append(dict(name=str(s), traces=moving, data=fd))
        layout.update(_controls(fsteps, _active(fsteps, k), True, (width or 1100)))
    return _figure(data, layout, frame_list, spec)


def curves_figure(result, *, step=None, frames=0, template="plotly_white", width=None,
                  height=None, caption=True, spec=False) -> go.Figure:
    """Loss vs step (log y; loss - f_min + tiny where the minimum is negative, as the axis title
    says) and learning rate vs step (log y), every run, side by side; a cursor at `step` when
    given (animated with frames > 0)."""
    surface = result.surface
    runs = _runs(result)
    total = _total_steps(result)
    k = None if step is None else _check_step(step, total)
    fsteps = frame_steps(total, frames, k) if frames else []
    loss_axis, lr_axis = _LossAxis(surface, runs), _LrAxis(runs)
    data = _curve_traces(runs, loss_axis, lr_axis, (("x", "y"), ("x2", "y2")), True)
    moving = []
    if k is not None or fsteps:
        at = total if k is None else k
        moving = [len(data), len(data) + 1]
        data.append(_cursor_trace(runs, at, loss_axis, "loss", "x", "y"))
        data.append(_cursor_trace(runs, at, lr_axis, "lr", "x2", "y2"))
    caption_text = _caption_text(result, caption)
    margin_b = (118 if fsteps else 60) + (24 if caption_text else 0)
    layout = _base_layout(template, width, height, 440)
    layout.update(
        title=dict(text=f"<b>{surface.title}</b>: loss and learning rate", x=0.01, xanchor="left",
                   y=0.97, yanchor="top", font=dict(size=18)),
        margin=dict(l=70, r=24, t=90, b=margin_b),
        legend=dict(orientation="h", x=0.0, y=1.02, yanchor="bottom", font=dict(size=FONT_SIZE)))
    _curve_axes(layout, loss_axis, lr_axis, (("xaxis", "yaxis"), ("xaxis2", "yaxis2")),
                (([0.0, 0.45], [0.0, 1.0]), ([0.56, 1.0], [0.0, 1.0])), total,
                x_title_on_both=True)
    layout["annotations"] = [_caption_annotation(caption_text, margin_b)] if caption_text else []
    frame_list = []
    if fsteps:
        for s in fsteps:
            fd = []
            for axis in (loss_axis, lr_axis):
                xs, ys = _cursor_xy(runs, s, axis)
                fd.append(dict(type="scatter", x=xs, y=ys))
            frame_list.append(dict(name=str(s), traces=moving, data=fd))
        layout.update(_controls(fsteps, _active(fsteps, total if k is None else k), False, (width or 1100) - 94))
    return _figure(data, layout, frame_list, spec)


# --------------------------------------------------------------------------------------------
# The table


def _fmt_point(p) -> str:
    return f"({p[0]:.4g}, {p[1]:.4g})"


def summary_rows(result, step=None) -> list[dict]:
    """One row per run for the app's table, at `step` (None: the final values of
    ``result.summary``): loss, position, nearest minimum and the distance to it, the first step
    whose loss came within ``scene["tolerance"]`` of that minimum's value (None if not reached
    by then), and "diverged at step k" where that happened (else None)."""
    runs = _runs(result)
    total = _total_steps(result)
    at_step = None if step is None else _scene.summarize(result, _check_step(step, total))
    rows = []
    for r, final in zip(runs, result.summary):
        diverged = None if r.diverged is None else f"diverged at step {r.diverged}"
        if step is None:
            at = total
            loss, x, y = final["final_loss"], final["final_x"], final["final_y"]
            index = final["minimum_index"]
            distance = final["distance"]
            reached = final["reached_step"]
            minimum = final["nearest_minimum"]
        else:
            at = _check_step(step, total)
            now = at_step[len(rows)]
            loss, x, y = now["final_loss"], now["final_x"], now["final_y"]
            index, distance = now["minimum_index"], now["distance"]
            minimum, reached = now["nearest_minimum"], now["reached_step"]
            if r.diverged is not None and at < r.diverged:
                diverged = None
        rows.append({
            "optimizer": r.label,
            "step": min(at, r.last) if r.diverged is not None else at,
            "loss": loss,
            "x": x,
            "y": y,
            "nearest minimum": None if minimum is None else _fmt_point(minimum),
            "distance to minimum": distance,
            "reached minimum at step": reached,
            "diverged": diverged,
        })
    return rows
