"""Throughput of sampled cross-predictability estimators: numba against the best NumPy estimators, in one run.

    python benchmarks/bench_cp_sample.py [--n 13,20,24,30] [--functions 256] [--words 4096] [--pairs 4096]
                                         [--inputs 1024] [--repeats 3] [--skip-per-pair]

Two designs, one table each.

**Shared inputs** (``kernels.cp.planes``): M functions drawn from the class share L = 64 words
inputs and every pair a < b is used, M (M - 1) / 2 * L sample-pairs per estimate.

* **numba bit-planes** -- ``planes.sample_cp(..., backend="numba")`` end to end: masks drawn, plane
  words from SplitMix64, function words by XOR, ``popcount(F_a ^ F_b)`` per pair and word, estimate;
* **numpy popcount** -- the same estimator in NumPy (``backend="numpy"``: the same words, one
  ``np.bitwise_count`` over all later functions per function);
* **numpy BLAS** -- the same inputs as +-1 float32 matrices (unpacked from the function words,
  ``np.unpackbits``), ``T = X X^T`` by the BLAS in chunks of 8192 inputs (exact: integers below 2**24).
  The NumPy runs use ``--numpy-words`` (default 512) words to keep the run short; the rate is per
  sample-pair and the per-call overhead is small at that size.

**Per pair** (``kernels.cp.cp_sample``, the estimator of the catalogue's sampled claims):

Unit: sample-pairs per second, one sample-pair being one input evaluated on one pair of functions
(``F(X) F'(X)``), i.e. ``pairs * inputs`` per estimate.  The class is all parities on n bits (kind 0:
``S xor S'`` has about n/2 bits), the worst case for all estimators.

* **numba** -- the kernel thmcheck runs: per pair, the two functions and every input drawn from the
  counter-based Philox generator (four inputs per block), parity by a shift-xor fold; ``prange`` over
  instances.  Exact int64 sums, identical to the NumPy reference (tested elsewhere).
* **numpy bit-planes** -- the fastest NumPy formulation: inputs held as n bit-planes of uint64 words
  (word ``w`` of plane ``i`` holds bit ``i`` of 64 inputs), the parity of ``s & x`` for 64 inputs at once
  is the XOR of the planes of the bits of ``s``, and ``T = L - 2 popcount`` (``np.bitwise_count``
  from NumPy 2, else a byte lookup table).  Its random bits come from NumPy's PCG64 (``integers``)
  and are included in the time; the same estimator, a different random stream.
* **numpy bit-planes, no RNG** -- the same with the planes drawn beforehand: the arithmetic alone.

Each figure is the best of ``--repeats`` after one warm-up call; the ratio is numba / numpy in the
same run.  The load average is printed: on a shared machine the figures move with it.
This is a script, not a test.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time
from typing import Any, Callable

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]

_POP8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _popcount(words: np.ndarray) -> np.ndarray:
    """Per-word popcount of a uint64 array (NumPy >= 2: np.bitwise_count; else a byte table)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words)
    return _POP8[words.view(np.uint8)].reshape(words.shape + (8,)).sum(axis=-1)


def _planes_T(s: np.ndarray, planes: np.ndarray, n: int, inputs: int) -> np.ndarray:
    """T per pair from bit-planes (pairs, n, inputs // 64) and masks s (pairs,)."""
    acc = np.zeros((planes.shape[0], planes.shape[2]), dtype=np.uint64)
    for i in range(n):
        bit = ((s >> np.uint64(i)) & np.uint64(1)).astype(bool)
        acc[bit] ^= planes[bit, i, :]
    odd = _popcount(acc).sum(axis=1, dtype=np.int64)
    return inputs - 2 * odd


def numpy_bitplanes(n: int, pairs: int, inputs: int, seed: int, *, predrawn: Any = None) -> tuple[int, int]:
    """sum_j u_j and sum_j u_j^2 over ``pairs`` random pairs of parities, ``inputs`` inputs each."""
    rng = np.random.default_rng(seed)
    chunk = 2048
    s1 = s2 = 0
    for lo in range(0, pairs, chunk):
        m = min(chunk, pairs - lo)
        a = rng.integers(0, 1 << n, size=m, dtype=np.uint64)
        b = rng.integers(0, 1 << n, size=m, dtype=np.uint64)
        planes = predrawn[:m] if predrawn is not None else rng.integers(
            0, np.iinfo(np.uint64).max, size=(m, n, inputs // 64), dtype=np.uint64, endpoint=True)
        T = _planes_T(a ^ b, planes, n, inputs)
        u = T * T - inputs
        s1 += int(u.sum())
        s2 += int((u * u).sum())
    return s1, s2


def numpy_blas(n: int, functions: int, words: int, seed: int) -> float:
    """The shared-input estimate with T = X X^T by the BLAS (+-1 float32 inputs, chunks of 8192)."""
    from kernels.cp import planes

    masks = planes.draw_masks(0, n, 0, 0, functions, seed, 0).astype(np.uint64)
    F = planes.function_words(masks, planes.plane_words(seed, 0, n, words))
    G = np.zeros((functions, functions))
    chunk = 128  # words: 8192 inputs
    for lo in range(0, words, chunk):
        bits = np.unpackbits(np.ascontiguousarray(F[:, lo:lo + chunk]).view(np.uint8), axis=1, bitorder="little")
        X = 1.0 - 2.0 * bits.astype(np.float32)
        G += X @ X.T
    L = 64 * words
    T = G[np.triu_indices(functions, 1)]
    return float(np.mean((T * T - L) / (L * (L - 1.0))))


def _best(fn: Callable[[], Any], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _cpu() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", default="13,20,24,30")
    ap.add_argument("--pairs", type=int, default=4096, help="pairs per instance (numba) and in total (numpy)")
    ap.add_argument("--instances", type=int, default=8, help="instances of the numba call (prange over them)")
    ap.add_argument("--inputs", type=int, default=1024, help="inputs per pair (a multiple of 64)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--functions", type=int, default=256, help="functions M of the shared-input estimators")
    ap.add_argument("--words", type=int, default=4096, help="input words (64 inputs each), numba shared-input")
    ap.add_argument("--numpy-words", type=int, default=512, help="input words of the NumPy shared-input runs")
    ap.add_argument("--skip-per-pair", action="store_true", help="only the shared-input table")
    args = ap.parse_args()
    if args.inputs % 64:
        raise SystemExit("--inputs must be a multiple of 64")
    sys.path.insert(0, str(ROOT))
    import numba

    from kernels.cp import cp_sample, planes

    ns = [int(x) for x in args.n.split(",")]
    M, W, Wn = args.functions, args.words, args.numpy_words
    pairs_m = M * (M - 1) // 2
    print(f"machine: {_cpu()}, {os.cpu_count()} logical CPUs; numba {numba.__version__} on "
          f"{numba.get_num_threads()} threads; numpy {np.__version__}; load "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"shared inputs, all parities: M = {M} functions ({pairs_m} pairs); numba L = {64 * W} inputs, "
          f"numpy L = {64 * Wn}; best of {args.repeats} after one warm-up call")
    header = (f"{'n':>3} {'numba planes [G/s]':>19} {'numpy popcount [G/s]':>21} {'numpy BLAS [G/s]':>17} "
              f"{'numba/best numpy':>17} {'load':>6}")
    print(header)
    print("-" * len(header))
    for n in ns:
        t_nb = _best(lambda: planes.sample_cp(0, n, 0, 0, M, W, seed=1, instance_id=0, backend="numba"), args.repeats)
        t_pc = _best(lambda: planes.sample_cp(0, n, 0, 0, M, Wn, seed=1, instance_id=0), args.repeats)
        t_bl = _best(lambda: numpy_blas(n, M, Wn, 1), args.repeats)
        g_nb = pairs_m * 64 * W / t_nb / 1e9
        g_pc, g_bl = pairs_m * 64 * Wn / t_pc / 1e9, pairs_m * 64 * Wn / t_bl / 1e9
        print(f"{n:>3} {g_nb:>19.1f} {g_pc:>21.2f} {g_bl:>17.2f} {g_nb / max(g_pc, g_bl):>16.1f}x "
              f"{os.getloadavg()[0]:>6.2f}", flush=True)
    print("G/s = 1e9 sample-pairs (one input on one pair of functions) per second.")
    if args.skip_per_pair:
        return
    print()
    print(f"per pair (cp.sample), all parities; inputs {args.inputs} per pair; numba {numba.__version__} on "
          f"{numba.get_num_threads()} threads; numpy {np.__version__} "
          f"({'bitwise_count' if hasattr(np, 'bitwise_count') else 'byte table'}); load "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    header = (f"{'n':>3} {'numba [G/s]':>12} {'numpy planes [G/s]':>19} {'numpy no-RNG [G/s]':>19} "
              f"{'numba/numpy':>12} {'load':>6}")
    print(header)
    print("-" * len(header))
    for n in ns:
        ids = np.arange(args.instances)
        work_numba = args.instances * args.pairs * args.inputs
        t_numba = _best(lambda: cp_sample(0, n, 0, 0, args.pairs, args.inputs, seed=1, instance_ids=ids,
                                                  backend="numba"), args.repeats)
        pairs_np = args.pairs * args.instances
        work_np = pairs_np * args.inputs
        t_np = _best(lambda: numpy_bitplanes(n, pairs_np, args.inputs, 1), args.repeats)
        pre = np.random.default_rng(2).integers(0, np.iinfo(np.uint64).max, size=(2048, n, args.inputs // 64),
                                                dtype=np.uint64, endpoint=True)
        t_pre = _best(lambda: numpy_bitplanes(n, pairs_np, args.inputs, 1, predrawn=pre), args.repeats)
        g_numba, g_np, g_pre = work_numba / t_numba / 1e9, work_np / t_np / 1e9, work_np / t_pre / 1e9
        print(f"{n:>3} {g_numba:>12.3f} {g_np:>19.3f} {g_pre:>19.3f} {g_numba / g_np:>11.2f}x "
              f"{os.getloadavg()[0]:>6.2f}", flush=True)
    print("G/s = 1e9 sample-pairs (one input on one pair of functions) per second.")


if __name__ == "__main__":
    main()
