"""A small LayerNorm + ReLU network as problem arrays (Lemma 13.2.2 of the seed's chapter 13).

A network is described as a directed acyclic graph of layers (a ``networkx.DiGraph``, built and compiled
in :mod:`numeric.scale_invariant_nets`: kernels import no graph library) and arrives here compiled to the
flat layout the kernels run, a :class:`CompiledNet`:

* ``ops`` (n_ops, 6) int64 rows ``[code, in_off, out_off, width_in, width_out, param_off]`` in
  topological order, where ``in_off`` / ``out_off`` index a flat activation buffer and ``param_off`` a
  flat parameter vector; codes: 1 linear (``y = W x``, W row-major ``width_out x width_in``), 2
  layernorm without epsilon (``y = (z - mean z)/std z``), 3 affine (``y = gamma * x + beta``), 4 relu;
* ``trainable`` (P,) bool: which parameters are trained (the others are frozen);
* ``degree`` (n_ops,) the homogeneity degree of each node's output in the trainable parameters (scaled
  jointly by c > 0), propagated along the graph: a trainable linear layer adds 1, layernorm resets to
  0, an affine layer needs a 0-homogeneous input and gives 1 (trainable) or 0 (frozen), relu keeps it.
  A graph where a node is not homogeneous is rejected.

The network's output is one scalar per data point (the last node has width 1); the loss over data
``(X_i, y_i)`` is ``L = (1/n) sum_i softplus(-y_i out_i)``.  :class:`LayerNormNet` holds a batch of B
networks sharing one graph: ``theta`` (B, P) (the frozen values; trainable entries are replaced by the
point w), ``X`` (B, n, d_in) and ``y`` (B, n).  Entry point: :func:`layernorm_value_grad` (forward,
gradient in the trainable parameters, the per-node activations and rounding magnitudes), with a NumPy
reference (:mod:`kernels.layernorm.reference`, runs in ``np.longdouble``) and a numba kernel
(:mod:`kernels.layernorm.numba`, ``prange`` over the batch), chosen by :func:`kernels.backend.select`;
there is no CuPy kernel (asking for one raises :class:`kernels.BackendUnavailable`).

Rounding magnitudes (``fabs``, ``gabs``): the forward and backward passes re-run on absolute values
(``|W| |x|`` for a linear layer, ``(|z| + mean |z| + |y| mean(|c| |z|)/std)/std`` for layernorm; one
magnitude factor per term, first order), with a
count of the floating-point operations along the path; the loss's rounding is below ``eps * fabs`` and
each gradient entry's below ``eps * gabs`` to first order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import KernelImpl, get_kernel, select
from ..ridge.problems import ProblemError

__all__ = ["LINEAR", "LAYERNORM", "AFFINE", "RELU", "CODES", "CompiledNet", "LayerNormNet", "layernorm_value_grad",
           "NetEval", "node_counts"]

LINEAR, LAYERNORM, AFFINE, RELU = 1, 2, 3, 4
CODES = {"linear": LINEAR, "layernorm": LAYERNORM, "affine": AFFINE, "relu": RELU}

#: This family's implementations (registered through the ``thmcheck.kernels`` entry point ``layernorm``).
KERNELS: tuple[KernelImpl, ...] = (
    KernelImpl("layernorm.value_grad", "numpy", ("float32", "float64", "longdouble"),
               "kernels.layernorm.reference:value_grad_kernel"),
    KernelImpl("layernorm.value_grad", "numba", ("float64",), "kernels.layernorm.numba:value_grad_kernel"),
)


@dataclass(frozen=True, eq=False)
class CompiledNet:
    """The flat layout of a network graph (see the module docstring)."""

    ops: np.ndarray
    trainable: np.ndarray
    degree: np.ndarray
    names: tuple[str, ...]  # node names, in the order of ``ops``
    d_in: int
    n_act: int  # length of the activation buffer

    @property
    def n_params(self) -> int:
        return int(self.trainable.size)

    @property
    def train_index(self) -> np.ndarray:
        return np.flatnonzero(self.trainable)


@dataclass(frozen=True, eq=False)
class LayerNormNet:
    """B networks with one compiled layout: parameters ``theta`` (B, P), data ``X`` (B, n, d_in), labels
    ``y`` (B, n) in {-1, +1}.  The point of the loss is the trainable part of theta."""

    net: CompiledNet
    theta: np.ndarray
    X: np.ndarray
    y: np.ndarray

    def astype(self, dtype: Any) -> "LayerNormNet":
        return LayerNormNet(self.net, *(np.asarray(a, dtype=dtype) for a in (self.theta, self.X, self.y)))

    @property
    def dim(self) -> int:
        return int(self.net.trainable.sum())

    @property
    def size(self) -> int:
        return int(self.theta.shape[0])


@dataclass(frozen=True, eq=False)
class NetEval:
    """Per network: ``f`` (B,) the loss, ``grad`` (B, dim) its gradient in the trainable parameters,
    ``acts`` (B, n, n_act) every node's output, ``fabs`` (B,) and ``gabs`` (B, dim) rounding magnitudes."""

    f: np.ndarray
    grad: np.ndarray
    acts: np.ndarray
    fabs: np.ndarray
    gabs: np.ndarray
    mags: np.ndarray  # (B, n, n_act) the activations' magnitudes (|terms|)
    backend: str


def layernorm_value_grad(problem: LayerNormNet, w: Any, *, backend: str = "auto", dtype: Any = np.float64) -> NetEval:
    """Loss, gradient in the trainable parameters, activations and rounding magnitudes at the points w
    (B, dim) (the trainable entries of ``problem.theta`` replaced by w)."""
    name = select("layernorm.value_grad", backend, dtype)
    dt = np.dtype(dtype)
    net = problem.net
    theta = np.array(problem.theta, dtype=dt)
    X = np.asarray(problem.X, dtype=dt)
    y = np.asarray(problem.y, dtype=dt)
    w = np.asarray(w, dtype=dt)
    B = theta.shape[0]
    idx = net.train_index
    if theta.shape != (B, net.n_params) or w.shape != (B, idx.size) or X.shape[0] != B or X.shape[2] != net.d_in \
            or y.shape != X.shape[:2]:
        raise ProblemError(f"shapes: theta {theta.shape}, w {w.shape}, X {X.shape}, y {y.shape} do not fit the net "
                           f"({net.n_params} parameters, {idx.size} trainable, d_in = {net.d_in})")
    theta[:, idx] = w
    f, g, a, fa, ga, mg = get_kernel("layernorm.value_grad", name)(net.ops, theta, X, y, net.n_act)
    return NetEval(f, g[:, idx], a, fa, ga[:, idx], mg, name)


def node_counts(net: CompiledNet) -> tuple[np.ndarray, np.ndarray]:
    """Per activation entry (n_act,): the operation count along its path (the rounding magnitudes'
    factor) and its homogeneity degree (0 for the input)."""
    cnt = np.zeros(net.n_act)
    deg = np.zeros(net.n_act, dtype=np.int64)
    for (code, i0, o0, wi, wo, _), d in zip(net.ops, net.degree):
        base = cnt[i0:i0 + wi].max()
        inc = {LINEAR: wi + 1, LAYERNORM: 2 * wi + 8, AFFINE: 2}.get(int(code), 0)
        cnt[o0:o0 + wo] = cnt[i0:i0 + wi] if code == RELU else base + inc
        deg[o0:o0 + wo] = d
    return cnt, deg
