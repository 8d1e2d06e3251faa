"""The graph IR of irsnn: typed payloads over a networkx multigraph, plus printers.

Requires: numpy and networkx, nothing above this layer (no passes, backends or front end).
Provides :class:`IRGraph`, the payload classes, the printers and, in :mod:`irsnn.ir.ids`, the
builders and parsers of every node, edge and variable-reference id.
"""

from . import ids
from .graph import IRGraph
from .ids import edge_id
from .payloads import (EGP, AuxEdge, BackwardFilter, EventPropState, FeedbackPath, LossNode,
                       ModelLoss, NeuronGroup,
                       OptimiserNode, Param, ReadoutNode, ReadoutSpec, RecorderNode, Rewiring,
                       SynapseDynamics, SynapseGroup, Var, VarInit)
from .printers import from_json, load, save, to_dot, to_json, to_text

__all__ = ["IRGraph", "ids", "edge_id",
           "EGP", "AuxEdge", "BackwardFilter", "EventPropState", "FeedbackPath", "LossNode",
           "ModelLoss", "NeuronGroup",
           "OptimiserNode", "Param", "ReadoutNode", "SynapseDynamics",
           "ReadoutSpec", "RecorderNode", "Rewiring", "SynapseGroup", "Var", "VarInit",
           "from_json", "load", "save", "to_dot", "to_json", "to_text"]
