"""Speed of the kazakhstan-2022 scenario: the whole of 1-19 January at chosen scales.

    python benchmarks/kazakhstan.py                       # 1 agent per 1,000 and per 100 people
    python benchmarks/kazakhstan.py --scales 1000         # one scale
    python benchmarks/kazakhstan.py --scales 100,1        # on a GPU: one agent per person

For each scale: the run is compiled and run once (first_run_s, compile included, excluded from
the rate), then timed over --repeats full runs; it reports the padded cells and agent slots of
the layout (every city is padded to the largest: the cost of one compiled step for 21 cities),
seconds per run (min and median), simulated hours per second and agent-hours per second (real
agents, not padding). Prints a table and writes benchmarks/results/kazakhstan-<backend>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import time
from pathlib import Path

import jax

from uprising.run.country import simulate_country
from uprising.run.simulate import package_version
from uprising.scenarios.compile import compile_country
from uprising.scenarios.country import CountryScenario
from uprising.scenarios.load import load_scenario

RESULTS = Path(__file__).resolve().parent / "results"


def measure(scale: int, repeats: int) -> dict[str, object]:
    spec = load_scenario("kazakhstan-2022", {"people_per_agent": scale})
    assert isinstance(spec, CountryScenario)
    built = compile_country(spec)
    agents = sum(built.layout.citizens) + sum(built.police)
    cities = len(built.layout.citizens)
    hours = built.calendar.hours
    t0 = time.perf_counter()
    simulate_country(spec, seed=0)
    first = time.perf_counter() - t0
    times = []
    for seed in range(1, repeats + 1):
        t0 = time.perf_counter()
        simulate_country(spec, seed=seed)
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    return {
        "people_per_agent": scale,
        "agents": agents,
        "cities": cities,
        "padded_cells": built.layout.cells * cities,
        "padded_slots": (built.layout.citizen_slots + built.layout.cop_slots) * cities,
        "hours": hours,
        "first_run_s": round(first, 2),
        "run_s_min": round(min(times), 2),
        "run_s_median": round(median, 2),
        "hours_per_s": round(hours / median, 1),
        "agent_hours_per_s": round(agents * hours / median),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1000,100", help="people per agent, comma separated")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    rows = [measure(int(s), args.repeats) for s in args.scales.split(",")]
    header = ["people_per_agent", "agents", "padded_cells", "first_run_s", "run_s_median"]
    header += ["hours_per_s", "agent_hours_per_s"]
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(f"{row[h]:,}" if isinstance(row[h], int) else str(row[h]) for h in header))
    backend = jax.default_backend()
    out = {
        "benchmark": "kazakhstan",
        "version": package_version(),
        "backend": backend,
        "device": str(jax.devices()[0]),
        "machine": platform.platform(),
        "cpus": jax.local_device_count() if backend != "cpu" else __import__("os").cpu_count(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"kazakhstan-{backend}.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
