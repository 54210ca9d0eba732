"""Heavy-ball and Nesterov momentum on batches of problems with a known minimiser.

Two problem types, both with the minimiser ``xs`` and the minimum ``fs`` stored exactly:

* :class:`QuadHuber` -- ``f(x) = 1/2 e^T A e + sum_j c_j h_{delta_j}(r_j^T e) + fs`` with ``e = x - xs``
  and the Huber function ``h_delta(t) = t^2/2`` for ``|t| <= delta``, ``delta |t| - delta^2/2``
  beyond (``h(0) = h'(0) = 0``, so ``xs`` minimises ``f`` whenever ``A`` is PSD and ``c >= 0``);
* :class:`SeparablePWQ` -- ``f(x) = fs + sum_i f_i(x_i)``, each ``f_i`` a one-dimensional piecewise
  quadratic C^{1,1} function given by knots ``z_0 < ... < z_K``, its derivative ``g_j`` at each knot
  (linearly interpolated in between), and the curvatures ``cl`` / ``cr`` of the two unbounded end
  pieces.  Knot ``m`` is the minimiser: ``g_m = 0`` and ``f_i(z_m) = 0``.

One update rule covers both methods (``x_{-1} = x_0``)::

    y_k     = x_k + m_k (x_k - x_{k-1})
    x_{k+1} = y_k - a grad f(p_k)

heavy ball: ``a = alpha``, ``m_k = beta``, ``p_k = x_k``; Nesterov: ``a = s``, ``m_k = (k-1)/(k+2)``,
``p_k = y_k``.  Every run records, for k = 0..N, ``f(x_k) - f*`` and ``||x_k - x*||^2`` with their
rounding scales (see :class:`MomentumRun`).

Backends: ``"numpy"`` (the reference, any float dtype, ``np.longdouble`` for replays), ``"numba"``
(fused loop, ``prange`` over the batch, float64), ``"auto"`` (numba when importable, for float64).
``"cupy"`` is refused with :class:`BackendUnavailable` (no GPU kernels here, and never a silent
fallback); :attr:`MomentumRun.backend` records the backend that ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from kernels import BackendUnavailable
from kernels.backend import KernelImpl, get_kernel, select

__all__ = [
    "BackendUnavailable",
    "MomentumRun",
    "QuadHuber",
    "SeparablePWQ",
    "heavy_ball",
    "nesterov",
    "select_backend",
]


# ------------------------------------------------------------------------------------------ problems


@dataclass(frozen=True, eq=False)
class QuadHuber:
    """A batch of ``B`` functions ``1/2 e^T A e + sum_j c_j h_{delta_j}(r_j^T e) + fs``, ``e = x - xs``."""

    A: np.ndarray  # (B, d, d) symmetric
    xs: np.ndarray  # (B, d) the minimiser
    fs: np.ndarray  # (B,) the minimum
    R: np.ndarray  # (B, m, d) ridge directions (m may be 0)
    c: np.ndarray  # (B, m) ridge weights >= 0
    delta: np.ndarray  # (B, m) Huber widths > 0

    @property
    def size(self) -> int:
        return int(self.xs.shape[0])

    @property
    def dim(self) -> int:
        return int(self.xs.shape[1])

    def astype(self, dtype: Any) -> QuadHuber:
        return QuadHuber(*(np.asarray(v, dtype=dtype) for v in (self.A, self.xs, self.fs, self.R, self.c, self.delta)))

    def take(self, index: Any) -> QuadHuber:
        index = np.asarray(index)
        return QuadHuber(*(v[index] for v in (self.A, self.xs, self.fs, self.R, self.c, self.delta)))

    def lipschitz_bound(self) -> np.ndarray:
        """A cheap upper bound on the curvature (max row sum of |A| plus sum_j c_j ||r_j||_1 ||r_j||_inf),
        in the arrays' dtype; used only in rounding scales."""
        lip = np.abs(self.A).sum(axis=2).max(axis=1)
        if self.c.shape[1]:
            ar = np.abs(self.R)
            lip = lip + (np.abs(self.c) * ar.sum(axis=2) * ar.max(axis=2)).sum(axis=1)
        return lip


@dataclass(frozen=True, eq=False)
class SeparablePWQ:
    """A batch of ``B`` separable piecewise-quadratic functions in ``d`` coordinates, ``K`` interior
    pieces per coordinate (see the module docstring)."""

    z: np.ndarray  # (B, d, K+1) knots, strictly increasing
    g: np.ndarray  # (B, d, K+1) f_i' at the knots
    cl: np.ndarray  # (B, d) curvature left of z_0
    cr: np.ndarray  # (B, d) curvature right of z_K
    m: np.ndarray  # (B, d) integer index of the minimiser knot (g[..., m] == 0)
    fs: np.ndarray  # (B,) the minimum

    @property
    def size(self) -> int:
        return int(self.z.shape[0])

    @property
    def dim(self) -> int:
        return int(self.z.shape[1])

    @property
    def xs(self) -> np.ndarray:
        """(B, d) the minimiser: the knots ``z[..., m]``."""
        return np.take_along_axis(self.z, np.asarray(self.m, dtype=np.int64)[..., None], axis=2)[..., 0]

    def astype(self, dtype: Any) -> SeparablePWQ:
        return SeparablePWQ(*(np.asarray(v, dtype=dtype) for v in (self.z, self.g, self.cl, self.cr)),
                            np.asarray(self.m, dtype=np.int64), np.asarray(self.fs, dtype=dtype))

    def take(self, index: Any) -> SeparablePWQ:
        index = np.asarray(index)
        return SeparablePWQ(*(v[index] for v in (self.z, self.g, self.cl, self.cr, self.m, self.fs)))

    def curvatures(self) -> np.ndarray:
        """(B, d, K+2): ``cl``, the K interior curvatures ``(g_j - g_{j-1}) / (z_j - z_{j-1})``, ``cr``."""
        inner = np.diff(self.g, axis=2) / np.diff(self.z, axis=2)
        return np.concatenate([self.cl[..., None], inner, self.cr[..., None]], axis=2)

    def knot_values(self) -> tuple[np.ndarray, np.ndarray]:
        """``F_j = f_i(z_j) - f_i(z_m)`` (exact trapezoid sums outward from the minimiser knot) and
        the sum of |terms| of each."""
        dz = np.diff(self.z, axis=2)
        inc = dz * (self.g[..., 1:] + self.g[..., :-1]) / 2
        inc_abs = dz * (np.abs(self.g[..., 1:]) + np.abs(self.g[..., :-1])) / 2
        K1 = self.z.shape[2]
        j = np.arange(K1)[:, None]  # knot
        i = np.arange(K1 - 1)[None, :]  # piece
        m = np.asarray(self.m, dtype=np.int64)[..., None, None]
        right = (i >= m) & (i < j)  # pieces between z_m and z_j, j > m
        left = (i >= j) & (i < m)  # pieces between z_j and z_m, j < m
        F = (np.where(right, inc[..., None, :], 0) - np.where(left, inc[..., None, :], 0)).sum(axis=3)
        FA = np.where(right | left, inc_abs[..., None, :], 0).sum(axis=3)
        return F.astype(self.z.dtype), FA.astype(self.z.dtype)

    def lipschitz_bound(self) -> np.ndarray:
        """The largest |curvature| over every piece of every coordinate."""
        return np.abs(self.curvatures()).max(axis=(1, 2))


@dataclass(frozen=True, eq=False)
class MomentumRun:
    """Per step k = 0..N (arrays of shape (B, N+1)): ``fgap = f(x_k) - f*``, ``dist2 = ||x_k - x*||^2``
    and their rounding scales.  ``dist2_abs = (||x_k - x*|| + rad_k)^2`` and ``fgap_abs`` = the sum
    of |terms| of ``f(x_k) - f*`` plus ``Lbound (||x_k - x*|| + rad_k)^2``, where ``rad_k`` is
    ``||x_k||_1 + ||x*||_1`` plus the running sum, over the steps before k, of every magnitude an
    update adds up (its x, y, momentum and step terms and the sum of |terms| of the gradient): a
    first-order scale of the rounding error carried by ``x_k`` (each error injected at step j is
    multiplied by at most ``(1 + k - j) rho^(k-j)`` on quadratics, which the claims' ``ulps`` cover
    for condition numbers up to about 10^3)."""

    fgap: np.ndarray
    fgap_abs: np.ndarray
    dist2: np.ndarray
    dist2_abs: np.ndarray
    backend: str
    dtype: str


# ------------------------------------------------------------------------------------------ backends


def select_backend(backend: str, dtype: Any = np.float64) -> str:
    """The backend a request runs on, decided by thmcheck's one backend policy for the operation
    "momentum.run": ``"auto"`` -> numba in float64 when it can run, else the NumPy reference; an
    explicit name that is not registered for this dtype (``"cupy"``, numba in longdouble) raises
    :class:`BackendUnavailable` -- never a fallback."""
    return select("momentum.run", backend, dtype)


def _dtype_name(dt: np.dtype) -> str:
    return "longdouble" if dt == np.dtype(np.longdouble) and dt != np.dtype(np.float64) else dt.name


# ------------------------------------------------------------------------------- NumPy reference


def _qh_value(p: QuadHuber, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f - f* at e = x - xs, and the sum of |terms| of it."""
    ae = np.abs(e)
    val = 0.5 * np.einsum("bi,bij,bj->b", e, p.A, e)
    va = 0.5 * np.einsum("bi,bij,bj->b", ae, np.abs(p.A), ae)
    if p.c.shape[1]:
        t = np.einsum("bri,bi->br", p.R, e)
        ta = np.einsum("bri,bi->br", np.abs(p.R), ae)
        dl = p.delta
        inside = np.abs(t) <= dl
        h = np.where(inside, 0.5 * t * t, dl * np.abs(t) - 0.5 * dl * dl)
        ha = np.where(inside, 0.5 * ta * ta, dl * ta + 0.5 * dl * dl)
        val = val + (p.c * h).sum(axis=1)
        va = va + (np.abs(p.c) * ha).sum(axis=1)
    return val, va


def _qh_grad(p: QuadHuber, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """grad f at e = x - xs, and the l1 norm of the sum of |terms| of it."""
    ae = np.abs(e)
    g = np.einsum("bij,bj->bi", p.A, e)
    ga = np.einsum("bij,bj->b", np.abs(p.A), ae)
    if p.c.shape[1]:
        t = np.einsum("bri,bi->br", p.R, e)
        ta = np.einsum("bri,bi->br", np.abs(p.R), ae)
        hp = np.clip(t, -p.delta, p.delta)
        g = g + np.einsum("br,bri->bi", p.c * hp, p.R)
        ga = ga + (np.abs(p.c) * np.minimum(ta, p.delta) * np.abs(p.R).sum(axis=2)).sum(axis=1)
    return g, ga


def _pwq_locate(p: SeparablePWQ, curv: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, ...]:
    k = (p.z <= x[..., None]).sum(axis=2)  # knots <= x
    base = np.maximum(k - 1, 0)[..., None]
    a = np.take_along_axis(curv, k[..., None], axis=2)[..., 0]
    zb = np.take_along_axis(p.z, base, axis=2)[..., 0]
    gb = np.take_along_axis(p.g, base, axis=2)[..., 0]
    return base, a, zb, gb


def _pwq_value(p: SeparablePWQ, curv: np.ndarray, F: np.ndarray, FA: np.ndarray,
               x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    base, a, zb, gb = _pwq_locate(p, curv, x)
    dd = x - zb
    Fb = np.take_along_axis(F, base, axis=2)[..., 0]
    FAb = np.take_along_axis(FA, base, axis=2)[..., 0]
    val = Fb + gb * dd + a * dd * dd / 2
    va = FAb + np.abs(gb * dd) + np.abs(a) * dd * dd / 2 + (np.abs(gb) + np.abs(a * dd)) * (np.abs(x) + np.abs(zb))
    return val.sum(axis=1), va.sum(axis=1)


def _pwq_grad(p: SeparablePWQ, curv: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    _, a, zb, gb = _pwq_locate(p, curv, x)
    dd = x - zb
    g = gb + a * dd
    ga = np.abs(gb) + np.abs(a) * (np.abs(dd) + np.abs(x) + np.abs(zb))
    return g, ga.sum(axis=1)


def _reference(problem: Any, x0: np.ndarray, step: np.ndarray, mom: np.ndarray, nesterov: bool,
               N: int) -> tuple[np.ndarray, ...]:
    B = x0.shape[0]
    dt = x0.dtype
    out = [np.empty((B, N + 1), dtype=dt) for _ in range(4)]
    fgap, fabs, dist2, dabs = out
    if isinstance(problem, QuadHuber):
        xs = problem.xs

        def value(x):
            return _qh_value(problem, x - xs)

        def grad(x):
            g, ga = _qh_grad(problem, x - xs)
            return g, ga + np.abs(x).sum(axis=1)
    else:
        xs = problem.xs
        curv = problem.curvatures()
        F, FA = problem.knot_values()

        def value(x):
            return _pwq_value(problem, curv, F, FA, x)

        def grad(x):
            return _pwq_grad(problem, curv, x)

    lip = problem.lipschitz_bound()
    xs1 = np.abs(xs).sum(axis=1)
    x, xp = x0.copy(), x0.copy()
    P = np.zeros(B, dtype=dt)
    for k in range(N + 1):
        e = x - xs
        ee = (e * e).sum(axis=1)
        x1 = np.abs(x).sum(axis=1)
        val, va = value(x)
        rad2 = (np.sqrt(ee) + P + x1 + xs1) ** 2
        fgap[:, k], fabs[:, k], dist2[:, k], dabs[:, k] = val, va + lip * rad2, ee, rad2
        if k == N:
            break
        mk = np.full(B, (k - 1.0) / (k + 2.0), dtype=dt) if nesterov else mom
        y = x + mk[:, None] * (x - xp)
        pt = y if nesterov else x
        g, ga = grad(pt)
        xn = y - step[:, None] * g
        P = P + (1 + np.abs(mk)) * x1 + np.abs(mk) * np.abs(xp).sum(axis=1) + np.abs(y).sum(axis=1) \
            + np.abs(pt).sum(axis=1) + xs1 + step * ga
        xp, x = x, xn
    return fgap, fabs, dist2, dabs


# ------------------------------------------------------------------------------------- numba kernels


@cache
def _numba_kernels():
    import math

    import numba

    @numba.njit(parallel=True, cache=True, fastmath=False)
    def qh(A, xs, R, c, delta, lip, x0, step, mom, nesterov, N, fgap, fabs, dist2, dabs):
        B, d = x0.shape
        nr = c.shape[1]
        for n in numba.prange(B):
            x = x0[n].copy()
            xp = x0[n].copy()
            y = np.empty(d)
            e = np.empty(d)
            g = np.empty(d)
            xs1 = 0.0
            for i in range(d):
                xs1 += abs(xs[n, i])
            P = 0.0
            for k in range(N + 1):
                ee = 0.0
                x1 = 0.0
                for i in range(d):
                    e[i] = x[i] - xs[n, i]
                    ee += e[i] * e[i]
                    x1 += abs(x[i])
                q = 0.0
                qa = 0.0
                for i in range(d):
                    for j in range(d):
                        v = e[i] * A[n, i, j] * e[j]
                        q += v
                        qa += abs(v)
                val = 0.5 * q
                va = 0.5 * qa
                for r in range(nr):
                    t = 0.0
                    ta = 0.0
                    for i in range(d):
                        w = R[n, r, i] * e[i]
                        t += w
                        ta += abs(w)
                    dl = delta[n, r]
                    if abs(t) <= dl:
                        val += c[n, r] * (0.5 * t * t)
                        va += abs(c[n, r]) * (0.5 * ta * ta)
                    else:
                        val += c[n, r] * (dl * abs(t) - 0.5 * dl * dl)
                        va += abs(c[n, r]) * (dl * ta + 0.5 * dl * dl)
                rad = math.sqrt(ee) + P + x1 + xs1
                fgap[n, k] = val
                fabs[n, k] = va + lip[n] * rad * rad
                dist2[n, k] = ee
                dabs[n, k] = rad * rad
                if k == N:
                    break
                mk = (k - 1.0) / (k + 2.0) if nesterov else mom[n]
                y1 = 0.0
                xp1 = 0.0
                for i in range(d):
                    y[i] = x[i] + mk * (x[i] - xp[i])
                    y1 += abs(y[i])
                    xp1 += abs(xp[i])
                p1 = 0.0
                for i in range(d):
                    pi = y[i] if nesterov else x[i]
                    e[i] = pi - xs[n, i]
                    p1 += abs(pi)
                ga = p1
                for i in range(d):
                    s = 0.0
                    for j in range(d):
                        s += A[n, i, j] * e[j]
                        ga += abs(A[n, i, j]) * abs(e[j])
                    g[i] = s
                for r in range(nr):
                    t = 0.0
                    ta = 0.0
                    ra = 0.0
                    for i in range(d):
                        t += R[n, r, i] * e[i]
                        ta += abs(R[n, r, i]) * abs(e[i])
                        ra += abs(R[n, r, i])
                    dl = delta[n, r]
                    hp = min(max(t, -dl), dl)
                    for i in range(d):
                        g[i] += c[n, r] * hp * R[n, r, i]
                    ga += abs(c[n, r]) * min(ta, dl) * ra
                P += (1.0 + abs(mk)) * x1 + abs(mk) * xp1 + y1 + p1 + xs1 + step[n] * ga
                for i in range(d):
                    xp[i] = x[i]
                    x[i] = y[i] - step[n] * g[i]

    @numba.njit(parallel=True, cache=True, fastmath=False)
    def pwq(z, gk, curv, F, FA, xs, lip, x0, step, mom, nesterov, N, fgap, fabs, dist2, dabs):
        B, d = x0.shape
        K1 = z.shape[2]
        for n in numba.prange(B):
            x = x0[n].copy()
            xp = x0[n].copy()
            y = np.empty(d)
            xs1 = 0.0
            for i in range(d):
                xs1 += abs(xs[n, i])
            P = 0.0
            for k in range(N + 1):
                ee = 0.0
                x1 = 0.0
                val = 0.0
                va = 0.0
                for i in range(d):
                    t = x[i]
                    e = t - xs[n, i]
                    ee += e * e
                    x1 += abs(t)
                    kk = 0
                    while kk < K1 and z[n, i, kk] <= t:
                        kk += 1
                    base = kk - 1 if kk > 0 else 0
                    a = curv[n, i, kk]
                    zb = z[n, i, base]
                    gb = gk[n, i, base]
                    dd = t - zb
                    val += F[n, i, base] + gb * dd + a * dd * dd / 2
                    va += (FA[n, i, base] + abs(gb * dd) + abs(a) * dd * dd / 2
                           + (abs(gb) + abs(a * dd)) * (abs(t) + abs(zb)))
                rad = math.sqrt(ee) + P + x1 + xs1
                fgap[n, k] = val
                fabs[n, k] = va + lip[n] * rad * rad
                dist2[n, k] = ee
                dabs[n, k] = rad * rad
                if k == N:
                    break
                mk = (k - 1.0) / (k + 2.0) if nesterov else mom[n]
                y1 = 0.0
                xp1 = 0.0
                for i in range(d):
                    y[i] = x[i] + mk * (x[i] - xp[i])
                    y1 += abs(y[i])
                    xp1 += abs(xp[i])
                p1 = 0.0
                ga = 0.0
                for i in range(d):
                    t = y[i] if nesterov else x[i]
                    p1 += abs(t)
                    kk = 0
                    while kk < K1 and z[n, i, kk] <= t:
                        kk += 1
                    base = kk - 1 if kk > 0 else 0
                    a = curv[n, i, kk]
                    zb = z[n, i, base]
                    gb = gk[n, i, base]
                    dd = t - zb
                    gi = gb + a * dd
                    ga += abs(gb) + abs(a) * (abs(dd) + abs(t) + abs(zb))
                    xp[i] = x[i]
                    x[i] = y[i] - step[n] * gi
                P += (1.0 + abs(mk)) * x1 + abs(mk) * xp1 + y1 + p1 + xs1 + step[n] * ga

    return qh, pwq


# ------------------------------------------------------------------------------------- entry points


def _run(problem: Any, x0: Any, step: Any, mom: Any, N: int, nesterov: bool, backend: str,
         dtype: Any) -> MomentumRun:
    if not isinstance(problem, (QuadHuber, SeparablePWQ)):
        raise TypeError(f"problem must be a QuadHuber or SeparablePWQ batch, got {type(problem).__name__}")
    name = select_backend(backend, dtype)
    dt = np.dtype(dtype)
    pb = problem.astype(dt)
    B, d = pb.size, pb.dim
    x0 = np.ascontiguousarray(np.asarray(x0, dtype=dt).reshape(B, d))
    step = np.ascontiguousarray(np.broadcast_to(np.asarray(step, dtype=dt), (B,)))
    mom = np.ascontiguousarray(np.broadcast_to(np.asarray(mom, dtype=dt), (B,)))
    if not (np.all(np.isfinite(x0)) and np.all(np.isfinite(step)) and np.all(np.isfinite(mom))):
        raise ValueError("x0 and the parameters must be finite")
    N = int(N)
    if N < 0:
        raise ValueError("N must be >= 0")
    out = get_kernel("momentum.run", name)(pb, x0, step, mom, bool(nesterov), N)
    return MomentumRun(*out, backend=name, dtype=_dtype_name(dt))


def reference_run(pb: Any, x0: np.ndarray, step: np.ndarray, mom: np.ndarray, nesterov: bool, N: int) -> tuple:
    """The NumPy reference (any float dtype): f - f*, its rounding scale, ||x_k - x*||^2 and its scale."""
    return _reference(pb, x0, step, mom, nesterov, N)


def numba_run(pb: Any, x0: np.ndarray, step: np.ndarray, mom: np.ndarray, nesterov: bool, N: int) -> tuple:
    """The numba kernels (float64; fused loop, prange over the batch)."""
    B = pb.size
    out = tuple(np.empty((B, N + 1)) for _ in range(4))
    qh, pwq = _numba_kernels()
    lip = np.ascontiguousarray(pb.lipschitz_bound())
    if isinstance(pb, QuadHuber):
        qh(*(np.ascontiguousarray(v) for v in (pb.A, pb.xs, pb.R, pb.c, pb.delta)), lip, x0, step, mom,
           bool(nesterov), N, *out)
    else:
        F, FA = pb.knot_values()
        pwq(*(np.ascontiguousarray(v) for v in (pb.z, pb.g, pb.curvatures(), F, FA, pb.xs)), lip, x0, step,
            mom, bool(nesterov), N, *out)
    return out


#: The implementations of the operation "momentum.run", registered through the ``thmcheck.kernels``
#: entry point like the framework's own kernels: the backend policy (``kernels.backend.select``)
#: picks among them, and refuses a backend or dtype none of them covers (CuPy, here).
KERNELS = (
    KernelImpl(op="momentum.run", backend="numpy", dtypes=("float32", "float64", "longdouble"),
               target="thmcheck_momentum.kernels:reference_run"),
    KernelImpl(op="momentum.run", backend="numba", dtypes=("float64",),
               target="thmcheck_momentum.kernels:numba_run"),
)


def heavy_ball(problem: Any, x0: Any, alpha: Any, beta: Any, N: int, *, backend: str = "auto",
               dtype: Any = np.float64) -> MomentumRun:
    """Polyak's heavy ball ``x_{k+1} = x_k - alpha grad f(x_k) + beta (x_k - x_{k-1})``, ``x_{-1} = x_0``,
    for N steps.  ``alpha``, ``beta``: scalars or (B,) arrays."""
    return _run(problem, x0, alpha, beta, N, False, backend, dtype)


def nesterov(problem: Any, x0: Any, s: Any, N: int, *, backend: str = "auto",
             dtype: Any = np.float64) -> MomentumRun:
    """Nesterov's method for convex f: ``y_k = x_k + (k-1)/(k+2) (x_k - x_{k-1})``,
    ``x_{k+1} = y_k - s grad f(y_k)``, ``x_{-1} = x_0``, for N steps."""
    return _run(problem, x0, s, 0.0, N, True, backend, dtype)
