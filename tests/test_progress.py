"""`thmcheck verify` shows a live progress bar over claims on a terminal, plain progress lines when
its output is not a terminal (CI logs), and none with --quiet."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from theorems import cli

IDS = ["descent.lemma_2_1_4", "descent.footnote_3"]


def _verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, terminal: bool, extra: list[str]) -> str:
    buf = io.StringIO()
    monkeypatch.setattr(cli, "Console", lambda **kw: Console(file=buf, force_terminal=terminal, width=200,
                                                             **{k: v for k, v in kw.items() if k != "width"}))
    code = cli.main(["verify", *IDS, "--budget", "quick", "--backend", "numpy", "--out", str(tmp_path), *extra])
    assert code == 0
    return buf.getvalue()


def test_progress_bar_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = _verify(tmp_path, monkeypatch, terminal=True, extra=[])
    assert "claims" in out and "theorem 2/2 descent.footnote_3" in out, out[-2000:]
    assert "descent.lemma_2_1_4: searching" in out  # the claims being searched are named
    assert "\x1b[?25l" in out  # rich hid the cursor to draw the live display


def test_no_progress_when_quiet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = _verify(tmp_path, monkeypatch, terminal=True, extra=["--quiet"])
    assert "searching" not in out and "\x1b[?25l" not in out
    assert "results written to" in out  # the table and paths are still printed


def test_plain_progress_lines_when_not_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI log gets one plain line per theorem started and finished, no live display."""
    out = _verify(tmp_path, monkeypatch, terminal=False, extra=[])
    assert "\x1b[" not in out  # no cursor movement, no colour
    lines = [ln for ln in out.splitlines() if ln.startswith("thmcheck: [")]
    assert lines[0].startswith("thmcheck: [1/2] descent.") and ": searching " in lines[0], lines
    assert lines[-1].startswith("thmcheck: [2/2] descent.") and lines[-1].endswith(": done"), lines
    assert any("descent.lemma_2_1_4: searching descent_inequality" in ln for ln in lines)
    assert "results written to" in out
