"""Maps on a Dask cluster: the same chunks as optim_core.run_final, run as dask.distributed tasks.

    >>> from optiviz import dask_maps, maps
    >>> with dask_maps.DaskRunner() as runner:            # a LocalCluster on this machine
    ...     b = maps.basin_map("himmelblau", "adam", n=1024, runner=runner)
    >>> b = dask_maps.basin_map("himmelblau", "adam", n=1024, address="tcp://host:8786")

Why: an atlas (every optimizer on every surface at 1024²) is more than one machine does in a
sitting; the chunks of a map are independent, so they can run anywhere. The result is the same
bits as the single process (tests/test_dask_maps.py): every chunk draws its noise by its
trajectories' global indexes (optim_core.noise is counter-based) and takes the branches the
whole batch takes (the batch's KEEP_TERMS), exactly as run_final's own chunks do.

An optional extra: `pip install -r requirements-dask.txt`. Nothing else in optiviz imports this
module; without dask, DaskRunner raises DaskMissing, whose message says how to install it.
"""

from __future__ import annotations

import math

import numpy as np

import optim_core
from optim_core import final as _final
from optim_core.runner import _Member, _resolve_surface
from optim_core.validation import check_int, check_real

__all__ = ["DaskRunner", "DaskMissing", "basin_map", "hyper_map", "INSTALL_HINT"]

INSTALL_HINT = ("the Dask backend needs dask.distributed: pip install -r requirements-dask.txt "
                "(or pip install \"dask[distributed]\")")
MIN_TASK = 1024             # trajectories per task at least (a task costs ~1 ms to schedule)


class DaskMissing(ImportError):
    """dask.distributed is not installed (the message is the one-line how-to)."""

    def __init__(self, message: str = INSTALL_HINT):
        super().__init__(message)


def _distributed():
    try:
        import distributed
    except ImportError:
        raise DaskMissing() from None
    return distributed


def _refuse(done, total):
    """A progress callback that cancels at once: run_final validates, then calls it with 0
    before any work (its documented contract), so this validates without running."""
    return False


def _chunk_task(surf, entry, steps, tolerance, target, noise_index, keep_terms):
    """One chunk on a worker: the batch's slice, run as run_final runs a chunk of its own.

    keep_terms is the whole batch's: a chunk where, say, every momentum is 0 still keeps the
    momentum term, so it rounds as it does inside the full batch."""
    member = _Member(entry, steps, surf.divergence_box, "run",
                     limit=_final.MAX_FINAL_TRAJECTORIES)
    job = _final._Job(surf, member, steps, tolerance, target, noise_index)
    job.keep_terms = keep_terms
    _final._chunk_job(job, 0, member.n, None)
    return job.xy, job.loss, job.reached, job.diverged


class DaskRunner:
    """A stand-in for optim_core.run_final (same signature, same FinalState, same bits) whose
    chunks run as tasks on a dask.distributed cluster. Pass it as maps.basin_map(...,
    runner=...) or maps.hyper_map(..., runner=...).

    address: a scheduler ("tcp://host:8786") to scale out; None starts a LocalCluster on first
    use (n_workers, threads_per_worker, processes as dask's LocalCluster). client: an existing
    distributed.Client instead (not closed by close()). chunk: trajectories per task (default:
    enough tasks for two per worker thread, at most run_final's DEFAULT_CHUNK). run_final's own
    `workers` argument is ignored here: the cluster's threads are the workers.
    """

    def __init__(self, address: str | None = None, *, client=None, n_workers: int | None = None,
                 threads_per_worker: int = 1, processes: bool = True, chunk: int | None = None):
        _distributed()                  # fail now, with the hint, not at the first map
        if address is not None and client is not None:
            raise ValueError("give a scheduler address or a client, not both")
        if address is not None and (not isinstance(address, str) or not address.strip()):
            raise ValueError(f"address must be a scheduler address such as "
                             f"tcp://host:8786, got {address!r:.80}")
        self.address = address
        self.chunk = None if chunk is None else check_int(
            "chunk", chunk, 1, _final.MAX_FINAL_TRAJECTORIES)
        self._client, self._own_client, self._cluster = client, False, None
        self._cluster_kw = dict(n_workers=n_workers, threads_per_worker=threads_per_worker,
                                processes=processes)

    # ---- the cluster ---------------------------------------------------------------------------

    @property
    def client(self):
        """The distributed.Client, connected (or its LocalCluster started) on first use."""
        if self._client is None:
            distributed = _distributed()
            if self.address is not None:
                self._client = distributed.Client(self.address)
            else:
                kw = {k: v for k, v in self._cluster_kw.items() if v is not None}
                self._cluster = distributed.LocalCluster(dashboard_address=None, **kw)
                self._client = distributed.Client(self._cluster)
            self._own_client = True
        return self._client

    def threads(self) -> int:
        """Worker threads in the cluster now (at least 1)."""
        info = self.client.scheduler_info()
        return max(1, sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()))

    def close(self) -> None:
        """Close the client and the LocalCluster this runner started (not a client given)."""
        if self._own_client and self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = None if self._own_client else self._client
        self._cluster, self._own_client = None, False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- run_final ------------------------------------------------------------------------------

    def __call__(self, surface, optimizer, x0, steps, *, lr=None, schedule=None, noise=0.0,
                 seed=0, tolerance=None, target=None, noise_index=None, chunk=None,
                 progress=None, workers=1, **hyperparameters) -> _final.FinalState:
        """optim_core.run_final on the cluster: arguments, result and errors as run_final's
        (validated here by run_final itself before any task is sent). progress(done, total) is
        called with 0, then as tasks finish; returning False cancels the tasks not yet done and
        raises optim_core.final.Cancelled (running tasks finish on their worker, unused)."""
        if progress is not None and not callable(progress):
            raise ValueError(f"progress must be a callable progress(done, total) or None, "
                             f"got {type(progress).__name__}")
        kw = dict(lr=lr, schedule=schedule, noise=noise, seed=seed, tolerance=tolerance,
                  target=target, noise_index=noise_index, chunk=chunk, workers=workers)
        try:
            optim_core.run_final(surface, optimizer, x0, steps, progress=_refuse, **kw,
                                 **hyperparameters)
        except _final.Cancelled:
            pass                                        # valid: every check passed
        surf = _resolve_surface(surface)
        entry = dict(optimizer=optimizer, x0=x0, lr=lr, schedule=schedule, noise=noise,
                     seed=seed, hyperparameters=hyperparameters)
        member = _Member(entry, steps, surf.divergence_box, "run",
                         limit=_final.MAX_FINAL_TRAJECTORIES)
        n = member.n
        if tolerance is not None:
            tolerance = float(tolerance)
        target = surf.f_min if target is None else check_real(
            "target", target)
        index = _final._noise_index(noise_index, n)
        job = _final._Job(surf, member, steps, tolerance, target, index)   # results + branches

        size = chunk or self.chunk or min(_final.DEFAULT_CHUNK,
                                          max(MIN_TASK, math.ceil(n / (2 * self.threads()))))
        client = self.client
        surf_future = client.scatter(surf, broadcast=True, hash=False)   # own key per call

        def part(value, lo, hi):
            return value[lo:hi] if isinstance(value, np.ndarray) and value.shape[:1] == (n,) \
                and n > 1 else value

        futures = {}
        for lo in range(0, n, size):
            hi = min(lo + size, n)
            sub = dict(optimizer=member.spec.name, x0=part(member.x0, lo, hi),
                       lr=part(member.lr, lo, hi), schedule=schedule,
                       noise=part(member.noise, lo, hi), seed=member.seed,
                       hyperparameters={k: part(v, lo, hi) for k, v in member.hp.items()})
            future = client.submit(_chunk_task, surf_future, sub, steps, tolerance,
                                   part(target, lo, hi) if isinstance(target, np.ndarray)
                                   else target, index[lo:hi].copy(), job.keep_terms,
                                   pure=False)
            futures[future] = (lo, hi)

        def report(done):
            if progress is not None and progress(done, n) is False:
                raise _final.Cancelled(done, n)

        distributed = _distributed()
        done = 0
        try:
            report(0)
            for future in distributed.as_completed(list(futures)):
                lo, hi = futures.pop(future)
                xy, loss, reached, diverged = future.result()
                job.xy[lo:hi], job.loss[lo:hi] = xy, loss
                job.reached[lo:hi], job.diverged[lo:hi] = reached, diverged
                done += hi - lo
                report(done)
        except BaseException:
            client.cancel(list(futures))
            raise
        return _final.FinalState(
            xy_final=job.xy, loss_final=job.loss, reached_at=job.reached,
            diverged_at=job.diverged, steps=steps, tolerance=tolerance,
            optimizer=member.spec.name, hyperparameters=member.hp, schedule=member.schedule,
            surface=surf.name, lr=member.lr, noise=member.noise, seed=member.seed)


def basin_map(*args, address=None, client=None, runner=None, **kwargs):
    """maps.basin_map with its chunks on Dask: `runner` (a DaskRunner, kept open), else one made
    for this call from `address`/`client` (a LocalCluster when both are None) and closed."""
    from . import maps

    if runner is not None:
        return maps.basin_map(*args, runner=runner, **kwargs)
    with DaskRunner(address, client=client) as r:
        return maps.basin_map(*args, runner=r, **kwargs)


def hyper_map(*args, address=None, client=None, runner=None, **kwargs):
    """maps.hyper_map with its chunks on Dask (runner, address, client: as basin_map)."""
    from . import maps

    if runner is not None:
        return maps.hyper_map(*args, runner=runner, **kwargs)
    with DaskRunner(address, client=client) as r:
        return maps.hyper_map(*args, runner=r, **kwargs)
