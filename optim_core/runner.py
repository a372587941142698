"""run(): validate once, then one loop over steps that advances every trajectory together.

Inside, positions live as a (2, N) array (x and y rows contiguous, an (N,) hyperparameter
broadcasts as (1, N)); the public arrays are (steps+1, N, 2). Divergence is data: one errstate
around the loop, then the first row where a trajectory left the surface's divergence box or its
loss stopped being finite is its `diverged_at`, and everything after it is NaN.

With record_state=True the member's step is wrapped (_Recorder) to copy the gradient it was
handed and torch's state buffers into preallocated rows, and the update is the difference of the
raw positions; without it nothing is wrapped and the loop is exactly the unrecorded one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .noise import NoiseStream
from .registry import OPTIMIZERS
from .schedules import MAX_STEPS, Plateau, lr_table, normalize_schedule
from .validation import check_bool, check_int, check_name, check_real

MAX_TRAJECTORIES = 100_000
MAX_POINTS = 20_000_000      # N x (steps + 1): about 0.5 GB of recorded float64 arrays
MAX_STATE_POINTS = 5_000_000  # N x (steps + 1) of record_state runs: up to 5 more (.., N, 2) arrays
MAX_SEED = 2**32 - 1
BLOCK = 64                   # steps between folds of the recorded rows into the running range


@dataclass(frozen=True, eq=False)
class Trajectory:
    """The result of run(): what happened to each of N trajectories at every step.

    With record_state=True, also what the optimizer computed (else grad/update are None and
    state is {}):

    - grad (steps, N, 2): the gradient step k used, at xy[k], after the noise and before torch's
      L2 weight-decay term (the p.grad handed to torch's step()).
    - update (steps, N, 2): the change of position step k applied, xy[k + 1] - xy[k] (weight
      decay included, AdamW's and Lion's decoupled shrink too).
    - state: torch's optimizer.state[p] buffers by torch's name (the "step" counter left out):
      name -> (steps + 1, N, 2), or (steps + 1, N) for a scalar per trajectory (NAdam's
      mu_product). Row k is the state after step k; row 0 the state before the first step: the
      value torch creates it with (zeros; Adagrad's sum = initial_accumulator_value; NAdam's
      mu_product = 1), and zeros for SGD's momentum_buffer, which torch only creates at step 1
      as a copy of the gradient. The keys are exactly torch's for that configuration: none for
      plain SGD, momentum_buffer for momentum/nesterov, sum (Adagrad); square_avg, plus
      momentum_buffer when momentum > 0 and grad_avg when centered (RMSprop); square_avg,
      acc_delta (Adadelta); exp_avg, exp_avg_sq, plus max_exp_avg_sq for amsgrad (Adam, AdamW,
      AMSGrad, RAdam); exp_avg, exp_inf (Adamax); mu_product, exp_avg, exp_avg_sq (NAdam);
      exp_avg (Lion). In a sweep, a buffer some trajectories need (momentum > 0) is kept for all.

    After divergence these are NaN like the positions: what a step is given (lr, grad) from
    step diverged_at on, what it produces (update[k] leads to xy[k + 1], state row k pairs with
    xy[k]) wherever the position it leads to is NaN, so update equals np.diff(xy, axis=0).
    """

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
    grad: np.ndarray | None = None      # (steps, N, 2) with record_state, else None
    update: np.ndarray | None = None    # (steps, N, 2) with record_state, else None
    state: dict = field(default_factory=dict)   # torch's buffer name -> (steps + 1, N[, 2])

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


def _check_x0(x0, box, limit=MAX_TRAJECTORIES):
    try:
        arr = np.array(x0, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"x0 must be numbers of shape (2,) or (N, 2), got {x0!r:.80}") from None
    if arr.shape == (2,):
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise ValueError(f"x0 must have shape (2,) or (N, 2), got shape {arr.shape}")
    if arr.shape[0] > limit:
        raise ValueError(f"x0 holds {arr.shape[0]} start points; at most {limit} allowed")
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


class _Member:
    """One entry of a batch: its validated inputs, its slice of the shared state, its loop state."""

    def __init__(self, entry, steps, box, owner, limit=MAX_TRAJECTORIES):
        if not isinstance(entry, dict):
            raise ValueError(f"{owner} must be a dict of run arguments, got {type(entry).__name__}")
        entry = dict(entry)
        hyper = dict(entry.pop("hyperparameters", None) or {})
        name = check_name("optimizer", entry.pop("optimizer", None), tuple(OPTIMIZERS))
        self.spec = OPTIMIZERS[name]
        lr, schedule = entry.pop("lr", None), entry.pop("schedule", None)
        noise, seed = entry.pop("noise", 0.0), entry.pop("seed", 0)
        self.record_state = check_bool("record_state", entry.pop("record_state", False))
        if "x0" not in entry:
            raise ValueError(f"{owner} has no x0 (start point)")
        x0 = entry.pop("x0")
        hyper.update(entry)             # the rest are hyperparameters given as keywords
        self.hp = _check_hyperparameters(self.spec, hyper)
        self.lr = check_real("lr", self.spec.lr if lr is None else lr, 0.0, None, low_open=True,
                             owner=f"optimizer {name!r}")
        self.noise = check_real("noise", noise, 0.0, None)
        self.seed = check_int("seed", seed, 0, MAX_SEED)
        self.schedule = normalize_schedule(schedule, steps)
        self.x0 = _check_x0(x0, box, limit)
        arrays = [v for v in (self.lr, self.noise, *self.hp.values()) if isinstance(v, np.ndarray)]
        self.n = _batch_size(self.x0, arrays)

    def start(self, theta, grad, lo, steps):
        """Take columns lo:lo+n of the shared (2, N) state and build the update and the rates."""
        n, self.cols = self.n, slice(lo, lo + self.n)
        self.theta, self.grad = theta[:, self.cols], grad[:, self.cols]
        self.theta[...] = np.broadcast_to(self.x0, (n, 2)).T
        self.step = self.spec.make({k: _row(v) for k, v in self.hp.items()}, (2, n))
        self.recorder = None
        if self.record_state:
            self.recorder = _Recorder(self.step, steps, n)
            self.step = self.recorder.step
        self.plateau = Plateau(self.schedule, self.lr, n) if self.schedule["name"] == "plateau" else None
        if self.plateau is not None:
            self.lrs = np.empty((steps, n))
        else:
            self.lrs = lr_table(self.schedule, self.lr, steps)
            self.rates = self.lrs.tolist() if self.lrs.ndim == 1 else self.lrs[:, None, :]
        self.noisy = bool(np.any(self.noise))
        if self.noisy:
            # Trajectory j's kicks depend on (seed, j, step) only: the same in any batch.
            self.kicks = NoiseStream(self.seed, np.arange(n), _row(self.noise), steps)

    def advance(self, k, loss_k):
        """Optimizer step k for this member's columns (the gradient is already in self.grad)."""
        if self.noisy:
            self.grad += self.kicks.kick(k)
        if self.plateau is not None:
            rate = self.plateau.update(loss_k[self.cols]) if k else self.plateau.lr
            self.lrs[k] = rate
            self.step(self.theta, self.grad, rate[None, :])
        else:
            self.step(self.theta, self.grad, self.rates[k])

    def result(self, xy, loss, diverged_at, steps, surface_name) -> Trajectory:
        n, cols = self.n, self.cols
        lrs = np.broadcast_to(self.lrs[:, None], (steps, n)) if self.lrs.ndim == 1 else self.lrs
        gone = diverged_at[cols]
        if (gone >= 0).any():
            rows = np.arange(steps)[:, None]
            lrs = np.where(rows >= np.where(gone >= 0, gone, steps), np.nan, lrs)
        recorded = {} if self.recorder is None else self.recorder.result(gone)
        return Trajectory(xy=xy[:, :, cols].transpose(0, 2, 1), loss=loss[:, cols], lr=lrs,
                          diverged_at=gone, optimizer=self.spec.name, hyperparameters=self.hp,
                          schedule=self.schedule, surface=surface_name, noise=self.noise,
                          seed=self.seed, **recorded)


class _Recorder:
    """record_state: wraps an optimizer's step(theta, g, lr) to keep what it computes.

    Per step: g as handed over (noise added, L2 not yet: the rules add it in place) and a copy
    of every buffer in step.state, torch's optimizer.state[p]. The update is taken once at the
    end from the raw positions (finish), before divergence turns them into NaN. Rows live as
    (rows, 2, n) like the runner's xy; a scalar per trajectory (mu_product) as (rows, 1, n).
    """

    def __init__(self, inner, steps, n):
        self.inner, self.live, self.k = inner, inner.state, 0
        self.grad, self.update = np.empty((steps, 2, n)), None
        self.state = {}
        for name, value in self.live.items():
            rows = np.empty((steps + 1, 2 if np.ndim(value) == 2 and np.shape(value)[0] == 2
                             else 1, n))
            np.copyto(rows[0], value)           # before step 1: the buffer as created
            self.state[name] = rows

    def step(self, theta, g, lr):
        k = self.k
        np.copyto(self.grad[k], g)
        self.inner(theta, g, lr)
        self.k = k = k + 1
        live = self.live
        for name, rows in self.state.items():
            np.copyto(rows[k], live[name])

    def finish(self, xy) -> None:
        """xy: this member's raw (steps + 1, 2, n) positions; the update is their difference."""
        self.update = np.subtract(xy[1:], xy[:-1])

    def result(self, gone) -> dict:
        """grad, update and state as public arrays, NaN where the position they belong to is."""
        grad, update = self.grad.transpose(0, 2, 1), self.update.transpose(0, 2, 1)
        state = {name: rows.transpose(0, 2, 1) if rows.shape[1] == 2 else rows[:, 0, :]
                 for name, rows in self.state.items()}
        if (gone >= 0).any():
            steps = grad.shape[0]
            first = np.where(gone >= 0, gone, steps + 1)[None, :]
            rows = np.arange(steps + 1)[:, None]
            grad[rows[:-1] >= first] = np.nan          # given at a NaN position
            update[rows[:-1] + 1 >= first] = np.nan    # leads to a NaN position
            for arr in state.values():
                arr[rows >= first] = np.nan
        return {"grad": grad, "update": update, "state": state}


def _row(v):
    """(N,) -> (1, N), so a per-trajectory value broadcasts against the (2, N) state."""
    return v[None, :] if isinstance(v, np.ndarray) else v


def check_runs(surface, runs, steps) -> None:
    """Validate what run_many would be given, without running a step (ValueError naming the
    parameter): the scene's check on every slider move costs microseconds, not a run."""
    surf = _resolve_surface(surface)
    steps = check_int("steps", steps, 1, MAX_STEPS)
    if not isinstance(runs, (list, tuple)) or not runs:
        raise ValueError("runs must be a non-empty list of run descriptions")
    for i, entry in enumerate(runs):
        m = _Member(entry, steps, surf.divergence_box, f"run {i}")
        m.spec.make({k: _row(v) for k, v in m.hp.items()}, (2, m.n))


def _check_size(members, steps) -> None:
    n = sum(m.n for m in members)
    if n * (steps + 1) > MAX_POINTS:
        raise ValueError(f"steps x trajectories too large: {steps} steps x {n} trajectories; "
                         f"at most {MAX_POINTS} recorded points allowed")
    n_state = sum(m.n for m in members if m.record_state)
    if n_state * (steps + 1) > MAX_STATE_POINTS:
        raise ValueError(f"steps x trajectories too large for record_state=True: {steps} steps x "
                         f"{n_state} trajectories; at most {MAX_STATE_POINTS} recorded points "
                         f"allowed with record_state")


def run_many(surface, runs, steps) -> list[Trajectory]:
    """Advance several runs (different optimizers, settings, starts) on one surface together.

    runs: a list of dicts with the arguments of run() (optimizer, x0, lr, schedule, noise, seed,
    record_state, hyperparameters as keywords or under "hyperparameters"). One gradient
    evaluation and one recording per step serve every run, which is what makes a six-optimizer
    scene cheap. Each result equals what run() gives for that entry alone.
    """
    surf = _resolve_surface(surface)
    steps = check_int("steps", steps, 1, MAX_STEPS)
    if not isinstance(runs, (list, tuple)) or not runs:
        raise ValueError("runs must be a non-empty list of run descriptions")
    box = surf.divergence_box
    members = [_Member(entry, steps, box, f"run {i}") for i, entry in enumerate(runs)]
    _check_size(members, steps)
    n = sum(m.n for m in members)
    theta, grad = np.empty((2, n)), np.empty((2, n))
    lo = 0
    for m in members:
        m.start(theta, grad, lo, steps)
        lo += m.n
    xy = np.empty((steps + 1, 2, n))
    loss = np.empty((steps + 1, n))
    value_and_grad = surf.value_and_grad
    # Running min/max of every coordinate, folded in from the recorded rows every BLOCK steps
    # while they are still in cache: one cheap test at the end finds who may have left the box.
    low, high = theta.copy(), theta.copy()
    with np.errstate(all="ignore"):
        for k in range(steps):
            xy[k] = theta
            loss_k = loss[k]
            loss_k[...] = value_and_grad(theta, grad)
            for m in members:
                m.advance(k, loss_k)
            if k % BLOCK == BLOCK - 1:
                _fold_range(xy[k + 1 - BLOCK:k + 1], low, high)
        xy[steps] = theta
        loss[steps] = value_and_grad(theta, grad)
        for m in members:
            if m.recorder is not None:
                m.recorder.finish(xy[:, :, m.cols])
        _fold_range(xy[steps - steps % BLOCK:], low, high)
        diverged_at = _mark_divergence(xy, loss, box, low, high)
    return [m.result(xy, loss, diverged_at, steps, surf.name) for m in members]


def run(surface, optimizer, x0, steps, *, lr=None, schedule=None, noise=0.0, seed=0,
        record_state=False, **hyperparameters) -> Trajectory:
    """Run `steps` updates of `optimizer` on `surface` from every start point in x0 at once.

    surface: a landscapes.Landscape or its name. optimizer: a name from optim_core.OPTIMIZERS.
    x0: (2,) or (N, 2). lr and every hyperparameter: a number or an (N,) array (one per
    trajectory). lr=None takes torch's default for the optimizer. schedule: None, a name or a dict.
    noise: standard deviation of Gaussian noise added to every gradient; trajectory i's draws
    depend only on (seed, i, step) (optim_core.noise), so they do not change with N, and
    run_final() sees the same ones.
    record_state: also keep, per step, the gradient used, the update applied and torch's state
    buffers (Trajectory.grad, .update, .state; see Trajectory). Off, they cost nothing.
    Raises ValueError for invalid input; never raises or warns because a trajectory diverged.
    """
    entry = dict(optimizer=optimizer, x0=x0, lr=lr, schedule=schedule, noise=noise, seed=seed,
                 record_state=record_state, hyperparameters=hyperparameters)
    return run_many(surface, [entry], steps)[0]


def _fold_range(rows, low, high):
    """low/high <- elementwise min/max with rows (B, 2, N); NaN propagates, as it should."""
    np.minimum(low, rows.min(axis=0), out=low)
    np.maximum(high, rows.max(axis=0), out=high)


def _mark_divergence(xy, loss, box, low, high) -> np.ndarray:
    """Set NaN from each trajectory's first bad row on; return that row per trajectory (-1: none).

    A row is bad when its position is outside the divergence box (NaN included) or its loss is
    not finite. low/high are the running min/max of each coordinate, so only the trajectories
    that may be bad are searched row by row.
    """
    (x_lo, x_hi), (y_lo, y_hi) = box
    lo, hi = np.array([[x_lo], [y_lo]]), np.array([[x_hi], [y_hi]])
    # A comparison with NaN is False, so "not inside" also catches NaN positions.
    stayed = ((low >= lo) & (high <= hi)).all(axis=0)
    suspect = np.flatnonzero(~(stayed & np.isfinite(loss.sum(axis=0))))
    diverged_at = np.full(loss.shape[1], -1, dtype=np.int64)
    if suspect.size == 0:
        return diverged_at
    x, y, f = xy[:, 0, suspect], xy[:, 1, suspect], loss[:, suspect]
    inside = (x >= x_lo) & (x <= x_hi) & (y >= y_lo) & (y <= y_hi) & (np.abs(f) < np.inf)
    after = np.logical_or.accumulate(~inside, axis=0)
    went_bad = after.any(axis=0)
    diverged_at[suspect] = np.where(went_bad, np.argmax(after, axis=0), -1)
    x[after], y[after], f[after] = np.nan, np.nan, np.nan
    xy[:, 0, suspect], xy[:, 1, suspect], loss[:, suspect] = x, y, f
    return diverged_at
