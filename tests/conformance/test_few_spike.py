"""Few-spike networks on every backend, bit-identical to the reference (dyadic weights,
thresholds and inputs): one network holding an unsigned chain with a skip connection
(FewSpikeReluInput -> FewSpikeRelu -> FewSpikeRelu, plus input -> output) and a signed-input
chain."""

from __future__ import annotations

import numpy as np

from irsnn import Connection, Network, Population
from irsnn.callbacks import SpikeRecorder, VarRecorder
from irsnn.compilers import FewSpikeCompiler
from irsnn.connectivity import Dense
from irsnn.neurons import FewSpikeRelu, FewSpikeReluInput

from .conftest import nvrtc_check

K = 6


def _dyadic(shape, seed):
    return np.round(np.random.default_rng(seed).normal(0.0, 0.5, shape) * 16) / 16


def _run(backend):
    net = Network()
    outs, hidden = [], []
    with net:
        for signed in (False, True):
            tag = "s" if signed else "u"
            i = Population(FewSpikeReluInput(k=K, alpha=2.0, signed_input=signed), 5,
                           name=f"inp_{tag}")
            h = Population(FewSpikeRelu(k=K, alpha=2.0), 7, name=f"hid_{tag}")
            o = Population(FewSpikeRelu(k=K, alpha=2.0, readout="var"), 3, name=f"out_{tag}")
            Connection(i, h, Dense(_dyadic((5, 7), 1)), name=f"i_h_{tag}")
            Connection(h, o, Dense(_dyadic((7, 3), 2)), name=f"h_o_{tag}")
            if not signed:   # a population's sources share their signedness
                Connection(i, o, Dense(_dyadic((5, 3), 3)), name="i_o_u")
            outs.append(o)
            hidden.append(h)
            if signed:
                inp_s = i
            else:
                inp_u = i
    x = np.round(np.random.default_rng(4).uniform(-2.0, 2.5, (5, 5)) * 64) / 64
    compiled = FewSpikeCompiler(k=K, batch_size=2, backend=backend).compile(net)
    callbacks = [SpikeRecorder(hidden[0], key="su"), SpikeRecorder(hidden[1], key="ss"),
                 VarRecorder(hidden[1], "V", key="v")]
    preds, cb = compiled.predict({inp_u: x, inp_s: x}, outs, callbacks=callbacks)
    if backend == "reference":
        nvrtc_check(compiled.ir)
    return [preds[o] for o in outs], cb


def test_few_spike_network_matches_reference(backend):
    ref, ref_cb = _run("reference")
    got, cb = _run(backend)
    for a, b in zip(got, ref):
        np.testing.assert_array_equal(a, b)
    for key in ("su", "ss"):
        assert sum(len(t) for t in ref_cb[key][0]) > 10
        for part in (0, 1):
            for a, b in zip(cb[key][part], ref_cb[key][part]):
                np.testing.assert_array_equal(a, b)
    for a, b in zip(cb["v"], ref_cb["v"]):
        np.testing.assert_array_equal(a, b)
