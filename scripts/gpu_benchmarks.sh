#!/usr/bin/env bash
# Every GPU figure of docs/performance.md in one go, for one lent H100/H200 session (about 11 min).
# Wheels of what the GPU image lacks (pydantic and its needs, and uprising itself) go in .whl/
# (see the device tool's README); results and logs go to $OUT.
set -u
OUT=${OUT:-out/gpu}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
nvidia-smi -L
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site
python3 -c "import jax, uprising; print('jax', jax.__version__, jax.devices())" || exit 1
timeout 220 python3 benchmarks/kazakhstan.py --scales 1000,100,1 --repeats 1 --batch 100,400 \
    --out "$OUT/kazakhstan-gpu.json" 2>&1 | tee "$OUT/kazakhstan.log"
timeout 280 python3 benchmarks/engine_vs_mesa.py --no-mesa --sizes 100,400,1000,2000,4000 \
    --gpu-sizes --distinct-worlds 100 --timeout 120 --out "$OUT/engine_vs_mesa-gpu.json" \
    2>&1 | tee "$OUT/engine.log"
# The synchronous update (1 group a step): what the engine's kernels give at 19 million agents
# without the 32 dependent groups of the default, i.e. the cost of the partial update on a GPU.
timeout 130 python3 benchmarks/engine_vs_mesa.py --no-mesa --sizes 5200 --batch 0 --substeps 1 \
    --timeout 120 --out "$OUT/engine_vs_mesa-gpu-synchronous.json" 2>&1 | tee "$OUT/engine-sync.log"
