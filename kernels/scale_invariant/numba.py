"""numba kernel of :func:`kernels.scale_invariant.gd_wd` (imported only when that backend is selected).

``prange`` over the batch; each trajectory's steps are fused in one loop (GD with weight decay and,
optionally, the exponential-LR protocol beside it).  Same arithmetic as the NumPy reference in
:mod:`kernels.scale_invariant`; see that module for the outputs.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(fastmath=False, cache=True)
def _protocol_gap(w, v, wn, s, de, ne, b, t):  # pragma: no cover - compiled
    """Where the exponential-LR run v stands against the weight-decay run w at step t: the distance of
    their directions and the relative error of ||v|| s against ||w|| (written to de, ne).  Returns
    ||v||^2 and ||v||, which the next step needs."""
    d = w.shape[0]
    vn2 = 0.0
    for i in range(d):
        vn2 += v[i] * v[i]
    vn = np.sqrt(vn2)
    dd = 0.0
    for i in range(d):
        x = w[i] / wn - v[i] / vn
        dd += x * x
    de[b, t] = np.sqrt(dd)
    ne[b, t] = abs(vn * s / wn - 1.0)
    return vn2, vn


@njit(fastmath=False, cache=True)
def _rayleigh_grad2_at_unit(A, b, wb, xb, Ax):  # pragma: no cover - compiled
    """||grad L(x)||^2 for the Rayleigh loss L(x) = x^T A_b x / ||x||^2 at x = wb/||wb||, computed
    there from A (the norm of x recomputed, not assumed 1); ``xb`` and ``Ax`` are scratch."""
    d = wb.shape[0]
    xn2 = 0.0
    for i in range(d):
        xn2 += wb[i] * wb[i]
    xn = np.sqrt(xn2)
    for i in range(d):
        xb[i] = wb[i] / xn
    fx = 0.0
    for i in range(d):
        acc = 0.0
        for j in range(d):
            acc += A[b, i, j] * xb[j]
        Ax[i] = acc
        fx += xb[i] * acc
    gx2 = 0.0
    for i in range(d):
        gi = 2.0 * (Ax[i] - fx * xb[i]) / xn
        gx2 += gi * gi
    return gx2


@njit(parallel=True, fastmath=False, cache=True)
def gd_wd(A, w0, eta, lam, c, T, exp, f, g2, n2, fa, ga, de, ne, es, gb2):  # pragma: no cover - compiled
    B, d = w0.shape
    for b in prange(B):
        q = 1.0 - eta[b] * lam[b]
        fro = 0.0
        for i in range(d):
            for j in range(d):
                fro += A[b, i, j] * A[b, i, j]
        fro = np.sqrt(fro)
        w = w0[b].copy()
        v = w0[b].copy()
        wb = np.empty(d)
        Aw = np.empty(d)
        aw = np.empty(d)
        g = np.empty(d)
        xb = np.empty(d)
        p = 1.0 / q
        s = 1.0
        ew = 0.0
        ev = 0.0
        for t in range(T + 1):
            # L, grad L, fabs, gabs at w (normalised form)
            wn2 = 0.0
            for i in range(d):
                wn2 += w[i] * w[i]
            wn = np.sqrt(wn2)
            for i in range(d):
                wb[i] = w[i] / wn
            ft = 0.0
            fat = 0.0
            awn = 0.0
            for i in range(d):
                acc = 0.0
                acca = 0.0
                for j in range(d):
                    acc += A[b, i, j] * wb[j]
                    acca += abs(A[b, i, j]) * abs(wb[j])
                Aw[i] = acc
                aw[i] = acca
            for i in range(d):
                ft += wb[i] * Aw[i]
                fat += abs(wb[i]) * aw[i]
                awn += aw[i] * aw[i]
            gn2 = 0.0
            for i in range(d):
                g[i] = 2.0 * (Aw[i] - ft * wb[i]) / wn
                gn2 += g[i] * g[i]
            f[b, t] = ft
            g2[b, t] = gn2
            n2[b, t] = wn2
            fa[b, t] = fat
            ga[b, t] = 2.0 * (np.sqrt(awn) + fat) / wn
            # grad L evaluated afresh at the point x = w/||w|| (its norm recomputed, not assumed 1),
            # not obtained as ||w||^2 ||grad L(w)||^2: that is the scaling identity claims check.
            gb2[b, t] = _rayleigh_grad2_at_unit(A, b, wb, xb, aw)
            if exp:
                vn2, vn = _protocol_gap(w, v, wn, s, de, ne, b, t)
                es[b, t] = 2.0 * (ew + ev) + 2.0 * (d + 2)
            if t == T:
                break
            if exp:
                etat = c[b] * p
                for i in range(d):
                    wb[i] = v[i] / vn
                fv = 0.0
                for i in range(d):
                    acc = 0.0
                    for j in range(d):
                        acc += A[b, i, j] * wb[j]
                    Aw[i] = acc
                for i in range(d):
                    fv += wb[i] * Aw[i]
                ew = (1.0 + 4.0 * eta[b] * fro / (q * wn2)) * ew + 4.0 + (4 * d + 12) * eta[b] * fro / wn2
                ev = (1.0 + 4.0 * etat * fro / vn2) * ev + 4.0 + (4 * d + 12) * etat * fro / vn2
                for i in range(d):
                    v[i] = v[i] - etat * (2.0 * (Aw[i] - fv * wb[i]) / vn)
                p = p / (q * q)
                s = s * q
            for i in range(d):
                w[i] = q * w[i] - eta[b] * g[i]


@njit(parallel=True, fastmath=False, cache=True)
def hitting(A, w0, eta, lam, T, level_g, level_n, hit, either, wn2_either, gbar_min):  # pragma: no cover
    B, d = w0.shape
    for b in prange(B):
        q = 1.0 - eta[b] * lam[b]
        w = w0[b].copy()
        wb = np.empty(d)
        Aw = np.empty(d)
        xb = np.empty(d)
        Ax = np.empty(d)
        hit[b] = T + 1
        either[b] = T + 1
        wn2_either[b] = np.nan
        gbar_min[b] = np.inf
        for t in range(T + 1):
            wn2 = 0.0
            for i in range(d):
                wn2 += w[i] * w[i]
            wn = np.sqrt(wn2)
            for i in range(d):
                wb[i] = w[i] / wn
            ft = 0.0
            for i in range(d):
                acc = 0.0
                for j in range(d):
                    acc += A[b, i, j] * wb[j]
                Aw[i] = acc
            for i in range(d):
                ft += wb[i] * Aw[i]
            # ||grad L||^2 evaluated afresh at x = w/||w|| (not ||w||^2 ||grad L(w)||^2, the
            # scaling identity under test), as in gd_wd.
            gbar = _rayleigh_grad2_at_unit(A, b, wb, xb, Ax)
            if gbar < gbar_min[b]:
                gbar_min[b] = gbar
            if either[b] > T and (gbar <= level_g[b] or wn2 >= level_n[b]):
                either[b] = t
                wn2_either[b] = wn2
            if gbar <= level_g[b]:
                hit[b] = t
                break
            if t == T:
                if either[b] > T:
                    wn2_either[b] = wn2
                break
            for i in range(d):
                w[i] = q * w[i] - eta[b] * 2.0 * (Aw[i] - ft * wb[i]) / wn


@njit(fastmath=False, cache=True)
def _softplus_vg(a, b, idx, t, mb, x, wb, h, cabs, g):  # pragma: no cover - compiled
    """L, fabs, gabs at x for instance b (minibatch ``idx[b, t]`` when ``mb``); writes grad L into g.
    Same formulas as :func:`kernels.scale_invariant.softplus_value_grad`."""
    d = x.shape[0]
    nb = idx.shape[2] if mb else a.shape[1]
    xn2 = 0.0
    for i in range(d):
        xn2 += x[i] * x[i]
    xn = np.sqrt(xn2)
    for i in range(d):
        wb[i] = x[i] / xn
        h[i] = 0.0
        cabs[i] = 0.0
    f = 0.0
    fabs = 0.0
    for kk in range(nb):
        k = idx[b, t, kk] if mb else kk
        z = 0.0
        za = 0.0
        for j in range(d):
            z += a[b, k, j] * wb[j]
            za += abs(a[b, k, j]) * abs(wb[j])
        sp = max(z, 0.0) + np.log1p(np.exp(-abs(z)))
        sg = np.exp(z - sp)
        f += sp
        fabs += sp + sg * za
        cw = sg + sg * (1.0 - sg) * za
        for j in range(d):
            h[j] += sg * a[b, k, j]
            cabs[j] += cw * abs(a[b, k, j])
    f /= nb
    fabs /= nb
    wh = 0.0
    cn = 0.0
    cw = 0.0
    for j in range(d):
        h[j] /= nb
        cabs[j] /= nb
        wh += wb[j] * h[j]
        cn += cabs[j] * cabs[j]
        cw += abs(wb[j]) * cabs[j]
    for j in range(d):
        g[j] = (h[j] - wh * wb[j]) / xn
    return f, fabs, (np.sqrt(cn) + cw) / xn


@njit(parallel=True, fastmath=False, cache=True)
def gd_wd_softplus(a, w0, eta, lam, c, T, exp, mb, idx, K, Fr, f, g2, n2, fa, ga, de, ne, es, gb2):  # pragma: no cover
    """GD with weight decay (and optionally the exp-LR protocol, optionally on minibatches) on normalised
    softplus losses; the arithmetic of the NumPy reference with :func:`_softplus_vg` as the loss."""
    B, d = w0.shape
    for b in prange(B):
        q = 1.0 - eta[b] * lam[b]
        w = w0[b].copy()
        v = w0[b].copy()
        wb = np.empty(d)
        h = np.empty(d)
        cabs = np.empty(d)
        g = np.empty(d)
        gv = np.empty(d)
        xb = np.empty(d)
        p = 1.0 / q
        s = 1.0
        ew = 0.0
        ev = 0.0
        for t in range(T + 1):
            ft, fat, gat = _softplus_vg(a, b, idx, t, mb, w, wb, h, cabs, g)
            wn2 = 0.0
            gn2 = 0.0
            for i in range(d):
                wn2 += w[i] * w[i]
                gn2 += g[i] * g[i]
            f[b, t] = ft
            g2[b, t] = gn2
            n2[b, t] = wn2
            fa[b, t] = fat
            ga[b, t] = gat
            # grad L evaluated afresh at x = w/||w|| (see the Rayleigh kernel)
            wn = np.sqrt(wn2)
            for i in range(d):
                xb[i] = w[i] / wn
            _softplus_vg(a, b, idx, t, mb, xb, wb, h, cabs, gv)
            gx2 = 0.0
            for i in range(d):
                gx2 += gv[i] * gv[i]
            gb2[b, t] = gx2
            if exp:
                vn2, vn = _protocol_gap(w, v, np.sqrt(wn2), s, de, ne, b, t)
                es[b, t] = 2.0 * (ew + ev) + 2.0 * (d + 2)
            if t == T:
                break
            if exp:
                etat = c[b] * p
                _softplus_vg(a, b, idx, t, mb, v, wb, h, cabs, gv)
                ew = (1.0 + eta[b] * K[b] / (q * wn2)) * ew + 4.0 + eta[b] * Fr[b] / wn2
                ev = (1.0 + etat * K[b] / vn2) * ev + 4.0 + etat * Fr[b] / vn2
                for i in range(d):
                    v[i] = v[i] - etat * gv[i]
                p = p / (q * q)
                s = s * q
            for i in range(d):
                w[i] = q * w[i] - eta[b] * g[i]


@njit(parallel=True, fastmath=False, cache=True)
def softplus_ball_descent(a, v0, step, iters, out):  # pragma: no cover - compiled
    """Projected gradient descent on the unit ball for h(v) = (1/m) sum_k softplus(a_k^T v), from v0."""
    B, m, d = a.shape
    for b in prange(B):
        v = v0[b].copy()
        g = np.empty(d)
        for _ in range(iters):
            for j in range(d):
                g[j] = 0.0
            for k in range(m):
                z = 0.0
                for j in range(d):
                    z += a[b, k, j] * v[j]
                sp = max(z, 0.0) + np.log1p(np.exp(-abs(z)))
                sg = np.exp(z - sp)
                for j in range(d):
                    g[j] += sg * a[b, k, j]
            n2 = 0.0
            for j in range(d):
                v[j] -= step[b] * g[j] / m
                n2 += v[j] * v[j]
            if n2 > 1.0:
                nr = np.sqrt(n2)
                for j in range(d):
                    v[j] /= nr
        for j in range(d):
            out[b, j] = v[j]


# --------------------------------------------------------------------------------------------------
# Registry targets (arguments validated by kernels.scale_invariant; float64)
# --------------------------------------------------------------------------------------------------


def gd_wd_kernel(A, w, e, lm, c, T, ray, idx, K, Fr):
    """``scale_invariant.gd_wd`` on numba: the Rayleigh kernel, or the softplus one (with minibatches)."""
    B = w.shape[0]
    shape = (B, T + 1)
    arrs = [np.zeros(shape) for _ in range(5)]
    extra = [np.zeros(shape) for _ in range(3)] if c is not None else [np.zeros((B, 1)) for _ in range(3)]
    gb2 = np.zeros(shape)
    cc = np.zeros(B) if c is None else c
    if ray:
        gd_wd(np.ascontiguousarray(A), np.ascontiguousarray(w), e, lm, cc, T, c is not None, *arrs, *extra, gb2)
    else:
        ib = idx if idx is not None else np.zeros((B, 1, 1), dtype=np.int64)
        gd_wd_softplus(np.ascontiguousarray(A), np.ascontiguousarray(w), e, lm, cc, T, c is not None,
                       idx is not None, ib, K, Fr, *arrs, *extra, gb2)
    return (*arrs, *(extra if c is not None else (None, None, None)), gb2)


def hitting_kernel(A, w, e, lm, T, lg, ln, ray):
    """``scale_invariant.hitting`` on numba (Rayleigh quotients only: the kernel has no softplus path)."""
    if not ray:
        from ..ridge.problems import ProblemError  # noqa: PLC0415

        raise ProblemError("the numba hitting kernel runs Rayleigh quotients only; use backend='numpy'")
    B = w.shape[0]
    out = (np.zeros(B, dtype=np.int64), np.zeros(B, dtype=np.int64), np.zeros(B), np.zeros(B))
    hitting(np.ascontiguousarray(A), np.ascontiguousarray(w), e, lm, T, lg, ln, *out)
    return out


def ball_descent_kernel(a, v, st, iters):
    """``scale_invariant.softplus_ball_descent`` on numba."""
    out = np.zeros_like(v)
    softplus_ball_descent(a, v, st, iters, out)
    return out
