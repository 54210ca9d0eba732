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

# Issue 17: the identity claim cp.gaussian_pinsker::tv_identity has a mutated variant that must be
# refuted (TV by quadrature of its definition, the closed form by erf, computed apart); the closed
# forms of CP have theirs above (cp_parities_factor_2, cp_dictators_squared).
VARIANTS += [
    _variant("quality.tv_identity_factor_1_1", "TV of isotropic Gaussians as 1.1 erf(...)", C.gaussian_pinsker,
             sympy.Abs(C.tv - sympy.Rational(11, 10) * C.tve) <= 0,
             "TV(N(a, sigma^2 I), N(b, sigma^2 I)) = 1.1 erf(||a - b|| / (2 sqrt(2) sigma)) (10% too large)"),
]

# Issue 17: every cp_closed_form claim has a mutated variant (parities and dictators above).
VARIANTS += [
    _variant("quality.cp_k_parities_double", "CP of degree-k parities as 2/N", C.cp_k_parities,
             sympy.Abs(C.CP - 2 / C.N) <= 0, "CP = 2/N for the N degree-k parities (factor 2)"),
    _variant("quality.cp_point_mass_half", "CP of a point mass as 1/2", C.cp_point_mass,
             sympy.Abs(C.CP - sympy.Rational(1, 2)) <= 0, "CP = 1/2 for a class of one function"),
]

# Issue 17: the Radon-Nikodym identities of cp.junk_gradient_bound with the sign of y F(x) flipped
# (the dynamics' ``rn_sign`` setting names the identity under check; the densities and gradient
# differences it is compared with are enumerated from their definitions).
_junk = C.junk_gradient_bound
VARIANTS += [
    Theorem(
        id=f"quality.{name}_sign_flipped", title=f"{what} with the sign of y F(x) flipped", citation=HERE,
        symbols=_junk.symbols, structure=_junk.structure, dynamics=_junk.dynamics, settings={"rn_sign": 1},
        claims=(Claim("false_claim", relation, statement, kind=TRAJ, expect=Verdict.FAIL),),
        dims=_junk.dims, horizon=1,
    )
    for name, what, relation, statement in (
        ("radon_nikodym", "the density-ratio identity", C.rnr <= 0, "1 - D_F/D_* = +y F(x) (sign flipped)"),
        ("radon_nikodym_gradients", "the gradient Radon-Nikodym identity", C.rngap <= 0,
         "E_{D_F} grad L - E_{D_*} grad L = -E_{D_*}[grad L y F(x)] (sign flipped)"),
    )
]
