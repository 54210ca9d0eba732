"""Instance classes and adapters of the cross-predictability family (Abbe-Sandon, seed 000).

Function classes on {+-1}^n (``P_X`` uniform, ``P_F`` uniform over a list of functions), all made of
parities ``chi_S(x) = prod_{i in S} x_i`` given by bit masks S (:func:`class_masks`):

* ``parities`` -- all 2^n parities (CP = 2^-n);
* ``k_parities`` -- the C(n, k) parities of degree k (CP = 1/C(n, k));
* ``dictators`` -- the n dictators x_i (CP = 1/n);
* ``point_mass`` -- one fixed parity chi_S (CP = 1; S = {0} is the dictator x_1 of the errata).

Instance classes (constructive generators, membership checks computed independently of them):

* ``cp_parities``, ``cp_k_parities``, ``cp_dictators``, ``cp_point_mass`` -- one function class each;
  attributes ``n``, ``k`` and ``N`` (the number of functions, counted by enumerating the class;
  membership compares it with 2^n, C(n, k), n or 1 from :mod:`math`);
* ``cube_networks`` -- a DAG network (networkx, compiled by :func:`compile_dag` to the kernels' layout) with
  weights ``w0``, a balanced function class as above (a point mass sits on a non-constant parity)
  and a loss (square or correlation); families: random DAG architectures (layers, skip edges, random
  sparse DAGs) and linear networks ``f = w^T (x, 1)`` started at 0 or near it (the errata's
  counterexample setting);
* ``cube_networks_all`` -- the same without the balance hypothesis (point masses on the constant
  function too), for the proof steps that do not need it;
* ``cube_networks_k_parities`` -- the same with P_F uniform over the degree-k parities (k = 1..n);
* ``gaussian_pairs`` -- two means a, b in R^d and a noise level sigma (the Pinsker step).

* ``cp_sampled_parities``, ``cp_sampled_k_parities``, ``cp_sampled_dictators`` -- the same classes for
  n = 13..24 (beyond exact enumeration; N from its definition, the sampler's index-to-function map is
  a bijection onto the class, tested for small n).

The problem types are batched on axis 0 and have ``take(index)`` (the probabilistic claims
replicate instances with it) and ``astype``.

Adapters (dynamics):

* ``cross_predictability`` -- exact CP and the printed ``E_F (E_X F)^4`` by enumeration of all
  functions and inputs (integer arithmetic, see :func:`kernels.cp.cp_enumerate`);
* ``cross_predictability_sampled`` -- Monte Carlo CP for n beyond enumeration (:func:`sampled_cp`):
  ``cp_hat`` (mean over SAMPLED_PAIRS pairs of the U-statistic of ``(E_X F F')^2`` from SAMPLED_INPUTS
  inputs, :func:`kernels.cp.cp_sample`) and ``cp_half`` (empirical Bernstein half-width at confidence
  ``1 - SAMPLED_DELTA`` per instance, :func:`sampled_interval`);
* ``junk_gradients`` -- exact population gradients at the weights ``w0`` over all 2^n inputs and all
  functions of the class: ``cs_lhs = E_F ||E_{D_F} grad L - E_{D_*} grad L||^2``,
  ``grad2_junk = E_{D_*} ||grad L||^2``, ``cp``, and ``rn_gap = max_{F,e} |(E_{D_F} - E_{D_*}) grad_e L
  - E_{D_*}[grad_e L (D_F/D_* - 1)]|`` with ``D_F/D_* - 1 = y F(x)`` (the Radon-Nikodym identity);
* ``gaussian_tv`` -- TV(N(a, s^2 I), N(b, s^2 I)) from its definition (half the L1 distance of the
  densities, exactly reduced to the line through a and b and integrated by Gauss-Legendre
  quadrature) and erf(||a-b||/(2 sqrt2 s)) for comparison;
* ``noisy_population_gd`` -- noisy population GD (:func:`kernels.cp.noisy_gd`) on true data
  ``D_F`` with ``F`` drawn uniformly from the class per trial, and on junk data from the same start.
  Trajectory observables: ``success`` (0/1: the sign of the trained network at one fresh uniform
  input X equals F(X); its probability over F, the noise and X is exactly the theorem's
  ``P{W_F^(T)(X) = F(X)}``), ``accuracy`` (fraction of {+-1}^n classified correctly, for context),
  ``jf_rms`` = ``sum_{t=1}^T gamma (E_{D_*} ||grad L(W*_{t-1})||^2)^{1/2}`` along *this trial's* junk
  trajectory ``W*`` (exact expectation over D_*; the expectation over W* is taken by the probability
  claim, which averages bound observables over the instance's trials -- by Jensen that average is at
  most the theorem's JF_rms, whose expectation sits inside the root, so the check is stricter than
  the theorem), ``jf_mean`` = ``sum_t gamma ||E_{D_*} grad L(W*_{t-1})||`` (the printed JF), ``cp``.
  Randomness: F from ``randint(seed, id, 0, CLASS_DRAW, N)``, the rest as in :mod:`kernels.cp`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np
from kernels import cp as kcp
from kernels.backend import select

from .exact_members import comparisons_only
from ..api import (
    Dynamics,
    Family,
    InstanceBatch,
    InstanceClass,
    Knobs,
    Run,
    RunRequest,
    keyed,
    observables,
)

__all__ = ["KINDS", "CLASS_DRAW", "class_masks", "class_size", "class_cp", "class_ok", "FunctionClasses", "CubeNetworks",
           "sampled_cp", "sampled_interval"]

#: This module's instance classes and dynamics (registered through the entry points
#: ``thmcheck.classes`` / ``thmcheck.dynamics``; importing the module registers nothing).
CLASSES: list[InstanceClass] = []
DYNAMICS: list[Dynamics] = []




KINDS = ("parities", "k_parities", "dictators", "point_mass")
#: Draw index (at step 0) of the function F a noisy-GD trial trains on.
CLASS_DRAW = 0
_EPS = float(np.finfo(np.float64).eps)


def _popcount(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.int64)
    c = np.zeros_like(x)
    for i in range(kcp.MAX_INPUTS + 1):
        c += (x >> i) & 1
    return c


@lru_cache(maxsize=256)
def class_masks(kind: int, n: int, k: int = 0, point: int = 0) -> np.ndarray:
    """Bit masks of the parities making up the class (uniform distribution over them)."""
    allm = np.arange(1 << n, dtype=np.int64)
    if KINDS[kind] == "parities":
        return allm
    if KINDS[kind] == "k_parities":
        return allm[_popcount(allm) == k]
    if KINDS[kind] == "dictators":
        return (1 << np.arange(n, dtype=np.int64))
    return np.asarray([point], dtype=np.int64)


def class_size(kind: int, n: int, k: int) -> int:
    """The number of functions of a class, from its definition (math, not enumeration)."""
    return {0: 2**n, 1: math.comb(n, k), 2: n, 3: 1}[int(kind)]


@lru_cache(maxsize=256)
def _class_cp(kind: int, n: int, k: int, point: int) -> tuple[Fraction, Fraction]:
    return kcp.cp_enumerate(kcp.parity_table(class_masks(kind, n, k, point), n), backend="numpy")


def class_cp(kind: int, n: int, k: int, point: int, dtype: Any = np.float64) -> tuple[Any, Any]:
    """Exact (CP, printed CP) of a class by enumeration, rounded once to ``dtype``."""
    a, b = _class_cp(int(kind), int(n), int(k), int(point))
    conv = (lambda q: np.longdouble(q.numerator) / np.longdouble(q.denominator)) if np.dtype(dtype) == np.longdouble \
        else (lambda q: float(q))
    return conv(a), conv(b)


# ------------------------------------------------------------------------------------------------
# Problem types
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionClasses:
    """A batch of function classes: ``kind``, ``k``, ``point`` per instance (n shared per batch)."""

    n: int
    kind: np.ndarray
    k: np.ndarray
    point: np.ndarray

    def astype(self, dtype: Any) -> "FunctionClasses":
        return self

    def take(self, index: Any) -> "FunctionClasses":
        i = np.asarray(index)
        return FunctionClasses(self.n, self.kind[i], self.k[i], self.point[i])

    @property
    def size(self) -> int:
        return int(self.kind.shape[0])


@dataclass(frozen=True)
class CubeNetworks:
    """A batch of learning problems on {+-1}^n sharing one architecture ``net``: per instance a
    function class (``kind``, ``k``, ``point``) and a loss code.  The weights are the batch's w0."""

    net: kcp.Net
    kind: np.ndarray
    k: np.ndarray
    point: np.ndarray
    loss: np.ndarray

    def astype(self, dtype: Any) -> "CubeNetworks":
        return self

    def take(self, index: Any) -> "CubeNetworks":
        i = np.asarray(index)
        return CubeNetworks(self.net, self.kind[i], self.k[i], self.point[i], self.loss[i])

    @property
    def n(self) -> int:
        return self.net.n

    @property
    def size(self) -> int:
        return int(self.kind.shape[0])


# ------------------------------------------------------------------------------------------------
# Function-class instance classes
# ------------------------------------------------------------------------------------------------

#: Largest n per class for exact enumeration of CP (N^2 2^n integer products stay cheap).
CP_MAX_N = {0: 9, 1: 10, 2: 12, 3: 12}


def _draw_k(rng: np.random.Generator, N: int, n: int, pattern: int) -> np.ndarray:
    if pattern % 3 == 1:
        return np.full(N, n // 2 if n > 1 else 1)  # the largest class
    if pattern % 3 == 2:
        return rng.choice([1, n], N)
    return rng.integers(1, n + 1, N)


def _gen_classes(kind: int):
    def gen(rng: np.random.Generator, N: int, kn: Knobs) -> InstanceBatch:
        n = int(min(kn.dim, CP_MAX_N[kind]))
        k = _draw_k(rng, N, n, kn.pattern) if KINDS[kind] == "k_parities" else np.zeros(N, dtype=np.int64)
        if KINDS[kind] == "point_mass":
            point = np.where(rng.random(N) < 0.5, 1 << rng.integers(0, n, N), rng.integers(0, 1 << n, N))
        else:
            point = np.zeros(N, dtype=np.int64)
        prob = FunctionClasses(n, np.full(N, kind, dtype=np.int64), k.astype(np.int64), point.astype(np.int64))
        return InstanceBatch(KINDS[kind], prob, np.zeros((N, 0)), _class_attrs(prob))

    return gen


@lru_cache(maxsize=1024)
def class_ok(kind: int, n: int, k: int, point: int) -> bool:
    """The enumerated class has distinct members, of degree k for k-parities, as many as its definition says."""
    masks = class_masks(kind, n, k, point)
    distinct = len(set(masks.tolist())) == len(masks)
    degrees_ok = KINDS[kind] != "k_parities" or bool(np.all(_popcount(masks) == k))
    return distinct and degrees_ok and len(masks) == class_size(kind, n, k)


def _class_attrs(prob: FunctionClasses) -> dict[str, np.ndarray]:
    N = np.asarray([len(class_masks(int(c), prob.n, int(k), int(p))) for c, k, p in zip(prob.kind, prob.k, prob.point)],
                   dtype=np.float64)
    return {"n": np.full(prob.size, float(prob.n)), "k": prob.k.astype(np.float64), "N": N}


def _member_classes(kind: int):
    def member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
        P: FunctionClasses = batch.problem
        ok = np.ones(P.size, dtype=bool)
        why = [""] * P.size
        for i in range(P.size):
            n, k, c = P.n, int(P.k[i]), int(P.kind[i])
            reason = ""
            if c != kind:
                reason = f"class kind {KINDS[c]} is not {KINDS[kind]}"
            elif not 1 <= n <= kcp.MAX_INPUTS:
                reason = f"n = {n} outside [1, {kcp.MAX_INPUTS}]"
            elif KINDS[kind] == "k_parities" and not 1 <= k <= n:
                reason = f"degree k = {k} outside [1, n]"
            elif not 0 <= int(P.point[i]) < 1 << n:
                reason = "point-mass parity mask out of range"
            elif not class_ok(c, n, k, int(P.point[i])) or batch.attrs["N"][i] != class_size(c, n, k):
                reason = (f"the enumerated class has {len(class_masks(c, n, k, int(P.point[i])))} distinct functions "
                          f"of the right degree, its definition {class_size(c, n, k)}")
            if reason:
                ok[i] = False
                why[i] = reason
        return ok, why

    return member


def _encode_classes(P: FunctionClasses, i: int) -> dict[str, Any]:
    return {"n": P.n, "kind": int(P.kind[i]), "k": int(P.k[i]), "point": int(P.point[i])}


def _decode_classes(d: dict[str, Any]) -> FunctionClasses:
    return FunctionClasses(int(d["n"]), np.asarray([d["kind"]], dtype=np.int64), np.asarray([d["k"]], dtype=np.int64),
                           np.asarray([d["point"]], dtype=np.int64))


_CLASS_TEXT = {
    0: "P_F uniform over all 2^n parities chi_S on {+-1}^n, P_X uniform",
    1: "P_F uniform over the C(n, k) parities of degree k on {+-1}^n, P_X uniform",
    2: "P_F uniform over the n dictators x_i on {+-1}^n, P_X uniform",
    3: "P_F a point mass on one parity chi_S on {+-1}^n, P_X uniform",
}

for _kind in range(4):
    CLASSES.append(InstanceClass(
        name=f"cp_{KINDS[_kind]}",
        text=_CLASS_TEXT[_kind],
        families=(Family(name=KINDS[_kind], generate=_gen_classes(_kind), finite_sum=False, doc=_CLASS_TEXT[_kind]),),
        attributes=("n", "k", "N"),
        member=_member_classes(_kind),
        member_exact=comparisons_only(_member_classes(_kind)),  # integer and combinatorial checks only
        encode=_encode_classes,
        decode=_decode_classes,
        problem_type=FunctionClasses,
    ))


def _run_cp(req: RunRequest) -> Run:
    problem = req.problem
    vals = [class_cp(int(c), problem.n, int(k), int(p), req.dtype) for c, k, p in zip(problem.kind, problem.k, problem.point)]
    return Run({"cp": np.asarray([v[0] for v in vals], dtype=req.dtype), "cp_printed": np.asarray([v[1] for v in vals], dtype=req.dtype)}, backend="numpy")  # exact enumeration



DYNAMICS.append(Dynamics(
    name="cross_predictability",
    run=_run_cp,
    observables=observables({}, keyed("cp", "cp_printed"), {}),
    accepts=(FunctionClasses,),
    closed_form=True,
    parameters=(),
    doc="exact CP = E_{F,F'}(E_X F F')^2 and the printed E_F (E_X F)^4 of a function class by enumeration of "
    "every function and every input (no time steps)",
))


# ------------------------------------------------------------------------------------------------
# Sampled CP for n beyond exact enumeration
# ------------------------------------------------------------------------------------------------

#: Range of n of the sampled classes (below: exact enumeration; above: see kernels.cp.MAX_SAMPLED_INPUTS).
SAMPLED_MIN_N, SAMPLED_MAX_N = 13, 24
#: Pairs (F, F') per instance, inputs X per pair, and the per-instance error probability of the interval.
SAMPLED_PAIRS, SAMPLED_INPUTS, SAMPLED_DELTA = 4096, 8, 1e-9


def sampled_interval(s1: Any, s2: Any, pairs: int, inputs: int, N: Any, delta: float = SAMPLED_DELTA,
                     dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """``(estimate, half_width)`` of CP from the sums of :func:`kernels.cp.cp_sample`.

    ``U_j = u_j / (L (L - 1))`` are i.i.d., unbiased for ``CP`` (up to the index bias below), in
    ``[-1/(L-1), 1]`` (range ``R = L/(L-1)``).  The empirical Bernstein bound (Maurer and Pontil 2009,
    Theorem 4, applied to ``(U + 1/(L-1))/R`` in [0, 1], each side at ``delta/2``) gives, with probability
    at least ``1 - delta``, ``|mean(U) - E U| <= sqrt(2 V ln(4/delta) / m) + 7 R ln(4/delta) / (3 (m - 1))``
    with ``V`` the unbiased sample variance of the ``U_j`` and ``m`` = ``pairs``.  The indices of F and
    F' have probabilities within ``2**-64`` of ``1/N``, which moves ``E U`` from CP by at most
    ``2 N 2**-64``; that is added to the half-width."""
    dt = np.dtype(dtype)
    m, L = dt.type(pairs), dt.type(inputs)
    c = L * (L - 1)
    s1 = np.asarray(s1, dtype=np.int64).astype(dt)
    s2 = np.asarray(s2, dtype=np.int64).astype(dt)
    mean = s1 / m / c
    var = np.maximum(s2 - s1 * s1 / m, 0) / (m - 1) / (c * c)
    lg = np.log(dt.type(4) / dt.type(delta))
    R = L / (L - 1)
    half = np.sqrt(2 * var * lg / m) + 7 * R * lg / (3 * (m - 1)) + 2 * np.asarray(N, dtype=dt) * dt.type(2.0) ** -64
    return mean, half


def sampled_cp(kind: Any, n: int, k: Any, point: Any, seed: int, instance_ids: Any, *, backend: str = "numpy",
               dtype: Any = np.float64) -> dict[str, np.ndarray]:
    """``cp_hat`` and ``cp_half`` (see :func:`sampled_interval`) per instance id (``kind``, ``k``,
    ``point`` scalars or one per id); ``cp_lower`` / ``cp_upper`` = ``cp_hat -/+ cp_half``: with
    probability >= 1 - SAMPLED_DELTA each, CP lies between."""
    ids = np.asarray(instance_ids, dtype=np.int64).reshape(-1)
    kind, k = (np.broadcast_to(np.asarray(v, dtype=np.int64), ids.shape) for v in (kind, k))
    s1, s2 = kcp.cp_sample(kind, n, k, point, SAMPLED_PAIRS, SAMPLED_INPUTS, seed=seed, instance_ids=ids,
                           backend=backend)
    N = np.asarray([class_size(c, n, kk) for c, kk in zip(kind.tolist(), k.tolist())], dtype=np.float64)
    est, half = sampled_interval(s1, s2, SAMPLED_PAIRS, SAMPLED_INPUTS, N, dtype=dtype)
    return {"cp_hat": est, "cp_half": half, "cp_lower": est - half, "cp_upper": est + half}


def _gen_sampled(kind: int):
    def gen(rng: np.random.Generator, N: int, kn: Knobs) -> InstanceBatch:
        n = int(min(max(kn.dim, SAMPLED_MIN_N), SAMPLED_MAX_N))
        k = _draw_k(rng, N, n, kn.pattern) if KINDS[kind] == "k_parities" else np.zeros(N, dtype=np.int64)
        prob = FunctionClasses(n, np.full(N, kind, dtype=np.int64), k.astype(np.int64), np.zeros(N, dtype=np.int64))
        attrs = {"n": np.full(N, float(n)), "k": prob.k.astype(np.float64),
                 "N": np.asarray([float(class_size(kind, n, int(kk))) for kk in prob.k])}
        return InstanceBatch(KINDS[kind], prob, np.zeros((N, 0)), attrs)

    return gen


def _member_sampled(kind: int):
    """Membership of ``cp_sampled_<kind>``: the kind, ``n`` in the class's range (and the sampler's),
    ``k`` in [1, n] for k-parities, and the attributes ``n``, ``k``, ``N`` equal to the problem's
    ``n``, ``k`` and the class size from its definition.  Every test compares integers (or floats
    holding integers, compared exactly), so the check is exact as it stands."""
    lo, hi = SAMPLED_MIN_N, min(SAMPLED_MAX_N, kcp.MAX_SAMPLED_INPUTS)

    def member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
        P: FunctionClasses = batch.problem
        why = [""] * P.size
        for i in range(P.size):
            n, k, c = P.n, int(P.k[i]), int(P.kind[i])
            if c != kind:
                why[i] = f"class kind {KINDS[c]} is not {KINDS[kind]}"
            elif not lo <= n <= hi:
                why[i] = f"n = {n} outside the class's [{lo}, {hi}]"
            elif KINDS[kind] == "k_parities" and not 1 <= k <= n:
                why[i] = f"degree k = {k} outside [1, n]"
            elif batch.attrs["N"][i] != class_size(c, n, k) or batch.attrs["n"][i] != n or batch.attrs["k"][i] != k:
                why[i] = f"attributes n, k, N = {batch.attrs['n'][i]}, {batch.attrs['k'][i]}, {batch.attrs['N'][i]} " \
                         f"disagree with n = {n}, k = {k}, N = {class_size(c, n, k)}"
        return np.asarray([w == "" for w in why], dtype=bool), why

    return member


for _kind in range(3):
    CLASSES.append(InstanceClass(
        name=f"cp_sampled_{KINDS[_kind]}",
        text=_CLASS_TEXT[_kind] + f" (n from {SAMPLED_MIN_N} to {SAMPLED_MAX_N}, CP sampled)",
        families=(Family(name=f"sampled_{KINDS[_kind]}", generate=_gen_sampled(_kind), finite_sum=False, doc=_CLASS_TEXT[_kind]),),
        attributes=("n", "k", "N"),
        member=_member_sampled(_kind),
        member_exact=comparisons_only(_member_sampled(_kind)),  # integer comparisons only
        encode=_encode_classes,
        decode=_decode_classes,
        problem_type=FunctionClasses,
    ))


def _run_cp_sampled(req: RunRequest) -> Run:
    problem = req.problem
    # The sample sums are exact int64 whatever the dtype; only the interval after them uses req.dtype.
    b = select("cp.sample", req.backend, np.float64)
    return Run(sampled_cp(problem.kind, problem.n, problem.k, problem.point, req.seed, req.instance_ids, backend=b,
                          dtype=req.dtype), backend=b)


DYNAMICS.append(Dynamics(
    name="cross_predictability_sampled",
    run=_run_cp_sampled,
    observables=observables({}, keyed("cp_hat", "cp_half", "cp_lower", "cp_upper"), {}),
    accepts=(FunctionClasses,),
    parameters=(),
    doc=f"Monte Carlo CP of a class of parities: {SAMPLED_PAIRS} pairs (F, F') per instance, {SAMPLED_INPUTS} uniform "
    f"inputs per pair (U-statistic of (E_X F F')^2), empirical Bernstein interval at 1 - {SAMPLED_DELTA:g} "
    "(no time steps)",
))
