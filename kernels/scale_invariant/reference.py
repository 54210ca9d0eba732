"""NumPy reference of the scale-invariant dynamics (``scale_invariant.gd_wd``, ``.hitting``,
``.softplus_ball_descent``): vectorised over the batch, written to be obviously right; runs in
``np.longdouble`` end to end.  The arithmetic takes an array module ``xp``, so the CuPy backend
(:mod:`kernels.scale_invariant.cupy`) runs the very same code on the device.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import rayleigh_value_grad, softplus_sigmoid, softplus_value_grad

__all__ = ["ball_descent_kernel", "gd_wd_kernel", "hitting_kernel"]


def _reference(A, w0, eta, lam, c, T: int, xp: Any = np, vg: Any = None, K: Any = None, Fr: Any = None):
    """``vg(w, t)`` -> (L, grad L, fabs, gabs) of the loss at step t (default: the Rayleigh quotient of A);
    ``K`` (B,) bounds ``||w||^2 ||Hess L(w)||`` and ``Fr`` (B,) the one-step rounding of the gradient step
    (in the errscale recursion; default the Rayleigh constants 4 ||A||_F and (4d + 12) ||A||_F)."""
    B, d = w0.shape
    dt = w0.dtype
    q = 1.0 - eta * lam
    if vg is None:
        fro = xp.sqrt((A * A).sum(axis=(1, 2)))
        K, Fr = 4.0 * fro, (4 * d + 12) * fro
        vg = lambda w, t: rayleigh_value_grad(A, w, xp)  # noqa: E731
    shape = (B, T + 1)
    f, g2, n2, fa, ga, gb2 = (xp.zeros(shape, dtype=dt) for _ in range(6))
    exp = c is not None
    if exp:
        de, ne, es = (xp.zeros(shape, dtype=dt) for _ in range(3))
        v = w0.copy()
        p = 1.0 / q  # (1 - eta lam)^{-(2t+1)}
        s = xp.ones(B, dtype=dt)  # (1 - eta lam)^t
        ew = xp.zeros(B, dtype=dt)
        ev = xp.zeros(B, dtype=dt)
    w = w0.copy()
    for t in range(T + 1):
        ft, gt, fat, gat = vg(w, t)
        wn2 = (w * w).sum(axis=-1)
        f[:, t], g2[:, t], n2[:, t], fa[:, t], ga[:, t] = ft, (gt * gt).sum(axis=-1), wn2, fat, gat
        # grad L evaluated afresh at x = w/||w||, not as ||w||^2 ||grad L(w)||^2 (the scaling
        # identity that claims check would then hold by construction).
        _, gx, _, _ = vg(w / xp.sqrt(wn2)[:, None], t)
        gb2[:, t] = (gx * gx).sum(axis=-1)
        if exp:
            vn2 = (v * v).sum(axis=-1)
            wn, vn = xp.sqrt(wn2), xp.sqrt(vn2)
            diff = w / wn[:, None] - v / vn[:, None]
            de[:, t] = xp.sqrt((diff * diff).sum(axis=-1))
            ne[:, t] = xp.abs(vn * s / wn - 1.0)
            es[:, t] = 2.0 * (ew + ev) + 2.0 * (d + 2)
        if t == T:
            break
        if exp:
            etat = c * p
            _, gv, _, _ = vg(v, t)
            ew = (1.0 + eta * K / (q * wn2)) * ew + 4.0 + eta * Fr / wn2
            ev = (1.0 + etat * K / vn2) * ev + 4.0 + etat * Fr / vn2
            v = v - etat[:, None] * gv
            p = p / (q * q)
            s = s * q
        w = q[:, None] * w - eta[:, None] * gt
    if not exp:
        de = ne = es = None
    return f, g2, n2, fa, ga, de, ne, es, gb2


def _reference_hitting(A, w0, eta, lam, T: int, level_g, level_n, xp: Any = np, vg: Any = None):
    B, d = w0.shape
    if vg is None:
        vg = lambda w: rayleigh_value_grad(A, w, xp)  # noqa: E731
    q = 1.0 - eta * lam
    hit = xp.full(B, T + 1, dtype=xp.int64)
    either = xp.full(B, T + 1, dtype=xp.int64)
    wn2_either = xp.full(B, xp.nan, dtype=w0.dtype)
    gbar_min = xp.full(B, xp.inf, dtype=w0.dtype)
    w = w0.copy()
    active = xp.ones(B, dtype=bool)
    for t in range(T + 1):
        _, g, _, _ = vg(w)
        wn2 = (w * w).sum(axis=-1)
        _, gx, _, _ = vg(w / xp.sqrt(wn2)[:, None])  # at the normalised point itself (see gd_wd)
        gbar = (gx * gx).sum(axis=-1)
        gbar_min = xp.where(active, xp.minimum(gbar_min, gbar), gbar_min)
        new_e = active & (either > T) & ((gbar <= level_g) | (wn2 >= level_n))
        either = xp.where(new_e, t, either)
        wn2_either = xp.where(new_e, wn2, wn2_either)
        new_h = active & (gbar <= level_g)
        hit = xp.where(new_h, t, hit)
        active = active & ~new_h
        if t == T:
            wn2_either = xp.where(either > T, wn2, wn2_either)
            break
        if not bool(active.any()):
            break
        w = q[:, None] * w - eta[:, None] * g
    return hit, either, wn2_either, gbar_min


def gd_wd_kernel(A, w, e, lm, c, T, ray, idx, K, Fr, xp: Any = np):
    """``scale_invariant.gd_wd``: the 8 outputs of :class:`kernels.scale_invariant.SITrajectory` (the
    last three None without the exp-LR protocol), as arrays of ``xp``."""
    B = w.shape[0]
    Ax, wx, ex, lx = (xp.asarray(x) for x in (A, w, e, lm))
    cx = None if c is None else xp.asarray(c)
    if ray:
        return _reference(Ax, wx, ex, lx, cx, T, xp)
    ix = None if idx is None else xp.asarray(idx)
    vg = (lambda x, t: softplus_value_grad(Ax if ix is None else Ax[xp.arange(B)[:, None], ix[:, t]], x, xp))
    return _reference(Ax, wx, ex, lx, cx, T, xp, vg=vg, K=xp.asarray(K), Fr=xp.asarray(Fr))


def hitting_kernel(A, w, e, lm, T, lg, ln, ray, xp: Any = np):
    """``scale_invariant.hitting``: (hit, either, wnorm2_either, gbar_min) as arrays of ``xp``."""
    Ad = xp.asarray(A)
    vg = None if ray else (lambda x: softplus_value_grad(Ad, x, xp))
    return _reference_hitting(Ad, *(xp.asarray(x) for x in (w, e, lm)), T, xp.asarray(lg), xp.asarray(ln), xp, vg=vg)


def ball_descent_kernel(a, v, st, iters):
    """``scale_invariant.softplus_ball_descent`` on NumPy (float64)."""
    m = a.shape[1]
    for _ in range(int(iters)):
        _, sg = softplus_sigmoid(np.matmul(a, v[:, :, None])[:, :, 0])
        v = v - st[:, None] * np.matmul(sg[:, None, :], a)[:, 0, :] / m
        v = v / np.maximum(np.sqrt((v * v).sum(axis=1)), 1.0)[:, None]
    return v
