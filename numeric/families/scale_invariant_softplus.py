"""Scale-invariant family, normalised softplus losses: softplus(u^T w/||w||) and the normalised logistic loss,
with the certified bound rho_bar on the Hessian over the sphere and a certified lower bound of min L."""

from __future__ import annotations

from typing import Any

import numpy as np
from kernels.scale_invariant import (
    NormalizedSoftplus,
    Rayleigh,
    softplus_value_grad,
)

from ..api import (
    Dynamics,
    Family,
    InstanceBatch,
    InstanceClass,
    Knobs,
    combine_checks,
)
from .scale_invariant import (
    EPS,
    decode_rayleigh,
    encode_rayleigh,
    generate_rayleigh,
    rayleigh_member,
)
from .scale_invariant_softplus_exact import logistic_member_exact, losses_member_exact
from .softplus_ball import softplus_ball_point, softplus_h

__all__ = ["softplus_ball_point", "softplus_rho_safe", "softplus_lmin_safe", "softplus_hessian_norm_estimate", "softplus_hessian", "softplus_min_lower_bound", "softplus_rho_certificate"]

#: This module's instance classes and dynamics (registered through the entry points
#: ``thmcheck.classes`` / ``thmcheck.dynamics``; importing the module registers nothing).
CLASSES: list[InstanceClass] = []
DYNAMICS: list[Dynamics] = []


# ------------------------------------------------------------------------------------------------
# Normalised softplus losses: softplus(u^T w/||w||) and the normalised logistic loss
# ------------------------------------------------------------------------------------------------
#
# L(w) = h(w/||w||) with h(v) = (1/m) sum_k softplus(a_k^T v).  At a unit point u, with g = grad h(u),
# H = Hess h(u) = (1/m) sum_k sigmoid'(a_k^T u) a_k a_k^T and P = I - u u^T, the Hessian of L is
#     Hess L(u) = P H P - (u^T g) P - (P g) u^T - u (P g)^T      (and Hess L(cw) = Hess L(w)/c^2).
# Certified bound (the instance's rho): with C = (1/m) sum_k a_k a_k^T, lambda = lambda_max(C),
# alpha = lambda/4 >= ||H|| (sigmoid' <= 1/4) and s = sqrt(lambda) >= ||g|| (||g|| <= (1/m) sum_k |a_k^T x|
# <= sqrt(x^T C x) for the unit x attaining it).  For a unit x = beta u + y (y orthogonal to u),
# x^T Hess L x = y^T (P H P - (u^T g) P) y - 2 beta (P g)^T y, so with c = |u^T g| and b = ||P g||
# (c^2 + b^2 <= s^2):  |x^T Hess L x| <= (alpha + c) ||y||^2 + 2 b |beta| ||y|| <= (A + sqrt(A^2 + 4 b^2))/2,
# A = alpha + c.  Since (alpha + c)^2 + 4 (s^2 - c^2) = alpha^2 + 2 alpha c - 3 c^2 + 4 s^2 <= 4 alpha^2/3 + 4 s^2
# and alpha + c <= alpha + s:
#     rho <= rho_bar = (alpha + s + sqrt(4 alpha^2 / 3 + 4 s^2)) / 2.
# The classes use rho = rho_bar (any certified upper bound keeps every claim of the family valid).
#
# min L: h is convex, so min over the sphere >= min over the unit ball, and for any v* in the ball
# with g* = grad h(v*), h(v) >= h(v*) + g*^T (v - v*) >= h(v*) - g*^T v* - ||g*|| on the ball: a certified
# lower bound, tight when the ball's minimiser lies on the sphere (for separable data, where h has no
# stationary point, and for m = 1, where it is exact: softplus(-||u||)).  lmin is that bound at v* from
# projected gradient descent on the ball; using a lower bound of min L makes Lemma 13.4.3(2)'s check
# at least as strong as the statement.


def softplus_hessian(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Hessian of L(w) = (1/m) sum_k softplus(a_k^T w/||w||) (batched: a (B, m, d), w (B, d))."""
    n2 = np.einsum("bi,bi->b", w, w)
    u = w / np.sqrt(n2)[:, None]
    z = np.einsum("bkj,bj->bk", a, u)
    sg = 1.0 / (1.0 + np.exp(-z))
    g = np.einsum("bk,bkj->bj", sg, a) / a.shape[1]
    H = np.einsum("bk,bki,bkj->bij", sg * (1 - sg), a, a) / a.shape[1]
    d = a.shape[-1]
    P = np.eye(d) - u[:, :, None] * u[:, None, :]
    ug = np.einsum("bi,bi->b", u, g)
    Pg = np.einsum("bij,bj->bi", P, g)
    M = (P @ H @ P - ug[:, None, None] * P - Pg[:, :, None] * u[:, None, :] - u[:, :, None] * Pg[:, None, :])
    return M / n2[:, None, None]


def softplus_rho_certificate(a: np.ndarray) -> np.ndarray:
    """rho_bar = (alpha + s + sqrt(4 alpha^2/3 + 4 s^2))/2 >= max_{||w||=1} ||Hess L(w)|| (see above)."""
    C = np.einsum("bki,bkj->bij", a, a) / a.shape[1]
    lam = np.maximum(np.linalg.eigvalsh(C)[:, -1], 0.0)
    alpha, s = lam / 4.0, np.sqrt(lam)
    return (alpha + s + np.sqrt(4.0 * alpha**2 / 3.0 + 4.0 * s**2)) / 2.0


def softplus_hessian_norm_estimate(a: np.ndarray, starts: int = 24, seed: int = 0) -> np.ndarray:
    """Multistart estimate of max_{||w||=1} ||Hess L(w)|| (never above the true value): random unit
    points, +-a_k/||a_k||, and a few steps of ascent on the top eigenvalue's magnitude."""
    B, m, d = a.shape
    rng = np.random.default_rng(seed)
    cands = [rng.standard_normal((B, d)) for _ in range(starts)]
    for k in range(min(m, 4)):
        cands += [a[:, k], -a[:, k]]
    best = np.zeros(B)
    for w in cands:
        w = w / np.maximum(np.linalg.norm(w, axis=1, keepdims=True), 1e-300)
        w = np.where(np.isfinite(w) & (np.linalg.norm(w, axis=1, keepdims=True) > 0), w, 1.0 / np.sqrt(d))
        best = np.maximum(best, np.abs(np.linalg.eigvalsh(softplus_hessian(a, w))).max(axis=1))
    return best


def softplus_min_lower_bound(a: np.ndarray, iters: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """(lower bound of min_{||w||=1} L in float64 arithmetic, the value h(v*) at the ball point v* it is taken
    at); certified up to the float rounding of the bound's three terms (the generators subtract a bound on it)."""
    v = softplus_ball_point(a, iters)
    hv, g = softplus_h(a, v)
    return hv - np.einsum("bi,bi->b", g, v) - np.linalg.norm(g, axis=1), hv


def softplus_rho_safe(a: np.ndarray) -> np.ndarray:
    """The certificate rho_bar evaluated on the safe side of its float rounding, for the generators: lambda_max(C)
    raised by a bound on the rounding of C = (1/m) a^T a and on the eigensolver's backward error
    (8 (m + d) eps mean_k ||a_k||^2, mean_k ||a_k||^2 = tr C >= ||C||), then rho_bar raised by 16 eps for its
    own few operations; rho_bar is increasing in lambda, so the result is not below rho_bar(lambda_max(C))
    for the exact C of the stored a (the exact membership check's test)."""
    B, m, d = a.shape
    C = np.einsum("bki,bkj->bij", a, a) / m
    tr = (a * a).sum(axis=(1, 2)) / m
    lam = np.maximum(np.linalg.eigvalsh(C)[:, -1], 0.0) + 8 * (m + d) * EPS * tr
    alpha, s = lam / 4.0, np.sqrt(lam)
    return (alpha + s + np.sqrt(4.0 * alpha**2 / 3.0 + 4.0 * s**2)) / 2.0 * (1 + 16 * EPS)


def softplus_lmin_safe(a: np.ndarray, iters: int) -> np.ndarray:
    """The lower bound of min L at the ball point v* after ``iters`` descent steps, lowered by a bound on its
    float rounding: with z_k = a_k^T v*, sigma_k = sigmoid(z_k) and r_k = sum_i |a_ki v*_i| (z_k's rounding is
    at most d eps r_k), the three terms h(v*), g*^T v* and ||g*|| are off by at most a few (d + m) eps times
    |h| + |g^T v| + ||g|| + mean_k sigma_k r_k (1 + r_k) (the last factor: sigma's sensitivity to z's rounding
    carried through g^T v); 16 (d + m) eps times that sum is subtracted."""
    B, m, d = a.shape
    v = softplus_ball_point(a, iters)
    hv, g = softplus_h(a, v)
    z = np.matmul(a, v[:, :, None])[:, :, 0]
    sig = np.exp(z - (np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))))
    r = np.abs(a * v[:, None, :]).sum(axis=2)
    gv = np.einsum("bi,bi->b", g, v)
    gn = np.linalg.norm(g, axis=1)
    err = np.abs(hv) + np.abs(gv) + gn + (sig * r * (1 + r)).mean(axis=1)
    return hv - gv - gn - 16 * (d + m) * EPS * err


def _random_dirs(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _softplus_data(rng: np.random.Generator, n: int, k: Knobs, logistic: bool) -> np.ndarray:
    """m = 1: a = s u (softplus(s u^T w/||w||)); logistic: a_k = -y_k x_k for m = 2d..4d points x_k
    separable by a random unit v0 with margin (y_k x_k^T v0 >= 0.1 s / sqrt(d)), scale s = 10^log_scale."""
    d = max(int(k.dim), 2)
    s = 10.0 ** (k.log_scale if not logistic else 0.5 * k.log_scale)
    if not logistic:
        return (s * _random_dirs(rng, n, d))[:, None, :]
    m = 2 * d + (k.pattern % 3) * d  # separable points; the data scale is 10^(log_scale / 2)
    v0 = _random_dirs(rng, n, d)
    x = rng.standard_normal((n, m, d))
    par = np.einsum("nkj,nj->nk", x, v0)
    y = np.where(rng.random((n, m)) < 0.5, -1.0, 1.0)
    x = x + ((y * (0.1 + np.abs(par))) - par)[:, :, None] * v0[:, None, :]
    return -(y[:, :, None] * x) * (s / np.sqrt(d))


def _generate_softplus(rng: np.random.Generator, n: int, k: Knobs, logistic: bool, with_lmin: bool = True) -> InstanceBatch:
    a = _softplus_data(rng, n, k, logistic)
    d = a.shape[-1]
    # Both constants on the safe side of their float rounding (the exact membership check decides them
    # on the stored a; the nominal float values fell on the wrong side in most draws).
    rho = softplus_rho_safe(a)
    lmin = softplus_lmin_safe(a, iters=200) if with_lmin else None
    w0 = _random_dirs(rng, n, d)
    lam = 0.5 * rho * 10.0 ** rng.uniform(0.0, 1.5, n)
    w0 = w0 * 10.0 ** (2.0 * k.log_w0 + rng.uniform(-0.5, 0.5, (n, 1)))
    attrs = {"rho": rho, "lam": lam, "d": np.full(n, float(d))}
    if with_lmin:
        attrs["lmin"] = lmin
    return InstanceBatch("logistic" if logistic else "softplus", NormalizedSoftplus(a), w0, attrs)


def _softplus_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    """Independent check: rho equals the certificate recomputed from the stored a (to eigenvalue backward
    error) and is not below a multistart estimate of max ||Hess L|| on the sphere; lmin is a lower bound
    of L at the multistart points and agrees with a fresh certified bound (own solver run); lam > 0."""
    a = np.asarray(batch.problem.a, dtype=np.float64)
    B, m, d = a.shape
    rho, lam = batch.attrs["rho"], batch.attrs["lam"]
    cert = softplus_rho_certificate(a)
    anorm2 = (a * a).sum(axis=-1).max(axis=1)
    slack = 16 * (d + m) * EPS * (anorm2 + cert)
    est = softplus_hessian_norm_estimate(a, starts=8, seed=1)
    checks: tuple = (
        (np.abs(cert - rho) <= slack, "rho differs from the certified bound recomputed from a"),
        (est <= rho + slack, "the multistart Hessian-norm estimate exceeds rho"),
        (lam > 0, "weight decay must be positive"),
        (np.linalg.norm(batch.w0, axis=1) > 0, "w0 = 0"),
    )
    if "lmin" in batch.attrs:  # classes that carry min L (Lemma 13.4.3(2))
        lmin = batch.attrs["lmin"]
        low, hv = softplus_min_lower_bound(a, iters=250)  # more iterations than the generator: a sharper bound
        rng = np.random.default_rng(2)
        probe = np.min([softplus_value_grad(a, _random_dirs(rng, B, d))[0] for _ in range(8)], axis=0)
        scale = 16 * (d + m) * EPS * (np.abs(hv) + np.sqrt(anorm2)) + 1e-9 * np.abs(hv)
        checks = checks[:2] + (
            (lmin <= np.minimum(probe, hv) + scale, "lmin exceeds L at a point of the sphere"),
            (lmin <= low + scale, "lmin exceeds a fresh certified lower bound of min L"),
        ) + checks[2:]
    return combine_checks(B, checks)


def _any_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    return (rayleigh_member if isinstance(batch.problem, Rayleigh) else _softplus_member)(batch)


def _any_encode(problem: Any, i: int) -> dict[str, Any]:
    if isinstance(problem, Rayleigh):
        return encode_rayleigh(problem, i)
    return {"a": np.asarray(problem.a[i], dtype=np.float64).tolist()}


def _any_decode(data: dict[str, Any]) -> Any:
    if "A" in data:
        return decode_rayleigh(data)
    return NormalizedSoftplus(np.asarray(data["a"], dtype=np.float64)[None])


_SOFTPLUS = Family(name="softplus", generate=lambda r, n, k: _generate_softplus(r, n, k, False), finite_sum=False, doc="softplus(s u^T w/||w||), ||u|| = 1, s = 10^log_scale; rho = the certified rho_bar; lmin = "
                   "softplus(-s) (to the certificate's rounding)")
_LOGISTIC = Family(name="logistic", generate=lambda r, n, k: _generate_softplus(r, n, k, True), finite_sum=True, doc="normalised logistic loss (1/m) sum_k log(1 + exp(-y_k x_k^T w/||w||)) on m = 2d..4d separable "
                   "points; rho = the certified rho_bar; lmin = a certified lower bound of min L")
_RAYLEIGH = Family(name="rayleigh", generate=generate_rayleigh, finite_sum=False, doc="Rayleigh quotients with spectrum in [c - s, c + s] (both ends present), weight decay lam = "
                   "(rho/2) 10^U(0, 1.5), ||w0|| over many orders of magnitude")

CLASSES.append(InstanceClass(
    name="scale_invariant_losses",
    text="L is scale invariant: a Rayleigh quotient (rho exact), softplus(u^T w/||w||) or a normalised logistic loss "
    "(rho a certified upper bound of max_{||w||=1} ||Hess L||); weight decay lam > 0",
    families=(_RAYLEIGH, _SOFTPLUS, _LOGISTIC),
    attributes=("rho", "lam", "lmin", "d"),
    member=_any_member,
    member_exact=losses_member_exact,
    encode=_any_encode,
    decode=_any_decode,
    problem_type=(Rayleigh, NormalizedSoftplus),
))

CLASSES.append(InstanceClass(
    name="logistic_si",
    text="L_t are minibatch means of a normalised logistic loss (each scale invariant); weight decay lam > 0",
    families=(Family(name="logistic", generate=lambda r, n, k: _generate_softplus(r, n, k, True, with_lmin=False), finite_sum=True, doc="normalised logistic loss on m = 2d..4d separable points; rho = the certified rho_bar (no lmin)"),),
    attributes=("rho", "lam", "d"),
    member=_any_member,
    member_exact=logistic_member_exact,
    encode=_any_encode,
    decode=_any_decode,
    problem_type=NormalizedSoftplus,
))

