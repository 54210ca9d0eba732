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
:mod:`kernels.scale_invariant`.  The levels the hitting adapter stops at are the spec's own expressions (settings
``hit_level`` and ``norm_level``), never written here.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from kernels.rng import randint
from kernels.scale_invariant import NormalizedSoftplus, Rayleigh, gd_wd, gd_wd_hitting

from ..api import (
    Dynamics,
    Family,
    InstanceBatch,
    InstanceClass,
    Knobs,
    Run,
    RunRequest,
    Setting,
    combine_checks,
    haar_orthogonal,
    keyed,
    observables,
)
from .scale_invariant_exact import rayleigh_large_w0_member_exact, rayleigh_member_exact

#: This module's instance classes and dynamics (registered through the entry points
#: ``thmcheck.classes`` / ``thmcheck.dynamics``; importing the module registers nothing).
CLASSES: list[InstanceClass] = []
DYNAMICS: list[Dynamics] = []


__all__ = ["rayleigh_hessian", "hessian_norm_estimate", "RHO_FACTOR", "exact_norm_grid"]

EPS = float(np.finfo(np.float64).eps)
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


def generate_rayleigh(rng: np.random.Generator, n: int, k: Knobs, slow: bool = False, large_w0: bool = False) -> InstanceBatch:
    d = max(int(k.dim), 2)
    s = np.full(n, 10.0 ** k.log_scale)
    lam_spec = _spectrum(rng, n, d, s, k.pattern)
    # A shift c I changes L by c and nothing else (gradient, Hessian and dynamics are shift-free);
    # half the patterns shift, to exercise the rounding scales.
    shift = s * rng.uniform(-3.0, 3.0, n) * (k.pattern % 2 == 0)
    Q = haar_orthogonal(rng, n, d)
    A = np.einsum("nij,nj,nkj->nik", Q, lam_spec + shift[:, None], Q)
    A = 0.5 * (A + np.swapaxes(A, 1, 2))
    # The rounded A's spectrum differs from lam_spec + shift by a few d eps (s + |shift|); lmin and rho
    # are moved outward by a margin above that error so that spec(A) lies inside [lmin, lmin + rho/2]
    # exactly (the exact membership check of rayleigh_si_slow_decay; nominal values sat on the wrong
    # side in about half of the draws).  The margin is a quarter of the float64 check's slack.
    margin = 16 * d * EPS * (s + np.abs(shift))
    rho = RHO_FACTOR * 2.0 * s + 4 * margin
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
            # ||w0||^2 in [10^1.0, 10^4] > pi^2 >= pi^2 rho eta for every eta <= 1/rho (Lemma 13.4.9's hypothesis);
            # the ends pulled in by 1e-6 so that the rounding below cannot push ||w0||^2 out of the box
            expo = np.clip(2.5 + 1.5 * (k.log_w0 + 0.5) / 1.5 + rng.uniform(-0.3, 0.3, n), 1.0 + 1e-6, 4.0 - 1e-6)
        w0 = w0 * 10.0 ** (expo[:, None] / 2)
        if large_w0:
            w0 = exact_norm_grid(w0)
    else:
        # Weight decay relative to rho: eta in (0, 1/(2 lam)] then gives eta rho <= 10^-x <= 1.
        lam = 0.5 * rho * 10.0 ** rng.uniform(0.0, 1.5, n)
        # Initial norms over many orders of magnitude (||w0||^2 from 1e-9 to 1e5 across the knob's range).
        w0 = w0 * 10.0 ** (2.0 * k.log_w0 + rng.uniform(-0.5, 0.5, (n, 1)))
    attrs = {"rho": rho, "lam": lam, "lmin": s * -1.0 + shift - margin, "d": np.full(n, float(d))}
    if large_w0:
        attrs["w0n2"] = (w0 * w0).sum(axis=1)
    return InstanceBatch("rayleigh", Rayleigh(A), w0, attrs)


def exact_norm_grid(w: np.ndarray) -> np.ndarray:
    """Each row of w rounded to the grid 2^(e - 22), 2^e <= max_i |w_i| (a relative change below 2^-21): the
    entries are then integers below 2^24 times the grid, their squares below 2^48 times its square, and a sum
    of up to 32 of them is exact in float64, so ``(w * w).sum(axis=1)`` is exactly ||w||^2 (the instance
    constant w0n2 of rayleigh_si_slow_large_w0, which its exact membership check compares without slack)."""
    if w.shape[1] > 32:
        raise ValueError("exact_norm_grid: at most 32 entries per row")
    e = np.floor(np.log2(np.abs(w).max(axis=1)))
    grid = np.ldexp(1.0, (e - 22).astype(np.int64))[:, None]
    return np.round(w / grid) * grid


def rayleigh_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    """Independent check: A symmetric; rho = 2 (lambda_max - lambda_min) and lmin = lambda_min of the
    stored A to within eigenvalue backward error (16 d eps ||A||); the multistart estimate of
    max ||Hess L|| on the unit sphere does not exceed rho; lam > 0; w0 != 0."""
    A = np.asarray(batch.problem.A, dtype=np.float64)
    d = A.shape[-1]
    ev = np.linalg.eigvalsh(A)
    anorm = np.abs(ev).max(axis=1)
    rho, lmin, lam = batch.attrs["rho"], batch.attrs["lmin"], batch.attrs["lam"]
    slack = 16 * d * EPS * (anorm + rho)
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
        checks += ((np.abs(batch.attrs["w0n2"] - n2) <= 4 * (d + 2) * EPS * n2, "w0n2 differs from ||w0||^2"),)
    return combine_checks(A.shape[0], checks)


def _generate_slow(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    return generate_rayleigh(rng, n, k, slow=True)


def _generate_slow_large(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    return generate_rayleigh(rng, n, k, slow=True, large_w0=True)


def encode_rayleigh(problem: Rayleigh, i: int) -> dict[str, Any]:
    return {"A": np.asarray(problem.A[i], dtype=np.float64).tolist()}


def decode_rayleigh(data: dict[str, Any]) -> Rayleigh:
    A = np.asarray(data["A"], dtype=np.float64)
    return Rayleigh(A[None])


CLASSES.append(InstanceClass(
    name="rayleigh_si",
    text="L(w) = w^T A w / w^T w (scale invariant), rho = max_{||w||=1} ||Hess L(w)|| = 2 (lambda_max - lambda_min), "
    "weight decay lam > 0",
    families=(Family(name="rayleigh", generate=generate_rayleigh, finite_sum=False, doc="Rayleigh quotients with spectrum in [c - s, c + s] (both ends present), weight decay lam = "
            "(rho/2) 10^U(0, 1.5), ||w0|| over many orders of magnitude"),),
    attributes=("rho", "lam", "lmin", "d"),
    member=rayleigh_member,
    member_exact=rayleigh_member_exact,
    encode=encode_rayleigh,
    decode=decode_rayleigh,
    problem_type=Rayleigh,
))


CLASSES.append(InstanceClass(
    name="rayleigh_si_slow_decay",
    text="the class rayleigh_si with a small weight decay (lam / rho in [10^-3.4, 10^-3.1]) and ||w0||^2 in "
    "[10^-2.5, 10^4], where the small-gradient level of Theorem 13.4.2 is not met at t = 0 by default",
    families=(Family(name="rayleigh_slow", generate=_generate_slow, finite_sum=False, doc="Rayleigh quotients as in rayleigh_si, lam = rho 10^U(-3.4, -3.1), ||w0||^2 = 10^U(-2.5, 4)"),),
    attributes=("rho", "lam", "lmin", "d"),
    member=rayleigh_member,
    member_exact=rayleigh_member_exact,
    encode=encode_rayleigh,
    decode=decode_rayleigh,
    problem_type=Rayleigh,
))


CLASSES.append(InstanceClass(
    name="rayleigh_si_slow_large_w0",
    text="the class rayleigh_si_slow_decay with ||w0||^2 in [10, 10^4] (so ||w0||^2 > pi^2 rho eta whenever eta rho <= 1), "
    "the initial squared norm w0n2 an instance constant",
    families=(Family(name="rayleigh_slow_large_w0", generate=_generate_slow_large, finite_sum=False, doc="Rayleigh quotients as in rayleigh_si, lam = rho 10^U(-3.4, -3.1), ||w0||^2 = 10^U(1, 4)"),),
    attributes=("rho", "lam", "lmin", "d", "w0n2"),
    member=rayleigh_member,
    member_exact=rayleigh_large_w0_member_exact,
    encode=encode_rayleigh,
    decode=decode_rayleigh,
    problem_type=Rayleigh,
))

# ------------------------------------------------------------------------------------------------
# Dynamics adapters
# ------------------------------------------------------------------------------------------------


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
        # Measured at w_t/||w_t|| by the kernel, not derived from n2 * g2 (the identity under test).
        "gbar2": tr.gbar2, "gbar2abs": (8 * d + 16) * (tr.gabs * np.sqrt(n2))**2,
        "horizon": np.full(n2.shape[0], T, dtype=n2.dtype),
    }
    if exp_lr:
        out.update(direrr=tr.direrr, normerr=tr.normerr, errscale=tr.errscale,
                   direrr_printed=trp.direrr, errscale_printed=trp.errscale)
    return Run(out, backend=tr.backend)



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
    # Both levels are the spec's own expressions, evaluated per instance (Setting(expression=True)).
    h = gd_wd_hitting(problem, w0, eta, lam, int(req.horizon), np.asarray(req.params["hit_level"], dtype=req.dtype),
                      np.asarray(req.params["norm_level"], dtype=req.dtype), backend=req.backend, dtype=req.dtype)
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

_LEVELS = (
    Setting(name="hit_level", expression=True, required=True,
            doc="the level ||grad L(w_t/||w_t||)||^2 <= hit_level whose first time is hit_time (an expression of the "
            "spec's symbols, e.g. 8 pi^4 rho^2 lam eta)"),
    Setting(name="norm_level", expression=True, required=True,
            doc="the level ||w_t||^2 >= norm_level that also ends either_time (e.g. pi^2 rho eta)"),
)

DYNAMICS.append(Dynamics(
    name="gd_wd_hitting",
    run=_run_hitting,
    observables=observables({}, keyed("hit_time", "either_time", "wnorm2_either", "wnorm2_either_abs", "w0n2", "gbar2_min", "horizon"), {"wnorm2_either": "wnorm2_either_abs"}),
    accepts=(Rayleigh, NormalizedSoftplus),
    parameters=("eta",),
    settings=_LEVELS,
    doc="GD with weight decay run up to the first t with ||grad L(w_t/||w_t||)||^2 <= hit_level "
    "(horizon = the longest run); hitting times only, no stored trajectory",
))
DYNAMICS.append(Dynamics(
    name="gd_wd",
    run=functools.partial(_run, exp_lr=False),
    settings=(_BATCH,),
    observables=observables(_PER_STEP, keyed("horizon"), _SCALE_OF),
    accepts=(Rayleigh, NormalizedSoftplus),
    parameters=("eta",),
    doc="GD with weight decay w_{t+1} = (1 - eta lam) w_t - eta grad L(w_t) on a scale-invariant loss",
))
DYNAMICS.append(Dynamics(
    name="gd_wd_exp_lr",
    run=functools.partial(_run, exp_lr=True),
    settings=(_BATCH, _OFFSET),
    observables=observables({**_PER_STEP, **_EXP_PER_STEP}, keyed("horizon"), {**_SCALE_OF, **_EXP_SCALE_OF}),
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
    observables=observables({}, keyed("pair_f_x", "pair_f_xv", "pair_ip", "pair_v2", "pair_x2", "pair_ratio", "horizon", "pair_f_x_abs",
              "pair_f_xv_abs", "pair_ip_abs", "pair_v2_abs", "pair_x2_abs"), {"pair_f_x": "pair_f_x_abs", "pair_f_xv": "pair_f_xv_abs", "pair_ip": "pair_ip_abs", "pair_v2": "pair_v2_abs",
     "pair_x2": "pair_x2_abs"}),
    accepts=(Rayleigh, NormalizedSoftplus),
    closed_form=True,
    parameters=(),
    doc="one evaluation per instance: x = w0 and v orthogonal to x with ||v||/||x|| = 10^U(-3, 1) (counter-based "
    "randomness keyed by (seed, instance_id)); L(x), L(x + v), <v, grad L(x)>, ||v||^2, ||x||^2",
))
