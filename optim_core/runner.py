"""run(): validate once, then one loop over steps that advances every trajectory together.

Inside, positions live as a (2, N) array (x and y rows contiguous, an (N,) hyperparameter
broadcasts as (1, N)); the public arrays are (steps+1, N, 2). Divergence is data: one errstate
around the loop, then the first row where a trajectory left the surface's divergence box or its
loss stopped being finite is its `diverged_at`, and everything after it is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .registry import OPTIMIZERS
from .schedules import MAX_STEPS, Plateau, lr_table, normalize_schedule
from .validation import check_bool, check_int, check_name, check_real

MAX_TRAJECTORIES = 100_000
MAX_POINTS = 20_000_000      # N x (steps + 1): about 0.5 GB of recorded float64 arrays
MAX_SEED = 2**32 - 1


@dataclass(frozen=True, eq=False)
class Trajectory:
    """The result of run(): what happened to each of N trajectories at every step."""

    xy: np.ndarray            # (steps + 1, N, 2) positions, row 0 = start; NaN once diverged
    loss: np.ndarray          # (steps + 1, N) loss at each position; NaN once diverged
    lr: np.ndarray            # (steps, N) learning rate applied at each step; NaN once diverged
    diverged_at: np.ndarray   # (N,) first row that left the box or was non-finite, -1 if none
    optimizer: str
    hyperparameters: dict     # every hyperparameter, defaults filled in (floats or (N,) arrays)
    schedule: dict            # the schedule with every parameter filled in
    surface: str
    noise: float | np.ndarray = 0.0
    seed: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return self.lr.shape[0]

    @property
    def n(self) -> int:
        return self.xy.shape[1]


def _resolve_surface(surface):
    if isinstance(surface, str):
        import landscapes

        return landscapes.get(surface)
    if not hasattr(surface, "value_and_grad"):
        raise ValueError(f"surface must be a landscape name or a landscapes.Landscape, "
                         f"got {type(surface).__name__}")
    return surface


def _check_hyperparameters(spec, given: dict) -> dict:
    owner = f"optimizer {spec.name!r}"
    known = {p.name for p in spec.hyper}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f"unknown hyperparameter {unknown[0]!r} for {owner}; its hyperparameters "
                         f"are: lr, {', '.join(p.name for p in spec.hyper)}")
    values = {}
    for p in spec.hyper:
        value = given.get(p.name, p.default)
        if p.kind == "bool":
            values[p.name] = check_bool(p.name, value, owner=owner)
        else:
            values[p.name] = check_real(p.name, value, p.low, p.high, low_open=p.low_open,
                                        high_open=p.high_open, owner=owner)
    return values


def _check_x0(x0, box):
    try:
        arr = np.array(x0, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"x0 must be numbers of shape (2,) or (N, 2), got {x0!r:.80}") from None
    if arr.shape == (2,):
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise ValueError(f"x0 must have shape (2,) or (N, 2), got shape {arr.shape}")
    if arr.shape[0] > MAX_TRAJECTORIES:
        raise ValueError(f"x0 holds {arr.shape[0]} start points; at most {MAX_TRAJECTORIES} allowed")
    if not np.isfinite(arr).all():
        raise ValueError("x0 must be finite, got a NaN or infinite coordinate")
    (x_lo, x_hi), (y_lo, y_hi) = box
    if ((arr[:, 0] < x_lo) | (arr[:, 0] > x_hi) | (arr[:, 1] < y_lo) | (arr[:, 1] > y_hi)).any():
        raise ValueError(f"x0 must lie inside the surface's box x in [{x_lo:g}, {x_hi:g}], "
                         f"y in [{y_lo:g}, {y_hi:g}]")
    return arr


def _batch_size(x0, arrays) -> int:
    sizes = {len(a) for a in arrays}
    if x0.shape[0] > 1:
        sizes.add(x0.shape[0])
    if len(sizes) > 1:
        raise ValueError(f"x0 and the per-trajectory hyperparameter arrays must agree on N, "
                         f"got lengths {sorted(sizes)}")
    return sizes.pop() if sizes else 1


def run(surface, optimizer, x0, steps, *, lr=None, schedule=None, noise=0.0, seed=0,
        **hyperparameters) -> Trajectory:
    """Run `steps` updates of `optimizer` on `surface` from every start point in x0 at once.

    surface: a landscapes.Landscape or its name. optimizer: a name from optim_core.OPTIMIZERS.
    x0: (2,) or (N, 2). lr and every hyperparameter: a number or an (N,) array (one per
    trajectory). lr=None takes torch's default for the optimizer. schedule: None, a name or a dict.
    noise: standard deviation of Gaussian noise added to every gradient (reproducible from seed).
    Raises ValueError for invalid input; never raises or warns because a trajectory diverged.
    """
    name = check_name("optimizer", optimizer, tuple(OPTIMIZERS))
    spec = OPTIMIZERS[name]
    surf = _resolve_surface(surface)
    steps = check_int("steps", steps, 1, MAX_STEPS)
    hp = _check_hyperparameters(spec, hyperparameters)
    lr = check_real("lr", spec.lr if lr is None else lr, 0.0, None, low_open=True,
                    owner=f"optimizer {name!r}")
    noise = check_real("noise", noise, 0.0, None)
    seed = check_int("seed", seed, 0, MAX_SEED)
    sched = normalize_schedule(schedule, steps)
    box = surf.divergence_box
    x0 = _check_x0(x0, box)
    arrays = [v for v in (lr, noise, *hp.values()) if isinstance(v, np.ndarray)]
    n = _batch_size(x0, arrays)
    if n * (steps + 1) > MAX_POINTS:
        raise ValueError(f"steps x trajectories too large: {steps} steps x {n} trajectories; "
                         f"at most {MAX_POINTS} recorded points allowed")

    def per_trajectory(v):      # (N,) -> (1, N), broadcasting against the (2, N) state
        return v[None, :] if isinstance(v, np.ndarray) else v

    step = spec.make({k: per_trajectory(v) for k, v in hp.items()}, (2, n))
    theta = np.array(np.broadcast_to(x0, (n, 2)).T, order="C")
    grad = np.empty((2, n))
    xy = np.empty((steps + 1, 2, n))
    loss = np.empty((steps + 1, n))
    value_and_grad = surf.value_and_grad
    plateau = sched["name"] == "plateau"
    if plateau:
        schedule_state = Plateau(sched, lr, n)
        lrs = np.empty((steps, n))
    else:
        lrs = lr_table(sched, lr, steps)
        rates = lrs.tolist() if lrs.ndim == 1 else lrs[:, None, :]
    noisy = np.any(noise)
    if noisy:
        rng = np.random.default_rng(seed)
        kick = np.empty((2, n))
        sigma = per_trajectory(noise)

    with np.errstate(all="ignore"):
        for k in range(steps):
            xy[k] = theta
            loss[k] = value_and_grad(theta, grad)
            if noisy:
                rng.standard_normal(out=kick)
                kick *= sigma
                grad += kick
            if plateau:
                rate = lrs[k] = schedule_state.update(loss[k]) if k else schedule_state.lr
                step(theta, grad, rate[None, :])
            else:
                step(theta, grad, rates[k])
        xy[steps] = theta
        loss[steps] = value_and_grad(theta, grad)
        after = _mark_divergence(xy, loss, box)
    lrs = np.broadcast_to(lrs[:, None], (steps, n)) if lrs.ndim == 1 else lrs
    diverged_at = np.where(after.any(axis=0), np.argmax(after, axis=0), -1)
    if after.any():
        lrs = np.where(after[:steps], np.nan, lrs)
    return Trajectory(xy=xy.transpose(0, 2, 1), loss=loss, lr=lrs, diverged_at=diverged_at,
                      optimizer=name, hyperparameters=hp, schedule=sched, surface=surf.name,
                      noise=noise, seed=seed)


def _mark_divergence(xy, loss, box) -> np.ndarray:
    """Set NaN from each trajectory's first bad row on; return the (rows, N) mask of those rows.

    A row is bad when the position left the divergence box or the loss is not finite.
    """
    (x_lo, x_hi), (y_lo, y_hi) = box
    x, y = xy[:, 0], xy[:, 1]
    # A comparison with NaN is False, so "not inside" also catches NaN positions.
    inside = (x >= x_lo) & (x <= x_hi) & (y >= y_lo) & (y <= y_hi) & (np.abs(loss) < np.inf)
    after = np.logical_or.accumulate(~inside, axis=0)
    if after.any():
        x[after] = np.nan
        y[after] = np.nan
        loss[after] = np.nan
    return after
