"""Compilers: turn a network into a runnable compiled network (mlGeNN's ``ml_genn.compilers``)."""

from .compiled_network import CompiledNetwork
from .compiler import Compiler
from .inference_compiler import CompiledInferenceNetwork, InferenceCompiler

__all__ = ["Compiler", "CompiledNetwork", "InferenceCompiler", "CompiledInferenceNetwork"]
