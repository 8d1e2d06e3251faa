"""A STREAM-like triad ``a[i] = b[i] + s * c[i]`` (float32), compiled with irsnn's own C
toolchain, to put the training benchmarks' memory traffic in proportion.

Two variants of the same kernel are built with
:func:`irsnn.backends.native.toolchain.load_library` (same compiler and flags as the
generated kernels, ``-O3 -march=native`` and ``-fopenmp`` when available):

* ``serial``: no ``#pragma omp``; one thread (compare with batch-1 training runs, which are
  single-threaded by construction);
* ``omp``: ``#pragma omp parallel for schedule(static)`` over the elements, initialised by the
  same threads (first touch); all threads of the OpenMP team (compare with batch-64 runs,
  which the C backend parallelises over the batch).

Each variant is measured at two sizes: ``dram`` (3 arrays of 64 MiB, far larger than the
32 MiB L3 of the reference machine) and ``cache`` (3 arrays of 4 MiB, cache-resident: about
the size of the learning kernel's per-synapse state of ALIF512R at batch 1, 3 x 5.2 MB).
Timing is done in C (``clock_gettime``) around each sweep; the best of ``reps`` sweeps is
kept (STREAM's convention). Bytes are counted as 3 arrays x 4 bytes per element (read b,
read c, write a), as STREAM does; with write-allocate caches the hardware actually moves a
fourth stream (reading a's lines before writing them), so the true traffic is up to 4/3 of
the counted figure.

``python -m irsnn.bench.triad`` prints the figures.

Requires NumPy and irsnn's C toolchain (:mod:`irsnn.backends.native.toolchain`). Provides
:func:`triad_gbs` (one measurement), :func:`measure` (all four, once per process),
:func:`describe` and :func:`source`; :func:`irsnn.bench.measure.measure_triad` is the bench
run's use of it.
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np

MIB = 1 << 20
#: bytes counted per element: b and c read, a written (float32)
BYTES_PER_ELEMENT = 12
SIZES = {"dram": 64 * MIB, "cache": 4 * MIB}  # bytes per array

_SOURCE = r"""
#define _POSIX_C_SOURCE 199309L
#include <stddef.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void triad_init(float *restrict a, float *restrict b, float *restrict c, long n) {
    PRAGMA_OMP
    for (long i = 0; i < n; i++) { a[i] = 0.0f; b[i] = 1.0f; c[i] = 2.0f; }
}

/* best seconds of `reps` sweeps of a = b + s * c */
double triad_best(float *restrict a, const float *restrict b, const float *restrict c,
                  float s, long n, int reps) {
    double best = 1e300;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        PRAGMA_OMP
        for (long i = 0; i < n; i++) a[i] = b[i] + s * c[i];
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

int triad_threads(void) {
#ifdef _OPENMP
    int n = 1;
    PRAGMA_OMP_PARALLEL
    {
        #pragma omp single
        n = omp_get_num_threads();
    }
    return n;
#else
    return 1;
#endif
}
"""


def source(parallel: bool) -> str:
    """The C source of the ``omp`` (``parallel``) or ``serial`` variant."""
    if parallel:
        head = "#ifdef _OPENMP\n#include <omp.h>\n#endif\n"
        return head + _SOURCE.replace("PRAGMA_OMP_PARALLEL", "#pragma omp parallel").replace(
            "PRAGMA_OMP", "#pragma omp parallel for schedule(static)")
    # serial variant: no OpenMP pragmas at all (-fopenmp is still on the command line)
    return (_SOURCE.replace("PRAGMA_OMP_PARALLEL", "").replace("PRAGMA_OMP", "")
            .replace("#ifdef _OPENMP", "#if 0"))


@functools.cache
def _library(parallel: bool):
    from irsnn.backends.native.toolchain import load_library
    lib = load_library(source(parallel), "bench_triad_omp" if parallel else
                       "bench_triad_serial")[0]
    fp = ctypes.c_void_p
    lib.triad_init.argtypes = [fp, fp, fp, ctypes.c_long]
    lib.triad_init.restype = None
    lib.triad_best.argtypes = [fp, fp, fp, ctypes.c_float, ctypes.c_long, ctypes.c_int]
    lib.triad_best.restype = ctypes.c_double
    lib.triad_threads.argtypes = []
    lib.triad_threads.restype = ctypes.c_int
    return lib


def triad_gbs(parallel: bool, bytes_per_array: int, reps: int = 10) -> float:
    """Best triad bandwidth in GB/s (1e9 bytes/s, 12 bytes per element counted)."""
    lib = _library(parallel)
    n = bytes_per_array // 4
    # np.empty: pages are first touched by triad_init (by the threads that use them)
    a, b, c = (np.empty(n, np.float32) for _ in range(3))
    ptr = [x.ctypes.data for x in (a, b, c)]
    lib.triad_init(*ptr, n)
    lib.triad_best(*ptr, 3.0, n, 2)  # warm-up (page faults, frequency)
    best = lib.triad_best(*ptr, 3.0, n, reps)
    if not np.all(a[:: max(1, n // 97)] == np.float32(7.0)):
        raise RuntimeError("triad computed a wrong result")
    return BYTES_PER_ELEMENT * n / best / 1e9


@functools.cache
def measure() -> dict:
    """Triad bandwidths of this run (measured once per process), GB/s:
    ``{"serial": {"dram": .., "cache": ..}, "omp": {...}, "omp_threads": n}``."""
    out = {}
    for name, parallel in (("serial", False), ("omp", True)):
        out[name] = {k: triad_gbs(parallel, size, reps=10 if k == "dram" else 50)
                     for k, size in SIZES.items()}
    out["omp_threads"] = _library(True).triad_threads()
    return out


def describe(res: dict) -> str:
    """One line about the bandwidths ``res`` of :func:`measure`."""
    return (f"triad (float32, 12 B/element counted): 1 thread {res['serial']['dram']:.1f} GB/s "
            f"(3 x 64 MiB), {res['serial']['cache']:.1f} GB/s (3 x 4 MiB); "
            f"{res['omp_threads']} threads {res['omp']['dram']:.1f} GB/s (3 x 64 MiB), "
            f"{res['omp']['cache']:.1f} GB/s (3 x 4 MiB)")


if __name__ == "__main__":
    print(describe(measure()))
