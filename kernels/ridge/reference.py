"""Plain NumPy reference dynamics: the test oracle and the high-precision replay engine.

Written to be obviously right rather than fast (it is still vectorised over the batch).  Every array
and every intermediate is in the requested dtype, so ``dtype=np.longdouble`` runs end to end in
extended precision (``matmul``, ``tanh``, ``cos``, ``log1p`` ... all have long-double loops).

Inputs arrive validated by :mod:`kernels` (C-contiguous, already in the compute dtype; ``eta`` of
shape (B, 1) for a fixed step or (B, T) for a schedule).  Overflow is not an error here: iterates that
leave the floating-point range just produce inf/nan in the outputs.
"""

from __future__ import annotations

import numpy as np

from .. import rng
from .problems import Ridge

__all__ = ["psi", "dpsi", "value_and_grad", "value", "gd", "sgd"]


def psi(z: np.ndarray, kind: Ridge) -> np.ndarray:
    """Ridge profile; log cosh in the overflow-free form |z| + log1p(exp(-2|z|)) - log 2."""
    if kind == Ridge.LOGCOSH:
        a = np.abs(z)
        two = z.dtype.type(2)
        return a + np.log1p(np.exp(-two * a)) - np.log(two)
    if kind == Ridge.SIN:
        return np.sin(z)
    raise ValueError(f"unknown ridge profile {kind!r}")


def dpsi(z: np.ndarray, kind: Ridge) -> np.ndarray:
    """Derivative of the ridge profile: tanh or cos."""
    if kind == Ridge.LOGCOSH:
        return np.tanh(z)
    if kind == Ridge.SIN:
        return np.cos(z)
    raise ValueError(f"unknown ridge profile {kind!r}")


def _matvec(M: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.matmul(M, v[..., None])[..., 0]


def _dot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise inner product over the last axis (the same per row whatever the batch size)."""
    return np.einsum("...i,...i->...", x, y)


def value_and_grad(
    A: np.ndarray, b: np.ndarray, R: np.ndarray, s: np.ndarray, c: np.ndarray, kind: Ridge, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """f(w), grad f(w) and the intermediates h = A w, z = R w + s, u = c psi'(z).

    Leading (batch) axes broadcast; ``w`` has shape (..., d).
    """
    half = w.dtype.type(0.5)
    h = _matvec(A, w)
    if R.shape[-2] == 0:  # pure quadratic: skip the empty ridge terms (same values, less work)
        z = u = np.zeros(w.shape[:-1] + (0,), dtype=w.dtype)
        return half * _dot(w, h) + _dot(b, w), h + b, h, z, u
    z = _matvec(R, w) + s
    u = c * dpsi(z, kind)
    g = (h + b) + _matvec(np.swapaxes(R, -1, -2), u)
    f = half * _dot(w, h) + _dot(b, w) + np.sum(c * psi(z, kind), axis=-1)
    return f, g, h, z, u


def value(
    A: np.ndarray, b: np.ndarray, R: np.ndarray, s: np.ndarray, c: np.ndarray, kind: Ridge, w: np.ndarray
) -> np.ndarray:
    """f(w) alone (same formula and order as :func:`value_and_grad`)."""
    h = _matvec(A, w)
    z = _matvec(R, w) + s
    half = w.dtype.type(0.5)
    return half * _dot(w, h) + _dot(b, w) + np.sum(c * psi(z, kind), axis=-1)


class _Steps:
    """eta_t broadcast to (B, d), contiguous (a fixed step is expanded once)."""

    def __init__(self, eta: np.ndarray, d: int) -> None:
        self.eta = eta
        self.d = d
        self.fixed = np.repeat(eta, d, axis=1) if eta.shape[1] == 1 else None

    def __call__(self, t: int) -> np.ndarray:
        if self.fixed is not None:
            return self.fixed
        return np.repeat(self.eta[:, t : t + 1], self.d, axis=1)


def gd(
    A: np.ndarray,
    b: np.ndarray,
    R: np.ndarray,
    s: np.ndarray,
    c: np.ndarray,
    kind: Ridge,
    w0: np.ndarray,
    eta: np.ndarray,
    T: int,
    keep_iterates: bool,
) -> dict[str, np.ndarray | None]:
    """Gradient descent ``w_{t+1} = w_t - eta_t grad f(w_t)`` for t = 0..T-1."""
    B, d = w0.shape
    dt = w0.dtype
    F = np.empty((B, T + 1), dtype=dt)
    G2 = np.empty((B, T + 1), dtype=dt)
    W = np.empty((B, T + 1, d), dtype=dt) if keep_iterates else None
    steps = _Steps(eta, d)
    w = w0.copy()
    with np.errstate(all="ignore"):
        for t in range(T + 1):
            f, g, _, _, _ = value_and_grad(A, b, R, s, c, kind, w)
            F[:, t] = f
            G2[:, t] = _dot(g, g)
            if W is not None:
                W[:, t] = w
            if t < T:
                w = w - steps(t) * g
    return {"f": F, "gnorm2": G2, "w_last": w, "w": W, "ef_next": None, "eg2": None}


def sample_indices(seed: int, ids: np.ndarray, t: int, batch: int, m: int) -> np.ndarray:
    """(B, batch) component indices of step ``t``: ``rng.randint(seed, id, t, j, m)``."""
    return rng.randint(seed, ids[:, None], t, np.arange(batch, dtype=np.uint64)[None, :], m)


def sgd(
    A: np.ndarray,
    b: np.ndarray,
    R: np.ndarray,
    s: np.ndarray,
    c: np.ndarray,
    kind: Ridge,
    w0: np.ndarray,
    eta: np.ndarray,
    T: int,
    batch: int,
    seed: int,
    ids: np.ndarray,
    expectations: bool,
    keep_iterates: bool,
) -> dict[str, np.ndarray | None]:
    """Minibatch SGD on ``f = (1/m) sum_k f_k`` with indices drawn with replacement.

    ``ghat = A w + b + (m / batch) sum_j c_{i_j} psi'(z_{i_j}) r_{i_j}``, ``i_j = randint(seed, id, t, j, m)``.
    With ``expectations`` (batch == 1) also the exact averages over the m single-component steps.
    """
    B, d = w0.shape
    m = R.shape[1]
    dt = w0.dtype
    mf = dt.type(m) / dt.type(batch)
    F = np.empty((B, T + 1), dtype=dt)
    G2 = np.empty((B, T + 1), dtype=dt)
    W = np.empty((B, T + 1, d), dtype=dt) if keep_iterates else None
    EF = np.empty((B, T), dtype=dt) if expectations else None
    EG2 = np.empty((B, T), dtype=dt) if expectations else None
    rows = np.arange(B)[:, None]
    steps = _Steps(eta, d)
    w = w0.copy()
    with np.errstate(all="ignore"):
        for t in range(T + 1):
            f, g, h, z, u = value_and_grad(A, b, R, s, c, kind, w)
            F[:, t] = f
            G2[:, t] = _dot(g, g)
            if W is not None:
                W[:, t] = w
            if t == T:
                break
            e = steps(t)  # (B, d)
            hb = h + b
            if EF is not None and EG2 is not None:
                gi = hb[:, None, :] + mf * (u[..., None] * R)  # (B, m, d): grad f_i(w_t)
                EG2[:, t] = np.sum(_dot(gi, gi), axis=-1) / dt.type(m)
                wt = w[:, None, :] - e[:, None, :] * gi
                ft = value(A[:, None], b[:, None], R[:, None], s[:, None], c[:, None], kind, wt)
                EF[:, t] = np.sum(ft, axis=-1) / dt.type(m)
            idx = sample_indices(seed, ids, t, batch, m)
            coef = np.take_along_axis(u, idx, axis=1)  # (B, batch)
            S = np.matmul(coef[:, None, :], R[rows, idx])[:, 0, :]  # sum_j coef_j r_{i_j}
            w = w - e * (hb + mf * S)
    return {"f": F, "gnorm2": G2, "w_last": w, "w": W, "ef_next": EF, "eg2": EG2}


def term_scale(
    A: np.ndarray, b: np.ndarray, R: np.ndarray, s: np.ndarray, c: np.ndarray, kind: Ridge, w: np.ndarray
) -> np.ndarray:
    """Rounding scale of f(w): the sum of the absolute values of everything f adds up,

        1/2 |w|^T |A| |w| + |b|^T |w| + sum_k |c_k| (|psi|(z_k) + |psi'(z_k)| (|r_k|^T |w| + |s_k|)),

    where |psi| sums the absolute values of the terms psi itself is computed from.

    f's rounding error is at most a small multiple of eps times this, however much the terms
    cancel; comparisons of f values use it instead of |f|.  Leading axes broadcast like
    :func:`value_and_grad`."""
    aw = np.abs(w)
    half = w.dtype.type(0.5)
    out = half * _dot(aw, _matvec(np.abs(A), aw)) + _dot(np.abs(b), aw)
    if R.shape[-2] == 0:
        return out
    z = _matvec(R, w) + s
    spread = _matvec(np.abs(R), aw) + np.abs(s)
    if kind == Ridge.LOGCOSH:
        # log cosh z is evaluated as |z| + log1p(exp(-2|z|)) - log 2: near 0 those terms cancel.
        a = np.abs(z)
        two = z.dtype.type(2)
        psi_abs = a + np.log1p(np.exp(-two * a)) + np.log(two)
    else:
        psi_abs = np.abs(psi(z, kind))
    return out + np.sum(np.abs(c) * (psi_abs + np.abs(dpsi(z, kind)) * spread), axis=-1)


def component_step_term_scale(
    A: np.ndarray, b: np.ndarray, R: np.ndarray, s: np.ndarray, c: np.ndarray, kind: Ridge,
    w: np.ndarray, eta: np.ndarray,
) -> np.ndarray:
    """Average over the m components of :func:`term_scale` at ``w - eta grad f_i(w)``: the rounding
    scale of the SGD expectation ``E_i f(w - eta grad f_i(w))``.  ``w`` is (B, T, d), ``eta``
    broadcastable to (B, T)."""
    m = R.shape[-2]
    dt = w.dtype
    h = np.einsum("bij,btj->bti", A, w)
    z = np.einsum("bkj,btj->btk", R, w) + s[:, None, :]
    u = c[:, None, :] * dpsi(z, kind)  # (B, T, m)
    gi = (h + b[:, None, :])[:, :, None, :] + dt.type(m) * u[..., None] * R[:, None, :, :]  # (B, T, m, d)
    wi = w[:, :, None, :] - np.asarray(eta, dtype=dt)[..., None, None] * gi
    scale = term_scale(A[:, None, None], b[:, None, None], R[:, None, None], s[:, None, None],
                       c[:, None, None], kind, wi)
    return np.sum(scale, axis=-1) / dt.type(m)
