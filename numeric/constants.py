"""Class constants a spec pins or bounds ("L = 1", "kappa = 10", "mu in [0.1, 1]").

An instance class declares the constants a spec may fix (:attr:`numeric.api.InstanceClass.constants`,
each with its domain); a spec names them on its structural hypothesis,
``Structural("sc", "lsmooth_strongly_convex", "...", constants={"kappa": 10, "L": (0.5, 2)})``: a
number pins the constant, a pair ``(low, high)`` bounds it (both ends included).

The engine never looks at a constant by name.  It runs the search on :func:`constrained`, the
class with

* every generator handed the pins in ``Knobs.constants`` (the class's own generators draw the
  constants there, with :func:`draw_constant` / :func:`place`);
* the parametrisation replaced by its ``with_constants(pins)`` (so polished members carry the
  pinned values too);
* membership extended by a check of every instance's recorded constants against the pins, so an
  instance drawn or shrunk outside them is an error, never evidence.
"""

from __future__ import annotations

import math
from dataclasses import replace
from numbers import Real
from typing import Any, Mapping

import numpy as np

from .api import Family, InstanceBatch, InstanceClass, Knobs, combine_checks

__all__ = ["Pins", "normalise", "as_mapping", "describe", "record", "draw_constant", "place", "constrained", "pins_check"]

#: Sorted ``(name, low, high)`` triples; ``low == high`` pins the value.
Pins = tuple[tuple[str, float, float], ...]


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name}: must be a number or a (low, high) pair of numbers, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name}: must be finite, got {value!r}")
    return v


def normalise(cls: InstanceClass, given: Any) -> Pins:
    """A spec's ``constants`` mapping checked against ``cls``'s declared constants and turned into
    :data:`Pins`; raises ValueError with a one-line reason (the validator prefixes spec and field)."""
    if given is None:
        return ()
    if not isinstance(given, Mapping):
        raise ValueError(f"must be a dict of constant name -> value or (low, high), got {type(given).__name__}")
    domains = {c.name: c for c in cls.constants}
    out = []
    for name, value in given.items():
        if name not in domains:
            known = ", ".join(domains) or "none"
            raise ValueError(f"class {cls.name!r} has no constant {name!r} a spec may pin (it declares: {known})")
        if isinstance(value, (tuple, list)):
            if len(value) != 2:
                raise ValueError(f"{name}: a range is a (low, high) pair, got {value!r}")
            lo, hi = _number(name, value[0]), _number(name, value[1])
            if lo > hi:
                raise ValueError(f"{name}: range ({lo:g}, {hi:g}) has low > high")
        else:
            lo = hi = _number(name, value)
        dom = domains[name]
        for v in (lo, hi):
            if not dom.contains(v):
                raise ValueError(f"{name} = {v:g} is outside the class's domain {dom.text()}")
        out.append((str(name), lo, hi))
    pins = tuple(sorted(out))
    if cls.constants_check is not None and pins:
        why = cls.constants_check(as_mapping(pins))
        if why:
            raise ValueError(why)
    return pins


def as_mapping(pins: Pins) -> dict[str, tuple[float, float]]:
    """``{name: (low, high)}``."""
    return {n: (lo, hi) for n, lo, hi in pins}


def describe(pins: Pins) -> str:
    """The pins in words: ``kappa = 10, mu in [0.1, 1]``."""
    return ", ".join(f"{n} = {lo:g}" if lo == hi else f"{n} in [{lo:g}, {hi:g}]" for n, lo, hi in pins)


def record(pins: Pins) -> dict[str, Any]:
    """The pins as plain data for records: a value, or ``[low, high]``."""
    return {n: (lo if lo == hi else [lo, hi]) for n, lo, hi in pins}


def place(lo: float, hi: float, s: np.ndarray) -> np.ndarray:
    """Positions ``s`` in [0, 1] mapped into ``[lo, hi]`` (log-uniformly when ``lo > 0``), the ends
    reached exactly and nothing outside them."""
    s = np.clip(np.asarray(s, dtype=np.float64), 0.0, 1.0)
    if lo == hi:
        return np.full(s.shape, lo)
    if lo > 0:
        v = lo * (hi / lo) ** s
    else:
        v = lo + s * (hi - lo)
    return np.clip(np.where(s == 0, lo, np.where(s == 1, hi, v)), lo, hi)


def draw_constant(rng: np.random.Generator, n: int, knobs: Knobs, name: str, default: np.ndarray) -> np.ndarray:
    """The constant ``name`` for ``n`` instances: inside the spec's interval when ``knobs`` pins it
    (uniform position, log scale for positive ranges; a pinned value exactly), else ``default``
    (drawn from no randomness, so classes without pins keep their exact random stream)."""
    pins = as_mapping(knobs.constants)
    if name not in pins:
        return np.asarray(default, dtype=np.float64)
    lo, hi = pins[name]
    return place(lo, hi, rng.random(n) if lo != hi else np.zeros(n))


def pins_check(pins: Pins, batch: InstanceBatch) -> list[tuple[np.ndarray, str]]:
    """Membership checks: each pinned constant of every instance inside the spec's interval."""
    out = []
    for name, lo, hi in pins:
        v = np.asarray(batch.attrs.get(name, np.full(batch.size, np.nan)), dtype=np.float64)
        what = f"{lo:g}" if lo == hi else f"[{lo:g}, {hi:g}]"
        out.append(((v >= lo) & (v <= hi), f"constant {name} is outside the spec's {what}"))
    return out


def constrained(cls: InstanceClass, pins: Pins) -> InstanceClass:
    """``cls`` with its constants held to ``pins`` (module docstring); ``cls`` itself without pins.
    A parametrisation without ``with_constants`` is dropped (no polishing under pins) rather than
    allowed to build members with other constants."""
    if not pins:
        return cls

    def wrap(fam: Family) -> Family:
        def generate(rng: np.random.Generator, n: int, knobs: Knobs) -> InstanceBatch:
            return fam.generate(rng, n, replace(knobs, constants=pins))

        return replace(fam, generate=generate)

    def member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
        ok, why = cls.member(batch)
        return _merge(ok, why, pins_check(pins, batch))

    p = cls.parametrisation
    with_constants = getattr(p, "with_constants", None)
    return replace(cls, families=tuple(wrap(f) for f in cls.families), member=member,
                   parametrisation=with_constants(pins) if with_constants is not None else None)


def _merge(ok: np.ndarray, why: list[str], extra: list[tuple[np.ndarray, str]]) -> tuple[np.ndarray, list[str]]:
    """The class's own verdict first, then the pin checks (first failing reason per instance)."""
    n = len(why)
    ok2, why2 = combine_checks(n, extra)
    return ok & ok2, [w or w2 for w, w2 in zip(why, why2)]
