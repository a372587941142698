"""The test surfaces as plain functions of x and y, value and gradient side by side.

Each factory takes the surface's parameters and returns a pair ``(f, vg)``:

- ``f(x, y) -> value``: x, y arrays of one shape (...), written as readable math.
- ``vg(x, y, gx, gy, value=True) -> value``: the fused fast path. x, y are 1-D rows (N,); it
  writes the analytic gradient into the preallocated rows ``gx``, ``gy`` (N,) (never aliasing x
  or y) and returns the value as a new (N,) array, or None with ``value=False`` (a map's run
  needs no loss until its last step, and the value's own calls are a third of Rosenbrock's).
  ``Landscape.grad`` is built on it too, so one gradient formula serves both, and the tests
  check it against central differences of ``f``.

Rosenbrock's and Booth's gradients, the surfaces of the torch reference recordings, are evaluated
in the order optimizers.md writes them, so runs match those recordings bit for bit (a chaotic
Adam run on Rosenbrock turns one ulp into 1e-7 within 100 steps); the others are rearranged
freely. Why vg is written as it is: the optimizer runner calls it once per step, and at N = 1
each NumPy call costs about a microsecond, so the count of calls is the cost. Measured on NumPy 2.4
with length-1 arrays: a Python-float operand (``x * 2.0``) costs ~0.5 µs more than a 0-d array
constant (``x * TWO``), and an in-place op whose output aliases an input (``g *= 2``) costs about
twice a fresh temporary. So vg uses 0-d array constants (``_k``), fresh temporaries, and writes
only its final results into gx/gy with ``out=``.

Neither function suppresses floating-point warnings: ``Landscape.f``/``grad`` wrap them in
``np.errstate``, and the runner holds one ``errstate`` around its whole loop. Formulas and
gradients follow optimizers.md section 4.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

F = Callable[[np.ndarray, np.ndarray], np.ndarray]
VG = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]

TWO_PI = 2.0 * math.pi


def _k(value: float) -> np.ndarray:
    """A 0-d float64 constant: cheaper than a Python float as a ufunc operand (see above)."""
    return np.array(value, dtype=np.float64)


ONE, TWO, THREE, HALF = _k(1.0), _k(2.0), _k(3.0), _k(0.5)


def rosenbrock(a: float = 1.0, b: float = 100.0) -> tuple[F, VG]:
    """(a - x)² + b(y - x²)²; minimum (a, a²), f = 0."""

    def f(x, y):
        return (a - x) ** 2 + b * (y - x * x) ** 2

    a_, b_, two_b, four_b, minus_two = _k(a), _k(b), _k(2.0 * b), _k(4.0 * b), _k(-2.0)

    def vg(x, y, gx, gy, value=True):  # 12 ufunc calls, each formula in the doc's written order
        w = y - x * x
        u = a_ - x
        np.multiply(two_b, w, out=gy)  # 2b(y - x²)
        np.subtract(minus_two * u, four_b * x * w, out=gx)  # -2(a - x) - 4bx(y - x²)
        if not value:
            return None
        return u * u + b_ * (w * w)

    return f, vg


def saddle() -> tuple[F, VG]:
    """x² - y²: one saddle at the origin, unbounded below."""

    def f(x, y):
        return x * x - y * y

    minus_two = _k(-2.0)

    def vg(x, y, gx, gy, value=True):
        np.multiply(x, TWO, out=gx)
        np.multiply(y, minus_two, out=gy)
        if not value:
            return None
        return x * x - y * y

    return f, vg


def monkey_saddle() -> tuple[F, VG]:
    """x³ - 3xy²: a degenerate saddle (zero Hessian) with three downhill directions."""

    def f(x, y):
        return x * (x * x - 3.0 * y * y)

    minus_six = _k(-6.0)

    def vg(x, y, gx, gy, value=True):
        x2 = x * x
        y2 = y * y
        np.multiply(x2 - y2, THREE, out=gx)
        np.multiply(x * y, minus_six, out=gy)
        if not value:
            return None
        return x * (x2 - y2 * THREE)

    return f, vg


QUADRATIC_L = 15.0
"""Largest curvature of the elongated quadratic, the same for every κ.

Fixing L fixes the learning rates at which plain GD is stable (γ < 2/L ≈ 0.133) for every
condition number, so raising κ only flattens the shallow axis, which is exactly what slows GD.
At the default κ = 10, lr = 0.1 gives a clear zig-zag (steep-axis factor 1 - γL = -0.5).
"""


def elongated_quadratic(condition_number: float = 10.0, angle: float = 0.0) -> tuple[F, VG]:
    """½ zᵀHz, H = R(θ) diag(L, L/κ) R(θ)ᵀ: the steep axis points along angle θ (degrees)."""
    th = math.radians(angle)
    c, s = math.cos(th), math.sin(th)
    big, small = QUADRATIC_L, QUADRATIC_L / condition_number
    p = big * c * c + small * s * s  # H = [[p, q], [q, r]]
    q = (big - small) * c * s
    r = big * s * s + small * c * c

    def f(x, y):
        return 0.5 * (p * x * x + 2.0 * q * x * y + r * y * y)

    p_, q_, r_ = _k(p), _k(q), _k(r)

    def vg(x, y, gx, gy, value=True):
        np.add(x * p_, y * q_, out=gx)
        np.add(x * q_, y * r_, out=gy)
        if not value:
            return None
        return (x * gx + y * gy) * HALF  # ½ zᵀHz = ½ zᵀ∇f

    return f, vg


# (A, cx, cy, s) of each Gaussian well, optimizers.md 4.6
WELLS = ((3.0, 2.0, 1.0, 0.8), (1.5, -2.0, 2.0, 0.7), (1.2, -1.5, -2.0, 0.6), (1.0, 1.5, -2.5, 0.6))


def multi_minima() -> tuple[F, VG]:
    """0.1(x² + y²) - Σ A exp(-|z - c|² / 2s²): four Gaussian wells on a bowl."""
    amp, cx, cy, sd = np.array(WELLS).T
    neg_half_inv_var = -0.5 / sd**2
    amp_inv_var = amp / sd**2
    tenth, fifth = _k(0.1), _k(0.2)

    def f(x, y):
        x = np.asarray(x)[..., None]  # the wells run along a new last axis
        y = np.asarray(y)[..., None]
        wells = amp * np.exp(((x - cx) ** 2 + (y - cy) ** 2) * neg_half_inv_var)
        return 0.1 * (x[..., 0] ** 2 + y[..., 0] ** 2) - wells.sum(axis=-1)

    def vg(x, y, gx, gy, value=True):
        # one broadcast over the wells (N, 4), summed by matmul with weights, no Python loop
        dx = x[..., None] - cx
        dy = y[..., None] - cy
        e = np.exp((dx * dx + dy * dy) * neg_half_inv_var)
        np.add(x * fifth, (e * dx) @ amp_inv_var, out=gx)
        np.add(y * fifth, (e * dy) @ amp_inv_var, out=gy)
        if not value:
            return None
        return (x * x + y * y) * tenth - e @ amp

    return f, vg


def himmelblau() -> tuple[F, VG]:
    """(x² + y - 11)² + (x + y² - 7)²: four global minima with f = 0."""

    def f(x, y):
        return (x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2

    eleven, seven = _k(11.0), _k(7.0)

    def vg(x, y, gx, gy, value=True):
        u = x * x + y - eleven
        v = y * y + x - seven
        xu = x * u
        yv = y * v
        np.multiply(xu + xu + v, TWO, out=gx)  # 4xu + 2v
        np.multiply(yv + yv + u, TWO, out=gy)  # 2u + 4yv
        if not value:
            return None
        return u * u + v * v

    return f, vg


def beale() -> tuple[F, VG]:
    """Σ_k (c_k - x + x y^k)², c = (1.5, 2.25, 2.625): flat plateaus, steep walls, one minimum."""

    def f(x, y):
        return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2
                + (2.625 - x + x * y**3) ** 2)

    c1, c2, c3 = _k(1.5), _k(2.25), _k(2.625)

    def vg(x, y, gx, gy, value=True):
        y2 = y * y
        y3 = y2 * y
        xy, xy2 = x * y, x * y2
        t1 = xy - x + c1
        t2 = xy2 - x + c2
        t3 = x * y3 - x + c3
        # ∂/∂x = 2Σ t_k (y^k - 1), ∂/∂y = 2Σ k t_k x y^(k-1)
        s = t1 * (y - ONE) + t2 * (y2 - ONE) + t3 * (y3 - ONE)
        np.multiply(s, TWO, out=gx)
        s = t1 * x + t2 * xy * TWO + t3 * xy2 * THREE
        np.multiply(s, TWO, out=gy)
        if not value:
            return None
        return t1 * t1 + t2 * t2 + t3 * t3

    return f, vg


def booth() -> tuple[F, VG]:
    """(x + 2y - 7)² + (2x + y - 5)²: a tilted quadratic bowl, minimum (1, 3)."""

    def f(x, y):
        return (x + 2.0 * y - 7.0) ** 2 + (2.0 * x + y - 5.0) ** 2

    k2, k5, k7, k8, k10, k34, k38 = (_k(v) for v in (2.0, 5.0, 7.0, 8.0, 10.0, 34.0, 38.0))

    def vg(x, y, gx, gy, value=True):
        np.subtract(k10 * x + k8 * y, k34, out=gx)  # 10x + 8y - 34
        np.subtract(k8 * x + k10 * y, k38, out=gy)  # 8x + 10y - 38
        u = x + k2 * y - k7
        v = k2 * x + y - k5
        if not value:
            return None
        return u * u + v * v

    return f, vg


def matyas() -> tuple[F, VG]:
    """0.26(x² + y²) - 0.48xy: a shallow diagonal valley, minimum (0, 0)."""

    def f(x, y):
        return 0.26 * (x * x + y * y) - 0.48 * x * y

    c52, c48 = _k(0.52), _k(0.48)

    def vg(x, y, gx, gy, value=True):
        np.subtract(x * c52, y * c48, out=gx)
        np.subtract(y * c52, x * c48, out=gy)
        if not value:
            return None
        return (x * gx + y * gy) * HALF  # f is quadratic: f = ½ zᵀ∇f

    return f, vg


def dlfs_bowl() -> tuple[F, VG]:
    """x²/20 + y²: the bowl of the optimizer comparison in Deep Learning from Scratch (ch. 6).

    Curvatures 1/10 in x and 2 in y (twenty times steeper across y); minimum (0, 0), f = 0. The
    gradient is written as the book's ``df`` does, (x / 10, 2y), so a run repeats its numbers.
    """

    def f(x, y):
        return x * x / 20.0 + y * y

    ten, twenty = _k(10.0), _k(20.0)

    def vg(x, y, gx, gy, value=True):
        np.divide(x, ten, out=gx)  # x / 10
        np.multiply(y, TWO, out=gy)  # 2y
        if not value:
            return None
        return x * x / twenty + y * y

    return f, vg


def goldstein_price() -> tuple[F, VG]:
    """[1 + s²A][30 + d²B] with s = x + y + 1, d = 2x - 3y: huge dynamic range, 4 minima."""

    def f(x, y):
        s = x + y + 1.0
        d = 2.0 * x - 3.0 * y
        a = 19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y
        b = 18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y
        return (1.0 + s * s * a) * (30.0 + d * d * b)

    # With t = x + y: A = 3t² - 14t + 19, and B = 3d² - 16d + 18, so P = 1 + s²A depends on t
    # only (P_x = P_y = P'(t)) and Q = 30 + d²B on d only (Q_x = 2Q'(d), Q_y = -3Q'(d)).
    k6, k14, k16, k18, k19, k30 = (_k(v) for v in (6.0, 14.0, 16.0, 18.0, 19.0, 30.0))

    def vg(x, y, gx, gy, value=True):
        t = x + y
        s = t + ONE
        d = x * TWO - y * THREE
        a = (t * THREE - k14) * t + k19
        b = (d * THREE - k16) * d + k18
        s2 = s * s
        d2 = d * d
        p = s2 * a + ONE
        q = d2 * b + k30
        p_t = s * a * TWO + s2 * (t * k6 - k14)
        q_d = d * b * TWO + d2 * (d * k6 - k16)
        p_t_q = p_t * q
        p_q_d = p * q_d
        np.add(p_t_q, p_q_d * TWO, out=gx)
        np.subtract(p_t_q, p_q_d * THREE, out=gy)
        if not value:
            return None
        return p * q

    return f, vg


def six_hump_camel() -> tuple[F, VG]:
    """(4 - 2.1x² + x⁴/3)x² + xy + (4y² - 4)y²: six minima, two of them global."""

    def f(x, y):
        x2, y2 = x * x, y * y
        return (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (4.0 * y2 - 4.0) * y2

    four, eight, third, m21, m84, k16 = (_k(v) for v in (4.0, 8.0, 1.0 / 3.0, -2.1, -8.4, 16.0))

    def vg(x, y, gx, gy, value=True):
        x2 = x * x
        y2 = y * y
        x4 = x2 * x2
        np.add(x * (x2 * m84 + x4 * TWO + eight), y, out=gx)  # 8x - 8.4x³ + 2x⁵ + y
        np.add(y * (y2 * k16 - eight), x, out=gy)  # x - 8y + 16y³
        if not value:
            return None
        return (x2 * m21 + x4 * third + four) * x2 + x * y + (y2 - ONE) * y2 * four

    return f, vg


def rastrigin() -> tuple[F, VG]:
    """20 + Σ(z² - 10 cos 2πz): an egg crate of 121 local minima on a bowl (A = 10)."""

    def f(x, y):
        return 20.0 + x * x + y * y - 10.0 * (np.cos(TWO_PI * x) + np.cos(TWO_PI * y))

    two_pi, ten, twenty, twenty_pi = _k(TWO_PI), _k(10.0), _k(20.0), _k(10.0 * TWO_PI)

    def vg(x, y, gx, gy, value=True):
        px = x * two_pi
        py = y * two_pi
        np.add(x * TWO, np.sin(px) * twenty_pi, out=gx)
        np.add(y * TWO, np.sin(py) * twenty_pi, out=gy)
        if not value:
            return None
        return (x * x + y * y + twenty) - (np.cos(px) + np.cos(py)) * ten

    return f, vg


def ackley() -> tuple[F, VG]:
    """-20 exp(-0.2r) - exp(½(cos 2πx + cos 2πy)) + e + 20, r = √((x² + y²)/2).

    r comes from hypot so it never underflows to 0 away from the origin; at the exact origin,
    where the gradient is undefined (a cone tip), the radial term is 0 without warning.
    """

    def f(x, y):
        r = np.hypot(x, y) * math.sqrt(0.5)
        return (-20.0 * np.exp(-0.2 * r) - np.exp(0.5 * (np.cos(TWO_PI * x) + np.cos(TWO_PI * y)))
                + math.e + 20.0)

    # e^{-0.2r} = e^{k·hypot} and the radial gradient 2x e^{-0.2r}/r = 2√2 e^{-0.2r} x/hypot:
    # x/hypot is bounded, so no overflow for tiny r, and the guard makes it 0 at the origin.
    k, c, two_pi, pi, twenty, e20 = (
        _k(v) for v in (-0.2 * math.sqrt(0.5), 2.0 * math.sqrt(2.0), TWO_PI, math.pi, 20.0,
                        math.e + 20.0))

    def vg(x, y, gx, gy, value=True):
        hyp = np.hypot(x, y)
        e1 = np.exp(hyp * k)
        px = x * two_pi
        py = y * two_pi
        e2 = np.exp((np.cos(px) + np.cos(py)) * HALF)
        radial = e1 * c
        hyp = hyp + (hyp == 0.0)
        e2_pi = e2 * pi
        np.add(x / hyp * radial, np.sin(px) * e2_pi, out=gx)
        np.add(y / hyp * radial, np.sin(py) * e2_pi, out=gy)
        if not value:
            return None
        return e20 - e2 - e1 * twenty

    return f, vg


def styblinski_tang() -> tuple[F, VG]:
    """½ Σ(z⁴ - 16z² + 5z): four minima of different depths."""

    def f(x, y):
        return 0.5 * (x**4 - 16.0 * x**2 + 5.0 * x + y**4 - 16.0 * y**2 + 5.0 * y)

    k16, k25, k5 = _k(16.0), _k(2.5), _k(5.0)

    def vg(x, y, gx, gy, value=True):
        x2 = x * x
        y2 = y * y
        np.add(x * (x2 * TWO - k16), k25, out=gx)  # 2x³ - 16x + 2.5
        np.add(y * (y2 * TWO - k16), k25, out=gy)
        if not value:
            return None
        return (x2 * (x2 - k16) + y2 * (y2 - k16) + (x + y) * k5) * HALF

    return f, vg
