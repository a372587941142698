"""Plain gradient descent, heavy-ball momentum and Nesterov momentum (torch.optim.SGD)."""

from __future__ import annotations

import numpy as np

from ._ops import Slot, add, add_l2, const, multiply, skips

SGD_RULE = r"\theta_{t+1} = \theta_t - \eta\, g_t"
MOMENTUM_RULE = (r"b_t = \mu\, b_{t-1} + (1-\tau)\, g_t \;(b_1 = g_1),\quad "
                 r"\theta_{t+1} = \theta_t - \eta\, b_t")
NESTEROV_RULE = (r"b_t = \mu\, b_{t-1} + g_t \;(b_1 = g_1),\quad "
                 r"\theta_{t+1} = \theta_t - \eta\,(g_t + \mu\, b_t)")


def make_sgd(hp, shape, *, nesterov=False):
    """step(theta, g, lr) for torch's SGD; without a momentum hyperparameter it is plain GD.

    step.state is torch's optimizer.state[p] for it: {} for plain GD (torch keeps no buffer at
    momentum 0), else {"momentum_buffer": the live (2, N) buffer} (zeros until step 1 copies g).
    """
    wd = const(hp["weight_decay"])
    decay = not skips(hp, "weight_decay")
    mu = hp.get("momentum", 0.0)
    tmp = np.empty(shape)
    neg_lr = Slot()
    if skips(hp, "momentum") and not nesterov:
        def step(theta, g, lr):
            if decay:
                add_l2(theta, g, wd, tmp)
            multiply(g, neg_lr(-lr), tmp)
            add(theta, tmp, theta)
        step.state = {}
        return step

    mu = const(mu)
    tau = hp.get("dampening", 0.0)
    keep = const(1.0 - tau)
    plain_add = skips(hp, "dampening")
    buf = np.zeros(shape)
    t = 0

    def step(theta, g, lr):
        nonlocal t
        t += 1
        if decay:
            add_l2(theta, g, wd, tmp)
        if t == 1:
            # torch starts the buffer at the first (decayed) gradient, without dampening.
            buf[...] = g
        else:
            multiply(buf, mu, buf)
            if plain_add:
                add(buf, g, buf)
            else:
                multiply(g, keep, tmp)
                add(buf, tmp, buf)
        if nesterov:
            multiply(buf, mu, tmp)
            add(tmp, g, tmp)
            multiply(tmp, neg_lr(-lr), tmp)
        else:
            multiply(buf, neg_lr(-lr), tmp)
        add(theta, tmp, theta)

    def resume(steps_taken):   # batch compaction: a rebuilt rule continues the count
        nonlocal t
        t = steps_taken
    step.resume = resume
    step.state = {"momentum_buffer": buf}
    return step


def make_momentum(hp, shape):
    return make_sgd(hp, shape)


def make_nesterov(hp, shape):
    return make_sgd(hp, shape, nesterov=True)
