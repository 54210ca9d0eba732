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

import kernels
from kernels import cp as kcp

from ..api import (
    Dynamics,
    Family,
    InstanceBatch,
    InstanceClass,
    Knobs,
    observables,
    Run,
    RunRequest,
)

#: This module's instance classes and dynamics (registered through the entry points
#: ``thmcheck.classes`` / ``thmcheck.dynamics``; importing the module registers nothing).
CLASSES: list[InstanceClass] = []
DYNAMICS: list[Dynamics] = []



__all__ = [
    "compile_dag", "KINDS", "CLASS_DRAW", "class_masks", "class_size", "class_cp", "FunctionClasses", "CubeNetworks",
    "GaussianPairs", "junk_observables", "gaussian_tv", "random_architecture", "linear_architecture",
]

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


@dataclass(frozen=True)
class GaussianPairs:
    a: np.ndarray  # (B, d)
    b: np.ndarray  # (B, d)
    sigma: np.ndarray  # (B,)

    def astype(self, dtype: Any) -> "GaussianPairs":
        return GaussianPairs(self.a.astype(dtype), self.b.astype(dtype), self.sigma.astype(dtype))

    def take(self, index: Any) -> "GaussianPairs":
        i = np.asarray(index)
        return GaussianPairs(self.a[i], self.b[i], self.sigma[i])


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
def _class_ok(kind: int, n: int, k: int, point: int) -> bool:
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
            elif not _class_ok(c, n, k, int(P.point[i])) or batch.attrs["N"][i] != class_size(c, n, k):
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
        encode=_encode_classes,
        decode=_decode_classes,
        problem_type=FunctionClasses,
    ))


def _run_cp(req: RunRequest) -> Run:
    problem = req.problem
    vals = [class_cp(int(c), problem.n, int(k), int(p), req.dtype) for c, k, p in zip(problem.kind, problem.k, problem.point)]
    return Run({"cp": np.asarray([v[0] for v in vals], dtype=req.dtype), "cp_printed": np.asarray([v[1] for v in vals], dtype=req.dtype)}, backend="numpy")  # exact enumeration


def _obs(*names: str) -> dict[str, Any]:
    return {k: (lambda r, k=k: r[k]) for k in names}


DYNAMICS.append(Dynamics(
    name="cross_predictability",
    run=_run_cp,
    observables=observables({}, _obs("cp", "cp_printed"), {}),
    accepts=(FunctionClasses,),
    parameters=(),
    doc="exact CP = E_{F,F'}(E_X F F')^2 and the printed E_F (E_X F)^4 of a function class by enumeration of "
    "every function and every input (no time steps)",
))


# ------------------------------------------------------------------------------------------------
# Networks on the cube
# ------------------------------------------------------------------------------------------------


def compile_dag(graph: Any, n: int) -> kcp.Net:
    """Compile a ``networkx.DiGraph`` into the flat layout.

    Nodes ``0..n-1`` are the Boolean inputs and ``n`` the constant 1; every other node carries an
    ``act`` attribute (``"tanh"`` or ``"identity"``, default tanh; the output defaults to identity).
    Other node labels are mapped to integers in sorted-by-insertion order.
    """
    import networkx as nx  # noqa: PLC0415 - imported only to compile architectures

    if not isinstance(graph, nx.DiGraph):
        raise TypeError("compile_dag expects a networkx.DiGraph")
    if not nx.is_directed_acyclic_graph(graph):
        raise ValueError("the architecture is not a DAG")
    for i in range(n + 1):
        if i not in graph:
            raise ValueError(f"input node {i} is missing (inputs are 0..n-1, node n is the constant)")
    others = [v for v in graph.nodes if not (isinstance(v, (int, np.integer)) and 0 <= int(v) <= n)]
    index = {v: n + 1 + j for j, v in enumerate(others)}
    index.update({i: i for i in range(n + 1)})
    sinks = [v for v in others if graph.out_degree(v) == 0]
    act = [0] * (n + 1 + len(others))
    for v in others:
        default = "identity" if v in sinks else "tanh"
        name = graph.nodes[v].get("act", default)
        if name not in kcp.ACTIVATIONS:
            raise ValueError(f"node {v!r}: unknown activation {name!r}; known: {', '.join(kcp.ACTIVATIONS)}")
        act[index[v]] = kcp.ACTIVATIONS.index(name)
    edges = [(index[s], index[d]) for d in others for s in graph.predecessors(d)]
    return kcp.net_from_edges(n, edges, act)


def linear_architecture(n: int) -> Any:
    """networkx DAG of the linear network f(x) = w^T (x, 1)."""
    import networkx as nx  # noqa: PLC0415

    g = nx.DiGraph()
    g.add_nodes_from(range(n + 1))
    g.add_node("out", act="identity")
    g.add_edges_from((i, "out") for i in range(n + 1))
    return g


def random_architecture(rng: np.random.Generator, n: int, pattern: int) -> Any:
    """A networkx DAG: pattern 0 one hidden tanh layer, 1 two layers, 2 one layer with skip edges
    from the inputs to the output, 3 a random sparse DAG over a few tanh nodes."""
    import networkx as nx  # noqa: PLC0415

    g = nx.DiGraph()
    g.add_nodes_from(range(n + 1))
    ins = list(range(n + 1))
    p = pattern % 4
    if p in (0, 2):
        width = int(rng.integers(1, 5))
        hid = [("h", j) for j in range(width)]
        g.add_edges_from((i, h) for i in ins for h in hid)
        g.add_edges_from((h, "out") for h in hid)
        g.add_edge(n, "out")
        if p == 2:
            g.add_edges_from((i, "out") for i in range(n))
    elif p == 1:
        w1, w2 = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        h1 = [("a", j) for j in range(w1)]
        h2 = [("b", j) for j in range(w2)]
        g.add_edges_from((i, h) for i in ins for h in h1)
        g.add_edges_from((a, b) for a in h1 + [n] for b in h2)
        g.add_edges_from((b, "out") for b in h2 + [n])
    else:
        m = int(rng.integers(2, 6))
        hid = [("r", j) for j in range(m)]
        for j, h in enumerate(hid):
            preds = ins + hid[:j]
            pick = [u for u in preds if rng.random() < 0.5] or [preds[int(rng.integers(0, len(preds)))]]
            g.add_edges_from((u, h) for u in pick)
        for h in hid:
            if g.out_degree(h) == 0 or rng.random() < 0.3:
                g.add_edge(h, "out")
        g.add_edge(n, "out")
    for v in g.nodes:
        if v == "out":
            g.nodes[v]["act"] = "identity"
        elif not isinstance(v, int):
            g.nodes[v]["act"] = "tanh"
    return g


def _draw_classes(rng: np.random.Generator, N: int, n: int, kind: int,
                  balanced: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = rng.integers(1, n + 1, N) if KINDS[kind] == "k_parities" else np.zeros(N, dtype=np.int64)
    # Point masses sit on non-constant parities (balanced classes, as the seed's setting requires);
    # unbalanced, a fifth of them sit on the constant function chi_empty.
    point = np.where(rng.random(N) < 0.6, 1 << rng.integers(0, n, N), rng.integers(1, 1 << n, N)) \
        if KINDS[kind] == "point_mass" else np.zeros(N, dtype=np.int64)
    if not balanced:
        point = np.where(rng.random(N) < 0.2, 0, point)
    return np.full(N, kind, dtype=np.int64), k.astype(np.int64), point.astype(np.int64)


def _gen_dag_networks(rng: np.random.Generator, N: int, kn: Knobs, force_kind: int | None = None,
                      balanced: bool = True) -> InstanceBatch:
    n = int(min(kn.dim, 8))
    net = compile_dag(random_architecture(rng, n, kn.pattern), n)
    kind = int(rng.integers(0, 4)) if kn.pattern >= 4 else kn.pattern % 4
    kind = kind if force_kind is None else force_kind
    kinds, k, point = _draw_classes(rng, N, n, kind, balanced)
    loss = rng.integers(0, 2, N)
    W = rng.standard_normal((N, net.P)) * 10.0 ** (0.5 * kn.log_scale) / np.sqrt(n + 1)
    prob = CubeNetworks(net, kinds, k, point, loss.astype(np.int64))
    return InstanceBatch("dag_networks", prob, W, _net_attrs(prob))


def _gen_linear_networks(rng: np.random.Generator, N: int, kn: Knobs, force_kind: int | None = None) -> InstanceBatch:
    n = int(min(kn.dim, 8))
    net = compile_dag(linear_architecture(n), n)
    kind = (2, 3, 1, 0)[kn.pattern % 4]  # dictators and the point mass first: the errata's setting
    kind = kind if force_kind is None else force_kind
    kinds, k, point = _draw_classes(rng, N, n, kind)
    if kn.pattern % 8 in (1, 5):
        point = np.ones(N, dtype=np.int64)  # P_F = delta_{x_1}
    loss = np.where(rng.random(N) < 0.7, 1, 0) if kn.pattern < 4 else np.ones(N, dtype=np.int64)
    zero = (rng.random((N, 1)) < 0.5) | (kn.pattern < 4)
    W = np.where(zero, 0.0, rng.standard_normal((N, net.P)) * 10.0 ** (kn.log_w0 - 1.0))
    prob = CubeNetworks(net, kinds, k, point, loss.astype(np.int64))
    return InstanceBatch("linear_networks", prob, W, _net_attrs(prob))


def _net_attrs(prob: CubeNetworks) -> dict[str, np.ndarray]:
    N = [len(class_masks(int(c), prob.n, int(k), int(p))) for c, k, p in zip(prob.kind, prob.k, prob.point)]
    return {"n": np.full(prob.size, float(prob.n)), "N": np.asarray(N, dtype=np.float64),
            "P": np.full(prob.size, float(prob.net.P)), "k": prob.k.astype(np.float64)}


def _member_networks(batch: InstanceBatch, balanced: bool = True) -> tuple[np.ndarray, list[str]]:
    P: CubeNetworks = batch.problem
    B = P.size
    why = [""] * B
    try:  # the layout is re-derived from its edge list (a DAG with one sink, inputs without in-edges)
        again = kcp.net_from_edges(P.net.n, P.net.edges(), P.net.act)
        layout = "" if again.P == P.net.P else "the network layout does not match its edge list"
    except ValueError as exc:
        layout = f"not a valid DAG network: {exc}"
    W = np.asarray(batch.w0, dtype=np.float64)
    for i in range(B):
        c, k, n = int(P.kind[i]), int(P.k[i]), P.n
        if layout:
            why[i] = layout
        elif W.shape[1] != P.net.P or not np.all(np.isfinite(W[i])):
            why[i] = "weights are not finite or do not match the layout"
        elif int(P.loss[i]) not in (0, 1):
            why[i] = "unknown loss"
        elif not 0 <= c < 4 or (KINDS[c] == "k_parities" and not 1 <= k <= n) or not 0 <= int(P.point[i]) < 1 << n:
            why[i] = "invalid function class"
        elif balanced and KINDS[c] == "point_mass" and int(P.point[i]) == 0:
            why[i] = "a point mass on the constant function is not a balanced class"
        elif not _class_ok(c, n, k, int(P.point[i])):
            why[i] = "the enumerated class does not have its defined size"
    ok = np.asarray([w == "" for w in why], dtype=bool)
    return ok, why


def _encode_networks(P: CubeNetworks, i: int) -> dict[str, Any]:
    return {"net": P.net.as_dict(), "kind": int(P.kind[i]), "k": int(P.k[i]), "point": int(P.point[i]),
            "loss": int(P.loss[i])}


def _decode_networks(d: dict[str, Any]) -> CubeNetworks:
    net = kcp.net_from_edges(int(d["net"]["n"]), [tuple(e) for e in d["net"]["edges"]], d["net"]["act"])
    one = lambda key: np.asarray([d[key]], dtype=np.int64)  # noqa: E731
    return CubeNetworks(net, one("kind"), one("k"), one("point"), one("loss"))


CLASSES.append(InstanceClass(
    name="cube_networks",
    text="a DAG network (n+1 inputs incl. a constant, one output, tanh hidden nodes) with weights w0, "
    "a balanced function class on {+-1}^n (parities, k-parities, dictators or a point mass on a "
    "non-constant parity) and the square or correlation loss",
    families=(
        Family(name="dag_networks", generate=_gen_dag_networks, finite_sum=False, doc="random DAG architectures, Gaussian weights"),
        Family(name="linear_networks", generate=_gen_linear_networks, finite_sum=False, doc="linear networks f = w^T (x, 1) from w0 = 0 or near it; dictators / point masses first"),
    ),
    attributes=("n", "N", "P", "k"),
    member=_member_networks,
    encode=_encode_networks,
    decode=_decode_networks,
    problem_type=CubeNetworks,
))


CLASSES.append(InstanceClass(
    name="cube_networks_all",
    text="a DAG network with weights w0, any function class of parities on {+-1}^n (a point mass may sit on the "
    "constant function: no balance hypothesis) and the square or correlation loss",
    families=(
        Family(name="dag_networks_all", generate=lambda r, N, kn: _gen_dag_networks(r, N, kn, None, False), finite_sum=False, doc="random DAG architectures, Gaussian weights, unbalanced point masses included"),
        Family(name="linear_networks", generate=_gen_linear_networks, finite_sum=False, doc="linear networks from w0 = 0 or near it"),
    ),
    attributes=("n", "N", "P", "k"),
    member=lambda b: _member_networks(b, balanced=False),
    encode=_encode_networks,
    decode=_decode_networks,
    problem_type=CubeNetworks,
))


def _member_k_parities(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    ok, why = _member_networks(batch)
    kinds = batch.problem.kind
    why = [w or ("" if KINDS[int(c)] == "k_parities" else "the class is not k-parities") for w, c in zip(why, kinds)]
    return np.asarray([w == "" for w in why], dtype=bool), why


CLASSES.append(InstanceClass(
    name="cube_networks_k_parities",
    text="a DAG network with weights w0, P_F uniform over the degree-k parities on {+-1}^n (k = 1..n), square or "
    "correlation loss",
    families=(
        Family(name="dag_networks_k", generate=lambda r, N, kn: _gen_dag_networks(r, N, kn, 1), finite_sum=False, doc="random DAG architectures, k-parities"),
        Family(name="linear_networks_k", generate=lambda r, N, kn: _gen_linear_networks(r, N, kn, 1), finite_sum=False, doc="linear networks from w0 = 0 or near it, k-parities"),
    ),
    attributes=("n", "N", "P", "k"),
    member=_member_k_parities,
    encode=_encode_networks,
    decode=_decode_networks,
    problem_type=CubeNetworks,
))


def _groups(problem: CubeNetworks) -> dict[tuple[int, int, int], np.ndarray]:
    keys: dict[tuple[int, int, int], list[int]] = {}
    for i, key in enumerate(zip(problem.kind.tolist(), problem.k.tolist(), problem.point.tolist())):
        keys.setdefault(key, []).append(i)
    return {k: np.asarray(v) for k, v in keys.items()}


def _backend(backend: str, dtype: Any) -> str:
    b = kernels.resolve_backend(backend) if backend == "auto" else backend
    return "numpy" if np.dtype(dtype) != np.dtype(np.float64) else b


def junk_observables(problem: CubeNetworks, W: np.ndarray, *, backend: str = "numpy",
                     dtype: Any = np.float64) -> dict[str, np.ndarray]:
    """Exact population quantities at weights W (see the module docstring), with rounding scales:
    ``rn_gap`` is compared with zero, its scale ``rn_scale`` = (n + 4) max_e of the sums of the
    absolute values of the terms of both sides (sums over 2^n inputs round by O(n) ulps of that)."""
    b = _backend(backend, dtype)
    net = problem.net
    n = net.n
    M = 1 << n
    W = np.asarray(W, dtype=dtype)
    f, J = kcp.forward_jacobian(net, W, backend=b, dtype=dtype)  # (B, M), (B, M, P)
    B = W.shape[0]
    loss = problem.loss[:, None]
    lp = np.where(loss == 0, f - 1, -np.ones_like(f))  # dL/df at y = +1
    lm = np.where(loss == 0, f + 1, np.ones_like(f))  # dL/df at y = -1
    half = np.asarray(0.5, dtype=dtype)
    g_junk = np.einsum("bm,bmp->bp", half * (lp + lm), J) / M
    grad2 = np.einsum("bm,bm->b", half * (lp * lp + lm * lm), (J * J).sum(axis=2)) / M
    out = {k: np.zeros(B, dtype=dtype) for k in ("cs_lhs", "cp", "rn_gap", "rn_scale", "rn_ratio_err")}
    out["grad2_junk"] = grad2
    absJ = np.abs(J)
    for (kind, k, point), rows in _groups(problem).items():
        tab = kcp.parity_table(class_masks(kind, n, k, point), n).astype(dtype)  # (N, M)
        Fp = (tab > 0)[None, :, :]
        # True data: E_x L'(f(x), F(x)) grad f(x), for every F of the class.
        dF = np.where(Fp, lp[rows][:, None, :], lm[rows][:, None, :])  # (b, N, M)
        g_true = np.einsum("bfm,bmp->bfp", dF, J[rows]) / M
        diff = g_true - g_junk[rows][:, None, :]
        out["cs_lhs"][rows] = (diff * diff).sum(axis=2).mean(axis=1)
        # Radon-Nikodym: E_{D_*}[grad L (D_F/D_* - 1)], D_F/D_* - 1 = y F(x), over (x, y) in {+-1}^n x {+-1}.
        coef = half * (lp[rows] * 1 - lm[rows])  # (1/2) sum_y L'(f, y) y
        rn = np.einsum("fm,bm,bmp->bfp", tab, coef, J[rows]) / M
        out["rn_gap"][rows] = np.abs(diff - rn).max(axis=(1, 2))
        mag = np.einsum("bm,bmp->bp", np.abs(lp[rows]) + np.abs(lm[rows]), absJ[rows]) / M
        out["rn_scale"][rows] = (n + 4) * 2 * mag.max(axis=1)
        out["cp"][rows] = class_cp(kind, n, k, point, dtype)[0]
        # The density ratio itself, by enumeration of (F, x, y): D_F(x, y) = P_X(x) 1{y = F(x)},
        # D_*(x, y) = P_X(x) / 2; the identity says 1 - D_F/D_* + y F(x) = 0 everywhere.
        err = np.asarray(0, dtype=dtype)
        for y in (-1, 1):
            d_f = np.where(tab == y, 1, 0).astype(dtype) / M
            d_star = np.asarray(1, dtype=dtype) / (2 * M)
            err = np.maximum(err, np.abs(1 - d_f / d_star + y * tab).max())
        out["rn_ratio_err"][rows] = err
    return out


def _run_junk(req: RunRequest) -> Run:
    problem, w0 = req.problem, req.w0
    b = _backend(req.backend, req.dtype)
    return Run(junk_observables(problem, w0, backend=b, dtype=req.dtype), backend=b)


DYNAMICS.append(Dynamics(
    name="junk_gradients",
    run=_run_junk,
    observables=observables({}, _obs("cs_lhs", "grad2_junk", "cp", "rn_gap", "rn_scale", "rn_ratio_err"), {"rn_gap": "rn_scale"}),
    accepts=(CubeNetworks,),
    parameters=(),
    doc="exact population gradients of a DAG network over all 2^n inputs, on true data D_F for every F of "
    "the class and on junk data D_* (no time steps)",
))


# ------------------------------------------------------------------------------------------------
# Gaussian pairs: TV distance and Pinsker
# ------------------------------------------------------------------------------------------------


def _gen_gaussian(rng: np.random.Generator, N: int, kn: Knobs) -> InstanceBatch:
    d = int(kn.dim)
    a = rng.standard_normal((N, d)) * 10.0 ** kn.log_w0
    direction = rng.standard_normal((N, d))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    # t = ||a - b|| / (2 sigma) spans 1e-3 .. 10 (patterns stress the ends).
    lo, hi = {0: (-3.0, 1.0), 1: (-3.0, -1.0), 2: (0.0, 1.0)}.get(kn.pattern % 4, (-1.0, 0.5))
    t = 10.0 ** rng.uniform(lo, hi, N)
    sigma = 10.0 ** (kn.log_scale + rng.uniform(-1.0, 1.0, N))
    b = a + direction * (2 * t * sigma)[:, None]
    return InstanceBatch("gaussian_pairs", GaussianPairs(a, b, sigma), np.zeros((N, 0)),
                         {"d": np.full(N, float(d)), "sigma": sigma})


def _member_gaussian(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    P: GaussianPairs = batch.problem
    ok = np.isfinite(P.a).all(axis=1) & np.isfinite(P.b).all(axis=1) & (P.sigma > 0) & np.isfinite(P.sigma) \
        & (batch.attrs["sigma"] == P.sigma)
    return ok, ["" if o else "non-finite means or sigma <= 0" for o in ok]


CLASSES.append(InstanceClass(
    name="gaussian_pairs",
    text="two Gaussians N(a, sigma^2 I) and N(b, sigma^2 I) on R^d, sigma > 0",
    families=(Family(name="gaussian_pairs", generate=_gen_gaussian, finite_sum=False, doc="random means; ||a - b|| / (2 sigma) from 1e-3 to 10"),),
    attributes=("d", "sigma"),
    member=_member_gaussian,
    encode=lambda P, i: {"a": P.a[i].tolist(), "b": P.b[i].tolist(), "sigma": float(P.sigma[i])},
    decode=lambda d: GaussianPairs(np.asarray([d["a"]], float), np.asarray([d["b"]], float), np.asarray([d["sigma"]], float)),
    problem_type=GaussianPairs,
))

#: Gauss-Legendre nodes per panel and the panel width (in units of sigma) of the TV quadrature.
GL_NODES = 20
GL_PANEL = 0.5
#: The integrand is below 1e-300 beyond t + TAIL (in units of sigma).
TAIL = 38.0


@lru_cache(maxsize=4)
def _gauss_legendre(q: int, dtype_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights on [0, 1]; in extended precision refined by Newton steps on P_q."""
    x, w = np.polynomial.legendre.leggauss(q)
    dt = np.dtype(dtype_name)
    x = x.astype(dt)
    if dt != np.dtype(np.float64):
        for _ in range(3):
            p0, p1 = np.ones_like(x), x.copy()
            for j in range(2, q + 1):
                p0, p1 = p1, ((2 * j - 1) * x * p1 - (j - 1) * p0) / j
            dp = q * (x * p1 - p0) / (x * x - 1)
            x = x - p1 / dp
        p0, p1 = np.ones_like(x), x.copy()
        for j in range(2, q + 1):
            p0, p1 = p1, ((2 * j - 1) * x * p1 - (j - 1) * p0) / j
        dp = q * (x * p1 - p0) / (x * x - 1)
        w = 2 / ((1 - x * x) * dp * dp)
    return (x + 1) / 2, np.asarray(w, dtype=dt) / 2


def gaussian_tv(a: np.ndarray, b: np.ndarray, sigma: np.ndarray, dtype: Any = np.float64) -> dict[str, np.ndarray]:
    """TV between N(a, s^2 I) and N(b, s^2 I) from its definition, ``(1/2) int |p - q|``.

    Rotating the first axis onto ``a - b`` (an isometry) leaves the densities' other coordinates
    identical, so the integral is one-dimensional: with ``t = ||a - b|| / (2 s)`` and z in units of s,
    ``|p - q| = |phi(z - t) - phi(z + t)| = 2 phi(z) e^{-t^2/2} |sinh(z t)|`` (written this way it
    has no cancellation), symmetric in z: ``TV = 2 int_0^{t + TAIL} phi(z) e^{-t^2/2} sinh(z t) dz``
    by composite Gauss-Legendre.  Also ``delta = ||a - b||`` and ``tv_erf = erf(delta/(2 sqrt2 s))``
    (``math.erf``; mpmath at 40 digits in extended precision) for comparison."""
    dt = np.dtype(dtype)
    a, b, s = (np.asarray(v, dtype=dt) for v in (a, b, sigma))
    delta = np.sqrt(((a - b) ** 2).sum(axis=1))
    t = delta / (2 * s)
    x, w = _gauss_legendre(GL_NODES, dt.name)
    panels = np.ceil((t.astype(np.float64) + TAIL) / GL_PANEL).astype(np.int64)
    tv = np.zeros_like(t)
    two_pi = 2 * np.arccos(np.asarray(-1, dtype=dt)) if dt != np.dtype(np.float64) else 2 * np.pi
    c = 1 / np.sqrt(np.asarray(two_pi, dtype=dt))
    for P in np.unique(panels):
        rows = np.flatnonzero(panels == P)
        tr = t[rows][:, None]
        h = (tr + TAIL) / P  # panel width <= GL_PANEL
        z = (np.arange(P, dtype=dt)[:, None] + x[None, :]).reshape(-1)[None, :] * h
        ww = np.tile(w, P)[None, :] * h
        g = c * np.exp(-(z * z + tr * tr) / 2) * np.sinh(z * tr)
        tv[rows] = 2 * (ww * g).sum(axis=1)
    if dt == np.dtype(np.float64):
        erf = np.asarray([math.erf(float(v)) for v in delta / (2 * np.sqrt(2.0) * s)])
    else:
        import mpmath  # noqa: PLC0415 - extended-precision replay only

        with mpmath.workdps(40):
            arg = delta / (2 * np.sqrt(np.asarray(2, dtype=dt)) * s)
            erf = np.asarray([np.longdouble(mpmath.nstr(mpmath.erf(mpmath.mpf(np.format_float_scientific(v, unique=True))),
                                                        30)) for v in arg], dtype=dt)
    return {"tv": tv, "tv_erf": erf.astype(dt), "delta": delta}


def _run_tv(req: RunRequest) -> Run:
    problem = req.problem
    return Run(gaussian_tv(problem.a, problem.b, problem.sigma, req.dtype), backend="numpy")  # closed forms


DYNAMICS.append(Dynamics(
    name="gaussian_tv",
    run=_run_tv,
    observables=observables({}, _obs("tv", "tv_erf", "delta"), {}),
    accepts=(GaussianPairs,),
    parameters=(),
    doc="total-variation distance of two isotropic Gaussians by quadrature of its definition (no time steps)",
))


# ------------------------------------------------------------------------------------------------
# Noisy population GD
# ------------------------------------------------------------------------------------------------


def _trial_masks(problem: CubeNetworks, seed: int, ids: np.ndarray) -> np.ndarray:
    masks = np.zeros(problem.size, dtype=np.int64)
    for key, rows in _groups(problem).items():
        cls = class_masks(*key[:1], problem.n, *key[1:])
        pick = kernels.rng.randint(seed, ids[rows].astype(np.uint64), 0, CLASS_DRAW, len(cls))
        masks[rows] = cls[pick]
    return masks


def _run_noisy(req: RunRequest) -> Run:
    problem, w0 = req.problem, req.w0
    b = _backend(req.backend, req.dtype)
    ids = np.asarray(req.instance_ids, dtype=np.int64)
    gamma = np.asarray(req.params["gamma"], dtype=req.dtype)
    sigma = np.asarray(req.params["sigma"], dtype=req.dtype)
    masks = _trial_masks(problem, req.seed, ids)
    r = kcp.noisy_gd(problem.net, np.asarray(w0, dtype=req.dtype), masks, problem.loss, gamma, sigma, req.horizon,
                     seed=req.seed, instance_ids=ids, backend=b, dtype=req.dtype)
    cp = np.asarray([class_cp(k, problem.n, kk, p, req.dtype)[0] for k, kk, p in
                     zip(problem.kind.tolist(), problem.k.tolist(), problem.point.tolist())], dtype=req.dtype)
    return Run({
        "success": r.success.astype(req.dtype), "accuracy": r.accuracy.astype(req.dtype),
        "jf_rms": (gamma[:, None] * np.sqrt(r.g2)).sum(axis=1),
        "jf_mean": (gamma[:, None] * r.gmean).sum(axis=1),
        "cp": cp, "f_test": r.f_test,
    }, backend=r.backend)


DYNAMICS.append(Dynamics(
    name="noisy_population_gd",
    run=_run_noisy,
    observables=observables({}, _obs("success", "accuracy", "jf_rms", "jf_mean", "cp", "f_test"), {}),
    accepts=(CubeNetworks,),
    parameters=("gamma", "sigma"),
    doc="noisy population GD W_t = W_{t-1} - gamma E_D grad L(W_{t-1}) + sigma Z_t on true data D_F (F drawn "
    "from the class per trial) and on junk data, exact gradients over {+-1}^n",
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
    def member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
        P: FunctionClasses = batch.problem
        why = [""] * P.size
        for i in range(P.size):
            n, k, c = P.n, int(P.k[i]), int(P.kind[i])
            if c != kind:
                why[i] = f"class kind {KINDS[c]} is not {KINDS[kind]}"
            elif not 1 <= n <= kcp.MAX_SAMPLED_INPUTS:
                why[i] = f"n = {n} outside [1, {kcp.MAX_SAMPLED_INPUTS}]"
            elif KINDS[kind] == "k_parities" and not 1 <= k <= n:
                why[i] = f"degree k = {k} outside [1, n]"
            elif batch.attrs["N"][i] != class_size(c, n, k) or batch.attrs["n"][i] != n:
                why[i] = f"attributes n, N = {batch.attrs['n'][i]}, {batch.attrs['N'][i]} disagree with n = {n}, " \
                         f"N = {class_size(c, n, k)}"
        return np.asarray([w == "" for w in why], dtype=bool), why

    return member


for _kind in range(3):
    CLASSES.append(InstanceClass(
        name=f"cp_sampled_{KINDS[_kind]}",
        text=_CLASS_TEXT[_kind] + f" (n from {SAMPLED_MIN_N} to {SAMPLED_MAX_N}, CP sampled)",
        families=(Family(name=f"sampled_{KINDS[_kind]}", generate=_gen_sampled(_kind), finite_sum=False, doc=_CLASS_TEXT[_kind]),),
        attributes=("n", "k", "N"),
        member=_member_sampled(_kind),
        encode=_encode_classes,
        decode=_decode_classes,
        problem_type=FunctionClasses,
    ))


def _run_cp_sampled(req: RunRequest) -> Run:
    problem = req.problem
    b = _backend(req.backend, req.dtype)
    return Run(sampled_cp(problem.kind, problem.n, problem.k, problem.point, req.seed, req.instance_ids, backend=b,
                          dtype=req.dtype), backend=b)


DYNAMICS.append(Dynamics(
    name="cross_predictability_sampled",
    run=_run_cp_sampled,
    observables=observables({}, _obs("cp_hat", "cp_half", "cp_lower", "cp_upper"), {}),
    accepts=(FunctionClasses,),
    parameters=(),
    doc=f"Monte Carlo CP of a class of parities: {SAMPLED_PAIRS} pairs (F, F') per instance, {SAMPLED_INPUTS} uniform "
    f"inputs per pair (U-statistic of (E_X F F')^2), empirical Bernstein interval at 1 - {SAMPLED_DELTA:g} "
    "(no time steps)",
))
