"""Finding the C compiler, compiling shared libraries, and the on-disk kernel cache.

Requires: nothing but the standard library (a C compiler is optional: :func:`availability`
says why there is none). Provides: :func:`find_compiler`, :func:`load_library` (build or find,
load and verify; used by the C backend and the other native helpers), :func:`cache_dir`
and the compiler/CPU descriptions the backends report.

Artifacts live under ``$XDG_CACHE_HOME/irsnn/c`` (default ``~/.cache/irsnn/c``), named by a
hash of the generated source, the flags, the compiler's version and the CPU model (a library
built with ``-march=native`` must not move to another CPU). Builds write to a temporary file
and ``os.replace`` it into place, so concurrent processes never see a half-written library.

Every load goes through :func:`load_library`, which trusts no file for its name: each built
library exports ``irsnn_cache_key()``, the full cache key it was built for (appended to the
source when it is compiled), and a loaded library must return the key expected; on Linux
the file must also be a complete ELF shared object before ``dlopen`` sees it (a truncated one
would otherwise kill the process with SIGBUS). A cached file that fails (another build copied
under this name, a truncated or corrupt file, a library of an older irsnn without the key) is
rebuilt once, with one :class:`CacheWarning` naming the file and the fault; if the rebuilt one
fails too, :class:`~irsnn.errors.BackendError` says so. ``dlopen`` returns the handle already
loaded under a path (glibc matches the name), so a rebuilt library is loaded through a fresh
hard link (or copy) of it, removed right after loading, and verified libraries are remembered
per path for the rest of the process.

A cache folder irsnn cannot use (read-only, a file in the way, or holding another user's
libraries it cannot read) is replaced, for the rest of the process, by a private temporary
folder (deleted at exit), with one :class:`CacheWarning` naming the folder, the reason and the
fix (:func:`usable_cache_dir`). Libraries are written ``0644`` less the umask's bits (the
owner always reads and writes), so users who share a cache can read each other's builds;
temporary build files have unique names, and those of builds killed before they finished
(older than :data:`ORPHAN_AGE`) are deleted by the next build in the folder.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import hashlib
import os
import platform
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import warnings
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


def _probe(cc: str, code: str, flags: tuple[str, ...] = ()) -> str | None:
    """Build ``code`` into a throw-away shared library with ``cc``: None when it builds, else
    what went wrong (the command and its output)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "probe.c"
        src.write_text(code)
        cmd = [cc, *flags, "-fPIC", "-shared", "-o", str(Path(tmp) / "probe.so"), str(src)]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        except OSError as exc:
            return f"running {' '.join(cmd)!r} failed ({exc})"
    if out.returncode == 0:
        return None
    said = (out.stderr or out.stdout).strip() or "no output"
    return f"{' '.join(cmd)!r} exited with {out.returncode} ({said})"


def _compiler_fault(cc: str) -> str | None:
    """Why ``cc`` cannot build even a one-line shared library (None when it can): tells a
    broken compiler from generated code it rejects."""
    fault = _probe(cc, "int irsnn_probe(void) { return 1; }\n")
    return None if fault is None else f"building a one-line library with {fault}"


@functools.cache
def openmp_flags(cc: str) -> tuple[str, ...]:
    """``-fopenmp`` if the compiler accepts it, else nothing (single-threaded)."""
    code = "#include <omp.h>\nint f(void) { return omp_get_max_threads(); }\n"
    return OPENMP if _probe(cc, code, OPENMP) is None else ()


def availability() -> tuple[bool, str]:
    cc = find_compiler()
    if cc is None:
        return False, ("no C compiler found (install gcc or set CC); use backend='reference' "
                       "instead")
    return True, ""


#: the function every built library exports: it returns the cache key it was built for
KEY_SYMBOL = "irsnn_cache_key"


class CacheWarning(UserWarning):
    """A cached library failed verification and was rebuilt, or the cache folder cannot be
    used and a private temporary one replaces it (see :func:`load_library`)."""


#: temporary build files older than this (seconds) were left by builds killed before the end
ORPHAN_AGE = 15 * 60
#: names of irsnn's temporary files in a cache folder (sources, libraries, load links, probes)
_TEMP_NAME = re.compile(r"^\..+\.(c\.tmp|so\.tmp|so\.load|probe\.tmp)$|^.+\.c\.\d+\.tmp$")
#: configured cache folder -> the private temporary folder used instead, for this process
_FALLBACK: dict[str, Path] = {}
#: cache folders found writable in this process
_WRITABLE: set[str] = set()


def _umask() -> int:
    """The process's umask (from /proc on Linux, without changing it; else set and restored)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode of the files irsnn caches: ``0644`` less the umask, always owner read/write."""
    return (0o644 & ~_umask()) | 0o600


def _folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot hold the cache (None when it can): it is created if missing, and a
    temporary file is written to it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        return f"a file is in the way ({exc.filename or folder} is a file, not a folder)"
    except NotADirectoryError as exc:
        return f"a file is in the way ({exc.filename or folder} has a file among its parents)"
    except OSError as exc:
        return f"it cannot be created ({exc.strerror or exc})"
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".irsnn-", suffix=".probe.tmp")
    except OSError as exc:
        return f"it is not writable ({exc.strerror or exc})"
    os.close(fd)
    os.unlink(probe)
    return None


def _fall_back(folder: Path, problem: str, fix: str) -> Path:
    """The private temporary folder that replaces ``folder`` for this process (made, and
    announced by one :class:`CacheWarning`, on the first call)."""
    private = _FALLBACK.get(str(folder))
    if private is None:
        private = Path(tempfile.mkdtemp(prefix=f"irsnn-{folder.name or 'cache'}-"))
        atexit.register(shutil.rmtree, private, True)
        _FALLBACK[str(folder)] = private
        warnings.warn(
            f"the irsnn cache folder {folder} cannot be used: {problem}; this process builds "
            f"into a private temporary folder {private} instead (deleted at exit, so the next "
            f"run builds again). To fix it: {fix}, or set IRSNN_CACHE_DIR to a folder of your "
            "own", CacheWarning, stacklevel=4)
    return private


def usable_cache_dir(folder: Path) -> Path:
    """``folder``, created if missing, when irsnn can write there; else the private temporary
    folder that replaces it for the rest of the process (see the module docstring)."""
    key = str(folder)
    if key in _FALLBACK:
        return _FALLBACK[key]
    if key in _WRITABLE and folder.is_dir():
        return folder
    problem = _folder_problem(folder)
    if problem is None:
        _WRITABLE.add(key)
        return folder
    fix = ("remove or move that file" if "in the way" in problem else
           f"give yourself write permission on it (chmod u+rwx {folder}, or ask its owner)")
    return _fall_back(folder, problem, fix)


def _unreadable(path: Path, exc: OSError) -> tuple[str, str]:
    """``(problem, fix)`` for a cached file this user may not read or replace."""
    try:
        st = os.stat(path)
        whose = f"owned by user {st.st_uid}, mode {st.st_mode & 0o777:04o}"
    except OSError:
        whose = "not accessible"
    problem = (f"its file {path.name} cannot be used ({exc.strerror or exc}; {whose}: a build of "
               "another user?)")
    return problem, (f"ask the owner to make its files readable (chmod a+r {path.parent}/*.so; "
                     "irsnn writes them 0644) or delete them")


def _clean_orphans(folder: Path) -> None:
    """Delete irsnn's temporary files in ``folder`` older than :data:`ORPHAN_AGE` (left by
    builds that were killed); files that cannot be deleted are left alone."""
    limit = time.time() - ORPHAN_AGE
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if _TEMP_NAME.match(entry.name):
            try:
                if entry.stat(follow_symlinks=False).st_mtime < limit:
                    os.unlink(entry.path)
            except OSError:
                pass


#: path of a verified library -> (its cache key, its ``dlopen`` handle), for this process
_LOADED: dict[str, tuple[str, int]] = {}


def _artifact(source: str, name: str) -> tuple[str, tuple[str, ...], str, Path]:
    """``(compiler, flags, cache key, library path)`` of ``source`` built as ``name``."""
    cc = find_compiler()
    if cc is None:
        raise BackendUnavailableError(availability()[1])
    flags = FLAGS + openmp_flags(cc)
    key = hashlib.sha256("\0".join([source, " ".join(flags), compiler_version(cc),
                                    cpu_model()]).encode()).hexdigest()
    folder = usable_cache_dir(cache_dir())
    return cc, flags, key, folder / f"{name}-{key[:24]}.so"


def _compile(cc: str, flags: tuple[str, ...], key: str, lib: Path, source: str) -> None:
    """Build ``source``, stamped with ``key``, into ``lib`` (atomically)."""
    folder, name = lib.parent, lib.name[:-len(".so")].rsplit("-", 1)[0]
    _clean_orphans(folder)
    src = lib.with_suffix(".c")
    mode = file_mode()
    fd, tmp_src = tempfile.mkstemp(dir=folder, prefix=f".{name}-", suffix=".c.tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(f'{source}\n/* the build this library belongs to, checked on every load */'
                    f'\nconst char *{KEY_SYMBOL}(void) {{ return "{key}"; }}\n')
        os.chmod(tmp_src, mode)
        os.replace(tmp_src, src)
    finally:
        if os.path.exists(tmp_src):
            os.unlink(tmp_src)
    fd, tmp_lib = tempfile.mkstemp(dir=folder, prefix=f".{name}-", suffix=".so.tmp")
    os.close(fd)
    try:
        cmd = [cc, *flags, "-o", tmp_lib, str(src), "-lm"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            said = (out.stderr or out.stdout).strip() or "(no output)"
            broken = _compiler_fault(cc)
            if broken is not None:
                raise BackendError(
                    f"the C compiler {cc} does not work: {broken}; set CC to a working C "
                    f"compiler (or install gcc), or use backend='reference'")
            raise BackendError(
                f"the C compiler failed on the generated source {src} (this is a bug in irsnn: "
                f"please report it with that file); the command was {' '.join(cmd)!r}, which "
                f"exited with {out.returncode}:\n{said}")
        os.chmod(tmp_lib, mode)
        os.replace(tmp_lib, lib)
    finally:
        if os.path.exists(tmp_lib):
            os.unlink(tmp_lib)


def _elf_problem(path: Path) -> str | None:
    """Why ``path`` is not a complete ELF shared object, or None (checked on Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    with open(path, "rb") as f:
        data = f.read(64)
        size = os.fstat(f.fileno()).st_size
        if len(data) < 52 or data[:4] != b"\x7fELF" or data[4] not in (1, 2) or \
                data[5] not in (1, 2):
            return "is not an ELF shared library"
        end = "<" if data[5] == 1 else ">"
        if len(data) < (64 if data[4] == 2 else 52):
            return f"is truncated ({size} bytes)"
        if data[4] == 2:
            e_type, phoff, shoff, phentsize, phnum, shentsize, shnum = (
                struct.unpack(end + "H", data[16:18]) + struct.unpack(end + "QQ", data[32:48]) +
                struct.unpack(end + "HHHH", data[54:62]))
            ph, fields = "IIQQQQQQ", (0, 2, 5)  # p_type, p_offset, p_filesz
        else:
            e_type, phoff, shoff, phentsize, phnum, shentsize, shnum = (
                struct.unpack(end + "H", data[16:18]) + struct.unpack(end + "II", data[28:36]) +
                struct.unpack(end + "HHHH", data[42:50]))
            ph, fields = "IIIIIIII", (0, 1, 4)
        if e_type != 3:
            return "is not an ELF shared library (not of type ET_DYN)"
        need = max(phoff + phnum * phentsize, shoff + shnum * shentsize)
        if phoff + phnum * phentsize <= size and phentsize >= struct.calcsize(end + ph):
            f.seek(phoff)
            table = f.read(phnum * phentsize)
            for k in range(phnum):
                entry = struct.unpack_from(end + ph, table, k * phentsize)
                if entry[fields[0]] == 1:  # PT_LOAD
                    need = max(need, entry[fields[1]] + entry[fields[2]])
    if size < need:
        return f"is truncated ({size} bytes, its headers need {need})"
    return None


def _open(path: Path, key: str, fresh: bool) -> tuple[ctypes.CDLL | None, str | None]:
    """Load ``path`` and check its key: ``(library, None)`` or ``(None, what is wrong)``.

    ``fresh`` loads it through a new name, in case a different file was loaded under ``path``
    earlier in this process (``dlopen`` would return that one).
    """
    problem = _elf_problem(path)
    if problem:
        return None, problem
    link = None
    try:
        if fresh:
            fd, link = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-",
                                        suffix=".so.load")
            os.close(fd)
            os.unlink(link)
            try:
                os.link(path, link)
            except OSError:
                shutil.copyfile(path, link)
        lib = ctypes.CDLL(link or str(path))
    except OSError as e:
        return None, f"cannot be loaded ({e})"
    finally:
        if link and os.path.exists(link):
            os.unlink(link)
    try:
        stamp = getattr(lib, KEY_SYMBOL)
    except AttributeError:
        return None, (f"has no {KEY_SYMBOL}() (a library of another program or of an older "
                      "irsnn)")
    stamp.restype, stamp.argtypes = ctypes.c_char_p, []
    got = (stamp() or b"").decode("ascii", "replace")
    if got != key:
        return None, f"was built for another source (its key {got[:24]!r}, expected {key[:24]!r})"
    return lib, None


def load_library(source: str, name: str) -> tuple[ctypes.CDLL, Path, bool]:
    """Compile ``source`` (or find it in the cache) and load it, verified:
    ``(library, path of the .so, cache hit)``.

    A cached file that is not this build (see the module docstring) is rebuilt once, with a
    :class:`CacheWarning`; :class:`~irsnn.errors.BackendError` if the rebuilt one fails too.
    """
    cc, flags, key, path = _artifact(source, name)
    try:
        return _load(cc, flags, key, path, source)
    except PermissionError as exc:  # another user's file, not readable or not replaceable
        problem, fix = _unreadable(Path(exc.filename2 or exc.filename or path), exc)
        private = _fall_back(path.parent, problem, fix)
        return _load(cc, flags, key, private / path.name, source)


def _load(cc: str, flags: tuple[str, ...], key: str, path: Path,
          source: str) -> tuple[ctypes.CDLL, Path, bool]:
    """:func:`load_library` in the cache folder of ``path``."""
    known = _LOADED.get(str(path))
    if known is not None and known[0] == key:  # a new object (own attributes), same handle
        return ctypes.CDLL(str(path), handle=known[1]), path, True
    hit = path.exists()
    if not hit:
        _compile(cc, flags, key, path, source)
    lib, problem = _open(path, key, fresh=False)
    if problem is not None:
        warnings.warn(f"cached library {path} {problem}; rebuilding it", CacheWarning,
                      stacklevel=3)
        _compile(cc, flags, key, path, source)
        hit = False
        lib, again = _open(path, key, fresh=True)
        if again is not None:
            raise BackendError(
                f"the library {path}, just rebuilt, {again}: check the C compiler ({cc}) and "
                f"that nothing else writes to {path.parent}, then delete that folder and run "
                "again")
    _LOADED[str(path)] = (key, lib._handle)
    return lib, path, hit
