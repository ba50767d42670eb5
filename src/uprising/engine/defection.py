"""Police overwhelmed: officers flee or switch sides when the odds turn against them.

The seed: "Some law enforcement officers even switched sides and joined the protest";
"Government security officers fled Almaty, leaving the city under the control of the protesters."
Each hour a share of a city's police leaves, growing with the ratio of actives to the state's
force there (police, transfers, troops) beyond `odds` and with the regime's lost legitimacy; of
those who leave, `defect_share` defect and the rest flee. Fled officers come back at
`return_rate` an hour once the odds are below `odds` again; defectors do not. Foreign troops
never defect (they are not in `police`).
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array


def leaving(
    police: Array,
    force: Array,
    actives: Array,
    legitimacy: Array,
    odds: Array,
    rate: Array,
) -> Array:
    """Officers of `police` who leave this hour (a float count per city); `force` is everyone
    on the state's side there (police, transfers, troops), against whom the odds are weighed."""
    pressure = jnp.maximum(actives / jnp.maximum(force, 1.0) / odds - 1.0, 0.0)
    return police * jnp.clip(rate * pressure * (1.0 - legitimacy), 0.0, 1.0)


def returning(fled: Array, actives: Array, force: Array, odds: Array, rate: Array) -> Array:
    """Fled officers who come back this hour, once actives no longer outnumber the force there
    `odds` to 1."""
    calm = actives < odds * jnp.maximum(force, 1.0)
    return jnp.where(calm, rate * fled, 0.0)
