"""One experiment's search cut into independent parts that can run anywhere, and merged back.

The deterministic search (:class:`~numeric.engine.search.Search`) draws ``bulk_rounds`` random
batches, then lets Hypothesis climb, then polishes and confirms.  The bulk rounds do not read each
other's results, and the Hypothesis phase reads none of theirs either (its targets are per batch), so
they are cut into *parts*:

* bulk slices of :data:`SLICE_ROUNDS` rounds each (:func:`bulk_slices`),
* the seed batches (instances built elsewhere, e.g. from an exact worst case; usually none), and
* the Hypothesis phase,

each a pure function of (experiment, budget, seed, backend, slice) -- instance ids and knob draws
are those the uncut search would use -- returning a :class:`SearchPart`.  :func:`finish_search`
merges the parts *in order* into one search (the merge is exact: counts add, the first largest worst
case wins, candidate violations keep the uncut search's order), then polishes, confirms and shrinks
confirmed counterexamples.  The plan
depends on the budget alone, never on how many processes run it, and the serial path
(:func:`~numeric.engine.run.run_experiment`) runs the very same parts one after another; so a run
spread over a cluster gives the same outcomes as a run in one process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..api import InstanceBatch, Knobs
from .budget import Budget
from .experiment import SAMPLE_CAP, ClaimOutcome, Experiment
from .polish import polish_search
from .search import Search
from .shrink import shrink

__all__ = ["SLICE_ROUNDS", "SEEDS_PART", "HYPOTHESIS_PART", "SearchPart", "bulk_slices", "run_part",
           "finish_search", "part_names", "shrink_counterexamples"]

#: Bulk rounds per slice: a slice is the unit of work a scheduler may place on another core.
SLICE_ROUNDS = 12

#: The names of the seed-batch part and of the Hypothesis part.
SEEDS_PART = "seeds"
HYPOTHESIS_PART = "hypothesis"


@dataclass
class SearchPart:
    """What one part of a search found: per-claim outcomes (not yet polished or confirmed), the
    batches' hypothesis problems, the backends that ran, and the next free instance id."""

    name: str
    outcomes: dict[str, ClaimOutcome]
    errors: list[str] = field(default_factory=list)
    ran: set[str] = field(default_factory=set)
    next_id: int = 0


def bulk_slices(budget: Budget) -> list[tuple[int, int]]:
    """The bulk phase's rounds as ``[start, stop)`` slices (a function of the budget alone)."""
    return [(a, min(a + SLICE_ROUNDS, budget.bulk_rounds)) for a in range(0, budget.bulk_rounds, SLICE_ROUNDS)]


def part_names(budget: Budget) -> list[str]:
    """The parts of a deterministic search, in merge order: ``bulk[start:stop]`` slices, the
    ``seeds`` (batches built elsewhere, e.g. from an exact worst case; often none), then
    ``hypothesis``."""
    return [f"bulk[{a}:{b}]" for a, b in bulk_slices(budget)] + [SEEDS_PART, HYPOTHESIS_PART]


def run_part(exp: Experiment, budget: Budget, name: str, *, seed: int, backend: str,
             seed_batches: Sequence[InstanceBatch] = ()) -> SearchPart:
    """Run the part called ``name`` (one of :func:`part_names`) of ``exp``'s search.  The
    ``seeds`` and ``hypothesis`` parts take the experiment's ``seed_batches`` (the first evaluates
    them, the second only counts their instance ids)."""
    search = Search(exp, budget, seed, backend)
    after_bulk = budget.bulk_rounds * budget.bulk_batch
    if name == SEEDS_PART:
        search.next_id = after_bulk
        k = len(exp.range_parameters)
        for b in seed_batches:
            knobs = Knobs(family=0, dim=int(b.w0.shape[1]), pattern=0, log_scale=0.0, log_w0=0.0, u=(1.0,) * k,
                          seed=0)
            search.run_batch(knobs, b.size, batch=b)
    elif name == HYPOTHESIS_PART:
        search.next_id = after_bulk + sum(int(b.size) for b in seed_batches)
        search.hypothesis()
    elif name.startswith("bulk[") and name.endswith("]"):
        start, stop = (int(x) for x in name[5:-1].split(":"))
        if (start, stop) not in bulk_slices(budget):
            raise ValueError(f"{name!r} is not a bulk slice of budget {budget.name!r}")
        search.next_id = start * budget.bulk_batch
        search.bulk(start, stop)
    else:
        raise ValueError(f"unknown search part {name!r}; expected one of {', '.join(part_names(budget))}")
    return SearchPart(name=name, outcomes=search.outcomes, errors=search.errors, ran=search.ran,
                      next_id=search.next_id)


def _merge(into: ClaimOutcome, part: ClaimOutcome, keep: int) -> None:
    """Fold a later part's outcome of one claim into ``into`` exactly as the uncut search would
    have accumulated it batch after batch."""
    into.instances += part.instances
    if part.worst is not None and part.worst_key > into.worst_key:  # ties: the earlier instance stays
        into.worst, into.worst_key = part.worst, part.worst_key
    into.candidates.extend(part.candidates)
    into.candidates.sort(key=lambda sf: -sf[0])  # stable: equal severities keep their order
    del into.candidates[keep:]
    into.error = into.error or part.error
    into.notes.extend(part.notes)
    into.ratio_counts = into.ratio_counts + part.ratio_counts
    into.ratio_outside = [a + b for a, b in zip(into.ratio_outside, part.ratio_outside)]
    if not into.sample_columns:
        into.sample_columns = part.sample_columns
    into.samples.extend(part.samples[: max(0, SAMPLE_CAP - len(into.samples))])


def finish_search(exp: Experiment, budget: Budget, parts: list[SearchPart], *, seed: int,
                  backend: str) -> dict[str, ClaimOutcome]:
    """Merge ``parts`` (every part of :func:`part_names`, in that order), then polish, confirm and
    return one outcome per claim name."""
    expected = part_names(budget)
    if [p.name for p in parts] != expected:
        raise ValueError(f"parts {[p.name for p in parts]} are not the search's parts {expected} in order")
    search = Search(exp, budget, seed, backend)
    for part in parts:
        for name, out in part.outcomes.items():
            _merge(search.outcomes[name], out, budget.confirm)
        search.errors.extend(part.errors)
        search.ran |= part.ran
    search.next_id = parts[-1].next_id
    search.rows_per_batch = 2  # as after the Hypothesis phase
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
        # The shrinker keeps only candidates its class certifies exactly (when it can), so the
        # shrunk instance's membership is certified the same way as the one it replaces.
        out.found, out.counterexample = out.counterexample, res.found
        out.confirmed = (res.margin, res.tol)
        out.shrink = res.moves

