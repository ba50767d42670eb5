"""What happened, read from a CSV of observed facts, so runs can be compared with history.

One row per fact: ``city,event,time,value,source,note``. City events (first protest, akimat
seized or retaken, no seizure) name a city of the scenario; national facts use city ``national``.
A time is local, ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM``; a date alone is read as 12:00 that day,
the middle of the day, so that it is at most 12 hours off.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

COLUMNS = ("city", "event", "time", "value", "source", "note")
NATIONAL = "national"
CITY_EVENTS = ("first_protest", "akimat_seized", "akimat_retaken", "no_seizure")
NUMERIC_EVENTS = ("peak_participants", "deaths", "detentions")
NATIONAL_EVENTS = (*NUMERIC_EVENTS, "outcome")
EVENTS = CITY_EVENTS + NATIONAL_EVENTS
TIMED_EVENTS = ("first_protest", "akimat_seized", "akimat_retaken")
OUTCOMES = ("regime_falls", "suppressed", "settlement", "prolonged")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?")


class ObservedError(ValueError):
    """An observed-facts file that cannot be used, naming the file, line, column and value."""


@dataclass(frozen=True)
class Observed:
    """Observed facts of one uprising; cities missing from a dict are unknown, not absent."""

    onset: dict[str, datetime]
    onset_day_only: dict[str, bool]
    seized: dict[str, datetime]
    retaken: dict[str, datetime]
    not_seized: frozenset[str]
    peak_participants: float
    deaths: float
    detentions: float
    outcome: str
    sources: dict[tuple[str, str], str]

    def sizes(self) -> dict[str, float]:
        """The national sizes under the names of the run metrics (`analysis.metrics`)."""
        return {
            "peak_active": self.peak_participants,
            "deaths": self.deaths,
            "detentions": self.detentions,
        }


def _allowed(values: Sequence[str]) -> str:
    return ", ".join(values)


def _time(text: str) -> tuple[datetime, bool] | None:
    """The time and whether only the day was given, or None when it is not a valid time."""
    if not _TIME.fullmatch(text):
        return None
    try:
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(hour=12), True
        return datetime.fromisoformat(text), False
    except ValueError:
        return None


def load_observed(path: str | Path, cities: Sequence[str]) -> Observed:
    """Read and check the observed facts at ``path`` for a scenario with these ``cities``."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            return _read(path, csv.DictReader(f), cities)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ObservedError(f"cannot read observed facts {path}: {e}") from None


def _read(path: Path, reader: csv.DictReader[str], cities: Sequence[str]) -> Observed:
    def fail(line: int, column: str, value: str, problem: str) -> ObservedError:
        return ObservedError(f"{path}, line {line}, column {column!r}: {value!r} {problem}")

    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ObservedError(
            f"{path}, line 1: missing column(s) {', '.join(map(repr, missing))}; "
            f"the header must name {_allowed(COLUMNS)}"
        )
    known = set(cities)
    places = f"one of {_allowed(cities)}, or {NATIONAL!r} for national facts"
    given: dict[tuple[str, str], str] = {}
    times: dict[tuple[str, str], tuple[datetime, bool]] = {}
    values: dict[str, str] = {}
    lines: dict[tuple[str, str], int] = {}
    sources: dict[tuple[str, str], str] = {}
    for row in reader:
        n = reader.line_num
        if None in row or None in row.values():
            raise ObservedError(f"{path}, line {n}: expected {len(COLUMNS)} fields")
        city, event = row["city"].strip(), row["event"].strip()
        time, value = row["time"].strip(), row["value"].strip()
        if city != NATIONAL and city not in known:
            raise fail(n, "city", city, f"is not a city of the scenario; allowed: {places}")
        if event not in EVENTS:
            raise fail(n, "event", event, f"is not a known event; allowed: {_allowed(EVENTS)}")
        if (city == NATIONAL) != (event in NATIONAL_EVENTS):
            need = repr(NATIONAL) if event in NATIONAL_EVENTS else f"a city: {_allowed(cities)}"
            raise fail(n, "city", city, f"does not fit event {event!r}; allowed: {need}")
        if (city, event) in lines:
            raise fail(n, "event", event, f"repeats line {lines[city, event]} for {city}")
        if time:
            parsed = _time(time)
            if parsed is None:
                raise fail(
                    n, "time", time, "is not a time; allowed: YYYY-MM-DD or YYYY-MM-DDTHH:MM"
                )
            times[city, event], given[city, event] = parsed, time
        elif event in TIMED_EVENTS:
            raise fail(n, "time", time, f"is empty; {event} needs YYYY-MM-DD or YYYY-MM-DDTHH:MM")
        if event in NUMERIC_EVENTS:
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if not (math.isfinite(number) and number >= 0):
                raise fail(n, "value", value, f"is not a count; {event} needs a number >= 0")
        elif event == "outcome" and value not in OUTCOMES:
            raise fail(n, "value", value, f"is not an outcome; allowed: {_allowed(OUTCOMES)}")
        elif event in CITY_EVENTS and value:
            raise fail(n, "value", value, f"should be empty for {event}")
        if city == NATIONAL:
            values[event] = value
        lines[city, event] = n
        sources[city, event] = row["source"].strip()

    for event in NATIONAL_EVENTS:
        if event not in values:
            raise ObservedError(f"{path}: no row for {NATIONAL} {event}; it is required")
    for city in cities:
        if (city, "akimat_seized") in lines and (city, "no_seizure") in lines:
            n = lines[city, "no_seizure"]
            raise fail(n, "event", "no_seizure", f"contradicts akimat_seized for {city}")
        if (city, "akimat_retaken") in lines:
            n = lines[city, "akimat_retaken"]
            if (city, "akimat_seized") not in lines:
                raise fail(n, "event", "akimat_retaken", f"has no akimat_seized for {city}")
            if times[city, "akimat_retaken"][0] < times[city, "akimat_seized"][0]:
                seized = given[city, "akimat_seized"]
                raise fail(n, "time", given[city, "akimat_retaken"], f"is before seizure {seized}")

    def of(event: str) -> dict[str, datetime]:
        return {c: t for (c, e), (t, _) in times.items() if e == event}

    return Observed(
        onset=of("first_protest"),
        onset_day_only={c: d for (c, e), (_, d) in times.items() if e == "first_protest"},
        seized=of("akimat_seized"),
        retaken=of("akimat_retaken"),
        not_seized=frozenset(c for c, e in lines if e == "no_seizure"),
        peak_participants=float(values["peak_participants"]),
        deaths=float(values["deaths"]),
        detentions=float(values["detentions"]),
        outcome=values["outcome"],
        sources=sources,
    )
