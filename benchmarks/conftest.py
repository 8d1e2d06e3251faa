"""Shared fixtures for the benchmarks: the mlGeNN paper's DVS-Gesture-sized network.

2048 spike inputs (DVS-Gesture-like: sparse random spike trains, generated with NumPy, no
downloads) -> 512 recurrent adaptive LIF neurons (Dense input and recurrent weights, Normal
initialisers scaled by 1/sqrt(fan-in) as in mlGeNN's e-prop examples) -> 11 leaky integrators
read out with ``sum_var``.
"""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.connectivity import Dense
from irsnn.initializers import Normal
from irsnn.neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrate, SpikeInput
from irsnn.utils.data import preprocess_spikes

NUM_INPUT, NUM_HIDDEN, NUM_OUTPUT = 2048, 512, 11
#: timesteps each example runs for in one benchmark round (1 ms each)
TIMESTEPS = 100
#: fraction of inputs active per ms (~20 Hz per input)
INPUT_ACTIVITY = 0.02


def build_network():
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=32 * NUM_INPUT * TIMESTEPS // 10), NUM_INPUT)
        hidden = Population(AdaptiveLeakyIntegrateFire(v_thresh=0.6, tau_mem=20.0,
                                                       tau_refrac=5.0, tau_adapt=2000.0,
                                                       beta=0.0174, relative_reset=True),
                            NUM_HIDDEN)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), NUM_OUTPUT)
        Connection(inp, hidden, Dense(Normal(0.0, 1.0 / np.sqrt(NUM_INPUT))))
        Connection(hidden, hidden, Dense(Normal(0.0, 1.0 / np.sqrt(NUM_HIDDEN))))
        Connection(hidden, out, Dense(Normal(0.0, 1.0 / np.sqrt(NUM_HIDDEN))))
    return net, inp, hidden, out


def make_examples(num, seed=0):
    """``num`` DVS-like examples: each input spikes at a given step with INPUT_ACTIVITY."""
    rng = np.random.default_rng(seed)
    examples = []
    for _ in range(num):
        # a slowly varying "event rate" per input, as a moving hand would give
        gain = rng.gamma(2.0, 0.5, NUM_INPUT)
        p = np.clip(INPUT_ACTIVITY * gain, 0.0, 1.0)
        mask = rng.random((TIMESTEPS, NUM_INPUT)) < p[None, :]
        steps, ids = np.nonzero(mask)
        examples.append(preprocess_spikes(steps.astype(np.float64), ids, NUM_INPUT))
    return examples


@pytest.fixture(scope="module")
def network():
    return build_network()
