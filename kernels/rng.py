"""Counter-based random numbers: Philox4x32-10, identical in NumPy, numba and CUDA.

Every random number used by the dynamics is a pure function of ``(seed, instance, step, draw)``:

    counter = (draw, step, instance & 0xffffffff, instance >> 32)      four 32-bit words
    key     = (seed & 0xffffffff, seed >> 32)                            two 32-bit words
    x0, x1, x2, x3 = philox4x32(counter, key)                            Philox4x32-10 (Random123)

so no backend stores noise, a trajectory can be replayed alone from its instance id, and the NumPy,
numba (``kernels.rng_numba``) and CUDA (:data:`CUDA_SOURCE`, used by the ``cupy.py`` kernels) versions give
the same bits.  Ranges: ``seed`` and ``instance`` in ``[0, 2**64)``, ``step`` and ``draw`` in
``[0, 2**32)``.

Derived variates (all three backends use exactly these formulas):

* :func:`uniform`: ``((x0 >> 5) * 2**26 + (x1 >> 6)) / 2**53``, a 53-bit double in ``[0, 1)``.
* :func:`randint`: ``floor(X * n / 2**64)`` with ``X = x0 * 2**32 + x1`` computed exactly in integer
  arithmetic (bias below ``n / 2**64``), an integer in ``[0, n)`` for ``1 <= n < 2**32``.
* :func:`normal`: Box-Muller on the block of ``draw >> 1``: ``u1`` from ``(x0, x1)``, ``u2`` from
  ``(x2, x3)``, ``rho = sqrt(-2 log(1 - u1))``; even draws give ``rho cos(2 pi u2)``, odd draws
  ``rho sin(2 pi u2)``.  ``log`` and ``cos``/``sin`` are evaluated here with a fixed sequence of
  IEEE additions, multiplications and divisions (argument reduction that is exact, then Taylor
  series), not with the platform's libm, so that normals are bit-for-bit identical across NumPy,
  numba and CUDA (compiled with ``--fmad=false``); they are accurate to a few ulp.

The draw index space is shared: :func:`uniform` and :func:`randint` for draw ``j`` read Philox block
``j``, :func:`normal` for draws ``2j`` and ``2j + 1`` reads block ``j``.  A dynamics that needs
several independent streams at the same step must give them disjoint draw ranges.

This module imports only NumPy.
"""

from __future__ import annotations

import math
import string

import numpy as np

__all__ = [
    "PHILOX_M0",
    "PHILOX_M1",
    "PHILOX_W0",
    "PHILOX_W1",
    "PHILOX_ROUNDS",
    "KAT_VECTORS",
    "CUDA_SOURCE",
    "philox4x32",
    "philox_block",
    "uniform",
    "randint",
    "normal",
]

# Philox4x32 constants (Salmon, Moraes, Dror, Shaw, SC'11; Random123 philox.h).
PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9  # golden ratio
PHILOX_W1 = 0xBB67AE85  # sqrt(3) - 1
PHILOX_ROUNDS = 10

#: Random123's published known-answer vectors for Philox4x32-10: (counter, key, output).
KAT_VECTORS: tuple[tuple[tuple[int, int, int, int], tuple[int, int], tuple[int, int, int, int]], ...] = (
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    (
        (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF),
        (0xFFFFFFFF, 0xFFFFFFFF),
        (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD),
    ),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
)

_MASK32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_TWO_POW_26 = 67108864.0
_TWO_POW_M53 = 1.0 / 9007199254740992.0

# Constants of the libm-free log / sin / cos used by normal().  Shared verbatim with the numba and
# CUDA versions (they import or format these very numbers).
LN2_HI = 6.93147180369123816490e-01  # 0x3fe62e42fee00000: e * LN2_HI is exact for |e| < 2**11
LN2_LO = 1.90821492927058770002e-10
SQRT_HALF = 0.70710678118654752440
HALF_PI = 1.57079632679489661923
#: 1/(2k+1) for k = 1..11, coefficients of atanh(s)/s - 1 in powers of s**2.
ATANH_COEFS = tuple(1.0 / (2 * k + 1) for k in range(1, 12))
#: (-1)^k / (2k+1)! for k = 1..9 (sin) and (-1)^k / (2k)! for k = 1..9 (cos).
SIN_COEFS = tuple((-1.0) ** k / math.factorial(2 * k + 1) for k in range(1, 10))
COS_COEFS = tuple((-1.0) ** k / math.factorial(2 * k) for k in range(1, 10))


def _as_u64(x: object, name: str, bits: int) -> np.ndarray:
    """``x`` as a uint64 array after checking it is a non-negative integer below ``2**bits``."""
    if isinstance(x, (int, np.integer)):
        xi = int(x)
        if xi < 0 or xi >= 1 << bits:
            raise ValueError(f"{name} must be an integer in [0, 2**{bits}), got {xi}")
        return np.asarray(xi, dtype=np.uint64)
    arr = np.asarray(x)
    if arr.dtype == object:
        vals = [int(v) for v in arr.ravel()]
        if any(v < 0 or v >= 1 << bits for v in vals):
            raise ValueError(f"{name} must hold integers in [0, 2**{bits})")
        return np.asarray(vals, dtype=np.uint64).reshape(arr.shape)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be integer-valued, got dtype {arr.dtype}")
    if arr.size and np.issubdtype(arr.dtype, np.signedinteger) and arr.min() < 0:
        raise ValueError(f"{name} must be non-negative")
    out = arr.astype(np.uint64)
    if bits < 64 and out.size and out.max() >= np.uint64(1 << bits):
        raise ValueError(f"{name} must be below 2**{bits}")
    return out


def _philox_words(
    c0: np.ndarray, c1: np.ndarray, c2: np.ndarray, c3: np.ndarray, k0: np.ndarray, k1: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Philox4x32-10 on uint64 arrays holding 32-bit words (broadcast); returns four such arrays."""
    m0 = np.uint64(PHILOX_M0)
    m1 = np.uint64(PHILOX_M1)
    w0 = np.uint64(PHILOX_W0)
    w1 = np.uint64(PHILOX_W1)
    c0, c1, c2, c3 = np.broadcast_arrays(c0, c1, c2, c3)
    k0 = np.asarray(k0, dtype=np.uint64)
    k1 = np.asarray(k1, dtype=np.uint64)
    for r in range(PHILOX_ROUNDS):
        if r:
            k0 = (k0 + w0) & _MASK32
            k1 = (k1 + w1) & _MASK32
        p0 = m0 * c0  # < 2**64: both factors are below 2**32
        p1 = m1 * c2
        c0, c1, c2, c3 = (p1 >> _S32) ^ c1 ^ k0, p1 & _MASK32, (p0 >> _S32) ^ c3 ^ k1, p0 & _MASK32
    return c0, c1, c2, c3


def philox4x32(counter: object, key: object) -> np.ndarray:
    """Philox4x32-10 block function.

    Args:
        counter: (..., 4) unsigned 32-bit words.
        key: (..., 2) unsigned 32-bit words (broadcast against ``counter``).

    Returns:
        (..., 4) uint32 array.
    """
    c = _as_u64(counter, "counter", 32)
    k = _as_u64(key, "key", 32)
    if c.shape[-1:] != (4,) or k.shape[-1:] != (2,):
        raise ValueError(f"counter must have shape (..., 4) and key (..., 2), got {c.shape} and {k.shape}")
    out = _philox_words(c[..., 0], c[..., 1], c[..., 2], c[..., 3], k[..., 0], k[..., 1])
    return np.stack(out, axis=-1).astype(np.uint32)


def _block(seed: object, instance: object, step: object, draw: object):
    s = _as_u64(seed, "seed", 64)
    i = _as_u64(instance, "instance", 64)
    t = _as_u64(step, "step", 32)
    j = _as_u64(draw, "draw", 32)
    return _philox_words(j, t, i & _MASK32, i >> _S32, s & _MASK32, s >> _S32)


def philox_block(seed: object, instance: object, step: object, draw: object) -> np.ndarray:
    """The four 32-bit words (..., 4) (uint32) of Philox block ``(seed, instance, step, draw)``."""
    return np.stack(_block(seed, instance, step, draw), axis=-1).astype(np.uint32)


def _u53(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    a = (hi >> np.uint64(5)).astype(np.float64)
    b = (lo >> np.uint64(6)).astype(np.float64)
    return (a * _TWO_POW_26 + b) * _TWO_POW_M53


def uniform(seed: object, instance: object, step: object, draw: object) -> np.ndarray:
    """53-bit uniform double in ``[0, 1)`` for each (broadcast) ``(seed, instance, step, draw)``."""
    x0, x1, _, _ = _block(seed, instance, step, draw)
    return _u53(x0, x1)


def randint(seed: object, instance: object, step: object, draw: object, n: object) -> np.ndarray:
    """Integer in ``[0, n)`` (int64) for each ``(seed, instance, step, draw)``; ``1 <= n < 2**32``."""
    nn = _as_u64(n, "n", 32)
    if nn.size and nn.min() < 1:
        raise ValueError("n must be at least 1")
    x0, x1, _, _ = _block(seed, instance, step, draw)
    # floor((x0 * 2**32 + x1) * n / 2**64) without 128-bit integers; no term overflows 64 bits.
    return ((x0 * nn + ((x1 * nn) >> _S32)) >> _S32).astype(np.int64)


def _log_unit(x: np.ndarray) -> np.ndarray:
    """log(x) for x in (0, 1], libm-free (see module docstring)."""
    mant, e = np.frexp(x)
    small = mant < SQRT_HALF
    mant = np.where(small, mant * 2.0, mant)
    ef = e.astype(np.float64) - np.where(small, 1.0, 0.0)
    f = mant - 1.0
    s = f / (2.0 + f)
    s2 = s * s
    p = ATANH_COEFS[-1]
    for coef in ATANH_COEFS[-2::-1]:
        p = coef + s2 * p
    atanh2 = 2.0 * s + 2.0 * s * (s2 * p)
    return ef * LN2_HI + (ef * LN2_LO + atanh2)


def _sincos_halfpi(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sin(pi/2 r), cos(pi/2 r)) for r in [0, 1/2]."""
    x = r * HALF_PI
    x2 = x * x
    ps = SIN_COEFS[-1]
    for coef in SIN_COEFS[-2::-1]:
        ps = coef + x2 * ps
    pc = COS_COEFS[-1]
    for coef in COS_COEFS[-2::-1]:
        pc = coef + x2 * pc
    return x + x * (x2 * ps), 1.0 + x2 * pc


def _cos_quadrant(u: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """cos(2 pi u - shift * pi/2) for u in [0, 1) (a multiple of 2**-53) and integer shift in {0, 1}."""
    v = 4.0 * u
    q = np.floor(v)
    r = v - q
    flip = r > 0.5
    s, c = _sincos_halfpi(np.where(flip, 1.0 - r, r))
    cr = np.where(flip, s, c)
    sr = np.where(flip, c, s)
    qq = (q.astype(np.int64) + 3 * shift) & 3
    return np.where(qq == 0, cr, np.where(qq == 1, -sr, np.where(qq == 2, -cr, sr)))


def normal(seed: object, instance: object, step: object, draw: object) -> np.ndarray:
    """Standard normal (float64) by Box-Muller for each ``(seed, instance, step, draw)``."""
    j = _as_u64(draw, "draw", 32)
    x0, x1, x2, x3 = _block(seed, instance, step, j >> np.uint64(1))
    u1 = _u53(x0, x1)
    u2 = _u53(x2, x3)
    rho = np.sqrt(-2.0 * _log_unit(1.0 - u1))
    parity = np.broadcast_to((j & np.uint64(1)).astype(np.int64), rho.shape)
    return rho * _cos_quadrant(u2, parity)


def _c(x: float) -> str:
    return repr(float(x))


def _horner_c(var: str, coefs: tuple[float, ...], name: str) -> str:
    lines = [f"    double {name} = {_c(coefs[-1])};"]
    for coef in coefs[-2::-1]:
        lines.append(f"    {name} = {_c(coef)} + {var} * {name};")
    return "\n".join(lines)


#: CUDA C device functions implementing exactly the functions above (for CuPy RawKernel/NVRTC;
#: compile with ``--fmad=false``).  Also valid C++ for a host compiler once ``__device__`` is
#: defined away, which is how it is tested without a GPU.
CUDA_SOURCE = string.Template(
    r"""
__device__ __forceinline__ void tc_philox4x32(unsigned int c[4], unsigned int k0, unsigned int k1) {
    for (int r = 0; r < ${rounds}; ++r) {
        if (r) { k0 += ${w0}u; k1 += ${w1}u; }
        unsigned long long p0 = (unsigned long long)${m0}u * c[0];
        unsigned long long p1 = (unsigned long long)${m1}u * c[2];
        unsigned int n0 = (unsigned int)(p1 >> 32) ^ c[1] ^ k0;
        unsigned int n2 = (unsigned int)(p0 >> 32) ^ c[3] ^ k1;
        c[1] = (unsigned int)p1;
        c[3] = (unsigned int)p0;
        c[0] = n0;
        c[2] = n2;
    }
}

__device__ __forceinline__ void tc_block(unsigned long long seed, unsigned long long inst,
                                         unsigned int step, unsigned int draw, unsigned int x[4]) {
    x[0] = draw; x[1] = step; x[2] = (unsigned int)inst; x[3] = (unsigned int)(inst >> 32);
    tc_philox4x32(x, (unsigned int)seed, (unsigned int)(seed >> 32));
}

__device__ __forceinline__ double tc_u53(unsigned int hi, unsigned int lo) {
    return ((double)(hi >> 5) * 67108864.0 + (double)(lo >> 6)) * (1.0 / 9007199254740992.0);
}

__device__ __forceinline__ double tc_uniform(unsigned long long seed, unsigned long long inst,
                                             unsigned int step, unsigned int draw) {
    unsigned int x[4];
    tc_block(seed, inst, step, draw, x);
    return tc_u53(x[0], x[1]);
}

__device__ __forceinline__ unsigned int tc_randint(unsigned long long seed, unsigned long long inst,
                                                   unsigned int step, unsigned int draw, unsigned int n) {
    unsigned int x[4];
    tc_block(seed, inst, step, draw, x);
    unsigned long long nn = n;
    return (unsigned int)(((unsigned long long)x[0] * nn + (((unsigned long long)x[1] * nn) >> 32)) >> 32);
}

__device__ __forceinline__ double tc_log_unit(double x) {
    int e;
    double mant = frexp(x, &e);
    double ef = (double)e;
    if (mant < ${sqrt_half}) { mant = mant * 2.0; ef = ef - 1.0; }
    double f = mant - 1.0;
    double s = f / (2.0 + f);
    double s2 = s * s;
${atanh}
    double atanh2 = 2.0 * s + 2.0 * s * (s2 * pa);
    return ef * ${ln2_hi} + (ef * ${ln2_lo} + atanh2);
}

__device__ __forceinline__ double tc_cos_quadrant(double u, int shift) {
    double v = 4.0 * u;
    double q = floor(v);
    double r = v - q;
    int flip = r > 0.5;
    double rr = flip ? 1.0 - r : r;
    double x = rr * ${half_pi};
    double x2 = x * x;
${sin}
${cos}
    double s = x + x * (x2 * ps);
    double c = 1.0 + x2 * pc;
    double cr = flip ? s : c;
    double sr = flip ? c : s;
    int qq = ((int)q + 3 * shift) & 3;
    return qq == 0 ? cr : (qq == 1 ? -sr : (qq == 2 ? -cr : sr));
}

__device__ __forceinline__ double tc_normal(unsigned long long seed, unsigned long long inst,
                                            unsigned int step, unsigned int draw) {
    unsigned int x[4];
    tc_block(seed, inst, step, draw >> 1, x);
    double u1 = tc_u53(x[0], x[1]);
    double u2 = tc_u53(x[2], x[3]);
    double rho = sqrt(-2.0 * tc_log_unit(1.0 - u1));
    return rho * tc_cos_quadrant(u2, (int)(draw & 1u));
}
""").substitute(
    {
        "rounds": PHILOX_ROUNDS,
        "m0": hex(PHILOX_M0),
        "m1": hex(PHILOX_M1),
        "w0": hex(PHILOX_W0),
        "w1": hex(PHILOX_W1),
        "sqrt_half": _c(SQRT_HALF),
        "ln2_hi": _c(LN2_HI),
        "ln2_lo": _c(LN2_LO),
        "half_pi": _c(HALF_PI),
        "atanh": _horner_c("s2", ATANH_COEFS, "pa"),
        "sin": _horner_c("x2", SIN_COEFS, "ps"),
        "cos": _horner_c("x2", COS_COEFS, "pc"),
    }
)
