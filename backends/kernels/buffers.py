"""The buffer table: every array a kernel program uses, found by what it holds.

Requires: :class:`~.description.Buffer`. Provides :class:`BufferTable`, the only place that
makes a buffer's C identifier. Kernel builders add buffers by ``(owner, var)`` (``owner`` an
IR id, ``var`` a variable's name or a storage role such as ``insyn``, ``spk``, ``g``) and look
them up the same way; kernel text interpolates the :class:`~.description.Buffer` object (it
renders as its identifier); simulations find host and device copies through the same keys.
Nothing outside this module builds a buffer's name or parses one back.
"""

from __future__ import annotations

from irsnn.errors import BackendError

from .description import Buffer


class BufferTable:
    """Buffers of one program, in binding order, keyed by ``(owner, var)``.

    Owners are registered with an identifier stem (``g0`` for the first population, ``s3``
    for the fourth connection, ...) that prefixes their buffers' names and their kernels'
    names; buffers of the whole model (owner ``""``) are named by ``var`` alone.
    """

    def __init__(self):
        self._stems: dict[str, str] = {}
        self._state: dict[tuple[str, str], Buffer] = {}
        self._egps: dict[tuple[str, str], Buffer] = {}

    # -- owners ---------------------------------------------------------------------------------
    def register(self, owner: str, stem: str) -> None:
        """Give ``owner`` (an IR id) the identifier stem ``stem``."""
        if stem in self._stems.values() and self._stems.get(owner) != stem:
            raise BackendError(f"buffer table: stem '{stem}' is taken")
        self._stems[owner] = stem

    def stem(self, owner: str) -> str:
        """The identifier stem of ``owner`` (also used to name its kernels)."""
        try:
            return self._stems[owner]
        except KeyError:
            raise BackendError(f"buffer table: '{owner}' has no buffers (owners: "
                               f"{sorted(self._stems)})") from None

    def stems(self) -> dict[str, str]:
        """``{owner: stem}`` of every registered owner."""
        return dict(self._stems)

    # -- buffers --------------------------------------------------------------------------------
    def _name(self, owner, var, egp=False):
        if not owner:
            return var
        return f"{self.stem(owner)}_{'egp_' if egp else ''}{var}"

    def add(self, owner: str, var: str, ctype: str, shape) -> Buffer:
        """Add the state buffer ``var`` of ``owner`` (elements of ``ctype``, logical
        ``shape``) and return it."""
        key = (owner, var)
        if key in self._state:
            raise BackendError(f"buffer table: '{owner}' already has a buffer '{var}'")
        shape = tuple(int(n) for n in (shape if isinstance(shape, tuple | list) else (shape,)))
        self._state[key] = buf = Buffer(self._name(owner, var), ctype, shape, "state", owner,
                                        var)
        return buf

    def add_egp(self, owner: str, name: str, ctype: str) -> Buffer:
        """Add extra global parameter ``name`` of ``owner`` (its array is given at run time)."""
        self._egps[(owner, name)] = buf = Buffer(self._name(owner, name, egp=True), ctype, (),
                                                 "egp", owner, name)
        return buf

    def __getitem__(self, key: tuple[str, str]) -> Buffer:
        try:
            return self._state[key]
        except KeyError:
            owner, var = key
            known = sorted(v for o, v in self._state if o == owner)
            raise BackendError(f"buffer table: '{owner}' has no buffer '{var}' (it has "
                               f"{known})") from None

    def get(self, owner: str, var: str) -> Buffer | None:
        """The state buffer ``var`` of ``owner``, or None."""
        return self._state.get((owner, var))

    def __contains__(self, key) -> bool:
        return key in self._state

    def egp(self, owner: str, name: str) -> Buffer | None:
        """Extra global parameter ``name`` of ``owner``, or None."""
        return self._egps.get((owner, name))

    @property
    def egps(self) -> list[Buffer]:
        """Extra global parameters, in binding order."""
        return list(self._egps.values())

    def __iter__(self):
        """State buffers in binding order."""
        return iter(self._state.values())

    def __len__(self):
        return len(self._state)


__all__ = ["BufferTable"]
