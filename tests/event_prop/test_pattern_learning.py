"""EventProp learns a regression shaped like mlGeNN's ``pattern_recognition`` example: bursts of
grouped input spikes -> a recurrent LIF layer -> three LeakyIntegrate outputs (``var``
readout) whose voltages must follow sums of sinusoids with offsets, per timestep
(``mean_square_error``), with mlGeNN's regulariser strengths and Adam; every trial is the same
example, as in the example.

Under a mean-square error whose targets lie above the outputs, the adjoint of each output is
near its steady state, where a spike's arrival term ``D`` must vanish. With the
continuous-time form ``c LambdaV / TauM - LambdaI / TauSyn`` it did not at ``dt = 1 ms`` (it
was ``O(dt)`` off, with the drive's sign) and pushed the hidden layer towards silence (the
example's MSE went 106 -> 110). Measured, loss after three epochs over the loss before, with
target seeds 0, 1, 2: 0.094, 0.091, 0.088 (the discrete ``D``); 0.35, 0.66, 0.40 (the
continuous form).
"""

from __future__ import annotations

import numpy as np

from irsnn import Connection, Network, Population
from irsnn.compilers import EventPropCompiler
from irsnn.compilers.event_prop_compiler import default_params
from irsnn.connectivity import Dense
from irsnn.initializers import Normal
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.optimisers import Adam
from irsnn.synapses import Exponential
from irsnn.utils.data import preprocess_spikes

from .test_mlgenn_scales import N_IN, N_OUT, T, case

N_HID, TRIALS, EPOCHS = 48, 25, 3


def example_targets(seed=0):
    """``(T, N_OUT)``: as the example's, sums of three sinusoids (2, 3 and 5 Hz) with random
    amplitudes in ``[0.5, 2]``, each adding a random offset in ``[0, 2 pi)``."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)[:, None]
    y = np.zeros((T, N_OUT))
    for f in (2.0, 3.0, 5.0):
        y += rng.uniform(0.5, 2.0, N_OUT) * np.sin(f * np.pi * t / 1000.0)
        y += rng.uniform(0.0, 2.0 * np.pi, N_OUT)
    return y


def test_mean_square_error_falls_and_the_hidden_layer_stays_active(seed=1):
    _, _, _, inputs, _ = case()
    targets = example_targets(seed)[None]
    steps, ids = np.nonzero(inputs[0])
    spikes = preprocess_spikes(steps.astype(float), ids, N_IN)
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=T * N_IN), N_IN)
        hid = Population(LeakyIntegrateFire(v_thresh=0.61, tau_mem=20.0, tau_refrac=None),
                         N_HID)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="var"), N_OUT)
        Connection(inp, hid, Dense(Normal(sd=2.5 / np.sqrt(N_IN))), Exponential(5.0))
        Connection(hid, hid, Dense(Normal(sd=1.5 / np.sqrt(N_HID))), Exponential(5.0))
        Connection(hid, out, Dense(Normal(sd=2.0 / np.sqrt(N_HID))), Exponential(5.0))
    compiler = EventPropCompiler(T, "mean_square_error", optimiser=Adam(0.01),
                                 reg_lambda_upper=1e-8, reg_lambda_lower=1e-8, reg_nu_upper=10,
                                 max_spikes=T, rng_seed=2, backend="reference")
    with compiler.compile(net) as cn:
        learning = cn.simulation.learning.eventprop
        cn.compute_gradients({inp: [spikes]}, {out: targets[:1]})   # nothing applied
        loss0, hidden0 = learning.loss, learning.spike_counts["Pop1"]
        for _ in range(EPOCHS):
            cn.train({inp: [spikes] * TRIALS}, {out: [targets[0]] * TRIALS}, num_epochs=1,
                     callbacks=[])
        loss, hidden = learning.loss, learning.spike_counts["Pop1"]
    assert loss < 0.2 * loss0, (loss0, loss)
    assert hidden > hidden0 > 0
