"""Dynamics adapters of the saddle-escape family: ``gd_saddle`` (GD from w0), ``gd_coupled`` (the
GD pair of Lemma 7.3.3 from ``w0`` and ``w0 - eta omega e1``, with the coupling sequences), and
``pgd_gauss`` / ``pgd_ball`` (perturbed GD started at ``xs`` or ``w0`` by ``settings["start"]``).

They drive the :class:`kernels.escape.SaddleProblem` instances of :mod:`numeric.families.escape`.
"""

from __future__ import annotations

import numpy as np
from kernels.escape import SaddleProblem, coupled_gd, gd_saddle, pgd

from ..api import Dynamics, Run, RunRequest, Setting, keyed, observables
from .escape import bottom_index

#: This module's dynamics (registered through the ``thmcheck.dynamics`` entry point).
DYNAMICS: list[Dynamics] = []


def _run_gd(req: RunRequest) -> Run:
    problem, w0 = req.problem, req.w0
    eta = np.asarray(req.params["eta"], dtype=req.dtype)
    T = int(req.horizon)
    tr = gd_saddle(problem, w0, eta, T, backend=req.backend, dtype=req.dtype)
    B = w0.shape[0]
    w0 = np.asarray(w0, dtype=req.dtype)
    x0n = np.sqrt((w0 * w0).sum(axis=1))
    md = np.maximum.accumulate(tr.dist2, axis=1)
    return Run({
        "f": tr.f, "fabs": tr.fabs, "maxdist2": md,
        # ||x_tau - x_0||^2 is computed from vectors of norm up to max ||x|| and ||x_0||
        "maxdist2abs": md + 4 * ((x0n + tr.xnorm_max) ** 2)[:, None] * np.ones_like(md),
        "t": np.broadcast_to(np.arange(T + 1, dtype=req.dtype), (B, T + 1)),
        "horizon": np.full(B, T, dtype=req.dtype),
    }, backend=tr.backend)


_GD_PER_STEP = {
    "f_next": lambda r: r["f"][:, 1:], "fabs_next": lambda r: r["fabs"][:, 1:],
    "maxdist2_next": lambda r: r["maxdist2"][:, 1:], "maxdist2abs_next": lambda r: r["maxdist2abs"][:, 1:],
    "t_next": lambda r: r["t"][:, 1:],
}
_GD_TRAJ = {"f_first": lambda r: r["f"][:, 0], "fabs_first": lambda r: r["fabs"][:, 0],
            "horizon": lambda r: r["horizon"]}


DYNAMICS.append(Dynamics(
    name="gd_saddle",
    run=_run_gd,
    observables=observables(_GD_PER_STEP, _GD_TRAJ, {"f_next": "fabs_next", "f_first": "fabs_first", "maxdist2_next": "maxdist2abs_next"}),
    accepts=(SaddleProblem,),
    parameters=("eta",),
    doc="gradient descent x_{t+1} = x_t - eta grad f(x_t) from w0; per step t = 1..T: f(x_t), "
    "max_{tau <= t} ||x_tau - x_0||^2",
))


def _pair_start(problem: SaddleProblem, w0: np.ndarray, eta: np.ndarray, omega: np.ndarray) -> np.ndarray:
    """x'_0 = x_0 - eta omega e1, e1 the bottom eigenvector of Hess f(xs) (a coordinate vector)."""
    idx = bottom_index(problem)
    x0p = np.array(w0, copy=True)
    rows = np.arange(w0.shape[0])
    x0p[rows, idx] = x0p[rows, idx] - eta * omega
    return x0p


def _run_coupled(req: RunRequest) -> Run:
    problem, w0 = req.problem, req.w0
    eta = np.asarray(req.params["eta"], dtype=req.dtype)
    omega = np.asarray(req.params["omega"], dtype=req.dtype)
    gamma = np.asarray(req.params["gamma"], dtype=req.dtype)
    T = int(req.horizon)
    w0 = np.asarray(w0, dtype=req.dtype)
    x0p = _pair_start(problem, w0, eta, omega)
    tr = coupled_gd(problem, w0, x0p, np.asarray(problem.xs, dtype=req.dtype), eta, gamma, T, backend=req.backend, dtype=req.dtype)
    B = w0.shape[0]
    t = np.broadcast_to(np.arange(T + 1, dtype=req.dtype), (B, T + 1))
    return Run({
        "p": tr.p, "q": tr.q, "xhat": tr.xhat, "err": tr.err, "errscale": tr.errscale, "t": t,
        "dsum": np.concatenate([np.zeros((B, 1), dtype=req.dtype), np.cumsum(eta[:, None] * tr.dnorm[:, :-1], axis=1)], axis=1),
        "locdist": np.maximum.accumulate(tr.dist, axis=1), "horizon": np.full(B, T, dtype=req.dtype),
    }, backend=tr.backend)


_PAIR_PER_STEP = {
    "pnorm_t": lambda r: r["p"][:, 1:], "pnorm_abs_t": lambda r: 4 * (r["t"][:, 1:] + 1) * r["p"][:, 1:],
    "qnorm_t": lambda r: r["q"][:, 1:], "xhat_t": lambda r: r["xhat"][:, 1:],
    "decomp_err_t": lambda r: r["err"][:, 1:], "decomp_scale_t": lambda r: r["errscale"][:, 1:],
    "dsum_t": lambda r: r["dsum"][:, 1:], "locdist_t": lambda r: r["locdist"][:, 1:], "step_t": lambda r: r["t"][:, 1:],
}
_PAIR_TRAJ = {"xhat0": lambda r: r["xhat"][:, 0], "horizon": lambda r: r["horizon"]}


DYNAMICS.append(Dynamics(
    name="gd_coupled",
    run=_run_coupled,
    observables=observables(_PAIR_PER_STEP, _PAIR_TRAJ, {"pnorm_t": "pnorm_abs_t", "decomp_err_t": "decomp_scale_t"}),
    accepts=(SaddleProblem,),
    parameters=("eta", "omega"),
    doc="two GD runs from x_0 = w0 and x'_0 = w0 - eta omega e1 (e1 the bottom eigenvector of Hess f(xs)) with "
    "the coupling sequences p(t), q(t) of Lemma 7.3.3; per step t = 1..T",
))


_PGD_SETTINGS = (
    Setting(name="start", default="saddle", choices=("saddle", "w0"), doc="start at the saddle xs or at w0"),
    Setting(name="stop_at_hit", default=True, choices=(True, False), doc="stop a trajectory at its first eps-SOSP"),
    Setting(name="sosp_curvature", expression=True, required=True,
            doc="tau in the eps-SOSP test ||grad f|| <= eps, lambda_min(Hess f) >= -tau (the spec's sqrt(rho eps))"),
)


def _run_pgd(mode: str):
    def run(req: RunRequest) -> Run:
        problem, w0 = req.problem, req.w0
        eta = np.asarray(req.params["eta"], dtype=req.dtype)
        r = np.asarray(req.params["r"], dtype=req.dtype)
        eps = np.asarray(req.params["eps"], dtype=req.dtype)
        tcal = np.asarray(req.params["tcal"], dtype=np.float64).round().astype(np.int64) if "tcal" in req.params else 0
        T = int(req.horizon)
        start = req.settings["start"]
        x0 = np.asarray(problem.xs if start == "saddle" else w0, dtype=req.dtype)
        tau = np.asarray(req.params["sosp_curvature"], dtype=req.dtype)  # the spec's sqrt(rho eps)
        tr = pgd(problem, x0, eta, T, perturbation=mode, r=r, eps=eps, tau=tau, tcal=tcal, seed=req.seed,
                 instance_ids=req.instance_ids, stop_at_hit=bool(req.settings["stop_at_hit"]), backend=req.backend,
                 dtype=req.dtype)
        hit = tr.hit >= 0
        out = {
            "hit_time": np.where(hit, tr.hit, T + 1).astype(req.dtype), "hit": hit.astype(req.dtype),
            "fdrop": tr.f_first - tr.f_last, "f_first": tr.f_first, "maxdist": np.sqrt(tr.maxdist2), "xnorm_max": tr.xnorm_max,
            "perturbations": tr.perturbations.astype(req.dtype), "horizon": np.full(x0.shape[0], T, dtype=req.dtype),
        }
        return Run(out, backend=tr.backend)
    return run


_PGD_TRAJ = keyed("hit_time", "hit", "fdrop", "f_first", "maxdist", "xnorm_max", "perturbations", "horizon")


DYNAMICS.append(Dynamics(
    name="pgd_gauss",
    run=_run_pgd("gaussian"),
    observables=observables({}, _PGD_TRAJ, {}),
    accepts=(SaddleProblem,),
    parameters=("eta", "r", "eps"),
    settings=_PGD_SETTINGS,
    doc="perturbed GD, form (a): x_{t+1} = x_t - eta (grad f(x_t) + xi_t), xi_t ~ N(0, (r^2/d) I), from xs "
    "(settings start='saddle') or w0; stops at the first eps-SOSP unless settings stop_at_hit=False",
))
DYNAMICS.append(Dynamics(
    name="pgd_ball",
    run=_run_pgd("ball"),
    observables=observables({}, _PGD_TRAJ, {}),
    accepts=(SaddleProblem,),
    parameters=("eta", "r", "eps", "tcal"),
    settings=_PGD_SETTINGS,
    doc="perturbed GD, form (b): when ||grad f(x_t)|| <= eps and no perturbation in the last tcal steps, "
    "x_t <- x_t - eta xi_t with xi_t ~ Unif(B_0(r)); then x_{t+1} = x_t - eta grad f(x_t)",
))
