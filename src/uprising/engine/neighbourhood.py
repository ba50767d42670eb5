"""Vision shapes on the torus and the counts of cops and actives within them.

Counting is the hot loop of the model. A shape is stored as one horizontal span per row, so the
count around every cell at once is a row prefix sum plus one slice per row of the shape
(about 2r + 1 + distinct widths additions per cell, whatever the number of cells in the shape).
Between full counts, a handful of changed cells are added back as stencils, on a layout of the
grid with margins (`padded_index`) where the cells around an entry are fixed offsets from it.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

if TYPE_CHECKING:
    from uprising.engine.world import World


def radius(vision: float) -> int:
    return int(math.floor(vision + 1e-9))


@lru_cache(maxsize=64)
def half_widths(vision: float, shape: str) -> tuple[int, ...]:
    """Half-width of the shape's span in each row dy = -r..r (centre included)."""
    r = radius(vision)
    widths = []
    for dy in range(-r, r + 1):
        if shape == "disk":
            widths.append(int(math.floor(math.sqrt(max(vision * vision - dy * dy, 0.0)) + 1e-9)))
        elif shape == "diamond":
            widths.append(r - abs(dy))
        else:
            raise ValueError(f"unknown vision shape {shape!r}; allowed: 'disk', 'diamond'")
    return tuple(widths)


@lru_cache(maxsize=64)
def offsets(vision: float, shape: str, centre: bool) -> tuple[np.ndarray, np.ndarray]:
    """(dy, dx) of every cell in the shape, row by row; the centre only if asked."""
    r = radius(vision)
    dys, dxs = [], []
    for dy, w in zip(range(-r, r + 1), half_widths(vision, shape), strict=True):
        for dx in range(-w, w + 1):
            if centre or (dy, dx) != (0, 0):
                dys.append(dy)
                dxs.append(dx)
    return np.asarray(dys, np.int32), np.asarray(dxs, np.int32)


def padded_index(cells: Array, world: World, margin: int) -> Array:
    """Entry of grid cells in the grid laid out with `margin` extra cells on every side.

    On such a layout the cells around an entry are the entry plus fixed offsets (`flat_offsets`),
    with no wrapping round the torus, which costs several operations per cell.
    """
    y = jax.lax.div(cells, world.width)  # cells are not negative: plain division will do
    x = jax.lax.rem(cells, world.width)
    return (y + margin) * (world.width + 2 * margin) + x + margin


def grid_index(entries: Array, world: World, margin: int) -> Array:
    """The grid cell of entries of the padded layout (inverse of `padded_index`, on the torus)."""
    wp = world.width + 2 * margin
    return _on_torus(jax.lax.div(entries, wp) - margin, jax.lax.rem(entries, wp) - margin, world)


def _on_torus(y: Array, x: Array, world: World) -> Array:
    """Flat cell of row y and column x, each at most one side away from the grid."""
    h, w = world.height, world.width
    y = jnp.where(y < 0, y + h, jnp.where(y >= h, y - h, y))
    x = jnp.where(x < 0, x + w, jnp.where(x >= w, x - w, x))
    return y * w + x


def flat_offsets(dy: np.ndarray, dx: np.ndarray, world: World, margin: int) -> np.ndarray:
    """Offsets (dy, dx) as steps between entries of the padded layout."""
    return (dy * (world.width + 2 * margin) + dx).astype(np.int32)


def torus_padded(cells: Array, world: World, margin: int) -> Array:
    """A copy of a per-cell array in the padded layout, the margins filled from across the torus."""
    grid = cells.reshape(world.height, world.width)
    return jnp.pad(grid, margin, mode="wrap").reshape(-1)


def cells_around(pos: Array, dy: np.ndarray, dx: np.ndarray, world: World) -> Array:
    """Flat indices of the cells at the given offsets around each flat position: (n, len(dy))."""
    y = jax.lax.div(pos, world.width)[:, None] + jnp.asarray(dy)[None, :]
    x = jax.lax.rem(pos, world.width)[:, None] + jnp.asarray(dx)[None, :]
    return _on_torus(y, x, world)


def _wrap(a: Array, r: int, axis: int) -> Array:
    n = a.shape[axis]
    head = jnp.take(a, jnp.arange(n - r, n), axis=axis)
    tail = jnp.take(a, jnp.arange(0, r), axis=axis)
    return jnp.concatenate([head, a, tail], axis=axis)


def window_sums(grid: Array, widths: tuple[int, ...]) -> Array:
    """Sum of `grid` (H, W) over the shape centred on every cell, on the torus.

    Row spans of every half-width are built by widening the previous one by a cell on each side,
    then one span per row of the shape is added up: about 2r + (2r + 1) shifted additions per
    cell, which the compiler fuses, instead of a prefix sum (slow on CPUs).
    """
    h, w = grid.shape
    r = len(widths) // 2
    padded = _wrap(_wrap(grid, r, axis=0), r, axis=1)  # (h + 2r, w + 2r)
    # Materialise the padded grid: fused into each of the ~30 slices below, the work that made
    # `grid` would be redone for every one of them. Here the barriers hold (unlike before a
    # gather, `buffers.materialised`): without them a full count is 3.5x slower on a CPU.
    padded = jax.lax.optimization_barrier(padded)
    span = padded[:, r : r + w]
    spans = {}
    for half in range(max(widths) + 1):
        if half:
            span = span + padded[:, r - half : r - half + w] + padded[:, r + half : r + half + w]
        if half in widths:
            spans[half] = span
    halves = sorted(spans)  # materialised too, or each row would rebuild its span
    spans = dict(zip(halves, jax.lax.optimization_barrier([spans[h] for h in halves]), strict=True))
    total = jnp.zeros_like(grid)
    for i, half in enumerate(widths):  # row dy = i - r
        total = total + spans[half][i : i + h]
    return total
