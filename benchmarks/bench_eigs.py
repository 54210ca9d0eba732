"""Throughput of batched Hadamard-product eigenvalues: NumPy reference vs numba (vs CuPy with --cupy).

    python benchmarks/bench_eigs.py [--json PATH] [--cupy] [--repeats N]

Reports matrices per second for ``kernels.matrices.hadamard_eigvalsh(A, B)`` (all eigenvalues of
``A[b] * B[b]``, float64) at n in {8, 32, 128}, end to end (validation, product, eigenvalues).

Method: every (implementation, n) runs in its own fresh subprocess (OpenBLAS's idle threads from a
NumPy run slowed a following numba kernel ~3x on two cores); one untimed warm-up call (JIT / cache
load), then the best of ``--repeats`` timed calls.  The reference is NumPy's batched ``eigvalsh``
(LAPACK per matrix, sequential over the batch); numba runs LAPACK per matrix inside a ``prange``
over the batch, so its gain is the cores, not a better eigensolver.

This is a script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SIZES = {8: 50_000, 32: 4_000, 128: 200}  # n -> batch (about the same work per call)


def _worker(impl: str, n: int, batch: int, repeats: int) -> dict:
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from kernels import matrices as mk

    g = np.random.default_rng(n)
    A = g.standard_normal((batch, n, n))
    A = A @ A.transpose(0, 2, 1)
    B = g.standard_normal((batch, n, n))
    B = B @ B.transpose(0, 2, 1)
    t0 = time.perf_counter()
    ref = mk.hadamard_eigvalsh(A, B, backend=impl)
    warm = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = mk.hadamard_eigvalsh(A, B, backend=impl)
        times.append(time.perf_counter() - t0)
    assert np.array_equal(out, ref)
    best = min(times)
    return {"impl": impl, "n": n, "batch": batch, "best_s": best, "warmup_s": warm, "matrices_per_s": batch / best}


def _spawn(impl: str, n: int, batch: int, repeats: int) -> dict:
    code = f"import json,sys; sys.path.insert(0,{str(ROOT)!r}); from benchmarks.bench_eigs import _worker; " \
           f"print(json.dumps(_worker({impl!r},{n},{batch},{repeats})))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=dict(os.environ))
    if res.returncode != 0:
        return {"impl": impl, "n": n, "batch": batch, "error": res.stderr.strip().splitlines()[-1:]}
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=pathlib.Path)
    ap.add_argument("--cupy", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    impls = ["numpy", "numba"] + (["cupy"] if args.cupy else [])
    rows = [_spawn(impl, n, batch, args.repeats) for n, batch in SIZES.items() for impl in impls]
    print(f"batched Hadamard eigenvalues, float64, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cpus")
    print(f"{'n':>5} {'batch':>7} {'impl':>6} {'best s':>9} {'matrices/s':>12} {'speedup':>8}")
    for n in SIZES:
        base = next((r for r in rows if r["n"] == n and r["impl"] == "numpy" and "error" not in r), None)
        for r in (r for r in rows if r["n"] == n):
            if "error" in r:
                print(f"{n:>5} {r['batch']:>7} {r['impl']:>6}  error: {r['error']}")
                continue
            sp = base["best_s"] / r["best_s"] if base else float("nan")
            print(f"{n:>5} {r['batch']:>7} {r['impl']:>6} {r['best_s']:>9.4f} {r['matrices_per_s']:>12.0f} {sp:>7.2f}x")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
