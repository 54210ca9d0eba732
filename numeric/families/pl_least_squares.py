"""PL family, over-parameterized linear least squares: the Oymak-Soltanolkotabi class (wide full-row-rank)
and the rank-deficient class on which GD converges to the solution closest to w0."""

from __future__ import annotations

import numpy as np

from ..api import (
    Dynamics,
    Family,
    InstanceBatch,
    InstanceClass,
    Knobs,
)
from .pl import (
    EPS,
    MinimizerProblem,
    decode_minimizer,
    encode_minimizer,
    gen_least_squares,
    pl_member,
)
from .pl_exact import os_linear_member_exact
from .pl_projection import gen_ls_projection, ls_projection_member_exact

#: This module's instance classes and dynamics (registered through the entry points
#: ``thmcheck.classes`` / ``thmcheck.dynamics``; importing the module registers nothing).
CLASSES: list[InstanceClass] = []
DYNAMICS: list[Dynamics] = []


# ------------------------------------ over-parameterized linear least squares (Oymak-Soltanolkotabi)


def _overparam_linear(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    """``1/2 ||X theta - y||^2`` with X (r x d), r <= d, full row rank: the O-S key lemma's linear case
    (Jacobian X, Lipschitz constant 0), ``alpha = sigma_min(X) / 2``, ``beta = ||X||``."""
    b = gen_least_squares(rng, n, k)
    attrs = dict(b.attrs)
    attrs["alpha"] = np.sqrt(attrs["mu"] / 2.0) / 2.0 * (1 - 8 * EPS)
    attrs["beta"] = np.sqrt(attrs["L"]) * (1 + 8 * EPS)
    return InstanceBatch("overparam_linear", b.problem, b.w0, attrs)


def _os_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    ok, why = pl_member(batch)
    lam = np.linalg.eigvalsh(np.asarray(batch.problem.ridge.A, np.float64))
    reasons = list(why)
    for i in range(batch.size):
        if reasons[i]:
            continue
        top = lam[i, -1]
        tol = 64 * batch.problem.dim * EPS * top  # eigenvalue rounding, as in the PL check
        pos = lam[i][lam[i] > tol]
        if batch.attrs["beta"][i] ** 2 < top - tol:
            reasons[i] = f"beta^2 = {batch.attrs['beta'][i] ** 2!r} < ||X||^2 = {top!r}"
        elif 4 * batch.attrs["alpha"][i] ** 2 > pos.min() + tol:
            reasons[i] = f"2 alpha = {2 * batch.attrs['alpha'][i]!r} > sigma_min(X) = {np.sqrt(pos.min())!r}"
    return np.array([not r for r in reasons]), reasons


OS_CLASS = (InstanceClass(
    name="os_linear",
    text="L(theta) = 1/2 ||X theta - y||^2, X wide with full row rank: sigma_min(X) >= 2 alpha, ||X|| <= beta, "
    "Jacobian Lipschitz constant 0; stored as a quadratic with f* = -1/2 ||y||^2, so ||r||^2 = 2 (f - f*)",
    families=(Family(name="overparam_linear", generate=_overparam_linear, finite_sum=False, doc="wide full-row-rank least squares"),),
    attributes=("L", "mu", "f_star", "d", "alpha", "beta"),
    member=_os_member,
    member_exact=os_linear_member_exact,
    encode=encode_minimizer,
    decode=decode_minimizer,
    problem_type=MinimizerProblem,
))
CLASSES.append(OS_CLASS)


# ------------------------- over-parameterized least squares: GD converges to the solution closest to w0


def _ls_projection_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    """PL least squares (as in pl_smooth), plus: w* is a minimizer (H w* + b = 0) and w_0 - w* lies
    in range(H), i.e. w* is the solution closest to w_0 (computed from an eigendecomposition of H)."""
    ok, why = pl_member(batch)
    reasons = list(why)
    rq = batch.problem.ridge
    for i in range(batch.size):
        if reasons[i]:
            continue
        if rq.ridges:
            reasons[i] = "not a least-squares instance"
            continue
        H, bb = np.asarray(rq.A[i], np.float64), np.asarray(rq.b[i], np.float64)
        ws, w0 = np.asarray(batch.problem.wstar[i], np.float64), np.asarray(batch.w0[i], np.float64)
        lam, Q = np.linalg.eigh(H)
        d = H.shape[0]
        tol = 64 * d * EPS * lam[-1]
        size = float(np.abs(ws).sum() + np.abs(w0).sum()) + 1e-300
        null = Q[:, lam <= tol]
        if np.linalg.norm(H @ ws + bb) > 1e3 * d * EPS * (lam[-1] * size + np.abs(bb).sum()):
            reasons[i] = "w* is not a minimizer"
        elif null.size and np.abs(null.T @ (w0 - ws)).max() > 1e3 * d * EPS * size:
            reasons[i] = "w_0 - w* is not in range(H): w* is not the solution closest to w_0"
    return np.array([not r for r in reasons]), reasons


LS_PROJECTION_CLASS = (InstanceClass(
    name="ls_projection",
    text="1/2 ||A w - y||^2 (A wide or rank deficient) with w* = the projection of w_0 onto the solution set: "
    "L = lambda_max(A^T A), mu = 2 lambda_min^+(A^T A) (book PL constant), f* known",
    families=(Family(name="ls_projection", generate=gen_ls_projection, finite_sum=False, doc="rank-deficient least squares, w* = P(w_0)"),),
    attributes=("L", "mu", "f_star", "d"),
    member=_ls_projection_member,
    member_exact=ls_projection_member_exact,
    encode=encode_minimizer,
    decode=decode_minimizer,
    problem_type=MinimizerProblem,
))
CLASSES.append(LS_PROJECTION_CLASS)
