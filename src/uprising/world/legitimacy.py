"""Endogenous legitimacy: eroded by the repression people see, moved by concessions.

The seed: "Few people trust or support the government"; "Eventually, they lowered the price,
but this didn't stop the protests"; the government resigned. Each hour a city's legitimacy L
falls by `per_arrest` for every arrest and `per_death` for every killing per 10,000 residents,
and rises by the boosts of concessions and resignations that begin that hour; L stays in [0, 1].
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array


def update(
    legitimacy: Array,
    arrests_per_10k: Array,
    deaths_per_10k: Array,
    boost: Array,
    per_arrest: Array,
    per_death: Array,
) -> Array:
    eroded = legitimacy - per_arrest * arrests_per_10k - per_death * deaths_per_10k
    return jnp.clip(eroded + boost, 0.0, 1.0)
