"""The Adam family: momentum on the gradient, per-coordinate scaling by its second moment."""

from __future__ import annotations

import numpy as np

from ._ops import is_zero, lerp_fn

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
    """The two exponential moving averages every member of the family keeps (torch's names)."""

    def __init__(self, hp, shape):
        self.beta1, self.beta2 = hp["beta1"], hp["beta2"]
        self.one_minus_beta2 = 1 - self.beta2
        self.exp_avg = np.zeros(shape)
        self.exp_avg_sq = np.zeros(shape)
        self.tmp = np.empty(shape)
        self.denom = np.empty(shape)
        self.lerp_ = lerp_fn(1 - self.beta1)

    def update(self, g):
        self.lerp_(self.exp_avg, g, self.tmp)
        v, tmp = self.exp_avg_sq, self.tmp
        v *= self.beta2
        np.multiply(g, self.one_minus_beta2, out=tmp)
        tmp *= g
        v += tmp


def _weight_decay(hp, decoupled):
    """Return decay_(theta, g, lr, tmp), or None when weight_decay is 0 everywhere."""
    wd = hp["weight_decay"]
    if is_zero(wd):
        return None
    if decoupled:
        def decay_(theta, g, lr, tmp):
            theta *= 1 - lr * wd
    else:
        def decay_(theta, g, lr, tmp):
            np.multiply(theta, wd, out=tmp)
            g += tmp
    return decay_


def make_adam(hp, shape, *, decoupled=False, amsgrad=False):
    """torch.optim.Adam / AdamW (decoupled) / Adam(amsgrad=True)."""
    mo = _Moments(hp, shape)
    eps, beta1, beta2 = hp["eps"], mo.beta1, mo.beta2
    decay_ = _weight_decay(hp, decoupled)
    max_exp_avg_sq = np.zeros(shape) if amsgrad else None
    exp_avg, tmp, denom = mo.exp_avg, mo.tmp, mo.denom
    t = 0

    def step(theta, g, lr):
        nonlocal denom, t, tmp
        t += 1
        if decay_ is not None:
            decay_(theta, g, lr, tmp)
        mo.update(g)
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2 ** 0.5
        if amsgrad:
            np.maximum(max_exp_avg_sq, mo.exp_avg_sq, out=max_exp_avg_sq)
            np.sqrt(max_exp_avg_sq, out=denom)
        else:
            np.sqrt(mo.exp_avg_sq, out=denom)
        denom /= bias_correction2_sqrt
        denom += eps
        np.multiply(exp_avg, -step_size, out=tmp)
        tmp /= denom
        theta += tmp
    return step


def make_adamw(hp, shape):
    return make_adam(hp, shape, decoupled=True)


def make_amsgrad(hp, shape):
    return make_adam(hp, shape, amsgrad=True)


def make_adamax(hp, shape):
    """torch.optim.Adamax: the second moment is replaced by a decaying max of |g|."""
    mo = _Moments(hp, shape)
    eps, beta1, beta2 = hp["eps"], mo.beta1, mo.beta2
    decay_ = _weight_decay(hp, False)
    exp_avg, tmp = mo.exp_avg, mo.tmp
    exp_inf = np.zeros(shape)
    t = 0

    def step(theta, g, lr):
        nonlocal exp_inf, t, tmp
        t += 1
        if decay_ is not None:
            decay_(theta, g, lr, tmp)
        mo.lerp_(exp_avg, g, tmp)
        exp_inf *= beta2
        np.abs(g, out=tmp)
        tmp += eps
        np.maximum(exp_inf, tmp, out=exp_inf)
        clr = lr / (1 - beta1 ** t)
        np.multiply(exp_avg, -clr, out=tmp)
        tmp /= exp_inf
        theta += tmp
    return step


def make_nadam(hp, shape):
    """torch.optim.NAdam with momentum_decay: a Nesterov look-ahead inside Adam."""
    mo = _Moments(hp, shape)
    eps, beta1, beta2, psi = hp["eps"], mo.beta1, mo.beta2, hp["momentum_decay"]
    decay_ = _weight_decay(hp, False)
    exp_avg, tmp, denom = mo.exp_avg, mo.tmp, mo.denom
    mu_product = 1.0
    t = 0

    def step(theta, g, lr):
        nonlocal denom, mu_product, t, tmp
        t += 1
        bias_correction2 = 1 - beta2 ** t
        if decay_ is not None:
            decay_(theta, g, lr, tmp)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * psi)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * psi)))
        # float64 throughout, as torch with set_default_dtype(float64) (the project's convention).
        mu_product = mu_product * mu
        mo.update(g)
        np.divide(mo.exp_avg_sq, bias_correction2, out=denom)
        np.sqrt(denom, out=denom)
        denom += eps
        mu_product_next = mu_product * mu_next
        np.multiply(g, -lr * (1.0 - mu) / (1.0 - mu_product), out=tmp)
        tmp /= denom
        theta += tmp
        np.multiply(exp_avg, (-lr * mu_next) / (1.0 - mu_product_next), out=tmp)
        tmp /= denom
        theta += tmp
    return step


def make_radam(hp, shape):
    """torch.optim.RAdam: plain momentum steps until the variance estimate is trustworthy."""
    mo = _Moments(hp, shape)
    eps, beta1, beta2 = hp["eps"], mo.beta1, mo.beta2
    decay_ = _weight_decay(hp, False)
    exp_avg, tmp, denom = mo.exp_avg, mo.tmp, mo.denom
    rho_inf = 2 / (1 - beta2) - 1
    per_trajectory = np.ndim(beta2) > 0
    t = 0

    def step(theta, g, lr):
        nonlocal denom, t, tmp
        t += 1
        if decay_ is not None:
            decay_(theta, g, lr, tmp)
        mo.update(g)
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        np.divide(exp_avg, bias_correction1, out=tmp)
        tmp *= lr
        rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2
        rectify = rho_t > 5.0
        if np.any(rectify):
            np.sqrt(mo.exp_avg_sq, out=denom)
            denom += eps
            np.divide(bias_correction2 ** 0.5, denom, out=denom)
            with np.errstate(invalid="ignore"):
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                        / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            if per_trajectory:
                # Multiplying by exactly 1 leaves the unrectified trajectories' steps unchanged.
                np.copyto(denom, 1.0, where=~rectify)
                rect = np.where(rectify, rect, 1.0)
            tmp *= denom
            tmp *= rect
        theta -= tmp
    return step
