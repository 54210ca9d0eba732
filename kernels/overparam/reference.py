"""NumPy reference of GD on the over-parameterized logistic loss (any float dtype, ``np.longdouble``
included): the test oracle and the extended-precision replay path.

Written to be obviously right, not fast.  Overflow is data: ``np.errstate(all="ignore")`` and the
returned arrays simply hold inf/nan once the product overflows.
"""

from __future__ import annotations

import numpy as np

__all__ = ["loss_and_grad", "gd_product_reference"]


def loss_and_grad(s: np.ndarray, weight: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``l(W) = sum_j weight_j log(1 + exp(-s_j W))`` and ``l'(W)`` for a batch.

    ``s`` (B, m) are the signed slopes ``y_j x_j``, ``weight`` (B, m) the (non-negative) weights,
    ``W`` (B,) the points.  Entries with weight 0 or slope 0 contribute exactly 0 (so padding never
    produces ``0 * inf = nan`` once W overflows).  Stable for any W, +-inf included.
    """
    with np.errstate(all="ignore"):
        active = (weight != 0) & (s != 0)
        z = np.where(active, s * W[:, None], 0)  # the margins y_j x_j W
        e = np.exp(-np.abs(z))
        softplus_neg = np.maximum(-z, 0) + np.log1p(e)  # log(1 + exp(-z))
        sig_neg = np.where(z >= 0, e / (1 + e), 1 / (1 + e))  # sigmoid(-z)
        loss = (weight * np.where(active, softplus_neg, 0)).sum(axis=1)
        grad = (weight * np.where(active, -s * sig_neg, 0)).sum(axis=1)
    return loss, grad


def gd_product_reference(s: np.ndarray, weight: np.ndarray, w0: np.ndarray, k: np.ndarray, eta: np.ndarray,
                         T: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """T steps of GD on ``l(w_1 ... w_k)`` from the equal start ``w_i = w0`` (per instance).

    By symmetry every factor receives the same update, so the k-vector iteration is exactly the
    scalar recurrence ``w' = w - eta l'(w^k) w^(k-1)``.  Returns ``(w, W, loss, lprime)``, each
    (B, T+1): the common factor, the product ``W_t = w_t^k``, ``l(W_t)`` and ``l'(W_t)``.
    """
    dt = w0.dtype
    B = w0.shape[0]
    kf = k.astype(dt)
    out = [np.empty((B, T + 1), dtype=dt) for _ in range(4)]
    w = w0.copy()
    with np.errstate(all="ignore"):
        for t in range(T + 1):
            W = np.power(w, kf)
            loss, g = loss_and_grad(s, weight, W)
            out[0][:, t], out[1][:, t], out[2][:, t], out[3][:, t] = w, W, loss, g
            if t < T:
                w = w - eta * g * np.power(w, kf - 1)
    return out[0], out[1], out[2], out[3]
