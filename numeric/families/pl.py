"""PL-family instance classes and the ``gd_pl`` dynamics adapter.

Instance classes (constructive generators + independent membership checks):

* ``pl_smooth``: f is L-smooth and satisfies the Polyak-Lojasiewicz inequality in the *book*
  convention ``||grad f(w)||^2 >= mu (f(w) - f*)`` (Arora et al., Definition 6.2.1; Karimi-Nutini-
  Schmidt write ``1/2 ||grad f||^2 >= mu_K (f - f*)``, so ``mu = 2 mu_K``), with the optimal value
  ``f_star`` known.  Families: least squares ``1/2 ||A w - y||^2`` with a wide or rank-deficient A,
  stored as the quadratic ``1/2 w^T (A^T A) w - (A^T y)^T w`` (constant dropped, so
  ``f* = -1/2 ||y||^2``; ``mu = 2 sigma_min^+(A)^2``), and the separable scaled sine example
  ``a sum_i [(w_i/s)^2 + 3 sin^2(w_i/s)]`` of Karimi et al. (``L = 8 a / s^2``, certified
  ``mu_K = a / (32 s^2)``, i.e. ``mu = a / (16 s^2)``), stored with the constant ``-3a/2`` per
  coordinate dropped.
* ``rsi_smooth`` (restricted secant inequality around a known minimizer) lives in
  :mod:`numeric.families.pl_rsi`; it shares this module's problem type and dynamics.

Problems of these classes are :class:`MinimizerProblem` (a ridge-quadratic batch plus the known
minimizer ``w*``), so that the ``gd_pl`` dynamics can report ``||w_t - w*||^2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import kernels
import numpy as np
from kernels import Ridge, RidgeQuadratic

from ..api import (
    Dynamics,
    Family,
    InstanceBatch,
    InstanceClass,
    Knobs,
    Membership,
    Run,
    RunRequest,
    haar_orthogonal,
    observables,
)
from .ridge import (
    PER_STEP,
    SCALE_OF,
    TRAJECTORY,
    RidgeRun,
    decode_ridge,
    encode_ridge,
    make_run,
    smoothness_certificate,
)

#: This module's instance classes and dynamics (registered through the entry points
#: ``thmcheck.classes`` / ``thmcheck.dynamics``; importing the module registers nothing).
CLASSES: list[InstanceClass] = []
DYNAMICS: list[Dynamics] = []



__all__ = ["MinimizerProblem", "PLRun", "SINE_MU_OVER_L", "sine_profile", "on_grid"]

EPS = float(np.finfo(np.float64).eps)
# Karimi-Nutini-Schmidt: x^2 + 3 sin^2 x has L = 8 and mu_K = 1/32, i.e. book mu = 1/16 = L / 128.
SINE_MU_OVER_L = 1.0 / 128.0


@dataclass(frozen=True)
class MinimizerProblem:
    """A ridge-quadratic batch with its known minimizer ``wstar`` (B, d)."""

    ridge: RidgeQuadratic
    wstar: np.ndarray

    @property
    def batch(self) -> int:
        return self.ridge.batch

    @property
    def dim(self) -> int:
        return self.ridge.dim

    def astype(self, dtype: Any) -> "MinimizerProblem":
        return MinimizerProblem(self.ridge.astype(dtype), np.asarray(self.wstar, dtype=dtype))


def encode_minimizer(problem: MinimizerProblem, i: int) -> dict[str, Any]:
    return {**encode_ridge(problem.ridge, i), "wstar": np.asarray(problem.wstar[i], dtype=np.float64).tolist()}


def decode_minimizer(data: dict[str, Any]) -> MinimizerProblem:
    ridge = decode_ridge(data)
    return MinimizerProblem(ridge, np.asarray(data["wstar"], dtype=np.float64).reshape(1, ridge.dim))


# ------------------------------------------------------------------------------------------ PL class


def _kappa(rng: np.random.Generator, n: int, k: Knobs) -> np.ndarray:
    """Condition numbers L / lambda_min^+ in [1, 1e3]; some patterns pin the extremes."""
    p = k.pattern % 4
    if p == 1:
        return np.ones(n)  # A^T A = L P (one nonzero eigenvalue level): the fastest rate
    if p == 2:
        return np.full(n, 1e3)
    return 10.0 ** rng.uniform(0.0, 3.0, n)


def gen_least_squares(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    return least_squares_parts(rng, n, k)[0]


def on_grid(x: np.ndarray, bits: int) -> np.ndarray:
    """Each instance (leading axis) of ``x`` rounded to the grid ``2^(e - bits)``, ``2^e`` the power of
    two above its largest entry: every entry is then an integer of at most ``bits`` bits times the
    instance's grid step, so sums of products of such entries are exact in float64 while they fit in
    53 bits (see :func:`least_squares_parts`)."""
    flat = np.abs(x).reshape(x.shape[0], -1).max(axis=1)
    _, e = np.frexp(np.where(flat > 0, flat, 1.0))  # flat < 2^e
    step = np.ldexp(1.0, e - bits).reshape((-1,) + (1,) * (x.ndim - 1))
    return np.round(x / step) * step


def least_squares_parts(rng: np.random.Generator, n: int, k: Knobs) -> tuple[InstanceBatch, np.ndarray]:
    """The least-squares batch and an orthonormal basis (n, d, r) of range(H), H = A^T A as stored.

    The stored quadratic is *exactly* ``1/2 ||A w - y||^2 - 1/2 ||y||^2`` for the (unstored) A and y:
    both are rounded to a grid of ``bits`` significant bits (:func:`on_grid`) with ``2 bits +
    log2 r <= 53``, so ``H = A^T A``, ``b = -A^T y`` and ``f* = -1/2 ||y||^2`` are computed without
    rounding (every product fits in 2 bits bits, every sum of r of them in 53).  Then H has exactly
    rank r (A has full row rank), b lies exactly in its range and f* is exactly min f, which the
    exact membership check requires; a rounded ``A^T A`` would have tiny nonzero eigenvalues in
    place of its null space.  The constants come from the stored H's float spectrum moved by the
    eigensolver's error bound ``64 d eps ||H||`` to the safe side (L above lambda_max, mu below
    2 lambda_min^+), so they are tight to that bound."""
    d = k.dim
    L = np.full(n, 10.0 ** k.log_scale)
    # rank r <= d: r < d gives a PL function that is not strongly convex (wide A).
    r = d if (k.pattern % 3 == 0 or d == 1) else int(rng.integers(1, d))
    kappa = _kappa(rng, n, k)
    lam = L[:, None] * np.exp(-np.log(kappa)[:, None] * rng.random((n, r)))
    lam[:, 0] = L
    if r > 1:
        lam[:, -1] = L / kappa
    V = haar_orthogonal(rng, n, d)[:, :, :r]  # (n, d, r) orthonormal columns
    bits = (53 - int(np.ceil(np.log2(r)))) // 2
    A_mat = on_grid(np.sqrt(lam)[:, :, None] * np.swapaxes(V, 1, 2), bits)  # (n, r, d), A^T A ~ V diag(lam) V^T
    H = np.einsum("nri,nrj->nij", A_mat, A_mat)  # exact (see the docstring), hence exactly symmetric
    y = on_grid(rng.standard_normal((n, r)) * 10.0 ** rng.uniform(-1.0, 1.0, (n, 1)), bits)
    b = -np.einsum("nri,nr->ni", A_mat, y)  # exact
    f_star = -0.5 * np.sum(y * y, axis=1)  # exact: min f, A having full row rank
    wstar = np.einsum("nri,nr->ni", A_mat, np.linalg.solve(np.einsum("nri,nsi->nrs", A_mat, A_mat), y[:, :, None])[:, :, 0])  # A^+ y
    w0 = wstar + rng.standard_normal((n, d)) * 10.0 ** k.log_w0
    problem = RidgeQuadratic.quadratic(H, b)
    ev = np.linalg.eigvalsh(H)
    err = 64 * d * EPS * ev[:, -1]
    L_safe = np.nextafter(ev[:, -1] + err, np.inf)
    mu = np.nextafter(2.0 * np.nextafter(ev[:, d - r] - err, -np.inf), -np.inf)
    basis = np.linalg.qr(np.swapaxes(A_mat, 1, 2))[0]  # (n, d, r): orthonormal basis of the stored range(H)
    return InstanceBatch("least_squares", MinimizerProblem(problem, wstar), w0,
                         {"L": L_safe, "mu": mu, "f_star": f_star, "d": np.full(n, float(d))}), basis


def sine_profile(a: np.ndarray, s: np.ndarray, d: int) -> RidgeQuadratic:
    """``sum_i a [(w_i/s)^2 - 3/2 cos(2 w_i / s)]`` (= a sum_i [(w_i/s)^2 + 3 sin^2(w_i/s)] - 3ad/2)
    as a ridge quadratic: ``A = (2a/s^2) I``, ridges ``(3a/2) sin((2/s) w_i - pi/2)``."""
    n = a.shape[0]
    eye = np.broadcast_to(np.eye(d), (n, d, d))
    A = (2.0 * a / s**2)[:, None, None] * eye
    R = (2.0 / s)[:, None, None] * eye
    c = np.broadcast_to((1.5 * a)[:, None], (n, d)).copy()
    off = np.full((n, d), -np.pi / 2)
    return RidgeQuadratic(np.ascontiguousarray(A), np.zeros((n, d)), np.ascontiguousarray(R), off, c, Ridge.SIN)


def _sine(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    """The KNS sine example.  a is kept to 40 significant bits and 2^-30 below L s^2 / 8, so that the
    stored curvature bound alpha + gamma beta^2 stays below L through its roundings and -d gamma
    (gamma = 1.5 a) is a float; f* is the float just above it: the minimum lies strictly inside
    (-d gamma, -d gamma cos(pi/2 + fl(-pi/2))], which the exact membership check certifies."""
    d = k.dim
    L = np.full(n, 10.0 ** k.log_scale)
    s = 10.0 ** rng.uniform(-1.0, 1.0, n)
    a = on_grid((L * s**2 / 8.0 * (1 - 2.0**-30))[:, None], 40)[:, 0]
    problem = sine_profile(a, s, d)
    # Start where the PL ratio is smallest (x ~ 2.2 s) or anywhere on a wide range.
    spread = 10.0 ** k.log_w0
    w0 = s[:, None] * rng.uniform(-3.0, 3.0, (n, d)) * max(spread, 1.0)
    f_star = np.nextafter(-1.5 * a * d, np.inf)
    return InstanceBatch("sine", MinimizerProblem(problem, np.zeros((n, d))), w0,
                         {"L": L, "mu": L * SINE_MU_OVER_L, "f_star": f_star, "d": np.full(n, float(d))})


def _g_of_aw(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    """f(w) = g(A w), g(z) = sum_i [(m/2)(z_i - c_i)^2 + gamma_i log cosh(z_i - c_i)]: g is m-strongly convex
    (KNS constant m), A (r x d) has full row rank r <= d, so f* = g* = 0 and f is PL with book constant
    mu = 2 m sigma_min(A)^2 (= 2 mu_g sigma_min^+(A)^2).  Stored as the ridge quadratic
    1/2 w^T (m A^T A) w - m (A^T c)^T w + sum_i gamma_i log cosh(a_i^T w - c_i) (constant m ||c||^2 / 2 dropped,
    so f* = -m ||c||^2 / 2)."""
    d = k.dim
    r = d if (k.pattern % 3 == 0 or d == 1) else int(rng.integers(1, d + 1))
    kappa = _kappa(rng, n, k)
    sig2 = np.exp(-np.log(kappa)[:, None] * rng.random((n, r)))  # squared singular values of A in [1/kappa, 1]
    sig2[:, 0] = 1.0
    if r > 1:
        sig2[:, -1] = 1.0 / kappa
    V = haar_orthogonal(rng, n, d)[:, :, :r]
    U = haar_orthogonal(rng, n, r)
    # A and c on a grid of ``bits`` bits, m on one of 8: m A^T A, -m A^T c and -m ||c||^2 / 2 are then
    # computed without rounding (2 bits + log2 r + 8 <= 53), as the exact membership check needs.
    bits = (45 - int(np.ceil(np.log2(r)))) // 2
    A_mat = on_grid(np.einsum("nij,nj,nkj->nik", U, np.sqrt(sig2), V), bits)  # (n, r, d) ~ U diag(sigma) V^T
    m = on_grid((10.0 ** k.log_scale * rng.uniform(0.2, 1.0, n))[:, None], 8)[:, 0]
    gamma = m[:, None] * rng.uniform(0.0, 4.0, (n, r))
    c = on_grid(rng.standard_normal((n, r)) * 10.0 ** rng.uniform(-1.0, 1.0, (n, 1)), bits)
    H = m[:, None, None] * np.einsum("nri,nrj->nij", A_mat, A_mat)  # exact, hence exactly symmetric
    b = -m[:, None] * np.einsum("nri,nr->ni", A_mat, c)
    problem = RidgeQuadratic(np.ascontiguousarray(H), b, np.ascontiguousarray(A_mat), -c, gamma, Ridge.LOGCOSH)
    # The constants on the safe side of the stored arrays by the eigensolver's error bound (64 r eps
    # ||A A^T|| absolute for mu; for L the certificate's two eigenvalues and the rounding of the
    # ridge Gram matrix, 8 (d + r)^2 eps relative as in the smooth class).
    ev = np.linalg.eigvalsh(np.einsum("nri,nsi->nrs", A_mat, A_mat))
    mu = np.nextafter(2.0 * m * np.nextafter(ev[:, 0] - 64 * r * EPS * ev[:, -1], -np.inf), -np.inf) * (1 - 4 * EPS)
    L = smoothness_certificate(problem) * (1 + (128 * d + 8 * (d + r) ** 2) * EPS)
    f_star = -0.5 * m * np.sum(c * c, axis=1)
    wstar = np.einsum("nri,nr->ni", A_mat, np.linalg.solve(np.einsum("nri,nsi->nrs", A_mat, A_mat), c[:, :, None])[:, :, 0])  # A^+ c
    w0 = wstar + rng.standard_normal((n, d)) * 10.0 ** k.log_w0
    return InstanceBatch("g_of_aw", MinimizerProblem(problem, wstar), w0,
                         {"L": L, "mu": mu, "f_star": f_star, "d": np.full(n, float(d))})


def _g_of_aw_member(rq: RidgeQuadratic, i: int, L: float, mu: float, f_star: float) -> str:
    """Independent check of a g(A w) instance: the ridge directions R are A, the quadratic part is
    m A^T A with b = -m A^T c and ridge offsets -c, coefficients gamma >= 0 (log cosh is convex with
    0 <= log cosh'' <= 1), A has full row rank, mu <= 2 m sigma_min(A)^2, L bounds the Hessian
    m A^T A + A^T diag(gamma) A, and f* = -m ||c||^2 / 2."""
    A = np.asarray(rq.R[i], np.float64)
    r, d = A.shape
    c = -np.asarray(rq.s[i], np.float64)
    gam = np.asarray(rq.c[i], np.float64)
    G = A.T @ A
    m = float(np.trace(rq.A[i]) / np.trace(G))
    scale = float(np.abs(rq.A[i]).max()) + 1e-300
    if r > d or m <= 0 or np.any(gam < 0):
        return "not a g(A w) instance (A must be wide, m > 0, gamma >= 0)"
    if np.abs(rq.A[i] - m * G).max() > 1e3 * d * EPS * scale:
        return "quadratic part is not m A^T A"
    if np.abs(rq.b[i] + m * A.T @ c).max() > 1e3 * d * EPS * (m * np.abs(A).max() * np.abs(c).sum() + 1e-300):
        return "linear part is not -m A^T c"
    ev = np.linalg.eigvalsh(A @ A.T)
    if ev[0] <= 1e-9 * ev[-1]:
        return "A does not have full row rank"
    if mu > 2 * m * (ev[0] + 64 * r * EPS * ev[-1]):  # eigenvalue rounding, as in the quadratic check
        return f"PL constant mu = {mu!r} exceeds 2 m sigma_min(A)^2 = {2 * m * ev[0]!r}"
    top = np.linalg.eigvalsh(rq.A[i] + A.T @ (gam[:, None] * A))[-1]
    if top > L * (1 + 64 * d * EPS):
        return f"Hessian bound {top!r} exceeds L = {L!r}"
    fs = -0.5 * m * float(c @ c)
    if abs(fs - f_star) > 1e-12 * abs(fs) + 1e-300:
        return f"f_star = {f_star!r} but -m ||c||^2 / 2 = {fs!r}"
    return ""


def _quadratic_pl_member(H: np.ndarray, b: np.ndarray, L: float, mu: float, f_star: float) -> str:
    """Independent check of one quadratic instance: PSD spectrum in [0, L], every nonzero
    eigenvalue >= mu/2, b in the range of H, and f* = -1/2 b^T H^+ b."""
    lam, Q = np.linalg.eigh(H)
    d = H.shape[0]
    tol = 64 * d * EPS * max(L, float(np.abs(lam).max()))
    if lam[0] < -tol:
        return f"Hessian eigenvalue {lam[0]!r} < 0: not PL"
    if lam[-1] > L + tol:
        return f"Hessian eigenvalue {lam[-1]!r} exceeds L = {L!r}"
    pos = lam > tol
    if not pos.any():
        return "zero Hessian"
    if lam[pos].min() < mu / 2 - tol:
        return f"PL constant mu = {mu!r} exceeds 2 lambda_min^+ = {2 * lam[pos].min()!r}"
    if np.any((lam > tol) & (lam < 1e-6 * L)):
        return "eigenvalue too close to zero to tell the range of H"
    bq = Q.T @ b
    bnorm = float(np.linalg.norm(b)) + 1e-300
    if np.linalg.norm(bq[~pos]) > 1e3 * d * EPS * bnorm:
        return "b is not in the range of H: f is unbounded below"
    fmin = -0.5 * float(np.sum(bq[pos] ** 2 / lam[pos]))
    if abs(fmin - f_star) > 1e-9 * (abs(fmin) + abs(f_star)) + 1e-300:
        return f"f_star = {f_star!r} but -1/2 b^T H^+ b = {fmin!r}"
    return ""


@lru_cache(maxsize=64)
def _normalized_sine(rho: float, off: float) -> tuple[float, float]:
    """For g(u) = (rho/2) u^2 + sin(u + off): (min g on a fine grid, min g'^2 / (g - min g))."""
    u = np.linspace(-60.0, 60.0, 1_200_001)
    g = 0.5 * rho * u**2 + np.sin(u + off)
    dg = rho * u + np.cos(u + off)
    gmin = float(g.min())
    gap = g - gmin
    far = gap > 1e-6
    return gmin, float((dg[far] ** 2 / gap[far]).min())


def _sine_member(prob: RidgeQuadratic, i: int, L: float, mu: float, f_star: float) -> str:
    """Independent check of a separable sine instance, per coordinate
    phi(x) = (alpha/2) x^2 + gamma sin(beta x + off) = gamma g(beta x) with g(u) = (rho/2) u^2 + sin(u + off),
    rho = alpha / (gamma beta^2): exact smoothness bound, and on a fine grid the minimum value (f*)
    and the PL ratio phi'^2 / (phi - phi*) = gamma beta^2 g'^2 / (g - g*) >= mu."""
    d = prob.dim
    A, R, c, off = prob.A[i], prob.R[i], prob.c[i], prob.s[i]
    alpha = float(A[0, 0])
    beta = float(R[0, 0])
    gamma = float(c[0])
    if not (np.array_equal(A, alpha * np.eye(d)) and np.array_equal(R, beta * np.eye(d))
            and np.all(c == gamma) and np.all(off == off[0]) and np.all(prob.b[i] == 0)
            and alpha > 0 and beta > 0 and gamma > 0):
        return "not a separable sine instance"
    Lc = max(abs(alpha - gamma * beta**2), alpha + gamma * beta**2)
    if Lc > L * (1 + 64 * EPS):
        return f"certified smoothness {Lc!r} exceeds L = {L!r}"
    rho = alpha / (gamma * beta**2)
    gmin, ratio = _normalized_sine(round(rho, 12), float(off[0]))
    if abs(d * gamma * gmin - f_star) > 1e-9 * abs(f_star):
        return f"f_star = {f_star!r} but the grid minimum is {d * gamma * gmin!r}"
    if gamma * beta**2 * ratio < mu:
        return f"PL ratio on a grid {gamma * beta**2 * ratio!r} < mu = {mu!r}"
    if 2 * alpha < mu:  # beyond the grid phi'^2 / (phi - phi*) tends to 2 alpha
        return "PL fails for large |x|"
    return ""


def _pl_member_exact(batch: InstanceBatch) -> Membership:
    """The exact (sine: interval-arithmetic) check of :mod:`numeric.families.pl_exact`."""
    from .pl_exact import pl_member_exact  # noqa: PLC0415 - pl_exact imports nothing from here; keeps import order simple

    return pl_member_exact(batch)


def _pl_mu_overstated_member_exact(batch: InstanceBatch) -> Membership:
    """``pl_mu_overstated``: the PL certificate with mu/2 (:mod:`numeric.families.pl_exact`)."""
    from .pl_exact import pl_mu_overstated_member_exact  # noqa: PLC0415

    return pl_mu_overstated_member_exact(batch)


def pl_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    p: MinimizerProblem = batch.problem
    rq = p.ridge
    reasons = []
    for i in range(batch.size):
        L, mu, fs = (float(batch.attrs[k][i]) for k in ("L", "mu", "f_star"))
        if rq.ridges == 0:
            reasons.append(_quadratic_pl_member(np.asarray(rq.A[i], np.float64), np.asarray(rq.b[i], np.float64), L, mu, fs))
        elif rq.psi == Ridge.SIN:
            reasons.append(_sine_member(rq, i, L, mu, fs))
        elif rq.psi == Ridge.LOGCOSH:
            reasons.append(_g_of_aw_member(rq, i, L, mu, fs))
        else:
            reasons.append("no PL certificate for this problem type")
    return np.array([not r for r in reasons]), reasons


PL_CLASS = (InstanceClass(
    name="pl_smooth",
    text="f is L-smooth and mu-PL in the book convention ||grad f||^2 >= mu (f - f*), with f* known",
    families=(
        Family(name="least_squares", generate=gen_least_squares, finite_sum=False, doc="1/2 ||A w - y||^2 with A wide or rank deficient (not strongly convex); mu = 2 sigma_min^+(A)^2"),
        Family(name="sine", generate=_sine, finite_sum=True, doc="a sum_i [(w_i/s)^2 + 3 sin^2(w_i/s)]: L = 8a/s^2, certified mu = a/(16 s^2)"),
        Family(name="g_of_aw", generate=_g_of_aw, finite_sum=False, doc="g(A w) with g m-strongly convex (quadratic plus log cosh) and A wide of full row rank: "
               "mu = 2 m sigma_min(A)^2"),
    ),
    attributes=("L", "mu", "f_star", "d"),
    member=pl_member,
    member_exact=_pl_member_exact,
    encode=encode_minimizer,
    decode=decode_minimizer,
    problem_type=MinimizerProblem,
))
CLASSES.append(PL_CLASS)


def _mu_overstated(fam: Family) -> Family:
    def generate(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
        b = fam.generate(rng, n, k)
        mu = np.minimum(2.0 * b.attrs["mu"], 2.0 * b.attrs["L"])  # keeps the theorem's mu <= 2L
        return InstanceBatch(b.family, b.problem, b.w0, {**b.attrs, "mu": mu})

    return Family(name=fam.name + "_mu_x2", generate=generate, finite_sum=fam.finite_sum, doc=fam.doc + "; mu doubled")


def _mu_overstated_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    half = InstanceBatch(batch.family, batch.problem, batch.w0, {**batch.attrs, "mu": batch.attrs["mu"] / 2})
    ok, why = pl_member(half)
    return ok, ["" if o else f"mu/2 is not a certified PL constant: {w}" for o, w in zip(ok, why)]


# A relaxation of "pl_smooth" for necessity checks: mu is a PL constant only up to a factor 2 (the
# families' certified constants doubled), so the PL inequality with mu may fail.
PL_MU_OVERSTATED_CLASS = (InstanceClass(
    name="pl_mu_overstated",
    text="f is L-smooth and mu/2-PL (mu overstates a PL constant by up to a factor 2)",
    families=tuple(_mu_overstated(f) for f in PL_CLASS.families),
    attributes=("L", "mu", "f_star", "d"),
    member=_mu_overstated_member,
    member_exact=_pl_mu_overstated_member_exact,
    encode=encode_minimizer,
    decode=decode_minimizer,
    problem_type=MinimizerProblem,
))
CLASSES.append(PL_MU_OVERSTATED_CLASS)


# ------------------------------------------------------------------------------------ gd_pl dynamics


@dataclass(frozen=True)
class PLRun(RidgeRun):
    """A GD run plus squared distances to the known minimizer and their rounding scales."""

    dist2: np.ndarray | None = None  # (n, T+1)
    dist2abs: np.ndarray | None = None  # (n, T+1): sum_i (|w_i| + |w*_i|)^2


def _run_gd_pl(req: RunRequest) -> Run:
    problem, w0 = req.problem, req.w0
    eta = np.asarray(req.params["eta"], dtype=req.dtype)
    rq = problem.ridge.astype(req.dtype)
    tr = kernels.gd(rq, np.asarray(w0, dtype=req.dtype), eta, req.horizon, backend=req.backend, dtype=req.dtype, keep_iterates=True)
    base = make_run(rq, tr, eta)
    ws = np.asarray(problem.wstar, dtype=tr.w.dtype)[:, None, :]
    diff = tr.w - ws
    return Run(PLRun(base.traj, base.fabs, base.efabs, dist2=np.sum(diff * diff, axis=2),
                 dist2abs=np.sum((np.abs(tr.w) + np.abs(ws)) ** 2, axis=2)), backend=tr.backend)


def _path_length(r: PLRun) -> np.ndarray:
    """sum_t ||w_{t+1} - w_t|| over the whole run."""
    steps = np.diff(r.traj.w, axis=1)
    return np.sqrt(np.sum(steps * steps, axis=2)).sum(axis=1)


def _displacement(r: PLRun) -> np.ndarray:
    """||w_T - w_0||."""
    dw = r.traj.w[:, -1] - r.traj.w[:, 0]
    return np.sqrt(np.sum(dw * dw, axis=1))


def _steps(r: PLRun, offset: int) -> np.ndarray:
    n, T1 = r.traj.f.shape
    return np.broadcast_to(np.arange(offset, T1 - 1 + offset, dtype=r.traj.f.dtype), (n, T1 - 1))


PL_PER_STEP = {k: v for k, v in PER_STEP.items() if k not in ("ef_next", "eg2_t", "efabs_next")}
PL_PER_STEP.update({
    "step_t": lambda r: _steps(r, 0),
    "dist2_t": lambda r: r.dist2[:, :-1],
    "dist2_next": lambda r: r.dist2[:, 1:],
    "dist2abs_t": lambda r: r.dist2abs[:, :-1],
    "dist2abs_next": lambda r: r.dist2abs[:, 1:],
})
PL_TRAJECTORY = dict(TRAJECTORY)
PL_TRAJECTORY.update({
    "dist2_first": lambda r: r.dist2[:, 0],
    "dist2_last": lambda r: r.dist2[:, -1],
    "dist2abs_first": lambda r: r.dist2abs[:, 0],
    "dist2abs_last": lambda r: r.dist2abs[:, -1],
    "path_length": _path_length,
    "displacement": _displacement,
})
PL_SCALE_OF = {k: v for k, v in SCALE_OF.items() if k != "ef_next"}
PL_SCALE_OF.update({"dist2_t": "dist2abs_t", "dist2_next": "dist2abs_next", "dist2_first": "dist2abs_first",
                     "dist2_last": "dist2abs_last"})


DYNAMICS.append(Dynamics(
    name="gd_pl",
    run=_run_gd_pl,
    observables=observables(PL_PER_STEP, PL_TRAJECTORY, PL_SCALE_OF),
    accepts=(MinimizerProblem,),
    parameters=("eta",),
    doc="gradient descent on a problem with a known minimizer w*: the gd observables plus the step index "
    "t and the squared distance ||w_t - w*||^2",
))


SINE_CLASS = (InstanceClass(
    name="pl_sine",
    text="f = a sum_i [(w_i/s)^2 + 3 sin^2(w_i/s)] (Karimi-Nutini-Schmidt's PL example): L = 8a/s^2, "
    "certified book-convention mu = a/(16 s^2) (mu_K = 1/32 at a = s = 1), f* known",
    families=tuple(f for f in PL_CLASS.families if f.name == "sine"),
    attributes=("L", "mu", "f_star", "d"),
    member=pl_member,
    member_exact=_pl_member_exact,
    encode=encode_minimizer,
    decode=decode_minimizer,
    problem_type=MinimizerProblem,
))
CLASSES.append(SINE_CLASS)


