"""Synapse layout strategies: one module per layout, each all the backends know of it.

Requires: :mod:`irsnn.ir.layouts` (the traits each strategy extends). Provides
:data:`STRATEGIES` and :func:`layout_of`. A strategy (:class:`~.base.Layout`) holds the host
structure drawn at build time, declares and fills its storage buffers, emits the statements
that propagate a spike through a row and that walk a row when learning, and converts stored
values to and from dense matrices. Nothing outside this package tests a layout's name: to add a
layout, write its traits in :mod:`irsnn.ir.layouts` and its strategy module here, and register
it below.
"""

from __future__ import annotations

from .base import Layout
from .bitmask import Bitmask
from .dense import Dense
from .one_to_one import OneToOne
from .procedural import Procedural
from .ragged import COLUMN_BUFFERS, Ragged, Rows, declare_columns

#: layout name -> strategy
STRATEGIES: dict[str, Layout] = {s.name: s for s in (
    Dense(), OneToOne(), Ragged(), Bitmask(), Procedural())}


def layout_of(syn) -> Layout:
    """The strategy of synapse group ``syn``'s layout."""
    return STRATEGIES[syn.layout]


__all__ = ["COLUMN_BUFFERS", "Layout", "Rows", "STRATEGIES", "declare_columns", "layout_of"]
