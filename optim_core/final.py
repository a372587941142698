"""run_final(): the runs a map needs, keeping only their ends, in O(N) memory.

A map is thousands of runs of which it shows one number each, so nothing per step is kept: per
trajectory the final position and loss, the first row within tolerance, the row it diverged at.
Every value equals what run() records for that trajectory (same rules, same noise, same checks;
tests compare bit for bit), whatever the chunking:

- Trajectories run in chunks: the unit of progress, cancelling and threads (NumPy releases
  the GIL inside its loops, so chunks on two threads use two cores; big chunks keep its
  per-call cost, paid with the GIL held, small). A chunk's rule takes the branches of the whole
  batch (hp[KEEP_TERMS]), so a chunk whose momentum is all zero still rounds like its batch.
- Diverged trajectories stop costing work: when enough have died for it to pay, the chunk is
  compacted (its rule rebuilt for the survivors, torch's state buffers and the step count
  carried over). Converged ones keep running: the rules never stop moving exactly (Adam's
  momentum decays for ever), so freezing them would change their final position.
- The loss of a row is computed only when something reads it: the tolerance, a plateau
  schedule, or a surface whose loss may be non-finite inside the divergence box (a typed
  formula). Otherwise a finite position inside the box has a finite loss, the box alone decides
  divergence, and each step computes the gradient only (a third fewer calls on Rosenbrock); the
  last row's loss is computed as before.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from ._ops import KEEP_TERMS
from .noise import NoiseStream
from .runner import _Member, _resolve_surface, _row
from .schedules import MAX_STEPS, Plateau, lr_table
from .validation import check_int, check_real

MAX_FINAL_TRAJECTORIES = 1 << 20    # a 1024 x 1024 map: ~60 MB of inputs and results
DEFAULT_CHUNK = 16384               # (2, 16384) float64 rows: 256 kB, a step is ~30 NumPy calls
MAX_WORKERS = 32
LR_BLOCK = 64                       # rows of a per-trajectory lr table made at a time
COMPACT_PAYBACK = 8                 # compact when dead x remaining steps >= this x live columns
CANCEL_EVERY = 32                   # steps between looks at the cancel flag


class Cancelled(Exception):
    """progress() returned False: run_final stopped early; nothing is returned.

    done/total count trajectories (those of the chunks finished before the stop).
    """

    def __init__(self, done: int, total: int):
        super().__init__(f"run cancelled by its progress callback after {done} of {total} "
                         f"trajectories")
        self.done, self.total = done, total


@dataclass(frozen=True, eq=False)
class FinalState:
    """What run_final keeps of each of N trajectories: the ends, not the paths."""

    xy_final: np.ndarray      # (N, 2) position after `steps` steps; NaN if diverged
    loss_final: np.ndarray    # (N,) loss there; NaN if diverged
    reached_at: np.ndarray    # (N,) first row k (0 = start) with loss - target <= tolerance
                              # and not diverged by then; -1 if never or tolerance is None
    diverged_at: np.ndarray   # (N,) first row that left the divergence box or had a
                              # non-finite loss, as Trajectory.diverged_at; -1 if none
    steps: int
    tolerance: float | None
    optimizer: str
    hyperparameters: dict     # every hyperparameter, defaults filled in (floats or (N,) arrays)
    schedule: dict
    surface: str
    lr: float | np.ndarray
    noise: float | np.ndarray = 0.0
    seed: int = 0

    @property
    def n(self) -> int:
        return self.xy_final.shape[0]

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0


class _Job:
    """The validated run, shared read-only by every chunk, and the result arrays they fill."""

    def __init__(self, surf, member: _Member, steps: int, tolerance, target, noise_index):
        self.surf, self.m, self.steps, self.tolerance = surf, member, steps, tolerance
        self.target, self.noise_index = target, noise_index
        n = member.n
        self.xy = np.full((n, 2), np.nan)
        self.loss = np.full(n, np.nan)
        self.reached = np.full(n, -1, dtype=np.int64)
        self.diverged = np.full(n, -1, dtype=np.int64)
        # Branches of the whole batch: every real hyperparameter non-zero somewhere keeps its term.
        self.keep_terms = frozenset(p.name for p in member.spec.hyper if p.kind != "bool"
                                    and np.any(member.hp[p.name]))
        self.rates = None
        if member.schedule["name"] != "plateau" and not isinstance(member.lr, np.ndarray):
            self.rates = lr_table(member.schedule, member.lr, steps).tolist()

    def slice(self, value, cols):
        return value[cols] if isinstance(value, np.ndarray) else value


class _Chunk:
    """The live columns of one chunk: positions, the rule, lr, noise, bookkeeping per column."""

    def __init__(self, job: _Job, lo: int, hi: int):
        m, n = job.m, hi - lo
        self.job = job
        self.pos = np.arange(lo, hi)                       # index into the results, per column
        self.hp = {k: job.slice(v, slice(lo, hi)) for k, v in m.hp.items()}
        self.lr = job.slice(m.lr, slice(lo, hi))
        x0 = m.x0 if m.x0.shape[0] == 1 else m.x0[lo:hi]
        self.theta = np.array(np.broadcast_to(x0, (n, 2)).T, order="C")   # a writable copy
        self.grad = np.empty((2, n))
        self.step = self._rule(n)
        self.plateau = (Plateau(m.schedule, self.lr, n) if m.schedule["name"] == "plateau"
                        else None)
        self.block, self.block_at = None, 0                # per-trajectory lr rows
        self.kicks = None
        if np.any(m.noise):
            self.kicks = NoiseStream(m.seed, job.noise_index[lo:hi],
                                     _row(job.slice(m.noise, slice(lo, hi))), job.steps)
        self.alive = np.ones(n, dtype=bool)
        self.dead = 0
        # Tolerance per column: NaN once reached or dead (NaN compares False).
        tol = job.tolerance
        self.thr = None if tol is None else np.full(n, float(tol))
        self.pending = 0 if tol is None else n
        self.target = job.slice(job.target, slice(lo, hi))

    def _rule(self, n):
        hp = {k: _row(v) for k, v in self.hp.items()}
        hp[KEEP_TERMS] = self.job.keep_terms
        return self.job.m.spec.make(hp, (2, n))

    def rate(self, k, loss):
        """The learning rate of step k: a float, or (1, n) per trajectory."""
        job = self.job
        if self.plateau is not None:
            return (self.plateau.update(loss) if k else self.plateau.lr)[None, :]
        if job.rates is not None:
            return job.rates[k]
        if self.block is None or k >= self.block_at + self.block.shape[0]:
            self.block_at = k
            stop = min(k + LR_BLOCK, job.steps)
            self.block = lr_table(job.m.schedule, self.lr, job.steps, k, stop)[:, None, :]
        return self.block[k - self.block_at]

    def check(self, k, loss):
        """Row k: mark trajectories that left the box or went non-finite, then tolerance.

        loss is None on rows where nothing reads it (see the module's note): the box decides.
        """
        job = self.job
        (x_lo, x_hi), (y_lo, y_hi) = job.surf.divergence_box
        theta = self.theta
        fine = False
        if not self.dead:
            # Fast path: the extremes of every coordinate (NaN fails every comparison).
            low, high = theta.min(axis=1), theta.max(axis=1)
            fine = (low[0] >= x_lo and high[0] <= x_hi and low[1] >= y_lo and high[1] <= y_hi
                    and (loss is None or math.isfinite(loss.sum())))
        if not fine:
            x, y = theta
            ok = (x >= x_lo) & (x <= x_hi) & (y >= y_lo) & (y <= y_hi)
            if loss is not None:
                ok &= np.abs(loss) < np.inf
            newly = ~ok & self.alive
            if newly.any():
                job.diverged[self.pos[newly]] = k
                self.alive &= ~newly
                self.dead += int(np.count_nonzero(newly))
                if self.thr is not None:
                    self.pending -= int(np.count_nonzero(~np.isnan(self.thr[newly])))
                    self.thr[newly] = np.nan
        if self.pending:
            target = self.target
            gap = loss if isinstance(target, float) and target == 0.0 else loss - target
            hit = gap <= self.thr
            if hit.any():
                job.reached[self.pos[hit]] = k
                self.thr[hit] = np.nan
                self.pending -= int(np.count_nonzero(hit))

    def compact(self) -> np.ndarray:
        """Drop the dead columns: a rule rebuilt for the survivors continues where it was.

        Called between the check of row k and step k; returns the kept columns.
        """
        keep = np.flatnonzero(self.alive)
        old = self.step
        self.hp = {k: v[keep] if isinstance(v, np.ndarray) else v for k, v in self.hp.items()}
        if isinstance(self.lr, np.ndarray):
            self.lr = self.lr[keep]
        n = keep.size
        self.step = self._rule(n)
        for name, value in old.state.items():
            if isinstance(value, np.ndarray) and value.shape[-1] == self.alive.size:
                value = value[..., keep]
                target = self.step.state[name]
                if isinstance(target, np.ndarray) and target.shape == value.shape:
                    np.copyto(target, value)     # the rule's closures hold this very array
                    continue
            self.step.state[name] = value       # a scalar or a per-step reassigned (1, n)
        resume = getattr(self.step, "resume", None)
        if resume is not None:
            resume(self.steps_taken)
        self.theta = np.ascontiguousarray(self.theta[:, keep])
        self.grad = np.ascontiguousarray(self.grad[:, keep])      # step k's gradient
        self.pos = self.pos[keep]
        if self.plateau is not None:
            p = self.plateau
            p.lr, p.best = p.lr[keep], p.best[keep]
            p.bad, p.cooldown = p.bad[keep], p.cooldown[keep]
        if self.block is not None:
            self.block = np.ascontiguousarray(self.block[:, :, keep])
        if self.kicks is not None:
            self.kicks.take(keep)
        if self.thr is not None:
            self.thr = self.thr[keep]
        if isinstance(self.target, np.ndarray):
            self.target = self.target[keep]
        self.alive = np.ones(n, dtype=bool)
        self.dead = 0
        return keep

    def run(self, cancel):
        """Advance to the last step; False if cancel was set on the way."""
        job = self.job
        steps, vg = job.steps, job.surf.value_and_grad
        every_loss = (job.tolerance is not None or self.plateau is not None
                      or not job.surf.finite_in_box)
        gradient_into = job.surf.gradient_into
        self.steps_taken = 0
        loss = None
        for k in range(steps + 1):
            if every_loss or k == steps:
                loss = vg(self.theta, self.grad)
            else:
                gradient_into(self.theta, self.grad)
            self.check(k, loss)
            if k == steps:
                break
            if self.dead:
                if self.dead == self.alive.size:          # all diverged: nothing left to run
                    return True
                if self.dead * (steps - k) >= COMPACT_PAYBACK * (self.alive.size - self.dead):
                    keep = self.compact()
                    loss = None if loss is None else loss[keep]
            if cancel is not None and k % CANCEL_EVERY == 0 and cancel.is_set():
                return False
            if self.kicks is not None:
                self.grad += self.kicks.kick(k)
            self.step(self.theta, self.grad, self.rate(k, loss))
            self.steps_taken = k + 1
        live = self.alive
        job.xy[self.pos[live]] = self.theta[:, live].T
        job.loss[self.pos[live]] = loss[live]
        return True


def _chunk_job(job, lo, hi, cancel):
    with np.errstate(all="ignore"):          # per thread: divergence is data, not a warning
        return _Chunk(job, lo, hi).run(cancel)


def _noise_index(index, n) -> np.ndarray:
    if index is None:
        return np.arange(n)
    try:
        arr = np.asarray(index)
    except (TypeError, ValueError):
        arr = np.asarray([])
    if arr.dtype.kind not in "iu" or arr.ndim > 1 or (arr.ndim == 1 and arr.shape != (n,)) \
            or (arr < 0).any() or (arr > 2**62).any():
        raise ValueError(f"noise_index must be an integer >= 0 or {n} of them (one per "
                         f"trajectory), got {index!r:.80}")
    return np.broadcast_to(arr.astype(np.int64), (n,))


def run_final(surface, optimizer, x0, steps, *, lr=None, schedule=None, noise=0.0, seed=0,
              tolerance=None, target=None, noise_index=None, chunk=None, progress=None,
              workers=1, **hyperparameters) -> FinalState:
    """run() for maps: the same runs, but only their ends are kept (memory O(N), not O(steps N)).

    Arguments as run() (x0 up to MAX_FINAL_TRAJECTORIES starts); trajectory i equals run()'s
    trajectory i of the same batch bit for bit, noise included. tolerance: loss - target at or
    below which a trajectory counts as arrived (reached_at); None: not tracked. target: the
    surface's f_min by default, or a number or (N,) array (e.g. the value of the minimum each
    run ends in). noise_index: which trajectory's noise each one draws (an int or (N,) ints
    >= 0; default 0..N-1, as run()): 0 for all gives every start the race's draws. chunk:
    trajectories per chunk (default DEFAULT_CHUNK); results never depend on it. workers:
    threads running chunks at once (NumPy releases the GIL inside its loops); results never
    depend on it. progress(done, total): called with 0 first and after each chunk, done
    counting finished trajectories; returning False (not None) cancels: the run stops within
    a few dozen steps and raises Cancelled. Raises ValueError for invalid input, never because
    a trajectory diverged.
    """
    surf = _resolve_surface(surface)
    steps = check_int("steps", steps, 1, MAX_STEPS)
    entry = dict(optimizer=optimizer, x0=x0, lr=lr, schedule=schedule, noise=noise, seed=seed,
                 hyperparameters=hyperparameters)
    member = _Member(entry, steps, surf.divergence_box, "run", limit=MAX_FINAL_TRAJECTORIES)
    if tolerance is not None:
        tolerance = check_real("tolerance", tolerance, 0.0, None)
    chunk = DEFAULT_CHUNK if chunk is None else check_int("chunk", chunk, 1, MAX_FINAL_TRAJECTORIES)
    workers = check_int("workers", workers, 1, MAX_WORKERS)
    if progress is not None and not callable(progress):
        raise ValueError(f"progress must be a callable progress(done, total) or None, "
                         f"got {type(progress).__name__}")
    n = member.n
    if n > MAX_FINAL_TRAJECTORIES:
        raise ValueError(f"the per-trajectory arrays hold {n} trajectories; at most "
                         f"{MAX_FINAL_TRAJECTORIES} allowed")
    target = surf.f_min if target is None else check_real("target", target)
    if isinstance(target, np.ndarray) and target.shape != (n,):
        raise ValueError(f"target must be a number or one per trajectory ({n}), "
                         f"got shape {target.shape}")
    job = _Job(surf, member, steps, tolerance, target, _noise_index(noise_index, n))
    bounds = [(lo, min(lo + chunk, n)) for lo in range(0, n, chunk)]

    def report(done):
        if progress is not None and progress(done, n) is False:
            raise Cancelled(done, n)

    report(0)
    done = 0
    if workers == 1 or len(bounds) == 1:
        for lo, hi in bounds:
            _chunk_job(job, lo, hi, None)
            done += hi - lo
            report(done)
    else:
        cancel = threading.Event()
        with ThreadPoolExecutor(max_workers=min(workers, len(bounds))) as pool:
            running = {pool.submit(_chunk_job, job, lo, hi, cancel): hi - lo for lo, hi in bounds}
            try:
                while running:
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        future.result()
                        done += running.pop(future)
                    report(done)
            except BaseException:
                cancel.set()
                for future in running:
                    future.cancel()
                raise
    return FinalState(xy_final=job.xy, loss_final=job.loss, reached_at=job.reached,
                      diverged_at=job.diverged, steps=steps, tolerance=tolerance,
                      optimizer=member.spec.name, hyperparameters=member.hp,
                      schedule=member.schedule, surface=surf.name, lr=member.lr,
                      noise=member.noise, seed=member.seed)
