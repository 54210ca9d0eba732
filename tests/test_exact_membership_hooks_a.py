"""Exact membership of the saddle_global class (issue 17): every generated sine saddle is certified
in rational arithmetic, and a constant moved one ulp past its boundary is rejected."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from numeric.api import InstanceBatch, Knobs
from numeric.families.escape import _SINE, decode_saddle, encode_saddle
from numeric.families.escape_exact import sine_saddle_member_exact
from numeric.registry import CLASSES


def _members(count: int) -> list[InstanceBatch]:
    out: list[InstanceBatch] = []
    seed = 0
    while len(out) < count:
        rng = np.random.default_rng(seed)
        k = Knobs(family=0, dim=(1, 2, 3, 5, 10, 20)[seed % 6], pattern=seed % 4, log_scale=float(rng.uniform(-3, 3)),
                  log_w0=float(rng.uniform(0, 2)), u=(), seed=seed)
        b = _SINE.generate(rng, 8, k)
        ok, reasons = CLASSES["saddle_global"].member(b)
        assert ok.all(), reasons
        for i in range(8):
            out.append(InstanceBatch(b.family, decode_saddle(encode_saddle(b.problem, i)), b.w0[i:i + 1],
                                     {a: v[i:i + 1] for a, v in b.attrs.items()}))
        seed += 1
    return out


def _moved(b: InstanceBatch, name: str, direction: float) -> InstanceBatch:
    attrs = dict(b.attrs)
    attrs[name] = np.nextafter(attrs[name], direction)
    return InstanceBatch(b.family, b.problem, b.w0, attrs)


def test_saddle_global_hook_is_registered() -> None:
    assert CLASSES["saddle_global"].member_exact is sine_saddle_member_exact


def test_generated_sine_saddles_are_exact_members() -> None:
    members = _members(240)
    bad = [m.reason for m in map(sine_saddle_member_exact, members) if not m.ok]
    assert not bad, bad[:3]


def test_constants_one_ulp_past_their_boundary_are_rejected() -> None:
    for b in _members(16):
        h = np.asarray(b.problem.h)[0]
        c = np.asarray(b.problem.c)[0]
        # ell exactly at max_i(|h_i| + |c_i|) when that is a float: accepted; one ulp below: rejected.
        need = float(np.max(np.abs(h) + np.abs(c)))
        at = dict(b.attrs, ell=np.array([need]))
        exact_need = max(Fraction(float(x)) + Fraction(float(y)) for x, y in zip(np.abs(h), np.abs(c)))
        edge = InstanceBatch(b.family, b.problem, b.w0, at)
        assert sine_saddle_member_exact(edge).ok == (Fraction(need) >= exact_need)
        below = float(exact_need) if Fraction(float(exact_need)) < exact_need else np.nextafter(float(exact_need), -np.inf)
        m = sine_saddle_member_exact(InstanceBatch(b.family, b.problem, b.w0, dict(b.attrs, ell=np.array([below]))))
        assert not m.ok and m.method == "exact" and "ell" in m.reason
        rho = float(np.max(np.abs(c)))
        m = sine_saddle_member_exact(InstanceBatch(b.family, b.problem, b.w0,
                                                   dict(b.attrs, rho=np.array([np.nextafter(rho, -np.inf)]))))
        assert not m.ok and "rho" in m.reason
        m = sine_saddle_member_exact(_moved(b, "gamma", np.inf))
        assert not m.ok and "gamma" in m.reason
        # delta0 just below ||w0 - xs||: the generator stores the smallest float >= the exact norm,
        # so one ulp lower either still covers it exactly or is rejected; the exact test decides.
        d0 = float(b.attrs["delta0"][0])
        sq = sum(Fraction(float(v)) ** 2 for v in b.w0[0])
        low = np.nextafter(d0, -np.inf)
        m = sine_saddle_member_exact(InstanceBatch(b.family, b.problem, b.w0, dict(b.attrs, delta0=np.array([low]))))
        assert m.ok == (Fraction(float(low)) ** 2 >= sq)


def _family_members(fam: object, count: int) -> list[InstanceBatch]:
    out: list[InstanceBatch] = []
    seed = 0
    while len(out) < count:
        rng = np.random.default_rng(seed)
        k = Knobs(family=0, dim=(1, 2, 3, 5, 10, 20)[seed % 6], pattern=seed % 3, log_scale=float(rng.uniform(-2, 2)),
                  log_w0=float(rng.uniform(0, 2)), u=(), seed=seed)
        b = fam.generate(rng, 8, k)  # type: ignore[attr-defined]
        for i in range(8):
            out.append(InstanceBatch(b.family, decode_saddle(encode_saddle(b.problem, i)), b.w0[i:i + 1],
                                     {a: v[i:i + 1] for a, v in b.attrs.items()}))
        seed += 1
    return out


def test_saddle_any_and_minima_hooks_accept_generated_members_and_reject_moved_constants() -> None:
    from numeric.families.escape import _MATRIX, _QUARTIC
    from numeric.families.escape_exact import certificate_bounds, saddle_member_exact

    assert CLASSES["saddle_any"].member_exact is saddle_member_exact
    assert CLASSES["saddle_minima"].member_exact is saddle_member_exact
    for fam in (_QUARTIC, _MATRIX, _SINE):
        members = _family_members(fam, 208)
        ok, reasons = CLASSES["saddle_any"].member(InstanceBatch(members[0].family, members[0].problem, members[0].w0,
                                                                 members[0].attrs))
        assert ok.all(), reasons
        bad = [m.reason for m in map(saddle_member_exact, members) if not m.ok]
        assert not bad, (fam, bad[:3])
        for b in members[:12]:
            if fam is not _SINE:
                # one ulp below the certificate's rigorous upper bound is rejected
                p = b.problem
                ell_b, rho_b, bounded = certificate_bounds(p.h, p.q, p.s, p.xs, b.attrs["delta0"])
                assert bounded[0]
                for name, bound in zip(("ell", "rho"), (ell_b[0], rho_b[0])):
                    if bound == 0:
                        continue
                    assert float(b.attrs[name][0]) >= bound
                    below = np.nextafter(bound, -np.inf)
                    m = saddle_member_exact(InstanceBatch(b.family, b.problem, b.w0, dict(b.attrs, **{name: np.array([below])})))
                    assert not m.ok and name in m.reason, (name, m)
                m = saddle_member_exact(_moved(b, "gamma", np.inf))
                assert not m.ok and "gamma" in m.reason
            if "fstar" in b.attrs:
                m = saddle_member_exact(_moved(b, "fstar", np.inf))
                assert not m.ok and "fstar" in m.reason
