"""Sweep files: one scenario, parameters as lists, ranges or distributions, seeds and metrics.

    scenario = "epstein-run1"
    seeds = 5                  # runs per point: seeds seed, seed+1, ... (the same at every point)
    steps = 200
    metrics = ["peak_active", "outbursts"]
    series = ["active"]        # recorded every `every` steps
    [parameters]
    legitimacy = [0.7, 0.8, 0.9]                                    # a list
    k = { start = 2.0, stop = 3.0, step = 0.5 }                      # a range, stop included
    threshold = { distribution = "uniform", low = 0.05, high = 0.2, samples = 4 }

Lists and ranges form a full factorial grid; distributions are drawn jointly (`samples` draws of
all of them) and crossed with the grid. Draws come from `sample_seed` and the parameter's name
alone, so adding or reordering parameters leaves the other draws as they were.

`plan` checks the file, then every point against its scenario (`load_scenario`), so that a bad
key or value is reported, with what is allowed, before any run starts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from uprising.analysis import metrics as metric_names
from uprising.run.api import length
from uprising.scenarios.country import CountryScenario
from uprising.scenarios.load import (
    AnyScenario,
    Location,
    ScenarioError,
    describe_errors,
    load_scenario,
)

SERIES = {
    "epstein": ("quiet", "active", "jailed", "dead", "cops"),
    "country": (
        *("quiet", "active", "jailed", "dead", "police", "troops", "arrests", "dispersed"),
        "deaths",
        *("legitimacy", "held", "blackout", "defected", "fled"),
    ),
}
"""Data variables a run records at every step (Epstein) or hour (country, summed over cities)."""
METRICS = {"epstein": metric_names.EPSTEIN, "country": metric_names.COUNTRY}
COLUMNS = ("point", "seed", "metric", "step", "value")
"""Columns of the results table besides one per parameter; no parameter may take these names."""


class SweepError(ValueError):
    """A sweep that cannot run, with the key at fault and what is allowed."""


def _scalar(value: Any) -> Any:
    if not isinstance(value, bool | int | float | str | dt.date):
        raise ValueError("values must be numbers, booleans, strings or dates")
    return value


def _listed(value: Any) -> list[Any]:
    if value == []:
        raise ValueError("an empty list: give at least one value")
    return value if isinstance(value, list) else [value]  # one value: a fixed parameter


Values = Annotated[list[Annotated[Any, PlainValidator(_scalar)]], BeforeValidator(_listed)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Range(Strict):
    """start, start + step, ... up to and including stop (to within float rounding)."""

    start: int | float
    stop: int | float
    step: int | float = Field(gt=0)

    @model_validator(mode="after")
    def _order(self) -> Range:
        if self.stop < self.start:
            raise ValueError(f"stop {self.stop} is below start {self.start}")
        return self

    def values(self) -> list[int | float]:
        n = math.floor((self.stop - self.start) / self.step + 1e-9) + 1
        if all(isinstance(v, int) for v in (self.start, self.stop, self.step)):
            return [self.start + i * self.step for i in range(n)]
        return [round(self.start + i * self.step, 12) for i in range(n)]  # 0.30000000000000004


class Bounds(Strict):
    low: float
    high: float
    samples: int = Field(ge=1)

    @model_validator(mode="after")
    def _bounds(self) -> Bounds:
        if not self.low < self.high:
            raise ValueError(f"low {self.low} must be below high {self.high}")
        return self


class Uniform(Bounds):
    distribution: Literal["uniform"]

    def draw(self, rng: np.random.Generator) -> list[Any]:
        return rng.uniform(self.low, self.high, self.samples).tolist()


class LogUniform(Bounds):
    """Uniform in the logarithm: as many draws between 0.01 and 0.1 as between 0.1 and 1."""

    distribution: Literal["loguniform"]
    low: float = Field(gt=0)

    def draw(self, rng: np.random.Generator) -> list[Any]:
        return np.exp(rng.uniform(np.log(self.low), np.log(self.high), self.samples)).tolist()


class Normal(Strict):
    distribution: Literal["normal"]
    mean: float
    sd: float = Field(gt=0)
    samples: int = Field(ge=1)

    def draw(self, rng: np.random.Generator) -> list[Any]:
        return rng.normal(self.mean, self.sd, self.samples).tolist()


class Integers(Strict):
    """Whole numbers from low to high, both included."""

    distribution: Literal["integers"]
    low: int
    high: int
    samples: int = Field(ge=1)

    @model_validator(mode="after")
    def _bounds(self) -> Integers:
        if self.high < self.low:
            raise ValueError(f"high {self.high} is below low {self.low}")
        return self

    def draw(self, rng: np.random.Generator) -> list[Any]:
        return rng.integers(self.low, self.high, self.samples, endpoint=True).tolist()


Distribution = Uniform | LogUniform | Normal | Integers
SHAPES: dict[str, type[BaseModel]] = {
    "range": Range,
    "uniform": Uniform,
    "loguniform": LogUniform,
    "normal": Normal,
    "integers": Integers,
}
DISTRIBUTIONS = ("uniform", "loguniform", "normal", "integers")


def _shape(value: Any) -> str | None:
    if isinstance(value, dict):
        return str(value["distribution"]) if "distribution" in value else "range"
    return "list"


Parameter = Annotated[
    Annotated[Values, Tag("list")]
    | Annotated[Range, Tag("range")]
    | Annotated[Uniform, Tag("uniform")]
    | Annotated[LogUniform, Tag("loguniform")]
    | Annotated[Normal, Tag("normal")]
    | Annotated[Integers, Tag("integers")],
    Discriminator(
        _shape,
        custom_error_type="parameter",
        custom_error_message=(
            "must be a list of values, a range {start, stop, step} or a distribution"
            f" {{distribution, ..., samples}} with distribution one of {', '.join(DISTRIBUTIONS)}"
        ),
    ),
]


class Sweep(Strict):
    scenario: str = Field(description="built-in name, or a TOML path relative to the sweep file")
    variant: str | None = None
    seeds: int = Field(1, ge=1, description="runs per point")
    seed: int = Field(0, ge=0, description="first seed")
    steps: int | None = Field(None, ge=1, description="steps of an Epstein scenario")
    sample_seed: int = Field(0, ge=0, description="seed of the distributions' draws")
    parameters: dict[str, Parameter] = {}
    metrics: list[str] | None = Field(None, description="end-of-run metrics; default all")
    series: list[str] = Field([], description="data variables recorded during the run")
    every: int = Field(1, ge=1, description="record series every this many steps or hours")

    @field_validator("parameters", mode="before")
    @classmethod
    def _dotted(cls, table: Any, prefix: str = "") -> Any:
        """TOML nests dotted keys (`epstein.k = [2.0, 2.3]`): back to one dotted key each."""
        if not isinstance(table, dict):
            return table
        out: dict[str, Any] = {}
        for key, value in table.items():
            if isinstance(value, dict) and not {*Range.model_fields, "distribution"} & set(value):
                out |= cls._dotted(value, f"{prefix}{key}.")
            else:
                out[f"{prefix}{key}"] = value
        return out

    @model_validator(mode="after")
    def _consistent(self) -> Sweep:
        if self.metrics == [] and not self.series:
            raise ValueError("metrics is empty and there are no series: nothing to record")
        taken = [k for k in self.parameters if k in COLUMNS]
        if taken:
            raise ValueError(f"parameters: {taken[0]!r} is a column of the results table")
        if self.steps is not None and "steps" in self.parameters:
            raise ValueError("steps is given both on its own and in [parameters]: keep one")
        samples = {k: v.samples for k, v in self.parameters.items() if isinstance(v, Distribution)}
        if len(set(samples.values())) > 1:
            raise ValueError(
                "distributions are drawn jointly, so their samples must agree; got "
                + ", ".join(f"{k}: {n}" for k, n in samples.items())
            )
        return self

    def points(self) -> list[dict[str, Any]]:
        """Every point, as overrides: the grid of lists and ranges, each with every draw."""
        grid, drawn = {}, {}
        for key, value in self.parameters.items():
            if isinstance(value, Distribution):
                drawn[key] = value.draw(np.random.default_rng([self.sample_seed, *key.encode()]))
            else:
                grid[key] = value.values() if isinstance(value, Range) else value
        draws = [dict(zip(drawn, row, strict=True)) for row in zip(*drawn.values(), strict=True)]
        out = []
        for row in itertools.product(*grid.values()):
            for draw in draws or [{}]:
                point = dict(zip(grid, row, strict=True)) | draw
                out.append({key: point[key] for key in self.parameters})  # in the file's order
        return out


def _known_keys(loc: Location) -> tuple[Location, Iterable[str]]:
    """The keys allowed where an error is: a parameter's by its shape (the tag that pydantic
    puts in the location, dropped), else the sweep's own."""
    model: type[BaseModel] = Sweep
    if loc[:1] == ["parameters"] and len(loc) > 2 and loc[2] in (*SHAPES, "list"):
        model = SHAPES.get(str(loc.pop(2)), Sweep)
    return loc, model.model_fields


def read_sweep(text: str, origin: str) -> Sweep:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SweepError(f"{origin} is not valid TOML: {e}") from None
    try:
        return Sweep.model_validate(data)
    except ValidationError as e:
        message = describe_errors(e, _known_keys, top_level="")
        raise SweepError(f"{origin} is not a valid sweep:\n{message}") from None


@dataclass(frozen=True)
class Plan:
    """A checked sweep: its file, the scenario of every point, what each run records."""

    path: Path
    text: bytes
    sweep: Sweep
    base: AnyScenario
    points: list[dict[str, Any]]
    specs: list[AnyScenario]
    metrics: tuple[str, ...]
    series: tuple[str, ...]

    @property
    def digest(self) -> str:
        """The sweep file's hash: a sweep is resumed only into the folder of the same file."""
        return hashlib.sha256(self.text).hexdigest()[:16]

    @property
    def seeds(self) -> range:
        return range(self.sweep.seed, self.sweep.seed + self.sweep.seeds)

    def overrides(self, point: int) -> dict[str, Any]:
        """What a point sets in its scenario: `steps` of the sweep, then its parameters."""
        fixed = {} if self.sweep.steps is None else {"steps": self.sweep.steps}
        return fixed | self.points[point]

    def tasks(self) -> list[tuple[int, int]]:
        """(point, seed) of every run, in the order of the results table."""
        return [(p, s) for p in range(len(self.points)) for s in self.seeds]


def scenario_ref(sweep: Sweep, folder: Path) -> str | Path:
    """A built-in name as it is; a path (ending .toml or with a slash) from the sweep's folder."""
    if sweep.scenario.endswith(".toml") or "/" in sweep.scenario:
        return folder / sweep.scenario
    return sweep.scenario


def plan(path: Path) -> Plan:
    """The sweep in `path`, with every point loaded and checked before any work."""
    try:
        text = path.read_bytes()
    except OSError as e:
        raise SweepError(f"cannot read sweep file {path}: {e.strerror}") from None
    sweep = read_sweep(text.decode(), str(path))
    ref = scenario_ref(sweep, path.parent)
    try:
        base = load_scenario(ref, None, sweep.variant)
    except ScenarioError as e:
        raise SweepError(f"scenario: {e}") from None
    kind = "country" if isinstance(base, CountryScenario) else "epstein"
    if kind == "country" and sweep.steps is not None:
        raise SweepError("steps: a country scenario runs its calendar; vary `end` instead")
    for key, names, allowed in (
        ("metrics", sweep.metrics or [], METRICS[kind]),
        ("series", sweep.series, SERIES[kind]),
    ):
        wrong = [n for n in names if n not in allowed]
        if wrong:
            raise SweepError(
                f"{key}: {wrong[0]!r} is not recorded by {base.name}; allowed: {', '.join(allowed)}"
            )
    metrics = tuple(METRICS[kind] if sweep.metrics is None else sweep.metrics)
    both = set(metrics) & set(sweep.series)
    if both:
        name = sorted(both)[0]
        raise SweepError(
            f"series: {name!r} is also a metric, and rows would share its name; list metrics"
            f" without it (metrics of {kind} scenarios: {', '.join(METRICS[kind])})"
        )
    points, specs = sweep.points(), []
    fixed = {} if sweep.steps is None else {"steps": sweep.steps}
    for i, point in enumerate(points):
        try:
            specs.append(load_scenario(ref, fixed | point, sweep.variant))
        except ScenarioError as e:
            shown = ", ".join(
                f"{k} = {json.dumps(v, default=str)}" for k, v in (fixed | point).items()
            )
            raise SweepError(f"parameters, at point {i} ({shown}): {e}") from None
    shortest = min(length(spec) for spec in specs)
    if sweep.series and sweep.every > shortest:
        raise SweepError(
            f"every: {sweep.every} is longer than a run ({shortest} steps or hours):"
            " no series would be recorded"
        )
    return Plan(path, text, sweep, base, points, specs, metrics, tuple(sweep.series))
