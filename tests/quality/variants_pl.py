"""False variants of the PL-family statements: each must be refuted at the quick budget.

Each changes one thing a careless reading might change: the PL convention (the factor 2 between
the book's mu and Karimi-Nutini-Schmidt's mu_K), the step-size range of a rate, or which constant
enters the RSI contraction factor.
"""

from __future__ import annotations

import sympy

from theorems.catalogue import pl as P
from theorems.spec import Assumption, Citation, Claim, Domain, Role, Sym, Theorem, Verdict

HERE = Citation("thmcheck quality suite", "false variant of the PL family")
ETA_AT_BOUND = Sym("eta", Domain.POSITIVE, Role.PARAMETER, draw="upper", doc="eta = 1/L")
eta, mu, L, f0, f1, fs, fF, t = P.eta, P.mu, P.L, P.f0, P.f1, P.fs, P.fF, P.t


def _pl_variant(vid: str, title: str, relation, statement: str, *, assumptions, symbols=None) -> Theorem:
    return Theorem(
        id=vid, title=title, citation=HERE,
        symbols=symbols or (P.L_, P.MU_, P.FS_, P.ETA_, P.F0_, P.F1_, P.FF_, P.T_),
        structure=P.pl_rate.structure, dynamics="gd_pl", assumptions=assumptions,
        claims=(Claim("false_claim", relation, statement, expect=Verdict.FAIL),), horizon=30,
    )


VARIANTS = [
    # The KNS rate 1 - eta mu_K written with the book's mu (= 2 mu_K): a factor 2 too fast.
    _pl_variant("quality.pl_rate_no_half", "PL one-step factor 1 - eta mu (book mu) instead of 1 - eta mu / 2",
                f1 - fs <= (1 - eta * mu) * (f0 - fs), "f(w_{t+1}) - f* <= (1 - eta mu)(f(w_t) - f*)",
                assumptions=(Assumption("step_size", eta <= 1 / L), P.MU_LE_2L)),
    _pl_variant("quality.pl_kns_formula_book_mu", "PL rate (1 - mu/L)^t at eta = 1/L with the book's mu",
                f1 - fs <= (1 - mu / L) ** (t + 1) * (fF - fs),
                "f(w_{t+1}) - f* <= (1 - mu/L)^{t+1} (f(w_0) - f*) at eta = 1/L (mu = book constant)",
                assumptions=(Assumption("step_size", eta <= 1 / L), P.MU_LE_2L),
                symbols=(P.L_, P.MU_, P.FS_, ETA_AT_BOUND, P.F1_, P.FF_, P.T_)),
    # The eta <= 1/L rate used for every eta < 2/L.
    _pl_variant("quality.pl_rate_beyond_one_over_l", "PL factor 1 - eta mu / 2 for every eta < 2/L",
                f1 - fs <= (1 - eta * mu / 2) * (f0 - fs), "f(w_{t+1}) - f* <= (1 - eta mu/2)(f(w_t) - f*), eta < 2/L",
                assumptions=(Assumption("step_size", eta < 2 / L),)),
    Theorem(
        id="quality.rsi_factor_mu_for_l", title="RSI factor with mu in place of L: (1 - eta mu)^2", citation=HERE,
        symbols=(P.L_, P.MU_, P.ETA_, P.D0_, P.D1_), structure=P.rsi_rate.structure, dynamics="gd_pl",
        assumptions=(Assumption("mu_le_L", mu <= L),),
        search=(Assumption("search_range", eta <= 2 / L),),
        claims=(Claim("false_claim", P.D1 <= (1 - eta * mu) ** 2 * P.D0,
                      "||w_{t+1} - w*||^2 <= (1 - eta mu)^2 ||w_t - w*||^2", expect=Verdict.FAIL),),
        horizon=30,
    ),
    # The closest-solution contraction with only the top of the spectrum: forgets that the slowest
    # direction of the row space contracts by 1 - eta lambda_min^+.
    Theorem(
        id="quality.ls_projection_top_eigenvalue_only",
        title="over-parameterized least squares: ||w_t - P(w_0)||^2 contracts by (1 - eta L)^2 per step",
        citation=HERE, symbols=(P.L_, P.MU_, P.ETA_, P.D1_, P.DF_, P.T_),
        structure=P.ls_closest.structure, dynamics="gd_pl",
        assumptions=(Assumption("step_size", eta < 2 / L),),
        claims=(Claim("false_claim", P.D1 <= (1 - eta * L) ** (2 * (t + 1)) * P.DF,
                      "||w_{t+1} - P(w_0)||^2 <= (1 - eta L)^{2(t+1)} ||w_0 - P(w_0)||^2", expect=Verdict.FAIL),),
        horizon=30,
    ),
]

# Issue 9: the kinds of false variant the quality suite requires of every family.
_PL_ASSUMPTIONS = (Assumption("step_size", eta <= 1 / L), P.MU_LE_2L)
VARIANTS += [
    _pl_variant("quality.pl_rate_factor_1_2", "PL factor 1 - 1.2 eta mu / 2 (20% too fast)",
                f1 - fs <= (1 - sympy.Rational(6, 5) * eta * mu / 2) * (f0 - fs),
                "f(w_{t+1}) - f* <= (1 - 1.2 eta mu/2)(f(w_t) - f*)", assumptions=_PL_ASSUMPTIONS),
    _pl_variant("quality.pl_rate_cubed", "PL rate with exponent 3(t+1) in place of t+1",
                f1 - fs <= (1 - eta * mu / 2) ** (3 * (t + 1)) * (fF - fs),
                "f(w_{t+1}) - f* <= (1 - eta mu/2)^{3(t+1)} (f(w_0) - f*)", assumptions=_PL_ASSUMPTIONS),
    _pl_variant("quality.pl_rate_swapped", "PL contraction with the inequality reversed",
                f1 - fs >= (1 - eta * mu / 2) * (f0 - fs),
                "f(w_{t+1}) - f* >= (1 - eta mu/2)(f(w_t) - f*) (direction swapped)", assumptions=_PL_ASSUMPTIONS),
]

KINDS = {
    "quality.pl_rate_no_half": "constant",
    "quality.pl_kns_formula_book_mu": "constant",
    "quality.pl_rate_beyond_one_over_l": "hypothesis",
    "quality.rsi_factor_mu_for_l": "constant",
    "quality.ls_projection_top_eigenvalue_only": "constant",
    "quality.pl_rate_factor_1_2": "constant_5_50",
    "quality.pl_rate_cubed": "exponent",
    "quality.pl_rate_swapped": "direction",
}
