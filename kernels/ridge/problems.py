"""Problem data understood by the kernels.

Problems are arrays, never Python callables, so that every backend (NumPy, numba, CuPy) can run the
same batch.  One family covers the smooth test functions of the catalogue:

    f(w) = 1/2 w^T A w + b^T w + sum_k c_k psi(r_k^T w + s_k)

with ``psi`` one of the ridge profiles below.  With ``m = 0`` ridges it is a quadratic; with
``A = 0`` and ``psi = logcosh`` a sum of log-cosh ridges; with ``r_k = e_k`` and ``psi = sin`` a
quadratic plus a bounded sine perturbation.  For stochastic dynamics the same function is read as a
finite sum ``f = (1/m) sum_k f_k`` with components ``f_k(w) = 1/2 w^T A w + b^T w + m c_k psi(...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

__all__ = ["Ridge", "RidgeQuadratic", "ProblemError"]


class ProblemError(ValueError):
    """Raised when problem arrays are inconsistent (shapes, dtypes, non-finite entries)."""


class Ridge(IntEnum):
    """Ridge profile ``psi``.  The integer codes are what the compiled kernels switch on."""

    LOGCOSH = 0  # psi = log cosh z,  psi' = tanh z,  psi'' = sech^2 z in (0, 1]
    SIN = 1  # psi = sin z,       psi' = cos z,   psi'' = -sin z in [-1, 1]


@dataclass(frozen=True)
class RidgeQuadratic:
    """A batch of ``B`` functions on R^d, each a quadratic plus ``m`` ridges.

    Attributes:
        A: (B, d, d) symmetric matrices.
        b: (B, d) linear terms.
        R: (B, m, d) ridge directions (``m`` may be 0).
        s: (B, m) ridge offsets.
        c: (B, m) ridge weights.
        psi: ridge profile shared by the batch.
    """

    A: np.ndarray
    b: np.ndarray
    R: np.ndarray
    s: np.ndarray
    c: np.ndarray
    psi: Ridge = Ridge.LOGCOSH

    def __post_init__(self) -> None:
        A, b, R, s, c = self.A, self.b, self.R, self.s, self.c
        if A.ndim != 3 or A.shape[1] != A.shape[2]:
            raise ProblemError(f"A must have shape (B, d, d), got {A.shape}")
        B, d = A.shape[0], A.shape[1]
        if b.shape != (B, d):
            raise ProblemError(f"b must have shape {(B, d)}, got {b.shape}")
        if R.ndim != 3 or R.shape[0] != B or R.shape[2] != d:
            raise ProblemError(f"R must have shape (B, m, d) = ({B}, m, {d}), got {R.shape}")
        m = R.shape[1]
        if s.shape != (B, m) or c.shape != (B, m):
            raise ProblemError(f"s and c must have shape {(B, m)}, got {s.shape} and {c.shape}")
        for name in ("A", "b", "R", "s", "c"):
            arr = getattr(self, name)
            if not np.issubdtype(arr.dtype, np.floating):
                raise ProblemError(f"{name} must be a floating array, got dtype {arr.dtype}")
            if not np.all(np.isfinite(arr)):
                raise ProblemError(f"{name} has non-finite entries")
        object.__setattr__(self, "psi", Ridge(int(self.psi)))

    @property
    def batch(self) -> int:
        return self.A.shape[0]

    @property
    def dim(self) -> int:
        return self.A.shape[1]

    @property
    def ridges(self) -> int:
        return self.R.shape[1]

    def astype(self, dtype: np.dtype | type) -> "RidgeQuadratic":
        """The same problem with every array converted to ``dtype`` (e.g. ``np.longdouble``)."""
        return RidgeQuadratic(
            *(np.asarray(getattr(self, n), dtype=dtype) for n in ("A", "b", "R", "s", "c")),
            psi=self.psi,
        )

    def take(self, index: np.ndarray | list[int]) -> "RidgeQuadratic":
        """The sub-batch at ``index`` (used to replay single instances)."""
        idx = np.asarray(index, dtype=np.intp)
        return RidgeQuadratic(
            *(np.ascontiguousarray(getattr(self, n)[idx]) for n in ("A", "b", "R", "s", "c")),
            psi=self.psi,
        )

    @staticmethod
    def quadratic(A: np.ndarray, b: np.ndarray | None = None) -> "RidgeQuadratic":
        """A batch of pure quadratics ``1/2 w^T A w + b^T w`` (no ridges)."""
        A = np.asarray(A, dtype=np.float64)
        B, d = A.shape[0], A.shape[1]
        b = np.zeros((B, d)) if b is None else np.asarray(b, dtype=np.float64)
        return RidgeQuadratic(A, b, np.zeros((B, 0, d)), np.zeros((B, 0)), np.zeros((B, 0)))
