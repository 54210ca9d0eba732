"""Sign analysis ("factor-signs"): decide ``g >= 0`` / ``g > 0`` by known signs.

An expression's sign is derived from

* SymPy's assumption system on the (refined) symbols, e.g. ``eta`` positive;
* the hypotheses, each normalised to ``h >= 0`` / ``h > 0`` / ``h == 0``: an
  expression ``e`` has the sign of ``h`` if ``e/h`` cancels to something of known
  positive sign (``1 - L*eta = L*(1/L - eta)``), the opposite sign if ``e/h`` is
  negative, and ``e >= h >= 0`` if ``e - h`` is known nonnegative;
* structure: products and quotients multiply signs, even powers are
  nonnegative, sums of like-signed terms keep that sign; a sum whose terms
  disagree is factored and retried.

Sound but incomplete: it only ever answers with a sign it has derived.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy
from sympy.core.relational import Relational

POS, NONNEG, ZERO, NEG, NONPOS = "pos", "nonneg", "zero", "neg", "nonpos"
Sign = str | None

_FLIP = {POS: NEG, NONNEG: NONPOS, ZERO: ZERO, NEG: POS, NONPOS: NONNEG, None: None}


def _strength(s: Sign) -> int:
    return {None: 0, NONNEG: 1, NONPOS: 1, POS: 2, NEG: 2, ZERO: 2}[s]


def merge(a: Sign, b: Sign) -> Sign:
    """Combine two facts about the same quantity (both true)."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    pair = {a, b}
    if pair == {NONNEG, NONPOS}:
        return ZERO
    if pair == {NONNEG, POS}:
        return POS
    if pair == {NONPOS, NEG}:
        return NEG
    return a if _strength(a) >= _strength(b) else b


def mul(a: Sign, b: Sign) -> Sign:
    """Sign of a product."""
    if a is None or b is None:
        if ZERO in (a, b):
            return ZERO
        return None
    if ZERO in (a, b):
        return ZERO
    neg = (a in (NEG, NONPOS)) != (b in (NEG, NONPOS))
    strict = a in (POS, NEG) and b in (POS, NEG)
    if neg:
        return NEG if strict else NONPOS
    return POS if strict else NONNEG


def add(signs: Sequence[Sign]) -> Sign:
    """Sign of a sum."""
    if any(s is None for s in signs):
        return None
    nz = [s for s in signs if s != ZERO]
    if not nz:
        return ZERO
    if all(s in (POS, NONNEG) for s in nz):
        return POS if POS in nz else NONNEG
    if all(s in (NEG, NONPOS) for s in nz):
        return NEG if NEG in nz else NONPOS
    return None


def assumption_sign(e: sympy.Expr) -> Sign:
    """Sign from SymPy's assumption system only."""
    try:
        if e.is_zero:
            return ZERO
        if e.is_positive:
            return POS
        if e.is_negative:
            return NEG
        if e.is_nonnegative:
            return NONNEG
        if e.is_nonpositive:
            return NONPOS
    except (TypeError, RecursionError):
        return None
    return None


class SignOracle:
    """Derive signs of expressions under a list of hypotheses."""

    def __init__(self, hyps: Sequence[sympy.Basic], max_depth: int = 4, step_budget: int = 20000):
        self.hyps: list[tuple[sympy.Expr, str]] = []
        for h in hyps:
            if not isinstance(h, Relational):
                continue
            op = h.rel_op
            if op in ("<=", "<"):
                g = h.rhs - h.lhs
            elif op in (">=", ">"):
                g = h.lhs - h.rhs
            elif op == "==":
                g = h.lhs - h.rhs
            else:
                continue
            g = sympy.together(g)
            kind = {"<=": NONNEG, ">=": NONNEG, "<": POS, ">": POS, "==": ZERO}[op]
            self.hyps.append((g, kind))
        self.max_depth = max_depth
        # A count of elementary sign queries, not seconds: a wall-clock budget would make the
        # method that decides a step (and so the records) depend on machine load.
        self.step_budget = step_budget
        self._deadline: int | None = None
        self._ticks = 0
        self._cache: dict[sympy.Expr, Sign] = {}

    def _out_of_time(self) -> bool:
        self._ticks += 1
        return self._deadline is not None and self._ticks > self._deadline

    def _from_hyps(self, e: sympy.Expr) -> Sign:
        best: Sign = None
        fe = e.free_symbols
        for g, kind in self.hyps:
            if g.is_number or not (g.free_symbols <= fe) or self._out_of_time():
                continue
            try:
                r = sympy.cancel(e / g)
            except (sympy.PolynomialError, TypeError, ZeroDivisionError):
                r = None
            if r is not None and not r.has(sympy.zoo, sympy.nan):
                rs = assumption_sign(r)
                if kind == ZERO and r.is_number and r.is_finite:
                    best = merge(best, ZERO)
                elif rs == POS:
                    best = merge(best, kind)
                elif rs == NEG:
                    best = merge(best, _FLIP[kind])
            if kind == ZERO:
                continue
            # e >= g >= 0, e <= -g <= 0
            d = assumption_sign(sympy.expand(e - g))
            if d in (POS, NONNEG, ZERO):
                best = merge(best, POS if (kind == POS or d == POS) else NONNEG)
            d2 = assumption_sign(sympy.expand(e + g))
            if d2 in (NEG, NONPOS, ZERO):
                best = merge(best, NEG if (kind == POS or d2 == NEG) else NONPOS)
            if _strength(best) == 2:
                return best
        return best

    def sign(self, e: sympy.Expr, depth: int | None = None) -> Sign:
        """Best derived sign of ``e`` (``None`` if unknown)."""
        e = sympy.sympify(e)
        if depth is None:
            depth = self.max_depth
        if e in self._cache:
            return self._cache[e]
        s = self._sign(e, depth)
        self._cache[e] = s
        return s

    def _sign(self, e: sympy.Expr, depth: int) -> Sign:
        if e.is_number:
            if e.has(sympy.zoo, sympy.nan):
                return None
            return assumption_sign(e)
        best = assumption_sign(e)
        if self._out_of_time():
            return best
        if _strength(best) == 2:
            return best
        best = merge(best, self._from_hyps(e))
        if _strength(best) == 2 or depth <= 0:
            return best
        if e.is_Mul:
            s: Sign = POS
            for f in e.args:
                s = mul(s, self.sign(f, depth - 1))
                if s is None:
                    break
            best = merge(best, s)
        elif e.is_Pow:
            b, n = e.args
            if n.is_Integer:
                bs = self.sign(b, depth - 1)
                if n % 2 == 0:
                    if n > 0:
                        s = POS if bs in (POS, NEG) else NONNEG
                    else:  # defined only for b != 0
                        s = POS
                else:
                    if n > 0:
                        s = bs
                    else:  # b != 0 wherever defined
                        s = {POS: POS, NONNEG: POS, NEG: NEG, NONPOS: NEG}.get(bs)
                best = merge(best, s)
            elif n.is_Rational:  # real roots: nonnegative where defined
                bs = self.sign(b, depth - 1)
                if bs in (POS, NONNEG, ZERO):
                    s = POS if bs == POS else (NONNEG if n > 0 else POS)
                    best = merge(best, s)
            elif isinstance(b, sympy.Expr) and b.is_positive:
                best = merge(best, POS)
        elif e.is_Add:
            s = add([self.sign(t, depth - 1) for t in e.args])
            best = merge(best, s)
            if _strength(best) < 2:
                try:
                    f = sympy.factor(e)
                except (sympy.PolynomialError, TypeError):
                    f = e
                if f != e and not f.is_Add:
                    best = merge(best, self.sign(f, depth - 1))
                elif _strength(best) == 0:
                    t = sympy.together(e)
                    if t != e and not t.is_Add:
                        best = merge(best, self.sign(t, depth - 1))
        elif isinstance(e, sympy.exp):
            best = merge(best, POS)
        elif isinstance(e, sympy.Abs):
            best = merge(best, POS if self.sign(e.args[0], depth - 1) in (POS, NEG) else NONNEG)
        return best

    def proves(self, g: sympy.Expr, strict: bool) -> bool:
        """Whether ``g >= 0`` (``g > 0`` if strict) follows from the derived signs.

        Gives up (answers ``False``) after ``step_budget`` elementary queries.
        """
        self._ticks = 0
        self._deadline = self.step_budget
        for form in _forms(g):
            if self._out_of_time():
                return False
            s = self.sign(form)
            if s == POS or (not strict and s in (NONNEG, ZERO)):
                return True
        return False


def _forms(g: sympy.Expr):
    """Equivalent rewritings of ``g`` worth trying, cheapest first."""
    seen = set()
    for f in (lambda x: x, sympy.factor, sympy.together, sympy.cancel, _factor_terms):
        try:
            h = f(g)
        except (sympy.PolynomialError, TypeError, RecursionError):
            continue
        if h not in seen:
            seen.add(h)
            yield h


def _factor_terms(g: sympy.Expr) -> sympy.Expr:
    n, d = sympy.fraction(sympy.together(g))
    return sympy.factor(n) / sympy.factor(d)
