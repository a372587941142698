"""The maps' colours and cells as the live view gets them (optiviz.map_view): each basin cell has
its minimum's hue, the settings map's cells and axes are the grid it ran, one colour scale for
every optimizer, and a clicked cell's settings are that cell's."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from optiviz import map_view, maps
from optiviz import scene as scenes
from test_maps import double_well

# GD with lr 0.02 on (x² − 1)² + y² from x ≠ 0 ends at the minimum with x's sign (test_maps
# derives it: x ← x(1 − 4·lr·(x² − 1)) never changes sign for these lr and |x| <= 2).


def test_basin_cells_take_their_minimums_hue_left_and_right():
    surf = double_well()
    bmap = maps.basin_map(surf, {"optimizer": "sgd", "lr": 0.02}, n=(8, 4), steps=300)
    rgb = map_view.basin_rgb(bmap)                       # row 0 = top
    assert rgb.shape == (4, 8, 3)
    right = {tuple(c) for c in rgb[:, 4:].reshape(-1, 3)}
    left = {tuple(c) for c in rgb[:, :4].reshape(-1, 3)}
    hue = lambda index: {tuple(map_view.minimum_rgb(index, level)) for level in
                         np.round(np.linspace(0.30, 0.80, 51), 2)}
    # minima listed as (1, 0) then (-1, 0): the right half is minimum 0's hue, the left minimum 1's
    assert right <= hue(0) and left <= hue(1) and not right & left


def test_diverged_and_not_converged_cells_have_their_own_colours():
    surf = double_well()
    bmap = maps.basin_map(surf, {"optimizer": "sgd", "lr": 2.0}, n=(4, 2), steps=50)
    assert (bmap.minimum == maps.DIVERGED).all()          # lr 2: |1 − 8(x² − 1)| > 1 blows up
    assert {tuple(c) for c in map_view.basin_rgb(bmap).reshape(-1, 3)} == {map_view.DIVERGED_RGB}


def _png(url: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")


def test_the_settings_map_is_the_grid_it_ran_and_its_cells_load_back():
    scene = scenes.normalize_scene({**scenes.default_scene(), "steps": 60})
    result = scenes.compute_scene(scene)
    model = map_view.map_model(result, "hyper")
    assert [r["label"] for r in model["runs"]] == [r.label for r in result.runs]
    for i, run in enumerate(model["runs"]):
        second, xs, ys = map_view.hyper_axes({k: v for k, v in scenes.scene_runs(scene)[i].items()
                                              if k != "x0"})
        assert run["y"]["param"] == second and np.allclose(run["x"]["values"], xs)
        assert _png(run["image"]).size == (len(xs), len(ys))
        assert map_view.cell_values(result, i, 3, 5) == {"lr": float(xs[3]), second: float(ys[5])}
    lo, hi = model["scale"]["lo"], model["scale"]["hi"]
    assert lo < hi                                         # one scale for all the runs
    assert map_view.cell_values(result, 9, 0, 0) is None and map_view.cell_values(result, 0, -1, 0) is None


def test_the_spread_needs_noise_and_then_brings_quantile_bands():
    quiet = scenes.compute_scene(scenes.normalize_scene(scenes.default_scene()))
    assert map_view.map_model(quiet, "spread")["runs"] == []
    noisy = scenes.compute_scene(scenes.normalize_scene({**scenes.default_scene(), "noise": 0.5,
                                                         "steps": 50}))
    m = map_view.map_model(noisy, "spread")
    assert len(m["runs"]) == 4 and m["quantiles"] == [0.1, 0.25, 0.5, 0.75, 0.9]
    from optiviz import live
    q10, q90 = (live.decode(m["runs"][0]["loss"][i]) for i in (0, 4))
    assert np.all(q10[1:] <= q90[1:]) and np.any(q10[1:] < q90[1:])


def test_the_star_never_marks_a_run_that_diverged_after_reaching_the_tolerance():
    """Adam on the default scene: its fastest cells reach the tolerance and then blow up (a
    final loss of NaN); the ★ is the fastest of the cells that reached it and stayed finite,
    a dark cell (once it sat in the corner, on a run still at the start)."""
    result = scenes.compute_scene(scenes.normalize_scene(scenes.default_scene()))
    model = map_view.map_model(result, "hyper")
    entry = result.scene["optimizers"][3]
    second, xs, ys = map_view.hyper_axes(entry, map_view.HYPER_GRID)
    h = maps.hyper_map(result.surface, entry, "lr", xs, second, ys, tuple(result.scene["start"]),
                       result.scene["steps"], tolerance=result.scene["tolerance"])
    fine = (h.steps_to_tolerance >= 0) & np.isfinite(h.final_loss)
    assert ((h.steps_to_tolerance >= 0) & ~np.isfinite(h.final_loss)).any()   # the trap is here
    ix, iy = model["runs"][3]["best"]
    assert fine[iy, ix]
    assert h.steps_to_tolerance[iy, ix] == h.steps_to_tolerance[fine].min()
    assert h.final_loss[iy, ix] - result.surface.f_min <= result.scene["tolerance"]


def test_the_settings_map_names_its_axes_as_the_sliders_do_in_either_language():
    """The axes read as the sidebar's sliders ("β₁", "weight decay λ", Korean with the English
    term), not as the core's identifiers (beta1, weight_decay)."""
    from optiviz.widgets import hyper_label

    result = scenes.compute_scene(scenes.normalize_scene(scenes.default_scene()))
    model = map_view.map_model(result, "hyper")
    assert [(r["x"]["label"], r["y"]["label"]) for r in model["runs"]] == [
        ("learning rate", "weight decay λ"), ("learning rate", "momentum μ"),
        ("learning rate", "decay ρ"), ("learning rate", "β₁")]
    korean = map_view.localized(model, "ko")
    assert korean["runs"][0]["y"]["label"] == "가중치 감쇠 λ (weight decay)"
    assert korean["runs"][0]["x"]["label"] == "학습률 (learning rate)"
    assert model["runs"][0]["y"]["label"] == "weight decay λ"          # the shared model kept
    assert hyper_label("adam", "beta1", "ko") == "β₁"
