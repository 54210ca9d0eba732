"""Family 5 (saddle escape): kernels, instance classes, adapters and the catalogue's specs."""

from __future__ import annotations

import ctypes
import math
import shutil
import subprocess
import sys
import types
from fractions import Fraction

import numpy as np
import pytest
import sympy

from kernels import rng
from kernels.escape import BALL_DRAW, SaddleProblem, coupled_gd, gd_saddle, pgd, psd_shift_test
from numeric.families.escape import (
    bottom_index,
    certificate,
    growth_factor,
    growth_factor_rounded,
    local_region,
    saddle_gamma,
)
from numeric import CLASSES, Knobs
from numeric.families.escape_volume import gamma_ratio


def sine_problem(B: int = 24, d: int = 5, seed: int = 0) -> SaddleProblem:
    g = np.random.default_rng(seed)
    h = g.uniform(0.1, 1.0, (B, d))
    h[:, 0] = -g.uniform(0.05, 0.3, B)
    return SaddleProblem(h, np.full((B, d), 0.3), np.zeros((B, d)), np.zeros(B), np.zeros(B), xs=np.zeros((B, d)))


def matrix_problem(B: int = 24, d: int = 5, seed: int = 0) -> SaddleProblem:
    g = np.random.default_rng(seed)
    lam = np.sort(g.uniform(0.5, 2.0, (B, d)), axis=1)[:, ::-1]
    return SaddleProblem(-lam, np.zeros((B, d)), np.zeros((B, d)), np.ones(B), (lam**2).sum(axis=1) / 4,
                         xs=np.zeros((B, d)))


def quartic_problem(B: int = 24, d: int = 5, seed: int = 0) -> SaddleProblem:
    g = np.random.default_rng(seed)
    h = g.uniform(0.5, 2.0, (B, d))
    h[:, 0] = -1.0
    q = np.zeros((B, d))
    q[:, 0] = 1.0
    return SaddleProblem(h, np.zeros((B, d)), q, np.zeros(B), np.zeros(B), xs=np.zeros((B, d)))


PROBLEMS = {"sine": sine_problem, "matrix": matrix_problem, "quartic": quartic_problem}


# ------------------------------------------------------------------------------------------------
# the function, its derivatives and the second-order test
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(PROBLEMS))
def test_gradient_and_hessian_match_finite_differences(kind):
    p = PROBLEMS[kind]()
    x = np.random.default_rng(1).standard_normal((p.batch, p.dim))
    e = 1e-6
    I = np.eye(p.dim)
    fd = np.stack([(p.value(x + e * I[i]) - p.value(x - e * I[i])) / (2 * e) for i in range(p.dim)], axis=1)
    assert np.allclose(p.grad(x), fd, rtol=1e-6, atol=1e-6)
    fdH = np.stack([(p.grad(x + e * I[i]) - p.grad(x - e * I[i])) / (2 * e) for i in range(p.dim)], axis=2)
    assert np.allclose(p.hessian(x), fdH, rtol=1e-6, atol=1e-6)
    v = np.random.default_rng(2).standard_normal(x.shape)
    assert np.allclose(p.hess_apply(x, v), np.einsum("bij,bj->bi", p.hessian(x), v))


def test_matrix_problem_is_the_matrix_factorization_loss():
    p = matrix_problem(B=4, d=3)
    x = np.random.default_rng(0).standard_normal((4, 3))
    M = np.einsum("bi,ij->bij", -p.h, np.eye(3))
    direct = 0.25 * ((M - x[:, :, None] * x[:, None, :]) ** 2).sum(axis=(1, 2))
    assert np.allclose(p.value(x), direct)


@pytest.mark.parametrize("tau", [0.0, 0.3, 1.0, 3.0, 10.0])
def test_psd_shift_test_agrees_with_eigenvalues(tau):
    p = matrix_problem(B=200, d=6, seed=3)
    x = np.random.default_rng(4).standard_normal((200, 6)) * 0.8
    ev = np.linalg.eigvalsh(p.hessian(x) + tau * np.eye(6))[:, 0]
    got = psd_shift_test(p.hess_diag(x) + tau, 2 * p.s[:, None] * x * x)
    clear = np.abs(ev) > 1e-9
    assert np.array_equal(got[clear], ev[clear] >= 0)
    if tau in (0.3, 1.0):
        assert got.any() and (~got).any()


# ------------------------------------------------------------------------------------------------
# kernels: reference vs numba, noise, replication
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(PROBLEMS))
def test_gd_numba_matches_reference(kind):
    p = PROBLEMS[kind]()
    x0 = np.random.default_rng(5).standard_normal((p.batch, p.dim)) * 0.1
    eta = np.full(p.batch, 0.05)
    a = gd_saddle(p, x0, eta, 30, backend="numpy")
    b = gd_saddle(p, x0, eta, 30, backend="numba")
    for k in ("f", "fabs", "gnorm2", "dist2", "xnorm_max"):
        assert np.allclose(getattr(a, k), getattr(b, k), rtol=1e-12, atol=1e-14), k


@pytest.mark.parametrize("mode", ["gaussian", "ball"])
@pytest.mark.parametrize("stop", [False, True])
def test_pgd_numba_matches_reference(mode, stop):
    p = quartic_problem(B=32, d=4)
    x0 = np.zeros((32, 4))
    kw = dict(perturbation=mode, r=0.05, eps=0.05, tau=np.sqrt(0.05), tcal=15, seed=7, instance_ids=np.arange(32),
              stop_at_hit=stop)
    a = pgd(p, x0, 0.1, 200, backend="numpy", **kw)
    b = pgd(p, x0, 0.1, 200, backend="numba", **kw)
    assert np.array_equal(a.hit, b.hit)
    assert np.array_equal(a.perturbations, b.perturbations)
    assert (a.hit >= 0).mean() > 0.5
    for k in ("f_first", "f_last", "maxdist2", "xnorm_max"):
        assert np.allclose(getattr(a, k), getattr(b, k), rtol=1e-9, atol=1e-12), k


def test_gaussian_noise_is_the_counter_based_stream():
    """One step of form (a) from a critical point moves by exactly -eta (r/sqrt(d)) normal(seed, id, 0, i)."""
    p = sine_problem(B=3, d=5)
    ids = np.array([11, 12, 2**40 + 3])
    for backend in ("numpy", "numba"):
        tr = pgd(p, np.zeros((3, 5)), 0.5, 1, perturbation="gaussian", r=2.0, eps=0.0, tau=0.0, seed=9,
                 instance_ids=ids, backend=backend)
        z = rng.normal(9, ids[:, None], 0, np.arange(5)[None, :])
        assert np.allclose(tr.maxdist2, (0.5 * 2.0 / np.sqrt(5)) ** 2 * (z * z).sum(axis=1), rtol=1e-13)


def test_ball_perturbation_is_uniform_in_the_ball():
    """x_1 - x_0 = -eta xi at a critical point with a flat f; (|xi|/r)^d is uniform on [0, 1] and the
    direction is isotropic."""
    B, d = 4000, 3
    p = SaddleProblem(np.zeros((B, d)), np.zeros((B, d)), np.zeros((B, d)), np.zeros(B), np.zeros(B))
    tr = pgd(p, np.zeros((B, d)), 1.0, 1, perturbation="ball", r=1.0, eps=1.0, tau=1.0, tcal=5, seed=1,
             instance_ids=np.arange(B), backend="numba")
    # a flat f is an eps-SOSP at t = 0, but the run goes on (stop_at_hit=False): one perturbation, one GD step
    assert np.all(tr.perturbations == 1)
    u = np.sqrt(tr.maxdist2) ** d
    assert abs(u.mean() - 0.5) < 0.03 and abs((u < 0.25).mean() - 0.25) < 0.03
    assert 0 < BALL_DRAW < 2**32


def test_replicated_trials_differ_and_replay_alone():
    p = quartic_problem(B=2, d=3).take(np.repeat([0, 1], 50))
    assert p.batch == 100 and p.xs.shape == (100, 3)
    kw = dict(perturbation="ball", r=0.05, eps=0.05, tau=np.sqrt(0.05), tcal=20, seed=3, stop_at_hit=True)
    tr = pgd(p, np.zeros((100, 3)), 0.1, 300, instance_ids=np.arange(100), backend="numba", **kw)
    assert len(set(tr.f_last[:50].round(12))) > 10
    one = pgd(p.take([37]), np.zeros((1, 3)), 0.1, 300, instance_ids=[37], backend="numpy", **kw)
    assert one.hit[0] == tr.hit[37] and np.isclose(one.f_last[0], tr.f_last[37], rtol=1e-10)


def test_reference_runs_in_extended_precision():
    p = quartic_problem(B=4, d=3)
    tr = pgd(p, np.zeros((4, 3)), 0.1, 100, perturbation="ball", r=0.05, eps=0.05, tau=0.2, tcal=20, seed=1,
             instance_ids=np.arange(4), dtype=np.longdouble)
    assert tr.f_last.dtype == np.longdouble
    c = coupled_gd(p, np.full((4, 3), 1e-3), np.full((4, 3), 1e-3) - [1e-4, 0, 0], p.xs, 0.1, 1.0, 50,
                   dtype=np.longdouble)
    assert c.err.dtype == np.longdouble and np.all(c.err <= 1e-17 * c.errscale + 1e-300)


@pytest.mark.parametrize("kind", sorted(PROBLEMS))
def test_coupled_pair_decomposition_and_backends(kind):
    p = PROBLEMS[kind]()
    g = np.random.default_rng(6)
    x0 = p.xs + 1e-3 * g.standard_normal((p.batch, p.dim))
    idx = bottom_index(p)
    x0p = x0.copy()
    x0p[np.arange(p.batch), idx] -= 1e-4
    gam = saddle_gamma(p)
    eta = np.full(p.batch, 0.05)
    a = coupled_gd(p, x0, x0p, p.xs, eta, gam, 120, backend="numpy")
    b = coupled_gd(p, x0, x0p, p.xs, eta, gam, 120, backend="numba")
    for k in ("xhat", "p", "q", "dnorm", "dist", "errscale"):
        assert np.allclose(getattr(a, k), getattr(b, k), rtol=1e-9, atol=1e-15), k
    assert np.all(a.err <= 64 * np.finfo(float).eps * a.errscale)
    # p(t) = (1 + eta gamma)^t xhat_0 exactly in exact arithmetic
    t = np.arange(121)
    assert np.allclose(a.p, (1 + eta * gam)[:, None] ** t * a.xhat[:, :1], rtol=1e-12)


def test_delta_norm_is_exact_for_separable_instances():
    """||Delta|| from the kernel equals the dense computation (Gauss-Legendre quadrature of the Hessian) when s = 0,
    and bounds it from above otherwise."""
    for kind in ("sine", "quartic", "matrix"):
        p = PROBLEMS[kind](B=6, d=4)
        g = np.random.default_rng(8)
        x, xp = 0.3 * g.standard_normal((6, 4)), 0.3 * g.standard_normal((6, 4))
        c = coupled_gd(p, x, xp, p.xs, 0.1, 1.0, 0)
        nodes, weights = np.polynomial.legendre.leggauss(40)
        H0 = p.hessian(p.xs)
        Dm = sum(w / 2 * (p.hessian(xp + (th + 1) / 2 * (x - xp)) - H0) for th, w in zip(nodes, weights))
        exact = np.abs(np.linalg.eigvalsh(Dm)).max(axis=1)
        if kind == "matrix":
            assert np.all(c.dnorm[:, 0] >= exact * (1 - 1e-10))
        else:
            assert np.allclose(c.dnorm[:, 0], exact, rtol=1e-9)


def test_boundary_errors():
    p = sine_problem(B=2, d=3)
    with pytest.raises(ValueError, match="perturbation"):
        pgd(p, np.zeros((2, 3)), 0.1, 5, perturbation="uniform", r=1, eps=1, tau=1, seed=0, instance_ids=[0, 1])
    with pytest.raises(ValueError, match="shape"):
        gd_saddle(p, np.zeros((3, 3)), 0.1, 5)
    with pytest.raises(ValueError, match="float64 only"):
        gd_saddle(p, np.zeros((2, 3)), 0.1, 5, backend="numba", dtype=np.float32)
    with pytest.raises(ValueError, match="nonnegative"):
        pgd(p, np.zeros((2, 3)), 0.1, 5, perturbation="ball", r=-1, eps=1, tau=1, seed=0, instance_ids=[0, 1])


# ------------------------------------------------------------------------------------------------
# instance classes
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cname", ["saddle_global", "saddle_any", "saddle_deep", "saddle_minima"])
def test_generators_produce_members(cname):
    cls = CLASSES[cname]
    for fi, fam in enumerate(cls.families):
        for dim in (1, 2, 7, 40):
            for pat in range(3):
                k = Knobs(fi, dim, pat, float(pat) / 2 - 0.5, -1.5 + pat, (), 1)
                b = fam.generate(np.random.default_rng(dim * 10 + pat), 8, k)
                ok, why = cls.member(b)
                assert ok.all(), (fam.name, dim, pat, [w for w in why if w][:2])
                assert np.all(b.attrs["gamma"] > 0)


def test_membership_rejects_understated_constants():
    cls = CLASSES["saddle_any"]
    for fi, fam in enumerate(cls.families):
        b = fam.generate(np.random.default_rng(0), 6, Knobs(fi, 5, 0, 0.0, 0.0, (), 1))
        for key in ("ell", "rho", "gamma"):
            attrs = dict(b.attrs)
            attrs[key] = attrs[key] * 0.9
            ok, why = cls.member(type(b)(b.family, b.problem, b.w0, attrs))
            assert not ok.any(), (fam.name, key)


def test_local_region_contains_gd_iterates():
    """The certificate region of a quartic instance contains every GD iterate (eta = 1/ell) from w0, and the
    Hessian norm along the run stays below ell."""
    cls = CLASSES["saddle_any"]
    for fi in (1, 2):
        b = cls.families[fi].generate(np.random.default_rng(fi), 16, Knobs(fi, 4, 0, 0.0, 0.5, (), 1))
        p = b.problem
        box, ball = local_region(p, b.attrs["delta0"])
        tr = gd_saddle(p, b.w0, 1 / b.attrs["ell"], 400, backend="numba")
        assert np.all(tr.xnorm_max <= np.where(np.isfinite(ball), ball, np.inf))
        assert np.all(np.diff(tr.f, axis=1) <= 1e-12 * tr.fabs[:, 1:])
        ell, _ = certificate(p, box, ball)
        assert np.allclose(ell, b.attrs["ell"])


def test_deep_class_growth_factor():
    b = CLASSES["saddle_deep"].families[0].generate(np.random.default_rng(0), 8, Knobs(0, 3, 0, 0.0, 0.0, (), 1))
    ratio = b.attrs["gamma"] / b.attrs["ell"]
    assert np.all((ratio >= 0.1) & (ratio <= 1))
    assert np.allclose(b.attrs["G"], (1 + ratio) ** 100, rtol=1e-13)
    # G is stored correctly rounded; the extended-precision power is within one ulp of it
    assert np.array_equal(growth_factor_rounded(b.attrs["gamma"], b.attrs["ell"]), b.attrs["G"])
    assert np.all(np.abs(growth_factor(b.attrs["gamma"], b.attrs["ell"]) - b.attrs["G"]) <= np.spacing(b.attrs["G"]))


# ------------------------------------------------------------------------------------------------
# the volume ratio
# ------------------------------------------------------------------------------------------------


def test_gamma_ratio_matches_sympy_gamma():
    for d in (1, 2, 3, 10, 101, 1000):
        exact = sympy.gamma(sympy.Rational(d, 2) + 1) / sympy.gamma(sympy.Rational(d, 2) + sympy.Rational(1, 2))
        assert math.isclose(float(gamma_ratio(np.array([float(d)]))[0]), float(exact.evalf(30)), rel_tol=1e-11)
        ld = gamma_ratio(np.array([d], dtype=np.longdouble))[0]
        assert abs(ld - np.longdouble(str(exact.evalf(30)))) <= 4 * np.finfo(np.longdouble).eps * ld


def test_volume_ratio_identity_symbolically():
    """eta omega Vol(B^{d-1}(eta r)) / Vol(B^d(eta r)) = (omega/(r sqrt(pi))) Gamma(d/2+1)/Gamma(d/2+1/2)."""
    d, eta, omega, r = sympy.symbols("d eta omega r", positive=True)

    def vol(k, R):
        return sympy.pi ** (k / 2) * R**k / sympy.gamma(k / 2 + 1)

    lhs = eta * omega * vol(d - 1, eta * r) / vol(d, eta * r)
    rhs = omega / (r * sympy.sqrt(sympy.pi)) * sympy.gamma(d / 2 + 1) / sympy.gamma(d / 2 + sympy.Rational(1, 2))
    assert sympy.simplify(sympy.powsimp(lhs / rhs, force=True)) == 1


def test_volume_ratio_bound_exactly_for_d_up_to_3000():
    """(1/sqrt(pi)) Gamma(d/2+1)/Gamma(d/2+1/2) <= sqrt(d/pi) in exact rational arithmetic, with pi between
    rational bounds: for d = 2k the ratio is A_k / pi with A_k = 4^k (k!)^2/(2k)!, for d = 2k+1 it is B_k with
    B_k = (2k+2)! / (4^(k+1) (k+1)! k!)."""
    pi_lo, pi_hi = Fraction(314159265358979, 10**14), Fraction(314159265358980, 10**14)
    A = Fraction(1)  # A_0
    B = Fraction(1, 2)  # B_0 = Gamma(3/2)/(Gamma(1) sqrt(pi)) = 1/2
    for k in range(0, 1500):
        if k >= 1:
            A = A * 2 * k / (2 * k - 1)
            B = B * (2 * k + 1) / (2 * k)
            assert A * A <= 2 * k * pi_lo  # d = 2k: (A/pi)^2 <= 2k/pi
        assert B * B * pi_hi <= 2 * k + 1  # d = 2k+1: B^2 <= (2k+1)/pi
    # and the asymptote sqrt(d/(2 pi)) is *not* a bound (the ratio exceeds it for every d)
    assert A * A > k * pi_hi


# ------------------------------------------------------------------------------------------------
# specs
# ------------------------------------------------------------------------------------------------


def test_catalogue_validates_and_expectations():
    from theorems.catalogue import escape
    from theorems.registry import load_registry

    reg = load_registry()
    assert not [p for p in reg.problems if p.source.startswith("escape.")], [str(p) for p in reg.problems]
    assert {t.id for t in escape.THEOREMS} <= set(reg.theorems)
    c = escape.coupling.claim("q_half_p_as_printed")
    assert c.printed and escape.coupling.expected(c).value == "fail"
    assert escape.escape_time_scaling.expected(escape.escape_time_scaling.claim("at_least_sqrt_d")).value == "fail"
    assert "descent.lemma_2_1_4" in escape.lemma_7_3_2.depends_on


def test_improve_or_localize_is_proved_and_volume_ratio_is_proved():
    from theorems.catalogue import escape
    from theorems.pipeline import check_derivations
    from theorems.registry import load_registry

    reg = load_registry()
    for thm, claim in ((escape.lemma_7_3_2, "improve_or_localize"), (escape.volume_ratio, "volume_ratio_bound")):
        recs = check_derivations(thm, thm.claim(claim), reg.lookup)
        assert recs and all(r.status == "proved" for r in recs)


# ------------------------------------------------------------------------------------------------
# CuPy
# ------------------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="CUDA toolkit (nvcc) not installed")
def test_cuda_source_compiles(tmp_path):
    from kernels.escape import cupy as _escape_cupy

    src = tmp_path / "esc.cu"
    src.write_text(_escape_cupy.SOURCE)
    res = subprocess.run(["nvcc", "-ptx", "-arch=compute_80", *_escape_cupy.NVRTC_OPTIONS, str(src), "-o",
                          str(tmp_path / "esc.ptx")], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    ptx = (tmp_path / "esc.ptx").read_text()
    for kernel in ("esc_pgd", "esc_gd", "esc_coupled"):
        assert f".entry {kernel}(" in ptx, kernel


def test_cupy_backend_is_unavailable_without_cupy_or_a_device():
    import importlib.util

    import kernels

    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("CuPy is installed here; the gpu tests cover it")
    p = sine_problem(B=2, d=3)
    x0 = np.zeros((2, 3))
    with pytest.raises(kernels.BackendUnavailable):
        gd_saddle(p, x0, 0.1, 3, backend="cupy")
    with pytest.raises(kernels.BackendUnavailable):
        coupled_gd(p, x0, x0, p.xs, 0.1, 1.0, 3, backend="cupy")
    with pytest.raises(kernels.BackendUnavailable):
        pgd(p, x0, 0.1, 3, perturbation="ball", r=1, eps=1, tau=1, seed=0, instance_ids=[0, 1], backend="cupy")


# CPU emulation of the CUDA source: compiled as C++ with the thread indices as host globals, each launch run
# as a sequential loop over (block, thread), behind a NumPy stand-in for the part of CuPy that
# kernels.escape.cupy uses -- so the Python glue (layouts, transposes, argument types) runs too.

_EMU_PRELUDE = """
#include <math.h>
#define __global__
#define __device__
#define __forceinline__ inline
struct tc_emu_dim3 { unsigned int x; };
static tc_emu_dim3 blockIdx, blockDim, threadIdx;
extern "C" void tc_emu_thread(unsigned int b, unsigned int bd, unsigned int t) {
    blockIdx.x = b; blockDim.x = bd; threadIdx.x = t;
}
"""


class _HostArray(np.ndarray):
    """A NumPy array with CuPy's ``.get()``."""

    def get(self) -> np.ndarray:
        return np.array(self)


def _h(a) -> _HostArray:
    return np.asarray(a).view(_HostArray)


def _fake_cupy() -> types.ModuleType:
    m = types.ModuleType("cupy")
    m.int64 = np.int64
    m.uint64 = np.uint64
    m.asarray = lambda x, dtype=None: _h(np.array(x, dtype=dtype))
    m.ascontiguousarray = lambda x: _h(np.ascontiguousarray(x))

    def empty(shape, dtype=np.float64):  # poisoned, so that an output the kernel forgets shows up
        dt = np.dtype(dtype)
        return _h(np.full(shape, np.nan if dt.kind == "f" else -123456789, dtype=dt))

    m.empty = empty
    return m


_SCALARS = {np.int32: ctypes.c_int, np.int64: ctypes.c_longlong, np.uint64: ctypes.c_ulonglong}


class _EmulatedModule:
    def __init__(self, lib: ctypes.CDLL):
        self.lib = lib

    def get_function(self, name: str):
        fn = getattr(self.lib, name)

        def launch(grid, block, args):
            cargs = []
            for a in args:
                if isinstance(a, np.ndarray):
                    assert a.flags.c_contiguous and a.dtype in (np.float64, np.int64, np.uint64), (name, a.dtype)
                    cargs.append(ctypes.c_void_p(a.ctypes.data))
                else:
                    cargs.append(_SCALARS[type(a)](int(a)))
            for b in range(grid[0]):
                for t in range(block[0]):
                    self.lib.tc_emu_thread(ctypes.c_uint(b), ctypes.c_uint(block[0]), ctypes.c_uint(t))
                    fn(*cargs)

        return launch


@pytest.fixture(scope="module")
def _emulated_lib(tmp_path_factory):
    from kernels.escape import cupy as _escape_cupy

    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        pytest.skip("no C++ compiler for the CPU emulation of the CUDA kernels")
    tmp = tmp_path_factory.mktemp("esc_emu")
    src = tmp / "emu.cpp"
    src.write_text(_EMU_PRELUDE + _escape_cupy.SOURCE)
    lib_path = tmp / "emu.so"
    res = subprocess.run([cxx, "-O2", "-ffp-contract=off", "-shared", "-fPIC", str(src), "-o", str(lib_path)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return ctypes.CDLL(str(lib_path))


@pytest.fixture
def emulated(_emulated_lib, monkeypatch):
    """kernels.escape.cupy with CuPy replaced by a NumPy stand-in and launches run by the emulation."""
    from kernels.escape import cupy as _escape_cupy

    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy())
    monkeypatch.setattr(_escape_cupy, "_module", lambda: _EmulatedModule(_emulated_lib))
    return _escape_cupy


def _flat(p: SaddleProblem):
    return p.h, p.c, p.q, p.s, p.f0


@pytest.mark.parametrize("kind", sorted(PROBLEMS))
def test_emulated_cuda_gd_matches_numba(emulated, kind):
    """B = 150 spans two blocks of 128 threads (the second one partly idle)."""
    p = PROBLEMS[kind](B=150, d=5)
    x0 = np.random.default_rng(5).standard_normal((p.batch, p.dim)) * 0.1
    eta = np.full(p.batch, 0.05)
    got = emulated.gd(*_flat(p), x0, eta, 30)
    want = gd_saddle(p, x0, eta, 30, backend="numba")
    for k, g in zip(("f", "fabs", "gnorm2", "dist2", "xnorm_max"), got, strict=True):
        w = getattr(want, k)
        assert g.shape == w.shape and g.flags.c_contiguous, k
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=0, err_msg=k)


@pytest.mark.parametrize("kind", sorted(PROBLEMS))
def test_emulated_cuda_coupled_matches_numba(emulated, kind):
    p = PROBLEMS[kind](B=150, d=5)
    g = np.random.default_rng(6)
    x0 = p.xs + 1e-2 * g.standard_normal((p.batch, p.dim))
    x0p = x0 - 1e-3 * g.standard_normal((p.batch, p.dim))  # off the bottom direction: q and Delta do work
    gam = saddle_gamma(p)
    eta = np.full(p.batch, 0.05)
    got = emulated.coupled(*_flat(p), x0, x0p, p.xs, eta, gam, 60)
    want = coupled_gd(p, x0, x0p, p.xs, eta, gam, 60, backend="numba")
    assert np.all(want.q[:, -1] > 0) and np.all(want.dnorm[:, -1] > 0)
    for k, a in zip(("xhat", "p", "q", "err", "errscale", "dnorm", "dist", "f", "fp"), got, strict=True):
        w = getattr(want, k)
        assert a.shape == w.shape and a.flags.c_contiguous, k
        np.testing.assert_allclose(a, w, rtol=1e-12, atol=1e-14 * np.abs(w).max(), err_msg=k)


@pytest.mark.parametrize("mode", ["gaussian", "ball"])
@pytest.mark.parametrize("stop", [False, True])
def test_emulated_cuda_pgd_matches_numba(emulated, mode, stop):
    p = quartic_problem(B=32, d=4)
    kw = dict(r=0.05, eps=0.05, tau=np.sqrt(0.05), tcal=15, seed=7, instance_ids=np.arange(32), stop_at_hit=stop)
    want = pgd(p, np.zeros((32, 4)), 0.1, 200, perturbation=mode, backend="numba", **kw)
    B = 32
    vec = lambda v, dt=np.float64: np.ascontiguousarray(np.broadcast_to(np.asarray(v, dtype=dt), (B,)))  # noqa: E731
    hit, ffirst, flast, maxd2, xmax, nper = emulated.pgd(
        *_flat(p), np.zeros((B, 4)), vec(0.1), 200, ("gaussian", "ball").index(mode), vec(0.05), vec(0.05),
        vec(np.sqrt(0.05)), vec(15, np.int64), 7, np.arange(B, dtype=np.int64), stop)
    assert np.array_equal(hit, want.hit) and np.array_equal(nper, want.perturbations)
    assert (hit >= 0).mean() > 0.5
    for k, a in (("f_first", ffirst), ("f_last", flast), ("maxdist2", maxd2), ("xnorm_max", xmax)):
        np.testing.assert_allclose(a, getattr(want, k), rtol=1e-12, atol=1e-15, err_msg=k)


def test_emulated_cuda_through_the_public_api(emulated, monkeypatch):
    """gd_saddle / coupled_gd / pgd(backend='cupy') end to end, the device replaced by the emulation."""
    import kernels

    real = kernels.backend.backend_unavailable_reason
    monkeypatch.setattr(kernels.backend, "backend_unavailable_reason", lambda name: None if name == "cupy" else real(name))
    p = matrix_problem(B=7, d=3)
    x0 = np.random.default_rng(2).standard_normal((7, 3)) * 0.1
    a = gd_saddle(p, x0, 0.05, 12, backend="cupy")
    b = gd_saddle(p, x0, 0.05, 12, backend="numpy")
    assert a.backend == "cupy"
    for k in ("f", "fabs", "gnorm2", "dist2", "xnorm_max"):
        assert np.allclose(getattr(a, k), getattr(b, k), rtol=1e-12, atol=1e-14), k
    c = coupled_gd(p, x0, x0 * 0.9, p.xs, 0.05, saddle_gamma(p), 12, backend="cupy")
    r = coupled_gd(p, x0, x0 * 0.9, p.xs, 0.05, saddle_gamma(p), 12, backend="numpy")
    assert c.backend == "cupy"
    for k in ("xhat", "p", "q", "dnorm", "dist", "errscale", "f", "fp"):
        assert np.allclose(getattr(c, k), getattr(r, k), rtol=1e-10, atol=1e-14), k
    e = gd_saddle(p.take(np.arange(0)), np.zeros((0, 3)), 0.05, 4, backend="cupy")
    assert e.f.shape == (0, 5)


@pytest.mark.gpu
@pytest.mark.parametrize("mode", ["gaussian", "ball"])
def test_pgd_cupy_matches_reference(mode):
    cp = pytest.importorskip("cupy")
    try:
        if cp.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except Exception as exc:  # noqa: BLE001 - no driver / no device
        pytest.skip(f"no CUDA device ({exc})")
    p = quartic_problem(B=64, d=6)
    kw = dict(perturbation=mode, r=0.05, eps=0.05, tau=np.sqrt(0.05), tcal=15, seed=7, instance_ids=np.arange(64))
    a = pgd(p, np.zeros((64, 6)), 0.1, 200, backend="numpy", **kw)
    b = pgd(p, np.zeros((64, 6)), 0.1, 200, backend="cupy", **kw)
    assert b.backend == "cupy"
    assert (a.hit == b.hit).mean() >= 0.95
    same = a.hit == b.hit
    assert np.allclose(a.f_last[same], b.f_last[same], rtol=1e-8, atol=1e-12)


def _need_device():
    cp = pytest.importorskip("cupy")
    try:
        if cp.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except Exception as exc:  # noqa: BLE001 - no driver / no device
        pytest.skip(f"no CUDA device ({exc})")


@pytest.mark.gpu
@pytest.mark.parametrize("kind", sorted(PROBLEMS))
def test_gd_cupy_matches_reference(kind):
    _need_device()
    p = PROBLEMS[kind](B=200, d=6)
    x0 = np.random.default_rng(5).standard_normal((p.batch, p.dim)) * 0.1
    a = gd_saddle(p, x0, 0.05, 60, backend="numpy")
    b = gd_saddle(p, x0, 0.05, 60, backend="cupy")
    assert b.backend == "cupy"
    for k in ("f", "fabs", "gnorm2", "dist2", "xnorm_max"):
        assert np.allclose(getattr(a, k), getattr(b, k), rtol=1e-10, atol=1e-13), k


@pytest.mark.gpu
@pytest.mark.parametrize("kind", sorted(PROBLEMS))
def test_coupled_cupy_matches_reference(kind):
    _need_device()
    p = PROBLEMS[kind](B=200, d=6)
    g = np.random.default_rng(6)
    x0 = p.xs + 1e-3 * g.standard_normal((p.batch, p.dim))
    x0p = x0.copy()
    x0p[np.arange(p.batch), bottom_index(p)] -= 1e-4
    gam = saddle_gamma(p)
    a = coupled_gd(p, x0, x0p, p.xs, 0.05, gam, 120, backend="numpy")
    b = coupled_gd(p, x0, x0p, p.xs, 0.05, gam, 120, backend="cupy")
    assert b.backend == "cupy"
    for k in ("xhat", "p", "q", "dnorm", "dist", "errscale", "f", "fp"):
        assert np.allclose(getattr(a, k), getattr(b, k), rtol=1e-9, atol=1e-15), k
    assert np.all(b.err <= 64 * np.finfo(float).eps * b.errscale)
