"""Speed of the kazakhstan-2022 scenario: the whole of 1-19 January at chosen scales.

    python benchmarks/kazakhstan.py                       # 1 agent per 1,000 and per 100 people
    python benchmarks/kazakhstan.py --scales 1000         # one scale
    python benchmarks/kazakhstan.py --scales 100,1        # on a GPU: one agent per person
    python benchmarks/kazakhstan.py --scales 100 --batch 64,256   # ensemble throughput

For each scale: the run is compiled and run once (first_run_s, compile included, excluded from
the rate), then timed over --repeats full runs; it reports the cells and agent slots of the
layout (the 21 cities packed into one grid with walls between them: `world/layout.py`),
seconds per run (min and median), simulated hours per second and agent-hours per second (real
agents, not spare police slots). With --batch, it also runs that many seeds in one batched call
(`simulate_countries`, as `uprising ensemble` does) and reports runs per minute: the call is timed
day by day through its progress callback and the first day (which compiles) is left out, its
median day standing in for it (at --batch-scale, 1:100 by default). Prints a table and writes
benchmarks/results/kazakhstan-<backend>.json, after every measurement.

Every resident is put on the grids (participation off, docs/model.md II.7.14), so one agent per
person is the whole 19 million, as the targets say, and the figures compare with earlier ones;
the scenario itself puts 2% of them on its grids (186,000 agents at one per person).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import jax

from uprising.run.country import simulate_countries, simulate_country
from uprising.run.simulate import package_version
from uprising.scenarios.compile import compile_country
from uprising.scenarios.country import CountryScenario
from uprising.scenarios.load import load_scenario

RESULTS = Path(__file__).resolve().parent / "results"


def everyone(scale: int) -> dict[str, object]:
    """Overrides for one agent per `scale` residents, every resident on a grid."""
    return {"people_per_agent": scale, "mechanisms.participation.enabled": False}


def printer(label: str) -> tuple[list[float], Callable[[int, int], None]]:
    """Time stamps of each simulated day, and a progress callback that prints them as they come:
    a run cut short (a lease's time limit) still tells how far it got and how fast."""
    stamps = [time.perf_counter()]

    def day(done: int, total: int) -> None:
        stamps.append(time.perf_counter())
        print(f"  {label}: hour {done}/{total}, {stamps[-1] - stamps[-2]:.2f} s", flush=True)

    return stamps, day


def measure(scale: int, repeats: int) -> dict[str, object]:
    spec = load_scenario("kazakhstan-2022", everyone(scale))
    assert isinstance(spec, CountryScenario)
    built = compile_country(spec)
    agents = sum(built.layout.citizens) + sum(built.police)
    cities = len(built.layout.citizens)
    hours = built.calendar.hours
    print(f"1:{scale}: {agents:,} agents, {built.layout.cells:,} cells", flush=True)
    t0 = time.perf_counter()
    simulate_country(spec, seed=0, progress=printer(f"1:{scale} first run (compiles)")[1])
    first = time.perf_counter() - t0
    times = []
    for seed in range(1, repeats + 1):
        t0 = time.perf_counter()
        simulate_country(spec, seed=seed, progress=printer(f"1:{scale} seed {seed}")[1])
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    return {
        "people_per_agent": scale,
        "agents": agents,
        "cities": cities,
        "cells": built.layout.cells,
        "slots": sum(built.layout.citizens) + sum(built.layout.cop_slots),
        "hours": hours,
        "first_run_s": round(first, 2),
        "run_s_min": round(min(times), 2),
        "run_s_median": round(median, 2),
        "hours_per_s": round(hours / median, 1),
        "agent_hours_per_s": round(agents * hours / median),
    }


def measure_batch(scale: int, runs: int) -> dict[str, object]:
    spec = load_scenario("kazakhstan-2022", everyone(scale))
    assert isinstance(spec, CountryScenario)
    stamps, day = printer(f"batch {runs} at 1:{scale}")
    simulate_countries(spec, range(runs), day)
    days = [b - a for a, b in zip(stamps[1:-1], stamps[2:], strict=False)]
    per_day = statistics.median(days)
    seconds = per_day * (len(stamps) - 1)
    return {
        "people_per_agent": scale,
        "runs": runs,
        "first_day_s": round(stamps[1] - stamps[0], 2),
        "day_s_median": round(per_day, 3),
        "batch_s": round(seconds, 1),
        "runs_per_minute": round(60 * runs / seconds, 1),
        "minutes_per_1000_runs": round(1000 * seconds / runs / 60, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1000,100", help="people per agent, comma separated")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch", default="", help="runs per batched call, comma separated")
    parser.add_argument("--batch-scale", type=int, default=100, help="people per agent of batches")
    parser.add_argument("--out", type=Path, help="JSON path (default benchmarks/results/...)")
    args = parser.parse_args()
    backend = jax.default_backend()
    out: dict[str, object] = {
        "benchmark": "kazakhstan",
        "version": package_version(),
        "backend": backend,
        "device": str(jax.devices()[0]),
        "machine": platform.platform(),
        "cpus": jax.local_device_count() if backend != "cpu" else os.cpu_count(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    path = args.out or RESULTS / f"kazakhstan-{backend}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = out["rows"] = []
    batch_rows = out["batches"] = []
    # Written after every measurement, so that a run stopped early keeps what it measured.
    for scale in [int(s) for s in args.scales.split(",") if s]:
        rows.append(measure(scale, args.repeats))
        path.write_text(json.dumps(out, indent=1))
    for runs in [int(b) for b in args.batch.split(",") if b]:
        batch_rows.append(measure_batch(args.batch_scale, runs))
        path.write_text(json.dumps(out, indent=1))
    header = ["people_per_agent", "agents", "cells", "first_run_s", "run_s_median"]
    header += ["hours_per_s", "agent_hours_per_s"]
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(f"{row[h]:,}" if isinstance(row[h], int) else str(row[h]) for h in header))
    if batch_rows:
        columns = list(batch_rows[0])
        print(" | ".join(columns))
        for row in batch_rows:
            print(" | ".join(str(row[c]) for c in columns))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
