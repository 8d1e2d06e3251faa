"""IRGraph: accessors, verify(), printers and the JSON round trip."""

import shutil
import subprocess

import numpy as np
import pytest

from irsnn.compilers import InferenceCompiler
from irsnn.errors import IRError
from irsnn.ir import (AuxEdge, IRGraph, NeuronGroup, ReadoutNode, SynapseGroup, Var, VarInit,
                      from_json, load, save, to_dot, to_json, to_text)

from ..models import recurrent_alif


def _pop(name, n=4, **kw):
    return NeuronGroup(name=name, shape=(n,), model_name="Test",
                       vars=(Var("V", "scalar"),), **kw)


def _syn(src, dst, delay=1, n_pre=4, n_post=4, weight=None):
    weight = weight or VarInit("constant", 1.0)
    return SynapseGroup(name=f"{src}->{dst}", source=f"pop.{src}", target=f"pop.{dst}",
                        connectivity="dense", layout="dense", num_pre=n_pre, num_post=n_post,
                        weight=weight, delay_steps=delay)


@pytest.fixture
def compiled_ir():
    network, *_ = recurrent_alif()
    return InferenceCompiler(evaluate_timesteps=10, batch_size=2).build_ir(network, "alif")


def test_nodes_and_edges_are_typed_and_ordered():
    g = IRGraph("t")
    g.add_node("pop.b", _pop("b"))
    g.add_node("pop.a", _pop("a"))
    eid = g.add_edge("pop.a", "pop.b", "syn", _syn("a", "b"))
    assert eid == "syn.a->b"
    assert [n for n, _ in g.nodes()] == ["pop.a", "pop.b"]
    assert list(g.populations())[0][1].name == "a"
    assert g.add_edge("pop.a", "pop.b", "syn", _syn("a", "b")) == "syn2.a->b"
    assert len(g.in_edges("pop.b")) == 2
    with pytest.raises(IRError, match="already exists"):
        g.add_node("pop.a", _pop("a"))
    with pytest.raises(IRError, match="no node 'pop.zzz'"):
        g.node("pop.zzz")
    with pytest.raises(IRError, match="no array 'missing'"):
        g.array("missing")


def test_payloads_are_frozen():
    p = _pop("a")
    with pytest.raises(AttributeError):
        p.name = "b"
    assert p.replace(name="b").name == "b" and p.name == "a"


def test_verify_reports_zero_delay_cycles_by_name():
    g = IRGraph("t")
    g.add_node("pop.a", _pop("a"))
    g.add_node("pop.b", _pop("b"))
    g.add_edge("pop.a", "pop.b", "syn", _syn("a", "b", delay=0))
    g.add_edge("pop.b", "pop.a", "syn", _syn("b", "a", delay=0))
    with pytest.raises(IRError, match="zero-delay edges form a cycle: pop.a -> pop.b"):
        g.verify()


def test_recurrent_edges_with_delay_are_fine():
    g = IRGraph("t")
    g.add_node("pop.a", _pop("a"))
    g.add_edge("pop.a", "pop.a", "rec", _syn("a", "a"))
    g.verify()


def test_verify_reports_size_and_array_problems():
    g = IRGraph("t")
    g.add_node("pop.a", _pop("a", n=3))
    g.add_node("pop.b", _pop("b"))
    g.add_edge("pop.a", "pop.b", "syn", _syn("a", "b", weight=VarInit("array", key="w")))
    g.add_node("readout.b", ReadoutNode(kind="sum_var", source="pop.b", var="Vmissing"))
    g.add_edge("pop.b", "readout.b", "readout", AuxEdge())
    with pytest.raises(IRError) as err:
        g.verify()
    msg = str(err.value)
    assert "connects 4x4 neurons but 'pop.a' has 3" in msg
    assert "missing side-table array 'w'" in msg
    assert "reads variable 'Vmissing'" in msg


def test_verify_rejects_wrong_id_prefix():
    g = IRGraph("t")
    g.add_node("hidden", _pop("hidden"))
    with pytest.raises(IRError, match="must start with 'pop.'"):
        g.verify()


def test_json_round_trip(compiled_ir, tmp_path):
    again = from_json(to_json(compiled_ir), compiled_ir.arrays)
    assert again == compiled_ir
    path, npz = save(compiled_ir, tmp_path / "ir.json")
    assert npz.exists()
    assert load(path) == compiled_ir
    assert to_json(load(path)) == to_json(compiled_ir)


def test_json_round_trip_with_arrays(tmp_path):
    g = IRGraph("t", {"dt": 0.5})
    g.add_node("pop.a", _pop("a"))
    g.add_node("pop.b", _pop("b"))
    g.set_array("syn.a->b/g", np.arange(16, dtype=np.float32).reshape(4, 4))
    g.add_edge("pop.a", "pop.b", "syn", _syn("a", "b",
                                            weight=VarInit("array", key="syn.a->b/g")))
    path, _ = save(g, tmp_path / "g.json")
    back = load(path)
    assert back == g
    back.arrays["syn.a->b/g"] = back.arrays["syn.a->b/g"] + 1
    assert back != g
    with pytest.raises(IRError, match="not supplied"):
        from_json(to_json(g), {})


def test_text_dump_is_deterministic_and_readable(compiled_ir):
    network, *_ = recurrent_alif()
    again = InferenceCompiler(evaluate_timesteps=10, batch_size=2).build_ir(network, "alif")
    assert to_text(compiled_ir) == to_text(again)
    text = to_text(compiled_ir)
    assert "node pop.hidden = AdaptiveLeakyIntegrateFire shape=(16,)" in text
    assert "edge rec.hidden->hidden = Synapses fixed_probability/dense 16x16" in text
    assert "node readout.output = Readout sum_var(pop.output.V)" in text
    assert "array " not in text or "min=" in text


def test_dot_output(compiled_ir):
    dot = to_dot(compiled_ir)
    assert dot.startswith('digraph "alif" {')
    assert '"pop.hidden" -> "pop.hidden"' in dot
    assert 'label="hidden\\nAdaptiveLeakyIntegrateFire (16,)"' in dot
    if shutil.which("dot"):
        out = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True,
                             check=True)
        assert "<svg" in out.stdout
