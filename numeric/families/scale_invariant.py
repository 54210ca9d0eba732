"""Instance class and dynamics adapters for the scale-invariant family (family 6, seed 004 ch. 13).

Instance class ``rayleigh_si``: the Rayleigh quotient ``L(w) = w^T A w / w^T w`` of a symmetric A
(scale invariant: ``L(cw) = L(w)`` for c > 0) together with a weight decay ``lam > 0``.  Constants:

* ``rho = max_{||w||=1} ||Hess L(w)||_2 = 2 (lambda_max(A) - lambda_min(A))`` *exactly*.  Proof: at a
  unit w, with ``g = grad L(w) = 2 (A - L I) w``, the Hessian is ``H = 2A - 2L I - 4(A w w^T + w w^T A)
  + 8 L w w^T``; for a unit vector ``x = alpha w + v`` (v orthogonal to w) one finds
  ``x^T H x = 2 (y^T A y - L(w))`` with the unit vector ``y = -alpha w + v``, which lies in
  ``[2 (lambda_min - L), 2 (lambda_max - L)]``, so ``||H|| <= 2 (lambda_max - lambda_min)``; equality at
  w = the bottom eigenvector, x = the top one.  (In 2-D the Hessian norm at angle theta is
  ``(lambda_max - lambda_min)(1 + |cos 2 theta|)``.)  The generator builds A from a spectrum whose end
  points it chooses, so rho is known by construction; the membership check recomputes it from the
  eigenvalues of the stored A and compares it with a multistart estimate of max ||Hess L||.
* ``lmin = min L = lambda_min(A)``, ``lam`` the weight decay, ``d`` the dimension.

A second class, ``rayleigh_si_slow_decay``, draws a small weight decay (lam/rho ~ 1e-3.4..1e-3.1) and
``||w0||^2`` in [10^-2.5, 10^4]: only there is the small-gradient level ``8 pi^4 rho^2 lam eta`` of
Theorem 13.4.2 / Lemma 13.4.8 below ``max ||grad L(w/||w||)||^2 = rho^2/4`` (it needs
``eta lam < 1/(32 pi^4)``), so that their hitting times are not 0 by default.

``rayleigh_si_slow_large_w0`` (||w0||^2 in [10, 10^4], an instance constant ``w0n2``) serves Lemma 13.4.9.
``scale_invariant_losses`` joins Rayleigh quotients, ``softplus(u^T w/||w||)`` and the normalised logistic
loss on separable data (rho the certified bound derived below, lmin a certified lower bound of min L);
``logistic_si`` is the logistic family alone (minibatches).

Dynamics adapters: ``gd_wd`` (GD with weight decay; ``settings["batch"] = b`` runs minibatch losses, batches
from :func:`minibatches`), ``gd_wd_exp_lr`` (beside it the exponential-LR
protocol with the corrected schedule ``eta (1 - eta lam)^{-(2t+1)}`` and the printed one
``(1 - eta lam)^{-(2t+1)}``) ``gd_wd_hitting`` (long runs, hitting times only) and ``orthogonal_pair`` (Lemma 13.4.5: one pair x, v per
instance); see
:mod:`kernels.scale_invariant`.  The thresholds the hitting adapter uses (:func:`hit_threshold`,
:func:`norm_threshold`) are tested against the spec's expressions.
"""

from __future__ import annotations

import functools

from typing import Any

import numpy as np

from kernels.rng import randint
from kernels.scale_invariant import (NormalizedSoftplus, Rayleigh, gd_wd, gd_wd_hitting, softplus_ball_descent,

                                     softplus_value_grad)

from ..api import (
    combine_checks,
    Dynamics,
    Family,
    haar_orthogonal,
    InstanceBatch,
    InstanceClass,
    Knobs,
    observables,
    Run,
    RunRequest,
    Setting,
)

#: This module's instance classes and dynamics (registered through the entry points
#: ``thmcheck.classes`` / ``thmcheck.dynamics``; importing the module registers nothing).
CLASSES: list[InstanceClass] = []
DYNAMICS: list[Dynamics] = []


__all__ = ["rayleigh_hessian", "hessian_norm_estimate", "RHO_FACTOR", "hit_threshold", "norm_threshold",
           "softplus_hessian", "softplus_rho_certificate", "softplus_hessian_norm_estimate", "softplus_min_lower_bound"]

_EPS = float(np.finfo(np.float64).eps)
RHO_FACTOR = 2.0  # rho = RHO_FACTOR * (lambda_max - lambda_min)


def rayleigh_hessian(A: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Hessian of the Rayleigh quotient at w (batched: A (B, d, d), w (B, d)), any norm of w."""
    n2 = np.einsum("bi,bi->b", w, w)
    u = w / np.sqrt(n2)[:, None]
    Au = np.einsum("bij,bj->bi", A, u)
    L = np.einsum("bi,bi->b", u, Au)
    d = A.shape[-1]
    H = (2 * A - 2 * L[:, None, None] * np.eye(d) - 4 * (Au[:, :, None] * u[:, None, :] + u[:, :, None] * Au[:, None, :])
         + 8 * L[:, None, None] * u[:, :, None] * u[:, None, :])
    return H / n2[:, None, None]


def hessian_norm_estimate(A: np.ndarray, starts: int = 24, seed: int = 0) -> np.ndarray:
    """Multistart estimate of ``max_{||w||=1} ||Hess L(w)||_2`` (never above the true rho): the
    Hessian norm at random unit starts, at the eigenvectors of A and at the mid-point of the bottom and
    top eigenvectors.  (The maximum is attained at the bottom eigenvector, which is among the starts.)"""
    B, d, _ = A.shape
    rng = np.random.default_rng(seed)
    _, V = np.linalg.eigh(A)
    cands = [V[:, :, k] for k in range(d)]
    cands += [(V[:, :, 0] + V[:, :, -1]) / np.sqrt(2.0)]
    for _ in range(starts):
        x = rng.standard_normal((B, d))
        cands.append(x / np.linalg.norm(x, axis=1, keepdims=True))
    best = np.zeros(B)
    for w in cands:
        ev = np.linalg.eigvalsh(rayleigh_hessian(A, w))
        best = np.maximum(best, np.abs(ev).max(axis=1))
    return best


# ------------------------------------------------------------------------------------------------
# Instance class
# ------------------------------------------------------------------------------------------------


def _spectrum(rng: np.random.Generator, n: int, d: int, s: np.ndarray, pattern: int) -> np.ndarray:
    """Eigenvalues in [-s, s] with both end points present (so lambda_max - lambda_min = 2 s)."""
    p = pattern % 6
    lam = rng.uniform(-1.0, 1.0, (n, d))
    if p == 1:  # two levels
        lam = np.where(rng.random((n, d)) < 0.5, -1.0, 1.0)
    elif p == 2:  # clustered at the top, one at the bottom
        lam = 1.0 - 0.05 * rng.random((n, d))
    elif p == 3:  # near-degenerate bottom
        lam = -1.0 + 0.05 * rng.random((n, d))
    lam[:, 0] = -1.0
    lam[:, -1] = 1.0
    return lam * s[:, None]


def _generate(rng: np.random.Generator, n: int, k: Knobs, slow: bool = False, large_w0: bool = False) -> InstanceBatch:
    d = max(int(k.dim), 2)
    s = np.full(n, 10.0 ** k.log_scale)
    lam_spec = _spectrum(rng, n, d, s, k.pattern)
    # A shift c I changes L by c and nothing else (gradient, Hessian and dynamics are shift-free);
    # half the patterns shift, to exercise the rounding scales.
    shift = s * rng.uniform(-3.0, 3.0, n) * (k.pattern % 2 == 0)
    Q = haar_orthogonal(rng, n, d)
    A = np.einsum("nij,nj,nkj->nik", Q, lam_spec + shift[:, None], Q)
    A = 0.5 * (A + np.swapaxes(A, 1, 2))
    rho = RHO_FACTOR * 2.0 * s
    w0 = rng.standard_normal((n, d))
    w0 = w0 / np.linalg.norm(w0, axis=1, keepdims=True)
    if slow:
        # Small weight decay, lam / rho in [10^-3.4, 10^-3.1]: with eta rho in [1/4, 1] (the search range of
        # the hitting-time theorems) eta lam lies in [1e-4, 8e-4], where the level 8 pi^4 rho^2 lam eta
        # is below max ||grad L(w/||w||)||^2 = rho^2/4 for eta lam < 1/(32 pi^4) = 3.2e-4.  ||w0||^2 from
        # 10^-2.5 to 10^4 keeps the horizon bound of Theorem 13.4.2 below 60000 steps.
        lam = rho * 10.0 ** rng.uniform(-3.4, -3.1, n)
        expo = np.clip(0.75 + 3.25 * (k.log_w0 + 0.5) / 1.5 + rng.uniform(-0.3, 0.3, n), -2.5, 4.0)
        if large_w0:
            # ||w0||^2 in [10^1.0, 10^4] > pi^2 >= pi^2 rho eta for every eta <= 1/rho (Lemma 13.4.9's hypothesis)
            expo = np.clip(2.5 + 1.5 * (k.log_w0 + 0.5) / 1.5 + rng.uniform(-0.3, 0.3, n), 1.0, 4.0)
        w0 = w0 * 10.0 ** (expo[:, None] / 2)
    else:
        # Weight decay relative to rho: eta in (0, 1/(2 lam)] then gives eta rho <= 10^-x <= 1.
        lam = 0.5 * rho * 10.0 ** rng.uniform(0.0, 1.5, n)
        # Initial norms over many orders of magnitude (||w0||^2 from 1e-9 to 1e5 across the knob's range).
        w0 = w0 * 10.0 ** (2.0 * k.log_w0 + rng.uniform(-0.5, 0.5, (n, 1)))
    attrs = {"rho": rho, "lam": lam, "lmin": s * -1.0 + shift, "d": np.full(n, float(d))}
    if large_w0:
        attrs["w0n2"] = (w0 * w0).sum(axis=1)
    return InstanceBatch("rayleigh", Rayleigh(A), w0, attrs)


def _member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    """Independent check: A symmetric; rho = 2 (lambda_max - lambda_min) and lmin = lambda_min of the
    stored A to within eigenvalue backward error (16 d eps ||A||); the multistart estimate of
    max ||Hess L|| on the unit sphere does not exceed rho; lam > 0; w0 != 0."""
    A = np.asarray(batch.problem.A, dtype=np.float64)
    d = A.shape[-1]
    ev = np.linalg.eigvalsh(A)
    anorm = np.abs(ev).max(axis=1)
    rho, lmin, lam = batch.attrs["rho"], batch.attrs["lmin"], batch.attrs["lam"]
    slack = 16 * d * _EPS * (anorm + rho)
    exact = RHO_FACTOR * (ev[:, -1] - ev[:, 0])
    est = hessian_norm_estimate(A, starts=8)
    checks = (
        (np.all(A == np.swapaxes(A, 1, 2), axis=(1, 2)), "A is not symmetric"),
        (np.abs(exact - rho) <= 4 * slack, "rho differs from 2 (lambda_max - lambda_min)"),
        (est <= rho + 8 * slack, "the multistart Hessian-norm estimate exceeds rho"),
        (np.abs(ev[:, 0] - lmin) <= slack, "lmin differs from lambda_min(A)"),
        (lam > 0, "weight decay must be positive"),
        (np.linalg.norm(batch.w0, axis=1) > 0, "w0 = 0"),
    )
    if "w0n2" in batch.attrs:  # the initial squared norm as an instance constant (classes that fix it)
        n2 = (batch.w0 * batch.w0).sum(axis=1)
        checks += ((np.abs(batch.attrs["w0n2"] - n2) <= 4 * (d + 2) * _EPS * n2, "w0n2 differs from ||w0||^2"),)
    return combine_checks(A.shape[0], checks)


def _generate_slow(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    return _generate(rng, n, k, slow=True)


def _generate_slow_large(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    return _generate(rng, n, k, slow=True, large_w0=True)


def _encode(problem: Rayleigh, i: int) -> dict[str, Any]:
    return {"A": np.asarray(problem.A[i], dtype=np.float64).tolist()}


def _decode(data: dict[str, Any]) -> Rayleigh:
    A = np.asarray(data["A"], dtype=np.float64)
    return Rayleigh(A[None])


CLASSES.append(InstanceClass(
    name="rayleigh_si",
    text="L(w) = w^T A w / w^T w (scale invariant), rho = max_{||w||=1} ||Hess L(w)|| = 2 (lambda_max - lambda_min), "
    "weight decay lam > 0",
    families=(Family(name="rayleigh", generate=_generate, finite_sum=False, doc="Rayleigh quotients with spectrum in [c - s, c + s] (both ends present), weight decay lam = "
            "(rho/2) 10^U(0, 1.5), ||w0|| over many orders of magnitude"),),
    attributes=("rho", "lam", "lmin", "d"),
    member=_member,
    encode=_encode,
    decode=_decode,
    problem_type=Rayleigh,
))


CLASSES.append(InstanceClass(
    name="rayleigh_si_slow_decay",
    text="the class rayleigh_si with a small weight decay (lam / rho in [10^-3.4, 10^-3.1]) and ||w0||^2 in "
    "[10^-2.5, 10^4], where the small-gradient level of Theorem 13.4.2 is not met at t = 0 by default",
    families=(Family(name="rayleigh_slow", generate=_generate_slow, finite_sum=False, doc="Rayleigh quotients as in rayleigh_si, lam = rho 10^U(-3.4, -3.1), ||w0||^2 = 10^U(-2.5, 4)"),),
    attributes=("rho", "lam", "lmin", "d"),
    member=_member,
    encode=_encode,
    decode=_decode,
    problem_type=Rayleigh,
))


CLASSES.append(InstanceClass(
    name="rayleigh_si_slow_large_w0",
    text="the class rayleigh_si_slow_decay with ||w0||^2 in [10, 10^4] (so ||w0||^2 > pi^2 rho eta whenever eta rho <= 1), "
    "the initial squared norm w0n2 an instance constant",
    families=(Family(name="rayleigh_slow_large_w0", generate=_generate_slow_large, finite_sum=False, doc="Rayleigh quotients as in rayleigh_si, lam = rho 10^U(-3.4, -3.1), ||w0||^2 = 10^U(1, 4)"),),
    attributes=("rho", "lam", "lmin", "d", "w0n2"),
    member=_member,
    encode=_encode,
    decode=_decode,
    problem_type=Rayleigh,
))

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


def _softplus_h(a: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """h(v) = (1/m) sum_k softplus(a_k^T v) and its gradient, any v (not normalised)."""
    z = np.matmul(a, v[:, :, None])[:, :, 0]
    sp = np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))
    sg = np.exp(z - sp)
    return sp.mean(axis=1), np.matmul(sg[:, None, :], a)[:, 0, :] / a.shape[1]


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
    """(certified lower bound of min_{||w||=1} L, the value h(v*) at the ball point v* it is taken at)."""
    B, m, d = a.shape
    C = np.einsum("bki,bkj->bij", a, a) / m
    step = 1.0 / np.maximum(np.linalg.eigvalsh(C)[:, -1] / 4.0, 1e-300)
    _, g = _softplus_h(a, np.zeros((B, d)))
    v = -g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-300)
    v = softplus_ball_descent(a, v, step, iters)  # the iterate only; the bound is computed here
    hv, g = _softplus_h(a, v)
    return hv - np.einsum("bi,bi->b", g, v) - np.linalg.norm(g, axis=1), hv


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
    rho = softplus_rho_certificate(a)
    lmin = softplus_min_lower_bound(a, iters=200)[0] if with_lmin else None
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
    slack = 16 * (d + m) * _EPS * (anorm2 + cert)
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
        scale = 16 * (d + m) * _EPS * (np.abs(hv) + np.sqrt(anorm2)) + 1e-9 * np.abs(hv)
        checks = checks[:2] + (
            (lmin <= np.minimum(probe, hv) + scale, "lmin exceeds L at a point of the sphere"),
            (lmin <= low + scale, "lmin exceeds a fresh certified lower bound of min L"),
        ) + checks[2:]
    return combine_checks(B, checks)


def _any_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    return (_member if isinstance(batch.problem, Rayleigh) else _softplus_member)(batch)


def _any_encode(problem: Any, i: int) -> dict[str, Any]:
    if isinstance(problem, Rayleigh):
        return _encode(problem, i)
    return {"a": np.asarray(problem.a[i], dtype=np.float64).tolist()}


def _any_decode(data: dict[str, Any]) -> Any:
    if "A" in data:
        return _decode(data)
    return NormalizedSoftplus(np.asarray(data["a"], dtype=np.float64)[None])


_SOFTPLUS = Family(name="softplus", generate=lambda r, n, k: _generate_softplus(r, n, k, False), finite_sum=False, doc="softplus(s u^T w/||w||), ||u|| = 1, s = 10^log_scale; rho = the certified rho_bar; lmin = "
                   "softplus(-s) (to the certificate's rounding)")
_LOGISTIC = Family(name="logistic", generate=lambda r, n, k: _generate_softplus(r, n, k, True), finite_sum=True, doc="normalised logistic loss (1/m) sum_k log(1 + exp(-y_k x_k^T w/||w||)) on m = 2d..4d separable "
                   "points; rho = the certified rho_bar; lmin = a certified lower bound of min L")
_RAYLEIGH = Family(name="rayleigh", generate=_generate, finite_sum=False, doc="Rayleigh quotients with spectrum in [c - s, c + s] (both ends present), weight decay lam = "
                   "(rho/2) 10^U(0, 1.5), ||w0|| over many orders of magnitude")

CLASSES.append(InstanceClass(
    name="scale_invariant_losses",
    text="L is scale invariant: a Rayleigh quotient (rho exact), softplus(u^T w/||w||) or a normalised logistic loss "
    "(rho a certified upper bound of max_{||w||=1} ||Hess L||); weight decay lam > 0",
    families=(_RAYLEIGH, _SOFTPLUS, _LOGISTIC),
    attributes=("rho", "lam", "lmin", "d"),
    member=_any_member,
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
    encode=_any_encode,
    decode=_any_decode,
    problem_type=NormalizedSoftplus,
))

# ------------------------------------------------------------------------------------------------
# Dynamics adapters
# ------------------------------------------------------------------------------------------------


def hit_threshold(rho: Any, lam: Any, eta: Any) -> Any:
    """``8 pi^4 rho^2 lam eta``: the gradient-norm level of Theorem 13.4.2 / Lemma 13.4.8 (a test checks
    it against the spec's expression)."""
    dt = np.result_type(np.asarray(rho).dtype, np.float64)
    pi = np.longdouble("3.14159265358979323846264338327950288") if dt == np.longdouble else np.pi
    return 8 * pi**4 * rho**2 * lam * eta


def terms(problem: Any) -> int:
    """How many products each gradient entry sums (the rounding scales' count factor): d for a Rayleigh
    quotient, d + m for a normalised softplus loss with m components."""
    return problem.dim + (0 if isinstance(problem, Rayleigh) else problem.components)


def minibatches(seed: int, instance_ids: np.ndarray, T: int, m: int, b: int) -> np.ndarray:
    """(B, T + 1, b) component indices: entry j of the batch at step t of instance i is
    ``kernels.rng.randint(seed, instance_ids[i], t, j, m)`` (with replacement), so both protocols and
    every replay see the same batches."""
    ids = np.asarray(instance_ids, dtype=np.int64)[:, None, None]
    t = np.arange(T + 1, dtype=np.int64)[None, :, None]
    j = np.arange(b, dtype=np.int64)[None, None, :]
    return randint(int(seed), ids, t, j, m)


def _run(req: RunRequest, *, exp_lr: bool) -> Run:
    problem, w0 = req.problem, req.w0
    eta = np.asarray(req.params["eta"], dtype=req.dtype)
    lam = np.asarray(req.params["lam"], dtype=req.dtype)
    T = int(req.horizon)
    d = terms(problem)
    bsz = req.settings["batch"]
    batches = None if bsz is None else minibatches(req.seed, req.instance_ids, T, problem.components, int(bsz))
    if exp_lr:
        off = int(req.settings["schedule_offset"])
        tr = gd_wd(problem, w0, eta, lam, T, exp_lr_scale=eta * (1 - eta * lam) ** off, batches=batches,
                   backend=req.backend, dtype=req.dtype)
        trp = gd_wd(problem, w0, eta, lam, T, exp_lr_scale=np.ones_like(eta), batches=batches, backend=req.backend,
                    dtype=req.dtype)
    else:
        tr = gd_wd(problem, w0, eta, lam, T, batches=batches, backend=req.backend, dtype=req.dtype)
        trp = None
    n2, g2 = tr.wnorm2, tr.gnorm2
    e = eta[:, None]
    g2abs = (8 * d + 16) * tr.gabs**2
    n2abs = (d + 2) * n2
    out = {
        "f": tr.f, "fabs": tr.fabs, "g2": g2, "g2abs": g2abs, "n2": n2, "n2abs": n2abs,
        "n2next_abs": n2abs[:, 1:] + n2abs[:, :-1] + 8 * (d + 2) * e * np.sqrt(n2[:, :-1]) * tr.gabs[:, :-1],
        "gbar2": n2 * g2, "gbar2abs": n2abs * g2 + n2 * g2abs,
        "horizon": np.full(n2.shape[0], T, dtype=n2.dtype),
    }
    if exp_lr:
        out.update(direrr=tr.direrr, normerr=tr.normerr, errscale=tr.errscale,
                   direrr_printed=trp.direrr, errscale_printed=trp.errscale)
    return Run(out, backend=tr.backend)


def norm_threshold(rho: Any, eta: Any) -> Any:
    """``pi^2 rho eta``: the norm level of Lemma 13.4.8 (a test checks it against the spec)."""
    dt = np.result_type(np.asarray(rho).dtype, np.float64)
    pi = np.longdouble("3.14159265358979323846264338327950288") if dt == np.longdouble else np.pi
    return pi**2 * rho * eta


def _traj_obs(*names: str) -> dict[str, Any]:
    return {k: (lambda r, k=k: r[k]) for k in names}


_PER_STEP = {
    "f_t": lambda r: r["f"][:, :-1], "f_next": lambda r: r["f"][:, 1:],
    "fabs_t": lambda r: r["fabs"][:, :-1], "fabs_next": lambda r: r["fabs"][:, 1:],
    "gnorm2_t": lambda r: r["g2"][:, :-1], "gnorm2abs_t": lambda r: r["g2abs"][:, :-1],
    "wnorm2_t": lambda r: r["n2"][:, :-1], "wnorm2abs_t": lambda r: r["n2abs"][:, :-1],
    "wnorm2_next": lambda r: r["n2"][:, 1:], "wnorm2abs_next": lambda r: r["n2next_abs"],
    "gbar2_t": lambda r: r["gbar2"][:, :-1], "gbar2abs_t": lambda r: r["gbar2abs"][:, :-1],
}
_SCALE_OF = {
    "f_t": "fabs_t", "f_next": "fabs_next", "gnorm2_t": "gnorm2abs_t", "wnorm2_t": "wnorm2abs_t",
    "wnorm2_next": "wnorm2abs_next", "gbar2_t": "gbar2abs_t",
}
_EXP_PER_STEP = {
    # the two protocols agree at t = 0 by construction; steps t = 1..T are the claims' content
    "direrr_next": lambda r: r["direrr"][:, 1:], "normerr_next": lambda r: r["normerr"][:, 1:],
    "errscale_next": lambda r: r["errscale"][:, 1:],
    "direrr_printed_next": lambda r: r["direrr_printed"][:, 1:],
    "errscale_printed_next": lambda r: r["errscale_printed"][:, 1:],
}
_EXP_SCALE_OF = {"direrr_next": "errscale_next", "normerr_next": "errscale_next",
                 "direrr_printed_next": "errscale_printed_next"}


def _run_hitting(req: RunRequest) -> Run:
    problem, w0 = req.problem, req.w0
    eta = np.asarray(req.params["eta"], dtype=req.dtype)
    lam = np.asarray(req.params["lam"], dtype=req.dtype)
    rho = np.asarray(req.params["rho"], dtype=req.dtype)
    h = gd_wd_hitting(problem, w0, eta, lam, int(req.horizon), hit_threshold(rho, lam, eta),
                      norm_threshold(rho, eta), backend=req.backend, dtype=req.dtype)
    w0 = np.asarray(w0, dtype=req.dtype)
    d = terms(problem)
    return Run({
        "hit_time": h.hit.astype(req.dtype), "either_time": h.either.astype(req.dtype),
        "wnorm2_either": h.wnorm2_either, "wnorm2_either_abs": (d + 2) * h.wnorm2_either,
        "w0n2": (w0 * w0).sum(axis=1), "gbar2_min": h.gbar_min,
        "horizon": np.full(w0.shape[0], int(req.horizon), dtype=req.dtype),
    }, backend=h.backend)


_BATCH = Setting(name="batch", default=None,
                 doc="minibatch size b: step t uses the mean loss of b components drawn by counter-based sampling "
                 "(None: the full loss)")
_OFFSET = Setting(name="schedule_offset", default=0,
                  doc="k: the exponential-LR protocol runs eta_t = eta (1 - eta lam)^(k - (2t+1)); k = 0 is the "
                  "corrected schedule, other values are deliberately wrong variants")

DYNAMICS.append(Dynamics(
    name="gd_wd_hitting",
    run=_run_hitting,
    observables=observables({}, _traj_obs("hit_time", "either_time", "wnorm2_either", "wnorm2_either_abs", "w0n2", "gbar2_min", "horizon"), {"wnorm2_either": "wnorm2_either_abs"}),
    accepts=(Rayleigh, NormalizedSoftplus),
    parameters=("eta",),
    doc="GD with weight decay run up to the first t with ||grad L(w_t/||w_t||)||^2 <= 8 pi^4 rho^2 lam eta "
    "(horizon = the longest run); hitting times only, no stored trajectory",
))
DYNAMICS.append(Dynamics(
    name="gd_wd",
    run=functools.partial(_run, exp_lr=False),
    settings=(_BATCH,),
    observables=observables(_PER_STEP, _traj_obs("horizon"), _SCALE_OF),
    accepts=(Rayleigh, NormalizedSoftplus),
    parameters=("eta",),
    doc="GD with weight decay w_{t+1} = (1 - eta lam) w_t - eta grad L(w_t) on a scale-invariant loss",
))
DYNAMICS.append(Dynamics(
    name="gd_wd_exp_lr",
    run=functools.partial(_run, exp_lr=True),
    settings=(_BATCH, _OFFSET),
    observables=observables({**_PER_STEP, **_EXP_PER_STEP}, _traj_obs("horizon"), {**_SCALE_OF, **_EXP_SCALE_OF}),
    accepts=(Rayleigh, NormalizedSoftplus),
    parameters=("eta",),
    doc="GD with weight decay beside the exponential-LR protocol v_{t+1} = v_t - eta_t grad L(v_t), "
    "eta_t = eta (1 - eta lam)^{-(2t+1)} (corrected) and (1 - eta lam)^{-(2t+1)} (as printed)",
))



# ------------------------------------------------------------------------------------------------
# Lemma 13.4.5: orthogonal pairs (x, v)
# ------------------------------------------------------------------------------------------------


def orthogonal_pair(seed: int, instance_ids: np.ndarray, x: np.ndarray) -> np.ndarray:
    """v orthogonal to x (one Gram-Schmidt step in x's dtype) with ||v|| = r ||x||, r = 10^U(-3, 1); the
    direction from ``kernels.rng.normal`` and r from ``kernels.rng.uniform``, keyed by
    (seed, instance_id, step 0, draw j), so a replay of one instance rebuilds the same v."""
    from kernels.rng import normal, uniform

    dt = x.dtype
    B, d = x.shape
    ids = np.asarray(instance_ids, dtype=np.int64)[:, None]
    z = normal(int(seed), ids, 0, np.arange(d, dtype=np.int64)[None, :]).astype(dt)
    r = (10.0 ** (-3.0 + 4.0 * uniform(int(seed), ids[:, 0], 0, d))).astype(dt)
    xn2 = (x * x).sum(axis=1)
    z = z - ((z * x).sum(axis=1) / xn2)[:, None] * x
    z = z / np.sqrt((z * z).sum(axis=1))[:, None]
    return z * (r * np.sqrt(xn2))[:, None]


def _run_pair(req: RunRequest) -> Run:
    """x = w0, v from :func:`orthogonal_pair`; L, grad L by the reference arithmetic (one evaluation, no
    dynamics: every backend computes it with NumPy)."""
    problem, w0 = req.problem, req.w0
    from kernels.scale_invariant import value_grad

    x = np.asarray(w0, dtype=req.dtype)
    P = problem.astype(req.dtype)
    v = orthogonal_pair(req.seed, req.instance_ids, x)
    xv = x + v
    f0, g0, fa0, ga0 = value_grad(P, x)
    f1, _, fa1, ga1 = value_grad(P, xv)
    t = terms(problem)
    x2, v2, xv2 = ((y * y).sum(axis=1) for y in (x, v, xv))
    ip = (v * g0).sum(axis=1)
    ipabs = (np.abs(v) * np.abs(g0)).sum(axis=1)
    # Rounding scales: L at the computed x + v (input rounding eps ||x + v|| moves L by <= ||grad L|| that much),
    # <v, grad L(x)> (gradient rounding of (4t + 8) gabs per unit of ||v||, sum of t products), ||v||^2 and
    # ||x||^2 (d + 2 products; v's orthogonality holds to d eps ||x|| ||v||, which moves the Taylor bound's
    # ||x + s v||^2 >= ||x||^2 by a relative (d + 2)(1 + ||v||/||x||) eps).
    rel = np.sqrt(v2 / x2)
    return Run({
        "pair_f_x": f0, "pair_f_x_abs": fa0,
        "pair_f_xv": f1, "pair_f_xv_abs": fa1 + (t + 2) * np.sqrt(xv2) * ga1,
        "pair_ip": ip, "pair_ip_abs": (4 * t + 8) * np.sqrt(v2) * ga0 + t * ipabs,
        "pair_v2": v2, "pair_v2_abs": (x.shape[1] + 2) * (1 + rel) * v2,
        "pair_x2": x2, "pair_x2_abs": (x.shape[1] + 2) * x2,
        "pair_ratio": rel,
        "horizon": np.zeros(x.shape[0], dtype=req.dtype),
    }, backend="numpy")


DYNAMICS.append(Dynamics(
    name="orthogonal_pair",
    run=_run_pair,
    observables=observables({}, _traj_obs("pair_f_x", "pair_f_xv", "pair_ip", "pair_v2", "pair_x2", "pair_ratio", "horizon", "pair_f_x_abs",
              "pair_f_xv_abs", "pair_ip_abs", "pair_v2_abs", "pair_x2_abs"), {"pair_f_x": "pair_f_x_abs", "pair_f_xv": "pair_f_xv_abs", "pair_ip": "pair_ip_abs", "pair_v2": "pair_v2_abs",
     "pair_x2": "pair_x2_abs"}),
    accepts=(Rayleigh, NormalizedSoftplus),
    parameters=(),
    doc="one evaluation per instance: x = w0 and v orthogonal to x with ||v||/||x|| = 10^U(-3, 1) (counter-based "
    "randomness keyed by (seed, instance_id)); L(x), L(x + v), <v, grad L(x)>, ||v||^2, ||x||^2",
))
