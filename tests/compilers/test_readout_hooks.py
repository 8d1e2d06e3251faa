"""AvgVarExpWeight against NumPy, and mlGeNN's readout extension hooks: a Readout subclass
written with ``add_readout_logic``/``get_readout`` works, and built-in readouts answer
``add_readout_logic`` as mlGeNN's do."""

from __future__ import annotations

from copy import deepcopy

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.callbacks import VarRecorder
from irsnn.compilers import InferenceCompiler
from irsnn.connectivity import Dense
from irsnn.errors import ModelError
from irsnn.neurons import LeakyIntegrate, PoissonInput
from irsnn.readouts import AvgVarExpWeight, Readout, SumVar, default_readouts

T = 12


def _network(readout):
    net = Network()
    with net:
        a = Population(PoissonInput(), 6, name="inp")
        b = Population(LeakyIntegrate(tau_mem=10.0, readout=readout), 3, name="out")
        Connection(a, b, Dense(np.random.default_rng(1).normal(size=(6, 3))))
    return net, a, b


@pytest.mark.parametrize("reset_time", [True, False])
def test_avg_var_exp_weight_matches_numpy(reset_time):
    net, a, b = _network("avg_var_exp_weight")
    compiler = InferenceCompiler(evaluate_timesteps=T, batch_size=2, dt=0.5,
                                 reset_time_between_batches=reset_time, backend="reference")
    x = np.random.default_rng(2).uniform(0.0, 0.5, (4, 6))
    preds, cb = compiler.compile(net).predict({a: x}, [b],
                                              callbacks=[VarRecorder(b, "V", key="v")])
    weights = np.exp(-np.arange(T) * 0.5 / (T * 0.5)) / T
    expect = np.array([weights @ np.asarray(v) for v in cb["v"]])
    np.testing.assert_allclose(preds[b], expect, rtol=1e-5, atol=1e-6)
    assert isinstance(default_readouts["avg_var_exp_weight"](), AvgVarExpWeight)


SEEN = []


class PeakReadout(Readout):
    """A readout written only with mlGeNN's hooks: the largest V, times a factor."""

    def __init__(self, factor):
        self.factor = factor

    def add_readout_logic(self, model, **kwargs):
        SEEN.append(kwargs)
        out = model.output_var_name
        copy = deepcopy(model)
        copy.add_var(out + "Peak", "scalar", -np.inf)
        copy.append_sim_code(f"{out}Peak = fmax({out}Peak, {out});")
        return copy

    def get_readout(self, genn_pop, batch_size, shape):
        var = genn_pop.vars["VPeak"]
        var.pull_from_device()
        return self.factor * np.reshape(var.view, (batch_size,) + shape)


def test_user_readout_with_mlgenn_hooks_matches_max_var():
    x = np.random.default_rng(3).uniform(0.0, 0.5, (3, 6))
    outs = []
    peak = PeakReadout(2.0)
    for readout in (peak, "max_var"):
        net, a, b = _network(readout)
        compiled = InferenceCompiler(evaluate_timesteps=T, batch_size=3,
                                     backend="reference").compile(net)
        outs.append(compiled.predict({a: x}, [b], callbacks=[])[0][b])
    np.testing.assert_allclose(outs[0], 2.0 * outs[1], rtol=1e-6)
    assert SEEN[-1] == {"example_timesteps": T, "dt": 1.0}


def test_builtin_readouts_answer_add_readout_logic():
    pop = Population.__new__(Population)   # get_model of LeakyIntegrate ignores it
    model = LeakyIntegrate(tau_mem=10.0).get_model(pop, 1.0, 1)
    with_sum = SumVar().add_readout_logic(model, example_timesteps=5, dt=1.0)
    assert ("VSum", "scalar", "readwrite") in with_sum.model["vars"]
    assert with_sum.model["sim_code"].strip().endswith("VSum += V;")
    assert "VSum" not in str(model.model)   # a copy: the original is unchanged
    assert SumVar().reset_vars == []


def test_mlgenn_style_readout_errors_name_the_problem():
    class Broken(PeakReadout):
        def add_readout_logic(self, model, **kwargs):
            return None

    class Rewrites(PeakReadout):
        def add_readout_logic(self, model, **kwargs):
            copy = deepcopy(model)
            copy.model = dict(copy.model, sim_code="V = 0.0;")
            return copy

    for cls, match in ((Broken, "returned None"), (Rewrites, "may only append code")):
        net, _, _ = _network(cls(1.0))
        with pytest.raises(ModelError, match=match):
            InferenceCompiler(evaluate_timesteps=T, backend="reference").compile(net)

    class Nothing(Readout):
        pass

    net, a, b = _network(Nothing())
    compiled = InferenceCompiler(evaluate_timesteps=T, backend="reference").compile(net)
    with pytest.raises(NotImplementedError, match="neither compute"):
        compiled.predict({a: np.zeros((1, 6))}, [b], callbacks=[])
