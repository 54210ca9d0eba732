"""False variants of the scale-invariant family (family 6): each must be refuted at the quick budget.

Each changes one thing a careless reading might change: a power of the weight-decay factor, a
constant, the exponent of the learning-rate schedule.
"""

from __future__ import annotations

import sympy

from theorems.catalogue import scale_invariant as S
from theorems.spec import Assumption, Citation, Claim, ClaimKind, Theorem, Verdict

HERE = Citation("thmcheck quality suite", "false variant of the scale-invariant family")
eta, lam, rho, G, W, W1, f0, f1, Gbar = S.eta, S.lam, S.rho, S.G, S.W, S.W1, S.f0, S.f1, S.Gbar
DECAY = Assumption("decay", eta * lam <= sympy.Rational(1, 2), "eta lam <= 1/2")


def _variant(vid: str, title: str, base: Theorem, relation, statement: str, kind=ClaimKind.PER_STEP,
             symbols=None, dynamics=None, settings=None) -> Theorem:
    return Theorem(settings=dict(settings or {}),
        id=vid, title=title, citation=HERE, symbols=symbols or base.symbols, structure=base.structure,
        dynamics=dynamics or base.dynamics, assumptions=base.assumptions, search=base.search,
        claims=(Claim("false_claim", relation, statement, kind=kind, expect=Verdict.FAIL),),
        horizon=base.horizon, dims=base.dims,
    )


VARIANTS = [
    _variant("quality.si_pythagoras_first_power", "(13.4) with (1 - eta lam) instead of its square",
             S.pythagoras, W1 - (1 - eta * lam) * W - eta**2 * G >= 0,
             "||w_{t+1}||^2 >= (1 - eta lam) ||w_t||^2 + eta^2 ||grad L(w_t)||^2"),
    _variant("quality.si_decrease_without_2", "Theorem 13.4.6 without the factor 2",
             S.theorem_13_4_6, f0 - f1 >= eta * (1 - rho * eta / W) * G,
             "L(w_t) - L(w_{t+1}) >= eta (1 - rho eta / ||w_t||^2) ||grad L(w_t)||^2"),
    _variant("quality.si_gradient_quarter_rho", "Lemma 13.4.3(1) with rho/4 instead of pi rho",
             S.lemma_13_4_3, Gbar <= rho**2 / 16, "||grad L(w)|| <= rho/4 at ||w|| = 1"),
    _variant("quality.si_pythagoras_without_decay", "(13.4) without the weight-decay factor",
             S.pythagoras, W1 - W - eta**2 * G >= 0,
             "||w_{t+1}||^2 >= ||w_t||^2 + eta^2 ||grad L(w_t)||^2 (weight decay forgotten)"),
    _variant("quality.si_exp_lr_even_exponent", "Theorem 13.3.1 with eta_t = eta (1 - eta lam)^(-2t)",
             S.exp_lr, S.direrr <= 0,
             "w_t and v_t (eta_t = eta (1 - eta lam)^(-2t), one power short) point the same way at every t",
             settings={"schedule_offset": 1}),
]

VARIANTS += [
    Theorem(
        id="quality.si_layernorm_top_trained", title="Lemma 13.2.2 without freezing the layers after the last normalisation",
        citation=HERE, symbols=S.lemma_13_2_2.symbols,
        structure=(S.Structural("layernorm_net", "layernorm_net_trainable_top",
                                "a LayerNorm + ReLU network with every layer trained"),),
        dynamics=S.lemma_13_2_2.dynamics,
        claims=(Claim("false_claim", sympy.Abs(S.dL) <= 0, "L(c w) = L(w) although the top layers are trained",
                      kind=ClaimKind.TRAJECTORY, expect=Verdict.FAIL),),
        horizon=1, dims=S.lemma_13_2_2.dims,
    ),
    _variant("quality.si_descent_without_gradient_term", "Lemma 13.4.5 without the first-order term",
             S.lemma_13_4_5, S.Lxv - S.Lx <= rho * S.Vn2 / (2 * S.Xn2),
             "L(x + v) - L(x) <= rho ||v||^2 / (2 ||x||^2) for orthogonal x, v", kind=ClaimKind.TRAJECTORY),
    _variant("quality.si_exp_lr_minibatch_even_exponent",
             "Theorem 13.3.1 with minibatches and eta_t = eta (1 - eta lam)^(-2t)",
             S.exp_lr_minibatch, S.direrr <= 0,
             "with the same minibatches, w_t and v_t (eta_t = eta (1 - eta lam)^(-2t)) point the same way",
             settings={"batch": 2, "schedule_offset": 1}),
]

# Issue 9: the kinds of false variant the quality suite requires of every family.
VARIANTS += [
    _variant("quality.si_pythagoras_gradient_1_2", "(13.4) with 1.2 eta^2 ||grad||^2 (20% too large)",
             S.pythagoras, W1 - (1 - eta * lam) ** 2 * W - sympy.Rational(6, 5) * eta**2 * G >= 0,
             "||w_{t+1}||^2 >= (1 - eta lam)^2 ||w_t||^2 + 1.2 eta^2 ||grad L(w_t)||^2"),
    _variant("quality.si_descent_swapped", "Lemma 13.4.5 with the inequality reversed",
             S.lemma_13_4_5, S.Lxv - S.Lx >= S.ipv + rho * S.Vn2 / (2 * S.Xn2),
             "L(x + v) - L(x) >= <grad L(x), v> + rho ||v||^2 / (2 ||x||^2) (direction swapped)",
             kind=ClaimKind.TRAJECTORY),
]

# Issue 17: every identity claim of the family (loss_invariance, layer_homogeneity, euler_identity,
# direction_error, scale_ratio) has a mutated variant that must be refuted, so none of the identity
# checks is one that cannot fail.  loss_invariance and direction_error have theirs above
# (si_layernorm_top_trained, si_exp_lr_even_exponent).
_TOP_TRAINED = (S.Structural("layernorm_net", "layernorm_net_trainable_top", "a LayerNorm + ReLU network with every layer trained"),)


def _net_variant(vid: str, title: str, relation, statement: str, *, structure=None, settings=None) -> Theorem:
    base = S.lemma_13_2_2
    return Theorem(id=vid, title=title, citation=HERE, symbols=base.symbols, structure=structure or base.structure,
                   dynamics=base.dynamics, settings=dict(settings or {}),
                   claims=(Claim("false_claim", relation, statement, kind=ClaimKind.TRAJECTORY, expect=Verdict.FAIL),),
                   horizon=1, dims=base.dims)


VARIANTS += [
    _net_variant("quality.si_layernorm_degree_plus_one", "Lemma 13.2.2's homogeneity with every degree one higher",
                 S.homdev <= 0, "x_l(c w) = c^(k_l + 1) x_l(w) at every node (wrong power of c)",
                 settings={"degree_offset": 1}),
    _net_variant("quality.si_layernorm_euler_top_trained", "Lemma 13.2.3(1) without freezing the top layers",
                 sympy.Abs(S.euler) <= 0, "<w, grad L(w)> = 0 although the top layers are trained",
                 structure=_TOP_TRAINED),
    _variant("quality.si_exp_lr_scale_ratio_even_exponent",
             "Theorem 13.3.1's scale ratio with eta_t = eta (1 - eta lam)^(-2t)",
             S.exp_lr, S.normerr <= 0,
             "||v_t|| (1 - eta lam)^t = ||w_t|| with eta_t = eta (1 - eta lam)^(-2t) (one power short)",
             settings={"schedule_offset": 1}),
]

KINDS = {
    "quality.si_pythagoras_first_power": "exponent",
    "quality.si_decrease_without_2": "constant",
    "quality.si_gradient_quarter_rho": "constant",
    "quality.si_pythagoras_without_decay": "hypothesis",
    "quality.si_exp_lr_even_exponent": "exponent",
    "quality.si_layernorm_top_trained": "hypothesis",
    "quality.si_descent_without_gradient_term": "constant",
    "quality.si_exp_lr_minibatch_even_exponent": "exponent",
    "quality.si_pythagoras_gradient_1_2": "constant_5_50",
    "quality.si_descent_swapped": "direction",
    "quality.si_layernorm_degree_plus_one": "exponent",
    "quality.si_layernorm_euler_top_trained": "hypothesis",
    "quality.si_exp_lr_scale_ratio_even_exponent": "exponent",
}

