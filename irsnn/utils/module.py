"""Resolve objects given as instances, classes, snake_case names or ``None``.

Requires: :mod:`irsnn.errors` only. Provides :func:`get_object`,
:func:`get_object_mapping`, :func:`get_module_classes`, :func:`camel_to_snake`,
:func:`unknown_name_error` and :func:`lazy_reexports` (module ``__getattr__`` re-exports).

Wherever irsnn accepts an object (a neuron, a synapse, a readout, a metric, a serialiser, ...)
it also accepts the snake_case name of a built-in class whose constructor needs no arguments,
as mlGeNN does (``"leaky_integrate_fire"``, ``"numpy"``).
"""

from __future__ import annotations

import re
from copy import copy
from difflib import get_close_matches
from inspect import Parameter, isclass, signature
from typing import Any
from collections.abc import Mapping

from ..errors import ModelError, UnknownNameError

_CAMEL_TO_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def camel_to_snake(name: str) -> str:
    """Convert a CamelCase class name to snake_case (``LeakyIntegrateFire`` ->
    ``leaky_integrate_fire``)."""
    return _CAMEL_TO_SNAKE.sub("_", name).lower()


def _default_constructable(cls) -> bool:
    params = signature(cls.__init__).parameters
    return all(p.kind in (Parameter.VAR_POSITIONAL, Parameter.VAR_KEYWORD)
               or p.default is not Parameter.empty
               for n, p in params.items() if n != "self")


def get_module_classes(namespace: Mapping[str, Any], base_class: type) -> dict:
    """Map snake_case names to the default-constructable subclasses of ``base_class``.

    Parameters
    ----------
    namespace : mapping
        Typically a package's ``globals()``.
    base_class : type
        Only strict subclasses of this class are collected.

    Returns
    -------
    dict
        ``{snake_case_name: class}``.
    """
    found = {}
    for name, obj in namespace.items():
        if (isclass(obj) and issubclass(obj, base_class) and obj is not base_class
                and not getattr(obj, "__abstractmethods__", None)
                and _default_constructable(obj)):
            found[camel_to_snake(name)] = obj
    return found


def unknown_name_error(name: str, description: str, valid) -> UnknownNameError:
    """Build the error for an unknown string shortcut, listing valid names and a suggestion."""
    valid = sorted(valid)
    close = get_close_matches(name, valid, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    listing = ", ".join(f"'{v}'" for v in valid) if valid else "(none)"
    return UnknownNameError(
        f"{description} '{name}' is unknown.{hint} Valid names are: {listing}; "
        f"or pass a {description} object.")


def get_object(obj, base_class: type, description: str,
               dictionary: Mapping[str, Any]) -> Any | None:
    """Resolve ``obj`` to an instance of ``base_class``.

    Parameters
    ----------
    obj : None, str, type or instance
        ``None`` is returned unchanged; a string is looked up in ``dictionary`` and the class
        constructed without arguments; a subclass of ``base_class`` is constructed without
        arguments; an instance is shallow-copied (as mlGeNN does, so one object can be passed
        to several populations or connections).
    base_class : type
        Required base class.
    description : str
        Human-readable kind of object, used in error messages (``"Neuron"``).
    dictionary : mapping
        snake_case name -> class.

    Raises
    ------
    UnknownNameError
        For an unknown string; the message lists every valid name.
    ModelError
        For an object of the wrong type.
    """
    if obj is None:
        return None
    if isinstance(obj, str):
        if obj not in dictionary:
            raise unknown_name_error(obj, description, dictionary)
        return dictionary[obj]()
    if isclass(obj) and issubclass(obj, base_class):
        try:
            return obj()
        except TypeError as exc:
            raise ModelError(
                f"{description} class {obj.__name__} cannot be constructed without "
                f"arguments ({exc}); pass an instance such as {obj.__name__}(...)") from exc
    if isinstance(obj, base_class):
        return copy(obj)
    raise ModelError(
        f"{description} must be given as a string name, a {base_class.__name__} subclass "
        f"or instance (got {type(obj).__name__}: {obj!r})")


def get_object_mapping(obj, keys, base_class: type, description: str,
                       dictionary: Mapping[str, Any]) -> dict:
    """Resolve ``obj`` once per key, or resolve each value of a dict keyed like ``keys``.

    Raises
    ------
    ModelError
        If ``obj`` is a dict whose keys differ from ``keys``.
    """
    keys = list(keys)
    if isinstance(obj, dict):
        if set(obj.keys()) != set(keys):
            raise ModelError(
                f"{description} dictionary keys {sorted(map(str, obj))} should match the "
                f"network outputs {sorted(map(str, keys))}")
        return {k: get_object(o, base_class, description, dictionary) for k, o in obj.items()}
    return {k: get_object(obj, base_class, description, dictionary) for k in keys}


def lazy_reexports(module: str, names: dict[str, str]):
    """``(__getattr__, __dir__)`` for module ``module`` that re-export ``names`` (name ->
    module path relative to ``module``'s package, e.g. ``"..population"``) on first lookup, so
    a module mirroring mlGeNN's layout imports nothing above it when it is loaded."""
    import importlib

    def __getattr__(name):
        if name in names:
            return getattr(importlib.import_module(names[name], module.rpartition(".")[0]),
                           name)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    def __dir__():
        return sorted(names)

    return __getattr__, __dir__
