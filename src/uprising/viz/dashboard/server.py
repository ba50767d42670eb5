"""The dashboard's HTTP server: three static files and a small JSON API, standard library only.

Routes (every answer of /api is JSON; an error is `{"error": message}` with its status):

- `GET /` , `/app.js`, `/style.css`: the page (package data; no other path is served);
- `GET /api/scenarios`: the built-in country scenarios, their variants, and the limits;
- `GET /api/scenarios/NAME?variant=V`: cities, calendar, levers (with defaults) and outline;
- `POST /api/jobs` (JSON: scenario, variant, levers, people_per_agent, runs, seed, watch):
  starts a job (202 with its id), or 400 naming what is wrong, or 409 while another runs;
- `GET /api/jobs/ID?since=H`: state, progress and the hours from H on;
- `POST /api/jobs/ID/cancel`.

Safe by default: it binds to 127.0.0.1, answers only requests addressed to a loopback name
while bound to one (against DNS rebinding), takes only JSON bodies up to 64 KiB, reads only
built-in scenarios and its own files, and writes only under its output folder.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
from functools import cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from uprising.scenarios.load import ScenarioError, scenario_folder
from uprising.viz.dashboard.jobs import Busy, Runner, event_rows
from uprising.viz.dashboard.levers import (
    Built,
    Limits,
    RequestError,
    base,
    build,
    country_names,
    levers,
    stamp,
)

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
"""Everything the page needs; no other path is read (no traversal, no CDN)."""
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
JOB = re.compile(r"^/api/jobs/([0-9a-f]{12})(/cancel)?$")
SCENARIO = re.compile(r"^/api/scenarios/([^/]+)$")
SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
        " connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class HttpError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


@cache
def _static(name: str) -> bytes:
    return resources.files("uprising.viz.dashboard").joinpath("static", name).read_bytes()


@cache
def _scenario_list() -> list[dict[str, Any]]:
    out = []
    for name in country_names():
        spec = base(name, None)
        out.append(
            {
                "name": name,
                "description": spec.description,
                "variants": sorted(spec.variants),
                "people_per_agent": spec.people_per_agent,
                "calibrated_people_per_agent": spec.calibrated_people_per_agent,
            }
        )
    return out


@cache
def _outline(name: str) -> Any:
    spec = base(name, None)
    if spec.outline is None:
        return None
    folder = scenario_folder(spec, name).resolve()
    path = (folder / spec.outline).resolve()
    if path.parent != folder or not path.is_file():  # only a file beside the scenario
        return None
    return json.loads(path.read_text())


@cache
def scenario_info(name: str, variant: str | None) -> dict[str, Any]:
    """What the page needs to draw a scenario before any run."""
    spec = base(name, variant)
    shown = Built(name, variant, spec, {}, {}, spec.people_per_agent, 1, 0, spec.capital)
    return {
        "name": name,
        "variant": variant,
        "description": spec.description,
        "start": stamp(spec.start),
        "end": stamp(spec.end),
        "capital": spec.capital,
        "cities": [
            {"name": c.name, "lat": c.lat, "lon": c.lon, "population": c.population}
            for c in spec.cities
        ],
        "events": event_rows(shown),
        "levers": [lv.as_dict() for lv in levers(spec)],
        "outline": _outline(name),
    }


class DashboardServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, host: str, port: int, out: Path, limits: Limits | None = None) -> None:
        if ":" in host.strip("[]"):
            self.address_family = socket.AF_INET6
        self.out = Path(out)
        self.limits = limits or Limits()
        self.runner = Runner(self.out)
        self.loopback = is_loopback(host)
        super().__init__((host.strip("[]"), port), Handler)

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), self.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"


class Handler(BaseHTTPRequestHandler):
    server: DashboardServer
    server_version = "uprising-dashboard"

    def version_string(self) -> str:
        return self.server_version  # not the Python version

    # ---- plumbing ------------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        log.info("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in SECURITY.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors of the HTTP layer itself (bad request line, ...) as JSON too."""
        self.close_connection = True
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        self._json(code, {"error": message or phrase})

    def _guarded(self, handle: Any) -> None:
        try:
            self._check_host()
            handle()
        except HttpError as e:
            self._json(e.status, {"error": str(e)})
        except Exception:
            log.exception("dashboard: %s %s failed", self.command, self.path)
            self._json(500, {"error": "internal error; the server's log has the details"})

    def _check_host(self) -> None:
        """Bound to loopback, answer only requests addressed to loopback (DNS rebinding)."""
        if not self.server.loopback:
            return
        for header in ("Host", "Origin"):
            value = self.headers.get(header)
            if value is None:
                continue
            netloc = urlsplit(value if header == "Origin" else f"//{value}")
            if (netloc.hostname or "") not in LOOPBACK_NAMES:
                raise HttpError(
                    HTTPStatus.FORBIDDEN,
                    f"{header} {value!r} refused: this dashboard answers only on"
                    " 127.0.0.1 / localhost",
                )

    def _body(self) -> Any:
        kind = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise HttpError(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the request as application/json"
            )
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise HttpError(HTTPStatus.LENGTH_REQUIRED, "the request needs a Content-Length")
        if int(length) > MAX_BODY:
            raise HttpError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the request body is {length} bytes; allowed: up to {MAX_BODY}",
            )
        raw = self.rfile.read(int(length))
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise HttpError(HTTPStatus.BAD_REQUEST, f"the request is not valid JSON: {e}") from None

    # ---- routes --------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._guarded(self._get)

    def do_HEAD(self) -> None:
        self._guarded(self._get)

    def do_POST(self) -> None:
        self._guarded(self._post)

    def _refuse(self) -> None:
        self._guarded(self._not_allowed)

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse

    def _not_allowed(self) -> None:
        raise HttpError(HTTPStatus.METHOD_NOT_ALLOWED, f"{self.command} is not allowed here")

    def _get(self) -> None:
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        if path in STATIC:
            name, content_type = STATIC[path]
            self._send(200, _static(name), content_type)
            return
        if path == "/api/scenarios":
            self._json(200, {"scenarios": _scenario_list(), "limits": self.server.limits.as_dict()})
            return
        found = SCENARIO.match(path)
        if found:
            variant = (query.get("variant") or [""])[0] or None
            try:
                self._json(200, scenario_info(unquote(found.group(1)), variant))
            except (RequestError, ScenarioError) as e:
                raise HttpError(HTTPStatus.NOT_FOUND, str(e)) from None
            return
        found = JOB.match(path)
        if found and not found.group(2):
            job = self.server.runner.get(found.group(1))
            if job is None:
                raise HttpError(HTTPStatus.NOT_FOUND, f"no job {found.group(1)}")
            since = (query.get("since") or ["0"])[0]
            if not since.isdigit():
                raise HttpError(HTTPStatus.BAD_REQUEST, f"since: expected an hour, got {since!r}")
            self._json(200, job.snapshot(int(since)))
            return
        raise HttpError(HTTPStatus.NOT_FOUND, f"not found: {path}")

    def _post(self) -> None:
        path = urlsplit(self.path).path
        if path == "/api/jobs":
            request = self._body()
            try:
                built = build(request, self.server.limits)
            except (RequestError, ScenarioError) as e:
                raise HttpError(HTTPStatus.BAD_REQUEST, str(e)) from None
            try:
                job = self.server.runner.submit(built)
            except Busy as e:
                raise HttpError(HTTPStatus.CONFLICT, str(e)) from None
            self._json(202, {"id": job.id, "url": f"/api/jobs/{job.id}", "meta": job.meta})
            return
        found = JOB.match(path)
        if found and found.group(2):
            asked = self.server.runner.get(found.group(1))
            if asked is None:
                raise HttpError(HTTPStatus.NOT_FOUND, f"no job {found.group(1)}")
            asked.cancel.set()
            self._json(200, {"id": asked.id, "state": asked.state, "cancelling": asked.running})
            return
        raise HttpError(HTTPStatus.NOT_FOUND, f"not found: {path}")


def make_server(
    host: str = "127.0.0.1", port: int = 8765, out: Path = Path("out/dashboard"), **kw: Any
) -> DashboardServer:
    """A server bound and ready (`serve_forever()` to answer); port 0 picks a free one."""
    return DashboardServer(host, port, out, **kw)
