"""Running one experiment, and replaying one of its recorded instances: the dispatch between the
deterministic search (:mod:`.search`, with the polishing phase of :mod:`.polish`) and the
probability/scaling engine (:mod:`.probability`)."""

from __future__ import annotations

from typing import Any, Sequence

from ..api import InstanceBatch, Knobs

from .budget import Budget
from .experiment import CONFIRM_DTYPE, ClaimOutcome, Experiment, Found
from .polish import polish_search
from .probability import replay_statistical, run_statistical
from .search import Search, replay_found
from .shrink import shrink

__all__ = ["run_experiment", "replay", "shrink_counterexamples"]


def run_experiment(exp: Experiment, budget: Budget, *, seed: int, backend: str,
                   seed_batches: Sequence[InstanceBatch] = ()) -> dict[str, ClaimOutcome]:
    """Search for counterexamples to every claim of ``exp``; confirm violations in higher
    precision.  Returns one outcome per claim name.  ``seed_batches`` (members of the class built
    elsewhere, e.g. from an exact worst case) are evaluated like any batch -- membership checked,
    run, counted -- right after the random ones, drawn parameters at their upper ends."""
    if exp.statistical:
        return run_statistical(exp, budget, seed=seed, backend=backend)
    search = Search(exp, budget, seed, backend)
    search.bulk()
    k = len(exp.range_parameters)
    for b in seed_batches:
        knobs = Knobs(family=0, dim=int(b.w0.shape[1]), pattern=0, log_scale=0.0, log_w0=0.0, u=(1.0,) * k, seed=0)
        search.run_batch(knobs, b.size, batch=b)
    search.hypothesis()
    polish_search(search)
    search.confirm()
    shrink_counterexamples(search)
    return search.finish()


def shrink_counterexamples(search: Search) -> None:
    """Replace every confirmed counterexample by its shrunk form (:mod:`.shrink`), keeping the
    instance as found next to it; the verdict does not depend on this (both are confirmed)."""
    for claim in search.exp.claims:
        out = search.outcomes[claim.name]
        if out.counterexample is None:
            continue
        res = shrink(search.exp, claim, out.counterexample)
        if res is None or not res.moves:
            continue
        out.found, out.counterexample = out.counterexample, res.found
        out.confirmed = (res.margin, res.tol)
        out.shrink = res.moves


def replay(exp: Experiment, claim: Any, found: Found, *, dtype: Any = CONFIRM_DTYPE) -> tuple[float, float]:
    """Re-run one recorded instance and return (margin, tolerance): in ``dtype`` with the NumPy
    reference for deterministic claims, by rerunning the recorded trials for probability and
    scaling claims.  Raises ``ValueError`` when the instance is outside the hypotheses."""
    if getattr(claim, "kind", "") in ("probability", "scaling"):
        return replay_statistical(exp, claim, found)
    r = replay_found(exp, claim, found, dtype=dtype)
    return r.margin, r.tol
