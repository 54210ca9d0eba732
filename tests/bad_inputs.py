"""Helpers of the bad-input suite (issue 17): what every refusal must look like."""

from __future__ import annotations

import textwrap
from pathlib import Path


def assert_one_line(text: str, *fragments: str) -> str:
    """``text`` holds a message naming every fragment on one line and no traceback; returns that
    line."""
    assert "Traceback" not in text, text
    lines = [ln for ln in text.splitlines() if all(f in ln for f in fragments)]
    assert lines, f"no line names all of {fragments!r} in:\n{text}"
    return lines[0]


def make_dist(root: Path, dist: str, version: str, entry_points: dict[str, str], modules: dict[str, str]) -> Path:
    """A throw-away installed distribution under ``root`` (put ``root`` on ``sys.path`` or
    ``PYTHONPATH``): a ``.dist-info`` with ``thmcheck.theorems`` entry points and its modules."""
    info = root / f"{dist}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8")
    lines = "\n".join(f"{name} = {value}" for name, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[thmcheck.theorems]\n{lines}\n", encoding="utf-8")
    for name, source in modules.items():
        (root / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return root


# A spec module's header: the descent catalogue's pieces under new ids.
HEADER = """
from dataclasses import replace
import sympy
from theorems.catalogue import descent as D
from theorems.spec import Step, Sym, Derivation, Algebra
BASE = D.quadratic_upper_bound
"""
