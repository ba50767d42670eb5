"""One step of the model, and many: `step(state, params, key, world) -> state`.

A step runs the rules in the order of the rule set: movement, then acting (rule A for citizens,
rule C for cops), each in `world.substeps` random groups one after another; then jail terms count
down. Mesa's order puts movement after acting.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax import Array

from uprising.engine import counts as counts_rule
from uprising.engine import jail as jail_rule
from uprising.engine import partition, random
from uprising.engine.activation import citizens_turn
from uprising.engine.arrest import cops_turn
from uprising.engine.movement import move
from uprising.engine.neighbourhood import ACTIVE_UNIT
from uprising.engine.params import Params
from uprising.engine.state import ACTIVE, EMPTY, State
from uprising.engine.world import World


def withdraw_police(state: State, params: Params, world: World) -> State:
    """Remove the cops beyond the police schedule's share of the initial force."""
    n_cit = state.n_citizens
    if world.cop_density == 0 or state.pos.shape[0] == n_cit:
        return state
    share = jnp.clip(params.police(state.t.astype(jnp.float32)) / world.cop_density, 0.0, 1.0)
    rank = jnp.arange(state.pos.shape[0] - n_cit)
    cop_pos = state.pos[n_cit:]
    leaving = (rank >= jnp.round(share * state.cops0)) & (cop_pos >= 0)
    at = jnp.where(leaving, cop_pos, world.cells)
    return state.with_(
        kind=state.kind.at[at].set(EMPTY, mode="drop"),
        occupant=state.occupant.at[at].set(-1, mode="drop"),
        pos=state.pos.at[n_cit:].set(jnp.where(leaving, -1, cop_pos)),
    )


def act(state: State, params: Params, world: World, stream: Array) -> State:
    """Every agent acts once, in random groups that see each other's changes."""
    rules = world.ruleset
    n_cit = state.n_citizens
    n_cop = state.pos.shape[0] - n_cit
    groups = world.substeps
    cit_order = partition.draw_order(random.fold(stream, 0), n_cit)
    cop_order = partition.draw_order(random.fold(stream, 1), n_cop)
    cop_streams = random.fold(stream, 2)
    t = state.t.astype(jnp.float32)
    counts_show_cops_view = world.cop_vision == world.citizen_vision
    legitimacy = params.legitimacy(jnp.float32(0) if rules.grievance_fixed else t)

    def group(g: Array, carry: tuple[State, Array]) -> tuple[State, Array]:
        state, counts = carry
        slots, valid = partition.block(cit_order, n_cit, groups, g)
        state, c_cells, c_delta = citizens_turn(
            state, world, counts, slots, valid, legitimacy, params.k, params.threshold
        )
        counts = counts_rule.update(counts, state.kind, world, c_cells, c_delta)
        if n_cop:
            slots, valid = partition.block(cop_order, n_cop, groups, g)
            slots = slots + n_cit
            pos = jnp.where(valid, state.pos[slots], -1)
            sees = pos >= 0
            if counts_show_cops_view:  # a cop with no active in view has nothing to do
                sees = sees & (counts[jnp.maximum(pos, 0)] >= ACTIVE_UNIT)
            state, a_cells, a_delta = cops_turn(
                state, world, slots, sees, params.max_jail, random.fold(cop_streams, g)
            )
            counts = counts_rule.update(counts, state.kind, world, a_cells, a_delta)
        return state, counts

    counts = counts_rule.full(state.kind, world)
    return jax.lax.fori_loop(0, groups, group, (state, counts))[0]


def step(state: State, params: Params, key: Array, world: World) -> State:
    rules = world.ruleset
    stream = random.stream(key)
    k_move, k_act = random.fold(stream, 0), random.fold(stream, 1)
    state = withdraw_police(state, params, world)
    if rules.move_first:
        state = move(state, world, k_move)
    state = act(state, params, world, k_act)
    if not rules.move_first:
        state = move(state, world, k_move)
    if not rules.countdown_own_turn:
        state = state.with_(jail=jail_rule.count_down(state.jail))
    return state.with_(t=state.t + 1)


def observe(state: State) -> dict[str, Array]:
    """Citizens quiet, active and jailed, and cops on the grid."""
    n_cit = state.n_citizens
    present = state.pos[:n_cit] >= 0
    jailed = (present & (state.jail > 0)).sum()
    active = (state.kind == ACTIVE).sum()
    return {
        "quiet": present.sum() - jailed - active,
        "active": active,
        "jailed": jailed,
        "cops": (state.pos[n_cit:] >= 0).sum(),
    }


@partial(jax.jit, static_argnames=("world", "steps"))
def run(
    state: State, params: Params, key: Array, world: World, steps: int
) -> tuple[State, dict[str, Array]]:
    """`steps` steps from `state`; returns the final state and the observations after each."""

    def one(state: State, key: Array) -> tuple[State, dict[str, Array]]:
        state = step(state, params, key, world)
        return state, observe(state)

    return jax.lax.scan(one, state, jax.random.split(key, steps))


@partial(jax.jit, static_argnames=("world", "steps", "batched_params"))
def run_batch(
    states: State,
    params: Params,
    keys: Array,
    world: World,
    steps: int,
    batched_params: bool = False,
) -> tuple[State, dict[str, Array]]:
    """`run` over a leading batch axis of states and keys (and of params if `batched_params`)."""
    one = partial(run, world=world, steps=steps)
    return jax.vmap(one, in_axes=(0, 0 if batched_params else None, 0))(states, params, keys)
