"""The one Landscape record, the Param record the app builds sliders from, and Newton refinement."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .surfaces import F, VG

Box = tuple[tuple[float, float], tuple[float, float]]
Point = tuple[float, float]


@dataclass(frozen=True)
class Param:
    """A tunable surface parameter: its default, allowed range [min, max] and slider hints."""

    default: float
    min: float
    max: float
    label: str
    log: bool = False  # a log-scale slider reads better (the range spans decades)
    help: str = ""


def _as_xy(xy) -> np.ndarray:
    """Points as a float64 array of shape (..., 2), or a ValueError saying what came instead."""
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim == 0 or xy.shape[-1] != 2:
        raise ValueError(f"xy must have shape (..., 2), got {xy.shape}")
    return xy


def _columns(xy) -> tuple[np.ndarray, tuple[int, ...]]:
    """(..., 2) -> contiguous (2, M) copy and the leading shape, so surface code sees 1-D rows."""
    xy = _as_xy(xy)
    return np.ascontiguousarray(xy.reshape(-1, 2).T), xy.shape[:-1]


@dataclass(frozen=True)
class Landscape:
    """A 2-D test surface with what the app and runner need to show and judge it.

    Build one with ``landscapes.get(name, **params)``. ``minima`` lists every known local minimum
    inside ``bounds`` (global first) and ``minima_values`` their values, evaluated by ``f``.
    ``f_min`` is the global minimum value or, for surfaces unbounded below (the saddles), the
    lowest value on a 201 x 201 grid over ``bounds`` (corners included); colour scales use it.
    """

    name: str
    title: str
    params: dict[str, float] = field(hash=False)
    bounds: Box
    minima: tuple[Point, ...]
    minima_values: tuple[float, ...]
    start: Point
    description: str
    log_scale: bool
    formula: str
    f_min: float
    citation: str
    _f: F = field(repr=False, compare=False)
    _vg: VG = field(repr=False, compare=False)
    # f is finite wherever x and y are finite and inside divergence_box: true of every catalog
    # formula (sums and products of polynomials, exp, cos and a square root of x² + y², with no
    # overflow at the box's scale; tests/test_landscapes.py evaluates them over the box), not
    # promised for a typed formula (1/x). A run that needs no loss may then skip computing it.
    finite_in_box: bool = field(default=False, repr=False, compare=False)

    def f(self, xy) -> np.ndarray:
        """Value. xy: (..., 2) -> (...). Huge or non-finite input gives inf/nan, no warning."""
        xy = _as_xy(xy)
        with np.errstate(all="ignore"):
            return self._f(xy[..., 0], xy[..., 1])

    def grad(self, xy) -> np.ndarray:
        """Analytic gradient. xy: (..., 2) -> (..., 2). No warnings escape."""
        theta, shape = _columns(xy)
        out = np.empty_like(theta)
        with np.errstate(all="ignore"):
            self._vg(theta[0], theta[1], out[0], out[1])
        return out.T.reshape(shape + (2,))

    def value_and_grad(self, theta: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Runner fast path. theta: (2, N) float64 C-contiguous (rows x, y); gradient -> out (2, N).

        Returns f as a new (N,) array. Does NOT suppress floating-point warnings: the caller holds
        one ``np.errstate(all="ignore")`` around its whole loop, which is cheaper than one per call.
        """
        return self._vg(theta[0], theta[1], out[0], out[1])

    def gradient_into(self, theta: np.ndarray, out: np.ndarray) -> None:
        """value_and_grad without the value (fewer NumPy calls): for a run that needs no loss."""
        self._vg(theta[0], theta[1], out[0], out[1], False)

    @property
    def divergence_box(self) -> Box:
        """Bounds centre ± 10 x the larger half-span: a trajectory leaving it has diverged."""
        (x0, x1), (y0, y1) = self.bounds
        reach = 10.0 * max(x1 - x0, y1 - y0) / 2.0
        cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
        return ((cx - reach, cx + reach), (cy - reach, cy + reach))

    def nearest_minimum(self, xy) -> tuple[np.ndarray, np.ndarray]:
        """Index of the nearest listed minimum and the distance to it: (..., 2) -> (...), (...).

        Index -1 and distance NaN where there are no minima or the point is not finite.
        """
        xy = _as_xy(xy)
        shape = xy.shape[:-1]
        if not self.minima:
            return np.full(shape, -1, dtype=np.intp), np.full(shape, np.nan)
        m = np.asarray(self.minima)
        with np.errstate(all="ignore"):
            dist = np.hypot(xy[..., None, 0] - m[:, 0], xy[..., None, 1] - m[:, 1])
        idx = np.asarray(np.argmin(dist, axis=-1))
        best = np.take_along_axis(dist, idx[..., None], axis=-1)[..., 0]
        bad = ~np.isfinite(best)
        return np.where(bad, -1, idx), np.where(bad, np.nan, best)


def newton_minima(vg: VG, seeds, iters: int = 60) -> np.ndarray:
    """Refine seeds (M, 2) to zeros of the analytic gradient by Newton's method -> (M, 2).

    The Hessian comes from central differences of the analytic gradient: its small error only
    slows convergence, the fixed point is still an exact zero of the gradient. Used at import to
    polish published minima and to find the Rastrigin/Ackley lattice minima.
    """
    p = np.array(seeds, dtype=np.float64).reshape(-1, 2)

    def grad(q):
        g = np.empty((2, len(q)))
        vg(np.ascontiguousarray(q[:, 0]), np.ascontiguousarray(q[:, 1]), g[0], g[1])
        return g.T

    h = 1e-6
    eye = np.eye(2) * h
    for _ in range(iters):
        g = grad(p)
        hess = np.stack([(grad(p + e) - grad(p - e)) / (2 * h) for e in eye], axis=-1)
        step = np.linalg.solve(hess, g[..., None])[..., 0]
        p -= step
        if np.all(np.abs(step) <= 1e-15 * (1.0 + np.abs(p))):
            break
    return p
