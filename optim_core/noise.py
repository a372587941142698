"""Gradient noise that depends only on (seed, trajectory index, step), never on N or chunking.

Why: a batch used to draw one stream, so trajectory i's noise depended on how many trajectories
ran beside it, and a map computed in pieces differed from the one computed at once. Here every
draw is a pure function of its coordinates (a counter-based generator), so any subset, order or
chunking of trajectories sees the same numbers, and run() and run_final() agree bit for bit.

The recipe (tools/record_torch_reference.py transcribes it independently for the torch runs):

- bits: SplitMix64's finaliser `mix` (Steele, Lea & Flood 2014) used as a hash, in wrapping
  uint64 arithmetic. base = mix(seed + G); key_i = mix(base + (i + 1)·G) per trajectory;
  c_{k,j} = mix(SALT + (2k + j + 1)·G) per step k and word j; word_{i,k,j} = mix(key_i ^ c_{k,j}).
- normals: Box-Muller. u = ((word_0 >> 11) + 1)·2⁻⁵³ in (0, 1]; the top two bits of word_1
  pick a quarter turn q, its next 52 bits an offset f in [-1/2, 1/2); a = f·π/2, θ = q·π/2 + a;
  (x, y) = sqrt(-2 ln u)·(cos θ, sin θ).

ln, sin and cos are evaluated here as polynomials in exactly rounded operations only (+ - × ÷,
sqrt, frexp): NumPy's own versions pick SIMD or libm code by CPU, so the same seed could give
different last bits on another machine; these give the same bits everywhere.
"""

from __future__ import annotations

import math

import numpy as np

_G = np.uint64(0x9E3779B97F4A7C15)
_SALT = np.uint64(0xD1B54A32D192ED03)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_S11, _S10, _S62 = np.uint64(11), np.uint64(10), np.uint64(62)
_LOW52 = np.uint64((1 << 52) - 1)

BLOCK_ELEMENTS = 1 << 16    # steps x trajectories drawn at once: a few MB of temporaries

_LN2_HI = 6.93147180369123816490e-01     # ln 2 split so that e·_LN2_HI is exact (fdlibm)
_LN2_LO = 1.90821492927058770002e-10
_SQRT_HALF = math.sqrt(0.5)
# ln m = 2 atanh(s), s = (m - 1)/(m + 1), |s| <= 0.1716: Σ s^(2n+1)/(2n+1), n <= 10 (< 1e-17).
_ATANH = tuple(1.0 / (2 * n + 1) for n in range(11))
# sin a, cos a on |a| <= π/4: Taylor to a^17 / a^16 (next terms < 5e-17).
_SIN = tuple((-1) ** n / math.factorial(2 * n + 1) for n in range(9))
_COS = tuple((-1) ** n / math.factorial(2 * n) for n in range(9))
# (cos θ, sin θ) of θ = q·π/2 + a from (c, s) = (cos a, sin a): which of c, s and which sign.
_SWAP = np.array([False, True, False, True])
_SIGN_X = np.array([1.0, -1.0, -1.0, 1.0])
_SIGN_Y = np.array([1.0, 1.0, -1.0, -1.0])


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, in place on a uint64 array (wrapping multiplication)."""
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


def trajectory_keys(seed: int, index) -> np.ndarray:
    """key_i for trajectory indices `index` (ints >= 0) under `seed`: (n,) uint64."""
    with np.errstate(over="ignore"):
        base = _mix(np.array([seed], dtype=np.uint64) + _G)
        i = np.asarray(index, dtype=np.uint64) + np.uint64(1)
        return _mix(base + i * _G)


def _step_constants(k0: int, k1: int) -> np.ndarray:
    """c_{k,j} for steps k0 <= k < k1: (k1 - k0, 2) uint64."""
    counter = np.arange(2 * k0 + 1, 2 * k1 + 1, dtype=np.uint64)
    return _mix(_SALT + counter * _G).reshape(-1, 2)


def _polynomial(z, coefficients):
    out = np.full_like(z, coefficients[-1])
    for c in coefficients[-2::-1]:
        out *= z
        out += c
    return out


def _log(u: np.ndarray) -> np.ndarray:
    """ln u for u in (0, 1], exactly rounded operations only."""
    m, e = np.frexp(u)
    small = m < _SQRT_HALF
    m[small] *= 2.0
    e = (e - small).astype(np.float64)
    s = (m - 1.0) / (m + 1.0)
    series = _polynomial(s * s, _ATANH)
    series *= s
    series *= 2.0
    return e * _LN2_HI + (e * _LN2_LO + series)


def normals(keys: np.ndarray, k0: int, k1: int) -> np.ndarray:
    """Standard normal pairs for steps k0 <= k < k1 of the trajectories with these keys.

    keys: (n,) from trajectory_keys. Returns (k1 - k0, 2, n) float64: [k, 0] is the x draw and
    [k, 1] the y draw of step k. Elementwise, so any subset of keys gives the same values.
    """
    with np.errstate(over="ignore"):
        consts = _step_constants(k0, k1)
        w0 = _mix(keys[None, :] ^ consts[:, 0:1])
        w1 = _mix(keys[None, :] ^ consts[:, 1:2])
    u = ((w0 >> _S11) + np.uint64(1)).astype(np.float64)
    u *= 2.0 ** -53
    radius = _log(u)
    radius *= -2.0
    np.maximum(radius, 0.0, out=radius)
    np.sqrt(radius, out=radius)
    q = (w1 >> _S62).astype(np.intp)
    a = (w1 >> _S10 & _LOW52).astype(np.float64)
    a *= 2.0 ** -52
    a -= 0.5
    a *= math.pi / 2                      # |a| <= π/4
    z = a * a
    sin_a = _polynomial(z, _SIN)
    sin_a *= a
    cos_a = _polynomial(z, _COS)
    swap = _SWAP[q]
    out = np.empty((k1 - k0, 2, keys.shape[0]))
    x, y = out[:, 0], out[:, 1]
    np.copyto(x, np.where(swap, sin_a, cos_a))
    np.copyto(y, np.where(swap, cos_a, sin_a))
    x *= _SIGN_X[q]
    y *= _SIGN_Y[q]
    x *= radius
    y *= radius
    return out


class NoiseStream:
    """Gradient kicks σ·(x, y) for trajectories `index` under `seed`, consumed step by step.

    Draws BLOCK_ELEMENTS values at a time (many steps for a few trajectories, one step for many)
    so the per-call cost of NumPy is shared; the block size never changes a value.
    """

    def __init__(self, seed: int, index, sigma, steps: int):
        self.keys = trajectory_keys(seed, index)
        self.sigma = sigma                    # float or (1, n)
        self.steps = steps
        self.block = max(1, BLOCK_ELEMENTS // max(1, self.keys.shape[0]))
        self.k0, self.k1, self.rows = 0, 0, None

    def kick(self, k: int) -> np.ndarray:
        """σ·noise of step k, (2, n). k must not decrease between calls."""
        if k >= self.k1:
            self.k0, self.k1 = k, min(k + self.block, self.steps)
            self.rows = normals(self.keys, self.k0, self.k1)
            self.rows *= self.sigma
        return self.rows[k - self.k0]

    def take(self, keep: np.ndarray) -> None:
        """Keep only the trajectories at positions `keep` (batch compaction)."""
        self.keys = self.keys[keep]
        if isinstance(self.sigma, np.ndarray):
            self.sigma = self.sigma[:, keep]
        if self.rows is not None:
            self.rows = self.rows[:, :, keep]
