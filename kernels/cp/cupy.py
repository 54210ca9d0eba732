"""CuPy backend of the CP family (``cp.forward_jacobian``, ``cp.noisy_gd``): the NumPy reference's
arithmetic on CuPy arrays, with the noise drawn on the device from the Philox CUDA source of
:mod:`kernels.rng` (bit-for-bit the host's).  Importing this module does not import CuPy.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from .. import rng as _rng

__all__ = ["cuda_noise_source", "forward_jacobian_kernel", "noisy_gd_kernel"]

_CUDA_NOISE = r"""
#ifndef TC_CP_ID
#define TC_CP_ID ((long long)blockIdx.x * (long long)blockDim.x + (long long)threadIdx.x)
#endif
extern "C" __global__ void tc_cp_noise(const unsigned long long* __restrict__ ids, double* __restrict__ out,
                                       unsigned long long seed, unsigned int step, unsigned int offset,
                                       long long B, int P) {
    long long k = TC_CP_ID;
    if (k >= B * (long long)P) return;
    long long b = k / P;
    int p = (int)(k % P);
    out[k] = tc_normal(seed, ids[b], step, offset + (unsigned int)p);
}
"""


def cuda_noise_source(prelude: str = "") -> str:
    """CUDA source of the noise kernel (the Philox device functions of :mod:`kernels.rng` first);
    ``prelude`` may define ``TC_CP_ID`` (the thread's flat index) for a CPU emulation."""
    return prelude + _rng.CUDA_SOURCE + _CUDA_NOISE


def _cupy() -> Any:
    import cupy  # noqa: PLC0415 - only when the CuPy backend is asked for

    return cupy


@cache
def _noise_kernel() -> Any:
    cp = _cupy()
    return cp.RawModule(code=cuda_noise_source(), options=("--fmad=false",)).get_function("tc_cp_noise")


def noisy_gd_kernel(net, W0, masks, loss, gamma, sigma, T, seed, ids) -> dict:
    """``cp.noisy_gd`` on CuPy: the reference arithmetic on the device, noise from the CUDA Philox."""
    from . import reference as _reference  # noqa: PLC0415 - the package imports this module first
    cp = _cupy()
    B, P = W0.shape
    ids_d = cp.asarray(ids.astype(np.uint64))

    def noise(t: int, off: int):
        out = cp.empty((B, P), dtype=cp.float64)
        threads = 128
        blocks = (B * P + threads - 1) // threads
        _noise_kernel()((blocks,), (threads,), (ids_d, out, np.uint64(seed), np.uint32(t), np.uint32(off),
                                                 np.int64(B), np.int32(P)))
        return out

    out = _reference._ref_noisy_gd(net, cp.asarray(W0), cp.asarray(masks), cp.asarray(loss), cp.asarray(gamma),
                        cp.asarray(sigma), T, seed, ids, xp=cp, noise=noise)
    return {k: (cp.asnumpy(v) if hasattr(v, "get") else v) for k, v in out.items()}


def forward_jacobian_kernel(net, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``cp.forward_jacobian`` on CuPy; results copied back to the host."""
    from . import cube_points, reference as _reference  # noqa: PLC0415

    cp = _cupy()
    f, J = _reference._ref_forward_jacobian(net, cp.asarray(W), cp.asarray(cube_points(net.n, W.dtype)), cp)
    return cp.asnumpy(f), cp.asnumpy(J)
