"""User custom updates as mlGeNN writes them: a CustomUpdateModel over variable references,
added to a compiled network in a group (``compiled_net.add_custom_update`` or the compiler's
``add_custom_update(genn_model, model, group, name)``) and run by name from the
``CustomUpdateOn...`` callbacks; what irsnn cannot run is refused with a message."""

import numpy as np
import pytest

from irsnn import InputLayer, Layer, SequentialNetwork
from irsnn.callbacks import CustomUpdateOnBatchEnd, CustomUpdateOnTimestepEnd, VarRecorder
from irsnn.compilers import InferenceCompiler
from irsnn.connectivity import Dense
from irsnn.errors import ModelError, UnknownNameError
from irsnn.neurons import BinarySpikeInput, LeakyIntegrate
from irsnn.utils.model import CustomConnectivityUpdateModel, CustomUpdateModel

T = 6


def _compiled(backend="reference", batch_size=1):
    """Binary input -> LI with bias 1 (affine V_{t+1} = a V_t + c without input)."""
    net = SequentialNetwork()
    with net:
        inp = InputLayer(BinarySpikeInput(), 3)
        out = Layer(Dense(np.arange(6.0).reshape(3, 2) / 8), LeakyIntegrate(
            bias=1.0, tau_mem=10.0, readout="sum_var"), 2)
    compiler = InferenceCompiler(evaluate_timesteps=T, batch_size=batch_size, backend=backend)
    return compiler, compiler.compile(net), inp, out


def _scale(ref, factor=None):
    """``ref *= Factor`` with Factor a dynamic parameter (set before running) or fixed."""
    model = CustomUpdateModel({"params": [("Factor", "scalar")],
                               "var_refs": [("X", "scalar")],
                               "update_code": "X *= Factor;"},
                              param_vals={"Factor": 1.0 if factor is None else factor},
                              var_refs={"X": ref})
    if factor is None:
        model.set_param_dynamic("Factor")
    return model


@pytest.mark.parametrize("backend", ["reference", "c"])
def test_population_update_runs_at_the_filtered_timestep(backend):
    _, base, inp, out = _compiled(backend)
    with base:
        _, cb = base.evaluate({inp: np.zeros((1, 3))}, {out: [0]},
                              callbacks=[VarRecorder(out, "v", key="v")])
    v = cb["v"][0][:, 0]
    a = (v[2] - v[1]) / (v[1] - v[0])
    c = v[1] - a * v[0]
    compiler, compiled, inp, out = _compiled(backend)
    with compiled:
        halve = compiler.add_custom_update(compiled.genn_model,
                                           _scale((out, "V")), "Halve", "halve_out")
        halve.set_dynamic_param_value("Factor", 0.5)
        _, cb = compiled.evaluate({inp: np.zeros((1, 3))}, {out: [0]}, callbacks=[
            VarRecorder(out, "v", key="v"),
            CustomUpdateOnTimestepEnd("Halve", filter_fn=lambda t: t == 2)])
    w = cb["v"][0][:, 0]
    np.testing.assert_allclose(w[:3], v[:3], rtol=1e-6)
    np.testing.assert_allclose(w[3], a * (0.5 * v[2]) + c, rtol=1e-5)


def test_connection_update_runs_after_every_batch():
    _, compiled, inp, out = _compiled()
    conn = out.connection()
    with compiled:
        w0 = compiled.connection_populations[conn].vars["g"].values
        compiled.add_custom_update(_scale(compiled.connection_populations[conn].vars["g"],
                                          0.5), "Decay")
        compiled.evaluate({inp: np.zeros((3, 3))}, {out: [0, 0, 0]},
                          callbacks=[CustomUpdateOnBatchEnd("Decay")])
        np.testing.assert_allclose(compiled.connection_populations[conn].vars["g"].values,
                                   w0 * 0.5 ** 3, rtol=1e-6)


def test_update_code_sees_id_and_batch_and_keeps_its_state():
    _, compiled, inp, out = _compiled(batch_size=2)
    model = CustomUpdateModel({"vars": [("Count", "scalar")], "var_refs": [("X", "scalar")],
                               "update_code": "Count += 1.0;\nX = (scalar)(id + (10 * batch)) "
                                              "+ (100.0 * Count);"},
                              var_vals={"Count": 0.0}, var_refs={"X": (out, "V")})
    with compiled:
        compiled.evaluate({inp: np.zeros((2, 3))}, {out: [0, 0]}, callbacks=[])
        compiled.add_custom_update(model, "Fill")
        compiled.genn_model.custom_update("Fill")
        compiled.genn_model.custom_update("Fill")
        np.testing.assert_array_equal(compiled.neuron_populations[out].vars["V"].values,
                                      [[200, 201], [210, 211]])


def test_what_irsnn_cannot_run_is_refused():
    compiler, compiled, inp, out = _compiled()
    conn = out.connection()
    reduce = CustomUpdateModel({"vars": [("S", "scalar", "REDUCE_BATCH_SUM")],
                                "var_refs": [("X", "scalar")], "update_code": "S = X;"},
                               var_vals={"S": 0.0}, var_refs={"X": (out, "V")})
    with pytest.raises(ModelError, match=r"variable 'S' has access 'REDUCE_BATCH_SUM', a "
                                         r"reduction.*reduce with NumPy in a callback"):
        compiled.add_custom_update(reduce, "Sum")
    mixed = CustomUpdateModel({"var_refs": [("X", "scalar"), ("G", "scalar")],
                               "update_code": "X = 0.0;"},
                              var_refs={"X": (out, "V"), "G": (conn, "g")})
    with pytest.raises(ModelError, match=r"different shapes.*one update per shape"):
        compiled.add_custom_update(mixed, "Mixed")
    with pytest.raises(ModelError, match=r"'Reset' names one of the custom updates irsnn runs"):
        compiled.add_custom_update(_scale((out, "V"), 0.5), "Reset")
    with pytest.raises(ModelError, match=r"pass compiled_net.genn_model"):
        compiler.add_custom_update(None, _scale((out, "V"), 0.5), "G", "g")
    bad = CustomUpdateModel({"var_refs": [("X", "scalar")], "update_code": "X = Y;"},
                            var_refs={"X": (out, "V")})
    with pytest.raises(Exception, match=r"Y"):
        compiled.add_custom_update(bad, "Bad")
    with pytest.raises(UnknownNameError, match=r"'Nope' does not exist"):
        compiled.genn_model.custom_update("Nope")
    ccu = CustomConnectivityUpdateModel({"row_update_code": "for_each_synapse { }"})
    with pytest.raises(ModelError, match=r"no user custom connectivity updates.*Deep-R"):
        compiler.add_custom_connectivity_update(compiled.genn_model, ccu, conn, "Rewire", "r")
