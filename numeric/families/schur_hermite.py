"""Schur family, the Hermite lemma: Sigma(X) = E_w[(phi'(Xw) phi'(Xw)^T) o (X X^T)] against mu_1^2 X X^T o X X^T
on unit-norm data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from kernels import matrices as mk
from kernels.backend import select

from ..api import (
    Dynamics,
    Family,
    InstanceBatch,
    InstanceClass,
    Membership,
    Knobs,
    Run,
    RunRequest,
    keyed,
    observables,
)
from .exact_members import unit_data_member_exact
from .schur import eigvalsh, gen_unit_data, unit_member

__all__ = ["HermiteData", "hermite_observables"]

#: This module's instance classes and dynamics (registered through the entry points
#: ``thmcheck.classes`` / ``thmcheck.dynamics``; importing the module registers nothing).
CLASSES: list[InstanceClass] = []
DYNAMICS: list[Dynamics] = []


# ------------------------------------------------------------------------------------------------
# Hermite lemma: Sigma(X) = E_w[(phi'(Xw) phi'(Xw)^T) o (X X^T)] on unit-norm data
# ------------------------------------------------------------------------------------------------

#: Activations the Hermite class draws (codes into kernels.matrices.HERMITE_ACTIVATIONS): softplus
#: (two-dimensional Gauss-Hermite quadrature, 48 nodes: error below 2e-15, checked against 160
#: nodes in the tests) and erf (exact expectation).  tanh is left out: at 48 nodes its quadrature
#: error near |rho| = 1 is ~1e-7, far above the rounding allowance.
HERMITE_CODES = (0, 2)


@dataclass(frozen=True)
class HermiteData:
    X: np.ndarray  # (N, n, d); rows normalised by the kernels
    act: np.ndarray  # (N,) codes into kernels.matrices.HERMITE_ACTIVATIONS

    def astype(self, dtype: Any) -> "HermiteData":
        return HermiteData(self.X.astype(dtype), self.act)


def _gen_hermite(rng: np.random.Generator, N: int, k: Knobs) -> InstanceBatch:
    base = gen_unit_data(rng, N, k)
    act = np.asarray(HERMITE_CODES)[rng.integers(0, len(HERMITE_CODES), N)]
    return InstanceBatch("unit_data_phi", HermiteData(base.problem.X, act), base.w0, base.attrs)


def _member_hermite(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    ok, why = unit_member(batch)
    good_act = np.isin(batch.problem.act, HERMITE_CODES)
    return ok & good_act, [w or ("" if g else "activation outside softplus/erf") for w, g in zip(why, good_act)]


def _member_hermite_exact(batch: InstanceBatch) -> Membership:
    m = unit_data_member_exact(batch)
    if m.ok and int(np.asarray(batch.problem.act).reshape(-1)[0]) not in HERMITE_CODES:
        return Membership(False, "exact", "activation outside softplus/erf")
    return m


CLASSES.append(InstanceClass(
    name="unit_data_phi",
    text="unit-norm data x_1..x_n and an activation phi in {softplus, erf}",
    families=(Family(name="unit_data_phi", generate=_gen_hermite, finite_sum=False, doc="unit data patterns with softplus or erf"),),
    attributes=("n",),
    member=_member_hermite,
    member_exact=_member_hermite_exact,
    encode=lambda P, i: {"X": P.X[i].tolist(), "act": int(P.act[i])},
    decode=lambda d: HermiteData(np.asarray(d["X"], float)[None], np.asarray([d["act"]], dtype=np.int64)),
    problem_type=HermiteData,
))


def _stein_terms(code: int, dtype: Any) -> dict[str, Any]:
    """mu_1, mu_2 and E[phi''(g)] by 200-node Gauss-Hermite quadrature (phi'' = s(1-s) for softplus,
    -2z phi' for erf), each with the sum of the absolute values of its quadrature terms (its
    rounding scale)."""
    z, w = mk.gauss_hermite(200, dtype)
    f = mk.hermite_dphi(z, code)
    d2 = f * (1 - f) if code == 0 else -2 * z * f
    t1, t2 = w * f * z, w * f * (z * z - 1) / np.sqrt(np.asarray(2, dtype=dtype))
    mu = mk.hermite_coefficients(code, 2, q=200, dtype=dtype)
    return {"mu1": mu[1], "mu1_abs": np.abs(t1).sum(), "mu2": mu[2], "mu2_abs": np.abs(t2).sum(),
            "e_dphi2": (w * d2).sum(), "e_dphi2_abs": np.abs(w * d2).sum()}


def hermite_observables(X: np.ndarray, act: np.ndarray, *, backend: str = "numpy",
                        dtype: Any = np.float64) -> dict[str, np.ndarray]:
    """``lambda_min(Sigma - c K o K)`` for ``c = mu_1(phi')^2`` (corrected) and ``c = mu_2(phi')^2``
    (printed), plus the Hermite coefficients and ``E phi''(g)``.  Rounding-scale companion of the
    eigenvalues: ``n (||Sigma||_F + c ||K o K||_F)``; of ``mu_r`` and ``E phi''``: the sum of the
    absolute values of their quadrature terms (Stein: ``mu_1(phi') = E[g phi'(g)] = E[phi''(g)]``)."""
    b = select("matrices.eigvalsh", backend, dtype)
    X = np.asarray(X, dtype=dtype)
    n = X.shape[1]
    Xn = X / np.sqrt(np.einsum("bid,bid->bi", X, X))[:, :, None]
    K = np.einsum("bid,bjd->bij", Xn, Xn)
    Sig = mk.gaussian_cross_moment(K, act) * K
    terms = {c: _stein_terms(c, dtype) for c in set(int(a) for a in act)}
    out = {key: np.asarray([terms[int(a)][key] for a in act], dtype=dtype) for key in next(iter(terms.values()))}
    mu1, mu2 = out["mu1"], out["mu2"]
    KK = K * K
    fro = lambda M: np.sqrt((M * M).sum(axis=(1, 2)))  # noqa: E731
    for name, c in (("herm_gap", mu1 * mu1), ("herm_gap_printed", mu2 * mu2)):
        e = eigvalsh(Sig - c[:, None, None] * KK, backend=b, dtype=dtype)
        out[name] = e[:, 0]
        out[name + "_scale"] = n * (fro(Sig) + c * fro(KK))
    return out


def _run_hermite(req: RunRequest) -> Run:
    problem = req.problem
    b = select("matrices.eigvalsh", req.backend, req.dtype)
    return Run(hermite_observables(problem.X, problem.act, backend=b, dtype=req.dtype), backend=b)


DYNAMICS.append(Dynamics(
    name="hermite_spectra",
    run=_run_hermite,
    observables=observables({}, keyed("herm_gap", "herm_gap_printed", "herm_gap_scale", "herm_gap_printed_scale", "mu1", "mu2", "e_dphi2",
         "mu1_abs", "mu2_abs", "e_dphi2_abs"), {"herm_gap": "herm_gap_scale", "herm_gap_printed": "herm_gap_printed_scale", "mu1": "mu1_abs",
     "mu2": "mu2_abs", "e_dphi2": "e_dphi2_abs"}),
    accepts=(HermiteData,),
    parameters=(),
    doc="smallest eigenvalue of Sigma(X) - c (X X^T) o (X X^T) on unit-norm data (no time steps)",
))
