"""Connectivity: which neurons of two populations are connected, with what weights/delays.

Requires: nothing beyond its submodules. Provides the public names of the connectivity classes
and :data:`default_connectivity` (snake_case name -> class).
"""

from ..utils.module import get_module_classes
from .connectivity import Connectivity
from .dense import Dense
from .fixed_probability import FixedProbability
from .one_to_one import OneToOne
from .sparse import Sparse
from .sparse_base import SparseBase
from .spec import ConnectivitySpec

default_connectivity = get_module_classes(globals(), Connectivity)

__all__ = ["Connectivity", "ConnectivitySpec", "Dense", "FixedProbability", "OneToOne",
           "Sparse", "SparseBase", "default_connectivity"]
