"""Family 5: escaping strict saddles with perturbed gradient descent (coupling sequences).

Source: Arora et al., *Theory of Deep Learning* (draft), chapter 7 (seed 004, paragraphs 1513-1661).
Instances (``numeric.families.escape``): ``1/2 x^T H x + c sum (sin x_i - x_i)`` (constants on all of R^d),
``-gamma y^2/2 + q y^4/4 + sum lambda_i x_i^2/2`` and ``1/4 ||M - x x^T||_F^2`` (constants certified
on a region that contains every GD iterate), each built around a strict saddle ``xs`` with
``lambda_min(Hess f(xs)) = -gamma``.  Vectors enter the derivations through scalar summaries.

Errata encoded here (THEOREMS.md section 5.3): the induction "||q(t)|| <= ||p(t)||/2" of Lemma 7.3.3 holds
under ``sum_{tau < t} eta ||Delta_tau|| <= 1/3`` (``q_half_p``) but not for a localization radius
``sqrt(eps/rho)`` with constant 1 (``q_half_p_as_printed``).

Constants hidden in Theta~ / O~ (Theorem 7.2.1, Lemma 7.3.1) are made explicit in the specs below; each
spec's note says which and why.
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
    Scaling,
    Step,
    Structural,
    Sym,
    Theorem,
    Uses,
    Verdict,
)

BOOK = "Arora et al., Theory of Deep Learning (draft)"
PER_STEP = ClaimKind.PER_STEP
TRAJ = ClaimKind.TRAJECTORY
PROB = ClaimKind.PROBABILITY
SCALE = ClaimKind.SCALING

ANY = Structural(
    "strict_saddle", "saddle_any",
    "f is ell-gradient Lipschitz and rho-Hessian Lipschitz (Definition 7.1.1) on a region containing every GD "
    "iterate, with a strict saddle xs: grad f(xs) = 0, lambda_min(Hess f(xs)) = -gamma < 0 (Definition 7.1.3)",
)
DEEP = Structural(
    "strict_saddle", "saddle_deep",
    "f is ell-gradient Lipschitz and rho-Hessian Lipschitz on R^d with a strict saddle xs, gamma/ell >= 0.1",
)
MINIMA = Structural(
    "strict_saddle", "saddle_minima",
    "f = -gamma y^2/2 + q y^4/4 + sum lambda_i x_i^2/2 (strict saddle at 0, minima at y = +-sqrt(gamma/q), f* finite), "
    "ell and rho certified on a region containing the iterates",
)

ELL_ = Sym("ell", Domain.POSITIVE, Role.INSTANCE, "ell", doc="gradient-Lipschitz constant (certified)")
RHO_ = Sym("rho", Domain.POSITIVE, Role.INSTANCE, "rho", doc="Hessian-Lipschitz constant (certified)")
GAM_ = Sym("gamma", Domain.POSITIVE, Role.INSTANCE, "gamma", doc="-lambda_min(Hess f(xs)), the depth of the saddle")
D_ = Sym("d", Domain.POSITIVE, Role.INSTANCE, "d", doc="dimension")
DEL_ = Sym("delta0", Domain.POSITIVE, Role.INSTANCE, "delta0", doc="||w0 - xs||")
ETA_ = Sym("eta", Domain.POSITIVE, Role.PARAMETER, doc="step size")
ETA1_ = Sym("eta", Domain.POSITIVE, Role.PARAMETER, draw="upper", doc="step size eta = 1/ell")
ell, rho, gamma, d, delta0, eta = (s.s for s in (ELL_, RHO_, GAM_, D_, DEL_, ETA_))
STEP = Assumption("step_size", eta <= 1 / ell, "eta <= 1/ell")
# Relations between two drawn parameters would make each bound the other; the specs that fix eta = 1/ell
# therefore write the other relations with 1/ell in place of eta.
STEP1 = Assumption("step_size", sympy.Eq(eta, 1 / ell), "eta = 1/ell")

# ------------------------------------------------------------------------------------------------
# Lemma 7.3.2: improve or localize
# ------------------------------------------------------------------------------------------------

DT_ = Sym("Dt", Domain.NONNEGATIVE, Role.OBSERVABLE, "maxdist2_next", doc="max_{tau <= t} ||x_tau - x_0||^2")
TT_ = Sym("t", Domain.POSITIVE, Role.OBSERVABLE, "t_next", doc="step index t >= 1")
F0_ = Sym("f0", Domain.REAL, Role.OBSERVABLE, "f_first", doc="f(x_0)")
FT_ = Sym("ft", Domain.REAL, Role.OBSERVABLE, "f_next", doc="f(x_t)")
SS_ = Sym("Ssum", Domain.NONNEGATIVE, Role.SCALAR, doc="sum_{k=1}^t ||x_k - x_{k-1}||")
QQ_ = Sym("Q", Domain.NONNEGATIVE, Role.SCALAR, doc="sum_{k=1}^t ||x_k - x_{k-1}||^2")
GS_ = Sym("Gs", Domain.NONNEGATIVE, Role.SCALAR, doc="sum_{k=0}^{t-1} ||grad f(x_k)||^2")
Dt, t, f0, ft, Ssum, Q, Gs = (s.s for s in (DT_, TT_, F0_, FT_, SS_, QQ_, GS_))

lemma_7_3_2 = Theorem(
    id="escape.lemma_7_3_2",
    title="Improve or localize: GD that moves far must decrease f",
    citation=Citation(BOOK, "Lemma 7.3.2", "seed 004, paragraph 1594"),
    symbols=(ELL_, ETA_, DT_, TT_, F0_, FT_, SS_, QQ_, GS_),
    structure=(ANY,),
    dynamics="gd_saddle",
    assumptions=(STEP,),
    facts=(
        Fact("triangle", Dt <= Ssum**2,
             "||x_tau - x_0|| <= sum_{k <= tau} ||x_k - x_{k-1}|| <= Ssum for every tau <= t (triangle inequality)"),
        Fact("cauchy_schwarz", Ssum**2 <= t * Q, "(sum_{k=1}^t a_k)^2 <= t sum_k a_k^2 (Cauchy-Schwarz)"),
        Fact("gd_steps", sympy.Eq(Q, eta**2 * Gs), "||x_k - x_{k-1}|| = eta ||grad f(x_{k-1})|| (GD step)"),
        Fact("summed_descent", f0 - ft >= eta / 2 * Gs,
             "Lemma 2.1.4 (descent.lemma_2_1_4) at each step k < t, summed: f(x_k) - f(x_{k+1}) telescopes"),
    ),
    claims=(
        Claim("improve_or_localize", Dt <= 2 * eta * t * (f0 - ft),
              "max_{tau <= t} ||x_tau - x_0||^2 <= 2 eta t (f(x_0) - f(x_t)) for every t >= 1 (eta <= 1/ell); "
              "the book's sqrt form squared"),
    ),
    derivations=(
        Derivation(
            "improve_or_localize", Dt,
            (
                Step("<=", Ssum**2, Uses(("triangle",))),
                Step("<=", t * Q, Uses(("cauchy_schwarz",))),
                Step("==", t * eta**2 * Gs, Uses(("gd_steps",))),
                Step("<=", 2 * eta * t * (f0 - ft), Uses(("summed_descent",), "multiply the summed descent by 2 eta t > 0")),
            ),
            note="the proof of S4:1594-1606 with its index slips fixed (tau is both the fixed index and the "
                 "summation variable there)",
        ),
    ),
    depends_on=("descent.lemma_2_1_4",),
    horizon=40,
    dims=(1, 2, 3, 5, 10, 30),
)

# ------------------------------------------------------------------------------------------------
# Lemma 7.3.3: coupling sequences
# ------------------------------------------------------------------------------------------------

OM_ = Sym("omega", Domain.POSITIVE, Role.PARAMETER, doc="x_0 - x'_0 = eta omega e1")
EPS_ = Sym("eps", Domain.POSITIVE, Role.PARAMETER, draw="upper",
           doc="the largest eps with lambda_min(Hess f(xs)) <= -sqrt(rho eps), i.e. eps = gamma^2 / rho")
PN_ = Sym("Pn", Domain.NONNEGATIVE, Role.OBSERVABLE, "pnorm_t", doc="||p(t)||, p(t) = (I - eta H)^t xhat_0")
QN_ = Sym("Qn", Domain.NONNEGATIVE, Role.OBSERVABLE, "qnorm_t",
          doc="||q(t)||, q(t) = eta sum_{tau < t} (I - eta H)^{t-1-tau} Delta_tau xhat_tau")
X0_ = Sym("X0", Domain.POSITIVE, Role.OBSERVABLE, "xhat0", doc="||x_0 - x'_0|| = eta omega")
ER_ = Sym("E", Domain.NONNEGATIVE, Role.OBSERVABLE, "decomp_err_t", doc="||xhat_t - (p(t) - q(t))||")
DS_ = Sym("Ds", Domain.NONNEGATIVE, Role.OBSERVABLE, "dsum_t",
          doc="sum_{tau < t} eta ||Delta_tau|| (||Delta_tau|| exact for separable f, else an upper bound)")
LD_ = Sym("Ld", Domain.NONNEGATIVE, Role.OBSERVABLE, "locdist_t",
          doc="max_{tau <= t} max(||x_tau - xs||, ||x'_tau - xs||)")
TS_ = Sym("t", Domain.POSITIVE, Role.OBSERVABLE, "step_t", doc="step index t >= 1")
omega, eps, Pn, Qn, X0, E, Ds, Ld, ts = (s.s for s in (OM_, EPS_, PN_, QN_, X0_, ER_, DS_, LD_, TS_))
HALF, THIRD = sympy.Rational(1, 2), sympy.Rational(1, 3)

coupling = Theorem(
    id="escape.coupling",
    title="Coupling sequences: two GD runs started eta omega apart along e1 separate exponentially",
    citation=Citation(BOOK, "Lemma 7.3.3 and its proof", "seed 004, paragraphs 1622-1661"),
    symbols=(ELL_, RHO_, GAM_, DEL_, ETA1_, OM_, EPS_, PN_, QN_, X0_, ER_, DS_, LD_, TS_),
    structure=(ANY,),
    dynamics="gd_coupled",
    assumptions=(
        Assumption("step_size", sympy.Eq(eta, 1 / ell),
                   "eta = 1/ell in the proof (the eigenvalues of I - eta H lie in [0, 1 + eta gamma])"),
        Assumption("start_pair", omega <= ell * delta0,
                   "both starts within 2 delta0 of xs (the lemma's max(||x_0 - xs||, ||x'_0 - xs||) <= eta r)"),
        Assumption("strict_saddle", rho * eps <= gamma**2, "lambda_min(Hess f(xs)) <= -sqrt(rho eps)"),
    ),
    search=(Assumption("search_range", omega >= ell * delta0 / 10**6,
                       "the numeric search keeps eta omega within six decades below delta0 (smaller separations "
                       "only rescale p and q, and underflow)"),),
    claims=(
        Claim("decomposition", E <= 0,
              "xhat_t = p(t) - q(t) exactly at every t (mean-value form of grad f(x_t) - grad f(x'_t); tolerance: "
              "the run's forward rounding-error scale)"),
        Claim("p_growth", Pn >= (1 + eta * gamma) ** ts * X0,
              "||p(t)|| >= (1 + eta gamma)^t eta omega ((I - eta H) e1 = (1 + eta gamma) e1)"),
        Claim("q_half_p", sympy.Min(Qn / Pn - HALF, THIRD - Ds) <= 0,
              "||q(t)|| <= ||p(t)||/2 whenever sum_{tau < t} eta ||Delta_tau|| <= 1/3 (the precise induction, "
              "THEOREMS.md 5.2 step 5)"),
        Claim("q_half_p_as_printed", sympy.Min(Qn / Pn - HALF, sympy.sqrt(eps / rho) - Ld) <= 0,
              "as printed: ||q(t)|| <= ||p(t)||/2 while both runs stay within sqrt(eps/rho) of xs (localization "
              "radius of order sqrt(eps/rho) with constant 1, 'with careful constants O~(1) <= 1/2', S4:1661)",
              printed=True, corrected_by="q_half_p",
              note="true only if the radius carries an inverse log factor (Jin et al.: c sqrt(eps/rho)/chi)"),
    ),
    note="p(t), q(t) and Delta_t xhat_t = grad f(x_t) - grad f(x'_t) - H xhat_t are run beside the pair; "
         "||Delta_t|| is exact for separable instances (Delta diagonal) and bounded above otherwise, which only "
         "strengthens the hypothesis of q_half_p",
    horizon=200,
    dims=(1, 2, 3, 5, 10, 20),
)

# ------------------------------------------------------------------------------------------------
# Volume ratio of the stuck region
# ------------------------------------------------------------------------------------------------

DI_ = Sym("d", Domain.POSITIVE, Role.INSTANCE, "d", doc="dimension (a positive integer)")
GR_ = Sym("Gr", Domain.POSITIVE, Role.OBSERVABLE, "gratio", doc="Gamma(d/2 + 1) / Gamma(d/2 + 1/2)")
di, Gr = DI_.s, GR_.s

volume_ratio = Theorem(
    id="escape.volume_ratio",
    title="Volume ratio of the stuck region: (1/sqrt(pi)) Gamma(d/2+1)/Gamma(d/2+1/2) <= sqrt(d/pi)",
    citation=Citation(BOOK, "proof of Lemma 7.3.1, the stuck-region volume bound", "seed 004, paragraphs 1610-1620"),
    symbols=(DI_, GR_),
    structure=(Structural("dimension", "dimension", "d is a positive integer"),),
    dynamics="volume_ratio",
    assumptions=(Assumption("dimension", di >= 1, "d >= 1"),),
    facts=(
        Fact("wendel", Gr <= sympy.sqrt((di + 1) / 2),
             "Wendel's inequality Gamma(x + s) <= x^s Gamma(x) (x > 0, 0 < s < 1) at x = (d+1)/2, s = 1/2"),
    ),
    claims=(
        Claim("volume_ratio_bound", Gr / sympy.sqrt(sympy.pi) <= sympy.sqrt(di / sympy.pi),
              "eta omega Vol(B^{d-1}(eta r)) / (eta r Vol(B^d(eta r))) = (1/sqrt(pi)) Gamma(d/2+1)/Gamma(d/2+1/2) "
              "<= sqrt(d/pi) for every d >= 1", kind=TRAJ),
    ),
    derivations=(
        Derivation(
            "volume_ratio_bound", Gr / sympy.sqrt(sympy.pi),
            (
                Step("<=", sympy.sqrt((di + 1) / 2) / sympy.sqrt(sympy.pi), Uses(("wendel",))),
                Step("<=", sympy.sqrt(di / sympy.pi), Algebra("(d + 1)/2 <= d for d >= 1")),
            ),
        ),
    ),
    note="Vol(B^d(R)) = pi^(d/2) R^d / Gamma(d/2 + 1) gives the equality (checked symbolically in the tests); "
         "the numeric check draws d from 1 to 1e7 (d = 1..8 in every batch) and evaluates the Gamma ratio in "
         "float64 (log-gamma) and, on replay, with mpmath",
    horizon=1,
    dims=(1,),
)

# ------------------------------------------------------------------------------------------------
# Stuck probability (Monte Carlo)
# ------------------------------------------------------------------------------------------------

TC = 100  # the GD horizon of the stuck region (the run's horizon; numeric.families.escape.STUCK_HORIZON)
G_ = Sym("G", Domain.POSITIVE, Role.INSTANCE, "G", doc="(1 + gamma/ell)^T, T = 100: the growth of e1-components")
P_ = Sym("P", Domain.NONNEGATIVE, Role.PROBABILITY, doc="probability over xi ~ Unif(B_0(r)) of the event")
R_ = Sym("r", Domain.POSITIVE, Role.PARAMETER, draw="upper", doc="perturbation radius r = omega* sqrt(d)")
EPSS_ = Sym("eps", Domain.POSITIVE, Role.PARAMETER, draw="upper", doc="eps = gamma^2/rho (xs is an eps-strict saddle)")
TCAL_ = Sym("tcal", Domain.POSITIVE, Role.PARAMETER, draw="lower", doc="perturbation interval (one perturbation only)")
MD_ = Sym("maxdist", Domain.NONNEGATIVE, Role.OBSERVABLE, "maxdist",
          doc="max_{t <= T} ||x_t - xs|| for GD from x_0 = xs + eta xi")
P, r, tcal, maxdist, G = (s.s for s in (P_, R_, TCAL_, MD_, G_))
eps_s = EPSS_.s
# An eps-SOSP has ||grad f|| <= eps and lambda_min(Hess f) >= -sqrt(rho eps): the PGD dynamics read this
# curvature level from here (one source), evaluated per instance.
SOSP_CURVATURE = sympy.sqrt(rho * eps_s)
S = ell / (3 * TC * rho)  # the localization radius: T eta rho S = 1/3 at eta = 1/ell
OMEGA_STAR = 4 * S / (eta * (1 + eta * gamma) ** TC)
OMEGA_STAR_ELL = 4 * S * ell / G  # the same at eta = 1/ell, with G = (1 + gamma/ell)^T

stuck_probability = Theorem(
    id="escape.stuck_probability",
    title="The stuck region is thin: Pr(x_0 in X_stuck) <= (omega/r) sqrt(d/pi)",
    citation=Citation(BOOK, "proof of Lemma 7.3.1 (stuck region and volume bound)", "seed 004, paragraphs 1610-1620"),
    symbols=(ELL_, RHO_, GAM_, D_, G_, ETA1_, R_, EPSS_, TCAL_, P_, MD_),
    structure=(DEEP,),
    dynamics="pgd_ball",
    assumptions=(
        STEP1,
        Assumption("growth", sympy.Eq(G, (1 + gamma / ell) ** TC), "the instance's G (a constant of the class)"),
        Assumption("radius", r <= OMEGA_STAR_ELL * sympy.sqrt(d),
                   "r = omega* sqrt(d) (drawn at this end): the bound is then 1/sqrt(pi), where 400 trials can decide it"),
        Assumption("ball_inside", G >= 4 * sympy.sqrt(d),
                   "then eta r = 4 S sqrt(d) / (1 + eta gamma)^T <= S: the perturbation ball lies within the "
                   "localization radius"),
        Assumption("strict_saddle", rho * eps_s <= gamma**2, "lambda_min(Hess f(xs)) <= -sqrt(rho eps)"),
        Assumption("one_perturbation", tcal >= TC + 1, "a single perturbation at t = 0 (Lemma 7.3.1's setting)"),
    ),
    claims=(
        Claim("stuck_bound", P <= OMEGA_STAR / r * sympy.sqrt(d / sympy.pi),
              "Pr(max_{t <= T} ||x_t - xs|| <= S) <= (omega*/r) sqrt(d/pi), omega* = 4 S / (eta (1 + eta gamma)^T): "
              "two stuck starts eta omega >= eta omega* apart along e1 would have ||xhat_T|| >= (1 + eta gamma)^T "
              "eta omega / 2 > 2 S, so each line parallel to e1 meets X_stuck in width < eta omega*",
              kind=PROB, event=maxdist <= S, trials=200, confidence=0.99, plot_x="d"),
    ),
    note="S = ell/(3 T rho), so that runs within S of xs have sum_{tau < T} eta ||Delta_tau|| <= T eta rho S = 1/3. "
         "omega* is the width of Lemma 7.3.3 made explicit for localization radius S measured from xs: then "
         "the coupling gives ||q|| <= ||p||/2, hence ||xhat_t|| >= ||p(t)||/2.  The Monte Carlo "
         "event is the stuck event of the actual GD runs (x_0 = xs + eta xi, xi uniform in B_0(r)), not a slab",
    horizon=TC,
    dims=(1, 2, 3, 10, 30),
    settings={"start": "saddle", "stop_at_hit": False, "sosp_curvature": SOSP_CURVATURE},
)

# ------------------------------------------------------------------------------------------------
# Lemma 7.3.1 (escaping) with explicit constants
# ------------------------------------------------------------------------------------------------

T1 = 200
DELTA = sympy.Rational(1, 10)
FD_ = Sym("Fd", Domain.REAL, Role.OBSERVABLE, "fdrop", doc="f(xs) - f(x_T)")
RE_ = Sym("r", Domain.POSITIVE, Role.PARAMETER, draw="upper", doc="perturbation radius r = eps = gamma^2/rho")
Fd, r_e = FD_.s, RE_.s
CHI = T1 * gamma / ell  # = T sqrt(rho eps) eta at eps = gamma^2/rho, eta = 1/ell: T = chi ell / sqrt(rho eps)

lemma_7_3_1 = Theorem(
    id="escape.lemma_7_3_1",
    title="Escaping a strict saddle: one perturbation and T steps of GD decrease f w.p. >= 1 - delta",
    citation=Citation(BOOK, "Lemma 7.3.1", "seed 004, paragraph 1577"),
    symbols=(ELL_, RHO_, GAM_, D_, ETA1_, EPSS_, RE_, TCAL_, P_, FD_),
    structure=(DEEP,),
    dynamics="pgd_ball",
    assumptions=(
        STEP1,
        Assumption("strict_saddle", rho * eps_s <= gamma**2,
                   "||grad f(xs)|| = 0 <= eps and lambda_min(Hess f(xs)) <= -sqrt(rho eps); eps drawn at gamma^2/rho"),
        Assumption("radius", r_e <= gamma**2 / rho, "r = Theta~(eps), explicit: r = eps = gamma^2/rho"),
        Assumption("horizon", CHI >= sympy.log(sympy.sqrt(d) * ell / (DELTA * gamma)) + 2,
                   "T = chi ell / sqrt(rho eps) with chi >= log(sqrt(d) ell / (delta gamma)) + 2"),
        Assumption("one_perturbation", tcal >= T1 + 1, "one perturbation, at t = 0"),
    ),
    claims=(
        Claim("escape_decrease", P >= 1 - DELTA,
              "with x_0 = xs + eta xi, xi ~ Unif(B_0(r)), GD for T steps has f(x_T) - f(xs) <= -T eps^2 / (2 chi ell) "
              "with probability >= 1 - delta (delta = 1/10)",
              kind=PROB, event=Fd >= T1 * eps_s**2 / (2 * CHI * ell), trials=160, confidence=0.99, plot_x="gamma"),
    ),
    note="Explicit constants for the O~/Omega~ of the lemma: eta = 1/ell, eps = gamma^2/rho (the saddle is exactly "
         "eps-strict), r = eps, T = chi ell/sqrt(rho eps) = 200 steps with chi >= log(sqrt(d) ell/(delta gamma)) + 2 "
         "(the escape needs (1 + eta gamma)^T eta r delta/sqrt(d) to exceed the escape scale ~ gamma/rho), and the "
         "decrease F = T eps^2/(2 chi ell) = eps^(3/2)/(2 sqrt(rho)) (Jin et al.'s F with constant 1/2: one log "
         "factor, the chi in T eps^2/ell, cancels).  delta = 1/10.",
    horizon=T1,
    dims=(1, 2, 5, 10, 30),
    settings={"start": "saddle", "stop_at_hit": False, "sosp_curvature": SOSP_CURVATURE},
)

# ------------------------------------------------------------------------------------------------
# Theorem 7.2.1: PGD finds an eps-SOSP (both variants), explicit constants
# ------------------------------------------------------------------------------------------------

T2 = 3000
FS_ = Sym("fstar", Domain.REAL, Role.INSTANCE, "fstar", doc="min f")
EPSR_ = Sym("eps", Domain.POSITIVE, Role.PARAMETER, draw="upper", doc="target accuracy eps = gamma^2/(4 rho)")
RG_ = Sym("r", Domain.POSITIVE, Role.PARAMETER, draw="upper", doc="noise radius")
FF_ = Sym("f0", Domain.REAL, Role.OBSERVABLE, "f_first", doc="f(x_0)")
HT_ = Sym("tau_hit", Domain.POSITIVE, Role.OBSERVABLE, "hit_time",
          doc="first t with ||grad f(x_t)|| <= eps and lambda_min(Hess f(x_t)) >= -sqrt(rho eps) (T+1 if none)")
HIT_ = Sym("hit", Domain.NONNEGATIVE, Role.OBSERVABLE, "hit", doc="1 if an eps-SOSP was reached within the run")
TC2_ = Sym("tcal", Domain.POSITIVE, Role.PARAMETER, draw="lower",
           doc="perturbation interval T = 4 ell / sqrt(rho eps) (= 8 ell / gamma at eps = gamma^2/(4 rho))")
fstar, eps_r, r_g, fF, thit, hit, tcal2 = (s.s for s in (FS_, EPSR_, RG_, FF_, HT_, HIT_, TC2_))
CHI2 = sympy.Max(sympy.log(d * ell * (fF - fstar) / (eps_r**2 * DELTA)), 4)
NBUDGET = 4 * ell * (fF - fstar) * CHI2 / eps_r**2
NOTE_721 = ("Explicit constants for Theorem 7.2.1 (the O~ of the iteration count and the Theta~ of r and T, modelled on "
            "Jin et al. 2017 with their absolute constant c set to 1 and chi^4 replaced by chi -- a stronger statement "
            "than theirs): eta = 1/ell, N = 4 ell (f(x_0) - f*) chi / eps^2 with chi = max(log(d ell (f(x_0) - f*) / "
            "(eps^2 delta)), 4), delta = 1/10; r = eps (ball) or eps/2 (Gaussian: xi ~ N(0, r^2/d I) at every step "
            "keeps ||grad f|| fluctuating at ~ r sqrt(eta ell)/2 near a minimum); T = 4 ell / sqrt(rho eps).  "
            "eps = gamma^2/(4 rho) (so that the saddle itself is not an eps-SOSP; gamma and rho vary over the instances), x_0 = w0 near the saddle.  The run stops at the first eps-SOSP "
            "and lasts at most 3000 steps: an eps-SOSP not reached by then counts as a failure even when N is larger.")


def _theorem_7_2_1(variant: str) -> Theorem:
    ball = variant == "ball"
    return Theorem(
        id=f"escape.theorem_7_2_1_{variant}",
        title=f"Perturbed GD ({'uniform-ball perturbation when the gradient is small' if ball else 'Gaussian noise every step'}) "
              "finds an eps-SOSP with probability >= 1 - delta",
        citation=Citation(BOOK, "Theorem 7.2.1" + (" (PGD form (b))" if ball else " (PGD form (a))"),
                          "seed 004, paragraphs 1543-1558"),
        symbols=(ELL_, RHO_, GAM_, D_, FS_, ETA1_, EPSR_, RG_, *((TC2_,) if ball else ()), P_, FF_, HT_, HIT_),
        structure=(MINIMA,),
        dynamics="pgd_ball" if ball else "pgd_gauss",
        assumptions=(
            STEP1,
            Assumption("accuracy", 4 * rho * eps_r <= gamma**2,
                       "sqrt(rho eps) <= gamma/2: xs is not an eps-SOSP; drawn at eps = gamma^2/(4 rho)"),
            Assumption("radius", r_g <= (gamma**2 / (4 * rho) if ball else gamma**2 / (8 * rho)),
                       "r = Theta~(eps), explicit: eps (ball) or eps/2 (Gaussian)"),
            *((Assumption("interval", tcal2 >= 8 * ell / gamma, "T = Theta~(ell/sqrt(rho eps)) = 4 ell/sqrt(rho eps)"),)
              if ball else ()),
        ),
        claims=(
            Claim("finds_sosp", P >= 1 - DELTA,
                  "some iterate within N = 4 ell (f(x_0) - f*) chi / eps^2 steps is an eps-SOSP, with probability "
                  ">= 1 - delta", kind=PROB, event=sympy.And(hit >= 1, thit <= NBUDGET), trials=160, confidence=0.99,
                  plot_x="eps"),
        ),
        note=NOTE_721,
        horizon=T2,
        dims=(1, 2, 5, 10, 30),
        settings={"start": "w0", "stop_at_hit": True, "sosp_curvature": SOSP_CURVATURE},
        depends_on=("escape.lemma_7_3_1",),
    )


theorem_7_2_1_ball = _theorem_7_2_1("ball")
theorem_7_2_1_gauss = _theorem_7_2_1("gauss")

# ------------------------------------------------------------------------------------------------
# Scaling: the escape time depends on d only polylogarithmically
# ------------------------------------------------------------------------------------------------

PF_ = Sym("p", Domain.REAL, Role.FIT, doc="fitted growth exponent of the median hitting time in d")
pf = PF_.s
EPSU_ = Sym("eps", Domain.POSITIVE, Role.PARAMETER, draw="upper", doc="eps = gamma^2/(4 rho)")
RU_ = Sym("r", Domain.POSITIVE, Role.PARAMETER, draw="upper", doc="r = eps")
TCU_ = Sym("tcal", Domain.POSITIVE, Role.PARAMETER, draw="lower", doc="T = 4 ell / sqrt(rho eps) = 8 ell / gamma")
eps_u, r_u, tcal_u = EPSU_.s, RU_.s, TCU_.s
SIZES = (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

escape_time_scaling = Theorem(
    id="escape.escape_time_scaling",
    title="The number of PGD iterations to an eps-SOSP depends on d only polylogarithmically",
    citation=Citation(BOOK, "Theorem 7.2.1 (the O~ hides polylog(d))", "seed 004, paragraph 1558"),
    symbols=(ELL_, RHO_, GAM_, ETA1_, EPSU_, RU_, TCU_, PF_, HT_),
    structure=(MINIMA,),
    dynamics="pgd_ball",
    assumptions=(
        STEP1,
        Assumption("accuracy", 4 * rho * eps_u <= gamma**2, "eps = gamma^2/(4 rho): the saddle is not an eps-SOSP"),
        Assumption("radius", r_u <= gamma**2 / (4 * rho), "r = eps"),
        Assumption("interval", tcal_u >= 8 * ell / gamma, "T = 4 ell / sqrt(rho eps) = 8 ell / gamma"),
    ),
    claims=(
        Claim("polylog_in_d", pf <= 2,
              "the median hitting time of an eps-SOSP from the saddle grows at most like log(d)^2 "
              "(fit log y = a + p log log d over d = 2..1024)",
              kind=SCALE, scaling=Scaling(observable="hit_time", model="polylog", statistic="median", sizes=SIZES,
                                          instances=2, trials=32), confidence=0.95),
        Claim("at_least_sqrt_d", pf >= HALF,
              "false statement (expected fail): the median hitting time grows at least like d^(1/2) (power-law fit "
              "log y = a + p log d); its rejection shows that a poly(d) law does not describe the escape time",
              kind=SCALE, scaling=Scaling(observable="hit_time", model="power", statistic="median", sizes=SIZES,
                                          instances=2, trials=32), confidence=0.95, expect=Verdict.FAIL),
    ),
    note="instances: the quartic saddle family at pattern 0 (Knobs.dim = d); the run starts at the saddle with the "
         "uniform-ball perturbation (form (b)) and stops at the first eps-SOSP",
    horizon=T2,
    dims=SIZES,
    settings={"start": "saddle", "stop_at_hit": True, "sosp_curvature": SOSP_CURVATURE},
)

THEOREMS = [lemma_7_3_2, coupling, volume_ratio, stuck_probability, lemma_7_3_1, theorem_7_2_1_ball,
            theorem_7_2_1_gauss, escape_time_scaling]
