"""Checking derivation chains step by step, and their end points against the claim."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import sympy
from sympy.core.relational import Relational

from ._problem import flatten_hypotheses
from .lemma import match_lemma
from .model import (
    Algebra,
    ByLemma,
    Derivation,
    DerivationResult,
    Fact,
    LemmaStatement,
    Status,
    StepResult,
    Uses,
)
from .prove import _is_zero, prove_relation, satisfiability

__all__ = ["check_derivation", "chain_relation", "step_relation"]

_REL = {"==": sympy.Eq, "<=": sympy.Le, "<": sympy.Lt, ">=": sympy.Ge, ">": sympy.Gt}


def step_relation(lhs: sympy.Expr, rel: str, rhs: sympy.Expr) -> Relational:
    """The unevaluated SymPy relation ``lhs rel rhs``."""
    return _REL[rel](lhs, rhs, evaluate=False)


def chain_relation(rels: Sequence[str]) -> str | None:
    """Relation implied by composing ``rels`` (``None`` if they mix directions)."""
    ups = {r for r in rels if r in ("<=", "<")}
    downs = {r for r in rels if r in (">=", ">")}
    if ups and downs:
        return None
    if ups:
        return "<" if "<" in ups else "<="
    if downs:
        return ">" if ">" in downs else ">="
    return "=="


def _facts_for(by: Uses, facts: Mapping[str, Fact]) -> list[Fact]:
    out = []
    for name in by.facts:
        if name not in facts:
            known = ", ".join(sorted(facts)) or "none"
            raise ValueError(f"step uses unknown fact {name!r} (known facts: {known})")
        out.append(facts[name])
    return out


def _orient(lhs, op, rhs):
    if op in ("<=", "<", "=="):
        return lhs, rhs, op
    return rhs, lhs, {">=": "<=", ">": "<"}[op]


def _endpoints_match(e0: sympy.Expr, en: sympy.Expr, chain_op: str, claim: Relational) -> tuple[bool, str]:
    if not isinstance(claim, Relational) or claim.rel_op == "!=":
        return False, f"claim relation {claim} is not ==, <=, <, >= or >"
    cs, cb, cop = _orient(claim.lhs, claim.rel_op, claim.rhs)
    ds, db, dop = _orient(e0, chain_op, en)
    claim_diff = cb - cs
    chain_diff = db - ds
    if cop == "==" and dop != "==":
        return False, f"the chain only shows {e0} {chain_op} {en}, the claim is an equality"
    if cop == "<" and dop != "<":
        return False, f"the chain shows a non-strict relation ({chain_op}), the claim is strict"
    candidates = [chain_diff] + ([-chain_diff] if dop == "==" else [])
    for d in candidates:
        if _is_zero(claim_diff - d):
            return True, "end points match the claim"
        try:
            r = sympy.cancel(claim_diff / d)
        except (ZeroDivisionError, TypeError, sympy.PolynomialError):
            continue
        if r.is_number and r.is_positive:
            return True, f"end points match the claim up to the positive factor {r}"
    return False, f"chain shows {e0} {chain_op} {en}, which is not the claim {claim}"


def check_derivation(
    derivation: Derivation,
    claim_relation: Relational,
    assumptions: Iterable,
    facts: Mapping[str, Fact] | None = None,
    lemma_lookup: Callable[[str, str], LemmaStatement] | None = None,
    *,
    timeout_ms: int = 2000,
    sample_time: float = 1.0,
    check_consistency: bool = True,
) -> DerivationResult:
    """Check every step of ``derivation`` and its end points against ``claim_relation``.

    * :class:`Algebra` steps: :func:`prove_relation` under ``assumptions``;
    * :class:`Uses` steps: the same with the named facts as extra hypotheses
      (an unknown fact name raises ``ValueError`` naming it);
    * :class:`ByLemma` steps: :func:`symbolic.lemma.match_lemma` with the
      statement returned by ``lemma_lookup(lemma, claim)``.

    The result is PROVED iff every step is PROVED and the composed chain
    relation between the first and last expression is the claim; REFUTED iff
    some step is REFUTED; UNDECIDED otherwise.  With ``check_consistency`` the
    assumptions together with the facts used are also checked for
    satisfiability, so that an inconsistent hypothesis set can not make a
    chain "proved" vacuously (it is reported UNDECIDED instead).
    """
    facts = dict(facts or {})
    assumptions = flatten_hypotheses(assumptions)
    if derivation.problems:
        name, msg = derivation.problems[0]
        raise ValueError(f"derivation {derivation.name!r}: {name}: {msg}")
    # validate fact names up front: a spec error, not a verdict
    used_facts: dict[str, Fact] = {}
    for st in derivation.steps:
        if isinstance(st.by, Uses):
            for f in _facts_for(st.by, facts):
                used_facts[f.name] = f
        if isinstance(st.by, ByLemma) and lemma_lookup is None:
            raise ValueError(
                f"derivation {derivation.name!r} step justified by ByLemma({st.by.lemma!r}, {st.by.claim!r}) "
                "but no lemma_lookup was given"
            )

    results: list[StepResult] = []
    prev = derivation.start
    for k, st in enumerate(derivation.steps):
        rel = step_relation(prev, st.rel, st.expr)
        by = st.by
        if isinstance(by, (Algebra, Uses)):
            fs = _facts_for(by, facts) if isinstance(by, Uses) else []
            res = prove_relation(rel, assumptions, fs, timeout_ms=timeout_ms, sample_time=sample_time)
            detail = res.detail
            if fs:
                detail = f"using {', '.join(f.name for f in fs)}: {detail}"
            results.append(StepResult(k, st.rel, res.status, res.method, res.witness, detail))
        else:
            try:
                stmt = lemma_lookup(by.lemma, by.claim)
            except (KeyError, LookupError) as exc:
                raise ValueError(f"unknown lemma claim {by.lemma}:{by.claim} in derivation {derivation.name!r}") from exc
            m = match_lemma(stmt, rel, assumptions, by.bindings, timeout_ms=timeout_ms)
            results.append(StepResult(k, st.rel, m.status, "lemma-match", None, m.detail))
        prev = st.expr

    chain_op = chain_relation([st.rel for st in derivation.steps])
    if chain_op is None:
        endpoint_ok, end_detail = False, "the chain mixes <=/< with >=/>, so it implies no relation between its ends"
    else:
        endpoint_ok, end_detail = _endpoints_match(derivation.start, derivation.steps[-1].expr, chain_op, claim_relation)

    statuses = [r.status for r in results]
    notes = []
    if any(s is Status.REFUTED for s in statuses):
        status = Status.REFUTED
        bad = [str(r.index) for r in results if r.status is Status.REFUTED]
        notes.append(f"refuted step(s): {', '.join(bad)}")
    elif all(s is Status.PROVED for s in statuses) and endpoint_ok:
        status = Status.PROVED
        notes.append("every step proved")
    else:
        status = Status.UNDECIDED
        und = [str(r.index) for r in results if r.status is Status.UNDECIDED]
        if und:
            notes.append(f"undecided step(s): {', '.join(und)}")
    notes.append(end_detail)
    if status is Status.PROVED and check_consistency:
        hyps = list(assumptions) + [f.relation for f in used_facts.values()]
        sat = satisfiability(hyps, timeout_ms=timeout_ms, sample_time=sample_time)
        if sat.satisfiable is False:
            status = Status.UNDECIDED
            notes.append("assumptions and facts are inconsistent, so the steps hold only vacuously")
    if derivation.printed:
        if status is Status.REFUTED:
            notes.append("printed derivation: contains a refuted step, as expected")
        else:
            notes.append("printed derivation expected to contain a refuted step, but none was refuted")
    return DerivationResult(derivation.name, derivation.claim, status, tuple(results), endpoint_ok, "; ".join(notes))
