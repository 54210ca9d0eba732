"""Family 6: convergence on scale-invariant losses (normalization), GD with weight decay.

Source: Arora et al., *Theory of Deep Learning* (draft), chapter 13 (seed 004, paragraphs ~3273-3450).
Test instances (``numeric.families.scale_invariant``, ``numeric.families.scale_invariant_nets``): Rayleigh quotients
``L(w) = w^T A w / w^T w`` with ``rho = 2 (lambda_max - lambda_min)`` exactly; ``softplus(u^T w/||w||)`` and the
normalised logistic loss ``(1/m) sum_k log(1 + exp(-y_k x_k^T w/||w||))`` with rho the certified upper bound
``rho_bar = (alpha + s + sqrt(4 alpha^2/3 + 4 s^2))/2`` (alpha = lambda_max(C)/4, s = sqrt(lambda_max(C)),
C = (1/m) sum_k a_k a_k^T; any upper bound of rho keeps every claim valid); a LayerNorm + ReLU network built
as a networkx DAG with the layers after its last normalisation frozen (Lemma 13.2.2).  The per-step claims
run on all three losses; the hitting-time claims on Rayleigh quotients only (with a certified, looser rho
the level 8 pi^4 rho^2 lam eta is met at t = 0 unless eta lam is so small that the runs get too long).  Vectors enter the derivations through scalar summaries:
``G = ||grad L(w_t)||^2``, ``W = ||w_t||^2``, ``ip = <w_t, grad L(w_t)>`` (zero by Lemma 13.2.3(1)), and
for the exponential-LR induction the coefficients of ``w_t`` and ``grad L(w_t)`` in the difference of
the two protocols' next iterates.

Errata encoded here (THEOREMS.md section 6.3): Theorem 13.3.1's schedule lacks the factor eta
(``schedule_as_printed``, full loss and minibatches); Lemma 13.4.8's "furthermore" bound needs
``||w_0||^2 <= pi^2 rho eta``; Lemma 13.4.9 is stated with the corrected horizon
``T_0' = (ln(||w_0||^2/(rho pi^2 eta)) + 1)/(2 eta lam)``; Lemma 13.2.2's second pre-normalisation is
2-homogeneous (the compiled graph's degrees are checked).
"""

from __future__ import annotations

import sympy

from theorems.spec import (
    Algebra,
    Assumption,
    Citation,
    Claim,
    ClaimKind,
    Derivation,
    Domain,
    Fact,
    Role,
    Step,
    Structural,
    Sym,
    Theorem,
    Uses,
)

BOOK = "Arora et al., Theory of Deep Learning (draft)"
RAYLEIGH = Structural(
    "scale_invariant", "rayleigh_si",
    "L is scale invariant (L(cw) = L(w), c > 0; Definition 13.2.1) with rho = max_{||w||=1} ||Hess L(w)||_2 "
    "(Definition 13.4.1); weight decay lam > 0",
)
LOSSES = Structural(
    "scale_invariant", "scale_invariant_losses",
    "L is scale invariant (L(cw) = L(w), c > 0; Definition 13.2.1): a Rayleigh quotient (rho exact), "
    "softplus(u^T w/||w||) or a normalised logistic loss (rho a certified upper bound of "
    "max_{||w||=1} ||Hess L(w)||_2, Definition 13.4.1); weight decay lam > 0",
)
PER_STEP = ClaimKind.PER_STEP
TRAJ = ClaimKind.TRAJECTORY

RHO_ = Sym("rho", Domain.POSITIVE, Role.INSTANCE, "rho", doc="max_{||w||=1} ||Hess L(w)||_2")
LAM_ = Sym("lam", Domain.POSITIVE, Role.INSTANCE, "lam", doc="weight decay (drawn with the instance)")
ETA_ = Sym("eta", Domain.POSITIVE, Role.PARAMETER, doc="step size")
F0_ = Sym("f0", Domain.REAL, Role.OBSERVABLE, "f_t", doc="L(w_t)")
F1_ = Sym("f1", Domain.REAL, Role.OBSERVABLE, "f_next", doc="L(w_{t+1})")
G_ = Sym("G", Domain.NONNEGATIVE, Role.OBSERVABLE, "gnorm2_t", doc="||grad L(w_t)||^2")
W0_ = Sym("W", Domain.POSITIVE, Role.OBSERVABLE, "wnorm2_t", doc="||w_t||^2")
W1_ = Sym("W1", Domain.POSITIVE, Role.OBSERVABLE, "wnorm2_next", doc="||w_{t+1}||^2")
GB_ = Sym("Gbar", Domain.NONNEGATIVE, Role.OBSERVABLE, "gbar2_t", doc="||grad L(w_t/||w_t||)||^2 = ||w_t||^2 G")
FMIN_ = Sym("Lmin", Domain.REAL, Role.INSTANCE, "lmin", doc="min_w L(w)")
IP_ = Sym("ip", Domain.REAL, Role.SCALAR, doc="<w_t, grad L(w_t)>")
rho, lam, eta, f0, f1, G, W, W1, Gbar, Lmin, ip = (
    s.s for s in (RHO_, LAM_, ETA_, F0_, F1_, G_, W0_, W1_, GB_, FMIN_, IP_))
q = 1 - eta * lam  # the weight-decay factor

ORTHOGONAL = Fact("orthogonal", sympy.Eq(ip, 0),
                  "Lemma 13.2.3(1): <w, grad L(w)> = 0 (differentiate L(cw) = L(w) in c at c = 1)")
EXPAND = Fact("expand", sympy.Eq(W1, q**2 * W - 2 * q * eta * ip + eta**2 * G),
              "||(1 - eta lam) w_t - eta grad L(w_t)||^2 expanded")

# ------------------------------------------------------------------------------------------------
# Lemma 13.2.2: a LayerNorm + ReLU network with the layers after the last normalisation frozen
# ------------------------------------------------------------------------------------------------

LNNET = Structural(
    "layernorm_net", "layernorm_net",
    "a LayerNorm (no epsilon) + ReLU network, built as a DAG of layers, whose parameters after the last "
    "normalisation (its affine layer and the top layer) are frozen; L = mean logistic loss of the output",
)
LD_ = Sym("dL", Domain.REAL, Role.OBSERVABLE, "ln_loss_diff", doc="L(c w) - L(w), c = 10^U(-8, 8)")
EU_ = Sym("euler", Domain.REAL, Role.OBSERVABLE, "ln_euler", doc="<w, grad L(w)>")
HD_ = Sym("homdev", Domain.NONNEGATIVE, Role.OBSERVABLE, "ln_hom_dev",
          doc="sum over nodes l and data of |x_l(c w) - c^k_l x_l(w)| / c^k_l, k_l the degree the DAG assigns")
dL, euler, homdev = LD_.s, EU_.s, HD_.s

lemma_13_2_2 = Theorem(
    id="scale_invariant.lemma_13_2_2",
    title="A LayerNorm + ReLU network with the top layers frozen is scale invariant in its parameters",
    citation=Citation(BOOK, "Lemma 13.2.2 (and Lemma 13.2.3(1) on the network)", "seed 004, paragraph 3309"),
    symbols=(LD_, EU_, HD_),
    structure=(LNNET,),
    dynamics="layernorm_scaling",
    claims=(
        Claim("loss_invariance", sympy.Abs(dL) <= 0,
              "L(c w) = L(w) for c = 10^U(-8, 8) (16 orders of magnitude; not powers of 2, so the two "
              "evaluations round differently)", kind=TRAJ),
        Claim("layer_homogeneity", homdev <= 0,
              "every node's output is homogeneous of the degree propagated along the DAG: x^(l) (after each "
              "trainable affine + ReLU) of degree 1, the input of the second layernorm of degree 2 (the seed's "
              "proof says 1; THEOREMS.md 6.3), everything after the last layernorm of degree 0", kind=TRAJ),
        Claim("euler_identity", sympy.Abs(euler) <= 0,
              "<w, grad L(w)> = 0 for the network's loss (Lemma 13.2.3(1); gradient by the kernels' backward pass)",
              kind=TRAJ),
    ),
    horizon=1,
    dims=(2, 3, 4),
    note="numeric only: the degrees come from the compiled graph, the check from two evaluations per instance",
)

# ------------------------------------------------------------------------------------------------
# Theorem 13.3.1: the exponential learning-rate schedule
# ------------------------------------------------------------------------------------------------

DIR_ = Sym("direrr", Domain.NONNEGATIVE, Role.OBSERVABLE, "direrr_next",
           doc="||w_{t+1}/||w_{t+1}|| - v_{t+1}/||v_{t+1}|| ||, v the exp-LR run with eta_t = eta (1-eta lam)^-(2t+1)")
DIRP_ = Sym("direrr_p", Domain.NONNEGATIVE, Role.OBSERVABLE, "direrr_printed_next",
            doc="the same with the printed schedule eta_t = (1-eta lam)^-(2t+1)")
NRM_ = Sym("normerr", Domain.NONNEGATIVE, Role.OBSERVABLE, "normerr_next",
           doc="| ||v_{t+1}|| (1-eta lam)^(t+1) / ||w_{t+1}|| - 1 |")
QS_ = Sym("qf", Domain.POSITIVE, doc="the weight-decay factor 1 - eta lam")
T_ = Sym("t", Domain.NONNEGATIVE, doc="step index")
DN_ = Sym("Dn", Domain.NONNEGATIVE, doc="||v_{t+1} - w_{t+1}/qf^(t+1)||")
DW_ = Sym("dw", Domain.REAL, doc="coefficient of w_t in v_{t+1} - w_{t+1}/qf^(t+1)")
DG_ = Sym("dg", Domain.REAL, doc="coefficient of grad L(w_t) in v_{t+1} - w_{t+1}/qf^(t+1)")
WN_ = Sym("wn", Domain.POSITIVE, doc="||w_t||")
GN_ = Sym("gn", Domain.NONNEGATIVE, doc="||grad L(w_t)||")
WX_ = Sym("wnext", Domain.POSITIVE, doc="||w_{t+1}||")
ET_ = Sym("eta_t", Domain.POSITIVE, doc="the exp-LR step size at step t")
direrr, direrr_p, normerr, qf, t, Dn, dw, dg, wn, gn, wnext, eta_t = (
    s.s for s in (DIR_, DIRP_, NRM_, QS_, T_, DN_, DW_, DG_, WN_, GN_, WX_, ET_))


def _induction(err: sympy.Symbol, schedule: sympy.Expr, suffix: str) -> tuple[Fact, ...]:
    return (
        Fact(f"direction_vs_difference{suffix}", err <= 2 * Dn * qf ** (t + 1) / wnext,
             "||a/||a|| - b/||b|| || <= 2 ||a - b|| / ||a|| with a = w_{t+1}/qf^(t+1), b = v_{t+1}"),
        Fact(f"difference{suffix}", Dn <= sympy.Abs(dw) * wn + sympy.Abs(dg) * gn,
             "v_{t+1} - w_{t+1}/qf^(t+1) = dw w_t + dg grad L(w_t); triangle inequality"),
        Fact(f"coeff_w{suffix}", sympy.Eq(dw, 1 / qf**t - qf / qf ** (t + 1)),
             "induction hypothesis v_t = w_t/qf^t; v_{t+1} = w_t/qf^t - eta_t grad L(w_t/qf^t) and "
             "w_{t+1}/qf^(t+1) = (qf w_t - eta grad L(w_t))/qf^(t+1)"),
        Fact(f"coeff_g{suffix}", sympy.Eq(dg, eta / qf ** (t + 1) - eta_t * qf**t),
             "Lemma 13.2.3(2): grad L(w_t/qf^t) = qf^t grad L(w_t)"),
        Fact(f"schedule{suffix}", sympy.Eq(eta_t, schedule), "the schedule of the exp-LR protocol"),
    )


def _induction_proof(err: sympy.Symbol, claim: str, suffix: str, *, printed: bool = False) -> Derivation:
    return Derivation(
        claim, err,
        (
            Step("<=", 2 * Dn * qf ** (t + 1) / wnext, Uses((f"direction_vs_difference{suffix}",))),
            Step("<=", 2 * (sympy.Abs(dw) * wn + sympy.Abs(dg) * gn) * qf ** (t + 1) / wnext,
                 Uses((f"difference{suffix}",), "multiply by 2 qf^(t+1)/||w_{t+1}|| > 0")),
            Step("==", 2 * (sympy.Abs(1 / qf**t - qf / qf ** (t + 1)) * wn
                            + sympy.Abs(eta / qf ** (t + 1) - eta_t * qf**t) * gn) * qf ** (t + 1) / wnext,
                 Uses((f"coeff_w{suffix}", f"coeff_g{suffix}"))),
            Step("==", 0, Uses((f"schedule{suffix}",),
                               "eta_t qf^t = eta / qf^(t+1) exactly when eta_t = eta qf^-(2t+1)")),
        ),
        name="induction_printed" if printed else "induction",
        printed=printed,
        note=("with the printed schedule the coefficient of grad L(w_t) is (eta - 1)/qf^(t+1), nonzero "
              "unless eta = 1: the last step is refuted") if printed else
             "the induction step of the seed's proof (S4:3350-3356), with its own schedule eta/qf^(2t+1)",
    )


exp_lr = Theorem(
    id="scale_invariant.exp_lr",
    title="Exponential learning-rate schedule: GD with weight decay equals GD with a growing LR, up to scale",
    citation=Citation(BOOK, "Theorem 13.3.1", "seed 004, paragraphs 3348-3356"),
    symbols=(RHO_, LAM_, ETA_, DIR_, DIRP_, NRM_, QS_, T_, DN_, DW_, DG_, WN_, GN_, WX_, ET_),
    structure=(LOSSES,),
    dynamics="gd_wd_exp_lr",
    assumptions=(Assumption("decay_factor", eta * lam < 1, "1 - eta lam > 0, so the schedule is defined"),),
    search=(Assumption("search_range", eta * lam <= sympy.Rational(1, 2),
                       "the numeric search keeps eta lam <= 1/2 (the chapter's standing range), so "
                       "(1 - eta lam)^-(2T+1) stays finite over the horizon"),),
    facts=(*_induction(direrr, eta * qf ** (-(2 * t + 1)), ""),
           *_induction(direrr_p, qf ** (-(2 * t + 1)), "_printed")),
    claims=(
        Claim("schedule_as_printed", direrr_p <= 0,
              "as printed: w_t and v_t (eta_t = (1 - eta lam)^-(2t+1)) point the same way at every t",
              printed=True, corrected_by="direction_error"),
        Claim("direction_error", direrr <= 0,
              "with eta_t = eta (1 - eta lam)^-(2t+1), w_t/||w_t|| = v_t/||v_t|| at every t "
              "(tolerance: the kernel's computed forward-error bound of both runs)"),
        Claim("scale_ratio", normerr <= 0,
              "with the corrected schedule, ||v_t|| (1 - eta lam)^t = ||w_t|| at every t"),
    ),
    derivations=(
        _induction_proof(direrr, "direction_error", ""),
        _induction_proof(direrr_p, "schedule_as_printed", "_printed", printed=True),
    ),
    horizon=30,
    dims=(2, 3, 5, 8),
    note="qf stands for 1 - eta lam; the induction step is checked for a symbolic step index t",
)

LOGISTIC = Structural(
    "scale_invariant", "logistic_si",
    "each minibatch loss L_t = (1/b) sum_{k in B_t} log(1 + exp(-y_k x_k^T w/||w||)) is scale invariant "
    "(normalised logistic loss); weight decay lam > 0",
)

exp_lr_minibatch = Theorem(
    id="scale_invariant.exp_lr_minibatch",
    title="Exponential learning-rate schedule with minibatches: the same batches in both protocols",
    citation=Citation(BOOK, "Theorem 13.3.1 (minibatch version, grad L_t in (13.1))", "seed 004, paragraphs 3344-3356"),
    symbols=exp_lr.symbols,
    structure=(LOGISTIC,),
    dynamics="gd_wd_exp_lr",
    assumptions=exp_lr.assumptions,
    search=exp_lr.search,
    facts=exp_lr.facts,
    claims=(
        Claim("schedule_as_printed", direrr_p <= 0,
              "as printed, with minibatch losses L_t (the same batch B_t in both runs at step t): w_t and v_t "
              "(eta_t = (1 - eta lam)^-(2t+1)) point the same way at every t",
              printed=True, corrected_by="direction_error"),
        Claim("direction_error", direrr <= 0,
              "with minibatch losses L_t and eta_t = eta (1 - eta lam)^-(2t+1), w_t/||w_t|| = v_t/||v_t|| at every t "
              "(tolerance: the kernel's computed forward-error bound of both runs)"),
        Claim("scale_ratio", normerr <= 0,
              "with minibatch losses and the corrected schedule, ||v_t|| (1 - eta lam)^t = ||w_t|| at every t"),
    ),
    derivations=(
        _induction_proof(direrr, "direction_error", ""),
        _induction_proof(direrr_p, "schedule_as_printed", "_printed", printed=True),
    ),
    horizon=30,
    dims=(2, 3, 5, 8),
    settings={"batch": 2},
    note="the induction step is the same as for the full loss: Lemma 13.2.3(2) holds for each L_t; batches of 2 "
         "components drawn with replacement by the counter-based generator keyed by (seed, instance, step)",
)

# ------------------------------------------------------------------------------------------------
# (13.4): the Pythagoras identity
# ------------------------------------------------------------------------------------------------


def _pythagoras_proof(claim: str, sense: str) -> Derivation:
    return Derivation(
        claim, W1 - q**2 * W - eta**2 * G,
        (
            Step("==", -2 * q * eta * ip, Uses(("expand",))),
            Step(sense, 0, Uses(("orthogonal",))),
        ),
    )


pythagoras = Theorem(
    id="scale_invariant.pythagoras",
    title="Pythagoras identity for GD with weight decay on a scale-invariant loss, (13.4)",
    citation=Citation(BOOK, "proof of Lemma 13.4.8, eq. (13.4)", "seed 004, paragraph 3422"),
    symbols=(RHO_, LAM_, ETA_, G_, W0_, W1_, IP_),
    structure=(LOSSES,),
    dynamics="gd_wd",
    assumptions=(Assumption("decay", eta * lam <= sympy.Rational(1, 2), "eta lam <= 1/2 (section 13.4)"),),
    facts=(ORTHOGONAL, EXPAND),
    claims=(
        Claim("identity_upper", W1 - q**2 * W - eta**2 * G <= 0,
              "||w_{t+1}||^2 <= (1 - eta lam)^2 ||w_t||^2 + eta^2 ||grad L(w_t)||^2 (one half of the identity)"),
        Claim("identity_lower", W1 - q**2 * W - eta**2 * G >= 0,
              "||w_{t+1}||^2 >= (1 - eta lam)^2 ||w_t||^2 + eta^2 ||grad L(w_t)||^2 (the other half)"),
    ),
    derivations=(_pythagoras_proof("identity_upper", "<="), _pythagoras_proof("identity_lower", ">=")),
    horizon=30,
    dims=(2, 3, 5, 8),
)

# ------------------------------------------------------------------------------------------------
# Theorem 13.4.6: per-step decrease
# ------------------------------------------------------------------------------------------------

IPX_ = Sym("ipx", Domain.REAL, doc="<v, grad L(x)> with x = (1 - eta lam) w_t, v = -eta grad L(w_t)")
V2_ = Sym("V2", Domain.NONNEGATIVE, doc="||v||^2")
X2_ = Sym("X2", Domain.POSITIVE, doc="||x||^2")
U_ = Sym("u", Domain.POSITIVE, doc="1/(1 - eta lam), in [1, 2] for eta lam <= 1/2")
ipx, V2, X2, u = (s.s for s in (IPX_, V2_, X2_, U_))

theorem_13_4_6 = Theorem(
    id="scale_invariant.theorem_13_4_6",
    title="Per-step decrease of GD with weight decay on a scale-invariant loss",
    citation=Citation(BOOK, "Theorem 13.4.6 (with Lemma 13.4.5 and Problem 13.4.7)", "seed 004, paragraph 3414"),
    symbols=(RHO_, LAM_, ETA_, F0_, F1_, G_, W0_, IPX_, V2_, X2_, U_),
    structure=(LOSSES,),
    dynamics="gd_wd",
    assumptions=(Assumption("decay", eta * lam <= sympy.Rational(1, 2), "eta lam <= 1/2"),),
    facts=(
        Fact("lemma_13_4_5", f1 - f0 <= ipx + rho * V2 / (2 * X2),
             "Lemma 13.4.5 at x = (1 - eta lam) w_t, v = -eta grad L(w_t) (orthogonal by Lemma 13.2.3(1)); "
             "x + v = w_{t+1}, L(x) = L(w_t)"),
        Fact("ipx", sympy.Eq(ipx, -eta * G * u), "Lemma 13.2.3(2): grad L(x) = grad L(w_t)/(1 - eta lam)"),
        Fact("v2", sympy.Eq(V2, eta**2 * G), "||v||^2 = eta^2 ||grad L(w_t)||^2"),
        Fact("x2", sympy.Eq(X2, W / u**2), "||x||^2 = (1 - eta lam)^2 ||w_t||^2"),
        Fact("u_low", u >= 1, "u = 1/(1 - eta lam) >= 1"),
        Fact("u_high", u <= 2, "u = 1/(1 - eta lam) <= 2 since eta lam <= 1/2"),
    ),
    claims=(
        Claim("per_step_decrease", f0 - f1 >= eta * (1 - 2 * rho * eta / W) * G,
              "L(w_t) - L(w_{t+1}) >= eta (1 - 2 rho eta / ||w_t||^2) ||grad L(w_t)||^2 for eta lam <= 1/2"),
    ),
    derivations=(
        Derivation(
            "per_step_decrease", f0 - f1,
            (
                Step(">=", -ipx - rho * V2 / (2 * X2), Uses(("lemma_13_4_5",))),
                Step("==", eta * G * (u - rho * eta / (2 * W) * u**2), Uses(("ipx", "v2", "x2"))),
                Step(">=", eta * (1 - 2 * rho * eta / W) * G,
                     Uses(("u_low", "u_high"),
                          "u - a u^2 is concave in u with end values 1 - a and 2 - 4a, both >= 1 - 4a "
                          "(a = rho eta / (2 ||w_t||^2)); the difference is (u - 1) + a (4 - u^2) >= 0")),
            ),
        ),
    ),
    horizon=30,
    dims=(2, 3, 5, 8),
)

# ------------------------------------------------------------------------------------------------
# Lemma 13.4.5: the scale-invariant descent lemma for orthogonal steps
# ------------------------------------------------------------------------------------------------

PF0_ = Sym("Lx", Domain.REAL, Role.OBSERVABLE, "pair_f_x", doc="L(x)")
PF1_ = Sym("Lxv", Domain.REAL, Role.OBSERVABLE, "pair_f_xv", doc="L(x + v)")
PIP_ = Sym("ipv", Domain.REAL, Role.OBSERVABLE, "pair_ip", doc="<v, grad L(x)>")
PV2_ = Sym("Vn2", Domain.NONNEGATIVE, Role.OBSERVABLE, "pair_v2", doc="||v||^2")
PX2_ = Sym("Xn2", Domain.POSITIVE, Role.OBSERVABLE, "pair_x2", doc="||x||^2")
PQ_ = Sym("Q", Domain.REAL, doc="v^T Hess L(y) v at the mean-value point y = x + s v")
PY2_ = Sym("Yn2", Domain.POSITIVE, doc="||y||^2 = ||x + s v||^2")
PS_ = Sym("s", Domain.REAL, doc="the mean-value parameter, in (0, 1)")
Lx, Lxv, ipv, Vn2, Xn2, Qh, Yn2, sm = (s.s for s in (PF0_, PF1_, PIP_, PV2_, PX2_, PQ_, PY2_, PS_))

lemma_13_4_5 = Theorem(
    id="scale_invariant.lemma_13_4_5",
    title="Descent lemma for a scale-invariant loss along a step orthogonal to the point",
    citation=Citation(BOOK, "Lemma 13.4.5", "seed 004, paragraph 3400"),
    symbols=(RHO_, LAM_, PF0_, PF1_, PIP_, PV2_, PX2_, PQ_, PY2_, PS_),
    structure=(LOSSES,),
    dynamics="orthogonal_pair",
    facts=(
        Fact("taylor", sympy.Eq(Lxv - Lx, ipv + Qh / 2),
             "Taylor's formula with the mean-value remainder along the segment x + s v, s in (0, 1)"),
        Fact("hessian_scaling", Qh <= rho * Vn2 / Yn2,
             "Lemma 13.2.3(3): ||Hess L(y)|| = ||Hess L(y/||y||)|| / ||y||^2 <= rho / ||y||^2 (corrected typo: "
             "the seed writes ||gamma(s*)|| >= ||x||^2 for ||gamma(s*)||^2 >= ||x||^2)"),
        Fact("orthogonal", sympy.Eq(Yn2, Xn2 + sm**2 * Vn2), "<x, v> = 0: ||x + s v||^2 = ||x||^2 + s^2 ||v||^2"),
    ),
    claims=(
        Claim("descent", Lxv - Lx - ipv <= rho * Vn2 / (2 * Xn2),
              "for orthogonal x, v: L(x + v) - L(x) <= <v, grad L(x)> + rho ||v||^2 / (2 ||x||^2) "
              "(checked at x = w_0 of every instance and a random orthogonal v with ||v||/||x|| = 10^U(-3, 1); "
              "written with the first-order term on the left so that the tightness ratio compares the "
              "second-order remainder with its bound)",
              kind=TRAJ),
    ),
    derivations=(
        Derivation(
            "descent", Lxv - Lx - ipv,
            (
                Step("==", Qh / 2, Uses(("taylor",))),
                Step("<=", rho * Vn2 / (2 * Yn2), Uses(("hessian_scaling",))),
                Step("==", rho * Vn2 / (2 * (Xn2 + sm**2 * Vn2)), Uses(("orthogonal",))),
                Step("<=", rho * Vn2 / (2 * Xn2), Algebra("||x||^2 + s^2 ||v||^2 >= ||x||^2 > 0")),
            ),
        ),
    ),
    horizon=1,
    dims=(2, 3, 5, 8),
    note="the numeric check draws the pair directly (not along GD): x = w_0 over many orders of magnitude",
)

# ------------------------------------------------------------------------------------------------
# Lemma 13.4.3: gradient and suboptimality bounds from rho
# ------------------------------------------------------------------------------------------------

lemma_13_4_3 = Theorem(
    id="scale_invariant.lemma_13_4_3",
    title="Gradient norm and suboptimality of a scale-invariant loss are bounded by rho",
    citation=Citation(BOOK, "Lemma 13.4.3", "seed 004, paragraph 3384"),
    symbols=(RHO_, LAM_, ETA_, F0_, GB_, FMIN_),
    structure=(LOSSES,),
    dynamics="gd_wd",
    search=(Assumption("search_range", eta * lam <= sympy.Rational(1, 2),
                       "points are drawn along GD + weight decay trajectories with eta lam <= 1/2"),),
    claims=(
        Claim("gradient_bound", Gbar <= sympy.pi**2 * rho**2,
              "||grad L(w)|| <= pi rho at ||w|| = 1 (here at w = w_t/||w_t|| along trajectories)"),
        Claim("suboptimality_bound", f0 - Lmin <= sympy.pi**2 * rho / 2,
              "L(w) - min L <= pi^2 rho / 2 (here at the iterates w_t)"),
    ),
    horizon=20,
    dims=(2, 3, 5, 8),
)

# ------------------------------------------------------------------------------------------------
# Lemma 13.4.8 and Theorem 13.4.2: a small normalised gradient within a horizon
# ------------------------------------------------------------------------------------------------

SLOW = Structural(
    "scale_invariant", "rayleigh_si_slow_decay",
    "L is scale invariant with rho = max_{||w||=1} ||Hess L(w)||_2; weight decay lam > 0 (drawn small, "
    "lam/rho ~ 1e-3.4..1e-3.1, so that the level 8 pi^4 rho^2 lam eta is not met at t = 0 by default)",
)
SLOW_SEARCH = (
    Assumption("search_low", eta >= 1 / (4 * rho), "the search draws eta rho in [1/4, 1]"),
    Assumption("search_high", eta <= 1 / rho, "the search draws eta rho in [1/4, 1]; with the class's lam "
               "this gives eta lam in [1e-4, 8e-4] and a horizon bound below the 60000-step run"),
)
W0N_ = Sym("W0", Domain.POSITIVE, Role.OBSERVABLE, "w0n2", doc="||w_0||^2")
TH_ = Sym("t_hit", Domain.NONNEGATIVE, Role.OBSERVABLE, "hit_time",
          doc="first t with ||grad L(w_t/||w_t||)||^2 <= 8 pi^4 rho^2 lam eta (T + 1 when none within the run)")
TE_ = Sym("t_either", Domain.NONNEGATIVE, Role.OBSERVABLE, "either_time",
          doc="first t with ||w_t||^2 >= pi^2 rho eta or ||grad L(w_t/||w_t||)||^2 <= 8 pi^4 rho^2 lam eta")
WE_ = Sym("W_T", Domain.POSITIVE, Role.OBSERVABLE, "wnorm2_either", doc="||w_T||^2 at T = t_either")
W0n, t_hit, t_either, W_T = (s.s for s in (W0N_, TH_, TE_, WE_))
HIT_LEVEL = 8 * sympy.pi**4 * rho**2 * lam * eta  # the level hit_time is measured at (dynamics setting)
NORM_LEVEL = sympy.pi**2 * rho * eta  # the norm level of either_time
LEVELS = {"hit_level": HIT_LEVEL, "norm_level": NORM_LEVEL}

lemma_13_4_8 = Theorem(
    id="scale_invariant.lemma_13_4_8",
    title="Within 1/(6 lam eta) steps the norm is large or the normalised gradient is small",
    citation=Citation(BOOK, "Lemma 13.4.8", "seed 004, paragraph 3422"),
    symbols=(RHO_, LAM_, ETA_, W0N_, TE_, WE_),
    structure=(SLOW,),
    dynamics="gd_wd_hitting",
    assumptions=(Assumption("decay", eta * lam <= sympy.Rational(1, 2), "eta lam <= 1/2"),),
    search=SLOW_SEARCH,
    claims=(
        Claim("first_clause", t_either <= 1 / (6 * lam * eta),
              "some T <= 1/(6 lam eta) has ||w_T||^2 >= pi^2 rho eta or ||grad L(w_T/||w_T||)||^2 <= 8 pi^4 rho^2 lam eta "
              "(checked from t = 0 at the first such T)", kind=TRAJ),
        Claim("furthermore_as_printed", W_T <= 2 * (sympy.pi**2 * rho * eta) ** 2 / W0n,
              "as printed: furthermore ||w_T||^2 <= 2 (pi^2 rho eta)^2 / ||w_0||^2 (at the first such T), "
              "without the hypothesis ||w_0||^2 <= pi^2 rho eta", kind=TRAJ, printed=True,
              corrected_by="furthermore"),
        Claim("furthermore", W_T <= sympy.Max(W0n, 2 * (sympy.pi**2 * rho * eta) ** 2 / W0n),
              "corrected: ||w_T||^2 <= 2 (pi^2 rho eta)^2 / ||w_0||^2 when ||w_0||^2 <= pi^2 rho eta; otherwise "
              "T = 0 and ||w_T||^2 = ||w_0||^2.  Written as one claim without a hypothesis on an observable: "
              "||w_T||^2 <= max(||w_0||^2, 2 (pi^2 rho eta)^2 / ||w_0||^2), which is the same statement "
              "(when ||w_0||^2 <= pi^2 rho eta the second term is >= 2 ||w_0||^2)", kind=TRAJ),
    ),
    horizon=60000,
    dims=(2, 3, 5, 8),
    settings=LEVELS,
)

LARGE = Structural(
    "scale_invariant", "rayleigh_si_slow_large_w0",
    "L is scale invariant with rho = max_{||w||=1} ||Hess L(w)||_2; small weight decay as in Lemma 13.4.8's class; "
    "||w_0||^2 in [10, 10^4]",
)
W0I_ = Sym("W0", Domain.POSITIVE, Role.INSTANCE, "w0n2", doc="||w_0||^2 (a constant of the drawn instance)")
T0C = (sympy.log(W0n / (rho * sympy.pi**2 * eta)) + 1) / (2 * eta * lam)  # the corrected horizon T_0'

lemma_13_4_9 = Theorem(
    id="scale_invariant.lemma_13_4_9",
    title="From a large initial norm, the normalised gradient gets small within a logarithmic horizon",
    citation=Citation(BOOK, "Lemma 13.4.9 (horizon corrected, THEOREMS.md 6.3)", "seed 004, paragraph 3443"),
    symbols=(RHO_, LAM_, ETA_, W0I_, TH_),
    structure=(LARGE,),
    dynamics="gd_wd_hitting",
    assumptions=(
        Assumption("decay", eta * lam < sympy.Rational(1, 2), "eta lam < 1/2"),
        Assumption("large_init", W0n > sympy.pi**2 * rho * eta, "||w_0||^2 > pi^2 rho eta"),
    ),
    search=SLOW_SEARCH,
    claims=(
        Claim("hitting_time_corrected", t_hit < T0C,
              "some t < T_0' = (ln(||w_0||^2/(rho pi^2 eta)) + 1)/(2 eta lam) has ||grad L(w_t/||w_t||)||^2 <= "
              "8 pi^4 rho^2 lam eta (the first such t is compared).  The printed T_0 = ln(2 ||w_0||^2/(rho pi^2 eta))"
              "/(2 eta lam) is not established by the seed's proof (its last weight is 1, not 1/2)", kind=TRAJ,
              plot_x="w0n2"),
    ),
    depends_on=("scale_invariant.theorem_13_4_6", "scale_invariant.pythagoras", "scale_invariant.lemma_13_4_3"),
    horizon=60000,
    dims=(2, 3, 5, 8),
    settings=LEVELS,
    note="the constants of the corrected proof (e^-1 + 1/(2 (1 - 2/pi^2)) < 1) are checked in tests with SymPy",
)

theorem_13_4_2 = Theorem(
    id="scale_invariant.theorem_13_4_2",
    title="GD with weight decay reaches a small normalised gradient within a logarithmic horizon",
    citation=Citation(BOOK, "Theorem 13.4.2 (Main)", "seed 004, paragraph 3380"),
    symbols=(RHO_, LAM_, ETA_, W0N_, TH_),
    structure=(SLOW,),
    dynamics="gd_wd_hitting",
    assumptions=(Assumption("decay", eta * lam < sympy.Rational(1, 2), "eta lam < 1/2"),),
    search=SLOW_SEARCH,
    claims=(
        Claim("hitting_time",
              t_hit <= (sympy.Abs(sympy.log(W0n / (rho * sympy.pi**2 * eta))) + 3) / (2 * lam * eta),
              "some t <= (|ln(||w_0||^2/(rho pi^2 eta))| + 3)/(2 lam eta) has "
              "||grad L(w_t/||w_t||)||^2 <= 8 pi^4 rho^2 lam eta (the first such t is compared)", kind=TRAJ,
              plot_x="w0n2"),
    ),
    depends_on=("scale_invariant.lemma_13_4_9", "scale_invariant.lemma_13_4_8", "scale_invariant.theorem_13_4_6", "scale_invariant.pythagoras"),
    horizon=60000,
    dims=(2, 3, 5, 8),
    settings=LEVELS,
)

THEOREMS = [lemma_13_2_2, exp_lr, exp_lr_minibatch, pythagoras, theorem_13_4_6, lemma_13_4_5, lemma_13_4_3, lemma_13_4_8,
            lemma_13_4_9, theorem_13_4_2]
