"""What a race starts from when the Surface box changes: the surface's demo start and, per
optimizer, a learning rate that moves visibly there without diverging.

The rates are chosen by tools/choose_surface_lrs.py (its docstring has the rule) and read from
optiviz/data/surface_lrs.json. A surface or optimizer the table does not know (a typed surface)
gets None: the caller keeps what it has.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import landscapes

TABLE = Path(__file__).resolve().parent / "data" / "surface_lrs.json"


@lru_cache(maxsize=1)
def _table() -> dict:
    return json.loads(TABLE.read_text(encoding="utf-8"))["lrs"]


def lr_for(surface: str, optimizer: str) -> float | None:
    """The table's learning rate for `optimizer` on `surface` (default parameters), or None."""
    value = _table().get(surface, {}).get(optimizer)
    return None if value is None else float(value)


def start_for(surface: str) -> tuple[float, float] | None:
    """The surface's demo start (landscapes' own), or None for a name it does not know."""
    if surface not in landscapes.names():
        return None
    x, y = landscapes.get(surface).start
    return float(x), float(y)
