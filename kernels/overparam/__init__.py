"""GD on the over-parameterized logistic loss ``l(w_1, ..., w_k) = l_hat(w_1 w_2 ... w_k)``
(Problem 13.1.1 of the seed, THEOREMS.md section 6).

``l_hat(W) = sum_j c_j log(1 + exp(-y_j x_j W))`` is the logistic loss of a one-dimensional linear
model on a data set ``(x_j, y_j)`` with weights ``c_j >= 0`` (1 for a plain sum; 0 pads a batch of data
sets of different sizes to a common m).  Each instance of a batch has its own data set, its own
number of factors k and its own step size.

**Equal start.**  Every factor starts at the same value, ``w_i(0) = w0`` for all i.  By symmetry the
factors then stay equal, so GD on the k-vector is exactly the scalar recurrence

    w_{t+1} = w_t - eta l_hat'(W_t) w_t^(k-1),   W_t = w_t^k,

which is what both implementations compute (the product ``W_t`` is the quantity the theorem is
about).

One public entry point, :func:`gd_product`, validated here, with two implementations of the same
loop: a NumPy reference (:mod:`.reference`, any float dtype, ``np.longdouble`` for replays) and a
numba kernel (:mod:`.numba`, ``prange`` over the batch, float64).  There is **no GPU kernel**:
``backend="cupy"`` raises :class:`kernels.BackendUnavailable`.  Overflow is data, not an error: once
the product overflows the arrays hold inf (and possibly nan).

The two implementations are registered as the operation "overparam.gd" (``KERNELS``, entry point
``thmcheck.kernels``); :func:`kernels.backend.select` picks one, and refuses what none covers.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import KernelImpl, get_kernel, select

from .reference import loss_and_grad

#: "overparam.gd" implementations, registered through the ``thmcheck.kernels`` entry point.
KERNELS: tuple[KernelImpl, ...] = (
    KernelImpl("overparam.gd", "numpy", ("float32", "float64", "longdouble"),
               "kernels.overparam.reference:gd_product_reference"),
    KernelImpl("overparam.gd", "numba", ("float64",), "kernels.overparam.numba:gd_product_numba"),
)

__all__ = ["KERNELS", "LogisticData", "ProductRun", "gd_product", "logistic_loss_grad"]


@dataclass(frozen=True, eq=False)
class LogisticData:
    """A batch of B one-dimensional logistic data sets, padded to a common size m.

    ``x``, ``y`` and ``weight`` are (B, m); the loss of instance b is
    ``sum_j weight[b, j] log(1 + exp(-y[b, j] x[b, j] W))``.  Padding entries have weight 0.
    """

    x: np.ndarray
    y: np.ndarray
    weight: np.ndarray

    @property
    def size(self) -> int:
        return int(self.x.shape[0])

    @property
    def slopes(self) -> np.ndarray:
        """``y_j x_j`` (B, m): the loss of a point is ``log(1 + exp(-slope W))``."""
        return self.y * self.x

    def astype(self, dtype: Any) -> "LogisticData":
        return LogisticData(*(np.asarray(a, dtype=dtype) for a in (self.x, self.y, self.weight)))

    def take(self, index: Any) -> "LogisticData":
        index = np.asarray(index)
        return LogisticData(self.x[index], self.y[index], self.weight[index])


@dataclass(frozen=True, eq=False)
class ProductRun:
    """Result of :func:`gd_product` on B instances over T steps; every array is (B, T+1), t = 0..T.

    ``w``: the common factor w_t; ``W``: the product W_t = w_t^k; ``Wabs``: |W_t|; ``loss``:
    l_hat(W_t); ``lprime``: l_hat'(W_t).  ``backend`` is the implementation that actually ran,
    ``dtype`` the compute dtype's name.  Non-finite entries mean the run overflowed.
    """

    w: np.ndarray
    W: np.ndarray
    Wabs: np.ndarray
    loss: np.ndarray
    lprime: np.ndarray
    backend: str
    dtype: str


def logistic_loss_grad(data: LogisticData, W: Any, dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``l_hat(W)`` and ``l_hat'(W)`` for a batch (NumPy reference, in ``dtype`` or the data's)."""
    d = data if dtype is None else data.astype(dtype)
    Wv = np.broadcast_to(np.asarray(W, dtype=d.x.dtype), (d.size,))
    return loss_and_grad(d.slopes, d.weight, Wv)


def _dtype_name(dt: np.dtype) -> str:
    return "longdouble" if dt == np.dtype(np.longdouble) and dt != np.dtype(np.float64) else dt.name


def gd_product(data: LogisticData, w0: Any, k: Any, eta: Any, T: int, *, backend: str = "auto",
               dtype: Any = np.float64) -> ProductRun:
    """Gradient descent on ``l_hat(w_1 ... w_k)`` from the equal start ``w_i = w0`` (see the module).

    Args:
        data: B data sets.  w0: (B,) starting value of every factor (finite).  k: (B,) integer
            numbers of factors (>= 1).  eta: scalar or (B,) step sizes (finite).  T: steps (>= 0).
        backend: "numpy" (reference, any float dtype), "numba" (float64), "auto" (numba when
            importable, else numpy); "cupy" raises :class:`kernels.BackendUnavailable` (no GPU
            kernel).
        dtype: compute dtype.
    """
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise ValueError(f"dtype {dtype!r} is not a NumPy dtype") from exc
    if not np.issubdtype(dt, np.floating):
        raise ValueError(f"dtype must be a float dtype, got {dt}")
    backend = select("overparam.gd", backend, dt)
    if not isinstance(data, LogisticData):
        raise TypeError(f"data must be a kernels.overparam.LogisticData, got {type(data).__name__}")
    d = data.astype(dt)
    if d.x.ndim != 2 or d.y.shape != d.x.shape or d.weight.shape != d.x.shape:
        raise ValueError(f"x, y and weight must all be (B, m), got {d.x.shape}, {d.y.shape}, {d.weight.shape}")
    B = d.size
    if not (np.all(np.isfinite(d.x)) and np.all(np.isfinite(d.y)) and np.all(np.isfinite(d.weight))):
        raise ValueError("data arrays must be finite")
    if np.any(d.weight < 0):
        raise ValueError("weights must be non-negative")
    w = np.ascontiguousarray(np.broadcast_to(np.asarray(w0, dtype=dt).reshape(-1) if np.ndim(w0) else
                                             np.asarray(w0, dtype=dt), (B,)))
    kk = np.asarray(k)
    if not np.issubdtype(kk.dtype, np.integer):
        if not (np.issubdtype(kk.dtype, np.floating) and np.all(kk == np.round(kk))):
            raise ValueError(f"k must hold integers, got {kk!r}")
    kk = np.ascontiguousarray(np.broadcast_to(kk.astype(np.int64), (B,)))
    if np.any(kk < 1):
        raise ValueError("k must be >= 1")
    e = np.ascontiguousarray(np.broadcast_to(np.asarray(eta, dtype=dt), (B,)))
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(e))):
        raise ValueError("w0 and eta must be finite")
    if isinstance(T, bool) or not isinstance(T, numbers.Integral) or int(T) < 0:
        raise ValueError(f"T must be a non-negative integer, got {T!r}")
    T = int(T)
    s = np.ascontiguousarray(d.slopes)
    c = np.ascontiguousarray(d.weight)
    wt, W, loss, g = get_kernel("overparam.gd", backend)(s, c, w, kk, e, T)
    with np.errstate(invalid="ignore"):
        Wabs = np.abs(W)
    return ProductRun(w=wt, W=W, Wabs=Wabs, loss=loss, lprime=g, backend=backend, dtype=_dtype_name(dt))
