"""News of protest between cities, and the internet blackouts that cut part of it.

The seed: "By the next morning, other cities and villages in western Kazakhstan had begun
protesting in solidarity"; "internet blackouts made it impossible to complete an interview";
movements are resilient when they "develop collective power on a horizontal, decentralized
basis". Three channels carry the share of actives of every city to every other, each with its
own delay (hours):

- online: weighted by the source's population and the ties between the two cities; cut by a
  blackout at either end (level 0..1);
- offline word of mouth: weighted by exp(-distance / reach); blackouts do not touch it;
- horizontal networks: a share of citizens tied to others across cities along the ties;
  blackouts do not touch it either.

News lowers the perceived risk of acting: k is multiplied by exp(-effect * news).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import Array

EARTH_RADIUS_KM = 6371.0


def distances_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle distances between all pairs of cities."""
    la, lo = np.radians(lat), np.radians(lon)
    dlat = la[:, None] - la[None, :]
    dlon = lo[:, None] - lo[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(la[:, None]) * np.cos(la[None, :]) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def ties(regions: list[str], between: float) -> np.ndarray:
    """1 between cities of one region, `between` across regions."""
    same = np.equal.outer(np.asarray(regions), np.asarray(regions))
    return np.where(same, 1.0, between)


def _rows(w: np.ndarray) -> np.ndarray:
    return w / w.sum(axis=1, keepdims=True)


def weights(
    population: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    regions: list[str],
    between: float,
    reach_km: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-normalised weights (to, from) of the online, offline and network channels."""
    tie = ties(regions, between)
    online = _rows(population[None, :] * tie)
    offline = _rows(np.exp(-distances_km(lat, lon) / reach_km))
    return online, offline, _rows(tie)


def received(
    history: Array,
    hour: Array,
    blackout: Array,
    online: Array,
    offline: Array,
    network: Array,
    delays: Array,
    channel_weights: Array,
) -> Array:
    """News reaching each city: the channels' weighted shares of actives, each as of its delay.

    `history` is a ring of the past shares of actives (slots, cities) indexed by hour mod slots;
    `delays` and `channel_weights` hold (online, offline, network).
    """
    slots = history.shape[0]
    past = history[(hour - delays) % slots]  # (3, cities)
    open_ = 1.0 - blackout
    on = open_ * (online @ (open_ * past[0]))
    return (
        channel_weights[0] * on
        + channel_weights[1] * (offline @ past[1])
        + channel_weights[2] * (network @ past[2])
    )


def risk_factor(news: Array, effect: Array) -> Array:
    return jnp.exp(-effect * news)
