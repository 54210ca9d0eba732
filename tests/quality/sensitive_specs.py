"""True claims whose bounds are hypersensitive to the instance class's constants (finding 8 of
issue 17): at kappa -> 1 and large N the bound ((kappa - 1)/(kappa + 1))^(2N) is astronomically
small, so constants stored an ulp on the wrong side of the instance's true ones refute it."""

from __future__ import annotations

from theorems.catalogue import pl as P
from theorems.spec import Assumption, Citation, Claim, ClaimKind, Theorem

L, mu, eta, D1, DF, t = P.L, P.mu, P.eta, P.D1, P.DF, P.t

gd_strongly_convex_rate = Theorem(
    id="quality.rsi_optimal_step_rate",
    title="GD with eta = 2/(L + mu): ||w_N - w*||^2 <= ((kappa - 1)/(kappa + 1))^(2N) ||w_0 - w*||^2",
    citation=Citation("Nesterov, Introductory Lectures on Convex Optimization", "Theorem 2.1.15"),
    # eta is drawn at its upper bound, 2/(L + mu): the statement is about that step size only.
    symbols=(P.L_, P.MU_, P.ETA_UPPER_, P.D1_, P.DF_, P.T_),
    structure=(P.RSI,),
    dynamics="gd_pl",
    assumptions=(Assumption("mu_le_L", mu <= L),
                 Assumption("optimal_step", eta <= 2 / (L + mu))),
    claims=(Claim("optimal_rate", D1 <= ((L - mu) / (L + mu)) ** (2 * (t + 1)) * DF,
                  "the optimal-step contraction of GD on a mu-strongly convex L-smooth function",
                  kind=ClaimKind.PER_STEP),),
    horizon=60,
)

THEOREMS = [gd_strongly_convex_rate]
