"""Exact worst cases of gradient descent on L-smooth (nonconvex) functions, as tight claims.

The bounds below are the exact worst cases computed by performance estimation (PEP; values in
``shared/reference/pep-worst-cases.json``), each attained by a one-dimensional piecewise-quadratic
L-smooth function.  Their numeric check therefore runs on the class ``smooth_pwq`` (1-D
piecewise-quadratic C^{1,1} functions with every curvature in [-L, L]), whose polishing phase
(``numeric.engine.polish``) climbs to the worst case; a claim's record then says "bound X, exact worst case
Y, best found Z".  False variants at 0.99x these values live in ``tests/quality/variants_pep.py`` and
``benchmarks/bench_worst_case.py``.

* ``min_t ||grad f(x_t)||^2 <= 4 L (f(x_0) - f(x_N)) / (3 N)`` for N steps of GD with step 1/L (the
  PEP value; attained by the 1-D function whose derivative, along each step of length g/L, first
  falls with slope L and then rises back with slope L, so that every step decreases f by exactly
  3 g^2 / (4L) while |f'| stays g at the iterates);
* ``f(x_0) - f(x_1) >= (h - h^2/2) ||grad f(x_0)||^2 / L`` for one step of size h/L, attained by
  the quadratic with curvature L.
"""

from __future__ import annotations

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
)

PEP = Citation("Performance estimation (PEP) of GD on L-smooth functions; values computed with PEPit 0.5.1",
               "shared/reference/pep-worst-cases.json")
SMOOTH_1D = Structural("smooth", "smooth_pwq",
                       "f is L-smooth (searched over 1-D piecewise-quadratic functions with curvature in [-L, L], "
                       "the class that attains the worst cases)")

L_ = Sym("L", Domain.POSITIVE, Role.INSTANCE, "L", doc="smoothness constant of f")
ETA_ = Sym("eta", Domain.POSITIVE, Role.PARAMETER, doc="step size")
T_ = Sym("N", Domain.POSITIVE, Role.OBSERVABLE, "horizon", doc="number of steps N")
GMIN_ = Sym("Gmin", Domain.NONNEGATIVE, Role.OBSERVABLE, "gnorm2_min_all", doc="min_{0<=t<=N} ||grad f(x_t)||^2")
FF_ = Sym("fF", Domain.REAL, Role.OBSERVABLE, "f_first", doc="f(x_0)")
FL_ = Sym("fL", Domain.REAL, Role.OBSERVABLE, "f_last", doc="f(x_N)")
F0_ = Sym("f0", Domain.REAL, Role.OBSERVABLE, "f_t", doc="f(x_t)")
F1_ = Sym("f1", Domain.REAL, Role.OBSERVABLE, "f_next", doc="f(x_{t+1})")
G_ = Sym("G", Domain.NONNEGATIVE, Role.OBSERVABLE, "gnorm2_t", doc="||grad f(x_t)||^2")
L, eta, N, Gmin, fF, fL, f0, f1, G = (s.s for s in (L_, ETA_, T_, GMIN_, FF_, FL_, F0_, F1_, G_))

MIN_GRAD_STEPS = (1, 2, 5, 10)
ONE_STEP_H = ("0.5", "1.0", "1.5", "1.9")


def min_grad_theorem(n_steps: int, factor: sympy.Expr = sympy.Integer(1), *, tid: str | None = None,
                     citation: Citation = PEP, expect=None, structure: Structural = SMOOTH_1D,
                     dynamics: str = "gd_pwq", dims: tuple[int, ...] = (1,)) -> Theorem:
    """``min_{t<=N} ||grad f(x_t)||^2 <= factor * 4 L (f(x_0) - f(x_N)) / (3N)``, eta = 1/L (on the
    class ``structure`` names, run by ``dynamics``)."""
    exact = 4 / (3 * n_steps)
    return Theorem(
        id=tid or f"pep.gd_min_grad_n{n_steps}",
        title=f"GD with step 1/L: min gradient norm after {n_steps} step(s) vs f(x0) - f(x_N) (exact worst case)",
        citation=citation,
        symbols=(L_, ETA_, T_, GMIN_, FF_, FL_),
        structure=(structure,),
        dynamics=dynamics,
        assumptions=(Assumption("step_size", sympy.Eq(eta, 1 / L), "eta = 1/L"),),
        claims=(Claim(
            "min_grad",
            Gmin <= factor * 4 * L * (fF - fL) / (3 * N),
            f"min_(0<=t<=N) ||grad f(x_t)||^2 <= {'' if factor == 1 else str(factor) + ' * '}4 L (f(x_0) - f(x_N)) / (3N)",
            kind=ClaimKind.TRAJECTORY,
            expect=expect,
            exact_worst=ExactWorst(float(1 / factor), bound=float(factor) * exact,
                                   unit="min_t ||grad f(x_t)||^2 at L = 1, f(x_0) - f(x_N) = 1",
                                   source="PEP, exact (attained by a 1-D piecewise quadratic)"),
            pep=PepSetup("smooth", "min_grad_vs_decrease", n_steps, 1.0),
        ),),
        horizon=n_steps,
        dims=dims,
    )


def one_step_theorem(h: str, factor: sympy.Expr = sympy.Integer(1), *, tid: str | None = None,
                     citation: Citation = PEP, expect=None, structure: Structural = SMOOTH_1D,
                     dynamics: str = "gd_pwq", dims: tuple[int, ...] = (1,)) -> Theorem:
    """``f(x_0) - f(x_1) >= factor * eta (1 - eta L / 2) ||grad f(x_0)||^2`` at eta = h/L (on the
    class ``structure`` names, run by ``dynamics``)."""
    hv = sympy.Rational(h)
    exact = float(hv - hv**2 / 2)
    return Theorem(
        id=tid or f"pep.gd_one_step_h{h.replace('.', '_')}",
        title=f"One GD step of size {h}/L decreases f by at least (h - h^2/2) ||grad f||^2 / L (exact worst case)",
        citation=citation,
        symbols=(L_, ETA_, F0_, F1_, G_),
        structure=(structure,),
        dynamics=dynamics,
        assumptions=(Assumption("step_size", sympy.Eq(eta, hv / L), f"eta = {h}/L"),),
        claims=(Claim(
            "one_step_decrease",
            f0 - f1 >= factor * eta * (1 - eta * L / 2) * G,
            f"f(x_0) - f(x_1) >= {'' if factor == 1 else str(factor) + ' * '}eta (1 - eta L/2) ||grad f(x_0)||^2 at eta = {h}/L",
            expect=expect,
            exact_worst=ExactWorst(float(factor), bound=float(factor) * exact,
                                   unit="f(x_0) - f(x_1) at L = 1, ||grad f(x_0)||^2 = 1 (the worst case is the least decrease)",
                                   source="PEP, exact (attained by the quadratic with curvature L)"),
            pep=PepSetup("smooth", "one_step_decrease", 1, float(hv)),
        ),),
        horizon=1,
        dims=dims,
    )


THEOREMS = [min_grad_theorem(n) for n in MIN_GRAD_STEPS] + [one_step_theorem(h) for h in ONE_STEP_H]
