"""The command line, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from uprising.cli import app
from uprising.run.results import read_metadata

runner = CliRunner()


def test_scenarios_lists_builtins() -> None:
    result = runner.invoke(app, ["scenarios"])
    assert result.exit_code == 0
    assert "epstein-run2" in result.stdout and "netlogo" in result.stdout


def test_run_json_is_one_object_and_files_carry_provenance(tmp_path: Path) -> None:
    args = ["run", "epstein-run2", "--rules", "netlogo", "--steps", "150", "--seed", "7"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # the whole of stdout is one JSON object
    keys = "scenario rules seed steps citizens police quiet active jailed peak_active outbursts"
    for key in [*keys.split(), "mean_wait", "version"]:
        assert key in summary
    assert summary["steps"] == 150 and summary["rules"] == "netlogo" and summary["seed"] == 7
    assert summary["quiet"] + summary["active"] + summary["jailed"] == summary["citizens"]
    assert summary["outbursts"] > 0
    parquet = Path(summary["files"]["timeseries"])
    meta = read_metadata(parquet)
    assert meta["seed"] == 7 and meta["rules"] == "netlogo"
    assert (
        meta["scenario_hash"] == summary["scenario_hash"] and meta["version"] == summary["version"]
    )
    assert pq.read_table(parquet).num_rows == 150
    for figure in ("figure", "grid"):
        assert Path(summary["files"][figure]).stat().st_size > 10_000
    again = runner.invoke(app, [*args, "--json"])
    assert json.loads(again.stdout)["active"] == summary["active"]  # same seed, same numbers


def test_bad_input_is_an_error_before_any_work() -> None:
    for extra, message in [
        (["--set", "legitimacy=2"], "legitimacy"),
        (["--set", "vision=3"], "unknown key 'vision'"),
        (["--set", "height"], "KEY=VALUE"),
        (["--rules", "abm"], "allowed: paper, netlogo, mesa"),
    ]:
        result = runner.invoke(app, ["run", "epstein-run2", *extra, "--json"])
        assert result.exit_code == 2
        assert message in result.output
        assert result.stdout.strip() == ""  # errors go to stderr, never into --json output
