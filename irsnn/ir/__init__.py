"""The graph IR of irsnn: typed payloads over a networkx multigraph, plus printers."""

from .graph import IRGraph, edge_id
from .payloads import (EGP, AuxEdge, BackwardFilter, FeedbackPath, LossNode, NeuronGroup,
                       OptimiserNode, Param, ReadoutNode, ReadoutSpec, RecorderNode, Rewiring,
                       SynapseDynamics, SynapseGroup, Var, VarInit)
from .printers import from_json, load, save, to_dot, to_json, to_text

__all__ = ["IRGraph", "edge_id", "EGP", "AuxEdge", "BackwardFilter", "FeedbackPath", "LossNode",
           "NeuronGroup",
           "OptimiserNode", "Param", "ReadoutNode", "SynapseDynamics",
           "ReadoutSpec", "RecorderNode", "Rewiring", "SynapseGroup", "Var", "VarInit",
           "from_json", "load", "save", "to_dot", "to_json", "to_text"]
