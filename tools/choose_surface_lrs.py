#!/usr/bin/env python
"""Choose, for every surface and optimizer, the learning rate the app gives a run when the
Surface box changes (ui.state.on_surface_change), and write optiviz/data/surface_lrs.json.

    python tools/choose_surface_lrs.py            # rewrites the file (deterministic)
    python tools/choose_surface_lrs.py --check    # exits 1 if the file is not what it would write

The rule, per surface (its default parameters, its demo start `surface.start`) and optimizer
(torch's default hyperparameters, constant rate, no noise), over the app's learning-rate slider
values (optiviz.widgets.LR_OPTIONS), each run for the app's default STEPS:

1. A rate is usable when its run never diverges, never leaves the plot window (every point
   of the path is on the map) and never jumps: no single step is longer than JUMP (10 %) of
   the window's diagonal, so the path is a path, not points scattered over the map.
2. Its score is where it ends: the distance from its last point to the nearest known minimum,
   over the window's diagonal. On a surface with no minimum (the saddles), minus the distance
   it travelled from the start: going further down is better, as long as it stays on the map.
3. A usable rate must move visibly: its path gets at least MOVE (5 %) of the diagonal away from
   the start. (Dropped only when no usable rate moves that far.)
4. Of the usable rates whose score is within SLACK (1 % of the diagonal) of the best one, the
   smallest: it ends as close to a minimum as the best rate but takes the whole race to get
   there (the larger ones arrive early, or bounce on the edge of stability).

If no rate is usable, the smallest slider value is written (it moves least).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import landscapes  # noqa: E402
import optim_core  # noqa: E402
from optiviz.scene import DEFAULT_SCENE  # noqa: E402
from optiviz.widgets import LR_OPTIONS  # noqa: E402

OUT = REPO / "optiviz" / "data" / "surface_lrs.json"
STEPS = int(DEFAULT_SCENE["steps"])
MOVE = 0.05
JUMP = 0.10
SLACK = 0.01


def choose(surface, optimizer: str) -> dict:
    """The chosen rate and why: {"lr", "end_distance", "travel", "longest_step", "usable"}."""
    lrs = np.asarray(LR_OPTIONS, dtype=np.float64)
    traj = optim_core.run(surface, optimizer, surface.start, STEPS, lr=lrs)
    xy = traj.xy                                                  # (steps + 1, N, 2)
    (x0, x1), (y0, y1) = surface.bounds
    diag = float(np.hypot(x1 - x0, y1 - y0))
    with np.errstate(invalid="ignore"):
        inside = np.all((xy[..., 0] >= x0) & (xy[..., 0] <= x1)
                        & (xy[..., 1] >= y0) & (xy[..., 1] <= y1), axis=0)
    start = np.asarray(surface.start, dtype=np.float64)
    with warnings.catch_warnings():             # a run that diverged at once has no steps
        warnings.simplefilter("ignore", RuntimeWarning)
        jump = np.nanmax(np.hypot(*np.diff(xy, axis=0).transpose(2, 0, 1)), axis=0) / diag
        travel = np.nanmax(np.hypot(*(xy - start).transpose(2, 0, 1)), axis=0) / diag
    jump, travel = np.nan_to_num(jump, nan=np.inf), np.nan_to_num(travel, nan=0.0)
    usable = (traj.diverged_at < 0) & inside & (jump <= JUMP)
    end = xy[-1]
    if surface.minima:
        m = np.asarray(surface.minima, dtype=np.float64)
        dist = np.min(np.hypot(end[:, None, 0] - m[None, :, 0], end[:, None, 1] - m[None, :, 1]),
                      axis=1) / diag
        score = dist
    else:
        dist = np.full(len(lrs), np.nan)
        score = -np.hypot(*(end - start).T) / diag
    if not usable.any():
        i = 0
    else:
        pool = usable & (travel >= MOVE)
        if not pool.any():
            pool = usable
        best = np.min(score[pool])
        i = int(np.flatnonzero(pool & (score <= best + SLACK))[0])     # lrs ascend
    return {"lr": float(lrs[i]), "end_distance": None if np.isnan(dist[i]) else round(float(dist[i]), 4),
            "travel": round(float(travel[i]), 4), "longest_step": round(float(jump[i]), 4),
            "usable": bool(usable[i])}


def table() -> dict:
    lrs, notes = {}, {}
    for name in landscapes.names():
        surface = landscapes.get(name)
        lrs[name], notes[name] = {}, {}
        for optimizer in optim_core.OPTIMIZERS:
            picked = choose(surface, optimizer)
            lrs[name][optimizer] = picked["lr"]
            notes[name][optimizer] = {k: v for k, v in picked.items() if k != "lr"}
    return {"about": "Learning rates the app sets when the surface changes, per surface and "
                     "optimizer; written by tools/choose_surface_lrs.py (its docstring has the "
                     "rule). end_distance, travel and longest_step are fractions of the window's diagonal.",
            "steps": STEPS, "lrs": lrs, "notes": notes}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the written file instead of writing it")
    args = parser.parse_args(argv)
    text = json.dumps(table(), indent=1, sort_keys=False) + "\n"
    if args.check:
        same = OUT.is_file() and OUT.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{OUT} differs: run tools/choose_surface_lrs.py")
        return 0 if same else 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    data = json.loads(text)
    width = max(map(len, optim_core.OPTIMIZERS))
    print(" " * 20 + " ".join(f"{o:>{width}}" for o in optim_core.OPTIMIZERS))
    for name, row in data["lrs"].items():
        print(f"{name:<20}" + " ".join(f"{row[o]:>{width}.3g}" for o in optim_core.OPTIMIZERS))
    print(f"wrote {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
