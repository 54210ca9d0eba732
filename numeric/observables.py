"""Observables: the named quantities a claim may read off a trajectory, and their rounding scales.

Per-step observables are (n, T) arrays indexed by the step t = 0..T-1; trajectory observables are
(n,) arrays.  Spec symbols with role OBSERVABLE name one of these.  Values of f carry a *scale
companion* (``fabs_*``): the sum of the absolute values of the terms f adds up, which bounds how
far rounding can move f however much those terms cancel.  Claim tolerances use it in place of |f|.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

import kernels

# Key suffix under which a value's rounding scale travels next to it.
SCALE_SUFFIX = "__abs"

__all__ = ["SCALE_SUFFIX", "Run", "PER_STEP", "TRAJECTORY", "SCALE_OF", "observe", "make_run"]


@dataclass(frozen=True)
class Run:
    """A trajectory batch plus the rounding scales of its f values."""

    traj: kernels.Trajectory
    fabs: np.ndarray  # (n, T+1)
    efabs: np.ndarray | None  # (n, T), for the SGD expectation


def make_run(problem: kernels.RidgeQuadratic, traj: kernels.Trajectory, eta: np.ndarray) -> Run:
    """Attach rounding scales to a trajectory computed with ``keep_iterates=True``."""
    if traj.w is None:
        raise ValueError("rounding scales need the iterates (keep_iterates=True)")
    fabs = kernels.term_scale(problem, traj.w)
    efabs = None
    if traj.ef_next is not None:
        efabs = kernels.component_step_term_scale(problem, traj.w[:, :-1], np.asarray(eta).reshape(-1, 1))
    return Run(traj, fabs, efabs)


def _need(value: np.ndarray | None, name: str) -> np.ndarray:
    if value is None:
        raise ValueError(f"observable {name!r} needs the expectation outputs of stochastic dynamics")
    return value


PER_STEP: dict[str, Callable[[Run], np.ndarray]] = {
    "f_t": lambda r: r.traj.f[:, :-1],
    "f_next": lambda r: r.traj.f[:, 1:],
    "gnorm2_t": lambda r: r.traj.gnorm2[:, :-1],
    "gnorm2_next": lambda r: r.traj.gnorm2[:, 1:],
    "ef_next": lambda r: _need(r.traj.ef_next, "ef_next"),
    "eg2_t": lambda r: _need(r.traj.eg2, "eg2_t"),
    "fabs_t": lambda r: r.fabs[:, :-1],
    "fabs_next": lambda r: r.fabs[:, 1:],
    "efabs_next": lambda r: _need(r.efabs, "efabs_next"),
}

TRAJECTORY: dict[str, Callable[[Run], np.ndarray]] = {
    "f_first": lambda r: r.traj.f[:, 0],
    "f_last": lambda r: r.traj.f[:, -1],
    "gnorm2_mean": lambda r: r.traj.gnorm2[:, :-1].mean(axis=1),
    "gnorm2_min": lambda r: r.traj.gnorm2[:, :-1].min(axis=1),
    "horizon": lambda r: np.full(r.traj.f.shape[0], r.traj.f.shape[1] - 1, dtype=r.traj.f.dtype),
    "fabs_first": lambda r: r.fabs[:, 0],
    "fabs_last": lambda r: r.fabs[:, -1],
}

# Observable -> the observable holding its rounding scale.
SCALE_OF: dict[str, str] = {
    "f_t": "fabs_t",
    "f_next": "fabs_next",
    "ef_next": "efabs_next",
    "f_first": "fabs_first",
    "f_last": "fabs_last",
}


def observe(run: Any, wanted: tuple[str, ...], kind: str, per_step: Mapping[str, Callable] = PER_STEP,
            trajectory: Mapping[str, Callable] = TRAJECTORY, scale_of: Mapping[str, str] = SCALE_OF) -> dict[str, np.ndarray]:
    """The requested observables (with their scale companions) from the given vocabulary;
    trajectory observables get a trailing axis for per-step claims so that they broadcast
    against (n, T) arrays."""
    out: dict[str, np.ndarray] = {}
    for name in wanted:
        for key, source in ((name, name), (name + SCALE_SUFFIX, scale_of.get(name))):
            if source is None:
                continue
            if source in per_step:
                if kind != "per_step":
                    raise ValueError(f"observable {name!r} is per-step; a {kind} claim cannot use it")
                out[key] = per_step[source](run)
            elif source in trajectory:
                value = trajectory[source](run)
                out[key] = value[:, None] if kind == "per_step" else value
            else:
                raise ValueError(f"unknown observable {source!r}; known: {', '.join(list(per_step) + list(trajectory))}")
    return out
