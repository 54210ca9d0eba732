"""Batched matrix kernels for the Schur product family: Hadamard products, symmetric eigenvalues,
and the explicit Jacobian Gram matrix of a one-hidden-layer network.

Public entry points (one per computation, validated here, three implementations each):

* :func:`eigvalsh` -- ascending eigenvalues of a batch of symmetric matrices ``(N, n, n)``;
* :func:`hadamard_eigvalsh` -- eigenvalues of the Hadamard products ``A[b] * B[b]``;
* :func:`jacobian_gram` -- ``J J^T`` with the Jacobian ``J`` of ``f(x) = v^T phi(W x)`` with respect
  to ``W`` built explicitly, row by row (``J[i, l*d + j] = v_l phi'(w_l . x_i) x_ij``).

Backends: ``"numpy"`` (the oracle; LAPACK has no extended precision, so for ``np.longdouble``
:func:`eigvalsh` and :func:`hadamard_eigvalsh` take a ``solver`` -- ``numeric.schur`` passes mpmath's),
``"numba"`` (``prange`` over the batch, LAPACK's ``eigvalsh`` called per matrix inside the loop) and
``"cupy"`` (``cupy.linalg.eigvalsh`` batched; CuPy imported lazily).  float64 only for numba/CuPy.
The implementations sit side by side in :mod:`kernels.matrices.reference`, ``.numba`` and ``.cupy``;
the backend comes from :func:`kernels.backend.select` (``"auto"`` accepted).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from ..backend import KernelImpl, get_kernel, select

__all__ = ["ACTIVATIONS", "eigvalsh", "hadamard_eigvalsh", "jacobian_gram", "activation_derivative",
           "HERMITE_ACTIVATIONS", "GH_NODES", "gauss_hermite", "hermite_coefficients", "gaussian_cross_moment",
           "hermite_dphi"]

#: Activations whose derivative phi' the Jacobian kernels know (index = integer code).
ACTIVATIONS: tuple[str, ...] = ("softplus", "tanh", "relu")

_REF_DTYPES = ("float32", "float64", "longdouble")

#: This family's implementations (registered through the ``thmcheck.kernels`` entry point ``matrices``).
KERNELS: tuple[KernelImpl, ...] = tuple(
    KernelImpl(f"matrices.{op}", backend, _REF_DTYPES if backend == "numpy" else ("float64",),
               f"kernels.matrices.{backend if backend != 'numpy' else 'reference'}:{op}_kernel")
    for op in ("eigvalsh", "hadamard_eigvalsh", "jacobian_gram") for backend in ("numpy", "numba", "cupy")
)


def _square_batch(M: np.ndarray, name: str) -> np.ndarray:
    if M.ndim != 3 or M.shape[1] != M.shape[2]:
        raise ValueError(f"{name} must have shape (N, n, n), got {M.shape}")
    return M


def eigvalsh(M: np.ndarray, *, backend: str = "numpy", dtype: Any = np.float64, solver: Any = None) -> np.ndarray:
    """Ascending eigenvalues ``(N, n)`` of the symmetric matrices ``M`` ``(N, n, n)`` (lower triangle
    read).  ``solver`` (numpy backend only): a callable ``(N, n, n) -> (N, n)`` used instead of LAPACK,
    e.g. an extended-precision one for ``np.longdouble``."""
    backend = select("matrices.eigvalsh", backend, dtype)
    dt = np.dtype(dtype)
    M = _square_batch(np.asarray(M, dtype=dt), "M")
    return get_kernel("matrices.eigvalsh", backend)(M, solver)


def hadamard_eigvalsh(A: np.ndarray, B: np.ndarray, *, backend: str = "numpy", dtype: Any = np.float64,
                      solver: Any = None) -> np.ndarray:
    """Ascending eigenvalues ``(N, n)`` of ``A[b] * B[b]`` (entrywise product) for every b."""
    backend = select("matrices.hadamard_eigvalsh", backend, dtype)
    dt = np.dtype(dtype)
    A = _square_batch(np.asarray(A, dtype=dt), "A")
    B = _square_batch(np.asarray(B, dtype=dt), "B")
    if A.shape != B.shape:
        raise ValueError(f"A and B differ in shape: {A.shape} vs {B.shape}")
    return get_kernel("matrices.hadamard_eigvalsh", backend)(A, B, solver)


def activation_derivative(Z: np.ndarray, act: np.ndarray) -> np.ndarray:
    """phi'(Z) entrywise, with the activation chosen per batch element by ``act`` (N,) codes
    into :data:`ACTIVATIONS`; works in any float dtype (longdouble included)."""
    act = np.asarray(act).reshape((-1,) + (1,) * (Z.ndim - 1))
    one = Z.dtype.type(1)
    sig = one / (one + np.exp(-Z))
    ch = np.cosh(Z)
    with np.errstate(over="ignore"):
        sech2 = one / (ch * ch)
    return np.where(act == 0, sig, np.where(act == 1, sech2, np.where(Z > 0, one, Z.dtype.type(0))))


def jacobian_gram(X: np.ndarray, W: np.ndarray, v: np.ndarray, act: np.ndarray, *, backend: str = "numpy",
                  dtype: Any = np.float64) -> np.ndarray:
    """``J J^T`` ``(N, n, n)`` for ``f(x) = v^T phi(W x)``, J the Jacobian of ``(f(x_1), ..., f(x_n))``
    with respect to ``vec(W)``, built explicitly: X ``(N, n, d)``, W ``(N, k, d)``, v ``(N, k)``,
    act ``(N,)`` activation codes."""
    backend = select("matrices.jacobian_gram", backend, dtype)
    dt = np.dtype(dtype)
    X, W, v = (np.asarray(a, dtype=dt) for a in (X, W, v))
    act = np.asarray(act, dtype=np.int64)
    if X.ndim != 3 or W.ndim != 3 or v.ndim != 2 or W.shape[2] != X.shape[2] or v.shape[1] != W.shape[1]:
        raise ValueError(f"shapes X {X.shape}, W {W.shape}, v {v.shape} do not fit (N,n,d), (N,k,d), (N,k)")
    return get_kernel("matrices.jacobian_gram", backend)(X, W, v, act)


# ------------------------------------------------------------------------------------------------
# Gaussian expectations for the Hermite lemma (NumPy; any float dtype)
# ------------------------------------------------------------------------------------------------

#: Activations of the Hermite lemma: phi' is sigmoid (softplus), sech^2 (tanh), 2/sqrt(pi) e^{-z^2} (erf).
HERMITE_ACTIVATIONS: tuple[str, ...] = ("softplus", "tanh", "erf")

#: Gauss-Hermite nodes of the two-dimensional expectations (the tests check Q vs 2Q agreement).
GH_NODES = 48


@cache
def _gauss_hermite(q: int, dtype_name: str) -> tuple[np.ndarray, np.ndarray]:
    dt = np.dtype(dtype_name)
    z, w = np.polynomial.hermite_e.hermegauss(q)
    if dt == np.dtype(np.float64):
        return z, w / w.sum()
    # Extended precision: Newton steps on He_q from the float64 nodes (three-term recurrence in dt),
    # then w_i proportional to 1 / He_{q-1}(z_i)^2.
    z = z.astype(dt)
    for _ in range(4):
        p_prev, p = np.ones_like(z), z.copy()
        for r in range(1, q):
            p_prev, p = p, z * p - r * p_prev  # p = He_{r+1}, p_prev = He_r
        z = z - p / (q * p_prev)
    p_prev, p = np.ones_like(z), z.copy()
    for r in range(1, q - 1):
        p_prev, p = p, z * p - r * p_prev
    w = 1 / (p * p)  # p = He_{q-1}
    return z, w / w.sum()


def gauss_hermite(q: int, dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss-Hermite nodes and weights normalised to sum 1: ``E f(g) ~ sum w f(z)``,
    accurate to the working precision of ``dtype`` (float64 or longdouble)."""
    return _gauss_hermite(int(q), np.dtype(dtype).name)


def hermite_dphi(z: np.ndarray, code: int) -> np.ndarray:
    one = z.dtype.type(1)
    if code == 0:
        return one / (one + np.exp(-z))
    if code == 1:
        c = np.cosh(z)
        return one / (c * c)
    return np.exp(-z * z) * (2 / np.sqrt(np.asarray(np.pi, dtype=z.dtype)))


def hermite_coefficients(code: int, r_max: int, *, q: int = 200, dtype: Any = np.float64) -> np.ndarray:
    """``mu_r(phi') = E[phi'(g) He_r(g)] / sqrt(r!)``, r = 0..r_max (orthonormal Hermite basis), by
    Gauss-Hermite quadrature with ``q`` nodes (closed forms for erf: mu_0 = 2/sqrt(3 pi),
    mu_1 = 0, mu_2 = -4 / (3 sqrt(6 pi)))."""
    z, w = gauss_hermite(q, dtype)
    f = hermite_dphi(z, code)
    he_prev, he = np.ones_like(z), z.copy()
    out = [float("nan")] * (r_max + 1)
    out[0] = (w * f).sum()
    fact = 1.0
    for r in range(1, r_max + 1):
        if r > 1:
            he_prev, he = he, z * he - (r - 1) * he_prev
        fact *= r
        out[r] = (w * f * he).sum() / np.sqrt(np.asarray(fact, dtype=dtype))
    return np.asarray(out, dtype=dtype)


_CHUNK = 64


def gaussian_cross_moment(K: np.ndarray, code: np.ndarray, *, q: int = GH_NODES) -> np.ndarray:
    """``E[phi'(g_i) phi'(g_j)]`` for standard normals with correlation ``K_ij`` (N, n, n), activation
    per batch element.  erf: exact, ``(4/pi) / sqrt(9 - 4 rho^2)``; softplus and tanh: two-dimensional
    Gauss-Hermite quadrature with ``g_j = rho g_i + sqrt(1 - rho^2) h``."""
    dt = K.dtype
    N, n, _ = K.shape
    iu = np.triu_indices(n)
    rho = np.clip(K[:, iu[0], iu[1]], -1, 1)  # (N, p): the upper triangle only
    val = np.empty_like(rho)
    code = np.asarray(code)
    exact = code == 2
    if exact.any():
        val[exact] = 4 / np.asarray(np.pi, dtype=dt) / np.sqrt(9 - 4 * rho[exact] ** 2)
    z, w = gauss_hermite(q, dt)
    s = np.sqrt(1 - rho * rho)
    for c in (0, 1):
        sel = code == c
        if not sel.any():
            continue
        rs = rho[sel]
        r, sr = rs.reshape(-1), s[sel].reshape(-1)
        wa = w * hermite_dphi(z, c)
        got = np.empty_like(r)
        # _CHUNK correlations at a time: their (q, q) grids stay in cache (a whole batch's grid is
        # hundreds of MB, and writing it through memory made this 10-20x slower); each value is
        # the same elementwise expression and the same per-element sum, so the result is unchanged.
        for i in range(0, r.size, _CHUNK):
            rc, sc = r[i:i + _CHUNK, None, None], sr[i:i + _CHUNK, None, None]
            inner = hermite_dphi(rc * z[:, None] + sc * z[None, :], c)  # (chunk, q, q)
            got[i:i + _CHUNK] = np.einsum("...ab,a,b->...", inner, wa, w)
        val[sel] = got.reshape(rs.shape)
    out = np.empty_like(K)
    out[:, iu[0], iu[1]] = val
    out[:, iu[1], iu[0]] = val
    return out
