"""Pure-quadratic GD for small d (1..4) with the trajectories in SIMD lanes (numba + LLVM IR, float64).

Layout.  ``prange`` runs over chunks of :data:`GROUPS` groups of :data:`WIDTH` consecutive trajectories.
For each group the kernel stages the problems lane-contiguous in small per-chunk arrays (``A`` as
(d*d, WIDTH), ``b`` and ``w`` as (d, WIDTH); padding lanes of a partial last group hold the zero problem),
reading the caller's (B, d, d) / (B, d) arrays directly: the wrapper makes no re-laid-out copy of the batch.

Arithmetic.  :func:`tile_steps` runs :data:`STEPS` time steps of a group with the whole state -- A, b and
w, d (d + 2) vectors of WIDTH doubles -- in SSA values, i.e. in registers, across the time loop.  It is
an intrinsic that builds the IR itself (unrolling the i/j loops for the compile-time d) because numba
code cannot express it: vectorized by LLVM's loop vectorizer the lanes loop has to be innermost, so the
state goes through memory at every step; the previous kernel of this module did that and spent ~2 ns per
trajectory-step and core on it at d = 2, against ~0.65 ns here, which is the float64 add-throughput bound
of the machine (14 adds per trajectory-step at d = 2, two 256-bit add pipes).  WIDTH = 16 gives two
independent dependency chains per step (one 8-lane chain is latency-bound).  The operations are plain
IEEE ``fadd``/``fmul``/``fsub`` (no fast-math flags, no FMA contraction), per lane exactly those of the
AoSoA kernel and the general kernel of :mod:`kernels.ridge.numba` (m = 0), in the same order, so all
three agree bit for bit (tested, signed zeros and inf/nan included) whatever the thread count or width.

Output.  f and ||grad f||^2 of a tile land in (STEPS, WIDTH) buffers (L1) and go to the (B, T+1) outputs
by :func:`transpose8`: 8 x 8 blocks transposed in registers, each output row receiving 64-byte stores.
(A scalar strided copy or LLVM's gathers cost 2-3x the transposes; tiles of 8..208 steps, groups of 8..32
lanes, software prefetching of the next tile's lines and row-sequential write orders all measured within
noise of this choice, or worse.)

What bounds it (AMD EPYC VM, 2 cores, AVX-512, THP = madvise; ``benchmarks/bench_gd.py --interleaved 11``,
B = 1e5, T = 200, quiet machine): the outputs are fresh arrays (huge pages: numpy madvises them), and
first-touching them -- page faults whose 2 MiB zeroing runs on the faulting core -- alone runs at ~1290 M
trajectory-steps/s; writing them once (the ``floor``) ~1060; this kernel's arithmetic alone ~3000 at
d = 2.  Faults and arithmetic both occupy the cores, so no kernel with this arithmetic beats
1 / (1/1290 + 1/3000) ~ 905 M/s on fresh outputs, below twice the AoSoA kernel (475 end to end).
Measured against the AoSoA kernel: d = 1: 759 vs 601 M/s (1.23x), d = 2: 676 vs 475 (1.43x),
d = 3: 597 vs 401 (1.43x), d = 4: 494 vs 367 (1.35x) -- 75-80% of that bound at each d.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils, errors
from numba.extending import intrinsic

__all__ = ["MAX_DIM", "STEPS", "WIDTH", "gd_quadratic", "kernel_for"]

#: Largest dimension with a lanes kernel (above it the AoSoA kernel of kernels.ridge.numba runs).
MAX_DIM = 4
#: Trajectories per group, one per lane of the ``<WIDTH x double>`` vectors of :func:`tile_steps`.
WIDTH = 16
#: Time steps per tile: the tile buffers are 2 STEPS WIDTH doubles.
STEPS = 32
#: Groups per ``prange`` iteration (the per-iteration scratch is allocated once for all of them).
GROUPS = 16


# --------------------------------------------------------------------------------------------------
# LLVM-IR building blocks (numba intrinsics).  In this file, not a module of their own, because numba's
# on-disk cache of a kernel is invalidated by changes to the kernel's own source file only.
# --------------------------------------------------------------------------------------------------


_I64 = ir.IntType(64)


def _phis(builder: Any, vt: Any, incoming: list[tuple[list[Any], Any]]) -> list[Any]:
    """One phi node per element: element i of each ``(values, block)`` pair comes in from that block."""
    out = []
    for i in range(len(incoming[0][0])):
        p = builder.phi(vt)
        for values, block in incoming:
            p.add_incoming(values[i], block)
        out.append(p)
    return out


def _const(k: int) -> ir.Constant:
    return ir.Constant(_I64, k)


@intrinsic
def tile_steps(typingctx: Any, D: Any, V: Any, As: Any, bs: Any, es: Any, multi: Any, T: Any, t0: Any, t1: Any,
               ws: Any, fb: Any, gb: Any) -> Any:
    """GD steps ``t0 <= t < t1`` (``t1 <= T + 1``) of ``V`` trajectories, one per vector lane.

    ``As`` (D*D, V): ``As[i*D + j, l] = A_l[i, j]``; ``bs`` (D, V); ``ws`` (D, V) the iterate ``w_t0`` on
    entry, ``w_t1`` on exit (no update after step ``T``); ``es`` the step sizes: row ``t - t0`` for step
    ``t`` if ``multi``, else row 0; ``fb``/``gb`` (>= t1 - t0, V) receive f(w_t) and ||grad f(w_t)||^2 in row
    ``t - t0``.  Per lane the operations and their order are those of the scalar kernels (``_value_grad``
    with m = 0): ``h_i = (0 + A_i0 w_0) + A_i1 w_1 ...``, ``g_i = h_i + b_i``, ``q``, ``c``, ``s``
    accumulated from 0 over i, ``f = 0.5 q + c``, ``w_i <- w_i - eta g_i``.
    """
    if not (isinstance(D, types.IntegerLiteral) and isinstance(V, types.IntegerLiteral)):
        raise errors.TypingError("tile_steps: D and V must be compile-time integer constants")
    n = D.literal_value
    width = V.literal_value
    sig = types.void(D, V, As, bs, es, multi, T, t0, t1, ws, fb, gb)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        _, _, As_, bs_, es_, multi_, T_, t0_, t1_, ws_, fb_, gb_ = args
        tys = signature.args
        arrs = [context.make_array(tys[k])(context, builder, v)
                for k, v in ((2, As_), (3, bs_), (4, es_), (9, ws_), (10, fb_), (11, gb_))]
        Aa, ba, ea, wa, fa, ga = arrs
        vt = ir.VectorType(ir.DoubleType(), width)

        def at(a: Any, off: Any) -> Any:  # pointer to the V-vector at element offset ``off``
            return builder.bitcast(builder.gep(a.data, [off]), vt.as_pointer())

        def load(a: Any, r: Any) -> Any:
            return builder.load(at(a, builder.mul(r, _const(width))), align=8)

        def store(v: Any, a: Any, r: Any) -> None:
            builder.store(v, at(a, builder.mul(r, _const(width))), align=8)

        zero = ir.Constant(vt, [0.0] * width)
        half = ir.Constant(vt, [0.5] * width)
        av = [[load(Aa, _const(i * n + j)) for j in range(n)] for i in range(n)]
        bv = [load(ba, _const(i)) for i in range(n)]
        w_in = [load(wa, _const(i)) for i in range(n)]
        multi_b = builder.icmp_unsigned("!=", multi_, ir.Constant(multi_.type, 0))
        entry = builder.block
        head = builder.append_basic_block("lanes.head")
        upd = builder.append_basic_block("lanes.update")
        nxt = builder.append_basic_block("lanes.next")
        done = builder.append_basic_block("lanes.done")
        builder.cbranch(builder.icmp_signed("<", t0_, t1_), head, done)

        # head: f and |g|^2 at w_t, stored to row t - t0
        builder.position_at_end(head)
        t = builder.phi(_I64)
        t.add_incoming(t0_, entry)
        w = []
        for i in range(n):
            p = builder.phi(vt)
            p.add_incoming(w_in[i], entry)
            w.append(p)
        q = c = zero
        s: Any = None
        g = []
        for i in range(n):
            h = zero
            for j in range(n):
                h = builder.fadd(h, builder.fmul(av[i][j], w[j]))
            y, x = bv[i], w[i]
            gi = builder.fadd(h, y)
            q = builder.fadd(q, builder.fmul(x, h))
            c = builder.fadd(c, builder.fmul(y, x))
            # 0 + g*g is g*g bit for bit (a square is never -0), so the first term skips the add; the
            # other sums keep their leading 0 + (it turns a -0 product into +0).
            s = builder.fmul(gi, gi) if i == 0 else builder.fadd(s, builder.fmul(gi, gi))
            g.append(gi)
        f = builder.fadd(builder.fmul(half, q), c)
        r = builder.sub(t, t0_)
        store(f, fa, r)
        store(s, ga, r)
        builder.cbranch(builder.icmp_signed("<", t, T_), upd, nxt)

        # update: w_{t+1} = w_t - eta_t g_t (skipped after the last step T)
        builder.position_at_end(upd)
        e = load(ea, builder.select(multi_b, r, _const(0)))
        w_upd = [builder.fsub(w[i], builder.fmul(e, g[i])) for i in range(n)]
        builder.branch(nxt)

        builder.position_at_end(nxt)
        w_next = _phis(builder, vt, [(w_upd, upd), (w, head)])
        for i in range(n):
            w[i].add_incoming(w_next[i], nxt)
        t_next = builder.add(t, _const(1))
        t.add_incoming(t_next, nxt)
        builder.cbranch(builder.icmp_signed("<", t_next, t1_), head, done)

        builder.position_at_end(done)
        w_out = _phis(builder, vt, [(w_in, entry), (w_next, nxt)])
        for i in range(n):
            store(w_out[i], wa, _const(i))
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def transpose8(typingctx: Any, src: Any, sr: Any, sc: Any, dst: Any, dr: Any, dc: Any) -> Any:
    """``dst[dr + l, dc + k] = src[sr + k, sc + l]`` for ``k, l < 8``; 2-d C-contiguous float64 arrays."""
    sig = types.void(src, sr, sc, dst, dr, dc)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        s_, sr_, sc_, d_, dr_, dc_ = args
        sa = context.make_array(signature.args[0])(context, builder, s_)
        da = context.make_array(signature.args[3])(context, builder, d_)
        vt = ir.VectorType(ir.DoubleType(), 8)
        s_cols = cgutils.unpack_tuple(builder, sa.shape)[1]
        d_cols = cgutils.unpack_tuple(builder, da.shape)[1]

        def at(a: Any, row: Any, col: Any, ncol: Any) -> Any:
            off = builder.add(builder.mul(row, ncol), col)
            return builder.bitcast(builder.gep(a.data, [off]), vt.as_pointer())

        rows = [builder.load(at(sa, builder.add(sr_, _const(k)), sc_, s_cols), align=8) for k in range(8)]

        def shuf(x: Any, y: Any, mask: list[int]) -> Any:
            return builder.shuffle_vector(x, y, ir.Constant(ir.VectorType(ir.IntType(32), 8), mask))

        # Three butterfly stages exchange 1-, 2- and 4-element blocks between row pairs.
        s1 = []
        for k in range(0, 8, 2):
            s1 += [shuf(rows[k], rows[k + 1], [0, 8, 2, 10, 4, 12, 6, 14]),
                   shuf(rows[k], rows[k + 1], [1, 9, 3, 11, 5, 13, 7, 15])]
        s2: list[Any] = [None] * 8
        for m in (0, 4):
            for par in (0, 1):
                x, y = s1[m + par], s1[m + 2 + par]
                s2[m + par] = shuf(x, y, [0, 1, 8, 9, 4, 5, 12, 13])
                s2[m + 2 + par] = shuf(x, y, [2, 3, 10, 11, 6, 7, 14, 15])
        for p in range(4):
            x, y = s2[p], s2[p + 4]
            builder.store(shuf(x, y, [0, 1, 2, 3, 8, 9, 10, 11]), at(da, builder.add(dr_, _const(p)), dc_, d_cols),
                          align=8)
            builder.store(shuf(x, y, [4, 5, 6, 7, 12, 13, 14, 15]),
                          at(da, builder.add(dr_, _const(p + 4)), dc_, d_cols), align=8)
        return context.get_dummy_value()

    return sig, codegen


# --------------------------------------------------------------------------------------------------
# The kernels
# --------------------------------------------------------------------------------------------------


def _make_kernel(D: int, WIDTH: int = WIDTH, STEPS: int = STEPS, GROUPS: int = GROUPS,
                 WRITE: bool = True) -> Callable[..., Any]:
    """The lanes kernel for dimension ``D`` (closure constants: numba freezes them at compile time).

    The other parameters default to the module's constants; benchmarks pass others to tune, and
    ``WRITE=False`` leaves f and gnorm2 unwritten (only ``wlast``): the arithmetic alone, for the lower
    bound that ``benchmarks/bench_gd.py --interleaved`` prints."""

    @njit(parallel=True, fastmath=False, cache=True)
    def kernel(A: Any, b: Any, w0: Any, eta: Any, T: int, fout: Any, gout: Any, wlast: Any) -> None:  # pragma: no cover
        """A (B, D, D), b (B, D), w0 (B, D), eta (B, Te) with Te in {1, T}; fout, gout (B, T+1); wlast (B, D)."""
        B = w0.shape[0]
        te = eta.shape[1]
        multi = te > 1
        ngrp = (B + WIDTH - 1) // WIDTH
        nchunk = (ngrp + GROUPS - 1) // GROUPS
        for chunk in prange(nchunk):
            As = np.zeros((D * D, WIDTH))
            bs = np.zeros((D, WIDTH))
            ws = np.zeros((D, WIDTH))
            es = np.zeros((STEPS if multi else 1, WIDTH))
            fb = np.empty((STEPS, WIDTH))
            gb = np.empty((STEPS, WIDTH))
            for grp in range(chunk * GROUPS, min(ngrp, (chunk + 1) * GROUPS)):
                lo = grp * WIDTH
                n = min(WIDTH, B - lo)
                # Stage the group's problems lane-contiguous; padding lanes (a partial last group) keep
                # the zero problem of np.zeros: finite, and never written out.
                for l in range(n):
                    for i in range(D):
                        for j in range(D):
                            As[i * D + j, l] = A[lo + l, i, j]
                        bs[i, l] = b[lo + l, i]
                        ws[i, l] = w0[lo + l, i]
                if not multi:
                    for l in range(n):
                        es[0, l] = eta[lo + l, 0]
                full = n - n % 8  # lanes written out by 8 x 8 transposes
                for t0 in range(0, T + 1, STEPS):
                    t1 = min(T + 1, t0 + STEPS)
                    if multi:
                        for l in range(n):
                            for t in range(t0, min(t1, T)):
                                es[t - t0, l] = eta[lo + l, t]
                    # (numba supplies an intrinsic's typingctx argument, mypy does not know it)
                    tile_steps(D, WIDTH, As, bs, es, multi, T, t0, t1, ws, fb, gb)  # type: ignore[call-arg]
                    if not WRITE:
                        continue
                    nt = (t1 - t0) - (t1 - t0) % 8
                    for k in range(0, nt, 8):
                        for sb in range(0, full, 8):
                            transpose8(fb, k, sb, fout, lo + sb, t0 + k)
                            transpose8(gb, k, sb, gout, lo + sb, t0 + k)
                    for l in range(n):
                        for t in range(t0 + nt if l < full else t0, t1):
                            fout[lo + l, t] = fb[t - t0, l]
                            gout[lo + l, t] = gb[t - t0, l]
                for l in range(n):
                    for i in range(D):
                        wlast[lo + l, i] = ws[i, l]

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
    F = np.empty((B, T + 1))
    G2 = np.empty((B, T + 1))
    w_last = np.empty((B, d))
    _KERNELS[d](A, b, w0, eta, int(T), F, G2, w_last)
    return {"f": F, "gnorm2": G2, "w_last": w_last, "w": None, "ef_next": None, "eg2": None}
