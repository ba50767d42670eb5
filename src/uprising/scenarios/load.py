"""Finding, reading and validating scenarios, and turning them into engine inputs."""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from uprising.engine import Params, Schedule, World, WorldError
from uprising.scenarios.schema import Scenario, with_overrides


class ScenarioError(ValueError):
    """A scenario that cannot be used, with every key at fault."""


def builtin_names() -> list[str]:
    folder = resources.files("uprising.scenarios") / "builtin"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def _describe(error: ValidationError) -> str:
    lines = []
    for e in error.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        shown = e["type"] != "missing" and not isinstance(e.get("input"), dict)
        got = f" (got {json.dumps(e.get('input'), default=str)})" if shown else ""
        lines.append(f"  {key}: {e['msg'].removeprefix('Value error, ')}{got}")
    return "\n".join(lines)


def parse(text: str, origin: str) -> Scenario:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{origin} is not valid TOML: {e}") from None
    data.setdefault("name", Path(origin).stem)
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(f"{origin} is not a valid scenario:\n{_describe(e)}") from None


def load_scenario(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """A built-in scenario by name, or a TOML file by path, with optional overrides."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ScenarioError(f"no scenario file at {path}")
        scenario = parse(path.read_text(), str(path))
    else:
        names = builtin_names()
        if str(name_or_path) not in names:
            raise ScenarioError(
                f"unknown scenario {str(name_or_path)!r}; built in: {', '.join(names)}"
            )
        folder = resources.files("uprising.scenarios") / "builtin"
        scenario = parse((folder / f"{name_or_path}.toml").read_text(), f"{name_or_path}.toml")
    if overrides:
        try:
            scenario = with_overrides(scenario, overrides)
        except ValidationError as e:
            raise ScenarioError(f"invalid override:\n{_describe(e)}") from None
        except ValueError as e:
            raise ScenarioError(str(e)) from None
    to_engine(scenario)  # rule-specific checks (vision shapes, torus size) before any work
    return scenario


def _schedule(value: float | list[list[float]]) -> Schedule:
    return Schedule.constant(value) if isinstance(value, int | float) else Schedule.points(value)


def to_engine(scenario: Scenario) -> tuple[World, Params]:
    w, p = scenario.world, scenario.params
    try:
        world = World(
            height=w.height,
            width=w.width,
            citizen_density=w.citizen_density,
            cop_density=w.cop_density,
            citizen_vision=w.citizen_vision,
            cop_vision=w.cop_vision,
            movement=w.movement,
            rules=scenario.rules,
            substeps=w.substeps,
        )
    except WorldError as e:
        raise ScenarioError(f"{scenario.name}: {e}") from None
    params = Params.make(
        legitimacy=_schedule(p.legitimacy),
        police=_schedule(w.cop_density if p.police is None else p.police),
        k=p.k,
        threshold=p.threshold,
        max_jail=p.jmax,
    )
    return world, params
