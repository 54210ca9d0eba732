"""numba kernel of ``first_order.run`` (``prange`` over the batch, float64)."""

from __future__ import annotations

import numba
import numpy as np

from . import RotatedPWQ, knot_values

__all__ = ["run_kernel"]


@numba.njit(cache=True, fastmath=False)
def _value_grad(Q, z, g, F, FA, cl, cr, f0, x, grad):
    """f(x), its rounding scale, and grad f(x) written into ``grad`` (one function of the batch)."""
    d, K1 = z.shape
    fx = f0
    fa = abs(f0)
    for i in range(d):
        grad[i] = 0.0
    for i in range(d):
        y = 0.0
        for j in range(d):
            y += Q[i, j] * x[j]
        k = -1
        for j in range(K1):
            if z[i, j] <= y:
                k = j
            else:
                break
        if k < 0:
            base = 0
            curv = cl[i]
        elif k >= K1 - 1:
            base = K1 - 1
            curv = cr[i]
        else:
            base = k
            dz = z[i, k + 1] - z[i, k]
            curv = (g[i, k + 1] - g[i, k]) / dz if dz > 0 else 0.0
        dd = y - z[i, base]
        gb = g[i, base]
        fx += F[i, base] + gb * dd + curv * dd * dd / 2
        fa += FA[i, base] + abs(gb * dd) + abs(curv) * dd * dd / 2
        dphi = gb + curv * dd
        for j in range(d):
            grad[j] += Q[i, j] * dphi
    return fx, fa


@numba.njit(parallel=True, cache=True, fastmath=False)
def _run(Q, z, g, F, FA, cl, cr, f0, x0, step, momentum, T, method, X, f, g2, fa):
    B, d, K1 = z.shape
    for n in numba.prange(B):
        x = x0[n].copy()
        prev = x0[n].copy()
        nxt = np.empty(d)
        y = np.empty(d)
        gr = np.empty(d)
        gy = np.empty(d)
        for k in range(T + 1):
            fx, fax = _value_grad(Q[n], z[n], g[n], F[n], FA[n], cl[n], cr[n], f0[n], x, gr)
            s = 0.0
            for j in range(d):
                X[n, k, j] = x[j]
                s += gr[j] * gr[j]
            f[n, k] = fx
            fa[n, k] = fax
            g2[n, k] = s
            if k == T:
                break
            if method == 0:
                for j in range(d):
                    nxt[j] = x[j] - step[n] * gr[j]
            elif method == 1:
                for j in range(d):
                    nxt[j] = x[j] + momentum[n] * (x[j] - prev[j]) - step[n] * gr[j]
            else:
                if k > 0:
                    m = (k - 1.0) / (k + 2.0)
                    for j in range(d):
                        y[j] = x[j] + m * (x[j] - prev[j])
                else:
                    for j in range(d):
                        y[j] = x[j]
                _value_grad(Q[n], z[n], g[n], F[n], FA[n], cl[n], cr[n], f0[n], y, gy)
                for j in range(d):
                    nxt[j] = y[j] - step[n] * gy[j]
            for j in range(d):
                prev[j] = x[j]
                x[j] = nxt[j]


def run_kernel(pb: RotatedPWQ, x0: np.ndarray, step: np.ndarray, momentum: np.ndarray, T: int,
               method: int) -> tuple[np.ndarray, ...]:
    """``first_order.run`` on numba (same outputs as :func:`kernels.first_order.reference.run_kernel`)."""
    B, d, _ = pb.z.shape
    F, FA = knot_values(pb.z, pb.g)
    X = np.empty((B, T + 1, d))
    f, g2, fa = (np.empty((B, T + 1)) for _ in range(3))
    c = np.ascontiguousarray
    _run(c(pb.Q), c(pb.z), c(pb.g), c(F), c(FA), c(pb.cl), c(pb.cr), c(pb.f0), x0, step, momentum, int(T),
         int(method), X, f, g2, fa)
    return X, f, g2, fa
