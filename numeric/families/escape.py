"""Instance classes and dynamics adapters for the saddle-escape family (family 5, seed 004 ch. 7).

Instances are :class:`kernels.escape.SaddleProblem` batches built around a strict saddle ``xs``
(stored with the problem), with the initial point ``w0`` at distance ``delta0`` from it:

* ``sine_saddle``: ``1/2 x^T diag(-gamma, lambda_2..lambda_d) x + c sum_i (sin x_i - x_i)``, saddle at 0,
  ``lambda_i`` in ``[-gamma, ell - c]``.  Hess f = H - c diag(sin x), so ``ell = max|h| + c`` and
  ``rho = c`` hold on all of R^d (|sin x_i - sin y_i| <= |x_i - y_i|).
* ``quartic_saddle``: ``-gamma y^2/2 + q y^4/4 + sum_{i>=2} lambda_i x_i^2/2`` (``x^2/2 - y^2/2 + y^4/4``
  and its d-dimensional relatives), saddle at 0, minima at ``y = +-sqrt(gamma/q)``.
* ``matrix_saddle``: ``1/4 ||M - x x^T||_F^2`` with ``M = diag(lambda_1 > lambda_2 >= ... > 0)``; saddle at
  0 (gamma = lambda_1) or at ``sqrt(lambda_k) e_k``, k >= 2 (gamma = lambda_1 - lambda_k) (S4:1426-1444).

The last two are not globally smooth; their constants are certified on a ball ``B(0, R)`` with
``R = 2 R_sub``, where ``B(0, R_sub)`` contains the sublevel set ``{f <= F}`` and
``F = f(xs) + ell_loc (2 delta0)^2 / 2`` bounds f on ``B(xs, 2 delta0)``.  Since ``grad f(0) = 0`` for
all three, a GD step with ``eta <= 1/ell`` from a point of the sublevel set moves at most ``R_sub``,
so the segment stays in ``B(0, R)`` where the descent lemma applies, and the next point is again in
the sublevel set: every GD iterate from a start within ``2 delta0`` of ``xs`` stays in ``B(0, R_sub)``.
Certificates on ``B(0, R)`` (``Hess f = diag(h - c sin x + 3 q x^2) + s(||x||^2 I + 2 x x^T)``):
``ell = max_i max(|h_i|, |h_i + 3 q_i R^2|) + max|c| + 3 s R^2``, ``rho = max|c| + 6 R (max q + s)``.

Classes: ``saddle_global`` (sine only: constants on all of R^d), ``saddle_any`` (all three; for
GD-based claims), ``saddle_minima`` (quartic only; f* finite, every noisy run ends near a minimum:
used by the hitting-time claims).  ``dimension``: the integer d alone, for the volume-ratio bound.

Adapters (in :mod:`numeric.families.escape_dynamics`): ``gd_saddle`` (GD from w0), ``gd_coupled`` (the GD pair of Lemma 7.3.3 from w0 and
``w0 - eta omega e1``, with the coupling sequences), ``pgd_gauss`` / ``pgd_ball`` (perturbed GD; start
at ``xs`` or ``w0`` by ``settings["start"]``), ``volume_ratio`` (no dynamics: Gamma(d/2+1)/Gamma(d/2+1/2)).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
from kernels.escape import SaddleProblem

from ..api import (
    Family,
    InstanceBatch,
    InstanceClass,
    Knobs,
    combine_checks,
)
from .escape_exact import (
    DEEP_RATIO,
    STUCK_HORIZON,
    certificate_bounds,
    deep_saddle_member_exact,
    growth_factor_rounded,
    saddle_member_exact,
    sine_saddle_member_exact,
)

#: This module's instance classes (registered through the ``thmcheck.classes`` entry point;
#: importing the module registers nothing).  The dynamics are in :mod:`.escape_dynamics`.
CLASSES: list[InstanceClass] = []



__all__ = [
    "certificate", "bottom_index", "saddle_gamma",
    "local_region", "sublevel_bounds", "encode_saddle", "decode_saddle",
]

_EPS = float(np.finfo(np.float64).eps)


# ------------------------------------------------------------------------------------------------
# Certificates
# ------------------------------------------------------------------------------------------------


def certificate(p: SaddleProblem, box: np.ndarray, ball: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ell, rho) certified on ``{|x_i| <= box_i} intersected with B(0, ball)`` (box (B, d), ball (B,); inf allowed
    where the corresponding terms vanish): ``ell = max_i max(|h_i|, |h_i + 3 q_i box_i^2|) + max|c| + 3 s ball^2``,
    ``rho = max|c| + 6 max_i q_i box_i + 6 s ball``."""
    h, c, q, s = (np.asarray(getattr(p, k), dtype=np.float64) for k in ("h", "c", "q", "s"))
    box = np.where(q > 0, np.asarray(box, dtype=np.float64), 0.0)
    ball = np.where(s > 0, np.asarray(ball, dtype=np.float64), 0.0)
    cmax = np.abs(c).max(axis=1)
    ell = np.maximum(np.abs(h), np.abs(h + 3 * q * box**2)).max(axis=1) + cmax + 3 * s * ball**2
    rho = cmax + 6 * (q * box).max(axis=1) + 6 * s * ball
    return ell, rho


def sublevel_bounds(p: SaddleProblem, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on the sublevel set ``{f <= F}`` for rows with c = 0 and (q = 0 or s = 0): per-coordinate
    radii (B, d) and a radius (B,) (inf where unbounded or not covered).

    s > 0, q = 0: ``f - f0 >= h_min ||x||^2/2 + s ||x||^4/4``, a quadratic in ``y = ||x||^2``.
    s = 0: ``f - f0 = sum_i g_i(x_i)``, ``g_i = h_i x_i^2/2 + q_i x_i^4/4 >= m_i``; for q_i > 0,
    ``g_i <= F - f0 - sum_{j != i} m_j`` bounds x_i^2; the coordinates with q_i = 0 < h_i share
    ``sum h_i x_i^2 / 2 <= F - f0 - sum_{q_j > 0} m_j``."""
    h, c, q, s, f0 = (np.asarray(getattr(p, k), dtype=np.float64) for k in ("h", "c", "q", "s", "f0"))
    G = np.asarray(F, dtype=np.float64) - f0
    B, d = h.shape
    box = np.full((B, d), np.inf)
    ball = np.full(B, np.inf)
    with np.errstate(all="ignore"):
        hmin = h.min(axis=1)
        y = (-hmin + np.sqrt(np.maximum(hmin**2 + 4 * s * G, 0))) / np.where(s > 0, s, 1)
        norm_rows = (s > 0) & (q.max(axis=1) == 0)
        ball = np.where(norm_rows, np.sqrt(np.maximum(y, 0)), ball)
        box = np.where(norm_rows[:, None], ball[:, None], box)
        quart = q > 0
        m = np.where(quart, np.where(h >= 0, 0.0, -(h**2) / (4 * np.where(quart, q, 1))), 0.0)
        Fi = G[:, None] - (m.sum(axis=1)[:, None] - m)
        xi2 = (-h + np.sqrt(h**2 + 4 * q * np.maximum(Fi, 0))) / np.where(quart, q, 1)
        quad = ~quart & (h > 0)
        hq = np.where(quad, h, np.inf).min(axis=1)
        rest2 = 2 * np.maximum(G - m.sum(axis=1), 0) / hq
        sep_rows = (s == 0) & np.all(quart | quad, axis=1)
        bx = np.where(quart, np.sqrt(xi2), np.sqrt(rest2)[:, None])
        box = np.where(sep_rows[:, None], bx, box)
        ball = np.where(sep_rows, np.sqrt(np.where(quart, xi2, 0).sum(axis=1) + np.where(np.isfinite(rest2), rest2, np.inf)
                                          * quad.any(axis=1)), ball)
    bad = np.abs(c).max(axis=1) > 0
    box[bad] = np.inf
    ball[bad] = np.inf
    return box, ball


def saddle_hess_diag(p: SaddleProblem) -> np.ndarray:
    """Diagonal of Hess f(xs) (exact when ``s xs`` has at most one nonzero entry, which the classes require)."""
    xs = np.asarray(p.xs, dtype=np.float64)
    return p.astype(np.float64).hess_diag(xs) + 2 * np.asarray(p.s, dtype=np.float64)[:, None] * xs * xs


def bottom_index(p: SaddleProblem) -> np.ndarray:
    """Index of the coordinate vector e1 that is the bottom eigenvector of Hess f(xs)."""
    return np.argmin(saddle_hess_diag(p), axis=1)


def saddle_gamma(p: SaddleProblem) -> np.ndarray:
    """gamma = -lambda_min(Hess f(xs))."""
    return -saddle_hess_diag(p).min(axis=1)


def local_region(p: SaddleProblem, delta0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The region (box (B, d), ball (B,)) on which the constants of a quartic instance are certified:
    twice the sublevel bounds of ``F = f(xs) + ell_loc (2 delta0)^2 / 2``, ``ell_loc`` certified on
    B(xs, 2 delta0) (which bounds f there, since grad f(xs) = 0).  Every GD iterate with eta <= 1/ell from a
    start within 2 delta0 of xs stays in the sublevel set, and each GD segment in the doubled region:
    per coordinate (separable f, grad f(0) = 0) or in norm (the ||x||^4 case) a step moves at most as far
    as the point is from 0.  Rows without quartic terms get inf (their constants are global)."""
    xs = np.asarray(p.xs, dtype=np.float64)
    rad = np.linalg.norm(xs, axis=1) + 2 * delta0
    ell_loc, _ = certificate(p, np.abs(xs) + 2 * delta0[:, None], rad)
    F = p.astype(np.float64).value(xs) + ell_loc * (2 * delta0) ** 2 / 2
    box, ball = sublevel_bounds(p, F)
    return 2 * box, 2 * ball


# ------------------------------------------------------------------------------------------------
# Generators
# ------------------------------------------------------------------------------------------------


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    z = rng.standard_normal((n, d))
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def _batch(family: str, p: SaddleProblem, delta0: np.ndarray, rng: np.random.Generator) -> InstanceBatch:
    n, d = p.h.shape
    w0 = np.asarray(p.xs) + delta0[:, None] * _unit(rng, n, d)
    delta = _safe_distance(w0, np.asarray(p.xs, dtype=np.float64))
    box, ball = local_region(p, delta)
    ell, rho = certificate(p, box, ball)
    ell, rho = _safe_certificate(p, delta, ell, rho)
    attrs = {"ell": ell, "rho": rho, "gamma": saddle_gamma(p), "d": np.full(n, float(d)), "delta0": delta}
    return InstanceBatch(family, p, w0, attrs)


def _delta0(rng: np.random.Generator, n: int, k: Knobs, scale: np.ndarray) -> np.ndarray:
    """Distance of w0 from the saddle: scale * 10^(1.5 log_w0 - 2.5 +- 0.3) (1e-6 .. 0.1 of scale)."""
    return scale * 10.0 ** (1.5 * k.log_w0 - 2.5 + rng.uniform(-0.3, 0.3, n))


def _sine(rng: np.random.Generator, n: int, k: Knobs, deep: bool = False) -> InstanceBatch:
    d = max(int(k.dim), 1)
    ell = np.full(n, 10.0 ** k.log_scale)
    c = ell * rng.uniform(0.05, 0.5 if deep else 0.6, n)
    hmax = ell - c
    # gamma / ell from 1e-3 to 0.5 (deep: from 0.1 to 0.45, so that (1 + eta gamma)^T is large for T ~ 100).
    # The deep draw starts 1e-12 above 0.1: the stored ell (max|h| + c, one ulp up) exceeds this ell
    # by a few ulps, and gamma / ell >= 0.1 must still hold exactly.
    gamma = ell * rng.uniform(_DEEP_LOW, 0.45, n) if deep else hmax * 10.0 ** rng.uniform(-3.0, -0.3, n)
    pat = k.pattern % 4
    u = rng.random((n, d))
    if pat == 0:
        lam = u * hmax[:, None]
    elif pat == 1:
        lam = -gamma[:, None] + u * (hmax + gamma)[:, None]
    elif pat == 2:
        lam = np.broadcast_to(hmax[:, None], (n, d)).copy()
    else:
        lam = gamma[:, None] + u * (hmax - gamma)[:, None]
        lam[:, -1] = hmax
    lam[:, 0] = -gamma
    p = SaddleProblem(lam, np.broadcast_to(c[:, None], (n, d)).copy(), np.zeros((n, d)), np.zeros(n), np.zeros(n),
                      xs=np.zeros((n, d)))
    b = _batch("sine_deep" if deep else "sine_saddle", p, _delta0(rng, n, k, gamma / c), rng)
    # Constants on the safe side of their exact definitions (issue 17): ell = max|h| + max|c| is one
    # rounded sum, so one ulp up covers it (delta0 is made safe in _batch).
    b.attrs["ell"] = np.nextafter(b.attrs["ell"], np.inf)
    return b


def _safe_certificate(p: SaddleProblem, delta: np.ndarray, ell: np.ndarray,
                      rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ell and rho of the quartic rows raised to the rigorous upper bounds that the exact membership
    check recomputes (:func:`~numeric.families.escape_exact.certificate_bounds`; the float64
    certificate can round a few ulps low)."""
    ell, rho = np.array(ell, dtype=np.float64), np.array(rho, dtype=np.float64)
    rows = (((np.asarray(p.q).max(axis=1) > 0) | (np.asarray(p.s) > 0))
            & (np.abs(np.asarray(p.c)).max(axis=1) == 0))
    if rows.any():
        ell_b, rho_b, bounded = certificate_bounds(np.asarray(p.h)[rows], np.asarray(p.q)[rows], np.asarray(p.s)[rows],
                                                   np.asarray(p.xs)[rows], np.asarray(delta)[rows])
        idx = np.flatnonzero(rows)[bounded]
        ell[idx] = np.maximum(ell[idx], ell_b[bounded])
        rho[idx] = np.maximum(rho[idx], rho_b[bounded])
    return ell, rho


def _square_terms(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x^2 = p + e`` exactly, elementwise (Dekker's product with Veltkamp's split; exact for the
    moderate magnitudes drawn here, no overflow or underflow)."""
    c = 134217729.0 * x  # 2^27 + 1
    hi = c - (c - x)
    lo = x - hi
    p = x * x
    return p, ((hi * hi - p) + 2.0 * hi * lo) + lo * lo


def _safe_distance(w0: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """A float ``delta`` with ``||w0_i - xs_i||^2 <= delta_i^2`` exactly, within two ulps of the norm.

    Where ``w0 - xs`` is exact in float64 (every row with xs = 0), the squared norm's terms are split
    exactly (:func:`_square_terms`) and summed with :func:`math.fsum` (correctly rounded), then delta
    is raised from the float square root until the lower end of its square's enclosure passes the
    sum's upper end: a proof without rational arithmetic.  Rows whose difference rounds are decided
    with Fractions (few: only the matrix saddles have xs != 0)."""
    diff = w0 - xs
    p, e = _square_terms(diff)
    sums = np.array([math.fsum(r) for r in np.concatenate([p, e], axis=1).tolist()])
    upper = np.nextafter(sums, np.inf)
    out = np.sqrt(upper)
    while True:
        short = np.nextafter(out * out, -np.inf) < upper
        if not short.any():
            break
        out[short] = np.nextafter(out[short], np.inf)
    back = diff - w0  # Knuth's TwoSum: its error term is exactly (w0 - xs) - diff
    inexact = (((w0 - (diff - back)) + (-xs - back)) != 0).any(axis=1)
    for i in np.flatnonzero(inexact):
        sq = sum((Fraction(a) - Fraction(b)) ** 2 for a, b in zip(w0[i].tolist(), xs[i].tolist()))
        while Fraction(float(out[i])) ** 2 < sq:
            out[i] = np.nextafter(out[i], np.inf)
    return out


#: the least gamma / ell drawn for saddle_deep: 0.1 with a margin far above the rounding of gamma and ell
_DEEP_LOW = float(DEEP_RATIO) * (1 + 1e-12)


def growth_factor(gamma: np.ndarray, ell: np.ndarray) -> np.ndarray:
    """G = (1 + gamma/ell)^100 evaluated in extended precision and rounded once to float64."""
    g = np.asarray(gamma, dtype=np.longdouble) / np.asarray(ell, dtype=np.longdouble)
    return ((1 + g) ** STUCK_HORIZON).astype(np.float64)


def _sine_deep(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    b = _sine(rng, n, k, deep=True)
    # correctly rounded, as the exact membership check requires (growth_factor misrounds ~1% of them)
    b.attrs["G"] = growth_factor_rounded(b.attrs["gamma"], b.attrs["ell"])
    return b


def _deep_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    ok, reasons = _member(batch)
    a = batch.attrs
    deep = a["gamma"] >= float(DEEP_RATIO) * a["ell"]
    good = np.abs(growth_factor(a["gamma"], a["ell"]) - a["G"]) <= 2 * _EPS * a["G"]
    for i in np.flatnonzero(~deep):
        reasons[i] = reasons[i] or "gamma / ell < 0.1"
    for i in np.flatnonzero(~good):
        reasons[i] = reasons[i] or "G != (1 + gamma/ell)^100"
    return ok & deep & good, reasons


def _quartic(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    d = max(int(k.dim), 1)
    pat = k.pattern % 3
    gamma = np.full(n, 10.0 ** k.log_scale) * 10.0 ** rng.uniform(-1.0, 0.0, n)
    a = 10.0 ** rng.uniform(-1.0, 1.0, n)  # minima at y = +-a
    if pat == 1:  # the book's x^2/2 - y^2/2 + y^4/4 (and its d-dimensional version) scaled by 10^log_scale
        gamma = np.full(n, 10.0 ** k.log_scale)
        a = np.ones(n)
    if pat == 0:
        lam = gamma[:, None] * 10.0 ** rng.uniform(-1.0, 1.0, (n, d))
    elif pat == 1:
        lam = np.broadcast_to(gamma[:, None], (n, d)).copy()  # x^2/2 - y^2/2 + y^4/4 when gamma = a = 1
    else:
        lam = gamma[:, None] * 10.0 ** rng.uniform(0.0, 1.0, (n, d))
    lam[:, 0] = -gamma
    q = np.zeros((n, d))
    q[:, 0] = gamma / a**2
    p = SaddleProblem(lam, np.zeros((n, d)), q, np.zeros(n), np.zeros(n), xs=np.zeros((n, d)))
    b = _batch("quartic_saddle", p, _delta0(rng, n, k, a), rng)
    # min of -gamma y^2/2 + q y^4/4 (at y = +-a), correctly rounded from the stored h and q
    b.attrs["fstar"] = np.array([float(-Fraction(float(h0)) ** 2 / (4 * Fraction(float(q0))))
                                 for h0, q0 in zip(lam[:, 0], q[:, 0])])
    return b


def _matrix(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    d = max(int(k.dim), 2)
    l1 = 10.0 ** k.log_scale
    pat = k.pattern % 3
    rest = np.sort(rng.uniform(0.05, 0.95, (n, d - 1)), axis=1)[:, ::-1] * l1
    if pat == 1:  # a small gap: shallow saddles
        rest[:, 0] = l1 * (1 - 10.0 ** rng.uniform(-3.0, -1.0, n))
    # sqrt(lambda_k) on a grid 2^e with 2^(2e) a multiple of ulp(lambda_1) and lambda_k = its square: then
    # xs = sqrt(lambda_k) e_k is an exact critical point and lambda_k - lambda_i, gamma are exact floats.
    grid = 2.0 ** (np.ceil(np.log2(np.spacing(l1)) / 2) + 1)
    rest = (np.round(np.sqrt(rest) / grid) * grid) ** 2
    lam = np.concatenate([np.full((n, 1), l1), rest], axis=1)
    which = rng.integers(0, d, n)  # 0: the saddle at 0; k >= 1: sqrt(lambda_k) e_k
    if pat == 2:
        which[:] = 0
    xs = np.zeros((n, d))
    rows = np.flatnonzero(which > 0)
    xs[rows, which[rows]] = np.sqrt(lam[rows, which[rows]])
    p = SaddleProblem(-lam, np.zeros((n, d)), np.zeros((n, d)), np.ones(n), (lam**2).sum(axis=1) / 4, xs=xs)
    gamma = saddle_gamma(p)
    return _batch("matrix_saddle", p, _delta0(rng, n, k, np.sqrt(gamma)), rng)


# ------------------------------------------------------------------------------------------------
# Membership
# ------------------------------------------------------------------------------------------------


def _member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    """Independent checks: xs is a critical point; Hess f(xs) is diagonal (s xs has at most one nonzero
    entry) with lambda_min = -gamma < 0; delta0 = ||w0 - xs||; ell and rho are at least the certificates
    (on R^d when q = s = 0, else on B(0, R) recomputed from f, delta0); for d <= 24, the dense Hessian
    norm at sampled points of that ball (radius R and R/2) and the Hessian-Lipschitz quotient between
    pairs of them do not exceed ell and rho."""
    p = batch.problem.astype(np.float64)
    n, d = p.h.shape
    xs = np.asarray(p.xs, dtype=np.float64)
    a = batch.attrs
    ell, rho, gamma, delta0 = a["ell"], a["rho"], a["gamma"], a["delta0"]
    g = p.grad(xs)
    gscale = (np.abs(p.h) * np.abs(xs)).sum(axis=1) + np.asarray(p.s) * (xs * xs).sum(axis=1) ** 1.5 + 1e-300
    Hd = saddle_hess_diag(p)
    quart = (p.q.max(axis=1) > 0) | (p.s > 0)
    box, ball = local_region(p, delta0)
    cert_ell, cert_rho = certificate(p, box, ball)
    tol = 1e-12
    checks = [
        ((p.q >= 0).all(axis=1) & (p.s >= 0), "q and s must be nonnegative"),
        (~quart | (np.abs(p.c).max(axis=1) == 0), "a quartic instance must have c = 0"),
        ((p.q.max(axis=1) == 0) | (p.s == 0), "q and s cannot both be nonzero"),
        ((np.asarray(p.s)[:, None] * xs != 0).sum(axis=1) <= 1, "Hess f(xs) is not diagonal"),
        (np.linalg.norm(g, axis=1) <= 64 * _EPS * gscale * d, "xs is not a critical point"),
        (np.abs(-Hd.min(axis=1) - gamma) <= 1e-12 * np.abs(Hd).max(axis=1), "gamma != -lambda_min(Hess f(xs))"),
        (gamma > 0, "xs is not a strict saddle"),
        (np.abs(np.linalg.norm(batch.w0 - xs, axis=1) - delta0) <= 4 * _EPS * (delta0 + np.linalg.norm(xs, axis=1)),
         "delta0 != ||w0 - xs||"),
        (np.all(np.isfinite(np.where(p.q > 0, box, 0)), axis=1) & (np.isfinite(ball) | (p.s == 0)) | ~quart,
         "the sublevel set is not bounded"),
        (ell >= cert_ell * (1 - tol), "ell is below the certified Hessian bound"),
        (rho >= cert_rho * (1 - tol), "rho is below the certified Hessian-Lipschitz bound"),
    ]
    if d <= 24:
        rng = np.random.default_rng(1234)
        far = 10 * (np.linalg.norm(xs, axis=1) + 1)
        bx = np.where(np.isfinite(box), box, far[:, None])
        bl = np.where(np.isfinite(ball), ball, np.inf)
        pts = []
        for f in (1.0, 0.5, 1.0, 0.25, -1.0):
            x = bx * (np.sign(rng.uniform(-1, 1, (n, d))) if f < 0 else rng.uniform(-f, f, (n, d)))
            nx = np.linalg.norm(x, axis=1)
            pts.append(x * np.minimum(1.0, bl / np.maximum(nx, 1e-300))[:, None])
        H = [np.linalg.eigvalsh(p.hessian(x)) for x in pts]
        hn = np.max([np.abs(e).max(axis=1) for e in H], axis=0)
        lip = np.zeros(n)
        for i in range(len(pts)):
            for j in range(i):
                dH = np.linalg.eigvalsh(p.hessian(pts[i]) - p.hessian(pts[j]))
                dist = np.linalg.norm(pts[i] - pts[j], axis=1)
                lip = np.maximum(lip, np.where(dist > 0, np.abs(dH).max(axis=1) / np.where(dist > 0, dist, 1), 0.0))
        checks.append((hn <= ell * (1 + tol) + 1e-300, "sampled Hessian norm exceeds ell"))
        checks.append((lip <= rho * (1 + 1e-9) + 1e-300, "sampled Hessian-Lipschitz quotient exceeds rho"))
    return combine_checks(n, checks)


def encode_saddle(problem: SaddleProblem, i: int) -> dict[str, Any]:
    return {k: np.asarray(getattr(problem, k), dtype=np.float64)[i].tolist() for k in ("h", "c", "q", "s", "f0", "xs")}


def decode_saddle(data: dict[str, Any]) -> SaddleProblem:
    vec = {k: np.asarray(data[k], dtype=np.float64)[None] for k in ("h", "c", "q", "xs")}
    sca = {k: np.asarray([data[k]], dtype=np.float64) for k in ("s", "f0")}
    return SaddleProblem(vec["h"], vec["c"], vec["q"], sca["s"], sca["f0"], xs=vec["xs"])


_ATTRS = ("ell", "rho", "gamma", "d", "delta0")
_SINE = Family(name="sine_saddle", generate=_sine, finite_sum=False, doc="1/2 x^T diag(-gamma, lambda_2..lambda_d) x + c sum (sin x_i - x_i), gamma/ell from 1e-3 to 0.5")
_QUARTIC = Family(name="quartic_saddle", generate=_quartic, finite_sum=False, doc="-gamma y^2/2 + q y^4/4 + sum lambda_i x_i^2/2 (minima at y = +-sqrt(gamma/q))")
_MATRIX = Family(name="matrix_saddle", generate=_matrix, finite_sum=False, doc="1/4 ||M - x x^T||_F^2, M diagonal, saddles at 0 and at sqrt(lambda_k) e_k, k >= 2")

CLASSES.append(InstanceClass(
    name="saddle_global",
    text="f is ell-gradient Lipschitz and rho-Hessian Lipschitz on R^d, with a strict saddle xs "
    "(grad f(xs) = 0, lambda_min(Hess f(xs)) = -gamma < 0)",
    families=(_SINE,),
    attributes=_ATTRS,
    member=_member,
    member_exact=sine_saddle_member_exact,
    encode=encode_saddle,
    decode=decode_saddle,
    problem_type=SaddleProblem,
))
CLASSES.append(InstanceClass(
    name="saddle_any",
    text="f has a strict saddle xs (lambda_min(Hess f(xs)) = -gamma < 0) and is ell-gradient Lipschitz and "
    "rho-Hessian Lipschitz on a ball containing every GD iterate (eta <= 1/ell) started within 2 delta0 of xs",
    families=(_SINE, _QUARTIC, _MATRIX),
    attributes=_ATTRS,
    member=_member,
    member_exact=saddle_member_exact,
    encode=encode_saddle,
    decode=decode_saddle,
    problem_type=SaddleProblem,
))
CLASSES.append(InstanceClass(
    name="saddle_deep",
    text="the class saddle_global with gamma / ell >= 0.1 (saddles that GD with eta = 1/ell leaves fast); "
    "G = (1 + gamma/ell)^100, the growth of the e1-component over 100 GD steps",
    families=(Family(name="sine_deep", generate=_sine_deep, finite_sum=False, doc="sine_saddle with gamma/ell >= 0.1 (gamma drawn in [0.1, 0.45] ell), c/ell in [0.05, 0.5]"),),
    attributes=_ATTRS + ("G",),
    member=_deep_member,
    member_exact=deep_saddle_member_exact,
    encode=encode_saddle,
    decode=decode_saddle,
    problem_type=SaddleProblem,
))


def _minima_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    ok, reasons = _member(batch)
    p = batch.problem.astype(np.float64)
    h, q = p.h, p.q
    with np.errstate(all="ignore"):
        fstar = p.f0 + np.where(q > 0, -np.minimum(h, 0) ** 2 / (4 * np.where(q > 0, q, 1)), 0).sum(axis=1)
    good = (p.s == 0) & np.all((q > 0) | (h > 0), axis=1) & (np.abs(fstar - batch.attrs["fstar"]) <= 1e-12 * np.abs(fstar))
    for i in np.flatnonzero(~good):
        reasons[i] = reasons[i] or "fstar is not the minimum of f"
    return ok & good, reasons


CLASSES.append(InstanceClass(
    name="saddle_minima",
    text="f = -gamma y^2/2 + q y^4/4 + sum lambda_i x_i^2/2: a strict saddle at 0, f* = -gamma^2/(4q) finite, ell and rho "
    "certified on a region containing every GD iterate started within 2 delta0 of 0",
    families=(_QUARTIC,),
    attributes=_ATTRS + ("fstar",),
    member=_minima_member,
    member_exact=saddle_member_exact,
    encode=encode_saddle,
    decode=decode_saddle,
    problem_type=SaddleProblem,
))
