"""e-prop gradients against an independent float64 NumPy implementation of Bellec et al.'s
equations, with exactly the per-step schedule documented in ``passes/insert_eprop.py``.

The reference below simulates the forward dynamics itself (it does not call irsnn's
simulator) and accumulates e-prop's gradients; ``compute_gradients`` of the same network,
compiled with ``precision="double"``, must agree to rtol 1e-5.

Per timestep t of the reference (per batch row; i pre, j hidden, k output):

1. spikes emitted at step t-1 are delivered (every connection has a delay of one step):
   ``Isyn_j = sum_i z_i(t-1) W_ij`` and the connection's presynaptic trace
   ``ZBar_i <- alpha_post ZBar_i + z_i(t-1)`` (alpha of the *target* population);
2. neuron updates. Hidden LIF: ``V <- alpha V + Isyn``; ALIF also ``A <- rho A``; with a
   refractory period ``RefracTime -= dt`` while > 0; then
   ``psi = 0 if RefracTime > 0 else (0.3/theta) max(0, 1 - |V - theta_eff|/theta)``
   (theta_eff = theta + beta A for ALIF) and ``FAvg <- alpha_F FAvg``; spike if
   ``V >= theta_eff`` (and not refractory), then ``V -= theta - v_reset``, ``A += 1``,
   ``RefracTime = tau_refrac``, ``FAvg += 1 - alpha_F``. Output LI: ``V <- alpha V + Isyn +
   bias``;
3. learning: ``E = softmax(V) - onehot(y)`` (or ``V - y``), zero for padding rows;
   ``DeltaBias += E``; ``L_j = sum_k W_jk E_k`` (or a fixed random B); per hidden synapse
   ``e = psi_j ZBar_i`` (LIF) or ``psi_j (ZBar_i - beta Eps_ji)`` (ALIF, then
   ``Eps <- psi_j ZBar_i + (rho - psi_j beta) Eps``), ``EBar <- alpha EBar + e``,
   ``DeltaG += EBar L_j + c_reg (FAvg_j - f') e``; per output synapse ``DeltaG += ZBar_j E_k``.

Gradients are summed over the steps and the (active) batch rows.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.compilers import EPropCompiler
from irsnn.connectivity import Dense
from irsnn.neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.utils.data import preprocess_spikes

DT = 1.0
GAMMA = 0.3  # pseudo-derivative dampening factor


# ---------------------------------------------------------------------------------------------
# The independent implementation
# ---------------------------------------------------------------------------------------------
class RefHidden:
    """A hidden LIF/ALIF population of the reference."""

    def __init__(self, n, alif, v_thresh, v_reset, tau_mem, tau_refrac, beta, tau_adapt):
        self.n, self.alif = n, alif
        self.theta, self.v_reset = v_thresh, v_reset
        self.alpha = math.exp(-DT / tau_mem)
        self.rho = math.exp(-DT / tau_adapt) if alif else None
        self.beta = beta if alif else 0.0
        self.tau_refrac = tau_refrac

    def init(self, B):
        z = np.zeros((B, self.n))
        return {"V": z.copy(), "A": z.copy(), "R": z.copy(), "FAvg": z.copy(),
                "psi": z.copy(), "z": z.copy()}

    def step(self, s, isyn, alpha_f):
        s["V"] = self.alpha * s["V"] + isyn
        if self.alif:
            s["A"] = self.rho * s["A"]
        if self.tau_refrac is not None:
            s["R"] = np.where(s["R"] > 0.0, s["R"] - DT, s["R"])
        theta_eff = self.theta + self.beta * s["A"]
        psi = (GAMMA / self.theta) * np.maximum(0.0, 1.0 - np.abs(s["V"] - theta_eff)
                                                / self.theta)
        refractory = s["R"] > 0.0
        s["psi"] = np.where(refractory, 0.0, psi)
        s["FAvg"] = alpha_f * s["FAvg"]
        spike = (s["V"] >= theta_eff) & ~refractory
        s["V"] = np.where(spike, s["V"] - (self.theta - self.v_reset), s["V"])
        s["A"] = np.where(spike, s["A"] + 1.0, s["A"])
        if self.tau_refrac is not None:
            s["R"] = np.where(spike, self.tau_refrac, s["R"])
        s["FAvg"] = np.where(spike, s["FAvg"] + (1.0 - alpha_f), s["FAvg"])
        s["z"] = spike.astype(np.float64)


class ReferenceEprop:
    """e-prop in plain float64 NumPy; state persists across batches (like
    ``reset_vars_between_examples=False``).

    ``hidden``: name -> :class:`RefHidden`; ``conns``: (name, src, dst, W) with src "input"
    or a hidden name and dst a hidden name or "output"; ``feedback``: hidden name -> matrix
    (hidden, out) used for its learning signal (W of its direct output connection for
    symmetric feedback).
    """

    def __init__(self, n_in, hidden, n_out, out_tau, bias, conns, feedback, loss, c_reg=0.001,
                 tau_reg=500.0, f_target=10.0, batch_size=1):
        self.n_in, self.hidden, self.n_out = n_in, hidden, n_out
        self.out_alpha = math.exp(-DT / out_tau)
        self.bias = np.asarray(bias, float)
        self.conns = [(c, s, d, np.asarray(w, float)) for c, s, d, w in conns]
        self.feedback = feedback
        self.loss, self.c_reg = loss, c_reg
        self.alpha_f = math.exp(-DT / tau_reg)
        self.f_prime = f_target * DT / 1000.0
        B = self.B = batch_size
        self.h = {name: pop.init(B) for name, pop in hidden.items()}
        self.out_v = np.zeros((B, n_out))
        self.z_in = np.zeros((B, n_in))
        self.zbar, self.ebar, self.eps = {}, {}, {}
        for c, _src, _dst, w in self.conns:
            self.zbar[c] = np.zeros((B, w.shape[0]))
            self.ebar[c] = np.zeros((B,) + w.shape)
            self.eps[c] = np.zeros((B,) + w.shape)

    def _alpha(self, pop):
        return self.out_alpha if pop == "output" else self.hidden[pop].alpha

    def _spikes(self, pop):
        return self.z_in if pop == "input" else self.h[pop]["z"]

    def run_batch(self, raster, labels, num_active, reset_traces=False):
        """``raster``: (B, T, n_in) input spikes (row b of step t: spikes emitted at step t);
        ``labels``: (B,) class ids or (B, n_out) targets. Returns the batch-summed gradients
        ``{connection: (pre, post), "output.bias": (n_out,)}``. Eligibility traces carry over
        from the previous batch (mlGeNN) unless ``reset_traces``."""
        B, T = raster.shape[:2]
        if reset_traces:
            for store in (self.zbar, self.ebar, self.eps):
                for c in store:
                    store[c] = np.zeros_like(store[c])
        active = (np.arange(B) < num_active)[:, None]
        grads = {c: np.zeros((B,) + w.shape) for c, _, _, w in self.conns}
        dbias = np.zeros((B, self.n_out))
        for t in range(T):
            # 1. deliver the spikes of step t-1; presynaptic traces
            isyn = {name: np.zeros((B, p.n)) for name, p in self.hidden.items()}
            isyn["output"] = np.zeros((B, self.n_out))
            for c, src, dst, w in self.conns:
                z = self._spikes(src)
                isyn[dst] += z @ w
                self.zbar[c] = self._alpha(dst) * self.zbar[c] + z
            # 2. neurons
            for name, pop in self.hidden.items():
                pop.step(self.h[name], isyn[name], self.alpha_f)
            self.out_v = self.out_alpha * self.out_v + isyn["output"] + self.bias
            self.z_in = raster[:, t].astype(np.float64)
            # 3. learning
            if self.loss == "sparse_categorical_crossentropy":
                p = np.exp(self.out_v - self.out_v.max(axis=1, keepdims=True))
                p /= p.sum(axis=1, keepdims=True)
                err = p - np.eye(self.n_out)[labels]
            else:
                err = self.out_v - labels
            err = np.where(active, err, 0.0)
            dbias += err
            sig = {name: err @ self.feedback[name].T for name in self.hidden}
            for c, _src, dst, _w in self.conns:
                zbar = self.zbar[c][:, :, None]
                if dst == "output":
                    grads[c] += zbar * err[:, None, :]
                    continue
                pop, st = self.hidden[dst], self.h[dst]
                psi = st["psi"][:, None, :]
                if pop.alif:
                    e = psi * (zbar - pop.beta * self.eps[c])
                    self.eps[c] = psi * zbar + (pop.rho - psi * pop.beta) * self.eps[c]
                else:
                    e = psi * zbar
                self.ebar[c] = pop.alpha * self.ebar[c] + e
                grads[c] += (self.ebar[c] * sig[dst][:, None, :]
                             + self.c_reg * (st["FAvg"][:, None, :] - self.f_prime) * e)
        keep = active[:, 0]
        out = {c: g[keep].sum(axis=0) for c, g in grads.items()}
        out["output.bias"] = dbias[keep].sum(axis=0)
        return out


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------
N_IN, N_HID, N_OUT, T = 6, 5, 3, 30


def spike_trains(rng, num_examples, n=N_IN, steps=T, rate=0.25):
    """Integer spike times (at most one spike per neuron and step), as (times, ids) and as a
    raster (examples, steps, n)."""
    raster = rng.random((num_examples, steps, n)) < rate
    raster[:, -1] = False  # latest spike within the example
    trains = []
    for ex in raster:
        t, i = np.nonzero(ex)
        trains.append(preprocess_spikes(t.astype(float), i, n))
    return trains, raster


def build_case(hidden_kind="alif", recurrent=True, tau_refrac=None, loss="sparse_categorical_"
               "crossentropy", train_output_bias=True, feedback="symmetric", batch_size=1,
               c_reg=0.001, two_layers=False, seed=0, backend="reference", bias=0.1,
               gradient_mode="event"):
    rng = np.random.default_rng(seed)
    w_ih = rng.normal(0.0, 0.5, (N_IN, N_HID)) + 0.15
    w_hh = rng.normal(0.0, 0.3, (N_HID, N_HID))
    w_hh2 = rng.normal(0.0, 0.6, (N_HID, N_HID)) + 0.2
    w_ho = rng.normal(0.0, 0.5, (N_HID, N_OUT))
    bias_arr = np.full(N_OUT, bias)
    hp = dict(v_thresh=0.6, v_reset=0.0, tau_mem=15.0, tau_refrac=tau_refrac)
    if hidden_kind == "alif":
        hp.update(beta=0.2, tau_adapt=40.0)

    def neuron():
        return (AdaptiveLeakyIntegrateFire(**hp) if hidden_kind == "alif"
                else LeakyIntegrateFire(**hp))

    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=10000), N_IN, name="input")
        h = Population(neuron(), N_HID, name="hidden")
        last = h
        if two_layers:
            h2 = Population(neuron(), N_HID, name="hidden2")
            Connection(h, h2, Dense(w_hh2.copy()), name="h1h2")
            last = h2
        out = Population(LeakyIntegrate(tau_mem=10.0, bias=bias, readout="sum_var"), N_OUT,
                         name="output")
        Connection(inp, h, Dense(w_ih.copy()), name="ih")
        if recurrent:
            Connection(h, h, Dense(w_hh.copy()), name="hh")
        Connection(last, out, Dense(w_ho.copy()), name="ho")
    compiler = EPropCompiler(example_timesteps=T, losses=loss, train_output_bias=train_output_bias,
                             feedback=feedback, batch_size=batch_size, c_reg=c_reg,
                             precision="double", backend=backend,
                             gradient_mode=gradient_mode.split("-")[0],
                             reset_traces_between_examples=gradient_mode == "online-reset")

    ref_hidden = {"hidden": RefHidden(N_HID, hidden_kind == "alif", hp["v_thresh"],
                                      hp["v_reset"], 15.0, tau_refrac, hp.get("beta"),
                                      hp.get("tau_adapt"))}
    conns = [("ih", "input", "hidden", w_ih)]
    if recurrent:
        conns.append(("hh", "hidden", "hidden", w_hh))
    if two_layers:
        ref_hidden["hidden2"] = RefHidden(N_HID, hidden_kind == "alif", hp["v_thresh"],
                                          hp["v_reset"], 15.0, tau_refrac, hp.get("beta"),
                                          hp.get("tau_adapt"))
        conns.append(("h1h2", "hidden", "hidden2", w_hh2))
    conns.append(("ho", "hidden2" if two_layers else "hidden", "output", w_ho))

    def make_reference(compiled):
        fb = {}
        for name in ref_hidden:
            key = f"feedback.output->{name}/B"
            direct = (name == "hidden2") if two_layers else True
            if feedback == "symmetric" and direct:
                fb[name] = w_ho
            else:
                fb[name] = np.asarray(compiled.ir.arrays[key], float)
        return ReferenceEprop(N_IN, ref_hidden, N_OUT, 10.0, bias_arr, conns, fb, loss,
                              c_reg=c_reg, batch_size=batch_size)

    return net, inp, out, compiler, make_reference


def labels_for(loss, rng, n):
    if loss == "sparse_categorical_crossentropy":
        return rng.integers(0, N_OUT, n)
    return rng.normal(0.0, 1.0, (n, N_OUT))


def compare(got, want, train_output_bias):
    expected_keys = set(want) - ({"output.bias"} if not train_output_bias else set())
    assert set(got) == expected_keys
    for k in expected_keys:
        assert got[k].shape == want[k].shape, k
        scale = max(np.abs(want[k]).max(), 1e-3)
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-9 * scale, err_msg=k)


def run_check(backend, build, num_batches=1, examples=(1,), gradient_mode="event", **kw):
    """Gradients of ``examples`` batches against :class:`ReferenceEprop`. ``gradient_mode``:
    ``"event"``, ``"online"`` (traces carry over between batches, as mlGeNN) or
    ``"online-reset"`` (online with ``reset_traces_between_examples``)."""
    loss = kw.get("loss", "sparse_categorical_crossentropy")
    net, inp, out, compiler, make_reference = build_case(backend=backend,
                                                         gradient_mode=gradient_mode, **kw)
    compiled = build(compiler, net)
    ref = make_reference(compiled)
    rng = np.random.default_rng(123)
    B = compiler.batch_size
    nonzero = False
    with compiled:
        for n in examples:
            trains, raster = spike_trains(rng, n)
            y = labels_for(loss, rng, n)
            padded = np.zeros((B, T, N_IN), bool)
            padded[:n] = raster
            ypad = np.zeros((B,) + y.shape[1:], y.dtype)
            ypad[:n] = y
            got = compiled.compute_gradients({inp: trains}, {out: y})
            want = ref.run_batch(padded, ypad, n, reset_traces=gradient_mode != "online")
            compare(got, want, kw.get("train_output_bias", True))
            nonzero |= all(np.abs(g).max() > 0 for g in want.values())
    # the case must exercise every gradient (spiking hidden neurons, nonzero errors)
    assert nonzero


HIDDEN = ["lif", "alif"]
LOSSES = ["sparse_categorical_crossentropy", "mean_square_error"]


@pytest.mark.parametrize("hidden_kind", HIDDEN)
@pytest.mark.parametrize("recurrent", [False, True], ids=["ff", "rec"])
@pytest.mark.parametrize("loss", LOSSES, ids=["scce", "mse"])
@pytest.mark.parametrize("mode", ["event", "online"])
def test_gradients_match_reference(backend, build, hidden_kind, recurrent, loss, mode):
    run_check(backend, build, hidden_kind=hidden_kind, recurrent=recurrent, loss=loss,
              gradient_mode=mode)


@pytest.mark.parametrize("hidden_kind", HIDDEN)
@pytest.mark.parametrize("tau_refrac", [1.0, 3.0])
def test_gradients_with_refractory_period(backend, build, hidden_kind, tau_refrac):
    run_check(backend, build, hidden_kind=hidden_kind, tau_refrac=tau_refrac)


@pytest.mark.parametrize("hidden_kind", HIDDEN)
def test_gradients_without_output_bias(backend, build, hidden_kind):
    run_check(backend, build, hidden_kind=hidden_kind, train_output_bias=False)


#: with several batches the modes differ: online traces carry over (mlGeNN) unless reset
MODES = ["event", "online", "online-reset"]


@pytest.mark.parametrize("mode", MODES)
def test_gradients_full_batches(backend, build, mode):
    """Batches of 4, state carried from batch to batch (reset_vars_between_examples=False):
    every row's regularisation and learning-signal terms are summed."""
    run_check(backend, build, batch_size=4, examples=(4, 4), tau_refrac=2.0, gradient_mode=mode)


@pytest.mark.parametrize("loss", LOSSES, ids=["scce", "mse"])
@pytest.mark.parametrize("mode", MODES)
def test_gradients_batched_with_partial_batch(backend, build, loss, mode):
    """The last batch is partial: the errors of its padding rows are masked, so (with the
    regularisation off, see the next test) they contribute nothing, while the active rows
    carry their state over from the previous batch."""
    run_check(backend, build, loss=loss, batch_size=4, examples=(4, 4, 2), tau_refrac=2.0,
              c_reg=0.0, gradient_mode=mode)


@pytest.mark.parametrize("mode", ["event", "online"])
def test_partial_batch_padding_does_not_contribute(backend, build, mode):
    """Padding rows carry hidden state from the previous batch; with a large c_reg the
    firing-rate regularisation term of those rows would show if it leaked into the sum."""
    run_check(backend, build, batch_size=3, examples=(3, 1), c_reg=0.5, gradient_mode=mode)


@pytest.mark.parametrize("hidden_kind", HIDDEN)
def test_gradients_random_feedback(backend, build, hidden_kind):
    run_check(backend, build, hidden_kind=hidden_kind, feedback="random")


def test_random_feedback_matrix_in_ir():
    net, inp, out, compiler, _ = build_case(feedback="random")
    compiled = compiler.compile(net)
    b = np.asarray(compiled.ir.arrays["feedback.output->hidden/B"])
    assert b.shape == (N_HID, N_OUT)
    assert np.all(np.isfinite(b)) and np.std(b) > 0
    # fixed: the same seed gives the same matrix
    net2, *_, compiler2, _ = build_case(feedback="random")
    b2 = np.asarray(compiler2.compile(net2).ir.arrays["feedback.output->hidden/B"])
    np.testing.assert_array_equal(b, b2)


@pytest.mark.parametrize("mode", ["event", "online"])
def test_gradients_two_hidden_layers(backend, build, mode):
    """The first hidden layer has no direct path to the output: it always learns through a
    fixed random matrix, the second through the transposed output weights."""
    run_check(backend, build, two_layers=True, gradient_mode=mode)


def test_gradients_equal_across_precisions():
    """Single precision follows the double-precision gradients closely (sanity of the float
    path used in training)."""
    net, inp, out, compiler, make_reference = build_case(hidden_kind="lif", recurrent=False)
    compiler_f = EPropCompiler(example_timesteps=T, losses="sparse_categorical_crossentropy",
                               precision="float", backend="reference")
    rng = np.random.default_rng(1)
    trains, raster = spike_trains(rng, 1)
    y = labels_for("sparse_categorical_crossentropy", rng, 1)
    g64 = compiler.compile(net).compute_gradients({inp: trains}, {out: y})
    g32 = compiler_f.compile(net).compute_gradients({inp: trains}, {out: y})
    for k in g64:
        np.testing.assert_allclose(g32[k], g64[k], rtol=1e-3, atol=1e-5, err_msg=k)
