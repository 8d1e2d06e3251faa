"""The pass interface: a small class with a kebab-case name, options, a precondition and a run.

Requires: nothing. Provides :class:`Pass` (name from the class name, ``requires``, ``run``)
and :class:`PassContext` (options, recording requests, the passes already run).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class PassContext:
    """What a pipeline knows besides the IR: compiler options and the source network.

    Attributes
    ----------
    options : dict
        Compiler options (``dt``, ``batch_size``, ``example_timesteps``, ...).
    recordings : tuple
        Recording requests ``("spikes", node_id)`` or ``("var", node_id, var)`` for
        ``insert-recording``.
    provided : set
        Names of the passes that have run, so ``requires()`` can check ordering.
    """

    options: dict = field(default_factory=dict)
    recordings: tuple = ()
    provided: set = field(default_factory=set)


class Pass:
    """Base class of IR passes.

    A pass has a kebab-case ``name`` derived from its class name (``InsertReadout`` ->
    ``"insert-readout"``, file ``insert_readout.py``), its options as fields, a
    :meth:`requires` listing the passes that must have run before it, and :meth:`run`, which
    rewrites the graph in place.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", cls.__name__.lstrip("_")).lower()

    name = "pass"

    def requires(self) -> tuple[str, ...]:
        """Names of passes that must already have run."""
        return ()

    def run(self, graph, ctx: PassContext) -> None:  # pragma: no cover - interface
        """Rewrite ``graph`` in place."""

    def __repr__(self):
        return f"{type(self).__name__}()"
