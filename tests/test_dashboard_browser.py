"""`uprising dashboard` in a real browser: Playwright driving Debian's Chromium, headless.

`make test` installs Chromium with apt-get where it is missing and it can (as root). Without it
these tests are skipped, saying why, except under CI=true, where a missing browser is a failure.
With UPRISING_SCREENSHOT=PATH the test's screenshot is also copied to PATH (the README's
docs/img/dashboard.png is made so).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from uprising.viz.dashboard import DashboardServer, make_server

CHROMIUM = os.environ.get("UPRISING_CHROMIUM") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium") or ""
)
NO_DATA = "#d9d9d9"


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    if not (CHROMIUM and Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return (
            f"no Chromium at {CHROMIUM or '/usr/bin/chromium'}: `make test` installs Debian's"
            " chromium with apt-get when run as root"
            " (Playwright's own browser download is not used)"
        )
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run under CI=true: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardServer]:
    srv = make_server("127.0.0.1", 0, tmp_path_factory.mktemp("dashboard") / "out")
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.runner.cancel_all()
    srv.shutdown()
    srv.server_close()


def fills(page) -> dict[str, str]:
    return page.eval_on_selector_all(
        "#map circle",
        "cs => Object.fromEntries(cs.map(c => [c.dataset.city, c.getAttribute('fill')]))",
    )


def test_load_change_a_lever_run_and_watch(browser, server, tmp_path) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 1050}, locale="en-GB")
    errors: list[str] = []
    elsewhere: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # (the refused request below is logged by Chromium as a failed load: expected)
    expected = "the server responded with a status of 400"
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and expected not in m.text else None,
    )
    page.on(
        "request",
        lambda r: None if r.url.startswith((server.url, "data:")) else elsewhere.append(r.url),
    )
    page.goto(server.url)
    page.wait_for_function(
        "() => document.getElementById('status-text').textContent.startsWith('Ready')"
    )
    before = fills(page)
    assert len(before) == 21 and set(before.values()) == {NO_DATA}
    assert page.locator("#calendar rect").count() >= 10  # the calendar, before any run
    assert page.input_value("#lever-networks_share") == "0"

    # a lever out of range: the scenario key is named, nothing runs
    page.fill("#lever-networks_share", "1.5")
    page.click("#run")
    page.wait_for_function("() => document.getElementById('message').textContent.length > 0")
    assert "mechanisms.networks.share" in page.text_content("#message")

    # a quick run: horizontal networks, no foreign troops, coarse
    page.fill("#lever-networks_share", "0.3")
    page.uncheck("#lever-troops")
    assert page.input_value("#people_per_agent") == "40"  # the scenario's own, fitted scale
    page.fill("#people_per_agent", "400")
    page.fill("#runs", "2")
    page.click("#run")
    page.wait_for_function("() => document.body.dataset.job === 'running'")
    # 400 is not the scale the scenario was fitted at: the page says so beside the Run button
    assert "calibrated at people_per_agent = 40" in page.text_content("#message")
    # while it runs: the map colours and the series grow day by day
    page.wait_for_function(
        "() => Number(document.getElementById('series').dataset.points) > 0", timeout=240_000
    )
    during = fills(page)
    assert during != before
    page.wait_for_function("() => document.body.dataset.job === 'done'", timeout=240_000)

    after = fills(page)
    assert after != before and NO_DATA not in after.values()
    points = page.eval_on_selector("#series polyline[data-series=active]", "p => p.dataset.points")
    assert int(points) == 19 * 24  # the whole calendar, hour by hour
    assert page.locator("#outcomes .outcome").count() == 4
    assert "2 of 2 run(s)" in page.text_content("#ensemble-runs")
    assert "mechanisms.networks.share = 0.3" in page.text_content("#overrides")
    assert "mechanisms.troops.enabled = false" in page.text_content("#overrides")
    assert "Jailed, off the grid" in page.text_content("#grid-counts")

    assert "csto-almaty (troops, off)" in page.text_content("#calendar")

    # another city's series; back in time with the slider; the national peak
    page.click("#map circle[data-city=Zhanaozen]")
    assert "Zhanaozen" in page.text_content("#series-legend")
    page.fill("#hour", "10")
    assert "1 Jan 11:00" in page.text_content("#hour-label")
    page.select_option("#series-city", "")
    page.click("#peak")  # the hour most people were active, for the picture
    page.eval_on_selector("#controls", "c => c.scrollTo(0, 0)")

    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    target = os.environ.get("UPRISING_SCREENSHOT")
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)
    assert not errors, errors
    assert not elsewhere, f"the page asked for something not on the dashboard: {elsewhere}"
    page.close()
