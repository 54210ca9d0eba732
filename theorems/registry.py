"""Theorem discovery and the lemma graph.

Built-in specs and third-party plugins are found the same way: through the entry-point group
``thmcheck.theorems``, whose values are modules (with a ``THEOREMS`` list) or objects (a Theorem or
a list of them).  Spec files and modules named on the command line are added after them.  A
broken plugin or a malformed spec becomes a :class:`Problem` naming its source and field; every
other theorem still runs.  The registry builds the dependency graph with networkx, rejects unknown
ids and cycles, and orders the run so lemmas come before what rests on them.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import sys
import traceback
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable

import networkx as nx

import symbolic

from .naming import natural_key
from .spec import SpecError, Theorem
from .validate import domain_relations, validate

__all__ = ["GROUP", "Problem", "Registry", "load_registry", "build_registry", "specs_of", "import_spec_file",
           "load_error", "provider_of", "installed_sources", "BUILTIN_DIST"]

GROUP = "thmcheck.theorems"
BUILTIN_DIST = "thmcheck"  # the distribution whose theorem ids no plugin may take


@dataclass(frozen=True)
class Problem:
    """Something that kept a spec or plugin from loading."""

    source: str  # spec id, plugin name, or a spec file / module as named on the command line
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.field}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "field": self.field, "message": self.message}


@dataclass
class Registry:
    """Valid theorems in run order, plus the problems met while loading."""

    theorems: dict[str, Theorem] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # theorem id -> defining file
    sources: dict[str, str] = field(default_factory=dict)  # theorem id -> "plugin NAME", module or path as given

    def replay_source(self, theorem: str) -> str | None:
        """Where a replay finds the spec again: None for an installed plugin (found by entry point on
        any machine), else the spec file or module it was loaded from."""
        src = self.sources.get(theorem, "")
        if not src or src.startswith("plugin "):
            return None
        return self.files.get(theorem) or src
    broken: set[str] = field(default_factory=set)  # ids that were declared but rejected
    graph: nx.DiGraph = field(default_factory=nx.DiGraph)
    # theorem id -> what provided it: {"distribution", "version", "entry_point"} for an installed
    # plugin (the built-ins included), {"source", "file"} for a spec file or module.
    providers: dict[str, dict[str, str]] = field(default_factory=dict)
    # (source name, spec id, problem) for every declaration that was refused, so a collector of
    # one source (the pytest plugin) can report exactly its own.
    refused: list[tuple[str, str, Problem]] = field(default_factory=list)

    def ordered(self) -> list[Theorem]:
        return [self.theorems[i] for i in self.order]

    def select(self, ids: Iterable[str]) -> tuple[list[Theorem], dict[str, set[str]]]:
        """Theorems matching ``ids`` (theorem id, family prefix such as ``descent``, or claim id
        ``theorem::claim``), in run order, with the claim names chosen per theorem (empty: all).
        An id that matches nothing raises ``KeyError`` naming it."""
        ids = list(ids)
        if not ids:
            return self.ordered(), {}
        chosen: dict[str, set[str]] = {}
        for raw in ids:
            thm_id, _, claim = raw.partition("::")
            hits = [t for t in self.order if t == thm_id or t.startswith(thm_id + ".")]
            if not hits:
                families = {t.rsplit(".", k)[0] for t in self.order for k in range(1, t.count(".") + 1)}
                raise KeyError(f"no theorem matches {raw!r}{_suggest(thm_id, [*self.order, *families])}; "
                               "see 'thmcheck list'")
            for t in hits:
                if claim:
                    names = [c.name for c in self.theorems[t].claims]
                    if claim not in names:
                        raise KeyError(f"theorem {t!r} has no claim {claim!r}{_suggest(claim, names)}")
                    chosen.setdefault(t, set()).add(claim)
                else:
                    chosen[t] = set()
        order = [t for t in self.order if t in chosen]
        return [self.theorems[t] for t in order], {t: c for t, c in chosen.items() if c}

    def lookup(self, lemma: str, claim: str) -> symbolic.LemmaStatement:
        """A lemma's claim as a statement derivation steps can cite (``ByLemma``)."""
        if lemma not in self.theorems:
            raise KeyError(f"unknown lemma {lemma!r}")
        thm = self.theorems[lemma]
        c = thm.claim(claim)
        rels = tuple(a.relation for a in thm.assumptions) + tuple(a.relation for a in c.assumptions)
        return symbolic.LemmaStatement(
            lemma=lemma, claim=claim, relation=c.relation,
            assumptions=rels + tuple(domain_relations(thm)), symbols=tuple(s.s for s in thm.symbols),
        )


def _suggest(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=3)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def specs_of(obj: Any) -> list[Any]:
    """The specs an entry point or module provides."""
    if isinstance(obj, ModuleType):
        if not hasattr(obj, "THEOREMS"):
            raise AttributeError(f"module {obj.__name__} defines no THEOREMS list")
        obj = obj.THEOREMS
    if isinstance(obj, Theorem):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return list(obj)
    raise TypeError(f"expected a module with THEOREMS, a Theorem or a list of them, got {type(obj).__name__}")


def build_registry(sources: Iterable[tuple[str, str, list[Any]]], problems: Iterable[Problem] = (),
                   providers: dict[str, dict[str, str]] | None = None, *,
                   prevalidated: Iterable[Theorem] = ()) -> Registry:
    """Validate specs from ``(source name, file, specs)`` triples and build the graph.

    ``providers`` maps a source name to what provided it (``distribution``, ``version``,
    ``entry_point``; see :func:`provider_of`).  Sources provided by the ``thmcheck`` distribution
    are built-ins: their ids are never taken by another source, which is refused naming itself
    and the id.  An id declared by two plugins (neither a built-in) is refused in both, naming
    both: which one would win otherwise depends on nothing but the order entry points are read
    in.  A spec file or module named on the command line that redeclares a loaded id is refused
    and the loaded theorem stays.  Specs in ``prevalidated`` (the theorems of a registry built
    moments ago from the same sources) are not validated again."""
    providers = providers or {}
    known_valid = {id(t) for t in prevalidated}
    reg = Registry(problems=list(problems))
    declared_by: dict[str, str] = {}
    contested: dict[str, list[str]] = {}
    for source, file, specs in sources:
        for k, spec in enumerate(specs):
            sid = getattr(spec, "id", None)
            sid = sid if isinstance(sid, str) and sid else f"<{source}>[{k}]"
            try:
                thm = spec if id(spec) in known_valid else validate(spec)
            except SpecError as exc:
                where = exc.spec_id if isinstance(spec, Theorem) else f"{_describe(source, providers)}: THEOREMS[{k}]"
                reg.problems.append(Problem(where, exc.field, exc.message))
                reg.broken.add(str(sid))
                reg.refused.append((source, str(sid), reg.problems[-1]))
                continue
            except Exception as exc:  # a spec whose own construction is broken
                reg.problems.append(Problem(str(sid), "spec", f"{type(exc).__name__}: {exc}"))
                reg.broken.add(str(sid))
                reg.refused.append((source, str(sid), reg.problems[-1]))
                continue
            if thm.id in reg.theorems or thm.id in contested:
                first = declared_by[thm.id]
                if first == source:
                    problem = Problem(_describe(source, providers), "id",
                                      f"theorem id {thm.id!r} is declared twice in it; the second declaration is refused")
                elif _is_builtin(first, providers) or not _is_plugin(source, providers):
                    # A built-in is never replaced, and a file or module named on the command line
                    # (read after every installed plugin) never replaces what is installed.
                    what = "a built-in theorem of thmcheck" if _is_builtin(first, providers) else \
                        f"already declared by {_describe(first, providers)}"
                    problem = Problem(_describe(source, providers), "id",
                                      f"theorem id {thm.id!r} is {what}; this declaration is refused")
                else:
                    both = f"{_describe(first, providers)} and {_describe(source, providers)}"
                    problem = Problem(thm.id, "id", f"declared by both {both}; both are refused")
                    if thm.id in reg.theorems:
                        for table in (reg.theorems, reg.files, reg.sources, reg.providers):
                            table.pop(thm.id, None)
                        reg.refused.append((first, thm.id, problem))
                        contested[thm.id] = [first]
                    contested[thm.id].append(source)
                    reg.broken.add(thm.id)
                reg.problems.append(problem)
                reg.refused.append((source, thm.id, problem))
                continue
            declared_by[thm.id] = source
            reg.theorems[thm.id] = thm
            reg.files[thm.id] = file
            reg.sources[thm.id] = source
            reg.providers[thm.id] = dict(providers.get(source) or {"source": source})
    for thm in list(reg.theorems.values()):
        for c in thm.claims:
            ref = c.corrected_by or ""
            if c.printed and "::" in ref:
                tid, _, claim = ref.partition("::")
                target = reg.theorems.get(tid)
                if target is None or claim not in {x.name for x in target.claims}:
                    reg.problems.append(Problem(thm.id, f"claims.{c.name}.corrected_by",
                                                f"{ref!r} names no claim of a loaded theorem"))
    _link(reg)
    return reg


def _link(reg: Registry) -> None:
    """The lemma graph: unknown and cyclic ``depends_on`` are problems and their theorems are
    removed; so, transitively, is every theorem resting on a removed or refused one (it would
    otherwise run on a lemma nobody checked)."""
    g = nx.DiGraph()
    g.add_nodes_from(reg.theorems)
    rejected: set[str] = set()
    for thm in reg.theorems.values():
        for dep in thm.depends_on:
            if dep not in reg.theorems and dep not in reg.broken:
                reg.problems.append(Problem(thm.id, "depends_on", f"unknown theorem id {dep!r}"))
                rejected.add(thm.id)
            else:
                g.add_edge(dep, thm.id)
    for cycle in sorted(nx.simple_cycles(g), key=lambda c: sorted(c)):
        names = " -> ".join(cycle + [cycle[0]])
        for node in cycle:
            if node in reg.theorems:
                reg.problems.append(Problem(node, "depends_on", f"cyclic dependency: {names}"))
                rejected.add(node)
    removed = rejected | (reg.broken - set(reg.theorems))
    for node in sorted(removed):
        if node not in g:
            continue
        for dependent in sorted(nx.descendants(g, node)):
            if dependent in reg.theorems and dependent not in rejected:
                reg.problems.append(Problem(dependent, "depends_on",
                                            f"rests on {node!r}, which was refused; not run"))
                rejected.add(dependent)
    for node in rejected:
        reg.theorems.pop(node, None)
        reg.broken.add(node)
    g.remove_nodes_from([n for n in list(g) if n not in reg.theorems])
    reg.graph = g
    reg.order = [n for n in nx.lexicographical_topological_sort(g, key=natural_key) if n in reg.theorems]


def _is_builtin(source: str, providers: dict[str, dict[str, str]]) -> bool:
    return (providers.get(source) or {}).get("distribution") == BUILTIN_DIST


def _is_plugin(source: str, providers: dict[str, dict[str, str]]) -> bool:
    return "entry_point" in (providers.get(source) or {})


def _describe(source: str, providers: dict[str, dict[str, str]]) -> str:
    """A source named for a reader: ``plugin NAME (entry point NAME = VALUE, distribution D V)``."""
    prov = providers.get(source)
    if not prov or "entry_point" not in prov:
        return source
    return f"{source} (entry point {prov['entry_point']}, distribution {prov['distribution']} {prov['version']})"


def provider_of(ep: Any) -> dict[str, str]:
    """What an entry point comes from: ``{"distribution", "version", "entry_point"}``."""
    dist = getattr(ep, "dist", None)
    name = str(dist.metadata["Name"]) if dist is not None else "unknown"
    version = str(dist.version) if dist is not None else "unknown"
    return {"distribution": name, "version": version, "entry_point": f"{ep.name} = {ep.value}"}


def _entry_point_sources() -> tuple[list[tuple[str, str, list[Any]]], list[Problem], dict[str, dict[str, str]]]:
    sources, problems = [], []
    providers: dict[str, dict[str, str]] = {}
    # Built-ins first (distribution "thmcheck"), then plugins by distribution and name, so the
    # order of the run and of the problems does not depend on how entry points happen to be listed.
    def order(ep: Any) -> tuple[bool, str, str]:
        name = provider_of(ep)["distribution"]
        return (name != BUILTIN_DIST, name, ep.name)

    for ep in sorted(entry_points(group=GROUP), key=order):
        label = f"plugin {ep.name}"
        prov = provider_of(ep)
        try:
            obj = ep.load()
            specs = specs_of(obj)
        except Exception as exc:  # a broken plugin must not take the others down
            problems.append(Problem(_describe(label, {label: prov}), "import", f"{type(exc).__name__}: {exc}"))
            continue
        file = getattr(obj, "__file__", None) or getattr(sys.modules.get(ep.module), "__file__", "") or ""
        if label in providers:  # two distributions with an entry point of the same name
            label = f"plugin {ep.name} ({prov['distribution']})"
        providers[label] = prov
        sources.append((label, str(Path(file).resolve()) if file else "", specs))
    return sources, problems, providers


def _spec_module_name(path: Path) -> str:
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    return f"thmcheck_specs_{''.join(ch if ch.isalnum() else '_' for ch in path.stem)}_{digest}"


def import_spec_file(path: str | Path) -> ModuleType:
    """Import a spec file by path, under a module name unique to its resolved path (importing it
    again returns the same module).  Its folder is on ``sys.path`` only while it executes, so it
    can import modules next to it; exceptions from the file propagate (and it is not left in
    ``sys.modules``)."""
    path = Path(path).resolve()
    name = _spec_module_name(path)
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(path.parent)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        try:
            sys.path.remove(folder)
        except ValueError:
            pass
    return module


def load_error(exc: BaseException, file: str | Path | None = None) -> str:
    """One line describing why a spec source failed to import: the exception and, where ``file``
    raised it (or holds the syntax error), the line."""
    if isinstance(exc, SyntaxError):
        where = f" (line {exc.lineno})" if exc.lineno else ""
        text = f"{type(exc).__name__}: {exc.msg}{where}"
    else:
        text = f"{type(exc).__name__}: {exc}"
        if file is not None:
            target = str(Path(file).resolve())
            lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == target]
            if lines:
                text += f" (line {lines[-1]})"
    return " ".join(text.split())


def installed_sources() -> tuple[list[tuple[str, str, list[Any]]], list[Problem], dict[str, dict[str, str]]]:
    """The installed theorem sources (entry points, the built-ins included) as ``(sources,
    problems, providers)`` for :func:`build_registry`, after the class and dynamics plugins have
    loaded (validation depends on them)."""
    import numeric  # noqa: PLC0415 - keeps this module's import light for the pytest plugin

    plugin_lines = numeric.load_plugins()
    sources, problems, providers = _entry_point_sources()
    problems.extend(Problem("plugins", "entry point", line) for line in plugin_lines)
    return sources, problems, providers


def load_registry(extra_modules: Iterable[str] = (), extra_files: Iterable[str | Path] = ()) -> Registry:
    """Discover every installed theorem spec, plus ``extra_modules`` (import names) and
    ``extra_files`` (paths of spec files).

    Extra sources come after the installed ones, so an id they redeclare is refused (a problem whose
    source is the module name or path as given) and never replaces a built-in; one that is an
    installed plugin's own module or file is not loaded twice.  A source that fails to import is a
    problem with field ``import``.  Everything is validated by :func:`build_registry`.
    """
    # Instance classes and dynamics come from their own entry points, loaded before any spec is
    # imported or validated, so validation never depends on import order.
    sources, problems, providers = installed_sources()
    known = {file for _, file, _ in sources if file}

    def add(label: str, load: Any, file: str | Path | None = None) -> None:
        try:
            mod = load()
            specs = specs_of(mod)
        except Exception as exc:
            problems.append(Problem(label, "import", load_error(exc, file)))
            return
        resolved = str(Path(mod.__file__ or "").resolve())
        if resolved not in known:
            known.add(resolved)
            sources.append((label, resolved, specs))
            providers[label] = {"source": label, "file": resolved}

    for name in extra_modules:
        add(name, lambda name=name: importlib.import_module(name))
    for path in extra_files:
        if str(Path(path).resolve()) not in known:
            add(str(path), lambda path=path: import_spec_file(path), path)
    return build_registry(sources, problems, providers)
