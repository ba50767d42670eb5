"""Retaking a lost city: the state sends its own forces where protesters hold the centre.

The seed: "Government security officers fled Almaty, leaving the city under the control of the
protesters. Since then, President Tokayev sent some troops there again in an attempt to take
control via a 'terrorist cleaning' operation." A lever by rule, not by date: from the first hour
a city's centre is held while a state of emergency is in force there, after a delay, the city
gets `forces` agents (national guard, army) beside its police for as long as the emergency lasts
there. They are the regime's own units: like foreign troops, they neither flee nor defect.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array

from uprising.world.events import NEVER


def lost(lost_at: Array, held: Array, emergency: Array, hour: Array) -> Array:
    """The hour each city's centre was first held under an emergency (NEVER until then)."""
    first = held & (emergency > 0) & (lost_at >= NEVER)
    return jnp.where(first, hour.astype(jnp.float32), lost_at)


def sent(lost_at: Array, hour: Array, emergency: Array, forces: Array, delay: Array) -> Array:
    """Agents sent to each city that are there this hour."""
    arrived = hour.astype(jnp.float32) >= lost_at + delay
    return jnp.where(arrived & (emergency > 0), forces, 0.0)
