"""What mlGeNN scripts use GeNN for: timers on ``compiled_net.genn_model``, variables read and
written mid-run (``neuron_populations[pop].vars[...]``, ``connection_populations``), and GeNN's
backend names."""

import numpy as np
import pytest

from irsnn import InputLayer, Layer, SequentialNetwork
from irsnn.backends import GENN_BACKEND_ALIASES, available_backends, get_backend
from irsnn.callbacks import Callback, VarRecorder
from irsnn.compilers import EPropCompiler, InferenceCompiler
from irsnn.connectivity import Dense
from irsnn.errors import BackendError, UnknownNameError
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput

from ..models import random_spikes

T = 8
HAVE_C = available_backends()["c"][0]


def _net(softmax=False):
    net = SequentialNetwork()
    with net:
        inp = InputLayer(SpikeInput(max_spikes=200), 5)
        hid = Layer(Dense(0.3), LeakyIntegrateFire(v_thresh=0.5, tau_mem=10.0), 4)
        out = Layer(Dense(0.2), LeakyIntegrate(tau_mem=10.0, readout="sum_var",
                                               softmax=softmax), 2)
    return net, inp, hid, out


def _trained(backend, profiling=True):
    net, inp, hid, out = _net(softmax=True)
    compiled = EPropCompiler(example_timesteps=T, losses="sparse_categorical_crossentropy",
                             batch_size=2, backend=backend,
                             kernel_profiling=profiling).compile(net)
    with compiled:
        compiled.train({inp: random_spikes(4, 5, T, rate=0.4)}, {out: [0, 1, 0, 1]},
                       num_epochs=1, callbacks=[])
    return compiled


def test_timers_need_kernel_profiling():
    model = _trained("reference", profiling=False).genn_model
    with pytest.raises(BackendError, match="only measured when the compiler is given "
                                           "kernel_profiling=True"):
        _ = model.neuron_update_time


@pytest.mark.parametrize("backend", ["reference"] + (["c"] if HAVE_C else []))
def test_timers_sum_the_measured_kernel_phases(backend):
    compiled = _trained(backend)
    model, times = compiled.genn_model, compiled.kernel_times

    def total(*prefixes):
        return sum(v for k, v in times.items() if k.startswith(prefixes))

    assert model.neuron_update_time == pytest.approx(total("neuron:", "loss:"))
    assert model.presynaptic_update_time == pytest.approx(total("propagate:"))
    assert model.neuron_update_time > 0 and model.presynaptic_update_time > 0
    assert model.synapse_dynamics_time == pytest.approx(
        total("learn", "feedback", "columns:", "backward:"))
    assert model.get_custom_update_time("GradientBatchReduce") == times["end-of-example"] > 0
    for name in ("Reset", "GradientLearn", "Softmax1"):
        assert model.get_custom_update_time(name) == compiled.custom_update_times[
            "Softmax" if name == "Softmax1" else name] > 0
    assert model.get_custom_update_time("Softmax2") == 0.0
    # EventProp scripts ask for the batch softmax by mlGeNN's EventProp names
    assert model.get_custom_update_time("BatchSoftmax1") == compiled.custom_update_times[
        "Softmax"]
    assert model.get_custom_update_time("BatchSoftmax3") == 0.0
    # EventProp's reductions happen inside the end-of-example pass (yin_yang.py prints them)
    assert model.get_custom_update_time("TTFSReduce") == 0.0
    assert model.get_custom_update_time("SpikeCountReduce") == 0.0
    with pytest.raises(KeyError, match="no custom update 'CUTTFSReduce0'") as info:
        model.get_custom_update_time("CUTTFSReduce0")
    assert isinstance(info.value, UnknownNameError)
    assert model.batch_size == 2 and model.dt == 1.0 and model.timestep == T


class _ZeroHiddenAt(Callback):
    """Set the hidden population's V to 0.4 at the end of timestep ``step`` (pull, edit, push);
    what it pulled goes to ``before`` (a list: callbacks are copied, as in mlGeNN)."""

    def __init__(self, pop, step):
        self.pop, self.step, self.before = pop, step, []

    def set_params(self, compiled_network, **kwargs):
        self.net = compiled_network

    def on_timestep_end(self, timestep):
        if timestep == self.step:
            v = self.net.neuron_populations[self.pop].vars["V"]
            v.pull_from_device()
            self.before.append(v.view.copy())
            v.view[:] = 0.4
            v.push_to_device()


def test_population_variables_read_and_written_mid_run():
    net, inp, hid, out = _net()
    compiled = InferenceCompiler(evaluate_timesteps=T, backend="reference").compile(net)
    x = {inp: random_spikes(1, 5, T, rate=0.0)}     # no input: V decays from its value
    edit = _ZeroHiddenAt(hid, 2)
    with compiled:
        # start from V = 0.4 everywhere, written through the pygenn-style view
        compiled.neuron_populations[hid].vars["V"].values = 0.4
        compiled.genn_model.custom_update("Reset")      # the reset puts V back to 0
        assert np.all(compiled.neuron_populations["Pop1"].vars["V"].values == 0.0)
        _, cb = compiled.evaluate(x, {out: [0]}, callbacks=[
            VarRecorder(hid, "v", key="v"), edit])
    v = cb["v"][0]
    assert np.array_equal(edit.before[0], v[2][None, :])   # pulled = what was recorded
    a = np.exp(-1 / 10.0)     # no input, below threshold: V decays from the value written
    assert np.all(v[:3] == 0.0)
    assert v[3:] == pytest.approx(np.outer(0.4 * a ** np.arange(1, T - 2), np.ones(4)),
                                  rel=1e-5)
    with pytest.raises(KeyError, match=r"Population 'Pop1' has no variable 'U'; it has"):
        compiled.neuron_populations[hid].vars["U"]


def test_connection_weights_written_from_a_callback():
    class Silence(Callback):
        def set_params(self, compiled_network, **kwargs):
            self.net = compiled_network

        def on_batch_begin(self, batch):
            if batch == 1:
                g = self.net.connection_populations[out].vars["g"]
                g.view[:] = 0.0
                g.push_to_device()

    net, inp, hid, out = _net()
    compiled = InferenceCompiler(evaluate_timesteps=T, backend="reference").compile(net)
    x = {inp: random_spikes(2, 5, T, rate=0.6)}
    with compiled:
        y = compiled.predict(x, [out], callbacks=[Silence()])[0][out]
    assert np.any(y[0] != 0.0) and np.all(y[1] == 0.0)
    assert np.all(compiled.simulation.get_weights(out.connection().name) == 0.0)
    with pytest.raises(RuntimeError, match="is not a connection of this network"):
        compiled.connection_populations["nope"]


def test_genn_backend_names_are_aliases():
    assert GENN_BACKEND_ALIASES == {"SingleThreadedCPU": "c", "CUDA": "cuda",
                                    "OpenCL": "opencl"}
    with pytest.raises(KeyError, match=r"unknown backend 'HIP'.*GeNN's names"):
        get_backend("HIP")
    if HAVE_C:
        assert type(get_backend("SingleThreadedCPU")) is type(get_backend("c"))
        net, inp, hid, out = _net()
        compiled = InferenceCompiler(evaluate_timesteps=T,
                                     backend="SingleThreadedCPU").compile(net)
        assert compiled.genn_model.backend_name == type(get_backend("c")).__name__


def test_fused_backend_time_is_reported_as_neuron_update_time():
    # CUDA and OpenCL time their one fused kernel as "run" (no GPU needed to check the mapping)
    from types import SimpleNamespace

    from irsnn.compilers.genn_model import GeNNModelView
    net = SimpleNamespace(compiler=SimpleNamespace(dt=1.0, kernel_profiling=True),
                          simulation=SimpleNamespace(kernel_times={"run": 2.5}),
                          custom_update_times={}, batch_size=1)
    model = GeNNModelView(net)
    assert model.neuron_update_time == 2.5
    assert model.presynaptic_update_time == 0.0 == model.synapse_dynamics_time
