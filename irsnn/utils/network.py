"""``irsnn.utils.network``: network helpers, where mlGeNN users import them from.

Requires: nothing at import time. Provides ``get_underlying_pop``, ``get_network_dag`` (from
:mod:`irsnn.population`), ``get_underlying_conn`` (from :mod:`irsnn.connection`) and the type
aliases ``PopulationType``/``ConnectionType`` as lazy re-exports: the helpers need the
Population, Layer and Connection classes, which sit above ``irsnn.utils`` in the import layers,
so this module imports them only when a name is first looked up (module ``__getattr__``).
"""

from __future__ import annotations

from .module import lazy_reexports

__all__ = ["get_underlying_pop", "get_underlying_conn",  # noqa: F822 (from __getattr__)
           "get_network_dag"]
_lazy_getattr, __dir__ = lazy_reexports(__name__, {"get_underlying_pop": "..population",
                                                   "get_network_dag": "..population",
                                                   "get_underlying_conn": "..connection"})


def __getattr__(name):
    if name in ("PopulationType", "ConnectionType"):
        from typing import Union

        from ..connection import Connection
        from ..layer import InputLayer, Layer
        from ..population import Population
        return (Union[InputLayer, Layer, Population] if name == "PopulationType"
                else Union[Connection, Layer])
    return _lazy_getattr(name)
