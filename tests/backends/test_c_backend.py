"""The C backend's machinery: cache, atomic builds, errors, native time loop, selection."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from irsnn.backends import available_backends, get_backend
from irsnn.compilers import InferenceCompiler
from irsnn.errors import BackendError, BackendUnavailableError

from ..models import random_spikes, recurrent_alif

pytestmark = pytest.mark.skipif(not available_backends()["c"][0],
                                reason="no C compiler on this machine")


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("IRSNN_CACHE_DIR", raising=False)   # (it would win over XDG's)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "irsnn" / "c"


def _compile(batch_size=2, **kw):
    network, inp, hidden, out = recurrent_alif()
    net = InferenceCompiler(evaluate_timesteps=20, batch_size=batch_size, backend="c",
                            **kw).compile(network)
    return net, inp, out


def test_second_compile_is_a_cache_hit(fresh_cache):
    first, _, _ = _compile()
    assert first.simulation.cache_hit is False
    second, _, _ = _compile()
    assert second.simulation.cache_hit is True
    assert second.simulation.library_path == first.simulation.library_path
    assert first.simulation.library_path.parent == fresh_cache
    libs = list(fresh_cache.glob("irsnn_model-*.so"))
    assert len(libs) == 1 and not list(fresh_cache.glob("*.tmp"))
    # A different model (batch size is baked into the source) is a different artifact
    third, _, _ = _compile(batch_size=3)
    assert third.simulation.cache_hit is False


def test_concurrent_compiles_share_one_artifact(fresh_cache, tmp_path):
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parents[1])!r})
        import numpy as np
        from models import recurrent_alif, random_spikes
        from irsnn.compilers import InferenceCompiler
        network, inp, hidden, out = recurrent_alif()
        net = InferenceCompiler(evaluate_timesteps=20, batch_size=2, backend="c").compile(network)
        y, _ = net.predict({{inp: random_spikes(2, 20, 20, rate=0.2)}}, out, callbacks=[])
        np.save(sys.argv[1], y[out])
    """))
    env = dict(os.environ, XDG_CACHE_HOME=str(fresh_cache.parents[1]))
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path / f"y{k}.npy")],
                              env=env) for k in range(3)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    ys = [np.load(tmp_path / f"y{k}.npy") for k in range(3)]
    assert all(np.array_equal(ys[0], y) for y in ys[1:])
    assert len(list(fresh_cache.glob("irsnn_model-*.so"))) == 1
    assert not list(fresh_cache.glob("*.tmp")) and not list(fresh_cache.glob(".*.tmp"))


def test_no_compiler_names_the_fallback(monkeypatch):
    monkeypatch.setenv("CC", "/nonexistent/cc")
    ok, why = available_backends()["c"]
    assert not ok and "backend='reference'" in why
    with pytest.raises(BackendUnavailableError, match="backend='reference'"):
        get_backend("c")
    assert get_backend(None).name != "c"  # the next fastest available one


def test_compiler_error_reports_log_and_source(fresh_cache, monkeypatch):
    import irsnn.backends.c.simulation as csim
    real = csim.c_source
    monkeypatch.setattr(csim, "c_source",
                        lambda *a: real(*a) + "\nthis is not C;\n")
    with pytest.raises(BackendError, match=r"bug in irsnn") as err:
        _ = _compile()[0].simulation
    msg = str(err.value)
    assert "this is not C" in Path(msg.split("generated source ")[1].split(" ")[0]).read_text()
    assert "error" in msg
    assert "the command was" in msg and "exited with" in msg


def test_a_broken_compiler_is_reported_as_such(fresh_cache, monkeypatch):
    """[hardening] CC=/bin/false was reported as "a bug in irsnn" with an empty log."""
    monkeypatch.setenv("CC", "/bin/false")
    with pytest.raises(BackendError, match=r"the C compiler /bin/false does not work: "
                                           r"building a one-line library with .* exited "
                                           r"with 1 \(no output\); set CC") as err:
        _ = _compile()[0].simulation
    assert "bug in irsnn" not in str(err.value)


def test_whole_example_runs_in_one_native_call():
    net, inp, out = _compile()
    sim = net.simulation
    calls = []
    real = sim.lib.irsnn_run

    class Counting:
        def __call__(self, *args):
            calls.append(args[0])
            return real(*args)
    sim.lib.irsnn_run = Counting()
    net.predict({inp: random_spikes(4, 20, 20, rate=0.2)}, out, callbacks=[])
    assert calls == [20, 20]  # one call per batch of 20 timesteps


def test_default_backend_is_the_fastest_available(monkeypatch):
    monkeypatch.delenv("IRSNN_BACKEND", raising=False)
    assert get_backend(None).name == "c"
    monkeypatch.setenv("IRSNN_BACKEND", "reference")
    assert get_backend(None).name != "c"  # the next fastest available one


def test_kernel_profiling_times_every_kernel():
    net, inp, out = _compile(kernel_profiling=True)
    net.predict({inp: random_spikes(2, 20, 20, rate=0.2)}, out, callbacks=[])
    times = net.kernel_times
    assert set(times) == {"propagate:syn.input->hidden", "propagate:rec.hidden->hidden",
                          "propagate:syn.hidden->output", "neuron:pop.input",
                          "neuron:pop.hidden", "neuron:pop.output", "record"}
    assert times["neuron:pop.hidden"] > 0


class _Counting:
    """Wraps a library function, counting its calls."""

    def __init__(self, real):
        self.real, self.calls = real, 0

    def __call__(self, *args):
        self.calls += 1
        return self.real(*args)


def _rounds(nets, rounds):
    """Per ``(kind, rng_seed)`` of ``nets``, what each round gives, the networks taking turns
    every round: with ``kind`` "train" a training step and then every connection's weights;
    predictions otherwise, with the hidden spikes of example 1 recorded in the first round."""
    from irsnn.callbacks import SpikeRecorder
    from irsnn.compilers import EPropCompiler
    compiled = []
    for kind, seed in nets:
        network, inp, hidden, out = recurrent_alif()
        compiler = (EPropCompiler(example_timesteps=20, batch_size=2, backend="c", rng_seed=seed,
                                  losses="sparse_categorical_crossentropy") if kind == "train"
                    else InferenceCompiler(evaluate_timesteps=20, batch_size=2, backend="c",
                                           rng_seed=seed))
        compiled.append((kind, seed, compiler.compile(network), inp, hidden, out))
    results = [[] for _ in nets]
    for k in range(rounds):
        for (kind, seed, net, inp, hidden, out), result in zip(compiled, results):
            x = random_spikes(2, 20, 20, rate=0.2, seed=100 * seed + k)
            if kind == "train":
                net.train({inp: x}, {out: np.array([0, 2])}, num_epochs=1, callbacks=[])
                result += [net.simulation.get_weights(c.name) for c in net.network.connections]
            else:
                recorders = [SpikeRecorder(hidden, key="hidden", example_filter=[1])] * (k == 0)
                y, cb = net.predict({inp: x}, out, callbacks=recorders)
                result += [y[out], *cb.get("hidden", ())]
    assert len({net.simulation.lib._handle for _, _, net, *_ in compiled}) == 1
    return results


@pytest.mark.parametrize("kind", ["inference", "train"])
def test_simulations_sharing_a_library_take_turns(kind):
    """Two simulations of one model (different seeds, so different weights) share the loaded
    library's globals; taking turns, each still runs on its own buffers, inputs, recorders and
    learning switch, exactly as alone."""
    alone = [_rounds([(kind, seed)], 4)[0] for seed in (1, 2)]
    together = _rounds([(kind, 1), (kind, 2)], 4)
    for want, got in zip(alone, together):
        assert len(want) == len(got)
        for w, g in zip(want, got):
            for wi, gi in zip(w, g) if isinstance(w, list) else [(w, g)]:
                np.testing.assert_array_equal(wi, gi)


def test_binding_is_skipped_while_nothing_changed():
    """The library keeps this simulation's addresses between native calls: a batch binds only
    its new input arrays (the three extra global parameters of a spike schedule), not every
    buffer again."""
    net, inp, out = _compile()
    sim = net.simulation
    sim.lib.irsnn_bind = bind = _Counting(sim.lib.irsnn_bind)
    sim.lib.irsnn_bind_egp = bind_egp = _Counting(sim.lib.irsnn_bind_egp)
    net.predict({inp: random_spikes(8, 20, 20, rate=0.2)}, out, callbacks=[])
    assert (bind.calls, bind_egp.calls) == (1, 12)  # 4 batches: a new spike schedule each
    # another simulation of the model binding in between makes this one bind all again
    other, other_inp, other_out = _compile()
    other.predict({other_inp: random_spikes(2, 20, 20)}, other_out, callbacks=[])
    net.predict({inp: random_spikes(2, 20, 20, rate=0.2)}, out, callbacks=[])
    assert bind.calls == 2
