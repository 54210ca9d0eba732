"""Matching a derivation step against another theorem's claim (``ByLemma``).

A step ``a REL b`` is an *instance* of a lemma claim ``A REL' B`` (over lemma
symbols ``x``) if there is a substitution ``sigma`` of the lemma symbols with

* ``(B - A)[sigma] - (b - a)`` simplifying to 0 (or ``b - a`` a positive
  constant multiple of ``(B - A)[sigma]``), after orienting both relations
  as ``small <= big``; the step may thus be the lemma relation rearranged;
* ``REL'`` at least as strong as ``REL`` (``<`` gives ``<=``, ``==`` gives both);
* every lemma assumption, and every declared sign of a lemma symbol,
  substituted with ``sigma``, *proved* under the current assumptions.

``sigma`` is found by a small structural unifier (commutative ``Add``/``Mul``
with "absorbing" variables, integer powers, function heads), applied side by
side and to the differences.  Lemma symbols that the relation does not
determine (``L`` in the descent lemma ``f1 <= f0 - eta/2*G``, which only occurs
in its assumption ``eta <= 1/L``) come from ``ByLemma.bind`` or else from the
current theorem's symbol of the same name; they are never solved for, because
in scalar-summary form the lemma's hidden hypotheses (``f`` is ``L``-smooth)
tie them to the problem.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence

import sympy
from sympy.core.relational import Relational

from ._problem import sign_constraint
from .model import LemmaStatement, Status
from .prove import _is_zero, prove_relation

__all__ = ["match_lemma", "LemmaMatch", "find_substitutions"]

_MAX_CANDIDATES = 64


# --------------------------------------------------------------------- unifier
def _equal(a: sympy.Expr, b: sympy.Expr) -> bool:
    if a == b:
        return True
    try:
        return _is_zero(a - b, deadline_ops=200)
    except Exception:
        return False


def _bind(sigma: dict, v: sympy.Symbol, value: sympy.Expr) -> dict | None:
    if v in sigma:
        return sigma if _equal(sigma[v], value) else None
    out = dict(sigma)
    out[v] = value
    return out


def _unify(p: sympy.Expr, t: sympy.Expr, vs: frozenset, sigma: dict) -> Iterator[dict]:
    if p in vs:
        s = _bind(sigma, p, t)
        if s is not None:
            yield s
        return
    if not (p.free_symbols & vs):
        if _equal(p, t):
            yield sigma
        return
    if p.is_Add:
        yield from _assoc(list(p.args), list(sympy.Add.make_args(t)), vs, sigma, sympy.Add)
        return
    if p.is_Mul:
        c, rest = p.as_coeff_Mul()
        if c != 1:
            t2 = t / c
            pats = list(sympy.Mul.make_args(rest))
        else:
            t2 = t
            pats = list(p.args)
        yield from _assoc(pats, list(sympy.Mul.make_args(t2)), vs, sigma, sympy.Mul)
        return
    if p.is_Pow:
        pb, pe = p.args
        if not (pe.free_symbols & vs):
            if t.is_Pow:
                tb, te = t.args
                if _equal(te, pe):
                    yield from _unify(pb, tb, vs, sigma)
                    return
                if pe.is_Integer and te.is_Integer and te % pe == 0:
                    yield from _unify(pb, tb ** (te / pe), vs, sigma)
                    return
            if pe == -1:
                yield from _unify(pb, 1 / t, vs, sigma)
            elif pe.is_Integer and pe > 0 and pe % 2 == 1:
                yield from _unify(pb, sympy.root(t, int(pe)) if t.is_number else t ** sympy.Rational(1, int(pe)), vs, sigma)
            return
        if t.is_Pow:
            for s in _unify(pe, t.args[1], vs, sigma):
                yield from _unify(pb, t.args[0], vs, s)
        return
    if isinstance(p, sympy.Basic) and p.args and type(p) is type(t) and len(p.args) == len(t.args):
        def rec(i, s):
            if i == len(p.args):
                yield s
                return
            for s2 in _unify(p.args[i], t.args[i], vs, s):
                yield from rec(i + 1, s2)

        yield from rec(0, sigma)


def _absorber(p: sympy.Expr, vs: frozenset, op) -> tuple[sympy.Expr, sympy.Symbol] | None:
    """``p`` is ``c*v`` (Add) or ``v`` (Mul): returns (c, v)."""
    if p in vs:
        return sympy.Integer(1), p
    if op is sympy.Add and p.is_Mul:
        c, rest = p.as_coeff_Mul()
        if rest in vs and c.is_number:
            return c, rest
    return None


def _assoc(pats: list, targets: list, vs: frozenset, sigma: dict, op) -> Iterator[dict]:
    structured = [p for p in pats if _absorber(p, vs, op) is None or not (p.free_symbols & vs)]
    absorbers = [_absorber(p, vs, op) for p in pats if p not in structured]
    # constant pattern terms match target terms that are equal to them
    yielded = 0

    def assign(i: int, used: frozenset, s: dict) -> Iterator[dict]:
        if i == len(structured):
            yield from spread(used, s)
            return
        for j, t in enumerate(targets):
            if j in used:
                continue
            for s2 in _unify(structured[i], t, vs, s):
                yield from assign(i + 1, used | {j}, s2)

    def spread(used: frozenset, s: dict) -> Iterator[dict]:
        rest = [t for j, t in enumerate(targets) if j not in used]
        if not absorbers:
            if not rest or _equal(op(*rest), op.identity):
                yield s
            return
        if len(absorbers) ** len(rest) > 4096:
            return
        for labels in itertools.product(range(len(absorbers)), repeat=len(rest)):
            groups: list[list] = [[] for _ in absorbers]
            for t, k in zip(rest, labels):
                groups[k].append(t)
            if any(not g for g in groups):
                continue
            cur: dict | None = s
            for (c, v), g in zip(absorbers, groups):
                val = op(*g)
                if op is sympy.Add and c != 1:
                    val = sympy.expand(val / c)
                cur = _bind(cur, v, val)
                if cur is None:
                    break
            if cur is not None:
                yield cur

    for s in assign(0, frozenset(), sigma):
        yield s
        yielded += 1
        if yielded >= _MAX_CANDIDATES:
            return


# --------------------------------------------------------------- orientation
def _orient(rel: Relational) -> tuple[sympy.Expr, sympy.Expr, str]:
    """``(small, big, op)`` with ``op`` in ``<=``, ``<``, ``==``."""
    op = rel.rel_op
    if op in ("<=", "<", "=="):
        return rel.lhs, rel.rhs, op
    if op in (">=", ">"):
        return rel.rhs, rel.lhs, {">=": "<=", ">": "<"}[op]
    raise ValueError(f"lemma matching needs ==, <=, <, >=, >; got {op}")


def _gives(lemma_op: str, step_op: str) -> bool:
    if step_op == "==":
        return lemma_op == "=="
    if step_op == "<":
        return lemma_op == "<"
    return True  # step <=: any of <=, <, ==


def find_substitutions(
    lemma_rel: Relational,
    step_rel: Relational,
    variables: Sequence[sympy.Symbol],
    fixed: Mapping[sympy.Symbol, sympy.Expr] | None = None,
) -> list[dict[sympy.Symbol, sympy.Expr]]:
    """Substitutions of ``variables`` turning ``lemma_rel`` into ``step_rel`` (verified)."""
    vs = frozenset(variables)
    sigma0 = dict(fixed or {})
    ls, lb, lop = _orient(lemma_rel)
    ss, sb, sop = _orient(step_rel)
    orientations = [(ls, lb)]
    if lop == "==":
        orientations.append((lb, ls))
    if not _gives(lop, sop):
        return []
    step_diffs = [sb - ss] + ([ss - sb] if sop == "==" else [])
    out: list[dict] = []
    seen: set = set()

    def consider(s: dict, small, big):
        key = tuple(sorted((str(k), str(v)) for k, v in s.items()))
        if key in seen:
            return
        seen.add(key)
        if not _verify(s, small, big, step_diffs, vs):
            return
        out.append(s)

    for small, big in orientations:
        attempts = [
            (small, ss, big, sb),
            (small, sympy.expand(ss), big, sympy.expand(sb)),
        ]
        for p1, t1, p2, t2 in attempts:
            for s1 in _unify(p1, t1, vs, sigma0):
                for s2 in _unify(p2, t2, vs, s1):
                    consider(s2, small, big)
                    if len(out) >= _MAX_CANDIDATES:
                        return out
        for tdiff in step_diffs:
            for s in _unify(sympy.expand(big - small), sympy.expand(tdiff), vs, sigma0):
                consider(s, small, big)
                if len(out) >= _MAX_CANDIDATES:
                    return out
    return out


def _verify(s: dict, small, big, step_diffs, vs) -> bool:
    lhs = (big - small).xreplace(s)
    if lhs.free_symbols & (vs - set(s)):
        return False
    for d in step_diffs:
        if _equal(lhs, d):
            return True
        try:
            r = sympy.cancel(d / lhs)
        except (ZeroDivisionError, TypeError, sympy.PolynomialError):
            continue
        if r.is_number and r.is_positive:
            return True
    return False


# -------------------------------------------------------------------- driver
class LemmaMatch:
    """Outcome of :func:`match_lemma` (status, substitution used, detail)."""

    __slots__ = ("status", "substitution", "detail")

    def __init__(self, status: Status, substitution: dict | None, detail: str):
        self.status = status
        self.substitution = substitution
        self.detail = detail

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"LemmaMatch({self.status.value}, {self.substitution}, {self.detail!r})"


def _names(b) -> dict[str, sympy.Symbol]:
    return {s.name: s for s in b.free_symbols if isinstance(s, sympy.Symbol)}


def match_lemma(
    lemma: LemmaStatement,
    step_rel: Relational,
    assumptions: Sequence,
    bind: Mapping[str, sympy.Expr] | None = None,
    context_symbols: Sequence[sympy.Symbol] = (),
    *,
    timeout_ms: int = 2000,
) -> LemmaMatch:
    """Decide whether ``step_rel`` is an instance of ``lemma`` under ``assumptions``.

    Returns PROVED with the substitution when some substitution both matches
    and discharges every lemma assumption; UNDECIDED otherwise (the detail
    names the failing assumption, and its witness when it was refuted).
    """
    bind = dict(bind or {})
    lemma_syms: dict[str, sympy.Symbol] = {}
    for s in lemma.symbols:
        lemma_syms.setdefault(s.name, s)
    for b in (lemma.relation, *lemma.assumptions):
        for n, s in _names(b).items():
            lemma_syms.setdefault(n, s)
    unknown = sorted(set(bind) - set(lemma_syms))
    if unknown:
        raise ValueError(f"ByLemma({lemma.lemma!r}, {lemma.claim!r}) binds unknown lemma symbols: {', '.join(unknown)}")
    # every occurrence (possibly several objects per name) is a variable
    variables: list[sympy.Symbol] = []
    for b in (lemma.relation, *lemma.assumptions):
        for s in b.free_symbols:
            if isinstance(s, sympy.Symbol) and s not in variables:
                variables.append(s)
    for s in lemma.symbols:
        if s not in variables:
            variables.append(s)
    fixed = {v: sympy.sympify(bind[v.name]) for v in variables if v.name in bind}
    # Shared notation: a lemma symbol whose name occurs in the step denotes the
    # same quantity (G = ||grad f||^2 in both); it is pinned unless rebound.
    step_names = _names(step_rel)
    pinned = sorted(v.name for v in variables if v not in fixed and v.name in step_names)
    for v in variables:
        if v not in fixed and v.name in step_names:
            fixed[v] = step_names[v.name]
    ctx: dict[str, sympy.Symbol] = {}
    for b in (step_rel, *[a for a in assumptions if isinstance(a, sympy.Basic)]):
        ctx.update(_names(b))
    for s in context_symbols:
        ctx.setdefault(s.name, s)
    pin_note = f" (lemma symbols {', '.join(pinned)} identified with the step's symbols of the same name; use bind to override)" if pinned else ""

    cands = find_substitutions(lemma.relation, step_rel, variables, fixed)
    if not cands:
        return LemmaMatch(
            Status.UNDECIDED,
            None,
            f"step {step_rel} does not match {lemma.lemma}:{lemma.claim} ({lemma.relation}) "
            + (f"with {_fmt(fixed)}" if fixed else "")
            + pin_note,
        )

    # complete with same-name identification; rank
    completed = []
    for s in cands:
        s = dict(s)
        missing = []
        for v in variables:
            if v in s:
                continue
            occurs = any(v in a.free_symbols for a in lemma.assumptions) or v in lemma.relation.free_symbols
            if v.name in ctx:
                s[v] = ctx[v.name]
            elif occurs:
                missing.append(v.name)
        score = (
            -len(missing),
            sum(1 for v, e in s.items() if isinstance(e, sympy.Symbol) and e.name == v.name),
            sum(1 for e in s.values() if isinstance(e, sympy.Symbol)),
            -sum(sympy.count_ops(e) for e in s.values()),
            -sum(1 for e in s.values() if e.is_number),
        )
        completed.append((score, s, missing))
    completed.sort(key=lambda x: x[0], reverse=True)

    failures = []
    for _score, s, missing in completed[:8]:
        if missing:
            failures.append(
                f"{_fmt(s)}: lemma symbols {', '.join(sorted(set(missing)))} are not determined by the relation; "
                "bind them with ByLemma(..., bind={...})"
            )
            continue
        obligations = [(a, a.xreplace(s)) for a in lemma.assumptions]
        for v in variables:
            for c in sign_constraint(v):
                obligations.append((c, c.xreplace(s)))
        failed = None
        for orig, ob in obligations:
            shown = _show(orig, s)
            if ob is sympy.true:
                continue
            if ob is sympy.false:
                failed = f"lemma assumption {orig} becomes {shown}, which is false"
                break
            res = prove_relation(ob, assumptions, timeout_ms=timeout_ms, sample_time=0.5)
            if res.status is not Status.PROVED:
                wit = f", witness {res.witness}" if res.status is Status.REFUTED else f" ({res.detail})"
                failed = f"lemma assumption {orig} becomes {shown}, which is {res.status.value} under the assumptions{wit}"
                break
        for v in variables:
            if v.is_integer and v in s and s[v].is_integer is not True:
                failed = failed or f"lemma symbol {v} is an integer but is mapped to {s[v]}"
        if failed is None:
            return LemmaMatch(Status.PROVED, s, f"instance of {lemma.lemma}:{lemma.claim} with {_fmt(s)}; lemma assumptions proved{pin_note}")
        failures.append(f"{_fmt(s)}: {failed}")
    more = f" (+{len(failures) - 3} more candidate substitutions)" if len(failures) > 3 else ""
    return LemmaMatch(Status.UNDECIDED, completed[0][1], "not shown to be an instance: " + "; ".join(failures[:3]) + more + pin_note)


def _show(rel, s: Mapping) -> str:
    if isinstance(rel, Relational):
        return f"{rel.lhs.xreplace(s)} {rel.rel_op} {rel.rhs.xreplace(s)}"
    return str(rel.xreplace(s))


def _fmt(s: Mapping) -> str:
    return "{" + ", ".join(f"{k} -> {v}" for k, v in sorted(s.items(), key=lambda kv: str(kv[0]))) + "}"
