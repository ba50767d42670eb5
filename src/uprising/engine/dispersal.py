"""Dispersal: most of those the police take from the street are sent away, not detained.

The seed, of the crowds in Almaty: "They were dispersed early in the morning of January 5, but
they regrouped again by around 9 am"; and the January figures count some 10,000-12,000 detained
against crowds of about 50,000 at the peak. So an
arrest (rule C) detains with probability `detain_share`, and otherwise disperses: the citizen
leaves the street for a term drawn as jail terms are, up to `dispersal_hours`, and then comes
back to where it was taken, free to rise again. A dispersal is not a detention (`State.dispersed`
counts them apart) and does not kill; seen by others, it is repression all the same and erodes
legitimacy, at its own rate (`world/legitimacy.py`). Epstein's model detains every time (share
1), and then nothing here changes anything.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array

from uprising.engine import jail, random
from uprising.engine.params import Params
from uprising.engine.rules import Rules


def disperse(stream: Array, term: Array, params: Params, rules: Rules) -> tuple[Array, Array]:
    """The term each arrest brings after dispersal, and whether it was a detention."""
    detained = random.uniform(stream, term.shape) < params.detain_share
    away = jail.draw_term(random.fold(stream, 1), term.shape, params.dispersal_hours, rules)
    return jnp.where(detained, term, away).astype(term.dtype), detained
