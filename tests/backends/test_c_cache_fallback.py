"""A cache folder irsnn cannot use is replaced by a private temporary one, with one warning;
libraries are written 0644 (less the umask); temporary files of killed builds are cleaned.

Root ignores permissions, so the read-only and unreadable-library cases are skipped where
permissions are not enforced (root with its usual capabilities); a file in the way of the folder
fails for root too.
"""

import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from irsnn.backends import available_backends
from irsnn.backends.native import toolchain
from irsnn.backends.native.toolchain import CacheWarning, load_library
from irsnn.compilers import InferenceCompiler

from ..models import random_spikes, recurrent_alif

pytestmark = pytest.mark.skipif(not available_backends()["c"][0],
                                reason="no C compiler on this machine")

def _permissions_enforced() -> bool:
    """Whether this process is refused a file it may not read: not so for root (euid 0 with
    its usual capabilities), which these cases need to be skipped for."""
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "unreadable"
        probe.write_text("x")
        probe.chmod(0)
        try:
            probe.read_text()
        except PermissionError:
            return True
        return False


as_root = pytest.mark.skipif(not _permissions_enforced(),
                             reason=f"file permissions are not enforced for this user (euid "
                                    f"{os.geteuid() if hasattr(os, 'geteuid') else '?'}: root)")


@pytest.fixture(autouse=True)
def fresh_process_state(monkeypatch):
    """Each test starts as a new process would: no folder known writable, none replaced."""
    monkeypatch.setattr(toolchain, "_FALLBACK", {}, raising=False)
    monkeypatch.setattr(toolchain, "_WRITABLE", set(), raising=False)
    monkeypatch.delenv("IRSNN_CACHE_DIR", raising=False)


def source(n):
    """A one-function library (``n`` makes the source, so the cache key, new)."""
    return f"int irsnn_test_value(void) {{ return {n}; }}\n"


def value(lib):
    return lib.irsnn_test_value()


def build(n, name="cachetest"):
    """Load a new library: ``(its value, its path, the CacheWarnings raised)``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lib, path, _ = load_library(source(n), name)
    return value(lib), path, [w for w in caught if issubclass(w.category, CacheWarning)]


def assert_one_warning(caught, folder, reason):
    assert len(caught) == 1, [str(w.message) for w in caught]
    text = str(caught[0].message)
    assert f"the irsnn cache folder {folder} cannot be used: " in text
    assert reason in text and "IRSNN_CACHE_DIR" in text and "private temporary folder" in text


def test_a_file_in_the_way_of_the_folder(monkeypatch, tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder")
    monkeypatch.setenv("IRSNN_CACHE_DIR", str(blocker))
    got, path, caught = build(101)
    assert got == 101
    assert_one_warning(caught, blocker / "c", "a file is in the way")
    assert str(blocker) in str(caught[0].message) and "remove or move that file" in \
        str(caught[0].message)
    assert path.parent.is_dir() and not path.is_relative_to(tmp_path)
    # the rest of the process uses the same private folder, without another warning
    got, second, caught = build(102)
    assert got == 102 and second.parent == path.parent and caught == []
    assert blocker.read_text() == "not a folder"


def test_a_file_in_the_way_of_a_parent_runs_a_network(monkeypatch, tmp_path):
    """Through the C backend: XDG_CACHE_HOME is a file; the network still runs, correctly."""
    (tmp_path / "xdg").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    network, inp, _, out = recurrent_alif()
    x = random_spikes(2, 20, 20, rate=0.2)
    with pytest.warns(CacheWarning, match="a file is in the way") as caught:
        net = InferenceCompiler(evaluate_timesteps=20, batch_size=2, backend="c")\
            .compile(network)
        y, _ = net.predict({inp: x}, out, callbacks=[])
    assert len([w for w in caught if "cannot be used" in str(w.message)]) == 1
    assert not net.simulation.library_path.is_relative_to(tmp_path)
    ref = InferenceCompiler(evaluate_timesteps=20, batch_size=2, backend="reference")\
        .compile(network)
    y_ref, _ = ref.predict({inp: x}, out, callbacks=[])
    np.testing.assert_allclose(y[out], y_ref[out], rtol=1e-5, atol=1e-6)


@as_root
def test_a_read_only_folder(monkeypatch, tmp_path):
    folder = tmp_path / "ro"
    (folder / "c").mkdir(parents=True)
    (folder / "c").chmod(0o555)
    monkeypatch.setenv("IRSNN_CACHE_DIR", str(folder))
    try:
        got, path, caught = build(103)
    finally:
        (folder / "c").chmod(0o755)
    assert got == 103 and not path.is_relative_to(tmp_path)
    assert_one_warning(caught, folder / "c", "it is not writable (Permission denied)")
    assert "chmod u+rwx" in str(caught[0].message)
    assert list((folder / "c").iterdir()) == []


@as_root
def test_another_users_unreadable_library(monkeypatch, tmp_path):
    """A library under the expected name that this user may not read (as another user's 0600
    build in a shared cache): built again in the private folder, the file left alone."""
    monkeypatch.setenv("IRSNN_CACHE_DIR", str(tmp_path / "mine"))
    _, good, _ = build(104)
    shared = tmp_path / "shared" / "c"
    shared.mkdir(parents=True)
    theirs = shared / good.name
    theirs.write_bytes(good.read_bytes())
    theirs.chmod(0o200)
    monkeypatch.setenv("IRSNN_CACHE_DIR", str(tmp_path / "shared"))
    got, path, caught = build(104)
    assert got == 104 and path.name == good.name and not path.is_relative_to(tmp_path)
    assert_one_warning(caught, shared, f"its file {good.name} cannot be used (Permission denied")
    assert "mode 0200" in str(caught[0].message)
    assert theirs.stat().st_mode & 0o777 == 0o200


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o644)])
def test_libraries_are_written_0644_less_the_umask(monkeypatch, tmp_path, umask, mode):
    monkeypatch.setenv("IRSNN_CACHE_DIR", str(tmp_path))
    old = os.umask(umask)
    try:
        _, path, caught = build(200 + umask)
    finally:
        os.umask(old)
    assert caught == []
    assert path.stat().st_mode & 0o777 == mode
    assert path.with_suffix(".c").stat().st_mode & 0o777 == mode


def test_temporary_files_of_killed_builds_are_cleaned(monkeypatch, tmp_path):
    monkeypatch.setenv("IRSNN_CACHE_DIR", str(tmp_path))
    folder = tmp_path / "c"
    folder.mkdir()
    old = time.time() - toolchain.ORPHAN_AGE - 60
    orphans = [".cachetest-k2j3h4.so.tmp", ".cachetest-a8b9c0.c.tmp", ".model-x1y2z3.so.load",
               "model-0123456789abcdef01234567.c.4242.tmp"]
    recent = [".cachetest-r3c3nt.so.tmp"]  # perhaps a build running in another process
    others = [".cachetest-notes", "keep.so.tmp.txt", "model-0123456789abcdef01234567.so"]
    for name in orphans + recent + others:
        (folder / name).write_text("x")
        if name not in recent:
            os.utime(folder / name, (old, old))
    got, path, caught = build(300)
    assert got == 300 and path.parent == folder and caught == []
    left = {p.name for p in folder.iterdir()}
    assert not left & set(orphans)
    assert set(recent + others) <= left
    # and the build left no temporary file of its own
    assert left == set(recent + others) | {path.name, path.with_suffix(".c").name}
