"""Assumption necessity: is each hypothesis of a theorem actually needed?

For every assumption of a theorem (relational, e.g. ``eta <= 1/L``, or structural, e.g. "A and B
are PSD"), the theorem is re-run through the ordinary pipeline with that one assumption replaced by
each of its declared relaxations (``Assumption(..., relax=(eta <= 1.5/L, ...))``,
``Structural(..., relax=("symmetric_a_psd_b",))``) or dropped (relational assumptions, when every
drawn parameter stays bounded without it).  The theorem's non-printed claims keep their statements;
derivations and lemma dependencies are left out (only the numeric search runs).  An assumption is

* **necessary** when some relaxed variant has a claim with a confirmed counterexample, which is then
  replayed from its record (extended precision, the variant's own experiment) — the result says
  which relaxation, which claim, the violation, and whether the replay reproduced it;
* **no counterexample found at this budget** otherwise (with the relaxations tried): that is not a
  proof that the assumption is redundant;
* **not checked** when it declares no relaxation and cannot be dropped.

Relaxing a structural hypothesis changes the instance class, so facts the old class guaranteed about
observables (their declared domains, e.g. ``min_i B_ii >= 0`` for PSD B) no longer hold: in such a
variant every OBSERVABLE symbol is re-declared on the reals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import sympy

from .spec import Assumption, Domain, Role, Structural, Theorem

__all__ = ["Relaxation", "AssumptionResult", "relaxations", "check_necessity", "necessity_table", "result_dict"]


@dataclass(frozen=True)
class Relaxation:
    assumption: str  # the assumption's name (structural: "structure:<name>")
    how: str  # "eta <= 1.5/L", "dropped", "class symmetric_a_psd_b"
    theorem: Theorem


@dataclass
class AssumptionResult:
    theorem: str
    assumption: str
    text: str
    status: str  # "necessary" | "no counterexample found at this budget" | "not checked"
    tried: list[str] = field(default_factory=list)
    counterexample: dict[str, Any] | None = None
    detail: str = ""
    seconds: float = 0.0


def _vid(thm: Theorem, k: int) -> str:
    return f"{thm.id}.relaxed_{k}"


def _base(thm: Theorem) -> Theorem:
    """The theorem without derivations, lemma dependencies and printed claims (numeric only)."""
    claims = tuple(replace(c, expect=None) for c in thm.claims if not c.printed)
    return replace(thm, claims=claims, derivations=(), depends_on=(), facts=())


def _bounded_without(thm: Theorem, drop: str) -> bool:
    """Whether every drawn (PARAMETER) symbol keeps the bounds its draw needs without ``drop``
    (read off the compiled experiments, so the bounds are derived exactly as for a run)."""
    from .pipeline import compile_theorem

    variant = _with_assumption(_base(thm), drop, None)
    for exp, _ in compile_theorem(variant).experiments:
        for p in exp.parameters:
            need = {"lower": (p.lower,), "upper": (p.upper,)}.get(p.draw, (p.lower, p.upper))
            if any(x is None for x in need):
                return False
    return True


def _with_assumption(thm: Theorem, name: str, new: Assumption | None) -> Theorem:
    def swap(items: tuple[Assumption, ...]) -> tuple[Assumption, ...]:
        out = []
        for a in items:
            if a.name == name:
                if new is not None:
                    out.append(new)
            else:
                out.append(a)
        return tuple(out)

    claims = tuple(replace(c, assumptions=swap(c.assumptions)) for c in thm.claims)
    return replace(thm, assumptions=swap(thm.assumptions), claims=claims)


def _real_observables(thm: Theorem) -> Theorem:
    """Observables re-declared on the reals (their domains were facts of the replaced class)."""
    subs: dict[sympy.Symbol, sympy.Symbol] = {}
    symbols = []
    for s in thm.symbols:
        if Role(s.role) == Role.OBSERVABLE and Domain(s.domain) != Domain.REAL:
            new = replace(s, domain=Domain.REAL)
            subs[s.s] = new.s
            symbols.append(new)
        else:
            symbols.append(s)
    if not subs:
        return thm

    def rel(r: Any) -> Any:
        return r.xreplace(subs) if isinstance(r, sympy.Basic) else r

    def ass(a: Assumption) -> Assumption:
        return replace(a, relation=rel(a.relation), relax=tuple(rel(x) for x in a.relax))

    claims = tuple(replace(c, relation=rel(c.relation), assumptions=tuple(ass(a) for a in c.assumptions),
                           event=rel(c.event)) for c in thm.claims)
    return replace(thm, symbols=tuple(symbols), claims=claims, assumptions=tuple(ass(a) for a in thm.assumptions),
                   search=tuple(ass(a) for a in thm.search))


def relaxations(thm: Theorem) -> dict[str, tuple[str, list[Relaxation], str]]:
    """Per assumption name: (its text, the relaxed variants, why some were not formed)."""
    base = _base(thm)
    out: dict[str, tuple[str, list[Relaxation], str]] = {}
    k = 0
    seen: list[Assumption] = list(thm.assumptions)
    for c in thm.claims:
        seen += [a for a in c.assumptions if a.name not in {x.name for x in seen}]
    for a in seen:
        variants = []
        for r in a.relax:
            variants.append(Relaxation(a.name, str(r), replace(_with_assumption(base, a.name, replace(a, relation=r)),
                                                                id=_vid(thm, k))))
            k += 1
        note = ""
        if _bounded_without(thm, a.name):
            variants.append(Relaxation(a.name, "dropped", replace(_with_assumption(base, a.name, None), id=_vid(thm, k))))
            k += 1
        else:
            note = "dropping it leaves a drawn parameter unbounded; only its declared relaxations are tried"
        out[a.name] = (str(a.relation), variants, note)
    for i, s in enumerate(thm.structure):
        if not s.relax:
            out[f"structure:{s.name}"] = (f"{s.text} [class {s.instance_class}]", [], "no larger instance class declared")
        for cls in s.relax:  # one row per larger class: each drops a different part of the hypothesis
            structure = tuple(Structural(x.name, cls, f"{x.text} (relaxed to class {cls})") if j == i else x
                              for j, x in enumerate(thm.structure))
            key = f"structure:{s.name} -> {cls}"
            out[key] = (f"{s.text} [class {s.instance_class}]",
                        [Relaxation(key, f"class {cls}",
                                    replace(_real_observables(replace(base, structure=structure)), id=_vid(thm, k)))], "")
            k += 1
    return out


def check_necessity(thm: Theorem, *, budget: Any, seed: int = 0, backend: str = "numba",
                    progress: Callable[[str], None] | None = None) -> list[AssumptionResult]:
    """Run ``thm`` with each assumption relaxed or dropped; one result per assumption."""
    from .pipeline import run_theorem
    from .registry import build_registry
    from .replay import replay_claim

    results = []
    for name, (text, variants, note) in relaxations(thm).items():
        res = AssumptionResult(thm.id, name, text, "not checked" if not variants else
                               "no counterexample found at this budget", detail=note)
        t0 = time.perf_counter()
        for v in variants:
            res.tried.append(v.how)
            if progress:
                progress(f"{thm.id}: {name} -> {v.how}")
            reg = build_registry([("necessity", "", [v.theorem])])
            if reg.problems:
                res.detail = (res.detail + "; " if res.detail else "") + f"{v.how}: spec problem {reg.problems[0]}"
                continue
            records = run_theorem(v.theorem, budget=budget, seed=seed, backend=backend, lookup=reg.lookup)
            hit = next((r for r in records if r.verdict == "fail" and r.counterexample is not None), None)
            errors = [r for r in records if r.verdict == "error"]
            if errors and hit is None:
                res.detail = (res.detail + "; " if res.detail else "") + f"{v.how}: {errors[0].claim}: {errors[0].reason}"
            if hit is None:
                continue
            rep = replay_claim(reg, hit)
            cx = hit.counterexample
            res.status = "necessary"
            res.counterexample = {
                "relaxation": v.how, "variant": v.theorem.id, "claim": hit.claim,
                "violation": cx.confirmed_violation, "tolerance": cx.tolerance,
                "params": {k: cx.instance.params[k] for k in sorted(cx.instance.params)
                           if not k.endswith("__abs")},
                "family": cx.instance.family, "replayed": bool(rep.reproduced),
                "replay_violation": rep.violation, "replay_precision": rep.precision,
                "replay": cx.replay,
            }
            break
        res.seconds = round(time.perf_counter() - t0, 2)
        results.append(res)
    return results


def result_dict(r: AssumptionResult) -> dict[str, Any]:
    return {"theorem": r.theorem, "assumption": r.assumption, "text": r.text, "status": r.status,
            "tried": list(r.tried), "counterexample": r.counterexample, "detail": r.detail, "seconds": r.seconds}


def _short_params(params: dict[str, float], keep: int = 4) -> str:
    items = [(k, v) for k, v in params.items() if k not in ("d", "n")][:keep]
    return ", ".join(f"{k}={v:.4g}" for k, v in items)


def necessity_table(results: list[AssumptionResult]) -> Any:
    """A rich table: theorem, assumption, status, counterexample (relaxation, claim, violation,
    replay), relaxations tried."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="thmcheck necessity: is each assumption needed?")
    for col in ("theorem", "assumption", "status", "counterexample", "tried"):
        table.add_column(col, overflow="fold")
    for r in results:
        cx = r.counterexample
        if cx:
            desc = (f"{cx['relaxation']}: {cx['claim']} violated by {cx['violation']:.3g} "
                    f"({_short_params(cx['params'])}); replay {'reproduced' if cx['replayed'] else 'NOT reproduced'}")
        else:
            desc = r.detail
        style = "green" if r.status == "necessary" else ("yellow" if r.status.startswith("no counter") else "")
        table.add_row(Text(r.theorem), Text(f"{r.assumption}: {r.text}"), Text(r.status, style=style), Text(desc),
                      Text(", ".join(r.tried)))
    return table


def cmd_necessity(args: Any, console: Any) -> int:
    """``thmcheck necessity [IDS] --budget B [--json PATH]``: the table for the selected theorems
    (default: every theorem that declares a relaxation).  Exit 0 unless an id is unknown or a
    counterexample did not replay."""
    import json

    import numeric

    from .registry import load_registry

    reg = load_registry()
    if args.ids:
        try:
            theorems, _ = reg.select(list(args.ids))
        except KeyError as exc:
            console.print(f"[red]{exc.args[0]}[/]")
            return 2
    else:
        theorems = [t for t in reg.ordered()
                    if any(a.relax for a in t.assumptions) or any(s.relax for s in t.structure)]
    results: list[AssumptionResult] = []
    for thm in theorems:
        results += check_necessity(thm, budget=numeric.budget(args.budget), seed=args.seed, backend=args.backend,
                                   progress=None if args.quiet else (lambda m: console.print(m, markup=False)))
    console.print(necessity_table(results))
    data = [result_dict(r) for r in results]
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"budget": args.budget, "seed": args.seed, "results": data}, fh, indent=1)
    bad = [r for r in results if r.counterexample and not r.counterexample["replayed"]]
    return 1 if bad else 0
