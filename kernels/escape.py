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

Backends: ``"numpy"`` (:func:`_reference_*` below; the oracle, runs in ``np.longdouble`` for replay),
``"numba"`` (:mod:`kernels._escape_numba`, float64) and ``"cupy"`` (:mod:`kernels._escape_cupy`, float64,
one CUDA thread per trajectory or pair; CuPy imported only when asked for, :class:`kernels.BackendUnavailable`
where CuPy or a device is missing).  All noise comes from :mod:`kernels.rng`
(Philox keyed by ``(seed, instance id, step, draw)``): the Gaussian of coordinate i at step t is
``normal(seed, id, t, i)``, the radius of a ball perturbation uses ``uniform(seed, id, t, BALL_DRAW)``.
So every backend sees the same noise and a trajectory replays alone from its id.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import rng

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
#: Draw index (Philox block) of the uniform that sets the radius of a ball perturbation; far above the
#: blocks ``0 .. ceil(d/2) - 1`` that the d normals of the same step read.
BALL_DRAW = 0x7FFFFFFF


@dataclass(frozen=True, eq=False)
class SaddleProblem:
    """A batch of test functions (see the module docstring): h, c, q (B, d); s, f0 (B,)."""

    h: np.ndarray
    c: np.ndarray
    q: np.ndarray
    s: np.ndarray
    f0: np.ndarray
    xs: np.ndarray | None = None  # (B, d): the critical point the instance is built around (data only)

    def __post_init__(self) -> None:
        h = np.asarray(self.h)
        if h.ndim != 2:
            raise ValueError(f"h must have shape (B, d), got {h.shape}")
        for name in ("c", "q"):
            if np.shape(getattr(self, name)) != h.shape:
                raise ValueError(f"{name} must have the shape of h {h.shape}, got {np.shape(getattr(self, name))}")
        if self.xs is not None and np.shape(self.xs) != h.shape:
            raise ValueError(f"xs must have the shape of h {h.shape}, got {np.shape(self.xs)}")
        for name in ("s", "f0"):
            if np.shape(getattr(self, name)) != h.shape[:1]:
                raise ValueError(f"{name} must have shape ({h.shape[0]},), got {np.shape(getattr(self, name))}")

    @property
    def batch(self) -> int:
        return int(np.shape(self.h)[0])

    @property
    def dim(self) -> int:
        return int(np.shape(self.h)[1])

    def take(self, index: Any) -> "SaddleProblem":
        """The sub-batch (or replicated batch) of instances ``index`` along axis 0."""
        idx = np.asarray(index)
        xs = None if self.xs is None else np.asarray(self.xs)[idx]
        return SaddleProblem(*(np.asarray(getattr(self, k))[idx] for k in ("h", "c", "q", "s", "f0")), xs=xs)

    def astype(self, dtype: Any) -> "SaddleProblem":
        xs = None if self.xs is None else np.asarray(self.xs, dtype=dtype)
        return SaddleProblem(*(np.asarray(getattr(self, k), dtype=dtype) for k in ("h", "c", "q", "s", "f0")), xs=xs)

    # ---- the function, in any float dtype (reference definitions) ----

    def value(self, x: np.ndarray) -> np.ndarray:
        """f(x) for x of shape (B, d) or (B, ..., d) (instance axis first)."""
        h, c, q, s, f0 = _bcast(self, x)
        n2 = (x * x).sum(axis=-1)
        return f0 + (h * x * x / 2 + c * (np.sin(x) - x) + q * x**4 / 4).sum(axis=-1) + s * n2 * n2 / 4

    def value_scale(self, x: np.ndarray) -> np.ndarray:
        """The sum of |terms| of f(x): the rounding scale of f however much its terms cancel."""
        h, c, q, s, f0 = _bcast(self, x)
        n2 = (x * x).sum(axis=-1)
        terms = np.abs(h) * x * x / 2 + np.abs(c) * (np.abs(np.sin(x)) + np.abs(x)) + np.abs(q) * x**4 / 4
        return np.abs(f0) + terms.sum(axis=-1) + np.abs(s) * n2 * n2 / 4

    def grad(self, x: np.ndarray) -> np.ndarray:
        h, c, q, s, _ = _bcast(self, x)
        n2 = (x * x).sum(axis=-1, keepdims=True)
        return h * x + c * (np.cos(x) - 1) + q * x**3 + s[..., None] * n2 * x

    def hess_diag(self, x: np.ndarray) -> np.ndarray:
        """The diagonal part ``h - c sin x + 3 q x^2 + s ||x||^2`` of the Hessian (the rest is
        the rank-one ``2 s x x^T``)."""
        h, c, q, s, _ = _bcast(self, x)
        n2 = (x * x).sum(axis=-1, keepdims=True)
        return h - c * np.sin(x) + 3 * q * x * x + s[..., None] * n2

    def hess_apply(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Hess f(x) v."""
        s = _bcast(self, x)[3]
        return self.hess_diag(x) * v + 2 * s[..., None] * x * (x * v).sum(axis=-1, keepdims=True)

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """The dense Hessian (B, d, d) at x (B, d); for tests and membership checks."""
        D = self.hess_diag(x)
        s = np.asarray(self.s, dtype=x.dtype)
        return np.einsum("bi,ij->bij", D, np.eye(x.shape[-1], dtype=x.dtype)) + 2 * s[:, None, None] * x[:, :, None] * x[:, None, :]


def _bcast(p: SaddleProblem, x: np.ndarray) -> tuple[np.ndarray, ...]:
    """Problem arrays shaped to broadcast against x (B, ..., d); s and f0 against f (B, ...)."""
    extra = x.ndim - 2
    dt = x.dtype
    vec = tuple(np.asarray(getattr(p, k), dtype=dt).reshape((p.batch,) + (1,) * extra + (p.dim,)) for k in ("h", "c", "q"))
    sca = tuple(np.asarray(getattr(p, k), dtype=dt).reshape((p.batch,) + (1,) * extra) for k in ("s", "f0"))
    return (*vec, *sca)


def psd_shift_test(D: np.ndarray, u2: np.ndarray) -> np.ndarray:
    """Whether ``diag(D) + u u^T >= 0`` (per row), given D (B, d) and ``u2 = u * u`` (B, d).

    Rank-one interlacing: with no negative D_i it holds; with two or more it fails; with exactly one
    negative D_k (and every other D_i > 0) ``det = prod(D) (1 + sum u_i^2 / D_i)``, and the only
    eigenvalue that can be negative has the sign of the determinant, so it holds iff
    ``1 + sum u_i^2 / D_i <= 0``.  (The same test, in the same order, is in the numba kernel.)"""
    neg = (D < 0).sum(axis=-1)
    zero_other = ((D == 0).sum(axis=-1) > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        secular = 1 + np.where(D != 0, u2 / np.where(D != 0, D, 1), 0).sum(axis=-1)
    one = (neg == 1) & ~zero_other & (secular <= 0)
    return (neg == 0) | one


def _sosp(p: SaddleProblem, x: np.ndarray, gn2: np.ndarray, eps: np.ndarray, tau: np.ndarray) -> np.ndarray:
    D = p.hess_diag(x) + tau[:, None]
    s = np.asarray(p.s, dtype=x.dtype)
    return (gn2 <= eps * eps) & psd_shift_test(D, 2 * s[:, None] * x * x)


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


def _backend(backend: str, allowed: tuple[str, ...]) -> str:
    if backend == "auto":
        return "numba" if importlib.util.find_spec("numba") is not None else "numpy"
    if backend not in allowed:
        raise ValueError(f"backend must be one of {', '.join(allowed)} or 'auto', got {backend!r}")
    if backend == "numba" and importlib.util.find_spec("numba") is None:
        from . import BackendUnavailable  # noqa: PLC0415

        raise BackendUnavailable("backend 'numba' asked for, but numba is not installed")
    if backend == "cupy":
        from . import resolve_backend  # noqa: PLC0415 - raises BackendUnavailable with the reason

        resolve_backend("cupy")
    return backend


def _prepare(problem: SaddleProblem, x0: Any, dtype: Any, backend: str) -> tuple[SaddleProblem, np.ndarray]:
    dt = np.dtype(dtype)
    if backend != "numpy" and dt != np.dtype(np.float64):
        raise ValueError(f"backend {backend!r} computes in float64 only; use backend='numpy' for {dt}")
    if not np.issubdtype(dt, np.floating):
        raise ValueError(f"dtype must be a float type, got {dt}")
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
    backend = _backend(backend, ("numpy", "numba", "cupy"))
    p, x0 = _prepare(problem, x0, dtype, backend)
    eta = _per(eta, p.batch, x0.dtype, "eta")
    T = _steps(T)
    if backend == "numpy":
        return SaddleGDRun(*_reference_gd(p, x0, eta, T), backend="numpy")
    if backend == "cupy":
        from . import _escape_cupy  # noqa: PLC0415 - imports CuPy lazily

        return SaddleGDRun(*_escape_cupy.gd(p.h, p.c, p.q, p.s, p.f0, x0, eta, T), backend="cupy")
    from . import _escape_numba  # noqa: PLC0415 - lazy: numba compiles on first use

    return SaddleGDRun(*_escape_numba.gd(p.h, p.c, p.q, p.s, p.f0, x0, eta, T), backend="numba")


def _reference_gd(p: SaddleProblem, x0: np.ndarray, eta: np.ndarray, T: int) -> tuple[np.ndarray, ...]:
    B = p.batch
    dt = x0.dtype
    f, fabs, g2, d2 = (np.empty((B, T + 1), dtype=dt) for _ in range(4))
    x = x0.copy()
    xmax = np.zeros(B, dtype=dt)
    for t in range(T + 1):
        g = p.grad(x)
        f[:, t] = p.value(x)
        fabs[:, t] = p.value_scale(x)
        g2[:, t] = (g * g).sum(axis=1)
        dx = x - x0
        d2[:, t] = (dx * dx).sum(axis=1)
        xmax = np.maximum(xmax, np.sqrt((x * x).sum(axis=1)))
        if t < T:
            x = x - eta[:, None] * g
    return f, fabs, g2, d2, xmax


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
    backend = _backend(backend, ("numpy", "numba", "cupy"))
    p, x0 = _prepare(problem, x0, dtype, backend)
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
    if backend == "numpy":
        out = _reference_pgd(p, x0, eta, T, mode, r, eps, tau, tcal, int(seed), ids, bool(stop_at_hit))
    elif backend == "numba":
        from . import _escape_numba  # noqa: PLC0415

        out = _escape_numba.pgd(p.h, p.c, p.q, p.s, p.f0, x0, eta, T, mode, r, eps, tau, tcal,
                                np.uint64(int(seed)), ids.astype(np.uint64), bool(stop_at_hit))
    else:
        out = _cupy_pgd(p, x0, eta, T, mode, r, eps, tau, tcal, int(seed), ids, bool(stop_at_hit))
    return PGDRun(*out, backend=backend)


def ball_direction(seed: int, ids: np.ndarray, step: int, d: int, r: np.ndarray) -> np.ndarray:
    """The uniform-ball perturbation xi (B, d) of radius r at ``step`` for each id (reference)."""
    z = rng.normal(seed, ids[:, None], step, np.arange(d)[None, :])
    u = rng.uniform(seed, ids, step, BALL_DRAW)
    radius = r * np.exp(np.log1p(-u) / d).astype(r.dtype)
    nz = np.sqrt((z * z).sum(axis=1))
    return (radius[:, None] * (z / nz[:, None]).astype(r.dtype))


def _reference_pgd(p: SaddleProblem, x0: np.ndarray, eta: np.ndarray, T: int, mode: int, r: np.ndarray,
                   eps: np.ndarray, tau: np.ndarray, tcal: np.ndarray, seed: int, ids: np.ndarray,
                   stop: bool) -> tuple[np.ndarray, ...]:
    B, d = x0.shape
    dt = x0.dtype
    x = x0.copy()
    hit = np.full(B, -1, dtype=np.int64)
    last = -tcal.copy()  # "no perturbation in the last tcal steps" holds at t = 0
    nper = np.zeros(B, dtype=np.int64)
    maxd2 = np.zeros(B, dtype=dt)
    xmax = np.zeros(B, dtype=dt)
    live = np.ones(B, dtype=bool)
    f_end = p.value(x0)
    sig = r / np.sqrt(dt.type(d))
    for t in range(T + 1):
        g = p.grad(x)
        gn2 = (g * g).sum(axis=1)
        dx = x - x0
        maxd2 = np.where(live, np.maximum(maxd2, (dx * dx).sum(axis=1)), maxd2)
        xmax = np.where(live, np.maximum(xmax, np.sqrt((x * x).sum(axis=1))), xmax)
        new = live & (hit < 0) & _sosp(p, x, gn2, eps, tau)
        hit[new] = t
        if stop:
            f_end = np.where(new, p.value(x), f_end)
            live &= ~new
        if t == T or not live.any():
            break
        if mode == 0:
            z = rng.normal(seed, ids[:, None], t, np.arange(d)[None, :]).astype(dt)
            step = g + sig[:, None] * z
        else:
            pert = live & (gn2 <= eps * eps) & (t - last >= tcal)
            if pert.any():
                xi = ball_direction(seed, ids, t, d, r)
                x = np.where(pert[:, None], x - eta[:, None] * xi, x)
                g = np.where(pert[:, None], p.grad(x), g)
                last = np.where(pert, t, last)
                nper += pert
            step = g
        x = np.where(live[:, None], x - eta[:, None] * step, x)
    f_last = np.where(hit >= 0, f_end, p.value(x)) if stop else p.value(x)
    return hit, p.value(x0), f_last, maxd2, xmax, nper


def _cupy_pgd(p: SaddleProblem, x0: np.ndarray, eta: np.ndarray, T: int, mode: int, r: np.ndarray,
              eps: np.ndarray, tau: np.ndarray, tcal: np.ndarray, seed: int, ids: np.ndarray,
              stop: bool) -> tuple[np.ndarray, ...]:
    from . import _escape_cupy  # noqa: PLC0415 - imports CuPy lazily

    return _escape_cupy.pgd(p.h, p.c, p.q, p.s, p.f0, x0, eta, T, mode, r, eps, tau, tcal, seed, ids, stop)


# --------------------------------------------------------------------------------------------------
# Coupled GD pair with the coupling sequences of Lemma 7.3.3
# --------------------------------------------------------------------------------------------------


def coupled_gd(problem: SaddleProblem, x0: Any, x0p: Any, xs: Any, eta: Any, gamma: Any, T: int, *,
               backend: str = "numpy", dtype: Any = np.float64) -> CoupledRun:
    """Two GD runs from x0 and x0p and the coupling sequences around xs (H = Hess f(xs)).

    ``gamma`` (B,) is ``-lambda_min(H)``; it only enters the rounding-error scale ``errscale``
    (errors of the difference grow by at most ``1 + eta (gamma + ||Delta_t||)`` per step)."""
    backend = _backend(backend, ("numpy", "numba", "cupy"))
    p, x0 = _prepare(problem, x0, dtype, backend)
    _, x0p = _prepare(problem, x0p, dtype, backend)
    _, xs = _prepare(problem, xs, dtype, backend)
    eta = _per(eta, p.batch, x0.dtype, "eta")
    gamma = _per(gamma, p.batch, x0.dtype, "gamma")
    T = _steps(T)
    if backend == "numpy":
        return CoupledRun(*_reference_coupled(p, x0, x0p, xs, eta, gamma, T), backend="numpy")
    if backend == "cupy":
        from . import _escape_cupy  # noqa: PLC0415 - imports CuPy lazily

        return CoupledRun(*_escape_cupy.coupled(p.h, p.c, p.q, p.s, p.f0, x0, x0p, xs, eta, gamma, T),
                          backend="cupy")
    from . import _escape_numba  # noqa: PLC0415

    return CoupledRun(*_escape_numba.coupled(p.h, p.c, p.q, p.s, p.f0, x0, x0p, xs, eta, gamma, T), backend="numba")


def delta_norm_bound(p: SaddleProblem, x: np.ndarray, xp: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Upper bound on ``||Delta||``, ``Delta = int_0^1 Hess f(xp + th (x - xp)) dth - Hess f(xs)``:
    the diagonal part exactly (``int sin(xp + th xh) dth = sin(m) sinc(xh/2)``, m the mid-point;
    ``int (xp + th xh)^2 dth = (x^2 + x xp + xp^2)/3``), plus ``3 s D (Z + ||xs||)`` for the
    ``s (||z||^2 I + 2 z z^T)`` part (D = max distance of x, xp to xs, Z = max(||x||, ||xp||));
    exact when s = 0."""
    h, c, q, s, _ = _bcast(p, x)
    xh = x - xp
    m = (x + xp) / 2
    half = xh / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        sinc = np.where(half != 0, np.sin(half) / np.where(half != 0, half, 1), 1)
    diag = -c * (np.sin(m) * sinc - np.sin(xs)) + q * ((x * x + x * xp + xp * xp) - 3 * xs * xs)
    D = np.maximum(np.sqrt(((x - xs) ** 2).sum(axis=-1)), np.sqrt(((xp - xs) ** 2).sum(axis=-1)))
    Z = np.maximum(np.sqrt((x * x).sum(axis=-1)), np.sqrt((xp * xp).sum(axis=-1)))
    return np.abs(diag).max(axis=-1) + 3 * np.abs(s) * D * (Z + np.sqrt((xs * xs).sum(axis=-1)))


def _reference_coupled(p: SaddleProblem, x0: np.ndarray, x0p: np.ndarray, xs: np.ndarray, eta: np.ndarray,
                       gamma: np.ndarray, T: int) -> tuple[np.ndarray, ...]:
    B = p.batch
    dt = x0.dtype
    outs = [np.empty((B, T + 1), dtype=dt) for _ in range(9)]
    xh_o, p_o, q_o, err_o, sc_o, dn_o, dist_o, f_o, fp_o = outs
    x, xp = x0.copy(), x0p.copy()
    pv = x0 - x0p
    qv = np.zeros_like(x0)
    e = eta[:, None]
    sc = np.sqrt((x * x).sum(axis=1)) + np.sqrt((xp * xp).sum(axis=1))

    def nrm(v: np.ndarray) -> np.ndarray:
        return np.sqrt((v * v).sum(axis=1))

    for t in range(T + 1):
        xh = x - xp
        g, gp = p.grad(x), p.grad(xp)
        dn = delta_norm_bound(p, x, xp, xs)
        xh_o[:, t], p_o[:, t], q_o[:, t] = nrm(xh), nrm(pv), nrm(qv)
        err_o[:, t] = nrm(xh - (pv - qv))
        sc_o[:, t] = sc
        dn_o[:, t] = dn
        dist_o[:, t] = np.maximum(nrm(x - xs), nrm(xp - xs))
        f_o[:, t], fp_o[:, t] = p.value(x), p.value(xp)
        if t == T:
            break
        Hxh = p.hess_apply(xs, xh)
        dxh = g - gp - Hxh  # Delta_t xhat_t, by the mean-value identity
        pv = pv - e * p.hess_apply(xs, pv)
        qv = qv - e * p.hess_apply(xs, qv) + e * dxh
        x = x - e * g
        xp = xp - e * gp
        # forward-error scale of xhat - (p - q): amplification plus the new terms' magnitudes
        sc = (1 + eta * (gamma + dn)) * sc + nrm(x) + nrm(xp) + nrm(pv) + nrm(qv) + eta * (nrm(g) + nrm(gp) + nrm(Hxh))
    return tuple(outs)
