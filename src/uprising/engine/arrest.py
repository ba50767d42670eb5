"""Cop rule C (Epstein 2002): arrest a random active citizen within vision.

A group of cops acts at once. Each looks at the cells of its vision, picks one active citizen
uniformly, and the cops that picked the same citizen are settled by a random priority; the
losers arrest no one this step (with many small groups this is rare). The arrested citizen gets
a jail term (under lethal force, death with the scenario's probability; with dispersal, often a
short time away instead: `dispersal`); under NetLogo's rules
the cop moves onto its cell, under Mesa's the prisoner keeps blocking it, under the paper's it
simply leaves the grid.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array

from uprising.engine import dispersal, lethal, random
from uprising.engine.chunks import each_pending
from uprising.engine.counts import active_unit
from uprising.engine.neighbourhood import cells_around
from uprising.engine.params import Params
from uprising.engine.state import ACTIVE, COP, DEAD, EMPTY, JAILED, State
from uprising.engine.world import World

CHUNK = 16


def willing(stream: Array, shape: tuple[int, ...], params: Params) -> Array:
    """Which cops make an arrest this turn if they can: each with chance `params.arrest_rate`.

    Epstein's cops always do (rate 1: every draw passes, the other draws are untouched). A lower
    rate is police who hold back or are busy: the seed's "law enforcement seemed hesitant to
    disperse the protest".
    """
    return random.uniform(stream, shape) < params.arrest_rate


def no_arrests(cops: int) -> tuple[Array, Array]:
    """The cells and count changes `cops_turn` returns for a group of `cops` cops, all empty."""
    zeros = jnp.zeros(2 * CHUNK * -(-cops // CHUNK), jnp.int32)
    return zeros, zeros


def cops_turn(
    state: State,
    world: World,
    slots: Array,
    sees: Array,
    params: Params,
    stream: Array,
) -> tuple[State, Array, Array]:
    """One group of cops arrests, CHUNK cops at a time, skipping chunks where none `sees` actives.

    Returns the new state and the cells and packed count changes of the arrests (two per cop).
    """
    pad = -slots.shape[0] % CHUNK
    slots = jnp.pad(slots, (0, pad)).reshape(-1, CHUNK)
    sees = jnp.pad(sees, (0, pad)).reshape(-1, CHUNK)
    n_chunks = slots.shape[0]
    cells = jnp.zeros((n_chunks, 2 * CHUNK), jnp.int32)
    deltas = jnp.zeros((n_chunks, 2 * CHUNK), jnp.int32)

    # An active citizen's cell keeps its occupant through the turn (arrests empty cells, and a
    # cop moves only onto a cell it emptied): prisoners are read from the occupants before it,
    # so that the loop only writes them (read and written, the grid is copied every turn).
    occupants = state.occupant

    def chunk(i: Array, live: Array, carry: tuple[State, Array, Array]) -> tuple:
        state, cells, deltas = carry
        # Not live (a world of a batch that is done): no one arrested, nothing recorded.
        state, c, d = _arrest(
            state, world, slots[i], sees[i] & live, params, random.fold(stream, i), occupants
        )
        at = jnp.where(live, i, n_chunks)
        return state, cells.at[at].set(c, mode="drop"), deltas.at[at].set(d, mode="drop")

    state, cells, deltas = each_pending(world, sees.any(axis=1), chunk, (state, cells, deltas))
    return state, cells.reshape(-1), deltas.reshape(-1)


def _arrest(
    state: State,
    world: World,
    slots: Array,
    valid: Array,
    params: Params,
    stream: Array,
    occupants: Array,
) -> tuple[State, Array, Array]:
    rules = world.ruleset
    pos = jnp.where(valid, state.pos[slots], -1)
    present = pos >= 0
    dy, dx = world.vision_shape("cop", centre=rules.counts_self_twice)
    seen = cells_around(jnp.maximum(pos, 0), dy, dx, world)
    active = (state.kind[seen] == ACTIVE) & present[:, None]
    # A uniform pick among the actives seen: the one with the highest random priority.
    priority = jnp.where(
        active, (random.bits(random.fold(stream, 0), seen.shape) >> 1).astype(jnp.int32), -1
    )
    best = jnp.max(priority, axis=1)
    target = jnp.max(jnp.where(priority == best[:, None], seen, -1), axis=1)
    wants = best >= 0
    # Cops of a chunk that picked the same citizen: the first in the chunk's random order wins.
    rank = jnp.arange(slots.shape[0])
    rival = (target[:, None] == target[None, :]) & wants[None, :] & (rank[None, :] < rank[:, None])
    wins = wants & ~rival.any(axis=1)

    won_at = jnp.where(wins, target, world.cells)
    prisoner = occupants[jnp.minimum(target, world.cells - 1)]
    local = params.at(state.region_of(slots))
    term = lethal.sentence(random.fold(stream, 1), target.shape, local, rules)
    term, detained = dispersal.disperse(random.fold(stream, 2), term, local, rules)
    jail = state.jail.at[jnp.where(wins, prisoner, state.n_citizens)].set(term, mode="drop")
    arrests = state.tally(state.arrests, slots, wins)
    dispersed = state.tally(state.dispersed, slots, wins & ~detained)
    deaths = state.tally(state.deaths, slots, wins & (term == DEAD))
    kind, occupant, cop_pos = state.kind, state.occupant, state.pos
    d_target = jnp.where(wins, -active_unit(world), 0)
    d_origin = jnp.zeros_like(d_target)
    if rules.cop_takes_cell:
        left = jnp.where(wins, pos, world.cells)
        kind = kind.at[left].set(EMPTY, mode="drop").at[won_at].set(COP, mode="drop")
        occupant = occupant.at[left].set(-1, mode="drop").at[won_at].set(slots, mode="drop")
        cop_pos = cop_pos.at[jnp.where(wins, slots, cop_pos.shape[0])].set(target, mode="drop")
        d_target = d_target + jnp.where(wins, 1, 0)
        d_origin = jnp.where(wins, -1, 0)
    elif rules.jail_on_grid:
        kind = kind.at[won_at].set(JAILED, mode="drop")
    else:
        kind = kind.at[won_at].set(EMPTY, mode="drop")
        occupant = occupant.at[won_at].set(-1, mode="drop")
    state = state.with_(
        kind=kind,
        occupant=occupant,
        pos=cop_pos,
        jail=jail,
        arrests=arrests,
        dispersed=dispersed,
        deaths=deaths,
    )
    cells = jnp.concatenate([jnp.minimum(target, world.cells - 1), jnp.maximum(pos, 0)])
    return state, cells, jnp.concatenate([d_target, d_origin])
