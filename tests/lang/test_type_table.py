"""The one table of the language's types and the tables derived from it."""

import numpy as np
import pytest

from irsnn.lang.render_c import C99
from irsnn.lang.render_numpy import DTYPES
from irsnn.lang.tokens import TYPE_KEYWORDS
from irsnn.lang.types import (C_DTYPES, CONCRETE_TYPES, TYPE_SPELLINGS, TYPES,
                              canonical_type_name, resolve_type, type_info)


def test_table_rows_are_consistent():
    assert CONCRETE_TYPES == ("bool", "int", "unsigned int", "float", "double")
    for name, t in TYPES.items():
        assert t.name == name and name in t.spellings
        assert t.size == np.dtype(t.dtype).itemsize
        assert DTYPES[name] is t.dtype and C_DTYPES[t.c_name] is t.dtype
        assert C99.type_name(name) == name
    assert [TYPES[n].c_name for n in ("int", "unsigned int")] == ["int32_t", "uint32_t"]
    assert C_DTYPES["int8_t"] is np.int8


@pytest.mark.parametrize("spelled, canon", [("unsigned", "unsigned int"),
                                            ("unsigned   int", "unsigned int"),
                                            ("uint32_t", "unsigned int"), ("int32_t", "int"),
                                            ("scalar", "scalar"), ("half", None)])
def test_spellings(spelled, canon):
    assert canonical_type_name(spelled) == canon


def test_scalar_follows_precision():
    assert type_info("scalar", "double").dtype is np.float64
    assert type_info("scalar").size == 4
    with pytest.raises(ValueError, match="precision must be"):
        resolve_type("scalar", "half")
    with pytest.raises(ValueError, match="unknown type 'half'"):
        type_info("half")


def test_keywords_are_the_words_of_the_spellings():
    assert TYPE_KEYWORDS == {w for s in TYPE_SPELLINGS for w in s.split()}
    assert TYPE_KEYWORDS == {"scalar", "float", "double", "int", "unsigned", "bool", "uint32_t",
                             "int32_t"}
