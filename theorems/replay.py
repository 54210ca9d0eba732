"""Replay a recorded instance: rebuild the claim's experiment from the spec, re-run the stored
instance through the instance class's decoder and the dynamics' runner (the NumPy reference in
extended precision; the recorded trials for probability and scaling claims), and re-evaluate the
claim.  This is the one replay path: the search's confirmation, ``thmcheck replay``, counterexample
files and every record's replay snippet all end here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import numeric
from reports.records import ClaimRecord, InstanceRecord

from .pipeline import compile_theorem
from .registry import Registry

__all__ = ["ReplayResult", "replay_claim", "replay_instance", "replay_instance_found", "replay_recorded"]


@dataclass(frozen=True)
class ReplayResult:
    """What a replay showed: whether the violation reproduced, by how much (``violation`` >
    ``tolerance`` when the claim is violated), at which precision, and both sides of the claim
    (deterministic claims; NaN for probability and scaling claims, whose evidence is an interval)."""

    reproduced: bool
    violation: float
    tolerance: float
    precision: str
    observed: float = float("nan")
    bound: float = float("nan")
    backend: str = "numpy"

    def __str__(self) -> str:
        sides = "" if np.isnan(self.observed) else f"observed {self.observed!r}, bound {self.bound!r}: "
        verdict = "reproduced" if self.reproduced else "not reproduced"
        return (f"{sides}violated by {self.violation:.6g} ({self.backend}/{self.precision}, allowance "
                f"{self.tolerance:.3g}): {verdict}")


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
    if getattr(compiled, "kind", "") in ("probability", "scaling"):
        margin, tol = numeric.replay(exp, compiled, found, dtype=dtype)
        return ReplayResult(reproduced=margin < -tol, violation=-margin, tolerance=tol, precision="float64")
    r = numeric.replay_found(exp, compiled, found, dtype=dtype)
    return ReplayResult(reproduced=r.violated, violation=-r.margin, tolerance=r.tol, precision=r.dtype,
                        observed=r.observed, bound=r.bound, backend=r.backend)


def replay_recorded(theorem: str, claim: str, instance: dict[str, Any], *, spec: str | None = None,
                    registry: Registry | None = None, dtype: type = np.longdouble) -> ReplayResult:
    """Replay an instance given as the plain data of a record (``InstanceRecord`` fields).  The
    theorem is looked up in ``registry``, else among the installed specs, else in ``spec`` (a spec
    file, a module with ``THEOREMS``, or ``module:ATTRIBUTE`` naming a list of theorems).  Replay
    snippets call this."""
    from reports.records import build_record  # noqa: PLC0415 - records are plain data

    if registry is None:
        registry = _registry_with(theorem, spec)
    inst = build_record(InstanceRecord, instance, f"{theorem}::{claim} instance")
    return replay_instance(registry, theorem, claim, inst, dtype)


def _registry_with(theorem: str, spec: str | None) -> Registry:
    import importlib  # noqa: PLC0415

    from .registry import build_registry, load_registry  # noqa: PLC0415

    installed = load_registry()
    if theorem in installed.theorems or spec is None:
        if theorem not in installed.theorems:
            raise KeyError(f"theorem {theorem!r} is not installed; pass spec= (its spec file or module)")
        return installed
    if spec.endswith(".py"):
        return load_registry(extra_files=[spec])
    if ":" in spec:
        module, _, attr = spec.partition(":")
        return build_registry([(spec, "", list(getattr(importlib.import_module(module), attr)))])
    return load_registry(extra_modules=[spec])


def replay_claim(registry: Registry, record: ClaimRecord) -> ReplayResult:
    """Replay the counterexample stored in ``record``."""
    if record.counterexample is None:
        raise ValueError(f"{record.id} has no counterexample to replay")
    return replay_instance(registry, record.theorem, record.claim, record.counterexample.instance)
