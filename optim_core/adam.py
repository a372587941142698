"""The Adam family: momentum on the gradient, per-coordinate scaling by its second moment."""

from __future__ import annotations

import numpy as np

from ._ops import (Slot, absolute, add, add_l2, const, divide, lerp_fn, maximum, multiply,
                   skips, sqrt, subtract)

ADAM_RULE = (r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\; v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\; "
             r"\theta_{t+1} = \theta_t - \eta\,\frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}")
ADAMW_RULE = (r"\theta \leftarrow \theta(1 - \eta\lambda),\; "
              r"\theta_{t+1} = \theta - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}"
              r"\;\text{(Adam moments, decay kept out of them)}")
AMSGRAD_RULE = (r"\bar v_t = \max(\bar v_{t-1}, v_t),\; "
                r"\theta_{t+1} = \theta_t - \eta\,\frac{\hat m_t}{\sqrt{\bar v_t/(1-\beta_2^t)} + \epsilon}")
ADAMAX_RULE = (r"u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon),\; "
               r"\theta_{t+1} = \theta_t - \frac{\eta}{1-\beta_1^t}\,\frac{m_t}{u_t}")
NADAM_RULE = (r"\mu_t = \beta_1\bigl(1 - \tfrac12 0.96^{t\psi}\bigr),\; "
              r"\theta_{t+1} = \theta_t - \eta\Bigl[\frac{(1-\mu_t)\, g_t}{1-\prod_{i\le t}\mu_i} + "
              r"\frac{\mu_{t+1}\, m_t}{1-\prod_{i\le t+1}\mu_i}\Bigr] \Big/ \bigl(\sqrt{\hat v_t} + \epsilon\bigr)")
RADAM_RULE = (r"\rho_t = \rho_\infty - \frac{2t\beta_2^t}{1-\beta_2^t};\; \rho_t > 5:\; "
              r"\theta_{t+1} = \theta_t - \eta\, \hat m_t\, r_t \frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t}+\epsilon}"
              r",\; \text{else } \theta_{t+1} = \theta_t - \eta\,\hat m_t")


class _Moments:
    """The two exponential moving averages every member of the family keeps (torch's names).

    beta1/beta2 stay plain numbers (or (1, N) arrays) for the per-step bias corrections;
    the *_c attributes are the same values as ufunc operands.
    """

    def __init__(self, hp, shape):
        self.beta1, self.beta2 = hp["beta1"], hp["beta2"]
        self.beta2_c = const(self.beta2)
        self.one_minus_beta2 = const(1 - self.beta2)
        self.exp_avg = np.zeros(shape)
        self.exp_avg_sq = np.zeros(shape)
        self.tmp = np.empty(shape)
        self.denom = np.empty(shape)
        self.lerp_ = lerp_fn(1 - self.beta1)

    def update(self, g):
        self.lerp_(self.exp_avg, g, self.tmp)
        v, tmp = self.exp_avg_sq, self.tmp
        multiply(v, self.beta2_c, v)
        multiply(g, self.one_minus_beta2, tmp)
        multiply(tmp, g, tmp)
        add(v, tmp, v)


def _weight_decay(hp, decoupled):
    """Return decay_(theta, g, lr, tmp), or None when weight_decay is 0 everywhere."""
    wd = hp["weight_decay"]
    if skips(hp, "weight_decay"):
        return None
    if decoupled:
        shrink = Slot()

        def decay_(theta, g, lr, tmp):
            multiply(theta, shrink(1 - lr * wd), theta)
        return decay_
    wd_c = const(wd)

    def decay_(theta, g, lr, tmp):
        add_l2(theta, g, wd_c, tmp)
    return decay_


def make_adam(hp, shape, *, decoupled=False, amsgrad=False):
    """torch.optim.Adam / AdamW (decoupled) / Adam(amsgrad=True)."""
    mo = _Moments(hp, shape)
    eps, beta1, beta2 = const(hp["eps"]), mo.beta1, mo.beta2
    decay_ = _weight_decay(hp, decoupled)
    max_exp_avg_sq = np.zeros(shape) if amsgrad else None
    exp_avg, tmp, denom = mo.exp_avg, mo.tmp, mo.denom
    correction2, neg_step = Slot(), Slot()
    t = 0

    def step(theta, g, lr):
        nonlocal t
        t += 1
        if decay_ is not None:
            decay_(theta, g, lr, tmp)
        mo.update(g)
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2 ** 0.5
        if amsgrad:
            maximum(max_exp_avg_sq, mo.exp_avg_sq, out=max_exp_avg_sq)
            sqrt(max_exp_avg_sq, denom)
        else:
            sqrt(mo.exp_avg_sq, denom)
        divide(denom, correction2(bias_correction2_sqrt), denom)
        add(denom, eps, denom)
        multiply(exp_avg, neg_step(-step_size), tmp)
        divide(tmp, denom, tmp)
        add(theta, tmp, theta)

    def resume(steps_taken):   # batch compaction: a rebuilt rule continues the count
        nonlocal t
        t = steps_taken
    step.resume = resume
    step.state = {"exp_avg": exp_avg, "exp_avg_sq": mo.exp_avg_sq}
    if amsgrad:
        step.state["max_exp_avg_sq"] = max_exp_avg_sq
    return step


def make_adamw(hp, shape):
    return make_adam(hp, shape, decoupled=True)


def make_amsgrad(hp, shape):
    return make_adam(hp, shape, amsgrad=True)


def make_adamax(hp, shape):
    """torch.optim.Adamax: the second moment is replaced by a decaying max of |g|."""
    mo = _Moments(hp, shape)
    eps, beta1 = const(hp["eps"]), mo.beta1
    decay_ = _weight_decay(hp, False)
    exp_avg, tmp = mo.exp_avg, mo.tmp
    exp_inf = np.zeros(shape)
    neg_clr = Slot()
    t = 0

    def step(theta, g, lr):
        nonlocal t
        t += 1
        if decay_ is not None:
            decay_(theta, g, lr, tmp)
        mo.lerp_(exp_avg, g, tmp)
        multiply(exp_inf, mo.beta2_c, exp_inf)
        absolute(g, tmp)
        add(tmp, eps, tmp)
        maximum(exp_inf, tmp, out=exp_inf)
        clr = lr / (1 - beta1 ** t)
        multiply(exp_avg, neg_clr(-clr), tmp)
        divide(tmp, exp_inf, tmp)
        add(theta, tmp, theta)

    def resume(steps_taken):   # batch compaction: a rebuilt rule continues the count
        nonlocal t
        t = steps_taken
    step.resume = resume
    step.state = {"exp_avg": exp_avg, "exp_inf": exp_inf}
    return step


def make_nadam(hp, shape):
    """torch.optim.NAdam with momentum_decay: a Nesterov look-ahead inside Adam."""
    mo = _Moments(hp, shape)
    eps, beta1, beta2, psi = const(hp["eps"]), mo.beta1, mo.beta2, hp["momentum_decay"]
    decay_ = _weight_decay(hp, False)
    exp_avg, tmp, denom = mo.exp_avg, mo.tmp, mo.denom
    correction2, grad_coef, avg_coef = Slot(), Slot(), Slot()
    # torch's state: mu_product starts at 1.0 and is a float (or (1, N) per trajectory).
    state = {"mu_product": 1.0, "exp_avg": exp_avg, "exp_avg_sq": mo.exp_avg_sq}
    t = 0

    def step(theta, g, lr):
        nonlocal t
        t += 1
        bias_correction2 = 1 - beta2 ** t
        if decay_ is not None:
            decay_(theta, g, lr, tmp)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * psi)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * psi)))
        # float64 throughout, as torch with set_default_dtype(float64) (the project's convention).
        mu_product = state["mu_product"] * mu
        state["mu_product"] = mu_product
        mo.update(g)
        divide(mo.exp_avg_sq, correction2(bias_correction2), denom)
        sqrt(denom, denom)
        add(denom, eps, denom)
        mu_product_next = mu_product * mu_next
        multiply(g, grad_coef(-lr * (1.0 - mu) / (1.0 - mu_product)), tmp)
        divide(tmp, denom, tmp)
        add(theta, tmp, theta)
        multiply(exp_avg, avg_coef((-lr * mu_next) / (1.0 - mu_product_next)), tmp)
        divide(tmp, denom, tmp)
        add(theta, tmp, theta)

    def resume(steps_taken):   # batch compaction: a rebuilt rule continues the count
        nonlocal t
        t = steps_taken
    step.resume = resume
    step.state = state
    return step


def make_radam(hp, shape):
    """torch.optim.RAdam: plain momentum steps until the variance estimate is trustworthy."""
    mo = _Moments(hp, shape)
    eps, beta1, beta2 = const(hp["eps"]), mo.beta1, mo.beta2
    decay_ = _weight_decay(hp, False)
    exp_avg, tmp, denom = mo.exp_avg, mo.tmp, mo.denom
    rho_inf = 2 / (1 - beta2) - 1
    per_trajectory = np.ndim(beta2) > 0
    correction1, rate, correction2, rectifier = Slot(), Slot(), Slot(), Slot()
    t = 0

    def step(theta, g, lr):
        nonlocal t
        t += 1
        if decay_ is not None:
            decay_(theta, g, lr, tmp)
        mo.update(g)
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        divide(exp_avg, correction1(bias_correction1), tmp)
        multiply(tmp, rate(lr), tmp)
        rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2
        rectify = rho_t > 5.0
        if np.any(rectify):
            sqrt(mo.exp_avg_sq, denom)
            add(denom, eps, denom)
            divide(correction2(bias_correction2 ** 0.5), denom, denom)
            if per_trajectory:
                with np.errstate(invalid="ignore"):
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                # Multiplying by exactly 1 leaves the unrectified trajectories' steps unchanged.
                np.copyto(denom, 1.0, where=~rectify)
                rect = np.where(rectify, rect, 1.0)
            else:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                        / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            multiply(tmp, denom, tmp)
            multiply(tmp, rectifier(rect), tmp)
        subtract(theta, tmp, theta)

    def resume(steps_taken):   # batch compaction: a rebuilt rule continues the count
        nonlocal t
        t = steps_taken
    step.resume = resume
    step.state = {"exp_avg": exp_avg, "exp_avg_sq": mo.exp_avg_sq}
    return step
