"""Layering of the shared helpers: backends/native/ sits below every backend, the reference
backend (the oracle) depends on no other backend, and settings and the language import nothing
from passes or backends."""

import pytest

from ..layering import ROOT, module_imports as _imports


def _files(*parts):
    path = ROOT.joinpath(*parts)
    return [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))


@pytest.mark.parametrize("where, forbidden", [
    (("backends", "reference"), ("irsnn.backends.c", "irsnn.backends.opencl",
                                 "irsnn.backends.cuda")),
    (("backends", "host_init.py"), ("irsnn.backends.c", "irsnn.backends.opencl",
                                    "irsnn.backends.cuda")),
    (("backends", "native"), ("irsnn.backends.c", "irsnn.backends.opencl", "irsnn.backends.cuda",
                              "irsnn.backends.reference", "irsnn.backends.kernels")),
    (("backends", "opencl"), ("irsnn.backends.c", "irsnn.backends.cuda")),
    (("backends", "cuda"), ("irsnn.backends.c", "irsnn.backends.opencl")),
    (("irsnn", "settings.py"), ("irsnn.passes", "irsnn.backends")),
    (("irsnn", "lang"), ("irsnn.passes", "irsnn.backends")),
])
def test_no_import_upward_or_sideways(where, forbidden):
    for path in _files(*where):
        bad = sorted(m for m in _imports(path)
                     if any(m == f or m.startswith(f + ".") for f in forbidden))
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_resolver_sees_relative_imports():
    """The check above would pass vacuously if relative imports were not resolved."""
    assert "irsnn.backends.native.toolchain.load_library" in _imports(
        ROOT / "backends" / "c" / "simulation.py")
    assert "irsnn.backends.native.toolchain" in _imports(ROOT / "backends" / "c" / "__init__.py")
    assert "irsnn.backends.native.rng.philox_words" in _imports(ROOT / "backends" /
                                                                 "host_init.py")


def test_kernel_and_host_types_come_from_the_one_table():
    import numpy as np

    from irsnn.backends.host_init import numpy_type
    from irsnn.backends.kernels.builder import ctype
    from irsnn.errors import ModelError
    from irsnn.lang.types import TYPES
    for spelled in ("scalar", "float", "double", "int", "int32_t", "unsigned", "uint32_t",
                    "unsigned int", "bool"):
        info = TYPES[{"scalar": "float", "unsigned": "unsigned int", "uint32_t": "unsigned int",
                      "int32_t": "int"}.get(spelled, spelled)]
        assert numpy_type(spelled) is info.dtype and ctype(spelled, "float") == info.c_name
    assert numpy_type("scalar", "double") is np.float64 and ctype("scalar", "double") == "double"
    with pytest.raises(ModelError, match="unknown type 'half'"):
        numpy_type("half")
