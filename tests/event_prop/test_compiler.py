"""EventPropCompiler: mlGeNN's signature and defaults, compile-time refusals with reasons, the
IR the ``insert-eventprop`` pass builds, spike-buffer overflow, sparse connectivity."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.cli import main
from irsnn.compilers import EventPropCompiler
from irsnn.compilers.event_prop_compiler import default_params
from irsnn.connectivity import Dense, FixedProbability
from irsnn.errors import InputError, IrsnnError, ModelError
from irsnn.ir import EventPropState, LossNode, OptimiserNode, to_text
from irsnn.losses import RelativeMeanSquareError
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, PoissonInput, SpikeInput
from irsnn.synapses import Delta, Exponential
from irsnn.utils.data import preprocess_spikes

from .discrete_reference import Model


def network(*, hidden=None, out=None, syn_in=None, syn_out=None, delay=0, inp=None,
            conn=None, recurrent=True):
    net = Network(default_params)
    with net:
        i = Population(inp or SpikeInput(max_spikes=50), 4, name="input")
        h = Population(hidden or LeakyIntegrateFire(), 5, name="hidden")
        o = Population(out or LeakyIntegrate(readout="sum_var"), 2, name="output")
        Connection(i, h, conn or Dense(1.0, delay=delay), syn_in or Exponential(5.0),
                   name="in_hid")
        if recurrent:
            Connection(h, h, Dense(0.1), Exponential(5.0), name="hid_hid")
        Connection(h, o, Dense(0.5), syn_out or Exponential(5.0), name="hid_out")
    return net


def compiler(**kw):
    kw.setdefault("backend", "reference")
    return EventPropCompiler(20, kw.pop("losses", "sparse_categorical_crossentropy"), **kw)


def test_signature_and_defaults_match_mlgenn():
    sig = inspect.signature(EventPropCompiler).parameters
    for name, value in (("optimiser", "adam"), ("max_spikes", 500),
                        ("strict_buffer_checking", False), ("per_timestep_loss", False),
                        ("dt", 1.0), ("ttfs_alpha", 0.01), ("softmax_temperature", 1.0),
                        ("batch_size", 1), ("rng_seed", 0), ("kernel_profiling", False),
                        ("deep_r_l1_strength", 0.01), ("delay_optimiser", None),
                        ("communicator", None)):
        assert sig[name].default == value, name
    assert list(sig)[:2] == ["example_timesteps", "losses"]
    for name in ("reg_lambda_upper", "reg_lambda_lower", "reg_nu_upper",
                 "reset_time_between_batches", "delay_learn_conns", "deep_r_conns",
                 "deep_r_record_rewirings"):
        assert name in sig
    assert default_params[LeakyIntegrateFire] == {"relative_reset": False,
                                                  "integrate_during_refrac": False,
                                                  "scale_i": True}
    assert default_params[LeakyIntegrate] == {"scale_i": True}
    assert default_params[Exponential] == {"scale_i": True}


REFUSED = {
    "delta synapses": (dict(syn_in=Delta()), {}, "Exponential synapses"),
    "ttfs output with mse": (dict(out=LeakyIntegrateFire(readout="first_spike_time")),
                             dict(losses="mean_square_error"), "readout 'first_spike_time' "
                             "with loss 'mean_square_error'"),
    "lif output, sum_var": (dict(out=LeakyIntegrateFire(readout="sum_var")), {},
                            "'first_spike_time'"),
    "var readout with crossentropy": (dict(out=LeakyIntegrate(readout="var")), {},
                                      "readout 'var'"),
    "mse loss needs var": ({}, dict(losses="mean_square_error"), "needs readout 'var'"),
    "rmse on leaky integrate": ({}, dict(losses=RelativeMeanSquareError(1.0)),
                                "'relative_mean_square_error' on a LeakyIntegrate"),
    "per-timestep max_var": (dict(out=LeakyIntegrate(readout="max_var")),
                             dict(per_timestep_loss=True), "per_timestep_loss=False"),
    "per-timestep exp weight": (dict(out=LeakyIntegrate(readout="avg_var_exp_weight")),
                                dict(per_timestep_loss=True), "per_timestep_loss=False"),
    "refractory": (dict(hidden=LeakyIntegrateFire(tau_refrac=2.0)), {}, "refractory"),
    "two taus": (dict(syn_out=Exponential(5.0), syn_in=Exponential(3.0)), {},
                 "one synaptic time constant"),
    "poisson input": (dict(inp=PoissonInput()), {}, "cannot train"),
    "communicator": ({}, dict(communicator=object()), "is not a Communicator"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_unsupported_models_are_refused_at_compile_time(case):
    net_kw, comp_kw, reason = REFUSED[case]
    if case == "two taus":   # the hidden layer's inputs differ: in 3 ms, recurrent 5 ms
        net_kw = dict(syn_in=Exponential(3.0))
    with pytest.raises(ModelError, match=reason) as err:
        compiler(**comp_kw).compile(network(**net_kw))
    assert isinstance(err.value, IrsnnError) and isinstance(err.value, ValueError)


def test_learnable_delays_need_max_delay_steps_and_deep_r_a_sparse_connection():
    net = network()
    conn = net.connections[0]
    with pytest.raises(ModelError, match="in_hid.*no max_delay_steps"):
        compiler(delay_learn_conns=[conn]).compile(net)
    with pytest.raises(ModelError, match="delay_learn_conns must be a list"):
        compiler(delay_learn_conns=conn)
    with pytest.raises(ModelError, match="not a connection of the network"):
        compiler(delay_learn_conns=[network().connections[0]]).compile(net)
    with pytest.raises(ModelError, match="ragged|sparse"):   # Deep-R on a dense connection
        compiler(deep_r_conns=[conn]).compile(net)


@pytest.mark.parametrize("kw, match", [(dict(softmax_temperature=0.0), "softmax_temperature"),
                                       (dict(max_spikes=0), "max_spikes"),
                                       (dict(ttfs_alpha=-1.0), "ttfs_alpha")])
def test_bad_options(kw, match):
    with pytest.raises(ModelError, match=match):
        compiler(**kw)


def test_ir_holds_adjoints_buffers_loss_and_gradients():
    g = compiler(max_spikes=7).build_ir(network())
    states = dict(g.nodes(EventPropState))
    assert {s.kind for s in states.values()} == {"input", "hidden", "output"}
    hidden = states["eventprop.hidden"]
    assert hidden.adjoints == ("LambdaV", "LambdaI") and hidden.max_spikes == 7
    assert hidden.buffers == ("SpikeTime", "IMinusV", "IMinusVReset")
    names = {v.name for v in g.node("pop.hidden").vars}
    assert {"LambdaV", "LambdaI", "IMinusV", "IMinusVReset"} <= names
    assert "IMinusV = (Isyn * EventPropGain) - V;" in g.node("pop.hidden").reset_code
    (loss,) = (n for _, n in g.nodes(LossNode))
    assert loss.error_var == "Drive" and loss.source == "pop.output"
    assert len(list(g.nodes(OptimiserNode))) == 3
    for *_, syn in g.synapses():
        assert syn.learning.kind == "eventprop" and syn.learning.gradient == "Gradient"
    text = to_text(g)
    assert "EventProp hidden of pop.hidden" in text and "Gradient+=LambdaI_post" in text


def test_cli_dump_eventprop(tmp_path, capsys):
    path = tmp_path / "model.py"
    path.write_text(
        "from irsnn import Connection, Network, Population\n"
        "from irsnn.compilers.event_prop_compiler import default_params\n"
        "from irsnn.connectivity import Dense\n"
        "from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput\n"
        "from irsnn.synapses import Exponential\n"
        "network = Network(default_params)\n"
        "with network:\n"
        "    i = Population(SpikeInput(max_spikes=10), 3, name='input')\n"
        "    h = Population(LeakyIntegrateFire(), 4, name='hidden')\n"
        "    o = Population(LeakyIntegrate(readout='sum_var'), 2, name='output')\n"
        "    Connection(i, h, Dense(1.0), Exponential(5.0))\n"
        "    Connection(h, o, Dense(1.0), Exponential(5.0))\n")
    assert main(["dump", f"{path}:network", "--compiler", "eventprop",
                 "--print-after-all"]) == 0
    out = capsys.readouterr().out
    assert "// ----- IR after insert-eventprop -----" in out
    assert "EventProp hidden of pop.hidden" in out and "optim." in out


def _busy_network(max_spikes, strict):
    """Two input spikes make the 'busy' neurons spike 5+ times each."""
    net = Network(default_params)
    with net:
        i = Population(SpikeInput(max_spikes=100), 2, name="input")
        h = Population(LeakyIntegrateFire(tau_mem=5.0), 3, name="busy")
        o = Population(LeakyIntegrate(readout="sum_var"), 2, name="output")
        Connection(i, h, Dense(np.array([[30.0, 20.0, 25.0], [1.0, 1.0, 1.0]])),
                   Exponential(5.0))
        Connection(h, o, Dense(np.array([[0.5, -0.2], [0.1, 0.3], [-0.4, 0.2]])),
                   Exponential(5.0))
    c = EventPropCompiler(30, "sparse_categorical_crossentropy", max_spikes=max_spikes,
                          strict_buffer_checking=strict, backend="reference",
                          precision="double")
    x = {i: [preprocess_spikes(np.array([0.5, 1.5]), np.array([0, 1]), 2)]}
    return c.compile(net), x, {o: np.array([1])}


def test_strict_buffer_overflow_names_the_population():
    cn, x, y = _busy_network(3, strict=True)
    with cn, pytest.raises(InputError, match="'busy'.*max_spikes=3"):
        cn.compute_gradients(x, y)


def test_lenient_buffer_overflow_reports_dropped_spikes():
    cn, x, y = _busy_network(3, strict=False)
    with cn, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        grads = cn.compute_gradients(x, y)
        dropped = cn.simulation.learning.eventprop.dropped
    assert dropped["busy"] > 0
    assert any("max_spikes" in str(w.message) for w in caught)
    assert all(np.isfinite(g).all() for g in grads.values())
    cn2, x, y = _busy_network(100, strict=True)
    with cn2:
        full = cn2.compute_gradients(x, y)
        assert not cn2.simulation.learning.eventprop.dropped
    assert not np.allclose(full["Conn0"], grads["Conn0"])


def test_sparse_connections_get_gradients_of_existing_synapses_only():
    rng = np.random.default_rng(2)
    net = Network(default_params)
    with net:
        i = Population(SpikeInput(max_spikes=100), 5, name="input")
        h = Population(LeakyIntegrateFire(), 7, name="hidden")
        o = Population(LeakyIntegrate(readout="sum_var"), 3, name="output")
        Connection(i, h, FixedProbability(0.2, 3.0), Exponential(5.0), name="in_hid")
        Connection(h, o, Dense(rng.normal(0, 1, (7, 3))), Exponential(5.0), name="hid_out")
    cn = EventPropCompiler(40, "sparse_categorical_crossentropy", batch_size=2,
                           backend="reference", precision="double").compile(net)
    steps = np.zeros((2, 40, 5))
    steps[:, 1:30] = np.random.default_rng(3).random((2, 29, 5)) < 0.15
    data = [preprocess_spikes(np.nonzero(s)[0] - 0.5, np.nonzero(s)[1], 5) for s in steps]
    labels = np.array([0, 2])
    with cn:
        assert cn.ir.edge("pop.input", "pop.hidden", "syn").layout == "ragged"
        w_in = cn.simulation.get_weights("in_hid")
        mask = cn.simulation.synapse_mask(cn.simulation.by_name["in_hid"].eid)
        grads = cn.compute_gradients({i: data}, {o: labels})
        w_out = cn.simulation.get_weights("hid_out")
    g_in, _, g_out = Model(w_in, w_out).gradients(steps, labels, "sum_var")
    assert not mask.all() and (grads["in_hid"][~mask] == 0).all()
    assert np.abs(grads["in_hid"]).max() > 1e-4
    np.testing.assert_allclose(grads["in_hid"], np.where(mask, g_in, 0), rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(grads["hid_out"], g_out, rtol=1e-9, atol=1e-12)


@pytest.mark.slow
def test_irsnn_train_with_eventprop(tmp_path, capsys):
    """``irsnn train --compiler eventprop`` trains an embedded dataset end to end; the final
    test (InferenceCompiler on the saved checkpoint) agrees with the last epoch's test."""
    import csv
    import json
    out = tmp_path / "run"
    assert main(["train", "--dataset", "digits", "--compiler", "eventprop", "--num-epochs",
                 "1", "--num-train", "64", "--num-test", "32", "--hidden-size", "24",
                 "--hidden-model", "lif", "--batch-size", "16", "--backend", "reference",
                 "--no-plots", "--out", str(out)]) == 0
    assert "test accuracy" in capsys.readouterr().out
    ir = (out / "model_ir.txt").read_text()
    assert "EventProp hidden of pop.hidden0" in ir
    summary = json.loads((out / "summary.json").read_text())
    (row,) = list(csv.DictReader(open(out / "train_log.csv")))
    assert summary["test_accuracy"] == pytest.approx(float(row["test_accuracy"]))


def test_irsnn_train_eventprop_needs_lif():
    from irsnn.train import TrainConfig
    with pytest.raises(ModelError, match="LIF hidden layers"):
        TrainConfig(dataset="synthetic-gesture", compiler="eventprop").check()


def test_every_supported_output_compiles_and_is_reported_by_features():
    """The one table of supported outputs (``insert_eventprop.OUTPUTS``) is what the compiler
    accepts: each entry compiles, runs a backward pass, and ``features`` reports it."""
    from irsnn.passes.insert_eventprop import OUTPUTS, features
    for neuron, readout, loss, per_timestep in sorted(OUTPUTS):
        out = (LeakyIntegrateFire(readout=readout) if neuron == "leaky_integrate_fire"
               else LeakyIntegrate(readout=readout))
        loss_obj = RelativeMeanSquareError(1.0) if loss == "relative_mean_square_error" \
            else loss
        cn = compiler(losses=loss_obj, per_timestep_loss=per_timestep).compile(
            network(out=out))
        assert features(cn.ir) == {(neuron, readout, loss, per_timestep)}
        data = [preprocess_spikes(np.array([1.0, 3.0]), np.array([0, 2]), 4)]
        y = np.zeros((1, 2)) if loss == "mean_square_error" else np.array([1])
        with cn:
            grads = cn.compute_gradients({cn.network.populations[0]: data},
                                         {cn.network.populations[2]: y})
        assert all(np.isfinite(g).all() for g in grads.values())
