"""False variants of the exact GD worst cases on the generic first-order classes
(theorems/catalogue/first_order.py): each bound is moved 1% past the exact worst case, so only a
search that gets within 1% of it on ``lsmooth`` / ``lsmooth_convex`` refutes it.  These are the
cases the quick budget reaches without the PEPit oracle (min-gradient N = 1, the one-step
decreases, the convex value and gradient bounds at N in {1, 5}).  The min-gradient claim at N = 2, 5
and 10 needs the default budget without the oracle (its horizon continuation; quick reaches 96% of
the exact value at N = 2): it is checked there by tests/test_first_order.py.  The convex claims at
N = 10 are checked at quick with the oracle in tests/test_pep_oracle.py and at default without it
by benchmarks/bench_worst_case.py."""

from __future__ import annotations

import sympy

from theorems.catalogue import first_order as fo
from theorems.catalogue import pep
from theorems.spec import Citation, Verdict

HERE = Citation("thmcheck quality suite", "false variant of an exact worst case, on the generic classes")
ONE_PCT = sympy.Rational(99, 100)

VARIANTS = (
    [fo.min_grad_theorem(n, ONE_PCT, tid=f"quality.fo_min_grad_n{n}_below_exact", citation=HERE, expect=Verdict.FAIL)
     for n in (1,)]
    + [fo.one_step_theorem(h, 1 / ONE_PCT, tid=f"quality.fo_one_step_h{h.replace('.', '_')}_above_exact",
                           citation=HERE, expect=Verdict.FAIL) for h in pep.ONE_STEP_H]
    + [fo.convex_value_theorem(n, ONE_PCT, tid=f"quality.fo_convex_value_n{n}_below_exact", citation=HERE,
                               expect=Verdict.FAIL) for n in (1, 5)]
    + [fo.convex_gradient_theorem(n, ONE_PCT, tid=f"quality.fo_convex_gradient_n{n}_below_exact", citation=HERE,
                                  expect=Verdict.FAIL) for n in (1, 5)]
)

KINDS = {t.id: "constant" for t in VARIANTS}
