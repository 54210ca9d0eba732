"""NumPy reference of the Schur-family kernels (the oracle).  LAPACK has no extended precision: for
``np.longdouble`` the eigenvalue kernels need a ``solver`` (``numeric.schur`` passes mpmath's)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import activation_derivative

__all__ = ["eigvalsh_kernel", "hadamard_eigvalsh_kernel", "jacobian_gram_kernel"]


def _eig_reference(M: np.ndarray) -> np.ndarray:
    if M.dtype == np.longdouble and np.dtype(np.longdouble) != np.dtype(np.float64):
        raise ValueError("LAPACK has no extended precision: pass eigvalsh an extended-precision solver "
                         "(numeric.schur uses mpmath) or compute in float64")
    return np.linalg.eigvalsh(M)


def eigvalsh_kernel(M: np.ndarray, solver: Any = None) -> np.ndarray:
    """``matrices.eigvalsh`` on NumPy (or through ``solver``)."""
    return solver(M) if solver is not None else _eig_reference(M)


def hadamard_eigvalsh_kernel(A: np.ndarray, B: np.ndarray, solver: Any = None) -> np.ndarray:
    """``matrices.hadamard_eigvalsh`` on NumPy (or through ``solver``)."""
    return solver(A * B) if solver is not None else _eig_reference(A * B)


def jacobian_gram_kernel(X: np.ndarray, W: np.ndarray, v: np.ndarray, act: np.ndarray) -> np.ndarray:
    """``matrices.jacobian_gram`` on NumPy, in the arrays' dtype."""
    Z = np.einsum("bid,bld->bil", X, W)
    G = activation_derivative(Z, act) * v[:, None, :]  # (N, n, k)
    J = (G[:, :, :, None] * X[:, :, None, :]).reshape(X.shape[0], X.shape[1], -1)
    return np.einsum("bic,bjc->bij", J, J)
