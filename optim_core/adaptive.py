"""Per-coordinate step sizes from squared-gradient statistics: AdaGrad, RMSProp, AdaDelta."""

from __future__ import annotations

import numpy as np

from ._ops import Slot, add, add_l2, const, divide, lerp_fn, multiply, skips, sqrt, subtract

ADAGRAD_RULE = (r"s_t = s_{t-1} + g_t^2,\quad "
                r"\theta_{t+1} = \theta_t - \frac{\eta}{1 + (t-1)\,\delta}\,"
                r"\frac{g_t}{\sqrt{s_t} + \epsilon}")
RMSPROP_RULE = (r"v_t = \rho\, v_{t-1} + (1-\rho)\, g_t^2,\quad "
                r"\theta_{t+1} = \theta_t - \eta\, \frac{g_t}{\sqrt{v_t} + \epsilon}")
ADADELTA_RULE = (r"v_t = \rho v_{t-1} + (1-\rho) g_t^2,\; "
                 r"\Delta_t = \frac{\sqrt{u_{t-1}+\epsilon}}{\sqrt{v_t+\epsilon}}\, g_t,\; "
                 r"u_t = \rho u_{t-1} + (1-\rho)\Delta_t^2,\; \theta_{t+1} = \theta_t - \eta\,\Delta_t")


def make_adagrad(hp, shape):
    """torch.optim.Adagrad: the accumulator only grows, so the step shrinks like 1/sqrt(t)."""
    wd, eps, lr_decay = const(hp["weight_decay"]), const(hp["eps"]), hp["lr_decay"]
    decay = not skips(hp, "weight_decay")
    state_sum = np.full(shape, 0.0) + hp["initial_accumulator_value"]
    tmp, std = np.empty(shape), np.empty(shape)
    neg_clr = Slot()
    t = 0

    def step(theta, g, lr):
        nonlocal t
        t += 1
        if decay:
            add_l2(theta, g, wd, tmp)
        clr = lr / (1 + (t - 1) * lr_decay)
        multiply(g, g, tmp)
        add(state_sum, tmp, state_sum)
        sqrt(state_sum, std)
        add(std, eps, std)
        multiply(g, neg_clr(-clr), tmp)
        divide(tmp, std, tmp)
        add(theta, tmp, theta)

    def resume(steps_taken):   # batch compaction: a rebuilt rule continues the count
        nonlocal t
        t = steps_taken
    step.resume = resume
    step.state = {"sum": state_sum}
    return step


def make_rmsprop(hp, shape):
    """torch.optim.RMSprop (alpha is called rho here); no bias correction, so step 1 is 10x lr."""
    wd, eps, rho, mu = const(hp["weight_decay"]), const(hp["eps"]), const(hp["rho"]), hp["momentum"]
    centered = hp["centered"]
    decay = not skips(hp, "weight_decay")
    use_momentum = not skips(hp, "momentum")
    mu = const(mu)
    one_minus_rho = const(1 - hp["rho"])
    square_avg = np.zeros(shape)
    grad_avg = np.zeros(shape)
    buf = np.zeros(shape)
    tmp, avg = np.empty(shape), np.empty(shape)
    lerp_ = lerp_fn(1 - hp["rho"])
    neg_lr = Slot()

    def step(theta, g, lr):
        if decay:
            add_l2(theta, g, wd, tmp)
        multiply(square_avg, rho, square_avg)
        multiply(g, one_minus_rho, tmp)
        multiply(tmp, g, tmp)
        add(square_avg, tmp, square_avg)
        if centered:
            lerp_(grad_avg, g, tmp)
            multiply(grad_avg, grad_avg, tmp)
            subtract(square_avg, tmp, avg)
            sqrt(avg, avg)
        else:
            sqrt(square_avg, avg)
        add(avg, eps, avg)
        if use_momentum:
            multiply(buf, mu, buf)
            divide(g, avg, tmp)
            add(buf, tmp, buf)
            multiply(buf, neg_lr(-lr), tmp)
        else:
            multiply(g, neg_lr(-lr), tmp)
            divide(tmp, avg, tmp)
        add(theta, tmp, theta)
    # torch's keys: momentum_buffer only when momentum > 0, grad_avg only when centered.
    step.state = {"square_avg": square_avg}
    if use_momentum:
        step.state["momentum_buffer"] = buf
    if centered:
        step.state["grad_avg"] = grad_avg
    return step


def make_adadelta(hp, shape):
    """torch.optim.Adadelta: the step's units come from a running average of past steps."""
    wd, eps, rho = const(hp["weight_decay"]), const(hp["eps"]), const(hp["rho"])
    decay = not skips(hp, "weight_decay")
    one_minus_rho = const(1 - hp["rho"])
    square_avg, acc_delta = np.zeros(shape), np.zeros(shape)
    tmp, std, delta = np.empty(shape), np.empty(shape), np.empty(shape)
    neg_lr = Slot()

    def step(theta, g, lr):
        if decay:
            add_l2(theta, g, wd, tmp)
        multiply(square_avg, rho, square_avg)
        multiply(g, one_minus_rho, tmp)
        multiply(tmp, g, tmp)
        add(square_avg, tmp, square_avg)
        add(square_avg, eps, std)
        sqrt(std, std)
        add(acc_delta, eps, delta)
        sqrt(delta, delta)
        divide(delta, std, delta)
        multiply(delta, g, delta)
        multiply(acc_delta, rho, acc_delta)
        multiply(delta, one_minus_rho, tmp)
        multiply(tmp, delta, tmp)
        add(acc_delta, tmp, acc_delta)
        multiply(delta, neg_lr(-lr), tmp)
        add(theta, tmp, theta)
    step.state = {"square_avg": square_avg, "acc_delta": acc_delta}
    return step
