"""The CuPy backend.

Three levels, so that the GPU code is checked everywhere and run where a GPU exists:

1. the CUDA source compiles for the device (``nvcc -ptx``; needs the CUDA toolkit, not a GPU);
2. the same source, compiled as C++ with a sequential emulation of the thread grid, runs the real
   host wrappers of ``kernels.ridge.cupy`` (CuPy replaced by a NumPy shim) and must reproduce the numba
   kernels and the NumPy generator bit for bit (same operations in the same order, same libm);
3. ``@pytest.mark.gpu``: the real thing through CuPy, compared with the reference like the numba
   tests.  Skipped cleanly without CuPy or without a CUDA device.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import sys

import numpy as np
import pytest

import kernels
from kernels import Ridge, RidgeQuadratic, rng
from kernels.ridge import cupy as _cupy

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from test_kernels import assert_close, random_problem, scales, smoothness  # noqa: E402

# --------------------------------------------------------------------------------------------------
# 1. device compilation
# --------------------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="CUDA toolkit (nvcc) not installed")
def test_cuda_source_compiles_for_the_device(tmp_path):
    src = tmp_path / "thmcheck_kernels.cu"
    src.write_text(_cupy.kernel_source())
    out = tmp_path / "k.ptx"
    res = subprocess.run(
        ["nvcc", "-ptx", "-arch=compute_80", *_cupy.NVRTC_OPTIONS, str(src), "-o", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stderr
    ptx = out.read_text()
    for name in _cupy.KERNELS:
        assert f".entry {name}(" in ptx
    # --fmad=false: user arithmetic is emitted with explicit rounding (never contracted into FMAs)
    assert "mul.rn.f64" in ptx and "add.rn.f64" in ptx


# --------------------------------------------------------------------------------------------------
# 2. CPU emulation of the CUDA source
# --------------------------------------------------------------------------------------------------

_EMU_PRELUDE = """
#include <math.h>
#define __global__
#define __device__
#define __forceinline__ inline
static long long tc_emu_id;
#define TC_GLOBAL_ID tc_emu_id
"""


class _HostArray(np.ndarray):
    """A NumPy array with CuPy's ``.get()``."""

    def get(self) -> np.ndarray:
        return np.array(self)


def _h(a) -> _HostArray:
    return np.asarray(a).view(_HostArray)


class _NumpyCupyShim:
    """The part of the CuPy API that kernels.ridge.cupy uses, on the host."""

    uint32 = np.uint32
    int64 = np.int64

    @staticmethod
    def asarray(x, dtype=None):
        return _h(np.array(x, dtype=dtype))

    @staticmethod
    def ascontiguousarray(x):
        return _h(np.ascontiguousarray(x))

    @staticmethod
    def moveaxis(x, a, b):
        return _h(np.moveaxis(x, a, b))

    @staticmethod
    def transpose(x, axes):
        return _h(np.transpose(x, axes))

    @staticmethod
    def empty(shape, dtype=np.float64):
        return _h(np.empty(shape, dtype=dtype))


_SCALARS = {
    "int": (np.int32, ctypes.c_int),
    "long long": (np.int64, ctypes.c_longlong),
    "unsigned long long": (np.uint64, ctypes.c_ulonglong),
}


@pytest.fixture(scope="module")
def _emulated_launch(tmp_path_factory):
    """Compile the CUDA source as C++; return a launcher with kernels.ridge.cupy._launch's signature."""
    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        pytest.skip("no C++ compiler for the CPU emulation of the CUDA kernels")
    wrappers = []
    for name, params in _cupy.KERNELS.items():
        count = "B" if any(p == "B" for _, p in params) else "N"
        plist = ", ".join(f"{c} {p}" for c, p in params)
        names = ", ".join(p for _, p in params)
        wrappers.append(
            f'extern "C" void emu_{name}({plist}) '
            f"{{ for (long long i = 0; i < {count}; ++i) {{ tc_emu_id = i; {name}({names}); }} }}"
        )
    tmp = tmp_path_factory.mktemp("cuda_emu")
    src = tmp / "emu.cpp"
    src.write_text(_cupy.kernel_source(prelude=_EMU_PRELUDE) + "\n" + "\n".join(wrappers) + "\n")
    lib_path = tmp / "emu.so"
    res = subprocess.run(
        [cxx, "-O2", "-ffp-contract=off", "-shared", "-fPIC", str(src), "-o", str(lib_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stderr
    lib = ctypes.CDLL(str(lib_path))

    def launch(name, count, args):
        params = _cupy.KERNELS[name]
        assert len(args) == len(params), name
        cargs = []
        for (ctype, pname), a in zip(params, args, strict=True):
            if "*" in ctype:
                assert isinstance(a, np.ndarray) and a.flags.c_contiguous, pname
                cargs.append(ctypes.c_void_p(a.ctypes.data))
            else:
                ntype, ct = _SCALARS[ctype]
                assert type(a) is ntype, f"{name}: {pname} passed as {type(a).__name__}, kernel takes {ctype}"
                cargs.append(ct(int(a)))
        if count:
            getattr(lib, "emu_" + name)(*cargs)

    return launch


@pytest.fixture
def emulated(_emulated_launch, monkeypatch):
    """kernels.ridge.cupy with CuPy replaced by a NumPy shim and launches run by the emulation (per test)."""
    monkeypatch.setattr(_cupy, "_cupy", lambda: _NumpyCupyShim)
    monkeypatch.setattr(_cupy, "_launch", _emulated_launch)
    return _cupy


def _args(P, w0, eta, T):
    e = np.asarray(eta, dtype=np.float64)
    e = e.reshape(P.batch, -1) if e.ndim else np.full((P.batch, 1), float(e))
    return (P.A, P.b, P.R, P.s, P.c, P.psi, w0, e, T)


@pytest.mark.parametrize("psi", [Ridge.LOGCOSH, Ridge.SIN])
@pytest.mark.parametrize("m", [0, 3])
def test_emulated_cuda_gd_is_bitwise_the_numba_general_path(emulated, psi, m):
    from kernels.ridge import numba as _numba

    g = np.random.default_rng(20 + m)
    B, d, T = 37, 4, 12
    P = random_problem(g, B, d, m, psi)
    w0 = g.standard_normal((B, d))
    for eta in (g.uniform(0.01, 0.3, (B, T)) / smoothness(P)[:, None], g.uniform(0.01, 0.3, (B, 1))):
        for keep in (False, True):
            e = emulated.gd(*_args(P, w0, eta, T), keep)
            n = _numba.gd(*_args(P, w0, eta, T), keep, path="general")
            for key, val in e.items():
                if val is None:
                    assert n[key] is None
                else:
                    assert val.shape == n[key].shape and np.array_equal(val, n[key]), key


@pytest.mark.parametrize("psi", [Ridge.LOGCOSH, Ridge.SIN])
def test_emulated_cuda_sgd_is_bitwise_numba(emulated, psi):
    from kernels.ridge import numba as _numba

    g = np.random.default_rng(30)
    B, d, m, T = 29, 3, 5, 10
    P = random_problem(g, B, d, m, psi)
    w0 = g.standard_normal((B, d))
    eta = g.uniform(0.01, 0.3, (B, T)) / smoothness(P)[:, None]
    ids = g.integers(0, 2**64, B, dtype=np.uint64, endpoint=False)
    for batch, seed, expect, keep in ((1, 0, True, True), (4, 2**64 - 1, False, False), (1, 12345, True, False)):
        e = emulated.sgd(*_args(P, w0, eta, T), batch, seed, ids, expect, keep)
        n = _numba.sgd(*_args(P, w0, eta, T), batch, seed, ids, expect, keep)
        for key, val in e.items():
            if val is None:
                assert n[key] is None
            else:
                assert np.array_equal(val, n[key]), (key, batch, seed)


def test_emulated_cuda_generator_is_bitwise_numpy(emulated):
    g = np.random.default_rng(40)
    N = 20000
    ctr = g.integers(0, 2**32, (N, 4), dtype=np.uint64)
    key = g.integers(0, 2**32, (N, 2), dtype=np.uint64)
    ctr[0], key[0] = (0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2
    assert np.array_equal(emulated.philox_many(ctr, key), rng.philox4x32(ctr, key))
    seed = g.integers(0, 2**64, N, dtype=np.uint64, endpoint=False)
    inst = g.integers(0, 2**64, N, dtype=np.uint64, endpoint=False)
    step = g.integers(0, 2**32, N, dtype=np.uint64)
    draw = g.integers(0, 2**32, N, dtype=np.uint64)
    nmax = g.integers(1, 2**32, N, dtype=np.uint64)
    u, ri, z = emulated.variates_many(seed, inst, step, draw, nmax)
    assert np.array_equal(u, rng.uniform(seed, inst, step, draw))
    assert np.array_equal(ri, rng.randint(seed, inst, step, draw, nmax))
    assert np.array_equal(z, rng.normal(seed, inst, step, draw))


def test_emulated_cuda_through_the_public_api(emulated, monkeypatch):
    """kernels.gd/sgd(backend='cupy') end to end, with the device replaced by the emulation."""
    real = kernels.backend.backend_unavailable_reason
    monkeypatch.setattr(kernels.backend, "backend_unavailable_reason", lambda name: None if name == "cupy" else real(name))
    g = np.random.default_rng(50)
    P = random_problem(g, 21, 3, 2, Ridge.SIN)
    w0 = g.standard_normal((21, 3))
    eta = 0.5 / smoothness(P)
    r = kernels.gd(P, w0, eta, 9, keep_iterates=True)
    c = kernels.gd(P, w0, eta, 9, backend="cupy", keep_iterates=True)
    assert c.backend == "cupy" and c.dtype == "float64"
    sf, sg = scales(P, r.w)
    assert_close(c.f, r.f, sf, what="f")
    assert_close(c.gnorm2, r.gnorm2, sg, what="gnorm2")
    s = kernels.sgd(P, w0, eta, 9, batch=1, seed=5, backend="cupy", expectations=True)
    sr = kernels.sgd(P, w0, eta, 9, batch=1, seed=5, expectations=True, keep_iterates=True)
    sf, _ = scales(P, sr.w)
    assert_close(s.ef_next, sr.ef_next, sf[:, 1:] + sf[:, :-1], what="ef_next")
    with pytest.raises(ValueError, match="backend='numpy'"):
        kernels.gd(P, w0, eta, 3, backend="cupy", dtype=np.longdouble)


# --------------------------------------------------------------------------------------------------
# 3. on a GPU
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gpu():
    cp = pytest.importorskip("cupy")
    try:
        count = cp.cuda.runtime.getDeviceCount()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no CUDA device: {exc}")
    if count < 1:
        pytest.skip("no CUDA device")
    assert kernels.resolve_backend("cupy") == "cupy"
    return cp


@pytest.mark.gpu
@pytest.mark.parametrize("psi", [Ridge.LOGCOSH, Ridge.SIN])
@pytest.mark.parametrize("m", [0, 3])
def test_gpu_gd_matches_reference(gpu, psi, m):
    g = np.random.default_rng(60 + m)
    B, d, T = 300, 5, 40
    P = random_problem(g, B, d, m, psi)
    w0 = g.uniform(-3, 3, (B, d))
    for eta in (g.uniform(0.01, 1, B) / smoothness(P), g.uniform(0.01, 1, (B, T)) / smoothness(P)[:, None]):
        r = kernels.gd(P, w0, eta, T, keep_iterates=True)
        c = kernels.gd(P, w0, eta, T, backend="cupy", keep_iterates=True)
        assert c.backend == "cupy"
        sf, sg = scales(P, r.w)
        assert_close(c.f, r.f, sf, what="f")
        assert_close(c.gnorm2, r.gnorm2, sg, what="gnorm2")
        assert_close(c.w, r.w, np.abs(r.w).max(axis=(1, 2))[:, None, None] + 1, what="w")


@pytest.mark.gpu
def test_gpu_sgd_matches_reference_and_replays(gpu):
    g = np.random.default_rng(70)
    B, d, m, T = 200, 4, 6, 30
    P = random_problem(g, B, d, m, Ridge.LOGCOSH)
    w0 = g.standard_normal((B, d))
    eta = g.uniform(0.01, 0.5, (B, T)) / smoothness(P)[:, None]
    ids = g.integers(0, 2**63, B, dtype=np.uint64)
    r = kernels.sgd(P, w0, eta, T, batch=3, seed=77, instance_ids=ids, keep_iterates=True)
    c = kernels.sgd(P, w0, eta, T, batch=3, seed=77, instance_ids=ids, backend="cupy", keep_iterates=True)
    sf, sg = scales(P, r.w)
    assert_close(c.f, r.f, sf, what="f")
    assert_close(c.gnorm2, r.gnorm2, sg, what="gnorm2")
    sub = [5, 150, 3]
    part = kernels.sgd(P.take(sub), w0[sub], eta[sub], T, batch=3, seed=77, instance_ids=ids[sub], backend="cupy")
    assert np.array_equal(part.f, c.f[sub]) and np.array_equal(part.w_last, c.w_last[sub])


@pytest.mark.gpu
def test_gpu_sgd_expectations_match_reference(gpu):
    g = np.random.default_rng(80)
    B, d, m, T = 50, 3, 4, 10
    P = random_problem(g, B, d, m, Ridge.SIN)
    w0 = g.standard_normal((B, d))
    eta = g.uniform(0.01, 0.5, (B, T)) / smoothness(P)[:, None]
    r = kernels.sgd(P, w0, eta, T, batch=1, seed=1, expectations=True, keep_iterates=True)
    c = kernels.sgd(P, w0, eta, T, batch=1, seed=1, expectations=True, backend="cupy")
    sf, sg = scales(P, r.w)
    assert_close(c.ef_next, r.ef_next, sf[:, 1:] + sf[:, :-1], what="ef_next")
    assert_close(c.eg2, r.eg2, m * sg[:, :-1], what="eg2")


@pytest.mark.gpu
def test_gpu_generator_is_bitwise_numpy(gpu):
    g = np.random.default_rng(90)
    N = 100000
    ctr = g.integers(0, 2**32, (N, 4), dtype=np.uint64)
    key = g.integers(0, 2**32, (N, 2), dtype=np.uint64)
    ctr[0], key[0] = (0, 0, 0, 0), (0, 0)
    out = _cupy.philox_many(ctr, key)
    assert tuple(int(x) for x in out[0]) == (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)
    assert np.array_equal(out, rng.philox4x32(ctr, key))
    seed = g.integers(0, 2**64, N, dtype=np.uint64, endpoint=False)
    inst = g.integers(0, 2**64, N, dtype=np.uint64, endpoint=False)
    step = g.integers(0, 2**32, N, dtype=np.uint64)
    draw = g.integers(0, 2**32, N, dtype=np.uint64)
    nmax = g.integers(1, 2**32, N, dtype=np.uint64)
    u, ri, z = _cupy.variates_many(seed, inst, step, draw, nmax)
    assert np.array_equal(u, rng.uniform(seed, inst, step, draw))
    assert np.array_equal(ri, rng.randint(seed, inst, step, draw, nmax))
    # libm-free Box-Muller compiled with --fmad=false: the same bits as on the CPU
    assert np.array_equal(z, rng.normal(seed, inst, step, draw))


@pytest.mark.gpu
def test_gpu_quadratic_one_step_convergence(gpu):
    g = np.random.default_rng(100)
    B, d = 64, 6
    L = g.uniform(0.5, 4.0, B)
    b = g.standard_normal((B, d))
    tr = kernels.gd(RidgeQuadratic.quadratic(L[:, None, None] * np.eye(d), b), g.standard_normal((B, d)), 1 / L, 2,
                    backend="cupy")
    np.testing.assert_allclose(tr.w_last, -b / L[:, None], rtol=1e-13, atol=1e-13)
