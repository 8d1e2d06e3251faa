"""Cross-backend conformance harness.

Every case builds the same network twice (a *builder* function returning
``(network, {name: population})``), compiles one copy with ``backend="reference"`` (the oracle)
and the other with the backend under test, runs the same inputs through the public API
(``predict`` or ``evaluate``, with SpikeRecorder / VarRecorder callbacks) and compares
everything that came back: readouts, metrics, spike times and ids, and recorded variables.

Every model of the suite is also compiled for CUDA ``sm_80`` and ``sm_90`` with NVRTC
(:func:`nvrtc_check`; no GPU needed), failing on any error or warning.

The ``backend`` fixture is parametrised over every *available* backend, ``"reference"``
included: the reference-against-reference run keeps the suite collecting (and exercising the
harness: two builds, recorders, filters) on a machine where no other backend exists, and any
new backend registered in :mod:`irsnn.backends` is picked up without editing this file.
Unavailable backends appear as cases skipped with the reason (an OpenCL driver whose devices
cannot build a kernel, say).
``IRSNN_CONFORMANCE_BACKENDS=c,opencl`` restricts the list (unknown or unavailable names fail
loudly instead of being skipped); ``IRSNN_CONFORMANCE_WORK_GROUPS=1,32,256`` runs every case
on OpenCL and CUDA with each of those work-group sizes too (``test_work_groups.py`` runs a
representative subset with them in every run).

Two kinds of comparison (:func:`assert_same`):

* ``exact=True`` - dyadic constants (weights such as 0.25, 0.875, -0.5; thresholds 1.0, 0.75)
  and decays ``exp(-dt/tau)`` computed once in float64 on the host and cast to float32 for
  every backend: all arithmetic is identical, and dyadic synaptic sums are exact in any
  summation order, so spike rasters, state and readouts must be bit-identical
  (``np.testing.assert_array_equal``).
* ``exact=False`` - realistic networks (Normal weights, Poisson input, many neurons): state and
  readouts within ``rtol`` (default 1e-5) over short horizons; spikes are compared exactly
  unless a case says otherwise (a float32 sum in a different order may move a neuron sitting
  on its threshold by one ulp, so realistic cases keep horizons short).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pytest

from irsnn.backends import available_backends
from irsnn.callbacks import SpikeRecorder, VarRecorder
from irsnn.compilers import InferenceCompiler


def _backends_under_test() -> list[str]:
    avail = available_backends()
    wanted = os.environ.get("IRSNN_CONFORMANCE_BACKENDS")
    if wanted:
        names = [n.strip() for n in wanted.split(",") if n.strip()]
        for n in names:
            if n not in avail:
                raise pytest.UsageError(f"IRSNN_CONFORMANCE_BACKENDS names unknown backend "
                                        f"{n!r}; known: {sorted(avail)}")
            if not avail[n][0]:
                raise pytest.UsageError(f"IRSNN_CONFORMANCE_BACKENDS names backend {n!r}, "
                                        f"which is unavailable: {avail[n][1]}")
        return names
    return [name for name, (ok, _) in avail.items() if ok]


BACKENDS = _backends_under_test()

#: CUDA architectures every conformance model is compiled for with NVRTC (no GPU needed)
NVRTC_ARCHS = ("sm_80", "sm_90")
_nvrtc_done: set[str] = set()


def nvrtc_check(ir) -> None:
    """Compile the CUDA kernels of ``ir`` with NVRTC for every arch in NVRTC_ARCHS; fail on any
    error or warning. Skipped where cuda-bindings/nvidia-cuda-nvrtc are not installed."""
    try:
        from irsnn.backends.cuda import compile_with_nvrtc
        from irsnn.backends.cuda import _source as cuda_source
        import cuda.bindings.nvrtc  # noqa: F401
    except ImportError:
        return
    source = cuda_source(ir)
    if source in _nvrtc_done:
        return
    for arch in NVRTC_ARCHS:
        ok, log = compile_with_nvrtc(source, arch)
        assert ok and not log, f"NVRTC ({arch}) failed or warned on '{ir.name}':\n{log}"
    _nvrtc_done.add(source)


def _skipped_backends() -> list:
    """Unavailable backends, as parameters skipped with the reason (an OpenCL driver whose
    devices cannot build kernels shows up as skipped cases saying so, instead of failing)."""
    if os.environ.get("IRSNN_CONFORMANCE_BACKENDS"):
        return []
    return [pytest.param((name, None), id=name, marks=pytest.mark.skip(
                reason=f"backend {name!r} unavailable: {why}"))
            for name, (ok, why) in available_backends().items() if not ok]


def _work_groups() -> list[int]:
    """``IRSNN_CONFORMANCE_WORK_GROUPS`` (``1,32,256``): work-group sizes every case also runs
    with on the backends that have them (OpenCL, CUDA); unset: only their default."""
    wanted = os.environ.get("IRSNN_CONFORMANCE_WORK_GROUPS", "")
    try:
        sizes = [int(n) for n in wanted.split(",") if n.strip()]
    except ValueError:
        sizes = [-1]
    if any(n < 0 for n in sizes):
        raise pytest.UsageError(f"IRSNN_CONFORMANCE_WORK_GROUPS={wanted!r}: give work-group "
                                f"sizes as integers >= 0 separated by commas (0: one thread "
                                f"per batch element)")
    return sizes


def _backend_params() -> list:
    from irsnn.backends import load_backend
    params = []
    for name in BACKENDS:
        params.append(pytest.param((name, None), id=name))
        if hasattr(load_backend(name), "work_group_size"):
            params += [pytest.param((name, n), id=f"{name}-wg{n}") for n in _work_groups()]
    return params + _skipped_backends()


@pytest.fixture(params=_backend_params())
def backend(request, monkeypatch):
    """The name of the backend compared against ``"reference"`` (for a work-group size of
    ``IRSNN_CONFORMANCE_WORK_GROUPS``, with ``IRSNN_WORK_GROUP_SIZE`` set to it)."""
    name, work_group = request.param
    if work_group is not None:
        monkeypatch.setenv("IRSNN_WORK_GROUP_SIZE", str(work_group))
    return name


# -- recordings ------------------------------------------------------------------------------
def spikes(pop, **filters):
    """A SpikeRecorder request on population ``pop`` (a name from the builder's dict)."""
    return ("spikes", pop, None, filters)


def var(pop, name, **filters):
    """A VarRecorder request for variable ``name`` of ``pop``."""
    return ("var", pop, name, filters)


@dataclass
class Run:
    """What one backend produced: readouts, metrics and callback data by request index."""

    backend: str
    preds: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    spikes: dict = field(default_factory=dict)   # idx -> (times list, ids list)
    vars: dict = field(default_factory=dict)     # idx -> list of (T, n) arrays
    counts: dict = field(default_factory=dict)   # idx -> list of count arrays


def run_case(builder, backend, x, timesteps, *, outputs=(), labels=None, metrics=None,
             record=(), batch_size=1, dt=1.0, rng_seed=0, **compiler_kwargs) -> Run:
    """Build with ``builder()``, compile for ``backend`` and run.

    ``x`` maps population names to input data; ``outputs`` are population names read out by
    ``predict``; with ``labels`` (name -> labels) ``evaluate`` is used instead (``metrics``
    as in :meth:`CompiledInferenceNetwork.evaluate`). ``record`` holds :func:`spikes` /
    :func:`var` requests.
    """
    net, pops = builder()
    compiled = InferenceCompiler(evaluate_timesteps=timesteps, dt=dt, batch_size=batch_size,
                                 rng_seed=rng_seed, backend=backend,
                                 **compiler_kwargs).compile(net)
    assert compiled.backend.name == backend, (
        f"asked for backend {backend!r}, got {compiled.backend.name!r}")
    callbacks = []
    for i, (kind, pop, name, filters) in enumerate(record):
        if kind == "spikes":
            callbacks.append(SpikeRecorder(pops[pop], key=i, **filters))
        else:
            callbacks.append(VarRecorder(pops[pop], name, key=i, **filters))
    xin = {pops[k]: v for k, v in x.items()}
    run = Run(backend)
    # No ``with compiled:`` here: entering builds the simulation without the recordings, and
    # the first predict/evaluate with recorders then builds it again (for a compiled backend,
    # a second native compile). Used without ``with``, the simulation is built once, on first
    # use, with every recording the callbacks ask for.
    if labels is not None:
        kw = {} if metrics is None else {"metrics": metrics}
        m, cb = compiled.evaluate(xin, {pops[k]: v for k, v in labels.items()},
                                  callbacks=callbacks, **kw)
        run.metrics = {p.name: (mm.result, getattr(mm, "correct", None), mm.total)
                       for p, mm in m.items()}
    else:
        preds, cb = compiled.predict(xin, [pops[o] for o in outputs], callbacks=callbacks)
        run.preds = {p.name: np.asarray(v) for p, v in preds.items()}
    for i, (kind, _, _, filters) in enumerate(record):
        if kind == "spikes" and filters.get("record_counts"):
            run.counts[i] = [np.asarray(c) for c in cb[i]]
        elif kind == "spikes":
            times, ids = cb[i]
            run.spikes[i] = ([np.asarray(t) for t in times], [np.asarray(j) for j in ids])
        else:
            run.vars[i] = [np.asarray(v) for v in cb[i]]
    if backend == "reference":
        nvrtc_check(compiled.ir)  # the IR now includes the recorders
    return run


def _eq(a, b, what):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != reference {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != reference {b.dtype}"
    np.testing.assert_array_equal(a, b, err_msg=what)


def _close(a, b, what, rtol, atol):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != reference {b.shape}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def assert_same(test: Run, ref: Run, *, exact=True, rtol=1e-5, atol=1e-6,
                exact_spikes=True):
    """Compare a backend's :class:`Run` with the reference's (see the module docstring)."""
    who = f"backend {test.backend!r} vs 'reference'"
    close = _eq if exact else (lambda a, b, w: _close(a, b, w, rtol, atol))
    assert test.preds.keys() == ref.preds.keys()
    for k in ref.preds:
        close(test.preds[k], ref.preds[k], f"{who}: readout of {k}")
    assert test.metrics.keys() == ref.metrics.keys()
    for k, (res, correct, total) in ref.metrics.items():
        tres, tcorrect, ttotal = test.metrics[k]
        assert (tcorrect, ttotal) == (correct, total), f"{who}: metric counts of {k}"
        close(np.float64(tres), np.float64(res), f"{who}: metric of {k}")
    for i, (times, ids) in ref.spikes.items():
        ttimes, tids = test.spikes[i]
        assert len(ttimes) == len(times), f"{who}: spike recording {i}: number of examples"
        for e in range(len(times)):
            if exact or exact_spikes:
                _eq(tids[e], ids[e], f"{who}: spike recording {i}, example {e}: ids")
                _eq(ttimes[e], times[e], f"{who}: spike recording {i}, example {e}: times")
            else:
                frac = abs(len(tids[e]) - len(ids[e])) / max(1, len(ids[e]))
                assert frac <= 0.01, f"{who}: spike recording {i}, example {e}: counts"
    for i, counts in ref.counts.items():
        assert len(test.counts[i]) == len(counts)
        for e in range(len(counts)):
            _eq(test.counts[i][e], counts[e], f"{who}: spike counts {i}, example {e}")
    for i, traces in ref.vars.items():
        assert len(test.vars[i]) == len(traces), f"{who}: var recording {i}: examples"
        for e in range(len(traces)):
            close(test.vars[i][e], traces[e], f"{who}: var recording {i}, example {e}")


def check(builder, backend, x, timesteps, *, exact=True, rtol=1e-5, atol=1e-6,
          exact_spikes=True, **kwargs) -> Run:
    """Run the case on the reference and on ``backend``; compare; return the reference run
    (so a case can also assert that it exercises something, e.g. that neurons spiked)."""
    ref = run_case(builder, "reference", x, timesteps, **kwargs)
    test = run_case(builder, backend, x, timesteps, **kwargs)
    assert_same(test, ref, exact=exact, rtol=rtol, atol=atol, exact_spikes=exact_spikes)
    return ref


def total_spikes(run: Run, idx=0) -> int:
    return int(sum(len(i) for i in run.spikes[idx][1]))
