"""First-order methods (gradient descent, heavy ball, Nesterov) on rotated separable
piecewise-quadratic C^{1,1} functions: the members of the generic classes "f is L-smooth",
"f is convex and L-smooth" and "f is mu-strongly convex and L-smooth".

A problem is ``f(x) = f0 + sum_i phi_i((Q x)_i)`` with ``Q`` a d x d orthogonal matrix (rows
``q_i``) and each ``phi_i`` a one-dimensional piecewise quadratic given by knots
``z_0 <= ... <= z_K``, its derivative ``g_k`` at each knot (linearly interpolated in between) and
the curvatures ``cl`` / ``cr`` of the two unbounded end pieces; ``phi_i(z_0) = 0``.  Knot values
``phi_i(z_k)`` follow from the trapezoid rule, which is exact for a piecewise-linear derivative.
The gradient is ``Q^T phi'(Q x)``; the Hessian, where it exists, ``Q^T diag(phi''(Q x)) Q``.

One update rule covers the three methods (``x_{-1} = x_0``)::

    y_k     = x_k + m_k (x_k - x_{k-1})
    x_{k+1} = y_k - a_k grad f(p_k)

gradient descent: ``m_k = 0``, ``p_k = x_k``; heavy ball: ``m_k = beta``, ``p_k = x_k``; Nesterov:
``m_k = (k - 1) / (k + 2)``, ``p_k = y_k``.  Every run records, for k = 0..N, the iterates, f(x_k),
||grad f(x_k)||^2 and the sum of |terms| of f(x_k) (its rounding scale).

Entry point :func:`first_order`, validated here; implementations: a NumPy reference
(:mod:`kernels.first_order.reference`, any float dtype, ``np.longdouble`` for replays) and a numba
kernel (:mod:`kernels.first_order.numba`, ``prange`` over the batch, float64).  No CuPy kernel:
asking for one raises :class:`kernels.BackendUnavailable`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import KernelImpl, get_kernel, select

__all__ = ["RotatedPWQ", "FirstOrderRun", "METHODS", "first_order", "knot_values", "evaluate"]

#: This family's implementations (registered through the ``thmcheck.kernels`` entry point).
KERNELS: tuple[KernelImpl, ...] = (
    KernelImpl("first_order.run", "numpy", ("float32", "float64", "longdouble"), "kernels.first_order.reference:run_kernel"),
    KernelImpl("first_order.run", "numba", ("float64",), "kernels.first_order.numba:run_kernel"),
)

#: The methods :func:`first_order` runs (index 0, 1, 2 in the kernels).
METHODS = ("gd", "heavy_ball", "nesterov")


@dataclass(frozen=True, eq=False)
class RotatedPWQ:
    """A batch of B functions ``f0 + sum_i phi_i((Q x)_i)`` in d variables, K pieces per coordinate."""

    Q: np.ndarray  # (B, d, d) orthogonal, rows q_i
    z: np.ndarray  # (B, d, K+1) knots, non-decreasing
    g: np.ndarray  # (B, d, K+1) phi_i' at the knots
    cl: np.ndarray  # (B, d) curvature left of z_0
    cr: np.ndarray  # (B, d) curvature right of z_K
    f0: np.ndarray  # (B,) constant term

    @property
    def size(self) -> int:
        """Number of functions B."""
        return int(self.z.shape[0])

    @property
    def dim(self) -> int:
        """Number of variables d."""
        return int(self.z.shape[1])

    def astype(self, dtype: Any) -> "RotatedPWQ":
        """The same functions with every array in ``dtype``."""
        return RotatedPWQ(*(np.asarray(v, dtype=dtype) for v in (self.Q, self.z, self.g, self.cl, self.cr, self.f0)))

    def take(self, index: Any) -> "RotatedPWQ":
        """The functions at ``index`` (rows may repeat)."""
        index = np.asarray(index)
        return RotatedPWQ(*(v[index] for v in (self.Q, self.z, self.g, self.cl, self.cr, self.f0)))

    def curvatures(self) -> np.ndarray:
        """(B, d, K+2): ``cl``, the K interior curvatures (0 on zero-width pieces), ``cr``."""
        dz = np.diff(self.z, axis=2)
        dg = np.diff(self.g, axis=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            inner = np.where(dz > 0, dg / np.where(dz > 0, dz, 1), 0)
        return np.concatenate([self.cl[..., None], inner, self.cr[..., None]], axis=2)


@dataclass(frozen=True, eq=False)
class FirstOrderRun:
    """x (B, T+1, d) iterates; f, gnorm2, fabs (B, T+1): f(x_k), ||grad f(x_k)||^2 and the sum of
    |terms| of f(x_k); ``backend`` the implementation that ran."""

    x: np.ndarray
    f: np.ndarray
    gnorm2: np.ndarray
    fabs: np.ndarray
    backend: str


def knot_values(z: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``phi(z_k) - phi(z_0)`` by the trapezoid rule, and the sum of |terms| of each (shapes of z)."""
    dz = np.diff(z, axis=-1)
    inc = dz * (g[..., 1:] + g[..., :-1]) / 2
    inc_abs = dz * (np.abs(g[..., 1:]) + np.abs(g[..., :-1])) / 2
    zero = np.zeros(z.shape[:-1] + (1,), dtype=z.dtype)
    return (np.concatenate([zero, np.cumsum(inc, axis=-1)], axis=-1),
            np.concatenate([zero, np.cumsum(inc_abs, axis=-1)], axis=-1))


def evaluate(problem: RotatedPWQ, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """f(x) (B,), grad f(x) (B, d) and the sum of |terms| of f(x) (B,), for x (B, d), in NumPy
    (any float dtype)."""
    Q, z, g = problem.Q, problem.z, problem.g
    B, d, K1 = z.shape
    y = np.einsum("bij,bj->bi", Q, x)
    F, FA = knot_values(z, g)
    k = (z <= y[..., None]).sum(axis=2) - 1  # pieces: -1 left of z_0, K right of z_K
    left = k < 0
    right = k >= K1 - 1
    kk = np.clip(k, 0, max(K1 - 2, 0))
    base = np.where(left, 0, np.where(right, K1 - 1, kk))
    take = lambda a, i: np.take_along_axis(a, i[..., None], axis=2)[..., 0]  # noqa: E731
    if K1 > 1:
        dz = take(z, kk + 1) - take(z, kk)
        dg = take(g, kk + 1) - take(g, kk)
        with np.errstate(divide="ignore", invalid="ignore"):
            inner = np.where(dz > 0, dg / np.where(dz > 0, dz, 1), 0)
    else:
        inner = np.zeros_like(y)
    curv = np.where(left, problem.cl, np.where(right, problem.cr, inner))
    dd = y - take(z, base)
    gb = take(g, base)
    phi = take(F, base) + gb * dd + curv * dd * dd / 2
    phia = take(FA, base) + np.abs(gb * dd) + np.abs(curv) * dd * dd / 2
    dphi = gb + curv * dd
    grad = np.einsum("bji,bj->bi", Q, dphi)
    return problem.f0 + phi.sum(axis=1), grad, np.abs(problem.f0) + phia.sum(axis=1)


def first_order(problem: RotatedPWQ, x0: Any, step: Any, momentum: Any, T: int, *, method: str = "gd",
                backend: str = "numpy", dtype: Any = np.float64) -> FirstOrderRun:
    """Run ``method`` ("gd", "heavy_ball" or "nesterov") for ``T`` steps on a batch.

    Args:
        problem: B functions.  x0: (B, d) starting points.  step: (B,) step sizes ``a``.
        momentum: (B,) heavy-ball ``beta`` (ignored by "gd" and "nesterov").  T: number of steps.
        method: the update rule (module docstring).  backend: "numpy" (float32, float64,
            longdouble), "numba" (float64) or "auto" (see :func:`kernels.backend.select`).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    backend = select("first_order.run", backend, dtype)
    dt = np.dtype(dtype)
    pb = problem.astype(dt)
    if pb.z.ndim != 3 or pb.g.shape != pb.z.shape or pb.Q.shape != (pb.z.shape[0], pb.z.shape[1], pb.z.shape[1]):
        raise ValueError(f"z, g must be (B, d, K+1) and Q (B, d, d); got {pb.z.shape}, {pb.g.shape}, {pb.Q.shape}")
    B, d, K1 = pb.z.shape
    if K1 < 1 or np.any(np.diff(pb.z, axis=2) < 0):
        raise ValueError("knots z must be non-decreasing along each row (at least one knot)")
    if pb.cl.shape != (B, d) or pb.cr.shape != (B, d) or pb.f0.shape != (B,):
        raise ValueError("cl, cr must be (B, d) and f0 (B,)")
    x0 = np.ascontiguousarray(np.asarray(x0, dtype=dt).reshape(B, d))
    step = np.ascontiguousarray(np.broadcast_to(np.asarray(step, dtype=dt), (B,)))
    momentum = np.ascontiguousarray(np.broadcast_to(np.asarray(momentum, dtype=dt), (B,)))
    if not (np.all(np.isfinite(x0)) and np.all(np.isfinite(step)) and np.all(np.isfinite(momentum))):
        raise ValueError("x0, step and momentum must be finite")
    T = int(T)
    if T < 0:
        raise ValueError("T must be >= 0")
    X, f, g2, fa = get_kernel("first_order.run", backend)(pb, x0, step, momentum, T, METHODS.index(method))
    return FirstOrderRun(X, f, g2, fa, backend)
