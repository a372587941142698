"""Maps: many runs at once, one number per run. Plain functions and dataclasses of arrays (no UI).

- basin_map: a grid of starts over the surface's window; per cell the listed minimum the run
  ends at, the steps it needed to get within tolerance of that minimum's value, divergence.
- hyper_map: a grid over two of an optimizer's settings (lr, momentum, β₁, ...) from one start;
  per cell the final loss, the steps to tolerance of the surface's minimum, divergence.
- noise_ensemble: K runs of a noisy optimizer from one start; per step the quantiles
  (10/25/50/75/90 %) of the position and of the loss.

The grids run through optim_core.run_final (memory O(cells), chunked, with progress and
cancelling), so every cell is exactly the run optim_core.run() gives for that start and those
settings. With noise, every cell draws by default the noise the race draws for its one run
(trajectory 0 of the seed): clicking a cell reproduces it in the race, bit for bit.
independent_noise=True gives cell c trajectory c's draws instead. The ensemble's member k draws
trajectory k's, so member 0 is the race's run. Grids are indexed [iy, ix]: rows follow y
(ys increasing), columns follow x, as an image with the origin at the bottom-left.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

import landscapes
import optim_core
from optim_core import OPTIMIZERS
from optim_core.validation import check_choice, check_int, check_name, check_real

NOT_CONVERGED = -1          # basin_map.minimum: ended farther than `radius` from every minimum
DIVERGED = -2               # basin_map.minimum: left the divergence box or went non-finite
MAX_GRID = 1024             # cells per side
MAX_ENSEMBLE = 1000
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
DEFAULT_TOLERANCE = 1e-3    # the scene's default "reached" tolerance
RADIUS_FRACTION = 0.02      # default radius: 2 % of the window's larger side
_DISTANCE_CHUNK = 8192      # starts per nearest-minimum pass (Rastrigin lists 121 minima)


# ---- the optimizer spec: a name, or a dict shaped like a scene's optimizer entry ----------------

def _settings(spec) -> dict:
    """A name or {"optimizer", "lr", "schedule", "hyperparameters", "noise", "seed"} (extra keys
    are hyperparameters, as in optim_core.run_many) -> the normalized dict run_final takes."""
    if isinstance(spec, str):
        spec = {"optimizer": spec}
    if not isinstance(spec, dict):
        raise ValueError(f"optimizer must be a name or a dict with an 'optimizer', "
                         f"got {type(spec).__name__}")
    spec = dict(spec)
    name = check_name("optimizer", spec.pop("optimizer", None), tuple(OPTIMIZERS))
    hyper = spec.pop("hyperparameters", None) or {}
    if not isinstance(hyper, dict):
        raise ValueError(f"hyperparameters must be a dict, got {type(hyper).__name__}")
    out = {"optimizer": name, "lr": spec.pop("lr", None), "schedule": spec.pop("schedule", None),
           "noise": spec.pop("noise", 0.0), "seed": spec.pop("seed", 0)}
    out["hyperparameters"] = {**hyper, **spec}
    return out


def _override(settings, noise, seed):
    s = dict(settings)
    if noise is not None:
        s["noise"] = noise
    if seed is not None:
        s["seed"] = seed
    return s


def _public(settings) -> dict:
    """The settings as plain data (for the dataclasses, CSV headers and the race)."""
    return {"optimizer": settings["optimizer"], "lr": settings["lr"],
            "schedule": settings["schedule"], "noise": settings["noise"],
            "seed": settings["seed"], "hyperparameters": dict(settings["hyperparameters"])}


def _run(surf, settings, x0, steps, *, tolerance, target=None, noise_index=None, chunk=None,
         progress=None, workers=1, lr=None, extra=None, runner=None):
    hyper = dict(settings["hyperparameters"])
    hyper.update(extra or {})
    run_final = optim_core.run_final if runner is None else runner
    return run_final(
        surf, settings["optimizer"], x0, steps,
        lr=settings["lr"] if lr is None else lr, schedule=settings["schedule"],
        noise=settings["noise"], seed=settings["seed"], tolerance=tolerance, target=target,
        noise_index=noise_index, chunk=chunk, progress=progress, workers=workers, **hyper)


def _surface(surface):
    """A Landscape, a name, or {"name": ..., **params} (a scene's surface)."""
    return surface if isinstance(surface, landscapes.Landscape) else landscapes.from_spec(surface)


def _grid_size(n):
    if isinstance(n, (tuple, list)) and len(n) == 2:
        return (check_int("n", n[0], 1, MAX_GRID), check_int("n", n[1], 1, MAX_GRID))
    size = check_int("n", n, 1, MAX_GRID)
    return size, size


def _window(surf, bounds):
    if bounds is None:
        return surf.bounds
    try:
        (x0, x1), (y0, y1) = bounds
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be ((x_min, x_max), (y_min, y_max)), got {bounds!r:.80}") \
            from None
    x0, x1, y0, y1 = (check_real("bounds", v) for v in (x0, x1, y0, y1))
    if not (x0 < x1 and y0 < y1):
        raise ValueError(f"bounds must have x_min < x_max and y_min < y_max, got {bounds!r:.80}")
    return (x0, x1), (y0, y1)


def cell_centres(low: float, high: float, n: int) -> np.ndarray:
    """The centres of n equal cells over [low, high]: low + (i + 1/2)(high - low)/n.

    Centres, not edges, so each cell's colour is the run from its middle (and a symmetric
    window with an even n never puts a start exactly on the axis of symmetry)."""
    return low + (np.arange(n) + 0.5) * ((high - low) / n)


def _noise_index(independent: bool):
    """run_final's noise_index: every cell the race's draws (0), or cell c trajectory c's."""
    return None if independent else 0


# ---- basins of attraction ----------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class BasinMap:
    """Where each start of a grid ends. Arrays are (ny, nx), indexed [iy, ix]."""

    surface: str
    settings: dict            # optimizer, lr, schedule, noise, seed, hyperparameters
    steps: int
    tolerance: float
    radius: float
    xs: np.ndarray            # (nx,) start x of each column (cell centres)
    ys: np.ndarray            # (ny,) start y of each row
    minimum: np.ndarray       # index into the surface's minima, NOT_CONVERGED or DIVERGED
    steps_to_tolerance: np.ndarray   # first step within tolerance of that minimum's value, -1
    diverged_at: np.ndarray   # step it diverged at, -1 if it did not
    final_xy: np.ndarray      # (ny, nx, 2); NaN if diverged
    final_loss: np.ndarray    # NaN if diverged
    distance: np.ndarray      # to the nearest listed minimum; NaN if diverged or none listed
    minima: tuple = ()        # the surface's minima, as listed (minimum indexes these)

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0

    @property
    def shape(self) -> tuple:
        return self.minimum.shape


def _nearest(surf, xy):
    """nearest_minimum in slices, so a 121-minimum surface costs O(slice x minima) memory."""
    index = np.empty(xy.shape[0], dtype=np.intp)
    dist = np.empty(xy.shape[0])
    for lo in range(0, xy.shape[0], _DISTANCE_CHUNK):
        i, d = surf.nearest_minimum(xy[lo:lo + _DISTANCE_CHUNK])
        index[lo:lo + _DISTANCE_CHUNK], dist[lo:lo + _DISTANCE_CHUNK] = i, d
    return index, dist


def basin_map(surface, optimizer, n=128, steps=500, *, tolerance=DEFAULT_TOLERANCE, radius=None,
              bounds=None, noise=None, seed=None, independent_noise=False, chunk=None,
              progress=None, workers=1, runner=None) -> BasinMap:
    """Run `optimizer` from every cell centre of an n x n grid over the surface's window.

    optimizer: a name or a scene-style entry {"optimizer", "lr", "schedule", "hyperparameters",
    "noise", "seed"} (noise/seed here override it). n: cells per side, or (nx, ny).
    A cell's minimum is the listed minimum nearest to where its run ends, if within `radius`
    (default 2 % of the window's larger side), else NOT_CONVERGED; DIVERGED if it diverged.
    steps_to_tolerance: the first step with loss - (value of that minimum) <= tolerance; runs
    ending at a minimum above the surface's f_min are run again for it (same runs, same bits),
    so this costs up to twice the steps on surfaces whose minima differ in height.
    progress(done, total) / cancelling and chunk/workers: as optim_core.run_final.
    runner: a stand-in for optim_core.run_final with its signature and results, e.g.
    optiviz.dask_maps.DaskRunner() to run the chunks on a Dask cluster (the same bits).
    """
    surf = _surface(surface)
    settings = _override(_settings(optimizer), noise, seed)
    nx, ny = _grid_size(n)
    steps = check_int("steps", steps, 1, optim_core.MAX_STEPS)
    tolerance = check_real("tolerance", tolerance, 0.0, None)
    (x0, x1), (y0, y1) = _window(surf, bounds)
    radius = (RADIUS_FRACTION * max(x1 - x0, y1 - y0) if radius is None
              else check_real("radius", radius, 0.0, None, low_open=True))
    xs, ys = cell_centres(x0, x1, nx), cell_centres(y0, y1, ny)
    gx, gy = np.meshgrid(xs, ys)
    starts = np.column_stack([gx.ravel(), gy.ravel()])
    cells = starts.shape[0]
    index = _noise_index(independent_noise)

    values = np.asarray(surf.minima_values, dtype=float)
    # Minima whose value is within a quarter ulp of tolerance above f_min give the same
    # comparisons with f_min as target; only runs ending at the others need a second pass.
    raised = values - surf.f_min > np.spacing(tolerance) / 4 if values.size else values > 0
    total = cells * (2 if raised.any() else 1)

    def first_pass(done, _):
        return None if progress is None else progress(done, total)

    res = _run(surf, settings, starts, steps, tolerance=tolerance, noise_index=index,
               chunk=chunk, progress=first_pass, workers=workers, runner=runner)
    near, dist = _nearest(surf, res.xy_final)
    diverged = res.diverged_at >= 0
    minimum = np.where(diverged, DIVERGED,
                       np.where((near >= 0) & (dist <= radius), near, NOT_CONVERGED))
    reached = res.reached_at.copy()
    again = np.flatnonzero((minimum >= 0) & raised[np.maximum(minimum, 0)]) if values.size \
        else np.array([], dtype=np.intp)
    if again.size:
        def second_pass(done, _):
            if progress is None:
                return None
            return progress(cells + round(done * (total - cells) / again.size), total)

        # The same runs again (same starts, settings and noise draws), measured from the
        # value of the minimum each ends at.
        second = _run(surf, settings, starts[again], steps, tolerance=tolerance,
                      target=values[minimum[again]],
                      noise_index=again if independent_noise else 0, chunk=chunk,
                      progress=second_pass, workers=workers, runner=runner)
        reached[again] = second.reached_at
    elif progress is not None and total > cells:
        progress(total, total)
    # A run that did not end at a minimum has no "that minimum" to be within tolerance of.
    reached = np.where(minimum >= 0, reached, -1)
    shape = (ny, nx)
    return BasinMap(surface=surf.name, settings=_public(settings), steps=steps,
                    tolerance=tolerance, radius=float(radius), xs=xs, ys=ys,
                    minimum=minimum.reshape(shape), steps_to_tolerance=reached.reshape(shape),
                    diverged_at=res.diverged_at.reshape(shape),
                    final_xy=res.xy_final.reshape(shape + (2,)),
                    final_loss=res.loss_final.reshape(shape),
                    distance=np.where(diverged, np.nan, dist).reshape(shape),
                    minima=tuple(tuple(m) for m in surf.minima))


# ---- hyperparameter maps -----------------------------------------------------------------------

def axis_scale(optimizer: str, param: str) -> str:
    """"log" where the parameter lives on one (lr, ε, weight decay, ...), else "linear"."""
    name = check_name("optimizer", optimizer, tuple(OPTIMIZERS))
    if param == "lr":
        return "log"
    spec = OPTIMIZERS[name]
    p = _real_param(spec, param, "param")
    return "log" if p.log or p.name == "weight_decay" else "linear"


def _real_param(spec, param, what):
    names = ["lr"] + [p.name for p in spec.hyper if p.kind != "bool"]
    if param not in names:
        raise ValueError(f"{what} must be 'lr' or a numeric hyperparameter of optimizer "
                         f"{spec.name!r} ({', '.join(names)}), got {param!r:.80}")
    return None if param == "lr" else spec.param(param)


def axis_values(optimizer: str, param: str, n: int, low=None, high=None, scale=None):
    """n values of `param` for a map axis: geometric on a log scale, even steps otherwise.

    Defaults: lr from torch's default / 100 to x 10; momentum-like parameters in [0, 1) from 0
    to 0.99; weight decay 1e-4 to 1; ε 1e-10 to 1e-1. Others need low and high."""
    name = check_name("optimizer", optimizer, tuple(OPTIMIZERS))
    spec = OPTIMIZERS[name]
    p = _real_param(spec, param, "param")
    n = check_int("n", n, 1, MAX_GRID)
    scale = axis_scale(name, param) if scale is None else check_choice(
        "scale", scale, ("log", "linear"))
    if param == "lr":
        dlow, dhigh = spec.lr / 100, spec.lr * 10
    elif p.name == "eps":
        dlow, dhigh = 1e-10, 1e-1
    elif p.name == "weight_decay":
        dlow, dhigh = 1e-4, 1.0
    elif p.low == 0.0 and p.high == 1.0 and p.high_open:
        dlow, dhigh = 0.0, 0.99
    else:
        dlow = dhigh = None
    low = dlow if low is None else check_real("low", low)
    high = dhigh if high is None else check_real("high", high)
    if low is None or high is None:
        raise ValueError(f"axis of {param!r} needs low and high (no default range)")
    if not low <= high:
        raise ValueError(f"low must be <= high, got low={low!r}, high={high!r}")
    if scale == "log":
        if low <= 0:
            raise ValueError(f"low must be > 0 on a log axis, got {low!r}")
        return np.geomspace(low, high, n)
    return np.linspace(low, high, n)


@dataclass(frozen=True, eq=False)
class HyperMap:
    """How one optimizer does over a grid of two of its settings. Arrays (ny, nx), [iy, ix]."""

    surface: str
    settings: dict            # the fixed settings (the two mapped ones are the axes)
    start: tuple
    steps: int
    tolerance: float
    param_x: str
    values_x: np.ndarray      # (nx,)
    scale_x: str              # "log" or "linear": how to draw the axis
    param_y: str
    values_y: np.ndarray      # (ny,)
    scale_y: str
    final_loss: np.ndarray    # NaN if diverged
    steps_to_tolerance: np.ndarray   # first step with loss - f_min <= tolerance, -1 never
    diverged_at: np.ndarray   # -1 if it did not
    final_xy: np.ndarray      # (ny, nx, 2)

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0

    @property
    def shape(self) -> tuple:
        return self.final_loss.shape

    def best_cell(self) -> tuple[int, int] | None:
        """(iy, ix) of the best cell: fewest steps to tolerance, then lowest final loss; if no
        cell reached it, the lowest final loss. A run that reached the tolerance and diverged
        later is not a candidate. None if every cell diverged."""
        loss = np.where(np.isfinite(self.final_loss), self.final_loss, np.inf)
        if not np.isfinite(loss).any():
            return None
        reached = (self.steps_to_tolerance >= 0) & np.isfinite(loss)
        if reached.any():
            key = np.where(reached, self.steps_to_tolerance, np.iinfo(np.int64).max)
            cand = key == key.min()
            loss = np.where(cand, loss, np.inf)
        iy, ix = np.unravel_index(int(np.argmin(loss)), loss.shape)
        return int(iy), int(ix)

    def cell_settings(self, iy: int, ix: int) -> dict:
        """The optimizer entry of one cell: load it into the race to see that run."""
        s = _public(self.settings)
        for param, value in ((self.param_x, self.values_x[ix]), (self.param_y, self.values_y[iy])):
            if param == "lr":
                s["lr"] = float(value)
            else:
                s["hyperparameters"][param] = float(value)
        return s


def _axis(spec, param, values, what):
    """values as given (a sequence of numbers) or, for a count, axis_values' default axis."""
    if isinstance(values, (int, np.integer)) and not isinstance(values, bool):
        return axis_values(spec.name, param, int(values))
    if not isinstance(values, (np.ndarray, list, tuple)):
        raise ValueError(f"{what} must be a sequence of numbers or a count, got {values!r:.80}")
    arr = np.asarray(check_real(what, values), dtype=float)
    if arr.size > MAX_GRID:
        raise ValueError(f"{what} holds {arr.size} values; at most {MAX_GRID}")
    return arr


def hyper_map(surface, optimizer, param_x, values_x, param_y, values_y, start=None, steps=500,
              *, tolerance=DEFAULT_TOLERANCE, noise=None, seed=None, independent_noise=False,
              chunk=None, progress=None, workers=1, runner=None) -> HyperMap:
    """Run `optimizer` from one start over the grid values_x x values_y of two settings.

    optimizer: a name or a scene-style entry (its other settings stay fixed). param_x/param_y:
    "lr" or numeric hyperparameters of it. values_x/values_y: the values (any numbers the
    optimizer accepts), or a count for axis_values' default range and scale. start: default
    the surface's start. steps_to_tolerance counts to the surface's f_min (the global minimum).
    progress / cancelling and chunk/workers: as optim_core.run_final. runner: as basin_map.
    """
    surf = _surface(surface)
    settings = _override(_settings(optimizer), noise, seed)
    spec = OPTIMIZERS[settings["optimizer"]]
    _real_param(spec, param_x, "param_x")
    _real_param(spec, param_y, "param_y")
    if param_x == param_y:
        raise ValueError(f"param_x and param_y must differ, got {param_x!r} twice")
    vx, vy = _axis(spec, param_x, values_x, "values_x"), _axis(spec, param_y, values_y, "values_y")
    steps = check_int("steps", steps, 1, optim_core.MAX_STEPS)
    tolerance = check_real("tolerance", tolerance, 0.0, None)
    start = surf.start if start is None else start
    try:
        start = tuple(float(v) for v in start)
    except (TypeError, ValueError):
        raise ValueError(f"start must be two numbers (x, y), got {start!r:.80}") from None
    if len(start) != 2:
        raise ValueError(f"start must be two numbers (x, y), got {start!r:.80}")
    nx, ny = vx.size, vy.size
    col_x, col_y = np.tile(vx, ny), np.repeat(vy, nx)
    extra = {}
    lr = None
    for param, col in ((param_x, col_x), (param_y, col_y)):
        if param == "lr":
            lr = col
        else:
            extra[param] = col
    res = _run(surf, settings, start, steps, tolerance=tolerance,
               noise_index=_noise_index(independent_noise), chunk=chunk,
               progress=progress, workers=workers, lr=lr, extra=extra, runner=runner)
    fixed = dict(settings)
    fixed["hyperparameters"] = {k: v for k, v in settings["hyperparameters"].items()
                                if k not in (param_x, param_y)}
    shape = (ny, nx)
    return HyperMap(surface=surf.name, settings=_public(fixed), start=start, steps=steps,
                    tolerance=tolerance, param_x=param_x, values_x=vx,
                    scale_x=_scale_of(spec.name, param_x, vx), param_y=param_y, values_y=vy,
                    scale_y=_scale_of(spec.name, param_y, vy),
                    final_loss=res.loss_final.reshape(shape),
                    steps_to_tolerance=res.reached_at.reshape(shape),
                    diverged_at=res.diverged_at.reshape(shape),
                    final_xy=res.xy_final.reshape(shape + (2,)))


def _scale_of(optimizer, param, values):
    scale = axis_scale(optimizer, param)
    return "log" if scale == "log" and (values > 0).all() else "linear"


# ---- noise ensembles ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Ensemble:
    """K noisy runs from one start, summarized per step (coordinate-wise quantiles over the runs
    that have not diverged by that step)."""

    surface: str
    settings: dict
    start: tuple
    steps: int
    k: int
    quantiles: tuple          # QUANTILES: 0.1, 0.25, 0.5, 0.75, 0.9
    xy: np.ndarray            # (len(quantiles), steps + 1, 2) position quantiles per step
    loss: np.ndarray          # (len(quantiles), steps + 1) loss quantiles per step
    alive: np.ndarray         # (steps + 1,) runs not diverged at each step
    diverged_at: np.ndarray   # (K,) -1 if it did not
    final_xy: np.ndarray = field(repr=False, default=None)   # (K, 2)

    def band(self, q: float) -> int:
        return self.quantiles.index(q)

    @property
    def median_xy(self) -> np.ndarray:
        return self.xy[self.band(0.5)]

    @property
    def median_loss(self) -> np.ndarray:
        return self.loss[self.band(0.5)]


def noise_ensemble(surface, optimizer, k=100, noise=None, seed=None, steps=500, start=None
                   ) -> Ensemble:
    """K runs of `optimizer` (a name or scene-style entry) from `start` with gradient noise σ.

    Run j draws trajectory j's noise of the seed, so run 0 is the race's run with the same
    settings. Quantiles are taken per step over the runs still alive (NaN where none is)."""
    surf = _surface(surface)
    settings = _override(_settings(optimizer), noise, seed)
    k = check_int("k", k, 1, MAX_ENSEMBLE)
    steps = check_int("steps", steps, 1, optim_core.MAX_STEPS)
    start = surf.start if start is None else start
    try:
        start = tuple(float(v) for v in start)
    except (TypeError, ValueError):
        raise ValueError(f"start must be two numbers (x, y), got {start!r:.80}") from None
    if len(start) != 2:
        raise ValueError(f"start must be two numbers (x, y), got {start!r:.80}")
    traj = optim_core.run(surf, settings["optimizer"], np.tile(start, (k, 1)), steps,
                          lr=settings["lr"], schedule=settings["schedule"],
                          noise=settings["noise"], seed=settings["seed"],
                          **settings["hyperparameters"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # all-NaN steps: NaN, no warning
        xy = np.nanquantile(traj.xy, QUANTILES, axis=1)      # (Q, steps + 1, 2)
        loss = np.nanquantile(traj.loss, QUANTILES, axis=1)  # (Q, steps + 1)
    alive = np.count_nonzero(np.isfinite(traj.loss), axis=1)
    last = traj.xy[-1]
    return Ensemble(surface=surf.name, settings=_public(settings), start=start, steps=steps,
                    k=k, quantiles=QUANTILES, xy=xy, loss=loss, alive=alive,
                    diverged_at=traj.diverged_at.copy(), final_xy=last.copy())


# ---- CSV ---------------------------------------------------------------------------------------

def _num(v) -> str:
    """repr of a float (reads back to the same float); NaN -> ''."""
    v = float(v)
    return "" if math.isnan(v) else repr(v)


def _step(v) -> str:
    return "" if v < 0 else str(int(v))


def grid_csv(result) -> str:
    """One row per cell (BasinMap, HyperMap) or per step (Ensemble), numbers written exactly;
    NaN and "never" (-1) are empty."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    if isinstance(result, BasinMap):
        w.writerow(("ix", "iy", "x", "y", "outcome", "minimum", "steps_to_tolerance",
                    "diverged_at", "final_x", "final_y", "final_loss", "distance"))
        for iy, y in enumerate(result.ys):
            for ix, x in enumerate(result.xs):
                m = int(result.minimum[iy, ix])
                outcome = ("diverged" if m == DIVERGED else
                           "not_converged" if m == NOT_CONVERGED else "minimum")
                w.writerow((ix, iy, _num(x), _num(y), outcome, "" if m < 0 else m,
                            _step(result.steps_to_tolerance[iy, ix]),
                            _step(result.diverged_at[iy, ix]),
                            _num(result.final_xy[iy, ix, 0]), _num(result.final_xy[iy, ix, 1]),
                            _num(result.final_loss[iy, ix]), _num(result.distance[iy, ix])))
    elif isinstance(result, HyperMap):
        w.writerow(("ix", "iy", result.param_x, result.param_y, "final_loss",
                    "steps_to_tolerance", "diverged_at", "final_x", "final_y"))
        for iy, vy in enumerate(result.values_y):
            for ix, vx in enumerate(result.values_x):
                w.writerow((ix, iy, _num(vx), _num(vy), _num(result.final_loss[iy, ix]),
                            _step(result.steps_to_tolerance[iy, ix]),
                            _step(result.diverged_at[iy, ix]),
                            _num(result.final_xy[iy, ix, 0]), _num(result.final_xy[iy, ix, 1])))
    elif isinstance(result, Ensemble):
        tags = [f"q{round(q * 100):02d}" for q in result.quantiles]
        w.writerow(("step", "alive", *(f"x_{t}" for t in tags), *(f"y_{t}" for t in tags),
                    *(f"loss_{t}" for t in tags)))
        for s in range(result.steps + 1):
            w.writerow((s, int(result.alive[s]), *(_num(v) for v in result.xy[:, s, 0]),
                        *(_num(v) for v in result.xy[:, s, 1]),
                        *(_num(v) for v in result.loss[:, s])))
    else:
        raise ValueError(f"grid_csv takes a BasinMap, HyperMap or Ensemble, "
                         f"got {type(result).__name__}")
    return out.getvalue()


def write_csv(result, path) -> None:
    """grid_csv(result) into the file at `path`."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(grid_csv(result))
