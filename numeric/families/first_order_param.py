"""The continuous parametrisation of the generic first-order classes (so the worst-case polisher,
:mod:`numeric.engine.polish`, runs on them).

``theta`` (all in a box) describes a member in two variables, ``f(x) = phi_1(y_1) + phi_2(y_2)``
with ``y = Q(angle) x``:

* ``theta[:K]``: the widths of ``phi_1``'s K interior pieces.  The pieces are grouped in pairs
  counted outwards from the start knot (:func:`pairs`); at a pair's inner piece theta holds the
  pair's length (in [0.04, 4]) in units of ``max(|phi_1'|, G_FLOOR) / L`` taken at the pair's knot
  nearer the start (``phi_1'(y_1(0)) = 1``), at its outer piece the inner piece's share of it (in
  [0.02, 0.98]).  The start is the knot ``K - K_RIGHT``, so a descent method first crosses the
  left pieces;
* ``theta[K:2K]``, ``theta[2K]``, ``theta[2K+1]``: the curvatures of the interior pieces and of
  the left and right end pieces, each squashed into the class's interval by ``lo + s (L - lo)``
  with ``s`` in [0, 1];
* ``theta[2K+2]``: the rotation angle in [0, pi/2];
* ``theta[2K+3:2K+7]``: ``phi_2``, Huber-like around its minimiser 0: inner curvature, half-width
  (in [0.02, 2]), curvature of both end pieces, and the start ``y_2(0)`` in [-2, 2];
* for the strongly convex class, ``theta[2K+7]`` places log10(kappa) in [log10 2, 2].

Why widths in units of the derivative: a first-order method's step is proportional to the
gradient, so where the method crosses pieces of the function, their widths and the step lengths
scale together.  With absolute widths, making a step end on a given knot is a curved ridge in
theta (the sum of the widths crossed must track the gradient, which itself depends on the widths
and curvatures before it), and a local optimiser stalls on it for long trajectories (about 80% of
the exact min-gradient worst case of GD at N = 5 and 10).  In gradient units, "a pair of pieces is
one step of length eta |g|" is the same constant for every step whatever the curvatures, so the
search sees these alignments as flat directions.  The set of members is unchanged: every width
is still free in a box, the curvatures are free in the class's interval, and the floor keeps the
widths positive where the derivative passes through zero.

A convex member whose first coordinate would have no minimiser (derivative positive everywhere
with a linear left end) gets the smallest positive left-end curvature ``1e-3 L`` instead, so every
built point is a member.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from kernels.first_order import RotatedPWQ

from ..api import InstanceBatch
from ..constants import as_mapping
from .first_order_constants import resolve

__all__ = ["CurvatureRange", "RANGES", "SHRINK", "LOG_KAPPA", "shrunk", "build_pwq", "build_relative",
           "FirstOrderParametrisation", "ParamPWQ", "K_RIGHT", "WIDTHS", "G_FLOOR"]

#: Curvatures are built at least this fraction of the interval inside its ends (the end at 0 of the
#: convex class is reached exactly: a zero increment leaves the derivative unchanged in floats).
SHRINK = 1e-9
#: Condition numbers of the strongly convex class's generators: log-uniform in [2, 100].
LOG_KAPPA = (np.log10(2.0), 2.0)


@dataclass(frozen=True)
class CurvatureRange:
    """The curvature interval of a class, in units of L: ``[lower, 1]`` with ``lower`` -1 (smooth),
    0 (convex) or ``None`` (strongly convex: ``mu / L``, a per-instance constant)."""

    name: str
    lower: float | None
    convex: bool


RANGES = {
    "smooth": CurvatureRange("smooth", -1.0, False),
    "smooth_convex": CurvatureRange("smooth_convex", 0.0, True),
    "strongly_convex": CurvatureRange("strongly_convex", None, True),
}


def shrunk(lo: np.ndarray, hi: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``lo + s (hi - lo)`` for s in [0, 1], kept ``SHRINK (hi - lo)`` inside each end except an end
    at exactly 0 (convexity is exact there)."""
    span = hi - lo
    a = lo + np.clip(s, 0.0, 1.0) * span
    low = np.where(lo == 0, 0.0, lo + SHRINK * span)
    return np.clip(a, low, hi - SHRINK * span)


def build_pwq(widths: np.ndarray, curv: np.ndarray, start: np.ndarray, g_start: np.ndarray,
              k_start: int) -> tuple[np.ndarray, np.ndarray]:
    """Knots and knot derivatives (..., K+1) from widths and curvatures (..., K): knot ``k_start``
    sits at ``start`` with derivative ``g_start``; the derivative changes by ``a_k w_k`` across
    piece k (outwards from the start knot, so rounding never flips the sign of an increment)."""
    K = widths.shape[-1]
    z = np.zeros(widths.shape[:-1] + (K + 1,))
    g = np.zeros_like(z)
    z[..., k_start], g[..., k_start] = start, g_start
    for k in range(k_start - 1, -1, -1):
        z[..., k] = z[..., k + 1] - widths[..., k]
        g[..., k] = g[..., k + 1] - curv[..., k] * widths[..., k]
    for k in range(k_start, K):
        z[..., k + 1] = z[..., k] + widths[..., k]
        g[..., k + 1] = g[..., k] + curv[..., k] * widths[..., k]
    return z, g


def pairs(K: int, k_start: int) -> list[tuple[int, int | None]]:
    """The pieces of a K-piece profile grouped in pairs counted outwards from knot ``k_start``:
    ``(inner, outer)`` piece indices (``outer`` None for a lone last piece on a side), left side
    first, nearest pair first."""
    out: list[tuple[int, int | None]] = []
    left = list(range(k_start - 1, -1, -1))
    right = list(range(k_start, K))
    for side in (left, right):
        for j in range(0, len(side), 2):
            out.append((side[j], side[j + 1] if j + 1 < len(side) else None))
    return out


def length_entries(K: int, k_start: int) -> np.ndarray:
    """Boolean (K,): True where ``theta[k]`` is a pair's length, False where it is a split."""
    mask = np.zeros(K, dtype=bool)
    for inner, _ in pairs(K, k_start):
        mask[inner] = True
    return mask


def build_relative(shape: np.ndarray, curv: np.ndarray, g_start: np.ndarray, k_start: int,
                   floor: float, L: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Knots and knot derivatives (n, K+1) from pair shapes and curvatures (n, K): knot
    ``k_start`` sits at 0 with derivative ``g_start`` (n,).  The pieces are grouped in pairs
    counted outwards from it (:func:`pairs`); ``shape`` holds, at a pair's inner piece, the
    pair's length ``r`` and, at its outer piece, the inner piece's share ``sigma`` of it, and the
    pair spans ``r max(|g|, floor) / L`` (L (n,) defaults to 1) with ``g`` the derivative at its
    knot nearer the start (known when the pair is built, since the build runs outwards as
    :func:`build_pwq`'s does)."""
    n, K = shape.shape
    z = np.zeros((n, K + 1))
    g = np.zeros_like(z)
    g[:, k_start] = g_start
    unit = np.ones(n) if L is None else 1.0 / np.asarray(L, dtype=np.float64)
    for inner, outer in pairs(K, k_start):
        left = inner < k_start
        anchor = inner + 1 if left else inner  # the inner piece's knot nearer the start
        span = shape[:, inner] * np.maximum(np.abs(g[:, anchor]), floor) * unit
        share = shape[:, outer] if outer is not None else np.ones(n)
        for k, w in ((inner, share * span), (outer, (1 - share) * span)):
            if k is None:
                continue
            if left:
                z[:, k] = z[:, k + 1] - w
                g[:, k] = g[:, k + 1] - curv[:, k] * w
            else:
                z[:, k + 1] = z[:, k] + w
                g[:, k + 1] = g[:, k] + curv[:, k] * w
    return z, g


K_RIGHT = 2
WIDTHS = (0.02, 2.0)
#: A pair's length (in units of the derivative's size) and the inner piece's share of it.
PAIR_LENGTH = (0.04, 4.0)
PAIR_SHARE = (0.02, 0.98)
#: Widths are measured in units of max(|phi_1'|, G_FLOOR) (phi_1' = 1 at the start).
G_FLOOR = 0.05
TAIL = 7  # angle + phi_2 (4 numbers) + the two end curvatures of phi_1


@dataclass(frozen=True, eq=False)
class ParamPWQ(RotatedPWQ):
    """A batch built from parameter vectors: the arrays plus ``theta`` (B, P), kept so the polisher
    can restart from a recorded instance (replays need only the arrays)."""

    theta: np.ndarray | None = None


@dataclass(frozen=True)
class FirstOrderParametrisation:
    """Continuous parametrisation of one generic first-order class (module docstring)."""

    kind: CurvatureRange
    constants: tuple[tuple[str, float, float], ...] = ()  # a spec's pins (numeric.constants.Pins)

    def with_constants(self, pins: tuple[tuple[str, float, float], ...]) -> "FirstOrderParametrisation":
        """The same parametrisation building members with the pinned constants."""
        return replace(self, constants=tuple(pins))

    @property
    def extra(self) -> int:
        """Parameters after the interior pieces' widths and curvatures."""
        return TAIL + (1 if self.kind.lower is None else 0)

    def pieces(self, P: int) -> int:
        """K for a theta of length P."""
        return (P - self.extra) // 2

    def size(self, horizon: int) -> int:
        """Two pieces per step, and room around the start."""
        return 2 * (2 * max(int(horizon), 1) + 2 + K_RIGHT) + self.extra

    def bounds(self, P: int) -> tuple[np.ndarray, np.ndarray]:
        """The box of theta."""
        K = self.pieces(P)
        is_len = length_entries(K, K - K_RIGHT)
        lo = np.concatenate([np.where(is_len, PAIR_LENGTH[0], PAIR_SHARE[0]), np.zeros(K + 2),
                             [0.0, 0.0, WIDTHS[0], 0.0, -2.0],
                             [0.0] * (self.extra - TAIL)])
        hi = np.concatenate([np.where(is_len, PAIR_LENGTH[1], PAIR_SHARE[1]), np.ones(K + 2),
                             [np.pi / 2, 1.0, WIDTHS[1], 1.0, 2.0],
                             [1.0] * (self.extra - TAIL)])
        return lo, hi

    def sample(self, rng: np.random.Generator, n: int, P: int) -> np.ndarray:
        """Starting points: uniform in the box; a third with every curvature at a random end of the
        interval (independently per piece), a third with one common curvature; half of all with
        the second coordinate at rest (angle 0, start at its minimiser)."""
        K = self.pieces(P)
        lo, hi = self.bounds(P)
        theta = lo + rng.random((n, P)) * (hi - lo)
        for i in range(n):
            if i % 3 == 1:
                theta[i, K:2 * K + 2] = (rng.random(K + 2) < 0.5).astype(float)
            elif i % 3 == 2:
                theta[i, K:2 * K + 2] = rng.random()
            if (i // 3) % 2 == 0:
                theta[i, 2 * K + 2] = 0.0
                theta[i, 2 * K + 6] = 0.0
        return theta

    def resize(self, theta: np.ndarray, P: int) -> np.ndarray:
        """The same members near the start with ``P``'s number of pieces.  Fewer pieces: the
        leftmost pieces are dropped.  More pieces (a longer horizon, as in the polisher's horizon
        continuation): the left pairs a trajectory of the old horizon crosses -- all left pairs but
        the outermost, which lies beyond it -- are repeated outwards in order, and the outermost
        pair stays outermost; the right pieces and the tail are kept."""
        theta = np.asarray(theta, dtype=np.float64)
        K_old, K = self.pieces(theta.shape[1]), self.pieces(P)
        w, c, tail = theta[:, :K_old], theta[:, K_old:2 * K_old], theta[:, 2 * K_old:]
        if K <= K_old:
            return np.hstack([w[:, K_old - K:], c[:, K_old - K:], tail])
        old = [q for q in pairs(K_old, K_old - K_RIGHT) if q[0] < K_old - K_RIGHT]
        new = [q for q in pairs(K, K - K_RIGHT) if q[0] < K - K_RIGHT]
        crossed = max(len(old) - 1, 1)
        src = np.full(K, -1)
        src[K - K_RIGHT:] = np.arange(K_old - K_RIGHT, K_old)
        for j, (inner, outer) in enumerate(new):
            o_inner, o_outer = old[-1] if j == len(new) - 1 else old[j % crossed]
            src[inner] = o_inner
            if outer is not None:
                src[outer] = o_outer if o_outer is not None else o_inner
        return np.hstack([w[:, src], c[:, src], tail])

    def frontier(self, P_old: int, P: int) -> np.ndarray:
        """Indices of a length-``P`` theta that a trajectory of the horizon behind ``P_old`` has
        not settled: the left pairs from the last one such a trajectory crosses outwards (with
        ``P_old``'s layout, one pair per step and one beyond), and the end curvatures (the second
        coordinate and the rotation act on every step, so they are held: freeing them too lost
        ground at N = 5 and 10).  Used by
        the horizon continuation to search the added pieces first, with the rest held."""
        K_old, K = self.pieces(P_old), self.pieces(P)
        crossed = (K_old - K_RIGHT) // 2 - 1
        left = [q for q in pairs(K, K - K_RIGHT) if q[0] < K - K_RIGHT]
        idx: list[int] = []
        for inner, outer in left[max(crossed - 1, 0):]:
            for k in (inner, outer):
                if k is not None:
                    idx += [k, K + k]
        return np.asarray(sorted(idx) + [2 * K, 2 * K + 1], dtype=np.intp)

    def build(self, theta: np.ndarray) -> InstanceBatch:
        """Members (L = 1) for the rows of theta; the start x_0 has phi_1'(y_1(0)) = 1."""
        lo_b, hi_b = self.bounds(theta.shape[1])
        theta = np.clip(np.asarray(theta, dtype=np.float64), lo_b, hi_b)
        n, P = theta.shape
        K = self.pieces(P)
        strongly = self.kind.lower is None
        kappa_free = 10.0 ** (LOG_KAPPA[0] + theta[:, -1] * (LOG_KAPPA[1] - LOG_KAPPA[0])) if strongly else np.ones(n)
        # Pinned constants (first_order_constants): a range of kappa is searched along theta's last
        # coordinate; any other range sits at its (geometric) middle.
        L, mu, consts = resolve(strongly, as_mapping(self.constants), np.ones(n), kappa_free,
                                lambda name: theta[:, -1] if name == "kappa" else np.full(n, 0.5))
        attrs: dict[str, np.ndarray] = {"L": L, "d": np.full(n, 2.0)} | consts
        lo = mu if mu is not None else (self.kind.lower or 0.0) * L
        t = theta[:, 2 * K:]
        curv = shrunk(lo[:, None], L[:, None], theta[:, K:2 * K])
        ends = shrunk(lo[:, None], L[:, None], t[:, 0:2])
        z1, g1 = build_relative(theta[:, :K], curv, np.ones(n), K - K_RIGHT, G_FLOOR, L)
        cl1, cr1 = ends[:, 0], ends[:, 1]
        if self.kind.convex:
            cl1 = np.where((g1[:, 0] > 0) & (cl1 <= 0), 1e-3 * L, cl1)
        a2 = shrunk(lo, L, t[:, 3])
        w2 = t[:, 4]
        e2 = shrunk(lo, L, t[:, 5])
        z2 = np.linspace(-1.0, 1.0, K + 1)[None, :] * w2[:, None]
        g2 = a2[:, None] * z2
        ang = t[:, 2]
        c, s = np.cos(ang), np.sin(ang)
        Q = np.stack([np.stack([c, s], axis=1), np.stack([-s, c], axis=1)], axis=1)
        y0 = np.stack([np.zeros(n), t[:, 6]], axis=1)
        x0 = np.einsum("nji,nj->ni", Q, y0)
        problem = ParamPWQ(Q, np.stack([z1, z2], axis=1), np.stack([g1, g2], axis=1), np.stack([cl1, e2], axis=1),
                           np.stack([cr1, e2], axis=1), np.zeros(n), theta=theta)
        return InstanceBatch("polished", problem, x0, attrs)

    def describe(self) -> dict[str, Any]:
        """The layout in words (for docs and records)."""
        return {"kind": self.kind.name, "tail": TAIL, "k_right": K_RIGHT, "widths": WIDTHS,
                "widths_unit": f"max(|phi_1'|, {G_FLOOR}) / L at each pair's knot nearer the start"}
