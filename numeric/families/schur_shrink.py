"""Shrinking and exact evaluation for the matrix-pair classes of the Schur product family.

:func:`shrink_pairs` proposes simpler pairs (A, B): one index dropped from both (n - 1), the
off-diagonal entries zeroed, A scaled to max |A_ij| = 1, entries rounded to short decimals.  The
engine keeps a candidate only when it stays in its class (PSD where the class says so) and still
violates the claim.  :func:`exact_spectra` evaluates the ``spectra`` observables exactly when both
matrices are diagonal (their eigenvalues, and those of A o B, are then the diagonal entries).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Iterator, Mapping

import numpy as np

from .ridge_shrink import short_decimals

__all__ = ["shrink_pairs", "exact_spectra"]


def shrink_pairs(data: dict[str, Any], attrs: dict[str, float]) -> Iterator[tuple[str, dict[str, Any], dict[str, float]]]:
    """Candidate simplifications of one (A, B) pair, most aggressive first."""
    A = np.asarray(data["A"], dtype=np.float64)
    B = np.asarray(data["B"], dtype=np.float64)
    n = A.shape[0]

    def cand(move: str, A_: np.ndarray, B_: np.ndarray) -> tuple[str, dict[str, Any], dict[str, float]]:
        return move, {**data, "A": A_.tolist(), "B": B_.tolist()}, {**attrs, "n": float(A_.shape[0])}

    if n > 1:
        for i in range(n):
            keep = np.arange(n) != i
            yield cand(f"dropped index {i} (n = {n - 1})", A[np.ix_(keep, keep)], B[np.ix_(keep, keep)])
    for name, M in (("A", A), ("B", B)):
        off = M - np.diag(np.diagonal(M))
        if np.any(off != 0):
            D = np.diag(np.diagonal(M))
            yield cand(f"{name} replaced by its diagonal", D if name == "A" else A, D if name == "B" else B)
    big = float(np.abs(A).max()) if A.size else 0.0
    if big > 0 and big != 1.0:
        yield cand("A scaled to max |A_ij| = 1", A / big, B)
    for digits in (1, 2, 3):
        rA, rB = short_decimals(A, digits), short_decimals(B, digits)
        if np.any(rA != A) or np.any(rB != B):
            yield cand(f"A and B rounded to {digits} significant digit(s)", rA, rB)


def exact_spectra(data: dict[str, Any], values: Mapping[str, Fraction]) -> dict[str, Any] | None:
    """The ``spectra`` observables of a diagonal pair, exactly (None when either matrix has an
    off-diagonal entry: its eigenvalues are then in general irrational)."""
    A = [[Fraction(x) for x in row] for row in data["A"]]
    B = [[Fraction(x) for x in row] for row in data["B"]]
    n = len(A)
    if any(A[i][j] or B[i][j] for i in range(n) for j in range(n) if i != j):
        return None
    a = [A[i][i] for i in range(n)]
    b = [B[i][i] for i in range(n)]
    ab = [x * y for x, y in zip(a, b)]
    return {"lmin_AB": min(ab), "lmax_AB": max(ab), "lmin_A": min(a), "lmax_A": max(a), "bmin": min(b), "bmax": max(b)}
