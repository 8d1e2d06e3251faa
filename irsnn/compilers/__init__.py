"""Compilers: turn a network into a runnable compiled network (mlGeNN's ``ml_genn.compilers``).

Requires: nothing beyond its submodules. Provides the public names :class:`Compiler`,
:class:`InferenceCompiler`, :class:`EPropCompiler`, :class:`EventPropCompiler`,
:class:`CompiledNetwork`,
:class:`CompiledInferenceNetwork` and :class:`CompiledTrainingNetwork`.
"""

from .compiled_network import CompiledNetwork
from .compiler import Compiler
from .compiled_training_network import CompiledTrainingNetwork
from .eprop_compiler import EPropCompiler
from .event_prop_compiler import EventPropCompiler
from .few_spike_compiler import CompiledFewSpikeNetwork, FewSpikeCompiler
from .inference_compiler import CompiledInferenceNetwork, InferenceCompiler

__all__ = ["Compiler", "CompiledNetwork", "InferenceCompiler", "CompiledInferenceNetwork",
           "EPropCompiler", "CompiledTrainingNetwork", "EventPropCompiler", "FewSpikeCompiler",
           "CompiledFewSpikeNetwork"]
