"""The live view's model (optiviz.live): what the browser draws equals the core's runs."""

from __future__ import annotations

import json

import numpy as np

import optim_core
from optiviz import i18n, live
from optiviz import scene as scenes


def _model(scene, **kw):
    return live.view_model(scenes.compute_scene(scenes.normalize_scene(scene)), **kw)


def test_positions_losses_and_rates_are_the_cores_to_float32():
    model = _model(scenes.default_scene())
    adam = optim_core.run("rosenbrock", "adam", (-1.5, 2.0), 500, lr=0.05)   # independent run
    run = next(r for r in model["runs"] if r["optimizer"] == "adam")
    np.testing.assert_allclose(live.decode(run["x"]), adam.xy[:, 0, 0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(live.decode(run["y"]), adam.xy[:, 0, 1], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(live.decode(run["loss"]), adam.loss[:, 0], rtol=1e-6)
    np.testing.assert_allclose(live.decode(run["lr"]), adam.lr[:, 0], rtol=1e-6)
    assert run["diverged_at"] is None and model["steps"] == 500


def test_a_diverged_run_is_nan_from_its_step_and_says_where():
    scene = {**scenes.default_scene(), "optimizers": [{"optimizer": "sgd", "lr": 1.0}]}
    model = _model(scene)
    run = model["runs"][0]
    d = run["diverged_at"]
    ref = optim_core.run("rosenbrock", "sgd", (-1.5, 2.0), 500, lr=1.0)
    assert d == int(ref.diverged_at[0]) and d > 0
    x = live.decode(run["x"])
    assert np.isnan(x[d:]).all() and np.isfinite(x[:d]).all()
    json.dumps(model, allow_nan=False)               # NaN travels inside the base64, not as JSON


def test_the_surface_travels_only_when_asked():
    with_image = _model(scenes.default_scene())
    without = _model(scenes.default_scene(), include_surface=False)
    assert with_image["surface"]["image"].startswith("data:image/png;base64,")
    assert "image" not in without["surface"] and "mesh" not in without["surface"]
    assert with_image["surface"]["key"] == without["surface"]["key"]
    assert with_image["surface"]["minima"] == [[1.0, 1.0]] and with_image["surface"]["global"] == [True]


def test_the_3d_mesh_is_the_surface_heights():
    model = _model(scenes.default_scene())
    mesh = model["surface"]["mesh"]
    z = live.decode(mesh["z"]).reshape(mesh["n"], mesh["n"])
    lo, hi = mesh["zrange"]
    assert lo <= z.min() and z.max() <= hi + 1e-6
    # the lowest row of the mesh runs along y = -1 where Rosenbrock is high; the valley floor
    # y = x^2 is lower than the corners
    assert z[0, 0] > z[mesh["n"] // 3, mesh["n"] // 2]


def test_size_budget_for_six_optimizers_and_1000_steps():
    entries = [{"optimizer": n} for n in ("sgd", "momentum", "rmsprop", "adam", "nadam", "lion")]
    scene = {**scenes.default_scene(), "steps": 1000, "optimizers": entries}
    assert live.model_bytes(_model(scene, include_surface=False)) < 300_000
    assert live.model_bytes(_model(scene)) < 300_000


def test_the_readout_says_when_the_minimum_reached_is_a_local_one():
    """Goldstein–Price from its demo start: SGD settles in the local minimum of value 840 (a
    published value of the surface's local minima: 3, 30, 84, 840), Momentum in the global one
    (3). The record says which: the readout writes "a local min, step k" for the first."""
    from optiviz import url_state

    scene, _ = url_state.params_to_scene({"surface": "goldstein_price"})
    result = scenes.compute_scene(scenes.normalize_scene(scene))
    runs = {r["label"]: r for r in live.view_model(result)["runs"]}
    sgd, momentum = runs["SGD / GD"], runs["Momentum"]
    assert sgd["reached"] is not None and sgd["reached_local"] is True
    assert abs(result.runs[0].trajectory.loss[-1, 0] - 840.0) < 1e-3
    assert momentum["reached"] is not None and momentum["reached_local"] is False
    assert abs(result.runs[1].trajectory.loss[-1, 0] - 3.0) < 1e-3
    assert i18n.t("live.at_step_local", "ko", step=51) == "지역 최솟값(local min), 스텝 51"


def test_a_reached_run_carries_the_value_it_reached():
    """The readout says "at step k, out again" when the loss at the playhead is out of the
    tolerance of the minimum's value the run reached: the model carries that value (the lesson
    schedule_settles: the constant-lr run dips within 1e-3 of f = 0 and bounces out)."""
    from optiviz import presets
    from optiviz import scene as scenes

    result = scenes.compute_scene(scenes.normalize_scene(
        presets.get_preset("schedule_settles").scene))
    model = live.view_model(result, include_surface=False)
    constant = model["runs"][0]
    assert constant["reached"] is not None and constant["reached_value"] == 0.0  # f(0, 0) = 0
    loss = live.decode(constant["loss"])
    assert abs(loss[constant["reached"]]) <= model["tolerance"] < abs(loss[-1])
    unreached = live.view_model(scenes.compute_scene(scenes.normalize_scene(
        {**scenes.default_scene(), "steps": 10})), include_surface=False)
    assert all(r["reached"] is None and r["reached_value"] is None for r in unreached["runs"])
