"""The numbers of one run, as a flat dict of floats: what ensembles, sweeps, sensitivity analysis
and calibration compare across runs (and what `uprising.run` returns).

Country runs count people (agents times people per agent). `duration_hours` is the span of the
uprising: from the first hour national actives reach `outcome.ENDED` (10%) of their peak to the
last hour they are above it; a run still above it at the end has its duration cut there.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from uprising.analysis import outbursts, outcome

COUNTRY = (
    *outcome.OUTCOMES,
    "peak_active",
    "deaths",
    "detentions",
    "duration_hours",
    "cities_risen",
    "centres_held",
)
"""Metrics of a country run; the first four are 0/1 indicators of how it ended."""
EPSTEIN = ("peak_active", "mean_active", "final_active", "final_jailed", "outbursts", "mean_wait")
"""Metrics of an Epstein run: counts of citizens, outbursts and steps."""


def duration(national: np.ndarray) -> int:
    """Hours from the first to the last hour national actives exceed ENDED of their peak."""
    peak = national.max()
    if peak <= 0:
        return 0
    above = np.flatnonzero(national > outcome.ENDED * peak)
    return int(above[-1] - above[0] + 1)


def detained(ds: xr.Dataset) -> np.ndarray:
    """Detentions so far, per hour and city, in agents: arrests less dispersals (a dataset
    written before dispersal existed has none)."""
    dispersed = ds["dispersed"].values if "dispersed" in ds else 0
    return ds["arrests"].values - dispersed


def country(ds: xr.Dataset, capital: str) -> dict[str, float]:
    """Outcome indicators, national sizes (people), duration and spread of a country run."""
    per = float(ds.attrs["people_per_agent"])
    national = ds["active"].values.sum(axis=1)
    ended = outcome.classify(ds, capital)
    return {
        **{o: float(o == ended) for o in outcome.OUTCOMES},
        "peak_active": float(national.max()) * per,
        "deaths": float(ds["deaths"].values[-1].sum()) * per,
        "detentions": float(detained(ds)[-1].sum()) * per,
        "duration_hours": float(duration(national)),
        "cities_risen": float(sum(h is not None for h in outcome.onsets(ds).values())),
        "centres_held": float(sum(h is not None for h in outcome.seizures(ds).values())),
    }


def epstein(ds: xr.Dataset) -> dict[str, float]:
    """Active and jailed citizens, outbursts and the mean wait between them (NaN if under two)."""
    active = ds["active"].values
    found = outbursts.find(active, outbursts.default_threshold(int(ds.attrs["cells"])))
    stats = found.summary(int(ds.attrs["steps"]))
    return {
        "peak_active": float(active.max()),
        "mean_active": float(active.mean()),
        "final_active": float(active[-1]),
        "final_jailed": float(ds["jailed"].values[-1]),
        "outbursts": float(stats["outbursts"]),
        "mean_wait": float(stats["mean_wait"]),
    }
