"""Work in chunks, only the chunks that hold some: count updates and arrests.

A loop takes the pending chunks one at a time, in order. In a batch of worlds (`vmap`) it runs
until every world is done: its predicate is decided for the whole batch (`World.any_world`), so
no world's carried arrays are selected at every turn, and a world that is done takes turns that
are not `live` (on its last chunk), in which it must change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from uprising.engine.world import World

T = TypeVar("T")


def each_pending(world: World, pending: Array, body: Callable[[Array, Array, T], T], carry: T) -> T:
    """`carry = body(i, live, carry)` for each chunk i flagged in `pending`, in order."""
    ids = np.arange(pending.shape[0], dtype=np.int32)  # a constant: an iota would be a kernel

    def turn(state: tuple[Array, T]) -> tuple[Array, T]:
        pending, carry = state
        i = jnp.min(jnp.where(pending, ids, pending.shape[0] - 1))
        return pending.at[i].set(False), body(i, pending[i], carry)

    more = lambda state: world.any_world(state[0].any())  # noqa: E731
    return jax.lax.while_loop(more, turn, (pending, carry))[1]
