"""Running one experiment, and replaying one of its recorded instances: the dispatch between the
deterministic search (:mod:`.search`, with the polishing phase of :mod:`.polish`) and the
probability/scaling engine (:mod:`.probability`)."""

from __future__ import annotations

from typing import Any, Sequence

from ..api import InstanceBatch
from .budget import Budget
from .experiment import CONFIRM_DTYPE, ClaimOutcome, Experiment, Found
from .probability import replay_statistical, run_statistical
from .search import replay_found
from .split import finish_search, part_names, run_part, shrink_counterexamples

__all__ = ["run_experiment", "replay", "shrink_counterexamples"]


def run_experiment(exp: Experiment, budget: Budget, *, seed: int, backend: str,
                   seed_batches: Sequence[InstanceBatch] = ()) -> dict[str, ClaimOutcome]:
    """Search for counterexamples to every claim of ``exp``; confirm violations in higher
    precision.  Returns one outcome per claim name.  ``seed_batches`` (members of the class built
    elsewhere, e.g. from an exact worst case) are evaluated like any batch -- membership checked,
    run, counted -- right after the random ones, drawn parameters at their upper ends.  A
    deterministic search runs as the parts of :mod:`.split` one after another here; a distributed
    run places the same parts on workers."""
    if exp.statistical:
        return run_statistical(exp, budget, seed=seed, backend=backend)
    parts = [run_part(exp, budget, name, seed=seed, backend=backend, seed_batches=seed_batches)
             for name in part_names(budget)]
    return finish_search(exp, budget, parts, seed=seed, backend=backend)


def replay(exp: Experiment, claim: Any, found: Found, *, dtype: Any = CONFIRM_DTYPE) -> tuple[float, float]:
    """Re-run one recorded instance and return (margin, tolerance): in ``dtype`` with the NumPy
    reference for deterministic claims, by rerunning the recorded trials for probability and
    scaling claims.  Raises ``ValueError`` when the instance is outside the hypotheses."""
    if getattr(claim, "kind", "") in ("probability", "scaling"):
        return replay_statistical(exp, claim, found)
    r = replay_found(exp, claim, found, dtype=dtype)
    return r.margin, r.tol
