"""Dashboard jobs: one run streamed day by day, then a quick ensemble, in a background thread.

One job at a time (the machine is the user's; a second request while one runs is refused with a
message). The page polls a job's snapshot with `since` (the hours it has), so every poll is
small. The main run and the ensemble's other runs go through the same compiled program (same
watched city, one seed per call), so a scale is compiled once per server.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from uprising.analysis import metrics, outcome
from uprising.run.country import simulate_country, summarize_country
from uprising.run.ensemble import Ensemble
from uprising.scenarios.compile import compile_country, event_enabled
from uprising.viz.dashboard.levers import Built, stamp

log = logging.getLogger(__name__)

SERIES = ("quiet", "active", "jailed", "dead", "police", "troops", "held")
"""Counts (agents) per hour and city, sent as whole numbers."""
FRACTIONS = {"blackout": 2, "legitimacy": 4}
"""Fractions per hour and city, with the decimals sent."""
KEEP = 16
"""Finished jobs kept in memory for the page to read."""


class Busy(RuntimeError):
    """A job is already running."""


class Cancelled(Exception):
    """The user cancelled the job."""


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None  # JSON has no NaN
    return value


def event_rows(built: Built) -> list[dict[str, Any]]:
    """The calendar the run uses, for the page (not events that would begin after it ends)."""
    end = built.spec.end
    return [
        {
            "id": e.id,
            "kind": e.kind,
            "start": None if e.start is None else stamp(e.start),
            "end": None if e.end is None else stamp(e.end),
            "hours": e.hours,
            "cities": e.cities,
            "value": e.value,
            "count": e.count,
            "note": e.note,
            "triggered": e.trigger is not None,
            "enabled": event_enabled(built.spec, e),
        }
        for e in built.spec.events
        if e.start is None or e.start < end
    ]


class Job:
    def __init__(self, job_id: str, built: Built) -> None:
        spec = built.spec
        compiled = compile_country(spec)
        layout = compiled.layout
        names = [c.name for c in spec.cities]
        index = names.index(built.watch)
        self.id = job_id
        self.built = built
        self.hours = compiled.calendar.hours
        self.grid_shape = (int(layout.heights[index]), int(layout.widths[index]))
        self.lock = threading.Lock()
        self.cancel = threading.Event()
        self.state = "queued"
        self.phase = "waiting"
        self.error: str | None = None
        self.hours_done = 0
        self.hours_now = 0  # of the ensemble run under way
        self.runs_done = 0
        self.rows: list[dict[str, Any]] = []
        self.series: dict[str, list[list[Any]]] = {n: [] for n in (*SERIES, *FRACTIONS)}
        self.frames: list[str] = []
        self.summary: dict[str, Any] | None = None
        self.ensemble: dict[str, Any] | None = None
        self.started = time.time()
        self.finished: float | None = None
        self.saved: str | None = None
        self.meta = {
            "scenario": built.scenario,
            "variant": built.variant,
            "name": spec.name,
            "capital": spec.capital,
            "start": stamp(spec.start),
            "end": stamp(spec.end),
            "hours": self.hours,
            "people_per_agent": built.people_per_agent,
            # a police or troop agent stands for fewer people: police_visibility per officer
            "officers_per_agent": built.people_per_agent / spec.epstein.police_visibility,
            "runs": built.runs,
            "seed": built.seed,
            "watch": built.watch,
            "grid": {"height": self.grid_shape[0], "width": self.grid_shape[1]},
            "cities": [
                {
                    "name": c.name,
                    "lat": c.lat,
                    "lon": c.lon,
                    "population": c.population,
                    "citizens": int(n),
                }
                for c, n in zip(spec.cities, layout.citizens, strict=True)
            ],
            "events": event_rows(built),
            "levers": built.levers,
            "overrides": _json(built.overrides),
            "notes": built.notes,
        }

    @property
    def running(self) -> bool:
        return self.state in ("queued", "running")

    def progress(self) -> dict[str, Any]:
        """Hours simulated over all runs of the job (the main run first)."""
        total = self.hours * self.built.runs
        current = self.hours_done if self.runs_done == 0 else self.hours_now
        done = min(self.runs_done * self.hours + current, total)
        return {"done": done, "total": total, "runs_done": self.runs_done}

    def _chunk(self, done: int, seen: dict[str, np.ndarray]) -> None:
        if self.cancel.is_set():
            raise Cancelled
        n = done - self.hours_done
        frames = ["".join(map(str, row)) for row in seen["grid"][0].reshape(n, -1).tolist()]
        with self.lock:
            for name in SERIES:
                self.series[name] += np.asarray(seen[name][0]).astype(int).tolist()
            for name, places in FRACTIONS.items():
                self.series[name] += np.round(seen[name][0].astype(float), places).tolist()
            self.frames += frames
            self.hours_done = done
            self.phase = "running"

    def _advance(self, done: int, _total: int) -> None:
        if self.cancel.is_set():
            raise Cancelled
        self.hours_now = done

    def _tally(self) -> None:
        frame = pd.DataFrame(self.rows)
        ens = Ensemble(self.built.spec.name, self.built.variant, self.built.spec.digest(), frame)
        found: dict[str, Any] = {"runs": ens.runs, "probabilities": ens.probabilities()}
        if ens.runs > 1:
            found["quantiles"] = ens.quantiles()
        self.ensemble = _json(found)

    def work(self, out: Path) -> None:
        b = self.built
        spec, capital = b.spec, b.spec.capital
        with self.lock:
            self.state, self.phase = "running", "compiling"
        try:
            ds = simulate_country(spec, b.seed, watch=b.watch, on_chunk=self._chunk)
            with self.lock:
                self.summary = _json(summarize_country(ds, capital))
                self.rows.append({"seed": b.seed, **metrics.country(ds, capital)})
                self.runs_done = 1
                self._tally()
                self.phase = "ensemble"
            for seed in range(b.seed + 1, b.seed + b.runs):
                self.hours_now = 0
                ds = simulate_country(spec, seed, progress=self._advance, watch=b.watch)
                with self.lock:
                    self.rows.append({"seed": seed, **metrics.country(ds, capital)})
                    self.runs_done += 1
                    self._tally()
            saved = self._save(out)  # before "done": a page that sees it done finds the file
            with self.lock:
                self.saved = saved
                self.state, self.phase = "done", "done"
        except Cancelled:
            with self.lock:
                self.state, self.phase = "cancelled", "cancelled"
                self.error = "cancelled"
        except Exception as e:  # reported to the page as a message, never a traceback
            log.exception("dashboard job %s failed", self.id)
            with self.lock:
                self.state, self.phase = "failed", "failed"
                self.error = f"the run failed: {type(e).__name__}: {e}"
        finally:
            self.finished = time.time()

    def _save(self, out: Path) -> str | None:
        """The job's request, overrides and results as JSON under the output folder."""
        record = {
            "id": self.id,
            "meta": self.meta,
            "summary": self.summary,
            "ensemble": self.ensemble,
            "outcomes": [{"seed": int(r["seed"]), **outcome_of(r)} for r in self.rows],
        }
        try:
            folder = out / "jobs"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{self.id}.json"
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(_json(record), indent=1))
            os.replace(tmp, path)
            return str(path)
        except OSError as e:
            log.warning("dashboard: job %s not saved: %s", self.id, e)
            return None

    def snapshot(self, since: int = 0) -> dict[str, Any]:
        """The job for the page: state, progress and the hours from `since` on."""
        with self.lock:
            since = max(0, min(since, self.hours_done))
            return {
                "id": self.id,
                "state": self.state,
                "phase": self.phase,
                "error": self.error,
                "progress": self.progress(),
                "elapsed_s": round((self.finished or time.time()) - self.started, 1),
                "meta": self.meta,
                "hours_done": self.hours_done,
                "since": since,
                "series": {n: v[since : self.hours_done] for n, v in self.series.items()},
                "frames": self.frames[since : self.hours_done],
                "summary": self.summary,
                "ensemble": self.ensemble,
                "saved": self.saved,
            }


def outcome_of(row: dict[str, Any]) -> dict[str, Any]:
    ended = next((o for o in outcome.OUTCOMES if row.get(o)), None)
    return {"outcome": ended, "peak_active": row["peak_active"], "deaths": row["deaths"]}


class Runner:
    """Starts jobs one at a time and keeps the last few."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.lock = threading.Lock()

    def submit(self, built: Built) -> Job:
        with self.lock:
            busy = [j for j in self.jobs.values() if j.running]
            if busy:
                p = busy[0].progress()
                raise Busy(
                    f"job {busy[0].id} is still running ({p['done']} of {p['total']} hours);"
                    " wait for it or cancel it"
                )
            job = Job(secrets.token_hex(6), built)
            self.jobs[job.id] = job
            while len(self.jobs) > KEEP:
                self.jobs.popitem(last=False)
        threading.Thread(target=job.work, args=(self.out,), daemon=True, name=job.id).start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self.lock:
            return self.jobs.get(job_id)

    def cancel_all(self) -> None:
        with self.lock:
            for job in self.jobs.values():
                job.cancel.set()
