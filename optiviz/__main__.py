"""python -m optiviz export ...: see optiviz.cli."""

from optiviz.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
