"""EventProp's loss drives and regulariser in the kernels: what the backward pass
(:mod:`.eventprop_backward`) adds to the adjoints of outputs and hidden populations.

Requires: a :class:`~.builder.KernelBuilder` after :func:`.eventprop.declare_buffers` (an
output's ``Drive``, ``hist``, ``ptd``, ``imp`` buffers; a hidden population's ``reg``) and the
``_Pop`` description of each population. Provides :func:`loss_drive` (statements at an
example's start: a per-example loss's drive, the time-to-first-spike losses' ``dL/dt``),
:func:`step_softmax` and :func:`mse_drive` (the per-timestep losses' drive of step ``t``) and
:func:`regulariser` (the spike-count regulariser's jump of every neuron). The reference's
equations are in :mod:`backends.reference.eventprop_losses`; the same arithmetic here, so the
kernels agree with it to rounding.
"""

from __future__ import annotations

from .description import Block, For, If, ParallelFor


def loss_drive(builder, p, lid) -> list:
    """Statements writing the output's drive ``Drive[b][k]`` (softmax cross-entropy of the
    readout, over the batch size; ``T`` in scope) for an active row; the time-to-first-spike
    losses' ``dL/dt``; nothing for the per-timestep losses, whose drive is formed every step
    (:func:`step_softmax`, :func:`mse_drive`)."""
    if p.node.readout == "first_spike_time":
        if p.node.loss == "sparse_categorical_crossentropy":
            return _ttfs_crossentropy(builder, p, lid)
        return _ttfs_loss(builder, p, lid)
    if p.node.per_timestep:     # a drive per step, from the recorded output
        return []
    sc, n, B = builder.scalar, p.n, builder.batch_size
    row = f"(size_t)b * {n}"
    var = p.pop.output_var
    drive = p.var("Drive")
    temp = builder.literal(p.node.softmax_temperature)
    if p.node.readout == "max_var":
        r = f"{p.buf('vmax')}[{row} + k]"
    elif p.node.readout == "avg_var":
        r = f"({p.var(var + 'Sum')}[{row} + k] / ({sc})T)"
    elif p.node.readout == "avg_var_exp_weight":   # (its weights are applied step by step)
        r = f"{p.var(var + 'Avg')}[{row} + k]"
    else:
        r = f"{p.var(var + 'Sum')}[{row} + k]"
    labels = builder.buffers[lid, "labels"]
    one, zero = builder.literal(1.0), builder.literal(0.0)
    exp, fmax = builder.fn("exp"), builder.fn("fmax")
    scale = f"({temp} * {builder.literal(float(B))})"
    out = [f"{sc} zmax = {r.replace('+ k]', '+ 0]')} / {temp};",
           For("k", str(n), [f"zmax = {fmax}(zmax, {r} / {temp});"]),
           f"{sc} zsum = {zero};",
           For("k", str(n), [f"const {sc} e = {exp}(({r} / {temp}) - zmax);",
                             f"{drive}[{row} + k] = e;", "zsum += e;"]),
           For("k", str(n), [
               f"const {sc} pk = {drive}[{row} + k] / zsum;",
               f"{drive}[{row} + k] = (pk - (k == {labels}[b] ? {one} : {zero})) / {scale};"])]
    if p.node.readout == "avg_var":
        out.append(For("k", str(n), [f"{drive}[{row} + k] = {drive}[{row} + k] / ({sc})T;"]))
    return out


def _ttfs_crossentropy(builder, p, lid) -> list:
    """``Drive[b][k] = dL/dt_k`` of mlGeNN's time-to-first-spike cross-entropy (softmax of
    ``-t / temperature`` over the neurons that spiked, uniform when none did; plus
    ``TtfsAlpha / (1.01 T_ms - t_y)^2`` on the correct neuron), divided by the batch size; and
    ``imp[b][k]``, mlGeNN's phantom push of a correct neuron that did not spike
    (``-TauM TtfsAlpha / (1e-4 T_ms^2 B)``, at the example's last step), as the reference."""
    sc, n, B = builder.scalar, p.n, builder.batch_size
    row = f"(size_t)b * {n}"
    drive, tfs, count, imp = p.var("Drive"), p.var("TFirstSpike"), p.buf("count"), p.buf("imp")
    zero, one, inf = builder.literal(0.0), builder.literal(1.0), "INFINITY"
    temp = builder.literal(p.node.softmax_temperature)
    alpha, length = p.p["TtfsAlpha"], p.p["ExampleTime"]
    batch = builder.literal(float(B))
    spiked = f"({count}[{row} + {{k}}] > 0 && {tfs}[{row} + {{k}}] < {inf})"
    z = f"((-{tfs}[{row} + k]) / {temp})"
    labels = builder.buffers[lid, "labels"]
    return [f"const int32_t y = {labels}[b] < 0 ? 0 : ({labels}[b] > {n - 1} ? {n - 1} : "
            f"{labels}[b]);",
            "int32_t any = 0;",
            f"{sc} zmax = {zero};",
            For("k", str(n), [If(spiked.format(k="k"), [
                f"zmax = any ? {builder.fn('fmax')}(zmax, {z}) : {z};", "any = 1;"])]),
            f"{sc} zsum = {zero};",
            For("k", str(n), [
                f"const {sc} e = {spiked.format(k='k')} ? {builder.fn('exp')}({z} - zmax) : "
                f"(any ? {zero} : {one});",
                f"{drive}[{row} + k] = e;", "zsum += e;"]),
            f"const {sc} ty = {spiked.format(k='y')} ? {tfs}[{row} + y] : {zero};",
            f"const {sc} gap = {builder.literal(1.01 * length)} - ty;",
            For("k", str(n), [
                f"const {sc} pk = {drive}[{row} + k] / zsum;",
                f"const {sc} reg = k == y ? {builder.literal(alpha)} / (gap * gap) : {zero};",
                f"{drive}[{row} + k] = {spiked.format(k='k')} ? "
                f"((((k == y ? {one} : {zero}) - pk) / {temp}) + reg) / {batch} : {zero};",
                f"{imp}[{row} + k] = (k == y && !{spiked.format(k='k')}) ? "
                f"{builder.literal(-p.p['TauM'] * alpha / (1e-4 * length * length * B))} "
                f": {zero};"])]


def _ttfs_loss(builder, p, lid) -> list:
    """``Drive[b][k] = dL/dt_k`` of the relative mean-square error of the first spike times
    (:class:`~irsnn.losses.RelativeMeanSquareError`, mlGeNN's): ``sum_{k != y} (t_y - t_k +
    delta)^2 / 2`` with ``t = 0`` for a neuron that did not spike, whose ``dL/dt`` is 0; divided
    by the batch size (as the reference)."""
    sc, n, B = builder.scalar, p.n, builder.batch_size
    row = f"(size_t)b * {n}"
    drive, tfs, count = p.var("Drive"), p.var("TFirstSpike"), p.buf("count")
    zero, inf = builder.literal(0.0), "INFINITY"   # (a double literal of inf is not C)
    batch, delta = builder.literal(float(B)), builder.literal(p.p["Delta"])
    spiked = f"({count}[{row} + {{k}}] > 0 && {tfs}[{row} + {{k}}] < {inf})"
    labels = builder.buffers[lid, "labels"]
    return [f"const int32_t y = {labels}[b] < 0 ? 0 : ({labels}[b] > {n - 1} ? {n - 1} : "
            f"{labels}[b]);",
            f"const {sc} ty = {spiked.format(k='y')} ? {tfs}[{row} + y] : {zero};",
            f"{sc} total = {zero};",
            For("k", str(n), [
                f"{drive}[{row} + k] = {zero};",
                If("k != y", [
                    f"const {sc} tk = {spiked.format(k='k')} ? {tfs}[{row} + k] : {zero};",
                    f"const {sc} diff = (ty - tk) + {delta};",
                    If(spiked.format(k="k"), [f"{drive}[{row} + k] = (-diff) / {batch};"]),
                    "total += diff;"])]),
            If(spiked.format(k="y"), [f"{drive}[{row} + y] = total / {batch};"])]


def step_softmax(builder, p, lid) -> Block:
    """Statements writing the per-timestep cross-entropy's drive of step ``t`` (of ``T``) into
    ``ptd[b]``: ``(softmax(V(t) / temperature) - onehot(label)) / (temperature B T)``."""
    n, sc, steps = p.n, builder.scalar, p.steps
    temp = builder.literal(p.node.softmax_temperature)
    v = f"({p.buf('hist')}[((size_t)b * {steps} + t) * {n} + k] / {temp})"
    ptd, labels = p.buf("ptd"), builder.buffers[lid, "labels"]
    zero, one = builder.literal(0.0), builder.literal(1.0)
    scale = f"({temp} * ({sc})((int64_t){builder.batch_size} * T))"
    return Block([If(f"t < {steps}", [
        f"{sc} zmax = {v.replace('+ k]', '+ 0]')};",
        For("k", str(n), [f"zmax = {builder.fn('fmax')}(zmax, {v});"]),
        f"{sc} zsum = {zero};",
        For("k", str(n), [f"const {sc} e = {builder.fn('exp')}({v} - zmax);",
                          f"{ptd}[(size_t)b * {n} + k] = e;", "zsum += e;"]),
        For("k", str(n), [f"{ptd}[(size_t)b * {n} + k] = (({ptd}[(size_t)b * {n} + k] / zsum)"
                          f" - (k == {labels}[b] ? {one} : {zero})) / {scale};"])],
        [For("k", str(n), [f"{ptd}[(size_t)b * {n} + k] = {zero};"])])],
        comment="this step's cross-entropy drive")


def mse_drive(builder, p, lid) -> str:
    """The mean-square error's drive of neuron ``j`` at step ``t`` (of ``T``; the element is
    active): ``(V(t) - target(t)) / (B T)``, the target of step ``t % steps`` of the loss's
    ``(batch, steps, neurons)`` labels."""
    n, sc, steps = p.n, builder.scalar, p.steps
    labels = builder.buffers[lid, "labels"]
    v = f"{p.buf('hist')}[((size_t)b * {steps} + t) * {n} + j]"
    y = f"{labels}[((size_t)b * {steps} + (t % {steps})) * {n} + j]"
    # (the compiled network runs examples of the loss's length; a longer one gets no drive
    # past it rather than reading past the recording)
    return (f"(t < {steps} ? (({v} - {y}) / ({sc})((int64_t){builder.batch_size} * T)) : "
            f"{builder.literal(0.0)})")


def regulariser(builder, p) -> ParallelFor:
    """Statements writing the spike-count regulariser's jump of every neuron of ``p`` for
    batch element ``b`` (mlGeNN's, in irsnn's adjoint units and loss scale): ``TauM
    RegLossScale RegLambda (C - nu B) / B^2``, ``C`` the neuron's spikes in the batch's
    examples (kept and dropped), ``RegLambda`` the upper strength where ``C > nu B``, else the
    lower. Every element sums the batch's counts itself (``O(B n)``; the batch's forward
    passes have all ended)."""
    sc, n, B = builder.scalar, p.n, builder.batch_size
    q = {k: builder.literal(p.p.get(k, 0.0)) for k in ("RegLambdaUpper", "RegLambdaLower")}
    # (irsnn's adjoint units and the loss's scale over mlGeNN's: RegLossScale)
    scale = builder.literal(p.p["TauM"] * p.p.get("RegLossScale", 1.0))
    count, dropped = p.buf("count"), p.buf("dropped")
    return ParallelFor("j", str(n), [
        "int32_t total = 0;",
        For("c", str(B), [f"total += {count}[(size_t)c * {n} + j] + "
                          f"{dropped}[(size_t)c * {n} + j];"]),
        f"const {sc} excess = ({sc})total - {builder.literal(p.p['RegNuUpper'] * B)};",
        f"{p.buf('reg')}[(size_t)b * {n} + j] = (({scale} * (excess > "
        f"{builder.literal(0.0)} ? {q['RegLambdaUpper']} : {q['RegLambdaLower']})) * "
        f"excess) / {builder.literal(float(B * B))};"])


__all__ = ["loss_drive", "mse_drive", "regulariser", "step_softmax"]
