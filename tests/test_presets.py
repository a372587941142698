"""Every preset is a valid scene, and every preset still SHOWS its lesson when computed.

The lesson checks are keyed by preset key: a preset whose numbers stop teaching what its `watch`
sentence promises fails here.
"""

from __future__ import annotations

import copy
import functools
import json
import math

import numpy as np
import pytest

import landscapes
from optiviz import presets
from optiviz.presets import PRESETS, Preset, get_preset, preset_keys, preset_scene
from optiviz.scene import MAX_OPTIMIZERS, compute_scene, normalize_scene


@functools.lru_cache(maxsize=None)
def _computed(key):
    return compute_scene(normalize_scene(copy.deepcopy(get_preset(key).scene)))


def _with(key, **changes):
    """The preset's scene with some top-level fields (or the surface's parameters) changed, computed."""
    scene = preset_scene(key)
    surface = changes.pop("surface", None)
    if surface:
        scene["surface"].update(surface)
    scene.update(changes)
    return compute_scene(normalize_scene(scene))


def _xy(result, i):
    return result.runs[i].trajectory.xy[:, 0]


def _step_lengths(result, i):
    return np.linalg.norm(np.diff(_xy(result, i), axis=0), axis=1)


def _path_length(result, i):
    return float(np.nansum(_step_lengths(result, i)))


def _valley_offset(result, i):
    """Rosenbrock: signed height above the valley floor y = x²."""
    xy = _xy(result, i)
    return xy[:, 1] - xy[:, 0] ** 2


def _valley_swing(result, i):
    """Largest distance from the valley floor after first getting within 0.05 of it."""
    d = _valley_offset(result, i)
    inside = np.flatnonzero(np.abs(d) < 0.05)
    assert inside.size, "never reached the valley floor"
    return float(np.nanmax(np.abs(d[inside[0]:])))


def _floor_crossings(result, i):
    """Crossings of the valley floor after first getting within 0.05 of it."""
    d = _valley_offset(result, i)
    d = d[np.flatnonzero(np.abs(d) < 0.05)[0]:]
    return int(np.sum(np.diff(np.sign(d)) != 0))


# ---- the collection --------------------------------------------------------------------------------

REQUIRED = {"adagrad_decay", "momentum_overshoot", "nesterov_brakes", "saddle_stall", "saddle_noise",
            "lr_too_large", "start_decides_basin", "zigzag_vs_adaptive", "schedule_settles"}


def test_at_least_ten_presets_with_unique_keys():
    assert len(PRESETS) >= 10
    assert len(set(preset_keys())) == len(PRESETS)
    assert preset_keys() == tuple(p.key for p in PRESETS)
    assert REQUIRED <= set(preset_keys())


def test_every_preset_has_a_lesson_check():
    assert set(preset_keys()) == set(LESSONS)


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.key)
def test_preset_is_a_normalized_scene(preset):
    assert isinstance(preset, Preset)
    assert preset.title and preset.lesson and preset.watch
    assert preset.watch.rstrip().endswith((".", ")")) and preset.lesson.rstrip().endswith(".")
    assert normalize_scene(copy.deepcopy(preset.scene)) == preset.scene
    assert 1 <= len(preset.scene["optimizers"]) <= MAX_OPTIMIZERS
    json.dumps(preset.scene, allow_nan=False)


def test_get_preset_and_copies():
    p = get_preset("lr_too_large")
    assert p.key == "lr_too_large"
    with pytest.raises(KeyError, match="valid presets"):
        get_preset("nope")
    with pytest.raises(KeyError):
        get_preset(None)
    scene = preset_scene("lr_too_large")
    scene["optimizers"][0]["lr"] = 99.0
    assert get_preset("lr_too_large").scene["optimizers"][0]["lr"] == 0.05
    assert hash(p) == hash(get_preset("lr_too_large"))


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.key)
def test_preset_computes(preset):
    result = _computed(preset.key)
    assert len(result.runs) == len(preset.scene["optimizers"])
    for run in result.runs:
        assert np.isfinite(run.trajectory.xy[0]).all()


# ---- lesson checks -----------------------------------------------------------------------------------

def lesson_lr_too_large(r):
    small, edge, big = r.summary
    assert small["diverged_at"] is None and edge["diverged_at"] is None
    assert small["reached_step"] is not None and edge["reached_step"] is not None
    assert big["diverged_at"] is not None
    # the converging one at 0.12 zig-zags: the steep coordinate changes sign almost every step
    x = _xy(r, 1)[:20, 0]
    assert np.sum(np.diff(np.sign(x)) != 0) >= 15
    # and the lrs straddle 2/L
    L = landscapes.surfaces.QUADRATIC_L
    lrs = [e["lr"] for e in r.scene["optimizers"]]
    assert lrs[1] < 2 / L < lrs[2]


def lesson_zigzag_vs_adaptive(r):
    sgd, adam, rms = r.summary
    straight = float(np.linalg.norm(r.scene["start"]))
    flips = np.sum(np.diff(np.sign(np.diff(_xy(r, 0)[:101, 0]))) != 0)
    assert flips >= 50                                      # GD zig-zags across the steep axis
    assert _path_length(r, 0) > 5 * straight
    assert _path_length(r, 1) < 1.5 * straight              # Adam goes (nearly) straight
    assert _path_length(r, 2) < 1.5 * straight
    assert adam["reached_step"] < sgd["reached_step"]


def lesson_rotation_breaks_adam(r):
    sgd, adam, rms = r.summary
    assert r.scene["surface"]["angle"] == 45.0
    assert sgd["reached_step"] is not None and adam["reached_step"] is not None
    assert adam["reached_step"] > sgd["reached_step"]       # rotated: Adam arrives after GD
    aligned = _with("rotation_breaks_adam", surface={"angle": 0.0})
    a_sgd, a_adam, a_rms = aligned.summary
    assert a_adam["reached_step"] < a_sgd["reached_step"]   # aligned: Adam arrives first
    assert adam["reached_step"] > 2 * a_adam["reached_step"]
    assert rms["reached_step"] > 1.3 * a_rms["reached_step"]


def lesson_heavy_ball_optimal(r):
    gd, hb = r.summary
    assert hb["reached_step"] is not None and hb["reached_step"] <= 100
    assert gd["reached_step"] is None                        # not within 1e-6 after 300 steps
    assert hb["final_loss"] < 1e-6 * gd["final_loss"]
    # the GD lr really is the best constant one (2/(L+m)) and the heavy ball's are optimal
    L = landscapes.surfaces.QUADRATIC_L
    m = L / r.scene["surface"]["condition_number"]
    assert r.scene["optimizers"][0]["lr"] == pytest.approx(2 / (L + m), rel=1e-3)
    assert r.scene["optimizers"][1]["lr"] == pytest.approx(4 / (math.sqrt(L) + math.sqrt(m)) ** 2,
                                                           rel=1e-3)


def lesson_momentum_overshoot(r):
    gd, mom = r.summary
    # the scene starts on the floor of a wider valley (b = 5): momentum's swings across it are
    # several times GD's, and it crosses the floor far more often
    assert _valley_swing(r, 1) > 3 * _valley_swing(r, 0)    # sloshes across the floor
    assert _floor_crossings(r, 1) > _floor_crossings(r, 0)
    assert mom["distance"] < gd["distance"] / 5              # but gets much further


def lesson_nesterov_brakes(r):
    mom, nes = r.summary
    # a straight valley whose floor is x = 0: momentum's swings across it outlast Nesterov's
    mom_x, nes_x = _xy(r, 0)[:, 0], _xy(r, 1)[:, 0]
    assert np.max(np.abs(mom_x[20:])) > 100 * np.max(np.abs(nes_x[20:]))
    def wide_swings(x):  # stretches on one side of the floor reaching more than 0.25 from it
        parts = np.split(x, np.flatnonzero(np.diff(np.sign(x)) != 0) + 1)
        return sum(np.max(np.abs(part)) > 0.25 for part in parts)
    assert wide_swings(mom_x) > 4 * wide_swings(nes_x)
    assert nes["distance"] < mom["distance"]


def lesson_adagrad_decay(r):
    ada, rms = r.summary
    # AdaGrad's per-coordinate rate lr / (sqrt(sum g^2) + eps), from the gradients it saw
    surface = r.surface
    xy = _xy(r, 0)
    g = surface.grad(xy[:-1])
    total = np.cumsum(g ** 2, axis=0)
    rate = r.scene["optimizers"][0]["lr"] / (np.sqrt(total) + 1e-10)
    assert np.all(np.diff(rate, axis=0) <= 0)               # it only ever decays
    assert np.all(total[9] > total[-1] / 2)                 # mostly from the steep first steps
    # RMSProp's rate lr / (sqrt(v) + eps) with v a fading average (rho = 0.99) recovers
    g = surface.grad(_xy(r, 1)[:-1])
    v = np.zeros(2)
    rms_rate = []
    for gi in g:
        v = 0.99 * v + 0.01 * gi ** 2
        rms_rate.append(r.scene["optimizers"][1]["lr"] / (np.sqrt(v) + 1e-8))
    rms_rate = np.array(rms_rate)
    assert np.all(rms_rate[-1] > 3 * rms_rate.min(axis=0))
    ada_steps, rms_steps = _step_lengths(r, 0), _step_lengths(r, 1)
    assert ada_steps[0] == pytest.approx(rms_steps[0], rel=1e-6)  # the same first step
    assert ada_steps[-100:].mean() < ada_steps[:10].mean() / 5  # AdaGrad's steps shrink
    assert ada_steps[-100:].mean() < rms_steps[-100:].mean()    # RMSProp keeps moving
    assert rms["reached_step"] is not None and ada["reached_step"] is None
    assert ada["distance"] > 10 * rms["distance"]


def lesson_saddle_stall(r):
    for i, row in enumerate(r.summary):
        xy = _xy(r, i)
        assert np.all(xy[:, 1] == 0.0)                       # never leaves the axis
        assert abs(row["final_x"]) < 1e-3                     # drawn into the saddle point
        assert row["diverged_at"] is None
        assert abs(row["final_loss"]) < 1e-6                  # f = 0 there, and no lower


def lesson_saddle_noise(r):
    stall = get_preset("saddle_stall").scene
    same = {k: v for k, v in r.scene.items() if k not in ("noise", "seed")}
    assert same == {k: v for k, v in stall.items() if k not in ("noise", "seed")}
    assert r.scene["noise"] > 0
    for i, row in enumerate(r.summary):
        xy = _xy(r, i)
        assert np.nanmax(np.abs(xy[:, 1])) > 1.5              # rolled off the ridge
        assert np.nanmin(r.runs[i].trajectory.loss[:, 0]) < -2  # far below the saddle's f = 0


def lesson_start_decides_basin(r):
    small, large = r.summary
    assert small["distance"] < 1e-3 and large["distance"] < 1e-3   # both converge...
    assert small["minimum_index"] != large["minimum_index"]        # ...to different minima
    moved = preset_scene("start_decides_basin")
    moved["start"][0] -= 0.1
    moved = compute_scene(normalize_scene(moved))
    assert moved.summary[0]["distance"] < 1e-3
    assert moved.summary[0]["minimum_index"] not in (small["minimum_index"], large["minimum_index"])
    # the corners the watch sentence names
    assert np.allclose(small["nearest_minimum"], (3.0, 2.0))
    assert np.allclose(large["nearest_minimum"], (-2.805, 3.131), atol=1e-3)
    assert np.allclose(moved.summary[0]["nearest_minimum"], (-3.779, -3.283), atol=1e-3)


def lesson_momentum_escapes_well(r):
    gd, mom, adam = r.summary
    surface = r.surface
    values = surface.minima_values
    assert mom["minimum_index"] == 0 and mom["distance"] < 1e-3     # the deepest well
    for row in (gd, adam):
        assert row["minimum_index"] != 0 and row["distance"] < 1e-3
        assert values[row["minimum_index"]] > values[0] + 1.0       # a much shallower one


def lesson_local_minima_trap(r):
    gd, adam, mom = r.summary
    for row in (gd, adam):
        assert row["final_loss"] > 20 and row["distance"] < 1e-2    # stuck in a dimple
    assert gd["minimum_index"] == adam["minimum_index"]
    assert mom["final_loss"] < 2 and mom["distance"] < 1e-2
    assert all(row["diverged_at"] is None for row in r.summary)


def _mean_distance_tail(r, i, n=30):
    return float(np.linalg.norm(_xy(r, i)[-n:], axis=1).mean())


def lesson_schedule_settles(r):
    assert r.scene["noise"] > 0
    constant = _mean_distance_tail(r, 0)
    for i in (1, 2):
        assert r.scene["optimizers"][i]["schedule"] is not None
        assert _mean_distance_tail(r, i) < constant / 3
    for seed in range(1, 5):   # not a lucky seed
        other = _with("schedule_settles", seed=seed)
        constant = _mean_distance_tail(other, 0)
        assert all(_mean_distance_tail(other, i) < constant / 2 for i in (1, 2))


def lesson_lion_fixed_steps(r):
    lion, adam = r.summary
    lr = r.scene["optimizers"][0]["lr"]
    moves = np.abs(np.diff(_xy(r, 0), axis=0))
    assert np.allclose(moves, lr, rtol=1e-9, atol=1e-12)    # every coordinate moves exactly lr
    assert _step_lengths(r, 0)[-50:].mean() == pytest.approx(lr * math.sqrt(2))
    assert _step_lengths(r, 1)[-50:].mean() < lr / 50         # Adam's steps shrink
    assert lr / 4 < lion["distance"] < 2 * lr                 # Lion rattles at about lr
    assert adam["distance"] < lion["distance"] / 5


def lesson_radam_warmup(r):
    adam_steps, radam_steps = _step_lengths(r, 0), _step_lengths(r, 1)
    lr = r.scene["optimizers"][1]["lr"]
    g0 = r.surface.grad(np.array(r.scene["start"]))
    assert radam_steps[0] == pytest.approx(lr * np.linalg.norm(g0), rel=1e-9)  # unnormalised
    assert adam_steps[0] == pytest.approx(lr * math.sqrt(2), rel=1e-4)          # normalised
    assert radam_steps[5] < adam_steps[5] / 10                 # rectified start: tiny steps
    assert radam_steps[40:50].mean() > 3 * radam_steps[5]       # ...that grow
    assert r.summary[1]["distance"] < 1e-2                      # and it still arrives


def lesson_adam_vs_adamw(r):
    plain, l2, adamw = r.summary
    assert plain["distance"] < 1e-3
    assert l2["distance"] < 0.3                                  # L2 barely moves the endpoint
    assert adamw["distance"] > 1.0                               # decoupled decay holds it back
    final = [np.hypot(row["final_x"], row["final_y"]) for row in r.summary]
    assert final[2] < final[1] - 0.9                             # nearer the origin


def lesson_rmsprop_first_step(r):
    lr_r, lr_a = (e["lr"] for e in r.scene["optimizers"])
    rho = 0.99
    first_r = np.abs(_xy(r, 0)[1] - _xy(r, 0)[0])
    first_a = np.abs(_xy(r, 1)[1] - _xy(r, 1)[0])
    assert np.allclose(first_r, lr_r / math.sqrt(1 - rho), rtol=1e-6)   # 10 x lr per coordinate
    assert np.allclose(first_a, lr_a, rtol=1e-6)
    assert lr_r == lr_a
    assert _step_lengths(r, 0)[5] < _step_lengths(r, 0)[0] / 2           # then it shrinks


def lesson_dlfs_comparison(r):
    sgd, mom, ada, adam = (_xy(r, i) for i in range(4))
    assert np.all(np.diff(np.sign(sgd[:, 1])) != 0)               # SGD zig-zags in y every step
    assert 3 <= np.sum(np.diff(np.sign(mom[:, 1])) != 0) <= 5     # momentum swings slowly
    assert np.all(ada[:, 1] > 0)                                  # AdaGrad never crosses y = 0
    assert 0 < -adam[:, 1].min() < -mom[:, 1].min()               # Adam: less than momentum
    for row in r.summary:
        assert row["diverged_at"] is None and row["final_loss"] < 0.2


LESSONS = {name[len("lesson_"):]: fn for name, fn in globals().items() if name.startswith("lesson_")}


@pytest.mark.parametrize("key", preset_keys())
def test_preset_shows_its_lesson(key):
    LESSONS[key](_computed(key))


def test_module_exports():
    assert presets.PRESETS is PRESETS
