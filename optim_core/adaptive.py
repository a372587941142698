"""Per-coordinate step sizes from squared-gradient statistics: AdaGrad, RMSProp, AdaDelta."""

from __future__ import annotations

import numpy as np

from ._ops import is_zero, lerp_fn

ADAGRAD_RULE = (r"s_t = s_{t-1} + g_t^2,\quad "
                r"\theta_{t+1} = \theta_t - \frac{\eta}{1 + (t-1)\,\delta}\,"
                r"\frac{g_t}{\sqrt{s_t} + \epsilon}")
RMSPROP_RULE = (r"v_t = \rho\, v_{t-1} + (1-\rho)\, g_t^2,\quad "
                r"\theta_{t+1} = \theta_t - \eta\, \frac{g_t}{\sqrt{v_t} + \epsilon}")
ADADELTA_RULE = (r"v_t = \rho v_{t-1} + (1-\rho) g_t^2,\; "
                 r"\Delta_t = \frac{\sqrt{u_{t-1}+\epsilon}}{\sqrt{v_t+\epsilon}}\, g_t,\; "
                 r"u_t = \rho u_{t-1} + (1-\rho)\Delta_t^2,\; \theta_{t+1} = \theta_t - \eta\,\Delta_t")


def _l2(theta, g, wd, tmp):
    np.multiply(theta, wd, out=tmp)
    g += tmp


def make_adagrad(hp, shape):
    """torch.optim.Adagrad: the accumulator only grows, so the step shrinks like 1/sqrt(t)."""
    wd, eps, lr_decay = hp["weight_decay"], hp["eps"], hp["lr_decay"]
    decay = not is_zero(wd)
    state_sum = np.full(shape, 0.0) + hp["initial_accumulator_value"]
    tmp, std = np.empty(shape), np.empty(shape)
    t = 0

    def step(theta, g, lr):
        nonlocal state_sum, std, t, tmp
        t += 1
        if decay:
            _l2(theta, g, wd, tmp)
        clr = lr / (1 + (t - 1) * lr_decay)
        np.multiply(g, g, out=tmp)
        state_sum += tmp
        np.sqrt(state_sum, out=std)
        std += eps
        np.multiply(g, -clr, out=tmp)
        tmp /= std
        theta += tmp
    return step


def make_rmsprop(hp, shape):
    """torch.optim.RMSprop (alpha is called rho here); no bias correction, so step 1 is 10x lr."""
    wd, eps, rho, mu = hp["weight_decay"], hp["eps"], hp["rho"], hp["momentum"]
    centered = hp["centered"]
    decay = not is_zero(wd)
    use_momentum = not is_zero(mu)
    one_minus_rho = 1 - rho
    square_avg = np.zeros(shape)
    grad_avg = np.zeros(shape)
    buf = np.zeros(shape)
    tmp, avg = np.empty(shape), np.empty(shape)
    lerp_ = lerp_fn(1 - rho)

    def step(theta, g, lr):
        nonlocal avg, buf, square_avg, tmp
        if decay:
            _l2(theta, g, wd, tmp)
        square_avg *= rho
        np.multiply(g, one_minus_rho, out=tmp)
        tmp *= g
        square_avg += tmp
        if centered:
            lerp_(grad_avg, g, tmp)
            np.multiply(grad_avg, grad_avg, out=tmp)
            np.subtract(square_avg, tmp, out=avg)
            np.sqrt(avg, out=avg)
        else:
            np.sqrt(square_avg, out=avg)
        avg += eps
        if use_momentum:
            buf *= mu
            np.divide(g, avg, out=tmp)
            buf += tmp
            np.multiply(buf, -lr, out=tmp)
        else:
            np.multiply(g, -lr, out=tmp)
            tmp /= avg
        theta += tmp
    return step


def make_adadelta(hp, shape):
    """torch.optim.Adadelta: the step's units come from a running average of past steps."""
    wd, eps, rho = hp["weight_decay"], hp["eps"], hp["rho"]
    decay = not is_zero(wd)
    one_minus_rho = 1 - rho
    square_avg, acc_delta = np.zeros(shape), np.zeros(shape)
    tmp, std, delta = np.empty(shape), np.empty(shape), np.empty(shape)

    def step(theta, g, lr):
        nonlocal acc_delta, delta, square_avg, tmp
        if decay:
            _l2(theta, g, wd, tmp)
        square_avg *= rho
        np.multiply(g, one_minus_rho, out=tmp)
        tmp *= g
        square_avg += tmp
        np.add(square_avg, eps, out=std)
        np.sqrt(std, out=std)
        np.add(acc_delta, eps, out=delta)
        np.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        acc_delta *= rho
        np.multiply(delta, one_minus_rho, out=tmp)
        tmp *= delta
        acc_delta += tmp
        np.multiply(delta, -lr, out=tmp)
        theta += tmp
    return step
