"""Host copies of a kernel program's buffers and their lazy synchronisation with the device.

Requires: a :class:`~backends.kernels.buffers.BufferTable`. Provides :class:`HostMemory`: one
NumPy array per buffer (never reallocated), and the two sets that say which copy is newer. Host
writes mark a buffer for upload before the next launch; launches mark the device's state as
newer; reads download on demand. Where the device *is* host memory (C), nothing is transferred.
A buffer may also be used on the device directly, between launches (:meth:`HostMemory.to_device`
before, :meth:`HostMemory.written` after): no copy of it is ever newer than the one being used.
"""

from __future__ import annotations

import numpy as np

from irsnn.lang.types import C_DTYPES


class HostMemory:
    """Host arrays of every state buffer of a program (see the module docstring).

    Parameters
    ----------
    buffers : BufferTable
        The program's buffers.
    download : callable
        ``download(buffer, host)`` copies a buffer from the device into its host array.
    host_is_device : bool
        The host arrays are the device's memory (nothing is ever transferred).
    """

    def __init__(self, buffers, download, host_is_device: bool):
        self.table = buffers
        self._arrays = {b.name: np.zeros(b.size, C_DTYPES[b.ctype]) for b in buffers}
        self._download = download
        self.host_is_device = host_is_device
        self._stale: set = set()                   # newer on the device than on the host
        self._dirty: set = {b for b in buffers}    # newer on the host than on the device
        #: views and values of the buffers :meth:`overwrite` writes, by what writes them
        self._plans: dict = {}

    def array(self, buf) -> np.ndarray:
        """The host array of ``buf`` as it is (no download; for binding and transfers)."""
        return self._arrays[buf.name]

    def __call__(self, buf, write: bool = False) -> np.ndarray:
        """The host array of ``buf`` brought up to date; ``write`` marks it for upload before
        the next launch."""
        if buf in self._stale:
            self._download(buf, self._arrays[buf.name])
            self._stale.discard(buf)
        if write:
            self._dirty.add(buf)
        return self._arrays[buf.name]

    def writer(self):
        """``host(buf)`` that marks every buffer it returns for upload (layouts fill their
        storage through it)."""
        return lambda buf: self(buf, write=True)

    def overwrite(self, key, values) -> None:
        """Write whole buffers on the host: ``values()`` gives ``[(buffer, value)]`` (``value``
        one element, or one row repeated over the buffer). Resets run before every batch, so
        the views to write are worked out once per ``key`` and kept; the device copies of
        the buffers are not newer any more."""
        plan = self._plans.get(key)
        if plan is None:
            writes = values()
            plan = self._plans[key] = (
                [buf for buf, _ in writes],
                [(self._arrays[buf.name].reshape(-1, np.size(value)) if np.ndim(value)
                  else self._arrays[buf.name], value) for buf, value in writes])
        bufs, views = plan
        for view, value in views:
            view[...] = value
        self._stale.difference_update(bufs)
        self._dirty.update(bufs)

    def to_device(self, buf, upload) -> None:
        """Before the device copy of ``buf`` is used directly (outside a launch): upload the
        host's writes of it now (``upload(buffer, host)``)."""
        if buf in self._dirty:
            if not self.host_is_device:
                upload(buf, self._arrays[buf.name])
            self._dirty.discard(buf)

    def written(self, buf, on_device: bool = False) -> None:
        """``buf`` was changed in place outside a launch: in the host array :meth:`__call__`
        returned (it is uploaded before the next launch), or ``on_device`` after
        :meth:`to_device` (the host copy is downloaded before it is next read)."""
        if not on_device:
            self._dirty.add(buf)
        elif not self.host_is_device:
            self._stale.add(buf)

    def device_wrote(self) -> None:
        """A launch ran: every state buffer may be newer on the device."""
        if not self.host_is_device:
            self._stale = set(self.table)

    def upload_dirty(self, upload) -> None:
        """``upload(buffer, host)`` every buffer written on the host since the last upload."""
        if not self.host_is_device:
            for buf in sorted(self._dirty, key=lambda b: b.name):
                upload(buf, self._arrays[buf.name])
        self._dirty.clear()


__all__ = ["HostMemory"]
