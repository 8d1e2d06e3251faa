"""``irsnn.utils.snippet``: mlGeNN's module path for :class:`ConstantValueDescriptor`.

Requires: :mod:`irsnn.errors`. Provides :class:`ConstantValueDescriptor`, an attribute that
holds one plain number (mlGeNN's connectivity classes use it for e.g. a connection probability,
which cannot be an array or an initializer). mlGeNN's ``ConnectivitySnippet`` and
``InitializerSnippet`` carry pygenn snippets to GeNN; irsnn lowers connectivity and
initializers to its IR instead, so it has no equivalent of them.
"""

from __future__ import annotations

from numbers import Number

from ..errors import ModelError


class ConstantValueDescriptor:
    """A class attribute whose instances' values must be plain numbers.

    ``p = ConstantValueDescriptor()`` in a class body stores ``obj.p = 0.1`` in ``obj._p``;
    anything else (an array, an initializer, a string, ``True``) is a
    :class:`~irsnn.errors.ModelError` naming the owner and the attribute. Read on the class,
    it returns the descriptor itself.
    """

    def __set_name__(self, owner, name):
        self.name = name
        self.owner = owner.__name__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return getattr(instance, f"_{self.name}")

    def __set__(self, instance, value):
        if not isinstance(value, Number) or isinstance(value, bool):
            raise ModelError(f"{self.owner}: {self.name}={value!r} must be a plain number (an "
                             f"int or float), not {type(value).__name__}; arrays and "
                             f"initializers are not accepted for {self.name}")
        setattr(instance, f"_{self.name}", value)
