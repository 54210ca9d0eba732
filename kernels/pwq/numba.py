"""numba kernel of ``pwq.gd`` (``prange`` over the batch, float64)."""

from __future__ import annotations

import numba
import numpy as np

from . import PiecewiseQuadratic, pwq_knot_values

__all__ = ["gd_kernel"]


@numba.njit(parallel=True, cache=True, fastmath=False)
def run(z, g, F, FA, x0, eta, T, X, f, g2, fa):
    B, K1 = z.shape
    for n in numba.prange(B):
        x = x0[n]
        for t in range(T + 1):
            k = -1
            for j in range(K1):
                if z[n, j] <= x:
                    k = j
                else:
                    break
            if k < 0:
                base = 0
                curv = 0.0
            elif k >= K1 - 1:
                base = K1 - 1
                curv = 0.0
            else:
                base = k
                dz = z[n, k + 1] - z[n, k]
                curv = (g[n, k + 1] - g[n, k]) / dz if dz > 0 else 0.0
            d = x - z[n, base]
            gb = g[n, base]
            gx = gb + curv * d
            X[n, t] = x
            f[n, t] = F[n, base] + gb * d + curv * d * d / 2
            fa[n, t] = FA[n, base] + abs(gb * d) + abs(curv) * d * d / 2
            g2[n, t] = gx * gx
            if t < T:
                x = x - eta[n] * gx


def gd_kernel(pb: PiecewiseQuadratic, x0: np.ndarray, eta: np.ndarray, T: int) -> tuple[np.ndarray, ...]:
    """``pwq.gd`` on numba (same outputs as :func:`kernels.pwq.reference.gd_kernel`)."""
    B = pb.z.shape[0]
    F, FA = pwq_knot_values(pb.z, pb.g, pb.f0)
    X, f, g2, fa = (np.empty((B, T + 1)) for _ in range(4))
    run(np.ascontiguousarray(pb.z), np.ascontiguousarray(pb.g), np.ascontiguousarray(F),
        np.ascontiguousarray(FA), x0, eta, T, X, f, g2, fa)
    return X, f, g2, fa
