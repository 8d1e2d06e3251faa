"""Shared workloads of the backend benchmarks (issue 3; figures comparable with mlGeNN's).

* ``ALIF512R``: 2048 SpikeInput -> 512 recurrent ALIF -> 11 LeakyIntegrate (sum_var).
* ``ALIF256F-ALIF256R``: 2048 SpikeInput -> 256 feed-forward ALIF -> 256 recurrent ALIF -> 11 LI.

Inputs are Poisson spike trains at 20 Hz (each input spikes in a 1 ms step with probability
``1 - exp(-0.02)``), preprocessed with NumPy from a fixed seed: no downloads. Hidden ALIF:
``v_thresh=0.6, tau_refrac=5`` and the defaults otherwise (tau_mem 20, tau_adapt 2000,
beta 0.0174, relative reset). Dense input and recurrent weights ``Normal(0, 1/sqrt(fan_in))``.
Outputs: ``LeakyIntegrate(tau_mem=20, readout="sum_var")``. 100 timesteps per example.

Backends: every available backend in :mod:`irsnn.backends` (``reference`` now; ``c`` and others
are picked up automatically once registered); ``IRSNN_BENCH_BACKENDS=c`` restricts the list.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.backends import available_backends
from irsnn.connectivity import Dense
from irsnn.initializers import Normal
from irsnn.neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrate, SpikeInput
from irsnn.utils.data import preprocess_spikes

NUM_INPUT, NUM_OUTPUT = 2048, 11
#: timesteps per example (dt = 1 ms)
TIMESTEPS = 100
DT = 1.0
#: input rate (Hz)
INPUT_RATE_HZ = 20.0
BATCH_SIZES = (1, 64)


def bench_backends() -> list[str]:
    avail = available_backends()
    wanted = os.environ.get("IRSNN_BENCH_BACKENDS")
    names = ([n.strip() for n in wanted.split(",") if n.strip()] if wanted
             else [n for n, (ok, _) in avail.items() if ok])
    for n in names:
        if n not in avail or not avail[n][0]:
            raise pytest.UsageError(f"benchmark backend {n!r} is not available: "
                                    f"{avail.get(n, (False, 'unknown backend'))[1]}")
    return names


BACKENDS = bench_backends()


def alif():
    return AdaptiveLeakyIntegrateFire(v_thresh=0.6, tau_refrac=5.0)


def normal(fan_in):
    return Normal(mean=0.0, sd=1.0 / np.sqrt(fan_in))


def build_alif512r(max_spikes):
    """2048 -> 512 recurrent ALIF -> 11 LI. Returns ``(net, inp, [hidden...], out)``."""
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=max_spikes), NUM_INPUT, name="input")
        hid = Population(alif(), 512, name="hidden")
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), NUM_OUTPUT,
                         name="output")
        Connection(inp, hid, Dense(normal(NUM_INPUT)), name="in_hid")
        Connection(hid, hid, Dense(normal(512)), name="hid_hid")
        Connection(hid, out, Dense(normal(512)), name="hid_out")
    return net, inp, [hid], out


def build_alif256f_alif256r(max_spikes):
    """2048 -> 256 feed-forward ALIF -> 256 recurrent ALIF -> 11 LI."""
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=max_spikes), NUM_INPUT, name="input")
        h1 = Population(alif(), 256, name="hidden_ff")
        h2 = Population(alif(), 256, name="hidden_rec")
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), NUM_OUTPUT,
                         name="output")
        Connection(inp, h1, Dense(normal(NUM_INPUT)), name="in_h1")
        Connection(h1, h2, Dense(normal(256)), name="h1_h2")
        Connection(h2, h2, Dense(normal(256)), name="h2_h2")
        Connection(h2, out, Dense(normal(256)), name="h2_out")
    return net, inp, [h1, h2], out


WORKLOADS = {"ALIF512R": build_alif512r, "ALIF256F-ALIF256R": build_alif256f_alif256r}


def poisson_examples(num, seed=0):
    """``num`` examples of 2048 Poisson spike trains at 20 Hz over TIMESTEPS steps."""
    rng = np.random.default_rng(seed)
    p = 1.0 - np.exp(-INPUT_RATE_HZ * DT / 1000.0)
    out = []
    for _ in range(num):
        steps, ids = np.nonzero(rng.random((TIMESTEPS, NUM_INPUT)) < p)
        out.append(preprocess_spikes(steps * DT, ids, NUM_INPUT))
    return out


def max_spikes_for(examples):
    """Room for one batch of ``examples`` (all spikes together), with a margin."""
    return int(sum(len(e.spike_times) for e in examples) * 1.1) + 1024


def throughput(benchmark, batch_size) -> str:
    """Record the timed rounds' throughput in ``benchmark.extra_info`` (mean and best
    timesteps/s and example-timesteps/s) and return the summary text for the entry's line."""
    stats = benchmark.stats.stats if benchmark.stats is not None else None
    if stats is None:
        return " (benchmark disabled: no timings)"
    info = benchmark.extra_info
    info["timesteps_per_s"] = TIMESTEPS / stats.mean
    info["example_timesteps_per_s"] = batch_size * TIMESTEPS / stats.mean
    info["best_timesteps_per_s"] = TIMESTEPS / stats.min
    info["best_example_timesteps_per_s"] = batch_size * TIMESTEPS / stats.min
    return (f"; {TIMESTEPS / stats.mean:.4g} timesteps/s, "
            f"{batch_size * TIMESTEPS / stats.mean:.4g} example-timesteps/s (mean); "
            f"best {TIMESTEPS / stats.min:.4g} timesteps/s")
