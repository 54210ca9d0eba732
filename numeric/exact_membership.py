"""Exact rational arithmetic for class-membership certificates.

Every float64 array is a dyadic rational, so a class whose definition is a set of polynomial
inequalities in the stored arrays (a spectrum inside [-L, L], a matrix positive semidefinite,
curvatures inside an interval) can be decided *exactly* by converting the arrays to
:class:`fractions.Fraction` and computing without rounding.  The engine does that for every
confirmed counterexample (through :attr:`numeric.api.InstanceClass.member_exact`), because the
float64 membership checks need a slack for the eigensolver's error, and a counterexample that lives
inside that slack is outside its class, not a refutation (issue 17, finding 8).

The helpers here are the building blocks of the built-in classes' exact checks: conversion to
Fractions, the exact positive-semidefiniteness test (symmetric Gaussian elimination), and a rational
upper bound on a square root.  The module is public API: a plugin's class writes its
``member_exact`` hook with them (the momentum example's ``thmcheck_momentum.exact`` does).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

__all__ = ["Matrix", "fractions", "fraction_matrix", "is_psd", "identity_times", "add", "scale", "gram",
           "congruence", "sqrt_upper"]

#: A dense matrix of Fractions, row-major.
Matrix = list[list[Fraction]]


def fractions(values: Any) -> list[Fraction]:
    """A 1-D float array as exact Fractions (every finite float is a dyadic rational); raises
    ``ValueError`` on a non-finite entry."""
    out = []
    for v in np.asarray(values, dtype=np.float64).ravel().tolist():
        if not math.isfinite(v):
            raise ValueError(f"non-finite entry {v!r}")
        out.append(Fraction(v))
    return out


def fraction_matrix(M: Any) -> Matrix:
    """A 2-D float array as a matrix of exact Fractions."""
    a = np.asarray(M, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"expected a matrix, got shape {a.shape}")
    return [fractions(row) for row in a]


def identity_times(n: int, c: Fraction) -> Matrix:
    """``c I`` of size n."""
    return [[c if i == j else Fraction(0) for j in range(n)] for i in range(n)]


def add(A: Matrix, B: Matrix, sign: int = 1) -> Matrix:
    """``A + sign B``."""
    return [[a + sign * b for a, b in zip(ra, rb)] for ra, rb in zip(A, B)]


def scale(A: Matrix, c: Fraction) -> Matrix:
    """``c A``."""
    return [[c * a for a in row] for row in A]


def _integers(values: Sequence[Fraction]) -> tuple[list[int], int]:
    """``values`` as integers over one common denominator: ``values[i] = ints[i] / den``."""
    den = 1
    for v in values:
        den = math.lcm(den, v.denominator)
    return [v.numerator * (den // v.denominator) for v in values], den


def gram(R: Matrix, weights: Sequence[Fraction]) -> Matrix:
    """``R^T diag(weights) R`` for R of shape (m, d), summed in integers over a common denominator
    (Fraction arithmetic normalises every partial sum; this normalises each entry once)."""
    d = len(R[0]) if R else 0
    if not R:
        return []
    flat, den_r = _integers([x for row in R for x in row])
    w, den_w = _integers(list(weights))
    rows = [flat[k * d:(k + 1) * d] for k in range(len(R))]
    out = [[0] * d for _ in range(d)]
    for row, wk in zip(rows, w):
        if wk == 0:
            continue
        for i in range(d):
            wi = wk * row[i]
            if wi == 0:
                continue
            oi = out[i]
            for j in range(d):
                oi[j] += wi * row[j]
    den = den_r * den_r * den_w
    return [[Fraction(x, den) for x in row] for row in out]


def congruence(Q: Matrix, D: Sequence[Fraction]) -> Matrix:
    """``Q^T diag(D) Q``."""
    return gram(Q, D)


def is_psd(M: Matrix) -> bool:
    """Whether the symmetric rational matrix ``M`` is positive semidefinite, decided exactly.

    First fraction-free (Bareiss) elimination on ``M`` scaled to integers: its pivots are the
    leading principal minors, so all positive means positive definite and a negative one refutes.
    A zero minor (a singular leading block: the semidefinite boundary) is decided by symmetric
    Gaussian elimination in Fractions instead, where a zero pivot is allowed only when its whole row
    is zero (a PSD matrix with a zero diagonal entry has that row and column zero)."""
    n = len(M)
    if any(len(r) != n for r in M) or any(M[i][j] != M[j][i] for i in range(n) for j in range(i)):
        return False
    flat, _ = _integers([x for row in M for x in row])
    A = [flat[i * n:(i + 1) * n] for i in range(n)]
    prev = 1
    for k in range(n):
        p = A[k][k]
        if p < 0:
            return False
        if p == 0:
            return _is_psd_fractions(M)
        Ak = A[k]
        for i in range(k + 1, n):
            Ai = A[i]
            aik = Ai[k]
            for j in range(k + 1, n):
                Ai[j] = (Ai[j] * p - aik * Ak[j]) // prev
        prev = p
    return True


def _is_psd_fractions(M: Matrix) -> bool:
    A = [list(row) for row in M]
    n = len(A)
    active = list(range(n))
    while active:
        k = active[0]
        p = A[k][k]
        rest = active[1:]
        if p < 0:
            return False
        if p == 0:
            if any(A[k][j] != 0 for j in rest):
                return False
            active = rest
            continue
        for i in rest:
            f = A[i][k] / p
            if f == 0:
                continue
            Ai, Ak = A[i], A[k]
            for j in rest:
                Ai[j] -= f * Ak[j]
        active = rest
    return True


def sqrt_upper(x: Fraction) -> Fraction:
    """A rational ``u >= sqrt(x)`` within a few ulps of it (for ``x >= 0``)."""
    if x <= 0:
        return Fraction(0)
    u = Fraction(math.sqrt(float(x)))
    step = Fraction(max(float(u), 1e-300)) * Fraction(1, 2**50)
    while u * u < x:
        u += step
        step *= 2
    return u
