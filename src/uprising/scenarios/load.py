"""Finding, reading and validating scenarios, and turning them into engine inputs."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from uprising.engine import Params, Schedule, World, WorldError
from uprising.scenarios.compile import compile_country
from uprising.scenarios.country import CountryScenario
from uprising.scenarios.schema import Scenario, with_overrides

AnyScenario = Scenario | CountryScenario


class ScenarioError(ValueError):
    """A scenario that cannot be used, with every key at fault."""


def builtin_names() -> list[str]:
    folder = resources.files("uprising.scenarios") / "builtin"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


Location = list[int | str]


def describe_errors(
    error: ValidationError,
    known_keys: Callable[[Location], tuple[Location, Iterable[str]]] | None = None,
    top_level: str = "(top level)",
) -> str:
    """One line per problem: the dotted key, what is wrong, and what was given.

    `known_keys`, given an error's location, returns the location to show and the keys allowed
    there, which an unknown key then lists. A problem with no key is shown under `top_level`, or
    bare where that is "".
    """
    lines = []
    for e in error.errors():
        loc: Location = list(e["loc"])
        allowed = None
        if known_keys is not None:
            loc, allowed = known_keys(loc)
        key = ".".join(str(p) for p in loc) or top_level
        message = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden" and allowed is not None:
            message = f"unknown key; allowed: {', '.join(allowed)}"
        elif e["type"] != "missing" and not isinstance(e.get("input"), dict):
            message += f" (got {json.dumps(e.get('input'), default=str)})"
        lines.append(f"  {key}: {message}" if key else f"  {message}")
    return "\n".join(lines)


def parse(text: str, origin: str) -> AnyScenario:
    """A scenario from TOML: a country if it lists cities, else an Epstein world."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{origin} is not valid TOML: {e}") from None
    data.setdefault("name", Path(origin).stem)
    schema: type[AnyScenario] = CountryScenario if "cities" in data else Scenario
    try:
        return schema.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(f"{origin} is not a valid scenario:\n{describe_errors(e)}") from None


def scenario_folder(scenario: AnyScenario, name_or_path: str | Path) -> Path:
    """Where files a scenario names (outline, observed data) live: beside its TOML."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return path.parent
    return Path(str(resources.files("uprising.scenarios") / "builtin"))


def load_scenario(
    name_or_path: str | Path,
    overrides: dict[str, Any] | None = None,
    variant: str | None = None,
) -> AnyScenario:
    """A built-in scenario by name, or a TOML file by path, with a variant and overrides."""
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
    try:
        if variant is not None:
            if not isinstance(scenario, CountryScenario):
                raise ValueError(f"{scenario.name} has no variants (only country scenarios do)")
            scenario = scenario.variant(variant)
        if overrides:
            if isinstance(scenario, CountryScenario):
                scenario = with_country_overrides(scenario, overrides)
            else:
                scenario = with_overrides(scenario, overrides)
        # Checks that need the compiled form (vision shapes, room for police) before any work.
        if isinstance(scenario, CountryScenario):
            compile_country(scenario)
        else:
            to_engine(scenario)
    except ValidationError as e:
        raise ScenarioError(f"invalid variant or override:\n{describe_errors(e)}") from None
    except ValueError as e:
        raise ScenarioError(str(e)) from None
    return scenario


def with_country_overrides(scenario: CountryScenario, overrides: dict[str, Any]) -> CountryScenario:
    """Dotted keys into the scenario (`mechanisms.news.effect`, `cities.Almaty.police`)."""
    data = scenario.model_dump()
    for key, value in overrides.items():
        node: Any = data
        parts = key.split(".")
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if isinstance(node, list):  # cities by name, events by id
                named = {item.get("name", item.get("id")): item for item in node}
                if part not in named or last:
                    raise ValueError(f"--set {key}: no {part!r} here; allowed: {', '.join(named)}")
                node = named[part]
                continue
            if not isinstance(node, dict) or part not in node:
                allowed = ", ".join(sorted(node)) if isinstance(node, dict) else "(none)"
                raise ValueError(f"--set {key}: unknown key {part!r}; allowed: {allowed}")
            if last:
                node[part] = value
            else:
                node = node[part]
    return CountryScenario.model_validate(data)


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
        arrest_rate=p.arrest_rate,
    )
    return world, params
