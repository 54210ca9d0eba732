"""Counterexample files: `verify --out DIR` writes DIR/counterexamples/<theorem>__<claim>.json and
`thmcheck replay FILE` reruns one, printing both sides and whether the violation reproduces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reports.counterexamples import FORMAT, is_counterexample_file, load_counterexample
from reports.records import load_run
from theorems import cli, cli_common
from theorems.registry import build_registry

from .quality.variants_descent import VARIANTS

CLAIM = "quality.descent_factor_one::false_claim"


@pytest.fixture(scope="module")
def verified(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run (quick budget) of a descent-family false variant and a true lemma."""
    registry = build_registry([("quality", "", VARIANTS)])
    out = tmp_path_factory.mktemp("verify")
    mp = pytest.MonkeyPatch()
    mp.setattr(cli_common, "registry", lambda: registry)
    try:
        assert cli.main(["verify", "quality.descent_factor_one", "--budget", "quick", "--out", str(out), "--quiet",
                         "--backend", "numpy"]) == 0
    finally:
        mp.undo()
    return out


@pytest.fixture
def variants_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = build_registry([("quality", "", VARIANTS)])
    monkeypatch.setattr(cli_common, "registry", lambda: registry)


def test_verify_writes_one_self_contained_file_per_counterexample(verified: Path) -> None:
    run = load_run(verified / "results.json")
    with_cex = [c for c in run.claims if c.counterexample is not None]
    files = sorted((verified / "counterexamples").glob("*.json"))
    assert [f.name for f in files] == sorted(f"{c.theorem}__{c.claim}.json" for c in with_cex) != []
    data = json.loads(files[0].read_text())
    assert data["format"] == FORMAT and data["id"] == CLAIM
    assert {"instance", "replay", "seed", "budget", "backend", "violation", "confirmed_violation",
            "statement", "latex"} <= data.keys()
    assert data["budget"] == "quick" and data["backend"] == "numpy" and data["seed"] == 0
    assert "replay_recorded" in data["replay"] and data["instance"]["data"]["w0"]
    # What the file holds is exactly what results.json holds for that claim.
    rec = load_counterexample(files[0])
    assert rec.counterexample == with_cex[0].counterexample
    assert is_counterexample_file(files[0]) and not is_counterexample_file(verified / "results.json")


def test_replay_of_a_counterexample_file_reproduces_it(verified: Path, variants_registry: None,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = verified / "counterexamples" / "quality.descent_factor_one__false_claim.json"
    assert cli.main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    assert CLAIM in out
    assert "recorded:  observed" in out and "bound" in out  # both sides of the inequality
    precision = json.loads(path.read_text())["confirmed_precision"]  # e.g. float128 (numpy's longdouble)
    assert "replayed:  violated by" in out and f"({precision}, allowance" in out and "reproduced" in out
    assert "NOT reproduced" not in out
    # The results file still replays as before.
    assert cli.main(["replay", str(verified / "results.json")]) == 0
    assert f"{CLAIM}: reproduced" in capsys.readouterr().out


def test_a_tampered_counterexample_does_not_reproduce(verified: Path, variants_registry: None, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The replay really reruns the instance: a file whose start is moved to the minimiser of its
    quadratic (gradient zero: both sides equal) is reported as not reproduced."""
    data = json.loads((verified / "counterexamples" / "quality.descent_factor_one__false_claim.json").read_text())
    inst = data["instance"]["data"]
    inst["b"] = [0.0] * len(inst["b"])
    inst["w0"] = [0.0] * len(inst["w0"])
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(data))
    code = cli.main(["replay", str(path)])
    out = capsys.readouterr().out
    assert code == 1 and "NOT reproduced" in out, out


@pytest.mark.parametrize("text, message", [
    ('{"format": "thmcheck-counterexample", "schema_version": 1, "theorem": "x"', "not valid JSON"),
    ('{"format": "thmcheck-counterexample", "schema_version": 1, "theorem": "quality.descent_factor_one", '
     '"claim": "false_claim"}', "missing field(s) confirmed_precision, confirmed_violation, instance"),
])
def test_a_corrupt_counterexample_file_is_a_clear_error(tmp_path: Path, text: str, message: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "broken__claim.json"
    bad.write_text(text)
    assert cli.main(["replay", str(bad)]) == 2
    out = capsys.readouterr().out.replace("\n", "")
    assert str(bad) in out and message in out, out


def test_a_counterexample_with_a_broken_instance_names_the_file(verified: Path, variants_registry: None,
                                                                 tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads((verified / "counterexamples" / "quality.descent_factor_one__false_claim.json").read_text())
    del data["instance"]["data"]["w0"]
    bad = tmp_path / "no_w0.json"
    bad.write_text(json.dumps(data))
    assert cli.main(["replay", str(bad)]) == 2
    out = capsys.readouterr().out.replace("\n", "")
    assert str(bad) in out and "malformed instance record" in out, out
