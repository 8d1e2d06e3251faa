"""What every backend provides: availability, a build step, and a running simulation.

Requires: a scheduled IR graph, :mod:`irsnn.ir.ids`, :mod:`.host_init` (dtypes, spike
schedules, synapse masks) and :mod:`.state`. Provides :class:`Backend` (``availability``,
``devices``, ``build``, ``kernel_source``), :class:`InputState` (what input neurons'
``set_input`` writes through), :class:`Simulation`, the complete interface (run, variables,
weights, parameters and gradients, rewiring, resets, learning, recordings, state export/import,
variables in the backend's own memory), and :class:`HostCopies` (that last through copies).

A backend turns a scheduled :class:`~irsnn.ir.IRGraph` into a :class:`Simulation`. Compilers
and compiled networks talk only to this interface, never to a backend's internals.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from irsnn.errors import InputError
from irsnn.ir.ids import edge_id, is_var_ref, population_name, ref_owner, split_var_ref
from irsnn.utils.value import check_finite

from .host_init import numpy_type, spike_schedule
from .state import SimulationState, state_variables


class Backend(ABC):
    """Base class of backends.

    Subclasses set ``name`` and implement :meth:`availability` and :meth:`build`.
    """

    name = "backend"
    #: keeps every connection's weights as a dense matrix whatever its layout (for the
    #: memory estimate of :mod:`backends.footprint`)
    dense_synapses = False

    def availability(self) -> tuple[bool, str]:
        """``(True, "")`` when usable, else ``(False, why and how to fix it)``."""
        return True, ""

    def devices(self) -> list[str]:
        """Human-readable devices this backend would run on."""
        return []

    @abstractmethod
    def build(self, graph, *, rng_seed: int = 0, kernel_profiling: bool = False) -> Simulation:
        """Build a runnable simulation of ``graph``."""

    def use_local_device(self, local_rank: int) -> str | None:
        """Run on the device of a data-parallel rank that is ``local_rank``-th on its node (a
        backend with one device per rank picks device ``local_rank`` modulo their number);
        returns the device chosen, or None where the backend has no choice to make."""
        return None

    def kernel_source(self, graph) -> dict[str, str]:
        """Generated source files for ``graph`` (``{file name: text}``); empty for backends
        that generate none."""
        return {}

    def memory_limit(self) -> tuple[int, str] | None:
        """``(bytes, where the figure comes from)`` a model's state may take on this backend,
        or None when unknown: by default the host's (:func:`backends.footprint.host_limit`);
        device backends take the smaller of it and the device's memory (they keep host copies
        of every buffer)."""
        from .footprint import host_limit
        return host_limit()

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r}>"


class InputState:
    """The backend-neutral handle that input neurons' ``set_input`` writes through.

    Attributes
    ----------
    dt : float
    example_timesteps : int
    batch_size : int
    timestep : int
        The simulation's clock now (the step the applied batch starts at).
    scalar : numpy.dtype
        The model's ``scalar`` type (its precision).
    """

    def __init__(self, sim: Simulation, node_id: str, example_timesteps: int):
        self._sim, self._node = sim, node_id
        self.name = population_name(node_id)
        self.dt = sim.dt
        self.batch_size = sim.batch_size
        self.example_timesteps = int(example_timesteps)
        self.timestep = int(sim.timestep)
        self.scalar = np.dtype(sim.scalar)

    def set_var(self, name: str, values) -> None:
        """Set variable ``name`` for every batch element (``(batch_size, neurons)``)."""
        self._sim.set_var(self._node, name, values)

    def set_egp(self, name: str, values) -> None:
        """Set the extra global parameter array ``name``."""
        self._sim.set_egp(self._node, name, values)

    def spike_schedule(self, end_spikes, spike_times):
        """The :func:`~irsnn.utils.data.spike_schedule` of batched spike trains, starting at
        this timestep, in this simulation's clock and precision."""
        return spike_schedule(end_spikes, spike_times, self.timestep, self.dt, self.scalar)


class Simulation(ABC):
    """A built model: state, a clock, and buffers for recordings.

    The life cycle a compiled network drives: :meth:`reset` -> inputs through
    :meth:`input_state` (and labels through :meth:`set_labels`) -> :meth:`begin_batch` ->
    :meth:`run` (once, or once per timestep when callbacks need every step) -> :meth:`get_var`
    / :meth:`recording`. Training adds :meth:`begin_example` / :meth:`end_example` around an
    example and :meth:`optimise` (or the host optimiser through :meth:`parameter`,
    :meth:`gradient_sum` and :meth:`set_parameter`) after it. The whole state moves to a new
    simulation of the same model through :meth:`export_state` / :meth:`import_state`.

    Attributes
    ----------
    graph : IRGraph
        The scheduled graph this simulation runs.
    dt : float
        Milliseconds per timestep.
    batch_size : int
        Examples simulated side by side (rows of every batched variable).
    timestep : int
        The clock: steps run since time was last reset.
    precision : str
        The model's ``scalar`` type (``"float"`` or ``"double"``).
    seed : int
        The seed of every random draw (initial values, connectivity, the model's streams).
    kernel_times : dict
        ``{kernel label: seconds}`` accumulated when built with kernel profiling, else empty.
    recorded_timesteps : int
        Timesteps recorded since :meth:`begin_batch` (the length of :meth:`recording`).
    """

    graph = None
    dt = 1.0
    batch_size = 1
    timestep = 0
    precision = "float"
    seed = 0
    kernel_times: dict
    recorded_timesteps = 0

    def __init__(self, graph, rng_seed: int = 0):
        """Take what every simulation reads off its scheduled ``graph``: the timestep, the
        batch size and the precision (``scalar``: its NumPy dtype), and the seed."""
        self.graph = graph
        self.dt = float(graph.attrs["dt"])
        self.batch_size = int(graph.attrs["batch_size"])
        self.precision = graph.attrs.get("precision", "float")
        self.scalar = numpy_type("scalar", self.precision)
        self.seed = int(rng_seed)

    @property
    def t(self) -> float:
        """The time now in milliseconds (``timestep * dt``)."""
        return self.timestep * self.dt

    def input_state(self, node_id: str, example_timesteps: int) -> InputState:
        """The :class:`InputState` an input population (node ``node_id``) writes through,
        for examples of ``example_timesteps`` steps."""
        return InputState(self, node_id, example_timesteps)

    def check_var_values(self, node_id, name, values, shape, finite=False) -> np.ndarray:
        """``values`` broadcast to ``shape`` (itself when it has that shape), or a clear
        :class:`InputError` naming variable ``name`` of ``node_id``; with ``finite``, NaN or
        inf among the values is such an error too."""
        arr = np.asarray(values)
        if finite:
            check_finite(f"{node_id}", name, arr, InputError,
                         "pass finite values (weights that became NaN in training mean it "
                         "diverged: lower the learning rate)")
        if arr.shape == shape:
            return arr
        try:
            return np.broadcast_to(arr, shape)
        except ValueError:
            raise InputError(f"{node_id}: values for '{name}' have shape {arr.shape}, which "
                             f"does not fit the variable's shape {shape}") from None

    # Trainable parameters in the backend's own storage layout (optimisers work there) ------
    def parameter(self, target: str) -> np.ndarray:
        """A copy of a trainable parameter, in this backend's storage layout.

        Parameters
        ----------
        target : str
            An edge id (its weights) or ``pop.<name>/<var>`` (a variable).

        Returns
        -------
        numpy.ndarray
            The weights as :meth:`get_weights` (a backend that stores them otherwise, e.g.
            ragged rows, returns its own layout), or the variable as :meth:`get_var`.
        """
        if is_var_ref(target):
            return self.get_var(*split_var_ref(target))
        return self.get_weights(target)

    def set_parameter(self, target: str, values) -> None:
        """Set a trainable parameter; the inverse of :meth:`parameter`.

        Parameters
        ----------
        target : str
            As for :meth:`parameter`.
        values : array_like
            In the layout :meth:`parameter` returns.
        """
        if is_var_ref(target):
            self.set_var(*split_var_ref(target), values)
        else:
            self.set_weights(target, values)

    def gradient_sum(self, target: str, var: str, rows: int) -> np.ndarray:
        """A gradient summed over the batch rows that hold examples.

        Parameters
        ----------
        target : str
            The parameter's target, as for :meth:`parameter`.
        var : str
            The gradient variable (of the target's edge, or of its population).
        rows : int
            Sum over the first ``rows`` batch rows (the rest is padding).

        Returns
        -------
        numpy.ndarray
            float64, in the layout of :meth:`parameter`; zero where no synapse exists.
        """
        owner = ref_owner(target)
        value = self.get_var(owner, var)
        synapses = owner != target and self._is_edge(owner)   # a per-synapse variable
        if (not is_var_ref(target) or synapses) and value.ndim == 2:  # one for the batch
            total = value.astype(np.float64)
        else:
            total = value[:rows].sum(axis=0, dtype=np.float64)
        mask = self._existing(owner if synapses else target)
        return total if mask is None else np.where(mask, total, 0.0)

    def _is_edge(self, owner: str) -> bool:
        return any(edge_id(u, v, k) == owner for u, v, k, _ in self.graph.synapses())

    def zero_var(self, owner: str, var: str) -> None:
        """Set variable ``var`` of node or edge ``owner`` to zero everywhere."""
        self.set_var(owner, var, np.zeros_like(self.get_var(owner, var)))

    def _existing(self, target):
        """Mask of existing synapses of a weight target (None: all exist, or not a weight)."""
        if is_var_ref(target):
            return None
        return self.synapse_mask(target)

    # Connectivity, which Deep-R changes at run time -----------------------------------------
    def _synapse_group(self, target):
        for u, v, k, syn in self.graph.synapses():
            if edge_id(u, v, k) == target:
                return syn
        raise InputError(f"no connection with edge id '{target}'")

    def synapse_mask(self, target: str) -> np.ndarray | None:
        """The synapses of an edge that exist now (subclasses keep it current when synapses
        are rewired).

        Parameters
        ----------
        target : str
            An edge id.

        Returns
        -------
        numpy.ndarray or None
            A ``(num_pre, num_post)`` boolean matrix; None when every stored weight is a
            synapse (dense connectivity, or the ``one_to_one`` layout).
        """
        masks = self.__dict__.setdefault("_masks", {})
        if target not in masks:
            from .host_init import synapse_mask
            masks[target] = synapse_mask(self.graph, target, self._synapse_group(target),
                                         self.seed)
        return masks[target]

    def row_capacity(self, target: str) -> int:
        """How many synapses a row (presynaptic neuron) of ragged edge ``target`` can hold:
        fixed when the simulation is built, from the initial connectivity (as the kernel
        backends allocate it)."""
        caps = self.__dict__.setdefault("_capacities", {})
        if target not in caps:
            from .host_init import synapse_mask
            from .kernels.layouts.ragged import row_capacity
            syn = self._synapse_group(target)
            caps[target] = row_capacity(syn, synapse_mask(self.graph, target, syn, self.seed))
        return caps[target]

    def to_parameter_layout(self, target: str, dense: np.ndarray) -> np.ndarray:
        """``(num_pre, num_post)`` values of edge ``target`` in the layout of
        :meth:`parameter` (absent synapses dropped where the layout has no room for them)."""
        return np.asarray(dense)

    def from_parameter_layout(self, target: str, values: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`to_parameter_layout` (zero where no synapse exists): saves the
        host optimiser's state in a layout every backend reads."""
        return np.asarray(values)

    @abstractmethod
    def rewire(self, target: str, remove, add, carry=()) -> list:
        """Remove and create synapses of an edge (Deep-R).

        Parameters
        ----------
        target : str
            An edge id.
        remove : tuple of array_like
            ``(pre, post)`` of existing synapses to remove.
        add : tuple of array_like
            ``(pre, post)`` of absent positions where synapses are created (weight 0, every
            per-synapse state variable 0).
        carry : sequence of array_like
            Arrays in the layout of :meth:`parameter` (e.g. optimiser state) to move along.

        Returns
        -------
        list of numpy.ndarray
            ``carry`` in the new layout, 0 for removed and new synapses.
        """

    @abstractmethod
    def set_connectivity(self, target: str, mask: np.ndarray) -> None:
        """Make exactly the synapses in the ``(num_pre, num_post)`` boolean ``mask`` exist in
        edge ``target`` (every per-synapse value 0; set them with :meth:`set_weights` /
        :meth:`set_var`); used to restore exported state."""

    def _check_rewire(self, target, mask, remove, add):
        """Validate a rewiring against the current ``mask``; returns the new mask."""
        from irsnn.errors import BackendError
        remove = tuple(np.asarray(a, np.int64) for a in remove)
        add = tuple(np.asarray(a, np.int64) for a in add)
        if not np.all(mask[remove]):
            raise BackendError(f"rewiring '{target}': {int((~mask[remove]).sum())} of the "
                               f"synapses to remove do not exist")
        new = mask.copy()
        new[remove] = False
        if np.any(new[add]) or len(set(zip(*add))) != len(add[0]):
            raise BackendError(f"rewiring '{target}': a synapse to add exists already or is "
                               f"listed twice")
        new[add] = True
        longest = int(new.sum(axis=1).max()) if new.size else 0
        if longest > self.row_capacity(target):
            raise BackendError(f"rewiring '{target}': a row would hold {longest} synapses but "
                               f"rows hold at most {self.row_capacity(target)}")
        return new, remove, add

    # Interface (implemented by each backend) ------------------------------------------------
    @abstractmethod
    def reset(self, *, vars: bool = True, time: bool = True, in_syn: bool = False,
              readouts: bool = True) -> None:
        """Reset state to its initial values, by the rules of
        :func:`backends.state.reset_entries` (parameters are never reset once initialised).

        Parameters
        ----------
        vars : bool
            Neuron, postsynaptic-model and learning state and spikes in flight; also starts a
            new example (:meth:`begin_example`).
        time : bool
            Set :attr:`timestep` to 0 (the random streams' step count goes on).
        in_syn : bool
            Zero the synapses' accumulated input and dendritic delay buffers.
        readouts : bool
            The readout variables (even without ``vars``).
        """

    @abstractmethod
    def reset_traces(self) -> None:
        """Reset the eligibility traces and presynaptic traces of online learning (not the
        gradients, not the neuron state): :func:`backends.state.trace_entries`."""

    @abstractmethod
    def begin_example(self) -> None:
        """Start an example of event-driven learning: forget sequences and spikes recorded
        for a previous one that did not end (no-op without event-driven learning)."""

    @abstractmethod
    def end_example(self, for_optimiser: bool = False) -> None:
        """End an example of event-driven learning: filter the recorded per-neuron sequences
        backward and add the gradients of the delivered spikes (no-op without it).

        Parameters
        ----------
        for_optimiser : bool
            The next call is :meth:`optimise`: a backend may leave the gradients to the
            optimiser step instead of materialising them.
        """

    @abstractmethod
    def set_labels(self, loss_id: str, labels, active) -> None:
        """Labels (or regression targets) of this batch for a loss node.

        Parameters
        ----------
        loss_id : str
            The loss node's id (``loss.<population>``).
        labels : array_like
            ``(batch_size,)`` class indices or ``(batch_size, neurons)`` targets.
        active : array_like of bool
            ``(batch_size,)``; rows with False (padding of a partial batch) contribute no
            error.
        """

    @property
    @abstractmethod
    def learning_enabled(self) -> bool:
        """Whether learning runs during :meth:`run`; settable, and always False for a model
        without learning."""

    @learning_enabled.setter
    @abstractmethod
    def learning_enabled(self, on: bool) -> None:
        """Turn learning on (where the model has any) or off."""

    @property
    @abstractmethod
    def optimiser_in_kernels(self) -> bool:
        """Whether :meth:`optimise` is available: the model's optimiser runs in this
        backend's own code, where the gradients are (else the host applies it through
        :meth:`parameter` and :meth:`set_parameter`)."""

    @abstractmethod
    def optimise(self, scalars: dict, rows: int) -> None:
        """One optimiser step of every trainable parameter (requires
        :attr:`optimiser_in_kernels`); zeroes every row of the gradients.

        Parameters
        ----------
        scalars : dict
            ``{name: value}`` of the optimiser's runtime scalars of this step (e.g. the
            learning rate and moment corrections).
        rows : int
            Sum the gradients of the first ``rows`` batch rows.
        """

    @abstractmethod
    def begin_batch(self, timesteps: int, recorders: dict | None = None) -> None:
        """Start recording ``timesteps`` steps; ``recorders`` maps recorder node ids to the
        batch rows (examples) to record."""

    @abstractmethod
    def run(self, timesteps: int) -> None:
        """Advance the simulation by ``timesteps`` steps (propagation, neuron updates,
        learning when enabled, recording), moving :attr:`timestep` on."""

    @abstractmethod
    def get_var(self, node_id: str, name: str) -> np.ndarray:
        """A copy of a variable.

        Parameters
        ----------
        node_id : str
            Node id (neuron variables) or edge id (postsynaptic-model and learning variables).
        name : str
            The variable.

        Returns
        -------
        numpy.ndarray
            ``(batch_size, n)`` or ``(n,)`` for neuron and postsynaptic-model variables;
            ``([batch_size,] num_pre, num_post)`` for per-synapse variables (dense, zero where
            no synapse exists).
        """

    @abstractmethod
    def set_var(self, node_id: str, name: str, values) -> None:
        """Set a variable; the inverse of :meth:`get_var` (``values`` broadcast to its
        shape)."""

    @abstractmethod
    def native_var(self, node_id: str, name: str):
        """A variable where this backend keeps it, to read and change in place without a copy.

        The reference backend's own NumPy array and C's memory (NumPy views), the GPU's memory
        for CUDA (a CuPy array), the host copy brought up to date for OpenCL (its device
        buffers are no arrays MPI could read). Data-parallel training sums gradients across
        ranks through it (:mod:`irsnn.compilers.data_parallel`).

        Parameters
        ----------
        node_id, name : str
            As for :meth:`get_var`.

        Returns
        -------
        array
            ``(batch_size, n)`` for a batched variable, ``(n,)`` otherwise: the ``n`` values of
            a row in this backend's storage layout (a sparse connection's per-synapse variables
            hold its storage slots, absent synapses zero), so only elementwise operations and
            sums over rows mean the same on every backend. Valid until any other method of the
            simulation is called; after writing through it, call :meth:`native_written`
            before any other method.
        """

    @abstractmethod
    def native_written(self, node_id: str, name: str, array) -> None:
        """Say that ``array``, which :meth:`native_var` returned for the same variable, was
        written, so that what the backend holds elsewhere (host copies, device buffers) is
        brought up to date before it is next read."""

    def _native_shape(self, node_id: str, name: str) -> tuple:
        """The shape :meth:`native_var` gives a variable: ``(batch_size, -1)`` if batched."""
        batched = self.__dict__.get("_batched")
        if batched is None:
            batched = self._batched = {(v.owner, v.name): v.batched
                                       for v in state_variables(self.graph)}
        return (self.batch_size, -1) if batched.get((node_id, name), True) else (-1,)

    @abstractmethod
    def set_egp(self, node_id: str, name: str, values) -> None:
        """Set extra global parameter ``name`` of population ``node_id`` to ``values``
        (flattened, converted to the parameter's type)."""

    @abstractmethod
    def get_weights(self, edge: str) -> np.ndarray:
        """A copy of the weights of connection ``edge`` (its name or edge id): dense
        ``(num_pre, num_post)``, zero where no synapse exists (``(num_post,)`` for the
        reference backend's ``one_to_one`` layout)."""

    @abstractmethod
    def set_weights(self, edge: str, values) -> None:
        """Set the weights of a connection; the inverse of :meth:`get_weights` (a value where
        the layout has no synapse is an error)."""

    @abstractmethod
    def export_state(self) -> SimulationState:
        """A copy of the whole state (a :class:`~backends.state.SimulationState`), to
        continue in another simulation of the same model (e.g. rebuilt with more recorders)
        through :meth:`import_state`."""

    @abstractmethod
    def import_state(self, state: SimulationState) -> None:
        """Take over the ``state`` :meth:`export_state` returned; entries this simulation
        does not have (or has in another shape) are skipped."""

    @abstractmethod
    def recording(self, rec_id: str) -> tuple[np.ndarray, np.ndarray]:
        """What a recorder recorded since :meth:`begin_batch`.

        Parameters
        ----------
        rec_id : str
            The recorder node id (``rec.<population>.<spikes or var>``).

        Returns
        -------
        rows : numpy.ndarray
            The batch rows recorded.
        data : numpy.ndarray
            ``(len(rows), recorded_timesteps, neurons)``: booleans for spikes, else the
            variable's values.
        """


class HostCopies:
    """:meth:`Simulation.native_var` and :meth:`~Simulation.native_written` of ``sim`` through
    copies (:meth:`~Simulation.get_var` / :meth:`~Simulation.set_var`): every value crosses to
    the host and back, in the layout users see. The baseline the direct access is measured and
    tested against (``DataParallel.host_copies``).

    Parameters
    ----------
    sim : Simulation
    """

    def __init__(self, sim: Simulation):
        self.sim = sim
        self._shapes: dict = {}

    def native_var(self, node_id: str, name: str) -> np.ndarray:
        value = self.sim.get_var(node_id, name)
        self._shapes[(node_id, name)] = value.shape
        return value.reshape(self.sim._native_shape(node_id, name))

    def native_written(self, node_id: str, name: str, array) -> None:
        self.sim.set_var(node_id, name, array.reshape(self._shapes[(node_id, name)]))
