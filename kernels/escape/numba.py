"""numba kernels of :mod:`kernels.escape` (float64, ``prange`` over the batch, one fused loop per
trajectory).  The noise is the Philox stream of :mod:`kernels.rng` through the scalar generator of
:mod:`kernels.rng_numba`; a Gaussian block yields the two normals of draws 2j and 2j+1 at once (the
same two values :func:`kernels.rng.normal` gives for those draws)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..rng_numba import _block, _cos_quadrant, _log_unit, _u53, uniform

__all__ = ["gd", "pgd", "coupled"]

_BALL_DRAW = np.uint64(0x7FFFFFFF)


@njit(cache=True)
def _grad(h, c, q, s, n, x, g):  # pragma: no cover - compiled
    d = x.shape[0]
    n2 = 0.0
    for i in range(d):
        n2 += x[i] * x[i]
    gn2 = 0.0
    for i in range(d):
        xi = x[i]
        gi = h[n, i] * xi + c[n, i] * (math.cos(xi) - 1.0) + q[n, i] * xi * xi * xi + s[n] * n2 * xi
        g[i] = gi
        gn2 += gi * gi
    return gn2, n2


@njit(cache=True)
def _value(h, c, q, s, f0, n, x):  # pragma: no cover - compiled
    d = x.shape[0]
    acc = 0.0
    absacc = 0.0
    n2 = 0.0
    for i in range(d):
        xi = x[i]
        x2 = xi * xi
        n2 += x2
        si = math.sin(xi)
        acc += h[n, i] * x2 / 2.0 + c[n, i] * (si - xi) + q[n, i] * x2 * x2 / 4.0
        absacc += abs(h[n, i]) * x2 / 2.0 + abs(c[n, i]) * (abs(si) + abs(xi)) + abs(q[n, i]) * x2 * x2 / 4.0
    return f0[n] + acc + s[n] * n2 * n2 / 4.0, abs(f0[n]) + absacc + abs(s[n]) * n2 * n2 / 4.0


@njit(cache=True)
def _sosp(h, c, q, s, n, x, n2, tau):  # pragma: no cover - compiled
    """Hess f(x) + tau I >= 0 (see kernels.escape.psd_shift_test)."""
    d = x.shape[0]
    neg = 0
    zero = 0
    sec = 1.0
    for i in range(d):
        xi = x[i]
        Di = h[n, i] - c[n, i] * math.sin(xi) + 3.0 * q[n, i] * xi * xi + s[n] * n2 + tau
        if Di < 0:
            neg += 1
        elif Di == 0:
            zero += 1
        if Di != 0:
            sec += 2.0 * s[n] * xi * xi / Di
    if neg == 0:
        return True
    return neg == 1 and zero == 0 and sec <= 0.0


@njit(cache=True)
def _normals(seed, inst, t, z):  # pragma: no cover - compiled
    d = z.shape[0]
    for j in range((d + 1) // 2):
        x0, x1, x2, x3 = _block(seed, inst, np.uint64(t), np.uint64(j))
        u1 = _u53(x0, x1)
        u2 = _u53(x2, x3)
        rho = math.sqrt(-2.0 * _log_unit(1.0 - u1))
        z[2 * j] = rho * _cos_quadrant(u2, 0)
        if 2 * j + 1 < d:
            z[2 * j + 1] = rho * _cos_quadrant(u2, 1)


@njit(parallel=True, fastmath=False, cache=True)
def _gd(h, c, q, s, f0, x0, eta, T, f, fabs, g2, d2, xmax):  # pragma: no cover - compiled
    B, d = x0.shape
    for n in prange(B):
        x = x0[n].copy()
        g = np.empty(d)
        mx = 0.0
        for t in range(T + 1):
            gn2, n2 = _grad(h, c, q, s, n, x, g)
            fv, fa = _value(h, c, q, s, f0, n, x)
            f[n, t] = fv
            fabs[n, t] = fa
            g2[n, t] = gn2
            dd = 0.0
            for i in range(d):
                dx = x[i] - x0[n, i]
                dd += dx * dx
            d2[n, t] = dd
            mx = max(mx, math.sqrt(n2))
            if t < T:
                for i in range(d):
                    x[i] = x[i] - eta[n] * g[i]
        xmax[n] = mx


def gd(h, c, q, s, f0, x0, eta, T):
    B = x0.shape[0]
    f, fabs, g2, d2 = (np.empty((B, T + 1)) for _ in range(4))
    xmax = np.empty(B)
    _gd(h, c, q, s, f0, x0, eta, T, f, fabs, g2, d2, xmax)
    return f, fabs, g2, d2, xmax


@njit(parallel=True, fastmath=False, cache=True)
def _pgd(h, c, q, s, f0, x0, eta, T, mode, r, eps, tau, tcal, seed, ids, stop,
         hit, ffirst, flast, maxd2, xmax, nper):  # pragma: no cover - compiled
    B, d = x0.shape
    for n in prange(B):
        x = x0[n].copy()
        g = np.empty(d)
        z = np.empty(d)
        inst = ids[n]
        last = -tcal[n]
        sig = r[n] / math.sqrt(float(d))
        e2 = eps[n] * eps[n]
        hn = -1
        md = 0.0
        mx = 0.0
        npn = 0
        ffirst[n] = _value(h, c, q, s, f0, n, x)[0]
        for t in range(T + 1):
            gn2, n2 = _grad(h, c, q, s, n, x, g)
            dd = 0.0
            for i in range(d):
                dx = x[i] - x0[n, i]
                dd += dx * dx
            md = max(md, dd)
            mx = max(mx, math.sqrt(n2))
            if hn < 0 and gn2 <= e2:
                if _sosp(h, c, q, s, n, x, n2, tau[n]):
                    hn = t
                    if stop:
                        break
            if t == T:
                break
            if mode == 0:
                _normals(seed, inst, t, z)
                for i in range(d):
                    x[i] = x[i] - eta[n] * (g[i] + sig * z[i])
            else:
                if gn2 <= e2 and t - last >= tcal[n]:
                    _normals(seed, inst, t, z)
                    nz = 0.0
                    for i in range(d):
                        nz += z[i] * z[i]
                    nz = math.sqrt(nz)
                    u = uniform(seed, inst, np.uint64(t), _BALL_DRAW)
                    radius = r[n] * math.exp(math.log1p(-u) / d)
                    for i in range(d):
                        x[i] = x[i] - eta[n] * (radius * (z[i] / nz))
                    _grad(h, c, q, s, n, x, g)
                    last = t
                    npn += 1
                for i in range(d):
                    x[i] = x[i] - eta[n] * g[i]
        hit[n] = hn
        flast[n] = _value(h, c, q, s, f0, n, x)[0]
        maxd2[n] = md
        xmax[n] = mx
        nper[n] = npn


def pgd(h, c, q, s, f0, x0, eta, T, mode, r, eps, tau, tcal, seed, ids, stop):
    B = x0.shape[0]
    hit = np.empty(B, dtype=np.int64)
    nper = np.empty(B, dtype=np.int64)
    ffirst, flast, maxd2, xmax = (np.empty(B) for _ in range(4))
    _pgd(h, c, q, s, f0, x0, eta, int(T), int(mode), r, eps, tau, tcal, np.uint64(seed), ids, bool(stop),
         hit, ffirst, flast, maxd2, xmax, nper)
    return hit, ffirst, flast, maxd2, xmax, nper


@njit(cache=True)
def _hess_apply(h, c, q, s, n, xs, ns2, v, out):  # pragma: no cover - compiled
    d = v.shape[0]
    xv = 0.0
    for i in range(d):
        xv += xs[i] * v[i]
    for i in range(d):
        Di = h[n, i] - c[n, i] * math.sin(xs[i]) + 3.0 * q[n, i] * xs[i] * xs[i] + s[n] * ns2
        out[i] = Di * v[i] + 2.0 * s[n] * xs[i] * xv


@njit(cache=True)
def _nrm(v):  # pragma: no cover - compiled
    a = 0.0
    for i in range(v.shape[0]):
        a += v[i] * v[i]
    return math.sqrt(a)


@njit(parallel=True, fastmath=False, cache=True)
def _coupled(h, c, q, s, f0, x0, x0p, xs_all, eta, gamma, T,
             xh_o, p_o, q_o, err_o, sc_o, dn_o, dist_o, f_o, fp_o):  # pragma: no cover - compiled
    B, d = x0.shape
    for n in prange(B):
        x = x0[n].copy()
        xp = x0p[n].copy()
        xs = xs_all[n].copy()
        ns2 = 0.0
        for i in range(d):
            ns2 += xs[i] * xs[i]
        pv = np.empty(d)
        for i in range(d):
            pv[i] = x[i] - xp[i]
        qv = np.zeros(d)
        g = np.empty(d)
        gp = np.empty(d)
        xh = np.empty(d)
        hx = np.empty(d)
        hp = np.empty(d)
        hq = np.empty(d)
        tmp = np.empty(d)
        e = eta[n]
        sc = _nrm(x) + _nrm(xp)
        for t in range(T + 1):
            _grad(h, c, q, s, n, x, g)
            _grad(h, c, q, s, n, xp, gp)
            for i in range(d):
                xh[i] = x[i] - xp[i]
            # ||Delta_t|| bound (kernels.escape.delta_norm_bound)
            dmax = 0.0
            for i in range(d):
                half = xh[i] / 2.0
                sinc = math.sin(half) / half if half != 0 else 1.0
                m = (x[i] + xp[i]) / 2.0
                di = -c[n, i] * (math.sin(m) * sinc - math.sin(xs[i])) + q[n, i] * (
                    (x[i] * x[i] + x[i] * xp[i] + xp[i] * xp[i]) - 3.0 * xs[i] * xs[i])
                dmax = max(dmax, abs(di))
            for i in range(d):
                tmp[i] = x[i] - xs[i]
            D1 = _nrm(tmp)
            for i in range(d):
                tmp[i] = xp[i] - xs[i]
            D2 = _nrm(tmp)
            Dm = max(D1, D2)
            Z = max(_nrm(x), _nrm(xp))
            dn = dmax + 3.0 * abs(s[n]) * Dm * (Z + math.sqrt(ns2))
            for i in range(d):
                tmp[i] = xh[i] - (pv[i] - qv[i])
            xh_o[n, t] = _nrm(xh)
            p_o[n, t] = _nrm(pv)
            q_o[n, t] = _nrm(qv)
            err_o[n, t] = _nrm(tmp)
            sc_o[n, t] = sc
            dn_o[n, t] = dn
            dist_o[n, t] = Dm
            f_o[n, t] = _value(h, c, q, s, f0, n, x)[0]
            fp_o[n, t] = _value(h, c, q, s, f0, n, xp)[0]
            if t == T:
                break
            _hess_apply(h, c, q, s, n, xs, ns2, xh, hx)
            _hess_apply(h, c, q, s, n, xs, ns2, pv, hp)
            _hess_apply(h, c, q, s, n, xs, ns2, qv, hq)
            for i in range(d):
                dxh = g[i] - gp[i] - hx[i]
                pv[i] = pv[i] - e * hp[i]
                qv[i] = qv[i] - e * hq[i] + e * dxh
                x[i] = x[i] - e * g[i]
                xp[i] = xp[i] - e * gp[i]
            sc = (1.0 + e * (gamma[n] + dn)) * sc + _nrm(x) + _nrm(xp) + _nrm(pv) + _nrm(qv) + e * (
                _nrm(g) + _nrm(gp) + _nrm(hx))


def coupled(h, c, q, s, f0, x0, x0p, xs, eta, gamma, T):
    B = x0.shape[0]
    outs = [np.empty((B, T + 1)) for _ in range(9)]
    _coupled(h, c, q, s, f0, x0, x0p, xs, eta, gamma, int(T), *outs)
    return tuple(outs)


# --------------------------------------------------------------------------------------------------
# Registry targets of escape.gd / escape.pgd / escape.coupled (arguments validated by kernels.escape)
# --------------------------------------------------------------------------------------------------


def gd_kernel(p, x0, eta, T):
    """``escape.gd`` on numba."""
    return gd(p.h, p.c, p.q, p.s, p.f0, x0, eta, T)


def pgd_kernel(p, x0, eta, T, mode, r, eps, tau, tcal, seed, ids, stop):
    """``escape.pgd`` on numba (seed and ids as the uint64 the Philox helpers take)."""
    return pgd(p.h, p.c, p.q, p.s, p.f0, x0, eta, T, mode, r, eps, tau, tcal, np.uint64(int(seed)),
               ids.astype(np.uint64), bool(stop))


def coupled_kernel(p, x0, x0p, xs, eta, gamma, T):
    """``escape.coupled`` on numba."""
    return coupled(p.h, p.c, p.q, p.s, p.f0, x0, x0p, xs, eta, gamma, T)
