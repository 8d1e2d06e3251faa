"""``irsnn.utils.network.get_underlying_pop``, where mlGeNN users import it from.

Requires: nothing at import time. Provides ``get_underlying_pop`` as a lazy re-export of
:func:`irsnn.population.get_underlying_pop`: the helper needs the Population class, which sits
above ``irsnn.utils`` in the import layers, so it lives in :mod:`irsnn.population` and this
module imports it only when the name is first looked up (module ``__getattr__``).
"""

from __future__ import annotations

__all__ = ["get_underlying_pop"]  # noqa: F822 (provided by __getattr__)


def __getattr__(name):
    if name == "get_underlying_pop":
        from ..population import get_underlying_pop
        return get_underlying_pop
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
