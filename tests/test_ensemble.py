"""Ensembles, `uprising.run` and the run registry, on kazakhstan-2022 at one agent per 20,000
people (a few seconds a run), so that the whole calendar runs in the test suite."""

from __future__ import annotations

import importlib
import json
import math
import re

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

import uprising
from uprising.analysis import metrics, outcome
from uprising.cli import app
from uprising.run import cores, registry
from uprising.run.ensemble import draw, ensemble, load_posterior
from uprising.run.simulate import package_version, provenance
from uprising.scenarios.load import ScenarioError, load_scenario

SMALL = {"people_per_agent": 400}


@pytest.fixture(scope="module")
def spec():
    return load_scenario("kazakhstan-2022", SMALL)


def test_run_is_a_pure_function_of_params_and_seed():
    first = uprising.run(SMALL, seed=4)
    assert set(first) == set(metrics.COUNTRY)
    assert sum(first[o] for o in outcome.OUTCOMES) == 1.0  # exactly one way it ended
    assert uprising.run(dict(SMALL), seed=4) == first
    grid = uprising.run({"steps": 60}, seed=2, scenario="epstein-run1")
    assert set(grid) == set(metrics.EPSTEIN)
    assert uprising.run({"steps": 60}, seed=2, scenario="epstein-run1") == grid
    assert uprising.run({"steps": 60}, seed=3, scenario="epstein-run1") != grid


def test_run_names_a_bad_key():
    with pytest.raises(ScenarioError, match="epstein.kk"):
        uprising.run({"epstein.kk": 2.0})


def test_ensemble_resumes_and_matches_an_uninterrupted_one(spec, tmp_path):
    partial = tmp_path / "a.parquet"
    first = ensemble(spec, 2, seed=10, table=partial)
    new: list[int] = []
    resumed = ensemble(spec, 3, seed=10, table=partial, done=lambda s, row, wall: new.append(s))
    assert new == [12]  # only the missing run
    fresh = ensemble(spec, 3, seed=10, table=tmp_path / "b.parquet")
    pd.testing.assert_frame_equal(resumed.table, fresh.table)
    pd.testing.assert_frame_equal(first.table, fresh.table.iloc[:2])
    pd.testing.assert_frame_equal(pd.read_parquet(partial), fresh.table)
    probs = fresh.probabilities()
    assert math.isclose(sum(p["p"] for p in probs.values()), 1.0)
    assert all(p["low"] <= p["p"] <= p["high"] for p in probs.values())
    q = fresh.quantiles()["deaths"]
    assert q["q05"] <= q["q50"] <= q["q95"]


def test_an_ensemble_refuses_a_table_of_another_model(spec, tmp_path, monkeypatch):
    table = tmp_path / "runs.parquet"
    ensemble(spec, 1, seed=0, table=table)
    with pytest.raises(ValueError, match="variant"):
        ensemble(spec, 1, seed=0, table=table, variant="no-csto")
    # The same scenario run by other code: its numbers could differ, so they are not reused.
    code = importlib.import_module("uprising.run.ensemble")  # `uprising.run` is a function
    monkeypatch.setattr(code, "package_version", lambda: "0.2.0+00000000")
    with pytest.raises(ValueError, match="version"):
        ensemble(spec, 1, seed=0, table=table)


def test_the_version_names_the_release_and_the_code():
    assert re.fullmatch(r"\d+\.\d+\.\d+.*\+[0-9a-f]{8}", package_version())


def test_posterior_draws_are_weighted_and_reproducible(spec, tmp_path):
    posterior = pd.DataFrame({"epstein.k": [1.0, 3.0], "weight": [0.0, 1.0]})
    assert draw(posterior, 5, seed=1) == [{"epstein.k": 3.0}] * 5  # weight 0 is never drawn
    both = pd.DataFrame({"epstein.k": [1.0, 3.0], "weight": [0.5, 0.5]})
    assert draw(both, 20, seed=1) == draw(both, 20, seed=1)
    assert {d["epstein.k"] for d in draw(both, 20, seed=1)} == {1.0, 3.0}
    path = tmp_path / "posterior.parquet"
    posterior.to_parquet(path)
    result = ensemble(spec, 1, seed=3, posterior=load_posterior(path))
    assert result.table["epstein.k"].tolist() == [3.0]
    assert result.table.drop(columns="epstein.k").iloc[0].to_dict() == {
        "seed": 3,
        **uprising.run({**SMALL, "epstein.k": 3.0}, seed=3),
    }
    bad = tmp_path / "bad.parquet"
    pd.DataFrame({"epstein.k": [1.0]}).to_parquet(bad)
    with pytest.raises(ValueError, match="weight"):
        load_posterior(bad)


def test_registry_records_and_queries_read_only(tmp_path, spec):
    path = tmp_path / "reg.duckdb"
    with pytest.raises(registry.RegistryError, match="no registry"):
        registry.recent(path)
    rows = [
        registry.entry(
            command="test",
            provenance=provenance(spec, seed),
            variant=None,
            params={"epstein.k": 2.0},
            metrics={"deaths": float(seed)},
            wall_s=1.0,
        )
        for seed in range(3)
    ]
    registry.record(rows, path)
    listed = registry.recent(path, command="test")
    assert sorted(listed["seed"]) == [0, 1, 2]
    assert listed["recorded_at"].is_monotonic_decreasing  # newest first
    assert registry.recent(path, command="other").empty
    got = registry.query(
        "SELECT sum(metrics['deaths']) AS d, min(params->>'epstein.k') AS k FROM runs", path
    )
    assert got["d"].item() == 3.0 and got["k"].item() == "2.0"
    with pytest.raises(registry.RegistryError, match="read-only|read only"):
        registry.query("DELETE FROM runs", path)
    assert len(registry.query("SELECT * FROM runs", path)) == 3
    nan = registry.entry(
        command="test",
        provenance=provenance(spec, 9),
        variant=None,
        params={},
        metrics={"mean_wait": float("nan")},  # no outbursts: nothing to wait between
        wall_s=1.0,
    )
    registry.record([nan], path)
    listed = CliRunner(env={"COLUMNS": "300"}).invoke(app, ["runs", "--registry", str(path)])
    assert listed.exit_code == 0, listed.output
    assert "n/a" in listed.output


def test_registry_skips_runs_it_holds_and_mends_a_file_left_by_a_kill(tmp_path, spec):
    path = tmp_path / "reg.duckdb"
    duckdb.connect(str(path)).close()  # what a kill during the first write can leave: no table
    with pytest.raises(registry.RegistryError, match="runs"):
        registry.query("SELECT * FROM runs", path)
    row = registry.entry(
        command="test",
        provenance=provenance(spec, 1),
        variant=None,
        params={},
        metrics={},
        wall_s=1.0,
    )
    registry.record([row], path)
    registry.record([row], path)  # again, as a resumed sweep does with the parts it finds
    assert registry.query("SELECT run_id FROM runs", path)["run_id"].tolist() == [row["run_id"]]


def test_cli_ensemble_json_variant_and_registry(tmp_path):
    runner = CliRunner()
    reg = tmp_path / "reg.duckdb"
    args = ["ensemble", "kazakhstan-2022", "--runs", "2", "--set", "people_per_agent=400"]
    args += ["--out", str(tmp_path), "--registry", str(reg), "--json"]
    result = runner.invoke(app, [*args, "--variant", "no-csto"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["variant"] == "no-csto" and summary["runs"] == 2
    assert set(summary["probabilities"]) == set(outcome.OUTCOMES)
    assert summary["observed"]["outcome"] == "suppressed"
    assert (tmp_path / "kazakhstan-2022-no-csto-ensemble.png").stat().st_size > 10_000
    listed = runner.invoke(app, ["runs", "--registry", str(reg), "--json"])
    assert listed.exit_code == 0, listed.output
    assert {r["variant"] for r in json.loads(listed.stdout)} == {"no-csto"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ensemble", "epstein-run1"], "not a country scenario"),
        (["ensemble", "kazakhstan-2022", "--variant", "no-such"], "no-such"),
        (["ensemble", "kazakhstan-2022", "--runs", "0"], "runs"),
        (["ensemble", "kazakhstan-2022", "--posterior", "missing.parquet"], "posterior"),
        (["runs", "--sql", "SELEC nonsense"], "no registry|query failed"),
    ],
)
def test_cli_refuses_bad_input_before_work(args, message, tmp_path):
    result = CliRunner().invoke(
        app, [*args, "--out", str(tmp_path)] if args[0] == "ensemble" else args
    )
    assert result.exit_code != 0
    assert any(m in result.output for m in message.split("|")), result.output


def test_runs_side_by_side_fill_the_table_of_runs_one_after_another(spec, tmp_path):
    if len(cores.available()) < 2:
        pytest.skip("needs two cores")
    seen: list[int] = []
    side = ensemble(spec, 3, seed=20, workers=2, done=lambda s, row, wall: seen.append(s))
    assert sorted(seen) == [20, 21, 22]
    pd.testing.assert_frame_equal(side.table, ensemble(spec, 3, seed=20).table)
