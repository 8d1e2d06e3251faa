"""Backends (installed as ``irsnn.backends``): registry and selection.

Requires: :mod:`irsnn.settings`, :mod:`irsnn.errors` and :mod:`.base`; a backend's package
(and its heavy dependency) is imported only when that backend is loaded. Provides the registry of
backends (``c``, ``cuda``, ``opencl``, ``reference``, fastest first), :func:`load_backend`,
:func:`backend_names`, :func:`available_backends`, :func:`get_backend`, and re-exports
:class:`~.base.Backend`, :class:`~.base.InputState` and :class:`~.base.Simulation`.

GeNN's backend names are accepted as aliases (:data:`GENN_BACKEND_ALIASES`), so scripts that pass
``backend="SingleThreadedCPU"``, ``"CUDA"`` or ``"OpenCL"`` to an mlGeNN compiler run unchanged.

``get_backend(None)`` takes ``$IRSNN_BACKEND`` (:func:`irsnn.settings.backend_name`) if set,
else the fastest available backend (an OpenCL driver whose devices cannot build a test kernel
makes ``opencl`` unavailable, see :func:`irsnn.backends.opencl.probe_device`).
Heavy dependencies (pyopencl, cupy) are imported only inside their own backend, lazily.
"""

from __future__ import annotations

from irsnn import settings
from irsnn.errors import BackendUnavailableError, UnknownNameError

from .base import Backend, InputState, Simulation

#: name -> "module:class", fastest first
_REGISTRY = {"c": "irsnn.backends.c:CBackend",
             "cuda": "irsnn.backends.cuda:CudaBackend",
             "opencl": "irsnn.backends.opencl:OpenCLBackend",
             "reference": "irsnn.backends.reference:ReferenceBackend"}

#: GeNN's backend names -> irsnn's: GeNN's CPU backends map to the native C backend (which also
#: runs on one core when OpenMP is unavailable or ``OMP_NUM_THREADS=1``)
GENN_BACKEND_ALIASES = {"SingleThreadedCPU": "c", "CUDA": "cuda", "OpenCL": "opencl"}


def load_backend(name: str) -> Backend:
    """Instantiate the backend registered as ``name`` (may raise ImportError)."""
    import importlib
    module, _, cls = _REGISTRY[name].partition(":")
    return getattr(importlib.import_module(module), cls)()


def backend_names() -> list[str]:
    """Every backend irsnn knows, fastest first."""
    return list(_REGISTRY)


def available_backends() -> dict[str, tuple[bool, str]]:
    """``name -> (available, reason if not)`` for every known backend."""
    out = {}
    for name in _REGISTRY:
        try:
            out[name] = load_backend(name).availability()
        except ImportError as exc:  # a backend module whose dependency is missing
            out[name] = (False, str(exc))
    return out


def get_backend(spec=None) -> Backend:
    """A backend object from a name, an object, ``$IRSNN_BACKEND`` or the fastest available."""
    if isinstance(spec, Backend):
        return spec
    from_env = spec is None
    if spec is None:
        spec = settings.backend_name()
    if spec is None:  # the fastest that works (asked in order: no OpenCL probe when C works)
        for name in _REGISTRY:
            try:
                backend = load_backend(name)
            except ImportError:
                continue
            if backend.availability()[0]:
                return backend
    spec = GENN_BACKEND_ALIASES.get(spec, spec)
    if spec not in _REGISTRY:
        where = " (from $IRSNN_BACKEND, see irsnn.settings)" if from_env else ""
        raise UnknownNameError(f"unknown backend {spec!r}{where}; valid backends are "
                               f"{backend_names()} (or GeNN's names "
                               f"{sorted(GENN_BACKEND_ALIASES)})")
    backend = load_backend(spec)
    ok, why = backend.availability()
    if not ok:
        raise BackendUnavailableError(f"backend '{spec}' is unavailable: {why}; use "
                                      f"backend='reference' or fix the cause")
    return backend


__all__ = ["Backend", "InputState", "Simulation", "available_backends", "backend_names",
           "get_backend", "load_backend", "GENN_BACKEND_ALIASES"]
