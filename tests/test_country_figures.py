"""The country figures draw a run in the documented format, with and without observed facts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from uprising.scenarios.observed import Observed
from uprising.viz.country import city_timelines, map_by_day

OUTLINE = Path(__file__).parents[1] / "src/uprising/scenarios/builtin/kazakhstan-outline.geojson"


def _run(hours: int = 19 * 24) -> xr.Dataset:
    """A small run: 3 cities, a wave of protest that starts in the west and moves east."""
    rng = np.random.default_rng(0)
    cities = ["Almaty", "Aktau", "Nur-Sultan"]
    citizens = np.array([400, 100, 250])
    time = np.datetime64("2022-01-01T01:00") + np.arange(hours) * np.timedelta64(1, "h")
    hour = np.arange(hours)
    wave = np.exp(-(((hour[:, None] - np.array([100, 30, 110])[None, :]) / 20.0) ** 2))
    active = np.round(wave * citizens * 0.3).astype(int)
    jailed = np.minimum(np.cumsum(active // 10, axis=0), citizens // 4)
    dead = np.cumsum(rng.random((hours, 3)) < 0.01, axis=0)
    quiet = citizens - active - jailed - dead
    late = np.broadcast_to(hour[:, None] > 130, (hours, 3))
    dark = np.broadcast_to((hour[:, None] > 110) & (hour[:, None] < 220), (hours, 3))
    return xr.Dataset(
        {
            "quiet": (("time", "city"), quiet),
            "active": (("time", "city"), active),
            "jailed": (("time", "city"), jailed),
            "dead": (("time", "city"), dead),
            "police": (("time", "city"), np.full((hours, 3), 20)),
            "troops": (("time", "city"), np.where(late, 30, 0)),
            "arrests": (("time", "city"), np.cumsum(active // 10, axis=0)),
            "deaths": (("time", "city"), dead),
            "legitimacy": (("time", "city"), np.full((hours, 3), 0.8)),
            "held": (("time", "city"), active > citizens * 0.25),
            "blackout": (("time", "city"), np.where(dark, 1.0, 0.0)),
        },
        coords={
            "time": time,
            "hour": ("time", hour),
            "city": cities,
            "lat": ("city", [43.2567, 43.65, 51.1801]),
            "lon": ("city", [76.9286, 51.1667, 71.446]),
            "population": ("city", [2_030_285, 251_855, 1_234_042]),
            "citizens": ("city", citizens),
        },
        attrs={
            "scenario": "synthetic",
            "seed": 7,
            "people_per_agent": 100,
            "version": "test",
            "scenario_hash": "0" * 16,
        },
    )


def _observed() -> Observed:
    return Observed(
        onset={"Aktau": datetime(2022, 1, 2, 12), "Almaty": datetime(2022, 1, 3, 12)},
        onset_day_only={"Aktau": True, "Almaty": False},
        seized={"Almaty": datetime(2022, 1, 5, 12)},
        retaken={"Almaty": datetime(2022, 1, 6, 12)},
        not_seized=frozenset({"Nur-Sultan"}),
        peak_participants=50000.0,
        deaths=238.0,
        detentions=12000.0,
        outcome="suppressed",
        sources={},
    )


def _is_png(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 20_000 and path.read_bytes()[:4] == b"\x89PNG"


def test_map_by_day_draws_twelve_days(tmp_path: Path) -> None:
    out = map_by_day(_run(), OUTLINE, tmp_path / "maps" / "days.png")
    assert out == tmp_path / "maps" / "days.png"
    assert _is_png(out)


def test_map_by_day_marks_days_outside_the_run(tmp_path: Path) -> None:
    out = map_by_day(_run(hours=48), OUTLINE, tmp_path / "short.png", first_day=1, last_day=5)
    assert _is_png(out)


@pytest.mark.parametrize(("first", "last"), [(0, 12), (1, 32), (5, 4), (-3, 2)])
def test_map_by_day_refuses_days_outside_january(tmp_path: Path, first: int, last: int) -> None:
    with pytest.raises(ValueError, match="first_day"):
        map_by_day(_run(hours=24), OUTLINE, tmp_path / "x.png", first_day=first, last_day=last)
    assert not (tmp_path / "x.png").exists()


def test_city_timelines_with_and_without_observed(tmp_path: Path) -> None:
    ds = _run()
    assert _is_png(city_timelines(ds, _observed(), tmp_path / "observed.png"))
    assert _is_png(city_timelines(ds, None, tmp_path / "plain.png", cities=["Almaty", "Aktau"]))


def test_city_timelines_refuses_unknown_city(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Atlantis"):
        city_timelines(_run(hours=24), None, tmp_path / "x.png", cities=["Atlantis"])
