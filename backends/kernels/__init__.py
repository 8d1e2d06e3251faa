"""Shared kernel code generation: a dialect-neutral description, its builder and renderer.

Requires: nothing beyond its submodules. Provides the public names of
:mod:`.builder`, :mod:`.description` and :mod:`.render` (:class:`KernelBuilder`,
:class:`Program` and its statements, :class:`KernelDialect`, :class:`KernelRenderer`,
:data:`C_KERNELS`).
"""

from .builder import KernelBuilder
from .description import (AddSetBits, AppendFlagged, AtomicAdd, Barrier, Block, Buffer, ByPlan,
                          Dim, For, If, Kernel, ParallelFor, Prefetch, Program, Single)
from .render import C_KERNELS, KernelDialect, KernelRenderer

__all__ = ["KernelBuilder", "AddSetBits", "AtomicAdd", "Block", "Buffer", "Dim", "For", "If",
           "Kernel", "Prefetch", "Program", "C_KERNELS", "KernelDialect", "KernelRenderer",
           "AppendFlagged", "Barrier", "ByPlan", "ParallelFor", "Single"]
