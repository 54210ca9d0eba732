"""Helpers the built-in families share (not part of the extension API)."""

from __future__ import annotations

from typing import Any

import numpy as np

import kernels

__all__ = ["kernel_backend"]


def kernel_backend(backend: str, dtype: Any) -> str:
    """The backend a family's NumPy-or-numba kernels run on: ``"auto"`` resolved by the kernels'
    policy, and the NumPy reference for every dtype but float64 (the extended-precision replays,
    which always ask for "numpy" anyway).  An explicit "cupy" is passed on, so a kernel without a
    CuPy implementation refuses it instead of falling back."""
    b = kernels.resolve_backend(backend) if backend == "auto" else backend
    return "numpy" if np.dtype(dtype) != np.dtype(np.float64) else b
