"""False variants of the cross-predictability family: each must be refuted at the quick budget.

Each changes one thing a careless reading might change: a factor 2 in the CP of parities, a squared
count for dictators, the printed F(X') formula (= 0) and 1/n for k-parities against the sampled CP at
n = 13..24, a factor 1/2 in the Cauchy-Schwarz + replica bound (with CP in place of its
square root, where it is attained with equality by the correlation loss on uniform parities), and
the Pinsker step with 4 sigma for 2 sigma.
"""

from __future__ import annotations

import sympy

from theorems.catalogue import cp as C
from theorems.spec import Citation, Claim, ClaimKind, Theorem, Verdict

HERE = Citation("thmcheck quality suite", "false variant of the cross-predictability family")
TRAJ = ClaimKind.TRAJECTORY


def _variant(vid: str, title: str, base: Theorem, relation, statement: str) -> Theorem:
    return Theorem(
        id=vid, title=title, citation=HERE, symbols=base.symbols, structure=base.structure, dynamics=base.dynamics,
        claims=(Claim("false_claim", relation, statement, kind=TRAJ, expect=Verdict.FAIL),),
        dims=base.dims, horizon=1,
    )


VARIANTS = [
    _variant("quality.cp_parities_factor_2", "CP of uniform parities with a factor 2", C.cp_parities,
             sympy.Abs(C.CP - 2 ** (1 - C.n)) <= 0, "CP = 2^{1-n} for uniform parities"),
    _variant("quality.cp_dictators_squared", "CP of dictators as 1/n^2", C.cp_dictators,
             sympy.Abs(C.CP - 1 / C.n**2) <= 0, "CP = 1/n^2 for dictators"),
    _variant("quality.cs_replica_half_cp", "Cauchy-Schwarz + replica with CP/2 for CP^{1/2}", C.junk_gradient_bound,
             C.csl <= C.g2j * C.CP / 2, "E_F ||E_{D_F} grad - E_{D_*} grad||^2 <= E_{D_*} ||grad||^2 CP / 2"),
    _variant("quality.cp_dictators_sampled_printed", "CP of dictators as the printed formula's 0, n = 13..24 (sampled)",
             C.cp_dictators_sampled, sympy.Abs(C.cphat - 0) <= C.cphalf,
             "CP = E_F (E_X F(X) F(X'))^2 = E_F (E_X F)^4 = 0 for dictators (the printed F(X') formula), n = 13..24"),
    _variant("quality.cp_k_parities_sampled_one_over_n", "CP of degree-k parities as 1/n, n = 13..24 (sampled)",
             C.cp_k_parities_sampled, sympy.Abs(C.cphat - 1 / C.n) <= C.cphalf,
             "CP = 1/n for the degree-k parities on {+-1}^n (true only for k = 1, n - 1), n = 13..24"),
    _variant("quality.pinsker_4sigma", "Pinsker step with 4 sigma", C.gaussian_pinsker,
             C.tv <= C.delta / (4 * C.sig), "TV(N(a, s^2 I), N(b, s^2 I)) <= ||a - b|| / (4 s)"),
]
