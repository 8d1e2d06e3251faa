#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: run the conformance suite and the benchmarks on the CUDA
# backend and print a compact table. About 3-5 minutes.
#   pip install -e ".[test,cuda]" && bash benchmarks/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python - <<'PY'
from irsnn.backends import available_backends
ok, why = available_backends()["cuda"]
print("cuda backend:", "available" if ok else f"UNAVAILABLE ({why})")
raise SystemExit(0 if ok else 1)
PY
echo "== conformance (cuda vs reference) =="
IRSNN_CONFORMANCE_BACKENDS=cuda python -m pytest tests/conformance -q -p no:cacheprovider \
    2>&1 | tail -3
echo "== event-driven e-prop (cuda: event = online gradients) =="
python -m pytest tests/eprop/test_event_mode.py -q -p no:cacheprovider -k cuda 2>&1 | tail -3
echo "== benchmarks (cuda, c) =="
IRSNN_BENCH_BACKENDS=cuda,c python -m pytest benchmarks --benchmark-enable -q -s \
    -p no:cacheprovider --benchmark-json=/tmp/irsnn-gpu-bench.json 2>&1 \
    | grep -E "timesteps/s|cold|warm" || true
python - <<'PY'
import json
rows = json.load(open("/tmp/irsnn-gpu-bench.json"))["benchmarks"]
print(f"{'benchmark':60s} {'timesteps/s':>12s} {'example-ts/s':>13s}")
for r in rows:
    e = r.get("extra_info", {})
    if "timesteps_per_s" in e:
        print(f"{r['name'][:60]:60s} {e['timesteps_per_s']:12.4g} "
              f"{e.get('example_timesteps_per_s', 0):13.4g}")
PY
