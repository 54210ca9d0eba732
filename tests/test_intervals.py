"""Rigorous interval arithmetic (numeric/intervals.py) and the saddle generators' safe distance:
every enclosure contains the exact rational result, checked with Fractions."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from numeric.intervals import Interval, iabs, imax, point

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False)


def _inside(v: Fraction, iv: Interval) -> bool:
    """Whether the exact v lies in the enclosure (an infinite end, from an overflowing quotient, is
    unbounded on that side)."""
    lo, hi = float(iv.lo[0]), float(iv.hi[0])
    return (lo == -np.inf or Fraction(lo) <= v) and (hi == np.inf or v <= Fraction(hi))


@settings(max_examples=300, deadline=None)
@given(finite, finite, finite)
def test_each_operation_encloses_the_exact_result(a: float, b: float, c: float) -> None:
    A, B, C = (point(np.array([x])) for x in (a, b, c))
    fa, fb, fc = Fraction(a), Fraction(b), Fraction(c)
    assert _inside(fa + fb, A + B)
    assert _inside(fa - fb, A - B)
    assert _inside(fa * fb, A * B)
    assert _inside(fa * fa, A.square())
    assert _inside((fa + fb) * fc - fa, (A + B) * C - A)
    if b != 0:
        assert _inside(fa / fb, A / B)
    assert _inside(abs(fa - fb), iabs(A - B))
    assert _inside(max(fa, fb, fc), imax(A, B, C))
    r = (A * A + B).sqrt()  # sqrt(max(a^2 + b, 0)): lo^2 <= a^2 + b <= hi^2
    x = max(fa * fa + fb, Fraction(0))
    assert Fraction(float(r.lo[0])) ** 2 <= x <= Fraction(float(r.hi[0])) ** 2


def test_a_wrong_enclosure_is_detected() -> None:
    """The control: without the outward step the float sum of 0.1 and 0.2 misses the exact sum."""
    a, b = np.array([0.1]), np.array([0.2])
    s = a + b
    assert not _inside(Fraction(0.1) + Fraction(0.2), Interval(s, s))
    assert _inside(Fraction(0.1) + Fraction(0.2), point(a) + point(b))


def test_safe_distance_is_exactly_safe_and_within_three_ulps() -> None:
    from numeric.families.escape import _safe_distance

    rng = np.random.default_rng(0)
    for _ in range(40):
        n, d = 32, int(rng.integers(1, 21))
        w0 = rng.standard_normal((n, d)) * 10.0 ** rng.uniform(-3, 3, (n, 1))
        xs = np.where(rng.random((n, d)) < 0.3, rng.standard_normal((n, d)), 0.0)
        out = _safe_distance(w0, xs)
        for i in range(n):
            sq = sum((Fraction(a) - Fraction(b)) ** 2 for a, b in zip(w0[i].tolist(), xs[i].tolist()))
            assert Fraction(float(out[i])) ** 2 >= sq
            below = out[i]
            for _ in range(3):
                below = np.nextafter(below, -np.inf)
            assert Fraction(float(below)) ** 2 < sq
