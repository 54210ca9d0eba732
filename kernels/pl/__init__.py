"""GD on the separable quartic-Huber function (PL family, Claim 6.2.2 for weakly-quasi-convex f).

    f(w) = a sum_i h(w_i / s),   h(u) = u^4 (|u| <= 1),   6 u^2 - 8 |u| + 3 (|u| > 1).

``h`` is C^2, convex, with ``0 <= h'' <= 12`` and unique minimizer 0, so ``f`` is convex (hence
1-weakly-quasi-convex), ``12 a / s^2``-smooth, with ``f* = 0`` at ``w* = 0``.  Gradient descent on it
converges only sublinearly (``f(w_t) ~ 2.25 / t^2`` for ``a = s = 1``, ``eta = 1/12``, ``w_0 = 1``).

One public entry point, :func:`gd_quartic_huber`, validated here, with three implementations of the
same loop side by side: a NumPy reference (:mod:`kernels.pl.reference`; float32, float64,
``np.longdouble`` for replay), a numba kernel (:mod:`kernels.pl.numba`, ``prange`` over the batch,
float64) and a CuPy kernel (:mod:`kernels.pl.cupy`, one CUDA thread per trajectory, float64; CuPy is
imported only when that backend runs).  The backend comes from :func:`kernels.backend.select`.  The
CUDA source (:data:`CUDA_SOURCE`) does the numba kernel's operations in the same order; it is
compiled by NVRTC with ``--fmad=false``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import KernelImpl, get_kernel, select
from .cupy import _CUDA_PRELUDE, CUDA_KERNEL, CUDA_SOURCE  # noqa: F401 - source only; CuPy is not imported

__all__ = ["CUDA_SOURCE", "CUDA_KERNEL", "QuarticHuberRun", "gd_quartic_huber", "quartic_huber_value"]

#: This family's implementations (registered through the ``thmcheck.kernels`` entry point ``pl``).
KERNELS: tuple[KernelImpl, ...] = (
    KernelImpl("pl.quartic_huber", "numpy", ("float32", "float64", "longdouble"), "kernels.pl.reference:gd_kernel"),
    KernelImpl("pl.quartic_huber", "numba", ("float64",), "kernels.pl.numba:gd_kernel"),
    KernelImpl("pl.quartic_huber", "cupy", ("float64",), "kernels.pl.cupy:gd_kernel"),
)


@dataclass(frozen=True, eq=False)
class QuarticHuberRun:
    """f (B, T+1), gnorm2 (B, T+1), fabs (B, T+1) (sum of |terms| of f: the rounding scale) and
    w (B, T+1, d)."""

    f: np.ndarray
    gnorm2: np.ndarray
    fabs: np.ndarray
    w: np.ndarray
    backend: str


def quartic_huber_value(u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """h(u), h'(u) and the sum of |terms| of h(u), elementwise (any float dtype)."""
    au = np.abs(u)
    inner = au <= 1
    h = np.where(inner, u**4, 6 * u * u - 8 * au + 3)
    dh = np.where(inner, 4 * u**3, 12 * u - 8 * np.sign(u))
    habs = np.where(inner, u**4, 6 * u * u + 8 * au + 3)
    return h, dh, habs


def gd_quartic_huber(a: Any, s: Any, w0: Any, eta: Any, T: int, *, backend: str = "numpy",
                     dtype: Any = np.float64) -> QuarticHuberRun:
    """Gradient descent ``w_{t+1} = w_t - eta grad f(w_t)`` on ``f = a sum_i h(w_i / s)``.

    Args:
        a, s: (B,) positive scales.  w0: (B, d) starting points.  eta: (B,) step sizes.
        T: number of steps.  backend: "numpy" (reference; float32, float64, longdouble), "numba" or "cupy" (float64;
        "cupy" raises :class:`kernels.BackendUnavailable` where CuPy or a device is missing).
    """
    backend = select("pl.quartic_huber", backend, dtype)
    dt = np.dtype(dtype)
    w0 = np.ascontiguousarray(w0, dtype=dt)
    if w0.ndim != 2:
        raise ValueError(f"w0 must have shape (B, d), got {w0.shape}")
    B, d = w0.shape
    a, s, eta = (np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=dt), (B,))) for x in (a, s, eta))
    if not (np.all(a > 0) and np.all(s > 0) and np.all(np.isfinite(eta)) and np.all(np.isfinite(w0))):
        raise ValueError("a and s must be positive, eta and w0 finite")
    T = int(T)
    if T < 0:
        raise ValueError("T must be >= 0")
    f, g2, fabs, W = get_kernel("pl.quartic_huber", backend)(a, s, w0, eta, T)
    return QuarticHuberRun(f, g2, fabs, W, backend)
