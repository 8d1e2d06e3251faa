"""Input neurons: the ``set_input`` protocol and the dense-input mixin.

Requires: NumPy and :mod:`irsnn.errors`. Provides :class:`Input` (the protocol),
:class:`InputBase` (the dense-input mixin), :class:`PreparedInputs` and the helpers
:func:`state_owner` and :func:`check_finite`.

``set_input(state, batch_size, shape, input)`` receives a backend-neutral ``state`` from the
runtime that offers ``state.set_var(name, array)`` (array shaped ``(batch_size, num_neurons)``),
``state.set_egp(name, flat_array)``, ``state.dt`` and ``state.example_timesteps`` (may be
``None``), and optionally ``state.population`` (or ``state.name``) for error messages.

``evaluate``, ``predict`` and ``train`` first pass a whole dataset through
``prepare_input(shape, data, example_timesteps, dt)`` (once per call) and then give
``set_input`` one batch of what it returned at a time; the default returns the data unchanged.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from copy import deepcopy
from numbers import Integral

import numpy as np

from ..errors import InputError, ModelError


def state_owner(state, neuron) -> str:
    """Name the population being fed, for error messages."""
    pop = getattr(state, "population", None)
    name = getattr(pop, "name", None) or getattr(state, "name", None)
    if name is None:
        return f"{type(neuron).__name__} input"
    loc = getattr(pop, "location", None)
    return f"Population '{name}'" + (f" ({loc})" if loc else "")


def check_finite(owner, values, what="input"):
    """Raise :class:`InputError` naming the first NaN/inf element of ``values``."""
    bad = ~np.isfinite(values)
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputError(f"{owner}: {what} contains {values[idx]} at index {idx}; "
                         f"replace NaN/inf values before passing the data")


class Input(ABC):
    """Base class of every input neuron; the runtime calls :meth:`set_input`."""

    @abstractmethod
    def set_input(self, state, batch_size: int, shape, input):
        """Copy one batch of input data into the population's state."""

    def prepare_input(self, shape, data, example_timesteps: int, dt: float):
        """A dataset's inputs in the form :meth:`set_input` receives batches of.

        Called once per ``evaluate``/``predict``/``train`` call, so that work which does not
        depend on the batch (checks, conversions) is done once for all examples. The runtime
        cuts the result into batches with slices, and with integer index arrays when it is an
        array or a :class:`PreparedInputs`. Errors about the data should still be raised by
        :meth:`set_input`, when the batch holding the bad example is applied. The default
        returns ``data`` unchanged.
        """
        return data


class PreparedInputs(Sequence):
    """Base of datasets returned by :meth:`Input.prepare_input` that select examples with an
    integer index array as NumPy arrays do (``inputs[[3, 0, 2]]``), not only with slices."""


def _positive_int(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, (Integral, np.integer)) or value < 1:
        raise ModelError(f"{owner}: {name} must be an integer >= 1 (got {value!r})")
    return int(value)


class InputBase(Input):
    """Mixin for neurons driven by dense (non-spiking) data such as rates or pixel values.

    With ``input_frames == 1`` the data live in a read-only variable ``Input`` (one value per
    batch and neuron). With more frames they live in an extra global parameter ``Input``
    (``scalar*``) laid out ``(batch, frame, neuron)``; at time ``t`` the neuron reads frame
    ``min((int)(t / (input_frame_timesteps * dt)), input_frames - 1)``.

    Parameters
    ----------
    var_name, egp_name : str
        Names of the variable / extra global parameter holding the input.
    input_frames : int
        Frames per example.
    input_frame_timesteps : int
        Timesteps each frame is presented for.
    """

    def __init__(self, var_name="Input", egp_name="Input", input_frames=1,
                 input_frame_timesteps=1, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.var_name = var_name
        self.egp_name = egp_name
        self.input_frames = _positive_int(owner, "input_frames", input_frames)
        self.input_frame_timesteps = _positive_int(owner, "input_frame_timesteps",
                                                   input_frame_timesteps)

    def input_expression(self) -> str:
        """Code expression for this step's input of neuron ``id`` in batch ``batch``."""
        if self.input_frames == 1:
            return self.var_name
        f, ts = self.input_frames, self.input_frame_timesteps
        frame = f"min((int)(t / ({ts} * dt)), {f - 1})"
        return f"{self.egp_name}[(((batch * {f}) + {frame}) * num_neurons) + id]"

    def add_input_storage(self, model: dict, batch_size: int, num_neurons: int):
        """Declare the input variable or EGP in ``model``; returns ``(var_vals, egp_vals)``."""
        if self.input_frames == 1:
            model.setdefault("vars", []).append((self.var_name, "scalar", "readonly"))
            return {self.var_name: 0.0}, {}
        model.setdefault("extra_global_params", []).append((self.egp_name, "scalar*"))
        size = batch_size * self.input_frames * num_neurons
        return {}, {self.egp_name: np.zeros(size, dtype=np.float64)}

    def create_input_model(self, base_model, batch_size: int, shape, replace_input=None):
        """A copy of ``base_model`` (a :class:`~irsnn.utils.model.NeuronModel`) driven by
        this neuron's input data (mlGeNN's hook for user-defined input neurons).

        The input variable or extra global parameter is added to the copy (see
        :meth:`add_input_storage`) and every use of the name ``replace_input`` (typically
        ``"Isyn"``, also as ``$(Isyn)``) in its sim, threshold and reset code is replaced by
        this step's input value. Without ``replace_input`` the code reads the input itself
        (the variable :attr:`var_name`, or :meth:`input_expression` with several frames).

        Parameters
        ----------
        base_model : NeuronModel
            The model to turn into an input model; it is not modified.
        batch_size : int
            Batch size of the compiled network.
        shape : tuple of int
            Shape of the input population.
        replace_input : str, optional
            Name in the model code to replace with the input.
        """
        owner = type(self).__name__
        model = deepcopy(base_model)
        name = self.var_name if self.input_frames == 1 else self.egp_name
        declared = [v[0] for key in ("vars", "var_name_types", "extra_global_params")
                    for v in model.model.get(key, ()) or ()]
        if name in declared:
            raise ModelError(f"{owner}: the model already declares '{name}', which would hold "
                             f"the input; give the input another name (var_name/egp_name)")
        num_neurons = int(np.prod(tuple(shape)))
        if self.input_frames == 1:
            model.add_var(self.var_name, "scalar", 0.0, "readonly")
        else:
            model.add_egp(self.egp_name, "scalar*",
                          np.zeros(batch_size * self.input_frames * num_neurons, np.float64))
        if replace_input is not None:
            if not isinstance(replace_input, str) or not replace_input.isidentifier():
                raise ModelError(f"{owner}: replace_input={replace_input!r} must be the name "
                                 f"used in the model code (e.g. 'Isyn')")
            pattern = re.compile(rf"\$\({re.escape(replace_input)}\)|\b{replace_input}\b")
            expr = f"({self.input_expression()})"
            model.model = dict(model.model)
            for key in ("sim_code", "threshold_condition_code", "reset_code",
                        "negative_threshold_condition_code"):
                if model.model.get(key):
                    model.model[key] = pattern.sub(lambda _m: expr, model.model[key])
        return model

    def check_values(self, owner, values):
        """Extra validation of the input values (override in subclasses)."""

    def set_input(self, state, batch_size: int, shape, input):
        owner = state_owner(state, self)
        shape = tuple(shape)
        n = int(np.prod(shape))
        try:
            data = np.asarray(input, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{owner}: input cannot be converted to numbers ({exc})") from exc
        frames = () if self.input_frames == 1 else (self.input_frames,)
        per_example = [frames + shape, frames + (n,)]
        if data.shape in per_example and batch_size == 1:
            data = data[np.newaxis]
        if data.ndim == 0 or data.shape[1:] not in per_example:
            want = f"(batch <= {batch_size}, {', '.join(map(str, frames + shape))})"
            raise InputError(
                f"{owner}: input has shape {data.shape} but the population has shape {shape}"
                + (f" and {self.input_frames} input frames" if frames else "")
                + f"; pass an array of shape {want}")
        if data.shape[0] > batch_size:
            raise InputError(
                f"{owner}: input holds {data.shape[0]} examples but the batch size is "
                f"{batch_size}; split the data into batches of at most {batch_size}")
        check_finite(owner, data)
        self.check_values(owner, data)
        flat = data.reshape(data.shape[0], -1)
        if flat.shape[0] < batch_size:
            flat = np.pad(flat, ((0, batch_size - flat.shape[0]), (0, 0)))
        if self.input_frames == 1:
            state.set_var(self.var_name, flat)
        else:
            state.set_egp(self.egp_name, flat.reshape(-1))
