"""GD on one-hidden-layer networks with a fixed output layer (PL family: the Oymak-Soltanolkotabi
key lemma for nonlinear least squares, and the leaky-ReLU single-neuron GLM).

    f_i(W) = sum_j v_j phi(w_j^T x_i),   L(W) = 1/2 ||f(W) - y||^2,   theta = vec(W) (row-major, W is k x d)
    grad L(W)_j = v_j sum_i phi'(w_j^T x_i) r_i x_i,   r = f(W) - y.

Activations (``act``): 0 = tanh, 1 = softplus ``log(1 + e^z)``, 2 = leaky ReLU ``max(z, a z)`` with
slope ``a`` in (0, 1) (derivative taken as 1 at z = 0).  The single-neuron GLM
``1/(2n) sum_i (sigma(w^T x_i) - sigma(w*^T x_i))^2`` is the case k = 1, v = 1/sqrt(n),
y = sigma(X w*) / sqrt(n).

One public entry point, :func:`gd_net`, validated here, with two implementations of the same loop:
a NumPy reference (any float dtype; ``np.longdouble`` for replay) and a numba kernel (``prange`` over
the batch, float64).  Outputs per step: ``||r_t||^2`` and its rounding scale ``sum_i (sum_j |v_j
phi(z_ji)| + |y_i|)^2``, ``||grad||^2``, ``||theta_t - anchor||^2`` with its scale ``sum (|theta| +
|anchor|)^2`` (the anchor is theta_0 for the key lemma, w* for the GLM), and the step lengths
``||theta_{t+1} - theta_t||``.  Helpers :func:`net_forward` and :func:`net_jacobian` (NumPy, any dtype)
serve the instance generators and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

__all__ = ["ACTIVATIONS", "NetRun", "activation", "gd_net", "net_forward", "net_jacobian"]

#: Activation code -> name.
ACTIVATIONS = {0: "tanh", 1: "softplus", 2: "leaky_relu"}


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


def _reference(X, v, y, act, a, W0, eta, anchor, T, keep):
    B, n, d = X.shape
    k = v.shape[1]
    dt = W0.dtype
    res2 = np.empty((B, T + 1), dtype=dt)
    res2abs = np.empty((B, T + 1), dtype=dt)
    g2 = np.empty((B, T + 1), dtype=dt)
    dist2 = np.empty((B, T + 1), dtype=dt)
    dist2abs = np.empty((B, T + 1), dtype=dt)
    steplen = np.empty((B, T), dtype=dt)
    Wall = np.empty((B, T + 1, k * d), dtype=dt) if keep else None
    W = W0.reshape(B, k, d).copy()
    anc = anchor.reshape(B, k, d)
    for t in range(T + 1):
        Z = np.einsum("bkd,bnd->bkn", W, X)
        phi, dphi, _ = activation(Z, act, a[:, None, None])
        terms = v[:, :, None] * phi
        r = terms.sum(axis=1) - y
        scale = np.abs(terms).sum(axis=1) + np.abs(y)
        G = v[:, :, None] * np.einsum("bkn,bn,bnd->bkd", dphi, r, X)
        res2[:, t] = (r * r).sum(axis=1)
        res2abs[:, t] = (scale * scale).sum(axis=1)
        g2[:, t] = (G * G).sum(axis=(1, 2))
        diff = W - anc
        dist2[:, t] = (diff * diff).sum(axis=(1, 2))
        sa = np.abs(W) + np.abs(anc)
        dist2abs[:, t] = (sa * sa).sum(axis=(1, 2))
        if keep:
            Wall[:, t] = W.reshape(B, k * d)
        if t < T:
            step = eta[:, None, None] * G
            steplen[:, t] = np.sqrt((step * step).sum(axis=(1, 2)))
            W = W - step
    return res2, res2abs, g2, dist2, dist2abs, steplen, Wall


@cache
def _numba_kernel():
    import numba  # noqa: PLC0415 - lazy by design

    @numba.njit(parallel=True, cache=True, fastmath=False)
    def run(X, v, y, act, a, W0, eta, anchor, T, res2, res2abs, g2, dist2, dist2abs, steplen, Wall, keep):
        B, n, d = X.shape
        k = v.shape[1]
        p = k * d
        for b in numba.prange(B):
            w = W0[b].copy()
            G = np.empty(p)
            r = np.empty(n)
            dphi = np.empty((k, n))
            for t in range(T + 1):
                # forward: z_ji = w_j . x_i
                r2 = 0.0
                ra = 0.0
                for i in range(n):
                    fi = 0.0
                    si = 0.0
                    for j in range(k):
                        z = 0.0
                        for q in range(d):
                            z += w[j * d + q] * X[b, i, q]
                        if act == 0:
                            ph = np.tanh(z)
                            dp = 1.0 - ph * ph
                        elif act == 1:
                            ph = max(z, 0.0) + np.log1p(np.exp(-abs(z)))
                            dp = (1.0 + np.tanh(z / 2.0)) / 2.0
                        else:
                            if z >= 0:
                                ph = z
                                dp = 1.0
                            else:
                                ph = a[b] * z
                                dp = a[b]
                        dphi[j, i] = dp
                        term = v[b, j] * ph
                        fi += term
                        si += abs(term)
                    ri = fi - y[b, i]
                    si += abs(y[b, i])
                    r[i] = ri
                    r2 += ri * ri
                    ra += si * si
                gg = 0.0
                for j in range(k):
                    for q in range(d):
                        acc = 0.0
                        for i in range(n):
                            acc += dphi[j, i] * r[i] * X[b, i, q]
                        gv = v[b, j] * acc
                        G[j * d + q] = gv
                        gg += gv * gv
                dd = 0.0
                da = 0.0
                for q in range(p):
                    df = w[q] - anchor[b, q]
                    dd += df * df
                    sa = abs(w[q]) + abs(anchor[b, q])
                    da += sa * sa
                res2[b, t] = r2
                res2abs[b, t] = ra
                g2[b, t] = gg
                dist2[b, t] = dd
                dist2abs[b, t] = da
                if keep:
                    for q in range(p):
                        Wall[b, t, q] = w[q]
                if t < T:
                    sl = 0.0
                    for q in range(p):
                        st = eta[b] * G[q]
                        sl += st * st
                        w[q] = w[q] - st
                    steplen[b, t] = np.sqrt(sl)

    return run


def gd_net(X: Any, v: Any, y: Any, act: int, W0: Any, eta: Any, T: int, *, a: Any = 0.0, anchor: Any = None,
           backend: str = "numpy", dtype: Any = np.float64, keep_iterates: bool = False) -> NetRun:
    """Gradient descent ``theta_{t+1} = theta_t - eta grad L(theta_t)`` on ``L = 1/2 ||f(W) - y||^2``.

    Args:
        X: (B, n, d) inputs.  v: (B, k) fixed output weights.  y: (B, n) targets.
        act: activation code (0 tanh, 1 softplus, 2 leaky ReLU with slope ``a``, (B,) or scalar).
        W0: (B, k d) initial hidden weights, row-major vec(W).  eta: (B,) step sizes.  T: steps.
        anchor: (B, k d) point the squared distance is measured from (default W0).
        backend: "numpy" (reference, any float dtype) or "numba" (float64); "auto" picks numba.
    """
    if backend not in ("numpy", "numba", "auto"):
        raise ValueError(f"gd_net runs on 'numpy' or 'numba', got {backend!r}")
    if backend == "auto":
        import importlib.util  # noqa: PLC0415

        backend = "numba" if importlib.util.find_spec("numba") is not None else "numpy"
    dt = np.dtype(dtype)
    if backend == "numba" and dt != np.dtype(np.float64):
        raise ValueError("backend 'numba' computes in float64 only; use backend='numpy' for other dtypes")
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
    if backend == "numpy":
        out = _reference(X, v, y, int(act), a, W0, eta, anchor, T, keep_iterates)
    else:
        res2, res2abs, g2, dist2, dist2abs = (np.empty((B, T + 1)) for _ in range(5))
        steplen = np.empty((B, T))
        Wall = np.empty((B, T + 1, k * d)) if keep_iterates else np.empty((1, 1, 1))
        _numba_kernel()(X, v, y, int(act), a, W0, eta, anchor, T, res2, res2abs, g2, dist2, dist2abs, steplen,
                        Wall, bool(keep_iterates))
        out = (res2, res2abs, g2, dist2, dist2abs, steplen, Wall if keep_iterates else None)
    return NetRun(*out, backend=backend)
