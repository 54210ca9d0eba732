"""Exact membership hooks of saddle_deep, the sampled CP classes, gaussian_pairs, dimension and
smooth_pwq (issue 17): generated members, taken through their records (encode, then the engine's
:func:`~numeric.engine.membership.certify_membership`), pass the exact check, and a constant moved
just past its exact limit is rejected with a reason that names it."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Iterator

import numpy as np

from numeric.api import InstanceBatch, Knobs, Membership
from numeric.engine.membership import certify_membership
from numeric.registry import CLASSES


def _draws(name: str, count: int, dims: tuple[int, ...], patterns: int = 4, per: int = 8,
           scales: tuple[float, float] = (-3.0, 3.0)) -> Iterator[tuple[dict[str, Any], dict[str, float], str]]:
    """``count`` generated members of class ``name`` as records (data with w0, constants, family),
    over every family, the given dimensions, ``patterns`` patterns and random scales; each batch
    must pass the class's float64 check."""
    cls = CLASSES[name]
    made, seed = 0, 0
    while made < count:
        rng = np.random.default_rng(seed)
        fam = cls.families[seed % len(cls.families)]
        k = Knobs(family=0, dim=dims[seed % len(dims)], pattern=seed % patterns, log_scale=float(rng.uniform(*scales)),
                  log_w0=float(rng.uniform(-1.0, 1.0)), u=(), seed=seed)
        b = fam.generate(rng, per, k)
        ok, why = cls.member(b)
        assert ok.all(), (name, why)
        for i in range(b.w0.shape[0]):
            data = cls.encode(b.problem, i)
            data["w0"] = np.asarray(b.w0[i], dtype=np.float64).tolist()
            yield data, {a: float(np.asarray(v)[i]) for a, v in b.attrs.items()}, fam.name
            made += 1
        seed += 1


def _certify(name: str, data: dict[str, Any], params: dict[str, float], family: str = "") -> Membership:
    m = certify_membership(name, data, params, family)
    assert m is not None, f"{name} has no exact hook"
    return m


def _all_pass(name: str, count: int, dims: tuple[int, ...], **kw: Any) -> list[tuple[dict[str, Any], dict[str, float]]]:
    """Certify ``count`` generated members; returns the records (for the moved-constant tests)."""
    out, bad = [], []
    for data, params, fam in _draws(name, count, dims, **kw):
        m = _certify(name, data, params, fam)
        if not m.ok:
            bad.append((fam, m.reason))
        assert m.method in ("exact", "extended")
        out.append((data, params))
    assert not bad, (len(bad), bad[:3])
    return out


def _down(x: float) -> float:
    return float(np.nextafter(x, -np.inf))


def _up(x: float) -> float:
    return float(np.nextafter(x, np.inf))


# ------------------------------------------------------------------------------------ saddle_deep


def test_saddle_deep_generated_members_pass() -> None:
    from numeric.families.escape_exact import deep_saddle_member_exact

    assert CLASSES["saddle_deep"].member_exact is deep_saddle_member_exact
    _all_pass("saddle_deep", 240, (1, 2, 3, 5, 10, 30))


def test_saddle_deep_rejects_moved_constants() -> None:
    from numeric.families.escape_exact import growth_factor_rounded

    for data, params in _all_pass("saddle_deep", 24, (1, 3, 10)):
        G = params["G"]
        for moved in (_up(G), _down(G)):
            m = _certify("saddle_deep", data, dict(params, G=moved))
            assert not m.ok and m.method == "exact" and "G = " in m.reason, m
        # ell just above 10 gamma (with G recomputed for it): gamma / ell just below 0.1
        ten_gamma = Fraction(params["gamma"]) * 10
        ell = float(ten_gamma)
        ell = _up(ell) if Fraction(ell) <= ten_gamma else ell
        G_ell = float(growth_factor_rounded(np.array([params["gamma"]]), np.array([ell]))[0])
        m = _certify("saddle_deep", data, dict(params, ell=ell, G=G_ell))
        assert not m.ok and "gamma / ell" in m.reason, m
        # the largest float ell with 10 gamma >= ell is accepted (it is >= max|h| + max|c|)
        at = _down(ell)
        assert Fraction(at) <= ten_gamma
        G_at = float(growth_factor_rounded(np.array([params["gamma"]]), np.array([at]))[0])
        assert _certify("saddle_deep", data, dict(params, ell=at, G=G_at)).ok
        # the saddle_global conditions still apply: ell below max_i |h_i| + |c_i| is rejected
        need = max(abs(Fraction(h)) + abs(Fraction(c)) for h, c in zip(data["h"], data["c"]))
        below = float(need) if Fraction(float(need)) < need else _down(float(need))
        m = _certify("saddle_deep", data, dict(params, ell=below))
        assert not m.ok and "ell" in m.reason


# ---------------------------------------------------------------------------- sampled CP classes

SAMPLED = ("cp_sampled_parities", "cp_sampled_k_parities", "cp_sampled_dictators")


def test_sampled_cp_generated_members_pass() -> None:
    for name in SAMPLED:
        recs = _all_pass(name, 120, (1, 13, 16, 20, 24, 40), patterns=3)
        assert {d["n"] for d, _ in recs} == {13, 16, 20, 24}  # the generator clamps n into 13..24


def test_sampled_cp_rejects_moved_constants() -> None:
    from numeric.families.cp import class_size

    for name in SAMPLED:
        for data, params in _all_pass(name, 16, (13, 24), patterns=3):
            n, k, kind = data["n"], data["k"], data["kind"]
            N = class_size(kind, n, k)
            for moved in (N - 1, N + 1, _up(float(N))):
                m = _certify(name, data, dict(params, N=float(moved)))
                assert not m.ok and m.method == "exact" and "N = " in m.reason, m
            m = _certify(name, data, dict(params, k=float(k + 1)))
            assert not m.ok and "k = " in m.reason
            # n one past either end of 13..24 (constants consistent with it) is outside the class
            for n_out in (12, 25):
                k_out = min(k, n_out)
                out = dict(data, n=n_out, k=k_out)
                m = _certify(name, out, dict(params, n=float(n_out), k=float(k_out), N=float(class_size(kind, n_out, k_out))))
                assert not m.ok and "outside the class" in m.reason, m
            if name == "cp_sampled_k_parities":
                m = _certify(name, dict(data, k=n + 1), dict(params, k=float(n + 1), N=0.0))
                assert not m.ok and "degree k" in m.reason


# ----------------------------------------------------------------------- gaussian_pairs, dimension


def test_gaussian_pairs_generated_members_pass_and_moved_constants_fail() -> None:
    recs = _all_pass("gaussian_pairs", 160, (1, 2, 3, 5, 10))
    for data, params in recs[:16]:
        s = params["sigma"]
        m = _certify("gaussian_pairs", data, dict(params, sigma=_up(s)))
        assert not m.ok and m.method == "exact" and "sigma" in m.reason
        m = _certify("gaussian_pairs", data, dict(params, d=params["d"] + 1))
        assert not m.ok and "attribute d" in m.reason
        for bad in (0.0, -s, float("inf")):
            m = _certify("gaussian_pairs", dict(data, sigma=bad), dict(params, sigma=bad))
            assert not m.ok and "sigma" in m.reason
        m = _certify("gaussian_pairs", dict(data, a=[float("nan")] + data["a"][1:]), params)
        assert not m.ok and "non-finite" in m.reason
    # the smallest positive sigma is still a member
    data, params = recs[0]
    tiny = float(np.nextafter(0.0, 1.0))
    assert _certify("gaussian_pairs", dict(data, sigma=tiny), dict(params, sigma=tiny)).ok


def test_dimension_generated_members_pass_and_non_integers_fail() -> None:
    recs = _all_pass("dimension", 120, (1,), per=12)
    assert {1.0, 2.0, 8.0} <= {p["d"] for _, p in recs}
    for bad in (_down(1.0), _up(1.0), 0.0, 2.5, _up(1e7), float("inf"), float("nan")):
        m = _certify("dimension", {"d": bad, "w0": [0.0]}, {"d": bad})
        assert not m.ok and m.method == "exact" and "positive integer" in m.reason, (bad, m)
    assert _certify("dimension", {"d": 2.0**60, "w0": [0.0]}, {"d": 2.0**60}).ok  # every float above 2^53 is an integer
    m = _certify("dimension", {"d": 3.0, "w0": [0.0]}, {"d": 4.0})
    assert not m.ok and "problem's d" in m.reason


# ------------------------------------------------------------------------------------- smooth_pwq


def _pwq_batch(data: dict[str, Any], L: float) -> InstanceBatch:
    cls = CLASSES["smooth_pwq"]
    return InstanceBatch("pwq", cls.decode(data), np.zeros((1, 1)), {"L": np.array([L]), "d": np.ones(1)})


def test_smooth_pwq_generated_and_polished_members_pass() -> None:
    from numeric.families.pwq import PARAMETRISATION, pwq_1d_member_exact

    assert CLASSES["smooth_pwq"].member_exact is pwq_1d_member_exact
    _all_pass("smooth_pwq", 160, (1,), scales=(-3.0, 3.0))
    # the polisher's builds (any theta in the box, resized too) are members as well
    rng = np.random.default_rng(5)
    for P in (PARAMETRISATION.size(1), PARAMETRISATION.size(5), PARAMETRISATION.size(10)):
        lo, hi = PARAMETRISATION.bounds(P)
        theta = PARAMETRISATION.sample(rng, 16, P)
        theta[::3] = lo + (hi - lo) * (rng.random((len(theta[::3]), P)) < 0.5)  # corners of the box
        for th in (theta, PARAMETRISATION.resize(theta, P + 6), PARAMETRISATION.resize(theta, max(P - 4, 2))):
            b = PARAMETRISATION.build(th, L=float(10.0 ** rng.uniform(-2, 2)), gamma=float(rng.uniform(0.1, 10)))
            for i in range(b.w0.shape[0]):
                data = CLASSES["smooth_pwq"].encode(b.problem, i)
                m = pwq_1d_member_exact(_pwq_batch(data, float(b.attrs["L"][i])))
                assert m.ok, m.reason


def test_smooth_pwq_rejects_L_below_the_steepest_piece() -> None:
    from numeric.families.pwq import pwq_1d_member_exact

    for data, params in _all_pass("smooth_pwq", 24, (1,)):
        z, g = (list(map(Fraction, data[k])) for k in ("z", "g"))
        steep = max(abs(g[k + 1] - g[k]) / (z[k + 1] - z[k]) for k in range(len(z) - 1))
        at = float(steep)
        at = at if Fraction(at) >= steep else _up(at)  # the least float L that is >= every curvature
        assert pwq_1d_member_exact(_pwq_batch(data, at)).ok
        m = pwq_1d_member_exact(_pwq_batch(data, _down(at)))
        assert not m.ok and m.method == "exact" and "above L" in m.reason, m
    # knots out of order, a jump across a zero-width piece, a non-positive L
    data, params = _all_pass("smooth_pwq", 1, (1,))[0]
    z = list(data["z"])
    z[1], z[2] = z[2], z[1]
    assert "not sorted" in pwq_1d_member_exact(_pwq_batch(dict(data, z=z), params["L"])).reason
    z = list(data["z"])
    z[2] = z[1]
    g = list(data["g"])
    g[2] = _up(g[1]) if g[1] != g[2] else g[2] + 1.0
    assert "above L" in pwq_1d_member_exact(_pwq_batch(dict(data, z=z, g=g), params["L"])).reason
    for bad in (0.0, -1.0, float("inf")):
        assert "L = " in pwq_1d_member_exact(_pwq_batch(data, bad)).reason


def test_false_pep_variants_on_smooth_pwq_fail_with_exact_membership() -> None:
    """No catalogue claim on smooth_pwq is expected to fail; the quality suite's false PEP variants
    (bounds moved 1-3% past the exact worst case) are, and their counterexamples, polished to within
    that margin of the worst case, must be exact members (about 4 s for all eight at quick)."""
    from numeric import budget
    from theorems.pipeline import run_theorem
    from theorems.registry import build_registry

    from .quality.variants_pep import VARIANTS

    for thm in VARIANTS:
        reg = build_registry([("tests", "", [thm])])
        (rec,) = run_theorem(reg.theorems[thm.id], budget=budget("quick"), seed=0, backend="numpy", lookup=reg.lookup)
        assert rec.verdict == "fail", (thm.id, rec.reason)
        assert rec.counterexample is not None and rec.counterexample.membership == "exact", thm.id
        assert "membership: exact" in rec.reason


# --------------------------------------------------------------- the momentum example's classes
# (registered by the installed plugin thmcheck_momentum through its entry point)

MOMENTUM = ("strongly_convex_quadratic", "smooth_convex", "smooth_strongly_convex_pwq")


def _least_float(accepts: Any, lo: float, hi: float) -> float:
    """The least float x in (lo, hi] with ``accepts(x)``, for a predicate monotone in x that is
    false at lo and true at hi (both asserted; bisection on the positive floats' bit patterns)."""
    assert accepts(hi) and not accepts(lo), (lo, hi)
    a, b = (int(np.float64(v).view(np.int64)) for v in (lo, hi))
    while b - a > 1:
        mid = (a + b) // 2
        if accepts(float(np.int64(mid).view(np.float64))):
            b = mid
        else:
            a = mid
    return float(np.int64(b).view(np.float64))


def test_momentum_hooks_are_registered_and_generated_members_pass() -> None:
    for name in MOMENTUM:
        assert CLASSES[name].member_exact is not None, name
        _all_pass(name, 320, (1, 2, 3, 5, 8, 12), patterns=16)


def test_momentum_polished_members_pass() -> None:
    rng = np.random.default_rng(3)
    for name in MOMENTUM:
        cls = CLASSES[name]
        par = cls.parametrisation
        assert par is not None and cls.member_exact is not None
        P = par.size(8)
        lo, hi = par.bounds(P)
        theta = par.sample(rng, 24, P)
        theta[::3] = np.where(rng.random((len(theta[::3]), P)) < 0.5, lo, hi)  # corners of the box
        b = par.build(theta)
        for i in range(b.w0.shape[0]):
            data = cls.encode(b.problem, i)
            data["w0"] = b.w0[i].tolist()
            m = _certify(name, data, {a: float(v[i]) for a, v in b.attrs.items()})
            assert m.ok, (name, m.reason)


def test_momentum_quadratic_rejects_L_and_mu_past_the_exact_spectrum() -> None:
    name = "strongly_convex_quadratic"
    for data, params in _all_pass(name, 64, (1, 2, 3, 5), patterns=8):
        lam = np.linalg.eigvalsh(np.asarray(data["A"]))
        # the least float L >= lambda_max(A) (exact): one ulp below it is rejected
        top = _least_float(lambda x: _certify(name, data, dict(params, L=x)).ok, lam[-1] * (1 - 1e-9), lam[-1] * (1 + 1e-9))
        assert top <= params["L"]
        m = _certify(name, data, dict(params, L=_down(top)))
        assert not m.ok and m.method == "exact" and "above L" in m.reason, m
        # the least float mu > lambda_min(A) (exact) is rejected, the float below it accepted
        over = _least_float(lambda x: not _certify(name, data, dict(params, mu=x)).ok, lam[0] * (1 - 1e-9),
                            lam[0] * (1 + 1e-9))
        assert params["mu"] < over and _certify(name, data, dict(params, mu=_down(over))).ok
        m = _certify(name, data, dict(params, mu=over))
        assert not m.ok and "below mu" in m.reason, m
    # a diagonal A with its spectrum exactly at the ends
    A = [[0.375, 0.0], [0.0, 3.0]]
    data = {"A": A, "xs": [0.0, 0.0], "fs": 0.0, "R": [], "c": [], "delta": [], "w0": [1.0, 1.0]}
    ok = {"L": 3.0, "mu": 0.375, "d": 2.0}
    assert _certify(name, data, ok).ok
    assert "above L" in _certify(name, data, dict(ok, L=_down(3.0))).reason
    assert "below mu" in _certify(name, data, dict(ok, mu=_up(0.375))).reason
    assert "symmetric" in _certify(name, dict(data, A=[[0.375, 1e-300], [0.0, 3.0]]), ok).reason


def test_momentum_convex_rejects_L_past_the_certificate_and_non_convex_data() -> None:
    name = "smooth_convex"
    for data, params in _all_pass(name, 80, (1, 2, 3, 5), patterns=10):
        A, c = np.asarray(data["A"]), np.asarray(data["c"])
        if c.size:
            R = np.asarray(data["R"]).reshape(c.size, -1)
            A = A + R.T @ np.diag(c) @ R
        lmax = float(np.linalg.eigvalsh(A)[-1])
        top = _least_float(lambda x: _certify(name, data, dict(params, L=x)).ok, lmax * (1 - 1e-9), lmax * (1 + 1e-9))
        assert top <= params["L"]
        m = _certify(name, data, dict(params, L=_down(top)))
        assert not m.ok and m.method == "exact" and "exceed L" in m.reason, m
    data, params = _all_pass(name, 1, (2,), patterns=1)[0]  # pattern 0: ridges present
    assert data["c"], data
    c = list(data["c"])
    c[0] = -c[0]
    assert "negative" in _certify(name, dict(data, c=c), params).reason
    assert "Huber width" in _certify(name, dict(data, delta=[0.0] + data["delta"][1:]), params).reason
    tiny = float(np.nextafter(0.0, -1.0))
    A = [[1.0, 0.0], [0.0, tiny]]  # one subnormal below zero: not PSD
    m = _certify(name, dict(data, A=A, c=[], R=[], delta=[]), dict(params, L=1.0))
    assert not m.ok and "positive semidefinite" in m.reason


def test_momentum_pwq_rejects_constants_past_the_exact_curvatures() -> None:
    name = "smooth_strongly_convex_pwq"
    for data, params in _all_pass(name, 32, (1, 2, 3), patterns=4):
        curv = []
        for i, (z, g) in enumerate(zip(data["z"], data["g"])):
            zq, gq = list(map(Fraction, z)), list(map(Fraction, g))
            curv += [(gq[j + 1] - gq[j]) / (zq[j + 1] - zq[j]) for j in range(len(zq) - 1)]
            curv += [Fraction(data["cl"][i]), Fraction(data["cr"][i])]
        top, bottom = max(curv), min(curv)
        L_at = float(top) if Fraction(float(top)) >= top else _up(float(top))
        mu_at = float(bottom) if Fraction(float(bottom)) <= bottom else _down(float(bottom))
        assert _certify(name, data, dict(params, L=L_at, mu=mu_at)).ok
        m = _certify(name, data, dict(params, L=_down(L_at)))
        assert not m.ok and m.method == "exact" and "above L" in m.reason, m
        m = _certify(name, data, dict(params, mu=_up(mu_at)))
        assert not m.ok and "below mu" in m.reason, m
        g = [list(row) for row in data["g"]]
        j = data["m"][0]
        g[0][j] = _up(g[0][j])
        m = _certify(name, dict(data, g=g), params)
        assert not m.ok and ("minimiser" in m.reason or "curvature" in m.reason), m
