"""The Schur product family: matrix kernels (NumPy oracle vs numba vs CuPy), instance classes and
their membership checks, the adapters' observables, and the catalogue's counterexamples."""

from __future__ import annotations

import sys
import types
from fractions import Fraction

import numpy as np
import pytest

import kernels
import numeric
from kernels import matrices as mk
from numeric.families import schur as ns
from numeric.families import schur_hermite as nsh
from numeric import CLASSES, Knobs
from theorems.catalogue import schur as S
from theorems.pipeline import compile_theorem

RNG = np.random.default_rng(1234)


def _sym(N, n, rng=RNG):
    M = rng.standard_normal((N, n, n))
    return M + np.swapaxes(M, 1, 2)


# ----------------------------------------------------------------------------------------------
# kernels
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 5, 17])
def test_numba_eigenvalues_match_the_reference(n):
    A, B = _sym(9, n), _sym(9, n)
    ref = mk.hadamard_eigvalsh(A, B)
    np.testing.assert_allclose(mk.hadamard_eigvalsh(A, B, backend="numba"), ref, atol=1e-12 * n)
    np.testing.assert_allclose(mk.eigvalsh(A, backend="numba"), np.linalg.eigvalsh(A), atol=1e-12 * n)
    np.testing.assert_allclose(ref, np.linalg.eigvalsh(A * B), atol=1e-12 * n)


def test_extended_precision_eigenvalues_agree_and_are_more_accurate():
    # diag(1, 1 + 2^-60) rotated by an exact Givens-free permutation: eigenvalues known exactly.
    A = np.array([[[1.0, 2.0**-30], [2.0**-30, 1.0]]], dtype=np.longdouble)
    ev = ns.eigvalsh(A, dtype=np.longdouble)
    with pytest.raises(ValueError, match="extended precision"):
        mk.eigvalsh(A, dtype=np.longdouble)  # LAPACK cannot; the kernel says so instead of rounding
    assert ev.dtype == np.longdouble
    exact = [Fraction(1) - Fraction(1, 2**30), Fraction(1) + Fraction(1, 2**30)]
    for got, want in zip(ev[0], exact):
        assert abs(Fraction(float(got)) - want) <= Fraction(1, 2**52)
    M = _sym(2, 6).astype(np.longdouble)
    np.testing.assert_allclose(ns.eigvalsh(M, dtype=np.longdouble).astype(float),
                               np.linalg.eigvalsh(M.astype(float)), atol=1e-12)


def test_jacobian_gram_is_built_explicitly_and_backends_agree():
    N, n, d, k = 6, 5, 3, 4
    X, W, v = RNG.standard_normal((N, n, d)), RNG.standard_normal((N, k, d)), RNG.standard_normal((N, k))
    act = np.arange(N) % 3
    ref = mk.jacobian_gram(X, W, v, act)
    np.testing.assert_allclose(mk.jacobian_gram(X, W, v, act, backend="numba"), ref, rtol=1e-12, atol=1e-12)
    # One row of J by finite differences of f(x_i) = v^T phi(W x_i) in W (softplus, b = 0).
    phi = lambda z: np.logaddexp(0.0, z)  # noqa: E731
    b, h = 0, 1e-6
    J = np.zeros((n, k * d))
    for c in range(k * d):
        Wp, Wm = W[b].copy(), W[b].copy()
        Wp.flat[c] += h
        Wm.flat[c] -= h
        J[:, c] = (phi(X[b] @ Wp.T) @ v[b] - phi(X[b] @ Wm.T) @ v[b]) / (2 * h)
    np.testing.assert_allclose(J @ J.T, ref[b], rtol=1e-6, atol=1e-6)


def test_backend_and_dtype_are_validated():
    with pytest.raises(ValueError, match="unknown backend"):
        mk.eigvalsh(_sym(1, 2), backend="tpu")
    with pytest.raises(ValueError, match="float64 only"):
        mk.eigvalsh(_sym(1, 2), backend="numba", dtype=np.float32)
    with pytest.raises(ValueError, match="shape"):
        mk.eigvalsh(np.zeros((2, 3)))


def _numpy_cupy_shim() -> types.ModuleType:
    shim = types.ModuleType("cupy")
    for name in ("asarray", "einsum", "exp", "cosh", "where"):
        setattr(shim, name, getattr(np, name))
    shim.asnumpy = np.asarray
    shim.linalg = types.SimpleNamespace(eigvalsh=np.linalg.eigvalsh)
    return shim


def test_cupy_code_path_runs_on_a_numpy_shim(monkeypatch):
    """Without a GPU the CuPy branches are still executed (CuPy replaced by NumPy)."""
    monkeypatch.setitem(sys.modules, "cupy", _numpy_cupy_shim())
    real = kernels.backend.backend_unavailable_reason  # the shim stands in for a device
    monkeypatch.setattr(kernels.backend, "backend_unavailable_reason", lambda name: None if name == "cupy" else real(name))
    A, B = _sym(4, 5), _sym(4, 5)
    np.testing.assert_allclose(mk.hadamard_eigvalsh(A, B, backend="cupy"), mk.hadamard_eigvalsh(A, B), atol=1e-12)
    np.testing.assert_allclose(mk.eigvalsh(A, backend="cupy"), mk.eigvalsh(A), atol=1e-12)
    X, W, v = RNG.standard_normal((3, 4, 2)), RNG.standard_normal((3, 5, 2)), RNG.standard_normal((3, 5))
    act = np.array([0, 1, 2])
    np.testing.assert_allclose(mk.jacobian_gram(X, W, v, act, backend="cupy"), mk.jacobian_gram(X, W, v, act),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.gpu
def test_cupy_matches_the_reference_on_a_device():
    try:
        kernels.resolve_backend("cupy")
    except kernels.BackendUnavailable as exc:
        pytest.skip(str(exc))
    A, B = _sym(64, 32), _sym(64, 32)
    np.testing.assert_allclose(mk.hadamard_eigvalsh(A, B, backend="cupy"), mk.hadamard_eigvalsh(A, B), atol=1e-10)
    X, W, v = RNG.standard_normal((8, 6, 3)), RNG.standard_normal((8, 7, 3)), RNG.standard_normal((8, 7))
    act = np.arange(8) % 3
    np.testing.assert_allclose(mk.jacobian_gram(X, W, v, act, backend="cupy"), mk.jacobian_gram(X, W, v, act),
                               rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------------------------------------
# instance classes
# ----------------------------------------------------------------------------------------------

CLASS_NAMES = ("psd_pairs", "psd_a_symmetric_b", "symmetric_a_psd_b", "networks", "unit_data", "unit_data_phi")


@pytest.mark.parametrize("cls", CLASS_NAMES)
@pytest.mark.parametrize("pattern", range(8))
def test_every_generated_instance_is_a_member(cls, pattern):
    c = CLASSES[cls]
    for dim in (1, 2, 7, 64) if "pairs" in cls or "psd" in cls else (1, 2, 7):
        rng = np.random.default_rng([pattern, dim])
        batch = c.families[0].generate(rng, 16, Knobs(0, dim, pattern, 0.7, 0.0, (), 3))
        ok, why = c.member(batch)
        assert ok.all(), [w for w in why if w][:3]


def test_psd_generators_are_exactly_psd_with_the_intended_rank():
    """G G^T on the dyadic grid is computed without rounding: compare with exact rationals."""
    rng = np.random.default_rng(7)
    A = ns._exact_psd(rng, 3, 6, max_shift=16, rank_low=True)
    G = None  # regenerate G with the same stream to compare exactly
    rng = np.random.default_rng(7)
    Gi = rng.integers(-127, 128, (3, 6, 6), dtype=np.int8)
    s = rng.integers(0, 17, (3, 1, 6))
    r = rng.integers(1, 7, 3)
    for b in range(3):
        G = [[Fraction(int(Gi[b, i, j]), 128) / 2 ** int(s[b, 0, j]) * (j < r[b]) for j in range(6)] for i in range(6)]
        exact = [[sum(G[i][c] * G[j][c] for c in range(6)) for j in range(6)] for i in range(6)]
        assert all(Fraction(A[b, i, j]) == exact[i][j] for i in range(6) for j in range(6))
        assert np.linalg.matrix_rank(A[b].astype(float)) <= r[b]


def test_membership_rejects_indefinite_matrices():
    """Negative controls: an indefinite A or B is outside psd_pairs (an error, never a counterexample)."""
    A = np.array([[[1.0, 0.0], [0.0, -1.0]]])
    B = np.array([[[1.0, 0.0], [0.0, 3.0]]])
    c = CLASSES["psd_pairs"]
    batch = numeric.InstanceBatch("t", ns.MatrixPairs(A, B), np.zeros((1, 0)), {"n": np.array([2.0])})
    ok, why = c.member(batch)
    assert not ok[0] and "A is not PSD" in why[0]
    ok, why = c.member(numeric.InstanceBatch("t", ns.MatrixPairs(B, A), np.zeros((1, 0)), {"n": np.array([2.0])}))
    assert not ok[0] and "B is not PSD" in why[0]
    ok, _ = CLASSES["symmetric_a_psd_b"].member(batch)
    assert ok[0]
    asym = numeric.InstanceBatch("t", ns.MatrixPairs(np.array([[[1.0, 1.0], [0.0, 1.0]]]), B), np.zeros((1, 0)),
                                 {"n": np.array([2.0])})
    assert not CLASSES["psd_pairs"].member(asym)[0][0]


def test_pair_encoding_round_trips():
    c = CLASSES["psd_pairs"]
    batch = c.families[0].generate(np.random.default_rng(0), 3, Knobs(0, 4, 3, 0.0, 0.0, (), 1))
    back = c.decode(c.encode(batch.problem, 2))
    assert np.array_equal(back.A[0], batch.problem.A[2]) and np.array_equal(back.B[0], batch.problem.B[2])


# ----------------------------------------------------------------------------------------------
# claims on fixed instances
# ----------------------------------------------------------------------------------------------


def _replay_pair(thm, claim, A, B, dtype=np.longdouble):
    exp, compiled = compile_theorem(thm).experiment_for(claim)
    found = numeric.Found(family="fixed", dynamics="spectra", data={"A": A, "B": B, "w0": [], "T": 1, "seed": 0,
                          "instance_id": 0, "settings": {}}, params={"n": float(len(A))}, step=None,
                          observed=0.0, bound=0.0, ratio=None, slack=0.0, margin=0.0, tol=0.0)
    return numeric.replay(exp, compiled, found, dtype=dtype)


@pytest.mark.parametrize("claim", ["lower_bound", "upper_bound"])
def test_catalogue_counterexample_with_indefinite_b(claim):
    margin, tol = _replay_pair(S.without_psd_b, claim, [[1.0, 1.0], [1.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]])
    assert margin < -tol and margin == pytest.approx(-1.0)  # lambda_min = -1 < 0; lambda_max = 3 > 2


def test_catalogue_counterexample_with_indefinite_a():
    margin, tol = _replay_pair(S.without_psd_a, "lower_bound", [[1.0, 0.0], [0.0, -1.0]], [[1.0, 0.0], [0.0, 3.0]])
    assert margin < -tol and margin == pytest.approx(-2.0)  # -3 < -1


def test_extremal_b_ones_is_tight_and_not_a_violation():
    rng = np.random.default_rng(5)
    A = ns._exact_psd(rng, 1, 5, max_shift=3, rank_low=False)[0]
    for dtype in (np.float64, np.longdouble):
        margin, tol = _replay_pair(S.product_bounds, "lower_bound", A.tolist(), np.ones((5, 5)).tolist(), dtype)
        assert margin == 0.0 and tol > 0


def test_eigenvalue_tolerance_is_derived_from_norm_and_dimension():
    from numeric import DYNAMICS, RunRequest

    req = RunRequest(problem=ns.MatrixPairs(8.0 * np.eye(3)[None], np.ones((1, 3, 3))), w0=np.zeros((1, 1)), params={},
                     horizon=0, settings={}, backend="numpy", seed=0, instance_ids=np.zeros(1, dtype=np.int64))
    run = DYNAMICS["spectra"].run(req)
    assert run.backend == "numpy"
    assert run.data["escale_AB"][0] == 3 * 8.0 and run.data["escale_A"][0] == 3 * 8.0


def test_gram_identity_printed_form_is_exact_for_unit_output_weights():
    X, W = RNG.standard_normal((1, 4, 3)), RNG.standard_normal((1, 5, 3))
    v = np.array([[1.0, -1.0, 1.0, 1.0, -1.0]])
    o = ns.network_observables(X, W, v, np.array([1]))
    assert o["gram_err_printed"][0] <= 64 * np.finfo(float).eps * o["gram_scale_printed"][0]
    o = ns.network_observables(X, W, 2 * v, np.array([1]))
    assert o["gram_err_printed"][0] > 1e-3
    assert o["gram_err"][0] <= 64 * np.finfo(float).eps * o["gram_scale"][0]


def test_ntk_kernel_matches_the_series_of_part_a():
    """H* = K/4 + sum_l (2l-3)!!/(2l-2)!! K^{o 2l} / ((2l-1) 2 pi) (Exercise 9.6.3(a), corrected series)."""
    X = RNG.standard_normal((1, 4, 3))
    Xn = X[0] / np.linalg.norm(X[0], axis=1, keepdims=True)
    K = np.clip(Xn @ Xn.T, -1, 1)
    series = K / 4
    c = 1.0  # (2l-3)!!/(2l-2)!! at l = 1
    for l in range(1, 4000):
        series = series + c * K ** (2 * l) / ((2 * l - 1) * 2 * np.pi)
        c *= (2 * l - 1) / (2 * l)
    H = K * (np.pi - np.arccos(K)) / (2 * np.pi)
    np.testing.assert_allclose(series, H, atol=2e-3)  # slow convergence on the diagonal (K_ii = 1)
    off = ~np.eye(4, dtype=bool)
    np.testing.assert_allclose(series[off], H[off], atol=1e-9)
    o = ns.ntk_observables(X)
    # arccos of a rounded K_ii ~ 1 - eps is off by ~sqrt(2 eps) ~ 2e-8; the kernel's atan2 angle is not.
    assert o["ntk_gap"][0] == pytest.approx(np.linalg.eigvalsh(H - K / 4)[0], abs=1e-7)


def test_ntk_angle_is_accurate_for_nearly_parallel_points():
    x = np.array([1.0, 0.0])
    y = np.array([1.0, 1e-9])
    X = np.stack([x, y])[None]
    o = ns.ntk_observables(X.astype(np.longdouble), dtype=np.longdouble)
    o64 = ns.ntk_observables(X)
    assert abs(float(o64["ntk_gap"][0]) - float(o["ntk_gap"][0])) < 1e-14


# ----------------------------------------------------------------------------------------------
# Hermite lemma
# ----------------------------------------------------------------------------------------------


def test_hermite_coefficients_match_the_catalogue_and_closed_forms():
    mu = mk.hermite_coefficients(0, 2)  # softplus: phi' = sigmoid
    assert mu[1] == pytest.approx(0.206621, abs=1e-6) and abs(mu[2]) < 1e-15
    mu = mk.hermite_coefficients(2, 2)  # erf
    assert mu[0] == pytest.approx(2 / np.sqrt(3 * np.pi), rel=1e-14)
    assert abs(mu[1]) < 1e-15 and mu[2] == pytest.approx(-4 / (3 * np.sqrt(6 * np.pi)), rel=1e-13)
    t = nsh._stein_terms(0, np.float64)
    assert t["mu1"] == pytest.approx(t["e_dphi2"], abs=1e-15)  # Stein's lemma


@pytest.mark.parametrize("code", [0, 2])
def test_two_dimensional_quadrature_is_accurate_far_below_the_rounding_allowance(code):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((64, 6, 2))
    X[:, 1] = X[:, 0] * (1 + 1e-9)  # nearly parallel, correlation ~ 1
    X[:, 2] = -X[:, 0]
    X /= np.linalg.norm(X, axis=2, keepdims=True)
    K = np.einsum("bid,bjd->bij", X, X)
    a = mk.gaussian_cross_moment(K, np.full(64, code))
    b = mk.gaussian_cross_moment(K, np.full(64, code), q=160)
    assert np.abs(a - b).max() < 1e-14
    if code == 2:  # the exact form agrees with quadrature
        z, w = mk.gauss_hermite(160)
        r = 0.3
        quad = (w[:, None] * w[None, :] * mk.hermite_dphi(z[:, None], 2)
                * mk.hermite_dphi(r * z[:, None] + np.sqrt(1 - r * r) * z[None, :], 2)).sum()
        assert quad == pytest.approx(4 / np.pi / np.sqrt(9 - 4 * r * r), rel=1e-13)


def test_extended_precision_gauss_hermite_integrates_moments():
    z, w = mk.gauss_hermite(48, np.longdouble)
    assert z.dtype == np.longdouble
    for k, m in ((0, 1), (2, 1), (4, 3), (6, 15)):
        assert abs(float((w * z**k).sum() - m)) < 1e-17


def test_hermite_sigma_matches_a_monte_carlo_estimate():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((1, 4, 3))
    X /= np.linalg.norm(X, axis=2, keepdims=True)
    K = X[0] @ X[0].T
    Wmc = rng.standard_normal((400_000, 3))
    D = 1 / (1 + np.exp(-(Wmc @ X[0].T)))  # sigmoid(w . x_i)
    mc = (D.T @ D) / len(Wmc) * K
    quad = mk.gaussian_cross_moment(K[None], np.array([0]))[0] * K
    assert np.abs(mc - quad).max() < 5e-3


def test_gram_identity_holds_to_rounding_on_both_backends_for_saturated_tanh():
    """sech^2 is evaluated as 1/cosh^2 (1 - tanh^2 cancels for large |z| and differed between libms)."""
    rng = np.random.default_rng(2)
    X, W, v = rng.standard_normal((64, 2, 1)) * 4, rng.standard_normal((64, 4, 1)), rng.standard_normal((64, 4))
    for backend in ("numpy", "numba"):
        o = ns.network_observables(X, W, v, np.ones(64, dtype=np.int64), backend=backend)
        assert (o["gram_err"] <= 64 * np.finfo(float).eps * o["gram_scale"]).all()
