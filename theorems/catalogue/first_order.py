"""Exact worst cases of gradient descent, checked on the generic first-order classes a user would
name: "f is L-smooth" (``lsmooth``) and "f is convex and L-smooth" (``lsmooth_convex``), whose members
are rotated separable piecewise quadratics with free breakpoints and curvatures (no generator is
shaped after the answers).

* the nonconvex results of :mod:`theorems.catalogue.pep` (``min_t ||grad f(x_t)||^2 <= 4 L (f(x_0) -
  f(x_N)) / (3N)`` at eta = 1/L, and the one-step decrease at eta = h/L), here on ``lsmooth`` in one
  to three variables;
* Drori and Teboulle's ``f(x_N) - f* <= L ||x_0 - x*||^2 / (4N + 2)`` for GD with eta = 1/L on
  convex L-smooth f, exact (attained by a Huber function);
* ``||grad f(x_N)||^2 <= L^2 ||x_0 - x*||^2 / (N + 1)^2`` for the same method, exact (Taylor,
  Hendrickx and Glineur; attained by a Huber function).

``x*`` is the minimiser nearest to x_0 (the statements hold for every minimiser, so the nearest
gives the tightest bound).  False variants at 0.99x the exact values live in
``tests/quality/variants_first_order.py``.
"""

from __future__ import annotations

from typing import Any

import sympy

from theorems.spec import (
    Assumption,
    Citation,
    Claim,
    ClaimKind,
    Domain,
    ExactWorst,
    PepSetup,
    Role,
    Structural,
    Sym,
    Theorem,
    Verdict,
)

from theorems.catalogue import pep

SMOOTH = Structural("smooth", "lsmooth", "f is L-smooth")
SMOOTH_CONVEX = Structural("smooth_convex", "lsmooth_convex", "f is convex and L-smooth with a minimiser x*")
DIMS = (1, 2, 3)

DT = Citation("Drori and Teboulle, Performance of first-order methods for smooth convex minimization: a novel "
              "approach, Math. Program. 145 (2014)", "Theorem 3.1 (GD with step 1/L), tight by Theorem 3.2")
THG = Citation("Taylor, Hendrickx and Glineur, Smooth strongly convex interpolation and exact worst-case performance "
               "of first-order methods, Math. Program. 161 (2017)",
               "gradient norm of GD with step h/L, h <= 1: ||grad f(x_N)|| <= L ||x_0 - x*|| / (N h + 1), tight")

L_ = Sym("L", Domain.POSITIVE, Role.INSTANCE, "L", doc="smoothness constant of f")
ETA_ = Sym("eta", Domain.POSITIVE, Role.PARAMETER, doc="step size")
FN_ = Sym("FN", Domain.NONNEGATIVE, Role.OBSERVABLE, "fgap_last", doc="f(x_N) - f*")
GN_ = Sym("GN", Domain.NONNEGATIVE, Role.OBSERVABLE, "gnorm2_last", doc="||grad f(x_N)||^2")
D0_ = Sym("D0", Domain.NONNEGATIVE, Role.OBSERVABLE, "dist2_first", doc="||x_0 - x*||^2")
N_ = Sym("N", Domain.POSITIVE, Role.OBSERVABLE, "horizon", doc="number of steps N")
L, eta, FN, GN, D0, N = (s.s for s in (L_, ETA_, FN_, GN_, D0_, N_))

CONVEX_STEPS = (1, 5, 10)
STEP = (Assumption("step_size", sympy.Eq(eta, 1 / L), "eta = 1/L"),)


def convex_value_theorem(n_steps: int, factor: sympy.Expr = sympy.Integer(1), *, tid: str | None = None,
                         citation: Citation = DT, expect: Verdict | None = None) -> Theorem:
    """``f(x_N) - f* <= factor * L ||x_0 - x*||^2 / (4N + 2)``, GD with eta = 1/L on convex L-smooth f."""
    return Theorem(
        id=tid or f"first_order.gd_convex_value_n{n_steps}",
        title=f"GD with step 1/L on convex L-smooth f: f(x_N) - f* <= L ||x_0 - x*||^2 / (4N + 2), N = {n_steps}",
        citation=citation,
        symbols=(L_, ETA_, FN_, D0_, N_),
        structure=(SMOOTH_CONVEX,),
        dynamics="fo_gd",
        assumptions=STEP,
        claims=(Claim(
            "value_gap",
            FN <= factor * L * D0 / (4 * N + 2),
            f"f(x_N) - f* <= {'' if factor == 1 else str(factor) + ' * '}L ||x_0 - x*||^2 / (4N + 2)",
            kind=ClaimKind.TRAJECTORY, expect=expect,
            exact_worst=ExactWorst(float(1 / factor), bound=float(factor) / (4 * n_steps + 2),
                                   unit="f(x_N) - f* at L = 1, ||x_0 - x*|| = 1",
                                   source="Drori and Teboulle 2014, exact (attained by a Huber function)"),
            pep=PepSetup("smooth_convex", "value_gap", n_steps, 1.0),
        ),),
        horizon=n_steps,
        dims=DIMS,
    )


def convex_gradient_theorem(n_steps: int, factor: sympy.Expr = sympy.Integer(1), *, tid: str | None = None,
                            citation: Citation = THG, expect: Verdict | None = None) -> Theorem:
    """``||grad f(x_N)||^2 <= factor * L^2 ||x_0 - x*||^2 / (N + 1)^2``, GD with eta = 1/L."""
    return Theorem(
        id=tid or f"first_order.gd_convex_gradient_n{n_steps}",
        title=f"GD with step 1/L on convex L-smooth f: ||grad f(x_N)||^2 <= L^2 ||x_0 - x*||^2 / (N + 1)^2, "
              f"N = {n_steps}",
        citation=citation,
        symbols=(L_, ETA_, GN_, D0_, N_),
        structure=(SMOOTH_CONVEX,),
        dynamics="fo_gd",
        assumptions=STEP,
        claims=(Claim(
            "last_gradient",
            GN <= factor * L**2 * D0 / (N + 1) ** 2,
            f"||grad f(x_N)||^2 <= {'' if factor == 1 else str(factor) + ' * '}L^2 ||x_0 - x*||^2 / (N + 1)^2",
            kind=ClaimKind.TRAJECTORY, expect=expect,
            exact_worst=ExactWorst(float(1 / factor), bound=float(factor) / (n_steps + 1) ** 2,
                                   unit="||grad f(x_N)||^2 at L = 1, ||x_0 - x*|| = 1",
                                   source="Taylor, Hendrickx and Glineur 2017, exact (attained by a Huber function)"),
            pep=PepSetup("smooth_convex", "last_gradient", n_steps, 1.0),
        ),),
        horizon=n_steps,
        dims=DIMS,
    )


def min_grad_theorem(n_steps: int, factor: sympy.Expr = sympy.Integer(1), **kw: Any) -> Theorem:
    """:func:`theorems.catalogue.pep.min_grad_theorem` on the generic class ``lsmooth``."""
    kw.setdefault("tid", f"first_order.gd_min_grad_n{n_steps}")
    return pep.min_grad_theorem(n_steps, factor, structure=SMOOTH, dynamics="fo_gd", dims=DIMS, **kw)


def one_step_theorem(h: str, factor: sympy.Expr = sympy.Integer(1), **kw: Any) -> Theorem:
    """:func:`theorems.catalogue.pep.one_step_theorem` on the generic class ``lsmooth``."""
    kw.setdefault("tid", f"first_order.gd_one_step_h{h.replace('.', '_')}")
    return pep.one_step_theorem(h, factor, structure=SMOOTH, dynamics="fo_gd", dims=DIMS, **kw)


THEOREMS = ([min_grad_theorem(n) for n in pep.MIN_GRAD_STEPS] + [one_step_theorem(h) for h in pep.ONE_STEP_H]
            + [convex_value_theorem(n) for n in CONVEX_STEPS] + [convex_gradient_theorem(n) for n in CONVEX_STEPS])
