"""Problem 13.1.1: gradient descent on an over-parameterized logistic loss explodes for large steps.

Source: Arora et al., *Theory of Deep Learning* (draft), chapter 13 (seed 004, paragraph 3273);
statement and erratum in THEOREMS.md section 6 (6.1 and 6.3).  For ``l(w_1..w_k) = l_hat(prod_i w_i)``,
``l_hat`` the logistic loss of a one-dimensional linear model with minimiser ``W* > 0``, the seed claims
that ``eta > (2/|l_hat'(W_0)|) |W_0|^(1/k - 1)`` and ``W_0 > W* > 0`` make ``W_t = prod_i w_i`` explode.

Test instances (``numeric.families.overparam``): random non-separable data sets and THEOREMS.md's data set,
``k`` in {2..6} (the spec's ``dims``), equal start ``w_i = w_0``, ``W_0 / W*`` in [1.03, 17].  Dynamics
``gd_product``; "explodes" is read as ``|W_t| > 10^6`` (the dynamics' ``explode_level`` setting) for some
``t <= T``.

Erratum encoded here (THEOREMS.md 6.3): with equal factors the update is ``w' = w (1 - eta l_hat'(W) w^(k-2))``,
so the threshold exponent is ``2/k - 1``, not ``1/k - 1``.  The printed claim is refuted wherever
``W_0 > 1`` (then the printed threshold is below the true one by the factor ``W_0^(1/k)``).
"""

from __future__ import annotations

import sympy

from theorems.spec import Assumption, Citation, Claim, ClaimKind, Domain, Role, Structural, Sym, Theorem

BOOK = "Arora et al., Theory of Deep Learning (draft)"
OVERPARAM = Structural(
    "overparam", "overparam_logistic",
    "l(w_1..w_k) = l_hat(w_1 ... w_k) with l_hat the logistic loss of a 1-D linear model on a data set, "
    "minimised at W* > 0; equal start w_i = w_0 > 0 with W_0 = w_0^k > W*",
)

W0_ = Sym("W0", Domain.POSITIVE, Role.INSTANCE, "W0", doc="W_0 = prod_i w_i(0) = w_0^k")
WS_ = Sym("Wstar", Domain.POSITIVE, Role.INSTANCE, "Wstar", doc="the minimiser W* of l_hat")
K_ = Sym("k", Domain.POSITIVE_INTEGER, Role.INSTANCE, "k", doc="number of factors")
LP_ = Sym("lp", Domain.POSITIVE, Role.INSTANCE, "lprime0", doc="|l_hat'(W_0)| (positive since W_0 > W*)")
ETA_ = Sym("eta", Domain.POSITIVE, Role.PARAMETER, doc="step size")
EX_ = Sym("exploded", Domain.NONNEGATIVE, Role.OBSERVABLE, "exploded",
          doc="1 if |W_t| > 10^6 for some t <= T, else 0")
W0, Wstar, k, lp, eta, exploded = (s.s for s in (W0_, WS_, K_, LP_, ETA_, EX_))

#: The margin of the corrected claim over the true threshold, and the horizon it needs (see the note).
MARGIN = sympy.Rational(21, 20)
PRINTED_THRESHOLD = 2 / lp * W0 ** (1 / k - 1)
TRUE_THRESHOLD = 2 / lp * W0 ** (2 / k - 1)
HORIZON = 150

problem_13_1_1 = Theorem(
    id="overparam.problem_13_1_1",
    title="GD on an over-parameterized logistic loss: the product of the weights explodes above a step-size threshold",
    citation=Citation(BOOK, "Problem 13.1.1 (threshold exponent corrected, THEOREMS.md 6.3)", "seed 004, paragraph 3273"),
    symbols=(W0_, WS_, K_, LP_, ETA_, EX_),
    structure=(OVERPARAM,),
    dynamics="gd_product",
    assumptions=(Assumption("above_minimiser", W0 > Wstar, "W_0 > W* > 0 (W* > 0 is the symbol's domain)"),),
    search=(Assumption("search_range", eta <= 3 * sympy.Max(PRINTED_THRESHOLD, TRUE_THRESHOLD),
                       "the numeric search draws eta up to three times the larger of the two thresholds"),),
    claims=(
        Claim("explodes_as_printed", exploded >= 1,
              "as printed: eta > (2/|l_hat'(W_0)|) |W_0|^(1/k - 1) and W_0 > W* > 0 => W_t = prod_i w_i explodes "
              "(|W_t| > 10^6 within T steps)",
              kind=ClaimKind.TRAJECTORY, printed=True, corrected_by="explodes",
              assumptions=(Assumption("printed_step", eta > PRINTED_THRESHOLD, "the printed threshold"),),
              plot_x="eta"),
        Claim("explodes", exploded >= 1,
              "corrected: eta >= 1.05 (2/|l_hat'(W_0)|) |W_0|^(2/k - 1) and W_0 > W* > 0 => |W_t| > 10^6 for some "
              "t <= T = 150",
              kind=ClaimKind.TRAJECTORY,
              assumptions=(Assumption("step_margin", eta >= MARGIN * TRUE_THRESHOLD,
                                      "5% above the true threshold (exactly at it there is no explosion: w_t "
                                      "stays put to first order)",
                                      relax=(eta >= TRUE_THRESHOLD, eta >= PRINTED_THRESHOLD)),),
              note="why 1.05 and T = 150: write a_t = eta l_hat'(W_t) w_t^(k-2).  If a_0 > 2 then, by induction, "
                   "|w_{t+1}| = (a_t - 1)|w_t| and a_t >= a_0: |w_t| >= w_0 gives |W_t| >= W_0 > W*, l_hat' is "
                   "increasing with l_hat'(-V) = 2 l_hat'(0) - l_hat'(V), so |l_hat'(W_t)| >= l_hat'(|W_t|) >= "
                   "l_hat'(W_0), and sign(l_hat'(W_t)) = sign(W_t) = sign(w_t^(k-2)) makes a_t > 0 (odd k "
                   "alternates the sign of W_t).  Hence |W_t| >= (a_0 - 1)^(k t) W_0.  At eta >= 1.05 x the "
                   "threshold a_0 >= 2.1, so |W_t| >= 1.1^(2t) W_0 > 10^6 by t = 109 for every W_0 >= 10^-3 "
                   "(the class box); T = 150 leaves room.  With margin 1 (a_0 -> 2+) the growth factor tends "
                   "to 1 and no finite horizon suffices, so the strict form with c = 1 is false at any T.",
              plot_x="eta"),
    ),
    horizon=HORIZON,
    dims=(2, 3, 4, 5, 6),
    note="k is the knob 'dim'; the explosion level (10^6), the margin 1.05, the horizon 150 and the class box "
         "W_0 >= 10^-3 go together: T >= ln(level / W_0) / (2 ln(2 c - 1)).  The printed claim fails on "
         "instances with W_0 > 1 and eta between the printed and the true threshold (THEOREMS.md: x = (1, 2, -1, "
         "0.5), y = (1, 1, 1, -1), k = 4, W_0 = 3, eta = 0.776: W goes 3 -> 1 -> 0.117 -> ... and converges)",
)

THEOREMS = [problem_13_1_1]
