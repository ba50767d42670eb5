"""The dashboard's levers, and a request (scenario, variant, lever values, scale) to a scenario.

A lever is a control on the page that sets one or more scenario keys, the same dotted keys as
`uprising run --set KEY=VALUE`. Levers are read from the scenario (its price schedules, its
events by kind, its mechanisms), so a variant without foreign troops has no troop levers. Only
levers moved from their defaults become overrides; the scenario then validates them in full, so
a bad combination is refused with the scenario's own message (naming the key).

Every limit on the work one request may ask for is here too (`Limits`): the dashboard runs on the
user's machine and must stay quick and safe, so it refuses fine scales and big ensembles with a
message saying what is allowed (bigger runs belong to `uprising run` and `uprising ensemble`).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal

from pydantic import ValidationError

from uprising.scenarios.compile import compile_country
from uprising.scenarios.country import CountryScenario, Event
from uprising.scenarios.load import (
    ScenarioError,
    builtin_names,
    describe_errors,
    load_scenario,
    with_country_overrides,
)


class RequestError(ValueError):
    """A request the dashboard refuses (HTTP 400), with a message for the user."""


@dataclass(frozen=True)
class Limits:
    """What one request may ask for."""

    min_people_per_agent: int = 10
    max_people_per_agent: int = 200_000
    max_runs: int = 20
    default_runs: int = 6
    max_agent_runs: int = 30_000
    """runs x citizens (agents) of the whole country, summed over the ensemble."""
    max_seed: int = 2**31 - 1

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


Kind = Literal["number", "bool", "datetime"]


@dataclass(frozen=True)
class Lever:
    name: str
    label: str
    group: str
    kind: Kind
    default: Any
    keys: tuple[str, ...]
    help: str
    min: Any = None
    max: Any = None
    step: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["keys"] = list(self.keys)
        for k in ("default", "min", "max"):
            if isinstance(out[k], datetime):
                out[k] = stamp(out[k])
        return out


def stamp(when: datetime) -> str:
    """A datetime as the page shows and sends it (an HTML datetime-local value)."""
    return when.strftime("%Y-%m-%dT%H:%M")


HOUR = timedelta(hours=1)


# ---- price shock -------------------------------------------------------------------------------


def _rise(points: list[tuple[datetime, float]]) -> int | None:
    """Index of the first point priced above the first (the shock), if it has one before it."""
    base = points[0][1]
    for i, (_, price) in enumerate(points):
        if price > base:
            return i if i > 0 else None
    return None


def _shocked(spec: CountryScenario) -> dict[str, list[tuple[datetime, float]]]:
    return {
        region: list(points)
        for region, points in spec.mechanisms.prices.schedules.items()
        if _rise(list(points)) is not None
    }


def _shock_size(points: list[tuple[datetime, float]]) -> float:
    return max(p for _, p in points) / points[0][1]


def _price_levers(spec: CountryScenario) -> list[Lever]:
    shocked = _shocked(spec)
    if not shocked:
        return []
    keys = tuple(f"mechanisms.prices.schedules.{r}" for r in shocked)
    size = max(_shock_size(p) for p in shocked.values())
    when = min(points[_rise(points) or 0][0] for points in shocked.values())
    # The rise moves as a whole (its last point before and its first point after); it must stay
    # between its neighbours in every region's schedule.
    later, earlier = timedelta(days=60), timedelta(days=60)
    for points in shocked.values():
        i = _rise(points) or 0
        if i + 1 < len(points):
            later = min(later, points[i + 1][0] - points[i][0] - HOUR)
        if i >= 2:
            earlier = min(earlier, points[i - 1][0] - points[i - 2][0] - HOUR)
    return [
        Lever(
            "price_shock",
            "Price shock (x the price before)",
            "Prices",
            "number",
            round(size, 3),
            keys,
            "The peak price as a multiple of the price before the shock, in every price region"
            " (caps that follow stay, but never above the new peak). 1 = no shock.",
            1.0,
            5.0,
            0.1,
        ),
        Lever(
            "price_shock_date",
            "Price shock date",
            "Prices",
            "datetime",
            when,
            keys,
            "When the price jumps (the rise moves as a whole; later caps stay where they are).",
            when - earlier,
            when + later,
        ),
    ]


def _price_overrides(spec: CountryScenario, size: float, when: datetime) -> dict[str, Any]:
    shocked = _shocked(spec)
    first = min(points[_rise(points) or 0][0] for points in shocked.values())
    shift = when - first
    out: dict[str, Any] = {}
    for region, points in shocked.items():
        i = _rise(points) or 0
        base, peak = points[0][1], max(p for _, p in points)
        new_peak = base * size
        moved = []
        for j, (t, price) in enumerate(points):
            if j in (i - 1, i):
                t = t + shift
            if j >= i:
                price = new_peak if price == peak else min(price, new_peak)
            moved.append([t, round(price, 6)])
        out[f"mechanisms.prices.schedules.{region}"] = moved
    return out


# ---- events ------------------------------------------------------------------------------------


def _timed(spec: CountryScenario, kind: str) -> list[Event]:
    return [e for e in spec.events if e.kind == kind and e.enabled and e.start is not None]


def _end_of(e: Event) -> datetime | None:
    if e.end is not None:
        return e.end
    if e.hours is not None and e.start is not None:
        return e.start + timedelta(hours=e.hours)
    return None


def _main_blackout(spec: CountryScenario) -> Event | None:
    """The blackout the levers move: the deepest (highest value), the earliest of equals."""
    found = [e for e in _timed(spec, "blackout") if _end_of(e) is not None]
    if not found:
        return None
    return min(found, key=lambda e: (-e.value, e.start))


def _end_key(e: Event) -> str:
    return f"events.{e.id}.{'end' if e.end is not None else 'hours'}"


def levers(spec: CountryScenario) -> list[Lever]:
    """The levers of a (variant of a) country scenario, with its values as defaults."""
    m = spec.mechanisms
    first, last = spec.start, spec.end - HOUR
    out = _price_levers(spec)
    typical = statistics.median(c.legitimacy for c in spec.cities)
    out.append(
        Lever(
            "legitimacy",
            "Legitimacy (typical city)",
            "Regime",
            "number",
            typical,
            tuple(f"cities.{c.name}.legitimacy" for c in spec.cities),
            "Moves every city's legitimacy by the same amount (clipped to 0..1); the default is"
            " the median city's.",
            0.0,
            1.0,
            0.01,
        )
    )
    out.append(
        Lever(
            "blackout",
            "Internet blackouts",
            "Blackout",
            "bool",
            m.blackout.enabled,
            ("mechanisms.blackout.enabled",),
            "Off: no blackout event cuts the online channel.",
        )
    )
    main = _main_blackout(spec)
    if main is not None and main.start is not None:
        end = _end_of(main)
        out += [
            Lever(
                "blackout_start",
                f"Blackout starts ({main.id})",
                "Blackout",
                "datetime",
                main.start,
                (f"events.{main.id}.start",),
                "Start of the deepest blackout; the other blackout events stay as they are.",
                first,
                last,
            ),
            Lever(
                "blackout_end",
                f"Blackout ends ({main.id})",
                "Blackout",
                "datetime",
                end,
                (_end_key(main),),
                "End of the deepest blackout (after its start).",
                first + HOUR,
                spec.end,
            ),
        ]
    troops = _timed(spec, "troops")
    if troops:
        out += [
            Lever(
                "troops",
                "Foreign troops",
                "Force",
                "bool",
                m.troops.enabled,
                ("mechanisms.troops.enabled",),
                "Off: no foreign troops arrive.",
            ),
            Lever(
                "troops_date",
                "Foreign troops arrive",
                "Force",
                "datetime",
                min(e.start for e in troops if e.start is not None),
                tuple(k for e in troops for k in (f"events.{e.id}.start", _end_key(e))),
                "Every troop event moves by the same time, arrival and withdrawal; an event moved"
                " past the end of the calendar is left out.",
                first,
                last,
            ),
            Lever(
                "troops_count",
                "Foreign troops (people)",
                "Force",
                "number",
                sum(e.count for e in troops),
                tuple(f"events.{e.id}.count" for e in troops),
                "All foreign troops; split between the troop events as in the scenario.",
                10,
                50_000,
                10,
            ),
        ]
    out.append(
        Lever(
            "networks_share",
            "Share in horizontal networks",
            "Society",
            "number",
            m.networks.share,
            ("mechanisms.networks.share",),
            "Citizens in horizontal networks that carry news when the internet is cut.",
            0.0,
            1.0,
            0.05,
        )
    )
    out.append(
        Lever(
            "arrest_rate",
            "Police arrest rate (before an emergency)",
            "Force",
            "number",
            spec.epstein.arrest_rate,
            ("epstein.arrest_rate",),
            "Chance that an officer who could arrest does so in an hour; lower: police hold back."
            " Under a state of emergency the scenario's emergency rate applies.",
            0.0,
            1.0,
            0.05,
        )
    )
    out.append(
        Lever(
            "retake",
            "Forces to retake lost cities (per 10,000 residents)",
            "Force",
            "number",
            m.levers.retake_per_10k,
            ("mechanisms.levers.retake_per_10k",),
            "Officers the state sends to a city whose centre protesters hold under a state of"
            " emergency, after the scenario's delay; 0: none.",
            0.0,
            50.0,
            5.0,
        )
    )
    out.append(
        Lever(
            "lethal_force",
            "Lethal force",
            "Force",
            "bool",
            m.lethal_force.enabled,
            ("mechanisms.lethal_force.enabled",),
            "Off: arrests never kill, even after a shoot-to-kill order.",
        )
    )
    lethal = _timed(spec, "lethal_force")
    if lethal:
        out.append(
            Lever(
                "lethal_force_date",
                f"Shoot-to-kill order ({lethal[0].id})",
                "Force",
                "datetime",
                lethal[0].start,
                (f"events.{lethal[0].id}.start",),
                "When lethal force begins.",
                first,
                last,
            )
        )
    out.append(
        Lever(
            "calendar_end",
            "Run until",
            "Calendar",
            "datetime",
            spec.end,
            ("end",),
            "A shorter calendar runs faster; events that would begin after it are switched off.",
            spec.start + timedelta(days=1),
            spec.end,
        )
    )
    return out


# ---- requests ----------------------------------------------------------------------------------


@dataclass
class Built:
    """A checked request: the scenario to run and how it came about."""

    scenario: str
    variant: str | None
    spec: CountryScenario
    overrides: dict[str, Any]
    levers: dict[str, Any]
    people_per_agent: int
    runs: int
    seed: int
    watch: str
    notes: list[str] = field(default_factory=list)


REQUEST_KEYS = ("scenario", "variant", "levers", "people_per_agent", "runs", "seed", "watch")


@cache
def country_names() -> tuple[str, ...]:
    """Built-in scenarios that are countries (the dashboard shows cities on a map)."""
    return tuple(n for n in builtin_names() if isinstance(load_scenario(n), CountryScenario))


def base(scenario: Any, variant: Any) -> CountryScenario:
    """A built-in country scenario (never a path: the dashboard reads no user files)."""
    names = country_names()
    if not isinstance(scenario, str) or scenario not in names:
        raise RequestError(
            f"scenario: unknown scenario {scenario!r}; allowed: {', '.join(names) or 'none'}"
        )
    spec = load_scenario(scenario)
    assert isinstance(spec, CountryScenario)
    if variant in (None, ""):
        return spec
    if not isinstance(variant, str) or variant not in spec.variants:
        allowed = ", ".join(sorted(spec.variants)) or "none"
        raise RequestError(f"variant: unknown variant {variant!r}; allowed: {allowed}")
    try:
        return load_scenario(scenario, variant=variant)  # type: ignore[return-value]
    except ScenarioError as e:
        raise RequestError(str(e)) from None


def _integer(request: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = request.get(key, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestError(f"{key}: expected a whole number, got {value!r}")
    if not low <= value <= high:
        raise RequestError(
            f"{key} = {value} is outside the dashboard's limits; allowed: {low} .. {high}"
        )
    return value


def _lever_value(lever: Lever, value: Any) -> Any:
    where = (
        f"lever {lever.name} ({', '.join(lever.keys[:2])}{', ...' if len(lever.keys) > 2 else ''})"
    )
    if lever.kind == "bool":
        if not isinstance(value, bool):
            raise RequestError(f"{where}: expected true or false, got {value!r}")
        return value
    if lever.kind == "number":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise RequestError(f"{where}: expected a number, got {value!r}")
        if not lever.min <= value <= lever.max:
            raise RequestError(
                f"{where} = {value} is out of range; allowed: {lever.min} .. {lever.max}"
            )
        return value
    if not isinstance(value, str):
        raise RequestError(
            f"{where}: expected a date and time like 2022-01-05T16:30, got {value!r}"
        )
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise RequestError(
            f"{where}: {value!r} is not a date and time like 2022-01-05T16:30"
        ) from None
    if when.tzinfo is not None:
        raise RequestError(f"{where}: give local time without a time zone, got {value!r}")
    if not lever.min <= when <= lever.max:
        raise RequestError(
            f"{where} = {value} is out of range; allowed: {stamp(lever.min)} .. {stamp(lever.max)}"
        )
    return when


def _overrides(spec: CountryScenario, moved: dict[str, Any]) -> dict[str, Any]:
    """Scenario keys for the levers moved from their defaults."""
    out: dict[str, Any] = {}
    by_name = {lv.name: lv for lv in levers(spec)}
    if "price_shock" in moved or "price_shock_date" in moved:
        size = moved.get("price_shock", by_name["price_shock"].default)
        when = moved.get("price_shock_date", by_name["price_shock_date"].default)
        out |= _price_overrides(spec, float(size), when)
    if "legitimacy" in moved:
        shift = moved["legitimacy"] - by_name["legitimacy"].default
        for c in spec.cities:
            out[f"cities.{c.name}.legitimacy"] = round(min(1.0, max(0.0, c.legitimacy + shift)), 6)
    for name, key in (
        ("blackout", "mechanisms.blackout.enabled"),
        ("troops", "mechanisms.troops.enabled"),
        ("lethal_force", "mechanisms.lethal_force.enabled"),
        ("networks_share", "mechanisms.networks.share"),
        ("arrest_rate", "epstein.arrest_rate"),
        ("retake", "mechanisms.levers.retake_per_10k"),
    ):
        if name in moved:
            out[key] = moved[name]
    main = _main_blackout(spec)
    if main is not None and main.start is not None:
        if "blackout_start" in moved:
            out[f"events.{main.id}.start"] = moved["blackout_start"]
        if "blackout_end" in moved or ("blackout_start" in moved and main.hours is not None):
            end = moved.get("blackout_end", _end_of(main))
            start = moved.get("blackout_start", main.start)
            if main.end is not None:
                out[f"events.{main.id}.end"] = end
            else:
                out[f"events.{main.id}.hours"] = max((end - start) / HOUR, 0.0)
    troops = _timed(spec, "troops")
    if "troops_date" in moved:
        shift = moved["troops_date"] - by_name["troops_date"].default
        for e in troops:
            assert e.start is not None
            out[f"events.{e.id}.start"] = e.start + shift
            if e.end is not None:
                out[f"events.{e.id}.end"] = e.end + shift
    if "troops_count" in moved:
        total = sum(e.count for e in troops)
        for e in troops:
            out[f"events.{e.id}.count"] = max(1, round(moved["troops_count"] * e.count / total))
    lethal = _timed(spec, "lethal_force")
    if "lethal_force_date" in moved and lethal:
        out[f"events.{lethal[0].id}.start"] = moved["lethal_force_date"]
    return out


def build(request: Any, limits: Limits) -> Built:
    """Check a request in full and make its scenario; `RequestError` says what is wrong."""
    if not isinstance(request, dict):
        raise RequestError("the request must be a JSON object")
    unknown = sorted(set(request) - set(REQUEST_KEYS))
    if unknown:
        raise RequestError(
            f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(REQUEST_KEYS)}"
        )
    spec = base(request.get("scenario"), request.get("variant"))
    per = _integer(
        request,
        "people_per_agent",
        spec.people_per_agent,  # the scenario's own: the scale it was fitted at
        limits.min_people_per_agent,
        limits.max_people_per_agent,
    )
    runs = _integer(request, "runs", limits.default_runs, 1, limits.max_runs)
    agents = math.ceil(sum(c.population for c in spec.cities) * spec.street_share / per)
    if runs * agents > limits.max_agent_runs:
        most = max(limits.max_agent_runs // agents, 0)
        raise RequestError(
            f"runs = {runs} at people_per_agent = {per} is too much work for the dashboard"
            f" ({runs} runs x {agents:,} agents > {limits.max_agent_runs:,});"
            f" allowed: runs <= {most} at this scale, or a coarser scale"
            " (bigger ensembles: `uprising ensemble`)"
        )
    seed = _integer(request, "seed", 0, 0, limits.max_seed)
    names = [c.name for c in spec.cities]
    largest = max(spec.cities, key=lambda c: c.population).name
    watch = request.get("watch") or largest
    if watch not in names:
        raise RequestError(f"watch: unknown city {watch!r}; allowed: {', '.join(names)}")

    given = request.get("levers") or {}
    if not isinstance(given, dict):
        raise RequestError("levers must be an object: {lever name: value}")
    available = {lv.name: lv for lv in levers(spec)}
    unknown = sorted(set(given) - set(available))
    if unknown:
        raise RequestError(
            f"unknown lever(s) {', '.join(map(str, unknown))} for this scenario and variant;"
            f" allowed: {', '.join(available)}"
        )
    values = {name: _lever_value(available[name], v) for name, v in given.items()}
    moved = {n: v for n, v in values.items() if v != available[n].default}
    end = moved.pop("calendar_end", spec.end)
    overrides = _overrides(spec, moved)
    if per != spec.people_per_agent:
        overrides["people_per_agent"] = per
    notes: list[str] = []
    data = spec.model_dump()
    data["variants"] = {}  # already applied; the base's would not fit a shortened calendar
    starts = {e.id: overrides.get(f"events.{e.id}.start", e.start) for e in spec.events}
    late = [i for i, t in starts.items() if t is not None and t >= end]
    if late:
        # Switched off, not deleted: their slots stay, so a run keeps its base's random numbers.
        notes.append(f"switched off (they would begin after the calendar ends): {', '.join(late)}")
        data["events"] = [dict(e, enabled=False) if e["id"] in late else e for e in data["events"]]
        overrides = {
            k: v
            for k, v in overrides.items()
            if not any(k.startswith(f"events.{i}.") for i in late)
        }
    if end != spec.end:
        overrides["end"] = end
    data["end"] = end
    try:
        spec = CountryScenario.model_validate(data)
        if overrides:
            spec = with_country_overrides(spec, {k: v for k, v in overrides.items() if k != "end"})
        compile_country(spec)
    except ValidationError as e:
        raise RequestError(f"the scenario refuses these levers:\n{describe_errors(e)}") from None
    except ValueError as e:
        raise RequestError(str(e)) from None
    if note := spec.scale_note():
        notes.append(note)
    return Built(
        scenario=request["scenario"],
        variant=request.get("variant") or None,
        spec=spec,
        overrides=overrides,
        levers={n: stamp(v) if isinstance(v, datetime) else v for n, v in values.items()},
        people_per_agent=per,
        runs=runs,
        seed=seed,
        watch=watch,
        notes=notes,
    )
