"""False variants of the saddle-escape family (family 5): each must be refuted at the quick budget.

Each changes one thing a careless reading might change: the factor 2 of improve-or-localize, the power of
the growth factor, the hypothesis of the coupling induction, the constant of the volume ratio.
"""

from __future__ import annotations

import sympy

from theorems.catalogue import escape as E
from theorems.spec import Citation, Claim, ClaimKind, Domain, Role, Sym, Theorem, Verdict

HERE = Citation("thmcheck quality suite", "false variant of the saddle-escape family")


def _variant(vid: str, title: str, base: Theorem, relation, statement: str, kind=ClaimKind.PER_STEP) -> Theorem:
    return Theorem(
        id=vid, title=title, citation=HERE, symbols=base.symbols, structure=base.structure, dynamics=base.dynamics,
        assumptions=base.assumptions, search=base.search, settings=dict(base.settings),
        claims=(Claim("false_claim", relation, statement, kind=kind, expect=Verdict.FAIL),),
        horizon=base.horizon, dims=base.dims,
    )


VARIANTS = [
    _variant("quality.escape_localize_without_2", "Lemma 7.3.2 without the factor 2", E.lemma_7_3_2,
             E.Dt <= E.eta * E.t * (E.f0 - E.ft),
             "max_{tau <= t} ||x_tau - x_0||^2 <= eta t (f(x_0) - f(x_t)) (refuted by positive curvature)"),
    _variant("quality.escape_growth_one_power_more", "||p(t)|| >= (1 + eta gamma)^(t+1) eta omega", E.coupling,
             E.Pn >= (1 + E.eta * E.gamma) ** (E.ts + 1) * E.X0,
             "||p(t)|| >= (1 + eta gamma)^(t+1) eta omega (one power too many)"),
    _variant("quality.escape_coupling_sum_one", "the coupling induction under sum eta ||Delta|| <= 1", E.coupling,
             sympy.Min(E.Qn / E.Pn - E.HALF, 1 - E.Ds) <= 0,
             "||q(t)|| <= ||p(t)||/2 whenever sum_{tau < t} eta ||Delta_tau|| <= 1 (hypothesis three times too weak)"),
    _variant("quality.escape_volume_ratio_half", "volume ratio <= sqrt(d/(2 pi))", E.volume_ratio,
             E.Gr / sympy.sqrt(sympy.pi) <= sympy.sqrt(E.di / (2 * sympy.pi)),
             "(1/sqrt(pi)) Gamma(d/2+1)/Gamma(d/2+1/2) <= sqrt(d/(2 pi)) (the asymptote, not a bound)",
             kind=ClaimKind.TRAJECTORY),
]

# Issue 17: the identity claim escape.coupling::decomposition (xhat_t = p(t) - q(t)) has a mutated
# variant that must be refuted: q(t) dropped.  ||xhat_t|| comes from the two GD runs, ||p(t)|| from the
# linearised recursion, each computed on its own, so the difference is q's contribution.
XH_ = Sym("Xh", Domain.NONNEGATIVE, Role.OBSERVABLE, "xhat_t", doc="||x_t - x'_t||, from the two GD runs")
_coupling = E.coupling
VARIANTS += [
    Theorem(
        id="quality.escape_decomposition_without_q", title="Lemma 7.3.3's decomposition with q(t) dropped",
        citation=HERE, symbols=_coupling.symbols + (XH_,), structure=_coupling.structure, dynamics=_coupling.dynamics,
        assumptions=_coupling.assumptions, search=_coupling.search, settings=dict(_coupling.settings),
        claims=(Claim("false_claim", sympy.Abs(XH_.s - E.Pn) <= 0,
                      "||xhat_t|| = ||p(t)|| (the decomposition xhat_t = p(t) - q(t) with q dropped)",
                      kind=ClaimKind.PER_STEP, expect=Verdict.FAIL),),
        horizon=_coupling.horizon, dims=_coupling.dims,
    ),
]
