"""The counter-based generator: Random123 known answers, derived variates, NumPy == numba bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kernels import rng

# Random123's published known-answer vectors for Philox4x32-10 (tests/kat_vectors in Random123; the
# same three appear in TensorFlow's and other ports' test suites).  Written out here rather than read
# from kernels.rng so that a typo there cannot hide.
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]

U64 = np.uint64


def _random_keys(n: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    g = np.random.default_rng(seed)
    seeds = g.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)
    inst = g.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)
    step = g.integers(0, 2**32, n, dtype=np.uint64)
    draw = g.integers(0, 2**32, n, dtype=np.uint64)
    # edge values
    seeds[:4] = [0, 1, 2**32 - 1, 2**64 - 1]
    inst[:4] = [0, 2**32, 2**64 - 1, 12345]
    step[:4] = [0, 2**32 - 1, 1, 7]
    draw[:4] = [2**32 - 1, 0, 1, 2]
    return seeds, inst, step, draw


@pytest.mark.parametrize("counter,key,expected", KAT)
def test_philox_known_answers(counter, key, expected):
    assert tuple(int(x) for x in rng.philox4x32(counter, key)) == expected


def test_module_kat_table_matches_published_vectors():
    assert [tuple(map(tuple, v)) for v in rng.KAT_VECTORS] == [tuple(map(tuple, v)) for v in KAT]


def test_philox_is_vectorised_and_broadcasts():
    counters = np.array([c for c, _, _ in KAT], dtype=np.uint64)
    keys = np.array([k for _, k, _ in KAT], dtype=np.uint64)
    out = rng.philox4x32(counters, keys)
    assert out.dtype == np.uint32 and out.shape == (3, 4)
    assert [tuple(map(int, row)) for row in out] == [e for _, _, e in KAT]
    # one key broadcast against many counters
    many = rng.philox4x32(np.zeros((5, 4), dtype=np.uint32), (0, 0))
    assert (many == np.array(KAT[0][2], dtype=np.uint32)).all()


def test_counter_layout_is_draw_step_instance_and_key_is_seed():
    seed, inst, step, draw = 0x0123456789ABCDEF, 0xFEDCBA9876543210, 77, 5
    words = rng.philox4x32(
        (draw, step, inst & 0xFFFFFFFF, inst >> 32), (seed & 0xFFFFFFFF, seed >> 32)
    ).astype(np.uint64)
    assert (rng.philox_block(seed, inst, step, draw) == words).all()
    expected_u = ((int(words[0]) >> 5) * 2**26 + (int(words[1]) >> 6)) / 2**53
    assert float(rng.uniform(seed, inst, step, draw)) == expected_u
    # every field of the key changes the output
    base = float(rng.uniform(seed, inst, step, draw))
    for args in [(seed ^ 1, inst, step, draw), (seed ^ (1 << 40), inst, step, draw), (seed, inst ^ 1, step, draw),
                 (seed, inst ^ (1 << 40), step, draw), (seed, inst, step + 1, draw), (seed, inst, step, draw + 1)]:
        assert float(rng.uniform(*args)) != base


def test_uniform_is_53_bit_in_unit_interval():
    u = rng.uniform(*_random_keys(20000))
    assert u.dtype == np.float64
    assert (u >= 0).all() and (u < 1).all()
    scaled = u * 2.0**53
    assert (scaled == np.floor(scaled)).all()
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005


def test_randint_is_floor_of_64_bit_fraction_times_n():
    seeds, inst, step, draw = _random_keys(2000, seed=1)
    g = np.random.default_rng(2)
    n = g.integers(1, 2**32, seeds.shape[0], dtype=np.uint64)
    n[:3] = [1, 2**32 - 1, 3]
    got = rng.randint(seeds, inst, step, draw, n)
    words = rng.philox_block(seeds, inst, step, draw).astype(object)
    for k in range(seeds.shape[0]):
        x = (int(words[k, 0]) << 32) | int(words[k, 1])
        assert got[k] == (x * int(n[k])) >> 64
    assert (got >= 0).all() and (got < n.astype(np.int64)).all()


def test_randint_is_uniform_enough():
    counts = np.bincount(rng.randint(9, np.arange(70000), 3, 0, 7), minlength=7)
    expected = 10000
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 30, counts  # 6 dof: P(chi2 > 30) ~ 4e-5


def test_normal_matches_box_muller_with_libm_to_rounding():
    seeds, inst, step, draw = _random_keys(20000, seed=3)
    z = rng.normal(seeds, inst, step, draw)
    words = rng.philox_block(seeds, inst, step, draw >> U64(1)).astype(np.uint64)
    u1 = ((words[:, 0] >> U64(5)).astype(float) * 2**26 + (words[:, 1] >> U64(6)).astype(float)) / 2**53
    u2 = ((words[:, 2] >> U64(5)).astype(float) * 2**26 + (words[:, 3] >> U64(6)).astype(float)) / 2**53
    rho = np.sqrt(-2 * np.log1p(-u1))
    ang = 2 * np.pi * u2
    expected = np.where(draw % 2 == 0, rho * np.cos(ang), rho * np.sin(ang))
    assert np.allclose(z, expected, rtol=0, atol=1e-14 * (1 + rho))


def test_normal_moments_and_pair_independence():
    z = rng.normal(5, 11, 0, np.arange(200000))
    assert abs(z.mean()) < 0.015 and abs(z.var() - 1) < 0.02
    assert abs(np.mean(z**4) - 3) < 0.1
    assert abs(np.corrcoef(z[0::2], z[1::2])[0, 1]) < 0.015


def test_libm_free_log_and_cos_are_accurate():
    x = np.concatenate([np.exp(-np.linspace(0, 36, 5001)), [1.0, 2.0**-53, 0.5, 0.7071067811865476]])
    assert np.max(np.abs(rng._log_unit(x) - np.log(x)) / np.maximum(np.abs(np.log(x)), 1e-300)) < 1e-15
    assert rng._log_unit(np.array([1.0]))[0] == 0.0
    u = np.arange(0, 2**20, dtype=np.float64) / 2**20
    for shift, ref in ((0, np.cos), (1, np.sin)):
        got = rng._cos_quadrant(u, np.full(u.shape, shift))
        assert np.max(np.abs(got - ref(2 * np.pi * u))) < 2e-15


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(seed=-1, instance=0, step=0, draw=0), "seed"),
        (dict(seed=2**64, instance=0, step=0, draw=0), "seed"),
        (dict(seed=0, instance=-3, step=0, draw=0), "instance"),
        (dict(seed=0, instance=0, step=2**32, draw=0), "step"),
        (dict(seed=0, instance=0, step=0, draw=np.array([-1, 2])), "draw"),
        (dict(seed=0, instance=0.5, step=0, draw=0), "instance"),
    ],
)
def test_out_of_range_keys_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rng.uniform(**kwargs)


def test_randint_rejects_bad_n():
    with pytest.raises(ValueError, match="n"):
        rng.randint(0, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="n"):
        rng.randint(0, 0, 0, 0, 2**32)


# ---- numba: bit-for-bit the same generator -------------------------------------------------------


@pytest.fixture(scope="module")
def nb():
    from kernels import rng_numba as _numba

    return _numba


def test_numba_philox_matches_numpy_bit_for_bit(nb):
    g = np.random.default_rng(4)
    ctr = g.integers(0, 2**32, (50000, 4), dtype=np.uint64)
    key = g.integers(0, 2**32, (50000, 2), dtype=np.uint64)
    ctr[:3] = [c for c, _, _ in KAT]
    key[:3] = [k for _, k, _ in KAT]
    got = nb.philox_many(ctr, key)
    assert np.array_equal(got, rng.philox4x32(ctr, key).astype(np.uint64))
    assert [tuple(map(int, row)) for row in got[:3]] == [e for _, _, e in KAT]


def test_numba_variates_match_numpy_bit_for_bit(nb):
    seeds, inst, step, draw = _random_keys(50000, seed=5)
    n = np.random.default_rng(6).integers(1, 2**32, seeds.shape[0], dtype=np.uint64)
    assert np.array_equal(nb.uniform_many(seeds, inst, step, draw), rng.uniform(seeds, inst, step, draw))
    assert np.array_equal(nb.randint_many(seeds, inst, step, draw, n), rng.randint(seeds, inst, step, draw, n))
    # normals use the libm-free log/cos, so they agree exactly too
    assert np.array_equal(nb.normal_many(seeds, inst, step, draw), rng.normal(seeds, inst, step, draw))


def test_numba_scalar_functions_match(nb):
    for seed, inst, step, draw in [(0, 0, 0, 0), (2**64 - 1, 2**64 - 1, 2**32 - 1, 2**32 - 1), (7, 2**33 + 5, 3, 9)]:
        args = (U64(seed), U64(inst), U64(step), U64(draw))
        assert nb.uniform(*args) == float(rng.uniform(seed, inst, step, draw))
        assert nb.randint(*args, U64(1000)) == int(rng.randint(seed, inst, step, draw, 1000))
        assert nb.normal(*args) == float(rng.normal(seed, inst, step, draw))
        assert math.isfinite(nb.normal(*args))
