"""Seizure of government buildings: protesters hold a city's centre.

The seed: "the protesters got the upper hand ... managed to storm the city hall, setting the
building on fire. Government security officers fled Almaty, leaving the city under the control
of the protesters." The centre is a disc of `radius` cells around the middle of the city's grid
(the square before the akimat). Protesters hold it in an hour when the actives there outnumber
the cops there `ratio` to 1 and fill at least `min_share` of its cells.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from uprising.engine.state import ACTIVE, COP


def centre_cells(box: tuple[int, int, int, int], width: int, radius: float) -> np.ndarray:
    """The flat cells of a city's centre: the disc of `radius` round the middle of its box."""
    y0, x0, h, w = box
    y, x = np.mgrid[:h, :w]
    inside = (y - h // 2) ** 2 + (x - w // 2) ** 2 <= np.float32(radius) ** 2
    return ((y0 + y[inside]) * width + x0 + x[inside]).astype(np.int32)


def centre_counts(
    kind: Array, cells: Array, city: Array, cities: int
) -> tuple[Array, Array, Array]:
    """Actives, cops and cells in the centre of every city (`cells` of all centres, `city` of
    each)."""
    here = kind[cells]

    def count(happened: Array) -> Array:
        return jax.ops.segment_sum(happened.astype(jnp.int32), city, num_segments=cities)

    return count(here == ACTIVE), count(here == COP), count(jnp.ones_like(city))


def held(actives: Array, cops: Array, cells: Array, ratio: Array, min_share: Array) -> Array:
    return (actives >= ratio * cops) & (actives >= jnp.maximum(min_share * cells, 1.0))
