"""Values of parameters and variables: numbers, arrays or initializers.

Requires: :mod:`irsnn.initializers`, :mod:`.location` and :mod:`.module`. Provides the
:data:`Value` and :data:`InitValue` aliases, :func:`is_value_constant` /
:func:`is_value_array` / :func:`is_value_initializer`, :class:`ValueDescriptor`,
:func:`check_finite`, :func:`get_genn_var_name`, :func:`get_values` and :func:`set_values`.

:class:`ValueDescriptor` is the mlGeNN mechanism that maps a user-facing attribute (``tau_mem``)
to one or more model names (``Alpha``), optionally through a transform ``(value, dt)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from inspect import getmembers, isdatadescriptor
from numbers import Number
from typing import Union

import numpy as np

from ..errors import ModelError, UnknownAttributeError
from ..initializers import Initializer, default_initializers
from .location import user_location
from .module import unknown_name_error

Value = Union[Number, Sequence, np.ndarray, Initializer]
InitValue = Union[Value, str]


def is_value_constant(value) -> bool:
    """True for a plain number."""
    return isinstance(value, Number)


def is_value_array(value) -> bool:
    """True for a sequence or a numpy array (strings excluded)."""
    return isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str)


def is_value_initializer(value) -> bool:
    """True for an :class:`~irsnn.initializers.Initializer`."""
    return isinstance(value, Initializer)


def check_finite(owner: str, name: str, value, error=ModelError,
                 advice: str = "pass a finite value") -> None:
    """Raise :class:`~irsnn.errors.ModelError` if the number or array ``value`` holds NaN or inf.

    The one finiteness check of model values: value descriptors call it on assignment and
    lowering on every parameter and initial value of a model (custom model dicts included).

    Parameters
    ----------
    owner : str
        The object, and where it was created, for the message.
    name : str
        The attribute or model name the value is given for.
    value : number or array
        Booleans, initializers and ``None`` pass unchecked.
    error : type
        The error class raised (an :class:`~irsnn.errors.IrsnnError`).
    advice : str
        What to do, ending the message.
    """
    if value is None or isinstance(value, bool) or is_value_initializer(value):
        return
    arr = np.asarray(value)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.complexfloating)):
        return
    bad = ~np.isfinite(arr)
    if not np.any(bad):
        return
    if arr.ndim == 0:
        got = f"{name}={float(arr)}"
    else:
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        got = (f"{name} holds {int(bad.sum())} non-finite value(s) of {arr.size}, the first "
               f"{arr[index]} at index {index if len(index) > 1 else index[0]}")
    raise error(f"{owner}: {got}; parameters, weights and initial values must be finite "
                f"numbers (no NaN or inf): {advice}")


def _check_constraint(owner, name, value, constraint):
    if value is None or constraint is None or is_value_initializer(value):
        return
    if callable(constraint):
        constraint(owner, name, value)
        return
    arr = np.asarray(value, dtype=float)
    if constraint == "positive":
        bad = ~(arr > 0.0)
        need = "> 0"
    elif constraint == "non_negative":
        bad = ~(arr >= 0.0)
        need = ">= 0"
    else:
        raise ValueError(f"unknown constraint {constraint!r}")
    if np.any(bad):
        shown = float(arr[bad].flat[0])
        where = "" if arr.ndim == 0 else f" (first offending element {shown})"
        raise ModelError(
            f"{owner}: {name} must be {need} (got {value if arr.ndim == 0 else shown}){where}; "
            f"pass a value {need}")


class ValueDescriptor:
    """Descriptor mapping an attribute to model parameter/variable names.

    Accepted forms (all of mlGeNN's)::

        ValueDescriptor("Vthresh")
        ValueDescriptor("Alpha", lambda val, dt: np.exp(-dt / val))
        ValueDescriptor(("Alpha", lambda val, dt: np.exp(-dt / val)))
        ValueDescriptor(("ExpDecay", f1), ("IScale", f2))

    Parameters
    ----------
    *args
        Model names and/or ``(name, transform)`` tuples.
    value_transform : callable, optional
        Transform ``(value, dt) -> value`` for a single name given as a string.
    constraint : {None, "positive", "non_negative"} or callable, optional
        Checked whenever a number or array is assigned; a callable is called as
        ``constraint(owner, attribute_name, value)`` and raises on a bad value.

    Notes
    -----
    The value is stored on the instance as ``_<attribute name>``. Strings resolve through
    :data:`irsnn.initializers.default_initializers`; sequences are stored as ``np.asarray``.
    An attribute with a transform cannot hold an initializer (the transform would have to be
    applied to random samples), and assigning one raises :class:`~irsnn.errors.ModelError`.
    """

    def __init__(self, *args, value_transform=None, constraint=None):
        if (len(args) == 2 and isinstance(args[0], str) and callable(args[1])):
            args = ((args[0], args[1]),)
        transforms = []
        for a in args:
            if isinstance(a, str):
                transforms.append((a, value_transform))
            elif isinstance(a, tuple) and len(a) == 2 and isinstance(a[0], str):
                transforms.append((a[0], a[1]))
            else:
                raise TypeError(f"ValueDescriptor: expected a name or (name, transform), got {a!r}")
        self.genn_transforms = transforms
        self.constraint = constraint
        self.name = None
        self.owner_name = ""

    @property
    def genn_name(self):
        """The first model name this attribute maps to (``None`` if it maps to none)."""
        return self.genn_transforms[0][0] if self.genn_transforms else None

    @property
    def value_transform(self):
        """The transform of the first model name (``None`` if untransformed)."""
        return self.genn_transforms[0][1] if self.genn_transforms else None

    @property
    def has_transform(self) -> bool:
        return any(t is not None for _, t in self.genn_transforms)

    def __set_name__(self, owner, name):
        self.name = name
        self.owner_name = owner.__name__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return getattr(instance, f"_{self.name}", None)

    def __set__(self, instance, value):
        owner = type(instance).__name__
        if isinstance(value, str):
            if value not in default_initializers:
                raise unknown_name_error(value, f"{owner}.{self.name} initializer",
                                         default_initializers)
            value = default_initializers[value]()
        if isinstance(value, Initializer):
            if self.has_transform:
                names = [g for g, t in self.genn_transforms if t is not None]
                raise ModelError(
                    f"{owner}: {self.name} is transformed into {names} before use, so it "
                    f"cannot be given as an initializer ({value!r}); pass a number or an array")
        elif is_value_array(value):
            value = np.asarray(value)
            if value.dtype == object or not (np.issubdtype(value.dtype, np.number)
                                             or value.dtype == bool):
                raise ModelError(
                    f"{owner}: {self.name} must be numeric (got an array of {value.dtype})")
        elif value is not None and not isinstance(value, Number):
            raise ModelError(
                f"{owner}: {self.name} must be a number, a sequence or array of numbers, an "
                f"Initializer or an initializer name (got {type(value).__name__}: {value!r})")
        if value is not None and not isinstance(value, Initializer):
            check_finite(f"{owner} (created at {user_location()})", self.name, value)
        _check_constraint(owner, self.name, value, self.constraint)
        setattr(instance, f"_{self.name}", value)

    def _transform(self, val, transform, dt):
        if transform is None or val is None:
            return val
        if is_value_initializer(val):
            raise ModelError(f"{self.owner_name}: {self.name} cannot be transformed: it is an "
                             f"initializer ({val!r}); pass a number or an array")
        if is_value_array(val):
            return np.asarray(transform(np.asarray(val, dtype=np.float64), dt))
        out = transform(val, dt)
        return float(out) if isinstance(out, (Number, np.generic)) else out

    def get_transformed(self, instance, dt, genn_name=None):
        """Return the value for ``genn_name`` (default: the first name), transformed."""
        val = self.__get__(instance)
        for g, t in self.genn_transforms:
            if genn_name is None or g == genn_name:
                return self._transform(val, t, dt)
        raise KeyError(f"{self.name} does not map to '{genn_name}'")

    def get_transformed_all(self, instance, dt) -> dict:
        """Return ``{model name: transformed value}`` for every name of this descriptor."""
        val = self.__get__(instance)
        return {g: self._transform(val, t, dt) for g, t in self.genn_transforms}


def _value_descriptors(inst):
    return [(n, d) for n, d in getmembers(type(inst), isdatadescriptor)
            if isinstance(d, ValueDescriptor)]


def get_genn_var_name(inst, name: str) -> str:
    """The untransformed model name that attribute ``name`` of ``inst`` maps to."""
    d = getattr(type(inst), name, None)
    if not isinstance(d, ValueDescriptor):
        known = sorted(n for n, _ in _value_descriptors(inst))
        raise UnknownAttributeError(
            f"{type(inst).__name__}: '{name}' is not a value attribute; its value attributes "
            f"are {known}")
    direct = [g for g, t in d.genn_transforms if t is None]
    if not direct:
        raise ModelError(f"{type(inst).__name__}: no model variable maps directly to '{name}'")
    return direct[0]


def get_values(inst, name_types, dt, vals=None) -> dict:
    """Collect transformed values of ``inst``'s descriptors for the names in ``name_types``.

    Parameters
    ----------
    inst : object
        Neuron, synapse or connectivity with :class:`ValueDescriptor` attributes.
    name_types : iterable
        ``[(name, type), ...]`` or ``[name, ...]``.
    dt : float
        Simulation timestep (ms) passed to transforms.
    vals : dict, optional
        Values to start from (not modified).
    """
    vals = dict(vals or {})
    names = {n if isinstance(n, str) else n[0] for n in name_types}
    for _, d in _value_descriptors(inst):
        vals.update({g: v for g, v in d.get_transformed_all(inst, dt).items() if g in names})
    return vals


def set_values(inst, vals) -> set:
    """Assign values keyed by model name (``"Bias"``) or attribute name (``"bias"``).

    Returns
    -------
    set
        The keys of ``vals`` that were used; others are ignored.
    """
    mapping = {}
    for n, d in _value_descriptors(inst):
        mapping[n] = d
        mapping.update({g: d for g, t in d.genn_transforms if t is None})
    used = set()
    for k, v in vals.items():
        if k in mapping:
            mapping[k].__set__(inst, v)
            used.add(k)
    return used
