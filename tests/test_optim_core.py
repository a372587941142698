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


# ---- run_final: only the ends, O(N) memory, the same bits as run() ------------------------------

def _bits(a):
    """An array's exact bits (NaN, -0.0 and all), for bit-for-bit comparisons."""
    a = np.ascontiguousarray(a)
    return a.view(np.int64 if a.dtype == np.float64 else a.dtype)


def _reached(traj, f_min, tol):
    """First row of run()'s recorded loss within tol of f_min (-1 if none): run_final's rule."""
    hit = (traj.loss - f_min) <= tol
    return np.where(hit.any(axis=0), hit.argmax(axis=0), -1)


def _assert_final_equals_run(fs, traj, f_min, tol):
    np.testing.assert_array_equal(_bits(fs.xy_final), _bits(traj.xy[-1]))
    np.testing.assert_array_equal(_bits(fs.loss_final), _bits(traj.loss[-1]))
    np.testing.assert_array_equal(fs.diverged_at, traj.diverged_at)
    if tol is None:
        assert (fs.reached_at == -1).all()
    else:
        np.testing.assert_array_equal(fs.reached_at, _reached(traj, f_min, tol))


def _grid_starts(surf, n, rng=None):
    (x0, x1), (y0, y1) = surf.bounds
    if rng is None:
        gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        return np.column_stack([gx.ravel(), gy.ravel()])
    return np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])


@pytest.mark.parametrize("optimizer", ALL)
@pytest.mark.parametrize("schedule", [None, "plateau", "one_cycle"])
@pytest.mark.parametrize("tolerance", [0.05, None])
def test_run_final_equals_the_last_row_of_run(optimizer, schedule, tolerance):
    """Per-trajectory lr over 5.5 decades (the large ones diverge), noise, a schedule, chunks of
    97 that get compacted: every value equals run()'s for the same batch, bit for bit. Without a
    tolerance (and a plateau) no row's loss is read, so run_final computes gradients only: the
    divergence rows must still be run()'s."""
    surf = landscapes.get("rosenbrock")
    rng = np.random.default_rng(7)
    n = 600
    starts = _grid_starts(surf, n, rng)
    hyper = {"lr": np.geomspace(1e-4, 30.0, n), "schedule": schedule, "noise": 0.3, "seed": 11}
    if optimizer == "rmsprop":       # momentum 0 in some chunks only: the batch's branch is kept
        hyper.update(momentum=np.r_[np.zeros(n // 2), np.full(n - n // 2, 0.5)], centered=True)
    if optimizer == "nadam":         # mu_product per trajectory, carried through compaction
        hyper.update(momentum_decay=np.linspace(0.0, 0.01, n))
    traj = optim_core.run(surf, optimizer, starts, 120, **hyper)
    fs = optim_core.run_final(surf, optimizer, starts, 120, tolerance=tolerance, chunk=97, **hyper)
    _assert_final_equals_run(fs, traj, surf.f_min, tolerance)
    if optimizer == "sgd":                  # the divergence check is exercised
        assert (fs.diverged_at > 0).sum() > 50
    assert fs.xy_final.shape == (n, 2) and fs.loss_final.shape == (n,)
    assert fs.reached_at.dtype == np.int64 and fs.diverged_at.dtype == np.int64


def test_diverged_runs_are_compacted_away_without_changing_a_bit(monkeypatch):
    from optim_core import final

    calls = []
    original = final._Chunk.compact
    monkeypatch.setattr(final._Chunk, "compact", lambda self: calls.append(1) or original(self))
    surf = landscapes.get("himmelblau")
    starts = _grid_starts(surf, 40)
    # Heavy ball at lr 0.03 on Himmelblau: the steep outer starts overshoot and diverge.
    traj = optim_core.run(surf, "momentum", starts, 300, lr=0.03, momentum=0.5, noise=1.0)
    fs = optim_core.run_final(surf, "momentum", starts, 300, lr=0.03, momentum=0.5, noise=1.0,
                              tolerance=1e-4, chunk=256)
    assert calls, "no chunk was compacted"
    assert (traj.diverged_at >= 0).sum() > 100
    _assert_final_equals_run(fs, traj, surf.f_min, 1e-4)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunk=st.integers(1, 300), workers=st.sampled_from([1, 2]),
       noise=st.sampled_from([0.0, 2.0]), seed=st.integers(0, 2**32 - 1),
       optimizer=st.sampled_from(["sgd", "adam", "lion", "nesterov"]))
def test_run_final_is_the_same_in_any_chunks(chunk, workers, noise, seed, optimizer):
    """Chunked, unchunked, threaded and one start at a time: the same bits, noise included."""
    surf = landscapes.get("six_hump_camel")
    starts = _grid_starts(surf, 17)[:250]
    lr = {"sgd": 0.05, "adam": 0.1, "lion": 0.05, "nesterov": 0.02}[optimizer]
    kw = dict(lr=lr, noise=noise, seed=seed, tolerance=1e-3)
    whole = optim_core.run_final(surf, optimizer, starts, 60, chunk=len(starts), **kw)
    parts = optim_core.run_final(surf, optimizer, starts, 60, chunk=chunk, workers=workers, **kw)
    for a, b in [(whole.xy_final, parts.xy_final), (whole.loss_final, parts.loss_final)]:
        np.testing.assert_array_equal(_bits(a), _bits(b))
    np.testing.assert_array_equal(whole.reached_at, parts.reached_at)
    np.testing.assert_array_equal(whole.diverged_at, parts.diverged_at)
    for i in (0, 1, 123, 249):
        alone = optim_core.run_final(surf, optimizer, starts[i], 60, noise_index=i, **kw)
        np.testing.assert_array_equal(_bits(alone.xy_final[0]), _bits(whole.xy_final[i]))
        assert alone.reached_at[0] == whole.reached_at[i]


def test_noise_depends_on_seed_index_and_step_only():
    """Trajectory i draws the same kicks alone, in a batch of 5 or of 500 (it used to depend on
    N), and run_final's trajectory i equals run()'s, noise and all."""
    surf = landscapes.get("himmelblau")
    starts = _grid_starts(surf, 500, np.random.default_rng(1))
    big = optim_core.run(surf, "sgd", starts, 50, lr=0.01, noise=3.0, seed=5)
    small = optim_core.run(surf, "sgd", starts[:5], 50, lr=0.01, noise=3.0, seed=5)
    np.testing.assert_array_equal(_bits(big.xy[:, :5]), _bits(small.xy))
    alone = optim_core.run(surf, "sgd", starts[0], 50, lr=0.01, noise=3.0, seed=5)
    np.testing.assert_array_equal(_bits(alone.xy[:, 0]), _bits(big.xy[:, 0]))
    final = optim_core.run_final(surf, "sgd", starts, 50, lr=0.01, noise=3.0, seed=5, chunk=64)
    np.testing.assert_array_equal(_bits(final.xy_final), _bits(big.xy[-1]))
    # noise_index=0 for every start: each draws what the race (one run, trajectory 0) draws
    race = optim_core.run_final(surf, "sgd", starts[:5], 50, lr=0.01, noise=3.0, seed=5,
                                noise_index=0)
    for i in range(5):
        one = optim_core.run(surf, "sgd", starts[i], 50, lr=0.01, noise=3.0, seed=5)
        np.testing.assert_array_equal(_bits(race.xy_final[i]), _bits(one.xy[-1, 0]))


def test_noise_draws_are_standard_normal_and_independent():
    """Moments, a Kolmogorov-Smirnov distance and neighbour correlations of 2 million draws.

    For n iid N(0, 1): the mean has sd 1/sqrt(n), the variance sd sqrt(2/n), a correlation sd
    1/sqrt(n); the KS distance exceeds 1.63/sqrt(n) with probability 1 %. Bounds are 5 sd."""
    import math

    from optim_core.noise import normals, trajectory_keys

    z = normals(trajectory_keys(3, np.arange(1000)), 0, 1000)     # (steps, 2, trajectories)
    flat = z.ravel()
    n = flat.size
    assert abs(flat.mean()) < 5 / math.sqrt(n)
    assert abs(flat.var() - 1) < 5 * math.sqrt(2 / n)
    xs = np.sort(flat[::20])
    cdf = 0.5 * (1 + np.vectorize(math.erf)(xs / math.sqrt(2)))
    m = xs.size
    assert np.max(np.abs(cdf - np.arange(1, m + 1) / m)) < 1.63 / math.sqrt(m)
    for a, b in [(z[:, 0], z[:, 1]), (z[:-1], z[1:]), (z[:, :, :-1], z[:, :, 1:])]:
        r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
        assert abs(r) < 5 / math.sqrt(a.size)
    # another seed is another stream
    other = normals(trajectory_keys(4, np.arange(1000)), 0, 1000)
    assert abs(np.corrcoef(flat, other.ravel())[0, 1]) < 5 / math.sqrt(n)


def test_noise_blocks_and_subsets_give_the_same_values():
    from optim_core.noise import NoiseStream, normals, trajectory_keys

    keys = trajectory_keys(9, np.arange(40))
    whole = normals(keys, 0, 30)
    np.testing.assert_array_equal(_bits(normals(keys[7:9], 11, 13)), _bits(whole[11:13, :, 7:9]))
    stream = NoiseStream(9, np.arange(40), 1.5, 30)
    stream.block = 4                                   # a block size never changes a value
    rows = np.array([stream.kick(k).copy() for k in range(30)])
    np.testing.assert_array_equal(_bits(rows), _bits(whole * 1.5))


@pytest.mark.parametrize("name", optim_core.SCHEDULES)
def test_lr_table_in_blocks_equals_the_whole_table(name):
    if name == "plateau":
        return
    spec = optim_core.normalize_schedule(name, 300)
    lr = np.geomspace(1e-3, 1.0, 5)
    whole = optim_core.lr_table(spec, lr, 300)
    blocks = np.vstack([optim_core.lr_table(spec, lr, 300, k, min(k + 64, 300))
                        for k in range(0, 300, 64)])
    np.testing.assert_array_equal(_bits(whole), _bits(blocks))


def test_run_final_memory_is_per_trajectory_not_per_step():
    """run() would record (steps + 1) x N x 3 floats: 1,001 x 10,000 x 24 B = 240 MB here;
    run_final keeps a few (2, chunk) buffers and (N,) results."""
    import tracemalloc

    surf = landscapes.get("rosenbrock")
    starts = _grid_starts(surf, 10_000, np.random.default_rng(2))
    tracemalloc.start()
    try:
        fs = optim_core.run_final(surf, "adam", starts, 1000, lr=0.01, noise=0.1, tolerance=1e-3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert fs.n == 10_000
    assert peak < 15e6


def test_progress_and_cancel():
    surf = landscapes.get("himmelblau")
    starts = _grid_starts(surf, 30)                      # 900 trajectories
    seen = []
    optim_core.run_final(surf, "adam", starts, 20, chunk=200,
                         progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 900) and seen[-1] == (900, 900)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) == 6
    for workers in (1, 2):
        calls = []

        def stop_after_first(done, total):
            calls.append(done)
            return done == 0                              # None would mean "go on" too

        with pytest.raises(optim_core.Cancelled) as info:
            optim_core.run_final(surf, "adam", starts, 20, chunk=200, workers=workers,
                                 progress=stop_after_first)
        assert info.value.total == 900 and 0 < info.value.done < 900
        assert "cancelled" in str(info.value)


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(tolerance=-1.0), "tolerance"),
    (dict(chunk=0), "chunk"),
    (dict(workers=0), "workers"),
    (dict(noise_index=[0, 1]), "noise_index"),
    (dict(noise_index=-1), "noise_index"),
    (dict(target=[0.0, 1.0]), "target"),
    (dict(progress="bar"), "progress"),
    (dict(lr=-1.0), "lr"),
    (dict(beta9=0.5), "beta9"),
])
def test_run_final_rejects_bad_input_by_name(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        optim_core.run_final("himmelblau", "adam", [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], 10,
                             **kwargs)


def test_run_final_never_warns_on_divergence():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fs = optim_core.run_final("rosenbrock", "sgd", [(-1.5, 2.0), (0.5, 0.5)], 200,
                                  lr=np.array([10.0, 1e-4]), tolerance=1e-3)
    assert fs.diverged_at[0] == 1 and fs.diverged_at[1] == -1
    assert np.isnan(fs.xy_final[0]).all() and np.isnan(fs.loss_final[0])
    assert np.isfinite(fs.xy_final[1]).all()
