"""Dispatch of callback hooks to a list of callbacks.

Requires: the callback classes of this package and :func:`irsnn.utils.module.get_object`.
Provides :class:`CallbackList`, which the compiled networks drive. mlGeNN users import it as
``irsnn.utils.callback_list.CallbackList``; that module re-exports this class lazily, so that
``irsnn.utils`` does not import the callbacks above it.
"""

from __future__ import annotations

from warnings import warn

from ..errors import DuplicateKeyError, IrsnnWarning
from ..utils.module import get_object
from . import Callback, default_callbacks


class CallbackList:
    """Resolve callbacks (objects or snake_case names), give them their parameters, and
    forward every hook to each of them in order.

    As in mlGeNN, every callback's ``set_params`` receives ``data`` (a dict shared by the
    callbacks of this list, where stateless callbacks may keep what they record) besides the
    ``params`` (``compiled_network``, ``num_batches``, ...).
    """

    def __init__(self, callbacks, **params):
        self.callbacks = [get_object(c, Callback, "Callback", default_callbacks)
                          for c in callbacks]
        self.data: dict = {}
        for c in self.callbacks:
            c.set_params(data=self.data, **params)
        self.per_timestep = [c for c in self.callbacks
                             if type(c).on_timestep_begin is not Callback.on_timestep_begin
                             or type(c).on_timestep_end is not Callback.on_timestep_end]

    def keep(self, predicate) -> None:
        """Drop the callbacks for which ``predicate(callback)`` is false (a data-parallel
        rank other than 0 keeps no callback that writes)."""
        self.callbacks = [c for c in self.callbacks if predicate(c)]
        self.per_timestep = [c for c in self.per_timestep if predicate(c)]
        for hook in [k for k in vars(self) if k.startswith("on_")]:
            delattr(self, hook)   # bound to the old lists by __getattr__

    def recording_requests(self):
        out = []
        for c in self.callbacks:
            out.extend(c.recording_requests())
        return out

    def batch_recordings(self, batch, num_examples):
        """``[(request, rows)]`` from every callback for this batch."""
        out = []
        for c in self.callbacks:
            out.extend(c.batch_recordings(batch, num_examples))
        return out

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)
        targets = self.per_timestep if hook.startswith("on_timestep") else self.callbacks

        def call(*args):
            for c in targets:
                getattr(c, hook)(*args)
        setattr(self, hook, call)   # found directly from now on (hooks run every batch)
        return call

    def __getitem__(self, index: int):
        return self.callbacks[index]

    def get_data(self) -> dict:
        """``{key: data}`` of every callback with ``get_data``; a callback whose key is
        ``None`` gets its position in the list as key (with a warning); two callbacks with one
        key are a :class:`~irsnn.errors.DuplicateKeyError` (a ``KeyError``)."""
        data = {}
        for i, c in enumerate(self.callbacks):
            if hasattr(c, "get_data"):
                key, value = c.get_data()
                if key is None:
                    warn(f"{type(c).__name__} (callback {i}) gave no data key; its data is "
                         f"under the key {i}. Pass key=... to the callback to name it",
                         IrsnnWarning, stacklevel=2)
                    key = i
                if key in data:
                    raise DuplicateKeyError(
                        f"{type(c).__name__} (callback {i}) returns data under the key "
                        f"{key!r}, which another callback already uses; give each recording "
                        f"callback its own key=...")
                data[key] = value
        return data
