"""The Philox generator of :mod:`kernels.rng` as scalar numba functions, shared by every numba kernel.

:func:`philox4x32`, :func:`uniform`, :func:`randint`, :func:`normal` (and the block/word helpers
:func:`_block`, :func:`_u53`, :func:`_log_unit`, :func:`_cos_quadrant` the kernels inline) are
``@njit`` functions bit-for-bit identical to the NumPy versions in :mod:`kernels.rng`; the ``*_many``
functions run them over arrays (for the tests).  Imports numba: imported only by numba kernels.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from . import rng as _rng

__all__ = [
    "philox4x32",
    "uniform",
    "randint",
    "normal",
    "philox_many",
    "uniform_many",
    "randint_many",
    "normal_many",
]

_M0 = np.uint64(_rng.PHILOX_M0)
_M1 = np.uint64(_rng.PHILOX_M1)
_W0 = np.uint64(_rng.PHILOX_W0)
_W1 = np.uint64(_rng.PHILOX_W1)
_MASK = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_U1 = np.uint64(1)
_U5 = np.uint64(5)
_U6 = np.uint64(6)
_ROUNDS = _rng.PHILOX_ROUNDS
_LN2_HI = _rng.LN2_HI
_LN2_LO = _rng.LN2_LO
_SQRT_HALF = _rng.SQRT_HALF
_HALF_PI = _rng.HALF_PI
_ATANH = _rng.ATANH_COEFS
_SIN = _rng.SIN_COEFS
_COS = _rng.COS_COEFS
_LN2 = math.log(2.0)


# --------------------------------------------------------------------------------------------------
# Philox4x32-10 and derived variates (scalar; usable inside kernels)
# --------------------------------------------------------------------------------------------------


@njit(cache=True)
def philox4x32(c0, c1, c2, c3, k0, k1):  # pragma: no cover - compiled
    """Philox4x32-10 on uint64 scalars holding 32-bit words; returns four uint64 words."""
    for r in range(_ROUNDS):
        if r > 0:
            k0 = (k0 + _W0) & _MASK
            k1 = (k1 + _W1) & _MASK
        p0 = _M0 * c0
        p1 = _M1 * c2
        n0 = (p1 >> _S32) ^ c1 ^ k0
        n2 = (p0 >> _S32) ^ c3 ^ k1
        c1 = p1 & _MASK
        c3 = p0 & _MASK
        c0 = n0
        c2 = n2
    return c0, c1, c2, c3


@njit(cache=True)
def _block(seed, inst, step, draw):  # pragma: no cover - compiled
    return philox4x32(
        np.uint64(draw), np.uint64(step), inst & _MASK, inst >> _S32, seed & _MASK, seed >> _S32
    )


@njit(cache=True)
def _u53(hi, lo):  # pragma: no cover - compiled
    return (np.float64(hi >> _U5) * 67108864.0 + np.float64(lo >> _U6)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def uniform(seed, inst, step, draw):  # pragma: no cover - compiled
    """53-bit uniform in [0, 1); arguments are uint64 (see :mod:`kernels.rng`)."""
    x0, x1, _, _ = _block(seed, inst, step, draw)
    return _u53(x0, x1)


@njit(cache=True)
def randint(seed, inst, step, draw, n):  # pragma: no cover - compiled
    """Integer in [0, n) as int64; arguments are uint64, 1 <= n < 2**32."""
    x0, x1, _, _ = _block(seed, inst, step, draw)
    return np.int64((x0 * n + ((x1 * n) >> _S32)) >> _S32)


@njit(cache=True)
def _log_unit(x):  # pragma: no cover - compiled
    mant, e = math.frexp(x)
    ef = np.float64(e)
    if mant < _SQRT_HALF:
        mant = mant * 2.0
        ef = ef - 1.0
    f = mant - 1.0
    s = f / (2.0 + f)
    s2 = s * s
    p = _ATANH[10]
    p = _ATANH[9] + s2 * p
    p = _ATANH[8] + s2 * p
    p = _ATANH[7] + s2 * p
    p = _ATANH[6] + s2 * p
    p = _ATANH[5] + s2 * p
    p = _ATANH[4] + s2 * p
    p = _ATANH[3] + s2 * p
    p = _ATANH[2] + s2 * p
    p = _ATANH[1] + s2 * p
    p = _ATANH[0] + s2 * p
    atanh2 = 2.0 * s + 2.0 * s * (s2 * p)
    return ef * _LN2_HI + (ef * _LN2_LO + atanh2)


@njit(cache=True)
def _cos_quadrant(u, shift):  # pragma: no cover - compiled
    v = 4.0 * u
    q = math.floor(v)
    r = v - q
    flip = r > 0.5
    rr = 1.0 - r if flip else r
    x = rr * _HALF_PI
    x2 = x * x
    ps = _SIN[8]
    ps = _SIN[7] + x2 * ps
    ps = _SIN[6] + x2 * ps
    ps = _SIN[5] + x2 * ps
    ps = _SIN[4] + x2 * ps
    ps = _SIN[3] + x2 * ps
    ps = _SIN[2] + x2 * ps
    ps = _SIN[1] + x2 * ps
    ps = _SIN[0] + x2 * ps
    pc = _COS[8]
    pc = _COS[7] + x2 * pc
    pc = _COS[6] + x2 * pc
    pc = _COS[5] + x2 * pc
    pc = _COS[4] + x2 * pc
    pc = _COS[3] + x2 * pc
    pc = _COS[2] + x2 * pc
    pc = _COS[1] + x2 * pc
    pc = _COS[0] + x2 * pc
    s = x + x * (x2 * ps)
    c = 1.0 + x2 * pc
    cr = s if flip else c
    sr = c if flip else s
    qq = (np.int64(q) + 3 * shift) & 3
    if qq == 0:
        return cr
    if qq == 1:
        return -sr
    if qq == 2:
        return -cr
    return sr


@njit(cache=True)
def normal(seed, inst, step, draw):  # pragma: no cover - compiled
    """Standard normal by Box-Muller (libm-free, see :mod:`kernels.rng`); arguments are uint64."""
    x0, x1, x2, x3 = _block(seed, inst, step, np.uint64(draw) >> _U1)
    u1 = _u53(x0, x1)
    u2 = _u53(x2, x3)
    rho = math.sqrt(-2.0 * _log_unit(1.0 - u1))
    return rho * _cos_quadrant(u2, np.int64(np.uint64(draw) & _U1))


@njit(parallel=True, cache=True)
def philox_many(counter, key):  # pragma: no cover - compiled
    """Philox on (N, 4) / (N, 2) uint64 arrays -> (N, 4) uint64."""
    out = np.empty((counter.shape[0], 4), dtype=np.uint64)
    for n in prange(counter.shape[0]):
        x0, x1, x2, x3 = philox4x32(counter[n, 0], counter[n, 1], counter[n, 2], counter[n, 3], key[n, 0], key[n, 1])
        out[n, 0] = x0
        out[n, 1] = x1
        out[n, 2] = x2
        out[n, 3] = x3
    return out


@njit(parallel=True, cache=True)
def uniform_many(seed, inst, step, draw):  # pragma: no cover - compiled
    """:func:`uniform` over equal-length uint64 arrays."""
    out = np.empty(seed.shape[0])
    for n in prange(seed.shape[0]):
        out[n] = uniform(seed[n], inst[n], step[n], draw[n])
    return out


@njit(parallel=True, cache=True)
def randint_many(seed, inst, step, draw, nmax):  # pragma: no cover - compiled
    """:func:`randint` over equal-length uint64 arrays."""
    out = np.empty(seed.shape[0], dtype=np.int64)
    for n in prange(seed.shape[0]):
        out[n] = randint(seed[n], inst[n], step[n], draw[n], nmax[n])
    return out


@njit(parallel=True, cache=True)
def normal_many(seed, inst, step, draw):  # pragma: no cover - compiled
    """:func:`normal` over equal-length uint64 arrays."""
    out = np.empty(seed.shape[0])
    for n in prange(seed.shape[0]):
        out[n] = normal(seed[n], inst[n], step[n], draw[n])
    return out
