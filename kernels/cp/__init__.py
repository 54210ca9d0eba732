"""Networks on the Boolean cube and noisy population GD (the cross-predictability family).

A network is a weighted DAG (Abbe-Sandon): ``n + 1`` roots -- the Boolean inputs ``x_0..x_{n-1}``
(nodes ``0..n-1``) and the constant 1 (node ``n``) -- one sink (the output) and an activation on every
other vertex.  :func:`net_from_edges` turns its integer edge list into a flat layout (:class:`Net`):
the non-input nodes in topological order, each with a contiguous range of incoming edges; the
parameters are the edge weights, one per edge, in that order (biases are the edges from the constant
node).  Architectures are written as ``networkx`` DAGs in ``numeric.cp`` (``compile_dag``); this
module imports NumPy only.

Inputs are enumerated exactly: input index ``xi`` in ``[0, 2**n)`` is the point with
``x_i = 1 - 2 ((xi >> i) & 1)``.  A parity ``chi_S(x) = prod_{i in S} x_i`` with bit mask ``S`` is
``(-1)**popcount(xi & S)`` there.

Entry points (one each; validated here, three implementations of the same arithmetic):

* :func:`forward_jacobian` -- ``f(x)`` and ``grad_W f(x)`` for every input (the exact population
  quantities of the family's enumeration claims);
* :func:`noisy_gd` -- noisy population GD on true data ``D_F`` (``y = F(x)``) and, beside it from the
  same start, on junk data ``D_*`` (``y`` uniform, independent of ``x``):
  ``W_t = W_{t-1} - gamma E_D grad L(W_{t-1}) + sigma Z_t``, ``Z_t ~ N(0, I)`` from :mod:`kernels.rng`;
* :func:`cp_enumerate` -- cross-predictability ``E_{F,F'} (E_X F F')^2`` and the printed variant
  ``E_F (E_X F)^4`` of a uniform distribution over given truth tables, in exact integer arithmetic.
* :func:`cp_sample` -- Monte Carlo sums for CP of a class of parities for n up to
  ``MAX_SAMPLED_INPUTS`` (beyond enumeration): pairs (F, F') from the class and uniform inputs, all
  from :mod:`kernels.rng` keyed by ``(seed, instance id, pair, draw)``; exact integer sums, identical
  on the NumPy and numba backends (no CuPy kernel: asking for one raises BackendUnavailable).
* ``cp.planes`` (:mod:`kernels.cp.planes`, imported on its own) -- the shared-input bit-plane
  estimator: M functions on one sample of inputs, every pair, XOR + popcount per 64 sample-pairs.

Losses (``loss`` codes): 0 square ``L(f, y) = (f - y)^2 / 2`` (``dL/df = f - y``); 1 correlation
``L(f, y) = -y f`` (``dL/df = -y``).  Activations (``act`` codes): 0 identity, 1 tanh.

Random numbers (:mod:`kernels.rng`, key ``(seed, instance id, step, draw)``): the noise of step
``t = 1..T`` is ``normal(seed, id, t, p)`` for parameter ``p`` on the true trajectory and
``normal(seed, id, t, JUNK_DRAW + p)`` on the junk one; the fresh test input is
``randint(seed, id, 0, TEST_DRAW, 2**n)`` (step 0 carries no noise).  Which function ``F`` a trial
trains on is chosen by the caller (its mask is an argument).

Backends, chosen by :func:`kernels.backend.select`: ``"numpy"`` (:mod:`kernels.cp.reference`,
vectorised over batch and inputs; runs in ``np.longdouble``), ``"numba"`` (:mod:`kernels.cp.numba`,
``prange`` over the batch, float64), ``"cupy"`` (:mod:`kernels.cp.cupy`: the reference arithmetic on
CuPy arrays with the noise from the Philox CUDA source; imported only when asked for;
:func:`forward_jacobian` and :func:`noisy_gd` only).
Results agree to rounding across backends (sums are accumulated in different orders); the noise is
bit-for-bit identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

import numpy as np

from ..backend import KernelImpl, get_kernel, select
from .cupy import cuda_noise_source  # noqa: F401 - CUDA source only; CuPy is not imported

__all__ = [
    "Net",
    "NoisyGDResult",
    "ACTIVATIONS",
    "LOSSES",
    "JUNK_DRAW",
    "TEST_DRAW",
    "MAX_INPUTS",
    "net_from_edges",
    "cube_points",
    "parity_table",
    "forward_jacobian",
    "noisy_gd",
    "cp_enumerate",
    "loss_derivative",
]

ACTIVATIONS = ("identity", "tanh")
LOSSES = ("square", "correlation")
#: Draw offset of the junk trajectory's noise (disjoint from the true trajectory's draws 0..P-1).
JUNK_DRAW = 1 << 20
#: Draw index of the fresh test input at step 0.
TEST_DRAW = 1
#: Largest n for exact enumeration over {+-1}^n.
MAX_INPUTS = 12

_REF_DTYPES = ("float32", "float64", "longdouble")

#: This family's implementations (registered through the ``thmcheck.kernels`` entry point ``cp``).
#: ``cp.sample`` and ``cp.enumerate`` are exact integer sums (their dtype is nominal) and have no CuPy
#: kernel: asking for one raises BackendUnavailable (there is no host fallback).
KERNELS: tuple[KernelImpl, ...] = (
    KernelImpl("cp.forward_jacobian", "numpy", _REF_DTYPES, "kernels.cp.reference:forward_jacobian_kernel"),
    KernelImpl("cp.forward_jacobian", "numba", ("float64",), "kernels.cp.numba:forward_jacobian_kernel"),
    KernelImpl("cp.forward_jacobian", "cupy", ("float64",), "kernels.cp.cupy:forward_jacobian_kernel"),
    KernelImpl("cp.noisy_gd", "numpy", _REF_DTYPES, "kernels.cp.reference:noisy_gd_kernel"),
    KernelImpl("cp.noisy_gd", "numba", ("float64",), "kernels.cp.numba:noisy_gd_kernel"),
    KernelImpl("cp.noisy_gd", "cupy", ("float64",), "kernels.cp.cupy:noisy_gd_kernel"),
    KernelImpl("cp.sample", "numpy", ("float64",), "kernels.cp.reference:sample_kernel"),
    KernelImpl("cp.sample", "numba", ("float64",), "kernels.cp.numba:sample_kernel"),
    KernelImpl("cp.enumerate", "numpy", ("float64",), "kernels.cp.reference:enumerate_kernel"),
    KernelImpl("cp.enumerate", "numba", ("float64",), "kernels.cp.numba:enumerate_kernel"),
    KernelImpl("cp.planes", "numpy", ("float64",), "kernels.cp.planes:planes_reference"),
    KernelImpl("cp.planes", "numba", ("float64",), "kernels.cp.planes_numba:planes_kernel"),
)


@dataclass(frozen=True)
class Net:
    """Flat layout of a DAG network (see the module docstring).

    ``order[j]`` is the j-th non-input node in topological order (the output last); its incoming
    edges are ``ptr[j]:ptr[j+1]``, edge ``e`` runs from ``src[e]`` and carries parameter ``e``.
    """

    n: int
    nodes: int
    src: np.ndarray  # (P,) int64
    order: np.ndarray  # (K,) int64
    ptr: np.ndarray  # (K + 1,) int64
    act: np.ndarray  # (nodes,) int64, activation code per node (inputs: 0)

    @property
    def P(self) -> int:
        return int(self.src.shape[0])

    @property
    def output(self) -> int:
        return int(self.order[-1])

    def edges(self) -> list[tuple[int, int]]:
        """(source, destination) per parameter, in parameter order."""
        out = []
        for j, v in enumerate(self.order):
            for e in range(int(self.ptr[j]), int(self.ptr[j + 1])):
                out.append((int(self.src[e]), int(v)))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "edges": [list(e) for e in self.edges()], "act": self.act.tolist()}


def net_from_edges(n: int, edges: list[tuple[int, int]] | list[list[int]], act: list[int] | np.ndarray) -> Net:
    """The :class:`Net` of a DAG given by integer nodes (inputs ``0..n``) and an edge list; the edge
    order within a destination is kept (it is the parameter order)."""
    act = np.asarray(act, dtype=np.int64)
    nodes = int(act.shape[0])
    if n < 1 or n > MAX_INPUTS:
        raise ValueError(f"n must be in [1, {MAX_INPUTS}], got {n}")
    if nodes < n + 2:
        raise ValueError("a network needs the n + 1 inputs and at least an output node")
    if np.any((act < 0) | (act >= len(ACTIVATIONS))):
        raise ValueError(f"activation codes must be in [0, {len(ACTIVATIONS)})")
    incoming: dict[int, list[int]] = {v: [] for v in range(nodes)}
    outdeg = np.zeros(nodes, dtype=np.int64)
    for s, d in edges:
        s, d = int(s), int(d)
        if not (0 <= s < nodes and 0 <= d < nodes):
            raise ValueError(f"edge ({s}, {d}) names a node outside 0..{nodes - 1}")
        if d <= n:
            raise ValueError(f"edge ({s}, {d}) enters an input node")
        incoming[d].append(s)
        outdeg[s] += 1
    hidden = [v for v in range(n + 1, nodes)]
    sinks = [v for v in hidden if outdeg[v] == 0]
    if len(sinks) != 1:
        raise ValueError(f"a network needs exactly one output (sink) node, got {sinks}")
    if any(not incoming[v] for v in hidden):
        raise ValueError("every non-input node needs at least one incoming edge")
    # Kahn's algorithm over the non-input nodes; the unique sink comes last in any topological order.
    indeg = {v: sum(1 for s in incoming[v] if s > n) for v in hidden}
    succ: dict[int, list[int]] = {v: [] for v in range(nodes)}
    for d in hidden:
        for s in incoming[d]:
            succ[s].append(d)
    ready = sorted(v for v in hidden if indeg[v] == 0)
    order: list[int] = []
    while ready:
        v = ready.pop(0)
        order.append(v)
        for d in succ[v]:
            indeg[d] -= 1
            if indeg[d] == 0:
                ready.append(d)
    if len(order) != len(hidden):
        raise ValueError("the graph has a cycle")
    assert order[-1] == sinks[0]
    src: list[int] = []
    ptr = [0]
    for v in order:
        src.extend(incoming[v])
        ptr.append(len(src))
    return Net(n, nodes, np.asarray(src, dtype=np.int64), np.asarray(order, dtype=np.int64),
               np.asarray(ptr, dtype=np.int64), act)


def cube_points(n: int, dtype: Any = np.float64) -> np.ndarray:
    """(2**n, n) array of all points of {+-1}^n in input-index order."""
    xi = np.arange(1 << n, dtype=np.int64)
    bits = (xi[:, None] >> np.arange(n, dtype=np.int64)[None, :]) & 1
    return (1 - 2 * bits).astype(dtype)


def parity_table(masks: Any, n: int) -> np.ndarray:
    """(len(masks), 2**n) int8 truth tables of the parities chi_S for bit masks S."""
    masks = np.asarray(masks, dtype=np.int64).reshape(-1)
    xi = np.arange(1 << n, dtype=np.int64)
    v = masks[:, None] & xi[None, :]
    pop = np.zeros_like(v)
    for i in range(n):
        pop += (v >> i) & 1
    return (1 - 2 * (pop & 1)).astype(np.int8)


def loss_derivative(f: Any, y: Any, loss: Any) -> Any:
    """dL/df for the loss codes (broadcast)."""
    return np.where(np.asarray(loss) == 0, f - y, -y + 0 * f)


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------


def _check_weights(net: Net, W: Any, dt: np.dtype) -> np.ndarray:
    W = np.asarray(W)
    if W.ndim != 2 or W.shape[1] != net.P:
        raise ValueError(f"weights must have shape (B, {net.P}), got {W.shape}")
    if not np.all(np.isfinite(W.astype(np.float64))):
        raise ValueError("weights must be finite")
    return np.ascontiguousarray(W, dtype=dt)


def _per_trial(x: Any, B: int, dt: Any, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim == 0:
        a = np.full(B, a)
    if a.shape != (B,):
        raise ValueError(f"{name} must be a scalar or have shape ({B},), got {a.shape}")
    return np.ascontiguousarray(a, dtype=dt)


# --------------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------------


def forward_jacobian(net: Net, W: Any, *, backend: str = "numpy", dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Network outputs ``f`` (B, 2**n) and gradients ``J = grad_W f`` (B, 2**n, P) at every point of
    {+-1}^n, for weights ``W`` (B, P)."""
    name = select("cp.forward_jacobian", backend, dtype)
    dt = np.dtype(dtype)
    W = _check_weights(net, W, dt)
    return get_kernel("cp.forward_jacobian", name)(net, W)


@dataclass(frozen=True, eq=False)
class NoisyGDResult:
    """Per trial: final true / junk weights (B, P); ``g2[:, t-1] = E_{D_*} ||grad L(W*_{t-1})||^2`` and
    ``gmean[:, t-1] = ||E_{D_*} grad L(W*_{t-1})||`` along the junk trajectory (B, T); ``success``
    (1 when sign f_{W_T}(X) = F(X) at the fresh test input X, else 0; ``f >= 0`` predicts +1);
    ``accuracy`` (fraction of {+-1}^n where the sign agrees with F); ``f_test``; ``test_index``."""

    w: np.ndarray
    wj: np.ndarray
    g2: np.ndarray
    gmean: np.ndarray
    success: np.ndarray
    accuracy: np.ndarray
    f_test: np.ndarray
    test_index: np.ndarray
    backend: str


def noisy_gd(net: Net, W0: Any, masks: Any, loss: Any, gamma: Any, sigma: Any, T: int, *, seed: int,
             instance_ids: Any, backend: str = "numpy", dtype: Any = np.float64) -> NoisyGDResult:
    """Noisy population GD for T steps on true data (``F = chi_{masks[b]}``) and on junk data, per
    trial ``b``, with exact population gradients over {+-1}^n (see the module docstring)."""
    name = select("cp.noisy_gd", backend, dtype)
    dt = np.dtype(dtype)
    W0 = _check_weights(net, W0, dt)
    B = W0.shape[0]
    T = int(T)
    if T < 0 or T >= 1 << 31:
        raise ValueError(f"T must be in [0, 2**31), got {T}")
    masks = _per_trial(masks, B, np.int64, "masks")
    if np.any((masks < 0) | (masks >= 1 << net.n)):
        raise ValueError(f"masks must be in [0, 2**{net.n})")
    loss = _per_trial(loss, B, np.int64, "loss")
    if np.any((loss < 0) | (loss >= len(LOSSES))):
        raise ValueError("loss codes must be 0 (square) or 1 (correlation)")
    gamma = _per_trial(gamma, B, dt, "gamma")
    sigma = _per_trial(sigma, B, dt, "sigma")
    if not (np.all(np.isfinite(gamma.astype(float))) and np.all(sigma >= 0)):
        raise ValueError("gamma must be finite and sigma >= 0")
    ids = _per_trial(instance_ids, B, np.int64, "instance_ids")
    if np.any(ids < 0):
        raise ValueError("instance ids must be non-negative")
    seed = int(seed)
    out = get_kernel("cp.noisy_gd", name)(net, W0, masks, loss, gamma, sigma, T, seed, ids)
    return NoisyGDResult(backend=name, **{k: np.asarray(v) for k, v in out.items()})


def cp_enumerate(tables: Any, *, backend: str = "numpy") -> tuple[Fraction, Fraction]:
    """``(CP, printed)`` of the uniform distribution over the rows of ``tables`` (N, 2**n) with
    entries +-1: ``CP = E_{F,F'} (E_X F F')^2`` and the printed ``E_F (E_X F)^4`` (independent X'),
    both exact rationals: integer numerators (int64 sums of squared Gram entries) over ``N^2 4^n``
    and ``N 16^n``."""
    name = select("cp.enumerate", backend, np.float64)  # exact integer sums; the dtype is nominal
    t = np.ascontiguousarray(np.asarray(tables, dtype=np.int8))
    if t.ndim != 2 or t.shape[0] < 1:
        raise ValueError("tables must have shape (N, 2**n) with N >= 1")
    if not np.all(np.abs(t) == 1):
        raise ValueError("truth tables must have entries +-1")
    N, M = t.shape
    if M & (M - 1):
        raise ValueError("the number of inputs must be a power of two")
    num = int(get_kernel("cp.enumerate", name)(t))
    s = t.astype(np.int64).sum(axis=1)
    num4 = sum(int(x) ** 4 for x in s)
    return Fraction(num, N * N * M * M), Fraction(num4, N * M**4)


# --------------------------------------------------------------------------------------------------
# Sampled cross-predictability (n beyond exact enumeration)
# --------------------------------------------------------------------------------------------------

#: Largest n of the sampled CP estimator (inputs are the low n bits of a 32-bit Philox word).
MAX_SAMPLED_INPUTS = 30
#: Draw indices (per pair j = step) of the sampler: the block of the F, F' indices, then the input blocks.
PAIR_DRAW, X_DRAW = 0, 1


@cache
def _binomials(nmax: int = MAX_SAMPLED_INPUTS) -> np.ndarray:
    from math import comb  # noqa: PLC0415

    return np.asarray([[comb(a, b) for b in range(nmax + 1)] for a in range(nmax + 1)], dtype=np.int64)


def _class_count(kind: int, n: int, k: int) -> int:
    from math import comb  # noqa: PLC0415

    return {0: 1 << n, 1: comb(n, k), 2: n, 3: 1}[int(kind)]


def unrank_mask(kind: int, n: int, k: int, point: int, index: Any) -> np.ndarray:
    """Bit mask of function number ``index`` of the class (a bijection of ``[0, N)`` onto the class):
    parities: ``S = index``; dictators: ``S = {index}``; point mass: ``S = point``; degree-k parities:
    the combinatorial number system, ``index = sum_{i=1..k} C(c_i, i)`` with ``c_k > ... > c_1 >= 0``,
    ``S = {c_1, ..., c_k}``."""
    r = np.asarray(index, dtype=np.int64).copy()
    if kind == 0:
        return r
    if kind == 2:
        return np.left_shift(np.int64(1), r)
    if kind == 3:
        return np.full_like(r, point)
    C = _binomials()
    mask = np.zeros_like(r)
    c = np.full_like(r, n - 1)
    for i in range(k, 0, -1):
        # the largest c with C(c, i) <= r (c from n - 1 down; C(c, i) = 0 for c < i)
        while True:
            too_big = C[c, i] > r
            if not np.any(too_big):
                break
            c = np.where(too_big, c - 1, c)
        mask |= np.left_shift(np.int64(1), c)
        r = r - C[c, i]
        c = c - 1
    return mask


def cp_sample(kind: Any, n: int, k: Any, point: Any, pairs: int, inputs: int, *, seed: int, instance_ids: Any,
              backend: str = "numpy") -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo sums for the cross-predictability of a class of parities on {+-1}^n (P_F uniform).

    ``kind`` (0 parities, 1 degree-k parities, 2 dictators, 3 point mass), ``k`` and ``point`` are
    scalars or one per instance id.  Per instance id and pair ``j = 0..pairs-1``: ``F``, ``F'`` drawn
    independently and uniformly from the class (indices ``floor(X N / 2**64)`` with the 64-bit ``X``
    from words (x0, x1), resp. (x2, x3), of Philox block ``(seed, id, j, PAIR_DRAW)`` --
    :func:`kernels.rng.randint`'s map, each index has probability within ``2**-64`` of ``1/N`` -- then
    :func:`unrank_mask`), ``inputs`` inputs ``X_1..X_L`` uniform on {+-1}^n (the low n bits of the
    words of Philox blocks ``(seed, id, j, X_DRAW + q)``, four inputs per block: exactly uniform),
    ``T = sum_l F(X_l) F'(X_l)`` and ``u_j = T^2 - L``.  ``u_j / (L (L - 1))`` is the unbiased
    U-statistic of ``(E_X F F')^2`` given the pair, so ``E u_j / (L (L - 1)) = CP``; it lies in
    ``[-1/(L-1), 1]``.

    Returns ``(sum_j u_j, sum_j u_j^2)`` per instance, exact int64 (identical on every backend)."""
    name = select("cp.sample", backend, np.float64)  # exact integer sums; the dtype is nominal
    ids = np.ascontiguousarray(np.asarray(instance_ids, dtype=np.int64).reshape(-1))
    B = ids.shape[0]
    n, pairs, inputs = int(n), int(pairs), int(inputs)
    kind, k, point = (np.ascontiguousarray(np.broadcast_to(np.asarray(v, dtype=np.int64), (B,))) for v in (kind, k, point))
    if np.any(ids < 0):
        raise ValueError("instance ids must be non-negative")
    if not 1 <= n <= MAX_SAMPLED_INPUTS:
        raise ValueError(f"n must be in [1, {MAX_SAMPLED_INPUTS}], got {n}")
    if np.any((kind < 0) | (kind > 3)):
        raise ValueError("kind must be 0 (parities), 1 (k-parities), 2 (dictators) or 3 (point mass)")
    if np.any((kind == 1) & ((k < 1) | (k > n))):
        raise ValueError("degree k outside [1, n]")
    if np.any((kind == 3) & ((point < 0) | (point >= 1 << n))):
        raise ValueError("point-mass mask out of range")
    if pairs < 2 or inputs < 4 or inputs % 4:
        raise ValueError("need pairs >= 2 and inputs a positive multiple of 4")
    N = np.asarray([_class_count(c, n, kk) for c, kk in zip(kind.tolist(), k.tolist())], dtype=np.int64)
    return get_kernel("cp.sample", name)(kind, n, k, point, pairs, inputs, int(seed), ids, N)
