#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: the CUDA backend's conformance (default plan, and work-group
# sizes 1/32/256 on a representative subset), the e-prop gradient tests on CUDA, then the
# throughput table of issue 19 (benchmarks/gpu_throughput.py, CUDA and C side by side). Sized
# to finish in under 5 minutes on the device (timeouts bound every step). Without a usable CUDA
# backend every CUDA step is skipped with the reason, and the script still runs end to end
# (C alone, a short table), so it can be checked on a CPU-only machine.
#   pip install -e ".[test,cuda]" && bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
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
    IRSNN_CONFORMANCE_BACKENDS=cuda timeout 120 "$PY" -m pytest tests/conformance -q \
        -p no:cacheprovider -x 2>&1 | tail -3
    echo "== work-group sizes 1, 32, 256 (cuda, representative subset) =="
    IRSNN_CONFORMANCE_BACKENDS=cuda IRSNN_CONFORMANCE_WORK_GROUPS=1,32,256 timeout 60 \
        "$PY" -m pytest tests/conformance/test_connectivity.py -q -p no:cacheprovider \
        -k "wg and (recurrent_exact or connectivity_exact)" 2>&1 | tail -3
    echo "== event-driven e-prop (cuda: event = online gradients) =="
    timeout 60 "$PY" -m pytest tests/eprop/test_event_mode.py -q -p no:cacheprovider -k cuda \
        2>&1 | tail -3
    echo "== throughput (example-timesteps/s; cuda and c on this machine) =="
    timeout 200 "$PY" benchmarks/gpu_throughput.py --budget 170 --seconds 0.3 \
        --json /tmp/irsnn-gpu-throughput.json
else
    echo "cuda backend: UNAVAILABLE ($CUDA_OK)"
    echo "SKIPPING the CUDA conformance, work-group and gradient checks: they need an NVIDIA GPU"
    echo "== throughput, C only (CUDA skipped): a short check that the script runs =="
    timeout 200 "$PY" benchmarks/gpu_throughput.py --backends cuda c --workloads ALIF512R \
        --what inference --batch 1 --seconds 0.2 --budget 60 \
        --json /tmp/irsnn-gpu-throughput.json || exit 1
fi
echo "gpu_check: done (figures in /tmp/irsnn-gpu-throughput.json)"
