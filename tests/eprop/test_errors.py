"""Bad inputs to e-prop training: each gives a clear error naming the culprit."""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.compilers import EPropCompiler
from irsnn.connectivity import Dense, OneToOne
from irsnn.errors import InputError, ModelError, UnknownNameError
from irsnn.neurons import IntegrateFire, LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.synapses import Exponential
from irsnn.utils.data import preprocess_spikes

T = 10


def network(hidden=LeakyIntegrateFire, synapse="delta", connectivity=None, dead_end=False,
            readout="sum_var"):
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=100), 4, name="input")
        h = Population(hidden(), 4, name="hidden")
        out = Population(LeakyIntegrate(readout=readout), 3, name="output")
        Connection(inp, h, connectivity or Dense(np.full((4, 4), 0.1)), synapse=synapse,
                   name="ih")
        Connection(h, out, Dense(np.full((4, 3), 0.1)), name="ho")
        if dead_end:
            d = Population(LeakyIntegrateFire(), 4, name="dead_end")
            Connection(inp, d, Dense(np.full((4, 4), 0.1)), name="idead")
    return net, inp, out


def compiler(**kw):
    kw.setdefault("losses", "sparse_categorical_crossentropy")
    return EPropCompiler(example_timesteps=T, backend="reference", **kw)


def spikes(n, times=(1.0, 2.0)):
    return [preprocess_spikes(list(times), list(range(len(times))), 4) for _ in range(n)]


# -- model errors (at compile time) -------------------------------------------------------------
def test_unsupported_hidden_neuron():
    with pytest.raises(ModelError, match=r"'hidden' uses IntegrateFire.*e-prop cannot train"
                                         r".*LeakyIntegrateFire or AdaptiveLeakyIntegrateFire"):
        compiler().compile(network(hidden=IntegrateFire)[0])


def test_unsupported_synapse():
    with pytest.raises(ModelError, match=r"Connection 'ih'.*delta synapses.*Exponential"):
        compiler().compile(network(synapse=Exponential(5.0))[0])


def test_connection_stored_in_a_layout_eprop_cannot_train():
    # EPropCompiler stores every connection dense or ragged; a pipeline that lets OneToOne
    # keep its one_to_one layout must fail clearly in insert-eprop
    c = compiler()
    c.options = lambda: {**EPropCompiler.options(c), "layouts": ("dense", "one_to_one")}
    with pytest.raises(ModelError, match=r"Connection 'ih'.*stored dense or ragged, but this "
                                         r"one_to_one connection is stored one_to_one"):
        c.compile(network(connectivity=OneToOne(0.1))[0])


def test_hidden_population_without_path_to_output():
    with pytest.raises(ModelError, match=r"'dead_end' has no path to the output 'output'.*"
                                         r"learning signal"):
        compiler().compile(network(dead_end=True)[0])


def test_no_readout_on_output():
    with pytest.raises(ModelError, match=r"no population with a readout.*readout="):
        compiler().compile(network(readout=None)[0])


def test_losses_for_population_without_readout():
    net, inp, out = network()
    h = next(p for p in net.populations if p.name == "hidden")
    with pytest.raises(ModelError, match=r"losses are given for \['hidden'\].*no readout"):
        compiler(losses={h: "mean_square_error"}).compile(net)


def test_bad_feedback():
    with pytest.raises(ModelError, match=r"feedback='transpose'.*'symmetric' or 'random'"):
        compiler(feedback="transpose")


def test_bad_optimiser_name():
    with pytest.raises(UnknownNameError, match=r"Optimiser 'sgdx' is unknown.*'adam'"):
        compiler(optimiser="sgdx")


def test_bad_loss_name():
    with pytest.raises(UnknownNameError, match=r"Loss 'hinge' is unknown.*mean_square_error"):
        compiler(losses="hinge").compile(network()[0])


@pytest.mark.parametrize("kw, match", [
    ({"example_timesteps": 0}, r"example_timesteps=0"),
    ({"tau_reg": 0.0}, r"tau_reg=0.0 must be > 0"),
    ({"c_reg": -1.0}, r"c_reg=-1.0.*>= 0"),
    ({"f_target": -1.0}, r"f_target=-1.0.*>= 0"),
])
def test_bad_numeric_options(kw, match):
    kw = {"example_timesteps": T, **kw}
    with pytest.raises(ModelError, match=match):
        EPropCompiler(losses="mean_square_error", **kw)


# -- input errors (at train time) ---------------------------------------------------------------
@pytest.fixture
def trainee():
    net, inp, out = network()
    return compiler(batch_size=2).compile(net), inp, out


@pytest.mark.parametrize("labels, match", [
    (np.zeros((2, 3), int), r"1-D array of integer class indices \(got shape \(2, 3\)"),
    (np.zeros(2), r"1-D array of integer class indices.*dtype float64"),
    (np.array([0, 3]), r"label 3 \(example 1\).*outside \[0, 3\).*3 neurons"),
    (np.array([-1, 0]), r"label -1 \(example 0\).*outside \[0, 3\)"),
])
@pytest.mark.parametrize("how", ["train", "compute_gradients"])
def test_bad_class_labels(trainee, labels, match, how):
    cn, inp, out = trainee
    with pytest.raises(InputError, match=match):
        if how == "train":
            cn.train({inp: spikes(2)}, {out: labels}, 1, callbacks=[])
        else:
            cn.compute_gradients({inp: spikes(2)}, {out: labels})


def test_label_count_differs_from_examples(trainee):
    cn, inp, out = trainee
    with pytest.raises(InputError, match=r"2 input examples but 1 labels"):
        cn.train({inp: spikes(2)}, {out: np.array([0])}, 1, callbacks=[])


def test_bad_regression_targets():
    net, inp, out = network()
    cn = compiler(losses="mean_square_error").compile(net)
    with pytest.raises(InputError, match=r"targets for 'output' must have shape \(examples, 3\)"
                                         r" \(got \(1, 2\)\)"):
        cn.train({inp: spikes(1)}, {out: np.zeros((1, 2))}, 1, callbacks=[])


@pytest.mark.parametrize("how", ["train", "compute_gradients"])
def test_spike_later_than_example(trainee, how):
    cn, inp, out = trainee
    late = spikes(2, times=(1.0, 12.0))
    with pytest.raises(InputError, match=r"'input'.*spike time 12.0 ms.*examples last 10.0 ms"):
        if how == "train":
            cn.train({inp: late}, {out: np.array([0, 1])}, 1, callbacks=[])
        else:
            cn.compute_gradients({inp: late}, {out: np.array([0, 1])})


def test_too_many_examples_for_compute_gradients(trainee):
    cn, inp, out = trainee
    with pytest.raises(InputError, match=r"4 examples given for a batch of 2"):
        cn.compute_gradients({inp: spikes(4)}, {out: np.array([0, 1, 0, 1])})


@pytest.mark.parametrize("kw, match", [
    ({"num_epochs": 0}, r"train: num_epochs=0; give an integer >= 1"),
    ({"num_epochs": 2.5}, r"train: num_epochs=2.5; give an integer >= 1"),
    ({"num_epochs": 1, "start_epoch": -1}, r"train: start_epoch=-1; give an integer >= 0"),
])
def test_bad_epoch_counts(trainee, kw, match):
    cn, inp, out = trainee
    with pytest.raises(InputError, match=match):
        cn.train({inp: spikes(2)}, {out: np.array([0, 1])}, callbacks=[], **kw)


def test_bad_validation_split(trainee):
    cn, inp, out = trainee
    with pytest.raises(InputError, match=r"validation_split=1.0 must be in \[0, 1\)"):
        cn.train({inp: spikes(2)}, {out: np.array([0, 1])}, 1, callbacks=[],
                 validation_split=1.0)


def test_validation_split_and_data_together(trainee):
    cn, inp, out = trainee
    with pytest.raises(InputError, match=r"validation_split or validation_x"):
        cn.train({inp: spikes(4)}, {out: np.array([0, 1, 0, 1])}, 1, callbacks=[],
                 validation_split=0.5, validation_x={inp: spikes(2)},
                 validation_y={out: np.array([0, 1])})


def test_labels_for_non_output(trainee):
    cn, inp, out = trainee
    with pytest.raises(InputError, match=r"not the trained output"):
        cn.train({inp: spikes(2)}, {inp: np.array([0, 1])}, 1, callbacks=[])
