"""`python -m optiviz map ...`, run like a user would: real files, their grids, their pixels.

Expected values are derived by hand in the comments (basins of a symmetric double well, the
divergence bound of GD on a quadratic); the CSV is also read back against the map computed in
this process. Bad input is checked in process (cli.main), the rest in subprocesses.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import landscapes
from optiviz import cli, export, map_cli, maps  # noqa: F401 - map_cli registers "map"

ROOT = Path(__file__).resolve().parents[1]
needs_browser = pytest.mark.skipif(export.browser_path() is None,
                                   reason="no Chrome/Chromium (apt-get install chromium)")
WELL = ["--formula", "(x^2 - 1)^2 + y^2", "--window", "-2", "2", "-1.5", "1.5"]
QUAD = "0.5*x^2 + 2*y^2"          # curvatures 1 and L = 4, minimum 0 at the origin


def _env(**extra) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("OPTIVIZ_DEBUG", None)
    env.update(extra)
    return env


def run(*args, cwd, env=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "optiviz", "map", *args], cwd=cwd,
                          env=env or _env(), capture_output=True, timeout=timeout)


def _rows(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(Path(path).read_text())))


def _only(folder: Path, *names) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)


# The double well (x² - 1)² + y²: GD with lr <= 0.05 never changes the sign of x
# (x ← x(1 - 4 lr (x² - 1)), a positive factor while x² < 1 + 1/(4 lr)), so every start
# left of x = 0 ends at (-1, 0) and every start right of it at (1, 0); 32 columns over [-2, 2]
# put no start on x = 0. The map is two blocks, mirror images: left one hue, right another.
@needs_browser
def test_basin_png_of_a_double_well_is_two_hues_split_at_x_0(tmp_path):
    proc = run("basin", *WELL, "--optimizer", "sgd:lr=0.02", "--grid", "32", "--steps", "400",
               "--scale", "1", "--width", "700", "--height", "560", "--out", "wells.png",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    err = proc.stderr.decode()
    assert "%]" in err and "wrote wells.png" in err
    image = Image.open(tmp_path / "wells.png")
    assert image.size == (700, 560)
    hsv = np.asarray(image.convert("RGB").convert("HSV"), dtype=np.float64)
    coloured = hsv[..., 1] > 0.3 * 255                     # the cells; text and axes are grey
    rows = np.flatnonzero(coloured.sum(axis=1) > 200)      # the map's rows (legend: 14 px)
    assert rows.size > 150
    # A row a fifth of the way down the map, away from the minima's stars on y = 0.
    row = rows[0] + (rows[-1] - rows[0]) // 5
    cols = np.flatnonzero(coloured[row])
    runs = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)
    block = max(runs, key=len)                             # the map, not a legend swatch
    assert block.size > 300
    quarter = block.size // 4
    left = hsv[row, block[2:quarter], 0]
    right = hsv[row, block[-quarter:-2], 0]
    assert np.ptp(left) <= 3 and np.ptp(right) <= 3        # one hue each (of 255)
    gap = abs(float(np.median(left)) - float(np.median(right)))
    assert min(gap, 255 - gap) > 25                        # > 35° apart
    _only(tmp_path, "wells.png")


def test_basin_csv_is_the_grid_and_the_sign_of_x(tmp_path):
    proc = run("basin", *WELL, "--optimizer", "sgd:lr=0.02", "--optimizer", "sgd:lr=0.04",
               "--grid", "12x6", "--steps", "600", "--out", "wells.csv", cwd=tmp_path,
               env=_env(BROWSER_PATH="/nonexistent"))       # CSV needs no browser
    assert proc.returncode == 0, proc.stderr.decode()
    rows = _rows(tmp_path / "wells.csv")
    assert len(rows) == 2 * 12 * 6
    assert {r["label"] for r in rows} == {"SGD / GD (lr=0.02)", "SGD / GD (lr=0.04)"}
    surf = landscapes.get("custom", formula="(x^2 - 1)^2 + y^2", xmin=-2, xmax=2, ymin=-1.5,
                          ymax=1.5)
    for r in rows:
        assert r["outcome"] == "minimum"
        mx, _ = surf.minima[int(r["minimum"])]
        assert np.sign(mx) == np.sign(float(r["x"]))
    # the grid read back equals the map computed here, number for number
    b = maps.basin_map(surf, {"optimizer": "sgd", "lr": 0.04}, n=(12, 6), steps=600)
    mine = [r for r in rows if r["label"] == "SGD / GD (lr=0.04)"]
    for r in mine:
        iy, ix = int(r["iy"]), int(r["ix"])
        assert float(r["x"]) == b.xs[ix] and float(r["y"]) == b.ys[iy]
        assert float(r["final_x"]) == b.final_xy[iy, ix, 0]
        assert float(r["final_loss"]) == b.final_loss[iy, ix]
        assert int(r["steps_to_tolerance"]) == b.steps_to_tolerance[iy, ix]


# GD with weight decay λ on 0.5 x² + 2 y² sees y ← (1 - lr (4 + λ)) y: it diverges iff
# lr > 2/(4 + λ). Past the bound by 5 % |y| grows ≥ 10 % a step: out of the box (±20 · the
# window) well within 300 steps; below it nothing grows. Cells within 5 % of the bound are
# left out.
def test_hyper_csv_round_trips_and_diverges_beyond_2_over_L(tmp_path):
    proc = run("hyper", "--formula", QUAD, "--optimizer", "sgd", "--x", "lr:0.05:1:24:log",
               "--y", "weight_decay:0:4:5", "--start", "1", "1", "--steps", "300",
               "--out", "gd.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    rows = _rows(tmp_path / "gd.csv")
    assert len(rows) == 24 * 5 and list(rows[0])[:4] == ["ix", "iy", "lr", "weight_decay"]
    lrs = np.geomspace(0.05, 1.0, 24)
    wds = np.linspace(0.0, 4.0, 5)
    seen = 0
    for r in rows:
        lr, wd = float(r["lr"]), float(r["weight_decay"])
        assert lr == lrs[int(r["ix"])] and wd == wds[int(r["iy"])]
        ratio = lr * (4.0 + wd) / 2.0
        if abs(ratio - 1.0) > 0.05:
            seen += 1
            assert (r["diverged_at"] != "") == (ratio > 1.0), r
            assert (r["final_loss"] == "") == (ratio > 1.0), r
    assert seen > 80
    surf = landscapes.get("custom", formula=QUAD)
    h = maps.hyper_map(surf, {"optimizer": "sgd", "lr": 1e-3}, "lr", lrs, "weight_decay", wds,
                       start=(1.0, 1.0), steps=300)
    assert (tmp_path / "gd.csv").read_text() == maps.grid_csv(h)


def test_ensemble_csv_and_png(tmp_path):
    proc = run("ensemble", "--surface", "saddle", "--optimizer", "sgd:lr=0.02", "--noise", "0.5",
               "--runs", "200", "--steps", "120", "--out", "spread.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    rows = _rows(tmp_path / "spread.csv")
    assert len(rows) == 121 and rows[0]["alive"] == "200"
    # the start is the same for every run: no spread at step 0
    assert rows[0]["x_q10"] == rows[0]["x_q90"] == "-1.5"
    if export.browser_path() is None:
        return
    proc = run("ensemble", "--surface", "saddle", "--optimizer", "sgd:lr=0.02",
               "--optimizer", "adam:lr=0.02", "--noise", "0.5", "--runs", "200", "--steps",
               "120", "--scale", "1", "--out", "spread.png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    image = Image.open(tmp_path / "spread.png")
    assert image.size == (1100, 620)
    assert np.asarray(image.convert("L"), dtype=np.float64).std() > 20
    _only(tmp_path, "spread.csv", "spread.png")


@needs_browser
def test_hyper_svg_two_optimizers(tmp_path):
    proc = run("hyper", "--surface", "rosenbrock", "--optimizer", "adam",
               "--optimizer", "adam:beta2=0.9", "--x", "lr:1e-3:0.5:12", "--y",
               "beta1:0.5:0.95:8", "--steps", "100", "--metric", "steps", "--quiet",
               "--out", "adam.svg", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    root = ET.parse(tmp_path / "adam.svg").getroot()
    assert sum(1 for e in root.iter() if e.tag.endswith("image")) >= 2      # the heatmaps


def _svg_text(path) -> str:
    """The words an SVG shows: every text element's text."""
    root = ET.parse(path).getroot()
    return " ".join("".join(e.itertext()) for e in root.iter() if e.tag.endswith("}text"))


@needs_browser
def test_lang_ko_writes_the_map_in_korean(tmp_path):
    """map --lang ko, as export --lang ko: the picture's words in Korean (the CSV is the same)."""
    flags = ["basin", "--surface", "himmelblau", "--optimizer", "adam:lr=0.05", "--grid", "12",
             "--steps", "60", "--quiet"]
    ko = run(*flags, "--lang", "ko", "--out", "ko.svg", cwd=tmp_path)
    en = run(*flags, "--out", "en.svg", cwd=tmp_path)
    assert ko.returncode == 0 and en.returncode == 0, (ko.stderr.decode(), en.stderr.decode())
    korean, english = _svg_text(tmp_path / "ko.svg"), _svg_text(tmp_path / "en.svg")
    for words in ("힘멜블라우", "출발점마다 끝나는 곳", "(3, 2)에서 끝남", "발산", "전역 최솟값",
                  "학습률 0.05"):
        assert words in korean, words
    for words in ("where each start ends", "ends at", "diverged", "global minimum"):
        assert words in english and words not in korean, words
    assert not any("\uac00" <= ch <= "\ud7a3" for ch in english)
    for lang in ("en", "ko"):
        assert run(*flags, "--lang", lang, "--out", f"{lang}.csv", cwd=tmp_path).returncode == 0
    assert (tmp_path / "ko.csv").read_bytes() == (tmp_path / "en.csv").read_bytes()
    _only(tmp_path, "ko.svg", "en.svg", "ko.csv", "en.csv")


def test_png_without_a_browser_exits_1_before_computing(tmp_path):
    proc = run("basin", "--optimizer", "adam", "--grid", "1024", "--steps", "100000",
               "--out", "b.png", cwd=tmp_path, env=_env(BROWSER_PATH="/nonexistent"),
               timeout=60)
    assert proc.returncode == 1
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "chromium" in lines[0]
    _only(tmp_path)


@pytest.mark.parametrize("argv, words", [
    (["map"], "required"),
    (["map", "atlas", "--out", "a.png"], "invalid choice"),
    (["map", "basin", "--optimizer", "adamm", "--out", "a.csv"], "unknown optimizer"),
    (["map", "basin", "--out", "a.gif"], ".png, .svg or .csv"),
    (["map", "basin", "--grid", "0", "--out", "a.csv"], "--grid"),
    (["map", "basin", "--grid", "12x", "--out", "a.csv"], "--grid"),
    (["map", "basin", "--grid", "2000", "--out", "a.csv"], "--grid"),
    (["map", "basin", "--surface", "nowhere", "--out", "a.csv"], "--surface"),
    (["map", "basin", "--bounds", "1", "0", "0", "1", "--out", "a.csv"], "bounds"),
    (["map", "basin", "--steps", "0", "--out", "a.csv"], "steps"),
    (["map", "basin", "--optimizer", "adam:lr=-1", "--out", "a.csv"], "lr"),
    (["map", "basin", "--optimizer", "adam:beta1=1.5", "--out", "a.csv"], "beta1"),
    (["map", "basin", "--formula", "x^^2", "--out", "a.csv"], "--formula"),
    (["map", "hyper", "--x", "lr", "--out", "a.csv"], "--y"),
    (["map", "hyper", "--x", "lr:1:0.1:8", "--y", "beta1", "--out", "a.csv"], "low"),
    (["map", "hyper", "--x", "lr:a:b", "--y", "beta1", "--out", "a.csv"], "PARAM"),
    (["map", "hyper", "--x", "momentum", "--y", "beta1", "--out", "a.csv"], "momentum"),
    (["map", "hyper", "--x", "lr", "--y", "lr", "--out", "a.csv"], "differ"),
    (["map", "hyper", "--x", "lr:0:1:8:log", "--y", "beta1", "--out", "a.csv"], "log"),
    (["map", "hyper", "--x", "lr", "--y", "beta1:0.5:1.0:8", "--out", "a.csv"], "beta1"),
    (["map", "basin", "--lang", "fr", "--out", "a.csv"], "--lang"),
    (["map", "ensemble", "--out", "a.csv"], "--noise"),
    (["map", "ensemble", "--noise", "0.5", "--runs", "0", "--out", "a.csv"], "runs"),
    (["map", "ensemble", "--noise", "0.5", "--start", "99", "0", "--out", "a.csv"], "start"),
])
def test_bad_input_exits_2_with_one_line_and_no_file(tmp_path, monkeypatch, capsys, argv,
                                                     words):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert words.lower() in lines[0].lower(), lines[0]
    assert "Traceback" not in err
    _only(tmp_path)


def test_help_lists_the_kinds_and_an_example(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "optiviz", "map", "--help"], cwd=tmp_path,
                          env=_env(), capture_output=True, timeout=60)
    assert proc.returncode == 0
    out = proc.stdout.decode()
    for word in ("basin", "hyper", "ensemble", "python -m optiviz map basin"):
        assert word in out


def test_dask_flag_writes_the_same_csv(tmp_path):
    """--dask: the chunks on a LocalCluster of worker processes; the file is byte for byte the
    single process's (noise included)."""
    pytest.importorskip("distributed", reason="dask.distributed is not installed "
                                              "(pip install -r requirements-dask.txt)")
    flags = ["basin", "--surface", "himmelblau", "--optimizer", "adam:lr=0.2", "--noise", "2",
             "--grid", "40x30", "--steps", "80", "--quiet"]
    one = run(*flags, "--out", "one.csv", cwd=tmp_path)
    many = run(*flags, "--dask", "--out", "many.csv", cwd=tmp_path)
    assert one.returncode == 0 and many.returncode == 0, many.stderr.decode()
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "many.csv").read_bytes()
    _only(tmp_path, "one.csv", "many.csv")
