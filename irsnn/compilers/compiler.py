"""The compiler base class: lowering, a pass pipeline, and a backend build.

Requires: :func:`irsnn.lowering.lower_network`, the passes (:class:`~irsnn.passes.Pipeline`)
and a backend (:func:`irsnn.backends.get_backend`), both imported when used. Provides
:class:`Compiler` (mlGeNN's base compiler): options, layouts, ``passes``, ``lower``,
``run_pipeline``, ``build_ir``, ``get_backend`` and ``compile``, which subclasses refine, and
:func:`check_model_name` (what a model may be compiled as).
"""

from __future__ import annotations

import warnings

from ..errors import ModelError
from ..lowering import lower_network
from ..rng import check_seed
from .data_parallel import rank_batch_size


def _positive_int(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ModelError(f"{owner}: {name}={value!r} must be a whole number >= 1")
    return value


def _communicator(owner, communicator):
    if communicator is None:
        return None
    from ..communicators import Communicator
    if not isinstance(communicator, Communicator):
        raise ModelError(f"{owner}: communicator={communicator!r} is not a Communicator; pass "
                         f"irsnn.communicators.MPI() (or None for one process)")
    return communicator


#: the longest name a model may be compiled with: it becomes the stem of generated file names
#: (``<stem>-<24 hex digits>.so`` and its temporary files in the cache, emitted kernels), and
#: most file systems limit a file name to 255 bytes
MAX_NAME_LENGTH = 200


def check_model_name(name) -> str:
    """``name`` if a model can be compiled with it, else a :class:`ModelError`: a non-empty
    string of at most :data:`MAX_NAME_LENGTH` characters. (In file names, every character
    other than an ASCII letter, digit, ``_``, ``.`` or ``-`` becomes one ``_``, so any such
    string makes a valid file name; in generated comments it is escaped.)"""
    if not isinstance(name, str) or not name:
        raise ModelError(f"compile: name={name!r} must be a non-empty string; pass a short "
                         f"name such as 'mnist_model' (or none: 'irsnn_model')")
    if len(name) > MAX_NAME_LENGTH:
        raise ModelError(f"compile: the name '{name[:40]}...' has {len(name)} characters, more "
                         f"than {MAX_NAME_LENGTH}; it becomes the stem of generated file names, "
                         f"which file systems limit: pass a shorter name")
    return name


def loss_map(owner: str, losses, network, every_output: bool = False) -> dict:
    """``{output population: Loss}`` from a training compiler's ``losses`` (one loss for every
    population with a readout, or a dict population -> loss); ``every_output``: a dict must also
    give a loss to every population with a readout."""
    from ..losses import Loss, default_losses
    from ..population import get_underlying_pop
    from ..utils.module import get_object
    outputs = [p for p in network.populations if p.neuron.readout is not None]
    if isinstance(losses, dict):
        out = {get_underlying_pop(k): get_object(v, Loss, "Loss", default_losses)
               for k, v in losses.items()}
        stray = [p.name for p in out if p not in outputs]
        if stray:
            raise ModelError(f"{owner}: losses are given for {stray}, which have no readout; "
                             f"give the output neuron a readout (e.g. sum_var)")
        missing = [p.name for p in outputs if p not in out]
        if every_output and missing:
            raise ModelError(f"{owner}: outputs {missing} have readouts but no loss; give each "
                             f"a loss")
        return out
    if not outputs:
        raise ModelError(f"{owner}: the network has no population with a readout; give the "
                         f"output neuron a readout (e.g. readout='sum_var')")
    return {p: get_object(losses, Loss, "Loss", default_losses) for p in outputs}


class Compiler:
    """Base of all compilers (mlGeNN's ``Compiler``).

    Parameters
    ----------
    dt : float
        Timestep in ms.
    batch_size : int
        Examples simulated in parallel.
    rng_seed : int
        Seed of the counter-based RNG (initialisation, connectivity, Poisson inputs): a whole
        number in [0, 2**64) (:data:`irsnn.rng.SEED_RANGE`), the same range on every backend.
    kernel_profiling : bool
        Time every kernel; read the totals from ``compiled_net.kernel_times`` or, under
        GeNN's names, from ``compiled_net.genn_model`` (``neuron_update_time``, ...).
    backend : str or Backend, optional
        ``"reference"`` (NumPy), ``"c"``, ``"opencl"``, ``"cuda"`` (or GeNN's names
        ``"SingleThreadedCPU"``, ``"OpenCL"``, ``"CUDA"``), or a backend object; default
        ``$IRSNN_BACKEND``, else the fastest available.
    precision : {"float", "double"}
        What ``scalar`` means in model code and state.
    prefer_in_memory_connect : bool
        As mlGeNN: sparse connectivity is stored in memory (bitmask, ragged) rather than
        regenerated procedurally at every spike; False puts the procedural layout first
        where the compiler supports it (inference).
    communicator : Communicator, optional
        Train or evaluate data-parallel across the ranks of an MPI job (see
        :mod:`.data_parallel`): ``batch_size`` is then the batch of the whole job, split evenly
        over the ranks.
    **genn_kwargs
        GeNN-specific options; accepted and ignored with a warning.
    """

    def __init__(self, dt: float = 1.0, batch_size: int = 1, rng_seed: int = 0,
                 kernel_profiling: bool = False, prefer_in_memory_connect: bool = True,
                 backend=None, precision: str = "float", communicator=None, **genn_kwargs):
        owner = type(self).__name__
        if not (isinstance(dt, int | float) and 0 < dt < float("inf")):
            raise ModelError(f"{owner}: dt={dt!r} must be a finite positive number of ms")
        self.dt = float(dt)
        #: the batch of the whole job; :attr:`batch_size` is this rank's share
        self.full_batch_size = _positive_int(owner, "batch_size", batch_size)
        self.communicator = _communicator(owner, communicator)
        self.batch_size = rank_batch_size(owner, batch_size, self.communicator)
        self.rng_seed = check_seed(rng_seed, f"{owner}: rng_seed")
        self.kernel_profiling = bool(kernel_profiling)
        self.prefer_in_memory_connect = prefer_in_memory_connect
        self.backend = backend
        if precision not in ("float", "double"):
            raise ModelError(f"{owner}: precision={precision!r}; use 'float' or 'double'")
        self.precision = precision
        if genn_kwargs:
            warnings.warn(f"{owner}: GeNN-specific options {sorted(genn_kwargs)} are ignored "
                          f"by irsnn", stacklevel=2)
        self.genn_kwargs = genn_kwargs

    # -- pipeline ---------------------------------------------------------------------------
    def passes(self) -> list:
        """The pass pipeline of this compiler (subclasses extend it)."""
        from irsnn.passes import (BatchState, ChooseSparseLayout, InferShapes, InsertReadout,
                                  InsertRecording, Validate)
        return [Validate(), InferShapes(), ChooseSparseLayout(), InsertReadout(), BatchState(),
                InsertRecording()]

    def options(self) -> dict:
        """Options passed to the passes in :class:`~irsnn.passes.PassContext`."""
        return {"dt": self.dt, "batch_size": self.simulation_batch_size,
                "rng_seed": self.rng_seed,
                "compiler": type(self).__name__, "layouts": self.layouts()}

    @property
    def simulation_batch_size(self) -> int:
        """Batch elements the built model simulates at once (the ``batch_size`` unless a
        compiler splits batches into chunks)."""
        return self.batch_size

    def layouts(self) -> tuple[str, ...]:
        """Synapse layouts this compiler supports, most preferred first (mlGeNN's supported
        matrix types; read by the ``choose-sparse-layout`` pass)."""
        return ("ragged", "dense", "one_to_one")

    def lower(self, network, name: str | None = None):
        """Lower ``network`` to an IR graph (no passes applied)."""
        if not network.populations:
            raise ModelError("Network has no populations; create some inside "
                             "'with network:' before compiling")
        name = "irsnn_model" if name is None else check_model_name(name)
        # every name keys checkpoint files: refuse now what could not, not after an epoch
        from irsnn.serialisers.numpy import check_file_key
        for kind, objs in (("Population", network.populations),
                           ("Connection", network.connections)):
            for obj in objs:
                check_file_key(kind, obj.name)
        return lower_network(network, name=name, dt=self.dt,
                             batch_size=self.simulation_batch_size, precision=self.precision,
                             example_timesteps=self.options().get("example_timesteps"))

    def run_pipeline(self, graph, *, recordings=(), print_after_all=False, print_after=(),
                     dump_dir=None, fmt="text", stream=None):
        """Run :meth:`passes` on a lowered graph and return the result."""
        from irsnn.passes import PassContext, Pipeline
        pipeline = Pipeline(self.passes(), print_after_all=print_after_all,
                            print_after=print_after, dump_dir=dump_dir, fmt=fmt, stream=stream)
        ctx = PassContext(options=self.options(), recordings=tuple(recordings))
        return pipeline.run(graph, ctx)

    def build_ir(self, network, name: str | None = None, **pipeline_options):
        """Lower and run the pipeline: the IR the backend would build."""
        return self.run_pipeline(self.lower(network, name), **pipeline_options)

    def add_custom_update(self, genn_model, model, group: str, name: str):
        """mlGeNN's ``add_custom_update(genn_model, model, group, name)``: add the custom update
        ``model`` to the compiled network whose ``genn_model`` is given
        (``compiled_net.genn_model``), in ``group``; see
        :mod:`irsnn.compilers.custom_updates`."""
        from .genn_model import GeNNModelView
        if not isinstance(genn_model, GeNNModelView):
            raise ModelError(f"add_custom_update: irsnn adds custom updates to a compiled "
                             f"network; pass compiled_net.genn_model (got "
                             f"{type(genn_model).__name__}), after compile()")
        return genn_model.add_custom_update(model, group, name)

    def add_custom_connectivity_update(self, genn_model, model, synapse_group, group: str,
                                       name: str):
        """mlGeNN's custom connectivity updates (user code adding and removing synapses) have
        no equivalent in irsnn: refused with what to use instead."""
        raise ModelError(f"add_custom_connectivity_update ('{name}', group '{group}'): irsnn "
                         f"has no user custom connectivity updates (code that adds or removes "
                         f"synapses); rewire with Deep-R (EPropCompiler(deep_r_conns=[...])) or "
                         f"build the connection with the wanted synapses (Sparse connectivity)")

    def get_backend(self):
        from irsnn.backends import get_backend
        return get_backend(self.backend)

    def compile(self, network, name: str | None = None, **kwargs):
        """Compile ``network`` into a runnable compiled network."""
        raise ModelError(f"{type(self).__name__} cannot compile by itself; use "
                         f"InferenceCompiler (or another concrete compiler)")
