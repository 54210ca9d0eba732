"""Exact membership of confirmed counterexamples (issue 17): an instance outside its class in exact
arithmetic is an ``error``, never a ``fail``, and every record says how membership was certified."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from kernels import RidgeQuadratic, available_backends

from numeric import budget
from numeric.api import Family, InstanceBatch, Knobs, Membership
from numeric.exact_membership import fraction_matrix, is_psd, sqrt_upper
from numeric.families.exact_members import pairs_member_exact, rsi_member_exact, smooth_member_exact
from numeric.families.pl import MinimizerProblem
from numeric.families.pl_rsi import RSI_CLASS
from numeric.registry import CLASSES, register_class
from theorems.pipeline import run_theorem
from theorems.registry import build_registry, load_registry

from .quality.sensitive_specs import gd_strongly_convex_rate

EPS = float(np.finfo(np.float64).eps)


def test_exact_psd_decides_boundary_cases() -> None:
    assert is_psd(fraction_matrix(np.zeros((3, 3))))
    assert is_psd(fraction_matrix(np.ones((3, 3))))  # rank one, zero pivots after the first step
    assert not is_psd(fraction_matrix([[1.0, 2.0], [2.0, 1.0]]))
    assert not is_psd(fraction_matrix([[0.0, 1e-300], [1e-300, 0.0]]))  # zero pivot, nonzero row
    tiny = np.nextafter(0.0, -1.0)
    assert not is_psd(fraction_matrix([[1.0, 0.0], [0.0, tiny]]))  # one subnormal below zero
    x = Fraction(2)
    u = sqrt_upper(x)
    assert u * u >= x and float(u) - 2**0.5 < 1e-15


def _quadratic(A: np.ndarray, L: float) -> InstanceBatch:
    d = A.shape[0]
    problem = RidgeQuadratic.quadratic(A[None], np.zeros((1, d)))
    return InstanceBatch("crafted", problem, np.zeros((1, d)), {"L": np.array([L]), "Ldiag": np.array([L]),
                                                                  "d": np.array([float(d)])})


def test_smooth_exact_check_rejects_L_one_ulp_below_lambda_max() -> None:
    lam = 3.0 / 7.0
    A = np.diag([lam, -0.25 * lam, 0.5 * lam])
    assert smooth_member_exact(_quadratic(A, lam)).ok
    low = float(np.nextafter(lam, 0.0))
    m = smooth_member_exact(_quadratic(A, low))
    assert not m.ok and m.method == "exact" and "exceed L" in m.reason
    # The float64 check with the slack the class used to allow (16 d eps) accepted this instance.
    assert lam <= low * (1 + 16 * 3 * EPS)
    # The lower end too: an eigenvalue one ulp below -L.
    assert not smooth_member_exact(_quadratic(np.diag([-lam, 0.0]), low)).ok


def test_pairs_exact_check() -> None:
    B = np.array([[1.0, 2.0], [2.0, 1.0]])
    ok = pairs_member_exact(True, False)
    from numeric.families.schur import MatrixPairs

    assert ok(InstanceBatch("p", MatrixPairs(np.eye(2)[None], B[None]), np.zeros((1, 0)), {})).ok
    bad = ok(InstanceBatch("p", MatrixPairs(B[None], B[None]), np.zeros((1, 0)), {}))
    assert not bad.ok and "A is not positive semidefinite" in bad.reason


def test_membership_rejects_an_invalid_method() -> None:
    with pytest.raises(ValueError, match="exact"):
        Membership(ok=True, method="float64-with-slack")


# ------------------------------------------------------------------------- end to end through the engine


def _ulp_low(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    """A = lam I with L = mu one ulp *below* lam: outside rsi_smooth by exactly one ulp.  GD with
    eta = 2/(L + mu) = 1/L leaves w_1 = (1 - lam/L) w_0 != 0, while the rate bound at kappa = 1 is 0:
    a real violation for the stored constants, in any precision."""
    d = k.dim
    lam = np.full(n, 10.0 ** k.log_scale)
    A = lam[:, None, None] * np.eye(d)[None]
    L = np.nextafter(lam, 0.0)
    problem = MinimizerProblem(RidgeQuadratic.quadratic(A, np.zeros((n, d))), np.zeros((n, d)))
    w0 = rng.standard_normal((n, d))
    return InstanceBatch("ulp_low", problem, w0, {"L": L, "mu": L.copy(), "d": np.full(n, float(d))})


def _with_slack(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    """The float64 check with the 16 d eps forgiveness on L that classes used to have."""
    d = batch.problem.dim
    widened = {**batch.attrs, "L": batch.attrs["L"] * (1 + 16 * d * EPS)}
    return RSI_CLASS.member(InstanceBatch(batch.family, batch.problem, batch.w0, widened))


def _crafted_class(name: str, exact: bool) -> str:
    if name not in CLASSES:
        register_class(replace(RSI_CLASS, name=name, families=(Family(name="ulp_low", generate=_ulp_low),),
                               member=_with_slack, member_exact=rsi_member_exact if exact else None),
                       source="tests.test_exact_membership")
    return name


def _run_on(class_name: str) -> list:
    structure = (replace(gd_strongly_convex_rate.structure[0], instance_class=class_name),)
    thm = replace(gd_strongly_convex_rate, id=f"exactness.{class_name}", structure=structure, horizon=4)
    reg = build_registry([("tests", "", [thm])])
    assert not reg.problems, reg.problems
    return run_theorem(reg.theorems[thm.id], budget=budget("quick"), seed=0, backend="numpy", lookup=reg.lookup)


def test_instance_one_ulp_outside_its_class_is_an_error_not_a_fail() -> None:
    (rec,) = _run_on(_crafted_class("rsi_smooth_ulp_low_exact", exact=True))
    assert rec.verdict == "error", rec.reason
    assert "outside its class" in rec.reason and "exact arithmetic" in rec.reason
    assert rec.counterexample is None


def test_without_an_exact_hook_the_same_violation_fails_and_says_so() -> None:
    """The control: the violation is real for the stored constants (so the search does find and
    confirm it), and a class with no exact check can only say its membership rests on the slack."""
    (rec,) = _run_on(_crafted_class("rsi_smooth_ulp_low_float", exact=False))
    assert rec.verdict == "fail", rec.reason
    assert rec.counterexample is not None and rec.counterexample.membership == "float64-with-slack"
    assert "membership: float64-with-slack" in rec.reason


# Catalogue refutations (refuted-as-printed claims and dropped-hypothesis refutations) on classes
# with an exact hook; cp.junk_flow (7 s) and the classes without a hook are left out.
REFUTED = ["schur.without_psd_b", "schur.without_psd_a", "schur.jacobian_gram", "schur.ntk_quarter", "pl.claim_6_2_2_wqc",
           "schur.hermite_lemma", "cp.k_parities", "cp.dictators", "scale_invariant.lemma_13_4_8",
           "scale_invariant.exp_lr", "scale_invariant.exp_lr_minibatch", "overparam.problem_13_1_1", "pl.os_key_lemma",
           "momentum.heavy_ball_global"]  # the example plugin's refutation (installed in CI; about 3 s)


@pytest.mark.parametrize("theorem_id", REFUTED)
def test_catalogue_refutations_stay_fail_with_exact_membership(theorem_id: str) -> None:
    reg = load_registry()
    recs = [r for r in run_theorem(reg.theorems[theorem_id], budget=budget("quick"), seed=0, backend="numpy",
                                   lookup=reg.lookup) if r.expected == "fail"]
    assert recs
    for rec in recs:
        assert rec.verdict == "fail", rec.reason
        # "extended": classes whose definition involves transcendental functions, certified by interval arithmetic
        assert rec.counterexample is not None and rec.counterexample.membership in ("exact", "extended")
        assert f"membership: {rec.counterexample.membership}" in rec.reason


def test_a_scaling_refutation_certifies_every_instance_it_rests_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """escape.escape_time_scaling::at_least_sqrt_d is refuted by a fit over many instances: each
    instance of the confirming remeasurement is certified by its class's hook, and one the hook
    rejects turns the refutation into an error."""
    reg = load_registry()
    full = reg.theorems["escape.escape_time_scaling"]
    thm = replace(full, claims=tuple(c for c in full.claims if c.name == "at_least_sqrt_d"))
    backend = "numba" if "numba" in available_backends() else "numpy"  # the trials are the cost

    def run() -> Any:
        (rec,) = run_theorem(thm, budget=budget("quick"), seed=0, backend=backend, lookup=reg.lookup)
        return rec

    rec = run()
    assert rec.verdict == "fail", rec.reason
    assert rec.counterexample is not None and rec.counterexample.membership == "exact"
    cls_name = thm.structure[0].instance_class
    calls: list[int] = []

    def reject(batch: InstanceBatch) -> Membership:
        calls.append(1)
        return Membership(False, "exact", "rejected on purpose")

    monkeypatch.setitem(CLASSES._table, cls_name, replace(CLASSES[cls_name], member_exact=reject))  # type: ignore[attr-defined]
    rec = run()
    assert calls and rec.verdict == "error", rec.reason
    assert "outside its class" in rec.reason and "rejected on purpose" in rec.reason
