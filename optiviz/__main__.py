"""python -m optiviz export|map ...: see optiviz.cli and optiviz.map_cli."""

from optiviz import map_cli  # noqa: F401 - registers the "map" command
from optiviz.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
