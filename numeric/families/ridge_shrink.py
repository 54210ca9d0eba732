"""Shrinking and exact re-runs for the ridge-quadratic classes (``smooth``, ``smooth_finite_sum``,
``diagonal_bound``) and gradient descent on them.

:func:`shrink_ridge` proposes simpler versions of a recorded instance, each strictly simpler than
its input, most aggressive first: drop ridge terms, rotate a quadratic to its eigenbasis (GD is
rotation invariant, so the trajectory's values are unchanged), drop coordinates, zero the linear
term and negligible entries, scale f so that L = 1, push eigenvalues to the ends of [-L, L], and
round entries to short decimals.  The engine decides which to keep (membership, round trip, the
violation at both precisions); nothing here needs to be right about the claim.

:func:`exact_gd` re-runs GD on a pure quadratic in exact rational arithmetic.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Iterator, Mapping

import numpy as np
from kernels.ridge.exact import gd_quadratic

__all__ = ["shrink_ridge", "exact_gd", "short_decimals"]


def short_decimals(x: np.ndarray, digits: int) -> np.ndarray:
    """``x`` rounded to ``digits`` significant decimal digits, entry by entry (zeros stay zero)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    nz = x != 0
    if nz.any():
        mag = np.floor(np.log10(np.abs(x[nz])))
        scale = 10.0 ** (digits - 1 - mag)
        out[nz] = np.round(x[nz] * scale) / scale
    return out


def _with(data: dict[str, Any], **arrays: np.ndarray) -> dict[str, Any]:
    out = dict(data)
    for key, value in arrays.items():
        out[key] = np.asarray(value, dtype=np.float64).tolist()
    return out


def _attrs(A: np.ndarray, R: np.ndarray, c: np.ndarray, L: float) -> dict[str, float]:
    """The class constants of the changed instance: ``L`` as given, the diagonal Hessian bound
    recomputed from the arrays (as the generators compute it), the dimension."""
    diag = float(np.abs(np.diagonal(A)).max()) if A.size else 0.0
    if R.size:
        diag += float((np.abs(c)[:, None] * R**2).sum(axis=0).max())
    return {"L": float(L), "Ldiag": diag, "d": float(A.shape[0])}


def shrink_ridge(data: dict[str, Any], attrs: dict[str, float]) -> Iterator[tuple[str, dict[str, Any], dict[str, float]]]:
    """Candidate simplifications of one ridge-quadratic instance (see the module docstring)."""
    A = np.asarray(data["A"], dtype=np.float64)
    d = A.shape[0]
    b = np.asarray(data["b"], dtype=np.float64).reshape(d)
    R = np.asarray(data["R"], dtype=np.float64).reshape(-1, d)
    s = np.asarray(data["s"], dtype=np.float64).reshape(-1)
    c = np.asarray(data["c"], dtype=np.float64).reshape(-1)
    w0 = np.asarray(data["w0"], dtype=np.float64).reshape(d)
    L = float(attrs["L"])
    keep_L = {k: v for k, v in attrs.items()}

    def cand(move: str, *, A_: np.ndarray = A, b_: np.ndarray = b, R_: np.ndarray = R, s_: np.ndarray = s,
             c_: np.ndarray = c, w_: np.ndarray = w0, L_: float = L) -> tuple[str, dict[str, Any], dict[str, float]]:
        new = _with(data, A=A_, b=b_, R=R_, s=s_, c=c_, w0=w_)
        return move, new, {**keep_L, **_attrs(A_, R_, c_, L_)}

    m = R.shape[0]
    if m:
        yield cand("dropped every ridge term", R_=R[:0], s_=s[:0], c_=c[:0])
        for k in range(m):
            keep = np.arange(m) != k
            yield cand(f"dropped ridge term {k}", R_=R[keep], s_=s[keep], c_=c[keep])
    off = A - np.diag(np.diagonal(A))
    if d > 1 and np.any(off != 0):
        lam, Q = np.linalg.eigh(A)
        yield cand("rotated to the eigenbasis of A", A_=np.diag(lam), b_=Q.T @ b, R_=R @ Q, w_=Q.T @ w0)
    if d > 1:
        for i in range(d):
            keep = np.arange(d) != i
            yield cand(f"dropped coordinate {i} (d = {d - 1})", A_=A[np.ix_(keep, keep)], b_=b[keep], R_=R[:, keep],
                       w_=w0[keep])
    if np.any(b != 0):
        yield cand("set b = 0", b_=np.zeros_like(b))
    def negligible(arr: np.ndarray) -> np.ndarray:
        big = np.abs(arr).max() if arr.size else 0.0
        return (arr != 0) & (np.abs(arr) <= 1e-8 * big)

    if negligible(A).any():
        yield cand("zeroed negligible entries of A", A_=np.where(negligible(A), 0.0, A))
    if negligible(b).any():
        yield cand("zeroed negligible entries of b", b_=np.where(negligible(b), 0.0, b))
    if L != 1.0 and L > 0:
        yield cand("scaled f by 1/L (L = 1)", A_=A / L, b_=b / L, c_=c / L, L_=1.0)
    if not np.any(off != 0) and m == 0:
        diag = np.diagonal(A)
        ends = np.where(diag >= 0, L, -L)
        if np.any(diag != ends):
            yield cand("eigenvalues of A at the ends of [-L, L]", A_=np.diag(ends))
    for digits in (1, 2, 3):
        rounded = {k: short_decimals(v, digits) for k, v in (("A", A), ("b", b))}
        rounded["A"] = (rounded["A"] + rounded["A"].T) / 2
        if any(np.any(rounded[k] != v) for k, v in (("A", A), ("b", b))):
            yield cand(f"A and b rounded to {digits} significant digit(s)", A_=rounded["A"], b_=rounded["b"])
        Ls = float(short_decimals(np.asarray([L]), digits)[0])
        if Ls < L:
            Ls = Ls + 10.0 ** (np.floor(np.log10(L)) - digits + 1)
        if Ls != L:
            yield cand(f"L rounded up to {digits} significant digit(s)", L_=float(short_decimals(np.asarray([Ls]), digits)[0]))


def exact_gd(data: dict[str, Any], values: Mapping[str, Fraction]) -> dict[str, Any] | None:
    """The GD observables of a recorded pure-quadratic instance in exact arithmetic (None when it
    has ridge terms, whose profiles are not rational)."""
    if np.asarray(data["R"]).size:
        return None
    eta = values.get("eta")
    if eta is None:
        return None
    T = int(data["T"])
    tr = gd_quadratic(data["A"], data["b"], data["w0"], eta, T)
    f, g = list(tr.f), list(tr.gnorm2)
    return {
        "f_t": f[:-1], "f_next": f[1:], "gnorm2_t": g[:-1], "gnorm2_next": g[1:],
        "f_first": f[0], "f_last": f[-1], "gnorm2_min": min(g[:-1]) if T else None,
        "gnorm2_mean": sum(g[:-1], Fraction(0)) / T if T else None, "horizon": Fraction(T),
    }
