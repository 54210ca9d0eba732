"""False variants of the Schur-family statements: each must be refuted at the quick budget.

Each changes one thing a careless reading might change: which diagonal entry of B scales the
bound, a constant factor, or which data norm enters the Jacobian bound.
"""

from __future__ import annotations

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
