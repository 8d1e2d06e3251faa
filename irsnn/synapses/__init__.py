"""Synapse models: how a connection's input reaches its target neurons.

Requires: nothing beyond its submodules. Provides :class:`Synapse`, :class:`Delta`,
:class:`Exponential` and :data:`default_synapses` (snake_case name -> class).
"""

from ..utils.module import get_module_classes
from .delta import Delta
from .exponential import Exponential
from .synapse import Synapse

default_synapses = get_module_classes(globals(), Synapse)

__all__ = ["Delta", "Exponential", "Synapse", "default_synapses"]
