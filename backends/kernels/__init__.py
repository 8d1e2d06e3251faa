"""Shared kernel code generation: a dialect-neutral description, its builder and renderer."""

from .builder import KernelBuilder
from .description import (AtomicAdd, Block, Buffer, Dim, For, If, Kernel, Prefetch, Program,
                          While)
from .render import C_KERNELS, KernelDialect, KernelRenderer

__all__ = ["KernelBuilder", "AtomicAdd", "Block", "Buffer", "Dim", "For", "If", "Kernel",
           "Prefetch", "Program", "While", "C_KERNELS", "KernelDialect", "KernelRenderer"]
