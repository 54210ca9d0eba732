"""Instance classes of the momentum example: each with constructive generators (draw the constants,
then build a member that has them), an independent membership check that certifies the constants
from the arrays alone, encode/decode of one instance, and a continuous parametrisation for
thmcheck's polisher.  Every member has its minimiser ``x*`` and minimum ``f*`` stored exactly.

* ``strongly_convex_quadratic`` -- ``1/2 (x - x*)^T A (x - x*) + f*``, spectrum of A in [mu, L];
* ``smooth_convex`` -- ``1/2 e^T A e + sum_j c_j h_delta_j(r_j^T e) + f*`` (``e = x - x*``, A PSD,
  ``c >= 0``, Huber ``h``), convex and L-smooth with ``lambda_max(A + R^T diag(c) R) <= L``;
* ``smooth_strongly_convex_pwq`` -- the generic class "f is L-smooth and mu-strongly convex", drawn as
  separable piecewise-quadratic C^{1,1} functions whose curvature on every piece lies in [mu, L]
  (random curvature values, random choices among {mu, L}, mixtures, single quadratics; few or many
  pieces; free breakpoints).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from numeric.api import (
    Family,
    InstanceBatch,
    InstanceClass,
    Knobs,
    combine_checks,
    haar_orthogonal,
)

from .exact import convex_member_exact, pwq_member_exact, quadratic_member_exact
from .kernels import QuadHuber, SeparablePWQ

__all__ = [
    "CLASSES",
    "SMOOTH_CONVEX",
    "SMOOTH_STRONGLY_CONVEX_PWQ",
    "STRONGLY_CONVEX_QUADRATIC",
    "pwq_from_curvatures",
]

EPS = np.finfo(np.float64).eps
SHRINK = 1e-9  # curvatures are built inside [mu (1 + SHRINK), L (1 - SHRINK)]: exact membership
# (spectra of rotated matrices sit _rounding_margin(d) inside theirs, for the same reason)
LOG_KAPPA = (np.log10(2.0), 2.0)  # condition numbers drawn log-uniformly in [2, 100]


def _kappa(rng: np.random.Generator, n: int) -> np.ndarray:
    return 10.0 ** rng.uniform(*LOG_KAPPA, n)


def _minimiser(rng: np.random.Generator, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """x* (n, d), zero for a quarter of the batch, and f* (n,), zero for half of it."""
    xs = rng.standard_normal((n, d)) * 10.0 ** rng.uniform(-1.0, 1.0, (n, 1)) * (rng.random((n, 1)) < 0.75)
    fs = rng.standard_normal(n) * (rng.random(n) < 0.5)
    return xs, fs


def _rounding_margin(d: int) -> float:
    """Relative margin (to the largest eigenvalue) by which a spectrum is built inside its interval
    so that ``_sym``'s stored matrix has its exact spectrum inside too: the Haar factor is orthogonal
    to about d eps, and each entry of ``q diag(lam) q^T`` is a d-term sum rounded to within (d + 1) eps
    of the largest eigenvalue, so the stored matrix is within about (d^2 + 2 d) eps of it in norm
    (Weyl); 4 (d + 2)^2 eps covers both with room.  The exact membership hooks check the result."""
    return 4.0 * (d + 2) ** 2 * EPS


def _sym(rng: np.random.Generator, lam: np.ndarray) -> np.ndarray:
    n, d = lam.shape
    q = haar_orthogonal(rng, n, d)
    a = np.einsum("nij,nj,nkj->nik", q, lam, q)
    return 0.5 * (a + np.swapaxes(a, 1, 2))


def _no_ridges(n: int, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros((n, 0, d)), np.zeros((n, 0)), np.ones((n, 0))


def _eig_slack(A: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Backward error of a symmetric eigensolver: about d * eps * ||A||; allow 16 times that."""
    return 16 * A.shape[-1] * EPS * scale


# ------------------------------------------------------------------------ strongly convex quadratics

SC_PATTERNS = ("both_ends", "identity", "top", "ends_only", "bottom", "all_mu", "clustered_top", "uniform")


def _sc_spectrum(rng: np.random.Generator, mu: np.ndarray, L: np.ndarray, d: int, pattern: str) -> np.ndarray:
    n = mu.shape[0]
    lo, hi = mu[:, None], L[:, None]
    lam = lo + rng.random((n, d)) * (hi - lo)
    if pattern == "both_ends":
        lam[:, 0] = L
        if d > 1:
            lam[:, 1] = mu
    elif pattern == "identity":
        lam = np.broadcast_to(hi, (n, d)).copy()
    elif pattern == "top":
        lam[:, 0] = L
    elif pattern == "ends_only":
        lam = np.where(rng.random((n, d)) < 0.5, lo, hi)
    elif pattern == "bottom":
        lam[:, 0] = mu
    elif pattern == "all_mu":
        lam = np.broadcast_to(lo, (n, d)).copy()
    elif pattern == "clustered_top":
        lam = np.maximum(lo, hi * (1.0 - 0.05 * rng.random((n, d))))
    return lam


def _sc_quadratic(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    d = k.dim
    L = np.full(n, 10.0 ** k.log_scale)
    mu = L / _kappa(rng, n)
    # eigenvalues "at" mu or L sit the rounding margin inside, so the stored A is in the class exactly
    gap = (_rounding_margin(d) * L)[:, None]
    lam = np.clip(_sc_spectrum(rng, mu, L, d, SC_PATTERNS[k.pattern % len(SC_PATTERNS)]), mu[:, None] + gap, L[:, None] - gap)
    A = _sym(rng, lam)
    xs, fs = _minimiser(rng, n, d)
    w0 = xs + rng.standard_normal((n, d)) * 10.0 ** k.log_w0
    problem = QuadHuber(A, xs, fs, *_no_ridges(n, d))
    return InstanceBatch("sc_quadratic", problem, w0, {"L": L, "mu": mu, "d": np.full(n, float(d))})


def _sc_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    p = batch.problem
    n = p.size
    L, mu = batch.attrs["L"], batch.attrs["mu"]
    A = np.asarray(p.A, dtype=np.float64)
    finite = np.isfinite(A).all(axis=(1, 2)) & np.isfinite(p.xs).all(axis=1) & np.isfinite(p.fs)
    sym = np.all(A == np.swapaxes(A, 1, 2), axis=(1, 2))
    lam = np.linalg.eigvalsh(np.where(finite[:, None, None], A, 0.0))
    slack = _eig_slack(A, L)
    return combine_checks(n, [
        (finite, "non-finite problem data"),
        ((mu > 0) & (mu <= L), "constants must satisfy 0 < mu <= L"),
        (np.full(n, p.c.shape[1] == 0), "a quadratic has no ridge terms"),
        (sym, "A is not symmetric"),
        (lam[:, 0] >= mu - slack, "an eigenvalue of A is below mu"),
        (lam[:, -1] <= L + slack, "an eigenvalue of A is above L"),
    ])


@dataclass(frozen=True)
class QuadraticParametrisation:
    """2-D strongly convex quadratics at L = 1: theta = (log10 kappa, two eigenvalue positions in
    [0, 1] of [mu, L], the eigenbasis angle, the direction and log10 length of x_0 - x*)."""

    def size(self, horizon: int) -> int:
        return 6

    def bounds(self, P: int) -> tuple[np.ndarray, np.ndarray]:
        return (np.array([LOG_KAPPA[0], 0.0, 0.0, 0.0, 0.0, -1.0]),
                np.array([LOG_KAPPA[1], 1.0, 1.0, np.pi, 2 * np.pi, 1.0]))

    def sample(self, rng: np.random.Generator, n: int, P: int) -> np.ndarray:
        lo, hi = self.bounds(P)
        theta = lo + rng.random((n, P)) * (hi - lo)
        theta[::2, 1] = 1.0  # half the starts with an eigenvalue at L
        return theta

    def resize(self, theta: np.ndarray, P: int) -> np.ndarray:
        return np.asarray(theta, dtype=np.float64)[:, :P]

    def build(self, theta: np.ndarray) -> InstanceBatch:
        lo, hi = self.bounds(6)
        theta = np.clip(np.asarray(theta, dtype=np.float64), lo, hi)
        n = theta.shape[0]
        L = np.ones(n)
        mu = 10.0 ** -theta[:, 0]
        gap = _rounding_margin(2) * L[:, None]  # see _sc_quadratic: eigenvalues inside [mu, L] exactly
        lam = np.clip(mu[:, None] + theta[:, 1:3] * (L - mu)[:, None], mu[:, None] + gap, L[:, None] - gap)
        c, s = np.cos(theta[:, 3]), np.sin(theta[:, 3])
        Q = np.stack([np.stack([c, -s], 1), np.stack([s, c], 1)], 1)
        A = np.einsum("nij,nj,nkj->nik", Q, lam, Q)
        A = 0.5 * (A + np.swapaxes(A, 1, 2))
        r = 10.0 ** theta[:, 5]
        w0 = np.stack([np.cos(theta[:, 4]), np.sin(theta[:, 4])], 1) * r[:, None]
        problem = QuadHuber(A, np.zeros((n, 2)), np.zeros(n), *_no_ridges(n, 2))
        return InstanceBatch("sc_quadratic_polished", problem, w0, {"L": L, "mu": mu, "d": np.full(n, 2.0)})


def _qh_encode(problem: QuadHuber, i: int) -> dict[str, Any]:
    return {"A": problem.A[i].tolist(), "xs": problem.xs[i].tolist(), "fs": float(problem.fs[i]),
            "R": problem.R[i].tolist(), "c": problem.c[i].tolist(), "delta": problem.delta[i].tolist()}


def _qh_decode(data: dict[str, Any]) -> QuadHuber:
    d = len(data["xs"])
    f = np.float64
    return QuadHuber(A=np.asarray(data["A"], dtype=f).reshape(1, d, d), xs=np.asarray(data["xs"], dtype=f).reshape(1, d),
                     fs=np.asarray([data["fs"]], dtype=f), R=np.asarray(data["R"], dtype=f).reshape(1, -1, d),
                     c=np.asarray(data["c"], dtype=f).reshape(1, -1), delta=np.asarray(data["delta"], dtype=f).reshape(1, -1))


STRONGLY_CONVEX_QUADRATIC = InstanceClass(
    name="strongly_convex_quadratic",
    text="f(x) = 1/2 (x - x*)^T A (x - x*) + f* with every eigenvalue of A in [mu, L]",
    families=(Family(name="sc_quadratic", generate=_sc_quadratic,
                     doc="Haar-rotated spectra in [mu, L] (kappa in [2, 100]); patterns put eigenvalues at both "
                         "ends, at L only, at mu only, in {mu, L}, clustered near L, or uniform"),),
    attributes=("L", "mu", "d"),
    member=_sc_member,
    member_exact=quadratic_member_exact,
    encode=_qh_encode,
    decode=_qh_decode,
    problem_type=QuadHuber,
    parametrisation=QuadraticParametrisation(),
)


# ------------------------------------------------------------------------- smooth convex (Huber)

SHARES = (0.0, 0.25, 0.5, 0.9, 1.0)  # share of the curvature budget given to the quadratic part


def _convex_unit_spectrum(rng: np.random.Generator, n: int, d: int, pattern: int) -> np.ndarray:
    """Eigenvalues in [0, 1], lambda_max = 1; "zero" ones are the rounding margin, so A is PSD exactly."""
    lam = rng.random((n, d))
    if pattern % 3 == 1:  # nearly rank deficient: some eigenvalues at the margin
        lam = np.where(rng.random((n, d)) < 0.5, 0.0, lam)
    elif pattern % 3 == 2:  # nearly {0, 1}
        lam = np.where(rng.random((n, d)) < 0.5, 0.0, 1.0)
    lam = np.maximum(lam, _rounding_margin(d))
    lam[:, 0] = 1.0
    return lam


def _smooth_convex(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    d = k.dim
    L = np.full(n, 10.0 ** k.log_scale)
    share = SHARES[k.pattern % len(SHARES)]
    A1 = _sym(rng, _convex_unit_spectrum(rng, n, d, k.pattern // len(SHARES)))
    m = 0 if share == 1.0 else 1 + int(rng.integers(0, 2 * d))
    R = rng.standard_normal((n, m, d)) / np.sqrt(d)
    c1 = rng.exponential(1.0, (n, m))
    scale0 = 10.0 ** k.log_w0
    # Huber widths on the scale of r^T (x0 - x*), so that trajectories cross the kinks.
    delta = scale0 * 10.0 ** rng.uniform(-2.0, 0.5, (n, m))
    if m:
        C1 = np.einsum("nki,nk,nkj->nij", R, c1, R)
        c1 = c1 / np.linalg.eigvalsh(C1)[:, -1][:, None]
    M = share * A1 + (1.0 - share) * (np.einsum("nki,nk,nkj->nij", R, c1, R) if m else 0.0)
    t = L * (1.0 - SHRINK) / np.linalg.eigvalsh(M)[:, -1]
    A = t[:, None, None] * share * A1
    A = 0.5 * (A + np.swapaxes(A, 1, 2))
    c = t[:, None] * (1.0 - share) * c1
    xs, fs = _minimiser(rng, n, d)
    w0 = xs + rng.standard_normal((n, d)) * scale0
    return InstanceBatch("quadratic_plus_huber", QuadHuber(A, xs, fs, R, c, delta), w0,
                         {"L": L, "d": np.full(n, float(d))})


def convex_certificate(problem: QuadHuber) -> tuple[np.ndarray, np.ndarray]:
    """From the arrays alone: the smallest eigenvalue of A (convexity needs it >= 0, with c >= 0) and
    ``lambda_max(A + R^T diag(c) R)``, an upper bound on every Hessian eigenvalue since the Huber
    function's second derivative lies in [0, 1]."""
    A = np.asarray(problem.A, dtype=np.float64)
    M = A + np.einsum("nki,nk,nkj->nij", problem.R, problem.c, problem.R) if problem.c.shape[1] else A
    return np.linalg.eigvalsh(A)[:, 0], np.linalg.eigvalsh(M)[:, -1]


def _convex_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    p = batch.problem
    n = p.size
    L = batch.attrs["L"]
    finite = (np.isfinite(p.A).all(axis=(1, 2)) & np.isfinite(p.xs).all(axis=1) & np.isfinite(p.fs)
              & np.isfinite(p.R).all(axis=(1, 2)) & np.isfinite(p.c).all(axis=1) & np.isfinite(p.delta).all(axis=1))
    ok_rows = finite[:, None, None]
    safe = QuadHuber(np.where(ok_rows, p.A, 0.0), p.xs, p.fs, np.where(ok_rows, p.R, 0.0),
                     np.where(finite[:, None], p.c, 0.0), p.delta)
    lam_min, top = convex_certificate(safe)
    slack = _eig_slack(p.A, L)
    return combine_checks(n, [
        (finite, "non-finite problem data"),
        (L > 0, "L must be positive"),
        (np.all(p.A == np.swapaxes(p.A, 1, 2), axis=(1, 2)), "A is not symmetric"),
        (np.all(p.c >= 0, axis=1), "a ridge weight c_j is negative (f would not be convex)"),
        (np.all(p.delta > 0, axis=1), "a Huber width is not positive"),
        (lam_min >= -slack, "A is not positive semidefinite (f would not be convex)"),
        (top <= L + slack, "certified curvature lambda_max(A + R^T diag(c) R) exceeds L"),
    ])


@dataclass(frozen=True)
class ConvexParametrisation:
    """1-D members at L = 1: ``a/2 x^2 + sum_{j<3} c_j h_{delta_j}(x)``; theta = (weights of a and the
    c_j in [0, 1], normalised to a total curvature of L; log10 delta_j in [-2, 1]; x_0 in [0.1, 10])."""

    ridges: int = 3

    def size(self, horizon: int) -> int:
        return 2 + 2 * self.ridges

    def bounds(self, P: int) -> tuple[np.ndarray, np.ndarray]:
        J = self.ridges
        return (np.concatenate([np.zeros(1 + J), np.full(J, -2.0), [0.1]]),
                np.concatenate([np.ones(1 + J), np.full(J, 1.0), [10.0]]))

    def sample(self, rng: np.random.Generator, n: int, P: int) -> np.ndarray:
        lo, hi = self.bounds(P)
        theta = lo + rng.random((n, P)) * (hi - lo)
        theta[::2, 0] = 0.0  # half the starts: pure Huber sums
        return theta

    def resize(self, theta: np.ndarray, P: int) -> np.ndarray:
        return np.asarray(theta, dtype=np.float64)[:, :P]

    def build(self, theta: np.ndarray) -> InstanceBatch:
        J = self.ridges
        lo, hi = self.bounds(self.size(0))
        theta = np.clip(np.asarray(theta, dtype=np.float64), lo, hi)
        n = theta.shape[0]
        w = theta[:, : 1 + J] + 1e-9
        w = w / w.sum(axis=1, keepdims=True) * (1.0 - SHRINK)
        problem = QuadHuber(w[:, :1, None].copy(), np.zeros((n, 1)), np.zeros(n), np.ones((n, J, 1)),
                            w[:, 1:].copy(), 10.0 ** theta[:, 1 + J : 1 + 2 * J])
        return InstanceBatch("huber_polished", problem, theta[:, -1:].copy(), {"L": np.ones(n), "d": np.ones(n)})


SMOOTH_CONVEX = InstanceClass(
    name="smooth_convex",
    text="f is convex and L-smooth with a minimiser x* (here 1/2 e^T A e + sum_j c_j huber_delta_j(r_j^T e) + f*, "
         "e = x - x*, A PSD, c >= 0, lambda_max(A + R^T diag(c) R) <= L)",
    families=(Family(name="quadratic_plus_huber", generate=_smooth_convex,
                     doc="PSD quadratic (full rank, nearly rank deficient or nearly {0, 1} spectrum: zero eigenvalues "
                         "lifted by the rounding margin) plus Huber ridges; the "
                         "pattern splits the curvature budget L between them (pure Huber sums included)"),),
    attributes=("L", "d"),
    member=_convex_member,
    member_exact=convex_member_exact,
    encode=_qh_encode,
    decode=_qh_decode,
    problem_type=QuadHuber,
    parametrisation=ConvexParametrisation(),
)


# -------------------------------------------------- L-smooth mu-strongly convex: piecewise quadratics

PIECES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)


def pwq_from_curvatures(z: np.ndarray, a: np.ndarray, m: np.ndarray, fs: np.ndarray) -> SeparablePWQ:
    """The separable piecewise quadratic with knots ``z`` (n, d, K+1), curvatures ``a`` (n, d, K+2)
    (left end piece, the K interior pieces, right end piece) and minimiser knot ``m`` (n, d):
    ``f'(z_m) = 0`` and ``f'`` integrates the curvatures outwards from it."""
    z = np.asarray(z, dtype=np.float64)
    m = np.asarray(m, dtype=np.int64)
    K1 = z.shape[2]
    step = a[..., 1:-1] * np.diff(z, axis=2)  # (n, d, K) change of f' across each interior piece
    j = np.arange(K1)[:, None]
    i = np.arange(K1 - 1)[None, :]
    mm = m[..., None, None]
    right = (i >= mm) & (i < j)
    left = (i >= j) & (i < mm)
    g = (np.where(right, step[..., None, :], 0.0) - np.where(left, step[..., None, :], 0.0)).sum(axis=3)
    return SeparablePWQ(z, g, a[..., 0].copy(), a[..., -1].copy(), m, np.asarray(fs, dtype=np.float64))


def _curvature_positions(rng: np.random.Generator, n: int, d: int, K: int, kinds: np.ndarray) -> np.ndarray:
    """Positions u in [0, 1] of each piece's curvature in [mu, L], one random kind per instance:
    0 uniform values, 1 random choices among the two ends, 2 each piece one of {mu, L, uniform},
    3 one value for all pieces (a quadratic in that coordinate)."""
    u = rng.random((n, d, K + 2))
    ends = (rng.random((n, d, K + 2)) < 0.5).astype(np.float64)
    pick = rng.integers(0, 3, (n, d, K + 2))
    mixed = np.where(pick == 0, 0.0, np.where(pick == 1, 1.0, u))
    const = np.broadcast_to(rng.random((n, d, 1)), (n, d, K + 2))
    kk = kinds[:, None, None]
    return np.where(kk == 0, u, np.where(kk == 1, ends, np.where(kk == 2, mixed, const)))


def _pwq_generate(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    d = k.dim
    L = np.full(n, 10.0 ** k.log_scale)
    mu = L / _kappa(rng, n)
    K = int(PIECES[int(rng.integers(0, len(PIECES)))])
    unit = 10.0 ** k.log_w0
    widths = unit * 10.0 ** rng.uniform(-1.0, 1.0, (n, d, K))
    m = rng.integers(0, K + 1, (n, d))
    offset = rng.standard_normal((n, d)) * unit * 10.0 ** rng.uniform(-1.0, 1.0, (n, 1)) * (rng.random((n, 1)) < 0.75)
    z0 = np.concatenate([np.zeros((n, d, 1)), np.cumsum(widths, axis=2)], axis=2)
    z = z0 - np.take_along_axis(z0, m[..., None], axis=2) + offset[..., None]
    z[np.arange(n)[:, None], np.arange(d)[None, :], m] = offset  # the minimiser knot is exactly x*
    kinds = (k.pattern + np.arange(n)) % 4
    u = _curvature_positions(rng, n, d, K, kinds)
    lo, hi = (mu * (1 + SHRINK))[:, None, None], (L * (1 - SHRINK))[:, None, None]
    problem = pwq_from_curvatures(z, lo + u * (hi - lo), m, rng.standard_normal(n) * (rng.random(n) < 0.5))
    w0 = problem.xs + rng.standard_normal((n, d)) * unit * 10.0 ** rng.uniform(0.0, 1.3, (n, 1))
    return InstanceBatch("pwq_random", problem, w0, {"L": L, "mu": mu, "d": np.full(n, float(d))})


def _pwq_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    """Exact, in extended precision on the stored float64 arrays: knots strictly increasing (no
    zero-width piece, so the linearly interpolated f' is continuous: f is C^1 at every breakpoint),
    every interior curvature ``(g_{j+1} - g_j) / (z_{j+1} - z_j)`` and both end curvatures in
    [mu, L], and ``f'(z_m) = g_m = 0`` exactly at the declared minimiser knot."""
    p = batch.problem
    n = p.size
    ld = np.longdouble
    z, g = np.asarray(p.z, dtype=ld), np.asarray(p.g, dtype=ld)
    cl, cr = np.asarray(p.cl, dtype=ld), np.asarray(p.cr, dtype=ld)
    L = np.asarray(batch.attrs["L"], dtype=ld)
    mu = np.asarray(batch.attrs["mu"], dtype=ld)
    finite = (np.isfinite(z).all(axis=(1, 2)) & np.isfinite(g).all(axis=(1, 2)) & np.isfinite(cl).all(axis=1)
              & np.isfinite(cr).all(axis=1) & np.isfinite(np.asarray(p.fs)))
    m = np.asarray(p.m)
    m_ok = np.all((m >= 0) & (m < z.shape[2]), axis=1)
    mc = np.clip(m, 0, z.shape[2] - 1).astype(np.int64)
    gm = np.take_along_axis(g, mc[..., None], axis=2)[..., 0]
    dz, dg = np.diff(z, axis=2), np.diff(g, axis=2)
    Lc, muc = L[:, None, None], mu[:, None, None]
    with np.errstate(invalid="ignore"):
        return combine_checks(n, [
            (finite, "non-finite problem data"),
            ((mu > 0) & (mu <= L), "constants must satisfy 0 < mu <= L"),
            (np.all(dz > 0, axis=(1, 2)), "knots are not strictly increasing (a zero-width piece breaks C^1)"),
            (np.all(dg <= Lc * dz, axis=(1, 2)), "an interior piece has curvature above L"),
            (np.all(dg >= muc * dz, axis=(1, 2)), "an interior piece has curvature below mu"),
            (np.all((cl <= L[:, None]) & (cr <= L[:, None]), axis=1), "an end piece has curvature above L"),
            (np.all((cl >= mu[:, None]) & (cr >= mu[:, None]), axis=1), "an end piece has curvature below mu"),
            (m_ok, "the minimiser index is not a knot"),
            (np.all(gm == 0, axis=1), "f' is not zero at the declared minimiser knot"),
        ])


@dataclass(frozen=True)
class PWQParametrisation:
    """1-D members at L = 1 with K interior pieces and the minimiser at knot K // 2 (x* = 0):
    theta = (log10 kappa in [log10 2, 2], K widths in [0.05, 2], K + 2 curvature positions in [0, 1]
    of [mu, L], x_0 - x* in [-20, 20])."""

    pieces: int = 8

    def size(self, horizon: int) -> int:
        return 1 + self.pieces + (self.pieces + 2) + 1

    def bounds(self, P: int) -> tuple[np.ndarray, np.ndarray]:
        K = self.pieces
        return (np.concatenate([[LOG_KAPPA[0]], np.full(K, 0.05), np.zeros(K + 2), [-20.0]]),
                np.concatenate([[LOG_KAPPA[1]], np.full(K, 2.0), np.ones(K + 2), [20.0]]))

    def sample(self, rng: np.random.Generator, n: int, P: int) -> np.ndarray:
        """Uniform in the box; every other start with curvatures at random ends {mu, L}."""
        K = self.pieces
        lo, hi = self.bounds(P)
        theta = lo + rng.random((n, P)) * (hi - lo)
        theta[::2, 1 + K : 3 + 2 * K] = (rng.random((len(theta[::2]), K + 2)) < 0.5)
        return theta

    def resize(self, theta: np.ndarray, P: int) -> np.ndarray:
        return np.asarray(theta, dtype=np.float64)[:, :P]

    def build(self, theta: np.ndarray) -> InstanceBatch:
        K = self.pieces
        lo, hi = self.bounds(self.size(0))
        theta = np.clip(np.asarray(theta, dtype=np.float64), lo, hi)
        n = theta.shape[0]
        L = np.ones(n)
        mu = 10.0 ** -theta[:, 0]
        z0 = np.concatenate([np.zeros((n, 1)), np.cumsum(theta[:, 1 : 1 + K], axis=1)], axis=1)
        z = z0 - z0[:, K // 2 : K // 2 + 1]
        z[:, K // 2] = 0.0
        u = theta[:, 1 + K : 3 + 2 * K]
        a = (mu * (1 + SHRINK))[:, None] + u * (L * (1 - SHRINK) - mu * (1 + SHRINK))[:, None]
        problem = pwq_from_curvatures(z[:, None, :], a[:, None, :], np.full((n, 1), K // 2), np.zeros(n))
        return InstanceBatch("pwq_polished", problem, theta[:, -1:].copy(), {"L": L, "mu": mu, "d": np.ones(n)})


def _pwq_encode(problem: SeparablePWQ, i: int) -> dict[str, Any]:
    return {"z": problem.z[i].tolist(), "g": problem.g[i].tolist(), "cl": problem.cl[i].tolist(),
            "cr": problem.cr[i].tolist(), "m": [int(v) for v in problem.m[i]], "fs": float(problem.fs[i])}


def _pwq_decode(data: dict[str, Any]) -> SeparablePWQ:
    f = np.float64
    return SeparablePWQ(z=np.asarray([data["z"]], dtype=f), g=np.asarray([data["g"]], dtype=f),
                        cl=np.asarray([data["cl"]], dtype=f), cr=np.asarray([data["cr"]], dtype=f),
                        m=np.asarray([data["m"]], dtype=np.int64), fs=np.asarray([data["fs"]], dtype=f))


SMOOTH_STRONGLY_CONVEX_PWQ = InstanceClass(
    name="smooth_strongly_convex_pwq",
    text="f is L-smooth and mu-strongly convex (here: separable, each coordinate a piecewise-quadratic C^{1,1} "
         "function with every curvature in [mu, L])",
    families=(Family(name="pwq_random", generate=_pwq_generate,
                     doc="1 to 32 pieces per coordinate with random widths; curvatures uniform in [mu, L], random "
                         "among {mu, L}, mixed, or constant; kappa in [2, 100]; minimiser at a random knot"),),
    attributes=("L", "mu", "d"),
    member=_pwq_member,
    member_exact=pwq_member_exact,
    encode=_pwq_encode,
    decode=_pwq_decode,
    problem_type=SeparablePWQ,
    parametrisation=PWQParametrisation(),
)

CLASSES = (STRONGLY_CONVEX_QUADRATIC, SMOOTH_CONVEX, SMOOTH_STRONGLY_CONVEX_PWQ)
