"""The pipeline: the one module that wires the stages together.

spec -> validate -> symbolic stage (assumptions satisfiable, derivations checked) -> compile claim
expressions -> numeric experiments (constructive instances, kernels, search, confirmation) ->
verdicts -> records.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import sympy

import numeric
import symbolic
from numeric.constants import Pins, describe
from numeric.constants import record as pins_record
from numeric.constants import normalise as normalise_constants
from numeric.engine.determinism import single_threaded_blas
from reports.records import (
    ClaimRecord,
    CounterexampleRecord,
    DerivationRecord,
    StepRecord,
)

from .exact import certify
from .resources import check_resources
from .series import claim_series
from . import pep_oracle
from .spec import Claim, ClaimKind, Domain, Role, SpecError, Structural, Theorem, Verdict
from .tightness import tightness_record
from .validate import domain_relations, dynamics_name
from .verdicts import STATISTICAL, claim_verdict, instance_record, snippet

__all__ = ["CompiledTheorem", "compile_theorem", "run_theorem", "SymbolicStage", "symbolic_stage", "claim_records",
           "experiment_plan", "experiment_oracle", "error_records", "theorem_summary", "snippet", "OK_VERDICTS"]

OK_VERDICTS = (Verdict.PROVED.value, Verdict.PASS.value)
LemmaLookup = Callable[[str, str], symbolic.LemmaStatement]


def _key(thm: Theorem, sym: sympy.Symbol) -> str:
    """The name under which a symbol's numeric value travels through the numeric stage."""
    decl = thm.symbol(sym.name)
    if Role(decl.role) in (Role.INSTANCE, Role.OBSERVABLE):
        return decl.source
    return decl.name


def _args(thm: Theorem, expr: Any) -> tuple[list[sympy.Symbol], tuple[str, ...]]:
    syms = sorted(expr.free_symbols, key=lambda s: s.name)
    for s in syms:
        if Role(thm.symbol(s.name).role) == Role.SCALAR:
            raise SpecError(thm.id, f"symbols.{s.name}",
                            "a SCALAR symbol (derivation only) has no numeric value; give it a role")
    return syms, tuple(_key(thm, s) for s in syms)


def _compile(thm: Theorem, expr: Any, syms: list[sympy.Symbol]) -> Callable[..., np.ndarray]:
    return symbolic.compile_numpy(expr, syms)


def _residual(rel: Any) -> tuple[Any, bool]:
    """An assumption as ``residual >= 0`` (``> 0`` when strict)."""
    if isinstance(rel, (sympy.Le, sympy.Lt)):
        return rel.rhs - rel.lhs, isinstance(rel, sympy.Lt)
    if isinstance(rel, (sympy.Ge, sympy.Gt)):
        return rel.lhs - rel.rhs, isinstance(rel, sympy.Gt)
    if isinstance(rel, sympy.Eq):
        # An equality between floats holds only up to rounding of its two sides.
        eps = sympy.Float(4 * np.finfo(np.float64).eps)
        return eps * (sympy.Abs(rel.lhs) + sympy.Abs(rel.rhs)) - sympy.Abs(rel.lhs - rel.rhs), False
    raise TypeError(f"not a relation: {rel!r}")


@dataclass(frozen=True)
class CompiledTheorem:
    """A theorem's numeric experiments (one per distinct set of claim assumptions)."""

    theorem: Theorem
    experiments: tuple[tuple[numeric.Experiment, tuple[str, ...]], ...]  # (experiment, claim names)

    def experiment_for(self, claim: str) -> tuple[numeric.Experiment, Any]:
        """The experiment holding ``claim`` and its compiled form (a ``numeric.CompiledClaim``, or a
        ``numeric.probability.StatisticalClaim`` for probability and scaling claims)."""
        for exp, names in self.experiments:
            if claim in names:
                return exp, next(c for c in exp.claims + exp.statistical if c.name == claim)
        raise KeyError(claim)


def _relations(thm: Theorem, claim: Claim | None = None, *, search: bool = False) -> list[Any]:
    """The hypotheses of ``claim`` (with the symbols' domains); with ``search`` also the relations
    that only bound the numeric search."""
    rels = [a.relation for a in thm.assumptions]
    if claim is not None:
        rels += [a.relation for a in claim.assumptions]
    if search:
        rels += [a.relation for a in thm.search]
    return rels + domain_relations(thm)


def _groups(thm: Theorem) -> dict[tuple[str, ...], list[Claim]]:
    groups: dict[tuple[str, ...], list[Claim]] = {}
    for c in thm.claims:
        key = tuple(a.name for a in c.assumptions)
        if ClaimKind(c.kind) in STATISTICAL:
            key = (f"[{c.name}]",) + key  # trials shape the batch: one experiment per such claim
        groups.setdefault(key, []).append(c)
    return groups


def experiment_plan(thm: Theorem) -> list[tuple[tuple[str, ...], bool]]:
    """Without compiling anything: the claim names of each of ``thm``'s experiments, in the order
    :func:`compile_theorem` builds them, and whether the experiment holds probability or scaling
    claims (searched as one piece) rather than deterministic ones (searched in parts)."""
    return [(tuple(c.name for c in claims), ClaimKind(claims[0].kind) in STATISTICAL)
            for claims in _groups(thm).values()]


def compile_theorem(thm: Theorem) -> CompiledTheorem:
    """Compile every claim of ``thm`` into numeric experiments."""
    experiments = []
    for names, claims in _groups(thm).items():
        rels = _relations(thm, claims[0], search=True)
        numeric_roles = (Role.INSTANCE, Role.PARAMETER, Role.OBSERVABLE)
        observable_syms = {s.name for s in thm.symbols if Role(s.role) == Role.OBSERVABLE}
        # Parameters: bounds from the assumptions; those whose bounds read observables come after the run.
        params = []
        after: set[str] = set()
        for s in thm.symbols:
            if Role(s.role) != Role.PARAMETER:
                continue
            b = symbolic.parameter_bounds(s.s, rels)
            exprs = [e for e in (b.lower, b.upper) if e is not None]
            free = set().union(*(e.free_symbols for e in exprs)) if exprs else set()
            syms = sorted(free, key=lambda x: x.name)
            _, keys = _args(thm, sympy.Tuple(*syms)) if syms else ([], ())
            is_after = any(x.name in observable_syms or x.name in after for x in syms)
            if is_after:
                after.add(s.name)
            params.append(numeric.ParameterSpec(
                name=s.name, args=keys,
                lower=None if b.lower is None else _compile(thm, b.lower, syms),
                upper=None if b.upper is None else _compile(thm, b.upper, syms),
                lower_strict=b.lower_strict, upper_strict=b.upper_strict,
                draw=s.draw, after_run=is_after,
                scale=_after_scale(s.draw, b, syms) if is_after else None,
            ))
        checks = []
        for i, rel in enumerate(rels):
            if any(Role(thm.symbol(x.name).role) not in numeric_roles for x in rel.free_symbols):
                continue
            if not rel.free_symbols:
                continue
            res, strict = _residual(rel)
            syms, keys = _args(thm, rel)
            checks.append(numeric.AssumptionCheck(
                name=_assumption_name(thm, claims[0], rel, i), args=keys,
                residual=_compile(thm, res, syms), strict=strict,
                after_run=any(x.name in observable_syms or x.name in after for x in syms),
                scale=symbolic.atoms_abs_scale(res, syms),
            ))
        compiled = []
        statistical = []
        observables: dict[str, set[str]] = {}
        for c in claims:
            if ClaimKind(c.kind) in STATISTICAL:
                statistical.append(_compile_statistical(thm, c))
                obs = observables.setdefault("trajectory", set())
                exprs = [c.bound] + ([c.event] if c.event is not None else [])
                obs.update(_key(thm, x) for e in exprs for x in e.free_symbols if x.name in observable_syms)
                obs.update(k for k in (c.scaling.observable if c.scaling else "", c.plot_x)
                           if k in numeric.DYNAMICS[dynamics_name(thm)].trajectory)
                continue
            syms, keys = _args(thm, c.relation)
            sense = "le" if isinstance(c.relation, (sympy.Le, sympy.Lt)) else "ge"
            kind = ClaimKind(c.kind).value
            compiled.append(numeric.CompiledClaim(
                name=c.name, kind=kind, sense=sense,
                strict=isinstance(c.relation, (sympy.Lt, sympy.Gt)), args=keys,
                observed=_compile(thm, c.observed, syms), bound=_compile(thm, c.bound, syms),
                scale=symbolic.atoms_abs_scale(c.observed - c.bound, syms), ulps=c.tolerance.ulps,
                plot_x=c.plot_x,
            ))
            obs = observables.setdefault(kind, set())
            obs.update(_key(thm, x) for x in syms if x.name in observable_syms)
            dyn = numeric.DYNAMICS[dynamics_name(thm)]
            if c.plot_x and (c.plot_x in dyn.trajectory or (kind == "per_step" and c.plot_x in dyn.per_step)):
                obs.add(c.plot_x)
        # Observables read by assumptions and after-run parameters are needed whatever the claim kind.
        extra = {thm.symbol(x.name).source for rel in rels for x in rel.free_symbols if x.name in observable_syms}
        for kind in observables:
            observables[kind] |= extra
        derived = []
        plain = {}
        expression_settings = {d.name for d in numeric.DYNAMICS[dynamics_name(thm)].settings if d.expression}
        for key, value in thm.settings.items():
            if key in expression_settings:
                value = sympy.sympify(value)  # a constant is an expression too
            if isinstance(value, sympy.Basic):
                vsyms, vkeys = _args(thm, value)
                derived.append(numeric.DerivedValue(name=key, args=vkeys, value=_compile(thm, value, vsyms)))
            else:
                plain[key] = value
        exp = numeric.Experiment(
            key=f"{thm.id}/{'+'.join(names) or 'base'}",
            dynamics=dynamics_name(thm),
            instance_class=thm.structure[0].instance_class,
            constants=_pins(thm.structure[0]),
            horizon=int(thm.horizon),
            dims=tuple(int(d) for d in thm.dims),
            parameters=tuple(params),
            assumptions=tuple(checks),
            claims=tuple(compiled),
            observables={k: tuple(sorted(v)) for k, v in observables.items()},
            settings=plain,
            statistical=tuple(statistical),
            derived=tuple(derived),
        )
        experiments.append((exp, tuple(c.name for c in claims)))
    return CompiledTheorem(thm, tuple(experiments))


def _sense(rel: Any) -> str:
    return "le" if isinstance(rel, (sympy.Le, sympy.Lt)) else "ge"


def _compile_statistical(thm: Theorem, c: Claim) -> Any:
    """A probability or scaling claim for ``numeric.probability``: the bound as a callable, the
    event's conjuncts as trajectory claims."""
    from numeric.engine.probability import ScalingPlan, StatisticalClaim

    bsyms, bkeys = _args(thm, c.bound) if c.bound.free_symbols else ([], ())
    event = []
    if c.event is not None:
        parts = c.event.args if isinstance(c.event, sympy.And) else (c.event,)
        for j, rel in enumerate(parts):
            syms, keys = _args(thm, rel)
            event.append(numeric.CompiledClaim(
                name=f"{c.name}.event[{j}]", kind="trajectory", sense=_sense(rel),
                strict=isinstance(rel, (sympy.Lt, sympy.Gt)), args=keys, observed=_compile(thm, rel.lhs, syms),
                bound=_compile(thm, rel.rhs, syms), scale=symbolic.atoms_abs_scale(rel.lhs - rel.rhs, syms),
                ulps=c.tolerance.ulps,
            ))
    plan = None
    if c.scaling is not None:
        sc = c.scaling
        plan = ScalingPlan(observable=sc.observable, model=sc.model, statistic=sc.statistic,
                           sizes=tuple(int(d) for d in sc.sizes), instances=int(sc.instances), trials=int(sc.trials))
    return StatisticalClaim(
        name=c.name, kind=ClaimKind(c.kind).value, sense=_sense(c.relation), bound_args=bkeys,
        bound=_compile(thm, c.bound, bsyms), confidence=float(c.confidence), event=tuple(event),
        trials=int(c.trials), scaling=plan, plot_x=c.plot_x,
    )


def _after_scale(draw: str, b: Any, syms: list[sympy.Symbol]) -> Callable[..., np.ndarray] | None:
    """Rounding scale of an after-run parameter: the |terms| of the bound it is drawn at."""
    expr = b.upper if draw == "upper" else b.lower
    if expr is None or (draw == "range" and b.upper is not None):
        expr = (b.lower or 0) + (b.upper or 0)
    return symbolic.atoms_abs_scale(expr, syms)


def _assumption_name(thm: Theorem, claim: Claim, rel: Any, index: int) -> str:
    for a in list(thm.assumptions) + list(claim.assumptions) + list(thm.search):
        if a.relation == rel:
            return a.name
    return f"domain: {rel}"


def _step_records(result: Any, derivation: Any) -> tuple[StepRecord, ...]:
    out = []
    for sr, step in zip(result.steps, derivation.steps):
        by = step.by
        just = type(by).__name__
        if hasattr(by, "facts"):
            just += "(" + ", ".join(by.facts) + ")"
        if hasattr(by, "lemma"):
            just += f"({by.lemma}::{by.claim})"
        out.append(StepRecord(
            index=sr.index, rel=sr.rel, expr=str(step.expr), latex=symbolic.latex(step.expr),
            justification=just, status=sr.status.value, method=sr.method, detail=sr.detail,
            witness=dict(sr.witness) if sr.witness else None,
        ))
    return tuple(out)


def check_derivations(thm: Theorem, claim: Claim, lookup: LemmaLookup) -> tuple[DerivationRecord, ...]:
    """Check every derivation of ``claim`` symbolically."""
    facts = {f.name: f for f in thm.facts}
    out = []
    for d in thm.derivations:
        if d.claim != claim.name:
            continue
        res = symbolic.check_derivation(d, claim.relation, _relations(thm, claim), facts, lookup)
        out.append(DerivationRecord(
            name=d.name, claim=d.claim, status=res.status.value,
            expected_status="refuted" if d.printed else "proved",
            printed=d.printed, endpoint_match=res.endpoint_match, steps=_step_records(res, d),
            detail=res.detail, note=d.note,
        ))
    return tuple(out)


@dataclass(frozen=True)
class SymbolicStage:
    """A theorem's symbolic stage: each claim's derivation checks, whether its assumptions were
    shown satisfiable, and how long that took."""

    derivations: dict[str, tuple[DerivationRecord, ...]]
    satisfiable: bool
    seconds: float


def symbolic_stage(thm: Theorem, lookup: LemmaLookup) -> SymbolicStage:
    """Check every derivation of ``thm`` and whether its assumptions can hold together."""
    t0 = time.perf_counter()
    derivs = {c.name: check_derivations(thm, c, lookup) for c in thm.claims}
    t_sym = time.perf_counter() - t0
    witness = symbolic.satisfiable(_relations(thm), [s.s for s in thm.symbols])
    return SymbolicStage(derivations=derivs, satisfiable=witness is not None, seconds=t_sym)


def error_records(thm: Theorem, message: str, *, seed: int, budget: str, backend: str) -> list[ClaimRecord]:
    """``error`` records for every claim of a theorem that could not run."""
    return [
        ClaimRecord(
            theorem=thm.id, claim=c.name, kind=ClaimKind(c.kind).value, statement=c.statement,
            latex="", verdict="error", expected=thm.expected(c).value, printed=c.printed,
            corrected_by=c.corrected_by, backend=backend, seed=seed, budget=budget, reason=message,
        )
        for c in thm.claims
    ]


def experiment_oracle(thm: Theorem, exp: numeric.Experiment, names: tuple[str, ...],
                      enabled: bool = True) -> tuple[dict[str, dict[str, Any]], list[Any]]:
    """The PEPit records of the claims ``names`` run in ``exp`` and the seed batches for its search
    (:func:`.pep_oracle.for_experiment`; ``({}, [])`` without PEPit or an oracle)."""
    return pep_oracle.for_experiment(thm, exp, names, enabled)


def run_theorem(
    thm: Theorem,
    *,
    budget: numeric.Budget,
    seed: int,
    backend: str,
    lookup: LemmaLookup,
    lemma_records: dict[str, list[ClaimRecord]] | None = None,
    progress: Callable[[str], None] | None = None,
    source: str | None = None,
    oracle: bool = True,
) -> list[ClaimRecord]:
    """Check every claim of ``thm`` and return its records (in claim order).  ``source`` says where
    the spec can be loaded again (a spec file, a module, or ``module:ATTRIBUTE`` naming a list of
    theorems); replay snippets use it for theorems that are not installed plugins.  ``oracle``:
    use the PEPit exact oracle (:mod:`.pep_oracle`) where installed and a claim declares one.  BLAS
    runs on one thread meanwhile, so the numbers do not depend on the machine's core count."""
    check_resources(thm, budget)  # a search that cannot fit in memory is refused before it starts
    with single_threaded_blas():
        sym = symbolic_stage(thm, lookup)
        compiled = compile_theorem(thm)
        outcomes: dict[str, numeric.ClaimOutcome] = {}
        pep_records: dict[str, dict[str, Any]] = {}
        t_num: dict[str, float] = {}
        for exp, names in compiled.experiments:
            if progress:
                progress(f"{thm.id}: searching {', '.join(names)}")
            t1 = time.perf_counter()
            pep, seeds = experiment_oracle(thm, exp, names, oracle)
            pep_records.update(pep)
            outcomes.update(numeric.run_experiment(exp, budget, seed=seed, backend=backend, seed_batches=seeds))
            for n in names:
                t_num[n] = time.perf_counter() - t1
        return claim_records(thm, compiled, sym, outcomes, t_num, budget=budget, seed=seed,
                             lemma_records=lemma_records, source=source, pep_records=pep_records)


def claim_records(
    thm: Theorem,
    compiled: CompiledTheorem,
    sym: SymbolicStage,
    outcomes: dict[str, numeric.ClaimOutcome],
    numeric_seconds: dict[str, float],
    *,
    budget: numeric.Budget,
    seed: int,
    lemma_records: dict[str, list[ClaimRecord]] | None = None,
    source: str | None = None,
    pep_records: dict[str, dict[str, Any]] | None = None,
) -> list[ClaimRecord]:
    """The records of ``thm``'s claims (in claim order) from its symbolic stage and the numeric
    outcomes of every claim; ``lemma_records`` holds the records of the theorems it depends on,
    ``pep_records`` the exact oracle's records per claim (:func:`experiment_oracle`)."""
    pep_records = pep_records or {}
    derivs = sym.derivations
    t_sym = sym.seconds
    t_num = numeric_seconds
    inherited = _inherited(thm, lemma_records or {})
    records = []
    for c in thm.claims:
        out = outcomes[c.name]
        stat_kind = ClaimKind(c.kind) in STATISTICAL
        verdict, reason = claim_verdict(thm, c, out, derivs[c.name])
        notes = list(out.notes)
        if not sym.satisfiable:
            notes.append("the assumptions could not be shown satisfiable")
        cex = None
        if out.counterexample is not None and verdict == Verdict.FAIL:
            margin, tol = out.confirmed
            cex = CounterexampleRecord(
                instance=instance_record(out.counterexample), violation=-out.counterexample.margin,
                tolerance=out.counterexample.tol,
                confirmed_precision=("float64, independent rerun" if stat_kind
                                     else out.backends.get("confirm", "").split("/")[-1]),
                confirmed_violation=-margin, replay=snippet(thm, c, out.counterexample, source),
                found=None if out.found is None else instance_record(out.found), shrink=tuple(out.shrink),
                membership=out.membership,
                **certify(thm, c, compiled, out.counterexample, statistical=stat_kind),
            )
        worst = out.worst
        records.append(ClaimRecord(
            theorem=thm.id, claim=c.name, kind=ClaimKind(c.kind).value, statement=c.statement,
            latex=symbolic.latex(_display_relation(thm, c.relation)), verdict=verdict.value, expected=thm.expected(c).value,
            printed=c.printed, corrected_by=c.corrected_by, instances=out.instances,
            worst_ratio=None if worst is None else worst.ratio,
            worst_instance=None if worst is None else instance_record(worst),
            counterexample=cex, backend=out.backends.get("search", ""), backends=dict(out.backends),
            seed=int(seed), budget=budget.name,
            tolerance=c.tolerance.as_dict(), derivations=derivs[c.name], inherited=inherited,
            reason=reason, notes=tuple(notes),
            timings={"symbolic_s": round(t_sym, 3), "numeric_s": round(t_num.get(c.name, 0.0), 3)},
            series={} if stat_kind else claim_series(compiled, c.name, worst,
                                                      out.counterexample if cex is not None else None),
            ratio_hist=out.ratio_hist(),
            samples={"columns": list(out.sample_columns), "rows": out.samples, "x": c.plot_x} if out.samples else {},
            probability=dict(out.statistics) if ClaimKind(c.kind) == ClaimKind.PROBABILITY else {},
            scaling=dict(out.statistics) if ClaimKind(c.kind) == ClaimKind.SCALING else {},
            tightness=tightness_record(c, None if worst is None else worst.ratio, pep_records.get(c.name)),
        ))
    return records


def _display_relation(thm: Theorem, relation: Any) -> Any:
    """The relation as a reader should see it: ``x <= 0`` for a quantity whose domain is
    nonnegative says ``x = 0`` (the two are the same statement there), so an identity claim
    written as "its error is at most 0" reads as the identity it is."""
    if not (isinstance(relation, sympy.LessThan) and relation.rhs == 0):
        return relation
    lhs = relation.lhs
    if isinstance(lhs, sympy.Abs):  # |a - b| <= 0 says a = b
        inner = lhs.args[0]
        terms = sympy.Add.make_args(inner)
        if len(terms) == 2:
            a, b = terms
            if b.could_extract_minus_sign():
                return sympy.Eq(a, -b)
            if a.could_extract_minus_sign():
                return sympy.Eq(b, -a)
        return sympy.Eq(inner, 0)
    if isinstance(lhs, sympy.Symbol):
        declared = next((s for s in thm.symbols if s.s == lhs), None)
        if declared is not None and Domain(declared.domain) == Domain.NONNEGATIVE:
            return sympy.Eq(lhs, 0)
    return relation


def _inherited(thm: Theorem, lemma_records: dict[str, list[ClaimRecord]]) -> tuple[dict[str, str], ...]:
    out = []
    for dep in thm.depends_on:
        for rec in lemma_records.get(dep, []):
            if rec.printed:
                continue
            if rec.verdict not in OK_VERDICTS or not rec.as_expected:
                out.append({"theorem": dep, "claim": rec.claim, "verdict": rec.verdict})
    return tuple(out)


def _pins(s: Structural) -> Pins:
    """A structural hypothesis's pinned class constants (validated when the spec was loaded)."""
    return normalise_constants(numeric.CLASSES[s.instance_class], s.constants) if s.constants else ()


def theorem_summary(thm: Theorem) -> dict[str, Any]:
    """The record-level description of a theorem (rendered by reports without SymPy)."""
    return {
        "id": thm.id,
        "title": thm.title,
        "citation": str(thm.citation),
        "dynamics": dynamics_name(thm),
        "structure": [s.text + (f" [pinned: {describe(_pins(s))}]" if s.constants else "") for s in thm.structure],
        "constants": {s.name: pins_record(_pins(s)) for s in thm.structure if s.constants},
        "assumptions": [{"name": a.name, "latex": symbolic.latex(a.relation), "text": str(a.relation)}
                        for a in thm.assumptions],
        "claims": [{"name": c.name, "latex": symbolic.latex(c.relation), "statement": c.statement,
                    "assumptions": [symbolic.latex(a.relation) for a in c.assumptions]} for c in thm.claims],
        "depends_on": list(thm.depends_on),
        "horizon": thm.horizon,
        "note": thm.note,
    }
