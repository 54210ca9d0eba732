"""Replay a counterexample from its record: rebuild the claim's experiment from the spec, re-run
the stored instance with the NumPy reference in extended precision, and re-evaluate the claim."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import numeric
from reports.records import ClaimRecord, InstanceRecord

from .pipeline import compile_theorem
from .registry import Registry

__all__ = ["ReplayResult", "replay_claim", "replay_instance", "replay_instance_found"]


@dataclass(frozen=True)
class ReplayResult:
    reproduced: bool
    violation: float  # > tolerance when the claim is violated
    tolerance: float
    precision: str


def replay_instance(registry: Registry, theorem: str, claim: str, inst: InstanceRecord,
                    dtype: type = np.longdouble) -> ReplayResult:
    """Re-run ``inst`` for ``theorem::claim`` in ``dtype``; raises ``KeyError`` for an unknown id and
    ``ValueError`` when the instance is outside the hypotheses."""
    found = numeric.Found(
        family=inst.family, dynamics=inst.dynamics, data=inst.data, params=inst.params, step=inst.step,
        observed=inst.observed, bound=inst.bound, ratio=inst.ratio, slack=inst.slack, margin=0.0, tol=0.0,
    )
    return replay_instance_found(registry, theorem, claim, found, dtype)


def replay_instance_found(registry: Registry, theorem: str, claim: str, found: numeric.Found,
                          dtype: type = np.longdouble) -> ReplayResult:
    """Like :func:`replay_instance`, from a ``numeric.Found``.  Probability and scaling claims rerun
    their recorded trials (float64; their evidence is statistical, not a rounding question)."""
    thm = registry.theorems[theorem]
    exp, compiled = compile_theorem(thm).experiment_for(claim)
    margin, tol = numeric.replay(exp, compiled, found, dtype=dtype)
    if getattr(compiled, "kind", "") in ("probability", "scaling"):
        dtype = np.float64
    return ReplayResult(reproduced=margin < -tol, violation=-margin, tolerance=tol, precision=np.dtype(dtype).name)


def replay_claim(registry: Registry, record: ClaimRecord) -> ReplayResult:
    """Replay the counterexample stored in ``record``."""
    if record.counterexample is None:
        raise ValueError(f"{record.id} has no counterexample to replay")
    return replay_instance(registry, record.theorem, record.claim, record.counterexample.instance)
