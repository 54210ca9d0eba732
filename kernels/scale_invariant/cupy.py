"""CuPy backend of the scale-invariant dynamics: the NumPy reference's arithmetic on CuPy arrays
(float64).  Importing this module does not import CuPy; running a kernel does."""

from __future__ import annotations

from .reference import gd_wd_kernel as _gd_wd, hitting_kernel as _hitting

__all__ = ["gd_wd_kernel", "hitting_kernel"]


def gd_wd_kernel(A, w, e, lm, c, T, ray, idx, K, Fr):
    """``scale_invariant.gd_wd`` on the device; results copied back to the host."""
    import cupy  # noqa: PLC0415 - lazy by design

    out = _gd_wd(A, w, e, lm, c, T, ray, idx, K, Fr, xp=cupy)
    return tuple(None if x is None else cupy.asnumpy(x) for x in out)


def hitting_kernel(A, w, e, lm, T, lg, ln, ray):
    """``scale_invariant.hitting`` on the device; results copied back to the host."""
    import cupy  # noqa: PLC0415 - lazy by design

    return tuple(cupy.asnumpy(x) for x in _hitting(A, w, e, lm, T, lg, ln, ray, xp=cupy))
