"""The pass pipeline and the inference passes, pinned by golden IR dumps."""

import io
import os
from pathlib import Path

import pytest

from irsnn import Connection, Network, Population
from irsnn.compilers import InferenceCompiler
from irsnn.connectivity import Dense
from irsnn.errors import ModelError, PassError
from irsnn.ir import RecorderNode, ReadoutNode
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, PoissonInput
from irsnn.passes import PASSES, Pass, PassContext, Pipeline

from ..models import recurrent_alif, sparse_recurrent_lif

GOLDEN = Path(__file__).parent / "golden"


def _check_golden(name, text):
    path = GOLDEN / name
    if os.environ.get("IRSNN_UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"missing golden {path}; run with IRSNN_UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"IR differs from {path}; if intended, regenerate " \
                                     f"with IRSNN_UPDATE_GOLDEN=1 and review the diff"


def test_pass_names_are_kebab_case_of_file_and_class():
    assert set(PASSES) == {"validate", "infer-shapes", "choose-sparse-layout", "insert-readout",
                           "insert-eprop", "event-eprop", "insert-optimiser", "insert-deep-r",
                           "batch-state",
                           "insert-recording", "few-spike-pipeline", "insert-eventprop"}
    for name, cls in PASSES.items():
        assert cls.__module__.rsplit(".", 1)[-1] == name.replace("-", "_")


def test_golden_ir_after_every_pass():
    network, *_ = recurrent_alif()
    stream = io.StringIO()
    InferenceCompiler(evaluate_timesteps=10, batch_size=4).build_ir(
        network, "alif", print_after_all=True, stream=stream)
    text = stream.getvalue()
    for name in InferenceCompiler(evaluate_timesteps=1).passes():
        assert f"// ----- IR after {name.name} -----" in text
    _check_golden("recurrent_alif_inference.txt", text)


def test_golden_insert_deep_r_changes_only_the_rewired_connection():
    """What ``insert-deep-r`` changes: the IR lines after it that differ from the lines after
    ``insert-optimiser`` (only the recurrent connection gains its rewiring annotation)."""
    from irsnn.compilers import EPropCompiler
    network, _, rec, _ = sparse_recurrent_lif()
    stream = io.StringIO()
    EPropCompiler(example_timesteps=10, losses="sparse_categorical_crossentropy",
                  deep_r_conns=[rec], deep_r_l1_strength=0.125).build_ir(
        network, "deep_r", print_after=["insert-optimiser", "insert-deep-r"], stream=stream)
    _, before, after = stream.getvalue().split("// ----- IR after ")
    before, after = before.splitlines()[1:], after.splitlines()[1:]
    diff = [f"- {line}" for line in before if line not in after] + \
           [f"+ {line}" for line in after if line not in before]
    assert len(diff) == 2 and "rewiring=deep-r(l1=0.125" in diff[1]
    _check_golden("deep_r_eprop.diff", "\n".join(diff) + "\n")


def test_insert_readout_adds_accumulator_code_and_node():
    network, inp, hidden, out = recurrent_alif()
    g = InferenceCompiler(evaluate_timesteps=10).build_ir(network)
    pop = g.node("pop.output")
    assert pop.var("VSum").role == "readout"
    assert "VSum += V;" in pop.sim_code
    r = g.node("readout.output")
    assert isinstance(r, ReadoutNode) and r.accumulators == ("VSum",)
    assert g.node("pop.hidden").readout is None


def test_batch_state_shares_per_neuron_parameters():
    network = Network()
    with network:
        inp = Population(PoissonInput(), 3, name="inp")
        lif = Population(LeakyIntegrateFire(v_thresh=[1.0, 2.0, 3.0]), 3, name="lif")
        Connection(inp, lif, Dense(1.0))
    g = InferenceCompiler(evaluate_timesteps=5, batch_size=8).build_ir(network)
    lif_ir = g.node("pop.lif")
    assert lif_ir.var("Vthresh").batched is False and lif_ir.var("Vthresh").role == "param"
    assert lif_ir.var("V").batched is True
    assert g.attrs["batch_size"] == 8


def test_insert_recording_for_record_spikes_and_requests():
    network = Network()
    with network:
        inp = Population(PoissonInput(), 3, record_spikes=True, name="inp")
        li = Population(LeakyIntegrate(readout="var"), 2, name="li")
        Connection(inp, li, Dense(1.0))
    c = InferenceCompiler(evaluate_timesteps=5)
    g = c.run_pipeline(c.lower(network), recordings=[("var", "pop.li", "V")])
    recs = dict(g.nodes(RecorderNode))
    assert set(recs) == {"rec.inp.spikes", "rec.li.V"}
    with pytest.raises(ModelError, match="never spikes"):
        c.run_pipeline(c.lower(network), recordings=[("spikes", "pop.li")])
    with pytest.raises(ModelError, match=r"no variable 'X'.*\['V'"):
        c.run_pipeline(c.lower(network), recordings=[("var", "pop.li", "X")])


def test_print_after_one_pass_and_dump_dir(tmp_path):
    network, *_ = recurrent_alif()
    stream = io.StringIO()
    InferenceCompiler(evaluate_timesteps=10).build_ir(
        network, print_after=["insert-readout"], dump_dir=tmp_path, stream=stream)
    assert stream.getvalue().count("// ----- IR after") == 1
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "00-input.txt" in names and "06-insert-recording.json" in names
    assert "04-insert-readout.npz" in names and "02-infer-shapes.dot" in names


def test_unknown_print_after_is_rejected():
    with pytest.raises(PassError, match=r"not in this pipeline; passes are: \['validate'"):
        Pipeline([PASSES["validate"]()], print_after=["nope"])


class _Boom(Pass):
    def run(self, graph, ctx):
        raise ZeroDivisionError("kaboom")


class _Breaks(Pass):
    def run(self, graph, ctx):
        pop = graph.node("pop.hidden")
        graph.set_node("pop.hidden", pop.replace(shape=(0,)))


class _NeedsMissing(Pass):
    def requires(self):
        return ("insert-readout",)


def test_failing_pass_is_named_with_its_predecessors():
    network, *_ = recurrent_alif()
    g = InferenceCompiler(evaluate_timesteps=10).lower(network)
    with pytest.raises(PassError, match=r"pass 'boom' failed with ZeroDivisionError: kaboom "
                                        r"\(passes before it: \['validate'\]\)"):
        Pipeline([PASSES["validate"](), _Boom()]).run(g)
    with pytest.raises(PassError, match=r"(?s)invalid after pass .breaks.*shape \(0,\)"):
        Pipeline([PASSES["validate"](), _Breaks()]).run(g)
    with pytest.raises(PassError, match=r"requires \['insert-readout'\]"):
        Pipeline([_NeedsMissing()]).run(g, PassContext())


def test_pipeline_does_not_modify_its_input():
    network, *_ = recurrent_alif()
    c = InferenceCompiler(evaluate_timesteps=10)
    g = c.lower(network)
    before = g.copy()
    c.run_pipeline(g)
    assert g == before


def test_golden_eprop_event_ir():
    """The e-prop pipeline with gradient_mode='event': insert-eprop's online rules, then
    event-eprop's backward filters and spike-driven gradients (pinned after those passes)."""
    from irsnn.compilers import EPropCompiler
    network, *_ = recurrent_alif()
    stream = io.StringIO()
    EPropCompiler(example_timesteps=10, losses="sparse_categorical_crossentropy",
                  batch_size=2).build_ir(network, "alif", print_after=["insert-eprop",
                                                                       "event-eprop"],
                                         stream=stream)
    _check_golden("recurrent_alif_eprop_event.txt", stream.getvalue())


def test_event_eprop_rewrites_every_trained_connection():
    from irsnn.compilers import EPropCompiler
    from irsnn.ir import BackwardFilter
    network, *_ = recurrent_alif()
    g = EPropCompiler(example_timesteps=7, losses="sparse_categorical_crossentropy"
                      ).build_ir(network)
    filters = dict(g.nodes(BackwardFilter))
    assert {f.kind for f in filters.values()} == {"eprop-alif", "eprop-output"}
    assert all(f.timesteps == 7 for f in filters.values())
    for _u, v, _, syn in g.synapses():
        lr = syn.learning
        assert lr.kind == "eprop-event" and [x.name for x in lr.vars] == ["DeltaG"]
        assert filters[lr.backward].source == v
    online = EPropCompiler(example_timesteps=7, losses="sparse_categorical_crossentropy",
                           gradient_mode="online").build_ir(network)
    assert not list(online.nodes(BackwardFilter))
    assert {syn.learning.kind for *_, syn in online.synapses()} == {"eprop-alif",
                                                                    "eprop-output"}


@pytest.mark.parametrize("kwargs, match", [
    (dict(gradient_mode="offline"), "gradient_mode='offline'"),
    (dict(gradient_mode="event", reset_traces_between_examples=True),
     "reset_traces_between_examples"),
])
def test_eprop_compiler_rejects_bad_gradient_modes(kwargs, match):
    from irsnn.compilers import EPropCompiler
    with pytest.raises(ModelError, match=match):
        EPropCompiler(example_timesteps=7, losses="sparse_categorical_crossentropy", **kwargs)
