"""record_state: the gradient, update and torch state buffers the core keeps per step.

Expected values come from tests/data/torch_state_reference.json, recorded by
tools/record_torch_reference.py from torch 2.13's optimizer.state[p] (it never imports
optim_core); the properties below need no reference: off and on give the same bits, the update
is the difference of positions, everything is NaN after divergence, the shapes.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import landscapes
import optim_core
from optim_core import OPTIMIZERS

pytestmark = pytest.mark.filterwarnings("error")

DATA = json.loads((Path(__file__).parent / "data" / "torch_state_reference.json").read_text())
CASES = DATA["cases"]
FINITE = [c for c in CASES if "first_bad_step" not in c]
DIVERGING = [c for c in CASES if "first_bad_step" in c]
ALL = optim_core.optimizer_names()
# Same tolerance as the positions in test_optim_reference.py.
RTOL, ATOL = 1e-10, 1e-12
# Row 0 (before step 1), from torch's constructors (optimizers.md, "initial state"): every buffer
# starts at zeros except NAdam's mu_product (1.0) and Adagrad's sum (initial_accumulator_value,
# created eagerly, so the recorder has it as initial_state). SGD's momentum_buffer does not exist
# before step 1 in torch; the core documents zeros for it.
INITIAL = {"mu_product": 1.0}


def _array(rows):
    """JSON rows (null = non-finite) -> float array."""
    def clean(v):
        return [clean(x) for x in v] if isinstance(v, list) else (np.nan if v is None else v)
    return np.array(clean(rows), dtype=float)


def _entry(case):
    return {"optimizer": case["optimizer"], "x0": case["x0"], "lr": case["lr"],
            "noise": case["noise"], "seed": case["seed"], "record_state": True,
            **case["hyperparameters"]}


def _surface(case):
    surface = dict(case["surface"])
    return landscapes.get(surface.pop("name"), **surface)


def _initial_row(case, name):
    if name in case["initial_state"]:
        return _array(case["initial_state"][name])
    return np.full(np.shape(case["state"][name][0]), INITIAL.get(name, 0.0))


def _assert_matches_torch(traj, case, col=0, upto=None):
    """traj's trajectory `col` equals the torch case over its first `upto` steps (all if None)."""
    k = case["steps"] if upto is None else upto
    assert list(traj.state) == case["state_names"]
    np.testing.assert_allclose(traj.xy[:k + 1, col], _array(case["xy"])[:k + 1], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(traj.grad[:k, col], _array(case["grad"])[:k], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(traj.update[:k, col], _array(case["update"])[:k], rtol=RTOL, atol=ATOL)
    for name, rows in case["state"].items():
        got = traj.state[name][:, col]
        np.testing.assert_array_equal(got[0], _initial_row(case, name), err_msg=f"{name} row 0")
        np.testing.assert_allclose(got[1:k + 1], _array(rows)[:k], rtol=RTOL, atol=ATOL,
                                   err_msg=name)


@pytest.mark.parametrize("case", FINITE, ids=lambda c: c["id"])
def test_state_grad_update_match_torch(case):
    traj = optim_core.run_many(_surface(case), [_entry(case)], case["steps"])[0]
    assert traj.diverged_at[0] == -1
    _assert_matches_torch(traj, case)


def test_every_case_at_once_matches_torch():
    """One run_many over every case (13 optimizers side by side, each with its own buffers)."""
    surface = _surface(FINITE[0])
    assert all(c["surface"] == FINITE[0]["surface"] and c["steps"] == FINITE[0]["steps"]
               for c in FINITE)
    trajs = optim_core.run_many(surface, [_entry(c) for c in FINITE], FINITE[0]["steps"])
    for traj, case in zip(trajs, FINITE):
        _assert_matches_torch(traj, case)


def _sweeps():
    """Noise-free cases of one optimizer (same bool settings and torch buffers) run as one batch:
    every differing hyperparameter and the lr become (N,) arrays, so NAdam's mu_product is per
    trajectory."""
    groups = {}
    for c in FINITE:
        if c["noise"] == 0.0:
            bools = tuple(sorted((k, v) for k, v in c["hyperparameters"].items() if isinstance(v, bool)))
            groups.setdefault((c["optimizer"], bools, tuple(c["state_names"])), []).append(c)
    return [g for g in groups.values() if len(g) > 1]


@pytest.mark.parametrize("group", _sweeps(), ids=lambda g: g[0]["optimizer"])
def test_hyperparameter_sweep_matches_torch_per_trajectory(group):
    first = group[0]
    hyper = {k: (np.array([c["hyperparameters"][k] for c in group]) if not isinstance(v, bool) else v)
             for k, v in first["hyperparameters"].items()}
    traj = optim_core.run(_surface(first), first["optimizer"], first["x0"], first["steps"],
                          lr=np.array([c["lr"] for c in group]), record_state=True, **hyper)
    for col, case in enumerate(group):
        _assert_matches_torch(traj, case, col)
    if "mu_product" in traj.state:
        assert traj.state["mu_product"].shape == (first["steps"] + 1, len(group))


@pytest.mark.parametrize("case", DIVERGING, ids=lambda c: c["id"])
def test_state_is_torch_until_divergence_then_nan(case):
    traj = optim_core.run_many(_surface(case), [_entry(case)], case["steps"])[0]
    k = int(traj.diverged_at[0])
    assert 0 < k <= case["first_bad_step"]
    _assert_matches_torch(traj, case, upto=k - 1)
    # What step k is given is NaN from k on; what a step leads to is NaN from the NaN row on.
    assert np.isfinite(traj.grad[k - 1, 0]).all() and np.isnan(traj.grad[k:, 0]).all()
    assert np.isnan(traj.update[k - 1:, 0]).all()
    for rows in traj.state.values():
        assert np.isfinite(rows[:k, 0]).all() and np.isnan(rows[k:, 0]).all()


def test_reference_covers_every_optimizer_and_buffer():
    assert {c["optimizer"] for c in CASES} == set(ALL)
    names = {n for c in CASES for n in c["state_names"]}
    assert names == {"momentum_buffer", "sum", "square_avg", "grad_avg", "acc_delta", "exp_avg",
                     "exp_avg_sq", "max_exp_avg_sq", "exp_inf", "mu_product"}
    assert any(c["noise"] > 0 and c["hyperparameters"].get("weight_decay") for c in CASES)


# ---- off costs nothing and changes nothing ------------------------------------------------------

def test_off_by_default_gives_no_fields():
    traj = optim_core.run("rosenbrock", "adam", (-1.5, 2.0), 10)
    assert traj.grad is None and traj.update is None and traj.state == {}


@pytest.mark.parametrize("optimizer", ALL)
def test_recording_changes_no_bit(optimizer):
    """A mixed scene (recorded and not, noisy, plateau, per-trajectory lr) gives the same bits."""
    surf = landscapes.get("himmelblau")
    starts = np.array([[-4.0, 4.0], [0.5, -3.0], [3.5, 3.5]])
    runs = [{"optimizer": optimizer, "x0": starts, "lr": np.array([1e-3, 1e-2, 0.5]), "noise": 0.3,
             "seed": 4, "schedule": "plateau"},
            {"optimizer": "adam", "x0": (1.0, 1.0), "lr": 0.05},
            {"optimizer": optimizer, "x0": (0.0, 0.0), "schedule": "cosine"}]
    off = optim_core.run_many(surf, runs, 150)
    on = optim_core.run_many(surf, [{**r, "record_state": True} for r in runs], 150)
    mixed = optim_core.run_many(surf, [{**r, "record_state": i != 1} for i, r in enumerate(runs)], 150)
    for a, b, c in zip(off, on, mixed):
        for field in ("xy", "loss", "lr", "diverged_at"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
            np.testing.assert_array_equal(getattr(a, field), getattr(c, field))
    assert mixed[1].grad is None and mixed[0].grad is not None


def test_grad_is_the_surface_gradient_before_weight_decay():
    """Without noise, grad[k] is the surface's gradient at xy[k]: torch's L2 term is not in it."""
    surf = landscapes.get("rosenbrock")
    for optimizer in ("sgd", "momentum", "adam", "adagrad", "lion", "adamw"):
        traj = optim_core.run(surf, optimizer, (-1.5, 2.0), 30, lr=1e-4, weight_decay=0.5,
                              record_state=True)
        np.testing.assert_allclose(traj.grad, surf.grad(traj.xy[:-1]), rtol=1e-14, atol=0)


def test_run_config_and_run_many_take_the_switch():
    config = {"surface": {"name": "booth"}, "optimizer": "rmsprop", "lr": 0.01,
              "hyperparameters": {"momentum": 0.5, "centered": True}, "x0": [-5.0, 8.0],
              "steps": 25, "record_state": True}
    traj = optim_core.run_config(config)
    assert list(traj.state) == ["square_avg", "momentum_buffer", "grad_avg"]
    normalized = optim_core.normalize_config(config)
    assert normalized["record_state"] is True
    assert optim_core.normalize_config({**config, "record_state": False})["record_state"] is False
    again = optim_core.run_config(json.loads(json.dumps(normalized)))
    for name in traj.state:
        np.testing.assert_array_equal(traj.state[name], again.state[name])
    assert optim_core.run_config({**config, "record_state": False}).state == {}


@pytest.mark.parametrize("value", [1, 0, "true", None, 1.0, [True]])
def test_record_state_must_be_a_bool(value):
    with pytest.raises(ValueError, match="record_state must be true or false"):
        optim_core.run("rosenbrock", "adam", (0.0, 0.0), 5, record_state=value)
    with pytest.raises(ValueError, match="record_state"):
        optim_core.run_many("rosenbrock", [{"optimizer": "sgd", "x0": (0, 0), "record_state": value}], 5)
    with pytest.raises(ValueError, match="record_state"):
        optim_core.run_config({"optimizer": "sgd", "steps": 5, "record_state": value})
    with pytest.raises(ValueError, match="record_state"):
        optim_core.normalize_config({"optimizer": "sgd", "steps": 5, "record_state": value})


def test_numpy_bool_is_accepted():
    traj = optim_core.run("rosenbrock", "adam", (0.0, 0.0), 5, record_state=np.bool_(True))
    assert traj.grad.shape == (5, 1, 2)


def test_too_many_recorded_state_points_is_refused():
    with pytest.raises(ValueError, match="record_state"):
        optim_core.run("rosenbrock", "sgd", np.zeros((10_000, 2)), 1000, record_state=True)
    optim_core.run("rosenbrock", "sgd", np.zeros((10_000, 2)), 2, record_state=True)


# ---- hypothesis: any optimizer, surface and settings --------------------------------------------

from test_optim_core import _value_for  # noqa: E402 - the same hyperparameter draws


@st.composite
def scenarios(draw):
    optimizer = draw(st.sampled_from(ALL))
    surface = landscapes.get(draw(st.sampled_from(landscapes.names())))
    hyper = {p.name: _value_for(p, draw) for p in OPTIMIZERS[optimizer].hyper if draw(st.booleans())}
    (x0, x1), (y0, y1) = surface.bounds
    n = draw(st.integers(1, 3))
    starts = [(draw(st.floats(x0, x1)), draw(st.floats(y0, y1))) for _ in range(n)]
    lr = np.array([10 ** draw(st.floats(-6, 4)) for _ in range(n)])
    schedule = draw(st.sampled_from([None, "cosine", "plateau", {"name": "step", "step_size": 3}]))
    noise = draw(st.sampled_from([0.0, 0.0, 1.0, 1e6]))
    steps = draw(st.integers(1, 40))
    return surface, optimizer, np.array(starts), lr, schedule, noise, hyper, steps


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_recorded_fields_properties(scenario):
    surface, optimizer, starts, lr, schedule, noise, hyper, steps = scenario
    n = len(starts)
    kwargs = dict(lr=lr, schedule=schedule, noise=noise, seed=1, **hyper)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        on = optim_core.run(surface, optimizer, starts, steps, record_state=True, **kwargs)
        off = optim_core.run(surface, optimizer, starts, steps, **kwargs)
    # Recording changes no bit of what is recorded anyway.
    for field in ("xy", "loss", "lr", "diverged_at"):
        np.testing.assert_array_equal(getattr(on, field), getattr(off, field))
    # Shapes.
    assert on.grad.shape == on.update.shape == (steps, n, 2)
    for name, rows in on.state.items():
        assert rows.shape == ((steps + 1, n) if name == "mu_product" else (steps + 1, n, 2)), name
    # The update is the change of position, exactly (NaN where either end is NaN).
    np.testing.assert_array_equal(on.update, np.diff(on.xy, axis=0))
    # Finite while alive, NaN after divergence.
    for j, k in enumerate(on.diverged_at):
        alive = steps + 1 if k < 0 else int(k)
        assert np.isfinite(on.grad[:alive, j]).all()
        assert np.isfinite(on.update[:alive - 1, j]).all()
        assert np.isnan(on.grad[alive:, j]).all() and np.isnan(on.update[alive - 1:, j]).all()
        for name, rows in on.state.items():
            assert np.isfinite(rows[:alive, j]).all(), name
            assert np.isnan(rows[alive:, j]).all(), name
