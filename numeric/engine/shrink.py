"""Shrinking a confirmed counterexample to one a reader can check by hand.

The search finds violations wherever its generators happen to be: an 8 x 8 matrix with noise in
every entry, a step size like 0.5338729200786022, step 7 of 12.  Once a violation is confirmed,
:func:`shrink` greedily applies simplifying moves, the way Hypothesis shrinks a failing example,
and keeps a move only when the new instance is still a counterexample by every rule a found one
must pass:

* it belongs to its instance class (the class's own membership check);
* it round-trips exactly through the class's encode/decode (so the record replays it);
* its constants and parameters are finite, every drawn parameter lies in its admissible range, and
  every assumption holds (the replay checks them);
* the claim is violated beyond the rounding allowance both in float64 and in ``numpy.longdouble``.

Moves, most aggressive first: the earliest violating step and the shortest horizon; the instance
class's own simplifications (fewer dimensions or terms, constants scaled to 1, entries zeroed or
rounded; :attr:`numeric.api.InstanceClass.shrink`); the initial point normalised and rounded;
drawn parameters snapped to the simplest value in their range (an end of the range such as
``eta = 1/L``, small-denominator rationals, short decimals).  When a class move changes the
constants, the drawn parameters are tried both at their old values and at their old relative
positions in the new ranges (``eta = 1/L`` stays ``1/L``).

Shrinking never changes a verdict: it starts from a confirmed counterexample and only ever trades it
for another confirmed one.  It is deterministic (no randomness, a fixed cap on the checks), so the
same seed and budget still give the same records.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Iterator

import numpy as np

from ..api import InstanceBatch
from .evaluate import CompiledClaim, evaluate
from .experiment import (
    class_of,
    CONFIRM_DTYPE,
    Experiment,
    Found,
    ParameterSpec,
    _nudge,
    _value,
    assumption_failures,
    complete_arguments,
    found_at,
    rebuild,
    run_dynamics,
)
from .search import replay_found

__all__ = ["Shrunk", "shrink", "SHRINK_CHECKS", "simplicity"]

#: Most candidate instances checked per counterexample (each check is two single-instance replays).
SHRINK_CHECKS = 240
#: Most moves kept per counterexample (a guard; every move makes the instance strictly simpler).
MAX_MOVES = 60


@dataclass(frozen=True)
class Shrunk:
    """The result of shrinking: the simpler counterexample (float64 values at its step), the moves
    applied in order, and its margin and rounding allowance in extended precision."""

    found: Found
    moves: tuple[str, ...]
    margin: float
    tol: float


@dataclass(frozen=True)
class _State:
    data: dict[str, Any]
    values: dict[str, float]  # instance constants and pre-run parameters
    step: int | None

    def key(self) -> str:
        return json.dumps([self.data, self.values, self.step], sort_keys=True, default=str)


def simplicity(x: float, upper: float | None = None) -> tuple[int, int, int]:
    """How simple a number reads, smaller being simpler: 0; the upper end of its range (``1/L``);
    a rational p/q with q <= 12; a decimal with few significant digits; anything else."""
    if x == 0:
        return (0, 0, 0)
    if upper is not None and x == upper:
        return (1, 0, 0)
    fr = Fraction(x).limit_denominator(12)
    if float(fr) == x and abs(fr.numerator) <= 1000:
        return (1, fr.denominator, abs(fr.numerator))
    for digits in range(1, 8):
        if float(f"{x:.{digits - 1}e}") == x:
            return (2, digits, 0)
    return (3, 0, 0)


def _simple_values(lo: float, hi: float, lo_strict: bool, hi_strict: bool, current: float) -> Iterator[float]:
    """Candidate simple values inside [lo, hi], simplest first (see :func:`simplicity`)."""
    def inside(v: float) -> bool:
        return (v > lo if lo_strict else v >= lo) and (v < hi if hi_strict else v <= hi)

    cands: list[float] = []
    if math.isfinite(hi) and not hi_strict:
        cands.append(hi)
    for q in range(1, 13):
        for p in range(-24 * q, 24 * q + 1):
            if math.gcd(p, q) == 1:
                v = p / q
                if inside(v):
                    cands.append(v)
    for digits in range(1, 4):
        v = float(f"{current:.{digits - 1}e}")
        if inside(v):
            cands.append(v)
    seen: set[float] = set()
    for v in sorted(cands, key=lambda v: simplicity(v, hi)):
        if v not in seen:
            seen.add(v)
            yield v


class _Shrinker:
    def __init__(self, exp: Experiment, claim: CompiledClaim, found: Found, limit: int) -> None:
        self.exp = exp
        self.claim = claim
        self.family = found.family
        self.cls = class_of(exp)
        self.limit = limit
        self.checks = 0
        self.rejected: set[str] = set()
        keep = set(self.cls.attributes) | {p.name for p in exp.parameters if not p.after_run}
        self.pre_run = [p for p in exp.parameters if not p.after_run]
        self.state = _State(dict(found.data), {k: float(v) for k, v in found.params.items() if k in keep}, found.step)

    # -- checking one candidate -------------------------------------------------------------------

    def _bounds(self, p: ParameterSpec, values: dict[str, float]) -> tuple[float, float]:
        call = [np.asarray([values[a]], dtype=np.float64) for a in p.args]
        lo = -math.inf if p.lower is None else float(np.asarray(p.lower(*call)).reshape(-1)[0])
        hi = math.inf if p.upper is None else float(np.asarray(p.upper(*call)).reshape(-1)[0])
        return lo, hi

    def _settle(self, values: dict[str, float]) -> dict[str, float] | None:
        """Recompute the parameters drawn at an end of their range (they follow the constants) and
        check that every other drawn parameter is inside its range, judged in extended precision."""
        values = dict(values)
        env = {k: np.asarray([v], dtype=np.float64) for k, v in values.items()}
        for p in self.pre_run:
            if any(a not in env for a in p.args):
                return None
            if p.draw != "range":
                env[p.name] = _nudge(p, env, _value(p, env, np.zeros(1)))
                values[p.name] = float(env[p.name][0])
                continue
            v = np.asarray([values[p.name]], dtype=np.float64)
            if _nudge(p, env, v)[0] != v[0]:  # nudging moves only values outside the range
                return None
        return values

    def check(self, state: _State) -> tuple[Found, float, float] | None:
        """The candidate as a confirmed counterexample (float64 description, extended-precision
        margin and allowance), or None when it breaks any rule."""
        key = state.key()
        if key in self.rejected or self.checks >= self.limit:
            return None
        self.checks += 1
        self.rejected.add(key)  # a kept state is never proposed again either
        try:
            return self._check(state)
        except Exception:  # noqa: BLE001 - a move a decoder or runner cannot take is just a rejected move
            return None

    def _check(self, state: _State) -> tuple[Found, float, float] | None:
        if not all(math.isfinite(v) for v in state.values.values()):
            return None
        values = self._settle(state.values)
        if values is None:
            return None
        data = state.data
        problem = self.cls.decode(data)
        encoded = self.cls.encode(problem, 0)
        if json.dumps({k: data.get(k) for k in encoded}, sort_keys=True) != json.dumps(encoded, sort_keys=True):
            return None
        w0 = np.asarray(data["w0"], dtype=np.float64)[None]
        if not np.all(np.isfinite(w0)):
            return None
        attrs = {k: np.asarray([values[k]], dtype=np.float64) for k in self.cls.attributes if k in values}
        batch = InstanceBatch(self.family, problem, w0, attrs)
        ok, _ = self.cls.member(batch)
        if not bool(np.asarray(ok)[0]):
            return None
        # A simpler instance must be inside the class as surely as the one it replaces.
        if self.cls.member_exact is not None and not self.cls.member_exact(batch).ok:
            return None
        probe = Found(family=self.family, dynamics=self.exp.dynamics, data=data, params=values, step=state.step,
                      observed=0.0, bound=0.0, ratio=None, slack=0.0, margin=0.0, tol=0.0)
        r64 = replay_found(self.exp, self.claim, probe, dtype=np.float64)
        if not r64.violated:
            return None
        rld = replay_found(self.exp, self.claim, probe, dtype=CONFIRM_DTYPE)
        if not rld.violated:
            return None
        return self._describe(data, values, state.step), rld.margin, rld.tol

    def _describe(self, data: dict[str, Any], values: dict[str, float], step: int | None) -> Found:
        """The float64 record of an accepted instance: both sides and every argument at its step."""
        sub, problem, w0, env = rebuild(self.exp, data, values)
        ids = np.asarray([data["instance_id"]], dtype=np.int64)
        run = run_dynamics(sub, problem, w0, env, backend="numpy", seed=int(data["seed"]), instance_ids=ids)
        args_by_kind = complete_arguments(sub, env, run)
        if assumption_failures(sub, args_by_kind, 1)[0]:
            raise ValueError("outside the hypotheses")
        args = args_by_kind[self.claim.kind]
        if self.claim.kind == "per_step" and step is not None:
            args = {k: (v[:, step : step + 1] if np.ndim(v) == 2 and np.shape(v)[1] > 1 else v) for k, v in args.items()}
        ev = evaluate(self.claim, args)
        batch = InstanceBatch(self.family, problem.astype(np.float64), w0, {})
        found = found_at(sub, batch, 0, env, args, ev, ids, int(data["seed"]), self.claim, False)
        # found_at re-encodes the problem; keep the exact recorded data (same arrays, same keys).
        return replace(found, data=dict(data), step=step if self.claim.kind == "per_step" else None)

    # -- candidate moves --------------------------------------------------------------------------

    def _time_moves(self, s: _State) -> Iterator[tuple[str, _State]]:
        T = int(s.data["T"])
        if self.claim.kind == "per_step" and s.step is not None:
            for t in range(0, s.step):
                yield f"earliest violating step t = {t}", _State({**s.data, "T": t + 1}, s.values, t)
            if T > s.step + 1:
                yield f"horizon cut to T = {s.step + 1}", _State({**s.data, "T": s.step + 1}, s.values, s.step)
        elif self.claim.kind == "trajectory" and "horizon" in self.claim.args:
            for t in sorted({1, 2, 3, 5, 10, 20, 50, 100, T // 2}):
                if 1 <= t < T:
                    yield f"horizon cut to T = {t}", _State({**s.data, "T": t}, s.values, s.step)

    def _class_moves(self, s: _State) -> Iterator[tuple[str, _State]]:
        if self.cls.shrink is None:
            return
        attrs = {k: s.values[k] for k in self.cls.attributes if k in s.values}
        for move, data, new_attrs in self.cls.shrink(dict(s.data), attrs):
            values = {**s.values, **{k: float(v) for k, v in new_attrs.items()}}
            yield move, _State(data, values, s.step)
            moved = self._same_positions(s.values, values)
            if moved is not None and moved != values:
                yield move + " (parameters kept at their relative positions)", _State(data, moved, s.step)

    def _same_positions(self, old: dict[str, float], new: dict[str, float]) -> dict[str, float] | None:
        out = dict(new)
        for p in self.pre_run:
            if p.draw != "range" or any(a not in old or a not in new for a in p.args):
                continue
            lo0, hi0 = self._bounds(p, old)
            lo1, hi1 = self._bounds(p, new)
            if not all(math.isfinite(x) for x in (lo0, hi0, lo1, hi1)) or hi0 <= lo0:
                return None
            u = (old[p.name] - lo0) / (hi0 - lo0)
            out[p.name] = hi1 if u == 1.0 else lo1 + u * (hi1 - lo1)
        return out

    def _w0_moves(self, s: _State) -> Iterator[tuple[str, _State]]:
        w0 = np.asarray(s.data["w0"], dtype=np.float64)
        if w0.size == 0:
            return

        def with_w0(w: np.ndarray) -> dict[str, Any]:
            return {**s.data, "w0": w.tolist()}

        big = float(np.abs(w0).max())
        if big > 0 and big != 1.0:
            yield "initial point scaled to max |w0| = 1", _State(with_w0(w0 / big), s.values, s.step)
        tiny = (w0 != 0) & (np.abs(w0) <= 1e-8 * big)
        if tiny.any():
            yield "zeroed negligible entries of w0", _State(with_w0(np.where(tiny, 0.0, w0)), s.values, s.step)
        for digits in (1, 2, 3):
            r = np.asarray([float(f"{x:.{digits - 1}e}") for x in w0.reshape(-1)]).reshape(w0.shape)
            if np.any(r != w0):
                yield f"w0 rounded to {digits} significant digit(s)", _State(with_w0(r), s.values, s.step)

    def _parameter_moves(self, s: _State) -> Iterator[tuple[str, _State]]:
        for p in self.pre_run:
            if p.draw != "range" or p.name not in s.values:
                continue
            v = s.values[p.name]
            lo, hi = self._bounds(p, s.values)
            here = simplicity(v, hi)
            for cand in _simple_values(lo, hi, p.lower_strict, p.upper_strict, v):
                if simplicity(cand, hi) >= here:
                    break
                label = f"{p.name} at the upper end of its range ({cand:.6g})" if cand == hi else f"{p.name} = {cand:.6g}"
                yield label, _State(s.data, {**s.values, p.name: cand}, s.step)

    def moves(self, s: _State) -> Iterator[tuple[str, _State]]:
        yield from self._time_moves(s)
        yield from self._class_moves(s)
        yield from self._w0_moves(s)
        yield from self._parameter_moves(s)

    def run(self) -> Shrunk | None:
        start = self.check(self.state)
        if start is None:
            return None  # the found instance itself does not pass every rule here: leave it alone
        best, margin, tol = start
        applied: list[str] = []
        while len(applied) < MAX_MOVES and self.checks < self.limit:
            for move, cand in self.moves(self.state):
                got = self.check(cand)
                if got is not None:
                    best, margin, tol = got
                    self.state = cand
                    applied.append(move)
                    break
                if self.checks >= self.limit:
                    break
            else:
                break
        return Shrunk(found=best, moves=tuple(applied), margin=margin, tol=tol)


def shrink(exp: Experiment, claim: CompiledClaim, found: Found, *, limit: int = SHRINK_CHECKS) -> Shrunk | None:
    """Shrink the confirmed counterexample ``found`` of ``claim`` (see the module docstring).
    Returns None when ``found`` itself does not pass the checks here (it is then recorded as
    found); otherwise the simplest counterexample reached, with the moves applied (possibly none)."""
    return _Shrinker(exp, claim, found, limit).run()
