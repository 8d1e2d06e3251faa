"""A dialect-neutral description of the kernels that simulate one timestep.

Requires: the standard library only. Provides :class:`Buffer`, :class:`Dim`,
:class:`Kernel`, :class:`Recorder`, :class:`Program` and the statements (:class:`For`,
:class:`ForSetBits`, :class:`AddSetBits`, :class:`ForFlagged`, :class:`If`, :class:`Block`,
:class:`AtomicAdd`, :class:`Prefetch`) that the builder produces and the renderer consumes,
and the parallel constructs (:class:`ParallelFor`, :class:`Barrier`, :class:`Single`,
:class:`AppendFlagged`, :class:`ByPlan`) through which a kernel body can be run by a block
(work-group) of threads: C renders them as its sequential loops (the same source as plain
:class:`For`, :class:`ForFlagged`), SIMT dialects split them across the threads of a block.

The kernel builder (:mod:`.builder`) turns a scheduled IR into a :class:`Program`: typed
buffers, and kernels whose bodies are small statement trees. Statement text (expressions,
assignments) is in the common syntax of the C family, produced by :mod:`irsnn.lang` for model
code; everything that differs between C, OpenCL and CUDA (how a kernel is declared, how its
grid is enumerated, address-space qualifiers, atomics) is expressed structurally here and
decided by a :class:`~backends.kernels.render.KernelDialect` when rendering.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace


@dataclass(frozen=True, eq=False)
class Buffer:
    """A device/host array, made and found through a :class:`~.buffers.BufferTable`.

    Attributes
    ----------
    name : str
        C identifier (assigned by the table; renders as itself in kernel text).
    ctype : str
        Element type spelled for the dialect renderer (``float``, ``int32_t``, ...).
    shape : tuple of int
        Logical shape (``(batch, neurons)``, ``(num_pre, max_row)``, ...); ``()`` for extra
        global parameters, whose arrays are given at run time.
    role : str
        ``"state"`` (bound once), ``"egp"`` (rebound when set).
    owner : str
        IR id of what the buffer belongs to (a population, a connection, a loss, a backward
        filter, a feedback path, an optimiser node), or ``""`` for buffers of the whole model.
    var : str
        What it holds for its owner: a variable's name, or a storage role (``insyn``, ``spk``,
        ``spkcnt``, ``g``, ``ind``, ...); an extra global parameter's name for ``"egp"``.

    A buffer is an identity (compared and hashed as the object the table made).
    """

    name: str
    ctype: str
    shape: tuple = ()
    role: str = "state"
    owner: str = ""
    var: str = ""

    @property
    def size(self) -> int:
        """Elements."""
        return int(math.prod(self.shape)) if self.role != "egp" else 0

    def __str__(self):
        return self.name


@dataclass(frozen=True)
class Dim:
    """One parallel dimension of a kernel's grid: index variable and extent."""

    var: str
    extent: int


@dataclass
class For:
    """A sequential loop ``for (var = start; var < extent; var += step)`` (C expressions)."""

    var: str
    extent: str
    body: list = field(default_factory=list)
    type: str = "int32_t"
    start: str = "0"
    step: str = "1"


@dataclass
class ForSetBits:
    """``body`` once for every set bit of the ``uint32_t`` expression ``word``, in ascending
    order, with ``const int32_t var`` (the bit's index, 0..31) in scope."""

    var: str
    word: str
    body: list = field(default_factory=list)


@dataclass
class AddSetBits:
    """``target += value`` for every set bit ``k`` of the ``uint32_t`` variable ``word``
    (consumed), in ascending ``k``, with ``const int32_t j = base + k`` in scope (``k <
    extent``; ``target`` and ``value`` are expressions of ``j``).

    Dialects choose how (:attr:`~.render.KernelDialect.bit_lanes`): visiting the set bits
    (count trailing zeros; work in proportion to the synapses, for GPU threads), or 32
    branch-free lanes adding ``value`` or ``zero`` (vector CPUs: the same sums as a dense row
    with zeros). ``lanes`` False forces the first (a ``value`` too costly to evaluate for
    absent synapses, such as a random draw).
    """

    word: str
    base: str
    extent: str
    target: str
    value: str
    zero: str
    lanes: bool = True


@dataclass
class ForFlagged:
    """``for (var = 0; var < extent; var++) { const int8_t flag = flags[var]; if (flag != 0)
    {body} }``: the elements whose ``int8_t`` flag is set, in ascending order (``flags`` is a
    pointer expression, ``extent`` a compile-time count).

    Dialects choose how (:attr:`~.render.KernelDialect.flag_words`): one flag at a time, or
    loading eight at once and jumping to the set ones (CPUs: a population's spike flags are
    mostly zero).
    """

    var: str
    extent: int
    flags: str
    flag: str
    body: list = field(default_factory=list)


@dataclass
class If:
    """``if (cond) {then} else {otherwise}``."""

    cond: str
    then: list = field(default_factory=list)
    otherwise: list = field(default_factory=list)


@dataclass
class Block:
    """A nested scope ``{ ... }`` (keeps locals of one model block apart from another's)."""

    body: list = field(default_factory=list)
    comment: str = ""


@dataclass
class AtomicAdd:
    """``target += value`` where other threads of the grid may update ``target`` too.

    Dialects without hardware float atomics decompose it (e.g. a compare-and-swap loop); the C
    dialect parallelises only over independent dimensions, so it renders a plain ``+=``.
    """

    target: str
    value: str


@dataclass
class Prefetch:
    """A hint that ``extent`` elements from ``base`` will be read soon (``stride`` elements per
    cache line); rendered only by dialects that have a prefetch instruction."""

    base: str
    extent: int
    stride: int = 16


@dataclass
class ParallelFor(For):
    """A loop whose iterations are independent and may run on the threads of a block: C (and
    one thread per grid point) renders it as :class:`For`; a block of ``T`` threads runs
    iteration ``var`` on thread ``var % T``, so every thread handles the same iterations in
    every ``ParallelFor`` of the same extent (an element indexed by ``var`` is owned by one
    thread, and needs no :class:`Barrier` between two such loops)."""


@dataclass
class Barrier:
    """Every thread of the block waits here until all have arrived, and their memory writes
    are visible to one another (nothing where a grid point runs on one thread)."""


@dataclass
class Single:
    """``body`` run by one thread of the block (all of it where a grid point runs on one
    thread); locals it declares are not visible after it."""

    body: list = field(default_factory=list)


@dataclass
class AppendFlagged:
    """The elements ``var < extent`` whose ``int8_t`` flag ``flags[var]`` is non-zero, in
    ascending order, each with ``const int8_t flag`` and its rank in the ``int32_t`` variable
    ``count`` (declared before, 0) in scope for ``body`` (typically ``list[count] = var``);
    afterwards ``count`` holds how many there were, in every thread.

    One thread renders it as :class:`ForFlagged` over ``body`` and ``count++``. A block of
    threads gives each thread a contiguous chunk of the elements, counts its flags and finds
    where its chunk's list begins with a prefix sum over the block in local memory (no
    serial appends, no atomics: the list keeps ascending order)."""

    var: str
    extent: int
    flags: str
    flag: str
    count: str
    body: list = field(default_factory=list)


@dataclass
class ByPlan:
    """The same work written for each plan: ``serial`` where a grid point runs on one thread
    (C, one thread per example, inside :class:`Single`), ``block`` where a block of threads
    runs it (its side effects inside :class:`ParallelFor` or :class:`Single`).

    For work whose fastest sequential form is not the sequential rendering of its parallel
    form: EventProp's backward pass walks an event list once, visiting each event as it finds
    it, on one thread; on a block every thread counts the events first (the same count in
    every thread), then a :class:`ParallelFor` visits them. Both must compute the same.
    """

    serial: list = field(default_factory=list)
    block: list = field(default_factory=list)


#: the fused kernels' argument that is non-zero while learning is enabled (the same for every
#: thread of a launch)
LEARNING = "irsnn_learning"


def specialise(stmts: list, cond: str, value: bool) -> list:
    """``stmts`` with every :class:`If` on exactly ``cond`` (a block-uniform flag, such as
    the ``irsnn_learning`` kernel argument) replaced by the branch ``value`` selects, at any
    depth (as a :class:`Block`, which keeps its locals to it, as the branch did).

    SIMT targets render a kernel once per value of such a flag under one condition at the top
    rather than barriers under many: PoCL handles a barrier under a condition by replicating
    the rest of the kernel after it, so each conditional phase with a barrier doubled the code
    (an online e-prop model with ten of them built for hours).
    """
    out = []
    for s in stmts:
        if isinstance(s, If) and s.cond == cond:
            branch = s.then if value else s.otherwise
            if branch:
                out.append(Block(specialise(branch, cond, value)))
        elif isinstance(s, str):
            out.append(s)
        else:
            out.append(replace(s, **{f.name: specialise(getattr(s, f.name), cond, value)
                                     for f in fields(s) if isinstance(getattr(s, f.name), list)}))
    return out


def mentions(stmts: list, cond: str) -> bool:
    """Whether an :class:`If` on exactly ``cond`` is among ``stmts``, at any depth."""
    for s in stmts:
        if isinstance(s, If) and s.cond == cond:
            return True
        if not isinstance(s, str) and any(mentions(getattr(s, f.name), cond)
                                          for f in fields(s)
                                          if isinstance(getattr(s, f.name), list)):
            return True
    return False


@dataclass
class Kernel:
    """One kernel: scalar arguments, a parallel grid and a body run once per grid point.

    ``grid`` dimensions are independent (no two grid points write the same element except
    through :class:`AtomicAdd`); inner sequential work uses :class:`For`.
    """

    name: str
    args: tuple[tuple[str, str], ...]
    grid: tuple[Dim, ...]
    body: list
    doc: str = ""
    #: runs only while learning is enabled
    learning: bool = False
    #: name in profiles (``neuron:pop.x``, ``propagate:syn.a->b``, ...)
    label: str = ""
    #: its inner loops gather by index along a ragged group's rows or columns (tens of
    #: synapses); vector CPUs may run such loops faster with narrow vectors (see
    #: ``KernelDialect.narrow_gathers``)
    gathers: bool = False
    #: its body is written for a block of threads per grid point (side effects only inside
    #: :class:`ParallelFor`, :class:`Single` or :class:`AppendFlagged`, with :class:`Barrier`
    #: where a thread reads what another wrote); otherwise a block runs it on one thread
    parallel: bool = False


@dataclass(frozen=True)
class Recorder:
    """A recorder node as the kernels fill it.

    Attributes
    ----------
    id : str
        The recorder node's IR id.
    kind : str
        ``"spikes"`` (bit-packed, 32 neurons per ``uint32_t`` word) or ``"var"``.
    source : Buffer or None
        The recorded variable's buffer (``"var"``).
    neurons : int
        Neurons of the recorded population.
    per_step : int
        Elements stored per recorded row and step (words for spikes, neurons for a variable).
    ctype : str
        Element type of the recording buffer.
    """

    id: str
    kind: str
    source: Buffer | None
    neurons: int
    per_step: int
    ctype: str


@dataclass
class Program:
    """Everything a backend needs to emit, compile and drive one model.

    Attributes
    ----------
    buffers : BufferTable
        Every state buffer, iterated in binding order (extra global parameters are in
        ``egps``).
    kernels : list of Kernel
        In per-timestep execution order.
    prologue : list of Kernel
        Run for every batch element (grid ``(b,)``) at the start of every run, before its
        first timestep: copies of parameters in the layout a per-step kernel reads best
        (parameters only change between runs), or of state in the order a per-step kernel
        reads best.
    epilogue : list of Kernel
        Run for every batch element (grid ``(b,)``) at the end of every run, after its last
        timestep: state copied back to the layout the host and other kernels use.
    step_args : tuple
        Scalar arguments available to every kernel call (``ts``, ``t``, ``rng_step``).
    helpers : str
        Extra C-family source (RNG, math helpers) emitted once before the kernels.
    recorders : list of Recorder
        The recorder nodes, in binding order.
    end_kernels : list of Kernel
        Run once at the end of an example of event-driven learning (not per timestep): the
        backward sweeps.
    scatter_kernels : list of Kernel
        Then the event-driven gradients into the gradient variables (grid: presynaptic rows;
        written for a block of threads per row, :attr:`Kernel.parallel`).
    restart_kernels : list of Kernel
        Last, the restart of the spike bits and the step counter (grid ``(b,)``).
    optimiser_kernels : list of Kernel
        Run once per optimiser step, each over the elements of one parameter.
    fused_optimiser_kernels : list of Kernel
        The optimiser step straight from the spike bits and backward sequences, for the
        parameters with event-driven gradients (grid over presynaptic rows), and
        ``optimiser_kernels``' for the others; followed by the restart kernels.
    optimiser_scalars : tuple of str
        Names of the entries of the ``optim_scalars`` buffer, set by the host before a step.
    loop_sites : list of tuple
        ``(where, line, column, source, limit)`` of every loop of model code; site ``k``
        (1-based) ran past its bound when the ``irsnn_status`` buffer holds ``k``.
    plan_notes : list of str
        What the builder chose for the plan it was given (:mod:`.simt`), in words: the plan
        that :meth:`~.render.KernelRenderer.plan` reports adds them.
    """

    buffers: object = None
    kernels: list = field(default_factory=list)
    prologue: list = field(default_factory=list)
    epilogue: list = field(default_factory=list)
    step_args: tuple = (("int64_t", "ts"), ("float", "t"), ("uint32_t", "rng_step"))
    helpers: str = ""
    recorders: list = field(default_factory=list)
    constants: dict = field(default_factory=dict)
    end_kernels: list = field(default_factory=list)
    scatter_kernels: list = field(default_factory=list)
    restart_kernels: list = field(default_factory=list)
    optimiser_kernels: list = field(default_factory=list)
    fused_optimiser_kernels: list = field(default_factory=list)
    optimiser_scalars: tuple = ()
    loop_sites: list = field(default_factory=list)
    plan_notes: list = field(default_factory=list)

    def time_declaration(self) -> str:
        """The declaration of ``t`` (of the type :attr:`step_args` gives it) from the step
        ``ts`` and ``dt``, computed in double precision as the reference does."""
        ctype = dict((n, t) for t, n in self.step_args)["t"]
        return f"const {ctype} t = ({ctype})((double)ts * {self.constants['dt']!r});"

    @property
    def egps(self) -> list:
        """Extra global parameters (:attr:`BufferTable.egps`), in binding order."""
        return self.buffers.egps
