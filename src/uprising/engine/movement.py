"""Movement rule M (Epstein 2002): move to a random empty site within vision.

Agents move in the random groups of the partial-update scheme, one group after another, so a cell
left by one group is open to the next, as in the published one-at-a-time model. Each mover tries
MOVE_TRIES random sites of its vision and takes the first that is empty: given that it finds one,
that is a uniform draw among the empty sites, as in the paper. Movers of a group that chose the
same site are settled by a random priority; losers stay. Citizens freed from an off-grid jail
re-enter here: first at the cell of their arrest, else at a random empty site within vision.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from uprising.engine import partition, random
from uprising.engine.neighbourhood import wrap_cells
from uprising.engine.state import COP, EMPTY, QUIET, State
from uprising.engine.world import World

MOVE_TRIES = 10
"""At the paper's 77% occupancy, 10 tries find an empty site 93% of the time (vision 7 holds
about 34 empty sites, so the published rule always finds one)."""


def _first_empty(
    key: Array, state: State, world: World, who: str, pos: Array, back: Array
) -> tuple[Array, Array]:
    """The first empty cell among random tries around each position, and whether there was one.

    Returning citizens try their own cell first.
    """
    dy, dx = world.vision_shape(who, centre=False)
    # Both offsets in one lookup. The barrier keeps the table an array: as a constant, the
    # compiler may expand the lookup into a chain of selects, one per cell of the shape.
    table = jax.lax.optimization_barrier(jnp.asarray(dy * 65536 + dx))
    pick = table[random.below(key, (pos.shape[0], MOVE_TRIES), dy.shape[0])] + 32768
    dy, dx = pick >> 16, (pick & 0xFFFF) - 32768
    here = jnp.maximum(pos, 0)[:, None]
    slot = jnp.arange(MOVE_TRIES, dtype=jnp.int32)
    stay = back[:, None] & (slot == 0)
    tries = jnp.where(stay, here, wrap_cells(here, dy, dx, world))
    # Materialised once: left to fusion, the hashing would be redone by every consumer.
    tries = jax.lax.optimization_barrier(tries)
    usable = state.kind[tries] == EMPTY
    first = jnp.min(jnp.where(usable, slot, MOVE_TRIES), axis=1)
    target = jnp.sum(jnp.where(slot == first[:, None], tries, 0), axis=1)
    return target, first < MOVE_TRIES


def _move_group(
    state: State, world: World, slots: Array, valid: Array, who: str, key: Array, claims: Array
) -> tuple[State, Array]:
    rules = world.ruleset
    is_citizen = who == "citizen"
    pos = jnp.where(valid, state.pos[slots], -1)
    here = jnp.maximum(pos, 0)
    on_grid = (pos >= 0) & (state.occupant[here] == slots)
    if is_citizen:
        free = state.jail[jnp.where(valid, slots, 0)] == 0
        movers = on_grid & free & world.movement
        back = (pos >= 0) & free & ~on_grid
    else:
        movers = on_grid & (world.movement or rules.cops_always_move)
        back = jnp.zeros_like(movers)
    k_try, k_prio = jax.random.split(key)
    target, found = _first_empty(k_try, state, world, who, pos, back)
    wants = (movers | back) & found
    # Unique random priorities: random high bits, the rank in the group in the low bits.
    rank_bits = max(1, int(np.ceil(np.log2(slots.shape[0] + 1))))
    noise = (random.bits(k_prio, slots.shape) >> (rank_bits + 1)).astype(jnp.int32)
    priority = (noise << rank_bits) | jnp.arange(slots.shape[0], dtype=jnp.int32)
    claim_at = jnp.where(wants, target, world.cells)
    claims = claims.at[claim_at].max(priority, mode="drop")
    wins = wants & (claims[target] == priority)
    claims = claims.at[claim_at].set(-1, mode="drop")

    carried = (
        jnp.where(on_grid, state.kind[here], QUIET) if is_citizen else jnp.full(pos.shape, COP)
    )
    left = jnp.where(wins & on_grid, pos, world.cells)
    arrive = jnp.where(wins, target, world.cells)
    kind = (
        state.kind.at[left]
        .set(EMPTY, mode="drop")
        .at[arrive]
        .set(carried.astype(jnp.uint8), mode="drop")
    )
    occupant = state.occupant.at[left].set(-1, mode="drop").at[arrive].set(slots, mode="drop")
    new_pos = state.pos.at[jnp.where(wins, slots, state.pos.shape[0])].set(target, mode="drop")
    return state.with_(kind=kind, occupant=occupant, pos=new_pos), claims


def move(state: State, world: World, key: Array) -> State:
    n_cit = state.n_citizens
    n_cop = state.pos.shape[0] - n_cit
    k_cit, k_cop, k_loop = jax.random.split(key, 3)
    cit_order = partition.draw_order(k_cit, n_cit)
    cop_order = partition.draw_order(k_cop, n_cop)

    def group(g: Array, carry: tuple[State, Array]) -> tuple[State, Array]:
        state, claims = carry
        k_a, k_b = jax.random.split(jax.random.fold_in(k_loop, g))
        slots, valid = partition.block(cit_order, n_cit, world.substeps, g)
        state, claims = _move_group(state, world, slots, valid, "citizen", k_a, claims)
        if n_cop:
            slots, valid = partition.block(cop_order, n_cop, world.substeps, g)
            state, claims = _move_group(state, world, slots + n_cit, valid, "cop", k_b, claims)
        return state, claims

    claims = jnp.full(world.cells, -1, jnp.int32)
    return jax.lax.fori_loop(0, world.substeps, group, (state, claims))[0]
