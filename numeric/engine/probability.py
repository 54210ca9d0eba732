"""Probabilistic and scaling claims: Monte Carlo over the dynamics' own randomness.

A *probability* claim bounds the probability of a per-trajectory event ("PGD reaches an
eps-SOSP within T steps").  Every admissible instance is run ``trials`` times, each trial with its
own trajectory id (the kernels' counter-based noise is keyed by it), the event is counted, and an
exact Clopper-Pearson interval (Bonferroni-corrected over the instances evaluated) decides per
instance whether it supports the claim, refutes it, or leaves it open.  The search climbs, as for
deterministic claims, toward the instance with the least favourable interval; a refuting instance
counts only after an independent rerun with fresh trial ids refutes it again, which removes the
selection bias of having searched for it.

A *scaling* claim bounds a growth exponent: a statistic of a trajectory observable is measured at
each size of a grid and a growth law is fitted (numeric.stats.fit_growth); the exponent's interval
decides the same way.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

from .budget import Budget
from .evaluate import CompiledClaim, evaluate
from ..api import MEMBERSHIP_METHODS, InstanceBatch, Knobs
from ..registry import CLASSES
from .experiment import (
    class_of,
    ClaimOutcome,
    Experiment,
    Found,
    assumption_failures,
    batch_environment,
    complete_arguments,
    instance_data,
    rebuild,
    run_dynamics,
)
from .membership import FLOAT64_WITH_SLACK, certify_membership, check_counterexample
from .stop import check_stop
from .search import Search
from .stats import clopper_pearson, decide_interval, fit_growth

__all__ = ["StatisticalClaim", "ScalingPlan", "run_statistical", "replay_statistical", "CONFIRM_OFFSET"]

# Trial ids of confirmation reruns start here, far from any id the search hands out, so a
# confirmation never reuses a trajectory the search saw.
CONFIRM_OFFSET = 1 << 40
PER_INSTANCE_CAP = 64


@dataclass(frozen=True)
class ScalingPlan:
    """What a scaling claim measures (see ``theorems.spec.Scaling``)."""

    observable: str
    model: str
    statistic: str
    sizes: tuple[int, ...]
    instances: int
    trials: int


@dataclass(frozen=True)
class StatisticalClaim:
    """A compiled probability or scaling claim.

    ``event`` holds the compiled conjuncts of a probability claim's event (each a trajectory claim
    whose margin >= 0 means the conjunct holds); ``bound`` is the claimed bound on the probability
    or exponent as a callable of ``bound_args``.
    """

    name: str
    kind: str  # "probability" | "scaling"
    sense: str  # "le" | "ge"
    bound_args: tuple[str, ...]
    bound: Callable[..., np.ndarray]
    confidence: float
    event: tuple[CompiledClaim, ...] = ()
    trials: int = 0
    scaling: ScalingPlan | None = None
    plot_x: str = ""


def _stat_budget(budget: Budget) -> Budget:
    """Each instance of a probability claim costs ``trials`` runs, so the search visits far fewer
    instances than for a deterministic claim: a 64th of the bulk and a 16th of each example."""
    return replace(budget, bulk_batch=max(1, budget.bulk_batch // 64), example_batch=max(1, budget.example_batch // 16),
                   examples=max(4, budget.examples // 4))


def _repeat(batch: InstanceBatch, env: dict[str, np.ndarray], trials: int) -> tuple[Any, np.ndarray, dict[str, np.ndarray]]:
    rows = np.repeat(np.arange(batch.size), trials)
    if not hasattr(batch.problem, "take"):
        raise TypeError(f"problem type {type(batch.problem).__name__} has no take(index); probability and scaling "
                        "claims replicate instances over trials with it")
    return batch.problem.take(rows), batch.w0[rows], {k: np.asarray(v)[rows] for k, v in env.items()}


@dataclass
class _Trials:
    """Outcome of running every instance of a batch ``trials`` times."""

    args: dict[str, np.ndarray]  # trajectory-kind arguments, (m * trials,) each
    inadmissible: list[str]  # per instance: why it is outside the hypotheses ("" if admissible)
    finite: np.ndarray  # (m,) every trial's values finite
    backend: str  # the backend that ran the trials


def run_trials(exp: Experiment, batch: InstanceBatch, env: dict[str, np.ndarray], trials: int, *, id_start: int,
               seed: int, backend: str) -> _Trials:
    """Run each instance of ``batch`` ``trials`` times; trial ``j`` of instance ``i`` has trajectory id
    ``id_start + i * trials + j``."""
    m = batch.size
    problem, w0, env_rep = _repeat(batch, env, trials)
    ids = id_start + np.arange(m * trials, dtype=np.int64)
    env_rep = {k: np.asarray(v, dtype=np.float64) for k, v in env_rep.items()}
    args, backend_ran = _run_chunked(exp, problem, np.asarray(w0, dtype=np.float64), env_rep, ids, m, trials,
                                     seed=seed, backend=backend)
    outside = assumption_failures(exp, {"trajectory": args}, m * trials)
    member, why = class_of(exp).member(batch)
    reasons = []
    for i in range(m):
        r = why[i] if not member[i] else next((o for o in outside[i * trials:(i + 1) * trials] if o), "")
        reasons.append(r or ("" if member[i] else "not a member of the instance class"))
    finite = np.ones(m, dtype=bool)
    for a, v in args.items():
        v = np.asarray(v, dtype=np.float64)
        if v.ndim and v.shape[0] == m * trials:
            finite &= np.isfinite(v.reshape(m, -1)).all(axis=1)
    return _Trials(args=args, inadmissible=reasons, finite=finite, backend=backend_ran)


#: Most trajectories one kernel call of a probability or scaling claim runs: the rows of
#: ``m x trials`` are cut into chunks of whole instances of at most this many rows, with a stop check
#: (:func:`.stop.check_stop`) between chunks, so a long measurement can be interrupted between
#: chunks instead of only when it ends.  Every trajectory is keyed by its own id, so the cut changes
#: no value.  Some kernels pay a fixed cost per call (cp.junk_flow: 15-19 s at ``default`` uncut,
#: 26 s cut at 2048 rows), so the cut only applies above the largest call of the ``default`` budget
#: (16 instances x 400 trials); ``thorough`` calls (up to 64 x 400) are cut in four.
CHUNK_ROWS = 8192


def _run_chunked(exp: Experiment, problem: Any, w0: np.ndarray, env_rep: dict[str, np.ndarray], ids: np.ndarray,
                 m: int, trials: int, *, seed: int, backend: str) -> tuple[dict[str, Any], str]:
    """The trajectory arguments of ``m * trials`` repeated rows, computed chunk by chunk."""
    per = max(1, CHUNK_ROWS // max(1, trials)) * trials
    n = m * trials
    if n <= per:
        run = run_dynamics(exp, problem, w0, env_rep, backend=backend, seed=seed, instance_ids=ids)
        return complete_arguments(exp, env_rep, run)["trajectory"], run.backend
    parts: list[dict[str, Any]] = []
    ran: set[str] = set()
    for a in range(0, n, per):
        check_stop()
        rows = np.arange(a, min(a + per, n))
        sub_env = {k: (v[rows] if np.ndim(v) and np.shape(v)[0] == n else v) for k, v in env_rep.items()}
        run = run_dynamics(exp, problem.take(rows), w0[rows], sub_env, backend=backend, seed=seed,
                           instance_ids=ids[rows])
        ran.add(run.backend)
        parts.append(complete_arguments(exp, sub_env, run)["trajectory"])
    out: dict[str, Any] = {}
    for key, first in parts[0].items():
        if np.ndim(first) and all(np.shape(p[key])[0] == len(r) for p, r in
                                  zip(parts, (range(a, min(a + per, n)) for a in range(0, n, per)))):
            out[key] = np.concatenate([np.asarray(p[key]) for p in parts], axis=0)
        else:
            out[key] = first  # a value shared by every row (a constant of the experiment)
    return out, "+".join(sorted(ran))


def event_counts(claim: StatisticalClaim, tr: _Trials, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Successes per instance, and the bound per instance (observables averaged over trials)."""
    n = claim.trials
    holds = np.ones(m * n, dtype=bool)
    for part in claim.event:
        ev = evaluate(part, tr.args)
        holds &= (ev.margin > 0) if part.strict else (ev.margin >= 0)
    bound = np.asarray(claim.bound(*[tr.args[a] for a in claim.bound_args]), dtype=np.float64)
    bound = np.broadcast_to(bound, (m * n,)).reshape(m, n).mean(axis=1)
    return holds.reshape(m, n).sum(axis=1), bound


def _params(env: dict[str, np.ndarray], i: int) -> dict[str, float]:
    return {k: float(np.asarray(v).reshape(-1)[i]) for k, v in sorted(env.items()) if np.ndim(v) >= 1}


class _ProbabilitySearch(Search):
    """Bulk + Hypothesis search over instances of one probability claim (a batch is m instances,
    each run ``trials`` times)."""

    def __init__(self, exp: Experiment, claim: StatisticalClaim, budget: Budget, seed: int, backend: str) -> None:
        super().__init__(replace(exp, claims=()), _stat_budget(budget), seed, backend)
        self.claim = claim
        self.outcomes = {claim.name: ClaimOutcome(claim.name)}
        self.rows: list[dict[str, Any]] = []  # per instance: successes, bound, data, params

    def run_batch(self, knobs: Knobs, n: int) -> dict[str, float]:
        check_stop()  # a safe point: nothing of this batch is recorded yet
        exp, claim = self.exp, self.claim
        family = self.cls.families[knobs.family % len(self.cls.families)]
        rng = np.random.default_rng([self.seed, zlib.crc32(exp.key.encode()), knobs.seed])
        batch = family.generate(rng, n, knobs)
        u = np.broadcast_to(np.asarray(knobs.u, dtype=np.float64), (n, len(knobs.u))) if knobs.u else np.zeros((n, 0))
        env = batch_environment(exp, batch, u)
        start = self.next_id
        self.next_id += n * claim.trials
        tr = run_trials(exp, batch, env, claim.trials, id_start=start, seed=self.seed, backend=self.backend)
        self.ran.add(tr.backend)
        out = self.outcomes[claim.name]
        bad = [i for i in range(n) if tr.inadmissible[i]]
        if bad:
            self.errors.append(f"generator {family.name!r} produced an instance outside the hypotheses "
                               f"({tr.inadmissible[bad[0]]}); {len(bad)} of {n} in this batch")
        nonfinite = [i for i in range(n) if not tr.inadmissible[i] and not tr.finite[i]]
        if nonfinite and out.error is None:
            out.error = (f"non-finite values in the trials of an admissible instance (family {family.name}, "
                         f"d={knobs.dim}): the dynamics overflowed or produced NaN; {len(nonfinite)} of {n} instances")
        k, bound = event_counts(claim, tr, n)
        level = claim.confidence
        best = -np.inf
        for i in range(n):
            if tr.inadmissible[i] or not tr.finite[i]:
                continue
            out.instances += 1
            lo, hi = clopper_pearson(int(k[i]), claim.trials, level)
            data = instance_data(exp, batch, i, start + np.arange(n) * claim.trials, self.seed)
            data.update(trials=claim.trials, trial_id_start=int(start + i * claim.trials))
            params = _params(env, i)
            if claim.plot_x and claim.plot_x in tr.args and claim.plot_x not in params:
                params[claim.plot_x] = float(np.mean(np.asarray(tr.args[claim.plot_x]).reshape(n, -1)[i]))
            self.rows.append({"successes": int(k[i]), "bound": float(bound[i]), "data": data, "params": params,
                              "family": family.name})
            # Target: how far the interval at the plain level sits on the wrong side of the bound.
            against = (bound[i] - hi) if claim.sense == "ge" else (lo - bound[i])
            best = max(best, float(against))
        return {claim.name: best} if np.isfinite(best) else {}


def _summary(row: dict[str, Any], trials: int, level: float, sense: str) -> dict[str, Any]:
    lo, hi = clopper_pearson(row["successes"], trials, level)
    return {"successes": row["successes"], "trials": trials, "estimate": row["successes"] / trials, "lower": lo,
            "upper": hi, "bound": row["bound"], "level": level, "decision": decide_interval(lo, hi, row["bound"], sense),
            "params": row["params"]}


def _found(row: dict[str, Any], exp: Experiment, s: dict[str, Any], sense: str) -> Found:
    observed = s["upper"] if sense == "ge" else s["lower"]
    margin = (s["upper"] - s["bound"]) if sense == "ge" else (s["bound"] - s["lower"])
    ratio = None
    est, b = s["estimate"], s["bound"]
    num, den = (b, est) if sense == "ge" else (est, b)
    if den > 0:
        ratio = num / den
    return Found(family=row["family"], dynamics=exp.dynamics, data=row["data"], params=row["params"], step=None,
                 observed=float(observed), bound=float(b), ratio=ratio, slack=float(margin), margin=float(margin), tol=0.0)


def _probability(exp: Experiment, claim: StatisticalClaim, budget: Budget, seed: int, backend: str) -> ClaimOutcome:
    search = _ProbabilitySearch(exp, claim, budget, seed, backend)
    search.bulk()
    search.hypothesis()
    out = search.finish()[claim.name]
    m = len(search.rows)
    alpha = 1.0 - claim.confidence
    out.notes.append(f"{m} instances x {claim.trials} trials; per-instance intervals at level 1 - {alpha:g}/{max(m, 1)} "
                     "(Bonferroni)")
    if m == 0:
        return out
    level = 1.0 - alpha / m
    summaries = [_summary(r, claim.trials, level, claim.sense) for r in search.rows]
    decisions = [s["decision"] for s in summaries]

    # Least favourable instance: the largest excess of the bound over the upper end (ge) or of the
    # lower end over the bound (le).
    def against(s: dict[str, Any]) -> float:
        return (s["bound"] - s["upper"]) if claim.sense == "ge" else (s["lower"] - s["bound"])

    order = sorted(range(m), key=lambda i: -against(summaries[i]))
    worst = order[0]
    out.worst = _found(search.rows[worst], exp, summaries[worst], claim.sense)
    confirmation = None
    refuting = [i for i in order if decisions[i] == "refute"][: budget.confirm]
    for i in refuting:
        row = search.rows[i]
        conf = _rerun(exp, claim, row, seed=seed, backend=backend, start=CONFIRM_OFFSET + i * claim.trials)
        confirmation = {**conf, "instance_index": i}
        if conf["decision"] == "refute":
            row = {**row, "data": {**row["data"], "trial_id_start": conf["trial_id_start"]}}
            found = _found(row, exp, conf, claim.sense)
            if check_counterexample(exp, out, found):  # outside its class: an error, never a refutation
                out.counterexample = found
                out.confirmed = (found.margin, 0.0)
            break
        out.vanished += 1
    if out.counterexample is not None:
        out.decision = "refute"
    elif all(d == "support" for d in decisions):
        out.decision = "support"
    else:
        out.decision = "open"
    per = [summaries[i] for i in order[:PER_INSTANCE_CAP]]
    out.statistics = {"sense": claim.sense, "confidence": claim.confidence, "trials": claim.trials,
                      "instances": m, "counts": {d: decisions.count(d) for d in ("support", "refute", "open")},
                      "worst": summaries[worst], "per_instance": per, "confirmation": confirmation}
    out.sample_columns = ("estimate", "lower", "upper", "bound", *sorted({k for s in per for k in s["params"]}))
    out.samples = [[s["estimate"], s["lower"], s["upper"], s["bound"],
                    *[s["params"].get(k, float("nan")) for k in out.sample_columns[4:]]] for s in per]
    return out


def _rerun(exp: Experiment, claim: StatisticalClaim, row: dict[str, Any], *, seed: int, backend: str,
           start: int) -> dict[str, Any]:
    """Run one recorded instance again with trial ids from ``start``; returns its summary at the
    claim's own confidence (a single pre-selected instance needs no multiplicity correction)."""
    data = row["data"]
    cls = class_of(exp)
    sub, problem, w0, env = rebuild(exp, data, row["params"])
    batch = InstanceBatch(family=row.get("family", ""), problem=problem, w0=w0,
                          attrs={k: env[k] for k in cls.attributes if k in env})
    tr = run_trials(sub, batch, env, claim.trials, id_start=start, seed=int(data["seed"]), backend=backend)
    if tr.inadmissible[0]:
        raise ValueError(f"replayed instance is outside the hypotheses: {tr.inadmissible[0]}")
    k, bound = event_counts(claim, tr, 1)
    s = _summary({"successes": int(k[0]), "bound": float(bound[0]), "params": row["params"]}, claim.trials,
                 claim.confidence, claim.sense)
    s["trial_id_start"] = int(start)
    return s


# ---------------------------------------------------------------------------------------------- scaling


def _certify_batch(exp: Experiment, batch: InstanceBatch, size: int, methods: list[str]) -> list[str]:
    """Every instance of a scaling measurement re-checked by its class's exact membership hook
    (the refutation rests on all of them); appends each instance's method to ``methods`` and returns
    the reasons of those outside the class."""
    outside = []
    ids = np.arange(batch.w0.shape[0])  # only recorded in the data; the hook reads problem, w0 and constants
    for i in range(batch.w0.shape[0]):
        data = instance_data(exp, batch, i, ids, seed=0)
        params = {k: float(np.asarray(v, dtype=np.float64).reshape(-1)[i]) for k, v in batch.attrs.items()}
        m = certify_membership(exp.instance_class, data, params, batch.family)
        methods.append(FLOAT64_WITH_SLACK if m is None else m.method)
        if m is not None and not m.ok:
            outside.append(f"d={size}: instance {i} outside its class {exp.instance_class!r} "
                           f"({m.method} arithmetic: {m.reason})")
    return outside


def _measure(exp: Experiment, claim: StatisticalClaim, *, seed: int, backend: str, salt: int,
             id_start: int, ran: set[str] | None = None,
             certify: list[str] | None = None) -> tuple[list[float], list[str], int]:
    """The statistic at every size (instances generated by the class's first family, range
    parameters at the middle of their range).  Returns values, problems found, trials run.  With
    ``certify`` (a list), every instance's membership is also certified without float64 slack
    (:func:`_certify_batch`): the methods are appended to it, non-members are problems."""
    plan = claim.scaling
    assert plan is not None
    cls = class_of(exp)
    family = cls.families[0]
    k = len(exp.range_parameters)
    values: list[float] = []
    problems: list[str] = []
    next_id = id_start
    for size in plan.sizes:
        check_stop()
        knobs = Knobs(family=0, dim=int(size), pattern=0, log_scale=0.0, log_w0=0.0, u=(0.5,) * k,
                      seed=int(zlib.crc32(f"{exp.key}/{claim.name}/{size}/{salt}".encode())))
        rng = np.random.default_rng([int(seed), zlib.crc32(exp.key.encode()), knobs.seed])
        batch = family.generate(rng, plan.instances, knobs)
        env = batch_environment(exp, batch, np.full((plan.instances, k), 0.5))
        sub = replace(exp, dims=(int(size),))
        tr = run_trials(sub, batch, env, plan.trials, id_start=next_id, seed=seed, backend=backend)
        if ran is not None:
            ran.add(tr.backend)
        next_id += plan.instances * plan.trials
        bad = [r for r in tr.inadmissible if r]
        if bad:
            problems.append(f"d={size}: an instance is outside the hypotheses ({bad[0]})")
        if certify is not None:
            problems.extend(_certify_batch(exp, batch, int(size), certify))
        if not tr.finite.all():
            problems.append(f"d={size}: non-finite values in the trials (the dynamics overflowed or produced NaN)")
        y = np.asarray(tr.args[plan.observable], dtype=np.float64).reshape(-1)
        values.append(float(np.median(y) if plan.statistic == "median" else np.mean(y)))
    return values, problems, next_id - id_start


def _scaling(exp: Experiment, claim: StatisticalClaim, seed: int, backend: str) -> ClaimOutcome:
    plan = claim.scaling
    assert plan is not None
    out = ClaimOutcome(claim.name)
    ran: set[str] = set()
    values, problems, runs = _measure(exp, claim, seed=seed, backend=backend, salt=0, id_start=0, ran=ran)
    out.backends = {"search": "+".join(sorted(ran))}
    if problems:
        out.error = problems[0]
        return out
    out.instances = len(plan.sizes) * plan.instances
    bound = float(np.asarray(claim.bound()))
    try:
        fit = fit_growth(np.asarray(plan.sizes), np.asarray(values), plan.model, claim.confidence)
        alternatives = {m: fit_growth(np.asarray(plan.sizes), np.asarray(values), m, claim.confidence).as_dict()
                        for m in ("power", "polylog", "linear") if m != plan.model}
    except ValueError as exc:
        out.error = f"the growth fit failed: {exc}"
        return out
    decision = decide_interval(fit.lower, fit.upper, bound, claim.sense)
    confirmation = None
    if decision == "refute":
        methods: list[str] = []
        again, problems2, _ = _measure(exp, claim, seed=seed, backend=backend, salt=1, id_start=CONFIRM_OFFSET,
                                       certify=methods)
        outside = [p for p in problems2 if "outside its class" in p]
        if outside:  # a refutation resting on a non-member is no refutation: an error, never a fail
            out.error = f"{outside[0]}; the float64 membership check had accepted it within its rounding slack"
            return out
        # The weakest method any instance was certified by is the record's.
        out.membership = max(methods, key=MEMBERSHIP_METHODS.index) if methods else FLOAT64_WITH_SLACK
        fit2 = fit_growth(np.asarray(plan.sizes), np.asarray(again), plan.model, claim.confidence)
        d2 = decide_interval(fit2.lower, fit2.upper, bound, claim.sense)
        confirmation = {"values": again, **fit2.as_dict(), "decision": d2, "problems": problems2}
        if d2 == "refute" and not problems2:
            margin = (fit2.upper - bound) if claim.sense == "ge" else (bound - fit2.lower)
            out.counterexample = Found(
                family=CLASSES[exp.instance_class].families[0].name, dynamics=exp.dynamics,
                data={"sizes": list(plan.sizes), "values": again, "seed": int(seed), "salt": 1,
                      "trial_id_start": CONFIRM_OFFSET, "T": exp.horizon, "settings": dict(exp.settings)},
                params={"exponent": fit2.exponent, "lower": fit2.lower, "upper": fit2.upper},
                step=None, observed=fit2.exponent, bound=bound, ratio=None, slack=margin, margin=margin, tol=0.0)
            out.confirmed = (margin, 0.0)
        else:
            out.vanished += 1
            decision = "open"
    out.decision = decision
    out.worst = Found(family=CLASSES[exp.instance_class].families[0].name, dynamics=exp.dynamics,
                      data={"sizes": list(plan.sizes), "values": values, "seed": int(seed), "salt": 0, "trial_id_start": 0,
                            "T": exp.horizon, "settings": dict(exp.settings)},
                      params={"exponent": fit.exponent, "lower": fit.lower, "upper": fit.upper}, step=None,
                      observed=fit.exponent, bound=bound, ratio=None, slack=0.0, margin=0.0, tol=0.0)
    out.statistics = {"model": plan.model, "observable": plan.observable, "statistic": plan.statistic,
                      "sizes": list(plan.sizes), "values": values, "exponent": fit.exponent, "lower": fit.lower,
                      "upper": fit.upper, "intercept": fit.intercept, "confidence": claim.confidence, "r2": fit.r2,
                      "residual_se": fit.residual_se, "bound": bound, "sense": claim.sense,
                      "instances_per_size": plan.instances, "trials": plan.trials, "runs": runs,
                      "alternatives": alternatives, "confirmation": confirmation}
    out.notes.append(f"{len(plan.sizes)} sizes x {plan.instances} instances x {plan.trials} trials; "
                     f"{plan.model} fit exponent {fit.exponent:.4g} in [{fit.lower:.4g}, {fit.upper:.4g}] "
                     f"at {claim.confidence:g}")
    return out


def run_statistical(exp: Experiment, budget: Budget, *, seed: int, backend: str) -> dict[str, ClaimOutcome]:
    """Decide every probability / scaling claim of ``exp``."""
    out: dict[str, ClaimOutcome] = {}
    for claim in exp.statistical:
        if claim.kind == "probability":
            out[claim.name] = _probability(exp, claim, budget, seed, backend)
        else:
            out[claim.name] = _scaling(exp, claim, seed, backend)
    return out


def replay_statistical(exp: Experiment, claim: StatisticalClaim, found: Found) -> tuple[float, float]:
    """Re-run a recorded probability or scaling counterexample exactly (same trial ids) and return
    (margin, 0): a negative margin means the interval is still on the wrong side of the bound."""
    data = found.data
    if claim.kind == "probability":
        row = {"data": data, "params": found.params, "family": found.family}
        s = _rerun(exp, claim, row, seed=int(data["seed"]), backend="numpy", start=int(data["trial_id_start"]))
        margin = (s["upper"] - s["bound"]) if claim.sense == "ge" else (s["bound"] - s["lower"])
        return float(margin), 0.0
    values, problems, _ = _measure(exp, claim, seed=int(data["seed"]), backend="numpy", salt=int(data["salt"]),
                                   id_start=int(data["trial_id_start"]))
    if problems:
        raise ValueError(problems[0])
    plan = claim.scaling
    assert plan is not None
    fit = fit_growth(np.asarray(plan.sizes), np.asarray(values), plan.model, claim.confidence)
    bound = float(np.asarray(claim.bound()))
    margin = (fit.upper - bound) if claim.sense == "ge" else (bound - fit.lower)
    return float(margin), 0.0
