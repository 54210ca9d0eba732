"""Bad-input suite (issue 17), specs: malformed fields, empty admissible sets, resources.

Every case is a copy of ``descent.quadratic_upper_bound`` (or ``descent.sgd_step``) with one field
broken; validation must raise one :class:`SpecError` naming the spec and the field, with a message
saying what is wrong."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import pytest
import sympy

import numeric
from theorems.catalogue import descent as D
from theorems.resources import check_resources, estimate_bytes
from theorems.spec import Assumption, Claim, ClaimKind, Derivation, SpecError, Step, Sym, Theorem, Uses
from theorems.validate import validate

BASE = D.quadratic_upper_bound
eta, L, f0, f1, G = D.eta, D.L, D.f0, D.f1, D.G


def _claim(**kw: Any) -> Theorem:
    return replace(BASE, claims=(replace(BASE.claims[0], **kw),))


def _derivation(*steps: Any) -> Theorem:
    return replace(BASE, derivations=(Derivation("one_step_bound", f0 - f1, tuple(steps)),))


# (case id, broken theorem, field named, words of the message)
CASES: list[tuple[str, Callable[[], Any], str, str]] = [
    ("horizon_float", lambda: replace(BASE, horizon=2.5), "horizon", "integer"),
    ("horizon_string", lambda: replace(BASE, horizon="10"), "horizon", "integer"),
    ("horizon_bool", lambda: replace(BASE, horizon=True), "horizon", "integer"),
    ("horizon_zero", lambda: replace(BASE, horizon=0), "horizon", "at least 1"),
    ("horizon_3e6_memory", lambda: replace(BASE, horizon=3_000_000), "horizon", "GB of memory"),
    ("horizon_1e9_memory", lambda: replace(BASE, horizon=10**9), "horizon", "GB of memory"),
    ("horizon_beyond_int32", lambda: replace(BASE, horizon=2**40), "horizon", "kernels can index"),
    ("dims_empty", lambda: replace(BASE, dims=()), "dims", "non-empty"),
    ("dims_zero", lambda: replace(BASE, dims=(2, 0)), "dims[1]", "positive integer"),
    ("dims_float", lambda: replace(BASE, dims=(2.5,)), "dims[0]", "positive integer"),
    ("dims_huge_memory", lambda: replace(BASE, dims=(10**12,)), "dims", "GB of memory"),
    ("sgd_batch_float", lambda: replace(D.sgd_step, settings={"batch": 2.5}), "settings.batch", "integer"),
    ("sgd_batch_string", lambda: replace(D.sgd_step, settings={"batch": "10"}), "settings.batch", "integer"),
    ("sgd_batch_zero", lambda: replace(D.sgd_step, settings={"batch": 0}), "settings.batch", "positive integer"),
    ("setting_unknown", lambda: replace(BASE, settings={"momentum": 0.9}), "settings.momentum", "no setting"),
    ("settings_not_dict", lambda: replace(BASE, settings=[("batch", 1)]), "settings", "must be a dict"),
    ("sym_name_int", lambda: replace(BASE, symbols=BASE.symbols[:5] + (Sym(42),) + BASE.symbols[5:]),
     "symbols[5].name", "must be a string"),
    ("sym_not_sym", lambda: replace(BASE, symbols=BASE.symbols + ("x",)), "symbols[7]", "must be a Sym"),
    ("sym_bad_domain", lambda: replace(BASE, symbols=(replace(BASE.symbols[0], domain="complex"),) + BASE.symbols[1:]),
     "symbols[0].domain", "must be one of"),
    ("symbols_not_tuple", lambda: replace(BASE, symbols="L eta"), "symbols", "must be a tuple"),
    ("theorems_entry_not_claim", lambda: replace(BASE, claims=(42,)), "claims[0]", "must be a Claim"),
    ("claim_kind", lambda: _claim(kind="sometimes"), "claims[0].kind", "must be one of"),
    ("claim_not_relation", lambda: _claim(relation=f0 - f1), "claims.one_step_bound.relation", "a relation"),
    ("claim_unknown_symbol", lambda: _claim(relation=f0 - f1 >= sympy.Symbol("zeta") * G),
     "claims.one_step_bound.relation", "unknown symbol(s) zeta"),
    ("claims_empty", lambda: replace(BASE, claims=()), "claims", "at least one claim"),
    ("assumption_bool", lambda: replace(BASE, assumptions=(Assumption("cap", eta <= -1),)), "assumptions.cap",
     "SymPy relation"),
    ("step_rel_typo", lambda: _derivation(Step("=<", f0 - f1)), "derivations[0].steps[0].rel", "must be one of"),
    ("step_by_wrong", lambda: _derivation(Step("<=", f0 - f1, by="algebra")), "derivations[0].steps[0].by",
     "Algebra, Uses or ByLemma"),
    ("step_expr_garbage", lambda: _derivation(Step("<=", object())), "derivations[0].steps[0].expr",
     "not a SymPy expression"),
    ("derivation_no_steps", lambda: _derivation(), "derivations[0].steps", "no steps"),
    ("step_unknown_fact", lambda: _derivation(Step("<=", f0 - f1, Uses(("nope",)))), "derivations[0].steps[0]",
     "unknown fact"),
    ("depends_on_not_id", lambda: replace(BASE, depends_on=("Not An Id",)), "depends_on", "not a theorem id"),
    ("unknown_dynamics", lambda: replace(BASE, dynamics="adam"), "dynamics", "unknown dynamics"),
    ("contradictory_assumptions", lambda: replace(BASE, assumptions=(Assumption("big", eta >= 5 / L),)),
     "assumptions.big", "search.search_range"),
    ("assumptions_outside_search_range", lambda: replace(BASE, search=BASE.search + (Assumption("cap", eta * L >= 5),)),
     "search.search_range", "search.cap"),
    ("claim_assumption_contradicts", lambda: _claim(assumptions=(Assumption("tiny", eta * L >= 7),)),
     "search.search_range", "claims.one_step_bound.assumptions.tiny"),
]


@pytest.mark.parametrize("make, field, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_malformed_spec_is_one_error_naming_spec_and_field(make: Callable[[], Any], field: str, words: str) -> None:
    thm = make()
    with pytest.raises(SpecError) as info:
        validate(thm)
    err = info.value
    assert err.spec_id == BASE.id or err.spec_id == D.sgd_step.id
    assert field in (err.field + ": " + err.message), str(err)
    assert words in err.message, str(err)
    assert "\n" not in str(err)


def test_the_untouched_base_validates() -> None:
    """The cases above break one field each of specs that are valid as they are."""
    assert validate(BASE) is BASE and validate(D.sgd_step) is D.sgd_step


@pytest.mark.parametrize("budget_name", ["quick", "default", "thorough"])
def test_memory_estimate_names_field_and_number_before_the_run(budget_name: str) -> None:
    """At a larger budget a horizon that fits at quick can still be refused; the message names the
    field, the estimate and the limit it was compared with."""
    thm = replace(BASE, horizon=200_000)
    budget = numeric.budget(budget_name)
    need, how = estimate_bytes(thm, budget)
    limit = need - 1
    with pytest.raises(SpecError) as info:
        check_resources(thm, budget, limit=limit)
    assert info.value.field == "horizon" and "horizon=200000" in info.value.message and budget_name in how
    check_resources(thm, budget, limit=need)  # exactly enough: accepted


def test_the_runner_refuses_a_search_that_cannot_fit_before_it_starts() -> None:
    """At run time (a bigger budget than validation checked) the theorem becomes ``error`` records
    naming the field; nothing is allocated."""
    from theorems.registry import build_registry
    from theorems.runner import run

    thm = replace(BASE, id="user.long", horizon=20_000_000, claims=BASE.claims, derivations=())
    reg = build_registry([("test", "", [thm])])
    if "user.long" not in reg.theorems:  # refused already at quick on a small machine: also correct
        assert any(p.field == "horizon" for p in reg.problems)
        return
    rec = run(reg, [reg.theorems["user.long"]], budget="thorough", seed=0, backend="numpy")
    (claim,) = rec.claims
    assert claim.verdict == "error" and "horizon" in claim.reason and "GB of memory" in claim.reason


def test_a_bound_undefined_at_an_allowed_point_is_blamed_on_the_bound() -> None:
    """0/0 in the bound at eta = 4/L (the search range's end, drawn exactly there): the error names
    the bound and the parameters, not the dynamics."""
    from theorems.pipeline import run_theorem
    from theorems.registry import build_registry

    eta_top = Sym("eta", D.ETA_.domain, D.ETA_.role, draw="upper", doc="step size at 4/L")
    thm = replace(BASE, id="user.zero_over_zero", derivations=(),
                  symbols=tuple(eta_top if s.name == "eta" else s for s in BASE.symbols),
                  claims=(Claim("ratio_bound",
                                f0 - f1 >= eta * (1 - eta * L / 2) * G * L * (4 - eta * L) / (4 * L - eta * L**2),
                                "a bound written as 0/0 at eta = 4/L", kind=ClaimKind.PER_STEP),))
    reg = build_registry([("test", "", [thm])])
    assert not reg.problems, reg.problems
    (rec,) = run_theorem(reg.theorems[thm.id], budget=numeric.budget("quick"), seed=0, backend="numpy",
                         lookup=reg.lookup)
    if rec.verdict != "error":  # 4 - (4/L) L rounded to a nonzero value on every instance drawn
        pytest.fail(f"expected an error, got {rec.verdict}: {rec.reason}")
    assert "bound of claim 'ratio_bound' is not finite" in rec.reason and "eta=" in rec.reason, rec.reason
    assert "dynamics overflowed" not in rec.reason
