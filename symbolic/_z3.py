"""SymPy -> z3 translation and the z3 stage of the proof pipeline.

z3 is imported lazily (inside :func:`z3_module`) so that ``import symbolic``
does not pay for it.

Translation (all variables are z3 ``Real``; integer symbols are relaxed to
reals, which is sound for proofs and re-checked for witnesses):

* ``Symbol`` -> ``Real(name)``; ``Integer``/``Rational``/``Float`` -> exact rationals;
* ``Add``/``Mul``; ``Pow`` with integer exponent ``n >= 0`` -> product;
  ``n < 0`` -> a fresh ``inv`` with ``base*inv == 1`` (so ``base != 0``);
  ``Pow(b, p/q)`` -> fresh ``r >= 0`` with ``r**q == b`` then ``r**p``
  (``sqrt(x)`` is ``s >= 0, s*s == x``);
* ``Abs``/``Max``/``Min``/``Piecewise`` -> ``If``;
* anything else (``exp``, ``log``, ``pi``, ...) -> a fresh *abstract* variable
  (with ``exp(.) > 0`` and rational enclosures of constants such as ``pi``).
  Abstraction keeps ``unsat`` sound; a ``sat`` model of an abstracted problem
  is only a candidate and is re-checked exactly like every other model.
"""

from __future__ import annotations

from fractions import Fraction

import sympy
from sympy.core.relational import Relational
from sympy.logic.boolalg import And, BooleanAtom, Not, Or


def z3_module():
    """Import z3 lazily."""
    import z3  # noqa: PLC0415  (lazy on purpose)

    return z3


class Untranslatable(Exception):
    """Raised when an expression cannot be put into z3."""


class Translator:
    """Translate SymPy expressions/relations into z3 terms over a shared variable pool."""

    def __init__(self):
        self.z3 = z3_module()
        self.vars: dict[str, object] = {}
        self.side: list[object] = []
        self._cache: dict[sympy.Basic, object] = {}
        self._fresh = 0
        self.abstracted: list[str] = []

    # ----------------------------------------------------------------- helpers
    def var(self, sym: sympy.Symbol):
        v = self.vars.get(sym.name)
        if v is None:
            v = self.z3.Real(sym.name)
            self.vars[sym.name] = v
        return v

    def _new(self, prefix: str):
        self._fresh += 1
        return self.z3.Real(f"__{prefix}{self._fresh}")

    def num(self, q) -> object:
        q = sympy.Rational(q)
        return self.z3.RealVal(Fraction(int(q.p), int(q.q)))

    def _pow_int(self, base, n: int):
        if n == 0:
            return self.z3.RealVal(1)
        result = None
        acc = base
        while n:
            if n & 1:
                result = acc if result is None else result * acc
            n >>= 1
            if n:
                acc = acc * acc
        return result

    def _inverse(self, e: sympy.Expr):
        key = ("inv", e)
        if key in self._cache:
            return self._cache[key]
        b = self.expr(e)
        t = self._new("inv")
        self.side.append(b * t == 1)
        self._cache[key] = t
        return t

    def _root(self, e: sympy.Expr, q: int):
        key = ("root", e, q)
        if key in self._cache:
            return self._cache[key]
        b = self.expr(e)
        r = self._new("root")
        self.side.append(r >= 0)
        self.side.append(self._pow_int(r, q) == b)
        self._cache[key] = r
        return r

    def _abstract(self, e: sympy.Expr):
        key = ("abs", e)
        if key in self._cache:
            return self._cache[key]
        v = self._new("atom")
        self.abstracted.append(str(e))
        if isinstance(e, sympy.exp):
            self.side.append(v > 0)
        if e.is_number and e.is_real:
            lo, hi = _enclosure(e)
            self.side.append(v >= self.num(lo))
            self.side.append(v <= self.num(hi))
        else:
            s = e.is_positive, e.is_nonnegative, e.is_negative, e.is_nonpositive
            if s[0]:
                self.side.append(v > 0)
            elif s[1]:
                self.side.append(v >= 0)
            if s[2]:
                self.side.append(v < 0)
            elif s[3]:
                self.side.append(v <= 0)
        self._cache[key] = v
        return v

    # -------------------------------------------------------------- translate
    def expr(self, e: sympy.Expr):
        """z3 term for ``e``."""
        if e in self._cache:
            return self._cache[e]
        z = self._expr(e)
        self._cache[e] = z
        return z

    def _expr(self, e: sympy.Expr):
        z3 = self.z3
        if isinstance(e, sympy.Symbol):
            return self.var(e)
        if e.is_Rational:
            return self.num(e)
        if e.is_Float:
            return self.num(sympy.Rational(e))
        if e.is_Add:
            terms = [self.expr(a) for a in e.args]
            return z3.Sum(*terms) if len(terms) > 1 else terms[0]
        if e.is_Mul:
            out = None
            for a in e.args:
                t = self.expr(a)
                out = t if out is None else out * t
            return out
        if e.is_Pow:
            b, n = e.args
            if n.is_Integer:
                n = int(n)
                if n >= 0:
                    return self._pow_int(self.expr(b), n)
                return self._pow_int(self._inverse(b), -n)
            if n.is_Rational:
                p, q = int(n.p), int(n.q)
                r = self._root(b, q)
                if p >= 0:
                    return self._pow_int(r, p)
                return self._pow_int(self._inverse_of_term(r, ("root", b, q)), -p)
            return self._abstract(e)
        if isinstance(e, sympy.Abs):
            a = self.expr(e.args[0])
            return z3.If(a >= 0, a, -a)
        if isinstance(e, (sympy.Max, sympy.Min)):
            args = [self.expr(a) for a in e.args]
            out = args[0]
            for a in args[1:]:
                out = z3.If(a >= out, a, out) if isinstance(e, sympy.Max) else z3.If(a <= out, a, out)
            return out
        if isinstance(e, sympy.Piecewise):
            out = None
            for val, cond in reversed(e.args):
                v = self.expr(val)
                if out is None:
                    out = v  # last branch (usually cond=True)
                else:
                    out = z3.If(self.boolean(cond), v, out)
            return out
        return self._abstract(e)

    def _inverse_of_term(self, term, key):
        k = ("inv-term", key)
        if k in self._cache:
            return self._cache[k]
        t = self._new("inv")
        self.side.append(term * t == 1)
        self._cache[k] = t
        return t

    def boolean(self, b: sympy.Basic):
        """z3 formula for a SymPy boolean."""
        z3 = self.z3
        if isinstance(b, BooleanAtom) or isinstance(b, bool):
            return z3.BoolVal(bool(b))
        if isinstance(b, And):
            return z3.And(*[self.boolean(a) for a in b.args])
        if isinstance(b, Or):
            return z3.Or(*[self.boolean(a) for a in b.args])
        if isinstance(b, Not):
            return z3.Not(self.boolean(b.args[0]))
        if isinstance(b, Relational):
            lhs, rhs = self.expr(b.lhs), self.expr(b.rhs)
            op = b.rel_op
            if op == "==":
                return lhs == rhs
            if op == "!=":
                return lhs != rhs
            if op == "<=":
                return lhs <= rhs
            if op == "<":
                return lhs < rhs
            if op == ">=":
                return lhs >= rhs
            if op == ">":
                return lhs > rhs
        raise Untranslatable(f"cannot translate {b!r} to z3")


def _enclosure(c: sympy.Expr) -> tuple[sympy.Rational, sympy.Rational]:
    v = sympy.Rational(str(sympy.N(c, 40)))
    eps = sympy.Rational(1, 10**30) * (1 + abs(v))
    return v - eps, v + eps


RLIMIT_PER_MS = 2000


def solve(goal, hyps, symbols, timeout_ms: int):
    """Run z3 on ``hyps and not goal`` (``goal=None``: just ``hyps``).

    Returns ``(verdict, candidates, info)`` where verdict is ``"unsat"``,
    ``"sat"`` or ``"unknown"``; on ``sat`` ``candidates`` is a list of rational
    points (dicts name -> Rational), the model itself first, then rational
    approximations of any algebraic values at increasing precision.
    """
    z3 = z3_module()
    tr = Translator()
    try:
        formulas = [tr.boolean(h) for h in hyps]
        if goal is not None:
            formulas.append(z3.Not(tr.boolean(goal)))
        for s in symbols:
            tr.var(s)
    except (Untranslatable, RecursionError, TypeError) as exc:
        return "unknown", [], f"not translatable to z3: {exc}"
    solver = z3.SolverFor("QF_NRA")
    # z3's resource limit is deterministic (a wall-clock timeout is not): the same problem gets
    # the same answer on a loaded machine.  The timeout stays only as a generous safety net.
    solver.set("rlimit", int(timeout_ms) * RLIMIT_PER_MS)
    solver.set("timeout", int(timeout_ms) * 20)
    solver.add(*formulas)
    solver.add(*tr.side)
    try:
        res = solver.check()
    except z3.Z3Exception as exc:  # pragma: no cover - defensive
        return "unknown", [], f"z3 error: {exc}"
    info = ""
    if tr.abstracted:
        info = "abstracted as free variables: " + ", ".join(sorted(set(tr.abstracted)))
    if res == z3.unsat:
        return "unsat", [], info
    if res == z3.unknown:
        return "unknown", [], ("z3: " + solver.reason_unknown() + ("; " + info if info else ""))
    model = solver.model()
    values = {}
    for s in symbols:
        values[s.name] = model.eval(tr.var(s), model_completion=True)
    candidates = []
    for prec in (None, 4, 8, 16, 32):
        point = {}
        for name, v in values.items():
            if z3.is_rational_value(v):
                point[name] = sympy.Rational(v.numerator_as_long(), v.denominator_as_long())
            elif z3.is_algebraic_value(v):
                if prec is None:
                    point = None
                    break
                a = v.approx(prec)
                point[name] = sympy.Rational(a.numerator_as_long(), a.denominator_as_long())
            else:  # pragma: no cover - model_completion always yields numerals
                point = None
                break
        if point is not None and point not in candidates:
            candidates.append(point)
        if prec is None and point is not None:
            break
    return "sat", candidates, info
