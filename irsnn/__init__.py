"""irsnn: a graph-IR compiler for spiking neural networks with mlGeNN's API.

Requires: nothing beyond its submodules (no backend, no networkx at import time). Provides the
public names :class:`Network`, :class:`SequentialNetwork`, :class:`Population`,
:class:`Connection`, :class:`InputLayer` and :class:`Layer`, and its subpackages as attributes
(``irsnn.compilers``, ``irsnn.neurons``, ...; imported on first access), as ``ml_genn`` does.

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

#: subpackages reachable as attributes after a bare ``import irsnn``, as ``ml_genn``'s are;
#: imported on first access (the compilers pull in the IR, the passes and networkx)
_SUBPACKAGES = ("callbacks", "communicators", "compilers", "connectivity", "initializers",
                "losses", "metrics", "neurons", "optimisers", "readouts", "serialisers",
                "synapses", "utils")


def __getattr__(name):
    if name in _SUBPACKAGES:
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'irsnn' has no attribute {name!r}")

__all__ = ["Connection", "InputLayer", "Layer", "Network", "Population", "SequentialNetwork",
           "__version__"]
