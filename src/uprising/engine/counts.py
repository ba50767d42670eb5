"""Cops and actives within each cell's citizen vision, kept current through a step.

A full count costs a fixed amount per cell. Within a step only a few cells change, so after each
group acts, its changes are added back as stencils, one chunk of the change list at a time and
only for the chunks that hold a change: the cost follows the agents that changed, not the size of
the grid. When a group changes more cells than a full count would cost, the grid is simply
counted again.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import Array

from uprising.engine.neighbourhood import ACTIVE_UNIT, cells_around, window_sums
from uprising.engine.state import ACTIVE, COP
from uprising.engine.world import World

CHUNK = 16
SCATTER_COST = 8
"""A stencil cell added by scatter costs about as much as this many cells of a full count (CPU)."""


def full(kind: Array, world: World) -> Array:
    """Packed counts (cops + ACTIVE_UNIT * actives) over citizen vision, centre included."""
    grid = ((kind == COP).astype(jnp.int32) + (kind == ACTIVE) * ACTIVE_UNIT).reshape(
        world.height, world.width
    )
    return window_sums(grid, world.citizen_widths()).reshape(-1)


def update(
    counts: Array, kind: Array, world: World, cells: Array, deltas: Array, chunk: int = CHUNK
) -> Array:
    """Counts after the packed changes `deltas` at `cells` (zeros change nothing).

    Small chunks suit sparse changes; where nearly every entry changes (the moves of cops) a
    larger `chunk` spreads the fixed cost of each loop turn over more cells.
    """
    n = cells.shape[0]
    if n == 0:
        return counts
    chunk = min(chunk, n)
    pad = -n % chunk
    cells = jnp.pad(cells, (0, pad)).reshape(-1, chunk)
    deltas = jnp.pad(deltas, (0, pad)).reshape(-1, chunk)
    pending = (deltas != 0).any(axis=1)
    dy, dx = world.vision_shape("citizen", centre=True)
    chunk_ids = jnp.arange(pending.shape[0], dtype=jnp.int32)

    def add_chunk(carry: tuple[Array, Array]) -> tuple[Array, Array]:
        pending, counts = carry
        i = jnp.min(jnp.where(pending, chunk_ids, pending.shape[0]))
        around = cells_around(cells[i], dy, dx, world)
        counts = counts.at[around].add(jnp.broadcast_to(deltas[i][:, None], around.shape))
        return pending.at[i].set(False), counts

    def incremental(counts: Array) -> Array:
        return jax.lax.while_loop(lambda c: c[0].any(), add_chunk, (pending, counts))[1]

    stencil_cost = pending.sum() * chunk * dy.shape[0] * SCATTER_COST
    full_cost = 2 * len(world.citizen_widths()) * world.cells
    return jax.lax.cond(stencil_cost > full_cost, lambda c: full(kind, world), incremental, counts)
