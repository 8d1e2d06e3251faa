"""The host side of the grid plan (several blocks per example, :mod:`backends.kernels.grid`).

Requires: a :class:`~backends.kernels.grid.GridRenderer` and the loaded program's kernels by
name. Provides :class:`GridLaunch` (which kernels a step launches) and :func:`step_scalars`
(the scalar arguments that change from one step's launches to the next).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class GridLaunch:
    """The kernels of a program on the grid plan.

    Attributes
    ----------
    learning, infer : list
        The phase kernels of one step with learning on and off (the same list where the
        program has no learning phases).
    prologue, epilogue : object or None
        Run once before and after the steps of a launch, on one block per example.
    sums : int
        Elements of the ``irsnn_blocksums`` scratch buffer (spike-list slots x batch x blocks).
    """

    learning: list
    infer: list
    prologue: object
    epilogue: object
    sums: int

    def phases(self, learning_on: bool) -> list:
        """The phase kernels of a step for the learning switch as it is."""
        return self.learning if learning_on else self.infer

    @classmethod
    def load(cls, renderer, program, get) -> GridLaunch:
        """The kernels of ``program`` rendered by ``renderer``; ``get(name)`` loads one."""
        names = renderer.kernel_names(program)
        on = [get(n) for n in names.get(True, names.get(None))]
        off = [get(n) for n in names[False]] if False in names else on
        return cls(on, off,
                   get("irsnn_prologue") if program.prologue else None,
                   get("irsnn_epilogue") if program.epilogue else None,
                   max(1, names["slots"]) * program.constants["batch_size"] * renderer.blocks)


def step_scalars(sim, k: int) -> list:
    """``[(index from the end of the fused arguments, value)]`` of the scalars of step ``k``
    of a launch from ``sim``'s current step: ``ts0``, ``rng0`` and ``rec0`` (see
    :meth:`~backends.kernel_sim.KernelSimulation.fused_arguments`)."""
    return [(-4, np.int64(sim.timestep + k)),
            (-3, np.uint32((sim.rng_step + k) & 0xFFFFFFFF)),
            (-2, np.int64(sim.recorded_timesteps + k))]


__all__ = ["GridLaunch", "step_scalars"]
