"""Plot data for the report: both sides of a claim along the trajectories of its worst instance
and of its counterexample, re-run once in float64 with the NumPy reference, with the rounding
allowance the evaluation uses at every point (the report draws it as a band)."""

from __future__ import annotations

from typing import Any

import numpy as np

import numeric
from numeric.engine.evaluate import rounding_allowance as allowance
from numeric.engine.evaluate import scale_args
from numeric.engine.experiment import complete_arguments, rebuild, run_dynamics

__all__ = ["claim_series", "rounding_allowance"]


def rounding_allowance(claim: Any, args: dict[str, np.ndarray], n: int) -> np.ndarray:
    """The claim's rounding allowance at each of ``n`` points, as the evaluation computes it (the
    report draws it as the band within which a margin is rounding, not a violation)."""
    scl = np.abs(np.asarray(claim.scale(*scale_args(claim.args, args)), dtype=np.float64))
    tol = allowance(claim.ulps, scl)
    return np.broadcast_to(tol.reshape(-1) if tol.size == n else tol.reshape(-1)[:1], (n,)).copy()


def claim_series(compiled: Any, name: str, worst: Any, cex: Any, *,
                 max_points: int = 400) -> dict[str, Any]:
    """Plot data for the report (``compiled``: a :class:`theorems.pipeline.CompiledTheorem`): both sides of claim ``name`` along the worst instance's and the
    counterexample's trajectory, each re-run once in float64 with the NumPy reference (rebuilt as
    :func:`numeric.replay_found` does).  Per-step claims get one value per step; trajectory claims
    one value plus per-step context traces.  A failure here costs the plot, never the verdict."""
    exp, claim = compiled.experiment_for(name)

    def one(found: numeric.Found) -> dict[str, Any]:
        data = found.data
        sub, problem, w0, env = rebuild(exp, data, found.params)
        run = run_dynamics(sub, problem, w0, env, backend="numpy", seed=int(data["seed"]),
                           instance_ids=np.asarray([data["instance_id"]], dtype=np.int64))
        args = complete_arguments(sub, env, run)[claim.kind]
        call = [args[a] for a in claim.args]
        obs, bnd = (np.asarray(x, dtype=np.float64).reshape(-1)
                    for x in np.broadcast_arrays(claim.observed(*call), claim.bound(*call)))
        stride = max(1, -(-obs.size // max_points))
        got: dict[str, Any] = {"observed": obs[::stride].tolist(), "bound": bnd[::stride].tolist(),
                               "steps": list(range(0, obs.size, stride)), "step": found.step,
                               "tol": rounding_allowance(claim, args, obs.size)[::stride].tolist()}
        if claim.kind != "per_step":
            traces = {}
            for key, fn in numeric.DYNAMICS[exp.dynamics].per_step.items():
                if "abs" in key or key.endswith("_next") or len(traces) >= 3:
                    continue
                try:
                    v = np.asarray(fn(run), dtype=np.float64).reshape(-1)
                except Exception:  # noqa: BLE001 - an observable this run does not provide
                    continue
                traces[key] = v[:: max(1, -(-v.size // max_points))].tolist()
            got["traces"] = traces
        return got

    out: dict[str, Any] = {}
    for key, found in (("worst", worst), ("counterexample", cex)):
        if found is None:
            continue
        try:
            out[key] = one(found)
        except Exception as exc:  # noqa: BLE001 - shown in the report instead of the plot
            out[key] = {"error": f"{type(exc).__name__}: {exc}"}
    return out
