"""Lion (Chen et al. 2023, Algorithm 2): every coordinate moves by exactly lr, only the sign varies."""

from __future__ import annotations

import numpy as np

from ._ops import is_zero

LION_RULE = (r"c_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\; "
             r"\theta_{t+1} = \theta_t - \eta\,(\operatorname{sign}(c_t) + \lambda\theta_t),\; "
             r"m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t")


def make_lion(hp, shape):
    beta1, beta2, wd = hp["beta1"], hp["beta2"], hp["weight_decay"]
    decay = not is_zero(wd)
    keep1, keep2 = 1 - beta1, 1 - beta2
    exp_avg = np.zeros(shape)
    tmp, update = np.empty(shape), np.empty(shape)

    def step(theta, g, lr):
        # reference code: update = sign(m*beta1 + g*(1-beta1)); p *= 1 - lr*wd; p -= lr*update
        nonlocal exp_avg, update
        np.multiply(exp_avg, beta1, out=update)
        np.multiply(g, keep1, out=tmp)
        update += tmp
        np.sign(update, out=update)
        if decay:
            theta *= 1 - lr * wd
        update *= -lr
        theta += update
        exp_avg *= beta2
        np.multiply(g, keep2, out=tmp)
        exp_avg += tmp
    return step
