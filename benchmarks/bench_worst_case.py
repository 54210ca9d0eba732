"""Falsification power against exact worst cases (PEP reference values), at a given budget.

    python benchmarks/bench_worst_case.py [--budget thorough] [--seed 0] [--json PATH]
                                          [--only min_grad|one_step|convex_value|convex_gradient]
                                          [--steps 1,2,5,10] [--class smooth_pwq|generic]
                                          [--seeding] [--no-alternating] [--no-polish]

``--class generic`` runs the claims on the generic first-order classes (``lsmooth``,
``lsmooth_convex``; theorems/catalogue/first_order.py) instead of the dedicated 1-D class, and adds
Drori and Teboulle's ``f(x_N) - f* <= L ||x_0 - x*||^2 / (4N+2)`` and ``||grad f(x_N)||^2 <=
L^2 ||x_0 - x*||^2 / (N+1)^2`` (N in {1, 5, 10}).  ``--seeding`` lets the PEPit oracle seed the
search with the exact worst case (needs the ``thmcheck[pep]`` extra); without it the oracle is off.

For each GD claim with a known exact worst case (shared/reference/pep-worst-cases.json) --
``min_t ||grad f(x_t)||^2 <= 4 L (f(x_0) - f(x_N)) / (3N)`` for N in {1, 2, 5, 10}, and the one-step
decrease ``f(x_0) - f(x_1) >= (h - h^2/2) ||grad f(x_0)||^2 / L`` for h in {0.5, 1, 1.5, 1.9} -- it
runs the *false* variant whose bound is 0.99x the exact worst case (for the one-step claim: a
guaranteed decrease 1/0.99 times the exact one) through the whole pipeline and prints the verdict
(must be ``fail``), the fraction of the exact worst case reached by the best instance found
(``0.99 * worst_ratio``, resp. ``worst_ratio / (1/0.99)``... both normalised so that 1 is the exact
worst case), wall time and instances.

``--no-alternating`` removes the class's "alternating +-L curvature, equal widths" starting pattern
(the shape of the known worst cases) from the generator and the polisher's starts: what the
polishing phase reaches from generic starts.  ``--no-polish`` disables the polishing phase.

This is a script, not a test (tests/quality/variants_pep.py runs the quick-budget version).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import sympy


def _ablate_alternating() -> None:
    import numeric.families.pwq as W

    orig = W.PWQParametrisation.sample

    def sample(self, rng, n, P):
        th = orig(self, rng, n, P)
        K = P // 2
        alt = np.arange(n) % 4 == 0
        th[alt, K:] = np.where(rng.random((int(alt.sum()), K)) < 0.5, -1.0, 1.0)  # random signs instead
        return th

    W.PWQParametrisation.sample = sample


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", default="thorough")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default="")
    ap.add_argument("--only", choices=("min_grad", "one_step", "convex_value", "convex_gradient"), default=None)
    ap.add_argument("--steps", default="1,2,5,10")
    ap.add_argument("--no-alternating", action="store_true")
    ap.add_argument("--no-polish", action="store_true")
    ap.add_argument("--class", dest="cls", choices=("smooth_pwq", "generic"), default="smooth_pwq")
    ap.add_argument("--seeding", action="store_true")
    ap.add_argument("--convex-steps", default="1,5,10")
    args = ap.parse_args()
    if args.no_alternating:
        _ablate_alternating()
    if args.no_polish:
        # Polishing runs on classes that carry a parametrisation: drop the pwq class's.
        from dataclasses import replace

        import numeric.registry as R

        R.load_plugins()
        for name in ("smooth_pwq", "lsmooth", "lsmooth_convex"):
            R._classes[name] = replace(R._classes[name], parametrisation=None)  # noqa: SLF001

    from numeric import budget
    from theorems.catalogue import first_order, pep
    from theorems.pipeline import run_theorem
    from theorems.registry import load_registry

    reg = load_registry()
    false = sympy.Rational(99, 100)
    cases = []
    mod = first_order if args.cls == "generic" else pep
    if args.only in (None, "min_grad"):
        for n in (int(x) for x in args.steps.split(",")):
            cases.append(("min_grad", f"N={n}", 4 / (3 * n),
                          mod.min_grad_theorem(n, false, tid=f"bench.gd_min_grad_n{n}_false")))
    if args.only in (None, "one_step"):
        for h in pep.ONE_STEP_H:
            hv = float(h)
            cases.append(("one_step", f"h={h}", -(hv - hv * hv / 2),
                          mod.one_step_theorem(h, 1 / false, tid=f"bench.gd_one_step_h{h.replace('.', '_')}_false")))
    if args.cls == "generic":
        for n in (int(x) for x in args.convex_steps.split(",")):
            if args.only in (None, "convex_value"):
                cases.append(("conv_val", f"N={n}", 1 / (4 * n + 2), first_order.convex_value_theorem(
                    n, false, tid=f"bench.gd_convex_value_n{n}_false")))
            if args.only in (None, "convex_gradient"):
                cases.append(("conv_grad", f"N={n}", 1 / (n + 1) ** 2, first_order.convex_gradient_theorem(
                    n, false, tid=f"bench.gd_convex_gradient_n{n}_false")))
    rows = []
    import os

    print(f"budget {args.budget}, seed {args.seed}, class {args.cls}, PEPit seeding {'on' if args.seeding else 'off'}, "
          f"polish {'off' if args.no_polish else 'on'}, alternating pattern {'off' if args.no_alternating else 'on'}, "
          f"load {os.getloadavg()[0]:.2f}")
    print(f"{'claim':9} {'case':7} {'exact':>10} {'best found':>11} {'fraction':>9} {'verdict':8} {'time s':>7} {'instances':>10}")
    for kind, case, exact, thm in cases:
        t0 = time.perf_counter()
        rec = run_theorem(thm, budget=budget(args.budget), seed=args.seed, backend="numba", lookup=reg.lookup,
                          oracle=args.seeding)[0]
        dt = time.perf_counter() - t0
        # worst_ratio = found / false bound, and the false bound is 0.99x the exact worst case
        # (min_grad), resp. claims 1/0.99 x the exact least decrease (one_step): either way
        # fraction = 0.99 * worst_ratio.
        frac = 0.99 * float(rec.worst_ratio) if rec.worst_ratio is not None else float("nan")
        found = exact / frac if kind == "one_step" and frac else exact * frac
        rows.append({"claim": kind, "case": case, "exact": exact, "best_found": found, "fraction": frac,
                     "verdict": rec.verdict, "time_s": round(dt, 2), "instances": rec.instances,
                     "budget": args.budget, "seed": args.seed, "polish": not args.no_polish,
                     "alternating": not args.no_alternating, "class": args.cls, "seeding": args.seeding})
        print(f"{kind:9} {case:7} {exact:10.6f} {found:11.6f} {frac:9.5f} {rec.verdict:8} {dt:7.1f} {rec.instances:10d}",
              flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    ok = all(r["verdict"] == "fail" for r in rows)
    print("all false bounds at 0.99x refuted:", ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
