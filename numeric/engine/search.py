"""Counterexample search for deterministic claims: random bulk batches, then Hypothesis climbing
toward the worst case, then confirmation of every violation in extended precision.

Determinism: all randomness comes from ``numpy.random.Generator`` and Hypothesis seeded from the
run seed and a CRC of the experiment key (never Python's salted ``hash``), and the kernels are
deterministic, so the same seed and budget give the same outcomes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..api import PATTERNS, SCALE_SUFFIX, InstanceBatch, Knobs
from .budget import Budget
from .determinism import hypothesis_without_local_constants
from .evaluate import CompiledClaim, Evaluation, evaluate
from .membership import check_counterexample
from .stop import check_stop
from .experiment import (
    class_of,
    CONFIRM_DTYPE,
    RATIO_EDGES,
    SAMPLE_CAP,
    ClaimOutcome,
    Experiment,
    Found,
    assumption_failures,
    batch_environment,
    complete_arguments,
    draw_u,
    found_at,
    rebuild,
    run_dynamics,
    seed_for,
)

__all__ = ["Search", "Replayed", "replay_found"]


class Search:
    """State of one experiment's search (accumulates outcomes across batches)."""

    def __init__(self, exp: Experiment, budget: Budget, seed: int, backend: str) -> None:
        self.exp = exp
        self.budget = budget
        self.seed = int(seed)
        self.backend = backend
        self.cls = class_of(exp)
        self.outcomes = {c.name: ClaimOutcome(c.name) for c in exp.claims}
        self.next_id = 0
        self.errors: list[str] = []
        self.ran: set[str] = set()  # backends the runner reported for the search batches
        self.confirmed_on: set[str] = set()  # backend/dtype of the confirmation replays
        self.rows_per_batch = 16

    def run_batch(self, knobs: Knobs, n: int, batch: InstanceBatch | None = None,
                  evaluations: dict[str, Any] | None = None) -> dict[str, float]:
        """Generate, check, run and evaluate one batch; returns per-claim target values.  A given
        ``batch`` is evaluated instead of a generated one; ``evaluations`` receives, per claim, the
        admissible mask and the :class:`Evaluation` (the polishing phase reads them)."""
        check_stop()  # a safe point: nothing of this batch is recorded yet (see .stop)
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
        self.ran.add(run.backend)
        args_by_kind = complete_arguments(exp, env, run)
        outside = assumption_failures(exp, args_by_kind, n)
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
                undefined = ev.bound_undefined is not None and bool(ev.bound_undefined[i])
                out.error = (
                    f"{'the bound of claim ' + repr(claim.name) + ' is not finite' if undefined else 'non-finite values along the trajectory'}"
                    f" at an admissible instance "
                    f"(family {family.name}, d={knobs.dim}, "
                    f"{', '.join(f'{p.name}={float(env[p.name][i])!r}' for p in exp.parameters if p.name in env)}, "
                    f"T={exp.horizon}): "
                    + ("the bound is undefined there (division by zero or 0/0): check the claim and its assumptions"
                       if undefined else "the dynamics overflowed or produced NaN")
                    + f"; {nonfinite.size} of {n} instances affected"
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
                out.worst = found_at(exp, batch, i, env, args, ev, ids, self.seed, claim, by_ratio)
            viol = np.flatnonzero(ok & ev.violated)
            if viol.size:
                sev = -ev.margin[viol] / np.maximum(ev.tol[viol], np.finfo(np.float64).tiny)
                for j in viol[np.argsort(-sev)][: self.budget.confirm]:
                    severity = float(-ev.margin[j] / max(float(ev.tol[j]), np.finfo(np.float64).tiny))
                    out.candidates.append((severity, found_at(exp, batch, int(j), env, args, ev, ids, self.seed, claim, False)))
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

    def bulk(self, start: int = 0, stop: int | None = None) -> None:
        """The random bulk phase, or only its rounds ``start <= r < stop`` (a slice run as its own
        task by :mod:`numeric.engine.split`): every round's knobs are drawn in order and the earlier
        rounds' skipped, so a slice runs exactly the batches the whole phase would."""
        rng = np.random.default_rng([self.seed, zlib.crc32(self.exp.key.encode()), 0xB01C])
        nf = len(self.cls.families)
        k = len(self.exp.range_parameters)
        for r in range(self.budget.bulk_rounds if stop is None else stop):
            u = tuple(float(x) for x in draw_u(rng, k))
            knobs = Knobs(
                family=r % nf,
                dim=int(self.exp.dims[(r // nf) % len(self.exp.dims)]),
                pattern=int(rng.integers(0, len(PATTERNS))) if r >= nf else 1,  # start from A = L I
                log_scale=float(rng.uniform(-1.0, 1.0)),
                log_w0=float(rng.uniform(-1.0, 1.0)),
                u=u,
                seed=int(rng.integers(0, 2**31)),
            )
            if r >= start:
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

        @seed(seed_for(self.seed, exp.key))
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

        with hypothesis_without_local_constants():  # same draws in every process (see .determinism)
            climb()

    def confirm(self) -> None:
        for claim in self.exp.claims:
            out = self.outcomes[claim.name]
            for _, cand in out.candidates:
                try:
                    r = replay_found(self.exp, claim, cand, dtype=CONFIRM_DTYPE)
                    margin, tol = r.margin, r.tol
                    self.confirmed_on.add(f"{r.backend}/{r.dtype}")
                except ValueError as exc:  # outside the hypotheses at higher precision: never a counterexample
                    out.error = out.error or f"replay of a violation failed: {exc}"
                    continue
                if margin < -tol:
                    # A violation on an instance outside its class (in exact arithmetic) is an
                    # error of the generator, never a counterexample: stop at the first one.
                    if check_counterexample(self.exp, out, cand):
                        out.counterexample = cand
                        out.confirmed = (margin, tol)
                    break
                out.vanished += 1

    def finish(self) -> dict[str, ClaimOutcome]:
        for out in self.outcomes.values():
            out.backends = {"search": "+".join(sorted(self.ran))}
            if self.confirmed_on:
                out.backends["confirm"] = "+".join(sorted(self.confirmed_on))
        if self.errors:
            for out in self.outcomes.values():
                out.error = out.error or self.errors[0]
                out.notes.append(f"{len(self.errors)} batch(es) had instances outside the hypotheses")
        return self.outcomes


@dataclass(frozen=True)
class Replayed:
    """One recorded instance re-run: both sides of the claim at the recorded step (the worst step
    for trajectory claims), the margin ``bound - observed`` (``observed - bound`` for ``>=``), the
    rounding allowance, and the backend and dtype that computed it."""

    observed: float
    bound: float
    margin: float
    tol: float
    backend: str
    dtype: str

    @property
    def violated(self) -> bool:
        """Whether the claim is violated by more than the rounding allowance."""
        return self.margin < -self.tol


def replay_found(exp: Experiment, claim: CompiledClaim, found: Found, *, dtype: Any = CONFIRM_DTYPE) -> Replayed:
    """Re-run one instance of a deterministic claim with the NumPy reference in ``dtype``, through
    the instance class's decoder and the dynamics' registered runner: the one replay path, used to
    confirm violations, to replay counterexample files and by every replay snippet.  Raises
    ``ValueError`` when the replayed instance is outside the hypotheses."""
    data = found.data
    sub, problem, w0, env = rebuild(exp, data, found.params, dtype)
    run = run_dynamics(sub, problem, w0, env, backend="numpy", seed=int(data["seed"]),
                       instance_ids=np.asarray([data["instance_id"]], dtype=np.int64), dtype=dtype)
    args_by_kind = complete_arguments(sub, env, run)
    outside = assumption_failures(sub, args_by_kind, 1)
    if outside[0]:
        raise ValueError(f"replayed instance is outside the hypotheses: {outside[0]}")
    args = args_by_kind[claim.kind]
    if claim.kind == "per_step" and found.step is not None:
        t = int(found.step)
        args = {k: (v[:, t : t + 1] if np.ndim(v) == 2 and np.shape(v)[1] > 1 else v) for k, v in args.items()}
    ev = evaluate(claim, args)
    name = "longdouble" if np.dtype(dtype) == np.dtype(np.longdouble) and np.dtype(dtype) != np.dtype(np.float64) \
        else np.dtype(dtype).name
    return Replayed(observed=float(ev.observed[0]), bound=float(ev.bound[0]), margin=float(ev.margin[0]),
                    tol=float(ev.tol[0]), backend=run.backend, dtype=name)
