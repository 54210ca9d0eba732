"""GD on the separable quartic-Huber function (PL family, Claim 6.2.2 for weakly-quasi-convex f).

    f(w) = a sum_i h(w_i / s),   h(u) = u^4 (|u| <= 1),   6 u^2 - 8 |u| + 3 (|u| > 1).

``h`` is C^2, convex, with ``0 <= h'' <= 12`` and unique minimizer 0, so ``f`` is convex (hence
1-weakly-quasi-convex), ``12 a / s^2``-smooth, with ``f* = 0`` at ``w* = 0``.  Gradient descent on it
converges only sublinearly (``f(w_t) ~ 2.25 / t^2`` for ``a = s = 1``, ``eta = 1/12``, ``w_0 = 1``).

One public entry point, :func:`gd_quartic_huber`, validated here, with three implementations of the
same loop: a NumPy reference (any float dtype, ``np.longdouble`` for replay), a numba kernel
(``prange`` over the batch, float64) and a CuPy kernel (one CUDA thread per trajectory, float64;
CuPy is imported only when that backend is asked for).  The CUDA source (:data:`CUDA_SOURCE`) does
the numba kernel's operations in the same order; it is compiled by NVRTC with ``--fmad=false``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

__all__ = ["CUDA_SOURCE", "CUDA_KERNEL", "QuarticHuberRun", "gd_quartic_huber", "quartic_huber_value"]


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


def _reference(a: np.ndarray, s: np.ndarray, w0: np.ndarray, eta: np.ndarray, T: int) -> tuple[np.ndarray, ...]:
    B, d = w0.shape
    dt = w0.dtype
    f = np.empty((B, T + 1), dtype=dt)
    g2 = np.empty((B, T + 1), dtype=dt)
    fabs = np.empty((B, T + 1), dtype=dt)
    W = np.empty((B, T + 1, d), dtype=dt)
    w = w0.copy()
    for t in range(T + 1):
        h, dh, habs = quartic_huber_value(w / s[:, None])
        grad = (a / s)[:, None] * dh
        W[:, t] = w
        f[:, t] = a * h.sum(axis=1)
        fabs[:, t] = a * habs.sum(axis=1)
        g2[:, t] = (grad * grad).sum(axis=1)
        if t < T:
            w = w - eta[:, None] * grad
    return f, g2, fabs, W


@cache
def _numba_kernel():
    import numba  # noqa: PLC0415 - lazy by design

    @numba.njit(parallel=True, cache=True, fastmath=False)
    def run(a, s, w0, eta, T, f, g2, fabs, W):
        B, d = w0.shape
        for n in numba.prange(B):
            for i in range(d):
                W[n, 0, i] = w0[n, i]
            for t in range(T + 1):
                fv = 0.0
                fa = 0.0
                gv = 0.0
                for i in range(d):
                    u = W[n, t, i] / s[n]
                    au = abs(u)
                    if au <= 1.0:
                        h = u * u * u * u
                        dh = 4.0 * u * u * u
                        ha = h
                    else:
                        sg = 1.0 if u > 0 else -1.0
                        h = 6.0 * u * u - 8.0 * au + 3.0
                        dh = 12.0 * u - 8.0 * sg
                        ha = 6.0 * u * u + 8.0 * au + 3.0
                    gi = a[n] / s[n] * dh
                    fv += h
                    fa += ha
                    gv += gi * gi
                    if t < T:
                        W[n, t + 1, i] = W[n, t, i] - eta[n] * gi
                f[n, t] = a[n] * fv
                fabs[n, t] = a[n] * fa
                g2[n, t] = gv

    return run


CUDA_KERNEL = "tc_quartic_gd"
#: CUDA C source of the GPU kernel; ``TC_GLOBAL_ID`` (the thread's trajectory index) is defined by a
#: prelude, so that the tests can also compile it as C++ with a sequential emulation of the grid.
CUDA_SOURCE = r"""
extern "C" __global__ void tc_quartic_gd(const double* __restrict__ a, const double* __restrict__ s,
        const double* __restrict__ w0, const double* __restrict__ eta, double* __restrict__ f,
        double* __restrict__ g2, double* __restrict__ fab, double* __restrict__ W,
        long long B, int d, int T) {
    long long n = TC_GLOBAL_ID;
    if (n >= B) return;
    long long base = n * (long long)(T + 1);
    for (int i = 0; i < d; i++) W[base * d + i] = w0[n * d + i];
    for (int t = 0; t <= T; t++) {
        double fv = 0.0, fa = 0.0, gv = 0.0;
        for (int i = 0; i < d; i++) {
            double u = W[(base + t) * d + i] / s[n];
            double au = fabs(u);
            double h, dh, ha;
            if (au <= 1.0) {
                h = u * u * u * u;
                dh = 4.0 * u * u * u;
                ha = h;
            } else {
                double sg = u > 0 ? 1.0 : -1.0;
                h = 6.0 * u * u - 8.0 * au + 3.0;
                dh = 12.0 * u - 8.0 * sg;
                ha = 6.0 * u * u + 8.0 * au + 3.0;
            }
            double gi = a[n] / s[n] * dh;
            fv += h;
            fa += ha;
            gv += gi * gi;
            if (t < T) W[(base + t + 1) * d + i] = W[(base + t) * d + i] - eta[n] * gi;
        }
        f[base + t] = a[n] * fv;
        fab[base + t] = a[n] * fa;
        g2[base + t] = gv;
    }
}
"""
_CUDA_PRELUDE = "#define TC_GLOBAL_ID ((long long)blockIdx.x * (long long)blockDim.x + (long long)threadIdx.x)\n"


@cache
def _cupy_kernel():
    import cupy  # noqa: PLC0415 - lazy by design: importing kernels must not import CuPy

    return cupy.RawModule(code=_CUDA_PRELUDE + CUDA_SOURCE, options=("--fmad=false",)).get_function(CUDA_KERNEL)


def _run_cupy(a, s, w0, eta, T):
    import cupy  # noqa: PLC0415

    B, d = w0.shape
    dev = [cupy.asarray(x) for x in (a, s, w0, eta)]
    f, g2, fab = (cupy.empty((B, T + 1)) for _ in range(3))
    W = cupy.empty((B, T + 1, d))
    threads = 128
    blocks = max(1, -(-B // threads))
    _cupy_kernel()((blocks,), (threads,), (*dev, f, g2, fab, W, np.int64(B), np.int32(d), np.int32(T)))
    return f.get(), g2.get(), fab.get(), W.get()


def gd_quartic_huber(a: Any, s: Any, w0: Any, eta: Any, T: int, *, backend: str = "numpy",
                     dtype: Any = np.float64) -> QuarticHuberRun:
    """Gradient descent ``w_{t+1} = w_t - eta grad f(w_t)`` on ``f = a sum_i h(w_i / s)``.

    Args:
        a, s: (B,) positive scales.  w0: (B, d) starting points.  eta: (B,) step sizes.
        T: number of steps.  backend: "numpy" (reference, any float dtype), "numba" or "cupy" (float64;
        "cupy" raises :class:`kernels.BackendUnavailable` where CuPy or a device is missing).
    """
    if backend not in ("numpy", "numba", "cupy", "auto"):
        raise ValueError(f"gd_quartic_huber runs on 'numpy', 'numba' or 'cupy', got {backend!r}")
    if backend == "cupy":
        from . import resolve_backend  # noqa: PLC0415 - raises BackendUnavailable with the reason

        resolve_backend("cupy")
    if backend == "auto":
        import importlib.util  # noqa: PLC0415

        backend = "numba" if importlib.util.find_spec("numba") is not None else "numpy"
    dt = np.dtype(dtype)
    if backend in ("numba", "cupy") and dt != np.dtype(np.float64):
        raise ValueError(f"backend {backend!r} computes in float64 only; use backend='numpy' for other dtypes")
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
    if backend == "numpy":
        f, g2, fabs, W = _reference(a, s, w0, eta, T)
    elif backend == "cupy":
        f, g2, fabs, W = _run_cupy(a, s, w0, eta, T)
    else:
        f = np.empty((B, T + 1))
        g2 = np.empty((B, T + 1))
        fabs = np.empty((B, T + 1))
        W = np.empty((B, T + 1, d))
        _numba_kernel()(a, s, w0, eta, T, f, g2, fabs, W)
    return QuarticHuberRun(f, g2, fabs, W, backend)
