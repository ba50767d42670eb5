"""One run of a scenario: the engine stepped in chunks, observed into an xarray Dataset."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import jax
import numpy as np
import xarray as xr

from uprising.analysis import outbursts
from uprising.engine import init, run
from uprising.scenarios.country import CountryScenario
from uprising.scenarios.load import to_engine
from uprising.scenarios.schema import Scenario

CHUNK = 100
"""Steps per compiled call; fixed, so results do not depend on how progress is shown."""


@cache
def package_version() -> str:
    """The release and a digest of the code that runs, e.g. `0.2.0+3f9c01ab`.

    Results depend on the code, not only on the release number: a checkout edited between two
    runs keeps its release but not its digest, so a resumed run, sweep or ensemble will not mix
    numbers from both (they compare versions), and every result file names the code it came from.
    """
    package = Path(__file__).resolve().parents[1]
    code = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        code.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return f"{version('uprising')}+{code.hexdigest()[:8]}"


def provenance(scenario: Scenario | CountryScenario, seed: int) -> dict[str, Any]:
    """What every result records: scenario, its hash, rules, seed, package version, backend."""
    return {
        "scenario": scenario.name,
        "scenario_hash": scenario.digest(),
        "rules": scenario.rules,
        "seed": seed,
        "version": package_version(),
        "backend": jax.default_backend(),
    }


def provenance_of(ds: xr.Dataset) -> dict[str, Any]:
    """The provenance of a result, read back from its attributes as plain values."""
    return {
        key: ds.attrs[key] for key in ("scenario", "scenario_hash", "rules", "version", "backend")
    } | {"seed": int(ds.attrs["seed"])}


def simulate(
    scenario: Scenario,
    seed: int = 0,
    steps: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> xr.Dataset:
    """Time series of quiet, active and jailed citizens and cops, with the final grid.

    The same scenario, seed and backend give the same numbers.
    """
    steps = scenario.steps if steps is None else steps
    world, params = to_engine(scenario)
    key_init, key_run = jax.random.split(jax.random.key(seed))
    state = init(world, key_init)
    series: dict[str, list[np.ndarray]] = {}
    done = 0
    for chunk, start in enumerate(range(0, steps, CHUNK)):
        n = min(CHUNK, steps - start)
        state, obs = run(state, params, jax.random.fold_in(key_run, chunk), world, n)
        for name, values in obs.items():
            series.setdefault(name, []).append(np.asarray(values))
        done += n
        if progress:
            progress(done, steps)
    n_citizens = int((np.asarray(state.pos[: state.n_citizens]) >= 0).sum())
    data: dict[str, Any] = {name: ("step", np.concatenate(parts)) for name, parts in series.items()}
    data["grid"] = (("y", "x"), np.asarray(state.kind).reshape(world.height, world.width))
    return xr.Dataset(
        data,
        coords={"step": np.arange(1, steps + 1)},
        attrs={
            **provenance(scenario, seed),
            "steps": steps,
            "citizens": n_citizens,
            "cells": world.cells,
        },
    )


def summarize(ds: xr.Dataset) -> dict[str, Any]:
    """The headline numbers of a run, as plain Python values (for --json)."""
    active = ds["active"].values
    found = outbursts.find(active, outbursts.default_threshold(int(ds.attrs["cells"])))
    stats = found.summary(int(ds.attrs["steps"]))
    return {
        **provenance_of(ds),
        "steps": int(ds.attrs["steps"]),
        "citizens": int(ds.attrs["citizens"]),
        "police": int(ds["cops"].values[-1]),
        "quiet": int(ds["quiet"].values[-1]),
        "active": int(active[-1]),
        "jailed": int(ds["jailed"].values[-1]),
        "peak_active": int(active.max()),
        "outbursts": int(stats["outbursts"]),
        "mean_wait": None if np.isnan(stats["mean_wait"]) else round(stats["mean_wait"], 3),
        "mean_activation": None
        if np.isnan(stats["mean_activation"])
        else round(stats["mean_activation"], 3),
    }
