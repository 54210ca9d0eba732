"""False variants of the descent-family statements: each must be refuted at the quick budget.

They reuse the catalogue's notation and change one thing a careless reading might change: the
step-size condition, a constant, or the smoothness constant the condition is stated with.
"""

from __future__ import annotations

import sympy

from theorems.catalogue import descent as D
from theorems.spec import Assumption, Citation, Claim, ClaimKind, Domain, Role, Sym, Theorem, Verdict

HERE = Citation("thmcheck quality suite", "false variant of the descent family")
eta, L, f0, f1, G = D.eta, D.L, D.f0, D.f1, D.G
LDIAG_ = Sym("Ldiag", Domain.POSITIVE, Role.INSTANCE, "Ldiag",
             doc="largest diagonal Hessian bound: an understated smoothness estimate")


def _step_variant(vid: str, title: str, assumption: Assumption, relation, statement: str, symbols=D.STEP_SYMBOLS) -> Theorem:
    return Theorem(
        id=vid, title=title, citation=HERE, symbols=symbols, structure=(D.SMOOTH,), dynamics="gd",
        assumptions=(assumption,),
        claims=(Claim("false_claim", relation, statement, expect=Verdict.FAIL),),
        horizon=12,
    )


VARIANTS = [
    _step_variant("quality.descent_step_2_over_l", "descent lemma with eta <= 2/L",
                  Assumption("step_size", eta <= 2 / L), f0 - f1 >= eta / 2 * G,
                  "f(w_{t+1}) <= f(w_t) - (eta/2) ||grad f||^2 for eta <= 2/L"),
    _step_variant("quality.descent_factor_one", "descent lemma with factor 1 instead of 1/2",
                  Assumption("step_size", eta <= 1 / L), f0 - f1 >= eta * G,
                  "f(w_{t+1}) <= f(w_t) - eta ||grad f||^2 for eta <= 1/L"),
    _step_variant("quality.descent_understated_smoothness", "descent lemma with the step tied to the diagonal of the Hessian",
                  Assumption("step_size", eta <= 1 / LDIAG_.s), f0 - f1 >= eta / 2 * G,
                  "f(w_{t+1}) <= f(w_t) - (eta/2) ||grad f||^2 for eta <= 1/max_i |H_ii|",
                  symbols=D.STEP_SYMBOLS + (LDIAG_,)),
    _step_variant("quality.descent_footnote_5_over_2", "descent for eta < 5/(2L)",
                  Assumption("step_size", eta < sympy.Rational(5, 2) / L), f0 - f1 >= 0,
                  "f(w_{t+1}) <= f(w_t) for eta < 5/(2L)"),
    Theorem(
        id="quality.average_gradient_3m", title="Theorem 2.5.1 with 3 M beta / T", citation=HERE,
        symbols=D.theorem_2_5_1.symbols, structure=D.theorem_2_5_1.structure, dynamics="gd",
        assumptions=D.theorem_2_5_1.assumptions,
        claims=(Claim("false_claim", D.Gmean <= 3 * D.M * D.beta / D.T, "(1/T) sum ||grad||^2 <= 3 M beta / T",
                      kind=ClaimKind.TRAJECTORY, expect=Verdict.FAIL),),
        horizon=20,
    ),
    Theorem(
        id="quality.sgd_quarter_beta", title="stochastic descent with beta/4", citation=HERE,
        symbols=D.sgd_step.symbols, structure=D.sgd_step.structure, dynamics="sgd",
        search=D.sgd_step.search,
        claims=(Claim("false_claim", D.f0 - D.Ef1 >= eta * G - D.beta / 4 * eta**2 * D.S2,
                      "E f(w_{t+1}) <= f(w_t) - eta ||grad||^2 + (beta/4) eta^2 sigma^2", expect=Verdict.FAIL),),
        horizon=10, settings={"batch": 1},
    ),
]

# Issue 9: the kinds of false variant the quality suite requires of every family.
VARIANTS += [
    Theorem(
        id="quality.average_gradient_t_squared", title="Theorem 2.5.1 with T^2 in place of T (wrong exponent)",
        citation=HERE, symbols=D.theorem_2_5_1.symbols, structure=D.theorem_2_5_1.structure, dynamics="gd",
        assumptions=D.theorem_2_5_1.assumptions,
        claims=(Claim("false_claim", D.Gmean <= 4 * D.M * D.beta / D.T**2, "(1/T) sum ||grad||^2 <= 4 M beta / T^2",
                      kind=ClaimKind.TRAJECTORY, expect=Verdict.FAIL),),
        horizon=20,
    ),
    _step_variant("quality.descent_swapped", "descent lemma with the inequality reversed",
                  Assumption("step_size", eta <= 1 / L), f0 - f1 <= eta / 2 * G,
                  "f(w_t) - f(w_{t+1}) <= (eta/2) ||grad f||^2 for eta <= 1/L (direction swapped)"),
    _step_variant("quality.descent_factor_0_6", "descent lemma with 0.6 eta instead of eta/2 (20% too strong)",
                  Assumption("step_size", eta <= 1 / L), f0 - f1 >= sympy.Rational(3, 5) * eta * G,
                  "f(w_{t+1}) <= f(w_t) - 0.6 eta ||grad f||^2 for eta <= 1/L"),
]

KINDS = {
    "quality.descent_step_2_over_l": "hypothesis",
    "quality.descent_factor_one": "constant",
    "quality.descent_understated_smoothness": "hypothesis",
    "quality.descent_footnote_5_over_2": "hypothesis",
    "quality.average_gradient_3m": "constant_5_50",
    "quality.sgd_quarter_beta": "constant_5_50",
    "quality.average_gradient_t_squared": "exponent",
    "quality.descent_swapped": "direction",
    "quality.descent_factor_0_6": "constant_5_50",
}
