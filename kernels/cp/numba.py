"""numba kernels of :mod:`kernels.cp` (imported only when that backend is selected; float64).

``prange`` over the batch; per trial, one loop over the 2**n inputs of {+-1}^n with a forward and a
backward pass through the flat DAG layout, accumulating the population gradients directly (nothing
of size 2**n x P is stored).  Same arithmetic as the reference up to the order of summation.  The
noise comes from :func:`kernels.rng_numba.normal`, bit-for-bit identical to :mod:`kernels.rng`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..rng_numba import _block, normal, randint


@njit(cache=True)
def _point(xi, n, nodes, a):  # pragma: no cover - compiled
    for i in range(n):
        a[i] = 1.0 - 2.0 * ((xi >> i) & 1)
    a[n] = 1.0


@njit(cache=True)
def _forward(src, order, ptr, act, n, w, a, dact):  # pragma: no cover - compiled
    for j in range(order.shape[0]):
        v = order[j]
        z = 0.0
        for e in range(ptr[j], ptr[j + 1]):
            z += w[e] * a[src[e]]
        if act[v] == 1:
            t = math.tanh(z)
            a[v] = t
            dact[v] = 1.0 - t * t
        else:
            a[v] = z
            dact[v] = 1.0
    return a[order[order.shape[0] - 1]]


@njit(cache=True)
def _backward(src, order, ptr, n, w, a, dact, ga, jrow):  # pragma: no cover - compiled
    """jrow[e] = d f / d w_e at the current input (after _forward)."""
    for v in range(ga.shape[0]):
        ga[v] = 0.0
    ga[order[order.shape[0] - 1]] = 1.0
    for j in range(order.shape[0] - 1, -1, -1):
        v = order[j]
        dz = ga[v] * dact[v]
        for e in range(ptr[j], ptr[j + 1]):
            s = src[e]
            jrow[e] = dz * a[s]
            if s > n:
                ga[s] += w[e] * dz


@njit(parallel=True, cache=True)
def forward_jacobian(src, order, ptr, act, n, nodes, W):  # pragma: no cover - compiled
    B, P = W.shape
    M = 1 << n
    f = np.empty((B, M))
    J = np.empty((B, M, P))
    for b in prange(B):
        a = np.zeros(nodes)
        dact = np.zeros(nodes)
        ga = np.zeros(nodes)
        jrow = np.zeros(P)
        for xi in range(M):
            _point(xi, n, nodes, a)
            f[b, xi] = _forward(src, order, ptr, act, n, W[b], a, dact)
            _backward(src, order, ptr, n, W[b], a, dact, ga, jrow)
            for e in range(P):
                J[b, xi, e] = jrow[e]
    return f, J


@njit(cache=True)
def _parity(mask, xi):  # pragma: no cover - compiled
    v = mask & xi
    c = 0
    while v:
        c += v & 1
        v >>= 1
    return 1.0 - 2.0 * (c & 1)


@njit(cache=True)
def _population(src, order, ptr, act, n, w, mask, loss, a, dact, ga, jrow, g, junk):  # pragma: no cover
    """True (junk=False) or junk (junk=True) population gradient into g; returns E L'^2 ||J||^2 (junk)."""
    M = 1 << n
    P = g.shape[0]
    for e in range(P):
        g[e] = 0.0
    g2 = 0.0
    for xi in range(M):
        _point(xi, n, a.shape[0], a)
        f = _forward(src, order, ptr, act, n, w, a, dact)
        _backward(src, order, ptr, n, w, a, dact, ga, jrow)
        if junk:
            if loss == 0:
                dp = f - 1.0
                dm = f + 1.0
            else:
                dp = -1.0
                dm = 1.0
            coef = 0.5 * (dp + dm)
            j2 = 0.0
            for e in range(P):
                j2 += jrow[e] * jrow[e]
            g2 += 0.5 * (dp * dp + dm * dm) * j2
        else:
            y = _parity(mask, xi)
            coef = f - y if loss == 0 else -y
        for e in range(P):
            g[e] += coef * jrow[e]
    for e in range(P):
        g[e] = g[e] / M
    return g2 / M


@njit(parallel=True, cache=True)
def _noisy_gd(src, order, ptr, act, n, nodes, W0, masks, loss, gamma, sigma, T, seed, ids, junk_draw, test_draw,
              wout, wjout, g2, gm, success, accuracy, ftest, tindex):  # pragma: no cover - compiled
    B, P = W0.shape
    M = 1 << n
    for b in prange(B):
        a = np.zeros(nodes)
        dact = np.zeros(nodes)
        ga = np.zeros(nodes)
        jrow = np.zeros(P)
        g = np.zeros(P)
        w = W0[b].copy()
        wj = W0[b].copy()
        inst = np.uint64(ids[b])
        for t in range(1, T + 1):
            _population(src, order, ptr, act, n, w, masks[b], loss[b], a, dact, ga, jrow, g, False)
            for e in range(P):
                w[e] = w[e] - gamma[b] * g[e] + sigma[b] * normal(seed, inst, np.uint64(t), np.uint64(e))
            q = _population(src, order, ptr, act, n, wj, masks[b], loss[b], a, dact, ga, jrow, g, True)
            g2[b, t - 1] = q
            s = 0.0
            for e in range(P):
                s += g[e] * g[e]
            gm[b, t - 1] = math.sqrt(s)
            for e in range(P):
                wj[e] = wj[e] - gamma[b] * g[e] + sigma[b] * normal(seed, inst, np.uint64(t),
                                                                   np.uint64(junk_draw + e))
        xt = randint(seed, inst, np.uint64(0), np.uint64(test_draw), np.uint64(M))
        tindex[b] = xt
        correct = 0
        for xi in range(M):
            _point(xi, n, nodes, a)
            f = _forward(src, order, ptr, act, n, w, a, dact)
            y = _parity(masks[b], xi)
            pred = 1.0 if f >= 0.0 else -1.0
            if pred == y:
                correct += 1
            if xi == xt:
                ftest[b] = f
                success[b] = 1.0 if pred == y else 0.0
        accuracy[b] = correct / M
        for e in range(P):
            wout[b, e] = w[e]
            wjout[b, e] = wj[e]


def noisy_gd(src, order, ptr, act, n, nodes, W0, masks, loss, gamma, sigma, T, seed, ids, junk_draw, test_draw):
    B, P = W0.shape
    T = int(T)
    out = {
        "w": np.empty((B, P)), "wj": np.empty((B, P)), "g2": np.zeros((B, T)), "gmean": np.zeros((B, T)),
        "success": np.zeros(B), "accuracy": np.zeros(B), "f_test": np.zeros(B),
        "test_index": np.zeros(B, dtype=np.int64),
    }
    _noisy_gd(src, order, ptr, act, int(n), int(nodes), W0, masks, loss, gamma, sigma, T, seed, ids,
              np.uint64(junk_draw), np.uint64(test_draw), out["w"], out["wj"], out["g2"], out["gmean"],
              out["success"], out["accuracy"], out["f_test"], out["test_index"])
    return out


@njit(parallel=True, cache=True)
def _gram_rows(t):  # pragma: no cover - compiled
    N, M = t.shape
    out = np.zeros(N, dtype=np.int64)
    for i in prange(N):
        acc = np.int64(0)
        for j in range(N):
            d = np.int64(0)
            for x in range(M):
                d += np.int64(t[i, x]) * np.int64(t[j, x])
            acc += d * d
        out[i] = acc
    return out


def gram_square_sum(t: np.ndarray) -> int:
    """sum_{i,j} (sum_x t_i(x) t_j(x))^2 in exact int64 arithmetic (|value| < 2**62 for N, M <= 2**14)."""
    return int(sum(int(v) for v in _gram_rows(t)))


@njit(cache=True)
def _unrank(kind, n, k, point, r, C):  # pragma: no cover - compiled
    if kind == 0:
        return r
    if kind == 2:
        return np.int64(1) << r
    if kind == 3:
        return point
    mask = np.int64(0)
    c = n - 1
    for i in range(k, 0, -1):
        # the combinatorial number system: the largest c with C(c, i) <= r
        while C[c, i] > r:
            c -= 1
        mask |= np.int64(1) << c
        r -= C[c, i]
        c -= 1
    return mask


@njit(cache=True)
def _parity_bit(v):  # pragma: no cover - compiled
    v ^= v >> 16
    v ^= v >> 8
    v ^= v >> 4
    v ^= v >> 2
    v ^= v >> 1
    return v & 1


#: Pairs whose k-subsets are unranked together (see _k_pairs).
UNRANK_LANES = 8


@njit(inline="always")
def _draw_index(y0, y1, nn):  # pragma: no cover - compiled
    """floor(X N / 2^64) of the 64-bit X from two 32-bit words (kernels.rng.randint's map)."""
    return np.int64((y0 * nn + ((y1 * nn) >> np.uint64(32))) >> np.uint64(32))


@njit(inline="always")
def _pair_sum(seed, inst, step, s, inputs, xdraw, low):  # pragma: no cover - compiled
    """u = T^2 - L for the pair with XOR mask s (T = sum over the pair's inputs of F F')."""
    T = np.int64(0)
    for q in range(inputs // 4):
        x0, x1, x2, x3 = _block(seed, inst, step, np.uint64(xdraw + q))
        T += 1 - 2 * _parity_bit(s & (np.int64(x0) & low))
        T += 1 - 2 * _parity_bit(s & (np.int64(x1) & low))
        T += 1 - 2 * _parity_bit(s & (np.int64(x2) & low))
        T += 1 - 2 * _parity_bit(s & (np.int64(x3) & low))
    return T * T - inputs


@njit(inline="always")
def _k_pairs(n, k, pairs, inputs, seed, inst, C, nn, pdraw, xdraw, low):  # pragma: no cover - compiled
    """The sums of one degree-k instance, its pairs taken UNRANK_LANES at a time.

    The scalar unranking walks c down from n - 1 until C(c, i) <= r, a data-dependent loop whose
    exits the branch predictor misses once per degree; here all 2 UNRANK_LANES ranks of a group go
    through the same fixed n positions, each lane taking c (mask, rank and degree updated by
    arithmetic on a 0/1 flag) when C(c, i) <= r, which selects the same c as the scalar walk.  Same
    masks, same draws, same sums (tested); 1.4-2.7x faster at n = 13..24 on the development machine."""
    acc1 = np.int64(0)
    acc2 = np.int64(0)
    r = np.empty(2 * UNRANK_LANES, np.int64)
    m = np.empty(2 * UNRANK_LANES, np.int64)
    deg = np.empty(2 * UNRANK_LANES, np.int64)
    for j0 in range(0, pairs, UNRANK_LANES):
        nl = min(UNRANK_LANES, pairs - j0)
        for l in range(nl):
            y0, y1, y2, y3 = _block(seed, inst, np.uint64(j0 + l), np.uint64(pdraw))
            r[2 * l] = _draw_index(y0, y1, nn)
            r[2 * l + 1] = _draw_index(y2, y3, nn)
        for l in range(2 * nl):
            m[l] = 0
            deg[l] = k
        for c in range(n - 1, -1, -1):
            for l in range(2 * nl):
                v = C[c, deg[l]]
                take = np.int64((deg[l] > 0) & (v <= r[l]))
                m[l] |= take << c
                r[l] -= take * v
                deg[l] -= take
        for l in range(nl):
            u = _pair_sum(seed, inst, np.uint64(j0 + l), m[2 * l] ^ m[2 * l + 1], inputs, xdraw, low)
            acc1 += u
            acc2 += u * u
    return acc1, acc2


@njit(parallel=True, cache=True)
def _cp_sample(kind_, n, k_, point_, pairs, inputs, seed, ids, C, N_, pdraw, xdraw, s1, s2):  # pragma: no cover
    low = np.int64((1 << n) - 1)
    for b in prange(ids.shape[0]):
        kind = kind_[b]
        k = k_[b]
        point = point_[b]
        nn = np.uint64(N_[b])
        inst = ids[b]
        if kind == 1:
            acc1, acc2 = _k_pairs(n, k, pairs, inputs, seed, inst, C, nn, np.uint64(pdraw), xdraw, low)
            s1[b] = acc1
            s2[b] = acc2
            continue
        acc1 = np.int64(0)
        acc2 = np.int64(0)
        for j in range(pairs):
            step = np.uint64(j)
            y0, y1, y2, y3 = _block(seed, inst, step, np.uint64(pdraw))
            a = _unrank(kind, n, k, point, _draw_index(y0, y1, nn), C)
            bb = _unrank(kind, n, k, point, _draw_index(y2, y3, nn), C)
            u = _pair_sum(seed, inst, step, a ^ bb, inputs, xdraw, low)
            acc1 += u
            acc2 += u * u
        s1[b] = acc1
        s2[b] = acc2


def cp_sample(kind, n, k, point, pairs, inputs, seed, ids, C, N, pdraw, xdraw):
    """Per-instance int64 arrays kind, k, point, N (class size); see :func:`kernels.cp.cp_sample`."""
    B = ids.shape[0]
    s1 = np.zeros(B, dtype=np.int64)
    s2 = np.zeros(B, dtype=np.int64)
    _cp_sample(kind, int(n), k, point, int(pairs), int(inputs), seed, ids, C, N, int(pdraw), int(xdraw), s1, s2)
    return s1, s2


# --------------------------------------------------------------------------------------------------
# Registry targets (arguments validated by kernels.cp; float64)
# --------------------------------------------------------------------------------------------------


def forward_jacobian_kernel(net, W):
    """``cp.forward_jacobian`` on numba."""
    return forward_jacobian(net.src, net.order, net.ptr, net.act, net.n, net.nodes, W)


def noisy_gd_kernel(net, W0, masks, loss, gamma, sigma, T, seed, ids):
    """``cp.noisy_gd`` on numba."""
    from . import JUNK_DRAW, TEST_DRAW  # noqa: PLC0415

    return noisy_gd(net.src, net.order, net.ptr, net.act, net.n, net.nodes, W0, masks, loss, gamma, sigma, T,
                    np.uint64(seed), ids.astype(np.uint64), JUNK_DRAW, TEST_DRAW)


def sample_kernel(kind, n, k, point, pairs, inputs, seed, ids, N):
    """``cp.sample`` on numba."""
    from . import PAIR_DRAW, X_DRAW, _binomials  # noqa: PLC0415

    return cp_sample(kind, n, k, point, pairs, inputs, np.uint64(int(seed)), ids.astype(np.uint64),
                     _binomials(), N, PAIR_DRAW, X_DRAW)


def enumerate_kernel(t):
    """``cp.enumerate`` on numba."""
    return gram_square_sum(t)
