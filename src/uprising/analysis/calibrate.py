"""Likelihood-free calibration of a country scenario against what happened: ABC-SMC (pyabc).

Priors are uniform over each parameter's range (`key=low:high`, as in `analysis.sensitivity`);
pyabc works on each parameter's place in its range (0..1), so its database holds those.
Each model evaluation is one run; its summary statistics, in four groups:

- onsets: per city with an observed first protest, the hour it rose (share active >= 2%),
  counted from the calendar's start; a city that has not risen within ONSET_CAP_HOURS (or by the
  end of a shorter calendar) counts as rising then. Scale: 24 hours.
- sizes: log10 of the national peak of participants, deaths and detentions (people; values
  below 1 count as 1). Scale: 1, an order of magnitude.
- seizures: the share of cities with an observed seizure, or an observed absence of one, where
  the run agrees (observed: 1). Scale: 1.
- outcome: 1 if the run ends as the uprising did (observed: 1). Scale: 1.

Distance: every statistic's error is bounded to 0..1, so that no group can drown another: an
onset or size error is 1 - exp(-|difference| / scale) (as in `analysis.compare`'s score: a day
off per onset, or an order of magnitude per size, is 0.63), a seizure or outcome error is the
difference itself (0 or 1 for the outcome). Within a group, the mean of squared errors; the
distance is the square root of the mean over groups, so each group weighs the same whatever its
number of statistics, and a wrong outcome costs as much as the worst timing. (An earlier version
left onset and size errors unbounded; far from the data they outweighed the outcome, and a
calibration could drift away from the observed end: see docs/analysis.md.)

The schedule: population 0 is the prior (epsilon infinite, every run accepted); each next
population's epsilon is the median distance of the last (pyabc's QuantileEpsilon, alpha 0.5), and
its particles are perturbed (pyabc's default multivariate normal transition) until
`population_size` are accepted; proposals outside the prior are redrawn without a run.

Reproducibility: runs happen one at a time (pyabc.sampler.SingleCoreSampler); pyabc draws
parameters from numpy's global random state, which `abc_smc` seeds from `seed` (and thereby
changes); a run's seed comes from a generator seeded with `seed`, in the order runs happen. The
same seed, settings and backend give the same posterior. The database (sqlite) also records
wall times, which differ.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from uprising.analysis import metrics, outcome
from uprising.analysis.sensitivity import Factor
from uprising.scenarios.country import CountryScenario
from uprising.scenarios.load import ScenarioError, load_scenario
from uprising.scenarios.observed import Observed

GROUPS = ("onsets", "sizes", "seizures", "outcome")
ONSET_CAP_HOURS = 168
"""A city not risen within 7 days counts as rising at 7 days (all observed onsets are earlier)."""
SCALES = {"onset": 24.0, "log10": 1.0, "seizures": 1.0, "outcome": 1.0}
SIZES = ("peak_participants", "deaths", "detentions")
DEFAULT_PRIORS = {
    "epstein.police_visibility": (10.0, 30.0),
    "epstein.arrest_rate": (0.4, 1.0),
    "mechanisms.legitimacy.per_arrest": (0.003, 0.03),
    "mechanisms.prices.sensitivity.almaty": (0.05, 0.2),
}
"""Fitted by hand and uncertain (docs/calibration.md): police visibility (tried 1-20), the police's
restraint before the emergency (0.5 let the regime fall, 1 peaked too early), erosion per arrest
(0.01; 0.003 fizzled) and Almaty's sensitivity to the price (fitted; the ranking, not the value,
is from the sources)."""

Simulate = Callable[[dict[str, float], int], Mapping[str, float]]
"""simulate(parameter values by key, seed) -> summary statistics of one run."""


def check_groups(groups: Sequence[str]) -> list[str]:
    unknown = [g for g in groups if g not in GROUPS]
    if unknown or not groups:
        raise ScenarioError(f"--stats {','.join(groups)}: allowed: {', '.join(GROUPS)}")
    return list(dict.fromkeys(groups))


def _group(stat: str) -> str:
    return {"onset": "onsets", "log10": "sizes"}.get(stat.split(":")[0], stat)


def _scale(stat: str) -> float:
    return SCALES.get(stat.split(":")[0], 1.0)


def _onset_cap(spec: CountryScenario) -> float:
    hours = (spec.end - spec.start).total_seconds() / 3600
    return float(min(ONSET_CAP_HOURS, hours))


def observed_stats(
    observed: Observed, spec: CountryScenario, groups: Sequence[str] = GROUPS
) -> dict[str, float]:
    """The observed values of the summary statistics (keys: `onset:CITY`, `log10:SIZE`,
    `seizures`, `outcome`)."""
    out: dict[str, float] = {}
    if "onsets" in groups:
        cap = _onset_cap(spec)
        for city, when in observed.onset.items():
            out[f"onset:{city}"] = min((when - spec.start).total_seconds() / 3600, cap)
    if "sizes" in groups:
        for size in SIZES:
            out[f"log10:{size}"] = math.log10(max(float(getattr(observed, size)), 1.0))
    if "seizures" in groups and (observed.seized or observed.not_seized):
        out["seizures"] = 1.0
    if "outcome" in groups:
        out["outcome"] = 1.0
    return out


def simulated_stats(
    ds: xr.Dataset, observed: Observed, spec: CountryScenario, groups: Sequence[str] = GROUPS
) -> dict[str, float]:
    """The summary statistics of one run, with the keys of `observed_stats`."""
    out: dict[str, float] = {}
    if "onsets" in groups:
        cap = _onset_cap(spec)
        risen = outcome.onsets(ds)
        for city in observed.onset:
            hour = risen[city]
            out[f"onset:{city}"] = cap if hour is None else min(float(hour), cap)
    if "sizes" in groups:
        per = float(ds.attrs["people_per_agent"])
        sizes = {
            "peak_participants": float(ds["active"].values.sum(axis=1).max()) * per,
            "deaths": float(ds["deaths"].values[-1].sum()) * per,
            "detentions": float(metrics.detained(ds)[-1].sum()) * per,
        }
        for size in SIZES:
            out[f"log10:{size}"] = math.log10(max(sizes[size], 1.0))
    if "seizures" in groups and (observed.seized or observed.not_seized):
        held = outcome.seizures(ds)
        cities = sorted(set(observed.seized) | set(observed.not_seized))
        out["seizures"] = float(
            np.mean([(c in observed.seized) == (held[c] is not None) for c in cities])
        )
    if "outcome" in groups:
        out["outcome"] = float(outcome.classify(ds, spec.capital) == observed.outcome)
    return out


def distance(x: Mapping[str, float], x0: Mapping[str, float]) -> float:
    """Root of the mean over groups of the mean squared bounded error (see the module)."""
    by_group: dict[str, list[float]] = {}
    for stat, target in x0.items():
        d = abs(float(x[stat]) - float(target)) / _scale(stat)
        group = _group(stat)
        error = 1.0 - math.exp(-d) if group in ("onsets", "sizes") else min(d, 1.0)
        by_group.setdefault(group, []).append(error * error)
    return math.sqrt(float(np.mean([np.mean(v) for v in by_group.values()])))


@dataclass(frozen=True)
class Calibration:
    posterior: pd.DataFrame
    """The last population: one column per parameter key and `weight` (sum 1)."""
    summary: pd.DataFrame
    """Per parameter: prior bounds, the scenario's value, weighted mean, sd, 5/50/95%."""
    populations: pd.DataFrame
    """Per population t: epsilon, runs (pyabc's `samples`), particles, acceptance rate."""
    runs: int
    """Runs in all, those of a population dropped by `min_acceptance` included."""


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The q-quantile of a weighted sample: the inverse of its weighted distribution function,
    interpolated between the middles of the points' weights (points of weight 0 left out)."""
    keep = np.asarray(weights, float) > 0
    v, w = np.asarray(values, float)[keep], np.asarray(weights, float)[keep]
    order = np.argsort(v)
    v, w = v[order], w[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return float(np.interp(q, cum, v))


def summarize(posterior: pd.DataFrame, factors: Sequence[Factor]) -> pd.DataFrame:
    w = posterior["weight"].to_numpy(float)
    rows = []
    for f in factors:
        v = posterior[f.key].to_numpy(float)
        mean = float(np.sum(w * v))
        rows.append(
            {
                "param": f.key,
                "prior_low": f.low,
                "prior_high": f.high,
                "scenario": f.default,
                "mean": mean,
                "sd": float(math.sqrt(max(np.sum(w * (v - mean) ** 2), 0.0))),
                **{f"q{round(q * 100):02d}": weighted_quantile(v, w, q) for q in (0.05, 0.5, 0.95)},
            }
        )
    return pd.DataFrame(rows)


def abc_smc(
    simulate: Simulate,
    factors: Sequence[Factor],
    observed: Mapping[str, float],
    db: Path,
    population_size: int = 40,
    populations: int = 4,
    seed: int = 0,
    max_runs: int | None = None,
    progress: Callable[[int], None] | None = None,
    min_acceptance: float = 0.0,
) -> Calibration:
    """ABC-SMC of `factors` (uniform priors) against `observed` statistics, `distance` above.
    The sqlite database at `db` is replaced. `progress(runs done)` after each run.

    Stops after `populations`; or, between populations, once `max_runs` runs are done; or when
    a population would need more than population_size / min_acceptance runs (that population
    is then dropped, and the posterior is the one before)."""
    import pyabc

    if populations < 2:
        raise ValueError("populations must be >= 2: population 0 is the prior")
    if population_size < 2:
        raise ValueError("population_size must be >= 2")
    keys = [f.key for f in factors]
    rng = np.random.default_rng(seed)
    done = 0

    def scaled(f: Factor, u: float) -> float:
        return f.value(f.low + float(u) * (f.high - f.low))

    def model(parameter: Mapping[str, float]) -> dict[str, float]:
        nonlocal done
        values = {f.key: scaled(f, parameter[f.key]) for f in factors}
        stats = dict(simulate(values, int(rng.integers(2**31 - 1))))
        done += 1
        if progress:
            progress(done)
        return stats

    # pyabc samples each parameter as its place in the prior range, 0..1: its transition kernel
    # estimates one covariance of all parameters, which ranges of 1e-4 beside ranges of 10 make
    # singular (weights of NaN). A uniform prior stays uniform, and weights do not change.
    prior = pyabc.Distribution(**{f.key: pyabc.RV("uniform", 0.0, 1.0) for f in factors})
    db = Path(db).resolve()
    db.parent.mkdir(parents=True, exist_ok=True)
    db.unlink(missing_ok=True)
    quiet = [logging.getLogger(n) for n in ("ABC", "ABC.History", "ABC.Sampler", "ABC.Epsilon")]
    levels = [q.level for q in quiet]
    for q in quiet:
        q.setLevel(logging.WARNING)
    np.random.seed(seed % 2**32)  # pyabc samples and perturbs from numpy's global state
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # inf - inf for epsilon 0's change
            abc = pyabc.ABCSMC(
                model,
                prior,
                lambda x, x0: distance(x, x0),
                population_size=population_size,
                sampler=pyabc.sampler.SingleCoreSampler(check_max_eval=True),
                eps=pyabc.epsilon.QuantileEpsilon(initial_epsilon=np.inf, alpha=0.5),
            )
            abc.new(f"sqlite:///{db}", dict(observed))
            history = abc.run(
                max_nr_populations=populations,
                max_total_nr_simulations=max_runs if max_runs else np.inf,
                min_acceptance_rate=min_acceptance,
            )
    finally:
        for q, level in zip(quiet, levels, strict=True):
            q.setLevel(level)
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    posterior = frame.reset_index(drop=True)[keys].astype(float)
    for f in factors:
        posterior[f.key] = [scaled(f, u) for u in posterior[f.key]]
    posterior["weight"] = np.asarray(weights, float) / np.sum(weights)
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    table = pd.DataFrame(
        {
            "t": pops["t"].astype(int),
            "epsilon": pops["epsilon"].astype(float),
            "runs": pops["samples"].astype(int),
            "particles": pops["particles"].astype(int),
        }
    )
    table["acceptance"] = table["particles"] / table["runs"].clip(lower=1)
    return Calibration(posterior, summarize(posterior, factors), table, done)


def default_factors(spec: CountryScenario) -> str:
    """DEFAULT_PRIORS as a `--params` text, for keys this scenario has."""
    from uprising.analysis.sensitivity import lookup

    keys = []
    for key, (low, high) in DEFAULT_PRIORS.items():
        try:
            lookup(spec, key)
        except ScenarioError:
            continue
        keys.append(f"{key}={low:g}:{high:g}")
    return ",".join(keys)


def scenario_simulator(
    scenario: str | Path,
    observed: Observed,
    base: Mapping[str, Any] | None = None,
    variant: str | None = None,
    groups: Sequence[str] = GROUPS,
) -> Simulate:
    """One run of a country scenario with the parameters as overrides: its summary stats."""
    from uprising.run.country import simulate_country

    base = dict(base or {})

    def simulate(values: dict[str, float], seed: int) -> dict[str, float]:
        spec = load_scenario(scenario, {**base, **values}, variant)
        assert isinstance(spec, CountryScenario)
        return simulated_stats(simulate_country(spec, seed), observed, spec, groups)

    return simulate


@dataclass(frozen=True)
class Plan:
    """A checked `uprising calibrate` request: nothing has run yet."""

    scenario: str | Path
    spec: CountryScenario
    observed: Observed
    base: dict[str, Any]
    variant: str | None
    factors: list[Factor]
    groups: list[str]
    population_size: int
    populations: int
    seed: int
    max_runs: int | None
    min_acceptance: float = 0.0


def plan(
    scenario: str | Path,
    params: str | None = None,
    *,
    stats: str | None = None,
    population_size: int = 40,
    populations: int = 4,
    base: Mapping[str, Any] | None = None,
    variant: str | None = None,
    seed: int = 0,
    max_runs: int | None = None,
    min_acceptance: float = 0.0,
) -> Plan:
    """Check a request before any run; ScenarioError (or ObservedError) names what is wrong."""
    from uprising.analysis.sensitivity import check_factors, parse_factors
    from uprising.scenarios.load import scenario_folder
    from uprising.scenarios.observed import load_observed

    base = dict(base or {})
    spec = load_scenario(scenario, base, variant)
    if not isinstance(spec, CountryScenario) or not spec.observed:
        raise ScenarioError(
            f"{scenario} is not a country scenario with observed data; calibration fits a"
            " country scenario to what happened"
        )
    if populations < 2:
        raise ScenarioError(f"--populations {populations}: at least 2 (population 0 is the prior)")
    if population_size < 2:
        raise ScenarioError(f"--population-size {population_size}: at least 2")
    if max_runs is not None and max_runs < population_size:
        raise ScenarioError(
            f"--max-runs {max_runs}: at least --population-size ({population_size})"
        )
    if not 0.0 <= min_acceptance < 1.0:
        raise ScenarioError(f"--min-acceptance {min_acceptance}: allowed: 0 <= rate < 1")
    groups = check_groups([g.strip() for g in (stats or ",".join(GROUPS)).split(",") if g.strip()])
    text = params if params is not None else default_factors(spec)
    factors = parse_factors(text, spec)
    check_factors(factors, scenario, base, variant)
    folder = scenario_folder(spec, scenario)
    observed = load_observed(folder / spec.observed, [c.name for c in spec.cities])
    if not observed_stats(observed, spec, groups):
        raise ScenarioError(f"--stats {','.join(groups)}: the observed data has none of these")
    return Plan(
        scenario,
        spec,
        observed,
        base,
        variant,
        factors,
        groups,
        population_size,
        populations,
        seed,
        max_runs,
        min_acceptance,
    )


def execute(
    checked: Plan, out: Path, progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Run a checked plan; write the posterior (Parquet: a column per key and `weight`), its
    summary (Parquet), the JSON report, the figure and pyabc's database to `out`."""
    import json

    from uprising.analysis.sensitivity import json_safe
    from uprising.run.results import write_table
    from uprising.run.simulate import provenance
    from uprising.viz.calibrate import marginals

    spec = checked.spec
    stem = spec.name.replace("/", "-")
    target = observed_stats(checked.observed, spec, checked.groups)
    db = out / f"{stem}-abc.db"
    result = abc_smc(
        scenario_simulator(
            checked.scenario, checked.observed, checked.base, checked.variant, checked.groups
        ),
        checked.factors,
        target,
        db,
        checked.population_size,
        checked.populations,
        checked.seed,
        checked.max_runs,
        progress,
        checked.min_acceptance,
    )
    priors = [{"key": f.key, "low": f.low, "high": f.high} for f in checked.factors]
    meta = {
        **provenance(spec, checked.seed),
        "command": "calibrate",
        "variant": checked.variant or "",
        "overrides": json.dumps(checked.base, default=str),
        "priors": json.dumps(priors),
        "stats": ",".join(checked.groups),
        "population_size": checked.population_size,
        "populations": len(result.populations),
        "runs": result.runs,
    }
    files = {
        "posterior": str(write_table(result.posterior, out / f"{stem}-posterior.parquet", meta)),
        "summary": str(
            write_table(result.summary, out / f"{stem}-posterior-summary.parquet", meta)
        ),
        "figure": str(
            marginals(
                result.posterior,
                result.summary,
                out / f"{stem}-posterior.png",
                f"{spec.name}: ABC-SMC posterior, {len(result.populations)} populations of"
                f" {checked.population_size}, {result.runs} runs",
            )
        ),
        "database": str(db),
    }
    path = out / f"{stem}-calibrate.json"
    files["json"] = str(path)
    report: dict[str, Any] = {
        "scenario": spec.name,
        "scenario_hash": spec.digest(),
        "variant": checked.variant,
        "overrides": checked.base,
        "people_per_agent": spec.people_per_agent,
        "priors": priors,
        "stats": checked.groups,
        "observed_stats": target,
        "population_size": checked.population_size,
        "populations": result.populations.to_dict(orient="records"),
        "runs": result.runs,
        "seed": checked.seed,
        "version": meta["version"],
        "backend": meta["backend"],
        "posterior": result.summary.to_dict(orient="records"),
        "files": files,
    }
    report = json_safe(report)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(report, indent=1, default=str))
    tmp.replace(path)
    return report
