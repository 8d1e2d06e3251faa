"""Labels of a batch for a loss written with mlGeNN's hooks: its ``set_target`` on a stand-in
for GeNN's neuron group that writes into the simulation.

Requires: NumPy and :mod:`.genn_model` (:class:`~.genn_model.GroupView`,
:class:`~.genn_model.VarView`). Provides :class:`TargetWriter`. See
:mod:`irsnn.losses.model_loss` for the hooks and how irsnn lowers ``add_to_neuron``.
"""

from __future__ import annotations

import numpy as np

from .genn_model import GroupView, VarView


class _EGPView:
    """What ``genn_pop.extra_global_params[name]`` offers a loss: ``view`` (a host array) and
    ``push_to_device`` (writes it to the simulation); ``pull_from_device`` keeps the host copy
    (it is what was last written)."""

    def __init__(self, push, values):
        self._push = push
        self.view = values

    def push_to_device(self):
        self._push(self.view)

    def pull_from_device(self):
        """The host copy is what was last written: nothing to do."""


class TargetWriter:
    """Calls a loss's ``set_target`` on a stand-in for GeNN's neuron group of the output.

    ``genn_pop.vars[name].view`` has GeNN's shape (``(batch_size, neurons)``, or ``(neurons,)``
    for batch size 1; ``(batch_size, 1)``/``(1,)`` for a variable shared across neurons, which
    ``push_to_device`` broadcasts to every neuron); ``genn_pop.extra_global_params[name].view``
    is a flat array of the size the loss gave ``add_egp``.

    Parameters
    ----------
    loss : Loss
        The loss, written with mlGeNN's hooks.
    sim : Simulation
        The simulation (``get_var``/``set_var``/``set_egp``, ``batch_size``).
    node_id, pop_name : str
        The output population's node and name.
    var_names : sequence of str
        The population's variables.
    info : dict
        What :func:`irsnn.losses.model_loss.lower_model_loss` returned beside the spec
        (``shared`` variables, ``egp_sizes``).
    egp_dtypes : dict
        ``{egp name: NumPy dtype}``.
    """

    def __init__(self, loss, sim, node_id, pop_name, var_names, info, egp_dtypes):
        self.loss, self._sim, self._node = loss, sim, node_id
        self._shared = set(info["shared"])
        label = f"Population '{pop_name}' (loss {type(loss).__name__})"
        self.genn_pop = GroupView(label, var_names,
                                  lambda n: VarView(label, n, lambda: self._get(n),
                                                    lambda x: self._put(n, x)))
        self.genn_pop.extra_global_params = {
            n: _EGPView(lambda x, n=n: sim.set_egp(node_id, n, np.asarray(x).reshape(-1)),
                        np.zeros(size, egp_dtypes.get(n, np.float32)))
            for n, size in info["egp_sizes"].items()}

    def push_initial(self):
        """Write the extra global parameters' initial (zero) values, so that the loss code can
        run before the first ``set_target`` (in ``evaluate``, for instance)."""
        for view in self.genn_pop.extra_global_params.values():
            view.push_to_device()

    def _get(self, name):
        batch = self._sim.batch_size
        value = np.asarray(self._sim.get_var(self._node, name)).reshape(batch, -1)
        if name in self._shared:
            value = value[:, :1]
        return value.reshape(-1) if batch == 1 else value.copy()

    def _put(self, name, values):
        batch = self._sim.batch_size
        current = np.asarray(self._sim.get_var(self._node, name))
        n = current.reshape(batch, -1).shape[1]
        values = np.asarray(values).reshape(batch, -1)
        self._sim.set_var(self._node, name, np.broadcast_to(values, (batch, n))
                          .reshape(current.shape).astype(current.dtype))

    def set_target(self, y_true, shape, batch_size, example_timesteps):
        """``loss.set_target`` with GeNN's arguments."""
        self.loss.set_target(self.genn_pop, y_true, tuple(shape), int(batch_size),
                             int(example_timesteps))
