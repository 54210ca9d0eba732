"""Counterexample search: random bulk batches, then Hypothesis climbing toward the worst case.

An :class:`Experiment` is everything the numeric stage needs about one group of claims that share
their hypotheses: the instance class, the dynamics, how each parameter is drawn (constructively,
inside bounds derived from the assumptions), the assumption checks every instance must pass, and
the compiled claims.  :func:`run_experiment` returns one :class:`ClaimOutcome` per claim; the
pipeline turns outcomes into verdicts and records.

Determinism: all randomness comes from ``numpy.random.Generator`` and Hypothesis seeded from the
run seed and a CRC of the experiment key (never Python's salted ``hash``), and the kernels are
deterministic, so the same seed and budget give the same outcomes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

from .budget import Budget
from .evaluate import CompiledClaim, Evaluation, evaluate
from .families import CLASSES, InstanceBatch, Knobs, PATTERNS
from .evaluate import SCALE_SUFFIX, scale_args
from .dynamics import get as get_dynamics
from .observables import Run, observe

__all__ = [
    "ParameterSpec",
    "AssumptionCheck",
    "Experiment",
    "Found",
    "ClaimOutcome",
    "run_experiment",
    "batch_environment",
    "run_dynamics",
    "replay",
    "rebuild",
    "complete_arguments",
]


@dataclass(frozen=True)
class ParameterSpec:
    """How one PARAMETER symbol is drawn: ``lower + u (upper - lower)`` with ``u`` in [0, 1]
    (``draw="range"``), or the tightest admissible end (``"lower"`` / ``"upper"``).  Bounds are
    callables of the named arguments; ``after_run`` parameters depend on observables."""

    name: str
    args: tuple[str, ...]
    lower: Callable[..., np.ndarray] | None
    upper: Callable[..., np.ndarray] | None
    lower_strict: bool
    upper_strict: bool
    draw: str
    after_run: bool
    scale: Callable[..., np.ndarray] | None = None  # rounding scale of an after-run value


@dataclass(frozen=True)
class AssumptionCheck:
    """An assumption as a residual that must be >= 0 (> 0 when strict) for an admissible instance."""

    name: str
    args: tuple[str, ...]
    residual: Callable[..., np.ndarray]
    strict: bool
    after_run: bool
    scale: Callable[..., np.ndarray] | None = None  # sum of |terms| of the residual


@dataclass(frozen=True)
class Experiment:
    key: str
    dynamics: str  # "gd" | "sgd"
    instance_class: str
    horizon: int
    dims: tuple[int, ...]
    parameters: tuple[ParameterSpec, ...]
    assumptions: tuple[AssumptionCheck, ...]
    claims: tuple[CompiledClaim, ...]
    observables: dict[str, tuple[str, ...]]  # claim kind -> observables needed
    settings: dict[str, Any] = field(default_factory=dict)
    # Probability and scaling claims (numeric.probability); an experiment holds either these or
    # ``claims``, never both, because their batches are shaped differently (trials per instance).
    statistical: tuple[Any, ...] = ()

    @property
    def range_parameters(self) -> tuple[ParameterSpec, ...]:
        return tuple(p for p in self.parameters if p.draw == "range" and not p.after_run)


@dataclass(frozen=True)
class Found:
    """A concrete instance singled out by the search (worst case or violation)."""

    family: str
    dynamics: str
    data: dict[str, Any]
    params: dict[str, float]
    step: int | None
    observed: float
    bound: float
    ratio: float | None
    slack: float
    margin: float
    tol: float


# log10 bins of the per-instance tightness ratio: 1e-6 .. 10, 35 bins of 0.2 decades.
RATIO_EDGES = np.linspace(-6.0, 1.0, 36)
SAMPLE_CAP = 256  # per-instance rows kept for the report's scatter plots


@dataclass
class ClaimOutcome:
    """What the search established about one claim."""

    name: str
    instances: int = 0
    worst: Found | None = None
    worst_key: float = -np.inf
    candidates: list[tuple[float, Found]] = field(default_factory=list)
    counterexample: Found | None = None
    confirmed: tuple[float, float] | None = None  # (margin, tol) at the higher precision
    vanished: int = 0  # violations that disappeared in higher precision
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    # Distribution over instances: counts of log10(worst ratio) in RATIO_EDGES bins, plus the
    # instances below / above the range and those with no defined ratio.
    ratio_counts: np.ndarray = field(default_factory=lambda: np.zeros(len(RATIO_EDGES) - 1, dtype=np.int64))
    ratio_outside: list[int] = field(default_factory=lambda: [0, 0, 0])
    sample_columns: tuple[str, ...] = ()
    samples: list[list[float]] = field(default_factory=list)
    # Probability / scaling claims: "support", "refute" or "open", and the statistics behind it.
    decision: str | None = None
    statistics: dict[str, Any] = field(default_factory=dict)

    def ratio_hist(self) -> dict[str, Any]:
        """The histogram of per-instance worst ratios as plain data for the record."""
        if not self.ratio_counts.any() and not any(self.ratio_outside):
            return {}
        below, above, undefined = self.ratio_outside
        return {"log10_edges": RATIO_EDGES.tolist(), "counts": self.ratio_counts.tolist(), "below": below,
                "above": above, "undefined": undefined}



# Precision used to confirm a violation before it counts.
CONFIRM_DTYPE = np.longdouble


def _seed_for(seed: int, key: str) -> int:
    return (int(seed) * 0x9E3779B1 + zlib.crc32(key.encode())) % (2**32)


def _draw_u(rng: np.random.Generator, n: int) -> np.ndarray:
    """Positions in [0, 1] with the end points over-represented: bounds are where theorems are tight."""
    u = rng.random(n)
    pick = rng.random(n)
    u = np.where(pick < 0.25, 1.0, u)
    return np.where(pick > 0.9, 0.0, u)


def _value(p: ParameterSpec, env: dict[str, np.ndarray], u: np.ndarray) -> np.ndarray:
    call = [env[a] for a in p.args]
    dtype = np.result_type(np.float64, *(np.asarray(c).dtype for c in call))
    lo = None if p.lower is None else np.asarray(p.lower(*call), dtype=dtype) + np.zeros_like(u, dtype=dtype)
    hi = None if p.upper is None else np.asarray(p.upper(*call), dtype=dtype) + np.zeros_like(u, dtype=dtype)
    if p.draw == "lower":
        return lo
    if p.draw == "upper":
        return hi
    # Strict ends are approached, not reached.
    u = np.where(u <= 0.0, 1e-6, u) if p.lower_strict else u
    u = np.where(u >= 1.0, 1.0 - 1e-9, u) if p.upper_strict else u
    return lo + u * (hi - lo)


def _nudge(p: ParameterSpec, env: dict[str, np.ndarray], value: np.ndarray) -> np.ndarray:
    """Move a drawn value the last few ulps inside its bounds, judged in higher precision, so the
    instance satisfies the assumptions exactly and not just in float64 (``fl(1/L) * L`` may
    exceed 1)."""
    call = [np.asarray(env[a], dtype=CONFIRM_DTYPE) for a in p.args]
    v = np.array(value)
    for bound, is_upper, strict in ((p.upper, True, p.upper_strict), (p.lower, False, p.lower_strict)):
        if bound is None:
            continue
        limit = np.asarray(bound(*call, _dtype=CONFIRM_DTYPE), dtype=CONFIRM_DTYPE)
        for _ in range(8):
            vd = v.astype(CONFIRM_DTYPE)
            if is_upper:
                bad = (vd >= limit) if strict else (vd > limit)
            else:
                bad = (vd <= limit) if strict else (vd < limit)
            if not np.any(bad):
                break
            v = np.where(bad, np.nextafter(v, -np.inf if is_upper else np.inf), v)
    return v


def batch_environment(exp: Experiment, batch: InstanceBatch, u: np.ndarray) -> dict[str, np.ndarray]:
    """Instance constants plus the pre-run parameters drawn at positions ``u`` (n, k)."""
    env = {k: np.asarray(v, dtype=np.float64) for k, v in batch.attrs.items()}
    k = 0
    for p in exp.parameters:
        if p.after_run:
            continue
        if p.draw == "range":
            uk = u[:, k]
            k += 1
        else:
            uk = np.zeros(batch.size)
        env[p.name] = _nudge(p, env, _value(p, env, uk))
    return env


def run_dynamics(
    exp: Experiment,
    problem: Any,
    w0: np.ndarray,
    env: dict[str, np.ndarray],
    *,
    backend: str,
    seed: int,
    instance_ids: np.ndarray,
    dtype: Any = np.float64,
) -> Run:
    """Run the experiment's dynamics on a batch through its registered adapter."""
    return get_dynamics(exp.dynamics).run(exp, problem, w0, env, backend=backend, seed=seed,
                                          instance_ids=instance_ids, dtype=dtype)


def complete_arguments(exp: Experiment, env: dict[str, np.ndarray], run: Run) -> dict[str, dict[str, np.ndarray]]:
    """Per claim kind, the argument arrays: observables, instance constants, parameters (the
    after-run ones computed here from the trajectory, in the trajectory's precision)."""
    dyn = get_dynamics(exp.dynamics)
    n = next(iter(env.values())).shape[0]
    flat = dict(env)
    wanted_traj = {name for names in exp.observables.values() for name in names if name in dyn.trajectory}
    flat.update(observe(run, tuple(sorted(wanted_traj)), "trajectory", dyn.per_step, dyn.trajectory, dyn.scale_of))
    for p in exp.parameters:
        if p.after_run:
            flat[p.name] = _nudge(p, flat, _value(p, flat, np.ones(n)))
            if p.scale is not None:
                flat[p.name + SCALE_SUFFIX] = np.abs(p.scale(*scale_args(p.args, flat)))
    out: dict[str, dict[str, np.ndarray]] = {}
    for kind, wanted in exp.observables.items():
        args = dict(observe(run, wanted, kind, dyn.per_step, dyn.trajectory, dyn.scale_of))
        for name, value in flat.items():
            if name not in args:
                args[name] = value[:, None] if kind == "per_step" else value
        out[kind] = args
    return out


def _assumption_failures(exp: Experiment, args_by_kind: dict[str, dict[str, np.ndarray]], n: int) -> list[str]:
    """Reasons, per instance, why an instance is outside the hypotheses ("" when admissible)."""
    reasons = [""] * n
    for check in exp.assumptions:
        kind = "trajectory" if "trajectory" in args_by_kind else next(iter(args_by_kind))
        args = args_by_kind[kind]
        call = [np.asarray(args[a], dtype=CONFIRM_DTYPE) for a in check.args]
        res = np.asarray(check.residual(*call))
        # The check runs in extended precision on exact float64 inputs; only its own evaluation
        # rounds, by a few extended ulps of the residual's terms (far below float64 resolution).
        slack = np.zeros_like(res)
        if check.scale is not None:
            slack = 8 * np.finfo(CONFIRM_DTYPE).eps * np.abs(np.asarray(check.scale(*call))) + 0 * res
        res, slack = (x.reshape(n, -1) if np.ndim(x) else np.full((n, 1), x) for x in np.broadcast_arrays(res, slack))
        low = (res + slack).min(axis=1)
        res = res.min(axis=1)
        bad = (low <= 0) if check.strict else (low < 0)
        for i in np.flatnonzero(bad):
            if not reasons[i]:
                reasons[i] = f"assumption {check.name!r} fails (residual {float(res[i])!r})"
    return reasons


def _instance_data(exp: Experiment, batch: InstanceBatch, i: int, ids: np.ndarray, seed: int) -> dict[str, Any]:
    """Everything needed to replay instance ``i``: the problem arrays (encoded by its instance
    class), the initial point, the horizon and the random-stream coordinates."""
    return {
        **CLASSES[exp.instance_class].encode(batch.problem, i),
        "w0": batch.w0[i].tolist(),
        "T": exp.horizon,
        "seed": int(seed),
        "instance_id": int(ids[i]),
        "settings": dict(exp.settings),
    }


def _found(exp: Experiment, batch: InstanceBatch, i: int, env, args, ev: Evaluation, ids, seed, claim: CompiledClaim, by_ratio: bool) -> Found:
    step = int(ev.ratio_step[i] if by_ratio else ev.step[i])
    params = {}
    for name, value in args.items():
        if name.endswith(SCALE_SUFFIX):
            continue
        arr = np.asarray(value)
        if arr.ndim == 2 and arr.shape[1] > 1:
            params[name] = float(arr[i, step])
        elif arr.ndim >= 1:
            params[name] = float(arr.reshape(arr.shape[0], -1)[i, 0])
    ratio = float(ev.ratio[i]) if np.isfinite(ev.ratio[i]) else None
    return Found(
        family=batch.family,
        dynamics=exp.dynamics,
        data=_instance_data(exp, batch, i, ids, seed),
        params={k: params[k] for k in sorted(params)},
        step=step if claim.kind == "per_step" else None,
        observed=float(ev.ratio_observed[i] if by_ratio else ev.observed[i]),
        bound=float(ev.ratio_bound[i] if by_ratio else ev.bound[i]),
        ratio=ratio,
        slack=float(ev.slack[i]),
        margin=float(ev.margin[i]),
        tol=float(ev.tol[i]),
    )


class _Search:
    """State of one experiment's search (accumulates outcomes across batches)."""

    def __init__(self, exp: Experiment, budget: Budget, seed: int, backend: str) -> None:
        self.exp = exp
        self.budget = budget
        self.seed = int(seed)
        self.backend = backend
        self.cls = CLASSES[exp.instance_class]
        self.outcomes = {c.name: ClaimOutcome(c.name) for c in exp.claims}
        self.next_id = 0
        self.errors: list[str] = []
        self.rows_per_batch = 16

    def run_batch(self, knobs: Knobs, n: int, batch: InstanceBatch | None = None,
                  evaluations: dict[str, Any] | None = None) -> dict[str, float]:
        """Generate, check, run and evaluate one batch; returns per-claim target values.  A given
        ``batch`` is evaluated instead of a generated one; ``evaluations`` receives, per claim, the
        admissible mask and the :class:`Evaluation` (the polishing phase reads them)."""
        exp = self.exp
        family = self.cls.families[knobs.family % len(self.cls.families)]
        rng = np.random.default_rng([self.seed, zlib.crc32(exp.key.encode()), knobs.seed])
        batch = family.generate(rng, n, knobs) if batch is None else batch
        ids = np.arange(self.next_id, self.next_id + n, dtype=np.int64)
        self.next_id += n
        member, why = self.cls.member(batch)
        u = np.broadcast_to(np.asarray(knobs.u, dtype=np.float64), (n, len(knobs.u))) if knobs.u else np.zeros((n, 0))
        env = batch_environment(exp, batch, u)
        run = run_dynamics(exp, batch.problem, batch.w0, env, backend=self.backend, seed=self.seed, instance_ids=ids)
        args_by_kind = complete_arguments(exp, env, run)
        outside = _assumption_failures(exp, args_by_kind, n)
        bad = [i for i in range(n) if not member[i] or outside[i]]
        if bad:
            i = bad[0]
            reason = why[i] or outside[i]
            self.errors.append(
                f"generator {family.name!r} produced an instance outside the hypotheses ({reason}); "
                f"{len(bad)} of {n} in this batch"
            )
        valid = np.ones(n, dtype=bool)
        valid[bad] = False
        targets: dict[str, float] = {}
        for claim in exp.claims:
            args = args_by_kind[claim.kind]
            ev = evaluate(claim, args)
            out = self.outcomes[claim.name]
            ok = valid & ev.finite
            if evaluations is not None:
                evaluations[claim.name] = (ok, ev)
            out.instances += int(ok.sum())
            nonfinite = np.flatnonzero(valid & ~ev.finite)
            if nonfinite.size and out.error is None:
                i = int(nonfinite[0])
                out.error = (
                    f"non-finite values along the trajectory of an admissible instance "
                    f"(family {family.name}, d={knobs.dim}, "
                    f"{', '.join(f'{p.name}={float(env[p.name][i])!r}' for p in exp.parameters if p.name in env)}, "
                    f"T={exp.horizon}): "
                    f"the dynamics overflowed or produced NaN; {nonfinite.size} of {n} instances affected"
                )
            if not ok.any():
                continue
            self._collect(claim, out, ev, args, ok, tuple(sorted(env)))
            # Worst case: the largest ratio where it is defined, else the smallest relative slack.
            has_ratio = ok & np.isfinite(ev.ratio)
            if has_ratio.any():
                i = int(np.flatnonzero(has_ratio)[np.argmax(ev.ratio[has_ratio])])
                key = float(ev.ratio[i])
                targets[claim.name] = key
                by_ratio = True
            else:
                idx = np.flatnonzero(ok)
                i = int(idx[np.argmin(ev.slack[idx])])
                key = -float(ev.slack[i]) - 1e6  # any defined ratio outranks a slack
                targets[claim.name] = -float(ev.slack[i])
                by_ratio = False
            if key > out.worst_key:
                out.worst_key = key
                out.worst = _found(exp, batch, i, env, args, ev, ids, self.seed, claim, by_ratio)
            viol = np.flatnonzero(ok & ev.violated)
            if viol.size:
                sev = -ev.margin[viol] / np.maximum(ev.tol[viol], np.finfo(np.float64).tiny)
                for j in viol[np.argsort(-sev)][: self.budget.confirm]:
                    severity = float(-ev.margin[j] / max(float(ev.tol[j]), np.finfo(np.float64).tiny))
                    out.candidates.append((severity, _found(exp, batch, int(j), env, args, ev, ids, self.seed, claim, False)))
                out.candidates.sort(key=lambda sf: -sf[0])
                del out.candidates[self.budget.confirm :]
        return targets

    def _collect(self, claim: CompiledClaim, out: ClaimOutcome, ev: Evaluation, args: dict[str, np.ndarray],
                 ok: np.ndarray, constants: tuple[str, ...]) -> None:
        """Add the batch's admissible instances to the ratio histogram and keep a few as samples."""
        r = ev.ratio[ok]
        defined = r[np.isfinite(r) & (r > 0)]
        logr = np.log10(defined)
        out.ratio_counts += np.histogram(logr, bins=RATIO_EDGES)[0]
        out.ratio_outside[0] += int((logr < RATIO_EDGES[0]).sum())
        out.ratio_outside[1] += int((logr > RATIO_EDGES[-1]).sum())
        out.ratio_outside[2] += int(r.size - defined.size)
        room = SAMPLE_CAP - len(out.samples)
        if room <= 0:
            return
        keys = [a for a in dict.fromkeys(claim.args + ((claim.plot_x,) if claim.plot_x else ()) + constants)
                if a in args and not a.endswith(SCALE_SUFFIX)]
        if not out.sample_columns:
            out.sample_columns = ("observed", "bound", "ratio", *keys)
        idx = np.flatnonzero(ok)[: min(room, self.rows_per_batch)]
        for i in idx:
            t = int(ev.ratio_step[i]) if np.isfinite(ev.ratio[i]) else int(ev.step[i])
            row = [float(ev.ratio_observed[i] if np.isfinite(ev.ratio[i]) else ev.observed[i]),
                   float(ev.ratio_bound[i] if np.isfinite(ev.ratio[i]) else ev.bound[i]), float(ev.ratio[i])]
            for a in out.sample_columns[3:]:
                v = np.asarray(args[a])
                v = v.reshape(v.shape[0], -1) if v.ndim else v.reshape(1, 1)
                row.append(float(v[i if v.shape[0] > 1 else 0, min(t, v.shape[1] - 1)]))
            out.samples.append(row)

    def bulk(self) -> None:
        rng = np.random.default_rng([self.seed, zlib.crc32(self.exp.key.encode()), 0xB01C])
        nf = len(self.cls.families)
        k = len(self.exp.range_parameters)
        for r in range(self.budget.bulk_rounds):
            u = tuple(float(x) for x in _draw_u(rng, k))
            knobs = Knobs(
                family=r % nf,
                dim=int(self.exp.dims[(r // nf) % len(self.exp.dims)]),
                pattern=int(rng.integers(0, len(PATTERNS))) if r >= nf else 1,  # start from A = L I
                log_scale=float(rng.uniform(-1.0, 1.0)),
                log_w0=float(rng.uniform(-1.0, 1.0)),
                u=u,
                seed=int(rng.integers(0, 2**31)),
            )
            self.run_batch(knobs, self.budget.bulk_batch)

    def hypothesis(self) -> None:
        from hypothesis import HealthCheck, Phase, given, seed, settings, target
        from hypothesis import strategies as st

        exp = self.exp
        self.rows_per_batch = 2
        k = len(exp.range_parameters)
        # Subnormal positions would draw parameters like eta = 1e-313, whose reciprocals overflow
        # in float64: a degenerate instance that says nothing about the claim.
        u_st = st.one_of(st.just(1.0), st.floats(0.0, 1.0, allow_subnormal=False))
        knobs_st = st.builds(
            Knobs,
            family=st.integers(0, len(self.cls.families) - 1),
            dim=st.sampled_from(exp.dims),
            pattern=st.integers(0, len(PATTERNS) - 1),
            log_scale=st.floats(-1.0, 1.0),
            log_w0=st.floats(-2.0, 1.0),
            u=st.tuples(*([u_st] * k)),
            seed=st.integers(0, 2**31 - 1),
        )

        @seed(_seed_for(self.seed, exp.key))
        @settings(
            max_examples=self.budget.examples,
            database=None,
            # Wall-clock deadlines would make the search depend on machine load (and the first
            # example pays for kernel compilation); determinism matters more here.
            deadline=None,
            phases=(Phase.explicit, Phase.generate, Phase.target),
            suppress_health_check=[HealthCheck.too_slow],
            derandomize=False,
        )
        @given(knobs_st)
        def climb(knobs: Knobs) -> None:
            for name, value in self.run_batch(knobs, self.budget.example_batch).items():
                if np.isfinite(value):
                    target(float(value), label=name)

        climb()

    def confirm(self) -> None:
        for claim in self.exp.claims:
            out = self.outcomes[claim.name]
            for _, cand in out.candidates:
                try:
                    margin, tol = replay(self.exp, claim, cand, dtype=CONFIRM_DTYPE)
                except ValueError as exc:  # outside the hypotheses at higher precision: never a counterexample
                    out.error = out.error or f"replay of a violation failed: {exc}"
                    continue
                if margin < -tol:
                    out.counterexample = cand
                    out.confirmed = (margin, tol)
                    break
                out.vanished += 1

    def finish(self) -> dict[str, ClaimOutcome]:
        if self.errors:
            for out in self.outcomes.values():
                out.error = out.error or self.errors[0]
                out.notes.append(f"{len(self.errors)} batch(es) had instances outside the hypotheses")
        return self.outcomes


def rebuild(exp: Experiment, data: dict[str, Any], params: dict[str, float],
            dtype: Any = np.float64) -> tuple[Experiment, Any, np.ndarray, dict[str, np.ndarray]]:
    """One recorded instance, ready to run again: the experiment at the recorded horizon and
    settings, the decoded problem, the initial point (a batch of one) and the pre-run environment
    (instance constants and drawn parameters; after-run parameters are recomputed by the run)."""
    cls = CLASSES[exp.instance_class]
    sub = replace(exp, horizon=int(data["T"]), settings=dict(data.get("settings", {})))
    keep = set(cls.attributes) | {p.name for p in exp.parameters if not p.after_run}
    env = {k: np.asarray([params[k]], dtype=dtype) for k in sorted(keep) if k in params}
    problem = cls.decode(data).astype(dtype)
    return sub, problem, np.asarray(data["w0"], dtype=dtype)[None], env


def replay(exp: Experiment, claim: CompiledClaim, found: Found, *, dtype: Any = CONFIRM_DTYPE) -> tuple[float, float]:
    """Re-run one instance with the NumPy reference in ``dtype`` and return (margin, tolerance) of
    ``claim`` at the recorded step (the whole trajectory for trajectory claims).  Used to confirm
    violations and to replay counterexamples from their records.  Raises ``ValueError`` when the
    replayed instance is outside the hypotheses."""
    if getattr(claim, "kind", "") in ("probability", "scaling"):
        from .probability import replay_statistical

        return replay_statistical(exp, claim, found)
    data = found.data
    sub, problem, w0, env = rebuild(exp, data, found.params, dtype)
    run = run_dynamics(sub, problem, w0, env, backend="numpy", seed=int(data["seed"]),
                       instance_ids=np.asarray([data["instance_id"]], dtype=np.int64), dtype=dtype)
    args_by_kind = complete_arguments(sub, env, run)
    outside = _assumption_failures(sub, args_by_kind, 1)
    if outside[0]:
        raise ValueError(f"replayed instance is outside the hypotheses: {outside[0]}")
    args = args_by_kind[claim.kind]
    if claim.kind == "per_step" and found.step is not None:
        t = int(found.step)
        args = {k: (v[:, t : t + 1] if np.ndim(v) == 2 and np.shape(v)[1] > 1 else v) for k, v in args.items()}
    ev = evaluate(claim, args)
    return float(ev.margin[0]), float(ev.tol[0])


def run_experiment(exp: Experiment, budget: Budget, *, seed: int, backend: str) -> dict[str, ClaimOutcome]:
    """Search for counterexamples to every claim of ``exp``; confirm violations in higher
    precision.  Returns one outcome per claim name."""
    if exp.statistical:
        from .probability import run_statistical

        return run_statistical(exp, budget, seed=seed, backend=backend)
    search = _Search(exp, budget, seed, backend)
    search.bulk()
    search.hypothesis()
    from .polish import polish_search  # noqa: PLC0415 - a phase only some instance classes enable

    polish_search(search)
    search.confirm()
    return search.finish()
