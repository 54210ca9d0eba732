"""Dynamics on scale-invariant losses (family 6): GD with weight decay and the exponential-LR protocol.

Problem types: the Rayleigh quotient ``L(w) = w^T A w / w^T w`` of a symmetric matrix A, a batch of
which is a :class:`Rayleigh`, and the normalised softplus loss ``(1/m) sum_k softplus(a_k^T w/||w||)``
(:class:`NormalizedSoftplus`; m = 1 is ``softplus(u^T w/||w||)``, ``a_k = -y_k x_k`` the normalised logistic
loss), whose minibatch means (``batches``) are scale invariant too.  Its gradient is ``2 A w/||w||^2 - 2 (w^T A w) w/||w||^4``; the kernels
evaluate it in the overflow-free normalised form ``(2/||w||) (A wb - L(w) wb)``, ``wb = w/||w||``
(the iterates of the exponential-LR protocol grow like ``(1 - eta lam)^{-t}``).

Entry points: :func:`gd_wd_hitting` (hitting times of long runs, nothing stored; see its docstring)
and :func:`gd_wd`, which runs ``w_{t+1} = (1 - eta lam) w_t - eta grad L(w_t)`` and,
when ``exp_lr_scale`` (``c``) is given, beside it the exponential-LR protocol
``v_{t+1} = v_t - eta_t grad L(v_t)`` with ``eta_t = c (1 - eta lam)^{-(2t+1)}`` from the same
``v_0 = w_0`` (Theorem 13.3.1 of the seed: ``c = eta`` is the corrected schedule, ``c = 1`` the printed
one).  Three implementations of the same arithmetic:

* ``"numpy"``: vectorised over the batch, written to be obviously right; runs in ``np.longdouble``
  end to end (the replay engine);
* ``"numba"``: :mod:`kernels.scale_invariant.numba`, ``prange`` over the batch, every step fused in
  one loop (float64);
* ``"cupy"``: the reference arithmetic on CuPy arrays (float64), imported only when asked for.

Outputs per step t = 0..T (:class:`SITrajectory`): ``f = L(w_t)``, ``gnorm2 = ||grad L(w_t)||^2``,
``wnorm2 = ||w_t||^2``, and two rounding scales: ``fabs = |wb|^T |A| |wb|`` (sum of |terms| of L) and
``gabs = (2/||w||)(|| |A| |wb| || + fabs)`` (a bound on the |terms| of each gradient entry, as a
vector norm).  With the exp-LR protocol also ``direrr = ||w_t/||w_t|| - v_t/||v_t|| ||``,
``normerr = | ||v_t|| (1 - eta lam)^t / ||w_t|| - 1 |`` and ``errscale``: a computed bound, in units
of the working precision's eps, on the relative rounding error either quantity can carry.  It follows
the forward error of both runs, ``E_{t+1} = a_t E_t + r_t`` per run, with the one-step relative
rounding ``r_t = 4 + (4d + 12) eta_t F/||v_t||^2`` (F = ||A||_F bounds the |terms| of ``A wb``) and the
amplification ``a_t = 1 + 4 eta_t F/(q_t ||v_t||^2)`` (``||Hess L(v)|| <= rho/||v||^2 <= 4 F/||v||^2``
and ``||v_{t+1}|| >= q_t ||v_t||`` by the Pythagoras identity; ``q_t = 1 - eta lam`` for weight decay,
1 for the exp-LR run); ``errscale = 2 (E^wd + E^exp) + 2 (d + 2)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import KernelImpl, get_kernel, select
from ..ridge.problems import ProblemError

__all__ = ["Rayleigh", "NormalizedSoftplus", "SITrajectory", "Hitting", "gd_wd", "gd_wd_hitting", "rayleigh_value_grad",
           "softplus_value_grad", "softplus_sigmoid", "softplus_constants", "value_grad",
           "softplus_ball_descent"]


_REF_DTYPES = ("float32", "float64", "longdouble")

#: This family's implementations (registered through the ``thmcheck.kernels`` entry point ``scale_invariant``).
KERNELS: tuple[KernelImpl, ...] = (
    KernelImpl("scale_invariant.gd_wd", "numpy", _REF_DTYPES, "kernels.scale_invariant.reference:gd_wd_kernel"),
    KernelImpl("scale_invariant.gd_wd", "numba", ("float64",), "kernels.scale_invariant.numba:gd_wd_kernel"),
    KernelImpl("scale_invariant.gd_wd", "cupy", ("float64",), "kernels.scale_invariant.cupy:gd_wd_kernel"),
    KernelImpl("scale_invariant.hitting", "numpy", _REF_DTYPES, "kernels.scale_invariant.reference:hitting_kernel"),
    KernelImpl("scale_invariant.hitting", "numba", ("float64",), "kernels.scale_invariant.numba:hitting_kernel"),
    KernelImpl("scale_invariant.hitting", "cupy", ("float64",), "kernels.scale_invariant.cupy:hitting_kernel"),
    KernelImpl("scale_invariant.softplus_ball_descent", "numpy", ("float64",),
               "kernels.scale_invariant.reference:ball_descent_kernel"),
    KernelImpl("scale_invariant.softplus_ball_descent", "numba", ("float64",),
               "kernels.scale_invariant.numba:ball_descent_kernel"),
)


@dataclass(frozen=True)
class Rayleigh:
    """A batch of Rayleigh quotients ``L(w) = w^T A w / w^T w``; A is (B, d, d) and symmetric."""

    A: np.ndarray

    def astype(self, dtype: Any) -> "Rayleigh":
        return Rayleigh(np.asarray(self.A, dtype=dtype))

    @property
    def dim(self) -> int:
        return int(self.A.shape[-1])

    @property
    def size(self) -> int:
        return int(self.A.shape[0])


@dataclass(frozen=True, eq=False)
class SITrajectory:
    """(B, T+1) arrays, step t = 0..T (see the module docstring)."""

    f: np.ndarray
    gnorm2: np.ndarray
    wnorm2: np.ndarray
    fabs: np.ndarray
    gabs: np.ndarray
    direrr: np.ndarray | None
    normerr: np.ndarray | None
    errscale: np.ndarray | None
    backend: str
    # ||grad L(w_t/||w_t||)||^2, the gradient evaluated at the normalised point itself.
    gbar2: np.ndarray | None = None


def rayleigh_value_grad(A: Any, w: Any, xp: Any = np) -> tuple[Any, Any, Any, Any]:
    """``(L(w), grad L(w), fabs, gabs)`` for a batch: A (B, d, d), w (B, d)."""
    n2 = (w * w).sum(axis=-1)
    nrm = xp.sqrt(n2)
    wb = w / nrm[:, None]
    Aw = xp.einsum("bij,bj->bi", A, wb)
    f = (wb * Aw).sum(axis=-1)
    g = 2.0 * (Aw - f[:, None] * wb) / nrm[:, None]
    aw_abs = xp.einsum("bij,bj->bi", xp.abs(A), xp.abs(wb))
    fabs = (xp.abs(wb) * aw_abs).sum(axis=-1)
    gabs = 2.0 * (xp.sqrt((aw_abs * aw_abs).sum(axis=-1)) + fabs) / nrm
    return f, g, fabs, gabs


@dataclass(frozen=True)
class NormalizedSoftplus:
    """A batch of normalised softplus losses ``L(w) = (1/m) sum_k softplus(a_k^T w / ||w||)``; a is
    (B, m, d).  ``m = 1`` is ``softplus(u^T w/||w||)``; ``a_k = -y_k x_k`` is the normalised logistic
    loss ``(1/m) sum_k log(1 + exp(-y_k x_k^T w/||w||))``.  Scale invariant by construction."""

    a: np.ndarray

    def astype(self, dtype: Any) -> "NormalizedSoftplus":
        return NormalizedSoftplus(np.asarray(self.a, dtype=dtype))

    @property
    def dim(self) -> int:
        return int(self.a.shape[-1])

    @property
    def size(self) -> int:
        return int(self.a.shape[0])

    @property
    def components(self) -> int:
        return int(self.a.shape[1])

    def take(self, index: Any) -> "NormalizedSoftplus":
        return NormalizedSoftplus(self.a[np.asarray(index)])


def softplus_sigmoid(z: Any, xp: Any = np) -> tuple[Any, Any]:
    """``(softplus(z), sigmoid(z))`` without overflow: ``max(z, 0) + log1p(exp(-|z|))`` and
    ``exp(z - softplus(z))`` (the same formulas in every backend)."""
    sp = xp.maximum(z, 0.0) + xp.log1p(xp.exp(-xp.abs(z)))
    return sp, xp.exp(z - sp)


def softplus_value_grad(a: Any, w: Any, xp: Any = np) -> tuple[Any, Any, Any, Any]:
    """``(L(w), grad L(w), fabs, gabs)`` of :class:`NormalizedSoftplus` for a batch: a (B, m, d), w (B, d).

    ``grad L(w) = (I - wb wb^T) h / ||w||`` with ``wb = w/||w||`` and ``h = (1/m) sum_k sigmoid(z_k) a_k``,
    ``z_k = a_k^T wb``.  Rounding scales: ``fabs = (1/m) sum_k (softplus(z_k) + sigmoid(z_k) zabs_k)``
    with ``zabs_k = |a_k|^T |wb|`` (the |terms| of each z_k, carried through softplus' = sigmoid), and
    ``gabs = (||c|| + |wb|^T c)/||w||`` with ``c = (1/m) sum_k (sigmoid_k + sigmoid'_k zabs_k) |a_k|``."""
    m = a.shape[1]
    n2 = (w * w).sum(axis=-1)
    nrm = xp.sqrt(n2)
    wb = w / nrm[:, None]
    z = xp.einsum("bkj,bj->bk", a, wb)
    sp, sg = softplus_sigmoid(z, xp)
    f = sp.sum(axis=-1) / m
    h = xp.einsum("bk,bkj->bj", sg, a) / m
    g = (h - (wb * h).sum(axis=-1)[:, None] * wb) / nrm[:, None]
    za = xp.einsum("bkj,bj->bk", xp.abs(a), xp.abs(wb))
    fabs = (sp + sg * za).sum(axis=-1) / m
    cabs = xp.einsum("bk,bkj->bj", sg + sg * (1.0 - sg) * za, xp.abs(a)) / m
    gabs = (xp.sqrt((cabs * cabs).sum(axis=-1)) + (xp.abs(wb) * cabs).sum(axis=-1)) / nrm
    return f, g, fabs, gabs


def softplus_constants(a: Any, batch: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(K, Fr)`` of the exp-LR error recursion for :class:`NormalizedSoftplus` (any minibatch mean of the
    a_k too): with ``amax = max_k ||a_k||`` and ``amax1 = max_k ||a_k||_1``, every Hessian of such a loss has
    ``||w||^2 ||Hess L(w)|| <= K = (amax^2/4 + amax + sqrt(amax^4/12 + 4 amax^2))/2`` (the certified rho
    bound of ``numeric.scale_invariant_nets`` at C = amax^2 I), and one computed gradient step
    ``eta_t grad L(v)`` carries at most ``eta_t Fr eps/||v||`` rounding, ``Fr = 2 ((b + d + 14) amax +
    (d + 1) amax amax1 / 4)`` with b the number of summed components."""
    a = np.asarray(a)
    m, d = a.shape[1], a.shape[2]
    b = m if batch is None else int(batch)
    amax = np.sqrt((a * a).sum(axis=-1)).max(axis=-1)
    amax1 = np.abs(a).sum(axis=-1).max(axis=-1)
    al = amax**2 / 4
    K = (al + amax + np.sqrt(4 * al**2 / 3 + 4 * amax**2)) / 2
    Fr = 2 * ((b + d + 14) * amax + (d + 1) * amax * amax1 / 4)
    return K, Fr


def softplus_ball_descent(a: Any, v0: Any, step: Any, iters: int, *, backend: str = "auto") -> np.ndarray:
    """``iters`` steps of projected gradient descent on the unit ball for ``h(v) = (1/m) sum_k softplus(a_k^T v)``
    (a (B, m, d), v0 (B, d), step (B,)): ``v <- P_ball(v - step grad h(v))``.  Returns the last v (float64).
    Backends "numpy" and "numba" (no CuPy kernel: asking for one raises BackendUnavailable)."""
    name = select("scale_invariant.softplus_ball_descent", backend, np.float64)
    a = np.ascontiguousarray(a, dtype=np.float64)
    v = np.array(v0, dtype=np.float64)
    st = np.broadcast_to(np.asarray(step, dtype=np.float64), (a.shape[0],)).copy()
    if a.ndim != 3 or v.shape != (a.shape[0], a.shape[2]):
        raise ProblemError(f"a must be (B, m, d) and v0 (B, d); got {a.shape} and {v.shape}")
    return get_kernel("scale_invariant.softplus_ball_descent", name)(a, v, st, int(iters))


@dataclass(frozen=True, eq=False)
class Hitting:
    """Per trajectory (B,): ``hit`` = first t with ``||w_t||^2 ||grad L(w_t)||^2 <= level_g`` (T + 1 if
    none), ``either`` = first t with that or ``||w_t||^2 >= level_n``, ``wnorm2_either`` = ``||w||^2`` there
    (at t = T if none), ``gbar_min`` = the least ``||w_t||^2 ||grad L(w_t)||^2`` up to ``hit``."""

    hit: np.ndarray
    either: np.ndarray
    wnorm2_either: np.ndarray
    gbar_min: np.ndarray
    backend: str


def value_grad(problem: Any, w: Any, xp: Any = np, index: Any = None) -> tuple[Any, Any, Any, Any]:
    """``(L(w), grad L(w), fabs, gabs)`` for a batch of either problem type (the reference arithmetic);
    ``index`` (B, b) selects a minibatch of a :class:`NormalizedSoftplus`'s components."""
    if isinstance(problem, Rayleigh):
        return rayleigh_value_grad(xp.asarray(problem.A), w, xp)
    a = xp.asarray(problem.a)
    if index is not None:
        a = a[xp.arange(a.shape[0])[:, None], index]
    return softplus_value_grad(a, w, xp)


def gd_wd_hitting(problem: Rayleigh | NormalizedSoftplus, w0: Any, eta: Any, lam: Any, T: int, level_g: Any,
                  level_n: Any, *, backend: str = "auto", dtype: Any = np.float64) -> Hitting:
    """Hitting times of GD with weight decay (same step as :func:`gd_wd`) for long runs, without
    storing the trajectory: the run of an instance stops at its first ``hit``.  The numba kernel
    exists for Rayleigh quotients only (asking it for another problem type is an error)."""
    name, dt, A, w, B = _boundary("scale_invariant.hitting", problem, w0, backend, dtype)
    e, lm, lg, ln = (np.broadcast_to(np.asarray(x, dtype=dt), (B,)).copy() for x in (eta, lam, level_g, level_n))
    if np.any(~(e * lm < 1)) or np.any(e < 0) or np.any(lm < 0):
        raise ProblemError("need eta >= 0, lam >= 0 and eta lam < 1")
    T = int(T)
    out = get_kernel("scale_invariant.hitting", name)(A, w, e, lm, T, lg, ln, isinstance(problem, Rayleigh))
    return Hitting(*out, backend=name)


def gd_wd(problem: Rayleigh | NormalizedSoftplus, w0: Any, eta: Any, lam: Any, T: int, *,
          exp_lr_scale: Any = None, batches: Any = None, backend: str = "auto",
          dtype: Any = np.float64) -> SITrajectory:
    """GD with weight decay on a batch of scale-invariant losses, optionally beside the exp-LR protocol.

    Args:
        problem: B Rayleigh quotients (A: (B, d, d)) or B normalised softplus losses (a: (B, m, d)).
        w0: (B, d) initial points (nonzero).
        eta, lam: (B,) step sizes and weight decays, ``0 <= eta lam < 1``.
        T: number of steps.
        exp_lr_scale: None, or (B,) factors c of the schedule ``eta_t = c (1 - eta lam)^{-(2t+1)}``.
        batches: None (full loss), or (B, T + 1, b) integer indices into the m components of a
            :class:`NormalizedSoftplus`: step t of *both* protocols uses the loss
            ``L_t = (1/b) sum_{k in batches[:, t]} softplus(a_k^T w/||w||)`` (the minibatch version of
            (13.1)); the outputs at step t are those of ``L_t``.
        backend: "numpy", "numba", "cupy" or "auto".
        dtype: float64 (every backend) or longdouble / float32 (numpy only).
    """
    name, dt, A, w, B = _boundary("scale_invariant.gd_wd", problem, w0, backend, dtype)
    e = np.broadcast_to(np.asarray(eta, dtype=dt), (B,)).copy()
    lm = np.broadcast_to(np.asarray(lam, dtype=dt), (B,)).copy()
    c = None if exp_lr_scale is None else np.broadcast_to(np.asarray(exp_lr_scale, dtype=dt), (B,)).copy()
    if int(T) < 0:
        raise ProblemError(f"T must be >= 0, got {T}")
    if np.any(~(e * lm < 1)) or np.any(e < 0) or np.any(lm < 0):
        raise ProblemError("need eta >= 0, lam >= 0 and eta lam < 1")
    T = int(T)
    ray = isinstance(problem, Rayleigh)
    idx = None
    if batches is not None:
        if ray:
            raise ProblemError("minibatches need a finite-sum loss (NormalizedSoftplus)")
        idx = np.asarray(batches)
        m = A.shape[1]
        if (idx.ndim != 3 or idx.shape[:2] != (B, T + 1) or idx.shape[2] < 1 or not np.issubdtype(idx.dtype, np.integer)
                or idx.min() < 0 or idx.max() >= m):
            raise ProblemError(f"batches must be (B, T + 1, b) integers in [0, {m}); got {idx.shape}")
        idx = np.ascontiguousarray(idx, dtype=np.int64)
    if ray:
        K = Fr = None
    else:
        K, Fr = (np.asarray(x, dtype=dt) for x in softplus_constants(A, None if idx is None else idx.shape[2]))
    out = get_kernel("scale_invariant.gd_wd", name)(A, w, e, lm, c, T, ray, idx, K, Fr)
    return SITrajectory(*out[:8], backend=name, gbar2=out[8])


def _boundary(op: str, problem: Any, w0: Any, backend: str, dtype: Any) -> tuple[str, np.dtype, np.ndarray, np.ndarray, int]:
    """Validate once at the boundary: backend, dtype, problem type and shapes (A (B, d, d) or a (B, m, d),
    and w0 (B, d)); returns the problem's array."""
    name = select(op, backend, dtype)
    dt = np.dtype(dtype)
    w = np.asarray(w0, dtype=dt)
    if isinstance(problem, NormalizedSoftplus):
        A = np.asarray(problem.a, dtype=dt)
        if A.ndim != 3 or A.shape[1] < 1 or w.shape != (A.shape[0], A.shape[2]):
            raise ProblemError(f"a must be (B, m, d) and w0 (B, d); got {A.shape} and {w.shape}")
        return name, dt, A, w, A.shape[0]
    if not isinstance(problem, Rayleigh):
        raise ProblemError(f"unknown problem type {type(problem).__name__}")
    A = np.asarray(problem.A, dtype=dt)
    if A.ndim != 3 or A.shape[1] != A.shape[2] or w.shape != A.shape[:2]:
        raise ProblemError(f"A must be (B, d, d) and w0 (B, d); got {A.shape} and {w.shape}")
    return name, dt, A, w, A.shape[0]
