"""True claims are never refuted across seeds: every catalogue claim at a budget over several seeds.

    python benchmarks/bench_true_claims_seeds.py [--budget quick] [--seeds 10] [IDS ...]

Runs every theorem (or the given ids / family prefixes) with seeds 0..N-1 and prints, per seed, the
claims whose verdict differs from the spec's expectation (true claims refuted, printed claims not
refuted, errors); exits 1 if there is any.  tests/quality/test_true_claims_seeds.py is the CI subset.
This is a script, not a test.
"""

from __future__ import annotations

import argparse
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ids", nargs="*")
    ap.add_argument("--budget", default="quick")
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args()

    from numeric import budget
    from theorems.registry import load_registry
    from theorems.pipeline import run_theorem

    reg = load_registry()
    theorems = reg.select(args.ids)[0] if args.ids else reg.ordered()
    bad = 0
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        n = 0
        for thm in theorems:
            for rec in run_theorem(thm, budget=budget(args.budget), seed=seed, backend="numba", lookup=reg.lookup):
                n += 1
                if not rec.as_expected:
                    bad += 1
                    print(f"seed {seed}: {rec.id}: {rec.verdict} (expected {rec.expected}): {rec.reason}", flush=True)
        print(f"seed {seed}: {n} claims in {time.perf_counter() - t0:.1f} s", flush=True)
    print("claims not as expected:", bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
