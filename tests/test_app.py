"""The Streamlit app through AppTest: every control changes the figure the way it should.

Assertions are on the chart's JSON (what the browser receives), decoded from Plotly's base64
`bdata` arrays, not merely on the absence of exceptions.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import optim_core
from optiviz import live, presets, url_state
from optiviz import scene as scenes
from ui import text as ui_text

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def start(query: dict | None = None) -> AppTest:
    """The app as a browser sees it once its first picture is up: the live view's "drawn"
    trigger (which AppTest cannot send) has told the script to draw the controls."""
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.session_state["controls_ready"] = True
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["read_equals_drawn"], "the scene read first is the one drawn"
    return at


def open_panel(at: AppTest, key: str) -> AppTest:
    """Open a sidebar panel as a click would: closed panels send no widgets."""
    at.session_state["open." + key] = True
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["read_equals_drawn"]
    return at


def chart(at: AppTest) -> dict:
    """The live view's model, as the browser receives it (the component's JSON data)."""
    views = [v for v in at.get("bidi_component")
             if v.proto.component_name == "optimizer_race_live_view"]
    assert len(views) == 1, "one live view"
    return json.loads(views[0].proto.json)


def run_of(model: dict, label: str) -> dict:
    for run in model["runs"]:
        if run["label"] == label:
            return run
    raise AssertionError(f"no run named {label!r}: {[r['label'] for r in model['runs']]}")


def path_of(model: dict, label: str) -> np.ndarray:
    """The (steps + 1, 2) path of a run, decoded from the model's float32 arrays."""
    run = run_of(model, label)
    return np.column_stack([live.decode(run["x"]), live.decode(run["y"])])


def names(model: dict) -> set[str]:
    return {r["label"] for r in model["runs"]}


def test_default_scene_renders_the_race():
    at = start()
    spec = chart(at)
    assert {"SGD / GD", "Momentum", "RMSProp", "Adam"} <= names(spec)
    assert spec["surface"]["image"].startswith("data:image/png;base64,"), "the surface image"
    assert spec["surface"]["bounds"][0] == [-2.0, 2.0]
    adam = path_of(spec, "Adam")
    np.testing.assert_allclose(adam[0], (-1.5, 2.0), atol=1e-6)
    assert len(adam) == 501                       # the default scene runs 500 steps
    assert spec["autoplay"] and spec["step"] is None, "a first visit plays the race once"
    assert spec["view"] == "race"
    assert at.session_state["rerun_seconds"] < 30
    # The URL holds the scene from the first render on.
    scene, warnings = url_state.params_to_scene(dict(at.query_params))
    assert not warnings and scene == scenes.normalize_scene(scenes.default_scene())


def test_only_a_run_that_sends_the_view_new_data_pauses_for_the_chart():
    """The chart-first pause (ui.live_view): a run that changes the live view's data waits for
    the browser to draw it before the controls; a page's first run (no controls after it) and a
    run that leaves the data as it was (a panel opened) do not wait."""
    from ui import live_view as ui_live_view

    first = AppTest.from_file(APP, default_timeout=60).run()
    assert first.session_state["chart_first_pause"] == 0, "a page's first run"
    at = start()
    uid = at.session_state["opt_uids"][3]          # Adam
    open_panel(at, f"opt.{uid}.panel")
    assert at.session_state["chart_first_pause"] == 0, "a panel opened: the same data"
    before = chart(at)
    at.sidebar.select_slider(key=f"opt.{uid}.lr").set_value(0.01).run()
    assert chart(at) != before
    assert at.session_state["chart_first_pause"] == ui_live_view.CHART_FIRST_PAUSE > 0
    at.run()
    assert at.session_state["chart_first_pause"] == 0, "nothing changed"


def test_learning_rate_slider_moves_only_that_optimizer():
    at = start()
    before = chart(at)
    uid = at.session_state["opt_uids"][3]          # Adam
    open_panel(at, f"opt.{uid}.panel")
    at.sidebar.select_slider(key=f"opt.{uid}.lr").set_value(0.01).run()
    after = chart(at)
    assert not np.allclose(path_of(before, "Adam")[-1], path_of(after, "Adam")[-1])
    np.testing.assert_array_equal(path_of(before, "SGD / GD"), path_of(after, "SGD / GD"))
    assert "adam~lr~0.01" in at.query_params["o4"]


def test_steps_start_and_surface_controls():
    at = start()
    at.sidebar.slider(key="steps").set_value(200).run()
    assert len(path_of(chart(at), "Adam")) == 201
    at.sidebar.number_input(key="start_x").set_value(-1.0).run()
    np.testing.assert_allclose(path_of(chart(at), "Adam")[0], (-1.0, 2.0), atol=1e-6)
    at.sidebar.selectbox(key="surface").set_value("himmelblau").run()
    assert not at.exception
    spec = chart(at)
    assert spec["surface"]["bounds"][0] == [-5.0, 5.0]
    assert at.query_params["surface"].startswith("himmelblau")


def test_surface_parameter_slider_reshapes_the_problem():
    at = start()
    at.sidebar.select_slider(key="surface.b").set_value(10.0).run()
    assert not at.exception
    assert "b~10" in at.query_params["surface"]
    before = start()
    assert not np.allclose(path_of(chart(before), "Momentum")[-1], path_of(chart(at), "Momentum")[-1])


def test_fair_comparison_shares_one_rate_and_says_so():
    at = start()
    at.sidebar.toggle(key="fair").set_value(True).run()
    at.sidebar.select_slider(key="shared_lr").set_value(0.001).run()
    captions = " ".join(c.value for c in at.caption)
    assert "one learning rate shared by all optimizers: lr = 0.001" in captions
    lr_runs = [live.decode(r["lr"]) for r in chart(at)["runs"]]
    assert lr_runs and all(np.allclose(lr, 0.001) for lr in lr_runs)


def test_schedule_and_noise_controls():
    at = start()
    at.sidebar.selectbox(key="schedule").set_value("cosine").run()
    lr = [live.decode(r["lr"]) for r in chart(at)["runs"]]
    assert lr and all(y[0] > 10 * y[-1] for y in lr)      # cosine annealing towards 0
    clean = path_of(chart(at), "SGD / GD")
    open_panel(at, "extras.panel")
    at.sidebar.select_slider(key="noise").set_value(1.0).run()
    noisy = path_of(chart(at), "SGD / GD")
    assert not np.allclose(clean[10:], noisy[10:], equal_nan=True)


def test_optimizer_multiselect_and_duplicate():
    at = start()
    at.sidebar.multiselect(key="optimizer_set").select("lion").run()
    assert "Lion" in names(chart(at))
    uid = at.session_state["opt_uids"][3]
    open_panel(at, f"opt.{uid}.panel")
    at.sidebar.button(key=f"opt.{uid}.dup").click().run()
    before = {r["label"]: r["color"] for r in chart(start())["runs"]}
    runs = chart(at)["runs"]
    labels = {r["label"] for r in runs if r["label"].startswith("Adam (lr=") and r["label"].endswith(")")}
    assert len(labels) == 2 and "Adam (lr=0.05)" in labels, labels    # labelled by what differs
    colors = {r["label"]: r["color"] for r in runs}
    assert colors["Adam (lr=0.05)"] == before["Adam"]       # the original keeps its colour
    twin = (labels - {"Adam (lr=0.05)"}).pop()
    assert colors[twin] != before["Adam"]                   # the duplicate gets its own shade
    assert all(colors[k] == before[k] for k in ("SGD / GD", "Momentum", "RMSProp"))
    at.sidebar.multiselect(key="optimizer_set").unselect("sgd").run()
    assert "SGD / GD" not in names(chart(at))


def test_duplicate_twice_makes_two_different_runs():
    """Duplicate pressed twice on one panel: the second twin takes a third of the first twin's
    lr, not the same as the first (two identical runs would hide one another)."""
    at = start()
    uid = at.session_state["opt_uids"][3]                        # Adam, lr 0.05
    open_panel(at, f"opt.{uid}.panel")
    at.sidebar.button(key=f"opt.{uid}.dup").click().run()
    at.sidebar.button(key=f"opt.{uid}.dup").click().run()
    adams = [r for r in chart(at)["runs"] if r["label"].startswith("Adam")]
    assert len(adams) == 3 and len({r["label"] for r in adams}) == 3, [r["label"] for r in adams]
    lrs = [e["lr"] for e in json.loads(at.session_state["scene_json"])["optimizers"]
           if e["optimizer"] == "adam"]
    assert lrs[0] == 0.05 and len(set(lrs)) == 3, lrs     # the newest twin comes last
    assert all(lrs[i + 1] < lrs[i] / 2 for i in range(2)), lrs    # about a third each time


def test_a_lesson_to_step_through_opens_paused_at_its_step():
    """'Press +1 once': the lesson's model asks the view to open paused at step 0, not to play
    the race to its end (where +1 does nothing); other lessons play once."""
    at = start()
    at.sidebar.radio(key="preset_pick").set_value("rmsprop_first_step").run()
    model = chart(at)
    assert model["opens_at"] == 0 and model["autoplay"] > 0
    at.sidebar.radio(key="preset_pick").set_value("zigzag_vs_adaptive").run()
    assert chart(at)["opens_at"] is None


def test_hyperparameter_sliders_apply():
    at = start()
    uid = at.session_state["opt_uids"][1]                 # Momentum
    before = path_of(chart(at), "Momentum")
    open_panel(at, f"opt.{uid}.panel")
    at.sidebar.slider(key=f"opt.{uid}.momentum").set_value(0.5).run()
    assert [w for w in at.sidebar.slider if w.key == f"opt.{uid}.momentum"], "the panel stays open"
    after = path_of(chart(at), "Momentum")
    assert not np.allclose(before[-1], after[-1])
    assert "momentum~0.5" in at.query_params["o2"]


def test_closed_panels_send_no_widgets_and_keep_their_values():
    at = start()
    uid = at.session_state["opt_uids"][1]                 # Momentum
    assert not [w for w in at.sidebar.slider if w.key == f"opt.{uid}.momentum"]   # closed: not sent
    open_panel(at, f"opt.{uid}.panel")
    at.sidebar.slider(key=f"opt.{uid}.momentum").set_value(0.5).run()
    open_panel(at, "extras.panel")
    at.sidebar.number_input(key="seed").set_value(7).run()
    at.session_state[f"open.opt.{uid}.panel"] = False      # close both, then change something else
    at.session_state["open.extras.panel"] = False
    at.run()
    at.sidebar.slider(key="steps").set_value(300).run()
    assert not [w for w in at.sidebar.slider if w.key == f"opt.{uid}.momentum"]
    assert "momentum~0.5" in at.query_params["o2"] and at.query_params["seed"] == "7"
    assert chart(at)["steps"] == 300


@pytest.mark.parametrize("view", ["side", "3d", "curves"])
def test_the_link_opens_the_view_it_names(view):
    at = start({"view": view})
    spec = chart(at)
    assert spec["view"] == view and spec["surface"]["mesh"]["n"] >= 20
    assert at.query_params["view"] == view


def test_a_step_in_the_link_opens_the_view_there():
    at = start({"step": "100"})
    spec = chart(at)
    assert spec["step"] == 100 and not spec["autoplay"]
    assert at.query_params["step"] == "100"
    # what the readout shows at step 100 comes from the core's own run (independent of the app)
    adam = optim_core.run("rosenbrock", "adam", (-1.5, 2.0), 100, lr=0.05)
    np.testing.assert_allclose(live.decode(run_of(spec, "Adam")["loss"])[100], adam.loss[100, 0],
                               rtol=1e-6)


def test_the_model_says_when_each_run_reached_the_minimum():
    spec = chart(start())
    result = scenes.compute_scene(scenes.normalize_scene(scenes.default_scene()))
    assert [r["reached"] for r in spec["runs"]] == [row["reached_step"] for row in result.summary]
    assert spec["tolerance"] == 1e-3


def test_the_surface_image_is_sent_once_per_surface():
    at = start()
    assert "image" in chart(at)["surface"]
    uid = at.session_state["opt_uids"][3]
    open_panel(at, f"opt.{uid}.panel")
    at.sidebar.select_slider(key=f"opt.{uid}.lr").set_value(0.01).run()
    assert "image" not in chart(at)["surface"]            # the browser keeps it by key
    at.sidebar.selectbox(key="surface").set_value("himmelblau").run()
    assert chart(at)["surface"]["image"].startswith("data:image/png")


def test_the_data_sent_per_change_is_small():
    """6 optimizers x 1,000 steps: under 300 KB per change (the surface image aside)."""
    entries = [{"optimizer": n} for n in ("sgd", "momentum", "rmsprop", "adam", "nadam", "adagrad")]
    scene = scenes.normalize_scene({**scenes.default_scene(), "steps": 1000, "optimizers": entries})
    result = scenes.compute_scene(scene)
    assert live.model_bytes(live.view_model(result, include_surface=False)) < 300_000
    assert live.model_bytes(live.view_model(result, include_surface=True)) < 300_000


@pytest.mark.parametrize("key", presets.preset_keys())
def test_every_preset_runs_and_says_what_to_watch(key):
    at = start()
    at.sidebar.radio(key="preset_pick").set_value(key).run()
    assert not at.exception, [e.message for e in at.exception]
    preset = presets.get_preset(key)
    assert any(preset.watch in i.value for i in at.info)
    scene, _ = url_state.params_to_scene(dict(at.query_params))
    assert scene == scenes.normalize_scene(preset.scene)
    assert at.query_params["lesson"] == key                 # the link carries the lesson
    spec = chart(at)
    assert [r["label"] for r in spec["runs"]] == scenes.labels(scene)
    assert spec["autoplay"] >= 2, "a lesson starts with its race playing"


@pytest.mark.parametrize("query", [
    {"steps": "-5"},
    {"surface": "nosuchsurface"},
    {"o1": "adam~lr~nan"},
    {"s": "!!!not-base64!!!"},
    {"start": "1e999~0"},
    {"o1": "x" * 100_000},
])
def test_malformed_link_falls_back_with_a_warning(query):
    at = start(query)
    assert at.warning, "a bad share link is reported"
    assert not at.exception
    assert chart(at)["runs"]


def test_share_link_reproduces_a_scene_exactly():
    scene = scenes.normalize_scene(presets.get_preset("schedule_settles").scene)
    at = start({**url_state.scene_to_params(scene), "view": "curves", "step": "42",
                "lesson": "schedule_settles"})
    assert not at.warning
    assert json.loads(at.session_state["scene_json"]) == scene
    assert {k: at.query_params[k] for k in ("view", "step", "lesson")} == \
        {"view": "curves", "step": "42", "lesson": "schedule_settles"}
    assert chart(at)["view"] == "curves" and chart(at)["step"] == 42


def test_closed_export_and_share_panels_send_no_widgets():
    at = start()
    keys = {getattr(e, "key", None) for e in at.main}
    assert not {"export.format", "export.create", "scene_upload"} & keys
    open_panel(at, "export.panel")
    assert at.segmented_control(key="export.format").value == "png"
    assert not at.get("file_uploader")
    open_panel(at, "share.panel")
    assert len(at.get("file_uploader")) == 1 and len(at.get("download_button")) == 1


def _export(at: AppTest, fmt: str, **options):
    if "export.format" not in {getattr(e, "key", None) for e in at.segmented_control}:
        open_panel(at, "export.panel")
    at.segmented_control(key="export.format").set_value(fmt).run()
    for key, value in options.items():
        at.slider(key=f"export.{key}").set_value(value).run()
    at.button(key="export.create").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at.session_state["export.file"][:3]


def test_a_made_file_is_offered_only_for_what_it_was_made_from():
    """The download under Create is the file of the format, view, settings and scene asked for:
    another format (or a slider moved) hides it until Create is pressed again."""
    at = start()
    _export(at, "csv")
    downloads = lambda: [b for b in at.get("download_button") if b.proto.id.endswith("export.download")]
    assert len(downloads()) == 1
    at.segmented_control(key="export.format").set_value("json").run()
    assert not downloads(), "the CSV's button under JSON's Create"
    at.segmented_control(key="export.format").set_value("csv").run()
    assert len(downloads()) == 1
    at.sidebar.slider(key="steps").set_value(300).run()
    assert not downloads(), "a file of the old scene"


def test_export_csv_from_the_app_round_trips_the_trajectories():
    from optiviz import export

    at = start()
    data, mime, name = _export(at, "csv")
    assert mime == "text/csv" and name.endswith(".csv")
    runs = export.read_trajectories_csv(data.decode() if isinstance(data, bytes) else data)
    adam = optim_core.run("rosenbrock", "adam", (-1.5, 2.0), 500, lr=0.05)   # independent of the app
    np.testing.assert_array_equal(runs["Adam"]["x"], adam.xy[:, 0, 0])
    np.testing.assert_array_equal(runs["Adam"]["loss"], adam.loss[:, 0])


def test_export_gif_from_the_app_has_the_requested_frames():
    import io

    from PIL import Image

    at = start()
    data, mime, name = _export(at, "gif", frames=20)
    assert mime == "image/gif"
    image = Image.open(io.BytesIO(data))
    assert image.n_frames == 20 and image.size[0] >= 600


def test_export_config_from_the_app_restores_the_scene():
    from optiviz import export

    at = start({"surface": "himmelblau", "o1": "nesterov~lr~0.01"})
    data, mime, _ = _export(at, "config")
    scene = export.load_scene_file(data)
    assert scene == json.loads(at.session_state["scene_json"])
    assert scene["surface"]["name"] == "himmelblau"


def test_export_png_from_the_app_is_a_real_picture():
    import io

    from PIL import Image, ImageStat

    at = open_panel(start(), "export.panel")
    at.segmented_control(key="export.format").set_value("png").run()
    at.select_slider(key="export.scale").set_value(1).run()
    data, mime, name = _export(at, "png")
    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert mime == "image/png" and image.size[0] >= 1000
    assert max(ImageStat.Stat(image.convert("L")).stddev) > 20      # not a blank page
    assert len(image.getcolors(1 << 24)) > 1000


def _why_reference(scene: dict, index: int) -> dict:
    """The explained run's why record as the browser holds it (float32), from the core's own
    record_state run of that run alone: an independent path from the app's cached scene."""
    from optiviz import why

    entry = scenes.scene_runs(scene)[index]
    traj = optim_core.run_config({**entry, "surface": scene["surface"], "steps": scene["steps"],
                                  "record_state": True})
    return why.why_record(traj, 0)


def test_why_it_moves_sends_the_explained_runs_state():
    at = start({"why": "4", "step": "20"})
    model = chart(at)
    assert model["why_run"] == 3 and model["why"]["label"] == "Adam"
    assert at.query_params["why"] == "4"                       # the link keeps the panel open
    scene = json.loads(at.session_state["scene_json"])
    ref = _why_reference(scene, 3)
    for name, packed in model["why"]["arrays"].items():
        got = live.decode(packed["data"]).reshape(ref["arrays"][name].shape[0], -1)
        want = np.asarray(ref["arrays"][name], dtype=np.float32).reshape(got.shape)
        np.testing.assert_array_equal(got, want, err_msg=name)
    assert model["why"]["rule"] == ref["rule"]


def test_why_off_sends_nothing_more_and_a_bad_why_link_is_ignored():
    assert "why" not in chart(start()) and chart(start())["why_run"] is None
    at = start({"why": "9"})
    assert "why" not in chart(at)
    assert any("Ignored why=9" in ui_text.rendered(w.value) for w in at.warning)


def test_the_adagrad_lesson_opens_why_it_moves_on_adagrad():
    at = start()
    at.sidebar.radio(key="preset_pick").set_value("adagrad_decay").run()
    model = chart(at)
    assert model["why"]["label"] == "AdaGrad" and at.query_params["why"] == "1"


def test_a_lessons_short_link_opens_its_own_scene():
    at = start({"lesson": "adagrad_decay"})
    scene = json.loads(at.session_state["scene_json"])
    assert scene == scenes.normalize_scene(presets.get_preset("adagrad_decay").scene)
    assert chart(at)["why"]["label"] == "AdaGrad" and not at.warning


def test_the_maps_view_gets_the_map_it_asks_for_and_only_then():
    at = start()
    assert "map" not in chart(at)
    at.session_state["map"] = "basin"           # what the live view's Maps button sets
    at.run()
    model = chart(at)["map"]
    assert model["kind"] == "basin" and len(model["runs"]) == len(chart(at)["runs"])
    at.session_state["map"] = None
    at.run()
    assert "map" not in chart(at)


def test_a_new_page_draws_the_picture_first_and_the_controls_after_it():
    """The first run sends the live view without the sidebar's widgets (their render would
    delay the chart); the next run (the live view's "drawn" trigger causes one) draws them,
    showing the same scene, and a link's warning is said in both."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["steps"] = "0"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert chart(at)["runs"], "the live view is sent"
    assert not at.sidebar.selectbox and not at.sidebar.slider and not at.sidebar.multiselect
    assert not at.caption and not at.expander and not at.toggle     # nor what is under it
    assert len(at.warning) == 1 and "Ignored steps" in at.warning[0].value
    first = chart(at)
    at.run()                                          # the rerun the trigger causes
    assert not at.exception, [e.message for e in at.exception]
    assert at.sidebar.selectbox(key="surface").value == "rosenbrock"
    assert at.sidebar.slider(key="steps").value == first["steps"]
    assert at.session_state["read_equals_drawn"]
    assert chart(at)["key"] == first["key"]           # the same scene, not a new one
    assert len(at.warning) == 1 and "Ignored steps" in at.warning[0].value
    at.sidebar.slider(key="steps").set_value(300).run()    # the user's first action
    assert not at.warning


def test_plotly_js_is_the_wheels_file_behind_a_compile_hint(tmp_path, monkeypatch):
    """The page's plotly.min.js: V8's compile-hint comment, then the wheel's bytes unchanged;
    a stale copy (another plotly version) is replaced."""
    import plotly

    from ui import live_view as lv

    monkeypatch.setattr(lv, "STATIC", tmp_path)
    wheel = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    lv.ensure_plotly_js()
    served = (tmp_path / "plotly.min.js").read_bytes()
    assert served == b"//# allFunctionsCalledOnLoad\n" + wheel
    (tmp_path / "plotly.min.js").write_bytes(b"/* plotly.js v0 */")
    lv.ensure_plotly_js()
    assert (tmp_path / "plotly.min.js").read_bytes() == served
