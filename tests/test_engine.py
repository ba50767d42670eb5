"""Invariants of the engine that must hold for every rule set, seed and step."""

from __future__ import annotations

from typing import Any
from unittest import mock

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from uprising.engine import (
    ACTIVE,
    COP,
    EMPTY,
    JAILED,
    QUIET,
    RULES,
    Params,
    Schedule,
    World,
    WorldError,
    init,
    init_batch,
    observe,
    run,
    run_batch,
)
from uprising.engine import counts as counts_rule
from uprising.engine.activation import citizens_turn
from uprising.engine.buffers import materialised
from uprising.engine.state import State
from uprising.engine.step import salient_cells

SMALL = {"height": 20, "width": 20, "citizen_vision": 3, "cop_vision": 3, "substeps": 8}


def _params(**kw: float) -> Params:
    base = {"legitimacy": 0.75, "police": 0.04, "max_jail": 15.0}
    return Params.make(**{**base, **kw})


def _check_consistent(state, world: World) -> None:
    kind = np.asarray(state.kind)
    occupant = np.asarray(state.occupant)
    pos = np.asarray(state.pos)
    n_cit = state.n_citizens
    occupied = occupant >= 0
    # Every occupied cell names a slot standing there, and every empty cell is EMPTY.
    assert (pos[occupant[occupied]] == np.flatnonzero(occupied)).all()
    assert ((kind != EMPTY) == occupied).all()
    # Kinds agree with the slot: cops are COP, citizens QUIET/ACTIVE/JAILED.
    slots = occupant[occupied]
    assert (kind[occupied][slots >= n_cit] == COP).all()
    assert np.isin(kind[occupied][slots < n_cit], [QUIET, ACTIVE, JAILED]).all()
    # No cell holds two agents: on-grid slots have distinct positions.
    on_grid = np.flatnonzero(pos >= 0)
    on_grid = on_grid[occupant[pos[on_grid]] == on_grid]
    assert len(np.unique(pos[on_grid])) == len(on_grid)
    if not world.ruleset.jail_on_grid:
        assert not (kind == JAILED).any()
    # A citizen on the grid in a cell marked JAILED is serving a term.
    jail = np.asarray(state.jail)
    jailed_cells = np.flatnonzero(kind == JAILED)
    assert (jail[occupant[jailed_cells]] > 0).all()


@pytest.mark.parametrize("rules", sorted(RULES))
def test_grid_stays_consistent_and_citizens_are_conserved(rules: str) -> None:
    world = World(rules=rules, cop_density=0.06, **SMALL)
    state = init(world, jax.random.key(3))
    first = {k: int(v) for k, v in observe(state).items()}
    citizens = first["quiet"] + first["active"] + first["jailed"]
    for chunk in range(3):
        state, obs = run(state, _params(), jax.random.key(chunk), world, 40)
        _check_consistent(state, world)
        total = np.asarray(obs["quiet"]) + np.asarray(obs["active"]) + np.asarray(obs["jailed"])
        assert (total == citizens).all()
    assert int(np.asarray(obs["active"]).max()) > 0, "settings chosen so that someone rebels"


@pytest.mark.parametrize("rules", sorted(RULES))
def test_same_seed_same_numbers_other_seed_other_numbers(rules: str) -> None:
    world = World(rules=rules, **SMALL)
    outs = []
    for seed in (5, 5, 6):
        state = init(world, jax.random.key(seed))
        _, obs = run(state, _params(), jax.random.key(seed), world, 60)
        outs.append(np.asarray(obs["active"]))
    np.testing.assert_array_equal(outs[0], outs[1])
    assert not np.array_equal(outs[0], outs[2])


def test_exact_count_placement_and_per_cell_placement() -> None:
    exact = World(rules="netlogo", **SMALL)
    counts = {int(observe(init(exact, jax.random.key(s)))["quiet"]) for s in range(5)}
    assert counts == {round(0.7 * 400)}
    per_cell = World(rules="mesa", **SMALL)
    counts = {int(observe(init(per_cell, jax.random.key(s)))["quiet"]) for s in range(8)}
    assert len(counts) > 1  # binomial, not fixed


def test_legitimacy_one_means_nobody_rebels_and_zero_police_lets_everyone_angry_rebel() -> None:
    world = World(rules="netlogo", **SMALL)
    state = init(world, jax.random.key(0))
    _, obs = run(state, _params(legitimacy=1.0), jax.random.key(1), world, 30)
    assert int(np.asarray(obs["active"]).max()) == 0
    no_cops = World(rules="netlogo", **{**SMALL, "cop_density": 0.0})
    state = init(no_cops, jax.random.key(0))
    _, obs = run(state, _params(legitimacy=0.5, police=0.0), jax.random.key(1), no_cops, 3)
    # With no cops P = 0, so exactly the citizens with G = H (1 - L) > T are active.
    expected = int((np.asarray(state.hardship) * 0.5 > 0.1).sum())
    assert int(obs["active"][-1]) == expected


@pytest.mark.parametrize("rules", sorted(RULES))
def test_the_arrest_rate_scales_arrests_and_one_is_epsteins_rule(rules: str) -> None:
    world = World(rules=rules, cop_density=0.06, **SMALL)
    state = init(world, jax.random.key(4))
    arrests = {}
    for rate in (1.0, 0.3, 0.0):
        end, obs = run(state, _params(arrest_rate=rate), jax.random.key(9), world, 60)
        arrests[rate] = int(end.arrests)
        if rate == 1.0:  # a rate of 1 draws nothing that changes the run
            same, obs_default = run(state, _params(), jax.random.key(9), world, 60)
            np.testing.assert_array_equal(np.asarray(obs["active"]), obs_default["active"])
            assert int(same.arrests) == arrests[1.0]
    assert arrests[0.0] == 0
    # Fewer arrests at 0.3, though not 0.3 times as many: more actives stay free to be arrested.
    assert 0 < arrests[0.3] < arrests[1.0]


def test_life_sentences_never_end() -> None:
    world = World(rules="netlogo", **SMALL)
    state = init(world, jax.random.key(2))
    _, obs = run(
        state, _params(legitimacy=0.6, max_jail=float("inf")), jax.random.key(3), world, 80
    )
    jailed = np.asarray(obs["jailed"])
    assert jailed[-1] > 0
    assert (np.diff(jailed) >= 0).all()


def test_police_schedule_withdraws_cops() -> None:
    world = World(rules="netlogo", **{**SMALL, "cop_density": 0.08})
    police = Schedule.points([(0, 0.08), (10, 0.08), (30, 0.0)])
    state = init(world, jax.random.key(0))
    state, obs = run(state, _params(police=police), jax.random.key(1), world, 40)
    cops = np.asarray(obs["cops"])
    assert cops[0] == 32 and cops[-1] == 0
    assert (np.diff(cops) <= 0).all()
    _check_consistent(state, world)


def test_batch_of_worlds_matches_single_runs() -> None:
    world = World(rules="netlogo", **SMALL)
    keys = jax.random.split(jax.random.key(9), 3)
    states = init_batch(world, keys)
    _, batched = run_batch(states, _params(), keys, world, 30)
    single_state = init(world, keys[1])
    _, single = run(single_state, _params(), keys[1], world, 30)
    np.testing.assert_array_equal(np.asarray(batched["active"][1]), np.asarray(single["active"]))


@pytest.mark.parametrize("salience", [1.0, 0.3])
def test_worlds_of_a_batch_that_wait_for_each_other_are_single_runs(salience: float) -> None:
    """A batch loops over chunks of changes and arrests until its busiest world is done; the
    others wait without changing anything. Worlds apart (legitimacy 0.5 against 0.8: more
    arrest chunks against fewer) must run as they do alone, bit for bit. Counts are kept by
    stencils only (SCATTER_COST 0), so an arrest whose record a waiting world lost (a bug once:
    it overwrote its last chunk's) leaves the counts wrong and the run differs. With salience,
    each world's counted changes go to the front of its own lists, and full counts are stencils
    too."""
    # 80 cops a group: 5 chunks
    world = World(40, 40, 0.7, 0.1, 7, 7, rules="mesa", substeps=2, salience=salience)
    keys = jax.random.split(jax.random.key(5), 2)
    params = [_params(legitimacy=v, max_jail=5.0) for v in (0.5, 0.8)]
    stacked = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *params)
    states = init_batch(world, keys)
    with mock.patch.object(counts_rule, "SCATTER_COST", 0):
        jax.clear_caches()
        end, obs = run_batch(states, stacked, keys, world, 15, batched_params=True)
        assert int(end.arrests[0]) > int(end.arrests[1]) + 100
        for i in range(2):
            alone = jax.tree_util.tree_map(lambda x, i=i: x[i], states)
            single_end, single = run(alone, params[i], keys[i], world, 15)
            for name in ("active", "jailed"):
                np.testing.assert_array_equal(np.asarray(obs[name][i]), np.asarray(single[name]))
            np.testing.assert_array_equal(np.asarray(end.kind[i]), np.asarray(single_end.kind))
    jax.clear_caches()


def test_a_batch_decides_once_for_all_its_worlds() -> None:
    """`any_world` is the predicate of any world of the batch, and the world's own alone."""
    world = World(**SMALL)
    decide = jax.vmap(world.batched("worlds").any_world, axis_name="worlds")
    assert np.asarray(decide(jnp.asarray([False, True, False]))).all()
    assert not np.asarray(decide(jnp.asarray([False, False]))).any()
    assert bool(world.any_world(jnp.asarray(True))) and not world.batch_axes


def test_per_cell_batches_pad_absent_agents() -> None:
    world = World(rules="mesa", **SMALL)
    keys = jax.random.split(jax.random.key(4), 4)
    states = init_batch(world, keys)
    _, obs = run_batch(states, _params(), keys, world, 20)
    totals = np.asarray(obs["quiet"] + obs["active"] + obs["jailed"])
    for i, key in enumerate(keys):
        alone = observe(init(world, key))
        assert (totals[i] == int(alone["quiet"])).all()


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"rules": "nope"}, "rules"),
        ({"height": 0}, "height"),
        ({"citizen_density": -0.1}, "citizen_density"),
        ({"citizen_density": 0.8, "cop_density": 0.3}, "must not exceed 1"),
        ({"citizen_vision": 30}, "citizen_vision"),
        ({"rules": "mesa", "cop_vision": 1.7}, "whole number"),
        ({"substeps": 0}, "substeps"),
        ({"salience": 0.0}, "salience"),
        ({"salience": 1.5}, "salience"),
        ({"salience_steps": 0}, "salience_steps"),
        ({"height": 60_000, "width": 60_000}, "agents"),
    ],
)
def test_bad_worlds_are_refused_naming_the_key(kwargs: dict, key: str) -> None:
    with pytest.raises(WorldError, match=key):
        World(**kwargs)


@settings(max_examples=25, deadline=None)
@given(
    side=st.integers(7, 23),
    vision=st.sampled_from([1, 2, 3, 7, 10]),  # up to 7, 16-bit counts; 10: 32-bit
    rules=st.sampled_from(sorted(RULES)),
    seed=st.integers(0, 2**31 - 1),
    sampled=st.booleans(),
)
def test_counts_kept_by_stencils_equal_a_full_recount(
    side: int, vision: int, rules: str, seed: int, sampled: bool
) -> None:
    """Stencils added on the padded layout, read back through the margins, give the true counts
    (of the salient cells alone, where only some are).

    Small grids with wide visions put most stencils across an edge (and a corner).
    """
    assume(2 * vision + 1 <= side)
    world = World(side, side + 1, 0.5, 0.2, vision, vision, rules=rules, substeps=1)
    rng = np.random.default_rng(seed)
    before = rng.choice(np.array([EMPTY, QUIET, ACTIVE, COP]), world.cells)
    after = before.copy()
    changed = rng.choice(world.cells, size=world.cells // 3, replace=False)
    after[changed] = rng.choice(np.array([EMPTY, QUIET, ACTIVE, COP]), changed.size)

    def packed(kind: np.ndarray) -> np.ndarray:
        return (kind == COP) + (kind == ACTIVE) * counts_rule.active_unit(world)

    mask = (rng.random(world.cells) < 0.4) if sampled else np.ones(world.cells, bool)
    salient = jnp.asarray(mask, jnp.int32) if sampled else None
    cells = jnp.asarray(changed, jnp.int32)
    deltas = jnp.asarray(packed(after)[changed] - packed(before)[changed], jnp.int32)
    everywhere = jnp.arange(world.cells, dtype=jnp.int32)
    # Stencils are never dearer than a recount (SCATTER_COST 0): the stencil path, many turns
    # (a full count of salient cells is stencils added to empty counts, too).
    with mock.patch.object(counts_rule, "SCATTER_COST", 0):
        counts = counts_rule.full(jnp.asarray(before), world, salient)
        initial = _counted_by_rolling(packed(before) * mask, world)
        np.testing.assert_array_equal(counts_rule.at(counts, everywhere, world), initial)
        kept = counts_rule.update(
            counts, jnp.asarray(after), world, (cells, deltas, 4), salient=salient
        )
    expected = _counted_by_rolling(packed(after) * mask, world)
    np.testing.assert_array_equal(counts_rule.at(kept, everywhere, world), expected)


@pytest.mark.parametrize(
    ("rules", "vision", "bits"), [("mesa", 7, 16), ("netlogo", 7, 16), ("netlogo", 10, 32)]
)
def test_packed_counts_hold_a_shape_full_of_cops_or_of_actives(
    rules: str, vision: int, bits: int
) -> None:
    """Vision 7 holds 113 cells as a diamond and 149 as a disk (16-bit counts), 10 as a disk 317
    (32-bit): a shape full of either kind is counted in full, nothing carried into the other."""
    world = World(23, 24, 0.5, 0.2, vision, vision, rules=rules)
    everywhere = jnp.arange(world.cells, dtype=jnp.int32)
    shape = len(world.vision_shape("citizen", centre=True)[0])
    for kind, expected in ((COP, (shape, 0)), (ACTIVE, (0, shape))):
        counts = counts_rule.full(jnp.full(world.cells, kind, jnp.uint8), world)
        assert counts.dtype.itemsize * 8 == bits
        cops, actives = counts_rule.split(counts_rule.at(counts, everywhere, world), world)
        found = (np.unique(cops).tolist(), np.unique(actives).tolist())
        assert found == ([expected[0]], [expected[1]])


def _counted_by_rolling(packed: np.ndarray, world: World) -> np.ndarray:
    """The reference counts: a packed grid summed over the citizen vision by rolling it."""
    grid = packed.reshape(world.height, world.width)
    dy, dx = world.vision_shape("citizen", centre=True)
    rolled = (np.roll(grid, (-a, -b), axis=(0, 1)) for a, b in zip(dy, dx, strict=True))
    return sum(rolled).reshape(-1)


def test_a_batch_adds_each_worlds_changes_once_however_they_lie_in_chunks() -> None:
    """In a batch the loop over chunks runs until the busiest world is done: here ten turns for
    a world with one change in each chunk of 4, while the world beside it (changes in its first
    and last chunks only) waits for eight, on its last chunk, which it must not add again. Both
    must end with the counts of a recount."""
    world = World(12, 13, 0.5, 0.2, 3, 3, rules="netlogo", substeps=1)
    rng = np.random.default_rng(3)
    cells = rng.choice(world.cells, size=(2, 40), replace=False).astype(np.int32)
    spread = np.zeros((2, 40), np.int32)
    unit = counts_rule.active_unit(world)
    spread[0, ::4] = rng.choice([1, -1, unit, -unit], 10)  # one per chunk
    spread[1, :4] = spread[1, -4:] = rng.choice([1, unit], 4)  # first and last chunks
    before = rng.choice(np.array([EMPTY, QUIET, ACTIVE, COP]), (2, world.cells))
    grid = ((before == COP) + (before == ACTIVE) * unit).astype(np.int64)
    np.add.at(grid, (np.arange(2)[:, None], cells), spread)  # the packed grid after the changes
    batched = world.batched("worlds")

    def kept(kind: jax.Array, cells: jax.Array, deltas: jax.Array) -> jax.Array:
        counts = counts_rule.full(kind, batched)
        counts = counts_rule.update(counts, kind, batched, (cells, deltas, 4))
        return counts_rule.at(counts, jnp.arange(world.cells, dtype=jnp.int32), batched)

    with mock.patch.object(counts_rule, "SCATTER_COST", 0):  # stencils, never a recount
        got = jax.vmap(kept, axis_name="worlds")(jnp.asarray(before), cells, jnp.asarray(spread))
    for w in range(2):
        np.testing.assert_array_equal(np.asarray(got[w]), _counted_by_rolling(grid[w], world))


@pytest.mark.parametrize(
    ("rules", "salience"), [("netlogo", 1.0), ("mesa", 1.0), ("netlogo", 0.5)]
)  # the paper's rules rarely burst at L 0.8
def test_counts_kept_through_a_step_match_counting_afresh_after_every_change(
    rules: str, salience: float
) -> None:
    """Whole runs with the incremental counts equal runs that count the grid after each change.

    An outburst makes groups whose changes cross the threshold of a full recount; a recount
    followed by stencils of changes it already saw (a bug once) makes the runs differ. With
    salience below 1, the counts of salient cells alone.
    """
    world = World(40, 43, 0.7, 0.04, 7, 7, rules=rules, salience=salience)
    start, key = init(world, jax.random.key(0)), jax.random.key(1)
    params = _params(legitimacy=0.8, max_jail=30.0)

    def final_state() -> list[np.ndarray]:
        jax.clear_caches()  # `run` is compiled once per world: trace it again
        state, obs = run(start, params, key, world, 150)
        assert int(np.asarray(obs["active"]).max()) > 50
        return [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(state)]

    kept = final_state()

    def afresh(
        counts: jax.Array, kind: jax.Array, world: World, *changes: Any, salient: Any = None
    ) -> jax.Array:
        return counts_rule.summed(kind, world, salient)

    with mock.patch.object(counts_rule, "update", afresh):
        recounted = final_state()
    jax.clear_caches()
    for a, b in zip(kept, recounted, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_materialised_value_is_its_own_buffer_and_unchanged() -> None:
    """`materialised` keeps its conditional through compilation (the point of it: the compiler
    fuses the value into its readers otherwise) and gives the value itself, under `vmap` too."""

    def read(t: jax.Array, grid: jax.Array, at: jax.Array) -> jax.Array:
        padded = materialised(lambda: jnp.pad(grid, 2, mode="wrap"), World(**SMALL), t)
        return padded.reshape(-1)[at]

    t, grid = jnp.int32(3), jnp.arange(36, dtype=jnp.int32).reshape(6, 6)
    at = jnp.asarray([0, 17, 99], jnp.int32)
    expected = np.pad(np.asarray(grid), 2, mode="wrap").reshape(-1)[np.asarray(at)]
    compiled = jax.jit(read).lower(t, grid, at).compile()
    assert "conditional" in compiled.as_text()
    np.testing.assert_array_equal(compiled(t, grid, at), expected)
    batched = jax.vmap(read, in_axes=(None, 0, None))(t, jnp.stack([grid, grid + 1]), at)
    np.testing.assert_array_equal(batched, np.stack([expected, expected + 1]))


@pytest.mark.parametrize("cell_salient", [0, 1])
def test_a_citizen_counts_itself_once_whether_or_not_its_cell_is_salient(
    cell_salient: int,
) -> None:
    """Rule A's A is 1 + the other actives counted: an active citizen on a cell that is not
    salient is not in the counts, so nothing may be taken off for it (A would fall to 0, and C/A
    to infinity or NaN). Here an active citizen alone in a world without cops must stay active."""
    world = World(9, 9, 0.0, 0.0, 2, 2, rules="paper", salience=0.5)
    cell = 40
    state = init(world, jax.random.key(0))
    state = State(
        kind=jnp.zeros(world.cells, jnp.uint8).at[cell].set(ACTIVE),
        occupant=jnp.full(world.cells, -1, jnp.int32).at[cell].set(0),
        pos=jnp.asarray([cell], jnp.int32),
        hardship=jnp.asarray([1.0], jnp.float32),
        risk_aversion=jnp.asarray([1.0], jnp.float32),
        jail=jnp.zeros(1, jnp.int16),
        cops0=state.cops0,
        t=state.t,
        arrests=state.arrests,
        dispersed=state.dispersed,
        deaths=state.deaths,
    )
    salient = jnp.zeros(world.cells, jnp.int32).at[cell].set(cell_salient)
    counts = counts_rule.full(state.kind, world, salient)
    params = _params(legitimacy=0.0)
    slots, valid = jnp.asarray([0], jnp.int32), jnp.asarray([True])
    legitimacy = params.legitimacy(jnp.float32(0))
    after, _, _ = citizens_turn(state, world, counts, slots, valid, legitimacy, params, salient)
    assert int(after.kind[cell]) == int(ACTIVE)


def test_a_draw_of_salient_cells_lasts_its_steps_and_differs_between_runs() -> None:
    """Salient cells stay the same for `salience_steps` steps, then are drawn again; two runs
    (two initial states) draw differently; about `salience` of the cells are salient."""
    world = World(40, 40, 0.7, 0.04, 3, 3, rules="paper", salience=0.25, salience_steps=6)
    state = init(world, jax.random.key(0))

    def at(t: int, s: State = state) -> np.ndarray:
        mask = salient_cells(s.with_(t=jnp.int32(t)), world)
        assert mask is not None
        return np.asarray(mask)

    first = at(0)
    assert all((at(t) == first).all() for t in range(1, 6))
    assert (at(6) != first).any() and (at(6) == at(11)).all()
    assert not (salient_cells(init(world, jax.random.key(1)), world) == first).all()
    assert abs(first.mean() - 0.25) < 0.05  # 1,600 cells: the sd of the share is 0.011
    assert salient_cells(state, World(40, 40, 0.7, 0.04, 3, 3, rules="paper")) is None
