"""NumPy reference of ``pl_networks.gd_net`` (float32, float64, ``np.longdouble`` for replay)."""

from __future__ import annotations

import numpy as np

from . import activation

__all__ = ["gd_kernel"]


def gd_kernel(X, v, y, act, a, W0, eta, anchor, T, keep):
    """``pl_networks.gd_net`` on NumPy: res2, res2abs, g2, dist2, dist2abs (B, T+1), steplen (B, T), iterates or None."""
    B, n, d = X.shape
    k = v.shape[1]
    dt = W0.dtype
    res2 = np.empty((B, T + 1), dtype=dt)
    res2abs = np.empty((B, T + 1), dtype=dt)
    g2 = np.empty((B, T + 1), dtype=dt)
    dist2 = np.empty((B, T + 1), dtype=dt)
    dist2abs = np.empty((B, T + 1), dtype=dt)
    steplen = np.empty((B, T), dtype=dt)
    Wall = np.empty((B, T + 1, k * d), dtype=dt) if keep else None
    W = W0.reshape(B, k, d).copy()
    anc = anchor.reshape(B, k, d)
    for t in range(T + 1):
        Z = np.einsum("bkd,bnd->bkn", W, X)
        phi, dphi, _ = activation(Z, act, a[:, None, None])
        terms = v[:, :, None] * phi
        r = terms.sum(axis=1) - y
        scale = np.abs(terms).sum(axis=1) + np.abs(y)
        G = v[:, :, None] * np.einsum("bkn,bn,bnd->bkd", dphi, r, X)
        res2[:, t] = (r * r).sum(axis=1)
        res2abs[:, t] = (scale * scale).sum(axis=1)
        g2[:, t] = (G * G).sum(axis=(1, 2))
        diff = W - anc
        dist2[:, t] = (diff * diff).sum(axis=(1, 2))
        sa = np.abs(W) + np.abs(anc)
        dist2abs[:, t] = (sa * sa).sum(axis=(1, 2))
        if keep:
            Wall[:, t] = W.reshape(B, k * d)
        if t < T:
            step = eta[:, None, None] * G
            steplen[:, t] = np.sqrt((step * step).sum(axis=(1, 2)))
            W = W - step
    return res2, res2abs, g2, dist2, dist2abs, steplen, Wall
