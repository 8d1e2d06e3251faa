"""Package layout: ``passes/`` and ``backends/`` install as ``irsnn.passes`` and ``irsnn.backends``.

Everything else is declared in ``pyproject.toml``.
"""
from setuptools import find_packages, setup

_ROOTS = {"irsnn": "irsnn", "irsnn.passes": "passes", "irsnn.backends": "backends"}

packages = []
for name, folder in _ROOTS.items():
    packages.append(name)
    packages += [f"{name}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=_ROOTS)
