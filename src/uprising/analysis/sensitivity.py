"""Sobol sensitivity of a scenario's outcomes to its parameters (SALib).

Parameters ("factors") are dotted scenario keys, each with a range: `key=low:high`, or `key`
alone for the scenario's own value x0.5 .. x1.5, clipped to the schema's bounds (a whole-number
key is rounded when applied). Sampling is Saltelli's extension of the Sobol' sequence
(`SALib.sample.sobol`, first and total order only): N base points give N * (D + 2) runs for D
factors, N a power of two.

Seeds. A run's random seed is a hidden input, treated as one more column of Saltelli's matrix A:
the A row of block j and its D cross rows AB_i (A with factor i from B) share one seed, the B
row gets another. So S1 (from B against AB_i, which share factor i but not the seed) is the
share of variance due to factor i alone, and ST (from A against AB_i, which share everything
but factor i) is factor i with all its interactions, chance included. The variance they divide
is the total, chance included: 1 - sum(S1) is what interactions and chance explain.

Outcome indicators. For a 0/1 indicator I(x, seed) with probability P(x) = E[I | x],
E[I | x_i] = E[P | x_i], so the first-order index of the indicator is that of the probability
scaled by Var(P) / Var(I): averaging indicators over the Sobol design decomposes the outcome's
probability, and the part of Var(I) no factor explains, E[P (1 - P)], is chance.
"""

from __future__ import annotations

import json
import math
import types
import typing
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from uprising.scenarios.country import CountryScenario
from uprising.scenarios.load import AnyScenario, ScenarioError, load_scenario
from uprising.scenarios.schema import OVERRIDABLE, ParamsSpec, WorldSpec

Evaluate = Callable[[dict[str, float], int], Mapping[str, float]]
"""evaluate(values by key, seed) -> metrics: one run of the model."""
Progress = Callable[[int, int], None]
"""progress(runs done, runs in all)."""

COLUMNS = ("param", "metric", "S1", "S1_conf", "ST", "ST_conf")
DEFAULT_SPREAD = 0.5
"""`key` alone: the scenario's value times 1 - spread .. 1 + spread."""


@dataclass(frozen=True)
class Factor:
    """A parameter varied over [low, high]; `integer`: rounded when applied."""

    key: str
    low: float
    high: float
    integer: bool = False
    default: float | None = None
    """The scenario's own value."""

    def value(self, x: float) -> float:
        return float(round(x)) if self.integer else float(x)


def _walk(data: Any, key: str, what: str) -> Any:
    node = data
    for part in key.split("."):
        if isinstance(node, list):  # cities by name, events by id
            named = {item.get("name", item.get("id")): item for item in node}
            if part not in named:
                raise ScenarioError(f"{what} {key}: no {part!r} here; allowed: {', '.join(named)}")
            node = named[part]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            allowed = ", ".join(sorted(node)) if isinstance(node, dict) else "(none)"
            raise ScenarioError(f"{what} {key}: unknown key {part!r}; allowed: {allowed}")
    return node


def _field(model: type[BaseModel], parts: list[str]) -> tuple[Any, Any]:
    """The pydantic field (or None) and the type at a dotted path through the schema."""
    tp: Any = model
    info = None
    for part in parts:
        if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
            return None, None
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            info = tp.model_fields.get(part)
            tp = info.annotation if info else None
        elif origin is list:
            info, tp = None, typing.get_args(tp)[0]
        elif origin is dict:
            info, tp = None, typing.get_args(tp)[1]
        else:
            return None, None
    return info, tp


def lookup(spec: AnyScenario, key: str, what: str = "--params") -> tuple[float, dict[str, Any]]:
    """The scenario's current value of `key` and the schema's limits on it:
    {"ge"/"gt"/"le"/"lt": bound, "integer": bool}. Raises ScenarioError for an unknown key or a
    value that is not a number."""
    if isinstance(spec, CountryScenario):
        data: Any = spec.model_dump()
        value = _walk(data, key, what)
        info, tp = _field(CountryScenario, key.split("."))
    else:
        section = OVERRIDABLE.get(key)
        if section is None:
            raise ScenarioError(
                f"{what} {key}: unknown key; allowed: {', '.join(sorted(OVERRIDABLE))}"
            )
        sections: dict[str, type[BaseModel]] = {"world": WorldSpec, "params": ParamsSpec}
        model = sections.get(section, type(spec))
        value = getattr(getattr(spec, section) if section else spec, key)
        info = model.model_fields[key]
        tp = info.annotation
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(
            f"{what} {key}: its value {value!r} is not a number; only numeric keys can be varied"
        )
    limits: dict[str, Any] = {"integer": tp is int}
    for m in info.metadata if info else []:
        for name in ("ge", "gt", "le", "lt"):
            if getattr(m, name, None) is not None:
                limits[name] = float(getattr(m, name))
    return float(value), limits


def _number(text: str, item: str, what: str) -> float:
    try:
        x = float(text)
    except ValueError:
        x = math.nan
    if not math.isfinite(x):
        raise ScenarioError(f"{what} {item}: {text!r} is not a number")
    return x


def parse_factors(text: str, spec: AnyScenario, what: str = "--params") -> list[Factor]:
    """`key,key=low:high,...` against a scenario: keys checked, bounds defaulted and clipped."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise ScenarioError(f"{what}: give at least one KEY or KEY=LOW:HIGH, comma-separated")
    factors: list[Factor] = []
    for item in items:
        key, sep, bounds = (s.strip() for s in item.partition("="))
        if not key:
            raise ScenarioError(f"{what} {item!r}: each item is KEY or KEY=LOW:HIGH")
        if key in [f.key for f in factors]:
            raise ScenarioError(f"{what} {key}: given twice")
        value, limits = lookup(spec, key, what)
        if sep:
            lo_text, colon, hi_text = bounds.partition(":")
            if not colon:
                raise ScenarioError(f"{what} {item}: bounds are LOW:HIGH, got {bounds!r}")
            low, high = _number(lo_text, item, what), _number(hi_text, item, what)
        else:
            ends = [float(f"{value * (1 + s * DEFAULT_SPREAD):.12g}") for s in (-1, 1)]
            low, high = min(ends), max(ends)
            low, high = max(low, limits.get("ge", -math.inf)), min(high, limits.get("le", math.inf))
            if low <= limits.get("gt", -math.inf) or high >= limits.get("lt", math.inf):
                raise ScenarioError(
                    f"{what} {key}: x{1 - DEFAULT_SPREAD:g}..x{1 + DEFAULT_SPREAD:g} of {value:g}"
                    f" leaves the allowed range; give {key}=LOW:HIGH"
                )
        if not sep and not low < high:
            raise ScenarioError(
                f"{what} {key}: its value is {value:g}, so x{1 - DEFAULT_SPREAD:g}..x"
                f"{1 + DEFAULT_SPREAD:g} is no range; give {key}=LOW:HIGH"
            )
        if not low < high:
            raise ScenarioError(
                f"{what} {item}: bounds reversed or equal ({low:g} >= {high:g});"
                f" give {key}=LOW:HIGH with LOW < HIGH"
            )
        if limits["integer"] and math.floor(high) - math.ceil(low) < 1:
            raise ScenarioError(
                f"{what} {key}: a whole number; {low:g}:{high:g} holds fewer than two values"
            )
        factors.append(Factor(key, low, high, limits["integer"], value))
    return factors


def check_factors(
    factors: Sequence[Factor],
    scenario: str | Path,
    base: Mapping[str, Any] | None = None,
    variant: str | None = None,
    what: str = "--params",
) -> None:
    """Load the scenario at each factor's bounds, then at all lows and all highs together, so
    that a range the model refuses is an error before any run, naming the key."""
    base = dict(base or {})
    for f in factors:
        for x in (f.low, f.high):
            try:
                load_scenario(scenario, {**base, f.key: f.value(x)}, variant)
            except ScenarioError as e:
                raise ScenarioError(f"{what} {f.key}={f.low:g}:{f.high:g}: at {x:g}: {e}") from None
    for label, pick in (("lows", "low"), ("highs", "high")):
        try:
            load_scenario(
                scenario, {**base, **{f.key: f.value(getattr(f, pick)) for f in factors}}, variant
            )
        except ScenarioError as e:
            raise ScenarioError(f"{what}: all {label} together: {e}") from None


def problem(factors: Sequence[Factor]) -> dict[str, Any]:
    return {
        "num_vars": len(factors),
        "names": [f.key for f in factors],
        "bounds": [[f.low, f.high] for f in factors],
    }


def check_n(n: int) -> None:
    if n < 2 or n & (n - 1):
        below = 2 ** max(1, math.floor(math.log2(max(n, 2))))
        raise ScenarioError(
            f"--n {n}: Sobol' sampling needs a power of two >= 2;"
            f" allowed: {below}, {below * 2}, ..."
        )


def design(factors: Sequence[Factor], n: int, seed: int = 0) -> np.ndarray:
    """Saltelli's design, N * (D + 2) rows (first and total order), values as applied."""
    from SALib.sample import sobol as sobol_sample

    check_n(n)
    x = sobol_sample.sample(problem(factors), n, calc_second_order=False, seed=seed)
    for j, f in enumerate(factors):
        x[:, j] = [f.value(v) for v in x[:, j]]
    return x


def seeds(n: int, d: int, seed: int = 0) -> np.ndarray:
    """A run's seed per row of the design: A and its AB rows share one, B has its own."""
    block = np.full(d + 2, 0)
    block[-1] = 1
    return seed + 2 * np.repeat(np.arange(n), d + 2) + np.tile(block, n)


def analyse(
    factors: Sequence[Factor], outputs: Mapping[str, np.ndarray], seed: int = 0
) -> pd.DataFrame:
    """First and total order indices with 95% bootstrap intervals, one row per (param, metric).

    The estimators divide by the variance over the A and B rows of the design: a metric that
    does not vary there (an outcome in every one of those runs) has no indices, NaN (SALib would
    report 0)."""
    from SALib.analyze import sobol as sobol_analyze

    step = len(factors) + 2
    rows = []
    for metric, y in outputs.items():
        y = np.asarray(y, dtype=float)
        if not np.isfinite(y).all() or np.ptp(np.r_[y[::step], y[step - 1 :: step]]) == 0:
            si: dict[str, Any] = {k: [math.nan] * len(factors) for k in COLUMNS[2:]}
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                warnings.simplefilter("ignore", UserWarning)  # constant bootstrap resamples
                # SALib ignores a seed of 0 (it then draws from numpy's global state): seed + 1.
                si = sobol_analyze.analyze(
                    problem(factors), y, calc_second_order=False, seed=seed + 1
                )
        for j, f in enumerate(factors):
            rows.append(
                {"param": f.key, "metric": metric, **{k: float(si[k][j]) for k in COLUMNS[2:]}}
            )
    return pd.DataFrame(rows, columns=list(COLUMNS))


@dataclass(frozen=True)
class Sensitivity:
    indices: pd.DataFrame
    """param, metric, S1, S1_conf, ST, ST_conf."""
    runs: pd.DataFrame
    """One row per run: the factors' values, seed, and every metric the run returned."""


def sobol(
    evaluate: Evaluate,
    factors: Sequence[Factor],
    n: int,
    metrics: Sequence[str],
    seed: int = 0,
    progress: Progress | None = None,
) -> Sensitivity:
    """Sobol' indices of `metrics` of `evaluate` over `factors`: N * (D + 2) runs, in order."""
    check_n(n)
    x = design(factors, n, seed)
    run_seeds = seeds(n, len(factors), seed)
    rows = []
    for i, (values, s) in enumerate(zip(x, run_seeds, strict=True)):
        params = {f.key: float(v) for f, v in zip(factors, values, strict=True)}
        found = dict(evaluate(params, int(s)))
        missing = [m for m in metrics if m not in found]
        if missing:
            raise ValueError(f"the model returned no {missing}; it returned {sorted(found)}")
        rows.append({**params, "seed": int(s), **found})
        if progress:
            progress(i + 1, len(x))
    runs = pd.DataFrame(rows)
    outputs = {m: runs[m].to_numpy(float) for m in metrics}
    return Sensitivity(analyse(factors, outputs, seed), runs)


def scenario_model(
    scenario: str | Path, base: Mapping[str, Any] | None = None, variant: str | None = None
) -> Evaluate:
    """One run of a scenario with the factors as overrides over `base`: its metrics
    (`analysis.metrics`)."""
    from uprising.run.api import run_seeds

    base = dict(base or {})

    def evaluate(values: dict[str, float], seed: int) -> Mapping[str, float]:
        spec = load_scenario(scenario, {**base, **values}, variant)
        return run_seeds(spec, [seed])[0]

    return evaluate


@dataclass(frozen=True)
class Plan:
    """A checked `uprising sensitivity` request: nothing has run yet."""

    scenario: str | Path
    spec: AnyScenario
    base: dict[str, Any]
    variant: str | None
    factors: list[Factor]
    n: int
    metrics: list[str]
    seed: int

    @property
    def runs(self) -> int:
        return self.n * (len(self.factors) + 2)


def plan(
    scenario: str | Path,
    params: str,
    n: int,
    *,
    metrics: str | None = None,
    outcome_name: str | None = None,
    base: Mapping[str, Any] | None = None,
    variant: str | None = None,
    seed: int = 0,
) -> Plan:
    """Check a request before any run; ScenarioError (or ObservedError) names what is wrong.

    Metrics: for a country scenario, the indicator of `outcome_name` (default: the observed
    outcome, else `suppressed`), then `metrics` (default peak_active, deaths); for an Epstein
    scenario, `metrics` (default peak_active, mean_active, outbursts)."""
    from uprising.analysis import metrics as metric_names
    from uprising.analysis.outcome import OUTCOMES
    from uprising.scenarios.load import scenario_folder
    from uprising.scenarios.observed import load_observed

    base = dict(base or {})
    spec = load_scenario(scenario, base, variant)
    check_n(n)
    factors = parse_factors(params, spec)
    country = isinstance(spec, CountryScenario)
    allowed = metric_names.COUNTRY if country else metric_names.EPSTEIN
    default = ("peak_active", "deaths") if country else ("peak_active", "mean_active", "outbursts")
    chosen = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else list(default)
    unknown = [m for m in chosen if m not in allowed]
    if unknown or not chosen:
        raise ScenarioError(f"--metrics {','.join(unknown)}: allowed: {', '.join(allowed)}")
    if country:
        assert isinstance(spec, CountryScenario)
        if outcome_name is None:
            outcome_name = "suppressed"
            if spec.observed:
                folder = scenario_folder(spec, scenario)
                observed = load_observed(folder / spec.observed, [c.name for c in spec.cities])
                outcome_name = observed.outcome
        if outcome_name not in OUTCOMES:
            raise ScenarioError(f"--outcome {outcome_name}: allowed: {', '.join(OUTCOMES)}")
        chosen = [outcome_name, *[m for m in chosen if m != outcome_name]]
    elif outcome_name is not None:
        raise ScenarioError(
            f"--outcome: {spec.name} is an Epstein scenario, whose runs have no outcome;"
            f" use --metrics ({', '.join(allowed)})"
        )
    check_factors(factors, scenario, base, variant)
    return Plan(scenario, spec, base, variant, factors, n, list(dict.fromkeys(chosen)), seed)


def json_safe(value: Any) -> Any:
    """JSON-safe: NaN and infinities as None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


def execute(checked: Plan, out: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Run a checked plan; write the indices and runs (Parquet), the JSON report and the
    figure to `out`; return the report."""
    from uprising.run.results import write_table
    from uprising.run.simulate import provenance
    from uprising.viz.sensitivity import indices as indices_figure

    result = sobol(
        scenario_model(checked.scenario, checked.base, checked.variant),
        checked.factors,
        checked.n,
        checked.metrics,
        checked.seed,
        progress,
    )
    spec = checked.spec
    stem = f"{spec.name.replace('/', '-')}-sobol"
    factors = [
        {"key": f.key, "low": f.low, "high": f.high, "scenario": f.default} for f in checked.factors
    ]
    meta = {
        **provenance(spec, checked.seed),
        "command": "sensitivity",
        "variant": checked.variant or "",
        "overrides": json.dumps(checked.base, default=str),
        "params": json.dumps(factors),
        "n": checked.n,
        "metrics": ",".join(checked.metrics),
    }
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "indices": str(write_table(result.indices, out / f"{stem}.parquet", meta)),
        "runs": str(write_table(result.runs, out / f"{stem}-runs.parquet", meta)),
        "figure": str(
            indices_figure(
                result.indices,
                out / f"{stem}.png",
                f"{spec.name}: Sobol indices, N={checked.n}, {checked.runs} runs",
            )
        ),
    }
    report: dict[str, Any] = {
        "scenario": spec.name,
        "scenario_hash": spec.digest(),
        "variant": checked.variant,
        "overrides": checked.base,
        "params": factors,
        "n": checked.n,
        "runs": checked.runs,
        "seed": checked.seed,
        "metrics": checked.metrics,
        "version": meta["version"],
        "backend": meta["backend"],
        "means": {m: float(result.runs[m].mean()) for m in checked.metrics},
        "indices": result.indices.to_dict(orient="records"),
    }
    if isinstance(spec, CountryScenario):
        report["people_per_agent"] = spec.people_per_agent
    path = out / f"{stem}.json"
    files["json"] = str(path)
    report["files"] = files
    report = json_safe(report)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(report, indent=1, default=str))
    tmp.replace(path)
    return report
