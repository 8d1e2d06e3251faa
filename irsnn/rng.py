"""Counter-based random numbers: Philox4x32-10 (Salmon et al., SC 2011), vectorised in NumPy.

Requires: NumPy and :mod:`irsnn.errors`. Provides :data:`SEED_RANGE` and :func:`check_seed`
(the one definition of a valid seed), :func:`philox4x32_10`, :func:`stream_id`,
:func:`uniform_from_bits`, :func:`normal_from_bits`, :class:`CounterRNG` and
:class:`LaneRNG` (the host-side generators) and :data:`PHILOX_C_SOURCE`.

Every draw is a pure function of (seed, stream, step, index, draw), so all backends produce
the same numbers: :data:`PHILOX_C_SOURCE` is the same generator in C99 for native backends.

Mapping (identical in NumPy and C):

* counter = (index, step, stream, draw), key = (seed & 0xffffffff, seed >> 32), all uint32;
  ``x0, x1`` are the first two output words.
* uniform = ``((x0 >> 9) + 0.5) * 2**-23`` as float32: exact in float32 and strictly inside
  (0, 1) (smallest 2**-24, largest 1 - 2**-24). Using ``x >> 8`` with ``2**-24`` would round
  the largest values to 1.0 in float32, so 23 bits are used.
* normal = Box-Muller in double: ``sqrt(-2 log u0) * cos(2 pi u1)`` with ``u0, u1`` the
  uniforms of ``x0, x1``, then cast to float32.
* exponential = ``-log(u0)`` in double, then cast to float32.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from .errors import ModelError

__all__ = ["SEED_RANGE", "check_seed", "philox4x32_10", "CounterRNG", "LaneRNG",
           "PHILOX_C_SOURCE", "uniform_from_bits", "normal_from_bits", "stream_id"]

#: valid seeds: ``SEED_RANGE[0] <= seed < SEED_RANGE[1]`` (the 64-bit Philox key), the same on
#: every backend
SEED_RANGE = (0, 2**64)


def check_seed(seed, owner: str = "rng_seed") -> int:
    """``seed`` as a Python int, or a :class:`~irsnn.errors.ModelError` (a ``ValueError``)
    saying it must be a whole number in :data:`SEED_RANGE`.

    Parameters
    ----------
    seed : int
        A Python or NumPy integer.
    owner : str
        What the seed was given to (``"InferenceCompiler: rng_seed"``), for the message.
    """
    low, high = SEED_RANGE
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise ModelError(f"{owner}={seed!r} must be a whole number in [0, 2**64) (got "
                         f"{type(seed).__name__}); pass an integer seed such as 0")
    seed = int(seed)
    if not low <= seed < high:
        raise ModelError(f"{owner}={seed} is outside [0, 2**64 - 1]: the seed is the 64-bit "
                         f"key of the Philox generator, on every backend; pass a seed in that "
                         f"range (e.g. seed % 2**64)")
    return seed


_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)
_LO = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)


def philox4x32_10(ctr0, ctr1, ctr2, ctr3, key0, key1):
    """Philox4x32 with 10 rounds on broadcastable uint32 arrays.

    Parameters
    ----------
    ctr0, ctr1, ctr2, ctr3 : array_like of uint32
        The counter words.
    key0, key1 : array_like of uint32
        The key words.

    Returns
    -------
    tuple of 4 ndarray of uint32
    """
    c = np.broadcast_arrays(*(np.asarray(x, dtype=np.uint32) for x in
                              (ctr0, ctr1, ctr2, ctr3, key0, key1)))
    c0, c1, c2, c3, k0, k1 = (x.astype(np.uint32) for x in c)
    with np.errstate(over="ignore"):
        for r in range(10):
            if r:
                k0 = k0 + _W0
                k1 = k1 + _W1
            p0 = c0.astype(np.uint64) * _M0
            p1 = c2.astype(np.uint64) * _M1
            hi0, lo0 = (p0 >> _S32).astype(np.uint32), (p0 & _LO).astype(np.uint32)
            hi1, lo1 = (p1 >> _S32).astype(np.uint32), (p1 & _LO).astype(np.uint32)
            c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


def stream_id(name: str) -> int:
    """A stable 32-bit stream number for a named object (e.g. ``pop.hidden/V``)."""
    import zlib
    return zlib.crc32(name.encode()) & 0xFFFFFFFF


def uniform_from_bits(x0):
    """The float32 uniform of a raw output word (see the module docstring)."""
    return _to_uniform(np.asarray(x0, dtype=np.uint32))


def normal_from_bits(x0, x1):
    """The float32 standard normal of two raw output words (Box-Muller in float64)."""
    u0 = _to_uniform(np.asarray(x0, dtype=np.uint32)).astype(np.float64)
    u1 = _to_uniform(np.asarray(x1, dtype=np.uint32)).astype(np.float64)
    return (np.sqrt(-2.0 * np.log(u0)) * np.cos(2.0 * np.pi * u1)).astype(np.float32)


def _to_uniform(x):
    return (((x >> np.uint32(9)).astype(np.float32) + np.float32(0.5))
            * np.float32(2.0 ** -23))


class CounterRNG:
    """Stateless generator keyed on a 64-bit seed.

    Parameters
    ----------
    seed : int
        0 <= seed < 2**64.
    """

    def __init__(self, seed):
        seed = check_seed(seed, "CounterRNG: seed")
        self.seed = seed
        self.key = (np.uint32(seed & 0xFFFFFFFF), np.uint32(seed >> 32))

    def bits(self, stream, step, index, draw=0):
        """The four raw uint32 output words for counter (index, step, stream, draw)."""
        return philox4x32_10(index, step, stream, draw, *self.key)

    def uniform(self, stream, step, index, draw=0):
        """float32 uniform in the open interval (0, 1); shape of ``index`` (broadcast)."""
        return _to_uniform(self.bits(stream, step, index, draw)[0])

    def normal(self, stream, step, index, draw=0):
        """float32 standard normal (Box-Muller in float64)."""
        x0, x1, _, _ = self.bits(stream, step, index, draw)
        return normal_from_bits(x0, x1)

    def exponential(self, stream, step, index, draw=0):
        """float32 standard exponential, ``-log(u)`` in float64."""
        u0 = _to_uniform(self.bits(stream, step, index, draw)[0]).astype(np.float64)
        return (-np.log(u0)).astype(np.float32)


class LaneRNG:
    """Adapter giving :class:`CounterRNG` the ``uniform(site, shape)`` interface that code
    compiled by :mod:`irsnn.lang.render_numpy` expects (``env["__rng__"]``).

    Lane ``i`` (row-major over ``shape``) of call site ``site`` at ``step`` draws from
    counter ``(index_offset + i, step, stream_offset + site, k)`` where ``k`` counts the calls
    of that site within the step (so loops draw fresh numbers each iteration).

    Parameters
    ----------
    rng : CounterRNG
    stream_offset : int
        Added to the site number (give each population/model its own range of streams).
    index_offset : int
        Added to the lane index.
    """

    def __init__(self, rng, stream_offset=0, index_offset=0):
        self.rng, self.stream_offset, self.index_offset = rng, stream_offset, index_offset
        self.step = 0
        self._draws = {}

    def begin_step(self, step):
        """Set the time step and reset the per-site draw counters."""
        self.step = int(step)
        self._draws.clear()

    def _args(self, site, shape):
        k = self._draws.get(site, 0)
        self._draws[site] = k + 1
        n = int(np.prod(shape, dtype=np.int64))
        idx = (np.arange(n, dtype=np.uint64) + np.uint64(self.index_offset)).astype(np.uint32)
        return (self.stream_offset + site, self.step, idx.reshape(shape), k)

    def uniform(self, site, shape):
        """float32 uniforms of ``shape`` for call site ``site``."""
        return self.rng.uniform(*self._args(site, shape))

    def normal(self, site, shape):
        """float32 standard normals of ``shape`` for call site ``site``."""
        return self.rng.normal(*self._args(site, shape))

    def exponential(self, site, shape):
        """float32 standard exponentials of ``shape`` for call site ``site``."""
        return self.rng.exponential(*self._args(site, shape))


#: C99 implementation of :func:`philox4x32_10` and the uniform/normal/exponential mappings
#: of :class:`CounterRNG` (needs ``<stdint.h>`` and ``<math.h>``; functions are static inline).
PHILOX_C_SOURCE = r"""
#include <stdint.h>
#include <math.h>

static inline void irsnn_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2],
                                       uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
        const uint64_t p0 = (uint64_t)0xD2511F53u * (uint64_t)c0;
        const uint64_t p1 = (uint64_t)0xCD9E8D57u * (uint64_t)c2;
        const uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        const uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0; c1 = lo1; c2 = hi0 ^ c3 ^ k1; c3 = lo0;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

static inline float irsnn_u32_to_uniform(uint32_t x)
{
    return ((float)(x >> 9) + 0.5f) * 1.1920928955078125e-07f; /* 2^-23 */
}

static inline void irsnn_rng_bits(uint64_t seed, uint32_t stream, uint32_t step,
                                  uint32_t index, uint32_t draw, uint32_t out[4])
{
    const uint32_t ctr[4] = {index, step, stream, draw};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    irsnn_philox4x32_10(ctr, key, out);
}

static inline float irsnn_uniform(uint64_t seed, uint32_t stream, uint32_t step,
                                  uint32_t index, uint32_t draw)
{
    uint32_t x[4];
    irsnn_rng_bits(seed, stream, step, index, draw, x);
    return irsnn_u32_to_uniform(x[0]);
}

static inline float irsnn_normal(uint64_t seed, uint32_t stream, uint32_t step,
                                 uint32_t index, uint32_t draw)
{
    uint32_t x[4];
    irsnn_rng_bits(seed, stream, step, index, draw, x);
    const double u0 = (double)irsnn_u32_to_uniform(x[0]);
    const double u1 = (double)irsnn_u32_to_uniform(x[1]);
    return (float)(sqrt(-2.0 * log(u0)) * cos(6.283185307179586 * u1));
}

static inline float irsnn_exponential(uint64_t seed, uint32_t stream, uint32_t step,
                                      uint32_t index, uint32_t draw)
{
    uint32_t x[4];
    irsnn_rng_bits(seed, stream, step, index, draw, x);
    return (float)(-log((double)irsnn_u32_to_uniform(x[0])));
}
"""
