"""What every backend provides: availability, a build step, and a running simulation.

A backend turns a scheduled :class:`~irsnn.ir.IRGraph` into a :class:`Simulation`. Compilers
and compiled networks talk only to this interface, never to a backend's internals.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from irsnn.errors import InputError
from irsnn.ir.ids import edge_id, is_var_ref, population_name, ref_owner, split_var_ref

from .host_init import numpy_type, spike_schedule


class Backend(ABC):
    """Base class of backends.

    Subclasses set ``name`` and implement :meth:`availability` and :meth:`build`.
    """

    name = "backend"

    def availability(self) -> tuple[bool, str]:
        """``(True, "")`` when usable, else ``(False, why and how to fix it)``."""
        return True, ""

    def devices(self) -> list[str]:
        """Human-readable devices this backend would run on."""
        return []

    @abstractmethod
    def build(self, graph, *, rng_seed: int = 0, kernel_profiling: bool = False) -> Simulation:
        """Build a runnable simulation of ``graph``."""

    def kernel_source(self, graph) -> dict[str, str]:
        """Generated source files for ``graph`` (``{file name: text}``); empty for backends
        that generate none."""
        return {}

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
        self.scalar = np.dtype(numpy_type("scalar", sim.precision))

    @abstractmethod
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
    :meth:`input_state` -> :meth:`begin_batch` -> :meth:`run` (once, or once per timestep when
    callbacks need every step) -> :meth:`get_var` / :meth:`recording`.
    """

    graph = None
    dt = 1.0
    batch_size = 1
    timestep = 0
    precision = "float"
    kernel_times: dict

    @property
    def t(self) -> float:
        return self.timestep * self.dt

    def input_state(self, node_id: str, example_timesteps: int) -> InputState:
        return InputState(self, node_id, example_timesteps)

    def check_var_values(self, node_id, name, values, shape) -> np.ndarray:
        """Broadcast ``values`` to ``shape`` or raise a clear :class:`InputError`."""
        arr = np.asarray(values)
        if arr.shape == shape:
            return arr
        try:
            return np.broadcast_to(arr, shape)
        except ValueError:
            raise InputError(f"{node_id}: values for '{name}' have shape {arr.shape}, which "
                             f"does not fit the variable's shape {shape}") from None

    # Trainable parameters in the backend's own storage layout (optimisers work there) ------
    def parameter(self, target: str) -> np.ndarray:
        """A copy of a trainable parameter: the weights of edge ``target``, or the variable
        ``pop.<name>/<var>``; in this backend's storage layout."""
        if is_var_ref(target):
            return self.get_var(*split_var_ref(target))
        return self.get_weights(target)

    def set_parameter(self, target: str, values) -> None:
        """Inverse of :meth:`parameter`."""
        if is_var_ref(target):
            self.set_var(*split_var_ref(target), values)
        else:
            self.set_weights(target, values)

    def gradient_sum(self, target: str, var: str, rows: int) -> np.ndarray:
        """Sum over the first ``rows`` batch elements of gradient variable ``var`` of
        ``target``, in the layout of :meth:`parameter`, float64; zero where no synapse exists."""
        owner = ref_owner(target)
        value = self.get_var(owner, var)
        if not is_var_ref(target) and value.ndim == 2:  # one gradient for the whole batch
            total = value.astype(np.float64)
        else:
            total = value[:rows].sum(axis=0, dtype=np.float64)
        mask = self._existing(target)
        return total if mask is None else np.where(mask, total, 0.0)

    def zero_var(self, owner: str, var: str) -> None:
        """Set variable ``var`` of ``owner`` to zero everywhere."""
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
        """The synapses of edge ``target`` that exist now, as a ``(num_pre, num_post)`` boolean
        matrix; None when every stored weight is a synapse (dense connectivity, or the
        ``one_to_one`` layout). Subclasses keep it current when synapses are rewired."""
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

    @abstractmethod
    def rewire(self, target: str, remove, add, carry=()) -> list:
        """Remove the existing synapses ``remove = (pre, post)`` of edge ``target`` and create
        synapses at the absent positions ``add = (pre, post)`` (weight 0, every per-synapse
        state variable 0). ``carry`` are arrays in the layout of :meth:`parameter` (e.g.
        optimiser state); they come back in the new layout, 0 for removed and new synapses."""

    @abstractmethod
    def set_connectivity(self, target: str, mask: np.ndarray) -> None:
        """Make exactly the synapses in ``mask`` exist (their values are then set with
        :meth:`set_weights`/:meth:`set_var`); used to restore exported state."""

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
    def reset(self, *, vars: bool = True, time: bool = True, in_syn: bool = False,
              readouts: bool = True) -> None:
        """See the class docstring."""

    def reset_traces(self) -> None:
        """Zero the per-synapse eligibility traces and presynaptic traces of online learning
        (not the gradients, not the neuron state)."""

    def begin_example(self) -> None:
        """Start an example of event-driven learning: forget sequences and spikes recorded
        for a previous one that did not end."""

    def end_example(self, for_optimiser: bool = False) -> None:
        """End an example of event-driven learning: filter the recorded per-neuron sequences
        backward and add the gradients of the delivered spikes (no-op without it). With
        ``for_optimiser`` (the next call is :meth:`optimise`) a backend may leave the gradients
        to the optimiser step instead of materialising them."""

    @abstractmethod
    def begin_batch(self, timesteps: int, recorders: dict | None = None) -> None:
        """Start recording ``timesteps`` steps; ``recorders`` maps recorder node ids to the
        batch rows (examples) to record."""

    @abstractmethod
    def run(self, timesteps: int) -> None:
        """See the class docstring."""

    @abstractmethod
    def get_var(self, node_id: str, name: str) -> np.ndarray:
        """See the class docstring."""

    @abstractmethod
    def set_var(self, node_id: str, name: str, values) -> None:
        """See the class docstring."""

    @abstractmethod
    def set_egp(self, node_id: str, name: str, values) -> None:
        """See the class docstring."""

    @abstractmethod
    def get_weights(self, edge) -> np.ndarray:
        """See the class docstring."""

    @abstractmethod
    def recording(self, rec_id: str):
        """``(rows, data)`` recorded since :meth:`begin_batch`; ``data`` is
        ``(len(rows), timesteps, neurons)``."""
