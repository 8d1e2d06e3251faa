"""Inference throughput of ALIF512R and ALIF256F-ALIF256R on every available backend, at batch
sizes 1 and 64.

Run with ``python -m pytest benchmarks --benchmark-enable -p no:cacheprovider -q -s``; see
``benchmarks/README.md``. Nothing here asserts a timing.

Threads: batch-1 runs of the C backend are single-threaded by construction (it parallelises
over batch elements only), so they compare with mlGeNN's single-threaded CPU figures;
``OMP_NUM_THREADS`` (recorded in ``extra_info``) only has an effect when set before the process
starts.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from irsnn.callbacks import SpikeRecorder
from irsnn.compilers import InferenceCompiler

from .conftest import (BACKENDS, BATCH_SIZES, DT, NUM_INPUT, TIMESTEPS, WORKLOADS,
                       max_spikes_for, poisson_examples, throughput)


def rounds_for(backend, batch_size):
    """Timed rounds (one round = one batch of TIMESTEPS steps): few for the slow reference
    backend at batch 64, more for fast backends so the mean is stable."""
    if backend == "reference":
        return {1: 5, 64: 1}[batch_size]
    return {1: 50, 64: 10}[batch_size]


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_inference_throughput(benchmark, workload, backend, batch_size):
    x = poisson_examples(batch_size, seed=batch_size)
    net, inp, hidden, out = WORKLOADS[workload](max_spikes_for(x))
    compiled = InferenceCompiler(evaluate_timesteps=TIMESTEPS, dt=DT, batch_size=batch_size,
                                 rng_seed=1, backend=backend).compile(net)
    benchmark.group = f"{workload} batch {batch_size}"
    with compiled:
        def one_batch():
            return compiled.predict({inp: x}, [out], callbacks=[])

        preds = one_batch()[0]  # build + warm-up, untimed
        assert preds[out].shape == (batch_size, 11) and np.all(np.isfinite(preds[out]))
        benchmark.pedantic(one_batch, rounds=rounds_for(backend, batch_size), iterations=1,
                           warmup_rounds=0)
        # after the timed rounds (so no recording is compiled into them): firing rates
        _, cb = compiled.predict({inp: x}, [out], callbacks=[
            SpikeRecorder(h, key=h.name, record_counts=True) for h in hidden])
    rates = {}
    for h in hidden:
        counts = np.stack(cb[h.name])  # (examples, neurons)
        rates[h.name] = counts.sum() / (counts.size * TIMESTEPS * DT) * 1000.0
    input_hz = (sum(len(e.spike_times) for e in x) / (len(x) * NUM_INPUT * TIMESTEPS * DT)
                * 1000.0)
    info = benchmark.extra_info
    info.update({"workload": workload, "backend": backend, "batch_size": batch_size,
                 "timesteps": TIMESTEPS, "input_rate_hz": input_hz,
                 "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                 **{f"rate_hz_{k}": v for k, v in rates.items()}})
    print(f"\n{workload} {backend} batch {batch_size}: input {input_hz:.1f} Hz, "
          + ", ".join(f"{k} {v:.1f} Hz" for k, v in rates.items())
          + throughput(benchmark, batch_size))
