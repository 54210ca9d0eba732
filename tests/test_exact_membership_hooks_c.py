"""Exact (or certified extended) membership of the scale-invariant loss classes, the LayerNorm network classes and
the over-parametrised logistic class (issue 17): generated members pass, constants just past their exact limits
fail with a reason naming them.  That the catalogue claims refuted on these classes stay ``fail`` with a
certified membership is checked with the other catalogue refutations in tests/test_exact_membership.py."""

from __future__ import annotations

import numpy as np
import pytest
from kernels.scale_invariant import NormalizedSoftplus, Rayleigh, softplus_value_grad
from mpmath import mp, mpf

from numeric.api import InstanceBatch, Knobs
from numeric.families.scale_invariant_softplus_exact import (
    logistic_member_exact,
    losses_member_exact,
    softplus_member_exact,
)
from numeric.registry import CLASSES


def _one(batch: InstanceBatch, i: int, **attrs: float) -> InstanceBatch:
    """Instance i of batch as a batch of one, with some constants replaced."""
    a = {k: np.asarray(v)[i:i + 1].copy() for k, v in batch.attrs.items()}
    for k, v in attrs.items():
        a[k] = np.array([v])
    p = batch.problem
    prob = Rayleigh(np.asarray(p.A)[i:i + 1]) if isinstance(p, Rayleigh) else p.take([i])
    return InstanceBatch(batch.family, prob, batch.w0[i:i + 1], a)


def _knobs(rng: np.random.Generator, dim: int, pattern: int) -> Knobs:
    return Knobs(family=0, dim=dim, pattern=pattern, log_scale=float(rng.uniform(-1, 1)),
                 log_w0=float(rng.uniform(-1, 1)), u=(), seed=0)


# ------------------------------------------------------------------------- scale_invariant_losses, logistic_si


def _rho_bar(lam: float) -> float:
    return (lam / 4 + np.sqrt(lam) + np.sqrt(lam * lam / 12 + 4 * lam)) / 2


@pytest.mark.parametrize("class_name", ["scale_invariant_losses", "logistic_si"])
def test_softplus_classes_generated_members_pass_and_constants_past_the_limit_fail(class_name: str) -> None:
    cls = CLASSES[class_name]
    hook = losses_member_exact if class_name == "scale_invariant_losses" else logistic_member_exact
    assert cls.member_exact is hook
    rng = np.random.default_rng(23)
    n = 0
    per = 4 if len(cls.families) > 1 else 9  # at least 100 instances per class
    for fam in cls.families:
        for dim in (2, 3, 5, 8):
            for pattern in range(3):
                batch = fam.generate(rng, per, _knobs(rng, dim, pattern))
                for i in range(per):
                    m = hook(_one(batch, i))
                    assert m.ok, (fam.name, m.reason)
                    n += 1
                    if isinstance(batch.problem, Rayleigh):
                        assert m.method == "exact"
                        continue
                    assert m.method == ("extended" if "lmin" in batch.attrs else "exact")
                    a = batch.problem.a[i]
                    lam_max = float(np.linalg.eigvalsh(a.T @ a / a.shape[0])[-1])
                    # rho a relative 1e-12 below rho_bar(lambda_max(C)) (far beyond the eigenvalue's rounding)
                    bad = hook(_one(batch, i, rho=_rho_bar(lam_max) * (1 - 1e-12)))
                    assert not bad.ok and "rho" in bad.reason
                    if "lmin" in batch.attrs:
                        # lmin above L at a point of the sphere, hence above min L
                        w = rng.standard_normal((1, a.shape[1]))
                        f = float(softplus_value_grad(a[None], w)[0][0])
                        bad = hook(_one(batch, i, lmin=f + 1e-12 * abs(f) + 1e-300))
                        assert not bad.ok and "lmin" in bad.reason
    assert n >= 100


def _softplus_instance(rho: float, lmin: float, lam: float = 1.0) -> InstanceBatch:
    """softplus(a^T w/||w||) with a = (1/2, 0): lambda_max(C) = 1/4 and min L = softplus(-1/2) exactly."""
    return InstanceBatch("crafted", NormalizedSoftplus(np.array([[[0.5, 0.0]]])), np.ones((1, 2)),
                         {"rho": np.array([rho]), "lam": np.array([lam]), "lmin": np.array([lmin]),
                          "d": np.array([2.0])})


def _floats_around(x: object) -> tuple[float, float]:
    """The largest float below the real x and the next float above it."""
    f = float(x)
    lo = f if f < x else float(np.nextafter(f, -np.inf))
    return lo, float(np.nextafter(lo, np.inf))


def test_softplus_one_ulp_decides() -> None:
    """rho_bar(1/4) and softplus(-1/2) in 200-bit arithmetic: the float just above rho_bar passes and the one
    just below fails; lmin likewise with softplus(-1/2) (the certified bound is tight for m = 1)."""
    with mp.workprec(200):
        lam = mpf(1) / 4
        rho_lo, rho_hi = _floats_around((lam / 4 + mp.sqrt(lam) + mp.sqrt(lam**2 / 12 + 4 * lam)) / 2)
        lmin_lo, lmin_hi = _floats_around(mp.log1p(mp.exp(-mpf(1) / 2)))
    assert softplus_member_exact(_softplus_instance(rho_hi, lmin_lo), with_lmin=True).ok
    m = softplus_member_exact(_softplus_instance(rho_lo, lmin_lo), with_lmin=True)
    assert not m.ok and "rho" in m.reason
    m = softplus_member_exact(_softplus_instance(rho_hi, lmin_hi), with_lmin=True)
    assert not m.ok and "lmin" in m.reason and m.method == "extended"
    # without lmin (logistic_si) the check is exact
    assert softplus_member_exact(_softplus_instance(rho_hi, lmin_hi), with_lmin=False).method == "exact"
    m = softplus_member_exact(_softplus_instance(rho_hi, lmin_lo, lam=0.0), with_lmin=True)
    assert not m.ok and "lam" in m.reason


# ------------------------------------------------------------------------- overparam_logistic


def _op_one(batch: InstanceBatch, i: int, **attrs: float) -> InstanceBatch:
    a = {k: np.asarray(v)[i:i + 1].copy() for k, v in batch.attrs.items()}
    for k, v in attrs.items():
        a[k] = np.array([v])
    return InstanceBatch(batch.family, batch.problem.take([i]), batch.w0[i:i + 1], a)


def _lprime_mp(batch: InstanceBatch, i: int, W: object) -> object:
    """l_hat'(W) in 300-bit arithmetic (call inside mp.workprec)."""
    d = batch.problem.data
    return -sum(mpf(float(c)) * mpf(float(x)) * mpf(float(y)) / (1 + mp.exp(mpf(float(x)) * mpf(float(y)) * W))
                for x, y, c in zip(d.x[i], d.y[i], d.weight[i]) if c != 0)


def test_overparam_generated_members_pass_and_constants_past_the_limit_fail() -> None:
    from numeric.families.overparam_exact import overparam_member_exact

    cls = CLASSES["overparam_logistic"]
    assert cls.member_exact is overparam_member_exact
    rng = np.random.default_rng(29)
    n = 0
    for fam in cls.families:
        for k in (2, 3, 4, 5, 6):
            for pattern in (0, 3, 6):
                batch = fam.generate(rng, 4, _knobs(rng, k, pattern))
                for i in range(4):
                    m = overparam_member_exact(_op_one(batch, i))
                    assert m.ok and m.method == "extended", (fam.name, m.reason)
                    n += 1
                    if i:  # the limits below for one instance per batch (a 300-bit bisection each)
                        continue
                    w0 = float(batch.w0[i, 0])
                    with mp.workprec(300):
                        W0 = mpf(w0) ** k  # exact at 300 bits
                        lp = _lprime_mp(batch, i, W0)
                        # W*: bisection on l_hat' to 300 bits
                        lo, hi = mpf(0), W0
                        for _ in range(250):
                            mid = (lo + hi) / 2
                            lo, hi = (mid, hi) if _lprime_mp(batch, i, mid) < 0 else (lo, mid)
                        W0_hi = _floats_around(W0)[1]
                        lp_hi = _floats_around(lp)[1]
                        ws_lo = _floats_around(lo)[0]
                    # one float past each exact limit is rejected, with the constant named
                    for name, value in (("W0", W0_hi), ("lprime0", lp_hi), ("Wstar", ws_lo)):
                        bad = overparam_member_exact(_op_one(batch, i, **{name: value}))
                        assert not bad.ok and name in bad.reason, (name, bad.reason)
    assert n >= 100


def test_overparam_definition_checks() -> None:
    from numeric.families.overparam_exact import overparam_member_exact

    batch = CLASSES["overparam_logistic"].families[1].generate(np.random.default_rng(1), 2,
                                                              Knobs(0, 3, 0, 0.0, 0.0, (), 0))
    one = _op_one(batch, 0)
    assert overparam_member_exact(one).ok
    # unequal factors, a start below the minimiser, W_0 outside the box, k not matching
    w = one.w0.copy()
    w[0, 1] *= 1.5
    assert "equal" in overparam_member_exact(InstanceBatch("x", one.problem, w, one.attrs)).reason
    small = np.full_like(one.w0, 0.5 ** (1 / 3))  # W_0 = 1/2 < W* = 0.509 (THEOREMS.md's data set)
    m = overparam_member_exact(InstanceBatch("x", one.problem, small, {**one.attrs, "W0": np.array([0.25])}))
    assert not m.ok and "minimiser" in m.reason
    big = np.full_like(one.w0, 20.0)  # W_0 = 8000 > 1e3
    assert "box" in overparam_member_exact(InstanceBatch("x", one.problem, big, one.attrs)).reason
    assert "k" in overparam_member_exact(_op_one(batch, 0, k=4.0)).reason


# ------------------------------------------------------------------------- rayleigh_si_slow_large_w0


def test_large_w0_generated_members_pass_and_w0n2_must_be_exact() -> None:
    from numeric.families.scale_invariant_exact import rayleigh_large_w0_member_exact

    cls = CLASSES["rayleigh_si_slow_large_w0"]
    assert cls.member_exact is rayleigh_large_w0_member_exact
    rng = np.random.default_rng(31)
    n = 0
    for dim in (2, 3, 5, 8):
        for pattern in range(6):
            batch = cls.families[0].generate(rng, 5, _knobs(rng, dim, pattern))
            for i in range(5):
                one = _one(batch, i)
                m = rayleigh_large_w0_member_exact(one)
                assert m.ok and m.method == "exact", m.reason
                n += 1
                w0n2 = float(batch.attrs["w0n2"][i])
                for off in (np.nextafter(w0n2, 0.0), np.nextafter(w0n2, np.inf)):  # one ulp either way
                    bad = rayleigh_large_w0_member_exact(_one(batch, i, w0n2=float(off)))
                    assert not bad.ok and "w0n2" in bad.reason
                # the Rayleigh conditions still apply: lmin above lambda_min(A) is rejected
                ev = float(np.linalg.eigvalsh(batch.problem.A[i])[-1])
                bad = rayleigh_large_w0_member_exact(_one(batch, i, lmin=ev))
                assert not bad.ok and "lmin" in bad.reason
    assert n >= 100


def test_large_w0_box_and_decay_range() -> None:
    from numeric.families.scale_invariant_exact import rayleigh_large_w0_member_exact

    A = np.diag([-0.25, 0.75])[None]  # rho = 2 exactly with lmin = -0.25
    base = {"rho": 2.0, "lam": 2.0 * 10**-3.2, "lmin": -0.25, "d": 2.0}

    def inst(w0: list[float], **kw: float) -> InstanceBatch:
        w = np.array([w0])
        attrs = {**base, "w0n2": float((w * w).sum()), **kw}
        return InstanceBatch("crafted", Rayleigh(A), w, {k: np.array([v]) for k, v in attrs.items()})

    assert rayleigh_large_w0_member_exact(inst([3.0, 1.0])).ok  # ||w0||^2 = 10: the box's lower end
    assert "outside [10" in rayleigh_large_w0_member_exact(inst([3.0, 1.0 - 2.0**-20])).reason
    assert rayleigh_large_w0_member_exact(inst([100.0, 0.0])).ok  # the upper end 10^4
    assert "outside [10" in rayleigh_large_w0_member_exact(inst([100.0, 2.0**-10])).reason
    # lam / rho just outside [10^-3.4, 10^-3.1]
    assert "lam / rho" in rayleigh_large_w0_member_exact(inst([3.0, 1.0], lam=2.0 * 10**-3.1 * (1 + 1e-15))).reason
    assert "lam / rho" in rayleigh_large_w0_member_exact(inst([3.0, 1.0], lam=2.0 * 10**-3.4 * (1 - 1e-15))).reason


# ------------------------------------------------------------------------- layernorm_net, layernorm_net_trainable_top


def _net_one(batch: InstanceBatch, i: int, **attrs: float) -> InstanceBatch:
    P = batch.problem
    a = {k: np.asarray(v)[i:i + 1].copy() for k, v in batch.attrs.items()}
    for k, v in attrs.items():
        a[k] = np.array([v])
    return InstanceBatch(batch.family, type(P)(P.net, P.theta[i:i + 1].copy(), P.X[i:i + 1].copy(),
                                               P.y[i:i + 1].copy()), batch.w0[i:i + 1].copy(), a)


@pytest.mark.parametrize("class_name", ["layernorm_net", "layernorm_net_trainable_top"])
def test_layernorm_generated_members_pass_and_definition_violations_fail(class_name: str) -> None:
    from kernels.layernorm import LINEAR

    from numeric.families.scale_invariant_nets_exact import layernorm_any_tail_member_exact, layernorm_member_exact

    cls = CLASSES[class_name]
    hook = layernorm_member_exact if class_name == "layernorm_net" else layernorm_any_tail_member_exact
    assert cls.member_exact is hook
    rng = np.random.default_rng(37)
    n = 0
    for dim in (2, 3, 4, 6):
        for pattern in range(4):
            batch = cls.families[0].generate(rng, 7, _knobs(rng, dim, pattern))
            for i in range(7):
                m = hook(_net_one(batch, i))
                assert m.ok and m.method == "extended", m.reason
                n += 1
            one = _net_one(batch, 0)
            d = float(one.attrs["d"][0])
            assert "d = " in hook(_net_one(batch, 0, d=d + 1)).reason
            one.problem.y[0, 0] = 0.5
            assert "labels" in hook(one).reason
            # equal rows in the first linear layer: its output, the first layernorm's input, is constant
            one = _net_one(batch, 0)
            code, _, _, wi, wo, p0 = (int(v) for v in one.problem.net.ops[0])
            assert code == LINEAR
            row = one.problem.theta[0, p0:p0 + wi].copy()
            one.problem.theta[0, p0:p0 + wi * wo] = np.tile(row, wo)
            idx = one.problem.net.train_index
            w0 = one.problem.theta[:, idx] * 3.0  # the start carries the trainable entries (the same rows)
            bad = hook(InstanceBatch("x", one.problem, w0, one.attrs))
            assert not bad.ok and "layernorm" in bad.reason and "constant" in bad.reason
    assert n >= 100
    if class_name == "layernorm_net":  # a trained top layer is outside Lemma 13.2.2's class
        top = CLASSES["layernorm_net_trainable_top"].families[0].generate(rng, 1, _knobs(rng, 3, 0))
        bad = layernorm_member_exact(_net_one(top, 0))
        assert not bad.ok and "trainable" in bad.reason
