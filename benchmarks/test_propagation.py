"""Pure propagation microbenchmark: synaptic events/s vs connection density and firing rate.

``PROP_NEURONS`` SpikeInput neurons with Poisson spike trains at ``rate`` Hz (preprocessed with
NumPy, fixed seed) -> ``PROP_NEURONS`` ``LeakyIntegrate`` neurons (no spikes, so the cost is the
propagation of the input events plus a cheap neuron update), ``Dense`` at density 1 or
``FixedProbability(density, layout="sparse")`` otherwise (stored ragged; the reference backend
computes it densely; ``test_sparse_layouts.py`` compares the layouts),
batch 1, ``PROP_TIMESTEPS`` steps per round. Synaptic events = input spikes x density x
``PROP_NEURONS`` (connected synapses, expected count). The network builder is
:func:`irsnn.bench.run_propagation`'s (the ``irsnn bench`` runner runs the same measurement).

Run with ``python -m pytest benchmarks/test_propagation.py --benchmark-enable -p no:cacheprovider
-q -s``. Nothing here asserts a timing.
"""

from __future__ import annotations

import os

import pytest

from irsnn.bench import run_propagation

from .conftest import BACKENDS

PROP_NEURONS = 1024
PROP_TIMESTEPS = 500
DENSITIES = (1.0, 0.1, 0.01)
RATES_HZ = (10.0, 50.0, 200.0)


def rounds_for(backend):
    return 1 if backend == "reference" else 5


@pytest.mark.parametrize("rate", RATES_HZ)
@pytest.mark.parametrize("density", DENSITIES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_propagation(benchmark, backend, density, rate):
    if backend == "reference" and (density, rate) != (1.0, 50.0):
        pytest.skip("reference backend: one point (density 1, 50 Hz) only")
    rounds = rounds_for(backend)
    benchmark.group = f"propagation density {density:g}"
    res = {}

    def measure():
        res.update(run_propagation(backend, PROP_NEURONS, density, rate, PROP_TIMESTEPS,
                                   rounds))

    # one pedantic round = build + warm-up + `rounds` timed predicts; the events/s figures come
    # from the predicts only (extra_info), not from pytest-benchmark's statistics
    benchmark.pedantic(measure, rounds=1, iterations=1)
    assert res["synaptic_events_per_s"] > 0
    benchmark.extra_info.update({k: v for k, v in res.items() if k != "times_s"})
    benchmark.extra_info["omp_num_threads"] = os.environ.get("OMP_NUM_THREADS")
    print(f"\npropagation {backend} density {density:g} {rate:g} Hz "
          f"({res['measured_rate_hz']:.1f} Hz measured): {res['synaptic_events_per_s']:.3g} "
          f"synaptic events/s (mean; best {res['best_synaptic_events_per_s']:.3g}), "
          f"{res['ns_per_event']:.3g} ns/event, {res['timesteps_per_s']:.4g} timesteps/s")
