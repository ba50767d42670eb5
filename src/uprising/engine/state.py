"""The state of one world: a grid of cells and the agents on it, all as arrays.

Agents are slots: citizens first, then cops. A slot whose position is -1 is absent (padding in a
batch of worlds with per-cell placement, or a cop withdrawn by the police schedule). Whether a
citizen is active is a property of its cell, so the grid alone answers every neighbourhood
question; jailed citizens off the grid keep the cell where they were arrested in `pos`.
About 15 bytes per cell at the paper's densities.

A country's cities share one grid (`world/layout.py`): then every slot has a `region` (its city),
each city a box of the grid, parameters may differ by city (`local`) and the counts of arrests,
dispersals and deaths are kept per city (`tally`). A single world has no regions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from uprising.engine.world import World

EMPTY, QUIET, ACTIVE, COP, JAILED, WALL = (np.uint8(i) for i in range(6))
"""Cell kinds. JAILED appears only under rules that keep prisoners on the grid (Mesa); WALL
only around the cities of a country, which are bounded rectangles packed into one grid."""

FOREVER = np.int16(32766)
"""Jail term of a life sentence (Jmax = infinity): never counted down."""

DEAD = np.int16(32767)
"""The "jail term" of a citizen killed by lethal force: off the grid for good."""


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class State:
    kind: Array  # (cells,) uint8
    occupant: Array  # (cells,) int32 slot or -1
    pos: Array  # (slots,) int32 cell, or -1 when absent
    hardship: Array  # (citizens,) float32
    risk_aversion: Array  # (citizens,) float32
    jail: Array  # (citizens,) int16 steps left; 0 = free
    # The counts below are () in a single world, (regions,) in a country.
    cops0: Array  # int32 cops at the start, the base of the police schedule
    t: Array  # () int32 steps taken
    arrests: Array  # int32 arrests so far (killings and dispersals included)
    dispersed: Array  # int32 of those arrests, the ones dispersed rather than detained
    deaths: Array  # int32 citizens killed so far
    region: Array | None = None  # (slots,) int32 city of each slot, in a country
    boxes: Array | None = None  # (regions, 4) int32 each city's first row, column, height, width

    @property
    def n_citizens(self) -> int:
        return self.hardship.shape[-1]

    def region_of(self, slots: Array) -> Array | None:
        """The city of each of `slots`; None in a single world."""
        return None if self.region is None else self.region[slots]

    def local(self, value: Array, slots: Array) -> Array:
        """`value` as the agents in `slots` see it: their city's entry in a country."""
        return value if self.region is None else value[self.region[slots]]

    def tally(self, counter: Array, slots: Array, happened: Array) -> Array:
        """`counter` plus the events that `happened` to the agents in `slots`, per city."""
        if self.region is None:
            return counter + happened.sum(dtype=jnp.int32)
        return counter.at[self.region[slots]].add(happened.astype(jnp.int32))

    def with_(self, **changes: Array) -> State:
        return replace(self, **changes)


def _placement_counts(world: World, key: Array) -> tuple[int, int, Array]:
    """How many citizens and cops, and which cell each kind goes to (-1 none, 0 citizen, 1 cop)."""
    k_perm, k_cell = jax.random.split(key)
    if world.ruleset.per_cell_placement:
        u = jax.random.uniform(k_cell, (world.cells,))
        who = jnp.where(
            u < world.citizen_density,
            0,
            jnp.where(u < world.citizen_density + world.cop_density, 1, -1),
        )
        return int((who == 0).sum()), int((who == 1).sum()), who
    citizens, cops = world.exact_counts()
    order = jax.random.permutation(k_perm, world.cells)
    who = (
        jnp.full(world.cells, -1)
        .at[order[:citizens]]
        .set(0)
        .at[order[citizens : citizens + cops]]
        .set(1)
    )
    return citizens, cops, who


def init(
    world: World, key: Array, citizens_cap: int | None = None, cops_cap: int | None = None
) -> State:
    """A world at t = 0: everyone quiet and free, hardship and risk aversion U(0, 1).

    Slots are padded to the given capacities (absent agents) so that worlds with per-cell
    placement can be stacked into one batch.
    """
    k_place, k_slots, k_h, k_r = jax.random.split(key, 4)
    n_cit, n_cop, who = _placement_counts(world, k_place)
    citizens_cap = n_cit if citizens_cap is None else citizens_cap
    cops_cap = n_cop if cops_cap is None else cops_cap
    cells = jnp.arange(world.cells, dtype=jnp.int32)
    # Slots in random order of cells, so that a slot number says nothing about where it stands.
    shuffled = jax.random.permutation(k_slots, cells)
    cit_cells = shuffled[jnp.argsort(who[shuffled] != 0, stable=True)][:n_cit]
    cop_cells = shuffled[jnp.argsort(who[shuffled] != 1, stable=True)][:n_cop]
    pos = jnp.concatenate(
        [
            jnp.pad(cit_cells, (0, citizens_cap - n_cit), constant_values=-1),
            jnp.pad(cop_cells, (0, cops_cap - n_cop), constant_values=-1),
        ]
    ).astype(jnp.int32)
    slots = jnp.arange(citizens_cap + cops_cap, dtype=jnp.int32)
    placed = pos >= 0
    target = jnp.where(placed, pos, world.cells)
    kind_of_slot = jnp.where(slots < citizens_cap, QUIET, COP).astype(jnp.uint8)
    kind = jnp.zeros(world.cells, jnp.uint8).at[target].set(kind_of_slot, mode="drop")
    occupant = jnp.full(world.cells, -1, jnp.int32).at[target].set(slots, mode="drop")
    return State(
        kind=kind,
        occupant=occupant,
        pos=pos,
        hardship=jax.random.uniform(k_h, (citizens_cap,), jnp.float32),
        risk_aversion=jax.random.uniform(k_r, (citizens_cap,), jnp.float32),
        jail=jnp.zeros(citizens_cap, jnp.int16),
        cops0=jnp.int32(n_cop),
        t=jnp.int32(0),
        arrests=jnp.int32(0),
        dispersed=jnp.int32(0),
        deaths=jnp.int32(0),
    )


def init_batch(world: World, keys: Array) -> State:
    """One world per key, padded to common capacities and stacked on a leading axis."""
    counts = [_placement_counts(world, jax.random.split(k, 4)[0])[:2] for k in keys]
    cit_cap = max(c for c, _ in counts)
    cop_cap = max(p for _, p in counts)
    states = [init(world, k, cit_cap, cop_cap) for k in keys]
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *states)
