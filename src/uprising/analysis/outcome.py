"""How a country run ends, by explicit rules.

The seed: "Either the government resigns—or is overthrown ... or the government suppresses the
uprising with a tremendous use of force ... Or ... a prolonged and destructive civil war".
DESIGN adds a settlement (demands met, regime survives, as the fuel protests in France and
Ecuador ended). In order:

1. regime_falls: protesters hold the capital's centre for FALL_HOURS hours in a row, or at one
   hour hold the centres of cities with at least FALL_POPULATION of the population;
2. the uprising has ended when national actives at the end are at most ENDED of their peak, or
   fewer than ONGOING_PER_10K per 10,000 residents (a trickle is not a prolonged conflict):
   suppressed if anyone was killed, or if the streets were cleared by arrest (arrests after the
   national peak at least CLEARED times the actives at the peak); else settlement (most of the
   crowd went home without being killed or detained);
3. otherwise prolonged.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

OUTCOMES = ("regime_falls", "suppressed", "settlement", "prolonged")
FALL_HOURS = 24
FALL_POPULATION = 0.5
ENDED = 0.1
ONGOING_PER_10K = 1.0
"""Actives (people) per 10,000 residents in the last hour below which an uprising has ended,
whatever its peak: at one agent per 40 people, 23 agents in the 21 cities of kazakhstan-2022."""
CLEARED = 0.5
"""Arrests after the national peak, per active at the peak, that make an end by force."""
ONSET_SHARE = 0.02
"""A city has risen in the first hour its share of actives reaches this."""


def longest_run(flags: np.ndarray) -> int:
    best = run = 0
    for f in flags:
        run = run + 1 if f else 0
        best = max(best, run)
    return best


def classify(ds: xr.Dataset, capital: str) -> str:
    held = ds["held"].values.astype(bool)
    cities = list(ds["city"].values)
    population = ds["population"].values.astype(float)
    held_population = (held * population).sum(axis=1) / population.sum()
    if longest_run(held[:, cities.index(capital)]) >= FALL_HOURS or (
        held_population.max() >= FALL_POPULATION
    ):
        return "regime_falls"
    national = ds["active"].values.sum(axis=1)
    per_10k = national[-1] * ds.attrs.get("people_per_agent", 1) / population.sum() * 1e4
    if national[-1] <= ENDED * max(national.max(), 1) or per_10k < ONGOING_PER_10K:
        arrests = ds["arrests"].values.sum(axis=1)
        peak = national.max()
        cleared = peak > 0 and arrests[-1] - arrests[national.argmax()] >= CLEARED * peak
        killed = ds["deaths"].values[-1].sum() > 0
        return "suppressed" if killed or cleared else "settlement"
    return "prolonged"


def onsets(ds: xr.Dataset) -> dict[str, int | None]:
    """The hour (from the start) each city rose, or None."""
    share = ds["active"].values / ds["citizens"].values[None, :]
    risen = share >= ONSET_SHARE
    return {
        str(c): (int(risen[:, i].argmax()) if risen[:, i].any() else None)
        for i, c in enumerate(ds["city"].values)
    }


def seizures(ds: xr.Dataset) -> dict[str, int | None]:
    """The first hour protesters held each city's centre, or None."""
    held = ds["held"].values.astype(bool)
    return {
        str(c): (int(held[:, i].argmax()) if held[:, i].any() else None)
        for i, c in enumerate(ds["city"].values)
    }
