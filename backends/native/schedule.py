"""Spike schedules (:func:`irsnn.utils.data.spike_schedule`) in native code.

Requires: a C compiler through :mod:`.toolchain` and :mod:`irsnn.utils.data`
(:class:`~irsnn.utils.data.SpikeSchedule`, its capacity check). Provides
:func:`native_spike_schedule` (``None`` without a compiler).

A batch's schedule is rebuilt whenever a batch is applied, so it is on the host's critical path
between native runs: NumPy's version costs tens of nanoseconds per spike (a sort and a dozen
array passes), this one a few (one pass to find each spike's step, a counting sort to group
them). The arithmetic is the simulation's own (the clock ``(float)((double)step * dt)``, spike
times rounded to the model's precision), so the result equals NumPy's exactly (tested). Used by
:func:`irsnn.backends.host_init.spike_schedule` when a C compiler is available.
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np

from irsnn.errors import InputError
from irsnn.utils.data import SpikeSchedule, check_schedule_fits

from .toolchain import find_compiler, load_library

_SOURCE = r"""
#include <stdint.h>
#include <math.h>

/* The first step >= lo whose clock reaches time t (REAL: float or double): a guess from t / dt
   (t >= 0), then exact steps in either direction under the simulation's clock. */
#define IRSNN_DUE(REAL)                                                                      \
    static inline int64_t due_##REAL(REAL t, int64_t lo, double dt, double per_dt)           \
    {                                                                                        \
        int64_t s = (int64_t)((double)t * per_dt);                                           \
        if (s < lo) s = lo;                                                                  \
        while (s > lo && (REAL)((double)(s - 1) * dt) >= t) s--;                             \
        while ((REAL)((double)s * dt) < t) s++;                                              \
        return s;                                                                            \
    }
IRSNN_DUE(float)
IRSNN_DUE(double)

/* steps[j]: the step of spike j after `first`, and neuron[j] its neuron, for the trains of
   `batch` elements of `n` neurons (cumulative `end`); at most one spike per train and step.
   Returns the number of steps (0 without spikes); -1 if a spike time is not finite, -2 if one
   is too late to count its steps in 32 bits. Batch elements in parallel. */
int64_t irsnn_schedule_steps(int64_t batch, int64_t n, const int64_t *end, const double *times,
                             int32_t single, int64_t first, double dt, int64_t *steps,
                             uint32_t *neuron)
{
    const double per_dt = 1.0 / dt;
    int64_t most = -1, bad = 0;
    #pragma omp parallel for schedule(static) reduction(max:most) reduction(min:bad) if(batch > 1)
    for (int64_t b = 0; b < batch; b++) {
        int64_t j = b ? end[b * n - 1] : 0, err = 0;
        for (int64_t i = 0; i < n && !err; i++) {
            int64_t next = first;
            for (; j < end[b * n + i]; j++) {
                if (!isfinite(times[j]) || times[j] / dt > 4294967296.0) {
                    err = isfinite(times[j]) ? -2 : -1;
                    break;
                }
                const int64_t s = single ? due_float((float)times[j], next, dt, per_dt)
                                         : due_double(times[j], next, dt, per_dt);
                steps[j] = s - first;
                neuron[j] = (uint32_t)i;
                if (s - first > most) most = s - first;
                next = s + 1;
            }
        }
        if (err < bad) bad = err;
    }
    return bad ? bad : most + 1;
}

/* Counting sort of the spikes by (batch element, step), neuron ids ascending within a step
   (the spikes come in neuron order): offsets (batch * nsteps + 1, zeroed), ids (one per
   spike), cursor (batch * nsteps). A batch element's spikes keep their range of indices, so
   each element is sorted on its own (in parallel). */
void irsnn_schedule_fill(int64_t batch, int64_t n, const int64_t *end, const int64_t *steps,
                         const uint32_t *neuron, int64_t nsteps, uint32_t *offsets,
                         uint32_t *ids, uint32_t *cursor)
{
    #pragma omp parallel for schedule(static) if(batch > 1)
    for (int64_t b = 0; b < batch; b++) {
        const int64_t lo = b ? end[b * n - 1] : 0, hi = end[b * n + n - 1];
        uint32_t *count = offsets + b * nsteps + 1, *at = cursor + b * nsteps;
        for (int64_t j = lo; j < hi; j++) count[steps[j]]++;
        uint32_t total = (uint32_t)lo;
        for (int64_t k = 0; k < nsteps; k++) {
            at[k] = total;
            total += count[k];
            count[k] = total;
        }
        for (int64_t j = lo; j < hi; j++) ids[at[steps[j]]++] = neuron[j];
    }
}
"""


@functools.cache
def _library():
    if find_compiler() is None:
        return None
    lib = load_library(_SOURCE, "irsnn_schedule")[0]
    i64, vp = ctypes.c_int64, ctypes.c_void_p
    lib.irsnn_schedule_steps.argtypes = [i64, i64, vp, vp, ctypes.c_int32, i64,
                                         ctypes.c_double, vp, vp]
    lib.irsnn_schedule_steps.restype = i64
    lib.irsnn_schedule_fill.argtypes = [i64, i64, vp, vp, vp, i64, vp, vp, vp]
    return lib


def native_spike_schedule(end_spikes, spike_times, first_step, dt, dtype):
    """:func:`irsnn.utils.data.spike_schedule` natively, or None without a C compiler (or
    without neurons: NumPy handles that)."""
    lib = _library()
    if lib is None:
        return None
    end = np.ascontiguousarray(end_spikes, np.int64)
    batch, n = end.shape
    if not n:
        return None
    times = np.ascontiguousarray(spike_times, np.float64)
    steps = np.empty(len(times), np.int64)
    neuron = np.empty(len(times), np.uint32)
    count = lib.irsnn_schedule_steps(batch, n, end.ctypes.data, times.ctypes.data,
                                     1 if np.dtype(dtype) == np.float32 else 0, first_step,
                                     float(dt), steps.ctypes.data, neuron.ctypes.data)
    if count == -1:
        raise InputError("spike_schedule: spike times must be finite")
    check_schedule_fits(times.max() / dt if count == -2 else first_step + count, len(times))
    offsets = np.zeros(batch * count + 1, np.uint32)
    ids = np.zeros(max(1, len(times)), np.uint32)
    if len(times):
        cursor = np.empty(batch * count, np.uint32)
        lib.irsnn_schedule_fill(batch, n, end.ctypes.data, steps.ctypes.data,
                                neuron.ctypes.data, count, offsets.ctypes.data,
                                ids.ctypes.data, cursor.ctypes.data)
    return SpikeSchedule(ids, offsets, np.array([first_step, count], np.uint32))
