"""The ``ls_projection`` class's generator and exact membership: least squares with w* the projection
of w_0 onto the solution set, built so that every stored number is exact.

The projection of a float w_0 onto ``{w : A w = y}`` is a rational that is generally not a float, so
the generator picks the solution first and the start second:

* A (r x d), w* and a coefficient vector u lie on integer grids (powers of two times integers of a
  few bits), and ``y = A w*``, ``H = A^T A``, ``b = -A^T y``, ``f* = -1/2 ||y||^2`` and
  ``w_0 = w* + A^T u`` are computed in float64 *without rounding*: every sum of products is an
  integer times one power of two, and the bit budgets below keep each integer within 2^53.  Then
  H w* + b = 0 exactly and w_0 - w* lies exactly in range(A^T) = range(H), which is the definition
  of w* = P(w_0) (the solution set is w* + null(H), and w_0 - w* is orthogonal to null(H)).
* Bits: with ``D = ceil(log2 d)``, ``R = ceil(log2 r)`` and |ints| <= 2^b on each grid, a sum of d
  products of a bA-bit and a bw-bit integer is at most 2^(bA + bw + D); the budget ``by = (53 - R) // 2``
  for y keeps ``||y||^2 <= 2^(2 by + R) <= 2^53``; so ``bA + bw + D <= by``.  A gets up to 14 bits: the
  designed spectrum (condition numbers up to 1e3) moves by about 2^-14 ||A||, a fraction of a percent
  of its smallest singular value.
* ``w_0 = 0`` (pattern 1, the minimum-norm solution) needs w* in range(A^T).  Those patterns have
  condition number 1 (one nonzero eigenvalue level), so A is built with orthogonal rows of equal
  integer norm: ``A A^T = c I`` exactly (rows of ``G1 P G2``, each ``G`` block-diagonal in integer
  quaternion, complex and scalar blocks of one norm m, P a signed permutation).  Then w* = A^T z for an
  integer z, y = A w* = c z, and the level is exactly c (times a power of four) as designed.

The constants L and mu come from the stored H's float spectrum moved to the safe side by the
eigensolver's error bound, as in :func:`numeric.families.pl.least_squares_parts`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from kernels import RidgeQuadratic

from ..api import InstanceBatch, Knobs, Membership, haar_orthogonal
from ..exact_membership import fraction_matrix, fractions
from .pl import EPS, MinimizerProblem, _kappa
from .pl_exact import _const, quadratic_pl_exact, solve_exact

__all__ = ["gen_ls_projection", "ls_projection_member_exact"]


def _bits(m: int) -> int:
    """``ceil(log2 m)`` for m >= 1 (the extra bits a sum of m terms can need)."""
    return int(m - 1).bit_length()


def _to_grid(x: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """``x`` (n, ...) as integers of magnitude <= 2^bits (float64) times a per-instance power of two."""
    flat = np.abs(x).reshape(x.shape[0], -1).max(axis=1)
    _, e = np.frexp(np.where(flat > 0, flat, 1.0))
    step = np.ldexp(1.0, e - bits)
    return np.round(x / step.reshape((-1,) + (1,) * (x.ndim - 1))), step


@lru_cache(maxsize=4)
def _norm_reps(m: int) -> tuple[np.ndarray, np.ndarray]:
    """All integer 4-tuples and 2-tuples of squared norm m^2 (quaternion and complex blocks)."""
    vals = np.arange(-m, m + 1, dtype=np.float64)
    four = np.stack(np.meshgrid(vals, vals, vals, vals, indexing="ij"), -1).reshape(-1, 4)
    two = np.stack(np.meshgrid(vals, vals, indexing="ij"), -1).reshape(-1, 2)
    return four[(four * four).sum(1) == m * m], two[(two * two).sum(1) == m * m]


def _block_orthogonal(rng: np.random.Generator, n: int, d: int, m: int) -> np.ndarray:
    """(n, d, d) integer matrices G with ``G G^T = m^2 I``: block-diagonal left multiplications by
    random integer quaternions (4 x 4), complex numbers (2 x 2) and +-m (1 x 1) of norm m."""
    four, two = _norm_reps(m)
    G = np.zeros((n, d, d))
    i = 0
    while d - i >= 4:
        a, b, c, e = np.moveaxis(four[rng.integers(0, len(four), n)], 1, 0)
        G[:, i:i + 4, i:i + 4] = np.stack([np.stack([a, -b, -c, -e], 1), np.stack([b, a, -e, c], 1),
                                          np.stack([c, e, a, -b], 1), np.stack([e, -c, b, a], 1)], 1)
        i += 4
    if d - i >= 2:
        a, b = np.moveaxis(two[rng.integers(0, len(two), n)], 1, 0)
        G[:, i:i + 2, i:i + 2] = np.stack([np.stack([a, -b], 1), np.stack([b, a], 1)], 1)
        i += 2
    if d - i == 1:
        G[:, i, i] = m * rng.choice([-1.0, 1.0], n)
    return G


def _signed_permutation(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    P = np.zeros((n, d, d))
    for j in range(n):
        P[j, np.arange(d), rng.permutation(d)] = rng.choice([-1.0, 1.0], d)
    return P


def _one_level(rng: np.random.Generator, n: int, d: int, r: int) -> np.ndarray:
    """(n, r, d) integer A with ``A A^T = 65^2 I`` and |entries| <= 65 (Cauchy-Schwarz on G1 P G2)."""
    G = _block_orthogonal(rng, n, d, 5) @ _signed_permutation(rng, n, d) @ _block_orthogonal(rng, n, d, 13)
    G = _signed_permutation(rng, n, d) @ G @ _signed_permutation(rng, n, d)
    return G[:, :r, :]


def gen_ls_projection(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    """Rank-deficient (or full-rank) least squares with ``w* = P(w_0)`` exactly (module docstring);
    pattern 1 starts at ``w_0 = 0`` (then w* is the minimum-norm solution)."""
    d = k.dim
    r = d if (k.pattern % 3 == 0 or d == 1) else int(rng.integers(1, d))
    D, R = _bits(d), _bits(r)
    L = 10.0 ** k.log_scale
    yscale = 10.0 ** rng.uniform(-1.0, 1.0, (n, 1))
    if k.pattern % 4 == 1:
        A_int = _one_level(rng, n, d, r)
        c = 65.0 ** 2
        bz = (28 - R) // 2  # |y| = c |z| with c^2 < 2^25: ||y||^2 <= 2^(25 + 2 bz + R) <= 2^53
        z = np.round(rng.uniform(-1.0, 1.0, (n, r)) * 2.0 ** bz)
        sA = 2.0 ** np.round(0.5 * np.log2(L / c))  # A A^T = c sA^2 I, near the designed L
        # y = c sA^2 sz z near yscale: sz a power of two per instance
        sz = 2.0 ** np.round(np.log2(yscale[:, 0] / (c * sA * sA * 2.0 ** bz)))
        A = A_int * sA
        wstar = np.einsum("nri,nr->ni", A, z * sz[:, None])  # exact: integers below 2^(7 + bz + R)
        w0 = np.zeros((n, d))
    else:
        kappa = _kappa(rng, n, k)
        lam = L * np.exp(-np.log(kappa)[:, None] * rng.random((n, r)))
        lam[:, 0] = L
        if r > 1:
            lam[:, -1] = L / kappa
        V = haar_orthogonal(rng, n, d)[:, :, :r]
        by = (53 - R) // 2
        bA = min(14, by - D - 8)
        bw = by - D - bA
        A_int, sA_n = _to_grid(np.sqrt(lam)[:, :, None] * np.swapaxes(V, 1, 2), bA)
        A = A_int * sA_n[:, None, None]
        w_int, sw = _to_grid(rng.standard_normal((n, d)) * yscale / np.sqrt(L), bw)
        wstar = w_int * sw[:, None]
        bu = 20
        u = np.round(rng.uniform(-1.0, 1.0, (n, r)) * 2.0**bu)
        Atu = np.einsum("nri,nr->ni", A_int, u)  # integers <= 2^(bA + bu + R)
        big = np.abs(Atu).max(axis=1) * sA_n
        # A^T u's grid sA su against w*'s grid sw: e = log2(sw / (sA su)) kept where both sums fit 53 bits
        target = 10.0 ** k.log_w0 / np.where(big > 0, big, 1.0)
        e = np.log2(sw / sA_n) - np.round(np.log2(target))
        e = np.clip(e, -(52 - bA - bu - R), 52 - bw)
        su = sw / sA_n * 2.0 ** -e
        w0 = wstar + Atu * (sA_n * su)[:, None]  # exact: one grid, integers within 2^53
    y = np.einsum("nri,ni->nr", A, wstar)  # exact (module docstring)
    H = np.einsum("nri,nrj->nij", A, A)
    b = -np.einsum("nri,nr->ni", A, y)
    f_star = -0.5 * np.sum(y * y, axis=1)
    ev = np.linalg.eigvalsh(H)
    err = 64 * d * EPS * ev[:, -1]
    L_safe = np.nextafter(ev[:, -1] + err, np.inf)
    mu = np.nextafter(2.0 * np.nextafter(ev[:, d - r] - err, -np.inf), -np.inf)
    problem = MinimizerProblem(RidgeQuadratic.quadratic(H, b), wstar)
    return InstanceBatch("ls_projection", problem, w0,
                         {"L": L_safe, "mu": mu, "f_star": f_star, "d": np.full(n, float(d))})


def ls_projection_member_exact(batch: InstanceBatch) -> Membership:
    """``ls_projection`` decided exactly on the stored floats: the least-squares PL conditions on
    (H, b, L, mu, f_star) (:func:`numeric.families.pl_exact.quadratic_pl_exact`), ``H w* + b = 0``
    (w* a solution) and ``H x = w_0 - w*`` solvable (w_0 - w* in range(H), the orthogonal complement
    of null(H): w* is the point of the solution set ``w* + null(H)`` closest to w_0)."""
    rq = batch.problem.ridge
    if rq.ridges:
        return Membership(False, "exact", "not a least-squares instance (the problem has ridge terms)")
    H = fraction_matrix(np.asarray(rq.A, dtype=np.float64)[0])
    b = fractions(np.asarray(rq.b, dtype=np.float64)[0])
    why = quadratic_pl_exact(H, b, _const(batch, "L"), _const(batch, "mu"), _const(batch, "f_star"))
    if why:
        return Membership(False, "exact", why)
    ws = fractions(np.asarray(batch.problem.wstar, dtype=np.float64)[0])
    w0 = fractions(np.asarray(batch.w0, dtype=np.float64)[0])
    if any(sum((h * x for h, x in zip(row, ws)), bi) != 0 for row, bi in zip(H, b)):
        return Membership(False, "exact", "w* is not a minimizer: H w* + b != 0")
    if solve_exact(H, [a - s for a, s in zip(w0, ws)]) is None:
        return Membership(False, "exact", "w_0 - w* is not in range(H): w* is not the solution closest to w_0")
    return Membership(True, "exact")
