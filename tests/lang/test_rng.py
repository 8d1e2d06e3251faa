"""Philox4x32-10 known-answer tests, the uniform mapping, and the C implementation."""

import ctypes

import numpy as np
import pytest

from irsnn.rng import PHILOX_C_SOURCE, CounterRNG, LaneRNG, philox4x32_10

# Random123 kat_vectors, philox4x32 10 rounds: counter (4 words), key (2 words), output.
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("ctr, key, expected", KAT)
def test_known_answers(ctr, key, expected):
    out = philox4x32_10(*ctr, *key)
    assert tuple(int(x) for x in out) == expected
    assert all(x.dtype == np.uint32 for x in out)


def test_vectorised_matches_scalar():
    idx = np.arange(50, dtype=np.uint32)
    vec = np.stack(philox4x32_10(idx, 3, 7, 0, 11, 12))
    for i in (0, 17, 49):
        assert [int(w) for w in philox4x32_10(i, 3, 7, 0, 11, 12)] == vec[:, i].tolist()


def test_uniform_mapping_exact_and_open_interval():
    rng = CounterRNG(2**40 + 5)
    idx = np.arange(20000)
    u = rng.uniform(3, 9, idx)
    x0 = philox4x32_10(idx, 9, 3, 0, 5, 2**8)[0]
    assert u.dtype == np.float32
    assert np.array_equal(u, (((x0 >> 9).astype(np.float64) + 0.5) * 2.0**-23).astype(np.float32))
    extremes = CounterRNG(0)
    assert 0.0 < float(np.float32(0.5) * np.float32(2**-23)) and \
        float((np.float32(2**23 - 1) + np.float32(0.5)) * np.float32(2**-23)) < 1.0
    assert 0.0 < u.min() and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.01
    assert extremes.uniform(0, 0, 0) != rng.uniform(0, 0, 0)
    n = rng.normal(0, 1, idx)
    e = rng.exponential(0, 1, idx)
    assert n.dtype == e.dtype == np.float32
    assert abs(n.mean()) < 0.03 and abs(n.std() - 1) < 0.03 and abs(e.mean() - 1) < 0.03
    # different streams / steps / draws are different
    assert not np.array_equal(u, rng.uniform(4, 9, idx))
    assert not np.array_equal(u, rng.uniform(3, 10, idx))
    assert not np.array_equal(u, rng.uniform(3, 9, idx, draw=1))


def test_lane_rng_counts_draws_per_site_and_step():
    a = LaneRNG(CounterRNG(9), stream_offset=100)
    a.begin_step(5)
    first, second = a.uniform(2, (3, 4)), a.uniform(2, (3, 4))
    base = CounterRNG(9)
    assert np.array_equal(first, base.uniform(102, 5, np.arange(12).reshape(3, 4)))
    assert np.array_equal(second, base.uniform(102, 5, np.arange(12).reshape(3, 4), draw=1))
    a.begin_step(5)
    assert np.array_equal(a.uniform(2, (3, 4)), first)


def test_c_source_matches_numpy(cbuild):
    wrapper = PHILOX_C_SOURCE + r"""
void k_philox(int n, const uint32_t* c, const uint32_t* k, uint32_t* out) {
    for (int i = 0; i < n; i++) irsnn_philox4x32_10(&c[4 * i], &k[2 * i], &out[4 * i]);
}
void k_dist(int n, uint64_t seed, uint32_t stream, uint32_t step, uint32_t draw,
            float* u, float* g, float* e) {
    for (int i = 0; i < n; i++) {
        u[i] = irsnn_uniform(seed, stream, step, (uint32_t)i, draw);
        g[i] = irsnn_normal(seed, stream, step, (uint32_t)i, draw);
        e[i] = irsnn_exponential(seed, stream, step, (uint32_t)i, draw);
    }
}
"""
    lib = cbuild(wrapper)
    rs = np.random.default_rng(0)
    n = 1000
    c = rs.integers(0, 2**32, (n, 4), dtype=np.uint64).astype(np.uint32)
    k = rs.integers(0, 2**32, (n, 2), dtype=np.uint64).astype(np.uint32)
    c[:3], k[:3] = [x[0] for x in KAT], [x[1] for x in KAT]
    out = np.zeros((n, 4), np.uint32)
    p = ctypes.c_void_p
    lib.k_philox(ctypes.c_int(n), c.ctypes.data_as(p), k.ctypes.data_as(p), out.ctypes.data_as(p))
    ref = np.stack(philox4x32_10(c[:, 0], c[:, 1], c[:, 2], c[:, 3], k[:, 0], k[:, 1]), axis=1)
    assert np.array_equal(out, ref)
    assert [tuple(int(w) for w in row) for row in out[:3]] == [x[2] for x in KAT]

    seed = 0x123456789ABCDEF0
    u, g, e = (np.zeros(n, np.float32) for _ in range(3))
    lib.k_dist(ctypes.c_int(n), ctypes.c_uint64(seed), ctypes.c_uint32(7), ctypes.c_uint32(11),
               ctypes.c_uint32(2), u.ctypes.data_as(p), g.ctypes.data_as(p), e.ctypes.data_as(p))
    rng = CounterRNG(seed)
    idx = np.arange(n)
    assert np.array_equal(u, rng.uniform(7, 11, idx, draw=2))  # bit for bit
    np.testing.assert_allclose(g, rng.normal(7, 11, idx, draw=2), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(e, rng.exponential(7, 11, idx, draw=2), rtol=1e-6, atol=1e-7)


def test_native_bulk_words_equal_numpy_philox():
    """backends.host_init draws big initialisations natively; the words must be identical."""
    import shutil
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler")
    from irsnn.backends.native.rng import philox_words
    seed, stream, n = 2**40 + 12345, 0xDEADBEEF, 5000
    x0, x1 = philox_words(seed, stream, 0, n)
    r0, r1, _, _ = CounterRNG(seed).bits(stream, 0, np.arange(n, dtype=np.uint32))
    np.testing.assert_array_equal(x0, r0)
    np.testing.assert_array_equal(x1, r1)
