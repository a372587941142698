"""Lion (Chen et al. 2023, Algorithm 2): every coordinate moves by exactly lr, only the sign varies."""

from __future__ import annotations

import numpy as np

from ._ops import Slot, add, const, multiply, skips

LION_RULE = (r"c_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\; "
             r"\theta_{t+1} = \theta_t - \eta\,(\operatorname{sign}(c_t) + \lambda\theta_t),\; "
             r"m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t")


def make_lion(hp, shape):
    beta1, beta2, wd = const(hp["beta1"]), const(hp["beta2"]), hp["weight_decay"]
    decay = not skips(hp, "weight_decay")
    keep1, keep2 = const(1 - hp["beta1"]), const(1 - hp["beta2"])
    exp_avg = np.zeros(shape)
    tmp, update = np.empty(shape), np.empty(shape)
    shrink, neg_lr = Slot(), Slot()

    def step(theta, g, lr):
        # reference code: update = sign(m*beta1 + g*(1-beta1)); p *= 1 - lr*wd; p -= lr*update
        multiply(exp_avg, beta1, update)
        multiply(g, keep1, tmp)
        add(update, tmp, update)
        np.sign(update, update)
        if decay:
            multiply(theta, shrink(1 - lr * wd), theta)
        multiply(update, neg_lr(-lr), update)
        add(theta, update, theta)
        multiply(exp_avg, beta2, exp_avg)
        multiply(g, keep2, tmp)
        add(exp_avg, tmp, exp_avg)
    step.state = {"exp_avg": exp_avg}
    return step
