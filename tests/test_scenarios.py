"""Scenario files: built-ins load, and bad input is refused before any work, naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from uprising.scenarios.load import ScenarioError, builtin_names, load_scenario, to_engine
from uprising.scenarios.schema import Scenario

GOOD = """
name = "mine"
rules = "netlogo"
steps = 50
[world]
height = 30
width = 30
[params]
legitimacy = [[0, 0.9], [20, 0.7]]
max_jail = "inf"
"""


def test_builtins_are_the_papers_five_runs_and_kazakhstan() -> None:
    assert builtin_names() == [f"epstein-run{i}" for i in range(1, 6)] + ["kazakhstan-2022"]
    for name in builtin_names()[:5]:
        scenario = load_scenario(name)
        assert isinstance(scenario, Scenario)
        world, params = to_engine(scenario)
        assert world.cells == 1600


def test_a_file_loads_and_its_hash_ignores_name_and_length(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    a = load_scenario(path)
    b = load_scenario(path, {"steps": 99})
    assert a.steps == 50 and b.steps == 99
    assert a.digest() == b.digest()
    assert a.digest() != load_scenario(path, {"legitimacy": 0.5}).digest()


def test_police_restraint_reaches_the_engine() -> None:
    _, params = to_engine(load_scenario("epstein-run2", {"arrest_rate": 0.25}))
    assert float(params.arrest_rate) == 0.25
    assert float(to_engine(load_scenario("epstein-run2"))[1].arrest_rate) == 1.0  # Epstein's


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = 'x'\nsteps = 'ten'", "steps"),
        ("name = 'x'\ncolour = 'red'", "colour"),
        ("name = 'x'\n[world]\nheight = -5", "world.height"),
        ("name = 'x'\n[world]\ncitizen_density = 1.5", "world.citizen_density"),
        ("name = 'x'\n[world]\ncitizen_density = 0.8\ncop_density = 0.3", "must not exceed 1"),
        ("name = 'x'\n[world]\nheight = 60000\nwidth = 60000", "GiB"),
        ("name = 'x'\n[params]\nlegitimacy = 1.2", "legitimacy"),
        ("name = 'x'\n[params]\nlegitimacy = [[10, 0.5], [5, 0.6]]", "in order of step"),
        ("name = 'x'\n[params]\nlegitimacy = [[-1, 0.5]]", "negative step"),
        ("name = 'x'\n[params]\nmax_jail = -3", "max_jail"),
        ("name = 'x'\n[params]\nmax_jail = 'forever'", "max_jail"),
        ("name = 'x'\n[params]\npolice = [[0, 0.5]]", "exceeds world.cop_density"),
        ("name = 'x'\n[params]\npolice = [[0, 0.04], [9, 0.0], [20, 0.03]]", "must not rise"),
        ("name = 'x'\nrules = 'agentpy'", "allowed: paper, netlogo, mesa"),
        ("name = 'x'\n[world]\ncitizen_vision = 25", "citizen_vision"),
        ("name = 'x'\nrules = 'mesa'\n[world]\ncop_vision = 2.5", "whole number"),
        ("name = 'x'\n[world\nheight = 3", "not valid TOML"),
        ("name = 'x'\n[params]\nk = 0", "params.k"),
        ("name = 'x'\n[params]\narrest_rate = 1.5", "params.arrest_rate"),
    ],
)
def test_malformed_files_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message):
        load_scenario(path)


def test_unknown_scenario_lists_the_built_ins() -> None:
    with pytest.raises(ScenarioError, match="built in: epstein-run1"):
        load_scenario("kazakhstan-1986")


def test_unknown_override_lists_allowed_keys() -> None:
    with pytest.raises(ScenarioError, match="allowed: .*legitimacy"):
        load_scenario("epstein-run2", {"legitimacey": 0.5})
