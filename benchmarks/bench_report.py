"""Time to render a saved run's HTML report (issue: the whole catalogue in under 5 s).

    python benchmarks/bench_report.py RESULTS.json [--repeats N]

RESULTS.json is what ``thmcheck verify --out DIR`` writes (DIR/results.json).  Renders it cold (the
in-memory and on-disk formula caches off, so every formula is typeset) and warm (both caches on),
and prints CPU and wall seconds for each, with the machine, the number of claims and the page size.
This is a script, not a test: timed assertions do not belong in the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reports.html import render_html  # noqa: E402
from reports.records import load_run  # noqa: E402


def _time(fn) -> tuple[float, float, object]:
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return time.process_time() - c0, time.perf_counter() - w0, out


def _one(path: Path) -> tuple[float, float, int]:
    run = load_run(path)
    cpu, wall, page = _time(lambda: render_html(run))
    return cpu, wall, len(page)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:  # one render in this fresh process, caches as the environment says
        print(json.dumps(_one(args.results)))
        return 0
    run = load_run(args.results)
    print(f"machine: {platform.machine()} {platform.processor() or ''} cores={os.cpu_count()} "
          f"python={platform.python_version()}; load average {os.getloadavg()[0]:.1f}")
    print(f"run: {len(run.claims)} claims, {len(run.theorems)} theorems, {args.results.stat().st_size / 1e6:.1f} MB")

    def child(cache: str) -> tuple[float, float, int]:
        # A fresh process per render: the renderer also memoises formulas in memory.
        out = subprocess.run([sys.executable, __file__, str(args.results), "--child"], check=True, text=True,
                             capture_output=True, env={**os.environ, "THMCHECK_CACHE_DIR": cache})
        cpu, wall, size = json.loads(out.stdout.strip().splitlines()[-1])
        return cpu, wall, size

    cold = min(child("")[:2] for _ in range(args.repeats))
    with tempfile.TemporaryDirectory() as cache:
        child(cache)  # fills the disk cache
        warm = min(child(cache)[:2] for _ in range(args.repeats))
        size = child(cache)[2]
    print(f"page: {size / 1e6:.2f} MB")
    print(f"cold render (fresh process, no formula cache): cpu {cold[0]:.2f} s, wall {cold[1]:.2f} s (best of {args.repeats})")
    print(f"warm render (fresh process, disk formula cache): cpu {warm[0]:.2f} s, wall {warm[1]:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
