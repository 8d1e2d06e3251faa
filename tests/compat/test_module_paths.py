"""mlGeNN's public modules, file for file, under ``irsnn``: each module imports by mlGeNN's
path and holds the names scripts import from it.

The list below is data, read off mlGeNN's source tree (``ml_genn/ml_genn/**.py``): module path
-> the public names irsnn provides there. ``NOT_PROVIDED`` lists mlGeNN's modules irsnn does not
have and ``NOT_PROVIDED_NAMES`` the names missing from modules it has, each with the reason; a
test checks that every mlGeNN module is in exactly one of the first two lists, so a module added
to either side must be accounted for here.
"""

import importlib

import pytest

#: mlGeNN module (without the ``ml_genn`` prefix) -> names importable from it in irsnn
PROVIDED = {
    "": ["Connection", "InputLayer", "Layer", "Network", "Population", "SequentialNetwork",
         "callbacks", "communicators", "compilers", "connectivity", "initializers", "losses",
         "metrics", "neurons", "optimisers", "readouts", "serialisers", "synapses"],
    "callbacks": ["Callback", "BatchProgressBar", "Checkpoint", "ConnVarRecorder",
                  "CustomUpdateOnBatchBegin", "CustomUpdateOnBatchEnd",
                  "CustomUpdateOnEpochBegin", "CustomUpdateOnEpochEnd",
                  "CustomUpdateOnTimestepBegin", "CustomUpdateOnTimestepEnd",
                  "OptimiserParamSchedule", "SpikeRecorder", "VarRecorder", "default_callbacks"],
    "callbacks.callback": ["Callback"],
    "callbacks.checkpoint": ["Checkpoint"],
    "callbacks.conn_var_recorder": ["ConnVarRecorder"],
    "callbacks.custom_update": ["CustomUpdate", "CustomUpdateOnBatchBegin",
                                "CustomUpdateOnBatchEnd", "CustomUpdateOnEpochBegin",
                                "CustomUpdateOnEpochEnd", "CustomUpdateOnTimestepBegin",
                                "CustomUpdateOnTimestepEnd"],
    "callbacks.optimiser_param_schedule": ["OptimiserParamSchedule"],
    "callbacks.progress_bar": ["BatchProgressBar"],
    "callbacks.spike_recorder": ["SpikeRecorder"],
    "callbacks.var_recorder": ["VarRecorder"],
    "communicators": ["Communicator", "MPI"],
    "communicators.communicator": ["Communicator"],
    "communicators.mpi": ["MPI"],
    "compilers": ["Compiler", "CompiledNetwork", "CompiledTrainingNetwork", "EPropCompiler",
                  "InferenceCompiler", "CompiledInferenceNetwork"],
    "compilers.compiled_network": ["CompiledNetwork"],
    "compilers.compiled_training_network": ["CompiledTrainingNetwork"],
    "compilers.compiler": ["Compiler"],
    "compilers.deep_r": ["RewiringRecord"],
    "compilers.eprop_compiler": ["EPropCompiler", "default_params"],
    "compilers.inference_compiler": ["InferenceCompiler", "CompiledInferenceNetwork",
                                     "default_params"],
    "connection": ["Connection"],
    "connectivity": ["Connectivity", "Dense", "FixedProbability", "OneToOne", "SparseBase"],
    "connectivity.connectivity": ["Connectivity"],
    "connectivity.dense": ["Dense"],
    "connectivity.fixed_probability": ["FixedProbability"],
    "connectivity.one_to_one": ["OneToOne"],
    "connectivity.sparse_base": ["SparseBase"],
    "initializers": ["Initializer", "Normal", "Uniform"],
    "initializers.initializer": ["Initializer"],
    "initializers.normal": ["Normal"],
    "initializers.uniform": ["Uniform"],
    "layer": ["InputLayer", "Layer"],
    "losses": ["Loss", "MeanSquareError", "SparseCategoricalCrossentropy", "default_losses"],
    "losses.loss": ["Loss"],
    "losses.mean_square_error": ["MeanSquareError"],
    "losses.sparse_categorical_crossentropy": ["SparseCategoricalCrossentropy"],
    "metrics": ["Metric", "MeanSquareError", "SparseCategoricalAccuracy", "default_metrics"],
    "metrics.mean_square_error": ["MeanSquareError"],
    "metrics.metric": ["Metric"],
    "metrics.sparse_categorical_accuracy": ["SparseCategoricalAccuracy"],
    "network": ["Network"],
    "neurons": ["AdaptiveLeakyIntegrateFire", "BinarySpikeInput", "Input", "IntegrateFire",
                "LeakyIntegrate", "LeakyIntegrateFire", "Neuron", "PoissonInput", "SpikeInput",
                "default_neurons"],
    "neurons.adaptive_leaky_integrate_fire": ["AdaptiveLeakyIntegrateFire"],
    "neurons.binary_spike_input": ["BinarySpikeInput"],
    "neurons.input": ["Input", "InputBase"],
    "neurons.integrate_fire": ["IntegrateFire"],
    "neurons.leaky_integrate": ["LeakyIntegrate"],
    "neurons.leaky_integrate_fire": ["LeakyIntegrateFire"],
    "neurons.neuron": ["Neuron"],
    "neurons.poisson_input": ["PoissonInput"],
    "neurons.spike_input": ["SpikeInput"],
    "optimisers": ["Adam", "Optimiser", "default_optimisers"],
    "optimisers.adam": ["Adam"],
    "optimisers.optimiser": ["Optimiser"],
    "population": ["Population"],
    "readouts": ["AvgVar", "FirstSpikeTime", "MaxVar", "Readout", "SpikeCount", "SumVar", "Var",
                 "default_readouts"],
    "readouts.avg_var": ["AvgVar"],
    "readouts.first_spike_time": ["FirstSpikeTime"],
    "readouts.max_var": ["MaxVar"],
    "readouts.readout": ["Readout"],
    "readouts.spike_count": ["SpikeCount"],
    "readouts.sum_var": ["SumVar"],
    "readouts.var": ["Var"],
    "sequential_network": ["SequentialNetwork"],
    "serialisers": ["Numpy", "Serialiser", "default_serialisers"],
    "serialisers.numpy": ["Numpy"],
    "serialisers.serialiser": ["Serialiser"],
    "synapses": ["Delta", "Exponential", "Synapse", "default_synapses"],
    "synapses.delta": ["Delta"],
    "synapses.exponential": ["Exponential"],
    "synapses.synapse": ["Synapse"],
    "utils": [],
    "utils.callback_list": ["CallbackList"],
    "utils.data": ["PreprocessedSpikes", "batch_dataset", "calc_latest_spike_time",
                   "calc_max_spikes", "calc_start_spikes", "generate_yin_yang_dataset",
                   "get_dataset_size", "linear_latency_encode_data", "log_latency_encode_data",
                   "permute_dataset", "preprocess_spikes", "preprocess_tonic_spikes",
                   "preprocess_tonic_spikes_separate", "split_dataset"],
    "utils.decorators": ["network_default_params"],
    "utils.filter": ["ExampleFilter", "ExampleFilterType", "NeuronFilterType",
                     "get_neuron_filter_mask"],
    "utils.model": ["NeuronModel", "SynapseModel", "WeightUpdateModel"],
    "utils.module": ["get_module_classes", "get_object", "get_object_mapping"],
    "utils.network": ["ConnectionType", "PopulationType", "get_network_dag",
                      "get_underlying_conn", "get_underlying_pop"],
    "utils.snippet": ["ConstantValueDescriptor"],
    "utils.value": ["InitValue", "Value", "ValueDescriptor", "get_genn_var_name", "get_values",
                    "is_value_array", "is_value_constant", "is_value_initializer",
                    "set_values"],
}

#: mlGeNN modules irsnn does not provide, with the reason
NOT_PROVIDED = {
    "compilers.event_prop_compiler": "EventProp is issue [eventprop] (another branch)",
    "compilers.few_spike_compiler": "few-spike runtime is item 3 of issue 18 (another branch)",
    "compilers.weight_update_models": "pure GeNN internals: pygenn weight update model dicts",
    "connectivity.avg_pool_2d": "convolutions are a later issue",
    "connectivity.avg_pool_conv_2d": "convolutions are a later issue",
    "connectivity.avg_pool_dense_2d": "convolutions are a later issue",
    "connectivity.conv_2d": "convolutions are a later issue",
    "connectivity.conv_2d_transpose": "convolutions are a later issue",
    "initializers.wrapper": "pure GeNN internals: wraps a pygenn initialisation snippet",
    "losses.relative_mean_square_error": "item 4 of issue 18 (another branch)",
    "neurons.few_spike_relu": "item 3 of issue 18 (another branch)",
    "neurons.few_spike_relu_input": "item 3 of issue 18 (another branch)",
    "neurons.integrate_fire_input": "item 3 of issue 18 (another branch)",
    "neurons.leaky_integrate_fire_input": "item 3 of issue 18 (another branch)",
    "readouts.avg_var_exp_weight": "item 4 of issue 18 (another branch)",
    "utils.connectivity": "2-D convolution geometry helpers: convolutions are a later issue",
}

_GENN = "pure GeNN internals (pygenn model dicts, custom updates or helpers)"
_ALIAS = "typing alias used only in mlGeNN's annotations"
#: names of mlGeNN modules that irsnn provides but does not have there, with the reason
#: (module loggers are left out)
NOT_PROVIDED_NAMES = {
    "callbacks.optimiser_param_schedule": {"ScheduleCallable": _ALIAS},
    "compilers.compiled_network": {"OutputType": _ALIAS},
    "compilers.compiler": {n: _GENN for n in (
        "softmax_1_model", "softmax_2_model", "softmax_3_model", "set_dynamic_param", "set_egp",
        "set_var_egps", "create_reset_custom_update", "create_local_var_refs", "get_delay_type",
        "get_conn_max_delay", "SupportedMatrixType")},
    "compilers.deep_r": {n: _GENN for n in ("deep_r_l1_model", "deep_r_init_model",
                                            "deep_r_1_model", "deep_r_2_model", "add_deep_r")},
    "compilers.eprop_compiler": {n: _GENN for n in (
        "CompileState", "eprop_lif_model", "eprop_alif_model", "output_learning_model",
        "gradient_batch_reduce_model")},
    "compilers.inference_compiler": {"CompileState": _GENN},
    "connection": {"SynapseInitializer": _ALIAS, "ConnectivityInitializer": _ALIAS},
    "metrics": {"MetricType": _ALIAS, "MetricsType": _ALIAS},
    "network": {"SerialiserInitializer": _ALIAS},
    "population": {"NeuronInitializer": _ALIAS},
    "neurons.integrate_fire": {"genn_model": _GENN},
    "neurons.spike_input": {"genn_model": _GENN},
    "optimisers.adam": {"genn_model": _GENN},
    "synapses.delta": {"genn_model": _GENN},
    "utils.data": {"DataDictType": _ALIAS},
    "utils.model": {"EGPValue": _ALIAS,
                    "CustomUpdateModel": "user-defined GeNN custom updates: not yet in irsnn "
                                         "(its resets and optimiser steps are built in)",
                    "CustomConnectivityUpdateModel": "user-defined GeNN custom connectivity "
                                                     "updates: not yet in irsnn (Deep-R's "
                                                     "rewiring is built in)"},
    "utils.module": {"camel_to_snake_pattern": "a regular expression internal to mlGeNN"},
    "utils.snippet": {"ConnectivitySnippet": _GENN, "InitializerSnippet": _GENN},
}

#: every module of mlGeNN's package (``git ls-tree -r --name-only HEAD ml_genn/ml_genn``)
MLGENN_MODULES = sorted(set(PROVIDED) | set(NOT_PROVIDED))


def test_every_mlgenn_module_is_accounted_for_once():
    assert not set(PROVIDED) & set(NOT_PROVIDED)
    assert set(NOT_PROVIDED_NAMES) <= set(PROVIDED)
    assert not any(set(PROVIDED[m]) & set(names) for m, names in NOT_PROVIDED_NAMES.items())
    assert len(MLGENN_MODULES) == 97   # mlGeNN's 97 .py files under ml_genn/ml_genn


@pytest.mark.parametrize("module", sorted(PROVIDED))
def test_module_imports_with_mlgenn_names(module):
    path = "irsnn" + (f".{module}" if module else "")
    mod = importlib.import_module(path)
    missing = [n for n in PROVIDED[module] if not hasattr(mod, n)]
    assert not missing, f"{path} lacks {missing}"
    for name in PROVIDED[module]:   # `from irsnn.x import Name` works as in mlGeNN
        exec(f"from {path} import {name}", {})


def test_reexported_module_gives_the_same_object():
    from irsnn.callbacks import SpikeRecorder
    from irsnn.callbacks.spike_recorder import SpikeRecorder as ByPath
    from irsnn.optimisers import Adam
    from irsnn.optimisers.adam import Adam as AdamByPath
    from irsnn.readouts import AvgVar
    from irsnn.readouts.avg_var import AvgVar as AvgVarByPath
    assert ByPath is SpikeRecorder and AdamByPath is Adam and AvgVarByPath is AvgVar


def test_bare_import_reaches_subpackages():
    import irsnn
    assert irsnn.compilers.eprop_compiler.EPropCompiler.__name__ == "EPropCompiler"
    with pytest.raises(AttributeError, match="no attribute 'no_such_package'"):
        getattr(irsnn, "no_such_package")  # noqa: B009
