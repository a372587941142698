"""Plain gradient descent, heavy-ball momentum and Nesterov momentum (torch.optim.SGD)."""

from __future__ import annotations

import numpy as np

from ._ops import is_zero

SGD_RULE = r"\theta_{t+1} = \theta_t - \eta\, g_t"
MOMENTUM_RULE = (r"b_t = \mu\, b_{t-1} + (1-\tau)\, g_t \;(b_1 = g_1),\quad "
                 r"\theta_{t+1} = \theta_t - \eta\, b_t")
NESTEROV_RULE = (r"b_t = \mu\, b_{t-1} + g_t \;(b_1 = g_1),\quad "
                 r"\theta_{t+1} = \theta_t - \eta\,(g_t + \mu\, b_t)")


def make_sgd(hp, shape, *, nesterov=False):
    """step(theta, g, lr) for torch's SGD; without a momentum hyperparameter it is plain GD."""
    wd = hp["weight_decay"]
    mu = hp.get("momentum", 0.0)
    tau = hp.get("dampening", 0.0)
    decay = not is_zero(wd)
    tmp = np.empty(shape)
    if is_zero(mu) and not nesterov:
        def step(theta, g, lr):
            if decay:
                np.multiply(theta, wd, out=tmp)
                g += tmp
            np.multiply(g, -lr, out=tmp)
            theta += tmp
        return step

    buf = np.zeros(shape)
    keep = 1.0 - tau
    plain_add = is_zero(tau)
    t = 0

    def step(theta, g, lr):
        nonlocal buf, t, tmp
        t += 1
        if decay:
            np.multiply(theta, wd, out=tmp)
            g += tmp
        if t == 1:
            # torch starts the buffer at the first (decayed) gradient, without dampening.
            buf[...] = g
        else:
            buf *= mu
            if plain_add:
                buf += g
            else:
                np.multiply(g, keep, out=tmp)
                buf += tmp
        if nesterov:
            np.multiply(buf, mu, out=tmp)
            tmp += g
            tmp *= -lr
        else:
            np.multiply(buf, -lr, out=tmp)
        theta += tmp
    return step


def make_momentum(hp, shape):
    return make_sgd(hp, shape)


def make_nesterov(hp, shape):
    return make_sgd(hp, shape, nesterov=True)
