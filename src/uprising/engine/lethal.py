"""Lethal force: arrests that kill, and what the killings do to those who witness them.

The seed: "police recaptured downtown Almaty, killing at least dozens"; the order to "shoot to
kill without warning" (7 January). A killing can enrage witnesses (backlash: more grievance) or
frighten them (deterrence: an arrest now may cost a life, so the net risk of rebelling, R P, is
multiplied by a severity above 1); the literature disagrees which wins, so both are parameters.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array

from uprising.engine import jail, random
from uprising.engine.params import Params
from uprising.engine.rules import Rules
from uprising.engine.state import DEAD


def sentence(stream: Array, shape: tuple[int, ...], params: Params, rules: Rules) -> Array:
    """What an arrest brings: a jail term, or death with probability `params.lethality`."""
    term = jail.draw_term(stream, shape, params.max_jail, rules)
    killed = random.uniform(random.fold(stream, 1), shape) < params.lethality
    return jnp.where(killed, DEAD, term).astype(jnp.int16)


def witnessed(
    anger: Array,
    fear: Array,
    killed_per_10k: Array,
    backlash: Array,
    deterrence: Array,
    decay: Array,
) -> tuple[Array, Array]:
    """Anger (added to hardship) and fear (severity - 1) after one hour, both fading by `decay`.

    `killed_per_10k` is the hour's killings per 10,000 residents of the city, so the response
    does not depend on how many people an agent stands for.
    """
    return decay * anger + backlash * killed_per_10k, decay * fear + deterrence * killed_per_10k
