"""numba kernels of the Schur family (``prange`` over the batch, float64): LAPACK's ``eigvalsh`` per
matrix inside the loop, and the explicit Jacobian Gram matrix."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["eigvalsh_kernel", "hadamard_eigvalsh_kernel", "jacobian_gram_kernel"]


@numba.njit(parallel=True, cache=True)
def eig_batch(M):
    N, n, _ = M.shape
    out = np.empty((N, n))
    for b in numba.prange(N):
        out[b] = np.linalg.eigvalsh(M[b])
    return out

@numba.njit(parallel=True, cache=True)
def hadamard_eig_batch(A, B):
    N, n, _ = A.shape
    out = np.empty((N, n))
    for b in numba.prange(N):
        H = np.empty((n, n))
        for i in range(n):
            for j in range(n):
                H[i, j] = A[b, i, j] * B[b, i, j]
        out[b] = np.linalg.eigvalsh(H)
    return out

@numba.njit(cache=True)
def dphi(z, act):
    if act == 0:
        return 1.0 / (1.0 + np.exp(-z))
    if act == 1:  # sech^2 = 1 / cosh^2: no cancellation (1 - tanh^2 loses digits for large |z|)
        c = np.cosh(z)
        return 1.0 / (c * c)
    return 1.0 if z > 0.0 else 0.0

@numba.njit(parallel=True, cache=True)
def gram_batch(X, W, v, act):
    N, n, d = X.shape
    k = W.shape[1]
    out = np.empty((N, n, n))
    for b in numba.prange(N):
        J = np.empty((n, k * d))
        for i in range(n):
            for l in range(k):
                z = 0.0
                for j in range(d):
                    z += W[b, l, j] * X[b, i, j]
                g = v[b, l] * dphi(z, act[b])
                for j in range(d):
                    J[i, l * d + j] = g * X[b, i, j]
        for i in range(n):
            for i2 in range(i, n):
                s = 0.0
                for c in range(k * d):
                    s += J[i, c] * J[i2, c]
                out[b, i, i2] = s
                out[b, i2, i] = s
    return out


def eigvalsh_kernel(M, solver=None):
    """``matrices.eigvalsh`` on numba (``solver`` is a numpy-backend option and is not used)."""
    return eig_batch(np.ascontiguousarray(M))


def hadamard_eigvalsh_kernel(A, B, solver=None):
    """``matrices.hadamard_eigvalsh`` on numba."""
    return hadamard_eig_batch(np.ascontiguousarray(A), np.ascontiguousarray(B))


def jacobian_gram_kernel(X, W, v, act):
    """``matrices.jacobian_gram`` on numba."""
    return gram_batch(*(np.ascontiguousarray(a) for a in (X, W, v)), act)
