"""Update rules and schedules as LaTeX with the numbers in place, and the plain-words notes."""

from __future__ import annotations

import re

import pytest

import landscapes
from optim_core import OPTIMIZERS, SCHEDULE_PARAMS, SCHEDULES
from optiviz.explain import describe, number_latex, rule_latex, schedule_latex
from optiviz.scene import DEMO_LR

# Every command the output may use; all are in KaTeX's supported set.
KATEX_COMMANDS = {
    "begin", "end", "frac", "tfrac", "sqrt", "hat", "bar", "max", "min", "operatorname", "text",
    "quad", "cdot", "times", "leftarrow", "theta", "eta", "mu", "tau", "rho", "gamma", "Delta",
    "infty", "prod", "bigl", "bigr", "left", "right", "cos", "pi", "lfloor", "rfloor", "ge", "le",
    "nearrow", "searrow",
}
ENVIRONMENTS = {"aligned", "cases"}


def check_latex(tex: str) -> None:
    """A KaTeX-free sanity check: balanced groups, known commands, no empty fractions, no Python."""
    assert isinstance(tex, str) and tex.strip()
    depth = 0
    for i, ch in enumerate(tex):
        if ch in "{}" and i and tex[i - 1] == "\\":
            continue                                  # \{ and \} are literal braces
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0, f"unbalanced '}}' at {i}: {tex}"
    assert depth == 0, f"unclosed '{{': {tex}"
    commands = set(re.findall(r"\\([A-Za-z]+)", tex))
    assert commands <= KATEX_COMMANDS, commands - KATEX_COMMANDS
    envs = re.findall(r"\\(begin|end)\{([a-z]+)\}", tex)
    stack = []
    for kind, name in envs:
        assert name in ENVIRONMENTS
        if kind == "begin":
            stack.append(name)
        else:
            assert stack and stack.pop() == name
    assert not stack
    assert len(re.findall(r"\\left(?![a-z])", tex)) == len(re.findall(r"\\right(?![a-z])", tex))
    assert tex.count(r"\bigl") == tex.count(r"\bigr")
    for m in re.finditer(r"\\t?frac", tex):                  # \frac{a}{b} with a, b non-empty
        rest = tex[m.end():]
        for _ in range(2):
            assert rest.startswith("{") and not rest.startswith("{}"), tex
            level, j = 0, 0
            for j, ch in enumerate(rest):
                level += {"{": 1, "}": -1}.get(ch, 0)
                if level == 0:
                    break
            rest = rest[j + 1:]
    assert not re.search(r"\\sqrt\{\}", tex)
    assert not re.search(r"\d[eE][-+]?\d", tex), f"Python float notation: {tex}"
    assert not re.search(r"nan|None|True|False|\binf\b", tex)
    assert "+ -" not in tex and "- -" not in tex and "+ +" not in tex


# ---- numbers ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, text", [
    (0.05, "0.05"), (1e-8, "10^{-8}"), (3e-4, r"3\times10^{-4}"), (1.5e-10, r"1.5\times10^{-10}"),
    (0.999, "0.999"), (1 - 0.9, "0.1"), (1 - 0.999, "0.001"), (1999.0000000000002, "1999"),
    (0, "0"), (0.0, "0"), (-0.5, "-0.5"), (1.0, "1"), (100, "100"), (2.5e6, r"2.5\times10^{6}"),
    (9.99999999e-5, "10^{-4}"), (0.99999, "0.99999"), (True, "1"),
])
def test_number_latex(value, text):
    assert number_latex(value) == text


# ---- update rules ------------------------------------------------------------------------------------

def _odd_values(spec):
    """A non-default value for every hyperparameter (0.37 where allowed, so it is easy to spot)."""
    out = {}
    for p in spec.hyper:
        if p.kind == "bool":
            out[p.name] = not p.default
        elif p.name == "eps":
            out[p.name] = 3e-4
        else:
            out[p.name] = 0.37
    return out


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_renders(name):
    spec = OPTIMIZERS[name]
    for hyper, lr in [({}, spec.lr), ({}, DEMO_LR[name]), ({}, None), (_odd_values(spec), 0.0123),
                      ({p.name: 0 for p in spec.hyper if p.kind != "bool" and p.name != "eps"}, 1.0)]:
        tex = rule_latex(name, hyper, lr)
        check_latex(tex)
        assert tex.startswith(r"\begin{aligned}") and r"\theta_{t+1}" in tex
        assert (r"\eta_t" in tex) == (lr is None)
        if lr not in (None, 1.0):
            assert number_latex(lr) in tex


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_substituted_values_appear(name):
    spec = OPTIMIZERS[name]
    values = _odd_values(spec)
    tex = rule_latex(name, values, 0.0123)
    for p in spec.hyper:
        if p.kind == "bool":
            continue
        shown = {number_latex(values[p.name]), number_latex(1 - values[p.name])}
        assert any(s in tex for s in shown), (p.name, tex)
    defaults = rule_latex(name, {}, 0.0123)
    assert tex != defaults


def test_beta1_substitution():
    tex = rule_latex("adam", {"beta1": 0.5}, 0.05)
    assert r"m_t &= 0.5\,m_{t-1} + 0.5\,g_t" in tex and r"1 - 0.5^{t}" in tex


def test_adam_matches_the_documented_form():
    tex = rule_latex("adam", {}, 0.05)
    assert r"m_t &= 0.9\,m_{t-1} + 0.1\,g_t" in tex
    assert r"v_t &= 0.999\,v_{t-1} + 0.001\,g_t^2" in tex
    assert r"\hat m_t = \frac{m_t}{1 - 0.9^{t}}" in tex
    assert r"\hat v_t = \frac{v_t}{1 - 0.999^{t}}" in tex
    assert r"\theta_{t+1} &= \theta_t - 0.05\,\frac{\hat m_t}{\sqrt{\hat v_t} + 10^{-8}}" in tex
    assert r"\leftarrow" not in tex                         # no weight decay line at λ = 0


@pytest.mark.parametrize("name, eps", [("adam", "10^{-8}"), ("rmsprop", "10^{-8}"),
                                       ("adagrad", "10^{-10}"), ("amsgrad", "10^{-8}"),
                                       ("nadam", "10^{-8}"), ("radam", "10^{-8}")])
def test_eps_outside_the_root(name, eps):
    tex = rule_latex(name, {}, 0.01)
    assert re.search(r"\\sqrt\{[^{}]*(\{[^{}]*\}[^{}]*)*\} \+ " + re.escape(eps), tex), tex
    assert not re.search(r"\\sqrt\{[^}]*" + re.escape(eps), tex)          # never inside a root


def test_eps_inside_the_root_for_adadelta_and_the_max_for_adamax():
    tex = rule_latex("adadelta", {}, 1.0)
    assert r"\sqrt{u_{t-1} + 10^{-6}}" in tex and r"\sqrt{v_t + 10^{-6}}" in tex
    assert r"\theta_{t+1} &= \theta_t - \Delta_t" in tex            # lr = 1 is not written
    assert r"\max(0.999\,u_{t-1},\ |g_t| + 10^{-8})" in rule_latex("adamax", {}, 0.002)


def test_sgd_family():
    assert rule_latex("sgd", {}, 0.1) == r"\begin{aligned}\theta_{t+1} &= \theta_t - 0.1\,g_t\end{aligned}"
    tex = rule_latex("momentum", {"dampening": 0.25}, 0.01)
    assert r"b_t &= 0.9\,b_{t-1} + 0.75\,g_t \quad (b_1 = g_1)" in tex
    assert r"0.01\,b_t" in tex
    tex = rule_latex("nesterov", {"momentum": 0.8}, 0.01)
    assert r"0.01\,(g_t + 0.8\,b_t)" in tex and "(b_1 = g_1)" in tex
    # torch keeps no buffer at μ = 0: plain SGD, dampening unused
    assert rule_latex("momentum", {"momentum": 0.0, "dampening": 0.5}, 0.1) == rule_latex("sgd", {}, 0.1)


def test_rmsprop_variants():
    plain = rule_latex("rmsprop", {}, 0.01)
    assert r"v_t &= 0.99\,v_{t-1} + 0.01\,g_t^2" in plain
    assert "a_t &=" not in plain and "b_t &=" not in plain
    centered = rule_latex("rmsprop", {"centered": True}, 0.01)
    assert r"a_t &= 0.99\,a_{t-1} + 0.01\,g_t" in centered and r"\sqrt{v_t - a_t^2} + 10^{-8}" in centered
    both = rule_latex("rmsprop", {"centered": True, "momentum": 0.9}, 0.01)
    assert r"b_t &= 0.9\,b_{t-1} + \frac{g_t}{\sqrt{v_t - a_t^2} + 10^{-8}}" in both
    assert r"\theta_{t+1} &= \theta_t - 0.01\,b_t" in both


def test_adagrad_lr_decay_only_when_set():
    assert r"\gamma_t" not in rule_latex("adagrad", {}, 0.1)
    tex = rule_latex("adagrad", {"lr_decay": 0.01, "initial_accumulator_value": 0.1}, 0.1)
    assert r"\gamma_t &= \frac{0.1}{1 + 0.01\,(t-1)}" in tex and "(s_0 = 0.1)" in tex


def test_weight_decay_terms():
    for name in OPTIMIZERS:
        if name in ("adamw", "lion"):
            continue
        assert r"g_t &\leftarrow g_t + 0.01\,\theta_t" in rule_latex(name, {"weight_decay": 0.01}, 0.1)
        assert r"\leftarrow" not in rule_latex(name, {"weight_decay": 0.0}, 0.1)
    adamw = rule_latex("adamw", {}, 0.05)              # torch's default λ = 0.01, decoupled
    assert r"(1 - 0.05\cdot 0.01)\,\theta_t" in adamw and r"\leftarrow" not in adamw
    assert r"\cdot" not in rule_latex("adamw", {"weight_decay": 0}, 0.05)
    lion = rule_latex("lion", {"weight_decay": 0.1}, 0.01)
    assert r"0.01\,(\operatorname{sign}(c_t) + 0.1\,\theta_t)" in lion
    assert r"c_t &= 0.9\,m_{t-1} + 0.1\,g_t" in lion and r"m_t &= 0.99\,m_{t-1} + 0.01\,g_t" in lion


def test_radam_and_nadam_specifics():
    tex = rule_latex("radam", {}, 0.01)
    assert r"\rho_\infty = 1999" in tex and r"\rho_t > 5" in tex and r"\text{otherwise}" in tex
    tex = rule_latex("nadam", {"momentum_decay": 0.004}, 0.002)
    assert r"0.96^{0.004\,t}" in tex and r"\prod_{i=1}^{t+1}" in tex
    assert r"\mu_t &= 0.45" in rule_latex("nadam", {"momentum_decay": 0}, 0.002)   # ψ = 0: β1/2


def test_bad_names():
    with pytest.raises(ValueError, match="unknown optimizer"):
        rule_latex("adamz", {}, 0.1)
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        rule_latex("adam", {"momentum": 0.9}, 0.1)
    with pytest.raises(ValueError, match="single number"):
        rule_latex("adam", {"beta1": [0.5, 0.6]}, 0.1)


# ---- schedules ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SCHEDULES)
def test_every_schedule_renders(name):
    for spec in (name, {"name": name}):
        for lr in (0.05, None):
            tex = schedule_latex(spec, 500, lr)
            check_latex(tex)
            if lr is not None:
                assert "0.05" in tex or name == "one_cycle"
    check_latex(schedule_latex(None, 100, 0.1))


def test_schedule_values_appear():
    assert schedule_latex(None, 100, 0.1) == r"\eta_k = 0.1"
    assert schedule_latex({"name": "step", "step_size": 30, "gamma": 0.1}, 100, 0.1) == \
        r"\eta_k = 0.1\cdot 0.1^{\lfloor k / 30 \rfloor}"
    tex = schedule_latex({"name": "cosine", "T_max": 30, "eta_min": 1e-3}, 100, 0.1)
    assert tex == r"\eta_k = 0.001 + \frac{0.099}{2}\left(1 + \cos\frac{\pi k}{30}\right)"
    assert r"\frac{\pi k}{500}" in schedule_latex("cosine", 500, None)      # T_max defaults to steps
    tex = schedule_latex({"name": "one_cycle", "anneal_strategy": "linear"}, 100, 0.1)
    assert r"0.004 + 0.096\,\frac{k}{29}" in tex and r"k \le 29" in tex    # 0.1/25 -> 0.1 by k = 29
    tex = schedule_latex({"name": "warmup_cosine", "warmup_steps": 10}, 100, 0.1)
    assert r"k < 10" in tex and r"\frac{\pi (k - 10)}{90}" in tex
    assert "patience" not in schedule_latex("plateau", 100, 0.1)
    assert "10 steps" in schedule_latex("plateau", 100, 0.1)


def test_bad_schedules():
    with pytest.raises(ValueError):
        schedule_latex("bogus", 100, 0.1)
    with pytest.raises(ValueError):
        schedule_latex({"name": "step", "gamma": 7}, 100, 0.1)


def test_schedule_params_cover_every_schedule():
    assert set(SCHEDULE_PARAMS) == set(SCHEDULES)


# ---- plain words ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("surface", landscapes.names())
def test_describe_every_pair(surface):
    for name, spec in OPTIMIZERS.items():
        text = describe(name, surface)
        assert text.startswith(spec.summary)
        assert "Here:" in text and len(text) > len(spec.summary) + 20
        assert text.count("Here:") == 1


def test_describe_notes_say_the_right_thing():
    assert "y = 0" in describe("sgd", "saddle")
    assert "overshoot" in describe("momentum", "rosenbrock")
    assert "zig-zag" in describe("sgd", "elongated_quadratic")
    assert "rotate" in describe("adam", "elongated_quadratic")
    assert "start" in describe("sgd", "himmelblau") and "step size" in describe("sgd", "himmelblau")
    assert "dimple" in describe("adam", "rastrigin") and "dimple" in describe("sgd", "ackley")
    assert describe("adam", None) == OPTIMIZERS["adam"].summary
    assert describe("adam", "unknown_surface") == OPTIMIZERS["adam"].summary
    with pytest.raises(ValueError):
        describe("adamz", "rosenbrock")
