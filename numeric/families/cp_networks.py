"""Cross-predictability family, networks on the cube {+-1}^n: DAG architectures compiled to edge lists,
the junk-flow gradients of Abbe-Sandon, and noisy population GD on true and junk targets."""

from __future__ import annotations

from typing import Any

import kernels
import numpy as np
from kernels import cp as kcp
from kernels.backend import select

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
from .exact_members import comparisons_only
from .cp import CLASS_DRAW, KINDS, CubeNetworks, class_cp, class_masks, class_ok

__all__ = ["compile_dag", "junk_observables", "random_architecture", "linear_architecture"]

#: This module's instance classes and dynamics (registered through the entry points
#: ``thmcheck.classes`` / ``thmcheck.dynamics``; importing the module registers nothing).
CLASSES: list[InstanceClass] = []
DYNAMICS: list[Dynamics] = []


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
        elif not class_ok(c, n, k, int(P.point[i])):
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
    member_exact=comparisons_only(_member_networks),  # layout, codes, finiteness: no rounding
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
    member_exact=comparisons_only(lambda b: _member_networks(b, balanced=False)),
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
    member_exact=comparisons_only(_member_k_parities),
    encode=_encode_networks,
    decode=_decode_networks,
    problem_type=CubeNetworks,
))


def _groups(problem: CubeNetworks) -> dict[tuple[int, int, int], np.ndarray]:
    keys: dict[tuple[int, int, int], list[int]] = {}
    for i, key in enumerate(zip(problem.kind.tolist(), problem.k.tolist(), problem.point.tolist())):
        keys.setdefault(key, []).append(i)
    return {k: np.asarray(v) for k, v in keys.items()}



def junk_observables(problem: CubeNetworks, W: np.ndarray, *, backend: str = "numpy",
                     dtype: Any = np.float64, rn_sign: int = -1) -> dict[str, np.ndarray]:
    """Exact population quantities at weights W (see the module docstring), with rounding scales:
    ``rn_gap`` is compared with zero, its scale ``rn_scale`` = (n + 4) max_e of the sums of the
    absolute values of the terms of both sides (sums over 2^n inputs round by O(n) ulps of that).

    ``rn_sign`` is the sign of the Radon-Nikodym identity under check, ``1 - D_F/D_* = rn_sign y F(x)``
    (-1, the true one; +1 only in a false variant, which must then be refuted): ``rn_ratio_err``
    compares it with the densities enumerated from their definitions, ``rn_gap`` compares the
    gradient difference (computed from D_F and D_* directly) with ``E_{D_*}[grad L (-rn_sign) y F(x)]``."""
    b = select("cp.forward_jacobian", backend, dtype)
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
        coef = -rn_sign * half * (lp[rows] * 1 - lm[rows])  # (1/2) sum_y L'(f, y) y, times -rn_sign
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
            err = np.maximum(err, np.abs(1 - d_f / d_star - rn_sign * y * tab).max())
        out["rn_ratio_err"][rows] = err
    return out


def _run_junk(req: RunRequest) -> Run:
    problem, w0 = req.problem, req.w0
    b = select("cp.forward_jacobian", req.backend, req.dtype)
    return Run(junk_observables(problem, w0, backend=b, dtype=req.dtype, rn_sign=int(req.settings.get("rn_sign", -1))),
               backend=b)


DYNAMICS.append(Dynamics(
    name="junk_gradients",
    run=_run_junk,
    observables=observables({}, keyed("cs_lhs", "grad2_junk", "cp", "rn_gap", "rn_scale", "rn_ratio_err"), {"rn_gap": "rn_scale"}),
    accepts=(CubeNetworks,),
    parameters=(),
    settings=(Setting(name="rn_sign", default=-1, choices=(-1, 1),
                      doc="sign s of the Radon-Nikodym identity checked, 1 - D_F/D_* = s y F(x) (-1 is the true "
                          "one; +1 only in false variants, to show the check can fail)"),),
    doc="exact population gradients of a DAG network over all 2^n inputs, on true data D_F for every F of "
    "the class and on junk data D_* (no time steps)",
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
    b = select("cp.noisy_gd", req.backend, req.dtype)
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
    observables=observables({}, keyed("success", "accuracy", "jf_rms", "jf_mean", "cp", "f_test"), {}),
    accepts=(CubeNetworks,),
    parameters=("gamma", "sigma"),
    doc="noisy population GD W_t = W_{t-1} - gamma E_D grad L(W_{t-1}) + sigma Z_t on true data D_F (F drawn "
    "from the class per trial) and on junk data, exact gradients over {+-1}^n",
))


