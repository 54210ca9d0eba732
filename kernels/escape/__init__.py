"""Perturbed gradient descent at strict saddles (family 5, Theory of Deep Learning ch. 7).

Problems are :class:`SaddleProblem` batches: for each instance ``n`` (axis 0),

    f(x) = f0 + sum_i [ h_i x_i^2 / 2 + c_i (sin x_i - x_i) + q_i x_i^4 / 4 ] + s ||x||^4 / 4,

    grad f(x)_i = h_i x_i + c_i (cos x_i - 1) + q_i x_i^3 + s ||x||^2 x_i,
    Hess f(x)   = diag(h - c sin x + 3 q x^2) + s (||x||^2 I + 2 x x^T),

which covers the three test functions of the chapter: ``1/2 x^T H x + c sum (sin x_i - x_i)`` with a
diagonal H (``c`` carries the sine part), ``x^2/2 - y^2/2 + y^4/4`` and its d-dimensional analogues
(``q``), and ``1/4 ||M - x x^T||_F^2`` for a diagonal M (``h = -diag M``, ``s = 1``,
``f0 = ||M||_F^2 / 4``; every symmetric M is diagonal in its eigenbasis, and f is invariant under
rotating x with it).  Everything costs O(d) per step, so d = 1000 and 10^4 trajectories are cheap.

Public entry points (each validated here, at the boundary):

* :func:`gd_saddle` -- plain GD; f, its rounding scale, ||grad f||^2 and ||x_t - x_0||^2 per step;
* :func:`pgd` -- perturbed GD, both variants of the text: ``"gaussian"`` (noise N(0, r^2/d I) added to
  the gradient at every step, S4:1543) and ``"ball"`` (when ||grad f(x_t)|| <= eps and no perturbation
  happened in the last ``tcal`` steps, x_t <- x_t - eta xi with xi uniform in the ball B_0(r), then a
  GD step, S4:1553).  Per trajectory: the first step at which x_t is an eps-SOSP (||grad f|| <= eps
  and Hess f + tau I >= 0, tau = sqrt(rho eps)), f at the start and at the end, max ||x_t - x_0||^2;
* :func:`coupled_gd` -- two GD runs from ``x0`` and ``x0p`` beside the coupling sequences of
  Lemma 7.3.3 around a point ``xs`` with ``H = Hess f(xs)``: ``p(t) = (I - eta H)^t (x0 - x0p)``,
  ``q(t+1) = (I - eta H) q(t) + eta Delta_t xhat_t`` (``Delta_t xhat_t = grad f(x_t) - grad f(x'_t) -
  H xhat_t``, the mean-value identity), norms per step, ``||xhat_t - (p(t) - q(t))||`` and an upper
  bound on ``||Delta_t||`` (exact when ``s = 0``, where Delta_t is diagonal).

Backends (chosen by :func:`kernels.backend.select`): ``"numpy"`` (:mod:`kernels.escape.reference`; the
oracle, runs in ``np.longdouble`` for replay), ``"numba"`` (:mod:`kernels.escape.numba`, float64) and
``"cupy"`` (:mod:`kernels.escape.cupy`, float64,
one CUDA thread per trajectory or pair; CuPy imported only when asked for, :class:`kernels.BackendUnavailable`
where CuPy or a device is missing).  All noise comes from :mod:`kernels.rng`
(Philox keyed by ``(seed, instance id, step, draw)``): the Gaussian of coordinate i at step t is
``normal(seed, id, t, i)``, the radius of a ball perturbation uses ``uniform(seed, id, t, BALL_DRAW)``.
So every backend sees the same noise and a trajectory replays alone from its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import KernelImpl, get_kernel, select
from .problem import BALL_DRAW, SaddleProblem, psd_shift_test
from .reference import ball_direction, delta_norm_bound  # noqa: F401 - public helpers of the reference

__all__ = [
    "SaddleProblem",
    "SaddleGDRun",
    "PGDRun",
    "CoupledRun",
    "PERTURBATIONS",
    "BALL_DRAW",
    "gd_saddle",
    "pgd",
    "coupled_gd",
    "psd_shift_test",
]

#: Perturbation variants of :func:`pgd`.
PERTURBATIONS = ("gaussian", "ball")

_REF_DTYPES = ("float32", "float64", "longdouble")

#: This family's implementations (registered through the ``thmcheck.kernels`` entry point ``escape``).
KERNELS: tuple[KernelImpl, ...] = tuple(
    KernelImpl(f"escape.{op}", backend, _REF_DTYPES if backend == "numpy" else ("float64",),
               f"kernels.escape.{backend if backend != 'numpy' else 'reference'}:{op}_kernel")
    for op in ("gd", "pgd", "coupled") for backend in ("numpy", "numba", "cupy")
)


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SaddleGDRun:
    """GD: f, fabs (rounding scale of f), gnorm2 and dist2 = ||x_t - x_0||^2, each (B, T+1);
    xnorm_max = max_t ||x_t|| (B,)."""

    f: np.ndarray
    fabs: np.ndarray
    gnorm2: np.ndarray
    dist2: np.ndarray
    xnorm_max: np.ndarray
    backend: str


@dataclass(frozen=True, eq=False)
class PGDRun:
    """Perturbed GD, per trajectory (B,): ``hit`` the first t <= T at which x_t is an eps-SOSP
    (-1 if none), f_first = f(x_0), f_last = f(x_end) (x_end = x_hit when stopped at the hit, else
    x_T), maxdist2 = max_{t <= end} ||x_t - x_0||^2, xnorm_max = max_{t <= end} ||x_t||,
    perturbations (ball variant: how many were made)."""

    hit: np.ndarray
    f_first: np.ndarray
    f_last: np.ndarray
    maxdist2: np.ndarray
    xnorm_max: np.ndarray
    perturbations: np.ndarray
    backend: str


@dataclass(frozen=True, eq=False)
class CoupledRun:
    """Coupled GD pair, each (B, T+1): xhat = ||x_t - x'_t||, p = ||p(t)||, q = ||q(t)||,
    err = ||xhat_t - (p(t) - q(t))|| with errscale its forward rounding-error scale, dnorm an upper
    bound on ||Delta_t|| (exact when s = 0), dist = max(||x_t - xs||, ||x'_t - xs||), f and fp the
    two values of f."""

    xhat: np.ndarray
    p: np.ndarray
    q: np.ndarray
    err: np.ndarray
    errscale: np.ndarray
    dnorm: np.ndarray
    dist: np.ndarray
    f: np.ndarray
    fp: np.ndarray
    backend: str


# --------------------------------------------------------------------------------------------------
# Boundary
# --------------------------------------------------------------------------------------------------


def _prepare(problem: SaddleProblem, x0: Any, dtype: Any) -> tuple[SaddleProblem, np.ndarray]:
    dt = np.dtype(dtype)  # already accepted by select() for the backend
    if not isinstance(problem, SaddleProblem):
        raise TypeError(f"problem must be a SaddleProblem, got {type(problem).__name__}")
    x0 = np.ascontiguousarray(x0, dtype=dt)
    if x0.shape != (problem.batch, problem.dim):
        raise ValueError(f"x0 must have shape {(problem.batch, problem.dim)}, got {x0.shape}")
    if not np.all(np.isfinite(x0)):
        raise ValueError("x0 must be finite")
    p = problem.astype(dt)
    p = SaddleProblem(*(np.ascontiguousarray(getattr(p, k)) for k in ("h", "c", "q", "s", "f0")))
    return p, x0


def _per(x: Any, B: int, dt: Any, name: str) -> np.ndarray:
    a = np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=dt), (B,)))
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return a


def _steps(T: Any) -> int:
    T = int(T)
    if T < 0:
        raise ValueError("T must be >= 0")
    return T


# --------------------------------------------------------------------------------------------------
# GD
# --------------------------------------------------------------------------------------------------


def gd_saddle(problem: SaddleProblem, x0: Any, eta: Any, T: int, *, backend: str = "numpy",
              dtype: Any = np.float64) -> SaddleGDRun:
    """Gradient descent ``x_{t+1} = x_t - eta grad f(x_t)`` for T steps (eta (B,) or scalar)."""
    backend = select("escape.gd", backend, dtype)
    p, x0 = _prepare(problem, x0, dtype)
    eta = _per(eta, p.batch, x0.dtype, "eta")
    T = _steps(T)
    return SaddleGDRun(*get_kernel("escape.gd", backend)(p, x0, eta, T), backend=backend)


# --------------------------------------------------------------------------------------------------
# Perturbed GD
# --------------------------------------------------------------------------------------------------


def pgd(problem: SaddleProblem, x0: Any, eta: Any, T: int, *, perturbation: str, r: Any, eps: Any, tau: Any,
        seed: int, instance_ids: Any, tcal: Any = 0, stop_at_hit: bool = False, backend: str = "numpy",
        dtype: Any = np.float64) -> PGDRun:
    """Perturbed GD for T steps (see the module docstring).

    Args:
        perturbation: "gaussian" (x_{t+1} = x_t - eta (grad f(x_t) + xi_t), xi_t ~ N(0, r^2/d I)) or
            "ball" (uniform-ball perturbation of radius r when ||grad f|| <= eps, at most once per
            ``tcal`` steps, then a GD step).
        r, eps, tau, tcal: (B,) or scalars: noise radius, gradient threshold, Hessian threshold of
            the eps-SOSP test (tau = sqrt(rho eps)), perturbation interval (integer steps).
        seed, instance_ids: the random stream of trajectory n is (seed, instance_ids[n]).
        stop_at_hit: stop each trajectory at its first eps-SOSP (saves time when only hitting times
            matter; f_last, maxdist2 then refer to the stopped run).
    """
    if perturbation not in PERTURBATIONS:
        raise ValueError(f"perturbation must be one of {PERTURBATIONS}, got {perturbation!r}")
    backend = select("escape.pgd", backend, dtype)
    p, x0 = _prepare(problem, x0, dtype)
    B = p.batch
    dt = x0.dtype
    eta = _per(eta, B, dt, "eta")
    r, eps, tau = (_per(v, B, dt, n) for v, n in ((r, "r"), (eps, "eps"), (tau, "tau")))
    if np.any(r < 0) or np.any(eps < 0) or np.any(tau < 0):
        raise ValueError("r, eps and tau must be nonnegative")
    tcal = np.ascontiguousarray(np.broadcast_to(np.asarray(tcal, dtype=np.int64), (B,)))
    ids = np.ascontiguousarray(np.broadcast_to(np.asarray(instance_ids, dtype=np.int64), (B,)))
    if np.any(ids < 0) or int(seed) < 0:
        raise ValueError("seed and instance ids must be nonnegative")
    T = _steps(T)
    mode = PERTURBATIONS.index(perturbation)
    out = get_kernel("escape.pgd", backend)(p, x0, eta, T, mode, r, eps, tau, tcal, int(seed), ids, bool(stop_at_hit))
    return PGDRun(*out, backend=backend)


# --------------------------------------------------------------------------------------------------
# Coupled GD pair with the coupling sequences of Lemma 7.3.3
# --------------------------------------------------------------------------------------------------


def coupled_gd(problem: SaddleProblem, x0: Any, x0p: Any, xs: Any, eta: Any, gamma: Any, T: int, *,
               backend: str = "numpy", dtype: Any = np.float64) -> CoupledRun:
    """Two GD runs from x0 and x0p and the coupling sequences around xs (H = Hess f(xs)).

    ``gamma`` (B,) is ``-lambda_min(H)``; it only enters the rounding-error scale ``errscale``
    (errors of the difference grow by at most ``1 + eta (gamma + ||Delta_t||)`` per step)."""
    backend = select("escape.coupled", backend, dtype)
    p, x0 = _prepare(problem, x0, dtype)
    _, x0p = _prepare(problem, x0p, dtype)
    _, xs = _prepare(problem, xs, dtype)
    eta = _per(eta, p.batch, x0.dtype, "eta")
    gamma = _per(gamma, p.batch, x0.dtype, "gamma")
    T = _steps(T)
    return CoupledRun(*get_kernel("escape.coupled", backend)(p, x0, x0p, xs, eta, gamma, T), backend=backend)
