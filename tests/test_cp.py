"""The cross-predictability family: DAG networks on {+-1}^n, exact population gradients, noisy
population GD (reference / numba / CuPy), CP by enumeration, the Gaussian TV quadrature, and the
family's instance classes and adapters."""

from __future__ import annotations

import ctypes
import math
import shutil
import subprocess

import networkx as nx
import numpy as np
import pytest
import sympy

import kernels
from kernels import cp as kcp
from kernels import rng
from numeric import CLASSES, DYNAMICS
from numeric.families import cp as ncp
from numeric.families import cp_gaussian as ncg
from numeric.families import cp_networks as ncn
from numeric import Knobs

NUMBA = "numba" in kernels.available_backends()


def _net(n: int = 3, seed: int = 0, pattern: int = 3) -> kcp.Net:
    return ncn.compile_dag(ncn.random_architecture(np.random.default_rng(seed), n, pattern), n)


# ------------------------------------------------------------------------------------------------
# DAG compilation
# ------------------------------------------------------------------------------------------------


def test_compile_dag_layout_and_round_trip() -> None:
    g = nx.DiGraph()
    g.add_nodes_from(range(3))  # n = 2 inputs and the constant (node 2)
    g.add_edges_from([(0, "h"), (1, "h"), (2, "h"), ("h", "out"), (0, "out"), (2, "out")])
    net = ncn.compile_dag(g, 2)
    assert net.P == 6 and net.nodes == 5
    assert net.output == net.order[-1]
    assert net.act[net.output] == 0 and net.act[net.order[0]] == 1  # identity output, tanh hidden
    again = kcp.net_from_edges(net.n, net.edges(), net.act)
    assert again.edges() == net.edges()


@pytest.mark.parametrize("edges, msg", [
    ([(0, 3), (1, 3), (3, 4), (4, 3), (4, 5)], "cycle"),
    ([(0, 3), (1, 4), (2, 5)], "exactly one output"),
    ([(3, 0), (0, 3), (3, 4), (4, 5)], "enters an input"),
])
def test_invalid_networks_are_rejected(edges, msg) -> None:
    with pytest.raises(ValueError, match=msg):
        kcp.net_from_edges(2, edges, [0, 0, 0, 1, 1, 0])


def test_compile_dag_rejects_non_dags() -> None:
    g = nx.DiGraph([(0, "a"), ("a", "b"), ("b", "a"), ("b", "out")])
    g.add_nodes_from(range(2))
    with pytest.raises(ValueError, match="DAG"):
        ncn.compile_dag(g, 1)


# ------------------------------------------------------------------------------------------------
# Forward pass and gradients
# ------------------------------------------------------------------------------------------------


def test_linear_net_is_linear() -> None:
    n = 4
    net = ncn.compile_dag(ncn.linear_architecture(n), n)
    W = np.random.default_rng(1).standard_normal((3, net.P))
    f, J = kcp.forward_jacobian(net, W)
    X = np.hstack([kcp.cube_points(n), np.ones((1 << n, 1))])
    order = [s for s, _ in net.edges()]
    np.testing.assert_allclose(f, W @ X[:, order].T, rtol=1e-14, atol=1e-14)
    np.testing.assert_array_equal(J[0], X[:, order])


@pytest.mark.parametrize("pattern", [0, 1, 2, 3])
def test_gradients_match_finite_differences(pattern: int) -> None:
    net = _net(3, seed=pattern, pattern=pattern)
    W = np.random.default_rng(pattern).standard_normal((2, net.P))
    _, J = kcp.forward_jacobian(net, W, dtype=np.longdouble)
    h = np.longdouble(1e-7)
    for e in range(net.P):
        Wp, Wm = W.astype(np.longdouble), W.astype(np.longdouble)
        Wp[:, e] += h
        Wm[:, e] -= h
        fd = (kcp.forward_jacobian(net, Wp, dtype=np.longdouble)[0] - kcp.forward_jacobian(net, Wm, dtype=np.longdouble)[0]) / (2 * h)
        np.testing.assert_allclose(fd.astype(float), J[:, :, e].astype(float), rtol=1e-7, atol=1e-9)


@pytest.mark.skipif(not NUMBA, reason="numba not installed")
def test_forward_jacobian_numba_matches_reference() -> None:
    net = _net(5, seed=2, pattern=1)
    W = np.random.default_rng(3).standard_normal((7, net.P))
    f, J = kcp.forward_jacobian(net, W)
    f2, J2 = kcp.forward_jacobian(net, W, backend="numba")
    np.testing.assert_allclose(f2, f, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(J2, J, rtol=1e-13, atol=1e-13)


def test_population_gradient_matches_finite_differences_of_the_population_loss() -> None:
    """The true-data gradient of noisy_gd's first step (sigma = 0, gamma = 1) is -(W_1 - W_0)."""
    n = 3
    net = _net(n, seed=5, pattern=0)
    W0 = np.random.default_rng(5).standard_normal((2, net.P)).astype(np.longdouble)
    mask, loss = np.array([3, 5]), np.array([0, 1])
    r = kcp.noisy_gd(net, W0, mask, loss, 1.0, 0.0, 1, seed=0, instance_ids=[0, 1], dtype=np.longdouble)
    grad = W0 - r.w
    X = kcp.cube_points(n, np.longdouble)
    y = kcp.parity_table(mask, n).astype(np.longdouble)

    def pop_loss(W: np.ndarray) -> np.ndarray:
        f, _ = kcp.forward_jacobian(net, W, dtype=np.longdouble)
        return np.where(loss[:, None] == 0, (f - y) ** 2 / 2, -y * f).mean(axis=1)

    h = np.longdouble(1e-7)
    for e in range(net.P):
        Wp, Wm = W0.copy(), W0.copy()
        Wp[:, e] += h
        Wm[:, e] -= h
        np.testing.assert_allclose(((pop_loss(Wp) - pop_loss(Wm)) / (2 * h)).astype(float), grad[:, e].astype(float),
                                   rtol=1e-7, atol=1e-9)
    assert X.shape == (8, 3)


# ------------------------------------------------------------------------------------------------
# Noisy population GD
# ------------------------------------------------------------------------------------------------


def _gd_case(B: int = 9):
    net = _net(4, seed=7, pattern=2)
    rs = np.random.default_rng(7)
    W0 = rs.standard_normal((B, net.P)) * 0.5
    masks = rs.integers(0, 16, B)
    loss = rs.integers(0, 2, B)
    gamma = rs.uniform(0.1, 1.0, B)
    sigma = rs.uniform(0.0, 0.3, B)
    return net, W0, masks, loss, gamma, sigma


def test_noise_is_the_philox_stream() -> None:
    """With zero gradient (gamma = 0) the weights move by exactly sigma Z_t from kernels.rng."""
    net, W0, masks, loss, _, _ = _gd_case(3)
    ids = np.array([4, 11, 2**33 + 5])
    r = kcp.noisy_gd(net, W0, masks, loss, 0.0, 1.0, 2, seed=9, instance_ids=ids)
    p = np.arange(net.P)[None, :]
    z = rng.normal(9, ids[:, None], 1, p) + rng.normal(9, ids[:, None], 2, p)
    zj = rng.normal(9, ids[:, None], 1, kcp.JUNK_DRAW + p) + rng.normal(9, ids[:, None], 2, kcp.JUNK_DRAW + p)
    np.testing.assert_allclose(r.w - W0, z, rtol=0, atol=1e-14)
    np.testing.assert_allclose(r.wj - W0, zj, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(r.test_index, rng.randint(9, ids, 0, kcp.TEST_DRAW, 16))


@pytest.mark.skipif(not NUMBA, reason="numba not installed")
def test_noisy_gd_numba_matches_reference() -> None:
    net, W0, masks, loss, gamma, sigma = _gd_case()
    ids = np.arange(100, 109)
    a = kcp.noisy_gd(net, W0, masks, loss, gamma, sigma, 5, seed=3, instance_ids=ids)
    b = kcp.noisy_gd(net, W0, masks, loss, gamma, sigma, 5, seed=3, instance_ids=ids, backend="numba")
    assert b.backend == "numba"
    for key in ("w", "wj", "g2", "gmean", "f_test"):
        np.testing.assert_allclose(getattr(b, key), getattr(a, key), rtol=1e-11, atol=1e-12, err_msg=key)
    np.testing.assert_array_equal(b.test_index, a.test_index)
    clear = np.abs(a.f_test) > 1e-9
    np.testing.assert_array_equal(b.success[clear], a.success[clear])


def test_noisy_gd_replays_one_trial_alone_in_extended_precision() -> None:
    net, W0, masks, loss, gamma, sigma = _gd_case()
    ids = np.arange(9) * 3
    a = kcp.noisy_gd(net, W0, masks, loss, gamma, sigma, 3, seed=1, instance_ids=ids)
    one = kcp.noisy_gd(net, W0[4:5].astype(np.longdouble), masks[4:5], loss[4:5], gamma[4:5], sigma[4:5], 3, seed=1,
                       instance_ids=ids[4:5], dtype=np.longdouble)
    np.testing.assert_allclose(one.w[0].astype(float), a.w[4], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(one.g2[0].astype(float), a.g2[4], rtol=1e-12)


def test_correlation_loss_has_zero_junk_gradient() -> None:
    net, W0, masks, _, gamma, sigma = _gd_case()
    r = kcp.noisy_gd(net, W0, masks, np.ones(9, dtype=int), gamma, sigma, 3, seed=0, instance_ids=np.arange(9))
    assert np.all(r.gmean == 0.0) and np.all(r.g2 > 0)


def test_linear_dictator_is_learned_with_the_correlation_loss() -> None:
    """The errata's counterexample setting: w0 = 0, gamma = 1, T = 1, sigma = 0.05, n = 6."""
    n = 6
    net = ncn.compile_dag(ncn.linear_architecture(n), n)
    B = 400
    r = kcp.noisy_gd(net, np.zeros((B, net.P)), np.ones(B, dtype=int), np.ones(B, dtype=int), 1.0, 0.05, 1,
                     seed=0, instance_ids=np.arange(B))
    assert r.success.mean() > 0.99 and np.all(r.gmean == 0)


def test_noisy_gd_validates_arguments() -> None:
    net, W0, masks, loss, gamma, sigma = _gd_case()
    with pytest.raises(ValueError, match="masks"):
        kcp.noisy_gd(net, W0, masks + 16, loss, gamma, sigma, 2, seed=0, instance_ids=np.arange(9))
    with pytest.raises(ValueError, match="shape"):
        kcp.noisy_gd(net, W0[:, :-1], masks, loss, gamma, sigma, 2, seed=0, instance_ids=np.arange(9))
    with pytest.raises(ValueError, match="float64"):
        kcp.noisy_gd(net, W0, masks, loss, gamma, sigma, 2, seed=0, instance_ids=np.arange(9), backend="numba",
                     dtype=np.longdouble)


@pytest.mark.gpu
def test_noisy_gd_cupy_matches_reference() -> None:
    pytest.importorskip("cupy")
    try:
        kernels.resolve_backend("cupy")
    except kernels.BackendUnavailable as exc:
        pytest.skip(str(exc))
    net, W0, masks, loss, gamma, sigma = _gd_case()
    ids = np.arange(9)
    a = kcp.noisy_gd(net, W0, masks, loss, gamma, sigma, 4, seed=2, instance_ids=ids)
    b = kcp.noisy_gd(net, W0, masks, loss, gamma, sigma, 4, seed=2, instance_ids=ids, backend="cupy")
    for key in ("w", "wj", "g2", "gmean"):
        np.testing.assert_allclose(getattr(b, key), getattr(a, key), rtol=1e-11, atol=1e-12)
    f, J = kcp.forward_jacobian(net, W0, backend="cupy")
    f0, J0 = kcp.forward_jacobian(net, W0)
    np.testing.assert_allclose(J, J0, rtol=1e-12, atol=1e-13)


def test_cuda_noise_source_is_plain_text_with_the_philox_functions() -> None:
    src = kcp.cuda_noise_source()
    assert "tc_normal" in src and "tc_cp_noise" in src and "__global__" in src


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="CUDA toolkit (nvcc) not installed")
def test_cuda_noise_kernel_compiles_for_the_device(tmp_path) -> None:
    src = tmp_path / "cp_noise.cu"
    src.write_text(kcp.cuda_noise_source())
    out = tmp_path / "cp_noise.ptx"
    res = subprocess.run(["nvcc", "-ptx", "-arch=compute_80", "--fmad=false", str(src), "-o", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert ".entry tc_cp_noise(" in out.read_text()


_EMU = """
#include <math.h>
#define __global__
#define __device__
#define __forceinline__ inline
static long long tc_emu_id;
#define TC_CP_ID tc_emu_id
"""


@pytest.mark.skipif(shutil.which("g++") is None, reason="no C++ compiler for the CPU emulation")
def test_cuda_noise_kernel_emulated_on_the_cpu_matches_kernels_rng(tmp_path) -> None:
    """The CUDA noise kernel compiled as C++ (sequential thread grid) gives kernels.rng's normals bit for bit."""
    src = tmp_path / "emu.cpp"
    src.write_text(kcp.cuda_noise_source(_EMU) + """
extern "C" void emu(const unsigned long long* ids, double* out, unsigned long long seed, unsigned int step,
                    unsigned int offset, long long B, int P) {
    for (long long i = 0; i < B * P; ++i) { tc_emu_id = i; tc_cp_noise(ids, out, seed, step, offset, B, P); }
}
""")
    lib_path = tmp_path / "emu.so"
    res = subprocess.run(["g++", "-O2", "-ffp-contract=off", "-shared", "-fPIC", str(src), "-o", str(lib_path)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    lib = ctypes.CDLL(str(lib_path))
    ids = np.array([0, 7, 2**33 + 1], dtype=np.uint64)
    B, P = 3, 11
    out = np.zeros(B * P)
    lib.emu(ids.ctypes.data_as(ctypes.c_void_p), out.ctypes.data_as(ctypes.c_void_p), ctypes.c_ulonglong(5),
            ctypes.c_uint(3), ctypes.c_uint(kcp.JUNK_DRAW), ctypes.c_longlong(B), ctypes.c_int(P))
    want = rng.normal(5, ids[:, None], 3, kcp.JUNK_DRAW + np.arange(P)[None, :])
    np.testing.assert_array_equal(out.reshape(B, P), want)


# ------------------------------------------------------------------------------------------------
# CP by enumeration
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7])
def test_cp_closed_forms_by_enumeration(n: int) -> None:
    assert ncp._class_cp(0, n, 0, 0)[0] == sympy.Rational(1, 2**n)
    for k in range(1, n + 1):
        cp, printed = ncp._class_cp(1, n, k, 0)
        assert cp == sympy.Rational(1, math.comb(n, k)) and printed == 0
    cp, printed = ncp._class_cp(2, n, 0, 0)
    assert cp == sympy.Rational(1, n) and printed == 0
    assert ncp._class_cp(3, n, 0, 1)[0] == 1 and ncp._class_cp(3, n, 0, 0)[1] == 1  # constant chi_empty


def test_cp_of_arbitrary_tables_numba_and_numpy_agree() -> None:
    t = np.where(np.random.default_rng(0).random((13, 32)) < 0.5, -1, 1)
    if NUMBA:
        assert kcp.cp_enumerate(t, backend="numpy") == kcp.cp_enumerate(t, backend="numba")
    # printed E_F (E_X F)^4 against its definition with an independent X'
    s = t.mean(axis=1)
    assert float(kcp.cp_enumerate(t)[1]) == pytest.approx(np.mean([np.mean(np.outer(r, r)) ** 2 for r in t]), rel=1e-12)
    assert float(kcp.cp_enumerate(t)[1]) == pytest.approx(np.mean(s**4), rel=1e-12)


# ------------------------------------------------------------------------------------------------
# Gaussian TV
# ------------------------------------------------------------------------------------------------


def test_gaussian_tv_quadrature_matches_erf_and_monte_carlo() -> None:
    a = np.zeros((4, 3))
    b = np.array([[1e-3, 0, 0], [1.0, 0, 0], [3.0, 1.0, 0], [20.0, 0, 0]])
    s = np.array([1.0, 0.5, 2.0, 1.0])
    o = ncg.gaussian_tv(a, b, s)
    t = np.linalg.norm(b - a, axis=1) / (2 * s)
    np.testing.assert_allclose(o["tv"], [math.erf(x / math.sqrt(2)) for x in t], rtol=1e-14)
    ol = ncg.gaussian_tv(a, b, s, np.longdouble)
    assert np.all(np.abs(ol["tv"] - ol["tv_erf"]) <= 64 * np.finfo(np.longdouble).eps * ol["tv"])
    # Monte Carlo of sup_A |P(A) - Q(A)| with A = {p > q} for the second pair (TV = erf(1/sqrt2) / ...)
    z = np.random.default_rng(0).standard_normal((200000, 3)) * s[1]
    p_in = np.mean(z @ (b[1] - a[1]) < 0.5 * (b[1] - a[1]) @ (b[1] - a[1]))
    q_in = np.mean((z + b[1] - a[1]) @ (b[1] - a[1]) < 0.5 * (b[1] - a[1]) @ (b[1] - a[1]))
    assert abs((p_in - q_in) - o["tv"][1]) < 0.01


# ------------------------------------------------------------------------------------------------
# Instance classes and adapters
# ------------------------------------------------------------------------------------------------

CLASS_NAMES = ("cp_parities", "cp_k_parities", "cp_dictators", "cp_point_mass", "cube_networks",
               "cube_networks_all", "cube_networks_k_parities", "gaussian_pairs", "cp_sampled_parities",
               "cp_sampled_k_parities", "cp_sampled_dictators")


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_generators_make_members_that_round_trip(name: str) -> None:
    cls = CLASSES[name]
    r = np.random.default_rng(0)
    for fam in cls.families:
        for pattern in range(8):
            batch = fam.generate(r, 6, Knobs(0, 4, pattern, 0.2, -0.3, (), pattern))
            ok, why = cls.member(batch)
            assert ok.all(), why
            one = cls.decode(cls.encode(batch.problem, 2))
            if hasattr(batch.problem, "take"):
                assert type(batch.problem.take(np.array([2, 2]))) is type(one)


def test_balanced_classes_exclude_the_constant_point_mass() -> None:
    batch = CLASSES["cube_networks_all"].families[0].generate(np.random.default_rng(0), 64, Knobs(0, 3, 3, 0, 0, (), 0))
    const = batch.problem.point == 0
    assert const.any() and CLASSES["cube_networks_all"].member(batch)[0].all()
    ok, why = CLASSES["cube_networks"].member(batch)
    assert not ok[const].any() and ok[~const].all() and "balanced" in why[int(np.flatnonzero(const)[0])]


def test_membership_rejects_a_wrong_class() -> None:
    batch = CLASSES["cp_dictators"].families[0].generate(np.random.default_rng(0), 3, Knobs(0, 5, 0, 0, 0, (), 0))
    bad = ncp.FunctionClasses(batch.problem.n, np.array([1, 2, 2]), batch.problem.k, batch.problem.point)
    ok, why = CLASSES["cp_dictators"].member(type(batch)(batch.family, bad, batch.w0, batch.attrs))
    assert not ok[0] and "not dictators" in why[0] and ok[1:].all()


def test_junk_observables_numba_matches_reference_and_the_bound_holds() -> None:
    batch = CLASSES["cube_networks"].families[0].generate(np.random.default_rng(3), 12, Knobs(0, 5, 1, 0.3, 0, (), 0))
    a = ncn.junk_observables(batch.problem, batch.w0)
    b = ncn.junk_observables(batch.problem, batch.w0, backend="numba" if NUMBA else "numpy")
    for key in a:
        np.testing.assert_allclose(b[key], a[key], rtol=1e-12, atol=1e-14, err_msg=key)
    assert np.all(a["cs_lhs"] <= a["grad2_junk"] * np.sqrt(a["cp"]))
    assert np.all(a["rn_gap"] <= 64 * np.finfo(float).eps * a["rn_scale"]) and np.all(a["rn_ratio_err"] == 0)


def test_noisy_adapter_draws_the_function_per_trial() -> None:
    batch = CLASSES["cube_networks"].families[1].generate(np.random.default_rng(1), 1, Knobs(0, 4, 3, 0, 0, (), 0))
    prob = batch.problem.take(np.zeros(64, dtype=int))
    masks = ncn._trial_masks(prob, 5, np.arange(64))
    cls = ncp.class_masks(int(prob.kind[0]), prob.n, int(prob.k[0]), int(prob.point[0]))
    assert set(masks.tolist()) <= set(cls.tolist())
    if len(cls) > 1:
        assert len(set(masks.tolist())) > 1
    assert "success" in DYNAMICS["noisy_population_gd"].trajectory


# ------------------------------------------------------------------------------------------------
# Sampled CP (n beyond enumeration)
# ------------------------------------------------------------------------------------------------


def test_unrank_is_a_bijection_onto_each_class() -> None:
    for n in range(1, 10):
        assert kcp.unrank_mask(0, n, 0, 0, np.arange(1 << n)).tolist() == list(range(1 << n))
        assert sorted(kcp.unrank_mask(2, n, 0, 0, np.arange(n)).tolist()) == [1 << i for i in range(n)]
        for k in range(1, n + 1):
            m = kcp.unrank_mask(1, n, k, 0, np.arange(math.comb(n, k))).tolist()
            assert sorted(m) == ncp.class_masks(1, n, k).tolist()


def _explicit_u(kind: int, n: int, k: int, point: int, pairs: int, L: int, seed: int, ident: int) -> np.ndarray:
    """The per-pair statistic written out from its definition, one pair at a time (Python ints)."""
    N = ncp.class_size(kind, n, k)
    out = []
    for j in range(pairs):
        x0, x1, x2, x3 = (int(w) for w in rng.philox_block(seed, ident, j, kcp.PAIR_DRAW))
        f = int(kcp.unrank_mask(kind, n, k, point, np.array([(((x0 << 32) | x1) * N) >> 64]))[0])
        g = int(kcp.unrank_mask(kind, n, k, point, np.array([(((x2 << 32) | x3) * N) >> 64]))[0])
        xs = [int(w) & ((1 << n) - 1) for q in range(L // 4) for w in rng.philox_block(seed, ident, j, kcp.X_DRAW + q)]
        T = sum((-1) ** (bin(f & x).count("1") + bin(g & x).count("1")) for x in xs)
        out.append(T * T - L)
    return np.asarray(out)


def test_cp_sample_matches_its_definition_and_backends_agree() -> None:
    for kind, n, k, point in ((0, 13, 0, 0), (1, 20, 3, 0), (2, 24, 0, 0), (3, 6, 0, 5), (1, 7, 7, 0)):
        u = _explicit_u(kind, n, k, point, 40, 8, 3, 11)
        s1, s2 = kcp.cp_sample(kind, n, k, point, 40, 8, seed=3, instance_ids=[11])
        assert (int(s1[0]), int(s2[0])) == (int(u.sum()), int((u * u).sum()))
        ids = np.arange(7)
        kinds, ks = np.array([0, 1, 1, 2, 1, 0, 2]), np.array([0, 2, 5, 0, 9, 0, 0])
        a = kcp.cp_sample(kinds, 9, ks, 0, 300, 8, seed=1, instance_ids=ids)
        b = kcp.cp_sample(kinds, 9, ks, 0, 300, 8, seed=1, instance_ids=ids, backend="numba" if NUMBA else "numpy")
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
        one = kcp.cp_sample(kinds[4:5], 9, ks[4:5], 0, 300, 8, seed=1, instance_ids=ids[4:5])
        assert one[0][0] == a[0][4] and one[1][0] == a[1][4]  # an instance replays alone


def test_cp_sample_validates_arguments() -> None:
    for bad in (dict(n=31), dict(kind=4), dict(k=0, kind=1), dict(inputs=6), dict(pairs=1)):
        args = dict(kind=0, n=10, k=0, point=0, pairs=8, inputs=8) | bad
        with pytest.raises(ValueError):
            kcp.cp_sample(**args, seed=0, instance_ids=[0])


def test_sampled_interval_is_the_empirical_bernstein_bound() -> None:
    u = _explicit_u(2, 15, 0, 0, 64, 8, 0, 4) / 56.0
    est, half = ncp.sampled_interval([int(round(u.sum() * 56))], [int(round((u * u).sum() * 56 * 56))], 64, 8, 15)
    lg = math.log(4 / ncp.SAMPLED_DELTA)
    want = math.sqrt(2 * u.var(ddof=1) * lg / 64) + 7 * (8 / 7) * lg / (3 * 63) + 2 * 15 * 2.0**-64
    assert est[0] == pytest.approx(u.mean(), rel=1e-12, abs=1e-15) and half[0] == pytest.approx(want, rel=1e-12)
    ld = ncp.sampled_interval([123], [4567], 4096, 8, 15, dtype=np.longdouble)
    f64 = ncp.sampled_interval([123], [4567], 4096, 8, 15)
    assert ld[1].dtype == np.longdouble and float(ld[1][0]) == pytest.approx(float(f64[1][0]), rel=1e-14)


@pytest.mark.parametrize("kind, n, k", [(0, 8, 0), (1, 9, 2), (1, 10, 5), (2, 12, 0), (2, 5, 0), (3, 6, 0)])
def test_sampled_cp_covers_the_exact_enumeration(kind: int, n: int, k: int) -> None:
    """Where CP is known by exact enumeration, every interval covers it, and the mean of many
    independent estimates agrees with it to its own (much smaller) standard error."""
    exact = float(ncp.class_cp(kind, n, k, 3)[0])
    o = ncp.sampled_cp(kind, n, k, 3, 7, np.arange(64), backend="numba" if NUMBA else "numpy")
    assert np.all(o["cp_lower"] <= exact) and np.all(exact <= o["cp_upper"])
    se = o["cp_hat"].std(ddof=1) / 8
    assert abs(o["cp_hat"].mean() - exact) <= 5 * se + 1e-12


def test_sampled_cp_of_dictators_covers_1_over_n_and_excludes_0_at_n_13() -> None:
    """Seeds 0..9: every interval covers 1/n at n = 13 and n = 24 with half-width below 0.06; at n = 13
    every interval excludes the printed formula's value 0 (at n = 24, CP = 0.042 is about one half-width)."""
    for seed in range(10):
        for n in (13, 24):
            o = ncp.sampled_cp(2, n, 0, 0, seed, np.arange(32), backend="numba" if NUMBA else "numpy")
            assert np.all(np.abs(o["cp_hat"] - 1 / n) <= o["cp_half"]) and np.all(o["cp_half"] < 0.06)
            if n == 13:
                assert np.all(o["cp_lower"] > 0)


def test_sampled_adapter_replays_in_extended_precision() -> None:
    batch = CLASSES["cp_sampled_k_parities"].families[0].generate(np.random.default_rng(2), 5, Knobs(0, 16, 0, 0, 0, (), 0))
    spec = DYNAMICS["cross_predictability_sampled"]
    ids = np.arange(100, 105)
    from numeric import RunRequest

    def req(problem, w0, ids, dtype):
        return RunRequest(problem=problem, w0=w0, params={}, horizon=0, settings={},
                          backend="numba" if NUMBA and dtype == np.float64 else "numpy", seed=4, instance_ids=ids,
                          dtype=dtype)

    run = spec.run(req(batch.problem, batch.w0, ids, np.float64)).data
    # Instance 3 alone, decoded from its record and rerun in extended precision (as a replay does).
    data = CLASSES["cp_sampled_k_parities"].encode(batch.problem, 3)
    one = CLASSES["cp_sampled_k_parities"].decode(data).astype(np.longdouble)
    again = spec.run(req(one, batch.w0[3:4].astype(np.longdouble), np.array([103]), np.longdouble)).data
    assert float(again["cp_hat"][0]) == pytest.approx(run["cp_hat"][3], rel=1e-15)
    assert float(again["cp_half"][0]) == pytest.approx(run["cp_half"][3], rel=1e-14)


@pytest.mark.skipif(not NUMBA, reason="numba is not installed")
def test_cp_sample_degree_k_groups_agree_with_the_reference_at_every_size() -> None:
    """The numba kernel unranks degree-k pairs eight at a time (partial last group, k = 1..n, n up to
    30): its sums must be the reference's, bit for bit."""
    rng = np.random.default_rng(5)
    for _ in range(25):
        n = int(rng.integers(1, 31))
        ks = rng.integers(1, n + 1, 3)
        pairs = int(rng.integers(2, 40))
        ids = rng.integers(0, 2**40, 3)
        seed = int(rng.integers(0, 2**31))
        a = kcp.cp_sample(1, n, ks, 0, pairs, 8, seed=seed, instance_ids=ids, backend="numpy")
        b = kcp.cp_sample(1, n, ks, 0, pairs, 8, seed=seed, instance_ids=ids, backend="numba")
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]), (n, ks, pairs)
