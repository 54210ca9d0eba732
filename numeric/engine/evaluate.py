"""Claim evaluation on arrays: margins, rounding allowances, tightness ratios.

A claim arrives compiled (by ``symbolic``) as three callables of named arrays: ``observed``,
``bound`` and ``scale`` (the sum of the absolute values of the terms of ``observed - bound``, which
sets how much rounding can move the comparison).  Nothing here knows SymPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .observables import SCALE_SUFFIX

__all__ = ["CompiledClaim", "Evaluation", "evaluate", "rounding_allowance", "scale_args", "SCALE_SUFFIX"]



def scale_args(names: tuple[str, ...], args: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Arguments for a scale callable: each value replaced by its rounding-scale companion where
    one exists (f values by the sum of |terms| of f, after-run parameters by theirs)."""
    return [args.get(a + SCALE_SUFFIX, args[a]) for a in names]


@dataclass(frozen=True)
class CompiledClaim:
    """A claim ready for numbers.

    ``sense`` is "le" for ``observed <= bound`` and "ge" for ``observed >= bound``; ``strict``
    marks ``<``/``>`` (equality then counts as a violation beyond rounding only if it is exact,
    which floating point cannot show, so strictness is recorded but compared like the weak form).
    """

    name: str
    kind: str  # "per_step" or "trajectory"
    sense: str
    strict: bool
    args: tuple[str, ...]
    observed: Callable[..., np.ndarray]
    bound: Callable[..., np.ndarray]
    scale: Callable[..., np.ndarray]
    ulps: float
    plot_x: str = ""  # argument the report plots this claim's samples against


@dataclass(frozen=True)
class Evaluation:
    """Per-instance results of one claim on one batch (worst over steps for per-step claims)."""

    margin: np.ndarray  # (n,) worst margin: >= 0 holds, < -tol violates
    tol: np.ndarray  # (n,) rounding allowance at the worst step
    slack: np.ndarray  # (n,) margin / scale at the worst step
    ratio: np.ndarray  # (n,) worst tightness ratio (nan where undefined)
    step: np.ndarray  # (n,) step index of the worst margin (0 for trajectory claims)
    ratio_step: np.ndarray  # (n,) step index of the worst ratio
    observed: np.ndarray  # (n,) at the worst-margin step
    bound: np.ndarray
    ratio_observed: np.ndarray  # (n,) at the worst-ratio step
    ratio_bound: np.ndarray
    finite: np.ndarray  # (n,) every value of the instance was finite
    # (n,) some step had a finite observed side and a non-finite bound: the bound itself is
    # undefined there (0/0, division by zero), which is the spec's fault, not the dynamics'.
    bound_undefined: np.ndarray | None = None

    @property
    def violated(self) -> np.ndarray:
        return self.margin < -self.tol


def rounding_allowance(ulps: float, scale: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
    """``ulps * (eps * scale + tiny)`` at ``dtype``'s precision: the margin a comparison may miss
    by through rounding alone (the absolute ``tiny`` term covers gradual underflow)."""
    info = np.finfo(dtype if np.issubdtype(dtype, np.floating) else np.float64)
    return ulps * (float(info.eps) * np.asarray(scale) + float(info.tiny))


def evaluate(claim: CompiledClaim, args: dict[str, np.ndarray]) -> Evaluation:
    """Evaluate ``claim`` where ``args`` maps each argument name to an array broadcastable to
    (n, T) (per-step) or (n,) (trajectory).  Non-finite values are reported through
    ``Evaluation.finite``, not as warnings."""
    with np.errstate(all="ignore"):
        return _evaluate(claim, args)


def _evaluate(claim: CompiledClaim, args: dict[str, np.ndarray]) -> Evaluation:
    call = [args[a] for a in claim.args]
    obs = np.asarray(claim.observed(*call))
    bnd = np.asarray(claim.bound(*call))
    scl = np.abs(np.asarray(claim.scale(*scale_args(claim.args, args))))
    obs, bnd, scl = np.broadcast_arrays(obs, bnd, scl)
    margin = bnd - obs if claim.sense == "le" else obs - bnd
    # Below the smallest normal number relative precision is gone (gradual underflow): an
    # absolute floor of ulps * tiny keeps subnormal noise from counting as a violation.
    tol = rounding_allowance(claim.ulps, scl, margin.dtype)
    # Ratio observed/bound (le) or bound/observed (ge) is reported only where both sides are well
    # above rounding, so converged trajectories (0/0) do not masquerade as tight and a zero bound
    # does not report a meaningless ratio of 0.
    num, den = (obs, bnd) if claim.sense == "le" else (bnd, obs)
    floor = 1024.0 * np.maximum(tol, np.finfo(np.float64).tiny)
    ok_den = (den > floor) & (num > floor)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ok_den, num / np.where(ok_den, den, 1.0), np.nan)
        slack = np.where(scl > 0, margin / np.where(scl > 0, scl, 1.0), 0.0)
    finite_all = np.isfinite(obs) & np.isfinite(bnd)
    if margin.ndim == 1:
        margin = margin[:, None]
        tol, slack, ratio, obs, bnd, finite_all = (
            x[:, None] for x in (tol, slack, ratio, obs, bnd, finite_all)
        )
    n = margin.shape[0]
    finite = finite_all.all(axis=1)
    obs_b, bnd_b = np.broadcast_arrays(obs, bnd)
    bound_undefined = (np.isfinite(obs_b) & ~np.isfinite(bnd_b)).reshape(n, -1).any(axis=1)
    # Worst step: the largest violation relative to its allowance; non-finite steps are ignored
    # here and reported through ``finite``.
    score = np.where(finite_all, -(margin + tol) / np.maximum(np.abs(tol), np.finfo(np.float64).tiny), -np.inf)
    step = np.argmax(score, axis=1)
    rows = np.arange(n)
    ratio_masked = np.where(np.isfinite(ratio), ratio, -np.inf)
    ratio_step = np.argmax(ratio_masked, axis=1)
    worst_ratio = ratio_masked[rows, ratio_step]
    return Evaluation(
        margin=margin[rows, step],
        tol=tol[rows, step],
        slack=slack[rows, step],
        ratio=np.where(np.isfinite(worst_ratio), worst_ratio, np.nan),
        step=step,
        ratio_step=ratio_step,
        observed=obs[rows, step],
        bound=bnd[rows, step],
        ratio_observed=obs[rows, ratio_step],
        ratio_bound=bnd[rows, ratio_step],
        finite=finite,
        bound_undefined=bound_undefined,
    )
