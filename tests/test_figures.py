"""Tests for optiviz.figures: what the figures contain (decoded from the JSON the browser gets),
not just that they build. One PNG is rendered through kaleido (headless Chromium) and checked
for content; if kaleido cannot start, that test FAILS (it is how exports are made).

Plotly 7 writes numpy arrays as {"dtype": ..., "bdata": base64}; `arr()` decodes them.
"""

from __future__ import annotations

import base64
import io
import json
import math
import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from PIL import Image

from optiviz import figures, scene, surface_image

FIGURES = (figures.race_figure, figures.panels_figure, figures.surface3d_figure,
           figures.curves_figure)
MB = 1024 * 1024


# --------------------------------------------------------------------------------------------
# helpers


def arr(value) -> np.ndarray:
    """A trace array from figure JSON: bdata decoded, lists as float (None -> nan)."""
    if isinstance(value, dict) and "bdata" in value:
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:
            out = out.reshape([int(n) for n in str(value["shape"]).split(",")])
        return out.astype(np.float64)
    return np.array([np.nan if v is None else v for v in value], dtype=np.float64)


def as_json(fig) -> dict:
    return json.loads(fig.to_json())


def by_name(d: dict, name: str, xaxis: str | None = None) -> tuple[int, dict]:
    """The one trace called `name` (on the map's axes "x" unless told: the curves of a run
    carry its name too)."""
    hits = [(i, t) for i, t in enumerate(d["data"]) if t.get("name") == name
            and (t["type"] == "scatter3d" or t.get("xaxis", "x") == (xaxis or "x")
                 or name.endswith("cursor"))]
    assert len(hits) == 1, f"expected one trace named {name!r}, found {len(hits)}"
    return hits[0]


def diff(a, b, path=""):
    """Paths where two JSON values differ."""
    if type(a) is not type(b):
        return [f"{path}: {type(a).__name__} vs {type(b).__name__}"]
    if isinstance(a, dict):
        out = [f"{path}/{k} only on one side" for k in set(a) ^ set(b)]
        for k in set(a) & set(b):
            out += diff(a[k], b[k], f"{path}/{k}")
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} vs {len(b)}"]
        return [p for i, (u, v) in enumerate(zip(a, b)) for p in diff(u, v, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r:.60} vs {b!r:.60}"]


def result_of(spec: dict):
    return scene.compute_scene(scene.normalize_scene(spec))


@pytest.fixture(scope="module")
def default():
    return result_of(scene.default_scene())


@pytest.fixture(scope="module")
def race_json(default):
    """The default scene's race figure as the browser gets it (built once for several tests)."""
    return as_json(figures.race_figure(default))


@pytest.fixture(scope="module")
def big():
    """6 optimizers x 1,000 steps: the JSON size budget case."""
    return result_of({"optimizers": ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adagrad"],
                      "steps": 1000})


@pytest.fixture(scope="module")
def diverging():
    """SGD at lr = 1 leaves Rosenbrock at once; lr = 0.0025 after 4 steps, off the map."""
    return result_of({"optimizers": [{"optimizer": "sgd", "lr": 1.0}, "adam",
                                     {"optimizer": "sgd", "lr": 0.0025}], "steps": 200})


# --------------------------------------------------------------------------------------------
# surface image


def test_surface_image_is_a_png_stretched_over_the_bounds(default):
    surface = default.surface
    img = surface_image.surface_image(surface, resolution=120)
    (x0, x1), (y0, y1) = surface.bounds
    assert (img["x"], img["y"], img["sizex"], img["sizey"]) == (x0, y1, x1 - x0, y1 - y0)
    assert (img["xref"], img["yref"], img["sizing"], img["layer"]) == ("x", "y", "stretch", "below")
    assert (img["xanchor"], img["yanchor"]) == ("left", "top")
    prefix = "data:image/png;base64,"
    assert img["source"].startswith(prefix)
    png = Image.open(io.BytesIO(base64.b64decode(img["source"][len(prefix):]))).convert("RGB")
    assert png.size == (120, 120)
    rgb = np.asarray(png, dtype=np.float64)
    lum = rgb @ [0.299, 0.587, 0.114]

    def pixel(x, y):
        return int((y1 - y) / (y1 - y0) * 120), int((x - x0) / (x1 - x0) * 120)

    # Dark valley, light heights: around the minimum (1, 1) the pixels are among the darkest
    # (a level line may cross the very pixel), at (0, 3) (f = 901) among the lightest.
    row, col = pixel(1.0, 1.0)
    assert lum[row - 2: row + 3, col - 2: col + 3].min() < np.percentile(lum, 10)
    assert lum[pixel(0.0, 2.95)] > np.percentile(lum, 80)
    assert lum.max() - lum.min() > 150                     # not washed out
    with pytest.raises(ValueError, match="resolution"):
        surface_image.surface_image(surface, resolution=3)


# --------------------------------------------------------------------------------------------
# race figure


def test_race_map_has_one_path_and_head_per_run_in_its_colour(default):
    k = 137
    d = as_json(figures.race_figure(default, step=k))
    for run in default.runs:
        _, line = by_name(d, run.label)
        assert line["line"]["color"] == run.color and line["showlegend"] is True
        _, head = by_name(d, f"{run.label} now")
        assert head["marker"]["color"] == run.color
        xy = run.trajectory.xy[k, 0]
        assert head["x"] == [xy[0]] and head["y"] == [xy[1]]       # exact, not rounded
        # the bold path runs from the start to the head, the dotted rest from there on
        px, py = arr(line["x"]), arr(line["y"])
        assert len(px) == k + 1
        np.testing.assert_allclose(np.c_[px, py], run.trajectory.xy[: k + 1, 0], rtol=1e-6,
                                   atol=1e-6)
        _, ahead = by_name(d, f"{run.label} ahead")
        assert len(arr(ahead["x"])) == run.trajectory.steps - k + 1
        assert ahead["line"]["dash"] == "dot"
    # the paths, heads and curves live on the map's and the panels' axes
    assert {t.get("xaxis", "x") for t in d["data"]} == {"x", "x2", "x3"}


def test_race_step_none_shows_the_last_step(default, race_json):
    d = race_json
    run = default.runs[1]
    _, head = by_name(d, f"{run.label} now")
    assert head["x"] == [run.trajectory.xy[-1, 0, 0]]
    assert not [t for t in d["data"] if (t.get("name") or "").endswith(" ahead")]
    with pytest.raises(ValueError, match="step"):
        figures.race_figure(default, step=1.5)


def test_race_frames_carry_only_the_moving_traces(default):
    fig = figures.race_figure(default, step=40, frames=50)
    d = as_json(fig)
    frames = d["frames"]
    total = default.runs[0].trajectory.steps
    steps = [int(f["name"]) for f in frames]
    assert len(frames) <= 50 and steps[0] == 0 and steps[-1] == total and 40 in steps
    assert steps == sorted(set(steps))
    moving = {by_name(d, f"{r.label} now")[0] for r in default.runs}
    moving |= {by_name(d, "loss cursor")[0], by_name(d, "lr cursor")[0]}
    for f in frames:
        assert set(f["traces"]) == moving and len(f["data"]) == len(f["traces"])
        for idx, upd in zip(f["traces"], f["data"]):
            assert set(upd) <= {"type", "x", "y"}                 # positions only, no styles
            assert upd["type"] == d["data"][idx]["type"]
    # a frame puts every head at its step, and the cursors at that step
    f = frames[len(frames) // 2]
    s = int(f["name"])
    upd = dict(zip(f["traces"], f["data"]))
    for r in default.runs:
        i, _ = by_name(d, f"{r.label} now")
        assert upd[i]["x"] == [r.trajectory.xy[s, 0, 0]] and upd[i]["y"] == [r.trajectory.xy[s, 0, 1]]
    i, _ = by_name(d, "loss cursor")
    assert upd[i]["x"][:2] == [s, s]
    dots = arr(upd[i]["y"])[3::2]
    np.testing.assert_allclose(dots, [r.trajectory.loss[s, 0] for r in default.runs], rtol=1e-12)
    # slider: one step per frame, starting at the frame of `step`; play/pause/speed buttons
    slider = d["layout"]["sliders"][0]
    assert [st["args"][0] for st in slider["steps"]] == [[f["name"]] for f in frames]
    assert slider["steps"][slider["active"]]["label"] == "40"
    buttons = d["layout"]["updatemenus"][0]["buttons"]
    labels = [b["label"] for b in buttons]
    assert labels[:2] == ["▶ Play", "❚❚ Pause"] and labels[2:] == ["0.5×", "1×", "2×", "4×"]
    durations = [b["args"][1]["frame"]["duration"] for b in buttons[2:]]
    assert durations == sorted(durations, reverse=True) and durations[0] > durations[-1]
    assert all(b["args"][1]["frame"]["redraw"] is False for b in buttons)


def test_frame_steps():
    assert figures.frame_steps(1000, 120)[-1] == 1000
    assert len(figures.frame_steps(1000, 120)) == 120
    assert figures.frame_steps(10, 120) == list(range(11))
    assert figures.frame_steps(1000, 0) == [] and figures.frame_steps(1000, 1) == []
    with_step = figures.frame_steps(1000, 7, step=333)
    assert len(with_step) <= 7 and 333 in with_step and with_step[0] == 0
    assert with_step[-1] == 1000


def test_race_still_figure_has_no_animation(default):
    d = as_json(figures.race_figure(default, step=10, frames=0))
    assert not d.get("frames")
    assert not d["layout"].get("sliders") and not d["layout"].get("updatemenus")


def test_race_json_stays_small_for_6_optimizers_1000_steps(big):
    fig = figures.race_figure(big)
    text = fig.to_json()
    assert len(text) < 2 * MB, f"race figure JSON is {len(text) / MB:.2f} MB"
    d = json.loads(text)
    assert 2 <= len(d["frames"]) <= 120 and d["frames"][-1]["name"] == "1000"
    frames_bytes = len(json.dumps(d["frames"]))
    assert frames_bytes < 300_000, f"frames carry {frames_bytes} bytes"
    # a comet trail adds bounded points per frame
    trail = json.loads(figures.race_figure(big, trail=200).to_json())
    for f in trail["frames"]:
        for upd in f["data"][:6]:
            assert len(upd["x"]) <= 40
    assert len(json.dumps(trail)) < 2 * MB


def test_diverged_run_ends_with_an_x_and_says_so(diverging):
    d = as_json(figures.race_figure(diverging, step=50))
    fast, _, slow = diverging.runs
    assert int(fast.trajectory.diverged_at[0]) == 1
    _, line = by_name(d, f"{fast.label} – diverged at step 1")
    assert line["showlegend"] is True and "diverged at step 1" in line["name"]
    _, cross = by_name(d, f"{fast.label} diverged")
    assert cross["marker"]["symbol"] == "x" and cross["marker"]["color"] == fast.color
    assert [cross["x"][0], cross["y"][0]] == list(fast.trajectory.xy[0, 0])   # last finite point
    # its head is gone after diverging (the X marks the end)
    _, head = by_name(d, f"{fast.label} now")
    assert head["x"] == [None]
    # the slow one's last finite point is off the map: its X sits where the path left the view
    k = int(slow.trajectory.diverged_at[0])
    last = slow.trajectory.xy[k - 1, 0]
    (x0, x1), (y0, y1) = diverging.surface.bounds
    assert not (x0 <= last[0] <= x1 and y0 <= last[1] <= y1)
    _, cross = by_name(d, f"{slow.label} diverged")
    cx, cy = cross["x"][0], cross["y"][0]
    assert x0 - 1e-9 <= cx <= x1 + 1e-9 and y0 - 1e-9 <= cy <= y1 + 1e-9
    assert min(abs(cx - x0), abs(cx - x1), abs(cy - y0), abs(cy - y1)) < 1e-9   # on the border
    assert f"diverged at step {k}" in cross["hovertemplate"]
    # the summary agrees
    rows = figures.summary_rows(diverging)
    assert rows[0]["diverged"] == "diverged at step 1" and rows[1]["diverged"] is None


def test_race_background_is_an_image_not_a_contour(race_json):
    d = race_json
    assert {t["type"] for t in d["data"]} == {"scatter"}      # no contour/heatmap to vanish
    images = d["layout"]["images"]
    assert len(images) == 1 and images[0]["source"].startswith("data:image/png;base64,")
    assert images[0]["layer"] == "below" and images[0]["xref"] == "x"


def test_race_axes_are_the_bounds_and_fixed(default, race_json):
    d = race_json
    (x0, x1), (y0, y1) = default.surface.bounds
    lay = d["layout"]
    assert lay["xaxis"]["range"] == [x0, x1] and lay["yaxis"]["range"] == [y0, y1]
    assert lay["xaxis"]["autorange"] is False and lay["yaxis"]["autorange"] is False
    assert lay["yaxis"]["scaleanchor"] == "x"                    # a square window: equal aspect
    assert lay["uirevision"]
    assert lay["yaxis2"]["type"] == "log" and lay["yaxis3"]["type"] == "log"


def test_click_grid_covers_the_bounds_invisibly(default, race_json):
    d = race_json
    _, grid = by_name(d, "click grid")
    x, y = arr(grid["x"]), arr(grid["y"])
    n = figures.CLICK_GRID
    assert n >= 20 and len(x) == n * n
    (x0, x1), (y0, y1) = default.surface.bounds
    np.testing.assert_allclose([x.min(), x.max(), y.min(), y.max()], [x0, x1, y0, y1], rtol=1e-6)
    assert len(np.unique(np.round(x, 5))) == n and len(np.unique(np.round(y, 5))) == n
    assert grid["marker"]["opacity"] == 0 and grid["mode"] == "markers"
    assert grid.get("hoverinfo") != "skip"                     # "skip" would make it unclickable
    assert grid["showlegend"] is False


def test_caption_and_title_say_what_was_compared(default, race_json):
    d = race_json
    caption = scene.comparison_caption(default.scene)
    assert caption in [a["text"] for a in d["layout"]["annotations"]]
    assert "Rosenbrock" in d["layout"]["title"]["text"]
    for fn in FIGURES:
        texts = [a["text"] for a in fn(default, frames=0).layout.annotations]
        assert caption in texts, fn.__name__
        assert caption not in [a["text"] for a in fn(default, frames=0, caption=None)
                               .layout.annotations], fn.__name__
    fig = figures.race_figure(default, frames=0, caption="my words")
    assert "my words" in [a["text"] for a in fig.layout.annotations]


# --------------------------------------------------------------------------------------------
# the other figures


def test_panels_one_titled_map_per_run_animated_by_heads(default):
    d = as_json(figures.panels_figure(default, step=60, frames=30))
    n = len(default.runs)
    assert len(d["layout"]["images"]) == n
    titles = " ".join(a["text"] for a in d["layout"]["annotations"])
    for i, r in enumerate(default.runs):
        assert r.label in titles
        xa = "x" if i == 0 else f"x{i + 1}"
        _, head = by_name(d, f"{r.label} now", xa)
        assert head["x"] == [r.trajectory.xy[60, 0, 0]]
        assert d["layout"]["xaxis" if i == 0 else f"xaxis{i + 1}"]["range"] == \
            list(default.surface.bounds[0])
    heads = sorted(by_name(d, f"{r.label} now", "x" if i == 0 else f"x{i + 1}")[0]
                   for i, r in enumerate(default.runs))
    assert len(d["frames"]) <= 30 and d["frames"][-1]["name"] == str(default.scene["steps"])
    assert all(sorted(f["traces"]) == heads for f in d["frames"])


def test_surface3d_lifts_paths_onto_the_surface(default):
    k = 90
    d = as_json(figures.surface3d_figure(default, step=k))
    surface = [t for t in d["data"] if t["type"] == "surface"]
    assert len(surface) == 1
    z = arr(surface[0]["z"])
    assert np.isfinite(z).all()
    for r in default.runs:
        _, path = by_name(d, r.label)
        assert path["type"] == "scatter3d" and path["line"]["color"] == r.color
        assert len(arr(path["x"])) == k + 1
        _, head = by_name(d, f"{r.label} now")
        np.testing.assert_allclose([head["x"][0], head["y"][0]], r.trajectory.xy[k, 0])
        assert head["z"][0] > z.min()                         # lifted above the floor
    assert d["layout"]["scene"]["zaxis"]["title"]["text"].startswith("log")


def test_curves_log_y_and_cursor(default):
    k = 222
    d = as_json(figures.curves_figure(default, step=k))
    lay = d["layout"]
    assert lay["yaxis"]["type"] == "log" and lay["yaxis2"]["type"] == "log"
    assert lay["yaxis"]["title"]["text"] == "loss"
    for r in default.runs:
        traces = [t for t in d["data"] if t.get("legendgroup") == r.label]
        assert {t["line"]["color"] for t in traces} == {r.color}
        loss = next(t for t in traces if t.get("yaxis", "y") == "y")
        np.testing.assert_allclose(arr(loss["y"]), r.trajectory.loss[:, 0], rtol=1e-12)
    _, cursor = by_name(d, "loss cursor")
    assert cursor["x"][:2] == [k, k]
    assert not [t for t in d["data"] if t.get("name") == "loss cursor" and t is not cursor]
    no_cursor = as_json(figures.curves_figure(default))
    assert not [t for t in no_cursor["data"] if "cursor" in (t.get("name") or "")]


def test_curves_shift_negative_minima_and_say_so():
    res = result_of({"surface": "styblinski_tang", "optimizers": ["adam"], "steps": 50})
    d = as_json(figures.curves_figure(res))
    assert d["layout"]["yaxis"]["type"] == "log"
    title = d["layout"]["yaxis"]["title"]["text"]
    assert title.startswith("loss − f<sub>min</sub> + ")
    tiny = float(title.rsplit("+ ", 1)[1])
    f_min = res.surface.f_min
    y = arr(d["data"][0]["y"])
    np.testing.assert_allclose(y, res.runs[0].trajectory.loss[:, 0] - f_min + tiny, rtol=1e-9)
    assert (y > 0).all()


def test_every_figure_is_valid_plotly(default, diverging):
    """The figures are assembled without plotly.py's (slow) validation: re-validating the JSON
    must change nothing (catches a misspelt property, a magic_underscore, a template name)."""
    for res in (default, diverging):
        for fn in FIGURES:
            d = as_json(fn(res, step=20, frames=12))
            again = json.loads(go.Figure(d).to_json())
            assert diff(d, again) == [], fn.__name__


def test_figures_leave_plotly_defaults_alone(default):
    before = (pio.templates.default, pio.renderers.default, pio.defaults.mathjax,
              pio.defaults.default_width, pio.defaults.default_height)
    for fn in FIGURES:
        fn(default, frames=0, template="plotly_dark")
    assert (pio.templates.default, pio.renderers.default, pio.defaults.mathjax,
            pio.defaults.default_width, pio.defaults.default_height) == before
    d = as_json(figures.race_figure(default, frames=0, template="plotly_dark", width=900,
                                    height=600))
    assert d["layout"]["template"]["layout"]["paper_bgcolor"] == \
        pio.templates["plotly_dark"].layout.paper_bgcolor
    assert (d["layout"]["width"], d["layout"]["height"]) == (900, 600)


# --------------------------------------------------------------------------------------------
# table


def test_summary_rows(default):
    rows = figures.summary_rows(default)
    assert [r["optimizer"] for r in rows] == [r.label for r in default.runs]
    for row, summ in zip(rows, default.summary):
        assert row["loss"] == summ["final_loss"] and row["step"] == default.scene["steps"]
        assert row["nearest minimum"] == "(1, 1)"
        assert row["distance to minimum"] == pytest.approx(summ["distance"])
        assert row["reached minimum at step"] == summ["reached_step"] and row["diverged"] is None
    k = 100
    rows = figures.summary_rows(default, step=k)
    for row, run in zip(rows, default.runs):
        x, y = run.trajectory.xy[k, 0]
        assert row["step"] == k and row["loss"] == run.trajectory.loss[k, 0]
        assert row["distance to minimum"] == pytest.approx(math.hypot(x - 1, y - 1))
    # reached: the first step whose loss is within tolerance of the minimum's value
    res = result_of({"surface": "booth", "optimizers": ["momentum"], "steps": 300,
                     "tolerance": 1e-3})
    row = figures.summary_rows(res)[0]
    loss = res.runs[0].trajectory.loss[:, 0]
    first = int(np.flatnonzero(np.abs(loss - 0.0) <= 1e-3)[0])
    assert row["reached minimum at step"] == first
    assert figures.summary_rows(res, step=first - 1)[0]["reached minimum at step"] is None
    assert figures.summary_rows(res, step=first)[0]["reached minimum at step"] == first


# --------------------------------------------------------------------------------------------
# speed, and one real rendering


def test_race_figure_builds_fast(default, big):
    figures.race_figure(default)                      # warm the surface image cache
    t = time.perf_counter()
    figures.race_figure(default)
    assert time.perf_counter() - t < 1.0
    t = time.perf_counter()
    figures.race_figure(big).to_json()
    assert time.perf_counter() - t < 2.0


def test_race_png_renders_with_kaleido_and_is_not_blank(default, tmp_path):
    try:
        import kaleido
        import plotly

        plotlyjs = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        png = kaleido.calc_fig_sync(
            figures.race_figure(default, step=250).to_plotly_json(),
            opts=dict(format="png", width=1100, height=660, scale=1),
            kopts=dict(mathjax=False, plotlyjs=str(plotlyjs)))
    except Exception as err:       # noqa: BLE001 - any failure to start means no exports
        pytest.fail(f"kaleido could not render the race figure (is Chromium installed at "
                    f"/usr/bin/chromium?): {type(err).__name__}: {err}")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (1100, 660)
    pixels = np.asarray(image, dtype=np.float64)
    assert pixels.std() > 30, "the PNG is (nearly) blank"
    # the surface is drawn: the map area has dark valley pixels and light high ground
    lum = pixels @ [0.299, 0.587, 0.114]
    map_area = lum[150:500, 80:450]
    assert map_area.min() < 80 and map_area.max() > 220
    # every run's colour appears
    for run in default.runs:
        rgb = np.array([int(run.color[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)
        close = np.abs(pixels - rgb).sum(axis=-1) < 40
        assert close.sum() > 30, f"{run.label}'s colour {run.color} is not in the picture"
    (tmp_path / "race.png").write_bytes(png)


@pytest.mark.parametrize("build", [figures.race_figure, figures.panels_figure,
                                   figures.surface3d_figure, figures.curves_figure],
                         ids=lambda f: f.__name__)
def test_spec_form_serializes_exactly_like_the_figure(build, default):
    """The app's fast path (spec=True) must send the browser the very same JSON."""
    result = default
    fast = build(result, step=123, spec=True)
    slow = build(result, step=123)
    assert json.loads(pio.to_json(fast, validate=False)) == json.loads(slow.to_json())


def test_race_without_its_slider_animates_a_step_counter(default):
    fig = figures.race_figure(default, step=40, frames=12, slider=False, click_grid=10)
    d = json.loads(fig.to_json())
    assert not d["layout"].get("sliders") and d["layout"]["updatemenus"]
    names = [t.get("name") for t in d["data"]]
    counter = names.index("step counter")
    assert d["data"][counter]["text"] == ["<b>step 40</b> / 500"]
    for frame in d["frames"]:
        assert counter in frame["traces"]
        text = frame["data"][frame["traces"].index(counter)]["text"][0]
        assert text == f"<b>step {frame['name']}</b> / 500"
    grid = d["data"][names.index("click grid")]
    assert len(arr(grid["x"])) == 10 * 10


@pytest.mark.parametrize("key", ["zigzag_vs_adaptive", "momentum_overshoot", "radam_warmup"])
def test_a_short_lr_axis_labels_whole_values(key):
    """Rates spanning under a decade (0.125 / 0.05 / 0.02; 0.004 alone; 0.03): the exported
    picture's lr axis has at least two labelled ticks, each a whole number inside the axis (not
    plotly's lone "10⁻¹" or bare digits) - the same rule as the live view's."""
    from optiviz import presets

    result = scene.compute_scene(scene.normalize_scene(presets.get_preset(key).scene))
    layout = as_json(figures.race_figure(result, frames=0))["layout"]
    axis = layout["yaxis3"]
    lo, hi = axis["range"]
    if axis.get("tickmode") == "array":
        values = [float(text) for text in axis["ticktext"]]      # "0.004": a whole number
        assert values == axis["tickvals"]
    else:                                  # powers of ten, every dtick-th: "10⁻²", "10⁻¹"
        values = [10.0 ** e for e in range(math.ceil(lo), math.floor(hi) + 1) if e % axis["dtick"] == 0]
    assert len(values) >= 2, axis
    assert all(lo <= np.log10(v) <= hi for v in values)
