"""The parallel constructs of the kernel description and the SIMT plan (one work-group per
example): C renders them as its sequential code, SIMT dialects across the threads of a block;
the plan choice and its errors; the constructs run on PoCL (prefix-sum spike lists, the
compare-and-swap float atomic) and compile with NVRTC."""

import re

import numpy as np
import pytest

from irsnn.backends import available_backends
from irsnn.backends.cuda.dialect import CUDA_KERNELS
from irsnn.backends.kernels import (C_KERNELS, AppendFlagged, AtomicAdd, Barrier, For,
                                    KernelRenderer, ParallelFor, Single)
from irsnn.backends.kernels.description import ForFlagged
from irsnn.backends.kernels.simt import MAX_AUTO_THREADS, choose_plan
from irsnn.backends.opencl.dialect import OPENCL_KERNELS
from irsnn.errors import BackendError, SettingsError

OPENCL = available_backends()["opencl"]


def _body():
    return [ParallelFor("i", "100", ["x[i] = 2 * x[i];"]), Barrier(),
            AppendFlagged("i", 100, "flags", "f", "cnt", ["spk[cnt] = i;"]),
            Single(["total[0] = cnt;", ParallelFor("j", "4", ["y[j] = 0;"]), Barrier()])]


def test_c_renders_parallel_constructs_as_its_sequential_code():
    r = KernelRenderer(C_KERNELS)
    plain = [For("i", "100", ["x[i] = 2 * x[i];"]),
             ForFlagged("i", 100, "flags", "f", ["spk[cnt] = i;", "cnt++;"]),
             "total[0] = cnt;", For("j", "4", ["y[j] = 0;"])]
    assert r.statements(_body(), 1) == r.statements(plain, 1)


@pytest.mark.parametrize("dialect", [OPENCL_KERNELS, CUDA_KERNELS], ids=["opencl", "cuda"])
def test_simt_dialects_split_loops_across_the_block(dialect):
    text = "\n".join(KernelRenderer(dialect, threads=64).statements(_body(), 1))
    # every thread runs the same rounds, the last guarded (no trip count of its own)
    assert "for (int32_t _r_i = 0; _r_i < 100; _r_i += IRSNN_THREADS)" in text
    assert "const int32_t i = _r_i + irsnn_lid;" in text and "if (i < 100)" in text
    assert text.count(dialect.barrier) >= 4          # phases and the prefix sum
    assert "irsnn_scan[irsnn_lid]" in text
    # one thread runs Single's body: its loops whole, no barrier inside (it would hang)
    single = text[text.index("if (irsnn_lid == 0)"):]
    assert "for (int32_t j = 0; j < 4; j++)" in single and dialect.barrier not in single


def test_renderer_refuses_threads_without_a_simt_dialect():
    with pytest.raises(ValueError, match="no threads"):
        KernelRenderer(C_KERNELS, threads=32)
    with pytest.raises(ValueError, match=">= 1"):
        KernelRenderer(OPENCL_KERNELS, threads=0)


class _Prog:
    def __init__(self, sizes):
        from irsnn.backends.kernels import Buffer
        self.buffers = [Buffer(f"g{k}_fired", "int8_t", (2, n), owner=f"pop.p{k}", var="fired")
                        for k, n in enumerate(sizes)]


def test_plan_choice():
    auto = choose_plan(_Prog([20, 100]), None, 1024, "dev")
    assert auto.threads == 128 and "automatic" in auto.reason
    assert choose_plan(_Prog([5000]), None, 1024, "dev").threads == MAX_AUTO_THREADS
    assert choose_plan(_Prog([5000]), None, 64, "dev").threads == 64
    strided = choose_plan(_Prog([5000]), 256, 1024, "dev")
    assert strided.threads == 256 and "5000 neurons" in strided.reason and "20 neurons per" \
        in strided.reason
    one = choose_plan(_Prog([20]), 0, 1024, "dev")
    assert one.threads is None and "one thread per batch element" in one.reason
    cpu = choose_plan(_Prog([20]), None, 1024, "a CPU", cpu=True)
    assert cpu.threads is None and "automatic on a CPU device" in cpu.reason
    assert choose_plan(_Prog([20]), 32, 1024, "a CPU", cpu=True).threads == 32
    with pytest.raises(BackendError, match="at most 64 threads.*ask for at most 64"):
        choose_plan(_Prog([20]), 128, 64, "a small device")


def test_work_group_size_setting_and_option(monkeypatch):
    from irsnn import settings
    from irsnn.backends.cuda import CudaBackend
    monkeypatch.setenv("IRSNN_WORK_GROUP_SIZE", "32")
    assert settings.work_group_size() == 32 and CudaBackend().work_group_size == 32
    assert CudaBackend(work_group_size=0).work_group_size == 0
    monkeypatch.setenv("IRSNN_WORK_GROUP_SIZE", "-2")
    with pytest.raises(SettingsError, match="IRSNN_WORK_GROUP_SIZE='-2'.*integer >= 1"):
        settings.work_group_size()
    monkeypatch.delenv("IRSNN_WORK_GROUP_SIZE")
    for bad in (-1, 2.5, True):
        with pytest.raises(SettingsError, match="work_group_size=.*is not a work-group size"):
            CudaBackend(work_group_size=bad)


def _run_opencl(source, threads, groups, *arrays):
    import pyopencl as cl

    from irsnn.backends.opencl import choose_device
    ctx = cl.Context([choose_device()])
    queue = cl.CommandQueue(ctx)
    bufs = [cl.Buffer(ctx, cl.mem_flags.READ_WRITE | cl.mem_flags.COPY_HOST_PTR, hostbuf=a)
            for a in arrays]
    cl.Program(ctx, source).build().k(queue, (groups * threads,), (threads,), *bufs)
    for a, b in zip(arrays, bufs):
        cl.enqueue_copy(queue, a, b)
    queue.finish()


@pytest.mark.skipif(not OPENCL[0], reason=f"OpenCL unavailable: {OPENCL[1]}")
@pytest.mark.parametrize("threads", [1, 32, 256])
def test_spike_lists_by_prefix_sum_and_float_atomics_on_opencl(threads):
    n, groups = 300, 3
    r = KernelRenderer(OPENCL_KERNELS, threads=threads)
    body = [AppendFlagged("i", n, "flags + b * 300", "f", "cnt", ["spk[b * 300 + cnt] = i;"]),
            Single(["counts[b] = cnt;"]), AtomicAdd("sum[0]", "0.5f")]
    text = "\n".join(r.statements(body, 1))
    source = (f"{OPENCL_KERNELS.header}\n#define IRSNN_THREADS {threads}\n"
              "__kernel void k(__global int8_t *flags, __global int32_t *spk, "
              "__global int32_t *counts, __global float *sum)\n{\n"
              "    __local int32_t irsnn_scan[IRSNN_THREADS];\n"
              "    const int32_t b = get_group_id(0);\n"
              "    const int32_t irsnn_lid = get_local_id(0);\n"
              "    int32_t cnt = 0;\n" + text + "\n}\n")
    flags = (np.random.default_rng(threads).random((groups, n)) < 0.2).astype(np.int8)
    flags[0] = 0
    flags[1, -1] = -1
    spk = np.full((groups, n), -1, np.int32)
    counts = np.zeros(groups, np.int32)
    total = np.zeros(1, np.float32)
    _run_opencl(source, threads, groups, flags, spk, counts, total)
    for b in range(groups):
        expect = np.flatnonzero(flags[b])
        assert counts[b] == len(expect)
        np.testing.assert_array_equal(spk[b, :counts[b]], expect)
    assert total[0] == 0.5 * threads * groups


def test_plan_is_in_the_generated_source_and_the_dump(tmp_path, capsys):
    from irsnn.backends.cuda import CudaBackend
    from irsnn.compilers import InferenceCompiler

    from ..models import recurrent_alif
    network = recurrent_alif()[0]
    graph = InferenceCompiler(evaluate_timesteps=5, batch_size=2).build_ir(network, "m")
    (text,) = CudaBackend(work_group_size=64).kernel_source(graph).values()
    assert "plan: one work-group of 64 threads per batch element" in text
    assert "parallel over neurons/synapses: propagate:" in text and "neuron:pop.hidden" in text
    assert "#define IRSNN_THREADS 64" in text and "__syncthreads();" in text
    (text,) = CudaBackend(work_group_size=0).kernel_source(graph).values()
    assert "plan: one thread per batch element" in text and "__syncthreads" not in text


def test_event_eprop_gradient_rows_are_one_block_per_row_on_block_plans():
    """The scatter kernels of event-driven e-prop: on blocks, one block per presynaptic row
    (launched as rows blocks of the plan's threads) with the row's synapses strided over the
    threads; one thread per row on one thread per example and in C (a plain loop)."""
    from irsnn.backends.c import CBackend
    from irsnn.backends.cuda import CudaBackend
    from irsnn.compilers import EPropCompiler

    from ..models import recurrent_alif
    network = recurrent_alif()[0]
    graph = EPropCompiler(example_timesteps=5, losses="sparse_categorical_crossentropy",
                          batch_size=2).build_ir(network, "m")

    def scatter(text):
        start = text.index("void scatter_")
        return text[start:text.index("\n}\n", start)]
    (text,) = CudaBackend(work_group_size=64).kernel_source(graph).values()
    rows = scatter(text)
    assert "const int32_t i = (int32_t)blockIdx.x;" in rows and "return" not in rows
    assert "for (int32_t _r_r = 0; _r_r < len; _r_r += IRSNN_THREADS)" in rows
    assert "__syncthreads" not in rows      # each synapse is one thread's throughout
    assert "one work-group of 64 threads per presynaptic row" in text
    for one in (CudaBackend(work_group_size=0).kernel_source(graph),
                CBackend().kernel_source(graph)):
        (text,) = one.values()
        rows = scatter(text)
        assert "for (int32_t r = 0; r < len; r++)" in rows and "irsnn_lid" not in rows
        assert "per presynaptic row" not in text


def test_specialise_decides_one_flag_at_any_depth():
    from irsnn.backends.kernels.description import LEARNING, Block, If, mentions, specialise
    body = ["a;", If("x > 0", [If(LEARNING, ["learn;"], ["infer;"]), "b;"]),
            ParallelFor("i", "4", [If(LEARNING, ["t[i] = 0;"])]), If("other", ["c;"])]
    on, off = specialise(body, LEARNING, True), specialise(body, LEARNING, False)
    assert mentions(body, LEARNING) and not mentions(on, LEARNING)
    assert not mentions(off, LEARNING)
    assert on[1].then[0] == Block(["learn;"]) and off[1].then[0] == Block(["infer;"])
    assert on[2].body == [Block(["t[i] = 0;"])] and off[2].body == []
    assert on[3] == off[3] == If("other", ["c;"])     # other conditions are left alone
    assert body[1].then[0].cond == LEARNING            # the input is not changed


@pytest.mark.parametrize("mode", ["event", "online"])
def test_learning_models_on_blocks_get_two_kernels_with_no_learning_branch(mode):
    """No barrier under a condition on the learning switch: PoCL replicated the rest of the
    kernel after each such condition (an online model's build did not end)."""
    from irsnn.backends.cuda import CudaBackend
    from irsnn.compilers import EPropCompiler

    from ..models import recurrent_alif
    network = recurrent_alif()[0]
    graph = EPropCompiler(example_timesteps=5, losses="sparse_categorical_crossentropy",
                          batch_size=2, gradient_mode=mode).build_ir(network, "m")
    (text,) = CudaBackend(work_group_size=32).kernel_source(graph).values()
    assert "void irsnn_run(" in text and "void irsnn_run_infer(" in text
    assert "if (irsnn_learning)" not in text
    assert "learning on and off are two kernels" in text
    for threads in (0, 1):      # no barriers: one kernel reading the switch
        (text,) = CudaBackend(work_group_size=threads).kernel_source(graph).values()
        assert "irsnn_run_infer" not in text and "if (irsnn_learning)" in text


def test_by_plan_renders_its_serial_form_on_one_thread_and_its_block_form_on_blocks():
    from irsnn.backends.kernels import ByPlan
    body = [ParallelFor("j", "8", ["x[j] = 0;"]),
            ByPlan(["serial;"], [Barrier(), "block;", ByPlan(["inner serial;"], ["inner;"])]),
            Single([ByPlan(["one;"], ["many;"])])]
    c = "\n".join(KernelRenderer(C_KERNELS).statements(body, 1))
    assert "serial;" in c and "one;" in c and "block;" not in c and "many;" not in c
    text = "\n".join(KernelRenderer(OPENCL_KERNELS, threads=32).statements(body, 1))
    assert "block;" in text and "inner;" in text and "serial;" not in text
    assert "one;" in text and "many;" not in text     # Single's body runs on one thread
    # the loop's barrier and the one opening the block form are one barrier
    assert text.count(OPENCL_KERNELS.barrier) == 1


def _barriers_under_conditions(text, barrier):
    """Lines of ``text`` (C-family source, one statement or brace a line) holding ``barrier``
    inside an ``if`` or ``else`` block."""
    stack, bad = [], []
    for number, line in enumerate(text.splitlines(), 1):
        code = re.sub(r"/\*.*?\*/", "", line).strip()
        if code.startswith("}"):
            stack.pop()
        if code.endswith("{"):
            stack.append("if" if code.startswith(("if (", "} else")) else "other")
        if barrier in code and "if" in stack:
            bad.append(number)
    return bad


@pytest.mark.parametrize("readout,recurrent,sparse", [
    ("sum_var", False, False), ("max_var", True, True), ("first_spike_time", True, False)])
def test_eventprop_backward_pass_runs_across_the_block(readout, recurrent, sparse):
    """EventProp's backward pass on a block: per-neuron phases, the jumps (one spike per
    thread) and the gradient rows (one synapse per thread) split across the threads, and no
    barrier under a condition (PoCL replicates the rest of the kernel after one)."""
    from irsnn.backends.cuda import _source

    from ..conformance.test_eventprop import _compile
    for batch in (1, 5):
        cn, _, _ = _compile("reference", readout, recurrent, sparse, "double",
                            batch_size=batch)
        text = _source(cn.ir, 32)
        end = text[text.index("void irsnn_end_example("):text.index("void irsnn_restart(")]
        assert _barriers_under_conditions(end, CUDA_KERNELS.barrier) == []
        assert end.count(CUDA_KERNELS.barrier) > 5
        for var in ("j", "z", "r"):
            assert f"const int32_t {var} = _r_{var} + irsnn_lid;" in end, var
        restart = text[text.index("void irsnn_restart("):]
        assert "const int32_t j = _r_j + irsnn_lid;" in restart
