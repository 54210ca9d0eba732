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
reference (runs in ``np.longdouble``) and a numba kernel (``prange`` over the batch).

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

__all__ = ["LINEAR", "LAYERNORM", "AFFINE", "RELU", "CODES", "CompiledNet", "LayerNormNet", "layernorm_value_grad",
           "NetEval", "node_counts"]

LINEAR, LAYERNORM, AFFINE, RELU = 1, 2, 3, 4
CODES = {"linear": LINEAR, "layernorm": LAYERNORM, "affine": AFFINE, "relu": RELU}


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


def _reference(ops, theta, X, y, n_act):
    """Forward and backward pass with magnitudes, vectorised over (B, n); any float dtype."""
    B, n, d_in = X.shape
    dt = theta.dtype
    a = np.zeros((B, n, n_act), dtype=dt)
    m = np.zeros((B, n, n_act), dtype=dt)  # magnitudes (|terms|) of each activation
    cnt = np.zeros(n_act)  # operation counts along the path
    a[:, :, :d_in] = X
    m[:, :, :d_in] = np.abs(X)
    sig = {}
    for r, (code, i0, o0, wi, wo, p0) in enumerate(ops):
        x, mx = a[:, :, i0:i0 + wi], m[:, :, i0:i0 + wi]
        if code == LINEAR:
            W = theta[:, p0:p0 + wo * wi].reshape(B, wo, wi)
            a[:, :, o0:o0 + wo] = np.einsum("boi,bni->bno", W, x)
            m[:, :, o0:o0 + wo] = np.einsum("boi,bni->bno", np.abs(W), mx)
            cnt[o0:o0 + wo] = cnt[i0:i0 + wi].max() + wi + 1
        elif code == LAYERNORM:
            c = x - x.mean(axis=-1, keepdims=True)
            s = np.sqrt((c * c).mean(axis=-1, keepdims=True))
            yv = c / s
            sig[r] = s
            a[:, :, o0:o0 + wo] = yv
            mc = mx + mx.mean(axis=-1, keepdims=True)
            m[:, :, o0:o0 + wo] = (mc + np.abs(yv) * (mc * np.abs(c)).mean(axis=-1, keepdims=True) / s) / s
            cnt[o0:o0 + wo] = cnt[i0:i0 + wi].max() + 2 * wi + 8
        elif code == AFFINE:
            gm, bt = theta[:, None, p0:p0 + wi], theta[:, None, p0 + wi:p0 + 2 * wi]
            a[:, :, o0:o0 + wo] = gm * x + bt
            m[:, :, o0:o0 + wo] = np.abs(gm) * mx + np.abs(bt)
            cnt[o0:o0 + wo] = cnt[i0:i0 + wi].max() + 2
        else:
            a[:, :, o0:o0 + wo] = np.maximum(x, 0.0)
            m[:, :, o0:o0 + wo] = mx
            cnt[o0:o0 + wo] = cnt[i0:i0 + wi]
    o0 = ops[-1][2]
    out, mout = a[:, :, o0], m[:, :, o0]
    z = -y * out
    sp = np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))
    sg = np.exp(z - sp)
    f = sp.mean(axis=1)
    total = cnt[o0] + n + 4
    fabs = (sp + sg * total * mout).mean(axis=1)
    # backward (values and magnitudes)
    da = np.zeros_like(a)
    dm = np.zeros_like(a)
    da[:, :, o0] = -y * sg / n
    dm[:, :, o0] = sg / n
    gth = np.zeros_like(theta)
    gmag = np.zeros_like(theta)
    for r in range(len(ops) - 1, -1, -1):
        code, i0, o0, wi, wo, p0 = ops[r]
        x, mx = a[:, :, i0:i0 + wi], m[:, :, i0:i0 + wi]
        dy, mdy = da[:, :, o0:o0 + wo], dm[:, :, o0:o0 + wo]
        if code == LINEAR:
            W = theta[:, p0:p0 + wo * wi].reshape(B, wo, wi)
            gth[:, p0:p0 + wo * wi] = np.einsum("bno,bni->boi", dy, x).reshape(B, -1)
            gmag[:, p0:p0 + wo * wi] = np.einsum("bno,bni->boi", mdy, mx).reshape(B, -1)
            da[:, :, i0:i0 + wi] += np.einsum("boi,bno->bni", W, dy)
            dm[:, :, i0:i0 + wi] += np.einsum("boi,bno->bni", np.abs(W), mdy)
        elif code == LAYERNORM:
            yv, s = a[:, :, o0:o0 + wo], sig[r]
            da[:, :, i0:i0 + wi] += (dy - dy.mean(axis=-1, keepdims=True)
                                     - yv * (dy * yv).mean(axis=-1, keepdims=True)) / s
            my, ay, ady = m[:, :, o0:o0 + wo], np.abs(yv), np.abs(dy)
            dm[:, :, i0:i0 + wi] += (mdy + mdy.mean(axis=-1, keepdims=True) + ay * (mdy * ay).mean(axis=-1, keepdims=True)
                                     + my * (ady * ay).mean(axis=-1, keepdims=True)
                                     + ay * (ady * my).mean(axis=-1, keepdims=True)) / s
        elif code == AFFINE:
            gm = theta[:, None, p0:p0 + wi]
            gth[:, p0:p0 + wi] = (dy * x).sum(axis=1)
            gth[:, p0 + wi:p0 + 2 * wi] = dy.sum(axis=1)
            gmag[:, p0:p0 + wi] = (mdy * mx).sum(axis=1)
            gmag[:, p0 + wi:p0 + 2 * wi] = mdy.sum(axis=1)
            da[:, :, i0:i0 + wi] += gm * dy
            dm[:, :, i0:i0 + wi] += np.abs(gm) * mdy
        else:
            da[:, :, i0:i0 + wi] += np.where(x > 0, dy, 0.0)
            dm[:, :, i0:i0 + wi] += mdy
    return f, gth, a, fabs, gmag * (2 * total + n), m


def layernorm_value_grad(problem: LayerNormNet, w: Any, *, backend: str = "auto", dtype: Any = np.float64) -> NetEval:
    """Loss, gradient in the trainable parameters, activations and rounding magnitudes at the points w
    (B, dim) (the trainable entries of ``problem.theta`` replaced by w)."""
    from . import ProblemError, resolve_backend

    name = resolve_backend(backend)
    dt = np.dtype(dtype)
    if name != "numpy" and dt != np.dtype(np.float64):
        raise ProblemError(f"backend {name!r} computes in float64 only, not {dt}")
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
    if name == "cupy":
        raise ProblemError("the layernorm network has no CuPy kernel; use backend='numpy' or 'numba'")
    if name == "numpy":
        f, g, a, fa, ga, mg = _reference(net.ops, theta, X, y, net.n_act)
    else:
        from ._layernorm_numba import forward_backward

        n = X.shape[1]
        f, fa = np.zeros(B), np.zeros(B)
        g, ga = np.zeros_like(theta), np.zeros_like(theta)
        a = np.zeros((B, n, net.n_act))
        mg = np.zeros((B, n, net.n_act))
        forward_backward(net.ops, np.ascontiguousarray(theta), np.ascontiguousarray(X), np.ascontiguousarray(y),
                         net.n_act, f, g, a, fa, ga, mg)
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
