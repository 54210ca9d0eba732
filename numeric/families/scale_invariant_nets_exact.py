"""Certified membership check (:attr:`numeric.api.InstanceClass.member_exact`) of ``layernorm_net`` and
``layernorm_net_trainable_top``.

Membership of a LayerNorm + ReLU network: the graph's structure (for ``layernorm_net``: no trainable
parameter after the last layernorm and output degree 0 in the trainable parameters; integer facts of the
compiled op table, exact), labels exactly +-1, finite parameters and data, a nonzero finite start w0 of the
trainable parameters' length, ``d`` their number, and a *defined* loss: a layernorm without epsilon divides by
the standard deviation of its input, so every layernorm input must be a non-constant vector at every data
point.  The last condition is decided at w0 (the trainable entries of theta replaced by w0) by a forward pass
in mpmath interval arithmetic (layernorm needs a square root): the variance's enclosure must be positive.  It
then holds at every ``c w0``, c > 0, too: the compiled graph makes each layernorm input homogeneous of a
degree k in the trainable parameters, so the input at ``c w0`` is ``c^k`` times the one at w0.  The interval
pass makes the method "extended".
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from kernels.layernorm import AFFINE, LAYERNORM, LINEAR

from ..api import InstanceBatch, Membership

__all__ = ["frozen_tail_reason", "layernorm_member_exact", "layernorm_any_tail_member_exact"]

_PREC = 160


def frozen_tail_reason(net: Any) -> str:
    """Why the compiled net breaks Lemma 13.2.2's hypothesis (a trainable parameter after the last layernorm,
    or an output of nonzero degree in the trainable parameters); "" when it does not."""
    ops = net.ops
    last_ln = max(r for r in range(len(ops)) if ops[r, 0] == LAYERNORM)
    after = np.zeros(net.n_params, dtype=bool)
    for code, _, _, wi, wo, p0 in ops[last_ln + 1:]:
        size = wi * wo if code == LINEAR else (2 * wi if code == AFFINE else 0)
        after[p0:p0 + size] = True
    if np.any(net.trainable & after):
        return "a parameter after the last layernorm is trainable"
    if int(net.degree[-1]) != 0:
        return f"the output has degree {int(net.degree[-1])} in the trainable parameters, not 0"
    return ""


def _relu(x: Any) -> Any:
    from mpmath import iv

    if x.a >= 0:
        return x
    if x.b <= 0:
        return iv.mpf(0)
    return iv.mpf([0, x.b])


def _degenerate_layernorm(ops: np.ndarray, theta: np.ndarray, X: np.ndarray, n_act: int) -> str:
    """"" when every layernorm input has a certainly positive variance at every data point, else why not."""
    from mpmath import iv

    th = [iv.mpf(float(v)) for v in theta]
    for j, xrow in enumerate(X):
        a: list[Any] = [iv.mpf(0)] * n_act
        a[:len(xrow)] = [iv.mpf(float(v)) for v in xrow]
        for r, row in enumerate(ops):
            code, i0, o0, wi, wo, p0 = (int(v) for v in row)  # Python ints: mpmath does not take numpy's
            x = a[i0:i0 + wi]
            if code == LINEAR:
                out = [sum((th[p0 + o * wi + i] * x[i] for i in range(wi)), iv.mpf(0)) for o in range(wo)]
            elif code == LAYERNORM:
                mean = sum(x, iv.mpf(0)) / wi
                c = [v - mean for v in x]
                var = sum((v * v for v in c), iv.mpf(0)) / wi
                if not (var > 0) is True:
                    return f"the input of layernorm op {r} is (or may be) constant at data point {j}: its variance " \
                           "is not certainly positive, the loss is undefined there"
                s = iv.sqrt(var)
                out = [v / s for v in c]
            elif code == AFFINE:
                out = [th[p0 + i] * x[i] + th[p0 + wi + i] for i in range(wi)]
            else:
                out = [_relu(v) for v in x]
            a[o0:o0 + wo] = out
    return ""


def _check(batch: InstanceBatch, structure: bool) -> Membership:
    m = "extended"
    P = batch.problem
    net = P.net
    if structure:
        why = frozen_tail_reason(net)
        if why:
            return Membership(False, m, why)
    theta = np.asarray(P.theta, dtype=np.float64)[0]
    X = np.asarray(P.X, dtype=np.float64)[0]
    y = np.asarray(P.y, dtype=np.float64)[0]
    w0 = np.asarray(batch.w0, dtype=np.float64).reshape(np.asarray(batch.w0).shape[0], -1)[0]
    idx = net.train_index
    if not np.all(np.abs(y) == 1.0):
        return Membership(False, m, "labels must be +-1")
    if not (np.all(np.isfinite(theta)) and np.all(np.isfinite(X)) and np.all(np.isfinite(w0))):
        return Membership(False, m, "non-finite parameters, data or start")
    if w0.shape[0] != idx.size or not np.any(w0 != 0):
        return Membership(False, m, f"w0 must be a nonzero vector of the {idx.size} trainable parameters")
    if "d" in batch.attrs:
        d = float(np.asarray(batch.attrs["d"], dtype=np.float64).reshape(-1)[0])
        if not (math.isfinite(d) and d == idx.size):
            return Membership(False, m, f"d = {d!r} is not the number of trainable parameters {idx.size}")
    full = theta.copy()
    full[idx] = w0
    from mpmath import iv

    old = iv.prec
    iv.prec = _PREC
    try:
        why = _degenerate_layernorm(net.ops, full, X, int(net.n_act))
    finally:
        iv.prec = old
    return Membership(not why, m, why)


def layernorm_member_exact(batch: InstanceBatch) -> Membership:
    """``layernorm_net``: the frozen-tail structure, the data conditions and a defined loss (module docstring)."""
    return _check(batch, structure=True)


def layernorm_any_tail_member_exact(batch: InstanceBatch) -> Membership:
    """``layernorm_net_trainable_top``: the data conditions and a defined loss, any tail."""
    return _check(batch, structure=False)
