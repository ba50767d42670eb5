"""benchmarks/engine_vs_mesa.py runs end to end in --quick mode and writes the JSON it promises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "engine_vs_mesa.py"

ROW_FIELDS = {
    "config",
    "impl",
    "side",
    "worlds",
    "agents",
    "cells",
    "s_per_step",
    "s_per_step_min",
    "s_per_step_median",
    "agent_steps_per_s",
    "peak_rss_mb",
    "rss_over_baseline_mb",
}
ENGINE_FIELDS = {"compile_s", "first_run_s", "state_bytes", "state_bytes_per_cell"}
META_FIELDS = {
    "package_version",
    "jax_version",
    "backend",
    "device",
    "cpu_count",
    "cpu_model",
    "date",
    "wall_s",
}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # Both runs compile the same 40x40 world: a persistent cache spares the second compile.
    cache = tmp_path_factory.mktemp("jax-cache")
    return {
        **os.environ,
        "JAX_COMPILATION_CACHE_DIR": str(cache),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
        "JAX_PLATFORMS": "cpu",
    }


def run_bench(out: Path, env: dict[str, str], *extra: str) -> dict:
    cmd = [sys.executable, str(SCRIPT), "--quick", "--sizes", "40", "--batch", "0"]
    proc = subprocess.run(
        [*cmd, "--out", str(out), *extra], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(out.read_text())


@pytest.mark.parametrize("mesa", [True, False], ids=["with-mesa", "no-mesa"])
def test_quick_benchmark_writes_expected_json(tmp_path: Path, env: dict, mesa: bool) -> None:
    # Without Mesa, the engine also runs pinned to one core (a row of its own).
    extra = [] if mesa else ["--no-mesa", "--engine-cores", "all,1"]
    data = run_bench(tmp_path / "bench.json", env, *extra)
    assert data["meta"].keys() >= META_FIELDS
    assert data["meta"]["quick"] is True
    assert data["params"]["rules"] == "mesa"
    rows = {r["config"]: r for r in data["results"]}
    expected = {"mesa 40x40", "engine 40x40"} if mesa else {"engine 40x40", "engine 40x40, 1 core"}
    assert set(rows) == expected
    for row in rows.values():
        assert "error" not in row, row["error"]
        assert row.keys() >= ROW_FIELDS
        assert row["agents"] > 0
        assert 0 < row["s_per_step_min"] <= row["s_per_step_median"]
    engine = rows["engine 40x40"]
    assert engine.keys() >= ENGINE_FIELDS
    assert 0 < engine["state_bytes_per_cell"] < 100
    if mesa:
        assert "first_step_s" in rows["mesa 40x40"]
        assert engine["ratio_vs_mesa"] == pytest.approx(
            engine["agent_steps_per_s"] / rows["mesa 40x40"]["agent_steps_per_s"]
        )
    else:
        assert "ratio_vs_mesa" not in engine
