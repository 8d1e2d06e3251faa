"""A user-defined Readout subclass: lowered once into the IR (its accumulators and code), the
passes never import it, and the compiled network reduces with the user's own object."""

import numpy as np

from irsnn import Connection, Network, Population
from irsnn.compilers import InferenceCompiler
from irsnn.connectivity import Dense
from irsnn.ir import ReadoutSpec, from_json, to_json
from irsnn.neurons import LeakyIntegrate, PoissonInput
from irsnn.readouts import Readout


class ScaledPeak(Readout):
    """The largest value of the output variable times ``scale`` (a constructor argument, so
    the readout cannot be rebuilt from its class name alone)."""

    def __init__(self, scale):
        self.scale = scale

    def accumulators(self, output_var, output_type):
        return [(f"{output_var}Peak", output_type, float("-inf"))]

    def sim_code(self, output_var):
        return f"{output_var}Peak = fmax({output_var}Peak, {output_var});"

    def compute(self, values, output_var, timesteps, dt):
        return self.scale * values[f"{output_var}Peak"]


def _network(readout):
    network = Network()
    with network:
        a = Population(PoissonInput(), 6, name="inp")
        b = Population(LeakyIntegrate(tau_mem=10.0, readout=readout), 3, name="out")
        Connection(a, b, Dense(np.random.default_rng(1).normal(size=(6, 3))))
    return network, a, b


def test_user_readout_is_lowered_into_the_ir_and_round_trips():
    network, _, _ = _network(ScaledPeak(2.0))
    compiler = InferenceCompiler(evaluate_timesteps=10, batch_size=2)
    lowered = compiler.lower(network, "user_readout")
    spec = lowered.node("pop.out").readout
    assert isinstance(spec, ReadoutSpec)
    assert spec.kind == f"{__name__}:ScaledPeak"
    assert [v.name for v in spec.vars] == ["VPeak"] and spec.vars[0].init.value == -np.inf
    assert spec.sim_code == "VPeak = fmax(VPeak, V);" and not spec.needs_spikes
    assert from_json(to_json(lowered), lowered.arrays) == lowered
    g = compiler.build_ir(network)
    assert g.node("readout.out").accumulators == ("VPeak",)
    assert "VPeak = fmax(VPeak, V);" in g.node("pop.out").sim_code
    assert from_json(to_json(g), g.arrays) == g


def test_user_readout_matches_the_builtin_it_scales():
    x = np.random.default_rng(2).uniform(0.0, 0.5, (4, 6))
    outs = []
    for readout in (ScaledPeak(2.0), "max_var"):
        network, a, b = _network(readout)
        net = InferenceCompiler(evaluate_timesteps=15, batch_size=2).compile(network)
        with net:
            y, _ = net.predict({a: x}, b, callbacks=[])
        outs.append(y[b])
    np.testing.assert_array_equal(outs[0], 2.0 * outs[1])
