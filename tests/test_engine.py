"""Invariants of the engine that must hold for every rule set, seed and step."""

from __future__ import annotations

import jax
import numpy as np
import pytest

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
        ({"height": 60_000, "width": 60_000}, "agents"),
    ],
)
def test_bad_worlds_are_refused_naming_the_key(kwargs: dict, key: str) -> None:
    with pytest.raises(WorldError, match=key):
        World(**kwargs)
