"""numba kernel of GD on the over-parameterized logistic loss: one fused loop per instance,
``prange`` over the batch, float64 only.  Same arithmetic as :mod:`.reference` (powers through
``pow`` with a float exponent, stable softplus/sigmoid, inactive entries skipped)."""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = ["kernel", "gd_product_numba"]


@cache
def kernel():
    """The compiled kernel (compiled on first use, cached on disk)."""
    import math

    import numba  # noqa: PLC0415 - lazy by design (absolute import: the numba package)

    @numba.njit(parallel=True, cache=True, fastmath=False)
    def run(s, weight, w0, k, eta, T, w_out, W_out, loss_out, g_out):
        B, m = s.shape
        for n in numba.prange(B):
            w = w0[n]
            kf = float(k[n])
            for t in range(T + 1):
                W = w ** kf
                loss = 0.0
                g = 0.0
                for j in range(m):
                    wj = weight[n, j]
                    sj = s[n, j]
                    if wj == 0.0 or sj == 0.0:
                        continue
                    z = sj * W
                    e = math.exp(-abs(z))
                    loss += wj * (max(-z, 0.0) + math.log1p(e))
                    sig = e / (1.0 + e) if z >= 0 else 1.0 / (1.0 + e)
                    g += wj * (-sj * sig)
                w_out[n, t] = w
                W_out[n, t] = W
                loss_out[n, t] = loss
                g_out[n, t] = g
                if t < T:
                    w = w - eta[n] * g * w ** (kf - 1.0)

    return run


def gd_product_numba(s: np.ndarray, weight: np.ndarray, w0: np.ndarray, k: np.ndarray, eta: np.ndarray,
                     T: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The numba kernel behind the registry's "overparam.gd" (float64): same outputs as the reference."""
    B = w0.shape[0]
    wt, W, loss, g = (np.empty((B, T + 1)) for _ in range(4))
    kernel()(s, weight, w0, k, eta, T, wt, W, loss, g)
    return wt, W, loss, g
