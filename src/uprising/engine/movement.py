"""Movement rule M (Epstein 2002): move to a random empty site within vision.

Agents move in the random groups of the partial-update scheme, one group after another, so a cell
left by one group is open to the next, as in the published one-at-a-time model. Each mover tries
MOVE_TRIES random sites of its vision and takes the first that is empty: given that it finds one,
that is a uniform draw among the empty sites, as in the paper. Movers of a group that chose the
same site are settled by their place in the group's random order; losers stay. Citizens freed
from an off-grid jail re-enter here: first at the cell of their arrest, else at a random empty
site within vision.
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

MOVE_TRIES = 10  # even: each random hash serves two tries
"""At the paper's 77% occupancy, 10 tries find an empty site 93% of the time (vision 7 holds
about 34 empty sites, so the published rule always finds one)."""


def _first_empty(
    stream: Array, state: State, world: World, is_citizen: Array, pos: Array, back: Array
) -> tuple[Array, Array]:
    """The first empty cell among random tries around each position, and whether there was one.

    Returning citizens try their own cell first.
    """
    cit_dy, cit_dx = world.vision_shape("citizen", centre=False)
    cop_dy, cop_dx = world.vision_shape("cop", centre=False)
    # Both visions' offsets in one table, both offsets of a cell in one entry. The barrier keeps
    # the table an array: as a constant, the compiler may expand the lookup into a chain of
    # selects, one per cell of the shape.
    packed = np.concatenate([cit_dy * 65536 + cit_dx, cop_dy * 65536 + cop_dx])
    table = jax.lax.optimization_barrier(jnp.asarray(packed))
    size = jnp.where(is_citizen, len(cit_dy), len(cop_dy))[:, None]
    base = jnp.where(is_citizen, 0, len(cit_dy))[:, None]
    # One 32-bit hash gives two tries, 16 random bits each (shapes hold far fewer cells).
    halves = random.bits(stream, (pos.shape[0], MOVE_TRIES // 2, 1)) >> jnp.array(
        [0, 16], jnp.uint32
    )
    u = (halves & 0xFFFF).reshape(pos.shape[0], MOVE_TRIES).astype(jnp.int32)
    pick = table[base + ((u * size) >> 16)] + 32768
    here = jnp.maximum(pos, 0)[:, None]
    slot = jnp.arange(MOVE_TRIES, dtype=jnp.int32)
    stay = back[:, None] & (slot == 0)
    tries = jnp.where(stay, here, wrap_cells(here, pick >> 16, (pick & 0xFFFF) - 32768, world))
    # Materialised once: left to fusion, the hashing would be redone by every consumer.
    tries = jax.lax.optimization_barrier(tries)
    usable = state.kind[tries] == EMPTY
    first = jnp.min(jnp.where(usable, slot, MOVE_TRIES), axis=1)
    target = jnp.sum(jnp.where(slot == first[:, None], tries, 0), axis=1)
    return target, first < MOVE_TRIES


def _move_group(
    state: State,
    world: World,
    slots: Array,
    valid: Array,
    group: Array,
    stream: Array,
    claims: Array,
) -> tuple[State, Array]:
    rules = world.ruleset
    n_cit = state.n_citizens
    is_citizen = slots < n_cit
    pos = jnp.where(valid, state.pos[slots], -1)
    here = jnp.maximum(pos, 0)
    on_grid = (pos >= 0) & (state.occupant[here] == slots)
    free = ~is_citizen | (state.jail[jnp.where(is_citizen, slots, 0)] == 0)
    may_move = jnp.where(is_citizen, world.movement, world.movement or rules.cops_always_move)
    movers = on_grid & free & may_move
    back = (pos >= 0) & free & ~on_grid & is_citizen
    target, found = _first_empty(random.fold(stream, 0), state, world, is_citizen, pos, back)
    wants = (movers | back) & found
    # Settle movers that chose the same cell: the first in the group's random order wins. Claims
    # carry the group number in their high bits, so the claims of earlier groups always lose and
    # the scratch grid never needs clearing within a step.
    rank_bits = max(1, int(np.ceil(np.log2(slots.shape[0] + 1))))
    priority = (group << rank_bits) | (slots.shape[0] - jnp.arange(slots.shape[0], dtype=jnp.int32))
    claim_at = jnp.where(wants, target, world.cells)
    claims = claims.at[claim_at].max(priority, mode="drop")
    wins = wants & (claims[target] == priority)

    # Cells left and cells taken are disjoint (taken cells were empty): one scatter each array.
    carried = jnp.where(is_citizen, jnp.where(on_grid, state.kind[here], QUIET), COP)
    at = jnp.concatenate(
        [jnp.where(wins & on_grid, pos, world.cells), jnp.where(wins, target, world.cells)]
    )
    kind = state.kind.at[at].set(
        jnp.concatenate([jnp.full(pos.shape, EMPTY), carried]).astype(jnp.uint8), mode="drop"
    )
    occupant = state.occupant.at[at].set(
        jnp.concatenate([jnp.full(pos.shape, -1), slots]), mode="drop"
    )
    new_pos = state.pos.at[jnp.where(wins, slots, state.pos.shape[0])].set(target, mode="drop")
    return state.with_(kind=kind, occupant=occupant, pos=new_pos), claims


def move(state: State, world: World, stream: Array) -> State:
    """Every free agent moves once, in `world.substeps` random groups, citizens and cops mixed."""
    n_cit = state.n_citizens
    n_cop = state.pos.shape[0] - n_cit
    cit_order = partition.draw_order(random.fold(stream, 0), n_cit)
    cop_order = partition.draw_order(random.fold(stream, 1), n_cop)
    groups = random.fold(stream, 2)

    def group(g: Array, carry: tuple[State, Array]) -> tuple[State, Array]:
        state, claims = carry
        cit_slots, cit_valid = partition.block(cit_order, n_cit, world.substeps, g)
        cop_slots, cop_valid = partition.block(cop_order, n_cop, world.substeps, g)
        slots = jnp.concatenate([cit_slots, cop_slots + n_cit])
        valid = jnp.concatenate([cit_valid, cop_valid])
        return _move_group(state, world, slots, valid, g, random.fold(groups, g), claims)

    claims = jnp.full(world.cells, -1, jnp.int32)
    return jax.lax.fori_loop(0, world.substeps, group, (state, claims))[0]
