"""One step of the model, and many: `step(state, params, key, world) -> state`.

A step gives every agent one turn, in `world.substeps` random groups one after another: in its
turn an agent moves (rule M), then acts (rule A for citizens, rule C for cops); Mesa's order puts
the move after the act. Then jail terms count down (Mesa: in the prisoner's own turn).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax import Array

from uprising.engine import arrest, partition, police, random
from uprising.engine import counts as counts_rule
from uprising.engine import jail as jail_rule
from uprising.engine.activation import citizens_turn
from uprising.engine.arrest import cops_turn
from uprising.engine.buffers import materialised
from uprising.engine.movement import move_group
from uprising.engine.params import Params
from uprising.engine.state import ACTIVE, DEAD, State
from uprising.engine.world import World


def turns(state: State, params: Params, world: World, stream: Array) -> State:
    """Every agent takes its turn once, in random groups that see each other's changes.

    In its turn an agent moves, then acts (Mesa: acts, then moves), as in the published models.
    """
    rules = world.ruleset
    n_cit = state.n_citizens
    n_cop = state.pos.shape[0] - n_cit
    groups = world.substeps
    cit_order = partition.draw_order(random.fold(stream, 0), n_cit)
    cop_order = partition.draw_order(random.fold(stream, 1), n_cop)
    group_streams = random.fold(stream, 2)
    counts_show_cops_view = world.cop_vision == world.citizen_vision
    salient = salient_cells(state, world)
    t = state.t.astype(jnp.float32)
    legitimacy = params.legitimacy(jnp.float32(0) if rules.grievance_fixed else t)

    Carry = tuple[State, Array, tuple[Array, Array]]

    def group(g: Array, carry: Carry) -> Carry:
        # `arrested`: the cells and count changes of the last arrests, not yet in the counts:
        # they go in with the next moves' (moves read the grid, not the counts). The last
        # group's are never needed: the next step counts afresh.
        state, counts, arrested = carry
        g_stream = random.fold(group_streams, g)
        cit_slots, cit_valid = partition.block(cit_order, n_cit, groups, g)
        cop_slots, cop_valid = partition.block(cop_order, n_cop, groups, g)
        cop_slots = cop_slots + n_cit

        def moving(state: State, counts: Array) -> tuple[State, Array]:
            slots = jnp.concatenate([cit_slots, cop_slots])
            valid = jnp.concatenate([cit_valid, cop_valid])
            move_stream = random.fold(g_stream, 0)
            state, cells, deltas = move_group(state, world, slots, valid, move_stream)
            n = cit_slots.shape[0]  # citizens' changes are sparse (actives), cops' dense
            counts = counts_rule.update(
                counts,
                state.kind,
                world,
                (*arrested, counts_rule.CHUNK),
                (cells[:n].reshape(-1), deltas[:n].reshape(-1), counts_rule.CHUNK),
                (cells[n:].reshape(-1), deltas[n:].reshape(-1), counts_rule.DENSE_CHUNK),
                salient=salient,
            )
            return state, counts

        if rules.move_first:
            state, counts = moving(state, counts)
        state, c_cells, c_delta = citizens_turn(
            state, world, counts, cit_slots, cit_valid, legitimacy, params, salient
        )
        counts = counts_rule.update(
            counts, state.kind, world, (c_cells, c_delta, counts_rule.CHUNK), salient=salient
        )
        if n_cop:

            def seeing() -> Array:
                pos = jnp.where(cop_valid, state.pos[cop_slots], -1)
                sees = pos >= 0
                if counts_show_cops_view:  # a cop with no active in view has nothing to do
                    packed = counts_rule.at(counts, jnp.maximum(pos, 0), world)
                    sees &= counts_rule.split(packed, world)[1] > 0
                local = params.at(state.region_of(cop_slots))
                return sees & arrest.willing(random.fold(g_stream, 2), sees.shape, local)

            # Materialised: read in chunks and as a whole, it would be computed twice.
            sees = materialised(seeing, world, state.t)
            state, a_cells, a_delta = cops_turn(
                state, world, cop_slots, sees, params, random.fold(g_stream, 1)
            )
            arrested = (a_cells, a_delta)
        if not rules.move_first:
            state, counts = moving(state, counts)
        return state, counts, arrested

    counts = counts_rule.full(state.kind, world, salient)
    arrested = arrest.no_arrests(partition.block_size(n_cop, groups))
    return jax.lax.fori_loop(0, groups, group, (state, counts, arrested))[0]


def salient_cells(state: State, world: World) -> Array | None:
    """This step's salient cells as a 0/1 mask (each with chance `world.salience`), or None
    where every cell is (the default: nothing drawn, nothing changed).

    A draw lasts `world.salience_steps` steps, so it cannot come from a step's key: it comes from
    a stream fixed for the run, the bits of the first citizen's hardship and risk aversion (drawn
    from the run's key at `init`, never changed), folded with the number of the draw.
    """
    if world.salience >= 1.0:
        return None
    traits = jnp.stack([state.hardship[..., 0], state.risk_aversion[..., 0]])
    run_stream = jax.lax.bitcast_convert_type(traits, jnp.uint32)
    draw = random.fold(run_stream, state.t // world.salience_steps)

    def mask() -> Array:
        return (random.uniform(draw, (world.cells,)) < world.salience).astype(jnp.int32)

    # Materialised: read at random places by every count, it would be hashed again per read.
    return materialised(mask, world, state.t)


def step(
    state: State, params: Params, key: Array, world: World, cops: Array | None = None
) -> State:
    """One step; `cops` is the number of cops on the grid (default: the police schedule)."""
    stream = random.stream(key)
    if cops is None:
        cops = police.scheduled_target(state, params.police(state.t.astype(jnp.float32)), world)
    if state.pos.shape[0] > state.n_citizens:
        state = police.station(state, cops, world, random.fold(stream, 3))
    state = turns(state, params, world, stream)
    if not world.ruleset.countdown_own_turn:
        state = state.with_(jail=jail_rule.count_down(state.jail))
    return state.with_(t=state.t + 1)


def observe(state: State) -> dict[str, Array]:
    """Citizens quiet, active, jailed and dead, and cops on the grid (per city in a country)."""
    n_cit = state.n_citizens
    present = state.pos[:n_cit] >= 0
    if state.region is not None:
        return _observe_regions(state, present)
    dead = (present & (state.jail == DEAD)).sum()
    jailed = (present & (state.jail > 0)).sum() - dead
    active = (state.kind == ACTIVE).sum()
    return {
        "quiet": present.sum() - jailed - dead - active,
        "active": active,
        "jailed": jailed,
        "dead": dead,
        "cops": (state.pos[n_cit:] >= 0).sum(),
    }


def _observe_regions(state: State, present: Array) -> dict[str, Array]:
    n_cit = state.n_citizens
    assert state.region is not None and state.boxes is not None
    regions = state.boxes.shape[0]

    def count(happened: Array, region: Array) -> Array:
        return jax.ops.segment_sum(happened.astype(jnp.int32), region, num_segments=regions)

    cell = jnp.maximum(state.pos[:n_cit], 0)
    on_grid = present & (state.occupant[cell] == jnp.arange(n_cit))
    dead = count(present & (state.jail == DEAD), state.region[:n_cit])
    jailed = count(present & (state.jail > 0), state.region[:n_cit]) - dead
    active = count(on_grid & (state.kind[cell] == ACTIVE), state.region[:n_cit])
    return {
        "quiet": count(present, state.region[:n_cit]) - jailed - dead - active,
        "active": active,
        "jailed": jailed,
        "dead": dead,
        "cops": count(state.pos[n_cit:] >= 0, state.region[n_cit:]),
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
    one = partial(run, world=world.batched("worlds"), steps=steps)
    in_axes = (0, 0 if batched_params else None, 0)
    return jax.vmap(one, in_axes=in_axes, axis_name="worlds")(states, params, keys)
