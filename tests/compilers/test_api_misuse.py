"""API misuses that used to end in raw NumPy/OS/IR errors get clear ones: string labels, zero
examples, seeds outside the 64-bit range (the same on every backend), a connection between
populations of two networks, and compile names too long for a file name."""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.backends import available_backends
from irsnn.compilers import EPropCompiler, InferenceCompiler
from irsnn.compilers.compiler import MAX_NAME_LENGTH
from irsnn.connectivity import Dense
from irsnn.errors import InputError, IrsnnError, ModelError
from irsnn.metrics import MeanSquareError, SparseCategoricalAccuracy
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.rng import SEED_RANGE, CounterRNG

from ..models import random_spikes

T = 4


def _backend(name):
    ok, why = available_backends()[name]
    if not ok:
        pytest.skip(f"backend {name!r} unavailable: {why}")
    return name


@pytest.fixture(params=["reference", "c"])
def backend(request):
    return _backend(request.param)


def _net():
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=64), 4, name="inp")
        hid = Population(LeakyIntegrateFire(v_thresh=0.5), 5, name="hid")
        out = Population(LeakyIntegrate(readout="sum_var"), 3, name="out")
        Connection(inp, hid, Dense(0.5), name="ih")
        Connection(hid, out, Dense(0.25), name="ho")
    return net, inp, out


def test_string_labels_are_refused_with_a_mapping_hint(backend):
    net, inp, out = _net()
    cn = InferenceCompiler(evaluate_timesteps=T, backend=backend).compile(net)
    x = random_spikes(2, 4, T, rate=0.3)
    with pytest.raises(InputError, match=r"labels must be integer class indices 0\.\.2, but "
                                         r"they are <U3 \(str, first 'cat'\).*np\.unique"):
        cn.evaluate({inp: x}, {out: np.array(["cat", "dog"])}, callbacks=[])
    with pytest.raises(InputError, match="labels must be integer class indices"):
        SparseCategoricalAccuracy().update(["a", "b"], np.zeros((2, 3)))
    with pytest.raises(InputError, match="object"):
        SparseCategoricalAccuracy().update(np.array([1, "b"], dtype=object), np.zeros((2, 3)))
    with pytest.raises(InputError, match="MeanSquareError: targets must be numbers"):
        MeanSquareError().update(np.array([["x", "y"]]), np.zeros((1, 2)))


def test_zero_examples_are_refused(backend):
    net, inp, out = _net()
    cn = InferenceCompiler(evaluate_timesteps=T, backend=backend).compile(net)
    msg = r"the input for \['inp'\] holds no examples; give at least one example"
    with pytest.raises(InputError, match=msg):
        cn.predict({inp: []}, out, callbacks=[])
    with pytest.raises(InputError, match=msg):
        cn.evaluate({inp: []}, {out: np.zeros(0, int)}, callbacks=[])
    tn = EPropCompiler(example_timesteps=T, losses="sparse_categorical_crossentropy",
                       backend=backend).compile(net)
    with pytest.raises(InputError, match=msg):
        tn.train({inp: []}, {out: np.zeros(0, int)}, num_epochs=1, callbacks=[])
    x = random_spikes(2, 4, T, rate=0.3)
    with pytest.raises(InputError, match="leaves none to train on"):
        tn.train({inp: x}, {out: np.array([0, 1])}, num_epochs=1, validation_split=0.9,
                 callbacks=[])


@pytest.mark.parametrize("seed, shown", [
    (2**64, "rng_seed=18446744073709551616 is outside [0, 2**64 - 1]"),
    (-1, "rng_seed=-1 is outside [0, 2**64 - 1]"),
    (1.5, "rng_seed=1.5 must be a whole number"),
    ("7", "rng_seed='7' must be a whole number"),
])
def test_seed_range_is_one_definition(seed, shown):
    assert SEED_RANGE == (0, 2**64)
    for make in (lambda: InferenceCompiler(evaluate_timesteps=T, rng_seed=seed),
                 lambda: EPropCompiler(example_timesteps=T, losses="mean_square_error",
                                       rng_seed=seed)):
        with pytest.raises(ModelError) as info:
            make()
        assert shown in str(info.value) and "Compiler: rng_seed" in str(info.value)
    with pytest.raises(ValueError, match="outside|whole number"):
        CounterRNG(seed)


def test_extreme_valid_seeds_give_the_same_draws_on_every_backend(backend):
    """The largest seed is accepted and draws as the reference does; numpy integers work."""
    from irsnn.initializers import Normal
    preds = {}
    for name in ("reference", backend):
        net = Network()
        with net:
            inp = Population(SpikeInput(max_spikes=64), 4, name="inp")
            out = Population(LeakyIntegrate(readout="sum_var"), 3, name="out")
            Connection(inp, out, Dense(Normal(sd=1.0)), name="w")
        cn = InferenceCompiler(evaluate_timesteps=T, backend=name,
                               rng_seed=np.uint64(2**64 - 1)).compile(net)
        assert cn.compiler.rng_seed == 2**64 - 1
        preds[name] = cn.simulation.get_weights("w")
    np.testing.assert_array_equal(preds["reference"], preds[backend])


def test_connecting_populations_of_two_networks_is_refused():
    net_a, inp_a, _ = _net()
    net_b = Network()
    with net_b:
        other = Population(LeakyIntegrateFire(), 2, name="other")
        with pytest.raises(ModelError, match=r"its source, Population 'inp' \(test_api_misuse"
                                             r"\.py:\d+\), is not a population of the network "
                                             r".*same `with network:` block"):
            Connection(inp_a, other, Dense(1.0))
    assert net_b.connections == [] and other.incoming_connections == []
    with net_a:
        with pytest.raises(ModelError, match="its target, Population 'other'"):
            Connection(inp_a, other, Dense(1.0))


def test_compile_names_too_long_for_a_file_name_are_refused(backend):
    net, inp, out = _net()
    compiler = InferenceCompiler(evaluate_timesteps=T, backend=backend)
    with pytest.raises(ModelError, match=rf"has 300 characters, more than {MAX_NAME_LENGTH}.*"
                                         r"pass a shorter name") as info:
        compiler.compile(net, name="n" * 300)
    assert isinstance(info.value, IrsnnError)
    with pytest.raises(ModelError, match="non-empty string"):
        compiler.compile(net, name=42)
    # the longest allowed name, and names full of characters a path cannot hold, build and run
    for name in ("m" * MAX_NAME_LENGTH, "a/../b\x00" + "\u00e9" * 150):
        cn = compiler.compile(net, name=name)
        preds, _ = cn.predict({inp: random_spikes(1, 4, T, rate=0.3)}, out, callbacks=[])
        assert preds[out].shape == (1, 3)
