"""The saddle test functions of family 5 (:class:`SaddleProblem`) and the eps-SOSP test, in any float dtype.

Shared by the entry points (:mod:`kernels.escape`) and the NumPy reference (:mod:`kernels.escape.reference`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["BALL_DRAW", "SaddleProblem", "psd_shift_test"]

#: Draw index (Philox block) of the uniform that sets the radius of a ball perturbation; far above the
#: blocks ``0 .. ceil(d/2) - 1`` that the d normals of the same step read.
BALL_DRAW = 0x7FFFFFFF


@dataclass(frozen=True, eq=False)
class SaddleProblem:
    """A batch of test functions (see the module docstring): h, c, q (B, d); s, f0 (B,)."""

    h: np.ndarray
    c: np.ndarray
    q: np.ndarray
    s: np.ndarray
    f0: np.ndarray
    xs: np.ndarray | None = None  # (B, d): the critical point the instance is built around (data only)

    def __post_init__(self) -> None:
        h = np.asarray(self.h)
        if h.ndim != 2:
            raise ValueError(f"h must have shape (B, d), got {h.shape}")
        for name in ("c", "q"):
            if np.shape(getattr(self, name)) != h.shape:
                raise ValueError(f"{name} must have the shape of h {h.shape}, got {np.shape(getattr(self, name))}")
        if self.xs is not None and np.shape(self.xs) != h.shape:
            raise ValueError(f"xs must have the shape of h {h.shape}, got {np.shape(self.xs)}")
        for name in ("s", "f0"):
            if np.shape(getattr(self, name)) != h.shape[:1]:
                raise ValueError(f"{name} must have shape ({h.shape[0]},), got {np.shape(getattr(self, name))}")

    @property
    def batch(self) -> int:
        return int(np.shape(self.h)[0])

    @property
    def dim(self) -> int:
        return int(np.shape(self.h)[1])

    def take(self, index: Any) -> "SaddleProblem":
        """The sub-batch (or replicated batch) of instances ``index`` along axis 0."""
        idx = np.asarray(index)
        xs = None if self.xs is None else np.asarray(self.xs)[idx]
        return SaddleProblem(*(np.asarray(getattr(self, k))[idx] for k in ("h", "c", "q", "s", "f0")), xs=xs)

    def astype(self, dtype: Any) -> "SaddleProblem":
        xs = None if self.xs is None else np.asarray(self.xs, dtype=dtype)
        return SaddleProblem(*(np.asarray(getattr(self, k), dtype=dtype) for k in ("h", "c", "q", "s", "f0")), xs=xs)

    # ---- the function, in any float dtype (reference definitions) ----

    def value(self, x: np.ndarray) -> np.ndarray:
        """f(x) for x of shape (B, d) or (B, ..., d) (instance axis first)."""
        h, c, q, s, f0 = _bcast(self, x)
        n2 = (x * x).sum(axis=-1)
        return f0 + (h * x * x / 2 + c * (np.sin(x) - x) + q * x**4 / 4).sum(axis=-1) + s * n2 * n2 / 4

    def value_scale(self, x: np.ndarray) -> np.ndarray:
        """The sum of |terms| of f(x): the rounding scale of f however much its terms cancel."""
        h, c, q, s, f0 = _bcast(self, x)
        n2 = (x * x).sum(axis=-1)
        terms = np.abs(h) * x * x / 2 + np.abs(c) * (np.abs(np.sin(x)) + np.abs(x)) + np.abs(q) * x**4 / 4
        return np.abs(f0) + terms.sum(axis=-1) + np.abs(s) * n2 * n2 / 4

    def grad(self, x: np.ndarray) -> np.ndarray:
        h, c, q, s, _ = _bcast(self, x)
        n2 = (x * x).sum(axis=-1, keepdims=True)
        return h * x + c * (np.cos(x) - 1) + q * x**3 + s[..., None] * n2 * x

    def hess_diag(self, x: np.ndarray) -> np.ndarray:
        """The diagonal part ``h - c sin x + 3 q x^2 + s ||x||^2`` of the Hessian (the rest is
        the rank-one ``2 s x x^T``)."""
        h, c, q, s, _ = _bcast(self, x)
        n2 = (x * x).sum(axis=-1, keepdims=True)
        return h - c * np.sin(x) + 3 * q * x * x + s[..., None] * n2

    def hess_apply(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Hess f(x) v."""
        s = _bcast(self, x)[3]
        return self.hess_diag(x) * v + 2 * s[..., None] * x * (x * v).sum(axis=-1, keepdims=True)

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """The dense Hessian (B, d, d) at x (B, d); for tests and membership checks."""
        D = self.hess_diag(x)
        s = np.asarray(self.s, dtype=x.dtype)
        return np.einsum("bi,ij->bij", D, np.eye(x.shape[-1], dtype=x.dtype)) + 2 * s[:, None, None] * x[:, :, None] * x[:, None, :]


def _bcast(p: SaddleProblem, x: np.ndarray) -> tuple[np.ndarray, ...]:
    """Problem arrays shaped to broadcast against x (B, ..., d); s and f0 against f (B, ...)."""
    extra = x.ndim - 2
    dt = x.dtype
    vec = tuple(np.asarray(getattr(p, k), dtype=dt).reshape((p.batch,) + (1,) * extra + (p.dim,)) for k in ("h", "c", "q"))
    sca = tuple(np.asarray(getattr(p, k), dtype=dt).reshape((p.batch,) + (1,) * extra) for k in ("s", "f0"))
    return (*vec, *sca)


def psd_shift_test(D: np.ndarray, u2: np.ndarray) -> np.ndarray:
    """Whether ``diag(D) + u u^T >= 0`` (per row), given D (B, d) and ``u2 = u * u`` (B, d).

    Rank-one interlacing: with no negative D_i it holds; with two or more it fails; with exactly one
    negative D_k (and every other D_i > 0) ``det = prod(D) (1 + sum u_i^2 / D_i)``, and the only
    eigenvalue that can be negative has the sign of the determinant, so it holds iff
    ``1 + sum u_i^2 / D_i <= 0``.  (The same test, in the same order, is in the numba kernel.)"""
    neg = (D < 0).sum(axis=-1)
    zero_other = ((D == 0).sum(axis=-1) > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        secular = 1 + np.where(D != 0, u2 / np.where(D != 0, D, 1), 0).sum(axis=-1)
    one = (neg == 1) & ~zero_other & (secular <= 0)
    return (neg == 0) | one


def _sosp(p: SaddleProblem, x: np.ndarray, gn2: np.ndarray, eps: np.ndarray, tau: np.ndarray) -> np.ndarray:
    D = p.hess_diag(x) + tau[:, None]
    s = np.asarray(p.s, dtype=x.dtype)
    return (gn2 <= eps * eps) & psd_shift_test(D, 2 * s[:, None] * x * x)
