"""Every environment variable irsnn reads, read in this one place.

Requires: the standard library and :mod:`irsnn.errors` only (nothing from passes or backends).
Provides one function per setting. Each reads the environment when called, never at import,
so a variable set while a program runs (or by a test's ``monkeypatch``) takes effect at the
next call. An unusable value raises :class:`~irsnn.errors.SettingsError`, whose message names
the variable, its value and what is allowed.

Variables
---------
``IRSNN_DEBUG``
    Diagnostics on stderr, an integer 0..4 (unset or empty: 0). 1 prints the time of every
    pass, 2 also the final IR, 3 also the IR after every pass, 4 also the generated code (C,
    OpenCL or CUDA source, or the reference backend's NumPy code). Read by
    :func:`debug_level`.
``IRSNN_BACKEND``
    The backend used when a compiler is given none: ``c``, ``cuda``, ``opencl`` or
    ``reference`` (unset or empty: the fastest available; ``irsnn backends`` lists them).
    Read by :func:`backend_name`.
``IRSNN_OPENCL_DEVICE``
    The OpenCL device: ``platform:device`` indices (``0:1``) or part of a device's name
    (unset or empty: ``PYOPENCL_CTX``, else the first GPU, else the first CPU device).
    Read by :func:`opencl_device`.
``PYOPENCL_CTX``
    pyopencl's own device choice, used in the same form when ``IRSNN_OPENCL_DEVICE`` is unset.
``IRSNN_WORK_GROUP_SIZE``
    Threads per batch element of the OpenCL and CUDA backends: a positive integer runs each
    example on one work-group (CUDA block) of that many threads, ``0`` on one thread (unset
    or empty: automatic, see :mod:`backends.kernels.simt`). Read by
    :func:`work_group_size`.
``IRSNN_BLOCKS_PER_EXAMPLE``
    Work-groups (CUDA blocks) per batch element of the OpenCL and CUDA backends' SIMT plan: an
    integer >= 1; above 1, each example's neurons and synapses are split over that many blocks,
    one launch per phase of a step (unset or empty: automatic, see
    :mod:`backends.kernels.simt`). Read by :func:`blocks_per_example`.
``CC``
    The C compiler, a name on the ``PATH`` or a path (unset or empty: the first of ``cc``,
    ``gcc``, ``clang`` on the ``PATH``). Read by :func:`c_compiler`.
``IRSNN_MEMORY_LIMIT_MB``
    The memory (MiB, a number > 0) a model may take; a model whose estimated state is larger
    is refused when compiled (unset or empty: the memory available to the process, or on an
    OpenCL/CUDA device). Read by :func:`memory_limit_mb`.
``XDG_CACHE_HOME``
    Where caches live (unset or empty: ``~/.cache``). irsnn keeps compiled artifacts in
    ``$XDG_CACHE_HOME/irsnn/c`` (C libraries) and ``.../irsnn/opencl`` (OpenCL programs),
    never inside the checkout. Read by :func:`cache_root`.
``IRSNN_CACHE_DIR``
    irsnn's cache folder itself (unset or empty: ``$XDG_CACHE_HOME/irsnn``), e.g. when that
    one cannot be written; a folder that cannot be used is replaced by a private temporary one
    for the process, with a warning. Read by :func:`cache_root`.

MPI launchers' variables (read, never set by users for irsnn): the size of the job,
``PMI_SIZE`` (MPICH, Intel MPI, ``srun --mpi=pmi2``), ``OMPI_COMM_WORLD_SIZE`` (Open MPI),
``PMIX_SIZE`` (PMIx) or ``SLURM_STEP_NUM_TASKS`` (an ``srun`` job step), read by
:func:`mpi_job_size`; a process's rank on its node, ``MPI_LOCALRANKID`` (MPICH),
``OMPI_COMM_WORLD_LOCAL_RANK``, ``PMI_LOCAL_RANK`` or ``SLURM_LOCALID``, read by
:func:`mpi_local_rank`.

Written: ``OMP_NUM_THREADS`` (the C backend's OpenMP threads) by :func:`share_cores` when a
data-parallel rank shares its node and the variable is unset; ``TQDM_DISABLE`` by
:func:`quiet_progress_bars` on data-parallel ranks other than 0.

Read by others: the CUDA device is CuPy's current device (``CUDA_VISIBLE_DEVICES`` selects
it); ``OMP_NUM_THREADS`` sets the C backend's OpenMP threads. ``irsnn bench`` and the
benchmarks read ``IRSNN_BENCH_*`` variables (see ``benchmarks/README.md``); the test suite
reads ``IRSNN_CONFORMANCE_BACKENDS``, ``IRSNN_EPROP_BACKENDS`` and ``IRSNN_UPDATE_GOLDEN``.
"""

from __future__ import annotations

import os
from pathlib import Path

from irsnn.errors import SettingsError

__all__ = ["DEBUG_LEVELS", "debug_level", "backend_name", "opencl_device", "c_compiler",
           "cache_root", "memory_limit_mb", "work_group_size", "mpi_job_size", "mpi_local_rank",
           "share_cores", "quiet_progress_bars"]

#: What each ``IRSNN_DEBUG`` level adds.
DEBUG_LEVELS = {0: "nothing", 1: "pass timings", 2: "the final IR",
                3: "the IR after every pass", 4: "the generated kernels"}


def _get(name: str) -> str | None:
    """The variable's value, or None when it is unset or empty."""
    return os.environ.get(name) or None


def debug_level() -> int:
    """``$IRSNN_DEBUG`` as an integer 0..4 (0 when unset or empty).

    Raises
    ------
    SettingsError
        If the value is not an integer from 0 to 4.
    """
    value = _get("IRSNN_DEBUG")
    if value is None:
        return 0
    try:
        level = int(value)
    except ValueError:
        level = None
    if level not in DEBUG_LEVELS:
        levels = ", ".join(f"{k}: {v}" for k, v in DEBUG_LEVELS.items())
        raise SettingsError(f"IRSNN_DEBUG={value!r} is not a debug level; give an integer "
                            f"from 0 to 4, each adding to the one before ({levels}), or unset "
                            f"it")
    return level


def backend_name() -> str | None:
    """``$IRSNN_BACKEND``, or None when unset or empty.

    The name is checked by :func:`irsnn.backends.get_backend`, which knows the backends.
    """
    return _get("IRSNN_BACKEND")


def opencl_device() -> str | None:
    """The OpenCL device asked for: ``$IRSNN_OPENCL_DEVICE``, else ``$PYOPENCL_CTX``, else
    None (the backend chooses)."""
    return _get("IRSNN_OPENCL_DEVICE") or _get("PYOPENCL_CTX")


def c_compiler() -> str | None:
    """``$CC`` (a compiler name or path), or None when unset or empty."""
    return _get("CC")


def cache_root() -> Path:
    """irsnn's cache directory: ``$IRSNN_CACHE_DIR``, else ``$XDG_CACHE_HOME/irsnn`` (default
    ``~/.cache/irsnn``)."""
    own = _get("IRSNN_CACHE_DIR")
    if own:
        return Path(own).expanduser()
    root = _get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "irsnn"


def memory_limit_mb() -> float | None:
    """``$IRSNN_MEMORY_LIMIT_MB``: the memory (MiB) a model may take, or None (unset/empty)."""
    value = _get("IRSNN_MEMORY_LIMIT_MB")
    if value is None:
        return None
    try:
        mb = float(value)
    except ValueError:
        mb = float("nan")
    if not (mb > 0 and mb != float("inf")):
        raise SettingsError(f"IRSNN_MEMORY_LIMIT_MB={value!r} is not a number of MiB > 0; set "
                            f"it to e.g. 4096, or unset it to use the available memory")
    return mb


def _whole_number(value: str | None, name: str, minimum: int, wrong: str) -> int | None:
    """``value`` (of variable ``name``, read by the caller) as an integer >= ``minimum``, or
    None when unset or empty; else a :class:`SettingsError` saying ``name=value`` and then
    ``wrong``."""
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise SettingsError(f"{name}={value!r} {wrong}")
    return number


def work_group_size() -> int | None:
    """``$IRSNN_WORK_GROUP_SIZE`` as an integer >= 0, or None when unset or empty.

    Raises
    ------
    SettingsError
        If the value is not an integer >= 0.
    """
    return _whole_number(_get("IRSNN_WORK_GROUP_SIZE"), "IRSNN_WORK_GROUP_SIZE", 0,
                         "is not a work-group size; give the threads per batch element as an "
                         "integer >= 1 (0: one thread per batch element), or unset it for the "
                         "automatic choice")


def blocks_per_example() -> int | None:
    """``$IRSNN_BLOCKS_PER_EXAMPLE`` as an integer >= 1, or None when unset or empty.

    Raises
    ------
    SettingsError
        If the value is not an integer >= 1.
    """
    return _whole_number(_get("IRSNN_BLOCKS_PER_EXAMPLE"), "IRSNN_BLOCKS_PER_EXAMPLE", 1,
                         "is not a number of blocks; give the work-groups per batch element as "
                         "an integer >= 1, or unset it for the automatic choice")


def _first_int(names) -> int | None:
    for name in names:
        value = _get(name)
        if value is not None and value.isdigit():
            return int(value)
    return None


def mpi_job_size() -> int:
    """The number of processes an MPI launcher started this one among (1 when not launched by
    one): the largest of ``$PMI_SIZE``, ``$OMPI_COMM_WORLD_SIZE``, ``$PMIX_SIZE`` and
    ``$SLURM_STEP_NUM_TASKS`` that are set."""
    sizes = [_first_int((name,)) for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE",
                                              "SLURM_STEP_NUM_TASKS")]
    return max([1] + [n for n in sizes if n is not None])


def mpi_local_rank() -> int | None:
    """This process's rank among those on its node as the launcher gives it
    (``$MPI_LOCALRANKID``, ``$OMPI_COMM_WORLD_LOCAL_RANK``, ``$PMI_LOCAL_RANK`` or
    ``$SLURM_LOCALID``), or None."""
    return _first_int(("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "PMI_LOCAL_RANK",
                       "SLURM_LOCALID"))


def share_cores(ranks_on_node: int) -> None:
    """Give this process an equal share of the node's cores for OpenMP (sets
    ``OMP_NUM_THREADS`` to cores // ``ranks_on_node``) unless the user set it."""
    if _get("OMP_NUM_THREADS") is None:
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // ranks_on_node))


def quiet_progress_bars() -> None:
    """Switch off tqdm's progress bars in this process (``TQDM_DISABLE=1``)."""
    os.environ["TQDM_DISABLE"] = "1"
