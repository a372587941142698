"""Static figures of the maps (optiviz.maps): basins, hyperparameter maps, noise ensembles.

    >>> from optiviz import maps, map_figures, renderer
    >>> b = maps.basin_map("himmelblau", {"optimizer": "adam", "lr": 0.05}, n=128)
    >>> fig = map_figures.basin_figure([b])
    >>> png = renderer.static_image(fig, "png", width=fig.layout.width, height=fig.layout.height)

Plotly figures for PNG/SVG through the race's own kaleido path (optiviz.renderer.static_image);
python -m optiviz map writes them (optiviz.map_cli). The live view draws maps itself; these are
for slides, papers and posters. Each figure takes one map or a list of maps, one per optimizer,
and draws them side by side with one legend (and one colour scale where there is one), each
panel titled in the optimizer's race colour (scene.run_color).

- basin_figure: a cell per start, a hue per listed minimum, darker the fewer steps it needed to
  get within tolerance; one grey for "not converged", another for "diverged"; minima marked as
  in the race (star: global, diamond: local).
- hyper_figure: final loss (log₁₀, one colour axis for every panel) or steps to tolerance; the
  diverged cells greyed and crossed; the best cell starred; log axes where the setting lives on one.
- ensemble_figure: the median path and the 10-90 % and 25-75 % bands over the surface image,
  and the same quantiles of the loss per step.

Cell colours are a heatmap's z through a colour scale, so the figure's data is the map's grid
(tests/test_map_figures.py reads it back). Nothing here imports Streamlit.

Each figure takes lang="en" or "ko": its titles, axis titles, legend, colour bar and panel
notes in that language (optiviz.i18n, keys "mapfig.*" and the race's own "fig.*"; Korean is
drawn in the race's CJK font family). Hover text (not in a PNG or SVG) stays English.
"""

from __future__ import annotations

import colorsys
import math
from types import SimpleNamespace

import numpy as np

import landscapes
from optim_core import OPTIMIZERS

from . import i18n
from . import maps as _maps
from .figures import (FONT_SIZE, HALO, INK, _base_layout, _figure, _grid_shape, _loss_title,
                      _plain, surface_words)
from .scene import run_color
from .scene_record import LossAxis
from .surface_image import surface_image

__all__ = ["basin_figure", "hyper_figure", "ensemble_figure", "minimum_color", "basin_code",
           "basin_colorscale", "hyper_z", "DIVERGED_COLOR", "NOT_CONVERGED_COLOR"]

DIVERGED_COLOR = "#d5d8dc"        # light grey: no hue, lighter than every minimum's shade
NOT_CONVERGED_COLOR = "#3e4247"   # charcoal: no hue, darker than every minimum's shade
MUTED = "#52606d"                 # secondary text, as the race's subtitles
HUE_START, GOLDEN_ANGLE = 25.0, 137.50776   # hues of minima 0, 1, 2...: far apart, never equal
SATURATION = 0.72
LIGHT_FAST, LIGHT_SLOW = 0.32, 0.80     # HLS lightness at 0 steps and at all the steps
LEGEND_LIGHT = 0.42               # the legend's shade: most runs arrive in the first fifth
SPAN = 0.999                      # a category's z range [k, k + SPAN]: no shade is shared
MARK_LIMIT = 2500                 # cross diverged cells only up to this many (else colour only)
LEGEND_MINIMA = 12                # one legend entry per minimum up to this many
MAX_BAND_SEGMENTS = 400           # an ensemble band is drawn from at most this many step pairs
PANEL_PX = 400                    # default panel width
LOG_DECADES = 12.0                # the loss colour axis spans at most this many decades


# ---- shared pieces ------------------------------------------------------------------------------

def _as_list(items, kind, what):
    items = list(items) if isinstance(items, (list, tuple)) else [items]
    if not items:
        raise ValueError(f"{what} needs at least one map")
    for m in items:
        if not isinstance(m, kind):
            raise ValueError(f"{what} takes {kind.__name__} objects (optiviz.maps), "
                             f"got {type(m).__name__}")
    if len({m.surface for m in items}) > 1:
        raise ValueError(f"{what}: the maps must be of one surface, got "
                         f"{sorted({m.surface for m in items})}")
    return items


def _surface(surface, name):
    """The Landscape: as given, else the catalog's by the map's name (a typed formula must be
    passed: its name, "custom", does not say which)."""
    if surface is not None:
        return surface if isinstance(surface, landscapes.Landscape) else \
            landscapes.from_spec(surface)
    try:
        return landscapes.get(name)
    except (ValueError, TypeError, KeyError):
        raise ValueError(f"pass surface=: the map's surface {name!r:.40} is not one the "
                         f"catalog can rebuild by name") from None


def _short(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def labels_and_colors(settings: list[dict]) -> tuple[list[str], list[str]]:
    """Each map's label (the optimizer's title, plus what differs where it appears more than
    once, as the race labels twins) and race colour (its own, shaded for repeats)."""
    labels, colors, seen = [], [], {}
    for s in settings:
        name = s["optimizer"]
        twin = seen.get(name, 0)
        seen[name] = twin + 1
        colors.append(run_color(name, twin))
        twins = [t for t in settings if t["optimizer"] == name]
        title = OPTIMIZERS[name].title
        if len(twins) == 1:
            labels.append(title)
            continue
        differs = []
        for key in ("lr", "noise", "seed", "schedule"):
            if len({repr(t.get(key)) for t in twins}) > 1:
                differs.append(f"{key}={_short(s.get(key))}")
        keys = sorted({k for t in twins for k in t["hyperparameters"]})
        for key in keys:
            if len({repr(t["hyperparameters"].get(key)) for t in twins}) > 1:
                differs.append(f"{key}={_short(s['hyperparameters'].get(key))}")
        labels.append(f"{title} ({', '.join(differs) or '#' + str(twin + 1)})")
    return labels, colors


def _describe(s: dict, skip=(), lang="en") -> str:
    """The settings of a panel in one short line: lr, hyperparameters given, noise."""
    parts = []
    if s.get("lr") is not None and "lr" not in skip:
        parts.append(i18n.t("mapfig.lr", lang, lr=_short(float(s["lr"]))))
    parts += [f"{k}={_short(v)}" for k, v in s["hyperparameters"].items() if k not in skip]
    if s.get("schedule"):
        sched = s["schedule"]
        parts.append(i18n.t("mapfig.schedule", lang,
                            name=sched if isinstance(sched, str) else sched.get("name")))
    if s.get("noise"):
        parts.append(i18n.t("mapfig.noise", lang, noise=_short(float(s["noise"])),
                            seed=s.get("seed", 0)))
    return " · ".join(parts)


def _surface_title(surf, lang) -> str:
    """The surface's title in `lang` (a typed surface's: its formula), as plotly shows text."""
    return _plain(surface_words(surf, lang)[0])


def _panel_title(label, color, detail, x, y) -> dict:
    text = f"<b><span style='color:{color}'>■</span> {label}</b>"
    if detail:
        text += f"<br><span style='font-size:12px;color:{MUTED}'>{detail}</span>"
    return dict(text=text, xref="paper", yref="paper", x=x, y=y, xanchor="center",
                yanchor="bottom", yshift=6, showarrow=False, font=dict(size=15))


def _panels(n, aspect, width, height, margin, panel_px=PANEL_PX, gap_px=(48, 96)):
    """Domains of n panels (one row up to 4, else two rows) of height/width `aspect`, and the
    figure's size: (width, height, [(xdom, ydom)])."""
    rows, cols = _grid_shape(n)
    l, r, t, b = margin
    gx, gy = gap_px
    if width:
        pw = max((width - l - r - gx * (cols - 1)) / cols, 60.0)
    else:
        pw = panel_px
        width = int(round(l + r + cols * pw + gx * (cols - 1)))
    ph = pw * min(max(aspect, 0.4), 1.6)
    if height:
        ph = max((height - t - b - gy * (rows - 1)) / rows, 60.0)
    else:
        height = int(round(t + b + rows * ph + gy * (rows - 1)))
    plot_w, plot_h = width - l - r, height - t - b
    doms = []
    for i in range(n):
        row, col = divmod(i, cols)
        x0 = col * (pw + gx) / plot_w
        y1 = 1.0 - row * (ph + gy) / plot_h
        doms.append(([round(x0, 6), round(min(x0 + pw / plot_w, 1.0), 6)],
                     [round(max(y1 - ph / plot_h, 0.0), 6), round(y1, 6)]))
    return width, height, doms


def _axis_names(i):
    return ("x", "y", "xaxis", "yaxis") if i == 0 else \
        (f"x{i + 1}", f"y{i + 1}", f"xaxis{i + 1}", f"yaxis{i + 1}")


def _axes(xr, yr, xdom, ydom, xa, ya, equal, xtitle="x", ytitle="y", xlog=False, ylog=False):
    common = dict(showgrid=False, zeroline=False, showline=True, linecolor=MUTED, mirror=True,
                  ticks="outside", tickfont=dict(size=12))
    xaxis = dict(common, domain=xdom, range=xr, autorange=False, anchor=ya,
                 type="log" if xlog else "linear",
                 title=dict(text=xtitle, font=dict(size=13), standoff=4))
    yaxis = dict(common, domain=ydom, range=yr, autorange=False, anchor=xa,
                 type="log" if ylog else "linear",
                 title=dict(text=ytitle, font=dict(size=13), standoff=4))
    if xlog:
        xaxis["exponentformat"] = "power"
    if ylog:
        yaxis["exponentformat"] = "power"
    if equal:
        yaxis.update(scaleanchor=xa, scaleratio=1, constrain="domain")
        xaxis.update(constrain="domain")
    return xaxis, yaxis


def _title(text, subtitle) -> dict:
    return dict(text=text, x=0.01, xanchor="left", y=0.985, yanchor="top", font=dict(size=20),
                subtitle=dict(text=subtitle, font=dict(size=13, color=MUTED)))


def _legend_swatch(name, color, symbol="square", rank=100, size=14, line=None) -> dict:
    """A legend-only entry (no points): a swatch and its meaning."""
    return dict(type="scatter", mode="markers", x=[None], y=[None], name=name, showlegend=True,
                legendrank=rank, hoverinfo="skip",
                marker=dict(symbol=symbol, size=size, color=color,
                            line=line or dict(color=INK, width=0.5)))


def _minima_traces(minima, is_global, xa, ya, legend, size=1.0, lang="en") -> list[dict]:
    """The surface's minima as the race marks them: a gold star for the global ones, white
    diamonds (small dots for an egg crate of them) for the local ones."""
    minima = np.asarray(minima, dtype=np.float64).reshape(-1, 2)
    if not minima.size:
        return []
    local_name = i18n.t("fig.local_minimum", lang)
    global_name = i18n.t("fig.global_minimum", lang)
    traces = []
    local = ~is_global
    many = int(local.sum()) > LEGEND_MINIMA
    if local.any():
        traces.append(dict(
            type="scatter", mode="markers", name=local_name, x=minima[local, 0],
            y=minima[local, 1], xaxis=xa, yaxis=ya, showlegend=legend, legendrank=1002,
            cliponaxis=False,
            marker=dict(symbol="diamond", size=(6 if many else 11) * size, color="white",
                        line=dict(color=INK, width=1 if many else 1.5)),
            hovertemplate=local_name + " (%{x:.3f}, %{y:.3f})<extra></extra>"))
    if is_global.any():
        traces.append(dict(
            type="scatter", mode="markers", name=global_name, x=minima[is_global, 0],
            y=minima[is_global, 1], xaxis=xa, yaxis=ya, showlegend=legend, legendrank=1001,
            cliponaxis=False,
            marker=dict(symbol="star", size=20 * size, color="#ffd23f",
                        line=dict(color=INK, width=1.5)),
            hovertemplate=global_name + " (%{x:.3f}, %{y:.3f})<extra></extra>"))
    return traces


def _global_flags(surface, count):
    values = np.asarray(getattr(surface, "minima_values", ()), dtype=np.float64)
    if values.size != count:
        return np.ones(count, dtype=bool)
    low = values.min() if values.size else 0.0
    return np.isclose(values, low, rtol=0, atol=1e-9 * max(1.0, abs(low)))


def _edges_range(values, log):
    """The axis range that shows every cell whole: half a cell beyond the first and last
    centre (in log10 on a log axis, which plotly's range is given in)."""
    v = np.asarray(values, dtype=np.float64)
    v = np.log10(v) if log else v
    if v.size == 1:
        half = 0.5 if log else max(0.5 * abs(v[0]), 0.5)
    else:
        half = 0.5 * abs(v[-1] - v[0]) / (v.size - 1)
    return [float(min(v[0], v[-1]) - half), float(max(v[0], v[-1]) + half)]


# ---- basins -------------------------------------------------------------------------------------

def minimum_color(k: int, lightness: float = 0.5) -> str:
    """The hue of minimum k (golden-angle steps from orange: neighbours in the list far apart)
    at a HLS lightness: darker = fewer steps to tolerance."""
    hue = ((HUE_START + GOLDEN_ANGLE * k) % 360.0) / 360.0
    r, g, b = colorsys.hls_to_rgb(hue, lightness, SATURATION)
    return "#" + "".join(f"{round(c * 255):02x}" for c in (r, g, b))


def basin_code(b: _maps.BasinMap) -> np.ndarray:
    """The heatmap's z of a basin map: minimum k (count m) -> k + SPAN·t, where t = steps to
    tolerance / steps (1 if it never got within tolerance); not converged -> m + 1/2;
    diverged -> m + 3/2. basin_colorscale(m) turns it into colours."""
    m = len(b.minima)
    t = np.where(b.steps_to_tolerance >= 0, b.steps_to_tolerance / b.steps, 1.0)
    return np.where(b.minimum >= 0, b.minimum + SPAN * t,
                    np.where(b.minimum == _maps.DIVERGED, m + 1.5, m + 0.5)).astype(np.float64)


def basin_colorscale(m: int) -> list:
    """Colour scale over z in [0, m + 2]: per minimum its hue from dark to light, then the
    not-converged grey, then the diverged grey (zmin = 0, zmax = m + 2)."""
    total = m + 2.0
    scale = []
    for k in range(m):
        scale += [[k / total, minimum_color(k, LIGHT_FAST)],
                  [(k + SPAN) / total, minimum_color(k, LIGHT_SLOW)]]
    scale += [[m / total, NOT_CONVERGED_COLOR], [(m + SPAN) / total, NOT_CONVERGED_COLOR],
              [(m + 1) / total, DIVERGED_COLOR], [1.0, DIVERGED_COLOR]]
    return scale


def basin_figure(basin_maps, *, surface=None, template="plotly_white", width=None, height=None,
                 title=True, lang="en"):
    """Basin maps side by side (one per optimizer), one legend: which minimum each start ends
    in (a hue per minimum), how fast (lightness), not converged and diverged (two greys).
    lang: the words of the picture, "en" or "ko"."""
    lang = i18n.normalize(lang)
    items = _as_list(basin_maps, _maps.BasinMap, "basin_figure")
    surf = _surface(surface, items[0].surface)
    minima = items[0].minima
    m = len(minima)
    is_global = _global_flags(surf, m)
    labels, colors = labels_and_colors([b.settings for b in items])
    b0 = items[0]
    xr, yr = _edges_range(b0.xs, False), _edges_range(b0.ys, False)
    aspect = (yr[1] - yr[0]) / (xr[1] - xr[0])
    legend_w = 250
    margin = (60, legend_w, 96 + 44, 56)
    width, height, doms = _panels(len(items), aspect, width, height, margin)
    scale = basin_colorscale(m)
    data, annotations, layout = [], [], _base_layout(template, width, height, height, lang)
    for i, (b, label, color, (xdom, ydom)) in enumerate(zip(items, labels, colors, doms)):
        xa, ya, xk, yk = _axis_names(i)
        bx, by = _edges_range(b.xs, False), _edges_range(b.ys, False)
        equal = 0.4 <= (by[1] - by[0]) / (bx[1] - bx[0]) <= 2.5
        layout[xk], layout[yk] = _axes(bx, by, xdom, ydom, xa, ya, equal)
        data.append(dict(
            type="heatmap", x=b.xs, y=b.ys, z=basin_code(b), xaxis=xa, yaxis=ya, zmin=0.0,
            zmax=m + 2.0, colorscale=scale, showscale=False, zsmooth=False, name=label,
            customdata=np.stack([b.minimum, b.steps_to_tolerance, b.diverged_at], axis=-1),
            hovertemplate=f"<b>{label}</b><br>start (%{{x:.3f}}, %{{y:.3f}})<br>minimum "
                          "%{customdata[0]} (-1: none, -2: diverged)<br>steps to tolerance "
                          "%{customdata[1]}<extra></extra>"))
        data += _minima_traces(minima, is_global, xa, ya, legend=(i == 0), size=0.85, lang=lang)
        diverged = int(b.diverged.sum())
        status = (i18n.t("mapfig.steps", lang, steps=b.steps) +
                  (" · " + i18n.t("mapfig.n_diverged", lang, n=diverged) if diverged else ""))
        detail = " · ".join(p for p in (_describe(b.settings, lang=lang), status) if p)
        annotations.append(_panel_title(label, color, detail, (xdom[0] + xdom[1]) / 2, ydom[1]))
    # the legend: minima hues (at their middle shade), then the two greys
    if m <= LEGEND_MINIMA:
        for k, (x, y) in enumerate(minima):
            data.append(_legend_swatch(i18n.t("map.ends_at", lang, x=f"{x:.3g}", y=f"{y:.3g}"),
                                       minimum_color(k, LEGEND_LIGHT), rank=10 + k))
    else:
        data.append(_legend_swatch(i18n.t("mapfig.ends_at_a_minimum", lang, m=m),
                                   minimum_color(0, 0.5), rank=10))
    data.append(_legend_swatch(i18n.t("mapfig.not_converged", lang, steps=b0.steps),
                               NOT_CONVERGED_COLOR, rank=900))
    data.append(_legend_swatch(i18n.t("map.diverged", lang), DIVERGED_COLOR, rank=901))
    subtitle = i18n.t("mapfig.basin_subtitle", lang, tolerance=f"{b0.tolerance:g}")
    heading = f"<b>{_surface_title(surf, lang)}</b>: " + i18n.t("mapfig.basin_title", lang)
    layout.update(
        title=_title(heading, subtitle) if title else None,
        margin=dict(l=margin[0], r=margin[1], t=margin[2], b=margin[3]),
        legend=dict(x=1.0, xanchor="left", y=1.0, yanchor="top", xref="paper",
                    font=dict(size=13), traceorder="normal", bgcolor="rgba(255,255,255,0)",
                    itemclick=False, itemdoubleclick=False),
        showlegend=True, annotations=annotations)
    return _figure(data, layout, [])


# ---- hyperparameter maps ------------------------------------------------------------------------

def _param_label(optimizer, param, lang="en"):
    if param == "lr":
        return i18n.t("fig.learning_rate", lang)
    label = OPTIMIZERS[optimizer].param(param).label or param
    if lang != "en":                    # the sidebar's words for it (optiviz.widgets)
        for key in (f"hyper.{optimizer}.{param}.label", f"hyper.{param}.label"):
            if i18n.has(key):
                return i18n.t(key, lang)
    return label


def hyper_z(h: _maps.HyperMap, metric: str, surface) -> np.ndarray:
    """The heatmap's z: log10 of the final loss as the race's loss axis plots it (loss, or
    loss − f_min + tiny where f_min < 0; a loss of exactly 0 -> -300), or the steps to
    tolerance; NaN where diverged (and, for steps, where it never got within tolerance)."""
    if metric == "steps":
        return np.where(h.steps_to_tolerance >= 0, h.steps_to_tolerance, np.nan).astype(float)
    axis = LossAxis(surface, [])
    y = axis.y(h.final_loss)
    with np.errstate(all="ignore"):
        z = np.log10(np.maximum(y, 1e-300))
    return np.where(h.diverged | ~np.isfinite(h.final_loss), np.nan, z)


def hyper_figure(hyper_maps, *, metric="loss", surface=None, template="plotly_white", width=None,
                 height=None, title=True, lang="en"):
    """Hyperparameter maps side by side, one colour axis shared by every panel (so they compare
    fairly): the final loss on a log scale (metric "loss") or the steps to tolerance ("steps").
    Diverged cells are grey (and crossed when there are few enough), the best cell
    (HyperMap.best_cell) is starred, axes are log where the setting lives on one. lang: the
    words of the picture, "en" or "ko"."""
    lang = i18n.normalize(lang)
    if metric not in ("loss", "steps"):
        raise ValueError(f"metric must be 'loss' or 'steps', got {metric!r:.40}")
    items = _as_list(hyper_maps, _maps.HyperMap, "hyper_figure")
    surf = _surface(surface, items[0].surface)
    labels, colors = labels_and_colors([h.settings for h in items])
    zs = [hyper_z(h, metric, surf) for h in items]
    finite = np.concatenate([z[np.isfinite(z)] for z in zs])
    if metric == "loss":
        hi = float(finite.max()) if finite.size else 0.0
        lo = max(float(finite.min()), hi - LOG_DECADES) if finite.size else -1.0
        if not hi > lo:
            lo, hi = lo - 0.5, hi + 0.5
        ticks = list(range(math.ceil(lo), math.floor(hi) + 1))
        step = max(1, math.ceil(len(ticks) / 8))
        ticks = ticks[::step]
        colorbar = dict(title=dict(text=i18n.t("mapfig.final_loss" if surf.f_min >= 0 else
                                               "mapfig.final_loss_shifted", lang), side="right"),
                        tickvals=ticks, ticktext=[f"10<sup>{t}</sup>" for t in ticks])
    else:
        lo, hi = 0.0, float(max(h.steps for h in items))
        colorbar = dict(title=dict(text=i18n.t("mapfig.steps_within", lang,
                                               tolerance=f"{items[0].tolerance:g}"),
                                   side="right"))
    colorbar.update(len=0.9, y=0.5, yanchor="middle", thickness=16, x=1.0, xanchor="left",
                    xpad=16, outlinewidth=0, tickfont=dict(size=12))
    margin = (76, 130, 96 + 44, 110)
    width, height, doms = _panels(len(items), 0.85, width, height, margin, gap_px=(80, 110))
    data, annotations, layout = [], [], _base_layout(template, width, height, height, lang)
    marks_shown = never_shown = False
    for i, (h, z, label, color, (xdom, ydom)) in enumerate(zip(items, zs, labels, colors, doms)):
        xa, ya, xk, yk = _axis_names(i)
        xlog, ylog = h.scale_x == "log", h.scale_y == "log"
        layout[xk], layout[yk] = _axes(
            _edges_range(h.values_x, xlog), _edges_range(h.values_y, ylog), xdom, ydom, xa, ya,
            False, _param_label(h.settings["optimizer"], h.param_x, lang),
            _param_label(h.settings["optimizer"], h.param_y, lang), xlog, ylog)
        what = "log₁₀ final loss" if metric == "loss" else "steps"
        data.append(dict(
            type="heatmap", x=h.values_x, y=h.values_y, z=z, xaxis=xa, yaxis=ya,
            coloraxis="coloraxis", zsmooth=False, name=label,
            customdata=np.stack([h.final_loss, h.steps_to_tolerance, h.diverged_at], axis=-1),
            hovertemplate=f"<b>{label}</b><br>{h.param_x} = %{{x:.4g}}<br>{h.param_y} = "
                          f"%{{y:.4g}}<br>{what} %{{z:.3g}}<br>final loss %{{customdata[0]:.4g}}"
                          "<br>steps to tolerance %{customdata[1]}<extra></extra>"))
        gy, gx = np.nonzero(h.diverged)
        if gx.size:
            data.append(dict(
                type="heatmap", x=h.values_x, y=h.values_y,
                z=np.where(h.diverged, 1.0, np.nan), xaxis=xa, yaxis=ya, zmin=0, zmax=1,
                colorscale=[[0, DIVERGED_COLOR], [1, DIVERGED_COLOR]], showscale=False,
                zsmooth=False, name=f"{label} diverged", hoverinfo="skip"))
            if gx.size <= MARK_LIMIT:
                cell = min(max(250.0 / max(h.values_x.size, h.values_y.size), 3.0), 10.0)
                data.append(dict(
                    type="scatter", mode="markers", x=h.values_x[gx], y=h.values_y[gy],
                    xaxis=xa, yaxis=ya, name=i18n.t("map.diverged", lang), legendgroup="diverged",
                    showlegend=False, hovertemplate="diverged<extra></extra>",
                    marker=dict(symbol="x-thin", size=cell, color=MUTED,
                                line=dict(color=MUTED, width=1))))
                marks_shown = True
        if metric == "steps":
            never = ~h.diverged & (h.steps_to_tolerance < 0)
            if never.any():
                never_shown = True
                data.append(dict(
                    type="heatmap", x=h.values_x, y=h.values_y, z=np.where(never, 1.0, np.nan),
                    xaxis=xa, yaxis=ya, zmin=0, zmax=1,
                    colorscale=[[0, NOT_CONVERGED_COLOR], [1, NOT_CONVERGED_COLOR]],
                    showscale=False, zsmooth=False, name=f"{label} never", hoverinfo="skip"))
        best = h.best_cell()
        detail = _describe(h.settings, skip=(h.param_x, h.param_y), lang=lang)
        if best is not None:
            iy, ix = best
            bx, by = float(h.values_x[ix]), float(h.values_y[iy])
            data.append(dict(
                type="scatter", mode="markers", x=[bx], y=[by], xaxis=xa, yaxis=ya,
                name=i18n.t("mapfig.best_cell", lang), legendgroup="best", showlegend=False,
                cliponaxis=False,
                marker=dict(symbol="star", size=20, color=color, line=dict(color="white",
                                                                           width=2)),
                hovertemplate=f"<b>best: {label}</b><br>{h.param_x} = %{{x:.4g}}<br>"
                              f"{h.param_y} = %{{y:.4g}}<extra></extra>"))
            steps = int(h.steps_to_tolerance[iy, ix])
            result = (i18n.t("mapfig.steps", lang, steps=steps) if steps >= 0 else
                      i18n.t("fig.final_loss", lang, loss=f"{float(h.final_loss[iy, ix]):.3g}"))
            best_text = i18n.t("mapfig.best", lang, x_param=h.param_x, x=f"{bx:.3g}",
                               y_param=h.param_y, y=f"{by:.3g}", result=result)
        else:
            best_text = i18n.t("mapfig.every_cell_diverged", lang)
        detail = " · ".join(p for p in (detail, best_text) if p)
        annotations.append(_panel_title(label, color, detail, (xdom[0] + xdom[1]) / 2, ydom[1]))
    if any(h.best_cell() is not None for h in items):
        data.append(_legend_swatch(i18n.t("mapfig.best_cell", lang),
                                   colors[0] if len(items) == 1 else "white",
                                   symbol="star", size=18, rank=10,
                                   line=dict(color=INK if len(items) > 1 else "white",
                                             width=1.5)))
    data.append(_legend_swatch(i18n.t("map.diverged", lang), DIVERGED_COLOR, rank=20))
    if never_shown:
        data.append(_legend_swatch(i18n.t("mapfig.never_within", lang,
                                          tolerance=f"{items[0].tolerance:g}"),
                                   NOT_CONVERGED_COLOR, rank=21))
    sx, sy = items[0].start
    what = i18n.t("mapfig.what_loss" if metric == "loss" else "mapfig.what_steps", lang)
    subtitle = (i18n.t("mapfig.hyper_subtitle", lang, x=f"{sx:.3g}", y=f"{sy:.3g}",
                       steps=items[0].steps, what=what)
                + (i18n.t("mapfig.crossed", lang) if marks_shown else ""))
    heading = f"<b>{_surface_title(surf, lang)}</b>: " + i18n.t("mapfig.hyper_title", lang)
    layout.update(
        title=_title(heading, subtitle) if title else None,
        margin=dict(l=margin[0], r=margin[1], t=margin[2], b=margin[3]),
        coloraxis=dict(colorscale="Viridis", cmin=lo, cmax=hi, colorbar=colorbar),
        # under the panels' axis titles
        legend=dict(orientation="h", x=0.0, xanchor="left", yanchor="top",
                    y=-(76.0 / max(height - margin[2] - margin[3], 1)), font=dict(size=13),
                    bgcolor="rgba(255,255,255,0)", traceorder="normal", itemclick=False,
                    itemdoubleclick=False),
        showlegend=True, annotations=annotations)
    return _figure(data, layout, [])


# ---- noise ensembles ----------------------------------------------------------------------------

def _hull(points: np.ndarray) -> np.ndarray:
    """Convex hull of a few points, counter-clockwise (Andrew's monotone chain): every band
    polygon winds the same way, so overlapping ones fill once (SVG's nonzero rule)."""
    pts = sorted(set(map(tuple, points.tolist())))
    if len(pts) <= 2:
        return np.asarray(pts)

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.asarray(lower[:-1] + upper[:-1])


def band_polygons(lo: np.ndarray, hi: np.ndarray, segments: int = MAX_BAND_SEGMENTS):
    """The region swept by the box [lo_x, hi_x] x [lo_y, hi_y] (per-step quantiles of the runs'
    x and y) as it moves from step to step: the hull of consecutive boxes, for at most
    `segments` pairs of steps, as x and y lists with None between polygons (one plotly trace)."""
    ok = np.isfinite(lo).all(axis=1) & np.isfinite(hi).all(axis=1)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return [], []
    if idx.size > segments + 1:
        idx = idx[np.unique(np.round(np.linspace(0, idx.size - 1, segments + 1)).astype(int))]
    xs, ys = [], []
    pairs = list(zip(idx[:-1], idx[1:])) if idx.size > 1 else [(idx[0], idx[0])]
    for a, b in pairs:
        corners = np.array([[lo[a, 0], lo[a, 1]], [hi[a, 0], lo[a, 1]], [hi[a, 0], hi[a, 1]],
                            [lo[a, 0], hi[a, 1]], [lo[b, 0], lo[b, 1]], [hi[b, 0], lo[b, 1]],
                            [hi[b, 0], hi[b, 1]], [lo[b, 0], hi[b, 1]]])
        poly = _hull(corners)
        if len(poly) < 3:
            continue
        xs += poly[:, 0].tolist() + [float(poly[0, 0]), None]
        ys += poly[:, 1].tolist() + [float(poly[0, 1]), None]
    return xs, ys


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


BANDS = ((0.1, 0.9, 0.22, "10–90 % of runs"), (0.25, 0.75, 0.4, "25–75 % of runs"))
BAND_KEYS = {0.1: "mapfig.band_80", 0.25: "mapfig.band_50"}     # the bands' names in a catalog


def ensemble_figure(ensembles, *, surface=None, template="plotly_white", width=None,
                    height=None, title=True, lang="en"):
    """Noise ensembles (one per optimizer): on the surface image the median path and the bands
    swept by the 10-90 % and 25-75 % boxes of the runs' positions; beside it the loss per step,
    its median and the same quantile bands (log where the race's loss axis is). lang: the words
    of the picture, "en" or "ko"."""
    lang = i18n.normalize(lang)
    bands = [(lo, hi, alpha, i18n.t(BAND_KEYS[lo], lang)) for lo, hi, alpha, _ in BANDS]
    items = _as_list(ensembles, _maps.Ensemble, "ensemble_figure")
    surf = _surface(surface, items[0].surface)
    labels, colors = labels_and_colors([e.settings for e in items])
    width = width or 1100
    height = height or 620
    (x0, x1), (y0, y1) = surf.bounds
    margin = dict(l=60, r=24, t=96 + 22 * math.ceil((len(items) + 3) / 4), b=56)
    plot_w, plot_h = width - margin["l"] - margin["r"], height - margin["t"] - margin["b"]
    map_frac = min(max(plot_h * (x1 - x0) / (y1 - y0) / plot_w, 0.4), 0.62)
    gap = min(max(90.0 / plot_w, 0.08), 0.16)
    map_x, curve_x = [0.0, round(map_frac, 4)], [round(map_frac + gap, 4), 1.0]
    equal = 0.5 <= (y1 - y0) / (x1 - x0) <= 2.0
    layout = _base_layout(template, width, height, height, lang)
    layout["xaxis"], layout["yaxis"] = _axes([x0, x1], [y0, y1], map_x, [0.0, 1.0], "x", "y",
                                             equal)
    runs = [SimpleNamespace(loss=e.loss[e.band(q)], last=e.steps) for e in items
            for q in (0.1, 0.9)]
    loss_axis = LossAxis(surf, runs)
    layout["xaxis2"], layout["yaxis2"] = _axes(
        [0, max(e.steps for e in items)], loss_axis.range, curve_x, [0.0, 1.0], "x2", "y2", False,
        i18n.t("fig.step", lang), _loss_title(loss_axis, lang), ylog=loss_axis.log)
    for key in ("xaxis2", "yaxis2"):
        layout[key].update(showgrid=True, gridcolor="#e4e7eb")
    data = []
    for e, label, color in zip(items, labels, colors):
        for lo_q, hi_q, alpha, band_name in bands:
            bx, by = band_polygons(e.xy[e.band(lo_q)], e.xy[e.band(hi_q)])
            data.append(dict(type="scatter", mode="lines", x=bx, y=by, xaxis="x", yaxis="y",
                             fill="toself", fillcolor=_rgba(color, alpha), line=dict(width=0),
                             name=f"{label} {band_name}", legendgroup=label, showlegend=False,
                             hoverinfo="skip", connectgaps=False))
    for e, label, color in zip(items, labels, colors):
        med = e.median_xy
        data.append(dict(type="scatter", mode="lines", x=med[:, 0], y=med[:, 1], xaxis="x",
                         yaxis="y", name=f"{label} halo", showlegend=False, hoverinfo="skip",
                         legendgroup=label, line=dict(color=HALO, width=6.5)))
        data.append(dict(type="scatter", mode="lines", x=med[:, 0], y=med[:, 1], xaxis="x",
                         yaxis="y", name=i18n.t("mapfig.median_of", lang, label=label, k=e.k),
                         legendgroup=label,
                         line=dict(color=color, width=3),
                         hovertemplate=f"<b>{label}</b> median<br>step %{{pointNumber}}<br>"
                                       "(%{x:.3f}, %{y:.3f})<extra></extra>"))
    data += _minima_traces(surf.minima, _global_flags(surf, len(surf.minima)), "x", "y", True,
                           lang=lang)
    starts = {tuple(e.start) for e in items}
    data.append(dict(type="scatter", mode="markers", x=[s[0] for s in starts],
                     y=[s[1] for s in starts], xaxis="x", yaxis="y", name=i18n.t("fig.start", lang),
                     legendrank=1003, cliponaxis=False,
                     marker=dict(symbol="square", size=12, color="white",
                                 line=dict(color=INK, width=2.5)),
                     hovertemplate="start (%{x:.3f}, %{y:.3f})<extra></extra>"))
    for e, label, color in zip(items, labels, colors):
        steps = np.arange(e.steps + 1)
        for lo_q, hi_q, alpha, band_name in bands:
            lo = loss_axis.y(e.loss[e.band(lo_q)])
            hi = loss_axis.y(e.loss[e.band(hi_q)])
            data.append(dict(type="scatter", mode="lines", x=steps, y=lo, xaxis="x2",
                             yaxis="y2", line=dict(width=0, color=color), showlegend=False,
                             legendgroup=label, hoverinfo="skip",
                             name=f"{label} loss q{round(lo_q * 100)}"))
            data.append(dict(type="scatter", mode="lines", x=steps, y=hi, xaxis="x2",
                             yaxis="y2", line=dict(width=0, color=color), fill="tonexty",
                             fillcolor=_rgba(color, alpha), showlegend=False, legendgroup=label,
                             hoverinfo="skip", name=f"{label} loss q{round(hi_q * 100)}"))
        data.append(dict(type="scatter", mode="lines", x=steps, y=loss_axis.y(e.median_loss),
                         xaxis="x2", yaxis="y2", line=dict(color=color, width=2.5),
                         showlegend=False, legendgroup=label, name=f"{label} median loss",
                         hovertemplate=f"<b>{label}</b> median<br>step %{{x}}<br>"
                                       f"{loss_axis.title} %{{y:.4g}}<extra></extra>"))
    for lo_q, hi_q, alpha, band_name in bands:
        data.append(_legend_swatch(band_name, _rgba(colors[0] if len(items) == 1 else MUTED,
                                                    min(alpha * 1.5, 1.0)),
                                   rank=900 + int(alpha * 10), line=dict(width=0)))
    e0 = items[0]
    noises = sorted({float(e.settings["noise"]) for e in items})
    subtitle = i18n.t("mapfig.ensemble_subtitle", lang, k=e0.k, steps=e0.steps,
                      noise=", ".join(f"{n:g}" for n in noises))
    heading = f"<b>{_surface_title(surf, lang)}</b>: " + i18n.t("mapfig.ensemble_title", lang)
    layout.update(
        title=_title(heading, subtitle) if title else None,
        margin=margin, images=[surface_image(surf, 400)],
        legend=dict(orientation="h", x=0.0, xanchor="left", y=1.0, yanchor="bottom",
                    font=dict(size=FONT_SIZE), bgcolor="rgba(255,255,255,0)",
                    traceorder="normal", itemclick=False, itemdoubleclick=False),
        showlegend=True)
    return _figure(data, layout, [])
