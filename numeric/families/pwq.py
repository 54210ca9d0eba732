"""The worst-case class of GD on L-smooth functions: one-dimensional piecewise-quadratic C^{1,1}
functions, the ``gd_pwq`` dynamics adapter, and the class's continuous parametrisation (used by the
polishing phase, :mod:`numeric.polish`).

The exact worst cases of gradient descent on L-smooth (nonconvex) functions found by performance
estimation are attained by one-dimensional functions whose curvature switches between ``+L`` and
``-L`` (e.g. ``min_t |f'(x_t)|^2 <= 4 L (f(x_0) - f(x_N)) / (3N)`` at ``eta = 1/L``: each step
spends half its length at curvature ``+L`` and half at ``-L``).  Quadratics and smooth ridge sums
never reach them; this class contains them.

Parametrisation (``theta``, all in boxes): ``K = K_left + K_right`` pieces laid out from left to
right; ``theta[:K]`` are widths in units of ``gamma / L`` (in [0.02, 2]) and ``theta[K:]``
curvatures in units of ``L`` (in [-1, 1]).  The start ``x0 = 0`` is the knot between the left and
right groups and ``f'(x0) = gamma > 0``, so gradient descent first moves left, across the left
pieces.  Curvatures are built at ``(1 - 1e-9) L`` at most, so every built instance is L-smooth
exactly (the membership check runs in extended precision without any allowance).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import kernels
import numpy as np
from kernels.pwq import PiecewiseQuadratic

from ..api import (
    Dynamics,
    Family,
    InstanceBatch,
    InstanceClass,
    Knobs,
    Membership,
    Run,
    RunRequest,
    observables,
)
from ..exact_membership import fractions
from .ridge import PER_STEP, SCALE_OF, TRAJECTORY, RidgeRun

#: This module's instance classes and dynamics (registered through the entry points
#: ``thmcheck.classes`` / ``thmcheck.dynamics``; importing the module registers nothing).
CLASSES: list[InstanceClass] = []
DYNAMICS: list[Dynamics] = []



__all__ = ["PWQProblem", "PWQ_CLASS", "PWQParametrisation", "PARAMETRISATION", "build_from_theta", "pwq_1d_member_exact"]

CURVATURE_SHRINK = 1.0 - 1e-9
WIDTH_RANGE = (0.02, 2.0)
K_RIGHT = 2
K_LEFT_GENERATOR = 24


@dataclass(frozen=True, eq=False)
class PWQProblem:
    """A batch of piecewise-quadratic functions plus, when built from a parametrisation, the
    parameter vectors (kept for polishing; replay needs only the arrays)."""

    pwq: PiecewiseQuadratic
    theta: np.ndarray | None = None  # (B, P)

    @property
    def size(self) -> int:
        return self.pwq.size

    @property
    def dim(self) -> int:
        return 1

    def astype(self, dtype: Any) -> "PWQProblem":
        return PWQProblem(self.pwq.astype(dtype), self.theta)

    def take(self, index: Any) -> "PWQProblem":
        return PWQProblem(self.pwq.take(index), None if self.theta is None else self.theta[np.asarray(index)])


def build_from_theta(theta: np.ndarray, L: np.ndarray, gamma: np.ndarray, k_right: int = K_RIGHT) -> PiecewiseQuadratic:
    """Functions from parameter vectors ``theta`` (B, 2K); ``x0 = 0`` is knot ``K - k_right``."""
    theta = np.asarray(theta, dtype=np.float64)
    B, P = theta.shape
    K = P // 2
    u = np.clip(theta[:, :K], *WIDTH_RANGE)
    c = np.clip(theta[:, K:], -1.0, 1.0) * CURVATURE_SHRINK
    unit = (gamma / L)[:, None]
    widths = u * unit
    a = c * L[:, None]
    k0 = K - k_right  # index of the knot at x0
    z = np.zeros((B, K + 1))
    g = np.zeros((B, K + 1))
    g[:, k0] = gamma
    for k in range(k0 - 1, -1, -1):  # leftwards: f' drops by a_k * width_k across piece k
        z[:, k] = z[:, k + 1] - widths[:, k]
        g[:, k] = g[:, k + 1] - a[:, k] * widths[:, k]
    for k in range(k0, K):  # rightwards
        z[:, k + 1] = z[:, k] + widths[:, k]
        g[:, k + 1] = g[:, k] + a[:, k] * widths[:, k]
    return PiecewiseQuadratic(z, g, np.zeros(B))


@dataclass(frozen=True)
class PWQParametrisation:
    """Continuous parametrisation of the class for the polishing phase."""

    k_right: int = K_RIGHT

    def size(self, horizon: int) -> int:
        """Number of parameters for trajectories of ``horizon`` steps (two pieces per step)."""
        return 2 * (2 * max(int(horizon), 1) + 2 + self.k_right)

    def bounds(self, P: int) -> tuple[np.ndarray, np.ndarray]:
        K = P // 2
        lo = np.concatenate([np.full(K, WIDTH_RANGE[0]), np.full(K, -1.0)])
        hi = np.concatenate([np.full(K, WIDTH_RANGE[1]), np.full(K, 1.0)])
        return lo, hi

    def sample(self, rng: np.random.Generator, n: int, P: int) -> np.ndarray:
        """Starting points: a mix of the extremal patterns and uniform draws."""
        K = P // 2
        lo, hi = self.bounds(P)
        theta = lo + rng.random((n, P)) * (hi - lo)
        for i in range(n):
            kind = i % 4
            if kind == 0:  # alternating +-L with equal widths (the shape of the known worst cases)
                theta[i, :K] = rng.uniform(0.2, 1.0)
                phase = rng.integers(0, 2)
                theta[i, K:] = np.where((np.arange(K) + phase) % 2 == 0, 1.0, -1.0)
            elif kind == 1:  # random signs at full curvature
                theta[i, K:] = np.where(rng.random(K) < 0.5, -1.0, 1.0)
            elif kind == 2:  # a quadratic with curvature L
                theta[i, K:] = 1.0
        return theta

    def resize(self, theta: np.ndarray, P: int) -> np.ndarray:
        """The same functions near x0 with ``P // 2`` pieces: the leftmost pieces are dropped, or
        pieces of width 1 and curvature 0 added on the left."""
        theta = np.asarray(theta, dtype=np.float64)
        K_old, K = theta.shape[1] // 2, P // 2
        u, c = theta[:, :K_old], theta[:, K_old:]
        if K <= K_old:
            return np.hstack([u[:, K_old - K:], c[:, K_old - K:]])
        pad = K - K_old
        n = theta.shape[0]
        return np.hstack([np.ones((n, pad)), u, np.zeros((n, pad)), c])

    def build(self, theta: np.ndarray, L: float = 1.0, gamma: float = 1.0) -> InstanceBatch:
        theta = np.asarray(theta, dtype=np.float64)
        n = theta.shape[0]
        Lv, gv = np.full(n, float(L)), np.full(n, float(gamma))
        lo, hi = self.bounds(theta.shape[1])
        theta = np.clip(theta, lo, hi)
        problem = PWQProblem(build_from_theta(theta, Lv, gv, self.k_right), theta)
        return InstanceBatch("pwq_polished", problem, np.zeros((n, 1)), _attrs(Lv))


PARAMETRISATION = PWQParametrisation()


def _attrs(L: np.ndarray) -> dict[str, np.ndarray]:
    return {"L": L, "d": np.ones_like(L)}


def _generate(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    """Random members drawn in parameter space (patterns as in :meth:`PWQParametrisation.sample`)."""
    L = np.full(n, 10.0 ** k.log_scale)
    gamma = np.full(n, 10.0 ** k.log_w0) * L
    P = 2 * (K_LEFT_GENERATOR + K_RIGHT)
    theta = PARAMETRISATION.sample(rng, n, P)
    if k.pattern % 2 == 1:  # shuffle pattern assignment so Hypothesis reaches every pattern at any n
        theta = theta[rng.permutation(n)]
    problem = PWQProblem(build_from_theta(theta, L, gamma), theta)
    return InstanceBatch("pwq", problem, np.zeros((n, 1)), _attrs(L))


def _member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    """Independent check, in extended precision on the stored arrays: knots non-decreasing and
    every piece's curvature |g_{k+1} - g_k| / (z_{k+1} - z_k) at most L (zero-width pieces must
    not jump)."""
    p = batch.problem.pwq
    ld = np.longdouble
    z, g = np.asarray(p.z, dtype=ld), np.asarray(p.g, dtype=ld)
    L = np.asarray(batch.attrs["L"], dtype=ld)[:, None]
    dz, dg = np.diff(z, axis=1), np.diff(g, axis=1)
    sorted_ok = np.all(dz >= 0, axis=1)
    curv_ok = np.all(np.abs(dg) <= L * dz, axis=1)
    finite = np.all(np.isfinite(z), axis=1) & np.all(np.isfinite(g), axis=1) & np.isfinite(np.asarray(p.f0))
    L_ok = L[:, 0] > 0
    ok = sorted_ok & curv_ok & finite & L_ok
    reasons = []
    for i in range(len(ok)):
        if ok[i]:
            reasons.append("")
        elif not L_ok[i]:
            reasons.append("L must be positive")
        elif not sorted_ok[i]:
            reasons.append("knots are not sorted")
        elif not finite[i]:
            reasons.append("non-finite knot data")
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                worst = float(np.max(np.abs(dg[i]) / dz[i]))
            reasons.append(f"a piece has curvature {worst!r} > L = {float(L[i, 0])!r}")
    return ok, reasons


def pwq_1d_member_exact(batch: InstanceBatch) -> Membership:
    """``smooth_pwq`` decided exactly on the stored floats (Fractions): finite data, ``L > 0``,
    ``d = 1``, knots non-decreasing and every piece's slope change ``|g_{k+1} - g_k|`` at most
    ``L (z_{k+1} - z_k)`` (so a zero-width piece must not jump).  That is the definition: f' is the
    linear interpolant of the g_k between knots and constant outside, so f is L-smooth on R exactly
    when every piece's curvature lies in [-L, L]."""
    p = batch.problem.pwq
    if not (np.isfinite(p.z).all() and np.isfinite(p.g).all() and np.isfinite(p.f0).all()):
        return Membership(False, "exact", "non-finite knot data")
    z = fractions(np.asarray(p.z, dtype=np.float64)[0])
    g = fractions(np.asarray(p.g, dtype=np.float64)[0])
    Lf = float(np.asarray(batch.attrs["L"], dtype=np.float64).reshape(-1)[0])
    if not (np.isfinite(Lf) and Lf > 0):
        return Membership(False, "exact", f"L = {Lf!r} is not finite and positive")
    if "d" in batch.attrs and float(np.asarray(batch.attrs["d"]).reshape(-1)[0]) != 1:
        return Membership(False, "exact", "d is not 1")
    L = Fraction(Lf)
    for k in range(len(z) - 1):
        dz, dg = z[k + 1] - z[k], g[k + 1] - g[k]
        if dz < 0:
            return Membership(False, "exact", f"knots {k} and {k + 1} are not sorted")
        if abs(dg) > L * dz:
            return Membership(False, "exact", f"piece {k} has curvature |dg/dz| above L = {Lf!r}")
    return Membership(True, "exact")


def _encode(problem: PWQProblem, i: int) -> dict[str, Any]:
    out = {"z": problem.pwq.z[i].tolist(), "g": problem.pwq.g[i].tolist(), "f0": float(problem.pwq.f0[i])}
    if problem.theta is not None:
        out["theta"] = problem.theta[i].tolist()
    return out


def _decode(data: dict[str, Any]) -> PWQProblem:
    pwq = PiecewiseQuadratic(np.asarray([data["z"]], dtype=np.float64), np.asarray([data["g"]], dtype=np.float64),
                             np.asarray([data["f0"]], dtype=np.float64))
    theta = np.asarray([data["theta"]], dtype=np.float64) if data.get("theta") is not None else None
    return PWQProblem(pwq, theta)


PWQ_CLASS = (InstanceClass(
    name="smooth_pwq",
    text="f is L-smooth (here: one-dimensional, piecewise quadratic with every curvature in [-L, L])",
    families=(Family(name="pwq", generate=_generate, finite_sum=False, doc="1-D piecewise-quadratic C^{1,1} functions with curvature in [-L, L] on each piece, "
            "drawn in parameter space (alternating +-L, random signs, quadratic, uniform)"),),
    attributes=("L", "d"),
    member=_member,
    member_exact=pwq_1d_member_exact,
    encode=_encode,
    decode=_decode,
    problem_type=PWQProblem,
    parametrisation=PARAMETRISATION,
))
CLASSES.append(PWQ_CLASS)


# ------------------------------------------------------------------------------------ gd_pwq dynamics


def _run_gd_pwq(req: RunRequest) -> Run:
    problem, w0 = req.problem, req.w0
    eta = np.asarray(req.params["eta"], dtype=req.dtype)
    r = kernels.gd_pwq(problem.pwq, np.asarray(w0, dtype=req.dtype).reshape(-1), eta, req.horizon, backend=req.backend,
                       dtype=req.dtype)
    traj = kernels.Trajectory(f=r.f, gnorm2=r.gnorm2, w_last=r.x[:, -1:], w=r.x[:, :, None], ef_next=None,
                              eg2=None, backend=r.backend, dtype=np.dtype(req.dtype).name)
    return Run(RidgeRun(traj, r.fabs, None), backend=r.backend)


_PER_STEP = {k: v for k, v in PER_STEP.items() if k not in ("ef_next", "eg2_t", "efabs_next")}
_TRAJECTORY = dict(TRAJECTORY)
_TRAJECTORY.update({
    "gnorm2_min_all": lambda r: r.traj.gnorm2.min(axis=1),  # min over t = 0..T (the last iterate included)
    "gnorm2_last": lambda r: r.traj.gnorm2[:, -1],
})
_SCALE_OF = {k: v for k, v in SCALE_OF.items() if k != "ef_next"}


DYNAMICS.append(Dynamics(
    name="gd_pwq",
    run=_run_gd_pwq,
    observables=observables(_PER_STEP, _TRAJECTORY, _SCALE_OF),
    accepts=(PWQProblem,),
    parameters=("eta",),
    doc="gradient descent on 1-D piecewise-quadratic functions; adds gnorm2_min_all (min over t = 0..T) "
    "and gnorm2_last",
))
