"""Throughput of batched GD on pure quadratics: NumPy reference vs numba (vs CuPy with --cupy).

    python benchmarks/bench_gd.py [--quick] [--batches 100000] [--dims 2,4] [--json PATH] [--cupy] [--repeats N] [--T T]
    python benchmarks/bench_gd.py --interleaved ROUNDS [--batches 100000] [--dims 1,2,3,4] [--json PATH]

Reports trajectory-steps per second (batch * T / wall time of one ``kernels.gd`` call, end to end:
validation, re-layout, allocation and the kernel) for batch in {1e4, 1e5} and d in {2, 4, 8, 32},
float64, m = 0 ridges.  Two numba kernels side by side: ``numba-aosoa`` (the AoSoA kernel of
``kernels.ridge.numba``, 8 trajectories per group, forced with ``path="lanes"``) and ``numba-soa``
(``kernels.ridge.numba_lanes``: groups of 16 trajectories in the lanes of LLVM vectors, one kernel per d,
d <= 4 only); ``kernels.gd`` with backend numba runs the soa kernel at d <= 4 and the aosoa one above.
The ``floor`` column is not GD: it allocates the two (B, T+1) float64 outputs and writes every entry
once (a parallel numba loop) -- the memory traffic every kernel must pay, so no GD kernel can beat it.

Method (default):
* every (implementation, size) runs in its own fresh subprocess: on a 2-core machine OpenBLAS's
  idle threads from a NumPy run were seen to slow a following numba kernel ~3x;
* each worker first makes one untimed call of the full size (JIT compile / cache load, first touch
  of the memory), then times ``--repeats`` calls and keeps the best;
* the NumPy reference is timed twice: with the default allocator and with glibc's malloc told to keep
  freed memory (``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_``), because in a VM the page
  faults on NumPy's large per-step temporaries can dominate; the speedup column divides by the
  *faster* of the two, so it is the conservative number.

Method (``--interleaved``, for a shared machine): per size one subprocess times the two numba kernels
(``kernels.gd`` end to end, path forced) and the floor in ROUNDS rounds, each round calling each once in
an order rotated from round to round; it prints the best round of each and the median (and range) of
the per-round ratios, which cancel most of the load that other processes put on the machine.  Two more
columns bound what a kernel can do: ``faults`` allocates the outputs and writes one double per 4 KiB page
(only the page faults, whose zeroing of the fresh pages runs on the faulting core), ``soa-arith`` is the
soa kernel with its output writes switched off (arithmetic only); both keep the cores busy, so
``bound = 1 / (1/faults + 1/soa-arith)`` is the most a kernel with that arithmetic can reach on fresh
outputs.

Measured (AMD EPYC VM, 2 cores, AVX-512, numba 0.68.1; --interleaved 11, batch 1e5, T = 200, machine
otherwise quiet; M trajectory-steps/s, best round; ratio: median of per-round ratios [min, max]):

    d   floor  faults  aosoa   soa  soa-arith  bound  2x aosoa  soa/aosoa
    1    1053    1307    601   759       5195   1044      1202  1.23 [1.10, 1.36]
    2    1061    1292    475   676       3015    905       951  1.43 [1.36, 4.82]
    3    1104    1274    401   597       1790    744       802  1.43 [1.23, 1.50]
    4    1059    1269    367   494       1252    630       733  1.35 [0.59, 1.65]
    8    1110    1263    140     -          -      -         -  -

At every d <= 4 the bound is below twice the AoSoA kernel: the page faults of the fresh outputs and the
arithmetic alone cap any kernel with this arithmetic (at d = 2 it sits at the float64 add-throughput
limit) below the 2x mark; the soa kernel reaches 75-80% of that cap.

The same command on an Intel Xeon VM (2 cores, AVX-512, 2 MiB L2 per core, transparent huge pages
"always"; 2026-12-06, quiet):

    d   floor  faults  aosoa   soa  soa-arith  bound  2x aosoa  soa/aosoa
    1     724    1034    353   591       5302    865       706  1.72 [1.49, 5.36]
    2     707     975    265   518       3264    751       531  1.95 [1.69, 2.20]
    3     703    1011    240   448       2125    685       480  1.87 [0.36, 2.06]
    4     699    1008    213   364       1319    571       426  1.73 [0.21, 1.94]

There the AoSoA kernel is slower and the soa kernel is at the 2x mark within the rounds' spread (d = 2:
median 1.95, and 1.95-2.00 for every tile shape tried: WIDTH 16, STEPS 16..104, GROUPS 4..64; WIDTH 8
or 32 lose). Writing fresh outputs costs more than their faults on that machine (floor < faults), so
the tighter cap is 1 / (1/floor + 1/soa-arith) = 581 M/s at d = 2, 2.2x the AoSoA kernel; the soa
kernel reaches 89% of it.

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
BATCHES = (10_000, 100_000)
DIMS = (2, 4, 8, 32)
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "4294967296", "MALLOC_TRIM_THRESHOLD_": "4294967296"}


def _problem(batch: int, d: int) -> tuple:
    """The benchmark's batch: random positive definite quadratics, a converging fixed step each."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    import kernels

    g = np.random.default_rng(1234 + d)
    M = g.standard_normal((batch, d, d))
    A = M @ M.transpose(0, 2, 1) / d + np.eye(d)
    b = g.standard_normal((batch, d))
    w0 = g.standard_normal((batch, d))
    eta = 1.0 / np.trace(A, axis1=1, axis2=2)  # <= 1 / lambda_max: a converging run
    return kernels.RidgeQuadratic.quadratic(A, b), w0, eta


def _worker(impl: str, batch: int, d: int, T: int, repeats: int) -> dict:
    """Runs in the subprocess: build the problem, warm up, time."""
    import numpy as np

    import kernels

    problem, w0, eta = _problem(batch, d)
    if impl == "floor":
        return _floor_worker(batch, d, T, repeats)
    if impl.startswith("numba-"):
        from kernels.ridge import numba as _nb

        forced = {"numba-aosoa": "lanes", "numba-soa": "soa"}[impl]
        real = _nb.gd
        _nb.gd = lambda *a, **k: real(*a, path=forced)  # before the registry loads the target
        impl = "numba"
    t0 = time.perf_counter()
    warm = kernels.gd(problem, w0, eta, T, backend=impl)
    warmup_s = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        tr = kernels.gd(problem, w0, eta, T, backend=impl)
        times.append(time.perf_counter() - t0)
    assert np.array_equal(tr.f, warm.f)  # deterministic
    best = min(times)
    info = {}
    if impl == "numba":
        import numba

        info = {"threads": numba.get_num_threads(), "threading_layer": numba.threading_layer()}
    return {
        "impl": impl, "batch": batch, "d": d, "T": T, "warmup_s": warmup_s, "times_s": times,
        "best_s": best, "traj_steps_per_s": batch * T / best, "backend_used": tr.backend,
        "final_f_mean": float(np.mean(tr.f[:, -1])), **info,
    }


def _floor_call(batch: int, T: int):  # type: ignore[no-untyped-def]
    """A function that allocates f and gnorm2 (B, T+1) and writes every entry once, in parallel."""
    import numpy as np
    from numba import njit, prange

    @njit(parallel=True)
    def fill(F: np.ndarray, G: np.ndarray) -> None:  # pragma: no cover - compiled
        for i in prange(F.shape[0]):
            for t in range(F.shape[1]):
                F[i, t] = 1.0
                G[i, t] = 2.0

    def once() -> None:
        fill(np.empty((batch, T + 1)), np.empty((batch, T + 1)))

    return once


def _faults_call(batch: int, T: int):  # type: ignore[no-untyped-def]
    """A function that allocates f and gnorm2 (B, T+1) and writes one double per 4 KiB: the page faults
    (and the kernel's zeroing of the fresh pages) that any writer of fresh outputs pays, and nothing else."""
    import numpy as np
    from numba import njit, prange

    @njit(parallel=True)
    def touch(F: np.ndarray, G: np.ndarray) -> None:  # pragma: no cover - compiled
        f = F.reshape(F.size)
        g = G.reshape(G.size)
        for p in prange(f.size // 512):
            f[p * 512] = 0.0
            g[p * 512] = 0.0

    def once() -> None:
        touch(np.empty((batch, T + 1)), np.empty((batch, T + 1)))

    return once


def _floor_worker(batch: int, d: int, T: int, repeats: int) -> dict:
    """Allocate f and gnorm2 (B, T+1) and write every entry once, in parallel: the output floor."""
    once = _floor_call(batch, T)

    once()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        once()
        times.append(time.perf_counter() - t0)
    best = min(times)
    return {"impl": "floor", "batch": batch, "d": d, "T": T, "times_s": times, "best_s": best,
            "traj_steps_per_s": batch * T / best}


def _interleaved_worker(batch: int, d: int, T: int, rounds: int) -> dict:
    """Runs in the subprocess: the two numba kernels and the floor timed in one process, in rounds.

    Each round calls every implementation once, in an order rotated from round to round, so that a
    slow stretch of a shared machine hits all of them alike; per-round ratios then cancel most of it."""
    import numpy as np

    import kernels
    from kernels.ridge import numba as _nb

    problem, w0, eta = _problem(batch, d)
    forced = {"path": "auto"}
    real = _nb.gd
    _nb.gd = lambda *a, **k: real(*a, path=forced["path"])  # before the registry loads the target

    def gd_with(path: str):  # type: ignore[no-untyped-def]
        def call() -> None:
            forced["path"] = path
            kernels.gd(problem, w0, eta, T, backend="numba")
        return call

    calls = {"floor": _floor_call(batch, T), "faults": _faults_call(batch, T), "numba-aosoa": gd_with("lanes")}
    if d <= 4:
        from kernels.ridge import numba_lanes

        calls["numba-soa"] = gd_with("soa")
        # the lanes kernel's arithmetic alone: same kernel, f and gnorm2 left unwritten
        arith = numba_lanes._make_kernel(d, WRITE=False)
        Ab, bb = np.ascontiguousarray(problem.A), np.ascontiguousarray(problem.b)
        e2 = np.ascontiguousarray(np.asarray(eta, dtype=float).reshape(batch, 1))
        outs = (np.empty((batch, T + 1)), np.empty((batch, T + 1)), np.empty((batch, d)))
        calls["soa-arith"] = lambda: arith(Ab, bb, w0, e2, T, *outs)
    names = list(calls)
    for f in calls.values():
        f()
    times: dict[str, list[float]] = {k: [] for k in names}
    for r in range(rounds):
        for k in names[r % len(names):] + names[: r % len(names)]:
            t0 = time.perf_counter()
            calls[k]()
            times[k].append(time.perf_counter() - t0)
    return {"batch": batch, "d": d, "T": T, "rounds": rounds, "times_s": times}


def _run_worker(impl: str, batch: int, d: int, T: int, repeats: int, env_extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update(env_extra or {})
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "--worker", impl, str(batch), str(d), str(T),
           str(repeats)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if res.returncode != 0:
        return {"impl": impl, "batch": batch, "d": d, "T": T, "error": res.stderr.strip().splitlines()[-1:]}
    return json.loads(res.stdout.strip().splitlines()[-1])


def _machine() -> dict:
    import numba
    import numpy

    model = "unknown"
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count() or 1
    return {
        "cpu_model": model, "logical_cpus": os.cpu_count(), "usable_cpus": affinity,
        "python": platform.python_version(), "numpy": numpy.__version__, "numba": numba.__version__,
        "platform": platform.platform(),
    }


def flops_per_step(d: int) -> int:
    """Floating-point operations of one GD step on a pure quadratic, as the kernels count them:
    ``A w`` (2 d^2), ``g = A w + b`` (d), ``w.Aw``, ``b.w``, ``|g|^2`` (2 d each), ``f`` (2) and the
    update ``w - eta g`` (2 d)."""
    return 2 * d * d + 9 * d + 2


def peak_gflops() -> tuple[float, str]:
    """float64 peak of the usable cores from /proc/cpuinfo: cores x clock x flops per cycle (two
    FMA units: 32 with AVX-512, 16 with AVX2+FMA, else 4).  The nominal clock, so an estimate."""
    try:
        text = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return float("nan"), "unknown (no /proc/cpuinfo)"
    mhz = [float(line.split(":")[1]) for line in text.splitlines() if line.startswith("cpu MHz")]
    flags = next((line.split(":")[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    per_cycle = 32 if "avx512f" in flags else 16 if "fma" in flags else 4
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    ghz = (max(mhz) if mhz else float("nan")) / 1000
    return cores * ghz * per_cycle, f"{cores} cores x {ghz:.2f} GHz x {per_cycle} flop/cycle"


def _fmt_rate(x: float | None) -> str:
    return "-" if x is None else f"{x / 1e6:9.2f}"


def _main_interleaved(machine: dict, batches: tuple[int, ...], dims: tuple[int, ...], args: argparse.Namespace) -> int:
    """--interleaved: per size one subprocess timing floor, numba-aosoa and numba-soa in rounds."""
    import numpy as np

    print("thmcheck kernels benchmark, interleaved: numba kernels vs the output floor, one process per size")
    print("(wall time of one call each, implementations in rotated order within each round)")
    print(f"machine: {machine['cpu_model']}, {machine['logical_cpus']} logical CPUs "
          f"({machine['usable_cpus']} usable); numba {machine['numba']}; T = {args.T}, {args.interleaved} rounds")
    print()
    cols = ("floor", "faults", "numba-aosoa", "numba-soa", "soa-arith")
    header = (f"{'batch':>7} {'d':>3} " + " ".join(f"{c:>11}" for c in cols) + f" {'bound':>6} {'2x aosoa':>8}"
              + f"   {'soa/aosoa':>18} {'soa/floor':>18}")
    print(header)
    print("-" * len(header))
    results = []
    for batch in batches:
        for d in dims:
            r = _run_worker("interleaved", batch, d, args.T, args.interleaved)
            if "error" in r:
                print(f"{batch:>7} {d:>3} failed: {r['error']}")
                continue
            results.append(r)
            ts = {k: np.asarray(v) for k, v in r["times_s"].items()}
            rate = {k: batch * args.T / v.min() / 1e6 for k, v in ts.items()}

            def ratio(a: str, b: str) -> str:
                if a not in ts or b not in ts:
                    return f"{'-':>18}"
                x = ts[b] / ts[a]
                return f"{np.median(x):5.2f} [{x.min():.2f}, {x.max():.2f}]"

            # Both the faults and the arithmetic keep a core busy (the kernel zeroes a faulted page on
            # the faulting thread), so no kernel writing fresh outputs beats 1 / (1/faults + 1/arith).
            bound = 1 / (1 / rate["faults"] + 1 / rate["soa-arith"]) if "soa-arith" in rate else float("nan")
            print(f"{batch:>7} {d:>3} " + " ".join(f"{rate.get(c, float('nan')):>11.0f}" for c in cols)
                  + f" {bound:>6.0f} {2 * rate['numba-aosoa']:>8.0f}   {ratio('numba-soa', 'numba-aosoa')} "
                  f"{ratio('numba-soa', 'floor')}", flush=True)
            r["rates_best_M_per_s"] = rate
            r["bound_M_per_s"] = bound
    print()
    print("M/s = million trajectory-steps per second, best round; ratios: median of the per-round ratios [min, max].")
    print("faults = allocate f and gnorm2 and write one double per 4 KiB page (page faults + zeroing only);")
    print("soa-arith = the soa kernel with its f/gnorm2 writes switched off (arithmetic only, outputs preallocated);")
    print("bound = 1 / (1/faults + 1/soa-arith): what a kernel with soa's arithmetic can reach on fresh outputs.")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": machine, "T": args.T, "interleaved": args.interleaved,
                                         "results": results}, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="batch 1e4 only")
    ap.add_argument("--batches", type=str, help="comma-separated batch sizes (default 10000,100000)")
    ap.add_argument("--json", type=pathlib.Path, help="also write the results as JSON here")
    ap.add_argument("--cupy", action="store_true", help="include the CuPy backend when available")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--T", type=int, default=200)
    ap.add_argument("--interleaved", type=int, metavar="ROUNDS",
                    help="instead: time the numba kernels and the floor in one process per size, ROUNDS rounds")
    ap.add_argument("--dims", type=str, help="comma-separated dimensions (default 2,4,8,32)")
    ap.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker and args.worker[0] == "interleaved":
        _, batch, d, T, rounds = args.worker
        print(json.dumps(_interleaved_worker(int(batch), int(d), int(T), int(rounds))))
        return 0
    if args.worker:
        impl, batch, d, T, repeats = args.worker
        print(json.dumps(_worker(impl, int(batch), int(d), int(T), int(repeats))))
        return 0

    sys.path.insert(0, str(ROOT))
    import kernels

    machine = _machine()
    batches: tuple[int, ...] = BATCHES[:1] if args.quick else BATCHES
    if args.batches:
        batches = tuple(int(x) for x in args.batches.split(","))
    dims = tuple(int(x) for x in args.dims.split(",")) if args.dims else DIMS
    if args.interleaved:
        return _main_interleaved(machine, batches, dims, args)
    impls = [("numpy", "numpy", None), ("numpy+malloc", "numpy", MALLOC_ENV), ("numba-aosoa", "numba-aosoa", None),
             ("numba-soa", "numba-soa", None), ("floor", "floor", None)]
    notes = []
    if args.cupy:
        if "cupy" in kernels.available_backends():
            impls.append(("cupy", "cupy", None))
        else:
            try:
                kernels.resolve_backend("cupy")
            except kernels.BackendUnavailable as exc:
                notes.append(f"--cupy: skipped, {exc}")

    print("thmcheck kernels benchmark: batched GD on pure quadratics (m = 0), float64")
    print(f"machine: {machine['cpu_model']}, {machine['logical_cpus']} logical CPUs "
          f"({machine['usable_cpus']} usable); python {machine['python']}, numpy {machine['numpy']}, "
          f"numba {machine['numba']}")
    print(f"sizes: batch in {list(batches)}, d in {list(dims)}, T = {args.T}; best of {args.repeats} after 1 "
          "warm-up call; each implementation x size in its own subprocess")
    for note in notes:
        print(note)
    print()
    names = [n for n, _, _ in impls]
    peak, how = peak_gflops()
    print(f"float64 peak: {peak:.0f} GFLOP/s ({how})")
    header = (f"{'batch':>7} {'d':>3} " + " ".join(f"{n + ' [M/s]':>18}" for n in names) + f" {'soa/aosoa':>9}"
              + f" {'vs numpy':>8} {'%peak':>6} {'%floor':>6}")
    print(header)
    print("-" * len(header))
    results = []
    for batch in batches:
        for d in dims:
            row: dict[str, float | None] = {}
            for name, impl, env in impls:
                if impl == "numba-soa" and d > 4:
                    row[name] = None
                    continue
                r = _run_worker(impl, batch, d, args.T, args.repeats, env)
                r["label"] = name
                results.append(r)
                row[name] = r.get("traj_steps_per_s")
            ran = [r for r in results if r["batch"] == batch and r["d"] == d]
            numpy_best = max(v for k, v in row.items() if k.startswith("numpy") and v is not None)
            numba_rates = [v for k, v in row.items() if k.startswith("numba") and v is not None]
            speed = max(numba_rates) if numba_rates else None
            speedup = speed / numpy_best if speed and numpy_best else None
            for r in ran:
                if "traj_steps_per_s" in r:
                    r["speedup_vs_best_numpy"] = r["traj_steps_per_s"] / numpy_best
            line = f"{batch:>7} {d:>3} " + " ".join(f"{_fmt_rate(row[n]):>18}" for n in names)
            soa, aosoa = row.get("numba-soa"), row.get("numba-aosoa")
            line += f" {soa / aosoa:>8.2f}x" if soa and aosoa else f" {'-':>9}"
            line += f" {speedup:>7.1f}x" if speedup else f" {'-':>8}"
            if speed:
                line += f" {100 * speed * flops_per_step(d) / 1e9 / peak:>5.1f}%"
                floor = row.get("floor")
                line += f" {100 * speed / floor:>5.0f}%" if floor else f" {'-':>6}"
            print(line, flush=True)
            for r in ran:
                if "error" in r:
                    print(f"    {r['label']} failed: {r['error']}")
    print()
    print("M/s = million trajectory-steps per second (batch * T / seconds per gd call);")
    print("soa/aosoa = the two numba kernels; vs numpy = faster numba / faster of the two NumPy runs;")
    print("%peak = the faster numba kernel's flops (flops_per_step(d) per trajectory-step) over the float64")
    print("peak above; %floor = its rate over the output floor's (allocating and writing f and gnorm2 once).")
    if args.json:
        payload = {"machine": machine, "T": args.T, "repeats": args.repeats, "quick": args.quick,
                   "notes": notes, "results": results}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
