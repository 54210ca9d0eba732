"""numba CPU kernels of the ridge-quadratic GD/SGD (``ridge.gd``, ``ridge.sgd``; float64 only).

Imported lazily (through the kernel registry) when the ``numba`` backend is selected.  All kernels are
``@njit(parallel=True, fastmath=False, cache=True)`` with ``prange`` over the batch and one fused
loop over all T steps per trajectory (or per group of trajectories), so each instance's data is read
from memory once and then stays in cache.

Two GD paths:

* pure quadratics (m = 0, no iterates kept): trajectories are processed in groups of :data:`LANES`
  held in SIMD lanes.  The wrapper re-lays the batch out once as array-of-structures-of-arrays,
  ``A -> (B/LANES, d, d, LANES)`` with the lane innermost (padded with zero problems); the lanes are
  unrolled by hand and packed into AVX registers by LLVM's SLP vectorizer, which is switched on for
  this kernel's compilation only (:func:`_slp_vectorize`).  Per lane it performs exactly the
  operations of the general path, so the two paths agree bit for bit (tested);
* everything else (ridges, ``keep_iterates``, SGD): one trajectory per ``prange`` iteration.

For d <= 4, pure quadratics go to :mod:`kernels.ridge.numba_lanes` instead (same results bit for bit).

The arithmetic follows the reference (:mod:`kernels.ridge.reference`) operation by operation where
possible; results agree with it to rounding (sums of length >= 8 and libm's tanh/cos/exp/log1p may
round differently).  Non-finite iterates propagate as inf/nan; nothing raises.

SGD draws its indices with the numba Philox of :mod:`kernels.rng_numba`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import numpy as np
from numba import njit, prange
from numba.core import config as _numba_config

from ..rng_numba import randint
from . import numba_lanes as _soa
from .problems import Ridge

__all__ = ["LANES", "gd", "sgd"]

#: Trajectories per SIMD group in the pure-quadratic GD kernel (8 doubles = two AVX2 registers).
#: The kernel body is unrolled for exactly this many lanes.
LANES = 8


@contextlib.contextmanager
def _slp_vectorize() -> Iterator[None]:
    """Enable LLVM's SLP vectorizer while a kernel compiles (numba's NUMBA_SLP_VECTORIZE, off by default).

    The lanes kernel relies on it to pack its 8 unrolled lanes into AVX registers (measured 3x faster on
    one core).  SLP only packs independent, isomorphic scalar operations; it never reassociates, so
    results are bit-for-bit those of the scalar code.  Loading a cached kernel compiles nothing.  If a
    numba version lacks the setting, the kernel still compiles, only slower.
    """
    if not hasattr(_numba_config, "SLP_VECTORIZE"):
        yield
        return
    old = _numba_config.SLP_VECTORIZE
    _numba_config.SLP_VECTORIZE = 1
    try:
        yield
    finally:
        _numba_config.SLP_VECTORIZE = old


_LN2 = math.log(2.0)
_LOGCOSH = int(Ridge.LOGCOSH)
_SINR = int(Ridge.SIN)


# --------------------------------------------------------------------------------------------------
# Ridge-quadratic value and gradient of one instance
# --------------------------------------------------------------------------------------------------


@njit(cache=True)
def _psi(z, kind):  # pragma: no cover - compiled
    if kind == _LOGCOSH:
        a = abs(z)
        return a + math.log1p(math.exp(-2.0 * a)) - _LN2
    return math.sin(z)


@njit(cache=True)
def _dpsi(z, kind):  # pragma: no cover - compiled
    if kind == _LOGCOSH:
        return math.tanh(z)
    return math.cos(z)


@njit(cache=True)
def _value_grad(A, b, R, s, c, kind, w, h, g, z, u):  # pragma: no cover - compiled
    """f(w); fills h = A w, z = R w + s, u = c psi'(z), g = grad f(w)."""
    d = w.shape[0]
    m = z.shape[0]
    for i in range(d):
        acc = 0.0
        for j in range(d):
            acc += A[i, j] * w[j]
        h[i] = acc
    rf = 0.0
    for k in range(m):
        acc = 0.0
        for j in range(d):
            acc += R[k, j] * w[j]
        zk = acc + s[k]
        z[k] = zk
        u[k] = c[k] * _dpsi(zk, kind)
        rf += c[k] * _psi(zk, kind)
    q = 0.0
    lin = 0.0
    for i in range(d):
        acc = 0.0
        for k in range(m):
            acc += R[k, i] * u[k]
        g[i] = (h[i] + b[i]) + acc
        q += w[i] * h[i]
        lin += b[i] * w[i]
    return 0.5 * q + lin + rf


@njit(cache=True)
def _value(A, b, R, s, c, kind, w):  # pragma: no cover - compiled
    """f(w) alone."""
    d = w.shape[0]
    m = R.shape[0]
    q = 0.0
    lin = 0.0
    for i in range(d):
        acc = 0.0
        for j in range(d):
            acc += A[i, j] * w[j]
        q += w[i] * acc
        lin += b[i] * w[i]
    rf = 0.0
    for k in range(m):
        acc = 0.0
        for j in range(d):
            acc += R[k, j] * w[j]
        rf += c[k] * _psi(acc + s[k], kind)
    return 0.5 * q + lin + rf


# --------------------------------------------------------------------------------------------------
# GD kernels
# --------------------------------------------------------------------------------------------------


@njit(parallel=True, fastmath=False, cache=True)
def _gd_quadratic_lanes(A4, b4, w4, eta4, T, fout, gout):  # pragma: no cover - compiled
    """Pure-quadratic GD on LANES = 8 trajectories at a time (AoSoA layout, lane axis innermost).

    A4 (G, d, d, 8), b4 (G, d, 8), w4 (G, d, 8) (updated in place to w_T), eta4 (G, Te, 8) with
    Te in {1, T}; fout/gout (G*8, T+1).  The lanes are unrolled by hand, and within each block all
    loads come before the arithmetic and the stores, so that LLVM's SLP vectorizer can pack the 8
    lanes into vector instructions without having to prove that arrays do not alias.  Per lane the
    operations and their order are exactly those of ``_value_grad`` with m = 0.
    """
    G = A4.shape[0]
    d = A4.shape[1]
    te = eta4.shape[1]
    for grp in prange(G):
        w = w4[grp].copy()
        gr = np.empty((d, 8))
        base = grp * 8
        for t in range(T + 1):
            q0 = 0.0
            q1 = 0.0
            q2 = 0.0
            q3 = 0.0
            q4 = 0.0
            q5 = 0.0
            q6 = 0.0
            q7 = 0.0
            c0 = 0.0
            c1 = 0.0
            c2 = 0.0
            c3 = 0.0
            c4 = 0.0
            c5 = 0.0
            c6 = 0.0
            c7 = 0.0
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            s4 = 0.0
            s5 = 0.0
            s6 = 0.0
            s7 = 0.0
            for i in range(d):
                h0 = 0.0
                h1 = 0.0
                h2 = 0.0
                h3 = 0.0
                h4 = 0.0
                h5 = 0.0
                h6 = 0.0
                h7 = 0.0
                for j in range(d):
                    a0 = A4[grp, i, j, 0]
                    a1 = A4[grp, i, j, 1]
                    a2 = A4[grp, i, j, 2]
                    a3 = A4[grp, i, j, 3]
                    a4 = A4[grp, i, j, 4]
                    a5 = A4[grp, i, j, 5]
                    a6 = A4[grp, i, j, 6]
                    a7 = A4[grp, i, j, 7]
                    x0 = w[j, 0]
                    x1 = w[j, 1]
                    x2 = w[j, 2]
                    x3 = w[j, 3]
                    x4 = w[j, 4]
                    x5 = w[j, 5]
                    x6 = w[j, 6]
                    x7 = w[j, 7]
                    h0 += a0 * x0
                    h1 += a1 * x1
                    h2 += a2 * x2
                    h3 += a3 * x3
                    h4 += a4 * x4
                    h5 += a5 * x5
                    h6 += a6 * x6
                    h7 += a7 * x7
                y0 = b4[grp, i, 0]
                y1 = b4[grp, i, 1]
                y2 = b4[grp, i, 2]
                y3 = b4[grp, i, 3]
                y4 = b4[grp, i, 4]
                y5 = b4[grp, i, 5]
                y6 = b4[grp, i, 6]
                y7 = b4[grp, i, 7]
                x0 = w[i, 0]
                x1 = w[i, 1]
                x2 = w[i, 2]
                x3 = w[i, 3]
                x4 = w[i, 4]
                x5 = w[i, 5]
                x6 = w[i, 6]
                x7 = w[i, 7]
                g0 = h0 + y0
                g1 = h1 + y1
                g2 = h2 + y2
                g3 = h3 + y3
                g4 = h4 + y4
                g5 = h5 + y5
                g6 = h6 + y6
                g7 = h7 + y7
                q0 += x0 * h0
                q1 += x1 * h1
                q2 += x2 * h2
                q3 += x3 * h3
                q4 += x4 * h4
                q5 += x5 * h5
                q6 += x6 * h6
                q7 += x7 * h7
                c0 += y0 * x0
                c1 += y1 * x1
                c2 += y2 * x2
                c3 += y3 * x3
                c4 += y4 * x4
                c5 += y5 * x5
                c6 += y6 * x6
                c7 += y7 * x7
                s0 += g0 * g0
                s1 += g1 * g1
                s2 += g2 * g2
                s3 += g3 * g3
                s4 += g4 * g4
                s5 += g5 * g5
                s6 += g6 * g6
                s7 += g7 * g7
                gr[i, 0] = g0
                gr[i, 1] = g1
                gr[i, 2] = g2
                gr[i, 3] = g3
                gr[i, 4] = g4
                gr[i, 5] = g5
                gr[i, 6] = g6
                gr[i, 7] = g7
            fout[base + 0, t] = 0.5 * q0 + c0
            fout[base + 1, t] = 0.5 * q1 + c1
            fout[base + 2, t] = 0.5 * q2 + c2
            fout[base + 3, t] = 0.5 * q3 + c3
            fout[base + 4, t] = 0.5 * q4 + c4
            fout[base + 5, t] = 0.5 * q5 + c5
            fout[base + 6, t] = 0.5 * q6 + c6
            fout[base + 7, t] = 0.5 * q7 + c7
            gout[base + 0, t] = s0
            gout[base + 1, t] = s1
            gout[base + 2, t] = s2
            gout[base + 3, t] = s3
            gout[base + 4, t] = s4
            gout[base + 5, t] = s5
            gout[base + 6, t] = s6
            gout[base + 7, t] = s7
            if t < T:
                tt = t if te > 1 else 0
                e0 = eta4[grp, tt, 0]
                e1 = eta4[grp, tt, 1]
                e2 = eta4[grp, tt, 2]
                e3 = eta4[grp, tt, 3]
                e4 = eta4[grp, tt, 4]
                e5 = eta4[grp, tt, 5]
                e6 = eta4[grp, tt, 6]
                e7 = eta4[grp, tt, 7]
                for i in range(d):
                    x0 = w[i, 0]
                    x1 = w[i, 1]
                    x2 = w[i, 2]
                    x3 = w[i, 3]
                    x4 = w[i, 4]
                    x5 = w[i, 5]
                    x6 = w[i, 6]
                    x7 = w[i, 7]
                    g0 = gr[i, 0]
                    g1 = gr[i, 1]
                    g2 = gr[i, 2]
                    g3 = gr[i, 3]
                    g4 = gr[i, 4]
                    g5 = gr[i, 5]
                    g6 = gr[i, 6]
                    g7 = gr[i, 7]
                    w[i, 0] = x0 - e0 * g0
                    w[i, 1] = x1 - e1 * g1
                    w[i, 2] = x2 - e2 * g2
                    w[i, 3] = x3 - e3 * g3
                    w[i, 4] = x4 - e4 * g4
                    w[i, 5] = x5 - e5 * g5
                    w[i, 6] = x6 - e6 * g6
                    w[i, 7] = x7 - e7 * g7
        w4[grp] = w


@njit(parallel=True, fastmath=False, cache=True)
def _gd_general(A, b, R, s, c, kind, w0, eta, T, fout, gout, wout, keep, wlast):  # pragma: no cover
    """GD on ridge quadratics, one trajectory per prange iteration."""
    B = A.shape[0]
    d = A.shape[1]
    m = R.shape[1]
    te = eta.shape[1]
    for n in prange(B):
        w = w0[n].copy()
        h = np.empty(d)
        g = np.empty(d)
        z = np.empty(m)
        u = np.empty(m)
        for t in range(T + 1):
            f = _value_grad(A[n], b[n], R[n], s[n], c[n], kind, w, h, g, z, u)
            g2 = 0.0
            for i in range(d):
                g2 += g[i] * g[i]
            fout[n, t] = f
            gout[n, t] = g2
            if keep:
                for i in range(d):
                    wout[n, t, i] = w[i]
            if t < T:
                e = eta[n, t if te > 1 else 0]
                for i in range(d):
                    w[i] = w[i] - e * g[i]
        for i in range(d):
            wlast[n, i] = w[i]


@njit(parallel=True, fastmath=False, cache=True)
def _sgd_general(A, b, R, s, c, kind, w0, eta, T, batch, seed, ids, expect, keep,
                 fout, gout, wout, efout, eg2out, wlast):  # pragma: no cover - compiled
    """Minibatch SGD, one trajectory per prange iteration; indices from the Philox generator."""
    B = A.shape[0]
    d = A.shape[1]
    m = R.shape[1]
    te = eta.shape[1]
    mf = np.float64(m) / np.float64(batch)
    mu = np.uint64(m)
    for n in prange(B):
        An = A[n]
        bn = b[n]
        Rn = R[n]
        sn = s[n]
        cn = c[n]
        inst = ids[n]
        w = w0[n].copy()
        h = np.empty(d)
        g = np.empty(d)
        hb = np.empty(d)
        S = np.empty(d)
        wt = np.empty(d)
        z = np.empty(m)
        u = np.empty(m)
        for t in range(T + 1):
            f = _value_grad(An, bn, Rn, sn, cn, kind, w, h, g, z, u)
            g2 = 0.0
            for i in range(d):
                g2 += g[i] * g[i]
            fout[n, t] = f
            gout[n, t] = g2
            if keep:
                for i in range(d):
                    wout[n, t, i] = w[i]
            if t == T:
                break
            e = eta[n, t if te > 1 else 0]
            for i in range(d):
                hb[i] = h[i] + bn[i]
            if expect:
                sf = 0.0
                sg = 0.0
                for k in range(m):
                    gk2 = 0.0
                    for i in range(d):
                        gi = hb[i] + mf * (u[k] * Rn[k, i])
                        gk2 += gi * gi
                        wt[i] = w[i] - e * gi
                    sg += gk2
                    sf += _value(An, bn, Rn, sn, cn, kind, wt)
                efout[n, t] = sf / np.float64(m)
                eg2out[n, t] = sg / np.float64(m)
            for i in range(d):
                S[i] = 0.0
            for j in range(batch):
                k = randint(seed, inst, np.uint64(t), np.uint64(j), mu)
                uk = u[k]
                for i in range(d):
                    S[i] += uk * Rn[k, i]
            for i in range(d):
                w[i] = w[i] - e * (hb[i] + mf * S[i])
        for i in range(d):
            wlast[n, i] = w[i]


# --------------------------------------------------------------------------------------------------
# Kernels of ridge.gd / ridge.sgd (inputs validated, float64, C-contiguous)
# --------------------------------------------------------------------------------------------------


def _to_lanes(x: np.ndarray, groups: int) -> np.ndarray:
    """(B, *rest) -> (groups, *rest, LANES), zero-padded, lane axis innermost."""
    B = x.shape[0]
    pad = groups * LANES - B
    if pad:
        x = np.concatenate([x, np.zeros((pad,) + x.shape[1:], dtype=x.dtype)], axis=0)
    y = x.reshape((groups, LANES) + x.shape[1:])
    return np.ascontiguousarray(np.moveaxis(y, 1, -1))


def gd(A, b, R, s, c, kind, w0, eta, T, keep_iterates, *, path: str = "auto") -> dict:
    """GD; ``path`` = "auto" | "soa" (:mod:`.numba_lanes`, d <= 4) | "lanes" | "general" (tests force
    each).  All paths give bit-identical results (tested), so the choice never changes a record."""
    B, d = w0.shape
    m = R.shape[1]
    if path == "auto":
        path = ("soa" if d <= _soa.MAX_DIM else "lanes") if (m == 0 and not keep_iterates) else "general"
    if path in ("soa", "lanes") and (m != 0 or keep_iterates):
        raise ValueError(f"the {path} path handles pure quadratics without kept iterates only")
    if path == "soa":
        return _soa.gd_quadratic(A, b, w0, eta, T)
    if path == "lanes":
        groups = -(-B // LANES)
        A4 = _to_lanes(A, groups)
        b4 = _to_lanes(b, groups)
        w4 = _to_lanes(w0, groups).copy()  # updated in place; _to_lanes may return a view of w0
        e4 = _to_lanes(eta, groups)
        F = np.empty((groups * LANES, T + 1))
        G2 = np.empty((groups * LANES, T + 1))
        with _slp_vectorize():
            _gd_quadratic_lanes(A4, b4, w4, e4, T, F, G2)
        w_last = np.ascontiguousarray(np.moveaxis(w4, -1, 1).reshape(groups * LANES, d)[:B])
        return {"f": F[:B], "gnorm2": G2[:B], "w_last": w_last, "w": None, "ef_next": None, "eg2": None}
    if path != "general":
        raise ValueError(f"unknown path {path!r}")
    F = np.empty((B, T + 1))
    G2 = np.empty((B, T + 1))
    W = np.empty((B, T + 1, d)) if keep_iterates else np.empty((0, 0, 0))
    w_last = np.empty((B, d))
    _gd_general(A, b, R, s, c, int(kind), w0, eta, T, F, G2, W, bool(keep_iterates), w_last)
    return {"f": F, "gnorm2": G2, "w_last": w_last, "w": W if keep_iterates else None, "ef_next": None, "eg2": None}


def sgd(A, b, R, s, c, kind, w0, eta, T, batch, seed, ids, expectations, keep_iterates) -> dict:
    """Minibatch SGD (see :func:`kernels.sgd`)."""
    B, d = w0.shape
    F = np.empty((B, T + 1))
    G2 = np.empty((B, T + 1))
    W = np.empty((B, T + 1, d)) if keep_iterates else np.empty((0, 0, 0))
    EF = np.empty((B, T)) if expectations else np.empty((0, 0))
    EG2 = np.empty((B, T)) if expectations else np.empty((0, 0))
    w_last = np.empty((B, d))
    _sgd_general(
        A, b, R, s, c, int(kind), w0, eta, T, int(batch), np.uint64(seed), ids.astype(np.uint64),
        bool(expectations), bool(keep_iterates), F, G2, W, EF, EG2, w_last,
    )
    return {
        "f": F,
        "gnorm2": G2,
        "w_last": w_last,
        "w": W if keep_iterates else None,
        "ef_next": EF if expectations else None,
        "eg2": EG2 if expectations else None,
    }
