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

Dynamics adapters: ``gd_wd`` (GD with weight decay), ``gd_wd_exp_lr`` (beside it the exponential-LR
protocol with the corrected schedule ``eta (1 - eta lam)^{-(2t+1)}`` and the printed one
``(1 - eta lam)^{-(2t+1)}``) and ``gd_wd_hitting`` (long runs, hitting times only); see
:mod:`kernels.scale_invariant`.  The thresholds the hitting adapter uses (:func:`hit_threshold`,
:func:`norm_threshold`) are tested against the spec's expressions.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from kernels.scale_invariant import Rayleigh, gd_wd, gd_wd_hitting

from .dynamics import DynamicsSpec, register
from .families import Family, InstanceBatch, InstanceClass, Knobs, haar_orthogonal, register_class

__all__ = ["rayleigh_hessian", "hessian_norm_estimate", "RHO_FACTOR", "hit_threshold", "norm_threshold"]

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


def _generate(rng: np.random.Generator, n: int, k: Knobs, slow: bool = False) -> InstanceBatch:
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
        w0 = w0 * 10.0 ** (expo[:, None] / 2)
    else:
        # Weight decay relative to rho: eta in (0, 1/(2 lam)] then gives eta rho <= 10^-x <= 1.
        lam = 0.5 * rho * 10.0 ** rng.uniform(0.0, 1.5, n)
        # Initial norms over many orders of magnitude (||w0||^2 from 1e-9 to 1e5 across the knob's range).
        w0 = w0 * 10.0 ** (2.0 * k.log_w0 + rng.uniform(-0.5, 0.5, (n, 1)))
    attrs = {"rho": rho, "lam": lam, "lmin": s * -1.0 + shift, "d": np.full(n, float(d))}
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
    ok = np.ones(A.shape[0], dtype=bool)
    reasons = [""] * A.shape[0]
    checks = (
        (np.all(A == np.swapaxes(A, 1, 2), axis=(1, 2)), "A is not symmetric"),
        (np.abs(exact - rho) <= 4 * slack, "rho differs from 2 (lambda_max - lambda_min)"),
        (est <= rho + 8 * slack, "the multistart Hessian-norm estimate exceeds rho"),
        (np.abs(ev[:, 0] - lmin) <= slack, "lmin differs from lambda_min(A)"),
        (lam > 0, "weight decay must be positive"),
        (np.linalg.norm(batch.w0, axis=1) > 0, "w0 = 0"),
    )
    for good, why in checks:
        for i in np.flatnonzero(~good):
            if not reasons[i]:
                reasons[i] = why
        ok &= good
    return ok, reasons


def _generate_slow(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    return _generate(rng, n, k, slow=True)


def _encode(problem: Rayleigh, i: int) -> dict[str, Any]:
    return {"A": np.asarray(problem.A[i], dtype=np.float64).tolist()}


def _decode(data: dict[str, Any]) -> Rayleigh:
    A = np.asarray(data["A"], dtype=np.float64)
    return Rayleigh(A[None])


register_class(InstanceClass(
    "rayleigh_si",
    "L(w) = w^T A w / w^T w (scale invariant), rho = max_{||w||=1} ||Hess L(w)|| = 2 (lambda_max - lambda_min), "
    "weight decay lam > 0",
    (Family("rayleigh", _generate, False,
            "Rayleigh quotients with spectrum in [c - s, c + s] (both ends present), weight decay lam = "
            "(rho/2) 10^U(0, 1.5), ||w0|| over many orders of magnitude"),),
    ("rho", "lam", "lmin", "d"),
    _member,
    _encode,
    _decode,
))


register_class(InstanceClass(
    "rayleigh_si_slow_decay",
    "the class rayleigh_si with a small weight decay (lam / rho in [10^-3.4, 10^-3.1]) and ||w0||^2 in "
    "[10^-2.5, 10^4], where the small-gradient level of Theorem 13.4.2 is not met at t = 0 by default",
    (Family("rayleigh_slow", _generate_slow, False,
            "Rayleigh quotients as in rayleigh_si, lam = rho 10^U(-3.4, -3.1), ||w0||^2 = 10^U(-2.5, 4)"),),
    ("rho", "lam", "lmin", "d"),
    _member,
    _encode,
    _decode,
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


def _run(exp: Any, problem: Rayleigh, w0: np.ndarray, env: dict[str, np.ndarray], *, backend: str, seed: int,
         instance_ids: np.ndarray, dtype: Any, exp_lr: bool) -> dict[str, Any]:
    eta = np.asarray(env["eta"], dtype=dtype)
    lam = np.asarray(env["lam"], dtype=dtype)
    T = int(exp.horizon)
    d = problem.dim
    if exp_lr:
        # settings["schedule_offset"] = k runs eta_t = eta (1 - eta lam)^(k - (2t+1)) in place of the
        # corrected schedule (k = 0); false variants use it.
        off = int(exp.settings.get("schedule_offset", 0))
        tr = gd_wd(problem, w0, eta, lam, T, exp_lr_scale=eta * (1 - eta * lam) ** off, backend=backend, dtype=dtype)
        trp = gd_wd(problem, w0, eta, lam, T, exp_lr_scale=np.ones_like(eta), backend=backend, dtype=dtype)
    else:
        tr = gd_wd(problem, w0, eta, lam, T, backend=backend, dtype=dtype)
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
    return out


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


def _lines(d: dict[str, Any], params: Mapping[str, float], exp_lr: bool) -> list[str]:
    return [
        "import math  # the claim's printed form may use math.pi",
        "import numpy as np",
        "from kernels.scale_invariant import Rayleigh, gd_wd",
        "ld = np.longdouble",
        f"A = np.array([{d['A']!r}], dtype=ld)",
        f"w0 = np.array([{d['w0']!r}], dtype=ld)",
        f"eta = np.array([{params['eta']!r}], dtype=ld)",
        f"lam = np.array([{params['lam']!r}], dtype=ld)",
        f"tr = gd_wd(Rayleigh(A), w0, eta, lam, {d['T']}, dtype=ld, backend='numpy')",
    ] + ([f"trp = gd_wd(Rayleigh(A), w0, eta, lam, {d['T']}, exp_lr_scale=ld(1), dtype=ld, backend='numpy')",
          f"tr = gd_wd(Rayleigh(A), w0, eta, lam, {d['T']}, dtype=ld, backend='numpy', "
          f"exp_lr_scale=eta * (1 - eta * lam) ** {int(d.get('settings', {}).get('schedule_offset', 0))})"]
         if exp_lr else [])


def _snippet(exp_lr: bool):
    def snippet(d: dict[str, Any], params: Mapping[str, float], step: int | None):
        t = 0 if step is None else int(step)
        obs = {
            "f_t": f"tr.f[0, {t}]", "f_next": f"tr.f[0, {t + 1}]", "gnorm2_t": f"tr.gnorm2[0, {t}]",
            "wnorm2_t": f"tr.wnorm2[0, {t}]", "wnorm2_next": f"tr.wnorm2[0, {t + 1}]",
            "gbar2_t": f"tr.wnorm2[0, {t}] * tr.gnorm2[0, {t}]",
            "eta": "eta[0]", "lam": "lam[0]",
        }
        if exp_lr:
            obs.update({"direrr_next": f"tr.direrr[0, {t + 1}]", "normerr_next": f"tr.normerr[0, {t + 1}]",
                        "direrr_printed_next": f"trp.direrr[0, {t + 1}]"})
        return _lines(d, params, exp_lr), obs
    return snippet


def _run_hitting(exp: Any, problem: Rayleigh, w0: np.ndarray, env: dict[str, np.ndarray], *, backend: str,
                 seed: int, instance_ids: np.ndarray, dtype: Any) -> dict[str, Any]:
    eta = np.asarray(env["eta"], dtype=dtype)
    lam = np.asarray(env["lam"], dtype=dtype)
    rho = np.asarray(env["rho"], dtype=dtype)
    h = gd_wd_hitting(problem, w0, eta, lam, int(exp.horizon), hit_threshold(rho, lam, eta),
                      norm_threshold(rho, eta), backend=backend, dtype=dtype)
    w0 = np.asarray(w0, dtype=dtype)
    d = problem.dim
    return {
        "hit_time": h.hit.astype(dtype), "either_time": h.either.astype(dtype),
        "wnorm2_either": h.wnorm2_either, "wnorm2_either_abs": (d + 2) * h.wnorm2_either,
        "w0n2": (w0 * w0).sum(axis=1), "gbar2_min": h.gbar_min,
        "horizon": np.full(w0.shape[0], int(exp.horizon), dtype=dtype),
    }


def _hitting_snippet(d: dict[str, Any], params: Mapping[str, float], step: int | None):
    lines = [
        "import math  # the claim's printed form may use math.pi",
        "import numpy as np",
        "from kernels.scale_invariant import Rayleigh, gd_wd_hitting",
        "from numeric.scale_invariant import hit_threshold, norm_threshold",
        "ld = np.longdouble",
        f"A = np.array([{d['A']!r}], dtype=ld)",
        f"w0 = np.array([{d['w0']!r}], dtype=ld)",
        f"eta = np.array([{params['eta']!r}], dtype=ld)",
        f"lam = np.array([{params['lam']!r}], dtype=ld)",
        f"rho = np.array([{params['rho']!r}], dtype=ld)",
        f"h = gd_wd_hitting(Rayleigh(A), w0, eta, lam, {d['T']}, hit_threshold(rho, lam, eta), "
        "norm_threshold(rho, eta), dtype=ld, backend='numpy')",
    ]
    obs = {"hit_time": "h.hit[0]", "either_time": "h.either[0]", "wnorm2_either": "h.wnorm2_either[0]",
           "w0n2": "(w0 * w0).sum()", "eta": "eta[0]", "lam": "lam[0]", "rho": "rho[0]"}
    return lines, obs


register(DynamicsSpec(
    "gd_wd_hitting", _run_hitting, {},
    _traj_obs("hit_time", "either_time", "wnorm2_either", "wnorm2_either_abs", "w0n2", "gbar2_min", "horizon"),
    {"wnorm2_either": "wnorm2_either_abs"}, ("eta",), _hitting_snippet,
    "GD with weight decay run up to the first t with ||grad L(w_t/||w_t||)||^2 <= 8 pi^4 rho^2 lam eta "
    "(horizon = the longest run); hitting times only, no stored trajectory",
))
register(DynamicsSpec(
    "gd_wd", lambda *a, **k: _run(*a, **k, exp_lr=False), _PER_STEP,
    _traj_obs("horizon"), _SCALE_OF, ("eta",), _snippet(False),
    "GD with weight decay w_{t+1} = (1 - eta lam) w_t - eta grad L(w_t) on a scale-invariant loss",
))
register(DynamicsSpec(
    "gd_wd_exp_lr", lambda *a, **k: _run(*a, **k, exp_lr=True), {**_PER_STEP, **_EXP_PER_STEP},
    _traj_obs("horizon"), {**_SCALE_OF, **_EXP_SCALE_OF}, ("eta",), _snippet(True),
    "GD with weight decay beside the exponential-LR protocol v_{t+1} = v_t - eta_t grad L(v_t), "
    "eta_t = eta (1 - eta lam)^{-(2t+1)} (corrected) and (1 - eta lam)^{-(2t+1)} (as printed)",
))
