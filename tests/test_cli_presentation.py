"""The terminal and the command line as a reader meets them: layouts at 80 and 120 columns, help
with descriptions and defaults, natural order, verdict labels, and user text never read as markup."""

from __future__ import annotations

import dataclasses
import io

import pytest
from rich.console import Console

from reports.records import ClaimRecord, RunRecord
from reports.terminal import render_run
from theorems import cli
from theorems.naming import natural_key

from .test_reports_html import small_run


@pytest.fixture(scope="module")
def small() -> RunRecord:
    run = small_run()
    # A claim id long enough to be wrapped by a careless table, and spec text with brackets.
    long = dataclasses.replace(run.claims[0], theorem="mine.a_rather_long_theorem_identifier_for_wrapping",
                               claim="one_step_bound_with_a_long_name", reason="see [bold]not markup[/bold] [gpu]")
    return dataclasses.replace(run, claims=run.claims + (long,))


def _render(run: RunRecord, width: int) -> str:
    buf = io.StringIO()
    render_run(run, Console(file=buf, width=width, force_terminal=False, color_system=None), counterexamples="/tmp/cx")
    return buf.getvalue()


@pytest.mark.parametrize("width", [80, 120])
def test_ids_are_never_broken_and_markup_is_text(small: RunRecord, width: int) -> None:
    out = _render(small, width)
    for rec in small.claims:
        assert rec.id in out, (rec.id, out)
    assert "[bold]not" in out and "[/bold]" in out and "[gpu]" in out  # printed, not interpreted
    # No table that would squeeze the reasons beside an 84-character id: one block per claim.
    assert not any("theorem::claim" in ln and "verdict" in ln for ln in out.splitlines())


def test_table_at_120_columns(small: RunRecord) -> None:
    run = dataclasses.replace(small, claims=small.claims[:-1])
    out = _render(run, 120)
    lines = out.splitlines()
    head = next(i for i, ln in enumerate(lines) if "theorem::claim" in ln and "verdict" in ln)
    rows = lines[head:head + 2 * len(run.claims) + 2]
    assert all(len(ln) <= 120 for ln in rows)
    for rec in run.claims:
        assert any(ln.strip().startswith(rec.id + " ") for ln in lines), rec.id
    assert "theorem::claim" not in _render(run, 80)


def test_expected_refutations_are_told_apart(small: RunRecord) -> None:
    out = _render(small, 120)
    refuted = [c for c in small.claims if c.verdict == "fail" and c.as_expected]
    assert refuted, "the small run has a refutation the spec expects"
    assert "refuted as expected" in out and "unexpected" in out.splitlines()[-1]
    assert out.splitlines()[-1].startswith(tuple("0123456789"))
    assert f"{len(refuted)} refuted as expected" in out.splitlines()[-1]
    # An unexpected failure is labelled with what was expected.
    flipped = dataclasses.replace(refuted[0], expected="pass")
    out2 = _render(dataclasses.replace(small, claims=(flipped,)), 120)
    assert "FAIL (expected pass)" in out2 and "refuted as expected" not in out2


def test_verify_help_describes_options_with_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["verify", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for piece in ("search size", "(default: default)", "kernel backend", "(default: auto)", "seed of the search",
                  "(default: 0)", "(default: thmcheck-out)", "plain 'thmcheck:' lines"):
        assert piece in text, piece


def test_natural_order_and_list_filter(capsys: pytest.CaptureFixture[str]) -> None:
    assert sorted(["n10", "n2", "n1", "n5"], key=natural_key) == ["n1", "n2", "n5", "n10"]
    assert cli.main(["list", "pep"]) == 0
    out = capsys.readouterr().out
    pos = [out.index(f"pep.gd_min_grad_n{k} ") for k in (1, 2, 5, 10)]
    assert pos == sorted(pos)
    assert "descent." not in out


def test_claim_record_defaults_keep_old_records_loadable() -> None:
    # New counterexample fields have defaults, so a record written before them still builds.
    fields = {f.name for f in dataclasses.fields(ClaimRecord)}
    assert "counterexample" in fields


def test_refuted_printed_proofs_are_shown(small: RunRecord) -> None:
    from reports.terminal import derivation_lines

    lines = derivation_lines(small)
    assert any(ln.startswith("descent.lemma_2_1_4::descent_inequality: printed proof 'printed_proof' refuted as "
                             "expected at step 0") and "witness" in ln for ln in lines), lines
    assert any("printed proof" in ln for ln in _render(small, 120).splitlines())
