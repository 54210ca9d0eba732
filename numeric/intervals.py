"""Rigorous interval arithmetic on float64 arrays, vectorized over a batch.

An :class:`Interval` holds ``lo <= x <= hi`` elementwise.  Every operation computes its float64
result(s) and moves each endpoint one ulp outward with :func:`numpy.nextafter`.  IEEE 754 rounds
``+ - * /`` and ``sqrt`` correctly (error at most half an ulp of the result), so one ulp outward
always encloses the exact real result: the enclosure is a proof, as strong as rational arithmetic,
at the cost of a few ulps of width per operation.

Why not :class:`fractions.Fraction`: a chain of square roots and squares of squares makes rational
numbers with thousands of digits, and a generator that certifies its constants for every drawn
instance (:mod:`numeric.families.escape`) spent most of its time there; these enclosures cost a few
vectorized NumPy operations per step for the whole batch.  Exact checks of single recorded instances
still use :mod:`numeric.exact_membership` where the definition is rational.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np

__all__ = ["Interval", "point", "imax", "iabs"]

_DOWN, _UP = -np.inf, np.inf


def _down(x: np.ndarray) -> np.ndarray:
    return np.nextafter(x, _DOWN)


def _up(x: np.ndarray) -> np.ndarray:
    return np.nextafter(x, _UP)


Operand = Union["Interval", float, np.ndarray]


@dataclass(frozen=True)
class Interval:
    """Elementwise enclosures ``lo <= x <= hi`` of real numbers (float64 arrays of one shape)."""

    lo: np.ndarray
    hi: np.ndarray

    def __add__(self, other: Operand) -> Interval:
        o = _as(other)
        return Interval(_down(self.lo + o.lo), _up(self.hi + o.hi))

    __radd__ = __add__

    def __neg__(self) -> Interval:
        return Interval(-self.hi, -self.lo)  # negation is exact

    def __sub__(self, other: Operand) -> Interval:
        o = _as(other)
        return Interval(_down(self.lo - o.hi), _up(self.hi - o.lo))

    def __rsub__(self, other: Operand) -> Interval:
        return _as(other) - self

    def __mul__(self, other: Operand) -> Interval:
        o = _as(other)
        with np.errstate(invalid="ignore", over="ignore"):  # 0 * inf endpoints: never produced by the callers' finite data
            p = np.stack([self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi])
        return Interval(_down(p.min(axis=0)), _up(p.max(axis=0)))

    __rmul__ = __mul__

    def __truediv__(self, other: Operand) -> Interval:
        """Division by an interval that does not contain 0 (callers mask such rows out)."""
        o = _as(other)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            p = np.stack([self.lo / o.lo, self.lo / o.hi, self.hi / o.lo, self.hi / o.hi])
        return Interval(_down(p.min(axis=0)), _up(p.max(axis=0)))

    def square(self) -> Interval:
        """``x^2`` (tighter than ``x * x`` when the interval contains 0)."""
        a = iabs(self)
        return Interval(_down(a.lo * a.lo), _up(a.hi * a.hi))

    def sqrt(self) -> Interval:
        """``sqrt(max(x, 0))``."""
        lo = np.maximum(_down(np.sqrt(np.maximum(self.lo, 0.0))), 0.0)
        return Interval(lo, _up(np.sqrt(np.maximum(self.hi, 0.0))))

    def clip_low(self, v: float) -> Interval:
        """``max(x, v)``."""
        return Interval(np.maximum(self.lo, v), np.maximum(self.hi, v))


def point(x: float | np.ndarray) -> Interval:
    """The degenerate interval ``[x, x]`` of stored floats (exact)."""
    a = np.asarray(x, dtype=np.float64)
    return Interval(a, a)


def _as(x: Operand) -> Interval:
    return x if isinstance(x, Interval) else point(x)


def iabs(x: Interval) -> Interval:
    """``|x|``."""
    lo = np.where((x.lo <= 0) & (x.hi >= 0), 0.0, np.minimum(np.abs(x.lo), np.abs(x.hi)))
    return Interval(lo, np.maximum(np.abs(x.lo), np.abs(x.hi)))


def imax(*xs: Interval) -> Interval:
    """Elementwise ``max`` of intervals."""
    return Interval(np.maximum.reduce([x.lo for x in xs]), np.maximum.reduce([x.hi for x in xs]))
