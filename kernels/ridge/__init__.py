"""Ridge quadratics: batched GD and minibatch SGD with interchangeable backends.

Entry points:

* :func:`gd` -- gradient descent ``w_{t+1} = w_t - eta_t grad f(w_t)`` (operation ``ridge.gd``);
* :func:`sgd` -- minibatch SGD with indices from the counter-based generator in :mod:`kernels.rng`
  (operation ``ridge.sgd``).

Both take a :class:`~kernels.ridge.problems.RidgeQuadratic` batch and return a :class:`Trajectory`.
Three implementations of the same arithmetic, side by side in this package:

* ``"numpy"`` -- :mod:`kernels.ridge.reference`, plain NumPy written to be obviously right; the test
  oracle and the high-precision replay engine (float32, float64 and ``np.longdouble`` end to end);
* ``"numba"`` -- :mod:`kernels.ridge.numba`, fused parallel CPU kernels (float64 only; pure quadratics
  at d <= 4 in :mod:`kernels.ridge.numba_lanes`, trajectories in SIMD lanes);
* ``"cupy"`` -- :mod:`kernels.ridge.cupy`, one CUDA thread per trajectory (float64 only).

The backend is chosen by :func:`kernels.backend.select` (``"auto"``: numba when it can run and
computes in the dtype, else numpy; CuPy only when named; never a fallback) and
:attr:`Trajectory.backend` records the one that ran.

Arguments are validated once here, at the boundary.  Iterates that overflow are *not* an error: the
returned arrays then simply contain inf/nan (the numeric stage turns that into an ``error`` verdict).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import rng
from ..backend import KernelImpl, dtype_name, get_kernel, select
from .problems import ProblemError, Ridge, RidgeQuadratic

__all__ = [
    "KERNELS",
    "ProblemError",
    "Ridge",
    "RidgeQuadratic",
    "Trajectory",
    "component_step_term_scale",
    "gd",
    "sgd",
    "term_scale",
]

_REF_DTYPES = ("float32", "float64", "longdouble")

#: This family's implementations (registered through the ``thmcheck.kernels`` entry point ``ridge``).
KERNELS: tuple[KernelImpl, ...] = (
    KernelImpl("ridge.gd", "numpy", _REF_DTYPES, "kernels.ridge.reference:gd"),
    KernelImpl("ridge.gd", "numba", ("float64",), "kernels.ridge.numba:gd"),
    KernelImpl("ridge.gd", "cupy", ("float64",), "kernels.ridge.cupy:gd"),
    KernelImpl("ridge.sgd", "numpy", _REF_DTYPES, "kernels.ridge.reference:sgd"),
    KernelImpl("ridge.sgd", "numba", ("float64",), "kernels.ridge.numba:sgd"),
    KernelImpl("ridge.sgd", "cupy", ("float64",), "kernels.ridge.cupy:sgd"),
)


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Result of one batched run of T steps on B instances in dimension d.

    Attributes:
        f: (B, T+1) objective values f(w_t), t = 0..T.
        gnorm2: (B, T+1) squared gradient norms ||grad f(w_t)||^2 (full gradient, also for SGD).
        w_last: (B, d) final iterate w_T.
        w: (B, T+1, d) all iterates, only when ``keep_iterates=True`` (else None).
        ef_next: (B, T) SGD with ``expectations=True`` only: ``E_i f(w_t - eta_t grad f_i(w_t))``,
            the exact average over the m single-component steps (else None).
        eg2: (B, T) SGD with ``expectations=True`` only: ``E_i ||grad f_i(w_t)||^2`` (else None).
        backend: the backend that produced it ("numpy", "numba" or "cupy").
        dtype: the compute dtype's name ("float64", "float32" or "longdouble").

    Non-finite values are data, not errors: a diverging run has inf/nan entries.
    """

    f: np.ndarray
    gnorm2: np.ndarray
    w_last: np.ndarray
    w: np.ndarray | None
    ef_next: np.ndarray | None
    eg2: np.ndarray | None
    backend: str
    dtype: str


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------


def _check_T(T: Any, limit: int | None = None) -> int:
    if isinstance(T, bool) or not isinstance(T, numbers.Integral):
        raise ValueError(f"T must be an integer number of steps, got {T!r}")
    T = int(T)
    if T < 0:
        raise ValueError(f"T must be >= 0, got {T}")
    if limit is not None and T >= limit:
        raise ValueError(f"T must be below {limit}, got {T}")
    return T


def _check_problem(problem: Any) -> RidgeQuadratic:
    if not isinstance(problem, RidgeQuadratic):
        raise TypeError(f"problem must be a kernels.RidgeQuadratic, got {type(problem).__name__}")
    return problem


def _check_w0(w0: Any, B: int, d: int, dt: np.dtype) -> np.ndarray:
    w = np.asarray(w0)
    if w.shape != (B, d):
        raise ValueError(f"w0 must have shape (B, d) = {(B, d)}, got {w.shape}")
    if not (np.issubdtype(w.dtype, np.floating) or np.issubdtype(w.dtype, np.integer)):
        raise ValueError(f"w0 must be real-valued, got dtype {w.dtype}")
    w = np.ascontiguousarray(w, dtype=dt)
    if not np.all(np.isfinite(w)):
        raise ValueError("w0 has non-finite entries")
    return w


def _check_eta(eta: Any, B: int, T: int, dt: np.dtype) -> np.ndarray:
    """eta as a C-contiguous (B, 1) fixed step or (B, T) schedule in dtype ``dt``."""
    e = np.asarray(eta)
    if not (np.issubdtype(e.dtype, np.floating) or np.issubdtype(e.dtype, np.integer)) or e.dtype == bool:
        raise ValueError(f"eta must be real-valued, got dtype {e.dtype}")
    if e.ndim == 0:
        e = np.full((B, 1), e, dtype=dt)
    elif e.ndim == 1:
        if e.shape != (B,):
            raise ValueError(f"a 1-d eta is one fixed step per instance and must have shape ({B},), got {e.shape}")
        e = e.reshape(B, 1)
    elif e.ndim == 2:
        if e.shape != (B, T):
            raise ValueError(
                f"a 2-d eta is a step schedule and must have shape (B, T) = {(B, T)}, got {e.shape}"
                " (for one schedule shared by the batch pass np.broadcast_to(eta, (B, T)))"
            )
    else:
        raise ValueError(f"eta must be a scalar, (B,) or (B, T), got shape {e.shape}")
    e = np.ascontiguousarray(e, dtype=dt)
    if not np.all(np.isfinite(e)):
        raise ValueError("eta has non-finite entries")
    if e.shape[1] == 0:  # T == 0 with a (B, 0) schedule: no step is ever taken
        e = np.zeros((B, 1), dtype=dt)
    return e


def _problem_arrays(problem: RidgeQuadratic, dt: np.dtype) -> tuple[np.ndarray, ...]:
    return tuple(np.ascontiguousarray(getattr(problem, n), dtype=dt) for n in ("A", "b", "R", "s", "c"))


def _check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def _trajectory(out: dict, backend: str, dt: np.dtype) -> Trajectory:
    return Trajectory(
        f=out["f"],
        gnorm2=out["gnorm2"],
        w_last=out["w_last"],
        w=out["w"],
        ef_next=out["ef_next"],
        eg2=out["eg2"],
        backend=backend,
        dtype=dtype_name(dt),
    )


# --------------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------------


def gd(
    problem: RidgeQuadratic,
    w0: np.ndarray,
    eta: np.ndarray | float,
    T: int,
    *,
    backend: str = "numpy",
    dtype: Any = np.float64,
    keep_iterates: bool = False,
) -> Trajectory:
    """Gradient descent ``w_{t+1} = w_t - eta_t grad f(w_t)``, t = 0..T-1, on every instance.

    Args:
        problem: a batch of B ridge quadratics on R^d.
        w0: (B, d) starting points (finite).
        eta: step sizes: a scalar, (B,) one fixed step per instance, or (B, T) a schedule.
        T: number of steps (>= 0).
        backend: "numpy" (reference), "numba", "cupy" or "auto" (see :func:`kernels.backend.select`).
        dtype: compute dtype; numpy accepts float32, float64 and longdouble, numba and cupy float64.
        keep_iterates: also return all iterates (B, T+1, d).

    Returns:
        A :class:`Trajectory` (``ef_next`` and ``eg2`` are None).  Diverging runs give inf/nan
        entries; they do not raise.

    Raises:
        ValueError: bad shapes, T < 0, non-finite eta or w0, or a dtype the backend cannot run
            (:class:`kernels.backend.DtypeUnsupported`, also a BackendUnavailable).
        BackendUnavailable: the requested backend cannot run here.
    """
    name = select("ridge.gd", backend, dtype)
    dt = np.dtype(dtype)
    P = _check_problem(problem)
    T = _check_T(T)
    keep = _check_flag(keep_iterates, "keep_iterates")
    B, d = P.batch, P.dim
    w = _check_w0(w0, B, d, dt)
    e = _check_eta(eta, B, T, dt)
    A, b, R, s, c = _problem_arrays(P, dt)
    out = get_kernel("ridge.gd", name)(A, b, R, s, c, P.psi, w, e, T, keep)
    return _trajectory(out, name, dt)


def sgd(
    problem: RidgeQuadratic,
    w0: np.ndarray,
    eta: np.ndarray | float,
    T: int,
    *,
    batch: int,
    seed: int,
    instance_ids: np.ndarray | None = None,
    backend: str = "numpy",
    dtype: Any = np.float64,
    expectations: bool = False,
    keep_iterates: bool = False,
) -> Trajectory:
    """Minibatch SGD on ``f = (1/m) sum_k f_k``, ``f_k(w) = 1/2 w^T A w + b^T w + m c_k psi(r_k^T w + s_k)``.

    Step t uses ``ghat = A w + b + (m / batch) sum_{j < batch} c_{i_j} psi'(z_{i_j}) r_{i_j}`` with
    indices drawn uniformly with replacement, ``i_j = rng.randint(seed, instance_ids[n], t, j, m)``.
    Every backend draws the same indices, so a sub-batch run with its original ``instance_ids``
    reproduces those trajectories of the full run exactly (this is how single instances are replayed).

    Args:
        problem: a batch of B ridge quadratics with m >= 1 ridges (the components).
        w0, eta, T, backend, dtype, keep_iterates: as in :func:`gd` (here T < 2**32).
        batch: minibatch size (>= 1, < 2**32).
        seed: integer in [0, 2**64).
        instance_ids: (B,) integers in [0, 2**64) keying each instance's stream; default arange(B).
        expectations: also return ``ef_next`` and ``eg2``, the exact averages over the m
            single-component steps at every w_t (requires ``batch == 1``).

    Returns:
        A :class:`Trajectory`; ``f`` and ``gnorm2`` are of the full objective.  Diverging runs give
        inf/nan entries; they do not raise.
    """
    name = select("ridge.sgd", backend, dtype)
    dt = np.dtype(dtype)
    P = _check_problem(problem)
    T = _check_T(T, limit=1 << 32)
    keep = _check_flag(keep_iterates, "keep_iterates")
    expect = _check_flag(expectations, "expectations")
    B, d, m = P.batch, P.dim, P.ridges
    if m < 1:
        raise ValueError("sgd needs a finite sum: the problem must have m >= 1 ridge components, got m = 0")
    if isinstance(batch, bool) or not isinstance(batch, numbers.Integral) or not 1 <= int(batch) < 1 << 32:
        raise ValueError(f"batch must be an integer in [1, 2**32), got {batch!r}")
    batch = int(batch)
    if expect and batch != 1:
        raise ValueError(
            f"expectations=True needs batch == 1 (the averages are over single-component steps), got batch = {batch}"
        )
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= int(seed) < 1 << 64:
        raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    seed = int(seed)
    if instance_ids is None:
        ids = np.arange(B, dtype=np.uint64)
    else:
        raw = np.asarray(instance_ids)
        if raw.shape != (B,):
            raise ValueError(f"instance_ids must have shape ({B},), got {raw.shape}")
        ids = rng._as_u64(raw, "instance_ids", 64)  # noqa: SLF001 - same package
    w = _check_w0(w0, B, d, dt)
    e = _check_eta(eta, B, T, dt)
    A, b, R, s, c = _problem_arrays(P, dt)
    out = get_kernel("ridge.sgd", name)(A, b, R, s, c, P.psi, w, e, T, batch, seed, ids, expect, keep)
    return _trajectory(out, name, dt)


def term_scale(problem: RidgeQuadratic, w: np.ndarray) -> np.ndarray:
    """Rounding scale of f at the points ``w`` (shape (B, ..., d), leading axis the batch): the sum
    of the absolute values of the terms f adds up.  NumPy, in ``w``'s dtype (longdouble works)."""
    from . import reference as _reference  # noqa: PLC0415 - NumPy only; loaded when used

    w = np.asarray(w)
    dt = w.dtype if np.issubdtype(w.dtype, np.floating) else np.dtype(np.float64)
    extra = w.ndim - 2
    arrays = [np.asarray(a, dtype=dt) for a in _problem_arrays(problem, dt)]
    arrays = [a.reshape(a.shape[:1] + (1,) * extra + a.shape[1:]) for a in arrays]
    with np.errstate(all="ignore"):  # diverged iterates are data here, as in the kernels
        return _reference.term_scale(*arrays, problem.psi, w.astype(dt, copy=False))


def component_step_term_scale(problem: RidgeQuadratic, w: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Rounding scale of ``E_i f(w_t - eta_t grad f_i(w_t))`` for iterates ``w`` of shape (B, T, d)
    and steps ``eta`` broadcastable to (B, T) (the SGD expectation outputs)."""
    from . import reference as _reference  # noqa: PLC0415 - NumPy only; loaded when used

    w = np.asarray(w)
    dt = w.dtype
    arrays = [np.asarray(a, dtype=dt) for a in _problem_arrays(problem, dt)]
    with np.errstate(all="ignore"):
        return _reference.component_step_term_scale(*arrays, problem.psi, w, np.asarray(eta, dtype=dt))
