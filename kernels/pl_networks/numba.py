"""numba kernel of ``pl_networks.gd_net`` (``prange`` over the batch, float64)."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["gd_kernel"]


@numba.njit(parallel=True, cache=True, fastmath=False)
def run(X, v, y, act, a, W0, eta, anchor, T, res2, res2abs, g2, dist2, dist2abs, steplen, Wall, keep):
    B, n, d = X.shape
    k = v.shape[1]
    p = k * d
    for b in numba.prange(B):
        w = W0[b].copy()
        G = np.empty(p)
        r = np.empty(n)
        dphi = np.empty((k, n))
        for t in range(T + 1):
            # forward: z_ji = w_j . x_i
            r2 = 0.0
            ra = 0.0
            for i in range(n):
                fi = 0.0
                si = 0.0
                for j in range(k):
                    z = 0.0
                    for q in range(d):
                        z += w[j * d + q] * X[b, i, q]
                    if act == 0:
                        ph = np.tanh(z)
                        dp = 1.0 - ph * ph
                    elif act == 1:
                        ph = max(z, 0.0) + np.log1p(np.exp(-abs(z)))
                        dp = (1.0 + np.tanh(z / 2.0)) / 2.0
                    else:
                        if z >= 0:
                            ph = z
                            dp = 1.0
                        else:
                            ph = a[b] * z
                            dp = a[b]
                    dphi[j, i] = dp
                    term = v[b, j] * ph
                    fi += term
                    si += abs(term)
                ri = fi - y[b, i]
                si += abs(y[b, i])
                r[i] = ri
                r2 += ri * ri
                ra += si * si
            gg = 0.0
            for j in range(k):
                for q in range(d):
                    acc = 0.0
                    for i in range(n):
                        acc += dphi[j, i] * r[i] * X[b, i, q]
                    gv = v[b, j] * acc
                    G[j * d + q] = gv
                    gg += gv * gv
            dd = 0.0
            da = 0.0
            for q in range(p):
                df = w[q] - anchor[b, q]
                dd += df * df
                sa = abs(w[q]) + abs(anchor[b, q])
                da += sa * sa
            res2[b, t] = r2
            res2abs[b, t] = ra
            g2[b, t] = gg
            dist2[b, t] = dd
            dist2abs[b, t] = da
            if keep:
                for q in range(p):
                    Wall[b, t, q] = w[q]
            if t < T:
                sl = 0.0
                for q in range(p):
                    st = eta[b] * G[q]
                    sl += st * st
                    w[q] = w[q] - st
                steplen[b, t] = np.sqrt(sl)


def gd_kernel(X, v, y, act, a, W0, eta, anchor, T, keep):
    """``pl_networks.gd_net`` on numba (same outputs as :func:`kernels.pl_networks.reference.gd_kernel`)."""
    B, n, d = X.shape
    kd = W0.shape[1]
    res2, res2abs, g2, dist2, dist2abs = (np.empty((B, T + 1)) for _ in range(5))
    steplen = np.empty((B, T))
    Wall = np.empty((B, T + 1, kd)) if keep else np.empty((1, 1, 1))
    run(X, v, y, int(act), a, W0, eta, anchor, T, res2, res2abs, g2, dist2, dist2abs, steplen, Wall, bool(keep))
    return res2, res2abs, g2, dist2, dist2abs, steplen, Wall if keep else None
