"""Many runs of one scenario: how likely each outcome is, and how big, deadly and long it gets.

An ensemble is a table, one row per run (seed, the parameters drawn for it if any, and the
metrics of `analysis.metrics`), from which outcome probabilities (with 95% Wilson intervals) and
quantiles of every metric are read. Runs go to the device in batches (`run_seeds`); with a
posterior (from `uprising calibrate`), each run draws its parameters from it first.

With a `table` path, the table is rewritten (atomically) after every batch, and an ensemble
started again with the same scenario, variant and seeds reuses the runs already there: an
interrupted ensemble loses nothing that had finished.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pandas as pd

from uprising.analysis import metrics, outcome
from uprising.analysis.compare import wilson
from uprising.run import cores
from uprising.run.api import Progress, length, run_seeds
from uprising.run.country import simulate_country
from uprising.run.results import read_metadata, write_table
from uprising.run.simulate import package_version
from uprising.scenarios.country import CountryScenario
from uprising.scenarios.load import AnyScenario, with_country_overrides

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
SIZES = ("peak_active", "deaths", "detentions", "duration_hours")
"""The distributions an ensemble reports beside its outcome probabilities."""


@dataclass(frozen=True)
class Ensemble:
    """One row per run, and where it came from."""

    scenario: str
    variant: str | None
    scenario_hash: str
    table: pd.DataFrame

    @property
    def runs(self) -> int:
        return len(self.table)

    def probabilities(self) -> dict[str, dict[str, float]]:
        """Share of runs ending in each outcome, with its 95% Wilson interval."""
        out = {}
        for name in outcome.OUTCOMES:
            hits = int(self.table[name].sum())
            low, high = wilson(hits, self.runs)
            out[name] = {"p": hits / self.runs, "low": low, "high": high}
        return out

    def quantiles(self) -> dict[str, dict[str, float]]:
        """5, 25, 50, 75 and 95% quantiles (and the mean) of the size metrics."""
        return {
            name: {f"q{round(q * 100):02d}": float(self.table[name].quantile(q)) for q in QUANTILES}
            | {"mean": float(self.table[name].mean())}
            for name in SIZES
        }

    def summary(self) -> dict[str, Any]:
        """A JSON-ready digest: provenance, probabilities with intervals, quantiles."""
        return {
            "scenario": self.scenario,
            "variant": self.variant,
            "scenario_hash": self.scenario_hash,
            "version": package_version(),
            "runs": self.runs,
            "seeds": [int(self.table["seed"].min()), int(self.table["seed"].max())],
            "probabilities": self.probabilities(),
            "quantiles": self.quantiles(),
        }


def draw(posterior: pd.DataFrame, runs: int, seed: int) -> list[dict[str, Any]]:
    """`runs` parameter sets drawn (with replacement, by weight) from a posterior table."""
    keys = [c for c in posterior.columns if c != "weight"]
    weights = posterior["weight"].to_numpy(float)
    rows = np.random.default_rng(seed).choice(len(posterior), size=runs, p=weights / weights.sum())
    return [{k: float(posterior[k].iloc[r]) for k in keys} for r in rows]


IDENTITY = ("scenario_hash", "variant", "posterior", "first_seed", "version")
"""What must match for an ensemble to reuse the runs of an interrupted one."""


def _reusable(path: Path | None, meta: dict[str, Any]) -> pd.DataFrame:
    """Runs a previous, interrupted ensemble left at `path`, if it ran the same model."""
    if path is None or not path.exists():
        return pd.DataFrame()
    found = read_metadata(path)
    differ = [k for k in IDENTITY if found.get(k) != meta[k]]
    if differ:
        raise ValueError(
            f"{path} holds an ensemble with another {', '.join(differ)}; choose another --out"
        )
    return pd.read_parquet(path)


def ensemble(
    spec: AnyScenario,
    runs: int,
    seed: int = 0,
    *,
    variant: str | None = None,
    batch: int | None = None,
    posterior: pd.DataFrame | None = None,
    table: Path | None = None,
    progress: Progress | None = None,
    done: Callable[[int, dict[str, Any], float], None] | None = None,
    workers: int = 1,
) -> Ensemble:
    """`runs` runs of a country scenario at seeds seed, seed+1, ...

    With `workers` > 1, that many runs go side by side, one per core (`run.cores`), one seed per
    call. `done(seed, row, wall_s)` is called as each new run finishes (to record it elsewhere).
    """
    if not isinstance(spec, CountryScenario):
        raise ValueError(f"{spec.name} is not a country scenario: ensembles classify outcomes")
    seeds = list(range(seed, seed + runs))
    params = draw(posterior, runs, seed) if posterior is not None else [{} for _ in seeds]
    meta: dict[str, Any] = {
        "scenario": spec.name,
        "scenario_hash": spec.digest(),
        "variant": str(variant),
        "posterior": "none" if posterior is None else _digest(posterior),
        "first_seed": seed,
        "version": package_version(),
        "backend": jax.default_backend(),
    }
    previous = _reusable(table, meta)
    have = set(previous["seed"]) if len(previous) else set()
    rows: list[dict[str, Any]] = previous.to_dict("records") if len(previous) else []

    def finished(s: int, found: dict[str, float], wall: float) -> None:
        row = {"seed": s, **params[s - seed], **found}
        rows.append(row)
        if table is not None:  # small: rewriting it per run costs milliseconds
            write_table(_frame(rows), table, meta)
        if done:
            done(s, row, wall)

    todo = [s for s in seeds if s not in have]
    # With a posterior, every run its own parameters: one run per call.
    spec_of = (
        {s: with_country_overrides(spec, params[s - seed]) for s in todo}
        if posterior is not None
        else dict.fromkeys(todo, spec)
    )
    hours = length(spec)
    if workers > 1 and len(todo) > 1:
        total = len(todo) * hours
        advance_one = cores.summed(lambda d: progress(d, total)) if progress else None
        calls = {s: (spec_of[s], s) for s in todo}
        n = min(workers, len(todo))
        cores.side_by_side(_one_run, calls, n, advance_one, lambda s, r: finished(s, *r))
    else:
        groups = [(spec, todo)] if posterior is None else [(spec_of[s], [s]) for s in todo]
        before = 0
        for one_spec, group in groups:

            def advance(d: int, _: int, before: int = before) -> None:
                if progress:
                    progress(before * hours + d, len(todo) * hours)

            run_seeds(one_spec, group, advance, batch, finished)
            before += len(group)
    frame = _frame(rows)
    frame = frame[frame["seed"].isin(seeds)].reset_index(drop=True)
    return Ensemble(spec.name, variant, spec.digest(), frame)


def _one_run(
    spec: CountryScenario, seed: int, progress: Callable[[int, int], None]
) -> tuple[dict[str, float], float]:
    """One run's metrics and wall time, in a worker of `cores.side_by_side`."""
    t0 = time.perf_counter()
    ds = simulate_country(spec, seed=seed, progress=lambda d, _: progress(seed, d))
    return metrics.country(ds, spec.capital), time.perf_counter() - t0


def _digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()[:16]


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    columns = ["seed", *[c for c in frame.columns if c not in ("seed", *metrics.COUNTRY)]]
    return frame[columns + list(metrics.COUNTRY)].sort_values("seed").reset_index(drop=True)


def load_posterior(path: Path) -> pd.DataFrame:
    """A posterior table (one column per dotted parameter key, and `weight`), checked."""
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read posterior {path}: {e}") from None
    if "weight" not in frame.columns or len(frame.columns) < 2 or frame.empty:
        raise ValueError(
            f"{path} is not a posterior: it needs a 'weight' column and one column per parameter"
            f" (found {', '.join(map(str, frame.columns)) or 'none'})"
        )
    if (frame["weight"] < 0).any() or not np.isfinite(frame["weight"]).all():
        raise ValueError(f"{path}: weights must be finite and non-negative")
    return frame
