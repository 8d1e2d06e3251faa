"""Several blocks per example (:mod:`backends.kernels.grid`): how a step is cut into launches,
what cannot be cut and what the plan does then, the automatic choice, the settings and their
errors, and the source on CUDA (NVRTC) and OpenCL. Conformance with the reference on PoCL is
in ``tests/conformance/test_work_groups.py`` (``test_several_blocks_per_example``)."""

import re

import numpy as np
import pytest

from irsnn import settings
from irsnn.backends import available_backends
from irsnn.backends.cuda.dialect import CUDA_KERNELS
from irsnn.backends.kernels import AppendFlagged, Barrier, Block, For, ParallelFor, Single
from irsnn.backends.kernels.grid import (CountChunks, GridRenderer, ListChunks, Unsplittable,
                                         _Splitter)
from irsnn.backends.kernels.simt import (GRID_NEURONS_PER_THREAD, blocks_request,
                                         choose_plan)
from irsnn.backends.opencl.dialect import OPENCL_KERNELS
from irsnn.errors import BackendError, SettingsError

from .test_simt import _Prog

OPENCL = available_backends()["opencl"]


def _update():
    """A neuron update as the builder writes it: lanes, the spike list, its count stored."""
    return Block(["const int32_t slot = 0;", "GLOBAL int32_t *spk = s + b * 100;",
                  "int32_t cnt = 0;",
                  ParallelFor("i", "100", ["fired[i] = v[i] > 1;"]), Barrier(),
                  AppendFlagged("i", 100, "fired", "f", "cnt", ["spk[cnt] = i;"]),
                  Single(["spkcnt[b] = cnt;"])], comment="update")


def test_a_step_is_cut_at_its_barriers_and_spike_lists_take_two_phases():
    step = ["const int64_t ts = ts0;", Block(["const int32_t cnt = n[b];",
                                              For("s", "cnt", [ParallelFor("j", "8", [
                                                  "insyn[j] += w[s * 8 + j];"])])],
                                             comment="propagate"),
            Barrier(), _update(), Barrier()]
    splitter = _Splitter(batch=4)
    phases = splitter.split(step, "the step")
    assert splitter.slots == 1
    # propagation | lanes | count | list | spike count stored (after the list's barrier)
    assert len(phases) == 5
    kinds = [[type(x).__name__ for x in p[-1].body] for p in phases]
    assert kinds[0] == ["str", "For"] and kinds[1][-1] == "ParallelFor"
    assert isinstance(phases[2][-1].body[-1], CountChunks)
    assert isinstance(phases[3][-1].body[-1], ListChunks)
    stored = phases[4][-1].body
    assert isinstance(stored[-1], Single)
    # a later phase declares again what it uses of its scopes, and nothing it does not use:
    # the count comes back as the sum of the blocks' counts
    assert stored[:-1] == ["int32_t cnt = 0;", splitter.total("cnt", 0)]
    assert "GLOBAL int32_t *spk = s + b * 100;" in phases[3][-1].body
    assert not any(isinstance(x, str) and "spk" in x for x in phases[2][-1].body)
    assert all("ts0" not in str(p) for p in phases)     # (nothing reads ts)


def test_what_cannot_be_cut_is_refused_with_the_phase():
    pushed = Block(["const int32_t cnt = n[b];",
                    For("s", "cnt", [ParallelFor("r", "len[s]", ["insyn[t[r]] += w[r];"]),
                                     Barrier()])], comment="propagate:syn.a->b")
    with pytest.raises(Unsplittable, match="propagate:syn.a->b: a parallel loop followed by "
                                           "more work inside a loop"):
        _Splitter(2).split([pushed], "the step")
    carried = Block(["int32_t total = 0;", Single(["total = 5;"]), Barrier(),
                     Single(["out[b] = total;"])], comment="sums")
    with pytest.raises(Unsplittable, match="sums: the local 'total' carries a value"):
        _Splitter(2).split([carried], "the step")
    # a local that nothing changed before the cut is simply declared again
    fresh = Block(["int32_t total = 0;", ParallelFor("i", "4", ["x[i] = 0;"]),
                   Single(["out[b] = total;"])], comment="sums")
    assert len(_Splitter(2).split([fresh], "the step")) == 2


@pytest.mark.parametrize("dialect", [OPENCL_KERNELS, CUDA_KERNELS], ids=["opencl", "cuda"])
def test_threads_of_all_blocks_share_parallel_loops_and_single_is_one_thread(dialect):
    r = GridRenderer(dialect, threads=32, blocks=3)
    r._batch = 2
    text = "\n".join(r.statements(r._head() + [ParallelFor("i", "100", ["x[i] = 0;"])], 1)
                     + r.statements([Single(["y[b] = 1;"])], 1))
    assert "_r_i += IRSNN_EXAMPLE_THREADS" in text
    assert "irsnn_lid = irsnn_blk * IRSNN_THREADS + irsnn_local" in text
    assert "if (irsnn_lid == 0)" in text and dialect.barrier not in text


@pytest.mark.skipif(not OPENCL[0], reason=f"OpenCL unavailable: {OPENCL[1]}")
@pytest.mark.parametrize("threads,blocks", [(1, 3), (32, 2), (32, 5)])
def test_spike_lists_over_several_blocks_on_opencl(threads, blocks):
    """The two phases of a spike list, launched one after the other over ``batch * blocks``
    work-groups, give each example's flagged elements in ascending order and their count."""
    import pyopencl as cl

    from irsnn.backends.opencl import choose_device
    n, batch = 300, 3
    r = GridRenderer(OPENCL_KERNELS, threads=threads, blocks=blocks)
    r._batch = batch
    append = AppendFlagged("i", n, "flags + b * 300", "f", "cnt", ["spk[b * 300 + cnt] = i;"])
    kernels = []
    for k, part in enumerate([CountChunks(append, 0), ListChunks(append, 0)]):
        body = r.statements(r._head() + ["int32_t cnt = 0;", part,
                                         Single(["counts[b] = cnt;"])], 1)
        kernels.append(f"__kernel void k{k}(__global int8_t *flags, __global int32_t *spk, "
                       f"__global int32_t *counts, __global int32_t *irsnn_blocksums)\n{{\n"
                       f"    __local int32_t irsnn_scan[IRSNN_THREADS];\n"
                       + "\n".join(body) + "\n}\n")
    source = (f"{OPENCL_KERNELS.header}\n#define IRSNN_THREADS {threads}\n#define IRSNN_BLOCKS "
              f"{blocks}\n#define IRSNN_EXAMPLE_THREADS (IRSNN_THREADS * IRSNN_BLOCKS)\n"
              + "\n".join(kernels))
    flags = (np.random.default_rng(blocks).random((batch, n)) < 0.2).astype(np.int8)
    flags[0] = 0
    flags[1, -1] = -1
    spk = np.full((batch, n), -1, np.int32)
    counts = np.zeros(batch, np.int32)
    sums = np.zeros(batch * blocks, np.int32)
    ctx = cl.Context([choose_device()])
    queue = cl.CommandQueue(ctx)
    bufs = [cl.Buffer(ctx, cl.mem_flags.READ_WRITE | cl.mem_flags.COPY_HOST_PTR, hostbuf=a)
            for a in (flags, spk, counts, sums)]
    program = cl.Program(ctx, source).build()
    for kernel in (program.k0, program.k1):
        kernel(queue, (batch * blocks * threads,), (threads,), *bufs)
    for a, b in zip((spk, counts), bufs[1:3]):
        cl.enqueue_copy(queue, a, b)
    queue.finish()
    for b in range(batch):
        expect = np.flatnonzero(flags[b])
        assert counts[b] == len(expect)
        np.testing.assert_array_equal(spk[b, :counts[b]], expect)


def test_automatic_choice_gives_large_populations_several_blocks_at_small_batches():
    big = _Prog([40000])
    big.constants = {"batch_size": 1}
    plan = choose_plan(big, None, 1024, "a GPU", units=132)
    assert plan.threads == 256 and plan.blocks == -(-40000 // (4 * 256)) and not \
        plan.blocks_asked and "several work-groups automatic" in plan.reason
    big.constants = {"batch_size": 512}     # the batch fills the device: one block each
    assert choose_plan(big, None, 1024, "a GPU", units=132).blocks == 1
    small = _Prog([GRID_NEURONS_PER_THREAD * 256])
    small.constants = {"batch_size": 1}
    assert choose_plan(small, None, 1024, "a GPU", units=132).blocks == 1
    assert choose_plan(big, None, 1024, "a CPU", cpu=True, units=2).threads is None
    # launches cost ~0.1 ms each on a CPU device (PoCL): never several blocks unasked there
    assert choose_plan(big, 32, 1024, "a CPU", cpu=True, units=2).blocks == 1
    asked = choose_plan(_Prog([20]), 32, 1024, "a CPU", cpu=True, blocks=3)
    assert asked.blocks == 3 and asked.blocks_asked and "3 work-groups of 32" in asked.reason
    with pytest.raises(BackendError, match="3 work-groups per batch element.*size of 0"):
        choose_plan(_Prog([20]), 0, 1024, "dev", blocks=3)


def test_blocks_setting_and_option(monkeypatch):
    monkeypatch.delenv("IRSNN_BLOCKS_PER_EXAMPLE", raising=False)
    assert settings.blocks_per_example() is None and blocks_request(None) is None
    monkeypatch.setenv("IRSNN_BLOCKS_PER_EXAMPLE", "4")
    assert blocks_request(None) == 4 and blocks_request(2) == 2
    for bad in ("0", "-1", "two"):
        monkeypatch.setenv("IRSNN_BLOCKS_PER_EXAMPLE", bad)
        with pytest.raises(SettingsError, match=f"IRSNN_BLOCKS_PER_EXAMPLE={bad!r}"):
            settings.blocks_per_example()
    for bad in (0, True, 1.5):
        with pytest.raises(SettingsError, match="blocks_per_example="):
            blocks_request(bad)


def _graph(batch=2, **kwargs):
    from irsnn.compilers import EPropCompiler, InferenceCompiler

    from ..models import recurrent_alif
    network = recurrent_alif()[0]
    if kwargs:
        return EPropCompiler(example_timesteps=5, batch_size=batch, **kwargs).build_ir(
            network, "m")
    return InferenceCompiler(evaluate_timesteps=5, batch_size=batch).build_ir(network, "m")


def test_the_plan_is_in_the_generated_source_and_compiles_with_nvrtc():
    from irsnn.backends.cuda import CudaBackend
    graph = _graph(losses="sparse_categorical_crossentropy", optimiser="adam")
    (text,) = CudaBackend(work_group_size=32, blocks_per_example=3).kernel_source(graph).values()
    assert "plan: 3 work-groups of 32 threads per batch element" in text
    assert "#define IRSNN_BLOCKS 3" in text
    steps = len(re.findall(r"void irsnn_step_\d+\(", text))
    infer = len(re.findall(r"void irsnn_step_infer_\d+\(", text))
    assert steps > infer > 3 and f"({steps} a step)" in text
    try:
        from irsnn.backends.cuda import compile_with_nvrtc
        for arch in ("sm_80", "sm_90"):
            ok, log = compile_with_nvrtc(text, arch)
            assert ok and not log, log
    except ImportError:
        pytest.skip("NVRTC (cuda-bindings) is not installed")


def test_a_model_that_cannot_be_cut_is_refused_when_asked_and_replanned_otherwise(monkeypatch):
    from irsnn.backends.kernels import KernelBuilder, grid
    from irsnn.backends.kernels.simt import Plan
    from irsnn.backends.opencl import OpenCLBackend
    from irsnn.lang.render_c import CStyleRenderer
    monkeypatch.setattr(grid, "obstacle", lambda program, threads, blocks: "a reason")
    graph = _graph()
    with pytest.raises(BackendError, match="3 work-groups per batch element were asked for, "
                                           "but model 'm' cannot run so: a reason; ask for one"):
        OpenCLBackend(work_group_size=32, blocks_per_example=3).kernel_source(graph)
    automatic = Plan(32, "3 work-groups (automatic)", blocks=3)
    builder = KernelBuilder(graph, CStyleRenderer(OPENCL_KERNELS.lang),
                            plan=lambda program: automatic)
    program = builder.build()
    assert builder.plan.blocks == 1 and builder.plan.threads == 32
    assert builder.plan.reason == ("one work-group of 32 threads per batch element (several per "
                                   "example were considered, but cannot run this model: a "
                                   "reason)")
    assert not any("pulled by postsynaptic neuron" in note for note in program.plan_notes)
