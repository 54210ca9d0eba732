"""Bad-input suite (issue 17), registry trust: plugins that impersonate built-ins, clash with each
other, or ship malformed entries; and the same checks under pytest.

Plugins are throw-away distributions (a ``.dist-info`` with entry points) in a temporary folder
put on ``sys.path`` (in-process) or ``PYTHONPATH`` (pytest in a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from theorems.registry import Registry, load_registry

from .bad_inputs import HEADER, assert_one_line, make_dist

IMPOSTOR = HEADER + """
THEOREMS = [replace(BASE, title="an impostor")]
"""
ALPHA = HEADER + """
THEOREMS = [replace(BASE, id="shared.bound", title="alpha's")]
"""
BETA = HEADER + """
THEOREMS = [replace(BASE, id="shared.bound", title="beta's")]
"""
MIXED = HEADER + """
good = replace(BASE, id="mixed.good")
bad_sym = replace(BASE, id="mixed.bad_sym", symbols=BASE.symbols[:5] + (Sym(42),) + BASE.symbols[5:])
bad_step = replace(BASE, id="mixed.bad_step",
                   derivations=(Derivation("one_step_bound", D.f0 - D.f1, (Step("=<", D.f0 - D.f1),)),))
on_refused = replace(BASE, id="mixed.on_refused", depends_on=("mixed.bad_sym",))
on_on_refused = replace(BASE, id="mixed.on_on_refused", depends_on=("mixed.on_refused",))
cycle_a = replace(BASE, id="mixed.cycle_a", depends_on=("mixed.cycle_b",))
cycle_b = replace(BASE, id="mixed.cycle_b", depends_on=("mixed.cycle_a",))
unknown_dep = replace(BASE, id="mixed.unknown_dep", depends_on=("mixed.nowhere",))
twice = replace(BASE, id="mixed.twice")
THEOREMS = [42, good, bad_sym, bad_step, on_refused, on_on_refused, cycle_a, cycle_b, unknown_dep, twice, twice]
"""
BROKEN = "import no_such_module_anywhere\n"


@pytest.fixture(scope="module")
def plugin_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plugins")
    make_dist(root, "impostor-dist", "6.6.6", {"impostor": "impostor_specs"}, {"impostor_specs": IMPOSTOR})
    make_dist(root, "alpha-dist", "1.0", {"alpha": "alpha_specs"}, {"alpha_specs": ALPHA})
    make_dist(root, "beta-dist", "2.0", {"beta": "beta_specs"}, {"beta_specs": BETA})
    make_dist(root, "mixed-dist", "0.3", {"mixed": "mixed_specs"}, {"mixed_specs": MIXED})
    make_dist(root, "broken-dist", "0.1", {"broken": "broken_specs"}, {"broken_specs": BROKEN})
    return root


@pytest.fixture(scope="module")
def registry(plugin_root: Path) -> Any:
    sys.path.insert(0, str(plugin_root))
    try:
        yield load_registry()
    finally:
        sys.path.remove(str(plugin_root))
        for name in ("impostor_specs", "alpha_specs", "beta_specs", "mixed_specs", "broken_specs"):
            sys.modules.pop(name, None)


def _problems(reg: Registry) -> str:
    return "\n".join(str(p) for p in reg.problems)


# (case, fragments that one problem line must carry)
PROBLEMS = [
    ("impostor_refused_naming_plugin_and_id",
     ("plugin impostor", "entry point impostor = impostor_specs", "distribution impostor-dist 6.6.6",
      "'descent.quadratic_upper_bound'", "built-in theorem of thmcheck", "refused")),
    ("duplicate_across_plugins_names_both",
     ("shared.bound", "plugin alpha", "alpha-dist 1.0", "plugin beta", "beta-dist 2.0", "both are refused")),
    ("theorems_entry_not_a_theorem_names_plugin", ("plugin mixed", "mixed-dist", "THEOREMS[0]", "expected a Theorem")),
    ("sym_type_error_names_field", ("mixed.bad_sym", "symbols[5].name", "must be a string")),
    ("step_type_error_names_field", ("mixed.bad_step", "derivations[0].steps[0].rel", "must be one of")),
    ("dependent_of_refused_reported", ("mixed.on_refused", "depends_on", "'mixed.bad_sym'", "refused")),
    ("transitive_dependent_reported", ("mixed.on_on_refused", "depends_on", "'mixed.bad_sym'", "refused")),
    ("cycle_reported", ("mixed.cycle_a", "cyclic dependency")),
    ("unknown_dependency_reported", ("mixed.unknown_dep", "unknown theorem id 'mixed.nowhere'")),
    ("duplicate_in_one_plugin", ("plugin mixed", "'mixed.twice'", "declared twice")),
    ("plugin_that_does_not_import", ("plugin broken", "broken-dist", "import", "no_such_module_anywhere")),
]


@pytest.mark.parametrize("fragments", [p[1] for p in PROBLEMS], ids=[p[0] for p in PROBLEMS])
def test_each_registry_problem_is_one_line_naming_source_and_field(registry: Any, fragments: tuple[str, ...]) -> None:
    assert_one_line(_problems(registry), *fragments)


def test_the_builtin_stays_and_names_its_distribution(registry: Any) -> None:
    thm = registry.theorems["descent.quadratic_upper_bound"]
    assert thm.title != "an impostor"
    prov = registry.providers["descent.quadratic_upper_bound"]
    assert prov["distribution"] == "thmcheck" and prov["version"] and "descent" in prov["entry_point"]


def test_refused_theorems_do_not_run_and_the_others_do(registry: Any) -> None:
    assert "mixed.good" in registry.order and registry.providers["mixed.good"]["distribution"] == "mixed-dist"
    assert registry.providers["mixed.good"]["version"] == "0.3"
    for gone in ("shared.bound", "mixed.bad_sym", "mixed.bad_step", "mixed.on_refused", "mixed.on_on_refused",
                 "mixed.cycle_a", "mixed.cycle_b", "mixed.unknown_dep"):
        assert gone not in registry.order, gone
    assert "mixed.twice" in registry.order  # the first declaration stays


def test_records_name_the_distribution_that_provided_each_theorem(registry: Any) -> None:
    """Each theorem summary in a run record says which distribution (and version) provided it.
    The theorems' claims are handed over as already run (``prior``), so nothing is searched."""
    from theorems.runner import run

    picked = [registry.theorems["descent.quadratic_upper_bound"], registry.theorems["mixed.good"]]
    rec = run(registry, picked, budget="quick", seed=0, backend="numpy", prior={t.id: [] for t in picked})
    by_id = {s["id"]: s["provided_by"] for s in rec.theorems}
    assert by_id["descent.quadratic_upper_bound"]["distribution"] == "thmcheck"
    assert by_id["mixed.good"] == {"distribution": "mixed-dist", "version": "0.3",
                                   "entry_point": "mixed = mixed_specs"}


PYTEST_SPECS = HEADER + """
THEOREMS = [
    replace(BASE, title="redeclared in a pytest file"),
    replace(BASE, id="user.cycle_a", depends_on=("user.cycle_b",)),
    replace(BASE, id="user.cycle_b", depends_on=("user.cycle_a",)),
    replace(BASE, id="user.unknown_dep", depends_on=("user.nowhere",)),
    replace(BASE, id="user.dup"),
    replace(BASE, id="user.dup"),
    replace(BASE, id="user.bad_sym", symbols=BASE.symbols[:5] + (Sym(42),) + BASE.symbols[5:]),
    replace(BASE, id="user.on_bad", depends_on=("user.bad_sym",)),
]
"""


@pytest.fixture(scope="module")
def pytest_run(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """One pytest session over a spec file holding only bad specs (nothing is searched)."""
    folder = tmp_path_factory.mktemp("pytest_specs")
    (folder / "user_specs.py").write_text(PYTEST_SPECS, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", "-rf",
                           "--thmcheck-backend=numpy", str(folder / "user_specs.py")],
                          cwd=folder, capture_output=True, text=True, env=env, timeout=300)


PYTEST_CASES = [
    ("redeclared_builtin", ("descent.quadratic_upper_bound", "built-in theorem of thmcheck")),
    ("cycle", ("user.cycle_a", "cyclic dependency")),
    ("unknown_dependency", ("user.unknown_dep", "unknown theorem id 'user.nowhere'")),
    ("duplicate_id", ("user.dup", "declared twice")),
    ("malformed_field", ("user.bad_sym", "symbols[5].name")),
    ("depends_on_refused", ("user.on_bad", "'user.bad_sym'", "refused")),
]


@pytest.mark.parametrize("fragments", [c[1] for c in PYTEST_CASES], ids=[c[0] for c in PYTEST_CASES])
def test_pytest_applies_the_registry_validation(pytest_run: subprocess.CompletedProcess[str],
                                                fragments: tuple[str, ...]) -> None:
    out = pytest_run.stdout + pytest_run.stderr
    assert pytest_run.returncode == 1, out
    assert_one_line(out, "malformed theorem spec", *fragments)
    # Only the first declaration of user.dup runs (as on the command line); nothing refused ran.
    assert "7 failed, 1 passed" in out and "user_specs.py::user.dup::one_step_bound PASSED" not in out, out
