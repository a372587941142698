"""Why it moves: a run's optimizer state at every step, and its rule with this step's numbers.

    traj = optim_core.run("rosenbrock", "adam", (-1.5, 2.0), 500, lr=0.05, record_state=True)
    rec = why_record(traj)              # every array the overlays and the "this step" panel read
    fill(rec["rule"], rec, k=3)         # the rule at step 3, numbers in place, as text lines
    pack(rec, live.encode)              # what the browser gets (float32 base64 arrays)

Everything comes from what the core recorded (Trajectory.grad, .update, .state, .xy, .lr); a
derived array (m̂, the denominator, the effective rate) is computed from those rows, the trajectory
is never run again. The browser only looks values up by index and formats them (see `fmt`).

The row convention, the same for every array of a record (so one index rule serves them all):
row k belongs to step k, the step from θₖ₋₁ = xy[k-1] to θₖ = xy[k] (k = 1 .. steps). A buffer's
row k is its value after step k, row k-1 the value step k started from; a per-step quantity's
row k is what step k used or did (grad[k] is Trajectory.grad[k-1], lr[k] is Trajectory.lr[k-1],
update[k] is Trajectory.update[k-1]) and its row 0 is NaN (there is no step 0); theta[k] = xy[k].
So the arrows of step k start at θₖ₋₁ (theta row k-1) and the step taken ends at θₖ.
NaN after a divergence, as in the core.

Overlay roles (record["overlays"], role -> {"array", "label", ...}), each (steps + 1, 2):
grad gₖ; plain −ηₖgₖ (the plain gradient step, map units); taken Δθₖ (Trajectory.update);
velocity, where the optimizer keeps one: −ηₖbₖ (momentum, Nesterov, RMSProp with momentum:
the buffer's share of the position change), −ηₖm̂ₖ (Adam, AdamW, AMSGrad, Adamax, RAdam: the
bias-corrected first moment, as the step it would be without the per-coordinate scaling), −ηₖNₖ
(NAdam: its Nesterov blend of gₖ and mₖ, what it divides by the denominator), −ηₖcₖ (Lion: the
blend whose sign is the step); effective, the per-coordinate rate: Δθₖ = −effectiveₖ ⊙ Pₖ with
Pₖ = record["arrays"][record["effective_of"]] wherever that identity holds (effective_of is None
where it does not: decoupled weight decay, RMSProp with momentum); accum, the squared-gradient
statistic (AdaGrad's sum, the square_avg / exp_avg_sq / max_exp_avg_sq buffers; Adamax's exp_inf,
a max of |g|, not squared).

Rule lines (`rule_lines`): a list of lines, each a list of segments:
  "text"                          literal Unicode text
  {"ref": name, "row": "k"}      row k of record["arrays"][name]; "k-1": row k-1
  {"const": x}                   a number fixed for the run (a hyperparameter, 1 − β₁, ρ∞)
  {"step": "k"}                  the integer k ("k-1", "k+1": k − 1, k + 1)
  {"when": [lo, hi]}             only as a line's first segment: show the line only for
                                 lo <= k <= hi (hi None: no upper end); renders as nothing
A width-2 array renders as "(x, y)" (componentwise arithmetic), a width-1 array as one number.
A line's last segment is the reference to what it computes; k runs 1 .. steps (no rule at k = 0).
"""

from __future__ import annotations

import math

import numpy as np

from optim_core import OPTIMIZERS
from optim_core.schedules import MAX_STEPS

__all__ = ["why_record", "scene_records", "rule_lines", "line_values", "fill", "fmt", "pack",
           "overlay", "shown", "referenced", "radam_first_rectified"]

ROWS = {"k": 0, "k-1": -1}
STEPS = {"k": 0, "k-1": -1, "k+1": 1}
CORE_ARRAYS = ("theta", "grad", "lr", "update")     # copied from the Trajectory as recorded


# ---- segments -----------------------------------------------------------------------------------

def _r(name, row="k"):
    return {"ref": name, "row": row}


def _c(value):
    return {"const": float(value)}


def _s(row="k"):
    return {"step": row}


def _when(lo, hi=None):
    return {"when": [int(lo), None if hi is None else int(hi)]}


# ---- hyperparameters ----------------------------------------------------------------------------

def _full_hyper(optimizer, hyperparameters) -> dict:
    """torch's defaults filled in, one plain value each (a rule is written for one run)."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r:.40}; valid optimizers are: "
                         f"{', '.join(OPTIMIZERS)}")
    spec = OPTIMIZERS[optimizer]
    given = dict(hyperparameters or {})
    unknown = sorted(set(given) - {p.name for p in spec.hyper})
    if unknown:
        raise ValueError(f"unknown hyperparameter {unknown[0]!r} for optimizer {optimizer!r}")
    h = {**spec.defaults(), **given}
    return {p.name: bool(h[p.name]) if p.kind == "bool" else float(h[p.name]) for p in spec.hyper}


def _l2(h, optimizer) -> bool:
    """torch's coupled weight decay (g ← g + λθ): everyone but AdamW and Lion (decoupled)."""
    return optimizer not in ("adamw", "lion") and h.get("weight_decay", 0.0) != 0.0


def _has_buffer(optimizer, h) -> bool:
    """SGD keeps a momentum buffer (torch: momentum > 0; the core: always for nesterov)."""
    return optimizer == "nesterov" or (optimizer == "momentum" and h["momentum"] != 0.0)


def radam_first_rectified(beta2: float, limit: int = MAX_STEPS) -> int | None:
    """The first step whose ρₖ > 5 (torch's test, in its arithmetic); ρₖ grows with k, so every
    later step is rectified too. None when no step up to `limit` is (β₂ <= 2/3: ρ∞ <= 5)."""
    rho_inf = 2 / (1 - beta2) - 1
    if not rho_inf > 5.0:
        return None
    for t in range(1, limit + 1):
        if rho_inf - 2 * t * (beta2 ** t) / (1 - beta2 ** t) > 5.0:
            return t
    return None


# ---- the rule, line by line ---------------------------------------------------------------------

def _head(noise) -> list:
    g = "gₖ = ∇f(θₖ₋₁) + noise = " if noise else "gₖ = ∇f(θₖ₋₁) = "
    return [["θₖ₋₁ = ", _r("theta", "k-1")], [g, _r("grad")], ["ηₖ = ", _r("lr")]]


def _l2_line(h) -> list:
    return ["gₖ ← gₖ + λ·θₖ₋₁ = ", _r("grad"), " + ", _c(h["weight_decay"]), "·",
            _r("theta", "k-1"), " = ", _r("grad_l2")]


def _tail() -> list:
    return ["θₖ = θₖ₋₁ + Δθₖ = ", _r("theta", "k-1"), " + ", _r("update"), " = ", _r("theta")]


def _ema_line(text, name, beta, g, squared=False):
    return [text, _c(beta), "·", _r(name, "k-1"), " + ", _c(1.0 - beta), "·", _r(g),
            "² = " if squared else " = ", _r(name)]


def _bias_lines(h, which=(1, 2)) -> list:
    out = []
    if 1 in which:
        out.append(["1 − β₁ᵏ = 1 − ", _c(h["beta1"]), "^", _s(), " = ", _r("bc1")])
    if 2 in which:
        out.append(["1 − β₂ᵏ = 1 − ", _c(h["beta2"]), "^", _s(), " = ", _r("bc2")])
    return out


def _sgd_rule(optimizer, h, g):
    if not _has_buffer(optimizer, h):
        return [["Δθₖ = −ηₖ·gₖ = −", _r("lr"), "·", _r(g), " = ", _r("update")]]
    mu = h["momentum"]
    tau = h.get("dampening", 0.0)
    lines = [[_when(1, 1), "b₁ = g₁ (torch copies the first gradient) = ", _r(g), " = ",
              _r("momentum_buffer")]]
    if tau == 0.0:
        lines.append([_when(2), "bₖ = μ·bₖ₋₁ + gₖ = ", _c(mu), "·", _r("momentum_buffer", "k-1"),
                      " + ", _r(g), " = ", _r("momentum_buffer")])
    else:
        lines.append([_when(2), "bₖ = μ·bₖ₋₁ + (1 − τ)·gₖ = ", _c(mu), "·",
                      _r("momentum_buffer", "k-1"), " + ", _c(1.0 - tau), "·", _r(g), " = ",
                      _r("momentum_buffer")])
    if optimizer == "nesterov":
        lines.append(["dₖ = gₖ + μ·bₖ = ", _r(g), " + ", _c(mu), "·", _r("momentum_buffer"),
                      " = ", _r("direction")])
        lines.append(["Δθₖ = −ηₖ·dₖ = −", _r("lr"), "·", _r("direction"), " = ", _r("update")])
    else:
        lines.append(["Δθₖ = −ηₖ·bₖ = −", _r("lr"), "·", _r("momentum_buffer"), " = ",
                      _r("update")])
    return lines


def _adagrad_rule(optimizer, h, g):
    lines = [["sₖ = sₖ₋₁ + gₖ² = ", _r("sum", "k-1"), " + ", _r(g), "² = ", _r("sum")],
             ["Dₖ = √sₖ + ε = √", _r("sum"), " + ", _c(h["eps"]), " = ", _r("denom")]]
    if h["lr_decay"] != 0.0:
        lines.append(["γₖ = ηₖ / (1 + (k − 1)·δ) = ", _r("lr"), " / (1 + ", _s("k-1"), "·",
                      _c(h["lr_decay"]), ") = ", _r("clr")])
        lines.append(["effective rate γₖ / Dₖ = ", _r("clr"), " / ", _r("denom"), " = ",
                      _r("effective")])
        lines.append(["Δθₖ = −(γₖ / Dₖ)·gₖ = −", _r("effective"), "·", _r(g), " = ", _r("update")])
    else:
        lines.append(["effective rate ηₖ / Dₖ = ", _r("lr"), " / ", _r("denom"), " = ",
                      _r("effective")])
        lines.append(["Δθₖ = −(ηₖ / Dₖ)·gₖ = −", _r("effective"), "·", _r(g), " = ", _r("update")])
    return lines


def _rmsprop_rule(optimizer, h, g):
    rho, eps = h["rho"], h["eps"]
    lines = [_ema_line("vₖ = ρ·vₖ₋₁ + (1 − ρ)·gₖ² = ", "square_avg", rho, g, squared=True)]
    if h["centered"]:
        lines.append(_ema_line("aₖ = ρ·aₖ₋₁ + (1 − ρ)·gₖ = ", "grad_avg", rho, g))
        lines.append(["Dₖ = √(vₖ − aₖ²) + ε = √(", _r("square_avg"), " − ", _r("grad_avg"),
                      "²) + ", _c(eps), " = ", _r("denom")])
    else:
        lines.append(["Dₖ = √vₖ + ε = √", _r("square_avg"), " + ", _c(eps), " = ", _r("denom")])
    lines.append(["effective rate ηₖ / Dₖ = ", _r("lr"), " / ", _r("denom"), " = ",
                  _r("effective")])
    if h["momentum"] != 0.0:
        lines.append(["bₖ = μ·bₖ₋₁ + gₖ / Dₖ = ", _c(h["momentum"]), "·",
                      _r("momentum_buffer", "k-1"), " + ", _r(g), " / ", _r("denom"), " = ",
                      _r("momentum_buffer")])
        lines.append(["Δθₖ = −ηₖ·bₖ = −", _r("lr"), "·", _r("momentum_buffer"), " = ",
                      _r("update")])
    else:
        lines.append(["Δθₖ = −(ηₖ / Dₖ)·gₖ = −", _r("effective"), "·", _r(g), " = ", _r("update")])
    return lines


def _adadelta_rule(optimizer, h, g):
    rho, eps = h["rho"], h["eps"]
    return [
        _ema_line("vₖ = ρ·vₖ₋₁ + (1 − ρ)·gₖ² = ", "square_avg", rho, g, squared=True),
        ["Δₖ = √(uₖ₋₁ + ε) / √(vₖ + ε)·gₖ = √(", _r("acc_delta", "k-1"), " + ", _c(eps),
         ") / √(", _r("square_avg"), " + ", _c(eps), ")·", _r(g), " = ", _r("delta")],
        _ema_line("uₖ = ρ·uₖ₋₁ + (1 − ρ)·Δₖ² = ", "acc_delta", rho, "delta", squared=True),
        ["effective rate ηₖ·√(uₖ₋₁ + ε) / √(vₖ + ε) = ", _r("lr"), "·√(", _r("acc_delta", "k-1"),
         " + ", _c(eps), ") / √(", _r("square_avg"), " + ", _c(eps), ") = ", _r("effective")],
        ["Δθₖ = −ηₖ·Δₖ = −", _r("lr"), "·", _r("delta"), " = ", _r("update")],
    ]


def _adam_rule(optimizer, h, g):
    amsgrad = optimizer == "amsgrad"
    lines = [_ema_line("mₖ = β₁·mₖ₋₁ + (1 − β₁)·gₖ = ", "exp_avg", h["beta1"], g),
             _ema_line("vₖ = β₂·vₖ₋₁ + (1 − β₂)·gₖ² = ", "exp_avg_sq", h["beta2"], g, True)]
    v = "exp_avg_sq"
    if amsgrad:
        v = "max_exp_avg_sq"
        lines.append(["v̄ₖ = max(v̄ₖ₋₁, vₖ) = max(", _r(v, "k-1"), ", ", _r("exp_avg_sq"),
                      ") = ", _r(v)])
    lines += _bias_lines(h)
    lines.append(["m̂ₖ = mₖ / (1 − β₁ᵏ) = ", _r("exp_avg"), " / ", _r("bc1"), " = ",
                  _r("m_hat")])
    root = "√v̄ₖ" if amsgrad else "√vₖ"
    lines.append([f"Dₖ = {root} / √(1 − β₂ᵏ) + ε = √", _r(v), " / √", _r("bc2"), " + ",
                  _c(h["eps"]), " = ", _r("denom")])
    lines.append(["effective rate ηₖ / Dₖ = ", _r("lr"), " / ", _r("denom"), " = ",
                  _r("effective")])
    wd = h["weight_decay"]
    if optimizer == "adamw" and wd != 0.0:
        lines.append(["Δθₖ = −ηₖλ·θₖ₋₁ − (ηₖ / Dₖ)·m̂ₖ = −", _r("lr"), "·", _c(wd), "·",
                      _r("theta", "k-1"), " − ", _r("effective"), "·", _r("m_hat"), " = ",
                      _r("update")])
    else:
        lines.append(["Δθₖ = −(ηₖ / Dₖ)·m̂ₖ = −", _r("effective"), "·", _r("m_hat"), " = ",
                      _r("update")])
    return lines


def _adamax_rule(optimizer, h, g):
    return [
        _ema_line("mₖ = β₁·mₖ₋₁ + (1 − β₁)·gₖ = ", "exp_avg", h["beta1"], g),
        ["uₖ = max(β₂·uₖ₋₁, |gₖ| + ε) = max(", _c(h["beta2"]), "·", _r("exp_inf", "k-1"), ", |",
         _r(g), "| + ", _c(h["eps"]), ") = ", _r("exp_inf")],
        *_bias_lines(h, (1,)),
        ["m̂ₖ = mₖ / (1 − β₁ᵏ) = ", _r("exp_avg"), " / ", _r("bc1"), " = ", _r("m_hat")],
        ["effective rate ηₖ / uₖ = ", _r("lr"), " / ", _r("exp_inf"), " = ", _r("effective")],
        ["Δθₖ = −(ηₖ / uₖ)·m̂ₖ = −", _r("effective"), "·", _r("m_hat"), " = ", _r("update")],
    ]


def _nadam_rule(optimizer, h, g):
    b1, psi = h["beta1"], h["momentum_decay"]
    return [
        ["μₖ = β₁·(1 − ½·0.96^(k·ψ)) = ", _c(b1), "·(1 − 0.5·0.96^(", _s(), "·", _c(psi),
         ")) = ", _r("mu")],
        ["μₖ₊₁ = β₁·(1 − ½·0.96^((k + 1)·ψ)) = ", _c(b1), "·(1 − 0.5·0.96^(", _s("k+1"), "·",
         _c(psi), ")) = ", _r("mu_next")],
        ["Πₖ = Πₖ₋₁·μₖ = ", _r("mu_product", "k-1"), "·", _r("mu"), " = ", _r("mu_product")],
        _ema_line("mₖ = β₁·mₖ₋₁ + (1 − β₁)·gₖ = ", "exp_avg", b1, g),
        _ema_line("vₖ = β₂·vₖ₋₁ + (1 − β₂)·gₖ² = ", "exp_avg_sq", h["beta2"], g, True),
        *_bias_lines(h, (2,)),
        ["Dₖ = √(vₖ / (1 − β₂ᵏ)) + ε = √(", _r("exp_avg_sq"), " / ", _r("bc2"), ") + ",
         _c(h["eps"]), " = ", _r("denom")],
        ["c_g = (1 − μₖ) / (1 − Πₖ) = (1 − ", _r("mu"), ") / (1 − ", _r("mu_product"), ") = ",
         _r("coef_grad")],
        ["c_m = μₖ₊₁ / (1 − Πₖ·μₖ₊₁) = ", _r("mu_next"), " / (1 − ", _r("mu_product"), "·",
         _r("mu_next"), ") = ", _r("coef_avg")],
        ["Nₖ = c_g·gₖ + c_m·mₖ = ", _r("coef_grad"), "·", _r(g), " + ", _r("coef_avg"), "·",
         _r("exp_avg"), " = ", _r("numerator")],
        ["effective rate ηₖ / Dₖ = ", _r("lr"), " / ", _r("denom"), " = ", _r("effective")],
        ["Δθₖ = −(ηₖ / Dₖ)·Nₖ = −", _r("effective"), "·", _r("numerator"), " = ", _r("update")],
    ]


def _radam_rule(optimizer, h, g):
    b2 = h["beta2"]
    rho_inf = 2 / (1 - b2) - 1
    first = radam_first_rectified(b2)
    lines = [_ema_line("mₖ = β₁·mₖ₋₁ + (1 − β₁)·gₖ = ", "exp_avg", h["beta1"], g),
             _ema_line("vₖ = β₂·vₖ₋₁ + (1 − β₂)·gₖ² = ", "exp_avg_sq", b2, g, True),
             *_bias_lines(h),
             ["m̂ₖ = mₖ / (1 − β₁ᵏ) = ", _r("exp_avg"), " / ", _r("bc1"), " = ", _r("m_hat")],
             ["ρₖ = ρ∞ − 2k·β₂ᵏ / (1 − β₂ᵏ) = ", _c(rho_inf), " − 2·", _s(), "·", _c(b2), "^",
              _s(), " / ", _r("bc2"), " = ", _r("rho")]]
    warm = [_when(1, None if first is None else first - 1)]
    if first is None or first > 1:
        lines += [warm + ["ρₖ ≤ 5: warm-up, no per-coordinate scaling; effective rate ηₖ = ",
                          _r("effective")],
                  warm + ["Δθₖ = −ηₖ·m̂ₖ = −", _r("lr"), "·", _r("m_hat"), " = ", _r("update")]]
    if first is not None:
        on = [_when(first)]
        lines += [
            on + ["rₖ = √((ρₖ − 4)(ρₖ − 2)·ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)·ρₖ)) = √((", _r("rho"),
                  " − 4)(", _r("rho"), " − 2)·", _c(rho_inf), " / ((", _c(rho_inf), " − 4)(",
                  _c(rho_inf), " − 2)·", _r("rho"), ")) = ", _r("rect")],
            on + ["lₖ = √(1 − β₂ᵏ) / (√vₖ + ε) = √", _r("bc2"), " / (√", _r("exp_avg_sq"), " + ",
                  _c(h["eps"]), ") = ", _r("adaptive")],
            on + ["effective rate ηₖ·rₖ·lₖ = ", _r("lr"), "·", _r("rect"), "·", _r("adaptive"),
                  " = ", _r("effective")],
            on + ["Δθₖ = −(ηₖ·rₖ·lₖ)·m̂ₖ = −", _r("effective"), "·", _r("m_hat"), " = ",
                  _r("update")],
        ]
    return lines


def _lion_rule(optimizer, h, g):
    b1, b2, wd = h["beta1"], h["beta2"], h["weight_decay"]
    lines = [_ema_line("cₖ = β₁·mₖ₋₁ + (1 − β₁)·gₖ = ", "exp_avg", b1, g)[:-1] + [_r("c")],
             ["sign(cₖ) = ", _r("sign_c")]]
    if wd != 0.0:
        lines.append(["Δθₖ = −ηₖλ·θₖ₋₁ − ηₖ·sign(cₖ) = −", _r("lr"), "·", _c(wd), "·",
                      _r("theta", "k-1"), " − ", _r("lr"), "·", _r("sign_c"), " = ", _r("update")])
    else:
        lines.append(["Δθₖ = −ηₖ·sign(cₖ) = −", _r("lr"), "·", _r("sign_c"), " = ", _r("update")])
    lines.append(_ema_line("mₖ = β₂·mₖ₋₁ + (1 − β₂)·gₖ = ", "exp_avg", b2, g))
    return lines


_RULES = {"sgd": _sgd_rule, "momentum": _sgd_rule, "nesterov": _sgd_rule,
          "adagrad": _adagrad_rule, "rmsprop": _rmsprop_rule, "adadelta": _adadelta_rule,
          "adam": _adam_rule, "adamw": _adam_rule, "amsgrad": _adam_rule, "adamax": _adamax_rule,
          "nadam": _nadam_rule, "radam": _radam_rule, "lion": _lion_rule}


def rule_lines(optimizer: str, hyperparameters: dict | None = None, *, noise=0.0) -> list[list]:
    """The update rule of one run as lines of segments (module docstring), exactly torch's rule
    for that configuration: the position and gradient, L2 weight decay when it is on, the buffers
    before and after, bias corrections, the effective rate, the step and the new position.
    Hyperparameters not given take torch's defaults; noise only changes the gradient's line."""
    h = _full_hyper(optimizer, hyperparameters)
    g = "grad_l2" if _l2(h, optimizer) else "grad"
    lines = _head(bool(np.any(noise)))
    if g == "grad_l2":
        lines.append(_l2_line(h))
    return lines + _RULES[optimizer](optimizer, h, g) + [_tail()]


# ---- the record ---------------------------------------------------------------------------------

def _steps_rows(a) -> np.ndarray:
    """(steps, ...) per-step values -> (steps + 1, ...) with row k = step k (row 0 NaN)."""
    a = np.asarray(a, dtype=np.float64)
    return np.concatenate([np.full((1,) + a.shape[1:], np.nan), a])


def _prev(a) -> np.ndarray:
    """Row k = a[k - 1] (row 0 NaN): what step k started from."""
    return _steps_rows(a[:-1])


def _per_step(f, steps) -> np.ndarray:
    """(steps + 1,) of f(k) in Python floats, torch's own scalar arithmetic (row 0 NaN)."""
    return np.array([np.nan] + [f(k) for k in range(1, steps + 1)])


def _value(v, index):
    return v[index].item() if isinstance(v, np.ndarray) else v


def _col(x) -> np.ndarray:
    return x[:, None]


def _derive(optimizer, h, a, steps) -> dict:
    """Add each optimizer's derived arrays to `a`; return its overlays and effective_of."""
    lr, theta_prev = _col(a["lr"]), _prev(a["theta"])
    g = a["grad"]
    if _l2(h, optimizer):                       # torch: g ← g + λθ, before everything else
        g = a["grad_l2"] = g + theta_prev * h["weight_decay"]
    over: dict = {}
    of = None
    per_coord = np.broadcast_to(lr, g.shape).copy()
    if optimizer in ("sgd", "momentum", "nesterov"):
        a["effective"] = per_coord
        if not _has_buffer(optimizer, h):
            of = "grad_l2" if "grad_l2" in a else "grad"
        else:
            b = a["momentum_buffer"]
            a["velocity"] = -(lr * b)
            over["velocity"] = ("−ηₖ·bₖ, the velocity (momentum buffer)", "velocity")
            if optimizer == "nesterov":
                a["direction"] = b * h["momentum"] + g
                of = "direction"
            else:
                of = "momentum_buffer"
        over["effective"] = ("ηₖ (the same rate for every coordinate)", "effective")
    elif optimizer == "adagrad":
        a["denom"] = np.sqrt(a["sum"]) + h["eps"]
        if h["lr_decay"] != 0.0:
            k = np.arange(steps + 1.0)
            a["clr"] = a["lr"] / (1 + (k - 1) * h["lr_decay"])
            rate = _col(a["clr"])
        else:
            rate = lr
        a["effective"] = rate / a["denom"]
        over["effective"] = ("γₖ / (√sₖ + ε)" if h["lr_decay"] else "ηₖ / (√sₖ + ε)",
                             "effective")
        over["accum"] = ("sₖ = s₀ + Σ gᵢ² (AdaGrad's sum)", "sum")
        of = "grad_l2" if "grad_l2" in a else "grad"
    elif optimizer == "rmsprop":
        if h["centered"]:
            avg = a["grad_avg"]
            a["denom"] = np.sqrt(a["square_avg"] - avg * avg) + h["eps"]
            text = "ηₖ / (√(vₖ − aₖ²) + ε)"
        else:
            a["denom"] = np.sqrt(a["square_avg"]) + h["eps"]
            text = "ηₖ / (√vₖ + ε)"
        a["effective"] = lr / a["denom"]
        over["effective"] = (text, "effective")
        over["accum"] = ("vₖ, the running average of g² (square_avg)", "square_avg")
        if h["momentum"] != 0.0:
            a["velocity"] = -(lr * a["momentum_buffer"])
            over["velocity"] = ("−ηₖ·bₖ, the velocity (momentum buffer of g/D)", "velocity")
        else:
            of = "grad_l2" if "grad_l2" in a else "grad"
    elif optimizer == "adadelta":
        eps = h["eps"]
        std = np.sqrt(a["square_avg"] + eps)
        ratio = np.sqrt(_prev(a["acc_delta"]) + eps) / std
        a["delta"] = ratio * g
        a["effective"] = lr * ratio
        over["effective"] = ("ηₖ·√(uₖ₋₁ + ε) / √(vₖ + ε)", "effective")
        over["accum"] = ("vₖ, the running average of g² (square_avg)", "square_avg")
        of = "grad_l2" if "grad_l2" in a else "grad"
    elif optimizer in ("adam", "adamw", "amsgrad", "adamax", "nadam", "radam"):
        b1, b2, eps = h["beta1"], h["beta2"], h["eps"]
        a["bc1"] = _per_step(lambda t: 1 - b1 ** t, steps)
        a["bc2"] = _per_step(lambda t: 1 - b2 ** t, steps)
        a["m_hat"] = a["exp_avg"] / _col(a["bc1"])
        a["velocity"] = -(lr * a["m_hat"])
        over["velocity"] = ("−ηₖ·m̂ₖ, the bias-corrected first moment", "velocity")
        over["accum"] = ("vₖ, the running average of g² (exp_avg_sq)", "exp_avg_sq")
        of = "m_hat"
        if optimizer in ("adam", "adamw", "amsgrad"):
            v = "max_exp_avg_sq" if optimizer == "amsgrad" else "exp_avg_sq"
            sqrt_bc2 = _per_step(lambda t: (1 - b2 ** t) ** 0.5, steps)
            a["denom"] = np.sqrt(a[v]) / _col(sqrt_bc2) + eps
            a["effective"] = lr / a["denom"]
            over["effective"] = ("ηₖ / (√v̄ₖ/√(1 − β₂ᵏ) + ε)" if optimizer == "amsgrad"
                                 else "ηₖ / (√v̂ₖ + ε)", "effective")
            if optimizer == "amsgrad":
                over["accum"] = ("v̄ₖ, the largest vₖ so far (max_exp_avg_sq)", v)
            if optimizer == "adamw" and h["weight_decay"] != 0.0:
                of = None                     # Δθ also holds the decoupled −ηλθ
        elif optimizer == "adamax":
            del a["bc2"]
            a["effective"] = lr / a["exp_inf"]
            over["effective"] = ("ηₖ / uₖ (per unit of m̂ₖ)", "effective")
            over["accum"] = ("uₖ = max(β₂uₖ₋₁, |gₖ| + ε), not squared (exp_inf)", "exp_inf")
        elif optimizer == "nadam":
            del a["bc1"], a["m_hat"]
            psi = h["momentum_decay"]
            a["mu"] = _per_step(lambda t: b1 * (1.0 - 0.5 * (0.96 ** (t * psi))), steps)
            a["mu_next"] = _per_step(lambda t: b1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * psi))),
                                     steps)
            prod = a["mu_product"]
            a["coef_grad"] = (1.0 - a["mu"]) / (1.0 - prod)
            a["coef_avg"] = a["mu_next"] / (1.0 - prod * a["mu_next"])
            a["numerator"] = _col(a["coef_grad"]) * g + _col(a["coef_avg"]) * a["exp_avg"]
            a["denom"] = np.sqrt(a["exp_avg_sq"] / _col(a["bc2"])) + eps
            a["effective"] = lr / a["denom"]
            a["velocity"] = -(lr * a["numerator"])
            over["velocity"] = ("−ηₖ·Nₖ, NAdam's look-ahead blend of gₖ and mₖ", "velocity")
            over["effective"] = ("ηₖ / (√v̂ₖ + ε)", "effective")
            of = "numerator"
        else:                                 # radam
            rho_inf = 2 / (1 - b2) - 1
            a["rho"] = _per_step(lambda t: rho_inf - 2 * t * (b2 ** t) / (1 - b2 ** t), steps)
            on = a["rho"] > 5.0
            with np.errstate(invalid="ignore"):
                rho = a["rho"]
                a["rect"] = np.where(on, np.sqrt((rho - 4) * (rho - 2) * rho_inf
                                                 / ((rho_inf - 4) * (rho_inf - 2) * rho)), np.nan)
            a["adaptive"] = np.where(_col(on), np.sqrt(_col(a["bc2"]))
                                     / (np.sqrt(a["exp_avg_sq"]) + eps), np.nan)
            a["effective"] = np.where(_col(on), lr * _col(a["rect"]) * a["adaptive"], per_coord)
            over["effective"] = ("ηₖ·rₖ·√(1 − β₂ᵏ)/(√vₖ + ε); ηₖ in warm-up (ρₖ ≤ 5)",
                                 "effective")
    elif optimizer == "lion":
        b1 = h["beta1"]
        a["c"] = _prev(a["exp_avg"]) * b1 + g * (1 - b1)
        a["sign_c"] = np.sign(a["c"])
        a["velocity"] = -(lr * a["c"])
        a["effective"] = per_coord
        over["velocity"] = ("−ηₖ·cₖ, the blend whose sign is the step", "velocity")
        over["effective"] = ("ηₖ (each coordinate moves ±ηₖ)", "effective")
        of = "sign_c" if h["weight_decay"] == 0.0 else None
    return over, of


def why_record(traj, index: int = 0) -> dict:
    """Everything the overlays and the "this step" panel of run `index` of a record_state
    Trajectory need: {"optimizer", "hyperparameters", "steps", "noise", "arrays" (name ->
    (steps + 1,) or (steps + 1, 2) float64, row k = step k), "overlays" (role -> {"array",
    "label"}; accum also "squared"), "effective_of", "rule" (rule_lines)}."""
    if traj.grad is None or traj.update is None:
        raise ValueError("why_record needs a trajectory run with record_state=True")
    n = traj.n
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < n:
        raise ValueError(f"index must be an integer in [0, {n - 1}], got {index!r:.40}")
    optimizer, steps = traj.optimizer, traj.steps
    names = {p.name for p in OPTIMIZERS[optimizer].hyper}      # not the core's private keys
    h = _full_hyper(optimizer, {k: _value(v, index) for k, v in traj.hyperparameters.items()
                                if k in names})
    noise = _value(traj.noise, index)
    a = {"theta": np.array(traj.xy[:, index], dtype=np.float64),
         "grad": _steps_rows(traj.grad[:, index]),
         "lr": _steps_rows(traj.lr[:, index]),
         "update": _steps_rows(traj.update[:, index])}
    for name, rows in traj.state.items():
        a[name] = np.array(rows[:, index], dtype=np.float64)
    with np.errstate(all="ignore"):
        a["plain"] = -(_col(a["lr"]) * a["grad"])
        extra, of = _derive(optimizer, h, a, steps)
    overlays = {"grad": {"array": "grad", "label": "gₖ, the gradient at θₖ₋₁"},
                "plain": {"array": "plain", "label": "−ηₖ·gₖ, the plain gradient step"},
                "taken": {"array": "update", "label": "Δθₖ, the step taken"}}
    for role, (label, name) in extra.items():
        overlays[role] = {"array": name, "label": label}
    if "accum" in overlays:
        overlays["accum"]["squared"] = overlays["accum"]["array"] != "exp_inf"
    return {"optimizer": optimizer, "hyperparameters": h, "steps": steps, "noise": float(noise),
            "arrays": a, "overlays": overlays, "effective_of": of,
            "rule": rule_lines(optimizer, h, noise=noise)}


def scene_records(result) -> list[dict]:
    """One why_record per run of a scene computed with record_state=True
    (scene.compute_scene(scene, record_state=True))."""
    return [why_record(run.trajectory, 0) for run in result.runs]


def overlay(record: dict, role: str) -> np.ndarray | None:
    """The (steps + 1, 2) array drawn for an overlay role, None when the optimizer has none."""
    entry = record["overlays"].get(role)
    return None if entry is None else record["arrays"][entry["array"]]


# ---- rendering ----------------------------------------------------------------------------------

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def fmt(x) -> str:
    """One number, 4 significant digits: "0.05", "−1.235", "1234", "1.5×10⁻⁸", "NaN", "∞".

    Recipe (the browser does the same): s = |x| to 4 significant digits in exponent form
    (Python "%.3e", JS toExponential(3)) -> mantissa digits d₀d₁d₂d₃ and exponent e. For
    −3 <= e <= 3 the digits with the decimal point placed by e; else mantissa × 10^e with a
    superscript exponent. Trailing zeros after the point are dropped, then the point itself.
    Minus is U+2212; 0 (and −0) is "0"."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    sign = "−" if x < 0 else ""
    mantissa, exponent = f"{abs(x):.3e}".split("e")
    e = int(exponent)
    if -3 <= e <= 3:
        digits = mantissa.replace(".", "")
        if e >= 0:
            whole, frac = digits[:e + 1], digits[e + 1:]
        else:
            whole, frac = "0", "0" * (-e - 1) + digits
        frac = frac.rstrip("0")
        return sign + whole + ("." + frac if frac else "")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{sign}{mantissa}×10{str(e).translate(_SUPERSCRIPT)}"


def shown(line, k: int) -> bool:
    """Whether a rule line belongs to step k (its "when", if it has one)."""
    if line and isinstance(line[0], dict) and "when" in line[0]:
        lo, hi = line[0]["when"]
        return lo <= k and (hi is None or k <= hi)
    return True


def _lookup(seg, record, k):
    if "ref" in seg:
        return record["arrays"][seg["ref"]][k + ROWS[seg["row"]]]
    if "const" in seg:
        return seg["const"]
    return k + STEPS[seg["step"]]


def line_values(lines, record: dict, k: int) -> list[list]:
    """The lines shown at step k, each as the list of its numbers in segment order (a float, an
    int for a step, or a (2,) array for a vector): what `fill` prints, unrounded."""
    _check_k(record, k)
    return [[_lookup(seg, record, k) for seg in line
             if isinstance(seg, dict) and "when" not in seg]
            for line in lines if shown(line, k)]


def _text(value) -> str:
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = np.asarray(value, dtype=np.float64)
    if value.ndim == 0:
        return fmt(value)
    return "(" + ", ".join(fmt(v) for v in value) + ")"


def fill(lines, record: dict, k: int) -> list[str]:
    """The rule at step k (1 <= k <= steps) as text, every number to 4 significant digits."""
    _check_k(record, k)
    out = []
    for line in lines:
        if not shown(line, k):
            continue
        out.append("".join(seg if isinstance(seg, str) else
                           "" if "when" in seg else _text(_lookup(seg, record, k))
                           for seg in line))
    return out


def _check_k(record, k):
    steps = record["steps"]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= steps:
        raise ValueError(f"k must be a step in [1, {steps}], got {k!r:.40}")


# ---- the browser's copy -------------------------------------------------------------------------

def referenced(record: dict) -> list[str]:
    """The arrays the browser needs: overlays, rule references, effective_of; first use first."""
    names = [entry["array"] for entry in record["overlays"].values()]
    names += [seg["ref"] for line in record["rule"] for seg in line
              if isinstance(seg, dict) and "ref" in seg]
    names += [record["effective_of"]] if record["effective_of"] else []
    return list(dict.fromkeys(names))


def pack(record: dict, encode=None) -> dict:
    """The record as the browser gets it: JSON-ready except the arrays' data, which is
    encode(float32 row-major values) (live.encode: base64), or the float32 array when encode is
    None. Only referenced arrays go; each as {"width": 1 or 2, "data"}: the value of row k,
    coordinate c is data[k * width + c]. why does not import live (live may import why)."""
    arrays = {}
    for name in referenced(record):
        values = np.ascontiguousarray(record["arrays"][name], dtype="<f4")
        width = 1 if values.ndim == 1 else values.shape[1]
        arrays[name] = {"width": width, "data": values.ravel() if encode is None
                        else encode(values.ravel())}
    return {"optimizer": record["optimizer"], "steps": record["steps"], "arrays": arrays,
            "overlays": record["overlays"], "effective_of": record["effective_of"],
            "rule": record["rule"]}
