"""The rule functions, each against its definition."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uprising.engine import Schedule, World, neighbourhood, partition, random
from uprising.engine.activation import arrest_probability, grievance, is_active
from uprising.engine.jail import count_down, draw_term
from uprising.engine.rules import MESA, NETLOGO, PAPER
from uprising.engine.state import FOREVER


def test_arrest_probability_rounding_per_rule_set() -> None:
    cops = jnp.array([0, 1, 3, 5, 5])
    actives = jnp.array([1, 2, 2, 2, 3])  # ratios 0, .5, 1.5, 2.5, 1.67
    k = jnp.float32(2.3)
    paper = np.asarray(arrest_probability(cops, actives, k, "none"))
    np.testing.assert_allclose(
        paper, 1 - np.exp(-2.3 * np.array([0, 0.5, 1.5, 2.5, 5 / 3])), rtol=1e-6
    )
    floor = np.asarray(arrest_probability(cops, actives, k, "floor"))
    np.testing.assert_allclose(floor, 1 - np.exp(-2.3 * np.array([0, 0, 1, 2, 1])), rtol=1e-6)
    # Python's round: half to even, so 0.5 -> 0, 1.5 -> 2, 2.5 -> 2.
    rounded = np.asarray(arrest_probability(cops, actives, k, "round"))
    expected = [round(c / a) for c, a in zip([0, 1, 3, 5, 5], [1, 2, 2, 2, 3], strict=True)]
    np.testing.assert_allclose(rounded, 1 - np.exp(-2.3 * np.array(expected)), rtol=1e-6)


def test_activation_rule() -> None:
    g = grievance(jnp.array([0.9, 0.9, 0.2]), jnp.float32(0.5))  # 0.45, 0.45, 0.1
    active = is_active(g, jnp.array([0.1, 0.9, 0.0]), jnp.array([0.9, 0.9, 0.0]), jnp.float32(0.1))
    assert np.asarray(active).tolist() == [
        True,
        False,
        False,
    ]  # .45-.09 > .1; .45-.81 < .1; .1 !> .1


def test_severity_deters_where_no_certainty_of_arrest_can() -> None:
    # G - R > T: active even when arrest is certain (P = 1), as in Epstein's rule (severity 1).
    g, r, certain, t = jnp.float32(0.9), jnp.float32(0.3), jnp.float32(1.0), jnp.float32(0.1)
    assert bool(is_active(g, r, certain, t))
    assert bool(is_active(g, r, certain, t, jnp.float32(1.0))) == bool(is_active(g, r, certain, t))
    # Killings make an arrest graver: N = R P severity = 0.3 * 3 = 0.9, and .9 - .9 !> .1.
    assert not bool(is_active(g, r, certain, t, jnp.float32(3.0)))
    # Severity scales the risk, not the grievance: with no cop in view (P = 0) nothing changes.
    assert bool(is_active(g, r, jnp.float32(0.0), t, jnp.float32(100.0)))


@pytest.mark.parametrize(
    ("rules", "lo", "hi"), [(NETLOGO, 0, 9), (PAPER, 0, 10), (MESA, 1, 11)]
)  # Mesa stores randint(0, Jmax) + 1: the turn that reaches 0 is the one it acts in
def test_jail_term_ranges(rules, lo: int, hi: int) -> None:
    terms = np.asarray(
        draw_term(random.stream(jax.random.key(0)), (20_000,), jnp.float32(10.0), rules)
    )
    assert terms.min() == lo and terms.max() == hi
    # Uniform: each of the 10 or 11 values within 10% of its expected share.
    counts = np.bincount(terms - lo)
    assert (np.abs(counts / counts.mean() - 1) < 0.1).all()
    forever = np.asarray(
        draw_term(random.stream(jax.random.key(0)), (5,), jnp.float32(math.inf), rules)
    )
    assert (forever == FOREVER).all()
    assert (np.asarray(count_down(jnp.asarray(forever))) == FOREVER).all()
    assert np.asarray(count_down(jnp.array([0, 1, 5], jnp.int16))).tolist() == [0, 0, 4]


@pytest.mark.parametrize(
    ("vision", "shape", "centre", "cells"),
    [
        (1.7, "disk", False, 8),
        (7, "disk", True, 149),
        (7, "disk", False, 148),
        (7, "diamond", False, 112),
    ],
)
def test_vision_shapes_have_the_published_sizes(vision, shape, centre, cells) -> None:
    dy, _ = neighbourhood.offsets(vision, shape, centre)
    assert len(dy) == cells


@settings(max_examples=12, deadline=None)
@given(
    h=st.integers(7, 25),
    w=st.integers(7, 25),
    vision=st.sampled_from([1.0, 1.7, 2.0, 2.5, 3.0]),
    shape=st.sampled_from(["disk", "diamond"]),
    seed=st.integers(0, 2**16),
)
def test_window_sums_equal_brute_force(h, w, vision, shape, seed) -> None:
    if shape == "diamond":
        vision = float(int(vision))
    grid = np.random.default_rng(seed).integers(0, 4, (h, w)).astype(np.int32)
    dy, dx = neighbourhood.offsets(vision, shape, True)
    expected = sum(np.roll(grid, (-a, -b), axis=(0, 1)) for a, b in zip(dy, dx, strict=True))
    got = neighbourhood.window_sums(jnp.asarray(grid), neighbourhood.half_widths(vision, shape))
    np.testing.assert_array_equal(np.asarray(got), expected)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 5000), groups=st.integers(1, 64), seed=st.integers(0, 2**16))
def test_partition_orders_every_slot_exactly_once(n, groups, seed) -> None:
    order = partition.draw_order(random.stream(jax.random.key(seed)), n)
    seen = []
    for g in range(groups):
        slots, valid = partition.block(order, n, groups, jnp.int32(g))
        seen.extend(np.asarray(slots)[np.asarray(valid)].tolist())
    assert sorted(seen) == list(range(n))


def test_partition_orders_change_between_steps() -> None:
    firsts = {
        tuple(
            np.asarray(
                partition.block(
                    partition.draw_order(random.stream(jax.random.key(s)), 1000),
                    1000,
                    8,
                    jnp.int32(0),
                )[0]
            )[:5]
        )
        for s in range(10)
    }
    assert len(firsts) == 10


def test_schedules_interpolate_and_jump() -> None:
    run4 = Schedule.points([(0, 0.9), (76, 0.9), (77, 0.7)])
    values = [float(run4(jnp.float32(t))) for t in (0, 50, 76, 77, 500)]
    np.testing.assert_allclose(values, [0.9, 0.9, 0.9, 0.7, 0.7], rtol=1e-6)
    run3 = Schedule.points([(0, 0.9), (70, 0.2)])
    np.testing.assert_allclose(float(run3(jnp.float32(10))), 0.8, rtol=1e-5)
    with pytest.raises(ValueError, match="must not decrease"):
        Schedule.points([(5, 1.0), (1, 0.0)])


def test_world_rejects_grids_too_small_for_vision() -> None:
    assert World(height=15, width=15, citizen_vision=7, cop_vision=7).cells == 225
