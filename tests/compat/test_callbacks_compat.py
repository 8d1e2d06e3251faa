"""Callbacks as mlGeNN scripts write and use them: ``set_params(data=..., compiled_network=...)``,
data keys, ``VarRecorder(genn_var=...)``, ``ConnVarRecorder``, the ``CustomUpdateOn...``
callbacks, ``compiled_network.optimisers`` and the progress bar's postfix."""

import numpy as np
import pytest

from irsnn import InputLayer, Layer, SequentialNetwork
from irsnn.callbacks import (BatchProgressBar, Callback, ConnVarRecorder,
                             CustomUpdateOnBatchEnd, CustomUpdateOnEpochBegin,
                             CustomUpdateOnLastTimestep, CustomUpdateOnTimestepEnd, VarRecorder)
from irsnn.compilers import EPropCompiler, InferenceCompiler
from irsnn.connectivity import Dense
from irsnn.errors import DuplicateKeyError, IrsnnWarning, ModelError, UnknownNameError
from irsnn.neurons import BinarySpikeInput, LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.utils.callback_list import CallbackList

from ..models import random_spikes

T = 6


def _bias_net():
    """Binary input -> LI with bias 1 (V_t = a V_{t-1} + 1 without input), sum readout."""
    net = SequentialNetwork()
    with net:
        inp = InputLayer(BinarySpikeInput(), 3)
        out = Layer(Dense(np.arange(6.0).reshape(3, 2) / 8), LeakyIntegrate(
            bias=1.0, tau_mem=10.0, readout="sum_var"), 2)
    return net, inp, out


def _evaluate(callbacks, batch_size=1, n=2, x=None):
    net, inp, out = _bias_net()
    compiled = InferenceCompiler(evaluate_timesteps=T, batch_size=batch_size,
                                 backend="reference").compile(net)
    x = np.zeros((n, 3)) if x is None else x
    with compiled:
        _, cb = compiled.evaluate({inp: x}, {out: np.zeros(n, int)}, callbacks=callbacks)
    return compiled, inp, out, cb


class _MlgennStyle(Callback):
    """Written as for mlGeNN: keeps what it records in the shared ``data`` dict."""

    def __init__(self, key):
        self.key = key

    def set_params(self, data, compiled_network, num_batches, **kwargs):
        data[self.key] = {"batches": num_batches, "ends": []}
        self._data = data[self.key]
        self._net = compiled_network

    def on_batch_end(self, batch, metrics):
        self._data["ends"].append(batch)


def test_set_params_gets_data_compiled_network_and_num_batches():
    compiled, *_ = _evaluate([_MlgennStyle("a")], n=3)
    cbs = CallbackList([_MlgennStyle("k")], compiled_network=compiled, num_batches=4)
    assert cbs.data == {"k": {"batches": 4, "ends": []}}
    assert cbs[0]._net is compiled


def test_missing_key_warns_and_duplicate_key_raises():
    class Keyed(Callback):
        def __init__(self, key):
            self.key = key

        def get_data(self):
            return self.key, 1

    with pytest.warns(IrsnnWarning, match=r"Keyed \(callback 1\) gave no data key.*key 1"):
        assert CallbackList([Keyed("a"), Keyed(None)]).get_data() == {"a": 1, 1: 1}
    with pytest.raises(KeyError, match="'a', which another callback already uses") as info:
        CallbackList([Keyed("a"), Keyed("a")]).get_data()
    assert isinstance(info.value, DuplicateKeyError)


def test_var_recorder_by_genn_name_equals_attribute_name():
    net, inp, out = _bias_net()
    compiled = InferenceCompiler(evaluate_timesteps=T, backend="reference").compile(net)
    with compiled:
        _, cb2 = compiled.evaluate({inp: np.zeros((2, 3))}, {out: [0, 0]}, callbacks=[
            VarRecorder(out, genn_var="V", key="genn"), VarRecorder(out, "v", key="attr")])
    assert np.array_equal(cb2["genn"][0], cb2["attr"][0])
    a = np.exp(-1 / 10.0)
    assert cb2["genn"][0][:, 0] == pytest.approx([sum(a ** k for k in range(t + 1))
                                                  for t in range(T)], rel=1e-5)
    for kwargs in ({}, {"var": "v", "genn_var": "V"}):
        with pytest.raises(ModelError, match="exactly one of var="):
            VarRecorder(out, **kwargs)


@pytest.mark.parametrize("src, trg", [(None, None), (slice(0, None, 2), [1])])
def test_conn_var_recorder_records_weights_every_timestep(src, trg):
    net, inp, out = _bias_net()
    compiled = InferenceCompiler(evaluate_timesteps=T, batch_size=2,
                                 backend="reference").compile(net)
    with compiled:
        _, cb = compiled.evaluate({inp: np.zeros((3, 3))}, {out: [0, 0, 0]}, callbacks=[
            ConnVarRecorder(out, genn_var="g", key="w", example_filter=[0, 2],
                            src_neuron_filter=src, trg_neuron_filter=trg)])
    w = np.arange(6.0).reshape(3, 2) / 8
    want = w[src if src is not None else slice(None)][:, trg if trg is not None else slice(None)]
    assert len(cb["w"]) == 2
    for trace in cb["w"]:
        assert trace.shape == (T,) + want.shape
        assert np.array_equal(trace, np.broadcast_to(want, trace.shape))


def test_conn_var_recorder_sees_training_change_the_weights():
    net = SequentialNetwork()
    with net:
        inp = InputLayer(SpikeInput(max_spikes=200), 5)
        out = Layer(Dense(0.1), LeakyIntegrate(tau_mem=10.0, readout="sum_var"), 2)
    compiled = EPropCompiler(example_timesteps=T, losses="sparse_categorical_crossentropy",
                             batch_size=2, backend="reference").compile(net)
    with compiled:
        _, cb = compiled.train({inp: random_spikes(4, 5, T, rate=0.5)}, {out: [0, 1, 0, 1]},
                               num_epochs=1, shuffle=False,
                               callbacks=[ConnVarRecorder(out, "weight", key="w")])
        final = compiled.simulation.get_weights(out.connection().name)
    first, second = cb["w"][0], cb["w"][2]       # one example of each batch
    assert np.all(first == 0.1)                   # constant within a batch
    assert np.all(second == second[0]) and not np.allclose(second[0], 0.1)
    assert not np.allclose(second[0], final)      # the last step came after the batch


def test_conn_var_recorder_errors():
    net, inp, out = _bias_net()
    with pytest.raises(ModelError, match="cannot record 'inSyn'"):
        ConnVarRecorder(out, genn_var="inSyn")
    with pytest.raises(RuntimeError, match="an InputLayer has none"):
        ConnVarRecorder(inp, "weight")
    other_net, _, other_out = _bias_net()
    compiled = InferenceCompiler(evaluate_timesteps=T, backend="reference").compile(net)
    with pytest.raises(ModelError, match="is not part of the compiled network"):
        CallbackList([ConnVarRecorder(other_out, "weight")], compiled_network=compiled)


def test_custom_update_reset_runs_at_the_filtered_timestep():
    net, inp, out = _bias_net()
    compiled = InferenceCompiler(evaluate_timesteps=T, backend="reference").compile(net)
    with compiled:
        _, cb = compiled.evaluate({inp: np.zeros((1, 3))}, {out: [0]}, callbacks=[
            VarRecorder(out, "v", key="v"),
            CustomUpdateOnTimestepEnd("Reset", filter_fn=lambda t: t == 2)])
    v = cb["v"][0][:, 0]
    assert v[3] == pytest.approx(v[0]) and v[4] == pytest.approx(v[1])
    assert v[2] > v[1] > v[0]


def test_custom_update_on_last_timestep():
    net, inp, out = _bias_net()
    compiled = InferenceCompiler(evaluate_timesteps=T, backend="reference").compile(net)
    with compiled:
        _, cb = compiled.evaluate({inp: np.zeros((1, 3))}, {out: [0]}, callbacks=[
            VarRecorder(out, "v", key="v"), CustomUpdateOnLastTimestep("Reset", T)])
    v = cb["v"][0][:, 0]
    assert v[-1] == pytest.approx(v[0]) and v[-2] > v[0]
    with pytest.raises(ModelError, match="example_timesteps=0 must be an integer >= 1"):
        CustomUpdateOnLastTimestep("Reset", 0)


def _train(extra_callbacks):
    net = SequentialNetwork()
    with net:
        inp = InputLayer(SpikeInput(max_spikes=200), 5)
        out = Layer(Dense(0.1), LeakyIntegrate(tau_mem=10.0, readout="sum_var"), 2)
    compiled = EPropCompiler(example_timesteps=T, losses="sparse_categorical_crossentropy",
                             batch_size=2, backend="reference").compile(net)
    with compiled:
        compiled.train({inp: random_spikes(4, 5, T, rate=0.5)}, {out: [0, 1, 0, 1]},
                       num_epochs=2, shuffle=False, callbacks=extra_callbacks)
        return compiled, compiled.simulation.get_weights(out.connection().name)


def test_custom_update_gradient_learn_runs_optimiser_steps():
    epochs_seen = []
    base_net, base = _train([])
    net, w = _train([CustomUpdateOnBatchEnd("GradientLearn", filter_fn=lambda b: b == 0),
                     CustomUpdateOnEpochBegin("Reset", filter_fn=epochs_seen.append)])
    assert epochs_seen == [0, 1]
    assert net.optimiser_step == base_net.optimiser_step + 2     # one extra per epoch
    assert not np.allclose(w, base)


def test_unknown_custom_update_is_named_before_the_run():
    net, inp, out = _bias_net()
    compiled = InferenceCompiler(evaluate_timesteps=T, backend="reference").compile(net)
    with pytest.raises(UnknownNameError, match=r"'GradientLearn' does not exist.*\['Reset'\]"):
        CallbackList([CustomUpdateOnBatchEnd("GradientLearn")], compiled_network=compiled)
    with pytest.raises(ModelError, match="filter_fn=3 must be a callable"):
        CustomUpdateOnBatchEnd("Reset", filter_fn=3)


def test_optimisers_in_mlgenn_form_drive_a_schedule():
    class Halve(Callback):   # mlGeNN's OptimiserParamSchedule pattern
        def set_params(self, compiled_network, **kwargs):
            self._opts = [o for o, _ in compiled_network.optimisers]

        def on_epoch_begin(self, epoch):
            for o in self._opts:
                o.alpha = o.alpha / 2

    net, _ = _train([Halve()])
    (opt, targets), = net.optimisers
    assert opt is net.optimiser and opt.alpha == pytest.approx(0.001 / 4)
    assert sorted(targets) == ["pop.Pop1/Bias", "syn.Pop0->Pop1"]


def test_progress_bar_postfix_names_the_metric(capsys):
    _evaluate([BatchProgressBar()])
    err = capsys.readouterr().err
    assert "SparseCategoricalAccuracy: 1.0000" in err and "Layer object" not in err


def test_lif_defaults_unchanged_by_callbacks_module():
    # the callbacks module must not leak network defaults (a regression guard for imports)
    assert LeakyIntegrateFire().relative_reset is True
