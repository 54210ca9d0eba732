"""GD on one-dimensional piecewise-quadratic C^{1,1} functions (the worst-case class of GD on
L-smooth functions).

A problem is given by knots ``z_0 <= z_1 <= ... <= z_K``, the derivative ``g_k = f'(z_k)`` at each
knot and ``f0 = f(z_0)``.  Between knots ``f'`` is the linear interpolant of the ``g_k`` (so ``f``
is quadratic there, with curvature ``a_k = (g_{k+1} - g_k) / (z_{k+1} - z_k)``); outside
``[z_0, z_K]`` it is linear (``f' = g_0`` to the left, ``g_K`` to the right).  ``f`` is L-smooth
exactly when every ``|a_k| <= L``.  The knot values ``F_k = f(z_k)`` follow by the trapezoid rule,
which is exact for a piecewise-linear derivative.

One public entry point, :func:`gd_pwq`, validated here, with two implementations of the same loop:
a NumPy reference (:mod:`kernels.pwq.reference`; float32, float64, ``np.longdouble`` for replay) and
a numba kernel (:mod:`kernels.pwq.numba`, ``prange`` over the batch, float64).  The backend comes
from :func:`kernels.backend.select`; there is no CuPy kernel (asking for one raises
:class:`kernels.BackendUnavailable`).  Zero-width pieces (``z_{k+1} = z_k``) are allowed and never entered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import KernelImpl, get_kernel, select

__all__ = ["PiecewiseQuadratic", "PWQRun", "gd_pwq", "pwq_knot_values", "pwq_value"]

#: This family's implementations (registered through the ``thmcheck.kernels`` entry point ``pwq``).
KERNELS: tuple[KernelImpl, ...] = (
    KernelImpl("pwq.gd", "numpy", ("float32", "float64", "longdouble"), "kernels.pwq.reference:gd_kernel"),
    KernelImpl("pwq.gd", "numba", ("float64",), "kernels.pwq.numba:gd_kernel"),
)


@dataclass(frozen=True, eq=False)
class PiecewiseQuadratic:
    """A batch of B one-dimensional piecewise-quadratic functions with K pieces each."""

    z: np.ndarray  # (B, K+1) knots, non-decreasing
    g: np.ndarray  # (B, K+1) f' at the knots
    f0: np.ndarray  # (B,) f(z_0)

    @property
    def size(self) -> int:
        return int(self.z.shape[0])

    @property
    def dim(self) -> int:
        return 1

    def astype(self, dtype: Any) -> "PiecewiseQuadratic":
        return PiecewiseQuadratic(*(np.asarray(x, dtype=dtype) for x in (self.z, self.g, self.f0)))

    def take(self, index: Any) -> "PiecewiseQuadratic":
        index = np.asarray(index)
        return PiecewiseQuadratic(self.z[index], self.g[index], self.f0[index])

    def curvatures(self) -> np.ndarray:
        """(B, K) curvature of each piece (0 on zero-width pieces), in the arrays' dtype."""
        dz = np.diff(self.z, axis=1)
        dg = np.diff(self.g, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(dz > 0, dg / np.where(dz > 0, dz, 1), 0)


@dataclass(frozen=True, eq=False)
class PWQRun:
    """x (B, T+1) iterates, f (B, T+1), gnorm2 (B, T+1) and fabs (B, T+1), the sum of |terms| of f
    (its rounding scale)."""

    x: np.ndarray
    f: np.ndarray
    gnorm2: np.ndarray
    fabs: np.ndarray
    backend: str


def pwq_knot_values(z: np.ndarray, g: np.ndarray, f0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``F_k = f(z_k)`` by the (exact) trapezoid rule, and the sum of |terms| of each ``F_k``."""
    dz = np.diff(z, axis=1)
    inc = dz * (g[:, 1:] + g[:, :-1]) / 2
    inc_abs = dz * (np.abs(g[:, 1:]) + np.abs(g[:, :-1])) / 2
    F = np.concatenate([f0[:, None], f0[:, None] + np.cumsum(inc, axis=1)], axis=1)
    FA = np.concatenate([np.abs(f0)[:, None], np.abs(f0)[:, None] + np.cumsum(inc_abs, axis=1)], axis=1)
    return F, FA


def pwq_value(problem: PiecewiseQuadratic, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """f(x), f'(x) and the sum of |terms| of f(x) for x of shape (B,) (NumPy, any float dtype)."""
    z, g = problem.z, problem.g
    B, K1 = z.shape
    F, FA = pwq_knot_values(z, g, problem.f0)
    a = problem.curvatures()
    k = (z <= x[:, None]).sum(axis=1) - 1  # number of knots <= x, minus one
    rows = np.arange(B)
    left = k < 0
    right = k >= K1 - 1
    kk = np.clip(k, 0, K1 - 2) if K1 > 1 else np.zeros_like(k)
    base = np.where(left, 0, np.where(right, K1 - 1, kk))
    d = x - z[rows, base]
    curv = np.where(left | right, 0, a[rows, kk]) if K1 > 1 else np.zeros_like(x)
    gb = g[rows, base]
    fx = F[rows, base] + gb * d + curv * d * d / 2
    gx = gb + curv * d
    fa = FA[rows, base] + np.abs(gb * d) + np.abs(curv) * d * d / 2
    return fx, gx, fa


def gd_pwq(problem: PiecewiseQuadratic, x0: Any, eta: Any, T: int, *, backend: str = "numpy",
           dtype: Any = np.float64) -> PWQRun:
    """Gradient descent ``x_{t+1} = x_t - eta f'(x_t)`` on a batch of piecewise-quadratic functions.

    Args:
        problem: B functions.  x0: (B,) or (B, 1) starting points.  eta: (B,) step sizes.
        T: number of steps.  backend: "numpy" (reference: float32, float64, longdouble), "numba"
            (float64) or "auto" (see :func:`kernels.backend.select`).
    """
    backend = select("pwq.gd", backend, dtype)
    dt = np.dtype(dtype)
    pb = problem.astype(dt)
    B = pb.z.shape[0]
    if pb.z.ndim != 2 or pb.g.shape != pb.z.shape or pb.f0.shape != (B,):
        raise ValueError(f"z and g must be (B, K+1) and f0 (B,), got {pb.z.shape}, {pb.g.shape}, {pb.f0.shape}")
    if pb.z.shape[1] < 1 or np.any(np.diff(pb.z, axis=1) < 0):
        raise ValueError("knots z must be non-decreasing along each row (at least one knot)")
    x0 = np.ascontiguousarray(np.asarray(x0, dtype=dt).reshape(B))
    eta = np.ascontiguousarray(np.broadcast_to(np.asarray(eta, dtype=dt), (B,)))
    if not (np.all(np.isfinite(x0)) and np.all(np.isfinite(eta))):
        raise ValueError("x0 and eta must be finite")
    T = int(T)
    if T < 0:
        raise ValueError("T must be >= 0")
    X, f, g2, fa = get_kernel("pwq.gd", backend)(pb, x0, eta, T)
    return PWQRun(X, f, g2, fa, backend)
