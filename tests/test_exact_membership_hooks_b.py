"""Exact membership of the scale-invariant Rayleigh classes ``rayleigh_si_slow_decay`` and ``rayleigh_si`` (issue 17):
generated members pass the exact check and constants one ulp on the wrong side fail it.  That the
catalogue claim refuted as printed on the class stays ``fail`` with ``membership: exact`` is checked
with the other catalogue refutations in tests/test_exact_membership.py."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from kernels.scale_invariant import Rayleigh

from numeric.api import InstanceBatch, Knobs
from numeric.families.scale_invariant import _generate_slow, generate_rayleigh
from numeric.families.scale_invariant_exact import rayleigh_member_exact
from numeric.registry import CLASSES


def _one(batch: InstanceBatch, i: int, **attrs: float) -> InstanceBatch:
    """Instance i of batch as a batch of one, with some constants replaced."""
    a = {k: np.asarray(v)[i:i + 1].copy() for k, v in batch.attrs.items()}
    for k, v in attrs.items():
        a[k] = np.array([v])
    return InstanceBatch(batch.family, Rayleigh(np.asarray(batch.problem.A)[i:i + 1]), batch.w0[i:i + 1], a)


def _draws() -> list[InstanceBatch]:
    rng = np.random.default_rng(17)
    out = []
    for pattern in range(6):
        for dim in (2, 3, 5, 8):
            k = Knobs(family=0, dim=dim, pattern=pattern, log_scale=float(rng.uniform(-3, 3)),
                      log_w0=float(rng.uniform(-0.5, 1.0)), u=(), seed=0)
            out.append(_generate_slow(rng, 10, k) if pattern % 2 else generate_rayleigh(rng, 10, k))
    return out


def test_generated_members_pass_and_one_ulp_outside_fails() -> None:
    assert CLASSES["rayleigh_si_slow_decay"].member_exact is rayleigh_member_exact
    assert CLASSES["rayleigh_si"].member_exact is rayleigh_member_exact
    n = 0
    for batch in _draws():
        for i in range(len(batch.w0)):
            one = _one(batch, i)
            m = rayleigh_member_exact(one)
            assert m.ok and m.method == "exact", m.reason
            n += 1
            A = np.asarray(batch.problem.A[i])
            ev = np.linalg.eigvalsh(A)
            # lmin moved past lambda_min(A) (rounded up to the next float above the float eigenvalue,
            # then a few ulps more so that it is past the exact eigenvalue too) is rejected ...
            above = float(np.nextafter(ev[0], np.inf))
            for _ in range(64):
                above = float(np.nextafter(above, np.inf))
            bad = rayleigh_member_exact(_one(batch, i, lmin=above))
            assert not bad.ok and "lmin" in bad.reason
            # ... and so is rho shrunk until lmin + rho/2 drops below lambda_max(A).
            lmin = float(batch.attrs["lmin"][i])
            rho_bad = float(np.nextafter(2 * (ev[-1] - lmin), 0.0)) * (1 - 1e-12)
            bad = rayleigh_member_exact(_one(batch, i, rho=rho_bad))
            assert not bad.ok and "rho" in bad.reason
    assert n >= 200


def test_one_ulp_decides() -> None:
    """On a diagonal A the spectrum is known exactly: constants on the boundary pass, one ulp beyond
    fails (lmin one ulp above lambda_min; rho the largest float with lmin + rho/2 < lambda_max)."""
    lo, hi = -0.25, 0.75  # dyadic: lmin + rho/2 = hi exactly for rho = 2.0
    prob = Rayleigh(np.diag([lo, 0.125, hi])[None])
    base = InstanceBatch("crafted", prob, np.ones((1, 3)), {"rho": np.array([2.0]), "lam": np.array([1e-3]),
                                                           "lmin": np.array([lo]), "d": np.array([3.0])})
    assert rayleigh_member_exact(base).ok

    def with_(**kw: float) -> InstanceBatch:
        return replace(base, attrs={**base.attrs, **{k: np.array([v]) for k, v in kw.items()}})

    assert not rayleigh_member_exact(with_(lmin=float(np.nextafter(lo, 1.0)))).ok
    assert not rayleigh_member_exact(with_(rho=float(np.nextafter(2.0, 0.0)))).ok
    assert rayleigh_member_exact(with_(rho=float(np.nextafter(2.0, 3.0)))).ok  # more room is still inside
    assert not rayleigh_member_exact(with_(lam=0.0)).ok
    assert not rayleigh_member_exact(replace(base, w0=np.zeros((1, 3)))).ok
