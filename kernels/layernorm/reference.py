"""NumPy reference of ``layernorm.value_grad`` (float32, float64, ``np.longdouble`` for replay)."""

from __future__ import annotations

import numpy as np

from . import AFFINE, LAYERNORM, LINEAR

__all__ = ["value_grad_kernel"]


def value_grad_kernel(ops, theta, X, y, n_act):
    """Forward and backward pass with magnitudes, vectorised over (B, n); any float dtype."""
    B, n, d_in = X.shape
    dt = theta.dtype
    a = np.zeros((B, n, n_act), dtype=dt)
    m = np.zeros((B, n, n_act), dtype=dt)  # magnitudes (|terms|) of each activation
    cnt = np.zeros(n_act)  # operation counts along the path
    a[:, :, :d_in] = X
    m[:, :, :d_in] = np.abs(X)
    sig = {}
    for r, (code, i0, o0, wi, wo, p0) in enumerate(ops):
        x, mx = a[:, :, i0:i0 + wi], m[:, :, i0:i0 + wi]
        if code == LINEAR:
            W = theta[:, p0:p0 + wo * wi].reshape(B, wo, wi)
            a[:, :, o0:o0 + wo] = np.einsum("boi,bni->bno", W, x)
            m[:, :, o0:o0 + wo] = np.einsum("boi,bni->bno", np.abs(W), mx)
            cnt[o0:o0 + wo] = cnt[i0:i0 + wi].max() + wi + 1
        elif code == LAYERNORM:
            c = x - x.mean(axis=-1, keepdims=True)
            s = np.sqrt((c * c).mean(axis=-1, keepdims=True))
            yv = c / s
            sig[r] = s
            a[:, :, o0:o0 + wo] = yv
            mc = mx + mx.mean(axis=-1, keepdims=True)
            m[:, :, o0:o0 + wo] = (mc + np.abs(yv) * (mc * np.abs(c)).mean(axis=-1, keepdims=True) / s) / s
            cnt[o0:o0 + wo] = cnt[i0:i0 + wi].max() + 2 * wi + 8
        elif code == AFFINE:
            gm, bt = theta[:, None, p0:p0 + wi], theta[:, None, p0 + wi:p0 + 2 * wi]
            a[:, :, o0:o0 + wo] = gm * x + bt
            m[:, :, o0:o0 + wo] = np.abs(gm) * mx + np.abs(bt)
            cnt[o0:o0 + wo] = cnt[i0:i0 + wi].max() + 2
        else:
            a[:, :, o0:o0 + wo] = np.maximum(x, 0.0)
            m[:, :, o0:o0 + wo] = mx
            cnt[o0:o0 + wo] = cnt[i0:i0 + wi]
    o0 = ops[-1][2]
    out, mout = a[:, :, o0], m[:, :, o0]
    z = -y * out
    sp = np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))
    sg = np.exp(z - sp)
    f = sp.mean(axis=1)
    total = cnt[o0] + n + 4
    fabs = (sp + sg * total * mout).mean(axis=1)
    # backward (values and magnitudes)
    da = np.zeros_like(a)
    dm = np.zeros_like(a)
    da[:, :, o0] = -y * sg / n
    dm[:, :, o0] = sg / n
    gth = np.zeros_like(theta)
    gmag = np.zeros_like(theta)
    for r in range(len(ops) - 1, -1, -1):
        code, i0, o0, wi, wo, p0 = ops[r]
        x, mx = a[:, :, i0:i0 + wi], m[:, :, i0:i0 + wi]
        dy, mdy = da[:, :, o0:o0 + wo], dm[:, :, o0:o0 + wo]
        if code == LINEAR:
            W = theta[:, p0:p0 + wo * wi].reshape(B, wo, wi)
            gth[:, p0:p0 + wo * wi] = np.einsum("bno,bni->boi", dy, x).reshape(B, -1)
            gmag[:, p0:p0 + wo * wi] = np.einsum("bno,bni->boi", mdy, mx).reshape(B, -1)
            da[:, :, i0:i0 + wi] += np.einsum("boi,bno->bni", W, dy)
            dm[:, :, i0:i0 + wi] += np.einsum("boi,bno->bni", np.abs(W), mdy)
        elif code == LAYERNORM:
            yv, s = a[:, :, o0:o0 + wo], sig[r]
            da[:, :, i0:i0 + wi] += (dy - dy.mean(axis=-1, keepdims=True)
                                     - yv * (dy * yv).mean(axis=-1, keepdims=True)) / s
            my, ay, ady = m[:, :, o0:o0 + wo], np.abs(yv), np.abs(dy)
            dm[:, :, i0:i0 + wi] += (mdy + mdy.mean(axis=-1, keepdims=True) + ay * (mdy * ay).mean(axis=-1, keepdims=True)
                                     + my * (ady * ay).mean(axis=-1, keepdims=True)
                                     + ay * (ady * my).mean(axis=-1, keepdims=True)) / s
        elif code == AFFINE:
            gm = theta[:, None, p0:p0 + wi]
            gth[:, p0:p0 + wi] = (dy * x).sum(axis=1)
            gth[:, p0 + wi:p0 + 2 * wi] = dy.sum(axis=1)
            gmag[:, p0:p0 + wi] = (mdy * mx).sum(axis=1)
            gmag[:, p0 + wi:p0 + 2 * wi] = mdy.sum(axis=1)
            da[:, :, i0:i0 + wi] += gm * dy
            dm[:, :, i0:i0 + wi] += np.abs(gm) * mdy
        else:
            da[:, :, i0:i0 + wi] += np.where(x > 0, dy, 0.0)
            dm[:, :, i0:i0 + wi] += mdy
    return f, gth, a, fabs, gmag * (2 * total + n), m
