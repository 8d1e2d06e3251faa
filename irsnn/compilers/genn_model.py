"""What mlGeNN scripts reach through GeNN: timers, custom updates and variable access.

Requires: a :class:`~.compiled_network.CompiledNetwork` (its simulation, IR and compiler
options). Provides :class:`GeNNModelView` (``compiled_net.genn_model``), :class:`VarView` and
:class:`GroupView` (``compiled_net.neuron_populations[pop].vars["V"]`` and
``compiled_net.connection_populations[conn].vars["g"]``).

mlGeNN scripts print GeNN's kernel timers and read or write state mid-run through pygenn
objects. irsnn has no GeNN model; these classes answer the same questions from irsnn's own
simulation:

* Timers are real measurements, available when the compiler had ``kernel_profiling=True``.
  The C and reference backends time every kernel phase (wall clock around each phase of each
  timestep, accumulated in ``simulation.kernel_times``): ``neuron_update_time`` sums the
  neuron updates (``neuron:*``) and output errors (``loss:*``), ``presynaptic_update_time``
  the spike propagation (``propagate:*``), ``synapse_dynamics_time`` the e-prop learning
  kernels (``learn*``, ``feedback*``, ``columns:*``, ``backward:*``). The CUDA and OpenCL
  backends run all phases of a batch in one fused kernel (timed as ``run``), which is then
  reported as ``neuron_update_time``, the other two phases being 0.0.
* Custom update times are wall clock around the operation irsnn runs in place of mlGeNN's
  custom update: ``Reset`` (the state reset before a batch), ``GradientLearn`` (the optimiser
  step, Deep-R included), ``GradientBatchReduce`` (the end-of-example kernels, which reduce the
  gradients of the batch), ``Softmax1`` (the readout's softmax, computed in one host pass:
  ``Softmax2`` and ``Softmax3``, mlGeNN's later stages of the same reduction, are 0.0;
  EventProp's ``TTFSReduce`` and ``SpikeCountReduce`` are part of ``GradientBatchReduce``'s
  pass and report 0.0).
"""

from __future__ import annotations

import numpy as np

from ..errors import BackendError, ModelError, UnknownNameError

#: kernel label prefixes of each GeNN phase (the C and reference backends' labels)
_PHASES = {"neuron_update_time": ("neuron:", "loss:"),
           "presynaptic_update_time": ("propagate:",),
           "synapse_dynamics_time": ("learn", "feedback", "columns:", "backward:")}
#: the label of the one fused kernel of the CUDA and OpenCL backends
_FUSED = "run"
#: custom update names of mlGeNN -> where irsnn keeps their time
_CUSTOM_TIMES = {"Reset": ("host", "Reset"), "GradientLearn": ("host", "GradientLearn"),
                 "GradientBatchReduce": ("kernel", "end-of-example"),
                 "Softmax1": ("host", "Softmax"), "Softmax2": ("zero", None),
                 "Softmax3": ("zero", None),
                 # EventProp's softmax over the batch's readouts (mlGeNN's names for it)
                 "BatchSoftmax1": ("host", "Softmax"), "BatchSoftmax2": ("zero", None),
                 "BatchSoftmax3": ("zero", None),
                 # EventProp's reductions of first-spike times and spike counts, which irsnn
                 # forms inside the end-of-example pass (timed as GradientBatchReduce)
                 "TTFSReduce": ("zero", None), "SpikeCountReduce": ("zero", None)}


class GeNNModelView:
    """``compiled_net.genn_model``: the GeNN model attributes mlGeNN scripts use.

    Attributes
    ----------
    dt : float
        Timestep (ms).
    """

    def __init__(self, compiled_network):
        self._net = compiled_network
        self.dt = compiled_network.compiler.dt
        #: ``{group: [HostCustomUpdate]}`` added by the user
        self._user_updates: dict = {}

    @property
    def batch_size(self) -> int:
        """Examples simulated at once."""
        return self._net.batch_size

    @property
    def name(self) -> str:
        return self._net.name

    @property
    def backend_name(self) -> str:
        return type(self._net.backend).__name__

    @property
    def timestep(self) -> int:
        return int(self._net.simulation.timestep)

    @property
    def t(self) -> float:
        return self.timestep * self.dt

    # -- timers -------------------------------------------------------------------------------
    def _kernel_times(self) -> dict:
        if not self._net.compiler.kernel_profiling:
            raise BackendError(
                f"{type(self._net.compiler).__name__} was created without kernel_profiling: "
                f"GeNN's timers (neuron_update_time, get_custom_update_time, ...) are only "
                f"measured when the compiler is given kernel_profiling=True")
        return self._net.simulation.kernel_times

    def _phase(self, attr) -> float:
        times = self._kernel_times()
        if _FUSED in times and attr == "neuron_update_time":
            return float(times[_FUSED])
        return float(sum(v for k, v in times.items() if k.startswith(_PHASES[attr])))

    @property
    def neuron_update_time(self) -> float:
        """Seconds spent updating neurons (see the module notes)."""
        return self._phase("neuron_update_time")

    @property
    def presynaptic_update_time(self) -> float:
        """Seconds spent propagating spikes."""
        return self._phase("presynaptic_update_time")

    @property
    def synapse_dynamics_time(self) -> float:
        """Seconds spent in per-timestep learning (eligibility traces, feedback)."""
        return self._phase("synapse_dynamics_time")

    def get_custom_update_time(self, name: str) -> float:
        """Seconds spent in what irsnn runs for mlGeNN's custom update ``name``."""
        times = self._kernel_times()
        host = self._net.custom_update_times
        if name in _CUSTOM_TIMES:
            where, key = _CUSTOM_TIMES[name]
            if where == "zero":
                return 0.0
            return float((times if where == "kernel" else host).get(key, 0.0))
        if name in host:
            return float(host[name])
        raise UnknownNameError(
            f"get_custom_update_time: irsnn has no custom update '{name}'; it times "
            f"{sorted(set(_CUSTOM_TIMES) | set(host))}")

    # -- custom updates -----------------------------------------------------------------------
    def custom_update(self, name: str) -> None:
        """Run what irsnn does for mlGeNN's custom update ``name`` now.

        ``"Reset"`` resets neuron, synapse-model and readout state to the initial values
        (not the time); ``"GradientLearn"`` (training networks) applies one optimiser step to
        the gradients accumulated so far; a group of user custom updates (added with
        :meth:`add_custom_update`) runs each of them.
        """
        ops = self._custom_updates()
        if name not in ops:
            raise UnknownNameError(
                f"custom update '{name}' does not exist in this {type(self._net).__name__}; "
                f"irsnn runs {sorted(ops)} on request (the other custom updates of mlGeNN "
                f"run inside irsnn's kernels)")
        with self._net.timed_update(name):
            ops[name]()

    def has_custom_update(self, name: str) -> bool:
        """Whether :meth:`custom_update` can run ``name`` on this network."""
        return name in self._custom_updates()

    def _custom_updates(self) -> dict:
        ops = {"Reset": self._reset}
        if hasattr(self._net, "apply_optimiser"):
            ops["GradientLearn"] = self._net.apply_optimiser
        for group, updates in self._user_updates.items():
            ops[group] = lambda updates=updates: [u.run() for u in updates]
        return ops

    def add_custom_update(self, model, group: str, name: str | None = None):
        """Add a user custom update (a :class:`~irsnn.utils.model.CustomUpdateModel`) to
        ``group``, run by ``custom_update(group)`` on the host (see
        :mod:`irsnn.compilers.custom_updates`); returns it (``set_dynamic_param_value``,
        ``vars``)."""
        from .custom_updates import HostCustomUpdate
        if not isinstance(group, str) or not group:
            raise ModelError(f"add_custom_update: group={group!r} must be a non-empty name")
        builtin = {"Reset", "GradientLearn"} | set(_CUSTOM_TIMES)
        if group in builtin:
            raise ModelError(f"add_custom_update: '{group}' names one of the custom updates "
                             f"irsnn runs itself ({sorted(builtin)}); give your update group "
                             f"another name")
        updates = self._user_updates.setdefault(group, [])
        name = name or f"{group}{len(updates)}"
        update = HostCustomUpdate(self._net, model, group, name)
        updates.append(update)
        return update

    def _reset(self):
        self._net.simulation.reset(vars=True, time=False, in_syn=False, readouts=True)


class VarView:
    """One variable of a population or connection, as a pygenn variable: ``view`` is a host
    array, ``pull_from_device()`` refreshes it from the simulation, ``push_to_device()``
    writes it back; ``values`` reads (pulling first) or assigns (pushing after)."""

    def __init__(self, owner: str, name: str, get, put):
        self.owner = owner
        self.name = name
        self._get = get
        self._put = put
        self._view = None

    def pull_from_device(self) -> None:
        value = np.asarray(self._get())
        if self._view is None or self._view.shape != value.shape:
            self._view = value.copy()
        else:
            self._view[...] = value

    def push_to_device(self) -> None:
        if self._view is None:
            raise ModelError(f"{self.owner}: variable '{self.name}' was never pulled; call "
                             f"pull_from_device() (or read .view) before changing and pushing")
        self._put(self._view)

    @property
    def view(self) -> np.ndarray:
        if self._view is None:
            self.pull_from_device()
        return self._view

    @property
    def values(self) -> np.ndarray:
        self.pull_from_device()
        return self._view.copy()

    @values.setter
    def values(self, values) -> None:
        if self._view is None:
            self.pull_from_device()
        self._view[...] = np.broadcast_to(np.asarray(values, dtype=self._view.dtype),
                                          self._view.shape)
        self.push_to_device()


class GroupView:
    """A population or connection as a pygenn group: ``vars`` maps names to :class:`VarView`.

    Parameters
    ----------
    label : str
        ``"Population 'hidden'"`` or ``"Connection 'Conn0'"``, for messages.
    names : list of str
        Variables that exist.
    make : callable
        ``make(name) -> VarView``.
    """

    def __init__(self, label: str, names, make):
        self.label = label
        self._names = list(names)
        self._make = make
        self._vars: dict = {}
        self.vars = self

    def __getitem__(self, name) -> VarView:
        if name not in self._names:
            raise UnknownNameError(f"{self.label} has no variable '{name}'; it has "
                                   f"{self._names}")
        if name not in self._vars:
            self._vars[name] = self._make(name)
        return self._vars[name]

    def __contains__(self, name) -> bool:
        return name in self._names

    def keys(self):
        return list(self._names)


class GroupViews:
    """``compiled_net.neuron_populations`` / ``connection_populations``: a mapping from the
    network's populations (or layers) or connections (or layers), or their names, to
    :class:`GroupView`."""

    def __init__(self, resolve):
        self._resolve = resolve
        self._views: dict = {}

    def __getitem__(self, key) -> GroupView:
        name, make = self._resolve(key)
        if name not in self._views:
            self._views[name] = make()
        return self._views[name]
