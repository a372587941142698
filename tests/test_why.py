"""optiviz.why: the state behind each step and the "this step" panel, checked against the core.

The expected values never come from optiviz.why itself: every number a rule line shows is either
a row the core recorded (Trajectory.xy/.grad/.lr/.update/.state, which test_optim_state.py holds
to torch 2.13's optimizer.state) and must be that row exactly, or the result of the line's own
equation, recomputed here by a formula written out by hand (FORMULAS) from the other numbers the
line shows. The hyperparameters a line shows must be the run's. First steps are derived by hand
in comments, from the gradient of Rosenbrock at its default start.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import landscapes
import optim_core
from optim_core import OPTIMIZERS
from optiviz import live, why
from optiviz import scene as scenes

pytestmark = pytest.mark.filterwarnings("error")

RTOL = 1e-12
TINY = 1e-290       # below this, subnormal numbers carry no relative precision
STATE_NAMES = {"momentum_buffer", "sum", "square_avg", "grad_avg", "acc_delta", "exp_avg",
               "exp_avg_sq", "max_exp_avg_sq", "exp_inf", "mu_product"}

# (optimizer, lr, hyperparameters): every optimizer, and every switch that changes torch's rule.
CONFIGS = [
    ("sgd", 1e-3, {}), ("sgd", 1e-3, {"weight_decay": 0.1}),
    ("momentum", 1e-3, {}), ("momentum", 1e-3, {"dampening": 0.5, "weight_decay": 0.05}),
    ("momentum", 1e-3, {"momentum": 0.0}),
    ("nesterov", 1e-3, {}), ("nesterov", 1e-3, {"momentum": 0.5, "weight_decay": 0.1}),
    ("adagrad", 0.3, {}),
    ("adagrad", 0.3, {"lr_decay": 0.05, "initial_accumulator_value": 0.5, "weight_decay": 0.1}),
    ("rmsprop", 5e-3, {}), ("rmsprop", 5e-3, {"centered": True}),
    ("rmsprop", 2e-3, {"momentum": 0.5}),
    ("rmsprop", 2e-3, {"centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("adadelta", 1.0, {}), ("adadelta", 1.0, {"rho": 0.95, "weight_decay": 0.1}),
    ("adam", 0.05, {}), ("adam", 0.05, {"weight_decay": 0.1, "beta1": 0.5}),
    ("adamw", 0.05, {}), ("adamw", 0.05, {"weight_decay": 0.0}),
    ("adamax", 0.1, {}), ("adamax", 0.1, {"weight_decay": 0.1}),
    ("nadam", 0.05, {}), ("nadam", 0.05, {"weight_decay": 0.1, "momentum_decay": 0.0}),
    ("amsgrad", 0.05, {}), ("amsgrad", 0.05, {"weight_decay": 0.1}),
    ("radam", 0.01, {}), ("radam", 0.01, {"beta2": 0.9, "weight_decay": 0.1}),
    ("lion", 0.01, {}), ("lion", 0.01, {"weight_decay": 0.5}),
]
# Rosenbrock's curved valley, and the book's bowl with an lr schedule and gradient noise (so
# the lr and the gradient's line vary per step).
SURFACES = [("rosenbrock", (-1.5, 2.0), None, 0.0),
            ("dlfs_bowl", (-7.0, 2.0), {"name": "cosine"}, 0.5)]
STEPS = 40


def _run(optimizer, lr, hyper, surface="rosenbrock", x0=(-1.5, 2.0), schedule=None, noise=0.0,
         steps=STEPS):
    return optim_core.run(surface, optimizer, x0, steps, lr=lr, schedule=schedule, noise=noise,
                          seed=3, record_state=True, **hyper)


def _ids(c):
    return c[0] + "".join(f",{k}={v}" for k, v in c[2].items())


# ---- the equations, by hand ---------------------------------------------------------------------
#
# Each takes the run's hyperparameters h, the step k and the numbers the line shows (v, in
# segment order; the line's result is v[-1], not passed) and returns the result recomputed from
# them, after checking that the hyperparameters it shows are the run's.

def _c(value, expected):
    assert value == expected, (value, expected)


def _ema(name):
    def formula(h, k, beta, prev, one_minus, x):
        _c(beta, h[name])
        _c(one_minus, 1.0 - h[name])
        return beta * prev + one_minus * x
    return formula


def _ema_sq(name):
    def formula(h, k, beta, prev, one_minus, x):
        _c(beta, h[name])
        _c(one_minus, 1.0 - h[name])
        return beta * prev + one_minus * x * x
    return formula


def _eps_h(value, h):
    _c(value, h["eps"])


def _sqrt_plus_eps(h, k, v, eps):
    _eps_h(eps, h)
    return np.sqrt(v) + eps


def _rho_t(h, k, rho_inf, k1, beta2, k2, bc2):
    b2 = h["beta2"]
    _c(rho_inf, 2 / (1 - b2) - 1)
    _c(beta2, b2)
    assert k1 == k2 == k
    return rho_inf - 2 * k * beta2 ** k / bc2


def _rect(h, k, r1, r2, inf1, inf2, inf3, r3):
    assert r1 == r2 == r3 and inf1 == inf2 == inf3 == 2 / (1 - h["beta2"]) - 1
    assert r1 > 5                                   # torch rectifies only when rho_t > 5
    return math.sqrt((r1 - 4) * (r1 - 2) * inf1 / ((inf1 - 4) * (inf1 - 2) * r1))


def _warmup(h, k):
    # RAdam's rho_t <= 5: the step is lr * m_hat, not normalised: its rate is lr itself.
    b2 = h["beta2"]
    assert 2 / (1 - b2) - 1 - 2 * k * b2 ** k / (1 - b2 ** k) <= 5
    return None                                     # checked against lr in _check_line


def _mu(h, k, beta1, step, psi):
    _c(beta1, h["beta1"])
    _c(psi, h["momentum_decay"])
    return beta1 * (1 - 0.5 * 0.96 ** (step * psi))


def _mu_next(h, k, beta1, step, psi):
    assert step == k + 1
    return _mu(h, k, beta1, step, psi)


FORMULAS = {
    "gₖ ← gₖ + λ·θₖ₋₁ = ": lambda h, k, g, lam, th: (_c(lam, h["weight_decay"]), g + lam * th)[1],
    "b₁ = g₁ (torch copies the first gradient) = ": lambda h, k, g: g,
    "bₖ = μ·bₖ₋₁ + gₖ = ": lambda h, k, mu, b, g: (_c(mu, h["momentum"]), mu * b + g)[1],
    "bₖ = μ·bₖ₋₁ + (1 − τ)·gₖ = ": lambda h, k, mu, b, keep, g: (
        _c(mu, h["momentum"]), _c(keep, 1 - h["dampening"]), mu * b + keep * g)[2],
    "dₖ = gₖ + μ·bₖ = ": lambda h, k, g, mu, b: (_c(mu, h["momentum"]), g + mu * b)[1],
    "Δθₖ = −ηₖ·dₖ = −": lambda h, k, lr, d: -lr * d,
    "Δθₖ = −ηₖ·bₖ = −": lambda h, k, lr, b: -lr * b,
    "Δθₖ = −ηₖ·gₖ = −": lambda h, k, lr, g: -lr * g,
    "sₖ = sₖ₋₁ + gₖ² = ": lambda h, k, s, g: s + g * g,
    "Dₖ = √sₖ + ε = √": _sqrt_plus_eps,
    "γₖ = ηₖ / (1 + (k − 1)·δ) = ": lambda h, k, lr, km1, delta: (
        _c(km1, k - 1), _c(delta, h["lr_decay"]), lr / (1 + km1 * delta))[2],
    "effective rate γₖ / Dₖ = ": lambda h, k, rate, d: rate / d,
    "effective rate ηₖ / Dₖ = ": lambda h, k, lr, d: lr / d,
    "Δθₖ = −(γₖ / Dₖ)·gₖ = −": lambda h, k, eff, g: -eff * g,
    "Δθₖ = −(ηₖ / Dₖ)·gₖ = −": lambda h, k, eff, g: -eff * g,
    "vₖ = ρ·vₖ₋₁ + (1 − ρ)·gₖ² = ": _ema_sq("rho"),
    "aₖ = ρ·aₖ₋₁ + (1 − ρ)·gₖ = ": _ema("rho"),
    "Dₖ = √(vₖ − aₖ²) + ε = √(": lambda h, k, v, a, eps: _sqrt_plus_eps(h, k, v - a * a, eps),
    "Dₖ = √vₖ + ε = √": _sqrt_plus_eps,
    "bₖ = μ·bₖ₋₁ + gₖ / Dₖ = ": lambda h, k, mu, b, g, d: (_c(mu, h["momentum"]),
                                                           mu * b + g / d)[1],
    "Δₖ = √(uₖ₋₁ + ε) / √(vₖ + ε)·gₖ = √(": lambda h, k, u, e1, v, e2, g: (
        _eps_h(e1, h), _eps_h(e2, h), np.sqrt(u + e1) / np.sqrt(v + e2) * g)[2],
    "uₖ = ρ·uₖ₋₁ + (1 − ρ)·Δₖ² = ": _ema_sq("rho"),
    "effective rate ηₖ·√(uₖ₋₁ + ε) / √(vₖ + ε) = ": lambda h, k, lr, u, e1, v, e2: (
        _eps_h(e1, h), _eps_h(e2, h), lr * np.sqrt(u + e1) / np.sqrt(v + e2))[2],
    "Δθₖ = −ηₖ·Δₖ = −": lambda h, k, lr, delta: -lr * delta,
    "mₖ = β₁·mₖ₋₁ + (1 − β₁)·gₖ = ": _ema("beta1"),
    "vₖ = β₂·vₖ₋₁ + (1 − β₂)·gₖ² = ": _ema_sq("beta2"),
    "v̄ₖ = max(v̄ₖ₋₁, vₖ) = max(": lambda h, k, old, v: np.maximum(old, v),
    "1 − β₁ᵏ = 1 − ": lambda h, k, b1, step: (_c(b1, h["beta1"]), _c(step, k), 1 - b1 ** step)[2],
    "1 − β₂ᵏ = 1 − ": lambda h, k, b2, step: (_c(b2, h["beta2"]), _c(step, k), 1 - b2 ** step)[2],
    "m̂ₖ = mₖ / (1 − β₁ᵏ) = ": lambda h, k, m, bc1: m / bc1,
    "Dₖ = √vₖ / √(1 − β₂ᵏ) + ε = √": lambda h, k, v, bc2, eps: (
        _eps_h(eps, h), np.sqrt(v) / math.sqrt(bc2) + eps)[1],
    "Dₖ = √v̄ₖ / √(1 − β₂ᵏ) + ε = √": lambda h, k, v, bc2, eps: (
        _eps_h(eps, h), np.sqrt(v) / math.sqrt(bc2) + eps)[1],
    "Δθₖ = −(ηₖ / Dₖ)·m̂ₖ = −": lambda h, k, eff, m: -eff * m,
    "Δθₖ = −ηₖλ·θₖ₋₁ − (ηₖ / Dₖ)·m̂ₖ = −": lambda h, k, lr, lam, th, eff, m: (
        _c(lam, h["weight_decay"]), -lr * lam * th - eff * m)[1],
    "uₖ = max(β₂·uₖ₋₁, |gₖ| + ε) = max(": lambda h, k, b2, u, g, eps: (
        _c(b2, h["beta2"]), _eps_h(eps, h), np.maximum(b2 * u, np.abs(g) + eps))[2],
    "effective rate ηₖ / uₖ = ": lambda h, k, lr, u: lr / u,
    "Δθₖ = −(ηₖ / uₖ)·m̂ₖ = −": lambda h, k, eff, m: -eff * m,
    "μₖ = β₁·(1 − ½·0.96^(k·ψ)) = ": lambda h, k, b1, step, psi: (_c(step, k),
                                                                 _mu(h, k, b1, step, psi))[1],
    "μₖ₊₁ = β₁·(1 − ½·0.96^((k + 1)·ψ)) = ": _mu_next,
    "Πₖ = Πₖ₋₁·μₖ = ": lambda h, k, prod, mu: prod * mu,
    "Dₖ = √(vₖ / (1 − β₂ᵏ)) + ε = √(": lambda h, k, v, bc2, eps: (
        _eps_h(eps, h), np.sqrt(v / bc2) + eps)[1],
    "c_g = (1 − μₖ) / (1 − Πₖ) = (1 − ": lambda h, k, mu, prod: (1 - mu) / (1 - prod),
    "c_m = μₖ₊₁ / (1 − Πₖ·μₖ₊₁) = ": lambda h, k, nxt, prod, nxt2: (
        _c(nxt, nxt2), nxt / (1 - prod * nxt))[1],
    "Nₖ = c_g·gₖ + c_m·mₖ = ": lambda h, k, cg, g, cm, m: cg * g + cm * m,
    "Δθₖ = −(ηₖ / Dₖ)·Nₖ = −": lambda h, k, eff, n: -eff * n,
    "ρₖ = ρ∞ − 2k·β₂ᵏ / (1 − β₂ᵏ) = ": _rho_t,
    "ρₖ ≤ 5: warm-up, no per-coordinate scaling; effective rate ηₖ = ": _warmup,
    "Δθₖ = −ηₖ·m̂ₖ = −": lambda h, k, lr, m: -lr * m,
    "rₖ = √((ρₖ − 4)(ρₖ − 2)·ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)·ρₖ)) = √((": _rect,
    "lₖ = √(1 − β₂ᵏ) / (√vₖ + ε) = √": lambda h, k, bc2, v, eps: (
        _eps_h(eps, h), math.sqrt(bc2) / (np.sqrt(v) + eps))[1],
    "effective rate ηₖ·rₖ·lₖ = ": lambda h, k, lr, r, l_: lr * r * l_,
    "Δθₖ = −(ηₖ·rₖ·lₖ)·m̂ₖ = −": lambda h, k, eff, m: -eff * m,
    "cₖ = β₁·mₖ₋₁ + (1 − β₁)·gₖ = ": _ema("beta1"),
    "sign(cₖ) = ": None,                            # checked against the core in _check_line
    "Δθₖ = −ηₖλ·θₖ₋₁ − ηₖ·sign(cₖ) = −": lambda h, k, lr, lam, th, lr2, s: (
        _c(lam, h["weight_decay"]), _c(lr, lr2), -lr * lam * th - lr * s)[2],
    "Δθₖ = −ηₖ·sign(cₖ) = −": lambda h, k, lr, s: -lr * s,
    "mₖ = β₂·mₖ₋₁ + (1 − β₂)·gₖ = ": _ema("beta2"),
    "θₖ = θₖ₋₁ + Δθₖ = ": lambda h, k, th, d: th + d,
}
# Lines that only show one recorded row: θₖ₋₁, gₖ, ηₖ.
LOOKUPS = {"θₖ₋₁ = ": ("xy", -1), "gₖ = ∇f(θₖ₋₁) = ": ("grad", -1),
           "gₖ = ∇f(θₖ₋₁) + noise = ": ("grad", -1), "ηₖ = ": ("lr", -1)}


def _text_of(line) -> str:
    """The line's leading text (after a "when"): which equation it is."""
    return next(seg for seg in line if isinstance(seg, str))


def _core(traj, name, row):
    """The core's recorded value that a reference names, at a record row (row k = step k)."""
    if name == "theta":
        return traj.xy[row, 0]
    if name in ("grad", "update", "lr"):
        return getattr(traj, name)[row - 1, 0]
    return traj.state[name][row, 0]


def _refs(line):
    return [seg for seg in line if isinstance(seg, dict) and "when" not in seg]


def _finite(values) -> bool:
    return all(np.all(np.isfinite(v)) for v in values)


def _check_line(traj, rec, line, values, k):
    """Every recorded number in the line is the core's row; the line's equation holds."""
    h = rec["hyperparameters"]
    for seg, value in zip(_refs(line), values):
        if "ref" in seg and (seg["ref"] in STATE_NAMES or seg["ref"] in why.CORE_ARRAYS):
            row = k + (-1 if seg["row"] == "k-1" else 0)
            np.testing.assert_array_equal(value, _core(traj, seg["ref"], row),
                                          err_msg=f"{seg} at k={k}")
    text = _text_of(line)
    if text in LOOKUPS:
        assert len(values) == 1
        return
    if not _finite(values):
        return
    *inputs, result = values
    if text == "sign(cₖ) = ":
        b1 = h["beta1"]
        c = b1 * traj.state["exp_avg"][k - 1, 0] + (1 - b1) * traj.grad[k - 1, 0]
        np.testing.assert_array_equal(result, np.sign(c))
        return
    expected = FORMULAS[text](h, k, *inputs)
    if expected is None:                            # RAdam's warm-up rate: lr itself
        np.testing.assert_array_equal(result, [traj.lr[k - 1, 0]] * 2)
        return
    scale = sum(np.abs(np.asarray(v, dtype=float)) for v in inputs) + np.abs(expected)
    if _refs(line)[-1].get("ref") == "update":
        # The recorded update is a difference of positions: it carries the rounding of θ.
        scale = scale + np.abs(traj.xy[k - 1, 0]) + np.abs(traj.xy[k, 0])
    err = np.abs(np.asarray(result) - expected)
    assert np.all(err <= RTOL * scale + TINY), f"{text} at k={k}: {result} vs {expected}"


def _check_record(traj, rec):
    """Every line at every step of the run, its rendering, and the overlays and the identity."""
    steps = traj.steps
    lines = rec["rule"]
    assert lines[-1][-1] == {"ref": "theta", "row": "k"}
    for k in range(1, steps + 1):
        shown = why.line_values(lines, rec, k)
        text = why.fill(lines, rec, k)
        visible = [line for line in lines if why.shown(line, k)]
        assert len(shown) == len(text) == len(visible)
        # A number that is neither recorded nor a constant is the result of a line shown at
        # this step, so its own equation is checked too.
        results = {_refs(line)[-1]["ref"] for line in visible}
        for line in visible:
            for seg in _refs(line):
                if "ref" in seg and seg["ref"] not in STATE_NAMES | set(why.CORE_ARRAYS):
                    assert seg["row"] == "k" and seg["ref"] in results, (seg, k)
        for line, values, rendered in zip(visible, shown, text):
            _check_line(traj, rec, line, values, k)
            # The text is the segments with each number as fmt shows it.
            it = iter(values)
            expected = "".join(seg if isinstance(seg, str) else "" if "when" in seg
                               else _render(next(it)) for seg in line)
            assert rendered == expected
    _check_overlays(traj, rec)


def _render(value):
    if isinstance(value, (int, np.integer)):
        return str(value)
    value = np.asarray(value)
    return why.fmt(value) if value.ndim == 0 else f"({why.fmt(value[0])}, {why.fmt(value[1])})"


def _check_overlays(traj, rec):
    a, h, name = rec["arrays"], rec["hyperparameters"], rec["optimizer"]
    lr = traj.lr[:, 0][:, None]
    g = traj.grad[:, 0]
    np.testing.assert_array_equal(why.overlay(rec, "grad")[1:], g)
    np.testing.assert_array_equal(why.overlay(rec, "taken")[1:], traj.update[:, 0])
    np.testing.assert_array_equal(why.overlay(rec, "plain")[1:], -lr * g)
    for role in ("grad", "plain", "taken", "effective"):
        assert why.overlay(rec, role).shape == (traj.steps + 1, 2)
        assert np.all(np.isnan(why.overlay(rec, role)[0]))
    k = np.arange(1, traj.steps + 1)[:, None]
    with np.errstate(all="ignore"):
        velocity = None
        if "momentum_buffer" in traj.state:
            velocity = -lr * traj.state["momentum_buffer"][1:, 0]
        elif name == "nadam":
            # NAdam's look-ahead numerator, by its rule (optimizers.md 1.7).
            b1, psi = h["beta1"], h["momentum_decay"]
            mu = b1 * (1 - 0.5 * 0.96 ** (k * psi))
            mu_next = b1 * (1 - 0.5 * 0.96 ** ((k + 1) * psi))
            prod = traj.state["mu_product"][1:, :1]
            gg = g + h["weight_decay"] * traj.xy[:-1, 0]
            velocity = -lr * ((1 - mu) / (1 - prod) * gg
                              + mu_next / (1 - prod * mu_next) * traj.state["exp_avg"][1:, 0])
        elif "exp_avg" in traj.state and name != "lion":
            velocity = -lr * traj.state["exp_avg"][1:, 0] / (1 - h["beta1"] ** k)
        elif name == "lion":
            velocity = -lr * (h["beta1"] * traj.state["exp_avg"][:-1, 0] + (1 - h["beta1"]) * g)
    if velocity is None:
        assert why.overlay(rec, "velocity") is None
    else:
        np.testing.assert_allclose(why.overlay(rec, "velocity")[1:], velocity, rtol=1e-12,
                                   atol=TINY)
    accum = {"adagrad": "sum", "rmsprop": "square_avg", "adadelta": "square_avg",
             "amsgrad": "max_exp_avg_sq", "adamax": "exp_inf"}.get(name)
    if accum is None and "exp_avg_sq" in traj.state:
        accum = "exp_avg_sq"
    if accum is None:
        assert why.overlay(rec, "accum") is None
    else:
        np.testing.assert_array_equal(why.overlay(rec, "accum"), traj.state[accum][:, 0])
    # The effective rate times what it rates is the step, where the rule says so.
    of = rec["effective_of"]
    decoupled = name in ("adamw", "lion") and h["weight_decay"] != 0
    momentum_rms = name == "rmsprop" and h["momentum"] != 0
    assert (of is None) == (decoupled or momentum_rms)
    if of is not None:
        step = -why.overlay(rec, "effective") * a[of]
        ok = np.isfinite(step).all(axis=1) & np.isfinite(a["update"]).all(axis=1)
        scale = np.abs(step) + np.abs(a["theta"]) + np.abs(_prev(a["theta"]))
        assert np.all(np.abs(step - a["update"])[ok] <= RTOL * scale[ok] + TINY)


def _prev(x):
    return np.concatenate([np.full((1,) + x.shape[1:], np.nan), x[:-1]])


# ---- every optimizer, every switch ---------------------------------------------------------------

@pytest.mark.parametrize("surface,x0,schedule,noise", SURFACES, ids=[s[0] for s in SURFACES])
@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_every_number_shown_is_the_core_and_every_equation_holds(config, surface, x0, schedule,
                                                                 noise):
    optimizer, lr, hyper = config
    traj = _run(optimizer, lr, hyper, surface, x0, schedule, noise)
    assert traj.diverged_at[0] == -1
    rec = why.why_record(traj)
    _check_record(traj, rec)


def test_every_line_is_checked():
    """No line of any configuration goes without a formula or a lookup here."""
    known = set(FORMULAS) | set(LOOKUPS)
    for optimizer, _, hyper in CONFIGS:
        for noise in (0.0, 1.0):
            for line in why.rule_lines(optimizer, hyper, noise=noise):
                assert _text_of(line) in known, _text_of(line)


def test_segments_are_what_the_browser_is_told():
    for optimizer, lr, hyper in CONFIGS:
        rec = why.why_record(_run(optimizer, lr, hyper, steps=8))
        names = set(rec["arrays"])
        for line in rec["rule"]:
            assert line and isinstance(line, list)
            for i, seg in enumerate(line):
                if isinstance(seg, str):
                    continue
                assert isinstance(seg, dict) and len(seg) in (1, 2)
                if "when" in seg:
                    assert i == 0 and len(seg["when"]) == 2
                elif "ref" in seg:
                    assert seg["ref"] in names and seg["row"] in ("k", "k-1")
                elif "step" in seg:
                    assert seg["step"] in ("k", "k-1", "k+1")
                else:
                    assert isinstance(seg["const"], float)
        for name, arr in rec["arrays"].items():
            assert arr.shape in ((9,), (9, 2)), name
        json.dumps(rec["rule"])
        json.dumps(rec["overlays"])


# ---- first steps, by hand ------------------------------------------------------------------------
#
# Rosenbrock f = (1 − x)² + 100(y − x²)² at the start (−1.5, 2): y − x² = 2 − 2.25 = −0.25, so
# ∂f/∂x = −2(1 − x) − 400x(y − x²) = −5 − 400·(−1.5)·(−0.25) = −155 and
# ∂f/∂y = 200(y − x²) = −50: g₁ = (−155, −50), |g₁| = (155, 50).

G1 = np.array([-155.0, -50.0])


def _first(optimizer, lr, **hyper):
    rec = why.why_record(_run(optimizer, lr, hyper, steps=3))
    np.testing.assert_allclose(rec["arrays"]["grad"][1], G1, rtol=1e-14)
    return rec, rec["arrays"]["update"][1], why.overlay(rec, "effective")[1]


def test_first_steps_by_hand():
    lr = 1e-3
    # SGD and momentum (b₁ = g₁): −lr·g₁.
    for name in ("sgd", "momentum"):
        _, step, eff = _first(name, lr)
        np.testing.assert_allclose(step, -lr * G1, rtol=1e-12)
        np.testing.assert_array_equal(eff, [lr, lr])
    # Nesterov: b₁ = g₁, d₁ = g₁ + μb₁ = 1.9·g₁ for μ = 0.9: 1.9× the gradient step.
    rec, step, _ = _first("nesterov", lr)
    np.testing.assert_allclose(step, -1.9 * lr * G1, rtol=1e-12)
    np.testing.assert_allclose(why.overlay(rec, "velocity")[1], -lr * G1, rtol=1e-12)
    # AdaGrad (s₀ = 0, ε = 1e-10): s₁ = g₁², rate lr/(|g₁| + ε), step −lr·g₁/(|g₁| + ε) =
    # lr·(1, 1) to 1e-12: the same step in both coordinates although |g| differs 3×.
    rec, step, eff = _first("adagrad", 0.5)
    np.testing.assert_allclose(eff, 0.5 / (np.abs(G1) + 1e-10), rtol=1e-14)
    np.testing.assert_allclose(step, [0.5, 0.5], rtol=1e-11)
    np.testing.assert_array_equal(why.overlay(rec, "accum")[1], G1 ** 2)
    # RMSProp (α = 0.99, ε = 1e-8): v₁ = 0.01·g₁², D₁ = 0.1·|g₁| + ε, so the step is
    # lr·g/(0.1|g|) = 10·lr per coordinate: ten times what Adam takes.
    _, step, eff = _first("rmsprop", 5e-3)
    np.testing.assert_allclose(eff, 5e-3 / (0.1 * np.abs(G1) + 1e-8), rtol=1e-14)
    np.testing.assert_allclose(step, 5e-3 * np.abs(G1) / (0.1 * np.abs(G1) + 1e-8), rtol=1e-12)
    np.testing.assert_allclose(step, [0.05, 0.05], rtol=3e-9)   # ε/(0.1·50) = 2e-9
    # centered: a₁ = 0.01·g₁, D₁ = √(0.01g² − 0.0001g²) = √0.0099·|g|: 1/√0.0099 = 10.05·lr.
    _, step, _ = _first("rmsprop", 5e-3, centered=True)
    np.testing.assert_allclose(step, 5e-3 * np.abs(G1) / (math.sqrt(0.0099) * np.abs(G1) + 1e-8),
                               rtol=1e-12)
    np.testing.assert_allclose(step, 5e-3 / math.sqrt(0.0099) * np.ones(2), rtol=3e-9)
    # AdaDelta (ρ = 0.9, ε = 1e-6, lr = 1): Δ₁ = √ε/√(0.1g² + ε)·g ≈ √(1e-5)·sign(g), the
    # 3.162e-3 of optimizers.md; its rate √ε/√(0.1g² + ε) per unit of g.
    _, step, eff = _first("adadelta", 1.0)
    np.testing.assert_allclose(eff, 1e-3 / np.sqrt(0.1 * G1 ** 2 + 1e-6), rtol=1e-14)
    np.testing.assert_allclose(step, [math.sqrt(1e-5)] * 2, rtol=1e-6)
    # Adam, AMSGrad, Adamax: m̂₁ = g₁ and √v̂₁ = |g₁| (Adamax: u₁ = |g₁| + ε): the step is
    # −lr·g/(|g| + ε) = lr·(1, 1) up to ε/|g|; the rate lr/(|g₁| + ε); velocity −lr·m̂₁ = −lr·g₁.
    for name in ("adam", "amsgrad", "adamax"):
        rec, step, eff = _first(name, 0.05)
        np.testing.assert_allclose(step, [0.05, 0.05], rtol=1e-9)
        np.testing.assert_allclose(eff, 0.05 / (np.abs(G1) + 1e-8), rtol=1e-14)
        np.testing.assert_allclose(why.overlay(rec, "velocity")[1], -0.05 * G1, rtol=1e-14)
    # NAdam: μ₁, μ₂ from ψ = 0.004; c_g = (1 − μ₁)/(1 − μ₁) = 1, c_m = μ₂/(1 − μ₁μ₂);
    # N₁ = g(1 + 0.1·c_m) since m₁ = 0.1·g: the step 1.0564517784·lr·sign(g) (optimizers.md).
    rec, step, _ = _first("nadam", 0.05)
    mu1, mu2 = 0.9 * (1 - 0.5 * 0.96 ** 0.004), 0.9 * (1 - 0.5 * 0.96 ** 0.008)
    np.testing.assert_allclose(rec["arrays"]["coef_grad"][1], 1.0, rtol=1e-14)
    np.testing.assert_allclose(rec["arrays"]["coef_avg"][1], mu2 / (1 - mu1 * mu2), rtol=1e-14)
    np.testing.assert_allclose(step, 0.05 * (1 + 0.1 * mu2 / (1 - mu1 * mu2)) * np.abs(G1)
                               / (np.abs(G1) + 1e-8), rtol=1e-12)
    np.testing.assert_allclose(step, [0.05 * 1.0564517784] * 2, rtol=1e-9)
    # RAdam: ρ₁ = 1 ≤ 5, a warm-up step −lr·m̂₁ = −lr·g₁, not normalised; its rate is lr.
    _, step, eff = _first("radam", 0.01)
    np.testing.assert_allclose(step, -0.01 * G1, rtol=1e-12)
    np.testing.assert_array_equal(eff, [0.01, 0.01])
    # Lion: c₁ = 0.1·g₁, the step −lr·sign(c₁) = lr·(1, 1) exactly (a sign).
    rec, step, _ = _first("lion", 0.01)
    np.testing.assert_array_equal(rec["arrays"]["sign_c"][1], [-1.0, -1.0])
    np.testing.assert_allclose(step, [0.01, 0.01], rtol=1e-12)


def test_first_step_text():
    rec = why.why_record(_run("rmsprop", 5e-3, {}, steps=2))
    assert why.fill(rec["rule"], rec, 1) == [
        "θₖ₋₁ = (−1.5, 2)",
        "gₖ = ∇f(θₖ₋₁) = (−155, −50)",
        "ηₖ = 0.005",
        "vₖ = ρ·vₖ₋₁ + (1 − ρ)·gₖ² = 0.99·(0, 0) + 0.01·(−155, −50)² = (240.3, 25)",
        "Dₖ = √vₖ + ε = √(240.3, 25) + 1×10⁻⁸ = (15.5, 5)",
        "effective rate ηₖ / Dₖ = 0.005 / (15.5, 5) = (3.226×10⁻⁴, 0.001)",
        "Δθₖ = −(ηₖ / Dₖ)·gₖ = −(3.226×10⁻⁴, 0.001)·(−155, −50) = (0.05, 0.05)",
        "θₖ = θₖ₋₁ + Δθₖ = (−1.5, 2) + (0.05, 0.05) = (−1.45, 2.05)",
    ]


# ---- the steps a line belongs to -----------------------------------------------------------------

def test_momentum_first_step_copies_the_gradient():
    # torch: b₁ = g₁ without dampening, then bₖ = μbₖ₋₁ + (1 − τ)gₖ.
    rec = why.why_record(_run("momentum", 1e-3, {"dampening": 0.5}, steps=3))
    one, two = why.fill(rec["rule"], rec, 1), why.fill(rec["rule"], rec, 2)
    assert any(t.startswith("b₁ = g₁") for t in one) and not any(t.startswith("bₖ") for t in one)
    assert any(t.startswith("bₖ = μ·bₖ₋₁ + (1 − τ)·gₖ") for t in two)
    np.testing.assert_array_equal(rec["arrays"]["momentum_buffer"][1], rec["arrays"]["grad"][1])


def test_radam_warm_up_lines_follow_rho():
    # β₂ = 0.999: ρ₁..ρ₆ = 1, 1.9995, 2.9987, 3.9975, 4.9960, 5.9942 (optimizers.md 1.8), so steps
    # 1-5 are warm-up and 6 on rectified. β₂ = 0.5: ρ∞ = 3 <= 5, never rectified.
    assert why.radam_first_rectified(0.999) == 6
    assert why.radam_first_rectified(0.5) is None
    rec = why.why_record(_run("radam", 0.01, {}, steps=8))
    for k in range(1, 9):
        text = why.fill(rec["rule"], rec, k)
        assert any(t.startswith("ρₖ ≤ 5") for t in text) == (k <= 5)
        assert any(t.startswith("rₖ = ") for t in text) == (k >= 6)
    rec = why.why_record(_run("radam", 0.01, {"beta2": 0.5}, steps=4))
    assert all(any(t.startswith("ρₖ ≤ 5") for t in why.fill(rec["rule"], rec, k))
               for k in range(1, 5))


# ---- divergence ---------------------------------------------------------------------------------

def test_diverged_rows_are_nan_and_still_render():
    # SGD with lr 0.01 on Rosenbrock from (−1.5, 2): the first step is lr·(155, 50) = (1.55, 0.5)
    # to (0.05, 2.5), where the curvature 200 ≫ 2/lr makes every later step grow: it leaves.
    traj = _run("sgd", 0.01, {}, steps=30)
    d = int(traj.diverged_at[0])
    assert 0 < d < 30
    rec = why.why_record(traj)
    # Step d started at the last finite position θ_{d-1} with a finite lr and gradient and
    # led to xy[d], outside the box: its step is NaN, what it was given is not; from step d + 1
    # on, everything is NaN (the core's convention).
    assert np.isfinite(rec["arrays"]["grad"][d]).all() and np.isfinite(rec["arrays"]["lr"][d])
    assert np.isnan(rec["arrays"]["update"][d:]).all()
    assert np.isnan(why.overlay(rec, "effective")[d + 1:]).all()
    assert "NaN" in why.fill(rec["rule"], rec, 30)[-1]
    _check_record(traj, rec)


# ---- formatting ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value,text", [
    (0.05, "0.05"), (1.0, "1"), (155.0, "155"), (-1234.56, "−1235"), (12345.6, "1.235×10⁴"),
    (0.00123456, "0.001235"), (0.000123456, "1.235×10⁻⁴"), (1e-8, "1×10⁻⁸"), (9.99951, "10"),
    (0.5, "0.5"), (-0.0, "0"), (0.0, "0"), (1e300, "1×10³⁰⁰"), (2.5e-310, "2.5×10⁻³¹⁰"),
    (float("nan"), "NaN"), (float("inf"), "∞"), (float("-inf"), "−∞"), (999.96, "1000"),
    (9999.6, "1×10⁴"), (-0.0312, "−0.0312"),
])
def test_fmt(value, text):
    assert why.fmt(value) == text


_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def _parse(text: str) -> float:
    sign = -1.0 if text.startswith("−") else 1.0
    body = text.lstrip("−")
    m = re.fullmatch(r"([0-9.]+)(?:×10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+))?", body)
    assert m, text
    exponent = int(m.group(2).translate(_SUPER)) if m.group(2) else 0
    return sign * float(f"{m.group(1)}e{exponent}")


@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: 1e-300 < abs(x) < 1e300))
def test_fmt_keeps_four_significant_digits(x):
    text = why.fmt(x)
    digits = re.sub(r"×10.*", "", text).lstrip("−").replace(".", "").lstrip("0")
    assert 1 <= len(digits) <= 4
    back = _parse(text)
    assert abs(back - x) <= 5.0001e-4 * abs(x)


# ---- compact: what the browser gets --------------------------------------------------------------

def test_pack_holds_every_referenced_array_once_as_float32():
    rec = why.why_record(_run("nadam", 0.05, {}, steps=10))
    packed = why.pack(rec, live.encode)
    json.dumps(packed)
    needed = {seg["ref"] for line in rec["rule"] for seg in line
              if isinstance(seg, dict) and "ref" in seg}
    needed |= {o["array"] for o in rec["overlays"].values()} | {rec["effective_of"]}
    assert set(packed["arrays"]) == needed
    for name, entry in packed["arrays"].items():
        values = live.decode(entry["data"])
        assert values.size == 11 * entry["width"]
        np.testing.assert_array_equal(values.reshape(11, -1).squeeze(),
                                      rec["arrays"][name].astype(np.float32))
    raw = why.pack(rec)
    assert all(e["data"].dtype == np.float32 for e in raw["arrays"].values())


def test_six_optimizers_1000_steps_size():
    """6 runs x 1000 steps: every packed array is 1001 rows of 1 or 2 float32, base64 (4/3);
    the rest (rule lines, labels) is small."""
    names = ["sgd", "momentum", "rmsprop", "adam", "adagrad", "nadam"]
    scene = scenes.normalize_scene({**scenes.default_scene(), "steps": 1000,
                                    "optimizers": [{"optimizer": n} for n in names]})
    result = scenes.compute_scene(scene, record_state=True)
    packs = [why.pack(r, live.encode) for r in why.scene_records(result)]
    size = len(json.dumps(packs, separators=(",", ":")))
    floats = sum(e["width"] * 1001 for p in packs for e in p["arrays"].values())
    data = sum(len(e["data"]) for p in packs for e in p["arrays"].values())
    assert data == sum(4 * math.ceil(w * 1001 * 4 / 3) for w in
                       (e["width"] for p in packs for e in p["arrays"].values()))
    assert size - data < 40_000                     # rule lines, labels, keys
    assert floats * 4 * 4 / 3 <= data <= floats * 4 * 4 / 3 + 4 * 100


# ---- scenes --------------------------------------------------------------------------------------

def test_scene_with_record_state_is_the_same_race():
    scene = scenes.normalize_scene({**scenes.default_scene(), "steps": 50})
    cache = scenes.RunCache()
    plain = scenes.compute_scene(scene, cache)
    recorded = scenes.compute_scene(scene, cache, record_state=True)
    assert len(cache) == 2 * len(scene["optimizers"])   # recorded runs are their own entries
    for a, b in zip(plain.runs, recorded.runs):
        np.testing.assert_array_equal(a.trajectory.xy, b.trajectory.xy)
        assert a.trajectory.grad is None and b.trajectory.grad is not None
    records = why.scene_records(recorded)
    assert [r["optimizer"] for r in records] == [e["optimizer"] for e in scene["optimizers"]]
    with pytest.raises(ValueError, match="record_state"):
        why.scene_records(plain)


def test_bad_arguments():
    traj = _run("adam", 0.05, {}, steps=3)
    rec = why.why_record(traj)
    for k in (0, 4, -1, 1.5, True):
        with pytest.raises(ValueError, match="k must be"):
            why.fill(rec["rule"], rec, k)
    with pytest.raises(ValueError, match="index"):
        why.why_record(traj, 1)
    with pytest.raises(ValueError, match="unknown optimizer"):
        why.rule_lines("adamz", {})
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        why.rule_lines("adam", {"momentum": 0.9})


def test_a_sweep_member_is_its_own_run():
    """Run i of a batched trajectory (per-trajectory hyperparameters) gives run i's record."""
    betas = np.array([0.5, 0.9, 0.99])
    batch = optim_core.run("rosenbrock", "adam", [(-1.5, 2.0)] * 3, 12, lr=0.05, beta1=betas,
                           record_state=True)
    for i, b in enumerate(betas):
        alone = _run("adam", 0.05, {"beta1": float(b)}, steps=12)
        rec = why.why_record(batch, i)
        assert rec["hyperparameters"]["beta1"] == b
        for name, arr in why.why_record(alone)["arrays"].items():
            np.testing.assert_allclose(rec["arrays"][name], arr, rtol=1e-14, atol=0,
                                       equal_nan=True)


# ---- property: any hyperparameters, any start ----------------------------------------------------

_RANGES = {"weight_decay": (0.0, 0.3), "momentum": (0.0, 0.99), "dampening": (0.0, 1.0),
           "rho": (0.0, 0.999), "beta1": (0.0, 0.99), "beta2": (0.0, 0.9999),
           "lr_decay": (0.0, 1.0), "initial_accumulator_value": (0.0, 2.0),
           "momentum_decay": (0.0, 0.1)}
_LR = {"sgd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "adagrad": 0.3, "rmsprop": 3e-3,
       "adadelta": 1.0, "adam": 0.03, "adamw": 0.03, "adamax": 0.05, "nadam": 0.03,
       "amsgrad": 0.03, "radam": 0.01, "lion": 0.01}


@st.composite
def _cases(draw):
    name = draw(st.sampled_from(sorted(OPTIMIZERS)))
    hyper = {}
    for p in OPTIMIZERS[name].hyper:
        if not draw(st.booleans()):
            continue                                    # torch's default
        if p.kind == "bool":
            hyper[p.name] = draw(st.booleans())
        elif p.name == "eps":
            hyper[p.name] = 10.0 ** draw(st.floats(-10, -3))
        else:
            lo, hi = _RANGES[p.name]
            hyper[p.name] = draw(st.floats(lo, hi))
    surface = draw(st.sampled_from(["rosenbrock", "himmelblau", "dlfs_bowl", "saddle"]))
    (x0, x1), (y0, y1) = landscapes.get(surface).bounds
    start = (draw(st.floats(x0, x1)), draw(st.floats(y0, y1)))
    lr = _LR[name] * 10.0 ** draw(st.floats(-1, 1))
    noise = draw(st.sampled_from([0.0, 0.3]))
    steps = draw(st.integers(1, 25))
    return name, hyper, surface, start, lr, noise, steps


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases())
def test_any_configuration_shows_true_numbers(case):
    name, hyper, surface, start, lr, noise, steps = case
    traj = _run(name, lr, hyper, surface, start, None, noise, steps)
    rec = why.why_record(traj)
    _check_record(traj, rec)
    if name == "radam":
        first = why.radam_first_rectified(rec["hyperparameters"]["beta2"])
        rho = rec["arrays"]["rho"][1:]
        np.testing.assert_array_equal(rho > 5, np.arange(1, steps + 1) >= (first or 10 ** 9))
