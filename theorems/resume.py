"""Finishing a partial run: ``thmcheck verify --resume DIR``.

A partial ``results.json`` (interrupted, or saved while the run was going and then killed) lists
the claims it has and, in ``not_run``, the claims it lacks.  Resuming selects the same claims
again, with the run's own seed, budget and backend, hands the finished theorems' records to the
runner as they are and runs the rest.  Each theorem's search depends only on (theorem, seed,
budget, backend) and on its lemmas' records, so the finished run equals an uninterrupted one,
timings aside.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reports.records import ClaimRecord, RecordError, RunRecord

from .registry import Registry
from .spec import Theorem

__all__ = ["ResumePlan", "spec_sources", "plan_resume"]


@dataclass(frozen=True)
class ResumePlan:
    """What a resumed run does: ``theorems`` in run order, the claims chosen per theorem
    (``only``, as :meth:`Registry.select` gives it), and the records kept from the partial run."""

    theorems: list[Theorem]
    only: dict[str, set[str]]
    prior: dict[str, list[ClaimRecord]]

    @property
    def to_run(self) -> list[str]:
        """Ids of the theorems that still have to run."""
        return [t.id for t in self.theorems if t.id not in self.prior]


def spec_sources(record: RunRecord) -> tuple[list[str], list[str]]:
    """The spec modules and files (not installed plugins) the partial run loaded its theorems
    from, as its theorem summaries name them: ``(modules, files)``."""
    modules: list[str] = []
    files: list[str] = []
    for summary in record.theorems:
        prov = summary.get("provided_by") or {}
        if "entry_point" in prov or "source" not in prov:
            continue
        src, file = str(prov["source"]), str(prov.get("file", ""))
        if src.endswith(".py"):
            if file and file not in files:
                files.append(file)
        elif src not in modules:
            modules.append(src)
    return modules, files


def plan_resume(record: RunRecord, registry: Registry, where: str | Path) -> ResumePlan:
    """The plan that completes ``record`` (read from ``where``); a claim of it that the registry
    no longer has raises :class:`~reports.records.RecordError` naming the file and the claim."""
    wanted: dict[str, list[str]] = {}
    for cid in [c.id for c in record.claims] + list(record.not_run):
        tid, _, claim = cid.partition("::")
        wanted.setdefault(tid, []).append(claim)
    for tid, names in wanted.items():
        thm = registry.theorems.get(tid)
        if thm is None:
            raise RecordError(f"{where}: not_run: theorem {tid!r} is not loaded here, cannot resume "
                              "(install its plugin, or check that its spec file is still where it was)")
        missing = sorted(set(names) - {c.name for c in thm.claims})
        if missing:
            raise RecordError(f"{where}: not_run: theorem {tid!r} has no claim {missing[0]!r} any more")
    order = [t for t in registry.order if t in wanted]
    theorems = [registry.theorems[t] for t in order]
    only = {t: set(wanted[t]) for t in order if set(wanted[t]) != {c.name for c in registry.theorems[t].claims}}
    pending = {cid.partition("::")[0] for cid in record.not_run}
    stored: dict[str, list[ClaimRecord]] = {}
    for c in record.claims:
        stored.setdefault(c.theorem, []).append(c)
    prior: dict[str, list[ClaimRecord]] = {}
    for thm in theorems:
        if thm.id in pending or thm.id not in stored:
            continue
        # A lemma recorded with only some of its claims is run again when a theorem still to run
        # rests on it: that theorem's record notes lemma claims that failed, all of them.
        partial = thm.id in only
        needed_as_lemma = any(thm.id in registry.theorems[t].depends_on for t in pending if t in registry.theorems)
        if partial and needed_as_lemma:
            continue
        prior[thm.id] = stored[thm.id]
    return ResumePlan(theorems, only, prior)
