"""The generic classes of first-order-method theory, with members rich enough to contain the
extremal functions: "f is L-smooth" (F_L), "f is convex and L-smooth" (F_{0,L}) and "f is
mu-strongly convex and L-smooth" (F_{mu,L}).

Every member is ``f(x) = f0 + sum_i phi_i((Q x)_i)`` (:class:`kernels.first_order.RotatedPWQ`):
``Q`` orthogonal (the identity for separable members, Haar-distributed or a plane rotation
otherwise) and each ``phi_i`` a one-dimensional piecewise-quadratic C^{1,1} function whose
curvature on every piece, the two unbounded end pieces included, lies in the class's interval
``[lo, L]``: ``[-L, L]``, ``[0, L]`` or ``[mu, L]``.  Breakpoints are free.  Such an f is in the
class exactly (its gradient ``Q^T phi'(Q x)`` is L-Lipschitz and ``f - lo/2 ||x||^2`` is convex);
members of the convex classes also attain their minimum, whose value ``f*`` and minimiser set (a
box in the rotated coordinates) are computed exactly per coordinate by
:func:`numeric.families.first_order_dynamics.minimiser_box`.

Generators (drawn by the ordinary search; none is shaped after a known worst case): piecewise
quadratics with curvatures uniform in the interval, with curvatures at random end points of the
interval (each piece independently), Huber-like members (one curved piece between two end pieces
at the interval's lower end, e.g. linear for the convex class) and quadratics; widths
log-uniform, breakpoints and the minimiser at random places, the start anywhere.

The continuous parametrisation (:mod:`numeric.families.first_order_param`) covers the same members
in two variables: a rich first coordinate (free widths, in pairs measured in units of the derivative,
curvatures squashed into the interval),
a Huber-like second coordinate, a rotation angle, and for the strongly convex class the
condition number.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from kernels.first_order import RotatedPWQ

from ..api import Family, InstanceBatch, InstanceClass, Knobs, combine_checks, haar_orthogonal
from ..constants import as_mapping
from .exact_members import pwq_member_exact
from .first_order_constants import SMOOTH_CONSTANTS, STRONGLY_CONVEX_CONSTANTS, resolve, strongly_convex_check
from .first_order_param import (
    LOG_KAPPA,
    RANGES,
    CurvatureRange,
    FirstOrderParametrisation,
    build_pwq,
    shrunk,
)

__all__ = [
    "CLASSES",
    "CurvatureRange",
    "RANGES",
    "SMOOTH",
    "SMOOTH_CONVEX",
    "STRONGLY_CONVEX",
    "build_pwq",
    "member_check",
    "encode",
    "decode",
]

CLASSES: list[InstanceClass] = []

PIECES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)


def zero_of_derivative(z: np.ndarray, g: np.ndarray, cl: np.ndarray, cr: np.ndarray, y: np.ndarray) -> np.ndarray:
    """phi'(y) for arrays of 1-D functions (..., K+1) and points (...)."""
    K1 = z.shape[-1]
    k = (z <= y[..., None]).sum(axis=-1) - 1
    left, right = k < 0, k >= K1 - 1
    kk = np.clip(k, 0, max(K1 - 2, 0))
    base = np.where(left, 0, np.where(right, K1 - 1, kk))
    tk = lambda a, i: np.take_along_axis(a, i[..., None], axis=-1)[..., 0]  # noqa: E731
    if K1 > 1:
        dz = tk(z, kk + 1) - tk(z, kk)
        with np.errstate(divide="ignore", invalid="ignore"):
            inner = np.where(dz > 0, (tk(g, kk + 1) - tk(g, kk)) / np.where(dz > 0, dz, 1), 0)
    else:
        inner = np.zeros_like(y)
    curv = np.where(left, cl, np.where(right, cr, inner))
    return tk(g, base) + curv * (y - tk(z, base))


# ------------------------------------------------------------------------------------ generators


def _constants(rng: np.random.Generator, n: int, k: Knobs,
               rng_kind: CurvatureRange) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """L (n,) from the knobs, the lower curvature end (n,) in absolute units and the constants to
    record, each inside the spec's pins when it gives some (``k.constants``)."""
    strongly = rng_kind.lower is None
    kappa_free = 10.0 ** rng.uniform(*LOG_KAPPA, n) if strongly else np.ones(n)
    L, mu, attrs = resolve(strongly, as_mapping(k.constants), np.full(n, 10.0 ** k.log_scale), kappa_free,
                           lambda _name: rng.random(n))
    return L, (mu if mu is not None else (rng_kind.lower or 0.0) * L), attrs


def _rotation(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Identity (separable members) for half the batch, Haar-distributed for the rest."""
    Q = np.broadcast_to(np.eye(d), (n, d, d)).copy()
    rot = rng.random(n) < 0.5
    if rot.any() and d > 1:
        Q[rot] = haar_orthogonal(rng, int(rot.sum()), d)
    return Q


def _assemble(rng: np.random.Generator, k: Knobs, cr_: CurvatureRange, family: str, L: np.ndarray,
              consts: dict[str, np.ndarray], widths: np.ndarray, curv: np.ndarray, cl: np.ndarray, cr: np.ndarray) -> InstanceBatch:
    """Place the pieces (random offsets; for the convex classes a random zero of the derivative
    inside the knot range), draw Q, f0 and the start, and wrap everything as a batch."""
    n, d, K = widths.shape
    scale = 10.0 ** k.log_w0
    z, g = build_pwq(widths, curv, np.zeros((n, d)), np.zeros((n, d)), 0)
    span = z[..., -1] - z[..., 0]
    shift = rng.normal(size=(n, d)) * scale
    z = z - z[..., :1] - span[..., None] * rng.random((n, d, 1)) + shift[..., None]
    # The derivative's level: through zero at a random point of the knot range (every convex member
    # then attains its minimum), or a random level for the smooth class.
    ystar = z[..., 0] + rng.random((n, d)) * span
    level = zero_of_derivative(z, g, cl, cr, ystar)
    if not cr_.convex:
        level = level + rng.normal(size=(n, d)) * L[:, None] * scale * (rng.random((n, d)) < 0.5)
    g = g - level[..., None]
    Q = _rotation(rng, n, d)
    f0 = rng.normal(size=n) * (rng.random(n) < 0.5)
    y0 = ystar + rng.normal(size=(n, d)) * scale * 10.0 ** rng.uniform(-1.0, 1.0, (n, 1))
    x0 = np.einsum("nji,nj->ni", Q, y0)
    attrs = {"L": L, "d": np.full(n, float(d))} | consts
    return InstanceBatch(family, RotatedPWQ(Q, z, g, cl, cr, f0), x0, attrs)


def _generator(cr_: CurvatureRange, shape: str):
    def generate(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
        d = max(int(k.dim), 1)
        L, lo, consts = _constants(rng, n, k, cr_)
        Lb, lob = L[:, None, None], lo[:, None, None]
        scale = 10.0 ** k.log_w0
        if shape == "huber":
            K = 1
            widths = scale * 10.0 ** rng.uniform(-1.5, 0.5, (n, d, 1))
            curv = shrunk(lob, Lb, rng.random((n, d, 1)) ** 0.25)
            ends = np.where(rng.random((n, d, 2)) < 0.7, 0.0, rng.random((n, d, 2)))
            end_curv = shrunk(lob, Lb, ends)
            cl, cr = end_curv[..., 0], end_curv[..., 1]
        elif shape == "quadratic":
            K = 1
            widths = np.full((n, d, 1), scale)
            a = shrunk(lob[..., 0], Lb[..., 0], rng.random((n, d)))
            curv, cl, cr = a[..., None], a, a
        else:
            K = int(rng.choice(PIECES))
            widths = scale * 10.0 ** rng.uniform(-1.5, 0.5, (n, d, K))
            s = rng.random((n, d, K + 2))
            if shape == "ends":  # each piece independently at one end of the interval, or uniform
                pick = rng.random((n, d, K + 2))
                s = np.where(pick < 0.4, 0.0, np.where(pick < 0.8, 1.0, s))
            a = shrunk(lo[:, None, None], L[:, None, None], s)
            curv, cl, cr = a[..., 1:-1], a[..., 0], a[..., -1]
        return _assemble(rng, k, cr_, shape, L, consts, widths, curv, cl, cr)

    return generate


# ------------------------------------------------------------------------------------ membership


def _ortho_defect(Q: np.ndarray) -> np.ndarray:
    """||Q^T Q - I||_F per instance (an upper bound on how far Q's singular values squared are
    from 1), in extended precision."""
    Ql = np.asarray(Q, dtype=np.longdouble)
    d = Ql.shape[-1]
    E = np.einsum("nki,nkj->nij", Ql, Ql) - np.eye(d, dtype=np.longdouble)
    return np.sqrt(np.sum(E * E, axis=(1, 2)))


def minimiser_exists(z: np.ndarray, g: np.ndarray, cl: np.ndarray, cr: np.ndarray) -> np.ndarray:
    """Per 1-D convex function: whether its derivative reaches 0 (the minimum is attained)."""
    left_ok = (g[..., 0] <= 0) | (cl > 0)
    right_ok = (g[..., -1] >= 0) | (cr > 0)
    return left_ok & right_ok


def member_check(cr_: CurvatureRange, batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    """Membership from the stored arrays alone, in extended precision and without allowance: knots
    sorted, finite data, no jump across a zero-width piece, every curvature (end pieces included)
    inside ``[lo, L]`` widened by nothing and narrowed by Q's orthogonality defect, and for the
    convex classes an attained minimum."""
    p = batch.problem
    ld = np.longdouble
    z, g = np.asarray(p.z, dtype=ld), np.asarray(p.g, dtype=ld)
    cl, cr = np.asarray(p.cl, dtype=ld), np.asarray(p.cr, dtype=ld)
    n = z.shape[0]
    L = np.asarray(batch.attrs["L"], dtype=ld)
    lo = (np.asarray(batch.attrs["mu"], dtype=ld) if cr_.lower is None else ld(cr_.lower) * L)
    e = _ortho_defect(p.Q)
    shape_ok = (z.ndim == 3 and g.shape == z.shape and np.shape(p.Q) == (n, z.shape[1], z.shape[1]))
    finite = (np.all(np.isfinite(z), axis=(1, 2)) & np.all(np.isfinite(g), axis=(1, 2))
              & np.all(np.isfinite(cl), axis=1) & np.all(np.isfinite(cr), axis=1)
              & np.isfinite(np.asarray(p.f0, dtype=ld)) & np.all(np.isfinite(np.asarray(p.Q, dtype=ld)), axis=(1, 2)))
    dz, dg = np.diff(z, axis=2), np.diff(g, axis=2)
    hi_eff = (L / (1 + e))[:, None, None]  # sigma_max(Q)^2 <= 1 + e
    if cr_.lower is None:
        lo_eff = (lo / (1 - e))[:, None, None]  # sigma_min(Q)^2 >= 1 - e
    elif cr_.lower == 0:
        lo_eff = np.zeros((n, 1, 1), dtype=ld)
    else:
        lo_eff = (lo / (1 + e))[:, None, None]
    sorted_ok = np.all(dz >= 0, axis=(1, 2))
    inner_ok = np.all((dg <= hi_eff * dz) & (dg >= lo_eff * dz), axis=(1, 2))
    ends = np.stack([cl, cr], axis=2)
    ends_ok = np.all((ends <= hi_eff) & (ends >= lo_eff), axis=(1, 2))
    checks = [(np.full(n, shape_ok), "arrays have inconsistent shapes"), (finite, "non-finite data"),
              (e < 1e-6, "Q is not orthogonal"), (sorted_ok, "knots are not sorted"),
              (inner_ok, f"a piece's curvature is outside [{cr_.lower if cr_.lower is not None else 'mu'}, 1] L"),
              (ends_ok, "an end piece's curvature is outside the class's interval")]
    if cr_.convex:
        checks.append((np.all(minimiser_exists(z, g, cl, cr), axis=1), "f does not attain its minimum"))
    if cr_.lower is None:
        checks.append((np.asarray(batch.attrs["mu"]) > 0, "mu <= 0"))
        # kappa is recorded (a spec may pin it): it must be L / mu up to the rounding of that quotient.
        kappa = np.asarray(batch.attrs["kappa"], dtype=ld)
        checks.append((np.abs(kappa * lo - L) <= 8 * np.finfo(np.float64).eps * L, "kappa differs from L / mu"))
    return combine_checks(n, checks)


def encode(problem: RotatedPWQ, i: int) -> dict[str, Any]:
    """Instance ``i`` as plain data (floats round-trip through JSON); a member built from a
    parameter vector also records it (``theta``), so the polisher can restart from it."""
    out = {"Q": problem.Q[i].tolist(), "z": problem.z[i].tolist(), "g": problem.g[i].tolist(),
           "cl": problem.cl[i].tolist(), "cr": problem.cr[i].tolist(), "f0": float(problem.f0[i])}
    theta = getattr(problem, "theta", None)
    if theta is not None:
        out["theta"] = np.asarray(theta[i]).tolist()
    return out


def decode(data: dict[str, Any]) -> RotatedPWQ:
    """A batch of one from :func:`encode`'s data."""
    arr = lambda k: np.asarray([data[k]], dtype=np.float64)  # noqa: E731
    return RotatedPWQ(arr("Q"), arr("z"), arr("g"), arr("cl"), arr("cr"), arr("f0"))


def _families(cr_: CurvatureRange) -> tuple[Family, ...]:
    lo = {"smooth": "-L", "smooth_convex": "0", "strongly_convex": "mu"}[cr_.name]
    return (
        Family(name="pwq_uniform", generate=_generator(cr_, "uniform"),
               doc=f"1 to 32 pieces per coordinate, curvatures uniform in [{lo}, L], log-uniform widths"),
        Family(name="pwq_ends", generate=_generator(cr_, "ends"),
               doc=f"as pwq_uniform, each curvature independently at {lo} or L (40% each) or uniform"),
        Family(name="huber", generate=_generator(cr_, "huber"),
               doc=f"Huber-like: one curved piece between end pieces mostly at {lo}"),
        Family(name="quadratic", generate=_generator(cr_, "quadratic"), doc=f"quadratics, curvatures in [{lo}, L]"),
    )


def _make(name: str, cr_: CurvatureRange, text: str, parametrisation: Any) -> InstanceClass:
    return InstanceClass(
        name=name, text=text, families=_families(cr_),
        attributes=("L", "d") + (("mu", "kappa") if cr_.lower is None else ()),
        member=lambda batch, _c=cr_: member_check(_c, batch),
        member_exact=pwq_member_exact(cr_.lower, cr_.convex),
        encode=encode, decode=decode, problem_type=RotatedPWQ, parametrisation=parametrisation,
        constants=STRONGLY_CONVEX_CONSTANTS if cr_.lower is None else SMOOTH_CONSTANTS,
        constants_check=strongly_convex_check if cr_.lower is None else None)


def _param(kind: str) -> FirstOrderParametrisation:
    return FirstOrderParametrisation(RANGES[kind])


SMOOTH = _make("lsmooth", RANGES["smooth"],
               "f is L-smooth (F_L: grad f is L-Lipschitz; searched over rotated separable piecewise-quadratic "
               "C^{1,1} functions with every curvature in [-L, L])", _param("smooth"))
SMOOTH_CONVEX = _make("lsmooth_convex", RANGES["smooth_convex"],
                      "f is convex and L-smooth with a minimiser (F_{0,L}; searched over rotated separable "
                      "piecewise-quadratic functions with every curvature in [0, L], Huber-like members included)",
                      _param("smooth_convex"))
STRONGLY_CONVEX = _make("lsmooth_strongly_convex", RANGES["strongly_convex"],
                        "f is mu-strongly convex and L-smooth (F_{mu,L}; searched over rotated separable "
                        "piecewise-quadratic functions with every curvature in [mu, L])", _param("strongly_convex"))
CLASSES.extend([SMOOTH, SMOOTH_CONVEX, STRONGLY_CONVEX])
