"""python -m optiviz export|map ..., or the `optiviz` command (pyproject.toml's console script):
see optiviz.cli and optiviz.map_cli."""

from optiviz import map_cli  # noqa: F401 - registers the "map" command
from optiviz.cli import main as _cli_main


def main(argv=None) -> int:
    """The command line with every command registered (the console script's entry point)."""
    return _cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
