"""The package: pyproject.toml agrees with requirements.txt, ships what the app and the command
line read at run time, and its `optiviz` command knows every subcommand; the learning rates a
new surface gets are the ones tools/choose_surface_lrs.py writes.

(`pip install .` into a fresh venv and `optiviz export ...` from another folder were run by hand
on Python 3.11-3.13: README.md.)
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _requirements() -> list[str]:
    lines = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_dependencies_are_requirements_txt():
    assert PYPROJECT["project"]["dependencies"] == _requirements()


def test_the_python_versions_match_streamlits():
    assert PYPROJECT["project"]["requires-python"] == ">=3.11"
    assert sys.version_info >= (3, 11)


def test_the_packages_and_their_files():
    tool = PYPROJECT["tool"]["setuptools"]
    assert set(tool["packages"]) >= {"optim_core", "landscapes", "optiviz", "ui", "static.live_view"}
    data = tool["package-data"]
    assert "*/*.json" in data["optiviz"], "optiviz/data and the string catalogs"
    assert set(data["static.live_view"]) == {"*.js", "*.css"}
    assert (REPO / "optiviz" / "data" / "surface_lrs.json").is_file()
    for name in ("index.js", "figures.js", "overlay.js", "live_view.css"):
        assert (REPO / "static" / "live_view" / name).is_file()


def test_the_console_script_registers_every_command(capsys):
    assert PYPROJECT["project"]["scripts"]["optiviz"] == "optiviz.__main__:main"
    from optiviz.__main__ import main

    for command in (["export", "--help"], ["map", "--help"]):
        with pytest.raises(SystemExit) as done:
            main(command)
        assert done.value.code == 0
    assert "basin" in capsys.readouterr().out


def test_the_surface_rates_are_what_the_script_writes():
    check = subprocess.run([sys.executable, str(REPO / "tools" / "choose_surface_lrs.py"), "--check"],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
