"""The backend-neutral description of a connection's connectivity, consumed by lowering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, eq=False)
class ConnectivitySpec:
    """What lowering needs to know about a connection's connectivity.

    Attributes
    ----------
    kind : str
        ``"dense"``, ``"one_to_one"`` or ``"fixed_probability"``.
    weight : float, numpy.ndarray or Initializer
        Weights. Dense arrays are shaped ``(source.num_neurons, target.num_neurons)``;
        one-to-one arrays are flat ``(num_neurons,)``.
    delay : float, numpy.ndarray or Initializer
        Delays in timesteps (integral values), shaped like ``weight`` when an array.
    p : float or None
        Connection probability (``fixed_probability`` only).
    allow_self_connections : bool
        Whether a neuron may connect to itself when source is target.
    trainable : bool
        Whether learning rules may update the weights.
    layout : str or None
        The user's storage choice (``"dense"``, ``"sparse"``, ``"bitmask"`` or
        ``"procedural"``), or None to let the compiler pick.
    """

    kind: str
    weight: Any
    delay: Any
    p: float | None = None
    allow_self_connections: bool = False
    trainable: bool = True
    layout: str | None = None
