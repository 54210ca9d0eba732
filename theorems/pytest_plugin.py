"""pytest plugin (registered under ``pytest11``): ``pytest theorems/`` collects one item per claim.

A spec file is a ``.py`` file with a module-level ``THEOREMS`` list.  Each theorem becomes a
collector named by its id and each claim an item, so node ids read
``theorems/catalogue/descent.py::descent.lemma_2_1_4::descent_inequality`` and ``-k`` works on
theorem ids and claim names.  An item passes when the claim's verdict is the one the spec expects
(for a claim *as printed* and known wrong, that is ``fail`` with a confirmed counterexample).

With ``--thmcheck-out DIR`` the session also writes ``DIR/results.json``, ``DIR/report.html`` and
``DIR/counterexamples/`` from the records of the claim items that ran (the files ``thmcheck verify
--out DIR`` writes, by the same functions).  Under pytest-xdist each worker sends its records to the
controller (``workeroutput``), which writes the files once.

This module imports only pytest and the standard library at import time: SymPy, numba and the
pipeline load when the first spec file is collected.
"""

from __future__ import annotations

import json
import re
import time
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
    group.addoption("--thmcheck-out", default=None, metavar="DIR",
                    help="after the session, write DIR/results.json, DIR/report.html and DIR/counterexamples/ "
                         "(as 'thmcheck verify --out DIR') from the claims that ran")


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
        from theorems.registry import build_registry, installed_sources

        self.config = config
        # The same registry validation as ``thmcheck verify``: spec files collected here are added
        # to the installed sources and the whole registry is rebuilt (only the new specs are
        # validated again), so duplicate, re-declared built-in, unknown or cyclic ids are
        # collection errors just as they are problems on the command line.
        self.sources, self.base_problems, self.providers = installed_sources()
        self.registry = build_registry(self.sources, self.base_problems, self.providers)
        self.records: dict[str, list[Any]] = {}
        # For --thmcheck-out: the records of the claim items that ran, their theorems' summaries
        # and the malformed specs met in collection.
        self.emitted: dict[str, Any] = {}
        self.summaries: dict[str, dict[str, Any]] = {}
        self.backend: str | None = None
        self.backend_error: str | None = None
        try:
            import kernels

            self.backend = kernels.backend.check_request(config.getoption("thmcheck_backend"))
        except Exception as exc:  # BackendUnavailable: the claims are skipped with this reason
            self.backend_error = str(exc)

    def add_file(self, path: Path, specs: list[Any]) -> tuple[str, Any]:
        """Add a collected spec file's specs to the registry (unless it is an installed plugin's
        file, already in it); returns the source name its specs are registered under and the
        registry."""
        from theorems.registry import build_registry

        file = str(path.resolve())
        for label, f, _ in self.sources:
            if f == file:
                return label, self.registry
        label = str(path)
        self.sources = [*self.sources, (label, file, specs)]
        self.providers[label] = {"source": label, "file": file}
        self.registry = build_registry(self.sources, self.base_problems, self.providers,
                                       prevalidated=list(self.registry.theorems.values()))
        return label, self.registry

    def lookup(self, lemma: str, claim: str) -> Any:
        return self.registry.lookup(lemma, claim)

    def result(self, thm: Any) -> list[Any]:
        if thm.id not in self.records:
            import numeric
            from theorems.pipeline import run_theorem
            from theorems.runner import error_records

            budget = numeric.budget(self.config.getoption("thmcheck_budget"))
            seed = self.config.getoption("thmcheck_seed")
            try:
                self.records[thm.id] = run_theorem(thm, budget=budget, seed=seed, backend=self.backend,
                                                   lookup=self.lookup, lemma_records=self.records,
                                                   source=self.registry.replay_source(thm.id))
            except Exception as exc:
                self.records[thm.id] = error_records(thm, f"the run raised {type(exc).__name__}: {exc}",
                                                     seed=seed, budget=budget.name, backend=str(self.backend))
        return self.records[thm.id]

    def emit(self, thm: Any, record: Any) -> None:
        if not self.config.getoption("thmcheck_out"):
            return
        if thm.id not in self.summaries:
            from theorems.pipeline import theorem_summary

            self.summaries[thm.id] = {**theorem_summary(thm),
                                      "provided_by": self.registry.providers.get(thm.id, {})}
        self.emitted.setdefault(record.id, record)

    def payload(self) -> dict[str, Any]:
        """What this process contributes to the results file, as JSON-able data."""
        from dataclasses import asdict

        from reports.records import json_safe

        return {
            "claims": [json_safe(asdict(r)) for r in self.emitted.values()],
            "theorems": json_safe(self.summaries),
            "problems": [p.as_dict() for p in self.registry.problems],
            "backend": self.backend,
        }


_STATE = pytest.StashKey["_State"]()


def _state(config: pytest.Config) -> _State:
    if _STATE not in config.stash:
        config.stash[_STATE] = _State(config)
    return config.stash[_STATE]


_PAYLOADS = pytest.StashKey["list[dict[str, Any]]"]()
_STARTED = pytest.StashKey[float]()
_WRITTEN = pytest.StashKey["dict[str, Any]"]()


def _load_module(path: Path) -> Any:
    from theorems.registry import import_spec_file

    return import_spec_file(path)


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_STARTED] = time.perf_counter()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: keep what a finished worker sends for the results file."""
    data = (getattr(node, "workeroutput", None) or {}).get("thmcheck")
    if data:
        node.config.stash.setdefault(_PAYLOADS, []).append(json.loads(data))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    out = config.getoption("thmcheck_out")
    if not out:
        return
    mine = config.stash[_STATE].payload() if _STATE in config.stash else None
    if hasattr(config, "workeroutput"):  # an xdist worker: the controller writes the files
        if mine:
            config.workeroutput["thmcheck"] = json.dumps(mine)
        return
    payloads = ([mine] if mine else []) + config.stash.get(_PAYLOADS, [])
    started = config.stash.get(_STARTED, time.perf_counter())
    config.stash[_WRITTEN] = _write_outputs(config, Path(config.invocation_params.dir, out), payloads,
                                            time.perf_counter() - started)


def _write_outputs(config: pytest.Config, out: Path, payloads: list[dict[str, Any]], total_s: float) -> dict[str, Any]:
    """One run record from the payloads (claims in run order: lemmas first, then by id, as
    ``thmcheck verify`` orders them), written by the functions ``thmcheck verify`` uses."""
    import networkx as nx

    from reports.records import ClaimRecord, build_record
    from theorems.runner import make_record, write_outputs

    claims: dict[str, dict[str, Any]] = {}
    summaries: dict[str, dict[str, Any]] = {}
    problems: list[dict[str, str]] = []
    backend = None
    for p in payloads:
        for c in p["claims"]:
            claims.setdefault(f"{c['theorem']}::{c['claim']}", c)
        for tid, summary in p["theorems"].items():
            summaries.setdefault(tid, summary)
        problems += [q for q in p["problems"] if q not in problems]
        backend = backend or p["backend"]
    graph = nx.DiGraph()
    graph.add_nodes_from(summaries)
    graph.add_edges_from((d, t) for t, s in summaries.items() for d in s["depends_on"] if d in summaries)
    order = {t: i for i, t in enumerate(nx.lexicographical_topological_sort(graph))}

    def rank(c: dict[str, Any]) -> tuple[int, int]:
        names = [x["name"] for x in summaries[c["theorem"]]["claims"]]
        return order[c["theorem"]], names.index(c["claim"]) if c["claim"] in names else len(names)

    ordered = sorted(claims.values(), key=rank)
    used = sorted({c["theorem"] for c in ordered}, key=order.__getitem__)
    record = make_record([build_record(ClaimRecord, c, f"{c['theorem']}::{c['claim']}") for c in ordered],
                         [summaries[t] for t in used], problems, seed=config.getoption("thmcheck_seed"),
                         budget=config.getoption("thmcheck_budget"),
                         backend=backend or config.getoption("thmcheck_backend"), total_s=total_s)
    return write_outputs(record, out)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    paths = config.stash.get(_WRITTEN, None)
    if paths:
        terminalreporter.write_line(f"thmcheck results written to {paths['results']}")
        for path in paths["counterexamples"]:
            terminalreporter.write_line(f"thmcheck counterexample written to {path}")
        terminalreporter.write_line(f"thmcheck report written to {paths['report']}")


class SpecFile(pytest.File):
    """A file of theorem specs."""

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        from theorems.registry import specs_of

        state = _state(self.config)
        specs = list(specs_of(_load_module(self.path)))
        label, reg = state.add_file(self.path, specs)
        file = str(self.path.resolve())
        refused: dict[str, list[str]] = {}
        for source, sid, problem in reg.refused:
            if source == label:
                refused.setdefault(sid, []).append(str(problem))
        seen: set[str] = set()
        for k, spec in enumerate(specs):
            sid = getattr(spec, "id", None)
            sid = sid if isinstance(sid, str) and sid else f"<{label}>[{k}]"
            if sid in seen:
                continue
            seen.add(sid)
            if reg.theorems.get(sid) is spec and reg.files.get(sid) == file:
                yield TheoremNode.from_parent(self, name=sid, theorem=spec)
                continue
            # Refused at declaration (malformed, a duplicate, a built-in's id) or removed by the
            # lemma graph (unknown, cyclic, resting on a refused theorem): the problems name it.
            lines = refused.get(sid) or [str(p) for p in reg.problems if p.source == sid]
            message = "; ".join(dict.fromkeys(lines)) or f"{sid}: not loaded"
            yield SpecProblemItem.from_parent(self, name=sid, message=message)


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
        state.emit(self.theorem, record)
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
