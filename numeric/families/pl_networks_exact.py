"""Exact (or extended) membership of the small-network classes of :mod:`numeric.families.pl_networks`.

``rsi_leaky_glm`` is decided exactly.  With ``f(w) = 1/2 ||v sigma(X w) - y||^2`` (the stored problem:
one leaky-ReLU neuron, output weight v) and ``y = v sigma(X w*)`` *exactly*,
``f(w) = v^2/2 sum_i (sigma(u_i) - sigma(u*_i))^2`` (``u = X w``, ``u* = X w*``) and

* ``<grad f(w), w - w*> = v^2 sum_i sigma'(u_i) s_i (x_i^T (w - w*))^2`` with ``s_i`` the secant slope of
  sigma between u*_i and u_i, in [a, 1], and ``sigma'`` in {a, 1} (either value at the kink): at least
  ``a^2 v^2 ||X (w - w*)||^2 >= a^2 v^2 lambda_min(X^T X) ||w - w*||^2``.  So RSI with mu holds for every
  w when ``X^T X - mu / (a^2 v^2) I`` is PSD and mu > 0;
* ``||grad f(w)|| = v^2 ||X^T diag(sigma'(u)) (sigma(u) - sigma(u*))|| <= v^2 ||X||^2 ||w - w*||``
  (|sigma'| <= 1 and sigma 1-Lipschitz, for 0 < a < 1): the bound with L holds when
  ``L / v^2 I - X^T X`` is PSD.

Both are finitely many rational conditions on the stored floats; with ``y = v sigma(X w*)`` checked
entry by entry (an inexact y leaves a nonzero gradient at w*, and RSI fails near w*).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..api import InstanceBatch, Membership
from ..exact_membership import add, fraction_matrix, fractions, gram, identity_times, is_psd

__all__ = ["glm_member_exact"]


def glm_member_exact(batch: InstanceBatch) -> Membership:
    """``rsi_leaky_glm`` decided exactly (module docstring); the reason names the first failing
    constant or array."""
    p = batch.problem
    if int(p.act) != 2 or np.asarray(p.v).shape[-1] != 1:
        return Membership(False, "exact", "not a single leaky-ReLU neuron")
    X = fraction_matrix(np.asarray(p.X, dtype=np.float64)[0])
    (v,) = fractions(np.asarray(p.v, dtype=np.float64)[0])
    y = fractions(np.asarray(p.y, dtype=np.float64)[0])
    ws = fractions(np.asarray(p.anchor, dtype=np.float64)[0])
    (a,) = fractions(np.asarray(p.a, dtype=np.float64).reshape(-1)[:1])
    L = Fraction(float(np.asarray(batch.attrs["L"], dtype=np.float64).reshape(-1)[0]))
    mu = Fraction(float(np.asarray(batch.attrs["mu"], dtype=np.float64).reshape(-1)[0]))
    n, d = len(X), len(ws)
    if not 0 < a < 1:
        return Membership(False, "exact", f"leaky slope a = {float(a)!r} not in (0, 1)")
    if v == 0:
        return Membership(False, "exact", "output weight v = 0")
    for i, row in enumerate(X):
        u = sum((x * w for x, w in zip(row, ws)), Fraction(0))
        if y[i] != v * (u if u >= 0 else a * u):
            return Membership(False, "exact", f"y_{i} is not v sigma(x_i^T w*) exactly: w* is not the minimizer")
    G = gram(X, [Fraction(1)] * n)  # X^T X
    v2 = v * v
    if mu <= 0 or not is_psd(add(G, identity_times(d, mu / (a * a * v2)), -1)):
        return Membership(False, "exact", f"mu = {float(mu)!r} exceeds a^2 v^2 lambda_min(X^T X)")
    if not is_psd(add(identity_times(d, L / v2), G, -1)):
        return Membership(False, "exact", f"L = {float(L)!r} is below v^2 lambda_max(X^T X)")
    return Membership(True, "exact")
