"""Statistics that decide probabilistic and scaling claims: exact binomial intervals and growth fits.

Nothing here knows about theorems or dynamics; the functions take counts and arrays and return
plain numbers, so the decisions they make can be checked against textbook values in tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

__all__ = ["clopper_pearson", "decide_interval", "Fit", "fit_growth", "MODELS"]

MODELS = ("power", "polylog", "linear")


def clopper_pearson(successes: int, trials: int, level: float) -> tuple[float, float]:
    """The exact (Clopper-Pearson) two-sided interval for a binomial proportion at confidence
    ``level``: it covers the true probability with probability at least ``level`` whatever it is."""
    k, n = int(successes), int(trials)
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= successes <= trials and trials > 0, got {k} of {n}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence level must lie in (0, 1), got {level!r}")
    a = 1.0 - level
    lo = 0.0 if k == 0 else float(_st.beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(_st.beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


def decide_interval(lower: float, upper: float, bound: float, sense: str) -> str:
    """Whether an interval supports, refutes or leaves open ``X <= bound`` ("le") or
    ``X >= bound`` ("ge"): "support", "refute" or "open"."""
    if sense == "ge":
        return "support" if lower >= bound else ("refute" if upper < bound else "open")
    if sense == "le":
        return "support" if upper <= bound else ("refute" if lower > bound else "open")
    raise ValueError(f"sense must be 'le' or 'ge', got {sense!r}")


@dataclass(frozen=True)
class Fit:
    """A least-squares growth fit ``g(y) = a + p h(d)`` with a t-interval on the exponent ``p``."""

    model: str
    exponent: float
    lower: float
    upper: float
    intercept: float
    r2: float
    residual_se: float
    points: int

    def as_dict(self) -> dict[str, float | int | str]:
        return {"model": self.model, "exponent": self.exponent, "lower": self.lower, "upper": self.upper,
                "intercept": self.intercept, "r2": self.r2, "residual_se": self.residual_se, "points": self.points}

    def predict(self, sizes: np.ndarray) -> np.ndarray:
        """The fitted statistic at ``sizes``."""
        x, _ = _design(self.model, np.asarray(sizes, dtype=np.float64), np.ones(len(sizes)))
        g = self.intercept + self.exponent * x
        return g if self.model == "linear" else np.exp(g)


def _design(model: str, sizes: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if model == "power":
        return np.log(sizes), np.log(values)
    if model == "polylog":
        return np.log(np.log(sizes)), np.log(values)
    if model == "linear":
        return sizes, values
    raise ValueError(f"unknown growth model {model!r}; known: {', '.join(MODELS)}")


def fit_growth(sizes: np.ndarray, values: np.ndarray, model: str, level: float) -> Fit:
    """Fit ``model`` to (size, value) pairs by ordinary least squares in the model's coordinates
    ("power": log y on log d; "polylog": log y on log log d; "linear": y on d) and return the slope
    with its two-sided Student-t interval at ``level``.  Needs at least three points, positive
    values for the logarithmic models and sizes > 1 for "polylog"."""
    d = np.asarray(sizes, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    if d.shape != y.shape or d.ndim != 1:
        raise ValueError("sizes and values must be 1-D arrays of the same length")
    if len(np.unique(d)) < 3:
        raise ValueError("a growth fit needs at least three distinct sizes")
    if not np.all(np.isfinite(y)):
        raise ValueError("a growth fit needs finite values")
    if model != "linear" and np.any(y <= 0):
        raise ValueError(f"model {model!r} fits log(value); every value must be positive")
    if model == "polylog" and np.any(d <= 1):
        raise ValueError("model 'polylog' needs sizes > 1")
    x, g = _design(model, d, y)
    n = len(x)
    xm, gm = x.mean(), g.mean()
    sxx = float(((x - xm) ** 2).sum())
    p = float(((x - xm) * (g - gm)).sum() / sxx)
    a = float(gm - p * xm)
    resid = g - (a + p * x)
    sse = float((resid**2).sum())
    sst = float(((g - gm) ** 2).sum())
    dof = n - 2
    se_res = math.sqrt(sse / dof) if dof > 0 else float("inf")
    se_p = se_res / math.sqrt(sxx)
    t = float(_st.t.ppf(0.5 + level / 2, dof)) if dof > 0 else float("inf")
    r2 = 1.0 - sse / sst if sst > 0 else 1.0
    return Fit(model=model, exponent=p, lower=p - t * se_p, upper=p + t * se_p, intercept=a, r2=r2,
               residual_se=se_res, points=n)
