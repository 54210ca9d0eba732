"""NumPy reference of ``pl.quartic_huber`` (float32, float64, ``np.longdouble`` for replay)."""

from __future__ import annotations

import numpy as np

from . import quartic_huber_value

__all__ = ["gd_kernel"]


def gd_kernel(a: np.ndarray, s: np.ndarray, w0: np.ndarray, eta: np.ndarray, T: int) -> tuple[np.ndarray, ...]:
    """``pl.quartic_huber`` on NumPy: f, gnorm2, fabs (B, T+1) and the iterates (B, T+1, d)."""
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
