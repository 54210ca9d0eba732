"""PL family, second part: GD on one-hidden-layer networks (kernels agree, gradients match finite
differences, certified constants hold), the network / GLM / g(Aw) / closest-solution instance classes
(members accepted, instances outside the class rejected), the quartic-Huber CUDA kernel (compiled,
emulated on the CPU, run on a GPU where there is one), and the new claims' verdicts at the quick budget."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from dataclasses import replace

import numpy as np
import pytest

from kernels.pl_networks import activation, gd_net, net_forward, net_jacobian
from numeric import CLASSES, Knobs
from numeric import InstanceBatch
from numeric.families.pl import MinimizerProblem
from numeric.families.pl_networks import SUP_D2PHI, NetProblem

NET = CLASSES["os_network"]
GLM = CLASSES["rsi_leaky_glm"]
PL_CLS = CLASSES["pl_smooth"]
PROJ = CLASSES["ls_projection"]


def _batch(cls, family: str, pattern: int = 0, dim: int = 3, n: int = 16, seed: int = 1, log_w0: float = 0.0) -> InstanceBatch:
    fam = next(f for f in cls.families if f.name == family)
    return fam.generate(np.random.default_rng(seed), n, Knobs(0, dim, pattern, 0.2, log_w0, (1.0,), seed))


def _with(batch: InstanceBatch, **attrs) -> InstanceBatch:
    new = dict(batch.attrs)
    for k, f in attrs.items():
        new[k] = f(new[k])
    return replace(batch, attrs=new)


def _loss(X, v, y, W, act, a=0.0):
    r = net_forward(X, v, W, act, a) - y
    return 0.5 * (r * r).sum(axis=1)


# ------------------------------------------------------------------------------------------ kernels


@pytest.mark.parametrize("act", [0, 1, 2])
def test_net_kernels_agree_in_float64_and_longdouble(act) -> None:
    g = np.random.default_rng(10 + act)
    B, n, d, k, T = 12, 5, 3, 4, 25
    X = g.standard_normal((B, n, d))
    v = g.standard_normal((B, k)) / 2
    y = g.standard_normal((B, n))
    W0 = g.standard_normal((B, k * d))
    anchor = g.standard_normal((B, k * d))
    a = g.uniform(0.1, 0.9, B)
    eta = g.uniform(0.01, 0.1, B)
    ref = gd_net(X, v, y, act, W0, eta, T, a=a, anchor=anchor, keep_iterates=True)
    nb = gd_net(X, v, y, act, W0, eta, T, a=a, anchor=anchor, backend="numba", keep_iterates=True)
    ld = gd_net(X, v, y, act, W0, eta, T, a=a, anchor=anchor, dtype=np.longdouble, keep_iterates=True)
    assert nb.backend == "numba" and ld.res2.dtype == np.longdouble
    for name in ("res2", "res2abs", "gnorm2", "dist2", "dist2abs", "steplen", "w"):
        r, c, lo = getattr(ref, name), getattr(nb, name), getattr(ld, name).astype(np.float64)
        scale = np.abs(r).max() + 1.0
        assert np.abs(c - r).max() <= 1e-11 * scale, name
        assert np.abs(lo - r).max() <= 1e-9 * scale, name
    assert np.all(ref.res2abs >= ref.res2 * (1 - 1e-12)) and np.all(ref.dist2abs >= ref.dist2 * (1 - 1e-12))
    # the recorded trajectory is GD: consecutive iterates differ by the recorded step length
    steps = np.sqrt((np.diff(ref.w, axis=1) ** 2).sum(axis=2))
    assert np.allclose(steps, ref.steplen, rtol=1e-12)
    with pytest.raises(ValueError):
        gd_net(X, v, y, act, W0, eta, T, a=a, backend="numba", dtype=np.float32)


@pytest.mark.parametrize("act", [0, 1, 2])
def test_net_gradient_and_jacobian_match_finite_differences(act) -> None:
    g = np.random.default_rng(20 + act)
    B, n, d, k = 4, 4, 3, 2
    X = g.standard_normal((B, n, d))
    v = g.standard_normal((B, k))
    y = g.standard_normal((B, n))
    W = g.standard_normal((B, k, d))
    a = 0.3
    J = net_jacobian(X, v, W, act, a)
    eta = 1e-3
    step = gd_net(X, v, y, act, W.reshape(B, -1), eta, 1, a=a, keep_iterates=True)
    grad = (step.w[:, 0] - step.w[:, 1]) / eta
    r = net_forward(X, v, W, act, a) - y
    assert np.allclose(grad, np.einsum("bnp,bn->bp", J, r), rtol=1e-10, atol=1e-12)  # grad = J^T r
    h = 1e-6
    for q in range(k * d):
        e = np.zeros(k * d)
        e[q] = h
        Wp, Wm = W + e.reshape(k, d), W - e.reshape(k, d)
        dF = (net_forward(X, v, Wp, act, a) - net_forward(X, v, Wm, act, a)) / (2 * h)
        dL = (_loss(X, v, y, Wp, act, a) - _loss(X, v, y, Wm, act, a)) / (2 * h)
        assert np.allclose(dF, J[:, :, q], rtol=1e-6, atol=1e-7), q
        assert np.allclose(dL, grad[:, q], rtol=1e-6, atol=1e-7), q


def test_activation_derivative_constants() -> None:
    z = np.linspace(-15, 15, 300_001)
    for act in (0, 1):
        phi, d1, d2 = activation(z, act)
        assert np.abs(d1).max() <= 1.0
        assert np.abs(d2).max() == pytest.approx(SUP_D2PHI[act], rel=1e-8)
        h = 1e-5
        assert np.allclose((activation(z + h, act)[0] - activation(z - h, act)[0]) / (2 * h), d1, atol=1e-8)
        assert np.allclose((activation(z + h, act)[1] - activation(z - h, act)[1]) / (2 * h), d2, atol=1e-8)


@pytest.mark.parametrize("family", ["tanh_net", "softplus_net"])
def test_certified_constants_hold_on_the_ball(family) -> None:
    """beta bounds ||J|| and Ljac bounds the Jacobian's Lipschitz ratio at sampled points of the ball
    of radius (4/alpha) ||r_0|| (and beyond it: the bounds are global)."""
    b = _batch(NET, family, dim=4, n=8, seed=3)
    p: NetProblem = b.problem
    B, n, d = p.X.shape
    k = p.v.shape[1]
    g = np.random.default_rng(4)
    r0 = np.linalg.norm(net_forward(p.X, p.v, b.w0.reshape(B, k, d), p.act) - p.y, axis=1)
    R = 4 * r0 / b.attrs["alpha"]
    for scale in (1.0, 50.0):
        for _ in range(20):
            u1, u2 = g.standard_normal((2, B, k * d))
            t1 = b.w0 + (scale * R * g.random(B) / np.linalg.norm(u1, axis=1))[:, None] * u1
            t2 = b.w0 + (scale * R * g.random(B) / np.linalg.norm(u2, axis=1))[:, None] * u2
            J1 = net_jacobian(p.X, p.v, t1.reshape(B, k, d), p.act)
            J2 = net_jacobian(p.X, p.v, t2.reshape(B, k, d), p.act)
            assert np.all(np.linalg.norm(J1, 2, axis=(1, 2)) <= b.attrs["beta"])
            lip = np.linalg.norm(J1 - J2, 2, axis=(1, 2)) / np.linalg.norm(t1 - t2, axis=1)
            assert np.all(lip <= b.attrs["Ljac"])
    sv = np.linalg.svd(net_jacobian(p.X, p.v, b.w0.reshape(B, k, d), p.act), compute_uv=False)
    assert np.all(sv[:, -1] >= 2 * b.attrs["alpha"])
    assert np.all(r0 <= b.attrs["alpha"] ** 2 / (4 * b.attrs["Ljac"]))


# ---------------------------------------------------------------------------- membership checks


@pytest.mark.parametrize("cls,family", [(NET, "tanh_net"), (NET, "softplus_net"), (GLM, "leaky_glm"),
                                        (PL_CLS, "g_of_aw"), (PROJ, "ls_projection")])
@pytest.mark.parametrize("pattern", range(4))
@pytest.mark.parametrize("dim", [1, 2, 5])
def test_generated_instances_are_members(cls, family, pattern, dim) -> None:
    if cls is NET and dim == 1:
        dim = 2
    ok, why = cls.member(_batch(cls, family, pattern, dim, log_w0=-0.5))
    assert ok.all(), [w for w in why if w]


@pytest.mark.parametrize("change,reason", [
    ({"alpha": lambda x: 1.01 * x}, "sigma_min"),
    ({"beta": lambda x: 0.99 * x}, "beta"),
    ({"Ljac": lambda x: 0.99 * x}, "Ljac"),
])
def test_network_outside_class_is_rejected(change, reason) -> None:
    b = _with(_batch(NET, "tanh_net", pattern=0, dim=4), **change)
    ok, why = NET.member(b)
    assert not ok.any() and all(reason in w for w in why)


def test_network_with_a_large_initial_residual_is_rejected() -> None:
    b = _batch(NET, "softplus_net", pattern=1, dim=3)  # residual at 0.999 of its bound
    p: NetProblem = b.problem
    B, n, d = p.X.shape
    r0 = net_forward(p.X, p.v, b.w0.reshape(B, -1, d), p.act) - p.y
    bad = replace(b, problem=replace(p, y=p.y - 2 * r0))  # residual 3 r0: beyond alpha^2 / (4 Ljac)
    ok, why = NET.member(bad)
    assert not ok.any() and all("initial residual" in w for w in why)


@pytest.mark.parametrize("change,reason", [({"mu": lambda m: 1.01 * m}, "mu ="), ({"L": lambda L: 0.98 * L}, "L =")])
def test_glm_outside_class_is_rejected(change, reason) -> None:
    b = _with(_batch(GLM, "leaky_glm", pattern=3, dim=3), **change)
    ok, why = GLM.member(b)
    assert not ok.any() and all(reason in w for w in why)


def test_glm_with_a_wrong_minimizer_is_rejected() -> None:
    b = _batch(GLM, "leaky_glm", dim=3)
    moved = replace(b, problem=replace(b.problem, anchor=b.problem.anchor + 0.1))
    ok, why = GLM.member(moved)
    assert not ok.any() and all("not the minimizer" in w for w in why)


def test_glm_satisfies_rsi_and_the_gradient_bound() -> None:
    b = _batch(GLM, "leaky_glm", pattern=1, dim=5, n=32)
    p: NetProblem = b.problem
    g = np.random.default_rng(5)
    for _ in range(30):
        w = p.anchor + g.standard_normal(p.anchor.shape) * 10.0 ** g.uniform(-2, 1)
        one = gd_net(p.X, p.v, p.y, 2, w, 1.0, 1, a=p.a, keep_iterates=True)
        grad = one.w[:, 0] - one.w[:, 1]  # eta = 1
        dw = w - p.anchor
        ip = (grad * dw).sum(axis=1)
        assert np.all(ip >= b.attrs["mu"] * (dw * dw).sum(axis=1))
        assert np.all(np.linalg.norm(grad, axis=1) <= b.attrs["L"] * np.linalg.norm(dw, axis=1))


def test_g_of_aw_is_pl_and_outside_class_is_rejected() -> None:
    b = _batch(PL_CLS, "g_of_aw", pattern=0, dim=4, n=8)
    rq = b.problem.ridge
    g = np.random.default_rng(6)
    from kernels import gd

    for _ in range(10):
        w = b.problem.wstar + g.standard_normal(b.w0.shape) * 10.0 ** g.uniform(-2, 1)
        tr = gd(rq, w, np.zeros(b.size), 0)
        assert np.all(tr.gnorm2[:, 0] >= b.attrs["mu"] * (tr.f[:, 0] - b.attrs["f_star"]) * (1 - 1e-9))
    for change, reason in (({"mu": lambda m: 1.01 * m}, "PL constant"), ({"L": lambda L: 0.9 * L}, "exceeds L"),
                           ({"f_star": lambda f: f - 1.0}, "f_star")):
        ok, why = PL_CLS.member(_with(b, **change))
        assert not ok.any() and all(reason in w for w in why)
    # g not strongly convex in the range of A: a negative log-cosh coefficient is rejected
    bad = replace(b, problem=MinimizerProblem(replace(rq, c=-rq.c - 1.0), b.problem.wstar))
    ok, why = PL_CLS.member(bad)
    assert not ok.any() and all("gamma >= 0" in w for w in why)


def test_ls_projection_rejects_a_solution_that_is_not_the_closest() -> None:
    b = _batch(PROJ, "ls_projection", pattern=2, dim=5)  # rank deficient, w0 != 0
    lam = np.linalg.eigvalsh(b.problem.ridge.A)
    assert np.any(lam[:, 0] < 1e-9 * lam[:, -1])
    # the minimum-norm solution is a solution, but not the one closest to w0
    H, bb = b.problem.ridge.A, b.problem.ridge.b
    wmn = np.stack([np.linalg.lstsq(H[i], -bb[i], rcond=None)[0] for i in range(b.size)])
    bad = replace(b, problem=MinimizerProblem(b.problem.ridge, wmn))
    ok, why = PROJ.member(bad)
    assert not ok.any() and all("closest" in w for w in why)
    # and GD from w0 converges to w*, the projection (and to the min-norm solution from w0 = 0)
    from kernels import gd

    for pattern in (2, 1):
        b = _batch(PROJ, "ls_projection", pattern=pattern, dim=5)
        tr = gd(b.problem.ridge, b.w0, 1.0 / b.attrs["L"], 40000, backend="numba", keep_iterates=False)
        assert np.allclose(tr.w_last, b.problem.wstar, atol=1e-6 * (1 + np.abs(b.problem.wstar).max()))


# ------------------------------------------------------------------------- quartic CUDA kernel


def _quartic_case(seed: int = 3):
    g = np.random.default_rng(seed)
    B, d = 37, 3
    a, s = 10 ** g.uniform(-1, 1, B), 10 ** g.uniform(-1, 1, B)
    w0 = s[:, None] * g.uniform(-5, 5, (B, d))
    eta = g.uniform(0, 1, B) * s**2 / (12 * a)
    return a, s, w0, eta


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="CUDA toolkit (nvcc) not installed")
def test_quartic_cuda_source_compiles_for_the_device(tmp_path) -> None:
    from kernels import pl

    src = tmp_path / "quartic.cu"
    src.write_text(pl._CUDA_PRELUDE + pl.CUDA_SOURCE)
    out = tmp_path / "q.ptx"
    res = subprocess.run(["nvcc", "-ptx", "-arch=compute_80", "--fmad=false", str(src), "-o", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert f".entry {pl.CUDA_KERNEL}(" in out.read_text()


@pytest.mark.skipif(shutil.which("g++") is None, reason="no C++ compiler")
def test_quartic_cuda_source_emulated_on_the_cpu_matches_numba(tmp_path) -> None:
    """The CUDA source compiled as C++ with a sequential loop over the thread index reproduces the
    numba kernel (same operations in the same order)."""
    from kernels import pl

    prelude = ("#include <math.h>\n#define __global__\nstatic long long tc_emu_id;\n#define TC_GLOBAL_ID tc_emu_id\n")
    launcher = ('extern "C" void launch(const double* a, const double* s, const double* w0, const double* eta, '
                'double* f, double* g2, double* fab, double* W, long long B, int d, int T) {\n'
                '  for (tc_emu_id = 0; tc_emu_id < B; tc_emu_id++) tc_quartic_gd(a, s, w0, eta, f, g2, fab, W, B, d, T);\n}\n')
    src = tmp_path / "emu.cpp"
    src.write_text(prelude + pl.CUDA_SOURCE.replace("__restrict__", "") + launcher)
    lib = tmp_path / "emu.so"
    res = subprocess.run(["g++", "-O2", "-ffp-contract=off", "-shared", "-fPIC", str(src), "-o", str(lib)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    a, s, w0, eta = _quartic_case()
    B, d = w0.shape
    T = 60
    f, g2, fab = (np.empty((B, T + 1)) for _ in range(3))
    W = np.empty((B, T + 1, d))
    ptr = lambda x: np.ascontiguousarray(x).ctypes.data_as(ctypes.c_void_p)  # noqa: E731
    ctypes.CDLL(str(lib)).launch(*(ptr(x) for x in (a, s, w0, eta, f, g2, fab, W)),
                                 ctypes.c_longlong(B), ctypes.c_int(d), ctypes.c_int(T))
    nb = pl.gd_quartic_huber(a, s, w0, eta, T, backend="numba")
    for got, want in ((f, nb.f), (g2, nb.gnorm2), (fab, nb.fabs), (W, nb.w)):
        assert np.allclose(got, want, rtol=1e-13, atol=0)


def test_quartic_cupy_backend_is_unavailable_without_a_device() -> None:
    import importlib.util

    import kernels
    from kernels.pl import gd_quartic_huber

    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("CuPy is installed here; the gpu test covers it")
    with pytest.raises(kernels.BackendUnavailable):
        gd_quartic_huber([1.0], [1.0], [[1.0]], [0.05], 3, backend="cupy")


@pytest.mark.gpu
def test_quartic_cupy_kernel_matches_the_reference() -> None:
    cp = pytest.importorskip("cupy")
    try:
        if cp.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no CUDA device: {exc}")
    from kernels.pl import gd_quartic_huber

    a, s, w0, eta = _quartic_case(5)
    ref = gd_quartic_huber(a, s, w0, eta, 80)
    gpu = gd_quartic_huber(a, s, w0, eta, 80, backend="cupy")
    assert gpu.backend == "cupy"
    for name in ("f", "gnorm2", "fabs", "w"):
        r, c = getattr(ref, name), getattr(gpu, name)
        assert np.allclose(c, r, rtol=1e-12, atol=1e-300), name


# ------------------------------------------------------------------------------- verdicts, report


def test_new_claims_have_their_expected_verdicts_on_a_small_search() -> None:
    """A small search (the quick budget runs through ``pytest theorems/``): the pipeline runs the new
    dynamics end to end, and the KNS report carries the per-step contraction series."""
    from numeric import Budget
    from numeric import Found
    from theorems.pipeline import run_theorem, snippet
    from theorems.registry import load_registry

    small = Budget("small", bulk_rounds=4, bulk_batch=64, examples=6, example_batch=16, confirm=2)
    reg = load_registry()
    for tid in ("pl.os_key_lemma_network", "pl.overparam_ls_closest_solution", "pl.kns_example"):
        for rec in run_theorem(reg.theorems[tid], budget=small, seed=0, backend="numba", lookup=reg.lookup):
            assert rec.verdict == rec.expected, (rec.theorem, rec.claim, rec.reason)
            assert rec.instances >= 256
            if rec.theorem == "pl.os_key_lemma_network":  # the gd_net replay snippet runs
                w = rec.worst_instance
                found = Found(w.family, w.dynamics, w.data, w.params, w.step, w.observed, w.bound, w.ratio, w.slack, 0, 0)
                thm = reg.theorems[tid]
                out: dict = {}
                exec(compile(snippet(thm, thm.claim(rec.claim), found), "<replay>", "exec"), out)
                assert float(out["observed"]) == pytest.approx(w.observed, rel=1e-9, abs=1e-12)
                assert float(out["bound"]) == pytest.approx(w.bound, rel=1e-9)
            if rec.theorem == "pl.kns_example":
                s = rec.series["worst"]
                assert len(s["observed"]) == len(s["bound"]) > 1
                if rec.claim == "one_step_contraction":  # observed contraction vs the stated bound, per step
                    assert all(o <= b + 1e-12 * abs(b) for o, b in zip(s["observed"], s["bound"]))
                if rec.claim == "sufficient_decrease":  # the published mu_K = 1/32 is loose
                    assert rec.worst_ratio < 0.5
