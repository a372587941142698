"""The scene config: validation, canonical form, labels, caching and the summary."""

import json

import numpy as np
import pytest

import optim_core
from optiviz import scene as scenes


def test_default_scene_is_canonical_and_json():
    scene = scenes.default_scene()
    assert scenes.normalize_scene(scene) == scene
    assert scenes.normalize_scene(json.dumps(scene)) == scene


@pytest.mark.parametrize("change,fragment", [
    ({"steps": 0}, "steps must be an integer in [1, 5000]"),
    ({"steps": 10**9}, "steps"),
    ({"start": [1e9, 0]}, "start x must be a number in [-2, 2]"),
    ({"start": "here"}, "start must be [x, y]"),
    ({"surface": {"name": "moon"}}, "moon"),
    ({"surface": {"name": "rosenbrock", "b": -1}}, "'b'"),
    ({"noise": -1}, "noise"),
    ({"shared_lr": 0}, "shared_lr"),
    ({"optimizers": []}, "optimizers must be a list of 1 to 10"),
    ({"optimizers": [{"optimizer": "adamz"}]}, "unknown optimizer 'adamz'"),
    ({"optimizers": [{"optimizer": "adam", "lr": [0.1, 0.2]}]}, "lr must be a number"),
    ({"optimizers": [{"optimizer": "adam", "hyperparameters": {"beta1": [0.5]}}]}, "beta1"),
    ({"optimizers": [{"optimizer": "adam", "hyperparameters": {"beta1": 1.5}}]},
     "optimizers[0] (adam): beta1 for optimizer 'adam' must be finite and in [0.0, 1.0)"),
    ({"optimizers": [{"optimizer": "adam", "schedule": {"name": "nope"}}]}, "unknown schedule"),
    ({"schedule": {"name": "step", "gamma": 7}}, "gamma"),
    ({"colour": "red"}, "unknown scene key 'colour'"),
])
def test_invalid_scenes_name_the_field(change, fragment):
    scene = {**scenes.default_scene(), **change}
    with pytest.raises(ValueError) as err:
        scenes.normalize_scene(scene)
    assert fragment in str(err.value)


def test_oversized_or_broken_text_is_refused():
    with pytest.raises(ValueError, match="at most"):
        scenes.normalize_scene("x" * (scenes.MAX_SCENE_BYTES + 1))
    with pytest.raises(ValueError, match="not valid JSON"):
        scenes.normalize_scene("{")


def test_equal_scenes_have_one_spelling():
    a = {**scenes.default_scene(), "schedule": "cosine",
         "optimizers": [{"optimizer": "adam", "lr": 1, "hyperparameters": {"beta1": 0.9}}]}
    b = {**scenes.default_scene(), "schedule": {"name": "cosine"},
         "optimizers": [{"optimizer": "adam", "lr": 1.0, "hyperparameters": {}, "schedule": None}]}
    assert scenes.normalize_scene(a) == scenes.normalize_scene(b)


def test_labels_say_what_differs():
    scene = scenes.normalize_scene({**scenes.default_scene(), "optimizers": [
        {"optimizer": "adam", "lr": 0.05}, {"optimizer": "adam", "lr": 0.01},
        {"optimizer": "momentum", "hyperparameters": {"momentum": 0.5}},
        {"optimizer": "momentum", "hyperparameters": {"momentum": 0.95}}, {"optimizer": "sgd"}]})
    assert scenes.labels(scene) == ["Adam (lr=0.05)", "Adam (lr=0.01)", "Momentum (momentum=0.5)",
                                    "Momentum (momentum=0.95)", "SGD / GD"]


def test_twins_alike_among_their_kin_are_numbered():
    """Two runs that differ from a third but not from each other (a scene file may hold them):
    each label still names one run."""
    scene = scenes.normalize_scene({**scenes.default_scene(), "optimizers": [
        {"optimizer": "adam", "lr": 0.05}, {"optimizer": "adam", "lr": 0.01},
        {"optimizer": "adam", "lr": 0.01}, {"optimizer": "sgd"}, {"optimizer": "sgd"}]})
    assert scenes.labels(scene) == ["Adam (lr=0.05)", "Adam (lr=0.01, #1)", "Adam (lr=0.01, #2)",
                                    "SGD / GD (#1)", "SGD / GD (#2)"]


def test_caption_says_what_was_compared():
    scene = scenes.normalize_scene({**scenes.default_scene(), "shared_lr": 0.01, "noise": 0.5})
    caption = scenes.comparison_caption(scene)
    assert "one learning rate shared by all optimizers: lr = 0.01" in caption
    assert "gradient noise σ = 0.5" in caption
    own = scenes.comparison_caption(scenes.default_scene())
    assert "each optimizer with its own learning rate" in own


def test_shared_lr_overrides_every_optimizer():
    scene = scenes.normalize_scene({**scenes.default_scene(), "shared_lr": 0.002})
    result = scenes.compute_scene(scene)
    assert all(np.all(run.trajectory.lr == 0.002) for run in result.runs)


def test_scene_runs_equal_the_core_run_alone():
    result = scenes.compute_scene(scenes.default_scene())
    alone = optim_core.run("rosenbrock", "momentum", (-1.5, 2.0), 500, lr=1e-3, momentum=0.9)
    np.testing.assert_array_equal(result.runs[1].trajectory.xy, alone.xy)


def test_cache_reuses_unchanged_runs_only():
    cache = scenes.RunCache(max_entries=10)
    first = scenes.compute_scene(scenes.default_scene(), cache=cache)
    assert len(cache) == 4
    changed = scenes.default_scene()
    changed["optimizers"][3]["lr"] = 0.01
    second = scenes.compute_scene(scenes.normalize_scene(changed), cache=cache)
    assert len(cache) == 5
    assert second.runs[0].trajectory is first.runs[0].trajectory          # reused, not re-run
    assert second.runs[3].trajectory is not first.runs[3].trajectory
    uncached = scenes.compute_scene(scenes.normalize_scene(changed))
    np.testing.assert_array_equal(second.runs[3].trajectory.xy, uncached.runs[3].trajectory.xy)


def test_cache_is_bounded():
    cache = scenes.RunCache(max_entries=3)
    for i in range(10):
        cache.put(str(i), i)
    assert len(cache) == 3 and cache.get("0") is None and cache.get("9") == 9


def test_summary_reports_reaching_and_divergence():
    scene = scenes.normalize_scene({**scenes.default_scene(), "steps": 2000, "optimizers": [
        {"optimizer": "momentum", "lr": 1e-3}, {"optimizer": "sgd", "lr": 0.1}]})
    rows = scenes.compute_scene(scene).summary
    momentum, sgd = rows
    # Rosenbrock's only minimum is (1, 1) with f = 0 (optimizers.md 4.1).
    assert momentum["nearest_minimum"] == (1.0, 1.0) and momentum["distance"] < 0.01
    assert momentum["reached_step"] is not None and momentum["diverged_at"] is None
    assert sgd["diverged_at"] is not None and sgd["reached_step"] is None


def test_colours_belong_to_the_optimizer_not_the_position():
    from optiviz import presets

    seen = {}
    for preset in presets.PRESETS:
        scene = scenes.normalize_scene(preset.scene)
        firsts = {}
        for entry, color in zip(scene["optimizers"], scenes.colors(scene)):
            firsts.setdefault(entry["optimizer"], color)
        for name, color in firsts.items():
            assert seen.setdefault(name, color) == color, (preset.key, name)
    assert len(set(scenes.COLORS.values())) == len(scenes.COLORS)      # 13 distinct hues


def test_a_duplicate_gets_a_different_shade_and_the_others_keep_theirs():
    base = scenes.normalize_scene(scenes.default_scene())
    before = scenes.colors(base)
    twin = {**base, "optimizers": [base["optimizers"][0], dict(base["optimizers"][0], lr=3e-4),
                                   *base["optimizers"][1:]]}
    after = scenes.colors(twin)
    assert after[0] == before[0] and after[2:] == before[1:]
    assert after[1] != after[0]
    # clearly different: at least 60 apart in some RGB channel
    a, b = (int(after[0][i:i + 2], 16) for i in (1, 3, 5)), (int(after[1][i:i + 2], 16)
                                                              for i in (1, 3, 5))
    assert max(abs(x - y) for x, y in zip(a, b)) >= 60


def test_one_summary_for_the_table_and_the_json_export():
    """The table at the last step and the JSON export's summary say the same, from one function."""
    from optiviz import export, figures, presets

    scene = scenes.normalize_scene(presets.get_preset("multi_minima_starts").scene) \
        if "multi_minima_starts" in presets.preset_keys() else scenes.normalize_scene(
            {**scenes.default_scene(), "surface": {"name": "himmelblau"}, "start": [0.0, 0.0]})
    result = scenes.compute_scene(scene)
    exported = json.loads(export.trajectories_json(result))["summary"]
    end = scene["steps"]
    for row, table, again in zip(exported, figures.summary_rows(result, step=end),
                                 scenes.summarize(result, end)):
        assert row["reached_step"] == again["reached_step"]
        assert row["final_loss"] == pytest.approx(table["loss"], rel=1e-12, nan_ok=True)
