"""False variants of the cross-predictability family: each must be refuted at the quick budget.

Each changes one thing a careless reading might change: a factor 2 in the CP of parities, a squared
count for dictators, a factor 1/2 in the Cauchy-Schwarz + replica bound (with CP in place of its
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
    _variant("quality.pinsker_4sigma", "Pinsker step with 4 sigma", C.gaussian_pinsker,
             C.tv <= C.delta / (4 * C.sig), "TV(N(a, s^2 I), N(b, s^2 I)) <= ||a - b|| / (4 s)"),
]
