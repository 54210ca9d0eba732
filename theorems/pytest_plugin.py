"""pytest plugin (registered under ``pytest11``): ``pytest theorems/`` collects one item per claim.

A spec file is a ``.py`` file with a module-level ``THEOREMS`` list.  Each theorem becomes a
collector named by its id and each claim an item, so node ids read
``theorems/catalogue/descent.py::descent.lemma_2_1_4::descent_inequality`` and ``-k`` works on
theorem ids and claim names.  An item passes when the claim's verdict is the one the spec expects
(for a claim *as printed* and known wrong, that is ``fail`` with a confirmed counterexample).

This module imports only pytest and the standard library at import time: SymPy, numba and the
pipeline load when the first spec file is collected.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

_SPEC_MARK = re.compile(r"^THEOREMS\s*[:=]", re.MULTILINE)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("thmcheck", "theorem checking")
    group.addoption("--thmcheck-budget", default="quick", choices=("quick", "default", "thorough"),
                    help="search budget for theorem claims (default: quick)")
    group.addoption("--thmcheck-seed", type=int, default=0, help="seed of the counterexample search")
    group.addoption("--thmcheck-backend", default="auto", choices=("auto", "numpy", "numba", "cupy"),
                    help="kernel backend (an unavailable explicit choice skips the claims)")


def _is_spec_file(path: Path) -> bool:
    if path.suffix != ".py" or path.name.startswith(("test_", "conftest")) or path.name == "__init__.py":
        return False
    try:
        return bool(_SPEC_MARK.search(path.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return False


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _is_spec_file(file_path):
        return SpecFile.from_parent(parent, path=file_path)
    return None


class _State:
    """Per-session cache: the installed registry and each theorem's records (run once, shared by
    its claim items)."""

    def __init__(self, config: pytest.Config) -> None:
        from theorems.registry import load_registry

        self.config = config
        self.registry = load_registry()
        self.local: dict[str, Any] = {}
        self.records: dict[str, list[Any]] = {}
        self.backend: str | None = None
        self.backend_error: str | None = None
        try:
            import kernels

            self.backend = kernels.resolve_backend(config.getoption("thmcheck_backend"))
        except Exception as exc:  # BackendUnavailable: the claims are skipped with this reason
            self.backend_error = str(exc)

    def lookup(self, lemma: str, claim: str) -> Any:
        if lemma in self.registry.theorems:
            return self.registry.lookup(lemma, claim)
        if lemma in self.local:
            from theorems.registry import build_registry

            return build_registry([("local", "", [self.local[lemma]])]).lookup(lemma, claim)
        raise KeyError(f"unknown lemma {lemma!r}")

    def result(self, thm: Any) -> list[Any]:
        if thm.id not in self.records:
            import numeric
            from theorems.pipeline import run_theorem
            from theorems.runner import error_records

            budget = numeric.budget(self.config.getoption("thmcheck_budget"))
            seed = self.config.getoption("thmcheck_seed")
            try:
                self.records[thm.id] = run_theorem(thm, budget=budget, seed=seed, backend=self.backend,
                                                   lookup=self.lookup, lemma_records=self.records)
            except Exception as exc:
                self.records[thm.id] = error_records(thm, f"the run raised {type(exc).__name__}: {exc}",
                                                     seed=seed, budget=budget.name, backend=str(self.backend))
        return self.records[thm.id]


_STATE = pytest.StashKey["_State"]()


def _state(config: pytest.Config) -> _State:
    if _STATE not in config.stash:
        config.stash[_STATE] = _State(config)
    return config.stash[_STATE]


def _load_module(path: Path) -> Any:
    name = "thmcheck_specs_" + re.sub(r"\W", "_", str(path.resolve()))
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class SpecFile(pytest.File):
    """A file of theorem specs."""

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        from theorems.registry import specs_of
        from theorems.spec import SpecError
        from theorems.validate import validate

        state = _state(self.config)
        specs = list(specs_of(_load_module(self.path)))
        for spec in specs:
            try:
                thm = validate(spec)
            except SpecError as exc:
                yield SpecProblemItem.from_parent(self, name=str(exc.spec_id), message=str(exc))
                continue
            reg_thm = state.registry.theorems.get(thm.id)
            if reg_thm is None:
                state.local[thm.id] = thm
            yield TheoremNode.from_parent(self, name=thm.id, theorem=thm)


class SpecProblemItem(pytest.Item):
    """Stands for a malformed spec: fails with the validation message."""

    def __init__(self, *, message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message

    def runtest(self) -> None:
        raise SpecProblem(self.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, SpecProblem):
            return f"malformed theorem spec: {excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, None, str]:
        return self.path, None, f"spec {self.name}"


class SpecProblem(Exception):
    pass


class TheoremNode(pytest.Collector):
    """One theorem; its children are the claims."""

    def __init__(self, *, theorem: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.theorem = theorem

    def collect(self) -> Iterator[pytest.Item]:
        for claim in self.theorem.claims:
            yield ClaimItem.from_parent(self, name=claim.name, theorem=self.theorem, claim=claim)


class ClaimMismatch(Exception):
    """The claim's verdict differs from the one its spec expects."""

    def __init__(self, record: Any) -> None:
        super().__init__(record.id)
        self.record = record


class ClaimItem(pytest.Item):
    def __init__(self, *, theorem: Any, claim: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.theorem = theorem
        self.claim = claim

    def runtest(self) -> None:
        state = _state(self.config)
        if state.backend_error:
            pytest.skip(f"thmcheck backend unavailable: {state.backend_error}")
        record = next(r for r in state.result(self.theorem) if r.claim == self.claim.name)
        self.user_properties += [
            ("verdict", record.verdict),
            ("expected", record.expected),
            ("worst_ratio", "" if record.worst_ratio is None else repr(record.worst_ratio)),
            ("instances", str(record.instances)),
            ("seed", str(record.seed)),
            ("backend", record.backend),
        ]
        w = record.probability.get("worst") if record.probability else None
        if w:
            self.user_properties += [
                ("trials", str(w["trials"])), ("successes", str(w["successes"])),
                ("interval", f"[{w['lower']!r}, {w['upper']!r}]"), ("confidence", repr(record.probability["confidence"])),
            ]
        if record.scaling:
            sc = record.scaling
            self.user_properties += [
                ("model", sc["model"]), ("exponent", repr(sc["exponent"])),
                ("interval", f"[{sc['lower']!r}, {sc['upper']!r}]"), ("confidence", repr(sc["confidence"])),
            ]
        if not record.as_expected:
            raise ClaimMismatch(record)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ClaimMismatch):
            return describe(excinfo.value.record)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, None, str]:
        return self.path, None, f"{self.theorem.id}::{self.claim.name}"


def describe(rec: Any) -> str:
    """Human-readable account of a claim record (used for failing items)."""
    lines = [
        f"{rec.id}: verdict {rec.verdict.upper()}, expected {rec.expected.upper()}",
        f"  statement: {rec.statement}",
        f"  relation:  {rec.latex}",
        f"  why:       {rec.reason}",
        f"  searched:  {rec.instances} instances (budget {rec.budget}, seed {rec.seed}, backend {rec.backend})",
    ]
    if rec.worst_ratio is not None:
        lines.append(f"  worst observed/bound ratio: {rec.worst_ratio:.6g}")
    for d in rec.derivations:
        if not d.as_expected:
            lines.append(f"  derivation {d.name}: {d.status} (expected {d.expected_status}) {d.detail}")
            for s in d.steps:
                lines.append(f"    step {s.index} {s.rel} {s.expr}: {s.status} [{s.method}] {s.detail}")
    if rec.counterexample is not None:
        inst = rec.counterexample.instance
        lines.append(f"  counterexample ({inst.family}, {inst.dynamics}, step {inst.step}): observed {inst.observed!r}, "
                     f"bound {inst.bound!r}; violation {rec.counterexample.confirmed_violation!r} confirmed in "
                     f"{rec.counterexample.confirmed_precision}")
        lines.append("  replay:")
        lines += ["    " + ln for ln in rec.counterexample.replay.splitlines()]
    for inh in rec.inherited:
        lines.append(f"  rests on {inh['theorem']}::{inh['claim']} whose verdict is {inh['verdict']}")
    return "\n".join(lines)
