"""A country run against what happened: per city, nationally, and the calibration targets.

Score (0..1, higher is closer), the mean of four parts:
- onset: per city with an observed first protest, exp(-|simulated - observed| / 24 h)
  (0 when the city never rises);
- seizure: share of cities with an observed seizure or observed no seizure where the run agrees;
- size: per national figure (peak participants, deaths, detentions), exp(-|log10(sim / obs)|);
- outcome: 1 if the run ends as the uprising did, else 0.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import xarray as xr

from uprising.analysis import metrics, outcome
from uprising.scenarios.observed import Observed

SIZES = ("peak_participants", "deaths", "detentions")
"""The national sizes of a run's comparison, in people."""

WEST_FOLLOWS_HOURS = 36
"""'Other western cities follow within about a day': within 36 hours of Mangystau's first."""
TARGETS = (
    "mangystau_first",
    "west_follows",
    "almaty_peaks_jan_4_5",
    "almaty_centre_lost",
    "capital_holds",
    "suppressed_by_jan_11",
)


def _hour(ds: xr.Dataset, when: datetime) -> float:
    return (when - datetime.fromisoformat(ds.attrs["start"])) / timedelta(hours=1)


def _day(ds: xr.Dataset, hour: int) -> int:
    """Day of the month an hour (counted from the start) falls in."""
    return (datetime.fromisoformat(ds.attrs["start"]) + timedelta(hours=hour)).day


def targets(ds: xr.Dataset, capital: str) -> dict[str, bool]:
    """The calibration targets of the January 2022 scenario, for one run."""
    risen = outcome.onsets(ds)
    held = outcome.seizures(ds)
    mangystau = [h for c in ("Zhanaozen", "Aktau") if (h := risen[c]) is not None]
    first = min(mangystau) if mangystau else None
    others = [h for c, h in risen.items() if h is not None and c not in ("Zhanaozen", "Aktau")]
    west = [risen[c] for c in ("Atyrau", "Aktobe", "Oral")]
    almaty = ds["active"].sel(city="Almaty").values
    national = ds["active"].values.sum(axis=1)
    end_11 = int(_hour(ds, datetime(2022, 1, 12)))  # the end of 11 January
    found = {
        "mangystau_first": first is not None and first < 48 and all(first <= h for h in others),
        "west_follows": first is not None
        and all(h is not None and h - first <= WEST_FOLLOWS_HOURS for h in west),
        "almaty_peaks_jan_4_5": _day(ds, int(almaty.argmax())) in (4, 5),
        "almaty_centre_lost": held["Almaty"] is not None,
        "capital_holds": held[capital] is None,
        "suppressed_by_jan_11": outcome.classify(ds, capital) == "suppressed"
        and national[min(end_11, len(national)) - 1] <= 0.1 * max(national.max(), 1),
    }
    return {k: bool(v) for k, v in found.items()}  # not NumPy's: a run's record is JSON


def _closeness(sim: float, obs: float) -> float:
    return math.exp(-abs(math.log10(max(sim, 1.0) / max(obs, 1.0))))


def compare(ds: xr.Dataset, observed: Observed, capital: str) -> dict[str, Any]:
    """Simulated against observed for one run, with its score."""
    per = float(ds.attrs["people_per_agent"])
    risen, held = outcome.onsets(ds), outcome.seizures(ds)
    cities: dict[str, dict[str, Any]] = {}
    onset_scores, seizure_scores = [], []
    for city in map(str, ds["city"].values):
        row: dict[str, Any] = {"onset_hour": risen[city], "seized_hour": held[city]}
        if city in observed.onset:
            obs = _hour(ds, observed.onset[city])
            row["observed_onset_hour"] = obs
            sim = risen[city]
            onset_scores.append(0.0 if sim is None else math.exp(-abs(sim - obs) / 24.0))
        if city in observed.seized or city in observed.not_seized:
            was = city in observed.seized
            row["observed_seized"] = was
            seizure_scores.append(float(was == (held[city] is not None)))
        cities[city] = row
    sizes = {
        "peak_participants": float(ds["active"].values.sum(axis=1).max() * per),
        "deaths": float(ds["deaths"].values[-1].sum() * per),
        "detentions": float(metrics.detained(ds)[-1].sum() * per),
    }
    observed_sizes = {
        "peak_participants": observed.peak_participants,
        "deaths": observed.deaths,
        "detentions": observed.detentions,
    }
    size = [_closeness(sizes[k], observed_sizes[k]) for k in sizes]
    national: dict[str, Any] = {**sizes, "outcome": outcome.classify(ds, capital)}
    observed_national: dict[str, Any] = {**observed_sizes, "outcome": observed.outcome}
    parts = {
        "onset": float(np.mean(onset_scores)) if onset_scores else float("nan"),
        "seizure": float(np.mean(seizure_scores)) if seizure_scores else float("nan"),
        "size": float(np.mean(size)),
        "outcome": float(national["outcome"] == observed.outcome),
    }
    return {
        "cities": cities,
        "national": national,
        "observed": observed_national,
        "score_parts": parts,
        "score": float(np.nanmean(list(parts.values()))),
        "targets": targets(ds, capital),
    }


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (sound for small n and for 0 or n successes)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def ensemble(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Many runs' comparisons summarised: target fractions and outcome shares with 95% intervals,
    the score's mean and sd, per-city median onset and share of runs seized, national medians."""
    n = len(results)

    def share(count: int) -> dict[str, float]:
        low, high = wilson(count, n)
        return {"fraction": count / n, "low": low, "high": high}

    cities: dict[str, dict[str, Any]] = {}
    for city, first in results[0]["cities"].items():
        onsets = [r["cities"][city]["onset_hour"] for r in results]
        risen = [h for h in onsets if h is not None]
        row = {
            "median_onset_hour": float(np.median(risen)) if risen else None,
            "risen": len(risen) / n,
            "seized": sum(r["cities"][city]["seized_hour"] is not None for r in results) / n,
        }
        row.update({k: v for k, v in first.items() if k.startswith("observed")})
        cities[city] = row
    scores = [r["score"] for r in results]
    return {
        "runs": n,
        "targets": {t: share(sum(r["targets"][t] for r in results)) for t in TARGETS},
        "outcomes": {
            o: share(sum(r["national"]["outcome"] == o for r in results)) for o in outcome.OUTCOMES
        },
        "score": {"mean": float(np.mean(scores)), "sd": float(np.std(scores))},
        "national": {k: float(np.median([r["national"][k] for r in results])) for k in SIZES},
        "observed": results[0]["observed"],
        "cities": cities,
    }
