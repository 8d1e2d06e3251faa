"""The language's rules for what C leaves undefined, run on every backend through the public
API (issue 17): guarded integer division and remainder, wrapping ``int`` arithmetic, shift
counts modulo 32. Each backend must give the reference's bits (and NVRTC compiles the CUDA
source); on 0cd8725 the C backend died with SIGFPE on the first division by zero."""

from __future__ import annotations

import numpy as np

from irsnn import Connection, Network, Population
from irsnn.connectivity import Dense
from irsnn.neurons import Neuron, SpikeInput
from irsnn.utils.model import NeuronModel
from irsnn.utils.value import ValueDescriptor

from ..models import random_spikes
from .conftest import check, var

INT_CODE = """
const int k = Count - 3;
Q = (int)(V * 1000.0f) / k + Count / (Count - Count);
R = (Count * 7919) % k + Count % (k - k) + (-2147483647 - 1) % (k - k - 1);
S = ((k * 100003) << (Count - 5)) + ((k * 100003) >> (k * 11)) + (2147483647 + Count);
W = (W * 2654435761u + (unsigned int)Count) / (unsigned int)(Count % 4);
W %= (unsigned int)(Count % 3);
W = W << (unsigned int)(k * 9);
Count++;
V = (0.5f * V) + Isyn;
"""


class IntRules(Neuron):
    """A neuron whose sim code divides by zero, by -1, shifts by out-of-range counts and
    overflows ``int`` on some timesteps."""

    v = ValueDescriptor("V")

    def __init__(self, readout=None):
        super().__init__(readout=readout)
        self.v = 0.0

    def get_model(self, population, dt, batch_size):
        model = {"vars": [("V", "scalar"), ("Count", "int"), ("Q", "int"), ("R", "int"),
                          ("S", "int"), ("W", "unsigned int")],
                 "sim_code": INT_CODE, "threshold_condition_code": "V >= 1.0",
                 "reset_code": "V = 0.0;"}
        return NeuronModel.from_val_descriptors(model, "V", self, dt,
                                                var_vals={"Count": 0, "Q": 0, "R": 0, "S": 0,
                                                          "W": 1})


def _build():
    net = Network()
    rng = np.random.default_rng(3)
    with net:
        inp = Population(SpikeInput(max_spikes=1000), 8, name="inp")
        pop = Population(IntRules(readout="spike_count"), 6, name="pop")
        Connection(inp, pop, Dense(rng.integers(-2, 6, (8, 6)) * 0.125), name="c")
    return net, {"inp": inp, "pop": pop}


def test_integer_rules_agree_on_every_backend(backend):
    x = {"inp": random_spikes(2, 8, 12, rate=0.3, seed=4)}
    ref = check(_build, backend, x, 12, batch_size=2, outputs=["pop"],
                record=[var("pop", n) for n in ("Q", "R", "S", "W", "Count")])
    q = np.concatenate(ref.vars[0])
    assert q.shape[0] > 0 and np.any(q != 0)
