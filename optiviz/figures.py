"""Figures: pure functions from a computed scene to plotly figures, for the PNG/SVG exports.

    >>> from optiviz import scene, figures
    >>> result = scene.compute_scene(scene.normalize_scene(scene.default_scene()))
    >>> fig = figures.race_figure(result, step=120)      # map + loss + lr, animated

Every figure function reads the scene's one record (``scene_record.of``: runs, surface, axes) and
takes a ``scene.SceneResult`` or that ``SceneRecord``, then the same keywords in the same order:
``step`` (the step shown initially, default the last), ``frames`` (the most animation frames, 0
for none), ``template``, ``width``, ``height``, then ``caption`` (True:
``scene.comparison_caption``; a string; or None), then ``lang`` ("en" or "ko": the words in the
picture; Korean is drawn in CJK_FONT_FAMILY).

The surface is a PNG in ``layout.images`` (``optiviz.surface_image``), never a contour/heatmap
trace: plotly.js drops those when an animation starts, an image stays. Its level lines are drawn
into the PNG (numpy), so they survive animation too. Animation frames carry only what moves
(heads on the map, cursor and dots on the curves), never whole paths, so the JSON stays small
(see ``race_figure``).

The race's parts are also public, for optiviz.animation, which draws the same race frame by frame
(by role, never by trace name): ``race_figure(..., moving=False)`` is its still background,
``path_lines``, ``head_trace``, ``end_trace``, ``landmark_traces`` and ``moving_traces`` style
what it draws over it. Trace names are what the legend and hover show.

Figures are assembled from plain dicts without plotly.py's validation (see ``_figure``; the
tests re-validate every kind). Nothing here imports Streamlit or changes plotly's defaults.
"""

from __future__ import annotations

import html
import math
import unicodedata

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from _plotly_utils.utils import convert_to_base64

from . import i18n
from . import scene as _scene
from . import scene_record as _record
from .scene_record import RunRecord, SceneRecord
from .surface_image import LEVELS, colorscale
from .surface_image import scale as surface_scale
from .surface_image import SURFACE_COLORS, surface_image  # noqa: F401 - figures' API, re-exported

__all__ = ["surface_image", "race_figure", "panels_figure", "surface3d_figure", "curves_figure",
           "summary_rows", "frame_steps", "path_lines", "head_trace", "end_trace",
           "landmark_traces", "moving_traces", "SURFACE_COLORS", "INK", "PATH_WIDTH"]

INK = "#1f2933"             # text and marker outlines
HALO = "rgba(255,255,255,0.85)"
PATH_WIDTH = 3.5            # a path on the race map (its halo is HALO_EXTRA wider)
HALO_EXTRA = 3.5
CLICK_GRID = 24             # click-grid points per side
FONT_SIZE = 14
# Korean pictures: Chromium draws Latin text in plotly's usual fonts and falls back, glyph by
# glyph, to the first family with Hangul (Debian: fonts-noto-cjk).
CJK_FONT_FAMILY = ('"Open Sans", verdana, arial, "Noto Sans CJK KR", "Noto Sans KR", '
                   '"Source Han Sans KR", "NanumGothic", "Malgun Gothic", sans-serif')
SPEEDS = (0.5, 1.0, 2.0, 4.0)
PLAY_SECONDS = 8.0          # duration of a full play at 1x (clamped to 40-250 ms per frame)
CONTROLS_PX = 372           # width of the Play / Pause / speed buttons, left of the slider
_MAX_TRAIL_POINTS = 40      # a trail is subsampled to at most this many points per frame


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


def _base_layout(template, width, height, default_height, lang="en") -> dict:
    font = dict(size=FONT_SIZE, color=INK)
    if i18n.normalize(lang) != "en":
        font["family"] = CJK_FONT_FAMILY
    layout = dict(template=_template(template), height=height or default_height,
                  font=font, hovermode="closest",
                  hoverlabel=dict(font=dict(size=13)), paper_bgcolor="white", plot_bgcolor="white")
    if width:
        layout["width"] = width
    return layout


def _caption_text(record, caption, lang="en") -> str | None:
    if caption is True:
        return _scene.comparison_caption(record.scene, lang)
    if isinstance(caption, str) and caption.strip():
        return caption
    return None


def _caption_annotation(text: str, margin_bottom: int) -> dict:
    return dict(text=text, xref="paper", yref="paper", x=0.0, y=0.0, xanchor="left",
                yanchor="bottom", yshift=-(margin_bottom - 6), showarrow=False, align="left",
                font=dict(size=13, color="#52606d"))


def _plain(text: str) -> str:
    """Text (a typed surface's title is the user's formula) as plotly's HTML-like markup shows
    it: never a tag or an entity."""
    return html.escape(str(text), quote=False)


def surface_words(surface, lang="en") -> tuple[str, str]:
    """A surface's title and description in `lang` (a typed surface's title is its formula)."""
    if i18n.normalize(lang) == "en":
        return surface.title, surface.description
    if surface.name == "custom":
        return surface.title, i18n.t("custom.description", lang)
    key = f"surface.{surface.name}"
    if not i18n.has(key + ".title"):
        return surface.title, surface.description
    return i18n.t(key + ".title", lang), i18n.t(key + ".description", lang)


def _run_name(r: RunRecord, lang="en") -> str:
    """RunRecord.name in `lang`: the label, and where it diverged."""
    if r.diverged_at is None or i18n.normalize(lang) == "en":
        return r.name
    return i18n.t("fig.diverged_name", lang, label=r.label, step=r.diverged_at)


def _loss_title(loss_axis, lang="en") -> str:
    if i18n.normalize(lang) == "en":
        return loss_axis.title
    if loss_axis.shift:
        return i18n.t("fig.loss_shifted", lang, tiny=f"{loss_axis.tiny:g}")
    return i18n.t("fig.loss", lang)


def _title(record, surface, n: int, lang="en") -> dict:
    steps = record.scene["steps"]
    runs = i18n.t("fig.one_optimizer", lang) if n == 1 else i18n.t("fig.n_optimizers", lang, n=n)
    title, description = surface_words(surface, lang)
    return dict(text=f"<b>{_plain(title)}</b>: " + i18n.t("fig.title", lang, runs=runs, steps=steps),
                x=0.01, xanchor="left", y=0.985, yanchor="top", font=dict(size=20),
                subtitle=dict(text=description, font=dict(size=13, color="#52606d")))


def _frame_duration(n_frames: int, speed: float) -> int:
    base = min(max(1000.0 * PLAY_SECONDS / max(n_frames, 1), 40.0), 250.0)
    return int(round(base / speed))


def _play_args(duration: int, redraw: bool) -> list:
    return [None, dict(frame=dict(duration=duration, redraw=redraw), fromcurrent=True,
                       transition=dict(duration=0), mode="immediate")]


def _controls(steps: list[int], active: int, redraw: bool, plot_px: float, lang="en") -> dict:
    """One row under the plot: Play, Pause and speed buttons (each plays at that speed; the one
    last clicked stays highlighted), then a slider over the frames. plot_px: the expected width
    of the plot area, to start the slider just right of the buttons."""
    pause = [[None], dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0),
                          mode="immediate")]
    buttons = [dict(label=i18n.t("fig.play", lang), method="animate",
                    args=_play_args(_frame_duration(len(steps), 1.0), redraw)),
               dict(label=i18n.t("fig.pause", lang), method="animate", args=pause)]
    buttons += [dict(label=f"{s:g}×", method="animate",
                     args=_play_args(_frame_duration(len(steps), s), redraw)) for s in SPEEDS]
    menu = dict(type="buttons", direction="left", showactive=True, active=-1, x=0.0,
                xanchor="left", y=0.0, yanchor="top", pad=dict(t=46, r=2), bgcolor="#f3f4f6",
                bordercolor="#9aa5b1", font=dict(size=13), buttons=buttons)
    slider_x = round(min(max(CONTROLS_PX / max(plot_px, 1.0), 0.25), 0.6), 4)
    slider = dict(
        active=active, x=slider_x, len=1.0 - slider_x, y=0.0, yanchor="top", xanchor="left",
        pad=dict(t=34, b=0), ticklen=3, minorticklen=0, font=dict(size=1, color="rgba(0,0,0,0)"),
        currentvalue=dict(prefix=i18n.t("fig.slider_prefix", lang), font=dict(size=15, color=INK),
                          xanchor="left",
                          offset=6),
        transition=dict(duration=0),
        steps=[dict(label=str(s), method="animate",
                    args=[[str(s)], dict(mode="immediate", frame=dict(duration=0, redraw=redraw),
                                         transition=dict(duration=0))]) for s in steps])
    return dict(updatemenus=[menu], sliders=[slider])


def _active(steps: list[int], step: int) -> int:
    """Index of the frame at or just before `step`."""
    return max(0, int(np.searchsorted(np.asarray(steps), step, side="right")) - 1)


def _curve_traces(runs, loss_axis, lr_axis, axes, show_legend: bool, lang="en") -> list[dict]:
    """Loss and lr vs step, one line per run. axes: ((xa, ya) for loss, (xa, ya) for lr)."""
    (lx, ly), (rx, ry) = axes
    traces = []
    step, loss_title = i18n.t("fig.slider_prefix", lang), _loss_title(loss_axis, lang)
    for r in runs:
        steps = np.arange(r.last + 1)
        traces.append(dict(
            type="scatter", mode="lines", x=steps.astype(np.int32), y=loss_axis.y(r.loss[: r.last + 1]),
            xaxis=lx, yaxis=ly, name=_run_name(r, lang), legendgroup=r.label,
            showlegend=show_legend, line=dict(color=r.color, width=2.5),
            hovertemplate=f"<b>{r.label}</b><br>{step}%{{x}}<br>{loss_title} "
                          "= %{y:.4g}<extra></extra>"))
    for r in runs:
        n = r.last if r.diverged_at is not None else r.steps
        traces.append(dict(
            type="scatter", mode="lines", x=np.arange(1, n + 1, dtype=np.int32), y=r.lr[:n],
            xaxis=rx, yaxis=ry, name=_run_name(r, lang), legendgroup=r.label, showlegend=False,
            line=dict(color=r.color, width=2.5, shape="hv"),
            hovertemplate=f"<b>{r.label}</b><br>{step}%{{x}}<br>lr = %{{y:.4g}}<extra></extra>"))
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


def _log_ticks(axis: dict, lo: float, hi: float, own=()) -> dict:
    """Labelled ticks a reader can read a value off (under a decade the same rule as the live
    view's figures.js logTicks): one per decade or every n-th over at least two powers of ten;
    under that, the 1-2-5 numbers
    in the range as whole numbers (0.004, not plotly's bare "4"), else the runs' own rates
    `own`, else finer steps."""
    decades = hi - lo
    if decades >= 1.0:
        dtick = max(1, math.ceil(decades / 7.0))
        if sum(e % dtick == 0 for e in range(math.ceil(lo), math.floor(hi) + 1)) >= 2:
            axis.update(dtick=dtick)
            return axis
    picked: list[float] = []

    def add(v: float) -> None:
        if v > 0 and lo <= math.log10(v) <= hi and all(
                abs(math.log10(p) - math.log10(v)) >= decades / 8 for p in picked):
            picked.append(v)

    def ladder(mantissas) -> None:
        for e in range(math.floor(lo), math.ceil(hi) + 1):
            for m in mantissas:
                add(float(f"{m}e{e}"))

    ladder((1, 2, 5))
    if len(picked) < 2:
        for v in list(own)[:4]:
            add(v)
    if len(picked) < 2:
        ladder(range(1, 10))
    if len(picked) < 2:
        ladder((1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9))
    picked.sort()
    axis.update(tickmode="array", tickvals=picked, ticktext=[_tick_text(v) for v in picked])
    return axis


def _tick_text(v: float) -> str:
    """A tick's whole value, compactly: 0.004, 25, 2×10⁻⁵ (as figures.js tickText)."""
    e = math.floor(math.log10(v) + 1e-9)
    if -4 <= e < 5:
        return f"{float(f'{v:.3g}'):g}"
    m = float(f"{v / 10 ** e:.3g}")
    return f"{'' if m == 1 else f'{m:g}×'}10<sup>{'−' if e < 0 else ''}{abs(e)}</sup>"


def _curve_axes(layout, loss_axis, lr_axis, names, domains, total, x_title_on_both=False,
                lang="en"):
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
    step_title = dict(text=i18n.t("fig.step", lang), font=dict(size=13), standoff=6)
    layout[lxk] = dict(common, domain=lxd, anchor=lya, range=xr, autorange=False)
    if x_title_on_both:
        layout[lxk]["title"] = step_title
    else:
        layout[lxk]["matches"] = rxa
    layout[lyk] = dict(common, domain=lyd, anchor=lxa, type="log" if loss_axis.log else "linear",
                       range=loss_axis.range, autorange=False, exponentformat="power",
                       title=dict(text=_loss_title(loss_axis, lang), font=dict(size=13)))
    if loss_axis.log:
        _log_ticks(layout[lyk], *loss_axis.range)
    layout[rxk] = dict(common, domain=rxd, anchor=rya, range=xr, autorange=False, title=step_title)
    layout[ryk] = _log_ticks(dict(common, domain=ryd, anchor=rxa, type="log", range=lr_axis.range,
                                  autorange=False, exponentformat="power",
                                  title=dict(text=i18n.t("fig.learning_rate", lang),
                                             font=dict(size=13))),
                             *lr_axis.range, own=lr_axis.given)
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


def _step_text(k: int, total: int, lang="en") -> str:
    return i18n.t("fig.step_counter", lang, step=k, total=total)


def _step_counter(surface, k: int, total: int, lang="en") -> dict:
    """"step k / N" in the map's top-right corner, a text trace the frames update."""
    (x0, x1), (y0, y1) = surface.bounds
    return dict(type="scatter", mode="text", name="step counter", x=[x1 - 0.02 * (x1 - x0)],
                y=[y1 - 0.02 * (y1 - y0)], text=[_step_text(k, total, lang)],
                textposition="bottom left",
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


def landmark_traces(record: SceneRecord, xa="x", ya="y", legend=True, size=1.0,
                    lang="en") -> list[dict]:
    """Minima (global first, as a star) and the start point: drawn above the paths."""
    traces = []
    local_name, global_name, start_name = (i18n.t(f"fig.{k}", lang) for k in
                                           ("local_minimum", "global_minimum", "start"))
    minima, values, glob = record.minima, record.minima_values, record.is_global
    if len(minima):
        local = ~glob
        many = int(local.sum()) > 12            # an egg crate: small dots, not a wall of diamonds
        if local.any():
            traces.append(dict(
                type="scatter", mode="markers", name=local_name, x=minima[local, 0],
                y=minima[local, 1], customdata=values[local], xaxis=xa, yaxis=ya,
                showlegend=legend, legendrank=1002,
                marker=dict(symbol="diamond", size=(6 if many else 11) * size, color="white",
                            line=dict(color=INK, width=1 if many else 1.5)),
                unselected=dict(marker=dict(opacity=1)),
                hovertemplate=local_name + "<br>(%{x:.3f}, %{y:.3f})<br>f = %{customdata:.4g}"
                                           "<extra></extra>"))
        traces.append(dict(
            type="scatter", mode="markers", name=global_name, x=minima[glob, 0],
            y=minima[glob, 1], customdata=values[glob], xaxis=xa, yaxis=ya, showlegend=legend,
            legendrank=1001,
            marker=dict(symbol="star", size=22 * size, color="#ffd23f",
                        line=dict(color=INK, width=1.5)),
            unselected=dict(marker=dict(opacity=1)),
            hovertemplate=global_name + "<br>(%{x:.3f}, %{y:.3f})<br>f = %{customdata:.4g}"
                                        "<extra></extra>"))
    sx, sy = record.start
    traces.append(dict(
        type="scatter", mode="markers", name=start_name, x=[sx], y=[sy],
        xaxis=xa, yaxis=ya, showlegend=legend, legendrank=1003,
        marker=dict(symbol="square", size=13 * size, color="white", line=dict(color=INK, width=2.5)),
        unselected=dict(marker=dict(opacity=1)),
        hovertemplate=start_name + " (%{x:.3f}, %{y:.3f})<extra></extra>"))
    return traces


def path_lines(r: RunRecord, width: float = PATH_WIDTH) -> tuple[dict, dict]:
    """The line styles of a run's path up to the playhead: (its white halo, its line)."""
    return dict(color=HALO, width=width + HALO_EXTRA), dict(color=r.color, width=width)


def _path_traces(r: RunRecord, k: int, xa="x", ya="y", legend=True,
                 width=PATH_WIDTH, lang="en") -> list[list[dict]]:
    """A run's path as [halo], [rest], [done]: the part up to step k is a bold line over a white
    halo, the part after it faint and dotted. Callers draw every halo first, then every rest,
    then every done line, so no run's halo covers another run's line."""
    done = r.path(k)
    rest = r.xy[r.at(k): r.last + 1]
    halo_line, line_style = path_lines(r, width)
    halo = [dict(type="scatter", mode="lines", x=_f32(done[:, 0]), y=_f32(done[:, 1]), xaxis=xa,
                 yaxis=ya, showlegend=False, legendgroup=r.label, hoverinfo="skip",
                 name=f"{r.label} halo", line=halo_line)]
    line = [dict(type="scatter", mode="lines", x=_f32(done[:, 0]), y=_f32(done[:, 1]), xaxis=xa,
                 yaxis=ya, name=_run_name(r, lang), legendgroup=r.label, showlegend=legend,
                 line=line_style,
                 hovertemplate=f"<b>{r.label}</b><br>{i18n.t('fig.slider_prefix', lang)}"
                               "%{pointNumber}<br>"
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


def end_trace(r: RunRecord, xa="x", ya="y", size=1.0, lang="en") -> dict | None:
    """None, or the end mark of a diverged run (an X, "<label> diverged") at its last finite
    point or, when that point lies outside the window, where its path last crossed the window's
    border (``RunRecord.end_xy``: the end is always visible; the hover gives the last point)."""
    if r.diverged_at is None:
        return None
    lx, ly = r.pos(r.last)
    x, y = r.end_xy
    last = f"{i18n.t('fig.last_finite', lang)} ({lx:.3g}, {ly:.3g})"
    where = (f"{i18n.t('fig.left_view', lang, step=r.exit_step)}<br>{last}"
             if r.exit_step is not None else last)
    return dict(type="scatter", mode="markers", x=[x], y=[y], xaxis=xa, yaxis=ya,
                name=f"{r.label} diverged", legendgroup=r.label, showlegend=False,
                cliponaxis=False,
                marker=dict(symbol=r.end_symbol, size=20 * size, color=r.color,
                            line=dict(color="white", width=2)),
                unselected=dict(marker=dict(opacity=1)),
                hovertemplate=f"<b>{r.label}</b><br>{i18n.t('fig.diverged_at', lang, step=r.diverged_at)}"
                              f"<br>{where}<extra></extra>")


def _end_traces(r: RunRecord, xa="x", ya="y", size=1.0, lang="en") -> list[dict]:
    t = end_trace(r, xa, ya, size, lang)
    return [] if t is None else [t]


def head_trace(r: RunRecord, k: int, xa="x", ya="y", size=1.0) -> dict:
    """A run's head at step k ("<label> now"; no point once it diverged)."""
    x, y = r.head(k)
    return dict(type="scatter", mode="markers", x=[x], y=[y], xaxis=xa, yaxis=ya,
                name=f"{r.label} now", legendgroup=r.label, showlegend=False,
                marker=dict(symbol=r.head_symbol, size=16 * size, color=r.color,
                            line=dict(color="white", width=2.5)),
                unselected=dict(marker=dict(opacity=1)),
                hovertemplate=f"<b>{r.label}</b><br>(%{{x:.3f}}, %{{y:.3f}})<extra></extra>")


def moving_traces(record: SceneRecord, k: int) -> list[dict]:
    """What moves on the race view at step k, as the race figure draws it: every run's head on
    the map, then the step cursors (with the runs' dots) of the loss and the lr panel."""
    runs = record.runs
    return ([head_trace(r, k) for r in runs]
            + [_cursor_trace(runs, k, record.loss_axis, "loss", "x2", "y2"),
               _cursor_trace(runs, k, record.lr_axis, "lr", "x3", "y3")])


def _trail_xy(r: RunRecord, k: int, trail: int) -> tuple[list, list]:
    end = r.at(k)
    begin = max(0, end - trail)
    idx = np.unique(np.round(np.linspace(begin, end, min(end - begin + 1, _MAX_TRAIL_POINTS))))
    pts = r.xy[idx.astype(int)]
    return ([round(float(v), 6) for v in pts[:, 0]], [round(float(v), 6) for v in pts[:, 1]])


def _trail_trace(r: RunRecord, k: int, trail: int) -> dict:
    xs, ys = _trail_xy(r, k, trail)
    return dict(type="scatter", mode="lines", x=xs, y=ys, name=f"{r.label} trail",
                legendgroup=r.label, showlegend=False, hoverinfo="skip", opacity=0.45,
                line=dict(color=r.color, width=10))


# --------------------------------------------------------------------------------------------
# The figures


def _text_units(text: str) -> int:
    """Its width in Latin characters: 2 for each wide (CJK) character, 1 for the rest."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _legend_layout(names: list[str], width_px: float) -> tuple[int, int]:
    """(rows, entry text width in px) of a horizontal legend whose entries share one width (so
    wrapped rows line up in columns): about 6.8 px a character at FONT_SIZE (twice that for a
    wide, e.g. Hangul, character), plus ~46 px of symbol and padding per entry."""
    text = int(12 + 6.8 * max((_text_units(n) for n in names), default=8))
    per_row = max(1, int(width_px // (text + 46)))
    return math.ceil(len(names) / per_row), text


def race_figure(result, *, step=None, frames=120, trail=None, template="plotly_white", width=None,
                height=None, caption=True, title=True, layout_width=None, slider=True,
                click_grid=None, moving=True, spec=False, lang="en") -> go.Figure:
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
    moving=False: the still background optiviz.animation draws the race over, the same figure
    without what it draws itself frame by frame (heads, cursors, X marks, trail, counter) nor
    the click grid; never animated. lang: "en" or "ko", the language of its words.
    """
    record = _record.of(result)
    surface, runs, total = record.surface, record.runs, record.steps
    k = _check_step(step, total)
    trail = int(trail) if trail and moving else 0
    fsteps = frame_steps(total, frames, k) if moving else []
    loss_axis, lr_axis = record.loss_axis, record.lr_axis
    caption_text = _caption_text(record, caption, lang)

    # Size the map so that, at the expected size, it is about as wide as it is tall (in data
    # units) and the loss/lr panels take the rest of the width.
    w_px, h_px = (width or layout_width or 1100), (height or 660)
    names = [_run_name(r, lang) for r in runs] + [i18n.t("fig.global_minimum", lang),
                                                   i18n.t("fig.start", lang)]
    if len(surface.minima) > 1:
        names.append(i18n.t("fig.local_minimum", lang))
    legend_rows, entry_px = _legend_layout(names, w_px - 90)
    margin_t = (90 if title else 14) + 22 * legend_rows
    margin_b = (100 if fsteps else 50) + (22 if caption_text else 0)
    plot_w, plot_h = w_px - 60 - 24, max(h_px - margin_t - margin_b, 150)
    (x0, x1), (y0, y1) = surface.bounds
    map_frac = min(max(plot_h * (x1 - x0) / (y1 - y0) / plot_w, 0.42), 0.64)
    # The gap holds the curves' tick labels and axis title (about 90 px).
    gap = min(max(90.0 / plot_w, 0.08), 0.16)
    map_x, curves_x = [0.0, round(map_frac, 4)], [round(map_frac + gap, 4), 1.0]

    data = [_click_grid(surface, n=click_grid or CLICK_GRID)] if moving else []
    data += _layered([_path_traces(r, k, lang=lang) for r in runs])
    data += landmark_traces(record, lang=lang)
    if moving:
        data += [t for r in runs for t in _end_traces(r, lang=lang)]
    data += _curve_traces(runs, loss_axis, lr_axis, (("x2", "y2"), ("x3", "y3")), False, lang)
    moving_from = len(data)
    if trail:
        data += [_trail_trace(r, k, trail) for r in runs]
    if moving:
        data += moving_traces(record, k)
    counter = bool(fsteps) and not slider
    if counter:
        data.append(_step_counter(surface, k, total, lang))
    moving = list(range(moving_from, len(data)))

    layout = _base_layout(template, width, height, 660, lang)
    layout.update(
        title=_title(record, surface, len(runs), lang) if title else None,
        margin=dict(l=60, r=24, t=margin_t, b=margin_b, pad=0),
        legend=dict(orientation="h", x=0.0, xanchor="left", y=1.0, yanchor="bottom",
                    font=dict(size=FONT_SIZE), bgcolor="rgba(255,255,255,0)",
                    entrywidth=entry_px, entrywidthmode="pixels",
                    traceorder="normal", itemclick="toggle", itemdoubleclick="toggleothers"),
        images=[record.image(400)],
        uirevision=_scene.scene_to_json(record.scene["surface"]),
    )
    layout["xaxis"], layout["yaxis"] = _map_axes(surface, map_x, [0.0, 1.0])
    _curve_axes(layout, loss_axis, lr_axis, (("xaxis2", "yaxis2"), ("xaxis3", "yaxis3")),
                ((curves_x, [0.56, 1.0]), (curves_x, [0.0, 0.44])), total, lang=lang)
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
                fd.append(dict(type="scatter", text=[_step_text(s, total, lang)]))
            frame_list.append(dict(name=str(s), data=fd, traces=moving))
        controls = _controls(fsteps, _active(fsteps, k), False, plot_w, lang)
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
                  height=None, caption=True, spec=False, lang="en") -> go.Figure:
    """One small map per optimizer (up to 10, one row up to 4, else two rows), each titled with
    its run label and final loss or "diverged at step k", all on the same surface image and
    animated in sync by the same frames (the heads only)."""
    record = _record.of(result)
    surface, runs, total = record.surface, record.runs, record.steps
    k = _check_step(step, total)
    fsteps = frame_steps(total, frames, k)
    rows, cols = _grid_shape(len(runs))
    caption_text = _caption_text(record, caption, lang)
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
    layout = _base_layout(template, width, height, default_height, lang)
    data, images, annotations, heads, parts = [], [], [], [], []
    for i, r in enumerate(runs):
        row, col = divmod(i, cols)
        xa, ya = ("x", "y") if i == 0 else (f"x{i + 1}", f"y{i + 1}")
        xdom = _domain(col * (w + gap_x), col * (w + gap_x) + w)
        ydom = _domain(1.0 - row * (h + gap_y) - h, 1.0 - row * (h + gap_y))
        xaxis, yaxis = _map_axes(surface, xdom, ydom, xa, ya, title=False)
        layout["xaxis" if i == 0 else f"xaxis{i + 1}"] = xaxis
        layout["yaxis" if i == 0 else f"yaxis{i + 1}"] = yaxis
        images.append(record.image(resolution, xref=xa, yref=ya))
        # No click grid here: only the race view moves the start (and the panels would carry
        # one grid per optimizer for the browser to draw).
        data += _layered([_path_traces(r, k, xa, ya, legend=False, width=3.0, lang=lang)])
        data += landmark_traces(record, xa, ya, legend=False, size=0.8, lang=lang)
        data += _end_traces(r, xa, ya, size=0.85, lang=lang)
        heads.append(head_trace(r, k, xa, ya, size=0.9))
        final = float(r.loss[r.last])
        status = (i18n.t("fig.diverged_at", lang, step=r.diverged_at) if r.diverged_at is not None
                  else i18n.t("fig.final_loss", lang, loss=f"{final:.3g}"))
        annotations.append(dict(
            text=f"<b><span style='color:{r.color}'>●</span> {r.label}</b><br>"
                 f"<span style='font-size:12px;color:#52606d'>{status}</span>",
            xref="paper", yref="paper", x=(xdom[0] + xdom[1]) / 2, y=ydom[1], xanchor="center",
            yanchor="bottom", yshift=4, showarrow=False, font=dict(size=15)))
    moving = list(range(len(data), len(data) + len(heads)))
    data += heads
    if caption_text:
        annotations.append(_caption_annotation(caption_text, margin_b))
    title = _title(record, surface, len(runs), lang)
    layout.update(title=title, margin=dict(l=40, r=20, t=margin_t, b=margin_b), showlegend=False,
                  images=images, annotations=annotations,
                  uirevision=_scene.scene_to_json(record.scene["surface"]))
    frame_list = []
    if fsteps:
        for s in fsteps:
            frame_list.append(dict(name=str(s), traces=moving, data=[
                dict(type="scatter", x=[p[0]], y=[p[1]]) for p in (r.head(s) for r in runs)]))
        layout.update(_controls(fsteps, _active(fsteps, k), False, (width or 1100) - 60, lang))
    return _figure(data, layout, frame_list, spec)


def surface3d_figure(result, *, step=None, frames=0, template="plotly_white", width=None,
                     height=None, caption=True, resolution=120, spec=False,
                     lang="en") -> go.Figure:
    """The surface in 3-D (z = log10(f - f_min + eps) where the surface is log-scaled, clipped
    at the 99.5th percentile) with every path lifted just above it and its head at `step`.
    With frames > 0 the heads animate (3-D animation redraws, so it is slower; default off)."""
    record = _record.of(result)
    surface, runs, total = record.surface, record.runs, record.steps
    k = _check_step(step, total)
    fsteps = frame_steps(total, frames, k)
    scale = surface_scale(surface)
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
                 cmin=-0.3, cmax=1.0, colorscale=colorscale(), showscale=False, opacity=1.0,
                 name=_plain(surface_words(surface, lang)[0]), hoverinfo="skip",
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
                         name=_run_name(r, lang), legendgroup=r.label,
                         line=dict(color=r.color, width=9),
                         hovertemplate=f"<b>{r.label}</b><br>(%{{x:.3f}}, %{{y:.3f}})"
                                       "<extra></extra>"))
    for m, v in zip(record.minima[:1], record.minima_values[:1]):
        data.append(dict(type="scatter3d", mode="markers", x=[float(m[0])], y=[float(m[1])],
                         z=[float(zof(m[0], m[1], v))],
                         name=i18n.t("fig.global_minimum", lang),
                         marker=dict(symbol="diamond", size=7,
                                                            color="#ffd23f",
                                                            line=dict(color=INK, width=2))))
    sx, sy = record.start
    data.append(dict(type="scatter3d", mode="markers", x=[sx], y=[sy],
                     z=[float(zof(sx, sy, surface.f(np.array([sx, sy]))))],
                     name=i18n.t("fig.start", lang),
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
    caption_text = _caption_text(record, caption, lang)
    margin_b = (108 if fsteps else 30) + (24 if caption_text else 0)
    layout = _base_layout(template, width, height, 640, lang)
    axis = dict(showbackground=False, gridcolor="#cbd2d9", tickfont=dict(size=11))
    layout.update(
        title=_title(record, surface, len(runs), lang), margin=dict(l=0, r=0, t=100, b=margin_b),
        legend=dict(orientation="h", x=0.0, y=1.0, yanchor="bottom", font=dict(size=FONT_SIZE)),
        scene=dict(xaxis=dict(axis, title=dict(text="x"), range=[x0, x1]),
                   yaxis=dict(axis, title=dict(text="y"), range=[y0, y1]),
                   zaxis=dict(axis, title=dict(text=z_title)),
                   aspectmode="manual",
                   aspectratio=dict(x=1.0, y=(y1 - y0) / (x1 - x0), z=0.45),
                   camera=dict(eye=dict(x=-0.35, y=-1.1, z=1.2))),
        uirevision=_scene.scene_to_json(record.scene["surface"]),
        annotations=[_caption_annotation(caption_text, margin_b)] if caption_text else [])
    frame_list = []
    if fsteps:
        for s in fsteps:
            fd = []
            for n in range(len(runs)):
                hx, hy, hz = head(n, s)
                fd.append(dict(type="scatter3d", x=hx, y=hy, z=hz))
            frame_list.append(dict(name=str(s), traces=moving, data=fd))
        layout.update(_controls(fsteps, _active(fsteps, k), True, (width or 1100), lang))
    return _figure(data, layout, frame_list, spec)


def curves_figure(result, *, step=None, frames=0, template="plotly_white", width=None,
                  height=None, caption=True, spec=False, lang="en") -> go.Figure:
    """Loss vs step (log y; loss - f_min + tiny where the minimum is negative, as the axis title
    says) and learning rate vs step (log y), every run, side by side; a cursor at `step` when
    given (animated with frames > 0)."""
    record = _record.of(result)
    surface, runs, total = record.surface, record.runs, record.steps
    k = None if step is None else _check_step(step, total)
    fsteps = frame_steps(total, frames, k) if frames else []
    loss_axis, lr_axis = record.loss_axis, record.lr_axis
    data = _curve_traces(runs, loss_axis, lr_axis, (("x", "y"), ("x2", "y2")), True, lang)
    moving = []
    if k is not None or fsteps:
        at = total if k is None else k
        moving = [len(data), len(data) + 1]
        data.append(_cursor_trace(runs, at, loss_axis, "loss", "x", "y"))
        data.append(_cursor_trace(runs, at, lr_axis, "lr", "x2", "y2"))
    caption_text = _caption_text(record, caption, lang)
    margin_b = (118 if fsteps else 60) + (24 if caption_text else 0)
    layout = _base_layout(template, width, height, 440, lang)
    layout.update(
        title=dict(text=f"<b>{_plain(surface_words(surface, lang)[0])}</b>: "
                        f"{i18n.t('fig.curves_title', lang)}", x=0.01, xanchor="left",
                   y=0.97, yanchor="top", font=dict(size=18)),
        margin=dict(l=70, r=24, t=90, b=margin_b),
        legend=dict(orientation="h", x=0.0, y=1.02, yanchor="bottom", font=dict(size=FONT_SIZE)))
    _curve_axes(layout, loss_axis, lr_axis, (("xaxis", "yaxis"), ("xaxis2", "yaxis2")),
                (([0.0, 0.45], [0.0, 1.0]), ([0.56, 1.0], [0.0, 1.0])), total,
                x_title_on_both=True, lang=lang)
    layout["annotations"] = [_caption_annotation(caption_text, margin_b)] if caption_text else []
    frame_list = []
    if fsteps:
        for s in fsteps:
            fd = []
            for axis in (loss_axis, lr_axis):
                xs, ys = _cursor_xy(runs, s, axis)
                fd.append(dict(type="scatter", x=xs, y=ys))
            frame_list.append(dict(name=str(s), traces=moving, data=fd))
        layout.update(_controls(fsteps, _active(fsteps, total if k is None else k), False,
                                (width or 1100) - 94, lang))
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
    record = _record.of(result)
    runs, total = record.runs, record.steps
    at_step = None if step is None else _scene.summarize(result, _check_step(step, total))
    rows = []
    for r, final in zip(runs, result.summary):
        diverged = None if r.diverged_at is None else f"diverged at step {r.diverged_at}"
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
            if r.diverged_at is not None and at < r.diverged_at:
                diverged = None
        rows.append({
            "optimizer": r.label,
            "step": min(at, r.last) if r.diverged_at is not None else at,
            "loss": loss,
            "x": x,
            "y": y,
            "nearest minimum": None if minimum is None else _fmt_point(minimum),
            "distance to minimum": distance,
            "reached minimum at step": reached,
            "diverged": diverged,
        })
    return rows
