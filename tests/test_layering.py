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
    # registry.py loads the class/dynamics plugins before validating specs (one call into numeric).
    assert names and set(names) <= {"pipeline.py", "validate.py", "registry.py"}, names


# --------------------------------------------------------------------------------------------------
# Inside numeric/: contracts <- registry <- engine; families implement the contracts and are reached
# only through the registry (entry points), never imported by the engine.
# --------------------------------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every project module ``path`` imports (function-level imports included), resolved to dotted
    names; ``from pkg import name`` counts as importing ``pkg.name`` when that is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    me = _module_name(path).split(".")
    package = me if path.name == "__init__.py" else me[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] in PROJECT)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            if mod.split(".")[0] not in PROJECT:
                continue
            for a in node.names:
                sub = f"{mod}.{a.name}"
                as_module = ROOT.joinpath(*sub.split(".")).with_suffix(".py")
                as_package = ROOT.joinpath(*sub.split("."), "__init__.py")
                out.add(sub if as_module.exists() or as_package.exists() else mod)
    return out


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for pkg in sorted(PROJECT) for p in modules(pkg)}


def test_no_import_cycles() -> None:
    import networkx as nx

    g = nx.DiGraph()
    for mod, deps in _graph().items():
        for dep in deps:
            # A package's __init__ re-exporting its own modules is not a cycle of the design.
            if dep != mod and not dep.startswith(mod + ".") and not mod.startswith(dep + "."):
                g.add_edge(mod, dep)
    cycles = sorted(nx.simple_cycles(g), key=len)[:5]
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c + c[:1]) for c in cycles)


def test_numeric_engine_never_imports_a_family() -> None:
    offences = [f"{mod} imports {dep}" for mod, deps in _graph().items() if mod.startswith("numeric.engine")
                or mod in ("numeric.api", "numeric.registry") for dep in deps if dep.startswith("numeric.families")]
    assert not offences, "\n".join(offences)


def test_families_use_only_the_public_contracts() -> None:
    """A built-in family imports numeric.api (and sibling families), like any plugin: never the
    engine or the registry."""
    offences = [f"{mod} imports {dep}" for mod, deps in _graph().items() if mod.startswith("numeric.families")
                for dep in deps if dep.startswith(("numeric.engine", "numeric.registry"))]
    assert not offences, "\n".join(offences)


def test_the_api_module_imports_nothing_from_the_project() -> None:
    assert _imports(ROOT / "numeric" / "api.py") == set()


@pytest.mark.parametrize("package", ["numeric", "kernels"])
def test_no_module_is_over_about_500_lines(package: str) -> None:
    """~500 lines per module (a hard limit of 550), so no module mixes stages."""
    long = [f"{p.relative_to(ROOT)}: {n} lines" for p in modules(package)
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 550]
    assert not long, "\n".join(long)
