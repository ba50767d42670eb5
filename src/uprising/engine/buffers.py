"""Keeping the compiler from fusing a value into the code that reads it.

XLA fuses a cheap producer into each of its consumers and recomputes it per element read. That
is usually right, but not for a value read at random places: a padded copy of the grid read by
a gather redoes its padding for every read. A value made inside a conditional is computed into
a buffer of its own, once (`optimization_barrier` does not stop this fusion on the CPU).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import jax
from jax import Array

from uprising.engine.world import World

T = TypeVar("T")


def materialised(make: Callable[[], T], world: World, t: Array) -> T:
    """`make()`, computed once into its own buffer.

    The conditional's predicate is `t >= 0` for the step counter `t`: true, but not something
    the compiler can prove (it proves a loop counter >= 0 and drops the conditional), and taken
    for the whole batch (`World.any_world`), since under `vmap` a batched predicate turns the
    conditional into a select that is fused again.
    """
    return jax.lax.cond(world.any_world(t >= 0), make, make)


def read(values: Array, index: Array) -> Array:
    """`values[index]` for indices known to be in bounds and not negative: no per-element
    wrapping of negative indices or bounds check (a compare and a select each, on every read)."""
    return values.at[index].get(mode="promise_in_bounds", wrap_negative_indices=False)
