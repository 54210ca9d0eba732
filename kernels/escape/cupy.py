"""CuPy backends of :func:`kernels.escape.gd_saddle`, :func:`kernels.escape.pgd` and
:func:`kernels.escape.coupled_gd`: one CUDA thread per trajectory (per pair for ``coupled_gd``), arrays
laid out (d, B) and per-step outputs (T+1, B) so that neighbouring threads touch neighbouring addresses.  The noise is the Philox stream of
:data:`kernels.rng.CUDA_SOURCE` (same bits as the NumPy and numba generators); sin/cos/log1p/exp are the
device's libm, so results agree with the CPU backends to rounding, not bit for bit.  CuPy is imported
only when this backend runs."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from ..rng import CUDA_SOURCE as _RNG_SOURCE

__all__ = ["SOURCE", "gd", "pgd", "coupled"]

THREADS_PER_BLOCK = 128
NVRTC_OPTIONS = ("--fmad=false",)

SOURCE = _RNG_SOURCE + r"""
#define EX(i) ((long long)(i) * B + n)

__device__ double esc_grad(const double* h, const double* c, const double* q, double sn, const double* x, double* g,
                           long long n, long long B, int d, double* n2out) {
    double n2 = 0.0;
    for (int i = 0; i < d; ++i) n2 += x[EX(i)] * x[EX(i)];
    double gn2 = 0.0;
    for (int i = 0; i < d; ++i) {
        double xi = x[EX(i)];
        double gi = h[EX(i)] * xi + c[EX(i)] * (cos(xi) - 1.0) + q[EX(i)] * xi * xi * xi + sn * n2 * xi;
        g[EX(i)] = gi;
        gn2 += gi * gi;
    }
    *n2out = n2;
    return gn2;
}

__device__ double esc_value(const double* h, const double* c, const double* q, double sn, double f0n, const double* x,
                            long long n, long long B, int d) {
    double acc = 0.0, n2 = 0.0;
    for (int i = 0; i < d; ++i) {
        double xi = x[EX(i)];
        double x2 = xi * xi;
        n2 += x2;
        acc += h[EX(i)] * x2 / 2.0 + c[EX(i)] * (sin(xi) - xi) + q[EX(i)] * x2 * x2 / 4.0;
    }
    return f0n + acc + sn * n2 * n2 / 4.0;
}

__device__ bool esc_sosp(const double* h, const double* c, const double* q, double sn, const double* x, double n2,
                         double tau, long long n, long long B, int d) {
    int neg = 0, zero = 0;
    double sec = 1.0;
    for (int i = 0; i < d; ++i) {
        double xi = x[EX(i)];
        double Di = h[EX(i)] - c[EX(i)] * sin(xi) + 3.0 * q[EX(i)] * xi * xi + sn * n2 + tau;
        if (Di < 0) neg += 1; else if (Di == 0) zero += 1;
        if (Di != 0) sec += 2.0 * sn * xi * xi / Di;
    }
    if (neg == 0) return true;
    return neg == 1 && zero == 0 && sec <= 0.0;
}

__device__ void esc_normals(unsigned long long seed, unsigned long long inst, unsigned int t, double* z,
                            long long n, long long B, int d) {
    for (int j = 0; j < (d + 1) / 2; ++j) {
        unsigned int x[4];
        tc_block(seed, inst, t, (unsigned int)j, x);
        double u1 = tc_u53(x[0], x[1]);
        double u2 = tc_u53(x[2], x[3]);
        double rho = sqrt(-2.0 * tc_log_unit(1.0 - u1));
        z[EX(2 * j)] = rho * tc_cos_quadrant(u2, 0);
        if (2 * j + 1 < d) z[EX(2 * j + 1)] = rho * tc_cos_quadrant(u2, 1);
    }
}

extern "C" __global__ void esc_pgd(const double* __restrict__ h, const double* __restrict__ c,
                                   const double* __restrict__ q, const double* __restrict__ s,
                                   const double* __restrict__ f0, const double* __restrict__ x0,
                                   double* x, double* g, double* z, const double* __restrict__ eta,
                                   long long T, int mode, const double* __restrict__ r,
                                   const double* __restrict__ eps, const double* __restrict__ tau,
                                   const long long* __restrict__ tcal, unsigned long long seed,
                                   const unsigned long long* __restrict__ ids, int stop, long long B, int d,
                                   long long* hit, double* ffirst, double* flast, double* maxd2,
                                   double* xmax, long long* nper) {
    long long n = (long long)blockIdx.x * (long long)blockDim.x + (long long)threadIdx.x;
    if (n >= B) return;
    for (int i = 0; i < d; ++i) x[EX(i)] = x0[EX(i)];
    double sn = s[n], en = eta[n], e2 = eps[n] * eps[n];
    double sig = r[n] / sqrt((double)d);
    unsigned long long inst = ids[n];
    long long last = -tcal[n];
    long long hn = -1, npn = 0;
    double md = 0.0, mx = 0.0, n2;
    ffirst[n] = esc_value(h, c, q, sn, f0[n], x, n, B, d);
    for (long long t = 0; t <= T; ++t) {
        double gn2 = esc_grad(h, c, q, sn, x, g, n, B, d, &n2);
        double dd = 0.0;
        for (int i = 0; i < d; ++i) { double dx = x[EX(i)] - x0[EX(i)]; dd += dx * dx; }
        md = fmax(md, dd);
        mx = fmax(mx, sqrt(n2));
        if (hn < 0 && gn2 <= e2 && esc_sosp(h, c, q, sn, x, n2, tau[n], n, B, d)) {
            hn = t;
            if (stop) break;
        }
        if (t == T) break;
        if (mode == 0) {
            esc_normals(seed, inst, (unsigned int)t, z, n, B, d);
            for (int i = 0; i < d; ++i) x[EX(i)] = x[EX(i)] - en * (g[EX(i)] + sig * z[EX(i)]);
        } else {
            if (gn2 <= e2 && t - last >= tcal[n]) {
                esc_normals(seed, inst, (unsigned int)t, z, n, B, d);
                double nz = 0.0;
                for (int i = 0; i < d; ++i) nz += z[EX(i)] * z[EX(i)];
                nz = sqrt(nz);
                double u = tc_uniform(seed, inst, (unsigned int)t, 0x7FFFFFFFu);
                double radius = r[n] * exp(log1p(-u) / d);
                for (int i = 0; i < d; ++i) x[EX(i)] = x[EX(i)] - en * (radius * (z[EX(i)] / nz));
                esc_grad(h, c, q, sn, x, g, n, B, d, &n2);
                last = t;
                npn += 1;
            }
            for (int i = 0; i < d; ++i) x[EX(i)] = x[EX(i)] - en * g[EX(i)];
        }
    }
    hit[n] = hn;
    flast[n] = esc_value(h, c, q, sn, f0[n], x, n, B, d);
    maxd2[n] = md;
    xmax[n] = mx;
    nper[n] = npn;
}

__device__ double esc_value_abs(const double* h, const double* c, const double* q, double sn, double f0n,
                                const double* x, long long n, long long B, int d, double* fabsout) {
    double acc = 0.0, absacc = 0.0, n2 = 0.0;
    for (int i = 0; i < d; ++i) {
        double xi = x[EX(i)];
        double x2 = xi * xi;
        n2 += x2;
        double si = sin(xi);
        acc += h[EX(i)] * x2 / 2.0 + c[EX(i)] * (si - xi) + q[EX(i)] * x2 * x2 / 4.0;
        absacc += fabs(h[EX(i)]) * x2 / 2.0 + fabs(c[EX(i)]) * (fabs(si) + fabs(xi)) + fabs(q[EX(i)]) * x2 * x2 / 4.0;
    }
    *fabsout = fabs(f0n) + absacc + fabs(sn) * n2 * n2 / 4.0;
    return f0n + acc + sn * n2 * n2 / 4.0;
}

/* Outputs per step are laid out (T+1, B): OT(t) is trajectory n's entry at step t. */
#define OT(t) ((long long)(t) * B + n)

extern "C" __global__ void esc_gd(const double* __restrict__ h, const double* __restrict__ c,
                                  const double* __restrict__ q, const double* __restrict__ s,
                                  const double* __restrict__ f0, const double* __restrict__ x0,
                                  double* x, double* g, const double* __restrict__ eta, long long T,
                                  long long B, int d, double* f, double* fabsv, double* g2, double* d2,
                                  double* xmax) {
    long long n = (long long)blockIdx.x * (long long)blockDim.x + (long long)threadIdx.x;
    if (n >= B) return;
    for (int i = 0; i < d; ++i) x[EX(i)] = x0[EX(i)];
    double sn = s[n], en = eta[n], mx = 0.0, n2, fa;
    for (long long t = 0; t <= T; ++t) {
        double gn2 = esc_grad(h, c, q, sn, x, g, n, B, d, &n2);
        f[OT(t)] = esc_value_abs(h, c, q, sn, f0[n], x, n, B, d, &fa);
        fabsv[OT(t)] = fa;
        g2[OT(t)] = gn2;
        double dd = 0.0;
        for (int i = 0; i < d; ++i) { double dx = x[EX(i)] - x0[EX(i)]; dd += dx * dx; }
        d2[OT(t)] = dd;
        mx = fmax(mx, sqrt(n2));
        if (t < T)
            for (int i = 0; i < d; ++i) x[EX(i)] = x[EX(i)] - en * g[EX(i)];
    }
    xmax[n] = mx;
}

/* Coupled GD pair (kernels.escape.coupled_gd): x, xp start as copies of x0, x0p and are updated in place;
   pv, qv, g, gp are work buffers.  H v = D v + 2 s xs (xs . v) with D_i = h_i - c_i sin xs_i + 3 q_i xs_i^2
   + s ||xs||^2 is applied to xhat, p and q in one pass (same operations, in the same order, as the numba
   kernel's three _hess_apply calls), and every norm accumulates its squares in index order. */
extern "C" __global__ void esc_coupled(const double* __restrict__ h, const double* __restrict__ c,
                                       const double* __restrict__ q, const double* __restrict__ s,
                                       const double* __restrict__ f0, double* x, double* xp,
                                       const double* __restrict__ xs, double* pv, double* qv, double* g,
                                       double* gp, const double* __restrict__ eta,
                                       const double* __restrict__ gamma, long long T, long long B, int d,
                                       double* xh_o, double* p_o, double* q_o, double* err_o, double* sc_o,
                                       double* dn_o, double* dist_o, double* f_o, double* fp_o) {
    long long n = (long long)blockIdx.x * (long long)blockDim.x + (long long)threadIdx.x;
    if (n >= B) return;
    double sn = s[n], e = eta[n], n2;
    double ns2 = 0.0, nx2 = 0.0, nxp2 = 0.0;
    for (int i = 0; i < d; ++i) {
        ns2 += xs[EX(i)] * xs[EX(i)];
        pv[EX(i)] = x[EX(i)] - xp[EX(i)];
        qv[EX(i)] = 0.0;
        nx2 += x[EX(i)] * x[EX(i)];
        nxp2 += xp[EX(i)] * xp[EX(i)];
    }
    double sc = sqrt(nx2) + sqrt(nxp2);
    for (long long t = 0; t <= T; ++t) {
        esc_grad(h, c, q, sn, x, g, n, B, d, &n2);
        esc_grad(h, c, q, sn, xp, gp, n, B, d, &n2);
        /* ||Delta_t|| bound (kernels.escape.delta_norm_bound) and the norms of this step */
        double dmax = 0.0, D1 = 0.0, D2 = 0.0, Z1 = 0.0, Z2 = 0.0, axh = 0.0, ap = 0.0, aq = 0.0, aerr = 0.0;
        for (int i = 0; i < d; ++i) {
            double xi = x[EX(i)], xpi = xp[EX(i)], xsi = xs[EX(i)];
            double xhi = xi - xpi;
            double half = xhi / 2.0;
            double sinc = half != 0 ? sin(half) / half : 1.0;
            double m = (xi + xpi) / 2.0;
            double di = -c[EX(i)] * (sin(m) * sinc - sin(xsi)) + q[EX(i)] * ((xi * xi + xi * xpi + xpi * xpi) - 3.0 * xsi * xsi);
            dmax = fmax(dmax, fabs(di));
            double a = xi - xsi, b = xpi - xsi;
            D1 += a * a;
            D2 += b * b;
            Z1 += xi * xi;
            Z2 += xpi * xpi;
            double pi_ = pv[EX(i)], qi = qv[EX(i)];
            double ri = xhi - (pi_ - qi);
            axh += xhi * xhi;
            ap += pi_ * pi_;
            aq += qi * qi;
            aerr += ri * ri;
        }
        double Dm = fmax(sqrt(D1), sqrt(D2));
        double Z = fmax(sqrt(Z1), sqrt(Z2));
        double dn = dmax + 3.0 * fabs(sn) * Dm * (Z + sqrt(ns2));
        xh_o[OT(t)] = sqrt(axh);
        p_o[OT(t)] = sqrt(ap);
        q_o[OT(t)] = sqrt(aq);
        err_o[OT(t)] = sqrt(aerr);
        sc_o[OT(t)] = sc;
        dn_o[OT(t)] = dn;
        dist_o[OT(t)] = Dm;
        f_o[OT(t)] = esc_value(h, c, q, sn, f0[n], x, n, B, d);
        fp_o[OT(t)] = esc_value(h, c, q, sn, f0[n], xp, n, B, d);
        if (t == T) break;
        double xv = 0.0, pw = 0.0, qw = 0.0;
        for (int i = 0; i < d; ++i) {
            double xsi = xs[EX(i)];
            xv += xsi * (x[EX(i)] - xp[EX(i)]);
            pw += xsi * pv[EX(i)];
            qw += xsi * qv[EX(i)];
        }
        double ax = 0.0, axp = 0.0, apv = 0.0, aqv = 0.0, ag = 0.0, agp = 0.0, ahx = 0.0;
        for (int i = 0; i < d; ++i) {
            double xsi = xs[EX(i)];
            double Di = h[EX(i)] - c[EX(i)] * sin(xsi) + 3.0 * q[EX(i)] * xsi * xsi + sn * ns2;
            double hx = Di * (x[EX(i)] - xp[EX(i)]) + 2.0 * sn * xsi * xv;
            double hp = Di * pv[EX(i)] + 2.0 * sn * xsi * pw;
            double hq = Di * qv[EX(i)] + 2.0 * sn * xsi * qw;
            double gi = g[EX(i)], gpi = gp[EX(i)];
            double dxh = gi - gpi - hx;
            double pn = pv[EX(i)] - e * hp;
            double qn = qv[EX(i)] - e * hq + e * dxh;
            double xn = x[EX(i)] - e * gi;
            double xpn = xp[EX(i)] - e * gpi;
            pv[EX(i)] = pn;
            qv[EX(i)] = qn;
            x[EX(i)] = xn;
            xp[EX(i)] = xpn;
            ax += xn * xn;
            axp += xpn * xpn;
            apv += pn * pn;
            aqv += qn * qn;
            ag += gi * gi;
            agp += gpi * gpi;
            ahx += hx * hx;
        }
        sc = (1.0 + e * (gamma[n] + dn)) * sc + sqrt(ax) + sqrt(axp) + sqrt(apv) + sqrt(aqv)
             + e * (sqrt(ag) + sqrt(agp) + sqrt(ahx));
    }
}
"""


@cache
def _module() -> Any:
    import cupy  # noqa: PLC0415 - lazy by design

    return cupy.RawModule(code=SOURCE, options=NVRTC_OPTIONS)


def pgd(h, c, q, s, f0, x0, eta, T, mode, r, eps, tau, tcal, seed, ids, stop) -> tuple[np.ndarray, ...]:
    """:func:`kernels.escape.pgd` on the GPU; inputs are validated float64 NumPy arrays."""
    import cupy as cp  # noqa: PLC0415 - lazy by design

    B, d = x0.shape
    dev_t = [cp.ascontiguousarray(cp.asarray(a).T) for a in (h, c, q, x0)]
    x = cp.empty((d, B))
    g = cp.empty((d, B))
    z = cp.empty((d, B))
    vec = [cp.asarray(a) for a in (s, f0, eta, r, eps, tau)]
    tc = cp.asarray(tcal, dtype=cp.int64)
    idv = cp.asarray(ids.astype(np.uint64))
    hit = cp.empty(B, dtype=cp.int64)
    nper = cp.empty(B, dtype=cp.int64)
    ffirst, flast, maxd2, xmax = (cp.empty(B) for _ in range(4))
    _launch("esc_pgd", B, (
        dev_t[0], dev_t[1], dev_t[2], vec[0], vec[1], dev_t[3], x, g, z, vec[2], np.int64(T), np.int32(mode),
        vec[3], vec[4], vec[5], tc, np.uint64(seed), idv, np.int32(stop), np.int64(B), np.int32(d),
        hit, ffirst, flast, maxd2, xmax, nper,
    ))
    return tuple(a.get() for a in (hit, ffirst, flast, maxd2, xmax, nper))


def _launch(name: str, B: int, args: tuple) -> None:
    if B == 0:  # an empty grid is not a valid launch; there is nothing to compute
        return
    fn = _module().get_function(name)
    blocks = (B + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    fn((blocks,), (THREADS_PER_BLOCK,), args)


def gd(h, c, q, s, f0, x0, eta, T) -> tuple[np.ndarray, ...]:
    """:func:`kernels.escape.gd_saddle` on the GPU: (f, fabs, gnorm2, dist2) each (B, T+1), xnorm_max (B,)."""
    import cupy as cp  # noqa: PLC0415 - lazy by design

    B, d = x0.shape
    dev_t = [cp.ascontiguousarray(cp.asarray(a).T) for a in (h, c, q, x0)]
    x = cp.empty((d, B))
    g = cp.empty((d, B))
    vec = [cp.asarray(a) for a in (s, f0, eta)]
    f, fabs, g2, d2 = (cp.empty((T + 1, B)) for _ in range(4))
    xmax = cp.empty(B)
    _launch("esc_gd", B, (
        dev_t[0], dev_t[1], dev_t[2], vec[0], vec[1], dev_t[3], x, g, vec[2], np.int64(T), np.int64(B), np.int32(d),
        f, fabs, g2, d2, xmax,
    ))
    return (*(np.ascontiguousarray(a.get().T) for a in (f, fabs, g2, d2)), xmax.get())


def coupled(h, c, q, s, f0, x0, x0p, xs, eta, gamma, T) -> tuple[np.ndarray, ...]:
    """:func:`kernels.escape.coupled_gd` on the GPU: the nine (B, T+1) outputs of :class:`CoupledRun`."""
    import cupy as cp  # noqa: PLC0415 - lazy by design

    B, d = x0.shape
    dev_t = [cp.ascontiguousarray(cp.asarray(a).T) for a in (h, c, q, x0, x0p, xs)]
    pv, qv, g, gp = (cp.empty((d, B)) for _ in range(4))
    vec = [cp.asarray(a) for a in (s, f0, eta, gamma)]
    outs = [cp.empty((T + 1, B)) for _ in range(9)]
    _launch("esc_coupled", B, (
        dev_t[0], dev_t[1], dev_t[2], vec[0], vec[1], dev_t[3], dev_t[4], dev_t[5], pv, qv, g, gp, vec[2], vec[3],
        np.int64(T), np.int64(B), np.int32(d), *outs,
    ))
    return tuple(np.ascontiguousarray(a.get().T) for a in outs)


# --------------------------------------------------------------------------------------------------
# Registry targets of escape.gd / escape.pgd / escape.coupled (arguments validated by kernels.escape)
# --------------------------------------------------------------------------------------------------


def gd_kernel(p, x0, eta, T):
    """``escape.gd`` on CuPy."""
    return gd(p.h, p.c, p.q, p.s, p.f0, x0, eta, T)


def pgd_kernel(p, x0, eta, T, mode, r, eps, tau, tcal, seed, ids, stop):
    """``escape.pgd`` on CuPy."""
    return pgd(p.h, p.c, p.q, p.s, p.f0, x0, eta, T, mode, r, eps, tau, tcal, seed, ids, stop)


def coupled_kernel(p, x0, x0p, xs, eta, gamma, T):
    """``escape.coupled`` on CuPy."""
    return coupled(p.h, p.c, p.q, p.s, p.f0, x0, x0p, xs, eta, gamma, T)
