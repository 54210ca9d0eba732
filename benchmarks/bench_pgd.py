"""Perturbed GD throughput: trajectory-steps per second, NumPy reference vs numba (and CuPy when present).

    python benchmarks/bench_pgd.py [--batch 10000] [--steps 1000] [--dims 10 100 1000] [--budget-s 60]

Problem: the sine saddle ``1/2 x^T diag(-gamma, lambda) x + c sum (sin x_i - x_i)`` with Gaussian noise at every
step (PGD form (a): one Philox normal per coordinate per step; the random numbers dominate the cost).  Each
backend runs in its own process (OpenBLAS / numba thread pools do not share the machine), after a warm-up run
that pays for compilation.  Where a full run would take longer than ``--budget-s`` seconds for the reference,
the batch is scaled down for that backend and the output says so; rates are per trajectory-step either way.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np


def _problem(B: int, d: int):
    from kernels.escape import SaddleProblem

    g = np.random.default_rng(0)
    h = g.uniform(0.1, 0.9, (B, d))
    h[:, 0] = -0.05
    return SaddleProblem(h, np.full((B, d), 0.1), np.zeros((B, d)), np.zeros(B), np.zeros(B))


def _child(backend: str, B: int, d: int, T: int) -> dict:
    from kernels.escape import pgd

    p = _problem(B, d)
    x0 = np.zeros((B, d))
    kw = dict(perturbation="gaussian", r=0.01, eps=1e-3, tau=0.01, seed=1, instance_ids=np.arange(B),
              stop_at_hit=False, backend=backend)
    w = _problem(min(B, 64), d)
    pgd(w, np.zeros((w.batch, d)), 0.5, 3, **{**kw, "instance_ids": np.arange(w.batch)})  # warm-up / compile
    t0 = time.perf_counter()
    pgd(p, x0, 0.5, T, **kw)
    dt = time.perf_counter() - t0
    return {"backend": backend, "B": B, "d": d, "T": T, "seconds": dt, "steps_per_s": B * T / dt}


def _run(backend: str, B: int, d: int, T: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", backend, str(B), str(d), str(T)],
                         capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": _ROOT})
    return json.loads(out.stdout.strip().splitlines()[-1])


_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--dims", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--budget-s", type=float, default=60.0, help="scale the batch down where a run would exceed this")
    ap.add_argument("--cupy", action="store_true", help="also time the CuPy backend")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        backend, B, d, T = a.child[0], *map(int, a.child[1:])
        print(json.dumps(_child(backend, B, d, T)))
        return
    import numba

    print(f"machine: {platform.node()} {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, NumPy {np.__version__}, numba {numba.__version__} "
          f"(threads {numba.config.NUMBA_NUM_THREADS})")
    print(f"PGD form (a) on the sine saddle, T = {a.steps} steps, requested batch {a.batch}; float64")
    backends = ["numpy", "numba"] + (["cupy"] if a.cupy else [])
    print(f"{'d':>6} {'backend':>8} {'batch':>7} {'T':>6} {'seconds':>9} {'traj-steps/s':>14} {'speed-up':>9}")
    for d in a.dims:
        rates = {}
        for backend in backends:
            # probe a small batch, then scale to the budget
            probe = _run(backend, min(a.batch, 200), d, min(a.steps, 50))
            est = a.batch * a.steps / probe["steps_per_s"]
            B = a.batch if est <= a.budget_s else max(100, int(a.batch * a.budget_s / est))
            res = _run(backend, B, d, a.steps)
            rates[backend] = res["steps_per_s"]
            note = "" if B == a.batch else f"  (batch scaled down from {a.batch} to fit {a.budget_s:.0f} s)"
            speed = res["steps_per_s"] / rates["numpy"]
            print(f"{d:>6} {backend:>8} {B:>7} {a.steps:>6} {res['seconds']:>9.2f} {res['steps_per_s']:>14.4g} "
                  f"{speed:>8.2f}x{note}")


if __name__ == "__main__":
    main()
