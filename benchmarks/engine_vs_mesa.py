"""Speed and memory of the engine against Mesa's Epstein example, on identical parameters.

    python benchmarks/engine_vs_mesa.py                 # default CPU run (about 15 minutes)
    python benchmarks/engine_vs_mesa.py --quick         # smoke run, small step counts
    python benchmarks/engine_vs_mesa.py --gpu-sizes     # on a GPU: also 5200x5200, 10,000 worlds

Every configuration runs in a fresh subprocess (this file, with --worker), so that its peak RSS
(`resource.getrusage`) is its own; a baseline subprocess that only imports the interpreter's
packages (JAX and the engine, or Mesa) and starts the backend gives the RSS that is subtracted.
The parent process never imports JAX, so that on a GPU it holds no device memory.

Parameters, both sides: rules 'mesa', citizen density 0.7, cop density 0.074, von Neumann vision
7, legitimacy 0.8, Jmax 1000, k 2.3, T 0.1, movement on (Mesa's model.py defaults).

Timing: the engine's `run` (or `run_batch`) is compiled ahead of time (reported as compile_s),
run once as a warm-up (first_run_s, excluded), then timed over repeated chunks of steps;
s/step is reported as the minimum and the median over chunks, and agent-steps/s from the
median. Mesa's first step (which builds its neighbourhood caches) is timed separately
(first_step_s) and excluded. Mesa runs at a size only while one of its steps takes under
--mesa-max-step seconds (60 by default); larger sizes are predicted from the last one measured
and skipped when the prediction exceeds the limit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CITIZEN_DENSITY = 0.7
COP_DENSITY = 0.074
VISION = 7
LEGITIMACY = 0.8
MAX_JAIL = 1000
K = 2.3
THRESHOLD = 0.1

DEFAULT_SIZES = (40, 100, 200, 400, 1000, 2000, 4000)
QUICK_SIZES = (40, 100)
MESA_SIZES = (40, 100, 200, 400)
GPU_SIZES = (5200,)
DEFAULT_BATCH = 1000
QUICK_BATCH = 20
GPU_BATCH = 10_000
GPU_BATCH_STEPS = 1000
"""The GPU target: 10,000 worlds of 40x40 for 1,000 steps in under 10 s."""
BATCH_SIDE = 40
DEFAULT_SUBSTEPS = 32
"""The engine's default, faithful partial update (docs/model.md); 1 is the synchronous update."""
RESULTS = Path(__file__).resolve().parent / "results"


# ----------------------------------------------------------------------------- workers


def _peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20


def mesa_model_class() -> type:
    """Mesa's EpsteinCivilViolence, without importing every other Mesa example.

    `mesa.examples/__init__.py` imports all examples, some of which need packages (networkx)
    that the Epstein example does not; if that fails, load the example's own package directly.
    """
    try:
        from mesa.examples.advanced.epstein_civil_violence.model import EpsteinCivilViolence
    except ImportError:
        import importlib
        import types

        import mesa

        stub = types.ModuleType("mesa.examples")
        stub.__path__ = [str(Path(mesa.__file__).parent / "examples")]
        sys.modules["mesa.examples"] = stub
        module = importlib.import_module("mesa.examples.advanced.epstein_civil_violence.model")
        EpsteinCivilViolence = module.EpsteinCivilViolence  # noqa: N806
    return EpsteinCivilViolence


def _engine_setup(side: int, substeps: int = DEFAULT_SUBSTEPS):
    import jax

    from uprising.engine import Params, World

    world = World(side, side, CITIZEN_DENSITY, COP_DENSITY, VISION, VISION, True, "mesa", substeps)
    params = Params.make(
        legitimacy=LEGITIMACY, police=COP_DENSITY, k=K, threshold=THRESHOLD, max_jail=MAX_JAIL
    )
    return jax, world, params


def _device_info(jax) -> dict[str, Any]:
    device = jax.devices()[0]
    return {
        "backend": jax.default_backend(),
        "device": str(getattr(device, "device_kind", device.platform)),
        "device_count": jax.device_count(),
        "jax_version": jax.__version__,
    }


def _device_peak_mb(jax) -> float | None:
    stats = jax.devices()[0].memory_stats() or {}
    peak = stats.get("peak_bytes_in_use")
    return None if peak is None else peak / 2**20


def _chunk_plan(spec: dict[str, Any], cells: int, backend: str) -> tuple[int, int]:
    """Steps per timed chunk and number of chunks.

    On a CPU, about a third of a second a chunk and a dozen chunks up to 1000x1000: the speed of
    a shared machine wanders by 1.5x from one second to the next, and the median of a dozen is
    less at the mercy of one bad moment than that of five chunks of a few steps.
    """
    if spec.get("steps"):
        return int(spec["steps"]), int(spec.get("chunks") or 2)
    if spec["quick"]:
        return max(1, min(10, round(2e4 / cells))), 2
    if backend == "cpu":
        return max(1, min(250, round(3e6 / cells))), (12 if cells <= 1_000_000 else 3)
    return max(10, min(200, round(3e9 / cells))), 5


def worker_baseline(spec: dict[str, Any]) -> dict[str, Any]:
    if spec["impl"] == "mesa":
        import mesa

        mesa_model_class()
        return {"peak_rss_mb": _peak_rss_mb(), "mesa_version": mesa.__version__}
    jax, _, _ = _engine_setup(40)
    jax.block_until_ready(jax.numpy.zeros(8) + 1)
    return {"peak_rss_mb": _peak_rss_mb(), **_device_info(jax)}


def worker_engine(spec: dict[str, Any]) -> dict[str, Any]:
    jax, world, params = _engine_setup(spec["side"], spec.get("substeps", DEFAULT_SUBSTEPS))
    from uprising.engine import init, init_batch, run, run_batch

    worlds = spec.get("worlds", 1)
    key = jax.random.key(spec.get("seed", 0))
    t0 = time.perf_counter()
    distinct = min(worlds, spec.get("distinct") or worlds)
    if worlds == 1:
        state = init(world, key)
    else:
        # init_batch builds worlds one by one in Python: for big batches, build `distinct` of
        # them and repeat them (each world still gets its own step keys, so runs diverge).
        state = init_batch(world, jax.random.split(key, distinct))
        reps = -(-worlds // distinct)
        state = jax.tree_util.tree_map(
            lambda x: jax.numpy.concatenate([x] * reps)[:worlds] if x.ndim else x, state
        )
    jax.block_until_ready(state)
    init_s = time.perf_counter() - t0
    leaves = jax.tree_util.tree_leaves(state)
    state_bytes = sum(leaf.nbytes for leaf in leaves)
    agents = int((state.pos >= 0).sum())
    cells = world.cells * worlds
    backend = jax.default_backend()
    steps, chunks = _chunk_plan(spec, cells, backend)

    def keys(i: int):
        k = jax.random.fold_in(jax.random.key(spec.get("seed", 0) + 1), i)
        return k if worlds == 1 else jax.random.split(k, worlds)

    fn = run if worlds == 1 else run_batch
    t0 = time.perf_counter()
    compiled = fn.lower(state, params, keys(0), world=world, steps=steps).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    state, obs = compiled(state, params, keys(0))
    jax.block_until_ready((state, obs))
    first_run_s = time.perf_counter() - t0
    per_step = []
    for i in range(chunks):
        t0 = time.perf_counter()
        state, obs = compiled(state, params, keys(i + 1))
        jax.block_until_ready((state, obs))
        per_step.append((time.perf_counter() - t0) / steps)
    return {
        "init_s": init_s,
        "distinct_initial_worlds": distinct,
        "compile_s": compile_s,
        "first_run_s": first_run_s,
        "steps_per_chunk": steps,
        "chunks": chunks,
        "s_per_step": per_step,
        "agents": agents,
        "cells": cells,
        "state_bytes": state_bytes,
        "state_bytes_per_cell": state_bytes / cells,
        "active_at_end": int(obs["active"][..., -1].sum()),
        "peak_rss_mb": _peak_rss_mb(),
        "device_peak_mb": _device_peak_mb(jax),
        **_device_info(jax),
    }


def worker_mesa(spec: dict[str, Any]) -> dict[str, Any]:
    side = spec["side"]
    t0 = time.perf_counter()
    model = mesa_model_class()(
        width=side,
        height=side,
        citizen_density=CITIZEN_DENSITY,
        cop_density=COP_DENSITY,
        citizen_vision=VISION,
        cop_vision=VISION,
        legitimacy=LEGITIMACY,
        max_jail_term=MAX_JAIL,
        active_threshold=THRESHOLD,
        arrest_prob_constant=K,
        movement=True,
        max_iters=10**9,
        seed=spec.get("seed", 0),
    )
    init_s = time.perf_counter() - t0
    agents = len(model.agents)
    t0 = time.perf_counter()
    model.step()
    first_step_s = time.perf_counter() - t0
    cells = side * side
    if spec.get("steps"):
        steps, chunks = int(spec["steps"]), int(spec.get("chunks") or 2)
    elif spec["quick"]:
        steps, chunks = 1, 2
    else:
        steps, chunks = max(1, round(2e4 / cells)), (5 if cells <= 10_000 else 3)
    per_step = []
    for _ in range(chunks):
        t0 = time.perf_counter()
        for _ in range(steps):
            model.step()
        per_step.append((time.perf_counter() - t0) / steps)
        if per_step[-1] > spec["max_step_s"]:
            break
    return {
        "init_s": init_s,
        "first_step_s": first_step_s,
        "steps_per_chunk": steps,
        "chunks": len(per_step),
        "s_per_step": per_step,
        "agents": agents,
        "cells": cells,
        "active_at_end": int(model.ACTIVE),
        "peak_rss_mb": _peak_rss_mb(),
    }


WORKERS = {"baseline": worker_baseline, "engine": worker_engine, "mesa": worker_mesa}


# ----------------------------------------------------------------------------- parent


def spawn(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one configuration in a fresh interpreter; its last stdout line is the JSON result."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s", "wall_s": time.perf_counter() - t0}
    wall = time.perf_counter() - t0
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return {"error": f"exit status {proc.returncode}: " + " | ".join(tail), "wall_s": wall}
    return {**json.loads(lines[-1]), "wall_s": wall}


def summarise(row: dict[str, Any]) -> dict[str, Any]:
    times = row.get("s_per_step") or []
    if times:
        row["s_per_step_min"] = min(times)
        row["s_per_step_median"] = statistics.median(times)
        row["agent_steps_per_s"] = row["agents"] / row["s_per_step_median"]
        row["agent_steps_per_s_best"] = row["agents"] / row["s_per_step_min"]
    return row


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit() -> str | None:
    """The checkout's commit, with '+dirty' when src/ has uncommitted changes."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return None
    return (commit + ("+dirty" if dirty else "")) or None


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("uprising")
    except PackageNotFoundError:
        return "unknown"


def default_out(meta: dict[str, Any]) -> Path:
    """benchmarks/results/engine_vs_mesa-<backend>.json: -cpu or -gpu (the device is in meta)."""
    return RESULTS / f"engine_vs_mesa-{meta.get('backend') or 'cpu'}.json"


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def print_table(rows: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    headers = [
        "config",
        "agents",
        "s/step min",
        "s/step med",
        "agent-steps/s",
        "x Mesa",
        "compile s*",
        "RSS MB",
        "B/cell",
    ]
    body = []
    for r in rows:
        if "error" in r:
            body.append([r["config"], "error"] + ["-"] * (len(headers) - 2))
            continue
        first = r.get("compile_s", r.get("first_step_s"))
        body.append(
            [
                r["config"],
                f"{r['agents']:,}",
                _fmt(r.get("s_per_step_min"), ".3g"),
                _fmt(r.get("s_per_step_median"), ".3g"),
                _fmt(r.get("agent_steps_per_s"), ".3g"),
                _fmt(r.get("ratio_vs_mesa"), ".3g"),
                _fmt(first, ".3g"),
                _fmt(r.get("rss_over_baseline_mb"), ".0f"),
                _fmt(r.get("state_bytes_per_cell"), ".1f"),
            ]
        )
    title = (
        f"engine vs Mesa: {meta['backend']} ({meta['device']}), {meta['cpu_count']} CPUs"
        f" ({meta['cpu_model']}), uprising {meta['package_version']}"
    )
    try:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for h in headers:
            table.add_column(h, justify="left" if h == "config" else "right")
        for line in body:
            table.add_row(*line)
        Console(width=160).print(table)
    except ImportError:
        print(title)
        widths = [max(len(h), *(len(line[i]) for line in body)) for i, h in enumerate(headers)]
        print("  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
        for line in body:
            print("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)))


def check_targets(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The issue's targets, where this run measured what they need."""

    targets: dict[str, Any] = {}
    for side, factor in ((100, 1000), (400, 2000)):
        for r in rows:  # one entry per engine row of that size (all cores, pinned)
            if r["impl"] == "engine" and r.get("side") == side and r.get("ratio_vs_mesa"):
                targets[f"{factor}x Mesa at {side}x{side} ({r['config']})"] = {
                    "measured": r["ratio_vs_mesa"],
                    "met": r["ratio_vs_mesa"] >= factor,
                }
    for r in rows:  # one entry per engine row (schemes of update, cores)
        if "error" in r or r["impl"] != "engine" or not r.get("s_per_step_median"):
            continue
        if r.get("side") == GPU_SIZES[0] and r.get("worlds") == 1:
            targets[f"2e9 agent-steps/s at 5200x5200 ({r['config']})"] = {
                "measured": r["agent_steps_per_s"],
                "met": r["agent_steps_per_s"] >= 2e9,
            }
        if r.get("worlds") == GPU_BATCH:
            seconds = r["s_per_step_median"] * GPU_BATCH_STEPS
            targets[f"{GPU_BATCH} worlds x {GPU_BATCH_STEPS} steps under 10 s ({r['config']})"] = {
                "measured": seconds,
                "met": seconds < 10,
            }
    per_cell = [r["state_bytes_per_cell"] for r in rows if r.get("state_bytes_per_cell")]
    if per_cell:
        targets["state at most 16 bytes per cell"] = {
            "measured": max(per_cell),
            "met": max(per_cell) <= 16,
        }
    return targets


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small step counts, for a smoke run")
    ap.add_argument("--sizes", help="comma-separated grid sides (default: 40..4000)")
    ap.add_argument("--no-mesa", action="store_true", help="engine only")
    ap.add_argument("--gpu-sizes", action="store_true", help="add 5200x5200 and 10,000 worlds")
    ap.add_argument(
        "--batch", type=int, help=f"worlds of 40x40 in the batch run (default {DEFAULT_BATCH})"
    )
    ap.add_argument(
        "--distinct-worlds",
        type=int,
        default=100,
        help="initial worlds built by init_batch, repeated to fill the batch (0: all; default 100)",
    )
    ap.add_argument(
        "--engine-cores",
        default="all",
        help="cores each engine configuration may use, comma separated for several rows"
        " (e.g. all,1; default all)",
    )
    ap.add_argument(
        "--substeps",
        default=str(DEFAULT_SUBSTEPS),
        help="groups of the partial update per step, comma separated for several rows (1:"
        f" synchronous; default {DEFAULT_SUBSTEPS}, the engine's default; batches use it)",
    )
    ap.add_argument("--mesa-max-step", type=float, default=60.0, help="seconds (default 60)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per configuration")
    ap.add_argument("--out", type=Path, help="JSON path (default benchmarks/results/...)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        spec = json.loads(args.worker)
        if spec.get("cores"):  # before JAX starts: it sizes its thread pool by these
            os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: spec["cores"]])
        print(json.dumps(WORKERS[spec["kind"]](spec)))
        return 0

    start = time.perf_counter()
    load_start = os.getloadavg()
    quick = args.quick
    if args.sizes:
        sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    else:
        sizes = list(QUICK_SIZES if quick else DEFAULT_SIZES)
    if args.gpu_sizes:
        sizes = sorted(set(sizes) | set(GPU_SIZES))
    batch = args.batch if args.batch is not None else (QUICK_BATCH if quick else DEFAULT_BATCH)
    common = {"quick": quick, "max_step_s": args.mesa_max_step}
    # None: every core the process may use (JAX's default); n: pinned to the first n of them.
    engine_cores = [None if c == "all" else int(c) for c in args.engine_cores.split(",")]
    substeps = [int(g) for g in args.substeps.split(",")]

    base_engine = spawn({"kind": "baseline", "impl": "engine", **common}, args.timeout)
    if "error" in base_engine:
        print(f"engine baseline failed: {base_engine['error']}", file=sys.stderr)
        return 1
    use_mesa = not args.no_mesa
    base_mesa: dict[str, Any] = {}
    if use_mesa:
        base_mesa = spawn({"kind": "baseline", "impl": "mesa", **common}, args.timeout)
    if "error" in base_mesa:
        print(f"Mesa unavailable, running the engine alone: {base_mesa['error']}", file=sys.stderr)
        use_mesa = False
    backend = base_engine["backend"]
    if args.gpu_sizes and backend == "cpu":
        print("warning: --gpu-sizes on a CPU backend will take a very long time", file=sys.stderr)

    rows: list[dict[str, Any]] = []
    mesa_rate: dict[int, float] = {}  # side -> Mesa agent-steps/s
    mesa_stopped = None

    def record(row: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
        row = summarise(row)
        if "peak_rss_mb" in row:
            row["baseline_rss_mb"] = baseline["peak_rss_mb"]
            row["rss_over_baseline_mb"] = row["peak_rss_mb"] - baseline["peak_rss_mb"]
        rows.append(row)
        status = row.get("error") or (
            f"{_fmt(row.get('s_per_step_median'), '.3g')} s/step,"
            f" {_fmt(row.get('agent_steps_per_s'), '.3g')} agent-steps/s"
        )
        print(f"  {row['config']}: {status} ({row['wall_s']:.0f} s)", file=sys.stderr, flush=True)
        return row

    for side in sizes:
        if use_mesa and side in MESA_SIZES and mesa_stopped is None:
            predicted = None
            if mesa_rate:
                last = max(mesa_rate)
                predicted = (CITIZEN_DENSITY + COP_DENSITY) * side * side / mesa_rate[last] * 1.3
            if predicted is not None and predicted > args.mesa_max_step:
                mesa_stopped = f"predicted {predicted:.0f} s/step at {side}x{side}"
            else:
                spec = {"kind": "mesa", "side": side, **common}
                row = spawn(spec, args.timeout)
                row = record({"config": f"mesa {side}x{side}", "impl": "mesa", "side": side,
                              "worlds": 1, **row}, base_mesa)  # fmt: skip
                if row.get("agent_steps_per_s"):
                    mesa_rate[side] = row["agent_steps_per_s"]
                if row.get("s_per_step_median", 0) > args.mesa_max_step or "error" in row:
                    mesa_stopped = f"step over {args.mesa_max_step:.0f} s or error at {side}"
        for cores, groups in itertools.product(engine_cores, substeps):
            spec = {"kind": "engine", "side": side, "cores": cores, "substeps": groups, **common}
            row = spawn(spec, args.timeout)
            config = f"engine {side}x{side}" + (f", {cores} core" if cores else "")
            config += f", {groups} group{'s' * (groups > 1)}" if groups != DEFAULT_SUBSTEPS else ""
            row = record({"config": config, "impl": "engine", "side": side, "cores": cores,
                          "substeps": groups, "worlds": 1, **row}, base_engine)  # fmt: skip
            if side in mesa_rate and row.get("agent_steps_per_s"):
                row["ratio_vs_mesa"] = row["agent_steps_per_s"] / mesa_rate[side]

    batches = [(batch, {})] if batch > 0 else []
    if args.gpu_sizes:
        batches.append((GPU_BATCH, {"steps": GPU_BATCH_STEPS, "chunks": 2}))
    for worlds, extra in batches:
        spec = {"kind": "engine", "side": BATCH_SIDE, "worlds": worlds, **common, **extra,
                "substeps": substeps[0]}  # fmt: skip
        spec["distinct"] = args.distinct_worlds or worlds
        row = spawn(spec, args.timeout)
        config = f"engine batch {worlds}x{BATCH_SIDE}x{BATCH_SIDE}"
        config += f", {substeps[0]} groups" if substeps[0] != DEFAULT_SUBSTEPS else ""
        row = record({"config": config, "impl": "engine", "side": BATCH_SIDE, "worlds": worlds,
                      **row}, base_engine)  # fmt: skip
        if BATCH_SIDE in mesa_rate and row.get("agent_steps_per_s"):
            row["ratio_vs_mesa"] = row["agent_steps_per_s"] / mesa_rate[BATCH_SIDE]

    meta = {
        "package_version": package_version(),
        "git_commit": git_commit(),
        "jax_version": base_engine.get("jax_version"),
        "mesa_version": base_mesa.get("mesa_version"),
        "backend": backend,
        "device": base_engine.get("device"),
        "device_count": base_engine.get("device_count"),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "hostname": socket.gethostname(),
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "argv": sys.argv[1:] if argv is None else argv,
        "quick": quick,
        "mesa_stopped": mesa_stopped,
        "loadavg_start": load_start,
        "loadavg_end": os.getloadavg(),
        "wall_s": time.perf_counter() - start,
    }
    params = {
        "rules": "mesa",
        "citizen_density": CITIZEN_DENSITY,
        "cop_density": COP_DENSITY,
        "vision": VISION,
        "legitimacy": LEGITIMACY,
        "max_jail": MAX_JAIL,
        "k": K,
        "threshold": THRESHOLD,
        "movement": True,
    }
    result = {
        "meta": meta,
        "params": params,
        "baseline_rss_mb": {
            "engine": base_engine["peak_rss_mb"],
            "mesa": base_mesa.get("peak_rss_mb"),
        },
        "results": rows,
        "targets": check_targets(rows),
    }
    print_table(rows, meta)
    print("* engine: ahead-of-time compile of the timed run; Mesa: its first step (caches)")
    for r in rows:
        if "error" in r:
            print(f"error in {r['config']}: {r['error']}")
    for name, t in result["targets"].items():
        print(f"target {name}: measured {t['measured']:.4g} -> {'met' if t['met'] else 'NOT met'}")
    out = args.out or default_out(meta)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out} ({meta['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
