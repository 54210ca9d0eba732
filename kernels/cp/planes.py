"""Bit-plane estimator of the cross-predictability of a class of parities (shared inputs).

``cp.sample`` (:func:`kernels.cp.cp_sample`) draws fresh inputs for every pair of functions, so its
cost is the random bits.  This estimator shares one sample of ``L = 64 * words`` uniform inputs among
``M`` functions ``F_1..F_M`` drawn independently from the class, and uses every pair ``a < b``:

* the inputs are held as bit-planes: word ``w`` of plane ``i`` holds bit ``i`` of inputs
  ``64 w .. 64 w + 63`` (bit 1 means ``x_i = -1``); plane words are SplitMix64 outputs of a counter,
  ``plane(i, w) = mix64(key + GOLDEN (64 w + i + 1))`` with ``key = mix64(seed ^ mix64(id + GOLDEN))``
  (:func:`plane_words`), so every word depends only on ``(seed, id, w, i)``: not on n, the thread
  count or the block size;
* a parity ``chi_S`` on those 64 inputs is one word, the XOR of the planes in ``S`` (bit 1 = value -1);
* ``F_a`` and ``F_b`` disagree on ``popcount(word_a XOR word_b)`` of them, so the disagreement count
  ``D_ab`` over all L inputs costs one XOR and one popcount per 64 sample-pairs.

With ``T_ab = L - 2 D_ab = sum_x F_a(x) F_b(x)``, ``(T_ab^2 - L) / (L (L - 1))`` is unbiased for
``(E_X F_a F_b)^2`` given the pair (the U-statistic of :func:`kernels.cp.cp_sample`), and ``F_a``,
``F_b`` (a != b) are independent draws, so the mean over the ``M (M - 1) / 2`` pairs is unbiased for
CP (:func:`estimate`).  Its terms are dependent (shared inputs and functions): the plain mean's
variance is not the per-term variance over the pair count, so an error bound needs independent
replicates (different instance ids), as the tests do.

Backends: ``"numpy"`` (this module, :func:`planes_reference`: the same words and counts, for tests)
and ``"numba"`` (:mod:`kernels.cp.planes_numba`, hardware popcount, ``prange`` over blocks of inputs).
Counts are exact integers, identical on both.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from ..backend import get_kernel, select

__all__ = ["GOLDEN", "MAX_FUNCTIONS", "disagreements", "draw_masks", "estimate", "mix64", "plane_words",
           "planes_reference", "sample_cp"]

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
#: At most this many functions per call: D is an (M, M) int64 matrix per block of work.
MAX_FUNCTIONS = 4096
#: Largest L = 64 words handled: T_ab^2 stays below 2**62 and the sums in :func:`estimate` are exact.
MAX_WORDS = 1 << 24


def mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's output function (Stafford's variant 13) on uint64 arrays (wrapping arithmetic)."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):  # uint64 arithmetic is meant to wrap
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _key(seed: int, instance_id: int) -> np.uint64:
    with np.errstate(over="ignore"):
        return np.uint64(mix64(np.asarray(np.uint64(seed) ^ mix64(np.asarray(np.uint64(instance_id) + GOLDEN)))))


def plane_words(seed: int, instance_id: int, n: int, words: int) -> np.ndarray:
    """(n, words) uint64 bit-planes of the ``64 words`` inputs of ``(seed, instance_id)``."""
    key = _key(seed, instance_id)
    ctr = np.arange(words, dtype=np.uint64)[None, :] * np.uint64(64) + np.arange(n, dtype=np.uint64)[:, None]
    with np.errstate(over="ignore"):
        return mix64(key + GOLDEN * (ctr + np.uint64(1)))


def function_words(masks: np.ndarray, planes: np.ndarray) -> np.ndarray:
    """(M, words) uint64: word of parity ``chi_S`` (bit 1 = value -1) = XOR of the planes in S."""
    n = planes.shape[0]
    out = np.zeros((masks.shape[0], planes.shape[1]), dtype=np.uint64)
    for i in range(n):
        sel = ((masks >> np.uint64(i)) & np.uint64(1)).astype(bool)
        out[sel] ^= planes[i]
    return out


def planes_reference(masks: np.ndarray, n: int, words: int, seed: int, instance_id: int) -> np.ndarray:
    """``cp.planes`` on NumPy: D (M, M) int64, ``D[a, b]`` for a < b, zero elsewhere."""
    F = function_words(masks, plane_words(seed, instance_id, n, words))
    M = F.shape[0]
    D = np.zeros((M, M), dtype=np.int64)
    for a in range(M - 1):
        D[a, a + 1:] = np.bitwise_count(F[a + 1:] ^ F[a]).sum(axis=1, dtype=np.int64)
    return D


def disagreements(masks: Any, n: int, words: int, *, seed: int, instance_id: int, backend: str = "numpy") -> np.ndarray:
    """Disagreement counts ``D[a, b]`` (a < b; zero on and below the diagonal) of the parities with bit
    masks ``masks`` (M,) on the ``L = 64 words`` inputs of ``(seed, instance_id)`` (see the module)."""
    name = select("cp.planes", backend, np.float64)  # exact integer counts; the dtype is nominal
    m = np.asarray(masks)
    if m.ndim != 1 or not 2 <= m.shape[0] <= MAX_FUNCTIONS or not np.issubdtype(m.dtype, np.integer):
        raise ValueError(f"masks must be a 1-d integer array of 2..{MAX_FUNCTIONS} bit masks")
    n, words = int(n), int(words)
    if not 1 <= n <= 64:
        raise ValueError(f"n must be in [1, 64], got {n}")
    if not 1 <= words <= MAX_WORDS:
        raise ValueError(f"words must be in [1, {MAX_WORDS}], got {words}")
    if np.any(m < 0) or (n < 64 and np.any(m.astype(np.uint64) >> np.uint64(n))):
        raise ValueError(f"masks must be subsets of the n = {n} input bits")
    if not 0 <= int(seed) < 1 << 64 or not 0 <= int(instance_id) < 1 << 64:
        raise ValueError("seed and instance_id must be integers in [0, 2**64)")
    u = np.ascontiguousarray(m.astype(np.uint64))
    return get_kernel("cp.planes", name)(u, n, words, int(seed), int(instance_id))


def estimate(D: np.ndarray, words: int) -> Fraction:
    """The unbiased CP estimate from the counts: mean over a < b of ``(T^2 - L) / (L (L - 1))``,
    ``T = L - 2 D[a, b]``, ``L = 64 words``; exact rational arithmetic."""
    D = np.asarray(D, dtype=np.int64)
    M = D.shape[0]
    L = 64 * int(words)
    iu = np.triu_indices(M, 1)
    T = L - 2 * D[iu]
    pairs = M * (M - 1) // 2
    # int64 when the sum cannot overflow, else Python integers
    num = int(np.sum(T * T, dtype=np.int64)) if pairs * L * L < 1 << 62 else sum(int(t) * int(t) for t in T)
    return Fraction(num - pairs * L, pairs * L * (L - 1))


def draw_masks(kind: int, n: int, k: int, point: int, functions: int, seed: int, instance_id: int) -> np.ndarray:
    """Bit masks of ``functions`` independent uniform draws from the class (``kind``, ``k``, ``point`` as in
    :func:`kernels.cp.cp_sample`): function ``j`` is number ``rng.randint(seed, id, 0, j, N)`` of the class
    (:func:`kernels.cp.unrank_mask`).  Class sizes above 2**32 - 1 are not supported (n <= 31 parities)."""
    from .. import rng  # noqa: PLC0415
    from . import _class_count, unrank_mask  # noqa: PLC0415 - kernels.cp does not import this module

    N = _class_count(kind, n, k)
    if N >= 1 << 32:
        raise ValueError(f"class size {N} too large for the index draw (at most 2**32 - 1)")
    idx = rng.randint(seed, instance_id, 0, np.arange(functions), N)
    return unrank_mask(kind, n, k, point, idx)


def sample_cp(kind: int, n: int, k: int, point: int, functions: int, words: int, *, seed: int, instance_id: int,
              backend: str = "numpy") -> Fraction:
    """Unbiased bit-plane estimate of the CP of a class of parities: ``functions`` draws
    (:func:`draw_masks`), ``64 words`` shared inputs, every pair (:func:`estimate`)."""
    masks = draw_masks(kind, n, k, point, functions, seed, instance_id)
    D = disagreements(masks, n, words, seed=seed, instance_id=instance_id, backend=backend)
    return estimate(D, words)
