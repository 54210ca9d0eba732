"""The continuous parametrisation of the generic first-order classes (so the worst-case polisher,
:mod:`numeric.engine.polish`, runs on them).

``theta`` (all in a box) describes a member in two variables, ``f(x) = phi_1(y_1) + phi_2(y_2)``
with ``y = Q(angle) x``:

* ``theta[:K]``: the widths of ``phi_1``'s K interior pieces, in units of ``g_0 / L`` where
  ``g_0 = phi_1'(x_0) = 1`` (in [0.02, 2]); the start is the knot ``K - K_RIGHT``, so a descent
  method first crosses the left pieces;
* ``theta[K:2K]``, ``theta[2K]``, ``theta[2K+1]``: the curvatures of the interior pieces and of
  the left and right end pieces, each squashed into the class's interval by ``lo + s (L - lo)``
  with ``s`` in [0, 1];
* ``theta[2K+2]``: the rotation angle in [0, pi/2];
* ``theta[2K+3:2K+7]``: ``phi_2``, Huber-like around its minimiser 0: inner curvature, half-width
  (in [0.02, 2]), curvature of both end pieces, and the start ``y_2(0)`` in [-2, 2];
* for the strongly convex class, ``theta[2K+7]`` places log10(kappa) in [log10 2, 2].

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

__all__ = ["CurvatureRange", "RANGES", "SHRINK", "LOG_KAPPA", "shrunk", "build_pwq",
           "FirstOrderParametrisation", "ParamPWQ", "K_RIGHT", "WIDTHS"]

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


K_RIGHT = 2
WIDTHS = (0.02, 2.0)
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
        lo = np.concatenate([np.full(K, WIDTHS[0]), np.zeros(K + 2), [0.0, 0.0, WIDTHS[0], 0.0, -2.0],
                             [0.0] * (self.extra - TAIL)])
        hi = np.concatenate([np.full(K, WIDTHS[1]), np.ones(K + 2), [np.pi / 2, 1.0, WIDTHS[1], 1.0, 2.0],
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
        """The same members near the start with ``P``'s number of pieces: leftmost pieces dropped,
        or copies of the leftmost piece added on the left."""
        theta = np.asarray(theta, dtype=np.float64)
        K_old, K = self.pieces(theta.shape[1]), self.pieces(P)
        w, c, tail = theta[:, :K_old], theta[:, K_old:2 * K_old], theta[:, 2 * K_old:]
        if K <= K_old:
            return np.hstack([w[:, K_old - K:], c[:, K_old - K:], tail])
        pad = K - K_old
        return np.hstack([np.repeat(w[:, :1], pad, axis=1), w, np.repeat(c[:, :1], pad, axis=1), c, tail])

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
        z1, g1 = build_pwq(theta[:, :K], curv, np.zeros(n), np.ones(n), K - K_RIGHT)
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
        return {"kind": self.kind.name, "tail": TAIL, "k_right": K_RIGHT, "widths": WIDTHS}
