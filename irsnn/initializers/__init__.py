"""Initializers: distributions for weights, delays and initial state, sampled by the runtime.

Requires: nothing beyond its submodules. Provides :class:`Initializer`, :class:`Normal`,
:class:`Uniform` and :data:`default_initializers` (snake_case name -> class).
"""

from ..utils.module import get_module_classes
from .initializer import Initializer
from .normal import Normal
from .uniform import Uniform

default_initializers = get_module_classes(globals(), Initializer)

__all__ = ["Initializer", "Normal", "Uniform", "default_initializers"]
