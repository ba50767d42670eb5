"""The country mechanisms as pure functions, on tiny hand-made inputs."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from uprising.engine import (
    COP,
    EMPTY,
    QUIET,
    World,
    defection,
    dispersal,
    init,
    lethal,
    police,
    run,
)
from uprising.engine import random as engine_random
from uprising.engine.params import PER_REGION, Params
from uprising.engine.rules import RULES
from uprising.engine.state import ACTIVE, DEAD, WALL, State
from uprising.world import events as ev
from uprising.world import layout as layout_rule
from uprising.world import legitimacy, news, prices, retake, seizure
from uprising.world.layout import Layout

# --- prices ------------------------------------------------------------------------------------

SENSITIVITY = 0.4
ADAPTATION = 60 * 24.0  # hours: the built-in scenario's 60 days
YEAR = 8760


def test_an_overnight_doubling_adds_sensitivity_times_ln2() -> None:
    h = prices.hardship([(-1.0, 60.0), (0.0, 120.0)], 48, SENSITIVITY, ADAPTATION)
    assert h.shape == (48,)
    assert h[0] == pytest.approx(SENSITIVITY * math.log(2), rel=1e-6)
    # Then the reference price creeps up and the hardship fades, slowly.
    assert (np.diff(h) < 0).all()
    assert h[-1] > 0.9 * h[0]


def test_the_same_doubling_over_a_year_adds_far_less() -> None:
    sudden = prices.hardship([(-1.0, 60.0), (0.0, 120.0)], 24, SENSITIVITY, ADAPTATION)
    gradual = prices.hardship([(-YEAR, 60.0), (0.0, 120.0)], 24, SENSITIVITY, ADAPTATION)
    # A linear ramp of slope a through a reference that adapts with time constant tau lags it
    # by a * tau once the ramp has lasted several tau (here 8760 h ~ 6 tau): the gap is
    # ln(p / (p - a * tau)) ~ a * tau / p = (60 / 8760) * 1440 / 120 ~ 0.086, an eighth of ln 2.
    lag = (60.0 / YEAR) * ADAPTATION
    expected = -SENSITIVITY * math.log(1.0 - lag / 120.0)
    assert gradual[0] == pytest.approx(expected, rel=0.05)
    assert gradual[0] < sudden[0] / 4
    assert gradual[0] > 0


def test_a_price_below_the_reference_adds_nothing() -> None:
    cut = prices.hardship([(-1.0, 60.0), (0.0, 30.0)], 48, SENSITIVITY, ADAPTATION)
    assert not cut.any()
    # A cut after a rise: hardship while the price is high, none once it is below the reference.
    back = prices.hardship([(-1.0, 60.0), (0.0, 120.0), (9.0, 120.0), (10.0, 50.0)], 20, 1.0, 100.0)
    assert (back[:10] > 0.5).all()
    assert not back[10:].any()


def test_a_new_price_is_felt_over_felt_hours() -> None:
    at_once = prices.hardship([(-1.0, 60.0), (0.0, 120.0)], 100, SENSITIVITY, ADAPTATION)
    felt = prices.hardship([(-1.0, 60.0), (0.0, 120.0)], 100, SENSITIVITY, ADAPTATION, 24.0)
    assert felt[0] == 0.0  # the hour the price is posted, nobody has paid it yet
    assert (np.diff(felt[:48]) > 0).all()
    assert felt[99] == pytest.approx(at_once[99], rel=0.05)
    # An exponential lag: with a reference that never adapts the gap stays ln 2, and after h hours
    # a share 1 - exp(-h / 24) of it is felt.
    steady = prices.hardship([(-1.0, 60.0), (0.0, 120.0)], 49, 1.0, 1e12, 24.0)
    hours = np.arange(49)
    np.testing.assert_allclose(steady, math.log(2) * -np.expm1(-hours / 24.0), rtol=1e-9)
    # A rise spread over a year is felt as it comes: the felt gap trails the gap by about 24
    # hours of its drift, which after the ramp ends is 0.07% an hour (2% in 24 hours).
    ramp = [(-YEAR, 60.0), (0.0, 120.0)]
    gradual = prices.hardship(ramp, 24, SENSITIVITY, ADAPTATION)
    gradual_felt = prices.hardship(ramp, 24, SENSITIVITY, ADAPTATION, 24.0)
    np.testing.assert_allclose(gradual_felt, gradual, rtol=0.02)


def test_a_steady_price_adds_nothing() -> None:
    assert not prices.hardship([(-100.0, 80.0), (0.0, 80.0)], 10, 1.0, ADAPTATION).any()


def test_a_fast_adaptation_gives_finite_hardship() -> None:
    h = prices.hardship([(-1.0, 60.0), (0.0, 120.0)], 6, 1.0, 0.25)
    assert np.isfinite(h).all()
    assert h[0] == pytest.approx(math.log(2))


# --- news --------------------------------------------------------------------------------------

#               Almaty    Nur-Sultan  Shymkent  Aktau
LAT = np.array([43.2567, 51.1801, 42.3417, 43.6500])
LON = np.array([76.9286, 71.4460, 69.5901, 51.1667])
POPULATION = np.array([2030285.0, 1234042.0, 1112478.0, 251855.0])
REGIONS = ["south", "north", "south", "west"]


def test_almaty_is_about_970_km_from_nur_sultan() -> None:
    d = news.distances_km(LAT, LON)
    assert d[0, 1] == pytest.approx(970.0, abs=50.0)
    np.testing.assert_allclose(d, d.T)
    np.testing.assert_allclose(np.diag(d), 0.0, atol=1e-9)
    assert d[0, 3] > d[0, 2]  # Aktau, on the Caspian, is farther from Almaty than Shymkent


def test_news_weights_are_rows_that_sum_to_one() -> None:
    channels = news.weights(POPULATION, LAT, LON, REGIONS, 0.3, 300.0)
    for w in channels:
        assert w.shape == (4, 4)
        assert (w >= 0).all()
        np.testing.assert_allclose(w.sum(axis=1), 1.0)
    online, offline, network = channels
    # Online: ties within a region count fully, across regions 0.3; bigger sources weigh more.
    assert online[2, 0] > online[2, 1]
    # Offline: nearer cities weigh more.
    assert offline[0, 2] > offline[0, 3]
    assert network[0, 2] == pytest.approx(network[0, 0])
    assert network[0, 1] == pytest.approx(0.3 * network[0, 0])


_RECEIVED = jax.jit(news.received)


def _received(blackout: float, weights: tuple[float, float, float]) -> np.ndarray:
    online, offline, network = news.weights(POPULATION, LAT, LON, REGIONS, 0.3, 300.0)
    history = np.random.default_rng(0).uniform(size=(64, 4)).astype(np.float32)
    out = _RECEIVED(
        jnp.asarray(history),
        jnp.int32(70),
        jnp.full(4, blackout, jnp.float32),
        jnp.asarray(online, jnp.float32),
        jnp.asarray(offline, jnp.float32),
        jnp.asarray(network, jnp.float32),
        jnp.asarray([2, 12, 4], jnp.int32),
        jnp.asarray(weights, jnp.float32),
    )
    return np.asarray(out)


def test_a_total_blackout_leaves_only_offline_and_network_news() -> None:
    w, s = 0.5, 0.3
    dark = _received(1.0, (1.0, w, s))
    np.testing.assert_allclose(dark, _received(0.0, (0.0, w, s)), rtol=1e-6)
    assert (_received(0.0, (1.0, w, s)) > dark + 1e-3).all()  # the online channel carried news
    half = _received(0.5, (1.0, w, s))
    assert (dark < half).all() and (half < _received(0.0, (1.0, w, s))).all()


def test_news_reads_each_channel_at_its_delay() -> None:
    online, offline, network = news.weights(POPULATION, LAT, LON, REGIONS, 0.3, 300.0)
    history = np.zeros((64, 4), np.float32)
    history[(70 - 12) % 64] = [0.2, 0.0, 0.0, 0.0]  # only the offline channel's hour
    out = _RECEIVED(
        jnp.asarray(history),
        jnp.int32(70),
        jnp.zeros(4),
        jnp.asarray(online, jnp.float32),
        jnp.asarray(offline, jnp.float32),
        jnp.asarray(network, jnp.float32),
        jnp.asarray([2, 12, 4], jnp.int32),
        jnp.asarray([1.0, 0.5, 1.0], jnp.float32),
    )
    np.testing.assert_allclose(np.asarray(out), 0.5 * offline[:, 0] * 0.2, rtol=1e-5)


def test_news_lowers_the_perceived_risk() -> None:
    assert float(news.risk_factor(jnp.float32(0.0), jnp.float32(10.0))) == 1.0
    assert float(news.risk_factor(jnp.float32(0.1), jnp.float32(10.0))) == pytest.approx(
        math.exp(-1.0), rel=1e-6
    )


# --- events ------------------------------------------------------------------------------------

NEVER = ev.NEVER
# Two cities. Each row: kind, start, hours, trigger, delay, cities, source, value, count.
ROWS = [
    (ev.BLACKOUT, 5.0, 3.0, NEVER, 0.0, [1.0, 0.0], [0.0, 0.0], 0.6, 0.0),
    (ev.CONCESSION, 2.0, 4.0, NEVER, 0.0, [0.0, 1.0], [0.0, 0.0], 0.05, 0.0),
    (ev.TROOPS, 10.0, 5.0, NEVER, 0.0, [0.75, 0.25], [0.0, 0.0], 0.0, 8.0),
    (ev.TRANSFER, 3.0, NEVER, NEVER, 0.0, [0.0, 1.0], [1.0, 0.0], 0.0, 2.0),
    (ev.EMERGENCY, NEVER, 4.0, 0.2, 3.0, [1.0, 1.0], [0.0, 0.0], 0.5, 0.0),
    (ev.LETHAL, NEVER, NEVER, NEVER, 0.0, [1.0, 1.0], [0.0, 0.0], 1.0, 0.0),  # switched off
]
EMERGENCY_ROW = 4


def _events() -> ev.Events:
    return ev.Events.from_rows(ROWS)


@jax.jit
def _lever_fields(events: ev.Events, start: jax.Array, hour: jax.Array) -> dict[str, jax.Array]:
    lv = ev.levers(events, start, hour)
    names = ("blackout", "boost", "emergency", "lethal", "troops", "transfer")
    return {n: getattr(lv, n) for n in names}


def _levers(hour: int, start: jax.Array | None = None) -> dict[str, np.ndarray]:
    events = _events()
    lv = _lever_fields(events, events.start if start is None else start, jnp.int32(hour))
    return {n: np.asarray(v) for n, v in lv.items()}


@pytest.mark.parametrize(("hour", "expected"), [(4, [0, 0]), (5, [0.6, 0]), (7, [0.6, 0])])
def test_a_blackout_cuts_its_cities_while_it_lasts(hour: int, expected: list[float]) -> None:
    np.testing.assert_allclose(_levers(hour)["blackout"], expected, rtol=1e-6)


def test_a_blackout_ends_after_its_hours() -> None:
    assert not _levers(8)["blackout"].any()


def test_a_concession_boosts_legitimacy_only_in_its_first_hour() -> None:
    boosts = {h: _levers(h)["boost"] for h in range(1, 7)}
    np.testing.assert_allclose(boosts[2], [0.0, 0.05], rtol=1e-6)
    for h in (1, 3, 4, 5, 6):  # before, and the later hours while it is still in force
        assert not boosts[h].any(), h


def test_troops_are_split_by_the_city_weights_while_they_stay() -> None:
    assert not _levers(9)["troops"].any()
    np.testing.assert_allclose(_levers(10)["troops"], [6.0, 2.0])
    np.testing.assert_allclose(_levers(14)["troops"], [6.0, 2.0])
    assert not _levers(15)["troops"].any()


def test_a_transfer_moves_police_from_the_source_to_the_destination() -> None:
    assert not _levers(2)["transfer"].any()
    np.testing.assert_allclose(_levers(3)["transfer"], [-2.0, 2.0])
    np.testing.assert_allclose(_levers(500)["transfer"], [-2.0, 2.0])  # for good


def test_events_that_never_start_do_nothing() -> None:
    for hour in (0, 10, 1000):
        lv = _levers(hour)
        assert not lv["lethal"].any() and not lv["emergency"].any()


def test_a_trigger_fires_once_the_national_share_reaches_it() -> None:
    events = _events()
    start = events.start
    below = ev.fire(events, start, jnp.int32(6), jnp.float32(0.19))
    np.testing.assert_array_equal(np.asarray(below), np.asarray(start))
    fired = np.asarray(ev.fire(events, start, jnp.int32(6), jnp.float32(0.2)))
    expected = np.asarray(start).copy()
    expected[EMERGENCY_ROW] = 6 + 1 + 3  # the next hour, plus the delay
    np.testing.assert_array_equal(fired, expected)
    # Once it has fired it stays put, even if the share rises further later.
    again = ev.fire(events, jnp.asarray(fired), jnp.int32(8), jnp.float32(0.9))
    np.testing.assert_array_equal(np.asarray(again), expected)
    # And the emergency is in force from that start.
    assert not _levers(9, jnp.asarray(fired))["emergency"].any()
    np.testing.assert_allclose(_levers(10, jnp.asarray(fired))["emergency"], [0.5, 0.5])
    assert not _levers(14, jnp.asarray(fired))["emergency"].any()


# --- legitimacy --------------------------------------------------------------------------------


def _legitimacy(
    L: float, detained: float, deaths: float, boost: float, dispersed: float = 0.0
) -> float:
    f = jnp.float32
    seen = legitimacy.Seen(f(detained), f(dispersed), f(deaths))
    return float(
        legitimacy.update(f(L), seen, f(boost), legitimacy.Seen(f(0.01), f(0.002), f(0.1)))
    )


def test_legitimacy_erodes_with_arrests_and_deaths_and_rises_with_boosts() -> None:
    assert _legitimacy(0.8, 0.0, 0.0, 0.0) == pytest.approx(0.8)
    assert _legitimacy(0.8, 2.0, 0.0, 0.0) == pytest.approx(0.78)
    assert _legitimacy(0.8, 0.0, 1.0, 0.0) == pytest.approx(0.7)
    assert _legitimacy(0.5, 0.0, 0.0, 0.1) == pytest.approx(0.6)
    assert _legitimacy(0.8, 0.0, 0.0, 0.0, dispersed=5.0) == pytest.approx(0.79)  # at its own rate


def test_legitimacy_without_dispersals_is_the_old_formula_bit_for_bit() -> None:
    """Scenarios without dispersal must keep their numbers: L - per_arrest a - per_death d, in
    that order, in float32."""
    rng = np.random.default_rng(0)
    for L, a, d in rng.uniform(0, 1, (200, 3)).astype(np.float32):
        old = np.float32(np.float32(L - np.float32(0.01) * a) - np.float32(0.1) * d)
        assert _legitimacy(float(L), float(a), float(d), 0.0) == float(np.clip(old, 0, 1))


def test_legitimacy_stays_within_zero_and_one() -> None:
    assert _legitimacy(0.1, 100.0, 10.0, 0.0) == 0.0
    assert _legitimacy(0.99, 0.0, 0.0, 0.5) == 1.0


# --- seizure -----------------------------------------------------------------------------------


def _grid() -> jax.Array:
    kind = np.full((6, 6), EMPTY, np.uint8)
    kind[2, 3] = kind[3, 3] = kind[3, 4] = ACTIVE  # in the centre (3, 3), radius 1
    kind[4, 3] = COP  # in the centre
    kind[3, 2] = QUIET  # in the centre, not counted
    kind[0, 0] = ACTIVE  # outside
    kind[5, 5] = kind[1, 3] = COP  # outside ((1, 3) is 2 cells from the centre)
    return jnp.asarray(kind.ravel())


def test_centre_counts_actives_and_cops_within_the_radius() -> None:
    for radius, expected in ((1.0, (3, 1, 5)), (2.0, (3, 2, 13))):
        cells = jnp.asarray(seizure.centre_cells((0, 0, 6, 6), 6, radius))
        counts = seizure.centre_counts(_grid(), cells, jnp.zeros_like(cells), 1)
        assert tuple(int(n[0]) for n in counts) == expected
    # A city's centre lies in its own box of a larger grid.
    wide = jnp.zeros((6, 20), jnp.uint8).at[:, 14:].set(_grid().reshape(6, 6)).ravel()
    cells = jnp.asarray(seizure.centre_cells((0, 14, 6, 6), 20, 2.0))
    counts = seizure.centre_counts(wide, cells, jnp.zeros_like(cells), 1)
    assert tuple(int(n[0]) for n in counts) == (3, 2, 13)


@pytest.mark.parametrize(
    ("actives", "cops", "ratio", "min_share", "expected"),
    [
        (3, 1, 3.0, 0.2, True),  # 3 >= 3 * 1 and 3 >= 0.2 * 5
        (3, 1, 4.0, 0.2, False),  # outnumbered too little
        (3, 1, 3.0, 0.8, False),  # too few: 0.8 * 5 = 4 cells needed
        (4, 1, 3.0, 0.8, True),
        (0, 0, 3.0, 0.0, False),  # an empty centre is not held
        (5, 0, math.inf, 0.2, False),  # seizure disabled: ratio inf
    ],
)
def test_a_centre_is_held_with_both_the_ratio_and_the_share(
    actives: int, cops: int, ratio: float, min_share: float, expected: bool
) -> None:
    out = seizure.held(
        jnp.int32(actives),
        jnp.int32(cops),
        jnp.int32(5),
        jnp.float32(ratio),
        jnp.float32(min_share),
    )
    assert bool(out) is expected


# --- defection ---------------------------------------------------------------------------------


def _leaving(
    police_: float, actives: float, legitimacy_: float, force: float | None = None
) -> float:
    out = defection.leaving(
        jnp.float32(police_),
        jnp.float32(police_ if force is None else force),
        jnp.float32(actives),
        jnp.float32(legitimacy_),
        jnp.float32(5.0),
        jnp.float32(0.05),
    )
    return float(out)


def test_no_one_leaves_while_the_odds_hold() -> None:
    assert _leaving(10.0, 0.0, 0.5) == 0.0
    assert _leaving(10.0, 50.0, 0.5) == 0.0  # exactly the odds
    assert _leaving(10.0, 50.0, 0.0) == 0.0


def test_leaving_grows_with_pressure_and_lost_legitimacy() -> None:
    # pressure = actives / police / odds - 1; leaving = police * rate * pressure * (1 - L)
    assert _leaving(10.0, 100.0, 0.5) == pytest.approx(10 * 0.05 * 1.0 * 0.5)
    assert _leaving(10.0, 150.0, 0.5) > _leaving(10.0, 100.0, 0.5)
    assert _leaving(10.0, 100.0, 0.2) > _leaving(10.0, 100.0, 0.5)
    assert _leaving(10.0, 100.0, 1.0) == 0.0
    assert _leaving(10.0, 1e6, 0.0) == pytest.approx(10.0)  # never more than all of them


def test_troops_beside_the_police_relieve_the_pressure() -> None:
    assert _leaving(10.0, 100.0, 0.5, force=20.0) == 0.0
    assert 0.0 < _leaving(10.0, 150.0, 0.5, force=20.0) < _leaving(10.0, 150.0, 0.5)


def test_fled_officers_return_only_when_calm() -> None:
    def back(actives: float) -> float:
        return float(
            defection.returning(
                jnp.float32(4.0),
                jnp.float32(actives),
                jnp.float32(10.0),
                jnp.float32(5.0),
                jnp.float32(0.25),
            )
        )

    assert back(40.0) == pytest.approx(1.0)
    assert back(50.0) == 0.0
    assert back(80.0) == 0.0


# --- lethal force ------------------------------------------------------------------------------


def test_anger_and_fear_fade_and_grow_with_killings() -> None:
    def witnessed(killed: float) -> tuple[float, float]:
        anger, fear = lethal.witnessed(
            jnp.float32(1.0),
            jnp.float32(2.0),
            jnp.float32(killed),
            jnp.float32(0.1),
            jnp.float32(0.5),
            jnp.float32(0.9),
        )
        return float(anger), float(fear)

    assert witnessed(0.0) == pytest.approx((0.9, 1.8))
    assert witnessed(3.0) == pytest.approx((0.9 + 0.3, 1.8 + 1.5))


@pytest.mark.parametrize(("severity", "expected"), [(1.0, 0.405), (5.0, 0.081)])
def test_fear_clears_a_street_that_certain_arrest_cannot(severity: float, expected: float) -> None:
    # No legitimacy (G = H) and cops everywhere with a huge k: P = 1 for every citizen, and cops
    # that never arrest, so one step shows rule A alone. With H, R ~ U(0, 1) and T = 0.1, the
    # share active is P(H - R S > 0.1): 0.405 with S = 1 (Epstein: no certainty of arrest
    # deters these) and 0.405 / 5 = 0.081 with S = 5.
    world = World(40, 40, citizen_density=0.7, cop_density=0.2, rules="paper")
    params = Params.make(legitimacy=0.0, k=50.0, threshold=0.1, arrest_rate=0.0, severity=severity)
    state = init(world, jax.random.key(0))
    _, seen = run(state, params, jax.random.key(1), world, steps=1)
    share = float(seen["active"][0]) / state.n_citizens
    # About 1,120 citizens: a binomial sd of 0.015 at 0.405 and 0.008 at 0.081; 4 sd either way.
    assert abs(share - expected) < 4 * math.sqrt(expected * (1 - expected) / state.n_citizens)


# --- retaking lost cities ----------------------------------------------------------------------


def test_a_city_is_lost_at_the_first_hour_its_centre_is_held_under_an_emergency() -> None:
    never = jnp.full(3, ev.NEVER, jnp.float32)
    held = jnp.array([True, True, False])
    emergency = jnp.array([0.5, 0.0, 0.5])
    lost_at = retake.lost(never, held, emergency, jnp.int32(7))
    np.testing.assert_array_equal(lost_at, [7.0, ev.NEVER, ev.NEVER])  # held, but no emergency
    # Later hours keep the first, held or not.
    again = retake.lost(lost_at, jnp.array([True, True, True]), jnp.full(3, 0.5), jnp.int32(9))
    np.testing.assert_array_equal(again, [7.0, 9.0, 9.0])


def test_forces_arrive_after_the_delay_and_stay_while_the_emergency_lasts() -> None:
    lost_at = jnp.array([10.0, ev.NEVER], jnp.float32)
    forces = jnp.array([4.0, 4.0], jnp.float32)

    def sent(hour: int, emergency: float) -> np.ndarray:
        em = jnp.full(2, emergency, jnp.float32)
        return np.asarray(retake.sent(lost_at, jnp.int32(hour), em, forces, jnp.float32(6.0)))

    np.testing.assert_array_equal(sent(15, 0.5), [0.0, 0.0])
    np.testing.assert_array_equal(sent(16, 0.5), [4.0, 0.0])  # never lost: never sent
    np.testing.assert_array_equal(sent(400, 0.5), [4.0, 0.0])
    np.testing.assert_array_equal(sent(400, 0.0), [0.0, 0.0])  # the emergency is over


# --- dispersal ---------------------------------------------------------------------------------

DRAWS = 100_000


def _sentences(detain_share: float, lethality: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    params = Params.make(
        max_jail=720, lethality=lethality, detain_share=detain_share, dispersal_hours=12
    )
    stream = engine_random.stream(jax.random.key(3))
    term = lethal.sentence(engine_random.fold(stream, 1), (DRAWS,), params, RULES["paper"])
    after, detained = dispersal.disperse(
        engine_random.fold(stream, 2), term, params, RULES["paper"]
    )
    return np.asarray(after), np.asarray(detained)


def test_a_share_of_arrests_detains_and_the_rest_go_away_for_hours() -> None:
    term, detained = _sentences(detain_share=0.25)
    # Binomial: sd = sqrt(0.25 * 0.75 / 1e5) = 0.0014; 5 sd is 0.007.
    assert abs(detained.mean() - 0.25) < 0.007
    assert (term[~detained] <= 12).all() and (term[~detained] >= 0).all()
    # Only detentions kill: deaths per detention stay the lethal-force share (0.1, sd 0.0019).
    assert not (term[~detained] == DEAD).any()
    assert abs((term[detained] == DEAD).mean() - 0.1) < 0.01
    # Detention terms are those of Epstein's rule: up to Jmax, long beside a dispersal.
    assert term[detained & (term != DEAD)].max() > 700


def test_with_every_arrest_a_detention_dispersal_changes_nothing() -> None:
    params = Params.make(max_jail=720, lethality=0.1)
    stream = engine_random.stream(jax.random.key(3))
    term = lethal.sentence(engine_random.fold(stream, 1), (DRAWS,), params, RULES["paper"])
    after, detained = _sentences(detain_share=1.0)
    assert detained.all()
    np.testing.assert_array_equal(after, np.asarray(term))


# --- police on the grid ------------------------------------------------------------------------

SMALL = World(
    height=10, width=10, citizen_density=0.5, cop_density=0.1, citizen_vision=2, cop_vision=2
)


def _check_grid(state: State, cells: int) -> None:
    kind, occupant, pos = (np.asarray(a) for a in (state.kind, state.occupant, state.pos))
    n_cit = state.n_citizens
    cop_pos = pos[n_cit:]
    assert (kind == COP).sum() == (cop_pos >= 0).sum()
    on = np.flatnonzero(pos >= 0)
    assert (pos[on] < cells).all()
    assert (occupant[pos[on]] == on).all()
    taken = np.flatnonzero(occupant >= 0)
    assert (pos[occupant[taken]] == taken).all()
    assert ((kind != EMPTY) == (occupant >= 0)).all()
    assert (kind[cop_pos[cop_pos >= 0]] == COP).all()


_STATION = jax.jit(police.station, static_argnames="world")


@pytest.fixture(scope="module")
def small() -> State:
    """50 citizens and 10 of 20 cop slots on the grid (compiled whole: faster than op by op)."""
    return jax.jit(init, static_argnums=0, static_argnames="cops_cap")(
        SMALL, jax.random.key(0), cops_cap=20
    )


def _station(state: State, target: int, seed: int) -> State:
    stream = engine_random.stream(jax.random.key(seed))
    return _STATION(state, jnp.int32(target), SMALL, stream)


def test_the_small_world_starts_consistent(small: State) -> None:
    state = small
    _check_grid(state, SMALL.cells)
    cop_pos = np.asarray(state.pos)[state.n_citizens :]
    assert (cop_pos[:10] >= 0).all() and (cop_pos[10:] < 0).all()


def test_a_lower_target_withdraws_the_highest_ranked_cops(small: State) -> None:
    state = small
    before = np.asarray(state.pos)[state.n_citizens :]
    after = _station(state, 6, 1)
    _check_grid(after, SMALL.cells)
    cop_pos = np.asarray(after.pos)[after.n_citizens :]
    np.testing.assert_array_equal(cop_pos[:6], before[:6])  # the lowest ranks stay where they were
    assert (cop_pos[6:] < 0).all()
    kind = np.asarray(after.kind)
    assert (kind[before[6:10]] == EMPTY).all()
    assert (kind == COP).sum() == 6
    # Citizens untouched.
    n = state.n_citizens
    np.testing.assert_array_equal(np.asarray(after.pos)[:n], np.asarray(state.pos)[:n])


def test_a_higher_target_deploys_absent_cops_onto_empty_cells_only(small: State) -> None:
    state = small
    n = state.n_citizens
    before = np.asarray(state.pos)[n:]
    for seed in range(1, 30):
        kind_before = np.asarray(state.kind)
        state = _station(state, 16, seed)
        _check_grid(state, SMALL.cells)
        cop_pos = np.asarray(state.pos)[n:]
        np.testing.assert_array_equal(cop_pos[:10], before[:10])  # those present stay
        assert (cop_pos[16:] < 0).all()  # none beyond the target
        arrived = cop_pos[(cop_pos >= 0) & (before < 0)]  # those that arrived in this call
        assert (kind_before[arrived] == EMPTY).all()
        before = np.where(cop_pos >= 0, cop_pos, before)
        if (cop_pos[:16] >= 0).all():
            break
    assert (np.asarray(state.pos)[n : n + 16] >= 0).all(), "all 16 deployed within 29 steps"
    assert (np.asarray(state.kind) == COP).sum() == 16
    assert (np.asarray(state.kind) == QUIET).sum() == 50  # no citizen displaced


# --- layout ------------------------------------------------------------------------------------

CITIZENS = [100, 30, 7]
COPS = [5, 2, 1]
DENSITY = 0.7


def test_plan_gives_each_city_room_for_its_citizens() -> None:
    layout = Layout.plan(CITIZENS, DENSITY, 3, [10, 4, 2])
    for h, w, n in zip(layout.heights, layout.widths, CITIZENS, strict=True):
        assert h * w >= n / DENSITY
        assert h * w < n / DENSITY + h + 1  # as small as a rectangle of height h allows
        assert h <= w <= h + 2  # about square
    assert layout.cop_slots == (10, 4, 2)


@pytest.mark.parametrize("citizens", [CITIZENS, [5000, 3000] + [100] * 19, [1] * 5])
def test_plan_keeps_a_vision_of_wall_between_cities_and_round_the_torus(citizens) -> None:
    margin = 7
    layout = Layout.plan(citizens, DENSITY, margin, [1] * len(citizens))
    taken = np.zeros((layout.height, layout.width), int)
    for y0, x0, h, w in layout.boxes:
        # the box and the margin to its right and below it lie inside the grid (no wrapping)
        assert y0 + h + margin <= layout.height and x0 + w + margin <= layout.width
        taken[y0 : y0 + h + margin, x0 : x0 + w + margin] += 1
    assert taken.max() == 1  # no two cities within a vision of each other
    assert layout.cells < 4 * sum(citizens) / DENSITY + 2 * margin * (layout.height + layout.width)


def test_init_walls_outside_each_city_and_the_right_agents_inside() -> None:
    layout = Layout.plan(CITIZENS, DENSITY, 3, [10, 4, 2])
    state = layout_rule.init(layout, COPS, jax.random.key(0))
    kind = np.asarray(state.kind)
    pos, region = np.asarray(state.pos), np.asarray(state.region)
    occupant = np.asarray(state.occupant)
    inside_any = np.zeros(layout.cells, bool)
    for c in range(len(CITIZENS)):
        inside = layout.cells_of(c)
        inside_any[inside] = True
        assert (kind[inside] != WALL).all()
        assert (kind[inside] == QUIET).sum() == CITIZENS[c]
        assert (kind[inside] == COP).sum() == COPS[c]
        mine = np.flatnonzero((region == c) & (pos >= 0))
        assert len(mine) == CITIZENS[c] + COPS[c]
        assert np.isin(pos[mine], inside).all()  # every agent of the city stands in its box
        assert (occupant[pos[mine]] == mine).all()
    assert (kind[~inside_any] == WALL).all()
    assert np.bincount(region, minlength=3).tolist() == [100 + 10, 30 + 4, 7 + 2]
    np.testing.assert_array_equal(np.asarray(state.cops0), COPS)
    np.testing.assert_array_equal(np.asarray(state.boxes), layout.boxes)


def test_each_city_of_a_packed_grid_acts_on_its_own_parameters() -> None:
    """Two cities of one grid, alike but for legitimacy: only the illegitimate one rises, its
    arrests and killings are counted to it, each city gets its own police, and no one leaves
    their own city. A parameter read from the wrong city, or a count put to the wrong one, fails.
    """
    from dataclasses import replace

    from uprising.engine.params import Schedule
    from uprising.engine.step import observe, step

    layout = Layout.plan([300, 300], DENSITY, 7, [30, 30])
    state = layout_rule.init(layout, [20, 20], jax.random.key(1))
    world = World(
        height=layout.height,
        width=layout.width,
        citizen_density=600 / layout.cells,
        cop_density=60 / layout.cells,
        rules="paper",
    )
    both = lambda value: jnp.full(2, value, jnp.float32)  # noqa: E731
    params = replace(
        Params.make(),
        legitimacy=Schedule(jnp.zeros(1), jnp.asarray([[0.0, 0.95]])),
        **{name: both(getattr(Params.make(lethality=0.5), name)) for name in PER_REGION},
    )
    cops = jnp.asarray([25, 10], jnp.int32)  # five more in the first city, ten fewer in the second
    one = jax.jit(lambda s, k: step(s, params, k, world, cops=cops))
    for t in range(20):
        state = one(state, jax.random.key(100 + t))
    seen = {name: np.asarray(v) for name, v in observe(state).items()}
    assert seen["active"][0] + seen["jailed"][0] + seen["dead"][0] > 30
    assert seen["active"][1] == seen["jailed"][1] == seen["dead"][1] == 0
    arrests, deaths = np.asarray(state.arrests), np.asarray(state.deaths)
    assert arrests[0] > 0 and deaths[0] > 0 and arrests[1] == deaths[1] == 0
    assert seen["cops"].tolist() == [25, 10]
    pos, region = np.asarray(state.pos), np.asarray(state.region)
    for c in range(2):
        assert np.isin(pos[(region == c) & (pos >= 0)], layout.cells_of(c)).all()


def test_init_refuses_a_city_too_small_for_its_people() -> None:
    layout = Layout.plan(CITIZENS, DENSITY, 3, [10, 4, 200])
    with pytest.raises(ValueError, match="do not fit"):
        layout_rule.init(layout, [5, 2, 100], jax.random.key(0))
