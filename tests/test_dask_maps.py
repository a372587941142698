"""optiviz.dask_maps: maps whose chunks run on a 2-worker Dask LocalCluster give the same bits as
the single process (the issue's promise for scaling out). Skipped only where dask.distributed
is not installed; requirements-dev.txt installs it, so CI runs it."""

import numpy as np
import pytest

distributed = pytest.importorskip(
    "distributed",
    reason="dask.distributed is not installed (pip install -r requirements-dask.txt)")

import optim_core  # noqa: E402
from optim_core.final import Cancelled  # noqa: E402
from optiviz import dask_maps, maps  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _bits(a):
    a = np.ascontiguousarray(a)
    return a.view(np.int64) if a.dtype == np.float64 else a


def _same(a, b, names):
    for name in names:
        np.testing.assert_array_equal(_bits(getattr(a, name)), _bits(getattr(b, name)),
                                      err_msg=name)


BASIN = ("final_xy", "final_loss", "distance", "minimum", "steps_to_tolerance", "diverged_at")
HYPER = ("final_xy", "final_loss", "steps_to_tolerance", "diverged_at")


@pytest.mark.parametrize("independent", [False, True])
def test_basin_map_on_two_workers_is_the_single_process_bit_for_bit(client, independent):
    """Noisy Adam on Himmelblau (four minima: a second pass for none, all at f = 0) and on
    multi_minima (wells of different depths: the second pass runs too), in odd-sized tasks."""
    runner = dask_maps.DaskRunner(client=client, chunk=37)
    for surface in ("himmelblau", "multi_minima"):
        spec = {"optimizer": "adam", "lr": 0.2, "noise": 3.0, "seed": 7}
        kw = dict(n=(17, 13), steps=120, independent_noise=independent)
        one = maps.basin_map(surface, spec, **kw)
        many = maps.basin_map(surface, spec, runner=runner, **kw)
        _same(one, many, BASIN)
    assert client.scheduler_info()["workers"] and len(client.scheduler_info()["workers"]) == 2


def test_hyper_map_tasks_keep_the_whole_batchs_branches(client):
    """RMSprop over lr x momentum with rows of momentum 0: a task of only those rows must still
    take the momentum branch the whole batch takes (RMSprop divides in another order without
    it), so each row is its own task here."""
    lrs, mus = np.geomspace(1e-3, 0.1, 5), np.array([0.0, 0.0, 0.5, 0.9])
    one = maps.hyper_map("rosenbrock", {"optimizer": "rmsprop", "noise": 0.5, "seed": 1}, "lr",
                         lrs, "momentum", mus, steps=200)
    many = dask_maps.hyper_map("rosenbrock", {"optimizer": "rmsprop", "noise": 0.5, "seed": 1},
                               "lr", lrs, "momentum", mus, steps=200, chunk=5, client=client)
    _same(one, many, HYPER)


def test_runner_is_run_final_progress_cancel_and_errors(client):
    runner = dask_maps.DaskRunner(client=client, chunk=50)
    starts = np.column_stack([np.linspace(-4, 4, 230), np.linspace(3, -3, 230)])
    calls = []
    got = runner("himmelblau", "momentum", starts, 100, lr=0.01, tolerance=1e-3, momentum=0.8,
                 progress=lambda done, total: calls.append((done, total)))
    ref = optim_core.run_final("himmelblau", "momentum", starts, 100, lr=0.01, tolerance=1e-3,
                               momentum=0.8)
    _same(ref, got, ("xy_final", "loss_final", "reached_at", "diverged_at"))
    assert calls[0] == (0, 230) and calls[-1] == (230, 230) and len(calls) == 6
    with pytest.raises(Cancelled):
        runner("himmelblau", "adam", starts, 100, progress=lambda done, total: done == 0)
    with pytest.raises(ValueError, match="lr"):
        runner("himmelblau", "adam", starts, 100, lr=-1.0)
