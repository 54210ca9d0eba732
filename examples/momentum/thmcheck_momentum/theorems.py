"""Momentum methods: Nesterov's O(1/k^2) rate on smooth convex functions, and the heavy ball with
Polyak's parameters -- its rate on strongly convex quadratics, and the same rate claimed for every
L-smooth mu-strongly convex function (folklore, refuted by Lessard, Recht and Packard).

Heavy-ball bound, with ``rho = (sqrt(L) - sqrt(mu)) / (sqrt(L) + sqrt(mu))``, ``alpha = 4 / (sqrt(L) +
sqrt(mu))^2``, ``beta = rho^2`` and ``x_{-1} = x_0``: ``||x_k - x*|| <= (1 + (1 + rho) k) rho^k ||x_0 - x*||``.
On a quadratic each eigen-direction (eigenvalue lambda in [mu, L]) follows
``e_{k+1} = (1 + beta - alpha lambda) e_k - beta e_{k-1}``, whose characteristic roots have modulus rho
(the discriminant is <= 0 on [mu, L]).  Complex roots ``rho e^{+-i theta}`` with ``e_{-1} = e_0`` give
``e_k / rho^k = e_0 (cos k theta + ((cos theta - rho) / sin theta) sin k theta)``, and
``|sin k theta| <= k |sin theta|``, ``|cos theta - rho| <= 1 + rho``; the double roots at lambda = mu
(+rho) and lambda = L (-rho) give ``(1 + (1 -+ rho) k) rho^k``.  So the bound holds, and is attained
at lambda = L.  The claims below square both sides.
"""

from __future__ import annotations

import sympy

from theorems.spec import (
    Assumption,
    Citation,
    Claim,
    ClaimKind,
    Domain,
    Role,
    Structural,
    Sym,
    Theorem,
)

L_ = Sym("L", Domain.POSITIVE, Role.INSTANCE, "L", doc="smoothness constant of f")
MU_ = Sym("mu", Domain.POSITIVE, Role.INSTANCE, "mu", doc="strong convexity constant of f")
ALPHA_ = Sym("alpha", Domain.POSITIVE, Role.PARAMETER, draw="upper", doc="step size, Polyak's 4/(sqrt(L)+sqrt(mu))^2")
BETA_ = Sym("beta", Domain.NONNEGATIVE, Role.PARAMETER, draw="upper",
            doc="momentum, Polyak's ((sqrt(L)-sqrt(mu))/(sqrt(L)+sqrt(mu)))^2")
RHO_ = Sym("rho", Domain.NONNEGATIVE, Role.PARAMETER, draw="upper",
           doc="the rate (sqrt(L)-sqrt(mu))/(sqrt(L)+sqrt(mu)); pinned by an equality, beta = rho^2")
S_ = Sym("s", Domain.POSITIVE, Role.PARAMETER, draw="upper", doc="step size s = 1/L")
FK_ = Sym("Fk", Domain.NONNEGATIVE, Role.OBSERVABLE, "fgap_t", doc="f(x_k) - f*")
FN_ = Sym("FN", Domain.NONNEGATIVE, Role.OBSERVABLE, "fgap_last", doc="f(x_N) - f*")
DK_ = Sym("Dk", Domain.NONNEGATIVE, Role.OBSERVABLE, "dist2_t", doc="||x_k - x*||^2")
DN_ = Sym("DN", Domain.NONNEGATIVE, Role.OBSERVABLE, "dist2_last", doc="||x_N - x*||^2")
D0_ = Sym("D0", Domain.NONNEGATIVE, Role.OBSERVABLE, "dist2_first", doc="||x_0 - x*||^2")
K_ = Sym("k", Domain.NONNEGATIVE, Role.OBSERVABLE, "k_t", doc="step index k")
N_ = Sym("N", Domain.POSITIVE, Role.OBSERVABLE, "horizon", doc="number of steps N")
L, mu, alpha, rho, beta, s, Fk, FN, Dk, DN, D0, k, N = (
    x.s for x in (L_, MU_, ALPHA_, RHO_, BETA_, S_, FK_, FN_, DK_, DN_, D0_, K_, N_))

# ----------------------------------------------------------------------------------------- Nesterov

SBC = Citation(
    "Nesterov, A method for solving the convex programming problem with convergence rate O(1/k^2), "
    "Soviet Math. Dokl. 27 (1983); in the form of Su, Boyd and Candes, A differential equation for modeling "
    "Nesterov's accelerated gradient method, JMLR 17 (2016)",
    "the scheme x_k = y_{k-1} - s grad f(y_{k-1}), y_k = x_k + (k-1)/(k+2) (x_k - x_{k-1}) and its bound "
    "f(x_k) - f* <= 2 ||x_0 - x*||^2 / (s (k+1)^2) for s <= 1/L (SBC, Section 1; Theorem 6 with r = 3)",
)

nesterov_rate = Theorem(
    id="momentum.nesterov_rate",
    title="Nesterov's method with s = 1/L on L-smooth convex f: f(x_k) - f* <= 2 L ||x_0 - x*||^2 / (k+1)^2",
    citation=SBC,
    symbols=(L_, S_, FK_, FN_, D0_, K_, N_),
    structure=(Structural("smooth_convex", "smooth_convex", "f is convex and L-smooth with a minimiser x*"),),
    dynamics="nesterov",
    assumptions=(Assumption("step_size", sympy.Eq(s, 1 / L), "s = 1/L"),),
    claims=(
        Claim("rate", Fk <= 2 * L * D0 / (k + 1) ** 2,
              "f(x_k) - f* <= 2 L ||x_0 - x*||^2 / (k+1)^2 for every k = 0..N"),
        Claim("rate_last", FN <= 2 * L * D0 / (N + 1) ** 2,
              "f(x_N) - f* <= 2 L ||x_0 - x*||^2 / (N+1)^2", kind=ClaimKind.TRAJECTORY),
    ),
    horizon=50,
    dims=(1, 2, 3, 5),
    note="x_{-1} = x_0, so y_0 = x_0 and y_1 = x_1 (the momentum factor (k-1)/(k+2) is 0 at k = 1).",
)

# ------------------------------------------------------------------------------------- heavy ball

# rho is a parameter pinned by an equality (drawn before beta, which reads it) rather than an
# expression inside beta's equality: the bound SymPy derives for beta from
# Eq(beta, ((sqrt(L) - sqrt(mu)) / (sqrt(L) + sqrt(mu)))^2) is expanded to
# (L + mu - 2 sqrt(L mu)) / (L + mu + 2 sqrt(L mu)), whose float64 value loses ~20 ulps to cancellation at
# kappa = 2, more than the equality check's allowance; (sqrt(L) - sqrt(mu)) / (sqrt(L) + sqrt(mu)) keeps it.
POLYAK = (
    Assumption("polyak_alpha", sympy.Eq(alpha, 4 / (sympy.sqrt(L) + sympy.sqrt(mu)) ** 2),
               "alpha = 4 / (sqrt(L) + sqrt(mu))^2"),
    Assumption("polyak_rho", sympy.Eq(rho, (sympy.sqrt(L) - sympy.sqrt(mu)) / (sympy.sqrt(L) + sympy.sqrt(mu))),
               "rho = (sqrt(L) - sqrt(mu)) / (sqrt(L) + sqrt(mu))"),
    Assumption("polyak_beta", sympy.Eq(beta, rho**2), "beta = rho^2 = ((sqrt(L) - sqrt(mu)) / (sqrt(L) + sqrt(mu)))^2"),
    Assumption("mu_le_L", mu <= L, "0 < mu <= L"),
)
HB_SYMBOLS = (L_, MU_, ALPHA_, RHO_, BETA_, DK_, DN_, D0_, K_, N_)
HB_RATE = Dk <= (1 + (1 + rho) * k) ** 2 * rho ** (2 * k) * D0
HB_RATE_TEXT = ("||x_k - x*||^2 <= (1 + (1 + rho) k)^2 rho^(2k) ||x_0 - x*||^2 for every k = 0..N, "
                "rho = (sqrt(L) - sqrt(mu)) / (sqrt(L) + sqrt(mu))")
POLYAK_1964 = Citation(
    "Polyak, Some methods of speeding up the convergence of iteration methods, USSR Comput. Math. Math. Phys. "
    "4(5) (1964)",
    "heavy ball with alpha = 4/(sqrt(L)+sqrt(mu))^2, beta = rho^2 on quadratics (rate rho; the factor "
    "1 + (1+rho) k for x_{-1} = x_0 is derived in this module's docstring)",
)

heavy_ball_quadratic = Theorem(
    id="momentum.heavy_ball_quadratic",
    title="Heavy ball with Polyak's parameters on mu-strongly convex L-smooth quadratics: "
          "||x_k - x*|| <= (1 + (1+rho) k) rho^k ||x_0 - x*||",
    citation=POLYAK_1964,
    symbols=HB_SYMBOLS,
    structure=(Structural("quadratic", "strongly_convex_quadratic",
                          "f is a quadratic whose Hessian has every eigenvalue in [mu, L]"),),
    dynamics="heavy_ball",
    assumptions=POLYAK,
    claims=(
        Claim("rate", HB_RATE, HB_RATE_TEXT + "; attained (ratio 1) along an eigenvector of eigenvalue L"),
        Claim("rate_last", DN <= (1 + (1 + rho) * N) ** 2 * rho ** (2 * N) * D0,
              "the same bound at the last step N", kind=ClaimKind.TRAJECTORY),
    ),
    horizon=40,
    dims=(1, 2, 3, 5),
)

heavy_ball_global = Theorem(
    id="momentum.heavy_ball_global",
    title="Heavy ball with Polyak's parameters on every L-smooth mu-strongly convex f (folklore; false)",
    citation=Citation(
        "Lessard, Recht, Packard, Analysis and design of optimization algorithms via integral quadratic "
        "constraints, SIAM J. Optim. 26(1) (2016)",
        "Section 4.6: the heavy ball with Polyak's parameters, stated to converge at rate rho for all "
        "L-smooth mu-strongly convex f, fails to converge on a 1-D piecewise quadratic with kappa = 25",
    ),
    symbols=HB_SYMBOLS,
    structure=(Structural("smooth_strongly_convex", "smooth_strongly_convex_pwq",
                          "f is L-smooth and mu-strongly convex (searched over piecewise-quadratic functions with "
                          "every curvature in [mu, L])"),),
    dynamics="heavy_ball",
    assumptions=POLYAK,
    claims=(
        Claim("rate", HB_RATE, HB_RATE_TEXT + ", claimed for every L-smooth mu-strongly convex f",
              printed=True, corrected_by="momentum.heavy_ball_quadratic::rate",
              note="The folklore statement as printed; it holds on quadratics "
                   "(momentum.heavy_ball_quadratic::rate), which is its corrected form."),
    ),
    horizon=40,
    dims=(1, 2, 3),
    note="The generator draws generic piecewise quadratics (random curvature values or random choices among "
         "{mu, L}, 1 to 32 pieces, kappa in [2, 100]); no instance is shaped after the published counterexample.",
)

THEOREMS = [nesterov_rate, heavy_ball_quadratic, heavy_ball_global]
