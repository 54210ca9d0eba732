"""Family 6 (scale-invariant losses): kernels, instance class, adapters and the specs' symbolic parts."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import kernels
from kernels.scale_invariant import Rayleigh, gd_wd, rayleigh_value_grad
from numeric import CLASSES, Knobs
from numeric.families.scale_invariant import (
    hessian_norm_estimate,
    rayleigh_hessian,
)
from theorems.catalogue import scale_invariant as S


def _problem(seed: int, B: int = 24, d: int = 4, shift: float = 0.0, benign: bool = False):
    """Random Rayleigh quotients; ``benign`` keeps eta rho / ||w_0||^2 <= 1/4, where the dynamics is not
    chaotic, so two backends' trajectories stay close over many steps."""
    g = np.random.default_rng(seed)
    M = g.standard_normal((B, d, d))
    A = (M + M.transpose(0, 2, 1)) / 2 + shift * np.eye(d)
    w0 = g.standard_normal((B, d)) * 10.0 ** g.uniform(-2, 2, (B, 1))
    lam = 10.0 ** g.uniform(-2, 0, B)
    eta = g.uniform(0.01, 0.5, B) / lam
    if benign:
        ev = np.linalg.eigvalsh(A)
        rho = 2 * (ev[:, -1] - ev[:, 0])
        eta = np.minimum(eta, 0.25 * (w0**2).sum(1) / rho)
    return Rayleigh(A), w0, eta, lam


# ------------------------------------------------------------------------------------------------
# kernels
# ------------------------------------------------------------------------------------------------


def test_gradient_matches_finite_differences_and_is_scale_invariant() -> None:
    P, w, _, _ = _problem(0)
    f, g, _, _ = rayleigh_value_grad(P.A, w)
    h = 1e-6 * np.linalg.norm(w, axis=1)
    for i in range(w.shape[1]):
        e = np.zeros_like(w)
        e[:, i] = h
        fp, _, _, _ = rayleigh_value_grad(P.A, w + e)
        fm, _, _, _ = rayleigh_value_grad(P.A, w - e)
        fd = (fp - fm) / (2 * h)
        assert np.allclose(fd * np.linalg.norm(w, axis=1), g[:, i] * np.linalg.norm(w, axis=1), atol=1e-7)
    # L(cw) = L(w), grad L(cw) = grad L(w)/c, <w, grad L(w)> = 0 (Lemma 13.2.3 (1), (2))
    f3, g3, _, _ = rayleigh_value_grad(P.A, 3.0 * w)
    assert np.allclose(f3, f, rtol=1e-13, atol=1e-13)
    assert np.allclose(3.0 * g3, g, rtol=1e-12, atol=1e-12 * np.abs(g).max())
    assert np.all(np.abs((w * g).sum(1)) <= 1e-12 * np.linalg.norm(w, axis=1) * np.linalg.norm(g, axis=1) + 1e-14)


def test_hessian_formula_matches_finite_differences_and_scales() -> None:
    P, w, _, _ = _problem(1, B=8, d=3)
    H = rayleigh_hessian(P.A, w)
    d = w.shape[1]
    for i in range(d):
        e = np.zeros_like(w)
        h = 1e-5 * np.linalg.norm(w, axis=1)
        e[:, i] = h
        _, gp, _, _ = rayleigh_value_grad(P.A, w + e)
        _, gm, _, _ = rayleigh_value_grad(P.A, w - e)
        fd = (gp - gm) / (2 * h[:, None])
        scale = np.abs(H).max(axis=(1, 2))[:, None]
        assert np.all(np.abs(fd - H[:, :, i]) <= 1e-6 * scale)
    # Lemma 13.2.3 (3): Hess L(cw) = Hess L(w)/c^2
    assert np.allclose(rayleigh_hessian(P.A, 2.0 * w) * 4.0, H, rtol=1e-12, atol=1e-12 * np.abs(H).max())


def test_rho_is_exactly_twice_the_spectral_spread() -> None:
    """rho = max_{||w||=1} ||Hess L|| = 2 (lambda_max - lambda_min): the multistart estimate never exceeds
    it and reaches it (at the bottom eigenvector), and 200 random unit points stay below."""
    P, _, _, _ = _problem(2, B=32, d=5, shift=3.0)
    ev = np.linalg.eigvalsh(P.A)
    rho = 2 * (ev[:, -1] - ev[:, 0])
    est = hessian_norm_estimate(P.A, starts=64, seed=3)
    assert np.all(est <= rho * (1 + 1e-12))
    assert np.allclose(est, rho, rtol=1e-12)
    g = np.random.default_rng(4)
    for _ in range(200):
        x = g.standard_normal(P.A.shape[:2])
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        val = np.abs(np.linalg.eigvalsh(rayleigh_hessian(P.A, x))).max(axis=1)
        assert np.all(val <= rho * (1 + 1e-12))


@pytest.mark.parametrize("exp_lr", [False, True])
def test_numba_matches_reference(exp_lr: bool) -> None:
    """Same arithmetic, different summation order: the first steps agree to a few ulps; over the run the
    differences stay within the kernel's own forward-error bound (``errscale`` eps), the bound the exp-LR
    claims use as their tolerance."""
    P, w0, eta, lam = _problem(5, B=40, d=5, shift=2.0, benign=True)
    c = eta if exp_lr else None
    ref = gd_wd(P, w0, eta, lam, 25, exp_lr_scale=c, backend="numpy")
    nb = gd_wd(P, w0, eta, lam, 25, exp_lr_scale=c, backend="numba")
    es = gd_wd(P, w0, eta, lam, 25, exp_lr_scale=eta, backend="numpy").errscale
    assert nb.backend == "numba" and ref.backend == "numpy"
    eps = np.finfo(np.float64).eps
    for name in ("f", "fabs", "wnorm2", "gabs"):
        a, b = getattr(nb, name), getattr(ref, name)
        scale = ref.fabs if name == "f" else np.abs(b)
        assert np.all(np.abs(a[:, :2] - b[:, :2]) <= 64 * eps * scale[:, :2]), name
        assert np.all(np.abs(a - b) <= 64 * eps * es * scale), name
    assert np.all(np.abs(nb.gnorm2[:, :1] - ref.gnorm2[:, :1]) <= 64 * eps * ref.gabs[:, :1] ** 2 * 16)
    if exp_lr:
        assert np.allclose(nb.errscale, ref.errscale, rtol=1e-6)
        for name in ("direrr", "normerr"):
            assert np.all(np.abs(getattr(nb, name) - getattr(ref, name)) <= 64 * eps * ref.errscale), name
    else:
        assert nb.direrr is None and ref.direrr is None


def test_reference_runs_in_longdouble_and_agrees() -> None:
    P, w0, eta, lam = _problem(6, B=8, d=3)
    ld = np.longdouble
    hi = gd_wd(P.astype(ld), w0.astype(ld), eta.astype(ld), lam.astype(ld), 20, exp_lr_scale=eta.astype(ld),
               backend="numpy", dtype=ld)
    lo = gd_wd(P, w0, eta, lam, 20, exp_lr_scale=eta, backend="numpy")
    assert hi.f.dtype == np.dtype(ld) and hi.direrr.dtype == np.dtype(ld)
    eps = np.finfo(np.float64).eps
    assert np.all(np.abs(lo.direrr.astype(ld) - hi.direrr) <= 64 * eps * lo.errscale)
    assert np.all(hi.direrr <= 64 * np.finfo(ld).eps * hi.errscale)


def test_exponential_lr_equivalence_and_the_printed_schedule() -> None:
    """THEOREMS.md 6.3: eta = lam = 0.1, 20 steps: the printed schedule drifts O(1), the corrected one
    agrees to rounding and the scale is exact."""
    P, w0, _, _ = _problem(7, B=16, d=4)
    eta = np.full(16, 0.1)
    lam = np.full(16, 0.1)
    good = gd_wd(P, w0, eta, lam, 20, exp_lr_scale=eta, backend="numpy")
    bad = gd_wd(P, w0, eta, lam, 20, exp_lr_scale=np.ones(16), backend="numpy")
    assert good.direrr.max() < 1e-13 and good.normerr.max() < 1e-13
    assert bad.direrr[:, -1].max() > 0.1


def test_boundary_validation_and_missing_backends() -> None:
    P, w0, eta, lam = _problem(8, B=4, d=2)
    with pytest.raises(kernels.ProblemError):
        gd_wd(P, w0, eta, 1.0 / eta, 3)
    with pytest.raises(kernels.ProblemError):
        gd_wd(P, w0[:, :1], eta, lam, 3)
    with pytest.raises(kernels.BackendUnavailable, match="longdouble"):  # the policy of kernels.backend.select
        gd_wd(P, w0, eta, lam, 3, backend="numba", dtype=np.longdouble)
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(kernels.BackendUnavailable):
            gd_wd(P, w0, eta, lam, 3, backend="cupy")


@pytest.mark.gpu
def test_cupy_matches_reference() -> None:
    pytest.importorskip("cupy")
    P, w0, eta, lam = _problem(9, B=16, d=3)
    try:
        gpu = gd_wd(P, w0, eta, lam, 15, exp_lr_scale=eta, backend="cupy")
    except kernels.BackendUnavailable as exc:
        pytest.skip(str(exc))
    ref = gd_wd(P, w0, eta, lam, 15, exp_lr_scale=eta, backend="numpy")
    assert np.allclose(gpu.f, ref.f, rtol=1e-11)
    assert np.allclose(gpu.wnorm2, ref.wnorm2, rtol=1e-11)


# ------------------------------------------------------------------------------------------------
# instance class and adapters
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", range(6))
def test_generator_members_and_constants(pattern: int) -> None:
    cls = CLASSES["rayleigh_si"]
    rng = np.random.default_rng(pattern)
    b = cls.families[0].generate(rng, 64, Knobs(0, 3, pattern, 0.7, -1.0, (), 0))
    ok, why = cls.member(b)
    assert ok.all(), [w for w in why if w][:3]
    ev = np.linalg.eigvalsh(b.problem.A)
    assert np.allclose(b.attrs["rho"], 2 * (ev[:, -1] - ev[:, 0]), rtol=1e-12)
    assert np.all(b.attrs["lam"] >= b.attrs["rho"] / 2 * (1 - 1e-12))
    # membership rejects an understated rho
    from dataclasses import replace
    bad = replace(b, attrs={**b.attrs, "rho": b.attrs["rho"] * 0.9})
    ok2, why2 = cls.member(bad)
    assert not ok2.any() and "rho" in why2[0]


def hit_threshold(rho, lam, eta):
    """The spec's HIT_LEVEL, evaluated through the same compiled path the engine uses."""
    import symbolic

    f = symbolic.compile_numpy(S.HIT_LEVEL, [S.rho, S.lam, S.eta])
    return f(rho, lam, eta, _dtype=np.result_type(np.asarray(rho).dtype, np.float64).type)


def norm_threshold(rho, eta):
    import symbolic

    f = symbolic.compile_numpy(S.NORM_LEVEL, [S.rho, S.eta])
    return f(rho, eta, _dtype=np.result_type(np.asarray(rho).dtype, np.float64).type)


def test_the_hitting_levels_reach_the_runner_from_the_spec() -> None:
    """The runner stops at the spec's own expressions (no copy of them in numeric/): the compiled
    experiment carries them as derived values, and a changed expression changes the run."""
    from theorems.pipeline import compile_theorem

    exp, _ = compile_theorem(S.lemma_13_4_8).experiment_for("first_clause")
    names = {d.name for d in exp.derived}
    assert names == {"hit_level", "norm_level"}
    g = np.random.default_rng(10)
    rho, lam, eta = g.uniform(0.1, 3, 3)
    d = {x.name: x for x in exp.derived}["hit_level"]
    env = {"rho": np.array([rho]), "lam": np.array([lam]), "eta": np.array([eta])}
    got = d.value(*[env[a] for a in d.args], _dtype=np.float64)
    assert got == pytest.approx(8 * np.pi**4 * rho**2 * lam * eta, rel=1e-14)


def test_theorem_13_4_2_horizon_fits_the_run_and_the_level_is_not_trivial() -> None:
    """The hitting-time claim compares the first hit within the run; the class and the search range must
    keep the horizon bound below the run length (a miss would be reported as T + 1), and the level
    8 pi^4 rho^2 lam eta must be below max ||grad L(w/||w||)||^2 = rho^2/4 on part of the draws."""
    cls = CLASSES["rayleigh_si_slow_decay"]
    thm = S.theorem_13_4_2
    bound = sympy.lambdify((S.W0n, S.rho, S.eta, S.lam), thm.claims[0].relation.rhs, "numpy")
    worst, nontrivial = 0.0, 0
    for log_w0 in (-2.0, -0.5, 1.0):
        for log_scale in (-1.0, 1.0):
            b = cls.families[0].generate(np.random.default_rng(0), 256, Knobs(0, 3, 0, log_scale, log_w0, (), 1))
            assert cls.member(b)[0].all()
            rho, lam = b.attrs["rho"], b.attrs["lam"]
            for etarho in (0.25, 1.0):
                eta = etarho / rho
                worst = max(worst, float(np.max(bound((b.w0**2).sum(1), rho, eta, lam))))
                nontrivial += int(np.sum(hit_threshold(rho, lam, eta) < rho**2 / 4))
    assert worst < thm.horizon
    assert nontrivial > 0


def test_hitting_kernel_backends_agree() -> None:
    from kernels.scale_invariant import gd_wd_hitting

    P, w0, _, _ = _problem(11, B=32, d=3)
    ev = np.linalg.eigvalsh(P.A)
    rho = 2 * (ev[:, -1] - ev[:, 0])
    lam = 3e-4 * rho
    eta = 0.5 / rho
    lg, ln = hit_threshold(rho, lam, eta), norm_threshold(rho, eta)
    ref = gd_wd_hitting(P, w0, eta, lam, 3000, lg, ln, backend="numpy")
    nb = gd_wd_hitting(P, w0, eta, lam, 3000, lg, ln, backend="numba")
    ld = np.longdouble
    hi = gd_wd_hitting(P.astype(ld), w0.astype(ld), eta.astype(ld), lam.astype(ld), 3000, hit_threshold(
        rho.astype(ld), lam.astype(ld), eta.astype(ld)), norm_threshold(rho.astype(ld), eta.astype(ld)),
        backend="numpy", dtype=ld)
    assert np.array_equal(ref.hit, nb.hit) and np.array_equal(ref.either, nb.either)
    assert np.array_equal(ref.hit, hi.hit)
    assert np.allclose(ref.wnorm2_either, nb.wnorm2_either, rtol=1e-12)
    # consistent with the stored-trajectory kernel
    tr = gd_wd(P, w0, eta, lam, 3000, backend="numpy")
    gbar = tr.wnorm2 * tr.gnorm2
    first = np.where((gbar <= lg[:, None]).any(1), np.argmax(gbar <= lg[:, None], axis=1), 3001)
    assert np.array_equal(first, ref.hit)


# ------------------------------------------------------------------------------------------------
# specs: derivation outcomes
# ------------------------------------------------------------------------------------------------


def test_lemma_13_2_3_for_a_generic_scale_invariant_function() -> None:
    """Lemma 13.2.3 for L(w) = g(w/||w||) with a symbolic g: (1) <w, grad L> = 0 and (2) grad L(cw) =
    grad L(w)/c in 2 and 3 dimensions (one gradient entry in 3-D); (3) Hess L(cw) = Hess L(w)/c^2 for
    the mixed entry in 2-D (the others take SymPy tens of seconds)."""
    for d in (2, 3):
        w = sympy.symbols(f"w1:{d + 1}", real=True)
        c = sympy.Symbol("c", positive=True)
        r = sympy.sqrt(sum(x**2 for x in w))
        L = sympy.Function("g")(*[x / r for x in w])
        scaled = {y: c * y for y in w}
        grad = [sympy.diff(L, x) for x in w]
        assert sympy.simplify(sum(x * gx for x, gx in zip(w, grad))) == 0
        for gx in grad[: (d if d == 2 else 1)]:
            assert sympy.simplify(gx.subs(scaled, simultaneous=True) - gx / c) == 0
        if d == 2:
            h = sympy.diff(L, w[0], w[1])
            assert sympy.simplify(h.subs(scaled, simultaneous=True) - h / c**2) == 0


def test_exp_lr_schedule_is_forced_by_the_induction_step() -> None:
    """eta_t q^t = eta / q^(t+1) has the unique solution eta_t = eta q^-(2t+1)."""
    et = sympy.Symbol("eta_t", positive=True)
    sol = sympy.solve(sympy.Eq(et * S.qf**S.t, S.eta / S.qf ** (S.t + 1)), et)
    assert len(sol) == 1 and sympy.simplify(sol[0] - S.eta * S.qf ** (-(2 * S.t + 1))) == 0


def test_specs_compile_and_declare_expected_verdicts() -> None:
    from theorems.pipeline import compile_theorem
    from theorems.validate import validate

    for thm in S.THEOREMS:
        validate(thm)
        compile_theorem(thm)
    assert S.exp_lr.expected(S.exp_lr.claim("schedule_as_printed")).value == "fail"
    assert S.exp_lr.expected(S.exp_lr.claim("direction_error")).value == "proved"
    assert S.lemma_13_4_8.expected(S.lemma_13_4_8.claim("furthermore_as_printed")).value == "fail"


def test_printed_furthermore_is_refuted_and_its_snippet_replays() -> None:
    from numeric import budget
    from theorems.pipeline import run_theorem
    from theorems.registry import load_registry

    recs = {r.claim: r for r in run_theorem(S.lemma_13_4_8, budget=budget("quick"), seed=0, backend="numba",
                                             lookup=load_registry().lookup)}
    assert recs["first_clause"].verdict == "pass" and recs["furthermore"].verdict == "pass"
    rec = recs["furthermore_as_printed"]
    assert rec.verdict == "fail", rec.reason
    out: dict = {}
    exec(compile(rec.counterexample.replay, "<replay>", "exec"), out)
    assert out["observed"] > out["bound"]


# ------------------------------------------------------------------------------------------------
# normalised softplus / logistic losses
# ------------------------------------------------------------------------------------------------


def _softplus_problem(seed: int, B: int = 12, m: int = 5, d: int = 4):
    from kernels.scale_invariant import NormalizedSoftplus

    g = np.random.default_rng(seed)
    a = g.standard_normal((B, m, d)) * 10.0 ** g.uniform(-1, 1, (B, 1, 1))
    w0 = g.standard_normal((B, d)) * 10.0 ** g.uniform(-2, 2, (B, 1))
    lam = 10.0 ** g.uniform(-2, 0, B)
    eta = g.uniform(0.01, 0.5, B) / lam
    return NormalizedSoftplus(a), w0, eta, lam


def test_softplus_gradient_hessian_match_finite_differences_and_scale() -> None:
    from kernels.scale_invariant import softplus_value_grad
    from numeric.families.scale_invariant_softplus import softplus_hessian

    P, w, _, _ = _softplus_problem(20)
    f, g, _, _ = softplus_value_grad(P.a, w)
    nrm = np.linalg.norm(w, axis=1)
    H = softplus_hessian(P.a, w)
    for i in range(w.shape[1]):
        e = np.zeros_like(w)
        e[:, i] = 1e-6 * nrm
        fp, gp, _, _ = softplus_value_grad(P.a, w + e)
        fm, gm, _, _ = softplus_value_grad(P.a, w - e)
        assert np.allclose((fp - fm) / (2e-6 * nrm) * nrm, g[:, i] * nrm, atol=1e-7)
        fdH = (gp - gm) / (2e-6 * nrm)[:, None]
        assert np.all(np.abs(fdH - H[:, :, i]) * nrm[:, None] ** 2 <= 1e-5 * (1 + np.abs(H).max(axis=(1, 2)) * nrm**2)[:, None])
    # Lemma 13.2.3 (1)-(3)
    f3, g3, _, _ = softplus_value_grad(P.a, 3.0 * w)
    assert np.allclose(f3, f, rtol=1e-13) and np.allclose(3.0 * g3, g, rtol=1e-11, atol=1e-14)
    assert np.all(np.abs((w * g).sum(1)) <= 1e-12 * nrm * np.linalg.norm(g, axis=1) + 1e-15)
    assert np.allclose(softplus_hessian(P.a, 2.0 * w) * 4.0, H, rtol=1e-11, atol=1e-12 * np.abs(H).max())


def test_softplus_rho_certificate_bounds_the_hessian_on_the_sphere() -> None:
    from numeric.families.scale_invariant_softplus import softplus_hessian, softplus_hessian_norm_estimate, softplus_rho_certificate

    P, _, _, _ = _softplus_problem(21, B=32, m=3, d=5)
    cert = softplus_rho_certificate(P.a)
    est = softplus_hessian_norm_estimate(P.a, starts=64, seed=3)
    assert np.all(est <= cert) and np.all(est >= 0.1 * cert)  # valid, and within a factor 10 (loosest at small ||a||)
    g = np.random.default_rng(22)
    for _ in range(100):
        x = g.standard_normal(P.a.shape[::2])
        val = np.abs(np.linalg.eigvalsh(softplus_hessian(P.a, x / np.linalg.norm(x, axis=1, keepdims=True)))).max(1)
        assert np.all(val <= cert)


@pytest.mark.parametrize("family", ["softplus", "logistic"])
def test_softplus_classes_members_and_outside_instances_rejected(family: str) -> None:
    from dataclasses import replace

    from kernels.scale_invariant import softplus_value_grad

    cls = CLASSES["scale_invariant_losses"]
    fam = [f for f in cls.families if f.name == family][0]
    b = fam.generate(np.random.default_rng(3), 48, Knobs(0, 4, 1, 0.5, 0.0, (), 0))
    ok, why = cls.member(b)
    assert ok.all(), [w for w in why if w][:3]
    if family == "softplus":  # min L = softplus(-||u||) exactly
        s = np.linalg.norm(b.problem.a[:, 0], axis=1)
        assert np.allclose(b.attrs["lmin"], np.log1p(np.exp(-s)), rtol=1e-12)
    # lmin is below L everywhere on the sphere (random points)
    g = np.random.default_rng(4)
    for _ in range(20):
        x = g.standard_normal(b.w0.shape)
        assert np.all(softplus_value_grad(b.problem.a, x)[0] >= b.attrs["lmin"] - 1e-12)
    bad = replace(b, attrs={**b.attrs, "rho": b.attrs["rho"] * 0.2})
    ok2, why2 = cls.member(bad)
    assert not ok2.any() and "rho" in why2[0]
    bad = replace(b, attrs={**b.attrs, "lmin": b.attrs["lmin"] + 1e-3})
    ok3, why3 = cls.member(bad)
    assert not ok3.any() and "lmin" in why3[0]
    # encode / decode round trip
    data = cls.encode(b.problem, 5)
    assert np.array_equal(cls.decode(data).a[0], b.problem.a[5])


@pytest.mark.parametrize("minibatch", [False, True])
def test_softplus_numba_matches_reference_and_longdouble(minibatch: bool) -> None:
    from numeric.families.scale_invariant import minibatches

    P, w0, eta, lam = _softplus_problem(23, B=24, m=6, d=4)
    eta = np.minimum(eta, 0.25 * (w0**2).sum(1))  # benign: not chaotic
    bt = minibatches(7, np.arange(24), 20, 6, 2) if minibatch else None
    ref = gd_wd(P, w0, eta, lam, 20, exp_lr_scale=eta, batches=bt, backend="numpy")
    nb = gd_wd(P, w0, eta, lam, 20, exp_lr_scale=eta, batches=bt, backend="numba")
    eps = np.finfo(np.float64).eps
    for name in ("f", "wnorm2", "fabs", "gabs"):
        a, b = getattr(nb, name), getattr(ref, name)
        assert np.all(np.abs(a - b) <= 64 * eps * ref.errscale * np.abs(b) + 1e-300), name
    assert np.allclose(nb.errscale, ref.errscale, rtol=1e-6)
    assert np.all(np.abs(nb.direrr - ref.direrr) <= 64 * eps * ref.errscale)
    assert ref.direrr.max() <= 64 * eps * ref.errscale.max() and ref.normerr.max() <= 64 * eps * ref.errscale.max()
    ld = np.longdouble
    hi = gd_wd(P.astype(ld), w0.astype(ld), eta.astype(ld), lam.astype(ld), 20, exp_lr_scale=eta.astype(ld),
               batches=bt, backend="numpy", dtype=ld)
    assert hi.f.dtype == np.dtype(ld)
    assert np.all(np.abs(hi.f - ref.f) <= 64 * eps * ref.errscale * ref.fabs)
    printed = gd_wd(P, w0, eta, lam, 20, exp_lr_scale=np.ones(24), batches=bt, backend="numba")
    assert printed.direrr[:, -1].max() > 1e-3  # the printed schedule drifts


def test_minibatches_are_keyed_by_instance_and_step() -> None:
    from numeric.families.scale_invariant import minibatches

    a = minibatches(3, np.array([5, 9]), 10, 7, 3)
    b = minibatches(3, np.array([9]), 10, 7, 3)
    assert a.shape == (2, 11, 3) and a.min() >= 0 and a.max() < 7
    assert np.array_equal(a[1], b[0]) and not np.array_equal(a[0], a[1])
    P, w0, eta, lam = _softplus_problem(24, B=2, m=7)
    with pytest.raises(kernels.ProblemError):
        gd_wd(P, w0, eta, lam, 10, batches=a[:, :5])
    with pytest.raises(kernels.ProblemError):
        gd_wd(Rayleigh(np.eye(4)[None].repeat(2, 0)), w0, eta, lam, 10, batches=a)


def test_softplus_ball_descent_backends_agree() -> None:
    from kernels.scale_invariant import softplus_ball_descent

    P, w0, _, _ = _softplus_problem(25, B=8, m=6, d=3)
    v0 = w0 / (2 * np.linalg.norm(w0, axis=1, keepdims=True))
    a = softplus_ball_descent(P.a, v0, 0.3, 40, backend="numpy")
    b = softplus_ball_descent(P.a, v0, 0.3, 40, backend="numba")
    assert np.allclose(a, b, rtol=1e-12, atol=1e-14) and np.all(np.linalg.norm(a, axis=1) <= 1 + 1e-12)


def test_orthogonal_pairs_are_orthogonal_and_replayable() -> None:
    from numeric.families.scale_invariant import orthogonal_pair

    x = np.random.default_rng(26).standard_normal((64, 5)) * 10.0 ** np.arange(-3, 5, 0.125)[:, None]
    v = orthogonal_pair(1, np.arange(64), x)
    r = np.linalg.norm(v, axis=1) / np.linalg.norm(x, axis=1)
    assert np.all((r >= 1e-3 * (1 - 1e-12)) & (r <= 10 * (1 + 1e-12)))
    assert np.all(np.abs((x * v).sum(1)) <= 32 * np.finfo(float).eps * np.linalg.norm(x, axis=1) * np.linalg.norm(v, axis=1))
    assert np.array_equal(orthogonal_pair(1, np.arange(64)[7:8], x[7:8]), v[7:8])


# ------------------------------------------------------------------------------------------------
# Lemma 13.4.9 / Theorem 13.4.2: the corrected horizon's constants (THEOREMS.md 6.3)
# ------------------------------------------------------------------------------------------------


def test_lemma_13_4_9_corrected_horizon_constants() -> None:
    x, T, r = sympy.symbols("x T r", positive=True)  # x = eta lam in (0, 1/2], r = ||w0||^2/(rho pi^2 eta) > 1
    # (1 - x)^(2T) <= exp(-2 x T): log(1 - x) <= -x on (0, 1)
    assert sympy.simplify(sympy.diff(sympy.log(1 - x) + x, x) - (-x / (1 - x))) == 0  # decreasing from 0 at x = 0
    # at T0' = (ln r + 1)/(2x): exp(-2 x T0') ||w0||^2 = pi^2 rho eta / e
    T0c = (sympy.log(r) + 1) / (2 * x)
    assert sympy.simplify(sympy.exp(-2 * x * T0c) * r - sympy.exp(-1)) == 0
    # the closed contradiction: 1/e (decayed initial norm) + (1/2)/(1 - 2/pi^2) (the gradient sum) < 1
    total = sympy.exp(-1) + sympy.Rational(1, 2) / (1 - 2 / sympy.pi**2)
    assert sympy.N(total, 30) < 1 and float(total) == pytest.approx(0.995, abs=1e-3)
    # with the printed T0 = ln(2 r)/(2x) the decayed norm is 1/2 of pi^2 rho eta, and 1/2 + 0.627 > 1: no contradiction
    T0p = sympy.log(2 * r) / (2 * x)
    assert sympy.simplify(sympy.exp(-2 * x * T0p) * r - sympy.Rational(1, 2)) == 0
    assert sympy.N(sympy.Rational(1, 2) + sympy.Rational(1, 2) / (1 - 2 / sympy.pi**2)) > 1
    # Theorem 13.4.2's "+3" absorbs the corrected horizon and Lemma 13.4.8's 1/(6 lam eta) = (1/3)/(2 lam eta)
    assert sympy.N(1 + sympy.Rational(1, 3)) < 3 and sympy.N(sympy.log(2) + 1 + sympy.Rational(1, 3)) < 3


def test_new_specs_declare_expected_verdicts() -> None:
    assert S.lemma_13_4_5.expected(S.lemma_13_4_5.claim("descent")).value == "proved"
    mb = S.exp_lr_minibatch
    assert mb.settings == {"batch": 2} and mb.expected(mb.claim("schedule_as_printed")).value == "fail"
    assert S.theorem_13_4_2.claim("hitting_time").plot_x == "w0n2"
    assert S.lemma_13_4_9.claim("hitting_time_corrected").plot_x == "w0n2"
    for name in ("loss_invariance", "layer_homogeneity", "euler_identity"):
        assert S.lemma_13_2_2.expected(S.lemma_13_2_2.claim(name)).value == "pass"


def test_lemma_13_4_5_derivation_is_proved() -> None:
    from theorems.pipeline import check_derivations
    from theorems.registry import load_registry

    recs = check_derivations(S.lemma_13_4_5, S.lemma_13_4_5.claim("descent"), load_registry().lookup)
    assert len(recs) == 1 and recs[0].status == "proved" and recs[0].endpoint_match, recs
