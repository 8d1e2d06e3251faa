"""Decorators for model classes.

Requires: :mod:`irsnn.errors` at import time. Provides :func:`network_default_params`, which
mlGeNN users import from here. It reads the active :class:`~irsnn.network.Network`'s default
parameters; the network sits above ``irsnn.utils`` (and above the neuron and synapse models
this decorates) in the import layers, so the decorator imports it inside the wrapper, when an
object is constructed, and this module never imports upward when it is loaded.
"""

from __future__ import annotations

from functools import wraps
from inspect import Parameter, signature

from ..errors import ModelError


def network_default_params(f):
    """Fill constructor arguments the caller did not pass from the active network's defaults.

    Inside ``with Network(default_params={LeakyIntegrateFire: {"tau_mem": 10.0}}):``, a
    ``LeakyIntegrateFire()`` gets ``tau_mem=10.0`` unless the caller passes ``tau_mem``
    (positionally or by keyword). Defaults are looked up by the exact class of the object
    being constructed, as in mlGeNN.
    """
    sig = signature(f)
    names = list(sig.parameters)
    accepts_kwargs = any(p.kind == Parameter.VAR_KEYWORD for p in sig.parameters.values())

    @wraps(f)
    def wrapper(*args, **kwargs):
        from ..network import Network
        defaults = Network.get_default_params(type(args[0]))
        if not defaults:
            return f(*args, **kwargs)
        if not accepts_kwargs:
            unknown = sorted(k for k in defaults if k not in names[1:])
            if unknown:
                raise ModelError(
                    f"Network default_params for {type(args[0]).__name__} name {unknown}, "
                    f"which its constructor does not take; valid names are {names[1:]}")
        positional = set(names[:len(args)])
        merged = {k: v for k, v in {**defaults, **kwargs}.items() if k not in positional}
        return f(*args, **merged)
    return wrapper
