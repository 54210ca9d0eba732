"""Gradient descent, heavy ball and Nesterov on the generic first-order classes
(:mod:`numeric.families.first_order`), and the observables first-order-method claims read.

Observables (k = 0..N; a per-step claim may combine only observables of one length):

* length N (t = 0..N-1, as the ``gd`` dynamics): ``f_t``, ``f_next``, ``gnorm2_t``, ``gnorm2_next``
  and the rounding scales ``fabs_t`` / ``fabs_next``;
* length N+1 (k = 0..N): ``fgap_t`` = f(x_k) - f*, ``dist2_t`` = ||x_k - x*||^2 (the squared
  distance to the minimiser set), ``gnorm2_k`` = ||grad f(x_k)||^2, ``k_t`` = k, with the scales
  ``fgap_abs_t`` / ``dist2_abs_t``;
* per trajectory: ``f_first`` / ``f_last``, ``fgap_first`` / ``fgap_last``, ``dist2_first`` /
  ``dist2_last`` (each with its scale), ``gnorm2_first``, ``gnorm2_last`` (the last iterate),
  ``gnorm2_min_all`` (min over 0 <= t <= N, both ends included), ``gnorm2_min`` (min over
  0 <= t < N) and ``horizon`` = N.

``f*`` and the minimiser set exist for members of the convex classes (and of the PL class, whose
coordinate derivatives change sign once): the set is the box
``prod_i [lo_i, hi_i]`` in the rotated coordinates ``y = Q x`` (an end may be infinite where a
coordinate function is flat), computed exactly per coordinate from the knots; on a member with a
stationary point that is not a minimiser these observables are NaN, so a claim that reads them on
the smooth class meets an error, never a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from kernels.first_order import RotatedPWQ, first_order, knot_values

from ..api import Dynamics, ParameterDomain, Run, RunRequest, observables

__all__ = ["DYNAMICS", "FirstOrderData", "minimiser_box", "GD", "HEAVY_BALL", "NESTEROV"]

DYNAMICS: list[Dynamics] = []


def minimiser_box(p: RotatedPWQ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per coordinate of the rotated variables: the minimiser interval ``[lo, hi]`` of ``phi_i``
    (B, d) (NaN where ``phi_i'`` changes sign more than once or ``phi_i`` has no minimiser), and f*
    (B,) with the sum of
    |terms| of f* (its rounding scale); in the problem's dtype."""
    z, g, cl, cr = p.z, p.g, p.cl, p.cr
    B, d, K1 = z.shape
    dt = z.dtype
    # Every stationary point of phi_i is a minimiser exactly when its derivative changes sign once
    # (-, then 0, then +: "unimodal"), which convex members satisfy and PL members
    # (numeric.families.pl_pwq) too; the minimiser interval is then where phi_i' = 0.
    sgn = np.sign(g)
    convex = np.all(np.diff(sgn, axis=2) >= 0, axis=2) & (cl >= 0) & (cr >= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Lower end: the first point where phi' >= 0.
        lo = np.full((B, d), np.nan, dtype=dt)
        hi = np.full((B, d), np.nan, dtype=dt)
        g0, gK = g[..., 0], g[..., -1]
        left_zero = z[..., 0] - g0 / cl  # the zero on the left end piece (g0 > 0, cl > 0)
        right_zero = z[..., -1] - gK / cr
        first = np.argmax(g >= 0, axis=2)  # first knot with g >= 0 (0 if none: handled below)
        last = K1 - 1 - np.argmax(g[..., ::-1] <= 0, axis=2)  # last knot with g <= 0
        tk = lambda a, i: np.take_along_axis(a, i[..., None], axis=2)[..., 0]  # noqa: E731
        fm = np.maximum(first - 1, 0)
        inner_lo = tk(z, fm) - tk(g, fm) * (tk(z, first) - tk(z, fm)) / (tk(g, first) - tk(g, fm))
        inner_lo = np.where(first == 0, z[..., 0], inner_lo)
        lp = np.minimum(last + 1, K1 - 1)
        inner_hi = tk(z, last) - tk(g, last) * (tk(z, lp) - tk(z, last)) / (tk(g, lp) - tk(g, last))
        inner_hi = np.where(last == K1 - 1, z[..., -1], inner_hi)
        # Ends: phi' > 0 on the whole knot range -> the zero lies on the left end piece, etc.
        lo = np.where(g0 > 0, left_zero, np.where((g0 == 0) & (cl == 0), -np.inf, inner_lo))
        lo = np.where(gK < 0, right_zero, lo)
        hi = np.where(gK < 0, right_zero, np.where((gK == 0) & (cr == 0), np.inf, inner_hi))
        hi = np.where(g0 > 0, left_zero, hi)
        ok = convex & ~((g0 > 0) & (cl <= 0)) & ~((gK < 0) & (cr <= 0))
        lo = np.where(ok, lo, np.nan)
        hi = np.where(ok, hi, np.nan)
        # f*: phi_i at a finite point of its minimiser interval.
        at = np.where(np.isfinite(lo), lo, np.where(np.isfinite(hi), hi, z[..., 0]))
        phi, phia = _phi(p, at)
    fstar = p.f0 + phi.sum(axis=1)
    fstar_abs = np.abs(p.f0) + phia.sum(axis=1)
    return lo, hi, fstar, fstar_abs


def _phi(p: RotatedPWQ, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """phi_i(y_i) (B, d) and its sum of |terms|."""
    z, g = p.z, p.g
    K1 = z.shape[2]
    F, FA = knot_values(z, g)
    k = (z <= y[..., None]).sum(axis=2) - 1
    left, right = k < 0, k >= K1 - 1
    kk = np.clip(k, 0, max(K1 - 2, 0))
    base = np.where(left, 0, np.where(right, K1 - 1, kk))
    tk = lambda a, i: np.take_along_axis(a, i[..., None], axis=2)[..., 0]  # noqa: E731
    if K1 > 1:
        dz = tk(z, kk + 1) - tk(z, kk)
        inner = np.where(dz > 0, (tk(g, kk + 1) - tk(g, kk)) / np.where(dz > 0, dz, 1), 0)
    else:
        inner = np.zeros_like(y)
    curv = np.where(left, p.cl, np.where(right, p.cr, inner))
    dd = y - tk(z, base)
    gb = tk(g, base)
    return (tk(F, base) + gb * dd + curv * dd * dd / 2,
            tk(FA, base) + np.abs(gb * dd) + np.abs(curv) * dd * dd / 2)


@dataclass(frozen=True, eq=False)
class FirstOrderData:
    """A run's data: iterates x (B, N+1, d), f, ||grad f||^2 and f's rounding scale (B, N+1), and
    the minimiser box and f* of each problem (NaN where not defined)."""

    x: np.ndarray
    f: np.ndarray
    gnorm2: np.ndarray
    fabs: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    Q: np.ndarray
    fstar: np.ndarray
    fstar_abs: np.ndarray

    def dist2(self) -> tuple[np.ndarray, np.ndarray]:
        """||x_k - x*||^2 to the minimiser set (B, N+1) and its rounding scale."""
        y = np.einsum("bij,bkj->bki", self.Q, self.x)
        lo, hi = self.lo[:, None, :], self.hi[:, None, :]
        with np.errstate(invalid="ignore"):
            below, above = lo - y, y - hi
            gap = np.where(below > 0, below, np.where(above > 0, above, 0 * y))
            gap = np.where(np.isnan(lo) | np.isnan(hi), np.nan, gap)
            end = np.where(below > 0, lo, np.where(above > 0, hi, 0 * y))
            scale = (np.abs(y) + np.abs(np.where(np.isfinite(end), end, 0))) ** 2
        return np.sum(gap * gap, axis=2), np.sum(scale, axis=2)


def _gap(r: FirstOrderData) -> np.ndarray:
    return r.f - r.fstar[:, None]


def _gap_abs(r: FirstOrderData) -> np.ndarray:
    return r.fabs + r.fstar_abs[:, None]


def _steps(r: FirstOrderData) -> np.ndarray:
    n, T1 = r.f.shape
    return np.broadcast_to(np.arange(T1, dtype=r.f.dtype), (n, T1))


PER_STEP: dict[str, Callable[[FirstOrderData], np.ndarray]] = {
    "f_t": lambda r: r.f[:, :-1],
    "f_next": lambda r: r.f[:, 1:],
    "gnorm2_t": lambda r: r.gnorm2[:, :-1],
    "gnorm2_next": lambda r: r.gnorm2[:, 1:],
    "fabs_t": lambda r: r.fabs[:, :-1],
    "fabs_next": lambda r: r.fabs[:, 1:],
    "fgap_t": _gap,
    "fgap_abs_t": _gap_abs,
    "dist2_t": lambda r: r.dist2()[0],
    "dist2_abs_t": lambda r: r.dist2()[1],
    "gnorm2_k": lambda r: r.gnorm2,
    "k_t": _steps,
}

TRAJECTORY: dict[str, Callable[[FirstOrderData], np.ndarray]] = {
    "f_first": lambda r: r.f[:, 0],
    "f_last": lambda r: r.f[:, -1],
    "fabs_first": lambda r: r.fabs[:, 0],
    "fabs_last": lambda r: r.fabs[:, -1],
    "fgap_first": lambda r: _gap(r)[:, 0],
    "fgap_last": lambda r: _gap(r)[:, -1],
    "fgap_abs_first": lambda r: _gap_abs(r)[:, 0],
    "fgap_abs_last": lambda r: _gap_abs(r)[:, -1],
    "dist2_first": lambda r: r.dist2()[0][:, 0],
    "dist2_last": lambda r: r.dist2()[0][:, -1],
    "dist2_abs_first": lambda r: r.dist2()[1][:, 0],
    "dist2_abs_last": lambda r: r.dist2()[1][:, -1],
    "gnorm2_first": lambda r: r.gnorm2[:, 0],
    "gnorm2_last": lambda r: r.gnorm2[:, -1],
    "gnorm2_min_all": lambda r: r.gnorm2.min(axis=1),
    "gnorm2_min": lambda r: r.gnorm2[:, :-1].min(axis=1),
    "horizon": lambda r: np.full(r.f.shape[0], r.f.shape[1] - 1, dtype=r.f.dtype),
}

SCALE_OF = {
    "f_t": "fabs_t", "f_next": "fabs_next", "f_first": "fabs_first", "f_last": "fabs_last",
    "fgap_t": "fgap_abs_t", "fgap_first": "fgap_abs_first", "fgap_last": "fgap_abs_last",
    "dist2_t": "dist2_abs_t", "dist2_first": "dist2_abs_first", "dist2_last": "dist2_abs_last",
}

DOCS = {
    "fgap_t": "f(x_k) - f*, k = 0..N", "dist2_t": "||x_k - x*||^2 (distance to the minimiser set), k = 0..N",
    "gnorm2_k": "||grad f(x_k)||^2, k = 0..N", "k_t": "the step index k",
    "fgap_last": "f(x_N) - f*", "dist2_first": "||x_0 - x*||^2", "dist2_last": "||x_N - x*||^2",
    "gnorm2_last": "||grad f(x_N)||^2", "gnorm2_min_all": "min over 0 <= t <= N of ||grad f(x_t)||^2",
    "gnorm2_min": "min over 0 <= t < N of ||grad f(x_t)||^2", "horizon": "the number of steps N",
}

_OBS = observables(PER_STEP, TRAJECTORY, SCALE_OF, DOCS)


def _runner(method: str, step: str, momentum: str | None) -> Callable[[RunRequest], Run]:
    def run(req: RunRequest) -> Run:
        p = req.problem.astype(req.dtype)
        n = p.size
        mom = req.params[momentum] if momentum else np.zeros(n)
        r = first_order(p, req.w0, req.params[step], mom, req.horizon, method=method, backend=req.backend,
                        dtype=req.dtype)
        lo, hi, fstar, fstar_abs = minimiser_box(p)
        return Run(FirstOrderData(r.x, r.f, r.gnorm2, r.fabs, lo, hi, p.Q, fstar, fstar_abs), backend=r.backend)

    return run


def _dyn(name: str, method: str, params: tuple[str, ...], domain: tuple[ParameterDomain, ...], doc: str) -> Dynamics:
    return Dynamics(name=name, run=_runner(method, params[0], params[1] if len(params) > 1 else None),
                    observables=_OBS, accepts=(RotatedPWQ,), parameters=params, domain=domain, doc=doc)


GD = _dyn("fo_gd", "gd", ("eta",), (ParameterDomain(name="eta", lower=0.0, lower_strict=True),),
          "gradient descent x_{k+1} = x_k - eta grad f(x_k) on the generic first-order classes")
HEAVY_BALL = _dyn("fo_heavy_ball", "heavy_ball", ("alpha", "beta"),
                  (ParameterDomain(name="alpha", lower=0.0, lower_strict=True),
                   ParameterDomain(name="beta", lower=0.0, upper=1.0, upper_strict=True)),
                  "heavy ball x_{k+1} = x_k - alpha grad f(x_k) + beta (x_k - x_{k-1}), x_{-1} = x_0")
NESTEROV = _dyn("fo_nesterov", "nesterov", ("s",), (ParameterDomain(name="s", lower=0.0, lower_strict=True),),
                "Nesterov: y_k = x_k + (k-1)/(k+2) (x_k - x_{k-1}), x_{k+1} = y_k - s grad f(y_k), x_{-1} = x_0")
DYNAMICS.extend([GD, HEAVY_BALL, NESTEROV])
