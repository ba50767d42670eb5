"""`uprising dashboard` without a browser: the JSON API, its limits and its safety."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from uprising.cli import app
from uprising.scenarios.load import load_scenario
from uprising.viz.dashboard import DashboardServer, Limits, make_server
from uprising.viz.dashboard.levers import RequestError, build

SCENARIO = "kazakhstan-2022"
QUICK = {"people_per_agent": 400, "levers": {"calendar_end": "2022-01-05T00:00"}}
"""A coarse, four-day run: seconds once compiled (the browser test runs the same shapes)."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardServer]:
    srv = make_server("127.0.0.1", 0, tmp_path_factory.mktemp("dashboard") / "out")
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.runner.cancel_all()
    srv.shutdown()
    srv.server_close()


def call(
    srv: DashboardServer,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """One raw request (paths are sent as they are, unnormalised); the JSON or bytes back."""
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(str(host), port, timeout=30)
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **(headers or {})}
    conn.request(method, path, body=data, headers=sent)
    r = conn.getresponse()
    raw = r.read()
    conn.close()
    is_json = r.getheader("Content-Type", "").startswith("application/json")
    return r.status, dict(r.getheaders()), json.loads(raw) if is_json else raw


def test_lists_country_scenarios_with_levers_and_outline(server) -> None:
    status, _, found = call(server, "GET", "/api/scenarios")
    assert status == 200
    assert [s["name"] for s in found["scenarios"]] == [SCENARIO]  # Epstein worlds have no map
    assert "no-csto" in found["scenarios"][0]["variants"]
    assert found["limits"]["min_people_per_agent"] == Limits().min_people_per_agent

    status, _, info = call(server, "GET", f"/api/scenarios/{SCENARIO}")
    assert status == 200
    assert len(info["cities"]) == 21 and info["outline"]["type"] == "FeatureCollection"
    levers = {lv["name"]: lv for lv in info["levers"]}
    assert levers["networks_share"]["keys"] == ["mechanisms.networks.share"]
    assert levers["arrest_rate"]["keys"] == ["epstein.arrest_rate"]
    assert levers["arrest_rate"]["default"] == 0.7
    assert levers["troops_date"]["default"] == "2022-01-06T12:00"
    assert levers["blackout_start"]["keys"] == ["events.blackout-total.start"]
    assert {e["id"] for e in info["events"]} >= {"csto-almaty", "shoot-to-kill"}

    _, _, no_csto = call(server, "GET", f"/api/scenarios/{SCENARIO}?variant=no-csto")
    assert "troops_date" not in {lv["name"] for lv in no_csto["levers"]}
    status, _, found = call(server, "GET", f"/api/scenarios/{SCENARIO}?variant=nope")
    assert status == 404 and "no-csto" in found["error"]


def test_serves_its_own_files_and_nothing_else(server) -> None:
    for path in ("/", "/app.js", "/style.css"):
        status, headers, body = call(server, "GET", path)
        assert status == 200 and body
        assert "default-src 'self'" in headers["Content-Security-Policy"]
    page = call(server, "GET", "/")[2].decode()
    assert "http://" not in page and "https://" not in page  # nothing from a CDN
    for path in (
        "/../pyproject.toml",
        "/static/app.js",
        "/%2e%2e/%2e%2e/etc/passwd",
        "//etc/passwd",
        "/api/scenarios/..%2F..%2Fetc%2Fpasswd",
        "/api/scenarios/%2Fetc%2Fpasswd",
        "/levers.py",
    ):
        status, _, body = call(server, "GET", path)
        assert status == 404, path
        assert "error" in body and "Traceback" not in json.dumps(body)


def test_malformed_requests_get_400_with_a_message(server) -> None:
    status, _, body = call(server, "POST", "/api/jobs", b"{not json")
    assert status == 400 and "not valid JSON" in body["error"]
    status, _, body = call(server, "POST", "/api/jobs", [1, 2])
    assert status == 400 and "JSON object" in body["error"]
    status, _, body = call(server, "POST", "/api/jobs", {"scenario": SCENARIO, "bogus": 1})
    assert status == 400 and "bogus" in body["error"]
    status, _, body = call(server, "POST", "/api/jobs", b"{}", {"Content-Type": "text/plain"})
    assert status == 415 and "application/json" in body["error"]
    status, _, body = call(server, "POST", "/api/jobs", b"x" * (65 * 1024))
    assert status == 413
    status, _, body = call(server, "GET", "/api/jobs/0123456789ab")
    assert status == 404 and "no job" in body["error"]
    status, _, body = call(server, "DELETE", "/api/jobs")
    assert status == 405
    status, _, body = call(server, "GET", "/api/jobs/0123456789ab?since=x")
    assert status in (400, 404)


@pytest.mark.parametrize(
    ("levers", "words"),
    [
        ({"networks_share": 1.5}, ["networks_share", "mechanisms.networks.share", "0.0 .. 1.0"]),
        ({"networks_share": "lots"}, ["mechanisms.networks.share", "a number"]),
        ({"troops": "yes"}, ["mechanisms.troops.enabled", "true or false"]),
        ({"troops_date": "2021-12-01T00:00"}, ["events.csto-almaty.start", "out of range"]),
        ({"blackout_end": "2022-01-03T00:00"}, ["blackout-total", "before it starts"]),
        ({"teleport": 1}, ["teleport", "allowed: price_shock"]),
    ],
)
def test_a_bad_lever_is_refused_naming_its_key(server, levers, words) -> None:
    request = {"scenario": SCENARIO, **QUICK, "levers": levers}
    status, _, body = call(server, "POST", "/api/jobs", request)
    assert status == 400
    for word in words:
        assert word in body["error"]


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        ({"people_per_agent": 5}, ["people_per_agent", "10 .. 200000"]),
        ({"runs": 500}, ["runs = 500", "1 .. 20"]),
        ({"runs": 10, "people_per_agent": 20}, ["too much work", "runs <= 3"]),
        ({"scenario": "/etc/passwd"}, ["unknown scenario", SCENARIO]),
        ({"scenario": "epstein-run1"}, ["unknown scenario"]),
        ({"variant": "nope"}, ["unknown variant", "no-csto"]),
        ({"watch": "Paris"}, ["watch", "Almaty"]),
        ({"seed": -1}, ["seed"]),
    ],
)
def test_requests_beyond_the_limits_are_refused(server, request_, words) -> None:
    status, _, body = call(server, "POST", "/api/jobs", {"scenario": SCENARIO, **request_})
    assert status == 400
    for word in words:
        assert word in body["error"]


def test_answers_only_to_loopback_names(server) -> None:
    status, _, body = call(server, "GET", "/api/scenarios", headers={"Host": "evil.example"})
    assert status == 403 and "127.0.0.1" in body["error"]
    origin = {"Origin": "http://evil.example"}
    status, _, _ = call(server, "POST", "/api/jobs", {"scenario": SCENARIO}, origin)
    assert status == 403
    status, _, _ = call(server, "GET", "/api/scenarios", headers={"Host": "localhost:1"})
    assert status == 200


def test_levers_become_scenario_keys() -> None:
    built = build(
        {
            "scenario": SCENARIO,
            "people_per_agent": 400,
            "levers": {
                "price_shock": 3.0,
                "price_shock_date": "2022-01-02T00:00",
                "legitimacy": 0.8,
                "troops_date": "2022-01-07T12:00",
                "troops_count": 4060,
                "networks_share": 0.0,  # the default: no override
                "arrest_rate": 0.4,
                "retake": 20.0,
                "calendar_end": "2022-01-10T00:00",
            },
        },
        Limits(),
    )
    o, spec = built.overrides, built.spec
    mangystau = o["mechanisms.prices.schedules.mangystau"]
    assert [p for _, p in mangystau] == [60.0, 180.0, 180.0, 50.0]  # the cap stays
    assert mangystau[1][0] == datetime(2022, 1, 2)
    assert o["cities.Almaty.legitimacy"] == pytest.approx(0.8)
    assert o["cities.Nur-Sultan.legitimacy"] == pytest.approx(0.82)
    assert o["events.csto-almaty.start"] == datetime(2022, 1, 7, 12)
    assert o["events.csto-almaty.count"] + o["events.csto-rest.count"] == 4060
    assert "mechanisms.networks.share" not in o
    assert o["epstein.arrest_rate"] == 0.4 and spec.epstein.arrest_rate == 0.4
    assert o["mechanisms.levers.retake_per_10k"] == spec.mechanisms.levers.retake_per_10k == 20
    assert o["end"] == datetime(2022, 1, 10) and spec.end == datetime(2022, 1, 10)
    assert spec.cities[0].legitimacy == pytest.approx(0.8)
    # the moved troops still begin before the end; the regional blackout (10 Jan) does not
    assert built.notes[0] == (
        "switched off (they would begin after the calendar ends): blackout-regions"
    )
    assert "calibrated at people_per_agent = 40; at 400" in built.notes[1]  # QUICK's scale
    own = build({"scenario": SCENARIO, "levers": QUICK["levers"]}, Limits())
    assert own.people_per_agent == 40 and not any("calibrated" in n for n in own.notes)
    short = build({"scenario": SCENARIO, **QUICK}, Limits())
    assert "csto-almaty" in short.notes[0] and "shoot-to-kill" in short.notes[0]
    assert all(e.start < datetime(2022, 1, 5) for e in short.spec.events if e.start and e.enabled)
    # Switched off, not deleted: the short run keeps every event slot of the full scenario.
    full = load_scenario(SCENARIO)
    assert [e.id for e in short.spec.events] == [e.id for e in full.events]
    assert not next(e for e in short.spec.events if e.id == "csto-almaty").enabled
    with pytest.raises(RequestError, match="price_shock_date"):
        build({"scenario": SCENARIO, "levers": {"price_shock_date": "2022-01-05T00:00"}}, Limits())


def test_a_short_job_runs_to_completion_with_progress(server) -> None:
    request = {"scenario": SCENARIO, **QUICK, "runs": 2, "seed": 5, "watch": "Zhanaozen"}
    request["levers"] = {**QUICK["levers"], "networks_share": 0.3}
    status, _, job = call(server, "POST", "/api/jobs", request)
    assert status == 202, job
    assert job["meta"]["overrides"]["mechanisms.networks.share"] == 0.3
    status, _, busy = call(server, "POST", "/api/jobs", {"scenario": SCENARIO, **QUICK})
    assert status == 409 and "wait for it or cancel it" in busy["error"]

    have, done, frames, active = 0, [], [], []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        status, _, snap = call(server, "GET", f"/api/jobs/{job['id']}?since={have}")
        assert status == 200 and snap["since"] == have
        frames += snap["frames"]
        active += snap["series"]["active"]
        have = snap["hours_done"]
        done.append(snap["progress"]["done"])
        if snap["state"] not in ("queued", "running"):
            break
        time.sleep(0.25)
    assert snap["state"] == "done", snap["error"]
    assert done == sorted(done) and done[-1] == snap["progress"]["total"] == 2 * 96
    assert have == 96 and len(active) == len(frames) == 96 and len(active[0]) == 21
    h, w = snap["meta"]["grid"]["height"], snap["meta"]["grid"]["width"]
    assert all(len(f) == h * w and set(f) <= set("012345") for f in frames)
    assert snap["ensemble"]["runs"] == 2
    assert sum(p["p"] for p in snap["ensemble"]["probabilities"].values()) == pytest.approx(1)
    assert snap["summary"]["seed"] == 5 and snap["summary"]["hours"] == 96
    # what it wrote: one JSON per job, under its output folder, nothing else
    saved = Path(snap["saved"])
    written = sorted(p.relative_to(server.out) for p in server.out.rglob("*"))
    assert written == [Path("jobs"), Path("jobs") / saved.name]
    assert json.loads(saved.read_text())["meta"]["overrides"]["mechanisms.networks.share"] == 0.3


def test_cli_starts_on_loopback_and_warns_otherwise(monkeypatch, tmp_path) -> None:
    import uprising.viz.dashboard as dashboard

    started: list[DashboardServer] = []
    monkeypatch.setattr(dashboard, "serve", lambda srv, _open: started.append(srv))
    runner = CliRunner()
    result = runner.invoke(app, ["dashboard", "--port", "0", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert started[-1].server_address[0] == "127.0.0.1" and "warning" not in result.output
    started[-1].server_close()
    result = runner.invoke(app, ["dashboard", "--port", "0", "--host", "0.0.0.0"])
    assert result.exit_code == 0 and "warning" in result.output
    started[-1].server_close()
    assert not list(tmp_path.iterdir())  # nothing written before a job
