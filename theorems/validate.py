"""Spec validation: one clear :class:`SpecError` naming the spec id and the field."""

from __future__ import annotations

import numbers
import re
from typing import Any

import sympy
from sympy.core.relational import Relational

import numeric
import symbolic
from numeric import CLASSES, DYNAMICS
from numeric.constants import normalise as normalise_constants

from .spec import (
    ID_PATTERN,
    NAME_PATTERN,
    ClaimKind,
    Domain,
    Role,
    SCALING_MODELS,
    SpecError,
    Theorem,
)

__all__ = ["validate", "domain_relations", "dynamics_name"]


def dynamics_name(thm: Theorem) -> str:
    """The dynamics' registry name."""
    return str(thm.dynamics)

_SYMBOL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_INEQ = (sympy.Le, sympy.Lt, sympy.Ge, sympy.Gt)


def domain_relations(thm: Theorem) -> list[Relational]:
    """The symbols' domains written as relations (``L > 0``), so decision procedures see them."""
    out: list[Relational] = []
    for s in thm.symbols:
        dom = Domain(s.domain)
        if dom in (Domain.POSITIVE, Domain.POSITIVE_INTEGER):
            out.append(sympy.Gt(s.s, 0))
        elif dom == Domain.NONNEGATIVE:
            out.append(sympy.Ge(s.s, 0))
    return out


def _check_expr(thm: Theorem, field: str, expr: object, declared: set[str]) -> None:
    if not isinstance(expr, sympy.Basic):
        raise SpecError(thm.id, field, f"expected a SymPy expression, got {type(expr).__name__}")
    unknown = symbolic.validate_expression(expr, declared)
    if unknown:
        raise SpecError(thm.id, field, f"unknown symbol(s) {', '.join(sorted(unknown))} (declare them in symbols)")
    for sym in expr.free_symbols:
        if sym.name in declared and sym != _declared_symbol(thm, sym.name):
            raise SpecError(
                thm.id, field,
                f"symbol {sym.name!r} is used with other assumptions than declared (use the Sym's .s)",
            )


def _declared_symbol(thm: Theorem, name: str) -> sympy.Symbol:
    return thm.symbol(name).s


def _check_shapes(thm: Theorem) -> None:
    """The containers hold what they should, with fields of the right type, before anything reads
    them: a ``Sym(42)`` is named as ``symbols[5].name``, not met later as a TypeError in SymPy."""
    from .spec import Assumption, Claim, Structural, Sym

    groups: list[tuple[str, Any, type, tuple[str, ...]]] = [
        ("symbols", thm.symbols, Sym, ("name",)), ("claims", thm.claims, Claim, ("name", "statement")),
        ("assumptions", thm.assumptions, Assumption, ("name",)), ("search", thm.search, Assumption, ("name",)),
        ("structure", thm.structure, Structural, ("text", "instance_class")),
        ("derivations", thm.derivations, symbolic.Derivation, ()), ("facts", thm.facts, symbolic.Fact, ("name",)),
        ("depends_on", thm.depends_on, str, ()),
    ]
    for group, items, kind, text_fields in groups:
        if isinstance(items, (str, bytes)) or not isinstance(items, (tuple, list)):
            raise SpecError(thm.id, group, f"must be a tuple, got {type(items).__name__}")
        for i, item in enumerate(items):
            if not isinstance(item, kind):
                raise SpecError(thm.id, f"{group}[{i}]", f"must be a {kind.__name__}, got {item!r}")
            for name in text_fields:
                value = getattr(item, name)
                if not isinstance(value, str):
                    raise SpecError(thm.id, f"{group}[{i}].{name}", f"must be a string, got {value!r}")
    for i, s in enumerate(thm.symbols):
        for name, enum in (("domain", Domain), ("role", Role)):
            try:
                enum(getattr(s, name))
            except ValueError:
                raise SpecError(thm.id, f"symbols[{i}].{name}",
                                f"must be one of {', '.join(e.value for e in enum)}, got {getattr(s, name)!r}") from None
    for i, c in enumerate(thm.claims):
        try:
            ClaimKind(c.kind)
        except ValueError:
            raise SpecError(thm.id, f"claims[{i}].kind",
                            f"must be one of {', '.join(k.value for k in ClaimKind)}, got {c.kind!r}") from None
    if not isinstance(thm.settings, dict):
        raise SpecError(thm.id, "settings", f"must be a dict, got {type(thm.settings).__name__}")


def validate(thm: object) -> Theorem:
    """Check a spec; return it unchanged or raise :class:`SpecError`."""
    if not isinstance(thm, Theorem):
        raise SpecError(getattr(thm, "id", "<unknown>"), "type", f"expected a Theorem, got {type(thm).__name__}")
    if not isinstance(thm.id, str) or not ID_PATTERN.match(thm.id):
        raise SpecError(str(thm.id), "id", "must be a dotted lower-case slug such as 'descent.lemma_2_1_4'")
    if not thm.title:
        raise SpecError(thm.id, "title", "is empty")
    _check_shapes(thm)
    dyn_name = dynamics_name(thm)
    if dyn_name not in DYNAMICS:
        raise SpecError(thm.id, "dynamics", f"unknown dynamics {dyn_name!r}; known: {', '.join(DYNAMICS)}")
    dyn = DYNAMICS[dyn_name]
    names: set[str] = set()
    for i, s in enumerate(thm.symbols):
        field = f"symbols[{i}]"
        if not _SYMBOL_NAME.match(s.name):
            raise SpecError(thm.id, field, f"invalid symbol name {s.name!r}")
        if s.name in names:
            raise SpecError(thm.id, field, f"symbol {s.name!r} declared twice")
        names.add(s.name)
    if len(thm.structure) != 1:
        raise SpecError(thm.id, "structure", "exactly one structural hypothesis naming an instance class is needed")
    cls = thm.structure[0].instance_class
    if cls not in CLASSES:
        raise SpecError(thm.id, "structure", f"unknown instance class {cls!r}; known: {', '.join(CLASSES)}")
    _check_compatible(thm, CLASSES[cls], dyn)
    try:
        normalise_constants(CLASSES[cls], thm.structure[0].constants)
    except ValueError as exc:
        raise SpecError(thm.id, "structure[0].constants", str(exc)) from None
    _check_settings(thm, dyn)
    for s in thm.symbols:
        field = f"symbols.{s.name}"
        role = Role(s.role)
        if role == Role.INSTANCE and s.source not in CLASSES[cls].attributes:
            raise SpecError(thm.id, field, f"instance attribute {s.source!r} is not provided by class {cls!r} "
                                           f"(it provides {', '.join(CLASSES[cls].attributes)})")
        if role == Role.OBSERVABLE and s.source not in dyn.per_step and s.source not in dyn.trajectory:
            raise SpecError(thm.id, field, f"unknown observable {s.source!r} for dynamics {dyn_name!r} "
                                           f"(it provides {', '.join(o.name for o in dyn.observables)})")
        if role == Role.PARAMETER and s.draw not in ("range", "lower", "upper"):
            raise SpecError(thm.id, field, f"draw must be 'range', 'lower' or 'upper', got {s.draw!r}")
    for needed in dyn.parameters:
        if needed not in names or Role(thm.symbol(needed).role) != Role.PARAMETER:
            raise SpecError(thm.id, "symbols", f"dynamics {dyn_name!r} reads the PARAMETER symbol {needed!r}; declare it")
    for group, items in (("assumptions", thm.assumptions), ("search", thm.search)):
        for a in items:
            if not isinstance(a.relation, Relational):
                raise SpecError(thm.id, f"{group}.{a.name}", "must be a SymPy relation")
            _check_expr(thm, f"{group}.{a.name}", a.relation, names)
    if not thm.claims:
        raise SpecError(thm.id, "claims", "a theorem needs at least one claim")
    claim_names: set[str] = set()
    for c in thm.claims:
        field = f"claims.{c.name}"
        if not NAME_PATTERN.match(c.name or ""):
            raise SpecError(thm.id, field, "claim names are snake_case")
        if c.name in claim_names:
            raise SpecError(thm.id, field, "claim declared twice")
        claim_names.add(c.name)
        if not isinstance(c.relation, _INEQ):
            raise SpecError(thm.id, f"{field}.relation",
                            "a claim needs a relation 'observed <= bound' or 'observed >= bound' "
                            f"(got {type(c.relation).__name__})")
        _check_expr(thm, f"{field}.relation", c.relation, names)
        for a in c.assumptions:
            if not isinstance(a.relation, Relational):
                raise SpecError(thm.id, f"{field}.assumptions.{a.name}", "must be a SymPy relation")
            _check_expr(thm, f"{field}.assumptions.{a.name}", a.relation, names)
        kind = ClaimKind(c.kind)
        special = {s.name for s in c.relation.free_symbols
                   if Role(thm.symbol(s.name).role) in (Role.PROBABILITY, Role.FIT)}
        if kind in (ClaimKind.PROBABILITY, ClaimKind.SCALING):
            _check_statistical(thm, c, kind, dyn)
        elif special:
            raise SpecError(thm.id, f"{field}.relation",
                            f"symbol(s) {', '.join(sorted(special))} of role probability/fit belong to "
                            "probability or scaling claims only")
        if kind in (ClaimKind.TRAJECTORY, ClaimKind.PROBABILITY, ClaimKind.SCALING):
            for sym in c.relation.free_symbols:
                decl = thm.symbol(sym.name)
                if Role(decl.role) == Role.OBSERVABLE and decl.source in dyn.per_step:
                    raise SpecError(thm.id, f"{field}.relation",
                                    f"trajectory claim uses the per-step observable {decl.source!r}")
    for c in thm.claims:
        if c.printed and not _names_a_correction(c.corrected_by, claim_names):
            raise SpecError(thm.id, f"claims.{c.name}.corrected_by",
                            "a claim marked as printed (expected refuted) must name its corrected claim: a claim "
                            "of this theorem, or 'theorem.id::claim' of another one")
    for j, d in enumerate(thm.derivations):
        field = f"derivations[{j}]"
        if not isinstance(d, symbolic.Derivation):
            raise SpecError(thm.id, field, f"must be a Derivation, got {type(d).__name__}")
        if d.problems:
            name, msg = d.problems[0]
            raise SpecError(thm.id, f"{field}.{name}", msg)
        if d.claim not in claim_names:
            raise SpecError(thm.id, f"{field}.claim", f"unknown claim {d.claim!r}")
        _check_expr(thm, f"{field}.start", d.start, names)
        for k, step in enumerate(d.steps):
            _check_expr(thm, f"{field}.steps[{k}]", step.expr, names)
    fact_names = {f.name for f in thm.facts}
    for f in thm.facts:
        _check_expr(thm, f"facts.{f.name}", f.relation, names)
    for j, d in enumerate(thm.derivations):
        for k, step in enumerate(d.steps):
            for used in getattr(step.by, "facts", ()):
                if used not in fact_names:
                    raise SpecError(thm.id, f"derivations[{j}].steps[{k}]", f"unknown fact {used!r}")
    for dep in thm.depends_on:
        if not isinstance(dep, str) or not ID_PATTERN.match(dep):
            raise SpecError(thm.id, "depends_on", f"{dep!r} is not a theorem id")
    if isinstance(thm.horizon, bool) or not isinstance(thm.horizon, numbers.Integral):
        raise SpecError(thm.id, "horizon", f"must be an integer number of steps, got {thm.horizon!r}")
    if thm.horizon < 1:
        raise SpecError(thm.id, "horizon", "must be at least 1 step")
    if isinstance(thm.dims, (tuple, list)) and all(isinstance(d, numbers.Integral) and not isinstance(d, bool)
                                                  and d >= 1 for d in thm.dims) and thm.dims:
        # Even the smallest budget must fit in memory; larger budgets are checked when they run.
        from .resources import check_resources

        check_resources(thm, numeric.budget("quick"))
    if not isinstance(thm.dims, (tuple, list)) or not thm.dims:
        raise SpecError(thm.id, "dims", f"must be a non-empty tuple (or list) of dimensions, got {thm.dims!r}")
    for k, d in enumerate(thm.dims):
        if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1:
            raise SpecError(thm.id, f"dims[{k}]", f"must be a positive integer, got {d!r}")
    _check_satisfiable(thm)
    _check_parameter_domains(thm)
    _check_dynamics_domain(thm, dyn)
    return thm


def _trajectory_symbols(thm: Theorem, field: str, expr: object, dyn: object) -> None:
    for sym in expr.free_symbols:  # type: ignore[attr-defined]
        decl = thm.symbol(sym.name)
        role = Role(decl.role)
        if role in (Role.PROBABILITY, Role.FIT, Role.SCALAR):
            raise SpecError(thm.id, field, f"symbol {sym.name!r} of role {role.value} has no per-trajectory value")
        if role == Role.OBSERVABLE and decl.source not in dyn.trajectory:  # type: ignore[attr-defined]
            raise SpecError(thm.id, field, f"{decl.source!r} is not a trajectory observable of the dynamics "
                                           f"(trajectory observables: {', '.join(dyn.trajectory)})")  # type: ignore[attr-defined]


def _check_statistical(thm: Theorem, c: object, kind: ClaimKind, dyn: object) -> None:
    """A probability or scaling claim: its statistic symbol alone on the left, a bound free of it on
    the right, and well-formed Monte Carlo settings."""
    field = f"claims.{c.name}"  # type: ignore[attr-defined]
    role = Role.PROBABILITY if kind == ClaimKind.PROBABILITY else Role.FIT
    lhs, rhs = c.relation.lhs, c.relation.rhs  # type: ignore[attr-defined]
    if not (isinstance(lhs, sympy.Symbol) and Role(thm.symbol(lhs.name).role) == role):
        raise SpecError(thm.id, f"{field}.relation",
                        f"a {kind.value} claim is written 'X <= bound' or 'X >= bound' with X a symbol of role "
                        f"{role.value}")
    _trajectory_symbols(thm, f"{field}.relation", rhs, dyn)
    conf = c.confidence  # type: ignore[attr-defined]
    if not (isinstance(conf, float) and 0.5 <= conf < 1.0):
        raise SpecError(thm.id, f"{field}.confidence", f"must be a float in [0.5, 1), got {conf!r}")
    if kind == ClaimKind.PROBABILITY:
        event = c.event  # type: ignore[attr-defined]
        parts = event.args if isinstance(event, sympy.And) else (event,)
        if event is None or not all(isinstance(e, _INEQ) for e in parts):
            raise SpecError(thm.id, f"{field}.event",
                            "a probability claim needs an event: a SymPy inequality (or And of inequalities)")
        _check_expr(thm, f"{field}.event", event, {s.name for s in thm.symbols})
        _trajectory_symbols(thm, f"{field}.event", event, dyn)
        if not (isinstance(c.trials, int) and c.trials >= 1):  # type: ignore[attr-defined]
            raise SpecError(thm.id, f"{field}.trials", "must be a positive integer")
        return
    if rhs.free_symbols:
        raise SpecError(thm.id, f"{field}.relation", "the bound on a fitted exponent must be a number")
    sc = c.scaling  # type: ignore[attr-defined]
    if sc is None:
        raise SpecError(thm.id, f"{field}.scaling", "a scaling claim needs scaling=Scaling(...)")
    if sc.observable not in dyn.trajectory:  # type: ignore[attr-defined]
        raise SpecError(thm.id, f"{field}.scaling.observable",
                        f"{sc.observable!r} is not a trajectory observable of the dynamics")
    if sc.model not in SCALING_MODELS:
        raise SpecError(thm.id, f"{field}.scaling.model", f"must be one of {', '.join(SCALING_MODELS)}")
    if sc.statistic not in ("median", "mean"):
        raise SpecError(thm.id, f"{field}.scaling.statistic", "must be 'median' or 'mean'")
    sizes = tuple(sc.sizes)
    if len(set(sizes)) < 3 or any(int(d) < 2 for d in sizes):
        raise SpecError(thm.id, f"{field}.scaling.sizes", "needs at least three distinct sizes, each >= 2")
    if sc.instances < 1 or sc.trials < 1:
        raise SpecError(thm.id, f"{field}.scaling", "instances and trials must be positive")


def _names_a_correction(ref: object, claim_names: set[str]) -> bool:
    """A claim of this theorem, or ``theorem.id::claim`` (checked to exist when the registry is built)."""
    if not isinstance(ref, str):
        return False
    if "::" in ref:
        tid, _, claim = ref.partition("::")
        return bool(ID_PATTERN.match(tid)) and bool(NAME_PATTERN.match(claim))
    return ref in claim_names


def _type_names(types: tuple[type, ...]) -> str:
    return ", ".join(t.__name__ for t in types)


def _check_compatible(thm: Theorem, cls: Any, dyn: Any) -> None:
    """The dynamics must be able to drive every problem type the class produces."""
    if not dyn.accepts_class(cls):
        raise SpecError(thm.id, "structure",
                        f"instance class {cls.name!r} produces {_type_names(cls.problem_types)}, which dynamics "
                        f"{dyn.name!r} cannot run (it accepts {_type_names(dyn.accepts)})")


def _int_setting(default: Any) -> bool:
    """A setting whose default is an integer (a bool is a flag, not an integer)."""
    return isinstance(default, int) and not isinstance(default, bool)


def _check_settings(thm: Theorem, dyn: Any) -> None:
    """Only declared settings, with allowed values; expression settings as SymPy expressions of
    declared INSTANCE / PARAMETER symbols; required ones present."""
    declared = {s.name: s for s in dyn.settings}
    for key, value in thm.settings.items():
        field_name = f"settings.{key}"
        if key not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise SpecError(thm.id, field_name, f"dynamics {dyn.name!r} has no setting {key!r} (its settings: {known})")
        decl = declared[key]
        if decl.expression:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = sympy.sympify(value)
            if not isinstance(value, sympy.Expr):
                raise SpecError(thm.id, field_name, f"must be a SymPy expression of the spec's symbols, got {value!r}")
            for sym in value.free_symbols:
                try:
                    role = Role(thm.symbol(sym.name).role)
                except KeyError:
                    raise SpecError(thm.id, field_name, f"uses undeclared symbol {sym.name!r}") from None
                if role not in (Role.INSTANCE, Role.PARAMETER):
                    raise SpecError(thm.id, field_name,
                                    f"may use INSTANCE and PARAMETER symbols only ({sym.name!r} is {role.value})")
        elif isinstance(value, sympy.Basic):
            raise SpecError(thm.id, field_name, f"dynamics {dyn.name!r} takes a plain value here, not an expression")
        elif _int_setting(decl.default) and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
            # An integer setting (a batch size, an offset) given as 2.5 or "10" would be truncated
            # or crash inside a kernel: refused here, naming it.
            raise SpecError(thm.id, field_name, f"must be an integer, got {value!r}")
        elif _int_setting(decl.default) and decl.default > 0 and value < 1:
            raise SpecError(thm.id, field_name, f"must be a positive integer, got {value!r}")
        elif decl.choices and value not in decl.choices:
            raise SpecError(thm.id, field_name, f"{value!r} is not one of {', '.join(map(repr, decl.choices))}")
    for decl in dyn.settings:
        if decl.required and decl.name not in thm.settings:
            raise SpecError(thm.id, "settings", f"dynamics {dyn.name!r} needs the setting {decl.name!r}: {decl.doc}")


def _check_dynamics_domain(thm: Theorem, dyn: Any) -> None:
    """Every value the assumptions admit for a parameter must lie where the dynamics is defined.

    Each end of the dynamics' declared domain is a goal (``eta > 0``) to be decided under the
    theorem's and each claim's assumptions: refuted (an exact admissible value outside the domain)
    is a SpecError naming the parameter, the claim and the value; undecided is accepted, and the
    engine refuses any drawn value outside the domain at run time with the same kind of message."""
    base = [a.relation for a in thm.assumptions + thm.search] + domain_relations(thm)
    groups: dict[tuple[str, ...], list[Any]] = {}
    for c in thm.claims:
        groups.setdefault(tuple(a.name for a in c.assumptions), [c.name, [a.relation for a in c.assumptions]])
    for dom in dyn.domain:
        if dom.name not in {s.name for s in thm.symbols}:
            continue
        sym = thm.symbol(dom.name).s
        goals = []
        if dom.lower is not None:
            lo = sympy.nsimplify(dom.lower)
            goals.append(sympy.StrictGreaterThan(sym, lo) if dom.lower_strict else sympy.GreaterThan(sym, lo))
        if dom.upper is not None:
            hi = sympy.nsimplify(dom.upper)
            goals.append(sympy.StrictLessThan(sym, hi) if dom.upper_strict else sympy.LessThan(sym, hi))
        for claim_name, extra in groups.values():
            for goal in goals:
                res = symbolic.prove_relation(goal, base + extra, timeout_ms=500, sample_time=0.2)
                if res.status == symbolic.Status.REFUTED:
                    at = ", ".join(f"{k} = {v}" for k, v in sorted((res.witness or {}).items()))
                    named = [f"{a.name!r} ({a.relation})" for a in thm.assumptions + thm.search
                             if sym in a.relation.free_symbols]
                    which = f" -- the assumptions on {dom.name}: {', '.join(named)}" if named else ""
                    raise SpecError(
                        thm.id, f"symbols.{dom.name}",
                        f"the assumptions of claim {claim_name!r} admit {at or 'values'} where dynamics {dyn.name!r} "
                        f"is undefined (its domain is {dom.text()}){which}; tighten them",
                    )


def _check_satisfiable(thm: Theorem) -> None:
    """The assumptions, the search ranges and the symbols' domains must admit some point (per
    claim, with the claim's own assumptions): an empty admissible set would otherwise surface
    during the search as a generator that cannot draw, blamed on the wrong thing.  Only a proof
    of inconsistency (z3) is reported, with a minimal set of named relations that conflict."""
    symbols = [s.s for s in thm.symbols]
    base = [(f"assumptions.{a.name}", a.relation) for a in thm.assumptions]
    base += [(f"search.{a.name}", a.relation) for a in thm.search]
    domains = domain_relations(thm)
    checked: list[list[tuple[str, Any]]] = [base]
    checked += [base + [(f"claims.{c.name}.assumptions.{a.name}", a.relation) for a in c.assumptions]
                for c in thm.claims if c.assumptions]
    for named in checked:
        def unsat(items: list[tuple[str, Any]]) -> bool:
            res = symbolic.satisfiability([r for _, r in items] + domains, symbols, timeout_ms=1000, sample_time=0.0)
            return res.satisfiable is False
        if not unsat(named):
            continue
        core = list(named)
        for item in list(named):  # deletion filter: what remains is a minimal conflicting set
            rest = [x for x in core if x is not item]
            if unsat(rest):
                core = rest
        names = ", ".join(f"{n} ({r})" for n, r in core) or "the symbols' domains"
        raise SpecError(thm.id, core[0][0] if core else "symbols",
                        f"no point satisfies {names} together with the symbols' domains: "
                        "the admissible set is empty (contradictory assumptions, or assumptions outside the search range)")


def _check_parameter_domains(thm: Theorem) -> None:
    """Every parameter drawn over a range needs finite bounds under each claim's assumptions, or the
    search has nowhere constructive to draw from."""
    base = [a.relation for a in thm.assumptions + thm.search] + domain_relations(thm)
    for c in thm.claims:
        rels = base + [a.relation for a in c.assumptions]
        for s in thm.symbols:
            if Role(s.role) != Role.PARAMETER:
                continue
            b = symbolic.parameter_bounds(s.s, rels)
            need = ("lower", "upper") if s.draw == "range" else (s.draw,)
            for side in need:
                value = getattr(b, side)
                if value is None or value.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
                    raise SpecError(
                        thm.id, f"symbols.{s.name}",
                        f"parameter {s.name!r} has no finite {side} bound under the assumptions of claim "
                        f"{c.name!r} (non-finite parameter domain); add an assumption that bounds it",
                    )
