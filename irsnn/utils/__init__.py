"""Utilities of the front end (mlGeNN's ``ml_genn.utils``), one module per concern.

Requires: nothing beyond its submodules, and it imports none of them. Provides the package
of :mod:`.data`, :mod:`.decorators`, :mod:`.filter`, :mod:`.location`, :mod:`.model`,
:mod:`.module`, :mod:`.snippet`, :mod:`.value` and the lazy re-exports :mod:`.callback_list`
and :mod:`.network`.
"""
