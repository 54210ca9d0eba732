"""numba kernel of ``layernorm.value_grad`` (:func:`kernels.layernorm.layernorm_value_grad`; imported only when that backend runs).

``prange`` over the batch of networks; per network a loop over the data points runs the compiled op
table forward and backward (values and rounding magnitudes), the arithmetic of the NumPy reference.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

LINEAR, LAYERNORM, AFFINE, RELU = 1, 2, 3, 4


@njit(cache=True)
def _total(ops, n_act, d_in, n):  # pragma: no cover - compiled
    cnt = np.zeros(n_act)
    for r in range(ops.shape[0]):
        code, i0, o0, wi, wo = ops[r, 0], ops[r, 1], ops[r, 2], ops[r, 3], ops[r, 4]
        base = 0.0
        for j in range(wi):
            base = max(base, cnt[i0 + j])
        if code == LINEAR:
            inc = wi + 1.0
        elif code == LAYERNORM:
            inc = 2.0 * wi + 8.0
        elif code == AFFINE:
            inc = 2.0
        else:
            inc = 0.0
        for j in range(wo):
            cnt[o0 + j] = cnt[i0 + j] if code == RELU else base + inc
    return cnt[ops[ops.shape[0] - 1, 2]] + n + 4


@njit(parallel=True, fastmath=False, cache=True)
def forward_backward(ops, theta, X, y, n_act, f, g, acts, fa, ga, mags):  # pragma: no cover - compiled
    B, n, d_in = X.shape
    R = ops.shape[0]
    total = _total(ops, n_act, d_in, n)
    oL = ops[R - 1, 2]
    for b in prange(B):
        a = np.zeros(n_act)
        m = np.zeros(n_act)
        da = np.zeros(n_act)
        dm = np.zeros(n_act)
        sig = np.zeros(R)
        gb = np.zeros(theta.shape[1])
        gm = np.zeros(theta.shape[1])
        fb = 0.0
        fab = 0.0
        for i in range(n):
            for j in range(d_in):
                a[j] = X[b, i, j]
                m[j] = abs(X[b, i, j])
            for r in range(R):
                code, i0, o0, wi, wo, p0 = ops[r, 0], ops[r, 1], ops[r, 2], ops[r, 3], ops[r, 4], ops[r, 5]
                if code == LINEAR:
                    for o in range(wo):
                        acc = 0.0
                        acm = 0.0
                        for k in range(wi):
                            wv = theta[b, p0 + o * wi + k]
                            acc += wv * a[i0 + k]
                            acm += abs(wv) * m[i0 + k]
                        a[o0 + o] = acc
                        m[o0 + o] = acm
                elif code == LAYERNORM:
                    mu = 0.0
                    mm = 0.0
                    for k in range(wi):
                        mu += a[i0 + k]
                        mm += m[i0 + k]
                    mu /= wi
                    mm /= wi
                    s2 = 0.0
                    for k in range(wi):
                        c = a[i0 + k] - mu
                        s2 += c * c
                    s = np.sqrt(s2 / wi)
                    sig[r] = s
                    cm = 0.0
                    for k in range(wi):
                        cm += (m[i0 + k] + mm) * abs(a[i0 + k] - mu)
                    cm /= wi
                    for k in range(wi):
                        yv = (a[i0 + k] - mu) / s
                        a[o0 + k] = yv
                        m[o0 + k] = ((m[i0 + k] + mm) + abs(yv) * cm / s) / s
                elif code == AFFINE:
                    for k in range(wi):
                        a[o0 + k] = theta[b, p0 + k] * a[i0 + k] + theta[b, p0 + wi + k]
                        m[o0 + k] = abs(theta[b, p0 + k]) * m[i0 + k] + abs(theta[b, p0 + wi + k])
                else:
                    for k in range(wi):
                        a[o0 + k] = max(a[i0 + k], 0.0)
                        m[o0 + k] = m[i0 + k]
            for j in range(n_act):
                acts[b, i, j] = a[j]
                mags[b, i, j] = m[j]
            z = -y[b, i] * a[oL]
            sp = max(z, 0.0) + np.log1p(np.exp(-abs(z)))
            sg = np.exp(z - sp)
            fb += sp
            fab += sp + sg * total * m[oL]
            for j in range(n_act):
                da[j] = 0.0
                dm[j] = 0.0
            da[oL] = -y[b, i] * sg / n
            dm[oL] = sg / n
            for r in range(R - 1, -1, -1):
                code, i0, o0, wi, wo, p0 = ops[r, 0], ops[r, 1], ops[r, 2], ops[r, 3], ops[r, 4], ops[r, 5]
                if code == LINEAR:
                    for o in range(wo):
                        for k in range(wi):
                            gb[p0 + o * wi + k] += da[o0 + o] * a[i0 + k]
                            gm[p0 + o * wi + k] += dm[o0 + o] * m[i0 + k]
                    for k in range(wi):
                        acc = 0.0
                        acm = 0.0
                        for o in range(wo):
                            wv = theta[b, p0 + o * wi + k]
                            acc += wv * da[o0 + o]
                            acm += abs(wv) * dm[o0 + o]
                        da[i0 + k] += acc
                        dm[i0 + k] += acm
                elif code == LAYERNORM:
                    s = sig[r]
                    mdy = 0.0
                    mdyy = 0.0
                    mmd = 0.0
                    mmy = 0.0
                    mdy_ay = 0.0
                    mady_my = 0.0
                    for k in range(wo):
                        mdy += da[o0 + k]
                        mdyy += da[o0 + k] * a[o0 + k]
                        mmd += dm[o0 + k]
                        mmy += dm[o0 + k] * abs(a[o0 + k])
                        mdy_ay += abs(da[o0 + k]) * abs(a[o0 + k])
                        mady_my += abs(da[o0 + k]) * m[o0 + k]
                    mdy /= wo
                    mdyy /= wo
                    mmd /= wo
                    mmy /= wo
                    mdy_ay /= wo
                    mady_my /= wo
                    for k in range(wi):
                        da[i0 + k] += (da[o0 + k] - mdy - a[o0 + k] * mdyy) / s
                        ay = abs(a[o0 + k])
                        dm[i0 + k] += (dm[o0 + k] + mmd + ay * mmy + m[o0 + k] * mdy_ay + ay * mady_my) / s
                elif code == AFFINE:
                    for k in range(wi):
                        gb[p0 + k] += da[o0 + k] * a[i0 + k]
                        gb[p0 + wi + k] += da[o0 + k]
                        gm[p0 + k] += dm[o0 + k] * m[i0 + k]
                        gm[p0 + wi + k] += dm[o0 + k]
                        da[i0 + k] += theta[b, p0 + k] * da[o0 + k]
                        dm[i0 + k] += abs(theta[b, p0 + k]) * dm[o0 + k]
                else:
                    for k in range(wi):
                        if a[i0 + k] > 0:
                            da[i0 + k] += da[o0 + k]
                        dm[i0 + k] += dm[o0 + k]
        f[b] = fb / n
        fa[b] = fab / n
        for j in range(theta.shape[1]):
            g[b, j] = gb[j]
            ga[b, j] = gm[j] * (2 * total + n)


def value_grad_kernel(ops, theta, X, y, n_act):
    """``layernorm.value_grad`` on numba: (f, g, acts, fabs, gabs, mags) as the NumPy reference returns them."""
    B, n = X.shape[:2]
    f, fa = np.zeros(B), np.zeros(B)
    g, ga = np.zeros_like(theta), np.zeros_like(theta)
    a = np.zeros((B, n, n_act))
    mg = np.zeros((B, n, n_act))
    forward_backward(ops, np.ascontiguousarray(theta), np.ascontiguousarray(X), np.ascontiguousarray(y),
                     n_act, f, g, a, fa, ga, mg)
    return f, g, a, fa, ga, mg
