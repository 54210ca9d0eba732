"""numba kernel of :func:`kernels.scale_invariant.gd_wd` (imported only when that backend is selected).

``prange`` over the batch; each trajectory's steps are fused in one loop (GD with weight decay and,
optionally, the exponential-LR protocol beside it).  Same arithmetic as the NumPy reference in
:mod:`kernels.scale_invariant`; see that module for the outputs.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, fastmath=False, cache=True)
def gd_wd(A, w0, eta, lam, c, T, exp, f, g2, n2, fa, ga, de, ne, es):  # pragma: no cover - compiled
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
            if exp:
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
            gn2 = 0.0
            for i in range(d):
                gi = 2.0 * (Aw[i] - ft * wb[i]) / wn
                gn2 += gi * gi
            gbar = wn2 * gn2
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
