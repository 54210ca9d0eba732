"""From a claim's numeric outcome to its verdict and the pieces of its record: the verdict and its
reason (deterministic and statistical claims), the instance record, and the replay snippet.

Kept apart from :mod:`theorems.pipeline`, which wires the stages, so that the verdict semantics
(DESIGN's table: proved, pass, fail, inconclusive, error) live in one short module.
"""

from __future__ import annotations

import json

import sympy

import numeric
from reports.records import DerivationRecord, InstanceRecord

from .spec import Claim, ClaimKind, Theorem, Verdict

__all__ = ["STATISTICAL", "claim_verdict", "instance_record", "snippet"]

#: Claim kinds decided by statistics (intervals, fitted exponents) rather than by a worst instance.
STATISTICAL = (ClaimKind.PROBABILITY, ClaimKind.SCALING)


def instance_record(found: numeric.Found) -> InstanceRecord:
    return InstanceRecord(
        family=found.family, dynamics=found.dynamics, data=found.data, params=found.params,
        step=found.step, observed=found.observed, bound=found.bound, ratio=found.ratio, slack=found.slack,
    )


def snippet(thm: Theorem, claim: Claim, found: numeric.Found, source: str | None = None) -> str:
    """A self-contained Python snippet that replays the recorded instance through the one replay path
    (:func:`theorems.replay.replay_recorded`: the spec, the instance class's decoder and the dynamics'
    runner on the NumPy reference in extended precision; the recorded trials for probability and
    scaling claims) and prints both sides of the claim.  The same for every family: no template per
    dynamics, so it cannot drift from what the search and the confirmation ran."""
    inst = {"family": found.family, "dynamics": found.dynamics, "data": found.data, "params": found.params,
            "step": found.step, "observed": found.observed, "bound": found.bound, "ratio": found.ratio,
            "slack": found.slack}
    stat = ClaimKind(claim.kind) in STATISTICAL
    sense = "<=" if isinstance(claim.relation, (sympy.Le, sympy.Lt)) else ">="
    where = "" if source is None else f", spec={source!r}"
    lines = [
        f"# Replays {thm.id}::{claim.name} on the recorded instance and prints both sides of the claim.",
        "import json",
        "from theorems.replay import replay_recorded",
        f"instance = json.loads({json.dumps(inst)!r})",
        f"res = replay_recorded({thm.id!r}, {claim.name!r}, instance{where})",
        "print(res)",
    ]
    if not stat:
        lines += [
            "observed, bound = res.observed, res.bound",
            f"print('claim observed {sense} bound holds:', bool(observed {sense} bound))",
        ]
    return "\n".join(lines)


def claim_verdict(
    thm: Theorem, claim: Claim, out: numeric.ClaimOutcome, derivs: tuple[DerivationRecord, ...]
) -> tuple[Verdict, str]:
    proved = any(d.status == "proved" for d in derivs if not d.printed)
    if out.error:
        return Verdict.ERROR, out.error
    if ClaimKind(claim.kind) in STATISTICAL:
        return _statistical_verdict(claim, out)
    if out.counterexample is not None:
        margin, tol = out.confirmed or (float("nan"), float("nan"))
        if proved:
            return Verdict.ERROR, (
                "the derivation was proved, yet a confirmed counterexample exists: the derivation does "
                "not describe these dynamics (spec error)"
            )
        return Verdict.FAIL, (
            f"confirmed counterexample: violated by {-margin:.6g} in extended precision "
            f"(rounding allowance {tol:.3g}); membership: {out.membership or 'float64-with-slack'}"
        )
    if out.vanished:
        return Verdict.INCONCLUSIVE, (
            f"{out.vanished} float64 violation(s) disappeared when replayed in extended precision (rounding)"
        )
    if out.instances == 0:
        return Verdict.INCONCLUSIVE, "no admissible instance was evaluated"
    if proved:
        return Verdict.PROVED, f"derivation proved; no violation in {out.instances} instances"
    return Verdict.PASS, f"no violation in {out.instances} instances"


def _statistical_verdict(claim: Claim, out: numeric.ClaimOutcome) -> tuple[Verdict, str]:
    st = out.statistics
    if ClaimKind(claim.kind) == ClaimKind.PROBABILITY:
        if out.instances == 0 or not st:
            return Verdict.INCONCLUSIVE, "no admissible instance was evaluated"
        w = st["worst"]
        what = (f"{st['instances']} instances x {st['trials']} trials; least favourable: {w['successes']}/"
                f"{w['trials']} successes, interval [{w['lower']:.4g}, {w['upper']:.4g}] vs bound {w['bound']:.4g}")
        if out.counterexample is not None:
            c = st["confirmation"]
            return Verdict.FAIL, (f"refuted and confirmed by an independent rerun: {c['successes']}/{c['trials']} "
                                  f"successes, interval [{c['lower']:.4g}, {c['upper']:.4g}] at {c['level']:g} vs bound "
                                  f"{c['bound']:.4g}")
        if out.decision == "support":
            return Verdict.PASS, f"every instance's interval supports the bound ({what})"
        extra = " (a refuting instance was not confirmed by its independent rerun)" if out.vanished else ""
        return Verdict.INCONCLUSIVE, f"some interval straddles the bound{extra} ({what})"
    if not st:
        return Verdict.INCONCLUSIVE, "no growth fit was made"
    fit = (f"{st['model']} exponent {st['exponent']:.4g}, interval [{st['lower']:.4g}, {st['upper']:.4g}] at "
           f"{st['confidence']:g}, bound {st['bound']:.4g}")
    if out.counterexample is not None:
        return Verdict.FAIL, f"refuted and confirmed by an independent remeasurement: {fit}"
    if out.decision == "support":
        return Verdict.PASS, f"the exponent's interval supports the bound: {fit}"
    return Verdict.INCONCLUSIVE, f"the exponent's interval straddles the bound: {fit}"
