"""A country of cities stepped hour by hour: the engine in every city, the mechanisms between.

`step(state, country, key, world) -> (state, observation)` is pure: each hour the calendar's
levers and the news from other cities set every city's engine parameters (legitimacy, hardship,
k, lethality, police on the grid); the cities, packed into one grid (`layout`), take one engine
step together, each agent reading its own city's parameters; then the
city-level mechanisms update from what happened (legitimacy, anger and fear, police flight and
defection, who holds the centre and which cities are lost, triggered events). `run` scans it over
the calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
from jax import Array

from uprising.engine import defection, lethal
from uprising.engine.params import Params, Schedule
from uprising.engine.state import State
from uprising.engine.step import observe
from uprising.engine.step import step as engine_step
from uprising.engine.world import World
from uprising.world import events as events_rule
from uprising.world import legitimacy as legitimacy_rule
from uprising.world import news as news_rule
from uprising.world import retake, seizure
from uprising.world.layout import Box

HISTORY = 64
"""Hours of past shares of actives kept for the news channels' delays (delays < HISTORY)."""


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Country:
    """Everything about a country that may vary between runs of one compiled model."""

    citizens: Array  # (C,) agents
    per_10k: Array  # (C,) residents per agent / residents * 10,000: agents to per-10k rates
    legitimacy: Array  # (C,) at the start
    hardship: Array  # (hours, C) added by prices and local memory
    police: Array  # (C,) police agents at the start
    cop_slots: Array  # (C,) most cops each city's grid can hold
    online: Array  # (C, C) news weights, to x from
    offline: Array
    network: Array
    delays: Array  # (3,) int32 hours: online, offline, network
    channels: Array  # (3,) weights of the channels
    news_effect: Array
    k: Array
    threshold: Array
    arrest_rate: Array
    emergency_arrest_rate: Array  # while a state of emergency is in force
    detain_share: Array  # of arrests; the others disperse
    emergency_detain_share: Array  # while a state of emergency is in force
    dispersal_hours: Array
    max_jail: Array
    per_arrest: Array
    per_death: Array
    per_dispersal: Array
    odds: Array
    flight_rate: Array
    defect_share: Array
    return_rate: Array
    kill_share: Array
    backlash: Array
    deterrence: Array
    decay: Array  # per hour, of anger and fear
    centre_cells: Array  # (M,) the cells of every city's centre (seizure.centre_cells)
    centre_city: Array  # (M,) the city of each
    held_ratio: Array
    held_min_share: Array
    retake_forces: Array  # (C,) agents sent to retake a city whose centre is held
    retake_delay: Array  # hours from losing the centre to their arrival
    events: events_rule.Events


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class CountryState:
    cities: State  # every city in one grid; counts of arrests, deaths and cops per city
    legitimacy: Array  # (C,)
    anger: Array  # (C,) added to hardship
    fear: Array  # (C,) severity of an arrest - 1 (net-risk multiplier)
    police: Array  # (C,) regular police agents (float: flight is a rate)
    fled: Array  # (C,)
    defected: Array  # (C,)
    history: Array  # (HISTORY, C) shares of actives, ring by hour
    lost_at: Array  # (C,) hour the centre was first held under an emergency; NEVER: not yet
    start: Array  # (E,) event starts (triggers fill them in)
    hour: Array  # () int32


def start(cities: State, country: Country) -> CountryState:
    zeros = jnp.zeros_like(country.citizens)
    return CountryState(
        cities=cities,
        legitimacy=country.legitimacy,
        anger=zeros,
        fear=zeros,
        police=country.police,
        fled=zeros,
        defected=zeros,
        history=jnp.zeros((HISTORY, country.citizens.shape[0]), jnp.float32),
        lost_at=jnp.full_like(country.citizens, events_rule.NEVER),
        start=country.events.start,
        hour=jnp.int32(0),
    )


def _engine_params(state: CountryState, country: Country, levers: events_rule.Levers) -> Params:
    n = country.citizens.shape[0]
    news = news_rule.received(
        state.history,
        state.hour,
        levers.blackout,
        country.online,
        country.offline,
        country.network,
        country.delays,
        country.channels,
    )
    k = country.k * (1.0 + levers.emergency) * news_rule.risk_factor(news, country.news_effect)
    at_zero = jnp.zeros(1, jnp.float32)
    return Params(
        legitimacy=Schedule(at_zero, state.legitimacy[None, :]),
        police=Schedule(at_zero, at_zero),  # unused: the country sets each city's police
        k=k,
        threshold=jnp.full(n, country.threshold),
        max_jail=jnp.full(n, country.max_jail),
        hardship_shift=country.hardship[state.hour] + state.anger,
        lethality=country.kill_share * levers.lethal,
        arrest_rate=jnp.where(
            levers.emergency > 0, country.emergency_arrest_rate, country.arrest_rate
        ),
        detain_share=jnp.where(
            levers.emergency > 0, country.emergency_detain_share, country.detain_share
        ),
        dispersal_hours=jnp.full(n, country.dispersal_hours),
        severity=1.0 + state.fear,
    )


def step(
    state: CountryState, country: Country, key: Array, world: World
) -> tuple[CountryState, dict[str, Array]]:
    """One hour everywhere; returns the new state and what each city looked like after it."""
    levers = events_rule.levers(country.events, state.start, state.hour)
    params = _engine_params(state, country, levers)
    police = jnp.maximum(state.police + levers.transfer, 0.0)
    sent = retake.sent(
        state.lost_at, state.hour, levers.emergency, country.retake_forces, country.retake_delay
    )
    cops = jnp.clip(jnp.round(police + levers.troops + sent), 0, country.cop_slots)
    cops = cops.astype(jnp.int32)
    cities = engine_step(state.cities, params, key, world, cops=cops)
    seen = observe(cities)
    active = seen["active"].astype(jnp.float32)

    arrests = (cities.arrests - state.cities.arrests) * country.per_10k
    dispersed = (cities.dispersed - state.cities.dispersed) * country.per_10k
    deaths = (cities.deaths - state.cities.deaths) * country.per_10k
    legitimacy = legitimacy_rule.update(
        state.legitimacy,
        legitimacy_rule.Seen(arrests - dispersed, dispersed, deaths),
        levers.boost,
        legitimacy_rule.Seen(country.per_arrest, country.per_dispersal, country.per_death),
    )
    anger, fear = lethal.witnessed(
        state.anger, state.fear, deaths, country.backlash, country.deterrence, country.decay
    )
    # The odds officers weigh are against the whole force in the city, troops included.
    force = cops.astype(jnp.float32)
    leaving = defection.leaving(
        police, force, active, legitimacy, country.odds, country.flight_rate
    )
    back = defection.returning(state.fled, active, force, country.odds, country.return_rate)
    fled = state.fled + (1.0 - country.defect_share) * leaving - back
    defected = state.defected + country.defect_share * leaving

    in_centre = seizure.centre_counts(
        cities.kind, country.centre_cells, country.centre_city, country.citizens.shape[0]
    )
    troops = jnp.round(levers.troops).astype(jnp.int32)
    held = seizure.held(*in_centre, country.held_ratio, country.held_min_share)
    share = active / country.citizens
    national = active.sum() / country.citizens.sum()
    new = CountryState(
        cities=cities,
        legitimacy=legitimacy,
        anger=anger,
        fear=fear,
        police=state.police - leaving + back,
        fled=fled,
        defected=defected,
        history=state.history.at[state.hour % HISTORY].set(share),
        lost_at=retake.lost(state.lost_at, held, levers.emergency, state.hour),
        start=events_rule.fire(country.events, state.start, state.hour, national),
        hour=state.hour + 1,
    )
    observation = {
        **seen,
        "police": jnp.maximum(seen["cops"] - troops, 0),
        "troops": troops,
        "arrests": cities.arrests,
        "dispersed": cities.dispersed,
        "deaths": cities.deaths,
        "legitimacy": legitimacy,
        "held": held,
        "blackout": levers.blackout,
        "defected": defected,
        "fled": fled,
    }
    del observation["cops"]
    return new, observation


@partial(jax.jit, static_argnames=("world", "hours", "watch"))
def run(
    state: CountryState,
    country: Country,
    key: Array,
    world: World,
    hours: int,
    watch: Box | None = None,
) -> tuple[CountryState, dict[str, Array]]:
    """`hours` hours from `state`; observations stacked (hours, cities). With `watch`, a city's
    box of the grid (`Layout.boxes`), its cell kinds after every hour too, as "grid" (hours,
    height, width)."""

    def one(state: CountryState, key: Array) -> tuple[CountryState, dict[str, Array]]:
        new, seen = step(state, country, key, world)
        if watch is not None:
            y0, x0, h, w = watch
            grid = new.cities.kind.reshape(world.height, world.width)
            seen = {**seen, "grid": grid[y0 : y0 + h, x0 : x0 + w]}
        return new, seen

    return jax.lax.scan(one, state, jax.random.split(key, hours))


@partial(jax.jit, static_argnames=("world", "hours", "watch"))
def run_batch(
    states: CountryState,
    country: Country,
    keys: Array,
    world: World,
    hours: int,
    watch: Box | None = None,
) -> tuple[CountryState, dict[str, Array]]:
    """`run` over a leading axis of states and keys: many seeds of one country in one call."""
    one = partial(run, world=world.batched("seeds"), hours=hours, watch=watch)
    return jax.vmap(one, in_axes=(0, None, 0), axis_name="seeds")(states, country, keys)
