"""Cops and actives within each cell's citizen vision, kept current through a step.

A full count costs a fixed amount per cell. Within a step only a few cells change, so after each
group acts its changes are added as stencils, in chunks, for as many chunks as there are changes:
the cost follows the agents that changed, not the size of the grid. When a group changes more
cells than a full count would cost, the grid is simply counted again.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import Array

from uprising.engine.neighbourhood import ACTIVE_UNIT, cells_around, window_sums
from uprising.engine.state import ACTIVE, COP
from uprising.engine.world import World

CHUNK = 16


def full(kind: Array, world: World) -> Array:
    """Packed counts (cops + ACTIVE_UNIT * actives) over citizen vision, centre included."""
    grid = ((kind == COP).astype(jnp.int32) + (kind == ACTIVE) * ACTIVE_UNIT).reshape(
        world.height, world.width
    )
    return window_sums(grid, world.citizen_widths()).reshape(-1)


def update(counts: Array, kind: Array, world: World, cells: Array, deltas: Array) -> Array:
    """Counts after the packed changes `deltas` at `cells` (zeros are ignored)."""
    changed = deltas != 0
    n = changed.sum()
    dy, dx = world.vision_shape("citizen", centre=True)
    full_cost = 2 * len(world.citizen_widths()) * world.cells
    stencil_cost = dy.shape[0] * n

    def incremental(counts: Array) -> Array:
        (idx,) = jnp.nonzero(changed, size=cells.shape[0], fill_value=cells.shape[0])
        pad = (-cells.shape[0]) % CHUNK + CHUNK
        at = jnp.pad(cells, (0, pad))[idx]
        by = jnp.pad(deltas, (0, pad))[idx]
        at, by = jnp.pad(at, (0, pad)), jnp.pad(by, (0, pad))

        def chunk(i_counts: tuple[Array, Array]) -> tuple[Array, Array]:
            i, c = i_counts
            a = jax.lax.dynamic_slice(at, (i * CHUNK,), (CHUNK,))
            b = jax.lax.dynamic_slice(by, (i * CHUNK,), (CHUNK,))
            around = cells_around(a, dy, dx, world)
            return i + 1, c.at[around].add(jnp.broadcast_to(b[:, None], around.shape))

        return jax.lax.while_loop(lambda ic: ic[0] * CHUNK < n, chunk, (jnp.int32(0), counts))[1]

    return jax.lax.cond(stencil_cost > full_cost, lambda c: full(kind, world), incremental, counts)
