"""CuPy kernel of ``pl.quartic_huber``: one CUDA thread per trajectory (float64).

:data:`CUDA_SOURCE` does the numba kernel's operations in the same order; NVRTC compiles it with
``--fmad=false``.  Importing this module does not import CuPy (only running the kernel does).
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = ["CUDA_KERNEL", "CUDA_SOURCE", "gd_kernel"]


CUDA_KERNEL = "tc_quartic_gd"
#: CUDA C source of the GPU kernel; ``TC_GLOBAL_ID`` (the thread's trajectory index) is defined by a
#: prelude, so that the tests can also compile it as C++ with a sequential emulation of the grid.
CUDA_SOURCE = r"""
extern "C" __global__ void tc_quartic_gd(const double* __restrict__ a, const double* __restrict__ s,
        const double* __restrict__ w0, const double* __restrict__ eta, double* __restrict__ f,
        double* __restrict__ g2, double* __restrict__ fab, double* __restrict__ W,
        long long B, int d, int T) {
    long long n = TC_GLOBAL_ID;
    if (n >= B) return;
    long long base = n * (long long)(T + 1);
    for (int i = 0; i < d; i++) W[base * d + i] = w0[n * d + i];
    for (int t = 0; t <= T; t++) {
        double fv = 0.0, fa = 0.0, gv = 0.0;
        for (int i = 0; i < d; i++) {
            double u = W[(base + t) * d + i] / s[n];
            double au = fabs(u);
            double h, dh, ha;
            if (au <= 1.0) {
                h = u * u * u * u;
                dh = 4.0 * u * u * u;
                ha = h;
            } else {
                double sg = u > 0 ? 1.0 : -1.0;
                h = 6.0 * u * u - 8.0 * au + 3.0;
                dh = 12.0 * u - 8.0 * sg;
                ha = 6.0 * u * u + 8.0 * au + 3.0;
            }
            double gi = a[n] / s[n] * dh;
            fv += h;
            fa += ha;
            gv += gi * gi;
            if (t < T) W[(base + t + 1) * d + i] = W[(base + t) * d + i] - eta[n] * gi;
        }
        f[base + t] = a[n] * fv;
        fab[base + t] = a[n] * fa;
        g2[base + t] = gv;
    }
}
"""
_CUDA_PRELUDE = "#define TC_GLOBAL_ID ((long long)blockIdx.x * (long long)blockDim.x + (long long)threadIdx.x)\n"


@cache
def _cupy_kernel():
    import cupy  # noqa: PLC0415 - lazy by design: importing kernels must not import CuPy

    return cupy.RawModule(code=_CUDA_PRELUDE + CUDA_SOURCE, options=("--fmad=false",)).get_function(CUDA_KERNEL)


def gd_kernel(a, s, w0, eta, T):
    """``pl.quartic_huber`` on CuPy: one CUDA thread per trajectory."""
    import cupy  # noqa: PLC0415

    B, d = w0.shape
    dev = [cupy.asarray(x) for x in (a, s, w0, eta)]
    f, g2, fab = (cupy.empty((B, T + 1)) for _ in range(3))
    W = cupy.empty((B, T + 1, d))
    threads = 128
    blocks = max(1, -(-B // threads))
    _cupy_kernel()((blocks,), (threads,), (*dev, f, g2, fab, W, np.int64(B), np.int32(d), np.int32(T)))
    return f.get(), g2.get(), fab.get(), W.get()
