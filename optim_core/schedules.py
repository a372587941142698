"""Learning-rate schedules: closed forms of the step, plus ReduceLROnPlateau as the stateful one.

A schedule is plain data: None, a name ("cosine") or a dict ({"name": "step", "step_size": 100,
"gamma": 0.5}). Optimizer step k (k = 0 first) uses lr_k = f(k), as in torch's loop
`opt.step(); sched.step()`. Where torch.optim.lr_scheduler has the schedule, its parameter names
and semantics are used (torch's recursive updates equal these closed forms to round-off). Parameters
that depend on the run's length default to it (T_max, total_iters, ...). Schedules change only the
learning rate; OneCycle's momentum cycling is not applied (torch's cycle_momentum=False).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .validation import check_bool, check_choice, check_int, check_name, check_real

MAX_STEPS = 100_000


@dataclass(frozen=True)
class ScheduleParam:
    name: str
    default: object              # a value, or a function of the run's steps
    kind: str = "real"           # real | int | choice | bool | optional_real
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = ()
    label: str = ""
    help: str = ""

    def default_for(self, steps: int):
        return self.default(steps) if callable(self.default) else self.default


def _p(name, default, kind="real", **kw):
    return ScheduleParam(name, default, kind, **kw)


def _quarter(steps):
    return max(1, steps // 4)


def _tenth(steps):
    return max(1, steps // 10)


def _all(steps):
    return steps


SCHEDULE_PARAMS: dict[str, tuple[ScheduleParam, ...]] = {
    "constant": (),
    "step": (_p("step_size", _quarter, "int", low=1, high=MAX_STEPS, label="step size",
                help="steps between drops"),
             _p("gamma", 0.5, low=0.0, high=1.0, low_open=True, label="γ",
                help="factor applied at each drop")),
    "exponential": (_p("gamma", 0.995, low=0.0, high=1.0, low_open=True, label="γ",
                       help="factor applied every step"),),
    "power": (_p("decay_steps", _tenth, low=0.0, low_open=True, high=float(MAX_STEPS), label="s",
                 help="steps until the rate has dropped by 2^c"),
              _p("power", 1.0, low=0.0, high=10.0, label="c", help="exponent of the decay")),
    "inverse_sqrt": (_p("warmup_steps", _tenth, "int", low=1, high=MAX_STEPS, label="warm-up steps",
                        help="linear ramp up to the peak, then 1/√t"),),
    "cosine": (_p("T_max", _all, "int", low=1, high=MAX_STEPS, label="T_max",
                  help="half-period of the cosine (periodic beyond it, as in torch)"),
               _p("eta_min", 0.0, low=0.0, label="η_min", help="lowest rate")),
    "linear": (_p("start_factor", 1.0, low=0.0, high=1.0, low_open=True, label="start factor"),
               _p("end_factor", 0.0, low=0.0, high=1.0, label="end factor"),
               _p("total_iters", _all, "int", low=1, high=MAX_STEPS, label="total iters",
                  help="steps over which the factor moves; constant afterwards")),
    "one_cycle": (_p("max_lr", None, "optional_real", low=0.0, low_open=True, label="max lr",
                     help="peak rate; defaults to the optimizer's lr"),
                  _p("pct_start", 0.3, low=0.0, high=1.0, low_open=True, high_open=True,
                     label="pct start", help="fraction of the run spent warming up"),
                  _p("div_factor", 25.0, low=0.0, low_open=True, label="div factor",
                     help="initial lr = max_lr / div_factor"),
                  _p("final_div_factor", 1e4, low=0.0, low_open=True, label="final div factor",
                     help="final lr = initial lr / final_div_factor"),
                  _p("anneal_strategy", "cos", "choice", choices=("cos", "linear"), label="anneal"),
                  _p("three_phase", False, "bool", label="three phase")),
    "warmup_cosine": (_p("warmup_steps", _tenth, "int", low=0, high=MAX_STEPS, label="warm-up steps"),
                      _p("start_factor", 0.01, low=0.0, high=1.0, low_open=True,
                         label="start factor", help="lr at step 0 = start_factor × lr"),
                      _p("eta_min", 0.0, low=0.0, label="η_min")),
    "plateau": (_p("factor", 0.1, low=0.0, high=1.0, low_open=True, high_open=True, label="factor",
                   help="lr multiplier at each reduction"),
                _p("patience", 10, "int", low=0, high=MAX_STEPS, label="patience",
                   help="steps without improvement tolerated"),
                _p("threshold", 1e-4, low=0.0, high=1.0, high_open=True, label="threshold"),
                _p("threshold_mode", "rel", "choice", choices=("rel", "abs"), label="threshold mode",
                   help="'abs' for losses that can be negative"),
                _p("cooldown", 0, "int", low=0, high=MAX_STEPS, label="cooldown"),
                _p("min_lr", 0.0, low=0.0, label="min lr"),
                _p("eps", 1e-8, low=0.0, label="eps", help="smaller changes are ignored")),
}
SCHEDULES = tuple(SCHEDULE_PARAMS)


def normalize_schedule(spec, steps: int) -> dict:
    """Validate a schedule spec and return it as a dict with every parameter filled in."""
    if spec is None:
        spec = {"name": "constant"}
    elif isinstance(spec, str):
        spec = {"name": spec}
    elif not isinstance(spec, dict):
        raise ValueError(f"schedule must be None, a name or a dict with a 'name', got {spec!r:.80}")
    name = check_name("schedule", spec.get("name"), SCHEDULES)
    params = SCHEDULE_PARAMS[name]
    known = {p.name for p in params}
    unknown = sorted(set(spec) - known - {"name"})
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r} for schedule {name!r}; "
                         f"its parameters are: {', '.join(sorted(known)) or 'none'}")
    out = {"name": name}
    owner = f"schedule {name!r}"
    for p in params:
        value = spec.get(p.name, p.default_for(steps))
        if p.kind == "int":
            value = check_int(p.name, value, int(p.low), int(p.high), owner=owner)
        elif p.kind == "choice":
            value = check_choice(p.name, value, p.choices, owner=owner)
        elif p.kind == "bool":
            value = check_bool(p.name, value, owner=owner)
        elif value is not None or p.kind != "optional_real":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ValueError(f"{p.name} for {owner} must be a number, got {value!r:.80}")
            value = check_real(p.name, value, p.low, p.high, low_open=p.low_open,
                               high_open=p.high_open, owner=owner)
        out[p.name] = value
    if name == "one_cycle":
        _check_one_cycle_phases(out, steps)
    return out


def _check_one_cycle_phases(spec, steps):
    """torch divides by each phase's length: every phase must span more than zero steps."""
    pct = spec["pct_start"]
    ends = _one_cycle_ends(pct, steps, spec["three_phase"])
    starts = [0.0] + ends[:-1]
    if any(e <= s for s, e in zip(starts, ends)):
        top = (steps + 1) / (2 * steps) if spec["three_phase"] else 1.0
        raise ValueError(f"pct_start for schedule 'one_cycle' must make every phase at least one "
                         f"step long: need 1/steps < pct_start < {top:.4g} with steps={steps}, "
                         f"got {pct!r}")


def _one_cycle_ends(pct, steps, three_phase):
    if three_phase:
        return [float(pct * steps) - 1, float(2 * pct * steps) - 2, steps - 1.0]
    return [float(pct * steps) - 1, steps - 1.0]


# ---- closed forms: k is an array of step indices (float), lr0 a float or a (1, N) array, steps the
# run's length (k may be a slice of it); each is elementwise in k and lr0, so rows computed in
# blocks equal the whole table ---------------------------------------------------------------------

def _one_cycle(k, lr0, s, steps):
    max_lr = lr0 if s["max_lr"] is None else s["max_lr"]
    initial = max_lr / s["div_factor"]
    minimum = initial / s["final_div_factor"]
    ends = _one_cycle_ends(s["pct_start"], steps, s["three_phase"])
    if s["three_phase"]:
        phases = [(initial, max_lr), (max_lr, initial), (initial, minimum)]
    else:
        phases = [(initial, max_lr), (max_lr, minimum)]
    if s["anneal_strategy"] == "cos":
        def anneal(start, end, pct):
            return end + (start - end) / 2.0 * (np.cos(math.pi * pct) + 1)
    else:
        def anneal(start, end, pct):
            return (end - start) * pct + start
    out = np.zeros(np.broadcast_shapes(k.shape, np.shape(lr0)))
    start_step = 0.0
    remaining = np.ones(k.shape, dtype=bool)
    for i, ((a, b), end_step) in enumerate(zip(phases, ends)):
        last = i == len(phases) - 1
        here = remaining & ((k <= end_step) | last)
        pct = (k - start_step) / (end_step - start_step)
        np.copyto(out, anneal(a, b, pct), where=here)
        remaining &= ~here
        start_step = end_step
    return out


def _warmup_cosine(k, lr0, s, steps):
    w, sf, eta_min = s["warmup_steps"], s["start_factor"], s["eta_min"]
    warm = lr0 * (sf + (1 - sf) * k / max(w, 1))
    span = max(steps - w, 1)
    cos = eta_min + (lr0 - eta_min) * (1 + np.cos(math.pi * (k - w) / span)) / 2
    return np.where(k < w, warm, cos)


_CLOSED_FORMS: dict[str, Callable] = {
    "constant": lambda k, lr0, s, steps: lr0 + 0.0 * k,
    "step": lambda k, lr0, s, steps: lr0 * s["gamma"] ** np.floor(k / s["step_size"]),
    "exponential": lambda k, lr0, s, steps: lr0 * s["gamma"] ** k,
    "power": lambda k, lr0, s, steps: lr0 * (1 + k / s["decay_steps"]) ** (-s["power"]),
    "inverse_sqrt": lambda k, lr0, s, steps: lr0 * np.minimum((k + 1) / s["warmup_steps"],
                                                              np.sqrt(s["warmup_steps"] / (k + 1))),
    "cosine": lambda k, lr0, s, steps: (s["eta_min"] + (lr0 - s["eta_min"])
                                        * (1 + np.cos(math.pi * k / s["T_max"])) / 2),
    "linear": lambda k, lr0, s, steps: lr0 * (s["start_factor"]
                                              + (s["end_factor"] - s["start_factor"])
                                              * np.minimum(k, s["total_iters"]) / s["total_iters"]),
    "one_cycle": _one_cycle,
    "warmup_cosine": _warmup_cosine,
}


def lr_table(spec: dict, lr0, steps: int, start: int = 0, stop: int | None = None) -> np.ndarray:
    """The learning rate of every step: (steps,) for a scalar lr0, (steps, N) for an (N,) lr0.

    start/stop: only rows start..stop-1 of that table (the same values), so a run that keeps
    O(N) memory can take an (N,) lr's table in blocks. `spec` must come from normalize_schedule.
    Not defined for "plateau" (it depends on the run).
    """
    stop = steps if stop is None else stop
    per_trajectory = np.ndim(lr0) > 0
    k = np.arange(start, stop, dtype=np.float64)
    base = np.asarray(lr0, dtype=np.float64)
    if per_trajectory:
        k = k[:, None]
        base = base[None, :]
    else:
        base = float(base)
    with np.errstate(all="ignore"):
        table = _CLOSED_FORMS[spec["name"]](k, base, spec, steps)
    table = np.broadcast_to(table, (stop - start,) + np.shape(lr0))
    return np.ascontiguousarray(table, dtype=np.float64)


class Plateau:
    """torch's ReduceLROnPlateau(mode='min'), one independent copy per trajectory.

    update(loss) is called with the loss after each optimizer step and returns the lr of the next.
    """

    def __init__(self, spec: dict, lr0, n: int):
        self.s = spec
        self.lr = np.broadcast_to(np.asarray(lr0, dtype=np.float64), (n,)).copy()
        self.best = np.full(n, np.inf)
        self.bad = np.zeros(n, dtype=np.int64)
        self.cooldown = np.zeros(n, dtype=np.int64)

    def update(self, loss: np.ndarray) -> np.ndarray:
        s = self.s
        if s["threshold_mode"] == "rel":
            better = loss < self.best * (1.0 - s["threshold"])
        else:
            better = loss < self.best - s["threshold"]
        self.best = np.where(better, loss, self.best)
        self.bad = np.where(better, 0, self.bad + 1)
        cooling = self.cooldown > 0
        self.cooldown = np.where(cooling, self.cooldown - 1, self.cooldown)
        self.bad = np.where(cooling, 0, self.bad)
        reduce = self.bad > s["patience"]
        if reduce.any():
            new_lr = np.maximum(self.lr * s["factor"], s["min_lr"])
            change = reduce & (self.lr - new_lr > s["eps"])
            self.lr = np.where(change, new_lr, self.lr)
            self.cooldown = np.where(reduce, s["cooldown"], self.cooldown)
            self.bad = np.where(reduce, 0, self.bad)
        return self.lr
