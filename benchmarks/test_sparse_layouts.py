"""Inference throughput of sparse ALIF512R in each synapse layout on the C backend.

ALIF512R (2048 SpikeInput at 20 Hz -> 512 recurrent ALIF -> 11 LI, see ``conftest.py``) with
``FixedProbability(0.05)`` input and ``FixedProbability(0.1)`` recurrent connections (no
autapses), stored ``dense`` (a matrix with zeros), ``sparse`` (ragged rows of indices and
weights), ``bitmask`` (one bit per pair) or ``procedural`` (regenerated from the counter-based
RNG at every spike), with two kinds of weights:

* ``normal``: ``Normal(0, 1/sqrt(p * fan_in))`` (a bitmask group then stores a dense weight
  matrix beside its bits);
* ``constant``: 0.1 input and -0.05 recurrent (a bitmask group stores one value; the
  ``choose-sparse-layout`` pass picks bitmask for these by itself).

Every layout holds the same synapses and weights, so within a weight kind all layouts give
identical spikes (the firing rates printed and recorded in ``extra_info`` show it).
``extra_info`` also holds ``connectivity_bytes``: the stored synaptic arrays of the two
FixedProbability connections (weights, indices, row lengths, bits); and ``us_per_step``: the
microseconds per timestep of each propagation kernel and of all kernels, from an extra build
with kernel profiling (kernels timed one by one), outside pytest-benchmark's timings.

Run with ``python -m pytest benchmarks/test_sparse_layouts.py --benchmark-enable
-p no:cacheprovider -q -s``. Nothing here asserts a timing.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.callbacks import SpikeRecorder
from irsnn.compilers import InferenceCompiler
from irsnn.connectivity import Dense, FixedProbability
from irsnn.initializers import Normal
from irsnn.neurons import LeakyIntegrate, SpikeInput

from .conftest import (BACKENDS, DT, NUM_INPUT, NUM_OUTPUT, TIMESTEPS, alif, max_spikes_for,
                       poisson_examples, throughput)

P_INPUT, P_RECURRENT, NUM_HIDDEN = 0.05, 0.1, 512
LAYOUTS = ("dense", "sparse", "bitmask", "procedural")


def build(layout, weights, max_spikes):
    """ALIF512R with 5% input / 10% recurrent FixedProbability connections in ``layout``."""
    if weights == "normal":
        w_in = Normal(mean=0.0, sd=1.0 / np.sqrt(P_INPUT * NUM_INPUT))
        w_rec = Normal(mean=0.0, sd=1.0 / np.sqrt(P_RECURRENT * NUM_HIDDEN))
    else:
        w_in, w_rec = 0.1, -0.05
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=max_spikes), NUM_INPUT, name="input")
        hid = Population(alif(), NUM_HIDDEN, name="hidden")
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), NUM_OUTPUT,
                         name="output")
        Connection(inp, hid, FixedProbability(P_INPUT, w_in, layout=layout), name="in_hid")
        Connection(hid, hid, FixedProbability(P_RECURRENT, w_rec, layout=layout),
                   name="hid_hid")
        Connection(hid, out, Dense(Normal(mean=0.0, sd=1.0 / np.sqrt(NUM_HIDDEN))),
                   name="hid_out")
    return net, inp, hid, out


def connectivity_bytes(compiled) -> int:
    """Bytes of the stored synaptic arrays of the two FixedProbability connections."""
    sim = compiled.simulation
    total = 0
    for name in ("in_hid", "hid_hid"):
        eid = sim.by_name[name]
        total += sum(sim.memory.array(sim.program.buffers[eid, var]).nbytes
                     for var in ("g", "ind", "rowlen", "bits")
                     if (eid, var) in sim.program.buffers)
    return total


def propagation_us_per_step(net, inp, out, x, batch_size, rounds=5) -> dict:
    """Microseconds per timestep in the propagation kernels of each connection (and in all
    kernels), from a second build with kernel profiling (untimed by pytest-benchmark); per
    kernel the best of ``rounds`` batches (a shared machine preempts some)."""
    compiled = InferenceCompiler(evaluate_timesteps=TIMESTEPS, dt=DT, batch_size=batch_size,
                                 rng_seed=1, backend="c", kernel_profiling=True).compile(net)
    per_step: dict = {}
    with compiled:
        compiled.predict({inp: x}, [out], callbacks=[])
        for _ in range(rounds):
            before = dict(compiled.kernel_times)
            compiled.predict({inp: x}, [out], callbacks=[])
            for k, v in compiled.kernel_times.items():
                us = 1e6 * (v - before[k]) / TIMESTEPS
                per_step[k] = min(per_step.get(k, us), us)
    out_ = {k.split(":", 1)[1]: v for k, v in per_step.items() if k.startswith("propagate:")}
    out_["all kernels"] = sum(per_step.values())
    return out_


def rounds_for(batch_size):
    return {1: 20, 64: 4}[batch_size]


@pytest.mark.parametrize("batch_size", (1, 64))
@pytest.mark.parametrize("weights", ("normal", "constant"))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_sparse_layout_inference(benchmark, layout, weights, batch_size):
    if "c" not in BACKENDS:
        pytest.skip("the C backend is not available (or not selected)")
    x = poisson_examples(batch_size, seed=batch_size)
    net, inp, hid, out = build(layout, weights, max_spikes_for(x))
    compiled = InferenceCompiler(evaluate_timesteps=TIMESTEPS, dt=DT, batch_size=batch_size,
                                 rng_seed=1, backend="c").compile(net)
    stored = {s.name: s.layout for *_, s in compiled.ir.synapses()}
    assert stored["in_hid"] == FixedProbability.LAYOUTS[layout]
    benchmark.group = f"ALIF512R 5%/10% {weights} weights batch {batch_size}"
    with compiled:
        def one_batch():
            return compiled.predict({inp: x}, [out], callbacks=[])

        preds = one_batch()[0]  # build + warm-up, untimed
        assert np.all(np.isfinite(preds[out]))
        benchmark.pedantic(one_batch, rounds=rounds_for(batch_size), iterations=1,
                           warmup_rounds=0)
        nbytes = connectivity_bytes(compiled)
        _, cb = compiled.predict({inp: x}, [out], callbacks=[
            SpikeRecorder(hid, key="hidden", record_counts=True)])
    profile = propagation_us_per_step(net, inp, out, x, batch_size)
    counts = np.stack(cb["hidden"])
    rate = counts.sum() / (counts.size * TIMESTEPS * DT) * 1000.0
    info = benchmark.extra_info
    info.update({"layout": layout, "weights": weights, "batch_size": batch_size,
                 "timesteps": TIMESTEPS, "rate_hz_hidden": rate,
                 "connectivity_bytes": nbytes, "us_per_step": profile,
                 "omp_num_threads": os.environ.get("OMP_NUM_THREADS")})
    line = (f"\nALIF512R 5%/10% {weights:8s} {layout:10s} batch {batch_size:2d}: hidden "
            f"{rate:.2f} Hz, {nbytes / 1024:.0f} KiB stored; us/step (profiled): "
            + ", ".join(f"{k} {v:.2f}" for k, v in profile.items()))
    print(line + throughput(benchmark, batch_size))
