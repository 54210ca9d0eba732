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
    group.addoption("--thmcheck-seed", type=_seed, default=0, help="seed of the counterexample search")
    group.addoption("--thmcheck-backend", default="auto", choices=("auto", "numpy", "numba", "cupy"),
                    help="kernel backend (an unavailable explicit choice skips the claims)")
    group.addoption("--thmcheck-out", default=None, metavar="DIR",
                    help="after the session, write DIR/results.json, DIR/report.html and DIR/counterexamples/ "
                         "(as 'thmcheck verify --out DIR') from the claims that ran")


def _seed(text: str) -> int:
    import argparse

    from theorems.outputs import seed_argument

    try:
        return seed_argument(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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

    def result(self, thm: Any, path: Path | None = None) -> list[Any]:
        """The records of ``thm`` (run once).  A collected spec file is in the registry
        (:meth:`add_file`), so replay snippets name it; ``path`` is kept for callers."""
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
    out = session.config.getoption("thmcheck_out")
    if out and not hasattr(session.config, "workerinput"):
        from theorems.outputs import folder_problem

        # Checked before any claim runs, as 'thmcheck verify --out' does.
        why = folder_problem(Path(session.config.invocation_params.dir, out))
        if why:
            raise pytest.UsageError(f"--thmcheck-out {out}: {why}")


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
    from theorems.naming import natural_key

    order = {t: i for i, t in enumerate(nx.lexicographical_topological_sort(graph, key=natural_key))}

    def rank(c: dict[str, Any]) -> tuple[int, int]:
        names = [x["name"] for x in summaries[c["theorem"]]["claims"]]
        return order[c["theorem"]], names.index(c["claim"]) if c["claim"] in names else len(names)

    ordered = sorted(claims.values(), key=rank)
    used = sorted({c["theorem"] for c in ordered}, key=order.__getitem__)
    record = make_record([build_record(ClaimRecord, c, f"{c['theorem']}::{c['claim']}") for c in ordered],
                         [summaries[t] for t in used], problems, seed=config.getoption("thmcheck_seed"),
                         budget=config.getoption("thmcheck_budget"),
                         backend=backend or config.getoption("thmcheck_backend"), total_s=total_s)
    from theorems.outputs import write_run_files

    saved = write_run_files(record, out, write_outputs)
    return {**saved.paths, "fallback_note": saved.fallback_note}


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    paths = config.stash.get(_WRITTEN, None)
    if paths:
        if paths.get("fallback_note"):
            terminalreporter.write_line(f"thmcheck: {paths['fallback_note']}", red=True)
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
                # A second declaration of an id in the file: its own item, failing with the problem.
                yield SpecProblemItem.from_parent(self, name=f"{sid}[THEOREMS[{k}]]",
                                                  message="; ".join(dict.fromkeys(refused.get(sid, []))))
                continue
            seen.add(sid)
            # An installed plugin's file was imported once already, through its entry point: its
            # registered theorem is the one to run (the objects of this second import are not it).
            registered = reg.theorems.get(sid)
            if registered is not None and reg.files.get(sid) == file:
                yield TheoremNode.from_parent(self, name=sid, theorem=registered)
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
        # The message is what pytest's short summary shows after the id: make it say why.
        super().__init__(one_line(record))
        self.record = record


class _Crash:
    """Where and why a claim item failed, in the shape pytest reads for ``--tb=line`` and the short
    summary (``path:lineno: message``; ``message`` after the id)."""

    def __init__(self, path: str, message: str) -> None:
        self.path, self.lineno, self.message = path, 0, message

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ClaimFailureRepr:
    """The failure report of a claim item: the text for the chosen ``--tb`` style, and a crash
    line carrying the whole reason (pytest shortens a plain string to 50 characters)."""

    def __init__(self, text: str, path: str, message: str) -> None:
        self.text = text
        self.reprcrash = _Crash(path, message)
        self.sections: list[tuple[str, str, str]] = []

    def toterminal(self, tw: Any) -> None:
        for line in self.text.splitlines():
            tw.line(line)

    def __str__(self) -> str:
        return self.text


class ClaimItem(pytest.Item):
    def __init__(self, *, theorem: Any, claim: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.theorem = theorem
        self.claim = claim

    def runtest(self) -> None:
        state = _state(self.config)
        if state.backend_error:
            pytest.skip(f"thmcheck backend unavailable: {state.backend_error}")
        record = next(r for r in state.result(self.theorem, self.path) if r.claim == self.claim.name)
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
        from reports.falsifying import is_expected_refutation

        if is_expected_refutation(record):
            # Shown as XFAIL with the refutation as the reason: "20 passed" never hides refutations.
            pytest.xfail(refutation_reason(record))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ClaimMismatch):
            rec = excinfo.value.record
            tb = style or self.config.getoption("tbstyle", "auto")
            # With --tb=line pytest prints the crash line itself; the body stays empty then.
            text = "" if tb in ("line", "no") else describe(rec, compact=tb == "short")
            return ClaimFailureRepr(text, str(self.path), one_line(rec))
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, None, str]:
        # The claim name alone: pytest rewrites dots in a domain that ends the node id as "::",
        # which would print "descent::lemma_2_1_4::..." for an id it then does not accept back.
        return self.path, None, self.claim.name


def one_line(rec: Any) -> str:
    """A failing claim in one line: id, verdict against expectation, and why."""
    from reports.falsifying import verdict_label, violation_summary

    return f"{rec.id}: {verdict_label(rec)}: {violation_summary(rec) or rec.reason}"


def refutation_reason(rec: Any) -> str:
    """The xfail reason of a refutation the spec expected: where it is violated, in one line."""
    from reports.falsifying import violation_summary

    detail = violation_summary(rec)
    return f"refuted as expected: {detail}" if detail else "refuted as expected"


def describe(rec: Any, *, compact: bool = False) -> str:
    """Human-readable account of a claim record (used for failing items): what was expected, why
    the verdict differs, and for a refuted claim its falsifying example."""
    from reports.falsifying import falsifying_lines, verdict_label
    from reports.mathtext import latex_to_unicode

    lines = [
        f"{rec.id}: {verdict_label(rec)}",
        f"  statement: {rec.statement}",
        f"  relation:  {latex_to_unicode(rec.latex)}",
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
        lines.append("  falsifying example:")
        lines += ["    " + ln for ln in falsifying_lines(rec, compact=compact)[1:]]
    for inh in rec.inherited:
        lines.append(f"  rests on {inh['theorem']}::{inh['claim']} whose verdict is {inh['verdict']}")
    return "\n".join(lines)
