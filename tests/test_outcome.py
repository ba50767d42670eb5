"""How a run ends, by the rules of analysis/outcome.py, on small made-up runs."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from uprising.analysis.outcome import classify


def _run(active: list[int], arrests: list[int], deaths: int = 0, capital_held: int = 0):
    """Two cities, the capital second and smaller (a quarter of the people), every active in
    the first."""
    hours = len(active)
    held = np.zeros((hours, 2), bool)
    held[:capital_held, 1] = True
    per_city = lambda values: np.stack([values, np.zeros(hours)], axis=1)  # noqa: E731
    return xr.Dataset(
        {
            "active": (("time", "city"), per_city(np.asarray(active))),
            "arrests": (("time", "city"), per_city(np.asarray(arrests))),
            "deaths": (("time", "city"), per_city(np.full(hours, deaths))),
            "held": (("time", "city"), held),
            "population": ("city", np.asarray([3000.0, 1000.0])),
        },
        coords={"city": ["Town", "Capital"]},
    )


RISE_AND_FALL = [0, 50, 100, 60, 20, 5]


@pytest.mark.parametrize(
    ("run", "ending"),
    [
        (_run(RISE_AND_FALL, [0, 0, 10, 40, 80, 95], deaths=1), "suppressed"),
        # No one killed, but 85 arrests after a peak of 100: cleared by arrest.
        (_run(RISE_AND_FALL, [0, 0, 10, 40, 80, 95]), "suppressed"),
        # No one killed and 10 arrests after the peak: the crowd went home.
        (_run(RISE_AND_FALL, [0, 0, 10, 12, 15, 20]), "settlement"),
        (_run([0, 50, 100, 90, 80, 70], [0, 0, 10, 40, 80, 95], deaths=1), "prolonged"),
        (_run([0, 50, 100, 90, 80, 70], [0] * 6, capital_held=5), "prolonged"),
        (_run([0, 50, 100, 90, 80, 70], [0] * 6, capital_held=6), "regime_falls"),
        (_run([0] * 6, [0] * 6), "settlement"),  # nothing happened: no force was needed
    ],
)
def test_each_ending_by_its_rule(run: xr.Dataset, ending: str, monkeypatch) -> None:
    monkeypatch.setattr("uprising.analysis.outcome.FALL_HOURS", 6)
    assert classify(run, "Capital") == ending


def test_a_trickle_is_not_a_prolonged_conflict() -> None:
    """A small uprising still at 70% of its peak in the last hour goes on where its actives are
    many for the population, and has ended (here by force) where they are a trickle."""
    going = _run([0, 5, 10, 9, 8, 7], [0, 0, 2, 4, 6, 8], deaths=1)
    assert classify(going, "Capital") == "prolonged"  # 7 of 4,000: 17.5 per 10,000
    trickle = going.assign(population=going["population"] * 100)  # 7 of 400,000: 0.175
    assert classify(trickle, "Capital") == "suppressed"
    # Agents stand for people: the same 7 agents of 40 people each are 7 per 10,000 again.
    assert classify(trickle.assign_attrs(people_per_agent=40), "Capital") == "prolonged"
