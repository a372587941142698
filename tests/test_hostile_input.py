"""Hostile input: links, scene files and command lines never raise, never render user text as
Markdown or HTML, and never load a scene other than the one they say without saying so.

The Markdown checks parse the app's message bodies with markdown-it-py (an independent
CommonMark parser, with GFM strikethrough and tables on), not with the code under test.
"""

from __future__ import annotations

import io
import json
import os
import re
from contextlib import redirect_stderr
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from optim_core import OPTIMIZERS, SCHEDULE_PARAMS
from optiviz import cli, export, url_state
from optiviz import scene as scenes
from optiviz.text import plain
from ui.text import literal, notice_body, rendered

APP = str(Path(__file__).resolve().parents[1] / "app.py")
MD = MarkdownIt("commonmark").enable(["strikethrough", "table"])
# Tags a message body must never produce from its text (our own list markup aside).
FORBIDDEN = re.compile(r"<(a|img|em|strong|s|del|code|pre|script|b|i|h\d|table|iframe)\b", re.I)
BIG = int("9" * 400)
# More examples for a long local hunt: HOSTILE_EXAMPLES=2000 python -m pytest tests/test_hostile_input.py
SCALE = max(1, int(os.environ.get("HOSTILE_EXAMPLES", "0")) // 40)

PAYLOADS = [
    "[Log in here](https://evil.example)",
    "![x](https://evil.example/p.png)",
    "<b>bold</b><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "**strong** __import__ _em_ *em*",
    "~strike~ ~~strike~~",
    "$$x^2$$ and $y$",
    ":smile: :red[alert] :material/home:",
    "`code` ```fence```",
    "# heading\n- item\n1. one",
    "    indented code",
    "https://evil.example www.evil.example a@evil.example",
    "&amp; &lt;b&gt; &#x3C;",
    "\u202egnp.exe \u200b\u2066x\u2069",
    "line\nbreak\r\ttab\x00nul\x1b[31mred",
    "x" * 5000,
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "\\[escaped\\] \\\\",
]


def html_of(markdown: str) -> str:
    return MD.render(markdown)


def visible_text(markdown: str) -> str:
    """The text a reader sees: markdown-it's HTML with its tags removed and entities decoded."""
    import html
    return html.unescape(re.sub(r"<[^>]+>", "", html_of(markdown))).replace("\u2060", "").strip()


# ---- the escaping helper, against a table of payloads --------------------------------------

@pytest.mark.parametrize("payload", PAYLOADS)
def test_literal_renders_exactly_the_text(payload):
    body = literal(payload)
    assert not FORBIDDEN.search(html_of(body)), html_of(body)
    assert visible_text(body) == plain(payload)          # the same characters, nothing else
    assert rendered(body) == plain(payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_plain_is_one_short_line_with_nothing_hidden(payload):
    text = plain(payload, 120)
    assert len(text) <= 120 and "\n" not in text and "\r" not in text
    assert not any(ord(c) < 32 or c in "\u202e\u200b\u2066\u2069\x7f" for c in text)


def test_known_payloads_are_shown_literally():
    assert visible_text(literal("[Log in here](https://evil.example)")) == \
        "[Log in here](https://evil.example)"
    assert visible_text(literal("~x~ __import__")) == "~x~ __import__"
    assert visible_text(literal("\u202eabc")) == "\\u202eabc"
    assert visible_text(literal("y" * 1000, 50)) == "y" * 49 + "…"


def test_notice_lists_a_few_then_says_how_many_more():
    body = notice_body("Title:", [f"item {i}" for i in range(9)], max_items=4)
    lines = body.splitlines()
    assert len(lines) == 6 and lines[-1] == "- and 5 more"
    assert html_of(body).count("<li>") == 5


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_literal_never_produces_markup(text):
    body = literal(text)
    assert not FORBIDDEN.search(html_of(body))
    assert visible_text(body) == plain(text).strip()


# ---- generators: links and scene files from the real names, and junk ------------------------

NAMES = st.sampled_from(["rosenbrock", "himmelblau", "saddle", "beale", "ackley", *OPTIMIZERS,
                         *SCHEDULE_PARAMS, "name", "lr", "schedule", "momentum", "beta1",
                         "beta2", "eps", "rho", "T_max", "step_size", "gamma", "a", "b",
                         "__import__", "[x](https://evil.example)", "true", "null"])
NUMBERS = st.one_of(st.integers(-10, 10_000), st.integers(2**31 - 3, 2**32 + 3),
                    st.floats(allow_nan=True, allow_infinity=True), st.just(BIG),
                    st.sampled_from([0, 1, 5, 1e-12, 1e-9, 0.999, 1.0, 2.0, 5000, 100000, 1e400]))
TOKENS = st.one_of(NAMES, NUMBERS.map(lambda v: repr(v)), st.sampled_from(PAYLOADS[:12]),
                   st.text(max_size=12))
VALUES = st.lists(TOKENS, min_size=1, max_size=8).map("~".join)
KEYS = st.sampled_from(["surface", "start", "steps", "noise", "seed", "tol", "lr", "schedule",
                        "s", "view", "junk", "formula", *[f"o{i}" for i in range(1, 13)]])
LINKS = st.dictionaries(KEYS, st.one_of(VALUES, st.sampled_from(PAYLOADS)), max_size=7)

JSON_LEAVES = st.one_of(NUMBERS, st.booleans(), st.none(), NAMES, st.sampled_from(PAYLOADS[:6]))
JSON_ANY = st.recursive(JSON_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(NAMES, inner, max_size=4)), max_leaves=12)
ENTRY = st.fixed_dictionaries({"optimizer": st.one_of(st.sampled_from(list(OPTIMIZERS)), NAMES)},
                              optional={"lr": JSON_LEAVES, "hyperparameters": st.dictionaries(
                                  NAMES, JSON_LEAVES, max_size=3), "schedule": JSON_ANY})
# Typed surfaces (issue 13): formulas that are hostile, huge, valid, or not text at all.
FORMULAS = st.one_of(st.sampled_from([
    "sin(x)*cos(y) + 0.1*(x^2 + y^2)", "x*y*x", "__import__('os').system('id')", "x.__class__",
    "((9**9)**99)**99", "sqrt(x)", "1/0", "sqrt(-1)*x", "log(0)", "[x](https://evil.example)",
    "x" * 400, "‮x + y", "ｘ + y", *PAYLOADS[:8]]), st.text(max_size=20), JSON_LEAVES)
CUSTOM = st.fixed_dictionaries({"name": st.just("custom")}, optional={
    "formula": FORMULAS, "xmin": NUMBERS, "xmax": NUMBERS, "ymin": NUMBERS, "ymax": NUMBERS,
    "start_x": NUMBERS, "start_y": NUMBERS, "junk": JSON_LEAVES})
SCENE_FILES = st.fixed_dictionaries({}, optional={
    "surface": st.one_of(NAMES, st.fixed_dictionaries({"name": NAMES}, optional={"a": NUMBERS}),
                         CUSTOM),
    "start": st.one_of(st.lists(NUMBERS, max_size=3), JSON_LEAVES),
    "steps": JSON_LEAVES, "noise": JSON_LEAVES, "seed": JSON_LEAVES, "tolerance": JSON_LEAVES,
    "shared_lr": JSON_LEAVES, "schedule": JSON_ANY, "version": JSON_LEAVES,
    "optimizers": st.one_of(st.lists(ENTRY, max_size=12), JSON_ANY), "junk": JSON_ANY})


def _dumps(value) -> str:
    return json.dumps(value, default=str)          # NaN and Infinity as Python's json writes them


# ---- the app: links ----------------------------------------------------------------------------

def _run_link(params: dict) -> AppTest:
    """The link opened, its controls drawn (as after the live view's first picture)."""
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.session_state["controls_ready"] = True
    at.run()
    return at


def _assert_sound(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    views = [v for v in at.get("bidi_component")
             if v.proto.component_name == "optimizer_race_live_view"]
    assert len(views) == 1 and json.loads(views[0].proto.json)["runs"], "no chart"
    boxes = [*at.warning, *at.error, *at.info]
    assert len(at.warning) <= 1, [w.body for w in at.warning]
    for box in boxes:
        produced = html_of(box.body)
        assert not FORBIDDEN.search(produced.replace("<strong>", "").replace("</strong>", "")
                                    if box in at.info else produced), box.body


def _scene_in_url(at: AppTest) -> dict:
    query = {k: at.query_params[k] for k in at.query_params}
    query = {k: v[-1] if isinstance(v, list) else v for k, v in query.items()}
    return url_state.params_to_scene(query)[0]


@given(LINKS)
@settings(max_examples=40 * SCALE, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_link_gives_a_chart_one_warning_at_most_and_no_markup(params):
    at = _run_link(params)
    _assert_sound(at)
    # The page shows the scene the link reads as, unless its one warning says what changed.
    wanted, _ = url_state.params_to_scene(params)
    said = " ".join(rendered(w.body) for w in at.warning)
    if "changed " not in said:
        assert scenes.scene_to_json(_scene_in_url(at)) == scenes.scene_to_json(wanted)


@pytest.mark.parametrize("params", [
    {"surface": "[Log in here](https://evil.example)"},
    {"surface": "rosenbrock~a~~~strike~~", "o1": "__import__"},
    {"o1": "<img src=x onerror=alert(1)>"},
    {"s": "$$x$$"},
    {"steps": "5"}, {"steps": "1"}, {"steps": "4999"}, {"steps": "2001"},
    {"seed": str(2**31)}, {"seed": str(2**32 - 1)},
    {"schedule": "name~cosine~T_max~5000"}, {"schedule": "name~step~step_size~3000"},
    {"schedule": "name~plateau~patience~100000~cooldown~99999"},
    {"schedule": "name~linear~total_iters~100000"}, {"schedule": "name~inverse_sqrt~warmup_steps~9999"},
    {"schedule": "name~one_cycle~max_lr~1"}, {"o1": "adam~lr~0.05~beta1~0.995"},
    {"o1": "sgd~lr~1e-9"}, {"lr": "1e-8"}, {"lr": "1000"}, {"noise": "0.07"}, {"tol": "1e-12"},
    {f"o{i}": "adam" for i in range(1, 60)},
])
def test_known_links(params):
    at = _run_link(params)
    _assert_sound(at)
    wanted, warnings = url_state.params_to_scene(params)
    said = " ".join(rendered(w.body) for w in at.warning)
    assert "changed " not in said, said            # these all load exactly as written
    assert scenes.scene_to_json(_scene_in_url(at)) == scenes.scene_to_json(wanted)
    assert bool(at.warning) == bool(warnings)


def test_many_optimizers_give_one_short_warning():
    at = _run_link({f"o{i}": "adam" for i in range(1, 60)})
    assert len(at.warning) == 1
    assert html_of(at.warning[0].body).count("<li>") <= 5
    assert "at most 10 optimizers" in rendered(at.warning[0].body)


@pytest.mark.parametrize("formula", [
    "[Log in here](https://evil.example)", "<img src=x onerror=alert(1)>",
    "**strong** $x^2$ :smile:", "__import__('os').system('id')",
])
def test_a_refused_formula_in_a_link_is_shown_as_text(formula):
    at = _run_link({"formula": formula})
    _assert_sound(at)
    (box,) = at.warning
    assert not FORBIDDEN.search(html_of(box.body)) and "katex" not in html_of(box.body)
    assert f"formula={formula}" in visible_text(box.body)          # literally, as typed
    assert _scene_in_url(at)["surface"]["name"] == "rosenbrock"


def test_a_formula_with_markdown_characters_in_a_link_shows_literally():
    """Valid formulas can hold '*' and '_' (1_0 is ten): never emphasis on the page."""
    formula = "x*y*x + 1_0*y*x_"[:-1]
    at = _run_link({"formula": formula})
    _assert_sound(at)
    assert not at.warning and not at.error
    assert _scene_in_url(at)["surface"] == {"name": "custom", "formula": formula, "xmin": -5.0,
                                            "xmax": 5.0, "ymin": -5.0, "ymax": 5.0}
    for element in (*at.caption, *at.markdown):
        produced = html_of(element.value)
        assert "<em>" not in produced and "<strong>" not in produced, element.value
    captions = " ".join(visible_text(c.value) for c in at.caption)
    assert f"Custom: {formula}" in captions
    assert at.sidebar.text_input(key="surface.formula").value == formula
    (latex,) = at.sidebar.latex                     # SymPy's LaTeX of the vetted tree
    assert "x^{2} y" in latex.value and "10 x y" in latex.value


def test_a_hostile_formula_typed_in_the_sidebar_is_shown_as_text():
    at = _run_link({"formula": "x^2 + y^2"})
    at.sidebar.text_input(key="surface.formula").set_value(
        "[Log in here](https://evil.example) <b>x</b> $$y$$").run()
    assert not at.exception
    errors = list(at.sidebar.error)
    assert len(errors) == 1 and not at.sidebar.latex
    produced = html_of(errors[0].body)
    assert not FORBIDDEN.search(produced) and "katex" not in produced
    assert "here: ▸[Log in here](https://evil.exam…" in visible_text(errors[0].body)
    assert _scene_in_url(at)["surface"]["formula"] == "x^2 + y^2"   # the last valid one


def test_markdown_link_in_a_link_is_shown_as_text():
    at = _run_link({"surface": "[Log in here](https://evil.example)"})
    body = at.warning[0].body
    assert "<a " not in html_of(body)
    assert "[Log in here](https://evil.example)" in visible_text(body)


def test_a_scene_the_controls_cannot_show_is_reported(monkeypatch):
    """The app compares what its controls show with what was loaded; a difference is listed."""
    loaded = scenes.normalize_scene({**scenes.default_scene(), "seed": 7})
    shown = scenes.normalize_scene({**scenes.default_scene(), "seed": 0})
    assert scenes.differences(loaded, shown) == ["seed: 7 → 0"]
    assert scenes.differences(loaded, loaded) == []


# ---- scene files and the command line ------------------------------------------------------------

@given(st.one_of(SCENE_FILES, JSON_ANY))
@settings(max_examples=400 * SCALE, deadline=None, suppress_health_check=list(HealthCheck))
def test_scene_files_are_loaded_or_refused_in_one_line(raw):
    try:
        scene = export.load_scene_file(_dumps(raw))
    except ValueError as err:
        assert "\n" not in str(err) and len(str(err)) <= 400
    else:
        assert scenes.normalize_scene(scene) == scene


@pytest.mark.parametrize("field", ["tolerance", "noise", "shared_lr", "steps", "seed"])
def test_huge_integers_are_refused_naming_the_field(field):
    with pytest.raises(ValueError, match=field):
        export.load_scene_file(f'{{"{field}": {"9" * 400}}}')


@pytest.mark.parametrize("text", [
    '{"start": [%s, 1]}' % ("9" * 400),
    '{"optimizers": [{"optimizer": "adam", "lr": %s}]}' % ("9" * 400),
    '{"optimizers": [{"optimizer": "adam", "hyperparameters": {"beta1": %s}}]}' % ("9" * 400),
    '{"schedule": {"name": "step", "gamma": %s}}' % ("9" * 400),
    '{"surface": {"name": "rosenbrock", "a": %s}}' % ("9" * 400),
    '{"steps": NaN}', '{"noise": Infinity}', '{"seed": -Infinity}', '{"steps": true}',
    '{"steps": "500"}', '{"start": [[1], 2]}', '{"optimizers": [[[[[[[[[[]]]]]]]]]]}',
])
def test_bad_numbers_in_files_are_refused(text):
    with pytest.raises(ValueError):
        export.load_scene_file(text)


def _cli(argv, stdin: str | None = None, monkeypatch=None) -> tuple[int, str]:
    err = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    with redirect_stderr(err):
        code = cli.main(argv)
    return code, err.getvalue()


@given(st.one_of(SCENE_FILES, JSON_ANY))
@settings(max_examples=60 * SCALE, deadline=None, suppress_health_check=list(HealthCheck))
def test_cli_config_exits_0_or_2_with_one_line(tmp_path_factory, raw):
    folder = tmp_path_factory.mktemp("cfg")
    config = folder / "scene.json"
    config.write_text(_dumps(raw))
    code, err = _cli(["export", "--config", str(config), "--format", "config", "--out",
                      str(folder / "out.json"), "--quiet"])
    assert code in (0, 2), err
    assert code == 0 or (err.count("\n") == 1 and err.startswith("error: ")), err
    assert "internal error" not in err and "Traceback" not in err


FLAGS = st.lists(st.sampled_from([
    ["--steps", "5"], ["--steps", "9" * 400], ["--seed", str(2**32)], ["--seed", "9" * 400],
    ["--noise", "1e400"], ["--noise", "nan"], ["--tolerance", "-1"], ["--start", "1e400", "0"],
    ["--schedule", "step:gamma=" + "9" * 400], ["--schedule", '{"name": "step", "gamma": %s}'
                                                  % ("9" * 400)],
    ["--schedule", "[x](https://evil.example)"], ["--optimizer", "adam:lr=" + "9" * 400],
    ["--optimizer", "adam:beta1=" + "9" * 400], ["--optimizer", "\u202eadam"],
    ["--surface", "rosenbrock:a=" + "9" * 400], ["--surface", "<b>x</b>"],
    ["--shared-lr", "9" * 400], ["--shared-lr", "0.01"], ["--optimizer", "sgd:lr=0.01"],
    ["--formula", "x^2 + 3*y^2"], ["--formula", "__import__('os').system('id')"],
    ["--formula", "[x](https://evil.example)\u202e"], ["--formula", "((9**9)**99)**99"],
    ["--formula", "sin(x)\n+ y"], ["--surface", "custom"], ["--window", "-1", "1", "-1", "1"],
    ["--window", "1e400", "0", "0", "1"], ["--window", "3", "-3", "nan", "3"],
]), max_size=4).map(lambda parts: [a for part in parts for a in part])


@given(FLAGS)
@settings(max_examples=60 * SCALE, deadline=None, suppress_health_check=list(HealthCheck))
def test_cli_flags_exit_0_or_2_with_one_line(tmp_path_factory, flags):
    out = tmp_path_factory.mktemp("out") / "scene.json"
    code, err = _cli(["export", *flags, "--format", "config", "--out", str(out), "--quiet"])
    assert code in (0, 2), err
    assert code == 0 or (err.count("\n") == 1 and err.startswith("error: ")), err
    assert not any(ord(c) < 32 and c != "\n" or c == "\u202e" for c in err), repr(err)


def test_cli_config_from_stdin_with_a_huge_number(monkeypatch, tmp_path):
    code, err = _cli(["export", "--config", "-", "--format", "config", "--out",
                      str(tmp_path / "x.json")], stdin='{"tolerance": %s}' % ("9" * 400),
                     monkeypatch=monkeypatch)
    assert code == 2 and "tolerance" in err and "internal error" not in err
