"""Pure-quadratic GD for small d (1..4) with the trajectories in SIMD lanes (numba, float64).

The batch is laid out structure-of-arrays, contiguous in the trajectory index: ``A -> (d, d, B)``,
``b, w -> (d, B)``, ``eta -> (Te, B)``.  ``prange`` runs over blocks of :data:`BLOCK` trajectories;
inside a block the state lives in small local arrays (a few KiB, L1-resident) and the time loop is
outside, the loop over the block's trajectories inside.  The dimension is a compile-time constant
(one compiled kernel per d, made by :func:`_make_kernel` as a closure over ``D``), so LLVM unrolls
the i/j loops completely and the trajectory loop becomes an innermost, branch-free loop that its loop
vectorizer turns into full-width vector code (AVX-512 on the development machine: checked with
``inspect_asm``, see ``tests/test_kernels.py``).

Why not ``fastmath``: the loop over trajectories has no reduction across lanes, so vectorizing it
needs no reassociation; with ``fastmath=False`` every lane performs exactly the operations, in
exactly the order, of the AoSoA lanes kernel and the general kernel of :mod:`kernels.ridge.numba`
(m = 0), so the three agree bit for bit (tested) and results do not depend on the thread count,
the block size or the vector width.

f and ||grad f||^2 of each step are written into a per-block (T+1, BLOCK) buffer (lane-contiguous,
so the stores vectorize) and copied into the (B, T+1) outputs row by row once the block is done:
each output row is then written once, contiguously.  For large batches the run is bound by those
outputs (16 bytes per trajectory-step plus the kernel's zeroing of freshly mapped pages), not by the
arithmetic; ``benchmarks/bench_gd.py`` prints that floor beside the kernels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit, prange

__all__ = ["BLOCK", "MAX_DIM", "gd_quadratic"]

#: Largest dimension with a lanes kernel (above it the AoSoA kernel of kernels.ridge.numba runs).
MAX_DIM = 4
#: Trajectories per prange block: the per-block buffers are 2 (T+1) BLOCK doubles (400 KiB at
#: T = 200, L2-resident) and the state d (d + 3) BLOCK doubles.  128 was the fastest of 32..512 at
#: d = 2 on the development machine.
BLOCK = 128


def _make_kernel(D: int) -> Callable[..., Any]:
    """The lanes kernel for dimension ``D`` (a closure constant: numba freezes it at compile time)."""

    @njit(parallel=True, fastmath=False, cache=True)
    def kernel(A: Any, b: Any, w0: Any, eta: Any, T: int, fout: Any, gout: Any, wlast: Any) -> None:  # pragma: no cover
        """A (D, D, B), b (D, B), w0 (D, B), eta (Te, B) with Te in {1, T}; fout, gout (B, T+1); wlast (B, D)."""
        B = w0.shape[1]
        te = eta.shape[0]
        nblk = (B + BLOCK - 1) // BLOCK
        for blk in prange(nblk):
            lo = blk * BLOCK
            n = min(BLOCK, B - lo)
            # Padding lanes (a partial last block) hold the zero problem: finite, never written out.
            w = np.zeros((D, BLOCK))
            a = np.zeros((D, D, BLOCK))
            bb = np.zeros((D, BLOCK))
            gr = np.empty((D, BLOCK))
            e = np.zeros(BLOCK)
            fb = np.empty((T + 1, BLOCK))
            gb = np.empty((T + 1, BLOCK))
            for i in range(D):
                for l in range(n):
                    w[i, l] = w0[i, lo + l]
                    bb[i, l] = b[i, lo + l]
                for j in range(D):
                    for l in range(n):
                        a[i, j, l] = A[i, j, lo + l]
            for t in range(T + 1):
                if t == 0 or te > 1:
                    ts = t if t < te else te - 1
                    for l in range(n):
                        e[l] = eta[ts, lo + l]
                # The vectorized loop: per lane the operations of _value_grad (m = 0), same order.
                for l in range(BLOCK):
                    q = 0.0
                    c = 0.0
                    s = 0.0
                    for i in range(D):
                        hi = 0.0
                        for j in range(D):
                            hi += a[i, j, l] * w[j, l]
                        y = bb[i, l]
                        x = w[i, l]
                        g = hi + y
                        q += x * hi
                        c += y * x
                        s += g * g
                        gr[i, l] = g
                    fb[t, l] = 0.5 * q + c
                    gb[t, l] = s
                if t < T:
                    for i in range(D):
                        for l in range(BLOCK):
                            w[i, l] = w[i, l] - e[l] * gr[i, l]
            for l in range(n):
                for t in range(T + 1):
                    fout[lo + l, t] = fb[t, l]
                    gout[lo + l, t] = gb[t, l]
                for i in range(D):
                    wlast[lo + l, i] = w[i, l]

    return kernel


_KERNELS = {D: _make_kernel(D) for D in range(1, MAX_DIM + 1)}


def kernel_for(d: int) -> Callable[..., Any]:
    """The compiled-on-first-use lanes kernel of dimension ``d`` (1..MAX_DIM); for inspection in tests."""
    return _KERNELS[d]


def gd_quadratic(A: np.ndarray, b: np.ndarray, w0: np.ndarray, eta: np.ndarray, T: int) -> dict:
    """GD on pure quadratics ``f = 1/2 w^T A w + b^T w`` with d <= MAX_DIM.

    A (B, d, d), b (B, d), w0 (B, d), eta (B, Te) with Te in {1, T}: float64, validated by the caller.
    Returns the dict of :func:`kernels.ridge.numba.gd` (``f``, ``gnorm2`` (B, T+1) C-contiguous,
    ``w_last`` (B, d))."""
    B, d = w0.shape
    if not 1 <= d <= MAX_DIM:
        raise ValueError(f"the lanes kernel handles 1 <= d <= {MAX_DIM}, got d = {d}")
    # Structure-of-arrays copies (batch axis last); small next to the (B, T+1) outputs.
    At = np.ascontiguousarray(A.transpose(1, 2, 0))
    bt = np.ascontiguousarray(b.T)
    wt = np.ascontiguousarray(w0.T)
    et = np.ascontiguousarray(eta.T)
    F = np.empty((B, T + 1))
    G2 = np.empty((B, T + 1))
    w_last = np.empty((B, d))
    _KERNELS[d](At, bt, wt, et, int(T), F, G2, w_last)
    return {"f": F, "gnorm2": G2, "w_last": w_last, "w": None, "ef_next": None, "eg2": None}
