"""Losses written as an mlGeNN user writes them (``add_to_neuron`` adds state and code to the
output neuron model, ``set_target`` writes each batch's labels into it), for the tests of
mlGeNN's loss hooks (``test_model_loss.py``, ``tests/conformance/test_training.py``)."""

from __future__ import annotations

import numpy as np

from irsnn.losses import Loss, SparseCategoricalCrossentropy


class StepTargets(Loss):
    """Squared error to one target per neuron and timestep, held in an extra global parameter
    of ``batch x timesteps x neurons`` values and indexed in the code by batch, step and id."""

    def add_to_neuron(self, model, shape, batch_size, example_timesteps):
        size = batch_size * example_timesteps * int(np.prod(shape))
        model.add_egp("Targets", "scalar*", np.empty(size, dtype=np.float32))
        model.append_sim_code(f"""
            const unsigned int step = (unsigned int)round(t / dt);
            const unsigned int at = (((batch * {example_timesteps}) + step) * num_neurons) + id;
            const scalar yTrue = Targets[at];
            """)

    def set_target(self, genn_pop, y_true, shape, batch_size, example_timesteps):
        y_true = np.asarray(y_true, dtype=np.float32)
        want = (batch_size, example_timesteps) + tuple(shape)
        if y_true.shape != want:
            raise RuntimeError(f"StepTargets: targets must be {want}, got {y_true.shape}")
        genn_pop.extra_global_params["Targets"].view[:] = y_true.reshape(-1)
        genn_pop.extra_global_params["Targets"].push_to_device()


class ClassLabel(SparseCategoricalCrossentropy):
    """Cross-entropy against a class label held in a narrow integer variable shared by the
    neurons of each batch row (one-hot formed in the code); softmax because it derives from
    SparseCategoricalCrossentropy."""

    def add_to_neuron(self, model, shape, batch_size, example_timesteps):
        model.add_var("Label", "uint8_t", 0, "READ_ONLY_SHARED_NEURON")
        model.append_sim_code("const scalar yTrue = (id == Label) ? 1.0 : 0.0;")

    def set_target(self, genn_pop, y_true, shape, batch_size, example_timesteps):
        y_true = np.asarray(y_true)
        view = genn_pop.vars["Label"].view
        if batch_size == 1:
            view[:] = y_true
        else:
            view[:len(y_true), 0] = y_true
        genn_pop.vars["Label"].push_to_device()


class RampTargets(Loss):
    """Error ``V - Gain * (id + 1) * t / T``: a target computed by the code from a per-neuron
    variable, the timestep and the neuron id (no softmax)."""

    def add_to_neuron(self, model, shape, batch_size, example_timesteps):
        model.add_var("Gain", "scalar", 0.0)
        model.append_sim_code(
            f"const scalar yTrue = Gain * (scalar)(id + 1) * t / {float(example_timesteps)};")

    def set_target(self, genn_pop, y_true, shape, batch_size, example_timesteps):
        view = genn_pop.vars["Gain"].view
        view.reshape(batch_size, -1)[:len(y_true)] = np.asarray(y_true).reshape(len(y_true), -1)
        genn_pop.vars["Gain"].push_to_device()
