"""Online e-prop of ragged connections on the kernel backends walks the synapses by
postsynaptic neuron (``backends.kernels.learning.by_columns``): the traces live in column order
during a run and in the row layout between runs. Checked here: the column index arrays, the
traces and weights against the reference backend (also when every step is a run of its own),
and Deep-R rewiring (which rebuilds the columns) against the reference."""

import numpy as np
import pytest

from irsnn.backends.kernels.layouts import Rows
from irsnn.callbacks import Callback
from irsnn.compilers import EPropCompiler
from irsnn.optimisers import Adam

from ..models import random_spikes
from .test_deep_r import EDGES, KERNEL_BACKENDS, assert_same_synapses_and_weights, network

#: per-synapse learning variables of each connection (ALIF hidden, leaky-integrator output)
VARS = {"ih": ("EBar", "Eps", "DeltaG"), "hh": ("EBar", "Eps", "DeltaG"), "ho": ("DeltaG",)}


def test_ragged_columns_index_every_synapse_once_by_postsynaptic_neuron():
    rng = np.random.default_rng(4)
    mask = rng.random((30, 17)) < 0.2
    mask[3] = False                      # an empty row
    mask[:, 5] = False                   # an empty column
    rows_of = Rows.of(mask, 9, 17)
    ind = rows_of.ind
    start, pre, slot, position = rows_of.columns()
    M = ind.shape[1]
    assert start[0] == 0 and start[-1] == mask.sum() and np.all(np.diff(start) >= 0)
    for j in range(17):
        rows = pre[start[j]:start[j + 1]]
        np.testing.assert_array_equal(rows, np.flatnonzero(mask[:, j]))  # ascending
        cols = slot[start[j]:start[j + 1]]
        np.testing.assert_array_equal(cols // M, rows)                    # its own row
        np.testing.assert_array_equal(ind[rows, cols % M], j)             # of neuron j
        np.testing.assert_array_equal(position[cols], np.arange(start[j], start[j + 1]))
    assert pre.size == slot.size == position.size == 30 * M


class _EveryStep(Callback):
    """A per-timestep hook: every step becomes a run of its own (counted on the class: the
    compiled network works on its own copy of a callback)."""

    steps = 0

    def on_timestep_end(self, timestep):
        type(self).steps += 1


def _train(backend, per_step, deep_r=False, epochs=1):
    net, inp, out, conns = network()
    kw = dict(deep_r_conns=conns[:2], deep_r_l1_strength=0.01) if deep_r else {}
    c = EPropCompiler(example_timesteps=15, losses="sparse_categorical_crossentropy",
                      batch_size=3, optimiser=Adam(alpha=0.02), backend=backend, rng_seed=5,
                      gradient_mode="online", **kw).compile(net)
    x = random_spikes(6, 16, 15, rate=0.2, seed=2)
    y = np.arange(6) % 3
    _EveryStep.steps = 0
    c.train({inp: x}, {out: y}, num_epochs=epochs, shuffle=False,
            callbacks=[_EveryStep()] if per_step else [])
    assert _EveryStep.steps == (15 * 2 * epochs if per_step else 0)
    return c


@pytest.mark.parametrize("per_step", [False, True], ids=["one-run", "run-per-step"])
@pytest.mark.parametrize("backend", KERNEL_BACKENDS)
def test_traces_and_weights_equal_reference(backend, per_step):
    ref = _train("reference", per_step)
    test = _train(backend, per_step)
    buffers = test.simulation.program.buffers
    assert (EDGES["hh"], "EBar_col") in buffers, "the recurrent group no longer learns by columns"
    _assert_same_learning_state(test, ref)


@pytest.mark.parametrize("backend", KERNEL_BACKENDS[:1])
def test_deep_r_rewiring_rebuilds_the_columns(backend):
    ref = _train("reference", False, deep_r=True, epochs=3)
    test = _train(backend, False, deep_r=True, epochs=3)
    _assert_same_learning_state(test, ref)
    # the rewiring moved synapses (so the columns were rebuilt during training)
    net0, *_ = network()
    first = EPropCompiler(example_timesteps=15, losses="sparse_categorical_crossentropy",
                          rng_seed=5).compile(net0)
    assert not np.array_equal(first.simulation.synapse_mask(EDGES["hh"]),
                              ref.simulation.synapse_mask(EDGES["hh"]))


def _assert_same_learning_state(test, ref):
    """Synapses, weights and every per-synapse learning variable as the reference's (which
    keeps traces for absent synapses too, in dense arrays: the existing ones are compared,
    and the kernel backends must hold nothing else)."""
    assert_same_synapses_and_weights(test, ref, rtol=1e-4)
    for name, e in EDGES.items():
        mask = ref.simulation.synapse_mask(e)
        for var in VARS[name]:
            got = test.simulation.get_var(e, var)
            np.testing.assert_allclose(got[:, mask], ref.simulation.get_var(e, var)[:, mask],
                                       rtol=2e-4, atol=1e-6, err_msg=f"{name}/{var}")
            assert np.all(got[:, ~mask] == 0), f"{name}/{var}: values off the synapses"
