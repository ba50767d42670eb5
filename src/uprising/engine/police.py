"""The police force on the grid: cops withdrawn or deployed to match a target count.

Cop slots are ranked by their place among the slots; the first `target` of them are on the grid.
Withdrawn cops leave their cell; deployed cops (transfers, foreign troops, officers returning)
enter at a random empty cell, trying a few cells each step, so a crowded grid fills over steps.
In a country every city has its own cop slots, its own target and its own box to enter.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax import Array

from uprising.engine import random
from uprising.engine.state import COP, EMPTY, State
from uprising.engine.world import World

DEPLOY_TRIES = 8


def station(state: State, target: Array, world: World, stream: Array) -> State:
    """Cops of rank below `target` on the grid, the others off it (per city in a country)."""
    n_cit = state.n_citizens
    cop_pos = state.pos[n_cit:]
    rank = jnp.arange(cop_pos.shape[0], dtype=jnp.int32)
    if state.region is not None:  # a city's cop slots are contiguous: rank within the city
        city = state.region[n_cit:]
        rank = rank - jnp.searchsorted(city, city, side="left").astype(jnp.int32)
        target = target[city]
    leaving = (rank >= target) & (cop_pos >= 0)
    at = jnp.where(leaving, cop_pos, world.cells)
    state = state.with_(
        kind=state.kind.at[at].set(EMPTY, mode="drop"),
        occupant=state.occupant.at[at].set(-1, mode="drop"),
        pos=state.pos.at[n_cit:].set(jnp.where(leaving, -1, cop_pos)),
    )
    arriving = (rank < target) & (cop_pos < 0)
    deploy = partial(_deploy, world=world, stream=stream)
    # With no cop arriving, deploying changes nothing: decided once for a batch of worlds.
    return jax.lax.cond(world.any_world(arriving.any()), deploy, lambda s, _: s, state, arriving)


def _deploy(state: State, arriving: Array, world: World, stream: Array) -> State:
    n_cit = state.n_citizens
    tries = _tries(state, arriving.shape[0], world, stream)
    usable = state.kind[tries] == EMPTY
    first = jnp.argmax(usable, axis=1)
    target = jnp.take_along_axis(tries, first[:, None], axis=1)[:, 0]
    wants = arriving & usable.any(axis=1)
    # Cops that picked the same cell: the lowest rank wins, the others try again next step.
    slots = n_cit + jnp.arange(arriving.shape[0], dtype=jnp.int32)
    claim = jnp.full(world.cells, jnp.iinfo(jnp.int32).max, jnp.int32)
    claim = claim.at[jnp.where(wants, target, world.cells)].min(slots, mode="drop")
    wins = wants & (claim[target] == slots)
    at = jnp.where(wins, target, world.cells)
    return state.with_(
        kind=state.kind.at[at].set(COP, mode="drop"),
        occupant=state.occupant.at[at].set(slots, mode="drop"),
        pos=state.pos.at[jnp.where(wins, slots, state.pos.shape[0])].set(target, mode="drop"),
    )


def _tries(state: State, cops: int, world: World, stream: Array) -> Array:
    """Random cells for each cop slot to enter: anywhere, or in a country within its city."""
    shape = (cops, DEPLOY_TRIES)
    if state.boxes is None or state.region is None:
        return random.below(stream, shape, world.cells)
    box = state.boxes[state.region[state.n_citizens :]]
    y = box[:, :1] + random.below(random.fold(stream, 0), shape, box[:, 2:3])
    x = box[:, 1:2] + random.below(random.fold(stream, 1), shape, box[:, 3:4])
    return y * world.width + x


def scheduled_target(state: State, police: Array, world: World) -> Array:
    """Epstein's police schedule: a density, as a share of the cops the world started with."""
    share = jnp.clip(police / world.cop_density, 0.0, 1.0) if world.cop_density else 0.0
    return jnp.round(share * state.cops0).astype(jnp.int32)
