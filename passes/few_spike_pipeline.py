"""``few-spike-pipeline``: delays that line up the layers of a few-spike network.

Requires: ``validate`` and the option ``few_spike_k`` (timesteps per period). Provides:
``delay_steps`` of every synapse group and ``graph.attrs["pipeline_depth"]`` (population node
id -> the period, counted from the one its input was applied in, whose result the
population's ``Fx`` holds at the end of a period).

A few-spike network (:class:`~irsnn.compilers.few_spike_compiler.FewSpikeCompiler`) works as
a pipeline with one stage per layer: a population decodes its sources' spikes during one
period of ``K`` timesteps and emits its own during the next. A population fed only by input
populations has depth 0 and emits in depth 1; one fed by populations emitting in depth ``e``
has depth ``e`` and emits in ``e + 1``. When the sources of a population emit in different
periods (a skip connection), the earlier ones are delayed by whole periods so that all of a
population's input belongs to the same example: ``delay_steps = 1 + K * (depth - emits)``.
"""

from __future__ import annotations

from irsnn.errors import PassError

from .base import Pass


class FewSpikePipeline(Pass):
    """Set pipeline depths and the period-aligned delays of a few-spike network."""

    def requires(self):
        return ("validate",)

    def run(self, graph, ctx):
        k = ctx.options.get("few_spike_k")
        if not isinstance(k, int) or k < 1:
            raise PassError(f"few-spike-pipeline needs the option few_spike_k (timesteps per "
                            f"period, >= 1); got {k!r}")
        incoming = {nid: [] for nid, _ in graph.populations()}
        for u, v, key, syn in graph.synapses():
            incoming[v].append((u, key, syn))
        depth, emits = {}, {}
        pending = dict(incoming)
        while pending:
            ready = [n for n, ins in pending.items() if all(u in emits for u, _, _ in ins)]
            if not ready:
                names = sorted(graph.node(n).name for n in pending)
                raise PassError(f"few-spike networks must be feed-forward; populations "
                                f"{names} are on a cycle of connections")
            for n in sorted(ready):
                ins = pending.pop(n)
                if not ins:
                    depth[n] = emits[n] = 0
                    continue
                depth[n] = max(emits[u] for u, _, _ in ins)
                emits[n] = depth[n] + 1
        for u, v, key, syn in list(graph.synapses()):
            delay = 1 + k * (depth[v] - emits[u])
            if delay != syn.delay_steps:
                graph.set_edge(u, v, key, syn.replace(delay_steps=delay))
        graph.attrs["pipeline_depth"] = {n: depth[n] for n in sorted(depth)}


__all__ = ["FewSpikePipeline"]
