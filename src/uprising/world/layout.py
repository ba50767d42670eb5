"""Many cities in one compiled step: each city a bounded grid, all padded to one shape.

A city of n agents at citizen density d gets a rectangle of about n / d cells, as square as
possible, in the top-left corner of a common grid; the cells around it are walls, at least one
vision wide, so no one sees or moves from one edge of a city to the other (a city is not a
torus). The cities are then one batch for the engine (vmap): one call steps them all. The cost
is the padding: every city costs as much as the largest (measured in docs/performance.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from uprising.engine.state import COP, EMPTY, QUIET, WALL, State


@dataclass(frozen=True)
class Layout:
    heights: tuple[int, ...]
    widths: tuple[int, ...]
    height: int
    width: int
    citizens: tuple[int, ...]
    citizen_slots: int
    cop_slots: int

    @property
    def cells(self) -> int:
        return self.height * self.width

    @staticmethod
    def plan(citizens: list[int], density: float, margin: int, cop_slots: int) -> Layout:
        heights, widths = [], []
        for n in citizens:
            area = max(1, math.ceil(n / density))
            h = max(1, math.isqrt(area))
            heights.append(h)
            widths.append(math.ceil(area / h))
        return Layout(
            heights=tuple(heights),
            widths=tuple(widths),
            height=max(heights) + margin,
            width=max(widths) + margin,
            citizens=tuple(citizens),
            citizen_slots=max(citizens),
            cop_slots=max(cop_slots, 1),
        )


def init(layout: Layout, cops: list[int], key: Array) -> State:
    """All cities at hour 0, stacked: citizens quiet and free, `cops[c]` police on the grid."""
    k_place, k_h, k_r = jax.random.split(key, 3)
    rng = np.random.default_rng(np.asarray(jax.random.key_data(k_place)).ravel().tolist())
    n_cities = len(layout.citizens)
    cit_cap, cop_cap = layout.citizen_slots, layout.cop_slots
    kind = np.full((n_cities, layout.cells), WALL, np.uint8)
    occupant = np.full((n_cities, layout.cells), -1, np.int32)
    pos = np.full((n_cities, cit_cap + cop_cap), -1, np.int32)
    for c, (h, w, n) in enumerate(zip(layout.heights, layout.widths, layout.citizens, strict=True)):
        inside = (np.arange(h)[:, None] * layout.width + np.arange(w)[None, :]).ravel()
        if n + cops[c] > inside.size:
            raise ValueError(f"{n} citizens and {cops[c]} police do not fit {h}x{w} cells")
        kind[c, inside] = EMPTY
        cells = rng.permutation(inside)
        cit, cop = cells[:n], cells[n : n + cops[c]]
        pos[c, :n], pos[c, cit_cap : cit_cap + cops[c]] = cit, cop
        kind[c, cit], kind[c, cop] = QUIET, COP
        occupant[c, cit] = np.arange(n)
        occupant[c, cop] = cit_cap + np.arange(cops[c])
    zeros = jnp.zeros(n_cities, jnp.int32)
    return State(
        kind=jnp.asarray(kind),
        occupant=jnp.asarray(occupant),
        pos=jnp.asarray(pos),
        hardship=jax.random.uniform(k_h, (n_cities, cit_cap), jnp.float32),
        risk_aversion=jax.random.uniform(k_r, (n_cities, cit_cap), jnp.float32),
        jail=jnp.zeros((n_cities, cit_cap), jnp.int16),
        cops0=jnp.asarray(cops, jnp.int32),
        t=zeros,
        arrests=zeros,
        dispersed=zeros,
        deaths=zeros,
    )
