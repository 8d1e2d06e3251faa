"""[hardening] Checkpoints and logs are written atomically; a file cut short is named, not
loaded as garbage or raised as a raw NumPy error."""

import os

import numpy as np
import pytest

from irsnn.errors import InputError
from irsnn.serialisers import Numpy
from irsnn.utils.atomic import atomic_write


def test_an_interrupted_save_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    s = Numpy(str(tmp_path))
    s.serialise(("5", "conn", "g"), np.arange(1000.0))

    def dies(f, arr, *args, **kwargs):      # the process dies half way through writing
        f.write(b"\x93NUMPY partial")
        raise KeyboardInterrupt
    monkeypatch.setattr(np, "save", dies)
    with pytest.raises(KeyboardInterrupt):
        s.serialise(("5", "conn", "g"), np.zeros(1000))
    monkeypatch.undo()
    np.testing.assert_array_equal(s.deserialise(("5", "conn", "g")), np.arange(1000.0))
    assert sorted(os.listdir(tmp_path)) == ["5-conn-g.npy"]     # no temporary file left


def test_a_truncated_array_is_an_error_naming_the_file(tmp_path):
    s = Numpy(str(tmp_path))
    s.serialise(("1", "w"), np.arange(100.0))
    name = tmp_path / "1-w.npy"
    name.write_bytes(name.read_bytes()[:90])
    with pytest.raises(InputError, match=r"1-w\.npy cannot be read .*save it again"):
        s.deserialise(("1", "w"))
    with pytest.raises(InputError, match=r"1-w\.npy cannot be read"):
        s.deserialise_all(("1",))


def test_atomic_write_replaces_only_when_complete(tmp_path):
    target = tmp_path / "log.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_write(target, "w") as f:
            f.write("new, half")
            raise RuntimeError("killed")
    assert target.read_text() == "old\n" and os.listdir(tmp_path) == ["log.csv"]
    with atomic_write(target, "w", newline="") as f:
        f.write("new\n")
    assert target.read_text() == "new\n"
