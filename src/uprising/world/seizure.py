"""Seizure of government buildings: protesters hold a city's centre.

The seed: "the protesters got the upper hand ... managed to storm the city hall, setting the
building on fire. Government security officers fled Almaty, leaving the city under the control
of the protesters." The centre is a disc of `radius` cells around the middle of the city's grid
(the square before the akimat). Protesters hold it in an hour when the actives there outnumber
the cops there `ratio` to 1 and fill at least `min_share` of its cells.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array

from uprising.engine.state import ACTIVE, COP


def centre_counts(
    kind: Array, width: int, centre_y: Array, centre_x: Array, radius: Array
) -> tuple[Array, Array, Array]:
    """Actives, cops and cells in the centre of one city (kind: its flat grid)."""
    cell = jnp.arange(kind.shape[0], dtype=jnp.int32)
    y, x = cell // width, cell % width
    inside = (y - centre_y) ** 2 + (x - centre_x) ** 2 <= radius**2
    return (
        (inside & (kind == ACTIVE)).sum(),
        (inside & (kind == COP)).sum(),
        inside.sum(),
    )


def held(actives: Array, cops: Array, cells: Array, ratio: Array, min_share: Array) -> Array:
    return (actives >= ratio * cops) & (actives >= jnp.maximum(min_share * cells, 1.0))
