"""NumPy reference of the CP family (``cp.forward_jacobian``, ``cp.noisy_gd``, ``cp.sample``,
``cp.enumerate``): vectorised over batch and inputs; runs in ``np.longdouble``.  The network
arithmetic takes an array module ``xp``, so the CuPy backend (:mod:`kernels.cp.cupy`) runs the very
same code on the device.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import rng as _rng
from . import JUNK_DRAW, PAIR_DRAW, TEST_DRAW, X_DRAW, Net, _class_count, cube_points, parity_table, unrank_mask

__all__ = ["enumerate_kernel", "forward_jacobian_kernel", "noisy_gd_kernel", "sample_kernel"]


def _act(z: Any, code: int, xp: Any) -> tuple[Any, Any]:
    if code == 1:
        a = xp.tanh(z)
        return a, 1 - a * a
    return z, xp.ones_like(z)


def _ref_forward_jacobian(net: Net, W: Any, X: Any, xp: Any = np) -> tuple[Any, Any]:
    """f (B, M) and J (B, M, P) at the points X (M, n) for weights W (B, P)."""
    B = W.shape[0]
    M = X.shape[0]
    dt = W.dtype
    a = xp.zeros((B, M, net.nodes), dtype=dt)
    a[:, :, : net.n] = X[None, :, :]
    a[:, :, net.n] = 1
    dact = xp.zeros((B, M, net.nodes), dtype=dt)
    for j, v in enumerate(net.order.tolist()):
        lo, hi = int(net.ptr[j]), int(net.ptr[j + 1])
        src = net.src[lo:hi].tolist()
        z = xp.zeros((B, M), dtype=dt)
        for e, s in zip(range(lo, hi), src):
            z = z + W[:, e][:, None] * a[:, :, s]
        a[:, :, v], dact[:, :, v] = _act(z, int(net.act[v]), xp)
    ga = xp.zeros((B, M, net.nodes), dtype=dt)
    ga[:, :, net.output] = 1
    J = xp.zeros((B, M, net.P), dtype=dt)
    for j in range(len(net.order) - 1, -1, -1):
        v = int(net.order[j])
        dz = ga[:, :, v] * dact[:, :, v]
        for e in range(int(net.ptr[j]), int(net.ptr[j + 1])):
            s = int(net.src[e])
            J[:, :, e] = dz * a[:, :, s]
            if s > net.n:
                ga[:, :, s] = ga[:, :, s] + W[:, e][:, None] * dz
    return a[:, :, net.output], J


def _ref_population(net: Net, W: Any, X: Any, F: Any, loss: Any, xp: Any) -> tuple[Any, ...]:
    """True gradient E_x L'(f, F) J, junk gradient E_{x,y} L'(f, y) J, junk E_{x,y} L'^2 ||J||^2."""
    f, J = _ref_forward_jacobian(net, W, X, xp)
    M = X.shape[0]
    lc = loss[:, None]
    dF = xp.where(lc == 0, f - F, -F)
    dp = xp.where(lc == 0, f - 1, -xp.ones_like(f))
    dm = xp.where(lc == 0, f + 1, xp.ones_like(f))
    g_true = (dF[:, :, None] * J).sum(axis=1) / M
    g_junk = ((0.5 * (dp + dm))[:, :, None] * J).sum(axis=1) / M
    j2 = (J * J).sum(axis=2)
    g2_junk = (0.5 * (dp * dp + dm * dm) * j2).sum(axis=1) / M
    return g_true, g_junk, g2_junk


def _ref_noisy_gd(net, W0, masks, loss, gamma, sigma, T, seed, ids, xp=np, noise=None):
    B, P = W0.shape
    n = net.n
    dt = W0.dtype
    X = xp.asarray(cube_points(n, dt))
    table = xp.asarray(parity_table(np.asarray(masks if xp is np else masks.get()), n).astype(dt))  # (B, M)
    noise = noise or (lambda t, off: xp.asarray(_rng.normal(seed, np.asarray(ids)[:, None], t,
                                                            off + np.arange(P)[None, :]).astype(dt)))
    w = W0.copy()
    wj = W0.copy()
    g2 = xp.zeros((B, T), dtype=dt)
    gm = xp.zeros((B, T), dtype=dt)
    for t in range(1, T + 1):
        g_true, _, _ = _ref_population(net, w, X, table, loss, xp)
        _, gj, g2j = _ref_population(net, wj, X, table, loss, xp)
        g2[:, t - 1] = g2j
        gm[:, t - 1] = xp.sqrt((gj * gj).sum(axis=1))
        w = w - gamma[:, None] * g_true + sigma[:, None] * noise(t, 0)
        wj = wj - gamma[:, None] * gj + sigma[:, None] * noise(t, JUNK_DRAW)
    xi = _rng.randint(seed, np.asarray(ids), 0, TEST_DRAW, 1 << n)
    f_all, _ = _ref_forward_jacobian(net, w, X, xp)
    rows = xp.arange(B)
    xi_d = xp.asarray(xi)
    f_test = f_all[rows, xi_d]
    y_test = table[rows, xi_d]
    pred = xp.where(f_test >= 0, 1, -1).astype(dt)
    success = (pred == y_test).astype(dt)
    pred_all = xp.where(f_all >= 0, 1, -1).astype(dt)
    accuracy = (pred_all == table).astype(dt).mean(axis=1)
    return {"w": w, "wj": wj, "g2": g2, "gmean": gm, "success": success, "accuracy": accuracy,
            "f_test": f_test, "test_index": xi}


def _parity_bits(v: np.ndarray) -> np.ndarray:
    v = v.copy()
    for s in (16, 8, 4, 2, 1):
        v ^= v >> s
    return v & 1


def _ref_cp_sample(kind, n, k, point, pairs, inputs, seed, ids):
    B = ids.shape[0]
    N = _class_count(kind, n, k)
    j = np.arange(pairs, dtype=np.uint64)[None, :]
    inst = ids.astype(np.uint64)[:, None]
    x0, x1, x2, x3 = _rng._block(seed, inst, j, PAIR_DRAW)
    nn = np.uint64(N)
    s32 = np.uint64(32)
    # floor((hi 2**32 + lo) N / 2**64), as kernels.rng.randint, on words (x0, x1) and (x2, x3)
    a = unrank_mask(kind, n, k, point, ((x0 * nn + ((x1 * nn) >> s32)) >> s32).astype(np.int64))
    b = unrank_mask(kind, n, k, point, ((x2 * nn + ((x3 * nn) >> s32)) >> s32).astype(np.int64))
    s = (a ^ b).astype(np.int64)
    T = np.zeros((B, pairs), dtype=np.int64)
    low = np.int64((1 << n) - 1)
    for q in range(inputs // 4):
        words = _rng._block(seed, inst, j, X_DRAW + q)
        for w in words:
            x = w.astype(np.int64) & low
            T += 1 - 2 * _parity_bits(s & x)
    u = T * T - inputs
    return u.sum(axis=1), (u * u).sum(axis=1)


# --------------------------------------------------------------------------------------------------
# Registry targets (arguments validated by kernels.cp)
# --------------------------------------------------------------------------------------------------


def forward_jacobian_kernel(net: Net, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``cp.forward_jacobian`` on NumPy: f (B, 2**n) and J (B, 2**n, P)."""
    return _ref_forward_jacobian(net, W, cube_points(net.n, W.dtype))


def noisy_gd_kernel(net, W0, masks, loss, gamma, sigma, T, seed, ids) -> dict:
    """``cp.noisy_gd`` on NumPy: the fields of :class:`kernels.cp.NoisyGDResult` (less ``backend``)."""
    return _ref_noisy_gd(net, W0, masks, loss, gamma, sigma, T, seed, ids)


def sample_kernel(kind, n, k, point, pairs, inputs, seed, ids, N) -> tuple[np.ndarray, np.ndarray]:
    """``cp.sample`` on NumPy, one class at a time: ``(sum_j u_j, sum_j u_j^2)`` per instance (int64)."""
    B = ids.shape[0]
    s1 = np.zeros(B, dtype=np.int64)
    s2 = np.zeros(B, dtype=np.int64)
    for key in sorted(set(zip(kind.tolist(), k.tolist(), point.tolist()))):
        rows = np.flatnonzero((kind == key[0]) & (k == key[1]) & (point == key[2]))
        s1[rows], s2[rows] = _ref_cp_sample(key[0], n, key[1], key[2], pairs, inputs, seed, ids[rows])
    return s1, s2


def enumerate_kernel(t: np.ndarray) -> int:
    """``cp.enumerate`` on NumPy: the integer ``sum_{F,F'} (sum_X F F')^2`` of the int8 tables (N, M)."""
    N, M = t.shape
    # Exact in float64 (BLAS): Gram entries are integers |G| <= M <= 2**12, their squares <= 2**24,
    # and every partial sum of N^2 <= 2**26 of them is an integer below 2**50 < 2**53.
    if N * N * M * M >= 1 << 52:
        raise ValueError("class too large for exact float64 accumulation")
    tf = t.astype(np.float64)
    G = tf @ tf.T
    return int(np.rint((G * G).sum(axis=1)).astype(np.int64).sum())
