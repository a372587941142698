"""A whole run as JSON-serializable data: the unit that share links, exports and caches carry.

    {"surface": {"name": "rosenbrock", "a": 1, "b": 100}, "optimizer": "adam", "lr": 0.01,
     "hyperparameters": {"beta1": 0.9}, "schedule": null, "x0": [-1.5, 2.0], "steps": 500,
     "noise": 0.0, "seed": 0}

"record_state": true (optional, default false) also keeps the gradients, updates and torch's
state buffers of every step (Trajectory.grad, .update, .state).

Running the same config twice gives bit-identical results.
"""

from __future__ import annotations

import numpy as np

from .registry import OPTIMIZERS
from .runner import Trajectory, run
from .schedules import MAX_STEPS, normalize_schedule
from .validation import check_bool, check_int, check_name

CONFIG_KEYS = ("surface", "optimizer", "lr", "hyperparameters", "schedule", "x0", "steps",
               "noise", "seed", "record_state")


def _surface_of(config: dict):
    import landscapes

    return landscapes.from_spec(config.get("surface", "rosenbrock"))


def normalize_config(config: dict) -> dict:
    """Validate a run config and return it with every default filled in (JSON-serializable)."""
    surface, name, hyper = _parts(config)
    x0 = config.get("x0", list(surface.start))
    steps = check_int("steps", config.get("steps", 500), 1, MAX_STEPS)
    schedule = config.get("schedule")
    normalize_schedule(schedule, steps)
    record_state = check_bool("record_state", config.get("record_state", False))
    # run() performs every other check; a one-step run is cheaper than duplicating them.
    traj = run(surface, name, x0, 1, lr=config.get("lr"), noise=config.get("noise", 0.0),
               seed=config.get("seed", 0), **hyper)
    return {
        "surface": {"name": surface.name, **surface.params},
        "optimizer": name,
        "lr": _plain(config.get("lr", OPTIMIZERS[name].lr)),
        "hyperparameters": {k: _plain(v) for k, v in traj.hyperparameters.items()},
        "schedule": schedule,
        "x0": _plain(np.asarray(x0, dtype=float)),
        "steps": steps,
        "noise": _plain(traj.noise),
        "seed": traj.seed,
        "record_state": record_state,
    }


def _parts(config):
    """The surface, optimizer name and hyperparameters of a config, with its keys checked."""
    if not isinstance(config, dict):
        raise ValueError(f"a run config must be a JSON object, got {type(config).__name__}")
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise ValueError(f"unknown config key {unknown[0]!r}; valid keys are: {', '.join(CONFIG_KEYS)}")
    hyper = config.get("hyperparameters") or {}
    if not isinstance(hyper, dict):
        raise ValueError(f"hyperparameters must be an object, got {hyper!r:.80}")
    name = check_name("optimizer", config.get("optimizer"), tuple(OPTIMIZERS))
    return _surface_of(config), name, hyper


def run_config(config: dict) -> Trajectory:
    """Run the config (validated as in normalize_config)."""
    surface, name, hyper = _parts(config)
    return run(surface, name, config.get("x0", list(surface.start)), config.get("steps", 500),
               lr=config.get("lr"), schedule=config.get("schedule"),
               noise=config.get("noise", 0.0), seed=config.get("seed", 0),
               record_state=config.get("record_state", False), **hyper)


def _plain(value):
    """NumPy values -> JSON-friendly Python values."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    return value
