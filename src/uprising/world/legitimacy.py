"""Endogenous legitimacy: eroded by the repression people see, moved by concessions.

The seed: "Few people trust or support the government"; "Eventually, they lowered the price,
but this didn't stop the protests"; the government resigned. Each hour a city's legitimacy L
falls by `per_arrest` for every detention, `per_dispersal` for every dispersal and `per_death`
for every killing per 10,000 residents, and rises by the boosts of concessions and resignations
that begin that hour; L stays in [0, 1]. Detentions and dispersals weigh apart because a
dispersed citizen comes back and may be taken again: whether each time erodes as much as a
detention is a question for calibration (docs/calibration.md).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jax import Array


class Seen(NamedTuple):
    """Per city: detentions, dispersals and killings (or the erosion of one of each)."""

    detained: Array
    dispersed: Array
    killed: Array


def update(legitimacy: Array, per_10k: Seen, boost: Array, erosion: Seen) -> Array:
    """L after an hour in which `per_10k` happened (per 10,000 residents)."""
    eroded = legitimacy
    for weight, count in zip(erosion, per_10k, strict=True):  # one at a time, in this order
        eroded = eroded - weight * count
    return jnp.clip(eroded + boost, 0.0, 1.0)
