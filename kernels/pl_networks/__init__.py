"""GD on one-hidden-layer networks with a fixed output layer (PL family: the Oymak-Soltanolkotabi
key lemma for nonlinear least squares, and the leaky-ReLU single-neuron GLM).

    f_i(W) = sum_j v_j phi(w_j^T x_i),   L(W) = 1/2 ||f(W) - y||^2,   theta = vec(W) (row-major, W is k x d)
    grad L(W)_j = v_j sum_i phi'(w_j^T x_i) r_i x_i,   r = f(W) - y.

Activations (``act``): 0 = tanh, 1 = softplus ``log(1 + e^z)``, 2 = leaky ReLU ``max(z, a z)`` with
slope ``a`` in (0, 1) (derivative taken as 1 at z = 0).  The single-neuron GLM
``v^2/2 sum_i (sigma(w^T x_i) - sigma(w*^T x_i))^2`` is the case k = 1, y = v sigma(X w*) (the
instance class takes v a power of two near 1/sqrt(n), so that y is exact).

One public entry point, :func:`gd_net`, validated here, with two implementations of the same loop:
a NumPy reference (:mod:`kernels.pl_networks.reference`; float32, float64, ``np.longdouble`` for
replay) and a numba kernel (:mod:`kernels.pl_networks.numba`, ``prange`` over the batch, float64),
chosen by :func:`kernels.backend.select` (no CuPy kernel: asking for one raises BackendUnavailable).  Outputs per step: ``||r_t||^2`` and its rounding scale ``sum_i (sum_j |v_j
phi(z_ji)| + |y_i|)^2``, ``||grad||^2``, ``||theta_t - anchor||^2`` with its scale ``sum (|theta| +
|anchor|)^2`` (the anchor is theta_0 for the key lemma, w* for the GLM), and the step lengths
``||theta_{t+1} - theta_t||``.  Helpers :func:`net_forward` and :func:`net_jacobian` (NumPy, any dtype)
serve the instance generators and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import KernelImpl, get_kernel, select

__all__ = ["ACTIVATIONS", "NetRun", "activation", "gd_net", "net_forward", "net_jacobian"]

#: Activation code -> name.
ACTIVATIONS = {0: "tanh", 1: "softplus", 2: "leaky_relu"}

#: This family's implementations (registered through the ``thmcheck.kernels`` entry point ``pl_networks``).
KERNELS: tuple[KernelImpl, ...] = (
    KernelImpl("pl_networks.gd_net", "numpy", ("float32", "float64", "longdouble"),
               "kernels.pl_networks.reference:gd_kernel"),
    KernelImpl("pl_networks.gd_net", "numba", ("float64",), "kernels.pl_networks.numba:gd_kernel"),
)


@dataclass(frozen=True, eq=False)
class NetRun:
    """res2, res2abs, gnorm2, dist2, dist2abs: (B, T+1); steplen: (B, T); w: (B, T+1, p) or None."""

    res2: np.ndarray
    res2abs: np.ndarray
    gnorm2: np.ndarray
    dist2: np.ndarray
    dist2abs: np.ndarray
    steplen: np.ndarray
    w: np.ndarray | None
    backend: str


def activation(z: np.ndarray, act: int, a: Any = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """phi(z), phi'(z), phi''(z) elementwise (phi'' is 0 almost everywhere for leaky ReLU)."""
    if act == 0:
        t = np.tanh(z)
        s2 = 1 - t * t
        return t, s2, -2 * t * s2
    if act == 1:
        sp = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
        sg = (1 + np.tanh(z / 2)) / 2
        return sp, sg, sg * (1 - sg)
    if act == 2:
        pos = z >= 0
        return np.where(pos, z, a * z), np.where(pos, 1 + 0 * z, a + 0 * z), 0 * z
    raise ValueError(f"unknown activation code {act!r}; known: {ACTIVATIONS}")


def net_forward(X: np.ndarray, v: np.ndarray, W: np.ndarray, act: int, a: Any = 0.0) -> np.ndarray:
    """f(W) for a batch: X (B, n, d), v (B, k), W (B, k, d) -> (B, n)."""
    Z = np.einsum("bkd,bnd->bkn", W, X)
    return np.einsum("bk,bkn->bn", v, activation(Z, act, a)[0])


def net_jacobian(X: np.ndarray, v: np.ndarray, W: np.ndarray, act: int, a: Any = 0.0) -> np.ndarray:
    """The Jacobian of f w.r.t. theta = vec(W) (row-major): (B, n, k d)."""
    Z = np.einsum("bkd,bnd->bkn", W, X)
    dphi = activation(Z, act, a)[1]
    B, k, d = W.shape
    J = np.einsum("bk,bkn,bnd->bnkd", v, dphi, X)
    return J.reshape(B, X.shape[1], k * d)


def gd_net(X: Any, v: Any, y: Any, act: int, W0: Any, eta: Any, T: int, *, a: Any = 0.0, anchor: Any = None,
           backend: str = "numpy", dtype: Any = np.float64, keep_iterates: bool = False) -> NetRun:
    """Gradient descent ``theta_{t+1} = theta_t - eta grad L(theta_t)`` on ``L = 1/2 ||f(W) - y||^2``.

    Args:
        X: (B, n, d) inputs.  v: (B, k) fixed output weights.  y: (B, n) targets.
        act: activation code (0 tanh, 1 softplus, 2 leaky ReLU with slope ``a``, (B,) or scalar).
        W0: (B, k d) initial hidden weights, row-major vec(W).  eta: (B,) step sizes.  T: steps.
        anchor: (B, k d) point the squared distance is measured from (default W0).
        backend: "numpy" (reference; float32, float64, longdouble), "numba" (float64) or "auto".
    """
    backend = select("pl_networks.gd_net", backend, dtype)
    dt = np.dtype(dtype)
    if int(act) not in ACTIVATIONS:
        raise ValueError(f"unknown activation code {act!r}; known: {ACTIVATIONS}")
    X = np.ascontiguousarray(X, dtype=dt)
    if X.ndim != 3:
        raise ValueError(f"X must have shape (B, n, d), got {X.shape}")
    B, n, d = X.shape
    v = np.ascontiguousarray(v, dtype=dt)
    if v.ndim != 2 or v.shape[0] != B:
        raise ValueError(f"v must have shape (B, k) with B = {B}, got {v.shape}")
    k = v.shape[1]
    y = np.ascontiguousarray(y, dtype=dt)
    W0 = np.ascontiguousarray(W0, dtype=dt)
    if y.shape != (B, n) or W0.shape != (B, k * d):
        raise ValueError(f"y must be {(B, n)} and W0 {(B, k * d)}, got {y.shape} and {W0.shape}")
    anchor = W0.copy() if anchor is None else np.ascontiguousarray(anchor, dtype=dt)
    if anchor.shape != W0.shape:
        raise ValueError(f"anchor must have shape {W0.shape}, got {anchor.shape}")
    eta = np.ascontiguousarray(np.broadcast_to(np.asarray(eta, dtype=dt), (B,)))
    a = np.ascontiguousarray(np.broadcast_to(np.asarray(a, dtype=dt), (B,)))
    if int(act) == 2 and not np.all((a > 0) & (a < 1)):
        raise ValueError("the leaky-ReLU slope a must lie in (0, 1)")
    for name, arr in (("X", X), ("v", v), ("y", y), ("W0", W0), ("eta", eta), ("anchor", anchor)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite")
    T = int(T)
    if T < 0:
        raise ValueError("T must be >= 0")
    out = get_kernel("pl_networks.gd_net", backend)(X, v, y, int(act), a, W0, eta, anchor, T, bool(keep_iterates))
    return NetRun(*out, backend=backend)
