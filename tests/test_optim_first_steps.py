"""First steps derived by hand from the update rules (optimizers.md, section 1).

Rosenbrock (a=1, b=100) at (-1.5, 2): f = 12.5, grad = (-2(1-x) - 400x(y - x^2), 200(y - x^2))
= (-5 - 400(-1.5)(-0.25), 200(-0.25)) = (-155, -50).
"""

import math

import numpy as np
import pytest

import optim_core

pytestmark = pytest.mark.filterwarnings("error")
START = (-1.5, 2.0)
G = np.array([-155.0, -50.0])


def first_step(optimizer, **kw):
    traj = optim_core.run("rosenbrock", optimizer, START, 1, **kw)
    assert traj.loss[0, 0] == pytest.approx(12.5)
    return traj.xy[1, 0]


def test_gd_moves_against_the_gradient():
    np.testing.assert_allclose(first_step("sgd", lr=1e-4), START - 1e-4 * G)


def test_momentum_and_nesterov_first_step():
    # b_1 = g; momentum moves by lr*g, Nesterov by lr*(g + mu*g).
    np.testing.assert_allclose(first_step("momentum", lr=1e-4, momentum=0.9), START - 1e-4 * G)
    np.testing.assert_allclose(first_step("nesterov", lr=1e-4, momentum=0.9), START - 1e-4 * 1.9 * G)


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "amsgrad", "adamax"])
def test_adam_family_first_step_is_lr_times_sign(optimizer):
    # m = (1-b1)g, v = (1-b2)g^2: m/(1-b1) / sqrt(v/(1-b2)) = sign(g); AdamW also shrinks by 1 - lr*wd.
    shrink = 1 - 0.01 * 0.01 if optimizer == "adamw" else 1.0
    np.testing.assert_allclose(first_step(optimizer, lr=0.01), np.array(START) * shrink + 0.01 * np.sign(-G),
                               rtol=1e-9)


def test_adagrad_first_step():
    # s = g^2, step = lr * g / (|g| + 1e-10): (-1.5, 2) -> (-1.4, 2.1)
    np.testing.assert_allclose(first_step("adagrad", lr=0.1), (-1.4, 2.1), rtol=1e-9)


def test_rmsprop_first_step_is_ten_lr():
    # v = 0.01 g^2, step = lr g / (0.1|g| + eps) = 10 lr sign(g)
    np.testing.assert_allclose(first_step("rmsprop", lr=0.001), (-1.49, 2.01), rtol=1e-9)


def test_adadelta_first_step_is_sqrt_eps_over_one_minus_rho():
    step = math.sqrt(1e-6) / math.sqrt(0.1 * 155.0**2 + 1e-6) * 155.0
    np.testing.assert_allclose(first_step("adadelta"), (-1.5 + step, 2.0 + math.sqrt(1e-6) /
                               math.sqrt(0.1 * 50.0**2 + 1e-6) * 50.0), rtol=1e-12)
    assert step == pytest.approx(3.162e-3, rel=1e-3)


def test_nadam_first_step():
    mu1 = 0.9 * (1 - 0.5 * 0.96 ** 0.004)
    mu2 = 0.9 * (1 - 0.5 * 0.96 ** 0.008)
    # denominator |g| (bias-corrected v = g^2); g-term (1-mu1)/(1-mu1), m-term mu2 * 0.1/(1-mu1 mu2)
    factor = 1 + mu2 * 0.1 / (1 - mu1 * mu2)
    assert factor == pytest.approx(1.0564517784, rel=1e-9)
    np.testing.assert_allclose(first_step("nadam", lr=0.01), np.array(START) + 0.01 * factor * np.sign(-G),
                               rtol=1e-9)


def test_radam_first_step_is_unnormalised_momentum():
    # rho_1 = 1 <= 5: step = lr * m_hat = lr * g  ->  (-1.5 + 1.55, 2 + 0.5)
    np.testing.assert_allclose(first_step("radam", lr=0.01), (0.05, 2.5), rtol=1e-12)


def test_lion_first_step():
    np.testing.assert_allclose(first_step("lion", lr=0.01), (-1.49, 2.01), rtol=1e-12)
