"""Horizon continuation: starting points for the polisher on a long trajectory claim, found on the
same claim over shorter horizons.

The worst case of an N-step claim is a narrow ridge of a max-min objective in a space that grows
with N: every step's piece of the function must line up with where the earlier steps left the
iterate, so a local optimiser started at random stalls far below it (on the generic smooth class,
at the quadratics' 75% for N = 5 and N = 10).  The same claim over n < N steps is easier, and a
parametrisation whose ``resize`` keeps the function near the start (pieces added or dropped far
from it, as the piecewise-quadratic classes do) turns an n-step worst case into a start for n' > n
steps.  This module climbs n = 1, 2, 3, ... up to N with the polisher's own CMA-ES, each stage on a
scratch search over that horizon, and hands the best parameter vectors of the last stage to the
polisher as starts.

A parametrisation that also says which parameters a longer horizon adds (``frontier(P_old, P)``,
as the generic first-order classes' does: the pieces beyond where the shorter trajectory ended)
gets, at every stage, a search over those parameters alone first, the rest held at the shorter
horizon's worst case, then a short joint search; the last stage is then the claim's own horizon.
A first-order method's first n steps see only the function near the start, so the n-step worst
case stays right for them, and the part left to find is a few parameters instead of all of them:
on the generic smooth class this takes the min-gradient claim of GD from about 80% of the exact
worst case to 99.9% at N = 5 and 10.

The scratch searches' instances are instances of a *different* statement (the claim at n steps),
or of the claim on a scratch search, and never count for the claim being checked; only the final
parameter vectors are used, and every instance built from them is evaluated afresh at the claim's
own horizon by the polisher.  Deterministic: every
random number comes from the generator the caller passes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import numpy as np

from ..api import Knobs, Parametrisation

__all__ = ["horizons", "continuation_starts"]


def horizons(N: int, one_by_one: bool = False) -> list[int]:
    """The shorter horizons visited before N: 1, 2, 4, ... below N (empty for N <= 2), or with
    ``one_by_one`` 1, 2, ..., N - 1 (empty for N = 1).  A parametrisation with a frontier goes
    one step at a time, so each stage adds one pair of pieces to search (doubling the horizon
    made each stage's added part as large as all before it, and the stages lost ground: 88% of
    the exact min-gradient worst case at N = 10 against 99.8% one step at a time)."""
    if one_by_one:
        return list(range(1, N))
    out, n = [], 1
    while n < N and N > 2:
        out.append(n)
        n *= 2
    return out


def _frontier_stage(objective: Callable[[np.ndarray], np.ndarray], carried: np.ndarray, idx: np.ndarray,
                    lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator,
                    cma: Callable[..., tuple[np.ndarray, np.ndarray]], *, starts: int, popsize: int,
                    generations: int, sigma0: float) -> np.ndarray:
    """Search only the parameters ``idx`` (those a longer horizon adds) of the carried vectors,
    the rest held: a first-order method's first steps see only the function near the start, so
    the shorter horizon's worst case stays right for them, and the search over the added pieces
    is low-dimensional.  Returns the improved vectors, best first."""
    base = carried[np.arange(starts) % carried.shape[0]]

    def sub_objective(phi: np.ndarray) -> np.ndarray:
        full = np.repeat(base[:1], phi.shape[0], axis=0)
        full[:, idx] = phi
        return objective(full)

    outs = []
    for b in range(carried.shape[0]):  # each carried vector gets its own optimisers
        base = carried[b:b + 1]
        x0 = np.repeat(base[:, idx], max(1, starts // carried.shape[0]), axis=0)
        sig = sigma0 * np.asarray([0.1, 0.3, 1.0])[np.arange(x0.shape[0]) % 3]
        bx, bf = cma(sub_objective, x0, lo[idx], hi[idx], rng, popsize=popsize, generations=generations, sigma0=sig)
        full = np.repeat(base, bx.shape[0], axis=0)
        full[:, idx] = bx
        outs.append((bf, full))
    f = np.concatenate([o[0] for o in outs])
    x = np.vstack([o[1] for o in outs])
    return x[np.argsort(-f, kind="stable")]


def continuation_starts(search: Any, claim_name: str, p: Parametrisation, knobs: Knobs, rng: np.random.Generator,
                        cma: Callable[..., tuple[np.ndarray, np.ndarray]], score: Callable[..., np.ndarray], *,
                        starts: int, popsize: int, generations: int, sigma0: float, keep: int) -> list[np.ndarray]:
    """Parameter vectors (for the claim's own horizon) reached by climbing the claim over shorter
    horizons; [] when the experiment's horizon is too short for a continuation to help."""
    exp = search.exp
    frontier = getattr(p, "frontier", None)
    stages = horizons(int(exp.horizon), one_by_one=frontier is not None)
    if not stages:
        return []
    best: np.ndarray | None = None
    P_prev = 0
    if frontier is not None:
        stages = stages + [int(exp.horizon)]  # the added pieces of the claim's own horizon too
    for n in stages:
        sub = search.__class__(replace(exp, horizon=n), search.budget, search.seed, search.backend)
        P = p.size(n)
        lo, hi = p.bounds(P)

        def objective(theta: np.ndarray, _s: Any = sub) -> np.ndarray:
            batch = p.build(theta)
            evals: dict[str, Any] = {}
            _s.run_batch(knobs, batch.size, batch=batch, evaluations=evals)
            if claim_name not in evals:
                return np.full(batch.size, -np.inf)
            return score(*evals[claim_name])

        fresh = p.sample(rng, starts, P)
        if best is None:
            bx, bf = cma(objective, fresh, lo, hi, rng, popsize=popsize, generations=generations, sigma0=sigma0)
        else:
            carried = p.resize(best, P)
            if frontier is not None:
                carried = _frontier_stage(objective, carried, frontier(P_prev, P), lo, hi, rng, cma, starts=starts,
                                          popsize=popsize, generations=generations, sigma0=sigma0)
            x0 = np.vstack([carried[np.arange(starts - starts // 4) % carried.shape[0]], fresh[: starts // 4]])
            n_carried = starts - starts // 4
            # Carried starts with a frontier take small steps, in a spread of sizes: the shorter
            # horizon's worst case is a narrow ridge, and steps of a fair part of the box lose its
            # alignments at once.
            small = (sigma0 * np.asarray([0.03, 0.1, 0.3])[np.arange(n_carried) % 3] if frontier is not None
                     else np.full(n_carried, sigma0 / 3))
            sig = np.concatenate([small, np.full(starts // 4, sigma0)])
            # After a frontier search, a short joint search lets the held part follow.
            joint = generations if frontier is None else max(1, generations // 4)
            bx, bf = cma(objective, x0, lo, hi, rng, popsize=popsize, generations=joint, sigma0=sig)
        best = bx[np.argsort(-bf, kind="stable")[: max(1, keep)]]
        P_prev = P
    assert best is not None
    return list(p.resize(best, p.size(int(exp.horizon))))
