"""Every preset tells the truth, and shows it: one test per preset, on the preset's own trajectories.

Each test measures what the preset's `watch` sentence names, on the runs the app computes for it,
and compares it with a threshold derived by hand in a comment (from the update rule, the
surface's curvature and the map's size), never with a number printed by the code.

"Visible" is measured in pixels of the app's map. At 1280x720 the race map is about 600 x 450 px
and drawn with equal axis scales (the y axis is scaleanchor'ed to x), so one unit of the surface's
window is PX = min(600 / width, 450 / height) pixels (75 px on the [-3, 3]² quadratic, 112.5 px on
Rosenbrock's 4 x 4 window, 22.5 px on Booth's 20 x 20, 30 px on the book's 20 x 10 bowl). A
feature a claim is about must span VISIBLE = 20 px. Paths are 2.5 px lines and a run's head is a
dot of radius HEAD = 7 px (static/live_view/overlay.js): a head that moves less than that has
"hardly left" where it was, and two points closer than that sit under one head.
"""

from __future__ import annotations

import colorsys
import copy
import functools
import math
import re

import numpy as np
import pytest

import landscapes
import optim_core
from optiviz import scene as scenes
from optiviz.presets import PRESETS, get_preset, preset_keys, preset_scene
from optiviz.scene import compute_scene, normalize_scene

MAP_W, MAP_H = 600, 450
VISIBLE = 20.0
HEAD = 7.0


# ---- helpers -----------------------------------------------------------------------------------

from test_presets import _computed, _with  # noqa: E402 - the presets' own helpers


def px_per_unit(result) -> float:
    """Pixels per unit of the surface on the app's map (equal axis scales)."""
    (x0, x1), (y0, y1) = result.surface.bounds
    return min(MAP_W / (x1 - x0), MAP_H / (y1 - y0))


def xy(result, i):
    return result.runs[i].trajectory.xy[:, 0]


def loss(result, i):
    return result.runs[i].trajectory.loss[:, 0]


def steps_px(result, i):
    """Length of every step on the map, in pixels: (steps,)."""
    return np.linalg.norm(np.diff(xy(result, i), axis=0), axis=1) * px_per_unit(result)


def swings(offset):
    """Split a signed offset from a line (the valley floor, an axis) at its sign changes:
    the largest |offset| of each stretch on one side, in order. The first is the start side."""
    offset = offset[np.isfinite(offset)]
    cuts = np.flatnonzero(np.diff(np.sign(offset)) != 0) + 1
    return [float(np.max(np.abs(part))) for part in np.split(offset, cuts)]


def index_of(result, optimizer, twin=0):
    hits = [i for i, run in enumerate(result.runs) if run.optimizer == optimizer]
    return hits[twin]


@functools.lru_cache(maxsize=None)
def _recorded(key):
    """The preset's runs again with record_state, checked to be the very same trajectories."""
    result = _computed(key)
    scene = result.scene
    runs = [dict(run, record_state=True) for run in scenes.scene_runs(scene)]
    recorded = optim_core.run_many(result.surface, runs, scene["steps"])
    for run, again in zip(result.runs, recorded):
        np.testing.assert_array_equal(run.trajectory.xy, again.xy)
    return recorded


def test_every_preset_has_a_claim_test():
    tested = {name[len("test_"):] for name in globals() if name.startswith("test_")}
    assert set(preset_keys()) <= tested


# ---- colour words ------------------------------------------------------------------------------

COLOUR_WORDS = ("dark blue", "light blue", "dark red", "blue", "green", "cyan", "brown", "orange",
                "red", "pink", "black")


def colour_word(hex_colour: str) -> str:
    """The plain word for a run's colour (optiviz.scene.COLORS and its twin shades)."""
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    hue = h * 360
    if v < 0.15:
        return "black"
    if 170 <= hue < 195:
        return "cyan"
    if 75 <= hue < 170:
        return "green"
    if 195 <= hue < 250:
        return "dark blue" if v < 0.5 else "light blue" if s < 0.45 else "blue"
    if 290 <= hue < 335:
        return "pink"
    if hue >= 335 or hue < 15:
        if s < 0.6 and v < 0.6:
            return "brown"
        return "dark red" if v < 0.55 else "red"
    if 15 <= hue < 45:
        return "orange" if v > 0.8 else "brown"
    return "?"


# preset -> {colour word in its watch sentence: index of the run it names}
COLOURS_NAMED = {
    "lr_too_large": {"blue": 0, "dark blue": 1, "light blue": 2},
    "zigzag_vs_adaptive": {"blue": 0, "red": 1, "orange": 2},
    "rotation_breaks_adam": {"blue": 0, "red": 1, "orange": 2},
    "heavy_ball_optimal": {"blue": 0, "green": 1},
    "momentum_overshoot": {"blue": 0, "green": 1},
    "nesterov_brakes": {"green": 0, "cyan": 1},
    "adagrad_decay": {"brown": 0, "orange": 1},
    "saddle_stall": {"blue": 0, "green": 1, "red": 2},
    "saddle_noise": {"blue": 0, "green": 1, "red": 2},
    "start_decides_basin": {"blue": 0, "dark blue": 1},
    "momentum_escapes_well": {"blue": 0, "green": 1, "red": 2},
    "local_minima_trap": {"blue": 0, "red": 1, "green": 2},
    "schedule_settles": {"blue": 0, "dark blue": 1, "light blue": 2},
    "lion_fixed_steps": {"black": 0, "red": 1},
    "radam_warmup": {"red": 0, "blue": 1},
    "adam_vs_adamw": {"red": 0, "dark red": 1, "pink": 2},
    "rmsprop_first_step": {"orange": 0, "red": 1},
    "dlfs_comparison": {"blue": 0, "green": 1, "brown": 2, "red": 3},
}


def _colour_words_in(text):
    found, rest = set(), text
    for word in COLOUR_WORDS:  # longest first, so "dark blue" is not also counted as "blue"
        pattern = rf"\b{word}\b"
        if re.search(pattern, rest):
            found.add(word)
            rest = re.sub(pattern, " ", rest)
    return found


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.key)
def test_colour_words_match_the_runs_they_name(preset):
    """'watch the green one' must mean momentum: each colour word is the colour of its run."""
    named = COLOURS_NAMED[preset.key]
    assert _colour_words_in(preset.watch) == set(named)
    assert not _colour_words_in(preset.lesson) - set(named)
    colours = scenes.colors(normalize_scene(preset.scene))
    for word, i in named.items():
        assert colour_word(colours[i]) == word, (preset.key, word, colours[i])


def test_colour_word_of_every_optimizer():
    expected = {"sgd": "blue", "momentum": "green", "nesterov": "cyan", "adagrad": "brown",
                "rmsprop": "orange", "adam": "red", "adamw": "pink", "radam": "blue",
                "lion": "black"}
    for name, word in expected.items():
        assert colour_word(scenes.COLORS[name]) == word


# ---- one test per preset -----------------------------------------------------------------------

def test_lr_too_large():
    r = _computed("lr_too_large")
    px = px_per_unit(r)
    L = landscapes.surfaces.QUADRATIC_L
    # On the axis-aligned quadratic the x-gradient is exactly L·x, so GD's x is x0·(1 − lr·L)^k:
    # factors 1 − 0.05·15 = 0.25 (glides in, never crosses x = 0), 1 − 0.12·15 = −0.8 (crosses
    # every step, shrinking), 1 − 0.14·15 = −1.1 (crosses every step, growing).
    lrs = [e["lr"] for e in r.scene["optimizers"]]
    assert lrs[1] < 2 / L < lrs[2]
    k = np.arange(21)
    for i, lr in enumerate(lrs):
        np.testing.assert_allclose(xy(r, i)[:21, 0], -2.5 * (1 - lr * L) ** k, rtol=1e-9)
    glide, edge, big = (xy(r, i)[:, 0] for i in range(3))
    assert np.all(glide <= 0)
    # 0.12: zig-zag strokes |x_k − x_{k+1}| = 1.8·2.5·0.8^k units; at 75 px/unit that is at least
    # 20 px while 0.8^k ≥ 20/(4.5·75) = 0.059, i.e. for k ≤ 12: at least 13 visible strokes.
    strokes = np.abs(np.diff(edge[:40])) * px
    assert np.sum(strokes >= VISIBLE) >= 13
    assert np.all(np.diff(np.sign(edge[:30])) != 0)
    assert r.summary[1]["reached_step"] is not None
    # 0.14: |x| = 2.5·1.1^k leaves the window (|x| ≤ 3) at k = 2 (2.5·1.21 = 3.03), off the plot.
    assert abs(big[2]) > 3.0 and r.summary[2]["diverged_at"] is not None


def test_zigzag_vs_adaptive():
    r = _computed("zigzag_vs_adaptive")
    px = px_per_unit(r)
    sgd, adam, rms = r.summary
    # GD's x-factor is 1 − 0.125·15 = −0.875: strokes 1.875·2.5·0.875^k units reach 20 px at
    # 75 px/unit while 0.875^k ≥ 20/(4.6875·75) = 0.057, i.e. k ≤ 21: 22 visible bounces.
    x = xy(r, 0)[:, 0]
    assert np.sum(np.abs(np.diff(x[:60])) * px >= VISIBLE) >= 22
    assert np.sum(np.diff(np.sign(x[:101])) != 0) >= 50          # dozens of crossings in all

    def detour(i):  # path length over the straight distance from start to end
        p = xy(r, i)
        return float(np.nansum(np.linalg.norm(np.diff(p, axis=0), axis=1))
                     / np.linalg.norm(p[-1] - p[0]))
    # "almost straight": a quarter-circle arc is π/(2√2) = 1.11 times its chord; 1.2 allows less
    # than that bend, while GD's bouncing path is several times longer than its chord.
    assert detour(1) < 1.2 and detour(2) < 1.2
    assert detour(0) > 5
    assert adam["reached_step"] < sgd["reached_step"]


def test_rotation_breaks_adam():
    r = _computed("rotation_breaks_adam")
    px = px_per_unit(r)
    sgd, adam, rms = r.summary
    assert r.scene["surface"]["angle"] == 45.0
    k = sgd["reached_step"]
    assert k is not None and adam["reached_step"] > k and rms["reached_step"] > k
    # when GD arrives, Adam and RMSProp are visibly short of the minimum
    for i in (1, 2):
        assert np.linalg.norm(xy(r, i)[k]) * px >= VISIBLE
    # they drop onto the tilted floor y = −x: the start is |x + y|/√2 = 0.35 units (26.5 px)
    # off it and Adam's sign-like steps of lr = 0.05 per coordinate close 0.07 units a step, so
    # within 5 steps; then they crawl along it, never again as far off as a visible feature
    for i in (1, 2):
        p = xy(r, i)
        off = np.abs(p[:, 0] + p[:, 1]) / math.sqrt(2) * px
        assert off[0] > VISIBLE and off[5] < 2.0 and off[10:].max() < 0.75 * VISIBLE
    aligned = _with("rotation_breaks_adam", surface={"angle": 0.0}).summary
    assert aligned[1]["reached_step"] < aligned[0]["reached_step"]   # angle 0: Adam first


def test_heavy_ball_optimal():
    r = _computed("heavy_ball_optimal")
    px = px_per_unit(r)
    (x0, x1), (y0, y1) = r.surface.bounds
    gd_lr, hb_lr = (e["lr"] for e in r.scene["optimizers"])
    L = landscapes.surfaces.QUADRATIC_L
    m = L / r.scene["surface"]["condition_number"]
    gd, hb = xy(r, 0), xy(r, 1)
    # GD: x-factor 1 − 0.132·15 = −0.98 (a zig-zag), y-factor 1 − 0.132·0.15 = 0.9802, so after
    # 100 steps y = 2.5·0.9802^100 = 2.5·e^(−2.0) = 0.338, 25 px above the minimum.
    np.testing.assert_allclose(gd[:, 1], 2.5 * (1 - gd_lr * m) ** np.arange(101), rtol=1e-9)
    assert np.all(np.diff(np.sign(gd[:, 0])) != 0)
    assert np.linalg.norm(gd[-1]) * px >= VISIBLE
    # The tuned heavy ball is critically damped in both axes, contracting like
    # (√κ−1)/(√κ+1) = 9/11 per step: after 100 steps well under a pixel.
    assert np.linalg.norm(hb[-1]) * px < 1.0
    # its swings across the steep axis are wider than GD's, yet stay on the map (visible)
    assert np.max(np.abs(hb[:, 0])) > np.max(np.abs(gd[:, 0]))
    assert np.all((hb[:, 0] >= x0) & (hb[:, 0] <= x1) & (hb[:, 1] >= y0) & (hb[:, 1] <= y1))
    # On the log loss panel: slopes ln(loss) per step are 2·ln(9/11) = −0.40 against
    # 2·ln(99/101) = −0.040, ten times steeper; the critically damped mode's (1 + ck) factor costs
    # a little (ln 2 per doubling of k, ~0.02 per step over steps 40-80), so at least 5x.
    def slope(i, a=40, b=80):
        return (math.log(loss(r, i)[b]) - math.log(loss(r, i)[a])) / (b - a)
    assert slope(1) < 5 * slope(0) < 0
    assert hb_lr == pytest.approx(4 / (math.sqrt(L) + math.sqrt(m)) ** 2, rel=1e-3)
    assert gd_lr == pytest.approx(2 / (L + m), rel=1e-3)


def _floor_offset(result, i):
    """Rosenbrock: signed distance from the valley floor y = x² (to first order,
    (y − x²)/|∇(y − x²)| = (y − x²)/√(1 + 4x²)), in pixels."""
    p = xy(result, i)
    return (p[:, 1] - p[:, 0] ** 2) / np.sqrt(1 + 4 * p[:, 0] ** 2) * px_per_unit(result)


def test_momentum_overshoot():
    r = _computed("momentum_overshoot")
    px = px_per_unit(r)
    gd, mom = r.summary
    start = r.scene["start"]
    assert start[1] == pytest.approx(start[0] ** 2)        # started on the floor
    # momentum: at least three swings past the floor in a row, alternately on either side, each
    # at least 20 px: "snakes back and forth" (two would be one overshoot and its return)
    big = [v >= VISIBLE for v in swings(_floor_offset(r, 1))]
    runs = max(len(m.group()) for m in re.finditer("1+", "".join("1" if b else "0" for b in big)))
    assert runs >= 3
    # the widest swing is at the bend, where the floor's slope |2x| is under 1.5 (|x| ≤ 0.75)
    off = _floor_offset(r, 1)
    assert abs(xy(r, 1)[int(np.argmax(np.abs(off))), 0]) <= 0.75
    # GD never leaves the floor by half the visibility threshold: it creeps along it ...
    assert np.max(np.abs(_floor_offset(r, 0))) < VISIBLE / 2
    # ... and is still on the left arm (x < 0) at the end, far from the minimum,
    assert xy(r, 0)[-1, 0] < 0 and gd["distance"] * px >= VISIBLE
    # while momentum (same lr) reaches it: its head covers the minimum's star
    assert r.scene["optimizers"][0]["lr"] == r.scene["optimizers"][1]["lr"]
    assert mom["reached_step"] is not None and mom["distance"] * px < 1.0


def test_nesterov_brakes():
    r = _computed("nesterov_brakes")
    px = px_per_unit(r)
    (mom_e, nes_e) = r.scene["optimizers"]
    assert mom_e["lr"] == nes_e["lr"] == 0.04 and mom_e["hyperparameters"] == nes_e["hyperparameters"]
    mom_x, nes_x = xy(r, 0)[:, 0], xy(r, 1)[:, 0]
    # The valley floor is x = 0 (curvature L = 15 across it, h = lr·L = 0.6, μ = 0.9).
    # Heavy ball: x_{k+1} = (1 + μ − h)x_k − μx_{k−1}; by hand x = −2.5, −1.0, 0.95, 2.135: the
    # first swing past the floor is 2.135 units = 160 px. Roots of z² − 1.3z + 0.9: modulus
    # √0.9 = 0.949, angle acos(1.3/1.897) = 46.7°, so a swing every 180/46.7 = 3.85 steps, each
    # 0.949^3.85 = 0.82 of the last: 160·0.82^n ≥ 20 px for n ≤ 10, ten swings or more.
    np.testing.assert_allclose(mom_x[:4], [-2.5, -1.0, 0.95, 2.135], rtol=1e-9)
    mom_swings = [v * px for v in swings(mom_x)[1:]]       # [0] is the start side
    assert sum(v >= VISIBLE for v in mom_swings) >= 10
    # Nesterov (torch: b₁ = g₁, step g + μb): x₁ = x₀(1 − (1 + μ)h) = 0.35, then by hand
    # b₂ = 0.9·(−37.5) + 5.25 = −28.5, x₂ = 0.35 + 0.04·(5.25 + 0.9·28.5) = 1.166: one overshoot
    # of 87 px. Then z² − (1 + μ)(1 − h)z + μ(1 − h): modulus √0.36 = 0.6, a swing every
    # 180/50.7 = 3.55 steps, each 0.6^3.55 = 0.16 of the last (87 → 14 px): exactly one visible.
    np.testing.assert_allclose(nes_x[:3], [-2.5, 0.35, 1.166], rtol=1e-9)
    nes_swings = [v * px for v in swings(nes_x)[1:]]
    assert sum(v >= VISIBLE for v in nes_swings) == 1
    # and from step 15 on it is on the floor (0.6^13·1.2 units ≈ 0.1 px), momentum still swinging
    assert np.max(np.abs(nes_x[15:])) * px < 1.0
    assert np.max(np.abs(mom_x[15:30])) * px >= VISIBLE


def test_adagrad_decay():
    r = _computed("adagrad_decay")
    px = px_per_unit(r)
    ada, rms = _recorded("adagrad_decay")
    ada_lr, rms_lr = (e["lr"] for e in r.scene["optimizers"])
    eps_ada, eps_rms = 1e-10, 1e-8                         # torch's defaults
    # the same first step: AdaGrad's lr·g/|g| with lr 0.1 and RMSProp's lr·g/(0.1|g|) with lr 0.01
    np.testing.assert_allclose(ada.update[0], rms.update[0], rtol=1e-6)
    # AdaGrad's effective per-coordinate rate lr/(√sum + ε): sum only grows (it adds g² ≥ 0), so
    # the rate never rises; and the steep first 10 steps give most (over half) of the final sum.
    ada_rate = ada_lr / (np.sqrt(ada.state["sum"][1:, 0]) + eps_ada)
    assert np.all(np.diff(ada_rate, axis=0) <= 0)
    total = ada.state["sum"][-1, 0]
    assert np.all(ada.state["sum"][10, 0] > total / 2)
    # RMSProp's lr/(√square_avg + ε) climbs back: at the end over 3x its lowest (half a decade on
    # the log panel), and above AdaGrad's by then
    rms_rate = rms_lr / (np.sqrt(rms.state["square_avg"][1:, 0]) + eps_rms)
    assert np.all(rms_rate[-1] > 3 * rms_rate.min(axis=0))
    assert np.all(rms_rate[-1] > ada_rate[-1])
    # on the map: AdaGrad still on the left arm (x < 0), visibly short of the minimum, with steps
    # shrunk at least 5x; RMSProp has reached the minimum (loss within the scene's tolerance)
    assert xy(r, 0)[-1, 0] < 0 and r.summary[0]["distance"] * px >= VISIBLE
    s = steps_px(r, 0)
    assert s[-100:].mean() < s[:10].mean() / 5
    assert r.summary[1]["reached_step"] is not None


def test_saddle_stall():
    r = _computed("saddle_stall")
    px = px_per_unit(r)
    for i, row in enumerate(r.summary):
        # on y = 0 the y-gradient −2y is exactly 0, and every rule maps a zero gradient to no
        # y-move (Adam: 0/(0 + ε) = 0)
        assert np.all(xy(r, i)[:, 1] == 0.0)
        assert row["diverged_at"] is None
        # at rest at the centre: within a pixel of the saddle, the last 50 steps under 0.1 px
        assert abs(row["final_x"]) * px < 1.0
        assert steps_px(r, i)[-50:].max() < 0.1


def _first_off_axis(result, i):
    """Step and x where the path first gets 20 px off the axis y = 0."""
    p = xy(result, i)
    k = int(np.flatnonzero(np.abs(p[:, 1]) * px_per_unit(result) >= VISIBLE)[0])
    return k, p[k, 0]


def test_saddle_noise():
    r = _computed("saddle_noise")
    px = px_per_unit(r)
    assert r.scene["noise"] > 0
    stall = get_preset("saddle_stall").scene
    assert {k: v for k, v in r.scene.items() if k not in ("noise", "seed")} == \
        {k: v for k, v in stall.items() if k not in ("noise", "seed")}
    adam_lr = r.scene["optimizers"][2]["lr"]
    # Adam's first step is lr·sign(g) per coordinate: the noise alone moves y by exactly lr
    # (0.05, 5.6 px) at once; GD moves it by lr·|noise| ≈ 0.02·0.5 (~1 px).
    assert abs(xy(r, 2)[1, 1]) == pytest.approx(adam_lr, rel=1e-6)
    for seed in (0, 1, 2):   # not a lucky seed
        res = r if seed == 0 else _with("saddle_noise", seed=seed)
        # GD and momentum get 20 px off the axis near the centre: |x| < 0.5, the middle third
        # of the way from the start (x = −1.5) to the saddle and as far beyond
        for i in (0, 1):
            k, x = _first_off_axis(res, i)
            assert abs(x) < 0.5
        # Adam sooner: while still a full unit short of the saddle at x = 0 (over seeds 0-59
        # this holds for 56; its median is 7 steps after the start)
        k, x = _first_off_axis(res, 2)
        assert x < -0.5
        # and all roll downhill off the plot (the box is 10x the window: marked diverged)
        assert all(row["diverged_at"] is not None for row in res.summary)


def test_start_decides_basin():
    r = _computed("start_decides_basin")
    px = px_per_unit(r)
    small, large = r.summary
    assert small["distance"] * px < 1 and large["distance"] * px < 1
    assert np.allclose(small["nearest_minimum"], (3.0, 2.0))
    assert np.allclose(large["nearest_minimum"], (-2.805, 3.131), atol=1e-3)
    # from one start ...
    np.testing.assert_array_equal(xy(r, 0)[0], xy(r, 1)[0])
    moved = preset_scene("start_decides_basin")
    moved["start"][0] -= 0.1
    moved = compute_scene(normalize_scene(moved)).summary[0]
    assert moved["distance"] * px < 1
    assert np.allclose(moved["nearest_minimum"], (-3.779, -3.283), atol=1e-3)


def test_momentum_escapes_well():
    r = _computed("momentum_escapes_well")
    px = px_per_unit(r)
    surface = r.surface
    minima = np.array(surface.minima)
    gd, mom, adam = r.summary
    # GD and Adam end in the same shallow well, the bottom-right one (x > 0, y < 0), together
    assert gd["minimum_index"] == adam["minimum_index"] != 0
    well = minima[gd["minimum_index"]]
    assert well[0] > 0 and well[1] < 0
    assert surface.minima_values[gd["minimum_index"]] > surface.minima_values[0] + 1.0
    assert gd["distance"] * px < 1 and adam["distance"] * px < 1
    # momentum rolls through its bottom: its head (7 px radius) passes over the well's marker ...
    d = np.linalg.norm(xy(r, 1) - well, axis=1) * px
    k = int(np.argmin(d))
    assert d[k] < HEAD
    # ... climbs over the rim (its loss rises after the bottom) ...
    assert loss(r, 1)[k:].max() > loss(r, 1)[k] + 0.1
    # ... and ends in the deepest well at (1.9, 1.0)
    assert mom["minimum_index"] == 0 and mom["distance"] * px < 1
    assert np.allclose(minima[0], (1.9, 1.0), atol=0.05)
    assert r.scene["optimizers"][0]["lr"] == r.scene["optimizers"][1]["lr"]


def test_local_minima_trap():
    r = _computed("local_minima_trap")
    px = px_per_unit(r)
    gd, adam, mom = r.summary
    # the first dimple next to the start (−4.5, 3.5) is Rastrigin's minimum near (−4, 3), where
    # f = g(3.98) + g(2.98) = 15.92 + 8.95 = 24.87 (optimizers.md 4.5): "loss ≈ 25"
    for row in (gd, adam):
        assert row["final_loss"] == pytest.approx(24.87, abs=0.01) and row["distance"] * px < 1
    assert np.linalg.norm(xy(r, 0)[-1] - xy(r, 1)[-1]) * px < 1          # together
    # momentum one dimple from the centre: f = g(0) + g(0.995) = 0.995, "loss ≈ 1"
    assert mom["final_loss"] == pytest.approx(0.995, abs=0.01)
    # "ridge after ridge": the nearest dimple under momentum's path changes at least 4 times
    index, _ = r.surface.nearest_minimum(xy(r, 2))
    assert np.sum(np.diff(index) != 0) >= 4
    assert np.linalg.norm(xy(r, 2)[-1] - xy(r, 0)[-1]) * px >= VISIBLE
    assert all(row["diverged_at"] is None for row in r.summary)


def test_schedule_settles():
    # Constant-lr SGD on f = (L/2)|z|² (κ = 1, L = 15) with gradient noise σ: per coordinate
    # z ← (1 − γL)z − γσξ has stationary variance γσ²/(L(2 − γL)) = 0.05·25/(15·1.25) = 0.0667
    # (std 0.26): a cloud of RMS radius √2·0.26 = 0.37 units = 27 px, E f = 15·0.0667 = 1.0, and
    # a step Δz = −γLz − γσξ of std √(0.5625·0.0667 + 0.0625) = 0.32 per coordinate, mean
    # length 0.32·√(π/2) = 0.40 units = 30 px. Decayed: in the last 50 steps cosine's lr is at
    # most 0.05·(1 − cos 30°)/2 = 0.0034 and step decay's 0.05·0.3³ = 0.00135, so steps are at
    # most ~γσ·1.25 = 0.021 units = 1.6 px, and step decay's cloud has E f = 15·0.00135·25/(15·
    # 1.98) = 0.017, sixty times below the constant one's.
    for seed in (0, 1, 2):   # not a lucky seed
        r = _computed("schedule_settles") if seed == 0 else _with("schedule_settles", seed=seed)
        px = px_per_unit(r)
        assert r.scene["noise"] > 0
        tail = xy(r, 0)[-50:]
        assert np.sqrt(np.mean(np.sum(tail ** 2, axis=1))) * px >= VISIBLE   # keeps bouncing
        assert steps_px(r, 0)[-50:].mean() >= VISIBLE
        const_loss = loss(r, 0)[-30:].mean()
        for i in (1, 2):
            assert r.scene["optimizers"][i]["schedule"] is not None
            assert steps_px(r, i)[-50:].mean() < 2.0                       # slowed down, stopped
            assert np.linalg.norm(xy(r, i)[-1]) * px < VISIBLE / 2           # on the centre
            assert loss(r, i)[-30:].mean() < const_loss / 10                # ten times lower


def test_lion_fixed_steps():
    r = _computed("lion_fixed_steps")
    px = px_per_unit(r)
    lion, adam = r.summary
    lr = r.scene["optimizers"][0]["lr"]
    assert r.scene["optimizers"][1]["lr"] == lr
    moves = np.abs(np.diff(xy(r, 0), axis=0))
    # sign(c) is ±1 in each coordinate: every step moves x and y by exactly lr (a 45° stroke)
    np.testing.assert_allclose(moves, lr, rtol=1e-9)
    assert lr * math.sqrt(2) * px >= VISIBLE                     # each stroke 22 px on Booth's map
    # the way from (−8, 8) to (1, 3) is not diagonal, so 45° strokes cannot follow it straight
    start, goal = np.array(r.scene["start"]), np.array(r.surface.minima[0])
    assert abs(abs(goal - start)[0] - abs(goal - start)[1]) * px >= VISIBLE
    # at the end it never settles: consecutive points are lr√2 apart, so d_k + d_{k+1} ≥ lr√2
    # (triangle inequality) and the mean distance over the last 50 points is ≥ (49/50)·lr/√2
    d = np.linalg.norm(xy(r, 0)[-50:] - goal, axis=1)
    assert d.mean() >= 49 / 50 * lr / math.sqrt(2)
    tail = xy(r, 0)[-50:]
    assert np.max(np.ptp(tail, axis=0)) * px >= VISIBLE          # the rattle spans 20 px or more
    # Adam (same lr) comes to rest on the minimum
    assert steps_px(r, 1)[-50:].max() < 1.0 and adam["distance"] * px < 1.0


def test_radam_warmup():
    r = _computed("radam_warmup")
    px = px_per_unit(r)
    adam_px, radam_px = steps_px(r, 0), steps_px(r, 1)
    lr = r.scene["optimizers"][1]["lr"]
    assert r.scene["optimizers"][0]["lr"] == lr
    # Steps 1-5: ρ_t ≤ 5 (1, 2.0, 3.0, 4.0, 5.0 for β2 = 0.999), so θ ← θ − lr·m̂ unnormalised;
    # step 1 is lr·g exactly (m̂₁ = g₁). Adam's first step is lr·sign(g) per coordinate,
    # lr·√2 = 0.042 units = 1.9 px, and its later ones about as long.
    g0 = r.surface.grad(np.array(r.scene["start"]))
    assert radam_px[0] == pytest.approx(lr * np.linalg.norm(g0) * px, rel=1e-9)
    assert adam_px[0] == pytest.approx(lr * math.sqrt(2) * px, rel=1e-4)
    assert np.all(radam_px[:5] >= VISIBLE) and np.all(radam_px[:5] >= 10 * adam_px[:5])
    assert np.all((adam_px[:20] > 0.8 * adam_px[0]) & (adam_px[:20] < 1.2 * adam_px[0]))  # steady
    # they carry it to the top-left minimum (−2.8, 3.1), nearer to it than to any other
    index, _ = r.surface.nearest_minimum(xy(r, 1)[5])
    assert np.allclose(r.surface.minima[int(index)], (-2.805, 3.131), atol=1e-3)
    assert r.summary[1]["minimum_index"] == int(index)
    # Step 6: the rectifier r = √((ρ−4)(ρ−2)ρ∞/((ρ∞−4)(ρ∞−2)ρ)) with ρ₆ = 5.994, ρ∞ = 1999 is
    # √(1.994·3.994·1999/(1995·1997·5.994)) = 0.026: steps of about 0.026 of Adam's (≈ 0.05 px),
    # under 1 px for steps 6-10; r grows with t, and by steps 30-40 the steps are 3x longer.
    assert np.all(radam_px[5:10] < 1.0)
    assert radam_px[29:40].mean() > 3 * radam_px[5]


def test_adam_vs_adamw():
    r = _computed("adam_vs_adamw")
    px = px_per_unit(r)
    plain, l2, adamw = (xy(r, i)[-1] for i in range(3))
    lam = r.scene["optimizers"][1]["hyperparameters"]["weight_decay"]
    assert lam == r.scene["optimizers"][2]["hyperparameters"]["weight_decay"] == 0.5
    # Adam with L2 decay heads for the minimum of f + λ|θ|²/2: Booth's ∇f = Hθ − b with
    # H = [[10, 8], [8, 10]], b = (34, 38), so (H + 0.5 I)θ = b: det = 10.5² − 64 = 46.25,
    # θ = ((34·10.5 − 8·38)/46.25, (10.5·38 − 8·34)/46.25) = (1.146, 2.746), 0.293 units = 6.6 px
    # from (1, 3): under a head's radius, so the L2 run ends next to plain Adam.
    assert np.linalg.norm(plain - (1.0, 3.0)) * px < 1
    assert np.linalg.norm(l2 - plain) * px < HEAD
    # AdamW is held back visibly closer to the origin, visibly apart from the L2 run
    assert (np.linalg.norm(l2) - np.linalg.norm(adamw)) * px >= VISIBLE
    assert np.linalg.norm(adamw - l2) * px >= VISIBLE


def test_rmsprop_first_step():
    r = _computed("rmsprop_first_step")
    px = px_per_unit(r)
    lr_r, lr_a = (e["lr"] for e in r.scene["optimizers"])
    assert lr_r == lr_a == 0.05
    first_r = np.abs(xy(r, 0)[1] - xy(r, 0)[0])
    first_a = np.abs(xy(r, 1)[1] - xy(r, 1)[0])
    # RMSProp: v₁ = (1 − ρ)g², step lr·g/√v₁ = lr/√0.01 = 10·lr = 0.5 per coordinate (37.5 px);
    # Adam: lr per coordinate, 0.05 (3.75 px), under a head's radius: it hardly leaves the start.
    np.testing.assert_allclose(first_r, 10 * lr_r, rtol=1e-6)
    np.testing.assert_allclose(first_a, lr_a, rtol=1e-6)
    assert np.all(first_r * px >= VISIBLE) and np.linalg.norm(first_a) * px < HEAD
    assert np.all(np.diff(steps_px(r, 0)[:8]) < 0)            # then its steps shrink


def _book_runs(steps=30):
    """The book's own update rules (common/optimizer.py of Deep Learning from Scratch), written
    out by hand: positions (steps + 1, 2) per optimizer from (−7, 2) on f = x²/20 + y²."""
    def df(p):
        return np.array([p[0] / 10.0, 2.0 * p[1]])
    out = {}
    p = np.array([-7.0, 2.0]); path = [p.copy()]
    for _ in range(steps):                       # SGD(lr=0.95)
        p = p - 0.95 * df(p); path.append(p.copy())
    out["sgd"] = np.array(path)
    p = np.array([-7.0, 2.0]); v = np.zeros(2); path = [p.copy()]
    for _ in range(steps):                       # Momentum(lr=0.1, momentum=0.9)
        v = 0.9 * v - 0.1 * df(p); p = p + v; path.append(p.copy())
    out["momentum"] = np.array(path)
    p = np.array([-7.0, 2.0]); h = np.zeros(2); path = [p.copy()]
    for _ in range(steps):                       # AdaGrad(lr=1.5)
        g = df(p); h = h + g * g; p = p - 1.5 * g / (np.sqrt(h) + 1e-7); path.append(p.copy())
    out["adagrad"] = np.array(path)
    p = np.array([-7.0, 2.0]); m = np.zeros(2); v = np.zeros(2); path = [p.copy()]
    for t in range(1, steps + 1):                # Adam(lr=0.3, beta1=0.9, beta2=0.999)
        g = df(p); lr_t = 0.3 * math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        m = m + 0.1 * (g - m); v = v + 0.001 * (g * g - v)
        p = p - lr_t * m / (np.sqrt(v) + 1e-7); path.append(p.copy())
    out["adam"] = np.array(path)
    return out


def test_dlfs_comparison():
    r = _computed("dlfs_comparison")
    px = px_per_unit(r)
    assert px == 30.0                                       # 600/20 and 450/10: 30 px per unit
    assert r.scene["surface"] == {"name": "dlfs_bowl"} and r.scene["start"] == [-7.0, 2.0]
    assert r.scene["steps"] == 30
    # the very trajectories of the book's rules: SGD, momentum and AdaGrad to round-off, Adam to
    # 1e-4 (the book adds its 1e-7 to the uncorrected √v, torch 1e-8 to the corrected one)
    book = _book_runs()
    sgd, mom, ada, adam = (xy(r, i) for i in range(4))
    np.testing.assert_allclose(sgd, book["sgd"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(mom, book["momentum"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ada, book["adagrad"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(adam, book["adam"], rtol=0, atol=1e-4)

    # SGD: y ← y − 0.95·2y = −0.9y: y_k = 2·(−0.9)^k, a sign flip every step, each stroke
    # |y_k − y_{k+1}| = 1.9·2·0.9^k units 0.9 times the last; at 30 px/unit a stroke is ≥ 20 px
    # while 0.9^k ≥ 20/114 = 0.175, i.e. k ≤ 16: the first 17 zig-zags are plainly visible.
    # x ← x − 0.95·x/10 = 0.905x: after 30 steps −7·0.905^30 = −0.35.
    k = np.arange(31)
    np.testing.assert_allclose(sgd[:, 1], 2 * (-0.9) ** k, rtol=1e-12)
    np.testing.assert_allclose(sgd[:, 0], -7 * 0.905 ** k, rtol=1e-12)
    strokes = np.abs(np.diff(sgd[:, 1])) * px
    assert np.all(strokes[:17] >= VISIBLE) and np.all(strokes[1:] / strokes[:-1] == pytest.approx(0.9))

    # Momentum: in y, z² − (1 + μ − lr·2)z + μ = z² − 1.7z + 0.9 has complex roots of modulus
    # √0.9 = 0.949 at angle acos(1.7/1.897) = 26.4°: a slow swing, crossing y = 0 every
    # 180/26.4 = 6.8 steps (4 crossings in 30 steps, each side held ≥ 5 steps: no zig-zag), each
    # swing 0.949^6.8 = 0.70 of the last. In x (curvature 1/10) it rolls through x = 0 and on.
    y = mom[:, 1]
    cross = np.flatnonzero(np.diff(np.sign(y)) != 0)
    assert len(cross) == 4 and np.all(np.diff(cross) >= 5)
    peaks = swings(y)[1:]
    assert peaks[0] * px >= VISIBLE and peaks[1] * px >= VISIBLE and peaks[2] * px >= VISIBLE
    np.testing.assert_allclose(np.array(peaks[1:4]) / np.array(peaks[:3]), 0.70, atol=0.05)
    assert mom[:, 0].max() * px >= VISIBLE                 # overshoots x = 0 visibly

    # AdaGrad: Δy = −1.5·2y/√S with S ≥ g₁² = 16, so y ← y·(1 − 3/√S) with a factor in [1/4, 1):
    # y never changes sign and y₁ = 2·(1 − 3/4) = 0.5, y₂ = 0.5·(1 − 3/√17) = 0.136,
    # y₃ = 0.136·(1 − 3/√17.07) = 0.037: 1.1 px from y = 0 after three steps.
    y = ada[:, 1]
    assert np.all(y > 0)
    np.testing.assert_allclose(y[1:4], [0.5, 0.136, 0.037], rtol=0.02)
    assert np.all(y[3:] * px < 2.0)

    # Adam: first step lr·sign(g) = 0.3 per coordinate (hand: (−7, 2) → (−6.7, 1.7)); then it
    # swings below y = 0 once (two crossings: down and back) and not as far as momentum
    np.testing.assert_allclose(adam[1], [-6.7, 1.7], rtol=1e-6)
    y = adam[:, 1]
    assert np.sum(np.diff(np.sign(y)) != 0) == 2
    below = -y.min()
    assert below * px >= VISIBLE and below < -mom[:, 1].min()
