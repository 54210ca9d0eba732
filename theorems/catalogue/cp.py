"""Family 4: cross-predictability and the junk-flow bound for noisy GD (Abbe-Sandon).

Source: Abbe-Sandon, "Universality and limitations of deep learning" (slides in seed 000, lines
305-827); errata in THEOREMS.md section 4.3.  Setting: X uniform on {+-1}^n, F ~ P_F, labels +-1;
``CP = E_{F,F'} (E_X F(X) F'(X))^2``.  All function classes here are uniform distributions over
parities chi_S (full parities, degree-k parities, dictators, a point mass); the numeric stage
computes CP by enumerating every function and every input in exact integer arithmetic
(``numeric.families.cp``).  Networks are DAGs (n + 1 inputs including a constant, one output, tanh hidden
vertices) compiled to a flat layout; their population gradients are exact sums over all 2^n inputs.

For n = 13..24 (beyond enumeration) the closed forms are checked against a Monte Carlo estimate
with a stated error: TRAJECTORY claims ``|CPhat - CP| <= CPhalf`` with an empirical Bernstein
half-width at confidence 1 - 1e-9 per instance (see SAMPLED_NOTE for why this is not a PROBABILITY
claim and for the false-alarm probability).

Proof steps checked here: the closed forms of CP (orthonormality of parities), the Radon-Nikodym
identity ``1 - D_F/D_* = -y F(x)`` for junk data, the Cauchy-Schwarz + replica step
``E_F ||E_{D_F} grad - E_{D_*} grad||^2 <= E_{D_*} ||grad||^2 CP^{1/2}`` (exactly, by enumeration, on
random networks), and the Gaussian TV / Pinsker step.

The junk-flow theorem itself is checked as probability claims: noisy population GD (exact gradients,
Gaussian noise sigma from the counter-based generator) run ``trials`` times per instance, success =
the trained network's sign is right at one fresh uniform input; the printed statement (JF with the
norm of the mean junk gradient) is refuted by the correlation loss on a dictator, the corrected one
(``P <= 1/2 + (1/2) CP^{1/4} (1 + JF_rms / sigma)``) passes; the report plots the measured success
probability and the bound against CP across classes, and, for degree-k parities, against k.
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

SLIDES = "Abbe-Sandon, Universality and limitations of deep learning (slides)"
TRAJ = ClaimKind.TRAJECTORY

# --- CP of function classes --------------------------------------------------------------------
N_IN_ = Sym("n", Domain.POSITIVE_INTEGER, Role.INSTANCE, "n", doc="number of Boolean inputs, X uniform on {+-1}^n")
NF_ = Sym("N", Domain.POSITIVE, Role.INSTANCE, "N",
          doc="number of functions in the class (P_F uniform over them), counted by enumerating the class")
CP_ = Sym("CP", Domain.NONNEGATIVE, Role.OBSERVABLE, "cp",
          doc="E_{F,F'} (E_X F(X) F'(X))^2 by enumeration of every F, F' and every x")
CPP_ = Sym("CPprinted", Domain.NONNEGATIVE, Role.OBSERVABLE, "cp_printed",
           doc="the printed E_{F,F'} (E_X F(X) F(X'))^2 with X' independent of X, = E_F (E_X F)^4, by enumeration")
COLL_ = Sym("coll", Domain.NONNEGATIVE, doc="collision probability sum_F P_F(F)^2 of the class")
n, N, CP, CPp, coll = (s.s for s in (N_IN_, NF_, CP_, CPP_, COLL_))

ORTHONORMAL = Fact(
    "orthonormal", sympy.Eq(CP, coll),
    "E_X chi_S(X) chi_S'(X) = 1{S = S'} for X uniform on {+-1}^n, so every cross term of CP vanishes and "
    "CP = sum_S P_F(chi_S)^2 (the collision probability)",
)
UNIFORM = Fact("uniform", sympy.Eq(coll, N * (1 / N) ** 2),
               "P_F is uniform over N distinct parities: each of the N terms of the collision probability is 1/N^2")
_CP_CITE = Citation(SLIDES, "Theorem 1, definition of CP", "seed 000, lines 372-380")


def _cp_proof(closed: sympy.Expr, count: Fact | None) -> Derivation:
    steps = [
        Step("==", sympy.Abs(coll - closed), Uses(("orthonormal",))),
        Step("==", sympy.Abs(N * (1 / N) ** 2 - closed), Uses(("uniform",))),
    ]
    if count is not None:
        steps.append(Step("==", sympy.Abs(1 / count.relation.rhs - closed), Uses((count.name,), "count the class")))
    steps.append(Step("==", 0, Algebra()))
    return Derivation("cp_closed_form", sympy.Abs(CP - closed), tuple(steps))


def _cp_theorem(tid: str, cls: str, title: str, closed: sympy.Expr, count_fact: Fact | None, text: str,
                dims: tuple[int, ...], printed_note: str = "") -> Theorem:
    facts = (ORTHONORMAL, UNIFORM) + ((count_fact,) if count_fact else ())
    claims = [
        Claim("cp_closed_form", sympy.Abs(CP - closed) <= 0, f"CP = {closed} for {text}", kind=TRAJ),
    ]
    if printed_note:
        claims.append(Claim(
            "cp_printed_formula", sympy.Abs(CPp - closed) <= 0,
            f"the CP formula as printed at S0:827, E_{{F,F'}}(E_X F(X) F(X'))^2, also equals {closed}",
            kind=TRAJ, printed=True, corrected_by="cp_closed_form", note=printed_note,
        ))
    return Theorem(
        id=tid, title=title, citation=_CP_CITE, symbols=(N_IN_, NF_, CP_, CPP_, COLL_),
        structure=(Structural(cls, cls, text),), dynamics="cross_predictability", facts=facts,
        claims=tuple(claims),
        derivations=(_cp_proof(closed, count_fact),),
        dims=dims, horizon=1,
        note="CP by enumeration of every pair of functions and every input, exact integer arithmetic",
    )


PRINTED_NOTE = ("S0:827 writes F(X') for F'(X); read literally (X' independent) it is E_F (E_X F)^4, which "
                "vanishes for every balanced class: 0 for dictators and for k-parities with k >= 1")

cp_parities = _cp_theorem(
    "cp.parities", "cp_parities", "Cross-predictability of uniform parities: CP = 2^-n", 2 ** (-n),
    Fact("count", sympy.Eq(N, 2**n), "there are 2^n subsets S of [n]"),
    "P_F uniform over all 2^n parities on {+-1}^n", (1, 2, 3, 4, 5, 6, 7, 8, 9),
)
cp_k_parities = _cp_theorem(
    "cp.k_parities", "cp_k_parities", "Cross-predictability of uniform degree-k parities: CP = 1/C(n, k)", 1 / N,
    None, "P_F uniform over the N = C(n, k) parities of degree k (N = C(n, k) is part of the class membership check)",
    (2, 3, 4, 5, 6, 7, 8, 9, 10), PRINTED_NOTE,
)
cp_dictators = _cp_theorem(
    "cp.dictators", "cp_dictators", "Cross-predictability of dictators: CP = 1/n", 1 / n,
    Fact("count", sympy.Eq(N, n), "there are n dictators x_1..x_n"),
    "P_F uniform over the n dictators x_i", (1, 2, 3, 4, 6, 8, 10, 12), PRINTED_NOTE,
)
cp_point_mass = _cp_theorem(
    "cp.point_mass", "cp_point_mass", "Cross-predictability of a point mass: CP = 1", sympy.Integer(1),
    Fact("count", sympy.Eq(N, 1), "a point mass is one function"),
    "P_F a point mass on one parity chi_S", (1, 2, 3, 5, 8, 12),
)

# --- CP by sampling, n = 13..24 -----------------------------------------------------------------
CPHAT_ = Sym("CPhat", Domain.REAL, Role.OBSERVABLE, "cp_hat",
             doc="Monte Carlo estimate of CP: mean over 4096 pairs (F, F') drawn uniformly from the class of the "
                 "unbiased U-statistic ((sum_l F(X_l) F'(X_l))^2 - L) / (L (L - 1)) of (E_X F F')^2, L = 8 uniform "
                 "inputs per pair (kernels.rng keyed by (seed, instance id, pair, draw))")
CPHALF_ = Sym("CPhalf", Domain.NONNEGATIVE, Role.OBSERVABLE, "cp_half",
              doc="half-width of the empirical Bernstein interval (Maurer-Pontil) at confidence 1 - 1e-9 per "
                  "instance, plus 2 N 2^-64 for the bias of the index draws")
cphat, cphalf = CPHAT_.s, CPHALF_.s
SAMPLED_DELTA_TEXT = "1e-9"
SAMPLED_NOTE = (
    "TRAJECTORY claim with a probabilistic half-width: for each instance, |CPhat - CP| <= CPhalf holds with "
    "probability >= 1 - 1e-9 over the instance's draws (empirical Bernstein, two-sided, exact up to the "
    "idealisation of Philox as uniform bits), so the claim holds for the closed form unless it is wrong or a "
    "1e-9 event occurred.  A violation replays deterministically (same seed and instance id, same draws), so a "
    "chance failure would be 'confirmed': the per-instance error probability is set so low that a failure is "
    "a genuine alarm -- at most 4352 instances per claim at the quick budget and 62,000 at default, i.e. a "
    "false-alarm probability <= 5e-6 per claim and run at quick and <= 7e-5 at default.  It is not a "
    "PROBABILITY claim because the statement is about one number (CP), not an event of the dynamics: the "
    "probability is the checker's own sampling error, stated by the interval.  The half-width is about "
    "0.015 (CP = 1) to 0.05 (4096 pairs, 8 inputs each): it confirms 1/n and 1/C(n, k) for small k and "
    "refutes the printed formula's 0 (for dictators up to n ~ 20) and wrong closed forms of that size; for "
    "2^-n and 1/C(n, k) with 2 < k < n - 2 it only bounds CP near 0 (2^-24 is far below any sampling "
    "resolution)."
)


def _cp_sampled_theorem(tid: str, cls: str, title: str, closed: sympy.Expr, text: str, dims: tuple[int, ...],
                        base: str) -> Theorem:
    return Theorem(
        id=tid, title=title, citation=_CP_CITE, symbols=(N_IN_, NF_, CPHAT_, CPHALF_),
        structure=(Structural(cls, cls, text),), dynamics="cross_predictability_sampled",
        claims=(Claim(
            "cp_sampled", sympy.Abs(cphat - closed) <= cphalf,
            f"CP = {closed} lies within the sampled estimate +- its half-width (confidence 1 - {SAMPLED_DELTA_TEXT} "
            f"per instance) for {text}", kind=TRAJ, note=SAMPLED_NOTE,
        ),),
        dims=dims, horizon=1, depends_on=(base,),
        note="CP estimated by Monte Carlo (n beyond exact enumeration); see the claim's note for the error statement",
    )


_SAMPLED_DIMS = (13, 14, 16, 18, 20, 22, 24)
cp_parities_sampled = _cp_sampled_theorem(
    "cp.parities_sampled", "cp_sampled_parities", "Cross-predictability of uniform parities by sampling, n = 13..24",
    2 ** (-n), "P_F uniform over all 2^n parities on {+-1}^n, n = 13..24", _SAMPLED_DIMS, "cp.parities",
)
cp_k_parities_sampled = _cp_sampled_theorem(
    "cp.k_parities_sampled", "cp_sampled_k_parities",
    "Cross-predictability of uniform degree-k parities by sampling, n = 13..24", 1 / N,
    "P_F uniform over the N = C(n, k) parities of degree k on {+-1}^n, n = 13..24 (N from its definition)",
    _SAMPLED_DIMS, "cp.k_parities",
)
cp_dictators_sampled = _cp_sampled_theorem(
    "cp.dictators_sampled", "cp_sampled_dictators", "Cross-predictability of dictators by sampling, n = 13..24",
    1 / n, "P_F uniform over the n dictators x_i on {+-1}^n, n = 13..24", _SAMPLED_DIMS, "cp.dictators",
)

# --- Radon-Nikodym and Cauchy-Schwarz + replica on networks --------------------------------------
CSL_ = Sym("CSlhs", Domain.NONNEGATIVE, Role.OBSERVABLE, "cs_lhs",
           doc="E_F ||E_{D_F} grad L - E_{D_*} grad L||^2, exact over all inputs and all F of the class")
G2_ = Sym("G2junk", Domain.NONNEGATIVE, Role.OBSERVABLE, "grad2_junk", doc="E_{D_*} ||grad L||^2 (exact)")
RNG_ = Sym("RNgap", Domain.NONNEGATIVE, Role.OBSERVABLE, "rn_gap",
           doc="max_{F,e} |(E_{D_F} - E_{D_*}) grad_e L - E_{D_*}[grad_e L y F(x)]| (the identity applied to gradients)")
RNR_ = Sym("RNratio", Domain.NONNEGATIVE, Role.OBSERVABLE, "rn_ratio_err",
           doc="max over F, x, y of |1 - D_F(x,y)/D_*(x,y) + y F(x)|, densities by enumeration")
Y_ = Sym("y", Domain.REAL, doc="a label in {+-1}")
FX_ = Sym("Fx", Domain.REAL, doc="F(x) in {+-1}")
RATIO_ = Sym("ratio", Domain.NONNEGATIVE, doc="D_F(x, y) / D_*(x, y)")
IND_ = Sym("ind", Domain.NONNEGATIVE, doc="1{y = F(x)}")
CPN_ = Sym("CP", Domain.NONNEGATIVE, Role.OBSERVABLE, "cp", doc="CP of the class (exact enumeration)")
csl, g2j, rngap, rnr, y, Fx, ratio, ind = (s.s for s in (CSL_, G2_, RNG_, RNR_, Y_, FX_, RATIO_, IND_))

junk_gradient_bound = Theorem(
    id="cp.junk_gradient_bound",
    title="Junk data: the Radon-Nikodym identity and the Cauchy-Schwarz + replica bound on gradient differences",
    citation=Citation(SLIDES, "CP information-theoretic argument (Radon-Nikodym, tensorization, CS + replica)",
                      "seed 000, lines 736-818"),
    symbols=(CSL_, G2_, RNG_, RNR_, CPN_, Y_, FX_, RATIO_, IND_),
    structure=(Structural("cube_networks_all", "cube_networks_all",
                          "a DAG network with tanh hidden vertices at weights w0, a function class of parities (balanced "
                          "or not) and the square or correlation loss"),),
    dynamics="junk_gradients",
    facts=(
        Fact("worst", sympy.Eq(rnr, sympy.Abs(1 - ratio + y * Fx)),
             "RNratio is this expression at the maximising (F, x, y)"),
        Fact("densities", sympy.Eq(ratio, 2 * ind),
             "D_F(x, y) = P_X(x) 1{y = F(x)} and D_*(x, y) = P_X(x) / 2 (y uniform, independent of x)"),
        Fact("indicator", sympy.Eq(ind, (1 + y * Fx) / 2), "1{y = F(x)} = (1 + y F(x)) / 2 for y, F(x) in {+-1}"),
    ),
    claims=(
        Claim("radon_nikodym", rnr <= 0,
              "1 - D_F/D_* = -y F(x) for junk data D_* = P_X x Unif{+-1} (every F, x, y)", kind=TRAJ,
              note="the seed's step 4 has (1 - D_F/D_*) where D_F/D_* - 1 is meant; harmless, it is squared"),
        Claim("radon_nikodym_gradients", rngap <= 0,
              "E_{D_F} grad L - E_{D_*} grad L = E_{D_*}[grad L (D_F/D_* - 1)] = E_{D_*}[grad L y F(x)], "
              "exactly, for every F of the class", kind=TRAJ),
        Claim("cs_replica", csl <= g2j * sympy.sqrt(CP),
              "E_F ||E_{D_F} grad L - E_{D_*} grad L||^2 <= E_{D_*} ||grad L||^2 CP^{1/2} "
              "(tensorization, Cauchy-Schwarz and the replica trick)", kind=TRAJ,
              note="checked exactly by enumeration over all inputs and all functions of the class"),
    ),
    derivations=(
        Derivation("radon_nikodym", rnr, (
            Step("==", sympy.Abs(1 - ratio + y * Fx), Uses(("worst",))),
            Step("==", sympy.Abs(1 - 2 * ind + y * Fx), Uses(("densities",))),
            Step("==", 0, Uses(("indicator",))),
        )),
    ),
    dims=(2, 3, 4, 5, 6, 7, 8),
    horizon=1,
    note="networks: one- and two-layer tanh nets, skip edges, random sparse DAGs and linear nets; "
         "classes: parities, k-parities, dictators, point masses; losses: square and correlation",
)

# --- Gaussian TV and Pinsker -------------------------------------------------------------------
TV_ = Sym("TV", Domain.NONNEGATIVE, Role.OBSERVABLE, "tv",
          doc="TV(N(a, sigma^2 I), N(b, sigma^2 I)) by quadrature of (1/2) int |p - q|")
TVE_ = Sym("TVerf", Domain.NONNEGATIVE, Role.OBSERVABLE, "tv_erf", doc="erf(||a - b|| / (2 sqrt(2) sigma))")
DELTA_ = Sym("delta", Domain.NONNEGATIVE, Role.OBSERVABLE, "delta", doc="||a - b||")
SIG_ = Sym("sigma", Domain.POSITIVE, Role.INSTANCE, "sigma", doc="noise level")
tv, tve, delta, sig = (s.s for s in (TV_, TVE_, DELTA_, SIG_))
_u = delta / (2 * sympy.sqrt(2) * sig)

gaussian_pinsker = Theorem(
    id="cp.gaussian_pinsker",
    title="TV distance of isotropic Gaussians and the Pinsker step of the junk-flow proof",
    citation=Citation(SLIDES, "CP information-theoretic argument, Pinsker's inequality", "seed 000, lines 790-800"),
    symbols=(TV_, TVE_, DELTA_, SIG_),
    structure=(Structural("gaussian_pairs", "gaussian_pairs", "N(a, sigma^2 I) and N(b, sigma^2 I) on R^d"),),
    dynamics="gaussian_tv",
    facts=(
        Fact("gaussian_tv", sympy.Eq(tv, sympy.erf(_u)),
             "TV = P(|Z| <= ||a-b||/(2 sigma)) = erf(||a-b||/(2 sqrt2 sigma)) (checked numerically by tv_identity)"),
        Fact("erf_slope", sympy.erf(_u) <= 2 / sympy.sqrt(sympy.pi) * _u,
             "erf(u) <= 2u/sqrt(pi) for u >= 0, since erf' (u) = 2 e^{-u^2}/sqrt(pi) <= 2/sqrt(pi)"),
    ),
    claims=(
        Claim("tv_identity", sympy.Abs(tv - tve) <= 0,
              "TV(N(a, sigma^2 I), N(b, sigma^2 I)) = erf(||a - b|| / (2 sqrt(2) sigma))", kind=TRAJ),
        Claim("pinsker", tv <= delta / (2 * sig),
              "TV(N(a, sigma^2 I), N(b, sigma^2 I)) <= ||a - b|| / (2 sigma) (Pinsker: sqrt(KL/2), "
              "KL = ||a - b||^2 / (2 sigma^2))", kind=TRAJ),
    ),
    derivations=(
        Derivation("pinsker", tv, (
            Step("==", sympy.erf(_u), Uses(("gaussian_tv",))),
            Step("<=", 2 / sympy.sqrt(sympy.pi) * _u, Uses(("erf_slope",))),
            Step("<=", delta / (2 * sig), Algebra("1/sqrt(2 pi) <= 1/2")),
        )),
    ),
    dims=(1, 2, 3, 5, 10),
    horizon=1,
)

# --- The junk-flow theorem (noisy population GD) ------------------------------------------------
P_ = Sym("P", Domain.NONNEGATIVE, Role.PROBABILITY,
         doc="P{W_F^(T)(X) = F(X)}: over F ~ P_F, the GD noise and a fresh X ~ P_X")
SUCC_ = Sym("success", Domain.NONNEGATIVE, Role.OBSERVABLE, "success",
            doc="1 if sign f_{W_F^(T)}(X) = F(X) at one fresh uniform X (f >= 0 predicts +1), else 0")
JFR_ = Sym("JFrms", Domain.NONNEGATIVE, Role.OBSERVABLE, "jf_rms",
           doc="sum_t gamma (E_{D_*} ||grad L(W*_{t-1})||^2)^{1/2} along the trial's junk trajectory (exact over D_*)")
JFM_ = Sym("JFmean", Domain.NONNEGATIVE, Role.OBSERVABLE, "jf_mean",
           doc="sum_t gamma ||E_{D_*} grad L(W*_{t-1})|| (the printed JF) along the trial's junk trajectory")
CPJ_ = Sym("CP", Domain.NONNEGATIVE, Role.OBSERVABLE, "cp", doc="CP of the function class (exact enumeration)")
GAMMA_ = Sym("gamma", Domain.POSITIVE, Role.PARAMETER, doc="step size")
SIGMA_ = Sym("sigma", Domain.POSITIVE, Role.PARAMETER, doc="standard deviation of the Gaussian noise per coordinate and step")
Pp, succ, jfr, jfm, cpj, gamma, sigma = (s.s for s in (P_, SUCC_, JFR_, JFM_, CPJ_, GAMMA_, SIGMA_))
_JF_SYMBOLS = (P_, SUCC_, JFR_, JFM_, CPJ_, GAMMA_, SIGMA_)
_JF_SEARCH = (
    Assumption("search_gamma", gamma <= 2, "the numeric search draws gamma in (0, 2]"),
    Assumption("search_sigma", sigma <= 1, "the numeric search draws sigma in (0, 1]"),
)
_JF_CITE = Citation(SLIDES, "Junk-flow and cross-predictability, Theorem", "seed 000, lines 821-827")
CORRECTED_BOUND = sympy.Rational(1, 2) + sympy.Rational(1, 2) * cpj ** sympy.Rational(1, 4) * (1 + jfr / sigma)
JF_NOTE = ("P is estimated from `trials` independent runs per instance (F drawn uniformly from the class, the "
           "noise and the test input X from the counter-based generator keyed by the trial id); JF_rms is "
           "computed per trial along that trial's junk trajectory and averaged over the trials, which by "
           "Jensen is at most the theorem's JF_rms (expectation over W* inside the square root): the check "
           "is stricter than the theorem")

junk_flow = Theorem(
    id="cp.junk_flow",
    title="Junk-flow bound: noisy population GD cannot beat 1/2 by more than CP^{1/4} times the junk flow",
    citation=_JF_CITE,
    symbols=_JF_SYMBOLS,
    structure=(Structural("cube_networks", "cube_networks",
                          "a DAG network (n+1 inputs incl. a constant, one output, tanh hidden vertices) started at "
                          "w0, P_F a class of parities on {+-1}^n, square or correlation loss"),),
    dynamics="noisy_population_gd",
    search=_JF_SEARCH,
    claims=(
        Claim(
            "junk_flow_printed", Pp <= sympy.Rational(1, 2) + jfm * cpj ** sympy.Rational(1, 4) / sigma,
            "P{W_F^(T)(X) = F(X)} <= 1/2 + JF CP^{1/4} / sigma with JF = sum_t gamma ||E_{D_*} grad L^(t)|| "
            "(as printed, with the corrected CP)",
            kind=ClaimKind.PROBABILITY, event=sympy.Ge(succ, 1), trials=400, confidence=0.99,
            printed=True, corrected_by="junk_flow", plot_x="cp",
            note="false: with the correlation loss E_{D_*} grad L = 0, so JF = 0, yet noisy GD learns a dictator "
                 "with probability ~1 (THEOREMS.md 4.3). " + JF_NOTE,
        ),
        Claim(
            "junk_flow", Pp <= CORRECTED_BOUND,
            "P{W_F^(T)(X) = F(X)} <= 1/2 + (1/2) CP^{1/4} (1 + JF_rms / sigma), "
            "JF_rms = sum_t gamma (E_{W*} E_{D_*} ||grad L(W*_{t-1})||^2)^{1/2}",
            kind=ClaimKind.PROBABILITY, event=sympy.Ge(succ, 1), trials=400, confidence=0.99, plot_x="cp",
            note="corrected statement (second moment from the seed's own step 6, the 1/2 CP^{1/4} term for "
                 "P{W_*(X) = F(X)}, the hybrid sum over t). " + JF_NOTE,
        ),
    ),
    dims=(2, 3, 4, 5, 6),
    horizon=4,
    depends_on=("cp.junk_gradient_bound", "cp.gaussian_pinsker"),
    note="noisy population GD with exact gradients over {+-1}^n; success = correct sign at a fresh sample",
)

k_parity_mechanism = Theorem(
    id="cp.k_parity_mechanism",
    title="The corollary's mechanism: for degree-k parities the junk-flow bound falls with CP = 1/C(n, k)",
    citation=Citation(SLIDES, "Corollary (monomials of degree k)", "seed 000, line 496"),
    symbols=_JF_SYMBOLS,
    structure=(Structural("cube_networks_k_parities", "cube_networks_k_parities",
                          "a DAG network started at w0, P_F uniform over the degree-k parities on {+-1}^6, k = 1..6"),),
    dynamics="noisy_population_gd",
    search=_JF_SEARCH,
    claims=(
        Claim(
            "success_under_bound", Pp <= CORRECTED_BOUND,
            "for k-parities at n = 6, P{W_F^(T)(X) = F(X)} <= 1/2 + (1/2) C(6, k)^{-1/4} (1 + JF_rms / sigma)",
            kind=ClaimKind.PROBABILITY, event=sympy.Ge(succ, 1), trials=400, confidence=0.99, plot_x="k",
            note="the bound is smallest at k = n/2 = 3 (CP = 1/20); " + JF_NOTE,
        ),
    ),
    dims=(6,),
    horizon=4,
    depends_on=("cp.junk_flow", "cp.k_parities"),
)

THEOREMS = [cp_parities, cp_k_parities, cp_dictators, cp_point_mass, cp_parities_sampled, cp_k_parities_sampled,
            cp_dictators_sampled, junk_gradient_bound, gaussian_pinsker, junk_flow, k_parity_mechanism]
