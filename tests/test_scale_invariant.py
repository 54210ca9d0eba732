"""Family 6 (scale-invariant losses): kernels, instance class, adapters and the specs' symbolic parts."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import kernels
from kernels.scale_invariant import Rayleigh, gd_wd, rayleigh_value_grad
from numeric.families import CLASSES, Knobs
from numeric.scale_invariant import (
    hessian_norm_estimate,
    hit_threshold,
    norm_threshold,
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
    with pytest.raises(kernels.ProblemError):
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


def test_thresholds_match_the_spec() -> None:
    g = np.random.default_rng(10)
    rho, lam, eta = g.uniform(0.1, 3, 3)
    env = {S.rho: rho, S.lam: lam, S.eta: eta}
    assert hit_threshold(rho, lam, eta) == pytest.approx(float(S.HIT_LEVEL.subs(env)), rel=1e-14)
    assert norm_threshold(rho, eta) == pytest.approx(float(S.NORM_LEVEL.subs(env)), rel=1e-14)


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
