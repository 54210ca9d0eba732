"""Constructive search for exact rational points satisfying constraints.

Symbols are assigned one at a time (in a random order per attempt).  When a
symbol ``s`` is assigned, every constraint whose remaining free symbol is
``s`` is univariate; its critical points (real roots of numerators and
denominators, isolated exactly with rational endpoints) split the line, and
candidate values are drawn at the critical points, just beside them, between
them, beyond them, and at a few generic rationals.  A candidate is kept only
if it satisfies every such univariate constraint *exactly*.  Boundary points
are favoured because counterexamples often sit on them (``eta = 2/L``).

This is the last-resort witness search; it never proves anything.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import sympy
from sympy.core.relational import Relational
from sympy.logic.boolalg import And, Not, Or

from ._problem import truth

_GENERIC = [sympy.Rational(v) for v in ("0", "1", "-1", "2", "-2", "1/2", "-1/2", "3", "10", "1/10", "-10", "100", "1/3", "5/7")]


def _relations(b: sympy.Basic):
    if isinstance(b, Relational):
        yield b
    elif isinstance(b, (And, Or, Not)):
        for a in b.args:
            yield from _relations(a)


def _rationalize(x: float) -> sympy.Rational:
    return sympy.Rational(x).limit_denominator(10**6)


def critical_points(cons: Sequence[sympy.Basic], s: sympy.Symbol) -> list[sympy.Rational]:
    """Rational points at or next to the real roots of the constraints' sides."""
    pts: set[sympy.Rational] = set()
    for c in cons:
        for r in _relations(c):
            d = r.lhs - r.rhs
            try:
                n, den = sympy.fraction(sympy.together(d))
            except (TypeError, sympy.PolynomialError):
                continue
            for p in (n, den):
                if s not in p.free_symbols:
                    continue
                try:
                    poly = sympy.Poly(p, s)
                    if not all(co.is_Rational for co in poly.all_coeffs()):
                        raise sympy.PolynomialError
                    if poly.degree() <= 0:
                        continue
                    for (a, b), _mult in poly.intervals(eps=sympy.Rational(1, 10**6)):
                        pts.add(sympy.Rational(a))
                        pts.add(sympy.Rational(b))
                except (sympy.PolynomialError, sympy.polys.polyerrors.PolificationFailed, NotImplementedError):
                    try:
                        for root in sympy.Poly(p, s).nroots(n=20):
                            if abs(sympy.im(root)) < 1e-12:
                                pts.add(_rationalize(float(sympy.re(root))))
                    except Exception:  # numeric root finding is best effort
                        continue
                except Exception:
                    continue
    return sorted(pts)


def _candidates(crit: list[sympy.Rational], rng: random.Random, integer: bool) -> tuple[list, list]:
    boundary = list(crit)
    other: list[sympy.Rational] = list(_GENERIC)
    for c in crit:
        for delta in (sympy.Rational(1, 1000), sympy.Rational(1, 10), sympy.Integer(1)):
            other.append(c - delta)
            other.append(c + delta)
    for a, b in zip(crit, crit[1:]):
        other.append((a + b) / 2)
        other.append(a + (b - a) * sympy.Rational(rng.randint(1, 99), 100))
    if crit:
        other.append(crit[0] - 1 - rng.randint(0, 10))
        other.append(crit[-1] + 1 + rng.randint(0, 10))
        other.append(crit[-1] * 2 + 1)
    for _ in range(4):
        scale = 10 ** rng.randint(-2, 3)
        other.append(sympy.Rational(rng.randint(-1000, 1000), 1000) * scale)
    if integer:
        boundary = [sympy.floor(c) for c in boundary] + [sympy.ceiling(c) for c in boundary]
        other = [sympy.Integer(round(float(c))) for c in other]
    return boundary, other


def search_point(
    constraints: Sequence[sympy.Basic],
    symbols: Sequence[sympy.Symbol],
    *,
    seed: int = 0,
    time_budget: float = 1.0,
    max_attempts: int = 200,
) -> dict[sympy.Symbol, sympy.Rational] | None:
    """Find a rational point satisfying every constraint exactly, or ``None``.

    ``constraints`` must only mention ``symbols``.  Deterministic for a given
    ``seed`` (up to the time budget).
    """
    rng = random.Random(seed)
    cons = [c for c in constraints if c is not sympy.true]
    closed = [c for c in cons if not c.free_symbols]
    if any(truth(c) is not True for c in closed):
        return None
    cons = [c for c in cons if c.free_symbols]
    syms = list(symbols)
    if not syms:
        return {}
    # The attempt count, not the clock, bounds the search, so results do not depend on load;
    # ``time_budget`` is kept for callers and only scales the number of attempts.
    crit_cache: dict = {}
    for attempt in range(max(1, min(max_attempts, int(max_attempts * time_budget)))):
        order = list(syms)
        if attempt > 0:
            rng.shuffle(order)
        point: dict[sympy.Symbol, sympy.Rational] = {}
        assigned: set[sympy.Symbol] = set()
        ok = True
        for s in order:
            assigned.add(s)
            univ = [c for c in cons if s in c.free_symbols and c.free_symbols <= assigned]
            univ = [c.xreplace(point) for c in univ]
            key = tuple(univ)
            crit = crit_cache.get(key)
            if crit is None:
                crit = critical_points(univ, s)
                if len(crit_cache) < 2000:
                    crit_cache[key] = crit
            boundary, other = _candidates(crit, rng, bool(s.is_integer))
            feas_b = [v for v in boundary if _ok(univ, s, v)]
            pool = feas_b if (feas_b and rng.random() < 0.4) else None
            if pool is None:
                rng.shuffle(other)
                feas_o = []
                for v in other:
                    if _ok(univ, s, v):
                        feas_o.append(v)
                        if len(feas_o) >= 6:
                            break
                pool = feas_o or feas_b
            if not pool:
                ok = False
                break
            point[s] = rng.choice(pool)
        if ok:
            return point
    return None


def _ok(univ: Sequence[sympy.Basic], s: sympy.Symbol, v: sympy.Rational) -> bool:
    for c in univ:
        if truth(c.xreplace({s: v})) is not True:
            return False
    return True
