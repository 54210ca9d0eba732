"""Family 2: convergence of gradient descent under the Polyak-Lojasiewicz inequality and the
restricted secant inequality (Arora et al., *Theory of Deep Learning* draft, Section 6.2, seed 004).

Convention (Definition 6.2.1, paragraph 1287): the *book's* PL inequality has no 1/2,
``||grad f(w)||^2 >= mu (f(w) - f*)``.  Karimi-Nutini-Schmidt write
``1/2 ||grad f(w)||^2 >= mu_K (f(w) - f*)``, so ``mu = 2 mu_K``; the rate ``1 - eta mu / 2`` below is
``1 - eta mu_K`` in their convention.  Every ``mu`` in this module is the book's.

Vectors enter the derivations through scalar summaries: ``G = ||grad f(w_t)||^2``,
``ip = <grad f(w_t), w_t - w*>``, ``D0 = ||w_t - w*||^2``, ``D1 = ||w_{t+1} - w*||^2``.
"""

from __future__ import annotations

from dataclasses import replace

import sympy

from theorems.catalogue.descent import ETA_, F0_, F1_, G_, L_
from theorems.spec import (
    Algebra,
    Assumption,
    ByLemma,
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
PL = Structural("pl", "pl_smooth",
                "f is L-smooth and mu-PL: ||grad f(w)||^2 >= mu (f(w) - f*) for all w (Definition 6.2.1, "
                "book convention, no 1/2)")
RSI = Structural("rsi", "rsi_smooth",
                 "f is L-smooth and satisfies RSI: <grad f(w), w - w*> >= mu ||w - w*||^2 (Definition 6.2.1)")

MU_ = Sym("mu", Domain.POSITIVE, Role.INSTANCE, "mu", doc="PL constant, book convention (= 2 mu_K)")
FS_ = Sym("fs", Domain.REAL, Role.INSTANCE, "f_star", doc="f* = min f")
FF_ = Sym("fF", Domain.REAL, Role.OBSERVABLE, "f_first", doc="f(w_0)")
T_ = Sym("t", Domain.NONNEGATIVE, Role.OBSERVABLE, "step_t", doc="step index t (w_{t+1} is reached after t+1 steps)")
L, eta, f0, f1, G, mu, fs, fF, t = (s.s for s in (L_, ETA_, F0_, F1_, G_, MU_, FS_, FF_, T_))

PL_FACT = Fact("pl", G >= mu * (f0 - fs), "PL at w_t: ||grad f(w_t)||^2 >= mu (f(w_t) - f*)")
MU_LE_2L = Assumption(
    "mu_le_2L", mu <= 2 * L,
    "implied by PL and L-smoothness (f(w) - f* >= ||grad f||^2 / (2L), hence mu <= 2L); the class checks it",
)
CITE_622 = Citation(BOOK, "Definition 6.2.1 and Claim 6.2.2 (PL case)", "seed 004, paragraphs 1287-1316")

q = 1 - eta * mu / 2

pl_rate = Theorem(
    id="pl.claim_6_2_2_pl",
    title="PL + L-smooth: gradient descent with eta <= 1/L converges geometrically, f(w_t) - f* <= (1 - eta mu/2)^t (f(w_0) - f*)",
    citation=CITE_622,
    symbols=(L_, MU_, FS_, ETA_, F0_, F1_, G_, FF_, T_),
    structure=(replace(PL, relax=("pl_mu_overstated",)),),
    dynamics="gd_pl",
    assumptions=(
        Assumption("step_size", eta <= 1 / L, "descent-lemma step size",
                   relax=(eta <= sympy.Rational(3, 2) / L, eta <= 2 / L, eta <= sympy.Rational(5, 2) / L)),
        MU_LE_2L,
    ),
    facts=(
        PL_FACT,
        Fact("contraction", f1 - fs <= q * (f0 - fs), "the one-step contraction (claim one_step_contraction)"),
        Fact("induction", f0 - fs <= q**t * (fF - fs), "induction hypothesis at step t (t = 0 is an identity)"),
    ),
    claims=(
        Claim(
            "one_step_contraction",
            f1 - fs <= q * (f0 - fs),
            "f(w_{t+1}) - f* <= (1 - eta mu / 2) (f(w_t) - f*) for eta <= 1/L (book PL convention; "
            "= 1 - eta mu_K in the KNS convention)",
        ),
        Claim(
            "geometric_rate",
            f1 - fs <= q ** (t + 1) * (fF - fs),
            "f(w_{t+1}) - f* <= (1 - eta mu / 2)^{t+1} (f(w_0) - f*) at every step t (at eta = 1/L: (1 - mu/(2L))^t)",
        ),
        Claim(
            "sufficient_decrease",
            f0 - f1 >= eta * mu / 2 * (f0 - fs),
            "f(w_t) - f(w_{t+1}) >= (eta mu / 2) (f(w_t) - f*): the one-step contraction rearranged, so that its "
            "worst ratio (stated decrease / observed decrease, = log-contraction ratio to first order in eta) "
            "measures the rate's tightness; it tends to 1/2 for small eta and reaches 1 only at eta = 1/L "
            "with mu = 2L",
            note="the contraction's own ratio (f(w_{t+1}) - f*) / ((1 - eta mu/2)(f(w_t) - f*)) tends to 1 as "
                 "eta -> 0 whatever the constants, so it says nothing about tightness",
        ),
    ),
    derivations=(
        Derivation(
            "sufficient_decrease",
            f0 - f1,
            (
                Step(">=", f0 - fs - q * (f0 - fs), Uses(("contraction",))),
                Step("==", eta * mu / 2 * (f0 - fs), Algebra()),
            ),
        ),
        Derivation(
            "one_step_contraction",
            f1 - fs,
            (
                Step("<=", f0 - fs - eta / 2 * G, ByLemma("descent.lemma_2_1_4", "descent_inequality")),
                Step("<=", f0 - fs - eta * mu / 2 * (f0 - fs), Uses(("pl",), "PL, multiplied by eta/2 > 0")),
                Step("==", q * (f0 - fs), Algebra()),
            ),
        ),
        Derivation(
            "geometric_rate",
            f1 - fs,
            (
                Step("<=", q * (f0 - fs), Uses(("contraction",))),
                Step("<=", q * q**t * (fF - fs),
                     Uses(("induction",), "1 - eta mu/2 >= 0 since eta mu <= mu/L <= 2")),
                Step("==", q ** (t + 1) * (fF - fs), Algebra()),
            ),
            note="the inductive step; with t = 0 the induction hypothesis is f(w_0) - f* <= f(w_0) - f*",
        ),
    ),
    depends_on=("descent.lemma_2_1_4",),
    horizon=30,
    dims=(1, 2, 3, 5, 8),
    note="Instances: rank-deficient least squares (mu = 2 sigma_min^+(A)^2, tight) and Karimi et al.'s "
         "x^2 + 3 sin^2 x with the certified mu_K = 1/32 (book mu = 1/16; the tight book constant is about 0.351, "
         "so the worst ratio there shows how conservative the published constant is).",
)

pl_general_step = Theorem(
    id="pl.general_step",
    title="PL + L-smooth, any eta < 2/L: f(w_{t+1}) - f* <= (1 - eta mu (1 - L eta / 2)) (f(w_t) - f*)",
    citation=Citation(BOOK, "Claim 6.2.2 (PL case) with the step size of footnote 3 to Lemma 2.1.4",
                      "seed 004, paragraphs 374, 1287-1316"),
    symbols=(L_, MU_, FS_, ETA_, F0_, F1_, G_),
    structure=(PL,),
    dynamics="gd_pl",
    assumptions=(Assumption("step_size", eta < 2 / L),),
    facts=(PL_FACT,),
    claims=(
        Claim(
            "one_step_contraction",
            f1 - fs <= (1 - eta * mu * (1 - L * eta / 2)) * (f0 - fs),
            "f(w_{t+1}) - f* <= (1 - eta mu (1 - L eta/2)) (f(w_t) - f*) for 0 < eta < 2/L",
        ),
    ),
    derivations=(
        Derivation(
            "one_step_contraction",
            f1 - fs,
            (
                Step("<=", f0 - fs - eta * (1 - eta * L / 2) * G,
                     ByLemma("descent.quadratic_upper_bound", "one_step_bound")),
                Step("<=", f0 - fs - eta * (1 - eta * L / 2) * mu * (f0 - fs),
                     Uses(("pl",), "PL, multiplied by eta (1 - eta L/2) > 0")),
                Step("==", (1 - eta * mu * (1 - L * eta / 2)) * (f0 - fs), Algebra()),
            ),
        ),
    ),
    depends_on=("descent.quadratic_upper_bound",),
    horizon=30,
)

# RSI: the potential is ||w - w*||^2 (footnote to Claim 6.2.2, paragraph 1316).
D0_ = Sym("D0", Domain.NONNEGATIVE, Role.OBSERVABLE, "dist2_t", doc="||w_t - w*||^2")
D1_ = Sym("D1", Domain.NONNEGATIVE, Role.OBSERVABLE, "dist2_next", doc="||w_{t+1} - w*||^2")
DF_ = Sym("DF", Domain.NONNEGATIVE, Role.OBSERVABLE, "dist2_first", doc="||w_0 - w*||^2")
IP_ = Sym("ip", Domain.REAL, Role.SCALAR, doc="<grad f(w_t), w_t - w*>")
GS_ = Sym("G", Domain.NONNEGATIVE, Role.SCALAR, doc="||grad f(w_t)||^2")
D0, D1, DF, ip, Gs = (s.s for s in (D0_, D1_, DF_, IP_, GS_))
rho = 1 - 2 * eta * mu + eta**2 * L**2

rsi_rate = Theorem(
    id="pl.claim_6_2_2_rsi",
    title="RSI + L-smooth: ||w_{t+1} - w*||^2 <= (1 - 2 eta mu + eta^2 L^2) ||w_t - w*||^2",
    citation=Citation(BOOK, "Definition 6.2.1 and Claim 6.2.2 (RSI case, potential ||w - w*||^2)",
                      "seed 004, paragraphs 1287-1316"),
    symbols=(L_, MU_, ETA_, D0_, D1_, DF_, T_, IP_, GS_),
    structure=(RSI,),
    dynamics="gd_pl",
    assumptions=(Assumption("mu_le_L", mu <= L, "RSI and L-smoothness give mu ||w - w*||^2 <= ||grad f|| ||w - w*|| <= L ||w - w*||^2"),),
    search=(Assumption("search_range", eta <= 2 / L, "the numeric search draws eta in (0, 2/L]"),),
    facts=(
        Fact("gd_expand", sympy.Eq(D1, D0 - 2 * eta * ip + eta**2 * Gs),
             "||w_t - eta g - w*||^2 expanded"),
        Fact("rsi", ip >= mu * D0, "RSI at w_t"),
        Fact("grad_bound", Gs <= L**2 * D0, "||grad f(w_t)|| = ||grad f(w_t) - grad f(w*)|| <= L ||w_t - w*||"),
        Fact("contraction", D1 <= rho * D0, "the one-step contraction (claim one_step_contraction)"),
        Fact("induction", D0 <= rho**t * DF, "induction hypothesis at step t"),
    ),
    claims=(
        Claim("one_step_contraction", D1 <= rho * D0,
              "||w_{t+1} - w*||^2 <= (1 - 2 eta mu + eta^2 L^2) ||w_t - w*||^2 for every eta > 0 "
              "(a contraction for eta < 2 mu / L^2; at eta = mu/L^2 the factor is 1 - mu^2/L^2)"),
        Claim("geometric_rate", D1 <= rho ** (t + 1) * DF,
              "||w_{t+1} - w*||^2 <= (1 - 2 eta mu + eta^2 L^2)^{t+1} ||w_0 - w*||^2"),
    ),
    derivations=(
        Derivation(
            "one_step_contraction",
            D1,
            (
                Step("==", D0 - 2 * eta * ip + eta**2 * Gs, Uses(("gd_expand",))),
                Step("<=", D0 - 2 * eta * mu * D0 + eta**2 * L**2 * D0, Uses(("rsi", "grad_bound"))),
                Step("==", rho * D0, Algebra()),
            ),
        ),
        Derivation(
            "geometric_rate",
            D1,
            (
                Step("<=", rho * D0, Uses(("contraction",))),
                Step("<=", rho * rho**t * DF,
                     Uses(("induction",), "1 - 2 eta mu + eta^2 L^2 >= (1 - eta mu)^2 >= 0 since mu <= L")),
                Step("==", rho ** (t + 1) * DF, Algebra()),
            ),
            note="the inductive step; t = 0 is the one-step claim",
        ),
    ),
    horizon=30,
    dims=(1, 2, 3, 5, 8),
)

ETA_UPPER_ = Sym("eta", Domain.POSITIVE, Role.PARAMETER, draw="upper", doc="step size, drawn at its bound 1/L")

kns_example = Theorem(
    id="pl.kns_example",
    title="Karimi-Nutini-Schmidt's PL example x^2 + 3 sin^2 x (L = 8, mu_K = 1/32): GD with eta = 1/L",
    citation=Citation("Karimi, Nutini, Schmidt, Linear convergence of gradient and proximal-gradient methods "
                      "under the Polyak-Lojasiewicz condition (ECML-PKDD 2016)", "Section 2, example (via Claim 6.2.2)",
                      "THEOREMS.md 2.5"),
    symbols=(L_, MU_, FS_, ETA_UPPER_, F0_, F1_, FF_, T_),
    structure=(Structural("kns", "pl_sine", "f = a sum_i [(w_i/s)^2 + 3 sin^2(w_i/s)], L = 8a/s^2, "
                          "certified book mu = a/(16 s^2)"),),
    dynamics="gd_pl",
    assumptions=(Assumption("step_size", eta <= 1 / L), MU_LE_2L),
    claims=(
        Claim(
            "geometric_rate",
            f1 - fs <= q ** (t + 1) * (fF - fs),
            "f(x_{t+1}) - f* <= (1 - mu_K/L)^{t+1} (f(x_0) - f*) at eta = 1/L with the published mu_K = 1/32; "
            "the worst ratio shows how conservative that constant is (the tight book mu is about 0.351)",
        ),
        Claim(
            "one_step_contraction",
            f1 - fs <= q * (f0 - fs),
            "f(x_{t+1}) - f* <= (1 - mu_K/L) (f(x_t) - f*) at eta = 1/L: the report plots the observed "
            "f(x_{t+1}) - f* against the stated bound step by step",
        ),
        Claim(
            "sufficient_decrease",
            f0 - f1 >= eta * mu / 2 * (f0 - fs),
            "f(x_t) - f(x_{t+1}) >= (mu_K/L) (f(x_t) - f*) at eta = 1/L; worst ratio = stated / observed "
            "fractional decrease, i.e. how far the published mu_K = 1/32 is from the contraction GD achieves",
        ),
    ),
    depends_on=("pl.claim_6_2_2_pl",),
    horizon=30,
    dims=(1, 2, 3),
)

# Claim 6.2.2 for weakly-quasi-convex f.  Every convex f is 1-weakly-quasi-convex, and the convex,
# C^2, 12-smooth quartic-Huber function converges only like 2.25 / t^2 (THEOREMS.md 2.3).
FL_ = Sym("fL", Domain.REAL, Role.OBSERVABLE, "f_last", doc="f(w_T)")
TH_ = Sym("T", Domain.POSITIVE, Role.OBSERVABLE, "horizon", doc="number of steps T")
IPW_ = Sym("ip", Domain.REAL, Role.SCALAR, doc="<grad f(w_t), w_t - w*>")
fL, T, ipw = FL_.s, TH_.s, IPW_.s
WQC = Structural("wqc", "wqc_quartic",
                 "f is L-smooth and mu-weakly-quasi-convex: <grad f(w), w - w*> >= mu (f(w) - f*) "
                 "(Definition 6.2.1); here convex, so mu = 1")

wqc_rate = Theorem(
    id="pl.claim_6_2_2_wqc",
    title="Weakly-quasi-convex + L-smooth: the printed geometric rate fails; the sublinear rate holds",
    citation=Citation(BOOK, "Definition 6.2.1 and Claim 6.2.2 (weakly-quasi-convex case)", "seed 004, paragraphs 1287-1316"),
    symbols=(L_, MU_, FS_, ETA_, F0_, F1_, G_, FF_, FL_, T_, TH_, D0_, D1_, DF_, IPW_),
    structure=(WQC,),
    dynamics="gd_quartic",
    assumptions=(
        Assumption("step_size", eta <= 1 / L),
        Assumption("factor_range", eta * mu <= 1,
                   "keeps the PL factor 1 - eta mu / 2 in [1/2, 1), so a refutation is about the rate, not a "
                   "negative factor (an extra hypothesis only weakens the printed claim)"),
    ),
    facts=(
        Fact("wqc", ipw >= mu * (f0 - fs), "weak quasi-convexity at w_t"),
        Fact("gd_expand", sympy.Eq(D1, D0 - 2 * eta * ipw + eta**2 * G), "||w_t - eta g - w*||^2 expanded"),
        Fact("summed", 2 * eta * mu * T * (fL - fs) <= DF + 2 * eta * (fF - fL),
             "claim potential_step summed over t < T (D_t and f_t telescope), with f(w_t) >= f(w_T) "
             "(GD decreases f for eta <= 1/L)"),
    ),
    claims=(
        Claim(
            "geometric_rate_as_printed",
            f1 - fs <= q ** (t + 1) * (fF - fs),
            "as printed ('geometric rate', read with the PL factor): f(w_{t+1}) - f* <= (1 - eta mu/2)^{t+1} (f(w_0) - f*); "
            "false: f(w_t) - f* decays like 1/t^2 on the quartic-Huber function, so every fixed rate < 1 fails "
            "for large t",
            printed=True,
            corrected_by="sublinear_rate",
        ),
        Claim(
            "potential_step",
            mu * (f0 - fs) <= (D0 - D1) / (2 * eta) + f0 - f1,
            "mu (f(w_t) - f*) <= (||w_t - w*||^2 - ||w_{t+1} - w*||^2) / (2 eta) + f(w_t) - f(w_{t+1}) for eta <= 1/L",
        ),
        Claim(
            "sublinear_rate",
            fL - fs <= (DF + 2 * eta * (fF - fL)) / (2 * eta * mu * T),
            "f(w_T) - f* <= (||w_0 - w*||^2 + 2 eta (f(w_0) - f(w_T))) / (2 eta mu T): an O(1/T) rate, "
            "not a geometric one",
            kind=ClaimKind.TRAJECTORY,
        ),
    ),
    derivations=(
        Derivation(
            "potential_step",
            mu * (f0 - fs),
            (
                Step("<=", ipw, Uses(("wqc",))),
                Step("==", (D0 - D1) / (2 * eta) + eta / 2 * G, Uses(("gd_expand",))),
                Step("<=", (D0 - D1) / (2 * eta) + f0 - f1, ByLemma("descent.lemma_2_1_4", "descent_inequality")),
            ),
        ),
        Derivation(
            "sublinear_rate",
            fL - fs,
            (Step("<=", (DF + 2 * eta * (fF - fL)) / (2 * eta * mu * T), Uses(("summed",), "divide by 2 eta mu T > 0")),),
        ),
    ),
    depends_on=("descent.lemma_2_1_4",),
    horizon=600,
    dims=(1, 2, 3),
    note="Claim 6.2.2 states no rate constant for the weakly-quasi-convex case; the printed claim is read with "
         "the PL case's factor. The counterexample f is convex, so this refutes any geometric rate that the "
         "weak-quasi-convexity constant alone would give. The PL and RSI parts of the claim hold (pl.claim_6_2_2_pl, "
         "pl.claim_6_2_2_rsi).",
)

# Oymak-Soltanolkotabi key lemma (seed 003, lines 307-328), linear case f(theta) = X theta (Jacobian
# Lipschitz constant 0), on L(theta) = 1/2 ||X theta - y||^2 stored with the constant dropped:
# ||r_t||^2 = 2 (f(theta_t) - f*).
ALPHA_ = Sym("alpha", Domain.POSITIVE, Role.INSTANCE, "alpha", doc="sigma_min(J) >= 2 alpha")
BETA_ = Sym("beta", Domain.POSITIVE, Role.INSTANCE, "beta", doc="||J|| <= beta")
PATH_ = Sym("P", Domain.NONNEGATIVE, Role.OBSERVABLE, "path_length", doc="sum_{t<T} ||theta_{t+1} - theta_t||")
DISP_ = Sym("S", Domain.NONNEGATIVE, Role.OBSERVABLE, "displacement", doc="||theta_T - theta_0||")
alpha, beta, P, S = (x.s for x in (ALPHA_, BETA_, PATH_, DISP_))
r0 = sympy.sqrt(2 * (fF - fs))  # ||f(theta_0) - y||
PRINTED_STEP = Assumption("printed_step", eta <= 2 / beta, "as printed: step size eta <= 2/beta")
CORRECTED_STEP = Assumption("corrected_step", eta <= 1 / beta**2,
                            "eta <= 1/beta^2 (Oymak-Soltanolkotabi, ICML 2019; implicit in the Lyapunov term (1 - eta beta^2))")
os_rate = 1 - eta * alpha**2 / 2

os_key_lemma = Theorem(
    id="pl.os_key_lemma",
    title="Oymak-Soltanolkotabi key lemma, linear case: geometric residual decay and short paths",
    citation=Citation("Soltanolkotabi, over-parameterization lectures (after Oymak-Soltanolkotabi)", "key lemma",
                      "seed 003, lines 307-328"),
    symbols=(ALPHA_, BETA_, FS_, ETA_, F1_, FF_, T_, PATH_, DISP_),
    structure=(Structural("os", "os_linear",
                          "f(theta) = X theta with sigma_min(X) >= 2 alpha, ||X|| <= beta (Jacobian Lipschitz "
                          "constant 0, so ||f(theta_0) - y|| <= alpha^2 / (4L) holds); L = 1/2 ||X theta - y||^2"),),
    dynamics="gd_pl",
    claims=(
        Claim("rate_as_printed", f1 - fs <= os_rate ** (t + 1) * (fF - fs),
              "as printed (eta <= 2/beta): ||f(theta_tau) - y||^2 <= (1 - eta alpha^2 / 2)^tau ||f(theta_0) - y||^2; "
              "false: with beta > 1 and eta = 2/beta > 2/beta^2 GD diverges (f = 10 theta: r_{t+1} = -19 r_t)",
              assumptions=(PRINTED_STEP,), printed=True, corrected_by="rate"),
        Claim("rate", f1 - fs <= os_rate ** (t + 1) * (fF - fs),
              "||f(theta_tau) - y||^2 <= (1 - eta alpha^2 / 2)^tau ||f(theta_0) - y||^2 for eta <= 1/beta^2",
              assumptions=(CORRECTED_STEP,)),
        Claim("path_length", P <= 4 / alpha * r0,
              "sum_tau ||theta_{tau+1} - theta_tau|| <= (4/alpha) ||f(theta_0) - y|| for eta <= 1/beta^2",
              kind=ClaimKind.TRAJECTORY, assumptions=(CORRECTED_STEP,)),
        Claim("distance", S <= 4 / alpha * r0,
              "||theta_tau - theta_0|| <= (4/alpha) ||f(theta_0) - y|| for eta <= 1/beta^2",
              kind=ClaimKind.TRAJECTORY, assumptions=(CORRECTED_STEP,)),
    ),
    horizon=30,
    note="The linear case (Jacobian Lipschitz constant 0); the nonlinear case on small networks, with certified "
         "constants, is pl.os_key_lemma_network.",
)

# The key lemma for nonlinear least squares on small networks (one hidden tanh / softplus layer, output
# layer fixed), with the corrected step eta <= 1/beta^2 and every constant certified from analytic bounds
# (numeric.families.pl_networks): alpha from sigma_min(J(theta_0)), beta = ||v|| sup|phi'| ||X|| and the Jacobian
# Lipschitz constant Ljac = ||v||_inf sup|phi''| max_i ||x_i|| ||X|| hold on all of parameter space.
LJ_ = Sym("Ljac", Domain.POSITIVE, Role.INSTANCE, "Ljac", doc="Lipschitz constant of the Jacobian J(theta)")
RN_ = Sym("R1", Domain.NONNEGATIVE, Role.OBSERVABLE, "res2_next", doc="||f(theta_{t+1}) - y||^2")
RF_ = Sym("RF", Domain.NONNEGATIVE, Role.OBSERVABLE, "res2_first", doc="||f(theta_0) - y||^2")
RT_ = Sym("R0", Domain.NONNEGATIVE, Role.OBSERVABLE, "res2_t", doc="||f(theta_t) - y||^2")
SN_ = Sym("S1", Domain.NONNEGATIVE, Role.OBSERVABLE, "disp_next", doc="||theta_{t+1} - theta_0||")
Ljac, R1, RF, S1, R0 = LJ_.s, RN_.s, RF_.s, SN_.s, RT_.s
r0_net = sympy.sqrt(RF)

os_key_lemma_network = Theorem(
    id="pl.os_key_lemma_network",
    title="Oymak-Soltanolkotabi key lemma on one-hidden-layer networks (tanh, softplus), corrected step eta <= 1/beta^2",
    citation=Citation("Soltanolkotabi, over-parameterization lectures (after Oymak-Soltanolkotabi, ICML 2019)",
                      "key lemma, nonlinear case", "seed 003, lines 307-328; THEOREMS.md 2.3, 2.5"),
    symbols=(ALPHA_, BETA_, LJ_, ETA_, RN_, RF_, RT_, SN_, T_, PATH_),
    structure=(Structural("os_net", "os_network",
                          "L(theta) = 1/2 ||f(theta) - y||^2 with f a one-hidden-layer tanh / softplus network "
                          "(output layer fixed, k d >= n): sigma_min(J(theta_0)) >= 2 alpha, ||J|| <= beta and "
                          "J Ljac-Lipschitz on the ball of radius (4/alpha) ||f(theta_0) - y|| (certified everywhere)"),),
    dynamics="gd_net",
    assumptions=(
        CORRECTED_STEP,
        Assumption("small_residual", r0_net <= alpha**2 / (4 * Ljac),
                   "||f(theta_0) - y|| <= alpha^2 / (4 Ljac), checked per instance on the run's initial residual"),
    ),
    claims=(
        Claim("rate", R1 <= os_rate ** (t + 1) * RF,
              "||f(theta_{t+1}) - y||^2 <= (1 - eta alpha^2 / 2)^{t+1} ||f(theta_0) - y||^2 for eta <= 1/beta^2"),
        Claim("residual_decrease", R0 - R1 >= eta * alpha**2 / 2 * R0,
              "||r_t||^2 - ||r_{t+1}||^2 >= (eta alpha^2 / 2) ||r_t||^2 at every step (the per-step form the proof "
              "gives, with 3/4 in place of 1/2); its worst ratio, stated / observed decrease, measures how tight "
              "the rate is (the rate claim's own ratio tends to 1 as eta -> 0 whatever the constants)"),
        Claim("distance", S1 <= 4 / alpha * r0_net,
              "every iterate stays in the ball: ||theta_{t+1} - theta_0|| <= (4/alpha) ||f(theta_0) - y||"),
        Claim("path_length", P <= 4 / alpha * r0_net,
              "sum_tau ||theta_{tau+1} - theta_tau|| <= (4/alpha) ||f(theta_0) - y|| (total path length)",
              kind=ClaimKind.TRAJECTORY),
    ),
    horizon=40,
    dims=(2, 3, 4, 6),
    note="n = the number of samples (the dims knob); hidden width k and input dimension d are drawn with "
         "k d >= n. The rate's proof: r_{t+1} = r_t - eta J~ J_t^T r_t with J~ the averaged Jacobian; "
         "||J~ - J_t|| <= Ljac eta ||J_t^T r_t|| / 2 and ||r_t|| <= alpha^2 / (4 Ljac) give "
         "||r_{t+1}||^2 <= (1 - 3 eta alpha^2 / 4) ||r_t||^2 while sigma_min(J) >= alpha on the ball.",
)

# The RSI claim on the leaky-ReLU single-neuron GLM (Section 6.2.1): same statement and derivation as
# pl.claim_6_2_2_rsi; the proof uses smoothness only through ||grad f(w)|| <= L ||w - w*||, which the GLM
# satisfies with L = v^2 lambda_max(X^T X) although its gradient jumps at the kinks.
rsi_leaky_glm = replace(
    rsi_rate,
    id="pl.rsi_leaky_glm",
    title="RSI contraction on the leaky-ReLU single-neuron GLM: ||w_{t+1} - w*||^2 <= (1 - 2 eta mu + eta^2 L^2) ||w_t - w*||^2",
    citation=Citation(BOOK, "Section 6.2.1 (the GLM example) with Claim 6.2.2 (RSI case)", "seed 004; THEOREMS.md 2.5"),
    structure=(Structural("rsi_glm", "rsi_leaky_glm",
                          "f(w) = v^2/2 sum_i (sigma(w^T x_i) - sigma(w*^T x_i))^2 (v a power of two, v^2 within "
                          "a factor 2 of 1/n), sigma leaky ReLU of slope a: RSI with mu = a^2 v^2 lambda_min(X^T X), "
                          "||grad f(w)|| <= L ||w - w*|| with L = v^2 lambda_max(X^T X)"),),
    dynamics="gd_net",
    note="The derivation is pl.claim_6_2_2_rsi's; its grad_bound fact is the only place smoothness enters.",
)

# Over-parameterized linear least squares: GD from w0 converges to the projection of w0 onto the
# solution set (the minimum-norm solution when w0 = 0).  w_t - w_p = (I - eta H)^t (w_0 - w_p) with
# w_0 - w_p in range(H), so the distance contracts by the spectral radius of I - eta H on range(H).
rho_ls = sympy.Max(sympy.Abs(1 - eta * mu / 2), sympy.Abs(1 - eta * L))
ls_closest = Theorem(
    id="pl.overparam_ls_closest_solution",
    title="Over-parameterized least squares: GD from w0 converges to the solution closest to w0 (min-norm from 0)",
    citation=Citation("Arora et al., Theory of Deep Learning (draft)", "over-parameterized least squares (Prop. 8.1.1)",
                      "THEOREMS.md 2.6"),
    symbols=(L_, MU_, ETA_, D1_, DF_, T_),
    structure=(Structural("ls_proj", "ls_projection",
                          "1/2 ||A w - y||^2 with A wide or rank deficient; w* is the projection of w_0 onto the "
                          "solution set {A w = A A^+ y}; L = lambda_max(A^T A), mu = 2 lambda_min^+(A^T A)"),),
    dynamics="gd_pl",
    assumptions=(Assumption("step_size", eta < 2 / L, "eta < 2 / lambda_max"),),
    claims=(
        Claim("distance_to_projection", D1 <= rho_ls ** (2 * (t + 1)) * DF,
              "||w_{t+1} - P(w_0)||^2 <= max(|1 - eta mu/2|, |1 - eta L|)^{2(t+1)} ||w_0 - P(w_0)||^2 with P(w_0) "
              "the solution closest to w_0: the factor is < 1 for eta < 2/L, so w_t -> P(w_0), not any other solution"),
    ),
    horizon=30,
    dims=(2, 3, 5, 8),
    note="Horizon argument: the bound holds at every t <= T and its factor is < 1, so the limit of w_t is P(w_0). "
         "It is a statement about the row-space contraction: the null-space part of w_t never moves from w_0's.",
)

THEOREMS = [pl_rate, pl_general_step, rsi_rate, kns_example, wqc_rate, os_key_lemma, os_key_lemma_network,
            rsi_leaky_glm, ls_closest]
