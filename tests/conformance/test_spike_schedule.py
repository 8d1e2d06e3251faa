"""``SpikeInput``'s spike schedule (worked out on the host, copied per step by the kernels)
against an independent oracle: GeNN's spike source array written as an ordinary neuron model
(each neuron's next spike time in a variable, tested every step, advanced by the reset), run
on the reference backend.

The cases aim at what the schedule has to get right: spikes exactly on a step's start time and
just either side of it (the clock is ``step * dt`` rounded to float32, which the host must
reproduce), several spikes of one neuron within one step (one per step: the rest go out in
the following steps, some after the example's end), neurons without spikes, partial batches,
a clock that is not reset between batches (the schedule starts where the clock is), and
per-timestep runs.
"""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.callbacks import Callback
from irsnn.connectivity import Dense
from irsnn.errors import InputError
from irsnn.neurons import IntegrateFire, LeakyIntegrate, SpikeInput
from irsnn.neurons.input import Input, state_owner
from irsnn.neurons.neuron import Neuron
from irsnn.utils.data import (PreprocessedSpikes, batch_spikes, calc_start_spikes,
                              preprocess_spikes, spike_schedule)
from irsnn.utils.model import NeuronModel

from .conftest import assert_same, run_case, spikes, var
from .test_neurons import dyadic

N = 12


class SpikeSourceArray(Neuron, Input):
    """The oracle: a spike source array in neuron-model code (SpikeInput's former kernel)."""

    def get_model(self, population, dt, batch_size=1):
        model = {"vars": [("StartSpike", "unsigned int"), ("EndSpike", "unsigned int", "readonly"),
                          ("NextSpikeTime", "scalar")],
                 "extra_global_params": [("SpikeTimes", "scalar*")],
                 "threshold_condition_code": "t >= NextSpikeTime",
                 "reset_code": "StartSpike++;\n"
                               "NextSpikeTime = (StartSpike != EndSpike) ? "
                               "SpikeTimes[StartSpike] : 3.0e38;\n"}
        return NeuronModel(model, None, {}, {"StartSpike": 0, "EndSpike": 0,
                                             "NextSpikeTime": 3.0e38},
                           {"SpikeTimes": np.zeros(1)})

    def set_input(self, state, batch_size, shape, input):
        state_owner(state, self)
        examples = [input] if isinstance(input, PreprocessedSpikes) else list(input)
        batched = batch_spikes(examples, batch_size)
        end = np.asarray(batched.end_spikes, np.int64).reshape(batch_size, -1)
        start = calc_start_spikes(end)
        times = batched.spike_times if len(batched.spike_times) else np.zeros(1)
        state.set_var("StartSpike", start.astype(np.uint32))
        state.set_var("EndSpike", end.astype(np.uint32))
        state.set_var("NextSpikeTime",
                      np.where(start < end, np.take(times, start, mode="clip"), 3.0e38))
        state.set_egp("SpikeTimes", times)


def net(factory):
    def build():
        network = Network()
        with network:
            inp = Population(factory(), N, name="inp")
            pop = Population(IntegrateFire(v_thresh=1.0), N, name="pop")
            out = Population(LeakyIntegrate(tau_mem=10.0, readout="sum_var"), 3, name="out")
            Connection(inp, pop, Dense(dyadic((N, N), 0.5, 21)), name="c")
            Connection(pop, out, Dense(dyadic((N, 3), 0.5, 22)), name="o")
        return network, {"inp": inp, "pop": pop, "out": out}
    return build


def awkward_examples(num, dt, timesteps, seed):
    """Spike trains with times on step starts (neurons 1, 5, ...), just below them (2, 6, ...)
    and just above them (3, 7, ...; in float32 these round onto the step start, in double they
    do not), bursts of one neuron within a step (3, 7, ...: some run past the example's end),
    and silent neurons (0, 4, ...)."""
    rng = np.random.default_rng(seed)
    duration = timesteps * dt
    out = []
    for _ in range(num):
        times, ids = [], []
        for i in range(N):
            kind = i % 4
            if kind == 0:
                continue
            on_step = np.sort(rng.choice(timesteps, 4, replace=False)) * dt
            near = {1: on_step, 2: np.nextafter(on_step, -1.0).clip(0.0),
                    3: np.nextafter(on_step, duration)}[kind]
            if kind == 3:  # a burst: six spikes within one step near the end
                near = np.concatenate([near, (timesteps - 2) * dt + dt * rng.random(6)])
            keep = near[near < duration]
            times += list(keep)
            ids += [i] * len(keep)
        out.append(preprocess_spikes(np.array(times), np.array(ids, int), N))
    return out


class EveryStep(Callback):
    """Makes the compiled network run one timestep per native call."""

    def on_timestep_end(self, timestep):
        pass


@pytest.mark.parametrize("dt", [1.0, 0.1, 0.25])
@pytest.mark.parametrize("batch_size,reset_time", [(1, True), (3, True), (2, False)])
def test_schedule_matches_spike_source_array(backend, dt, batch_size, reset_time):
    T = 30
    x = {"inp": awkward_examples(5, dt, T, seed=int(dt * 100) + batch_size)}
    record = [spikes("inp"), spikes("pop"), var("pop", "V")]
    kw = dict(record=record, batch_size=batch_size, dt=dt, outputs=("out",),
              reset_time_between_batches=reset_time)
    oracle = run_case(net(lambda: SpikeSourceArray()), "reference", x, T, **kw)
    test = run_case(net(lambda: SpikeInput(max_spikes=1000)), backend, x, T, **kw)
    assert_same(test, oracle)
    emitted = sum(len(t) for t in oracle.spikes[0][0])
    given = sum(len(e.spike_times) for e in x["inp"])
    assert 0 < emitted < given  # some bursts run past the end


def test_schedule_in_double_precision(backend):
    """A double-precision model's clock and spike times are compared in double."""
    T, dt = 30, 0.1
    x = {"inp": awkward_examples(4, dt, T, seed=9)}
    kw = dict(record=[spikes("inp"), var("pop", "V")], batch_size=2, dt=dt,
              outputs=("out",), precision="double")
    oracle = run_case(net(lambda: SpikeSourceArray()), "reference", x, T, **kw)
    test = run_case(net(lambda: SpikeInput(max_spikes=1000)), backend, x, T, **kw)
    assert_same(test, oracle)
    assert sum(len(t) for t in oracle.spikes[0][0]) > 50


def test_kept_schedules_across_calls(backend):
    """Prepared spike trains keep their examples' schedules: a second call on them (other
    batches, in another order) emits from the kept schedules what the oracle emits."""
    T, dt = 30, 0.25
    examples = awkward_examples(5, dt, T, seed=11)
    prepared = SpikeInput(max_spikes=1000).prepare_input((N,), examples, T, dt)
    kw = dict(record=[spikes("inp"), var("pop", "V")], batch_size=2, dt=dt, outputs=("out",))
    for order in (np.arange(5), np.array([4, 0, 3, 1, 2])):
        oracle = run_case(net(lambda: SpikeSourceArray()), "reference",
                          {"inp": [examples[i] for i in order]}, T, **kw)
        test = run_case(net(lambda: SpikeInput(max_spikes=1000)), backend,
                        {"inp": prepared[order]}, T, **kw)
        assert_same(test, oracle)
    assert sorted(k for k in prepared._schedules if isinstance(k, int)) == list(range(5))


def test_schedule_per_timestep_runs(backend):
    """One native call per step (a per-timestep callback) emits what one call for the example
    does."""
    T, dt = 25, 0.5
    x = awkward_examples(3, dt, T, seed=4)
    results = []
    for factory, every_step, name in ((SpikeSourceArray, False, "reference"),
                                      (lambda: SpikeInput(max_spikes=1000), True, backend)):
        network, pops = net(factory)()
        from irsnn.callbacks import SpikeRecorder
        from irsnn.compilers import InferenceCompiler
        compiled = InferenceCompiler(evaluate_timesteps=T, dt=dt, batch_size=2,
                                     backend=name).compile(network)
        cbs = [SpikeRecorder(pops["inp"], key="inp"), SpikeRecorder(pops["pop"], key="pop")]
        if every_step:
            cbs.append(EveryStep())
        _, cb = compiled.predict({pops["inp"]: x}, [pops["out"]], callbacks=cbs)
        results.append(cb)
    for key in ("inp", "pop"):
        for a, b in zip(results[0][key], results[1][key]):
            for e in range(len(a)):
                np.testing.assert_array_equal(a[e], b[e])


def test_spike_schedule_by_hand():
    # neuron 0: 0.0, 0.0, 0.5 (three in the first step: steps 0, 1, 2); neuron 1: 2.0 ->
    # step 2; neuron 2: none; batch element 1 (padding): none
    ex = PreprocessedSpikes(np.array([3, 4, 4]), np.array([0.0, 0.0, 0.5, 2.0]))
    batched = batch_spikes([ex], 2)
    s = spike_schedule(batched.end_spikes, batched.spike_times, first_step=0, dt=1.0)
    assert s.window.tolist() == [0, 3]
    # element 0: step 0 [0], step 1 [0], step 2 [0, 1]; element 1: nothing
    assert s.offsets.tolist() == [0, 1, 2, 4, 4, 4, 4]
    assert s.spikes.tolist() == [0, 0, 0, 1]
    assert s.spikes.dtype == s.offsets.dtype == s.window.dtype == np.uint32
    # a clock at step 5 (not reset): every spike is due, one per neuron and step from step 5
    s = spike_schedule(batched.end_spikes, batched.spike_times, first_step=5, dt=1.0)
    assert s.window.tolist() == [5, 3]
    assert s.offsets.tolist() == [0, 2, 3, 4, 4, 4, 4]
    assert s.spikes.tolist() == [0, 1, 0, 0]
    # no spikes at all: an empty schedule (arrays never empty)
    empty = batch_spikes([PreprocessedSpikes(np.array([0, 0]), np.zeros(0))], 1)
    s = spike_schedule(empty.end_spikes, empty.spike_times, first_step=2)
    assert s.window.tolist() == [2, 0] and s.offsets.tolist() == [0]
    # the clock in float32: 0.1 * 3 (double) rounds to float32(0.3), so a spike at 0.3 is due
    # at step 3; in double precision 0.30000000000000004 > 0.3 is too
    tiny = batch_spikes([PreprocessedSpikes(np.array([1]), np.array([0.3]))], 1)
    for dtype in (np.float32, np.float64):
        s = spike_schedule(tiny.end_spikes, tiny.spike_times, dt=0.1, dtype=dtype)
        assert s.window.tolist() == [0, 4] and s.offsets.tolist() == [0, 0, 0, 0, 1]


def test_spike_schedule_rejects_clock_beyond_32_bits():
    ex = batch_spikes([PreprocessedSpikes(np.array([1]), np.array([1.0]))], 1)
    with pytest.raises(InputError, match=r"a schedule of 1 spikes up to timestep 4294967296 "
                                         r"does not fit its 32-bit indices; reset the time"):
        spike_schedule(ex.end_spikes, ex.spike_times, first_step=2**32 - 1)
    late = batch_spikes([PreprocessedSpikes(np.array([1]), np.array([1e12]))], 1)
    with pytest.raises(InputError, match=r"up to timestep \d{12,13} does not fit"):
        spike_schedule(late.end_spikes, late.spike_times)


def test_schedule_model_errors():
    from irsnn.errors import ModelError
    owner = "Population 'src'"
    with pytest.raises(ModelError, match=r"Population 'src': a 'spike_schedule' model's spikes "
                                         r"come from its schedule, so it has no code; remove "
                                         r"\['threshold_condition_code'\]"):
        NeuronModel({"spike_schedule": True, "threshold_condition_code": "V > 1.0"}, None,
                    {}, {}, {}).canonical(owner)
    with pytest.raises(ModelError, match=r"'spike_schedule' must be True or False \(got 1\)"):
        NeuronModel({"spike_schedule": 1}, None, {}, {}, {}).canonical(owner)
    with pytest.raises(ModelError, match=r"names \['ScheduleSpikes'\] are declared more than "
                                         r"once"):
        NeuronModel({"spike_schedule": True,
                     "extra_global_params": [("ScheduleSpikes", "unsigned int*")]},
                    None, {}, {}, {}).canonical(owner)


@pytest.mark.parametrize("change,message", [
    ({"egps": ()},
     r"has a spike schedule but not its extra global parameters \[\('ScheduleSpikes'"),
    ({"threshold_code": "true"}, r"has a spike schedule and code \['threshold_code'\]"),
])
def test_validate_rejects_broken_schedule_groups(change, message):
    """An IR built by other means than lowering (edited, loaded) is checked too."""
    from irsnn.compilers import InferenceCompiler
    from irsnn.errors import ModelError
    from irsnn.passes import PASSES, Pipeline
    network, pops = net(lambda: SpikeInput(max_spikes=10))()
    g = InferenceCompiler(evaluate_timesteps=10).lower(network)
    g.set_node("pop.inp", g.node("pop.inp").replace(**change))
    with pytest.raises(ModelError, match=r"Population 'inp' \(SpikeInput\) " + message):
        Pipeline([PASSES["validate"]()]).run(g)


def test_native_schedule_equals_numpy():
    """The C helper the backends use (when a compiler is available) gives NumPy's arrays."""
    from irsnn.backends.native.schedule import native_spike_schedule
    from irsnn.backends.native.toolchain import find_compiler
    if find_compiler() is None:
        pytest.skip("no C compiler")
    rng = np.random.default_rng(5)
    cases = 0
    for batch, n in ((1, 1), (1, 7), (3, 5), (4, 64)):
        for dt in (1.0, 0.1, 0.3, 0.7):
            for first in (0, 17, 123456):
                for dtype in (np.float32, np.float64):
                    examples = []
                    for _ in range(rng.integers(1, batch + 1)):
                        k = int(rng.integers(0, 6 * n))
                        # times on a coarse grid: many fall in one step or on a step's start
                        times = rng.integers(0, 40, k) * (dt / rng.choice([1, 2, 3]))
                        examples.append(preprocess_spikes(times, rng.integers(0, n, k), n))
                    b = batch_spikes(examples, batch)
                    got = native_spike_schedule(b.end_spikes, b.spike_times, first, dt, dtype)
                    want = spike_schedule(b.end_spikes, b.spike_times, first, dt, dtype)
                    for name, g, w in zip(want._fields, got, want):
                        assert g.dtype == w.dtype and np.array_equal(g, w), (
                            f"{name} differs: batch {batch}, n {n}, dt {dt}, first {first}, "
                            f"{np.dtype(dtype)}")
                    cases += 1
    assert cases == 96
    b = batch_spikes([PreprocessedSpikes(np.array([1]), np.array([np.nan]))], 1)
    with pytest.raises(InputError, match="spike times must be finite"):
        native_spike_schedule(b.end_spikes, b.spike_times, 0, 1.0, np.float32)
    b = batch_spikes([PreprocessedSpikes(np.array([1]), np.array([1e12]))], 1)
    with pytest.raises(InputError, match=r"up to timestep \d{12,13} does not fit"):
        native_spike_schedule(b.end_spikes, b.spike_times, 0, 1.0, np.float32)
