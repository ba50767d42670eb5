"""Country scenarios: the built-in loads with its variants, bad files are refused naming the key,
overrides reach any value, and every mechanism can be switched off to a neutral setting."""

from __future__ import annotations

import math
import re
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from uprising.scenarios import country as country_module
from uprising.scenarios.compile import Compiled, compile_country
from uprising.scenarios.country import CountryScenario, Mechanisms
from uprising.scenarios.load import ScenarioError, load_scenario
from uprising.world import events as events_rule
from uprising.world import prices

NAME = "kazakhstan-2022"
VARIANTS = (
    "no-csto",
    "no-blackout",
    "no-concession",
    "gradual-price",
    "horizontal-networks",
    "no-lethal-force",
)
COARSE = {"people_per_agent": 400}
"""Few agents per city (about 1,000 in all): compiling is then a matter of milliseconds."""


def _text() -> str:
    return (resources.files("uprising.scenarios") / "builtin" / f"{NAME}.toml").read_text()


def _country(
    overrides: dict[str, Any] | None = None, variant: str | None = None
) -> CountryScenario:
    scenario = load_scenario(NAME, overrides=overrides, variant=variant)
    assert isinstance(scenario, CountryScenario)
    return scenario


def _coarse(**overrides: Any) -> tuple[CountryScenario, Compiled]:
    scenario = _country({**COARSE, **overrides})
    return scenario, compile_country(scenario)


# --- the built-in scenario and its variants -------------------------------------------------


def test_builtin_loads_with_its_cities_and_capital() -> None:
    scenario = _country()
    names = [c.name for c in scenario.cities]
    assert len(names) == 21
    assert scenario.capital == "Nur-Sultan"
    assert {"Almaty", "Nur-Sultan", "Zhanaozen", "Aktau"} <= set(names)
    assert sorted(scenario.variants) == sorted(VARIANTS)


def test_a_run_at_another_scale_than_the_fit_is_flagged() -> None:
    base = _country()
    assert base.calibrated_people_per_agent == base.people_per_agent == 40
    assert base.scale_note() is None
    assert _country(variant="no-csto").scale_note() is None  # variants keep the scale
    note = _country(COARSE).scale_note()
    assert note is not None and "people_per_agent = 40" in note and "at 400" in note
    # The fitted scale is a note about the model, not part of it: runs keep their hash.
    unfitted = base.model_copy(update={"calibrated_people_per_agent": None})
    assert unfitted.digest() == base.digest() and unfitted.scale_note() is None
    # Finer than the fit: salience keeps the fitted perception; without it, a warning.
    assert _country({"people_per_agent": 10}).scale_note() is None
    assert _country({"people_per_agent": 5}).scale_note() is None
    assert _country({"people_per_agent": 2}).scale_note() is None
    assert "at 1 it is not settled" in str(_country({"people_per_agent": 1}).scale_note())
    off = _country({"people_per_agent": 10, "mechanisms.salience.enabled": False})
    assert "at 10" in str(off.scale_note())


def test_salience_widens_vision_and_samples_cells_only_below_its_scale() -> None:
    # A draw lasts 12 x the share hours, rounded half up, at least 1.
    for per, vision, share, hours in [
        (40, 7.0, 1.0, 1),
        (400, 7.0, 1.0, 1),
        (20, 7 * 2**0.5, 0.5, 6),
        (10, 14.0, 0.25, 3),
        (5, 7 * 8**0.5, 0.125, 2),
        (1, 7 * 40**0.5, 1 / 40, 1),
    ]:
        world = compile_country(_country({"people_per_agent": per})).world
        assert world.citizen_vision == pytest.approx(vision)
        assert world.cop_vision == pytest.approx(vision)
        assert world.salience == pytest.approx(share)
        assert world.salience_steps == hours
    off = _country({"people_per_agent": 10, "mechanisms.salience.enabled": False})
    assert compile_country(off).world.salience == 1.0
    assert compile_country(off).world.citizen_vision == 7.0


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_variant_loads_and_differs_from_the_base(variant: str) -> None:
    base = _country()
    changed = _country(variant=variant)
    assert changed.name == f"{NAME}/{variant}"
    assert changed.variants == {}
    assert changed.digest() != base.digest()


def test_variants_change_what_they_say() -> None:
    base_ids = [e.id for e in _country().events]
    no_csto = _country(variant="no-csto").events
    assert [e.id for e in no_csto] == base_ids  # switched off, not deleted: runs stay paired
    assert {e.id for e in no_csto if not e.enabled} == {"csto-almaty", "csto-rest"}
    assert not _country(variant="no-blackout").mechanisms.blackout.enabled
    assert not _country(variant="no-lethal-force").mechanisms.lethal_force.enabled
    assert _country(variant="horizontal-networks").mechanisms.networks.share == 0.3
    gradual = _country(variant="gradual-price").mechanisms.prices.schedules["mangystau"]
    assert gradual[0][0].year == 2021 and gradual[0][0].month == 1


def test_an_unknown_variant_names_the_allowed_ones() -> None:
    with pytest.raises(ScenarioError) as error:
        load_scenario(NAME, variant="no-internet")
    message = str(error.value)
    assert "no-internet" in message
    assert "allowed" in message
    for variant in VARIANTS:
        assert variant in message


# --- malformed files ---------------------------------------------------------------------------

SHOOT = "start = 2022-01-07T00:00:00\nnote = \"'Shoot"

BROKEN = [
    pytest.param(
        "population = 2030285",
        'population = "many"',
        ["cities.0.population", '"many"'],
        id="wrong-type",
    ),
    pytest.param(
        'capital = "Nur-Sultan"\n',
        'capital = "Nur-Sultan"\ncolour = "red"\n',
        ["colour", "Extra inputs", '"red"'],
        id="unknown-top-level-key",
    ),
    pytest.param(
        "[mechanisms.news]\neffect = 10.0\n",
        "[mechanisms.news]\neffect = 10.0\nspeed = 3.0\n",
        ["mechanisms.news.speed", "3.0"],
        id="unknown-mechanism-key",
    ),
    pytest.param(
        'cities = ["Zhanaozen"]',
        'cities = ["Atlantis"]',
        ["events[0]", "zhanaozen-disruption", "'Atlantis'", "allowed: Almaty"],
        id="unknown-event-city",
    ),
    pytest.param(
        'source = "Nur-Sultan"',
        'source = "Gotham"',
        ["anti-terror-forces", "'Gotham'", "allowed: Almaty"],
        id="unknown-transfer-source",
    ),
    pytest.param(
        "start = 2022-01-02T00:00:00",
        "start = 2021-12-25T00:00:00",
        ["events[0]", "start 2021-12-25", "outside the calendar", "2022-01-01", "2022-01-20"],
        id="event-start-outside-calendar",
    ),
    pytest.param(
        "count = 1500",
        "count = -5",
        ["events.10.count", "greater than or equal to 0", "-5"],
        id="negative-troops-count",
    ),
    pytest.param(
        "police = 7530",
        "police = -1",
        ["cities.0.police", "greater than or equal to 0", "-1"],
        id="negative-police",
    ),
    pytest.param(
        "end = 2022-01-11T00:00:00",
        "end = 2022-01-01T12:00:00",
        ["events.0", "zhanaozen-disruption", "2022-01-01 12:00:00", "before it starts"],
        id="end-before-start",
    ),
    pytest.param(
        SHOOT,
        SHOOT.replace("\nnote", "\ntrigger = { active_share = 0.1 }\nnote"),
        ["events.12", "shoot-to-kill", "exactly one of start or trigger"],
        id="start-and-trigger",
    ),
    pytest.param(
        "value = 0.95",
        "value = 1.5",
        ["events.6", "blackout-total", "1.5", "[0, 1]"],
        id="blackout-above-one",
    ),
    pytest.param(
        'name = "Ekibastuz"',
        'name = "Temirtau"',
        ["cities", "more than once", "Temirtau"],
        id="duplicate-city",
    ),
    pytest.param(
        'id = "resignation"',
        'id = "concession-mangystau"',
        ["event ids used more than once", "concession-mangystau"],
        id="duplicate-event-id",
    ),
    pytest.param(
        'capital = "Nur-Sultan"',
        'capital = "Astana"',
        ["capital 'Astana' is not a city", "allowed: Almaty"],
        id="capital-not-a-city",
    ),
    pytest.param(
        'price_region = "almaty"',
        'price_region = "highlands"',
        ["mechanisms.prices.schedules", "'highlands'", "'almaty'"],
        id="price-region-without-schedule",
    ),
    pytest.param(
        'kind = "lethal_force"',
        'kind = "coup"',
        ["events.12.kind", '"coup"', "'lethal_force'"],
        id="unknown-event-kind",
    ),
    pytest.param(
        'remove_events = ["csto-almaty", "csto-rest"]',
        'remove_events = ["csto-almaty", "csto-everywhere"]',
        ["variants.no-csto.remove_events", "csto-everywhere", "allowed"],
        id="variant-removes-unknown-event",
    ),
    pytest.param(
        "[variants.horizontal-networks]\nmechanisms = { networks = { share = 0.3 } }",
        "[variants.horizontal-networks]\nmechanisms = { networks = { size = 0.3 } }",
        ["variants.horizontal-networks.mechanisms.networks.size", "allowed", "share"],
        id="variant-unknown-key",
    ),
    pytest.param(
        "police = 7530",
        "police = 5000000",
        ["cities.Almaty", "allowed: at most"],
        id="too-many-police-for-the-grid",
    ),
    pytest.param(
        'cities = ["Almaty"]\ncount = 1500',
        "cities = []\ncount = 1500",
        ["csto-almaty", "cities"],
        id="troops-without-cities",
    ),
    pytest.param(
        "shares = [0.7, 0.3]",
        "shares = [0.0, 0.0]",
        ["csto-rest", "shares"],
        id="troops-with-zero-shares",
    ),
    pytest.param(
        "\npeople_per_agent = 40",
        "\npeople_per_agent = 1",
        ["people_per_agent = 1 ", "GiB", "allowed: people_per_agent >= "],
        id="people-per-agent-too-fine",
    ),
]

SMALL_MACHINE = 16 * 2**20
"""Memory of the machine the files are checked for: people_per_agent = 1 would take about 20 MiB
(the grids hold 2% of the residents, II.7.14 of docs/model.md)."""


def _write_broken(tmp_path: Path, old: str, new: str) -> Path:
    text = _text()
    assert text.count(old) == 1, f"{old!r} should occur once in the built-in scenario"
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new))
    return path


def _small_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(country_module, "memory_bytes", lambda: SMALL_MACHINE)


def test_the_unchanged_text_loads_from_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_machine(monkeypatch)
    path = tmp_path / "fine.toml"
    path.write_text(_text())
    assert load_scenario(path).digest() == _country().digest()


@pytest.mark.parametrize(("old", "new", "expected"), BROKEN)
def test_a_malformed_file_is_refused_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str, expected: list[str]
) -> None:
    _small_machine(monkeypatch)
    path = _write_broken(tmp_path, old, new)
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    message = str(error.value)
    for part in expected:
        assert part in message, f"{part!r} not in:\n{message}"


def test_the_people_per_agent_it_allows_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_machine(monkeypatch)
    path = _write_broken(tmp_path, "\npeople_per_agent = 40", "\npeople_per_agent = 1")
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    allowed = int(re.search(r"allowed: people_per_agent >= (\d+)", str(error.value)).group(1))
    assert allowed > 1
    fine = tmp_path / "fine.toml"
    fine.write_text(_text())
    assert load_scenario(fine, {"people_per_agent": allowed}).people_per_agent == allowed
    with pytest.raises(ScenarioError, match="people_per_agent"):
        load_scenario(fine, {"people_per_agent": allowed - 1})


def test_a_transfer_to_several_cities_moves_its_count_in_all(
    tmp_path: Path,
) -> None:
    path = _write_broken(
        tmp_path,
        'source = "Nur-Sultan"\ncities = ["Almaty"]',
        'source = "Nur-Sultan"\ncities = ["Almaty", "Shymkent"]',
    )
    scenario = load_scenario(path, COARSE)
    compiled = compile_country(scenario)
    transfer = [e.id for e in scenario.events].index("anti-terror-forces")
    start = np.asarray(compiled.country.events.start)
    hour = np.int32(math.ceil(start[transfer]))
    moved = np.asarray(events_rule.levers(compiled.country.events, start, hour).transfer)
    names = [c.name for c in scenario.cities]
    assert moved[names.index("Nur-Sultan")] < 0
    assert moved.sum() == pytest.approx(0.0, abs=1e-5)


# --- overrides (--set) -------------------------------------------------------------------------


def test_an_override_changes_a_mechanism_value() -> None:
    assert _country().mechanisms.news.effect == 10.0
    changed = _country({"mechanisms.news.effect": 3.5})
    assert changed.mechanisms.news.effect == 3.5
    assert changed.digest() != _country().digest()


def test_an_override_reaches_a_city_by_name() -> None:
    base = {c.name: c.police for c in _country().cities}
    changed = {c.name: c.police for c in _country({"cities.Almaty.police": 9000}).cities}
    assert base["Almaty"] == 7530 and changed["Almaty"] == 9000
    assert {n: p for n, p in changed.items() if n != "Almaty"} == {
        n: p for n, p in base.items() if n != "Almaty"
    }


def test_an_override_reaches_an_event_by_id() -> None:
    changed = _country({"events.csto-almaty.count": 2000})
    assert {e.id: e.count for e in changed.events}["csto-almaty"] == 2000


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("mechanisms.news.speed", ["'speed'", "allowed", "effect", "online_weight"]),
        ("colour", ["'colour'", "allowed", "people_per_agent"]),
        ("cities.Atlantis.police", ["'Atlantis'", "allowed", "Almaty", "Zhanaozen"]),
        ("cities.Almaty.height", ["'height'", "allowed", "police", "population"]),
    ],
)
def test_an_unknown_override_key_names_the_allowed_keys(key: str, expected: list[str]) -> None:
    with pytest.raises(ScenarioError) as error:
        load_scenario(NAME, overrides={key: 1})
    message = str(error.value)
    for part in expected:
        assert part in message, f"{part!r} not in:\n{message}"


def test_an_override_with_a_bad_value_is_refused() -> None:
    with pytest.raises(ScenarioError) as error:
        load_scenario(NAME, overrides={"cities.Almaty.police": -3})
    assert "cities.0.police" in str(error.value) and "-3" in str(error.value)


# --- every mechanism can be switched off -------------------------------------------------------

MECHANISMS = sorted(Mechanisms.model_fields)


def test_every_mechanism_block_has_enabled() -> None:
    mechanisms = _country().mechanisms
    assert len(MECHANISMS) >= 11
    for name in MECHANISMS:
        block = getattr(mechanisms, name)
        assert type(block).model_fields["enabled"].annotation is bool, name
        assert block.enabled, f"{name} is on in the built-in scenario"


def _kinds_never_start(compiled: Compiled, kinds: tuple[str, ...]) -> np.ndarray:
    """Whether each event of these kinds never starts (and that there is at least one)."""
    events = compiled.country.events
    mine = np.isin(np.asarray(events.kind), [events_rule.KINDS.index(k) for k in kinds])
    assert mine.any()
    never = (np.asarray(events.start) >= events_rule.NEVER) & (
        np.asarray(events.trigger) >= events_rule.NEVER
    )
    return never[mine]


def _others_unchanged(on: Compiled, off: Compiled, kinds: tuple[str, ...]) -> None:
    other = ~np.isin(
        np.asarray(on.country.events.kind), [events_rule.KINDS.index(k) for k in kinds]
    )
    np.testing.assert_array_equal(
        np.asarray(on.country.events.start)[other], np.asarray(off.country.events.start)[other]
    )


def _zhanaozen(scenario: CountryScenario) -> int:
    return [c.name for c in scenario.cities].index("Zhanaozen")


def _price_part(scenario: CountryScenario, compiled: Compiled, city: int) -> np.ndarray:
    m, cal = scenario.mechanisms.prices, compiled.calendar
    region = scenario.cities[city].price_region
    points = [(cal.hour(t), p) for t, p in m.schedules[region]]
    return prices.hardship(
        points, cal.hours, m.sensitivity[region], m.adaptation_days * 24.0, m.felt_hours
    )


def _neutral(name: str, scenario: CountryScenario, on: Compiled, off: Compiled) -> None:
    """`off` is `on` with mechanism `name` disabled: check it is neutral (and `on` is not)."""
    c_on, c_off = on.country, off.country
    if name == "prices":
        memory = np.asarray([c.memory for c in scenario.cities], np.float32)
        assert not np.allclose(np.asarray(c_on.hardship), memory[None, :])
        np.testing.assert_allclose(
            np.asarray(c_off.hardship), np.broadcast_to(memory, c_off.hardship.shape)
        )
    elif name == "memory":
        z = _zhanaozen(scenario)
        price = _price_part(scenario, on, z)
        assert price.max() > 0.5
        memory = scenario.cities[z].memory
        assert memory > 0
        np.testing.assert_allclose(np.asarray(c_on.hardship)[:, z], price + memory, atol=1e-6)
        np.testing.assert_allclose(np.asarray(c_off.hardship)[:, z], price, atol=1e-6)
    elif name == "participation":
        share = scenario.mechanisms.participation.share
        assert share < 1
        population = np.asarray([c.population for c in scenario.cities])
        per = scenario.people_per_agent
        everyone = np.maximum(1, np.round(population / per))
        np.testing.assert_array_equal(np.asarray(c_off.citizens), everyone)
        np.testing.assert_array_equal(
            np.asarray(c_on.citizens), np.maximum(1, np.round(population * share / per))
        )
        # Police, transfers and troops come to the grid in the same proportion.
        np.testing.assert_allclose(
            np.asarray(c_on.events.count), share * np.asarray(c_off.events.count), rtol=1e-6
        )
        assert sum(on.police) < sum(off.police)
    elif name == "legitimacy":
        erosion = ("per_arrest", "per_dispersal", "per_death")
        assert all(float(getattr(c_on, e)) > 0 for e in erosion)
        assert all(float(getattr(c_off, e)) == 0.0 for e in erosion)
    elif name == "news":
        assert float(c_on.news_effect) == 10.0
        assert float(c_off.news_effect) == 0.0
    elif name == "networks":
        # The built-in has no networks (share 0): the share must stay 0 when disabled.
        assert float(c_off.channels[2]) == 0.0
        assert float(c_off.channels[0]) == float(c_on.channels[0]) > 0
    elif name == "defection":
        assert float(c_on.flight_rate) == pytest.approx(0.05)
        assert float(c_off.flight_rate) == 0.0
    elif name == "seizure":
        assert float(c_on.held_ratio) == 3.0
        assert math.isinf(float(c_off.held_ratio))
    elif name == "lethal_force":
        assert float(c_on.kill_share) == pytest.approx(0.02)
        assert float(c_off.kill_share) == 0.0
        assert not _kinds_never_start(on, ("lethal_force",)).any()
        assert _kinds_never_start(off, ("lethal_force",)).all()
        _others_unchanged(on, off, ("lethal_force",))
    elif name in ("troops", "blackout", "levers"):
        kinds = {
            "troops": ("troops",),
            "blackout": ("blackout",),
            "levers": ("concession", "resignation", "emergency", "transfer"),
        }[name]
        assert not _kinds_never_start(on, kinds).any()
        assert _kinds_never_start(off, kinds).all()
        _others_unchanged(on, off, kinds)
    elif name == "dispersal":
        # The built-in detains every arrest; a scenario that disperses detains all when off.
        shares = {"mechanisms.dispersal.detain_share": 0.2}
        shares["mechanisms.dispersal.emergency_detain_share"] = 0.3
        _, dispersing = _coarse(**shares)
        _, switched = _coarse(**shares, **{"mechanisms.dispersal.enabled": False})
        assert float(dispersing.country.detain_share) == pytest.approx(0.2)
        assert float(dispersing.country.emergency_detain_share) == pytest.approx(0.3)
        for c in (c_on, c_off, switched.country):
            assert float(c.detain_share) == float(c.emergency_detain_share) == 1.0
    elif name == "salience":
        # Coarser than its scale (here 400 against 40) it is neutral either way; off, it is
        # neutral at every scale (finer scales: test_salience_widens_vision_and_samples_cells...).
        assert on.world == off.world and off.world.salience == 1.0
    else:  # a new mechanism: add what its neutral setting is
        pytest.fail(f"no neutral check for mechanism {name!r}")


@pytest.mark.parametrize("name", MECHANISMS)
def test_a_disabled_mechanism_compiles_to_its_neutral_setting(name: str) -> None:
    scenario, on = _coarse()
    off_scenario, off = _coarse(**{f"mechanisms.{name}.enabled": False})
    assert not getattr(off_scenario.mechanisms, name).enabled
    _neutral(name, scenario, on, off)


def test_forces_to_retake_cities_follow_population_and_keep_their_slots_when_off() -> None:
    retake = {"mechanisms.levers.retake_per_10k": 40.0}
    scenario, on = _coarse(**retake)
    _, off = _coarse(**retake, **{"mechanisms.levers.enabled": False})
    _, none = _coarse()
    population = np.asarray([c.population for c in scenario.cities])
    visible = scenario.epstein.police_visibility * scenario.mechanisms.participation.share
    expected = population * 40.0 / 1e4 * visible / scenario.people_per_agent
    np.testing.assert_allclose(np.asarray(on.country.retake_forces), expected, rtol=1e-6)
    assert not np.asarray(off.country.retake_forces).any()
    assert not np.asarray(none.country.retake_forces).any()  # the built-in sends none
    slots = [np.asarray(c.country.cop_slots) for c in (off, on, none)]
    np.testing.assert_array_equal(slots[0], slots[1])  # a variant keeps its base's shapes
    assert (slots[1] >= slots[2]).all() and slots[1].sum() > slots[2].sum()


def test_disabled_networks_carry_no_news_even_with_a_share() -> None:
    with_networks = _country(COARSE, variant="horizontal-networks")
    assert float(compile_country(with_networks).country.channels[2]) == pytest.approx(0.3)
    off = _country({**COARSE, "mechanisms.networks.enabled": False}, variant="horizontal-networks")
    assert off.mechanisms.networks.share == 0.3
    assert float(compile_country(off).country.channels[2]) == 0.0


def test_without_prices_and_memory_there_is_no_hardship() -> None:
    _, off = _coarse(**{"mechanisms.prices.enabled": False, "mechanisms.memory.enabled": False})
    assert not np.asarray(off.country.hardship).any()
