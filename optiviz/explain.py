"""What an optimizer does, in LaTeX with the current numbers and in plain words.

    rule_latex("adam", {"beta1": 0.5}, 0.05)  -> the update rule with 0.5, 0.999, 10^{-8}, 0.05 in place
    schedule_latex({"name": "cosine"}, steps=500, lr=0.05) -> the learning rate at step k
    describe("momentum", "rosenbrock")        -> the optimizer's summary + what to watch on that surface

The formulas are the ones optim_core computes (torch.optim's, optimizers.md section 1): eps outside
the root for Adam, RMSProp and AdaGrad, inside for AdaDelta and Adamax's max; SGD's momentum buffer
starts at b_1 = g_1; RMSProp has no bias correction; AdamW's decay is decoupled, everyone else's is
L2 (added to the gradient). The output uses only what KaTeX renders (st.latex): an `aligned` block,
\\frac, \\sqrt, \\hat, \\bar, \\max, \\operatorname, \\text, `cases`.
"""

from __future__ import annotations

import math

from optim_core import OPTIMIZERS, normalize_schedule

from . import i18n

__all__ = ["rule_latex", "schedule_latex", "describe", "number_latex"]


# ---- numbers --------------------------------------------------------------------------------------

def number_latex(value, digits: int = 8) -> str:
    """A number as LaTeX: 0.05, 0.999, 10^{-8}, 3\\times10^{-4}, 1999; at most `digits` significant."""
    if isinstance(value, bool):
        return str(int(value))
    x = float(value)
    if math.isnan(x):
        return r"\text{NaN}"
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    x = abs(x)
    if 1e-3 <= x < 1e5:
        text = f"{x:.{digits}g}"
        if "e" not in text:
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            return sign + text
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    exponent = int(exponent)
    if mantissa == "10":            # rounding carried over: 9.99999999e-5 -> 1e-4
        mantissa, exponent = "1", exponent + 1
    power = f"10^{{{exponent}}}"
    return sign + (power if mantissa == "1" else rf"{mantissa}\times{power}")


_THETA, _HAT_M, _HAT_V = r"\theta_t", r"\hat m_t", r"\hat v_t"


def _coef(value, symbol: str) -> str:
    """`value symbol` with a thin space, '' when value is 0, just the symbol when it is 1."""
    if value == 0:
        return ""
    if value == 1:
        return symbol
    if value == -1:
        return "-" + symbol
    return rf"{number_latex(value)}\,{symbol}"


def _sum(*terms: str) -> str:
    """Join terms with +, dropping empty ones and turning '+ -' into '-'."""
    terms = [t for t in terms if t]
    if not terms:
        return "0"
    out = terms[0]
    for t in terms[1:]:
        out += f" - {t[1:]}" if t.startswith("-") else f" + {t}"
    return out


def _ema(beta, old: str, new: str) -> str:
    """beta * old + (1 - beta) * new, with the numbers worked out."""
    return _sum(_coef(beta, old), _coef(1.0 - beta, new))


def _power(base, exponent: str) -> str:
    b = number_latex(base)
    return f"{b}^{{{exponent}}}" if not b.startswith("-") and "\\times" not in b \
        else f"({b})^{{{exponent}}}"


def _lr(lr) -> str:
    return r"\eta_t" if lr is None else number_latex(lr)


def _scaled(lr, expr: str) -> str:
    """lr times expr, e.g. 0.05\\,\\frac{...}; a unit lr is omitted."""
    if lr is not None and float(lr) == 1.0:
        return expr
    return rf"{_lr(lr)}\,{expr}"


def _words(key: str, lang: str, **values) -> str:
    """A catalog string for inside \\text{} (KaTeX): its braces and backslashes are the
    catalog's own, never user text."""
    return i18n.t(key, lang, **values)


def _aligned(lines) -> str:
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def _decay_line(wd) -> list[str]:
    """L2 weight decay: the gradient gets lambda * theta added (empty when lambda = 0)."""
    if wd == 0:
        return []
    return [r"g_t &\leftarrow g_t + " + _coef(wd, _THETA)]


def _bias(beta, symbol: str, raw: str) -> str:
    """hat symbol = raw / (1 - beta^t); no correction when beta = 0."""
    if beta == 0:
        return rf"{symbol} = {raw}"
    return rf"{symbol} = \frac{{{raw}}}{{1 - {_power(beta, 't')}}}"


# ---- the rules --------------------------------------------------------------------------------------

def _sgd(h, lr):
    return _decay_line(h["weight_decay"]) + [rf"\theta_{{t+1}} &= \theta_t - {_scaled(lr, 'g_t')}"]


def _momentum(h, lr):
    mu, tau = h["momentum"], h.get("dampening", 0.0)
    if mu == 0:                       # torch keeps no buffer: plain SGD (dampening unused)
        return _sgd(h, lr)
    buffer = _sum(_coef(mu, "b_{t-1}"), _coef(1.0 - tau, "g_t"))
    return _decay_line(h["weight_decay"]) + [
        rf"b_t &= {buffer} \quad (b_1 = g_1)",
        rf"\theta_{{t+1}} &= \theta_t - {_scaled(lr, 'b_t')}",
    ]


def _nesterov(h, lr):
    mu = h["momentum"]
    if mu == 0:
        return _sgd(h, lr)
    return _decay_line(h["weight_decay"]) + [
        rf"b_t &= {_sum(_coef(mu, 'b_{t-1}'), 'g_t')} \quad (b_1 = g_1)",
        rf"\theta_{{t+1}} &= \theta_t - {_scaled(lr, '(' + _sum('g_t', _coef(mu, 'b_t')) + ')')}",
    ]


def _adagrad(h, lr):
    eps, decay, s0 = h["eps"], h["lr_decay"], h["initial_accumulator_value"]
    lines = _decay_line(h["weight_decay"])
    lines.append(rf"s_t &= s_{{t-1}} + g_t^2 \quad (s_0 = {number_latex(s0)})")
    step = rf"\frac{{g_t}}{{\sqrt{{s_t}} + {number_latex(eps)}}}"
    if decay != 0:
        lines.append(rf"\gamma_t &= \frac{{{_lr(lr)}}}{{1 + {_coef(decay, '(t-1)')}}}")
        lines.append(rf"\theta_{{t+1}} &= \theta_t - \gamma_t\,{step}")
    else:
        lines.append(rf"\theta_{{t+1}} &= \theta_t - {_scaled(lr, step)}")
    return lines


def _rmsprop(h, lr):
    rho, eps, mu = h["rho"], h["eps"], h["momentum"]
    lines = _decay_line(h["weight_decay"])
    lines.append(rf"v_t &= {_ema(rho, 'v_{t-1}', 'g_t^2')} \quad (v_0 = 0)")
    if h["centered"]:
        lines.append(rf"a_t &= {_ema(rho, 'a_{t-1}', 'g_t')} \quad (a_0 = 0)")
        denom = rf"\sqrt{{v_t - a_t^2}} + {number_latex(eps)}"
    else:
        denom = rf"\sqrt{{v_t}} + {number_latex(eps)}"
    step = rf"\frac{{g_t}}{{{denom}}}"
    if mu != 0:
        lines.append(rf"b_t &= {_sum(_coef(mu, 'b_{t-1}'), step)} \quad (b_0 = 0)")
        lines.append(rf"\theta_{{t+1}} &= \theta_t - {_scaled(lr, 'b_t')}")
    else:
        lines.append(rf"\theta_{{t+1}} &= \theta_t - {_scaled(lr, step)}")
    return lines


def _adadelta(h, lr):
    rho, eps = h["rho"], number_latex(h["eps"])
    return _decay_line(h["weight_decay"]) + [
        rf"v_t &= {_ema(rho, 'v_{t-1}', 'g_t^2')}",
        rf"\Delta_t &= \frac{{\sqrt{{u_{{t-1}} + {eps}}}}}{{\sqrt{{v_t + {eps}}}}}\,g_t",
        r"u_t &= " + _ema(rho, "u_{t-1}", r"\Delta_t^2") + r" \quad (u_0 = v_0 = 0)",
        r"\theta_{t+1} &= \theta_t - " + _scaled(lr, r"\Delta_t"),
    ]


def _moments(h):
    b1, b2 = h["beta1"], h["beta2"]
    return [rf"m_t &= {_ema(b1, 'm_{t-1}', 'g_t')}",
            rf"v_t &= {_ema(b2, 'v_{t-1}', 'g_t^2')} \quad (m_0 = v_0 = 0)"]


def _adam_like(h, lr, *, decoupled=False, amsgrad=False):
    b1, b2, eps, wd = h["beta1"], h["beta2"], number_latex(h["eps"]), h["weight_decay"]
    lines = [] if decoupled else _decay_line(wd)
    lines += _moments(h)
    if amsgrad:
        lines.append(r"\bar v_t &= \max(\bar v_{t-1},\ v_t) \quad (\bar v_0 = 0)")
    v = r"\bar v_t" if amsgrad else "v_t"
    lines.append("&" + _bias(b1, _HAT_M, "m_t") + r",\quad " + _bias(b2, _HAT_V, v))
    step = _scaled(lr, rf"\frac{{\hat m_t}}{{\sqrt{{\hat v_t}} + {eps}}}")
    if decoupled and wd != 0:
        shrink = rf"(1 - {_lr(lr)}\cdot {number_latex(wd)})\,\theta_t"
        lines.append(rf"\theta_{{t+1}} &= {shrink} - {step}")
    else:
        lines.append(rf"\theta_{{t+1}} &= \theta_t - {step}")
    return lines


def _adam(h, lr):
    return _adam_like(h, lr)


def _adamw(h, lr):
    return _adam_like(h, lr, decoupled=True)


def _amsgrad(h, lr):
    return _adam_like(h, lr, amsgrad=True)


def _adamax(h, lr):
    b1, b2, eps = h["beta1"], h["beta2"], number_latex(h["eps"])
    lines = _decay_line(h["weight_decay"])
    lines.append(rf"m_t &= {_ema(b1, 'm_{t-1}', 'g_t')} \quad (m_0 = 0)")
    decayed = _coef(b2, "u_{t-1}") or "0"
    lines.append(rf"u_t &= \max({decayed},\ |g_t| + {eps}) \quad (u_0 = 0)")
    ratio = r"\frac{m_t}{u_t}"
    if b1 == 0:
        step = _scaled(lr, ratio)
    else:
        step = r"\frac{" + _lr(lr) + "}{1 - " + _power(b1, "t") + r"}\," + ratio
    lines.append(r"\theta_{t+1} &= \theta_t - " + step)
    return lines


def _nadam(h, lr):
    b1, b2, eps, psi = h["beta1"], h["beta2"], number_latex(h["eps"]), h["momentum_decay"]
    lines = _decay_line(h["weight_decay"])
    if psi == 0:
        lines.append(rf"\mu_t &= {number_latex(b1 / 2)}")
    else:
        mu = rf"1 - \tfrac{{1}}{{2}}\,0.96^{{{_coef(psi, 't')}}}"
        lines.append(rf"\mu_t &= {number_latex(b1)}\,\bigl({mu}\bigr)" if b1 != 1
                     else rf"\mu_t &= {mu}")
    lines += _moments(h)
    lines.append("&" + _bias(b2, _HAT_V, "v_t") + rf",\quad D_t = \sqrt{{\hat v_t}} + {eps}")
    now = _scaled(lr, r"\frac{1 - \mu_t}{1 - \prod_{i=1}^{t} \mu_i}\,\frac{g_t}{D_t}")
    ahead = _scaled(lr, r"\frac{\mu_{t+1}}{1 - \prod_{i=1}^{t+1} \mu_i}\,\frac{m_t}{D_t}")
    lines.append(r"\theta_{t+1} &= \theta_t - " + now + " - " + ahead)
    return lines


def _radam(h, lr, lang="en"):
    b1, b2, eps = h["beta1"], h["beta2"], number_latex(h["eps"])
    rho_inf = 2.0 / (1.0 - b2) - 1.0
    lines = _decay_line(h["weight_decay"])
    lines += _moments(h)
    lines.append("&" + _bias(b1, _HAT_M, "m_t"))
    c2 = "1" if b2 == 0 else rf"1 - {_power(b2, 't')}"
    if b2 == 0:
        rho_t = rf"\rho_t &= \rho_\infty = {number_latex(rho_inf)}"
    else:
        rho_t = (rf"\rho_t &= {number_latex(rho_inf)} - \frac{{2t\,{_power(b2, 't')}}}{{{c2}}}"
                 rf" \quad (\rho_\infty = {number_latex(rho_inf)})")
    lines.append(rho_t)
    lines.append(r"r_t &= \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\,\rho_\infty}"
                 r"{(\rho_\infty - 4)(\rho_\infty - 2)\,\rho_t}}")
    adaptive = _scaled(lr, rf"\hat m_t\,r_t\,\frac{{\sqrt{{{c2}}}}}{{\sqrt{{v_t}} + {eps}}}")
    plain = _scaled(lr, r"\hat m_t")
    lines.append(rf"\theta_{{t+1}} &= \begin{{cases}} \theta_t - {adaptive} & \rho_t > 5 \\ "
                 rf"\theta_t - {plain} & \text{{{_words('latex.otherwise', lang)}}} \end{{cases}}")
    return lines


def _lion(h, lr):
    b1, b2, wd = h["beta1"], h["beta2"], h["weight_decay"]
    inner = _sum(r"\operatorname{sign}(c_t)", _coef(wd, r"\theta_t"))
    move = _scaled(lr, f"({inner})" if wd != 0 else inner)
    return [
        rf"c_t &= {_ema(b1, 'm_{t-1}', 'g_t')}",
        rf"\theta_{{t+1}} &= \theta_t - {move}",
        rf"m_t &= {_ema(b2, 'm_{t-1}', 'g_t')} \quad (m_0 = 0)",
    ]


_RULES = {"sgd": _sgd, "momentum": _momentum, "nesterov": _nesterov, "adagrad": _adagrad,
          "rmsprop": _rmsprop, "adadelta": _adadelta, "adam": _adam, "adamw": _adamw,
          "adamax": _adamax, "nadam": _nadam, "amsgrad": _amsgrad, "radam": _radam, "lion": _lion}


def _spec(optimizer):
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r:.40}; valid optimizers are: "
                         f"{', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[optimizer]


def rule_latex(optimizer: str, hyperparameters: dict | None = None, lr=None,
               lang: str = "en") -> str:
    """The update rule with the given values substituted (defaults for the rest), as KaTeX.

    lr=None writes the rate as the symbol eta_t (a schedule sets it per step). g_t is the
    gradient at theta_t (plus noise, when the scene has some). Words (lang "en" or "ko") are only
    ever inside \\text{}. Raises ValueError for an unknown optimizer or hyperparameter name.
    """
    spec = _spec(optimizer)
    given = dict(hyperparameters or {})
    unknown = sorted(set(given) - {p.name for p in spec.hyper})
    if unknown:
        raise ValueError(f"unknown hyperparameter {unknown[0]!r} for optimizer {optimizer!r}; "
                         f"its hyperparameters are: {', '.join(p.name for p in spec.hyper)}")
    h = {**spec.defaults(), **given}
    for p in spec.hyper:
        try:
            h[p.name] = bool(h[p.name]) if p.kind == "bool" else float(h[p.name])
        except (TypeError, ValueError):
            raise ValueError(f"{p.name} for optimizer {optimizer!r} must be a single "
                             f"{'true/false' if p.kind == 'bool' else 'number'}, "
                             f"got {h[p.name]!r:.40}") from None
    rate = None if lr is None else float(lr)
    if optimizer == "radam":                    # the only rule with words (in \\text{})
        return _aligned(_radam(h, rate, lang))
    return _aligned(_RULES[optimizer](h, rate))


# ---- schedules --------------------------------------------------------------------------------------

def _anneal_cos(a, b, p: str) -> str:
    """torch's cosine anneal from a to b: b + (a - b)/2 (1 + cos(pi p))."""
    wave = r"\frac{" + number_latex(abs(a - b)) + r"}{2}\left(1 + \cos\left(\pi\," + p + r"\right)\right)"
    return _sum(number_latex(b), ("-" if a < b else "") + wave)


def _anneal_linear(a, b, p: str) -> str:
    """torch's linear anneal from a to b: a + (b - a) p."""
    return _sum(number_latex(a), _coef(b - a, p))


def _phase(k0, k1) -> str:
    """(k - k0)/(k1 - k0) with the numbers written out."""
    num = "k" if k0 == 0 else f"k - {number_latex(k0)}" if k0 > 0 else f"k + {number_latex(-k0)}"
    return r"\frac{" + num + "}{" + number_latex(k1 - k0) + "}"


def _half_range(eta: str, lr, low) -> str:
    """(eta_0 - eta_min) / 2, worked out when lr is a number."""
    if lr is not None:
        return r"\frac{" + number_latex(float(lr) - low) + "}{2}"
    if low:
        return r"\frac{" + eta + " - " + number_latex(low) + "}{2}"
    return r"\frac{" + eta + "}{2}"


def _cosine(eta: str, lr, low, shift: str, span) -> str:
    """eta_min + (eta_0 - eta_min)/2 (1 + cos(pi (k - shift) / span))."""
    angle = r"\frac{\pi " + shift + "}{" + number_latex(span) + "}"
    wave = _half_range(eta, lr, low) + r"\left(1 + \cos" + angle + r"\right)"
    return _sum(number_latex(low) if low else "", wave)


def _cases(rows) -> str:
    return r"\begin{cases} " + r" \\ ".join(f"{expr} & {cond}" for expr, cond in rows) \
        + r" \end{cases}"


def schedule_latex(schedule_spec=None, steps: int = 500, lr=None, lang: str = "en") -> str:
    """The learning rate at optimizer step k (k = 0 first) for a schedule spec, as KaTeX.

    schedule_spec: None, a name or a dict, as in a scene; parameters that default to the run's
    length use `steps`. lr: the base rate eta_0 (None writes the symbol). lang: the language of
    the few words (inside \\text{}). ValueError when invalid.
    """
    s = normalize_schedule(schedule_spec, steps)
    name = s["name"]
    eta = r"\eta_0" if lr is None else number_latex(lr)
    lhs = r"\eta_k = "
    if name == "constant":
        return lhs + eta
    if name == "step":
        floor = r"\lfloor k / " + str(s["step_size"]) + r" \rfloor"
        return lhs + eta + r"\cdot " + _power(s["gamma"], floor)
    if name == "exponential":
        return lhs + eta + r"\cdot " + _power(s["gamma"], "k")
    if name == "power":
        return (lhs + eta + r"\left(1 + \frac{k}{" + number_latex(s["decay_steps"]) + r"}\right)^{-"
                + number_latex(s["power"]) + "}")
    if name == "inverse_sqrt":
        w = str(s["warmup_steps"])
        return (lhs + eta + r"\,\min\left(\frac{k + 1}{" + w + r"},\ \sqrt{\frac{" + w
                + r"}{k + 1}}\right)")
    if name == "cosine":
        return lhs + _cosine(eta, lr, s["eta_min"], "k", s["T_max"])
    if name == "linear":
        start, end, total = s["start_factor"], s["end_factor"], str(s["total_iters"])
        ramp = r"\frac{\min(k,\ " + total + ")}{" + total + "}"
        return lhs + eta + r"\left(" + _sum(number_latex(start), _coef(end - start, ramp)) + r"\right)"
    if name == "one_cycle":
        return lhs + _one_cycle_latex(s, steps, lr, lang)
    if name == "warmup_cosine":
        w, sf, low = s["warmup_steps"], s["start_factor"], s["eta_min"]
        cos = _cosine(eta, lr, low, f"(k - {w})" if w else "k", max(steps - w, 1))
        if w == 0:
            return lhs + cos
        ramp = _sum(number_latex(sf), _coef(1 - sf, r"\frac{k}{" + str(w) + "}"))
        warm = eta + r"\left(" + ramp + r"\right)"
        return lhs + _cases([(warm, f"k < {w}"), (cos, rf"k \ge {w}")])
    if name == "plateau":
        mode = _words("latex.relative" if s["threshold_mode"] == "rel" else "latex.absolute", lang)
        cooldown = (r"\text{" + _words("latex.then_wait", lang, cooldown=s["cooldown"]) + "}"
                    if s["cooldown"] else "")
        return (r"\eta \leftarrow \max\left(" + _coef(s["factor"], r"\eta") + r",\ "
                + number_latex(s["min_lr"]) + r"\right)\ \text{" + _words("latex.plateau_when", lang)
                + "}" + number_latex(s["threshold"]) + r"\text{"
                + _words("latex.for_more_than", lang, mode=mode, patience=s["patience"]) + "}"
                + cooldown + r"\quad (\eta = " + eta + r"\text{" + _words("latex.at_first", lang)
                + "})")
    raise ValueError(f"no formula for schedule {name!r}")   # pragma: no cover


def _one_cycle_latex(s, steps, lr, lang="en") -> str:
    """torch's OneCycleLR: warm up from max_lr/div_factor to max_lr, then anneal down."""
    max_lr = s["max_lr"] if s["max_lr"] is not None else lr
    if max_lr is None:
        div, final = s["div_factor"], s["div_factor"] * s["final_div_factor"]
        return (r"\frac{\eta_0}{" + number_latex(div) + r"} \nearrow \eta_0 \text{"
                + _words("latex.one_cycle", lang, pct=number_latex(100 * s["pct_start"]))
                + r"} \searrow \frac{\eta_0}{" + number_latex(final) + "}")
    anneal = _anneal_cos if s["anneal_strategy"] == "cos" else _anneal_linear
    pct = s["pct_start"]
    initial = max_lr / s["div_factor"]
    minimum = initial / s["final_div_factor"]
    if s["three_phase"]:
        ends = [pct * steps - 1, 2 * pct * steps - 2, steps - 1.0]
        phases = [(initial, max_lr), (max_lr, initial), (initial, minimum)]
    else:
        ends = [pct * steps - 1, steps - 1.0]
        phases = [(initial, max_lr), (max_lr, minimum)]
    rows, start = [], 0.0
    for i, ((a, b), end) in enumerate(zip(phases, ends)):
        cond = (r"k \le " + number_latex(end)) if i < len(phases) - 1 else \
            r"\text{" + _words("latex.otherwise", lang) + "}"
        rows.append((anneal(a, b, _phase(start, end)), cond))
        start = end
    return _cases(rows)


# ---- plain words -----------------------------------------------------------------------------------

_FAMILY = {"sgd": "plain", "momentum": "momentum", "nesterov": "momentum", "lion": "sign"}
for _name in OPTIMIZERS:
    _FAMILY.setdefault(_name, "adaptive")

# The note of each surface, per optimizer name, family or "all": the catalogs' strings
# "explain.<surface>.<name|family|all>" (optiviz/catalogs); the most specific key wins.

def _note_key(optimizer: str, surface_name) -> str | None:
    if not isinstance(surface_name, str):
        return None
    for which in (optimizer, _FAMILY[optimizer], "all"):
        key = f"explain.{surface_name}.{which}"
        if i18n.has(key):
            return key
    return None


def describe(optimizer: str, surface_name: str | None = None, lang: str = "en") -> str:
    """The optimizer in plain words, plus what to watch for on this surface (when there's a note),
    in `lang` ("en" or "ko")."""
    spec = _spec(optimizer)
    summary = spec.summary if i18n.normalize(lang) == "en" else \
        i18n.t(f"optimizer.{optimizer}.summary", lang)
    key = _note_key(optimizer, surface_name)
    return summary if key is None else f"{summary} {i18n.t(key, lang)}"
