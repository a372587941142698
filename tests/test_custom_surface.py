"""A typed surface (issue 13) travels like every other: scene config, share link, command line,
exports and the app's sidebar. The text is data throughout: vetted by landscapes.formula,
never run, never rendered as Markdown or HTML."""

from __future__ import annotations

import builtins
import io
import json
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlencode

import numpy as np
import pytest
from PIL import Image

import landscapes
from landscapes import formula as formula_module
from landscapes.formula import WINDOW_PARAMS
from optiviz import export, url_state
from optiviz import scene as scenes
from ui import custom_surface
from ui import text as ui_text
from test_app import chart, path_of, start
from test_cli import _one_error_line, needs_browser, run

FORMULA = "sin(x)*cos(y) + 0.1*(x^2 + y^2)"
SURFACE = {"name": "custom", "formula": FORMULA, "xmin": -3.0, "xmax": 3.0, "ymin": -3.0,
           "ymax": 3.0}
# Refused by the allowlist check itself, before SymPy is involved.
HOSTILE = [
    "__import__('os').system('touch {marker}')",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__",
    "lambda: 1",
    "[Log in here](https://evil.example)",
    "<img src=x onerror=alert(1)>",
    "$$x$$ :smile: **x**",
    "ｘ + y",
    "x\u202e + y",
    "x + " * 200 + "y",
]
# Valid Python, refused by the caps on the SymPy side (in the worker).
TOO_BIG = ["((9**9)**99)**99", "9**9**9**9", "sin(" * 40 + "x" + ")" * 40]


def custom_scene(**changes) -> dict:
    return scenes.normalize_scene({"surface": dict(SURFACE), "steps": 200, **changes})


def _via_browser(params: dict) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlencode(params), keep_blank_values=True).items()}


# ---- the scene ---------------------------------------------------------------------------------

def test_a_custom_scene_normalizes_and_computes():
    scene = custom_scene()
    assert scene["surface"] == SURFACE
    surface = landscapes.from_spec(scene["surface"])
    assert surface.bounds == ((-3.0, 3.0), (-3.0, 3.0))
    assert scene["start"] == list(surface.start)
    result = scenes.compute_scene(scene)
    assert len(result.runs) == 4 and result.surface.name == "custom"
    assert all(np.isfinite(r.trajectory.xy).all() for r in result.runs)
    assert scenes.normalize_scene(scene) == scene                 # one canonical spelling


def test_a_refused_formula_names_the_field_and_keeps_the_column():
    with pytest.raises(landscapes.FormulaError) as err:
        scenes.normalize_scene({"surface": {**SURFACE, "formula": "sin(x)*z"}})
    assert str(err.value).startswith("surface.formula: unknown name 'z' at column 8")
    assert err.value.column == 8
    for surface, words in (({**SURFACE, "xmin": 4.0}, "surface: xmin must be less than xmax"),
                           ({**SURFACE, "xmin": 1e9}, "surface: parameter 'xmin'"),
                           ({**SURFACE, "zoom": 2}, "surface: unknown parameter 'zoom'"),
                           ({"name": "custom"}, "needs a formula"),
                           ({**SURFACE, "formula": 7}, "'formula'")):
        with pytest.raises(ValueError, match=words):
            scenes.normalize_scene({"surface": surface})
    with pytest.raises(ValueError, match="start x"):
        scenes.normalize_scene({"surface": SURFACE, "start": [4.0, 0.0]})     # out of the window


def test_the_surface_start_becomes_the_scene_start():
    scene = scenes.normalize_scene({"surface": {**SURFACE, "start_x": 1.0, "start_y": -2.0}})
    assert scene["start"] == [1.0, -2.0] and scene["surface"] == SURFACE
    given = scenes.normalize_scene({"surface": {**SURFACE, "start_x": 1.0, "start_y": -2.0},
                                    "start": [0.5, 0.5]})
    assert given["start"] == [0.5, 0.5]


def test_the_window_ranges_are_the_parsers():
    for key, p in WINDOW_PARAMS.items():
        r = scenes.RANGES[f"surface.{key}"]
        assert (r.low, r.high) == (p.min, p.max)


# ---- the share link -------------------------------------------------------------------------

def test_the_link_carries_the_formula_readably_and_exactly():
    scene = custom_scene()
    params = url_state.scene_to_params(scene)
    assert params["formula"] == FORMULA and "s" not in params
    assert params["surface"] == "custom~xmin~-3.0~xmax~3.0~ymin~-3.0~ymax~3.0"
    back, warnings = url_state.params_to_scene(_via_browser(params))
    assert warnings == [] and back == scene
    # the default window is left out; a formula alone is a custom surface
    back, warnings = url_state.params_to_scene({"formula": "x^2 + 3*y^2"})
    assert warnings == [] and back["surface"] == {"name": "custom", "formula": "x^2 + 3*y^2",
                                                  **{k: p.default for k, p in
                                                     WINDOW_PARAMS.items()}}
    assert url_state.scene_to_params(back)["surface"] == "custom"


def test_the_compact_form_carries_it_too():
    scene = custom_scene()
    compact = {"s": url_state._compact(scene)}
    assert url_state.params_to_scene(compact) == (scene, [])
    back, warnings = url_state.params_to_scene({**compact, "formula": "x^2 + y^2"})
    assert warnings == [] and back["surface"] == {**SURFACE, "formula": "x^2 + y^2"}


def test_bad_formula_parts_of_a_link():
    scene, warnings = url_state.params_to_scene({"surface": "himmelblau", "formula": "x"})
    assert scene["surface"] == {"name": "himmelblau"}
    assert len(warnings) == 1 and "not a typed one" in warnings[0]
    scene, warnings = url_state.params_to_scene({"surface": "custom~xmin~9", "formula": "x*y"})
    assert scene["surface"]["formula"] == "x*y" and scene["surface"]["xmin"] == -5.0
    assert len(warnings) == 1 and "xmin must be less than xmax" in warnings[0]
    scene, warnings = url_state.params_to_scene({"surface": "custom", "steps": "300"})
    assert scene["surface"]["name"] == "rosenbrock" and scene["steps"] == 300
    assert "needs a formula" in warnings[0]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_hostile_formula_in_a_link_is_refused_and_nothing_runs(text, tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    text = text.format(marker=marker)

    def boom(*a, **k):
        raise AssertionError("evaluated")

    monkeypatch.setattr(builtins, "eval", boom)
    monkeypatch.setattr(builtins, "exec", boom)
    monkeypatch.setattr(formula_module, "_symbolic", boom)   # SymPy never sees refused text
    for params in ({"formula": text}, {"surface": "custom", "formula": text},
                   {"s": url_state._compact({"surface": {**SURFACE, "formula": text}})}):
        scene, warnings = url_state.params_to_scene(params)
        assert scene["surface"]["name"] == "rosenbrock"
        assert len(warnings) == 1 and "surface.formula" in warnings[0], warnings
        assert len(warnings[0]) < 400
    assert not marker.exists()


@pytest.mark.parametrize("text", TOO_BIG)
def test_a_formula_too_big_in_a_link_is_refused(text):
    scene, warnings = url_state.params_to_scene({"formula": text})
    assert scene["surface"]["name"] == "rosenbrock"
    assert len(warnings) == 1 and "surface.formula" in warnings[0], warnings


# ---- the command line -----------------------------------------------------------------------

@needs_browser
def test_cli_export_with_a_formula_writes_a_png(tmp_path):
    proc = run("export", "--surface", "custom", "--formula", FORMULA, "--window", "-3", "3",
               "-3", "3", "--steps", "120", "--scale", "1", "--out", "race.png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    image = Image.open(tmp_path / "race.png")
    assert image.size == (1100, 660)
    assert np.asarray(image.convert("L"), dtype=np.float64).std() > 20


def test_cli_formula_config_and_errors(tmp_path):
    proc = run("export", "--formula", "x^2 + 3*y^2", "--window", "-2", "2", "-1", "1",
               "--start", "1.5", "0.5", "--format", "config", "--out", "scene.json",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    scene = json.loads((tmp_path / "scene.json").read_text())
    assert scene["surface"] == {"name": "custom", "formula": "x^2 + 3*y^2", "xmin": -2.0,
                                "xmax": 2.0, "ymin": -1.0, "ymax": 1.0}
    assert scene["start"] == [1.5, 0.5]
    # the config's typed surface, its formula changed from the command line
    proc = run("export", "--config", "scene.json", "--formula", "x^4 + y^2", "--format",
               "config", "--out", "again.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["surface"] == {**scene["surface"], "formula": "x^4 + y^2"}
    marker = tmp_path / "pwned"
    for args, words in (
            (["--surface", "custom", "--formula", "sin(x)*z"], ["surface.formula", "column 8"]),
            (["--formula", f"__import__('os').system('touch {marker}')"], ["column 12"]),
            (["--formula", "x", "--window", "3", "-3", "-3", "3"], ["xmin must be less"]),
            (["--surface", "custom"], ["--formula"]),
            (["--surface", "himmelblau", "--formula", "x"], ["--surface custom"]),
            (["--window", "-1", "1", "-1", "1"], ["--formula"])):
        proc = run("export", *args, "--format", "config", "--out", "x.json", cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr.decode())
        line = _one_error_line(proc)
        assert all(w in line for w in words), line
    assert not marker.exists() and not (tmp_path / "x.json").exists()


# ---- exports ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def result():
    return scenes.compute_scene(custom_scene(steps=60))


def test_text_exports_carry_the_formula(result):
    scene = json.loads(export.export(result, "config")[0])
    assert scene["surface"] == SURFACE and export.load_scene_file(json.dumps(scene)) == scene
    doc = json.loads(export.export(result, "json")[0])
    assert doc["scene"]["surface"]["formula"] == FORMULA and len(doc["runs"]) == 4
    rows = export.read_trajectories_csv(export.export(result, "csv")[0].decode())
    np.testing.assert_array_equal(rows["Adam"]["x"], result.runs[3].trajectory.xy[:, 0, 0])
    data, _, name = export.export(result, "html")
    assert name == "optiviz-custom-race.html"
    assert f"Custom: {FORMULA}" in data.decode()


def test_animations_on_a_custom_surface(result):
    gif, mime, _ = export.export(result, "gif", frames=6, width=640, height=400)
    image = Image.open(io.BytesIO(gif))
    assert mime == "image/gif" and image.n_frames == 6
    mp4, mime, _ = export.export(result, "mp4", frames=6, fps=6, hold=0, width=640, height=400)
    assert mime == "video/mp4" and mp4[4:8] == b"ftyp"


@needs_browser
def test_svg_shows_the_title_as_text(result):
    data, _, _ = export.export(result, "svg", view="race")
    root = ET.fromstring(data)
    texts = " ".join("".join(e.itertext()) for e in root.iter() if e.tag.endswith("text"))
    assert f"Custom: {FORMULA}" in texts


def test_a_title_is_never_markup_in_the_figures():
    from optiviz import figures

    assert figures._plain("Custom: <b>x</b> & y") == "Custom: &lt;b&gt;x&lt;/b&gt; &amp; y"


# ---- the app ------------------------------------------------------------------------------------

def _choose_custom(at, text=None):
    at.sidebar.selectbox(key="surface").set_value("custom").run()
    if text is not None:
        at.sidebar.text_input(key="surface.formula").set_value(text).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["read_equals_drawn"]
    return at


def test_choose_custom_type_a_formula_and_the_race_runs_on_it():
    at = start()
    assert "custom" in at.sidebar.selectbox(key="surface").options or \
        custom_surface.TITLE in at.sidebar.selectbox(key="surface").options
    _choose_custom(at, "x^2 + 3*y^2")
    model = chart(at)
    scene = json.loads(at.session_state["scene_json"])
    assert scene["surface"] == {"name": "custom", "formula": "x^2 + 3*y^2",
                                **{k: p.default for k, p in WINDOW_PARAMS.items()}}
    assert model["surface"]["title"] == "Custom: x^2 + 3*y^2"
    assert model["surface"]["bounds"] == [[-5.0, 5.0], [-5.0, 5.0]]
    assert model["surface"]["minima"] == [[0.0, 0.0]]
    expected = scenes.compute_scene(scenes.normalize_scene(scene))
    for run in expected.runs:
        np.testing.assert_allclose(path_of(model, run.label), run.trajectory.xy[:, 0],
                                   rtol=1e-6, atol=1e-6)
    # the formula and its exact gradient, shown back as LaTeX (one element), no error
    (latex,) = at.sidebar.latex
    assert "f(x, y) = x^{2} + 3 y^{2}" in latex.value
    assert r"\tfrac{\partial f}{\partial x} = 2 x" in latex.value
    assert r"\tfrac{\partial f}{\partial y} = 6 y" in latex.value
    assert not at.error and not at.warning
    assert at.query_params["formula"] == "x^2 + 3*y^2"
    # the window moves the plot and the start stays inside it
    at.sidebar.number_input(key="surface.xmax").set_value(1.0).run()
    model = chart(at)
    assert model["surface"]["bounds"][0] == [-5.0, 1.0]
    assert path_of(model, "Adam")[0][0] <= 1.0 + 1e-6
    assert at.query_params["surface"] == "custom~xmax~1.0"


def test_a_bad_formula_shows_one_error_and_keeps_the_last_valid_scene():
    at = _choose_custom(start(), "x^2 + 3*y^2")
    before, kept = chart(at), at.session_state["scene_json"]
    _choose_custom(at, "x^2 + 3*z^2")
    assert len(at.sidebar.error) == 1 and len(at.error) == 1
    shown = ui_text.rendered(at.error[0].body)
    assert "unknown name 'z' at column 9" in shown and "here: x^2 + 3*▸z^2" in shown
    assert not at.sidebar.latex                      # no formula shown for a refused one
    assert at.session_state["scene_json"] == kept
    after = chart(at)
    np.testing.assert_array_equal(path_of(after, "Adam"), path_of(before, "Adam"))
    assert at.query_params["formula"] == "x^2 + 3*y^2"     # the link keeps the valid scene
    # corrected: the race runs on the new formula
    _choose_custom(at, "x^2 + 5*y^2")
    assert not at.error and at.query_params["formula"] == "x^2 + 5*y^2"
    assert at.session_state["scene_json"] != kept


def test_a_bad_window_shows_one_error_and_the_page_stays():
    at = _choose_custom(start(), "x^2 + y^2")
    kept = at.session_state["scene_json"]
    at.sidebar.number_input(key="surface.xmin").set_value(6.0).run()
    assert not at.exception and at.session_state["read_equals_drawn"]
    assert len(at.error) == 1 and "xmin must be less than xmax" in ui_text.rendered(
        at.error[0].body)
    assert at.session_state["scene_json"] == kept and chart(at)["runs"]


def test_a_hostile_formula_in_a_link_is_refused_with_a_warning(tmp_path):
    marker = tmp_path / "pwned"
    at = start({"surface": "custom", "formula": f"__import__('os').system('touch {marker}')"})
    assert len(at.warning) == 1 and not at.error
    shown = ui_text.rendered(at.warning[0].body)
    assert "surface.formula" in shown and "column 12" in shown
    assert json.loads(at.session_state["scene_json"])["surface"]["name"] == "rosenbrock"
    assert chart(at)["runs"] and not marker.exists()


def test_the_share_link_round_trips_a_custom_surface():
    scene = custom_scene(start=[1.0, -2.0])
    at = start(url_state.scene_to_params(scene))
    assert not at.warning and not at.error
    assert json.loads(at.session_state["scene_json"]) == scene
    assert at.sidebar.text_input(key="surface.formula").value == FORMULA
    assert at.sidebar.number_input(key="surface.ymin").value == -3.0
    assert chart(at)["surface"]["title"] == f"Custom: {FORMULA}"
    np.testing.assert_allclose(path_of(chart(at), "Adam")[0], (1.0, -2.0), atol=1e-6)
    assert url_state.params_to_scene(dict(at.query_params))[0] == scene
    # and back to a catalog surface: the typed one's inputs are gone
    at.sidebar.selectbox(key="surface").set_value("himmelblau").run()
    assert not at.exception and not at.sidebar.text_input and not at.sidebar.latex


def test_typed_text_is_never_markdown_in_the_page():
    at = _choose_custom(start(), "x*y*x + 2_0*x")                # *y* would be emphasis
    caption = " ".join(c.value for c in at.caption)
    assert "Custom\\:\u2060 x\\*y\\*x \\+ 2\\_0\\*x" in caption
    _choose_custom(at, "[x](https://evil.example) <b>")
    body = at.error[0].body
    assert "here: ▸[x](https://evil.example) <b>" in ui_text.rendered(body)
    assert "](" not in body.replace("\\](", "").replace("\\(", "")


def test_the_latex_shown_is_only_sympys():
    assert custom_surface.safe_latex(r"f(x, y) = \sin{\left(x \right)}") is not None
    for bad in ("$$\\href{https://evil.example}{x}$$", "<b>x</b>", "x\ny", 7, ""):
        assert custom_surface.safe_latex(bad) is None


def test_the_gradient_is_shown_one_component_a_line():
    lines = custom_surface.latex_lines(landscapes.from_formula("x^2*y + atan2(y, x + 10)"))
    assert len(lines) == 3 and lines[0].startswith("f(x, y) = ")
    assert lines[1].startswith(r"\tfrac{\partial f}{\partial x} = 2 x y")
    assert lines[2].startswith(r"\tfrac{\partial f}{\partial y} = x^{2}")

    class Odd:          # a gradient that cannot be split exactly is shown whole
        formula, gradient_formula = "f(x, y) = x", r"\nabla f(x, y) = \left(1,\; 0,\; 0\right)"

    assert custom_surface.latex_lines(Odd()) == [Odd.formula, Odd.gradient_formula]


def test_the_error_pointer():
    assert custom_surface.pointer("x + z", 5) == "x + ▸z"
    assert custom_surface.pointer("x" * 100, 50).count("x") == 61
    assert custom_surface.pointer("x", None) is None and custom_surface.pointer("x", 9) is None
