"""Gradient descent on a quadratic in exact rational arithmetic.

The same update as :mod:`kernels.ridge.reference`, ``w_{t+1} = w_t - eta (A w_t + b)``, with every
number a :class:`fractions.Fraction`.  Floats convert to Fractions exactly, so a recorded float64
instance is re-run here without any rounding at all; the result certifies a counterexample that the
floating-point replays could only confirm up to a rounding allowance.  Only pure quadratics (no
ridge terms) are rational dynamics; ridge profiles (log cosh, sin) are transcendental.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

__all__ = ["ExactTrajectory", "gd_quadratic"]

Vector = list[Fraction]


@dataclass(frozen=True)
class ExactTrajectory:
    """``f[t]`` and ``gnorm2[t]`` for t = 0..T, exactly."""

    f: tuple[Fraction, ...]
    gnorm2: tuple[Fraction, ...]


def _matvec(A: Sequence[Sequence[Fraction]], w: Vector) -> Vector:
    return [sum((a * x for a, x in zip(row, w)), Fraction(0)) for row in A]


def _dot(u: Vector, v: Vector) -> Fraction:
    return sum((a * b for a, b in zip(u, v)), Fraction(0))


def gd_quadratic(A: Sequence[Sequence[float | Fraction]], b: Sequence[float | Fraction],
                 w0: Sequence[float | Fraction], eta: float | Fraction, horizon: int) -> ExactTrajectory:
    """Run ``horizon`` GD steps on ``f(w) = 1/2 w^T A w + b^T w`` from ``w0`` with step ``eta``, in
    exact arithmetic.  Raises ``ValueError`` for shapes that do not match or a negative horizon."""
    d = len(w0)
    if len(b) != d or len(A) != d or any(len(row) != d for row in A):
        raise ValueError(f"exact GD: A must be {d}x{d} and b of length {d}")
    if horizon < 0:
        raise ValueError(f"exact GD: horizon must be >= 0, got {horizon}")
    Af = [[Fraction(x) for x in row] for row in A]
    bf = [Fraction(x) for x in b]
    w = [Fraction(x) for x in w0]
    step = Fraction(eta)
    fs: list[Fraction] = []
    gs: list[Fraction] = []
    for t in range(horizon + 1):
        Aw = _matvec(Af, w)
        grad = [x + y for x, y in zip(Aw, bf)]
        fs.append(_dot(w, Aw) / 2 + _dot(bf, w))
        gs.append(_dot(grad, grad))
        if t < horizon:
            w = [x - step * g for x, g in zip(w, grad)]
    return ExactTrajectory(tuple(fs), tuple(gs))
