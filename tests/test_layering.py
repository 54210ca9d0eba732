"""The layering rules of DESIGN.md, enforced by reading every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = {"theorems", "symbolic", "numeric", "kernels", "reports"}

# package -> (project packages it may import, third-party modules it must never import)
RULES = {
    "kernels": (set(), {"sympy", "hypothesis"}),
    "symbolic": (set(), {"hypothesis"}),
    "numeric": ({"kernels"}, {"sympy", "z3"}),
    "reports": (set(), {"sympy", "numba", "cupy", "z3", "hypothesis"}),
    "theorems": (PROJECT - {"theorems"}, set()),
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_imports_follow_the_layering(package: str) -> None:
    allowed, forbidden = RULES[package]
    files = modules(package)
    assert files, f"package {package} has no modules"
    offences = []
    for path in files:
        roots = imported_roots(path)
        for bad in sorted((roots & PROJECT) - allowed - {package}):
            offences.append(f"{path.relative_to(ROOT)} imports project package {bad!r}")
        for bad in sorted(roots & forbidden):
            offences.append(f"{path.relative_to(ROOT)} imports {bad!r}")
    assert not offences, "\n".join(offences)


def test_the_rule_checker_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "mod.py"
    bad.write_text("import numpy\nfrom theorems.spec import Theorem\nimport sympy as sp\n")
    assert imported_roots(bad) == {"numpy", "theorems", "sympy"}


def test_only_the_pipeline_wires_symbolic_to_numeric() -> None:
    """Outside theorems/, no module reaches two stages; inside, the wiring lives in few modules."""
    wiring = [p for p in modules("theorems") if {"symbolic", "numeric"} <= imported_roots(p)]
    names = sorted(p.name for p in wiring)
    assert names and set(names) <= {"pipeline.py", "validate.py"}, names
