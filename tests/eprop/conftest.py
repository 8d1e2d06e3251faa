"""Shared helpers of the e-prop tests: the backend fixture and a build helper.

The independent-reference checks here run on the reference and C backends (or on the
backends named in ``$IRSNN_EPROP_BACKENDS``); every other backend is checked against the
reference by ``tests/conformance/test_training.py``.
"""

from __future__ import annotations

import os

import pytest

from irsnn.backends import available_backends

_BACKENDS = [b.strip() for b in os.environ.get("IRSNN_EPROP_BACKENDS", "reference,c").split(",")
             if b.strip()]


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: longer end-to-end cases")


@pytest.fixture(params=_BACKENDS)
def backend(request):
    ok, why = available_backends()[request.param]
    if not ok:
        pytest.skip(f"backend {request.param!r} unavailable: {why}")
    return request.param


def _build(compiler, network):
    """Compile ``network`` and build its simulation (backends build lazily)."""
    compiled = compiler.compile(network)
    _ = compiled.simulation
    return compiled


@pytest.fixture
def build():
    """The :func:`_build` helper."""
    return _build
