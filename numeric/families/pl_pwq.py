"""The PL class with piecewise-quadratic members: "f is L-smooth and satisfies the
Polyak-Lojasiewicz inequality ||grad f(x)||^2 >= 2 mu (f(x) - f*)" (``pl_pwq``).

Members are the rotated separable piecewise quadratics of the first-order classes
(:class:`kernels.first_order.RotatedPWQ`, ``f(x) = f0 + sum_i phi_i((Q x)_i)``), here nonconvex:
interior curvatures anywhere in ``[-L, L]``, end curvatures in ``(0, L]``, each ``phi_i'`` changing
sign once (negative left of the minimiser, positive right of it), so every stationary point is a
global minimiser.

The PL constant is computed exactly per coordinate (:func:`pl_constant`).  On a piece where
``phi' = u`` runs linearly with curvature c, ``phi - phi* = E + u^2 / (2c)`` (E: the extended
quadratic's lowest value minus phi*), so the PL ratio ``u^2 / (2 (phi - phi*))`` equals
``1 / (1/c + 2E / u^2)``: monotone in ``u^2`` on any stretch where u keeps its sign (and for c = 0
monotone too).  Hence its infimum over a piece that does not meet the minimiser is taken at one of
the piece's ends, on a piece that meets it (E = 0) it is c, and on an end piece it tends to the end
curvature.  The constant of ``phi_i`` is the least of these values; that of f is the least over
coordinates (a separable sum is min_i mu_i-PL, and an orthogonal Q changes nothing; a rounding
defect of Q is charged as ``(1 - e)``).  Generators record ``mu`` a relative 1e-6 below the computed
constant; membership recomputes it in extended precision and requires it to be at least the
recorded ``mu``.

Generators: from the minimiser outwards, pieces with curvature uniform in ``[-L, L]`` or at the ends
``+-L`` (the piece next to the minimiser convex); a negative-curvature piece is cut short before
``phi'`` reaches zero (at most 90% of the way), so the derivative keeps its sign, or made linear
where that would leave less than 1% of its width.  The continuous
parametrisation (1-D: the pieces right of the minimiser, the two end curvatures and the start)
lets the polisher climb.  A spec may pin or bound ``L`` (``Structural(constants={"L": 1})``); ``mu``
is each member's own computed constant and cannot be pinned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from kernels.first_order import RotatedPWQ, knot_values

from ..api import Family, InstanceBatch, InstanceClass, Knobs, Membership, combine_checks, haar_orthogonal
from ..constants import as_mapping, draw_constant, place
from .first_order import PIECES, _ortho_defect, decode, encode
from .first_order_constants import SMOOTH_CONSTANTS
from .first_order_dynamics import minimiser_box
from .first_order_param import K_RIGHT, WIDTHS, ParamPWQ, shrunk

__all__ = ["PL_PWQ", "CLASSES", "pl_constant", "PLParametrisation"]

MARGIN = 1e-6  # recorded mu = computed constant * (1 - MARGIN)
CUT = 0.9  # a concave piece uses at most this share of the derivative it starts from
MIN_SHARE = 0.01  # ... and keeps at least this share of its drawn width (else it is made linear)
END_MIN = 0.01  # end curvatures (and the curvature next to the minimiser) at least END_MIN * L


def pl_constant(p: RotatedPWQ) -> np.ndarray:
    """The PL constant (B,) of each member, in the problem's dtype (module docstring); 0 where a
    coordinate's derivative changes sign more than once, an end curvature is not positive or the
    data are inconsistent."""
    z, g, cl, cr = p.z, p.g, p.cl, p.cr
    lo, _, _, _ = minimiser_box(p)
    F, _ = knot_values(z, g)
    with np.errstate(divide="ignore", invalid="ignore"):
        # phi at the lower end of the minimiser set, relative to phi(z_0): the zero of phi' on its
        # piece (or end piece), reached from the knot before it.
        k = np.clip((z <= lo[..., None]).sum(axis=-1) - 1, 0, z.shape[-1] - 1)
        tk = lambda a: np.take_along_axis(a, k[..., None], axis=-1)[..., 0]  # noqa: E731
        zk, gk = tk(z), tk(g)
        left = lo < z[..., 0]
        t = lo - np.where(left, z[..., 0], zk)
        g_from = np.where(left, g[..., 0], gk)
        phistar = np.where(left, 0, tk(F)) + g_from * t / 2  # phi' goes linearly from g_from to 0
        D = F - phistar[..., None]
        R = np.where(g != 0, g * g / (2 * D), np.inf)
        R = np.where((g != 0) & (D <= 0), 0, R)  # a non-minimiser at or below phi*: inconsistent
        dz, dg = np.diff(z, axis=-1), np.diff(g, axis=-1)
        curv = np.where(dz > 0, dg / np.where(dz > 0, dz, 1), np.inf)
        # Pieces that meet the minimiser set (a flat piece inside it has no PL ratio at all).
        meets = (g[..., :-1] <= 0) & (g[..., 1:] >= 0) & (dz > 0) & ~((g[..., :-1] == 0) & (g[..., 1:] == 0))
        at_min = np.where(meets, np.where(curv > 0, curv, 0), np.inf)
    mu = np.minimum(np.min(R, axis=-1), np.min(at_min, axis=-1, initial=np.inf))
    mu = np.minimum(mu, np.where(cl > 0, cl, 0))
    mu = np.minimum(mu, np.where(cr > 0, cr, 0))
    mu = np.where(np.isfinite(lo), mu, 0)
    return np.min(mu, axis=-1)


def _side(L: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Curvatures (n, d, K) from positions s in [0, 1] (-L .. L, kept a relative SHRINK inside so
    rounding never leaves the interval), the first (next to the minimiser) folded into
    [END_MIN L, L]."""
    c = shrunk(-L, L, s)
    c[..., 0] = shrunk(END_MIN * L[..., 0], L[..., 0], np.abs(2 * s[..., 0] - 1))
    return c


def _walk(widths: np.ndarray, curv: np.ndarray, sign: float) -> tuple[np.ndarray, np.ndarray]:
    """Offsets from the minimiser and derivatives, outwards (..., K+1), starting at (0, 0): on the
    right (sign +1) phi' grows by c w, on the left (sign -1) it falls by c w; a concave piece is cut
    short so phi' keeps its sign."""
    K = widths.shape[-1]
    off = np.zeros(widths.shape[:-1] + (K + 1,))
    der = np.zeros_like(off)
    for k in range(K):
        w, c = widths[..., k], curv[..., k]
        room = np.where(c < 0, CUT * np.abs(der[..., k]) / np.where(c < 0, -c, 1), np.inf)
        # A concave piece with too little room becomes linear instead of a sliver: slivers would let
        # the rounding of knots and derivatives push its stored curvature past -L.
        c = np.where(room < MIN_SHARE * w, 0.0, c)
        w = np.where(room < MIN_SHARE * w, w, np.minimum(w, room))
        off[..., k + 1] = off[..., k] + sign * w
        der[..., k + 1] = der[..., k] + sign * c * w
    return off, der


def _member(rng: np.random.Generator, n: int, d: int, k: Knobs, ends_only: bool) -> InstanceBatch:
    L = draw_constant(rng, n, k, "L", np.full(n, 10.0 ** k.log_scale))
    scale = 10.0 ** k.log_w0
    K = int(rng.choice([p for p in PIECES if p <= 16]))
    kl = int(rng.integers(0, K + 1))  # pieces left of the minimiser
    Lb = L[:, None, None]
    s = rng.random((n, d, K))
    if ends_only:
        pick = rng.random((n, d, K))
        s = np.where(pick < 0.4, 0.0, np.where(pick < 0.8, 1.0, s))
    widths = scale * 10.0 ** rng.uniform(-1.5, 0.5, (n, d, K))
    # Outwards from the minimiser on each side (the left side's pieces listed right to left).
    offl, derl = _walk(widths[..., :kl], _side(Lb, s[..., :kl]), -1.0) if kl else (np.zeros((n, d, 1)),) * 2
    offr, derr = _walk(widths[..., kl:], _side(Lb, s[..., kl:]), 1.0) if K - kl else (np.zeros((n, d, 1)),) * 2
    ystar = rng.normal(size=(n, d)) * scale
    z = np.concatenate([offl[..., ::-1][..., :-1], offr], axis=-1) + ystar[..., None]
    g = np.concatenate([derl[..., ::-1][..., :-1], derr], axis=-1)
    ends = shrunk(END_MIN * L[:, None, None], L[:, None, None], rng.random((n, d, 2)) ** (0.3 if ends_only else 1.0))
    Q = np.broadcast_to(np.eye(d), (n, d, d)).copy()
    rot = rng.random(n) < 0.5
    if rot.any() and d > 1:
        Q[rot] = haar_orthogonal(rng, int(rot.sum()), d)
    problem = RotatedPWQ(Q, z, g, ends[..., 0], ends[..., 1], rng.normal(size=n) * (rng.random(n) < 0.5))
    y0 = ystar + rng.normal(size=(n, d)) * scale * 10.0 ** rng.uniform(-1.0, 1.0, (n, 1))
    x0 = np.einsum("nji,nj->ni", Q, y0)
    mu = pl_constant(problem.astype(np.longdouble)).astype(np.float64) * (1 - MARGIN)
    return InstanceBatch("pl_pwq_ends" if ends_only else "pl_pwq", problem, x0,
                         {"L": L, "mu": mu, "d": np.full(n, float(d))})


def _generator(ends_only: bool) -> Any:
    def generate(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
        return _member(rng, n, max(int(k.dim), 1), k, ends_only)

    return generate


def member_check(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    """From the arrays alone, in extended precision: finite sorted data, Q orthogonal, every
    curvature in [-L, L] (narrowed by Q's defect), end curvatures positive, and the recomputed PL
    constant, times ``1 - e``, at least the recorded mu."""
    p = batch.problem
    ld = np.longdouble
    pl = p.astype(ld)
    n = pl.size
    L = np.asarray(batch.attrs["L"], dtype=ld)
    mu = np.asarray(batch.attrs["mu"], dtype=ld)
    e = _ortho_defect(p.Q)
    finite = np.isfinite(np.concatenate([pl.z.reshape(n, -1), pl.g.reshape(n, -1), pl.cl, pl.cr,
                                         pl.Q.reshape(n, -1), pl.f0[:, None]], axis=1)).all(axis=1)
    dz, dg = np.diff(pl.z, axis=2), np.diff(pl.g, axis=2)
    hi = (L / (1 + e))[:, None, None]
    inner_ok = np.all(np.abs(dg) <= hi * dz, axis=(1, 2))
    ends_ok = np.all((pl.cl <= hi[..., 0]) & (pl.cr <= hi[..., 0]) & (pl.cl > 0) & (pl.cr > 0), axis=1)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        pl_ok = pl_constant(pl) * (1 - e) >= mu
    return combine_checks(n, [
        (finite, "non-finite data"), (e < 1e-6, "Q is not orthogonal"),
        (np.all(dz >= 0, axis=(1, 2)), "knots are not sorted"),
        (inner_ok, "a piece's curvature is outside [-L, L]"),
        (ends_ok, "an end piece's curvature is outside (0, L]"),
        (mu > 0, "mu <= 0"),
        (pl_ok, "the PL inequality fails for the recorded mu (computed constant below it)"),
    ])


def member_extended(batch: InstanceBatch) -> Membership:
    """The exact-membership hook: :func:`member_check` already works in extended precision with no
    slack (the generators keep the recorded mu a relative 1e-6 below the constant), so it decides."""
    ok, why = member_check(batch)
    good = bool(np.asarray(ok).reshape(-1)[0])
    return Membership(good, "extended", "" if good else why[0])


@dataclass(frozen=True)
class PLParametrisation:
    """1-D members at L = 1 for the polisher: ``theta = (widths (K) in WIDTHS, curvature positions
    (K) in [0, 1] -> [-L, L] (the first folded into [END_MIN L, L]), left and right end curvature
    positions, start position in [0, 1])``; the minimiser at 0, the pieces to its right, the start
    between the first knot and the last (so GD walks down across the pieces).  A spec's pinned
    ``L`` (a range: its geometric middle) scales the member: ``L f`` has curvatures and PL
    constant multiplied by ``L``."""

    constants: tuple[tuple[str, float, float], ...] = ()

    def with_constants(self, pins: tuple[tuple[str, float, float], ...]) -> "PLParametrisation":
        """The same parametrisation at the pinned L."""
        return PLParametrisation(tuple(pins))

    def size(self, horizon: int) -> int:
        """Two pieces per step and room around the start."""
        return 2 * (2 * max(int(horizon), 1) + K_RIGHT) + 3

    def bounds(self, P: int) -> tuple[np.ndarray, np.ndarray]:
        """The box of theta."""
        K = (P - 3) // 2
        return (np.concatenate([np.full(K, WIDTHS[0]), np.zeros(K + 3)]),
                np.concatenate([np.full(K, WIDTHS[1]), np.ones(K + 3)]))

    def sample(self, rng: np.random.Generator, n: int, P: int) -> np.ndarray:
        """Uniform in the box; a third with every curvature at an end of [-L, L]."""
        lo, hi = self.bounds(P)
        theta = lo + rng.random((n, P)) * (hi - lo)
        K = (P - 3) // 2
        theta[::3, K:2 * K] = (rng.random((len(theta[::3]), K)) < 0.5).astype(float)
        return theta

    def resize(self, theta: np.ndarray, P: int) -> np.ndarray:
        """Pieces dropped from, or copies of the outermost piece added at, the far end."""
        theta = np.asarray(theta, dtype=np.float64)
        K_old, K = (theta.shape[1] - 3) // 2, (P - 3) // 2
        w, c, tail = theta[:, :K_old], theta[:, K_old:2 * K_old], theta[:, 2 * K_old:]
        if K <= K_old:
            return np.hstack([w[:, :K], c[:, :K], tail])
        pad = K - K_old
        return np.hstack([w, np.repeat(w[:, -1:], pad, axis=1), c, np.repeat(c[:, -1:], pad, axis=1), tail])

    def build(self, theta: np.ndarray) -> InstanceBatch:
        """The members for the rows of theta, with their exact PL constants."""
        lo_b, hi_b = self.bounds(theta.shape[1])
        theta = np.clip(np.asarray(theta, dtype=np.float64), lo_b, hi_b)
        n, P = theta.shape
        K = (P - 3) // 2
        L = np.ones((n, 1, 1))
        curv = _side(L, theta[:, None, K:2 * K])
        z, g = _walk(theta[:, None, :K], curv, 1.0)
        ends = shrunk(np.full((n, 1), END_MIN), np.ones((n, 1)), theta[:, 2 * K:2 * K + 2])
        x0 = (z[:, 0, 1] + theta[:, -1] * (z[:, 0, -1] - z[:, 0, 1]))[:, None]
        pins = as_mapping(self.constants)
        Lv = float(place(*pins["L"], np.full(1, 0.5))[0]) if "L" in pins else 1.0
        problem = ParamPWQ(np.ones((n, 1, 1)), z, Lv * g, Lv * ends[:, :1], Lv * ends[:, 1:], np.zeros(n), theta=theta)
        mu = pl_constant(problem.astype(np.longdouble)).astype(np.float64) * (1 - MARGIN)
        return InstanceBatch("polished", problem, x0, {"L": np.full(n, Lv), "mu": mu, "d": np.ones(n)})


PL_PWQ = InstanceClass(
    name="pl_pwq",
    text="f is L-smooth and mu-PL: ||grad f(x)||^2 >= 2 mu (f(x) - f*) (searched over rotated separable "
         "piecewise-quadratic C^{1,1} functions with curvatures in [-L, L], each coordinate's derivative "
         "changing sign once; mu is each member's exact PL constant)",
    families=(Family(name="pl_pwq", generate=_generator(False),
                     doc="1 to 16 pieces around the minimiser, curvatures uniform in [-L, L], end curvatures in (0, L]"),
              Family(name="pl_pwq_ends", generate=_generator(True),
                     doc="as pl_pwq, each curvature at -L or L (40% each) or uniform")),
    attributes=("L", "mu", "d"),
    member=member_check,
    member_exact=member_extended,
    constants=SMOOTH_CONSTANTS,
    encode=encode,
    decode=decode,
    problem_type=RotatedPWQ,
    parametrisation=PLParametrisation(),
)
CLASSES = (PL_PWQ,)
