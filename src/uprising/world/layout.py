"""Many cities in one compiled step: each city a bounded rectangle, all packed into one grid.

A city of n agents at citizen density d gets a rectangle of about n / d cells, as square as
possible. The rectangles are packed in rows (tallest first) into one grid, each followed by walls
at least one vision wide to its right and below it, so no one sees or moves from one city into
another, nor round the torus (a city is not a torus). The engine then steps the whole country as
one world: every agent slot knows its city (`State.region`), reads its city's parameters, and the
counts of what happened are kept per city. Nothing is padded to the largest city: the grid holds
the cities and their walls, and the slots hold the citizens and each city's police capacity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from uprising.engine.state import COP, EMPTY, QUIET, WALL, State

Box = tuple[int, int, int, int]
"""A city's rectangle in the grid: first row, first column, height, width."""


@dataclass(frozen=True)
class Layout:
    boxes: tuple[Box, ...]
    height: int
    width: int
    citizens: tuple[int, ...]
    cop_slots: tuple[int, ...]
    """Most police and troop agents each city can hold (its police and every possible inflow)."""

    @property
    def cells(self) -> int:
        return self.height * self.width

    @property
    def heights(self) -> tuple[int, ...]:
        return tuple(b[2] for b in self.boxes)

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(b[3] for b in self.boxes)

    @staticmethod
    def plan(citizens: list[int], density: float, margin: int, cop_slots: list[int]) -> Layout:
        sizes = []
        for n in citizens:
            area = max(1, math.ceil(n / density))
            h = max(1, math.isqrt(area))
            sizes.append((h, math.ceil(area / h)))
        # Rows about as wide as the packed grid is tall; no row narrower than the widest city.
        room = sum((h + margin) * (w + margin) for h, w in sizes)
        row_width = max(max(w for _, w in sizes) + margin, math.isqrt(room) + 1)
        boxes: list[Box] = [(0, 0, 0, 0)] * len(sizes)
        y = x = row_height = 0
        for c in sorted(range(len(sizes)), key=lambda c: (-sizes[c][0], c)):
            h, w = sizes[c]
            if x + w + margin > row_width:
                y, x, row_height = y + row_height + margin, 0, 0
            boxes[c] = (y, x, h, w)
            x += w + margin
            row_height = max(row_height, h)
        return Layout(
            boxes=tuple(boxes),
            height=y + row_height + margin,
            width=row_width,
            citizens=tuple(citizens),
            cop_slots=tuple(max(int(s), 0) for s in cop_slots),
        )

    def cells_of(self, c: int) -> np.ndarray:
        """The flat cells of city `c`'s rectangle."""
        y0, x0, h, w = self.boxes[c]
        return ((y0 + np.arange(h))[:, None] * self.width + (x0 + np.arange(w))[None, :]).ravel()


def init(layout: Layout, cops: list[int], key: Array) -> State:
    """All cities at hour 0 in one grid: citizens quiet and free, `cops[c]` police on city c.

    Slots: every city's citizens in city order, then every city's cop slots in city order, the
    first `cops[c]` of a city's on its grid.
    """
    k_place, k_h, k_r = jax.random.split(key, 3)
    rng = np.random.default_rng(np.asarray(jax.random.key_data(k_place)).ravel().tolist())
    n_cit = sum(layout.citizens)
    cop_start = n_cit + np.concatenate([[0], np.cumsum(layout.cop_slots)[:-1]]).astype(int)
    kind = np.full(layout.cells, WALL, np.uint8)
    occupant = np.full(layout.cells, -1, np.int32)
    pos = np.full(n_cit + sum(layout.cop_slots), -1, np.int32)
    cities = np.arange(len(layout.citizens))
    region = np.concatenate(
        [np.repeat(cities, layout.citizens), np.repeat(cities, layout.cop_slots)]
    ).astype(np.int32)
    first_citizen = 0
    for c, n in enumerate(layout.citizens):
        inside = layout.cells_of(c)
        if n + cops[c] > inside.size:
            raise ValueError(f"{n} citizens and {cops[c]} police do not fit {inside.size} cells")
        if cops[c] > layout.cop_slots[c]:
            raise ValueError(f"{cops[c]} police exceed the {layout.cop_slots[c]} slots of city {c}")
        kind[inside] = EMPTY
        cells = rng.permutation(inside)
        cit_slots = first_citizen + np.arange(n)
        cop_slots = cop_start[c] + np.arange(cops[c])
        pos[cit_slots], pos[cop_slots] = cells[:n], cells[n : n + cops[c]]
        kind[cells[:n]], kind[cells[n : n + cops[c]]] = QUIET, COP
        occupant[cells[:n]], occupant[cells[n : n + cops[c]]] = cit_slots, cop_slots
        first_citizen += n
    zeros = jnp.zeros(len(layout.citizens), jnp.int32)
    return State(
        kind=jnp.asarray(kind),
        occupant=jnp.asarray(occupant),
        pos=jnp.asarray(pos),
        hardship=jax.random.uniform(k_h, (n_cit,), jnp.float32),
        risk_aversion=jax.random.uniform(k_r, (n_cit,), jnp.float32),
        jail=jnp.zeros(n_cit, jnp.int16),
        cops0=jnp.asarray(cops, jnp.int32),
        t=jnp.int32(0),
        arrests=zeros,
        dispersed=zeros,
        deaths=zeros,
        region=jnp.asarray(region),
        boxes=jnp.asarray(layout.boxes, jnp.int32).reshape(-1, 4),
    )
