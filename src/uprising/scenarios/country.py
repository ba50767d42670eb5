"""Country scenarios: cities, prices, mechanisms and a calendar of events, validated in full.

Every mechanism of the seed has a block under `[mechanisms]` with `enabled`; a disabled one is
neutral (its parameters set so it does nothing). Times are local datetimes within the calendar.
Variants (`[variants.NAME]`) are partial scenarios merged over the base, plus `remove_events`,
which switches events off rather than deleting them: a variant keeps its base's array shapes, so
the same seed gives both the same random numbers and they differ only by what the variant changes.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from uprising.engine.neighbourhood import radius
from uprising.scenarios.schema import BYTES_PER_CELL, Strict, memory_bytes
from uprising.world.events import KINDS

Kind = Literal[
    "blackout", "concession", "resignation", "emergency", "lethal_force", "troops", "transfer"
]
assert set(KINDS) == set(Kind.__args__)  # type: ignore[attr-defined]

SALIENCE_CHECKED = 1 / 20
"""The smallest salience shown to keep a fit: kazakhstan-2022 at 2 people per agent, fitted at 40
(docs/calibration.md, "Scale"). Below it, as at one agent per person, a run says so."""

PACKING_SLACK = 1.5
"""Cells of the packed layout per cell of the cities with their walls (1.32-1.45 measured for
kazakhstan-2022 from one agent per person to one per 1,000): allowed for in memory checks."""


class City(Strict):
    name: str = Field(min_length=1)
    population: int = Field(gt=0, description="residents (census)")
    lat: float = Field(ge=-90.0, le=90.0)
    lon: float = Field(ge=-180.0, le=180.0)
    region: str = Field(min_length=1, description="cities of one region are tied closer")
    price_region: str = Field(min_length=1, description="which price schedule applies")
    police: int = Field(ge=0, description="police officers at the start")
    legitimacy: float = Field(ge=0.0, le=1.0, description="the regime's legitimacy here")
    memory: float = Field(0.0, ge=0.0, le=1.0, description="hardship added by past repression")


class GridSpec(Strict):
    citizen_density: float = Field(0.7, gt=0.0, le=0.95)
    citizen_vision: float = Field(7.0, ge=1.0, le=20.0)
    cop_vision: float = Field(7.0, ge=1.0, le=20.0)
    movement: bool = True
    substeps: int = Field(32, ge=1, le=1024)


class EpsteinSpec(Strict):
    k: float = Field(2.3, gt=0.0)
    threshold: float = Field(0.1, ge=0.0, le=1.0)
    max_jail_hours: int = Field(72, ge=0, le=32_000)
    police_visibility: float = Field(
        1.0,
        gt=0.0,
        description="cop agents per officer per people_per_agent: the visible coercive presence",
    )
    arrest_rate: float = Field(
        1.0, ge=0.0, le=1.0, description="chance a cop agent with an active in view arrests an hour"
    )


class Switch(Strict):
    enabled: bool = True


class Prices(Switch):
    adaptation_days: float = Field(60.0, gt=0.0, description="how fast a price feels normal")
    felt_hours: float = Field(0.0, ge=0.0, description="how long a new price takes to be felt")
    sensitivity: dict[str, float] = Field(description="hardship per unit ln(price/reference)")
    schedules: dict[str, list[tuple[datetime, float]]] = Field(
        description="per price region: [[time, price], ...], times may precede the calendar"
    )

    @model_validator(mode="after")
    def _schedules(self) -> Prices:
        for region, points in self.schedules.items():
            if not points:
                raise ValueError(f"prices.schedules.{region} needs at least one [time, price]")
            times = [t for t, _ in points]
            if times != sorted(times):
                raise ValueError(f"prices.schedules.{region} times must be in order")
            if any(p <= 0 for _, p in points):
                raise ValueError(f"prices.schedules.{region} prices must be positive")
        for region, s in self.sensitivity.items():
            if s < 0:
                raise ValueError(f"prices.sensitivity.{region} = {s} must not be negative")
        return self


class Legitimacy(Switch):
    per_arrest: float = Field(
        0.002, ge=0.0, description="L lost per detention (every arrest without dispersal) per 10k"
    )
    per_death: float = Field(0.05, ge=0.0, description="L lost per killing per 10k residents")
    per_dispersal: float = Field(
        0.002, ge=0.0, description="L lost per dispersal per 10k residents (dispersal on)"
    )


class News(Switch):
    effect: float = Field(20.0, ge=0.0, description="k is multiplied by exp(-effect * news)")
    online_weight: float = Field(1.0, ge=0.0)
    offline_weight: float = Field(0.5, ge=0.0)
    online_delay_hours: int = Field(2, ge=1, le=63)
    offline_delay_hours: int = Field(12, ge=1, le=63)
    reach_km: float = Field(300.0, gt=0.0, description="word of mouth fades as exp(-d / reach)")
    ties_between_regions: float = Field(0.3, ge=0.0, le=1.0)


class Networks(Switch):
    share: float = Field(0.0, ge=0.0, le=1.0, description="citizens in horizontal networks")
    delay_hours: int = Field(4, ge=1, le=63)


class Defection(Switch):
    odds: float = Field(5.0, gt=0.0, description="actives per officer beyond which police leave")
    rate: float = Field(0.05, ge=0.0, le=1.0, description="hourly leaving rate per unit pressure")
    defect_share: float = Field(0.1, ge=0.0, le=1.0, description="of leavers, who switch sides")
    return_rate: float = Field(0.05, ge=0.0, le=1.0, description="fled officers back per hour")


class LethalForce(Switch):
    kill_share: float = Field(0.05, ge=0.0, le=1.0, description="arrests that kill")
    backlash: float = Field(0.05, ge=0.0, description="hardship per killing per 10k residents")
    deterrence: float = Field(
        1.0, ge=0.0, description="severity gain per killing per 10k residents"
    )
    fade_days: float = Field(3.0, gt=0.0, description="anger and fear fade with this time")


class Dispersal(Switch):
    detain_share: float = Field(
        1.0, gt=0.0, le=1.0, description="arrests that detain; the others disperse"
    )
    emergency_detain_share: float = Field(
        1.0, gt=0.0, le=1.0, description="detain_share while an emergency is in force"
    )
    hours: float = Field(12.0, ge=0.0, le=720.0, description="longest time a dispersal lasts")


class Seizure(Switch):
    centre_share: float = Field(0.1, gt=0.0, le=0.5, description="centre radius / city side")
    ratio: float = Field(3.0, gt=0.0, description="actives per cop in the centre to hold it")
    min_share: float = Field(0.2, ge=0.0, le=1.0, description="of the centre's cells active")


class Levers(Switch):
    emergency_arrest_rate: float = Field(
        1.0, ge=0.0, le=1.0, description="epstein.arrest_rate while an emergency is in force"
    )
    retake_per_10k: float = Field(
        0.0,
        ge=0.0,
        description="officers per 10,000 residents sent to a city whose centre is held while an"
        " emergency is in force there (a lever by rule; 0: none)",
    )
    retake_delay_hours: float = Field(
        12.0, ge=0.0, le=720.0, description="hours from losing the centre to their arrival"
    )


class Salience(Switch):
    people_per_salient: int | None = Field(
        None,
        ge=1,
        description="the people one counted agent stands for, the scale perception was fitted at;"
        " at a finer people_per_agent, vision widens and agents count a matching share of cells"
        " (none: off)",
    )
    revisit_hours: float = Field(
        12.0,
        gt=0.0,
        le=10_000.0,
        description="a draw of salient cells lasts revisit_hours x the salient share, rounded,"
        " at least 1 hour: a cell is counted in one draw in every revisit_hours hours, on average",
    )


class Participation(Switch):
    share: float = Field(
        1.0, gt=0.0, le=1.0, description="residents who may take to the streets: the grid's people"
    )


class Mechanisms(Strict):
    prices: Prices
    participation: Participation = Participation()
    legitimacy: Legitimacy = Legitimacy()
    memory: Switch = Switch()
    news: News = News()
    blackout: Switch = Switch()
    networks: Networks = Networks()
    defection: Defection = Defection()
    levers: Levers = Field(
        Levers(), description="concession, resignation, emergency, transfers, retaking cities"
    )
    lethal_force: LethalForce = LethalForce()
    dispersal: Dispersal = Dispersal()
    troops: Switch = Switch()
    seizure: Seizure = Seizure()
    salience: Salience = Salience()


class Trigger(Strict):
    active_share: float = Field(gt=0.0, le=1.0, description="national share of actives")
    delay_hours: float = Field(0.0, ge=0.0)


class Event(Strict):
    id: str = Field(min_length=1)
    kind: Kind
    start: datetime | None = None
    trigger: Trigger | None = None
    end: datetime | None = None
    hours: float | None = Field(None, gt=0.0)
    cities: list[str] | Literal["all"] = "all"
    shares: list[float] | None = None
    value: float = 0.0
    count: int = Field(0, ge=0, description="troops or police officers (people)")
    source: str | None = Field(None, description="city a transfer takes police from")
    enabled: bool = Field(True, description="false: the event never starts (its slots are kept)")
    note: str = ""

    @model_validator(mode="after")
    def _shape(self) -> Event:
        if (self.start is None) == (self.trigger is None):
            raise ValueError(f"event {self.id!r} needs exactly one of start or trigger")
        if self.end is not None and self.hours is not None:
            raise ValueError(f"event {self.id!r}: give end or hours, not both")
        if self.end is not None and self.start is not None and self.end <= self.start:
            raise ValueError(f"event {self.id!r} ends ({self.end}) before it starts")
        if self.kind in ("troops", "transfer") and self.count == 0:
            raise ValueError(f"event {self.id!r} of kind {self.kind} needs a count > 0")
        if (self.kind == "transfer") != (self.source is not None):
            raise ValueError(f"event {self.id!r}: source is required for, and only for, transfer")
        if self.kind == "blackout" and not 0.0 <= self.value <= 1.0:
            raise ValueError(f"event {self.id!r}: blackout value {self.value} must lie in [0, 1]")
        if self.kind in ("emergency", "concession", "resignation") and self.value < 0:
            raise ValueError(f"event {self.id!r}: value {self.value} must not be negative")
        if self.cities != "all" and not self.cities:
            raise ValueError(f'event {self.id!r}: cities is empty; give city names or "all"')
        if self.shares is not None and sum(self.shares) <= 0:
            raise ValueError(f"event {self.id!r}: shares {self.shares} must not all be 0")
        if self.shares is not None and (
            self.cities == "all" or len(self.shares) != len(self.cities) or min(self.shares) < 0
        ):
            raise ValueError(f"event {self.id!r}: shares need one non-negative share per city")
        return self


class CountryScenario(Strict):
    name: str
    description: str = ""
    source: str = ""
    rules: Literal["paper", "netlogo", "mesa"] = "paper"
    start: datetime
    end: datetime
    people_per_agent: int = Field(1000, ge=1, description="residents each agent stands for")
    calibrated_people_per_agent: int | None = Field(
        None, ge=1, description="the people_per_agent its parameters were fitted at, if fitted"
    )
    capital: str = Field(description="the city whose fall brings the regime down")
    outline: str | None = Field(None, description="GeoJSON outline, beside the scenario file")
    observed: str | None = Field(None, description="CSV of what happened, beside the file")
    grid: GridSpec = GridSpec()
    epstein: EpsteinSpec = EpsteinSpec()
    mechanisms: Mechanisms
    cities: list[City] = Field(min_length=1)
    events: list[Event] = []
    variants: dict[str, dict[str, Any]] = {}

    @field_validator("cities")
    @classmethod
    def _unique(cls, cities: list[City]) -> list[City]:
        names = [c.name for c in cities]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"cities named more than once: {', '.join(twice)}")
        return cities

    @model_validator(mode="after")
    def _consistent(self) -> CountryScenario:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must come after start ({self.start})")
        names = [c.name for c in self.cities]
        if self.capital not in names:
            raise ValueError(f"capital {self.capital!r} is not a city; allowed: {', '.join(names)}")
        regions = {c.price_region for c in self.cities}
        missing = regions - set(self.mechanisms.prices.schedules)
        if missing:
            raise ValueError(
                f"mechanisms.prices.schedules has no schedule for price regions {sorted(missing)};"
                f" it has {sorted(self.mechanisms.prices.schedules)}"
            )
        missing = regions - set(self.mechanisms.prices.sensitivity)
        if missing:
            raise ValueError(f"mechanisms.prices.sensitivity lacks price regions {sorted(missing)}")
        ids = [e.id for e in self.events]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"event ids used more than once: {', '.join(twice)}")
        for i, e in enumerate(self.events):
            named = ([] if e.cities == "all" else list(e.cities)) + ([e.source] if e.source else [])
            for city in named:
                if city not in names:
                    raise ValueError(
                        f"events[{i}] ({e.id}): unknown city {city!r}; allowed: {', '.join(names)}"
                    )
            # An event may outlast a shortened calendar, but must begin within it.
            if e.start is not None and e.enabled and not self.start <= e.start < self.end:
                raise ValueError(
                    f"events[{i}] ({e.id}): start {e.start} is outside the calendar"
                    f" {self.start} .. {self.end}"
                )
        self._check_memory()
        for variant in self.variants:
            self.variant(variant)  # a broken variant is an error now, not at its first use
        return self

    def salience(self) -> float:
        """The share of cells whose agents are counted (salience, II.7.18): people_per_agent /
        people_per_salient below that scale (vision then widens by 1/sqrt of it), else 1."""
        m = self.mechanisms.salience
        if not m.enabled or m.people_per_salient is None:
            return 1.0
        return min(1.0, self.people_per_agent / m.people_per_salient)

    def salience_hours(self) -> int:
        """How long one draw of salient cells lasts, in hours (II.7.18): revisit_hours x the
        salient share, rounded half up, at least 1 (6 at 20 people per agent, 3 at 10, 2 at 5,
        1 at 2 and 1)."""
        share = self.salience()
        if share >= 1.0:
            return 1
        return max(1, math.floor(self.mechanisms.salience.revisit_hours * share + 0.5))

    def vision(self) -> tuple[float, float]:
        """Citizen and cop vision in cells at this scale (wider below `people_per_salient`)."""
        widen = 1.0 / math.sqrt(self.salience())
        return self.grid.citizen_vision * widen, self.grid.cop_vision * widen

    def memory_need(self) -> float:
        """Bytes a run needs, about: the cities and their walls, packed into one grid."""
        wall = radius(max(self.vision()))
        per_cell = self.street_share / self.people_per_agent / self.grid.citizen_density
        cells = sum((math.sqrt(c.population * per_cell) + wall) ** 2 for c in self.cities)
        return cells * PACKING_SLACK * BYTES_PER_CELL

    def _check_memory(self) -> None:
        need, have = self.memory_need(), memory_bytes()
        if need > have:
            smallest = math.ceil(self.people_per_agent * need / have)
            raise ValueError(
                f"people_per_agent = {self.people_per_agent} needs about {need / 2**30:.1f} GiB"
                f" for {len(self.cities)} cities; this machine has {have / 2**30:.1f} GiB;"
                f" allowed: people_per_agent >= {smallest}"
            )

    @property
    def street_share(self) -> float:
        """The share of residents, police and troops on the cities' grids (participation)."""
        p = self.mechanisms.participation
        return p.share if p.enabled else 1.0

    def scale_note(self) -> str | None:
        """A warning for a run at a scale the fit does not carry over to, or is not settled at
        (docs/calibration.md, "Scale"): coarser than the fit, finer without salience keeping its
        perception, or finer than salience was checked at."""
        fitted = self.calibrated_people_per_agent
        if fitted is None or fitted == self.people_per_agent:
            return None
        salience = self.mechanisms.salience
        kept = salience.enabled and salience.people_per_salient == fitted
        if self.people_per_agent > fitted or not kept:
            why = (
                f"at {self.people_per_agent} its dynamics differ and the calibration does not hold"
            )
        elif self.salience() < SALIENCE_CHECKED:
            why = (
                f"salience keeps the fit down to {math.ceil(fitted * SALIENCE_CHECKED)} people per"
                f" agent, but at {self.people_per_agent} it is not settled"
            )
        else:
            return None
        return (
            f"{self.name} was calibrated at people_per_agent = {fitted}; {why}"
            ' (docs/calibration.md, "Scale")'
        )

    def variant(self, name: str) -> CountryScenario:
        """The scenario with variant `name` merged over it (its own variants dropped)."""
        if name not in self.variants:
            allowed = ", ".join(sorted(self.variants)) or "none"
            raise ValueError(f"unknown variant {name!r}; allowed: {allowed}")
        changes = copy.deepcopy(self.variants[name])
        removed = changes.pop("remove_events", [])
        ids = [e.id for e in self.events]
        unknown = [r for r in removed if r not in ids]
        if unknown:
            raise ValueError(
                f"variants.{name}.remove_events names unknown events {unknown};"
                f" allowed: {', '.join(ids)}"
            )
        data = self.model_dump()
        for event in data["events"]:
            if event["id"] in removed:
                event["enabled"] = False
        data = merge(data, changes, f"variants.{name}")
        data["variants"] = {}
        data["name"] = f"{self.name}/{name}"
        return CountryScenario.model_validate(data)

    def digest(self) -> str:
        """A short hash of the model a run uses (not its name, texts, variants or the scale it
        was fitted at)."""
        body = self.model_dump(
            mode="json",
            exclude={
                "name",
                "description",
                "source",
                "variants",
                "outline",
                "calibrated_people_per_agent",
            },
        )
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def merge(base: dict[str, Any], changes: dict[str, Any], where: str) -> dict[str, Any]:
    """`changes` over `base`: tables merge key by key, anything else replaces; keys must exist."""
    out = dict(base)
    for key, value in changes.items():
        if key not in base:
            raise ValueError(f"{where}.{key}: unknown key; allowed: {', '.join(sorted(base))}")
        if isinstance(value, dict) and isinstance(base[key], dict):
            out[key] = merge(base[key], value, f"{where}.{key}")
        else:
            out[key] = value
    return out
