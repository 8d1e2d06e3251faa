"""EventProp learns a real task: scikit-learn's digits, latency coded (slow).

64 inputs -> 128 LIF -> 10 LeakyIntegrate (``avg_var``), mlGeNN's EventProp defaults,
exponential synapses; one epoch on the 1437 training examples must reach 70% on the 360 test
examples from chance (measured: 78.6%). The full setup (``irsnn train --dataset digits --compiler
eventprop``: 128 hidden neurons, 1437 training examples, 20 epochs) is reported in
``docs/eventprop.md``.
"""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.compilers import EventPropCompiler
from irsnn.compilers.event_prop_compiler import default_params
from irsnn.connectivity import Dense
from irsnn.initializers import Normal
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.optimisers import Adam
from irsnn.synapses import Exponential


@pytest.mark.slow
def test_eventprop_learns_digits():
    from irsnn.datasets import load_digits
    data = load_digits()
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=32 * data.max_spikes), 64)
        hid = Population(LeakyIntegrateFire(tau_mem=20.0), 128)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="avg_var"), 10)
        Connection(inp, hid, Dense(Normal(mean=0.312, sd=0.18)), Exponential(5.0))
        Connection(hid, out, Dense(Normal(mean=0.2, sd=0.4)), Exponential(5.0))
    compiler = EventPropCompiler(30,
                                 "sparse_categorical_crossentropy", optimiser=Adam(0.01),
                                 batch_size=32, rng_seed=1, backend="reference")
    with compiler.compile(net) as cn:
        before, _ = cn.evaluate({inp: data.test_x}, {out: data.test_y}, callbacks=[])
        cn.train({inp: data.train_x}, {out: data.train_y}, num_epochs=1, callbacks=[])
        after, _ = cn.evaluate({inp: data.test_x}, {out: data.test_y}, callbacks=[])
    assert before[out].result < 0.3
    assert after[out].result >= 0.7, after[out].result
    assert np.isfinite(cn.simulation.get_weights(net.connections[0].name)).all()
