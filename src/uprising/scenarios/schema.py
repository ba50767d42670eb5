"""Scenario files: TOML validated before any work, with errors that name the key.

An Epstein scenario is a world (grid, densities, visions, movement), parameters (legitimacy and
police as constants or schedules of [step, value] points, k, T, Jmax), a rule set and a length.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from uprising.engine.rules import RULES

BYTES_PER_CELL = 48
"""State (about 15 B a cell) and what a step holds at once: counts, scratch grids, padding."""


def memory_bytes() -> int:
    """Physical memory of this machine: a grid that needs more is refused before any work."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


Point = Annotated[list[float], Field(min_length=2, max_length=2)]


def _schedule(value: float | list[Point], lo: float, hi: float, key: str) -> float | list[Point]:
    points = [[0.0, value]] if isinstance(value, int | float) else value
    if not points:
        raise ValueError(f"{key} needs a value or at least one [step, value] point")
    times = [p[0] for p in points]
    if any(b < a for a, b in zip(times, times[1:], strict=False)):
        raise ValueError(f"{key} points must be in order of step, got steps {times}")
    for t, v in points:
        if t < 0:
            raise ValueError(f"{key} has a negative step {t:g}; steps start at 0")
        if not lo <= v <= hi:
            raise ValueError(f"{key} value {v:g} is outside the allowed range [{lo:g}, {hi:g}]")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class WorldSpec(Strict):
    height: int = Field(40, ge=1, le=60_000, description="grid rows")
    width: int = Field(40, ge=1, le=60_000, description="grid columns")
    citizen_density: float = Field(0.7, ge=0.0, le=1.0)
    cop_density: float = Field(0.04, ge=0.0, le=1.0)
    citizen_vision: float = Field(7.0, ge=1.0)
    cop_vision: float = Field(7.0, ge=1.0)
    movement: bool = True
    substeps: int = Field(32, ge=1, le=1024, description="groups of the partial update")

    @model_validator(mode="after")
    def _densities(self) -> WorldSpec:
        total = self.citizen_density + self.cop_density
        if total > 1.0:
            raise ValueError(f"citizen_density + cop_density = {total:g} must not exceed 1")
        return self


class ParamsSpec(Strict):
    legitimacy: float | list[Point] = Field(0.82, description="L, or [[step, L], ...]")
    police: float | list[Point] | None = Field(
        None, description="cop density over time, [[step, density], ...]; default constant"
    )
    k: float = Field(2.3, gt=0.0)
    threshold: float = Field(0.1, ge=0.0, le=1.0)
    max_jail: float | Literal["inf"] = Field(30.0, description='Jmax in steps, or "inf"')
    arrest_rate: float = Field(
        1.0, ge=0.0, le=1.0, description="chance a cop with an active in view arrests; 1: Epstein"
    )

    @field_validator("legitimacy")
    @classmethod
    def _legitimacy(cls, v: float | list[Point]) -> float | list[Point]:
        return _schedule(v, 0.0, 1.0, "legitimacy")

    @field_validator("police")
    @classmethod
    def _police(cls, v: float | list[Point] | None) -> float | list[Point] | None:
        return None if v is None else _schedule(v, 0.0, 1.0, "police")

    @field_validator("max_jail")
    @classmethod
    def _max_jail(cls, v: float | str) -> float | str:
        if v != "inf" and not (0 <= float(v) <= 32_000 and float(v) == int(v)):
            raise ValueError(
                f'max_jail must be a whole number of steps in 0..32000 or "inf", got {v}'
            )
        return v

    @property
    def jmax(self) -> float:
        return math.inf if self.max_jail == "inf" else float(self.max_jail)


class Scenario(Strict):
    name: str
    description: str = ""
    source: str = ""
    rules: str = "netlogo"
    steps: int = Field(1000, ge=1, le=10_000_000)
    world: WorldSpec = WorldSpec()
    params: ParamsSpec = ParamsSpec()

    @field_validator("rules")
    @classmethod
    def _rules(cls, v: str) -> str:
        if v not in RULES:
            raise ValueError(f"unknown rule set {v!r}; allowed: {', '.join(RULES)}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        police = self.params.police
        points = [[0.0, police]] if isinstance(police, int | float) else police or []
        values = [v for _, v in points]
        if any(v > self.world.cop_density + 1e-12 for v in values):
            raise ValueError(
                f"params.police exceeds world.cop_density = {self.world.cop_density:g}:"
                " the schedule withdraws police, it cannot add more than were placed"
            )
        if any(b > a + 1e-12 for a, b in zip(values, values[1:], strict=False)):
            raise ValueError(
                f"params.police must not rise again (got values {values}): withdrawn police"
                " do not return"
            )
        cells = self.world.height * self.world.width
        need, have = cells * BYTES_PER_CELL, memory_bytes()
        if need > have:
            raise ValueError(
                f"world.height x world.width = {cells:,} cells needs about {need / 2**30:.1f} GiB;"
                f" this machine has {have / 2**30:.1f} GiB"
            )
        return self

    def digest(self) -> str:
        """A short hash of the model a run uses: world, parameters and rules (not its length)."""
        body = self.model_dump(exclude={"name", "description", "source", "steps"})
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


OVERRIDABLE: dict[str, str] = {
    **{f: "world" for f in WorldSpec.model_fields},
    **{f: "params" for f in ParamsSpec.model_fields},
    "rules": "",
    "steps": "",
}


def with_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """The scenario with `key=value` overrides (keys as in OVERRIDABLE), validated again."""
    data = scenario.model_dump()
    for key, value in overrides.items():
        section = OVERRIDABLE.get(key)
        if section is None:
            raise ValueError(f"unknown key {key!r}; allowed: {', '.join(sorted(OVERRIDABLE))}")
        (data[section] if section else data)[key] = value
    return Scenario.model_validate(data)
