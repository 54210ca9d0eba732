"""Exact (or extended) membership of the closest-solution least-squares class, the leaky-ReLU GLM and
the small-network key-lemma class (issue 17): generated members pass, and a constant or stored array
moved just past its exact limit is rejected with a reason that names it."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from kernels import RidgeQuadratic

from numeric import budget
from numeric.api import InstanceBatch, Knobs
from numeric.registry import CLASSES
from theorems.pipeline import run_theorem
from theorems.registry import build_registry


def _draws(cls_name: str, per_family: int, dims: tuple[int, ...], n: int = 10) -> list[InstanceBatch]:
    """Batches from every family of the class over dims, patterns and scales; each passes the float check."""
    cls = CLASSES[cls_name]
    out = []
    for fam in cls.families:
        for seed in range(per_family):
            rng = np.random.default_rng(seed)
            k = Knobs(family=0, dim=dims[seed % len(dims)], pattern=seed % 8, log_scale=float(rng.uniform(-3, 3)),
                      log_w0=float(rng.uniform(-2, 1)), u=(), seed=seed)
            b = fam.generate(rng, n, k)
            ok, why = cls.member(b)
            assert ok.all(), why
            out.append(b)
    return out


def _ulps(x: float, k: int) -> float:
    """x moved by k ulps (towards +inf for k > 0)."""
    for _ in range(abs(k)):
        x = float(np.nextafter(x, np.inf if k > 0 else -np.inf))
    return x


# ------------------------------------------------------------------------------------- ls_projection


def _min_one(b: InstanceBatch, i: int, wstar: np.ndarray | None = None, w0: np.ndarray | None = None,
             **attrs: float) -> InstanceBatch:
    """Instance i of a MinimizerProblem batch as a batch of one, some arrays or constants replaced."""
    from numeric.families.pl import MinimizerProblem

    p, r = b.problem, b.problem.ridge
    rq = RidgeQuadratic(r.A[i:i + 1], r.b[i:i + 1], r.R[i:i + 1], r.s[i:i + 1], r.c[i:i + 1], r.psi)
    a = {k: np.asarray(v)[i:i + 1].copy() for k, v in b.attrs.items()}
    a.update({k: np.array([v]) for k, v in attrs.items()})
    ws = p.wstar[i:i + 1] if wstar is None else wstar[None]
    return InstanceBatch(b.family, MinimizerProblem(rq, ws), b.w0[i:i + 1] if w0 is None else w0[None], a)


def test_ls_projection_members_pass_exactly_and_moved_constants_fail() -> None:
    from numeric.families.pl_projection import ls_projection_member_exact as hook

    assert CLASSES["ls_projection"].member_exact is hook
    count = tested = 0
    for b in _draws("ls_projection", 24, (1, 2, 3, 5, 8, 12)):
        for i in range(b.size):
            m = hook(_min_one(b, i))
            assert m.ok and m.method == "exact", m.reason
            count += 1
            if i % 4:
                continue
            H = np.asarray(b.problem.ridge.A[i], np.float64)
            ev = np.linalg.eigvalsh(H)
            d = ev.size
            top, low = ev[-1], ev[ev > 64 * d * 2.2e-16 * ev[-1]].min()
            assert "L =" in hook(_min_one(b, i, L=_ulps(top, -256 * d))).reason
            # past the float eigenvalue by more than the eigensolver's error (relative to the top)
            assert "mu =" in hook(_min_one(b, i, mu=2 * low + 512 * d * 2.2e-16 * top)).reason
            fs = float(b.attrs["f_star"][i])
            assert "f_star" in hook(_min_one(b, i, f_star=_ulps(fs, 1))).reason
            assert "f_star" in hook(_min_one(b, i, f_star=_ulps(fs, -1))).reason
            ws = np.asarray(b.problem.wstar[i], np.float64).copy()
            j = int(np.argmax(np.abs(H).sum(axis=0)))  # a coordinate H sees
            ws[j] = _ulps(float(ws[j]), 1)
            assert "not a minimizer" in hook(_min_one(b, i, wstar=ws)).reason
            if np.linalg.matrix_rank(H) < d:
                # one ulp off in w_0 takes w_0 - w* out of range(H) along some null direction...
                w0 = np.asarray(b.w0[i], np.float64).copy()
                null = np.linalg.svd(H)[2][-1]
                j = int(np.argmax(np.abs(null)))
                w0[j] = _ulps(float(w0[j]), 1)
                assert "closest" in hook(_min_one(b, i, w0=w0)).reason
                # ...and the minimum-norm solution is a solution but not the closest one (unless w_0 = 0)
                if np.any(b.w0[i] != 0):
                    wmn = np.linalg.lstsq(H, -np.asarray(b.problem.ridge.b[i]), rcond=None)[0]
                    assert not hook(_min_one(b, i, wstar=wmn)).ok
                tested += 1
    assert count >= 240 and tested >= 20


def test_ls_projection_start_at_zero_is_the_min_norm_solution_with_one_exact_level() -> None:
    """Pattern 1 (w_0 = 0) builds A A^T = c I exactly: w* = A^+ y and H has one nonzero eigenvalue."""
    from numeric.families.pl_projection import gen_ls_projection

    for d in (1, 2, 3, 4, 5, 7, 8, 9, 12):
        b = gen_ls_projection(np.random.default_rng(d), 6, Knobs(0, d, 1, 0.7, 0.0, (), d))
        assert not b.w0.any()
        for i in range(b.size):
            H = [[Fraction(x) for x in row] for row in np.asarray(b.problem.ridge.A[i], np.float64)]
            H2 = [[sum((H[p][q] * H[q][s] for q in range(d)), Fraction(0)) for s in range(d)] for p in range(d)]
            c = max(H[p][p] for p in range(d)) if d > 1 else H[0][0]
            lvl = next(H2[p][p] / H[p][p] for p in range(d) if H[p][p] != 0)
            # H^2 = lvl H: every nonzero eigenvalue equals lvl, exactly
            assert all(H2[p][q] == lvl * H[p][q] for p in range(d) for q in range(d)), (d, c)
            wmn = np.linalg.lstsq(b.problem.ridge.A[i], -b.problem.ridge.b[i], rcond=None)[0]
            assert np.allclose(wmn, b.problem.wstar[i], rtol=1e-12, atol=1e-12 * np.abs(wmn).max())


def test_ls_projection_false_variant_is_refuted_with_exact_membership() -> None:
    """The contraction with only the top of the spectrum fails, on an instance certified exactly."""
    from tests.quality.variants_pl import VARIANTS

    v = next(t for t in VARIANTS if t.id == "quality.ls_projection_top_eigenvalue_only")
    reg = build_registry([("quality", "", [v])])
    recs = run_theorem(reg.theorems[v.id], budget=budget("quick"), seed=0, backend="numpy", lookup=reg.lookup)
    assert recs and all(r.verdict == "fail" for r in recs), [r.reason for r in recs]
    assert all(r.counterexample is not None and r.counterexample.membership == "exact" for r in recs)
    assert all("membership: exact" in r.reason for r in recs)




# ------------------------------------------------------------------------------------- rsi_leaky_glm


def _net_one(b: InstanceBatch, i: int, **changes: object) -> InstanceBatch:
    """Instance i of a NetProblem batch as a batch of one; ``changes`` replace constants (floats) or
    problem arrays (X, v, y, a, anchor: instance i's new value)."""
    from numeric.families.pl_networks import NetProblem

    p = b.problem
    arrays = {k: getattr(p, k)[i:i + 1].copy() for k in ("X", "v", "y", "a", "anchor")}
    attrs = {k: np.asarray(v)[i:i + 1].copy() for k, v in b.attrs.items()}
    for k, v in changes.items():
        if k in arrays:
            arrays[k] = np.asarray(v, dtype=np.float64)[None]
        else:
            attrs[k] = np.array([v])
    return InstanceBatch(b.family, NetProblem(arrays["X"], arrays["v"], arrays["y"], p.act, arrays["a"],
                                              arrays["anchor"]), b.w0[i:i + 1], attrs)


def test_glm_members_pass_exactly_and_moved_constants_fail() -> None:
    from numeric.families.pl_networks_exact import glm_member_exact as hook

    assert CLASSES["rsi_leaky_glm"].member_exact is hook
    count = 0
    for b in _draws("rsi_leaky_glm", 32, (1, 2, 3, 5, 8, 12)):
        p = b.problem
        for i in range(b.size):
            m = hook(_net_one(b, i))
            assert m.ok and m.method == "exact", m.reason
            count += 1
            if i % 4:
                continue
            v2 = float(p.v[i, 0]) ** 2
            ev = np.linalg.eigvalsh(p.X[i].T @ p.X[i]) * v2
            n, d = p.X.shape[1:]
            slack = 512 * n * d * 2.2e-16 * ev[-1]  # past the float eigenvalue by more than its error
            assert "L =" in hook(_net_one(b, i, L=ev[-1] - slack)).reason
            a2 = float(p.a[i]) ** 2
            assert "mu =" in hook(_net_one(b, i, mu=a2 * (ev[0] + slack))).reason
            assert "mu =" in hook(_net_one(b, i, mu=0.0)).reason
            # one ulp off in one target (or in w*) and w* is no longer the minimizer
            y = p.y[i].copy()
            j = int(np.argmax(np.abs(y)))
            y[j] = _ulps(float(y[j]), 1)
            assert "minimizer" in hook(_net_one(b, i, y=y)).reason
            ws = p.anchor[i].copy()
            ws[0] = _ulps(float(ws[0]), -1)
            assert "minimizer" in hook(_net_one(b, i, anchor=ws)).reason
            assert "slope" in hook(_net_one(b, i, a=[1.0])).reason
    assert count >= 300


def test_glm_output_weight_is_a_power_of_two_near_one_over_sqrt_n() -> None:
    for b in _draws("rsi_leaky_glm", 8, (1, 3, 8)):
        n = b.problem.X.shape[1]
        v = b.problem.v[:, 0]
        assert np.all(np.frexp(v)[0] == 0.5) and np.all((v * v * n >= 0.5) & (v * v * n <= 2.0))


# ---------------------------------------------------------------------------------------- os_network


def test_os_network_members_pass_in_interval_arithmetic_and_moved_constants_fail() -> None:
    from numeric.families.pl_networks import SUP_D2PHI
    from numeric.families.pl_networks_exact import os_network_member_extended as hook

    assert CLASSES["os_network"].member_exact is hook
    cls = CLASSES["os_network"]
    count = 0
    for fam in cls.families:
        for seed in range(24):
            rng = np.random.default_rng(seed)
            k = Knobs(family=0, dim=(2, 3, 4, 6)[seed % 4], pattern=seed % 8, log_scale=float(rng.uniform(-1, 1)),
                      log_w0=float(rng.uniform(-2, 1)), u=(), seed=seed)
            b = fam.generate(rng, 6, k)
            assert cls.member(b)[0].all()
            p = b.problem
            for i in range(b.size):
                m = hook(_net_one(b, i))
                assert m.ok and m.method == "extended", (fam.name, m.reason)
                count += 1
                if i % 3:
                    continue
                X, v = p.X[i], p.v[i]
                n, d = X.shape
                Z = X @ b.w0[i].reshape(-1, d).T  # (n, k)
                dphi = 1 - np.tanh(Z) ** 2 if p.act == 0 else 1 / (1 + np.exp(-Z))
                J = ((dphi * v)[:, :, None] * X[:, None, :]).reshape(n, -1)
                smin = np.linalg.svd(J, compute_uv=False)[-1]
                assert "sigma_min" in hook(_net_one(b, i, alpha=smin / 2 * (1 + 1e-9))).reason
                xn = np.linalg.norm(X, 2)
                assert "beta" in hook(_net_one(b, i, beta=np.linalg.norm(v) * xn * (1 - 1e-9))).reason
                lj = np.abs(v).max() * SUP_D2PHI[p.act] * np.sqrt((X * X).sum(axis=1)).max() * xn
                assert "Ljac" in hook(_net_one(b, i, Ljac=lj * (1 - 1e-9))).reason
                # the residual moved past alpha^2 / (4 Ljac): y shifted along e_0 by twice the bound
                al, Lj = float(b.attrs["alpha"][i]), float(b.attrs["Ljac"][i])
                y = p.y[i].copy()
                y[0] -= 2 * al * al / (4 * Lj)
                assert "initial residual" in hook(_net_one(b, i, y=y)).reason
                assert "anchor" in hook(_net_one(b, i, anchor=p.anchor[i] + 1.0)).reason
    assert count >= 240
