"""The shipped observed facts load as the fact sheet says, and bad files fail with a clear line."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from uprising.scenarios.observed import ObservedError, load_observed

SHIPPED = Path(__file__).parents[1] / "src/uprising/scenarios/builtin/kazakhstan-2022.observed.csv"
CITIES = [
    "Almaty",
    "Nur-Sultan",
    "Shymkent",
    "Aktobe",
    "Karaganda",
    "Taraz",
    "Oskemen",
    "Pavlodar",
    "Atyrau",
    "Semey",
    "Kyzylorda",
    "Kostanay",
    "Aktau",
    "Oral",
    "Petropavl",
    "Turkestan",
    "Kokshetau",
    "Temirtau",
    "Taldykorgan",
    "Ekibastuz",
    "Zhanaozen",
]
GOOD = """city,event,time,value,source,note
Zhanaozen,first_protest,2022-01-01T17:20,,S3,first gathering
Almaty,first_protest,2022-01-03,,S3,"rally, solidarity"
Almaty,akimat_seized,2022-01-05,,S4,
Almaty,akimat_retaken,2022-01-06,,S4,
Nur-Sultan,no_seizure,,,seed,quiet
national,peak_participants,2022-01-05,50000,S26,
national,deaths,,238,S25,
national,detentions,2022-01-17,12000,S30,
national,outcome,,suppressed,S9,
"""


def test_shipped_facts_match_the_fact_sheet() -> None:
    seen = load_observed(SHIPPED, CITIES)
    assert len(CITIES) == 21
    assert seen.onset["Zhanaozen"] == datetime(2022, 1, 1, 17, 20)
    assert not seen.onset_day_only["Zhanaozen"]
    assert seen.onset["Aktau"] == datetime(2022, 1, 2, 12) and seen.onset_day_only["Aktau"]
    for city in ("Almaty", "Nur-Sultan", "Atyrau", "Aktobe", "Oskemen", "Oral"):
        assert seen.onset[city] == datetime(2022, 1, 3, 12), city
    for city in ("Shymkent", "Taraz", "Kyzylorda", "Karaganda"):
        assert seen.onset[city] == datetime(2022, 1, 4, 12), city
    assert set(seen.onset) == set(seen.onset_day_only)
    assert "Pavlodar" not in seen.onset  # unknown, so left out
    assert set(seen.seized) == {"Aktobe", "Almaty", "Taldykorgan", "Taraz", "Semey"}
    assert all(t.date() == datetime(2022, 1, 5).date() for t in seen.seized.values())
    assert seen.retaken == {"Taraz": datetime(2022, 1, 6, 12), "Semey": datetime(2022, 1, 6, 12)}
    assert seen.not_seized == frozenset({"Nur-Sultan"})
    assert seen.peak_participants == 50_000
    assert seen.deaths == 238
    assert seen.detentions == 12_000
    assert seen.outcome == "suppressed"
    assert seen.sources["Aktobe", "akimat_seized"].startswith("S36b")
    assert all("research/kazakhstan-2022.md" in s for s in seen.sources.values())


def test_minimal_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "facts.csv"
    path.write_text(GOOD)
    seen = load_observed(path, CITIES)
    assert seen.retaken == {"Almaty": datetime(2022, 1, 6, 12)}
    assert seen.sources["national", "outcome"] == "S9"


BAD = [
    ("missing column", ("city,event,time,value", "city,event,value"), ["'time'", "line 1"]),
    (
        "unknown city",
        ("Almaty,akimat_seized", "Almati,akimat_seized"),
        ["'city'", "Almati", "Taraz"],
    ),
    ("unknown event", ("Almaty,akimat_seized", "Almaty,riot"), ["'event'", "'riot'", "no_seizure"]),
    ("bad date", ("2022-01-03,,S3", "2022-01-32,,S3"), ["line 3", "'time'", "2022-01-32"]),
    ("not iso", ("2022-01-01T17:20", "1 Jan 17:20"), ["line 2", "'time'", "YYYY-MM-DD"]),
    ("no time", ("2022-01-01T17:20", ""), ["line 2", "'time'", "is empty"]),
    ("not a count", (",238,", ",many,"), ["line 8", "'value'", "'many'"]),
    ("negative count", (",12000,", ",-5,"), ["'value'", "'-5'", ">= 0"]),
    ("bad outcome", (",suppressed,", ",won,"), ["'value'", "'won'", "regime_falls"]),
    ("value on city", ("2022-01-05,,S4", "2022-01-05,3,S4"), ["'value'", "'3'"]),
    ("national at city", ("national,deaths", "Almaty,deaths"), ["'city'", "'Almaty'"]),
    ("city at national", ("Almaty,akimat_seized", "national,akimat_seized"), ["'national'"]),
    ("repeat", ("Almaty,first_protest", "Zhanaozen,first_protest"), ["line 3", "repeats line 2"]),
    ("no national", ("national,outcome,,suppressed,S9,\n", ""), ["outcome", "required"]),
    ("retaken first", ("2022-01-06,,S4", "2022-01-04,,S4"), ["line 5", "2022-01-04"]),
    ("no seizure", ("Almaty,akimat_seized,2022-01-05,,S4,\n", ""), ["akimat_retaken"]),
    ("both", ("Nur-Sultan,no_seizure", "Almaty,no_seizure"), ["no_seizure", "contradicts"]),
    ("short row", ("national,deaths,,238,S25,", "national,deaths,,238"), ["line 8", "6 fields"]),
]


@pytest.mark.parametrize(("edit", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_files_name_the_fault(
    tmp_path: Path, edit: tuple[str, str], expected: list[str]
) -> None:
    assert edit[0] in GOOD
    path = tmp_path / "facts.csv"
    path.write_text(GOOD.replace(edit[0], edit[1], 1))
    with pytest.raises(ObservedError) as caught:
        load_observed(path, CITIES)
    message = str(caught.value)
    assert str(path) in message
    for part in expected:
        assert part in message, (part, message)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ObservedError, match="nowhere.csv"):
        load_observed(tmp_path / "nowhere.csv", CITIES)
