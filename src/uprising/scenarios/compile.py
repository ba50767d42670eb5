"""A country scenario turned into what the compiled hourly step takes: layout, World, Country.

A disabled mechanism becomes neutral parameters (no erosion, no news, no flight...) and its
events never start, so one compiled step serves every variant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from uprising.engine import World
from uprising.engine.neighbourhood import radius
from uprising.scenarios.country import CountryScenario, Event
from uprising.world import events as events_rule
from uprising.world import news, prices, seizure
from uprising.world.calendar import Calendar
from uprising.world.country import Country
from uprising.world.layout import Layout

LEVER_KINDS = ("concession", "resignation", "emergency", "transfer")
MAX_COP_SHARE = 0.25
"""Most of a city's cells its police, transfers, troops and retaking forces may take (the rest:
citizens, space)."""


@dataclass(frozen=True)
class Compiled:
    calendar: Calendar
    layout: Layout
    world: World
    country: Country
    police: list[int]
    """Police agents per city at the start."""


def _f32(values: object) -> jnp.ndarray:
    return jnp.asarray(np.asarray(values, np.float32))


def _agents(people: float, per_agent: int) -> float:
    return people / per_agent


def _force_factor(scenario: CountryScenario) -> float:
    """Cop agents per officer (or soldier) times people_per_agent: the visible presence, on the
    share of the city that is on the grid."""
    return scenario.epstein.police_visibility * scenario.street_share


def event_enabled(scenario: CountryScenario, event: Event) -> bool:
    """Whether an event acts: it is switched on, and so is its kind's mechanism."""
    m = scenario.mechanisms
    return event.enabled and {
        "blackout": m.blackout.enabled,
        "lethal_force": m.lethal_force.enabled,
        "troops": m.troops.enabled,
    }.get(event.kind, m.levers.enabled if event.kind in LEVER_KINDS else True)


def _events(scenario: CountryScenario, cal: Calendar, names: list[str]) -> events_rule.Events:
    rows = []
    for e in scenario.events:
        weights = np.zeros(len(names))
        listed = names if e.cities == "all" else e.cities
        shares = e.shares or [1.0] * len(listed)
        for city, share in zip(listed, shares, strict=True):
            weights[names.index(city)] = share
        if e.kind in ("troops", "transfer"):  # a count split between its cities
            weights = weights / weights.sum()
        source = np.zeros(len(names))
        if e.source:
            source[names.index(e.source)] = 1.0
        on = event_enabled(scenario, e)
        start = cal.hour(e.start) if e.start is not None and on else events_rule.NEVER
        if e.hours is not None:
            length = e.hours
        elif e.end is not None and e.start is not None:
            length = cal.hour(e.end) - cal.hour(e.start)
        else:
            length = events_rule.NEVER
        trigger = e.trigger.active_share if e.trigger is not None and on else events_rule.NEVER
        delay = e.trigger.delay_hours if e.trigger is not None else 0.0
        value = 1.0 if e.kind == "lethal_force" else e.value
        kind = events_rule.KINDS.index(e.kind)
        count = _agents(e.count * _force_factor(scenario), scenario.people_per_agent)
        rows.append((kind, start, length, trigger, delay, weights, source, value, count))
    if not rows:  # no events: one that never starts keeps the arrays' shapes
        zeros = np.zeros(len(names))
        rows.append((0, events_rule.NEVER, 1.0, events_rule.NEVER, 0.0, zeros, zeros, 0.0, 0.0))
    return events_rule.Events.from_rows(rows)


def _hardship(scenario: CountryScenario, cal: Calendar) -> np.ndarray:
    m = scenario.mechanisms
    out = np.zeros((cal.hours, len(scenario.cities)))
    if m.prices.enabled:
        adaptation = m.prices.adaptation_days * 24.0
        by_region = {
            region: prices.hardship(
                [(cal.hour(t), p) for t, p in points],
                cal.hours,
                m.prices.sensitivity[region],
                adaptation,
                m.prices.felt_hours,
            )
            for region, points in m.prices.schedules.items()
        }
        for c, city in enumerate(scenario.cities):
            out[:, c] = by_region[city.price_region]
    if m.memory.enabled:
        out += np.asarray([c.memory for c in scenario.cities])[None, :]
    return out


def compile_country(scenario: CountryScenario) -> Compiled:
    s, m = scenario, scenario.mechanisms
    cal = Calendar(s.start, s.end)
    names = [c.name for c in s.cities]
    per = s.people_per_agent
    citizens = [max(1, round(c.population * s.street_share / per)) for c in s.cities]
    police = [round(_agents(c.police * _force_factor(s), per)) for c in s.cities]
    events = _events(s, cal, names)
    # Switched-off events, and forces sent to retake cities with the levers off, keep their
    # slots: a variant then has its base's shapes and, seed for seed, its random numbers (paired
    # runs).
    retake = [
        _agents(c.population * m.levers.retake_per_10k / 1e4 * _force_factor(s), per)
        for c in s.cities
    ]
    inflow = (np.asarray(events.count)[:, None] * np.asarray(events.cities)).sum(axis=0)
    inflow = inflow + np.asarray(retake)
    cop_slots = [p + math.ceil(i) for p, i in zip(police, inflow, strict=True)]
    citizen_vision, cop_vision = s.vision()
    margin = radius(max(citizen_vision, cop_vision))
    layout = Layout.plan(citizens, s.grid.citizen_density, margin, cop_slots)
    for c, (h, w) in enumerate(zip(layout.heights, layout.widths, strict=True)):
        need, room = police[c] + inflow[c], MAX_COP_SHARE * h * w
        if need > room:
            raise ValueError(
                f"cities.{names[c]}: police, transfers, troops and retaking forces"
                f" ({need:.0f} agents) would take more than {MAX_COP_SHARE:.0%} of its {h * w}"
                f" cells; allowed: at most {room:.0f} agents (fewer police or troops)"
            )
    world = World(
        height=layout.height,
        width=layout.width,
        citizen_density=sum(layout.citizens) / layout.cells,
        cop_density=sum(layout.cop_slots) / layout.cells,
        citizen_vision=citizen_vision,
        cop_vision=cop_vision,
        movement=s.grid.movement,
        rules=s.rules,
        substeps=s.grid.substeps,
        salience=s.salience(),
        salience_steps=s.salience_hours(),
    )
    population = np.asarray([c.population for c in s.cities], np.float64)
    lat = np.asarray([c.lat for c in s.cities])
    lon = np.asarray([c.lon for c in s.cities])
    online, offline, network = news.weights(
        population,
        lat,
        lon,
        [c.region for c in s.cities],
        m.news.ties_between_regions,
        m.news.reach_km,
    )
    channels = [m.news.online_weight, m.news.offline_weight, m.networks.share]
    if not m.networks.enabled:
        channels[2] = 0.0
    sides = np.minimum(layout.heights, layout.widths)
    centres = [
        seizure.centre_cells(box, layout.width, max(1.0, m.seizure.centre_share * side))
        for box, side in zip(layout.boxes, sides, strict=True)
    ]
    country = Country(
        citizens=_f32(citizens),
        per_10k=_f32(per / population * 1e4),
        legitimacy=_f32([c.legitimacy for c in s.cities]),
        hardship=_f32(_hardship(s, cal)),
        police=_f32(police),
        cop_slots=jnp.asarray(cop_slots, jnp.int32),
        online=_f32(online),
        offline=_f32(offline),
        network=_f32(network),
        delays=jnp.asarray(
            [m.news.online_delay_hours, m.news.offline_delay_hours, m.networks.delay_hours],
            jnp.int32,
        ),
        channels=_f32(channels),
        news_effect=_f32(m.news.effect if m.news.enabled else 0.0),
        k=_f32(s.epstein.k),
        threshold=_f32(s.epstein.threshold),
        arrest_rate=_f32(s.epstein.arrest_rate),
        emergency_arrest_rate=_f32(m.levers.emergency_arrest_rate),
        detain_share=_f32(m.dispersal.detain_share if m.dispersal.enabled else 1.0),
        emergency_detain_share=_f32(
            m.dispersal.emergency_detain_share if m.dispersal.enabled else 1.0
        ),
        dispersal_hours=_f32(m.dispersal.hours),
        max_jail=_f32(s.epstein.max_jail_hours),
        per_arrest=_f32(m.legitimacy.per_arrest if m.legitimacy.enabled else 0.0),
        per_death=_f32(m.legitimacy.per_death if m.legitimacy.enabled else 0.0),
        per_dispersal=_f32(m.legitimacy.per_dispersal if m.legitimacy.enabled else 0.0),
        odds=_f32(m.defection.odds),
        flight_rate=_f32(m.defection.rate if m.defection.enabled else 0.0),
        defect_share=_f32(m.defection.defect_share),
        return_rate=_f32(m.defection.return_rate),
        kill_share=_f32(m.lethal_force.kill_share if m.lethal_force.enabled else 0.0),
        backlash=_f32(m.lethal_force.backlash),
        deterrence=_f32(m.lethal_force.deterrence),
        decay=_f32(math.exp(-1.0 / (24.0 * m.lethal_force.fade_days))),
        centre_cells=jnp.asarray(np.concatenate(centres)),
        centre_city=jnp.asarray(np.repeat(np.arange(len(centres)), [len(c) for c in centres])),
        held_ratio=_f32(m.seizure.ratio if m.seizure.enabled else np.inf),
        held_min_share=_f32(m.seizure.min_share),
        retake_forces=_f32(retake if m.levers.enabled else np.zeros(len(retake))),
        retake_delay=_f32(m.levers.retake_delay_hours),
        events=events,
    )
    return Compiled(cal, layout, world, country, police)
