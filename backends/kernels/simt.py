"""Which plan a SIMT target (OpenCL, CUDA) runs a program with, and why.

Requires: a :class:`~.description.Program`. Provides :class:`Plan`, :func:`choose_plan` and
:func:`work_group_request` (the size asked for: a backend option or the setting).

Two plans exist. *One block per example* (the default): each batch element runs on one
work-group (CUDA block) of ``threads`` threads through all its timesteps in one launch; the
phases of a step are separated by barriers, neuron updates and the propagation of layouts with
:attr:`~.layouts.base.Layout.parallel_rows` are split across the threads (populations larger
than the block are strided over it), spike lists are made with a prefix sum in local memory;
learning runs on the same plan (presynaptic traces and event bits per spike, e-prop's sequence
recording, feedback signals and backward sweeps per neuron, online per-synapse learning along a
row's synapses, by columns one column per thread; EventProp's backward pass per neuron, its
jumps one spike per thread and its gradient rows one synapse per thread), as does variable
recording; event-driven e-prop's gradient scatter at the end of an example is launched as one
block of the same ``threads`` per presynaptic row, the row's synapses split across the threads
(every thread walks the row's spike bits; each adds to its own synapses, so the sums are the
ones of one thread per row: ``KernelRenderer.buffer_kernel``); one-to-one propagation splits
the step's spikes (distinct neurons: distinct targets) across the threads; spike recording,
EventProp's event lists and loss kernels run on one thread of the block (one-to-one propagation
did too, until PoCL 3.1 was found to drop the inputs of a one-to-one connection from a LIF
population there); a learning model has a second fused kernel with learning off (no barrier
under a condition on the learning switch: see ``KernelRenderer.learning_variants``). Every
thread of a block runs the same rounds of a block-wide loop (the last guarded), and a barrier
follows a block-wide loop that more work follows: PoCL 3.0 and 3.1 miscompiled both otherwise
(see :class:`~.render.KernelRenderer`). *One thread per example*: the whole example on one
thread, as C runs it (chosen with a work-group size of 0, and automatically on CPU devices).
*Several blocks per example* (:mod:`.grid`): ``blocks`` work-groups of ``threads`` share each
example's neurons and synapses, each phase of a step a launch of its own; chosen for
populations far larger than a block (:data:`GRID_NEURONS_PER_THREAD`) where the batch leaves
the device's compute units idle, or asked for (``IRSNN_BLOCKS_PER_EXAMPLE``, the backends'
``blocks_per_example``). Ragged groups pull there (a push waits for the block after every
spike's row, which cannot be cut into launches); a program that still cannot be cut (see
:func:`.grid.obstacle`) runs on one block per example, or is refused where blocks were asked
for.

On a block of several threads, a layout that can (:meth:`~.layouts.base.Layout.pull`, the
ragged one) propagates by *pulling* where :func:`pull_reason` expects it to be cheaper: each
thread owns postsynaptic neurons ``j`` and walks column ``j``'s synapses (presynaptic neurons
ascending), adding the weights of those whose neuron spiked (flagged from the spike list in a
scratch buffer, cleared again after the pull), instead of splitting one spike's row across the
block with a barrier after every row. The trade-off, per step and thread, in rounds of a loop:
a push costs ``spikes * (ceil(row / threads) + barrier)`` (rows of ~50 synapses on blocks of
256 threads leave most threads idle, and barriers dominate); a pull costs
``ceil(num_post / threads) * column + 2 barriers`` whatever the activity (it reads every
synapse's presynaptic flag, the weight only where it spiked). The expected spikes are not
known when building: :func:`pull_reason` assumes :data:`ACTIVITY` and a barrier of
:data:`BARRIER` rounds (rough figures, measured on PoCL only: ``benchmarks/simt_pull.py``
calibrates them on a GPU). So small blocks over large populations push (32 threads, 512
neurons, rows of 25: a pull walks 16 columns a step), large blocks pull (256 threads: two
columns). The sums are bit-identical: each ``inSyn[j]`` receives the same additions in the
same order (spike lists ascend in neuron id in every plan, columns in presynaptic id), and no
float atomic is used.
"""

from __future__ import annotations

from dataclasses import dataclass

from irsnn import settings
from irsnn.errors import BackendError, SettingsError

#: largest automatic work-group size
MAX_AUTO_THREADS = 256


@dataclass(frozen=True)
class Plan:
    """How a fused kernel runs: ``threads`` per batch element (None: one thread per batch
    element) and ``reason``, the words ``irsnn dump`` prints."""

    threads: int | None
    reason: str
    #: work-groups per batch element (:mod:`.grid` above 1)
    blocks: int = 1
    #: ``blocks`` was asked for (a program that cannot run so is refused, not re-planned)
    blocks_asked: bool = False

    def one_block(self, why: str) -> Plan:
        """This plan's threads on one work-group per example, ``why`` several cannot run it."""
        return Plan(self.threads, f"one work-group of {self.threads} threads per batch element "
                                  f"(several per example were considered, but cannot run this "
                                  f"model: {why})")


def _largest_population(program) -> int:
    sizes = [b.shape[-1] for b in program.buffers if b.var == "fired"]
    sizes += [b.shape[-1] for b in program.buffers if b.var == "spk"]
    return max(sizes, default=1)


#: the automatic plan gives an example several blocks when its largest population has more
#: than this many neurons per thread of one block (uncalibrated: ``benchmarks/simt_grid.py``)
GRID_NEURONS_PER_THREAD = 16
#: ... and then about this many neurons per thread of the example's blocks
GRID_TARGET_PER_THREAD = 4


def choose_plan(program, requested: int | None, device_limit: int, device: str,
                cpu: bool = False, blocks: int | None = None, units: int | None = None) -> Plan:
    """The plan for ``program`` on a device whose work-groups hold at most ``device_limit``
    threads (``device`` names it in messages).

    Parameters
    ----------
    program : Program
        The built program.
    requested : int or None
        Threads per batch element asked for (``IRSNN_WORK_GROUP_SIZE`` or a backend option):
        None chooses (the largest population rounded up to a multiple of 32, at most
        :data:`MAX_AUTO_THREADS` and the device's limit), 0 asks for one thread per example.
    device_limit : int
        The device's largest work-group.
    device : str
        The device's name.
    cpu : bool
        The device is a CPU (PoCL): the automatic choice is one thread per example there
        (work-items of a group are loops on a CPU, and a kernel with barriers in its time loop
        takes several times longer to build).
    blocks : int or None
        Work-groups per batch element asked for (``IRSNN_BLOCKS_PER_EXAMPLE`` or a backend
        option); None chooses: one, or on a GPU (``units`` compute units known) several where
        the largest population has more than :data:`GRID_NEURONS_PER_THREAD` neurons per
        thread of a block and the batch leaves compute units idle.
    units : int or None
        The device's compute units (multiprocessors), where known.

    Raises
    ------
    BackendError
        If more threads are asked for than the device's work-groups hold, or several blocks
        per example with one thread per example.
    """
    largest = _largest_population(program)
    if requested == 0:
        if blocks is not None and blocks > 1:
            raise BackendError(f"{blocks} work-groups per batch element were asked for with a "
                               f"work-group size of 0 (one thread per example); ask for a "
                               f"work-group size >= 1 (IRSNN_WORK_GROUP_SIZE or the backend's "
                               f"work_group_size), or for one block per example")
        return Plan(None, "one thread per batch element (work-group size 0 asked for)")
    if requested is None and cpu and not (blocks is not None and blocks > 1):
        return Plan(None, f"one thread per batch element (automatic on a CPU device, "
                          f"{device}; IRSNN_WORK_GROUP_SIZE asks for work-groups)")
    if requested is None:
        threads = min(MAX_AUTO_THREADS, device_limit, -(-largest // 32) * 32)
        how = "automatic"
    else:
        if requested > device_limit:
            raise BackendError(f"a work-group size of {requested} was asked for, but the work-"
                               f"groups of {device} hold at most {device_limit} threads; ask "
                               f"for at most {device_limit} (IRSNN_WORK_GROUP_SIZE or the "
                               f"backend's work_group_size), or 0 for one thread per example")
        threads, how = requested, "asked for"
    if requested is None and cpu:       # several blocks asked for on a CPU device
        threads = min(device_limit, 32)
    batch = int((getattr(program, "constants", None) or {}).get("batch_size", 1))
    if blocks is not None:
        grid, grid_how = blocks, "asked for"
    elif units and not cpu and largest > GRID_NEURONS_PER_THREAD * threads and batch < units:
        grid = min(-(-largest // (GRID_TARGET_PER_THREAD * threads)), -(-units // batch))
        grid_how = (f"automatic: {largest} neurons, {-(-largest // threads)} per thread of one "
                    f"block; a batch of {batch} on {units} compute units")
    else:
        grid, grid_how = 1, ""
    per = -(-largest // (threads * grid))
    stride = (f"; the largest population ({largest} neurons) is strided, {per} neurons per "
              f"thread" if per > 1 else "")
    if grid > 1:
        return Plan(threads, f"{grid} work-groups of {threads} threads per batch element "
                             f"({how} threads; several work-groups {grid_how}){stride}",
                    blocks=grid, blocks_asked=blocks is not None)
    return Plan(threads, f"one work-group of {threads} threads per batch element ({how}){stride}")


#: spikes per presynaptic neuron and step that :func:`pull_reason` expects
ACTIVITY = 0.05
#: what a barrier of the block costs, in rounds of a loop (:func:`pull_reason`)
BARRIER = 4


def pull_reason(num_pre: int, num_post: int, synapses: float,
                threads: int | None) -> str | None:
    """Why a group of ``synapses`` (from ``num_pre`` to ``num_post`` neurons) whose layout can
    pull (:meth:`~.layouts.base.Layout.pull`) propagates by columns on a plan of ``threads``
    per block (None: one thread per example), or None where it pushes rows: on blocks of
    several threads, when a pull's rounds per step are fewer than a push's at
    :data:`ACTIVITY` (see the module docstring)."""
    if threads is None or threads <= 1 or synapses <= 0 or num_pre <= 0:
        return None
    row = synapses / num_pre
    pull = -(-num_post // threads) * synapses / num_post + 2 * BARRIER
    push = ACTIVITY * num_pre * (-(-row // threads) + BARRIER)
    if pull >= push:
        return None
    return (f"rows of {row:.3g} synapses on blocks of {threads} threads: about {pull:.3g} "
            f"rounds a step pulling, {push:.3g} pushing at {ACTIVITY:g} spikes per neuron "
            f"and step")


def _requested(option, minimum: int, name: str, wrong: str, setting):
    """A backend's ``name`` option if given (an integer >= ``minimum``, else a
    :class:`SettingsError` ending in ``wrong``), else ``setting()``."""
    if option is None:
        return setting()
    if isinstance(option, bool) or not isinstance(option, int) or option < minimum:
        raise SettingsError(f"{name}={option!r} {wrong}")
    return option


def blocks_request(option):
    """Work-groups per batch element asked for: the backend's option, else
    ``$IRSNN_BLOCKS_PER_EXAMPLE`` (None: automatic)."""
    return _requested(option, 1, "blocks_per_example",
                      "is not a number of blocks; give the work-groups per batch element as an "
                      "integer >= 1, or None for the automatic choice",
                      settings.blocks_per_example)


def work_group_request(option):
    """Threads per batch element asked for: the backend's option, else
    ``$IRSNN_WORK_GROUP_SIZE`` (None: automatic)."""
    return _requested(option, 0, "work_group_size",
                      "is not a work-group size; give the threads per batch element as an "
                      "integer >= 1 (0: one thread per batch element), or None for the "
                      "automatic choice", settings.work_group_size)


__all__ = ["ACTIVITY", "BARRIER", "GRID_NEURONS_PER_THREAD", "GRID_TARGET_PER_THREAD",
           "MAX_AUTO_THREADS", "Plan", "blocks_request", "choose_plan", "pull_reason",
           "work_group_request"]
