"""CuPy backend of :func:`kernels.escape.pgd`: one CUDA thread per trajectory, arrays laid out (d, B) so
that neighbouring threads read neighbouring addresses.  The noise is the Philox stream of
:data:`kernels.rng.CUDA_SOURCE` (same bits as the NumPy and numba generators); sin/cos/log1p/exp are the
device's libm, so results agree with the CPU backends to rounding, not bit for bit.  CuPy is imported
only when this backend runs."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from .rng import CUDA_SOURCE as _RNG_SOURCE

__all__ = ["SOURCE", "pgd"]

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
    fn = _module().get_function("esc_pgd")
    blocks = (B + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    fn((blocks,), (THREADS_PER_BLOCK,), (
        dev_t[0], dev_t[1], dev_t[2], vec[0], vec[1], dev_t[3], x, g, z, vec[2], np.int64(T), np.int32(mode),
        vec[3], vec[4], vec[5], tc, np.uint64(seed), idv, np.int32(stop), np.int64(B), np.int32(d),
        hit, ffirst, flast, maxd2, xmax, nper,
    ))
    return tuple(a.get() for a in (hit, ffirst, flast, maxd2, xmax, nper))
