"""CuPy GPU kernels (float64 only): one CUDA thread per trajectory.

This module is importable without CuPy: ``cupy`` is imported inside the functions that need it, on
first use.  The CUDA C source is plain text (:func:`kernel_source`), compiled by NVRTC through
``cupy.RawModule`` with ``--fmad=false`` so that, like the CPU backends, no multiply-add is fused.

Layout on the device is batch-last ("structure of arrays"): ``A`` is stored as (d, d, B), ``w`` as
(d, B), outputs as (T+1, B), so that consecutive threads touch consecutive addresses (coalesced).
The wrapper re-lays the inputs out once on the device and transposes the outputs back.

The per-trajectory arithmetic is the same sequence of operations as ``kernels.ridge.numba``'s general path
(which follows the reference); CUDA's libm (tanh, cos, exp, log1p) may differ from glibc's in the last
bits.  The SGD indices come from the same Philox4x32-10 stream (:data:`kernels.rng.CUDA_SOURCE`), so
every backend draws the same indices.  Non-finite iterates propagate as inf/nan; nothing raises.

Without a GPU the source is still checked: the tests compile it with ``nvcc`` (when present) and run
it on the CPU through a C++ emulation of the thread grid (see ``tests/test_kernels_gpu.py``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from ..rng import CUDA_SOURCE as _RNG_SOURCE

__all__ = ["KERNELS", "NVRTC_OPTIONS", "THREADS_PER_BLOCK", "kernel_source", "gd", "sgd"]

THREADS_PER_BLOCK = 128
NVRTC_OPTIONS = ("--fmad=false",)

_CUDA_PRELUDE = "#define TC_GLOBAL_ID ((long long)blockIdx.x * (long long)blockDim.x + (long long)threadIdx.x)\n"

_ARR = "const double* __restrict__"
_OUT = "double* __restrict__"

#: Kernel name -> parameter list (C type, name).  The wrappers below pass arguments in this order;
#: the CPU emulation in the tests generates its launchers from the same lists.
KERNELS: dict[str, list[tuple[str, str]]] = {
    "tc_gd": [
        (_ARR, "A"), (_ARR, "b"), (_ARR, "R"), (_ARR, "s"), (_ARR, "c"), (_ARR, "eta"),
        (_OUT, "w"), (_OUT, "h"), (_OUT, "g"), (_OUT, "z"), (_OUT, "u"),
        (_OUT, "fout"), (_OUT, "gout"), (_OUT, "wout"),
        ("long long", "B"), ("int", "d"), ("int", "m"), ("int", "T"), ("int", "te"), ("int", "kind"),
        ("int", "keep"),
    ],
    "tc_sgd": [
        (_ARR, "A"), (_ARR, "b"), (_ARR, "R"), (_ARR, "s"), (_ARR, "c"), (_ARR, "eta"),
        ("const unsigned long long* __restrict__", "ids"),
        (_OUT, "w"), (_OUT, "h"), (_OUT, "g"), (_OUT, "z"), (_OUT, "u"),
        (_OUT, "hb"), (_OUT, "S"), (_OUT, "wt"),
        (_OUT, "fout"), (_OUT, "gout"), (_OUT, "wout"), (_OUT, "efout"), (_OUT, "eg2out"),
        ("unsigned long long", "seed"),
        ("long long", "B"), ("int", "d"), ("int", "m"), ("int", "T"), ("int", "te"), ("int", "kind"),
        ("int", "keep"), ("int", "batch"), ("int", "expect"),
    ],
    "tc_philox_many": [
        ("const unsigned int* __restrict__", "ctr"), ("const unsigned int* __restrict__", "key"),
        ("unsigned int* __restrict__", "out"), ("long long", "N"),
    ],
    "tc_variates_many": [
        ("const unsigned long long* __restrict__", "seed"), ("const unsigned long long* __restrict__", "inst"),
        ("const unsigned int* __restrict__", "step"), ("const unsigned int* __restrict__", "draw"),
        ("const unsigned int* __restrict__", "nmax"),
        (_OUT, "uni"), ("long long* __restrict__", "ri"), (_OUT, "nor"), ("long long", "N"),
    ],
}

_BODIES = {
    "tc_gd": r"""
    long long n = TC_GLOBAL_ID;
    if (n >= B) return;
    for (int t = 0; t <= T; ++t) {
        double f = tc_value_grad(A, b, R, s, c, kind, w, h, g, z, u, n, B, d, m);
        double g2 = 0.0;
        for (int i = 0; i < d; ++i) { double gi = g[TC_IX(i)]; g2 += gi * gi; }
        fout[(long long)t * B + n] = f;
        gout[(long long)t * B + n] = g2;
        if (keep) {
            for (int i = 0; i < d; ++i) wout[((long long)t * d + i) * B + n] = w[TC_IX(i)];
        }
        if (t < T) {
            double e = eta[(long long)(te > 1 ? t : 0) * B + n];
            for (int i = 0; i < d; ++i) w[TC_IX(i)] = w[TC_IX(i)] - e * g[TC_IX(i)];
        }
    }
""",
    "tc_sgd": r"""
    long long n = TC_GLOBAL_ID;
    if (n >= B) return;
    unsigned long long inst = ids[n];
    double mf = (double)m / (double)batch;
    for (int t = 0; t <= T; ++t) {
        double f = tc_value_grad(A, b, R, s, c, kind, w, h, g, z, u, n, B, d, m);
        double g2 = 0.0;
        for (int i = 0; i < d; ++i) { double gi = g[TC_IX(i)]; g2 += gi * gi; }
        fout[(long long)t * B + n] = f;
        gout[(long long)t * B + n] = g2;
        if (keep) {
            for (int i = 0; i < d; ++i) wout[((long long)t * d + i) * B + n] = w[TC_IX(i)];
        }
        if (t == T) break;
        double e = eta[(long long)(te > 1 ? t : 0) * B + n];
        for (int i = 0; i < d; ++i) hb[TC_IX(i)] = h[TC_IX(i)] + b[TC_IX(i)];
        if (expect) {
            double sf = 0.0;
            double sg = 0.0;
            for (int k = 0; k < m; ++k) {
                double gk2 = 0.0;
                double uk = u[TC_IX(k)];
                for (int i = 0; i < d; ++i) {
                    double gi = hb[TC_IX(i)] + mf * (uk * R[TC_IX2(k, i)]);
                    gk2 += gi * gi;
                    wt[TC_IX(i)] = w[TC_IX(i)] - e * gi;
                }
                sg += gk2;
                sf += tc_value(A, b, R, s, c, kind, wt, n, B, d, m);
            }
            efout[(long long)t * B + n] = sf / (double)m;
            eg2out[(long long)t * B + n] = sg / (double)m;
        }
        for (int i = 0; i < d; ++i) S[TC_IX(i)] = 0.0;
        for (int j = 0; j < batch; ++j) {
            int k = (int)tc_randint(seed, inst, (unsigned int)t, (unsigned int)j, (unsigned int)m);
            double uk = u[TC_IX(k)];
            for (int i = 0; i < d; ++i) S[TC_IX(i)] += uk * R[TC_IX2(k, i)];
        }
        for (int i = 0; i < d; ++i) w[TC_IX(i)] = w[TC_IX(i)] - e * (hb[TC_IX(i)] + mf * S[TC_IX(i)]);
    }
""",
    "tc_philox_many": r"""
    long long n = TC_GLOBAL_ID;
    if (n >= N) return;
    unsigned int x[4] = {ctr[4 * n], ctr[4 * n + 1], ctr[4 * n + 2], ctr[4 * n + 3]};
    tc_philox4x32(x, key[2 * n], key[2 * n + 1]);
    for (int i = 0; i < 4; ++i) out[4 * n + i] = x[i];
""",
    "tc_variates_many": r"""
    long long n = TC_GLOBAL_ID;
    if (n >= N) return;
    uni[n] = tc_uniform(seed[n], inst[n], step[n], draw[n]);
    ri[n] = (long long)tc_randint(seed[n], inst[n], step[n], draw[n], nmax[n]);
    nor[n] = tc_normal(seed[n], inst[n], step[n], draw[n]);
""",
}

_HELPERS = r"""
#define TC_LN2 0.6931471805599453
/* batch-last indexing: element (i) or (k, i) of trajectory n */
#define TC_IX(i) ((long long)(i) * B + n)
#define TC_IX2(k, i) (((long long)(k) * d + (i)) * B + n)

__device__ __forceinline__ double tc_psi(double z, int kind) {
    if (kind == 0) {
        double a = fabs(z);
        return a + log1p(exp(-2.0 * a)) - TC_LN2;
    }
    return sin(z);
}

__device__ __forceinline__ double tc_dpsi(double z, int kind) {
    return kind == 0 ? tanh(z) : cos(z);
}

/* f(w); fills h = A w, z = R w + s, u = c psi'(z), g = grad f(w).  Same order as the CPU backends. */
__device__ double tc_value_grad(const double* __restrict__ A, const double* __restrict__ b,
                                const double* __restrict__ R, const double* __restrict__ s,
                                const double* __restrict__ c, int kind, const double* w,
                                double* h, double* g, double* z, double* u,
                                long long n, long long B, int d, int m) {
    for (int i = 0; i < d; ++i) {
        double acc = 0.0;
        for (int j = 0; j < d; ++j) acc += A[TC_IX2(i, j)] * w[TC_IX(j)];
        h[TC_IX(i)] = acc;
    }
    double rf = 0.0;
    for (int k = 0; k < m; ++k) {
        double acc = 0.0;
        for (int j = 0; j < d; ++j) acc += R[TC_IX2(k, j)] * w[TC_IX(j)];
        double zk = acc + s[TC_IX(k)];
        double ck = c[TC_IX(k)];
        z[TC_IX(k)] = zk;
        u[TC_IX(k)] = ck * tc_dpsi(zk, kind);
        rf += ck * tc_psi(zk, kind);
    }
    double q = 0.0;
    double lin = 0.0;
    for (int i = 0; i < d; ++i) {
        double acc = 0.0;
        for (int k = 0; k < m; ++k) acc += R[TC_IX2(k, i)] * u[TC_IX(k)];
        double hi = h[TC_IX(i)];
        double bi = b[TC_IX(i)];
        double wi = w[TC_IX(i)];
        g[TC_IX(i)] = (hi + bi) + acc;
        q += wi * hi;
        lin += bi * wi;
    }
    return 0.5 * q + lin + rf;
}

/* f(w) alone. */
__device__ double tc_value(const double* __restrict__ A, const double* __restrict__ b,
                           const double* __restrict__ R, const double* __restrict__ s,
                           const double* __restrict__ c, int kind, const double* w,
                           long long n, long long B, int d, int m) {
    double q = 0.0;
    double lin = 0.0;
    for (int i = 0; i < d; ++i) {
        double acc = 0.0;
        for (int j = 0; j < d; ++j) acc += A[TC_IX2(i, j)] * w[TC_IX(j)];
        double wi = w[TC_IX(i)];
        q += wi * acc;
        lin += b[TC_IX(i)] * wi;
    }
    double rf = 0.0;
    for (int k = 0; k < m; ++k) {
        double acc = 0.0;
        for (int j = 0; j < d; ++j) acc += R[TC_IX2(k, j)] * w[TC_IX(j)];
        rf += c[TC_IX(k)] * tc_psi(acc + s[TC_IX(k)], kind);
    }
    return 0.5 * q + lin + rf;
}
"""


def _signature(name: str) -> str:
    params = ", ".join(f"{ctype} {pname}" for ctype, pname in KERNELS[name])
    return f'extern "C" __global__ void {name}({params})'


def kernel_source(prelude: str = _CUDA_PRELUDE) -> str:
    """The complete CUDA C source: ``prelude`` (defines ``TC_GLOBAL_ID``), Philox, helpers, kernels."""
    parts = [prelude, _RNG_SOURCE, _HELPERS]
    for name in KERNELS:
        parts.append(f"{_signature(name)} {{{_BODIES[name]}}}\n")
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------------
# Host side (CuPy imported lazily)
# --------------------------------------------------------------------------------------------------


def _cupy() -> Any:
    import cupy  # noqa: PLC0415 - lazy by design: importing kernels must not import CuPy

    return cupy


@cache
def _module() -> Any:
    cp = _cupy()
    return cp.RawModule(code=kernel_source(), options=NVRTC_OPTIONS)


def _function(name: str) -> Any:
    return _module().get_function(name)


def _launch(name: str, count: int, args: tuple) -> None:
    if count == 0:
        return
    blocks = (count + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    _function(name)((blocks,), (THREADS_PER_BLOCK,), args)


def _batch_last(cp: Any, x: np.ndarray) -> Any:
    """Upload (B, ...) and re-lay out as (..., B) contiguous on the device."""
    dev = cp.asarray(x)
    return cp.ascontiguousarray(cp.moveaxis(dev, 0, -1))


def _host(cp: Any, x: Any, axes: tuple[int, ...]) -> np.ndarray:
    return cp.ascontiguousarray(cp.transpose(x, axes)).get()


def gd(A, b, R, s, c, kind, w0, eta, T, keep_iterates) -> dict:
    """GD on the GPU (see :func:`kernels.gd`); inputs validated float64 NumPy arrays."""
    cp = _cupy()
    B, d = w0.shape
    m = R.shape[1]
    te = eta.shape[1]
    dA, db, dR, ds, dc, de, dw = (_batch_last(cp, x) for x in (A, b, R, s, c, eta, w0))
    h = cp.empty((d, B))
    g = cp.empty((d, B))
    z = cp.empty((m, B))
    u = cp.empty((m, B))
    fout = cp.empty((T + 1, B))
    gout = cp.empty((T + 1, B))
    wout = cp.empty((T + 1, d, B) if keep_iterates else (0,))
    args = (
        dA, db, dR, ds, dc, de, dw, h, g, z, u, fout, gout, wout,
        np.int64(B), np.int32(d), np.int32(m), np.int32(T), np.int32(te), np.int32(int(kind)),
        np.int32(bool(keep_iterates)),
    )
    _launch("tc_gd", B, args)
    return {
        "f": _host(cp, fout, (1, 0)),
        "gnorm2": _host(cp, gout, (1, 0)),
        "w_last": _host(cp, dw, (1, 0)),
        "w": _host(cp, wout, (2, 0, 1)) if keep_iterates else None,
        "ef_next": None,
        "eg2": None,
    }


def sgd(A, b, R, s, c, kind, w0, eta, T, batch, seed, ids, expectations, keep_iterates) -> dict:
    """Minibatch SGD on the GPU (see :func:`kernels.sgd`)."""
    cp = _cupy()
    B, d = w0.shape
    m = R.shape[1]
    te = eta.shape[1]
    dA, db, dR, ds, dc, de, dw = (_batch_last(cp, x) for x in (A, b, R, s, c, eta, w0))
    dids = cp.asarray(np.ascontiguousarray(ids, dtype=np.uint64))
    scratch = [cp.empty((d, B)) for _ in range(5)] + [cp.empty((m, B)) for _ in range(2)]
    h, g, hb, S, wt, z, u = scratch
    fout = cp.empty((T + 1, B))
    gout = cp.empty((T + 1, B))
    wout = cp.empty((T + 1, d, B) if keep_iterates else (0,))
    efout = cp.empty((T, B) if expectations else (0,))
    eg2out = cp.empty((T, B) if expectations else (0,))
    args = (
        dA, db, dR, ds, dc, de, dids, dw, h, g, z, u, hb, S, wt, fout, gout, wout, efout, eg2out,
        np.uint64(seed), np.int64(B), np.int32(d), np.int32(m), np.int32(T), np.int32(te),
        np.int32(int(kind)), np.int32(bool(keep_iterates)), np.int32(batch), np.int32(bool(expectations)),
    )
    _launch("tc_sgd", B, args)
    return {
        "f": _host(cp, fout, (1, 0)),
        "gnorm2": _host(cp, gout, (1, 0)),
        "w_last": _host(cp, dw, (1, 0)),
        "w": _host(cp, wout, (2, 0, 1)) if keep_iterates else None,
        "ef_next": _host(cp, efout, (1, 0)) if expectations else None,
        "eg2": _host(cp, eg2out, (1, 0)) if expectations else None,
    }


def philox_many(counter: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Philox4x32-10 on the GPU: (N, 4) and (N, 2) uint32 -> (N, 4) uint32 (for tests)."""
    cp = _cupy()
    ctr = cp.asarray(np.ascontiguousarray(counter, dtype=np.uint32))
    k = cp.asarray(np.ascontiguousarray(key, dtype=np.uint32))
    N = ctr.shape[0]
    out = cp.empty((N, 4), dtype=cp.uint32)
    _launch("tc_philox_many", N, (ctr, k, out, np.int64(N)))
    return out.get()


def variates_many(seed, inst, step, draw, nmax) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(uniform, randint, normal) on the GPU for equal-length arrays of keys (for tests)."""
    cp = _cupy()
    arrs = [
        cp.asarray(np.ascontiguousarray(x, dtype=dt))
        for x, dt in ((seed, np.uint64), (inst, np.uint64), (step, np.uint32), (draw, np.uint32), (nmax, np.uint32))
    ]
    N = arrs[0].shape[0]
    uni = cp.empty(N)
    ri = cp.empty(N, dtype=cp.int64)
    nor = cp.empty(N)
    _launch("tc_variates_many", N, (*arrs, uni, ri, nor, np.int64(N)))
    return uni.get(), ri.get(), nor.get()
