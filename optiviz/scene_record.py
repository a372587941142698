"""The scene record: one plain record per computed scene, built once, read by every view.

    >>> from optiviz import scene, scene_record
    >>> result = scene.compute_scene(scene.normalize_scene(scene.default_scene()))
    >>> record = scene_record.of(result)
    >>> run = record.runs[0]
    >>> run.xy.shape, run.loss.shape, run.lr.shape, run.diverged_at   # (501, 2) (501,) (500,) None

Per run: label, optimizer, colour, positions, losses and rates (float64, NaN from the step it
diverged at), diverged_at and reached (first step within tolerance of the nearest minimum, from
the scene's one summary), the head's marker symbol and where the end mark (an X) of a diverged
run goes. Per scene: the scene config, the surface with its bounds, minima (which are global),
the start, the number of steps, and the loss and learning-rate axes. Every consumer reads it:
the live view (``live.view_model`` encodes it), the figures behind PNG/SVG (``figures``) and the
GIF/MP4 frames (``animation``). Nothing here imports plotly, PIL or Streamlit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import surface_image as _surface_image

__all__ = ["RunRecord", "SceneRecord", "LossAxis", "LrAxis", "of", "HEAD_SYMBOL",
           "END_SYMBOL"]

HEAD_SYMBOL = "circle"       # a run's head on the map
END_SYMBOL = "x"             # where a diverged run's path ends


@dataclass(frozen=True, eq=False)
class RunRecord:
    """One run. xy: (steps + 1, 2), loss: (steps + 1,), lr: (steps,) (lr[k] made row k + 1);
    rows from diverged_at on are NaN. end_xy: where the end mark of a diverged run is drawn (its
    last finite point, or where its path last left the window: exit_step), else None."""

    label: str
    optimizer: str
    color: str
    xy: np.ndarray
    loss: np.ndarray
    lr: np.ndarray
    diverged_at: int | None
    reached: int | None
    reached_local: bool = False          # the minimum it reached is not the global one
    reached_value: float | None = None   # that minimum's value (is the run still within tolerance?)
    head_symbol: str = HEAD_SYMBOL
    end_symbol: str = END_SYMBOL
    end_xy: tuple[float, float] | None = None
    exit_step: int | None = None

    @property
    def steps(self) -> int:
        return int(self.lr.shape[0])

    @property
    def last(self) -> int:
        """The last finite row."""
        return self.steps if self.diverged_at is None else max(self.diverged_at - 1, 0)

    @property
    def name(self) -> str:
        """The legend's text: the label, and where it diverged."""
        if self.diverged_at is None:
            return self.label
        return f"{self.label} – diverged at step {self.diverged_at}"

    def at(self, k: int) -> int:
        """The row shown at step k: k, or the last finite row once diverged."""
        return min(int(k), self.last)

    def gone(self, k: int) -> bool:
        """True from the step it diverged at: its head and dots are hidden, an X marks the end."""
        return self.diverged_at is not None and k >= self.diverged_at

    def pos(self, k: int) -> list[float]:
        x, y = self.xy[self.at(k)]
        return [float(x), float(y)]

    def head(self, k: int) -> list:
        """[x, y] of the head at step k, [None, None] once diverged."""
        return [None, None] if self.gone(k) else self.pos(k)

    def path(self, k: int) -> np.ndarray:
        """The positions up to step k (to the last finite one): (rows, 2)."""
        return self.xy[: self.at(k) + 1]


class LossAxis:
    """How losses are plotted: log y of the loss, of loss - f_min + tiny when the minimum is
    negative, or linear y for surfaces without minima (their loss is unbounded below)."""

    def __init__(self, surface, runs):
        self.f_min = float(surface.f_min)
        self.log = bool(surface.minima)
        self.shift = 0.0
        self.tiny = 0.0
        if not self.log:
            self.title = "loss"
        elif self.f_min < 0:
            self.shift = self.f_min
            self.tiny = float(f"{1e-10 * max(1.0, abs(self.f_min)):.0e}")
            self.title = f"loss − f<sub>min</sub> + {self.tiny:g}"   # a plotly title
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

    def point(self, run: RunRecord, k: int) -> float | None:
        if run.gone(k):
            return None
        v = float(self.y(run.loss[run.at(k)]))
        if not math.isfinite(v) or (self.log and v <= 0):
            return None
        return min(max(v, self.span[0]), self.span[1])


class LrAxis:
    """The learning-rate axis: log y over every run's finite rates."""

    def __init__(self, runs):
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
        # The rates the runs start with: labelled ticks when the axis spans under a decade.
        self.given = sorted({float(r.lr[0]) for r in runs
                             if r.lr.size and math.isfinite(r.lr[0]) and r.lr[0] > 0})

    def point(self, run: RunRecord, k: int) -> float | None:
        """The lr used by the update that produced row k (step k >= 1), or at step 1 for k = 0."""
        if run.gone(k):
            return None
        i = min(max(k, 1), run.last if run.diverged_at is not None else run.steps) - 1
        if i < 0 or i >= run.lr.size:
            return None
        v = float(run.lr[i])
        return v if math.isfinite(v) and v > 0 else None


@dataclass(frozen=True, eq=False)
class SceneRecord:
    """A computed scene as every view reads it. bounds: ((x0, x1), (y0, y1)); minima: (m, 2)
    with their values (m,) and is_global (m,) bools (global first, as the surface lists them);
    start: (x, y); steps: the runs' length."""

    scene: dict
    surface: object                  # the landscapes.Landscape
    runs: tuple
    steps: int
    start: tuple[float, float]
    bounds: tuple
    minima: np.ndarray
    minima_values: np.ndarray
    is_global: np.ndarray
    loss_axis: LossAxis
    lr_axis: LrAxis

    def image(self, resolution: int = 300, *, xref: str = "x", yref: str = "y") -> dict:
        """The surface image as a layout.images entry (``surface_image.surface_image``)."""
        return _surface_image.surface_image(self.surface, resolution, xref=xref, yref=yref)


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


def _exit_point(xy: np.ndarray, bounds) -> tuple[int, float, float] | None:
    """Where a path (its finite rows) last leaves the window: (step, x, y) on the border, or
    None when its last point is inside the window (or the path never enters it)."""
    (x0, x1), (y0, y1) = bounds
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


def _run(run, summary_row, bounds, minima_values) -> RunRecord:
    traj = run.trajectory
    d = int(traj.diverged_at[0])
    rec = RunRecord(
        label=run.label, optimizer=run.optimizer, color=run.color,
        xy=np.asarray(traj.xy[:, 0, :], dtype=np.float64),
        loss=np.asarray(traj.loss[:, 0], dtype=np.float64),
        lr=np.asarray(traj.lr[:, 0], dtype=np.float64),
        diverged_at=d if d >= 0 else None,
        reached=None if summary_row is None else summary_row["reached_step"],
        reached_local=bool(summary_row is not None and summary_row["reached_step"] is not None
                           and summary_row["minimum_index"] > 0),
        reached_value=(None if summary_row is None or summary_row["reached_step"] is None
                       else float(minima_values[summary_row["minimum_index"]])))
    if rec.diverged_at is None:
        return rec
    exit_ = _exit_point(rec.xy[: rec.last + 1], bounds)
    end = (exit_[1], exit_[2]) if exit_ else tuple(rec.pos(rec.last))
    return RunRecord(**{**rec.__dict__, "end_xy": end,
                        "exit_step": exit_[0] if exit_ else None})


def _global_flags(values: np.ndarray) -> np.ndarray:
    if not values.size:
        return np.zeros(0, dtype=bool)
    low = values.min()
    return np.isclose(values, low, rtol=0, atol=1e-9 * max(1.0, abs(low)))


def of(result) -> SceneRecord:
    """The record of a computed scene (``scene.SceneResult``); a SceneRecord is returned as is,
    so every view function takes either."""
    if isinstance(result, SceneRecord):
        return result
    surface = result.surface
    (x0, x1), (y0, y1) = surface.bounds
    bounds = ((float(x0), float(x1)), (float(y0), float(y1)))
    summary = list(result.summary)
    runs = tuple(_run(r, summary[i] if i < len(summary) else None, surface.bounds,
                      surface.minima_values)
                 for i, r in enumerate(result.runs))
    steps = int(result.runs[0].trajectory.steps) if result.runs else int(result.scene["steps"])
    minima = np.asarray(surface.minima, dtype=np.float64).reshape(-1, 2)
    values = np.asarray(surface.minima_values, dtype=np.float64)
    start = result.scene["start"]
    return SceneRecord(scene=result.scene, surface=surface, runs=runs, steps=steps,
                       start=(float(start[0]), float(start[1])), bounds=bounds, minima=minima,
                       minima_values=values, is_global=_global_flags(values),
                       loss_axis=LossAxis(surface, runs), lr_axis=LrAxis(runs))
