"""What the IR knows of each synapse storage layout: which connections it can hold, and why not.

Requires: nothing but the :class:`~irsnn.ir.payloads.SynapseGroup` payload's fields.
Provides: :data:`LAYOUTS` (layout name -> :class:`LayoutTraits`), asked by ``verify`` and by the
passes that choose or check layouts (``choose-sparse-layout``, ``insert-eprop``,
``insert-deep-r``, ``infer-shapes``) instead of testing layout names. The backends' layout
strategies (:mod:`irsnn.backends.kernels.layouts`, one module per layout: storage, conversions,
kernel statements) extend these classes; adding a layout means one strategy module there and
its traits registered here.
"""

from __future__ import annotations


class LayoutTraits:
    """The IR-level facts of one synapse storage layout (GeNN's matrix types).

    Attributes
    ----------
    name : str
        The IR's name (``SynapseGroup.layout``).
    user_name : str or None
        How users ask for it (``FixedProbability(layout=...)``), None when they cannot.
    trains : bool
        Holds per-synapse learning (traces, gradients).
    rewires : bool
        Rows keep room for new synapses (Deep-R).
    per_neuron : bool
        Stores one value per postsynaptic neuron (weight arrays of ``num_post`` values).
    absent_as_zero : bool
        Stores existing synapses only, so the zeros of an explicit weight matrix are absent
        synapses (rather than synapses of weight 0).
    stores_weights : bool
        Keeps weights in memory (False: regenerated from the RNG at every spike).
    """

    name = ""
    user_name: str | None = None
    trains = False
    rewires = False
    per_neuron = False
    absent_as_zero = False
    stores_weights = True

    def obstacle(self, syn, explicit: bool) -> str | None:
        """Why this layout cannot hold ``syn`` (None when it can); ``explicit``: the user
        asked for it (rather than a compiler choosing it)."""
        if syn.heterogeneous_delay is not None:
            return (f"per-synapse delays ({syn.heterogeneous_delay.describe()}) are stored "
                    f"only by the dense layout")
        return None

    def problems(self, eid: str, syn) -> list[str]:
        """Invariants of ``syn`` stored in this layout that do not hold (for ``verify``)."""
        return []

    def weight_shape(self, syn) -> tuple[int, ...]:
        """Shape of a weight array given for every synapse of ``syn`` (one per neuron for
        OneToOne connectivity, whatever the layout)."""
        if self.per_neuron or syn.connectivity == "one_to_one":
            return (syn.num_post,)
        return (syn.num_pre, syn.num_post)

    def dense_shape(self, syn) -> tuple[int, ...]:
        """Shape of the weights users see (``get_weights``) of ``syn`` in this layout: a
        ``(num_pre, num_post)`` matrix, or one value per neuron."""
        return (syn.num_post,) if self.per_neuron else (syn.num_pre, syn.num_post)

    def stored_synapses(self, syn, listed: int | None = None) -> int:
        """Synapses (slots of per-synapse values) this layout stores for ``syn``: every pair
        of a matrix by default; ``listed``, the number of explicitly listed synapses, if any.
        Random connectivity counts its expected synapses (for memory estimates)."""
        return syn.num_pre * syn.num_post

    def stored_bytes(self, syn, scalar: int, listed: int | None = None) -> int:
        """Bytes of the weights (and connectivity) this layout keeps for ``syn``, with
        ``scalar``-byte weights (for memory estimates, before anything is allocated)."""
        return self.stored_synapses(syn, listed) * scalar

    def __repr__(self):
        return f"<layout {self.name}>"


class DenseTraits(LayoutTraits):
    """A ``(num_pre, num_post)`` matrix, zeros where no synapse exists (GeNN's DENSE)."""

    name, user_name, trains = "dense", "dense", True

    def obstacle(self, syn, explicit):
        return None


class RaggedTraits(LayoutTraits):
    """Per presynaptic neuron, its targets and weights (GeNN's SPARSE)."""

    name, user_name, trains, rewires = "ragged", "sparse", True, True
    absent_as_zero = True

    def stored_synapses(self, syn, listed=None):
        if listed is not None:
            return listed
        full = syn.num_pre * syn.num_post
        return int(full * syn.p) if syn.p is not None else full

    def stored_bytes(self, syn, scalar, listed=None):
        # a weight and a target index per synapse, and a length per row
        return self.stored_synapses(syn, listed) * (scalar + 4) + syn.num_pre * 4


class OneToOneTraits(LayoutTraits):
    """One synapse ``i -> i`` per neuron, one stored value each."""

    name, per_neuron = "one_to_one", True

    def stored_synapses(self, syn, listed=None):
        return syn.num_post

    def obstacle(self, syn, explicit):
        if syn.connectivity != "one_to_one":
            return "one_to_one holds OneToOne connectivity only"
        return super().obstacle(syn, explicit)


def describe_weight(syn) -> str:
    """How ``syn``'s weight reads in messages (``weight 0.5``, ``weights Normal(...)``)."""
    w = syn.weight
    if w.kind == "constant":
        return f"weight {w.value!r}"
    return "an explicit weight array" if w.kind == "array" else f"weights {w.describe()}"


class _GeneratedTraits(LayoutTraits):
    """Layouts that hold FixedProbability synapses drawn by the RNG, without per-synapse
    delays or learning."""

    def problems(self, eid, syn):
        out = []
        if syn.connectivity != "fixed_probability":
            out.append(f"edge {eid} is {syn.connectivity} but has the {self.name} layout, which "
                       f"only FixedProbability connectivity can use")
        if syn.heterogeneous_delay is not None:
            out.append(f"edge {eid} has per-synapse delays, which the {self.name} layout "
                       f"cannot hold")
        if syn.learning is not None:
            out.append(f"edge {eid} learns, which the {self.name} layout cannot support")
        return out


class BitmaskTraits(_GeneratedTraits):
    """One bit per (pre, post) pair, and one weight or a weight matrix (GeNN's BITMASK)."""

    name = user_name = "bitmask"
    absent_as_zero = True

    def stored_synapses(self, syn, listed=None):
        return 0   # no per-synapse values: bits, and one weight or a weight matrix

    def stored_bytes(self, syn, scalar, listed=None):
        bits = (syn.num_pre * syn.num_post + 31) // 32 * 4
        weights = scalar if syn.weight.kind == "constant" else syn.num_pre * syn.num_post * scalar
        return bits + weights

    def obstacle(self, syn, explicit):
        why = super().obstacle(syn, explicit)
        if why is None and not explicit and syn.weight.kind != "constant":
            return f"bitmask is picked for one constant weight, not {describe_weight(syn)}"
        return why


class ProceduralTraits(_GeneratedTraits):
    """Nothing stored: every spike regenerates its row (GeNN's PROCEDURAL)."""

    name = user_name = "procedural"
    stores_weights = False

    def stored_synapses(self, syn, listed=None):
        return 0

    def stored_bytes(self, syn, scalar, listed=None):
        return 0
    #: weight initializers a procedural group can regenerate
    REGENERATED = ("constant", "normal", "uniform")

    def obstacle(self, syn, explicit):
        why = super().obstacle(syn, explicit)
        if why is None and syn.weight.kind not in self.REGENERATED:
            return (f"procedural regenerates a constant, Normal or Uniform weight, not "
                    f"{describe_weight(syn)} (such as weights loaded from a checkpoint)")
        return why

    def problems(self, eid, syn):
        out = super().problems(eid, syn)
        if syn.weight.kind not in self.REGENERATED:
            out.append(f"edge {eid} has {syn.weight.kind} weights, which the procedural layout "
                       f"cannot regenerate")
        return out


#: layout name -> its traits, in the order ``verify`` lists them
LAYOUTS: dict[str, LayoutTraits] = {t.name: t for t in (
    DenseTraits(), OneToOneTraits(), RaggedTraits(), BitmaskTraits(), ProceduralTraits())}


def layout_traits(name: str) -> LayoutTraits:
    """The traits of layout ``name`` (KeyError naming the known layouts otherwise)."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise KeyError(f"unknown synapse layout {name!r}; layouts are {list(LAYOUTS)}") from None


__all__ = ["LAYOUTS", "LayoutTraits", "describe_weight", "layout_traits"]
