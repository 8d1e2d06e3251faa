"""EventProp training versus inference of the same model (issue 20, "Performance").

Workloads (dt = 1 ms, mlGeNN's EventProp defaults, exponential synapses of 5 ms):

* ``YinYang-5-100-3``: the embedded Yin-Yang generator's 5 inputs (4 coordinates and a bias
  spike) -> 100 LIF -> 3 LIF with the ``first_spike_time`` readout and
  ``RelativeMeanSquareError(1.0)``, mlGeNN's ``yin_yang`` example's model and ``dt`` (0.01 ms:
  3,000 steps per 30 ms example; ``max_spikes`` 500, mlGeNN's default);
* ``SHD-700-256R-20``: 700 Poisson inputs at 20 Hz -> 256 recurrent LIF -> 20 LeakyIntegrate
  (``sum_var``), 100 timesteps per example (SHD's shape, generated: no download).

Batch sizes 1 and 32, on every available backend of ``("c", "reference")``
(``IRSNN_BENCH_BACKENDS`` restricts it, as for the other benchmarks; the issue's target is the
C backend). One round of training = ``train`` of one batch (forward pass recording spikes,
backward pass, Adam step); the inference round = ``evaluate`` of the same batch with the same
compiled network (learning off), timed in the same test with ``time.perf_counter`` over the
same number of rounds, interleaved with training rounds. The ratio of the medians training /
inference goes to ``extra_info["train_over_inference"]`` (that of the minima to
``train_over_inference_min``) and is printed with ``-s``. Nothing here asserts a
timing. With the benchmarks disabled (the default) every case runs once at a small size (a
batch of 2, a tenth of the SHD-shaped inputs and hidden neurons) as a smoke test.

Run: ``python -m pytest benchmarks/test_eventprop.py --benchmark-enable -p no:cacheprovider
-q -s``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.compilers import EventPropCompiler
from irsnn.compilers.event_prop_compiler import default_params
from irsnn.connectivity import Dense
from irsnn.initializers import Normal
from irsnn.losses import RelativeMeanSquareError
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.synapses import Exponential
from irsnn.utils.data import preprocess_spikes

from .conftest import bench_backends

BATCHES = (1, 32)
ROUNDS = {1: 30, 32: 10}
#: backends measured (the C backend is the issue's target)
BACKENDS = [b for b in bench_backends() if b in ("c", "reference")]


def yin_yang(batch, small=False):
    """mlGeNN's ``yin_yang`` example's model (its weights, time-to-first-spike output and
    loss) on the embedded generator's data; its ``dt`` of 0.01 ms (3,000 steps of an example
    of 30 ms) at full size, 1 ms when small."""
    from irsnn.datasets import load_yin_yang
    data = load_yin_yang(num_train=batch, num_test=1)
    dt = 1.0 if small else 0.01
    steps = int(np.ceil(data.example_timesteps / dt))
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=batch * data.max_spikes), 5)
        hid = Population(LeakyIntegrateFire(tau_mem=20.0), 100)
        out = Population(LeakyIntegrateFire(tau_mem=20.0, readout="first_spike_time"), 3)
        Connection(inp, hid, Dense(Normal(mean=1.5, sd=0.78)), Exponential(5.0))
        Connection(hid, out, Dense(Normal(mean=0.93, sd=0.1)), Exponential(5.0))
    return (net, inp, out, steps, list(data.train_x), np.asarray(data.train_y),
            dict(dt=dt, losses=RelativeMeanSquareError(1.0), max_spikes=500))


def shd_shaped(batch, small=False):
    rng = np.random.default_rng(0)
    steps, p = 100, 1.0 - np.exp(-0.02)
    n_in, n_hid = (70, 26) if small else (700, 256)
    x = []
    for _ in range(batch):
        t, i = np.nonzero(rng.random((steps, n_in)) < p)
        x.append(preprocess_spikes(t + 0.5, i, n_in))
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=sum(len(e.spike_times) for e in x) + 16), n_in)
        hid = Population(LeakyIntegrateFire(tau_mem=20.0), n_hid)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), 20)
        Connection(inp, hid, Dense(Normal(mean=0.02, sd=0.1)), Exponential(5.0))
        Connection(hid, hid, Dense(Normal(sd=0.02)), Exponential(5.0))
        Connection(hid, out, Dense(Normal(sd=0.1)), Exponential(5.0))
    return (net, inp, out, steps, x, rng.integers(0, 20, batch),
            dict(losses="sparse_categorical_crossentropy", max_spikes=steps))


WORKLOADS = {"YinYang-5-100-3": yin_yang, "SHD-700-256R-20": shd_shaped}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("batch_size", BATCHES)
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_eventprop_training_vs_inference(benchmark, workload, batch_size, backend):
    small = benchmark.disabled
    if small:
        batch_size = min(batch_size, 2)
    net, inp, out, steps, x, y, options = WORKLOADS[workload](batch_size, small)
    compiler = EventPropCompiler(steps, batch_size=batch_size, backend=backend, **options)
    rounds = 1 if small else ROUNDS[batch_size]
    with compiler.compile(net) as cn:
        xs, ys = {inp: x}, {out: y}
        cn.train(xs, ys, num_epochs=1, callbacks=[])       # warm-up
        benchmark.pedantic(cn.train, args=(xs, ys), kwargs=dict(num_epochs=1, callbacks=[]),
                           rounds=rounds, iterations=1)
        sim = cn.simulation
        ep = sim.learning.eventprop if backend == "reference" else sim.eventprop
        hidden_spikes = sum(n for name, n in ep.spike_counts.items() if name != inp.name)
        memory = ep.buffer_bytes
        # training and inference rounds interleaved (the load of a shared machine changes
        # within seconds): the ratio of the medians, and of the minima
        train, infer = [], []
        for _ in range(rounds):
            for fn, out_ in ((cn.train, train), (cn.evaluate, infer)):
                t0 = time.perf_counter()
                fn(xs, ys, num_epochs=1, callbacks=[]) if fn == cn.train else \
                    fn(xs, ys, callbacks=[])
                out_.append(time.perf_counter() - t0)
    if benchmark.stats is None:
        print(f"\n{workload} batch {batch_size}: benchmark disabled (no timings)")
        return
    med_t, med_i = float(np.median(train)), float(np.median(infer))
    ratio, ratio_min = med_t / med_i, min(train) / min(infer)
    benchmark.extra_info.update(train_s=med_t, inference_s=med_i,
                                train_over_inference=ratio, train_over_inference_min=ratio_min,
                                hidden_spikes=hidden_spikes, spike_buffer_bytes=memory)
    print(f"\n{workload} batch {batch_size} ({backend}): training {med_t * 1e3:.2f} ms "
          f"per batch (median; min {min(train) * 1e3:.2f}), inference {med_i * 1e3:.2f} ms "
          f"(min {min(infer) * 1e3:.2f}), ratio {ratio:.2f} (of minima {ratio_min:.2f}; "
          f"{hidden_spikes} hidden spikes in the last training batch, spike buffers "
          f"{memory / 1e6:.2f} MB)")
