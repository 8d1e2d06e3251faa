"""The NumPy reference backend: the oracle every other backend is checked against.

Requires: an IR that went through ``validate``, ``infer-shapes``, ``insert-readout``,
``batch-state`` and ``insert-recording``. Provides: :class:`ReferenceSimulation`. Always
available (NumPy only).
"""

import numpy as np

from ..base import Backend
from .simulation import ReferenceSimulation


class ReferenceBackend(Backend):
    """Execute the IR with NumPy, vectorised over batch and neurons."""

    name = "reference"
    #: every connection is simulated as a dense (num_pre, num_post) matrix
    dense_synapses = True

    def availability(self):
        return True, ""

    def devices(self):
        return [f"CPU (NumPy {np.__version__})"]

    def kernel_source(self, graph):
        """The generated NumPy code of every neuron group's blocks."""
        from irsnn.ir.scopes import check_neuron

        from ..kernels.render import comment_text, file_stem
        from .codegen import compile_block
        out = {}
        for nid, pop in graph.populations():
            checked = check_neuron(nid, pop, graph.attrs.get("precision", "float"))
            parts = [f"# {comment_text(nid)} {field}\n{compile_block(c).source}"
                     for field, c in vars(checked).items() if c is not None]
            out[f"{file_stem(nid, '.-')}.py"] = "\n\n".join(parts) + "\n"
        return out

    def build(self, graph, *, rng_seed=0, kernel_profiling=False):
        return ReferenceSimulation(graph, rng_seed=rng_seed, kernel_profiling=kernel_profiling)


__all__ = ["ReferenceBackend", "ReferenceSimulation"]
