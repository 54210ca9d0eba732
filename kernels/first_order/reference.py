"""NumPy reference of ``first_order.run`` (any float dtype; ``np.longdouble`` for replays)."""

from __future__ import annotations

import numpy as np

from . import RotatedPWQ, evaluate

__all__ = ["run_kernel"]


def run_kernel(problem: RotatedPWQ, x0: np.ndarray, step: np.ndarray, momentum: np.ndarray, T: int,
               method: int) -> tuple[np.ndarray, ...]:
    """Iterates (B, T+1, d), f, ||grad f||^2 and the rounding scale of f (B, T+1); ``method`` is
    0 (gradient descent), 1 (heavy ball) or 2 (Nesterov)."""
    B, d = x0.shape
    dt = x0.dtype
    X = np.empty((B, T + 1, d), dtype=dt)
    f, g2, fa = (np.empty((B, T + 1), dtype=dt) for _ in range(3))
    x, prev = x0.copy(), x0.copy()
    for k in range(T + 1):
        fx, gx, fax = evaluate(problem, x)
        X[:, k], f[:, k], g2[:, k], fa[:, k] = x, fx, np.sum(gx * gx, axis=1), fax
        if k == T:
            break
        if method == 0:
            nxt = x - step[:, None] * gx
        elif method == 1:
            nxt = x + momentum[:, None] * (x - prev) - step[:, None] * gx
        else:
            y = x + dt.type(k - 1) / dt.type(k + 2) * (x - prev) if k > 0 else x
            nxt = y - step[:, None] * evaluate(problem, y)[1]
        prev, x = x, nxt
    return X, f, g2, fa
