"""Escape family, the volume ratio: the dimension class and the closed form Gamma(d/2 + 1) / Gamma(d/2 + 1/2)
behind the stuck-region volume bound (no dynamics)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .exact_members import comparisons_only
from ..api import (
    Dynamics,
    Family,
    InstanceBatch,
    InstanceClass,
    Knobs,
    Run,
    RunRequest,
    combine_checks,
    observables,
)

__all__ = ["Dimension", "gamma_ratio"]

#: This module's instance classes and dynamics (registered through the entry points
#: ``thmcheck.classes`` / ``thmcheck.dynamics``; importing the module registers nothing).
CLASSES: list[InstanceClass] = []
DYNAMICS: list[Dynamics] = []


# ------------------------------------------------------------------------------------------------
# The dimension class (volume ratio)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Dimension:
    """A batch of dimensions d (B,) -- an instance is just an integer."""

    d: np.ndarray

    def take(self, index: Any) -> "Dimension":
        return Dimension(np.asarray(self.d)[np.asarray(index)])

    def astype(self, dtype: Any) -> "Dimension":
        return self


def _dims(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    # d = 1..8 exactly once each in every batch (the small cases are the tight ones), the rest
    # log-uniform up to 10^7
    d = np.round(10.0 ** rng.uniform(0.0, 7.0, n))
    d[: min(n, 8)] = np.arange(1, min(n, 8) + 1)
    d = np.maximum(d, 1.0)
    return InstanceBatch("dimensions", Dimension(d), np.zeros((n, 1)), {"d": d})


def _dims_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    """d a finite positive integer, the attribute equal to the problem's d.  Only comparisons
    (``np.round`` of a float is exact), so the check is exact as it stands (the class's exact hook)."""
    d = np.asarray(batch.attrs["d"], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return combine_checks(d.shape[0], [
            (np.isfinite(d) & (d >= 1) & (d == np.round(d)), "d must be a positive integer"),
            (np.asarray(batch.problem.d, dtype=np.float64) == d, "the attribute d differs from the problem's d"),
        ])


CLASSES.append(InstanceClass(
    name="dimension",
    text="d is a positive integer",
    families=(Family(name="dimensions", generate=_dims, finite_sum=False, doc="d = 1..8 and log-uniform to 1e7"),),
    attributes=("d",),
    member=_dims_member,
    member_exact=comparisons_only(_dims_member),
    encode=lambda p, i: {"d": float(np.asarray(p.d)[i])},
    decode=lambda data: Dimension(np.asarray([data["d"]], dtype=np.float64)),
    problem_type=Dimension,
))


def gamma_ratio(d: np.ndarray) -> np.ndarray:
    """Gamma(d/2 + 1) / Gamma(d/2 + 1/2): float64 through scipy's Pochhammer symbol; np.longdouble through mpmath
    (30 digits).  A test checks it against SymPy's gamma function."""
    d = np.asarray(d)
    if d.dtype == np.longdouble:
        import mpmath  # noqa: PLC0415

        with mpmath.workdps(30):
            vals = [mpmath.gamma(mpmath.mpf(str(x)) / 2 + 1) / mpmath.gamma(mpmath.mpf(str(x)) / 2 + mpmath.mpf(1) / 2)
                    for x in d.reshape(-1)]
            return np.array([np.longdouble(mpmath.nstr(v, 25)) for v in vals], dtype=np.longdouble).reshape(d.shape)
    from scipy.special import poch  # noqa: PLC0415 - poch(z, m) = Gamma(z + m) / Gamma(z)

    return poch(d / 2 + 0.5, 0.5)


def _run_volume(req: RunRequest) -> Run:
    d = np.asarray(req.params["d"], dtype=req.dtype)
    return Run({"gratio": gamma_ratio(d)}, backend="numpy")  # closed form, evaluated with NumPy/mpmath


DYNAMICS.append(Dynamics(
    name="volume_ratio",
    run=_run_volume,
    observables=observables({}, {"gratio": lambda r: r["gratio"]}, {}),
    accepts=(Dimension,),
    closed_form=True,
    parameters=(),
    doc="no dynamics: Gamma(d/2 + 1) / Gamma(d/2 + 1/2) for each d",
))


