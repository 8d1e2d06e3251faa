"""Finding the C compiler, compiling shared libraries, and the on-disk kernel cache.

Requires: nothing but the standard library (a C compiler is optional: :func:`availability`
says why there is none). Provides: :func:`find_compiler`, :func:`build_library` (used by the C
backend and the other native helpers), :func:`cache_dir` and the compiler/CPU descriptions
the backends report.

Artifacts live under ``$XDG_CACHE_HOME/irsnn/c`` (default ``~/.cache/irsnn/c``), named by a
hash of the generated source, the flags, the compiler's version and the CPU model (a library
built with ``-march=native`` must not move to another CPU). Builds write to a temporary file
and ``os.replace`` it into place, so concurrent processes never see a half-written library.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

from irsnn import settings
from irsnn.errors import BackendError, BackendUnavailableError

FLAGS = ("-O3", "-march=native", "-fPIC", "-shared", "-std=c99", "-ffp-contract=off",
         "-fno-math-errno")
OPENMP = ("-fopenmp",)


def cache_dir() -> Path:
    """Where compiled libraries are cached: ``$XDG_CACHE_HOME/irsnn/c`` (see
    :func:`irsnn.settings.cache_root`)."""
    return settings.cache_root() / "c"


def find_compiler() -> str | None:
    """``$CC`` if set, else the first of cc, gcc, clang on the PATH."""
    cc = settings.c_compiler()
    if cc:
        return shutil.which(cc)
    for name in ("cc", "gcc", "clang"):
        path = shutil.which(name)
        if path:
            return path
    return None


@functools.cache
def compiler_version(cc: str) -> str:
    out = subprocess.run([cc, "--version"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else cc


@functools.cache
def cpu_model() -> str:
    """The CPU model and its feature flags (what ``-march=native`` depends on)."""
    model, flags = platform.processor() or platform.machine(), ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key = line.split(":", 1)[0].strip()
            if key in ("model name", "Model") and not model.startswith("model:"):
                model = "model:" + line.split(":", 1)[1].strip()
            elif key in ("flags", "Features") and not flags:
                flags = hashlib.sha256(line.encode()).hexdigest()[:16]
    except OSError:
        pass
    return f"{platform.machine()} {model} {flags}"


def cpu_name() -> str:
    """A readable CPU name (``model name`` of /proc/cpuinfo, else the machine type)."""
    model = cpu_model().split(" ", 1)[1]
    return model.split("model:", 1)[1].rsplit(" ", 1)[0] if "model:" in model else \
        platform.machine()


@functools.cache
def openmp_flags(cc: str) -> tuple[str, ...]:
    """``-fopenmp`` if the compiler accepts it, else nothing (single-threaded)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "omp.c"
        src.write_text("#include <omp.h>\nint f(void) { return omp_get_max_threads(); }\n")
        ok = subprocess.run([cc, *OPENMP, "-fPIC", "-shared", "-o", str(Path(tmp) / "o.so"),
                             str(src)], capture_output=True, check=False).returncode == 0
    return OPENMP if ok else ()


def availability() -> tuple[bool, str]:
    cc = find_compiler()
    if cc is None:
        return False, ("no C compiler found (install gcc or set CC); use backend='reference' "
                       "instead")
    return True, ""


def build_library(source: str, name: str) -> tuple[Path, bool]:
    """Compile ``source`` (or find it in the cache): ``(path of the .so, cache hit)``."""
    cc = find_compiler()
    if cc is None:
        raise BackendUnavailableError(availability()[1])
    flags = FLAGS + openmp_flags(cc)
    key = hashlib.sha256("\0".join([source, " ".join(flags), compiler_version(cc),
                                    cpu_model()]).encode()).hexdigest()
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    lib = folder / f"{name}-{key[:24]}.so"
    if lib.exists():
        return lib, True
    src = folder / f"{name}-{key[:24]}.c"
    tmp_src = src.with_name(f"{src.name}.{os.getpid()}.tmp")
    tmp_src.write_text(source)
    os.replace(tmp_src, src)
    fd, tmp_lib = tempfile.mkstemp(dir=folder, prefix=f".{name}-", suffix=".so.tmp")
    os.close(fd)
    try:
        out = subprocess.run([cc, *flags, "-o", tmp_lib, str(src), "-lm"], capture_output=True,
                             text=True, check=False)
        if out.returncode != 0:
            raise BackendError(
                f"the C compiler failed on the generated source {src} (this is a bug in irsnn: "
                f"please report it with that file):\n{out.stderr.strip()}")
        os.replace(tmp_lib, lib)
    finally:
        if os.path.exists(tmp_lib):
            os.unlink(tmp_lib)
    return lib, False
