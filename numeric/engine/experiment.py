"""One experiment's data model, and how one batch of it is drawn, run and read.

An :class:`Experiment` is everything the numeric stage needs about one group of claims that share
their hypotheses: the instance class, the dynamics, how each parameter is drawn (constructively,
inside bounds derived from the assumptions), the assumption checks every instance must pass, and
the compiled claims.  This module turns knob positions into parameter values
(:func:`batch_environment`), runs the dynamics through its registered runner (:func:`run_dynamics`),
reads the claims' arguments off the run (:func:`complete_arguments`), checks the hypotheses
(:func:`assumption_failures`) and rebuilds a recorded instance (:func:`rebuild`).  The search,
the probability engine, the polisher and replays all use these same functions.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

from ..api import SCALE_SUFFIX, InstanceBatch, InstanceClass, Run, RunRequest
from ..constants import constrained
from ..registry import CLASSES, get_dynamics
from .evaluate import CompiledClaim, Evaluation, scale_args
from .observables import observe

__all__ = [
    "ParameterSpec", "AssumptionCheck", "DerivedValue", "Experiment", "Found", "ClaimOutcome", "RATIO_EDGES", "SAMPLE_CAP",
    "CONFIRM_DTYPE", "BackendMismatch", "DomainError", "seed_for", "draw_u", "batch_environment", "run_dynamics",
    "complete_arguments", "assumption_failures", "instance_data", "found_at", "rebuild", "class_of",
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
class DerivedValue:
    """A dynamics setting given in the spec as an expression of its symbols (a threshold such as
    ``8 pi^4 rho^2 lam eta``): compiled once from the spec, evaluated per instance on the batch's
    environment, and handed to the runner in ``RunRequest.params[name]`` -- so the quantity is
    written once, in the spec, never again in a runner."""

    name: str
    args: tuple[str, ...]
    value: Callable[..., np.ndarray]


@dataclass(frozen=True)
class Experiment:
    """One group of claims that share their hypotheses, compiled for the numeric stage."""

    key: str
    dynamics: str
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
    derived: tuple[DerivedValue, ...] = ()
    # The class constants the spec pins or bounds (numeric.constants.Pins): the search runs on
    # the class held to them (class_of).
    constants: tuple[tuple[str, float, float], ...] = ()

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
    # The confirmed counterexample as the search found it, when shrinking replaced it by a simpler
    # one (``counterexample``), and the shrinking moves applied, in order.
    found: Found | None = None
    shrink: tuple[str, ...] = ()
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
    # Stage -> the backend(s) that actually ran it ("search": "numba", "confirm": "numpy/longdouble").
    backends: dict[str, str] = field(default_factory=dict)
    # How the counterexample's membership in its class was certified ("exact", "extended" or
    # "float64-with-slack"; see numeric.engine.membership); "" without a counterexample.
    membership: str = ""

    def ratio_hist(self) -> dict[str, Any]:
        """The histogram of per-instance worst ratios as plain data for the record."""
        if not self.ratio_counts.any() and not any(self.ratio_outside):
            return {}
        below, above, undefined = self.ratio_outside
        return {"log10_edges": RATIO_EDGES.tolist(), "counts": self.ratio_counts.tolist(), "below": below,
                "above": above, "undefined": undefined}



# Precision used to confirm a violation before it counts.
CONFIRM_DTYPE = np.longdouble


def seed_for(seed: int, key: str) -> int:
    return (int(seed) * 0x9E3779B1 + zlib.crc32(key.encode())) % (2**32)


def draw_u(rng: np.random.Generator, n: int) -> np.ndarray:
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
    """Move a drawn value inside its bounds, judged in higher precision, so the instance satisfies
    the assumptions exactly and not just in float64 (``fl(1/L) * L`` may exceed 1).  A value
    outside is first snapped to the bound evaluated in extended precision and rounded to the
    working dtype -- a bound that cancels badly in float64 (an expanded ``((sqrt L - sqrt mu) /
    (sqrt L + sqrt mu))^2``) can be off by many ulps -- then moved the last ulps inside."""
    call = [np.asarray(env[a], dtype=CONFIRM_DTYPE) for a in p.args]
    v = np.array(value)
    for bound, is_upper, strict in ((p.upper, True, p.upper_strict), (p.lower, False, p.lower_strict)):
        if bound is None:
            continue
        limit = np.asarray(bound(*call, _dtype=CONFIRM_DTYPE), dtype=CONFIRM_DTYPE)
        vd = v.astype(CONFIRM_DTYPE)
        outside = (vd > limit) if is_upper else (vd < limit)
        v = np.where(outside & np.isfinite(limit), limit.astype(v.dtype), v)
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


class DomainError(ValueError):
    """A drawn parameter lies outside the domain its dynamics is defined on."""


def _check_domain(dyn: Any, env: dict[str, np.ndarray]) -> None:
    """Refuse values where the dynamics is undefined (validation proves most specs safe; this
    catches what it could not decide), naming the parameter, the value and the domain."""
    for dom in dyn.domain:
        if dom.name not in env:
            continue
        v = np.asarray(env[dom.name])
        bad = np.zeros(v.shape, dtype=bool)
        if dom.lower is not None:
            bad |= (v <= dom.lower) if dom.lower_strict else (v < dom.lower)
        if dom.upper is not None:
            bad |= (v >= dom.upper) if dom.upper_strict else (v > dom.upper)
        if bad.any():
            raise DomainError(f"parameter {dom.name} = {float(v[bad].flat[0])!r}, admitted by the spec's assumptions, is "
                              f"outside the domain {dom.text()} of dynamics {dyn.name!r}; tighten the assumption "
                              f"on {dom.name}")


class BackendMismatch(RuntimeError):
    """A runner reported a backend other than the one explicitly asked for (a silent fallback)."""


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
    """Run the experiment's dynamics on a batch through its registered runner.  The settings are
    the dynamics' declared defaults overridden by the spec's; a runner that reports a backend other
    than an explicitly requested one raises :class:`BackendMismatch` (never a silent fallback)."""
    dyn = get_dynamics(exp.dynamics)
    if not dyn.accepts_problem(problem):
        raise TypeError(f"dynamics {dyn.name!r} cannot run a {type(problem).__name__} (it accepts "
                        f"{', '.join(t.__name__ for t in dyn.accepts)}); declare the instance class's problem_type")
    _check_domain(dyn, env)
    params = dict(env)
    for d in exp.derived:
        call = [np.asarray(env[a], dtype=dtype) for a in d.args]
        params[d.name] = np.asarray(d.value(*call, _dtype=np.dtype(dtype).type), dtype=dtype) * np.ones(w0.shape[0], dtype=dtype)
    req = RunRequest(problem=problem, w0=w0, params=params, horizon=int(exp.horizon),
                     settings={**dyn.setting_defaults(), **exp.settings}, backend=backend, seed=int(seed),
                     instance_ids=instance_ids, dtype=dtype)
    run = dyn.run(req)
    if not isinstance(run, Run):
        raise TypeError(f"dynamics {dyn.name!r}: its runner returned a {type(run).__name__}, not a numeric.api.Run")
    if backend != "auto" and not dyn.closed_form and run.backend != backend:
        raise BackendMismatch(f"dynamics {dyn.name!r} was asked to run on {backend!r} but ran on {run.backend!r}")
    return run


def complete_arguments(exp: Experiment, env: dict[str, np.ndarray], run: Run) -> dict[str, dict[str, np.ndarray]]:
    """Per claim kind, the argument arrays: observables, instance constants, parameters (the
    after-run ones computed here from the trajectory, in the trajectory's precision)."""
    dyn = get_dynamics(exp.dynamics)
    n = next(iter(env.values())).shape[0]
    flat = dict(env)
    per_step, trajectory, scale_of = dyn.per_step, dyn.trajectory, dyn.scale_of
    wanted_traj = {name for names in exp.observables.values() for name in names if name in trajectory}
    flat.update(observe(run.data, tuple(sorted(wanted_traj)), "trajectory", per_step, trajectory, scale_of))
    for p in exp.parameters:
        if p.after_run:
            flat[p.name] = _nudge(p, flat, _value(p, flat, np.ones(n)))
            if p.scale is not None:
                flat[p.name + SCALE_SUFFIX] = np.abs(p.scale(*scale_args(p.args, flat)))
    out: dict[str, dict[str, np.ndarray]] = {}
    for kind, wanted in exp.observables.items():
        args = dict(observe(run.data, wanted, kind, per_step, trajectory, scale_of))
        for name, value in flat.items():
            if name not in args:
                args[name] = value[:, None] if kind == "per_step" else value
        out[kind] = args
    return out


def assumption_failures(exp: Experiment, args_by_kind: dict[str, dict[str, np.ndarray]], n: int) -> list[str]:
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


#: Keys the engine adds to every recorded instance next to the class's ``encode`` output.
RESERVED_KEYS = frozenset({"w0", "T", "seed", "instance_id", "settings"})


def instance_data(exp: Experiment, batch: InstanceBatch, i: int, ids: np.ndarray, seed: int) -> dict[str, Any]:
    """Everything needed to replay instance ``i``: the problem arrays (encoded by its instance
    class), the initial point, the horizon and the random-stream coordinates."""
    encoded = CLASSES[exp.instance_class].encode(batch.problem, i)
    taken = sorted(set(encoded) & RESERVED_KEYS)
    if taken:
        raise ValueError(f"instance class {exp.instance_class!r}: encode() returned the engine's reserved key(s) "
                         f"{', '.join(taken)}; rename them")
    return {
        **encoded,
        "w0": batch.w0[i].tolist(),
        "T": exp.horizon,
        "seed": int(seed),
        "instance_id": int(ids[i]),
        "settings": dict(exp.settings),
    }


def found_at(exp: Experiment, batch: InstanceBatch, i: int, env, args, ev: Evaluation, ids, seed, claim: CompiledClaim, by_ratio: bool) -> Found:
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
        data=instance_data(exp, batch, i, ids, seed),
        params={k: params[k] for k in sorted(params)},
        step=step if claim.kind == "per_step" else None,
        observed=float(ev.ratio_observed[i] if by_ratio else ev.observed[i]),
        bound=float(ev.ratio_bound[i] if by_ratio else ev.bound[i]),
        ratio=ratio,
        slack=float(ev.slack[i]),
        margin=float(ev.margin[i]),
        tol=float(ev.tol[i]),
    )


def class_of(exp: Experiment) -> InstanceClass:
    """The experiment's instance class, held to the spec's pinned constants (its generators,
    parametrisation and membership honour them; :func:`numeric.constants.constrained`)."""
    return constrained(CLASSES[exp.instance_class], exp.constants)


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


