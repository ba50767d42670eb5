"""Citizen rule A (Epstein 2002): be active if G - R P > T.

G = H (1 - L) is grievance (a country adds prices, memory and anger to H), R risk aversion, T a
threshold, and the estimated arrest probability P = 1 - exp(-k f(C / A)) with C the cops and
A = 1 + actives within vision. A country scales the net risk R P by the severity of what an
arrest brings (killings witnessed: `lethal`); in Epstein's model it is 1.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array

from uprising.engine import counts as counts_rule
from uprising.engine.buffers import materialised
from uprising.engine.params import Params
from uprising.engine.rules import Rounding
from uprising.engine.state import ACTIVE, FOREVER, QUIET, State
from uprising.engine.world import World


def arrest_probability(cops: Array, actives: Array, k: Array, rounding: Rounding) -> Array:
    ratio = cops.astype(jnp.float32) / actives.astype(jnp.float32)
    if rounding == "floor":
        ratio = jnp.floor(ratio)
    elif rounding == "round":
        ratio = jnp.round(ratio)  # half to even, as Python's round in Mesa
    return 1.0 - jnp.exp(-k * ratio)


def grievance(hardship: Array, legitimacy: Array, shift: Array | float = 0.0) -> Array:
    return (hardship + shift) * (1.0 - legitimacy)


def is_active(
    grievance: Array,
    risk_aversion: Array,
    p_arrest: Array,
    threshold: Array,
    severity: Array | float = 1.0,
) -> Array:
    """G - N > T, with net risk N = R P severity (Epstein's N = R P where severity is 1).

    Severity scales what an arrest costs: with killings it can exceed what any certainty of
    arrest (P is at most 1) can deter.
    """
    return grievance - risk_aversion * p_arrest * severity > threshold


def citizens_turn(
    state: State,
    world: World,
    counts: Array,
    slots: Array,
    valid: Array,
    legitimacy: Array,
    params: Params,
    salient: Array | None = None,
) -> tuple[State, Array, Array]:
    """One group of citizens applies rule A against the current counts (of `salient` cells only,
    where given: `World.salience`).

    Returns the new state and, per slot, the cell and the change of packed counts it causes.
    """
    rules = world.ruleset
    pos = jnp.where(valid, state.pos[slots], -1)
    safe = jnp.maximum(pos, 0)
    on_grid = (pos >= 0) & (state.occupant[safe] == slots)
    jail = state.jail[slots]
    if rules.countdown_own_turn:
        jail = jnp.where(on_grid & (jail < FOREVER), jnp.maximum(jail - 1, 0), jail)
        state = state.with_(
            jail=state.jail.at[jnp.where(valid, slots, state.n_citizens)].set(jail, mode="drop")
        )
    free = on_grid & (jail == 0)
    here = state.kind[safe]
    was_active = here == ACTIVE
    cops, actives = counts_rule.split(counts_rule.at(counts, safe, world), world)
    actives = 1 + actives
    if not rules.counts_self_twice:  # A counts the citizen once, as the 1: not again in the count
        counted = was_active if salient is None else was_active * salient[safe]
        actives = actives - counted

    def decide() -> tuple[Array, Array]:
        local = params.at(state.region_of(slots))
        p = arrest_probability(cops, actives, local.k, rules.rounding)
        g = grievance(state.hardship[slots], state.local(legitimacy, slots), local.hardship_shift)
        risk_aversion = state.risk_aversion[slots]
        now = is_active(g, risk_aversion, p, local.threshold, local.severity)
        now = jnp.where(now, ACTIVE, QUIET)
        new_kind = jnp.where(free, now, here).astype(jnp.uint8)
        delta = (new_kind == ACTIVE).astype(jnp.int32) - was_active
        delta = delta * counts_rule.active_unit(world)
        return new_kind, jnp.where(free, delta, 0)

    # Materialised: the new kinds and count changes feed several readers, each of which would
    # otherwise redo the rule (6% of a step at 100x100, 12% at 400x400).
    new_kind, delta = materialised(decide, world, state.t)
    kind = state.kind.at[jnp.where(free, pos, world.cells)].set(new_kind, mode="drop")
    return state.with_(kind=kind), safe, delta
