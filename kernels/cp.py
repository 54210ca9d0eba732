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
  on the NumPy and numba backends (CuPy falls back to the NumPy reference on the host).

Losses (``loss`` codes): 0 square ``L(f, y) = (f - y)^2 / 2`` (``dL/df = f - y``); 1 correlation
``L(f, y) = -y f`` (``dL/df = -y``).  Activations (``act`` codes): 0 identity, 1 tanh.

Random numbers (:mod:`kernels.rng`, key ``(seed, instance id, step, draw)``): the noise of step
``t = 1..T`` is ``normal(seed, id, t, p)`` for parameter ``p`` on the true trajectory and
``normal(seed, id, t, JUNK_DRAW + p)`` on the junk one; the fresh test input is
``randint(seed, id, 0, TEST_DRAW, 2**n)`` (step 0 carries no noise).  Which function ``F`` a trial
trains on is chosen by the caller (its mask is an argument).

Backends: ``"numpy"`` (reference, vectorised over batch and inputs; runs in ``np.longdouble``),
``"numba"`` (:mod:`kernels._cp_numba`, ``prange`` over the batch, float64), ``"cupy"`` (the reference
arithmetic on CuPy arrays with the noise from the Philox CUDA source; imported only when asked for).
Results agree to rounding across backends (sums are accumulated in different orders); the noise is
bit-for-bit identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

import numpy as np

from . import rng as _rng

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


def _check_backend(backend: str, dtype: Any) -> tuple[str, np.dtype]:
    from . import resolve_backend  # noqa: PLC0415 - avoid an import cycle at package import

    name = resolve_backend(backend)
    dt = np.dtype(dtype)
    if name != "numpy" and dt != np.dtype(np.float64):
        raise ValueError(f"backend {name!r} computes in float64 only, got {dt}; use backend='numpy' for {dt}")
    if dt not in (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.longdouble)):
        raise ValueError(f"unsupported dtype {dt}")
    return name, dt


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
# Reference (NumPy; xp may be CuPy)
# --------------------------------------------------------------------------------------------------


def _act(z: Any, code: int, xp: Any) -> tuple[Any, Any]:
    if code == 1:
        a = xp.tanh(z)
        return a, 1 - a * a
    return z, xp.ones_like(z)


def _ref_forward_jacobian(net: Net, W: Any, X: Any, xp: Any = np) -> tuple[Any, Any]:
    """f (B, M) and J (B, M, P) at the points X (M, n) for weights W (B, P)."""
    B = W.shape[0]
    M = X.shape[0]
    dt = W.dtype
    a = xp.zeros((B, M, net.nodes), dtype=dt)
    a[:, :, : net.n] = X[None, :, :]
    a[:, :, net.n] = 1
    dact = xp.zeros((B, M, net.nodes), dtype=dt)
    for j, v in enumerate(net.order.tolist()):
        lo, hi = int(net.ptr[j]), int(net.ptr[j + 1])
        src = net.src[lo:hi].tolist()
        z = xp.zeros((B, M), dtype=dt)
        for e, s in zip(range(lo, hi), src):
            z = z + W[:, e][:, None] * a[:, :, s]
        a[:, :, v], dact[:, :, v] = _act(z, int(net.act[v]), xp)
    ga = xp.zeros((B, M, net.nodes), dtype=dt)
    ga[:, :, net.output] = 1
    J = xp.zeros((B, M, net.P), dtype=dt)
    for j in range(len(net.order) - 1, -1, -1):
        v = int(net.order[j])
        dz = ga[:, :, v] * dact[:, :, v]
        for e in range(int(net.ptr[j]), int(net.ptr[j + 1])):
            s = int(net.src[e])
            J[:, :, e] = dz * a[:, :, s]
            if s > net.n:
                ga[:, :, s] = ga[:, :, s] + W[:, e][:, None] * dz
    return a[:, :, net.output], J


def _ref_population(net: Net, W: Any, X: Any, F: Any, loss: Any, xp: Any) -> tuple[Any, ...]:
    """True gradient E_x L'(f, F) J, junk gradient E_{x,y} L'(f, y) J, junk E_{x,y} L'^2 ||J||^2."""
    f, J = _ref_forward_jacobian(net, W, X, xp)
    M = X.shape[0]
    lc = loss[:, None]
    dF = xp.where(lc == 0, f - F, -F)
    dp = xp.where(lc == 0, f - 1, -xp.ones_like(f))
    dm = xp.where(lc == 0, f + 1, xp.ones_like(f))
    g_true = (dF[:, :, None] * J).sum(axis=1) / M
    g_junk = ((0.5 * (dp + dm))[:, :, None] * J).sum(axis=1) / M
    j2 = (J * J).sum(axis=2)
    g2_junk = (0.5 * (dp * dp + dm * dm) * j2).sum(axis=1) / M
    return g_true, g_junk, g2_junk


def _ref_noisy_gd(net, W0, masks, loss, gamma, sigma, T, seed, ids, xp=np, noise=None):
    B, P = W0.shape
    n = net.n
    dt = W0.dtype
    X = xp.asarray(cube_points(n, dt))
    table = xp.asarray(parity_table(np.asarray(masks if xp is np else masks.get()), n).astype(dt))  # (B, M)
    noise = noise or (lambda t, off: xp.asarray(_rng.normal(seed, np.asarray(ids)[:, None], t,
                                                            off + np.arange(P)[None, :]).astype(dt)))
    w = W0.copy()
    wj = W0.copy()
    g2 = xp.zeros((B, T), dtype=dt)
    gm = xp.zeros((B, T), dtype=dt)
    for t in range(1, T + 1):
        g_true, _, _ = _ref_population(net, w, X, table, loss, xp)
        _, gj, g2j = _ref_population(net, wj, X, table, loss, xp)
        g2[:, t - 1] = g2j
        gm[:, t - 1] = xp.sqrt((gj * gj).sum(axis=1))
        w = w - gamma[:, None] * g_true + sigma[:, None] * noise(t, 0)
        wj = wj - gamma[:, None] * gj + sigma[:, None] * noise(t, JUNK_DRAW)
    xi = _rng.randint(seed, np.asarray(ids), 0, TEST_DRAW, 1 << n)
    f_all, _ = _ref_forward_jacobian(net, w, X, xp)
    rows = xp.arange(B)
    xi_d = xp.asarray(xi)
    f_test = f_all[rows, xi_d]
    y_test = table[rows, xi_d]
    pred = xp.where(f_test >= 0, 1, -1).astype(dt)
    success = (pred == y_test).astype(dt)
    pred_all = xp.where(f_all >= 0, 1, -1).astype(dt)
    accuracy = (pred_all == table).astype(dt).mean(axis=1)
    return {"w": w, "wj": wj, "g2": g2, "gmean": gm, "success": success, "accuracy": accuracy,
            "f_test": f_test, "test_index": xi}


# --------------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------------


def forward_jacobian(net: Net, W: Any, *, backend: str = "numpy", dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Network outputs ``f`` (B, 2**n) and gradients ``J = grad_W f`` (B, 2**n, P) at every point of
    {+-1}^n, for weights ``W`` (B, P)."""
    name, dt = _check_backend(backend, dtype)
    W = _check_weights(net, W, dt)
    if name == "numba":
        from . import _cp_numba  # noqa: PLC0415

        return _cp_numba.forward_jacobian(net.src, net.order, net.ptr, net.act, net.n, net.nodes, W)
    if name == "cupy":
        cp = _cupy()
        f, J = _ref_forward_jacobian(net, cp.asarray(W), cp.asarray(cube_points(net.n, dt)), cp)
        return cp.asnumpy(f), cp.asnumpy(J)
    return _ref_forward_jacobian(net, W, cube_points(net.n, dt))


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
    name, dt = _check_backend(backend, dtype)
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
    if name == "numba":
        from . import _cp_numba  # noqa: PLC0415

        out = _cp_numba.noisy_gd(net.src, net.order, net.ptr, net.act, net.n, net.nodes, W0, masks, loss,
                                 gamma, sigma, T, np.uint64(seed), ids.astype(np.uint64), JUNK_DRAW, TEST_DRAW)
    elif name == "cupy":
        out = _cupy_noisy_gd(net, W0, masks, loss, gamma, sigma, T, seed, ids)
    else:
        out = _ref_noisy_gd(net, W0, masks, loss, gamma, sigma, T, seed, ids)
    return NoisyGDResult(backend=name, **{k: np.asarray(v) for k, v in out.items()})


def cp_enumerate(tables: Any, *, backend: str = "numpy") -> tuple[Fraction, Fraction]:
    """``(CP, printed)`` of the uniform distribution over the rows of ``tables`` (N, 2**n) with
    entries +-1: ``CP = E_{F,F'} (E_X F F')^2`` and the printed ``E_F (E_X F)^4`` (independent X'),
    both exact rationals: integer numerators (int64 sums of squared Gram entries) over ``N^2 4^n``
    and ``N 16^n``."""
    t = np.ascontiguousarray(np.asarray(tables, dtype=np.int8))
    if t.ndim != 2 or t.shape[0] < 1:
        raise ValueError("tables must have shape (N, 2**n) with N >= 1")
    if not np.all(np.abs(t) == 1):
        raise ValueError("truth tables must have entries +-1")
    N, M = t.shape
    if M & (M - 1):
        raise ValueError("the number of inputs must be a power of two")
    if backend == "numba":
        from . import _cp_numba  # noqa: PLC0415

        num = int(_cp_numba.gram_square_sum(t))
    else:
        # Exact in float64 (BLAS): Gram entries are integers |G| <= M <= 2**12, their squares <= 2**24,
        # and every partial sum of N^2 <= 2**26 of them is an integer below 2**50 < 2**53.
        if N * N * M * M >= 1 << 52:
            raise ValueError("class too large for exact float64 accumulation")
        tf = t.astype(np.float64)
        G = tf @ tf.T
        num = int(np.rint((G * G).sum(axis=1)).astype(np.int64).sum())
    s = t.astype(np.int64).sum(axis=1)
    num4 = sum(int(x) ** 4 for x in s)
    return Fraction(num, N * N * M * M), Fraction(num4, N * M**4)


# --------------------------------------------------------------------------------------------------
# CuPy
# --------------------------------------------------------------------------------------------------

_CUDA_NOISE = r"""
#ifndef TC_CP_ID
#define TC_CP_ID ((long long)blockIdx.x * (long long)blockDim.x + (long long)threadIdx.x)
#endif
extern "C" __global__ void tc_cp_noise(const unsigned long long* __restrict__ ids, double* __restrict__ out,
                                       unsigned long long seed, unsigned int step, unsigned int offset,
                                       long long B, int P) {
    long long k = TC_CP_ID;
    if (k >= B * (long long)P) return;
    long long b = k / P;
    int p = (int)(k % P);
    out[k] = tc_normal(seed, ids[b], step, offset + (unsigned int)p);
}
"""


def cuda_noise_source(prelude: str = "") -> str:
    """CUDA source of the noise kernel (the Philox device functions of :mod:`kernels.rng` first);
    ``prelude`` may define ``TC_CP_ID`` (the thread's flat index) for a CPU emulation."""
    return prelude + _rng.CUDA_SOURCE + _CUDA_NOISE


def _cupy() -> Any:
    import cupy  # noqa: PLC0415 - only when the CuPy backend is asked for

    return cupy


@cache
def _noise_kernel() -> Any:
    cp = _cupy()
    return cp.RawModule(code=cuda_noise_source(), options=("--fmad=false",)).get_function("tc_cp_noise")


def _cupy_noisy_gd(net, W0, masks, loss, gamma, sigma, T, seed, ids):
    cp = _cupy()
    B, P = W0.shape
    ids_d = cp.asarray(ids.astype(np.uint64))

    def noise(t: int, off: int):
        out = cp.empty((B, P), dtype=cp.float64)
        threads = 128
        blocks = (B * P + threads - 1) // threads
        _noise_kernel()((blocks,), (threads,), (ids_d, out, np.uint64(seed), np.uint32(t), np.uint32(off),
                                                 np.int64(B), np.int32(P)))
        return out

    out = _ref_noisy_gd(net, cp.asarray(W0), cp.asarray(masks), cp.asarray(loss), cp.asarray(gamma),
                        cp.asarray(sigma), T, seed, ids, xp=cp, noise=noise)
    return {k: (cp.asnumpy(v) if hasattr(v, "get") else v) for k, v in out.items()}


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


def _parity_bits(v: np.ndarray) -> np.ndarray:
    v = v.copy()
    for s in (16, 8, 4, 2, 1):
        v ^= v >> s
    return v & 1


def _ref_cp_sample(kind, n, k, point, pairs, inputs, seed, ids):
    B = ids.shape[0]
    N = _class_count(kind, n, k)
    j = np.arange(pairs, dtype=np.uint64)[None, :]
    inst = ids.astype(np.uint64)[:, None]
    x0, x1, x2, x3 = _rng._block(seed, inst, j, PAIR_DRAW)
    nn = np.uint64(N)
    s32 = np.uint64(32)
    # floor((hi 2**32 + lo) N / 2**64), as kernels.rng.randint, on words (x0, x1) and (x2, x3)
    a = unrank_mask(kind, n, k, point, ((x0 * nn + ((x1 * nn) >> s32)) >> s32).astype(np.int64))
    b = unrank_mask(kind, n, k, point, ((x2 * nn + ((x3 * nn) >> s32)) >> s32).astype(np.int64))
    s = (a ^ b).astype(np.int64)
    T = np.zeros((B, pairs), dtype=np.int64)
    low = np.int64((1 << n) - 1)
    for q in range(inputs // 4):
        words = _rng._block(seed, inst, j, X_DRAW + q)
        for w in words:
            x = w.astype(np.int64) & low
            T += 1 - 2 * _parity_bits(s & x)
    u = T * T - inputs
    return u.sum(axis=1), (u * u).sum(axis=1)


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
    name = _check_backend(backend, np.float64)[0]
    if name == "numba":
        from . import _cp_numba  # noqa: PLC0415

        return _cp_numba.cp_sample(kind, n, k, point, pairs, inputs, np.uint64(int(seed)), ids.astype(np.uint64),
                                   _binomials(), N, PAIR_DRAW, X_DRAW)
    # NumPy (CuPy too: the sums are integers from the same bits, computed on the host), per class.
    s1 = np.zeros(B, dtype=np.int64)
    s2 = np.zeros(B, dtype=np.int64)
    for key in sorted(set(zip(kind.tolist(), k.tolist(), point.tolist()))):
        rows = np.flatnonzero((kind == key[0]) & (k == key[1]) & (point == key[2]))
        s1[rows], s2[rows] = _ref_cp_sample(key[0], n, key[1], key[2], pairs, inputs, int(seed), ids[rows])
    return s1, s2
