"""Theorem discovery and the lemma graph.

Built-in specs and third-party plugins are found the same way: through the entry-point group
``thmcheck.theorems``, whose values are modules (with a ``THEOREMS`` list) or objects (a Theorem or
a list of them).  A broken plugin or a malformed spec becomes a :class:`Problem` naming its source
and field; every other theorem still runs.  The registry builds the dependency graph with networkx,
rejects unknown ids and cycles, and orders the run so lemmas come before what rests on them.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable

import networkx as nx

import symbolic

from .spec import SpecError, Theorem
from .validate import domain_relations, validate

__all__ = ["GROUP", "Problem", "Registry", "load_registry", "build_registry", "specs_of"]

GROUP = "thmcheck.theorems"


@dataclass(frozen=True)
class Problem:
    """Something that kept a spec or plugin from loading."""

    source: str  # spec id or plugin name
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
    broken: set[str] = field(default_factory=set)  # ids that were declared but rejected
    graph: nx.DiGraph = field(default_factory=nx.DiGraph)

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
                raise KeyError(f"no theorem matches {raw!r}; see 'thmcheck list'")
            for t in hits:
                if claim:
                    if claim not in {c.name for c in self.theorems[t].claims}:
                        raise KeyError(f"theorem {t!r} has no claim {claim!r}")
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


def build_registry(sources: Iterable[tuple[str, str, list[Any]]], problems: Iterable[Problem] = ()) -> Registry:
    """Validate specs from ``(source name, file, specs)`` triples and build the graph."""
    reg = Registry(problems=list(problems))
    for source, file, specs in sources:
        for spec in specs:
            sid = getattr(spec, "id", f"<{source}>")
            try:
                thm = validate(spec)
            except SpecError as exc:
                reg.problems.append(Problem(exc.spec_id, exc.field, exc.message))
                reg.broken.add(str(sid))
                continue
            except Exception as exc:  # a spec whose own construction is broken
                reg.problems.append(Problem(str(sid), "spec", f"{type(exc).__name__}: {exc}"))
                reg.broken.add(str(sid))
                continue
            if thm.id in reg.theorems:
                reg.problems.append(Problem(thm.id, "id", f"declared twice (again in {source})"))
                continue
            reg.theorems[thm.id] = thm
            reg.files[thm.id] = file
    g = nx.DiGraph()
    g.add_nodes_from(reg.theorems)
    for thm in reg.theorems.values():
        for dep in thm.depends_on:
            if dep not in reg.theorems and dep not in reg.broken:
                reg.problems.append(Problem(thm.id, "depends_on", f"unknown theorem id {dep!r}"))
            else:
                g.add_edge(dep, thm.id)
    rejected: set[str] = set()
    for dep_problem in [p for p in reg.problems if p.field == "depends_on"]:
        rejected.add(dep_problem.source)
    for cycle in sorted(nx.simple_cycles(g), key=lambda c: sorted(c)):
        names = " -> ".join(cycle + [cycle[0]])
        for node in cycle:
            if node in reg.theorems:
                reg.problems.append(Problem(node, "depends_on", f"cyclic dependency: {names}"))
                rejected.add(node)
    for node in rejected:
        reg.theorems.pop(node, None)
        reg.broken.add(node)
        if node in g:
            g.remove_node(node)
    reg.graph = g
    reg.order = [n for n in nx.lexicographical_topological_sort(g) if n in reg.theorems]
    return reg


def _entry_point_sources() -> tuple[list[tuple[str, str, list[Any]]], list[Problem]]:
    sources, problems = [], []
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            obj = ep.load()
            specs = specs_of(obj)
        except Exception as exc:  # a broken plugin must not take the others down
            problems.append(Problem(f"plugin {ep.name} ({ep.value})", "import", f"{type(exc).__name__}: {exc}"))
            continue
        file = getattr(obj, "__file__", None) or getattr(sys.modules.get(ep.module), "__file__", "") or ""
        sources.append((f"plugin {ep.name}", str(Path(file).resolve()) if file else "", specs))
    return sources, problems


def load_registry(extra_modules: Iterable[str] = ()) -> Registry:
    """Discover every installed theorem spec (plus ``extra_modules`` given by import name)."""
    sources, problems = _entry_point_sources()
    for name in extra_modules:
        try:
            mod = importlib.import_module(name)
            sources.append((name, str(Path(mod.__file__ or "").resolve()), specs_of(mod)))
        except Exception as exc:
            problems.append(Problem(name, "import", f"{type(exc).__name__}: {exc}"))
    return build_registry(sources, problems)
