"""Cross-predictability family, Gaussian pairs: the total-variation distance of two Gaussians with a common
covariance (closed form and quadrature) and Pinsker's inequality."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .exact_members import comparisons_only
from ..api import (
    Dynamics,
    Family,
    InstanceBatch,
    InstanceClass,
    Knobs,
    Run,
    RunRequest,
    combine_checks,
    keyed,
    observables,
)

__all__ = ["GaussianPairs", "gaussian_tv"]

#: This module's instance classes and dynamics (registered through the entry points
#: ``thmcheck.classes`` / ``thmcheck.dynamics``; importing the module registers nothing).
CLASSES: list[InstanceClass] = []
DYNAMICS: list[Dynamics] = []


@dataclass(frozen=True)
class GaussianPairs:
    a: np.ndarray  # (B, d)
    b: np.ndarray  # (B, d)
    sigma: np.ndarray  # (B,)

    def astype(self, dtype: Any) -> "GaussianPairs":
        return GaussianPairs(self.a.astype(dtype), self.b.astype(dtype), self.sigma.astype(dtype))

    def take(self, index: Any) -> "GaussianPairs":
        i = np.asarray(index)
        return GaussianPairs(self.a[i], self.b[i], self.sigma[i])



# ------------------------------------------------------------------------------------------------
# Gaussian pairs: TV distance and Pinsker
# ------------------------------------------------------------------------------------------------


def _gen_gaussian(rng: np.random.Generator, N: int, kn: Knobs) -> InstanceBatch:
    d = int(kn.dim)
    a = rng.standard_normal((N, d)) * 10.0 ** kn.log_w0
    direction = rng.standard_normal((N, d))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    # t = ||a - b|| / (2 sigma) spans 1e-3 .. 10 (patterns stress the ends).
    lo, hi = {0: (-3.0, 1.0), 1: (-3.0, -1.0), 2: (0.0, 1.0)}.get(kn.pattern % 4, (-1.0, 0.5))
    t = 10.0 ** rng.uniform(lo, hi, N)
    sigma = 10.0 ** (kn.log_scale + rng.uniform(-1.0, 1.0, N))
    b = a + direction * (2 * t * sigma)[:, None]
    return InstanceBatch("gaussian_pairs", GaussianPairs(a, b, sigma), np.zeros((N, 0)),
                         {"d": np.full(N, float(d)), "sigma": sigma})


def _member_gaussian(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    """Finite means a, b in R^d, a finite sigma > 0, and the attributes sigma and d equal to the
    problem's.  Only comparisons of stored values: exact as it stands (the class's exact hook)."""
    P: GaussianPairs = batch.problem
    d = P.a.shape[1]
    return combine_checks(P.a.shape[0], [
        (np.isfinite(P.a).all(axis=1) & np.isfinite(P.b).all(axis=1), "non-finite means"),
        ((P.sigma > 0) & np.isfinite(P.sigma), "sigma is not finite and positive"),
        (batch.attrs["sigma"] == P.sigma, "the attribute sigma differs from the problem's sigma"),
        ((batch.attrs["d"] == d) & np.full(P.a.shape[0], P.b.shape[1] == d), f"the attribute d is not the dimension {d} of a and b"),
    ])


CLASSES.append(InstanceClass(
    name="gaussian_pairs",
    text="two Gaussians N(a, sigma^2 I) and N(b, sigma^2 I) on R^d, sigma > 0",
    families=(Family(name="gaussian_pairs", generate=_gen_gaussian, finite_sum=False, doc="random means; ||a - b|| / (2 sigma) from 1e-3 to 10"),),
    attributes=("d", "sigma"),
    member=_member_gaussian,
    member_exact=comparisons_only(_member_gaussian),  # finiteness, signs and equalities only
    encode=lambda P, i: {"a": P.a[i].tolist(), "b": P.b[i].tolist(), "sigma": float(P.sigma[i])},
    decode=lambda d: GaussianPairs(np.asarray([d["a"]], float), np.asarray([d["b"]], float), np.asarray([d["sigma"]], float)),
    problem_type=GaussianPairs,
))

#: Gauss-Legendre nodes per panel and the panel width (in units of sigma) of the TV quadrature.
GL_NODES = 20
GL_PANEL = 0.5
#: The integrand is below 1e-300 beyond t + TAIL (in units of sigma).
TAIL = 38.0


@lru_cache(maxsize=4)
def _gauss_legendre(q: int, dtype_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights on [0, 1]; in extended precision refined by Newton steps on P_q."""
    x, w = np.polynomial.legendre.leggauss(q)
    dt = np.dtype(dtype_name)
    x = x.astype(dt)
    if dt != np.dtype(np.float64):
        for _ in range(3):
            p0, p1 = np.ones_like(x), x.copy()
            for j in range(2, q + 1):
                p0, p1 = p1, ((2 * j - 1) * x * p1 - (j - 1) * p0) / j
            dp = q * (x * p1 - p0) / (x * x - 1)
            x = x - p1 / dp
        p0, p1 = np.ones_like(x), x.copy()
        for j in range(2, q + 1):
            p0, p1 = p1, ((2 * j - 1) * x * p1 - (j - 1) * p0) / j
        dp = q * (x * p1 - p0) / (x * x - 1)
        w = 2 / ((1 - x * x) * dp * dp)
    return (x + 1) / 2, np.asarray(w, dtype=dt) / 2


def gaussian_tv(a: np.ndarray, b: np.ndarray, sigma: np.ndarray, dtype: Any = np.float64) -> dict[str, np.ndarray]:
    """TV between N(a, s^2 I) and N(b, s^2 I) from its definition, ``(1/2) int |p - q|``.

    Rotating the first axis onto ``a - b`` (an isometry) leaves the densities' other coordinates
    identical, so the integral is one-dimensional: with ``t = ||a - b|| / (2 s)`` and z in units of s,
    ``|p - q| = |phi(z - t) - phi(z + t)| = 2 phi(z) e^{-t^2/2} |sinh(z t)|`` (written this way it
    has no cancellation), symmetric in z: ``TV = 2 int_0^{t + TAIL} phi(z) e^{-t^2/2} sinh(z t) dz``
    by composite Gauss-Legendre.  Also ``delta = ||a - b||`` and ``tv_erf = erf(delta/(2 sqrt2 s))``
    (``math.erf``; mpmath at 40 digits in extended precision) for comparison."""
    dt = np.dtype(dtype)
    a, b, s = (np.asarray(v, dtype=dt) for v in (a, b, sigma))
    delta = np.sqrt(((a - b) ** 2).sum(axis=1))
    t = delta / (2 * s)
    x, w = _gauss_legendre(GL_NODES, dt.name)
    panels = np.ceil((t.astype(np.float64) + TAIL) / GL_PANEL).astype(np.int64)
    tv = np.zeros_like(t)
    two_pi = 2 * np.arccos(np.asarray(-1, dtype=dt)) if dt != np.dtype(np.float64) else 2 * np.pi
    c = 1 / np.sqrt(np.asarray(two_pi, dtype=dt))
    for P in np.unique(panels):
        rows = np.flatnonzero(panels == P)
        tr = t[rows][:, None]
        h = (tr + TAIL) / P  # panel width <= GL_PANEL
        z = (np.arange(P, dtype=dt)[:, None] + x[None, :]).reshape(-1)[None, :] * h
        ww = np.tile(w, P)[None, :] * h
        g = c * np.exp(-(z * z + tr * tr) / 2) * np.sinh(z * tr)
        tv[rows] = 2 * (ww * g).sum(axis=1)
    if dt == np.dtype(np.float64):
        erf = np.asarray([math.erf(float(v)) for v in delta / (2 * np.sqrt(2.0) * s)])
    else:
        import mpmath  # noqa: PLC0415 - extended-precision replay only

        with mpmath.workdps(40):
            arg = delta / (2 * np.sqrt(np.asarray(2, dtype=dt)) * s)
            erf = np.asarray([np.longdouble(mpmath.nstr(mpmath.erf(mpmath.mpf(np.format_float_scientific(v, unique=True))),
                                                        30)) for v in arg], dtype=dt)
    return {"tv": tv, "tv_erf": erf.astype(dt), "delta": delta}


def _run_tv(req: RunRequest) -> Run:
    problem = req.problem
    return Run(gaussian_tv(problem.a, problem.b, problem.sigma, req.dtype), backend="numpy")  # closed forms


DYNAMICS.append(Dynamics(
    name="gaussian_tv",
    run=_run_tv,
    observables=observables({}, keyed("tv", "tv_erf", "delta"), {}),
    accepts=(GaussianPairs,),
    closed_form=True,
    parameters=(),
    doc="total-variation distance of two isotropic Gaussians by quadrature of its definition (no time steps)",
))


