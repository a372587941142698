"""Exports: every format produced by the functions and checked for what it must contain."""

from __future__ import annotations

import io
import json
import math
import re
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from optiviz import animation, export, figures
from optiviz.presets import preset_keys, preset_scene
from optiviz.scene import compute_scene, default_scene, normalize_scene

needs_browser = pytest.mark.skipif(export.browser_path() is None,
                                   reason="no Chrome/Chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def result():
    return compute_scene(normalize_scene(default_scene()))


@pytest.fixture(scope="module")
def short():
    """A quick scene with a run that diverges (NaN rows) next to one that does not."""
    scene = normalize_scene({"surface": {"name": "six_hump_camel"}, "steps": 60,
                             "optimizers": [{"optimizer": "sgd", "lr": 0.2},
                                            {"optimizer": "adam", "lr": 0.1}]})
    res = compute_scene(scene)
    assert int(res.runs[0].trajectory.diverged_at[0]) > 0
    assert int(res.runs[1].trajectory.diverged_at[0]) == -1
    return res


def _hex(color: str) -> tuple[int, int, int]:
    return tuple(int(color.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))


def _has_color(image: Image.Image, rgb, at_least: int = 20) -> bool:
    a = np.asarray(image.convert("RGB")).reshape(-1, 3)
    return int(np.all(a == np.array(rgb), axis=1).sum()) >= at_least


# --------------------------------------------------------------------------------------------
# PNG, SVG


@needs_browser
def test_png_size_not_blank_and_second_is_fast(result):
    data, mime, name = export.export(result, "png", view="race", scale=1, width=900, height=540)
    assert mime == "image/png" and name.endswith("-race.png")
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (900, 540)
    assert np.asarray(image.convert("L"), dtype=np.float64).std() > 20      # not blank
    start = time.perf_counter()
    data2, _, _ = export.export(result, "png", view="race", scale=2, width=900, height=540)
    elapsed = time.perf_counter() - start
    assert Image.open(io.BytesIO(data2)).size == (1800, 1080)              # 2x for slides
    assert elapsed < 3.0, f"second PNG took {elapsed:.2f} s (the browser should stay up)"
    # the runs' colours are in the picture
    for run in result.runs:
        assert _has_color(Image.open(io.BytesIO(data2)), _hex(run.color)), run.label


@needs_browser
@pytest.mark.parametrize("view", ["panels", "curves"])
def test_png_other_views(result, view):
    data, _, name = export.export(result, "png", view=view, scale=1, step=200)
    image = Image.open(io.BytesIO(data))
    assert name.endswith(f"-{view}.png")
    assert image.size[0] == 1100 and image.size[1] > 300
    assert np.asarray(image.convert("L"), dtype=np.float64).std() > 10


@needs_browser
def test_svg_parses_and_has_the_paths(result):
    data, mime, name = export.export(result, "svg", view="race")
    assert mime == "image/svg+xml" and name.endswith(".svg")
    root = ET.fromstring(data)
    assert root.tag.endswith("svg")
    paths = [e for e in root.iter() if e.tag.endswith("path")]
    assert len(paths) > 50
    text = data.decode("utf-8")
    for run in result.runs:
        assert run.label.replace("&", "&amp;") in text
    # the trajectory lines are drawn as SVG paths in the runs' colours
    for run in result.runs:
        rgb = "rgb({}, {}, {})".format(*_hex(run.color))
        assert any(rgb in (e.get("style") or "") for e in paths), run.label
    assert "click grid" not in text                     # invisible helper traces are dropped


@needs_browser
def test_animation_geometry_matches_plotly(result):
    """The fixed layout puts each subplot exactly where Geometry says (checked in the SVG)."""
    anim = animation.Animation(result, frames=10)
    svg = export.static_image(anim.still, "svg", width=anim.width, height=anim.height,
                              clean=False).decode()
    for sub in ("xy", "x2y2", "x3y3"):
        m = re.search(rf'<g class="{sub}" transform="translate\(([-\d.]+),([-\d.]+)\)"', svg)
        c = re.search(rf'<clipPath id="[^"]*{sub}plot"[^>]*><rect width="([\d.]+)" '
                      rf'height="([\d.]+)"', svg)
        assert m and c, sub
        xa, ya = ("x", "y") if sub == "xy" else (sub[:2], sub[2:])
        x0, y0, x1, y1 = anim.geometry.subplot_box(xa, ya)
        got = (float(m.group(1)), float(m.group(2)), float(c.group(1)), float(c.group(2)))
        assert got == pytest.approx((x0, y0, x1 - x0, y1 - y0), abs=0.6), sub


def test_missing_browser_is_one_line_and_other_formats_still_work(result, monkeypatch):
    from optiviz import renderer

    monkeypatch.setattr(export, "browser_path", lambda: None)
    monkeypatch.setattr(renderer, "browser_path", lambda: None)
    monkeypatch.setattr(renderer, "_renderer", None)
    for fmt in ("png", "svg"):
        with pytest.raises(export.BrowserMissing) as info:
            export.export(result, fmt)
        message = str(info.value)
        assert "\n" not in message and "apt-get install chromium" in message
    for fmt in ("html", "csv", "json", "config"):
        assert export.export(result, fmt)[0]
    # the animation falls back to a background drawn with PIL
    data, _, _ = export.export(result, "gif", frames=5, width=700, height=420)
    image = Image.open(io.BytesIO(data))
    assert image.n_frames == 5 and image.size == (700, 420)


# --------------------------------------------------------------------------------------------
# GIF, MP4


def test_gif_has_the_requested_frames_colours_legend_and_counter(result):
    seen = []
    data, mime, name = export.export(result, "gif", frames=100, fps=20,
                                     progress=lambda f, m: seen.append((f, m)))
    assert mime == "image/gif" and name.endswith("-race.gif")
    image = Image.open(io.BytesIO(data))
    assert image.n_frames == 100
    assert image.size == animation.ANIMATION_SIZE
    assert image.info.get("loop") == 0
    image.seek(1)
    assert image.info["duration"] == 50
    # progress: increasing fractions, ending at 1
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("frame" in m for _, m in seen)
    image.seek(0)
    first = np.asarray(image.convert("RGB")).copy()
    image.seek(99)
    last = image.convert("RGB")
    assert not np.array_equal(first, np.asarray(last))          # it moves
    for run in result.runs:                                      # exact colours, stable palette
        assert _has_color(last, _hex(run.color)), run.label
    assert _has_color(last, _hex("#ffd23f"), 5)                 # the global minimum's star


def test_animation_frames_draw_paths_heads_and_counter(short):
    anim = animation.Animation(short, frames=12, background="pil", width=800, height=480)
    assert anim.steps[0] == 0 and anim.steps[-1] == 60 and len(anim.steps) == 12
    blank = np.asarray(anim.background(), dtype=np.int16)
    frames = list(anim.frames())
    assert [s for s, _ in frames] == anim.steps
    last = np.asarray(frames[-1][1], dtype=np.int16)
    changed = np.abs(last - blank).max(axis=2) > 30
    # the map changed (paths, heads), and so did the top right corner (the counter)
    (x0, y0, x1, y1) = (int(v) for v in anim.geometry.subplot_box("x", "y"))
    assert changed[y0:y1, x0:x1].sum() > 500
    assert changed[:40, -250:].sum() > 50
    # the run that diverged gets its X (its colour appears), the other its head
    for run in short.runs:
        assert _has_color(frames[-1][1], _hex(run.color), 10), run.label
    # frames can be asked for in any order and give the same picture
    again = anim.frame(anim.steps[-1])
    assert np.array_equal(np.asarray(again), np.asarray(frames[-1][1]))


def test_mp4_opens_with_the_requested_frames(short):
    import imageio.v2 as iio

    data, mime, name = export.export(short, "mp4", frames=30, fps=10, hold=0, width=640,
                                     height=400)
    assert mime == "video/mp4" and name.endswith(".mp4")
    assert data[4:8] == b"ftyp"
    path = f"/tmp/optiviz-test-{id(data)}.mp4"
    with open(path, "wb") as fh:
        fh.write(data)
    try:
        reader = iio.get_reader(path)
        frames = [f for f in reader]
        meta = reader.get_meta_data()
        reader.close()
    finally:
        import os

        os.unlink(path)
    assert abs(len(frames) - 30) <= 1
    assert frames[0].shape == (400, 640, 3)
    assert meta["fps"] == pytest.approx(10)
    assert frames[0].std() > 10


def test_animation_options_are_checked(short):
    for kwargs in (dict(frames=1), dict(frames=10**6), dict(fps=0), dict(fps=float("nan")),
                   dict(scale=100), dict(width=10**6)):
        with pytest.raises(ValueError):
            export.export(short, "gif", **kwargs)


# --------------------------------------------------------------------------------------------
# HTML


def test_html_is_the_live_view_self_contained(result):
    data, mime, name = export.export(result, "html", view="race")
    html = data.decode("utf-8")
    assert mime == "text/html" and name.endswith(".html")
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert re.search(r"<script[^>]+src=", html, re.I) is None      # nothing fetched: offline
    assert re.search(r"import\s*\(|^import ", html[-200_000:], re.M) is None
    assert re.search(r"plotly\.js v\d", html[:200_000]) is not None   # the library's banner
    assert "mountLiveView(" in html and "class LiveView" in html
    assert len(html) > 3_000_000                    # plotly.min.js is ~4.6 MB

def test_csv_round_trips_to_the_same_arrays(short):
    text = export.trajectories_csv(short)
    header = text.splitlines()[0]
    assert header == "label,optimizer,step,x,y,loss,lr,diverged"
    back = export.read_trajectories_csv(text)
    assert list(back) == [r.label for r in short.runs]
    for run in short.runs:
        traj = run.trajectory
        got = back[run.label]
        assert got["optimizer"] == run.optimizer
        np.testing.assert_array_equal(got["x"], traj.xy[:, 0, 0])
        np.testing.assert_array_equal(got["y"], traj.xy[:, 0, 1])
        np.testing.assert_array_equal(got["loss"], traj.loss[:, 0])
        np.testing.assert_array_equal(got["lr"], traj.lr[:, 0])
        np.testing.assert_array_equal(got["step"], np.arange(traj.steps + 1))
        d = int(traj.diverged_at[0])
        expected = np.zeros(traj.steps + 1, dtype=int)
        if d >= 0:
            expected[d:] = 1
        np.testing.assert_array_equal(got["diverged"], expected)
    assert np.isnan(back[short.runs[0].label]["x"][-1])     # NaN after divergence comes back


def test_csv_reader_refuses_garbage():
    for bad in ("", "a,b\n1,2\n", "label,optimizer,step,x,y,loss,lr,diverged\nA,sgd,0,x,1,1,,0\n",
                "label,optimizer,step,x,y,loss,lr,diverged\nA,sgd,3,1,1,1,,0\n"):
        with pytest.raises(ValueError):
            export.read_trajectories_csv(bad)


def test_trajectories_json(short):
    data, mime, _ = export.export(short, "json")
    doc = json.loads(data)                           # strict JSON: NaN became null
    assert "NaN" not in data.decode()
    assert doc["format"] == "optiviz-trajectories" and doc["scene"] == short.scene
    for run, got in zip(short.runs, doc["runs"]):
        traj = run.trajectory
        x = np.array([np.nan if v is None else v for v in got["x"]])
        np.testing.assert_array_equal(x, traj.xy[:, 0, 0])
        lr = np.array([np.nan if v is None else v for v in got["lr"]])
        np.testing.assert_array_equal(lr, traj.lr[:, 0])
        d = int(traj.diverged_at[0])
        assert got["diverged_at"] == (None if d < 0 else d)
        assert got["color"] == run.color


# --------------------------------------------------------------------------------------------
# The scene's config


@pytest.mark.parametrize("key", [None] + list(preset_keys())[:6])
def test_config_round_trips_to_the_same_scene(key):
    scene = normalize_scene(default_scene() if key is None else preset_scene(key))
    text = export.scene_json(scene)
    back = export.load_scene_file(text.encode("utf-8"))
    assert json.dumps(back, sort_keys=True) == json.dumps(scene, sort_keys=True)
    # and what export() writes is the same file
    data, mime, name = export.export(compute_scene(back), "config") if key is None else \
        (text.encode(), "application/json", "x.json")
    assert json.loads(data) == json.loads(text)


@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"\xff\xfe\x00junk", "UTF-8"),
    (b'{"optimizers": [', "not valid JSON"),
    (b"[1, 2, 3]", "JSON object"),
    (b'{"steps": "many"}', "steps"),
    (b'{"steps": 1e308}', "steps"),
    (b'{"steps": 99999999999999999999999999}', "steps"),
    (b'{"start": [1e999, 0]}', "start"),
    (b'{"noise": NaN}', "noise"),
    (b'{"optimizers": [{"optimizer": "adamx"}]}', "unknown optimizer"),
    (b'{"surface": {"name": "nowhere"}}', "nowhere"),
    (b'{"optimizers": [{"optimizer": "adam", "hyperparameters": {"beta1": 1e300}}]}', "beta1"),
    (b'{"optimizers": [{"optimizer": "adam", "hyperparameters": {"warp": 1}}]}', "warp"),
    (b'{"rm -rf": 1}', "unknown scene key"),
    (b"[" * 50_000 + b"]" * 10_000, "JSON"),
])
def test_hostile_scene_files_are_refused_clearly(data, words):
    with pytest.raises(ValueError) as info:
        export.load_scene_file(data)
    message = str(info.value)
    assert "\n" not in message and len(message) < 400
    assert words.lower() in message.lower()


def test_huge_upload_is_refused_before_parsing():
    junk = b"\x00" * (100 << 20)                     # 100 MB
    start = time.perf_counter()
    with pytest.raises(ValueError, match="too large"):
        export.load_scene_file(junk)
    assert time.perf_counter() - start < 0.5


def test_scene_file_with_bom_and_file_object():
    text = export.scene_json(default_scene())
    assert export.load_scene_file(b"\xef\xbb\xbf" + text.encode()) == normalize_scene(
        default_scene())
    assert export.load_scene_file(io.BytesIO(text.encode())) == normalize_scene(default_scene())


# --------------------------------------------------------------------------------------------
# Options


def test_export_options_are_checked(result):
    with pytest.raises(ValueError, match="format"):
        export.export(result, "bmp")
    with pytest.raises(ValueError, match="view"):
        export.export(result, "html", view="sideways")
    with pytest.raises(ValueError, match="step"):
        export.export(result, "html", step=10**9)
    assert export.filename_for(result, "config") == "optiviz-rosenbrock-scene.json"
    assert set(export.FORMATS) == {"png", "svg", "gif", "mp4", "html", "csv", "json", "config"}


def test_app_view_labels_are_accepted(result):
    for label in ("Race", "Side by side", "3D", "Curves"):
        fig = export.view_figure(result, label, frames=0)
        assert fig.layout.title.text


def test_still_drops_screen_only_parts(result):
    fig = figures.race_figure(result, frames=10)
    still = export._still(export._figure_dict(fig))
    assert "frames" not in still and "sliders" not in still["layout"]
    assert all(t.get("name") != "click grid" for t in still["data"])
    assert not math.isnan(len(still["data"]))
