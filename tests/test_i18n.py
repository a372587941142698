"""Korean and English: the catalogs agree, every key the code asks for exists, the English
catalog mirrors the text the packages keep, Korean reaches the app, the live view, the maps,
"why it moves", KaTeX (inside \\text{} only) and the exported pictures, whose Hangul is drawn as
glyphs, not as boxes (pixels compared)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

import landscapes
from landscapes.catalog import _CATALOG
from landscapes.formula import WINDOW_PARAMS
from optim_core import OPTIMIZERS, SCHEDULE_PARAMS, SCHEDULES
from optiviz import explain, i18n, live, map_view, messages, presets, url_state
from optiviz import scene as scenes

REPO = Path(__file__).resolve().parents[1]
EN, KO = i18n.catalog("en"), i18n.catalog("ko")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


# ---- the catalogs ---------------------------------------------------------------------------

def test_both_catalogs_have_the_same_keys():
    assert set(EN) == set(KO), (sorted(set(EN) - set(KO)), sorted(set(KO) - set(EN)))


def test_every_key_has_the_same_placeholders_in_both_languages():
    wrong = {k: (i18n.placeholders(EN[k]), i18n.placeholders(KO[k])) for k in EN
             if i18n.placeholders(EN[k]) != i18n.placeholders(KO[k])}
    assert not wrong, wrong


def test_no_string_is_empty_and_korean_is_korean():
    assert all(isinstance(v, str) and v.strip() for v in EN.values())
    assert all(isinstance(v, str) and v.strip() for v in KO.values())
    # Sentences (several English words) are translated, not copied.
    copied = [k for k, v in KO.items() if v == EN[k] and len(re.findall(r"[a-z]{3,}", v)) >= 3]
    assert not copied, copied


def test_placeholders_never_clash_with_t_and_every_string_formats():
    for catalog in (EN, KO):
        for key, text in catalog.items():
            names = i18n.placeholders(text)
            assert not names & {"key", "lang"}, key
            text.format(**{n: "X" for n in names})          # no stray brace


def _literal_keys(pattern: str, text: str) -> set[str]:
    return set(re.findall(pattern, text))


def test_every_key_the_code_asks_for_exists():
    """t("key") / ui_lang.t("key") / i18n.t("key") / _words("key") / _say("key") in Python,
    tr("key") and MARKS' key: "key" in the live view's JS ("live." + key); f-string and template
    keys by their fixed prefix."""
    missing, prefixes = [], []
    py_files = [*REPO.glob("*.py"), *REPO.glob("optiviz/*.py"), *REPO.glob("ui/*.py")]
    for path in py_files:
        src = path.read_text("utf-8")
        for m in re.finditer(r"""\b(?:t|_words|_say|i18n\.t|ui_lang\.t)\(\s*(f?)(["'])([^"']+)\2""",
                             src):
            is_f, key = m.group(1), m.group(3)
            if is_f and "{" in key:
                prefixes.append((path.name, key.split("{")[0]))
            elif key.count(".") >= 1 and not key.startswith(("http", "%")):
                if key not in EN:
                    missing.append((path.name, key))
    for path in (REPO / "static" / "live_view").glob("*.js"):
        src = path.read_text("utf-8")
        for key in _literal_keys(r"""\btr\(\s*"([^"]+)\"""", src) | \
                _literal_keys(r"""\bkey: "([^"]+)\"""", src):
            if f"live.{key}" not in EN:
                missing.append((path.name, key))
        for key in _literal_keys(r"""\btr\(\s*`([^`$]*)\$\{""", src) | \
                _literal_keys(r"""label\([^,]+, `([^`$]*)\$\{""", src):
            prefixes.append((path.name, "live." + key))
    assert not missing, missing
    for where, prefix in prefixes:
        assert any(k.startswith(prefix) for k in EN), (where, prefix)


def test_the_code_asks_for_enough_keys():
    """The search above finds the keys (it would pass vacuously if it matched nothing)."""
    src = (REPO / "ui" / "sidebar.py").read_text("utf-8") + (REPO / "app.py").read_text("utf-8")
    assert len(re.findall(r"""\bt\(\s*["']""", src)) >= 25


def test_dynamic_keys_cover_every_name():
    for name in SCHEDULES:
        assert f"schedule.name.{name}" in EN
        for p in SCHEDULE_PARAMS[name]:
            assert f"schedparam.{name}.{p.name}.label" in EN
    for name in OPTIMIZERS:
        assert f"optimizer.{name}.summary" in EN
    for name in landscapes.names():
        assert f"surface.{name}.title" in EN and f"surface.{name}.description" in EN
    for fmt in ("png", "svg", "gif", "mp4", "html", "csv", "json", "config"):
        assert f"export.format.{fmt}" in EN
    for view in ("race", "panels", "3d", "curves"):
        assert f"export.view.{view}" in EN
    for view in ("race", "side", "3d", "curves", "maps"):
        assert f"live.view.{view}" in EN
    for kind in map_view.KINDS:
        assert f"live.map.{kind}" in EN


def test_english_catalog_mirrors_the_packages_text():
    """optim_core and landscapes keep their English: the catalog repeats it word for word."""
    for name, spec in OPTIMIZERS.items():
        assert EN[f"optimizer.{name}.summary"] == spec.summary
        for p in spec.hyper:
            own = f"hyper.{name}.{p.name}"
            assert EN.get(own + ".label", EN[f"hyper.{p.name}.label"]) == (p.label or p.name)
            if p.help:
                assert EN.get(own + ".help", EN.get(f"hyper.{p.name}.help")) == p.help
    for name, params in SCHEDULE_PARAMS.items():
        for p in params:
            assert EN[f"schedparam.{name}.{p.name}.label"] == (p.label or p.name)
            assert EN.get(f"schedparam.{name}.{p.name}.help", "") == p.help
    for name, entry in _CATALOG.items():
        assert EN[f"surface.{name}.title"] == entry.title
        assert EN[f"surface.{name}.description"] == entry.description
        for pname, p in entry.params.items():
            assert EN[f"surfparam.{name}.{pname}.label"] == p.label
    for key, p in WINDOW_PARAMS.items():
        assert EN[f"surfparam.custom.{key}.label"] == p.label
    assert EN["custom.description"] == landscapes.get(
        "custom", formula="x^2 + y^2", xmin=-1, xmax=1, ymin=-1, ymax=1).description


def test_presets_read_their_english_from_the_catalog_and_have_korean():
    for p in presets.PRESETS:
        assert (p.title, p.lesson, p.watch) == p.text("en")
        title, lesson, watch = p.text("ko")
        assert HANGUL.search(title) and HANGUL.search(lesson) and HANGUL.search(watch)


def test_lookup_falls_back_and_normalizes():
    assert i18n.t("sidebar.surface", "ko") == KO["sidebar.surface"]
    assert i18n.t("sidebar.surface", "xx") == EN["sidebar.surface"]       # unknown language
    assert i18n.t("no.such.key", "ko") == "no.such.key"
    assert i18n.t("fig.step_of", "ko", step=3, total=50) == "스텝 3 / 50"
    assert i18n.normalize("ko-KR") == "ko" and i18n.normalize("en_US") == "en"
    assert i18n.normalize("<script>") == "en" and i18n.normalize(None) == "en"
    assert i18n.from_accept_language("fr-FR,ko;q=0.8,en;q=0.5") == "ko"
    assert i18n.from_accept_language("en-US,en;q=0.9,ko;q=0.8") == "en"
    assert i18n.from_accept_language("fr, de") is None
    assert i18n.from_accept_language("ko;q=0, en") == "en"


def test_the_korean_terms_of_the_lecture_notes_are_used():
    text = " ".join(KO.values())
    for term in ("경사하강법", "학습률", "모멘텀", "안장점", "지역 최솟값", "전역 최솟값", "기울기",
                 "발산", "편향 보정", "가중치 감쇠", "확률적 경사하강법", "지수 이동 평균"):
        assert term in text, term
    assert "학습률 (learning rate)" in KO["sidebar.lr"]          # the English term beside it


# ---- Korean in the model, the maps, why it moves, KaTeX --------------------------------------

@pytest.fixture(scope="module")
def result():
    scene = scenes.normalize_scene({**scenes.default_scene(), "steps": 60, "noise": 0.2})
    return scenes.compute_scene(scene)


def test_the_view_model_carries_its_words(result):
    en, ko = live.view_model(result, lang="en"), live.view_model(result, lang="ko")
    assert en["lang"] == "en" and ko["lang"] == "ko"
    assert set(en["text"]) == set(ko["text"]) and ko["text"] == i18n.section("live.", "ko")
    assert ko["text"]["why"] == "왜 이렇게 움직일까" and en["text"]["why"] == "Why it moves"
    assert HANGUL.search(ko["surface"]["title"]) and HANGUL.search(ko["loss_axis"]["title"])
    assert en["surface"]["title"] == result.surface.title
    assert en["runs"] == ko["runs"]                        # the numbers are the same
    assert live.model_bytes(ko) - live.model_bytes(en) < 12_000


def test_maps_and_why_it_moves_in_korean(result):
    basin = map_view.map_model(result, "basin")
    ko = map_view.localized(basin, "ko")
    assert map_view.localized(basin, "en") is basin and basin["note"].startswith("Each cell")
    assert HANGUL.search(ko["note"]) and all(HANGUL.search(i["label"]) for i in ko["legend"])
    spread = map_view.localized(map_view.map_model(result, "spread"), "ko")
    assert HANGUL.search(spread["note"]) and "0.2" in spread["note"]
    recorded = scenes.compute_scene(result.scene, record_state=True)
    for index in range(len(result.runs)):
        why = live.why_model(recorded, index)
        ko = live.why_text(why, "ko")
        assert ko["arrays"] is why["arrays"]
        for entry in ko["overlays"].values():
            assert not re.search(r"\b(the|of|at|so far|step)\b", entry["label"]), entry["label"]
        words = {w for line in ko["rule"] for seg in line if isinstance(seg, str)
                 for w in re.findall(r"[A-Za-z]{3,}", seg)}
        assert words <= {"max", "sign", "torch"}, words


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_why_labels_are_all_in_the_catalog(optimizer):
    import optim_core

    from optiviz import why as why_mod

    variants = {"momentum": {"dampening": 0.5}, "rmsprop": {"centered": True, "momentum": 0.5},
                "adagrad": {"lr_decay": 0.01}, "adamw": {"weight_decay": 0.1},
                "lion": {"weight_decay": 0.1}}
    for hyper in ({}, variants.get(optimizer, {})):
        traj = optim_core.run("rosenbrock", optimizer, (-1.5, 2.0), 8, lr=0.01,
                              record_state=True, **hyper)
        record = why_mod.why_record(traj)
        for entry in record["overlays"].values():
            if re.search(r"[a-z]{3,}", entry["label"]):
                assert i18n.known(entry["label"], "ko", "why.label.") != entry["label"], entry


def _outside_text(latex: str) -> str:
    return re.sub(r"\\text\{[^{}]*\}", "", latex)


def test_katex_has_korean_only_inside_text():
    for name in OPTIMIZERS:
        latex = explain.rule_latex(name, {}, 0.1, lang="ko")
        assert not HANGUL.search(_outside_text(latex)), name
    for name in SCHEDULES:
        for lr in (None, 0.1):
            latex = explain.schedule_latex({"name": name, **({"cooldown": 3} if name == "plateau" else {})},
                                           200, lr, lang="ko")
            assert not HANGUL.search(_outside_text(latex)), (name, latex)
            assert latex.count("{") == latex.count("}")
    assert HANGUL.search(explain.rule_latex("radam", {}, 0.1, lang="ko"))
    assert HANGUL.search(explain.schedule_latex({"name": "plateau"}, 100, 0.1, lang="ko"))
    assert explain.rule_latex("radam", {}, 0.1) == explain.rule_latex("radam", {}, 0.1, lang="en")


def test_describe_speaks_korean():
    text = explain.describe("momentum", "rosenbrock", "ko")
    assert text.startswith(KO["optimizer.momentum.summary"]) and KO["explain.rosenbrock.momentum"] in text
    assert explain.describe("adam", "custom", "ko") == KO["optimizer.adam.summary"]
    assert explain.describe("adam", "rosenbrock") == (OPTIMIZERS["adam"].summary + " "
                                                      + EN["explain.rosenbrock.adaptive"])


def test_comparison_caption_and_url_lang():
    scene = scenes.normalize_scene({**scenes.default_scene(), "noise": 0.5, "shared_lr": 0.01})
    assert scenes.comparison_caption(scene).startswith("Compared: one learning rate shared")
    assert HANGUL.search(scenes.comparison_caption(scene, "ko"))
    view, warnings = url_state.params_to_view({"lang": "ko"}, 100, ())
    assert view["lang"] == "ko" and not warnings
    for hostile in ("de", "<b>ko</b>", "ko" * 5000, "ko\u202e"):
        view, warnings = url_state.params_to_view({"lang": hostile}, 100, ())
        assert view["lang"] is None and len(warnings) == 1 and len(warnings[0]) < 200
    assert url_state.view_to_params("race", None, 100, None, lang="ko") == {"lang": "ko"}
    assert url_state.view_to_params("race", None, 100, None, lang="xx") == {}
    assert "lang" in url_state.VIEW_KEYS


# ---- messages about the user's own input (optiviz.messages) ------------------------------------

# What an English message is made of; none of it may be left once a message is in Korean (the
# user's own text, quoted, and the names the code knows (sgd, steps, ...) are data and stay).
FRAME_WORDS = re.compile(r"\b(ignored|using|must|got|unknown|allowed|column|valid|from the link|"
                         r"not a|is not|too long|the formula|the file|scene is|at most|needs|"
                         r"characters|digits|nested|expected|could not)\b", re.I)


def _frame(text: str) -> list[str]:
    """The English frame words of `text`, its quoted parts (the user's text) left out."""
    return FRAME_WORDS.findall(re.sub(r"'[^']*'|\"[^\"]*\"", "", text))


def test_every_message_shape_is_its_own_and_korean():
    """Each "msg." key, filled with plain values, is read back as that key (no shape hides
    another) and comes out in Korean; the values come through unchanged."""
    checked = 0
    for key, english in EN.items():
        if not key.startswith("msg.") and key not in messages.EXTRA_KEYS:
            continue
        values = {n: "7" if n in messages.DIGITS else f"V_{n}" for n in i18n.placeholders(english)}
        text = english.format(**values)
        nested = key.startswith(messages.PART)
        assert messages.shape_of(text, nested) == (key, values), key
        if not nested:
            assert messages.localize(text, "ko") == KO[key].format(**values), key
            assert HANGUL.search(messages.localize(text, "ko")), key
            assert messages.localize(text, "en") == text
        checked += 1
    assert checked > 150


def test_link_warnings_are_the_catalogs_english_and_read_in_korean():
    links = [{"steps": "-5", "noise": "inf", "seed": "x" * 50, "tol": "0", "lr": "1e9"},
             {"start": "1~2~3", "schedule": "name~step~gamma~7", "view": "nope"},
             {"surface": "rosenbrock~a~99", "o1": "foo~lr~0.1", "o2": "adam~lr~0.05~beta1~2",
              "o3": "rmsprop~lr~-1~centered~1", "o4": "sgd~lr~0.01~schedule~bogus",
              "o5": "adam~lr~abc", "o6": "lion~gamma~0.5", "o7": "nesterov~lr"},
             {"surface": "nowhere", "formula": "x"}, {"formula": "x +* z"},
             {"formula": "__import__('os')"}, {"formula": "sin(x, y)"}, {"formula": "X + y"},
             {"surface": "custom~xmin~9", "formula": "x*y"}, {"surface": "custom"},
             {"s": "$$x$$"}, {"s": "abc"}, {f"o{i}": "adam" for i in range(1, 16)},
             {"o1": "adam~lr~0.1~lr~0.2"}, {"schedule": "step~gamma~0.5"}, 42]
    seen = 0
    for params in links:
        _, warnings = url_state.params_to_scene(params)
        assert warnings, params
        for warning in warnings:
            ko = messages.localize(warning, "ko")
            assert HANGUL.search(ko) and not _frame(ko), (warning, ko)
            seen += 1
    view, warnings = url_state.params_to_view({"view": "x", "step": "-1", "lesson": "x",
                                               "why": "9", "present": "2", "lessons": "a,b",
                                               "lang": "de"}, 100, (), 2)
    assert len(warnings) == 7
    for warning in warnings:
        ko = messages.localize(warning, "ko")
        assert HANGUL.search(ko) and not _frame(ko), (warning, ko)
    assert seen > 30


def _errors(fn, cases) -> list[str]:
    out = []
    for case in cases:
        with pytest.raises(ValueError) as caught:
            fn(case)
        out.append(str(caught.value))
    return out


def test_the_cores_english_errors_read_in_korean():
    """The errors a Korean user can cause (a refused scene, file or typed formula) are the
    core's English API errors; the app shows them through messages.localize."""
    from optiviz import export

    base = scenes.default_scene()
    scene_cases = [{"steps": 0}, {"noise": -1}, {"seed": 10 ** 30}, {"start": [99, 0]},
                   {"start": "x"}, {"tolerance": "a"}, {"version": 3}, {"junk": 1},
                   {"optimizers": []}, {"optimizers": [{"optimizer": "adam", "lr": -1}]},
                   {"optimizers": [{"optimizer": "adam", "hyperparameters": {"beta1": 2}}]},
                   {"optimizers": [{"optimizer": "adam", "hyperparameters": {"gamma": 1}}]},
                   {"optimizers": [{"optimizer": "adam", "colour": 1}]},
                   {"optimizers": [{"optimizer": "rmsprop", "hyperparameters": {"centered": 2}}]},
                   {"optimizers": [{"optimizer": "nope"}]}, {"schedule": {"name": "nope"}},
                   {"schedule": {"name": "step", "gamma": 7}},
                   {"schedule": {"name": "step", "x": 1}}, {"schedule": [1]},
                   {"steps": 3, "schedule": {"name": "one_cycle", "pct_start": 0.1}},
                   {"surface": {"name": "himmelblau", "a": 1}}, {"surface": {"name": "nope"}},
                   {"surface": {"name": "rosenbrock", "a": "x"}}, {"surface": [1]},
                   {"surface": {"name": "custom"}},
                   {"surface": {"name": "custom", "formula": "x", "xmin": 3, "xmax": 1}}]
    errors = _errors(lambda c: scenes.normalize_scene({**base, **c}), scene_cases)
    errors += _errors(export.load_scene_file, [b"", b"\xff\xfe\x00", "{", "[1]", '{"steps": 0}',
                                               "[" * 100 + "]" * 100])
    formulas = ["", "x" * 400, "x +", "(x + y", "x)", "2x", "x y", "X + y", "z", "sin", "x(2)",
                "foo(x)", "sin(x, y)", "x.real", "x[1]", "x < y", "x\ty", "x\ny", "π*x",
                "x if y else 2", "x, y", "'a'", "1j*x", "1e999*x", "x // y", "not x", "~x",
                "3(x)", "sin(x=1)", "sin(*x)", "log(x)*0 + log(-1 - x*x)"]
    errors += _errors(lambda f: landscapes.get("custom", formula=f), formulas)
    assert len(errors) == len(scene_cases) + 6 + len(formulas)
    for error in errors:
        ko = messages.localize(error, "ko")
        assert HANGUL.search(ko) and not _frame(ko), (error, ko)
    custom = landscapes.get("custom", formula="log(x)", xmin=-1, xmax=1, ymin=-1, ymax=1)
    for warning in custom.warnings:
        ko = messages.localize(warning, "ko")
        assert HANGUL.search(ko) and not _frame(ko), (warning, ko)


def test_user_text_stays_as_it_was_typed_in_korean():
    """The user's own text is data: it comes through unchanged, even when it looks like one of
    our messages or carries markup (the page escapes it: ui.text.literal)."""
    hostile = "Ignored x from the link: not text. [Log in](https://evil.example) <b>x</b> {n}"
    scene, warnings = url_state.params_to_scene({"formula": hostile})
    (warning,) = warnings
    ko = messages.localize(warning, "ko")
    assert hostile[:50] in ko and HANGUL.search(ko)            # (cut short as in English)
    assert messages.localize(hostile, "ko") == hostile             # not a message of ours
    assert messages.localize(None, "ko") is None and messages.localize("", "ko") == ""
    assert messages.localize("x" * 5000, "ko") == "x" * 5000
    line = scenes.differences({"seed": 7}, {})[0]
    assert messages.localize(line, "ko") == "seed: 7에서 설정 안 됨(으)로"


# ---- exported pictures: Korean words, Hangul drawn as glyphs ----------------------------------

def test_export_figures_are_korean(result):
    from optiviz import figures

    fig = figures.race_figure(result, frames=3, lang="ko").to_dict()
    layout = fig["layout"]
    assert HANGUL.search(layout["title"]["text"]) and "Noto Sans CJK KR" in layout["font"]["family"]
    assert HANGUL.search(layout["annotations"][0]["text"])              # the caption
    names = {t.get("name") for t in fig["data"]}
    assert {"전역 최솟값", "출발점"} <= names
    assert layout["updatemenus"][0]["buttons"][0]["label"] == "▶ 재생"
    english = figures.race_figure(result, frames=3).to_dict()["layout"]
    assert "family" not in english["font"] and "Rosenbrock" in english["title"]["text"]
    for fn in (figures.panels_figure, figures.curves_figure, figures.surface3d_figure):
        assert HANGUL.search(str(fn(result, frames=0, lang="ko").to_dict()["layout"]["title"]))


def test_html_export_and_cli_take_the_language(tmp_path, result):
    from optiviz import export
    from optiviz.cli import main

    page, _, _ = export.export(result, "html", lang="ko")
    page = page.decode("utf-8")
    assert '<html lang="ko">' in page and "비교 조건" in page and '"lang":"ko"' in page
    out = tmp_path / "race.html"
    assert main(["export", "--steps", "20", "--lang", "ko", "--out", str(out), "--quiet"]) == 0
    assert "비교 조건" in out.read_text("utf-8")
    assert main(["export", "--lang", "fr", "--out", str(out), "--quiet"]) == 2


def _ink_box(image: Image.Image, box) -> np.ndarray:
    return np.asarray(image.convert("L").crop(box), dtype=np.int16)


def test_pil_draws_hangul_glyphs_not_boxes():
    """GIF and MP4 text is drawn by PIL: two different syllables give two different pictures
    (a missing glyph is the same box for both), and the CJK font differs from a Latin one."""
    from optiviz import animation

    assert animation.cjk_font_file() is not None, "install a CJK font: apt-get install fonts-noto-cjk"

    def draw(text, font):
        image = Image.new("L", (220, 80), 255)
        ImageDraw.Draw(image).text((10, 10), text, font=font, fill=0)
        return np.asarray(image, dtype=np.int16)

    cjk = animation._font_for("가", 48)
    a, b = draw("가", cjk), draw("나", cjk)
    assert (a < 128).sum() > 80 and (b < 128).sum() > 80, "the glyphs are drawn"
    assert np.abs(a - b).sum() > 255 * 60, "two syllables, two glyphs (not two identical boxes)"
    latin = animation._font(48)                       # Liberation/DejaVu: no Hangul
    assert np.abs(draw("가", latin) - a).sum() > 255 * 60
    assert animation._font_for("step 3", 20) is animation._font(20)


def test_korean_gif_frames_draw_the_korean_counter(result):
    from optiviz import animation

    ko = animation.Animation(result, frames=2, background="pil", lang="ko", width=600, height=400)
    en = animation.Animation(result, frames=2, background="pil", width=600, height=400)
    assert ko.still["layout"]["title"]["text"] != en.still["layout"]["title"]["text"]
    a, b = np.asarray(ko.frame(60).convert("L")), np.asarray(en.frame(60).convert("L"))
    top = (slice(0, 40), slice(300, 600))                 # the step counter, top right
    assert np.abs(a[top].astype(int) - b[top]).sum() > 255 * 50
    gif = animation.gif_bytes(result, frames=2, background="pil", lang="ko", width=500, height=320)
    assert Image.open(io.BytesIO(gif)).n_frames == 2


def _caption_png(result, caption: str) -> Image.Image:
    from optiviz import export

    data, _, _ = export.export(result, "png", view="curves", scale=1, caption=caption, lang="ko",
                               width=700, height=360)
    return Image.open(io.BytesIO(data)).convert("RGB")


def test_png_export_draws_hangul_glyphs_not_boxes(result):
    """Chromium (kaleido) draws the caption: two captions of different syllables differ where
    the caption is; with the glyphs missing both would be the same row of boxes."""
    from optiviz import export

    if not export.renderer.running() and export.browser_path() is None:
        pytest.fail("PNG export needs Chromium: apt-get install chromium")
    a, b = _caption_png(result, "가가가가 가가가가"), _caption_png(result, "나나나나 다다다다")
    assert a.size == b.size
    diff = np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).sum(axis=2)
    rows = np.nonzero(diff.sum(axis=1) > 0)[0]
    assert rows.size, "the captions were drawn identically: Hangul is missing (boxes)"
    assert rows.min() > a.size[1] * 0.75, "only the caption (at the bottom) differs"
    ink = (np.asarray(a.convert("L"))[rows.min():rows.max() + 1] < 160).sum()
    assert ink > 150, "the caption has ink"


# ---- the app (AppTest) ----------------------------------------------------------------------

def test_the_link_opens_the_app_in_korean():
    from test_app import chart, start

    at = start({"lang": "ko"})
    assert not at.warning
    labels = {w.label for w in at.sidebar.selectbox} | {w.label for w in at.sidebar.multiselect} \
        | {w.label for w in at.sidebar.toggle} | {e.label for e in at.sidebar.expander}
    assert {"손실 곡면 (surface)", "옵티마이저 (optimizer)", "프리셋: 하나에 아이디어 하나"} <= labels
    assert at.segmented_control(key="lang_pick").value == "ko"
    model = chart(at)
    assert model["lang"] == "ko" and model["text"]["why"] == "왜 이렇게 움직일까"
    assert model["text"] == i18n.section("live.", "ko")
    assert HANGUL.search(model["surface"]["title"])
    assert any(HANGUL.search(c.value) for c in at.caption)        # the surface and comparison
    assert at.query_params["lang"] == "ko"                        # the share link keeps it
    lesson = start({"lesson": "saddle_stall", "lang": "ko"})
    assert any(presets.get_preset("saddle_stall").text("ko")[2] in i.value for i in lesson.info)
    assert lesson.query_params["lesson"] == "saddle_stall"        # still a lesson's short link


def test_switching_the_language_keeps_the_scene():
    from test_app import chart, path_of, start

    at = start({"lesson": "momentum_overshoot"})
    assert chart(at)["lang"] == "en" and at.query_params["lang"] == "en"
    scene, steps = at.session_state["scene_json"], chart(at)["steps"]
    before = path_of(chart(at), "Momentum")
    at.segmented_control(key="lang_pick").set_value("ko").run()
    assert not at.exception
    model = chart(at)
    assert model["lang"] == "ko" and at.query_params["lang"] == "ko"
    assert at.session_state["scene_json"] == scene and model["steps"] == steps
    np.testing.assert_array_equal(path_of(model, "Momentum"), before)
    assert at.query_params["lesson"] == "momentum_overshoot"
    assert at.sidebar.selectbox(key="surface").label == "손실 곡면 (surface)"
    at.segmented_control(key="lang_pick").set_value(None).run()       # a click on the chosen one
    assert chart(at)["lang"] == "ko" and at.segmented_control(key="lang_pick").value == "ko"
    at.segmented_control(key="lang_pick").set_value("en").run()
    assert chart(at)["lang"] == "en" and at.session_state["scene_json"] == scene
    assert at.sidebar.selectbox(key="surface").label == "Surface"


def test_a_hostile_lang_in_the_link_is_ignored_with_a_warning():
    from test_app import chart, start

    at = start({"lang": "<img src=x onerror=alert(1)>"})
    assert chart(at)["lang"] == "en"
    from ui import text as ui_text

    assert any("Ignored lang=" in ui_text.rendered(w.value) for w in at.warning)
    assert at.query_params["lang"] == "en"


def test_a_korean_page_says_what_it_could_not_use_in_korean():
    """A partly invalid, hostile link opened in Korean: one warning box, in Korean, the link's
    own text shown literally (never Markdown); a typed formula's error in Korean too."""
    from test_app import start
    from test_hostile_input import FORBIDDEN, html_of, visible_text

    at = start({"lang": "ko", "steps": "0", "o1": "adam~lr~abc", "view": "nope",
                "formula": "[Log in](https://evil.example) <b>x</b>"})
    (box,) = at.warning
    shown = visible_text(box.body)
    assert not FORBIDDEN.search(html_of(box.body)) and "<a " not in html_of(box.body)
    assert "formula=[Log in](https://evil.example) <b>x</b>" in shown     # literally
    assert shown.startswith(KO["app.not_loaded_many"].format(n=4))
    lines = [line for line in shown.splitlines()[1:] if line.strip()]
    assert len(lines) == 4
    for line in lines:
        assert HANGUL.search(line) and not _frame(line), line
    assert "링크의 steps=0을(를) 무시했습니다" in shown
    typed = start({"lang": "ko", "formula": "x^2 + y^2"})
    typed.sidebar.text_input(key="surface.formula").set_value("sin(x) + z").run()
    (error,) = typed.sidebar.error
    text = visible_text(error.body)
    assert "10번째 열의 'z'은(는) 알 수 없는 이름입니다" in text and not _frame(text), text
    english = start({"steps": "0"})
    assert "Ignored steps=0 from the link" in visible_text(english.warning[0].body)
