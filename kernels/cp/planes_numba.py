"""numba kernel of ``cp.planes`` (:mod:`kernels.cp.planes`): bit-plane disagreement counts.

``prange`` over parts of the input range; each part walks its blocks of :data:`BLOCK_WORDS` words
(64 inputs per word): it draws the block's n plane words (SplitMix64 of a counter, the words of
:func:`kernels.cp.planes.plane_words`), forms the M function words (XOR of the planes in each mask,
branch-free), and adds ``popcount(F_a XOR F_b)`` over the block to the part's count ``D[a, b]``.
The per-pair loop over the block's words is an integer reduction, which LLVM vectorizes without any
reassociation flag (integer addition is associative); the popcount is LLVM's ``llvm.ctpop.i64``
(:func:`popcount`), which becomes ``vpopcntq`` on CPUs with AVX512-VPOPCNTDQ and ``popcnt`` otherwise.
Counts are exact int64 sums, so the result does not depend on the partition or the thread count.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

__all__ = ["BLOCK_WORDS", "planes_kernel", "popcount"]

#: Words (of 64 inputs) per block: the block's M function words (M * 512 bytes) stay in L2.
BLOCK_WORDS = 64

#: Below this many block-pairs (blocks x M^2) the kernel runs serially (about 1 ms of work).
SERIAL_WORK = 1 << 20

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@intrinsic
def popcount(typingctx: Any, x: Any) -> Any:  # pragma: no cover - compiled
    """Number of set bits of a uint64, as int64 (LLVM's ctpop intrinsic: one instruction)."""
    if x != types.uint64:
        return None

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        fn = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(fn, [args[0]])

    return types.int64(types.uint64), codegen


@njit(cache=True, inline="always")
def _mix64(z: Any) -> Any:  # pragma: no cover - compiled
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def _part(masks: Any, n: int, words: int, key: Any, blk_lo: int, blk_hi: int, D: Any) -> None:  # pragma: no cover
    """Adds the disagreements over blocks blk_lo..blk_hi-1 to D (M, M)."""
    M = masks.shape[0]
    P = np.zeros((n, BLOCK_WORDS), dtype=np.uint64)
    F = np.empty((M, BLOCK_WORDS), dtype=np.uint64)
    for blk in range(blk_lo, blk_hi):
        w0 = blk * BLOCK_WORDS
        nw = min(BLOCK_WORDS, words - w0)
        for i in range(n):
            for w in range(nw):
                ctr = np.uint64(w0 + w) * np.uint64(64) + np.uint64(i + 1)
                P[i, w] = _mix64(key + _GOLDEN * ctr)
            for w in range(nw, BLOCK_WORDS):  # padding words: zero planes, zero function words
                P[i, w] = np.uint64(0)
        for a in range(M):
            s = masks[a]
            for w in range(BLOCK_WORDS):
                F[a, w] = np.uint64(0)
            for i in range(n):
                sel = np.uint64(0) - ((s >> np.uint64(i)) & np.uint64(1))  # all ones if i is in S
                for w in range(BLOCK_WORDS):
                    F[a, w] ^= P[i, w] & sel
        for a in range(M - 1):
            for b in range(a + 1, M):
                acc = np.int64(0)
                for w in range(BLOCK_WORDS):
                    acc += popcount(F[a, w] ^ F[b, w])  # type: ignore[call-arg]
                D[a, b] += acc


@njit(parallel=True, cache=True)
def _planes(masks: Any, n: int, words: int, key: Any, parts: int, out: Any) -> None:  # pragma: no cover
    nblk = (words + BLOCK_WORDS - 1) // BLOCK_WORDS
    for p in prange(parts):
        _part(masks, n, words, key, p * nblk // parts, (p + 1) * nblk // parts, out[p])


def planes_kernel(masks: np.ndarray, n: int, words: int, seed: int, instance_id: int) -> np.ndarray:
    """``cp.planes`` on numba (arguments validated by :func:`kernels.cp.planes.disagreements`)."""
    from .planes import _key  # noqa: PLC0415 - same key derivation as the reference

    M = masks.shape[0]
    nblk = -(-int(words) // BLOCK_WORDS)
    key = _key(seed, instance_id)
    if nblk * M * M < SERIAL_WORK:
        # small jobs run on the calling thread: waking the thread pool costs more than the work
        D = np.zeros((M, M), dtype=np.int64)
        _part(masks, int(n), int(words), key, 0, nblk, D)
        return D
    parts = max(1, min(nblk, 4 * numba.get_num_threads()))
    out = np.zeros((parts, M, M), dtype=np.int64)
    _planes(masks, int(n), int(words), key, parts, out)
    return out.sum(axis=0)
