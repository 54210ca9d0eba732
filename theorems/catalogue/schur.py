"""Family 3: Schur product bounds and where the over-parameterization notes use them.

Sources: Soltanolkotabi, over-parameterization slides (seed 003: Schur 1913, lines 362-368; the
Jacobian Hadamard structure, lines 354-372) and Arora et al., *Theory of Deep Learning* (seed 004,
(9.8) at paragraph 2189 and Exercise 9.6.3 at paragraphs 2410-2422).

Matrices enter the derivations through scalar summaries: extreme eigenvalues (``lmin_AB`` =
lambda_min(A o B), ...), extreme diagonal entries of B, and the eigenvalues of the auxiliary
matrices of the shift argument (``S`` = lambda_min((A - lambda_min(A) I) o B), ...), whose
matrix-level properties (Schur product theorem, Weyl's inequality, the spectrum of a diagonal
matrix) enter as Facts with notes.  Every claim is one inequality per drawn instance
(``ClaimKind.TRAJECTORY``); the adapters (``numeric.families.schur``) compute the eigenvalues, with tolerance
``64 eps * n ||M||_2`` per eigenvalue (see the adapters' ``scale_of``).
"""

from __future__ import annotations

import sympy

from theorems.spec import (
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
    Verdict,
)

SLIDES = "Soltanolkotabi, over-parameterization lecture notes"
BOOK = "Arora et al., Theory of Deep Learning (draft)"
TRAJ = ClaimKind.TRAJECTORY


def _obs(name: str, source: str, doc: str, domain: Domain = Domain.REAL) -> Sym:
    return Sym(name, domain, Role.OBSERVABLE, source, doc=doc)


# Observables of the "spectra" adapter.
LMIN_AB_ = _obs("lmin_AB", "lmin_AB", "lambda_min(A o B)")
LMAX_AB_ = _obs("lmax_AB", "lmax_AB", "lambda_max(A o B)")
LMIN_A_ = _obs("lmin_A", "lmin_A", "lambda_min(A) (computed; A PSD is the instance class, not this number's sign)")
LMAX_A_ = _obs("lmax_A", "lmax_A", "lambda_max(A)")
BMIN_PSD_ = _obs("bmin", "bmin", "min_i B_ii (>= 0 for PSD B)", Domain.NONNEGATIVE)
BMAX_PSD_ = _obs("bmax", "bmax", "max_i B_ii (>= 0 for PSD B)", Domain.NONNEGATIVE)
BMIN_ = _obs("bmin", "bmin", "min_i B_ii")
BMAX_ = _obs("bmax", "bmax", "max_i B_ii")
# Derivation-only scalars.
S_ = Sym("S", Domain.REAL, doc="lambda_min((A - lambda_min(A) I) o B)")
T_ = Sym("Tm", Domain.REAL, doc="lambda_min((lambda_max(A) I - A) o B)")
M_ = Sym("m", Domain.REAL, doc="lambda_min(lambda_min(A) Diag(B))")
M2_ = Sym("m2", Domain.REAL, doc="lambda_max(lambda_max(A) Diag(B))")
BS_ = Sym("bsel", Domain.REAL, doc="the diagonal entry B_jj at which lambda_min(A) B_jj is smallest")
BS2_ = Sym("bsel2", Domain.REAL, doc="the diagonal entry B_jj at which lambda_max(A) B_jj is largest")

lmin_AB, lmax_AB, lmin_A, lmax_A = (s.s for s in (LMIN_AB_, LMAX_AB_, LMIN_A_, LMAX_A_))
S, Tm, m, m2, bsel, bsel2 = (s.s for s in (S_, T_, M_, M2_, BS_, BS2_))


def _facts(bmin: sympy.Symbol, bmax: sympy.Symbol) -> tuple[Fact, ...]:
    return (
        Fact("schur_shift", S >= 0,
             "A - lambda_min(A) I is PSD and B is PSD, so their Hadamard product is PSD "
             "(Schur product theorem, step 1: A o B is a principal submatrix of A (x) B)"),
        Fact("weyl_low", lmin_AB >= S + m,
             "A o B = (A - lambda_min(A) I) o B + lambda_min(A) Diag(B); Weyl: "
             "lambda_min(X + Y) >= lambda_min(X) + lambda_min(Y)"),
        Fact("diag_low", sympy.Eq(m, lmin_A * bsel),
             "the eigenvalues of the diagonal matrix lambda_min(A) Diag(B) are lambda_min(A) B_jj"),
        Fact("bsel_low", bsel >= bmin, "bsel is a diagonal entry of B"),
        Fact("a_psd_low", lmin_A >= 0, "hypothesis A PSD (the instance class): lambda_min(A) >= 0"),
        Fact("schur_shift_up", Tm >= 0,
             "lambda_max(A) I - A is PSD and B is PSD, so their Hadamard product is PSD (step 1)"),
        Fact("weyl_up", lmax_AB <= m2 - Tm,
             "A o B = lambda_max(A) Diag(B) - (lambda_max(A) I - A) o B; Weyl: "
             "lambda_max(X - Y) <= lambda_max(X) - lambda_min(Y)"),
        Fact("diag_up", sympy.Eq(m2, lmax_A * bsel2),
             "the eigenvalues of lambda_max(A) Diag(B) are lambda_max(A) B_jj"),
        Fact("bsel_up", bsel2 <= bmax, "bsel2 is a diagonal entry of B"),
        Fact("a_psd_up", lmax_A >= 0, "hypothesis A PSD: lambda_max(A) >= lambda_min(A) >= 0"),
    )


def _lower_proof(bmin: sympy.Symbol, *, printed: bool = False) -> Derivation:
    last = ("bsel_low",) if printed else ("bsel_low", "a_psd_low")
    return Derivation(
        "lower_bound", lmin_AB,
        (
            Step(">=", S + m, Uses(("weyl_low",))),
            Step(">=", m, Uses(("schur_shift",), "the shifted product is PSD")),
            Step("==", lmin_A * bsel, Uses(("diag_low",))),
            Step(">=", lmin_A * bmin, Uses(last, "lambda_min(A) Diag(B) >= lambda_min(A) min_i B_ii I")),
        ),
        name="shift_without_psd_a" if printed else "proof",
        printed=printed,
        note=("the shift argument with the hypothesis lambda_min(A) >= 0 left out: its last step "
              "(multiplying bsel >= min B_ii by lambda_min(A)) is refuted") if printed else "",
    )


def _upper_proof(bmax: sympy.Symbol) -> Derivation:
    return Derivation(
        "upper_bound", lmax_AB,
        (
            Step("<=", m2 - Tm, Uses(("weyl_up",))),
            Step("<=", m2, Uses(("schur_shift_up",))),
            Step("==", lmax_A * bsel2, Uses(("diag_up",))),
            Step("<=", lmax_A * bmax, Uses(("bsel_up", "a_psd_up"))),
        ),
    )


_DIMS = (2, 3, 4, 6, 8, 16, 32, 64)
# The true bounds are also searched on large matrices (the n up to 256); the
# hypothesis-dropped variants find their counterexamples at small n.
_DIMS_LARGE = _DIMS + (128, 256)
_CITE = Citation(SLIDES, "Theorem (Schur 1913)", "seed 003, lines 362-368")
_SYMS_PSD = (LMIN_AB_, LMAX_AB_, LMIN_A_, LMAX_A_, BMIN_PSD_, BMAX_PSD_, S_, T_, M_, M2_, BS_, BS2_)
_SYMS = (LMIN_AB_, LMAX_AB_, LMIN_A_, LMAX_A_, BMIN_, BMAX_, S_, T_, M_, M2_, BS_, BS2_)
bmin_psd, bmax_psd = BMIN_PSD_.s, BMAX_PSD_.s
bmin, bmax = BMIN_.s, BMAX_.s

product_bounds = Theorem(
    id="schur.product_bounds",
    title="Schur product bounds: eigenvalues of A o B for PSD A, B",
    citation=_CITE,
    symbols=_SYMS_PSD,
    structure=(Structural("psd_pairs", "psd_pairs", "A and B are symmetric positive semidefinite n x n matrices",
                          relax=("psd_a_symmetric_b", "symmetric_a_psd_b")),),
    dynamics="spectra",
    facts=_facts(bmin_psd, bmax_psd),
    claims=(
        Claim("product_psd", lmin_AB >= 0, "A o B is PSD (Schur product theorem)", kind=TRAJ,
              note="checked numerically only: its proof is not a scalar algebra step"),
        Claim("lower_bound", lmin_AB >= bmin_psd * lmin_A,
              "lambda_min(A o B) >= (min_i B_ii) lambda_min(A); equality at B = 1 1^T", kind=TRAJ),
        Claim("upper_bound", lmax_AB <= bmax_psd * lmax_A,
              "lambda_max(A o B) <= (max_i B_ii) lambda_max(A); equality at B = 1 1^T", kind=TRAJ),
    ),
    derivations=(_lower_proof(bmin_psd), _upper_proof(bmax_psd)),
    dims=_DIMS_LARGE,
    horizon=1,
    note="instances: exact dyadic PSD pairs of controlled rank and conditioning, n <= 256, B = 1 1^T included",
)


def _dropped(tid: str, cls: str, text: str, title: str, derivations=()) -> Theorem:
    return Theorem(
        id=tid, title=title, citation=_CITE, symbols=_SYMS,
        structure=(Structural(cls, cls, text),), dynamics="spectra", facts=_facts(bmin, bmax),
        claims=(
            Claim("lower_bound", lmin_AB >= bmin * lmin_A,
                  "lambda_min(A o B) >= (min_i B_ii) lambda_min(A) without the hypothesis", kind=TRAJ,
                  expect=Verdict.FAIL),
            Claim("upper_bound", lmax_AB <= bmax * lmax_A,
                  "lambda_max(A o B) <= (max_i B_ii) lambda_max(A) without the hypothesis", kind=TRAJ,
                  expect=Verdict.FAIL),
        ),
        derivations=derivations, dims=(2, 3, 4, 8), horizon=1,
        note="necessity of the PSD hypothesis: both bounds are expected to be refuted",
    )


without_psd_b = _dropped(
    "schur.without_psd_b", "psd_a_symmetric_b", "A is PSD; B is only symmetric",
    "Schur bounds with the PSD hypothesis on B dropped (expected false; e.g. A = 1 1^T, B = [[1,2],[2,1]])",
)
without_psd_a = _dropped(
    "schur.without_psd_a", "symmetric_a_psd_b", "A is only symmetric; B is PSD",
    "Schur bounds with the PSD hypothesis on A dropped (expected false; e.g. A = diag(1,-1), B = diag(1,3))",
    derivations=(_lower_proof(bmin, printed=True),),
)


# --- Jacobian Gram identity (seed 003, lines 354-372) ------------------------------------------
GERR_ = _obs("gram_err", "gram_err", "max_ij |J J^T - (phi'(X W^T) diag(v o v) phi'(W X^T)) o (X X^T)|",
             Domain.NONNEGATIVE)
GERR0_ = _obs("gram_err_printed", "gram_err_printed", "max_ij |J J^T - (phi'(X W^T) phi'(W X^T)) o (X X^T)|",
              Domain.NONNEGATIVE)
LJJ_ = _obs("lmin_JJ", "lmin_JJ", "lambda_min(J J^T), J built explicitly")
LP_ = _obs("lmin_P", "lmin_P", "lambda_min(phi'(X W^T) diag(v o v) phi'(W X^T))")
XN_ = _obs("xnorm2_min", "xnorm2_min", "min_i ||x_i||^2 (the smallest diagonal entry of X X^T)", Domain.NONNEGATIVE)
LPK_ = Sym("lPK", Domain.REAL, doc="lambda_min(P o (X X^T)), P = phi'(X W^T) diag(v o v) phi'(W X^T)")
gerr, gerr0, lJJ, lP, xn2, lPK = (s.s for s in (GERR_, GERR0_, LJJ_, LP_, XN_, LPK_))

jacobian_gram = Theorem(
    id="schur.jacobian_gram",
    title="Hadamard structure of the Jacobian Gram matrix of a one-hidden-layer network",
    citation=Citation(SLIDES, "Jacobian Hadamard structure", "seed 003, lines 354-372"),
    symbols=(GERR_, GERR0_, LJJ_, LP_, XN_, LPK_),
    structure=(Structural("networks", "networks", "f(x) = v^T phi(W x), data X, any real W, v"),),
    dynamics="jacobian_gram",
    facts=(
        Fact("gram_identity", sympy.Eq(lJJ, lPK),
             "J J^T = P o (X X^T) (the corrected identity, checked numerically by claim gram_identity)"),
    ),
    claims=(
        Claim("gram_identity", gerr <= 0,
              "J J^T = (phi'(X W^T) diag(v o v) phi'(W X^T)) o (X X^T), entrywise to rounding", kind=TRAJ),
        Claim("gram_identity_printed", gerr0 <= 0,
              "as printed: J J^T = (phi'(X W^T) phi'(W X^T)) o (X X^T) (exact only when |v_l| = 1)",
              kind=TRAJ, printed=True, corrected_by="gram_identity"),
        Claim("schur_lower_bound", lJJ >= xn2 * lP,
              "lambda_min(J J^T) >= min_i ||x_i||^2 lambda_min(phi'(X W^T) diag(v o v) phi'(W X^T))", kind=TRAJ),
    ),
    derivations=(
        Derivation("schur_lower_bound", lJJ, (
            Step("==", lPK, Uses(("gram_identity",))),
            Step(">=", xn2 * lP, ByLemma("schur.product_bounds", "lower_bound",
                                         "A = P (a Gram matrix, PSD), B = X X^T (PSD, diagonal ||x_i||^2)")),
        )),
    ),
    depends_on=("schur.product_bounds",),
    dims=(2, 3, 5, 8, 16),
    horizon=1,
)


# --- ReLU NTK, Exercise 9.6.3 (seed 004) ---------------------------------------------------------
GAP_ = _obs("ntk_gap", "ntk_gap", "lambda_min(H* - K/4), H*_ij = K_ij (pi - arccos K_ij) / (2 pi)")
GAP0_ = _obs("ntk_gap_printed", "ntk_gap_printed", "lambda_min(H0 - K/4), H0_ij = (pi - arccos K_ij) / (2 pi)")
gap, gap0 = GAP_.s, GAP0_.s

ntk_lower = Theorem(
    id="schur.ntk_quarter",
    title="ReLU NTK on unit-norm data dominates K/4 (Exercise 9.6.3)",
    citation=Citation(BOOK, "eq. (9.8) and Exercise 9.6.3(a-b)", "seed 004, paragraphs 2189, 2410-2422"),
    symbols=(GAP_, GAP0_),
    structure=(Structural("unit_data", "unit_data", "||x_i|| = 1 for every data point"),),
    dynamics="ntk_spectra",
    claims=(
        Claim("h_star_ge_quarter_k", gap >= 0,
              "H* - K/4 is PSD for H*_ij = x_i^T x_j (pi - arccos(x_i^T x_j)) / (2 pi) (the series of part (a): "
              "K/4 plus Hadamard powers of K)", kind=TRAJ),
        Claim("h_star_ge_quarter_k_printed", gap0 >= 0,
              "as printed: H*_ij = (pi - arccos(x_i^T x_j)) / (2 pi) (the factor x_i^T x_j dropped) and H* >= K/4",
              kind=TRAJ, printed=True, corrected_by="h_star_ge_quarter_k"),
    ),
    dims=(2, 3, 4, 8, 16),
    horizon=1,
)

# --- Hermite lemma (seed 003, lines 207-221) -----------------------------------------------------
HG_ = _obs("herm_gap", "herm_gap", "lambda_min(Sigma(X) - mu_1(phi')^2 (X X^T) o (X X^T))")
HG0_ = _obs("herm_gap_printed", "herm_gap_printed", "lambda_min(Sigma(X) - mu_2(phi')^2 (X X^T) o (X X^T))")
MU1_ = _obs("mu1", "mu1", "mu_1(phi') = E[phi'(g) g] (Gauss-Hermite)")
MU2_ = _obs("mu2", "mu2", "mu_2(phi') = E[phi'(g) (g^2 - 1)] / sqrt(2) (Gauss-Hermite)")
ED2_ = _obs("Ephi2", "e_dphi2", "E[phi''(g)], g ~ N(0, 1)")
hg, hg0, mu1, mu2, ed2 = (s.s for s in (HG_, HG0_, MU1_, MU2_, ED2_))

hermite_lemma = Theorem(
    id="schur.hermite_lemma",
    title="Hermite lemma: Sigma(X) dominates mu_1(phi')^2 (X X^T) o (X X^T) on unit-norm data",
    citation=Citation(SLIDES, "Hermite Lemma", "seed 003, lines 207-221"),
    symbols=(HG_, HG0_, MU1_, MU2_, ED2_),
    structure=(Structural("unit_data_phi", "unit_data_phi", "||x_i|| = 1; phi in {softplus, erf}"),),
    dynamics="hermite_spectra",
    claims=(
        Claim("sigma_ge_mu1", hg >= 0,
              "Sigma(X) - mu_1(phi')^2 (X X^T) o (X X^T) is PSD (Sigma by exact expectation for erf, "
              "48-node Gauss-Hermite for softplus)", kind=TRAJ),
        Claim("sigma_ge_mu2_printed", hg0 >= 0,
              "as printed: Sigma(X) - mu_2(phi')^2 (X X^T) o (X X^T) is PSD (refuted for erf; trivial for softplus, "
              "where mu_2 = 0)", kind=TRAJ, printed=True, corrected_by="sigma_ge_mu1"),
        Claim("stein_mu1", sympy.Abs(mu1 - ed2) <= 0, "mu_1(phi') = E[phi''(g)] (Stein's lemma)", kind=TRAJ),
        Claim("stein_mu2_printed", sympy.Abs(mu2 - ed2) <= 0,
              "as printed: the coefficient mu_2(phi') equals E[phi''(g)]", kind=TRAJ, printed=True,
              corrected_by="stein_mu1"),
    ),
    depends_on=("schur.product_bounds",),
    dims=(2, 3, 4, 6, 8),
    horizon=1,
)

THEOREMS = [product_bounds, without_psd_b, without_psd_a, jacobian_gram, ntk_lower, hermite_lemma]
