#!/usr/bin/env bash
# Every GPU figure of docs/performance.md in one go, for one lent H100/H200 session (about 9 min).
# Wheels of what the GPU image lacks (pydantic and its needs, and uprising itself) go in .whl/:
# make them here with scripts/gpu_wheels.sh, then run this there with .whl carried (device tool:
# command "bash scripts/gpu_benchmarks.sh", carry [".whl"], timeout 600 s). Results and logs go
# to $OUT. Checked on a CPU in a virtual environment holding only the image's packages.
set -u
OUT=${OUT:-out/gpu}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
nvidia-smi -L
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site
python3 -c "import jax, uprising; print('jax', jax.__version__, jax.devices())" || exit 1
# One device call may run 600 s, and the lease (15 min) includes starting the machine: about 540 s
# here, the targets first. The country: 1:100 and one agent per person (issue 3's target).
timeout 200 python3 benchmarks/kazakhstan.py --scales 100,1 --repeats 1 \
    --out "$OUT/kazakhstan-gpu.json" 2>&1 | tee "$OUT/kazakhstan.log"
# The engine's targets: 19 million agents (5200x5200) and 10,000 worlds of 40x40, 400x400 beside.
timeout 230 python3 benchmarks/engine_vs_mesa.py --no-mesa --sizes 400 --gpu-sizes --batch 0 \
    --distinct-worlds 100 --timeout 90 --out "$OUT/engine_vs_mesa-gpu.json" 2>&1 | tee "$OUT/engine.log"
# The synchronous update (1 group a step): what the engine's kernels give at 19 million agents
# without the 32 dependent groups of the default, i.e. the cost of the partial update on a GPU.
timeout 100 python3 benchmarks/engine_vs_mesa.py --no-mesa --sizes 5200 --batch 0 --substeps 1 \
    --timeout 90 --out "$OUT/engine_vs_mesa-gpu-synchronous.json" 2>&1 | tee "$OUT/engine-sync.log"
