"""The surface as a picture: its display scale, colour map, level lines and the PNG image every
view draws under the paths (the race map and panels through plotly's ``layout.images``, the live
view as the same data URI, the 3-D view through the same colours and scale).

    >>> from optiviz import surface_image
    >>> entry = surface_image.surface_image(surface, 400)     # a layout.images entry
    >>> t = surface_image.scale(surface).color(f)             # f (any shape) -> colour t in [0, 1]

Pure NumPy and PIL, cached per surface (name and parameters) and resolution; no plotly here.
"""

from __future__ import annotations

import base64
import functools
import io

import numpy as np
from PIL import Image

__all__ = ["SURFACE_COLORS", "LEVELS", "LEVEL_ALPHA", "EQUALIZE", "Scale", "scale",
           "colormap", "colorscale", "surface_image"]

# The surface's colour map, low to high: deep slate valleys up to warm paper-white heights. It is
# muted (low saturation) on purpose: the saturated run colours of scene.PALETTE, each drawn with a
# white halo, stand out on every part of it, and the dark valleys read from the back of a room.
SURFACE_COLORS = ("#14213d", "#243c66", "#36628a", "#5e8f9a", "#98b9ad", "#d3ddc6", "#f6f3e7",
                  "#fffdf8")
LEVELS = 15                 # level lines drawn into the image, equally spaced in colour
LEVEL_ALPHA = 0.33          # their strength
EQUALIZE = 0.5              # 0: colour linear in (log) value; 1: histogram-equalized


def _hex_rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return tuple(int(color[i:i + 2], 16) for i in (0, 2, 4))


def colormap(t: np.ndarray) -> np.ndarray:
    """t in [0, 1] (any shape) -> float RGB 0-255, shape (..., 3)."""
    stops = np.array([_hex_rgb(c) for c in SURFACE_COLORS], dtype=np.float64)
    pos = np.linspace(0.0, 1.0, len(stops))
    return np.stack([np.interp(t, pos, stops[:, k]) for k in range(3)], axis=-1)


def colorscale() -> list:
    """The surface colour map as a plotly colorscale (for go.Surface and the live 3-D view)."""
    pos = np.linspace(0.0, 1.0, len(SURFACE_COLORS))
    return [[float(p), c] for p, c in zip(pos, SURFACE_COLORS)]


def _surface_key(surface) -> tuple:
    return (surface.name, tuple(sorted(surface.params.items())))


class Scale:
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
def _scale_cached(key) -> Scale:
    import landscapes

    name, params = key
    return Scale(landscapes.get(name, **dict(params)))


def scale(surface) -> Scale:
    """The surface's Scale, cached per surface (name and parameters)."""
    try:
        return _scale_cached(_surface_key(surface))
    except (ValueError, TypeError):             # a Landscape built some other way
        return Scale(surface)


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
    t = scale(surface).color(surface.f(np.stack([gx, gy], axis=-1)))
    rgb = colormap(t)
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
