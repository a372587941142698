"""Properties of the runner: batching, determinism, divergence as data, clear errors."""

import json
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import landscapes
import optim_core
from optim_core import OPTIMIZERS

pytestmark = pytest.mark.filterwarnings("error")
ALL = optim_core.optimizer_names()


def test_names():
    assert set(ALL) == {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam",
                        "adamw", "adamax", "nadam", "amsgrad", "radam", "lion"}
    assert set(optim_core.schedule_names()) == {"constant", "step", "exponential", "power",
                                                "inverse_sqrt", "cosine", "linear", "one_cycle",
                                                "warmup_cosine", "plateau"}


def test_shapes_and_defaults():
    traj = optim_core.run("rosenbrock", "adam", (-1.5, 2.0), 30, lr=0.01)
    assert traj.xy.shape == (31, 1, 2) and traj.loss.shape == (31, 1)
    assert traj.lr.shape == (30, 1) and traj.diverged_at.tolist() == [-1]
    assert traj.hyperparameters == {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}
    assert traj.loss[-1, 0] < traj.loss[0, 0]


@pytest.mark.parametrize("optimizer", ALL)
def test_batch_equals_one_by_one(optimizer):
    """N starts (and per-trajectory lrs) advance together exactly as they would alone."""
    surf = landscapes.get("himmelblau")
    starts = np.array([[-4.0, 4.0], [0.5, -3.0], [3.5, 3.5], [-1.0, 0.2]])
    rates = np.array([1e-3, 3e-3, 1e-2, 2e-2])
    together = optim_core.run(surf, optimizer, starts, 60, lr=rates, schedule="cosine")
    for i in range(len(starts)):
        alone = optim_core.run(surf, optimizer, starts[i], 60, lr=rates[i], schedule="cosine")
        np.testing.assert_allclose(together.xy[:, i], alone.xy[:, 0], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(together.lr[:, i], alone.lr[:, 0], rtol=1e-15)


@pytest.mark.parametrize("optimizer,name,values", [
    ("adam", "beta1", [0.0, 0.3, 0.5, 0.9]),          # both of torch's lerp branches
    ("momentum", "momentum", [0.0, 0.5, 0.9, 0.99]),
    ("rmsprop", "momentum", [0.0, 0.0, 0.5, 0.9]),
    ("radam", "beta2", [0.9, 0.99, 0.999, 0.95]),     # rectification starts at different steps
    ("nadam", "momentum_decay", [0.0, 4e-3, 1e-2, 1.0]),
    ("lion", "weight_decay", [0.0, 0.1, 0.5, 1.0]),
])
def test_hyperparameter_sweep_equals_separate_runs(optimizer, name, values):
    values = np.array(values)
    sweep = optim_core.run("rosenbrock", optimizer, (-1.5, 2.0), 80, lr=1e-3, **{name: values})
    for i, v in enumerate(values):
        alone = optim_core.run("rosenbrock", optimizer, (-1.5, 2.0), 80, lr=1e-3, **{name: float(v)})
        np.testing.assert_allclose(sweep.xy[:, i], alone.xy[:, 0], rtol=1e-11, atol=1e-13)


def test_same_seed_same_bits_and_noise_matters():
    a = optim_core.run("saddle", "sgd", (-1.5, 0.0), 200, lr=0.01, noise=0.5, seed=7)
    b = optim_core.run("saddle", "sgd", (-1.5, 0.0), 200, lr=0.01, noise=0.5, seed=7)
    c = optim_core.run("saddle", "sgd", (-1.5, 0.0), 200, lr=0.01, noise=0.5, seed=8)
    gd = optim_core.run("saddle", "sgd", (-1.5, 0.0), 200, lr=0.01)
    assert np.array_equal(a.xy, b.xy, equal_nan=True) and np.array_equal(a.loss, b.loss, equal_nan=True)
    assert not np.array_equal(a.xy, c.xy, equal_nan=True)
    # Without noise GD on the axis y = 0 never leaves it (the gradient's y part is exactly 0).
    assert np.all(gd.xy[:, 0, 1] == 0.0)
    assert np.abs(a.xy[50, 0, 1]) > 0


def test_run_config_is_json_and_reproducible():
    config = {"surface": {"name": "rosenbrock", "a": 1.0, "b": 100.0}, "optimizer": "adam",
              "lr": 0.02, "hyperparameters": {"beta1": 0.8}, "schedule": {"name": "step", "step_size": 50},
              "x0": [-1.5, 2.0], "steps": 200, "noise": 0.1, "seed": 3}
    text = json.dumps(optim_core.normalize_config(config))
    again = json.loads(text)
    first, second = optim_core.run_config(config), optim_core.run_config(again)
    assert np.array_equal(first.xy, second.xy) and np.array_equal(first.lr, second.lr)
    assert again["hyperparameters"]["beta2"] == 0.999


def test_huge_learning_rate_is_marked_not_raised():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = optim_core.run("rosenbrock", "sgd", [(-1.5, 2.0), (-1.5, 2.0)], 100,
                              lr=np.array([1e6, 1e-4]))
    k = traj.diverged_at[0]
    assert k == 1                                   # one step of 1e6 * |g| leaves any box
    assert np.isnan(traj.xy[k:, 0]).all() and np.isnan(traj.loss[k:, 0]).all()
    assert np.isnan(traj.lr[k:, 0]).all() and traj.lr[0, 0] == 1e6
    assert traj.diverged_at[1] == -1 and np.isfinite(traj.xy[:, 1]).all()


def test_leaving_the_box_counts_as_divergence():
    # GD on the saddle escapes along y forever: it is diverged once it leaves the generous box.
    traj = optim_core.run("saddle", "sgd", (0.0, 0.5), 2000, lr=0.1)
    (_, _), (y_lo, y_hi) = landscapes.get("saddle").divergence_box
    k = traj.diverged_at[0]
    assert k > 0 and abs(traj.xy[k - 1, 0, 1]) <= y_hi
    assert np.isnan(traj.xy[k:, 0]).all()


@pytest.mark.parametrize("kwargs,fragment", [
    (dict(optimizer="adamz"), "unknown optimizer 'adamz'; valid optimizers are: sgd, momentum"),
    (dict(surface="nope"), "nope"),
    (dict(lr=0.0), "lr for optimizer 'adam' must be finite and in (0.0, inf]"),
    (dict(lr=-1), "lr for optimizer 'adam'"),
    (dict(lr=float("nan")), "lr"),
    (dict(lr=float("inf")), "lr"),
    (dict(beta1=1.0), "beta1 for optimizer 'adam' must be finite and in [0.0, 1.0)"),
    (dict(beta2=-0.1), "beta2"),
    (dict(eps=0.0), "eps for optimizer 'adam' must be finite and in (0.0, inf]"),
    (dict(optimizer="rmsprop", rho=1.0), "rho for optimizer 'rmsprop'"),
    (dict(optimizer="adadelta", rho=1.5), "rho for optimizer 'adadelta'"),
    (dict(momentum=0.9), "unknown hyperparameter 'momentum' for optimizer 'adam'"),
    (dict(steps=0), "steps must be an integer in [1, 100000], got 0"),
    (dict(steps=10**7), "steps must be an integer in [1, 100000]"),
    (dict(steps=2.5), "steps"),
    (dict(x0=(1.0, 2.0, 3.0)), "x0 must have shape (2,) or (N, 2), got shape (3,)"),
    (dict(x0=(float("nan"), 0.0)), "x0 must be finite"),
    (dict(x0=(1e9, 0.0)), "x0 must lie inside"),
    (dict(x0="abc"), "x0"),
    (dict(noise=-1.0), "noise"),
    (dict(seed=-3), "seed must be an integer"),
    (dict(schedule="cosin"), "unknown schedule 'cosin'; valid schedules are: constant, step"),
    (dict(schedule={"name": "step", "gamma": 2.0}), "gamma for schedule 'step'"),
    (dict(schedule={"name": "step", "step": 3}), "unknown parameter 'step' for schedule 'step'"),
    (dict(schedule={"name": "one_cycle", "pct_start": 0.001}), "pct_start for schedule 'one_cycle'"),
    (dict(schedule=42), "schedule must be None, a name or a dict"),
    (dict(lr=np.array([0.1, 0.2]), beta1=np.array([0.1, 0.2, 0.3])), "must agree on N"),
])
def test_invalid_input_names_the_parameter(kwargs, fragment):
    call = dict(surface="rosenbrock", optimizer="adam", x0=(-1.5, 2.0), steps=10)
    call.update(kwargs)
    with pytest.raises(ValueError) as err:
        optim_core.run(call.pop("surface"), call.pop("optimizer"), call.pop("x0"), call.pop("steps"),
                       **call)
    assert fragment in str(err.value)


def test_too_many_points_is_refused():
    with pytest.raises(ValueError, match="recorded points"):
        optim_core.run("rosenbrock", "sgd", np.zeros((50_000, 2)), 1000)


# ---- hypothesis: any optimizer, any surface, any valid hyperparameters -------------------------

def _value_for(param, draw):
    if param.kind == "bool":
        return draw(st.booleans())
    if param.high == 1.0:
        return draw(st.floats(param.low or 0.0, 0.999999))
    if param.log or param.low_open:
        return 10 ** draw(st.floats(-12, 2))
    return draw(st.floats(0.0, 10.0))


@st.composite
def scenarios(draw):
    optimizer = draw(st.sampled_from(ALL))
    surface = landscapes.get(draw(st.sampled_from(landscapes.names())))
    spec = OPTIMIZERS[optimizer]
    hyper = {p.name: _value_for(p, draw) for p in spec.hyper if draw(st.booleans())}
    (x0, x1), (y0, y1) = surface.bounds
    start = (draw(st.floats(x0, x1)), draw(st.floats(y0, y1)))
    lr = 10 ** draw(st.floats(-6, 6))
    schedule = draw(st.sampled_from([None, "cosine", "one_cycle", "plateau", "warmup_cosine",
                                     {"name": "step", "step_size": 3, "gamma": 0.5}]))
    noise = draw(st.sampled_from([0.0, 0.0, 1.0, 1e6]))
    return surface, optimizer, start, lr, schedule, noise, hyper


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_any_valid_run_is_finite_or_marked_diverged(scenario):
    surface, optimizer, start, lr, schedule, noise, hyper = scenario
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = optim_core.run(surface, optimizer, start, 40, lr=lr, schedule=schedule, noise=noise,
                              **hyper)
    k = traj.diverged_at[0]
    alive = slice(None) if k < 0 else slice(0, k)
    assert np.isfinite(traj.xy[alive]).all() and np.isfinite(traj.loss[alive]).all()
    (bx0, bx1), (by0, by1) = surface.divergence_box
    assert ((traj.xy[alive, 0, 0] >= bx0) & (traj.xy[alive, 0, 0] <= bx1)).all()
    assert ((traj.xy[alive, 0, 1] >= by0) & (traj.xy[alive, 0, 1] <= by1)).all()
    if k >= 0:
        assert k >= 1 and np.isnan(traj.xy[k:]).all() and np.isnan(traj.loss[k:]).all()


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(ALL), st.floats(-3.0, 3.0), st.floats(-3.0, 3.0))
def test_loss_falls_on_a_convex_bowl_at_small_lr(optimizer, x, y):
    surface = landscapes.get("elongated_quadratic", condition_number=4.0)
    lr = {"adadelta": 1.0}.get(optimizer, 1e-3)
    traj = optim_core.run(surface, optimizer, (x, y), 20, lr=lr)
    if abs(x) + abs(y) > 0.1:
        assert traj.loss[-1, 0] < traj.loss[0, 0]
