"""The language's rules for what C leaves undefined, run on every backend through the public
API (issue 17): guarded integer division and remainder, wrapping ``int`` arithmetic, shift
counts modulo 32. Each backend must give the reference's bits (and NVRTC compiles the CUDA
source); on 0cd8725 the C backend died with SIGFPE on the first division by zero."""

from __future__ import annotations

import numpy as np
import pytest

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


LOOP_CODE = """
int n = 0;
while (n < Steps) { n++; }
Count += n;
for (int j = 0; j < Count; j += 0) { }
V = (0.5f * V) + Isyn;
"""


class Spinner(Neuron):
    """Counts ``Steps`` iterations every timestep, then its second loop never ends once
    ``Count`` is positive (``Steps`` 0: no spin, the run is fine)."""

    v = ValueDescriptor("V")

    def __init__(self, steps, readout=None):
        super().__init__(readout=readout)
        self.v = 0.0
        self.steps = steps

    def get_model(self, population, dt, batch_size):
        model = {"vars": [("V", "scalar"), ("Count", "int")], "params": [("Steps", "int")],
                 "sim_code": LOOP_CODE, "threshold_condition_code": "V >= 1.0",
                 "reset_code": "V = 0.0;"}
        return NeuronModel.from_val_descriptors(model, "V", self, dt,
                                                param_vals={"Steps": self.steps},
                                                var_vals={"Count": 0})


def _spinner(steps):
    def build():
        net = Network()
        with net:
            inp = Population(SpikeInput(max_spikes=100), 3, name="inp")
            pop = Population(Spinner(steps, readout="spike_count"), 4, name="spin")
            Connection(inp, pop, Dense(0.5), name="c")
        return net, {"inp": inp, "pop": pop}
    return build


@pytest.mark.slow
def test_a_loop_past_the_bound_stops_every_backend_with_the_reference_error(backend,
                                                                          monkeypatch):
    import irsnn.lang.limits as limits
    from irsnn.lang import LangError
    from .conftest import run_case
    monkeypatch.setattr(limits, "MAX_LOOP_ITERATIONS", 1000)
    x = {"inp": random_spikes(2, 3, 6, rate=0.3, seed=5)}
    # 1000 iterations of the first loop per step are fine; 0 keeps the second loop off
    fine = check(_spinner(0), backend, x, 6, batch_size=2, outputs=["pop"],
                 record=[var("pop", "Count")])
    assert np.all(np.concatenate(fine.vars[0]) == 0)
    errors = []
    for steps in (1000, 1001):   # the second loop spins; then the first one does
        with pytest.raises(LangError) as info:
            run_case(_spinner(steps), backend, x, 6, batch_size=2, outputs=["pop"])
        errors.append(str(info.value))
    assert "Population 'spin'" in errors[0] and "sim_code, line 5, column 1" in errors[0]
    assert "sim_code, line 3, column 1" in errors[1] and "ran 1000 iterations" in errors[1]
