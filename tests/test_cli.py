"""The command line, run in a subprocess like a user would: `python -m optiviz export ...`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from optiviz import cli, export
from optiviz.scene import default_scene, normalize_scene

ROOT = Path(__file__).resolve().parents[1]
needs_browser = pytest.mark.skipif(export.browser_path() is None,
                                   reason="no Chrome/Chromium (apt-get install chromium)")


def _env(**extra) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("OPTIVIZ_DEBUG", None)
    env.update(extra)
    return env


def run(*args, cwd, env=None, timeout=120, stdin=None):
    return subprocess.run([sys.executable, "-m", "optiviz", *args], cwd=cwd,
                          env=env or _env(), capture_output=True, timeout=timeout, input=stdin)


def _no_leftovers(folder: Path, keep=()) -> None:
    left = sorted(p.name for p in folder.iterdir() if p.name not in keep)
    assert left == [], left


def _one_error_line(proc) -> str:
    err = proc.stderr.decode()
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    return lines[0]


NO_BROWSER = dict(BROWSER_PATH="/nonexistent/chromium")


def test_help(tmp_path):
    top = run("--help", cwd=tmp_path)
    assert top.returncode == 0 and b"export" in top.stdout
    proc = run("export", "--help", cwd=tmp_path)
    assert proc.returncode == 0
    out = proc.stdout.decode()
    for flag in ("--config", "--format", "--out", "--view", "--frames", "--fps", "--scale",
                 "--optimizer", "--surface", "--start", "--steps", "apt-get install chromium"):
        assert flag in out, flag


@needs_browser
def test_png_and_svg(tmp_path):
    proc = run("export", "--out", "race.png", "--scale", "1", "--width", "800", "--height",
               "500", "--steps", "120", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    image = Image.open(tmp_path / "race.png")
    assert image.size == (800, 500)
    assert np.asarray(image.convert("L"), dtype=np.float64).std() > 20
    proc = run("export", "--format", "svg", "--out", "panels.svg", "--view", "panels",
               "--steps", "120", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    root = ET.parse(tmp_path / "panels.svg").getroot()
    assert sum(1 for e in root.iter() if e.tag.endswith("path")) > 20
    _no_leftovers(tmp_path, keep=("race.png", "panels.svg"))


def test_gif_without_a_browser_and_progress(tmp_path):
    """Without a browser the animation still works (PIL background), progress on stderr."""
    proc = run("export", "--format", "gif", "--out", "race.gif", "--frames", "12", "--width",
               "640", "--height", "400", cwd=tmp_path, env=_env(**NO_BROWSER))
    assert proc.returncode == 0, proc.stderr.decode()
    image = Image.open(tmp_path / "race.gif")
    assert image.n_frames == 12 and image.size == (640, 400)
    err = proc.stderr.decode()
    assert "%]" in err and "frame" in err and "wrote race.gif" in err
    _no_leftovers(tmp_path, keep=("race.gif",))


def test_mp4(tmp_path):
    import imageio.v2 as iio

    proc = run("export", "--out", "race.mp4", "--frames", "16", "--duration", "2", "--hold",
               "0", "--width", "640", "--height", "400", "--quiet", cwd=tmp_path,
               env=_env(**NO_BROWSER))
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""                            # --quiet
    reader = iio.get_reader(str(tmp_path / "race.mp4"))
    frames = [f for f in reader]                # (list() asks len(): inf for ffmpeg)
    assert reader.get_meta_data()["fps"] == pytest.approx(8)
    reader.close()
    assert abs(len(frames) - 16) <= 1 and frames[0].shape == (400, 640, 3)


def test_text_formats_and_scene_flags(tmp_path):
    env = _env(**NO_BROWSER)
    flags = ["--surface", "himmelblau", "--optimizer", "adam:lr=0.1,beta1=0.8",
             "--optimizer", "momentum:lr=0.01", "--steps", "80", "--schedule", "cosine"]
    proc = run("export", "--format", "config", "--out", "scene.json", *flags, cwd=tmp_path,
               env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    scene = json.loads((tmp_path / "scene.json").read_text())
    assert scene["surface"]["name"] == "himmelblau" and scene["steps"] == 80
    assert [o["optimizer"] for o in scene["optimizers"]] == ["adam", "momentum"]
    assert scene["optimizers"][0]["hyperparameters"]["beta1"] == 0.8
    assert scene["schedule"] in ("cosine", {"name": "cosine"}) or scene["schedule"]["name"] == \
        "cosine"
    # the config file gives the same scene back, and the other formats from it
    proc = run("export", "--config", "scene.json", "--format", "config", "--out", "again.json",
               cwd=tmp_path, env=env)
    assert proc.returncode == 0
    assert json.loads((tmp_path / "again.json").read_text()) == scene
    proc = run("export", "--config", "scene.json", "--out", "runs.csv", cwd=tmp_path, env=env)
    assert proc.returncode == 0
    back = export.read_trajectories_csv((tmp_path / "runs.csv").read_text())
    assert len(back) == 2 and all(len(r["x"]) == 81 for r in back.values())
    proc = run("export", "--config", "scene.json", "--format", "json", "--out", "runs.json",
               cwd=tmp_path, env=env)
    assert proc.returncode == 0
    assert json.loads((tmp_path / "runs.json").read_text())["scene"] == scene
    proc = run("export", "--config", "scene.json", "--out", "view.html", "--frames", "10",
               cwd=tmp_path, env=env)
    assert proc.returncode == 0
    html = (tmp_path / "view.html").read_text()
    assert "mountLiveView(" in html and "<script src=" not in html
    # standard output
    proc = run("export", "--format", "csv", "--out", "-", "--steps", "5", cwd=tmp_path, env=env)
    assert proc.returncode == 0
    assert proc.stdout.decode().startswith("label,optimizer,step,x,y,loss,lr,diverged\n")


def test_default_scene_without_config(tmp_path):
    proc = run("export", "--format", "config", "--out", "s.json", cwd=tmp_path)
    assert proc.returncode == 0
    assert json.loads((tmp_path / "s.json").read_text()) == normalize_scene(default_scene())


@pytest.mark.parametrize("content, words", [
    (b'{"optimizers": [', "not valid JSON"),
    (b'{"optimizers": [{"optimizer": "adamx"}]}', "unknown optimizer"),
    (b'{"steps": 1e308}', "steps"),
    (b'{"start": [1e999, 2]}', "start"),
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "UTF-8"),
])
def test_bad_config_exits_2_with_one_line_and_no_file(tmp_path, content, words):
    (tmp_path / "scene.json").write_bytes(content)
    proc = run("export", "--config", "scene.json", "--out", "race.gif", cwd=tmp_path,
               env=_env(**NO_BROWSER))
    assert proc.returncode == 2
    assert words.lower() in _one_error_line(proc).lower()
    _no_leftovers(tmp_path, keep=("scene.json",))


def test_100mb_junk_config_is_refused_at_once(tmp_path):
    junk = tmp_path / "junk.json"
    with open(junk, "wb") as fh:
        fh.truncate(100 << 20)                           # 100 MB (sparse)
    start = time.monotonic()
    proc = run("export", "--config", "junk.json", "--out", "race.png", cwd=tmp_path)
    assert proc.returncode == 2
    assert "too large" in _one_error_line(proc)
    assert time.monotonic() - start < 10
    _no_leftovers(tmp_path, keep=("junk.json",))


@pytest.mark.parametrize("args, words", [
    (["--optimizer", "nope"], "unknown optimizer"),
    (["--optimizer", "adam:lr"], "key=value"),
    (["--steps", "99999999"], "steps"),
    (["--noise", "inf"], "noise"),
    (["--frames", "1"], "frames"),
    (["--bogus"], "unrecognized"),
    (["--config", "missing.json"], "missing.json"),
])
def test_bad_flags_exit_2_with_one_line(tmp_path, args, words):
    proc = run("export", "--out", "race.gif", *args, cwd=tmp_path, env=_env(**NO_BROWSER))
    assert proc.returncode == 2, proc.stderr.decode()
    assert words.lower() in _one_error_line(proc).lower()
    _no_leftovers(tmp_path)


def test_output_problems_are_refused_before_rendering(tmp_path):
    proc = run("export", "--out", "nowhere/race.gif", cwd=tmp_path)
    assert proc.returncode == 2 and "does not exist" in _one_error_line(proc)
    proc = run("export", "--out", "race.json", cwd=tmp_path)
    assert proc.returncode == 2 and "--format" in _one_error_line(proc)
    proc = run("export", "--out", "race.bmp", cwd=tmp_path)
    assert proc.returncode == 2 and "--format" in _one_error_line(proc)
    _no_leftovers(tmp_path)


def test_png_without_a_browser_says_how_to_get_one(tmp_path):
    proc = run("export", "--out", "race.png", cwd=tmp_path, env=_env(**NO_BROWSER))
    assert proc.returncode == 1
    assert "apt-get install chromium" in _one_error_line(proc)
    _no_leftovers(tmp_path)


def test_interrupted_render_leaves_nothing(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "optiviz", "export", "--out", "race.gif", "--frames", "300"],
        cwd=tmp_path, env=_env(**NO_BROWSER), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        seen = b""
        deadline = time.monotonic() + 60
        while b"no browser" not in seen and time.monotonic() < deadline:   # frames start now
            line = proc.stderr.readline()
            if not line:
                break
            seen += line
        assert b"no browser" in seen, seen
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=60)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, rest
    assert b"interrupted" in rest and b"Traceback" not in rest
    assert b"wrote" not in rest
    _no_leftovers(tmp_path)


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "race.gif"
    target.write_bytes(b"old")
    cli.atomic_write(str(target), b"new data")
    assert target.read_bytes() == b"new data"
    _no_leftovers(tmp_path, keep=("race.gif",))

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        cli.atomic_write(str(target), b"x" * 1000)
    assert target.read_bytes() == b"new data"                 # the old file is intact
    _no_leftovers(tmp_path, keep=("race.gif",))


def test_failed_render_in_process_leaves_no_file(tmp_path, monkeypatch, capsys):
    def fail(*args, **kwargs):
        raise export.ExportError("the browser crashed")

    monkeypatch.setattr(export, "export", fail)
    out = tmp_path / "race.png"
    status = cli.main(["export", "--out", str(out)])
    assert status == 1
    assert capsys.readouterr().err.strip() == "error: the browser crashed"
    _no_leftovers(tmp_path)


def test_parse_spec():
    assert cli.parse_spec("adam:lr=0.05,beta1=0.9,amsgrad=true", "x") == (
        "adam", {"lr": 0.05, "beta1": 0.9, "amsgrad": True})
    assert cli.parse_spec("sgd", "x") == ("sgd", {})
    assert cli.parse_spec("step:step_size=100", "x") == ("step", {"step_size": 100})
    for bad in ("", ":lr=1", "adam:lr", "adam:=3"):
        with pytest.raises(ValueError):
            cli.parse_spec(bad, "--optimizer")


def test_a_named_surface_gets_its_own_start_and_rates_as_in_the_app():
    """--surface goldstein_price without a config: the app's rule for a changed surface (the
    demo start, each optimizer without an lr at that surface's chosen rate), so the default
    race no longer diverges at step 1; an lr given on the command line is kept, and Rosenbrock
    (the default scene's surface) keeps the default scene's rates."""
    import landscapes
    import optim_core
    from optiviz import surface_defaults

    def scene_of(*argv):
        return cli.scene_from_args(cli.build_parser().parse_args(["export", "--out", "x.png", *argv]))

    scene = scene_of("--surface", "goldstein_price")
    assert scene["start"] == list(landscapes.get("goldstein_price").start)
    for entry in scene["optimizers"]:
        assert entry["lr"] == surface_defaults.lr_for("goldstein_price", entry["optimizer"])
        traj = optim_core.run("goldstein_price", entry["optimizer"], scene["start"], 200,
                              lr=entry["lr"], **entry["hyperparameters"])
        assert traj.diverged_at[0] == -1, entry
    mixed = scene_of("--surface", "goldstein_price", "--optimizer", "adam",
                     "--optimizer", "sgd:lr=0.5")
    assert [(e["optimizer"], e["lr"]) for e in mixed["optimizers"]] == [
        ("adam", surface_defaults.lr_for("goldstein_price", "adam")), ("sgd", 0.5)]
    assert scene_of("--surface", "rosenbrock")["optimizers"] == default_scene()["optimizers"]
