"""``irsnn.utils.network.get_underlying_pop``, where mlGeNN users import it from.

Requires: nothing at import time. Provides ``get_underlying_pop`` as a lazy re-export of
:func:`irsnn.population.get_underlying_pop`: the helper needs the Population class, which sits
above ``irsnn.utils`` in the import layers, so it lives in :mod:`irsnn.population` and this
module imports it only when the name is first looked up (module ``__getattr__``).
"""

from __future__ import annotations

from .module import lazy_reexports

__all__ = ["get_underlying_pop"]  # noqa: F822 (provided by __getattr__)
__getattr__, __dir__ = lazy_reexports(__name__, {"get_underlying_pop": "..population"})
