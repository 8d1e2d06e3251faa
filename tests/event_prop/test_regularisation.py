"""mlGeNN's spike-count regularisation of hidden LIF populations (``reg_lambda_upper``,
``reg_lambda_lower``, ``reg_nu_upper``): every gradient equals the independent dense adjoint
of :mod:`.discrete_reference` with the regulariser's jump, on both sides of the target; the
strengths given per population reach only that population."""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.compilers import EventPropCompiler
from irsnn.compilers.event_prop_compiler import default_params
from irsnn.connectivity import Dense
from irsnn.ir import EventPropState
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.passes.insert_eventprop import features
from irsnn.synapses import Exponential

from .discrete_reference import Model
from .test_gradients import T, build, make_inputs, weights


@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("readout", ["sum_var", "avg_var"])
def test_regularised_gradients_equal_independent_discrete_adjoint(readout, recurrent):
    w_in, w_rec, w_out = weights(11 + recurrent, recurrent)
    steps, data = make_inputs(2, 5)
    labels = np.array([1, 2])
    ref = Model(w_in, w_out, w_rec)
    counts = ref.forward(steps)["s_h"].sum(axis=(0, 1))
    nu = float(np.median(counts)) / 2 - 0.25      # some neurons above the target, some below
    assert (counts > 2 * nu).any() and (counts < 2 * nu).any()
    upper, lower = 3e-3, 1e-3
    cn, inp, out = build(w_in, w_rec, w_out, readout, batch=2, reg_lambda_upper=upper,
                         reg_lambda_lower=lower, reg_nu_upper=nu)
    with cn:
        grads = cn.compute_gradients({inp: data}, {out: labels})
    # irsnn's loss over mlGeNN's (mlGeNN's drive is dL/dV / (TauM B T dt)): the strengths
    # are scaled by it to weigh against the loss as in mlGeNN
    scale = 20.0 * (T if readout == "sum_var" else 1)
    g_in, g_rec, g_out = ref.gradients(steps, labels, readout,
                                       reg=(scale * upper, scale * lower, nu))
    plain = ref.gradients(steps, labels, readout)[0]
    assert np.abs(g_in - plain).max() > 1e-3 * np.abs(plain).max(), "the regulariser acts"
    np.testing.assert_allclose(grads["in_hid"], g_in, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads["hid_out"], g_out, rtol=1e-9, atol=1e-12)
    if recurrent:
        np.testing.assert_allclose(grads["hid_hid"], g_rec, rtol=1e-9, atol=1e-12)


def test_strengths_per_population():
    """A dict of strengths: the hidden population named gets the regulariser's constants
    (and the IR's features say so); a dict without it leaves the model unregularised."""
    for named, on in ((True, True), (False, False)):
        net = Network(default_params)
        with net:
            inp = Population(SpikeInput(max_spikes=20), 3)
            hid = Population(LeakyIntegrateFire(), 4)
            out = Population(LeakyIntegrate(readout="sum_var"), 2)
            Connection(inp, hid, Dense(1.0), Exponential(5.0))
            Connection(hid, out, Dense(1.0), Exponential(5.0))
        lam = {hid: 2e-3} if named else {out: 2e-3}
        cn = EventPropCompiler(10, "sparse_categorical_crossentropy", reg_lambda_upper=lam,
                               reg_nu_upper=3.0, backend="reference").compile(net)
        (node,) = [n for _, n in cn.ir.nodes(EventPropState) if n.kind == "hidden"]
        params = {p.name: p.value for p in node.params}
        assert ("spike_count_regularisation" in features(cn.ir)) is on
        if on:
            assert params["RegLambdaUpper"] == 2e-3 and params["RegLambdaLower"] == 0.0
            assert params["RegNuUpper"] == 3.0
        else:
            assert "RegLambdaUpper" not in params


@pytest.mark.parametrize("kw, match", [(dict(reg_lambda_upper=-1.0), "strength"),
                                       (dict(reg_lambda_lower="high"), "strength"),
                                       (dict(reg_lambda_upper=1e-3, reg_nu_upper=-2),
                                        "reg_nu_upper")])
def test_bad_regulariser_values_are_refused(kw, match):
    from irsnn.errors import ModelError
    w_in, w_rec, w_out = weights(3, recurrent=False)
    with pytest.raises(ModelError, match=match):
        build(w_in, w_rec, w_out, "sum_var", batch=1, **kw)
