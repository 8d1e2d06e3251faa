"""``choose-sparse-layout``: how each connection's synapses are stored.

Requires: ``infer-shapes``. Options (from :class:`~irsnn.passes.PassContext`): ``layouts``,
the compiler's supported layouts in order of preference (as mlGeNN's supported matrix types;
default ``("ragged", "dense", "one_to_one")``); ``compiler``, its name for messages;
``sparse_threshold`` (default 0.25).

Provides ``SynapseGroup.layout`` and ``SynapseGroup.layout_reason`` (printed by ``irsnn dump``):

* ``FixedProbability``: a user choice ``FixedProbability(layout=...)`` (``"dense"``,
  ``"sparse"`` = ``"ragged"``, ``"bitmask"``, ``"procedural"``) is taken when the compiler
  supports it and the layout can hold the connection, else a
  :class:`~irsnn.errors.ModelError` names the connection, what stops it and what to use
  instead; otherwise connections with per-synapse delays, or with ``p > sparse_threshold``,
  stay dense, and sparser ones get the first of the compiler's ``layouts`` that holds them
  automatically: ``"bitmask"`` when the weight is one constant (GeNN's BITMASK with a global
  weight: one bit per pair), ``"ragged"`` (GeNN's SPARSE) always, ``"procedural"`` when the
  weight is a constant or a Normal/Uniform initializer (nothing stored; the RNG regenerates
  each row at every spike);
* listed synapses (``Sparse``, or ``pre_ind``/``post_ind`` set) are stored ``"ragged"`` unless
  ``layout="dense"`` or per-synapse delays keep them dense;
* ``OneToOne`` keeps its own ``"one_to_one"`` layout where the compiler supports it, and is
  otherwise stored ``"ragged"`` with one synapse per row (so e-prop trains it like any sparse
  connection);
* everything else stays dense.

:class:`~irsnn.compilers.InferenceCompiler` prefers ``bitmask > ragged > procedural > dense``
(``procedural`` first with ``prefer_in_memory_connect=False``, as mlGeNN);
:class:`~irsnn.compilers.EPropCompiler` supports ``ragged`` and ``dense`` only (e-prop keeps
its gradient per stored synapse). Every layout holds the same synapses and weights (drawn by
:func:`irsnn.backends.host_init.connectivity_mask` and ``initial_values``), so every backend
gives identical results whatever the layout; the reference backend computes all of them as
dense matrices with zeros.
"""

from __future__ import annotations

from irsnn.errors import ModelError

from irsnn.ir.layouts import LAYOUTS, describe_weight

from .base import Pass

#: ``FixedProbability(layout=...)`` names -> IR layouts
USER_LAYOUTS = {t.user_name: name for name, t in LAYOUTS.items() if t.user_name}
#: IR layouts -> the name users give
_USER_NAME = {v: k for k, v in USER_LAYOUTS.items()}
#: used when the compiler gives no ``layouts`` option
DEFAULT_LAYOUTS = ("ragged", "dense", "one_to_one")


def _user_names(layouts) -> str:
    return ", ".join(repr(_USER_NAME.get(x, x)) for x in layouts)


def _instead(syn, layouts) -> str:
    """The user name of the layout to suggest: the compiler's first that holds ``syn``."""
    fits = [x for x in layouts if LAYOUTS[x].obstacle(syn, True) is None]
    return _USER_NAME[fits[0] if fits else "dense"]


class ChooseSparseLayout(Pass):
    """Pick the storage layout of every connection (see the module docstring)."""

    def requires(self):
        return ("infer-shapes",)

    def run(self, graph, ctx):
        threshold = float(ctx.options.get("sparse_threshold", 0.25))
        layouts = tuple(ctx.options.get("layouts", DEFAULT_LAYOUTS))
        compiler = ctx.options.get("compiler", "this compiler")
        for u, v, k, syn in list(graph.synapses()):
            if syn.connectivity == "fixed_probability":
                if syn.layout_hint is not None:
                    layout, reason = self._requested(syn, layouts, compiler)
                else:
                    layout, reason = self._automatic(syn, layouts, compiler, threshold)
            else:
                layout, reason = self._structured(syn, layouts, compiler)
            if (layout, reason) != (syn.layout, syn.layout_reason):
                graph.set_edge(u, v, k, syn.replace(layout=layout, layout_reason=reason))

    @staticmethod
    def _structured(syn, layouts, compiler):
        """OneToOne and listed (``sparse``) connectivity; dense stays dense."""
        hetero = syn.heterogeneous_delay is not None
        if syn.connectivity == "one_to_one":
            if "one_to_one" in layouts:
                return "one_to_one", ""
            if hetero:
                return "dense", "per-synapse delays are stored densely"
            return "ragged", f"{compiler} has no one_to_one layout: one synapse per row"
        if syn.connectivity == "sparse":
            if syn.layout_hint in ("bitmask", "procedural"):
                where = f"Connection '{syn.name}'" + (f" (created at {syn.location})"
                                                      if syn.location else "")
                raise ModelError(f"{where}: layout={syn.layout_hint!r} holds FixedProbability "
                                 f"connectivity drawn by the RNG, not listed synapses; use "
                                 f"layout='sparse' or 'dense'")
            if hetero:
                return "dense", "per-synapse delays are stored densely"
            if syn.layout_hint == "dense":
                return "dense", "layout='dense' requested"
            return "ragged", "listed synapses"
        return syn.layout, syn.layout_reason

    @staticmethod
    def _requested(syn, layouts, compiler):
        hint = syn.layout_hint
        where = f"Connection '{syn.name}'" + (f" (created at {syn.location})"
                                              if syn.location else "")
        if hint not in USER_LAYOUTS:
            raise ModelError(f"{where}: layout={hint!r} is not a layout; use one of "
                             f"{_user_names(USER_LAYOUTS.values())} or None")
        layout = USER_LAYOUTS[hint]
        if layout not in layouts:
            raise ModelError(
                f"{where}: {compiler} cannot use layout={hint!r}; it supports "
                f"{_user_names(layouts)}"
                + (" (e-prop keeps traces and gradients per stored synapse)"
                   if all(LAYOUTS[x].trains for x in layouts) else "")
                + f"; use layout={_instead(syn, layouts)!r} or None")
        why = LAYOUTS[layout].obstacle(syn, True)
        if why is not None:
            raise ModelError(f"{where}: layout={hint!r} cannot hold this connection: {why}; "
                             f"use layout={_instead(syn, layouts)!r} or None"
                             + (", or a constant delay"
                                if syn.heterogeneous_delay is not None else ""))
        return layout, f"layout={hint!r} requested"

    @staticmethod
    def _automatic(syn, layouts, compiler, threshold):
        if syn.heterogeneous_delay is not None:
            return "dense", "per-synapse delays are stored densely"
        if syn.p > threshold:
            return "dense", f"p={syn.p:g} > sparse_threshold={threshold:g}"
        skipped = []
        for layout in layouts:
            why = LAYOUTS[layout].obstacle(syn, False)
            if why is None:
                order = " > ".join(x for x in layouts if x != "one_to_one")
                reason = (f"p={syn.p:g} <= {threshold:g}, {describe_weight(syn)}: {compiler} "
                          f"prefers {order}")
                return layout, reason + "".join(f"; {s}" for s in skipped)
            skipped.append(why)
        return "dense", (f"{compiler} supports only {', '.join(layouts)}: "
                         + "; ".join(skipped))



__all__ = ["ChooseSparseLayout", "USER_LAYOUTS", "DEFAULT_LAYOUTS"]
