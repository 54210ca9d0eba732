"""False variants of the Schur-family statements: each must be refuted at the quick budget.

Each changes one thing a careless reading might change: which diagonal entry of B scales the
bound, a constant factor, or which data norm enters the Jacobian bound.
"""

from __future__ import annotations

import sympy
from sympy import Rational

from theorems.catalogue import schur as S
from theorems.spec import Citation, Claim, ClaimKind, Theorem, Verdict

HERE = Citation("thmcheck quality suite", "false variant of the Schur family")
TRAJ = ClaimKind.TRAJECTORY


def _pair_variant(vid: str, title: str, relation, statement: str) -> Theorem:
    return Theorem(
        id=vid, title=title, citation=HERE, symbols=S.product_bounds.symbols, structure=S.product_bounds.structure,
        dynamics="spectra", claims=(Claim("false_claim", relation, statement, kind=TRAJ, expect=Verdict.FAIL),),
        dims=(2, 3, 4, 8), horizon=1,
    )


VARIANTS = [
    _pair_variant("quality.schur_lower_max_diag", "Schur lower bound with max_i B_ii",
                  S.lmin_AB >= S.bmax_psd * S.lmin_A, "lambda_min(A o B) >= (max_i B_ii) lambda_min(A)"),
    _pair_variant("quality.schur_upper_min_diag", "Schur upper bound with min_i B_ii",
                  S.lmax_AB <= S.bmin_psd * S.lmax_A, "lambda_max(A o B) <= (min_i B_ii) lambda_max(A)"),
    _pair_variant("quality.schur_lower_factor_2", "Schur lower bound with a factor 2",
                  S.lmin_AB >= 2 * S.bmin_psd * S.lmin_A, "lambda_min(A o B) >= 2 (min_i B_ii) lambda_min(A)"),
    Theorem(
        id="quality.jacobian_lower_factor_2", title="Jacobian Schur bound with a factor 2", citation=HERE,
        symbols=S.jacobian_gram.symbols, structure=S.jacobian_gram.structure, dynamics="jacobian_gram",
        claims=(Claim("false_claim", S.lJJ >= 2 * S.xn2 * S.lP,
                      "lambda_min(J J^T) >= 2 min_i ||x_i||^2 lambda_min(P)", kind=TRAJ, expect=Verdict.FAIL),),
        dims=(2, 3, 5, 8), horizon=1,
    ),
]

# Issue 17: the identity claims of the family have mutated variants that must be refuted.
# stein_mu1 (mu_1(phi') = E[phi''(g)]): mu_1 by Hermite projection of phi', E[phi''] by quadrature of
# phi'' itself, so a wrong normalisation shows.  gram_identity (J J^T = P o (X X^T)): J J^T from the
# explicit Jacobian, P o K from its formula; the variant drops diag(v o v) from P.
_hermite = S.hermite_lemma
_jacobian = S.jacobian_gram
VARIANTS += [
    Theorem(
        id="quality.stein_mu1_sqrt2", title="Stein's lemma with a factor sqrt(2)", citation=HERE,
        symbols=_hermite.symbols, structure=_hermite.structure, dynamics=_hermite.dynamics,
        claims=(Claim("false_claim", sympy.Abs(S.mu1 - sympy.sqrt(2) * S.ed2) <= 0,
                      "mu_1(phi') = sqrt(2) E[phi''(g)] (the normalisation of mu_2 applied to mu_1)", kind=TRAJ,
                      expect=Verdict.FAIL),),
        dims=_hermite.dims, horizon=1,
    ),
    Theorem(
        id="quality.gram_identity_without_v", title="Jacobian Gram identity with diag(v o v) dropped", citation=HERE,
        symbols=_jacobian.symbols, structure=_jacobian.structure, dynamics=_jacobian.dynamics,
        claims=(Claim("false_claim", S.gerr0 <= 0, "J J^T = (phi'(X W^T) phi'(W X^T)) o (X X^T) (v dropped)",
                      kind=TRAJ, expect=Verdict.FAIL),),
        dims=_jacobian.dims, horizon=1,
    ),
]

# Issue 9: the kinds of false variant the quality suite requires of every family.
VARIANTS += [
    _pair_variant("quality.schur_lower_factor_1_25", "Schur lower bound with a factor 1.25 (25% too strong)",
                  S.lmin_AB >= Rational(5, 4) * S.bmin_psd * S.lmin_A,
                  "lambda_min(A o B) >= 1.25 (min_i B_ii) lambda_min(A)"),
    _pair_variant("quality.schur_upper_squared", "Schur upper bound with lambda_max(A)^2 (wrong exponent)",
                  S.lmax_AB <= S.bmax_psd * S.lmax_A**2, "lambda_max(A o B) <= (max_i B_ii) lambda_max(A)^2"),
    _pair_variant("quality.schur_lower_swapped", "Schur lower bound with the inequality reversed",
                  S.lmin_AB <= S.bmin_psd * S.lmin_A, "lambda_min(A o B) <= (min_i B_ii) lambda_min(A) (swapped)"),
    Theorem(
        id="quality.schur_lower_without_psd_b", title="Schur lower bound with B only symmetric (hypothesis dropped)",
        citation=HERE, symbols=S.without_psd_b.symbols, structure=S.without_psd_b.structure, dynamics="spectra",
        claims=(Claim("false_claim", S.lmin_AB >= S.bmin * S.lmin_A,
                      "lambda_min(A o B) >= (min_i B_ii) lambda_min(A) for symmetric B", kind=TRAJ,
                      expect=Verdict.FAIL),),
        dims=(2, 3, 4, 8), horizon=1,
    ),
]

KINDS = {
    "quality.schur_lower_max_diag": "constant",
    "quality.schur_upper_min_diag": "constant",
    "quality.schur_lower_factor_2": "constant",
    "quality.jacobian_lower_factor_2": "constant",
    "quality.schur_lower_factor_1_25": "constant_5_50",
    "quality.schur_upper_squared": "exponent",
    "quality.schur_lower_swapped": "direction",
    "quality.schur_lower_without_psd_b": "hypothesis",
}
