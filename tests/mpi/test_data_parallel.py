"""Data-parallel training and evaluation over MPI (irsnn.communicators, compilers' communicator=).

Each case runs ``worker.py`` once as one process and once under ``mpiexec -n 2`` (strided shards,
the same global batch) and compares: after one optimiser step the weights are equal (only the
summation order of the gradients differs), after three epochs equal to 1e-4 relative; metrics are
summed over ranks; a failing rank stops the job; ranks that built different models are refused.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from irsnn.communicators import Communicator
from irsnn.compilers import EPropCompiler, InferenceCompiler
from irsnn.errors import DistributedError, ModelError

WORKER = Path(__file__).with_name("worker.py")


def _mpiexec():
    try:
        import mpi4py.MPI  # noqa: F401 - needs an MPI library too
    except (ImportError, RuntimeError) as exc:
        return None, f"mpi4py or an MPI library is missing ({exc}); pip install 'irsnn[mpi]'"
    exe = Path(sys.executable).parent / "mpiexec"
    exe = str(exe) if exe.exists() else shutil.which("mpiexec")
    return exe, "no mpiexec found next to Python or on PATH"


MPIEXEC, WHY = _mpiexec()
needs_mpi = pytest.mark.skipif(MPIEXEC is None, reason=WHY)


def run(tmp_path, name, *args, ranks=1, timeout=120, check=True):
    """Run the worker (under mpiexec with ``ranks`` > 1); returns (result dict, process)."""
    out = tmp_path / f"{name}.npz"
    cmd = [sys.executable, str(WORKER), "--out", str(out), *map(str, args)]
    if ranks > 1:
        cmd = [MPIEXEC, "-n", str(ranks)] + cmd
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        with np.load(out) as z:
            return {k: z[k] for k in z.files}, proc
    return None, proc


def _rel(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-3)))


@needs_mpi
@pytest.mark.mpi
@pytest.mark.parametrize("mode", ["event", "online", "eventprop"])
def test_one_step_on_two_ranks_equals_one_process_with_the_whole_batch(tmp_path, mode):
    # 8 examples, batch 8 (4 per rank); e-prop modes on C, EventProp on the reference backend
    one, _ = run(tmp_path, "one", "--mode", mode, "--examples", 8, "--batch", 8)
    two, _ = run(tmp_path, "two", "--mode", mode, "--examples", 8, "--batch", 8, ranks=2)
    for name in ("in_hid", "recurrent", "hid_out", "bias"):
        if name in one:   # (EventProp trains no output bias)
            assert _rel(one[name], two[name]) <= 1e-6, name
    assert int(two["train_total"]) == 8   # metrics count every rank's examples


@needs_mpi
@pytest.mark.mpi
@pytest.mark.parametrize("mode, backend", [("event", "c"), ("eventprop", "reference")])
def test_gradients_summed_in_place_equal_those_summed_through_host_copies(tmp_path, mode,
                                                                           backend):
    # the gradients summed where the backend keeps them (native_var) and through get_var/
    # set_var copies: the same sums, so bit for bit the same weights on every rank
    args = ("--mode", mode, "--backend", backend, "--examples", 16, "--batch", 8)
    native, _ = run(tmp_path, "native", *args, ranks=2)
    copies, _ = run(tmp_path, "copies", *args, "--host-copies", ranks=2)
    assert set(native) == set(copies)
    for name in native:
        np.testing.assert_array_equal(native[name], copies[name], err_msg=name)
    for rank1 in ("native", "copies"):
        other = np.load(tmp_path / f"{rank1}.npz.rank1.npz")
        for name in other.files:
            np.testing.assert_array_equal(other[name], native[name], err_msg=name)


@needs_mpi
@pytest.mark.mpi
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["event", "online", "eventprop"])
def test_three_epochs_on_two_ranks_equal_one_process(tmp_path, mode):
    # three epochs of six steps of 8 examples
    one, _ = run(tmp_path, "one3", "--mode", mode, "--examples", 48, "--epochs", 3)
    two, _ = run(tmp_path, "two3", "--mode", mode, "--examples", 48, "--epochs", 3, ranks=2)
    for name in ("in_hid", "recurrent", "hid_out", "bias"):
        if name in one:
            assert _rel(one[name], two[name]) <= 1e-4, name
    assert float(one["train_accuracy"]) == float(two["train_accuracy"])
    assert float(one["accuracy"]) == float(two["accuracy"])
    # every rank holds the same weights after training
    rank1 = np.load(tmp_path / "two3.npz.rank1.npz")
    for name in ("in_hid", "recurrent", "hid_out", "bias"):
        if name in one:
            np.testing.assert_array_equal(rank1[name], two[name])


@needs_mpi
@pytest.mark.mpi
@pytest.mark.slow
def test_sharded_evaluation_with_unequal_shards(tmp_path):
    # 13 examples, batch 4: rank 0 runs 4 batches, rank 1 three (and one with no examples)
    one, _ = run(tmp_path, "one", "--mode", "inference", "--examples", 13, "--batch", 4)
    two, _ = run(tmp_path, "two", "--mode", "inference", "--examples", 13, "--batch", 4,
                 ranks=2)
    assert int(two["total"]) == 13
    assert float(two["accuracy"]) == float(one["accuracy"])


@needs_mpi
@pytest.mark.mpi
def test_a_failing_rank_stops_every_rank(tmp_path):
    start = time.monotonic()
    _, proc = run(tmp_path, "fail", "--examples", 48, "--fail-at-batch", 2, ranks=2,
                  timeout=60, check=False)
    assert proc.returncode != 0
    assert time.monotonic() - start < 60
    err = proc.stderr
    assert "injected failure in batch 2" in err                     # rank 1's own error
    assert "rank 1 of 2 failed (RuntimeError: injected failure" in err   # rank 0 was told


@needs_mpi
@pytest.mark.mpi
def test_ranks_with_different_models_are_refused_at_compile(tmp_path):
    # (the default timeout: two ranks compiling on a loaded 2-core machine took over 60 s)
    _, proc = run(tmp_path, "mismatch", "--mismatch", ranks=2, check=False)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "rank(s) [1] compiled a different model from rank 0" in proc.stderr, proc.stderr


class OneRank(Communicator):
    """mlGeNN's five members only: irsnn's additions must work from them."""

    def __init__(self, rank=0):
        self._rank = rank
        self.barriers = 0

    def barrier(self):
        self.barriers += 1

    def broadcast(self, data, root):
        return data

    def reduce_sum(self, value):
        return value

    @property
    def rank(self):
        return self._rank

    @property
    def num_ranks(self):
        return 1


def test_communicator_defaults_from_the_five_members():
    comm = OneRank()
    np.testing.assert_array_equal(comm.gather(np.array([3, 4])), [[3, 4]])
    assert comm.first_failure(None) is None
    assert comm.first_failure("ValueError: bad") == (0, "ValueError: bad")
    assert comm.is_root


def test_batch_must_split_evenly_over_ranks():
    class Three(OneRank):
        num_ranks = 3
    with pytest.raises(ModelError, match=r"batch_size=8 cannot be split evenly over 3 ranks"):
        EPropCompiler(example_timesteps=10, losses="sparse_categorical_crossentropy",
                      batch_size=8, communicator=Three())
    assert InferenceCompiler(evaluate_timesteps=10, batch_size=9,
                             communicator=Three()).batch_size == 3
    with pytest.raises(ModelError, match="is not a Communicator"):
        InferenceCompiler(evaluate_timesteps=10, communicator="mpi")


def test_callbacks_that_write_run_on_rank_zero_only(tmp_path):
    sys.path.insert(0, str(WORKER.parent))
    try:
        from worker import TIMESTEPS, data, network
    finally:
        sys.path.remove(str(WORKER.parent))
    from irsnn.callbacks import Checkpoint, SpikeRecorder

    class Mirror(OneRank):
        """Rank ``rank`` of two that agree on everything (each sees the other as itself)."""
        num_ranks = 2

        def gather(self, row):
            return np.stack([np.asarray(row)] * 2)

    spikes, labels = data(4)
    seen = {}
    for rank in (0, 1):
        net, inp, out = network()
        compiled = InferenceCompiler(evaluate_timesteps=TIMESTEPS, batch_size=4,
                                     communicator=Mirror(rank)).compile(net)
        everywhere = Checkpoint(str(tmp_path / f"all{rank}"))
        everywhere.all_ranks = True
        with compiled:
            cbs = compiled._callbacks(["batch_progress_bar", Checkpoint(str(tmp_path)),
                                       everywhere, SpikeRecorder(out, key="s")], 1)
            seen[rank] = [type(c).__name__ for c in cbs.callbacks]
            metrics, _ = compiled.evaluate({inp: spikes}, {out: labels})
            assert metrics[out].total == 4
    assert seen[0] == ["BatchProgressBar", "Checkpoint", "Checkpoint", "SpikeRecorder"]
    assert seen[1] == ["Checkpoint", "SpikeRecorder"]


def test_mpi_communicator_needs_mpi4py(monkeypatch):
    import builtins
    real = builtins.__import__

    def no_mpi4py(name, *args, **kwargs):
        if name.startswith("mpi4py"):
            raise ImportError("No module named 'mpi4py'")
        return real(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_mpi4py)
    from irsnn.communicators import MPI
    with pytest.raises(DistributedError, match=r"pip install 'irsnn\[mpi\]'"):
        MPI()


def test_mpi_launch_and_local_rank_come_from_the_launchers_environment(monkeypatch):
    from irsnn.communicators.mpi import launched_by_mpi, local_rank_from_environment
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "SLURM_STEP_NUM_TASKS",
                 "MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "PMI_LOCAL_RANK",
                 "SLURM_LOCALID"):
        monkeypatch.delenv(name, raising=False)
    assert not launched_by_mpi()
    monkeypatch.setenv("PMI_SIZE", "1")     # one rank: nothing to distribute
    assert not launched_by_mpi()
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    assert launched_by_mpi()
    monkeypatch.delenv("OMPI_COMM_WORLD_SIZE")
    monkeypatch.setenv("SLURM_STEP_NUM_TASKS", "8")
    assert launched_by_mpi()
    assert local_rank_from_environment(lambda: 7) == 7
    monkeypatch.setenv("SLURM_LOCALID", "3")
    assert local_rank_from_environment() == 3
    monkeypatch.setenv("MPI_LOCALRANKID", "1")   # MPICH's wins over srun's
    assert local_rank_from_environment() == 1


def test_cuda_backend_takes_the_gpu_of_its_local_rank(monkeypatch):
    import types

    from irsnn.backends.cuda import CudaBackend
    used = []

    class Device:
        def __init__(self, index):
            self.index = index

        def use(self):
            used.append(self.index)

    runtime = types.SimpleNamespace(
        getDeviceCount=lambda: 4,
        getDeviceProperties=lambda i: {"name": f"GPU{i}".encode()})
    fake = types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime, Device=Device))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    assert CudaBackend().use_local_device(6) == "2 GPU2"
    assert used == [2]


@needs_mpi
@pytest.mark.mpi
@pytest.mark.slow
def test_irsnn_train_runs_under_mpiexec(tmp_path):
    """The README's main job, data-parallel on two ranks: rank 0 alone writes the outputs."""
    irsnn = Path(sys.executable).parent / "irsnn"
    cmd = [MPIEXEC, "-n", "2", str(irsnn), "train", "--num-train", "48", "--num-test", "16",
           "--num-epochs", "1", "--no-plots", "--out", str(tmp_path / "out")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("epoch   0  train") == 1      # only rank 0 prints
    log = (tmp_path / "out" / "train_log.csv").read_text().splitlines()
    assert len(log) == 2
    assert (tmp_path / "out" / "summary.json").exists()


class Doubling(OneRank):
    """Rank 0 of two whose partner holds exactly the same gradients: sums double."""
    num_ranks = 2

    def reduce_sum(self, value):
        return value * 2

    def gather(self, row):
        return np.stack([np.asarray(row)] * 2)


@pytest.mark.parametrize("kind", ["eprop", "eventprop"])
def test_summed_gradients_are_sums_for_eprop_and_means_for_eventprop(kind):
    """e-prop's gradients are sums over examples (two ranks: twice one rank's); EventProp's loss
    is a mean over the batch (two ranks: the mean of both, here one rank's own)."""
    sys.path.insert(0, str(WORKER.parent))
    try:
        from worker import TIMESTEPS, data, network
    finally:
        sys.path.remove(str(WORKER.parent))
    from irsnn.compilers import EventPropCompiler
    from irsnn.synapses import Exponential
    spikes, labels = data(4)
    grads = {}
    for comm in (None, Doubling()):
        if kind == "eprop":
            net, inp, out = network()
            compiler = EPropCompiler(example_timesteps=TIMESTEPS, batch_size=4 if comm is None
                                     else 8, losses="sparse_categorical_crossentropy",
                                     backend="reference", communicator=comm)
        else:
            net, inp, out = network(synapse=Exponential(5.0))
            compiler = EventPropCompiler(example_timesteps=TIMESTEPS, batch_size=4 if comm is None
                                         else 8, losses="sparse_categorical_crossentropy",
                                         backend="reference", communicator=comm)
        compiled = compiler.compile(net)
        with compiled:
            compiled._learn(0, {inp: spikes}, {out: labels},
                            compiled._callbacks([], 1), None, defer=False)
            if comm is not None:
                compiled._data_parallel.reduce_gradients(compiled)
            grads[comm is None] = compiled.gradients()
    factor = 2.0 if kind == "eprop" else 1.0
    for target, one in grads[True].items():
        np.testing.assert_allclose(grads[False][target], factor * one, rtol=1e-6, atol=1e-9)
