"""The constants of the generic first-order classes and how pinned ones are honoured.

``lsmooth`` and ``lsmooth_convex`` have one constant, ``L > 0``; ``lsmooth_strongly_convex`` has
``L``, ``mu`` and ``kappa = L / mu > 1``, of which a spec may pin or bound at most two (the third
follows).  :func:`resolve` turns the pins, the class's unpinned defaults and positions in [0, 1]
into per-instance ``L``, the lower curvature end and the recorded attributes; the generators
(:mod:`numeric.families.first_order`) and the parametrisation
(:mod:`numeric.families.first_order_param`) both call it, so a spec's ``kappa = 10`` holds for drawn
and polished members alike.  A pinned ``kappa`` is recorded as given (``mu = L / kappa``); the
membership check accepts ``kappa`` within a few ulps of ``L / mu``.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from ..api import ParameterDomain
from ..constants import place

__all__ = ["SMOOTH_CONSTANTS", "STRONGLY_CONVEX_CONSTANTS", "strongly_convex_check", "resolve"]

_L = ParameterDomain(name="L", lower=0.0, lower_strict=True)
SMOOTH_CONSTANTS = (_L,)
STRONGLY_CONVEX_CONSTANTS = (_L, ParameterDomain(name="mu", lower=0.0, lower_strict=True),
                             ParameterDomain(name="kappa", lower=1.0, lower_strict=True))


def strongly_convex_check(pins: Mapping[str, tuple[float, float]]) -> str | None:
    """Why the pins of the strongly convex class cannot all hold (None when they can)."""
    named = [k for k in ("L", "mu", "kappa") if k in pins]
    if len(named) == 3:
        return "pin or bound at most two of L, mu and kappa (the third is L / mu)"
    if "L" in pins and "mu" in pins and pins["mu"][1] >= pins["L"][0]:
        return (f"mu (up to {pins['mu'][1]:g}) must stay below L (from {pins['L'][0]:g}): "
                "the class needs kappa = L / mu > 1")
    return None


def resolve(strongly: bool, pins: Mapping[str, tuple[float, float]], L_free: np.ndarray, kappa_free: np.ndarray,
            pos: Callable[[str], np.ndarray]) -> tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray]]:
    """``(L, mu, attrs)`` for a batch: ``L_free`` and ``kappa_free`` where nothing is pinned, a
    pinned range filled at the positions ``pos(name)`` (ignored for a pinned value).  ``mu`` is
    None for the classes without one."""
    def get(name: str) -> np.ndarray:
        lo, hi = pins[name]
        return place(lo, hi, pos(name) if lo != hi else np.zeros(len(L_free)))

    if not strongly:
        return (get("L") if "L" in pins else np.asarray(L_free, dtype=np.float64)), None, {}
    if "mu" in pins and "kappa" in pins:
        mu, kappa = get("mu"), get("kappa")
        L = mu * kappa
    elif "mu" in pins:
        mu = get("mu")
        L = get("L") if "L" in pins else mu * kappa_free
        kappa = L / mu
    else:
        L = get("L") if "L" in pins else np.asarray(L_free, dtype=np.float64)
        if "kappa" in pins:
            kappa = get("kappa")
            mu = L / kappa
        else:
            mu = L / kappa_free
            kappa = L / mu
    return L, mu, {"mu": mu, "kappa": kappa}
