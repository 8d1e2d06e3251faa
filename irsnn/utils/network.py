"""Helpers shared by everything that accepts a Population or a Layer."""

from ..errors import InputError


def get_underlying_pop(obj):
    """The Population behind ``obj`` (a Population, or a Layer/InputLayer via ``population()``).

    Raises :class:`~irsnn.errors.InputError` for anything else.
    """
    from ..population import Population
    pop = obj
    if not isinstance(pop, Population) and callable(getattr(obj, "population", None)):
        pop = obj.population()
    if not isinstance(pop, Population):
        raise InputError(f"{obj!r} is not a Population or Layer; key inputs, labels, outputs "
                         f"and recorders by the network's populations or layers")
    return pop
