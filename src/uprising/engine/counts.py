"""Cops and actives within each cell's citizen vision, kept current through a step.

A full count costs a fixed amount per cell. Within a step only a few cells change, so after each
group acts, its changes are added back as stencils, one chunk of the change list at a time and
only for the chunks that hold a change: the cost follows the agents that changed, not the size of
the grid. When a group changes more cells than a full count would cost, the grid is simply
counted again.

The counts live on the grid with a margin of the vision radius on every side, so a stencil is its
centre plus fixed offsets and never wraps round the torus (several operations per cell). A
stencil that runs over an edge lands in the margin; the count of a cell near an edge is its own
entry plus those of its images in the margins (`at`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from uprising.engine.chunks import each_pending
from uprising.engine.neighbourhood import (
    ACTIVE_UNIT,
    flat_offsets,
    padded_index,
    radius,
    window_sums,
)
from uprising.engine.state import ACTIVE, COP
from uprising.engine.world import World

CHUNK = 16
SCATTER_COST = 4
"""A window cell added by scatter costs about as much as this many cells of a full count (CPU):
half the 8 measured for single-cell stencils, as the windows of a vision 7 diamond hold twice its
cells and cost about the same (not re-measured on its own; any value gives exact counts)."""


def _margin(world: World) -> tuple[int, int]:
    """(margin, padded width) of the counts' layout."""
    r = radius(world.citizen_vision)
    return r, world.width + 2 * r


def full(kind: Array, world: World) -> Array:
    """Packed counts (cops + ACTIVE_UNIT * actives) over citizen vision, centre included."""
    grid = ((kind == COP).astype(jnp.int32) + (kind == ACTIVE) * ACTIVE_UNIT).reshape(
        world.height, world.width
    )
    r, _ = _margin(world)
    return jnp.pad(window_sums(grid, world.citizen_widths()), r).reshape(-1)


def at(counts: Array, cells: Array, world: World) -> Array:
    """Packed counts at grid cells (not negative): each cell's entry plus its images' entries."""
    r, wp = _margin(world)
    h, w = world.height, world.width
    y, x = jax.lax.div(cells, w), jax.lax.rem(cells, w)
    entry = padded_index(cells, world, r)
    dy = jnp.where(y < r, h, jnp.where(y >= h - r, -h, 0)) * wp  # a cell has at most one image
    dx = jnp.where(x < r, w, jnp.where(x >= w - r, -w, 0))  # in each direction (2r < side)
    total = counts[entry]
    total += jnp.where(dy != 0, counts[entry + dy], 0)
    total += jnp.where(dx != 0, counts[entry + dx], 0)
    return total + jnp.where((dy != 0) & (dx != 0), counts[entry + dy + dx], 0)


def _row_windows(world: World) -> tuple[np.ndarray, np.ndarray]:
    """The citizen shape as one window per row: each window's start (relative to the centre's
    entry) and a 0/1 mask of the shape's cells in it, all windows as wide as the widest row."""
    r, _ = _margin(world)
    widths = np.asarray(world.citizen_widths())
    widest = int(widths.max())
    starts = flat_offsets(np.arange(-r, r + 1), np.asarray(-widest), world, r)
    columns = np.arange(2 * widest + 1) - widest
    return starts, (np.abs(columns)[None, :] <= widths[:, None]).astype(np.int32)


Change = tuple[Array, Array, int]
"""Cells, packed count changes there (zeros change nothing), and the chunk to add them in."""


def update(counts: Array, kind: Array, world: World, *changes: Change) -> Array:
    """Counts after the changes, which `kind` already shows.

    Give every change made since the counts were last current in one call: a call that counts
    the grid again sees all of them at once, so one added later as stencils would count twice.
    A stencil is added one row at a time, each row a contiguous window of the layout: a scatter
    of windows costs about half as much as one of single cells, though it adds the zeros at the
    ends of the shorter rows too. Small chunks suit sparse changes; where nearly every entry
    changes (the moves of cops) a larger chunk spreads the fixed cost of each loop turn over
    more cells.
    """
    r, wp = _margin(world)
    starts, mask = _row_windows(world)
    windows = jax.lax.ScatterDimensionNumbers(
        update_window_dims=(2,), inserted_window_dims=(), scatter_dims_to_operand_dims=(0,)
    )
    plans = []
    for cells, deltas, chunk in changes:
        n = cells.shape[0]
        if n == 0:
            continue
        chunk = min(chunk, n)
        pad = -n % chunk
        # Padding stands on cell 0 with no change, so that every window lies inside the layout.
        entries = jnp.pad(padded_index(cells, world, r), (0, pad), constant_values=r * wp + r)
        deltas = jnp.pad(deltas, (0, pad)).reshape(-1, chunk)
        plans.append((entries.reshape(-1, chunk), deltas, (deltas != 0).any(axis=1)))
    if not plans:
        return counts

    def add_chunks(counts: Array, entries: Array, deltas: Array, pending: Array) -> Array:
        def add_chunk(i: Array, live: Array, counts: Array) -> Array:
            change = jnp.where(live, deltas[i], 0)  # zeros in a world of a batch that is done
            at_rows = (entries[i][:, None] + jnp.asarray(starts)[None, :])[..., None]
            values = change[:, None, None] * jnp.asarray(mask)[None]
            return jax.lax.scatter_add(
                counts, at_rows, values, windows, mode=jax.lax.GatherScatterMode.PROMISE_IN_BOUNDS
            )

        return each_pending(world, pending, add_chunk, counts)

    def incremental(counts: Array) -> Array:
        for plan in plans:
            counts = add_chunks(counts, *plan)
        return counts

    # In floats: on the largest grids the cost of a dense change list overflows 32-bit integers.
    windows_added = sum(p[2].sum(dtype=jnp.float32) * p[1].shape[1] for p in plans)
    stencil_cost = windows_added * mask.size * SCATTER_COST
    full_cost = 2 * len(world.citizen_widths()) * world.cells
    recount = world.any_world(jnp.asarray(stencil_cost > full_cost))  # exact either way
    return jax.lax.cond(recount, lambda c: full(kind, world), incremental, counts)
