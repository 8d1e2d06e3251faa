#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: the CUDA backend's conformance (default plan, and work-group
# sizes 1/32/256 on a representative subset), the e-prop gradient tests on CUDA (event e-prop
# gradient rows on blocks bit for bit with one thread per example: issue 19 item 3), data-parallel
# gradients summed on the GPU (device views, NCCL when CuPy has it, against host copies, and
# their time per step; issue 21), ragged propagation pushed vs pulled on blocks (issue 19
# item 2: benchmarks/simt_pull.py), several work-groups per example (conformance on two grids,
# benchmarks/simt_grid.py), then the throughput table of issue 19
# (benchmarks/gpu_throughput.py, CUDA and C side by side). Sized
# to finish in under 5 minutes on the device: every step's timeout is at most what is left of
# a budget of $GPU_CHECK_SECONDS (default 285 s), and a step with under 5 s left is skipped
# with a line that says so. Without a usable CUDA
# backend every CUDA step is skipped with the reason, and the script still runs end to end
# (C alone, a short table), so it can be checked on a CPU-only machine.
#   pip install -e ".[test,cuda,mpi]" && bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
BUDGET=${GPU_CHECK_SECONDS:-285}
# run_step SECONDS COMMAND...: COMMAND under a timeout of SECONDS or what is left of the budget
run_step() {
    local want=$1 rest=$(( BUDGET - SECONDS ))
    shift
    (( rest < want )) && want=$rest
    if (( want < 5 )); then
        echo "SKIPPED (the ${BUDGET} s budget is spent): ${*: -3}"
        return 0
    fi
    timeout "$want" "$@"
}
if ! CUDA_OK=$("$PY" - <<'PY'
from irsnn.backends import available_backends
ok, why = available_backends()["cuda"]
print("yes" if ok else f"no: {why}")
PY
); then
    echo "gpu_check: '$PY' cannot import irsnn; pip install -e '.[test,cuda]' into it, or set" \
         "PYTHON to the interpreter that has irsnn" >&2
    exit 1
fi
if [ "$CUDA_OK" = "yes" ]; then
    echo "cuda backend: available"
    echo "== conformance (cuda vs reference, default plan) =="
    run_step 120 env IRSNN_CONFORMANCE_BACKENDS=cuda "$PY" -m pytest tests/conformance -q \
        -p no:cacheprovider -x 2>&1 | tail -3
    echo "== work-group sizes 1, 32, 256 (cuda, representative subset) =="
    run_step 60 env IRSNN_CONFORMANCE_BACKENDS=cuda IRSNN_CONFORMANCE_WORK_GROUPS=1,32,256 \
        "$PY" -m pytest tests/conformance/test_connectivity.py -q -p no:cacheprovider \
        -k "wg and (recurrent_exact or connectivity_exact)" 2>&1 | tail -3
    echo "== event-driven e-prop (cuda: event = online gradients) =="
    run_step 60 "$PY" -m pytest tests/eprop/test_event_mode.py -q -p no:cacheprovider -k cuda \
        2>&1 | tail -3
    echo "== event e-prop gradient rows, one block per row (cuda, blocks of 1/32/256 bit for" \
         "bit with one thread per example) =="
    run_step 90 "$PY" -m pytest tests/conformance/test_work_groups.py -q -p no:cacheprovider \
        -m "" -k "gradient_rows and cuda" 2>&1 | tail -3
    echo "== data-parallel gradients on the GPU (issue 21): device views, NCCL =="
    run_step 60 "$PY" -m pytest tests/backends/test_native_var.py -q -p no:cacheprovider -k cuda \
        2>&1 | tail -3
    MPIEXEC=$("$PY" -c "import pathlib, shutil, sys
p = pathlib.Path(sys.executable).parent / 'mpiexec'
print(p if p.exists() else shutil.which('mpiexec') or '')")
    if [ -z "$MPIEXEC" ] || ! "$PY" -c "import mpi4py.MPI" 2>/dev/null; then
        echo "SKIPPING the NCCL checks: no mpi4py or mpiexec (pip install -e '.[mpi]')"
    else
        # one rank per GPU: NCCL refuses two ranks of one communicator on the same GPU
        RANKS=$("$PY" -c "import cupy; print(min(2, cupy.cuda.runtime.getDeviceCount()))")
        NCCL=$("$PY" -c "from cupy.cuda import nccl; print(getattr(nccl, 'available', True))" \
               2>/dev/null || echo False)
        echo "ranks: $RANKS; CuPy has NCCL: $NCCL (else the sums cross the host through MPI;" \
             "python -m cupyx.tools.install_library --library nccl --cuda 12.x)"
        for path in native copies; do
            extra=(); [ "$path" = copies ] && extra=(--host-copies)
            run_step 150 env OMP_NUM_THREADS=1 "$MPIEXEC" -n "$RANKS" "$PY" tests/mpi/worker.py \
                --mpi \
                --backend cuda --mode online --examples 16 --batch 8 "${extra[@]}" \
                --out "/tmp/irsnn-dp-$path.npz" >/dev/null 2>"/tmp/irsnn-dp-$path.err" \
                || { echo "FAILED: data-parallel worker on cuda ($path)"
                     tail -5 "/tmp/irsnn-dp-$path.err"; }
        done
        "$PY" - <<'PY'
import numpy as np
try:
    a, b = np.load("/tmp/irsnn-dp-native.npz"), np.load("/tmp/irsnn-dp-copies.npz")
except OSError as exc:
    raise SystemExit(f"FAILED: no result ({exc})")
worst = max(float(np.max(np.abs(a[k] - b[k]) / np.maximum(np.abs(b[k]), 1e-3)))
            for k in ("in_hid", "recurrent", "hid_out", "bias"))
verdict = "OK" if worst <= 1e-6 else "FAILED"
print(f"{verdict}: gradients summed on the GPU (NCCL used: {bool(a['nccl'])}) vs through host "
      f"copies: weights after 2 steps differ by {worst:.1e} relative (<= 1e-6: CuPy's float64 "
      f"row sums may add in another order than NumPy's)")
PY
        echo "== gradient sum per step, ALIF512R batch 64 on cuda: in place vs host copies =="
        run_step 200 env OMP_NUM_THREADS=1 "$MPIEXEC" -n "$RANKS" "$PY" benchmarks/mpi_allreduce.py \
            --gradients ALIF512R --backend cuda --repeats 10 --out /tmp/irsnn-gpu-allreduce.json \
            || echo "FAILED: benchmarks/mpi_allreduce.py --gradients on cuda"
    fi
    echo "== EventProp backward pass (cuda): one thread per example vs work-groups of 256 =="
    for wg in 0 256; do
        run_step 60 "$PY" benchmarks/eventprop_work_groups.py --backend cuda \
            --work-group-size "$wg" --batch 32 2>&1 | tail -1 \
            || echo "FAILED: benchmarks/eventprop_work_groups.py on cuda ($wg)"
    done
    echo "== several work-groups per example (cuda vs reference; grids 3x1 and 2x8) =="
    for grid in "1 3" "8 2"; do
        set -- $grid
        run_step 60 env IRSNN_CONFORMANCE_BACKENDS=cuda IRSNN_WORK_GROUP_SIZE="$1" \
            IRSNN_BLOCKS_PER_EXAMPLE="$2" "$PY" -m pytest tests/conformance/test_connectivity.py -q -x \
            -p no:cacheprovider -k "recurrent_exact or connectivity_exact" 2>&1 | tail -1
    done
    echo "== several work-groups per example vs one (calibrates simt.GRID_*) =="
    run_step 60 "$PY" benchmarks/simt_grid.py --backend cuda --threads 256 --neurons 16384 \
        --blocks 1 4 16 64 --batch 1 8 --timesteps 200 2>&1 | grep -v Evaluat \
        || echo "FAILED: benchmarks/simt_grid.py on cuda"
    echo "== event e-prop gradient rows (cuda): one thread per row vs one block of 256 per row =="
    for wg in 0 256; do
        run_step 45 "$PY" benchmarks/eprop_scatter_rows.py --backend cuda --work-group-size "$wg" \
            --batch 64 2>&1 | tail -1 || echo "FAILED: benchmarks/eprop_scatter_rows.py ($wg)"
    done
    echo "== ragged propagation on blocks, push vs pull (calibrates simt.pull_reason) =="
    run_step 90 "$PY" benchmarks/simt_pull.py --backend cuda --threads 32 128 256 \
        --p 0.02 0.05 0.1 --batch 64 2>&1 | grep -v Evaluate \
        || echo "FAILED: benchmarks/simt_pull.py on cuda"
    echo "== throughput (example-timesteps/s; cuda and c on this machine) =="
    LEFT=$(( BUDGET - SECONDS - 30 ))
    run_step 200 "$PY" benchmarks/gpu_throughput.py --budget $(( LEFT > 20 ? LEFT : 20 )) \
        --seconds 0.3 \
        --json /tmp/irsnn-gpu-throughput.json
else
    echo "cuda backend: UNAVAILABLE ($CUDA_OK)"
    echo "SKIPPING the CUDA conformance, work-group and gradient checks: they need an NVIDIA GPU"
    echo "== throughput, C only (CUDA skipped): a short check that the script runs =="
    run_step 200 "$PY" benchmarks/gpu_throughput.py --backends cuda c --workloads ALIF512R \
        --what inference --batch 1 --seconds 0.2 --budget 60 \
        --json /tmp/irsnn-gpu-throughput.json || exit 1
fi
echo "gpu_check: done (figures in /tmp/irsnn-gpu-throughput.json and, with a GPU," \
     "/tmp/irsnn-gpu-allreduce.json)"
