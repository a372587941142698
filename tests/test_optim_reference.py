"""The core against torch.optim: values recorded by tools/record_torch_reference.py.

The recorder runs torch 2.13 (float64, gradients set analytically) and never imports optim_core;
re-run it where torch is installed to refresh tests/data/torch_reference.json.
"""

import json
from pathlib import Path

import numpy as np
import pytest

import landscapes
import optim_core
from optim_core.schedules import Plateau

pytestmark = pytest.mark.filterwarnings("error")

DATA = json.loads((Path(__file__).parent / "data" / "torch_reference.json").read_text())
OPTIMIZER_CASES = DATA["optimizer_cases"]
SCHEDULE_CASES = DATA["schedule_cases"]


def _as_array(rows):
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)


def _run_case(case):
    surface = dict(case["surface"])
    name = surface.pop("name")
    # The recorder spells out fixed constants too (multi_minima's wells); pass only the tunables.
    tunable = landscapes.parameters(name)
    surf = landscapes.get(name, **{k: v for k, v in surface.items() if k in tunable})
    return optim_core.run(surf, case["optimizer"], case["x0"], case["steps"], lr=case["lr"],
                          schedule=case["schedule"], **case["hyperparameters"])


@pytest.mark.parametrize("case", [c for c in OPTIMIZER_CASES if "first_bad_step" not in c],
                         ids=lambda c: c["id"])
def test_trajectory_matches_torch(case):
    traj = _run_case(case)
    expected = _as_array(case["xy"])
    assert traj.diverged_at[0] == -1
    # torch's recursive schedulers and pow() differ from closed forms in the last bits only.
    np.testing.assert_allclose(traj.lr[:, 0], case["lr_applied"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(traj.xy[:, 0, :], expected, rtol=1e-10, atol=1e-12)


def test_every_optimizer_and_schedule_has_a_torch_case():
    optimizers = {c["optimizer"] for c in OPTIMIZER_CASES}
    assert optimizers == set(optim_core.optimizer_names())
    schedules = {(c["schedule"] or {"name": "constant"})["name"] if not isinstance(c["schedule"], str)
                 else c["schedule"] for c in OPTIMIZER_CASES}
    assert schedules == set(optim_core.schedule_names())


@pytest.mark.parametrize("case", [c for c in OPTIMIZER_CASES if "first_bad_step" in c],
                         ids=lambda c: c["id"])
def test_divergence_is_marked_where_torch_blows_up(case):
    traj = _run_case(case)
    expected = _as_array(case["xy"])
    k = int(traj.diverged_at[0])
    assert 0 < k <= case["first_bad_step"]
    # Up to the divergence the path is torch's; from there on it is NaN, not a crash.
    np.testing.assert_allclose(traj.xy[:k, 0], expected[:k], rtol=1e-10)
    assert np.isnan(traj.xy[k:, 0]).all() and np.isnan(traj.loss[k:, 0]).all()


@pytest.mark.parametrize("case", [c for c in SCHEDULE_CASES if "metrics" not in c],
                         ids=lambda c: c["id"])
def test_schedule_matches_torch_scheduler(case):
    spec = optim_core.normalize_schedule(case["schedule"], case["steps"])
    table = optim_core.lr_table(spec, case["lr"], case["steps"])
    np.testing.assert_allclose(table, case["lr_applied"], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case", [c for c in SCHEDULE_CASES if "metrics" in c], ids=lambda c: c["id"])
def test_plateau_matches_torch_on_the_same_metrics(case):
    spec = optim_core.normalize_schedule(case["schedule"], case["steps"])
    plateau = Plateau(spec, case["lr"], 1)
    rates = [plateau.lr[0]]
    for metric in case["metrics"][:case["steps"] - 1]:       # metric after step k sets lr of k+1
        rates.append(plateau.update(np.array([metric]))[0])
    np.testing.assert_array_equal(rates, case["lr_applied"])
