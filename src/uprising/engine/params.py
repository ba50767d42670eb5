"""Parameters that can change between runs of one compiled world, and so can be vmapped."""

from __future__ import annotations

from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Schedule:
    """A value over time: linear between (time, value) points, constant outside them.

    A sudden change is two points one step apart (run 4: L = 0.9 up to t = 76, 0.7 from 77).
    Values of shape (points, regions) are one schedule per region (the cities of a country).
    """

    times: Array
    values: Array

    def __call__(self, t: Array) -> Array:
        if self.values.ndim == 2:
            return jax.vmap(lambda v: jnp.interp(t, self.times, v), in_axes=1)(self.values)
        return jnp.interp(t, self.times, self.values)

    @staticmethod
    def constant(value: float) -> Schedule:
        return Schedule.points([(0.0, value)])

    @staticmethod
    def points(points: list[tuple[float, float]] | list[list[float]]) -> Schedule:
        arr = np.asarray(points, dtype=np.float32).reshape(-1, 2)
        if arr.shape[0] == 0:
            raise ValueError("a schedule needs at least one (time, value) point")
        if np.any(np.diff(arr[:, 0]) < 0):
            raise ValueError(f"schedule times must not decrease, got {arr[:, 0].tolist()}")
        return Schedule(jnp.asarray(arr[:, 0]), jnp.asarray(arr[:, 1]))


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Params:
    legitimacy: Schedule
    police: Schedule
    """Police density over time, at most the world's initial cop density (police withdraw)."""
    k: Array
    threshold: Array
    max_jail: Array
    """Jmax as a float; infinity means life sentences."""
    hardship_shift: Array
    """Added to every citizen's hardship: a price shock, local memory, anger at killings."""
    lethality: Array
    """Share of arrests that kill (lethal force); 0 in Epstein's model."""
    arrest_rate: Array
    """Chance that a cop with an active in view arrests in its turn; 1 in Epstein's model."""
    detain_share: Array
    """Share of arrests that detain; the others disperse (`dispersal`). 1 in Epstein's model."""
    dispersal_hours: Array
    """Longest time a dispersed citizen stays off the street (a term drawn as jail terms are)."""
    severity: Array
    """How grave the penalty is against a jail term: it multiplies the net risk, N = R P severity
    (deterrence by killings). 1 in Epstein's model."""

    def at(self, region: Array | None) -> Params:
        """The parameters as agents of `region` see them (per-city values in a country)."""
        if region is None:
            return self
        return replace(self, **{name: getattr(self, name)[region] for name in PER_REGION})

    @staticmethod
    def make(
        legitimacy: float | Schedule = 0.82,
        police: float | Schedule = 0.04,
        k: float = 2.3,
        threshold: float = 0.1,
        max_jail: float = 30.0,
        hardship_shift: float = 0.0,
        lethality: float = 0.0,
        arrest_rate: float = 1.0,
        detain_share: float = 1.0,
        dispersal_hours: float = 0.0,
        severity: float = 1.0,
    ) -> Params:
        as_schedule = lambda v: v if isinstance(v, Schedule) else Schedule.constant(v)  # noqa: E731
        return Params(
            legitimacy=as_schedule(legitimacy),
            police=as_schedule(police),
            k=jnp.float32(k),
            threshold=jnp.float32(threshold),
            max_jail=jnp.float32(max_jail),
            hardship_shift=jnp.float32(hardship_shift),
            lethality=jnp.float32(lethality),
            arrest_rate=jnp.float32(arrest_rate),
            detain_share=jnp.float32(detain_share),
            dispersal_hours=jnp.float32(dispersal_hours),
            severity=jnp.float32(severity),
        )


PER_REGION = (
    "k",
    "threshold",
    "max_jail",
    "hardship_shift",
    "lethality",
    "arrest_rate",
    "detain_share",
    "dispersal_hours",
    "severity",
)
"""The fields a country sets city by city (one value per city: `Params.at`)."""
