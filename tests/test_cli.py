"""The thmcheck command: list, show, verify (determinism, results file, exit codes), replay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import kernels
from reports.records import canonical_json, load_run
from theorems import cli, cli_common
from theorems.registry import build_registry

from .quality.variants_descent import VARIANTS


def test_list_shows_every_claim(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for needle in ("descent.lemma_2_1_4", "descent_inequality", "descent.sgd_step", "average_bound"):
        assert needle in out


def test_show_gives_citation_assumptions_and_derivation(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["show", "descent.lemma_2_1_4"]) == 0
    out = capsys.readouterr().out
    assert "Lemma 2.1.4" in out and "step_size" in out and "derivation proof" in out
    assert "printed_proof (as printed)" in out
    assert "[seed 004, paragraph 336]" in out  # brackets in spec text are not swallowed as markup


def test_unknown_id_and_unavailable_backend_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["show", "no.such"]) == 2
    assert "no theorem matches 'no.such'" in capsys.readouterr().out
    if "cupy" not in kernels.available_backends():
        assert cli.main(["verify", "descent.footnote_3", "--backend", "cupy", "--out", str(tmp_path)]) == 2
        out = capsys.readouterr().out
        assert "backend error" in out
        if "not installed" in out:
            assert "thmcheck[gpu]" in out  # the install hint is not eaten as markup


def test_verify_twice_with_one_seed_gives_identical_records(tmp_path: Path) -> None:
    ids = ["descent.lemma_2_1_4", "descent.sgd_step"]
    for name in ("a", "b"):
        assert cli.main(["verify", *ids, "--budget", "quick", "--seed", "1", "--out", str(tmp_path / name), "--quiet"]) == 0
    a, b = (load_run(tmp_path / n / "results.json") for n in ("a", "b"))
    assert canonical_json(a, drop_volatile=True) == canonical_json(b, drop_volatile=True)
    data = json.loads((tmp_path / "a" / "results.json").read_text())
    assert data["schema_version"] == 1
    for claim in data["claims"]:
        assert {"theorem", "claim", "verdict", "expected", "worst_ratio", "counterexample", "backend", "seed"} <= claim.keys()
        assert claim["seed"] == 1 and claim["verdict"] == "proved"
    c = load_run(tmp_path / "a" / "results.json")
    assert canonical_json(c, drop_volatile=True) != canonical_json(
        _rerun(tmp_path / "c", ids, seed=2), drop_volatile=True)


def _rerun(out: Path, ids: list[str], seed: int):
    cli.main(["verify", *ids, "--budget", "quick", "--seed", str(seed), "--out", str(out), "--quiet"])
    return load_run(out / "results.json")


def test_replay_command_reproduces_a_counterexample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    registry = build_registry([("quality", "", VARIANTS)])
    monkeypatch.setattr(cli_common, "registry", lambda: registry)
    out = tmp_path / "run"
    code = cli.main(["verify", "quality.descent_factor_one", "--budget", "quick", "--out", str(out), "--quiet"])
    assert code == 0  # the variant is expected to fail, and it does
    assert cli.main(["replay", str(out / "results.json")]) == 0
    assert "quality.descent_factor_one::false_claim: reproduced" in capsys.readouterr().out


def test_replay_of_a_corrupt_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "results.json"
    bad.write_text('{"schema_version": 1, "claims": "oops"')
    assert cli.main(["replay", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().out


def test_an_unwritable_out_is_refused_before_any_work(tmp_path, capsys) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert cli.main(["verify", "descent.footnote_3", "--budget", "quick", "--out", str(blocker)]) == 2
    assert "exists and is not a folder" in capsys.readouterr().out
    assert cli.main(["verify", "descent.footnote_3", "--budget", "quick", "--out", str(blocker / "sub")]) == 2


def test_a_negative_seed_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["verify", "descent", "--seed", "-1"])
    assert exc.value.code == 2 and "must be a non-negative integer" in capsys.readouterr().err
