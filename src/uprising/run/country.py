"""One run of a country scenario, day by day, observed into an xarray Dataset (time x city)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
import xarray as xr

from uprising.analysis import metrics, outcome
from uprising.run.simulate import provenance, provenance_of
from uprising.scenarios.compile import Compiled, compile_country
from uprising.scenarios.country import CountryScenario
from uprising.world import country as country_step
from uprising.world.layout import init

CHUNK = 24
"""Hours per compiled call (one day); fixed, so results do not depend on how progress is shown."""


def simulate_country(
    scenario: CountryScenario,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    watch: str | None = None,
    on_chunk: Callable[[int, dict[str, np.ndarray]], None] | None = None,
) -> xr.Dataset:
    """Every city, every hour of the calendar. The same scenario, seed and backend give the same
    numbers. With `watch` (a city), that city's grid every hour too: `grid` (time, y, x) of
    cell kinds (`engine.state`: EMPTY, QUIET, ACTIVE, COP; jailed citizens are off the grid)."""
    return simulate_countries(scenario, [seed], progress, watch, on_chunk)[0]


def simulate_countries(
    scenario: CountryScenario,
    seeds: Sequence[int],
    progress: Callable[[int, int], None] | None = None,
    watch: str | None = None,
    on_chunk: Callable[[int, dict[str, np.ndarray]], None] | None = None,
) -> list[xr.Dataset]:
    """One run per seed, all in one batched call (vmap); a run's numbers depend on its seed, not
    on which other seeds share its batch (nor on whether a city is watched).

    `on_chunk(hours_done, seen)` is called after each day with that day's observations (name ->
    array (run, hour, city), `grid` (run, hour, y, x) of the watched city), to show a run as it
    goes; raising from it abandons the run."""
    names = [c.name for c in scenario.cities]
    if watch is not None and watch not in names:
        raise ValueError(f"watch: unknown city {watch!r}; allowed: {', '.join(names)}")
    built = compile_country(scenario)
    box = None if watch is None else built.layout.boxes[names.index(watch)]
    hours = built.calendar.hours
    keys = [jax.random.split(jax.random.key(seed)) for seed in seeds]
    states = [
        country_step.start(init(built.layout, built.police, k_init), built.country)
        for k_init, _ in keys
    ]
    state = jax.tree_util.tree_map(lambda *xs: jax.numpy.stack(xs), *states)
    parts: dict[str, list[np.ndarray]] = {}
    for chunk, first in enumerate(range(0, hours, CHUNK)):
        n = min(CHUNK, hours - first)
        chunk_keys = jax.numpy.stack([jax.random.fold_in(k_run, chunk) for _, k_run in keys])
        state, seen = country_step.run_batch(state, built.country, chunk_keys, built.world, n, box)
        day = {name: np.asarray(values) for name, values in seen.items()}
        for name, values in day.items():
            parts.setdefault(name, []).append(values)
        if on_chunk:
            on_chunk(first + n, day)
        if progress:
            progress(first + n, hours)
    series = {name: np.concatenate(v, axis=1) for name, v in parts.items()}
    grids = series.pop("grid", None)
    runs = [
        _dataset(scenario, built, seed, {name: v[i] for name, v in series.items()})
        for i, seed in enumerate(seeds)
    ]
    if grids is None:
        return runs
    return [
        ds.assign(grid=(("time", "y", "x"), grids[i])).assign_attrs(watch=watch)
        for i, ds in enumerate(runs)
    ]


def _dataset(
    scenario: CountryScenario, built: Compiled, seed: int, series: dict[str, np.ndarray]
) -> xr.Dataset:
    cities = scenario.cities
    return xr.Dataset(
        {name: (("time", "city"), values) for name, values in series.items()},
        coords={
            "time": built.calendar.times(),
            "hour": ("time", np.arange(1, built.calendar.hours + 1)),
            "city": [c.name for c in cities],
            "lat": ("city", [c.lat for c in cities]),
            "lon": ("city", [c.lon for c in cities]),
            "population": ("city", [c.population for c in cities]),
            "citizens": ("city", list(built.layout.citizens)),
        },
        attrs={
            **provenance(scenario, seed),
            "people_per_agent": scenario.people_per_agent,
            "start": scenario.start.isoformat(),
            # Attributes hold no None: recorded only where the scenario was fitted.
            **(
                {"calibrated_people_per_agent": fitted}
                if (fitted := scenario.calibrated_people_per_agent)
                else {}
            ),
        },
    )


def summarize_country(ds: xr.Dataset, capital: str) -> dict[str, Any]:
    """The headline numbers of a country run, as plain Python values (for --json)."""
    per = int(ds.attrs["people_per_agent"])
    national = ds["active"].values.sum(axis=1)
    risen = {c: h for c, h in outcome.onsets(ds).items() if h is not None}
    held = {c: h for c, h in outcome.seizures(ds).items() if h is not None}
    return {
        **provenance_of(ds),
        "hours": int(ds.sizes["time"]),
        "people_per_agent": per,
        "calibrated_people_per_agent": ds.attrs.get("calibrated_people_per_agent"),
        "cities": int(ds.sizes["city"]),
        "citizens": int(ds["citizens"].values.sum()),
        "outcome": outcome.classify(ds, capital),
        "peak_active": int(national.max()) * per,
        "peak_time": str(ds["time"].values[int(national.argmax())])[:16],
        "deaths": int(ds["deaths"].values[-1].sum()) * per,
        "detentions": int(metrics.detained(ds)[-1].sum()) * per,
        "first_city": min(risen, key=lambda c: risen[c]) if risen else None,
        "cities_risen": len(risen),
        "centres_held": sorted(held, key=lambda c: held[c]),
    }
