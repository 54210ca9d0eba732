"""The point of the unit ball at which the softplus classes bound min L from below.

Shared by the generators (:mod:`numeric.families.scale_invariant_softplus`, which store lmin) and
the exact membership hook (:mod:`numeric.families.scale_invariant_softplus_exact`, which recomputes
the same point and encloses the bound there): both must take the bound at the same v*, and neither
module may import the other (the classes' module attaches the hook).
"""

from __future__ import annotations

import numpy as np
from kernels.scale_invariant import softplus_ball_descent

__all__ = ["softplus_h", "softplus_ball_point"]


def softplus_h(a: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """h(v) = (1/m) sum_k softplus(a_k^T v) and its gradient, any v (not normalised); a (B, m, d), v (B, d)."""
    z = np.matmul(a, v[:, :, None])[:, :, 0]
    sp = np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))
    sg = np.exp(z - sp)
    return sp.mean(axis=1), np.matmul(sg[:, None, :], a)[:, 0, :] / a.shape[1]


def softplus_ball_point(a: np.ndarray, iters: int) -> np.ndarray:
    """The point v* of the unit ball the lower bound of min L is taken at: ``iters`` steps of projected
    gradient descent on h from -grad h(0)/||grad h(0)|| (any v* gives a valid bound; a good one a tight one)."""
    B, m, d = a.shape
    C = np.einsum("bki,bkj->bij", a, a) / m
    step = 1.0 / np.maximum(np.linalg.eigvalsh(C)[:, -1] / 4.0, 1e-300)
    _, g = softplus_h(a, np.zeros((B, d)))
    v = -g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-300)
    return softplus_ball_descent(a, v, step, iters)  # the iterate only; the bound is computed by the callers
