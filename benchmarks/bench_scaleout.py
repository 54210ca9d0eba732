"""Wall time of ``thmcheck verify`` on the catalogue: serially, on local Dask workers, and on worker
processes started like separate machines (a ``dask scheduler`` and N ``dask worker`` processes on
localhost, reached with ``--scheduler``).

    python benchmarks/bench_scaleout.py [--budget quick|default] [--workers 2] [--machines 4]
                                        [--per-family] [--json PATH]

Every configuration is one ``thmcheck verify`` subprocess, timed end to end (start-up, registry,
cluster start, the run, writing the report), so the figures are what a user waits for.  Printed:

* per configuration: wall time, speedup over the serial run, parallel efficiency (speedup / workers),
  and whether its records are identical to the serial run's (canonical JSON, timings dropped);
* per claim family: with ``--per-family``, the same for a run of that family alone (one
  ``verify FAMILY`` per family and configuration); without it, the family's share of the work
  (seconds of search summed over its claims' experiments, from the serial run's records);
* how the largest theorems are cut: their experiments and the search parts each is split into.

The machine's load is printed next to the figures: on a shared machine they move with it.
This is a script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _load() -> str:
    try:
        return "load %.2f %.2f %.2f" % os.getloadavg()
    except OSError:  # pragma: no cover
        return "load ?"


def _verify(out: pathlib.Path, budget: str, ids: list[str], engine: list[str]) -> tuple[float, int]:
    cmd = [sys.executable, "-m", "theorems.cli", "verify", *ids, "--budget", budget, "--out", str(out), "--quiet",
           *engine]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr[-2000:])
    return wall, proc.returncode


class Machines:
    """A scheduler and ``n`` single-threaded worker processes on localhost."""

    def __init__(self, n: int, folder: pathlib.Path) -> None:
        self.info = folder / "scheduler.json"
        self.procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--scheduler-file",
                                        str(self.info), "--port", "0", "--no-dashboard"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        for _ in range(600):
            if self.info.exists() and self.info.read_text().strip():
                break
            time.sleep(0.05)
        self.address = json.loads(self.info.read_text())["address"]
        for _ in range(n):
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", self.address, "--nthreads", "1",
                 "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(self.address) as c:
            c.wait_for_workers(n, timeout=120)

    def close(self) -> None:
        for p in reversed(self.procs):
            p.kill()
            p.wait()


def _canonical(path: pathlib.Path) -> str:
    from reports.records import canonical_json, load_run

    return canonical_json(load_run(path), drop_volatile=True)


def _family(theorem: str) -> str:
    return theorem.split(".")[0]


def _work_by_family(path: pathlib.Path) -> dict[str, float]:
    """Seconds of work per family from a run's records: each experiment's search time once (its
    claims all carry it) plus each theorem's symbolic stage once."""
    data = json.loads(path.read_text())
    seen: set[tuple[str, float]] = set()
    out: dict[str, float] = {}
    sym: dict[str, float] = {}
    for c in data["claims"]:
        t = c.get("timings", {})
        key = (c["theorem"], t.get("numeric_s", 0.0))
        if key not in seen:
            seen.add(key)
            out[_family(c["theorem"])] = out.get(_family(c["theorem"]), 0.0) + t.get("numeric_s", 0.0)
        sym[c["theorem"]] = t.get("symbolic_s", 0.0)
    for thm, s in sym.items():
        out[_family(thm)] = out.get(_family(thm), 0.0) + s
    return out


def _largest(path: pathlib.Path, budget: str, k: int = 3) -> list[str]:
    from numeric.engine.split import part_names
    from theorems.pipeline import experiment_plan
    from theorems.registry import load_registry

    import numeric

    data = json.loads(path.read_text())
    per: dict[str, float] = {}
    for c in data["claims"]:
        per[c["theorem"]] = max(per.get(c["theorem"], 0.0), c.get("timings", {}).get("numeric_s", 0.0))
    reg = load_registry()
    parts = part_names(numeric.budget(budget))
    lines = []
    for thm_id, secs in sorted(per.items(), key=lambda kv: -kv[1])[:k]:
        plan = experiment_plan(reg.theorems[thm_id])
        cuts = ", ".join(f"[{' '.join(names)}]: {'1 task (probability/scaling)' if stat else f'{len(parts)} parts ({parts[0]} .. {parts[-1]})'}"
                         for names, stat in plan)
        lines.append(f"  {thm_id} ({secs:.1f} s of search serially): {cuts}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", default="quick", choices=("quick", "default", "thorough"))
    ap.add_argument("--workers", default="2", help="comma-separated local worker counts (default 2)")
    ap.add_argument("--machines", type=int, default=4,
                    help="worker processes started like separate machines (0: skip; default 4)")
    ap.add_argument("--per-family", action="store_true", help="also time each claim family on its own")
    ap.add_argument("--json", default="", help="write the figures to this file")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from theorems.registry import load_registry

    local = [int(x) for x in args.workers.split(",") if x.strip()]
    families = sorted({_family(t) for t in load_registry().order})
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    print(f"budget {args.budget}; {os.cpu_count()} cores; {_load()} at start", flush=True)
    configs: list[tuple[str, int, list[str]]] = [("serial", 1, ["--workers", "1"])]
    configs += [(f"{n} local workers", n, ["--workers", str(n)]) for n in local]
    machines = None
    if args.machines:
        machines = Machines(args.machines, tmp)
        configs.append((f"{args.machines} worker processes (--scheduler)", args.machines,
                        ["--scheduler", machines.address]))
    rows: list[dict[str, Any]] = []
    try:
        scopes = [("catalogue", [])] + ([(f, [f]) for f in families] if args.per_family else [])
        for scope, ids in scopes:
            base = None
            for name, n, engine in configs:
                out = tmp / f"{scope}-{name.split()[0]}-{n}"
                wall, code = _verify(out, args.budget, ids, engine)
                same = "" if base is None else ("yes" if _canonical(out / "results.json") == base[1] else "NO")
                if base is None:
                    base = (wall, _canonical(out / "results.json"), out)
                speed = base[0] / wall
                row = {"scope": scope, "config": name, "workers": n, "wall_s": round(wall, 1),
                       "speedup": round(speed, 2), "efficiency": round(speed / n, 2), "identical": same or "(ref)",
                       "exit": code, "load": _load()}
                rows.append(row)
                print(f"{scope:<16} {name:<36} {wall:8.1f} s  speedup {speed:5.2f}  efficiency {speed / n:5.2f}  "
                      f"identical {row['identical']:<5}  exit {code}  ({row['load']})", flush=True)
            if scope == "catalogue" and base is not None:
                work = _work_by_family(base[2] / "results.json")
                total = sum(work.values()) or 1.0
                print("share of the serial run's work per family:")
                for fam, secs in sorted(work.items(), key=lambda kv: -kv[1]):
                    print(f"  {fam:<16} {secs:8.1f} s  {100 * secs / total:5.1f}%")
                print("largest theorems and how they are cut:")
                for line in _largest(base[2] / "results.json", args.budget):
                    print(line)
    finally:
        if machines is not None:
            machines.close()
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({"budget": args.budget, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
