"""Random groups for the partial-update scheme.

Each step, the slots 0..n-1 are put in a fresh pseudo-random order j -> (a j + b) mod n, with a
a random prime below 128 that does not divide n and b uniform, and cut into `groups` blocks that
act one after another; every agent acts exactly once per step. Slots are assigned to cells at
random when a world is built, so an order of slots is an order in space that changes every step.
Computing a block costs only its own size, which keeps a sub-step proportional to the agents
acting in it.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array

from uprising.engine import random

_PRIMES = (
    3,
    5,
    7,
    11,
    13,
    17,
    19,
    23,
    29,
    31,
    37,
    41,
    43,
    47,
    53,
    59,
    61,
    67,
    71,
    73,
    79,
    83,
    89,
    97,
    101,
    103,
    107,
    109,
    113,
    127,
)


def block_size(n: int, groups: int) -> int:
    return -(-n // groups)


def draw_order(stream: Array, n: int) -> tuple[Array, Array]:
    """(a, b) of this step's order of n slots."""
    primes = [p for p in _PRIMES if n % p] or [1]
    pick = random.below(stream, (2,), jnp.asarray([len(primes), max(n, 1)]))
    a = jnp.asarray(primes, jnp.uint32)[pick[0]]
    return a, pick[1].astype(jnp.uint32)


def block(order: tuple[Array, Array], n: int, groups: int, g: Array) -> tuple[Array, Array]:
    """Slots of block g (padded to the largest block) and which of them are real.

    Block g holds positions floor(g n / groups) up to floor((g + 1) n / groups): blocks differ in
    size by at most one, so with fewer agents than groups the agents are spread over the whole
    step instead of all acting in its first groups.
    """
    a, b = order
    g = g.astype(jnp.uint32)
    start = (g * n) // groups
    stop = ((g + 1) * n) // groups
    j = start + jnp.arange(block_size(n, groups), dtype=jnp.uint32)
    valid = j < stop
    slot = ((a * j) % max(n, 1) + b) % max(n, 1)
    return slot.astype(jnp.int32), valid
