"""``irsnn bench``: backend-comparison benchmarks and side-by-side peers in one run (issue 8).

One run produces one table (JSON + Markdown + a PNG bar chart when matplotlib is installed):

* **inference** (``CompiledInferenceNetwork.predict`` of one batch) and **e-prop training**
  (``CompiledTrainingNetwork.train`` of one batch: forward pass, event-driven gradients, one
  Adam step; ``training-online`` entries of :func:`run_irsnn` use the per-synapse online rule)
  of the workloads, on every requested backend;
* the same architecture, input and timesteps on the **peers** (Norse and snnTorch on PyTorch
  CPU: forward and BPTT training; Brian2: inference), each optional and skipped with a reason
  (their code lives in ``benchmarks/peers/`` of a source checkout);
* a **propagation microbenchmark** (synaptic events/s vs connection density and input rate);
* **build time** cold (fresh kernel cache) and warm (cache hit) of ALIF512R;
* a STREAM-like **triad** measured in the same run (:mod:`irsnn.bench.triad`), so the memory
  traffic of each run is given as a fraction of it.

The package, one module per concept (each module's docstring has the details):

* :mod:`~irsnn.bench.workloads`: the networks, weights, input spikes and run sizes;
* :mod:`~irsnn.bench.measure`: time, peak memory, synaptic events, memory traffic, the triad
  reference, and the machine and backend descriptions (and what each figure means);
* :mod:`~irsnn.bench.peers`: loading and running Norse, snnTorch and Brian2;
* :mod:`~irsnn.bench.runner`: the irsnn entries, propagation, build time and :func:`run_bench`;
* :mod:`~irsnn.bench.report`: ratios, the Markdown table, the chart and the files written;
* :mod:`~irsnn.bench.triad`: the triad kernel (``python -m irsnn.bench.triad``);
* :mod:`~irsnn.bench.environment`: the environment variables the bench reads and sets.

Requires NumPy and irsnn; provides (re-exported here) every name callers use as
``from irsnn.bench import ...``. This module only re-exports.
"""

from __future__ import annotations

from .measure import (backend_info, learning_bytes, machine_info, measure_triad, peak_memory,
                      throughput, timed_rounds)
from .peers import PEERS, load_peer, peers_dir, run_peer
from .report import describe_entry, markdown, plot, ratios, write_outputs
from .runner import SLOW_BACKENDS, run_bench, run_build_time, run_irsnn, run_propagation
from .workloads import (DT, INPUT_RATE_HZ, NEURON, NUM_OUTPUT, SIZES, SPARSE_P, WORKLOADS, Size,
                        Workload, build_network, layer_names, make_spec, max_spikes_for,
                        poisson_input, preprocessed)

__all__ = ["run_bench", "run_irsnn", "run_peer", "run_propagation", "run_build_time",
           "measure_triad", "describe_entry", "markdown", "plot", "ratios", "write_outputs",
           # workloads
           "DT", "INPUT_RATE_HZ", "NEURON", "NUM_OUTPUT", "SIZES", "SPARSE_P", "WORKLOADS",
           "Size", "Workload", "build_network", "layer_names", "make_spec", "max_spikes_for",
           "poisson_input", "preprocessed",
           # measurement
           "backend_info", "learning_bytes", "machine_info", "peak_memory", "throughput",
           "timed_rounds",
           # peers and the runner
           "PEERS", "SLOW_BACKENDS", "load_peer", "peers_dir"]
