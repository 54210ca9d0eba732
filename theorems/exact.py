"""Exact certificates: a counterexample recomputed in rational arithmetic.

A float64 violation confirmed again in ``numpy.longdouble`` is strong evidence, but still evidence
up to a rounding allowance.  Where the (shrunk) instance is made of floats -- every float is a
rational number -- and its dynamics is rational (gradient descent on a quadratic: the dynamics
declares an ``exact`` runner), the claim's two sides are recomputed with
:class:`fractions.Fraction` and SymPy rationals, so the record can say "violated exactly by 1/2".
Claims with quantities that are not rational in the instance (a square root, an exponential) or
that read a value no exact runner provides get no certificate and stay "extended precision".
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy

import numeric

from .spec import Claim, Role, Theorem
from .validate import dynamics_name

__all__ = ["ExactCertificate", "exact_certificate", "fraction_text"]

#: Longest fraction text recorded in full (longer ones are shortened, the digits kept exact).
MAX_DIGITS = 60


@dataclass(frozen=True)
class ExactCertificate:
    """Both sides of a claim and its violation (``bound - observed`` for ``<=``, the reverse for
    ``>=``; positive when violated), exactly."""

    observed: Fraction
    bound: Fraction
    violation: Fraction

    @property
    def violated(self) -> bool:
        """Whether the claim is violated in exact arithmetic."""
        return self.violation > 0

    def as_record(self) -> dict[str, str]:
        """The certificate as the record's ``exact`` field (fractions as text)."""
        return {"observed": fraction_text(self.observed), "bound": fraction_text(self.bound),
                "violation": fraction_text(self.violation)}


def fraction_text(x: Fraction) -> str:
    """``3/8``, ``-2``; a fraction with a very long numerator or denominator is written with its
    value, e.g. ``≈ 0.1234 (p/q with 80-digit q)``, so a record stays readable."""
    text = str(x)
    q = x.denominator
    if len(text) > 16 and q & (q - 1) == 0:
        # A binary fraction: the float64 value of a short decimal; say both what it is and what it reads.
        return f"{x.numerator}/2^{q.bit_length() - 1} (≈ {float(x):.6g})"
    if len(text) <= MAX_DIGITS:
        return text
    return f"≈ {float(x):.17g} (a fraction with a {len(str(x.denominator))}-digit denominator)"


def _rational(value: Any) -> Fraction | None:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        return Fraction(value) if value == value and abs(value) != float("inf") else None
    if isinstance(value, int):
        return Fraction(value)
    return None


def exact_certificate(thm: Theorem, claim: Claim, exp: numeric.Experiment, data: dict[str, Any],
                      params: dict[str, float], step: int | None) -> ExactCertificate | None:
    """The exact certificate of ``claim`` (run as ``exp``) on a recorded instance (its data, its
    parameters, its step), or None where its dynamics has no
    exact runner, the instance is not rational, or the claim reads a value the runner does not
    give.  A certificate may show the claim holding exactly (``violated`` False): the caller then
    records the counterexample as extended precision only."""
    name = dynamics_name(thm)
    dyn = numeric.DYNAMICS.get(name)
    if dyn is None or dyn.exact is None:
        return None
    values: dict[str, Fraction] = {}
    for key, v in params.items():
        fr = _rational(v)
        if fr is not None:
            values[key] = fr
    obs = dyn.exact(data, values)
    if obs is None:
        return None
    pre_run = {p.name for p in exp.parameters if not p.after_run}
    subs: dict[sympy.Symbol, sympy.Rational] = {}
    rel = claim.relation
    for sym in rel.free_symbols:
        decl = thm.symbol(sym.name)
        role = Role(decl.role)
        got: Any = None
        if role == Role.OBSERVABLE:
            got = obs.get(decl.source)
            if isinstance(got, (list, tuple)):
                got = got[step] if step is not None and 0 <= step < len(got) else None
        elif role == Role.INSTANCE:
            got = values.get(decl.source)
        elif role == Role.PARAMETER:
            # Drawn before the run: the recorded value is the one the dynamics used.  A parameter
            # computed from the trajectory is recorded in float64 only, so it has no exact value.
            got = values.get(decl.name) if decl.name in pre_run else None
        fr = _rational(got)
        if fr is None:
            return None
        subs[sym] = sympy.Rational(fr.numerator, fr.denominator)
    lhs, rhs = sympy.sympify(rel.lhs.subs(subs)), sympy.sympify(rel.rhs.subs(subs))
    if not (lhs.is_Rational and rhs.is_Rational):
        return None
    o = Fraction(int(lhs.p), int(lhs.q))
    b = Fraction(int(rhs.p), int(rhs.q))
    le = isinstance(rel, (sympy.Le, sympy.Lt))
    return ExactCertificate(observed=o, bound=b, violation=(o - b) if le else (b - o))



def certify(thm: Theorem, claim: Claim, compiled: Any, found: numeric.Found, *, statistical: bool) -> dict[str, Any]:
    """The ``evidence`` and ``exact`` fields of a counterexample record: "statistical" for
    probability and scaling claims, "exact" with the certificate where one shows the violation,
    else "extended precision".  ``compiled`` is the theorem's ``CompiledTheorem``."""
    if statistical:
        return {"evidence": "statistical"}
    exp, _ = compiled.experiment_for(claim.name)
    try:
        cert = exact_certificate(thm, claim, exp, found.data, found.params, found.step)
    except (ArithmeticError, ValueError, TypeError, KeyError):
        cert = None  # no certificate: the float replays still stand
    if cert is None or not cert.violated:
        return {"evidence": "extended precision"}
    return {"evidence": "exact", "exact": cert.as_record()}
