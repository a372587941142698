"""The optimizer core: torch.optim's update rules in NumPy, batched over many trajectories.

    >>> import optim_core
    >>> traj = optim_core.run("rosenbrock", "adam", (-1.5, 2.0), 500, lr=0.05)
    >>> traj.xy.shape, traj.loss.shape, traj.lr.shape, traj.diverged_at.shape
    ((501, 1, 2), (501, 1), (500, 1), (1,))
"""

from .config import CONFIG_KEYS, normalize_config, run_config
from .final import MAX_FINAL_TRAJECTORIES, Cancelled, FinalState, run_final
from .registry import OPTIMIZERS, HyperParam, OptimizerSpec
from .runner import MAX_POINTS, MAX_TRAJECTORIES, Trajectory, check_runs, run, run_many
from .schedules import MAX_STEPS, SCHEDULE_PARAMS, SCHEDULES, lr_table, normalize_schedule


def optimizer_names() -> tuple[str, ...]:
    return tuple(OPTIMIZERS)


def schedule_names() -> tuple[str, ...]:
    return SCHEDULES


__all__ = [
    "run", "run_many", "check_runs", "Trajectory", "run_final", "FinalState", "Cancelled",
    "MAX_FINAL_TRAJECTORIES", "OPTIMIZERS", "OptimizerSpec", "HyperParam", "SCHEDULES",
    "SCHEDULE_PARAMS", "lr_table", "normalize_schedule", "run_config", "normalize_config",
    "CONFIG_KEYS", "MAX_STEPS", "MAX_POINTS", "MAX_TRAJECTORIES", "optimizer_names",
    "schedule_names",
]
