"""Optimiser kernels: one per :class:`~irsnn.ir.OptimiserNode` with update code, over the
elements of its parameter, run once per batch (``Program.optimiser_kernels``).

Each element sums its gradient over the batch's examples (the first ``optim_rows[0]`` rows, in
ascending order; padding rows of a partial batch are left out), zeroes the gradient of every
row, and runs the optimiser's update code with its state (``o<k>_<state>``, one value per
element) and the runtime scalars in ``optim_scalars`` (set by the host before each step: the
learning rate, bias corrections, ...). Synapses that do not exist in a dense-stored sparse
connection (``<s>_exists`` is 0) are left untouched, so they stay absent.
"""

from __future__ import annotations

import numpy as np

from irsnn.ir import OptimiserNode, edge_id
from irsnn.ir.scopes import check_optimiser

from ..host_init import connectivity_mask
from .description import Dim, For, If, Kernel


def optimised(builder):
    """``[(node id, node)]`` of the optimiser nodes that run as kernels (all of them have code
    or none do: a host-side optimiser keeps every parameter on the host)."""
    nodes = list(builder.g.nodes(OptimiserNode))
    if not nodes or not all(n.code.strip() for _, n in nodes):
        return []
    return nodes


def declare_buffers(builder):
    nodes = optimised(builder)
    builder.optimiser_scalars = sorted({s for _, n in nodes for s in n.scalars})
    if not nodes:
        return
    builder._buffer("optim_scalars", builder.scalar, max(1, len(builder.optimiser_scalars)))
    builder._buffer("optim_rows", "int32_t", 1)
    edges = {edge_id(u, v, k): syn for u, v, k, syn in builder.g.synapses()}
    for k, (_, node) in enumerate(nodes):
        size = _size(builder, node)
        for name in node.state:
            builder._buffer(f"o{k}_{name}", builder.scalar, size)
        syn = edges.get(node.target)
        if syn is not None and syn.layout == "dense":
            mask = connectivity_mask(builder.g, node.target, syn, builder.seed)
            if mask is not None:
                s = builder.syns[node.target][0]
                builder._buffer(f"{s}_exists", "int8_t", mask.size)
                builder.host_arrays[f"{s}_exists"] = mask.reshape(-1).astype(np.int8)


def _size(builder, node):
    if "/" in node.target:
        return builder.pops[node.target.split("/")[0]][1].size
    return builder.synapse_count(node.target)


def _buffers(builder, node):
    """``(parameter buffer, gradient buffer, existence mask buffer or None)``."""
    if "/" in node.target:
        owner, var = node.target.split("/")
        g = builder.pops[owner][0]
        return f"{g}_{var}", f"{g}_{node.gradient}", None
    s = builder.syns[node.target][0]
    exists = f"{s}_exists" if any(b.name == f"{s}_exists" for b in builder.program.buffers) \
        else None
    return f"{s}_g", f"{s}_{node.gradient}", exists


def kernels(builder) -> list[Kernel]:
    out = []
    scalars = {name: f"os_{name}" for name in builder.optimiser_scalars}
    # loaded once per element (GPU) or hoisted by the compiler (C): no aliasing with stores
    load = [f"const {builder.scalar} os_{name} = optim_scalars[{i}];"
            for i, name in enumerate(builder.optimiser_scalars)]
    for k, (nid, node) in enumerate(optimised(builder)):
        size = _size(builder, node)
        param, grad, exists = _buffers(builder, node)
        checked = check_optimiser(nid, node, precision=builder.precision)
        table = dict(scalars, Param="l_Param", Gradient="Gradient")
        table.update({name: f"l_{name}" for name in node.state})
        code = builder.r.render_statements(checked.tree, checked, builder._names(table))
        sc = builder.scalar
        update = [f"{sc} l_Param = {param}[idx];"]
        update += [f"{sc} l_{name} = o{k}_{name}[idx];" for name in node.state]
        update.append(code.rstrip())
        update.append(f"{param}[idx] = l_Param;")
        update += [f"o{k}_{name}[idx] = l_{name};" for name in node.state]
        zero = builder.literal(0.0)
        if builder.B == 1:
            # no loops over rows: the element loop stays vectorisable
            body = [f"const {sc} Gradient = optim_rows[0] > 0 ? {grad}[idx] : {zero};",
                    f"{grad}[idx] = {zero};"]
        else:
            body = [f"{sc} Gradient = {zero};",
                    "const int32_t rows = optim_rows[0];",
                    For("b", "rows", [f"Gradient += {grad}[(size_t)b * {size} + idx];"]),
                    For("b", str(builder.B), [f"{grad}[(size_t)b * {size} + idx] = {zero};"])]
        body += [If(f"{exists}[idx] != 0", update)] if exists else update
        body = [s for s in load if s.split()[2] in code] + body
        out.append(Kernel(f"optimise_o{k}", (), (Dim("idx", size),), body,
                          doc=f"{node.kind} step of {node.target} ({nid})",
                          label=f"optimise:{node.target}"))
    return out


__all__ = ["declare_buffers", "kernels", "optimised"]
