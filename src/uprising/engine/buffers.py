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

T = TypeVar("T")


def materialised(make: Callable[[], T], always: Array) -> T:
    """`make()`, computed once into its own buffer.

    `always` is a true predicate the compiler cannot see through: `state.t >= 0` will do, but
    not a loop counter (the compiler proves it and drops the conditional), and neither will
    branches that merely pass a value made outside. Under `vmap` the predicate must not be
    batched (`World.any_world`), or the conditional turns into a select and is fused again.
    """
    return jax.lax.cond(always, make, make)
