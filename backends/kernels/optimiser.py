"""Optimiser kernels: one per :class:`~irsnn.ir.OptimiserNode` with update code, once per batch.

Requires: a scheduled IR graph with :class:`~irsnn.ir.OptimiserNode` payloads,
:func:`irsnn.ir.scopes.check_optimiser`, a :class:`~.builder.KernelBuilder` and
:mod:`.learning`. Provides :func:`optimised`, :func:`declare_buffers`, :func:`kernels` and
:func:`fused_kernels` (with its row bound :data:`MAX_FUSED_ROW`).

Each kernel runs over the elements of its parameter, once per batch
(``Program.optimiser_kernels``).

Each element sums its gradient over the batch's examples (the first ``optim_rows[0]`` rows, in
ascending order; padding rows of a partial batch are left out; a gradient that is one for the
whole batch, as event-driven e-prop's, is taken as it is), zeroes the gradient of every row,
and runs the optimiser's update code with its state (``o<k>_<state>``, one value per element)
and the runtime scalars in ``optim_scalars`` (set by the host before each step: the learning
rate, bias corrections, ...). Synapses that do not exist in a dense-stored sparse connection
(``<s>_exists`` is 0) are left untouched, so they stay absent.

:func:`fused_kernels` is the C backend's training path for event-driven e-prop: the gradient
of a presynaptic row is summed from the delivered-spike bits and the backward sequences
(``HHat``) of the example just ended, over the active batch elements then steps in ascending
order (the order of the scatter kernels, so both paths agree bit for bit), and the update
follows at once, so the per-synapse gradient array is never touched.
"""

from __future__ import annotations

import numpy as np

from irsnn.ir import OptimiserNode
from irsnn.ir.ids import is_var_ref, split_var_ref
from irsnn.ir.scopes import check_optimiser

from ..host_init import connectivity_mask
from . import learning
from .description import Dim, For, If, Kernel


def optimised(builder):
    """``[(node id, node)]`` of the optimiser nodes that run as kernels (all of them have code
    or none do: a host-side optimiser keeps every parameter on the host)."""
    nodes = list(builder.graph.nodes(OptimiserNode))
    if not nodes or not all(n.code.strip() for _, n in nodes):
        return []
    return nodes


def declare_buffers(builder):
    nodes = optimised(builder)
    builder.optimiser_scalars = sorted({s for _, n in nodes for s in n.scalars})
    #: (parameter target, state name) -> buffer of the optimiser's state
    builder.optimiser_buffers = {}
    if not nodes:
        return
    table = builder.buffers
    table.add("", "optim_scalars", builder.scalar, (max(1, len(builder.optimiser_scalars)),))
    table.add("", "optim_rows", "int32_t", (1,))
    for k, (nid, node) in enumerate(nodes):
        table.register(nid, f"o{k}")
        size = _size(builder, node)
        for name in node.state:
            builder.optimiser_buffers[(node.target, name)] = table.add(nid, name, builder.scalar,
                                                                       (size,))
        syn = builder.synapses.get(node.target)
        if syn is not None and not builder.layout_of(syn).absent_as_zero:
            # a matrix holding absent synapses: they must stay absent (zero)
            mask = connectivity_mask(builder.graph, node.target, syn, builder.seed)
            if mask is not None:
                exists = table.add(node.target, "exists", "int8_t", mask.shape)
                builder.host_arrays[exists] = mask.reshape(-1).astype(np.int8)


def _size(builder, node):
    owner, var = _parameter(node)
    if var is not None:
        return builder.populations[owner].size
    return builder.synapse_count(owner)


def _parameter(node):
    """``(owner, variable)`` of an optimiser node's parameter: a neuron variable
    ``pop.<name>/<var>``, or a connection's weights (variable None)."""
    if is_var_ref(node.target):
        return split_var_ref(node.target)
    return node.target, None


def _batched_gradient(builder, node) -> bool:
    owner, var = _parameter(node)
    if var is not None:
        return builder.populations[owner].var(node.gradient).batched
    lr = builder.synapses[owner].learning
    return next(v for v in lr.vars if v.name == node.gradient).batched


def _buffers(builder, node):
    """``(parameter buffer, gradient buffer, existence mask buffer or None)``."""
    owner, var = _parameter(node)
    table = builder.buffers
    return table[owner, var or "g"], table[owner, node.gradient], table.get(owner, "exists")


def kernels(builder) -> list[Kernel]:
    """One kernel per parameter over its elements, from the materialised gradients."""
    return [_plain(builder, nid, node) for nid, node in optimised(builder)]


#: longest row (synapses) the fused kernels accumulate in a local array (16384 floats: 64 KiB
#: of stack per thread)
MAX_FUSED_ROW = 16384


def fused_kernels(builder) -> list[Kernel]:
    """As :func:`kernels`, but parameters with event-driven gradients take them straight from
    the example's spike bits and backward sequences (one presynaptic row per grid point, its
    gradient row accumulated in a local array: no gradient array is written or read); empty
    when a row is longer than :data:`MAX_FUSED_ROW`."""
    events = {eid for eid, _ in learning.event_groups(builder)}
    if not events:
        return []   # nothing to fuse: the optimiser reads materialised gradients
    if any(learning.row_length(builder, eid, syn)[1] > MAX_FUSED_ROW
           for eid, syn in learning.event_groups(builder)):
        return []  # rows too long for a local accumulator: gradients are materialised
    return [_fused(builder, nid, node) if node.target in events else _plain(builder, nid, node)
            for nid, node in optimised(builder)]


def _update(builder, nid, node, param, idx):
    """Statements of one element's update (``Gradient`` in scope)."""
    scalars = {name: f"os_{name}" for name in builder.optimiser_scalars}
    checked = check_optimiser(nid, node, precision=builder.precision)
    table = dict(scalars, Param="l_Param", Gradient="Gradient")
    table.update({name: f"l_{name}" for name in node.state})
    code = builder.renderer.render_statements(checked.tree, checked,
                                              builder.names(table)).rstrip()
    sc, state = builder.scalar, builder.buffer_of(nid)
    out = [f"{sc} l_Param = {param}[{idx}];"]
    out += [f"{sc} l_{name} = {state(name)}[{idx}];" for name in node.state]
    out.append(code)
    out.append(f"{param}[{idx}] = l_Param;")
    out += [f"{state(name)}[{idx}] = l_{name};" for name in node.state]
    # the runtime scalars it uses, read once (no aliasing with the stores for the compiler)
    scalars = builder.buffers["", "optim_scalars"]
    load = [f"const {sc} os_{name} = {scalars}[{i}];"
            for i, name in enumerate(builder.optimiser_scalars) if f"os_{name}" in code]
    return load, out


def _plain(builder, nid, node):
    size = _size(builder, node)
    param, grad, exists = _buffers(builder, node)
    sc, zero = builder.scalar, builder.literal(0.0)
    load, update = _update(builder, nid, node, param, "idx")
    rows = builder.buffers["", "optim_rows"]
    if not _batched_gradient(builder, node):
        # one gradient for the batch (event-driven learning sums only active examples)
        body = [f"const {sc} Gradient = {grad}[idx];", f"{grad}[idx] = {zero};"]
    elif builder.batch_size == 1:
        # no loops over rows: the element loop stays vectorisable
        body = [f"const {sc} Gradient = {rows}[0] > 0 ? {grad}[idx] : {zero};",
                f"{grad}[idx] = {zero};"]
    else:
        body = [f"{sc} Gradient = {zero};",
                f"const int32_t rows = {rows}[0];",
                For("b", "rows", [f"Gradient += {grad}[(size_t)b * {size} + idx];"]),
                For("b", str(builder.batch_size),
                    [f"{grad}[(size_t)b * {size} + idx] = {zero};"])]
    body = load + body + ([If(f"{exists}[idx] != 0", update)] if exists else update)
    return Kernel(f"optimise_{builder.stem(nid)}", (), (Dim("idx", size),), body,
                  doc=f"{node.kind} step of {node.target} ({nid})",
                  label=f"optimise:{node.target}")


def _fused(builder, nid, node):
    eid = node.target
    syn = builder.synapses[eid]
    param, _, exists = _buffers(builder, node)
    sc, zero = builder.scalar, builder.literal(0.0)
    length, L = learning.row_length(builder, eid, syn)
    load, update = _update(builder, nid, node, param, f"(size_t)i * {L} + r")
    element = [f"const {sc} Gradient = gacc[r];"] + update
    if exists:
        element = [If(f"{exists}[(size_t)i * {L} + r] != 0", element)]
    # the row's gradient, summed exactly as the scatter kernels sum it, in a local array
    body = load + [f"const int32_t len = {length};", f"{sc} gacc[{L}];",
                   For("r", "len", [f"gacc[r] = {zero};"])]
    body += learning.row_gradient(builder, eid, syn, "gacc[{r}]")
    body.append(For("r", "len", element))
    return Kernel(f"optimise_fused_{builder.stem(nid)}", (), (Dim("i", syn.num_pre),), body,
                  doc=f"{node.kind} step of {eid} ({nid}) from its spikes and backward "
                      f"sequences", label=f"optimise:{eid}",
                  gathers=builder.layout_of(syn).gathers)


__all__ = ["declare_buffers", "fused_kernels", "kernels", "optimised"]
