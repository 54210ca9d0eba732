"""Problem 13.1.1 (over-parameterized logistic loss): the gd_product kernels, the overparam_logistic
class, THEOREMS.md's counterexample numbers, and the theorem's verdicts at the quick budget."""

from __future__ import annotations

import numpy as np
import pytest

import kernels
from kernels.overparam import LogisticData, gd_product, logistic_loss_grad
from numeric import CLASSES, DYNAMICS, InstanceBatch, Knobs, RunRequest, budget
from numeric.families.overparam import SEED_X, SEED_Y, OverparamProblem, minimiser

CLS = "overparam_logistic"


def _batch(seed: int, n: int, k: int, family: int = 0, log_scale: float = 0.0, log_w0: float = 0.0) -> InstanceBatch:
    cls = CLASSES[CLS]
    return cls.families[family].generate(np.random.default_rng(seed), n, Knobs(family, k, seed % 8, log_scale, log_w0,
                                                                               (0.5,), seed))


def _seed_data() -> LogisticData:
    return LogisticData(np.asarray([SEED_X]), np.asarray([SEED_Y]), np.ones((1, 4)))


def _thresholds(lp: float, W0: float, k: int) -> tuple[float, float]:
    return 2 / lp * W0 ** (1 / k - 1), 2 / lp * W0 ** (2 / k - 1)


@pytest.mark.parametrize("k", [2, 3, 4, 5, 6])
def test_reference_and_numba_agree_on_random_batches(k: int) -> None:
    """Same arithmetic, but NumPy's and numba's exp/log1p may differ by an ulp, and the dynamics amplify
    relative errors by about k per step (exploding runs) or chaotically (runs oscillating around W*): the
    arrays are compared over a short horizon, the explosion verdicts over a long one away from the threshold."""
    rng = np.random.default_rng(k)
    b = _batch(k, 300, k, family=k % 2, log_scale=rng.uniform(-1, 1), log_w0=rng.uniform(-2, 1))
    _, tau = _thresholds(b.attrs["lprime0"], b.attrs["W0"], k)
    ratio = rng.uniform(0.2, 2.0, 300)
    eta = tau * ratio  # both sides of the threshold: converging and exploding runs
    a = gd_product(b.problem.data, b.w0[:, 0], b.problem.k, eta, 3, backend="numpy")
    c = gd_product(b.problem.data, b.w0[:, 0], b.problem.k, eta, 3, backend="numba")
    assert (a.backend, c.backend) == ("numpy", "numba")
    for x, y in ((a.w, c.w), (a.W, c.W), (a.loss, c.loss), (a.lprime, c.lprime)):
        np.testing.assert_array_equal(np.isfinite(x), np.isfinite(y))
        both = np.isfinite(x)
        np.testing.assert_allclose(x[both], y[both], rtol=1e-9, atol=1e-13)
    a = gd_product(b.problem.data, b.w0[:, 0], b.problem.k, eta, 60, backend="numpy")
    c = gd_product(b.problem.data, b.w0[:, 0], b.problem.k, eta, 60, backend="numba")
    level, away = 1e6, np.abs(ratio - 1) > 0.05
    ea, ec = (a.Wabs > level).any(axis=1), (c.Wabs > level).any(axis=1)
    np.testing.assert_array_equal(ea[away], ec[away])
    assert ea[away].any() and not ea[away].all()


def test_longdouble_reference_runs_and_agrees_with_float64() -> None:
    b = _batch(7, 50, 3)
    eta = 0.5 * _thresholds(b.attrs["lprime0"], b.attrs["W0"], 3)[1]
    hi = gd_product(b.problem.data, b.w0[:, 0], b.problem.k, eta, 8, backend="numpy", dtype=np.longdouble)
    lo = gd_product(b.problem.data, b.w0[:, 0], b.problem.k, eta, 8, backend="numpy")
    assert hi.W.dtype == np.dtype(np.longdouble) and hi.dtype in ("longdouble", "float64")
    np.testing.assert_allclose(np.asarray(hi.W, dtype=np.float64), lo.W, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="float64 only"):
        gd_product(b.problem.data, b.w0[:, 0], b.problem.k, eta, 8, backend="numba", dtype=np.longdouble)


def test_backends_auto_and_cupy() -> None:
    d = _seed_data()
    assert gd_product(d, 1.0, 2, 0.1, 2, backend="auto").backend == "numba"
    with pytest.raises(kernels.BackendUnavailable, match="overparam.gd: backend .cupy. .* has no implementation"):
        gd_product(d, 1.0, 2, 0.1, 2, backend="cupy")
    with pytest.raises(ValueError, match="unknown backend"):
        gd_product(d, 1.0, 2, 0.1, 2, backend="tpu")


def test_overflow_is_data_not_an_error() -> None:
    r = gd_product(_seed_data(), 3 ** 0.25, 4, 50.0, 40, backend="numba")
    assert np.isinf(r.Wabs).any() and r.Wabs[0, 0] == pytest.approx(3.0)


def test_theorems_md_counterexample_numbers() -> None:
    d = _seed_data()
    wstar = float(minimiser(d)[0][0])
    assert wstar == pytest.approx(0.509, abs=5e-4)
    k, W0 = 4, 3.0
    lp = float(logistic_loss_grad(d, np.asarray([W0]))[1][0])
    assert lp > 0
    printed, true = _thresholds(lp, W0, k)
    assert round(printed, 3) == 0.670 and round(true, 3) == 0.882
    dyn = DYNAMICS["gd_product"]
    problem = OverparamProblem(d, np.asarray([k]))

    def run(eta: float):
        req = RunRequest(problem=problem, w0=np.full((1, k), W0 ** 0.25), params={"eta": np.asarray([eta])}, horizon=150,
                         settings=dyn.setting_defaults(), backend="numba", seed=0, instance_ids=np.zeros(1, np.int64))
        out = dyn.run(req)
        return out.data.run.W[0], float(dyn.trajectory["exploded"](out.data)[0])

    W, exploded = run(0.776)  # above the printed threshold, below the true one
    assert W[0] == pytest.approx(3.0) and W[1] == pytest.approx(1.0, abs=0.01) and W[2] == pytest.approx(0.117, abs=0.002)
    assert exploded == 0.0 and np.all(np.abs(W) < 3.0)
    W, exploded = run(1.05 * 0.882)  # THEOREMS.md: 4.4, 42.8, 1.8e5, ...
    assert exploded == 1.0
    assert W[1] == pytest.approx(4.4, abs=0.02) and W[2] == pytest.approx(42.6, rel=0.01) and W[3] == pytest.approx(1.8e5, rel=0.02)


def test_membership_is_independent_and_rejects_w0_not_above_wstar() -> None:
    cls = CLASSES[CLS]
    for fam in range(2):
        for k in (2, 5):
            ok, why = cls.member(_batch(fam + k, 200, k, family=fam))
            assert ok.all(), set(why)
    b = _batch(3, 4, 3, family=1)
    wstar = b.attrs["Wstar"]

    def with_W0(W0: np.ndarray) -> InstanceBatch:
        w0 = W0 ** (1 / 3)
        W0 = w0**3
        lp = np.abs(logistic_loss_grad(b.problem.data, W0)[1])
        return InstanceBatch("x", b.problem, np.repeat(w0[:, None], 3, axis=1), {**b.attrs, "W0": W0, "lprime0": lp})

    ok, why = cls.member(with_W0(0.9 * wstar))
    assert not ok.any() and all("not above the minimiser" in w for w in why)
    ok, why = cls.member(with_W0(wstar))  # at the minimiser (within rounding): never strictly above it
    assert not ok.any()
    tampered = InstanceBatch("x", b.problem, b.w0, {**b.attrs, "lprime0": b.attrs["lprime0"] * 1.01})
    ok, why = cls.member(tampered)
    assert not ok.any() and "lprime0" in why[0]
    # A separable-the-wrong-way data set (sum y x < 0): W* is not positive.
    d = LogisticData(-np.asarray([SEED_X]), np.asarray([SEED_Y]), np.ones((1, 4)))
    bad = InstanceBatch("x", OverparamProblem(d, np.asarray([2])), np.full((1, 2), 1.0),
                        {"W0": np.ones(1), "Wstar": np.ones(1), "k": np.full(1, 2.0), "lprime0": np.ones(1)})
    ok, why = cls.member(bad)
    assert not ok[0] and "not positive" in why[0]


def test_corrected_margin_explodes_within_the_horizon_on_every_k() -> None:
    from theorems.catalogue.overparam import HORIZON, MARGIN

    rng = np.random.default_rng(11)
    for r in range(10):
        k = 2 + r % 5
        b = _batch(100 + r, 400, k, family=r % 2, log_scale=rng.uniform(-1, 1), log_w0=rng.uniform(-2, 1))
        eta = float(MARGIN) * _thresholds(b.attrs["lprime0"], b.attrs["W0"], k)[1]
        res = gd_product(b.problem.data, b.w0[:, 0], b.problem.k, eta, HORIZON, backend="numba")
        assert (res.Wabs > 1e6).any(axis=1).all()


def test_theorem_verdicts_at_quick_budget() -> None:
    from theorems.pipeline import run_theorem
    from theorems.registry import load_registry

    reg = load_registry()
    assert not [p for p in reg.problems if "overparam" in str(p)]
    thm = reg.theorems["overparam.problem_13_1_1"]
    recs = {r.claim: r for r in run_theorem(thm, budget=budget("quick"), seed=0, backend="numba", lookup=reg.lookup)}
    assert recs["explodes"].verdict == "pass" == recs["explodes"].expected, recs["explodes"].reason
    printed = recs["explodes_as_printed"]
    assert printed.verdict == "fail" == printed.expected, printed.reason
    p = printed.counterexample.instance.params
    lo, hi = _thresholds(p["lprime0"], p["W0"], int(p["k"]))
    assert p["exploded"] == 0.0 and lo < p["eta"] < hi and p["W0"] > 1


def test_equal_weights_recurrence_and_threshold_algebra() -> None:
    """SymPy: at equal factors d/dw_i l_hat(prod w) = l_hat'(W) w^(k-1) (k = 2..6), and the one-step
    factor a_0 = eta l_hat'(W_0) W_0^((k-2)/k) equals 2c exactly at eta = c (2/l_hat'(W_0)) W_0^(2/k-1)."""
    import sympy

    from theorems.catalogue.overparam import TRUE_THRESHOLD, W0, k, lp

    f = sympy.Function("lhat")
    w = sympy.Symbol("w", positive=True)
    for kk in range(2, 7):
        ws = sympy.symbols(f"w1:{kk + 1}", positive=True)
        grad = sympy.diff(f(sympy.prod(ws)), ws[0]).subs({x: w for x in ws}).doit()
        assert sympy.simplify(grad - f(w**kk).diff(w) / (kk * w ** (kk - 1)) * w ** (kk - 1)) == 0
    c = sympy.Symbol("c", positive=True)
    a0 = c * TRUE_THRESHOLD * lp * W0 ** ((k - 2) / k)
    assert sympy.simplify(sympy.powsimp(a0, force=True) - 2 * c) == 0
