"""Government levers and outside events on the calendar, or triggered by a rule.

Each event has a kind, a start (an hour, or a trigger: the first hour the national share of
actives reaches a level, plus a delay), a length in hours, the cities it touches and a value.
Kinds and what they do while they last:

- blackout: cuts the online channel by `value` (0..1) in its cities;
- concession, resignation: raise legitimacy by `value` in their cities, once, as they begin;
- emergency (state of emergency and curfew): multiplies k by 1 + `value`, and the police arrest
  at the levers' `emergency_arrest_rate`;
- lethal_force: arrests kill with the lethal-force mechanism's probability;
- troops: `count` foreign troops, split between its cities, on the grid; they never defect;
- transfer: `count` police moved from `source` to its cities.

The seed names each: the government "lowered the price" and resigned, imposed a curfew and an
"anti-terror" operation, cut the internet, brought CSTO troops, ordered to "shoot to kill".
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

KINDS = (
    "blackout",
    "concession",
    "resignation",
    "emergency",
    "lethal_force",
    "troops",
    "transfer",
)
BLACKOUT, CONCESSION, RESIGNATION, EMERGENCY, LETHAL, TROOPS, TRANSFER = range(len(KINDS))
NEVER = 1e9
"""The start of an event whose trigger has not fired (or of one switched off)."""


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Events:
    kind: Array  # (E,) int32
    start: Array  # (E,) float32 hour, NEVER while a trigger waits
    hours: Array  # (E,) float32 length
    trigger: Array  # (E,) float32 national share of actives that starts it; NEVER: none
    delay: Array  # (E,) float32 hours from the trigger to the start
    cities: Array  # (E, C) float32 weight of each city (troops: their split)
    source: Array  # (E, C) float32 one-hot city a transfer takes police from
    value: Array  # (E,) float32
    count: Array  # (E,) float32 agents (troops, transfers)

    @staticmethod
    def from_rows(rows: list[tuple]) -> Events:
        """Events from rows (kind, start, hours, trigger, delay, cities, source, value, count)."""
        cols = list(zip(*rows, strict=True))
        f32 = [jnp.asarray(np.asarray(c, np.float32)) for c in cols[1:]]
        return Events(jnp.asarray(cols[0], jnp.int32), *f32)


@dataclass(frozen=True)
class Levers:
    blackout: Array  # (C,) level 0..1
    boost: Array  # (C,) legitimacy boost this hour
    emergency: Array  # (C,) k multiplier - 1
    lethal: Array  # (C,) 0 or 1
    troops: Array  # (C,) agents
    transfer: Array  # (C,) police agents gained (negative: sent away)


def levers(events: Events, start: Array, hour: Array) -> Levers:
    """What the events in force at `hour` do to each city."""
    h = hour.astype(jnp.float32)
    on = (h >= start) & (h < start + events.hours)
    begins = (h >= start) & (h < start + 1.0)

    def of(kind: int, when: Array, amount: Array) -> Array:
        mine = (events.kind == kind) & when
        return (jnp.where(mine, amount, 0.0)[:, None] * events.cities).sum(axis=0)

    def strongest(kind: int) -> Array:
        mine = (events.kind == kind) & on
        return (jnp.where(mine, events.value, 0.0)[:, None] * events.cities).max(axis=0)

    moving = ((events.kind == TRANSFER) & on).astype(jnp.float32) * events.count
    return Levers(
        blackout=strongest(BLACKOUT),
        boost=of(CONCESSION, begins, events.value) + of(RESIGNATION, begins, events.value),
        emergency=strongest(EMERGENCY),
        lethal=strongest(LETHAL),
        troops=of(TROOPS, on, events.count),
        transfer=moving @ (events.cities - events.source),
    )


def fire(events: Events, start: Array, hour: Array, national_share: Array) -> Array:
    """Starts of triggered events that fire this hour (others unchanged)."""
    fires = (start >= NEVER) & (national_share >= events.trigger)
    return jnp.where(fires, hour.astype(jnp.float32) + 1.0 + events.delay, start)
