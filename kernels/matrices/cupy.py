"""CuPy kernels of the Schur family (float64; CuPy imported when a kernel runs)."""

from __future__ import annotations

__all__ = ["eigvalsh_kernel", "hadamard_eigvalsh_kernel", "jacobian_gram_kernel"]


def eigvalsh_kernel(M, solver=None):
    """``matrices.eigvalsh`` on CuPy (``cupy.linalg.eigvalsh`` batched)."""
    import cupy  # noqa: PLC0415 - lazy by design

    return cupy.asnumpy(cupy.linalg.eigvalsh(cupy.asarray(M)))


def hadamard_eigvalsh_kernel(A, B, solver=None):
    """``matrices.hadamard_eigvalsh`` on CuPy."""
    import cupy  # noqa: PLC0415

    return cupy.asnumpy(cupy.linalg.eigvalsh(cupy.asarray(A) * cupy.asarray(B)))


def jacobian_gram_kernel(X, W, v, act):
    """``matrices.jacobian_gram`` on CuPy."""
    import cupy  # noqa: PLC0415

    Xc, Wc, vc = cupy.asarray(X), cupy.asarray(W), cupy.asarray(v)
    Z = cupy.einsum("bid,bld->bil", Xc, Wc)
    a = cupy.asarray(act).reshape(-1, 1, 1)
    sig = 1.0 / (1.0 + cupy.exp(-Z))
    ch = cupy.cosh(Z)
    G = cupy.where(a == 0, sig, cupy.where(a == 1, 1.0 / (ch * ch), (Z > 0).astype(Z.dtype))) * vc[:, None, :]
    J = (G[:, :, :, None] * Xc[:, :, None, :]).reshape(X.shape[0], X.shape[1], -1)
    return cupy.asnumpy(cupy.einsum("bic,bjc->bij", J, J))


