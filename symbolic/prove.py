"""Decide relations under assumptions: simplification, sign analysis, z3, sampling.

:func:`prove_relation` answers whether a relation holds for *all* real values
of its symbols that satisfy the assumptions (and facts):

1. **simplify** - after substituting isolated equalities, an equality whose
   difference simplifies to 0 is proved; **factor-signs** - an inequality,
   normalised to ``g >= 0`` (``> 0``), is proved when the sign of ``g`` (or of
   its factored / together forms) follows from the signs of its factors
   (:mod:`symbolic.signs`).
2. **z3** - polynomial / rational / radical expressions are translated to
   nonlinear real arithmetic; ``unsat`` of ``hyps and not goal`` proves the
   relation; a ``sat`` model is converted to exact rationals and re-checked.
3. **sampling** - a constructive exact-rational search for a counterexample.

A relation is REFUTED only with a witness that has been re-checked exactly in
SymPy against the *original* assumptions, facts and declared symbol
assumptions; it is PROVED only when one of the proof methods succeeded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import sympy
from sympy.core.relational import Relational

from . import _z3
from ._problem import Problem, build_problem, format_witness, normalize_inequality
from .model import RelationResult, Satisfiability, Status
from .sampling import search_point
from .signs import SignOracle

__all__ = ["prove_relation", "satisfiability", "satisfiable"]


def _is_zero(d: sympy.Expr, deadline_ops: int = 600) -> bool:
    if d == 0:
        return True
    try:
        if sympy.expand(d) == 0:
            return True
        if sympy.cancel(sympy.together(d)) == 0:
            return True
        if sympy.count_ops(d) <= deadline_ops and sympy.simplify(d) == 0:
            return True
    except (sympy.PolynomialError, TypeError, RecursionError):
        return False
    return False


def _hyp_list(assumptions: Iterable, facts: Iterable) -> list:
    out = list(assumptions)
    if isinstance(facts, Mapping):
        facts = facts.values()
    for f in facts:
        out.append(getattr(f, "relation", f))
    return out


def prove_relation(
    rel,
    assumptions: Iterable = (),
    facts: Iterable = (),
    *,
    timeout_ms: int = 2000,
    sample_time: float = 1.0,
    seed: int = 0,
) -> RelationResult:
    """Decide whether ``rel`` holds for all real values satisfying ``assumptions`` and ``facts``.

    ``rel`` is a SymPy ``Eq``/``Le``/``Lt``/``Ge``/``Gt`` (or ``Ne``, or a boolean
    that SymPy already evaluated).  ``facts`` may be :class:`~symbolic.Fact`
    objects or relations; they are simply further hypotheses.  Symbols are
    identified by name and treated as real.  ``timeout_ms`` bounds the z3
    call; ``sample_time`` (seconds) bounds the witness search.
    """
    hyps = _hyp_list(assumptions, facts)
    prob = build_problem(rel, hyps)
    tried: list[str] = []
    goal = prob.goal

    # ---- stage 0: trivial after normalisation
    if goal is sympy.true:
        return RelationResult(Status.PROVED, "simplify", None, _subst_note(prob, "relation is identically true"))

    # ---- stage 1: simplification and sign analysis
    if isinstance(goal, Relational):
        if goal.rel_op == "==":
            if _is_zero(goal.lhs - goal.rhs):
                return RelationResult(Status.PROVED, "simplify", None, _subst_note(prob, "difference simplifies to 0"))
            tried.append("simplify: difference does not simplify to 0")
        else:
            norm = normalize_inequality(goal)
            if norm is not None:
                g, strict = norm
                oracle = SignOracle(prob.hyps)
                if oracle.proves(g, strict):
                    what = f"{sympy.factor(g)} {'>' if strict else '>='} 0"
                    return RelationResult(Status.PROVED, "factor-signs", None, _subst_note(prob, f"sign analysis under the hypotheses: {what}"))
                tried.append("factor-signs: sign not determined")

    # ---- stage 2: z3
    verdict, candidates, info = _z3.solve(goal, prob.hyps, prob.symbols, timeout_ms)
    if verdict == "unsat":
        detail = "z3: hypotheses and negated goal are unsat"
        if info:
            detail += f" ({info})"
        return RelationResult(Status.PROVED, "z3", None, _subst_note(prob, detail))
    if verdict == "sat":
        reasons = []
        for cand in candidates:
            ok, vals, why = prob.check_point(cand)
            if ok:
                return RelationResult(Status.REFUTED, "z3", format_witness(vals), "z3 model, re-checked exactly: " + _describe(prob, vals))
            reasons.append(why)
        tried.append("z3: sat but no model survived the exact re-check (" + "; ".join(reasons[:2]) + ")")
    else:
        tried.append(info or "z3: unknown")

    # ---- stage 3: sampling for a witness
    neg = _negate(goal)
    point = search_point(list(prob.hyps) + [neg], prob.symbols, seed=seed, time_budget=sample_time)
    if point is not None:
        ok, vals, why = prob.check_point(point)
        if ok:
            return RelationResult(Status.REFUTED, "sampling", format_witness(vals), "sampled point, re-checked exactly: " + _describe(prob, vals))
        tried.append(f"sampling: point failed exact re-check ({why})")
    else:
        tried.append("sampling: no counterexample found")
    return RelationResult(Status.UNDECIDED, "sampling", None, "; ".join(tried))


def _negate(goal) -> sympy.Basic:
    if isinstance(goal, Relational):
        return goal.negated
    return sympy.Not(goal)


def _subst_note(prob: Problem, detail: str) -> str:
    if prob.eliminated:
        subs = ", ".join(f"{s} = {e}" for s, e in prob.eliminated)
        return f"{detail} (after substituting {subs})"
    return detail


def _describe(prob: Problem, vals) -> str:
    if prob.orig_goal is None or not isinstance(prob.orig_goal, Relational):
        return ""
    subs = {o: vals[n] for n, objs in prob.originals.items() for o in objs}
    lhs = sympy.nsimplify(prob.orig_goal.lhs.xreplace(subs))
    rhs = sympy.nsimplify(prob.orig_goal.rhs.xreplace(subs))
    return f"lhs = {lhs}, rhs = {rhs}, so {prob.orig_goal.lhs} {prob.orig_goal.rel_op} {prob.orig_goal.rhs} fails"


def satisfiability(
    assumptions: Iterable,
    symbols: Sequence[sympy.Symbol] = (),
    *,
    timeout_ms: int = 2000,
    sample_time: float = 1.0,
    seed: int = 0,
) -> Satisfiability:
    """Decide whether the assumptions have a real solution; give an exact witness if so.

    The witness maps the given ``symbols`` (and every symbol in the
    assumptions) to exact rationals and has been re-checked against every
    assumption and declared symbol assumption.  ``satisfiable=False`` only when
    z3 proved the assumptions inconsistent.
    """
    extra = [sympy.Eq(s, s, evaluate=False) for s in symbols]  # keep symbols that occur nowhere
    prob = build_problem(None, list(assumptions) + extra)
    by_name = {}
    for s in symbols:
        by_name[s.name] = s
    for name, objs in prob.originals.items():
        by_name.setdefault(name, objs[0])

    def result(vals, method, detail):
        wit = {by_name[n]: v for n, v in vals.items() if n in by_name}
        return Satisfiability(True, wit, method, detail)

    verdict, candidates, info = _z3.solve(None, prob.hyps, prob.symbols, timeout_ms)
    notes = []
    if verdict == "unsat":
        return Satisfiability(False, None, "z3", "z3: assumptions are inconsistent" + (f" ({info})" if info else ""))
    if verdict == "sat":
        for cand in candidates:
            ok, vals, why = prob.check_point(cand, require_goal_false=False)
            if ok:
                return result(vals, "z3", "z3 model, re-checked exactly")
            notes.append(why)
    else:
        notes.append(info)
    point = search_point(prob.hyps, prob.symbols, seed=seed, time_budget=sample_time)
    if point is not None:
        ok, vals, why = prob.check_point(point, require_goal_false=False)
        if ok:
            return result(vals, "sampling", "sampled point, re-checked exactly")
        notes.append(why)
    return Satisfiability(None, None, "sampling", "no point found: " + "; ".join(n for n in notes if n))


def satisfiable(assumptions: Iterable, symbols: Sequence[sympy.Symbol] = (), **kwargs) -> dict[sympy.Symbol, sympy.Rational] | None:
    """A point satisfying every assumption exactly (z3 first, then sampling), or ``None``.

    ``None`` means no point was found; use :func:`satisfiability` to tell a
    proof of inconsistency from a failed search.
    """
    res = satisfiability(assumptions, symbols, **kwargs)
    return res.witness if res.satisfiable else None
