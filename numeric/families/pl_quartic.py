"""PL family, the weakly-quasi-convex counterexample: separable quartic-Huber functions (convex and smooth,
not PL near 0) and gradient descent on them."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import kernels
import numpy as np

from ..api import (
    Dynamics,
    Family,
    InstanceBatch,
    InstanceClass,
    Membership,
    Knobs,
    Run,
    RunRequest,
    observables,
)
from .pl import EPS, PL_PER_STEP, PL_SCALE_OF, PL_TRAJECTORY, PLRun

#: This module's instance classes and dynamics (registered through the entry points
#: ``thmcheck.classes`` / ``thmcheck.dynamics``; importing the module registers nothing).
CLASSES: list[InstanceClass] = []
DYNAMICS: list[Dynamics] = []


# ------------------------------------------- weakly-quasi-convex: the quartic-Huber counterexample


@dataclass(frozen=True)
class QuarticProblem:
    """A batch of ``f = a sum_i h(w_i / s)`` (see :mod:`kernels.pl`), minimizer ``w* = 0``."""

    a: np.ndarray  # (B,)
    s: np.ndarray  # (B,)
    dim: int

    @property
    def batch(self) -> int:
        return self.a.shape[0]

    def astype(self, dtype: Any) -> "QuarticProblem":
        return QuarticProblem(np.asarray(self.a, dtype=dtype), np.asarray(self.s, dtype=dtype), self.dim)


def _quartic(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    d = k.dim
    L = np.full(n, 10.0 ** k.log_scale)
    s = 10.0 ** rng.uniform(-1.0, 1.0, n)
    # a on the safe side of L s^2 / 12: the three roundings of L s^2 / 12 move it by at most 3 eps
    # relative, so shrinking by 8 eps makes 12 a / s^2 <= L hold exactly (checked by the exact hook).
    a = L * s**2 / 12.0 * (1 - 8 * EPS)
    w0 = s[:, None] * rng.uniform(-1.0, 1.0, (n, d)) * 10.0 ** (k.log_w0 + 1.0)
    if k.pattern % 4 == 1:
        w0 = np.broadcast_to(s[:, None], (n, d)).copy()  # w0 = s (the seed's w0 = 1)
    return InstanceBatch("quartic_huber", QuarticProblem(a, s, d), w0,
                         {"L": L, "mu": np.ones(n), "f_star": np.zeros(n), "d": np.full(n, float(d))})


def _quartic_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    """h is convex (h'' = 12 u^2 on [-1, 1], 12 outside; C^2 at |u| = 1: values 1 = 6 - 8 + 3,
    slopes 4 = 12 - 8, curvatures 12 = 12), so f is convex: <grad f, w - w*> >= f - f* (mu = 1
    weak quasi-convexity), f* = 0 at w* = 0, and f is (12 a / s^2)-smooth.  Checked from (a, s)."""
    p: QuarticProblem = batch.problem
    u = np.array([1.0])
    h_in, h_out = u**4, 6 * u**2 - 8 * u + 3
    glued = bool(h_in[0] == h_out[0] == 1.0 and 4 * u[0] ** 3 == 12 * u[0] - 8)
    reasons = []
    for i in range(batch.size):
        a, s = float(p.a[i]), float(p.s[i])
        L, mu, fs = (float(batch.attrs[k][i]) for k in ("L", "mu", "f_star"))
        if not glued or a <= 0 or s <= 0:
            reasons.append("not a quartic-Huber instance")
        elif 12 * a / s**2 > L * (1 + 8 * EPS):
            reasons.append(f"smoothness 12 a / s^2 = {12 * a / s**2!r} exceeds L = {L!r}")
        elif mu > 1.0:
            reasons.append(f"weak quasi-convexity constant {mu!r} > 1 is not certified for a convex f")
        elif fs != 0.0:
            reasons.append(f"f* = 0, not {fs!r}")
        else:
            reasons.append("")
    return np.array([not r for r in reasons]), reasons


def _quartic_encode(problem: QuarticProblem, i: int) -> dict[str, Any]:
    return {"a": float(problem.a[i]), "s": float(problem.s[i]), "dim": int(problem.dim)}


def _quartic_decode(data: dict[str, Any]) -> QuarticProblem:
    return QuarticProblem(np.array([data["a"]], dtype=np.float64), np.array([data["s"]], dtype=np.float64), int(data["dim"]))


def _quartic_member_exact(batch: InstanceBatch) -> Membership:
    """The constants checked exactly from the stored floats: a, s > 0, the smoothness
    12 a / s^2 <= L (as 12 a <= L s^2 in rationals), mu <= 1 (convexity gives weak
    quasi-convexity with 1), f* = 0.  The gluing of h is a fact about the formula, not the data."""
    a, s, L, mu, fs = (Fraction(float(np.asarray(x).reshape(-1)[0])) for x in
                       (batch.problem.a, batch.problem.s, batch.attrs["L"], batch.attrs["mu"], batch.attrs["f_star"]))
    if a <= 0 or s <= 0:
        return Membership(False, "exact", "not a quartic-Huber instance (a, s must be positive)")
    if 12 * a > L * s * s:
        return Membership(False, "exact", f"smoothness 12 a / s^2 = {float(12 * a / (s * s))!r} exceeds L = {float(L)!r} exactly")
    if mu > 1:
        return Membership(False, "exact", f"weak quasi-convexity constant {float(mu)!r} > 1 is not certified")
    if fs != 0:
        return Membership(False, "exact", f"f* = 0, not {float(fs)!r}")
    return Membership(True, "exact")


WQC_CLASS = (InstanceClass(
    name="wqc_quartic",
    text="f = a sum_i h(w_i/s), h(u) = u^4 (|u| <= 1), 6u^2 - 8|u| + 3 (|u| > 1): C^2, convex (so mu = 1 "
    "weakly-quasi-convex: <grad f(w), w - w*> >= mu (f(w) - f*)), L = 12a/s^2-smooth, f* = 0 at w* = 0",
    families=(Family(name="quartic_huber", generate=_quartic, finite_sum=False, doc="separable quartic-Huber: convex, smooth, not PL near 0"),),
    attributes=("L", "mu", "f_star", "d"),
    member=_quartic_member,
    member_exact=_quartic_member_exact,
    encode=_quartic_encode,
    decode=_quartic_decode,
    problem_type=QuarticProblem,
))
CLASSES.append(WQC_CLASS)


def _run_gd_quartic(req: RunRequest) -> Run:
    problem, w0 = req.problem, req.w0
    from kernels.pl import gd_quartic_huber  # noqa: PLC0415

    eta = np.asarray(req.params["eta"], dtype=req.dtype)
    r = gd_quartic_huber(problem.a, problem.s, w0, eta, req.horizon, backend=req.backend, dtype=req.dtype)
    traj = kernels.Trajectory(f=r.f, gnorm2=r.gnorm2, w_last=r.w[:, -1], w=r.w, ef_next=None, eg2=None,
                              backend=r.backend, dtype=np.dtype(req.dtype).name)
    dist2 = np.sum(r.w * r.w, axis=2)
    return Run(PLRun(traj, r.fabs, None, dist2=dist2, dist2abs=dist2), backend=r.backend)


DYNAMICS.append(Dynamics(
    name="gd_quartic",
    run=_run_gd_quartic,
    observables=observables(PL_PER_STEP, PL_TRAJECTORY, PL_SCALE_OF),
    accepts=(QuarticProblem,),
    parameters=("eta",),
    doc="gradient descent on the separable quartic-Huber function (kernels.pl); the gd_pl observables with w* = 0",
))


