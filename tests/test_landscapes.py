"""Catalog tests for landscapes: gradients, fast path, minima against the published numbers, errors.

Expected minima and values are copied from optimizers.md section 4 as literals (never computed
by the code under test); the doc gives about 10 significant digits, hence the 1e-9 tolerances.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscapes
from landscapes import Landscape, Param

NAMES = landscapes.names()
TOL = 1e-9  # the doc's coordinates and values carry ~10 significant digits

# optimizers.md 4.1-4.4, 4.6: every local minimum in the domain, global first, with its value.
PUBLISHED = {
    "rosenbrock": [((1.0, 1.0), 0.0)],
    "elongated_quadratic": [((0.0, 0.0), 0.0)],
    "saddle": [],
    "monkey_saddle": [],
    "multi_minima": [
        ((1.9176368547, 0.9588184375), -2.520525337),
        ((-1.8735078857, 1.8735277582), -0.7498177394),
        ((-1.4126971856, -1.8836124039), -0.6108681321),
        ((1.3935890614, -2.3217133268), -0.2090540799),
    ],
    "himmelblau": [
        ((3.0, 2.0), 0.0),
        ((-2.8051180870, 3.1313125183), 0.0),
        ((-3.7793102534, -3.2831859913), 0.0),
        ((3.5844283403, -1.8481265270), 0.0),
    ],
    "six_hump_camel": [
        ((0.0898420131, -0.7126564030), -1.031628453),
        ((-0.0898420131, 0.7126564030), -1.031628453),
        ((1.7036067150, -0.7960835687), -0.2154638244),
        ((-1.7036067150, 0.7960835687), -0.2154638244),
        ((1.6071047529, 0.5686514549), 2.104250310),
        ((-1.6071047529, -0.5686514549), 2.104250310),
    ],
    "styblinski_tang": [
        ((-2.9035340278, -2.9035340278), -78.33233141),
        ((-2.9035340278, 2.7468027710), -64.19561236),
        ((2.7468027710, -2.9035340278), -64.19561236),
        ((2.7468027710, 2.7468027710), -50.05889331),
    ],
    "booth": [((1.0, 3.0), 0.0)],
    "dlfs_bowl": [((0.0, 0.0), 0.0)],
    "matyas": [((0.0, 0.0), 0.0)],
    "beale": [((3.0, 0.5), 0.0)],
    "goldstein_price": [((0.0, -1.0), 3.0), ((-0.6, -0.4), 30.0), ((1.8, 0.2), 84.0),
                        ((1.2, 0.8), 840.0)],
}

# optimizers.md 4.5: Rastrigin 1-D minima z and g(z); the 2-D minima are all 121 pairs.
RASTRIGIN_1D = [(0.0, 0.0), (0.9949586377, 0.9949590571), (1.9899122337, 3.9798311906),
                (2.9848557010, 8.9546012415), (3.9797838603, 15.9192437925),
                (4.9746913909, 24.8737229345)]

# optimizers.md 4.5: Ackley minima up to the symmetries (±x, ±y, x <-> y).
ACKLEY = [
    ((0.9521665460, 0.0), 2.5799275570), ((0.9684776587, 0.9684776587), 3.5744518773),
    ((1.9589197181, 0.0), 4.8840652581), ((1.9646166629, 0.9824160351), 5.3818641875),
    ((1.9744519865, 1.9744519865), 6.5596453756), ((2.9646194431, 0.0), 6.8825826468),
    ((2.9672595288, 0.9891541865), 7.1809516477), ((2.9731394199, 1.9821399504), 7.9617112747),
    ((2.9792239547, 2.9792239547), 9.0010934783), ((3.9694667434, 0.0), 8.6162500440),
    ((3.9709183151, 0.9927672062), 8.8131517740), ((3.9745401785, 1.9873106146), 9.3530392391),
    ((3.9789247508, 2.9842137381), 10.1203507436), ((3.9830676997, 3.9830676997), 10.9982621026),
    ((4.9736112580, 0.0), 10.1203312738), ((4.9861804570, 4.9861804570), 12.6322689915),
]

NON_DEFAULT = [("rosenbrock", {"a": 2.0, "b": 10.0}),
               ("elongated_quadratic", {"condition_number": 50.0, "angle": 30.0})]

CASES = [(n, {}) for n in NAMES] + NON_DEFAULT
CASE_IDS = [n + "".join(f"-{k}={v:g}" for k, v in p.items()) for n, p in CASES]


def _random_points(ls: Landscape, n: int = 100, seed: int = 0) -> np.ndarray:
    """(n, 2) uniform points in the plotting window."""
    (x0, x1), (y0, y1) = ls.bounds
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])


def _inside(ls: Landscape, xy) -> bool:
    (x0, x1), (y0, y1) = ls.bounds
    return x0 <= xy[0] <= x1 and y0 <= xy[1] <= y1


def _fd_grad(ls: Landscape, xy: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of f: (n, 2) -> (n, 2)."""
    ex, ey = np.array([h, 0.0]), np.array([0.0, h])
    return np.column_stack([(ls.f(xy + ex) - ls.f(xy - ex)) / (2 * h),
                            (ls.f(xy + ey) - ls.f(xy - ey)) / (2 * h)])


def _fd_hessian(ls: Landscape, xy, h: float = 1e-5) -> np.ndarray:
    cols = [(ls.grad(np.add(xy, e)) - ls.grad(np.subtract(xy, e))) / (2 * h)
            for e in np.eye(2) * h]
    return np.stack(cols, axis=-1)


# ---------------------------------------------------------------- gradients and the fast path


@pytest.mark.parametrize(("name", "params"), CASES, ids=CASE_IDS)
def test_gradient_matches_central_differences(name, params):
    ls = landscapes.get(name, **params)
    xy = _random_points(ls)
    g = ls.grad(xy)
    err = np.linalg.norm(g - _fd_grad(ls, xy), axis=-1) / np.maximum(1.0, np.linalg.norm(g, axis=-1))
    assert err.max() < 1e-6


@pytest.mark.parametrize(("name", "params"), CASES, ids=CASE_IDS)
def test_value_and_grad_equals_f_and_grad(name, params):
    ls = landscapes.get(name, **params)
    xy = _random_points(ls, seed=1)
    theta = np.ascontiguousarray(xy.T)
    out = np.full_like(theta, np.nan)
    with np.errstate(all="ignore"):  # the caller's job, as in the runner
        val = ls.value_and_grad(theta, out)
    assert val.shape == (len(xy),)
    f = ls.f(xy)
    np.testing.assert_allclose(val, f, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out.T, ls.grad(xy), rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(theta, xy.T)  # input untouched


@pytest.mark.parametrize("name", NAMES)
def test_value_and_grad_batch_equals_one_by_one(name):
    ls = landscapes.get(name)
    theta = np.ascontiguousarray(_random_points(ls, n=7, seed=2).T)
    out = np.empty_like(theta)
    val = ls.value_and_grad(theta, out)
    for i in range(theta.shape[1]):
        one, g1 = np.ascontiguousarray(theta[:, i:i + 1]), np.empty((2, 1))
        v1 = ls.value_and_grad(one, g1)
        np.testing.assert_allclose(v1, val[i:i + 1], rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(g1[:, 0], out[:, i], rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_shapes(name):
    ls = landscapes.get(name)
    grid = _random_points(ls, n=12).reshape(3, 4, 2)
    assert ls.f(grid).shape == (3, 4)
    assert ls.grad(grid).shape == (3, 4, 2)
    assert np.ndim(ls.f(ls.start)) == 0
    assert ls.grad(ls.start).shape == (2,)
    np.testing.assert_allclose(ls.f(grid)[1, 2], ls.f(grid[1, 2]), rtol=1e-14)
    with pytest.raises(ValueError, match="shape"):
        ls.f(np.zeros((4, 3)))


# ---------------------------------------------------------------------------- minima


@pytest.mark.parametrize("name", [n for n in NAMES if n in PUBLISHED])
def test_minima_are_the_published_ones(name):
    ls = landscapes.get(name)
    expected = PUBLISHED[name]
    if not expected:  # the saddles: unbounded below, nothing to list
        assert ls.minima == ls.minima_values == ()
        return
    assert len(ls.minima) == len(ls.minima_values) == len(expected)
    for xy, value in zip(ls.minima, ls.minima_values):
        matches = [v for p, v in expected if math.dist(p, xy) < TOL]
        assert len(matches) == 1, f"{xy} is not a published minimum of {name}"
        assert value == pytest.approx(matches[0], rel=TOL, abs=TOL)
    assert ls.minima_values[0] == pytest.approx(min(v for _, v in expected), rel=TOL, abs=TOL)


def test_rastrigin_has_all_121_lattice_minima():
    ls = landscapes.get("rastrigin")
    assert len(ls.minima) == 121
    assert ls.minima[0] == (0.0, 0.0) and ls.minima_values[0] == 0.0
    table = [(s * z, g) for z, g in RASTRIGIN_1D for s in ((1, -1) if z else (1,))]
    seen = set()
    for (x, y), value in zip(ls.minima, ls.minima_values):
        (i, (zx, gx)), = [(k, t) for k, t in enumerate(table) if abs(t[0] - x) < TOL]
        (j, (zy, gy)), = [(k, t) for k, t in enumerate(table) if abs(t[0] - y) < TOL]
        assert value == pytest.approx(gx + gy, abs=2 * TOL)
        seen.add((i, j))
    assert len(seen) == 121


def test_ackley_minima_match_the_table_and_the_lattice():
    ls = landscapes.get("ackley")
    assert len(ls.minima) == 121  # one per lattice point of [-5, 5]², the origin included
    assert ls.minima[0] == (0.0, 0.0) and ls.minima_values[0] == pytest.approx(0.0, abs=1e-14)
    lattice = {(round(x), round(y)) for x, y in ls.minima}
    assert lattice == set(itertools.product(range(-5, 6), repeat=2))
    for (x, y), value in ACKLEY:
        images = {(sx * a, sy * b) for a, b in ((x, y), (y, x)) for sx in (1, -1) for sy in (1, -1)}
        idx, dist = ls.nearest_minimum(np.array(sorted(images)))
        assert np.all(dist < TOL), (x, y)
        np.testing.assert_allclose(np.array(ls.minima_values)[idx], value, rtol=0, atol=TOL)


@pytest.mark.parametrize(("name", "params"), CASES, ids=CASE_IDS)
def test_listed_minima_are_minima(name, params):
    ls = landscapes.get(name, **params)
    if not ls.minima:
        return
    m = np.array(ls.minima)
    assert np.abs(ls.grad(m)).max() < 1e-8
    assert all(np.linalg.eigvalsh(h).min() > 0 for h in _fd_hessian(ls, m))
    np.testing.assert_allclose(ls.f(m), ls.minima_values, rtol=1e-14, atol=1e-14)
    assert min(ls.minima_values) >= ls.minima_values[0] - 1e-12  # global first
    assert ls.f_min == ls.minima_values[0]
    assert all(_inside(ls, p) for p in ls.minima)


@pytest.mark.parametrize(("name", "params"), CASES, ids=CASE_IDS)
def test_f_min_is_the_lowest_value_in_the_window(name, params):
    ls = landscapes.get(name, **params)
    (x0, x1), (y0, y1) = ls.bounds
    grid = np.stack(np.meshgrid(np.linspace(x0, x1, 101), np.linspace(y0, y1, 101)), axis=-1)
    assert ls.f(grid).min() >= ls.f_min - 1e-12 * max(1.0, abs(ls.f_min))
    if not ls.minima:  # unbounded below: f_min is the lowest grid value, attained at a corner
        assert ls.f_min == ls.f(grid).min()


def test_saddle_f_min_values():
    assert landscapes.get("saddle").f_min == -4.0  # x = 0, y = ±2
    assert landscapes.get("monkey_saddle").f_min == -6.75  # corners (1.5, ±1.5)


def test_rosenbrock_minimum_follows_a_and_stays_in_bounds():
    ls = landscapes.get("rosenbrock", a=2.0, b=10.0)
    assert ls.minima == ((2.0, 4.0),) and ls.minima_values == (0.0,)
    assert _inside(ls, ls.minima[0]) and _inside(ls, ls.start)
    assert landscapes.get("rosenbrock").bounds == ((-2.0, 2.0), (-1.0, 3.0))


def test_nearest_minimum():
    ls = landscapes.get("himmelblau")
    idx, dist = ls.nearest_minimum(np.array(ls.minima) + 0.01)
    np.testing.assert_array_equal(idx, np.arange(4))
    np.testing.assert_allclose(dist, math.sqrt(2) * 0.01, rtol=1e-6)
    idx, dist = ls.nearest_minimum(np.zeros((2, 3, 2)))
    assert idx.shape == dist.shape == (2, 3)
    idx, dist = ls.nearest_minimum([[np.nan, 0.0], [np.inf, 1.0]])
    assert list(idx) == [-1, -1] and np.isnan(dist).all()
    idx, dist = landscapes.get("saddle").nearest_minimum(np.zeros((5, 2)))
    assert (idx == -1).all() and np.isnan(dist).all()


# ------------------------------------------------------------------------- metadata


@pytest.mark.parametrize(("name", "params"), CASES, ids=CASE_IDS)
def test_metadata(name, params):
    ls = landscapes.get(name, **params)
    assert ls.name == name and ls.title and ls.formula and ls.citation
    assert ls.description.endswith(".") and ls.description.count(". ") == 0  # one sentence
    assert isinstance(ls.log_scale, bool)
    assert ls.params == {k: p.default for k, p in landscapes.parameters(name).items()} | params
    assert _inside(ls, ls.start)
    (x0, x1), (y0, y1) = ls.bounds
    assert x0 < x1 and y0 < y1
    (bx0, bx1), (by0, by1) = ls.divergence_box
    assert bx0 < x0 and x1 < bx1 and by0 < y0 and y1 < by1
    assert bx1 - bx0 == by1 - by0 == pytest.approx(10 * max(x1 - x0, y1 - y0))
    assert ls.f(ls.start) > ls.f_min


def test_divergence_box_value():
    assert landscapes.get("rosenbrock").divergence_box == ((-20.0, 20.0), (-19.0, 21.0))


def test_landscape_is_frozen_and_hashable():
    ls = landscapes.get("rosenbrock")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ls.start = (0.0, 0.0)
    assert ls == landscapes.get("rosenbrock") and hash(ls) == hash(landscapes.get("rosenbrock"))
    assert ls != landscapes.get("rosenbrock", b=10)


def test_names_and_parameters():
    assert NAMES[0] == "rosenbrock" and len(set(NAMES)) == len(NAMES)
    assert set(NAMES) == {"rosenbrock", "saddle", "monkey_saddle", "elongated_quadratic",
                          "multi_minima", "himmelblau", "beale", "booth", "matyas",
                          "goldstein_price", "six_hump_camel", "rastrigin", "ackley",
                          "styblinski_tang", "dlfs_bowl"}
    assert set(landscapes.parameters("rosenbrock")) == {"a", "b"}
    quad = landscapes.parameters("elongated_quadratic")
    assert quad["condition_number"] == Param(10.0, 1.0, 1000.0, quad["condition_number"].label,
                                             True, quad["condition_number"].help)
    assert (quad["angle"].min, quad["angle"].max, quad["angle"].log) == (-90.0, 90.0, False)
    for name in NAMES:
        for p in landscapes.parameters(name).values():
            assert p.min <= p.default <= p.max and p.label and p.help
            assert not p.log or p.min > 0
    assert landscapes.parameters("saddle") == {}


def test_elongated_quadratic_geometry():
    """Curvature L along the angle, L/κ across it, so κ is the condition number."""
    L = landscapes.surfaces.QUADRATIC_L
    ls = landscapes.get("elongated_quadratic", condition_number=50.0, angle=30.0)
    steep = np.array([math.cos(math.radians(30)), math.sin(math.radians(30))])
    flat = np.array([-steep[1], steep[0]])
    assert ls.f(2 * steep) == pytest.approx(0.5 * L * 4)
    assert ls.f(2 * flat) == pytest.approx(0.5 * L / 50 * 4)


def test_elongated_quadratic_default_shows_zigzag_under_gd():
    """GD at lr = 0.1 overshoots the steep axis every step (factor 1 - 0.1 L = -0.5) yet converges."""
    ls = landscapes.get("elongated_quadratic")
    z = np.array(ls.start)
    xs = []
    for _ in range(60):
        z = z - 0.1 * ls.grad(z)
        xs.append(z[0])
    assert all(a * b < 0 for a, b in zip(xs[:10], xs[1:11]))  # sign flips: the zig-zag
    assert np.linalg.norm(z) < 0.1


def test_dlfs_bowl_is_the_books_surface():
    """Deep Learning from Scratch, ch06/optimizer_compare_naive.py: f = x²/20 + y², df = (x/10, 2y),
    window x in [-10, 10], y in [-5, 5], start (-7, 2); values by hand."""
    ls = landscapes.get("dlfs_bowl")
    assert ls.bounds == ((-10.0, 10.0), (-5.0, 5.0)) and ls.start == (-7.0, 2.0)
    assert ls.minima == ((0.0, 0.0),) and ls.minima_values == (0.0,) and ls.f_min == 0.0
    assert "Deep Learning from Scratch" in ls.title and ls.params == {}
    assert ls.f(ls.start) == pytest.approx(49 / 20 + 4)                  # 6.45
    np.testing.assert_array_equal(ls.grad(ls.start), [-7 / 10, 4.0])     # the book's x / 10, 2y
    assert ls.f([math.sqrt(20), 0.0]) == pytest.approx(ls.f([0.0, 1.0]))  # f = 1 at x = √20, y = 1
    xy = _random_points(ls, seed=3)
    np.testing.assert_array_equal(ls.grad(xy), np.column_stack([xy[:, 0] / 10.0, 2.0 * xy[:, 1]]))
    np.testing.assert_allclose(_fd_grad(ls, xy), ls.grad(xy), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(_fd_hessian(ls, ls.start), [[0.1, 0.0], [0.0, 2.0]], atol=1e-6)


def test_saddle_start_is_off_the_axis():
    assert landscapes.get("saddle").start[1] != 0.0


# --------------------------------------------------------------------------- errors

BAD_PARAMS = [
    ("rosenbrock", {"b": 0.0}, "'b'"),
    ("rosenbrock", {"b": 1e4}, "'b'"),
    ("rosenbrock", {"a": float("nan")}, "'a'"),
    ("rosenbrock", {"a": float("inf")}, "'a'"),
    ("rosenbrock", {"a": "1"}, "'a'"),
    ("rosenbrock", {"a": True}, "'a'"),
    ("rosenbrock", {"b": 10**400}, "'b'"),
    ("rosenbrock", {"b": None}, "'b'"),
    ("rosenbrock", {"c": 1.0}, "'c'"),
    ("elongated_quadratic", {"condition_number": 0.5}, "'condition_number'"),
    ("elongated_quadratic", {"angle": 91}, "'angle'"),
    ("saddle", {"a": 1.0}, "'a'"),
]


@pytest.mark.parametrize(("name", "params", "needle"), BAD_PARAMS,
                         ids=[f"{n}-{k}={v!r:.12}" for n, p, _ in BAD_PARAMS for k, v in p.items()])
def test_bad_parameters_raise(name, params, needle):
    with pytest.raises(ValueError, match=needle) as info:
        landscapes.get(name, **params)
    message = str(info.value)
    (key, value), = params.items()
    if key in landscapes.parameters(name):
        p = landscapes.parameters(name)[key]
        assert f"[{p.min:g}, {p.max:g}]" in message and repr(value)[:20] in message
    else:
        assert "valid parameters: a, b" in message or "no parameters" in message


def test_good_parameters_accept_ints_and_numpy_scalars():
    assert landscapes.get("rosenbrock", b=np.float32(10)).params == {"a": 1.0, "b": 10.0}
    assert landscapes.get("elongated_quadratic", angle=np.int64(-90)).params["angle"] == -90.0


@pytest.mark.parametrize("bad", ["nope", "Rosenbrock", None, 3])
def test_unknown_name_lists_valid_names(bad):
    with pytest.raises(ValueError) as info:
        landscapes.get(bad)
    assert all(n in str(info.value) for n in NAMES)
    with pytest.raises(ValueError):
        landscapes.parameters(bad)


# --------------------------------------------------------------- never warn, never raise

FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)
POINTS = st.lists(st.tuples(FLOATS, FLOATS), min_size=1, max_size=4)
DEFAULTS = {n: landscapes.get(n) for n in NAMES}


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None, database=None)
@given(points=POINTS)
def test_arbitrary_inputs_never_warn(name, points):
    ls = DEFAULTS[name]
    xy = np.array(points, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = ls.f(xy)
        g = ls.grad(xy)
        ls.nearest_minimum(xy)
        with np.errstate(all="ignore"):  # value_and_grad leaves this to its caller
            out = np.empty((2, len(xy)))
            v = ls.value_and_grad(np.ascontiguousarray(xy.T), out)
    assert f.shape == v.shape == (len(xy),) and g.shape == xy.shape
    assert f.dtype == g.dtype == np.float64
    # finite in the window's neighbourhood means finite out
    box = np.array(ls.divergence_box)
    near = np.all((xy >= box[:, 0]) & (xy <= box[:, 1]), axis=-1)
    assert np.isfinite(f[near]).all() and np.isfinite(g[near]).all()


def test_ackley_gradient_at_origin_is_zero_without_warning():
    ls = landscapes.get("ackley")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(ls.grad([0.0, 0.0]), [0.0, 0.0])
        out = np.empty((2, 1))
        ls.value_and_grad(np.zeros((2, 1)), out)
        np.testing.assert_array_equal(out, 0.0)
        assert np.isfinite(ls.grad([1e-320, -1e-320])).all()  # tiny r: no 0/0, no overflow


def test_nearest_minimum_of_a_single_point():
    surface = landscapes.get("himmelblau")
    index, distance = surface.nearest_minimum(np.array([2.9, 2.1]))
    assert index.shape == () and int(index) == 0          # (3, 2) is listed first
    assert float(distance) == pytest.approx(np.hypot(0.1, 0.1))


def test_from_spec_reads_the_json_form():
    assert landscapes.from_spec("booth").name == "booth"
    surface = landscapes.from_spec({"name": "rosenbrock", "a": 2.0, "b": 10.0})
    assert surface.minima[0] == pytest.approx((2.0, 4.0))          # (a, a²)
    with pytest.raises(ValueError, match="surface must be a name"):
        landscapes.from_spec(["rosenbrock"])


@pytest.mark.parametrize(("name", "params"), CASES, ids=CASE_IDS)
def test_gradient_without_the_value_is_the_same_gradient(name, params):
    """vg(..., value=False) writes the very gradient bits of vg(...) and returns no value."""
    ls = landscapes.get(name, **params)
    theta = np.ascontiguousarray(_random_points(ls, n=50, seed=3).T)
    with_value, without = np.empty_like(theta), np.full_like(theta, np.nan)
    ls.value_and_grad(theta, with_value)
    assert ls._vg(theta[0], theta[1], without[0], without[1], False) is None
    ls.gradient_into(theta, without)
    np.testing.assert_array_equal(with_value.view(np.int64), without.view(np.int64))


def _extreme_params(name):
    """Default parameters and each parameter at its two ends (the others at default)."""
    spec = landscapes.parameters(name)
    out = [{}]
    for key, p in spec.items():
        out += [{key: p.min}, {key: p.max}]
    return out


@pytest.mark.parametrize("name", NAMES)
def test_catalog_surfaces_are_finite_inside_the_divergence_box(name):
    """finite_in_box lets a map's run skip the loss (the box alone decides divergence), so it
    must hold: f and its gradient are finite on a 401 x 401 grid over the whole box, corners
    included, at default and extreme parameters. (Every catalog formula is built from
    polynomials, exp, cos and sqrt(x² + y²): finite for finite input unless it overflows, and
    the box is too small for that.)"""
    for params in _extreme_params(name):
        ls = landscapes.get(name, **params)
        assert ls.finite_in_box
        (x0, x1), (y0, y1) = ls.divergence_box
        gx, gy = np.meshgrid(np.linspace(x0, x1, 401), np.linspace(y0, y1, 401))
        xy = np.stack([gx, gy], -1)
        assert np.isfinite(ls.f(xy)).all(), params
        assert np.isfinite(ls.grad(xy)).all(), params


def test_a_typed_surface_makes_no_finiteness_promise():
    assert not landscapes.from_formula("1/x").finite_in_box
