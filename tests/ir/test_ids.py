"""IR ids: one module spells and parses them, byte for byte as the golden dumps show them."""

import pytest

from irsnn.ir import ids

from ..layering import ROOT, module_imports as _imports


def test_node_and_edge_ids_are_spelled_as_before():
    hidden, out = ids.population_id("hidden"), ids.population_id("output")
    assert (hidden, out) == ("pop.hidden", "pop.output")
    assert ids.population_name(hidden) == "hidden"
    assert ids.edge_id("pop.input", hidden, ids.connection_key("pop.input", hidden)) \
        == "syn.input->hidden"
    assert ids.edge_id(hidden, hidden, ids.connection_key(hidden, hidden)) == "rec.hidden->hidden"
    assert ids.edge_id(out, hidden, ids.FEEDBACK_KEY) == "feedback.output->hidden"
    assert ids.recorder_id(hidden) == "rec.hidden.spikes"
    assert ids.recorder_id(hidden, "V") == "rec.hidden.V"
    assert ids.readout_id(out) == "readout.output"
    assert ids.loss_id(out) == "loss.output"
    assert ids.backward_id(hidden) == "backward.hidden"
    assert ids.optimiser_id("in_hid") == "optim.in_hid"
    assert ids.optimiser_id(out, "Bias") == "optim.output.Bias"


def test_variable_references_round_trip():
    ref = ids.var_ref("syn.a->b", "g")
    assert ref == "syn.a->b/g" and ids.is_var_ref(ref)
    assert ids.split_var_ref(ref) == ("syn.a->b", "g")
    assert ids.ref_owner(ref) == "syn.a->b" and ids.ref_name(ref) == "g"
    assert not ids.is_var_ref("syn.a->b") and ids.ref_owner("syn.a->b") == "syn.a->b"
    with pytest.raises(ValueError, match="not a variable reference"):
        ids.split_var_ref("syn.a->b")


FRONT_END = ("irsnn.readouts", "irsnn.neurons", "irsnn.synapses", "irsnn.population",
             "irsnn.network", "irsnn.compilers", "irsnn.callbacks", "irsnn.connectivity",
             "irsnn.initializers", "irsnn.losses", "irsnn.metrics", "irsnn.optimisers",
             "irsnn.lowering", "irsnn.layer", "irsnn.connection", "irsnn.sequential_network")


def _offenders(folder, forbidden):
    return sorted(f"{path.relative_to(ROOT)}: {mod}"
                  for path in (ROOT / folder).rglob("*.py") for mod in _imports(path)
                  if any(mod == f or mod.startswith(f + ".") for f in forbidden))


def test_passes_import_no_front_end_module():
    assert _offenders("passes", FRONT_END) == []


def test_ir_imports_nothing_above_it():
    assert _offenders("irsnn/ir", FRONT_END + ("irsnn.passes", "irsnn.backends")) == []


def test_graph_and_verify_do_not_import_each_other_in_a_circle():
    assert "irsnn.ir.graph" not in _imports(ROOT / "irsnn/ir/verify.py")
