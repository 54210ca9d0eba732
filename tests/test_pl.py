"""PL family: instance classes (membership checks reject instances outside their class), the gd_pl
adapter, and the family's verdicts at the quick budget."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from numeric import CLASSES, Knobs
from numeric.families.pl import SINE_MU_OVER_L, MinimizerProblem, sine_profile
from numeric import InstanceBatch

PL_CLS = CLASSES["pl_smooth"]
RSI_CLS = CLASSES["rsi_smooth"]


def _batch(cls, family: str, pattern: int = 0, dim: int = 3, n: int = 16, seed: int = 1) -> InstanceBatch:
    fam = next(f for f in cls.families if f.name == family)
    return fam.generate(np.random.default_rng(seed), n, Knobs(0, dim, pattern, 0.2, 0.0, (1.0,), seed))


def _with(batch: InstanceBatch, **attrs) -> InstanceBatch:
    new = dict(batch.attrs)
    for k, f in attrs.items():
        new[k] = f(new[k])
    return replace(batch, attrs=new)


@pytest.mark.parametrize("cls,family", [(PL_CLS, "least_squares"), (PL_CLS, "sine"),
                                        (RSI_CLS, "sc_quadratic"), (RSI_CLS, "sc_logcosh")])
@pytest.mark.parametrize("pattern", range(4))
@pytest.mark.parametrize("dim", [1, 2, 5])
def test_generated_instances_are_members(cls, family, pattern, dim) -> None:
    ok, why = cls.member(_batch(cls, family, pattern, dim))
    assert ok.all(), [w for w in why if w]


def test_least_squares_constants_are_tight() -> None:
    b = _batch(PL_CLS, "least_squares", pattern=3, dim=5)
    H = b.problem.ridge.A
    lam = np.linalg.eigvalsh(H)
    for i in range(b.size):
        pos = lam[i][lam[i] > 1e-9 * lam[i][-1]]
        assert b.attrs["mu"][i] == pytest.approx(2 * pos.min(), rel=1e-9)  # mu_book = 2 sigma_min^+(A)^2
        assert b.attrs["L"][i] == pytest.approx(pos.max(), rel=1e-9)
        w = np.linalg.lstsq(H[i], -b.problem.ridge.b[i], rcond=None)[0]
        fmin = 0.5 * w @ H[i] @ w + b.problem.ridge.b[i] @ w
        assert b.attrs["f_star"][i] == pytest.approx(fmin, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("change,reason", [
    ({"mu": lambda m: 1.01 * m}, "PL constant"),
    ({"L": lambda L: 0.99 * L}, "exceeds L"),
    ({"f_star": lambda f: f - 1e-3 * (1 + np.abs(f))}, "f_star"),
])
def test_least_squares_outside_class_is_rejected(change, reason) -> None:
    b = _with(_batch(PL_CLS, "least_squares", pattern=3, dim=4), **change)
    ok, why = PL_CLS.member(b)
    assert not ok.any() and all(reason in w for w in why)


def test_indefinite_quadratic_is_not_pl() -> None:
    b = _batch(PL_CLS, "least_squares", dim=3)
    rq = b.problem.ridge
    A = rq.A.copy()
    A[:, 0, 0] -= 10 * b.attrs["L"]
    bad = replace(b, problem=MinimizerProblem(replace(rq, A=A), b.problem.wstar))
    ok, _ = PL_CLS.member(bad)
    assert not ok.any()


def test_b_outside_range_is_rejected() -> None:
    b = _batch(PL_CLS, "least_squares", pattern=0, dim=4)
    # make H rank deficient by construction: one-dimensional range
    rq = b.problem.ridge
    v = np.zeros((b.size, 4))
    v[:, 0] = 1.0
    H = b.attrs["L"][:, None, None] * np.einsum("ni,nj->nij", v, v)
    bvec = np.zeros((b.size, 4))
    bvec[:, 1] = 1.0  # null-space component: unbounded below
    bad = replace(b, problem=MinimizerProblem(replace(rq, A=H, b=bvec), b.problem.wstar),
                  attrs={**b.attrs, "mu": 2 * b.attrs["L"], "f_star": np.zeros(b.size)})
    ok, why = PL_CLS.member(bad)
    assert not ok.any() and all("range" in w for w in why)


def test_kns_example_constants() -> None:
    """x^2 + 3 sin^2 x: L = 8, f* = 0 (stored with the constant -3/2 dropped); the certified book
    constant 1/16 (mu_K = 1/32) is accepted and the tight book constant is about 0.3511."""
    prob = sine_profile(np.array([1.0]), np.array([1.0]), 1)
    x = np.linspace(-3, 3, 7)
    f = 0.5 * prob.A[0, 0, 0] * x**2 + prob.c[0, 0] * np.sin(prob.R[0, 0, 0] * x + prob.s[0, 0])
    assert np.allclose(f + 1.5, x**2 + 3 * np.sin(x) ** 2)
    batch = InstanceBatch("sine", MinimizerProblem(prob, np.zeros((1, 1))), np.zeros((1, 1)),
                          {"L": np.array([8.0]), "mu": np.array([8.0 * SINE_MU_OVER_L]),
                           "f_star": np.array([-1.5]), "d": np.array([1.0])})
    assert 8.0 * SINE_MU_OVER_L == 1.0 / 16.0
    ok, why = PL_CLS.member(batch)
    assert ok.all(), why
    for mu, expected in ((0.35, True), (0.3525, False)):
        ok, _ = PL_CLS.member(_with(batch, mu=lambda m, mu=mu: np.array([mu])))
        assert bool(ok[0]) is expected
    ok, _ = PL_CLS.member(_with(batch, L=lambda L: np.array([7.9])))
    assert not ok[0]


@pytest.mark.parametrize("change,reason", [
    ({"mu": lambda m: 1.01 * m + 1e-12}, "lambda_min"),
    ({"L": lambda L: 0.9 * L}, "exceeds L"),
])
def test_rsi_outside_class_is_rejected(change, reason) -> None:
    b = _with(_batch(RSI_CLS, "sc_logcosh", pattern=3, dim=3), **change)
    ok, why = RSI_CLS.member(b)
    assert not ok.any() and all(reason in w for w in why)


def test_rsi_wrong_minimizer_is_rejected() -> None:
    b = _batch(RSI_CLS, "sc_quadratic", dim=3)
    moved = replace(b, problem=MinimizerProblem(b.problem.ridge, b.problem.wstar + 0.1))
    ok, why = RSI_CLS.member(moved)
    assert not ok.any() and all("not zero" in w for w in why)


def test_gd_pl_observables_match_a_direct_computation() -> None:
    from numeric import get_dynamics as get

    b = _batch(PL_CLS, "least_squares", pattern=3, dim=4, n=4)
    dyn = get("gd_pl")

    from numeric import RunRequest

    eta = 1.0 / b.attrs["L"]
    for backend in ("numpy", "numba"):
        out = dyn.run(RunRequest(problem=b.problem, w0=b.w0, params={"eta": eta}, horizon=5, settings={},
                                 backend=backend, seed=0, instance_ids=np.arange(4)))
        assert out.backend == backend
        run = out.data
        H, bb = b.problem.ridge.A, b.problem.ridge.b
        w = b.w0.copy()
        for t in range(5):
            d2 = np.sum((w - b.problem.wstar) ** 2, axis=1)
            assert np.allclose(dyn.per_step["dist2_t"](run)[:, t], d2, rtol=1e-12)
            assert np.all(dyn.per_step["step_t"](run)[:, t] == t)
            w = w - eta[:, None] * (np.einsum("nij,nj->ni", H, w) + bb)
        assert np.allclose(dyn.trajectory["dist2_last"](run), np.sum((w - b.problem.wstar) ** 2, axis=1), rtol=1e-10)


def test_encode_decode_round_trip() -> None:
    b = _batch(PL_CLS, "least_squares", dim=3, n=2)
    data = PL_CLS.encode(b.problem, 1)
    back = PL_CLS.decode(data)
    assert np.array_equal(back.ridge.A[0], b.problem.ridge.A[1])
    assert np.array_equal(back.wstar[0], b.problem.wstar[1])


def test_family_verdicts_on_a_small_search() -> None:
    """A small search (``pytest theorems/`` runs every claim at the quick budget)."""
    from numeric import Budget
    from theorems.pipeline import run_theorem
    from theorems.registry import load_registry

    small = Budget("small", bulk_rounds=4, bulk_batch=64, examples=8, example_batch=16, confirm=4)
    reg = load_registry()
    for tid in ("pl.claim_6_2_2_pl", "pl.general_step", "pl.claim_6_2_2_rsi",
                "pl.claim_6_2_2_wqc", "pl.os_key_lemma"):
        thm = reg.theorems[tid]
        for rec in run_theorem(thm, budget=small, seed=0, backend="numba", lookup=reg.lookup):
            assert rec.verdict == rec.expected, (rec.theorem, rec.claim, rec.reason)
            if rec.expected == "proved":
                assert all(d.status == "proved" for d in rec.derivations if not d.printed)


# ------------------------------------------------------------------ quartic-Huber (weakly-quasi-convex)


def test_quartic_huber_kernels_agree_and_match_the_seed() -> None:
    from kernels.pl import gd_quartic_huber, quartic_huber_value

    rng = np.random.default_rng(3)
    B, d = 8, 3
    a, s = 10 ** rng.uniform(-1, 1, B), 10 ** rng.uniform(-1, 1, B)
    w0 = s[:, None] * rng.uniform(-5, 5, (B, d))
    eta = rng.uniform(0, 1, B) * s**2 / (12 * a)
    ref = gd_quartic_huber(a, s, w0, eta, 50, backend="numpy")
    nb = gd_quartic_huber(a, s, w0, eta, 50, backend="numba")
    ld = gd_quartic_huber(a, s, w0, eta, 50, backend="numpy", dtype=np.longdouble)
    assert np.allclose(nb.f, ref.f, rtol=1e-12, atol=0) and np.allclose(nb.w, ref.w, rtol=1e-12, atol=1e-300)
    assert np.allclose(ld.f.astype(np.float64), ref.f, rtol=1e-10)
    assert np.allclose(nb.fabs, ref.fabs, rtol=1e-12) and np.all(ref.fabs >= np.abs(ref.f))
    # h is C^2 at |u| = 1 and convex
    u = np.array([1 - 1e-12, 1 + 1e-12, -1 - 1e-12, -1 + 1e-12])
    h, dh, _ = quartic_huber_value(u)
    assert np.allclose(h, 1.0) and np.allclose(np.abs(dh), 4.0)
    # THEOREMS.md 2.3: a = s = 1, eta = 1/12, w0 = 1 gives t^2 f(w_t) -> 2.25 (sublinear).
    r = gd_quartic_huber([1.0], [1.0], [[1.0]], [1 / 12], 4000, backend="numba")
    assert r.f[0, 4000] * 4000**2 == pytest.approx(2.25, rel=0.01)
    with pytest.raises(ValueError):
        gd_quartic_huber([1.0], [1.0], [[1.0]], [0.1], 3, backend="numba", dtype=np.float32)


def test_quartic_outside_class_is_rejected() -> None:
    cls = CLASSES["wqc_quartic"]
    b = _batch(cls, "quartic_huber", dim=2)
    assert cls.member(b)[0].all()
    for change, reason in (({"L": lambda L: 0.9 * L}, "exceeds L"), ({"mu": lambda m: 1.5 * m}, "not certified"),
                           ({"f_star": lambda f: f - 1.0}, "f* = 0")):
        ok, why = cls.member(_with(b, **change))
        assert not ok.any() and all(reason in w for w in why)


def test_printed_wqc_rate_fails_on_the_seed_instance() -> None:
    """The seed's own instance (a = s = 1, w0 = 1, eta = 1/12 = 1/L) refutes the printed geometric
    rate, replayed in extended precision; the corrected sublinear rate holds on it."""
    from numeric.families.pl_quartic import QuarticProblem
    from numeric import Found, replay
    from theorems.pipeline import compile_theorem
    from theorems.registry import load_registry

    thm = load_registry().theorems["pl.claim_6_2_2_wqc"]
    comp = compile_theorem(thm)
    data = {**CLASSES["wqc_quartic"].encode(QuarticProblem(np.array([1.0]), np.array([1.0]), 1), 0),
            "w0": [1.0], "T": thm.horizon, "seed": 0, "instance_id": 0, "settings": {}}
    params = {"L": 12.0, "mu": 1.0, "f_star": 0.0, "d": 1.0, "eta": 1 / 12}
    for claim, step, holds in (("geometric_rate_as_printed", 599, False), ("sublinear_rate", None, True)):
        exp, cc = comp.experiment_for(claim)
        found = Found("quartic_huber", "gd_quartic", data, params, step, 0, 0, None, 0, 0, 0)
        margin, tol = replay(exp, cc, found)
        assert (margin >= -tol) is holds, (claim, margin, tol)


# ------------------------------------------------------------------ Oymak-Soltanolkotabi key lemma


def _os_seed_instance():
    """THEOREMS.md 2.3: f(theta) = 10 theta in R^3, y = 1: alpha = 5, beta = 10."""
    from kernels import RidgeQuadratic
    from numeric.families.pl import MinimizerProblem

    X = 10.0 * np.eye(3)
    y = np.ones(3)
    rq = RidgeQuadratic.quadratic((X.T @ X)[None], (-X.T @ y)[None])
    prob = MinimizerProblem(rq, np.linalg.solve(X, y)[None])
    attrs = {"L": np.array([100.0]), "mu": np.array([200.0]), "f_star": np.array([-1.5]), "d": np.array([3.0]),
             "alpha": np.array([5.0]), "beta": np.array([10.0])}
    return InstanceBatch("overparam_linear", prob, np.zeros((1, 3)), attrs)


def test_os_seed_instance_is_a_member_and_alpha_too_large_is_rejected() -> None:
    cls = CLASSES["os_linear"]
    b = _os_seed_instance()
    ok, why = cls.member(b)
    assert ok.all(), why
    for change, reason in (({"alpha": lambda a: a * 1.01}, "sigma_min"), ({"beta": lambda x: x * 0.99}, "beta^2")):
        ok, why = cls.member(_with(b, **change))
        assert not ok.any() and all(reason in w for w in why)


def test_os_printed_step_diverges_on_the_seed_instance_and_the_corrected_step_converges() -> None:
    from numeric import Found, replay
    from theorems.pipeline import compile_theorem
    from theorems.registry import load_registry

    thm = load_registry().theorems["pl.os_key_lemma"]
    comp = compile_theorem(thm)
    b = _os_seed_instance()
    data = {**CLASSES["os_linear"].encode(b.problem, 0), "w0": [0.0, 0.0, 0.0], "T": thm.horizon, "seed": 0,
            "instance_id": 0, "settings": {}}
    base = {k: float(v[0]) for k, v in b.attrs.items()}
    for claim, eta, step, holds in (("rate_as_printed", float(np.nextafter(0.2, 0.0)), 2, False), ("rate", 0.005, 2, True),
                                    ("path_length", 0.005, None, True), ("distance", 0.005, None, True)):
        exp, cc = comp.experiment_for(claim)
        found = Found("overparam_linear", "gd_pl", data, {**base, "eta": eta}, step, 0, 0, None, 0, 0, 0)
        margin, tol = replay(exp, cc, found)
        assert (margin >= -tol) is holds, (claim, margin, tol)


def test_the_overstated_mu_class_is_the_pl_class_with_mu_doubled() -> None:
    """The necessity check's relaxation of the PL hypothesis: its members have mu/2 certified, and a
    least-squares instance (whose certified mu is exact) is outside the PL class once doubled."""
    relaxed, pl = CLASSES["pl_mu_overstated"], CLASSES["pl_smooth"]
    k = Knobs(0, 4, 0, 0.0, 0.0, (), 3)
    batch = relaxed.families[0].generate(np.random.default_rng(1), 8, k)
    assert relaxed.member(batch)[0].all()
    ok, why = pl.member(batch)
    assert not ok.all() and any(why)
    exact = pl.families[0].generate(np.random.default_rng(1), 8, k)
    assert np.allclose(batch.attrs["mu"], np.minimum(2 * exact.attrs["mu"], 2 * exact.attrs["L"]))
