"""irsnn: a graph-IR compiler for spiking neural networks with mlGeNN's API.

Requires: nothing beyond its submodules (no backend, no networkx at import time). Provides the
public names :class:`Network`, :class:`SequentialNetwork`, :class:`Population`,
:class:`Connection`, :class:`InputLayer` and :class:`Layer`.

Define a network with :class:`Network` (or :class:`SequentialNetwork`), compile it with a
compiler from :mod:`irsnn.compilers`, and evaluate or train it::

    from irsnn import Network, Population, Connection
    from irsnn.compilers import InferenceCompiler
"""

from .connection import Connection
from .layer import InputLayer, Layer
from .network import Network
from .population import Population
from .sequential_network import SequentialNetwork

__version__ = "0.1.0"

__all__ = ["Connection", "InputLayer", "Layer", "Network", "Population", "SequentialNetwork",
           "__version__"]
