"""Polishing: a local optimiser that climbs the observed/bound ratio from the search's best instances.

Random batches and Hypothesis's ``target`` climb over a handful of knobs; they rarely reach the exact
worst case of a first-order method, whose extremal functions are specific (curvature switching
between ``+L`` and ``-L`` at precise points).  An instance class that provides a *continuous
parametrisation* (``theta`` in a box -> a batch of members; ``InstanceClass.parametrisation``)
opts in to this phase: for every claim, a batched CMA-ES (one independent optimiser per start,
all starts' populations evaluated together in one kernel batch through the search's own
evaluation, so every polished instance is checked for membership and the hypotheses, counts
toward the claim's instances, and can become its worst case or a candidate counterexample)
maximises the claim's tightness ratio.  Starts: the parameter vectors of the best instances found so
far (when they carry one) and the parametrisation's own extremal/random draws.

At the ``default`` and ``thorough`` budgets the CMA-ES keeps a full covariance matrix (it learns
the correlated moves a chain of pieces needs: one breakpoint moved widens one piece and narrows the
next), and trajectory claims first climb the same claim over shorter horizons
(:mod:`.continuation`), whose best parameter vectors join the starts.

Deterministic: every random number comes from a generator seeded by the run seed and a CRC of the
experiment key and claim name.  Experiments whose class provides no parametrisation are unaffected.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..api import Knobs, Parametrisation
from .continuation import continuation_starts
from .experiment import batch_environment, class_of

__all__ = ["PolishBudget", "POLISH_BUDGETS", "polish_search", "cma_maximise"]

#: A batched objective: parameter vectors (n, P) -> scores (n,).
Objective = Callable[[np.ndarray], np.ndarray]
#: A batched CMA-ES (:func:`cma_maximise` or :func:`cma_full_maximise`).
Optimiser = Callable[..., tuple[np.ndarray, np.ndarray]]



@dataclass(frozen=True)
class PolishBudget:
    """``starts`` independent CMA-ES runs per claim and step-size position, ``popsize`` candidates
    per generation each, ``generations`` generations."""

    starts: int
    popsize: int
    generations: int
    sigma0: float = 0.15
    full_covariance: bool = False  # full-covariance CMA-ES (up to FULL_CMA_MAX_P parameters)
    continuation: bool = False  # trajectory claims: climb over shorter horizons first


POLISH_BUDGETS: dict[str, PolishBudget] = {
    "quick": PolishBudget(starts=8, popsize=16, generations=80),
    "default": PolishBudget(starts=8, popsize=24, generations=200, full_covariance=True, continuation=True),
    "thorough": PolishBudget(starts=16, popsize=32, generations=600, full_covariance=True, continuation=True),
}


def _score(ok: np.ndarray, ev: Any) -> np.ndarray:
    """Per instance: the tightness ratio where defined, else minus the relative slack (shifted
    below every ratio); inadmissible or non-finite instances score -inf."""
    ratio = np.asarray(ev.ratio, dtype=np.float64)
    slack = np.asarray(ev.slack, dtype=np.float64)
    s = np.where(np.isfinite(ratio), ratio, -slack - 1e6)
    return np.where(ok & np.isfinite(s), s, -np.inf)


def _recombination(lam: int) -> tuple[int, np.ndarray, float]:
    """CMA-ES recombination for ``lam`` offspring: the parent count, the log-rank weights, and
    the variance-effective selection mass."""
    mu = lam // 2
    w = np.log(mu + 0.5) - np.log(np.arange(1, mu + 1))
    w /= w.sum()
    return mu, w, float(1.0 / np.sum(w**2))


def _evaluate(objective: Objective, xs: np.ndarray, lo: np.ndarray, span: np.ndarray, mu: int, best_x: np.ndarray,
              best_f: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One generation's evaluation, shared by both CMA-ES variants: candidates ``xs`` (S, lam, P)
    in box units are clipped to the box and scored; the best point of each optimiser is kept; the
    ``mu`` best candidates are ranked with a quadratic penalty on the clipped distance."""
    S, lam, P = xs.shape
    xc = np.clip(xs, 0.0, 1.0)
    f = np.asarray(objective((lo + xc * span).reshape(S * lam, P)), dtype=np.float64).reshape(S, lam)
    pen = np.sum((xs - xc) ** 2, axis=2)
    rankf = np.where(np.isfinite(f), f, -1e300) - pen
    j = np.argmax(np.where(np.isfinite(f), f, -np.inf), axis=1)
    fj = f[np.arange(S), j]
    better = fj > best_f
    best_f = np.where(better, fj, best_f)
    best_x = np.where(better[:, None], lo + xc[np.arange(S), j] * span, best_x)
    return best_x, best_f, np.argsort(-rankf, axis=1, kind="stable")[:, :mu]


def _start_scores(objective: Objective, x0: np.ndarray) -> np.ndarray:
    """The scores of the starting points themselves (a start carried from an earlier stage may
    already be the best point its optimiser will see; CMA-ES samples only around it)."""
    f = np.asarray(objective(x0), dtype=np.float64)
    return np.where(np.isfinite(f), f, -np.inf)


def cma_maximise(objective: Objective, x0: np.ndarray, lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator, *,
                 popsize: int, generations: int, sigma0: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched separable CMA-ES (diagonal covariance, Ros & Hansen 2008): ``S`` independent
    optimisers started at ``x0`` (S, P), maximising ``objective`` (a function of an (S * popsize, P)
    array returning (S * popsize,) scores), in coordinates normalised to the box [lo, hi]
    (candidates are clipped to the box and ranked with a quadratic penalty on the clipped
    distance).  ``sigma0``: one initial step size (in box units), or one per optimiser.  Returns
    the best point and score of each optimiser."""
    S, P = x0.shape
    lam = int(popsize)
    mu, w, mueff = _recombination(lam)
    cc = (4 + mueff / P) / (P + 4 + 2 * mueff / P)
    cs = (mueff + 2) / (P + mueff + 5)
    c1 = 2 / ((P + 1.3) ** 2 + mueff) * (P + 2) / 3  # separable learning rates
    cmu = min(1 - c1, 2 * (mueff - 2 + 1 / mueff) / ((P + 2) ** 2 + mueff) * (P + 2) / 3)
    damps = 1 + 2 * max(0.0, np.sqrt((mueff - 1) / (P + 1)) - 1) + cs
    chi = np.sqrt(P) * (1 - 1 / (4 * P) + 1 / (21 * P * P))
    span = hi - lo
    m = (np.clip(x0, lo, hi) - lo) / span  # (S, P) in [0, 1]
    sigma = np.broadcast_to(np.asarray(sigma0, dtype=np.float64), (S,)).copy()
    c = np.ones((S, P))  # diagonal of C
    pc = np.zeros((S, P))
    ps = np.zeros((S, P))
    best_x = np.clip(x0, lo, hi).copy()
    best_f = _start_scores(objective, best_x)
    for gen in range(int(generations)):
        d = np.sqrt(c)
        zs = rng.standard_normal((S, lam, P))
        ys = zs * d[:, None, :]
        xs = m[:, None, :] + sigma[:, None, None] * ys
        best_x, best_f, order = _evaluate(objective, xs, lo, span, mu, best_x, best_f)
        ysel = np.take_along_axis(ys, order[:, :, None], axis=1)  # (S, mu, P)
        zsel = np.take_along_axis(zs, order[:, :, None], axis=1)
        yw = np.einsum("m,smp->sp", w, ysel)
        zw = np.einsum("m,smp->sp", w, zsel)
        m = m + sigma[:, None] * yw
        ps = (1 - cs) * ps + np.sqrt(cs * (2 - cs) * mueff) * zw
        nps = np.linalg.norm(ps, axis=1)
        hsig = (nps / np.sqrt(1 - (1 - cs) ** (2 * (gen + 1))) / chi) < (1.4 + 2 / (P + 1))
        pc = (1 - cc) * pc + hsig[:, None] * np.sqrt(cc * (2 - cc) * mueff) * yw
        c = ((1 - c1 - cmu) * c + c1 * (pc * pc + ((1 - hsig) * cc * (2 - cc))[:, None] * c)
             + cmu * np.einsum("m,smp->sp", w, ysel * ysel))
        sigma = np.clip(sigma * np.exp((cs / damps) * (nps / chi - 1)), 1e-12, 1.0)
    return best_x, best_f


def cma_full_maximise(objective: Objective, x0: np.ndarray, lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator, *,
                      popsize: int, generations: int, sigma0: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched CMA-ES with a full covariance matrix (Hansen's (mu/mu_w, lambda) rules): the same
    contract as :func:`cma_maximise`.  The full covariance learns the correlated directions a
    chain of pieces needs (moving one breakpoint widens one piece and narrows its neighbour),
    which the separable variant cannot represent; it costs one P x P eigendecomposition per
    optimiser and generation, so it is used for P up to :data:`FULL_CMA_MAX_P`."""
    S, P = x0.shape
    lam = int(popsize)
    mu, w, mueff = _recombination(lam)
    cc = (4 + mueff / P) / (P + 4 + 2 * mueff / P)
    cs = (mueff + 2) / (P + mueff + 5)
    c1 = 2 / ((P + 1.3) ** 2 + mueff)
    cmu = min(1 - c1, 2 * (mueff - 2 + 1 / mueff) / ((P + 2) ** 2 + mueff))
    damps = 1 + 2 * max(0.0, np.sqrt((mueff - 1) / (P + 1)) - 1) + cs
    chi = np.sqrt(P) * (1 - 1 / (4 * P) + 1 / (21 * P * P))
    span = hi - lo
    m = (np.clip(x0, lo, hi) - lo) / span
    sigma = np.broadcast_to(np.asarray(sigma0, dtype=np.float64), (S,)).copy()
    C = np.broadcast_to(np.eye(P), (S, P, P)).copy()
    B = C.copy()
    D = np.ones((S, P))
    pc = np.zeros((S, P))
    ps = np.zeros((S, P))
    best_x = np.clip(x0, lo, hi).copy()
    best_f = _start_scores(objective, best_x)
    for gen in range(int(generations)):
        zs = rng.standard_normal((S, lam, P))
        ys = np.matmul(zs * D[:, None, :], np.swapaxes(B, 1, 2))
        xs = m[:, None, :] + sigma[:, None, None] * ys
        best_x, best_f, order = _evaluate(objective, xs, lo, span, mu, best_x, best_f)
        ysel = np.take_along_axis(ys, order[:, :, None], axis=1)
        zsel = np.take_along_axis(zs, order[:, :, None], axis=1)
        yw = np.einsum("m,smp->sp", w, ysel)
        zw = np.einsum("m,smp->sp", w, zsel)
        m = m + sigma[:, None] * yw
        ps = (1 - cs) * ps + np.sqrt(cs * (2 - cs) * mueff) * np.matmul(B, zw[:, :, None])[..., 0]
        nps = np.linalg.norm(ps, axis=1)
        hsig = (nps / np.sqrt(1 - (1 - cs) ** (2 * (gen + 1))) / chi) < (1.4 + 2 / (P + 1))
        pc = (1 - cc) * pc + hsig[:, None] * np.sqrt(cc * (2 - cc) * mueff) * yw
        rank_mu = np.matmul(np.swapaxes(ysel * w[None, :, None], 1, 2), ysel)
        C = ((1 - c1 - cmu) * C + c1 * (pc[:, :, None] * pc[:, None, :]
                                        + ((1 - hsig) * cc * (2 - cc))[:, None, None] * C) + cmu * rank_mu)
        C = 0.5 * (C + np.swapaxes(C, 1, 2))
        sigma = np.clip(sigma * np.exp((cs / damps) * (nps / chi - 1)), 1e-12, 1.0)
        ev, B = np.linalg.eigh(C)
        D = np.sqrt(np.maximum(ev, 1e-20))
    return best_x, best_f


#: Largest parameter count for which the polisher uses the full-covariance CMA-ES.
FULL_CMA_MAX_P = 120


def _cma(P: int, pb: PolishBudget) -> Optimiser:
    """The CMA-ES variant for P parameters at budget ``pb``."""
    return cma_full_maximise if pb.full_covariance and P <= FULL_CMA_MAX_P else cma_maximise


def _start_thetas(search: Any, claim_name: str, P: int, p: Parametrisation) -> list[np.ndarray]:
    """Parameter vectors of the claim's best instances so far (worst case first, then candidate
    violations), resized to ``P``; instances without one are skipped."""
    out = search.outcomes[claim_name]
    found = [out.worst] + [c for _, c in out.candidates]
    thetas: list[np.ndarray] = []
    for f in found:
        if f is None or f.data.get("theta") is None:
            continue
        t = p.resize(np.asarray([f.data["theta"]], dtype=np.float64), P)[0]
        if not any(np.array_equal(t, x) for x in thetas):
            thetas.append(t)
    return thetas


def _free(exp: Any, p: Parametrisation, P: int) -> bool:
    """Whether some drawn parameter has a range of admissible values (not pinned by an equality)."""
    k = len(exp.range_parameters)
    if k == 0:
        return False
    lo, hi = p.bounds(P)
    batch = p.build(((lo + hi) / 2)[None, :])
    a = batch_environment(exp, batch, np.zeros((1, k)))
    b = batch_environment(exp, batch, np.ones((1, k)))
    return any(not np.allclose(a[q.name], b[q.name], rtol=1e-12, atol=0) for q in exp.range_parameters)


def polish_search(search: Any) -> None:
    """The polishing phase of :func:`numeric.search.run_experiment` (a no-op for instance classes
    without a registered parametrisation).  Half the starts continue from the best instances found
    so far with small steps (0.02 - 0.1 of the box), the rest start from the parametrisation's own
    draws with ``sigma0``.  Drawn parameters sit at their upper ends (where step conditions are
    tight) and, where they have a range, at one random position too."""
    exp = search.exp
    p = class_of(exp).parametrisation
    if p is None:
        return
    pb = POLISH_BUDGETS.get(search.budget.name, POLISH_BUDGETS["quick"])
    P = p.size(exp.horizon)
    lo, hi = p.bounds(P)
    k = len(exp.range_parameters)
    for claim in exp.claims:
        rng = np.random.default_rng([search.seed, zlib.crc32(exp.key.encode()), zlib.crc32(claim.name.encode()), 0x5017])
        # Parameter positions: the upper ends (where step conditions are tight) and one random draw.
        u_choices = [tuple([1.0] * k)] + ([tuple(float(x) for x in rng.random(k))] if _free(exp, p, P) else [])
        for u in u_choices:
            knobs = Knobs(family=0, dim=1, pattern=0, log_scale=0.0, log_w0=0.0, u=u, seed=0)

            def objective(theta: np.ndarray, _knobs: Knobs = knobs, _name: str = claim.name) -> np.ndarray:
                batch = p.build(theta)
                evals: dict[str, Any] = {}
                search.run_batch(_knobs, batch.size, batch=batch, evaluations=evals)
                if _name not in evals:
                    return np.full(batch.size, -np.inf)
                return _score(*evals[_name])

            seeds = _start_thetas(search, claim.name, P, p)
            if pb.continuation and claim.kind == "trajectory":  # climb the claim over shorter horizons first
                seeds += continuation_starts(search, claim.name, p, knobs, rng, _cma(P, pb), _score,
                                             starts=pb.starts, popsize=pb.popsize,
                                             generations=max(1, pb.generations // 2), sigma0=pb.sigma0,
                                             keep=max(1, pb.starts // (2 if hasattr(p, "frontier") else 4)))
            n_seeded = min(pb.starts // 2, 2 * len(seeds)) if seeds else 0
            seeded = [seeds[i % len(seeds)] for i in range(n_seeded)]
            sig_seeded = [(0.02, 0.05, 0.1)[(i // len(seeds)) % 3] if seeds else 0 for i in range(n_seeded)]
            fresh = p.sample(rng, pb.starts - n_seeded, P)
            x0 = np.vstack([np.asarray(seeded).reshape(-1, P), fresh])
            sigma0 = np.asarray(sig_seeded + [pb.sigma0] * fresh.shape[0])
            # Round 1: every start; round 2: all optimisers restart around the best points of
            # round 1 with small steps (the worst cases are narrow ridges of a max-min objective).
            half = max(1, pb.generations // 2)
            best_x, best_f = _cma(P, pb)(objective, x0, lo, hi, rng, popsize=pb.popsize,
                                          generations=half, sigma0=sigma0)
            top = best_x[np.argsort(-best_f, kind="stable")[: max(1, pb.starts // 4)]]
            x1 = top[np.arange(pb.starts) % top.shape[0]]
            sig1 = np.asarray([(0.005, 0.01, 0.02, 0.05)[(i // top.shape[0]) % 4] for i in range(pb.starts)])
            _cma(P, pb)(objective, x1, lo, hi, rng, popsize=pb.popsize, generations=pb.generations - half,
                         sigma0=sig1)
