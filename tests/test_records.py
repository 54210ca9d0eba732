"""Records: JSON round trip, volatile fields, and clear errors for corrupt files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reports.records import (
    ClaimRecord,
    CounterexampleRecord,
    DerivationRecord,
    InstanceRecord,
    RecordError,
    RunRecord,
    StepRecord,
    canonical_json,
    dump_run,
    load_run,
)


def sample_run() -> RunRecord:
    inst = InstanceRecord(family="quadratic", dynamics="gd", data={"A": [[2.0]], "w0": [1.0]},
                          params={"eta": 1.0, "L": 2.0}, step=0, observed=-1.0, bound=0.5, ratio=None, slack=-0.25)
    cex = CounterexampleRecord(instance=inst, violation=1.5, tolerance=1e-14, confirmed_precision="float128",
                               confirmed_violation=1.5, replay="print(1)")
    deriv = DerivationRecord(name="proof", claim="c", status="proved", expected_status="proved", printed=False,
                             endpoint_match=True,
                             steps=(StepRecord(0, "<=", "x", "x", "Algebra", "proved", "z3"),))
    claims = (
        ClaimRecord(theorem="fam.thm", claim="c", kind="per_step", statement="s", latex="x \\le y",
                    verdict="fail", expected="fail", printed=True, corrected_by="d", instances=10,
                    worst_ratio=float("inf"), worst_instance=inst, counterexample=cex, derivations=(deriv,),
                    timings={"numeric_s": 0.5}),
        ClaimRecord(theorem="fam.thm", claim="d", kind="per_step", statement="s", latex="", verdict="pass",
                    expected="proved"),
    )
    return RunRecord(claims=claims, seed=3, budget="quick", backend="numpy", timings={"total_s": 1.0})


def test_round_trip(tmp_path: Path) -> None:
    run = sample_run()
    path = dump_run(run, tmp_path / "out" / "results.json")
    back = load_run(path)
    assert back == run
    data = json.loads(path.read_text())
    assert data["schema_version"] == 1
    assert [c["as_expected"] for c in data["claims"]] == [True, False]
    assert data["claims"][0]["worst_ratio"] == "inf"
    assert back.unexpected == (run.claims[1],)


def test_volatile_fields_are_dropped_for_comparison() -> None:
    a = sample_run()
    b = RunRecord(claims=tuple(ClaimRecord(**{**c.__dict__, "timings": {"numeric_s": 9.0}}) for c in a.claims),
                  seed=3, budget="quick", backend="numpy", timings={"total_s": 7.0})
    assert canonical_json(a) != canonical_json(b)
    assert canonical_json(a, drop_volatile=True) == canonical_json(b, drop_volatile=True)


@pytest.mark.parametrize(
    "text, needle",
    [
        ("{not json", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"schema_version": 99, "claims": []}', "schema_version 99"),
        ('{"schema_version": 1, "seed": 0, "budget": "q", "backend": "numpy"}', "missing field(s) claims"),
        ('{"schema_version": 1, "seed": 0, "budget": "q", "backend": "numpy", "claims": '
         '[{"theorem": "t", "claim": "c", "kind": "k", "statement": "", "latex": "", "verdict": "maybe", '
         '"expected": "pass"}]}', "unknown verdict 'maybe'"),
    ],
)
def test_corrupt_files_name_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "results.json"
    path.write_text(text)
    with pytest.raises(RecordError) as info:
        load_run(path)
    assert needle in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file_is_a_record_error(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="cannot read"):
        load_run(tmp_path / "nope.json")
