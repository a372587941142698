"""optiviz.maps: basins, hyperparameter maps and noise ensembles against hand-derived answers.

The surfaces with known answers are built here with landscapes' Landscape record (the catalog
has no separable double well): every expected value below comes from the algebra in the
comments, never from the code under test.
"""

import csv
import io
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import landscapes
import optim_core
from landscapes import Landscape
from optiviz import maps

pytestmark = pytest.mark.filterwarnings("error")


def _surface(name, f, vg, half, minima, start=(1.0, 1.0)):
    values = tuple(float(f(np.float64(x), np.float64(y))) for x, y in minima)
    return Landscape(name=name, title=name, params={}, bounds=((-half, half), (-half, half)),
                     minima=minima, minima_values=values, start=start, description="",
                     log_scale=False, formula="", f_min=min(values), citation="", _f=f, _vg=vg)


def double_well():
    """f = (x² - 1)² + y²: minima (1, 0) [index 0] and (-1, 0) [index 1], f = 0; a saddle at
    the origin (f = 1). ∂f/∂x = 4x(x² - 1), ∂f/∂y = 2y."""
    one, two, four = np.array(1.0), np.array(2.0), np.array(4.0)

    def f(x, y):
        return (x * x - 1.0) ** 2 + y * y

    def vg(x, y, gx, gy):
        u = x * x - one
        np.multiply(four * x, u, out=gx)
        np.multiply(two, y, out=gy)
        return u * u + y * y

    return _surface("double_well", f, vg, 2.0, ((1.0, 0.0), (-1.0, 0.0)))


def quadratic(a, b, half=3.0):
    """f = (a x² + b y²)/2: curvatures a and b, one minimum at the origin, f = 0."""
    a_, b_ = np.array(a), np.array(b)

    def f(x, y):
        return (a * x * x + b * y * y) / 2

    def vg(x, y, gx, gy):
        np.multiply(a_, x, out=gx)
        np.multiply(b_, y, out=gy)
        return (a_ * x * x + b_ * y * y) / 2

    return _surface(f"quadratic_{a:g}_{b:g}", f, vg, half, ((0.0, 0.0),))


def _bits(a):
    a = np.ascontiguousarray(a)
    return a.view(np.int64 if a.dtype == np.float64 else a.dtype)


# ---- basins ------------------------------------------------------------------------------------

# GD on the double well, x ← x - lr·4x(x² - 1) = x(1 - 4 lr (x² - 1)): the factor is positive
# while x² < 1 + 1/(4 lr), i.e. |x| < 2.45 for lr <= 0.05, so x never changes sign; ±1 attract
# (|1 - 8 lr| < 1) and 0 repels (factor 1 + 4 lr). From |x| >= 0.01 it takes at most
# ln(50)/ln(1.03) ≈ 132 steps to reach |x| = 1/2 (factor >= 1 + 4·0.01·(1 - 1/4)), then a few
# dozen to settle; y ← (1 - 2 lr) y shrinks by at least 0.98 a step, from |y| <= 2 to the
# tolerance 1e-6 (|y| <= 1e-3) within ln(2000)/0.0202 ≈ 376 steps. So after 1,000 steps every
# start with x > 0 is at (1, 0) (index 0) and every start with x < 0 at (-1, 0) (index 1).
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lr=st.floats(0.01, 0.05), nx=st.integers(2, 15), ny=st.integers(1, 6),
       x_lo=st.floats(-2.0, -0.3), x_hi=st.floats(0.3, 2.0), y_lo=st.floats(-2.0, -0.1),
       y_hi=st.floats(0.1, 2.0))
def test_double_well_basin_is_the_sign_of_x(lr, nx, ny, x_lo, x_hi, y_lo, y_hi):
    surf = double_well()
    b = maps.basin_map(surf, {"optimizer": "sgd", "lr": lr}, n=(nx, ny), steps=1000,
                       tolerance=1e-6, bounds=((x_lo, x_hi), (y_lo, y_hi)))
    assert b.shape == (ny, nx) and b.xs.shape == (nx,) and b.ys.shape == (ny,)
    expected = np.where(b.xs > 0, 0, 1)[None, :].repeat(ny, axis=0)
    clear = np.broadcast_to(np.abs(b.xs)[None, :] >= 0.01, b.shape)
    np.testing.assert_array_equal(b.minimum[clear], expected[clear])
    assert (b.steps_to_tolerance[clear] >= 0).all() and (b.steps_to_tolerance[clear] <= 1000).all()
    assert not b.diverged.any()
    np.testing.assert_allclose(np.abs(b.final_xy[clear][:, 0]), 1.0, atol=1e-3)


def test_double_well_basins_are_mirror_images_and_the_saddle_column_goes_nowhere():
    """x → -x maps GD's iterates exactly onto each other (every operation is odd in x, and
    IEEE negation is exact), so on a symmetric grid the map mirrors with 0 ↔ 1 and equal step
    counts. Bounds ±1.5 with 3 columns put the middle column exactly on x = 0, where
    ∂f/∂x = 0: it slides along y to the saddle (0, 0), at distance 1 from both minima."""
    surf = double_well()
    b = maps.basin_map(surf, {"optimizer": "sgd", "lr": 0.02}, n=(10, 6), steps=1000,
                       tolerance=1e-6)
    np.testing.assert_array_equal(b.minimum[:, ::-1], 1 - b.minimum)
    np.testing.assert_array_equal(b.steps_to_tolerance[:, ::-1], b.steps_to_tolerance)
    saddle = maps.basin_map(surf, {"optimizer": "sgd", "lr": 0.02}, n=(3, 4), steps=1000,
                            tolerance=1e-6, bounds=((-1.5, 1.5), (-1.0, 1.0)))
    assert saddle.xs.tolist() == [-1.0, 0.0, 1.0]
    assert (saddle.minimum[:, 1] == maps.NOT_CONVERGED).all()
    assert (saddle.steps_to_tolerance[:, 1] == -1).all()
    np.testing.assert_allclose(saddle.final_xy[:, 1], 0.0, atol=1e-6)
    np.testing.assert_allclose(saddle.distance[:, 1], 1.0, atol=1e-6)
    assert (saddle.minimum[:, 0] == 1).all() and (saddle.minimum[:, 2] == 0).all()


def test_basin_steps_count_to_the_minimum_the_run_ends_at():
    """multi_minima has four Gaussian wells of different depths: a run that ends in a shallow
    well never comes within tolerance of f_min (the deepest), yet it gets a step count: the
    first step within tolerance of its own well's value (checked on run()'s recorded loss)."""
    b = maps.basin_map("multi_minima", {"optimizer": "adam", "lr": 0.05}, n=12, steps=600,
                       tolerance=1e-3)
    ended = b.minimum >= 0
    assert (b.minimum[ended] > 0).any(), "no cell ended in a shallow well"
    assert (b.steps_to_tolerance[ended] >= 0).all()
    # the counted step really is within tolerance of that well's value: rerun one such cell
    iy, ix = np.argwhere(b.minimum > 0)[0]
    traj = optim_core.run("multi_minima", "adam", (b.xs[ix], b.ys[iy]), 600, lr=0.05)
    value = landscapes.get("multi_minima").minima_values[b.minimum[iy, ix]]
    k = b.steps_to_tolerance[iy, ix]
    assert traj.loss[k, 0] - value <= 1e-3 and (traj.loss[:k, 0] - value > 1e-3).all()


# ---- divergence regions: the analytic bounds ---------------------------------------------------

# GD with L2 weight decay λ on f = (a x² + b y²)/2 sees the gradient ((a + λ)x, (b + λ)y), so
# y ← (1 - lr (b + λ)) y: it shrinks iff |1 - lr (b + λ)| < 1, i.e. lr < 2/(L + λ) with L = b
# the larger curvature (λ = 0: the classic lr < 2/L). Beyond it |y| grows by at least 6 % a
# step once 3 % past the bound, from 1 to the divergence box (±30) within 60 steps; below it,
# |y| and |x| only shrink. Cells within 3 % of the bound are left out.
def test_gd_diverges_exactly_beyond_2_over_L():
    surf = quadratic(1.0, 10.0)
    lrs, wds = np.geomspace(0.01, 1.0, 40), np.linspace(0.0, 10.0, 11)
    h = maps.hyper_map(surf, "sgd", "lr", lrs, "weight_decay", wds, start=(1.0, 1.0), steps=300)
    assert h.shape == (11, 40) and h.scale_x == "log"
    product = lrs[None, :] * (10.0 + wds[:, None]) / 2.0          # lr / bound
    clear = np.abs(product - 1.0) > 0.03
    np.testing.assert_array_equal(h.diverged[clear], (product > 1.0)[clear])
    assert np.isnan(h.final_loss[h.diverged]).all()
    assert np.isfinite(h.final_loss[~h.diverged]).all()
    # λ = 0 row: the classic bound 2/L = 0.2
    row = h.diverged[0]
    assert row[lrs < 0.2 * 0.97].sum() == 0 and row[lrs > 0.2 * 1.03].all()


# Heavy ball (torch's SGD momentum, dampening 0): b ← μ b + g, θ ← θ - lr b, i.e.
# θ_{t+1} = θ_t - lr h θ_t + μ (θ_t - θ_{t-1}) on a coordinate of curvature h. Its
# characteristic polynomial z² - (1 + μ - lr h) z + μ has both roots inside the unit circle iff
# |μ| < 1 and |1 + μ - lr h| < 1 + μ, i.e. 0 < lr h < 2(1 + μ) (Polyak 1964): it diverges iff
# lr > 2(1 + μ)/L. Past the bound by a factor 1 + δ the root at -1 moves to
# -(1 + 2δ(1 + μ)/(1 - μ)) to first order, at least 10 % growth a step for δ = 5 %.
def test_heavy_ball_diverges_exactly_beyond_2_1_plus_mu_over_L():
    surf = quadratic(1.0, 4.0)
    lrs, mus = np.geomspace(0.05, 2.0, 48), np.linspace(0.0, 0.95, 20)
    h = maps.hyper_map(surf, "momentum", "lr", lrs, "momentum", mus, start=(1.0, 1.0),
                       steps=600, tolerance=1e-8)
    ratio = lrs[None, :] / (2.0 * (1.0 + mus[:, None]) / 4.0)
    clear = np.abs(ratio - 1.0) > 0.05
    np.testing.assert_array_equal(h.diverged[clear], (ratio > 1.0)[clear])
    # The fastest setting for a quadratic with curvatures in [m, L] (Polyak): lr = 4/(√L + √m)²
    # = 4/9 ≈ 0.44 and μ = ((√κ - 1)/(√κ + 1))² = 1/9 for κ = 4. Steps to 1e-8 from one
    # start only approximate the asymptotic rate, so the best cell is asked to be near it.
    iy, ix = h.best_cell()
    assert 0.3 <= lrs[ix] <= 0.6 and mus[iy] <= 0.3
    assert h.cell_settings(iy, ix) == {"optimizer": "momentum", "lr": float(lrs[ix]),
                                       "schedule": None, "noise": 0.0, "seed": 0,
                                       "hyperparameters": {"momentum": float(mus[iy])}}


# ---- chunked == unchunked == one by one --------------------------------------------------------

@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunk=st.integers(1, 200), workers=st.sampled_from([1, 2]), seed=st.integers(0, 1000),
       independent=st.booleans())
def test_maps_are_the_same_in_any_chunks_and_cell_by_cell(chunk, workers, seed, independent):
    surf = "himmelblau"
    spec = {"optimizer": "adam", "lr": 0.2, "noise": 3.0, "seed": seed}
    kw = dict(n=(13, 11), steps=80, independent_noise=independent)
    whole = maps.basin_map(surf, spec, chunk=10_000, **kw)
    parts = maps.basin_map(surf, spec, chunk=chunk, workers=workers, **kw)
    for name in ("final_xy", "final_loss", "distance"):
        np.testing.assert_array_equal(_bits(getattr(whole, name)), _bits(getattr(parts, name)))
    for name in ("minimum", "steps_to_tolerance", "diverged_at"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(parts, name))
    # One cell alone: with the race's draws it is exactly the race's run from that start.
    for iy, ix in [(0, 0), (5, 7), (10, 12)]:
        start = (whole.xs[ix], whole.ys[iy])
        if independent:
            one = optim_core.run_final(surf, "adam", start, 80, lr=0.2, noise=3.0, seed=seed,
                                       noise_index=iy * 13 + ix).xy_final[0]
        else:
            one = optim_core.run(surf, "adam", start, 80, lr=0.2, noise=3.0, seed=seed).xy[-1, 0]
        np.testing.assert_array_equal(_bits(one), _bits(whole.final_xy[iy, ix]))


def test_hyper_map_cells_are_the_race_runs_of_their_settings():
    h = maps.hyper_map("rosenbrock", {"optimizer": "adam", "noise": 0.5, "seed": 3}, "lr",
                       np.geomspace(1e-3, 0.3, 9), "beta1", np.linspace(0.5, 0.95, 7), steps=150,
                       chunk=5)
    for iy, ix in [(0, 0), (3, 4), (6, 8)]:
        s = h.cell_settings(iy, ix)
        traj = optim_core.run("rosenbrock", "adam", (-1.5, 2.0), 150, lr=s["lr"],
                              noise=s["noise"], seed=s["seed"], **s["hyperparameters"])
        np.testing.assert_array_equal(_bits(traj.xy[-1, 0]), _bits(h.final_xy[iy, ix]))
        np.testing.assert_array_equal(h.diverged_at[iy, ix], traj.diverged_at[0])


# ---- noise ensembles ---------------------------------------------------------------------------

# SGD with gradient noise σ on f = h(x² + y²)/2: per coordinate x ← (1 - lr h) x - lr σ ξ, an
# AR(1) process with stationary variance lr² σ² / (1 - (1 - lr h)²) = lr σ² / (h (2 - lr h)).
# lr = 0.1, h = 1: sd = σ sqrt(0.1/1.9) = 0.2294 σ, so the quartile spread (q75 - q25) of
# x across the runs is 1.349 sd = 0.3095 σ once the start (1, 1) is forgotten ((0.9)^k: after
# 100 steps < 3e-5). Averaged over 200 steps of 200 runs it is within a few % of that.
def test_ensemble_spread_grows_with_sigma_as_derived():
    surf = quadratic(1.0, 1.0)
    spreads = []
    for sigma in (0.25, 0.5, 1.0, 2.0):
        e = maps.noise_ensemble(surf, {"optimizer": "sgd", "lr": 0.1}, k=200, noise=sigma,
                                seed=1, steps=300, start=(1.0, 1.0))
        assert e.xy.shape == (5, 301, 2) and e.loss.shape == (5, 301) and e.alive[-1] == 200
        q25, q75 = e.xy[e.band(0.25)], e.xy[e.band(0.75)]
        spread = (q75 - q25)[100:].mean(axis=0)                 # x and y
        np.testing.assert_allclose(spread, 0.3095 * sigma, rtol=0.1)
        assert np.abs(e.median_xy[100:]).mean() < 0.1 * sigma
        assert (e.xy[e.band(0.1)] <= e.xy[e.band(0.9)]).all()
        spreads.append(spread.mean())
    assert spreads == sorted(spreads) and spreads[-1] > 6 * spreads[0]


def test_ensemble_run_zero_is_the_race_run():
    e = maps.noise_ensemble("saddle", {"optimizer": "sgd", "lr": 0.02}, k=20, noise=0.5, seed=4,
                            steps=60, start=(-1.5, 0.0))
    race = optim_core.run("saddle", "sgd", (-1.5, 0.0), 60, lr=0.02, noise=0.5, seed=4)
    np.testing.assert_array_equal(_bits(e.final_xy[0]), _bits(race.xy[-1, 0]))
    assert len({tuple(p) for p in e.final_xy}) == 20            # 20 different draws


def test_ensemble_quantiles_skip_diverged_runs_without_warning():
    # GD on the saddle rolls off the plot: the box is left, alive counts fall to 0, quantiles NaN
    e = maps.noise_ensemble("saddle", {"optimizer": "sgd", "lr": 0.2}, k=10, noise=1.0, seed=0,
                            steps=300, start=(-1.5, 0.0))
    assert e.alive[0] == 10 and e.alive[-1] == 0
    assert np.isnan(e.xy[:, -1]).all() and np.isnan(e.loss[:, -1]).all()


# ---- CSV ---------------------------------------------------------------------------------------

def _rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_round_trips_every_number():
    b = maps.basin_map(double_well(), {"optimizer": "sgd", "lr": 0.02}, n=(3, 2), steps=100,
                       bounds=((-1.5, 1.5), (-1.0, 1.0)))
    rows = _rows(maps.grid_csv(b))
    assert len(rows) == 6 and rows[0]["ix"] == "0" and rows[0]["iy"] == "0"
    for r in rows:
        iy, ix = int(r["iy"]), int(r["ix"])
        assert float(r["x"]) == b.xs[ix] and float(r["final_loss"]) == b.final_loss[iy, ix]
        assert r["outcome"] == ("not_converged" if ix == 1 else "minimum")
        assert r["minimum"] == ("" if ix == 1 else str(b.minimum[iy, ix]))
    h = maps.hyper_map("rosenbrock", "sgd", "lr", [1e-4, 0.1], "weight_decay", [0.0, 0.5],
                       steps=50)
    rows = _rows(maps.grid_csv(h))
    assert list(rows[0])[:4] == ["ix", "iy", "lr", "weight_decay"]
    assert rows[1]["lr"] == "0.1" and rows[1]["final_loss"] == "" and rows[1]["diverged_at"] != ""
    e = maps.noise_ensemble("booth", "adam", k=5, noise=1.0, steps=10)
    rows = _rows(maps.grid_csv(e))
    assert len(rows) == 11 and float(rows[10]["loss_q50"]) == e.median_loss[10]


def test_write_csv(tmp_path):
    h = maps.hyper_map("booth", "adam", "lr", 3, "beta1", 2, steps=20)
    path = tmp_path / "map.csv"
    maps.write_csv(h, path)
    assert path.read_text() == maps.grid_csv(h)


# ---- axes and bad input ------------------------------------------------------------------------

def test_axis_values_live_on_the_right_scale():
    lr = maps.axis_values("adam", "lr", 5)
    # torch's default lr for Adam is 1e-3: from 1e-5 to 1e-2 in equal ratios of 10^(3/4)
    np.testing.assert_allclose(lr, 10.0 ** np.array([-5, -4.25, -3.5, -2.75, -2]), rtol=1e-12)
    assert maps.axis_scale("adam", "eps") == "log" and maps.axis_scale("adam", "beta1") == "linear"
    np.testing.assert_allclose(maps.axis_values("momentum", "momentum", 3), [0.0, 0.495, 0.99])
    np.testing.assert_allclose(maps.axis_values("adam", "beta2", 3, 0.9, 0.999, "linear"),
                               [0.9, 0.9495, 0.999])


@pytest.mark.parametrize("call, fragment", [
    (lambda: maps.basin_map("himmelblau", "adam", n=0), "n must"),
    (lambda: maps.basin_map("himmelblau", "adam", n=2000), "n must"),
    (lambda: maps.basin_map("himmelblau", "adamm"), "optimizer"),
    (lambda: maps.basin_map("himmelblau", "adam", radius=0.0), "radius"),
    (lambda: maps.basin_map("himmelblau", "adam", tolerance=-1), "tolerance"),
    (lambda: maps.basin_map("himmelblau", "adam", bounds=((1, 0), (0, 1))), "bounds"),
    (lambda: maps.basin_map("himmelblau", "adam", bounds=((-1e9, 0), (0, 1))), "x0"),
    (lambda: maps.basin_map("himmelblau", {"optimizer": "adam", "lr": -1}), "lr"),
    (lambda: maps.hyper_map("booth", "adam", "beta9", 3, "lr", 3), "param_x"),
    (lambda: maps.hyper_map("booth", "adam", "lr", 3, "lr", 3), "differ"),
    (lambda: maps.hyper_map("booth", "adam", "lr", [-1.0, 1.0], "beta1", 3), "lr"),
    (lambda: maps.hyper_map("booth", "adam", "lr", 3, "beta1", [0.5, 1.5]), "beta1"),
    (lambda: maps.hyper_map("booth", "adam", "lr", "many", "beta1", 3), "values_x"),
    (lambda: maps.hyper_map("booth", "rmsprop", "lr", 3, "centered", [0, 1]), "param_y"),
    (lambda: maps.hyper_map("booth", "adam", "lr", 3, "beta1", 3, start=(1, 2, 3)), "start"),
    (lambda: maps.noise_ensemble("booth", "adam", k=0), "k must"),
    (lambda: maps.noise_ensemble("booth", "adam", noise=-1.0), "noise"),
    (lambda: maps.axis_values("adam", "momentum_decay", 3), "momentum_decay"),
    (lambda: maps.axis_values("nadam", "momentum_decay", 3), "needs low and high"),
    (lambda: maps.grid_csv(42), "grid_csv"),
])
def test_bad_input_is_a_value_error_naming_it(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()


def test_progress_covers_both_passes_and_cancel_stops():
    seen = []
    maps.basin_map("multi_minima", {"optimizer": "adam", "lr": 0.05}, n=10, steps=50, chunk=30,
                   progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 200) and seen[-1] == (200, 200)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    with pytest.raises(optim_core.Cancelled):
        maps.hyper_map("booth", "adam", "lr", 8, "beta1", 8, steps=50, chunk=16,
                       progress=lambda d, t: d < 20)
