"""kernels: the NumPy reference, the numba kernels, the public boundary.

Comparisons between backends use a tolerance relative to the *scale* of the computed quantity
(the same sum with absolute values of every term), because f and ||grad f||^2 legitimately pass
through zero; plain relative error would be meaningless there.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import math
import pathlib
import platform
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kernels
from kernels import BackendUnavailable, Ridge, RidgeQuadratic, Trajectory, rng
from kernels.ridge import reference as ref

ROOT = pathlib.Path(__file__).resolve().parents[1]
RTOL = 1e-12


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def scales(P: RidgeQuadratic, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Magnitudes of the sums behind f and ||grad f||^2 at the iterates W (B, T+1, d)."""
    aW = np.abs(W)
    aA = np.abs(P.A)
    quad = 0.5 * np.einsum("btd,bde,bte->bt", aW, aA, aW) + np.einsum("bd,btd->bt", np.abs(P.b), aW)
    z = np.einsum("bkd,btd->btk", P.R, W) + P.s[:, None, :]
    ridge = np.sum(np.abs(P.c[:, None, :] * ref.psi(z, P.psi)), axis=-1) if P.ridges else 0.0
    g = np.einsum("bde,bte->btd", aA, aW) + np.abs(P.b)[:, None, :]
    if P.ridges:
        g = g + np.einsum("bkd,bk->bd", np.abs(P.R), np.abs(P.c))[:, None, :]
    return quad + ridge, np.sum(g * g, axis=-1)


def assert_close(got: np.ndarray, want: np.ndarray, scale: np.ndarray | float, rtol: float = RTOL, what: str = ""):
    err = np.abs(np.asarray(got, dtype=np.float64) - np.asarray(want, dtype=np.float64))
    bound = rtol * (np.abs(np.asarray(want, dtype=np.float64)) + scale)
    bad = ~(err <= bound)
    assert not bad.any(), f"{what}: {bad.sum()} entries off, worst err/bound {np.max(err / bound):.3g}"


def random_problem(g: np.random.Generator, B: int, d: int, m: int, psi: Ridge = Ridge.LOGCOSH, psd: bool = False):
    M = g.uniform(-2, 2, (B, d, d))
    A = M @ M.transpose(0, 2, 1) / d if psd else (M + M.transpose(0, 2, 1)) / 2
    return RidgeQuadratic(A, g.uniform(-2, 2, (B, d)), g.uniform(-1.5, 1.5, (B, m, d)),
                          g.uniform(-2, 2, (B, m)), g.uniform(-2, 2, (B, m)), psi)


def smoothness(P: RidgeQuadratic) -> np.ndarray:
    """An upper bound on the Hessian norm: ||A|| + sum_k |c_k| ||r_k||^2 (psi'' is in [-1, 1])."""
    return np.linalg.norm(P.A, 2, axis=(1, 2)) + np.sum(np.abs(P.c) * np.sum(P.R**2, axis=-1), axis=-1)


@st.composite
def gd_cases(draw, max_T: int = 25):
    d = draw(st.integers(1, 6))
    m = draw(st.integers(0, 4))
    B = draw(st.integers(1, 19))
    T = draw(st.integers(0, max_T))
    psi = draw(st.sampled_from([Ridge.LOGCOSH, Ridge.SIN]))
    g = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    P = random_problem(g, B, d, m, psi)
    L = np.maximum(smoothness(P), 1e-3)
    # constructive step sizes: eta = u / L with u in (0, 1]
    if draw(st.booleans()):
        eta = g.uniform(0.01, 1.0, B) / L
    else:
        eta = g.uniform(0.01, 1.0, (B, T)) / L[:, None]
    w0 = g.uniform(-3, 3, (B, d))
    return P, w0, eta, T


# --------------------------------------------------------------------------------------------------
# numba vs reference
# --------------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gd_cases())
def test_numba_gd_matches_reference(case):
    P, w0, eta, T = case
    r = kernels.gd(P, w0, eta, T, keep_iterates=True)
    n = kernels.gd(P, w0, eta, T, backend="numba")
    sf, sg = scales(P, r.w)
    assert_close(n.f, r.f, sf, what="f")
    assert_close(n.gnorm2, r.gnorm2, sg, what="gnorm2")
    assert_close(n.w_last, r.w_last, np.abs(r.w).max(axis=1) + 1, what="w_last")
    # the general path with kept iterates agrees as well
    k = kernels.gd(P, w0, eta, T, backend="numba", keep_iterates=True)
    assert_close(k.w, r.w, np.abs(r.w).max(axis=(1, 2))[:, None, None] + 1, what="w")
    assert np.array_equal(k.f, n.f) and np.array_equal(k.gnorm2, n.gnorm2)  # lanes == general path


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40), st.integers(1, 33), st.integers(0, 30), st.integers(0, 2**32 - 1), st.booleans())
def test_numba_lanes_path_is_bitwise_the_general_path(d, B, T, seed, schedule):
    from kernels.ridge import numba as _numba

    g = np.random.default_rng(seed)
    P = random_problem(g, B, d, 0, psd=bool(seed % 2))
    eta = g.uniform(0, 0.5, (B, T) if schedule else (B, 1)) / np.maximum(smoothness(P), 1e-3)[:, None]
    if not schedule or T == 0:
        eta = eta[:, :1]
    w0 = g.uniform(-3, 3, (B, d))
    args = (P.A, P.b, P.R, P.s, P.c, P.psi, w0, eta, T, False)
    lanes = _numba.gd(*args, path="lanes")
    general = _numba.gd(*args, path="general")
    for key in ("f", "gnorm2", "w_last"):
        assert np.array_equal(lanes[key], general[key]), key


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 600), st.integers(0, 80), st.integers(0, 2**32 - 1), st.booleans())
def test_numba_soa_path_is_bitwise_the_other_paths(d, B, T, seed, schedule):
    """The small-d lanes kernel (d <= 4; groups of WIDTH lanes, partial last group, several prange chunks,
    tiles of STEPS steps with partial tiles and 8 x 8 blocks) performs per trajectory exactly the operations
    of the AoSoA lanes kernel and the general kernel."""
    from kernels.ridge import numba as _numba

    g = np.random.default_rng(seed)
    P = random_problem(g, B, d, 0, psd=bool(seed % 2))
    eta = g.uniform(0, 0.5, (B, T) if schedule and T else (B, 1)) / np.maximum(smoothness(P), 1e-3)[:, None]
    w0 = g.uniform(-3, 3, (B, d))
    args = (P.A, P.b, P.R, P.s, P.c, P.psi, w0, eta, T, False)
    soa = _numba.gd(*args, path="soa")
    for other in ("lanes", "general"):
        o = _numba.gd(*args, path=other)
        for key in ("f", "gnorm2", "w_last"):
            assert np.array_equal(soa[key], o[key]), (other, key)
    assert soa["f"].flags.c_contiguous and soa["gnorm2"].shape == (B, T + 1)


@pytest.mark.parametrize("schedule", [False, True])
def test_numba_soa_path_is_bitwise_on_signed_zeros_and_diverging_runs(schedule):
    """Zero problems and negative-zero starts (where 0 + x and x differ in the sign of a zero) and runs
    that overflow to inf/nan give the same bits on the lanes kernel as on the general one."""
    from kernels.ridge import numba as _numba

    g = np.random.default_rng(3)
    B, d, T = 70, 2, 41
    P = random_problem(g, B, d, 0, psd=False)
    A, b = P.A.copy(), P.b.copy()
    A[:10] = 0.0
    A[10:20] = -0.0
    b[:15] = -0.0
    w0 = g.uniform(-3, 3, (B, d))
    w0[:25] = -0.0
    eta = np.full((B, T) if schedule else (B, 1), 0.1)
    eta[30:40] = 1e12  # diverges to inf, then nan
    args = (A, b, np.zeros((B, 0, d)), np.zeros((B, 0)), np.zeros((B, 0)), P.psi, w0, eta, T, False)
    soa = _numba.gd(*args, path="soa")
    general = _numba.gd(*args, path="general")
    assert not np.all(np.isfinite(soa["f"]))  # the diverging rows did diverge
    for key in ("f", "gnorm2", "w_last"):
        assert soa[key].tobytes() == general[key].tobytes(), key


def test_lanes_kernel_without_writes_computes_the_same_last_iterate():
    """WRITE=False (the benchmark's arithmetic-only variant) still runs every step: same w_last, and
    leaves f and gnorm2 alone."""
    from kernels.ridge import numba_lanes

    g = np.random.default_rng(8)
    B, d, T = 37, 3, 45
    P = random_problem(g, B, d, 0, psd=True)
    w0 = g.standard_normal((B, d))
    eta = (0.5 / smoothness(P))[:, None]
    ref = numba_lanes.gd_quadratic(P.A, P.b, w0, eta, T)
    F, G, wl = np.full((B, T + 1), 7.0), np.full((B, T + 1), 7.0), np.empty((B, d))
    numba_lanes._make_kernel(d, WRITE=False)(P.A, P.b, w0, eta, T, F, G, wl)
    assert np.array_equal(wl, ref["w_last"]) and np.all(F == 7.0) and np.all(G == 7.0)


def test_auto_picks_the_soa_kernel_exactly_for_small_pure_quadratics(monkeypatch):
    from kernels.ridge import numba_lanes

    calls = []
    real = numba_lanes.gd_quadratic
    monkeypatch.setattr(numba_lanes, "gd_quadratic", lambda *a: calls.append(a[2].shape) or real(*a))
    g = np.random.default_rng(5)
    for d, m, keep in ((2, 0, False), (4, 0, False), (5, 0, False), (2, 1, False), (2, 0, True)):
        P = random_problem(g, 9, d, m, psd=True)
        tr = kernels.gd(P, g.standard_normal((9, d)), 0.01, 3, backend="numba", keep_iterates=keep)
        assert tr.backend == "numba"
    assert calls == [(9, 2), (9, 4)]


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="checks x86 vector instructions")
@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_soa_kernel_is_vectorized(d):
    """The lanes kernel's arithmetic compiles to packed-double instructions (vmulpd/vaddpd on xmm/ymm/zmm)
    and its copy-out to vector shuffles: a scalar fallback would show no packed multiply at all."""
    import re

    import numba

    from kernels.ridge import numba_lanes

    # a fresh, uncached compilation of the same function (numba cannot inspect cached code)
    k = numba.njit(parallel=True, fastmath=False)(numba_lanes.kernel_for(d).py_func)
    g = np.random.default_rng(0)
    B, T = 5, 3
    out = [np.empty((B, T + 1)), np.empty((B, T + 1)), np.empty((B, d))]
    k(np.ones((B, d, d)), g.standard_normal((B, d)), g.standard_normal((B, d)), np.full((B, 1), 0.1), T, *out)
    asm = "".join(k.inspect_asm().values())
    # per step: d*d + 3 d + 1 multiplies per lane, each on WIDTH lanes = at least one packed instruction
    assert len(re.findall(r"\bv?mulpd\s", asm)) >= d * d + 3 * d + 1
    assert len(re.findall(r"\bv?addpd\s", asm)) >= d * d + 3 * d


def test_auto_uses_lanes_for_quadratics_and_matches_reference_on_a_larger_batch():
    g = np.random.default_rng(11)
    P = random_problem(g, 1003, 8, 0, psd=True)
    eta = 1.0 / smoothness(P)
    w0 = g.standard_normal((1003, 8))
    r = kernels.gd(P, w0, eta, 50, keep_iterates=True)
    n = kernels.gd(P, w0, eta, 50, backend="numba")
    sf, sg = scales(P, r.w)
    assert_close(n.f, r.f, sf, what="f")
    assert_close(n.gnorm2, r.gnorm2, sg, what="gnorm2")
    assert n.f.shape == (1003, 51) and n.w_last.shape == (1003, 8) and n.f.flags.c_contiguous


# --------------------------------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_isotropic_quadratic_converges_in_one_step_with_eta_one_over_L(backend):
    g = np.random.default_rng(1)
    B, d = 50, 5
    L = g.uniform(0.5, 4.0, B)
    A = L[:, None, None] * np.eye(d)
    b = g.standard_normal((B, d))
    w0 = g.standard_normal((B, d)) * 3
    tr = kernels.gd(RidgeQuadratic.quadratic(A, b), w0, 1.0 / L, 3, backend=backend)
    w_star = -b / L[:, None]
    f_star = -np.sum(b * b, axis=1) / (2 * L)
    scale = np.abs(f_star) + np.sum(np.abs(b * w0), axis=1) + L * np.sum(w0**2, axis=1)
    assert np.all(np.abs(tr.w_last - w_star) <= 1e-13 * (np.abs(w_star) + np.abs(w0).max()))
    for t in (1, 2, 3):
        assert np.all(np.abs(tr.f[:, t] - f_star) <= 1e-14 * scale)
        assert np.all(tr.gnorm2[:, t] <= 1e-26 * scale * L)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_one_step_decrease_identity_on_quadratics(backend):
    """f(w - eta g) = f(w) - eta ||g||^2 + eta^2/2 g^T A g; for A = L I that is f - eta (1 - eta L/2) ||g||^2."""
    g = np.random.default_rng(2)
    B, d = 64, 4
    P = random_problem(g, B, d, 0)
    eta = g.uniform(0.01, 1.5, B) / smoothness(P)
    w0 = g.standard_normal((B, d))
    tr = kernels.gd(P, w0, eta, 1, backend=backend, keep_iterates=True)
    grad = np.einsum("bij,bj->bi", P.A, w0) + P.b
    gAg = np.einsum("bi,bij,bj->b", grad, P.A, grad)
    predicted = tr.f[:, 0] - eta * tr.gnorm2[:, 0] + 0.5 * eta**2 * gAg
    sf, _ = scales(P, tr.w)
    assert_close(tr.f[:, 1], predicted, sf[:, 1] + sf[:, 0] + eta * tr.gnorm2[:, 0], rtol=1e-13, what="f1")
    # isotropic case: the textbook form
    L = g.uniform(0.5, 3.0, B)
    Q = RidgeQuadratic.quadratic(L[:, None, None] * np.eye(d), P.b)
    tr = kernels.gd(Q, w0, eta, 1, backend=backend)
    predicted = tr.f[:, 0] - eta * (1 - eta * L / 2) * tr.gnorm2[:, 0]
    scale = np.abs(tr.f[:, 0]) + eta * tr.gnorm2[:, 0] + L * np.sum(w0**2, 1) + np.sum(np.abs(P.b * w0), 1)
    assert np.all(np.abs(tr.f[:, 1] - predicted) <= 1e-14 * scale)


def test_f_and_gradient_match_an_independent_scalar_formula():
    g = np.random.default_rng(3)
    for psi in (Ridge.LOGCOSH, Ridge.SIN):
        P = random_problem(g, 6, 3, 4, psi)
        w0 = g.standard_normal((6, 3))
        for backend in ("numpy", "numba"):
            tr = kernels.gd(P, w0, 0.0, 0, backend=backend)
            for n in range(6):
                w = [float(x) for x in w0[n]]
                f = 0.5 * sum(w[i] * P.A[n, i, j] * w[j] for i in range(3) for j in range(3))
                f += sum(P.b[n, i] * w[i] for i in range(3))
                grad = [sum(P.A[n, i, j] * w[j] for j in range(3)) + P.b[n, i] for i in range(3)]
                for k in range(4):
                    z = sum(P.R[n, k, j] * w[j] for j in range(3)) + P.s[n, k]
                    f += P.c[n, k] * (math.log(math.cosh(z)) if psi == Ridge.LOGCOSH else math.sin(z))
                    dp = math.tanh(z) if psi == Ridge.LOGCOSH else math.cos(z)
                    for i in range(3):
                        grad[i] += P.c[n, k] * dp * P.R[n, k, i]
                assert tr.f[n, 0] == pytest.approx(f, rel=1e-13, abs=1e-13)
                assert tr.gnorm2[n, 0] == pytest.approx(sum(x * x for x in grad), rel=1e-13, abs=1e-13)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_logcosh_is_evaluated_stably_for_huge_arguments(backend):
    # f(w) = log cosh(w): naive log(cosh(1000)) overflows to inf
    zeros = np.zeros((3, 1, 1))
    P = RidgeQuadratic(zeros, np.zeros((3, 1)), np.ones((3, 1, 1)), np.zeros((3, 1)), np.ones((3, 1)), Ridge.LOGCOSH)
    w0 = np.array([[1000.0], [-1e300], [1e-8]])
    tr = kernels.gd(P, w0, 0.0, 0, backend=backend)
    assert tr.f[0, 0] == pytest.approx(1000 - math.log(2), rel=1e-15)
    assert tr.f[1, 0] == pytest.approx(1e300, rel=1e-15)
    assert tr.f[2, 0] == pytest.approx(0.5e-16, rel=1e-6)
    assert tr.gnorm2[0, 0] == 1.0


# --------------------------------------------------------------------------------------------------
# extended precision (replay engine)
# --------------------------------------------------------------------------------------------------


LONGDOUBLE_IS_WIDER = np.finfo(np.longdouble).eps < np.finfo(np.float64).eps


@settings(max_examples=15, deadline=None)
@given(gd_cases(max_T=15))
def test_longdouble_reference_agrees_with_float64(case):
    P, w0, eta, T = case
    lo = kernels.gd(P, w0, eta, T, keep_iterates=True)
    hi = kernels.gd(P.astype(np.longdouble), w0, eta, T, dtype=np.longdouble, keep_iterates=True)
    assert hi.dtype == "longdouble" if LONGDOUBLE_IS_WIDER else hi.dtype == "float64"
    for arr in (hi.f, hi.gnorm2, hi.w_last, hi.w):
        assert arr.dtype == np.longdouble
    sf, sg = scales(P, lo.w)
    assert_close(hi.f, lo.f, sf, rtol=1e-13, what="f")
    assert_close(hi.gnorm2, lo.gnorm2, sg, rtol=1e-13, what="gnorm2")


@pytest.mark.skipif(not LONGDOUBLE_IS_WIDER, reason="longdouble is float64 on this platform")
def test_longdouble_is_used_for_every_intermediate():
    # w0 = 1 + 2^-60 is not a float64; f = w^2/2 + log cosh(w) - b w needs the extra bits throughout
    one = np.longdouble(1)
    x = one + np.longdouble(2) ** -60
    P = RidgeQuadratic(
        np.ones((1, 1, 1), dtype=np.longdouble), np.full((1, 1), -one * 3, dtype=np.longdouble),
        np.ones((1, 1, 1), dtype=np.longdouble), np.zeros((1, 1), dtype=np.longdouble),
        np.ones((1, 1), dtype=np.longdouble), Ridge.LOGCOSH,
    )
    w0 = np.array([[x]], dtype=np.longdouble)
    eta = np.array([np.longdouble(1) / 3], dtype=np.longdouble)
    tr = kernels.gd(P, w0, eta, 2, dtype=np.longdouble, keep_iterates=True)
    assert tr.w[0, 0, 0] == x  # the input survived validation without a float64 round trip
    a = abs(x)
    f0 = x * x / 2 - 3 * x + (a + np.log1p(np.exp(-2 * a)) - np.log(np.longdouble(2)))
    assert tr.f[0, 0] == f0
    gr = x - 3 + np.tanh(x)
    assert tr.gnorm2[0, 0] == gr * gr
    assert tr.w[0, 1, 0] == x - eta[0] * gr
    # and the float64 run of the same problem differs in the low bits
    lo = kernels.gd(P.astype(np.float64), np.float64(x).reshape(1, 1), float(eta[0]), 2)
    assert np.float64(tr.f[0, 0]) == pytest.approx(lo.f[0, 0], rel=1e-15)
    assert tr.f[0, 0] != np.longdouble(lo.f[0, 0])


def test_numba_rejects_longdouble_pointing_to_numpy():
    P = RidgeQuadratic.quadratic(np.eye(2)[None])
    with pytest.raises(ValueError, match="backend='numpy'"):
        kernels.gd(P, np.zeros((1, 2)), 0.1, 3, backend="numba", dtype=np.longdouble)


# --------------------------------------------------------------------------------------------------
# SGD
# --------------------------------------------------------------------------------------------------


@st.composite
def sgd_cases(draw):
    P, w0, eta, T = draw(gd_cases(max_T=15).filter(lambda c: c[0].ridges > 0))
    batch = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**64 - 1))
    return P, w0, eta, T, batch, seed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(sgd_cases())
def test_numba_sgd_matches_reference(case):
    P, w0, eta, T, batch, seed = case
    ids = np.arange(P.batch, dtype=np.uint64) * 7919 + 2**40
    r = kernels.sgd(P, w0, eta, T, batch=batch, seed=seed, instance_ids=ids, keep_iterates=True)
    n = kernels.sgd(P, w0, eta, T, batch=batch, seed=seed, instance_ids=ids, backend="numba", keep_iterates=True)
    sf, sg = scales(P, r.w)
    assert_close(n.f, r.f, sf, what="f")
    assert_close(n.gnorm2, r.gnorm2, sg, what="gnorm2")
    assert_close(n.w, r.w, np.abs(r.w).max(axis=(1, 2))[:, None, None] + 1, what="w")


def test_sgd_step_uses_the_documented_indices_and_estimator():
    g = np.random.default_rng(5)
    B, d, m, T, batch, seed = 7, 3, 5, 6, 3, 2**63 + 17
    P = random_problem(g, B, d, m, Ridge.SIN)
    w0 = g.standard_normal((B, d))
    eta = g.uniform(0.01, 0.05, (B, T))
    ids = np.array([3, 1, 4, 1, 5, 9, 2**50], dtype=np.uint64)
    for backend in ("numpy", "numba"):
        tr = kernels.sgd(P, w0, eta, T, batch=batch, seed=seed, instance_ids=ids, backend=backend, keep_iterates=True)
        for n in range(B):
            for t in range(T):
                w = tr.w[n, t]
                ghat = P.A[n] @ w + P.b[n]
                for j in range(batch):
                    i = int(rng.randint(seed, int(ids[n]), t, j, m))
                    z = P.R[n, i] @ w + P.s[n, i]
                    ghat = ghat + (m / batch) * P.c[n, i] * math.cos(z) * P.R[n, i]
                np.testing.assert_allclose(tr.w[n, t + 1], w - eta[n, t] * ghat, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_sgd_replay_of_a_sub_batch_is_bit_for_bit(backend):
    g = np.random.default_rng(6)
    B, d, m, T = 40, 4, 6, 30
    P = random_problem(g, B, d, m, Ridge.LOGCOSH)
    w0 = g.standard_normal((B, d))
    eta = g.uniform(0.01, 0.1, (B, T))
    ids = g.integers(0, 2**63, B, dtype=np.uint64)
    full = kernels.sgd(P, w0, eta, T, batch=3, seed=99, instance_ids=ids, backend=backend, keep_iterates=True)
    for sub in ([17], [39, 0, 5], list(range(1, 40, 3)), list(range(B))[::-1]):
        part = kernels.sgd(P.take(sub), w0[sub], eta[sub], T, batch=3, seed=99, instance_ids=ids[sub],
                           backend=backend, keep_iterates=True)
        for key in ("f", "gnorm2", "w_last", "w"):
            assert np.array_equal(getattr(part, key), getattr(full, key)[sub]), (sub, key)
    # default ids are arange(B): replaying instance 17 needs instance_ids=[17]
    full0 = kernels.sgd(P, w0, eta, T, batch=3, seed=99, backend=backend)
    one = kernels.sgd(P.take([17]), w0[[17]], eta[[17]], T, batch=3, seed=99, instance_ids=[17], backend=backend)
    assert np.array_equal(one.f, full0.f[[17]])
    other_seed = kernels.sgd(P, w0, eta, T, batch=3, seed=100, backend=backend)
    assert not np.array_equal(other_seed.f, full0.f)


def _brute_force_expectations(P: RidgeQuadratic, W: np.ndarray, eta: np.ndarray):
    """Independent scalar computation of E_i f(w - eta grad f_i(w)) and E_i ||grad f_i(w)||^2."""
    B, T1, d = W.shape
    m = P.ridges
    psi = (lambda z: math.log(math.cosh(z))) if P.psi == Ridge.LOGCOSH else math.sin
    dpsi = math.tanh if P.psi == Ridge.LOGCOSH else math.cos

    def f(n, w):
        val = 0.5 * w @ P.A[n] @ w + P.b[n] @ w
        return val + sum(P.c[n, k] * psi(P.R[n, k] @ w + P.s[n, k]) for k in range(m))

    EF = np.empty((B, T1 - 1))
    EG = np.empty((B, T1 - 1))
    for n in range(B):
        for t in range(T1 - 1):
            w = W[n, t]
            fs, gs = [], []
            for i in range(m):
                gi = P.A[n] @ w + P.b[n] + m * P.c[n, i] * dpsi(P.R[n, i] @ w + P.s[n, i]) * P.R[n, i]
                gs.append(gi @ gi)
                fs.append(f(n, w - eta[n, t] * gi))
            EF[n, t] = sum(fs) / m
            EG[n, t] = sum(gs) / m
    return EF, EG


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("psi", [Ridge.LOGCOSH, Ridge.SIN])
def test_sgd_expectations_equal_brute_force_average(backend, psi):
    g = np.random.default_rng(7)
    B, d, m, T = 5, 3, 4, 8
    P = random_problem(g, B, d, m, psi)
    w0 = g.standard_normal((B, d))
    eta = g.uniform(0.01, 0.2, (B, T)) / smoothness(P)[:, None]
    tr = kernels.sgd(P, w0, eta, T, batch=1, seed=3, backend=backend, expectations=True, keep_iterates=True)
    assert tr.ef_next.shape == (B, T) and tr.eg2.shape == (B, T)
    EF, EG = _brute_force_expectations(P, tr.w, eta)
    sf, sg = scales(P, tr.w)
    assert_close(tr.ef_next, EF, sf[:, 1:] + sf[:, :-1], rtol=1e-12, what="ef_next")
    assert_close(tr.eg2, EG, m * sg[:, :-1], rtol=1e-12, what="eg2")
    # the SGD step taken is one of the m averaged steps
    for n in range(B):
        for t in range(T):
            w = tr.w[n, t]
            grads = [P.A[n] @ w + P.b[n] + m * P.c[n, i] * ref.dpsi(P.R[n, i] @ w + P.s[n, i], psi) * P.R[n, i]
                     for i in range(m)]
            trial = [w - eta[n, t] * gi for gi in grads]
            assert min(np.max(np.abs(x - tr.w[n, t + 1])) for x in trial) < 1e-12


def test_sgd_expectations_need_batch_one_and_sgd_needs_components():
    g = np.random.default_rng(8)
    P = random_problem(g, 2, 2, 3)
    with pytest.raises(ValueError, match="batch == 1"):
        kernels.sgd(P, np.zeros((2, 2)), 0.1, 3, batch=2, seed=0, expectations=True)
    Q = RidgeQuadratic.quadratic(np.stack([np.eye(2)] * 2))
    with pytest.raises(ValueError, match="m >= 1"):
        kernels.sgd(Q, np.zeros((2, 2)), 0.1, 3, batch=1, seed=0)
    tr = kernels.sgd(P, np.zeros((2, 2)), 0.1, 3, batch=2, seed=0)
    assert tr.ef_next is None and tr.eg2 is None and tr.w is None


# --------------------------------------------------------------------------------------------------
# non-finite iterates, boundary validation, backends
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_diverging_runs_return_inf_nan_without_raising_or_warning(backend):
    g = np.random.default_rng(9)
    P = random_problem(g, 9, 3, 0, psd=True)
    w0 = g.standard_normal((9, 3)) + 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = kernels.gd(P, w0, 1e6, 400, backend=backend)
        Pr = random_problem(g, 9, 3, 2, Ridge.SIN, psd=True)
        ts = kernels.sgd(Pr, w0, 1e6, 400, batch=2, seed=1, backend=backend, expectations=False)
    assert not np.isfinite(tr.f[:, -1]).any()
    assert not np.isfinite(ts.w_last).all()
    assert np.isfinite(tr.f[:, 0]).all()


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("B,d,m", [(8, 1, 0), (16, 2, 0), (5, 3, 2), (1, 1, 0)])
def test_inputs_are_not_mutated(backend, B, d, m):
    g = np.random.default_rng(13)
    P = random_problem(g, B, d, m)
    w0 = g.standard_normal((B, d))
    eta = np.full((B, 4), 0.01)
    before = [x.copy() for x in (P.A, P.b, P.R, P.s, P.c, w0, eta)]
    kernels.gd(P, w0, eta, 4, backend=backend)
    kernels.gd(P, w0, eta[:, 0], 4, backend=backend, keep_iterates=True)
    if m:
        kernels.sgd(P, w0, eta, 4, batch=1, seed=0, backend=backend, expectations=True)
    for old, new in zip(before, (P.A, P.b, P.R, P.s, P.c, w0, eta), strict=True):
        assert np.array_equal(old, new)


def test_trajectory_fields():
    g = np.random.default_rng(10)
    P = random_problem(g, 4, 3, 2)
    tr = kernels.gd(P, np.zeros((4, 3)), 0.1, 5, keep_iterates=True)
    assert isinstance(tr, Trajectory)
    assert tr.f.shape == (4, 6) and tr.gnorm2.shape == (4, 6) and tr.w.shape == (4, 6, 3)
    assert np.array_equal(tr.w[:, 0], np.zeros((4, 3))) and np.array_equal(tr.w[:, -1], tr.w_last)
    assert tr.backend == "numpy" and tr.dtype == "float64" and tr.ef_next is None and tr.eg2 is None
    t0 = kernels.gd(P, np.ones((4, 3)), np.zeros((4, 0)), 0, backend="numba")
    assert t0.f.shape == (4, 1) and np.array_equal(t0.w_last, np.ones((4, 3))) and t0.backend == "numba"
    with pytest.raises(dataclasses.FrozenInstanceError):
        tr.backend = "numba"


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(w0=np.zeros((3, 2))), "w0 must have shape"),
        (dict(w0=np.full((4, 3), np.nan)), "w0 has non-finite"),
        (dict(T=-1), "T must be >= 0"),
        (dict(T=2.0), "T must be an integer"),
        (dict(T=True), "T must be an integer"),
        (dict(eta=np.inf), "eta has non-finite"),
        (dict(eta=np.array([0.1, np.nan, 0.1, 0.1])), "eta has non-finite"),
        (dict(eta=np.zeros(3)), r"shape \(4,\)"),
        (dict(eta=np.zeros((4, 4))), r"schedule and must have shape \(B, T\) = \(4, 5\)"),
        (dict(eta=np.zeros((4, 5, 1))), "eta must be a scalar"),
        (dict(eta="0.1"), "eta must be real"),
        (dict(dtype="int32"), "computes in"),
        (dict(keep_iterates=1), "keep_iterates must be a bool"),
    ],
)
def test_gd_boundary_validation(kwargs, match):
    g = np.random.default_rng(11)
    args = dict(problem=random_problem(g, 4, 3, 1), w0=np.zeros((4, 3)), eta=0.1, T=5)
    args.update(kwargs)
    problem, w0, eta, T = args.pop("problem"), args.pop("w0"), args.pop("eta"), args.pop("T")
    with pytest.raises(ValueError, match=match):
        kernels.gd(problem, w0, eta, T, **args)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(batch=0), "batch must be"),
        (dict(batch=2.0), "batch must be"),
        (dict(seed=-1), "seed must be"),
        (dict(seed=2**64), "seed must be"),
        (dict(instance_ids=np.arange(3)), "instance_ids must have shape"),
        (dict(instance_ids=np.array([0, -1, 2, 3])), "non-negative"),
        (dict(instance_ids=np.zeros(4)), "integer"),
    ],
)
def test_sgd_boundary_validation(kwargs, match):
    g = np.random.default_rng(12)
    args = dict(batch=1, seed=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        kernels.sgd(random_problem(g, 4, 3, 2), np.zeros((4, 3)), 0.1, 5, **args)


def test_problem_type_is_checked():
    with pytest.raises(TypeError, match="RidgeQuadratic"):
        kernels.gd(object(), np.zeros((1, 1)), 0.1, 1)


def test_unknown_backend_lists_the_valid_ones():
    P = RidgeQuadratic.quadratic(np.eye(2)[None])
    with pytest.raises(ValueError, match="'numpy', 'numba', 'cupy', 'auto'"):
        kernels.gd(P, np.zeros((1, 2)), 0.1, 1, backend="jax")
    with pytest.raises(ValueError, match="unknown backend"):
        kernels.resolve_backend("Numba")


def test_available_and_auto_backends():
    avail = kernels.available_backends()
    assert avail[0] == "numpy" and set(avail) <= set(kernels.BACKENDS)
    assert "numba" in avail  # numba is a hard dependency of the project
    assert kernels.resolve_backend("auto") == "numba"
    assert kernels.resolve_backend("numpy") == "numpy"
    P = RidgeQuadratic.quadratic(np.eye(2)[None])
    assert kernels.gd(P, np.ones((1, 2)), 0.1, 1, backend="auto").backend == "numba"


def _pretend_missing(monkeypatch, missing: str):
    real = importlib.util.find_spec

    def fake(name, *args, **kwargs):
        return None if name == missing else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", fake)
    kernels.backend.backend_unavailable_reason.cache_clear()


def test_explicitly_requested_missing_cupy_raises_with_install_hint(monkeypatch):
    _pretend_missing(monkeypatch, "cupy")
    try:
        assert "cupy" not in kernels.available_backends()
        with pytest.raises(BackendUnavailable, match=r"cupy is not installed; pip install 'thmcheck\[gpu\]'"):
            kernels.resolve_backend("cupy")
        P = RidgeQuadratic.quadratic(np.eye(2)[None])
        with pytest.raises(BackendUnavailable):
            kernels.gd(P, np.zeros((1, 2)), 0.1, 1, backend="cupy")
        assert kernels.resolve_backend("auto") != "cupy"  # auto never picks the GPU
    finally:
        kernels.backend.backend_unavailable_reason.cache_clear()


def test_cupy_without_device_is_unavailable_not_a_fallback(monkeypatch):
    """CuPy importable but no device: a clear BackendUnavailable naming cupy."""
    import types

    fake = types.ModuleType("cupy")

    class _Runtime:
        @staticmethod
        def getDeviceCount():
            raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake.cuda = types.SimpleNamespace(runtime=_Runtime)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a, **k: object() if n == "cupy" else real(n, *a, **k))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    kernels.backend.backend_unavailable_reason.cache_clear()
    try:
        with pytest.raises(BackendUnavailable, match="cupy: no CUDA device"):
            kernels.resolve_backend("cupy")
        assert "cupy" not in kernels.available_backends()
    finally:
        kernels.backend.backend_unavailable_reason.cache_clear()


def test_missing_numba_makes_auto_numpy_and_explicit_numba_raise(monkeypatch):
    _pretend_missing(monkeypatch, "numba")
    try:
        assert kernels.resolve_backend("auto") == "numpy"
        assert "numba" not in kernels.available_backends()
        with pytest.raises(BackendUnavailable, match="numba is not installed"):
            kernels.resolve_backend("numba")
    finally:
        kernels.backend.backend_unavailable_reason.cache_clear()


def test_import_kernels_is_light():
    code = (
        "import sys, numpy as np, kernels\n"
        "assert 'numba' not in sys.modules and 'cupy' not in sys.modules, sorted(sys.modules)\n"
        "assert not any(m.endswith(('.numba', 'rng_numba')) for m in sys.modules if m.startswith('kernels'))\n"
        "print(kernels.available_backends())\n"
        "P = kernels.RidgeQuadratic.quadratic(np.eye(2)[None])\n"
        "kernels.gd(P, np.ones((1, 2)), 0.1, 3, backend='numpy')\n"
        "assert 'numba' not in sys.modules and 'cupy' not in sys.modules\n"
        "import kernels.ridge.cupy, kernels.escape.cupy, kernels.cp.cupy, kernels.pl.cupy\n"  # importable as source without CuPy
        "assert 'cupy' not in sys.modules\n"
        "assert 'theorems' not in sys.modules and 'numeric' not in sys.modules\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr


def test_kernels_imports_nothing_from_the_project():
    allowed = {"numpy", "numba", "cupy", "__future__"}
    stdlib = set(sys.stdlib_module_names)
    for path in sorted((ROOT / "kernels").glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level > 0:
                    continue  # relative import inside kernels/
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in allowed or top in stdlib, f"{path.name} imports {name}"
