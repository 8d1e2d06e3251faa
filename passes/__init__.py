"""IR passes (installed as ``irsnn.passes``): one pass per module, and the pipeline.

Requires: nothing beyond its submodules. Provides :class:`Pass`, :class:`PassContext`,
:class:`Pipeline`, one class per pass and :data:`PASSES` (kebab-case name -> class).
"""

from .base import Pass, PassContext
from .choose_sparse_layout import ChooseSparseLayout
from .batch_state import BatchState
from .event_eprop import EventEprop
from .few_spike_pipeline import FewSpikePipeline
from .infer_shapes import InferShapes
from .insert_deep_r import InsertDeepR
from .insert_eprop import InsertEprop
from .insert_eventprop import InsertEventprop
from .insert_optimiser import InsertOptimiser
from .insert_readout import InsertReadout
from .insert_recording import InsertRecording
from .pipeline import Pipeline
from .validate import Validate

#: every pass by its kebab-case name
PASSES = {p.name: p for p in (Validate, InferShapes, ChooseSparseLayout, InsertReadout,
                              InsertEprop, EventEprop, InsertOptimiser, InsertDeepR, BatchState,
                              InsertRecording, FewSpikePipeline, InsertEventprop)}

__all__ = ["Pass", "PassContext", "Pipeline", "PASSES", "Validate", "InferShapes",
           "ChooseSparseLayout", "InsertReadout", "InsertEprop", "EventEprop", "InsertOptimiser",
           "InsertDeepR", "BatchState", "InsertRecording", "FewSpikePipeline", "InsertEventprop"]
