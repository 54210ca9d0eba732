"""The Dask engine: a search cut into parts gives the uncut search's outcomes, a run on workers gives
the serial run's records, and faults (a worker killed, a task that keeps killing its workers, the
scheduler gone) lose nothing silently."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

import numeric
from numeric.engine.polish import polish_search
from numeric.engine.search import Search
from numeric.engine.split import (
    SLICE_ROUNDS,
    bulk_slices,
    finish_search,
    part_names,
    run_part,
    shrink_counterexamples,
)
from reports.records import canonical_json, load_run
from theorems.cli import main
from theorems.pipeline import compile_theorem
from theorems.registry import load_registry

REGISTRY = load_registry()


def _plain(x: Any) -> Any:
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: _plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    return x


def _same(a: Any, b: Any) -> bool:
    # NaN != NaN: compare the JSON text, which spells both the same way.
    return json.dumps(_plain(a), sort_keys=True, default=repr) == json.dumps(_plain(b), sort_keys=True, default=repr)


# --------------------------------------------------------------------------------------------------
# Parts of a search
# --------------------------------------------------------------------------------------------------


def test_bulk_slices_cover_the_rounds_once() -> None:
    b = replace(numeric.budget("quick"), bulk_rounds=2 * SLICE_ROUNDS + 5)
    slices = bulk_slices(b)
    assert [r for a, z in slices for r in range(a, z)] == list(range(b.bulk_rounds))
    assert part_names(b)[-1] == "hypothesis" and len(part_names(b)) == len(slices) + 1


@pytest.mark.parametrize("theorem", ["descent.lemma_2_1_4", "schur.without_psd_a", "pep.gd_min_grad_n2"])
def test_search_in_parts_equals_the_uncut_search(theorem: str) -> None:
    """Three bulk slices + Hypothesis, merged, then polished and confirmed: the same outcomes (worst
    cases, candidates, confirmed counterexamples, histograms, samples) as one search run straight
    through -- including a theorem with confirmed violations and one the polisher works on."""
    b = replace(numeric.budget("quick"), bulk_rounds=2 * SLICE_ROUNDS + 3, bulk_batch=64, examples=8)
    exp = compile_theorem(REGISTRY.theorems[theorem]).experiments[0][0]
    whole = Search(exp, b, 3, "numba")
    whole.bulk()
    whole.hypothesis()
    polish_search(whole)
    whole.confirm()
    shrink_counterexamples(whole)
    expected = whole.finish()
    parts = [run_part(exp, b, name, seed=3, backend="numba") for name in reversed(part_names(b))][::-1]
    got = finish_search(exp, b, parts, seed=3, backend="numba")
    assert _same(got, expected)
    assert any(o.instances for o in got.values())


def test_parts_out_of_order_are_refused() -> None:
    b = numeric.budget("quick")
    exp = compile_theorem(REGISTRY.theorems["descent.lemma_2_1_4"]).experiments[0][0]
    parts = [run_part(exp, b, name, seed=0, backend="numba") for name in part_names(b)]
    with pytest.raises(ValueError, match="in order"):
        finish_search(exp, b, parts[::-1], seed=0, backend="numba")
    with pytest.raises(ValueError, match="unknown search part"):
        run_part(exp, b, "everything", seed=0, backend="numba")


# --------------------------------------------------------------------------------------------------
# Whole runs: workers vs serial
# --------------------------------------------------------------------------------------------------

# Deterministic claims with lemmas (descent), a probability claim resting on a lemma (escape), a
# closed form (cp), refuted claims with confirmed counterexamples (schur).
SUBSET = ["descent", "escape.lemma_7_3_1", "escape.theorem_7_2_1_ball", "cp.parities", "schur.without_psd_a"]


def _verify(tmp_path: Any, name: str, *extra: str) -> str:
    out = tmp_path / name
    code = main(["verify", *SUBSET, "--budget", "quick", "--seed", "2", "--out", str(out), "--quiet", *extra])
    assert code == 0
    return canonical_json(load_run(out / "results.json"), drop_volatile=True)


def test_two_workers_give_the_serial_records(tmp_path: Any) -> None:
    serial = _verify(tmp_path, "serial", "--workers", "1")
    spread = _verify(tmp_path, "dask", "--workers", "2")
    assert spread == serial
    assert load_run(tmp_path / "dask" / "results.json").timings["workers"] == 2
    assert "workers" not in load_run(tmp_path / "serial" / "results.json").timings
