"""Spec validation and the registry: malformed specs give one clear error naming the spec id and
field, and the other theorems still load and run."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sympy

from theorems.catalogue import descent as D
from theorems.registry import build_registry, load_registry, specs_of
from theorems.spec import Assumption, Claim, SpecError, Sym, Theorem
from theorems.validate import validate

GOOD = D.lemma_2_1_4
x = sympy.Symbol("x", real=True)


def broken(**changes) -> Theorem:
    return replace(GOOD, **{"id": "broken.spec", **changes})


@pytest.mark.parametrize(
    "spec, field, needle",
    [
        (broken(claims=(Claim("c", D.f0 - D.f1 >= x * D.G, "uses x"),)), "claims.c.relation", "unknown symbol(s) x"),
        (broken(claims=(Claim("c", D.f0 - D.f1, "no relation"),)), "claims.c.relation", "needs a relation"),
        (broken(assumptions=(Assumption("step_size", D.eta >= D.L / 100),)), "symbols.eta", "no finite upper bound"),
        (broken(id="Not A Slug"), "id", "dotted lower-case slug"),
        (broken(structure=(replace(D.SMOOTH, instance_class="nonsense"),)), "structure", "unknown instance class"),
        (broken(symbols=D.STEP_SYMBOLS + (Sym("Q", role="observable", source="nope"),)), "symbols.Q", "unknown observable"),
        (broken(claims=(replace(GOOD.claims[0], printed=True),)), "claims.descent_inequality.corrected_by", "corrected claim"),
        (broken(horizon=0), "horizon", "at least 1"),
    ],
    ids=["unknown-symbol", "claim-without-relation", "non-finite-domain", "bad-id", "unknown-class",
         "unknown-observable", "printed-without-correction", "zero-horizon"],
)
def test_malformed_spec_names_id_and_field(spec: Theorem, field: str, needle: str) -> None:
    with pytest.raises(SpecError) as info:
        validate(spec)
    err = info.value
    assert err.spec_id == spec.id and err.field == field, str(err)
    assert needle in str(err)
    assert str(err).startswith(f"{spec.id}: {field}: ")


def test_a_malformed_spec_does_not_stop_the_others() -> None:
    bad = broken(claims=(Claim("c", D.f0 - D.f1 >= x, "uses x"),))
    reg = build_registry([("test", "", [bad, *D.THEOREMS])])
    assert set(reg.theorems) == {t.id for t in D.THEOREMS}
    assert [p.source for p in reg.problems] == ["broken.spec"]
    assert reg.problems[0].field == "claims.c.relation"


def test_cycles_and_unknown_ids_are_rejected_with_clear_errors() -> None:
    a = replace(GOOD, id="cyc.a", depends_on=("cyc.b",))
    b = replace(GOOD, id="cyc.b", depends_on=("cyc.a",))
    c = replace(GOOD, id="cyc.c", depends_on=("cyc.missing",))
    reg = build_registry([("test", "", [a, b, c, D.quadratic_upper_bound])])
    messages = {p.source: p.message for p in reg.problems}
    assert "cyclic dependency" in messages["cyc.a"] and "cyc.b" in messages["cyc.a"]
    assert "cyclic dependency" in messages["cyc.b"]
    assert messages["cyc.c"] == "unknown theorem id 'cyc.missing'"
    assert reg.order == ["descent.quadratic_upper_bound"]


def test_run_order_puts_lemmas_first() -> None:
    reg = load_registry()
    order = reg.order
    for thm in reg.ordered():
        for dep in thm.depends_on:
            assert order.index(dep) < order.index(thm.id)


def test_builtin_specs_come_through_the_entry_point_group() -> None:
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group="thmcheck.theorems")}
    assert "descent" in names
    reg = load_registry()
    assert not reg.problems, [str(p) for p in reg.problems]
    assert {t.id for t in D.THEOREMS} <= set(reg.theorems)


def test_selection_by_family_theorem_and_claim() -> None:
    reg = load_registry()
    thms, only = reg.select(["descent.lemma_2_1_4::descent_inequality"])
    assert [t.id for t in thms] == ["descent.lemma_2_1_4"] and only == {"descent.lemma_2_1_4": {"descent_inequality"}}
    thms, _ = reg.select(["descent"])
    assert len(thms) == len(D.THEOREMS)
    with pytest.raises(KeyError, match="no theorem matches"):
        reg.select(["nonexistent"])


def test_specs_of_rejects_garbage() -> None:
    with pytest.raises(TypeError):
        specs_of(42)


def test_expected_verdicts_follow_the_spec() -> None:
    assert GOOD.expected(GOOD.claims[0]).value == "proved"
    printed = replace(GOOD.claims[0], name="as_printed", printed=True, corrected_by="descent_inequality")
    assert GOOD.expected(printed).value == "fail"


@pytest.mark.parametrize("field, value, where", [("horizon", 2.5, "horizon"), ("horizon", "10", "horizon"),
                                                 ("horizon", True, "horizon"), ("dims", (2, 0), "dims[1]"),
                                                 ("dims", (2.5,), "dims[0]")])
def test_malformed_sizes_name_the_field(field: str, value, where: str) -> None:
    from dataclasses import replace

    from theorems.catalogue import descent as D
    from theorems.spec import SpecError
    from theorems.validate import validate

    with pytest.raises(SpecError) as exc:
        validate(replace(D.lemma_2_1_4, **{field: value}))
    assert exc.value.field == where
