"""The scene record (optiviz.scene_record) and the GIF/MP4 frames drawn from it: every view reads
the same runs, and frame k shows each run's path up to step k in its colour, nothing beyond."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from optiviz import animation, figures, live, scene_record
from optiviz.scene import compute_scene, default_scene, normalize_scene

OPTIVIZ = Path(__file__).resolve().parent.parent / "optiviz"


@pytest.fixture(scope="module")
def result():
    return compute_scene(normalize_scene(default_scene()))


SPREAD = {"surface": {"name": "himmelblau"}, "start": [1.0, -1.0], "steps": 120,
          "optimizers": [{"optimizer": "adam", "lr": 0.1}, {"optimizer": "sgd", "lr": 0.01}]}


@pytest.fixture(scope="module")
def spread():
    """Two runs that leave the start for different minima of Himmelblau's: separate paths, so
    each can be seen on its own."""
    return compute_scene(normalize_scene(SPREAD))


@pytest.fixture(scope="module")
def diverging():
    """The same two and a third that leaves the window at once (step 3)."""
    return compute_scene(normalize_scene(
        {**SPREAD, "optimizers": SPREAD["optimizers"] + [{"optimizer": "sgd", "lr": 0.2}]}))


# --------------------------------------------------------------------------------------------
# the record


def test_the_record_holds_the_runs_as_the_core_computed_them(result):
    record = scene_record.of(result)
    assert scene_record.of(record) is record                     # built once, passed along
    assert record.steps == result.scene["steps"] and record.start == tuple(result.scene["start"])
    assert record.bounds == tuple(tuple(b) for b in result.surface.bounds)
    for run, rec, row in zip(result.runs, record.runs, result.summary):
        traj = run.trajectory
        assert (rec.label, rec.color, rec.optimizer) == (run.label, run.color, run.optimizer)
        np.testing.assert_array_equal(rec.xy, traj.xy[:, 0])
        np.testing.assert_array_equal(rec.loss, traj.loss[:, 0])
        np.testing.assert_array_equal(rec.lr, traj.lr[:, 0])
        assert rec.diverged_at is None and rec.end_xy is None
        assert rec.reached == row["reached_step"]                # from the one summary
        assert rec.head_symbol == "circle" and rec.end_symbol == "x"
    assert record.is_global.tolist() == [True] and record.minima.tolist() == [[1.0, 1.0]]


def test_a_diverged_run_ends_where_its_path_last_leaves_the_window(diverging):
    record = scene_record.of(diverging)
    gone = [r for r in record.runs if r.diverged_at is not None]
    assert len(gone) == 1
    run = gone[0]
    d = run.diverged_at
    assert run.last == d - 1 and run.at(10**6) == d - 1 and run.gone(d) and not run.gone(d - 1)
    assert np.isnan(run.xy[d:]).all() and np.isfinite(run.xy[:d]).all()
    (x0, x1), (y0, y1) = record.bounds
    ex, ey = run.end_xy
    assert x0 - 1e-9 <= ex <= x1 + 1e-9 and y0 - 1e-9 <= ey <= y1 + 1e-9
    assert run.name == f"{run.label} – diverged at step {d}"


def test_every_view_reads_the_same_record(result):
    """The live view's model, the figures and the animation take the record itself."""
    record = scene_record.of(result)
    assert json.dumps(live.view_model(record)) == json.dumps(live.view_model(result))
    assert figures.race_figure(record, step=50, frames=0).to_json() == \
        figures.race_figure(result, step=50, frames=0).to_json()
    model = live.view_model(record, include_surface=False)
    for run, sent in zip(record.runs, model["runs"]):
        np.testing.assert_array_equal(live.decode(sent["x"]), run.xy[:, 0].astype(np.float32))
        assert sent["diverged_at"] == run.diverged_at and sent["reached"] == run.reached


def test_the_still_background_is_the_race_without_its_moving_parts(diverging):
    record = scene_record.of(diverging)
    n = len(record.runs)
    full = figures.race_figure(record, step=0, frames=0).to_plotly_json()["data"]
    still = figures.race_figure(record, step=0, frames=0, moving=False).to_plotly_json()["data"]
    ends = sum(r.diverged_at is not None for r in record.runs)
    assert len(full) - len(still) == 1 + ends + n + 2        # click grid, Xs, heads, 2 cursors
    moving = figures.moving_traces(record, 40)
    assert len(moving) == n + 2
    for r, head in zip(record.runs, moving):
        assert [head["x"][0], head["y"][0]] == r.head(40)
        assert head["marker"]["color"] == r.color and head["marker"]["symbol"] == r.head_symbol


# --------------------------------------------------------------------------------------------
# frames, by pixels


def _dense(points: np.ndarray, spacing: float = 1.0) -> np.ndarray:
    """A polyline (n, 2 px) resampled every `spacing` px (NaN rows dropped)."""
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) < 2:
        return points
    out = [points[:1]]
    for a, b in zip(points[:-1], points[1:]):
        n = max(int(np.hypot(*(b - a)) / spacing), 1)
        t = (np.arange(1, n + 1) / n)[:, None]
        out.append(a + t * (b - a))
    return np.vstack(out)


def _far(points: np.ndarray, others: np.ndarray, px: float) -> np.ndarray:
    """Mask of `points` farther than px from every point of `others`."""
    if not len(others) or not len(points):
        return np.ones(len(points), dtype=bool)
    keep = np.ones(len(points), dtype=bool)
    for chunk in range(0, len(others), 2000):
        o = others[chunk: chunk + 2000]
        d = np.hypot(points[:, None, 0] - o[None, :, 0], points[:, None, 1] - o[None, :, 1])
        keep &= d.min(axis=1) > px
    return keep


def _rgb(color: str) -> np.ndarray:
    return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)


@pytest.mark.parametrize("frame_index", [0, 1, 4, 11])
def test_frame_k_draws_each_path_up_to_step_k_in_its_colour_and_nothing_beyond(spread,
                                                                               frame_index):
    anim = animation.Animation(spread, frames=12, background="pil", width=900, height=540)
    g, record = anim.geometry, anim.record
    k = anim.steps[frame_index]
    frame = np.asarray(anim.frame(k), dtype=np.int16)
    background = np.asarray(anim.background(), dtype=np.int16)
    x0, y0, x1, y1 = g.subplot_box("x", "y")

    def px(xy):
        return g.to_px("x", "y", xy[:, 0], xy[:, 1])

    def inside(p, margin=3):
        return (p[:, 0] > x0 + margin) & (p[:, 0] < x1 - margin) & \
               (p[:, 1] > y0 + margin) & (p[:, 1] < y1 - margin)

    done = [_dense(px(r.path(k))) for r in record.runs]
    marks = [px(np.array([r.pos(k)])) for r in record.runs]              # heads
    marks += [px(np.asarray(record.minima)), px(np.array([record.start]))]
    marks += [px(np.array([r.end_xy])) for r in record.runs if r.gone(k)]
    marks = np.vstack(marks)
    for i, r in enumerate(record.runs):
        others = np.vstack([done[j] for j in range(len(done)) if j != i] or [np.zeros((0, 2))])
        pts = done[i][inside(done[i])]
        pts = pts[_far(pts, others, 9) & _far(pts, marks, 18)]      # a star: 15.4 px
        if r.at(k) < 5:                          # not yet out from under the start's mark
            continue
        assert len(pts) >= 15, f"{r.label}: too few free path pixels to check at step {k}"
        ij = np.floor(pts).astype(int)                    # the pixel each point falls in
        got = frame[ij[:, 1], ij[:, 0]]
        close = np.abs(got - _rgb(r.color)).sum(axis=1) <= 40
        assert close.mean() > 0.97, f"{r.label} at step {k}: {close.mean():.2f} in its colour"
    # beyond step k: the path ahead is the background's (faint, dotted), never drawn over
    ahead = np.vstack([_dense(px(r.xy[r.at(k) + 1: r.last + 1])) for r in record.runs
                       if r.at(k) < r.last] or [np.zeros((0, 2))])
    ahead = ahead[inside(ahead)]
    ahead = ahead[_far(ahead, np.vstack(done), 8) & _far(ahead, marks, 18)]
    if frame_index <= 1:                         # (later, the rest lies under what is drawn)
        assert len(ahead) >= 30
    ij = np.floor(ahead).astype(int)
    assert np.array_equal(frame[ij[:, 1], ij[:, 0]], background[ij[:, 1], ij[:, 0]])


def test_frames_do_not_depend_on_run_labels(diverging):
    """Nothing is found by its name: runs labelled like the figure's other traces draw the same
    moving parts (only the legend, in the background, reads differently)."""
    record = scene_record.of(diverging)
    # the same lengths as the runs' own labels, so the legend (and the layout) stays as it was
    assert [len(r.label) for r in record.runs] == [4, 18, 17]
    tricky = ("start", "loss cursor now", "Momentum diverged")
    renamed = dataclasses.replace(record, runs=tuple(
        dataclasses.replace(r, label=name) for r, name in zip(record.runs, tricky)))
    a = animation.Animation(record, frames=6, background="pil", width=800, height=480)
    b = animation.Animation(renamed, frames=6, background="pil", width=800, height=480)
    same_bg = np.all(np.asarray(a.background()) == np.asarray(b.background()), axis=-1)
    x0, y0, x1, y1 = (int(v) for v in a.geometry.subplot_box("x", "y"))
    assert same_bg[y0 + 6:y1, x0:x1].all()              # the map (below the legend) is the same
    for step in a.steps:
        fa, fb = np.asarray(a.frame(step)), np.asarray(b.frame(step))
        assert np.array_equal(fa[same_bg], fb[same_bg]), step


# --------------------------------------------------------------------------------------------
# the package's shape


def _imports(path: Path) -> set[str]:
    """optiviz modules a module imports (at the top or inside a function)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            out |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("optiviz."):
            out.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("optiviz.")}
        elif isinstance(node, ast.Import) or isinstance(node, ast.ImportFrom):
            pass
    return out


def _external(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def test_optiviz_imports_point_one_way():
    modules = {p.stem: p for p in OPTIVIZ.glob("*.py")}
    graph = {name: _imports(p) & set(modules) - {name} for name, p in modules.items()}
    # no circle, top-level or lazy
    state: dict[str, int] = {}

    def visit(name, path):
        state[name] = 1
        for dep in graph[name]:
            assert state.get(dep) != 1, f"import circle: {' -> '.join(path + [dep])}"
            if dep not in state:
                visit(dep, path + [dep])
        state[name] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])
    # the record sits under every view, the surface image under the record
    viewers = {"figures", "live", "animation", "export", "live_html", "cli"}
    assert not graph["scene_record"] & (viewers | {"renderer"})
    assert graph["surface_image"] == set()
    for name in ("figures", "live", "animation", "export"):
        assert "scene_record" in graph[name] or name == "export" and "figures" in graph[name]
    assert not _external(modules["scene_record"]) & {"plotly", "PIL", "streamlit"}
    assert not _external(modules["surface_image"]) & {"plotly", "streamlit"}
