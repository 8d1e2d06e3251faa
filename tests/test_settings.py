"""irsnn.settings: every environment variable read in one place, at call time, checked."""

import ast
import re
from pathlib import Path

import pytest

from irsnn import settings
from irsnn.errors import SettingsError, UnknownNameError

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize("value, level", [(None, 0), ("", 0), ("0", 0), ("3", 3), (" 4 ", 4)])
def test_debug_level(monkeypatch, value, level):
    if value is None:
        monkeypatch.delenv("IRSNN_DEBUG", raising=False)
    else:
        monkeypatch.setenv("IRSNN_DEBUG", value)
    assert settings.debug_level() == level


@pytest.mark.parametrize("value", ["abc", "5", "-1", "2.0"])
def test_bad_debug_level_names_variable_value_and_levels(monkeypatch, value):
    monkeypatch.setenv("IRSNN_DEBUG", value)
    with pytest.raises(SettingsError, match=rf"IRSNN_DEBUG={re.escape(repr(value))} .*0 to 4"):
        settings.debug_level()
    with pytest.raises(ValueError, match="IRSNN_DEBUG"):  # also where the pipeline reads it
        from irsnn.passes.pipeline import Pipeline
        Pipeline([])


def test_backend_and_devices(monkeypatch):
    for name in ("IRSNN_BACKEND", "IRSNN_OPENCL_DEVICE", "PYOPENCL_CTX", "CC"):
        monkeypatch.delenv(name, raising=False)
    assert settings.backend_name() is None and settings.opencl_device() is None
    assert settings.c_compiler() is None
    monkeypatch.setenv("IRSNN_BACKEND", "reference")
    monkeypatch.setenv("PYOPENCL_CTX", "0:0")
    monkeypatch.setenv("CC", "gcc")
    assert settings.backend_name() == "reference" and settings.opencl_device() == "0:0"
    assert settings.c_compiler() == "gcc"
    monkeypatch.setenv("IRSNN_OPENCL_DEVICE", "pthread")
    assert settings.opencl_device() == "pthread"


def test_unknown_backend_from_the_environment_says_so(monkeypatch):
    from irsnn.backends import get_backend
    monkeypatch.setenv("IRSNN_BACKEND", "fortran")
    with pytest.raises(UnknownNameError, match=r"'fortran' \(from \$IRSNN_BACKEND"):
        get_backend(None)
    with pytest.raises(UnknownNameError, match=r"unknown backend 'fortran'; valid"):
        get_backend("fortran")


def test_cache_root(monkeypatch, tmp_path):
    monkeypatch.delenv("IRSNN_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert settings.cache_root() == tmp_path / "irsnn"
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert settings.cache_root() == tmp_path / "home" / ".cache" / "irsnn"
    monkeypatch.setenv("IRSNN_CACHE_DIR", str(tmp_path / "own"))
    assert settings.cache_root() == tmp_path / "own"


def test_every_variable_is_documented_and_read_only_here():
    source = (ROOT / "irsnn" / "settings.py").read_text()
    read = set(re.findall(r'_get\("([A-Z_]+)"\)', source))
    assert read == {"IRSNN_DEBUG", "IRSNN_BACKEND", "IRSNN_OPENCL_DEVICE", "PYOPENCL_CTX", "CC",
                    "XDG_CACHE_HOME", "IRSNN_CACHE_DIR", "OMP_NUM_THREADS",
                    "IRSNN_MEMORY_LIMIT_MB", "IRSNN_WORK_GROUP_SIZE",
                    "IRSNN_BLOCKS_PER_EXAMPLE"}
    launchers = set(re.findall(r'"([A-Z_]+)"', source[source.index("def mpi_job_size"):]))
    assert launchers - {"OMP_NUM_THREADS", "TQDM_DISABLE"} == {
        "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "SLURM_STEP_NUM_TASKS",
        "MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "PMI_LOCAL_RANK", "SLURM_LOCALID"}
    assert all(f"``{name}``" in settings.__doc__ for name in launchers)
    assert all(f"``{name}``" in settings.__doc__ for name in read)
    # Nothing else in the library reads the environment (irsnn.bench records its own)
    for folder in ("irsnn", "passes", "backends"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "settings.py" or "bench" in path.relative_to(ROOT).parts:
                continue
            tree = ast.parse(path.read_text())
            names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
            assert not names & {"environ", "getenv"}, f"{path} reads the environment"
