"""The ``heavy_ball`` and ``nesterov`` dynamics: runners over :mod:`thmcheck_momentum.kernels` and the
observables a claim may read off their runs.

Per step k = 0..N (arrays (n, N+1)): ``fgap_t`` = f(x_k) - f*, ``dist2_t`` = ||x_k - x*||^2, ``k_t`` = k,
each value with its rounding-scale companion (``fgap_abs_t``, ``dist2_abs_t``).  Per trajectory:
``fgap_first`` / ``fgap_last``, ``dist2_first`` / ``dist2_last`` (with companions) and ``horizon`` = N.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from numeric.api import Dynamics, ParameterDomain, Run, RunRequest, observables

from .kernels import MomentumRun, QuadHuber, SeparablePWQ, heavy_ball, nesterov

__all__ = ["DYNAMICS", "HEAVY_BALL", "NESTEROV", "PER_STEP", "SCALE_OF", "TRAJECTORY"]


def _steps(r: MomentumRun) -> np.ndarray:
    n, T1 = r.dist2.shape
    return np.broadcast_to(np.arange(T1, dtype=r.dist2.dtype), (n, T1))


PER_STEP: dict[str, Callable[[MomentumRun], np.ndarray]] = {
    "fgap_t": lambda r: r.fgap,
    "fgap_abs_t": lambda r: r.fgap_abs,
    "dist2_t": lambda r: r.dist2,
    "dist2_abs_t": lambda r: r.dist2_abs,
    "k_t": _steps,
}

TRAJECTORY: dict[str, Callable[[MomentumRun], np.ndarray]] = {
    "fgap_first": lambda r: r.fgap[:, 0],
    "fgap_last": lambda r: r.fgap[:, -1],
    "dist2_first": lambda r: r.dist2[:, 0],
    "dist2_last": lambda r: r.dist2[:, -1],
    "fgap_abs_first": lambda r: r.fgap_abs[:, 0],
    "fgap_abs_last": lambda r: r.fgap_abs[:, -1],
    "dist2_abs_first": lambda r: r.dist2_abs[:, 0],
    "dist2_abs_last": lambda r: r.dist2_abs[:, -1],
    "horizon": lambda r: np.full(r.dist2.shape[0], r.dist2.shape[1] - 1, dtype=r.dist2.dtype),
}

SCALE_OF: dict[str, str] = {
    "fgap_t": "fgap_abs_t",
    "dist2_t": "dist2_abs_t",
    "fgap_first": "fgap_abs_first",
    "fgap_last": "fgap_abs_last",
    "dist2_first": "dist2_abs_first",
    "dist2_last": "dist2_abs_last",
}

DOCS = {
    "fgap_t": "f(x_k) - f*, k = 0..N",
    "dist2_t": "||x_k - x*||^2, k = 0..N",
    "k_t": "the step index k",
    "fgap_first": "f(x_0) - f*",
    "fgap_last": "f(x_N) - f*",
    "dist2_first": "||x_0 - x*||^2",
    "dist2_last": "||x_N - x*||^2",
    "horizon": "the number of steps N",
}

_OBSERVABLES = observables(PER_STEP, TRAJECTORY, SCALE_OF, DOCS)


def _run_heavy_ball(req: RunRequest) -> Run:
    r = heavy_ball(req.problem, req.w0, req.params["alpha"], req.params["beta"], req.horizon,
                   backend=req.backend, dtype=req.dtype)
    return Run(r, backend=r.backend)


def _run_nesterov(req: RunRequest) -> Run:
    r = nesterov(req.problem, req.w0, req.params["s"], req.horizon, backend=req.backend, dtype=req.dtype)
    return Run(r, backend=r.backend)


HEAVY_BALL = Dynamics(
    name="heavy_ball",
    run=_run_heavy_ball,
    observables=_OBSERVABLES,
    accepts=(QuadHuber, SeparablePWQ),
    parameters=("alpha", "beta"),
    domain=(ParameterDomain(name="alpha", lower=0.0, lower_strict=True),
            ParameterDomain(name="beta", lower=0.0, upper=1.0, upper_strict=True)),
    doc="Polyak's heavy ball x_{k+1} = x_k - alpha grad f(x_k) + beta (x_k - x_{k-1}), x_{-1} = x_0",
)

NESTEROV = Dynamics(
    name="nesterov",
    run=_run_nesterov,
    observables=_OBSERVABLES,
    accepts=(QuadHuber, SeparablePWQ),
    parameters=("s",),
    domain=(ParameterDomain(name="s", lower=0.0, lower_strict=True),),
    doc="Nesterov's method for convex f: y_k = x_k + (k-1)/(k+2) (x_k - x_{k-1}), x_{k+1} = y_k - s grad f(y_k), "
        "x_{-1} = x_0 (the constant-step scheme of Su, Boyd and Candes, 2016)",
)

DYNAMICS = (HEAVY_BALL, NESTEROV)
