"""Runs as plain functions: `run(params, seed) -> metrics` for other tools, `run_seeds` for many.

`run` is pure: it reads the built-in scenario (or a TOML path), applies `params` as dotted
overrides (`--set` keys: `epstein.k`, `cities.Almaty.police`, `mechanisms.news.effect`), and
returns the metrics of `analysis.metrics` as floats. No global random state is read or changed:
the same params and seed give the same numbers on the same backend. EMA Workbench, SALib,
pyabc and sbi call it as it is (examples in docs/tools.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax

from uprising.analysis import metrics
from uprising.run.country import simulate_countries
from uprising.run.simulate import simulate
from uprising.scenarios.country import CountryScenario
from uprising.scenarios.load import AnyScenario, load_scenario

Progress = Callable[[int, int], None]
"""progress(done, total), in hours (country) or steps (Epstein) summed over all runs."""


def run(
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
    *,
    scenario: str | Path = "kazakhstan-2022",
    variant: str | None = None,
) -> dict[str, float]:
    """The metrics of one run of `scenario` with `params` overriding its values."""
    spec = load_scenario(scenario, dict(params or {}), variant)
    return run_seeds(spec, [seed])[0]


def default_batch() -> int:
    """Seeds per compiled call: one on a CPU (vmap only adds work there), many on a GPU."""
    return 1 if jax.default_backend() == "cpu" else 128


def length(spec: AnyScenario) -> int:
    """Hours of a country scenario's calendar, or steps of an Epstein scenario."""
    if isinstance(spec, CountryScenario):
        return int((spec.end - spec.start).total_seconds() // 3600)
    return spec.steps


def run_seeds(
    spec: AnyScenario,
    seeds: Sequence[int],
    progress: Progress | None = None,
    batch: int | None = None,
    done: Callable[[int, dict[str, float], float], None] | None = None,
) -> list[dict[str, float]]:
    """The metrics of `spec` at each seed, in the order of `seeds`.

    Country runs go `batch` seeds to one compiled call (`default_batch()` if None); a run's
    numbers depend on its seed alone. `done(seed, metrics, wall_s)` is called as each run
    finishes (wall_s: the run's share of its batch's time), so that callers can keep them.
    """
    country = isinstance(spec, CountryScenario)
    batch = (batch or default_batch()) if country else 1
    steps, total, out = length(spec), len(seeds) * length(spec), []
    for first in range(0, len(seeds), batch):
        chunk = list(seeds[first : first + batch])
        base = first * steps

        def advance(d: int, _: int, base: int = base, n: int = len(chunk)) -> None:
            if progress:
                progress(base + d * n, total)

        t0 = time.perf_counter()
        if isinstance(spec, CountryScenario):  # (`country`, spelled out for the type checker)
            found = [
                metrics.country(ds, spec.capital) for ds in simulate_countries(spec, chunk, advance)
            ]
        else:
            found = [metrics.epstein(simulate(spec, chunk[0], progress=advance))]
        wall = (time.perf_counter() - t0) / len(chunk)
        for seed, m in zip(chunk, found, strict=True):
            out.append(m)
            if done:
                done(seed, m, wall)
    return out
