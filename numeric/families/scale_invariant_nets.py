"""Lemma 13.2.2 instances: small LayerNorm + ReLU networks with the layers after the last normalisation frozen.

Instance class ``layernorm_net``: a network built as a networkx DAG of layers
(:func:`chain_graph`: input -> [linear -> layernorm -> affine -> relu] x 2 -> linear to
one output, the last affine layer and the output layer frozen), compiled to the kernels' flat layout,
with random parameters, data ``X`` (n points) and labels ``y`` in {-1, +1}; the loss is the mean logistic
loss of the output.  The point w is the trainable parameter vector (w0 over many orders of magnitude).
The membership check recompiles the graph from the stored widths and checks, from the op table alone,
that every parameter after the last layernorm is frozen and that the output's homogeneity degree in the
trainable parameters is 0 (Lemma 13.2.2's hypothesis and conclusion about the graph).

Dynamics ``layernorm_scaling`` (one evaluation per instance, no trajectory): a factor
``c = 10^U(-8, 8)`` from the counter-based generator keyed by (seed, instance_id) (not a power of 2, so
rounding differs between w and cw), and the observables ``ln_loss_diff = L(cw) - L(w)``,
``ln_euler = <w, grad L(w)>`` and ``ln_hom_dev = sum over nodes and data of
|x_l(cw) - c^{k_l} x_l(w)| / c^{k_l}`` (k_l the degree the compiled graph assigns), each with its
rounding scale from the kernel's magnitudes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from kernels.layernorm import (
    AFFINE,
    CODES,
    LAYERNORM,
    LINEAR,
    CompiledNet,
    LayerNormNet,
    layernorm_value_grad,
    node_counts,
)

from ..api import (
    Dynamics,
    Family,
    InstanceBatch,
    InstanceClass,
    Knobs,
    Run,
    RunRequest,
    Setting,
    keyed,
    observables,
)
from .scale_invariant_nets_exact import frozen_tail_reason, layernorm_any_tail_member_exact, layernorm_member_exact

#: This module's instance classes and dynamics (registered through the entry points
#: ``thmcheck.classes`` / ``thmcheck.dynamics``; importing the module registers nothing).
CLASSES: list[InstanceClass] = []
DYNAMICS: list[Dynamics] = []


__all__ = ["net_widths", "scale_factors", "chain_graph", "compile_graph"]


def chain_graph(d_in: int, widths: tuple[int, ...], frozen_tail: bool = True) -> Any:
    """The graph of Lemma 13.2.2's network: input -> [linear -> layernorm -> affine -> relu] per width ->
    linear to one output.  With ``frozen_tail`` the parameters after the last layernorm (its affine layer
    and the output layer) are frozen."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_node("input", op="input", width=d_in)
    prev, k = "input", len(widths)
    for i, h in enumerate(widths, 1):
        last = i == k
        for name, op, tr in ((f"linear{i}", "linear", True), (f"norm{i}", "layernorm", False),
                             (f"affine{i}", "affine", not (last and frozen_tail)), (f"relu{i}", "relu", False)):
            g.add_node(name, op=op, width=h, trainable=tr)
            g.add_edge(prev, name)
            prev = name
    g.add_node("output", op="linear", width=1, trainable=not frozen_tail)
    g.add_edge(prev, "output")
    return g


def compile_graph(g: Any) -> CompiledNet:
    """Compile a layer graph to the flat layout; checks it is a DAG of single-input layers fed by one
    ``input`` node and ending in one width-1 node, and propagates homogeneity degrees."""
    import networkx as nx
    from kernels import ProblemError

    if not nx.is_directed_acyclic_graph(g):
        raise ProblemError("the layer graph has a cycle")
    order = list(nx.topological_sort(g))
    if not order or g.nodes[order[0]].get("op") != "input":
        raise ProblemError("the first node must be the input")
    if sum(1 for n in order if g.out_degree(n) == 0) != 1:
        raise ProblemError("the graph must end in one output node")
    width = {order[0]: int(g.nodes[order[0]]["width"])}
    act = {order[0]: 0}
    deg = {order[0]: 0}
    n_act, n_par = width[order[0]], 0
    rows, train, degs, names = [], [], [], []
    for n in order[1:]:
        preds = list(g.predecessors(n))
        if len(preds) != 1:
            raise ProblemError(f"node {n!r} must have exactly one input, has {len(preds)}")
        p = preds[0]
        attrs = g.nodes[n]
        op = attrs.get("op")
        if op not in CODES:
            raise ProblemError(f"node {n!r}: unknown op {op!r}")
        w_in = width[p]
        w_out = w_in if op in ("layernorm", "affine", "relu") else int(attrs["width"])
        if op in ("layernorm", "affine", "relu") and int(attrs.get("width", w_in)) != w_in:
            raise ProblemError(f"node {n!r}: width {attrs.get('width')} != its input's {w_in}")
        if op == "layernorm" and w_in < 2:
            raise ProblemError(f"node {n!r}: layernorm needs width >= 2")
        tr = bool(attrs.get("trainable", False))
        n_p = w_out * w_in if op == "linear" else (2 * w_in if op == "affine" else 0)
        if op == "linear":
            d = deg[p] + (1 if tr else 0)
        elif op == "layernorm":
            d = 0
        elif op == "affine":
            if deg[p] != 0:
                raise ProblemError(f"node {n!r}: gamma * x + beta is not homogeneous when x has degree {deg[p]}")
            d = 1 if tr else 0
        else:
            d = deg[p]
        rows.append((CODES[op], act[p], n_act, w_in, w_out, n_par))
        train += [tr] * n_p
        act[n], width[n], deg[n] = n_act, w_out, d
        degs.append(d)
        names.append(n)
        n_act += w_out
        n_par += n_p
    if width[order[-1]] != 1:
        raise ProblemError("the output node must have width 1")
    return CompiledNet(np.asarray(rows, dtype=np.int64), np.asarray(train, dtype=bool), np.asarray(degs, dtype=np.int64),
                       tuple(names), width[order[0]], n_act)


_WIDTHS = ((3, 3), (4, 3), (5, 4), (6, 5))


def net_widths(k: Knobs) -> tuple[int, int, int]:
    """(d_in, h1, h2) of the generated network for knobs k."""
    h1, h2 = _WIDTHS[k.pattern % len(_WIDTHS)]
    return max(int(k.dim), 2), h1, h2


def _generate(rng: np.random.Generator, n: int, k: Knobs, frozen_tail: bool = True) -> InstanceBatch:
    d_in, h1, h2 = net_widths(k)
    net = compile_graph(chain_graph(d_in, (h1, h2), frozen_tail=frozen_tail))
    npts = 4 + 2 * d_in
    theta = rng.standard_normal((n, net.n_params))
    # Trainable affine layers get gamma > 0 and beta >= 0: a layernorm's output has mean 0, so some entry is
    # positive and the following ReLU never outputs all zeros (the next layernorm would divide by std 0).
    for code, _, _, wi, _, p0 in net.ops:
        if code == AFFINE and net.trainable[p0]:
            theta[:, p0:p0 + wi] = np.abs(theta[:, p0:p0 + wi]) + 0.1
            theta[:, p0 + wi:p0 + 2 * wi] = 0.1 * np.abs(theta[:, p0 + wi:p0 + 2 * wi])
    X = rng.standard_normal((n, npts, d_in)) * 10.0 ** k.log_scale
    y = np.where(rng.random((n, npts)) < 0.5, -1.0, 1.0)
    w0 = theta[:, net.train_index] * 10.0 ** (3.0 * k.log_w0 + rng.uniform(-1.0, 1.0, (n, 1)))
    attrs = {"d": np.full(n, float(net.train_index.size))}
    return InstanceBatch("layernorm_net", LayerNormNet(net, theta, X, y), w0, attrs)


def _member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    P = batch.problem
    net = P.net
    n = batch.size
    why = frozen_tail_reason(net)
    ok = np.full(n, not why)
    labels = np.all(np.abs(P.y) == 1.0, axis=1)
    finite = np.isfinite(P.theta).all(axis=1) & np.isfinite(P.X).all(axis=(1, 2)) & (np.abs(batch.w0).sum(axis=1) > 0)
    reasons = [why or ("labels must be +-1" if not lb else ("non-finite or zero parameters" if not fi else ""))
               for lb, fi in zip(labels, finite)]
    return ok & labels & finite, reasons


def _encode(problem: LayerNormNet, i: int) -> dict[str, Any]:
    net = problem.net
    widths = [int(ops[4]) for ops in net.ops if ops[0] == LINEAR][:-1]
    frozen = not bool(net.trainable[-1])
    return {"net": {"d_in": int(net.d_in), "widths": widths, "frozen_tail": frozen}, "theta": problem.theta[i].tolist(),
            "X": problem.X[i].tolist(), "y": problem.y[i].tolist()}


def _decode(data: dict[str, Any]) -> LayerNormNet:
    net = compile_graph(chain_graph(int(data["net"]["d_in"]), tuple(data["net"]["widths"]),
                                    frozen_tail=bool(data["net"].get("frozen_tail", True))))
    return LayerNormNet(net, np.asarray(data["theta"], dtype=np.float64)[None],
                        np.asarray(data["X"], dtype=np.float64)[None], np.asarray(data["y"], dtype=np.float64)[None])


CLASSES.append(InstanceClass(
    name="layernorm_net",
    text="a LayerNorm + ReLU network (a DAG of layers compiled to a flat layout) whose parameters after the last "
    "normalisation are frozen; L = mean logistic loss of its output, a function of the trainable parameters",
    families=(Family(name="layernorm_net", generate=_generate, finite_sum=False, doc="input -> [linear -> layernorm -> affine -> relu] x 2 -> linear output; the last affine and the output "
            "layer frozen; widths from the pattern, data scale 10^log_scale, ||w0|| over 6 orders of magnitude"),),
    attributes=("d",),
    member=_member,
    member_exact=layernorm_member_exact,
    encode=_encode,
    decode=_decode,
    problem_type=LayerNormNet,
))


def _member_any_tail(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    """Data checks only (labels, finiteness): the class of false variants that train the top layers."""
    P = batch.problem
    ok = np.all(np.abs(P.y) == 1.0, axis=1) & np.isfinite(P.theta).all(axis=1) & (np.abs(batch.w0).sum(axis=1) > 0)
    return ok, ["" if o else "labels must be +-1 and parameters finite and nonzero" for o in ok]


CLASSES.append(InstanceClass(
    name="layernorm_net_trainable_top",
    text="the networks of layernorm_net with the affine layer after the last normalisation and the top layer trained "
    "(outside Lemma 13.2.2's hypothesis; for false variants)",
    families=(Family(name="layernorm_net_trainable_top", generate=lambda r, n, k: _generate(r, n, k, frozen_tail=False), finite_sum=False, doc="as layernorm_net, every layer trainable"),),
    attributes=("d",),
    member=_member_any_tail,
    member_exact=layernorm_any_tail_member_exact,
    encode=_encode,
    decode=_decode,
    problem_type=LayerNormNet,
))


def scale_factors(seed: int, instance_ids: np.ndarray) -> np.ndarray:
    """c = 10^U(-8, 8) per instance, from ``kernels.rng.uniform(seed, id, 0, 0)``."""
    from kernels.rng import uniform

    return 10.0 ** (-8.0 + 16.0 * uniform(int(seed), np.asarray(instance_ids, dtype=np.int64), 0, 0))


def _run(req: RunRequest) -> Run:
    problem, w0 = req.problem, req.w0
    w = np.asarray(w0, dtype=req.dtype)
    c = scale_factors(req.seed, req.instance_ids).astype(req.dtype)
    be = "numpy" if np.dtype(req.dtype) != np.dtype(np.float64) else req.backend
    e0 = layernorm_value_grad(problem, w, backend=be, dtype=req.dtype)
    e1 = layernorm_value_grad(problem, c[:, None] * w, backend=be, dtype=req.dtype)
    cnt, deg = node_counts(problem.net)
    # A false variant may shift every node's degree: the check must then fail (the degrees come from
    # the compiled graph, the activations from two independent evaluations).
    deg = deg + int(req.settings.get("degree_offset", 0))
    d_in = problem.net.d_in
    ck = c[:, None, None] ** deg[None, None, d_in:].astype(req.dtype)
    dev = np.abs(e1.acts[:, :, d_in:] - ck * e0.acts[:, :, d_in:]) / ck
    devabs = (cnt[d_in:] + 2) * (e0.mags[:, :, d_in:] + e1.mags[:, :, d_in:] / ck)
    wg = np.abs(w) * np.abs(e0.grad)
    dim = w.shape[1]
    return Run({
        # L(cw) - L(w): both evaluations' rounding, and the rounding of c w (entrywise relative eps, which
        # moves L by at most sum_i |c w_i| |grad L(cw)_i| = sum_i |w_i| |grad L(w)_i| by Lemma 13.2.3(2))
        "ln_loss_diff": e1.f - e0.f, "ln_loss_diff_abs": e0.fabs + e1.fabs + 2 * wg.sum(axis=1),
        "ln_euler": (w * e0.grad).sum(axis=1),
        "ln_euler_abs": dim * wg.sum(axis=1) + (np.abs(w) * e0.gabs).sum(axis=1),
        "ln_hom_dev": dev.sum(axis=(1, 2)), "ln_hom_dev_abs": devabs.sum(axis=(1, 2)),
        "ln_scale": c,
        "horizon": np.zeros(w.shape[0], dtype=req.dtype),
    }, backend=e0.backend)


_OBS = ("ln_loss_diff", "ln_loss_diff_abs", "ln_euler", "ln_euler_abs", "ln_hom_dev", "ln_hom_dev_abs", "ln_scale",
        "horizon")
DYNAMICS.append(Dynamics(
    name="layernorm_scaling",
    run=_run,
    observables=observables({}, keyed(*_OBS), {"ln_loss_diff": "ln_loss_diff_abs", "ln_euler": "ln_euler_abs", "ln_hom_dev": "ln_hom_dev_abs"}),
    accepts=(LayerNormNet,),
    parameters=(),
    settings=(Setting(name="degree_offset", default=0,
                      doc="added to every node's homogeneity degree (0: the degrees the graph assigns; "
                          "nonzero only in false variants, to show the homogeneity check can fail)"),),
    doc="one evaluation of a LayerNorm network's loss, gradient and activations at w and at c w (c = 10^U(-8, 8), "
    "counter-based, keyed by (seed, instance_id))",
))
