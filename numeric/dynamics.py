"""The dynamics a theorem may be about, as pluggable adapters.

A :class:`DynamicsSpec` says how to run a batch (through ``kernels``), which observables the run
provides (per step and per trajectory, with their rounding-scale companions), which drawn
parameters it reads, and how to write a stand-alone replay snippet for one instance.  Families of
theorems that need new dynamics register a new adapter here; the search engine knows none of them
by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

import kernels

from .observables import PER_STEP, SCALE_OF, TRAJECTORY, Run, make_run

__all__ = ["DynamicsSpec", "DYNAMICS", "register", "get", "ridge_problem_lines", "gd_observable_expressions"]

# (exp, problem, w0, env, backend, seed, instance_ids, dtype) -> Run
Runner = Callable[..., Run]
# (data, params, step) -> (code lines that rerun the instance, observable name -> Python expression)
Snippet = Callable[[dict[str, Any], Mapping[str, float], int | None], tuple[list[str], dict[str, str]]]


@dataclass(frozen=True)
class DynamicsSpec:
    name: str
    run: Runner
    per_step: Mapping[str, Callable[[Run], np.ndarray]]
    trajectory: Mapping[str, Callable[[Run], np.ndarray]]
    scale_of: Mapping[str, str]
    parameters: tuple[str, ...]  # drawn parameters the run reads (e.g. the step size eta)
    snippet: Snippet
    doc: str = ""

    def names(self, kind: str) -> tuple[str, ...]:
        return tuple(self.per_step) + tuple(self.trajectory) if kind == "per_step" else tuple(self.trajectory)


DYNAMICS: dict[str, DynamicsSpec] = {}


def register(spec: DynamicsSpec) -> DynamicsSpec:
    """Make ``spec`` available to theorem specs under ``spec.name``."""
    DYNAMICS[spec.name] = spec
    return spec


def get(name: str) -> DynamicsSpec:
    try:
        return DYNAMICS[name]
    except KeyError:
        raise ValueError(f"unknown dynamics {name!r}; known: {', '.join(DYNAMICS)}") from None


def _run_gd(exp: Any, problem: kernels.RidgeQuadratic, w0: np.ndarray, env: dict[str, np.ndarray], *,
            backend: str, seed: int, instance_ids: np.ndarray, dtype: Any) -> Run:
    eta = np.asarray(env["eta"], dtype=dtype)
    tr = kernels.gd(problem, w0, eta, exp.horizon, backend=backend, dtype=dtype, keep_iterates=True)
    return make_run(problem.astype(dtype), tr, eta)


def _run_sgd(exp: Any, problem: kernels.RidgeQuadratic, w0: np.ndarray, env: dict[str, np.ndarray], *,
             backend: str, seed: int, instance_ids: np.ndarray, dtype: Any) -> Run:
    eta = np.asarray(env["eta"], dtype=dtype)
    tr = kernels.sgd(problem, w0, eta, exp.horizon, batch=int(exp.settings.get("batch", 1)), seed=seed,
                     instance_ids=instance_ids, backend=backend, dtype=dtype, expectations=True,
                     keep_iterates=True)
    return make_run(problem.astype(dtype), tr, eta)


def ridge_problem_lines(d: dict[str, Any], params: Mapping[str, float]) -> list[str]:
    return [
        "import numpy as np",
        "from kernels import Ridge, RidgeQuadratic, gd, sgd",
        "ld = np.longdouble",
        f"problem = RidgeQuadratic(A=np.array([{d['A']!r}]), b=np.array([{d['b']!r}]),",
        f"    R=np.array([{d['R']!r}]).reshape(1, -1, {len(d['b'])}), s=np.array([{d['s']!r}]),",
        f"    c=np.array([{d['c']!r}]), psi=Ridge.{d['psi']}).astype(ld)",
        f"w0 = np.array([{d['w0']!r}], dtype=ld)",
        f"eta = np.array([{params['eta']!r}], dtype=ld)",
    ]


def gd_observable_expressions(d: dict[str, Any], step: int | None) -> dict[str, str]:
    t = 0 if step is None else int(step)
    return {
        "f_t": f"tr.f[0, {t}]", "f_next": f"tr.f[0, {t + 1}]", "gnorm2_t": f"tr.gnorm2[0, {t}]",
        "gnorm2_next": f"tr.gnorm2[0, {t + 1}]", "ef_next": f"tr.ef_next[0, {t}]", "eg2_t": f"tr.eg2[0, {t}]",
        "f_first": "tr.f[0, 0]", "f_last": "tr.f[0, -1]", "gnorm2_mean": "tr.gnorm2[0, :-1].mean()",
        "gnorm2_min": "tr.gnorm2[0, :-1].min()", "horizon": f"ld({d['T']})", "eta": "eta[0]",
    }


def _gd_snippet(d: dict[str, Any], params: Mapping[str, float], step: int | None) -> tuple[list[str], dict[str, str]]:
    lines = ridge_problem_lines(d, params) + [f"tr = gd(problem, w0, eta, {d['T']}, dtype=ld)"]
    return lines, gd_observable_expressions(d, step)


def _sgd_snippet(d: dict[str, Any], params: Mapping[str, float], step: int | None) -> tuple[list[str], dict[str, str]]:
    batch = int(d.get("settings", {}).get("batch", 1))
    lines = ridge_problem_lines(d, params) + [
        f"tr = sgd(problem, w0, eta, {d['T']}, batch={batch}, seed={d['seed']}, "
        f"instance_ids=np.array([{d['instance_id']}]), dtype=ld, expectations=True)"
    ]
    return lines, gd_observable_expressions(d, step)


_GD_PER_STEP = {k: v for k, v in PER_STEP.items() if k not in ("ef_next", "eg2_t", "efabs_next")}

register(DynamicsSpec(
    "gd", _run_gd, _GD_PER_STEP, TRAJECTORY, {k: v for k, v in SCALE_OF.items() if k != "ef_next"},
    ("eta",), _gd_snippet, "gradient descent w_{t+1} = w_t - eta grad f(w_t)",
))
register(DynamicsSpec(
    "sgd", _run_sgd, PER_STEP, TRAJECTORY, SCALE_OF, ("eta",), _sgd_snippet,
    "minibatch SGD with counter-based sampling; exact expectations over a single-component step",
))
