"""Family 1: the descent lemma and what is built directly on it.

Source: Arora et al., *Theory of Deep Learning* (draft), chapter 2 (seed 004).  Vectors enter the
derivations through scalar summaries: ``G = ||grad f(w_t)||^2``, ``ip = <grad f(w_t), w_{t+1}-w_t>``
and ``D = ||w_{t+1} - w_t||^2``; a GD step fixes ``ip = -eta G`` and ``D = eta^2 G``.
"""

from __future__ import annotations

from dataclasses import replace

import sympy

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
SMOOTH = Structural("smooth", "smooth", "f is L-smooth: every Hessian eigenvalue lies in [-L, L] (Definition 2.1.2)")

# Shared notation.
L_ = Sym("L", Domain.POSITIVE, Role.INSTANCE, "L", doc="smoothness constant of f")
ETA_ = Sym("eta", Domain.POSITIVE, Role.PARAMETER, doc="step size")
F0_ = Sym("f0", Domain.REAL, Role.OBSERVABLE, "f_t", doc="f(w_t)")
F1_ = Sym("f1", Domain.REAL, Role.OBSERVABLE, "f_next", doc="f(w_{t+1})")
G_ = Sym("G", Domain.NONNEGATIVE, Role.OBSERVABLE, "gnorm2_t", doc="||grad f(w_t)||^2")
IP_ = Sym("ip", Domain.REAL, Role.SCALAR, doc="<grad f(w_t), w_{t+1} - w_t>")
D_ = Sym("D", Domain.NONNEGATIVE, Role.SCALAR, doc="||w_{t+1} - w_t||^2")
L, eta, f0, f1, G, ip, D = (s.s for s in (L_, ETA_, F0_, F1_, G_, IP_, D_))
STEP_SYMBOLS = (L_, ETA_, F0_, F1_, G_, IP_, D_)

SMOOTH_FACT = Fact(
    "smooth",
    f1 <= f0 + ip + L / 2 * D,
    "(2.2) at w = w_{t+1}: Taylor's formula with integral remainder and Hess f <= L I (Problem 2.1.3)",
)
GD_FACTS = (
    Fact("gd_ip", sympy.Eq(ip, -eta * G), "GD step: w_{t+1} - w_t = -eta grad f(w_t)"),
    Fact("gd_D", sympy.Eq(D, eta**2 * G), "GD step: ||w_{t+1} - w_t||^2 = eta^2 ||grad f(w_t)||^2"),
)

quadratic_upper_bound = Theorem(
    id="descent.quadratic_upper_bound",
    title="Quadratic upper bound along a gradient step (exact one-step decrease)",
    citation=Citation(BOOK, "Problem 2.1.3, eq. (2.2), and the proof of Lemma 2.1.4", "seed 004, paragraphs 327-350"),
    symbols=STEP_SYMBOLS,
    structure=(SMOOTH,),
    dynamics="gd",
    search=(Assumption("search_range", eta <= 4 / L, "the numeric search draws eta in (0, 4/L]"),),
    facts=(SMOOTH_FACT, *GD_FACTS),
    claims=(
        Claim(
            "one_step_bound",
            f0 - f1 >= eta * (1 - eta * L / 2) * G,
            "f(w_{t+1}) <= f(w_t) - eta (1 - eta L / 2) ||grad f(w_t)||^2 for every step size eta > 0; "
            "tight on the quadratic with Hessian L I",
        ),
    ),
    derivations=(
        Derivation(
            "one_step_bound",
            f0 - f1,
            (
                Step(">=", -ip - L / 2 * D, Uses(("smooth",), "quadratic upper bound (2.2)")),
                Step("==", eta * G - L / 2 * eta**2 * G, Uses(("gd_ip", "gd_D"), "substitute the GD step")),
                Step("==", eta * (1 - eta * L / 2) * G, Algebra()),
            ),
        ),
    ),
    horizon=12,
)

lemma_2_1_4 = Theorem(
    id="descent.lemma_2_1_4",
    title="Descent lemma",
    citation=Citation(BOOK, "Lemma 2.1.4", "seed 004, paragraph 336"),
    symbols=STEP_SYMBOLS,
    structure=(replace(SMOOTH, relax=("diagonal_bound",)),),
    dynamics="gd",
    assumptions=(
        Assumption("step_size", eta <= 1 / L,
                   "the book states eta < 1/L; its proof uses, and the conclusion holds for, eta <= 1/L",
                   relax=(eta <= sympy.Rational(3, 2) / L, eta <= 2 / L, eta <= sympy.Rational(5, 2) / L)),
    ),
    facts=(SMOOTH_FACT, *GD_FACTS),
    claims=(
        Claim(
            "descent_inequality",
            f0 - f1 >= eta / 2 * G,
            "f(w_{t+1}) <= f(w_t) - (eta/2) ||grad f(w_t)||^2 for eta <= 1/L",
        ),
    ),
    derivations=(
        Derivation(
            "descent_inequality",
            f0 - f1,
            (
                Step(">=", eta * (1 - eta * L / 2) * G,
                     ByLemma("descent.quadratic_upper_bound", "one_step_bound")),
                Step(">=", eta / 2 * G, Algebra("eta - eta^2 L/2 - eta/2 = (eta/2)(1 - eta L) >= 0 when eta <= 1/L")),
            ),
        ),
        Derivation(
            "descent_inequality",
            f0 - f1,
            (
                Step(">=", eta * G - L / 2 * eta**4 * G, Uses(("smooth", "gd_ip", "gd_D"),
                     "as printed: (L/2) ||eta^2 grad f||^2")),
                Step("==", eta * G - eta**2 * L / 2 * G, Algebra("as printed")),
                Step(">=", eta / 2 * G, Algebra()),
            ),
            name="printed_proof",
            printed=True,
            note="S4:350 writes (L/2)||eta^2 grad f(w_t)||^2 (= (L/2) eta^4 G) for (L/2)||eta grad f(w_t)||^2; "
                 "the next line is consistent only with the corrected term",
        ),
    ),
    depends_on=("descent.quadratic_upper_bound",),
    horizon=12,
)

footnote_3 = Theorem(
    id="descent.footnote_3",
    title="Gradient descent decreases f for every step size below 2/L",
    citation=Citation(BOOK, "footnote 3 to Lemma 2.1.4", "seed 004, paragraph 374"),
    symbols=STEP_SYMBOLS,
    structure=(SMOOTH,),
    dynamics="gd",
    assumptions=(Assumption("step_size", eta < 2 / L),),
    facts=(SMOOTH_FACT, *GD_FACTS),
    claims=(
        Claim("descent", f0 - f1 >= 0, "f(w_{t+1}) <= f(w_t) whenever eta < 2/L"),
    ),
    derivations=(
        Derivation(
            "descent",
            f0 - f1,
            (
                Step(">=", eta * (1 - eta * L / 2) * G,
                     ByLemma("descent.quadratic_upper_bound", "one_step_bound")),
                Step(">=", 0, Algebra("1 - eta L / 2 > 0 for eta < 2/L")),
            ),
        ),
    ),
    depends_on=("descent.quadratic_upper_bound",),
    horizon=12,
)

# Theorem 2.5.1: average squared gradient norm along GD with eta = 1/beta.
BETA_ = Sym("beta", Domain.POSITIVE, Role.INSTANCE, "L", doc="smoothness constant (the book's beta)")
M_ = Sym("M", Domain.REAL, Role.PARAMETER, draw="lower",
         doc="the book's M: 2M bounds the decrease h_1 - h_{T+1}; drawn at its smallest admissible value")
T_ = Sym("T", Domain.POSITIVE, Role.OBSERVABLE, "horizon", doc="number of steps")
GMEAN_ = Sym("Gmean", Domain.NONNEGATIVE, Role.OBSERVABLE, "gnorm2_mean", doc="(1/T) sum_{t<T} ||grad f(w_t)||^2")
GMIN_ = Sym("Gmin", Domain.NONNEGATIVE, Role.OBSERVABLE, "gnorm2_min", doc="min_{t<T} ||grad f(w_t)||^2")
FF_ = Sym("fF", Domain.REAL, Role.OBSERVABLE, "f_first", doc="f(w_0)")
FL_ = Sym("fL", Domain.REAL, Role.OBSERVABLE, "f_last", doc="f(w_T)")
beta, M, T, Gmean, Gmin, fF, fL = (s.s for s in (BETA_, M_, T_, GMEAN_, GMIN_, FF_, FL_))

theorem_2_5_1 = Theorem(
    id="descent.theorem_2_5_1",
    title="Gradient descent finds a point with small gradient: min ||grad||^2 <= average <= 4 M beta / T",
    citation=Citation(BOOK, "Theorem 2.5.1", "seed 004, paragraphs 496-513"),
    symbols=(BETA_, ETA_, M_, T_, GMEAN_, GMIN_, FF_, FL_),
    structure=(Structural("smooth", "smooth", "f is beta-smooth (unconstrained)"),),
    dynamics="gd",
    assumptions=(
        Assumption("step_size", sympy.Eq(eta, 1 / beta), "eta_t = 1/beta"),
        Assumption("M_bound", 2 * M >= fF - fL, "the proof uses h_1 - h_{T+1} <= 2M"),
    ),
    facts=(
        Fact("summed_descent", fF - fL >= T * Gmean / (2 * beta),
             "Lemma 2.1.4 at eta = 1/beta summed over t = 0..T-1 (the sum of f(w_t) - f(w_{t+1}) telescopes)"),
    ),
    claims=(
        Claim("min_le_mean", Gmin <= Gmean, "min_t ||grad f(w_t)||^2 <= (1/T) sum_t ||grad f(w_t)||^2",
              kind=ClaimKind.TRAJECTORY),
        Claim("average_bound", Gmean <= 4 * M * beta / T,
              "(1/T) sum_t ||grad f(w_t)||^2 <= 4 M beta / T", kind=ClaimKind.TRAJECTORY),
    ),
    derivations=(
        Derivation(
            "average_bound",
            Gmean,
            (
                Step("<=", 2 * beta * (fF - fL) / T, Uses(("summed_descent",))),
                Step("<=", 4 * M * beta / T, Algebra("h_1 - h_{T+1} <= 2M")),
            ),
        ),
    ),
    depends_on=("descent.lemma_2_1_4",),
    horizon=20,
)

# The stochastic descent inequality (the step of Theorem 2.5.2), exact in expectation over the
# sampled component (batch size 1, which Problem 2.5.3 allows).
EF1_ = Sym("Ef1", Domain.REAL, Role.OBSERVABLE, "ef_next", doc="E_i f(w_t - eta grad f_i(w_t))")
S2_ = Sym("S2", Domain.NONNEGATIVE, Role.OBSERVABLE, "eg2_t", doc="E_i ||grad f_i(w_t)||^2 (the book's sigma^2)")
EIP_ = Sym("Eip", Domain.REAL, Role.SCALAR, doc="E <grad f(w_t), w_{t+1} - w_t>")
ED_ = Sym("ED", Domain.NONNEGATIVE, Role.SCALAR, doc="E ||w_{t+1} - w_t||^2")
Ef1, S2, Eip, ED = (s.s for s in (EF1_, S2_, EIP_, ED_))

sgd_step = Theorem(
    id="descent.sgd_step",
    title="Stochastic descent inequality (the step of Theorem 2.5.2)",
    citation=Citation(BOOK, "Theorem 2.5.2, proof (stochastic descent lemma)", "seed 004, paragraphs 526-540"),
    symbols=(BETA_, ETA_, F0_, EF1_, G_, S2_, EIP_, ED_),
    structure=(Structural("smooth", "smooth_finite_sum", "f = (1/m) sum_i f_i is beta-smooth"),),
    dynamics="sgd",
    search=(Assumption("search_range", eta <= 4 / beta, "the numeric search draws eta in (0, 4/beta]"),),
    facts=(
        Fact("smooth_mean", Ef1 <= f0 + Eip + beta / 2 * ED, "(2.2) at w_t - eta grad f_i(w_t), averaged over i"),
        Fact("unbiased", sympy.Eq(Eip, -eta * G), "E_i grad f_i(w_t) = grad f(w_t)"),
        Fact("second_moment", sympy.Eq(ED, eta**2 * S2), "E ||w_{t+1} - w_t||^2 = eta^2 E ||grad f_i||^2"),
    ),
    claims=(
        Claim(
            "expected_descent",
            f0 - Ef1 >= eta * G - beta / 2 * eta**2 * S2,
            "E f(w_{t+1}) <= f(w_t) - eta ||grad f(w_t)||^2 + (beta/2) eta^2 sigma^2, sigma^2 = E ||grad f_i(w_t)||^2",
        ),
    ),
    derivations=(
        Derivation(
            "expected_descent",
            f0 - Ef1,
            (
                Step(">=", -Eip - beta / 2 * ED, Uses(("smooth_mean",))),
                Step("==", eta * G - beta / 2 * eta**2 * S2, Uses(("unbiased", "second_moment"))),
            ),
        ),
    ),
    depends_on=("descent.quadratic_upper_bound",),
    horizon=10,
    settings={"batch": 1},
)

THEOREMS = [quadratic_upper_bound, lemma_2_1_4, footnote_3, theorem_2_5_1, sgd_step]
