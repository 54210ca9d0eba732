"""numba kernel of ``pl.quartic_huber`` (``prange`` over the batch, float64)."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["gd_kernel"]


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


def gd_kernel(a: np.ndarray, s: np.ndarray, w0: np.ndarray, eta: np.ndarray, T: int) -> tuple[np.ndarray, ...]:
    """``pl.quartic_huber`` on numba (same outputs as :func:`kernels.pl.reference.gd_kernel`)."""
    B, d = w0.shape
    f = np.empty((B, T + 1))
    g2 = np.empty((B, T + 1))
    fabs = np.empty((B, T + 1))
    W = np.empty((B, T + 1, d))
    run(a, s, w0, eta, T, f, g2, fabs, W)
    return f, g2, fabs, W
