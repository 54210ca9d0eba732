"""False variants of the PEP exact-worst-case claims (theorems/catalogue/pep.py): each bound is moved
past the exact worst case, so only a search that gets within that distance of the worst case refutes
it.  At the quick budget (CI) the margin is 1% for N in {1, 2} and for the one-step decreases, and 3%
for N in {5, 10}; benchmarks/bench_worst_case.py runs 1% for every case at the thorough budget."""

from __future__ import annotations

import sympy

from theorems.catalogue import pep
from theorems.spec import Citation, Verdict

HERE = Citation("thmcheck quality suite", "false variant of an exact PEP worst case")
ONE_PCT = sympy.Rational(99, 100)
THREE_PCT = sympy.Rational(97, 100)

VARIANTS = (
    [pep.min_grad_theorem(n, ONE_PCT if n <= 2 else THREE_PCT, tid=f"quality.pep_min_grad_n{n}_below_exact",
                          citation=HERE, expect=Verdict.FAIL) for n in pep.MIN_GRAD_STEPS]
    + [pep.one_step_theorem(h, 1 / ONE_PCT, tid=f"quality.pep_one_step_h{h.replace('.', '_')}_above_exact",
                            citation=HERE, expect=Verdict.FAIL) for h in pep.ONE_STEP_H]
)

# Kind of each variant (tests/quality/test_variant_kinds.py): all move a constant past the exact value.
KINDS = {t.id: "constant" for t in VARIANTS}
