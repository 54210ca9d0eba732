"""Time to render a saved run's HTML report (issue: the whole catalogue in under 5 s).

    python benchmarks/bench_report.py RESULTS.json [--repeats N]

RESULTS.json is what ``thmcheck verify --out DIR`` writes (DIR/results.json).  Renders it cold (the
in-memory and on-disk formula caches off, so every formula is typeset) and warm (both caches on),
and prints CPU and wall seconds for each, with the machine, the number of claims and the page size.
This is a script, not a test: timed assertions do not belong in the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reports.html import render_html  # noqa: E402
from reports.records import load_run  # noqa: E402
from reports.svg import math_svg  # noqa: E402


def _time(fn) -> tuple[float, float, object]:
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return time.process_time() - c0, time.perf_counter() - w0, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    run = load_run(args.results)
    print(f"machine: {platform.machine()} {platform.processor() or ''} cores={os.cpu_count()} "
          f"python={platform.python_version()}; load average {os.getloadavg()[0]:.1f}")
    print(f"run: {len(run.claims)} claims, {len(run.theorems)} theorems, {args.results.stat().st_size / 1e6:.1f} MB")
    best_cold = (float("inf"), float("inf"))
    for _ in range(args.repeats):
        os.environ["THMCHECK_CACHE_DIR"] = ""
        math_svg.cache_clear()
        cpu, wall, page = _time(lambda: render_html(run))
        best_cold = min(best_cold, (cpu, wall))
    with tempfile.TemporaryDirectory() as cache:
        os.environ["THMCHECK_CACHE_DIR"] = cache
        math_svg.cache_clear()
        render_html(run)  # fills the disk cache
        math_svg.cache_clear()
        cpu_w, wall_w, page = _time(lambda: render_html(run))
    print(f"page: {len(page) / 1e6:.2f} MB")
    print(f"cold render (no formula caches): cpu {best_cold[0]:.2f} s, wall {best_cold[1]:.2f} s (best of {args.repeats})")
    print(f"warm render (disk formula cache): cpu {cpu_w:.2f} s, wall {wall_w:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
