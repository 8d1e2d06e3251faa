"""Bulk Philox draws in native code, for initialising large weight matrices quickly.

Requires: :data:`irsnn.rng.PHILOX_C_SOURCE` and a C compiler through :mod:`.toolchain`.
Provides :func:`philox_words` (raw Philox words, or ``None`` without a compiler).

Integer arithmetic is exact, so the raw words equal :func:`irsnn.rng.philox4x32_10`'s; the
float transforms (uniform, Box-Muller) stay in NumPy so every backend gets identical values.
Used by :mod:`irsnn.backends.host_init` when a C compiler is available.
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np

from irsnn.rng import PHILOX_C_SOURCE

from .toolchain import find_compiler, load_library

_SOURCE = PHILOX_C_SOURCE + r"""
void irsnn_philox_bulk(uint64_t seed, uint32_t stream, uint32_t step, uint32_t draw,
                       uint32_t n, uint32_t *x0, uint32_t *x1)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t out[4];
        irsnn_rng_bits(seed, stream, step, i, draw, out);
        x0[i] = out[0];
        x1[i] = out[1];
    }
}
"""


@functools.cache
def _library():
    if find_compiler() is None:
        return None
    lib = load_library(_SOURCE, "irsnn_rng")[0]
    lib.irsnn_philox_bulk.argtypes = [ctypes.c_uint64, ctypes.c_uint32, ctypes.c_uint32,
                                      ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p,
                                      ctypes.c_void_p]
    return lib


def philox_words(seed: int, stream: int, step: int, n: int):
    """``(x0, x1)`` for indices ``0..n-1``, or None when no C compiler is available."""
    lib = _library()
    if lib is None or n >= 2**32:
        return None
    x0, x1 = np.empty(n, np.uint32), np.empty(n, np.uint32)
    lib.irsnn_philox_bulk(seed, stream, step, 0, n, x0.ctypes.data, x1.ctypes.data)
    return x0, x1
