"""NumPy reference of the saddle dynamics (the oracle; runs in ``np.longdouble`` for replay).

Operations ``escape.gd``, ``escape.pgd`` and ``escape.coupled`` on the ``numpy`` backend: the
``*_kernel`` functions take the validated :class:`~kernels.escape.problem.SaddleProblem` and arrays of
:mod:`kernels.escape` and return the result tuples.
"""

from __future__ import annotations

import numpy as np

from .. import rng
from .problem import BALL_DRAW, SaddleProblem, _bcast, _sosp

__all__ = ["ball_direction", "coupled_kernel", "delta_norm_bound", "gd_kernel", "pgd_kernel"]


def _reference_gd(p: SaddleProblem, x0: np.ndarray, eta: np.ndarray, T: int) -> tuple[np.ndarray, ...]:
    B = p.batch
    dt = x0.dtype
    f, fabs, g2, d2 = (np.empty((B, T + 1), dtype=dt) for _ in range(4))
    x = x0.copy()
    xmax = np.zeros(B, dtype=dt)
    for t in range(T + 1):
        g = p.grad(x)
        f[:, t] = p.value(x)
        fabs[:, t] = p.value_scale(x)
        g2[:, t] = (g * g).sum(axis=1)
        dx = x - x0
        d2[:, t] = (dx * dx).sum(axis=1)
        xmax = np.maximum(xmax, np.sqrt((x * x).sum(axis=1)))
        if t < T:
            x = x - eta[:, None] * g
    return f, fabs, g2, d2, xmax


def ball_direction(seed: int, ids: np.ndarray, step: int, d: int, r: np.ndarray) -> np.ndarray:
    """The uniform-ball perturbation xi (B, d) of radius r at ``step`` for each id (reference)."""
    z = rng.normal(seed, ids[:, None], step, np.arange(d)[None, :])
    u = rng.uniform(seed, ids, step, BALL_DRAW)
    radius = r * np.exp(np.log1p(-u) / d).astype(r.dtype)
    nz = np.sqrt((z * z).sum(axis=1))
    return (radius[:, None] * (z / nz[:, None]).astype(r.dtype))


def _reference_pgd(p: SaddleProblem, x0: np.ndarray, eta: np.ndarray, T: int, mode: int, r: np.ndarray,
                   eps: np.ndarray, tau: np.ndarray, tcal: np.ndarray, seed: int, ids: np.ndarray,
                   stop: bool) -> tuple[np.ndarray, ...]:
    B, d = x0.shape
    dt = x0.dtype
    x = x0.copy()
    hit = np.full(B, -1, dtype=np.int64)
    last = -tcal.copy()  # "no perturbation in the last tcal steps" holds at t = 0
    nper = np.zeros(B, dtype=np.int64)
    maxd2 = np.zeros(B, dtype=dt)
    xmax = np.zeros(B, dtype=dt)
    live = np.ones(B, dtype=bool)
    f_end = p.value(x0)
    sig = r / np.sqrt(dt.type(d))
    for t in range(T + 1):
        g = p.grad(x)
        gn2 = (g * g).sum(axis=1)
        dx = x - x0
        maxd2 = np.where(live, np.maximum(maxd2, (dx * dx).sum(axis=1)), maxd2)
        xmax = np.where(live, np.maximum(xmax, np.sqrt((x * x).sum(axis=1))), xmax)
        new = live & (hit < 0) & _sosp(p, x, gn2, eps, tau)
        hit[new] = t
        if stop:
            f_end = np.where(new, p.value(x), f_end)
            live &= ~new
        if t == T or not live.any():
            break
        if mode == 0:
            z = rng.normal(seed, ids[:, None], t, np.arange(d)[None, :]).astype(dt)
            step = g + sig[:, None] * z
        else:
            pert = live & (gn2 <= eps * eps) & (t - last >= tcal)
            if pert.any():
                xi = ball_direction(seed, ids, t, d, r)
                x = np.where(pert[:, None], x - eta[:, None] * xi, x)
                g = np.where(pert[:, None], p.grad(x), g)
                last = np.where(pert, t, last)
                nper += pert
            step = g
        x = np.where(live[:, None], x - eta[:, None] * step, x)
    f_last = np.where(hit >= 0, f_end, p.value(x)) if stop else p.value(x)
    return hit, p.value(x0), f_last, maxd2, xmax, nper


def delta_norm_bound(p: SaddleProblem, x: np.ndarray, xp: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Upper bound on ``||Delta||``, ``Delta = int_0^1 Hess f(xp + th (x - xp)) dth - Hess f(xs)``:
    the diagonal part exactly (``int sin(xp + th xh) dth = sin(m) sinc(xh/2)``, m the mid-point;
    ``int (xp + th xh)^2 dth = (x^2 + x xp + xp^2)/3``), plus ``3 s D (Z + ||xs||)`` for the
    ``s (||z||^2 I + 2 z z^T)`` part (D = max distance of x, xp to xs, Z = max(||x||, ||xp||));
    exact when s = 0."""
    h, c, q, s, _ = _bcast(p, x)
    xh = x - xp
    m = (x + xp) / 2
    half = xh / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        sinc = np.where(half != 0, np.sin(half) / np.where(half != 0, half, 1), 1)
    diag = -c * (np.sin(m) * sinc - np.sin(xs)) + q * ((x * x + x * xp + xp * xp) - 3 * xs * xs)
    D = np.maximum(np.sqrt(((x - xs) ** 2).sum(axis=-1)), np.sqrt(((xp - xs) ** 2).sum(axis=-1)))
    Z = np.maximum(np.sqrt((x * x).sum(axis=-1)), np.sqrt((xp * xp).sum(axis=-1)))
    return np.abs(diag).max(axis=-1) + 3 * np.abs(s) * D * (Z + np.sqrt((xs * xs).sum(axis=-1)))


def _reference_coupled(p: SaddleProblem, x0: np.ndarray, x0p: np.ndarray, xs: np.ndarray, eta: np.ndarray,
                       gamma: np.ndarray, T: int) -> tuple[np.ndarray, ...]:
    B = p.batch
    dt = x0.dtype
    outs = [np.empty((B, T + 1), dtype=dt) for _ in range(9)]
    xh_o, p_o, q_o, err_o, sc_o, dn_o, dist_o, f_o, fp_o = outs
    x, xp = x0.copy(), x0p.copy()
    pv = x0 - x0p
    qv = np.zeros_like(x0)
    e = eta[:, None]
    sc = np.sqrt((x * x).sum(axis=1)) + np.sqrt((xp * xp).sum(axis=1))

    def nrm(v: np.ndarray) -> np.ndarray:
        return np.sqrt((v * v).sum(axis=1))

    for t in range(T + 1):
        xh = x - xp
        g, gp = p.grad(x), p.grad(xp)
        dn = delta_norm_bound(p, x, xp, xs)
        xh_o[:, t], p_o[:, t], q_o[:, t] = nrm(xh), nrm(pv), nrm(qv)
        err_o[:, t] = nrm(xh - (pv - qv))
        sc_o[:, t] = sc
        dn_o[:, t] = dn
        dist_o[:, t] = np.maximum(nrm(x - xs), nrm(xp - xs))
        f_o[:, t], fp_o[:, t] = p.value(x), p.value(xp)
        if t == T:
            break
        Hxh = p.hess_apply(xs, xh)
        dxh = g - gp - Hxh  # Delta_t xhat_t, by the mean-value identity
        pv = pv - e * p.hess_apply(xs, pv)
        qv = qv - e * p.hess_apply(xs, qv) + e * dxh
        x = x - e * g
        xp = xp - e * gp
        # forward-error scale of xhat - (p - q): amplification plus the new terms' magnitudes
        sc = (1 + eta * (gamma + dn)) * sc + nrm(x) + nrm(xp) + nrm(pv) + nrm(qv) + eta * (nrm(g) + nrm(gp) + nrm(Hxh))
    return tuple(outs)


# Registry targets (one signature per operation, shared by every backend).
gd_kernel = _reference_gd
coupled_kernel = _reference_coupled


def pgd_kernel(p: SaddleProblem, x0: np.ndarray, eta: np.ndarray, T: int, mode: int, r: np.ndarray,
               eps: np.ndarray, tau: np.ndarray, tcal: np.ndarray, seed: int, ids: np.ndarray,
               stop: bool) -> tuple[np.ndarray, ...]:
    """``escape.pgd`` on NumPy."""
    return _reference_pgd(p, x0, eta, T, mode, r, eps, tau, tcal, seed, ids, stop)
