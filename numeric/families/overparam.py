"""The over-parameterized logistic loss of Problem 13.1.1 (THEOREMS.md section 6): the instance class
``overparam_logistic`` and the ``gd_product`` dynamics.

An instance is a one-dimensional logistic data set ``(x_j, y_j)`` with loss
``l_hat(W) = sum_j log(1 + exp(-y_j x_j W))`` (a plain sum, as in THEOREMS.md's counterexample), a
number of factors ``k`` in {2, ..., 6} and a start ``W_0 = w_0^k`` with every factor at ``w_0 > 0``.
The data are non-separable with ``sum_j y_j x_j > 0``, so ``l_hat`` is strictly convex with a finite
minimiser ``W* > 0``; the class requires ``W_0 > W*``.

Generators are constructive: a data set is drawn, its minimiser computed, and the x values rescaled
so that the minimiser is a drawn target (``W*`` scales as ``1/x``); then ``W_0 = r W*`` with a drawn
ratio ``r > 1``.  ``k`` is the knob ``dim`` (a spec's ``dims``), clipped to {2, ..., 6}.

Attributes: ``W0``, ``Wstar``, ``k``, ``lprime0 = |l_hat'(W_0)|``.  The membership check re-derives
everything from the stored arrays in extended precision with its own formulas: ``W_0 = w_0^k``,
``l_hat'(0) < 0`` (so ``W* > 0``), ``l_hat'(W_0) > 0`` (so ``W_0 > W*``, ``l_hat'`` being increasing),
``W*`` by bisection on ``l_hat'`` and ``l_hat'(W_0)``, compared with the attributes.  The class box
``1e-3 <= W_0 <= 1e3`` is part of the class (the corrected claim's horizon is sized from the lower end).

The dynamics ``gd_product`` runs GD on ``l_hat(w_1 ... w_k)`` from the equal start through
:func:`kernels.overparam.gd_product` (numpy or numba; no GPU kernel).
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

import numpy as np
from kernels.overparam import LogisticData, ProductRun, gd_product, logistic_loss_grad

from ..api import (
    Dynamics,
    Family,
    InstanceBatch,
    InstanceClass,
    Knobs,
    ParameterDomain,
    Run,
    RunRequest,
    Setting,
    observables,
)
from .overparam_exact import overparam_member_exact

#: This module's instance classes and dynamics (registered through the entry points
#: ``thmcheck.classes`` / ``thmcheck.dynamics``; importing the module registers nothing).
CLASSES: list[InstanceClass] = []
DYNAMICS: list[Dynamics] = []

__all__ = ["CLASSES", "DYNAMICS", "OverparamProblem", "OVERPARAM_CLASS", "GD_PRODUCT", "minimiser",
           "SEED_X", "SEED_Y", "K_RANGE", "W0_BOX", "EXPLODE_LEVEL"]

K_RANGE = (2, 6)
W0_BOX = (1e-3, 1e3)
EXPLODE_LEVEL = 1e6
#: THEOREMS.md's counterexample data set (W* = 0.509).
SEED_X = (1.0, 2.0, -1.0, 0.5)
SEED_Y = (1.0, 1.0, 1.0, -1.0)
M_MAX = 10


@dataclass(frozen=True, eq=False)
class OverparamProblem:
    """A batch of over-parameterized logistic problems: the data sets and the numbers of factors."""

    data: LogisticData
    k: np.ndarray  # (B,) int64

    @property
    def size(self) -> int:
        return self.data.size

    def astype(self, dtype: Any) -> "OverparamProblem":
        return OverparamProblem(self.data.astype(dtype), self.k)

    def take(self, index: Any) -> "OverparamProblem":
        index = np.asarray(index)
        return OverparamProblem(self.data.take(index), self.k[index])


def minimiser(data: LogisticData, dtype: Any = np.float64, iters: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """W* of every data set by bisection on ``l_hat'`` (increasing), with the kernel's loss formulas.

    Needs ``l_hat'(0) < 0`` and a non-separable data set.  Returns ``(W*, lo, hi)``: the final bracket
    has ``l_hat'(lo) < 0 <= l_hat'(hi)`` (the certificate) and ``hi - lo`` at most a few ulps."""
    d = data.astype(dtype)
    B = d.size
    lo = np.zeros(B, dtype=dtype)
    hi = np.ones(B, dtype=dtype)
    for _ in range(2000):
        g = logistic_loss_grad(d, hi)[1]
        need = ~(g > 0)
        if not need.any():
            break
        lo = np.where(need, hi, lo)
        hi = np.where(need, 2 * hi, hi)
    lo, hi = _bisect(lo, hi, lambda mid: logistic_loss_grad(d, mid)[1] < 0, iters)
    return (lo + hi) / 2, lo, hi


def _bisect(lo: np.ndarray, hi: np.ndarray, below: Callable[[np.ndarray], np.ndarray],
           steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise bisection: ``lo`` moves to the midpoint where ``below(mid)``, ``hi`` elsewhere, for at
    most ``steps`` steps.  A step depends on the bracket alone, so the loop stops as soon as no bracket
    moves (NaN counted equal to NaN): the result is the full count's, after about 60 steps in float64."""
    for _ in range(steps):
        mid = (lo + hi) / 2
        neg = below(mid)
        lo2, hi2 = np.where(neg, mid, lo), np.where(neg, hi, mid)
        if np.array_equal(lo2, lo, equal_nan=True) and np.array_equal(hi2, hi, equal_nan=True):
            break
        lo, hi = lo2, hi2
    return lo, hi


# --------------------------------------------------------------------------------------------------
# generators
# --------------------------------------------------------------------------------------------------


def _k_of(knobs: Knobs) -> int:
    return int(np.clip(knobs.dim, *K_RANGE))


def _assemble(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, c: np.ndarray, knobs: Knobs,
              family: str) -> InstanceBatch:
    """Start points W_0 = r W* with a drawn ratio r > 1 (knob ``log_w0``), equal factors, attributes."""
    n = x.shape[0]
    k = _k_of(knobs)
    data = LogisticData(x, y, c)
    wstar = _wstar_above(data, minimiser(data)[2])
    # log10(r - 1) in [-1.5, 1.2]: r from 1.03 to about 17, centred by the knob.
    log_r1 = np.clip(0.5 * knobs.log_w0 + rng.uniform(-0.75, 0.75, n), -1.5, 1.2)
    W0_target = wstar * (1.0 + 10.0**log_r1)
    w0 = W0_target ** (1.0 / k)
    # The constants on the side the claims can use (see numeric.families.overparam_exact): W0 not above the
    # exact w0^k (pow is within an ulp; 4 eps covers it and the product), lprime0 not above l_hat'(w0^k)
    # (l_hat' increasing: evaluated at the lowered W0, minus a bound on its float error), Wstar not below W*.
    W0 = np.power(w0, float(k)) * (1 - 4 * _EPS)
    lprime0 = logistic_loss_grad(data, W0)[1] - _lprime_error(data, W0)
    attrs = {"W0": W0, "Wstar": wstar, "k": np.full(n, float(k)), "lprime0": np.abs(lprime0)}
    problem = OverparamProblem(data, np.full(n, k, dtype=np.int64))
    return InstanceBatch(family, problem, np.repeat(w0[:, None], k, axis=1), attrs)


_EPS = float(np.finfo(np.float64).eps)


def _lprime_error(data: LogisticData, W: np.ndarray) -> np.ndarray:
    """A bound on the float64 error of the kernel's l_hat'(W): each term c_j s_j / (1 + exp(s_j W)) is off by a
    few eps of itself plus its sensitivity to the rounding of s_j W (a factor 1 + |s_j W|), and the sum of m
    terms adds m eps of their magnitudes; 8 (m + 4) eps times sum_j |term_j| (1 + |s_j W|) covers both."""
    s = data.x * data.y
    with np.errstate(over="ignore"):
        term = np.abs(data.weight * s) / (1 + np.exp(s * W[:, None]))
    return 8 * (data.x.shape[1] + 4) * _EPS * (term * (1 + np.abs(s * W[:, None]))).sum(axis=1)


def _wstar_above(data: LogisticData, hi: np.ndarray) -> np.ndarray:
    """The bisection's upper end moved up until the float l_hat' there exceeds its error bound, so that the
    exact l_hat' is positive and the stored Wstar is not below the true minimiser (usually no move at all)."""
    W = np.array(hi, dtype=np.float64)
    step = np.full(W.shape, 4 * _EPS)
    for _ in range(200):
        need = ~(logistic_loss_grad(data, W)[1] > _lprime_error(data, W))
        if not need.any():
            return W
        W = np.where(need, W * (1 + step), W)
        step = np.where(need, 2 * step, step)
    raise RuntimeError("could not certify the sign of l_hat' above the minimiser")


def _generate_random(rng: np.random.Generator, n: int, knobs: Knobs) -> InstanceBatch:
    """Random non-separable data sets with sum_j y_j x_j > 0, rescaled to a drawn W*."""
    m = rng.integers(3, M_MAX + 1, n)
    mask = np.arange(M_MAX)[None, :] < m[:, None]
    mag = 10.0 ** rng.uniform(-0.7, 0.7, (n, M_MAX))
    # The pattern knob sets the share of points the positive direction misclassifies.
    neg_share = (0.15, 0.3, 0.45, 0.2, 0.35, 0.4, 0.25, 0.1)[knobs.pattern % 8]
    sign = np.where(rng.random((n, M_MAX)) < neg_share, -1.0, 1.0)
    # At least one point on each side: j = 0 positive, j = 1 negative (m >= 3).
    sign[:, 0], sign[:, 1] = 1.0, -1.0
    s = np.where(mask, sign * mag, 0.0)
    total = s.sum(axis=1)
    s = np.where((total < 0)[:, None], -s, s)  # sum_j s_j > 0: the minimiser is positive
    total = np.abs(total)
    # A (near-)zero total is nudged by enlarging the first positive point.
    first_pos = np.argmax(s > 0, axis=1)
    bump = np.where(total < 0.05, 0.1 + rng.random(n), 0.0)
    s[np.arange(n), first_pos] += bump
    y = np.where(rng.random((n, M_MAX)) < 0.5, -1.0, 1.0)
    x = s * y
    c = mask.astype(np.float64)
    # Rescale x so that W* becomes the drawn target (W* scales as 1/x).
    w_raw = minimiser(LogisticData(x, y, c))[0]
    target = 10.0 ** np.clip(0.6 * knobs.log_scale + rng.uniform(-0.4, 0.4, n), -1.0, 1.0)
    x = x * (w_raw / target)[:, None]
    return _assemble(rng, x, y, c, knobs, "logistic_random")


def _generate_seed(rng: np.random.Generator, n: int, knobs: Knobs) -> InstanceBatch:
    """THEOREMS.md's data set x = (1, 2, -1, 0.5), y = (1, 1, 1, -1) (W* = 0.509), W_0 drawn."""
    x = np.tile(np.asarray(SEED_X), (n, 1))
    y = np.tile(np.asarray(SEED_Y), (n, 1))
    return _assemble(rng, x, y, np.ones_like(x), knobs, "logistic_seed_data")


# --------------------------------------------------------------------------------------------------
# membership: independent, in extended precision
# --------------------------------------------------------------------------------------------------


def _lprime_ld(s: np.ndarray, c: np.ndarray, W: np.ndarray) -> np.ndarray:
    """l_hat'(W) = -sum_j c_j s_j / (1 + exp(s_j W)), written directly (not through the kernels)."""
    with np.errstate(over="ignore"):
        return -(c * s / (1 + np.exp(s * W[:, None]))).sum(axis=1)


def _member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    ld = np.longdouble
    p = batch.problem
    n = batch.size
    x, y, c = (np.asarray(a, dtype=ld) for a in (p.data.x, p.data.y, p.data.weight))
    s = x * y
    w0 = np.asarray(batch.w0, dtype=ld)
    k = np.asarray(p.k)
    a = {name: np.asarray(v, dtype=ld) for name, v in batch.attrs.items()}
    finite = (np.all(np.isfinite(s), axis=1) & np.all(np.isfinite(c), axis=1) & np.all(np.isfinite(w0), axis=1)
              & np.all(np.isfinite(np.stack([a[q] for q in ("W0", "Wstar", "k", "lprime0")], axis=1)), axis=1))
    weights_ok = np.all(c >= 0, axis=1) & np.any(c > 0, axis=1)
    k_ok = (k >= K_RANGE[0]) & (k <= K_RANGE[1]) & (k == w0.shape[1]) & (a["k"] == k)
    equal = np.all(w0 == w0[:, :1], axis=1) & (w0[:, 0] > 0)
    W0 = np.where(equal, w0[:, 0], 1) ** k.astype(ld)
    W0_attr_ok = np.abs(a["W0"] - W0) <= 1e-12 * W0
    box = (W0 >= W0_BOX[0]) & (W0 <= W0_BOX[1])
    with np.errstate(all="ignore"):
        positive_min = -(c * s).sum(axis=1) / 2 < 0  # l_hat'(0) < 0  <=>  W* > 0
        g0 = _lprime_ld(s, c, W0)
        above = g0 > 0  # l_hat' increasing: l_hat'(W_0) > 0  <=>  W_0 > W*
        # W* by bisection on l_hat' in (0, W_0) (a root exists there when both signs hold).
        lo, hi = np.zeros(n, dtype=ld), np.where(above & positive_min, W0, 1)
        lo, hi = _bisect(lo, hi, lambda mid: _lprime_ld(s, c, mid) < 0, 200)
        wstar = (lo + hi) / 2
        wstar_ok = np.abs(a["Wstar"] - wstar) <= 1e-9 * wstar
        lp_ok = np.abs(a["lprime0"] - np.abs(g0)) <= 1e-9 * np.abs(g0)
    order = (0 < wstar) & (wstar < W0)
    checks = (
        (finite, "non-finite data or attributes"),
        (weights_ok, "weights must be >= 0 with at least one positive"),
        (k_ok, f"k must be an integer in [{K_RANGE[0]}, {K_RANGE[1]}] matching w0's length and the k attribute"),
        (equal, "the factors must start equal and positive (w_i = w_0 > 0)"),
        (positive_min, "sum_j y_j x_j <= 0: the minimiser W* is not positive"),
        (above, "l_hat'(W_0) <= 0: W_0 is not above the minimiser W*"),
        (order, "W_0 > W* > 0 fails"),
        (box, f"W_0 outside the class box [{W0_BOX[0]:g}, {W0_BOX[1]:g}]"),
        (W0_attr_ok, "attribute W0 differs from w_0^k"),
        (wstar_ok, "attribute Wstar differs from the re-derived minimiser"),
        (lp_ok, "attribute lprime0 differs from the re-derived |l_hat'(W_0)|"),
    )
    ok = np.ones(n, dtype=bool)
    reasons = [""] * n
    for good, why in checks:
        good = np.asarray(good, dtype=bool)
        for i in np.flatnonzero(~good & ok):
            reasons[i] = why
        ok &= good
    return ok, reasons


def _encode(problem: OverparamProblem, i: int) -> dict[str, Any]:
    d = problem.data
    return {"x": d.x[i].tolist(), "y": d.y[i].tolist(), "weight": d.weight[i].tolist(), "k": int(problem.k[i])}


def _decode(data: dict[str, Any]) -> OverparamProblem:
    arr = [np.asarray([data[key]], dtype=np.float64) for key in ("x", "y", "weight")]
    return OverparamProblem(LogisticData(*arr), np.asarray([int(data["k"])], dtype=np.int64))


OVERPARAM_CLASS = InstanceClass(
    name="overparam_logistic",
    text="l(w_1..w_k) = l_hat(w_1 ... w_k), l_hat(W) = sum_j log(1 + exp(-y_j x_j W)) the logistic loss of a "
         "1-D linear model on a non-separable data set with minimiser W* > 0; k in {2..6}; equal start "
         "w_i = w_0 > 0 with W_0 = w_0^k > W* (class box 1e-3 <= W_0 <= 1e3)",
    families=(
        Family(name="logistic_random", generate=_generate_random,
               doc="random non-separable data sets (3..10 points, sum y x > 0) rescaled to W* in [0.1, 10]; "
                   "W_0 / W* in [1.03, 17]"),
        Family(name="logistic_seed_data", generate=_generate_seed,
               doc="THEOREMS.md's data set x = (1, 2, -1, 0.5), y = (1, 1, 1, -1), W* = 0.509; W_0 / W* in [1.03, 17]"),
    ),
    attributes=("W0", "Wstar", "k", "lprime0"),
    member=_member,
    member_exact=overparam_member_exact,
    encode=_encode,
    decode=_decode,
    problem_type=OverparamProblem,
)
CLASSES.append(OVERPARAM_CLASS)


# --------------------------------------------------------------------------------------------------
# gd_product dynamics
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ProductRunData:
    """A :class:`kernels.overparam.ProductRun` with the explosion level it is read against."""

    run: ProductRun
    level: float


def _run_gd_product(req: RunRequest) -> Run:
    problem = req.problem
    w0 = np.asarray(req.w0, dtype=req.dtype)
    if w0.ndim != 2 or not np.all(problem.k == w0.shape[1]):
        raise ValueError(f"gd_product: w0 must be (n, k) with k the problem's number of factors, got {w0.shape}")
    if not np.all(w0 == w0[:, :1]):
        raise ValueError("gd_product runs from equal starts w_i = w_0 only (every row of w0 constant)")
    level = float(req.settings["explode_level"])
    if not level > 0:
        raise ValueError(f"gd_product: explode_level must be > 0, got {level!r}")
    r = gd_product(problem.data, w0[:, 0], problem.k, np.asarray(req.params["eta"], dtype=req.dtype), req.horizon,
                   backend=req.backend, dtype=req.dtype)
    return Run(ProductRunData(r, level), backend=r.backend)


def _exceeds(d: ProductRunData) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return d.run.Wabs > d.level  # inf counts; nan (only after an overflow) does not


def _first_exceed(d: ProductRunData) -> np.ndarray:
    hit = _exceeds(d)
    T1 = hit.shape[1]
    return np.where(hit.any(axis=1), np.argmax(hit, axis=1), T1).astype(np.float64)


_PER_STEP = {
    "W_t": lambda d: d.run.W,
    "wabs_t": lambda d: d.run.Wabs,
    "w_t": lambda d: d.run.w,
    "loss_t": lambda d: d.run.loss,
    "lprime_t": lambda d: d.run.lprime,
}
_TRAJECTORY = {
    "exploded": lambda d: _exceeds(d).any(axis=1).astype(np.float64),
    "explode_step": _first_exceed,
    "w_max": lambda d: np.fmax.reduce(d.run.Wabs, axis=1),
    "w_last": lambda d: d.run.W[:, -1],
    "wabs_last": lambda d: d.run.Wabs[:, -1],
    "w_first": lambda d: d.run.W[:, 0],
    "loss_last": lambda d: d.run.loss[:, -1],
}
_DOCS = {
    "W_t": "the product W_t = w_t^k",
    "wabs_t": "|W_t|",
    "w_t": "the common factor w_t (all k factors are equal along the run)",
    "loss_t": "l_hat(W_t)",
    "lprime_t": "l_hat'(W_t)",
    "exploded": "1.0 if |W_t| > explode_level for some t in 0..T, else 0.0 (an overflow to inf counts)",
    "explode_step": "the first t with |W_t| > explode_level (T + 1 when none)",
    "w_max": "max_t |W_t| (nan entries ignored; inf after an overflow)",
    "w_last": "W_T",
    "wabs_last": "|W_T|",
    "w_first": "W_0",
    "loss_last": "l_hat(W_T)",
}

GD_PRODUCT = Dynamics(
    name="gd_product",
    run=_run_gd_product,
    observables=observables(_PER_STEP, _TRAJECTORY, docs=_DOCS),
    accepts=(OverparamProblem,),
    parameters=("eta",),
    domain=(ParameterDomain(name="eta", lower=0.0, lower_strict=True),),
    settings=(Setting(name="explode_level", default=EXPLODE_LEVEL,
                      doc="|W_t| above this level counts as an explosion (observable 'exploded')"),),
    doc="gradient descent w_i <- w_i - eta d/dw_i l_hat(w_1 ... w_k) from the equal start w_i = w_0: the factors "
        "stay equal and w_{t+1} = w_t (1 - eta l_hat'(W_t) w_t^(k-2)); numpy or numba kernel, no GPU kernel",
)
DYNAMICS.append(GD_PRODUCT)
