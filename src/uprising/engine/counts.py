"""Cops and actives within each cell's citizen vision, kept current through a step.

A full count costs a fixed amount per cell. Within a step only a few cells change, so after each
group acts, its changes are added back as stencils, one chunk of the change list at a time and
only for the chunks that hold a change: the cost follows the agents that changed, not the size of
the grid. When a group changes more cells than a full count would cost, the grid is simply
counted again.

With `salient` (a 0/1 mask of cells: `World.salience`), only agents on salient cells are counted,
in the full count and in every change. Salience widens vision (its stencils grow with it) while
the counted agents stay as many as at the fitted scale, so then the changes that count are moved
to the front of their list before it is cut into chunks, and a full count starts from empty counts
and adds the stencils of the counted agents, whenever that is cheaper than summing every window:
the cost follows what is counted, not the width of vision.

The counts live on the grid with a margin of the vision radius on every side, so a stencil is its
centre plus fixed offsets and never wraps round the torus (several operations per cell). A
stencil that runs over an edge lands in the margin; the count of a cell near an edge is its own
entry plus those of its images in the margins (`at`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import Array

from uprising.engine.buffers import read
from uprising.engine.chunks import each_pending
from uprising.engine.neighbourhood import padded_index, radius, window_sums
from uprising.engine.state import ACTIVE, COP
from uprising.engine.world import World

CHUNK = 16
DENSE_CHUNK = 256
"""Changes per loop turn when nearly every entry changes (cops' moves, a full count)."""
SCATTER_COST = 3
"""A cell of a stencil added by scatter costs about as much as this many units of a full count
(a unit: one addition per cell of the grid; a full count takes 2 per row of the shape, 30 for
vision 7). Measured on a 2-core CPU: a full count 4.4 ns a cell at 100x100 and 3.5 at 400x400;
a stencil cell 0.73 ns in chunks of 50 and 0.34 in chunks of 256, 3 to 5 units. Any value gives
exact counts; it only decides when a recount is cheaper."""


def active_unit(world: World) -> int:
    """Cops and actives share one integer: cops below this unit, actives in multiples of it.

    A byte each in 16 bits when the citizen shape holds under 256 cells (vision 7 holds 113 as a
    diamond, 149 as a disk), so that neither count reaches the unit: counts read and written at
    random places then take half the memory (1.1x a step at 400x400 on a CPU). Otherwise 16
    bits each in 32. Sums wrap round in either width (the actives' byte may set the sign bit),
    which is harmless: each count is read back by its own mask (`split`).
    """
    cells = sum(2 * w + 1 for w in world.citizen_widths())
    return 1 << 8 if cells < 1 << 8 else 1 << 16


def _dtype(world: World) -> jnp.dtype:
    return jnp.dtype(jnp.int16 if active_unit(world) < 1 << 16 else jnp.int32)


def split(packed: Array, world: World) -> tuple[Array, Array]:
    """(cops, actives) of packed counts, as int32."""
    unit = active_unit(world)
    cops = (packed & (unit - 1)).astype(jnp.int32)
    return cops, ((packed >> (unit.bit_length() - 1)) & (unit - 1)).astype(jnp.int32)


def _margin(world: World) -> tuple[int, int]:
    """(margin, padded width) of the counts' layout."""
    r = radius(world.citizen_vision)
    return r, world.width + 2 * r


def seen(kind: Array, world: World, salient: Array | None = None) -> Array:
    """What each cell adds to the counts around it, packed (in int32, summed exactly: a sum of
    packed counts is the packed sum, whatever carries cross from cops into actives on the way)."""
    grid = (kind == COP).astype(jnp.int32) + (kind == ACTIVE) * active_unit(world)
    return grid if salient is None else grid * salient


def summed(kind: Array, world: World, salient: Array | None) -> Array:
    """Packed counts by summing the window around every cell: a fixed cost per cell."""
    grid = seen(kind, world, salient).reshape(world.height, world.width)
    r, _ = _margin(world)
    sums = window_sums(grid, world.citizen_widths()).astype(_dtype(world))
    return jnp.pad(sums, r).reshape(-1)


def full(kind: Array, world: World, salient: Array | None = None) -> Array:
    """Packed counts (`active_unit`) over citizen vision, centre included.

    With `salient`, the stencils of the counted agents added to empty counts where that is
    cheaper (`update` decides, and sums the windows otherwise): the same counts.
    """
    if salient is None:
        return summed(kind, world, salient)
    r, wp = _margin(world)
    empty = jnp.zeros((world.height + 2 * r) * wp, _dtype(world))
    cells = jnp.arange(world.cells, dtype=jnp.int32)
    # `update` keeps the salient cells' entries: the mask is applied there, once.
    everyone = (cells, seen(kind, world), DENSE_CHUNK)
    return update(empty, kind, world, everyone, salient=salient)


def at(counts: Array, cells: Array, world: World) -> Array:
    """Packed counts at grid cells (not negative): each cell's entry plus its images' entries."""
    r, wp = _margin(world)
    h, w = world.height, world.width
    y, x = jax.lax.div(cells, w), jax.lax.rem(cells, w)
    entry = padded_index(cells, world, r)
    dy = jnp.where(y < r, h, jnp.where(y >= h - r, -h, 0)) * wp  # a cell has at most one image
    dx = jnp.where(x < r, w, jnp.where(x >= w - r, -w, 0))  # in each direction (2r < side)
    total = read(counts, entry)
    total += jnp.where(dy != 0, read(counts, entry + dy), 0)
    total += jnp.where(dx != 0, read(counts, entry + dx), 0)
    return total + jnp.where((dy != 0) & (dx != 0), read(counts, entry + dy + dx), 0)


def _rows(world: World) -> list[tuple[int, int]]:
    """The citizen shape, one row at a time: where each row's span starts (relative to the
    centre's entry in the layout) and how many cells it holds."""
    r, wp = _margin(world)
    rows = zip(range(-r, r + 1), world.citizen_widths(), strict=True)
    return [(dy * wp - w, 2 * w + 1) for dy, w in rows]


Change = tuple[Array, Array, int]
"""Cells, packed count changes there (zeros change nothing), and the chunk to add them in."""


def update(
    counts: Array, kind: Array, world: World, *changes: Change, salient: Array | None = None
) -> Array:
    """Counts after the changes, which `kind` already shows.

    Give every change made since the counts were last current in one call: a call that counts
    the grid again sees all of them at once, so one added later as stencils would count twice.
    A stencil is added one row of the shape at a time, by one scatter per row that adds the same
    change to a contiguous span of the layout: measured on a CPU, 1.2x to 4x faster (chunks of 16
    to 256) than one scatter of equal windows masked to the shape, and faster than one of single
    cells. Small chunks suit sparse changes; where nearly every entry changes (the moves of cops)
    a larger chunk spreads the fixed cost of each loop turn over more cells.
    """
    r, wp = _margin(world)
    rows = _rows(world)
    span = jax.lax.ScatterDimensionNumbers(
        update_window_dims=(1,), inserted_window_dims=(), scatter_dims_to_operand_dims=(0,)
    )
    # Changes added in chunks of one size go in one list: one loop over their chunks.
    by_chunk: dict[int, list[tuple[Array, Array]]] = {}
    for cells, deltas, chunk in changes:
        if salient is not None:
            deltas = deltas * salient[cells]
        if cells.shape[0]:
            by_chunk.setdefault(chunk, []).append((cells, deltas))
    plans = []
    for chunk, lists in by_chunk.items():
        cells = jnp.concatenate([c for c, _ in lists])
        deltas = jnp.concatenate([d for _, d in lists])
        if salient is not None:
            cells, deltas = _to_front(cells, deltas)
        n = cells.shape[0]
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
            # Zeros in a world of a batch that is done. Within a chunk a count may pass below
            # zero (a cop's departure before an arrival) and borrow from the other: it ends exact.
            change = jnp.where(live, deltas[i], 0).astype(counts.dtype)
            for start, cells in rows:
                counts = jax.lax.scatter_add(
                    counts,
                    (entries[i] + start)[:, None],
                    jnp.broadcast_to(change[:, None], (change.shape[0], cells)),
                    span,
                    mode=jax.lax.GatherScatterMode.PROMISE_IN_BOUNDS,
                )
            return counts

        return each_pending(world, pending, add_chunk, counts)

    def incremental(counts: Array) -> Array:
        for plan in plans:
            counts = add_chunks(counts, *plan)
        return counts

    full_cost = 2 * len(world.citizen_widths()) * world.cells
    shape_cells = sum(cells for _, cells in rows)
    if sum(p[1].size for p in plans) * shape_cells * SCATTER_COST <= full_cost:
        return incremental(counts)  # cheaper than a recount even if every entry changed
    # In floats: on the largest grids the cost of a dense change list overflows 32-bit integers.
    stencils = sum(p[2].sum(dtype=jnp.float32) * p[1].shape[1] for p in plans)
    stencil_cost = stencils * shape_cells * SCATTER_COST
    recount = world.any_world(jnp.asarray(stencil_cost > full_cost))  # exact either way
    return jax.lax.cond(recount, lambda c: summed(kind, world, salient), incremental, counts)


def _to_front(cells: Array, deltas: Array) -> tuple[Array, Array]:
    """The changes that change something first, in order; then no change on cell 0.

    Under salience most changes are on cells nobody counts: gathered at the front, they fill
    the fewest chunks, and only those are added (the others hold no change).
    """
    live = deltas != 0
    at = jnp.where(live, jnp.cumsum(live, dtype=jnp.int32) - 1, cells.shape[0])
    front = lambda values: jnp.zeros_like(values).at[at].set(values, mode="drop")  # noqa: E731
    return front(cells), front(deltas)
