"""What every synapse layout strategy provides to the kernel builder and the simulations.

Requires: the IR's :class:`~irsnn.ir.layouts.LayoutTraits` (which connections a layout holds),
:mod:`..description` (statements). Provides :class:`Layout`, the base of one strategy per
layout: the host structure drawn when a model is built (rows, bits), the storage buffers and
their initial contents, the statements that propagate a presynaptic neuron's spike, how
learning walks a row, and the conversions between stored and dense ``(num_pre, num_post)``
values. The default implementation is the dense matrix's.
"""

from __future__ import annotations

import numpy as np

from .. import description as d


class Layout:
    """A storage layout of synapse groups (GeNN's matrix types), as the backends store it.

    Concrete strategies also inherit their :class:`~irsnn.ir.layouts.LayoutTraits`.

    Attributes
    ----------
    gathers : bool
        Its rows are walked through index arrays (narrow vectors may serve it better).
    matrix_storage : bool
        Stored per-synapse values are the users' view, row-major (a matrix, or one value per
        neuron), so no conversion is needed to read or write them.
    """

    gathers = False
    matrix_storage = True
    #: its :meth:`propagate` row (and :meth:`deliver`) changes memory only inside
    #: :class:`~..description.ParallelFor` loops (with barriers where threads could meet), so a
    #: block of threads may add one row together; otherwise one thread propagates
    parallel_rows = True
    #: the rows of distinct presynaptic neurons reach distinct targets (one-to-one), so the
    #: spikes of a step, distinct neurons, are split across a block's threads instead of a row
    distinct_targets = False

    # -- built once per simulation ------------------------------------------------------------
    def connectivity(self, syn, mask):
        """The host structure of this layout for ``syn``, built when a model is built; None
        when the layout keeps none. ``mask()`` draws the synapses that exist (None: all), only
        if the layout needs them (a procedural group never holds its whole mask)."""
        return None

    def synapse_count(self, syn, conn) -> int:
        """Stored values per batch element of a per-synapse variable (weights included)."""
        return syn.num_pre * syn.num_post

    def weight_count(self, syn, conn) -> int:
        """Stored weights (one, for a single shared weight; none, when regenerated)."""
        return self.synapse_count(syn, conn)

    def declare(self, k, eid: str, syn, conn) -> None:
        """Add the storage buffers of ``syn`` to the buffer table of ``k`` (the
        :class:`~backends.kernels.KernelBuilder`)."""
        count = self.weight_count(syn, conn)
        if count:
            k.buffers.add(eid, "g", k.scalar, (count,))

    def store(self, host, buffers, eid: str, syn, conn, weights: np.ndarray,
              delays: np.ndarray | None = None) -> None:
        """Write the initial storage of ``syn`` from its dense ``weights`` (and per-synapse
        ``delays``); ``host(buffer)`` is the writable host array of a buffer."""
        host(buffers[eid, "g"])[:] = self.from_dense(syn, conn, weights).reshape(-1)

    def host_arrays(self, eid, syn, conn) -> dict:
        """``{var: values}`` of further constant buffers this layout declared."""
        return {}

    # -- kernels ----------------------------------------------------------------------------------
    def propagate(self, k, eid: str, syn, conn, setup: list, sign: str) -> list:
        """Statements adding presynaptic neuron ``i``'s row (``sign`` applied) to ``insyn``;
        ``setup`` takes statements run once per kernel call before the spike loop. ``k`` is
        the :class:`~backends.kernels.KernelBuilder`. With :attr:`parallel_rows`, the row's
        synapses are split across the threads of a block (a dense row's target ``j`` is
        always added by the same thread, so rows need no barrier between them)."""
        n_post, w = syn.num_post, k.buffers[eid, "g"]
        # Rows of big matrices come from the last-level cache: fetch the next spike's row
        # while adding this one
        return [f"GLOBAL const {k.scalar} *w = {w} + (size_t)i * {n_post};",
                d.If("s + 1 < cnt", [d.Prefetch(f"{w} + (size_t)spk[s + 1] * {n_post}",
                                                n_post)]),
                d.ParallelFor("j", str(n_post), [f"insyn[j] += w[j]{sign};"])]

    def pull(self, k, eid: str, syn, conn, marks: str, signed: bool) -> list | None:
        """Statements adding to ``insyn`` the synapses of every presynaptic neuron flagged in
        ``marks`` (an ``int8_t`` pointer expression: 0, or the spike's sign, +1 or -1 where
        ``signed``) by postsynaptic neuron (each ``insyn[j]`` in one thread, its additions in
        ascending presynaptic order, as rows of the spike list add them); ``k`` is the
        :class:`~backends.kernels.KernelBuilder`. None where the layout only pushes rows (the
        default): see :mod:`backends.kernels.simt`."""
        return None

    def mean_row(self, syn, conn) -> float:
        """Synapses per presynaptic neuron, on average (as drawn at build time)."""
        return float(syn.num_post)

    def deliver(self, k, eid: str, syn) -> list:
        """Statements after the spike loop of the propagation kernel (none by default)."""
        return []

    def row_extent(self, buffers, eid: str, syn, conn) -> tuple[str, int]:
        """``(expression of row i's synapse count, row stride)`` of stored per-synapse
        values."""
        return str(syn.num_post), syn.num_post

    def target(self, buffers, eid: str, syn, conn) -> str:
        """Expression of the postsynaptic neuron of slot ``r`` of row ``i``."""
        return "r"

    def learns_by_columns(self, syn) -> bool:
        """Whether ``syn``'s per-synapse learning walks its synapses by postsynaptic neuron
        (on column-order copies; see :func:`backends.kernels.learning.by_columns`)."""
        return False

    # -- host conversions ---------------------------------------------------------------------
    def to_dense(self, syn, conn, stored: np.ndarray) -> np.ndarray:
        """``(..., synapse_count)`` stored values -> ``(..., *dense_shape(syn))``: a
        ``(num_pre, num_post)`` matrix (absent synapses 0), or one value per neuron."""
        return stored.reshape(stored.shape[:-1] + self.dense_shape(syn))

    def from_dense(self, syn, conn, dense: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`to_dense` (absent synapses dropped), ``(..., synapse_count)``."""
        dense = np.asarray(dense)
        return dense.reshape(dense.shape[:dense.ndim - len(self.dense_shape(syn))] + (-1,))

    def mask(self, syn, conn) -> np.ndarray | None:
        """The synapses that exist now (None: every stored value is a synapse, or the mask
        drawn at build time holds)."""
        return None

    def check_weights(self, syn, values: np.ndarray, mask) -> np.ndarray:
        """Dense ``values`` given to ``set_weights`` as this layout can store them (absent
        synapses zeroed), or an :class:`~irsnn.errors.InputError` saying why they cannot
        be."""
        return values

    def dense_weights(self, syn, conn, stored: np.ndarray, mask) -> np.ndarray:
        """Weights in the shape users see (:meth:`to_dense`) from the stored ones; ``mask``
        the existing synapses (None: all)."""
        return self.to_dense(syn, conn, stored).copy()

    def stored_weights(self, syn, conn, dense: np.ndarray, mask) -> np.ndarray | None:
        """The stored weights of checked dense weights (:meth:`check_weights`), or None when
        nothing is to be stored."""
        return self.from_dense(syn, conn, dense)


__all__ = ["Layout"]
