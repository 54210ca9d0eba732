"""Issue 9: every family's false variants cover the kinds of mistake the quality suite is meant to
catch -- a constant wrong by 5-50%, a wrong exponent, a dropped (or weakened) hypothesis, and a
swapped inequality -- as tagged by the module's ``KINDS`` (variant id -> kind)."""

from __future__ import annotations

import importlib

import pytest

REQUIRED = {"constant_5_50", "exponent", "hypothesis", "direction"}
KNOWN = REQUIRED | {"constant"}  # "constant": wrong by more than 50% or a wrong quantity in its place
FAMILIES = ("variants_descent", "variants_pl", "variants_schur", "variants_scale_invariant")


@pytest.mark.parametrize("name", FAMILIES)
def test_family_has_every_kind_of_false_variant(name: str) -> None:
    mod = importlib.import_module(f"{__package__}.{name}")
    ids = {t.id for t in mod.VARIANTS}
    assert set(mod.KINDS) <= ids, f"{name}: KINDS tags unknown variants: {sorted(set(mod.KINDS) - ids)}"
    assert set(mod.KINDS.values()) <= KNOWN
    missing = REQUIRED - set(mod.KINDS.values())
    assert not missing, f"{name} lacks false variants of kind(s) {sorted(missing)}"
