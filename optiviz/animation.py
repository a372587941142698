"""The race as an animated GIF or MP4 that looks like the app's view.

Rendering every frame through a browser costs about half a second a frame. Instead, from the
scene's one record (``scene_record.of``):

1. The race figure's still background (``figures.race_figure(record, step=0, frames=0,
   moving=False)``: the figure without what moves) is laid out with FIXED pixel geometry
   (explicit size and margins, no automargin, the map's equal aspect set through its domain),
   so where any data coordinate lands in the picture is known exactly (``Geometry``).
2. That background (surface image, the faint dotted paths ahead, legend, title, caption, axes,
   the loss and lr curves) is rendered ONCE: by kaleido (the same plotly.js as the app) when a
   browser is installed, else drawn with PIL alone.
3. Per frame, PIL draws what moves, from the record's runs and in the figure's own styles (the
   trace dicts of ``figures.path_lines``, ``landmark_traces``, ``end_trace`` and
   ``moving_traces``): each path up to step k over its white halo, the start and minima above
   them, an X where a run has diverged, the heads, the step cursors of the loss and lr panels
   and the counter "step k / N". Moving parts are drawn supersampled and downsampled
   (antialiased). Nothing is identified by its trace name.

    >>> frames = Animation(result, frames=100)          # then .frames() yields PIL images
    >>> gif = gif_bytes(result, frames=100, fps=20, progress=lambda f, msg: print(f, msg))
"""

from __future__ import annotations

import base64
import copy
import html
import io
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFont

from . import figures, i18n, scene_record

__all__ = ["Animation", "Geometry", "gif_bytes", "mp4_bytes", "write_mp4", "MAX_FRAMES",
           "MAX_FPS", "ANIMATION_SIZE"]

log = logging.getLogger(__name__)

MAX_FRAMES = 1000
MAX_FPS = 50                 # GIF delays below 20 ms are slowed down to 100 ms by browsers
MAX_PIXELS = 4096 * 4096     # one frame, after scaling
MAX_GIF_PIXELS = 500_000_000  # all of a GIF's frames (Pillow holds them until the end)
ANIMATION_SIZE = (1100, 660)
FONT_FAMILY = ("LiberationSans", "Arial", "DejaVuSans")   # what Chromium draws plotly's text in
_FONT_DIRS = ("/usr/share/fonts/truetype/liberation", "/usr/share/fonts/truetype/dejavu",
              "/usr/share/fonts/TTF", "/usr/share/fonts/truetype", "/Library/Fonts",
              "C:/Windows/Fonts")
# Hangul (and any other wide character): a font that has it, Noto Sans CJK KR first (Debian:
# fonts-noto-cjk). Found with fontconfig (fc-list :lang=ko), else by these names in these places.
CJK_FAMILIES = ("Noto Sans CJK KR", "Noto Sans KR", "Source Han Sans KR", "NanumGothic",
                "Noto Sans CJK JP", "Noto Sans CJK SC", "Malgun Gothic", "AppleGothic")
_CJK_FILES = ("NotoSansCJK-{w}.ttc", "NotoSansCJKkr-{w}.otf", "NotoSansKR-{w}.otf",
              "NotoSansKR-{w}.ttf", "SourceHanSansKR-{w}.otf", "NanumGothic{b}.ttf",
              "malgun{bd}.ttf", "AppleGothic.ttf")
_CJK_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/noto-cjk",
             "/usr/share/fonts/google-noto-cjk", "/usr/share/fonts/opentype/noto-cjk",
             "/usr/share/fonts/truetype/nanum", "/usr/share/fonts/OTF", "/usr/share/fonts/TTF",
             "/Library/Fonts", "/System/Library/Fonts", "C:/Windows/Fonts")


# --------------------------------------------------------------------------------------------
# Colours, fonts


def _rgba(color, opacity: float = 1.0) -> tuple[int, int, int, int] | None:
    """A plotly colour ('#rrggbb', 'rgb(...)', 'rgba(r,g,b,a)' with a in 0-1, a CSS name)."""
    if color is None:
        return None
    text = str(color).strip()
    m = re.fullmatch(r"rgba?\(([^)]*)\)", text.replace(" ", ""))
    if m:
        parts = [float(p.rstrip("%")) for p in m.group(1).split(",")]
        r, g, b = parts[:3]
        a = parts[3] if len(parts) > 3 else 1.0
    else:
        try:
            r, g, b = ImageColor.getrgb(text)[:3]
        except ValueError:
            r, g, b = 68, 68, 68
        a = 1.0
    a = min(max(a * opacity, 0.0), 1.0)
    return (int(round(r)), int(round(g)), int(round(b)), int(round(255 * a)))


_font_cache: dict = {}


def _fc_list_korean() -> list[tuple[str, str, str]]:
    """(file, family, style) of every font fontconfig says covers Korean; [] without it."""
    exe = shutil.which("fc-list")
    if not exe:
        return []
    try:
        out = subprocess.run([exe, ":lang=ko", "file", "family", "style"], capture_output=True,
                             text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    fonts = []
    for line in out.splitlines():
        path, _, rest = line.partition(": ")
        family, _, style = rest.partition(":style=")
        fonts.append((path.strip(), family, style))
    return fonts


def _face_index(path: str, family: str) -> int:
    """The face of a font collection (.ttc) whose family is `family` (0 if none or not one)."""
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    for index in range(16):
        try:
            name = ImageFont.truetype(path, 12, index=index).getname()[0]
        except OSError:
            break
        if name == family:
            return index
    return 0


@lru_cache(maxsize=None)
def cjk_font_file(bold: bool = False) -> tuple[str, int] | None:
    """(path, face index) of a font with Hangul, bold or regular, or None when none is
    installed (then Korean text is drawn as boxes: install fonts-noto-cjk)."""
    weight = "Bold" if bold else "Regular"
    fonts = _fc_list_korean()
    for family in CJK_FAMILIES:
        found = [(p, s) for p, fam, s in fonts if family in fam.split(",") and os.path.isfile(p)]
        found.sort(key=lambda ps: (weight not in ps[1], "Serif" in ps[0], ps[0]))
        if found:
            return found[0][0], _face_index(found[0][0], family)
    for pattern in _CJK_FILES:
        name = pattern.format(w=weight, b="Bold" if bold else "", bd="bd" if bold else "")
        for folder in _CJK_DIRS:
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                return path, _face_index(path, "Noto Sans CJK KR")
    return None


def needs_cjk(text) -> bool:
    """Whether `text` has a wide (Hangul, CJK) character the Latin fonts lack."""
    return any(unicodedata.east_asian_width(ch) in "WF" for ch in str(text))


def _font_for(text, size_px: float, bold: bool = False):
    """The font to draw `text` in: a CJK one when it has Hangul, else the usual one."""
    return _font(size_px, bold, cjk=needs_cjk(text))


def _font(size_px: float, bold: bool = False, cjk: bool = False):
    """A TrueType font of about `size_px` pixels (plotly's font size is in px); cjk: one with
    Hangul (cjk_font_file), falling back to the usual fonts when none is installed."""
    size = max(int(round(size_px)), 6)
    key = (size, bold, cjk)
    if key in _font_cache:
        return _font_cache[key]
    found = (cjk_font_file(bold) or cjk_font_file(False)) if cjk else None
    if found is not None:
        try:
            font = ImageFont.truetype(found[0], size, index=found[1])
        except OSError:
            font = None
        if font is not None:
            _font_cache[key] = font
            return font
    names = []
    for family in FONT_FAMILY:
        if family == "LiberationSans":
            names.append("LiberationSans-Bold.ttf" if bold else "LiberationSans-Regular.ttf")
        elif family == "Arial":
            names.append("arialbd.ttf" if bold else "arial.ttf")
        else:
            names.append(f"{family}-Bold.ttf" if bold else f"{family}.ttf")
    font = None
    for name in names:
        for folder in _FONT_DIRS:
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                try:
                    font = ImageFont.truetype(path, size)
                    break
                except OSError:
                    continue
        if font is not None:
            break
    if font is None:
        try:
            font = ImageFont.truetype(names[-1], size)          # on the font path somewhere
        except OSError:
            font = ImageFont.load_default(size)
    _font_cache[key] = font
    return font


# --------------------------------------------------------------------------------------------
# Geometry: where data coordinates land in the picture


@dataclass(frozen=True)
class _Axis:
    offset: float           # px of the axis start (left edge for x, top edge for y)
    length: float           # px
    r0: float               # range (log10 units on a log axis)
    r1: float
    log: bool
    vertical: bool

    def px(self, values) -> np.ndarray:
        v = np.asarray(values, dtype=np.float64)
        if self.log:
            with np.errstate(all="ignore"):
                v = np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan)
        u = (v - self.r0) / (self.r1 - self.r0)
        if self.vertical:
            return self.offset + (1.0 - u) * self.length
        return self.offset + u * self.length


@dataclass(frozen=True)
class Geometry:
    """Pixel geometry of a figure laid out by ``fix_layout`` (in CSS px, before `scale`)."""

    width: int
    height: int
    margin: tuple            # l, r, t, b
    axes: dict               # "x", "y", "x2", ... -> _Axis

    def subplot_box(self, xa: str, ya: str) -> tuple[float, float, float, float]:
        x, y = self.axes[xa], self.axes[ya]
        return (x.offset, y.offset, x.offset + x.length, y.offset + y.length)

    def to_px(self, xa: str, ya: str, xs, ys) -> np.ndarray:
        """(n, 2) pixel coordinates, NaN where a value is missing or not plottable."""
        xs = np.array([np.nan if v is None else v for v in np.ravel(xs)], dtype=np.float64)
        ys = np.array([np.nan if v is None else v for v in np.ravel(ys)], dtype=np.float64)
        return np.stack([self.axes[xa].px(xs), self.axes[ya].px(ys)], axis=-1)


def _axis_keys(layout: dict) -> list[str]:
    return sorted(k for k in layout if re.fullmatch(r"[xy]axis\d*", k))


def _short(key: str) -> str:
    """'xaxis2' -> 'x2', 'yaxis' -> 'y'."""
    return key.replace("axis", "")


def fix_layout(layout: dict, width: int, height: int) -> Geometry:
    """Make `layout` (a figure's layout dict, changed in place) lay out deterministically at
    width x height px and return its Geometry: margins stay as given (no automargin, no
    autoexpand), every axis keeps an explicit range, and an axis pair tied by ``scaleanchor``
    (the map's equal aspect) gets that aspect through a narrowed domain instead."""
    layout["width"], layout["height"] = int(width), int(height)
    margin = dict(layout.get("margin") or {})
    l, r = int(round(margin.get("l", 80))), int(round(margin.get("r", 80)))
    t, b = int(round(margin.get("t", 100))), int(round(margin.get("b", 80)))
    margin.update(l=l, r=r, t=t, b=b, pad=0, autoexpand=False)
    layout["margin"] = margin
    plot_w, plot_h = int(width) - l - r, int(height) - t - b
    if plot_w < 50 or plot_h < 50:
        raise ValueError(f"{width} x {height} px leaves no room for the plot; make it larger")
    keys = _axis_keys(layout)
    for key in keys:
        axis = layout[key] = dict(layout[key])
        axis["automargin"] = False
        axis.setdefault("domain", [0.0, 1.0])
        if axis.get("range") is None:
            raise ValueError(f"layout.{key} has no fixed range; cannot animate it")
    for key in keys:
        axis = layout[key]
        anchor = axis.pop("scaleanchor", None)
        ratio = float(axis.pop("scaleratio", 1.0) or 1.0)
        if not anchor or not key.startswith("y"):
            continue
        xkey = "xaxis" + anchor[1:]
        xaxis = layout.get(xkey)
        if xaxis is None:
            continue
        (xd0, xd1), (yd0, yd1) = xaxis["domain"], axis["domain"]
        (xr0, xr1), (yr0, yr1) = xaxis["range"], axis["range"]
        per_x = abs(xr1 - xr0) / (plot_w * (xd1 - xd0))         # data units per px
        per_y = abs(yr1 - yr0) / (plot_h * (yd1 - yd0)) / ratio
        if per_x < per_y:          # x has px to spare: narrow x around its centre
            span = (xd1 - xd0) * per_x / per_y
            mid = (xd0 + xd1) / 2
            xaxis["domain"] = [mid - span / 2, mid + span / 2]
        else:
            span = (yd1 - yd0) * per_y / per_x
            mid = (yd0 + yd1) / 2
            axis["domain"] = [mid - span / 2, mid + span / 2]
    for key in keys:
        layout[key].pop("constrain", None)
        layout[key].pop("constraintoward", None)
        layout[key].pop("scaleanchor", None)
        layout[key].pop("matches", None)
    axes = {}
    for key in keys:
        axis = layout[key]
        d0, d1 = (float(v) for v in axis["domain"])
        r0, r1 = (float(v) for v in axis["range"])
        log = axis.get("type") == "log"
        if key.startswith("x"):
            axes[_short(key)] = _Axis(l + d0 * plot_w, (d1 - d0) * plot_w, r0, r1, log, False)
        else:
            axes[_short(key)] = _Axis(t + (1.0 - d1) * plot_h, (d1 - d0) * plot_h, r0, r1, log,
                                      True)
    return Geometry(int(width), int(height), (l, r, t, b), axes)


# --------------------------------------------------------------------------------------------
# Drawing plotly scatter styles with PIL, supersampled


def _clip_segments(p: np.ndarray, box) -> list[np.ndarray]:
    """Polyline p (n, 2; NaN rows are gaps) clipped to box (x0, y0, x1, y1) -> list of
    polylines (Liang-Barsky on every segment, vectorised)."""
    if len(p) < 2:
        return []
    a, b = p[:-1], p[1:]
    ok = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    d = b - a
    x0, y0, x1, y1 = box
    t0 = np.zeros(len(a))
    t1 = np.ones(len(a))
    with np.errstate(all="ignore"):
        for pk, qk in ((-d[:, 0], a[:, 0] - x0), (d[:, 0], x1 - a[:, 0]),
                       (-d[:, 1], a[:, 1] - y0), (d[:, 1], y1 - a[:, 1])):
            parallel = pk == 0
            ok &= ~(parallel & (qk < 0))
            r = np.where(parallel, 0.0, qk / np.where(parallel, 1.0, pk))
            t0 = np.where(~parallel & (pk < 0), np.maximum(t0, r), t0)
            t1 = np.where(~parallel & (pk > 0), np.minimum(t1, r), t1)
    ok &= t0 <= t1
    start = a + t0[:, None] * d
    end = a + t1[:, None] * d
    idx = np.flatnonzero(ok)
    if not idx.size:
        return []
    # a segment continues the previous line when both are whole at the point they share
    cont = np.zeros(idx.size, dtype=bool)
    cont[1:] = (idx[1:] == idx[:-1] + 1) & (t1[idx[:-1]] == 1.0) & (t0[idx[1:]] == 0.0)
    starts = np.flatnonzero(~cont).tolist() + [idx.size]
    return [np.vstack([start[idx[b]][None, :], end[idx[b:e]]])
            for b, e in zip(starts[:-1], starts[1:])]


def _thin(p: np.ndarray, min_px: float) -> np.ndarray:
    """Drop points closer than min_px to the previous kept one (keeps both ends)."""
    if len(p) <= 2:
        return p
    step = np.hypot(*np.diff(p, axis=0).T)
    if np.all(step >= min_px):
        return p
    keep = [0]
    acc = 0.0
    for i, s in enumerate(step, start=1):
        acc += s
        if acc >= min_px:
            keep.append(i)
            acc = 0.0
    if keep[-1] != len(p) - 1:
        keep.append(len(p) - 1)
    return p[keep]


def _dashes(p: np.ndarray, on: float, off: float) -> list[np.ndarray]:
    """Split a polyline into dashes of `on` px separated by `off` px."""
    out, cur, pos, drawing = [], [p[0]], 0.0, True
    limit = on
    for a, b in zip(p[:-1], p[1:]):
        seg = float(np.hypot(*(b - a)))
        t = 0.0
        while seg - t > 1e-9:
            room = limit - pos
            take = min(room, seg - t)
            t += take
            pos += take
            q = a + (b - a) * (t / seg)
            if drawing:
                cur.append(q)
            if pos >= limit - 1e-9:
                if drawing:
                    out.append(np.array(cur))
                drawing = not drawing
                cur = [q]
                pos, limit = 0.0, (on if drawing else off)
    if drawing and len(cur) > 1:
        out.append(np.array(cur))
    return out


def _symbol_path(symbol: str, r: float) -> np.ndarray | None:
    """Vertices of plotly's marker symbols (plotly.js src/components/drawing/symbol_defs.js)
    for radius r = size / 2; None for the circle."""
    symbol = str(symbol or "circle").replace("-open", "")
    if symbol == "circle":
        return None
    if symbol == "square":
        return np.array([[r, r], [-r, r], [-r, -r], [r, -r]])
    if symbol == "diamond":
        rd = r * 1.3
        return np.array([[rd, 0], [0, rd], [-rd, 0], [0, -rd]])
    if symbol == "x":
        rx = r * 0.8 / math.sqrt(2)
        moves = ["ne", "se", "sw", "se", "sw", "nw", "sw", "nw", "ne", "nw", "ne"]
        step = {"ne": (rx, rx), "se": (rx, -rx), "sw": (-rx, -rx), "nw": (-rx, rx)}
        pts = [(0.0, rx)]
        for m in moves:
            dx, dy = step[m]
            pts.append((pts[-1][0] + dx, pts[-1][1] + dy))
        return np.array(pts)
    if symbol == "star":
        rs = r * 1.4
        x1, x2, x3, x4 = rs * 0.225, rs * 0.951, rs * 0.363, rs * 0.588
        y0, y1, y3, y4, y5 = -rs, rs * -0.309, rs * 0.118, rs * 0.809, rs * 0.382
        return np.array([[x1, y1], [x2, y1], [x3, y3], [x4, y4], [0, y5], [-x4, y4],
                         [-x3, y3], [-x2, y1], [-x1, y1], [0, y0]])
    if symbol == "triangle-up":
        rt = r * 2 / math.sqrt(3)
        return np.array([[-rt, r / 2], [rt, r / 2], [0, -r]])
    return None


def _downsample(image: Image.Image, ss: int, exact: bool = False) -> Image.Image:
    """Box-filter an RGBA image down by ss. Pillow premultiplies RGBA for that (exact for any
    colour next to transparency, 4x slower); on layers that start transparent white, where
    what borders transparency is white, averaging the bands one by one gives the same."""
    if ss <= 1:
        return image
    if exact:
        return image.reduce(ss)
    return Image.merge("RGBA", [band.reduce(ss) for band in image.split()])


class _Layer:
    """A transparent supersampled layer over `box` of the picture (CSS px, before scale); lines
    are clipped to `clip` (the subplot; None: the layer), markers show only inside it.

    The layer starts transparent WHITE: what borders transparency is white in this figure (the
    halos, the markers' outlines), so downsampling straight RGBA gives clean antialiased edges
    without premultiplying."""

    def __init__(self, box, scale: float, ss: int, clip=None, exact: bool = False):
        self.scale, self.ss, self.exact = scale, ss, exact
        self.f = scale * ss
        x0, y0, x1, y1 = box
        self.left, self.top = int(math.floor(x0 * scale)), int(math.floor(y0 * scale))
        right, bottom = int(math.ceil(x1 * scale)), int(math.ceil(y1 * scale))
        self.size = (max(right - self.left, 1), max(bottom - self.top, 1))
        self.image = Image.new("RGBA", (self.size[0] * ss, self.size[1] * ss), (255, 255, 255, 0))
        self.draw = ImageDraw.Draw(self.image)
        c = clip or box
        self.clip = ((c[0] * scale - self.left) * ss, (c[1] * scale - self.top) * ss,
                     (c[2] * scale - self.left) * ss, (c[3] * scale - self.top) * ss)

    def hi(self, p: np.ndarray) -> np.ndarray:
        """px (before scale) -> layer pixels."""
        out = np.empty_like(p, dtype=np.float64)
        out[..., 0] = (p[..., 0] * self.scale - self.left) * self.ss
        out[..., 1] = (p[..., 1] * self.scale - self.top) * self.ss
        return out

    def polyline(self, p: np.ndarray, color, width: float, dash=None, caps=True):
        """Draw a polyline (n, 2 px; NaN rows are gaps); returns the touched box in layer
        pixels (x0, y0, x1, y1) or None."""
        rgba = _rgba(color)
        if rgba is None or rgba[3] == 0 or width <= 0:
            return None
        p = self.hi(p)
        w = width * self.f
        pieces = _clip_segments(p, self.clip)
        if dash in ("dot", "dash", "longdash", "dashdot"):
            unit = max(width, 3.0) * self.f
            on, off = {"dot": (1, 1), "dash": (3, 3), "longdash": (5, 5),
                       "dashdot": (3, 2)}[dash]
            pieces = [d for piece in pieces for d in _dashes(piece, on * unit, off * unit)]
            caps = False
        touched = None
        iw = max(int(round(w)), 1)
        r = w / 2
        for piece in pieces:
            piece = _thin(piece, max(w * 0.2, 0.75))
            if len(piece) < 2:
                continue
            coords = [tuple(q) for q in piece.tolist()]
            self.draw.line(coords, fill=rgba, width=iw,
                           joint="curve" if w >= 3 and len(coords) > 2 else None)
            if caps and w >= 3:                         # round caps, as plotly's lines look
                for q in (coords[0], coords[-1]):
                    self.draw.ellipse((q[0] - r, q[1] - r, q[0] + r, q[1] + r), fill=rgba)
            lo, hi = piece.min(axis=0) - w, piece.max(axis=0) + w
            box = (lo[0], lo[1], hi[0], hi[1])
            touched = box if touched is None else (min(touched[0], box[0]),
                                                   min(touched[1], box[1]),
                                                   max(touched[2], box[2]),
                                                   max(touched[3], box[3]))
        return touched

    def marker(self, center, symbol, size, fill, line_color=None, line_width=0.0, clip=True):
        c = self.hi(np.asarray(center, dtype=np.float64))
        if not np.isfinite(c).all() or size <= 0:
            return
        x0, y0, x1, y1 = self.clip
        if clip and not (x0 <= c[0] <= x1 and y0 <= c[1] <= y1):
            return
        r = size / 2 * self.f
        lw = line_width * self.f
        fill, line = _rgba(fill), _rgba(line_color)
        path = _symbol_path(symbol, size / 2)
        if path is None:
            if line is not None and lw > 0 and line[3] > 0:
                ro, ri = r + lw / 2, max(r - lw / 2, 0)
                self.draw.ellipse((c[0] - ro, c[1] - ro, c[0] + ro, c[1] + ro), fill=line)
                if fill is not None and ri > 0:
                    self.draw.ellipse((c[0] - ri, c[1] - ri, c[0] + ri, c[1] + ri), fill=fill)
            elif fill is not None:
                self.draw.ellipse((c[0] - r, c[1] - r, c[0] + r, c[1] + r), fill=fill)
            return
        pts = [tuple(q) for q in (path * self.f + c).tolist()]
        if fill is not None:
            self.draw.polygon(pts, fill=fill)
        if line is not None and lw > 0:
            self.draw.line(pts + [pts[0], pts[1]], fill=line, width=max(int(round(lw)), 1),
                           joint="curve")

    def small(self, box=None) -> Image.Image:
        """The layer downsampled to picture pixels (a part of it: box in picture pixels
        relative to the layer)."""
        image = self.image
        if box is not None:
            x0, y0, x1, y1 = box
            image = image.crop((x0 * self.ss, y0 * self.ss, x1 * self.ss, y1 * self.ss))
        return _downsample(image, self.ss, self.exact)

    def composite(self, frame: Image.Image):
        small = self.small()
        frame.paste(small, (self.left, self.top), small)


def _first(value, i: int = 0, default=None):
    if isinstance(value, (list, tuple, np.ndarray)):
        return value[i] if i < len(value) else default
    return default if value is None else value


def _as_css(c) -> str | None:
    return None if c is None else f"rgba({c[0]},{c[1]},{c[2]},{c[3] / 255})"


def _trace_axes(trace: dict) -> tuple[str, str]:
    return trace.get("xaxis") or "x", trace.get("yaxis") or "y"


def draw_trace(layer: _Layer, geometry: Geometry, trace: dict):
    """Draw a plotly scatter trace dict (its lines, then its markers) on a layer."""
    mode = trace.get("mode") or "lines+markers"
    xa, ya = _trace_axes(trace)
    pts = geometry.to_px(xa, ya, trace.get("x", []), trace.get("y", []))
    opacity = trace.get("opacity")
    opacity = 1.0 if opacity is None else float(opacity)
    if "lines" in mode:
        line = trace.get("line") or {}
        layer.polyline(pts, _as_css(_rgba(line.get("color") or "#444", opacity)),
                       float(line.get("width", 2.0)), dash=line.get("dash"))
    if "markers" in mode:
        marker = trace.get("marker") or {}
        m_op = marker.get("opacity")
        m_op = opacity * (1.0 if m_op is None or isinstance(m_op, (list, tuple)) else float(m_op))
        mline = marker.get("line") or {}
        for i, p in enumerate(pts):
            if not np.isfinite(p).all():
                continue
            size = float(_first(marker.get("size"), i, 6.0) or 0.0)
            fill = _rgba(_first(marker.get("color"), i, "#444"), m_op)
            lcol = _rgba(_first(mline.get("color"), i, "#444"), m_op)
            lw = float(_first(mline.get("width"), i, 0.0) or 0.0)
            layer.marker(p, marker.get("symbol", "circle"), size, _as_css(fill), _as_css(lcol),
                         lw, clip=trace.get("cliponaxis", True) is not False)


def _trace_extent(geometry: Geometry, trace: dict):
    """Box (CSS px) a trace can touch: its finite points, padded by its marker and line size."""
    xa, ya = _trace_axes(trace)
    pts = geometry.to_px(xa, ya, trace.get("x", []), trace.get("y", []))
    pts = pts[np.isfinite(pts).all(axis=1)]
    if not len(pts):
        return None
    marker = trace.get("marker") or {}
    sizes = marker.get("size", 6)
    size = max(sizes) if isinstance(sizes, (list, tuple)) and sizes else (sizes or 0)
    mline = (marker.get("line") or {}).get("width", 0) or 0
    mline = max(mline) if isinstance(mline, (list, tuple)) and mline else mline
    lw = (trace.get("line") or {}).get("width", 2) or 0
    pad = float(size) * 0.75 + float(mline) + float(lw) + 3
    lo, hi = pts.min(axis=0) - pad, pts.max(axis=0) + pad
    return (lo[0], lo[1], hi[0], hi[1])


def _intersect(a, b):
    box = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return box if box[2] > box[0] and box[3] > box[1] else None


def paint(frame: Image.Image, geometry: Geometry, trace: dict, scale: float, ss: int):
    """Draw one trace onto `frame`, antialiased, in a layer just large enough for it."""
    xa, ya = _trace_axes(trace)
    if xa not in geometry.axes or ya not in geometry.axes:
        return
    sub = geometry.subplot_box(xa, ya)
    extent = _trace_extent(geometry, trace)
    if extent is None:
        return
    box = _intersect(extent, sub) if trace.get("cliponaxis", True) is not False else extent
    if box is None:
        return
    layer = _Layer(box, scale, ss, clip=sub)
    draw_trace(layer, geometry, trace)
    layer.composite(frame)


class _Paths:
    """The runs' paths up to a step, drawn incrementally (frames go forward, so each frame
    adds a few segments). Layers as in the figure: every halo below every line, and the runs'
    lines stacked in run order (a later run's line stays above an earlier one's, whenever each
    was drawn). The downsampled composite is kept up to date where it changed.

    runs: the record's runs (scene_record.RunRecord), drawn on the map's axes in the race
    figure's line styles (figures.path_lines)."""

    def __init__(self, geometry: Geometry, scale: float, ss: int, runs):
        self.geometry, self.scale, self.ss = geometry, scale, ss
        self.runs = runs
        self.styles = [figures.path_lines(r) for r in runs]      # (halo, line) per run
        self.axes = ("x", "y")
        self.box = geometry.subplot_box(*self.axes)
        self.reset()

    def reset(self):
        self.halo = _Layer(self.box, self.scale, self.ss)
        self.lines = [_Layer(self.box, self.scale, self.ss) for _ in self.runs]
        self.small = Image.new("RGBA", self.halo.size, (255, 255, 255, 0))
        self.shown = [0] * len(self.runs)
        self.step = 0

    def advance(self, step: int):
        if step < self.step:
            self.reset()
        dirty = None
        xa, ya = self.axes
        for i, r in enumerate(self.runs):
            start, end = self.shown[i], r.at(step)
            if end <= start:
                continue
            xy = r.xy[start: end + 1]
            pts = self.geometry.to_px(xa, ya, xy[:, 0], xy[:, 1])
            for layer, line in ((self.halo, self.styles[i][0]), (self.lines[i],
                                                                 self.styles[i][1])):
                touched = layer.polyline(pts, line["color"], float(line["width"]))
                if touched is not None:
                    dirty = touched if dirty is None else (
                        min(dirty[0], touched[0]), min(dirty[1], touched[1]),
                        max(dirty[2], touched[2]), max(dirty[3], touched[3]))
            self.shown[i] = end
        self.step = step
        if dirty is not None:
            ss = self.ss
            w, h = self.small.size
            box = (max(int(math.floor(dirty[0] / ss)) - 1, 0),
                   max(int(math.floor(dirty[1] / ss)) - 1, 0),
                   min(int(math.ceil(dirty[2] / ss)) + 1, w),
                   min(int(math.ceil(dirty[3] / ss)) + 1, h))
            if box[2] > box[0] and box[3] > box[1]:
                hi = tuple(v * ss for v in box)
                part = self.halo.image.crop(hi)
                for i, layer in enumerate(self.lines):
                    if self.shown[i] > 0:
                        part = Image.alpha_composite(part, layer.image.crop(hi))
                self.small.paste(_downsample(part, ss), box[:2])

    def composite(self, frame: Image.Image):
        frame.paste(self.small, (self.halo.left, self.halo.top), self.small)


# --------------------------------------------------------------------------------------------
# The animation


def _plain(value):
    """numpy arrays (and plotly's typed-array dicts) -> lists, for drawing."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict) and "bdata" in value and "dtype" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return arr.tolist()
    return value


def _trace_dict(trace) -> dict:
    d = trace if isinstance(trace, dict) else trace.to_plotly_json()
    return {k: (_plain(v) if k in ("x", "y") else v) for k, v in d.items()}


def _figure_dict(fig) -> dict:
    d = fig.to_plotly_json() if hasattr(fig, "to_plotly_json") else copy.deepcopy(fig)
    d["data"] = [_trace_dict(t) for t in d.get("data", [])]
    d["layout"] = dict(d.get("layout") or {})
    d["frames"] = [dict(f) if isinstance(f, dict) else f.to_plotly_json()
                   for f in (d.get("frames") or [])]
    return d


class Animation:
    """The race of a computed scene as frames (PIL RGB images), `frames` of them at most, evenly
    spread over the steps (step 0 and the last always included).

    result: a scene.SceneResult or its scene_record.SceneRecord; its record is read once, for
    the background (``figures.race_figure(..., moving=False)``) and for what moves.
    width, height: CSS px of the picture (default 1100 x 660, the app's race view); scale:
    pixel density (1 = those px, 2 = twice as sharp). background: "auto" (kaleido if a browser
    is installed, else PIL), "kaleido" or "pil". ss: supersampling of the moving parts.
    lang: "en" or "ko", the words in the picture (Korean drawn in a CJK font, cjk_font_file).
    """

    def __init__(self, result, *, frames: int = 100, width: int | None = None,
                 height: int | None = None, scale: float = 1.0, caption=True,
                 background: str = "auto", ss: int | None = None, progress=None,
                 lang: str = "en"):
        frames = int(frames)
        self.lang = i18n.normalize(lang)
        if not 2 <= frames <= MAX_FRAMES:
            raise ValueError(f"frames must be an integer in [2, {MAX_FRAMES}], got {frames}")
        self.record = scene_record.of(result)
        self.width = int(width or ANIMATION_SIZE[0])
        self.height = int(height or ANIMATION_SIZE[1])
        self.scale = float(scale)
        if not 0.25 <= self.scale <= 4:
            raise ValueError(f"scale must be in [0.25, 4], got {scale}")
        px = self.width * self.scale * self.height * self.scale
        if px > MAX_PIXELS:
            raise ValueError(f"{self.width} x {self.height} px at scale {self.scale:g} is too "
                             f"large for an animation (at most {MAX_PIXELS} pixels a frame)")
        self.ss = int(ss or (3 if self.scale <= 1.5 else 2))
        self.total = self.record.steps
        self.steps = figures.frame_steps(self.total, frames) or [0]
        self.caption = caption
        self._progress = progress or (lambda fraction, message: None)
        if background in ("auto", "kaleido"):
            from . import renderer

            renderer.warm_up()           # the browser starts while the figure is built

        # The still background: the race figure at step 0 without its moving parts (the paths
        # up to step 0 are single points: they draw nothing but carry the runs' legend entries;
        # the dotted paths ahead are the whole race, faint).
        still = _figure_dict(figures.race_figure(self.record, step=0, frames=0,
                                                 width=self.width, height=self.height,
                                                 caption=caption, moving=False,
                                                 lang=self.lang))
        still.pop("frames", None)
        self.still = still
        self.geometry = fix_layout(still["layout"], self.width, self.height)
        # Over it, per frame, from the record: paths up to the step, then the start and minima
        # (above the paths, as in the figure), X marks of the runs diverged by then, heads and
        # the panels' cursors.
        self._above = [_trace_dict(t) for t in figures.landmark_traces(self.record,
                                                                       lang=self.lang)]
        self._ends = []                         # (run, its X) for the runs that diverge
        for r in self.record.runs:
            end = figures.end_trace(r, lang=self.lang)
            if end is not None:
                self._ends.append((r, _trace_dict(end)))
        self.background_kind = None
        self._background = None
        self._background_choice = background
        self._paths = None

    # ---- background -------------------------------------------------------------------------

    def background(self) -> Image.Image:
        if self._background is None:
            choice = self._background_choice
            image = None
            if choice in ("auto", "kaleido"):
                from . import renderer

                try:
                    self._progress(0.0, "rendering the background (starting the browser)")
                    png = renderer.static_image(self.still, "png", scale=self.scale,
                                               width=self.width, height=self.height,
                                               clean=False)
                    image = Image.open(io.BytesIO(png)).convert("RGB")
                    self.background_kind = "kaleido"
                except renderer.BrowserMissing as err:
                    if choice == "kaleido":
                        raise
                    log.warning("%s; drawing the animation's background with PIL instead", err)
                except RuntimeError as err:
                    if choice == "kaleido":
                        raise
                    log.warning("kaleido failed (%s); drawing the background with PIL instead",
                                err)
            if image is None:
                image = _pil_background(self.still, self.geometry, self.scale)
                self.background_kind = "pil"
                self._progress(0.1, "no browser: background drawn with PIL")
            size = (round(self.width * self.scale), round(self.height * self.scale))
            if image.size != size:
                image = image.resize(size, Image.Resampling.LANCZOS)
            self._background = image
        return self._background

    # ---- frames -----------------------------------------------------------------------------

    @property
    def size(self) -> tuple[int, int]:
        return (round(self.width * self.scale), round(self.height * self.scale))

    def frame(self, step: int) -> Image.Image:
        """The picture at `step` (any step). Fastest when called with increasing steps (the
        paths are drawn incrementally)."""
        step = int(min(max(int(step), 0), self.total))
        frame = self.background().copy()
        g, s, ss = self.geometry, self.scale, self.ss
        if self._paths is None:
            self._paths = _Paths(g, s, ss, self.record.runs)
        self._paths.advance(step)
        self._paths.composite(frame)
        for t in self._above:                   # start and minima stay above the paths
            paint(frame, g, t, s, ss)
        for r, t in self._ends:
            if r.gone(step):
                paint(frame, g, t, s, ss)
        for t in self.moving(step):
            paint(frame, g, t, s, ss)
        self._counter(frame, step)
        return frame

    def moving(self, step: int) -> list[dict]:
        """The heads and the panels' cursors at `step`, as the race figure draws them."""
        return [_trace_dict(t) for t in figures.moving_traces(self.record, step)]

    def _counter(self, frame: Image.Image, step: int):
        s = self.scale
        text = i18n.t("fig.step_of", self.lang, step=step, total=self.total)
        font = _font_for(text, 20 * s, bold=True)
        draw = ImageDraw.Draw(frame)
        right = (self.width - self.geometry.margin[1]) * s
        draw.text((right, 12 * s), text, font=font, fill=(31, 41, 51), anchor="ra")

    def frames(self):
        """Yield (step, RGB image) for every frame step, reporting progress."""
        self.background()
        n = len(self.steps)
        for i, s in enumerate(self.steps):
            yield s, self.frame(s)
            self._progress(0.1 + 0.8 * (i + 1) / n, f"frame {i + 1} / {n}")


# --------------------------------------------------------------------------------------------
# Background without a browser


def _strip_tags(text: str) -> tuple[str, bool]:
    bold = "<b>" in text
    text = re.sub(r"<br\s*/?>", " ", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text)), bold      # plotly's entities too


def _nice_ticks(r0: float, r1: float, log: bool, target: int = 6) -> list[float]:
    lo, hi = min(r0, r1), max(r0, r1)
    if log:
        return [float(v) for v in range(math.ceil(lo), math.floor(hi) + 1)]
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=mag * 10)
    start = math.ceil(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step + 1e-9) + 1)]


def _tick_label(v: float, log: bool) -> str:
    if log:
        e = int(round(v))
        if e == 0:
            return "1"
        if e == 1:
            return "10"
        sup = str(e).translate(str.maketrans("-0123456789", "−⁰¹²³⁴⁵⁶⁷⁸⁹"))
        return f"10{sup}"
    text = f"{v:.6g}"
    return text.replace("-", "−")


def _pil_background(still: dict, g: Geometry, scale: float) -> Image.Image:
    """The static part of the race figure drawn with PIL: a plainer rendering of the same
    layout (surface image, axes, ticks, static traces, legend, title, caption)."""
    W, H = round(g.width * scale), round(g.height * scale)
    image = Image.new("RGB", (W, H), "white")
    layout = still["layout"]
    draw = ImageDraw.Draw(image)
    ink = (31, 41, 51)
    grey = (82, 96, 109)
    s = scale
    # surface images
    for im in layout.get("images") or []:
        src = im.get("source", "")
        if not isinstance(src, str) or not src.startswith("data:image"):
            continue
        raw = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB")
        xa, ya = _short(im.get("xref", "x")), _short(im.get("yref", "y"))
        if xa not in g.axes or ya not in g.axes:
            continue
        p0 = g.to_px(xa, ya, [im["x"]], [im["y"]])[0]
        p1 = g.to_px(xa, ya, [im["x"] + im["sizex"]], [im["y"] - im["sizey"]])[0]
        box = (int(round(p0[0] * s)), int(round(p0[1] * s)), int(round(p1[0] * s)),
               int(round(p1[1] * s)))
        image.paste(raw.resize((box[2] - box[0], box[3] - box[1]), Image.Resampling.BICUBIC),
                    box[:2])
    # axes: frames, grid and ticks
    tick_font = _font(12 * s)
    title_font = _font(13 * s)
    pairs = []
    for key in _axis_keys(layout):
        if key.startswith("x"):
            xa = _short(key)
            ya = _short("y" + key[1:].replace("xaxis", "axis"))
            ya = layout[key].get("anchor") or ya
            if ya in g.axes:
                pairs.append((xa, ya))
    for xa, ya in pairs:
        x0, y0, x1, y1 = (v * s for v in g.subplot_box(xa, ya))
        for axname, ax in ((xa, g.axes[xa]), (ya, g.axes[ya])):
            spec = layout["xaxis" + axname[1:]] if axname.startswith("x") else \
                layout["yaxis" + axname[1:]]
            ticks = _nice_ticks(ax.r0, ax.r1, ax.log)
            for v in ticks:
                pos = ax.px([10 ** v if ax.log else v])[0] * s
                if ax.vertical:
                    if spec.get("gridcolor") and spec.get("showgrid", True):
                        draw.line([(x0, pos), (x1, pos)], fill=_rgba(spec["gridcolor"])[:3],
                                  width=max(1, round(s)))
                    draw.line([(x0 - 5 * s, pos), (x0, pos)], fill=grey, width=max(1, round(s)))
                    draw.text((x0 - 7 * s, pos), _tick_label(v, ax.log), font=tick_font,
                              fill=ink, anchor="rm")
                else:
                    if spec.get("gridcolor") and spec.get("showgrid", True):
                        draw.line([(pos, y0), (pos, y1)], fill=_rgba(spec["gridcolor"])[:3],
                                  width=max(1, round(s)))
                    draw.line([(pos, y1), (pos, y1 + 5 * s)], fill=grey, width=max(1, round(s)))
                    draw.text((pos, y1 + 7 * s), _tick_label(v, ax.log), font=tick_font,
                              fill=ink, anchor="mt")
            title = spec.get("title")
            title = title.get("text") if isinstance(title, dict) else title
            if title:
                text, _ = _strip_tags(str(title))
                title_font = _font_for(text, 13 * s)
                if ax.vertical:
                    tw = int(draw.textlength(text, font=title_font)) + 4
                    th = int(16 * s)
                    tmp = Image.new("RGBA", (tw, th), (255, 255, 255, 0))
                    ImageDraw.Draw(tmp).text((tw / 2, th / 2), text, font=title_font, fill=ink,
                                             anchor="mm")
                    tmp = tmp.rotate(90, expand=True)
                    cx = x0 - 44 * s
                    cy = (y0 + y1) / 2
                    image.paste(tmp, (int(cx - tmp.size[0] / 2), int(cy - tmp.size[1] / 2)), tmp)
                else:
                    draw.text(((x0 + x1) / 2, y1 + 24 * s), text, font=title_font, fill=ink,
                              anchor="mt")
        draw.rectangle((x0, y0, x1, y1), outline=_rgba(layout.get("xaxis" + xa[1:], {})
                                                       .get("linecolor", "#52606d"))[:3],
                       width=max(1, round(s)))
    # static traces
    layers = {}
    for t in still["data"]:
        if t.get("type", "scatter") != "scatter" or t.get("visible") is False:
            continue
        key = (t.get("xaxis") or "x", t.get("yaxis") or "y")
        if key[0] not in g.axes or key[1] not in g.axes:
            continue
        if key not in layers:
            layers[key] = _Layer(g.subplot_box(*key), scale, 2, exact=True)
        draw_trace(layers[key], g, t)
    for lay in layers.values():
        lay.composite(image)
    draw = ImageDraw.Draw(image)
    # title, subtitle
    title = layout.get("title") or {}
    if isinstance(title, dict) and title.get("text"):
        size = ((title.get("font") or {}).get("size") or 20) * s
        x = 0.01 * W
        for part in re.split(r"(<b>.*?</b>)", title["text"]):
            text, bold = _strip_tags(part)
            if text:
                font = _font_for(text, size, bold=bold)
                draw.text((x, 8 * s), text, font=font, fill=ink)
                x += draw.textlength(text, font=font)
        sub = title.get("subtitle") or {}
        if sub.get("text"):
            stext, _ = _strip_tags(sub["text"])
            draw.text((0.01 * W, 8 * s + size * 1.6), stext,
                      font=_font_for(stext, ((sub.get("font") or {}).get("size") or 13) * s),
                      fill=grey)
    # legend: one entry per trace with showlegend
    l, r, t, b = g.margin
    legend_font = _font(14 * s)
    x, y = (l + 8) * s, (t - 26) * s
    for tr in still["data"]:
        if not tr.get("showlegend", True) or tr.get("showlegend") is None and \
                tr.get("name") is None:
            continue
        if tr.get("showlegend") is not True and tr.get("mode") != "markers":
            continue
        name = tr.get("name") or ""
        legend_font = _font_for(name, 14 * s)
        width = 44 * s + draw.textlength(name, font=legend_font)
        if x + width > (g.width - r) * s:
            x, y = (l + 8) * s, y + 20 * s
        lay = _Layer((x / s, y / s - 10, x / s + 40, y / s + 10), scale, 2, exact=True)
        sample = dict(tr, xaxis="x", yaxis="y")
        if "lines" in (tr.get("mode") or ""):
            lay.polyline(np.array([[x / s + 5, y / s], [x / s + 35, y / s]]),
                         (tr.get("line") or {}).get("color", "#444"),
                         min(float((tr.get("line") or {}).get("width", 2)), 5))
        else:
            m = sample.get("marker") or {}
            size = min(float(_first(m.get("size"), 0, 10)), 16)
            lay.marker((x / s + 20, y / s), m.get("symbol", "circle"), size,
                       _first(m.get("color"), 0, "#444"), (m.get("line") or {}).get("color"),
                       float((m.get("line") or {}).get("width", 0) or 0), clip=False)
        lay.composite(image)
        draw = ImageDraw.Draw(image)
        draw.text((x + 44 * s, y), name, font=legend_font, fill=ink, anchor="lm")
        x += width + 16 * s
    # annotations (the caption)
    for ann in layout.get("annotations") or []:
        if ann.get("xref") != "paper" or ann.get("yref") != "paper":
            continue
        text, _ = _strip_tags(str(ann.get("text", "")))
        ax = (l + ann.get("x", 0) * (g.width - l - r)) * s
        ay = (t + (1 - ann.get("y", 0)) * (g.height - t - b) - ann.get("yshift", 0)) * s
        size = ((ann.get("font") or {}).get("size") or 13) * s
        draw.text((ax, ay), text, font=_font_for(text, size), fill=grey,
                  anchor="lb" if ann.get("yanchor") == "bottom" else "lt")
    return image


# --------------------------------------------------------------------------------------------
# Encoders


def _palette_for(images: list[Image.Image], reserved: list[tuple]) -> Image.Image:
    """One 256-colour palette for every frame: the reserved colours exactly, the rest adapted
    to a sample of the frames (so colours stay stable from frame to frame)."""
    reserved = list(dict.fromkeys(tuple(c[:3]) for c in reserved))[:64]
    w = max(im.size[0] for im in images)
    sample = Image.new("RGB", (w, sum(im.size[1] for im in images)), "white")
    y = 0
    for im in images:
        sample.paste(im, (0, y))
        y += im.size[1]
    if max(sample.size) > 1400:
        sample.thumbnail((1400, 1400 * len(images)), Image.Resampling.NEAREST)
    room = 255 - len(reserved)           # one index stays free: GIF frames use it as
    adaptive = sample.quantize(room, method=Image.Quantize.MEDIANCUT,   # "unchanged pixel"
                               dither=Image.Dither.NONE)
    colors = adaptive.getpalette()[: 3 * room]
    flat = [v for c in reserved for v in c] + colors
    palette = Image.new("P", (1, 1))
    palette.putpalette(flat)
    return palette


def _colors_in(value, out: list):
    """Every colour string in a (nested) figure dict: the styles to keep exact in a palette."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ("color", "bgcolor", "bordercolor", "linecolor", "gridcolor") and \
                    isinstance(v, str):
                out.append(v)
            elif k in ("color",) and isinstance(v, (list, tuple)):
                out += [c for c in v if isinstance(c, str)]
            elif isinstance(v, (dict, list, tuple)) and k not in ("x", "y", "customdata",
                                                                  "template", "images"):
                _colors_in(v, out)
    elif isinstance(value, (list, tuple)):
        for v in value:
            if isinstance(v, (dict, list, tuple)):
                _colors_in(v, out)
    return out


def _reserved_colors(anim: Animation) -> list[tuple]:
    """White, the runs' colours, then every opaque colour the figure names (markers, lines,
    text), so that small marks (a star, a head) keep their exact colour in the GIF."""
    names = ["white", figures.INK] + [r.color for r in anim.record.runs]
    names += _colors_in(anim.still["data"], []) + _colors_in(anim.still["layout"], [])
    names += [t.get("marker", {}).get("color") for t in anim.moving(0)
              if isinstance(t.get("marker", {}).get("color"), str)]
    out = []
    for name in names:
        c = _rgba(name)
        if c is not None and c[3] == 255:
            out.append(c[:3])
    return list(dict.fromkeys(out))


def _check_fps(fps) -> float:
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) \
            or not 1 <= fps <= MAX_FPS:
        raise ValueError(f"fps must be a number in [1, {MAX_FPS}], got {fps!r}")
    return float(fps)


def _prepare(result, frames, fps, hold, width, height, scale, caption, background, progress,
             lang="en"):
    """Checks and the frame source shared by the GIF and MP4 writers: (fps, report, Animation)."""
    fps = _check_fps(fps)
    if not 0 <= hold <= 10:
        raise ValueError(f"hold must be in [0, 10] seconds, got {hold}")
    report = progress or (lambda fraction, message: None)
    anim = Animation(result, frames=frames, width=width, height=height, scale=scale,
                     caption=caption, background=background, progress=report, lang=lang)
    return fps, report, anim


def gif_bytes(result, *, frames: int = 100, fps: float = 20, hold: float = 1.0,
              width: int | None = None, height: int | None = None, scale: float = 1.0,
              caption=True, background: str = "auto", progress=None, lang: str = "en") -> bytes:
    """The race as an animated GIF (loops forever): `frames` frames at `fps` frames a second,
    the last one held `hold` seconds longer. One palette for all frames. lang: its words."""
    fps, report, anim = _prepare(result, frames, fps, hold, width, height, scale, caption,
                                 background, progress, lang)
    w, h = anim.size
    if len(anim.steps) * w * h > MAX_GIF_PIXELS:      # the GIF encoder keeps every frame
        most = max(MAX_GIF_PIXELS // (w * h), 2)
        raise ValueError(f"a GIF of {len(anim.steps)} frames of {w} x {h} px is too large; "
                         f"use at most {most} frames at this size (or a smaller scale), "
                         f"or MP4")
    bg = anim.background()
    palette = _palette_for([bg, anim.frame(anim.steps[-1])], _reserved_colors(anim))
    quantized = []
    for step, image in anim.frames():
        quantized.append(image.quantize(palette=palette, dither=Image.Dither.NONE))
    delay = int(round(1000.0 / fps / 10.0)) * 10          # GIF delays are in 10 ms units
    durations = [max(delay, 20)] * len(quantized)
    durations[-1] += int(round(hold * 1000 / 10.0)) * 10
    report(0.92, "encoding the GIF")
    buf = io.BytesIO()
    quantized[0].save(buf, format="GIF", save_all=True, append_images=quantized[1:],
                      duration=durations, loop=0, optimize=True, disposal=1)
    report(1.0, "done")
    return buf.getvalue()


def write_mp4(path: str, result, *, frames: int = 100, fps: float = 20, hold: float = 1.0,
              width: int | None = None, height: int | None = None, scale: float = 1.0,
              caption=True, background: str = "auto", crf: int = 20, progress=None,
              lang: str = "en") -> int:
    """Write the race as an H.264 MP4 (yuv420p, plays everywhere) to `path` through the ffmpeg
    that imageio-ffmpeg ships. The last frame is repeated for `hold` seconds. Returns the
    number of video frames. lang: its words ("en" or "ko")."""
    try:
        import imageio_ffmpeg

        imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as err:
        from .renderer import ExportError

        raise ExportError(f"MP4 export needs ffmpeg: pip install imageio-ffmpeg ({err})") \
            from None
    fps, report, anim = _prepare(result, frames, fps, hold, width, height, scale, caption,
                                 background, progress, lang)
    w, h = anim.size
    even = (w + w % 2, h + h % 2)
    writer = imageio_ffmpeg.write_frames(
        path, even, fps=fps, codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
        quality=None, macro_block_size=2, ffmpeg_log_level="error",
        output_params=["-crf", str(int(crf)), "-preset", "veryfast", "-movflags", "+faststart"])
    writer.send(None)
    count = 0
    try:
        image = None
        for _, image in anim.frames():
            if image.size != even:
                padded = Image.new("RGB", even, "white")
                padded.paste(image, (0, 0))
                image = padded
            writer.send(image.tobytes())
            count += 1
        for _ in range(int(round(hold * fps))):
            writer.send(image.tobytes())
            count += 1
        report(0.95, "encoding the MP4")
    finally:
        writer.close()
    report(1.0, "done")
    return count


def mp4_bytes(result, **kwargs) -> bytes:
    """``write_mp4`` into a temporary file, returned as bytes (the file is removed)."""
    folder = tempfile.mkdtemp(prefix="optiviz-mp4-")
    try:
        path = os.path.join(folder, "race.mp4")
        write_mp4(path, result, **kwargs)
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
