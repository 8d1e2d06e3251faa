"""Shared helpers for the dynamics tests: build tiny networks, run them through the public
inference API on the reference backend, and return recorded traces as plain arrays.

Timing conventions these tests rely on (GeNN's per-step order, see
``backends/reference/simulation.py``): a spike emitted at step ``s`` by a connection with
``delay=d`` reaches ``inSyn`` at step ``s + 1 + d``; the postsynaptic model turns ``inSyn`` into
``Isyn`` in that same step, before the neuron update. So an input population that fires every
step from step 0 gives its targets ``Isyn = 0`` at step 0 and ``Isyn = w`` at every later step.
Recorded variables are the values after the step's update (and reset).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from irsnn import Connection, Network, Population
from irsnn.callbacks import SpikeRecorder, VarRecorder
from irsnn.compilers import InferenceCompiler
from irsnn.connectivity import Dense
from irsnn.neurons import BinarySpikeInput

F32 = np.float32


@dataclass
class Result:
    """What :func:`simulate` recorded: ``vars[(pop, var)]`` and ``spikes[pop]`` hold one
    ``(timesteps, neurons)`` array per example; ``preds[pop]`` the readouts."""

    vars: dict = field(default_factory=dict)
    spikes: dict = field(default_factory=dict)
    preds: dict = field(default_factory=dict)


def simulate(network, x, timesteps, *, record_vars=(), record_spikes=(), outputs=(),
             dt=1.0, batch_size=1, rng_seed=0, **compiler_kwargs):
    """Compile ``network`` for inference on the reference backend and ``predict`` ``x``.

    ``record_vars`` is a sequence of ``(population, var_name)``; ``record_spikes`` of
    populations. Spikes come back as boolean rasters ``(timesteps, neurons)`` per example.
    """
    compiled = InferenceCompiler(evaluate_timesteps=timesteps, dt=dt, batch_size=batch_size,
                                 rng_seed=rng_seed, backend="reference",
                                 **compiler_kwargs).compile(network)
    callbacks = [VarRecorder(p, v, key=("var", i)) for i, (p, v) in enumerate(record_vars)]
    callbacks += [SpikeRecorder(p, key=("spk", i)) for i, p in enumerate(record_spikes)]
    with compiled:
        preds, cb = compiled.predict(x, list(outputs), callbacks=callbacks)
    res = Result(preds=preds)
    for i, (p, v) in enumerate(record_vars):
        res.vars[(p, v)] = [np.asarray(a) for a in cb[("var", i)]]
    for i, p in enumerate(record_spikes):
        rasters = []
        for times, ids in zip(*cb[("spk", i)]):
            steps = np.rint(np.asarray(times) / dt).astype(np.int64)
            r = np.zeros((timesteps, p.num_neurons), bool)
            r[steps, np.asarray(ids, dtype=np.int64)] = True
            rasters.append(r)
        res.spikes[p] = rasters
    return res


def driven(neuron, drives, timesteps, *, dt=1.0, record=("V",), synapse=None):
    """``len(drives)`` copies of ``neuron``, copy ``i`` receiving a constant ``Isyn = drives[i]``
    from step 1 on (a ``BinarySpikeInput`` firing every step, through a diagonal ``Dense``).

    Returns ``(traces, raster)``: ``traces[var]`` is ``(timesteps, n)``, ``raster`` the bool
    spike raster ``(timesteps, n)``.
    """
    drives = np.asarray(drives, dtype=np.float64)
    n = drives.size
    net = Network()
    with net:
        inp = Population(BinarySpikeInput(), n)
        pop = Population(neuron, n)
        kw = {} if synapse is None else {"synapse": synapse}
        Connection(inp, pop, Dense(np.diag(drives)), **kw)
    res = simulate(net, {inp: np.ones((1, n))}, timesteps, dt=dt,
                   record_vars=[(pop, v) for v in record], record_spikes=[pop])
    traces = {v: res.vars[(pop, v)][0] for v in record}
    return traces, res.spikes[pop][0]


def spike_steps(raster_column):
    """Indices of the steps at which a neuron spiked."""
    return np.flatnonzero(np.asarray(raster_column))


def assert_close_f32(actual, expected, ulps=8, atol=0.0):
    """``actual`` within ``ulps`` float32 ulps of ``expected`` (plus ``atol`` near 0)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    tol = ulps * np.spacing(np.abs(expected).astype(F32)).astype(np.float64) + atol
    bad = np.abs(actual - expected) > tol
    assert not bad.any(), (
        f"{bad.sum()} values differ by more than {ulps} ulp; first at "
        f"{tuple(int(i) for i in np.argwhere(bad)[0])}: actual "
        f"{actual[bad][:5]}, expected {expected[bad][:5]}")
