import numpy as np
import pytest

from irsnn.errors import InputError, ModelError
from irsnn.initializers import Normal
from irsnn.network import Network
from irsnn.neurons import (AdaptiveLeakyIntegrateFire, BinarySpikeInput, IntegrateFire,
                           LeakyIntegrate, LeakyIntegrateFire, Neuron, PoissonInput,
                           SpikeInput)
from irsnn.population import Population
from irsnn.utils.data import preprocess_spikes
from irsnn.utils.model import NeuronModel


def _pop(neuron, shape):
    with Network():
        return Population(neuron, shape, name="inp")


def _canon(neuron, shape=3, dt=1.0, batch_size=1):
    pop = _pop(neuron, shape)
    m = neuron.get_model(pop, dt, batch_size)
    return m, m.canonical("x")


def test_integrate_fire():
    n = IntegrateFire()
    assert (n.v_thresh, n.v_reset, n.v, n.tau_refrac) == (1.0, 0.0, 0.0, None)
    assert not n.relative_reset and n.integrate_during_refrac
    m, c = _canon(n)
    assert m.output_var_name == "V"
    assert c.vars == (("V", "scalar", "readwrite"),)
    assert m.param_vals == {"Vthresh": 1.0, "Vreset": 0.0}
    assert "V += Isyn;" in c.sim_code and c.threshold_code == "V >= Vthresh"
    assert "V = Vreset;" in c.reset_code
    _, c = _canon(IntegrateFire(relative_reset=True))
    assert "V -= (Vthresh - Vreset);" in c.reset_code
    _, c = _canon(IntegrateFire(relative_reset=False))
    assert c.reset_code.strip() == "V = Vreset;"


def test_lif_defaults_and_model():
    n = LeakyIntegrateFire()
    assert (n.v_thresh, n.v_reset, n.v, n.tau_mem, n.tau_refrac) == (1.0, 0.0, 0.0, 20.0, None)
    assert not n.scale_i and n.readout is None and n.softmax is None
    m, c = _canon(n, dt=0.5)
    assert m.param_vals["Alpha"] == pytest.approx(np.exp(-0.5 / 20.0), rel=1e-15)
    assert dict(c.params) == {"Vthresh": "scalar", "Vreset": "scalar", "Alpha": "scalar"}
    assert c.sim_code.strip() == "V = (Alpha * V) + Isyn;"
    assert c.threshold_code == "V >= Vthresh"
    _, c = _canon(LeakyIntegrateFire(scale_i=True))
    assert "((1.0 - Alpha) * Isyn)" in c.sim_code


def test_lif_refractory():
    m, c = _canon(LeakyIntegrateFire(tau_refrac=2.0))
    assert ("RefracTime", "scalar", "readwrite") in c.vars
    assert m.var_vals["RefracTime"] == 0.0 and m.param_vals["TauRefrac"] == 2.0
    assert c.threshold_code == "V >= Vthresh && RefracTime <= 0.0"
    assert "RefracTime = TauRefrac;" in c.reset_code
    assert c.sim_code.index("V = (Alpha") < c.sim_code.index("RefracTime -= dt")
    _, c = _canon(LeakyIntegrateFire(tau_refrac=2.0, integrate_during_refrac=False))
    assert "else {" in c.sim_code and c.sim_code.index("else") < c.sim_code.index("V = (Alpha")


def test_lif_arrays_and_validation():
    m, _ = _canon(LeakyIntegrateFire(tau_mem=[10.0, 20.0, 40.0]))
    np.testing.assert_allclose(m.param_vals["Alpha"], np.exp(-1.0 / np.array([10, 20, 40.0])))
    with pytest.raises(ModelError, match=r"LeakyIntegrateFire: tau_mem must be > 0 \(got 0"):
        LeakyIntegrateFire(tau_mem=0.0)
    with pytest.raises(ModelError, match="tau_mem must be > 0"):
        LeakyIntegrateFire(tau_mem=[1.0, -2.0])
    with pytest.raises(ModelError, match="tau_refrac must be >= 0"):
        LeakyIntegrateFire(tau_refrac=-1.0)
    with pytest.raises(ModelError, match="initializer"):
        LeakyIntegrateFire(tau_mem=Normal(20.0, 1.0))
    v = LeakyIntegrateFire(v="uniform").v
    assert v.kind == "uniform"
    with pytest.raises(ModelError, match="unknown argument"):
        LeakyIntegrateFire(tau_membrane=3.0)


def test_alif():
    n = AdaptiveLeakyIntegrateFire()
    assert (n.a, n.beta, n.tau_adapt, n.tau_mem) == (0.0, 0.0174, 2000.0, 20.0)
    m, c = _canon(n)
    assert c.threshold_code == "V >= (Vthresh + (Beta * A))"
    assert m.param_vals["Rho"] == pytest.approx(np.exp(-1.0 / 2000.0))
    assert "A *= Rho;" in c.sim_code and "A += 1.0;" in c.reset_code
    assert ("A", "scalar", "readwrite") in c.vars
    _, c = _canon(AdaptiveLeakyIntegrateFire(tau_refrac=1.0, integrate_during_refrac=False))
    assert c.threshold_code.endswith("&& RefracTime <= 0.0") and "A *= Rho;" in c.sim_code
    with pytest.raises(ModelError, match="tau_adapt"):
        AdaptiveLeakyIntegrateFire(tau_adapt=-5)


def test_leaky_integrate():
    n = LeakyIntegrate()
    assert (n.v, n.bias, n.tau_mem, n.scale_i, n.softmax) == (0.0, 0.0, 20.0, False, False)
    m, c = _canon(LeakyIntegrate(bias=0.5, tau_mem=10.0))
    assert c.sim_code.strip() == "V = (Alpha * V) + Isyn + Bias;"
    assert m.param_vals == {"Alpha": pytest.approx(np.exp(-0.1)), "Bias": 0.5}
    assert c.threshold_code == "" and c.reset_code == ""
    _, c = _canon(LeakyIntegrate(scale_i=True))
    assert "((1.0 - Alpha) * Isyn) + Bias" in c.sim_code


def test_readout_resolution_lazy():
    # With no readout the readouts package is never needed
    assert LeakyIntegrate().readout is None
    try:
        from irsnn.readouts import default_readouts
    except ImportError:
        pytest.skip("irsnn.readouts not written yet")
    name = next(iter(default_readouts))
    n = LeakyIntegrate(readout=name)
    assert isinstance(n.readout, default_readouts[name])


def test_old_style_custom_neuron():
    class Custom(Neuron):
        def __init__(self, softmax=False, readout=None):
            super().__init__(softmax, readout)

        def get_model(self, population, dt):
            return NeuronModel({"var_name_types": [("V", "scalar")],
                                "sim_code": "$(V) += $(Isyn);"}, "V", {}, {"V": 0.0})

    n = Custom(softmax=True)
    assert n.softmax is True
    c = n.get_model(None, 1.0).canonical("custom")
    assert c.vars == (("V", "scalar", "readwrite"),)


def test_poisson_model_and_input(state):
    n = PoissonInput()
    assert (n.signed_spikes, n.input_frames, n.input_frame_timesteps) == (False, 1, 1)
    m, c = _canon(n, 3, batch_size=2)
    assert c.vars == (("Input", "scalar", "readonly"),)
    assert c.threshold_code.startswith("Input > 0.0 && gennrand_uniform()")
    assert c.negative_threshold_code == ""
    n.set_input(state, 2, (3,), [[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(state.vars["Input"], [[1, 2, 3], [0, 0, 0]])
    with pytest.raises(InputError, match=r"Poisson rate -1.0 at index \(0, 1\).*signed"):
        n.set_input(state, 2, (3,), [[1.0, -1.0, 3.0]])
    with pytest.raises(InputError, match=r"'inp'.*shape \(2, 4\).*\(3,\)"):
        n.set_input(state, 2, (3,), np.zeros((2, 4)))
    with pytest.raises(InputError, match="3 examples but the batch size is 2"):
        n.set_input(state, 2, (3,), np.zeros((3, 3)))
    with pytest.raises(InputError, match="nan"):
        n.set_input(state, 2, (3,), [[1.0, np.nan, 3.0]])
    # batch size 1 accepts unbatched data
    n.set_input(state, 1, (3,), [4.0, 5.0, 6.0])
    assert state.vars["Input"].shape == (1, 3)


def test_poisson_signed_and_frames(state):
    _, c = _canon(PoissonInput(signed_spikes=True))
    assert c.negative_threshold_code.startswith("Input < 0.0 && gennrand_uniform()")
    PoissonInput(signed_spikes=True).set_input(state, 1, (3,), [1.0, -1.0, 0.0])
    n = PoissonInput(input_frames=4, input_frame_timesteps=2)
    m, c = _canon(n, 3, batch_size=2)
    assert c.vars == () and c.egps == (("Input", "scalar*"),)
    assert m.egp_vals["Input"].shape == (2 * 4 * 3,)
    assert "min((int)(t / (2 * dt)), 3)" in c.threshold_code
    assert "Input[(((batch * 4) + min(" in c.threshold_code
    assert "num_neurons) + id]" in c.threshold_code
    data = np.arange(12.0).reshape(1, 4, 3)
    n.set_input(state, 2, (3,), data)
    assert state.egps["Input"].shape == (24,)
    np.testing.assert_array_equal(state.egps["Input"][:12], np.arange(12.0))
    np.testing.assert_array_equal(state.egps["Input"][12:], 0.0)
    with pytest.raises(InputError, match="4 input frames"):
        n.set_input(state, 2, (3,), np.zeros((2, 3, 3)))
    with pytest.raises(ModelError, match="input_frames must be an integer >= 1"):
        PoissonInput(input_frames=0)


def test_binary_spike_input(state):
    m, c = _canon(BinarySpikeInput(signed_spikes=True), (2, 2))
    assert c.threshold_code == "Input > 0.0" and c.negative_threshold_code == "Input < 0.0"
    assert m.output_var_name is None
    BinarySpikeInput().set_input(state, 2, (2, 2), np.ones((2, 2, 2)))
    assert state.vars["Input"].shape == (2, 4)
    with pytest.raises(InputError, match="inf"):
        BinarySpikeInput().set_input(state, 1, (2, 2), np.full((2, 2), np.inf))


def test_spike_input_model():
    from irsnn.utils.model import SCHEDULE_EGPS
    n = SpikeInput(max_spikes=100)
    assert SpikeInput().max_spikes == 1000000
    m, c = _canon(n, 3)
    assert c.spike_schedule and c.vars == () and c.egps == SCHEDULE_EGPS
    assert not (c.sim_code or c.threshold_code or c.reset_code)


def test_spike_input_set_input(make_state):
    st = make_state(dt=1.0, example_timesteps=10)
    n = SpikeInput(max_spikes=6)
    ex0 = preprocess_spikes(np.array([1.0, 0.0, 2.0]), np.array([2, 0, 0]), 3)
    ex1 = preprocess_spikes(np.array([5.0]), np.array([1]), 3)
    n.set_input(st, 3, (3,), [ex0, ex1])
    # steps 0..5 of three batch elements: ex0 spikes 0@0, 2@1, 0@2; ex1 1@5; the third idle
    assert st.egps["ScheduleWindow"].tolist() == [0, 6]
    np.testing.assert_array_equal(st.egps["ScheduleOffsets"],
                                  [0, 1, 2, 3, 3, 3, 3] + [3] * 5 + [4] + [4] * 6)
    np.testing.assert_array_equal(st.egps["ScheduleSpikes"], [0, 2, 0, 1])
    assert all(st.egps[k].dtype == np.uint32 for k in st.egps)
    # the schedule starts where the clock stands (batches without a time reset)
    st = make_state(dt=1.0, example_timesteps=10, timestep=40)
    n.set_input(st, 1, (3,), [ex0])
    assert st.egps["ScheduleWindow"].tolist() == [40, 2]
    np.testing.assert_array_equal(st.egps["ScheduleSpikes"], [0, 2, 0])


def test_spike_input_errors(make_state):
    st = make_state(dt=0.5, example_timesteps=10)
    n = SpikeInput(max_spikes=3)
    many = preprocess_spikes(np.arange(4.0), np.zeros(4, dtype=int), 2)
    with pytest.raises(InputError, match=r"holds 4 spikes but max_spikes is 3"):
        n.set_input(st, 1, (2,), [many])
    late = preprocess_spikes(np.array([5.0]), np.array([0]), 2)
    with pytest.raises(InputError, match=r"spike time 5.0 ms.*last 5.0 ms"):
        n.set_input(st, 1, (2,), [late])
    neg = preprocess_spikes(np.array([-1.0]), np.array([0]), 2)
    with pytest.raises(InputError, match="-1.0"):
        n.set_input(st, 1, (2,), neg)
    with pytest.raises(InputError, match="3 neurons but the population has 2"):
        n.set_input(st, 1, (2,), [preprocess_spikes([1.0], [0], 3)])
    ok = preprocess_spikes([1.0], [0], 2)
    with pytest.raises(InputError, match="2 spike trains for a batch size of 1"):
        n.set_input(st, 1, (2,), [ok, ok])


def test_spike_input_rejects_unsorted_or_inconsistent_trains(make_state):
    from irsnn.utils.data import PreprocessedSpikes
    st = make_state(dt=1.0, example_timesteps=10)
    n = SpikeInput(max_spikes=10)
    # neuron 0: 1, 3; neuron 1: 2 -- a decrease at a neuron boundary is fine
    n.set_input(st, 1, (2,), [PreprocessedSpikes(np.array([2, 3]), np.array([1.0, 3.0, 2.0]))])
    # neuron 0: 3, 1 -- unsorted within a neuron
    with pytest.raises(InputError, match="not sorted within each neuron"):
        n.set_input(st, 1, (2,), [PreprocessedSpikes(np.array([2, 3]),
                                                     np.array([3.0, 1.0, 2.0]))])
    with pytest.raises(InputError, match="inconsistent end_spikes"):
        n.set_input(st, 1, (2,), [PreprocessedSpikes(np.array([2, 2]),
                                                     np.array([1.0, 3.0, 2.0]))])
    # end_spikes as floats: whole numbers work as integers (also with unsorted times, which
    # are then reported as such), others are refused
    n.set_input(st, 1, (2,), [PreprocessedSpikes(np.array([2.0, 3.0]), np.array([1.0, 3.0, 2.0]))])
    np.testing.assert_array_equal(st.egps["ScheduleSpikes"], [0, 1, 0])
    with pytest.raises(InputError, match="not sorted within each neuron"):
        n.set_input(st, 1, (2,), [PreprocessedSpikes(np.array([2.0, 3.0]),
                                                     np.array([3.0, 1.0, 2.0]))])
    with pytest.raises(InputError, match=r"example 0 has end_spikes of dtype float64; they must "
                                         r"be whole numbers"):
        n.set_input(st, 1, (2,), [PreprocessedSpikes(np.array([1.5, 3.0]),
                                                     np.array([1.0, 3.0, 2.0]))])


def _spike_train_variants(n, duration, rng):
    """Good and bad spike trains of ``n`` neurons: every way SpikeInput's checks can fail,
    boundary cases that pass, and data in unusual forms (lists, other dtypes)."""
    from irsnn.utils.data import PreprocessedSpikes
    out = []
    for _ in range(6):
        k = int(rng.integers(0, 3 * n))
        good = preprocess_spikes(rng.uniform(0.0, duration, k), rng.integers(0, n, k), n)
        out.append(good)
        end, times = good.end_spikes, good.spike_times
        if k >= 2:
            bad = times.copy()
            j = int(rng.integers(0, k))
            for value in (-0.5, np.nan, np.inf, duration, duration + 1.0,
                          np.nextafter(duration, 0.0), 0.0):
                t = bad.copy()
                t[j] = value
                out.append(PreprocessedSpikes(end, t))
            # a decrease inside a neuron's train (bad), or only where a new neuron starts (fine)
            out.append(PreprocessedSpikes(end, times[::-1].copy()))
            out.append(PreprocessedSpikes(end, np.sort(times)))
            e = end.copy()
            e[int(rng.integers(0, n))] += 1
            out.append(PreprocessedSpikes(e, times))
            out.append(PreprocessedSpikes(end[::-1].copy(), times))
            out.append(PreprocessedSpikes(end - 1, times[:-1]))
        out += [PreprocessedSpikes(end.astype(np.int32), times.astype(np.float32)),
                PreprocessedSpikes(end.astype(np.uint16), np.round(times).astype(np.int64)),
                PreprocessedSpikes(list(end), list(times)), PreprocessedSpikes(end[:-1], times),
                PreprocessedSpikes(end.astype(float), times), (end, times)]
    out.append(PreprocessedSpikes(np.zeros(n, np.int64), np.zeros(0)))
    return out


@pytest.mark.parametrize("n", [1, 5, 40])
def test_spike_trains_checked_together_pass_exactly_when_each_passes(n, monkeypatch):
    """SpikeInput.prepare_input checks a dataset in one go; an example it passes must pass
    the per-example checks, and one in the usual form that fails them must not pass."""
    rng = np.random.default_rng(n)
    duration = 7.5
    examples = _spike_train_variants(n, duration, rng)
    order = rng.permutation(len(examples))
    examples = [examples[i] for i in order]
    # in groups of many examples (at least one bad: each example is decided alone) and alone
    for group in (examples, examples[:1], [examples[1]]):
        good = SpikeInput._checks_pass(group, n, duration)
        for ex, ok in zip(group, good):
            try:
                SpikeInput._check_example("p", 0, ex, n, duration)
                passes = True
            except InputError:
                passes = False
            usual = (isinstance(ex, tuple) and type(ex).__name__ == "PreprocessedSpikes"
                     and isinstance(ex.end_spikes, np.ndarray) and ex.end_spikes.shape == (n,)
                     and ex.end_spikes.dtype.kind in "iu"
                     and isinstance(ex.spike_times, np.ndarray)
                     and ex.spike_times.dtype.kind in "fiu")
            assert ok == (passes and usual), ex
    # good examples pass together (one by one is the fallback when a group fails), also in
    # groups of about 50 spikes
    good = [ex for ex, ok in zip(examples, SpikeInput._checks_pass(examples, n, duration)) if ok]
    assert len(good) > 10 and SpikeInput._all_pass(good, n, duration)
    monkeypatch.setattr("irsnn.neurons.spike_input.CHECK_GROUP_SPIKES", 50)
    assert SpikeInput._checks_pass(good, n, duration).all()


def test_spike_input_applies_prepared_batches_as_raw_ones(make_state):
    """Batches cut from prepare_input's SpikeTrains (slices, index arrays) set exactly the
    state the same examples set as a list, and a bad example is reported by its place in
    the batch with the same message, when its batch is applied."""
    from irsnn.neurons.spike_input import SpikeTrains
    rng = np.random.default_rng(3)
    n, duration, batch = 6, 10.0, 3
    examples = [preprocess_spikes(rng.uniform(0.0, duration, k), rng.integers(0, n, k), n)
                for k in (0, 5, 9, 1, 12, 7, 0)]
    neuron = SpikeInput(max_spikes=40)
    prepared = neuron.prepare_input((n,), examples, 10, 1.0)
    assert isinstance(prepared, SpikeTrains) and prepared.good.all()
    for idx in (slice(0, 3), slice(3, 6), slice(6, 7), np.array([5, 0, 6]), np.array([2])):
        raw, fast = make_state(dt=1.0, example_timesteps=10), make_state(dt=1.0,
                                                                         example_timesteps=10)
        chosen = prepared[idx]
        assert len(chosen) == len(np.arange(7)[idx])
        neuron.set_input(raw, batch, (n,), [examples[i] for i in np.arange(7)[idx]])
        neuron.set_input(fast, batch, (n,), chosen)
        assert set(raw.egps) == set(fast.egps) == {"ScheduleSpikes", "ScheduleOffsets",
                                                   "ScheduleWindow"}
        for name in raw.egps:
            np.testing.assert_array_equal(fast.egps[name], raw.egps[name])
            assert fast.egps[name].dtype == raw.egps[name].dtype
    bad = list(examples)
    bad[4] = bad[4]._replace(spike_times=bad[4].spike_times + duration)
    prepared = neuron.prepare_input((n,), bad, 10, 1.0)
    assert list(prepared.good) == [True] * 4 + [False] + [True] * 2
    neuron.set_input(make_state(dt=1.0, example_timesteps=10), batch, (n,), prepared[0:3])
    messages = []
    for data in (bad[3:6], prepared[3:6]):
        with pytest.raises(InputError) as err:
            neuron.set_input(make_state(dt=1.0, example_timesteps=10), batch, (n,), data)
        messages.append(str(err.value))
    assert messages[0] == messages[1] and "example 1 has spike time" in messages[0]
    # checked for another population size or duration: the per-batch checks decide
    with pytest.raises(InputError, match="last 5.0 ms"):
        neuron.set_input(make_state(dt=0.5, example_timesteps=10), batch, (n,), prepared[0:3])


def test_spike_trains_keep_schedules_for_later_batches(make_state, monkeypatch):
    """Prepared spike trains keep each example's schedule after its first batch: later batches
    (any selection, order, padding, repeats) get exactly the schedule worked out afresh; the
    kept bytes are bounded, and another dt or precision starts again."""
    import irsnn.neurons.spike_input as si
    rng = np.random.default_rng(8)
    n = 5
    examples = [preprocess_spikes(rng.integers(0, 12, k) * 0.5, rng.integers(0, n, k), n)
                for k in (0, 7, 3, 11, 1, 0, 9)]
    neuron = SpikeInput(max_spikes=100)

    def check(prepared, idx, batch, dt=0.5, scalar=np.float32):
        kept, fresh = (make_state(dt=dt, example_timesteps=12, scalar=scalar)
                       for _ in range(2))
        neuron.set_input(kept, batch, (n,), prepared[idx])
        neuron.set_input(fresh, batch, (n,), [examples[i] for i in np.arange(7)[idx]])
        for name in fresh.egps:
            np.testing.assert_array_equal(kept.egps[name], fresh.egps[name], err_msg=name)
            assert kept.egps[name].dtype == fresh.egps[name].dtype

    prepared = neuron.prepare_input((n,), examples, 12, 0.5)
    cache = prepared._schedules
    selections = [np.array([1, 2]), np.array([2, 1, 3]), slice(0, 1), np.array([5]),
                  np.array([6, 6, 0]), np.array([4, 3, 2, 1]), slice(5, 7),
                  np.array([2]), np.array([0, 4])]  # kept with longer ones, now alone
    for k, idx in enumerate(selections):
        check(prepared, idx, 4)
        if k == 0:  # the first batch works out the whole (small) data set's schedules
            assert sorted(k for k in cache if isinstance(k, int)) == list(range(7))
    check(prepared, np.array([3, 1]), 2, dt=1.0)                 # another dt: kept anew
    assert cache["key"] == (1.0, np.dtype(np.float32))
    assert sorted(k for k in cache if isinstance(k, int)) == list(range(7))
    check(prepared, np.array([3]), 1, dt=1.0, scalar=np.float64)
    assert cache["key"] == (1.0, np.dtype(np.float64))
    # examples that failed the checks are not worked out ahead: a good batch applies, the
    # bad one gets its check's error
    broken = list(examples)
    broken[5] = preprocess_spikes(np.array([1.0, np.nan]), np.array([0, 1]), n)
    prepared = neuron.prepare_input((n,), broken, 12, 0.5)
    neuron.set_input(make_state(dt=0.5, example_timesteps=12), 2, (n,), prepared[[0, 1]])
    assert 5 not in prepared._schedules and 6 in prepared._schedules
    with pytest.raises(InputError, match=r"example 0 .*nan"):
        neuron.set_input(make_state(dt=0.5, example_timesteps=12), 1, (n,), prepared[[5]])
    # nothing is kept beyond the budget, and the batches are still right
    monkeypatch.setattr(si, "SCHEDULE_CACHE_BYTES", 60)
    small = neuron.prepare_input((n,), examples, 12, 0.5)
    for idx in selections:
        check(small, idx, 4)
    assert 0 < small._schedules["bytes"] <= 60
    assert len([k for k in small._schedules if isinstance(k, int)]) < 7


def test_a_threshold_condition_must_be_a_truth_value():
    """[hardening] A numeric threshold (``V - Vthresh``) ran on C as "non-zero fires" and
    raised IndexError on the reference backend; now it is a language error everywhere."""
    from irsnn import Network, Population
    from irsnn.compilers import InferenceCompiler
    from irsnn.lang import LangError
    from irsnn.neurons import LeakyIntegrateFire

    class Numeric(LeakyIntegrateFire):
        def get_model(self, population, dt, batch_size):
            model = super().get_model(population, dt, batch_size)
            model.model["threshold_condition_code"] = "V - Vthresh"
            return model

    net = Network()
    with net:
        Population(Numeric(v_thresh=1.0), 4, name="numeric", readout="spike_count")
    from irsnn.backends import available_backends
    for backend in [b for b in ("reference", "c") if available_backends()[b][0]]:
        with pytest.raises(LangError, match=r"Population 'numeric'.*threshold_code.*"
                                            r"has type float, not bool"):
            InferenceCompiler(evaluate_timesteps=5, backend=backend).compile(net)


@pytest.mark.parametrize("change, says", [
    (lambda m: m["vars"].append(("V V", "scalar")), r"vars declares 'V V', which is not a name"),
    (lambda m: m["vars"].append(("P)x", "scalar")), r"vars declares 'P\)x'"),
    (lambda m: m["vars"].append(("_hidden", "scalar")), r"vars declares '_hidden'"),
    (lambda m: m["vars"].append(("while", "scalar")), r"vars declares 'while'"),
    (lambda m: m["vars"].append(("W", "scalar*")), r"vars declares 'W' of type 'scalar\*', "
                                                   r"which is not a type of model code"),
    (lambda m: m["vars"].append(("W", "uint8_t")), r"'W' of type 'uint8_t'"),
    (lambda m: m.setdefault("extra_global_params", []).append(("E", "float**")),
     r"extra_global_params declares 'E' of type 'float\*\*'"),
    (lambda m: (m.setdefault("additional_input_vars", []).append(("I2", "scalar", 0.0)),
                m["vars"].append(("add_I2", "scalar"))),
     r"additional input var 'I2' and the declared 'add_I2' would share a name"),
])
def test_model_declarations_that_code_cannot_use_are_refused(change, says):
    """[hardening] Names and types from a model dict reached the generated source unchecked."""
    from irsnn import Network, Population
    from irsnn.compilers import InferenceCompiler
    from irsnn.errors import ModelError
    from irsnn.neurons import LeakyIntegrateFire

    class Changed(LeakyIntegrateFire):
        def get_model(self, population, dt, batch_size):
            model = super().get_model(population, dt, batch_size)
            model.model["vars"] = list(model.model.get("vars", ()))
            change(model.model)
            for name, *_ in model.model["vars"]:
                model.var_vals.setdefault(name, 0.0)
            return model

    net = Network()
    with net:
        Population(Changed(v_thresh=1.0), 3, name="changed", readout="spike_count")
    with pytest.raises(ModelError, match=r"Population 'changed'.*" + says):
        InferenceCompiler(evaluate_timesteps=5, backend="reference").compile(net)
