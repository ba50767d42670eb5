"""Scored runs (`uprising compare`): kept as they finish, resumed, and the same side by side."""

from __future__ import annotations

from datetime import datetime

import pytest
from typer.testing import CliRunner

from uprising.cli import app
from uprising.run import cores, scored
from uprising.scenarios.country import CountryScenario
from uprising.scenarios.load import load_scenario, scenario_folder
from uprising.scenarios.observed import load_observed

SHORT = {"people_per_agent": 400, "end": datetime(2022, 1, 11)}
"""About 470 agents over the ten days of the scenario's events: a second a run once compiled."""


@pytest.fixture(scope="module")
def setup():
    spec = load_scenario("kazakhstan-2022", SHORT)
    assert isinstance(spec, CountryScenario) and spec.observed
    folder = scenario_folder(spec, "kazakhstan-2022")
    return spec, load_observed(folder / spec.observed, [c.name for c in spec.cities])


def test_an_interrupted_compare_keeps_its_finished_runs_and_resumes(
    setup, tmp_path, monkeypatch
) -> None:
    spec, observed = setup
    record = scored.Record(tmp_path, spec, observed)
    real = scored.simulate_country

    def fails_at_seed_2(spec, seed, **kw):
        if seed == 2:
            raise KeyboardInterrupt
        return real(spec, seed=seed, **kw)

    monkeypatch.setattr(scored, "simulate_country", fails_at_seed_2)
    with pytest.raises(KeyboardInterrupt):
        scored.scored_runs(spec, observed, [0, 1, 2, 3], record)
    kept = record.load()
    assert sorted(kept) == [0, 1]
    # An interruption while a line was written leaves half a line: it is skipped.
    with record.path.open("a") as f:
        f.write('{"seed": 2, "resu')

    ran = []

    def counted(spec, seed, **kw):
        ran.append(seed)
        return real(spec, seed=seed, **kw)

    monkeypatch.setattr(scored, "simulate_country", counted)
    results = scored.scored_runs(spec, observed, [0, 1, 2, 3], record)
    assert ran == [2, 3]
    assert results[:2] == [kept[0], kept[1]]
    # Taken from the record or run afresh, a run's comparison is the same.
    fresh = scored.scored_runs(spec, observed, [0, 1])
    assert fresh == results[:2]


def test_a_record_is_named_by_what_its_numbers_depend_on(setup, tmp_path) -> None:
    spec, observed = setup
    other = load_scenario("kazakhstan-2022", {**SHORT, "people_per_agent": 300})
    assert isinstance(other, CountryScenario)
    paths = {scored.Record(tmp_path, s, observed).path for s in (spec, other)}
    assert len(paths) == 2


def test_runs_side_by_side_give_the_numbers_of_runs_one_after_another(setup) -> None:
    if len(cores.available()) < 2:
        pytest.skip("needs two cores")
    spec, observed = setup
    drawn = []
    side_by_side = scored.scored_runs(spec, observed, [5, 6, 7], workers=2, first=drawn.append)
    assert side_by_side == scored.scored_runs(spec, observed, [5, 6, 7])
    assert len(drawn) == 1 and drawn[0].attrs["seed"] == 5


def test_default_workers_leave_compiling_worthwhile_and_memory_enough() -> None:
    n = len(cores.available())
    assert cores.workers_for(runs=1, run_bytes=1e6, memory=1 << 40) == 1
    assert cores.workers_for(runs=1000, run_bytes=1e6, memory=1 << 40) == n
    assert cores.workers_for(runs=1000, run_bytes=1e12, memory=1 << 40) == 1


def test_cli_refuses_more_workers_than_cores() -> None:
    n = len(cores.available())
    result = CliRunner().invoke(app, ["compare", "kazakhstan-2022", "--workers", str(n + 1)])
    assert result.exit_code == 2
    assert f"1 to {n}" in result.output
