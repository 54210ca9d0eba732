"""Lemma 13.2.2: the LayerNorm + ReLU network kernels (DAG -> flat layout, forward/backward, backends) and
its instance class."""

from __future__ import annotations

from dataclasses import replace

import networkx as nx
import numpy as np
import pytest

import kernels
from kernels.layernorm import AFFINE, LayerNormNet, layernorm_value_grad, node_counts
from numeric import CLASSES, Knobs
from numeric.families.scale_invariant_nets import chain_graph, compile_graph


def _net(seed: int, B: int = 6, n: int = 7, d_in: int = 3, widths=(5, 4)):
    net = compile_graph(chain_graph(d_in, widths))
    g = np.random.default_rng(seed)
    theta = g.standard_normal((B, net.n_params))
    for code, _, _, wi, _, p0 in net.ops:  # gamma > 0, beta >= 0: no all-zero ReLU layer before a layernorm
        if code == AFFINE and net.trainable[p0]:
            theta[:, p0:p0 + 2 * wi] = np.abs(theta[:, p0:p0 + 2 * wi]) + 0.1
    X = g.standard_normal((B, n, d_in))
    y = np.where(g.random((B, n)) < 0.5, -1.0, 1.0)
    return LayerNormNet(net, theta, X, y), theta[:, net.train_index]


def test_compiled_degrees_are_those_of_lemma_13_2_2() -> None:
    """x^(l) after each trainable affine + ReLU has degree 1; the second layernorm's input degree 2 (the seed's
    proof says 1, THEOREMS.md 6.3); after the last layernorm (frozen) everything has degree 0."""
    net = compile_graph(chain_graph(3, (5, 4)))
    deg = dict(zip(net.names, net.degree.tolist()))
    assert deg == {"linear1": 1, "norm1": 0, "affine1": 1, "relu1": 1, "linear2": 2, "norm2": 0, "affine2": 0,
                   "relu2": 0, "output": 0}
    assert net.n_params == 5 * 3 + 10 + 4 * 5 + 8 + 4 and int(net.trainable.sum()) == 15 + 10 + 20
    three = compile_graph(chain_graph(2, (3, 3, 3)))
    assert dict(zip(three.names, three.degree.tolist()))["linear3"] == 2
    # without freezing, the output is not scale invariant (degree 2 through the trainable output layer)
    assert compile_graph(chain_graph(3, (5, 4), frozen_tail=False)).degree[-1] == 2


def test_compile_rejects_bad_graphs() -> None:
    g = chain_graph(3, (4,))
    g.add_edge("relu1", "linear1")
    with pytest.raises(kernels.ProblemError, match="cycle"):
        compile_graph(g)
    g = nx.DiGraph()
    g.add_node("input", op="input", width=3)
    g.add_node("lin", op="linear", width=4, trainable=True)
    g.add_node("aff", op="affine", width=4, trainable=True)
    g.add_node("out", op="linear", width=1)
    g.add_edges_from([("input", "lin"), ("lin", "aff"), ("aff", "out")])
    with pytest.raises(kernels.ProblemError, match="not homogeneous"):
        compile_graph(g)


def test_gradient_matches_finite_differences_and_backends_agree() -> None:
    P, w = _net(0)
    ref = layernorm_value_grad(P, w, backend="numpy")
    nb = layernorm_value_grad(P, w, backend="numba")
    assert nb.backend == "numba"
    eps = np.finfo(float).eps
    assert np.all(np.abs(nb.f - ref.f) <= 64 * eps * ref.fabs)
    assert np.all(np.abs(nb.grad - ref.grad) <= 64 * eps * ref.gabs)
    assert np.allclose(nb.acts, ref.acts, rtol=1e-12, atol=1e-12) and np.allclose(nb.mags, ref.mags, rtol=1e-12)
    assert np.allclose(nb.gabs, ref.gabs, rtol=1e-12) and np.allclose(nb.fabs, ref.fabs, rtol=1e-12)
    h = 1e-6
    for j in range(w.shape[1]):
        e = np.zeros_like(w)
        e[:, j] = h
        fd = (layernorm_value_grad(P, w + e, backend="numpy").f - layernorm_value_grad(P, w - e, backend="numpy").f) / (2 * h)
        assert np.allclose(fd, ref.grad[:, j], atol=1e-7 * (1 + np.abs(ref.grad).max()))


def test_longdouble_reference_and_rounding_magnitudes() -> None:
    P, w = _net(1)
    ld = np.longdouble
    hi = layernorm_value_grad(P.astype(ld), w.astype(ld), backend="numpy", dtype=ld)
    lo = layernorm_value_grad(P, w, backend="numpy")
    eps = np.finfo(float).eps
    assert hi.f.dtype == np.dtype(ld)
    assert np.all(np.abs(hi.f - lo.f) <= eps * lo.fabs)  # the magnitudes bound the float64 rounding
    assert np.all(np.abs(hi.grad - lo.grad) <= eps * lo.gabs)
    with pytest.raises(kernels.BackendUnavailable, match="longdouble"):  # the policy of kernels.backend.select
        layernorm_value_grad(P, w, backend="numba", dtype=ld)
    with pytest.raises(kernels.ProblemError):
        layernorm_value_grad(P, w[:, :-1], backend="numpy")


def test_scale_invariance_over_many_orders_of_magnitude() -> None:
    """L(cw) = L(w), grad L(cw) = grad L(w)/c, <w, grad L> = 0, and x_l(cw) = c^k_l x_l(w) for c = 10^-8..10^8."""
    P, w = _net(2, B=8)
    e0 = layernorm_value_grad(P, w, backend="numba")
    cnt, deg = node_counts(P.net)
    for c in 10.0 ** np.arange(-8, 9, 2) * 1.37:
        e1 = layernorm_value_grad(P, c * w, backend="numba")
        assert np.allclose(e1.f, e0.f, rtol=1e-12)
        assert np.allclose(c * e1.grad, e0.grad, rtol=1e-9, atol=1e-11 * np.abs(e0.grad).max())
        ck = c ** deg[P.net.d_in:].astype(float)
        assert np.allclose(e1.acts[:, :, P.net.d_in:] / ck, e0.acts[:, :, P.net.d_in:], rtol=1e-10, atol=1e-10)
    ip = (w * e0.grad).sum(1)
    assert np.all(np.abs(ip) <= 1e-12 * np.linalg.norm(w, axis=1) * np.linalg.norm(e0.grad, axis=1))
    # powers of two scale exactly: every rounding is the same
    assert np.array_equal(layernorm_value_grad(P, 2.0**-30 * w, backend="numpy").f, layernorm_value_grad(P, w, backend="numpy").f)


def test_trainable_top_breaks_invariance() -> None:
    net = compile_graph(chain_graph(3, (4, 4), frozen_tail=False))
    g = np.random.default_rng(3)
    P = LayerNormNet(net, g.standard_normal((4, net.n_params)), g.standard_normal((4, 6, 3)),
                     np.where(g.random((4, 6)) < 0.5, -1.0, 1.0))
    w = P.theta[:, net.train_index]
    f1 = layernorm_value_grad(P, w, backend="numpy").f
    f2 = layernorm_value_grad(P, 3.0 * w, backend="numpy").f
    assert np.abs(f1 - f2).max() > 1e-3


def test_class_members_and_outside_instances_rejected() -> None:
    cls = CLASSES["layernorm_net"]
    b = cls.families[0].generate(np.random.default_rng(4), 32, Knobs(0, 3, 1, 0.0, 0.0, (), 0))
    ok, why = cls.member(b)
    assert ok.all(), why[:3]
    data = cls.encode(b.problem, 3)
    P1 = cls.decode(data)
    assert np.array_equal(P1.theta[0], b.problem.theta[3]) and np.array_equal(P1.net.ops, b.problem.net.ops)
    # a network whose top layers are trained is outside the class
    top = CLASSES["layernorm_net_trainable_top"].families[0].generate(np.random.default_rng(4), 8, Knobs(0, 3, 1, 0.0, 0.0, (), 0))
    ok2, why2 = cls.member(top)
    assert not ok2.any() and "after the last layernorm" in why2[0]
    bad = replace(b, problem=replace(b.problem, y=b.problem.y * 0.5))
    ok3, why3 = cls.member(bad)
    assert not ok3.any() and "labels" in why3[0]
