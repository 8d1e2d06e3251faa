"""The buffer table and the layout strategies on their own (the conformance suite runs them
inside whole simulations)."""

import numpy as np
import pytest

from irsnn.backends.kernels.buffers import BufferTable
from irsnn.backends.kernels.layouts import STRATEGIES, Rows, layout_of
from irsnn.backends.kernels.layouts.bitmask import bitmask, unpack_bitmask
from irsnn.errors import BackendError, InputError
from irsnn.ir import SynapseGroup, VarInit
from irsnn.ir.layouts import LAYOUTS


CONSTANT = VarInit("constant", value=0.5)


def _syn(layout, connectivity="fixed_probability", weight=CONSTANT, num_pre=6, num_post=7,
         **kwargs):
    return SynapseGroup(name="c", source="pop.a", target="pop.b", connectivity=connectivity,
                        layout=layout, num_pre=num_pre, num_post=num_post, weight=weight,
                        p=0.3, **kwargs)


# -- the buffer table --------------------------------------------------------------------------
def test_buffers_are_named_by_the_table_and_found_by_owner_and_variable():
    table = BufferTable()
    table.register("pop.a", "g0")
    v = table.add("pop.a", "V", "float", (2, 5))
    pos = table.add("", "eprop_pos", "int32_t", (2,))
    egp = table.add_egp("pop.a", "spikeTimes", "float")
    assert (v.name, v.size, v.shape, str(v)) == ("g0_V", 10, (2, 5), "g0_V")
    assert pos.name == "eprop_pos" and egp.name == "g0_egp_spikeTimes" and egp.size == 0
    assert table["pop.a", "V"] is v and table.get("pop.a", "W") is None
    assert ("pop.a", "V") in table and table.egp("pop.a", "spikeTimes") is egp
    assert list(table) == [v, pos] and table.egps == [egp]   # binding order, egps apart
    assert table.stems() == {"pop.a": "g0"}


def test_buffer_table_refuses_what_would_clash_and_names_what_it_has():
    table = BufferTable()
    table.register("pop.a", "g0")
    table.add("pop.a", "V", "float", (3,))
    with pytest.raises(BackendError, match="already has a buffer 'V'"):
        table.add("pop.a", "V", "float", (3,))
    with pytest.raises(BackendError, match="stem 'g0' is taken"):
        table.register("pop.b", "g0")
    with pytest.raises(BackendError, match=r"'pop\.a' has no buffer 'U' \(it has \['V'\]\)"):
        table["pop.a", "U"]
    with pytest.raises(BackendError, match="'pop.b' has no buffers"):
        table.add("pop.b", "V", "float", (3,))


# -- layout strategies ---------------------------------------------------------------------------
def test_every_layout_has_traits_and_a_strategy():
    assert list(STRATEGIES) == list(LAYOUTS)
    for name, strategy in STRATEGIES.items():
        assert isinstance(strategy, type(LAYOUTS[name])) and strategy.name == name


def test_ragged_rows_convert_both_ways_and_rewire_keeping_values():
    rng = np.random.default_rng(3)
    mask = rng.random((6, 7)) < 0.4
    mask[2] = False                                  # an empty row
    rows = Rows.of(mask, capacity=int(mask.sum(axis=1).max()) + 2, num_post=7)
    np.testing.assert_array_equal(rows.mask(), mask)
    dense = np.where(mask, rng.normal(size=mask.shape), 0.0)
    stored = rows.from_dense(dense)
    np.testing.assert_array_equal(rows.to_dense(stored), dense)
    # Deep-R: remove one synapse, add one where none was; kept synapses keep their values
    pre, post = np.nonzero(mask)
    remove = (pre[:1], post[:1])
    free = np.argwhere(~mask)
    add = (free[:1, 0], free[:1, 1])
    rows.rewire(remove, add, [stored])
    new_mask = mask.copy()
    new_mask[remove] = False
    new_mask[add] = True
    np.testing.assert_array_equal(rows.mask(), new_mask)
    got = rows.to_dense(stored)
    keep = mask & new_mask
    np.testing.assert_array_equal(got[keep], dense[keep])
    assert got[add] == 0 and got[remove] == 0
    for i in range(6):                               # rows stay sorted by target
        assert np.all(np.diff(rows.ind[i, :rows.row_length[i]]) > 0)


def test_bitmask_words_round_trip():
    mask = np.random.default_rng(1).random((5, 70)) < 0.5
    bits = bitmask(mask)
    assert bits.shape == (5, 3) and bits.dtype == np.uint32
    np.testing.assert_array_equal(unpack_bitmask(bits, 70), mask)


def test_dense_and_one_to_one_views():
    dense, one = layout_of(_syn("dense")), layout_of(_syn("one_to_one", "one_to_one",
                                                           num_pre=7))
    values = np.arange(2 * 42, dtype=np.float32).reshape(2, 42)
    np.testing.assert_array_equal(dense.from_dense(_syn("dense"), None,
                                                   dense.to_dense(_syn("dense"), None, values)),
                                  values)
    assert dense.to_dense(_syn("dense"), None, values).shape == (2, 6, 7)
    assert one.to_dense(_syn("one_to_one", "one_to_one", num_pre=7), None,
                        np.ones(7)).shape == (7,)


def test_weights_a_layout_cannot_store_are_refused_with_the_reason():
    mask = np.zeros((6, 7), bool)
    mask[0, 1] = True
    values = np.zeros((6, 7), np.float32)
    values[0, 1], values[3, 4] = 1.0, 2.0
    with pytest.raises(InputError, match=r"cannot add synapses.*3 -> 4: 2\.0"):
        STRATEGIES["ragged"].check_weights(_syn("ragged"), values, mask)
    both = np.zeros((6, 7), np.float32)
    mask[2, 2] = True
    both[0, 1], both[2, 2] = 1.0, 3.0
    with pytest.raises(InputError, match="one weight for all 2 synapses.*min 1.0, max 3.0"):
        STRATEGIES["bitmask"].check_weights(_syn("bitmask"), both, mask)
    with pytest.raises(InputError, match="regenerated from the RNG"):
        STRATEGIES["procedural"].check_weights(_syn("procedural"), values, None)
    kept = STRATEGIES["ragged"].check_weights(_syn("ragged"), np.where(mask, both, 0), mask)
    assert kept[2, 2] == 3.0


def test_layout_traits_say_why_they_cannot_hold_a_connection():
    normal = VarInit("normal", params=(("mean", 0.0), ("sd", 1.0)))
    array = VarInit("array", key="syn.a->b/g")
    assert LAYOUTS["bitmask"].obstacle(_syn("bitmask", weight=normal), explicit=False) \
        .startswith("bitmask is picked for one constant weight")
    assert LAYOUTS["bitmask"].obstacle(_syn("bitmask", weight=normal), explicit=True) is None
    assert "procedural regenerates" in LAYOUTS["procedural"].obstacle(
        _syn("procedural", weight=array), explicit=True)
    assert LAYOUTS["one_to_one"].obstacle(_syn("one_to_one"), explicit=True) is not None
    delayed = _syn("ragged", heterogeneous_delay=normal, max_delay_steps=4)
    assert "per-synapse delays" in LAYOUTS["ragged"].obstacle(delayed, explicit=True)
    assert LAYOUTS["dense"].obstacle(delayed, explicit=True) is None
    assert LAYOUTS["procedural"].problems("e", _syn("procedural", weight=array))
