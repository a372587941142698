"""optiviz.map_figures: each figure's data is its map's grid, on surfaces answered by hand.

The surfaces with known answers are built here from landscapes' Landscape record; the expected
basins, divergence regions and best cells come from the algebra in the comments, never from
the code under test. Colours are checked through the figure's own colour scale (hue per
minimum, lighter for more steps), not against constants copied from the module.
"""

import base64
import colorsys
import re

import numpy as np
import plotly.graph_objects as go
import pytest

import landscapes
from optiviz import map_figures as mf
from optiviz import maps
from optiviz.scene import COLORS


# The hand-answered test surfaces are test_maps' own.
from test_maps import _surface, double_well  # noqa: E402


def bowl():
    """f = (x² + y²)/2: curvature 1 both ways, minimum 0 at the origin."""
    def f(x, y):
        return (x * x + y * y) / 2

    def vg(x, y, gx, gy):
        np.copyto(gx, x)
        np.copyto(gy, y)
        return (x * x + y * y) / 2

    return _surface("bowl", f, vg, 3.0, ((0.0, 0.0),))


def _of(fig, kind):
    return [t for t in fig.to_plotly_json()["data"] if t.get("type") == kind]


def _array(v):
    """A trace array as numpy: plotly's typed array {"bdata", "dtype", "shape"} (base64), a
    numpy array or a list (None -> NaN)."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
        shape = v.get("shape")
        if shape:
            a = a.reshape([int(s) for s in str(shape).split(",")])
        return a.astype(float)
    if isinstance(v, np.ndarray):
        return v.astype(float)
    return np.array([np.nan if e is None else e for e in np.ravel(np.array(v, dtype=object))],
                    dtype=float).reshape(np.shape(np.array(v, dtype=object)))


def _scale_color(scale, z, zmin, zmax):
    """The colour plotly gives z on `scale`: linear RGB interpolation between the stops."""
    p = (z - zmin) / (zmax - zmin)
    for (p0, c0), (p1, c1) in zip(scale, scale[1:]):
        if p0 <= p <= p1 and p1 > p0:
            a = (p - p0) / (p1 - p0)
            rgb0 = [int(c0[i:i + 2], 16) for i in (1, 3, 5)]
            rgb1 = [int(c1[i:i + 2], 16) for i in (1, 3, 5)]
            return [(1 - a) * u + a * v for u, v in zip(rgb0, rgb1)]
    raise AssertionError(f"z {z} outside the scale")


def _hls(rgb):
    return colorsys.rgb_to_hls(*(c / 255 for c in rgb))


# ---- basins ------------------------------------------------------------------------------------

# GD on the double well keeps the sign of x for lr <= 0.05 (x ← x(1 - 4 lr (x² - 1)): the factor
# stays positive while x² < 1 + 1/(4 lr)), so every start with x > 0 ends at (1, 0) [index 0]
# and every start with x < 0 at (-1, 0) [index 1] (tests/test_maps.py derives the step counts).
def test_basin_figure_is_the_grid_side_by_side():
    surf = double_well()
    b1 = maps.basin_map(surf, {"optimizer": "sgd", "lr": 0.02}, n=(10, 6), steps=1000)
    b2 = maps.basin_map(surf, {"optimizer": "sgd", "lr": 0.04}, n=(10, 6), steps=1000)
    fig = mf.basin_figure([b1, b2], surface=surf)
    go.Figure(fig.to_dict())                              # valid for plotly.py
    heat = _of(fig, "heatmap")
    assert len(heat) == 2
    expected = np.where(b1.xs > 0, 0, 1)[None, :].repeat(6, axis=0)
    for t, b, xa in zip(heat, (b1, b2), ("x", "x2")):
        assert t["xaxis"] == xa
        np.testing.assert_array_equal(_array(t["x"]), b.xs)
        np.testing.assert_array_equal(_array(t["y"]), b.ys)
        custom = _array(t["customdata"])
        np.testing.assert_array_equal(custom[..., 0], expected)
        np.testing.assert_array_equal(custom[..., 1], b.steps_to_tolerance)
        z = _array(t["z"])
        np.testing.assert_array_equal(np.floor(z), expected)       # minimum k -> z in [k, k+1)
        # more steps -> higher z within the minimum's range (lighter)
        order = np.argsort(b.steps_to_tolerance[expected == 0], kind="stable")
        assert (np.diff(z[expected == 0][order]) >= 0).all()
    # colours: the two minima get two hues, each cell lighter the more steps it took
    t = heat[0]
    z = _array(t["z"])
    colors = [[_hls(_scale_color(t["colorscale"], v, t["zmin"], t["zmax"])) for v in row]
              for row in z]
    hues = np.array([[c[0] for c in row] for row in colors])
    light = np.array([[c[1] for c in row] for row in colors])
    right, left = hues[expected == 0], hues[expected == 1]
    assert np.ptp(right) < 0.01 and np.ptp(left) < 0.01
    gap = abs(right[0] - left[0])
    assert min(gap, 1 - gap) > 0.1                                 # > 36° apart
    steps = b1.steps_to_tolerance[expected == 0]
    lit = light[expected == 0]
    assert np.corrcoef(steps, lit)[0, 1] > 0.99
    # both minima starred in both panels, one legend (no name twice)
    stars = [s for s in _of(fig, "scatter") if s.get("name") == "global minimum"]
    assert len(stars) == 2
    for s in stars:
        assert sorted(zip(_array(s["x"]), _array(s["y"]))) == [(-1.0, 0.0), (1.0, 0.0)]
    shown = [s["name"] for s in fig.to_plotly_json()["data"] if s.get("showlegend")]
    assert len(shown) == len(set(shown))
    assert any("(-1, 0)" in n for n in shown) and any("(1, 0)" in n for n in shown)
    # panel titles in the race's colours of SGD and its twin
    texts = [a["text"] for a in fig.to_plotly_json()["layout"]["annotations"]]
    assert COLORS["sgd"] in texts[0] and "lr=0.02" in texts[0] and "lr=0.04" in texts[1]


# Bounds ±1.5 with 3 columns put the middle column on x = 0, where ∂f/∂x = 0: it slides to the
# saddle (0, 0), 1 away from both minima: not converged. With lr = 0.3, a start at x = ±2.7
# jumps to x₁ = 2.7 - 1.2·2.7·(2.7² - 1) ≈ -17.7 and then past 10⁴: diverged.
def test_basin_figure_marks_not_converged_and_diverged_apart():
    surf = double_well()
    b = maps.basin_map(surf, {"optimizer": "sgd", "lr": 0.02}, n=(3, 4), steps=1000,
                       bounds=((-1.5, 1.5), (-1.0, 1.0)))
    wild = maps.basin_map(surf, {"optimizer": "sgd", "lr": 0.3}, n=(10, 2), steps=50,
                          bounds=((-3.0, 3.0), (-1.0, 1.0)))
    assert wild.diverged[:, [0, -1]].all()
    fig = mf.basin_figure([b, wild], surface=surf)
    nc_heat, wild_heat = _of(fig, "heatmap")
    colour = {}
    for t, mp in ((nc_heat, b), (wild_heat, wild)):
        z = _array(t["z"])
        for (iy, ix), m in np.ndenumerate(mp.minimum):
            rgb = tuple(round(c) for c in _scale_color(t["colorscale"], z[iy, ix], t["zmin"],
                                                       t["zmax"]))
            colour.setdefault(int(m) if m < 0 else "minimum", set()).add(rgb)
    nc, div = colour[maps.NOT_CONVERGED], colour[maps.DIVERGED]
    assert len(nc) == 1 and len(div) == 1 and nc != div
    for rgb in nc | div:                                 # greys: no hue
        assert max(rgb) - min(rgb) < 16
    assert not (nc | div) & colour["minimum"]
    names = [s["name"] for s in fig.to_plotly_json()["data"] if s.get("showlegend")]
    assert "diverged" in names and any(n.startswith("not converged") for n in names)


def test_basin_figure_refuses_maps_of_two_surfaces():
    a = maps.basin_map(double_well(), "sgd", n=2, steps=2)
    b = maps.basin_map(bowl(), "sgd", n=2, steps=2)
    with pytest.raises(ValueError, match="one surface"):
        mf.basin_figure([a, b], surface=bowl())


# ---- hyperparameter maps -------------------------------------------------------------------------

# Heavy ball on the bowl (curvature h = 1): it diverges iff lr > 2(1 + μ), so of lr in {0.25,
# 0.5, 1, 1.5, 4.5} only the 4.5 column diverges for every μ in [0, 0.9]. Its first step is
# plain GD (the buffer starts as the gradient): θ₁ = (1 - lr)θ₀, exactly 0 for lr = 1 (loss
# 1 → 0 at step 1: the only column within 1e-3 after one step), and with μ = 0 it stays at 0
# (loss exactly 0); with μ > 0 the buffer carries it on (θ₂ = -μθ₀). Best cell: lr 1, μ 0.
def test_hyper_figure_is_the_grid_with_diverged_and_best_marked():
    surf = bowl()
    lrs, mus = np.array([0.25, 0.5, 1.0, 1.5, 4.5]), np.array([0.0, 0.3, 0.6, 0.9])
    h = maps.hyper_map(surf, "momentum", "lr", lrs, "momentum", mus, start=(1.0, 1.0),
                       steps=50)
    g = maps.hyper_map(surf, "sgd", "lr", lrs, "weight_decay", [0.0, 1.0], start=(1.0, 1.0),
                       steps=50)
    fig = mf.hyper_figure([h, g], surface=surf)
    go.Figure(fig.to_dict())
    d = fig.to_plotly_json()
    main = [t for t in _of(fig, "heatmap") if t.get("coloraxis") == "coloraxis"]
    assert len(main) == 2
    z = _array(main[0]["z"])
    np.testing.assert_array_equal(_array(main[0]["x"]), lrs)
    np.testing.assert_array_equal(_array(main[0]["y"]), mus)
    diverged = np.zeros((4, 5), dtype=bool)
    diverged[:, 4] = True
    assert np.isnan(z[diverged]).all()
    with np.errstate(divide="ignore"):
        expected = np.log10(h.final_loss)                 # f_min = 0: the loss itself, log10
    ok = ~diverged & (h.final_loss > 0)
    np.testing.assert_allclose(z[ok], expected[ok], rtol=0, atol=1e-12)
    assert h.final_loss[0, 2] == 0.0 and z[0, 2] == -300.0   # exactly 0 at lr 1, μ 0
    grey = [t for t in _of(fig, "heatmap") if t.get("name", "").endswith("diverged")]
    np.testing.assert_array_equal(~np.isnan(_array(grey[0]["z"])), diverged)
    best = [t for t in _of(fig, "scatter") if t.get("name") == "best cell"]
    assert _array(best[0]["x"]).tolist() == [1.0] and _array(best[0]["y"]).tolist() == [0.0]
    assert best[0]["marker"]["color"] == COLORS["momentum"]
    # one colour scale for both, spanning both maps' losses; log axis for lr only
    top = max(np.nanmax(_array(t["z"])) for t in main)
    assert d["layout"]["coloraxis"]["cmax"] == top
    assert d["layout"]["xaxis"]["type"] == "log" and d["layout"]["yaxis"]["type"] == "linear"
    assert d["layout"]["xaxis2"]["type"] == "log" and d["layout"]["yaxis2"]["type"] == "linear"


def test_hyper_figure_steps_metric_is_the_steps_grid():
    surf = bowl()
    h = maps.hyper_map(surf, "momentum", "lr", [0.25, 1.0, 4.5], "momentum", [0.0, 0.5],
                       start=(1.0, 1.0), steps=40)
    fig = mf.hyper_figure(h, metric="steps", surface=surf)
    (main,) = [t for t in _of(fig, "heatmap") if t.get("coloraxis") == "coloraxis"]
    z = _array(main["z"])
    assert z[0, 1] == 1.0 and z[1, 1] == 1.0                # lr 1: within 1e-3 at step 1
    assert np.isnan(z[:, 2]).all()                          # lr 4.5 > 2(1 + μ): diverged
    reached = h.steps_to_tolerance >= 0
    np.testing.assert_array_equal(z[reached], h.steps_to_tolerance[reached])
    with pytest.raises(ValueError, match="metric"):
        mf.hyper_figure(h, metric="speed", surface=surf)


# ---- noise ensembles -----------------------------------------------------------------------------

def test_band_polygon_of_a_box_sliding_right_is_the_rectangle_it_sweeps():
    """The box [0, 1] x [0, 1] moving to [1, 2] x [0, 1] sweeps the rectangle [0, 2] x [0, 1]."""
    xs, ys = mf.band_polygons(np.array([[0.0, 0.0], [1.0, 0.0]]),
                              np.array([[1.0, 1.0], [2.0, 1.0]]))
    assert xs[-1] is None and ys[-1] is None
    corners = sorted(set(zip(xs[:-2], ys[:-2])))
    assert corners == [(0.0, 0.0), (0.0, 1.0), (2.0, 0.0), (2.0, 1.0)]
    assert mf.band_polygons(np.full((3, 2), np.nan), np.full((3, 2), np.nan)) == ([], [])


def test_ensemble_figure_draws_the_quantiles():
    surf = bowl()
    e = maps.noise_ensemble(surf, {"optimizer": "sgd", "lr": 0.1}, k=50, noise=0.5, seed=2,
                            steps=60, start=(2.0, 1.0))
    fig = mf.ensemble_figure(e, surface=surf)
    go.Figure(fig.to_dict())
    lines = {t["name"]: t for t in _of(fig, "scatter")}
    median = lines["SGD / GD: median of 50 runs"]
    np.testing.assert_array_equal(_array(median["x"]), e.median_xy[:, 0])
    np.testing.assert_array_equal(_array(median["y"]), e.median_xy[:, 1])
    for q in (10, 25, 75, 90):
        np.testing.assert_array_equal(_array(lines[f"SGD / GD loss q{q}"]["y"]),
                                      e.loss[e.band(q / 100)])   # f_min = 0: the loss itself
    np.testing.assert_array_equal(_array(lines["SGD / GD median loss"]["y"]), e.median_loss)
    # every step's 25-75 box corner lies inside the 10-90 band's bounding box
    band = lines["SGD / GD 10–90 % of runs"]
    bx, by = _array(band["x"]), _array(band["y"])
    lo, hi = e.xy[e.band(0.25)], e.xy[e.band(0.75)]
    assert np.nanmin(bx) <= lo[:, 0].min() and np.nanmax(bx) >= hi[:, 0].max()
    assert np.nanmin(by) <= lo[:, 1].min() and np.nanmax(by) >= hi[:, 1].max()
    assert fig.to_plotly_json()["layout"]["images"][0]["source"].startswith("data:image/png")


# ---- the words of the pictures: English by default, Korean with lang="ko" ----------------------

HANGUL = re.compile(r"[\uac00-\ud7a3]")
# What the English pictures say, none of which may be left in a Korean one.
ENGLISH_WORDS = ("where each start ends", "which settings work", "how noisy runs spread",
                 "each cell", "ends at", "not converged", "diverged", "best cell", "best:",
                 "final loss", "median of", "of runs", "global minimum", "local minimum",
                 "learning rate", "steps", "start", "seed", "schedule", "never within")


def _seen(fig) -> dict[str, list[str]]:
    """Every word a reader sees in the PNG/SVG, by where it is: the title and subtitle, axis
    and colour-bar titles, the panels' notes (annotations) and the legend's entries."""
    d = fig.to_plotly_json()
    layout = d["layout"]
    out = {"title": [layout["title"]["text"], layout["title"]["subtitle"]["text"]],
           "axes": [v["title"]["text"] for k, v in layout.items()
                    if k.startswith(("xaxis", "yaxis")) and v.get("title")],
           "notes": [a["text"] for a in layout.get("annotations", ())],
           "legend": [t["name"] for t in d["data"] if t.get("showlegend") is not False
                      and t.get("type") == "scatter" and t.get("name")]}
    colorbar = layout.get("coloraxis", {}).get("colorbar", {}).get("title", {}).get("text")
    if colorbar:
        out["axes"].append(colorbar)
    return out


@pytest.fixture(scope="module")
def three_maps():
    basin = [maps.basin_map("himmelblau", {"optimizer": "adam", "lr": 0.05}, n=10, steps=40),
             maps.basin_map("himmelblau", {"optimizer": "sgd", "lr": 0.01, "noise": 0.1,
                                           "schedule": "cosine"}, n=10, steps=40)]
    hyper = maps.hyper_map("rosenbrock", {"optimizer": "adam"}, "lr", np.logspace(-4, 0, 5),
                           "beta1", np.linspace(0.5, 0.99, 4), steps=40)
    spread = maps.noise_ensemble("saddle", {"optimizer": "sgd", "lr": 0.02, "noise": 0.5}, k=12,
                                 steps=30)
    return basin, hyper, spread


def _figures(three_maps, lang):
    basin, hyper, spread = three_maps
    return {"basin": mf.basin_figure(basin, lang=lang),
            "hyper": mf.hyper_figure(hyper, lang=lang),
            "steps": mf.hyper_figure(hyper, metric="steps", lang=lang),
            "spread": mf.ensemble_figure(spread, lang=lang)}


def test_korean_map_figures_say_everything_in_korean(three_maps):
    for kind, fig in _figures(three_maps, "ko").items():
        seen = _seen(fig)
        layout = fig.to_plotly_json()["layout"]
        assert "Noto Sans CJK KR" in layout["font"]["family"], kind       # Hangul has a font
        assert all(HANGUL.search(text) for text in seen["title"]), (kind, seen["title"])
        words = " ".join(sum(seen.values(), [])).lower()
        # the English term beside the Korean one is meant: 학습률 (learning rate)
        words = re.sub(r"[\uac00-\ud7a3]+ \([a-z ]+\)", "", words)
        left = [w for w in ENGLISH_WORDS if w in words]
        assert not left, (kind, left, seen)
        # the axes' titles: x and y stay letters; every other one (lr, β₁, step, loss) Korean
        named = [a for a in seen["axes"] if a not in ("x", "y", "β₁")]
        assert named or kind == "basin", kind
        assert all(HANGUL.search(a) for a in named), (kind, seen["axes"])
        # the legend: Korean, except the optimizers' own names (Adam, SGD / GD: as in the race)
        for name in seen["legend"]:
            assert HANGUL.search(name) or name.split(" (")[0] in ("Adam", "SGD / GD"), (kind, name)
    basin = _seen(_figures(three_maps, "ko")["basin"])
    assert "힘멜블라우" in basin["title"][0] and "(3, 2)에서 끝남" in basin["legend"]
    assert any("학습률 0.05" in note for note in basin["notes"])     # the panel's settings


def test_english_map_figures_are_the_default_and_unchanged(three_maps):
    default = {k: f.to_plotly_json() for k, f in _figures(three_maps, "en").items()}
    basin, hyper, spread = three_maps
    assert default["basin"] == mf.basin_figure(basin).to_plotly_json()
    seen = _seen(mf.basin_figure(basin))
    assert seen["title"][0] == "<b>Himmelblau</b>: where each start ends"
    assert "diverged" in seen["legend"] and "ends at (3, 2)" in seen["legend"]
    assert "family" not in default["basin"]["layout"]["font"]
    assert not any(HANGUL.search(t) for t in sum(seen.values(), []))
    assert _seen(mf.hyper_figure(hyper))["axes"][:2] == ["learning rate", "β₁"]
    assert "step" in _seen(mf.ensemble_figure(spread))["axes"]


def test_a_typed_surface_keeps_its_formula_as_the_title(three_maps):
    surf = landscapes.get("custom", formula="x^2 + 3*y^2", xmin=-2, xmax=2, ymin=-2, ymax=2)
    b = maps.basin_map(surf, {"optimizer": "adam", "lr": 0.05}, n=6, steps=20)
    title = _seen(mf.basin_figure(b, surface=surf, lang="ko"))["title"][0]
    assert title.startswith(f"<b>{surf.title}</b>: ") and HANGUL.search(title)
