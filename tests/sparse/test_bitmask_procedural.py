"""Bitmask and procedural layouts: what the choose-sparse-layout pass picks and why, identical
results whatever the storage on every backend, weights access, and the errors."""

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.backends import available_backends
from irsnn.callbacks import SpikeRecorder
from irsnn.compilers import EPropCompiler, InferenceCompiler
from irsnn.connectivity import Dense, FixedProbability
from irsnn.errors import InputError, ModelError
from irsnn.initializers import Normal, Uniform
from irsnn.ir import to_dot, to_text
from irsnn.neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrate, PoissonInput, SpikeInput

from ..models import random_spikes

BACKENDS = ["reference"] + [b for b in ("c", "opencl") if available_backends()[b][0]]
LAYOUTS = ("dense", "sparse", "bitmask", "procedural")
T = 30


def network(layout=None, weights="random", p_in=0.1, p_rec=0.2, delay=0):
    """Spike input and signed Poisson input -> 45 recurrent ALIF (two bitmask words, the
    second partly used) -> 4 LI; every FixedProbability connection gets ``layout``."""
    if weights == "random":
        w_in, w_sgn, w_rec = Normal(sd=1.0), Uniform(0.25, 0.75), Uniform(-0.3, 0.3)
    else:
        w_in, w_sgn, w_rec = 0.5, 0.375, -0.125
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=5000), 40, name="in")
        sgn = Population(PoissonInput(signed_spikes=True), 16, name="sgn")
        hid = Population(AdaptiveLeakyIntegrateFire(v_thresh=0.5, tau_refrac=3.0), 45,
                         name="hid")
        out = Population(LeakyIntegrate(readout="sum_var"), 4, name="out")
        Connection(inp, hid, FixedProbability(p_in, w_in, delay=delay, layout=layout),
                   name="ih", max_delay_steps=4 if not np.isscalar(delay) else None)
        Connection(sgn, hid, FixedProbability(0.25, w_sgn, layout=layout), name="sh")
        Connection(hid, hid, FixedProbability(p_rec, w_rec, layout=layout), name="hh")
        Connection(hid, out, Dense(Normal(sd=0.4)), name="ho")
    return net, inp, sgn, hid, out


def inputs(inp, sgn):
    rates = np.random.default_rng(3).uniform(-0.3, 0.3, (4, 16))
    return {inp: random_spikes(4, 40, T, rate=0.2, seed=5), sgn: rates}


def synapses(compiler, net):
    return {s.name: s for *_, s in compiler.build_ir(net).synapses()}


# -- the pass ----------------------------------------------------------------------------------
def test_inference_prefers_bitmask_for_constant_weights_and_ragged_otherwise():
    infer = InferenceCompiler(evaluate_timesteps=5)
    const = synapses(infer, network(weights="constant")[0])
    rand = synapses(infer, network()[0])
    assert {k: s.layout for k, s in const.items()} == {
        "ih": "bitmask", "sh": "bitmask", "hh": "bitmask", "ho": "dense"}
    assert {k: s.layout for k, s in rand.items()} == {
        "ih": "ragged", "sh": "ragged", "hh": "ragged", "ho": "dense"}
    order = "InferenceCompiler prefers bitmask > ragged > procedural > dense"
    assert const["ih"].layout_reason == f"p=0.1 <= 0.25, weight 0.5: {order}"
    assert rand["ih"].layout_reason == (
        f"p=0.1 <= 0.25, weights normal(mean=0.0, sd=1.0): {order}; bitmask is picked for "
        f"one constant weight, not weights normal(mean=0.0, sd=1.0)")
    # denser connections stay dense, whatever the weight
    dense = synapses(infer, network(weights="constant", p_rec=0.5)[0])["hh"]
    assert (dense.layout, dense.layout_reason) == ("dense", "p=0.5 > sparse_threshold=0.25")
    # the choice and its reason are in the dump
    ir = infer.build_ir(network(weights="constant")[0])
    assert ("edge syn.in->hid = Synapses fixed_probability/bitmask 40x45 w=0.5 delay=1 p=0.1 "
            f"layout_reason={{p=0.1 <= 0.25, weight 0.5: {order}}}") in to_text(ir)
    assert 'label="ih: fixed_probability/bitmask d=1 Delta"' in to_dot(ir)


def test_procedural_first_without_in_memory_connect_and_never_for_eprop():
    procedural = synapses(InferenceCompiler(evaluate_timesteps=5,
                                            prefer_in_memory_connect=False), network()[0])
    assert {k: s.layout for k, s in procedural.items() if k != "ho"} == {
        "ih": "procedural", "sh": "procedural", "hh": "procedural"}
    assert "prefers procedural > bitmask > ragged > dense" in procedural["hh"].layout_reason
    eprop = EPropCompiler(example_timesteps=5, losses="sparse_categorical_crossentropy")
    for weights in ("random", "constant"):
        got = synapses(eprop, network(weights=weights)[0])
        assert {k: s.layout for k, s in got.items() if k != "ho"} == {
            "ih": "ragged", "sh": "ragged", "hh": "ragged"}
        assert "EPropCompiler prefers ragged > dense" in got["ih"].layout_reason


@pytest.mark.parametrize("layout,ir", [("dense", "dense"), ("sparse", "ragged"),
                                       ("bitmask", "bitmask"), ("procedural", "procedural")])
def test_user_layout_is_taken_and_recorded(layout, ir):
    got = synapses(InferenceCompiler(evaluate_timesteps=5), network(layout)[0])
    assert {s.layout for k, s in got.items() if k != "ho"} == {ir}
    assert got["hh"].layout_reason == f"layout={layout!r} requested"


# -- the errors --------------------------------------------------------------------------------
def test_unknown_layout_name():
    with pytest.raises(ModelError, match=r"layout='ragged' is not a layout; use 'dense', "
                                         r"'sparse', 'bitmask', 'procedural' or None"):
        FixedProbability(0.1, 1.0, layout="ragged")


@pytest.mark.parametrize("layout", ["bitmask", "procedural"])
def test_eprop_refuses_bitmask_and_procedural(layout):
    compiler = EPropCompiler(example_timesteps=5, losses="sparse_categorical_crossentropy")
    with pytest.raises(ModelError, match=(
            rf"Connection 'hh' \(created at test_bitmask_procedural.py:\d+\): EPropCompiler "
            rf"cannot use layout='{layout}'; it supports 'sparse', 'dense' \(e-prop keeps "
            rf"traces and gradients per stored synapse\); use layout='sparse' or None")):
        compiler.build_ir(network(layout)[0])


@pytest.mark.parametrize("layout", ["sparse", "bitmask", "procedural"])
def test_per_synapse_delays_need_the_dense_layout(layout):
    net = network(layout, delay=Uniform(0.0, 4.0))[0]
    with pytest.raises(ModelError, match=(
            rf"Connection 'ih' \(created at test_bitmask_procedural.py:\d+\): "
            rf"layout='{layout}' cannot hold this connection: per-synapse "
            rf"delays \(uniform\(max=4.0, min=0.0\)\) are stored only by the dense layout; use "
            rf"layout='dense' or None, or a constant delay")):
        InferenceCompiler(evaluate_timesteps=5).build_ir(net)
    # chosen automatically, such a connection is dense
    ih = synapses(InferenceCompiler(evaluate_timesteps=5), network(delay=Uniform(0.0, 4.0))[0])
    assert (ih["ih"].layout, ih["ih"].layout_reason) == (
        "dense", "per-synapse delays are stored densely")


def test_loaded_synapses_need_a_layout_that_lists_them(tmp_path):
    """A checkpoint lists the synapses of a FixedProbability connection (pre_ind/post_ind with
    the weights): bitmask and procedural, which redraw synapses from the RNG, refuse them with
    a clear error; the automatic choice (ragged) holds exactly the saved synapses."""
    from irsnn.serialisers import Numpy
    net, inp, sgn, hid, out = network("bitmask")
    compiled = InferenceCompiler(evaluate_timesteps=T, batch_size=2, backend="reference")
    compiled = compiled.compile(net)
    compiled.save(("x",), Numpy(tmp_path))
    saved = compiled.simulation.get_weights("hh")

    for layout in ("procedural", "bitmask"):
        net, inp, sgn, hid, out = network(layout)
        net.load(("x",), Numpy(tmp_path))
        with pytest.raises(ModelError, match=(
                rf"Connection 'hh' \(created at test_bitmask_procedural.py:\d+\): "
                rf"layout='{layout}' holds FixedProbability connectivity drawn by the RNG, not "
                rf"listed synapses; use layout='sparse' or 'dense'")):
            InferenceCompiler(evaluate_timesteps=5).build_ir(net)

    net, inp, sgn, hid, out = network()
    net.load(("x",), Numpy(tmp_path))
    for backend in BACKENDS:
        loaded = InferenceCompiler(evaluate_timesteps=T, batch_size=2, backend=backend)
        np.testing.assert_array_equal(loaded.compile(net).simulation.get_weights("hh"), saved)


# -- identical results -------------------------------------------------------------------------
@pytest.mark.parametrize("weights", ["random", "constant"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_every_layout_gives_the_reference_results(backend, weights):
    """Dense with zeros, ragged, bitmask and procedural storage of the same FixedProbability
    model give bit-identical readouts, spikes and (dense) weights."""
    _compare_layouts(backend, weights, "float")


@pytest.mark.parametrize("backend", BACKENDS[1:2])
def test_every_layout_gives_the_reference_results_in_double_precision(backend):
    """Procedural weights are drawn in double and rounded to the precision's scalar."""
    _compare_layouts(backend, "random", "double")


def _compare_layouts(backend, weights, precision):
    results = {}
    for name, layout, be in [("oracle", "dense", "reference")] + \
            [(layout, layout, backend) for layout in LAYOUTS]:
        net, inp, sgn, hid, out = network(layout, weights)
        c = InferenceCompiler(evaluate_timesteps=T, batch_size=2, backend=be,
                              precision=precision).compile(net)
        assert {s.layout for *_, s in c.ir.synapses() if s.name != "ho"} == \
            {FixedProbability.LAYOUTS[layout]}
        y, cb = c.predict(inputs(inp, sgn), out, callbacks=[SpikeRecorder(hid, key="h")])
        results[name] = (y[out], cb["h"], {k: c.simulation.get_weights(k)
                                          for k in ("ih", "sh", "hh")})
    oracle = results.pop("oracle")
    assert oracle[0].dtype == {"float": np.float32, "double": np.float64}[precision]
    assert sum(len(i) for i in oracle[1][1]) > 50
    for k, w in oracle[2].items():
        assert 0 < np.count_nonzero(w) < w.size / 2, k
    for name, (y, (times, ids), weights_) in results.items():
        np.testing.assert_array_equal(y, oracle[0], err_msg=name)
        for e in range(len(ids)):
            np.testing.assert_array_equal(ids[e], oracle[1][1][e], err_msg=name)
            np.testing.assert_array_equal(times[e], oracle[1][0][e], err_msg=name)
        for k, w in weights_.items():
            np.testing.assert_array_equal(w, oracle[2][k], err_msg=f"{name} {k}")


# -- weights -----------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_bitmask_and_procedural_weights(backend):
    """get_weights is the dense view everywhere; set_weights changes a bitmask group within
    what it stores, survives a rebuild (a new recording), and is refused for procedural."""
    compiled = {}
    for layout, weights in (("bitmask", "constant"), ("bitmask", "random"),
                            ("procedural", "random"), ("dense", "constant")):
        net, inp, sgn, hid, out = network(layout, weights)
        c = InferenceCompiler(evaluate_timesteps=T, batch_size=2, backend=backend).compile(net)
        compiled[(layout, weights)] = (c, hid, out, inputs(inp, sgn))

    c, hid, out, x = compiled[("bitmask", "constant")]
    before = c.predict(x, out, callbacks=[])[0][out]
    w = c.simulation.get_weights("hh")
    mask = w != 0
    assert np.all(w[mask] == np.float32(-0.125))
    with pytest.raises(InputError, match=(
            r"Connection 'hh' uses the bitmask layout with one weight for all \d+ synapses, but "
            r"the values differ \(min -0.25, max -0.125\); give one value, or compile with an "
            r"Initializer weight or layout='sparse'")):
        c.simulation.set_weights("hh", np.where(np.arange(45) < 20, w, 2 * w))
    stray = w.copy()
    stray[~mask] = 0.5
    with pytest.raises(InputError, match=(
            r"Connection 'hh' uses the bitmask layout, which cannot add synapses, but \d+ "
            r"weights where no synapse exists are non-zero \(e.g. 0 -> 0: 0.5\); give 0 there")):
        c.simulation.set_weights("hh", stray)
    c.simulation.set_weights("hh", 2 * w)
    y, _ = c.predict(x, out, callbacks=[SpikeRecorder(hid, key="h")])   # rebuilds the sim
    np.testing.assert_array_equal(c.simulation.get_weights("hh"), 2 * w)
    assert not np.array_equal(y[out], before)
    # the same as a dense store of the doubled constant (after as many steps: Poisson input
    # draws from a step count that batches do not reset)
    d, dhid, dout, dx = compiled[("dense", "constant")]
    np.testing.assert_array_equal(d.predict(dx, dout, callbacks=[])[0][dout], before)
    d.simulation.set_weights("hh", 2 * w)
    np.testing.assert_array_equal(d.predict(dx, dout, callbacks=[])[0][dout], y[out])

    c, hid, out, x = compiled[("bitmask", "random")]
    w = c.simulation.get_weights("hh")
    mask = w != 0
    new = np.where(mask, np.float32(0.25), np.float32(0.0))
    c.simulation.set_weights("hh", new)
    np.testing.assert_array_equal(c.simulation.get_weights("hh"), new)
    with pytest.raises(InputError, match="cannot add synapses"):
        c.simulation.set_weights("hh", np.full((45, 45), 0.25, np.float32))

    c, hid, out, x = compiled[("procedural", "random")]
    w = c.simulation.get_weights("hh")
    assert 0 < np.count_nonzero(w) < w.size
    with pytest.raises(InputError, match=(
            r"Connection 'hh' uses the procedural layout: its weights are regenerated from the "
            r"RNG at every spike and cannot be set; compile it with "
            r"FixedProbability\(..., layout='sparse'\)")):
        c.simulation.set_weights("hh", w)
    c.predict(x, out, callbacks=[SpikeRecorder(hid, key="h")])   # rebuilds the simulation
    np.testing.assert_array_equal(c.simulation.get_weights("hh"), w)


# -- CUDA ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("weights", ["random", "constant"])
@pytest.mark.parametrize("layout", ["bitmask", "procedural"])
def test_cuda_kernels_compile_with_nvrtc(layout, weights):
    """The set-bit loops (CUDA renders bitmask rows with ``__ffs``) and the in-kernel normal
    and uniform draws compile for sm_80 and sm_90 without warnings."""
    pytest.importorskip("cuda.bindings.nvrtc", reason="cuda-bindings/nvidia-cuda-nvrtc missing")
    from irsnn.backends.cuda import CudaBackend, compile_with_nvrtc
    ir = InferenceCompiler(evaluate_timesteps=T, batch_size=2).build_ir(network(layout,
                                                                                weights)[0])
    source = CudaBackend().kernel_source(ir)[f"{ir.name}.cu"]
    assert "__ffs((int)x) - 1" in source and "while (word != 0u)" in source
    if layout == "procedural" and weights == "random":
        assert "(float)(0.0 + (double)irsnn_normal(" in source
        assert "(float)(-0.3 + (double)irsnn_uniform(" in source
    for arch in ("sm_80", "sm_90"):
        ok, log = compile_with_nvrtc(source, arch)
        assert ok and not log, f"{arch}: {log}"
