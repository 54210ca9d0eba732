"""kernels.cp.planes: the bit-plane estimator of cross-predictability (shared inputs, every pair)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import kernels
from kernels import cp as kcp
from kernels.cp import planes

NUMBA = "numba" in kernels.available_backends()
BACKENDS = ["numpy", "numba"] if NUMBA else ["numpy"]
MASK64 = (1 << 64) - 1


def _splitmix64(state: int, count: int) -> list[int]:
    """SplitMix64 (Steele, Lea, Flood 2014) as published: state += golden gamma; output = mix(state)."""
    out = []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        out.append(z ^ (z >> 31))
    return out


def test_plane_words_are_the_splitmix64_stream_of_the_key():
    assert int(planes.mix64(np.uint64(0x9E3779B97F4A7C15))) == 0xE220A8397B1DCDAF  # SplitMix64(0), first output
    key = int(planes._key(7, 123))
    P = planes.plane_words(7, 123, 64, 3)  # word w of plane i = output number 64 w + i + 1
    assert P.T.reshape(-1).tolist() == _splitmix64(key, 192)
    assert np.array_equal(planes.plane_words(7, 123, 5, 3), P[:5])  # independent of n
    assert not np.array_equal(planes.plane_words(7, 124, 5, 3), P[:5])


def _explicit_D(masks: np.ndarray, n: int, words: int, seed: int, ident: int) -> np.ndarray:
    """Disagreements from the definition: unpack every input, evaluate each parity on it (Python ints)."""
    P = planes.plane_words(seed, ident, n, words)
    xs = [sum(((int(P[i, j // 64]) >> (j % 64)) & 1) << i for i in range(n)) for j in range(64 * words)]
    vals = [[bin(int(s) & x).count("1") & 1 for x in xs] for s in masks]
    M = len(masks)
    D = np.zeros((M, M), dtype=np.int64)
    for a in range(M):
        for b in range(a + 1, M):
            D[a, b] = sum(u != v for u, v in zip(vals[a], vals[b]))
    return D


@pytest.mark.parametrize("backend", BACKENDS)
def test_disagreements_match_their_definition(backend):
    g = np.random.default_rng(3)
    for n, M, words in ((1, 2, 1), (5, 9, 2), (13, 6, 3), (30, 5, 1)):
        masks = g.integers(0, 1 << n, M)
        masks[0] = masks[-1]  # a repeated function: D = 0
        D = planes.disagreements(masks, n, words, seed=11, instance_id=5, backend=backend)
        assert np.array_equal(D, _explicit_D(masks, n, words, 11, 5)), (n, M, words)
        assert D[0, M - 1] == 0


@pytest.mark.skipif(not NUMBA, reason="numba not installed")
def test_numba_counts_equal_numpy_across_blocks_and_parts():
    from kernels.cp import planes_numba

    g = np.random.default_rng(4)
    for n, M, words in ((24, 40, 1), (30, 33, 63), (30, 20, 64), (17, 300, 130), (64, 7, 200)):
        masks = g.integers(0, 1 << min(n, 62), M)
        a = planes.disagreements(masks, n, words, seed=2, instance_id=9)
        b = planes.disagreements(masks, n, words, seed=2, instance_id=9, backend="numba")
        assert np.array_equal(a, b), (n, M, words)
    # the parallel path (work above SERIAL_WORK) and the serial path agree
    masks = g.integers(0, 1 << 30, 200)
    words = 64 * (planes_numba.SERIAL_WORK // (200 * 200) + 2)
    par = planes.disagreements(masks, 30, words, seed=1, instance_id=0, backend="numba")
    ser = np.zeros_like(par)
    planes_numba._part(masks.astype(np.uint64), 30, words, planes._key(1, 0), 0, words // 64, ser)
    assert np.array_equal(par, ser)


def test_estimate_is_the_mean_u_statistic():
    D = np.array([[0, 3, 64], [0, 0, 32], [0, 0, 0]])
    L = 64
    terms = [Fraction((L - 2 * d) ** 2 - L, L * (L - 1)) for d in (3, 64, 32)]
    assert planes.estimate(D, 1) == sum(terms) / 3


def test_validation():
    with pytest.raises(ValueError):
        planes.disagreements([1], 4, 1, seed=0, instance_id=0)
    with pytest.raises(ValueError):
        planes.disagreements([1, 16], 4, 1, seed=0, instance_id=0)  # 16 is not a subset of 4 bits
    with pytest.raises(ValueError):
        planes.disagreements([1, 2], 4, 0, seed=0, instance_id=0)
    with pytest.raises(ValueError):
        planes.disagreements([1, -2], 4, 1, seed=0, instance_id=0)


def _bernstein_half(x: np.ndarray, lo: float, hi: float, delta: float) -> float:
    """Two-sided empirical Bernstein half-width (Maurer and Pontil 2009, Thm 4, each side at delta/2)
    for the mean of i.i.d. values in [lo, hi]."""
    m = x.size
    lg = math.log(4 / delta)
    return math.sqrt(2 * np.var(x, ddof=1) * lg / m) + 7 * (hi - lo) * lg / (3 * (m - 1))


@pytest.mark.parametrize("kind, n, k", [(0, 8, 0), (1, 8, 2), (2, 8, 0)])
def test_estimator_is_unbiased_for_the_exact_cp(kind, n, k):
    """Independent replicates (instance ids) of the estimate are i.i.d. in [-1/(L-1), 1]; their mean
    lies within the empirical Bernstein half-width (confidence 1 - 1e-6) of the exact CP, computed by
    enumeration (kernels.cp.cp_enumerate).  The same data rule out the plain (T/L)^2, whose bias
    (1 - CP_pair)/L is larger than the half-width here."""
    backend = BACKENDS[-1]
    R, M, words = 4000, 16, 1
    L = 64 * words
    N = kcp._class_count(kind, n, k)
    exact, _ = kcp.cp_enumerate(kcp.parity_table(kcp.unrank_mask(kind, n, k, 0, np.arange(N)), n))
    est = np.empty(R)
    naive = np.empty(R)
    iu = np.triu_indices(M, 1)
    for r in range(R):
        masks = planes.draw_masks(kind, n, k, 0, M, 21, r)
        D = planes.disagreements(masks, n, words, seed=21, instance_id=r, backend=backend)
        est[r] = float(planes.estimate(D, words))
        naive[r] = np.mean(((L - 2 * D[iu]) / L) ** 2)
    half = _bernstein_half(est, -1 / (L - 1), 1.0, 1e-6)
    assert abs(est.mean() - float(exact)) <= half, (est.mean(), float(exact), half)
    assert abs(naive.mean() - float(exact)) > half
