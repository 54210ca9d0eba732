"""Bounds on one parameter implied by the assumptions (for constructive sampling).

:func:`parameter_bounds` isolates the symbol in every assumption that is
*linear* in it with a coefficient of known sign (``eta <= 1/L``, ``eta > 0``,
``2*M >= f0 - fT``), or that is univariate in it (``eta**2 <= 1``, solved with
``solve_univariate_inequality``), and keeps the tightest lower and upper
bounds.  Everything else mentioning the symbol is returned in ``unused``.
"""

from __future__ import annotations

from collections.abc import Iterable

import sympy
from sympy.core.relational import Relational

from ._problem import build_problem, flatten_hypotheses
from .model import Bounds
from .signs import NEG, POS, SignOracle

__all__ = ["parameter_bounds"]


def _by_name(expr: sympy.Basic, sym: sympy.Symbol) -> sympy.Symbol | None:
    for s in expr.free_symbols:
        if isinstance(s, sympy.Symbol) and s.name == sym.name:
            return s
    return None


def parameter_bounds(symbol: sympy.Symbol, assumptions: Iterable) -> Bounds:
    """Tightest lower/upper bounds on ``symbol`` (expressions in the other symbols).

    Strictness of a combined ``Max``/``Min`` bound is ``True`` if any of its
    parts is strict.  The symbol's own SymPy assumptions (``positive=True``)
    count as ``symbol > 0``.  Symbols are identified by name.
    """
    hyps = flatten_hypotheses(assumptions)
    # refine the other symbols' signs (e.g. L > 0) so coefficients get a known sign
    prob = build_problem(None, hyps + [sympy.Eq(symbol, symbol, evaluate=False)], eliminate=False)
    rs = sympy.Symbol(symbol.name, real=True)  # the symbol itself: no sign refinement
    rmap = {o: (rs if n == symbol.name else prob.refined[n]) for n, objs in prob.originals.items() for o in objs}
    back = {v: prob.originals[k][0] for k, v in prob.refined.items()}
    oracle = SignOracle([h for h in prob.hyps if prob.refined[symbol.name] not in h.free_symbols])
    lowers: list[tuple[sympy.Expr, bool]] = []
    uppers: list[tuple[sympy.Expr, bool]] = []
    unused: list[sympy.Basic] = []
    if symbol.is_positive:
        lowers.append((sympy.Integer(0), True))
    elif symbol.is_nonnegative:
        lowers.append((sympy.Integer(0), False))
    if symbol.is_negative:
        uppers.append((sympy.Integer(0), True))
    elif symbol.is_nonpositive:
        uppers.append((sympy.Integer(0), False))
    for h_orig in hyps:
        if _by_name(h_orig, symbol) is None:
            continue
        h = h_orig.xreplace(rmap)
        got = _isolate(h_orig, h, rs, oracle)
        if got is None:
            unused.append(h_orig)
            continue
        for kind, expr, strict in got:
            (lowers if kind == "lower" else uppers).append((expr, strict))
    lo, lo_s = _combine(lowers, sympy.Max, prefer="max")
    up, up_s = _combine(uppers, sympy.Min, prefer="min")
    lo = lo.xreplace(back) if lo is not None else None
    up = up.xreplace(back) if up is not None else None
    return Bounds(lo, lo_s, up, up_s, tuple(unused))


def _isolate(h_orig, h, s, oracle) -> list[tuple[str, sympy.Expr, bool]] | None:
    if not isinstance(h, Relational) or h.rel_op == "!=":
        return None
    d = sympy.expand(h.lhs - h.rhs)  # d REL 0
    op = h.rel_op
    try:
        poly = sympy.Poly(d, s)
    except sympy.PolynomialError:
        poly = None
    if poly is not None and poly.degree() == 1:
        a, b = poly.all_coeffs()
        sa = POS if (a.is_number and a > 0) else (NEG if (a.is_number and a < 0) else oracle.sign(a))
        if sa in (POS, NEG):
            bound = sympy.simplify(-b / a)
            if sa == NEG:
                op = {"<=": ">=", "<": ">", ">=": "<=", ">": "<", "==": "=="}[op]
            if op == "==":
                return [("lower", bound, False), ("upper", bound, False)]
            kind = "upper" if op in ("<=", "<") else "lower"
            return [(kind, bound, op in ("<", ">"))]
    if h.free_symbols == {s}:
        try:
            sol = sympy.solve_univariate_inequality(h, s, relational=False)
        except (NotImplementedError, ValueError, TypeError):
            return None
        if isinstance(sol, sympy.Interval):
            out = []
            if sol.start.is_finite:
                out.append(("lower", sol.start, bool(sol.left_open)))
            if sol.end.is_finite:
                out.append(("upper", sol.end, bool(sol.right_open)))
            return out
    return None


def _combine(bounds: list[tuple[sympy.Expr, bool]], agg, prefer: str):
    if not bounds:
        return None, False
    # drop bounds dominated by another one (when the comparison is decidable)
    keep: list[tuple[sympy.Expr, bool]] = []
    for b, strict in bounds:
        dominated = False
        for i, (k, ks) in enumerate(keep):
            diff = sympy.simplify(b - k)
            tighter = diff.is_positive if prefer == "max" else diff.is_negative
            looser = diff.is_negative if prefer == "max" else diff.is_positive
            if diff.is_zero:
                keep[i] = (k, ks or strict)
                dominated = True
                break
            if tighter:
                keep[i] = (b, strict)
                dominated = True
                break
            if looser:
                dominated = True
                break
        if not dominated:
            keep.append((b, strict))
    if len(keep) == 1:
        return keep[0]
    return agg(*[b for b, _ in keep]), any(s for _, s in keep)
