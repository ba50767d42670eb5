"""Jail terms: drawn at arrest, counted down, and life sentences when Jmax is infinite."""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array

from uprising.engine import random
from uprising.engine.rules import Rules
from uprising.engine.state import FOREVER


def draw_term(stream: Array, shape: tuple[int, ...], max_jail: Array, rules: Rules) -> Array:
    """Uniform integer term on 0..Jmax (or 0..Jmax-1), stored as steps left in jail.

    Under a countdown in the prisoner's own turn (Mesa) the stored value is term + 1: the turn
    that brings it to 0 is the one in which the citizen acts again.
    """
    finite = jnp.isfinite(max_jail)
    span = jnp.where(finite, max_jail, 0.0) + (1.0 if rules.jail_inclusive else 0.0)
    term = jnp.floor(random.uniform(stream, shape) * jnp.maximum(span, 1.0))
    term = term + (1.0 if rules.countdown_own_turn else 0.0)
    term = jnp.minimum(term, FOREVER - 1)
    return jnp.where(finite, term, FOREVER).astype(jnp.int16)


def count_down(jail: Array) -> Array:
    return jnp.where((jail > 0) & (jail < FOREVER), jail - 1, jail).astype(jnp.int16)
