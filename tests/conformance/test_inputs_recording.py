"""Conformance of input neurons, recording filters, readouts, batching and metrics (exact).

Poisson inputs draw from the counter-based generator keyed on (seed, stream, step, index), so
every backend must emit exactly the same spikes.
"""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.connectivity import Dense, OneToOne
from irsnn.neurons import (AdaptiveLeakyIntegrateFire, BinarySpikeInput, IntegrateFire,
                           LeakyIntegrate, LeakyIntegrateFire, PoissonInput, SpikeInput)
from irsnn.synapses import Exponential

from ..models import random_spikes
from .conftest import check, spikes, total_spikes, var
from .test_neurons import dyadic

T = 40


def input_net(neuron_factory, n=20):
    def build():
        net = Network()
        with net:
            inp = Population(neuron_factory(), n, name="inp")
            pop = Population(IntegrateFire(v_thresh=1.0), n, name="pop")
            Connection(inp, pop, Dense(dyadic((n, n), 0.5, 11)), Exponential(2.0), name="c")
        return net, {"inp": inp, "pop": pop}
    return build


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_poisson_input_exact(backend, signed, batch_size):
    rng = np.random.default_rng(12)
    rates = rng.uniform(-0.4 if signed else 0.0, 0.4, (5, 20))
    ref = check(input_net(lambda: PoissonInput(signed_spikes=signed)), backend,
                {"inp": rates}, T, batch_size=batch_size, rng_seed=7,
                record=[spikes("inp"), spikes("pop"), var("pop", "V")])
    assert total_spikes(ref, 0) > 50


def test_poisson_input_frames_exact(backend):
    rng = np.random.default_rng(13)
    rates = rng.uniform(0.0, 0.5, (2, 3, 20))
    rates[:, 1] = 0.0
    ref = check(input_net(lambda: PoissonInput(input_frames=3, input_frame_timesteps=10)),
                backend, {"inp": rates}, T, batch_size=2, rng_seed=3,
                record=[spikes("inp"), var("pop", "V")])
    assert total_spikes(ref, 0) > 20


@pytest.mark.parametrize("signed,frames", [(False, 1), (True, 1), (True, 2)])
def test_binary_spike_input_exact(backend, signed, frames):
    rng = np.random.default_rng(14)
    shape = (3, 20) if frames == 1 else (3, frames, 20)
    x = rng.choice([-1.0, 0.0, 0.5], size=shape)
    ref = check(input_net(lambda: BinarySpikeInput(signed_spikes=signed, input_frames=frames,
                                                   input_frame_timesteps=15)),
                backend, {"inp": x}, T, batch_size=2,
                record=[spikes("inp"), spikes("pop"), var("pop", "V")])
    assert total_spikes(ref, 0) > 20


def layered():
    """SpikeInput -> LIF (exp synapse) -> ALIF, with LI outputs; dyadic weights."""
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=20000), 16, name="inp")
        lif = Population(LeakyIntegrateFire(v_thresh=0.75, tau_mem=10.0, tau_refrac=2.0),
                         24, name="lif")
        alif = Population(AdaptiveLeakyIntegrateFire(v_thresh=0.5, beta=0.125,
                                                     tau_adapt=30.0), 12, name="alif")
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), 4, name="out")
        Connection(inp, lif, Dense(dyadic((16, 24), 0.5, 20)), Exponential(4.0), name="c0")
        Connection(lif, alif, Dense(dyadic((24, 12), 0.5, 21)), name="c1")
        Connection(alif, alif, Dense(dyadic((12, 12), 0.25, 22)), name="c2")
        Connection(alif, out, Dense(dyadic((12, 4), 0.5, 23)), name="c3")
    return net, {"inp": inp, "lif": lif, "alif": alif, "out": out}


def examples(num, seed=30):
    rng = np.random.default_rng(seed)
    return [random_spikes(1, 16, T, rate=float(rng.uniform(0.1, 0.4)), seed=seed + i)[0]
            for i in range(num)]


def test_recording_filters_exact(backend):
    x = {"inp": examples(5)}
    ref = check(layered, backend, x, T, batch_size=2, record=[
        spikes("lif", neuron_filter=np.s_[1::3]),
        spikes("alif", example_filter=[0, 3, 4]),
        spikes("alif", example_filter=2, neuron_filter=[0, 5, 7]),
        spikes("lif", record_counts=True, neuron_filter=np.s_[:10]),
        var("lif", "V", neuron_filter=np.s_[::2], example_filter=[1, 2]),
        var("alif", "A", example_filter=4),
        var("out", "V", neuron_filter=np.array([True, False, True, False])),
    ])
    assert total_spikes(ref, 0) > 20 and total_spikes(ref, 1) > 5
    assert len(ref.spikes[1][0]) == 3 and len(ref.vars[4]) == 2


@pytest.mark.parametrize("readout", ["var", "sum_var", "avg_var", "max_var"])
def test_value_readouts_exact(backend, readout):
    def build():
        net, pops = layered()
        with net:
            ro = Population(LeakyIntegrate(tau_mem=5.0, bias=-0.125, readout=readout), 4,
                            name="ro")
            Connection(pops["alif"], ro, Dense(dyadic((12, 4), 0.5, 24)), Exponential(2.0),
                       name="c4")
        return net, {**pops, "ro": ro}
    check(build, backend, {"inp": examples(3)}, T, batch_size=2, outputs=["ro", "out"])


@pytest.mark.parametrize("readout", ["spike_count", "first_spike_time"])
def test_spike_readouts_exact(backend, readout):
    def build():
        net, pops = layered()
        with net:
            ro = Population(LeakyIntegrateFire(v_thresh=0.5, tau_mem=10.0, readout=readout),
                            6, name="ro")
            Connection(pops["lif"], ro, Dense(dyadic((24, 6), 0.5, 25)), name="c4")
        return net, {**pops, "ro": ro}
    ref = check(build, backend, {"inp": examples(3)}, T, batch_size=2, outputs=["ro"],
                record=[spikes("ro")])
    assert total_spikes(ref) > 3


@pytest.mark.parametrize("reset_vars", [True, False])
@pytest.mark.parametrize("reset_in_syn", [False, True])
def test_batches_with_partial_last_batch_exact(backend, reset_vars, reset_in_syn):
    """7 examples in batches of 3 (the last one holds a single example); with
    reset_vars_between_batches=False state carries over from batch to batch; with
    reset_time_between_batches=False the clock keeps running (spike times grow)."""
    ref = check(layered, backend, {"inp": examples(7)}, T, batch_size=3, outputs=["out"],
                reset_vars_between_batches=reset_vars,
                reset_in_syn_between_batches=reset_in_syn,
                record=[spikes("alif"), var("alif", "V"), var("out", "V")])
    assert total_spikes(ref) > 10


def test_clock_keeps_running_between_batches_exact(backend):
    ref = check(layered, backend, {"inp": examples(4)}, T, batch_size=2, outputs=["out"],
                reset_time_between_batches=False, reset_vars_between_batches=False,
                record=[spikes("lif"), var("alif", "V")])
    assert max(t.max() for t in ref.spikes[0][0] if len(t)) >= T


@pytest.mark.parametrize("metric", ["sparse_categorical_accuracy", "mean_square_error"])
def test_evaluate_metrics_exact(backend, metric):
    x = {"inp": examples(7)}
    if metric == "mean_square_error":
        y = np.random.default_rng(40).uniform(0.0, 4.0, (7, 4))
    else:
        y = np.arange(7) % 4
    check(layered, backend, x, T, batch_size=3, labels={"out": y}, metrics=metric,
          record=[spikes("alif", example_filter=6)])


def test_dt_half_exact(backend):
    """dt = 0.5 ms: decays exp(-0.5/tau), refractory countdown in half steps."""
    # SpikeInput times are in ms: use an example built for a 40 ms presentation
    x = {"inp": [random_spikes(1, 16, 40, rate=0.3, seed=50)[0]]}
    ref = check(layered, backend, x, 80, dt=0.5, outputs=["out"],
                record=[spikes("lif"), var("lif", "RefracTime"), var("alif", "V")])
    assert total_spikes(ref) > 5


def test_one_to_one_chain_exact(backend):
    def build():
        net = Network()
        with net:
            inp = Population(BinarySpikeInput(), 8, name="inp")
            a = Population(IntegrateFire(v_thresh=1.0, tau_refrac=2.0), 8, name="a")
            b = Population(LeakyIntegrate(tau_mem=4.0, readout="max_var"), 8, name="b")
            Connection(inp, a, OneToOne(0.375), name="c0")
            Connection(a, b, OneToOne(-0.5), Exponential(2.0), name="c1")
        return net, {"inp": inp, "a": a, "b": b}
    x = {"inp": (np.arange(8) % 2).astype(float)[None, :]}
    check(build, backend, x, 30, outputs=["b"], record=[spikes("a"), var("b", "V")])
