"""Every environment variable that ``irsnn bench`` reads or sets, in one place.

Requires only the standard library. Provides :func:`peers_folder_setting`
(``IRSNN_BENCH_PEERS``: where the peers' code lives, see :mod:`irsnn.bench.peers`),
:func:`openmp_settings` (``OMP_NUM_THREADS`` and ``OMP_WAIT_POLICY``, recorded with the
machine) and :func:`kernel_cache_at` (points ``XDG_CACHE_HOME``, and with it irsnn's kernel
cache, at a folder for the cold build-time measurement).
"""

from __future__ import annotations

import contextlib
import os


def peers_folder_setting() -> str | None:
    """The folder named by ``IRSNN_BENCH_PEERS``, or None when it is unset or empty."""
    return os.environ.get("IRSNN_BENCH_PEERS") or None


def openmp_settings() -> dict:
    """``{"omp_num_threads": ..., "omp_wait_policy": ...}``: the OpenMP variables (None when
    unset) as they stand, recorded with the machine because they change the C timings."""
    return {"omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY")}


@contextlib.contextmanager
def kernel_cache_at(folder: str):
    """Set ``XDG_CACHE_HOME`` to ``folder`` (so irsnn's kernel cache lives there) inside the
    block; restore the previous value, or its absence, on exit."""
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = folder
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = old
