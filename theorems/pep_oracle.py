"""PEPit as an exact oracle (optional: the ``thmcheck[pep]`` extra installs PEPit and Clarabel).

For a claim that declares ``Claim(pep=PepSetup(...))`` -- a first-order method on a class
performance estimation can express -- :func:`solve` computes the exact worst case of the claim's
quantity with PEPit (an SDP, solved with Clarabel and, where installed, again with SCS: their
difference is the recorded accuracy).  :func:`seed_batches` turns PEPit's worst-case iterates,
gradients and function values into a member of the claim's instance class (projected on the
line the worst case spans, then smoothly interpolated by
:func:`numeric.families.first_order_interp.member_from_data`) that the search evaluates before
climbing: the record then says "bound X, exact worst case Y (PEPit), best instance found Z", and
the instance is checked and run like any other.  Without PEPit installed, :func:`available` is
False and nothing here runs.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .spec import PepSetup

__all__ = ["PepResult", "available", "solve", "seed_batches", "method_points", "LOWER"]

#: The lower curvature end (units of L) of each class a setup may name.
LOWER = {"smooth": -1.0, "smooth_convex": 0.0}
METRICS = ("min_grad_vs_decrease", "one_step_decrease", "value_gap", "last_gradient", "value_ratio", "distance")
GD_ONLY = ("min_grad_vs_decrease", "one_step_decrease")
METHODS = ("gd", "heavy_ball", "nesterov")


@dataclass(frozen=True)
class PepResult:
    """An exact worst case: ``value`` in the claim's normalisation, the solver, the accuracy (the
    two solvers' difference, or None with one solver), the source, and the worst-case data on a
    line (points, values, derivatives, start)."""

    value: float
    solver: str
    accuracy: float | None
    source: str
    lines: tuple[tuple[tuple[float, float, float], ...], ...]
    x0: float

    def record(self) -> dict[str, Any]:
        """Plain data for the claim's record."""
        return {"value": self.value, "solver": self.solver, "accuracy": self.accuracy, "source": self.source}


def available() -> bool:
    """Whether PEPit and an SDP solver it can use are installed."""
    try:
        import PEPit  # noqa: F401
        import cvxpy
    except ImportError:
        return False
    return "CLARABEL" in cvxpy.installed_solvers() or "SCS" in cvxpy.installed_solvers()


def method_points(setup: PepSetup, x0: Any, oracle: Callable[[Any], tuple[Any, Any]]) -> tuple[list[Any], list[Any]]:
    """Run ``setup.method`` (see :class:`~theorems.spec.PepSetup`) from ``x0`` with
    ``oracle(x) -> (gradient, value)``: the points queried, in order, and the iterates
    ``x_0..x_N`` (the last one queried too).  Written once for any vector type with ``+``, ``-``
    and scalar ``*``: PEPit's symbolic points and plain floats (the worst case put on a line)."""
    if setup.method not in METHODS:
        raise ValueError(f"PEP oracle: method {setup.method!r} is not supported; one of {METHODS}")
    h, beta = float(setup.step), float(setup.momentum) if setup.method == "heavy_ball" else 0.0
    queried: list[Any] = []

    def grad(x: Any) -> Any:
        queried.append(x)
        return oracle(x)[0]

    xs, prev = [x0], x0
    for k in range(setup.steps):
        if setup.method == "nesterov":
            y = xs[k] + ((k - 1) / (k + 2)) * (xs[k] - prev) if k >= 1 else xs[k]
            nxt = y - h * grad(y)
        else:
            nxt = xs[k] - h * grad(xs[k]) + beta * (xs[k] - prev)
        prev = xs[k]
        xs.append(nxt)
    grad(xs[-1])
    return queried, xs


def _problem(setup: PepSetup) -> tuple[Any, list[Any], list[Any], list[Any], Any, list[Any]]:
    from PEPit import PEP
    from PEPit.functions import SmoothConvexFunction, SmoothFunction, SmoothStronglyConvexFunction

    if setup.metric not in METRICS:
        raise ValueError(f"PEP oracle: unknown metric {setup.metric!r}; one of {METRICS}")
    if setup.metric in GD_ONLY and setup.method != "gd":
        raise ValueError(f"PEP oracle: metric {setup.metric!r} is defined for method 'gd' only")
    pb = PEP()
    if setup.function_class == "smooth":
        f = pb.declare_function(SmoothFunction, L=1.0)
    elif setup.function_class == "smooth_convex":
        f = pb.declare_function(SmoothConvexFunction, L=1.0)
    elif setup.function_class == "strongly_convex":
        f = pb.declare_function(SmoothStronglyConvexFunction, mu=float(setup.mu), L=1.0)
    else:
        raise ValueError(f"PEP oracle: unknown function class {setup.function_class!r}")
    xs, iterates = method_points(setup, pb.set_initial_point(), f.oracle)
    gs = [f.gradient(x) for x in xs]
    fs = [f(x) for x in xs]
    star = None
    if setup.metric in ("value_gap", "last_gradient", "value_ratio", "distance"):
        star = f.stationary_point(return_gradient_and_function_value=True)
        xstar, _, fstar = star
        if setup.metric == "value_ratio":
            pb.set_initial_condition(fs[0] - fstar <= 1)
        else:
            pb.set_initial_condition((xs[0] - xstar) ** 2 <= 1)
        pb.set_performance_metric({"value_gap": fs[-1] - fstar, "last_gradient": gs[-1] ** 2,
                                   "value_ratio": fs[-1] - fstar, "distance": (iterates[-1] - xstar) ** 2}[setup.metric])
    elif setup.metric == "min_grad_vs_decrease":
        pb.set_initial_condition(fs[0] - fs[-1] <= 1)
        for g in gs:
            pb.set_performance_metric(g**2)
    else:
        pb.set_initial_condition(gs[0] ** 2 == 1)
        pb.set_performance_metric(fs[1] - fs[0])
    return pb, xs, gs, fs, star, iterates


def _solve_with(setup: PepSetup, solver: str) -> tuple[float, Any]:
    pb, xs, gs, fs, star, _ = _problem(setup)
    with warnings.catch_warnings():  # cvxpy's solver chatter (e.g. SCS accuracy notes) stays out of runs
        warnings.simplefilter("ignore")
        tau = pb.solve(wrapper="cvxpy", solver=solver, verbose=0, dimension_reduction_heuristic="trace")
    return float(tau), (xs, gs, fs, star)


@functools.lru_cache(maxsize=256)
def solve(setup: PepSetup) -> PepResult:
    """The exact worst case of ``setup`` (cached per setup)."""
    from importlib.metadata import version

    import cvxpy

    solvers = [s for s in ("CLARABEL", "SCS") if s in cvxpy.installed_solvers()]
    tau, (xs, gs, fs, star) = _solve_with(setup, solvers[0])
    accuracy = None
    if len(solvers) > 1:
        accuracy = abs(_solve_with(setup, solvers[1])[0] - tau)
    value = -tau if setup.metric == "one_step_decrease" else tau
    # The worst case on a line.  Interior-point solutions are of maximal rank even where a
    # one-dimensional worst case exists, so project by norms: along the first gradient's direction
    # v, each gradient keeps its length (with the sign of its component along v), positions follow
    # the method's own relation (method_points on floats), and a minimiser keeps its distance to x_0.
    X = [np.atleast_1d(np.asarray(x.eval(), dtype=np.float64)) for x in xs]
    G = [np.atleast_1d(np.asarray(g.eval(), dtype=np.float64)) for g in gs]
    F = [float(v.eval()) for v in fs]
    v = G[0] / max(float(np.linalg.norm(G[0])), 1e-300)
    sgn = lambda u: 1.0 if float(u @ v) >= 0 else -1.0  # noqa: E731
    lines = []
    for signed in (True, False):  # signs along v, or every gradient pointing the same way
        gl = iter([(sgn(g) if signed else 1.0) * float(np.linalg.norm(g)) for g in G])
        pos, _ = method_points(setup, 0.0, lambda _x, _it=gl: (next(_it), 0.0))  # type: ignore[misc]
        line = [(float(pos[t]), F[t], float((sgn(G[t]) if signed else 1.0) * np.linalg.norm(G[t])))
                for t in range(len(X))]
        if star is not None:
            xs_ = np.atleast_1d(np.asarray(star[0].eval(), dtype=np.float64))
            d = float(np.linalg.norm(X[0] - xs_))
            line.append(((-sgn(X[0] - xs_) if signed else -1.0) * d, float(star[2].eval()), 0.0))
        lines.append(tuple(line))
    return PepResult(value=value, solver=f"{solvers[0]} via cvxpy", accuracy=accuracy,
                     source=f"PEPit {version('pepit')}", lines=tuple(lines), x0=0.0)


def seed_batches(setup: PepSetup, result: PepResult) -> list[Any]:
    """The worst case as members of the generic class ``setup.function_class`` (batches of one,
    one per way of putting the data on a line); [] for a class without interpolating members."""
    from numeric.families.first_order_interp import member_from_data

    if setup.function_class == "strongly_convex":
        lower, attrs = float(setup.mu), {"mu": float(setup.mu), "kappa": 1.0 / float(setup.mu)}
    elif setup.function_class in LOWER:
        lower, attrs = LOWER[setup.function_class], {}
    else:
        return []
    out = []
    for line in result.lines:
        p, f, g = (np.asarray([q[i] for q in line]) for i in range(3))
        out.append(member_from_data(p, f, g, result.x0, L=1.0, lower=lower, attrs=attrs))
    return out


def for_experiment(thm: Any, exp: Any, names: Any, enabled: bool = True) -> tuple[dict[str, dict[str, Any]], list[Any]]:
    """For the claims ``names`` of ``thm`` run in experiment ``exp``: the PEPit records of those
    that declare a :class:`PepSetup` and the seed batches for the search (only when the
    experiment's instance class produces the interpolating members' type).  ({}, []) when PEPit is
    not installed or ``enabled`` is False."""
    setups = [(c.name, c.pep) for c in thm.claims if c.name in names and getattr(c, "pep", None) is not None]
    if not enabled or not setups or not available():
        return {}, []
    from kernels.first_order import RotatedPWQ

    from numeric.constants import pins_check
    from numeric.registry import CLASSES

    takes = any(issubclass(RotatedPWQ, t) for t in CLASSES[exp.instance_class].problem_types)
    records: dict[str, dict[str, Any]] = {}
    seeds: list[Any] = []
    for name, setup in setups:
        try:
            result = solve(setup)
        except Exception as exc:  # a solver failure costs the oracle, never the run
            records[name] = {"error": f"{type(exc).__name__}: {exc}", "source": "PEPit"}
            continue
        records[name] = result.record()
        if takes:
            # PEPit's worst case is normalised (L = 1, the setup's mu): a spec that pins other
            # constants gets no seed from it rather than an instance outside its pins.
            seeds.extend(b for b in seed_batches(setup, result)
                         if all(ok.all() for ok, _ in pins_check(getattr(exp, "constants", ()), b)))
    return records, seeds
