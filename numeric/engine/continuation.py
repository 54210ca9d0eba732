"""Horizon continuation: starting points for the polisher on a long trajectory claim, found on the
same claim over shorter horizons.

The worst case of an N-step claim is a narrow ridge of a max-min objective in a space that grows
with N: every step's piece of the function must line up with where the earlier steps left the
iterate, so a local optimiser started at random stalls far below it (on the generic smooth class,
at the quadratics' 75% for N = 5 and N = 10).  The same claim over n < N steps is easier, and a
parametrisation whose ``resize`` keeps the function near the start (pieces added or dropped far
from it, as the piecewise-quadratic classes do) turns an n-step worst case into a start for n' > n
steps.  This module climbs n = 1, 2, 4, ... up to N with the polisher's own CMA-ES, each stage on a
scratch search over the shorter horizon, and hands the best parameter vectors of the last stage to
the polisher as starts.

The scratch searches' instances are instances of a *different* statement (the claim at n steps)
and never count for the claim being checked; only the final parameter vectors are used, and every
instance built from them is evaluated afresh at the claim's own horizon.  Deterministic: every
random number comes from the generator the caller passes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import numpy as np

from ..api import Knobs, Parametrisation

__all__ = ["horizons", "continuation_starts"]


def horizons(N: int) -> list[int]:
    """The shorter horizons visited before N: 1, 2, 4, ... below N (empty for N <= 2)."""
    out, n = [], 1
    while n < N and N > 2:
        out.append(n)
        n *= 2
    return out


def continuation_starts(search: Any, claim_name: str, p: Parametrisation, knobs: Knobs, rng: np.random.Generator,
                        cma: Callable[..., tuple[np.ndarray, np.ndarray]], score: Callable[..., np.ndarray], *,
                        starts: int, popsize: int, generations: int, sigma0: float, keep: int) -> list[np.ndarray]:
    """Parameter vectors (for the claim's own horizon) reached by climbing the claim over shorter
    horizons; [] when the experiment's horizon is too short for a continuation to help."""
    exp = search.exp
    stages = horizons(int(exp.horizon))
    if not stages:
        return []
    best: np.ndarray | None = None
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
            x0, sig = fresh, np.full(starts, sigma0)
        else:
            carried = p.resize(best, P)
            x0 = np.vstack([carried[np.arange(starts - starts // 4) % carried.shape[0]], fresh[: starts // 4]])
            sig = np.concatenate([np.full(starts - starts // 4, sigma0 / 3), np.full(starts // 4, sigma0)])
        bx, bf = cma(objective, x0, lo, hi, rng, popsize=popsize, generations=generations, sigma0=sig)
        best = bx[np.argsort(-bf, kind="stable")[: max(1, keep)]]
    assert best is not None
    return list(p.resize(best, p.size(int(exp.horizon))))
