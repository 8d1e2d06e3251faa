"""Shared helpers for the model/API tests."""

import numpy as np
import pytest


class FakeState:
    """Minimal stand-in for the runtime's input state object."""

    def __init__(self, dt=1.0, example_timesteps=None, name="inp", timestep=0,
                 scalar=np.float32):
        self.dt = dt
        self.example_timesteps = example_timesteps
        self.name = name
        self.timestep = timestep
        self.scalar = np.dtype(scalar)
        self.vars = {}
        self.egps = {}

    def set_var(self, name, array):
        self.vars[name] = np.array(array)

    def set_egp(self, name, array):
        self.egps[name] = np.array(array)

    def spike_schedule(self, end_spikes, spike_times):
        from irsnn.utils.data import spike_schedule
        return spike_schedule(end_spikes, spike_times, self.timestep, self.dt, self.scalar)


@pytest.fixture
def state():
    return FakeState()


@pytest.fixture
def make_state():
    """Factory for :class:`FakeState` objects."""
    return FakeState
