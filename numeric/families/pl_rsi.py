"""The ``rsi_smooth`` instance class: f is L-smooth and satisfies the restricted secant inequality
``<grad f(w), w - w*> >= mu ||w - w*||^2`` around its known minimizer ``w*``.

Families: strongly convex quadratics, and strongly convex quadratics plus convex log-cosh ridges, all
minimised at the origin (GD is translation equivariant, and centring keeps ``w*`` exact in floating
point).  The constants are stored on the safe side of the exact spectrum (``safe_constants``), and
the exact-membership hook re-checks them in rational arithmetic for every confirmed counterexample.
Its problems are :class:`numeric.families.pl.MinimizerProblem`, driven by the ``gd_pl`` dynamics.
"""

from __future__ import annotations

import numpy as np
from kernels import Ridge, RidgeQuadratic

from ..api import Family, InstanceBatch, InstanceClass, Knobs, haar_orthogonal
from .exact_members import rsi_member_exact
from .pl import EPS, MinimizerProblem, _kappa, decode_minimizer, encode_minimizer
from .ridge import safe_constants, smoothness_certificate

__all__ = ["RSI_CLASS"]

#: This module's instance class (registered through the ``thmcheck.classes`` entry point).
CLASSES: list[InstanceClass] = []


def _sc_spectrum(rng: np.random.Generator, n: int, d: int, L: np.ndarray, k: Knobs) -> np.ndarray:
    kappa = _kappa(rng, n, k)
    lam = L[:, None] * np.exp(-np.log(kappa)[:, None] * rng.random((n, d)))
    lam[:, 0] = L
    if d > 1:
        lam[:, -1] = L / kappa
    return lam


def _sc_quadratic(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    d = k.dim
    L = np.full(n, 10.0 ** k.log_scale)
    lam = _sc_spectrum(rng, n, d, L, k)
    Q = haar_orthogonal(rng, n, d)
    H = np.einsum("nij,nj,nkj->nik", Q, lam, Q)
    H = 0.5 * (H + np.swapaxes(H, 1, 2))
    w0 = rng.standard_normal((n, d)) * 10.0 ** k.log_w0
    problem = RidgeQuadratic.quadratic(H, np.zeros((n, d)))
    L_safe, mu = safe_constants(problem, L)
    return InstanceBatch("sc_quadratic", MinimizerProblem(problem, np.zeros((n, d))), w0,
                         {"L": L_safe, "mu": mu, "d": np.full(n, float(d))})


def _sc_logcosh(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    d = k.dim
    L = np.full(n, 10.0 ** k.log_scale)
    share = rng.uniform(0.1, 0.9, n)
    lam = _sc_spectrum(rng, n, d, L * share, k)
    Q = haar_orthogonal(rng, n, d)
    H = np.einsum("nij,nj,nkj->nik", Q, lam, Q)
    H = 0.5 * (H + np.swapaxes(H, 1, 2))
    m = 1 + int(rng.integers(0, 2 * d))
    R = rng.standard_normal((n, m, d)) / np.sqrt(d)
    c = rng.exponential(1.0, (n, m))
    top = np.linalg.eigvalsh(np.einsum("nki,nk,nkj->nij", R, c, R))[:, -1]
    c = c * (L * (1 - share) / top)[:, None]
    problem = RidgeQuadratic(H, np.zeros((n, d)), R, np.zeros((n, m)), c, Ridge.LOGCOSH)
    L_safe, mu = safe_constants(problem, L)
    w0 = rng.standard_normal((n, d)) * 10.0 ** k.log_w0
    return InstanceBatch("sc_logcosh", MinimizerProblem(problem, np.zeros((n, d))), w0,
                         {"L": L_safe, "mu": mu, "d": np.full(n, float(d))})


def _rsi_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    """RSI with constant mu around w* holds when Hess = A + (convex ridge part) with A >= mu I and
    grad f(w*) = 0: then <grad f(w), w - w*> >= mu ||w - w*||^2.  Checked from the arrays."""
    p: MinimizerProblem = batch.problem
    rq = p.ridge
    lam_min = np.linalg.eigvalsh(np.asarray(rq.A, np.float64))[:, 0]
    cert = smoothness_certificate(rq)
    reasons = []
    for i in range(batch.size):
        L, mu = float(batch.attrs["L"][i]), float(batch.attrs["mu"][i])
        ws = np.asarray(p.wstar[i], np.float64)
        z = rq.R[i] @ ws + rq.s[i]
        grad = rq.A[i] @ ws + rq.b[i] + rq.R[i].T @ (rq.c[i] * np.tanh(z)) if rq.ridges else rq.A[i] @ ws + rq.b[i]
        if rq.ridges and (rq.psi != Ridge.LOGCOSH or np.any(rq.c[i] < 0)):
            reasons.append("ridges are not convex log-cosh terms")
        elif np.linalg.norm(grad) > 64 * rq.dim * EPS * (L * np.linalg.norm(ws) + np.linalg.norm(rq.b[i])):
            reasons.append(f"grad f(w*) = {grad.tolist()!r} is not zero")
        elif lam_min[i] < mu:
            reasons.append(f"lambda_min(A) = {lam_min[i]!r} < mu = {mu!r}")
        elif cert[i] > L:
            # No forgiveness: the generators store L above the certificate by the eigensolver's
            # error bound, so an instance whose L is below it is outside the class, and a true
            # claim refuted on it would be a false refutation.
            reasons.append(f"certified smoothness {cert[i]!r} exceeds L = {L!r}")
        else:
            reasons.append("")
    return np.array([not r for r in reasons]), reasons


RSI_CLASS = (InstanceClass(
    name="rsi_smooth",
    text="f is L-smooth and satisfies RSI <grad f(w), w - w*> >= mu ||w - w*||^2 around its known minimizer w*",
    families=(
        Family(name="sc_quadratic", generate=_sc_quadratic, finite_sum=False, doc="strongly convex quadratic 1/2 w^T A w, A in [mu, L]"),
        Family(name="sc_logcosh", generate=_sc_logcosh, finite_sum=True, doc="strongly convex quadratic plus convex log-cosh ridges through w* = 0"),
    ),
    attributes=("L", "mu", "d"),
    member=_rsi_member,
    member_exact=rsi_member_exact,
    encode=encode_minimizer,
    decode=decode_minimizer,
    problem_type=MinimizerProblem,
))
CLASSES.append(RSI_CLASS)
