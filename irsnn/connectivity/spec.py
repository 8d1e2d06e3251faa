"""The backend-neutral description of a connection's connectivity, consumed by lowering.

Requires: nothing. Provides :class:`ConnectivitySpec`, what a connectivity object hands to
:mod:`irsnn.lowering` (kind, weight, delay, probability, layout, explicit indices, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, eq=False)
class ConnectivitySpec:
    """What lowering needs to know about a connection's connectivity.

    Attributes
    ----------
    kind : str
        ``"dense"``, ``"one_to_one"``, ``"fixed_probability"`` or ``"sparse"`` (synapses
        listed explicitly by ``pre_ind``/``post_ind``).
    weight : float, numpy.ndarray or Initializer
        Weights. Dense arrays are shaped ``(source.num_neurons, target.num_neurons)``;
        one-to-one arrays are flat ``(num_neurons,)``; sparse arrays hold one value per listed
        synapse.
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
    pre_ind, post_ind : numpy.ndarray or None
        ``sparse`` only: the presynaptic and postsynaptic neuron of every synapse (validated:
        equal lengths, in range, no pair twice).
    """

    kind: str
    weight: Any
    delay: Any
    p: float | None = None
    allow_self_connections: bool = False
    trainable: bool = True
    layout: str | None = None
    pre_ind: Any = None
    post_ind: Any = None
