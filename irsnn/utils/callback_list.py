"""``irsnn.utils.callback_list.CallbackList``, where mlGeNN users import it from.

Requires: nothing at import time. Provides ``CallbackList`` as a lazy re-export of
:class:`irsnn.callbacks.callback_list.CallbackList`: the class lives with the callbacks it
drives, above ``irsnn.utils`` in the import layers, so this module imports it only when the
name is first looked up (module ``__getattr__``) and ``irsnn.utils`` never imports upward when
it is loaded.
"""

from __future__ import annotations

from .module import lazy_reexports

__all__ = ["CallbackList"]  # noqa: F822 (provided by __getattr__)
__getattr__, __dir__ = lazy_reexports(__name__, {"CallbackList": "..callbacks.callback_list"})
