"""Normalisation of a decision problem ``hypotheses => goal``.

Shared by the proof pipeline, the witness search and lemma matching:

* symbols are identified by *name* and replaced by real symbols that carry the
  sign information known about them (SymPy assumptions of the original symbols
  and simple bounds such as ``eta > 0`` among the hypotheses);
* equality hypotheses with an isolated symbol (``Eq(ip, -eta*G)``) or a symbol
  occurring linearly with a constant coefficient are eliminated by
  substitution (the eliminated values are recomputed for witnesses);
* a candidate point is re-checked *exactly* against the *original* hypotheses
  and goal before anything is called a witness.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import sympy
from sympy.core.relational import Relational
from sympy.logic.boolalg import And, BooleanAtom, BooleanFunction, Not, Or

_SIGN_KEYS = ("positive", "nonnegative", "negative", "nonpositive", "zero")


def as_boolean(obj) -> sympy.Basic:
    """Return ``obj`` as a SymPy boolean (relations, And/Or/Not, true/false)."""
    if isinstance(obj, bool):
        return sympy.true if obj else sympy.false
    if isinstance(obj, (Relational, BooleanAtom, BooleanFunction)):
        return obj
    # Fact-like objects
    rel = getattr(obj, "relation", None)
    if rel is not None:
        return as_boolean(rel)
    raise TypeError(f"expected a SymPy relation, got {obj!r} ({type(obj).__name__})")


def flatten_hypotheses(hyps: Iterable) -> list[sympy.Basic]:
    """Flatten conjunctions and drop ``true``; keep everything else in order."""
    out: list[sympy.Basic] = []
    for h in hyps:
        b = as_boolean(h)
        if isinstance(b, And):
            out.extend(flatten_hypotheses(b.args))
        elif b is sympy.true:
            continue
        else:
            out.append(b)
    return out


def truth(b) -> bool | None:
    """Exact truth value of a *closed* boolean expression (no free symbols).

    Returns ``None`` when SymPy cannot decide (or the expression is undefined,
    e.g. a division by zero).
    """
    try:
        if isinstance(b, bool):
            return b
        if b is sympy.true:
            return True
        if b is sympy.false:
            return False
        if isinstance(b, And):
            vals = [truth(a) for a in b.args]
            if any(v is False for v in vals):
                return False
            return True if all(v is True for v in vals) else None
        if isinstance(b, Or):
            vals = [truth(a) for a in b.args]
            if any(v is True for v in vals):
                return True
            return False if all(v is False for v in vals) else None
        if isinstance(b, Not):
            v = truth(b.args[0])
            return None if v is None else not v
        if isinstance(b, Relational):
            d = b.lhs - b.rhs
            if d.free_symbols or not d.is_number:
                return None
            if d.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
                return None
            zero = d.is_zero
            if zero is None:
                d = sympy.simplify(d)
                zero = d.is_zero
            if zero is None:
                return None
            op = b.rel_op
            if op == "==":
                return zero
            if op == "!=":
                return not zero
            if zero:
                return op in ("<=", ">=")
            if d.is_extended_real is not True:
                return None
            pos = d.is_positive
            if pos is None:
                return None
            if op in ("<=", "<"):
                return not pos
            if op in (">=", ">"):
                return pos
        return None
    except (TypeError, ValueError, ZeroDivisionError, AttributeError, RecursionError):
        return None


def value_satisfies_symbol(sym: sympy.Symbol, value: sympy.Expr) -> bool:
    """Whether ``value`` satisfies the SymPy assumptions declared on ``sym``."""
    checks = []
    if sym.is_positive:
        checks.append(value.is_positive)
    if sym.is_nonnegative:
        checks.append(value.is_nonnegative)
    if sym.is_negative:
        checks.append(value.is_negative)
    if sym.is_nonpositive:
        checks.append(value.is_nonpositive)
    if sym.is_zero:
        checks.append(value.is_zero)
    if sym.is_nonzero:
        checks.append(value.is_nonzero)
    if sym.is_integer:
        checks.append(value.is_integer)
    if sym.is_real or sym.is_extended_real:
        checks.append(value.is_real)
    return all(c is True for c in checks)


def _number_sign(c: sympy.Expr) -> int | None:
    if not c.is_number or not c.is_real:
        return None
    if c.is_zero:
        return 0
    if c.is_positive:
        return 1
    if c.is_negative:
        return -1
    return None


def _simple_bound(h: sympy.Basic) -> tuple[str, str] | None:
    """If ``h`` is ``sym REL number`` (either orientation) return (name, sign-key)."""
    if not isinstance(h, Relational) or h.rel_op in ("!=",):
        return None
    lhs, rhs, op = h.lhs, h.rhs, h.rel_op
    if isinstance(rhs, sympy.Symbol) and lhs.is_number:
        lhs, rhs = rhs, lhs
        op = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "=="}[op]
    if not (isinstance(lhs, sympy.Symbol) and rhs.is_number):
        return None
    s = _number_sign(rhs)
    if s is None:
        return None
    name = lhs.name
    if op == "==":
        return None
    if op == ">":
        return (name, "positive") if s >= 0 else None
    if op == ">=":
        if s > 0:
            return name, "positive"
        return (name, "nonnegative") if s == 0 else None
    if op == "<":
        return (name, "negative") if s <= 0 else None
    if op == "<=":
        if s < 0:
            return name, "negative"
        return (name, "nonpositive") if s == 0 else None
    return None


def _sign_kwargs(objs: Sequence[sympy.Symbol], extra: set[str]) -> dict[str, bool]:
    keys = set(extra)
    integer = False
    for o in objs:
        for k in _SIGN_KEYS:
            if getattr(o, f"is_{k}"):
                keys.add(k)
        if o.is_integer:
            integer = True
    if "positive" in keys:
        keys.discard("nonnegative")
    if "negative" in keys:
        keys.discard("nonpositive")
    kw: dict[str, bool] = {"real": True}
    if integer:
        kw["integer"] = True
    for k in keys:
        kw[k] = True
    return kw


def sign_constraint(sym: sympy.Symbol) -> list[sympy.Basic]:
    """Explicit relations expressing the sign assumptions of ``sym``."""
    out: list[sympy.Basic] = []
    if sym.is_integer and sym.is_positive:
        return [sympy.Ge(sym, 1, evaluate=False)]
    if sym.is_integer and sym.is_negative:
        return [sympy.Le(sym, -1, evaluate=False)]
    if sym.is_zero:
        out.append(sympy.Eq(sym, 0, evaluate=False))
    elif sym.is_positive:
        out.append(sympy.Gt(sym, 0, evaluate=False))
    elif sym.is_negative:
        out.append(sympy.Lt(sym, 0, evaluate=False))
    else:
        if sym.is_nonnegative:
            out.append(sympy.Ge(sym, 0, evaluate=False))
        if sym.is_nonpositive:
            out.append(sympy.Le(sym, 0, evaluate=False))
    return out


@dataclass
class Problem:
    """A normalised decision problem: ``hyps`` imply ``goal``?

    All expressions are in the *refined* symbols (``refined[name]``).  ``hyps``
    include the sign constraints of the refined symbols, so they are complete
    for z3 and for the sampler.
    """

    goal: sympy.Basic
    hyps: list[sympy.Basic]
    symbols: list[sympy.Symbol]
    refined: dict[str, sympy.Symbol]
    originals: dict[str, list[sympy.Symbol]]
    eliminated: list[tuple[sympy.Symbol, sympy.Expr]]
    orig_goal: sympy.Basic | None
    orig_hyps: list[sympy.Basic]
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ points
    def complete_point(self, point: Mapping) -> dict[str, sympy.Expr]:
        """Extend a point (name or symbol -> value) to every original symbol."""
        vals: dict[str, sympy.Expr] = {}
        for k, v in point.items():
            name = k.name if isinstance(k, sympy.Symbol) else str(k)
            vals[name] = sympy.nsimplify(v) if isinstance(v, float) else sympy.sympify(v)
        for sym in self.symbols:
            vals.setdefault(sym.name, _default_value(sym))
        subs = {self.refined[n]: v for n, v in vals.items() if n in self.refined}
        for sym, expr in reversed(self.eliminated):
            val = expr.xreplace(subs)
            val = sympy.nsimplify(val) if val.has(sympy.Float) else val
            try:
                val = sympy.radsimp(sympy.simplify(val)) if not val.is_Rational else val
            except Exception:  # pragma: no cover - simplification failure is harmless
                pass
            subs[sym] = val
            vals[sym.name] = val
        for name in self.originals:
            vals.setdefault(name, _default_value(self.refined[name]))
        return vals

    def check_point(self, point: Mapping, *, require_goal_false: bool = True) -> tuple[bool, dict[str, sympy.Expr], str]:
        """Exactly re-check a candidate point against the *original* problem.

        Returns ``(ok, full_point, why_not)``; ``ok`` means every original
        hypothesis and every declared symbol assumption holds at the point and,
        if ``require_goal_false``, the original goal is false there.
        """
        vals = self.complete_point(point)
        for name, objs in self.originals.items():
            v = vals[name]
            for o in objs:
                if not value_satisfies_symbol(o, v):
                    return False, vals, f"{name}={v} violates the declared assumptions of {name}"
        subs = {o: vals[name] for name, objs in self.originals.items() for o in objs}
        for h in self.orig_hyps:
            t = truth(h.xreplace(subs))
            if t is not True:
                return False, vals, f"hypothesis {h} is {'false' if t is False else 'not decidable'} at the point"
        if require_goal_false and self.orig_goal is not None:
            t = truth(self.orig_goal.xreplace(subs))
            if t is not False:
                return False, vals, f"goal is {'true' if t else 'not decidable'} at the point"
        return True, vals, ""


def _default_value(sym: sympy.Symbol) -> sympy.Expr:
    if sym.is_positive:
        return sympy.Integer(1)
    if sym.is_negative:
        return sympy.Integer(-1)
    return sympy.Integer(0)


def _free(b: sympy.Basic) -> set[sympy.Symbol]:
    return {s for s in b.free_symbols if isinstance(s, sympy.Symbol)}


def _solve_linear(eq: sympy.Basic, candidates: Iterable[sympy.Symbol]) -> tuple[sympy.Symbol, sympy.Expr] | None:
    lhs, rhs = eq.lhs, eq.rhs
    if isinstance(lhs, sympy.Symbol) and lhs not in rhs.free_symbols and not lhs.is_integer:
        return lhs, rhs
    if isinstance(rhs, sympy.Symbol) and rhs not in lhs.free_symbols and not rhs.is_integer:
        return rhs, lhs
    d = sympy.expand(lhs - rhs)
    for s in sorted(candidates, key=lambda x: x.name):
        if s.is_integer or s not in d.free_symbols:
            continue
        try:
            p = sympy.Poly(d, s)
        except sympy.PolynomialError:
            continue
        if p.degree() != 1:
            continue
        a, b = p.all_coeffs()
        if a.is_number and a != 0 and s not in b.free_symbols:
            return s, sympy.expand(-b / a)
    return None


def build_problem(goal, hyps: Iterable, *, eliminate: bool = True) -> Problem:
    """Normalise ``hyps => goal`` (``goal`` may be ``None`` for a pure satisfiability question)."""
    orig_goal = as_boolean(goal) if goal is not None else None
    orig_hyps = flatten_hypotheses(hyps)
    everything = list(orig_hyps) + ([orig_goal] if orig_goal is not None else [])
    originals: dict[str, list[sympy.Symbol]] = {}
    for b in everything:
        for s in sorted(_free(b), key=lambda x: x.name):
            lst = originals.setdefault(s.name, [])
            if s not in lst:
                lst.append(s)
    extra: dict[str, set[str]] = {n: set() for n in originals}
    for h in orig_hyps:
        sb = _simple_bound(h)
        if sb is not None and sb[0] in extra:
            extra[sb[0]].add(sb[1])
    refined: dict[str, sympy.Symbol] = {}
    notes: list[str] = []
    for name, objs in originals.items():
        kw = _sign_kwargs(objs, extra[name])
        try:
            refined[name] = sympy.Symbol(name, **kw)
        except Exception:  # InconsistentAssumptions: keep realness, spell the signs out below
            notes.append(f"inconsistent sign information on {name}")
            refined[name] = sympy.Symbol(name, real=True, **({"integer": True} if kw.get("integer") else {}))
    rmap = {o: refined[n] for n, objs in originals.items() for o in objs}
    goal_r = orig_goal.xreplace(rmap) if orig_goal is not None else None
    hyps_r = [h.xreplace(rmap) for h in orig_hyps]
    for name, objs in originals.items():
        if refined[name].is_positive is None and refined[name].is_negative is None:
            for o in objs:  # declared signs that the refined symbol could not carry
                hyps_r.extend(c.xreplace(rmap) for c in sign_constraint(o))
    for name in sorted(refined):
        hyps_r.extend(sign_constraint(refined[name]))
    eliminated: list[tuple[sympy.Symbol, sympy.Expr]] = []
    if eliminate:
        changed = True
        while changed:
            changed = False
            for i, h in enumerate(hyps_r):
                if not (isinstance(h, Relational) and h.rel_op == "=="):
                    continue
                sol = _solve_linear(h, _free(h))
                if sol is None:
                    continue
                sym, expr = sol
                rest = hyps_r[:i] + hyps_r[i + 1 :]
                # sign assumptions of the eliminated symbol become constraints on expr
                new_hyps = []
                for r in rest:
                    r2 = r.xreplace({sym: expr})
                    if r2 is sympy.true:
                        continue
                    new_hyps.append(r2)
                hyps_r = new_hyps
                if goal_r is not None:
                    goal_r = goal_r.xreplace({sym: expr})
                eliminated = [(s, e.xreplace({sym: expr})) for s, e in eliminated]
                eliminated.append((sym, expr))
                changed = True
                break
    # canonical (sympy-evaluated) relations
    hyps_r = [_reeval(h) for h in hyps_r]
    hyps_r = [h for h in hyps_r if h is not sympy.true]
    if goal_r is not None:
        goal_r = _reeval(goal_r)
    elim_syms = {s for s, _ in eliminated}
    symbols = sorted({refined[n] for n in refined} - elim_syms, key=lambda s: s.name)
    # SymPy evaluates `eta > 0` to true for a positive symbol; z3 and the sampler
    # need the sign information spelled out.
    for sym in symbols:
        hyps_r.extend(sign_constraint(sym))
    return Problem(
        goal=goal_r,
        hyps=hyps_r,
        symbols=symbols,
        refined=refined,
        originals=originals,
        eliminated=eliminated,
        orig_goal=orig_goal,
        orig_hyps=orig_hyps,
        notes=notes,
    )


def _reeval(b: sympy.Basic) -> sympy.Basic:
    """Let SymPy evaluate a relation whose sides became comparable after substitution."""
    if isinstance(b, Relational):
        try:
            return b.func(b.lhs, b.rhs)
        except TypeError:
            return b
    if isinstance(b, (And, Or, Not)):
        return b.func(*[_reeval(a) for a in b.args])
    return b


def normalize_inequality(rel: Relational) -> tuple[sympy.Expr, bool] | None:
    """``rel`` as ``(g, strict)`` meaning ``g >= 0`` (or ``g > 0``); None for Eq/Ne."""
    op = rel.rel_op
    if op in ("<=", "<"):
        return rel.rhs - rel.lhs, op == "<"
    if op in (">=", ">"):
        return rel.lhs - rel.rhs, op == ">"
    return None


def format_witness(vals: Mapping[str, sympy.Expr]) -> dict[str, str]:
    """Witness as ``{name: str(exact value)}``, sorted by name."""
    return {k: str(sympy.nsimplify(v) if isinstance(v, sympy.Float) else v) for k, v in sorted(vals.items())}
