"""``insert-recording``: taps that record spikes or variables every timestep.

Requires: ``batch-state``. Provides: a ``rec.<population>.spikes`` node for every population
created with ``record_spikes=True`` and for every spike-recording request in the context, and
a ``rec.<population>.<var>`` node for every variable-recording request (``VarRecorder``), each
joined to its population by a zero-delay ``record`` tap. Backends record into per-batch
buffers (spikes bit-packed where the backend supports it); callbacks filter neurons and
examples when they read them.
"""

from __future__ import annotations

from irsnn.errors import ModelError
from irsnn.ir import AuxEdge, RecorderNode
from irsnn.ir.ids import RECORD_KEY, recorder_id

from .base import Pass


class InsertRecording(Pass):
    """Add recorder nodes for spike recording and requested variable recordings."""

    def requires(self):
        return ("batch-state",)

    def run(self, graph, ctx):
        requests = [("spikes", nid) for nid, p in graph.populations() if p.record_spikes]
        requests += [tuple(r) for r in ctx.recordings]
        for req in sorted(set(requests)):
            what, nid = req[0], req[1]
            if not graph.has_node(nid):
                raise ModelError(f"recording requested for '{nid}', which is not in the "
                                 f"network; record a population of this network")
            pop = graph.node(nid)
            if what == "spikes":
                if not pop.spiking:
                    raise ModelError(f"Population '{pop.name}' ({pop.model_name}) never "
                                     f"spikes, so its spikes cannot be recorded; record a "
                                     f"variable with VarRecorder instead")
                rid = recorder_id(nid)
                payload = RecorderNode(source=nid, what="spikes")
            else:
                var = req[2]
                names = [v.name for v in pop.vars]
                if var not in names:
                    raise ModelError(f"Population '{pop.name}' ({pop.model_name}) has no "
                                     f"variable '{var}' to record; its variables are {names}")
                rid = recorder_id(nid, var)
                payload = RecorderNode(source=nid, what="var", var=var)
            if not graph.has_node(rid):
                graph.add_node(rid, payload)
                graph.add_edge(nid, rid, RECORD_KEY, AuxEdge())
