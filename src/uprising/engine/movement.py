"""Movement rule M (Epstein 2002): move to a random empty site within vision.

Agents move in the random groups of the partial-update scheme, each group just before it acts
(after, under Mesa's rules), so a cell left by one group is open to the next, as in the published
one-at-a-time model. Each mover tries
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

from uprising.engine import counts as counts_rule
from uprising.engine import random
from uprising.engine.buffers import materialised, read
from uprising.engine.neighbourhood import (
    flat_offsets,
    grid_index,
    padded_index,
    radius,
    torus_padded,
)
from uprising.engine.state import COP, EMPTY, QUIET, State
from uprising.engine.world import World

MOVE_TRIES = 10  # even: each random hash serves two tries
"""At the paper's 77% occupancy, 10 tries find an empty site 93% of the time (vision 7 holds
about 34 empty sites, so the published rule always finds one)."""


def _first_empty(
    stream: Array, state: State, world: World, is_citizen: Array, pos: Array, back: Array
) -> tuple[Array, Array]:
    """The first empty cell among random tries around each position, and whether there was one.

    Returning citizens try their own cell first. The tries look at a copy of the grid padded
    with the vision radius (`neighbourhood.torus_padded`): a try is then one addition, with no
    wrapping round the torus (three times cheaper, and this is the hottest loop of a step).
    """
    cit_dy, cit_dx = world.vision_shape("citizen", centre=False)
    cop_dy, cop_dx = world.vision_shape("cop", centre=False)
    margin = radius(max(world.citizen_vision, world.cop_vision))
    # Both visions' offsets in one table. The barrier keeps the table an array: as a constant,
    # the compiler may expand the lookup into a chain of selects, one per cell of the shape.
    offsets = np.concatenate(
        [flat_offsets(cit_dy, cit_dx, world, margin), flat_offsets(cop_dy, cop_dx, world, margin)]
    )
    table = jax.lax.optimization_barrier(jnp.asarray(offsets))
    # Tries run along the first axis, movers along the second: each step of a mover's search is
    # then a row the compiler vectorises, and the search's reductions are elementwise between
    # rows (2.5x faster than a row per mover).
    n = pos.shape[0]
    size = jnp.where(is_citizen, len(cit_dy), len(cop_dy))[None, :]
    base = jnp.where(is_citizen, 0, len(cit_dy))[None, :]
    # One 32-bit hash gives two tries, 16 random bits each (shapes hold far fewer cells): its
    # low half, then its high half. Hash j of mover m is value (tries / 2) m + j of the stream,
    # as in a row per mover.
    pairs = MOVE_TRIES // 2
    mover = jax.lax.broadcasted_iota(jnp.uint32, (pairs, n), 1)
    pair = jax.lax.broadcasted_iota(jnp.uint32, (pairs, n), 0)
    hashes = random.hashed(stream, mover * pairs + pair)
    # Low half, then high half, stacked on a major axis: no transpose of the minor one, which
    # the compiler would not vectorise.
    u = jnp.stack([hashes & 0xFFFF, hashes >> 16], axis=1).reshape(MOVE_TRIES, n).astype(jnp.int32)
    here = padded_index(jnp.maximum(pos, 0), world, margin)[None, :]
    attempt = jnp.arange(MOVE_TRIES, dtype=jnp.int32)[:, None]
    stay = back[None, :] & (attempt == 0)
    # Materialised, like the padded grid below: fused into the gather, the hashing and the table
    # lookup were done per read, each hash twice (with the stack above, 1.2x a step at 400x400).
    tries = materialised(
        lambda: jnp.where(stay, here, here + read(table, base + ((u * size) >> 16))), world, state.t
    )
    # Materialised: fused into the gather, the padding is redone for every try (20% of a step
    # at 100x100).
    padded = materialised(lambda: torus_padded(state.kind, world, margin), world, state.t)
    usable = read(padded, tries) == EMPTY
    first = jnp.min(jnp.where(usable, attempt, MOVE_TRIES), axis=0)
    target = jnp.sum(jnp.where(attempt == first[None, :], tries, 0), axis=0)
    return grid_index(target, world, margin), first < MOVE_TRIES


def move_group(
    state: State,
    world: World,
    slots: Array,
    valid: Array,
    stream: Array,
) -> tuple[State, Array, Array]:
    """The agents of one group move (rule M) at once.

    Returns the new state and, per mover, the cells left and taken, (n, 2), with the packed count
    changes there: only cops and active citizens change what citizens count.
    """
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
    target, found = _first_empty(stream, state, world, is_citizen, pos, back)
    wants = (movers | back) & found
    # Settle movers that chose the same cell: the first in the group's random order wins. The
    # claims are written over the occupant of the empty cell (-1), all below it and the first
    # mover's least, so that the least wins; the winner's slot then overwrites it.
    claim = jnp.arange(slots.shape[0], dtype=jnp.int32) - (slots.shape[0] + 1)
    claimed = state.occupant.at[jnp.where(wants, target, world.cells)].min(claim, mode="drop")
    wins = wants & (read(claimed, target) == claim)

    # Cells left and cells taken are disjoint (taken cells were empty): one scatter each array.
    carried = jnp.where(is_citizen, jnp.where(on_grid, state.kind[here], QUIET), COP)
    left = jnp.where(wins & on_grid, pos, world.cells)
    at = jnp.concatenate([left, jnp.where(wins, target, world.cells)])
    kind = state.kind.at[at].set(
        jnp.concatenate([jnp.full(pos.shape, EMPTY), carried]).astype(jnp.uint8), mode="drop"
    )
    occupant = claimed.at[at].set(jnp.concatenate([jnp.full(pos.shape, -1), slots]), mode="drop")
    new_pos = state.pos.at[jnp.where(wins, slots, state.pos.shape[0])].set(target, mode="drop")
    delta = jnp.where(wins & on_grid, counts_rule.seen(carried, world), 0)
    state = state.with_(kind=kind, occupant=occupant, pos=new_pos)
    return state, jnp.stack([here, target], axis=1), jnp.stack([-delta, delta], axis=1)
