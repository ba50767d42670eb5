"""Runs of a country scenario scored against what was observed (`uprising compare`), side by side
on the machine's cores and kept as they finish.

Each finished run's comparison (`analysis.compare.compare`) is appended to a record, a JSON-lines
file named by everything its numbers depend on (scenario hash, package version, backend, observed
facts): a compare started again with the same of all of them takes the runs it finds there and
runs only the others, so an interrupted compare loses nothing that had finished, and a compare
of another scenario or version never mixes with it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import xarray as xr

from uprising.analysis.compare import compare
from uprising.run import cores
from uprising.run.api import length
from uprising.run.country import simulate_country
from uprising.run.simulate import package_version
from uprising.scenarios.country import CountryScenario
from uprising.scenarios.observed import Observed

Progress = Callable[[int, int], None]
"""`progress(seed, hours_done)` as a run goes."""


class Record:
    """The finished runs of one scenario against one set of observed facts, one line per run."""

    def __init__(self, folder: Path, spec: CountryScenario, observed: Observed) -> None:
        key = {
            "scenario": spec.name,
            "scenario_hash": spec.digest(),
            "version": package_version(),
            "backend": jax.default_backend(),
            "observed": hashlib.sha256(repr(observed).encode()).hexdigest()[:16],
        }
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
        self.path = folder / "runs" / f"{spec.name.replace('/', '-')}-{digest}.jsonl"
        self.key = key

    def load(self) -> dict[int, dict[str, Any]]:
        """Finished runs by seed (a last line cut short by an interruption is skipped)."""
        if not self.path.exists():
            return {}
        found = {}
        for line in self.path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "seed" in entry:
                found[int(entry["seed"])] = entry["result"]
        return found

    def add(self, seed: int, result: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        with self.path.open("a") as f:
            if new:
                f.write(json.dumps({"record": self.key}) + "\n")
            f.write(json.dumps({"seed": seed, "result": result}) + "\n")
            f.flush()
            os.fsync(f.fileno())


def _score(
    spec: CountryScenario,
    observed: Observed,
    seed: int,
    keep: bool,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], xr.Dataset | None]:
    """One run and its comparison (and its dataset, if `keep`)."""

    def advance(done: int, _: int) -> None:
        if progress:
            progress(seed, done)

    ds = simulate_country(spec, seed=seed, progress=advance)
    return compare(ds, observed, spec.capital), ds if keep else None


def scored_runs(
    spec: CountryScenario,
    observed: Observed,
    seeds: Sequence[int],
    record: Record | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    first: Callable[[xr.Dataset], None] | None = None,
) -> list[dict[str, Any]]:
    """The comparison of each seed's run, in the order of `seeds`.

    Runs found in `record` are taken from it; the others run, `workers` at a time in processes
    of their own (one per core: `run.cores`), or here when `workers` is 1, and are added to the
    record as each finishes. `first(ds)` gets the dataset of the first seed (run again here if
    it came from the record: the same seed gives the same numbers).
    """
    done = record.load() if record else {}
    todo = [s for s in seeds if s not in done]
    for s in seeds:
        if s in done and progress:
            progress(s, length(spec))

    def finished(seed: int, result: dict[str, Any], ds: xr.Dataset | None) -> None:
        done[seed] = result
        if record:
            record.add(seed, result)
        if ds is not None and first:
            first(ds)

    keep = lambda s: first is not None and s == seeds[0]  # noqa: E731
    if workers == 1 or len(todo) <= 1:
        for s in todo:
            finished(s, *_score(spec, observed, s, keep(s), progress))
    else:
        tasks = {s: (spec, observed, s, keep(s)) for s in todo}
        n = min(workers, len(todo))
        cores.side_by_side(_score, tasks, n, progress, lambda s, r: finished(s, *r))
    if first is not None and seeds and seeds[0] not in todo:  # taken from the record: run again
        first(simulate_country(spec, seed=seeds[0]))
    return [done[s] for s in seeds]
